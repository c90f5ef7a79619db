/*
 * test_decode.c — module decoding errors and the import/export queries:
 * truncation, magic/version, section order and sizes, huge counts (an
 * error, never a huge allocation), names, limits, constant expressions,
 * and the "<section> section, offset 0x..: <reason>" message format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wbuild.h"

static struct kiln_error err;

/* Decodes w; returns the error code (0 on success) and frees the module. */
static int decode(const struct wb *w)
{
    struct kiln_module *m = NULL;
    int rc;
    memset(&err, 0, sizeof err);
    rc = kiln_module_new(w->b, w->n, NULL, &m, &err);
    if (rc == 0) {
        assert_non_null(m);
        kiln_module_free(m);
        return 0;
    }
    assert_null(m);
    assert_int_equal(rc, -err.code);
    return err.code;
}

#define EXPECT(w, want_, text)                                                                     \
    do {                                                                                           \
        if (decode(w) != (want_))                                                                  \
            fail_msg("expected code %d, got %d: \"%s\"", (want_), err.code, err.msg);              \
        if ((want_) == 0 && err.msg[0]) fail_msg("unexpected error \"%s\"", err.msg);              \
        if ((want_) != 0 && strstr(err.msg, (text)) == NULL)                                       \
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, (text));                              \
    } while (0)

static void test_header(void **state)
{
    struct wb w;
    (void)state;
    w.n = 0;
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end");
    WB_RAW(&w, 0x00, 0x61, 0x73);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end");
    w.n = 0;
    WB_RAW(&w, 0x00, 0x41, 0x53, 0x4d, 0x01, 0x00, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "magic header not detected");
    w.n = 0;
    WB_RAW(&w, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end");
    w.n = 0;
    WB_RAW(&w, 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unknown binary version");
    wb_header(&w);
    EXPECT(&w, 0, "");
    assert_int_equal(kiln_module_new(NULL, 0, NULL, NULL, &err), -KILN_E_ARG);
}

static void test_sections(void **state)
{
    struct wb w;
    (void)state;
    wb_header(&w);
    WB_RAW(&w, 0x0d, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed section id");
    /* order: table before function */
    wb_header(&w);
    WB_RAW(&w, 0x04, 0x01, 0x00, 0x03, 0x01, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected content after last section");
    /* duplicate */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected content after last section");
    /* data count (12) goes before code (10) */
    wb_header(&w);
    WB_RAW(&w, 0x0c, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x0b, 0x01, 0x00);
    EXPECT(&w, 0, "");
    wb_header(&w);
    WB_RAW(&w, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected content after last section");
    /* custom sections anywhere, any number */
    wb_header(&w);
    WB_RAW(&w, 0x00, 0x02, 0x01, 'a', 0x01, 0x01, 0x00, 0x00, 0x03, 0x01, 'b', 0xff);
    EXPECT(&w, 0, "");
    /* custom section name must be UTF-8 */
    wb_header(&w);
    WB_RAW(&w, 0x00, 0x02, 0x01, 0xff);
    EXPECT(&w, KILN_E_MALFORMED, "malformed UTF-8 encoding");
    /* custom section without a name */
    wb_header(&w);
    WB_RAW(&w, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end");
    /* section longer than the module */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x05, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "length out of bounds");
    /* contents shorter than the section */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x02, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "section size mismatch");
    /* contents longer than the section */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x03, 0x01, 0x60, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end of section or function");
    /* truncated section size */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x80);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end");
    /* message format */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x02, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "type section, offset 0xb: section size mismatch");
}

static void test_huge_counts(void **state)
{
    static const uint8_t ids[] = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11};
    struct rlimit old, lim;
    struct wb w;
    size_t i;
    (void)state;
    /* With a 256 MiB address-space limit, any allocation sized by these
     * counts would fail with ENOMEM; they must be rejected before. */
    getrlimit(RLIMIT_AS, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)256 << 20;
    setrlimit(RLIMIT_AS, &lim);
    for (i = 0; i < sizeof ids; i++) {
        wb_header(&w);
        wb_u8(&w, ids[i]);
        WB_RAW(&w, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
        assert_int_equal(decode(&w), KILN_E_MALFORMED);
        assert_non_null(strstr(err.msg, "unexpected end of section or function"));
    }
    /* a function type with a huge parameter count */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x08, 0x01, 0x60, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    assert_int_equal(decode(&w), KILN_E_MALFORMED);
    /* a name with a huge length */
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x07, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "length out of bounds");
    /* a data count beyond the implementation limit */
    wb_header(&w);
    WB_RAW(&w, 0x0c, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f);
    assert_int_equal(decode(&w), KILN_E_NOMEM);
    setrlimit(RLIMIT_AS, &old);
}

static void test_types_imports(void **state)
{
    struct wb w;
    (void)state;
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x04, 0x01, 0x5f, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed function type");
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7a, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed value type");
    /* import: unknown kind, bad mutability, bad UTF-8, unknown type */
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x05, 0x01, 0x00, 0x00, 0x04, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed import kind");
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x06, 0x01, 0x00, 0x00, 0x03, 0x7f, 0x02);
    EXPECT(&w, KILN_E_MALFORMED, "malformed mutability");
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x08, 0x01, 0x02, 0xc0, 0x80, 0x00, 0x03, 0x7f, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed UTF-8 encoding");
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00);
    EXPECT(&w, KILN_E_INVALID, "unknown type");
    /* table: bad reftype, bad limits flags */
    wb_header(&w);
    WB_RAW(&w, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed reference type");
    wb_header(&w);
    WB_RAW(&w, 0x04, 0x04, 0x01, 0x70, 0x02, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "integer too large");
    wb_header(&w);
    WB_RAW(&w, 0x04, 0x05, 0x01, 0x70, 0x01, 0x02, 0x01);
    EXPECT(&w, KILN_E_INVALID, "size minimum must not be greater than maximum");
}

