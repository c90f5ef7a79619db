/*
 * simd_ops.h — the internal ops of fixed-width SIMD (v128), as X-macro lists
 * by operand class. compile.h appends KILN__IOPS_SIMD(X) to KILN__IOPS, so
 * each becomes enum kiln__iop member KILN__I_<ID>; compile_simd.inc emits
 * them and interp_simd.inc runs them (semantics in simd.h, kiln__simd_<ID>).
 *
 * Mapping from ops.def: every 0xFD opcode <ID> listed here has the internal
 * op of the same name; v128.const, v128.load and v128.store are compiled to
 * the generic CONST128, LD128 and ST128 instead.
 *
 * Operand words after the handler, per class (slots are frame-relative; a
 * v128 slot is the first of two; "lane" and "offset" are immediates):
 *   UNARY       dst a                      v128 -> v128
 *   BINARY      dst a b                    v128 v128 -> v128
 *   TERNARY     dst a b c                  v128 v128 v128 -> v128
 *   SHIFT       dst a s                    v128 i32 -> v128
 *   SHIFT_I     dst a count                the same with a constant count (the
 *                                          compiler's choice; named <ID>_I)
 *   SPLAT       dst s                      scalar -> v128
 *   EXTRACT     dst a lane                 v128 -> scalar
 *   REPLACE     dst a s lane               v128 scalar -> v128
 *   SHUFFLE     dst a b w0 w1 w2 w3        lane bytes, 4 per word, little-endian
 *   TEST        dst a                      v128 -> i32
 *   LOAD        dst addr offset            i32 -> v128
 *   LOAD_LANE   dst addr a offset lane     i32 v128 -> v128
 *   STORE_LANE  addr a offset lane         i32 v128 -> ()
 * Handlers read every operand before writing dst, so dst may alias one.
 */
#ifndef KILN_WASM_SIMD_OPS_H
#define KILN_WASM_SIMD_OPS_H

#define KILN__SIMD_UNARY(X)                                                                       \
    X(V128_NOT) X(F32X4_DEMOTE_F64X2_ZERO) X(F64X2_PROMOTE_LOW_F32X4) X(I8X16_ABS) X(I8X16_NEG)    \
    X(I8X16_POPCNT) X(F32X4_CEIL) X(F32X4_FLOOR) X(F32X4_TRUNC) X(F32X4_NEAREST) X(F64X2_CEIL)     \
    X(F64X2_FLOOR) X(F64X2_TRUNC) X(I16X8_EXTADD_PAIRWISE_I8X16_S)                                 \
    X(I16X8_EXTADD_PAIRWISE_I8X16_U) X(I32X4_EXTADD_PAIRWISE_I16X8_S)                              \
    X(I32X4_EXTADD_PAIRWISE_I16X8_U) X(I16X8_ABS) X(I16X8_NEG) X(I16X8_EXTEND_LOW_I8X16_S)         \
    X(I16X8_EXTEND_HIGH_I8X16_S) X(I16X8_EXTEND_LOW_I8X16_U) X(I16X8_EXTEND_HIGH_I8X16_U)          \
    X(F64X2_NEAREST) X(I32X4_ABS) X(I32X4_NEG) X(I32X4_EXTEND_LOW_I16X8_S)                         \
    X(I32X4_EXTEND_HIGH_I16X8_S) X(I32X4_EXTEND_LOW_I16X8_U) X(I32X4_EXTEND_HIGH_I16X8_U)          \
    X(I64X2_ABS) X(I64X2_NEG) X(I64X2_EXTEND_LOW_I32X4_S) X(I64X2_EXTEND_HIGH_I32X4_S)             \
    X(I64X2_EXTEND_LOW_I32X4_U) X(I64X2_EXTEND_HIGH_I32X4_U) X(F32X4_ABS) X(F32X4_NEG)             \
    X(F32X4_SQRT) X(F64X2_ABS) X(F64X2_NEG) X(F64X2_SQRT) X(I32X4_TRUNC_SAT_F32X4_S)               \
    X(I32X4_TRUNC_SAT_F32X4_U) X(F32X4_CONVERT_I32X4_S) X(F32X4_CONVERT_I32X4_U)                   \
    X(I32X4_TRUNC_SAT_F64X2_S_ZERO) X(I32X4_TRUNC_SAT_F64X2_U_ZERO) X(F64X2_CONVERT_LOW_I32X4_S)   \
    X(F64X2_CONVERT_LOW_I32X4_U)

