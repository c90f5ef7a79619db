/*
 * test_interrupt.c — stopping a running guest: kiln_store_interrupt() from
 * another thread ends an endless loop with KILN_TRAP_INTERRUPTED; the
 * request is sticky until cleared; fuel ends the loop with OUT_OF_FUEL;
 * unbounded recursion ends with "call stack exhausted".
 *
 * With AOT (tests/unit/test_interrupt.cmake defines KILN_TEST_AOT_CACHE),
 * every interrupt case also runs the module compiled without polls (the
 * default: the request arrives as a signal, docs/aot.md "Interruption") and
 * compiled --metered (polls), and checks:
 *   - a call-free loop stops when interrupted from another thread, from a
 *     POSIX timer's signal handler on the running thread itself (what
 *     wasi_run.c does for wall/CPU limits), also when that timer fires
 *     inside another signal handler that interrupted the loop, from a host
 *     function, and from a timer that fires while a host function sleeps;
 *   - nesting: AOT -> host -> AOT of the same store, and of another store:
 *     each request stops the code of its own store, and the store's record
 *     of the thread running its AOT code (aot_tid) is back to 0 after traps;
 *   - stray interrupt signals (no request pending) do not stop anything;
 *   - races: 300 requests per mode at random moments 0-300 us into a call
 *     (before the entry, during a host call, in the loop): none is lost;
 *   - the publication barrier after host calls (rt.c "Interruption";
 *     asymmetric with membarrier, or a full fence): 1000 requests per mode
 *     into a tight loop of host calls, each delivered before the guest
 *     completes more than one host call after kiln_store_interrupt returned;
 *     1000 requests timed to land as a host call returns into a call-free
 *     loop, none lost; a handler's nested call whose trap skips rt_call's
 *     republication still stops the loop the handler returns into; which
 *     barrier was chosen (KILN_TEST_BARRIER; the .fence_full and
 *     .no_membarrier variants force the fallback with KILN_AOT_FENCE=full
 *     and with a seccomp filter making membarrier fail with ENOSYS,
 *     KILN_TEST_DENY_MEMBARRIER=1); and, last, membarrier denied after the
 *     choice: the process falls back to full fences and requests still
 *     stop the code. KILN_TEST_FILTER selects tests by name;
 *   - a store with fuel runs an unmetered object's functions interpreted:
 *     the loop ends out of fuel;
 *   - kiln_interrupt_slot: a thread firing without pause while the main
 *     thread sets, clears and frees 2000 stores never touches a freed one
 *     (the sanitizer build would see it).
 * The latency from the request to kiln_func_call returning is printed
 * (median of several runs; no threshold).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kiln/wasm.h"
#include "wasm/runtime.h"
#include "wbuild.h"
#ifdef KILN_TEST_AOT_CACHE
#include "kiln/aot.h"
#endif

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

/* (import "env" "host" (func 0))
 * 1 spin: (loop br 0)      2 nop      3 rec: call 3
 * 4 host_spin: call 0 (loop br 0)      5 host_nop: call 0
 * 6 host_loop: (loop call 0 br 0) */