static void test_memories(void **state)
{
    struct wb w;
    (void)state;
    wb_header(&w);
    WB_RAW(&w, 0x05, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00);
    EXPECT(&w, KILN_E_INVALID, "multiple memories");
    /* one imported + one defined */
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x06, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x00);
    EXPECT(&w, KILN_E_INVALID, "multiple memories");
    wb_header(&w);
    WB_RAW(&w, 0x05, 0x06, 0x01, 0x00, 0x81, 0x80, 0x04, 0x00);
    EXPECT(&w, KILN_E_INVALID, "memory size must be at most 65536 pages (4GiB)");
    wb_header(&w);
    WB_RAW(&w, 0x05, 0x07, 0x01, 0x01, 0x00, 0x81, 0x80, 0x04, 0x00);
    EXPECT(&w, KILN_E_INVALID, "memory size must be at most 65536 pages (4GiB)");
    wb_header(&w);
    WB_RAW(&w, 0x05, 0x06, 0x01, 0x01, 0x00, 0x80, 0x80, 0x04);
    EXPECT(&w, 0, "");
    wb_header(&w);
    WB_RAW(&w, 0x05, 0x04, 0x01, 0x01, 0x02, 0x01);
    EXPECT(&w, KILN_E_INVALID, "size minimum must not be greater than maximum");
}

