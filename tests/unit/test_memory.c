/*
 * test_memory.c — linear memory: growth up to the declared maximum and the
 * store's cap and failure beyond; out-of-bounds guest accesses become clean
 * "out of bounds memory access" traps through the fault handler, and the
 * engine keeps working afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wbuild.h"

/* (memory 1 3) with exports load (i32)->i32, store (i32 i32)->(),
 * grow (i32)->i32 and the memory "mem". */
static void build(struct wb *w)
{
    struct wb c;
    wb_header(w);
    c.n = 0;
    WB_RAW(&c, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f,
           0x01, 0x7f);
    wb_section(w, 1, &c);
    c.n = 0;
    WB_RAW(&c, 0x03, 0x00, 0x01, 0x02);
    wb_section(w, 3, &c);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x01, 0x01, 0x03);
    wb_section(w, 5, &c);
    c.n = 0;
    wb_uleb(&c, 4);
    wb_name(&c, "load");
    WB_RAW(&c, 0x00, 0x00);
    wb_name(&c, "store");
    WB_RAW(&c, 0x00, 0x01);
    wb_name(&c, "grow");
    WB_RAW(&c, 0x00, 0x02);
    wb_name(&c, "mem");
    WB_RAW(&c, 0x02, 0x00);
    wb_section(w, 7, &c);
    c.n = 0;
    WB_RAW(&c, 0x03, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b,   /* i32.load */
           0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, /* i32.store */
           0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b);                  /* memory.grow */
    wb_section(w, 10, &c);
}

struct env {
    struct kiln_module *mod;
    struct kiln_store *store;
    struct kiln_instance *inst;
    struct kiln_func *load, *store_fn, *grow;
    struct kiln_memory *mem;
};

static void setup_env(struct env *e, uint64_t max_bytes)
{
    struct kiln_store_config cfg;
    struct kiln_error err;
    struct kiln_extern x;
    struct wb w;
    build(&w);
    if (kiln_module_new(w.b, w.n, NULL, &e->mod, &err) != 0) fail_msg("module: %s", err.msg);
    kiln_store_config_default(&cfg);
    cfg.max_memory_bytes = max_bytes;
    e->store = kiln_store_new(&cfg);
    assert_non_null(e->store);
    if (kiln_instance_new(e->store, e->mod, NULL, 0, &e->inst, NULL, &err) != 0)
        fail_msg("instance: %s", err.msg);
    assert_true(kiln_instance_export(e->inst, "load", &x));
    e->load = x.of.func;
    assert_true(kiln_instance_export(e->inst, "store", &x));
    e->store_fn = x.of.func;
    assert_true(kiln_instance_export(e->inst, "grow", &x));
    e->grow = x.of.func;
    assert_true(kiln_instance_export(e->inst, "mem", &x));
    assert_int_equal(x.kind, KILN_EXTERN_MEMORY);
    e->mem = x.of.memory;
    assert_ptr_equal(e->mem, kiln_instance_memory(e->inst));
}

static void teardown_env(struct env *e)
{
    kiln_store_free(e->store);
    kiln_module_free(e->mod);
}

static int call1(struct env *e, struct kiln_func *f, int32_t a, int32_t *out,
                 struct kiln_trap *trap)
{
    struct kiln_val arg = {.type = KILN_I32, .of.i32 = a}, res;
    int rc = kiln_func_call(e->store, f, &arg, 1, &res, 1, trap);
    if (rc == 0) *out = res.of.i32;
    return rc;
}

static void test_api_growth(void **state)
{
    struct kiln_store_config cfg;
    struct kiln_store *s;
    struct kiln_memory *m;
    struct kiln_limits lim = {.min = 1, .max = 0, .has_max = false}, got;
    struct kiln_error err;
    (void)state;
    kiln_store_config_default(&cfg);
    cfg.max_memory_bytes = 4 * KILN_WASM_PAGE_SIZE;
    s = kiln_store_new(&cfg);
    m = kiln_memory_new(s, &lim, &err);
    assert_non_null(m);
    assert_int_equal(kiln_memory_size(m), KILN_WASM_PAGE_SIZE);
    kiln_memory_data(m)[KILN_WASM_PAGE_SIZE - 1] = 7;
    assert_int_equal(kiln_memory_grow(m, 0), 1);
    assert_int_equal(kiln_memory_grow(m, 2), 1);
    assert_int_equal(kiln_memory_size(m), 3 * KILN_WASM_PAGE_SIZE);
    kiln_memory_data(m)[3 * KILN_WASM_PAGE_SIZE - 1] = 9; /* new pages are writable */
    assert_int_equal(kiln_memory_data(m)[KILN_WASM_PAGE_SIZE - 1], 7);
    assert_int_equal(kiln_memory_grow(m, 2), -1); /* past the store cap */
    assert_int_equal(kiln_memory_grow(m, 1), 3);
    assert_int_equal(kiln_memory_grow(m, 1), -1);
    assert_int_equal(kiln_memory_grow(m, UINT32_MAX), -1);
    assert_true(kiln_memory_check(m, 0, 4 * KILN_WASM_PAGE_SIZE));
    assert_false(kiln_memory_check(m, 1, 4 * KILN_WASM_PAGE_SIZE));
    assert_false(kiln_memory_check(m, UINT64_MAX, 2));
    kiln_memory_limits(m, &got);
    assert_int_equal(got.min, 4);
    assert_false(got.has_max);

    /* declared maximum below the cap */
    lim.min = 0;
    lim.max = 1;
    lim.has_max = true;
    m = kiln_memory_new(s, &lim, &err);
    assert_non_null(m);
    assert_int_equal(kiln_memory_size(m), 0);
    assert_int_equal(kiln_memory_grow(m, 1), 0);
    assert_int_equal(kiln_memory_grow(m, 1), -1);

    /* minimum above the cap */
    lim.min = 5;
    lim.has_max = false;
    assert_null(kiln_memory_new(s, &lim, &err));
    assert_int_equal(err.code, KILN_E_NOMEM);
    /* invalid limits */
    lim.min = 2;
    lim.max = 1;
    lim.has_max = true;
    assert_null(kiln_memory_new(s, &lim, &err));
    assert_int_equal(err.code, KILN_E_ARG);
    kiln_store_free(s);
}