static struct kiln_module *build_host_cfg(const struct kiln_module_config *cfg)
{
    struct kiln_module *m = NULL;
    struct kiln_error err;
    struct wb w, c;
    static const char *names[] = {"spin", "nop", "rec", "host_spin", "host_nop", "host_loop"};
    wb_header(&w);
    c.n = 0;
    WB_RAW(&c, 0x01, 0x60, 0x00, 0x00);
    wb_section(&w, 1, &c);
    c.n = 0;
    wb_uleb(&c, 1);
    wb_name(&c, "env");
    wb_name(&c, "host");
    WB_RAW(&c, 0x00, 0x00);
    wb_section(&w, 2, &c);
    c.n = 0;
    WB_RAW(&c, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    wb_section(&w, 3, &c);
    c.n = 0;
    wb_uleb(&c, 6);
    for (unsigned i = 0; i < 6; i++) {
        wb_name(&c, names[i]);
        WB_RAW(&c, 0x00);
        wb_uleb(&c, i + 1);
    }
    wb_section(&w, 7, &c);
    c.n = 0;
    WB_RAW(&c, 0x06,                                                   /* 6 bodies */
           0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b,             /* spin */
           0x02, 0x00, 0x0b,                                           /* nop */
           0x04, 0x00, 0x10, 0x03, 0x0b,                               /* rec */
           0x09, 0x00, 0x10, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, /* host_spin */
           0x04, 0x00, 0x10, 0x00, 0x0b,                               /* host_nop */
           0x09, 0x00, 0x03, 0x40, 0x10, 0x00, 0x0c, 0x00, 0x0b, 0x0b); /* host_loop */
    wb_section(&w, 10, &c);
    if (kiln_module_new(w.b, w.n, cfg, &m, &err) != 0) fail_msg("%s", err.msg);
    return m;
}

static struct kiln_module *build_host(void)
{
    return build_host_cfg(NULL);
}

static struct kiln_func *export(struct kiln_instance *inst, const char *name)
{
    struct kiln_extern x;
    assert_true(kiln_instance_export(inst, name, &x));
    return x.of.func;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void *interrupter(void *arg)
{
    sleep_ms(50);
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

/* ---- every mode: interpreted, AOT without polls, AOT metered ------------------------------ */

enum { M_INTERP, M_AOT, M_METERED, NMODES };
static const char *mode_name[NMODES] = {"interp", "aot", "aot-metered"};
static struct kiln_module *mods[NMODES]; /* build_host() in each mode; NULL = unavailable */

static int setup_modes(void **state)
{
    (void)state;
    for (int m = 0; m < NMODES; m++) {
        mods[m] = NULL;
#ifndef KILN_TEST_AOT_CACHE
        if (m != M_INTERP) continue;
#endif
        mods[m] = build_host();
#ifdef KILN_TEST_AOT_CACHE
        if (m != M_INTERP) {
            struct kiln_aot_opts o;
            struct kiln_error err;
            memset(&o, 0, sizeof o);
            o.metered = m == M_METERED;
            if (kiln_aot_compile_cached(mods[m], KILN_TEST_AOT_CACHE, &o, &err) < 0) {
                fprintf(stderr, "aot (%s): %s\n", mode_name[m], err.msg);
                return -1;
            }
        }
#endif
    }
    return 0;
}

static int teardown_modes(void **state)
{
    (void)state;
    for (int m = 0; m < NMODES; m++)
        kiln_module_free(mods[m]);
    return 0;
}

/* What the host import "env" "host" does. */
enum host_mode { H_NONE, H_INTERRUPT, H_NESTED, H_OTHER_STORE, H_SLEEP, H_COUNT, H_FAULT };

struct run {
    struct kiln_store *store;
    struct kiln_instance *inst;
    enum host_mode hmode;
    struct run *other;        /* H_OTHER_STORE: whose "spin" the host runs */
    int inner_rc, inner_kind; /* outcome of the host's nested call */
    int host_calls;
    atomic_long counted; /* H_COUNT: calls so far (read by another thread) */
    long spin_after;     /* H_COUNT: busy iterations before returning */
    volatile uint8_t *fault_at; /* H_FAULT: an address in a guard region */
};

static int host(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)
{
    struct run *r = env;
    struct kiln_trap t;
    (void)a;
    (void)res;
    r->host_calls++;
    switch (r->hmode) {
    case H_NONE:
        break;
    case H_INTERRUPT:
        kiln_store_interrupt(kiln_caller_store(c));
        break;
    case H_NESTED: /* the same store, re-entered */
        memset(&t, 0, sizeof t);
        r->inner_rc = kiln_func_call(r->store, export(r->inst, "spin"), NULL, 0, NULL, 0, &t);
        r->inner_kind = t.kind;
        break;
    case H_OTHER_STORE:
        memset(&t, 0, sizeof t);
        r->inner_rc =
            kiln_func_call(r->other->store, export(r->other->inst, "spin"), NULL, 0, NULL, 0, &t);
        r->inner_kind = t.kind;
        break;
    case H_SLEEP: {
        /* a timer's signal interrupts this sleep (EINTR): sleep once */
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
        break;
    }
    case H_COUNT: {
        static char fill[16384];
        atomic_fetch_add(&r->counted, 1);
        for (volatile long i = 0; i < r->spin_after; i++) {
        }
        /* stores still draining when rt_call publishes the id: its store
         * waits behind them while the flag check's load can go ahead */
        memset(fill, (int)r->spin_after, sizeof fill);
        __asm__ volatile("" ::: "memory");
        break;
    }
    case H_FAULT: /* request, then fault: the trap skips rt_call's restores */
        kiln_store_interrupt(kiln_caller_store(c));
        /* a fault in host code is no trap (kiln__call clears the current
         * exec): stand for an interpreted callee's out-of-bounds access,
         * which faults as the running exec's guest code */
        kiln__current_exec = kiln_caller_store(c)->exec;
        (void)*r->fault_at;
        break;
    }
    return 0;
}

static void run_start(struct run *r, int mode, uint64_t fuel)
{
    struct kiln_store_config cfg;
    struct kiln_functype ft = {0, 0, NULL};
    struct kiln_extern imp;
    struct kiln_error err;
    memset(r, 0, sizeof *r);
    kiln_store_config_default(&cfg);
    cfg.fuel = fuel;
    r->store = kiln_store_new(&cfg);
    assert_non_null(r->store);
    imp.kind = KILN_EXTERN_FUNC;
    imp.of.func = kiln_func_new_host(r->store, &ft, host, r);
    assert_non_null(imp.of.func);
    if (kiln_instance_new(r->store, mods[mode], &imp, 1, &r->inst, NULL, &err) != 0)
        fail_msg("instantiate (%s): %s", mode_name[mode], err.msg);
}

static int call(struct run *r, const char *fn, struct kiln_trap *trap)
{
    memset(trap, 0, sizeof *trap);
    return kiln_func_call(r->store, export(r->inst, fn), NULL, 0, NULL, 0, trap);
}

/* after any call: no thread recorded as running the store's AOT code */
static void assert_idle(struct run *r)
{
    assert_int_equal(atomic_load(&r->store->aot_tid), 0);
    assert_null(r->store->exec);
}

#define FOR_MODES(m)                                                                               \
    for (int m = 0; m < NMODES; m++)                                                               \
        if (mods[m])

/* another thread: the loop stops; the request is sticky */
static void test_modes_thread(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        pthread_t th;
        run_start(&r, m, 0);
        assert_int_equal(pthread_create(&th, NULL, interrupter, r.store), 0);
        assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
        pthread_join(th, NULL);
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_string_equal(t.msg, "interrupted");
        assert_idle(&r);
        assert_int_equal(call(&r, "nop", &t), -KILN_E_TRAP); /* a leaf entered from the host */
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        kiln_store_clear_interrupt(r.store);
        assert_int_equal(call(&r, "nop", &t), 0);
        assert_idle(&r);
        kiln_store_free(r.store);
    }
}

/* ---- a POSIX timer's signal on the running thread (wasi_run.c's way) --------------------- */

static struct kiln_store *volatile g_timer_store;
static volatile double g_timer_at; /* when the handler requested the interrupt */

static void on_timer(int sig)
{
    (void)sig;
    g_timer_at = now_us();
    if (g_timer_store) kiln_store_interrupt(g_timer_store);
}

/* Arms a one-shot CLOCK_MONOTONIC timer that sends SIGALRM to this thread
 * after ms, handled like wasi_run.c does (sa_flags 0). */
static timer_t arm_timer(long ms)
{
    struct sigaction sa;
    struct sigevent ev;
    struct itimerspec its;
    timer_t t;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_timer;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGALRM;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    assert_int_equal(timer_create(CLOCK_MONOTONIC, &ev, &t), 0);
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000L;
    assert_int_equal(timer_settime(t, 0, &its, NULL), 0);
    return t;
}

static void test_modes_timer_same_thread(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        timer_t tm;
        run_start(&r, m, 0);
        g_timer_store = r.store;
        tm = arm_timer(30);
        assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
        timer_delete(tm);
        g_timer_store = NULL;
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_idle(&r);
        /* the interrupt signal is not left blocked on this thread */
        {
            sigset_t cur;
            pthread_sigmask(SIG_SETMASK, NULL, &cur);
            assert_false(sigismember(&cur, SIGURG));
        }
        kiln_store_free(r.store);
    }
}

/* An unrelated signal handler runs on the guest thread (it interrupted the
 * loop) when the limit timer fires inside it: the interrupt signal, sent to
 * itself and delivered as soon as the timer's handler returns, finds the
 * thread in the unrelated handler; it must come again when that handler
 * returns (KILN_PLATFORM_INTERRUPT_LATER), not be lost. */
static volatile sig_atomic_t g_in_usr1, g_usr1_saw_timer;

static void on_usr1(int sig)
{
    double t0 = now_us();
    (void)sig;
    g_in_usr1 = 1;
    while (now_us() - t0 < 30e3 && !g_timer_at) {
    }
    g_usr1_saw_timer = g_timer_at != 0;
    t0 = now_us();
    while (now_us() - t0 < 5e3) { /* go on a little after the timer's handler */
    }
    g_in_usr1 = 0;
}

static volatile sig_atomic_t g_watchdog_fired;

static void *watchdog_flag(void *arg)
{
    for (int i = 0; i < 3000 && !g_watchdog_fired; i++) { /* 30 s */
        sleep_ms(10);
        if (g_watchdog_fired < 0) return NULL; /* cancelled by the test */
    }
    g_watchdog_fired = 1;
    kiln_store_interrupt(arg);
    return NULL;
}

static void test_modes_timer_nested_handler(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        struct sigaction sa;
        struct sigevent ev;
        struct itimerspec its;
        timer_t usr1_t, tm;
        pthread_t wd;
        run_start(&r, m, 0);
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sigemptyset(&sa.sa_mask);
        assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_THREAD_ID;
        ev.sigev_signo = SIGUSR1;
        ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        assert_int_equal(timer_create(CLOCK_MONOTONIC, &ev, &usr1_t), 0);
        memset(&its, 0, sizeof its);
        its.it_value.tv_nsec = 20 * 1000000L;
        g_timer_at = 0;
        g_usr1_saw_timer = 0;
        g_watchdog_fired = 0;
        g_timer_store = r.store;
        assert_int_equal(pthread_create(&wd, NULL, watchdog_flag, r.store), 0);
        assert_int_equal(timer_settime(usr1_t, 0, &its, NULL), 0); /* SIGUSR1 at 20 ms */
        tm = arm_timer(30);                                        /* SIGALRM at 30 ms */
        assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
        if (!g_watchdog_fired) g_watchdog_fired = -1;
        pthread_join(wd, NULL);
        timer_delete(tm);
        timer_delete(usr1_t);
        g_timer_store = NULL;
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_true(g_usr1_saw_timer);          /* the case happened: the timer fired inside */
        assert_int_equal(g_watchdog_fired, -1); /* the timer's request stopped it */
        assert_idle(&r);
        {
            sigset_t cur;
            pthread_sigmask(SIG_SETMASK, NULL, &cur);
            assert_false(sigismember(&cur, SIGURG));
        }
        kiln_store_free(r.store);
    }
}