static void test_globals_consts(void **state)
{
    struct wb w;
    (void)state;
    /* (global i32 (i32.const 1)) */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x41, 0x01, 0x0b);
    EXPECT(&w, 0, "");
    /* wrong type */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x7e, 0x00, 0x41, 0x01, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "type mismatch");
    /* two values */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x08, 0x01, 0x7f, 0x00, 0x41, 0x01, 0x41, 0x02, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "type mismatch");
    /* no value */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "type mismatch");
    /* non-constant instruction */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x09, 0x01, 0x7f, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "constant expression required");
    /* illegal opcode */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x05, 0x01, 0x7f, 0x00, 0xff, 0x0b);
    EXPECT(&w, KILN_E_MALFORMED, "illegal opcode");
    /* global.get of a defined global */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x0b, 0x02, 0x7f, 0x00, 0x41, 0x01, 0x0b, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "unknown global 0");
    /* global.get of an imported mutable global */
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x06, 0x01, 0x00, 0x00, 0x03, 0x7f, 0x01);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "constant expression required");
    /* ...and of an immutable one: fine */
    wb_header(&w);
    WB_RAW(&w, 0x02, 0x06, 0x01, 0x00, 0x00, 0x03, 0x7f, 0x00);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x23, 0x00, 0x0b);
    EXPECT(&w, 0, "");
    /* missing end */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x05, 0x01, 0x7f, 0x00, 0x41, 0x01);
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end");
    /* ref.null with a bad type */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x70, 0x00, 0xd0, 0x7f, 0x0b);
    EXPECT(&w, KILN_E_MALFORMED, "malformed reference type");
    /* ref.func of an unknown function */
    wb_header(&w);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x70, 0x00, 0xd2, 0x00, 0x0b);
    EXPECT(&w, KILN_E_INVALID, "unknown function 0");
}

/* (type (func)) (import "m" "f" (func)) nfuncs x (func (type 0))
 * (table 2 funcref) (memory 1 2), plus whatever the caller adds. */
static void base_module_f(struct wb *w, uint8_t nfuncs)
{
    uint8_t i;
    wb_header(w);
    WB_RAW(w, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00);
    WB_RAW(w, 0x02, 0x07, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00);
    if (nfuncs) {
        wb_u8(w, 0x03);
        wb_u8(w, (uint8_t)(nfuncs + 1));
        wb_u8(w, nfuncs);
        for (i = 0; i < nfuncs; i++)
            wb_u8(w, 0x00);
    }
    WB_RAW(w, 0x04, 0x04, 0x01, 0x70, 0x00, 0x02);
    WB_RAW(w, 0x05, 0x04, 0x01, 0x01, 0x01, 0x02);
}

static void base_module(struct wb *w)
{
    base_module_f(w, 0);
}

static void test_exports_start(void **state)
{
    struct wb w;
    (void)state;
    base_module(&w);
    WB_RAW(&w, 0x07, 0x09, 0x02, 0x01, 'a', 0x00, 0x00, 0x01, 'a', 0x02, 0x00);
    EXPECT(&w, KILN_E_INVALID, "duplicate export name");
    base_module(&w);
    WB_RAW(&w, 0x07, 0x05, 0x01, 0x01, 'a', 0x00, 0x01);
    EXPECT(&w, KILN_E_INVALID, "unknown function 1");
    base_module(&w);
    WB_RAW(&w, 0x07, 0x05, 0x01, 0x01, 'a', 0x03, 0x00);
    EXPECT(&w, KILN_E_INVALID, "unknown global 0");
    base_module(&w);
    WB_RAW(&w, 0x07, 0x05, 0x01, 0x01, 'a', 0x04, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed export kind");
    base_module(&w);
    WB_RAW(&w, 0x08, 0x01, 0x01);
    EXPECT(&w, KILN_E_INVALID, "unknown function 1");
    base_module(&w);
    WB_RAW(&w, 0x08, 0x01, 0x00);
    EXPECT(&w, 0, "");
    /* start function must be [] -> [] */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00);
    WB_RAW(&w, 0x02, 0x07, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00);
    WB_RAW(&w, 0x08, 0x01, 0x00);
    EXPECT(&w, KILN_E_INVALID, "start function");
}

