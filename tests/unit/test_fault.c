/*
 * test_fault.c — the fault handler's boundaries: a fault that is not a
 * guest memory access (a NULL dereference, or host code touching a guest
 * memory's guard region outside any call) still kills the process with
 * SIGSEGV; guest out-of-bounds accesses trap on any thread, concurrently,
 * each thread with its own alternate signal stack.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wasm/runtime.h"
#include "wbuild.h"

/* (memory 1) (func (export "load") (param i32) (result i32) local.get 0 i32.load) */
static struct kiln_module *build(void)
{
    struct kiln_module *m = NULL;
    struct kiln_error err;
    struct wb w, c;
    wb_header(&w);
    WB_RAW(&w, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f);
    WB_RAW(&w, 0x03, 0x02, 0x01, 0x00);
    WB_RAW(&w, 0x05, 0x03, 0x01, 0x00, 0x01);
    c.n = 0;
    wb_uleb(&c, 1);
    wb_name(&c, "load");
    WB_RAW(&c, 0x00, 0x00);
    wb_section(&w, 7, &c);
    WB_RAW(&w, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b);
    if (kiln_module_new(w.b, w.n, NULL, &m, &err) != 0) fail_msg("%s", err.msg);
    return m;
}

/* Runs fn in a child with default signal actions; returns its wait status. */
static int in_child(void (*fn)(void))
{
    int status = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void null_deref(void)
{
    struct kiln_module *m = build();
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_val a = {.type = KILN_I32, .of.i32 = 70000}, r;
    struct kiln_extern x;
    struct kiln_trap trap;
    if (kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err) != 0) _exit(2);
    kiln_instance_export(inst, "load", &x);
    /* the handler is installed by the first call; make it trap once */
    if (kiln_func_call(s, x.of.func, &a, 1, &r, 1, &trap) != -KILN_E_TRAP) _exit(3);
    {
        volatile int *volatile p = (volatile int *)(uintptr_t)16; /* unmapped page */
        *p = 1;
    }
    _exit(4);
}

static void host_touches_guard(void)
{
    struct kiln_module *m = build();
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_val a = {.type = KILN_I32, .of.i32 = 70000}, r;
    struct kiln_extern x;
    struct kiln_trap trap;
    if (kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err) != 0) _exit(2);
    kiln_instance_export(inst, "load", &x);
    if (kiln_func_call(s, x.of.func, &a, 1, &r, 1, &trap) != -KILN_E_TRAP) _exit(3);
    /* outside any call: a host bug, not a guest trap */
    kiln_memory_data(kiln_instance_memory(inst))[70000] = 1;
    _exit(4);
}

static void test_foreign_faults_crash(void **state)
{
    int st;
    (void)state;
    st = in_child(null_deref);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    st = in_child(host_touches_guard);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
}

static void *worker(void *arg)
{
    struct kiln_module *m = arg;
    struct kiln_store *s = kiln_store_new(NULL);
    struct kiln_instance *inst;
    struct kiln_error err;
    struct kiln_extern x;
    struct kiln_trap trap;
    intptr_t bad = 0;
    int i;
    if (kiln_instance_new(s, m, NULL, 0, &inst, NULL, &err) != 0) return (void *)-1;
    kiln_instance_export(inst, "load", &x);
    for (i = 0; i < 200; i++) {
        struct kiln_val a = {.type = KILN_I32}, r;
        a.of.i32 = (i & 1) ? 65536 + i : i;
        int rc = kiln_func_call(s, x.of.func, &a, 1, &r, 1, &trap);
        if ((i & 1) ? (rc != -KILN_E_TRAP || trap.kind != KILN_TRAP_MEMORY_OOB) : rc != 0) bad++;
    }
    kiln_store_free(s);
    return (void *)bad;
}

static void test_traps_on_threads(void **state)
{
    struct kiln_module *m = build();
    pthread_t th[4];
    int i;
    (void)state;
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, m), 0);
    for (i = 0; i < 4; i++) {
        void *bad;
        pthread_join(th[i], &bad);
        assert_ptr_equal(bad, NULL);
    }
    kiln_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_faults_crash),
        cmocka_unit_test(test_traps_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