/* a timer that fires while a host function sleeps: the caller traps as soon
 * as the host function returns (the loop after it never runs) */
static void test_modes_timer_in_host_call(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        timer_t tm;
        run_start(&r, m, 0);
        r.hmode = H_SLEEP;
        g_timer_store = r.store;
        tm = arm_timer(30);
        assert_int_equal(call(&r, "host_spin", &t), -KILN_E_TRAP);
        timer_delete(tm);
        g_timer_store = NULL;
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_int_equal(r.host_calls, 1);
        assert_idle(&r);
        kiln_store_free(r.store);
    }
}

/* a host function requests the interrupt: its caller stops right after it
 * returns, in every mode */
static void test_modes_host_interrupt(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        static const char *fns[] = {"host_nop", "host_spin"};
        for (int i = 0; i < 2; i++) {
            struct run r;
            struct kiln_trap t;
            run_start(&r, m, 0);
            r.hmode = H_INTERRUPT;
            assert_int_equal(call(&r, fns[i], &t), -KILN_E_TRAP);
            assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
            assert_int_equal(r.host_calls, 1);
            assert_idle(&r);
            kiln_store_free(r.store);
        }
    }
}

/* AOT -> host -> AOT of the same store: the inner loop stops (the request
 * stays), then the outer call stops when the host function returns */