static void test_segments(void **state)
{
    struct wb w;
    (void)state;
    /* all elem encodings that need no bodies: 0 (active, func indices),
     * 1 (passive), 3 (declarative), 4/5/7 (expressions) */
    base_module(&w);
    WB_RAW(&w, 0x09, 0x20, 0x06, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, /* 0 */
           0x01, 0x00, 0x01, 0x00,                                   /* 1 */
           0x03, 0x00, 0x01, 0x00,                                   /* 3 */
           0x04, 0x41, 0x01, 0x0b, 0x01, 0xd0, 0x70, 0x0b,           /* 4 */
           0x05, 0x70, 0x01, 0xd2, 0x00, 0x0b,                       /* 5 */
           0x07, 0x70, 0x00);                                        /* 7 */
    EXPECT(&w, 0, "");
    /* 2 and 6 with an explicit table index */
    base_module(&w);
    WB_RAW(&w, 0x09, 0x13, 0x02, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x06, 0x00, 0x41,
           0x00, 0x0b, 0x70, 0x01, 0xd2, 0x00, 0x0b);
    EXPECT(&w, 0, "");
    base_module(&w);
    WB_RAW(&w, 0x09, 0x08, 0x01, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x00, 0x00);
    EXPECT(&w, KILN_E_INVALID, "unknown table 1");
    base_module(&w);
    WB_RAW(&w, 0x09, 0x02, 0x01, 0x08);
    EXPECT(&w, KILN_E_MALFORMED, "malformed elements segment kind");
    base_module(&w);
    WB_RAW(&w, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00);
    EXPECT(&w, KILN_E_MALFORMED, "malformed element kind");
    /* externref segment into a funcref table */
    base_module(&w);
    WB_RAW(&w, 0x09, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0x0b, 0x6f, 0x00);
    EXPECT(&w, KILN_E_INVALID, "type mismatch");
    /* data: active, passive, explicit memory */
    base_module(&w);
    WB_RAW(&w, 0x0b, 0x11, 0x03, 0x00, 0x41, 0x00, 0x0b, 0x01, 'x', 0x01, 0x01, 'y', 0x02, 0x00,
           0x41, 0x01, 0x0b, 0x01, 'z');
    EXPECT(&w, 0, "");
    base_module(&w);
    WB_RAW(&w, 0x0b, 0x07, 0x01, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x00);
    EXPECT(&w, KILN_E_INVALID, "unknown memory 1");
    base_module(&w);
    WB_RAW(&w, 0x0b, 0x02, 0x01, 0x03);
    EXPECT(&w, KILN_E_MALFORMED, "malformed data segment kind");
    base_module(&w);
    WB_RAW(&w, 0x0b, 0x04, 0x01, 0x01, 0x05, 'a');
    EXPECT(&w, KILN_E_MALFORMED, "unexpected end of section or function");
    /* data count must match */
    base_module(&w);
    WB_RAW(&w, 0x0c, 0x01, 0x02, 0x0b, 0x04, 0x01, 0x01, 0x01, 'a');
    EXPECT(&w, KILN_E_MALFORMED, "data count and data section have inconsistent lengths");
    base_module(&w);
    WB_RAW(&w, 0x0c, 0x01, 0x01);
    EXPECT(&w, KILN_E_MALFORMED, "data count and data section have inconsistent lengths");
}

static void test_function_code_counts(void **state)
{
    struct wb w;
    (void)state;
    /* function section with one entry, no code section */
    base_module_f(&w, 1);
    EXPECT(&w, KILN_E_MALFORMED, "function and code section have inconsistent lengths");
    /* code section with two bodies for one function */
    base_module_f(&w, 1);
    WB_RAW(&w, 0x0a, 0x07, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b);
    EXPECT(&w, KILN_E_MALFORMED, "function and code section have inconsistent lengths");
    /* a body longer than the section */
    base_module_f(&w, 1);
    WB_RAW(&w, 0x0a, 0x04, 0x01, 0x09, 0x00, 0x0b);
    EXPECT(&w, KILN_E_MALFORMED, "length out of bounds");
    /* unknown type in the function section */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x05);
    EXPECT(&w, KILN_E_INVALID, "unknown type 5");
}

