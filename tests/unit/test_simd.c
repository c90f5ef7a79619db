/*
 * test_simd.c — lane semantics of wasm/simd.h, the functions behind every
 * SIMD internal op, at the edges the spec pins down: saturation, NaN and
 * signed-zero rules, out-of-range lane indices, shift counts modulo the lane
 * width, conversions that saturate or round, zeroed upper lanes, and the
 * memory helpers' exact byte footprint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wasm/simd.h"

static kiln__v128 v_u32(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    kiln__v128 v;
    v.u32[0] = a;
    v.u32[1] = b;
    v.u32[2] = c;
    v.u32[3] = d;
    return v;
}

static kiln__v128 v_f32(float a, float b, float c, float d)
{
    kiln__v128 v;
    v.f32[0] = a;
    v.f32[1] = b;
    v.f32[2] = c;
    v.f32[3] = d;
    return v;
}

static kiln__v128 v_i16(int16_t x)
{
    kiln__v128 v;
    for (int i = 0; i < 8; i++)
        v.i16[i] = x;
    return v;
}

static kiln__v128 v_i8(int8_t x)
{
    kiln__v128 v;
    memset(&v, (uint8_t)x, sizeof v);
    return v;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int is_nan32(uint32_t u)
{
    return (u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0;
}

static void test_saturating(void **state)
{
    kiln__v128 r;
    (void)state;
    r = kiln__simd_I8X16_ADD_SAT_S(v_i8(100), v_i8(100));
    assert_int_equal(r.i8[0], 127);
    r = kiln__simd_I8X16_SUB_SAT_S(v_i8(-100), v_i8(100));
    assert_int_equal(r.i8[15], -128);
    r = kiln__simd_I8X16_ADD_SAT_U(v_i8(-56), v_i8(100)); /* 200 + 100 */
    assert_int_equal(r.u8[3], 255);
    r = kiln__simd_I8X16_SUB_SAT_U(v_i8(1), v_i8(2));
    assert_int_equal(r.u8[3], 0);
    r = kiln__simd_I16X8_ADD_SAT_S(v_i16(32767), v_i16(1));
    assert_int_equal(r.i16[7], 32767);
    r = kiln__simd_I16X8_SUB_SAT_U(v_i16(0), v_i16(-1));
    assert_int_equal(r.u16[0], 0);
    r = kiln__simd_I16X8_ADD_SAT_U(v_i16(-1), v_i16(-1));
    assert_int_equal(r.u16[0], 65535);
}

static void test_narrow(void **state)
{
    kiln__v128 a = v_u32(0x7fffffff, 0x80000000u, 65536, (uint32_t)-5), r;
    (void)state;
    r = kiln__simd_I16X8_NARROW_I32X4_S(a, v_u32(1, 2, 3, 4));
    assert_int_equal(r.i16[0], 32767);
    assert_int_equal(r.i16[1], -32768);
    assert_int_equal(r.i16[2], 32767);
    assert_int_equal(r.i16[3], -5);
    assert_int_equal(r.i16[4], 1);
    assert_int_equal(r.i16[7], 4);
    r = kiln__simd_I16X8_NARROW_I32X4_U(a, a);
    assert_int_equal(r.u16[0], 65535);
    assert_int_equal(r.u16[1], 0);
    assert_int_equal(r.u16[2], 65535);
    assert_int_equal(r.u16[3], 0);
    r = kiln__simd_I8X16_NARROW_I16X8_U(v_i16(-1), v_i16(300));
    assert_int_equal(r.u8[0], 0);
    assert_int_equal(r.u8[8], 255);
}

