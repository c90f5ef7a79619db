/*
 * test_interrupt.c — stopping a running guest: kiln_store_interrupt() from
 * another thread ends an endless loop with KILN_TRAP_INTERRUPTED; the
 * request is sticky until cleared; fuel ends the loop with OUT_OF_FUEL;
 * unbounded recursion ends with "call stack exhausted".
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wbuild.h"

/* (func (export "spin") (loop br 0)) (func (export "nop"))
 * (func (export "rec") call 2) */
static struct kiln_module *build(void)
{
    struct kiln_module *m = NULL;
    struct kiln_error err;
    struct wb w, c;
    wb_header(&w);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x60, 0x00, 0x00);
    wb_section(&w, 1, &c);
    c.n = 0;
    WB_RAW(&c, 0x03, 0x00, 0x00, 0x00);
    wb_section(&w, 3, &c);
    c.n = 0;
    wb_uleb(&c, 3);
    wb_name(&c, "spin");
    WB_RAW(&c, 0x00, 0x00);
    wb_name(&c, "nop");
    WB_RAW(&c, 0x00, 0x01);
    wb_name(&c, "rec");
    WB_RAW(&c, 0x00, 0x02);
    wb_section(&w, 7, &c);
    c.n = 0;
    WB_RAW(&c, 0x03, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x02, 0x00, 0x0b, 0x04, 0x00,
           0x10, 0x02, 0x0b);
    wb_section(&w, 10, &c);
    if (kiln_module_new(w.b, w.n, NULL, &m, &err) != 0) fail_msg("%s", err.msg);
    return m;
}

static struct kiln_func *export(struct kiln_instance *inst, const char *name)
{
    struct kiln_extern x;
    assert_true(kiln_instance_export(inst, name, &x));
    return x.of.func;
}

static void *interrupter(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kiln_store_interrupt(arg);
    return NULL;
}

static void test_interrupt_from_thread(void **state)
{
    struct kiln_module *m = build();
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_trap trap;
    pthread_t th;
    (void)state;
    assert_int_equal(kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err), 0);
    assert_int_equal(pthread_create(&th, NULL, interrupter, s), 0);
    assert_int_equal(kiln_func_call(s, export(inst, "spin"), NULL, 0, NULL, 0, &trap),
                     -KILN_E_TRAP);
    pthread_join(th, NULL);
    assert_int_equal(trap.kind, KILN_TRAP_INTERRUPTED);
    /* sticky until cleared */
    assert_int_equal(kiln_func_call(s, export(inst, "nop"), NULL, 0, NULL, 0, &trap), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_INTERRUPTED);
    kiln_store_clear_interrupt(s);
    assert_int_equal(kiln_func_call(s, export(inst, "nop"), NULL, 0, NULL, 0, &trap), 0);
    kiln_store_free(s);
    kiln_module_free(m);
}

static void test_fuel(void **state)
{
    struct kiln_module *m = build();
    struct kiln_store_config cfg;
    struct kiln_store *s;
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_trap trap;
    (void)state;
    kiln_store_config_default(&cfg);
    cfg.fuel = 100000;
    s = kiln_store_new(&cfg);
    assert_int_equal(kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err), 0);
    assert_int_equal(kiln_func_call(s, export(inst, "spin"), NULL, 0, NULL, 0, &trap),
                     -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_OUT_OF_FUEL);
    /* fuel is per outermost call */
    assert_int_equal(kiln_func_call(s, export(inst, "nop"), NULL, 0, NULL, 0, &trap), 0);
    kiln_store_free(s);
    kiln_module_free(m);
}

static void test_stack_exhausted(void **state)
{
    struct kiln_module *m = build();
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_trap trap;
    (void)state;
    assert_int_equal(kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err), 0);
    assert_int_equal(kiln_func_call(s, export(inst, "rec"), NULL, 0, NULL, 0, &trap), -KILN_E_TRAP);
    assert_int_equal(trap.kind, KILN_TRAP_STACK_EXHAUSTED);
    assert_string_equal(trap.msg, "call stack exhausted");
    kiln_store_free(s);
    kiln_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupt_from_thread),
        cmocka_unit_test(test_fuel),
        cmocka_unit_test(test_stack_exhausted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