static void test_modes_nested(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        pthread_t th;
        run_start(&r, m, 0);
        r.hmode = H_NESTED;
        assert_int_equal(pthread_create(&th, NULL, interrupter, r.store), 0);
        assert_int_equal(call(&r, "host_spin", &t), -KILN_E_TRAP);
        pthread_join(th, NULL);
        assert_int_equal(r.inner_rc, -KILN_E_TRAP);
        assert_int_equal(r.inner_kind, KILN_TRAP_INTERRUPTED);
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_idle(&r);
        kiln_store_free(r.store);
    }
}

struct two {
    struct kiln_store *a, *b;
};

static void *interrupt_b_then_a(void *arg)
{
    struct two *x = arg;
    sleep_ms(50);
    kiln_store_interrupt(x->b);
    sleep_ms(50);
    kiln_store_interrupt(x->a);
    return NULL;
}

/* store A's code calls a host function that runs store B's loop on the
 * same thread: interrupting B stops only B; A runs on (its own loop) until
 * A is interrupted */
static void test_modes_other_store(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run a, b;
        struct kiln_trap t;
        struct two x;
        pthread_t th;
        run_start(&a, m, 0);
        run_start(&b, m, 0);
        a.hmode = H_OTHER_STORE;
        a.other = &b;
        x.a = a.store;
        x.b = b.store;
        assert_int_equal(pthread_create(&th, NULL, interrupt_b_then_a, &x), 0);
        assert_int_equal(call(&a, "host_spin", &t), -KILN_E_TRAP);
        pthread_join(th, NULL);
        assert_int_equal(a.inner_rc, -KILN_E_TRAP);
        assert_int_equal(a.inner_kind, KILN_TRAP_INTERRUPTED);
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_idle(&a);
        assert_idle(&b);
        kiln_store_free(a.store);
        kiln_store_free(b.store);
    }
}

struct stray {
    pthread_t target;
    struct kiln_store *store;
};

static void *stray_signals(void *arg)
{
    struct stray *s = arg;
    for (int i = 0; i < 20; i++) {
        sleep_ms(5);
        pthread_kill(s->target, SIGURG);
    }
    kiln_store_interrupt(s->store);
    return NULL;
}

/* interrupt signals without a pending request are ignored */
static void test_modes_stray_signals(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        struct stray s;
        pthread_t th;
        double t0 = now_us();
        run_start(&r, m, 0);
        s.target = pthread_self();
        s.store = r.store;
        assert_int_equal(pthread_create(&th, NULL, stray_signals, &s), 0);
        assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
        pthread_join(th, NULL);
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_true(now_us() - t0 >= 100e3); /* not before the 20 stray signals */
        kiln_store_free(r.store);
    }
}

static void *watchdog(void *arg)
{
    sleep_ms(10000);
    kiln_store_interrupt(arg); /* only if fuel did not end the loop (a failure) */
    return NULL;
}

