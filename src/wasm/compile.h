/*
 * compile.h — the internal form the interpreter runs, shared by compile.c
 * (which produces it from a validated body) and interp.c (which runs it).
 *
 * A compiled body is an array of 32-bit words. Each instruction starts with
 * its handler, stored as the signed distance in bytes from a base label of
 * the interpreter loop to the handler's label (interp.c exports the table,
 * see kiln__interp_handlers()); the interpreter dispatches with
 * `goto *(&&base + ip[0])`. The words that follow are operands:
 *   - slot operands: index of a 64-bit slot relative to the frame pointer;
 *   - immediates: 32-bit values (64-bit constants take two words, low first);
 *   - branch offsets: signed word distance from the offset word itself to
 *     the target instruction.
 * The operand layout of every internal op is listed next to it below.
 *
 * Frame layout (slots of 64 bits, v128 = 2 slots):
 *   fp[0 .. nparam_slots)                     parameters (placed by caller)
 *   fp[nparam_slots .. +nlocal_slots)         declared locals (zeroed)
 *   fp[temp_base .. frame_slots)              operand-stack slots: wasm
 *                                             stack height h lives at a fixed
 *                                             slot, so operands are resolved
 *                                             at compile time
 * A call places the arguments at the caller's canonical slots for the top
 * of its operand stack; the callee's frame starts right there (no copy), and
 * results come back in the same place (fp[0..nresult_slots) of the callee).
 * Return addresses live in the interpreter's own record stack, not here.
 * docs/engine.md describes the whole scheme.
 */
#ifndef KILN_WASM_COMPILE_H
#define KILN_WASM_COMPILE_H

#include <stdint.h>

#include "wasm/simd_ops.h" /* KILN__IOPS_SIMD */

/* The compiled body of one defined function; one allocation. */
struct kiln__code {
    uint32_t frame_slots;   /* params + locals + operand stack (>= nresult_slots) */
    uint32_t nparam_slots;  /* slots of the parameters */
    uint32_t nlocal_slots;  /* slots of the declared locals, zeroed at entry */
    uint32_t nresult_slots; /* slots of the results */
    uint32_t nwords;        /* length of words[] */
    uint32_t words[];       /* the instructions */
};

/* Words after the handler, for the op families below:
 *   unary numeric     dst a
 *   binary numeric    dst a b
 *   binary _I forms   dst a imm        (imm: i32, or i64 sign-extended)
 *   BR_IF_cc          a b off          BR_IF_cc_I   a imm off
 *   loads             dst addr offset  stores       addr val offset
 */
#define KILN__CMP_LIST(X) X(EQ) X(NE) X(LT_S) X(LT_U) X(GT_S) X(GT_U) X(LE_S) X(LE_U) X(GE_S) X(GE_U)

/* Numeric ops named exactly like their ops.def ids. */
#define KILN__NUM_UNARY(X)                                                                        \
    X(I32_EQZ) X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I64_EQZ) X(I64_CLZ) X(I64_CTZ) X(I64_POPCNT)   \
    X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) X(F32_NEAREST) X(F32_SQRT)          \
    X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) X(F64_TRUNC) X(F64_NEAREST) X(F64_SQRT)          \
    X(I32_WRAP_I64) X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) X(I32_TRUNC_F64_U)     \
    X(I64_EXTEND_I32_S) X(I64_EXTEND_I32_U) X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U)                   \
    X(I64_TRUNC_F64_S) X(I64_TRUNC_F64_U) X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U)                 \
    X(F32_CONVERT_I64_S) X(F32_CONVERT_I64_U) X(F32_DEMOTE_F64) X(F64_CONVERT_I32_S)                \
    X(F64_CONVERT_I32_U) X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) X(F64_PROMOTE_F32)               \
    X(I32_EXTEND8_S) X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) X(I64_EXTEND32_S)         \
    X(I32_TRUNC_SAT_F32_S) X(I32_TRUNC_SAT_F32_U) X(I32_TRUNC_SAT_F64_S) X(I32_TRUNC_SAT_F64_U)     \
    X(I64_TRUNC_SAT_F32_S) X(I64_TRUNC_SAT_F32_U) X(I64_TRUNC_SAT_F64_S) X(I64_TRUNC_SAT_F64_U)

