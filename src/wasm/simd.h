/*
 * simd.h — semantics of the fixed-width SIMD (v128) operations, one static
 * inline function per internal op of simd_ops.h, named kiln__simd_<ID> after
 * the ops.def id. Plain portable C over lanes; gcc -O2 vectorizes the loops.
 *
 * Conventions:
 *   - a v128 is a kiln__v128 union in host (little-endian) byte order: lane
 *     i of an NxM shape is the member array element i, the same bytes as the
 *     value's two 64-bit slots (low half first) and as linear memory;
 *   - scalars cross the boundary as raw slot values (uint64_t): i32 and f32
 *     results are zero-extended bit patterns, operands are truncated;
 *   - float lanes are never copied through float arithmetic when the spec
 *     asks for bit-exact results (abs, neg, pmin/pmax, lane moves, splat);
 *     arithmetic uses C float ops, which give IEEE results and (on SSE)
 *     arithmetic NaNs, which is what the spec allows;
 *   - integer arithmetic is done in unsigned types (wrapping, no UB);
 *   - memory pointers point at the first byte of the access; the caller
 *     computed them with the scalar addressing rule and relies on the guard
 *     region for bounds, so every access here is one memcpy.
 */
#ifndef KILN_WASM_SIMD_H
#define KILN_WASM_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* GCC vector types, for the ops C lane loops express badly (shifts). */
typedef uint8_t kiln__vu8 __attribute__((vector_size(16)));
typedef int8_t kiln__vi8 __attribute__((vector_size(16)));
typedef uint16_t kiln__vu16 __attribute__((vector_size(16)));
typedef int16_t kiln__vi16 __attribute__((vector_size(16)));
typedef uint32_t kiln__vu32 __attribute__((vector_size(16)));
typedef int32_t kiln__vi32 __attribute__((vector_size(16)));
typedef uint64_t kiln__vu64 __attribute__((vector_size(16)));
typedef int64_t kiln__vi64 __attribute__((vector_size(16)));

typedef union kiln__v128 {
    kiln__vu8 vu8;
    kiln__vi8 vi8;
    kiln__vu16 vu16;
    kiln__vi16 vi16;
    kiln__vu32 vu32;
    kiln__vi32 vi32;
    kiln__vu64 vu64;
    kiln__vi64 vi64;
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
} kiln__v128;

_Static_assert(sizeof(kiln__v128) == 16, "v128 size");

/* ---- scalar helpers ---------------------------------------------------------- */

static inline int32_t kiln__simd_sat8s(int32_t v)
{
    return v < -128 ? -128 : v > 127 ? 127 : v;
}
static inline int32_t kiln__simd_sat8u(int32_t v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}
static inline int32_t kiln__simd_sat16s(int32_t v)
{
    return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}
static inline int32_t kiln__simd_sat16u(int32_t v)
{
    return v < 0 ? 0 : v > 65535 ? 65535 : v;
}

/* f32.min/max and f64.min/max: NaN in → NaN out, -0 < +0. */
static inline float kiln__simd_fmin32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float kiln__simd_fmax32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double kiln__simd_fmin64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double kiln__simd_fmax64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Saturating float-to-int truncations (NaN → 0). */
static inline uint32_t kiln__simd_trunc_sat_s32(double x)
{
    if (x != x)
        return 0;
    if (x <= -2147483648.0)
        return (uint32_t)INT32_MIN;
    if (x >= 2147483647.0)
        return (uint32_t)INT32_MAX;
    return (uint32_t)(int32_t)x;
}
static inline uint32_t kiln__simd_trunc_sat_u32(double x)
{
    if (x != x || x <= -1.0)
        return 0;
    if (x >= 4294967295.0)
        return UINT32_MAX;
    return x <= 0.0 ? 0 : (uint32_t)x;
}

/* ---- generators ---------------------------------------------------------------- */

/* Lane-wise binary op: r.m[i] = expr(x = a.m[i], y = b.m[i]). */
#define KILN__SIMD_BIN(name, m, n, expr)                                                           \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a, kiln__v128 b)                         \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++) {                                                            \
            __typeof__(a.m[0]) x = a.m[i], y = b.m[i];                                             \
            (void)x;                                                                               \
            r.m[i] = (__typeof__(a.m[0]))(expr);                                                   \
        }                                                                                          \
        return r;                                                                                  \
    }

/* Lane-wise unary op: r.m[i] = expr(x = a.m[i]). */
#define KILN__SIMD_UN(name, m, n, expr)                                                            \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a)                                       \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++) {                                                            \
            __typeof__(a.m[0]) x = a.m[i];                                                         \
            r.m[i] = (__typeof__(a.m[0]))(expr);                                                   \
        }                                                                                          \
        return r;                                                                                  \
    }