/* a store with fuel never runs the unmetered object: out of fuel, exactly */
static void test_modes_fuel(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        pthread_t th;
        run_start(&r, m, 100000);
        assert_int_equal(pthread_create(&th, NULL, watchdog, r.store), 0);
        assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
        assert_int_equal(t.kind, KILN_TRAP_OUT_OF_FUEL);
        pthread_cancel(th);
        pthread_join(th, NULL);
        kiln_store_free(r.store);
    }
}

#ifdef KILN_TEST_AOT_CACHE
/* the same with kiln_module_config.defer_compile: the fallback compiles the
 * interpreter's code at instantiation */
static void test_fuel_deferred_compile(void **state)
{
    struct kiln_module_config mc;
    struct kiln_module *saved = mods[M_AOT];
    struct kiln_error err;
    struct run r;
    struct kiln_trap t;
    (void)state;
    kiln_module_config_default(&mc);
    mc.defer_compile = true;
    mods[M_AOT] = build_host_cfg(&mc);
    if (kiln_aot_compile_cached(mods[M_AOT], KILN_TEST_AOT_CACHE, NULL, &err) < 0)
        fail_msg("aot: %s", err.msg);
    run_start(&r, M_AOT, 100000);
    assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
    assert_int_equal(t.kind, KILN_TRAP_OUT_OF_FUEL);
    kiln_store_free(r.store);
    run_start(&r, M_AOT, 0); /* native, without fuel */
    r.hmode = H_INTERRUPT;
    assert_int_equal(call(&r, "host_spin", &t), -KILN_E_TRAP);
    assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
    kiln_store_free(r.store);
    kiln_module_free(mods[M_AOT]);
    mods[M_AOT] = saved;
}
#endif

/* Races: another thread interrupts at a random moment, 0-300 us after the
 * call starts, many times: whether the request lands before the entry,
 * during the host call (the thread record is cleared), while the thread
 * publishes itself or in the loop, it is never lost. */
struct race {
    struct kiln_store *store;
    atomic_int phase; /* 0 idle, 1 go, 2 done, 3 quit */
    long delay_ns;
};

static void *race_thread(void *arg)
{
    struct race *r = arg;
    for (;;) {
        int p;
        while ((p = atomic_load(&r->phase)) == 0 || p == 2)
            sched_yield();
        if (p == 3) return NULL;
        {
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            do {
                clock_gettime(CLOCK_MONOTONIC, &t);
            } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < r->delay_ns);
        }
        kiln_store_interrupt(r->store);
        atomic_store(&r->phase, 2);
    }
}

static void test_modes_race(void **state)
{
    enum { N = 300 };
    (void)state;
    srand(12345);
    FOR_MODES(m)
    {
        struct run r;
        struct race rc;
        pthread_t th, wd;
        const char *fns[] = {"host_spin", "spin"};
        run_start(&r, m, 0);
        rc.store = r.store;
        atomic_init(&rc.phase, 0);
        g_watchdog_fired = 0;
        assert_int_equal(pthread_create(&wd, NULL, watchdog_flag, r.store), 0);
        assert_int_equal(pthread_create(&th, NULL, race_thread, &rc), 0);
        for (int i = 0; i < N && !g_watchdog_fired; i++) {
            struct kiln_trap t;
            rc.delay_ns = (long)(rand() % 300) * 1000L;
            atomic_store(&rc.phase, 1);
            assert_int_equal(call(&r, fns[i & 1], &t), -KILN_E_TRAP);
            assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
            while (atomic_load(&rc.phase) != 2)
                sched_yield();
            kiln_store_clear_interrupt(r.store);
            atomic_store(&rc.phase, 0);
            assert_idle(&r);
        }
        atomic_store(&rc.phase, 3);
        pthread_join(th, NULL);
        if (!g_watchdog_fired) g_watchdog_fired = -1;
        pthread_join(wd, NULL);
        assert_int_equal(g_watchdog_fired, -1); /* no request was lost */
        kiln_store_free(r.store);
    }
}

/* ---- the publication barrier (rt.c "Interruption") --------------------------------------- */

/* After every host call, AOT code republishes its thread id and checks the
 * flag with only a compiler barrier between (the requester issues
 * membarrier), or with a full fence when membarrier is not usable. */

/* Tight loop of host calls: a request made at a random call is delivered
 * before the guest completes more than one further host call after
 * kiln_store_interrupt returned (count-based: the call in progress returns
 * into the flag check). The host's count is a locked increment, itself a
 * full barrier on the guest thread, so the bound holds whatever the
 * publication barrier: this checks delivery while rt_call clears and
 * republishes the id without pause against the requester's membarrier and
 * signal; test_modes_host_return_window aims at the barrier's window. */
struct loop_req {
    struct run *r;
    atomic_int phase; /* 0 idle, 1 armed, 4 watching, 2 requested, 3 quit */
    long target;      /* request once the guest made this many host calls */
    long after;       /* host calls counted when kiln_store_interrupt returned */
};