#define KILN__NUM_BINARY(X)                                                                       \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) X(I32_LE_S) X(I32_LE_U)     \
    X(I32_GE_S) X(I32_GE_U) X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U)     \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) X(F32_EQ) X(F32_NE) X(F32_LT) X(F32_GT)         \
    X(F32_LE) X(F32_GE) X(F64_EQ) X(F64_NE) X(F64_LT) X(F64_GT) X(F64_LE) X(F64_GE)                 \
    X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_DIV_S) X(I32_DIV_U) X(I32_REM_S) X(I32_REM_U)            \
    X(I32_AND) X(I32_OR) X(I32_XOR) X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR)    \
    X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_DIV_S) X(I64_DIV_U) X(I64_REM_S) X(I64_REM_U)            \
    X(I64_AND) X(I64_OR) X(I64_XOR) X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR)    \
    X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) X(F32_MIN) X(F32_MAX) X(F32_COPYSIGN)               \
    X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV) X(F64_MIN) X(F64_MAX) X(F64_COPYSIGN)

/* Binary ops that also exist with a constant right operand (suffix _I). */
#define KILN__NUM_IMM(X)                                                                          \
    X(I32_ADD) X(I32_MUL) X(I32_AND) X(I32_OR) X(I32_XOR) X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U)      \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) X(I32_LE_S) X(I32_LE_U)     \
    X(I32_GE_S) X(I32_GE_U) X(I64_ADD) X(I64_MUL) X(I64_AND) X(I64_OR) X(I64_XOR) X(I64_SHL)        \
    X(I64_SHR_S) X(I64_SHR_U) X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U)   \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U)

