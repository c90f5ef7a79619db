/*
 * test_host.c — host functions: argument/result conversion for every value
 * type, calls from wasm into the host with the caller's memory, traps and
 * exits raised by the host, re-entrant calls (host → wasm → host), argument
 * checking, import linking errors and type interning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wasm/runtime.h"
#include "wbuild.h"

/* (i32 i64 f32 f64) -> (i64 f64 i32): returns a+b, c+d, and a*2 */
static int host_mix(struct kiln_caller *c, const uint64_t *args, uint64_t *res, void *env)
{
    float f;
    double d1, d2;
    uint32_t fb = (uint32_t)args[2];
    (void)c;
    *(int *)env += 1;
    memcpy(&f, &fb, 4);
    memcpy(&d1, &args[3], 8);
    d2 = d1 + f;
    res[0] = (uint64_t)((int64_t)(int32_t)args[0] + (int64_t)args[1]);
    memcpy(&res[1], &d2, 8);
    res[2] = (uint32_t)((int32_t)args[0] * 2);
    return 0;
}

static void test_direct_host_call(void **state)
{
    static const uint8_t types[] = {KILN_I32, KILN_I64, KILN_F32, KILN_F64,
                                    KILN_I64, KILN_F64, KILN_I32};
    struct kiln_functype ft = {4, 3, types}, got;
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_val args[4], res[3];
    struct kiln_trap trap;
    struct kiln_func *f;
    int calls = 0;
    float fv = 1.5f;
    double dv = 2.25, out;
    (void)state;
    f = kiln_func_new_host(s, &ft, host_mix, &calls);
    assert_non_null(f);
    kiln_func_type(f, &got);
    assert_int_equal(got.nparams, 4);
    assert_int_equal(got.nresults, 3);
    assert_memory_equal(got.types, types, 7);
    args[0].type = KILN_I32;
    args[0].of.i32 = -5;
    args[1].type = KILN_I64;
    args[1].of.i64 = 10000000000LL;
    args[2].type = KILN_F32;
    memcpy(&args[2].of.f32, &fv, 4);
    args[3].type = KILN_F64;
    memcpy(&args[3].of.f64, &dv, 8);
    assert_int_equal(kiln_func_call(s, f, args, 4, res, 3, &trap), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(res[0].type, KILN_I64);
    assert_true(res[0].of.i64 == 9999999995LL);
    assert_int_equal(res[1].type, KILN_F64);
    memcpy(&out, &res[1].of.f64, 8);
    assert_true(out == 3.75);
    assert_int_equal(res[2].type, KILN_I32);
    assert_int_equal(res[2].of.i32, -10);

    /* wrong arity / types */
    assert_int_equal(kiln_func_call(s, f, args, 3, res, 3, &trap), -KILN_E_ARG);
    assert_int_equal(kiln_func_call(s, f, args, 4, res, 2, &trap), -KILN_E_ARG);
    args[1].type = KILN_I32;
    assert_int_equal(kiln_func_call(s, f, args, 4, res, 3, &trap), -KILN_E_ARG);
    assert_int_equal(calls, 1);
    kiln_store_free(s);
}

static int host_trap(struct kiln_caller *c, const uint64_t *args, uint64_t *res, void *env)
{
    (void)res;
    (void)env;
    if (args[0] == 1) return kiln_caller_trap(c, KILN_TRAP_HOST, 0, "boom %d", 7);
    if (args[0] == 2) return kiln_caller_trap(c, KILN_TRAP_EXIT, 3, "exit");
    return KILN_TRAP_UNREACHABLE; /* no message: the default one */
}

static void test_host_traps(void **state)
{
    static const uint8_t types[] = {KILN_I32};
    struct kiln_functype ft = {1, 0, types};
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_func *f = kiln_func_new_host(s, &ft, host_trap, NULL);
    struct kiln_val a = {.type = KILN_I32};
    struct kiln_trap trap;
    (void)state;
    a.of.i32 = 1;
    assert_int_equal(kiln_func_call(s, f, &a, 1, NULL, 0, &trap), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_HOST);
    assert_string_equal(trap.msg, "boom 7");
    a.of.i32 = 2;
    assert_int_equal(kiln_func_call(s, f, &a, 1, NULL, 0, &trap), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_EXIT);
    assert_int_equal(trap.exit_code, 3);
    a.of.i32 = 3;
    assert_int_equal(kiln_func_call(s, f, &a, 1, NULL, 0, &trap), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_UNREACHABLE);
    assert_string_equal(trap.msg, kiln_trap_message(KILN_TRAP_UNREACHABLE));
    assert_int_equal(kiln_func_call(s, f, &a, 1, NULL, 0, NULL), -KILN_E_TRAP);
    kiln_store_free(s);
}

/* Module: (import "env" "h" (func (param i32 i32) (result i32)))
 *         (memory (export "mem") 1)
 *         (func (export "f") (param i32 i32) (result i32)
 *           local.get 0 local.get 1 call 0 i32.const 1 i32.add)
 *         (func (export "sq") (param i32) (result i32) local.get 0 local.get 0 i32.mul) */
static void build(struct wb *w)
{
    struct wb c;
    wb_header(w);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f);
    wb_section(w, 1, &c);
    c.n = 0;
    wb_uleb(&c, 1);
    wb_name(&c, "env");
    wb_name(&c, "h");
    WB_RAW(&c, 0x00, 0x00);
    wb_section(w, 2, &c);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x00, 0x01);
    wb_section(w, 3, &c);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x00, 0x01);
    wb_section(w, 5, &c);
    c.n = 0;
    wb_uleb(&c, 3);
    wb_name(&c, "f");
    WB_RAW(&c, 0x00, 0x01);
    wb_name(&c, "sq");
    WB_RAW(&c, 0x00, 0x02);
    wb_name(&c, "mem");
    WB_RAW(&c, 0x02, 0x00);
    wb_section(w, 7, &c);
    c.n = 0;
    WB_RAW(&c, 0x02, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x10, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x07,
           0x00, 0x20, 0x00, 0x20, 0x00, 0x6c, 0x0b);
    wb_section(w, 10, &c);
}