static void *loop_requester(void *arg)
{
    struct loop_req *q = arg;
    for (;;) {
        int p;
        while ((p = atomic_load(&q->phase)) != 1 && p != 3)
            sched_yield();
        if (p == 3) return NULL;
        atomic_store(&q->phase, 4);
        while (atomic_load(&q->r->counted) < q->target) {
        }
        kiln_store_interrupt(q->r->store);
        q->after = atomic_load(&q->r->counted);
        atomic_store(&q->phase, 2);
    }
}

static void test_modes_host_loop(void **state)
{
    enum { N = 1000 };
    (void)state;
    srand(4242);
    FOR_MODES(m)
    {
        struct run r;
        struct loop_req q;
        pthread_t th;
        long worst = 0, total = 0;
        run_start(&r, m, 0);
        r.hmode = H_COUNT;
        q.r = &r;
        atomic_init(&q.phase, 0);
        assert_int_equal(pthread_create(&th, NULL, loop_requester, &q), 0);
        for (int i = 0; i < N; i++) {
            struct kiln_trap t;
            long over;
            atomic_store(&r.counted, 0);
            q.target = 1 + rand() % 64;
            r.spin_after = (i & 3) == 0 ? rand() % 2000 : 0; /* vary where the request lands */
            atomic_store(&q.phase, 1);
            while (atomic_load(&q.phase) != 4) /* the requester watches the count */
                sched_yield();
            assert_int_equal(call(&r, "host_loop", &t), -KILN_E_TRAP);
            assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
            while (atomic_load(&q.phase) != 2)
                sched_yield();
            over = atomic_load(&r.counted) - q.after;
            if (over > worst) worst = over;
            total += atomic_load(&r.counted);
            assert_true(over <= 1);
            kiln_store_clear_interrupt(r.store);
            atomic_store(&q.phase, 0);
            assert_idle(&r);
        }
        atomic_store(&q.phase, 3);
        pthread_join(th, NULL);
        printf("host loop (%s, %s barrier): %d requests delivered, %ld host calls, at most %ld "
               "after the request returned\n",
               mode_name[m], kiln__aot_barrier_asymmetric() ? "asymmetric" : "full", N, total,
               worst);
        kiln_store_free(r.store);
    }
}

/* The request lands just as a host call returns into code that then loops
 * without calls (host_spin): the pairing's window. The host fills 16 KiB
 * before returning, so rt_call's store of the id waits in the store buffer
 * behind those stores while the flag check's load goes ahead: the window
 * is wide. A lost request hangs the loop until the watchdog (30 s) ends it,
 * failing the test. Mutation check: with neither the AOT side's fence nor
 * the requester's membarrier, this failed in 4 of 4 runs on a 2-CPU VM
 * (and passed 4 of 4 with each barrier). */
struct win_req {
    struct run *r;
    atomic_int phase; /* 0 idle, 1 armed, 2 requested, 3 quit */
};

static void *window_requester(void *arg)
{
    struct win_req *q = arg;
    for (;;) {
        int p;
        while ((p = atomic_load(&q->phase)) != 1 && p != 3)
            sched_yield();
        if (p == 3) return NULL;
        while (atomic_load(&q->r->counted) == 0) {
        }
        kiln_store_interrupt(q->r->store);
        atomic_store(&q->phase, 2);
    }
}

static void test_modes_host_return_window(void **state)
{
    enum { N = 1000 };
    (void)state;
    srand(777);
    FOR_MODES(m)
    {
        struct run r;
        struct win_req q;
        pthread_t th, wd;
        run_start(&r, m, 0);
        r.hmode = H_COUNT;
        q.r = &r;
        atomic_init(&q.phase, 0);
        g_watchdog_fired = 0;
        assert_int_equal(pthread_create(&wd, NULL, watchdog_flag, r.store), 0);
        assert_int_equal(pthread_create(&th, NULL, window_requester, &q), 0);
        for (int i = 0; i < N && !g_watchdog_fired; i++) {
            struct kiln_trap t;
            atomic_store(&r.counted, 0);
            r.spin_after = rand() % 400; /* sweep the return across the request */
            atomic_store(&q.phase, 1);
            assert_int_equal(call(&r, "host_spin", &t), -KILN_E_TRAP);
            assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
            while (atomic_load(&q.phase) != 2)
                sched_yield();
            kiln_store_clear_interrupt(r.store);
            atomic_store(&q.phase, 0);
            assert_idle(&r);
        }
        atomic_store(&q.phase, 3);
        pthread_join(th, NULL);
        if (!g_watchdog_fired) g_watchdog_fired = -1;
        pthread_join(wd, NULL);
        assert_int_equal(g_watchdog_fired, -1); /* no request was lost */
        kiln_store_free(r.store);
    }
}