/* Every other internal op, with its operand words. */
#define KILN__IOP_MISC(X)                                                                         \
    X(UNREACHABLE)         /* */                                                                  \
    X(BR)                  /* off */                                                              \
    X(BR_IF_NZ)            /* cond off: branch if the i32 is not zero */                          \
    X(BR_IF_Z)             /* cond off: branch if the i32 is zero */                              \
    X(BR_IF_NZ64)          /* cond off: i64 / reference variants */                               \
    X(BR_IF_Z64)           /* cond off */                                                         \
    X(BR_AND_NZ)           /* x mask off: branch if (x & mask) != 0 */                            \
    X(BR_AND_Z)            /* x mask off: branch if (x & mask) == 0 */                            \
    X(BR_AND_EQ_I)         /* x mask k off: branch if (x & mask) == k */                          \
    X(BR_AND_NE_I)         /* x mask k off: branch if (x & mask) != k */                          \
    X(I32_ADDI_BR_NZ)      /* dst a k off: dst = a + k, branch if it is not zero */               \
    X(I32_ADDI_BR_Z)       /* dst a k off: dst = a + k, branch if it is zero */                   \
    X(I32_ADDI_BR_NE) X(I32_ADDI_BR_LT_S) X(I32_ADDI_BR_LT_U) /* x a k b off: x = a + k, then  */ \
    X(I32_ADDI_BR_NE_I) X(I32_ADDI_BR_LT_S_I) X(I32_ADDI_BR_LT_U_I) /* branch if x cc b / imm */  \
    X(LD32_BR_NZ)          /* dst addr off target: dst = i32.load, branch if not zero */          \
    X(LD32_BR_Z)           /* dst addr off target: dst = i32.load, branch if zero */              \
    X(BR_TABLE)            /* idx n off0 .. off(n-1) offdefault */                                \
    X(CALL)                /* funcidx argslot */                                                  \
    X(CALL_INDIRECT)       /* typeidx tableidx argslot idxslot */                                 \
    X(RETURN)              /* src nslots: copies fp[src..+n) to fp[0..n) and returns */           \
    X(RETURN1)             /* src */                                                              \
    X(COPY)                /* dst src */                                                          \
    X(COPY2)               /* dst src (v128) */                                                   \
    X(COPY_COPY)           /* dst1 src1 dst2 src2: two copies in order */                         \
    X(COPY_CONST)          /* dst1 src1 dst2 value2 */                                            \
    X(CONST_COPY)          /* dst1 value1 dst2 src2 */                                            \
    X(CONST_CONST)         /* dst1 value1 dst2 value2 */                                          \
    X(I32_SHRU_AND_I)      /* dst a shift mask: (a >> shift) & mask */                            \
    X(I32_ADD_I2)          /* d1 a1 k1 d2 a2 k2: two I32_ADD_I in order */                        \
    X(I32_MUL_ADD)         /* dst a b c: a * b + c */                                             \
    X(I32_RSUB_I)          /* dst a imm: imm - a */                                               \
    X(I64_RSUB_I)          /* dst a imm: imm - a (imm sign-extended) */                                                   \
    X(CONST32)             /* dst value (zero-extended) */                                        \
    X(CONST64)             /* dst lo hi */                                                        \
    X(CONST128)            /* dst w0 w1 w2 w3 */                                                  \
    X(SELECT)              /* dst a b cond */                                                     \
    X(SELECT2)             /* dst a b cond (v128) */                                              \
    X(SELECT_MASK)         /* dst a b x mask: (x & mask) ? a : b */                               \
    X(GLOBAL_GET)          /* dst globalidx */                                                    \
    X(GLOBAL_SET)          /* globalidx src */                                                    \
    X(GLOBAL_GET2)         /* dst globalidx (v128) */                                             \
    X(GLOBAL_SET2)         /* globalidx src (v128) */                                             \
    X(REF_FUNC)            /* dst funcidx */                                                      \
    X(TABLE_GET)           /* dst tableidx i */                                                   \
    X(TABLE_SET)           /* tableidx i v */                                                     \
    X(TABLE_SIZE)          /* dst tableidx */                                                     \
    X(TABLE_GROW)          /* dst tableidx init n */                                              \
    X(TABLE_FILL)          /* tableidx i v n */                                                   \
    X(TABLE_COPY)          /* dsttable srctable d s n */                                          \
    X(TABLE_INIT)          /* tableidx elemidx d s n */                                           \
    X(ELEM_DROP)           /* elemidx */                                                          \
    X(MEMORY_SIZE)         /* dst */                                                              \
    X(MEMORY_GROW)         /* dst delta */                                                        \
    X(MEMORY_COPY)         /* d s n */                                                            \
    X(MEMORY_FILL)         /* d v n */                                                            \
    X(MEMORY_INIT)         /* dataidx d s n */                                                    \
    X(DATA_DROP)           /* dataidx */                                                          \
    X(LD32)                /* dst addr off: i32.load, f32.load, i64.load32_u */                   \
    X(LD64)                /* i64.load, f64.load */                                               \
    X(LD8S32) X(LD8S64) X(LD8U) X(LD16S32) X(LD16S64) X(LD16U) X(LD32S64)                         \
    X(LD128)               /* v128.load */                                                        \
    X(ST8) X(ST16) X(ST32) X(ST64) /* addr val off */                                            \
    X(ST128)                                                                                      \
    X(ST32_I)              /* addr imm off: store of a constant */                                \
    X(ST64_I)              /* addr lo hi off */                                                   \
    /* _A: address = (u32)(slot + imm) + off, i.e. an i32.add of a constant fused in */           \
    X(LD32_A) X(LD64_A) X(LD8S32_A) X(LD8S64_A) X(LD8U_A) X(LD16S32_A) X(LD16S64_A) X(LD16U_A)    \
    X(LD32S64_A)           /* dst base imm off */                                                 \
    X(ST8_A) X(ST16_A) X(ST32_A) X(ST64_A) /* base val imm off */                                 \
    /* _AA: address = (u32)(slot1 + slot2) + off, an i32.add of two values fused in */            \
    X(LD32_AA) X(LD64_AA) X(LD8S32_AA) X(LD8S64_AA) X(LD8U_AA) X(LD16S32_AA) X(LD16S64_AA)        \
    X(LD16U_AA) X(LD32S64_AA) /* dst a b off */                                                   \
    X(ST8_AA) X(ST16_AA) X(ST32_AA) X(ST64_AA) /* a val b off */                                  \
    /* _K: float op with a constant right operand (f32: 1 word, f64: 2 words) */                  \
    X(F32_ADD_K) X(F32_SUB_K) X(F32_MUL_K) X(F32_DIV_K)                                           \
    X(F64_ADD_K) X(F64_SUB_K) X(F64_MUL_K) X(F64_DIV_K) /* dst a k.. */                          \
    X(F32_RSUB_K) X(F32_RDIV_K) X(F64_RSUB_K) X(F64_RDIV_K) /* dst a k..: k - a, k / a */