#define KILN__SIMD_BINARY(X)                                                                      \
    X(I8X16_SWIZZLE) X(I8X16_EQ) X(I8X16_NE) X(I8X16_LT_S) X(I8X16_LT_U) X(I8X16_GT_S)             \
    X(I8X16_GT_U) X(I8X16_LE_S) X(I8X16_LE_U) X(I8X16_GE_S) X(I8X16_GE_U) X(I16X8_EQ)              \
    X(I16X8_NE) X(I16X8_LT_S) X(I16X8_LT_U) X(I16X8_GT_S) X(I16X8_GT_U) X(I16X8_LE_S)              \
    X(I16X8_LE_U) X(I16X8_GE_S) X(I16X8_GE_U) X(I32X4_EQ) X(I32X4_NE) X(I32X4_LT_S)                \
    X(I32X4_LT_U) X(I32X4_GT_S) X(I32X4_GT_U) X(I32X4_LE_S) X(I32X4_LE_U) X(I32X4_GE_S)            \
    X(I32X4_GE_U) X(F32X4_EQ) X(F32X4_NE) X(F32X4_LT) X(F32X4_GT) X(F32X4_LE) X(F32X4_GE)          \
    X(F64X2_EQ) X(F64X2_NE) X(F64X2_LT) X(F64X2_GT) X(F64X2_LE) X(F64X2_GE) X(V128_AND)            \
    X(V128_ANDNOT) X(V128_OR) X(V128_XOR) X(I8X16_NARROW_I16X8_S) X(I8X16_NARROW_I16X8_U)          \
    X(I8X16_ADD) X(I8X16_ADD_SAT_S) X(I8X16_ADD_SAT_U) X(I8X16_SUB) X(I8X16_SUB_SAT_S)             \
    X(I8X16_SUB_SAT_U) X(I8X16_MIN_S) X(I8X16_MIN_U) X(I8X16_MAX_S) X(I8X16_MAX_U)                 \
    X(I8X16_AVGR_U) X(I16X8_Q15MULR_SAT_S) X(I16X8_NARROW_I32X4_S) X(I16X8_NARROW_I32X4_U)         \
    X(I16X8_ADD) X(I16X8_ADD_SAT_S) X(I16X8_ADD_SAT_U) X(I16X8_SUB) X(I16X8_SUB_SAT_S)             \
    X(I16X8_SUB_SAT_U) X(I16X8_MUL) X(I16X8_MIN_S) X(I16X8_MIN_U) X(I16X8_MAX_S) X(I16X8_MAX_U)    \
    X(I16X8_AVGR_U) X(I16X8_EXTMUL_LOW_I8X16_S) X(I16X8_EXTMUL_HIGH_I8X16_S)                       \
    X(I16X8_EXTMUL_LOW_I8X16_U) X(I16X8_EXTMUL_HIGH_I8X16_U) X(I32X4_ADD) X(I32X4_SUB)             \
    X(I32X4_MUL) X(I32X4_MIN_S) X(I32X4_MIN_U) X(I32X4_MAX_S) X(I32X4_MAX_U)                       \
    X(I32X4_DOT_I16X8_S) X(I32X4_EXTMUL_LOW_I16X8_S) X(I32X4_EXTMUL_HIGH_I16X8_S)                  \
    X(I32X4_EXTMUL_LOW_I16X8_U) X(I32X4_EXTMUL_HIGH_I16X8_U) X(I64X2_ADD) X(I64X2_SUB)             \
    X(I64X2_MUL) X(I64X2_EQ) X(I64X2_NE) X(I64X2_LT_S) X(I64X2_GT_S) X(I64X2_LE_S) X(I64X2_GE_S)   \
    X(I64X2_EXTMUL_LOW_I32X4_S) X(I64X2_EXTMUL_HIGH_I32X4_S) X(I64X2_EXTMUL_LOW_I32X4_U)           \
    X(I64X2_EXTMUL_HIGH_I32X4_U) X(F32X4_ADD) X(F32X4_SUB) X(F32X4_MUL) X(F32X4_DIV)               \
    X(F32X4_MIN) X(F32X4_MAX) X(F32X4_PMIN) X(F32X4_PMAX) X(F64X2_ADD) X(F64X2_SUB) X(F64X2_MUL)   \
    X(F64X2_DIV) X(F64X2_MIN) X(F64X2_MAX) X(F64X2_PMIN) X(F64X2_PMAX)

#define KILN__SIMD_TERNARY(X)                                                                     \
    X(V128_BITSELECT)