/* A signal handler interrupts the store's AOT loop and calls into the same
 * store; the callee's host function requests the interrupt (the id is
 * cleared during host calls: only the flag is set) and then faults in a
 * guard region as guest code would, a trap that skips rt_call's
 * republication. call_slots republishes the id; the loop the handler
 * returns into must still stop (instance.c re-signals the thread), not run
 * on unpolled until the watchdog's request. */
static struct run *volatile g_nest_run;
static struct kiln_func *volatile g_nest_fn;
static volatile int g_nest_rc, g_nest_kind;

static void on_usr2(int sig)
{
    struct kiln_trap t;
    (void)sig;
    memset(&t, 0, sizeof t);
    g_nest_run->hmode = H_FAULT;
    g_nest_rc = kiln_func_call(g_nest_run->store, g_nest_fn, NULL, 0, NULL, 0, &t);
    g_nest_kind = t.kind;
}

static void *send_usr2(void *arg)
{
    struct run *r = g_nest_run;
    while (atomic_load(&r->counted) == 0)
        sched_yield();
    sleep_ms(20); /* host_spin's host call returned: the thread loops in "spin" */
    pthread_kill(*(pthread_t *)arg, SIGUSR2);
    return NULL;
}

static void test_modes_handler_fault_republish(void **state)
{
    (void)state;
    FOR_MODES(m)
    {
        struct run r;
        struct kiln_trap t;
        struct kiln_limits lim = {1, 1, true};
        struct kiln_memory *mem;
        struct sigaction sa;
        pthread_t self = pthread_self(), th, wd;
        run_start(&r, m, 0);
        mem = kiln_memory_new(r.store, &lim, NULL);
        assert_non_null(mem);
        r.fault_at = kiln_memory_data(mem) + 65536; /* beyond the one page: guard */
        r.hmode = H_COUNT;
        g_nest_run = &r;
        g_nest_fn = export(r.inst, "host_nop");
        g_nest_rc = 0;
        g_nest_kind = 0;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr2;
        sigemptyset(&sa.sa_mask);
        assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);
        g_watchdog_fired = 0;
        assert_int_equal(pthread_create(&wd, NULL, watchdog_flag, r.store), 0);
        assert_int_equal(pthread_create(&th, NULL, send_usr2, &self), 0);
        assert_int_equal(call(&r, "host_spin", &t), -KILN_E_TRAP);
        pthread_join(th, NULL);
        if (!g_watchdog_fired) g_watchdog_fired = -1;
        pthread_join(wd, NULL);
        assert_int_equal(g_nest_rc, -KILN_E_TRAP);
        assert_int_equal(g_nest_kind, KILN_TRAP_MEMORY_OOB);
        assert_int_equal(t.kind, KILN_TRAP_INTERRUPTED);
        assert_int_equal(g_watchdog_fired, -1); /* stopped by the request, not the watchdog */
        assert_idle(&r);
        {
            sigset_t cur;
            pthread_sigmask(SIG_SETMASK, NULL, &cur);
            assert_false(sigismember(&cur, SIGURG));
        }
        signal(SIGUSR2, SIG_DFL);
        kiln_store_free(r.store);
    }
}

/* Which barrier the process chose: KILN_TEST_BARRIER names the expected one
 * ("asymmetric", "full"); unset, asymmetric exactly when this kernel offers
 * private expedited membarrier and no seccomp filter is in force. */
static void test_barrier_mode(void **state)
{
    const char *want = getenv("KILN_TEST_BARRIER");
    bool asym;
    (void)state;
    kiln_store_free(kiln_store_new(NULL)); /* decided by the first store at the latest */
    if (want)
        asym = strcmp(want, "asymmetric") == 0;
    else {
        /* and no seccomp filter in force (rt.c does not even probe then) */
        long q = syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);
        char st[4096] = "";
        const char *sc;
        FILE *f = fopen("/proc/self/status", "r");
        if (f) {
            st[fread(st, 1, sizeof st - 1, f)] = '\0';
            fclose(f);
        }
        sc = strstr(st, "\nSeccomp:\t");
        asym = q > 0 && (q & 8 /* PRIVATE_EXPEDITED */) && (q & 16 /* REGISTER_... */) && sc &&
               sc[strlen("\nSeccomp:\t")] == '0';
    }
    printf("barrier: %s\n", kiln__aot_barrier_asymmetric() ? "asymmetric" : "full fence");
    assert_int_equal(kiln__aot_barrier_asymmetric(), asym);
}

/* A seccomp filter denying membarrier, installed after the decision (so
 * after the probe succeeded): the first request's membarrier fails, the
 * process switches to full fences, and requests still stop the code. Runs
 * last: the filter cannot be removed. */
static void test_barrier_late_deny(void **state)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    (void)state;
    if (!kiln__aot_barrier_asymmetric()) skip(); /* nothing to switch from */
    assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    assert_int_equal(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog),
                     0);
    assert_true(kiln__aot_barrier_asymmetric());
    test_modes_thread(state); /* the first request fails membarrier */
    assert_false(kiln__aot_barrier_asymmetric());
    test_modes_host_return_window(state);
}