/* Pair ops (superinstructions): P_<A>__<B> replaces the handler word of an
 * op A directly followed by op B (the last pass of compile.c; the pairs are
 * the most frequent dispatch pairs of sqlite's speedtest1). The layout does
 * not change: A's operands, then B's complete instruction, handler word
 * included, so a branch to B still runs B alone. The pair handler runs A,
 * steps over A and jumps straight to B's handler (a direct jump): one
 * indirect dispatch fewer. A is always a straight-line op of fixed length.
 * KILN__PAIRS(P, X) calls P(X, A, B) for each pair. */
#define KILN__PAIRS(P, X)                                                                         \
    P(X, LD32, LD32)                                                                             \
    P(X, LD8U_A, ST8_A)                                                                          \
    P(X, LD8U, LD8U)                                                                             \
    P(X, I32_ADD_I2, I32_ADDI_BR_NZ)                                                             \
    P(X, ST8_A, LD8U_A)                                                                          \
    P(X, LD8U, BR_I32_NE)                                                                        \
    P(X, I32_ADD_I, GLOBAL_SET)                                                                  \
    P(X, LD8U, BR_IF_NZ)                                                                         \
    P(X, LD8U, ST8)                                                                              \
    P(X, COPY, RETURN1)                                                                          \
    P(X, I32_MUL_I, I32_ADD)                                                                     \
    P(X, COPY, BR)                                                                               \
    P(X, I32_ADD, CONST32)                                                                       \
    P(X, LD8U, I32_SHL_I)                                                                        \
    P(X, I32_SHL_I, I32_ADD)                                                                     \
    P(X, I32_ADD, I32_ADD)                                                                       \
    P(X, I32_ADD_I, BR)                                                                          \
    P(X, I32_ADD_I, ST32)                                                                        \
    P(X, I32_ADD, I32_ADD_I)                                                                     \
    P(X, I32_ADD, LD32)                                                                          \
    P(X, LD32, I32_MUL_I)                                                                        \
    P(X, LD32, BR_IF_Z)                                                                          \
    P(X, LD32, I32_SHL_I)                                                                        \
    P(X, LD8U, BR_TABLE)                                                                         \
    P(X, I32_ADD, LD8U)                                                                          \
    P(X, I32_ADD_I, LD8U)                                                                        \
    P(X, LD32, LD8U)                                                                             \
    P(X, LD8U, I32_OR)                                                                           \
    P(X, LD8U, BR_IF_Z)                                                                          \
    P(X, I32_SHL_I, LD8U)                                                                        \
    P(X, GLOBAL_GET, I32_ADD_I)                                                                  \
    P(X, COPY, CALL)                                                                             \
    P(X, I32_AND, I32_ADD)                                                                       \
    P(X, I32_ADD, LD8U_A)                                                                        \
    P(X, LD32, ST32)                                                                             \
    P(X, I32_ADD_I, LD32)                                                                        \
    P(X, I64_ADD_I, LD8U)                                                                        \
    P(X, COPY, I64_ADD_I)                                                                        \
    P(X, LD8U, I32_AND_I)                                                                        \
    P(X, CONST32, I32_ADD)                                                                       \
    P(X, LD8S32, I32_AND_I)                                                                      \
    P(X, ST8_A, LD8U)                                                                            \
    P(X, ST8, I32_ADDI_BR_NZ)                                                                    \
    P(X, COPY_COPY, COPY)                                                                        \
    P(X, LD32, I32_ADD_I)                                                                         \
    P(X, I32_SHR_U_I, I32_OR)                                                                     \
    P(X, LD32, LD16U)                                                                             \
    P(X, I32_SHL_I, LD32_AA)                                                                      \
    P(X, I32_SHR_U, BR_AND_NZ)                                                                    \
    P(X, I32_SHRU_AND_I, LD32_AA)                                                                 \
    P(X, LD32_AA, I32_SHR_U)                                                                      \
    P(X, LD16U, I32_AND)                                                                          \
    P(X, LD32_A, I32_SHL_I)                                                                       \
    P(X, I32_SHL_I, I32_SHR_U_I)                                                                  \
    P(X, COPY, I32_ADD_I)                                                                         \
    P(X, LD8U_A, I32_OR)                                                                          \
    P(X, I32_ADD_I, CONST32)                                                                      \
    P(X, LD64, ST64)                                                                              \
    P(X, COPY_COPY, CALL)                                                                         \
    P(X, CONST32, ST16)                                                                           \
    P(X, CONST32, SELECT)                                                                         \
    P(X, I32_AND_I, I32_ADD)                                                                      \
    P(X, LD8U_A, BR_AND_Z)                                                                        \
    P(X, I32_ADD_I2, BR_AND_Z)                                                                    \
    P(X, ST32, ST32)                                                                              \
    P(X, I32_OR, ST32_A)                                                                          \
    P(X, I32_ADD_I2, I32_ADD_I)                                                                   \
    P(X, I32_AND_I, BR_IF_NZ)                                                                     \
    P(X, COPY, BR_IF_NZ)                                                                          \
    P(X, LD16U, I32_ADD_I)                                                                        \
    P(X, I32_SHL_I, LD8U_A)                                                                       \
    P(X, I32_OR, LD16U)                                                                           \
    P(X, LD32, COPY)                                                                              \
    P(X, I32_ADD, BR)                                                                             \
    P(X, CONST32, ST8)                                                                            \
    P(X, ST32, CONST32)