/* Lane-wise comparison of members m, all-ones/zero into unsigned member um. */
#define KILN__SIMD_CMP(name, m, um, n, cond)                                                       \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a, kiln__v128 b)                         \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++) {                                                            \
            __typeof__(a.m[0]) x = a.m[i], y = b.m[i];                                             \
            r.um[i] = (cond) ? (__typeof__(r.um[0])) ~0ull : 0;                                    \
        }                                                                                          \
        return r;                                                                                  \
    }

/* The ten integer comparisons of one shape (s: signed member, u: unsigned). */
#define KILN__SIMD_ICMPS(P, s, u, n)                                                               \
    KILN__SIMD_CMP(P##_EQ, u, u, n, x == y)                                                        \
    KILN__SIMD_CMP(P##_NE, u, u, n, x != y)                                                        \
    KILN__SIMD_CMP(P##_LT_S, s, u, n, x < y)                                                       \
    KILN__SIMD_CMP(P##_LT_U, u, u, n, x < y)                                                       \
    KILN__SIMD_CMP(P##_GT_S, s, u, n, x > y)                                                       \
    KILN__SIMD_CMP(P##_GT_U, u, u, n, x > y)                                                       \
    KILN__SIMD_CMP(P##_LE_S, s, u, n, x <= y)                                                      \
    KILN__SIMD_CMP(P##_LE_U, u, u, n, x <= y)                                                      \
    KILN__SIMD_CMP(P##_GE_S, s, u, n, x >= y)                                                      \
    KILN__SIMD_CMP(P##_GE_U, u, u, n, x >= y)

/* The six float comparisons (C semantics: ordered, except ne). */
#define KILN__SIMD_FCMPS(P, f, u, n)                                                               \
    KILN__SIMD_CMP(P##_EQ, f, u, n, x == y)                                                        \
    KILN__SIMD_CMP(P##_NE, f, u, n, x != y)                                                        \
    KILN__SIMD_CMP(P##_LT, f, u, n, x < y)                                                         \
    KILN__SIMD_CMP(P##_GT, f, u, n, x > y)                                                         \
    KILN__SIMD_CMP(P##_LE, f, u, n, x <= y)                                                        \
    KILN__SIMD_CMP(P##_GE, f, u, n, x >= y)

/* Shifts: count taken modulo the lane width; one vector shift each. The _I
 * forms (constant count, see simd_ops.h) are the same functions. */
#define KILN__SIMD_SHIFTS(P, s, u, n, bits)                                                        \
    static inline kiln__v128 kiln__simd_##P##_SHL(kiln__v128 a, uint32_t c)                        \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        r.v##u = a.v##u << (int)(c & ((bits) - 1));                                                \
        return r;                                                                                  \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_SHR_S(kiln__v128 a, uint32_t c)                      \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        r.v##s = a.v##s >> (int)(c & ((bits) - 1));                                                \
        return r;                                                                                  \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_SHR_U(kiln__v128 a, uint32_t c)                      \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        r.v##u = a.v##u >> (int)(c & ((bits) - 1));                                                \
        return r;                                                                                  \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_SHL_I(kiln__v128 a, uint32_t c)                      \
    {                                                                                              \
        return kiln__simd_##P##_SHL(a, c);                                                         \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_SHR_S_I(kiln__v128 a, uint32_t c)                    \
    {                                                                                              \
        return kiln__simd_##P##_SHR_S(a, c);                                                       \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_SHR_U_I(kiln__v128 a, uint32_t c)                    \
    {                                                                                              \
        return kiln__simd_##P##_SHR_U(a, c);                                                       \
    }

/* Splat (scalar slot → every lane), extract and replace lane. */
#define KILN__SIMD_LANES(P, m, n)                                                                  \
    static inline kiln__v128 kiln__simd_##P##_SPLAT(uint64_t s)                                    \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        __typeof__(r.m[0]) x;                                                                      \
        memcpy(&x, &s, sizeof x);                                                                  \
        for (int i = 0; i < (n); i++)                                                              \
            r.m[i] = x;                                                                            \
        return r;                                                                                  \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_REPLACE_LANE(kiln__v128 a, uint64_t s,               \
                                                           uint32_t lane)                          \
    {                                                                                              \
        __typeof__(a.m[0]) x;                                                                      \
        memcpy(&x, &s, sizeof x);                                                                  \
        a.m[lane & ((n) - 1)] = x;                                                                 \
        return a;                                                                                  \
    }

/* ---- bitwise ----------------------------------------------------------------------- */

KILN__SIMD_UN(V128_NOT, u64, 2, ~x)
KILN__SIMD_BIN(V128_AND, u64, 2, x & y)
KILN__SIMD_BIN(V128_ANDNOT, u64, 2, x & ~y)
KILN__SIMD_BIN(V128_OR, u64, 2, x | y)
KILN__SIMD_BIN(V128_XOR, u64, 2, x ^ y)

static inline kiln__v128 kiln__simd_V128_BITSELECT(kiln__v128 a, kiln__v128 b, kiln__v128 c)
{
    kiln__v128 r;
    for (int i = 0; i < 2; i++)
        r.u64[i] = (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]);
    return r;
}

static inline uint32_t kiln__simd_V128_ANY_TRUE(kiln__v128 a)
{
    return (a.u64[0] | a.u64[1]) != 0;
}

/* ---- comparisons ------------------------------------------------------------------- */

KILN__SIMD_ICMPS(I8X16, i8, u8, 16)
KILN__SIMD_ICMPS(I16X8, i16, u16, 8)
KILN__SIMD_ICMPS(I32X4, i32, u32, 4)
KILN__SIMD_CMP(I64X2_EQ, u64, u64, 2, x == y)
KILN__SIMD_CMP(I64X2_NE, u64, u64, 2, x != y)
KILN__SIMD_CMP(I64X2_LT_S, i64, u64, 2, x < y)
KILN__SIMD_CMP(I64X2_GT_S, i64, u64, 2, x > y)
KILN__SIMD_CMP(I64X2_LE_S, i64, u64, 2, x <= y)
KILN__SIMD_CMP(I64X2_GE_S, i64, u64, 2, x >= y)
KILN__SIMD_FCMPS(F32X4, f32, u32, 4)
KILN__SIMD_FCMPS(F64X2, f64, u64, 2)

/* ---- lanes ------------------------------------------------------------------------- */

KILN__SIMD_LANES(I8X16, u8, 16)
KILN__SIMD_LANES(I16X8, u16, 8)
KILN__SIMD_LANES(I32X4, u32, 4)
KILN__SIMD_LANES(I64X2, u64, 2)
KILN__SIMD_LANES(F32X4, u32, 4)
KILN__SIMD_LANES(F64X2, u64, 2)

static inline uint64_t kiln__simd_I8X16_EXTRACT_LANE_S(kiln__v128 a, uint32_t lane)
{
    return (uint32_t)(int32_t)a.i8[lane & 15];
}
static inline uint64_t kiln__simd_I8X16_EXTRACT_LANE_U(kiln__v128 a, uint32_t lane)
{
    return a.u8[lane & 15];
}
static inline uint64_t kiln__simd_I16X8_EXTRACT_LANE_S(kiln__v128 a, uint32_t lane)
{
    return (uint32_t)(int32_t)a.i16[lane & 7];
}
static inline uint64_t kiln__simd_I16X8_EXTRACT_LANE_U(kiln__v128 a, uint32_t lane)
{
    return a.u16[lane & 7];
}
static inline uint64_t kiln__simd_I32X4_EXTRACT_LANE(kiln__v128 a, uint32_t lane)
{
    return a.u32[lane & 3];
}
static inline uint64_t kiln__simd_I64X2_EXTRACT_LANE(kiln__v128 a, uint32_t lane)
{
    return a.u64[lane & 1];
}
static inline uint64_t kiln__simd_F32X4_EXTRACT_LANE(kiln__v128 a, uint32_t lane)
{
    return a.u32[lane & 3];
}
static inline uint64_t kiln__simd_F64X2_EXTRACT_LANE(kiln__v128 a, uint32_t lane)
{
    return a.u64[lane & 1];
}

/* Lane bytes: indices 0-15 pick from a, 16-31 from b (validated < 32). */
static inline kiln__v128 kiln__simd_I8X16_SHUFFLE(kiln__v128 a, kiln__v128 b,
                                                  const uint8_t idx[16])
{
    kiln__v128 r;
    for (int i = 0; i < 16; i++) {
        uint8_t k = idx[i] & 31;
        r.u8[i] = k < 16 ? a.u8[k] : b.u8[k - 16];
    }
    return r;
}

KILN__SIMD_BIN(I8X16_SWIZZLE, u8, 16, y < 16 ? a.u8[y] : 0)

/* ---- integer arithmetic ---------------------------------------------------------- */

#define KILN__SIMD_ABSNEG(P, s, u, n)                                                              \
    KILN__SIMD_UN(P##_NEG, u, n, 0u - x)                                                           \
    static inline kiln__v128 kiln__simd_##P##_ABS(kiln__v128 a)                                    \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++)                                                              \
            r.u[i] = a.s[i] < 0 ? (__typeof__(r.u[0]))(0u - a.u[i]) : a.u[i];                      \
        return r;                                                                                  \
    }
KILN__SIMD_ABSNEG(I8X16, i8, u8, 16)
KILN__SIMD_ABSNEG(I16X8, i16, u16, 8)
KILN__SIMD_ABSNEG(I32X4, i32, u32, 4)
KILN__SIMD_ABSNEG(I64X2, i64, u64, 2)

KILN__SIMD_UN(I8X16_POPCNT, u8, 16, __builtin_popcount(x))

KILN__SIMD_BIN(I8X16_ADD, u8, 16, x + y)
KILN__SIMD_BIN(I8X16_SUB, u8, 16, x - y)
KILN__SIMD_BIN(I8X16_ADD_SAT_S, i8, 16, kiln__simd_sat8s(x + y))
KILN__SIMD_BIN(I8X16_ADD_SAT_U, u8, 16, kiln__simd_sat8u(x + y))
KILN__SIMD_BIN(I8X16_SUB_SAT_S, i8, 16, kiln__simd_sat8s(x - y))
KILN__SIMD_BIN(I8X16_SUB_SAT_U, u8, 16, kiln__simd_sat8u(x - y))
KILN__SIMD_BIN(I8X16_MIN_S, i8, 16, x < y ? x : y)
KILN__SIMD_BIN(I8X16_MIN_U, u8, 16, x < y ? x : y)
KILN__SIMD_BIN(I8X16_MAX_S, i8, 16, x > y ? x : y)
KILN__SIMD_BIN(I8X16_MAX_U, u8, 16, x > y ? x : y)
KILN__SIMD_BIN(I8X16_AVGR_U, u8, 16, ((uint32_t)x + y + 1) >> 1)

KILN__SIMD_BIN(I16X8_ADD, u16, 8, x + y)
KILN__SIMD_BIN(I16X8_SUB, u16, 8, x - y)
KILN__SIMD_BIN(I16X8_MUL, u16, 8, (uint32_t)x * y)
KILN__SIMD_BIN(I16X8_ADD_SAT_S, i16, 8, kiln__simd_sat16s(x + y))
KILN__SIMD_BIN(I16X8_ADD_SAT_U, u16, 8, kiln__simd_sat16u(x + y))
KILN__SIMD_BIN(I16X8_SUB_SAT_S, i16, 8, kiln__simd_sat16s(x - y))
KILN__SIMD_BIN(I16X8_SUB_SAT_U, u16, 8, kiln__simd_sat16u(x - y))
KILN__SIMD_BIN(I16X8_MIN_S, i16, 8, x < y ? x : y)
KILN__SIMD_BIN(I16X8_MIN_U, u16, 8, x < y ? x : y)
KILN__SIMD_BIN(I16X8_MAX_S, i16, 8, x > y ? x : y)
KILN__SIMD_BIN(I16X8_MAX_U, u16, 8, x > y ? x : y)
KILN__SIMD_BIN(I16X8_AVGR_U, u16, 8, ((uint32_t)x + y + 1) >> 1)
KILN__SIMD_BIN(I16X8_Q15MULR_SAT_S, i16, 8,
               kiln__simd_sat16s((int32_t)(((int32_t)x * y + 0x4000) >> 15)))

KILN__SIMD_BIN(I32X4_ADD, u32, 4, x + y)
KILN__SIMD_BIN(I32X4_SUB, u32, 4, x - y)
KILN__SIMD_BIN(I32X4_MUL, u32, 4, x * y)
KILN__SIMD_BIN(I32X4_MIN_S, i32, 4, x < y ? x : y)
KILN__SIMD_BIN(I32X4_MIN_U, u32, 4, x < y ? x : y)
KILN__SIMD_BIN(I32X4_MAX_S, i32, 4, x > y ? x : y)
KILN__SIMD_BIN(I32X4_MAX_U, u32, 4, x > y ? x : y)

KILN__SIMD_BIN(I64X2_ADD, u64, 2, x + y)
KILN__SIMD_BIN(I64X2_SUB, u64, 2, x - y)
KILN__SIMD_BIN(I64X2_MUL, u64, 2, x * y)

static inline kiln__v128 kiln__simd_I32X4_DOT_I16X8_S(kiln__v128 a, kiln__v128 b)
{
    kiln__v128 r;
    for (int i = 0; i < 4; i++) {
        int64_t s = (int64_t)a.i16[2 * i] * b.i16[2 * i] +
                    (int64_t)a.i16[2 * i + 1] * b.i16[2 * i + 1];
        r.u32[i] = (uint32_t)s;
    }
    return r;
}

/* Narrowing: a's lanes become the low half, b's the high half. */
#define KILN__SIMD_NARROW(name, src, dst, n, sat)                                                  \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a, kiln__v128 b)                         \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++) {                                                            \
            r.dst[i] = (__typeof__(r.dst[0]))sat(a.src[i]);                                        \
            r.dst[i + (n)] = (__typeof__(r.dst[0]))sat(b.src[i]);                                  \
        }                                                                                          \
        return r;                                                                                  \
    }
KILN__SIMD_NARROW(I8X16_NARROW_I16X8_S, i16, i8, 8, kiln__simd_sat8s)
KILN__SIMD_NARROW(I8X16_NARROW_I16X8_U, i16, u8, 8, kiln__simd_sat8u)
KILN__SIMD_NARROW(I16X8_NARROW_I32X4_S, i32, i16, 4, kiln__simd_sat16s)
KILN__SIMD_NARROW(I16X8_NARROW_I32X4_U, i32, u16, 4, kiln__simd_sat16u)

/* Extension of the low (off 0) or high (off n) half: r.dst[i] = a.src[i + off]. */
#define KILN__SIMD_EXTEND(name, src, dst, n, off)                                                  \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a)                                       \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++)                                                              \
            r.dst[i] = a.src[i + (off)];                                                           \
        return r;                                                                                  \
    }
KILN__SIMD_EXTEND(I16X8_EXTEND_LOW_I8X16_S, i8, i16, 8, 0)
KILN__SIMD_EXTEND(I16X8_EXTEND_HIGH_I8X16_S, i8, i16, 8, 8)
KILN__SIMD_EXTEND(I16X8_EXTEND_LOW_I8X16_U, u8, u16, 8, 0)
KILN__SIMD_EXTEND(I16X8_EXTEND_HIGH_I8X16_U, u8, u16, 8, 8)
KILN__SIMD_EXTEND(I32X4_EXTEND_LOW_I16X8_S, i16, i32, 4, 0)
KILN__SIMD_EXTEND(I32X4_EXTEND_HIGH_I16X8_S, i16, i32, 4, 4)
KILN__SIMD_EXTEND(I32X4_EXTEND_LOW_I16X8_U, u16, u32, 4, 0)
KILN__SIMD_EXTEND(I32X4_EXTEND_HIGH_I16X8_U, u16, u32, 4, 4)
KILN__SIMD_EXTEND(I64X2_EXTEND_LOW_I32X4_S, i32, i64, 2, 0)
KILN__SIMD_EXTEND(I64X2_EXTEND_HIGH_I32X4_S, i32, i64, 2, 2)
KILN__SIMD_EXTEND(I64X2_EXTEND_LOW_I32X4_U, u32, u64, 2, 0)
KILN__SIMD_EXTEND(I64X2_EXTEND_HIGH_I32X4_U, u32, u64, 2, 2)

/* Extended multiplication: r.dst[i] = a.src[i + off] * b.src[i + off] (exact). */
#define KILN__SIMD_EXTMUL(name, src, dst, n, off)                                                  \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a, kiln__v128 b)                         \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++)                                                              \
            r.dst[i] = (__typeof__(r.dst[0]))((int64_t)a.src[i + (off)] * b.src[i + (off)]);       \
        return r;                                                                                  \
    }
KILN__SIMD_EXTMUL(I16X8_EXTMUL_LOW_I8X16_S, i8, i16, 8, 0)
KILN__SIMD_EXTMUL(I16X8_EXTMUL_HIGH_I8X16_S, i8, i16, 8, 8)
KILN__SIMD_EXTMUL(I16X8_EXTMUL_LOW_I8X16_U, u8, u16, 8, 0)
KILN__SIMD_EXTMUL(I16X8_EXTMUL_HIGH_I8X16_U, u8, u16, 8, 8)
KILN__SIMD_EXTMUL(I32X4_EXTMUL_LOW_I16X8_S, i16, i32, 4, 0)
KILN__SIMD_EXTMUL(I32X4_EXTMUL_HIGH_I16X8_S, i16, i32, 4, 4)
KILN__SIMD_EXTMUL(I32X4_EXTMUL_LOW_I16X8_U, u16, u32, 4, 0)
KILN__SIMD_EXTMUL(I32X4_EXTMUL_HIGH_I16X8_U, u16, u32, 4, 4)
KILN__SIMD_EXTMUL(I64X2_EXTMUL_LOW_I32X4_S, i32, i64, 2, 0)
KILN__SIMD_EXTMUL(I64X2_EXTMUL_HIGH_I32X4_S, i32, i64, 2, 2)

/* The unsigned 32x32 products do not fit int64_t: done in uint64_t. */
static inline kiln__v128 kiln__simd_I64X2_EXTMUL_LOW_I32X4_U(kiln__v128 a, kiln__v128 b)
{
    kiln__v128 r;
    for (int i = 0; i < 2; i++)
        r.u64[i] = (uint64_t)a.u32[i] * b.u32[i];
    return r;
}
static inline kiln__v128 kiln__simd_I64X2_EXTMUL_HIGH_I32X4_U(kiln__v128 a, kiln__v128 b)
{
    kiln__v128 r;
    for (int i = 0; i < 2; i++)
        r.u64[i] = (uint64_t)a.u32[i + 2] * b.u32[i + 2];
    return r;
}

/* Pairwise extended addition: r.dst[i] = a.src[2i] + a.src[2i+1]. */
#define KILN__SIMD_EXTADD(name, src, dst, n)                                                       \
    static inline kiln__v128 kiln__simd_##name(kiln__v128 a)                                       \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++)                                                              \
            r.dst[i] = (__typeof__(r.dst[0]))((int64_t)a.src[2 * i] + a.src[2 * i + 1]);           \
        return r;                                                                                  \
    }
KILN__SIMD_EXTADD(I16X8_EXTADD_PAIRWISE_I8X16_S, i8, i16, 8)
KILN__SIMD_EXTADD(I16X8_EXTADD_PAIRWISE_I8X16_U, u8, u16, 8)
KILN__SIMD_EXTADD(I32X4_EXTADD_PAIRWISE_I16X8_S, i16, i32, 4)
KILN__SIMD_EXTADD(I32X4_EXTADD_PAIRWISE_I16X8_U, u16, u32, 4)

/* all_true and bitmask. */
#define KILN__SIMD_TESTS(P, s, u, n)                                                               \
    static inline uint32_t kiln__simd_##P##_ALL_TRUE(kiln__v128 a)                                 \
    {                                                                                              \
        uint32_t ok = 1;                                                                           \
        for (int i = 0; i < (n); i++)                                                              \
            ok &= a.u[i] != 0;                                                                     \
        return ok;                                                                                 \
    }                                                                                              \
    static inline uint32_t kiln__simd_##P##_BITMASK(kiln__v128 a)                                  \
    {                                                                                              \
        uint32_t m = 0;                                                                            \
        for (int i = 0; i < (n); i++)                                                              \
            m |= (uint32_t)(a.s[i] < 0) << i;                                                      \
        return m;                                                                                  \
    }
KILN__SIMD_TESTS(I8X16, i8, u8, 16)
KILN__SIMD_TESTS(I16X8, i16, u16, 8)
KILN__SIMD_TESTS(I32X4, i32, u32, 4)
KILN__SIMD_TESTS(I64X2, i64, u64, 2)

KILN__SIMD_SHIFTS(I8X16, i8, u8, 16, 8)
KILN__SIMD_SHIFTS(I16X8, i16, u16, 8, 16)
KILN__SIMD_SHIFTS(I32X4, i32, u32, 4, 32)
KILN__SIMD_SHIFTS(I64X2, i64, u64, 2, 64)

/* ---- float arithmetic ------------------------------------------------------------ */

KILN__SIMD_UN(F32X4_ABS, u32, 4, x & 0x7fffffffu)
KILN__SIMD_UN(F32X4_NEG, u32, 4, x ^ 0x80000000u)
KILN__SIMD_UN(F64X2_ABS, u64, 2, x & 0x7fffffffffffffffull)
KILN__SIMD_UN(F64X2_NEG, u64, 2, x ^ 0x8000000000000000ull)
KILN__SIMD_UN(F32X4_SQRT, f32, 4, __builtin_sqrtf(x))
/* libm's rounding functions return a signaling NaN unchanged; the spec
 * wants an arithmetic (quiet) NaN, hence x + x for NaN lanes. */
KILN__SIMD_UN(F32X4_CEIL, f32, 4, x != x ? x + x : __builtin_ceilf(x))
KILN__SIMD_UN(F32X4_FLOOR, f32, 4, x != x ? x + x : __builtin_floorf(x))
KILN__SIMD_UN(F32X4_TRUNC, f32, 4, x != x ? x + x : __builtin_truncf(x))
KILN__SIMD_UN(F32X4_NEAREST, f32, 4, x != x ? x + x : __builtin_rintf(x))
KILN__SIMD_UN(F64X2_SQRT, f64, 2, __builtin_sqrt(x))
KILN__SIMD_UN(F64X2_CEIL, f64, 2, x != x ? x + x : __builtin_ceil(x))
KILN__SIMD_UN(F64X2_FLOOR, f64, 2, x != x ? x + x : __builtin_floor(x))
KILN__SIMD_UN(F64X2_TRUNC, f64, 2, x != x ? x + x : __builtin_trunc(x))
KILN__SIMD_UN(F64X2_NEAREST, f64, 2, x != x ? x + x : __builtin_rint(x))

KILN__SIMD_BIN(F32X4_ADD, f32, 4, x + y)
KILN__SIMD_BIN(F32X4_SUB, f32, 4, x - y)
KILN__SIMD_BIN(F32X4_MUL, f32, 4, x * y)
KILN__SIMD_BIN(F32X4_DIV, f32, 4, x / y)
KILN__SIMD_BIN(F32X4_MIN, f32, 4, kiln__simd_fmin32(x, y))
KILN__SIMD_BIN(F32X4_MAX, f32, 4, kiln__simd_fmax32(x, y))
KILN__SIMD_BIN(F64X2_ADD, f64, 2, x + y)
KILN__SIMD_BIN(F64X2_SUB, f64, 2, x - y)
KILN__SIMD_BIN(F64X2_MUL, f64, 2, x * y)
KILN__SIMD_BIN(F64X2_DIV, f64, 2, x / y)
KILN__SIMD_BIN(F64X2_MIN, f64, 2, kiln__simd_fmin64(x, y))
KILN__SIMD_BIN(F64X2_MAX, f64, 2, kiln__simd_fmax64(x, y))

/* pmin = b < a ? b : a, pmax = a < b ? b : a; the chosen lane's bits exactly. */
#define KILN__SIMD_PMINMAX(P, f, u, n)                                                             \
    static inline kiln__v128 kiln__simd_##P##_PMIN(kiln__v128 a, kiln__v128 b)                     \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++)                                                              \
            r.u[i] = b.f[i] < a.f[i] ? b.u[i] : a.u[i];                                            \
        return r;                                                                                  \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_##P##_PMAX(kiln__v128 a, kiln__v128 b)                     \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        for (int i = 0; i < (n); i++)                                                              \
            r.u[i] = a.f[i] < b.f[i] ? b.u[i] : a.u[i];                                            \
        return r;                                                                                  \
    }
KILN__SIMD_PMINMAX(F32X4, f32, u32, 4)
KILN__SIMD_PMINMAX(F64X2, f64, u64, 2)

/* ---- conversions ----------------------------------------------------------------- */

static inline kiln__v128 kiln__simd_I32X4_TRUNC_SAT_F32X4_S(kiln__v128 a)
{
    kiln__v128 r;
    for (int i = 0; i < 4; i++)
        r.u32[i] = kiln__simd_trunc_sat_s32(a.f32[i]);
    return r;
}
static inline kiln__v128 kiln__simd_I32X4_TRUNC_SAT_F32X4_U(kiln__v128 a)
{
    kiln__v128 r;
    for (int i = 0; i < 4; i++)
        r.u32[i] = kiln__simd_trunc_sat_u32(a.f32[i]);
    return r;
}
static inline kiln__v128 kiln__simd_I32X4_TRUNC_SAT_F64X2_S_ZERO(kiln__v128 a)
{
    kiln__v128 r;
    r.u32[0] = kiln__simd_trunc_sat_s32(a.f64[0]);
    r.u32[1] = kiln__simd_trunc_sat_s32(a.f64[1]);
    r.u64[1] = 0;
    return r;
}
static inline kiln__v128 kiln__simd_I32X4_TRUNC_SAT_F64X2_U_ZERO(kiln__v128 a)
{
    kiln__v128 r;
    r.u32[0] = kiln__simd_trunc_sat_u32(a.f64[0]);
    r.u32[1] = kiln__simd_trunc_sat_u32(a.f64[1]);
    r.u64[1] = 0;
    return r;
}
static inline kiln__v128 kiln__simd_F32X4_CONVERT_I32X4_S(kiln__v128 a)
{
    kiln__v128 r;
    for (int i = 0; i < 4; i++)
        r.f32[i] = (float)a.i32[i];
    return r;
}
static inline kiln__v128 kiln__simd_F32X4_CONVERT_I32X4_U(kiln__v128 a)
{
    kiln__v128 r;
    for (int i = 0; i < 4; i++)
        r.f32[i] = (float)a.u32[i];
    return r;
}
static inline kiln__v128 kiln__simd_F64X2_CONVERT_LOW_I32X4_S(kiln__v128 a)
{
    kiln__v128 r;
    for (int i = 0; i < 2; i++)
        r.f64[i] = (double)a.i32[i];
    return r;
}
static inline kiln__v128 kiln__simd_F64X2_CONVERT_LOW_I32X4_U(kiln__v128 a)
{
    kiln__v128 r;
    for (int i = 0; i < 2; i++)
        r.f64[i] = (double)a.u32[i];
    return r;
}
static inline kiln__v128 kiln__simd_F32X4_DEMOTE_F64X2_ZERO(kiln__v128 a)
{
    kiln__v128 r;
    r.f32[0] = (float)a.f64[0];
    r.f32[1] = (float)a.f64[1];
    r.u64[1] = 0;
    return r;
}
static inline kiln__v128 kiln__simd_F64X2_PROMOTE_LOW_F32X4(kiln__v128 a)
{
    kiln__v128 r;
    r.f64[0] = (double)a.f32[0];
    r.f64[1] = (double)a.f32[1];
    return r;
}

/* ---- memory ---------------------------------------------------------------------- */

/* vNxM loads: n lanes of `src` bytes each, extended into member dst. */
#define KILN__SIMD_LOAD_EXT(name, T, dst, n)                                                       \
    static inline kiln__v128 kiln__simd_##name(const uint8_t *p)                                   \
    {                                                                                              \
        T v[n];                                                                                    \
        kiln__v128 r;                                                                              \
        memcpy(v, p, sizeof v);                                                                    \
        for (int i = 0; i < (n); i++)                                                              \
            r.dst[i] = v[i];                                                                       \
        return r;                                                                                  \
    }
KILN__SIMD_LOAD_EXT(V128_LOAD8X8_S, int8_t, i16, 8)
KILN__SIMD_LOAD_EXT(V128_LOAD8X8_U, uint8_t, u16, 8)
KILN__SIMD_LOAD_EXT(V128_LOAD16X4_S, int16_t, i32, 4)
KILN__SIMD_LOAD_EXT(V128_LOAD16X4_U, uint16_t, u32, 4)
KILN__SIMD_LOAD_EXT(V128_LOAD32X2_S, int32_t, i64, 2)
KILN__SIMD_LOAD_EXT(V128_LOAD32X2_U, uint32_t, u64, 2)

/* Splat loads, zero-extending loads, lane loads and lane stores. */
#define KILN__SIMD_MEM_LANES(N, m, n)                                                              \
    static inline kiln__v128 kiln__simd_V128_LOAD##N##_SPLAT(const uint8_t *p)                     \
    {                                                                                              \
        kiln__v128 r;                                                                              \
        __typeof__(r.m[0]) x;                                                                      \
        memcpy(&x, p, sizeof x);                                                                   \
        for (int i = 0; i < (n); i++)                                                              \
            r.m[i] = x;                                                                            \
        return r;                                                                                  \
    }                                                                                              \
    static inline kiln__v128 kiln__simd_V128_LOAD##N##_LANE(const uint8_t *p, kiln__v128 a,        \
                                                           uint32_t lane)                          \
    {                                                                                              \
        memcpy(&a.m[lane & ((n) - 1)], p, sizeof a.m[0]);                                          \
        return a;                                                                                  \
    }                                                                                              \
    static inline void kiln__simd_V128_STORE##N##_LANE(uint8_t *p, kiln__v128 a, uint32_t lane)    \
    {                                                                                              \
        memcpy(p, &a.m[lane & ((n) - 1)], sizeof a.m[0]);                                          \
    }
KILN__SIMD_MEM_LANES(8, u8, 16)
KILN__SIMD_MEM_LANES(16, u16, 8)
KILN__SIMD_MEM_LANES(32, u32, 4)
KILN__SIMD_MEM_LANES(64, u64, 2)

static inline kiln__v128 kiln__simd_V128_LOAD32_ZERO(const uint8_t *p)
{
    kiln__v128 r;
    memset(&r, 0, sizeof r);
    memcpy(&r.u32[0], p, 4);
    return r;
}
static inline kiln__v128 kiln__simd_V128_LOAD64_ZERO(const uint8_t *p)
{
    kiln__v128 r;
    memcpy(&r.u64[0], p, 8);
    r.u64[1] = 0;
    return r;
}

#endif