static void test_queries(void **state)
{
    struct kiln_module *m = NULL;
    struct kiln_importdesc id;
    struct kiln_exportdesc ed;
    struct kiln_functype ft;
    struct wb w, c;
    (void)state;
    /* imports: func (i32)->(i64), table, memory, global (mut f64) */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7e);
    c.n = 0;
    WB_RAW(&c, 0x04, 0x01, 'm', 0x01, 'f', 0x00, 0x00, 0x01, 'm', 0x01, 't', 0x01, 0x6f, 0x01, 0x01,
           0x05, 0x01, 'm', 0x02, 'm', 'e', 0x02, 0x00, 0x03, 0x01, 'm', 0x01, 'g', 0x03, 0x7c,
           0x01);
    wb_section(&w, 0x02, &c);
    WB_RAW(&w, 0x07, 0x0d, 0x02, 0x03, 'f', 'u', 'n', 0x00, 0x00, 0x03, 'm', 'e', 'm', 0x02, 0x00);
    assert_int_equal(kiln_module_new(w.b, w.n, NULL, &m, &err), 0);
    assert_int_equal(kiln_module_import_count(m), 4);
    kiln_module_import(m, 0, &id);
    assert_string_equal(id.module, "m");
    assert_string_equal(id.name, "f");
    assert_int_equal(id.kind, KILN_EXTERN_FUNC);
    assert_int_equal(id.functype.nparams, 1);
    assert_int_equal(id.functype.nresults, 1);
    assert_int_equal(id.functype.types[0], KILN_I32);
    assert_int_equal(id.functype.types[1], KILN_I64);
    kiln_module_import(m, 1, &id);
    assert_int_equal(id.kind, KILN_EXTERN_TABLE);
    assert_int_equal(id.valtype, KILN_EXTERNREF);
    assert_int_equal(id.limits.min, 1);
    assert_true(id.limits.has_max);
    assert_int_equal(id.limits.max, 5);
    kiln_module_import(m, 2, &id);
    assert_string_equal(id.name, "me");
    assert_int_equal(id.kind, KILN_EXTERN_MEMORY);
    assert_int_equal(id.limits.min, 3);
    assert_false(id.limits.has_max);
    kiln_module_import(m, 3, &id);
    assert_int_equal(id.kind, KILN_EXTERN_GLOBAL);
    assert_int_equal(id.valtype, KILN_F64);
    assert_true(id.mutable_);
    assert_int_equal(kiln_module_export_count(m), 2);
    kiln_module_export(m, 1, &ed);
    assert_string_equal(ed.name, "mem");
    assert_int_equal(ed.kind, KILN_EXTERN_MEMORY);
    assert_true(kiln_module_export_functype(m, "fun", &ft));
    assert_int_equal(ft.nparams, 1);
    assert_false(kiln_module_export_functype(m, "mem", &ft));
    assert_false(kiln_module_export_functype(m, "nope", &ft));
    kiln_module_free(m);
    kiln_module_free(NULL);
}

static void test_truncations(void **state)
{
    struct wb w;
    size_t n, full;
    (void)state;
    /* Every prefix of a valid module either decodes or fails cleanly. */
    base_module(&w);
    WB_RAW(&w, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x41, 0x01, 0x0b);
    WB_RAW(&w, 0x07, 0x05, 0x01, 0x01, 'a', 0x00, 0x00);
    WB_RAW(&w, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00);
    WB_RAW(&w, 0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 'x');
    full = w.n;
    EXPECT(&w, 0, "");
    for (n = 0; n < full; n++) {
        struct kiln_module *m = NULL;
        int rc = kiln_module_new(w.b, n, NULL, &m, &err);
        if (rc == 0)
            kiln_module_free(m);
        else
            assert_true(err.code == KILN_E_MALFORMED);
    }
}