#define KILN__PAIR_AS_IOP(X, a, b) X(P_##a##__##b)

/* Triples: P3_<A>__<B>__<C> on an op A followed by B then C (A and B heads
 * below): runs A and B, jumps to C. Chosen over the pair (A, B) when both
 * match. KILN__TRIPLES(T, X) calls T(X, A, B, C). */
#define KILN__TRIPLES(T, X)                                                                       \
    T(X, LD8U, LD8U, BR_I32_NE)                                                                   \
    T(X, GLOBAL_GET, I32_ADD_I, GLOBAL_SET)                                                       \
    T(X, LD8U, ST8, I32_ADDI_BR_NZ)                                                               \
    T(X, I32_SHL_I, LD8U, I32_OR)                                                                 \
    T(X, I32_ADD_I, LD8U, BR_IF_NZ)
#define KILN__TRIPLE_AS_IOP(X, a, b, c) X(P3_##a##__##b##__##c)

/* Quads: P4_<A>__<B>__<C>__<D> runs heads A, B, C and jumps to D; chosen
 * before a triple or a pair. KILN__QUADS(Q, X) calls Q(X, A, B, C, D). */
#define KILN__QUADS(Q, X)                                                                         \
    Q(X, LD8U_A, ST8_A, LD8U_A, ST8_A)                                                            \
    Q(X, COPY, I64_ADD_I, LD8U, BR_TABLE)
#define KILN__QUAD_AS_IOP(X, a, b, c, d) X(P4_##a##__##b##__##c##__##d)

/* The first ops of the pairs and their lengths in words (handler included). */
#define KILN__PAIR_HEADS(H)                                                                       \
    H(LD32, 4) H(LD8U, 4) H(LD8S32, 4) H(LD8U_A, 5) H(ST8_A, 5) H(ST8, 4) H(I32_ADD_I2, 7)         \
    H(I32_ADD_I, 4) H(I32_MUL_I, 4) H(I32_ADD, 4) H(I32_SHL_I, 4) H(I32_AND, 4)                   \
    H(GLOBAL_GET, 3) H(CONST32, 3) H(COPY, 3) H(COPY_COPY, 5) H(I64_ADD_I, 4)                     \
    H(I32_SHR_U_I, 4) H(I32_SHR_U, 4) H(LD32_AA, 5) H(I32_SHRU_AND_I, 5) H(LD32_A, 5)              \
    H(LD16U, 4) H(LD64, 4) H(I32_OR, 4) H(ST32, 4) H(I32_AND_I, 4)