static void test_mul_variants(void **state)
{
    kiln__v128 r;
    (void)state;
    r = kiln__simd_I16X8_Q15MULR_SAT_S(v_i16(-32768), v_i16(-32768));
    assert_int_equal(r.i16[0], 32767);
    r = kiln__simd_I16X8_Q15MULR_SAT_S(v_i16(16384), v_i16(1)); /* 0.5 * 2^-15, rounds up */
    assert_int_equal(r.i16[0], 1);
    r = kiln__simd_I16X8_Q15MULR_SAT_S(v_i16(-16384), v_i16(1)); /* -0.5 ulp rounds to 0 */
    assert_int_equal(r.i16[0], 0);
    r = kiln__simd_I32X4_DOT_I16X8_S(v_i16(-32768), v_i16(-32768));
    assert_int_equal(r.u32[0], 0x80000000u); /* 2 * 2^30 wraps */
    r = kiln__simd_I16X8_MUL(v_i16(-1), v_i16(-1));
    assert_int_equal(r.u16[0], 1);
    r = kiln__simd_I64X2_EXTMUL_HIGH_I32X4_U(v_u32(0, 0, 0xffffffffu, 0),
                                               v_u32(0, 0, 0xffffffffu, 0));
    assert_true(r.u64[0] == 0xfffffffe00000001ull);
    assert_true(r.u64[1] == 0);
    r = kiln__simd_I64X2_EXTMUL_LOW_I32X4_S(v_u32(0x80000000u, 1, 0, 0),
                                              v_u32(0x80000000u, (uint32_t)-1, 0, 0));
    assert_true(r.i64[0] == 0x4000000000000000ll);
    assert_true(r.i64[1] == -1);
    r = kiln__simd_I16X8_EXTMUL_LOW_I8X16_U(v_i8(-1), v_i8(-1));
    assert_int_equal(r.u16[0], 65025);
    r = kiln__simd_I32X4_EXTADD_PAIRWISE_I16X8_S(v_i16(-32768));
    assert_int_equal(r.i32[3], -65536);
    r = kiln__simd_I16X8_EXTADD_PAIRWISE_I8X16_U(v_i8(-1));
    assert_int_equal(r.u16[0], 510);
}

static void test_int_misc(void **state)
{
    kiln__v128 r, a;
    (void)state;
    r = kiln__simd_I8X16_ABS(v_i8(-128));
    assert_int_equal(r.i8[0], -128);
    r = kiln__simd_I64X2_ABS(v_u32(0xffffffffu, 0xffffffffu, 0, 0x80000000u));
    assert_true(r.u64[0] == 1 && r.u64[1] == 0x8000000000000000ull);
    r = kiln__simd_I8X16_AVGR_U(v_i8(-1), v_i8(-2)); /* (255 + 254 + 1) / 2 */
    assert_int_equal(r.u8[0], 255);
    r = kiln__simd_I8X16_POPCNT(v_i8(-1));
    assert_int_equal(r.u8[9], 8);
    r = kiln__simd_I8X16_MIN_S(v_i8(-1), v_i8(1));
    assert_int_equal(r.i8[0], -1);
    r = kiln__simd_I8X16_MIN_U(v_i8(-1), v_i8(1));
    assert_int_equal(r.u8[0], 1);
    a = v_u32(0, 0x80000000u, 1, 0xffffffffu);
    assert_int_equal(kiln__simd_I32X4_BITMASK(a), 0xa);
    assert_int_equal(kiln__simd_I32X4_ALL_TRUE(a), 0);
    assert_int_equal(kiln__simd_I32X4_ALL_TRUE(v_u32(1, 2, 3, 4)), 1);
    assert_int_equal(kiln__simd_V128_ANY_TRUE(v_u32(0, 0, 0, 0)), 0);
    assert_int_equal(kiln__simd_V128_ANY_TRUE(v_u32(0, 0, 0, 0x100)), 1);
    assert_int_equal(kiln__simd_I8X16_BITMASK(v_i8(-1)), 0xffff);
    r = kiln__simd_I32X4_LT_S(a, v_u32(0, 0, 0, 0));
    assert_true(r.u32[1] == 0xffffffffu && r.u32[3] == 0xffffffffu && r.u32[0] == 0);
    r = kiln__simd_I32X4_LT_U(a, v_u32(1, 1, 1, 1));
    assert_true(r.u32[0] == 0xffffffffu && r.u32[1] == 0);
    r = kiln__simd_I64X2_GE_S(v_u32(0, 0x80000000u, 5, 0), v_u32(0, 0, 5, 0));
    assert_true(r.u64[0] == 0 && r.u64[1] == ~0ull);
}

static void test_shifts(void **state)
{
    kiln__v128 r;
    (void)state;
    r = kiln__simd_I8X16_SHL(v_i8(1), 9); /* 9 mod 8 = 1 */
    assert_int_equal(r.u8[0], 2);
    r = kiln__simd_I8X16_SHR_S(v_i8(-128), 7);
    assert_int_equal(r.i8[0], -1);
    r = kiln__simd_I8X16_SHR_U(v_i8(-128), 15); /* 15 mod 8 = 7 */
    assert_int_equal(r.u8[0], 1);
    r = kiln__simd_I16X8_SHR_S(v_i16(-32768), 16); /* 0 */
    assert_int_equal(r.i16[0], -32768);
    r = kiln__simd_I32X4_SHL(v_u32(1, 1, 1, 1), 0xffffffffu); /* 31 */
    assert_int_equal(r.u32[2], 0x80000000u);
    r = kiln__simd_I64X2_SHR_S(v_u32(0, 0x80000000u, 0, 0), 127); /* 63 */
    assert_true(r.u64[0] == ~0ull && r.u64[1] == 0);
}

