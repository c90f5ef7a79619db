/*
 * test_instance.c — instantiation: import matching (kinds, table and memory
 * limits, global mutability), global initialisers, element and data
 * segments in the 2.0 order with bounds traps whose earlier writes stay
 * visible in imported tables/memories, the start function, and the
 * table/global API; function type ids (structural for small signatures,
 * interned otherwise).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wasm/runtime.h"
#include "wbuild.h"

/* (import "env" "mem" (memory 1)) (import "env" "tab" (table 2 funcref))
 * (import "env" "g" (global i32)) (func $f)
 * (global (export "g2") i32 (global.get 0)) (global (export "gm") (mut i64) (i64.const -7))
 * (export "f" (func $f))
 * (elem (i32.const 0) $f) (elem (i32.const E) $f)
 * (data (i32.const 0) "hi") (data (i32.const D) "yo") */
static struct kiln_module *build_segments(int32_t e, int32_t d)
{
    struct kiln_module *m = NULL;
    struct kiln_error err;
    struct wb w, c;
    wb_header(&w);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x60, 0x00, 0x00);
    wb_section(&w, 1, &c);
    c.n = 0;
    wb_uleb(&c, 3);
    wb_name(&c, "env");
    wb_name(&c, "mem");
    WB_RAW(&c, 0x02, 0x00, 0x01);
    wb_name(&c, "env");
    wb_name(&c, "tab");
    WB_RAW(&c, 0x01, 0x70, 0x00, 0x02);
    wb_name(&c, "env");
    wb_name(&c, "g");
    WB_RAW(&c, 0x03, 0x7f, 0x00);
    wb_section(&w, 2, &c);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x00);
    wb_section(&w, 3, &c);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x7f, 0x00, 0x23, 0x00, 0x0b, 0x7e, 0x01, 0x42, 0x79, 0x0b);
    wb_section(&w, 6, &c);
    c.n = 0;
    wb_uleb(&c, 3);
    wb_name(&c, "g2");
    WB_RAW(&c, 0x03, 0x01);
    wb_name(&c, "gm");
    WB_RAW(&c, 0x03, 0x02);
    wb_name(&c, "f");
    WB_RAW(&c, 0x00, 0x00);
    wb_section(&w, 7, &c);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x00, 0x41);
    wb_sleb(&c, e);
    WB_RAW(&c, 0x0b, 0x01, 0x00);
    wb_section(&w, 9, &c);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x02, 0x00, 0x0b);
    wb_section(&w, 10, &c);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x02, 'h', 'i', 0x00, 0x41);
    wb_sleb(&c, d);
    WB_RAW(&c, 0x0b, 0x02, 'y', 'o');
    wb_section(&w, 11, &c);
    if (kiln_module_new(w.b, w.n, NULL, &m, &err) != 0) fail_msg("%s", err.msg);
    return m;
}

struct imports {
    struct kiln_store *s;
    struct kiln_memory *mem;
    struct kiln_table *tab;
    struct kiln_global *g;
    struct kiln_extern ext[3];
};

static void make_imports(struct imports *im, uint32_t table_min, bool global_mut)
{
    struct kiln_limits ml = {1, 0, false}, tl = {table_min, 10, true};
    struct kiln_val gv = {.type = KILN_I32, .of.i32 = 42};
    struct kiln_error err;
    im->s = kiln_store_new(NULL);
    im->mem = kiln_memory_new(im->s, &ml, &err);
    im->tab = kiln_table_new(im->s, KILN_FUNCREF, &tl);
    im->g = kiln_global_new(im->s, &gv, global_mut);
    assert_non_null(im->mem);
    assert_non_null(im->tab);
    assert_non_null(im->g);
    im->ext[0].kind = KILN_EXTERN_MEMORY;
    im->ext[0].of.memory = im->mem;
    im->ext[1].kind = KILN_EXTERN_TABLE;
    im->ext[1].of.table = im->tab;
    im->ext[2].kind = KILN_EXTERN_GLOBAL;
    im->ext[2].of.global = im->g;
}