static void test_config_and_limits(void **state)
{
    struct kiln_module_config cfg;
    struct kiln_module *m = NULL;
    struct wb w, c;
    uint32_t i;
    (void)state;
    /* v128 only with cfg.simd */
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7b, 0x00);
    EXPECT(&w, 0, "");
    kiln_module_config_default(&cfg);
    assert_true(cfg.simd);
    cfg.simd = false;
    assert_int_equal(kiln_module_new(w.b, w.n, &cfg, &m, &err), -KILN_E_MALFORMED);
    assert_non_null(strstr(err.msg, "malformed value type"));
    /* max_module_bytes */
    kiln_module_config_default(&cfg);
    cfg.max_module_bytes = w.n - 1;
    assert_int_equal(kiln_module_new(w.b, w.n, &cfg, &m, &err), -KILN_E_NOMEM);
    cfg.max_module_bytes = w.n;
    assert_int_equal(kiln_module_new(w.b, w.n, &cfg, &m, &err), 0);
    kiln_module_free(m);
    /* more parameters than KILN__MAX_PARAMS (1000) */
    c.n = 0;
    WB_RAW(&c, 0x01, 0x60);
    wb_uleb(&c, 1001);
    for (i = 0; i < 1001; i++)
        wb_u8(&c, 0x7f);
    wb_u8(&c, 0x00);
    wb_header(&w);
    wb_section(&w, 1, &c);
    EXPECT(&w, KILN_E_NOMEM, "too many parameters");
    c.n = 0;
    WB_RAW(&c, 0x01, 0x60);
    wb_uleb(&c, 1000);
    for (i = 0; i < 1000; i++)
        wb_u8(&c, 0x7f);
    wb_u8(&c, 0x00);
    wb_header(&w);
    wb_section(&w, 1, &c);
    EXPECT(&w, 0, "");
}

/* Deterministic byte mutations of a module that uses every section: each
 * mutant decodes or fails with MALFORMED/INVALID/NOMEM, never crashes (run
 * under ASan in CI), and whatever decodes also instantiates or fails
 * cleanly. */
static void test_mutations(void **state)
{
    struct wb base, w;
    uint32_t seed = 12345;
    int i, j, ok = 0;
    (void)state;
    base_module_f(&base, 1);
    WB_RAW(&base, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x41, 0x01, 0x0b);
    WB_RAW(&base, 0x07, 0x05, 0x01, 0x01, 'a', 0x00, 0x01);
    WB_RAW(&base, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x01);
    WB_RAW(&base, 0x0c, 0x01, 0x01);
    WB_RAW(&base, 0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x0b);
    WB_RAW(&base, 0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 'x');
    EXPECT(&base, 0, "");
    for (i = 0; i < 3000; i++) {
        struct kiln_module *m = NULL;
        int nmut;
        w = base;
        seed = seed * 1103515245u + 12345u;
        nmut = 1 + (int)((seed >> 16) % 3);
        for (j = 0; j < nmut; j++) {
            size_t p;
            seed = seed * 1103515245u + 12345u;
            p = 8 + (seed >> 8) % (w.n - 8);
            seed = seed * 1103515245u + 12345u;
            w.b[p] = (uint8_t)(seed >> 16);
        }
        if (kiln_module_new(w.b, w.n, NULL, &m, &err) == 0) {
            struct kiln_store *s = kiln_store_new(NULL);
            struct kiln_instance *inst;
            ok++;
            (void)kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err);
            kiln_store_free(s);
            kiln_module_free(m);
        } else {
            assert_true(err.code == KILN_E_MALFORMED || err.code == KILN_E_INVALID ||
                        err.code == KILN_E_NOMEM);
        }
    }
    assert_true(ok > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_types_imports),
        cmocka_unit_test(test_memories),
        cmocka_unit_test(test_globals_consts),
        cmocka_unit_test(test_exports_start),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_function_code_counts),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_config_and_limits),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