static void test_lanes(void **state)
{
    kiln__v128 a, b, r;
    uint8_t idx[16];
    (void)state;
    for (int i = 0; i < 16; i++) {
        a.u8[i] = (uint8_t)i;
        b.u8[i] = (uint8_t)(0x10 + i);
        idx[i] = (uint8_t)(31 - i);
    }
    idx[15] = 3;
    r = kiln__simd_I8X16_SHUFFLE(a, b, idx);
    assert_int_equal(r.u8[0], 0x1f); /* b[15] */
    assert_int_equal(r.u8[14], 0x11); /* b[1] */
    assert_int_equal(r.u8[15], 0x03); /* a[3] */
    {
        kiln__v128 s = v_u32(0x80ff1000u, 0xffffff0fu, 0, 0);
        r = kiln__simd_I8X16_SWIZZLE(a, s);
        assert_int_equal(r.u8[0], 0);    /* index 0x00 */
        assert_int_equal(r.u8[1], 0);    /* index 0x10: out of range */
        assert_int_equal(r.u8[2], 0);    /* 0xff */
        assert_int_equal(r.u8[3], 0);    /* 0x80 */
        assert_int_equal(r.u8[4], 0x0f); /* index 15 */
    }
    assert_true(kiln__simd_I8X16_EXTRACT_LANE_S(v_i8(-2), 3) == 0xfffffffeu);
    assert_true(kiln__simd_I8X16_EXTRACT_LANE_U(v_i8(-2), 3) == 0xfe);
    assert_true(kiln__simd_I16X8_EXTRACT_LANE_S(v_i16(-2), 7) == 0xfffffffeu);
    r = kiln__simd_I16X8_REPLACE_LANE(v_i16(0), 0x12345678, 5);
    assert_int_equal(r.u16[5], 0x5678);
    assert_int_equal(r.u16[4], 0);
    r = kiln__simd_I8X16_SPLAT(0x1ff);
    assert_int_equal(r.u8[15], 0xff);
    r = kiln__simd_F32X4_SPLAT(0x7fa00001u); /* a signaling NaN stays bit-exact */
    assert_int_equal(r.u32[3], 0x7fa00001u);
    r = kiln__simd_F64X2_REPLACE_LANE(r, 0x7ff0000000000001ull, 1);
    assert_true(r.u64[1] == 0x7ff0000000000001ull);
    assert_true(kiln__simd_F32X4_EXTRACT_LANE(v_u32(0, 0, 0xffc00001u, 0), 2) == 0xffc00001u);
}

static void test_float_minmax(void **state)
{
    kiln__v128 r, a, b;
    (void)state;
    r = kiln__simd_F32X4_MIN(v_f32(0.0f, -0.0f, NAN, 1.0f), v_f32(-0.0f, 0.0f, 1.0f, NAN));
    assert_int_equal(fbits(r.f32[0]), 0x80000000u);
    assert_int_equal(fbits(r.f32[1]), 0x80000000u);
    assert_true(is_nan32(r.u32[2]) && is_nan32(r.u32[3]));
    r = kiln__simd_F32X4_MAX(v_f32(0.0f, -0.0f, 2.0f, -INFINITY), v_f32(-0.0f, 0.0f, 1.0f, 3.0f));
    assert_int_equal(r.u32[0], 0);
    assert_int_equal(r.u32[1], 0);
    assert_true(r.f32[2] == 2.0f && r.f32[3] == 3.0f);
    /* pmin = b < a ? b : a: a NaN or an equal b keeps a, bit for bit */
    a = v_u32(0x7fc00123u, 0x80000000u, fbits(1.0f), fbits(2.0f));
    b = v_u32(fbits(1.0f), 0, 0x7fc00456u, fbits(1.0f));
    r = kiln__simd_F32X4_PMIN(a, b);
    assert_int_equal(r.u32[0], 0x7fc00123u);
    assert_int_equal(r.u32[1], 0x80000000u);
    assert_int_equal(r.u32[2], fbits(1.0f));
    assert_int_equal(r.u32[3], fbits(1.0f));
    r = kiln__simd_F32X4_PMAX(a, b);
    assert_int_equal(r.u32[0], 0x7fc00123u);
    assert_int_equal(r.u32[1], 0x80000000u);
    assert_int_equal(r.u32[2], fbits(1.0f));
    assert_int_equal(r.u32[3], fbits(2.0f));
    a.f64[0] = NAN;
    a.f64[1] = -0.0;
    b.f64[0] = 1.0;
    b.f64[1] = 0.0;
    r = kiln__simd_F64X2_PMAX(a, b);
    assert_true(r.u64[0] == a.u64[0] && r.u64[1] == a.u64[1]);
    r = kiln__simd_F64X2_PMIN(b, a);
    assert_true(r.u64[0] == b.u64[0] && r.u64[1] == b.u64[1]);
}