static void test_success(void **state)
{
    struct kiln_module *m = build_segments(1, 2);
    struct imports im;
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_trap trap;
    struct kiln_extern x;
    struct kiln_val v;
    struct kiln_func *f;
    uint8_t vt;
    bool mut;
    (void)state;
    make_imports(&im, 2, false);
    if (kiln_instance_new(im.s, m, im.ext, 3, &inst, &trap, &err) != 0) fail_msg("%s", err.msg);
    assert_ptr_equal(kiln_instance_module(inst), m);
    assert_ptr_equal(kiln_instance_memory(inst), im.mem);
    assert_memory_equal(kiln_memory_data(im.mem), "hiyo", 4);
    assert_true(kiln_instance_export(inst, "f", &x));
    assert_int_equal(x.kind, KILN_EXTERN_FUNC);
    f = x.of.func;
    assert_true(kiln_table_get(im.tab, 0, &v));
    assert_int_equal(v.type, KILN_FUNCREF);
    assert_ptr_equal(v.of.ref, f);
    assert_true(kiln_table_get(im.tab, 1, &v));
    assert_ptr_equal(v.of.ref, f);
    assert_false(kiln_table_get(im.tab, 2, &v));
    assert_true(kiln_instance_export(inst, "g2", &x));
    kiln_global_get(x.of.global, &v);
    assert_int_equal(v.type, KILN_I32);
    assert_int_equal(v.of.i32, 42);
    assert_false(kiln_global_set(x.of.global, &v)); /* immutable */
    assert_true(kiln_instance_export(inst, "gm", &x));
    kiln_global_type(x.of.global, &vt, &mut);
    assert_int_equal(vt, KILN_I64);
    assert_true(mut);
    kiln_global_get(x.of.global, &v);
    assert_true(v.of.i64 == -7);
    v.of.i64 = 99;
    assert_true(kiln_global_set(x.of.global, &v));
    v.type = KILN_I32;
    assert_false(kiln_global_set(x.of.global, &v)); /* wrong type */
    kiln_global_get(x.of.global, &v);
    assert_true(v.of.i64 == 99);
    assert_false(kiln_instance_export(inst, "nope", &x));
    /* calling the exported function works */
    assert_int_equal(kiln_func_call(im.s, f, NULL, 0, NULL, 0, &trap), 0);
    kiln_store_free(im.s);
    kiln_module_free(m);
}

static void test_elem_trap_keeps_earlier_writes(void **state)
{
    struct kiln_module *m = build_segments(2, 2);
    struct imports im;
    struct kiln_instance *inst = NULL;
    struct kiln_error err;
    struct kiln_trap trap;
    struct kiln_val v;
    (void)state;
    make_imports(&im, 2, false);
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, &trap, &err), -KILN_E_TRAP);
    assert_null(inst);
    assert_int_equal(trap.kind, KILN_TRAP_TABLE_OOB);
    assert_string_equal(trap.msg, "out of bounds table access");
    assert_true(kiln_table_get(im.tab, 0, &v));
    assert_non_null(v.of.ref);                                /* segment 0 was applied */
    assert_memory_equal(kiln_memory_data(im.mem), "\0\0", 2); /* data comes after elems */
    kiln_store_free(im.s);
    kiln_module_free(m);
}

static void test_data_trap_keeps_earlier_writes(void **state)
{
    struct kiln_module *m = build_segments(1, 65535);
    struct imports im;
    struct kiln_instance *inst = NULL;
    struct kiln_error err;
    struct kiln_trap trap;
    (void)state;
    make_imports(&im, 2, false);
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, &trap, &err), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_MEMORY_OOB);
    assert_memory_equal(kiln_memory_data(im.mem), "hi", 2);
    assert_int_equal(kiln_memory_data(im.mem)[65535], 0); /* nothing partial */
    kiln_store_free(im.s);
    kiln_module_free(m);

    /* an offset that wraps as unsigned: 0xffffffff + 2 */
    m = build_segments(1, -1);
    make_imports(&im, 2, false);
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, &trap, &err), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_MEMORY_OOB);
    kiln_store_free(im.s);
    kiln_module_free(m);
}