/* The complete list of internal ops, in enum order. */
#define KILN__IOPS(X)                                                                             \
    KILN__IOP_MISC(X)                                                                             \
    KILN__NUM_UNARY(X)                                                                            \
    KILN__NUM_BINARY(X)                                                                           \
    KILN__IOPS_IMM(X)                                                                             \
    KILN__IOPS_BRCMP(X)                                                                           \
    KILN__IOPS_SIMD(X)                                                                            \
    KILN__PAIRS(KILN__PAIR_AS_IOP, X)                                                             \
    KILN__TRIPLES(KILN__TRIPLE_AS_IOP, X)                                                         \
    KILN__QUADS(KILN__QUAD_AS_IOP, X)

/* The _I forms of KILN__NUM_IMM, spelled out (same order). */
#define KILN__IOPS_IMM(X)                                                                       \
    X(I32_ADD_I) X(I32_MUL_I) X(I32_AND_I) X(I32_OR_I) X(I32_XOR_I) X(I32_SHL_I) X(I32_SHR_S_I)     \
    X(I32_SHR_U_I) X(I32_EQ_I) X(I32_NE_I) X(I32_LT_S_I) X(I32_LT_U_I) X(I32_GT_S_I) X(I32_GT_U_I)  \
    X(I32_LE_S_I) X(I32_LE_U_I) X(I32_GE_S_I) X(I32_GE_U_I) X(I64_ADD_I) X(I64_MUL_I) X(I64_AND_I)  \
    X(I64_OR_I) X(I64_XOR_I) X(I64_SHL_I) X(I64_SHR_S_I) X(I64_SHR_U_I) X(I64_EQ_I) X(I64_NE_I)     \
    X(I64_LT_S_I) X(I64_LT_U_I) X(I64_GT_S_I) X(I64_GT_U_I) X(I64_LE_S_I) X(I64_LE_U_I)             \
    X(I64_GE_S_I) X(I64_GE_U_I)

/* Fused compare-and-branch: BR_<ty>_<cc> (a b off) and BR_<ty>_<cc>_I (a imm off). */
#define KILN__IOPS_BRCMP(X)                                                                       \
    X(BR_I32_EQ) X(BR_I32_NE) X(BR_I32_LT_S) X(BR_I32_LT_U) X(BR_I32_GT_S) X(BR_I32_GT_U)           \
    X(BR_I32_LE_S) X(BR_I32_LE_U) X(BR_I32_GE_S) X(BR_I32_GE_U)                                     \
    X(BR_I64_EQ) X(BR_I64_NE) X(BR_I64_LT_S) X(BR_I64_LT_U) X(BR_I64_GT_S) X(BR_I64_GT_U)           \
    X(BR_I64_LE_S) X(BR_I64_LE_U) X(BR_I64_GE_S) X(BR_I64_GE_U)                                     \
    X(BR_I32_EQ_I) X(BR_I32_NE_I) X(BR_I32_LT_S_I) X(BR_I32_LT_U_I) X(BR_I32_GT_S_I)                \
    X(BR_I32_GT_U_I) X(BR_I32_LE_S_I) X(BR_I32_LE_U_I) X(BR_I32_GE_S_I) X(BR_I32_GE_U_I)            \
    X(BR_I64_EQ_I) X(BR_I64_NE_I) X(BR_I64_LT_S_I) X(BR_I64_LT_U_I) X(BR_I64_GT_S_I)                \
    X(BR_I64_GT_U_I) X(BR_I64_LE_S_I) X(BR_I64_LE_U_I) X(BR_I64_GE_S_I) X(BR_I64_GE_U_I)

enum kiln__iop {
#define KILN__IOP_ENUM(id) KILN__I_##id,
    KILN__IOPS(KILN__IOP_ENUM)
#undef KILN__IOP_ENUM
    KILN__I__COUNT
};

/* interp.c: the handler table: handler offset of each internal op, indexed
 * by enum kiln__iop. Static storage; never NULL. */
const int32_t *kiln__interp_handlers(void);

#endif