static void test_float_unary(void **state)
{
    kiln__v128 r;
    (void)state;
    r = kiln__simd_F32X4_NEAREST(v_f32(2.5f, -0.5f, 3.5f, -2.5f));
    assert_true(r.f32[0] == 2.0f && r.f32[2] == 4.0f && r.f32[3] == -2.0f);
    assert_int_equal(r.u32[1], 0x80000000u);
    r = kiln__simd_F32X4_CEIL(v_f32(-0.5f, 1.1f, -1.5f, 0.0f));
    assert_int_equal(r.u32[0], 0x80000000u);
    assert_true(r.f32[1] == 2.0f && r.f32[2] == -1.0f);
    r = kiln__simd_F32X4_FLOOR(v_u32(0x7f800001u, 0xff800001u, 0, 0)); /* sNaN in */
    assert_true(is_nan32(r.u32[0]) && (r.u32[0] & 0x00400000u)); /* quiet NaN out */
    assert_true(is_nan32(r.u32[1]) && (r.u32[1] & 0x00400000u));
    r = kiln__simd_F64X2_TRUNC(v_u32(0, 0x7ff00001u, 0, 0));
    assert_true((r.u64[0] & 0x0008000000000000ull) != 0);
    r = kiln__simd_F32X4_NEG(v_u32(0x7fc00000u, 0, 0x80000000u, 0xffffffffu));
    assert_int_equal(r.u32[0], 0xffc00000u);
    assert_int_equal(r.u32[1], 0x80000000u);
    assert_int_equal(r.u32[2], 0);
    assert_int_equal(r.u32[3], 0x7fffffffu);
    r = kiln__simd_F64X2_ABS(v_u32(1, 0xfff00000u, 0, 0x80000000u));
    assert_true(r.u64[0] == 0x7ff0000000000001ull && r.u64[1] == 0);
}

static void test_conversions(void **state)
{
    kiln__v128 r;
    (void)state;
    r = kiln__simd_I32X4_TRUNC_SAT_F32X4_S(v_f32(NAN, INFINITY, -INFINITY, -2147483904.0f));
    assert_int_equal(r.u32[0], 0);
    assert_int_equal(r.u32[1], 0x7fffffffu);
    assert_int_equal(r.u32[2], 0x80000000u);
    assert_int_equal(r.u32[3], 0x80000000u);
    r = kiln__simd_I32X4_TRUNC_SAT_F32X4_S(v_f32(2147483520.0f, -1.9f, 1.9f, -0.0f));
    assert_int_equal(r.i32[0], 2147483520);
    assert_int_equal(r.i32[1], -1);
    assert_int_equal(r.i32[2], 1);
    assert_int_equal(r.i32[3], 0);
    r = kiln__simd_I32X4_TRUNC_SAT_F32X4_U(v_f32(-0.9f, -1.0f, 4294967296.0f, 4294967040.0f));
    assert_int_equal(r.u32[0], 0);
    assert_int_equal(r.u32[1], 0);
    assert_int_equal(r.u32[2], 0xffffffffu);
    assert_int_equal(r.u32[3], 4294967040u);
    {
        kiln__v128 d;
        d.f64[0] = 2147483647.9;
        d.f64[1] = -2147483648.9;
        r = kiln__simd_I32X4_TRUNC_SAT_F64X2_S_ZERO(d);
        assert_int_equal(r.i32[0], 2147483647);
        assert_int_equal(r.i32[1], INT32_MIN);
        assert_true(r.u64[1] == 0);
        d.f64[0] = 4294967295.5;
        d.f64[1] = NAN;
        r = kiln__simd_I32X4_TRUNC_SAT_F64X2_U_ZERO(d);
        assert_int_equal(r.u32[0], 0xffffffffu);
        assert_int_equal(r.u32[1], 0);
        assert_true(r.u64[1] == 0);
        d.f64[0] = 1e300;
        d.f64[1] = 0.1;
        r = kiln__simd_F32X4_DEMOTE_F64X2_ZERO(d);
        assert_true(r.f32[0] == INFINITY && r.f32[1] == 0.1f && r.u64[1] == 0);
    }
    r = kiln__simd_F32X4_CONVERT_I32X4_U(v_u32(0xffffffffu, 0x80000001u, 16777217u, 0));
    assert_true(r.f32[0] == 4294967296.0f);
    assert_true(r.f32[1] == 2147483648.0f);
    assert_true(r.f32[2] == 16777216.0f); /* ties to even */
    r = kiln__simd_F64X2_CONVERT_LOW_I32X4_S(v_u32(0x80000000u, 0xffffffffu, 7, 7));
    assert_true(r.f64[0] == -2147483648.0 && r.f64[1] == -1.0);
    r = kiln__simd_F64X2_CONVERT_LOW_I32X4_U(v_u32(0x80000000u, 0xffffffffu, 7, 7));
    assert_true(r.f64[0] == 2147483648.0 && r.f64[1] == 4294967295.0);
    r = kiln__simd_F64X2_PROMOTE_LOW_F32X4(v_f32(1.5f, -0.0f, 9.0f, 9.0f));
    assert_true(r.f64[0] == 1.5 && r.u64[1] == 0x8000000000000000ull);
    r = kiln__simd_I64X2_EXTEND_HIGH_I32X4_S(v_u32(0, 0, 0xffffffffu, 5));
    assert_true(r.i64[0] == -1 && r.i64[1] == 5);
    r = kiln__simd_I16X8_EXTEND_HIGH_I8X16_U(v_i8(-1));
    assert_int_equal(r.u16[0], 255);
}