static void test_import_matching(void **state)
{
    struct kiln_module *m = build_segments(1, 2);
    struct imports im;
    struct kiln_instance *inst = NULL;
    struct kiln_error err;
    struct kiln_extern tmp;
    (void)state;
    /* table smaller than the declared minimum */
    make_imports(&im, 1, false);
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, NULL, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "incompatible import type"));
    kiln_store_free(im.s);
    /* a larger table is fine (subtyping) */
    make_imports(&im, 5, false);
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, NULL, &err), 0);
    kiln_store_free(im.s);
    /* mutable global for an immutable import */
    make_imports(&im, 2, true);
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, NULL, &err), -KILN_E_LINK);
    kiln_store_free(im.s);
    /* wrong kinds */
    make_imports(&im, 2, false);
    tmp = im.ext[0];
    im.ext[0] = im.ext[1];
    im.ext[1] = tmp;
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 3, &inst, NULL, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "\"env\" \"mem\""));
    /* too few imports */
    assert_int_equal(kiln_instance_new(im.s, m, im.ext, 2, &inst, NULL, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "unknown import"));
    kiln_store_free(im.s);
    kiln_module_free(m);
}

/* (memory (export "m") 1) (func $s (i32.store (i32.const 0) (i32.const 42)))
 * (func $u unreachable) (start S) */
static struct kiln_module *build_start(uint8_t start)
{
    struct kiln_module *m = NULL;
    struct kiln_error err;
    struct wb w, c;
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00);
    WB_RAW(&w, 0x03, 0x03, 0x02, 0x00, 0x00);
    WB_RAW(&w, 0x05, 0x03, 0x01, 0x00, 0x01);
    c.n = 0;
    wb_uleb(&c, 1);
    wb_name(&c, "m");
    WB_RAW(&c, 0x02, 0x00);
    wb_section(&w, 7, &c);
    WB_RAW(&w, 0x08, 0x01);
    wb_u8(&w, start);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x09, 0x00, 0x41, 0x00, 0x41, 0x2a, 0x36, 0x02, 0x00, 0x0b, 0x03, 0x00, 0x00,
           0x0b);
    wb_section(&w, 10, &c);
    if (kiln_module_new(w.b, w.n, NULL, &m, &err) != 0) fail_msg("%s", err.msg);
    return m;
}