/* KILN_TEST_DENY_MEMBARRIER=1: membarrier fails with ENOSYS from the start,
 * as on a kernel without it or under a profile that denies it. */
static void deny_membarrier_from_start(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("seccomp");
        exit(1);
    }
}

/* ---- latency ------------------------------------------------------------------------------ */

struct lat {
    struct kiln_store *store;
    double at;
};

static void *interrupt_timed(void *arg)
{
    struct lat *l = arg;
    sleep_ms(20);
    l->at = now_us();
    kiln_store_interrupt(l->store);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* request -> kiln_func_call returned, microseconds (median of N): printed */
static void test_modes_latency(void **state)
{
    enum { N = 15 };
    (void)state;
    FOR_MODES(m)
    {
        double thr[N], tmr[N];
        for (int i = 0; i < N; i++) {
            struct run r;
            struct kiln_trap t;
            struct lat l;
            pthread_t th;
            timer_t tm;
            run_start(&r, m, 0);
            l.store = r.store;
            assert_int_equal(pthread_create(&th, NULL, interrupt_timed, &l), 0);
            assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
            thr[i] = now_us() - l.at;
            pthread_join(th, NULL);
            kiln_store_clear_interrupt(r.store);
            g_timer_store = r.store;
            tm = arm_timer(10);
            assert_int_equal(call(&r, "spin", &t), -KILN_E_TRAP);
            tmr[i] = now_us() - g_timer_at;
            timer_delete(tm);
            g_timer_store = NULL;
            kiln_store_free(r.store);
        }
        qsort(thr, N, sizeof thr[0], cmp_double);
        qsort(tmr, N, sizeof tmr[0], cmp_double);
        printf("interrupt latency %-11s other thread: median %.1f us (min %.1f, max %.1f); "
               "timer signal on the thread: median %.1f us (min %.1f, max %.1f)\n",
               mode_name[m], thr[N / 2], thr[0], thr[N - 1], tmr[N / 2], tmr[0], tmr[N - 1]);
    }
}

/* ---- kiln_interrupt_slot ---------------------------------------------------- */

static struct kiln_interrupt_slot g_slot;
static volatile int g_slot_stop;
static volatile long g_slot_fires;

static void *slot_firer(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g_slot_stop, __ATOMIC_RELAXED)) {
        kiln_interrupt_slot_fire(&g_slot);
        __atomic_add_fetch(&g_slot_fires, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_interrupt_slot(void **state)
{
    pthread_t t;
    int hit = 0;
    (void)state;
    kiln_interrupt_slot_fire(&g_slot); /* empty: nothing happens */
    assert_int_equal(pthread_create(&t, NULL, slot_firer, NULL), 0);
    for (int i = 0; i < 2000; i++) {
        struct kiln_store *s = kiln_store_new(NULL);
        assert_non_null(s);
        kiln_interrupt_slot_set(&g_slot, s);
        for (int k = 0; k < 50 && !atomic_load(&s->interrupt); k++) sched_yield();
        hit += atomic_load(&s->interrupt) != 0;
        kiln_interrupt_slot_clear(&g_slot);
        kiln_store_free(s); /* no fire can reach it any more */
    }
    __atomic_store_n(&g_slot_stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    printf("interrupt slot: %ld fires, %d of 2000 stores interrupted while set\n", g_slot_fires,
           hit);
    assert_true(hit > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupt_from_thread),
        cmocka_unit_test(test_interrupt_slot),
        cmocka_unit_test(test_fuel),
        cmocka_unit_test(test_stack_exhausted),
        cmocka_unit_test(test_modes_thread),
        cmocka_unit_test(test_modes_timer_same_thread),
        cmocka_unit_test(test_modes_timer_nested_handler),
        cmocka_unit_test(test_modes_timer_in_host_call),
        cmocka_unit_test(test_modes_host_interrupt),
        cmocka_unit_test(test_modes_nested),
        cmocka_unit_test(test_modes_other_store),
        cmocka_unit_test(test_modes_stray_signals),
        cmocka_unit_test(test_modes_race),
        cmocka_unit_test(test_barrier_mode),
        cmocka_unit_test(test_modes_host_loop),
        cmocka_unit_test(test_modes_host_return_window),
        cmocka_unit_test(test_modes_handler_fault_republish),
        cmocka_unit_test(test_modes_fuel),
#ifdef KILN_TEST_AOT_CACHE
        cmocka_unit_test(test_fuel_deferred_compile),
#endif
        cmocka_unit_test(test_modes_latency),
        cmocka_unit_test(test_barrier_late_deny), /* last: leaves a seccomp filter */
    };
    const char *deny = getenv("KILN_TEST_DENY_MEMBARRIER");
    if (deny && strcmp(deny, "1") == 0) deny_membarrier_from_start();
    if (getenv("KILN_TEST_FILTER")) cmocka_set_test_filter(getenv("KILN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, setup_modes, teardown_modes);
}