struct hctx {
    struct kiln_func *sq; /* for re-entrant calls */
    int seen_memory;
};

/* h(a, b): memory[a] + sq(b) via a nested call into wasm */
static int host_h(struct kiln_caller *c, const uint64_t *args, uint64_t *res, void *env)
{
    struct hctx *h = env;
    struct kiln_memory *m = kiln_caller_memory(c);
    struct kiln_val a = {.type = KILN_I32}, r;
    struct kiln_trap trap;
    uint32_t p = (uint32_t)args[0];
    if (!m || !kiln_memory_check(m, p, 1))
        return kiln_caller_trap(c, KILN_TRAP_HOST, 0, "bad pointer %u", p);
    h->seen_memory = 1;
    a.of.i32 = (int32_t)args[1];
    if (kiln_func_call(kiln_caller_store(c), h->sq, &a, 1, &r, 1, &trap) != 0)
        return kiln_caller_trap(c, KILN_TRAP_HOST, 0, "nested: %s", trap.msg);
    res[0] = (uint32_t)(kiln_memory_data(m)[p] + r.of.i32);
    return 0;
}

static void test_wasm_to_host(void **state)
{
    static const uint8_t types[] = {KILN_I32, KILN_I32, KILN_I32};
    struct kiln_functype ft = {2, 1, types};
    struct kiln_module *mod;
    struct kiln_store *s;
    struct kiln_instance *inst;
    struct kiln_extern imp, x;
    struct kiln_error err;
    struct kiln_trap trap;
    struct kiln_val args[2] = {{.type = KILN_I32}, {.type = KILN_I32}}, r;
    struct hctx h = {0};
    struct wb w;
    (void)state;
    build(&w);
    if (kiln_module_new(w.b, w.n, NULL, &mod, &err) != 0) fail_msg("%s", err.msg);
    s = kiln_store_new(NULL);
    imp.kind = KILN_EXTERN_FUNC;
    imp.of.func = kiln_func_new_host(s, &ft, host_h, &h);
    if (kiln_instance_new(s, mod, &imp, 1, &inst, NULL, &err) != 0) fail_msg("%s", err.msg);
    assert_true(kiln_instance_export(inst, "sq", &x));
    h.sq = x.of.func;
    assert_true(kiln_instance_export(inst, "f", &x));
    kiln_memory_data(kiln_instance_memory(inst))[10] = 5;
    args[0].of.i32 = 10;
    args[1].of.i32 = 6;
    assert_int_equal(kiln_func_call(s, x.of.func, args, 2, &r, 1, &trap), 0);
    assert_int_equal(r.of.i32, 5 + 36 + 1);
    assert_true(h.seen_memory);
    /* a host trap inside a wasm call propagates with its message */
    args[0].of.i32 = 70000;
    assert_int_equal(kiln_func_call(s, x.of.func, args, 2, &r, 1, &trap), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_HOST);
    assert_string_equal(trap.msg, "bad pointer 70000");
    /* and the store is fine afterwards */
    args[0].of.i32 = 10;
    args[1].of.i32 = 2;
    assert_int_equal(kiln_func_call(s, x.of.func, args, 2, &r, 1, &trap), 0);
    assert_int_equal(r.of.i32, 10);
    assert_null(s->exec);
    kiln_store_free(s);
    kiln_module_free(mod);
}

static void test_link_errors(void **state)
{
    static const uint8_t t_ok[] = {KILN_I32, KILN_I32, KILN_I32};
    static const uint8_t t_bad[] = {KILN_I32, KILN_I64, KILN_I32};
    struct kiln_functype ok = {2, 1, t_ok}, bad = {2, 1, t_bad};
    struct kiln_module *mod;
    struct kiln_store *s;
    struct kiln_instance *inst = NULL;
    struct kiln_extern imp;
    struct kiln_error err;
    struct kiln_func *f1, *f2;
    struct kiln_val g0 = {.type = KILN_I32};
    struct wb w;
    (void)state;
    build(&w);
    assert_int_equal(kiln_module_new(w.b, w.n, NULL, &mod, &err), 0);
    s = kiln_store_new(NULL);
    assert_int_equal(kiln_instance_new(s, mod, NULL, 0, &inst, NULL, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "unknown import"));
    imp.kind = KILN_EXTERN_FUNC;
    imp.of.func = kiln_func_new_host(s, &bad, host_h, NULL);
    assert_int_equal(kiln_instance_new(s, mod, &imp, 1, &inst, NULL, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "incompatible import type"));
    imp.kind = KILN_EXTERN_GLOBAL;
    imp.of.global = kiln_global_new(s, &g0, false);
    assert_int_equal(kiln_instance_new(s, mod, &imp, 1, &inst, NULL, &err), -KILN_E_LINK);
    assert_null(inst);
    /* interning: equal signatures, equal ids */
    f1 = kiln_func_new_host(s, &ok, host_h, NULL);
    f2 = kiln_func_new_host(s, &ok, host_trap, NULL);
    assert_int_equal(f1->type_id, f2->type_id);
    assert_int_not_equal(f1->type_id, kiln_func_new_host(s, &bad, host_h, NULL)->type_id);
    kiln_store_free(s);
    kiln_module_free(mod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_host_call),
        cmocka_unit_test(test_host_traps),
        cmocka_unit_test(test_wasm_to_host),
        cmocka_unit_test(test_link_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