static void test_memory(void **state)
{
    uint8_t m[32];
    kiln__v128 r, v;
    (void)state;
    for (int i = 0; i < 32; i++)
        m[i] = (uint8_t)(0xf0 + i);
    r = kiln__simd_V128_LOAD8X8_S(m);
    assert_int_equal(r.i16[0], (int16_t)(int8_t)0xf0);
    assert_int_equal(r.i16[7], (int16_t)(int8_t)0xf7);
    r = kiln__simd_V128_LOAD16X4_U(m);
    assert_int_equal(r.u32[0], 0xf1f0u);
    r = kiln__simd_V128_LOAD32X2_S(m);
    assert_true(r.i64[0] == (int32_t)0xf3f2f1f0u);
    r = kiln__simd_V128_LOAD16_SPLAT(m + 1);
    assert_int_equal(r.u16[7], 0xf2f1u);
    r = kiln__simd_V128_LOAD32_ZERO(m);
    assert_true(r.u32[0] == 0xf3f2f1f0u && r.u32[1] == 0 && r.u64[1] == 0);
    r = kiln__simd_V128_LOAD64_ZERO(m);
    assert_true(r.u64[0] == 0xf7f6f5f4f3f2f1f0ull && r.u64[1] == 0);
    v = v_u32(0, 0, 0, 0);
    r = kiln__simd_V128_LOAD8_LANE(m + 3, v, 15);
    assert_int_equal(r.u8[15], 0xf3);
    assert_int_equal(r.u8[14], 0);
    v = v_u32(0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u);
    kiln__simd_V128_STORE32_LANE(m + 1, v, 2);
    assert_int_equal(m[0], 0xf0);
    assert_int_equal(m[1], 0x33);
    assert_int_equal(m[4], 0x33);
    assert_int_equal(m[5], 0xf5);
    kiln__simd_V128_STORE64_LANE(m + 8, v, 1);
    assert_int_equal(m[8], 0x33);
    assert_int_equal(m[15], 0x44);
    assert_int_equal(m[16], 0x00);
}

static void test_bitwise(void **state)
{
    kiln__v128 r;
    (void)state;
    r = kiln__simd_V128_BITSELECT(v_u32(0xffffffffu, 0, 0xaaaaaaaau, 0),
                                  v_u32(0, 0xffffffffu, 0x55555555u, 0),
                                  v_u32(0xf0f0f0f0u, 0xf0f0f0f0u, 0xffff0000u, 0));
    assert_int_equal(r.u32[0], 0xf0f0f0f0u);
    assert_int_equal(r.u32[1], 0x0f0f0f0fu);
    assert_int_equal(r.u32[2], 0xaaaa5555u);
    r = kiln__simd_V128_ANDNOT(v_u32(0xff, 0, 0, 0), v_u32(0x0f, 0, 0, 0));
    assert_int_equal(r.u32[0], 0xf0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saturating), cmocka_unit_test(test_narrow),
        cmocka_unit_test(test_mul_variants), cmocka_unit_test(test_int_misc),
        cmocka_unit_test(test_shifts),       cmocka_unit_test(test_lanes),
        cmocka_unit_test(test_float_minmax), cmocka_unit_test(test_float_unary),
        cmocka_unit_test(test_conversions),  cmocka_unit_test(test_memory),
        cmocka_unit_test(test_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