static void test_guest_access_and_oob(void **state)
{
    struct env e;
    struct kiln_trap trap;
    int32_t v = -1;
    uint8_t *base;
    (void)state;
    setup_env(&e, 0);
    base = kiln_memory_data(e.mem);
    memcpy(base + 8, "\x78\x56\x34\x12", 4);
    assert_int_equal(call1(&e, e.load, 8, &v, &trap), 0);
    assert_int_equal(v, 0x12345678);
    assert_int_equal(call1(&e, e.load, 65532, &v, &trap), 0);

    static const int32_t bad[] = {65533, 65536, 0x7fffffff, (int32_t)0xfffffffc, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&trap, 0, sizeof trap);
        assert_int_equal(call1(&e, e.load, bad[i], &v, &trap), -KILN_E_TRAP);
        assert_int_equal(trap.kind, KILN_TRAP_MEMORY_OOB);
        assert_string_equal(trap.msg, "out of bounds memory access");
    }
    /* a store out of bounds traps too and writes nothing */
    {
        struct kiln_val args[2] = {{.type = KILN_I32, .of.i32 = 65534},
                                   {.type = KILN_I32, .of.i32 = -1}};
        assert_int_equal(kiln_func_call(e.store, e.store_fn, args, 2, NULL, 0, &trap),
                         -KILN_E_TRAP);
        assert_int_equal(trap.kind, KILN_TRAP_MEMORY_OOB);
        assert_int_equal(base[65534], 0);
        assert_int_equal(base[65535], 0);
    }
    /* still usable after traps */
    assert_int_equal(call1(&e, e.load, 8, &v, &trap), 0);
    assert_int_equal(v, 0x12345678);
    teardown_env(&e);
}

static void test_guest_growth(void **state)
{
    struct env e;
    struct kiln_trap trap;
    int32_t v;
    (void)state;
    setup_env(&e, 0);
    assert_int_equal(call1(&e, e.load, 65536, &v, &trap), -KILN_E_TRAP);
    assert_int_equal(call1(&e, e.grow, 1, &v, &trap), 0);
    assert_int_equal(v, 1);
    assert_int_equal(kiln_memory_size(e.mem), 2 * KILN_WASM_PAGE_SIZE);
    assert_int_equal(call1(&e, e.load, 65536, &v, &trap), 0);
    assert_int_equal(v, 0);
    assert_int_equal(call1(&e, e.grow, 2, &v, &trap), 0);
    assert_int_equal(v, -1); /* declared max is 3 */
    assert_int_equal(call1(&e, e.grow, 1, &v, &trap), 0);
    assert_int_equal(v, 2);
    assert_int_equal(call1(&e, e.grow, 1, &v, &trap), 0);
    assert_int_equal(v, -1);
    assert_int_equal(call1(&e, e.load, 3 * 65536 - 4, &v, &trap), 0);
    assert_int_equal(call1(&e, e.load, 3 * 65536 - 3, &v, &trap), -KILN_E_TRAP);
    teardown_env(&e);

    /* the store cap (2 pages) is below the declared max (3) */
    setup_env(&e, 2 * KILN_WASM_PAGE_SIZE);
    assert_int_equal(call1(&e, e.grow, 1, &v, &trap), 0);
    assert_int_equal(v, 1);
    assert_int_equal(call1(&e, e.grow, 1, &v, &trap), 0);
    assert_int_equal(v, -1);
    teardown_env(&e);
}

static void test_many_stores(void **state)
{
    int i;
    (void)state;
    /* reservations are released with their store */
    for (i = 0; i < 200; i++) {
        struct env e;
        struct kiln_trap trap;
        int32_t v;
        setup_env(&e, 0);
        assert_int_equal(call1(&e, e.load, 70000, &v, &trap), -KILN_E_TRAP);
        teardown_env(&e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_growth),
        cmocka_unit_test(test_guest_access_and_oob),
        cmocka_unit_test(test_guest_growth),
        cmocka_unit_test(test_many_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