#define KILN__SIMD_SHIFT(X)                                                                       \
    X(I8X16_SHL) X(I8X16_SHR_S) X(I8X16_SHR_U) X(I16X8_SHL) X(I16X8_SHR_S) X(I16X8_SHR_U)          \
    X(I32X4_SHL) X(I32X4_SHR_S) X(I32X4_SHR_U) X(I64X2_SHL) X(I64X2_SHR_S) X(I64X2_SHR_U)

/* KILN__SIMD_SHIFT with a constant count, same order. */
#define KILN__SIMD_SHIFT_I(X)                                                                     \
    X(I8X16_SHL_I) X(I8X16_SHR_S_I) X(I8X16_SHR_U_I) X(I16X8_SHL_I) X(I16X8_SHR_S_I)              \
    X(I16X8_SHR_U_I) X(I32X4_SHL_I) X(I32X4_SHR_S_I) X(I32X4_SHR_U_I) X(I64X2_SHL_I)              \
    X(I64X2_SHR_S_I) X(I64X2_SHR_U_I)

#define KILN__SIMD_SPLAT(X)                                                                       \
    X(I8X16_SPLAT) X(I16X8_SPLAT) X(I32X4_SPLAT) X(I64X2_SPLAT) X(F32X4_SPLAT) X(F64X2_SPLAT)

#define KILN__SIMD_EXTRACT(X)                                                                     \
    X(I8X16_EXTRACT_LANE_S) X(I8X16_EXTRACT_LANE_U) X(I16X8_EXTRACT_LANE_S)                        \
    X(I16X8_EXTRACT_LANE_U) X(I32X4_EXTRACT_LANE) X(I64X2_EXTRACT_LANE) X(F32X4_EXTRACT_LANE)      \
    X(F64X2_EXTRACT_LANE)

#define KILN__SIMD_REPLACE(X)                                                                     \
    X(I8X16_REPLACE_LANE) X(I16X8_REPLACE_LANE) X(I32X4_REPLACE_LANE) X(I64X2_REPLACE_LANE)        \
    X(F32X4_REPLACE_LANE) X(F64X2_REPLACE_LANE)

#define KILN__SIMD_SHUFFLE(X)                                                                     \
    X(I8X16_SHUFFLE)

#define KILN__SIMD_TEST(X)                                                                        \
    X(V128_ANY_TRUE) X(I8X16_ALL_TRUE) X(I8X16_BITMASK) X(I16X8_ALL_TRUE) X(I16X8_BITMASK)         \
    X(I32X4_ALL_TRUE) X(I32X4_BITMASK) X(I64X2_ALL_TRUE) X(I64X2_BITMASK)

#define KILN__SIMD_LOAD(X)                                                                        \
    X(V128_LOAD8X8_S) X(V128_LOAD8X8_U) X(V128_LOAD16X4_S) X(V128_LOAD16X4_U) X(V128_LOAD32X2_S)   \
    X(V128_LOAD32X2_U) X(V128_LOAD8_SPLAT) X(V128_LOAD16_SPLAT) X(V128_LOAD32_SPLAT)               \
    X(V128_LOAD64_SPLAT) X(V128_LOAD32_ZERO) X(V128_LOAD64_ZERO)

#define KILN__SIMD_LOAD_LANE(X)                                                                   \
    X(V128_LOAD8_LANE) X(V128_LOAD16_LANE) X(V128_LOAD32_LANE) X(V128_LOAD64_LANE)

#define KILN__SIMD_STORE_LANE(X)                                                                  \
    X(V128_STORE8_LANE) X(V128_STORE16_LANE) X(V128_STORE32_LANE) X(V128_STORE64_LANE)

/* Every SIMD internal op, in enum order. */
#define KILN__IOPS_SIMD(X)                                                                        \
    KILN__SIMD_UNARY(X)                                                                           \
    KILN__SIMD_BINARY(X)                                                                          \
    KILN__SIMD_TERNARY(X)                                                                         \
    KILN__SIMD_SHIFT(X)                                                                           \
    KILN__SIMD_SHIFT_I(X)                                                                         \
    KILN__SIMD_SPLAT(X)                                                                           \
    KILN__SIMD_EXTRACT(X)                                                                         \
    KILN__SIMD_REPLACE(X)                                                                         \
    KILN__SIMD_SHUFFLE(X)                                                                         \
    KILN__SIMD_TEST(X)                                                                            \
    KILN__SIMD_LOAD(X)                                                                            \
    KILN__SIMD_LOAD_LANE(X)                                                                       \
    KILN__SIMD_STORE_LANE(X)

#endif