static void test_start(void **state)
{
    struct kiln_module *m = build_start(0);
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_trap trap;
    (void)state;
    if (kiln_instance_new(s, m, NULL, 0, &inst, &trap, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(kiln_memory_data(kiln_instance_memory(inst))[0], 42);
    kiln_module_free(m);
    m = build_start(1);
    assert_int_equal(kiln_instance_new(s, m, NULL, 0, &inst, &trap, &err), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_UNREACHABLE);
    assert_non_null(strstr(err.msg, "start function"));
    kiln_store_free(s);
    kiln_module_free(m);
}

static void test_table_api(void **state)
{
    struct kiln_store_config cfg;
    struct kiln_store *s;
    struct kiln_table *t;
    struct kiln_limits l = {3, 5, true}, got;
    struct kiln_val v;
    uint8_t rt;
    (void)state;
    kiln_store_config_default(&cfg);
    cfg.max_table_elems = 100;
    s = kiln_store_new(&cfg);
    t = kiln_table_new(s, KILN_EXTERNREF, &l);
    assert_non_null(t);
    assert_int_equal(kiln_table_size(t), 3);
    assert_true(kiln_table_get(t, 2, &v));
    assert_int_equal(v.type, KILN_EXTERNREF);
    assert_null(v.of.ref);
    assert_false(kiln_table_get(t, 3, &v));
    kiln_table_type(t, &rt, &got);
    assert_int_equal(rt, KILN_EXTERNREF);
    assert_int_equal(got.min, 3);
    assert_int_equal(got.max, 5);
    l.min = 101;
    l.has_max = false;
    assert_null(kiln_table_new(s, KILN_FUNCREF, &l)); /* above the store cap */
    l.min = 1;
    assert_null(kiln_table_new(s, KILN_I32, &l));
    kiln_store_free(s);
    kiln_store_free(NULL);
}

/* Type ids: a small signature's id is structural (bit 31 set, the same in
 * every store) and decodes back to exactly its signature, so two different
 * signatures never share one; a larger signature gets an id interned per
 * store, below 2^31; equal signatures get equal ids either way. */
static void test_type_ids(void **state)
{
    static const uint8_t vt[7] = {KILN_I32,  KILN_I64,     KILN_F32,      KILN_F64,
                                  KILN_V128, KILN_FUNCREF, KILN_EXTERNREF};
    struct kiln_store *s1 = kiln_store_new(NULL), *s2 = kiln_store_new(NULL);
    uint8_t ty[12];
    struct kiln__functype ft;
    uint32_t checked = 0;
    (void)state;
    /* every signature of up to 3 values, and a sample of longer ones */
    for (uint32_t np = 0; np <= 7; np++)
        for (uint32_t nr = 0; nr <= 3 && np + nr <= 8; nr++)
            for (uint32_t v = 0; v < 343u; v += np + nr <= 3 ? 1 : 17) {
                uint32_t x = v * 2654435761u, id;
                for (uint32_t k = 0; k < np + nr; k++) {
                    ty[k] = vt[(np + nr <= 3 ? v / (k == 0 ? 1 : k == 1 ? 7 : 49) : x >> (3 * k)) % 7];
                }
                ft.nparams = np;
                ft.nresults = nr;
                ft.types = ty;
                id = kiln__functype_packed_id(&ft);
                assert_true(id & 0x80000000u);
                assert_int_equal(id >> 28 & 7, np);
                assert_int_equal(id >> 26 & 3, nr);
                for (uint32_t k = 0; k < np + nr; k++) {
                    uint32_t code = id >> (3 * k) & 7;
                    assert_true(code >= 1);
                    assert_int_equal(vt[code - 1], ty[k]);
                }
                assert_int_equal(id & ~(0xfc000000u | ((1u << (3 * (np + nr))) - 1)), 0);
                assert_int_equal(kiln__store_intern_type(s1, &ft), id);
                assert_int_equal(kiln__store_intern_type(s2, &ft), id);
                checked++;
            }
    assert_true(checked > 400);
    /* too large for a structural id: interned per store, below 2^31 */
    memset(ty, KILN_I32, sizeof ty);
    ft.types = ty;
    ft.nparams = 9;
    ft.nresults = 0;
    assert_int_equal(kiln__functype_packed_id(&ft), 0);
    assert_int_equal(kiln__store_intern_type(s1, &ft), 0);
    ft.nparams = 8;
    ft.nresults = 1;
    assert_int_equal(kiln__store_intern_type(s1, &ft), 1);
    ft.nparams = 9;
    ft.nresults = 0;
    assert_int_equal(kiln__store_intern_type(s1, &ft), 0);
    ft.nparams = 0;
    ft.nresults = 4;
    assert_int_equal(kiln__functype_packed_id(&ft), 0);
    assert_int_equal(kiln__store_intern_type(s2, &ft), 0);
    kiln_store_free(s1);
    kiln_store_free(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_elem_trap_keeps_earlier_writes),
        cmocka_unit_test(test_data_trap_keeps_earlier_writes),
        cmocka_unit_test(test_import_matching),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_table_api),
        cmocka_unit_test(test_type_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
