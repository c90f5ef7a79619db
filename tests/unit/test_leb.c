/*
 * test_leb.c — LEB128 and fixed-width reads of wasm/reader.h: maximum
 * values, over-long encodings, unused bits, truncation, sticky failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wasm/reader.h"

struct res {
    uint64_t u;
    int64_t s;
    const char *err;
    size_t consumed;
};

static struct res rd_u(const uint8_t *b, size_t n, unsigned bits)
{
    struct kiln__reader r;
    struct res x;
    kiln__reader_init(&r, b, b, b + n);
    x.u = kiln__read_uleb(&r, bits);
    x.s = 0;
    x.err = r.err;
    x.consumed = (size_t)(r.p - b);
    return x;
}

static struct res rd_s(const uint8_t *b, size_t n, unsigned bits)
{
    struct kiln__reader r;
    struct res x;
    kiln__reader_init(&r, b, b, b + n);
    x.s = kiln__read_sleb(&r, bits);
    x.u = 0;
    x.err = r.err;
    x.consumed = (size_t)(r.p - b);
    return x;
}

#define U(bits, ...)                                                                               \
    ({                                                                                             \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        rd_u(b_, sizeof b_, bits);                                                                 \
    })
#define S(bits, ...)                                                                               \
    ({                                                                                             \
        static const uint8_t b_[] = {__VA_ARGS__};                                                 \
        rd_s(b_, sizeof b_, bits);                                                                 \
    })

static void test_u32_values(void **state)
{
    struct res x;
    (void)state;
    x = U(32, 0x00);
    assert_null(x.err);
    assert_int_equal(x.u, 0);
    x = U(32, 0x7f);
    assert_int_equal(x.u, 127);
    x = U(32, 0x80, 0x01);
    assert_int_equal(x.u, 128);
    assert_int_equal(x.consumed, 2);
    x = U(32, 0xff, 0xff, 0xff, 0xff, 0x0f);
    assert_null(x.err);
    assert_int_equal(x.u, 0xffffffffu);
    /* non-minimal encodings are allowed up to the maximum length */
    x = U(32, 0x80, 0x80, 0x80, 0x80, 0x00);
    assert_null(x.err);
    assert_int_equal(x.u, 0);
    assert_int_equal(x.consumed, 5);
    /* trailing bytes are not consumed */
    x = U(32, 0x05, 0x99);
    assert_int_equal(x.u, 5);
    assert_int_equal(x.consumed, 1);
}

static void test_u32_errors(void **state)
{
    struct res x;
    (void)state;
    x = U(32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    assert_string_equal(x.err, "integer representation too long");
    x = U(32, 0xff, 0xff, 0xff, 0xff, 0x1f);
    assert_string_equal(x.err, "integer too large");
    x = U(32, 0xff, 0xff, 0xff, 0xff, 0x10);
    assert_string_equal(x.err, "integer too large");
    x = U(32, 0x80, 0x80, 0x80, 0x80, 0x70);
    assert_string_equal(x.err, "integer too large");
    x = U(32, 0x80);
    assert_string_equal(x.err, "unexpected end");
    x = U(32, 0xff, 0xff);
    assert_string_equal(x.err, "unexpected end");
    {
        struct kiln__reader r;
        kiln__reader_init(&r, NULL, NULL, NULL);
        assert_int_equal(kiln__read_u32(&r), 0);
        assert_string_equal(r.err, "unexpected end");
    }
}

static void test_u64(void **state)
{
    struct res x;
    (void)state;
    x = U(64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    assert_null(x.err);
    assert_true(x.u == UINT64_MAX);
    x = U(64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
    assert_string_equal(x.err, "integer too large");
    x = U(64, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    assert_string_equal(x.err, "integer representation too long");
    x = U(64, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    assert_null(x.err);
    assert_true(x.u == 0);
}

static void test_s32(void **state)
{
    struct res x;
    (void)state;
    x = S(32, 0x7f);
    assert_int_equal(x.s, -1);
    x = S(32, 0x3f);
    assert_int_equal(x.s, 63);
    x = S(32, 0x40);
    assert_int_equal(x.s, -64);
    x = S(32, 0xff, 0xff, 0xff, 0xff, 0x07);
    assert_null(x.err);
    assert_int_equal(x.s, INT32_MAX);
    x = S(32, 0x80, 0x80, 0x80, 0x80, 0x78);
    assert_null(x.err);
    assert_int_equal(x.s, INT32_MIN);
    x = S(32, 0xff, 0xff, 0xff, 0xff, 0x7f);
    assert_null(x.err);
    assert_int_equal(x.s, -1);
    /* unused bits must be a sign extension */
    x = S(32, 0xff, 0xff, 0xff, 0xff, 0x0f);
    assert_string_equal(x.err, "integer too large");
    x = S(32, 0x80, 0x80, 0x80, 0x80, 0x70);
    assert_string_equal(x.err, "integer too large");
    x = S(32, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
    assert_string_equal(x.err, "integer representation too long");
    x = S(32, 0xc0);
    assert_string_equal(x.err, "unexpected end");
}

static void test_s64_s33(void **state)
{
    struct res x;
    (void)state;
    x = S(64, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f);
    assert_null(x.err);
    assert_true(x.s == INT64_MIN);
    x = S(64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00);
    assert_null(x.err);
    assert_true(x.s == INT64_MAX);
    x = S(64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    assert_string_equal(x.err, "integer too large");
    x = S(64, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00);
    assert_string_equal(x.err, "integer representation too long");
    /* s33 (block types): 2^32 - 1 fits, bit 33 must be sign */
    x = S(33, 0xff, 0xff, 0xff, 0xff, 0x0f);
    assert_null(x.err);
    assert_true(x.s == 0xffffffffLL);
    x = S(33, 0xff, 0xff, 0xff, 0xff, 0x1f);
    assert_string_equal(x.err, "integer too large");
    x = S(33, 0x40);
    assert_int_equal(x.s, -64);
}

static void test_sticky_and_fixed(void **state)
{
    static const uint8_t b[] = {0x80, 0x80};
    static const uint8_t f[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    struct kiln__reader r;
    (void)state;
    kiln__reader_init(&r, b, b, b + sizeof b);
    assert_int_equal(kiln__read_u32(&r), 0);
    assert_non_null(r.err);
    assert_true(r.p == r.end);
    assert_int_equal(kiln__read_u8(&r), 0);
    assert_string_equal(r.err, "unexpected end"); /* first failure kept */
    assert_int_equal(r.err_off, 2);

    kiln__reader_init(&r, f, f, f + sizeof f);
    assert_int_equal(kiln__read_fixed32(&r), 0x04030201u);
    assert_int_equal(kiln__reader_off(&r), 4);
    assert_int_equal(kiln__read_fixed64(&r), 0);
    assert_string_equal(r.err, "unexpected end");
    kiln__reader_init(&r, f, f, f + sizeof f);
    assert_true(kiln__read_fixed64(&r) == 0x0807060504030201ull);
    assert_int_equal(kiln__reader_left(&r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u32_values), cmocka_unit_test(test_u32_errors),
        cmocka_unit_test(test_u64),        cmocka_unit_test(test_s32),
        cmocka_unit_test(test_s64_s33),    cmocka_unit_test(test_sticky_and_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
