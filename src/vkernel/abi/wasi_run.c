/*
 * wasi_run.c — running a WASI command under the policy's time limits.
 *
 * The wall-time and CPU-time limits of a policy are enforced by the embedder:
 * one-shot POSIX timers (CLOCK_MONOTONIC → SIGALRM, CLOCK_PROCESS_CPUTIME_ID →
 * SIGVTALRM) whose handler calls kiln_store_interrupt(), so the guest stops
 * with KILN_TRAP_INTERRUPTED at its next function entry or loop back-edge.
 * `kiln exec`, `kiln run` and kiln-stub all run guests through here.
 *
 * Invariant: one limited run at a time per process (the handler reaches the
 * store through a process-wide pointer, set only while the run lasts).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "kiln/vkernel.h"
#include "kiln/wasm.h"

static struct kiln_store *volatile g_limited_store;

static void on_limit(int sig)
{
    (void)sig;
    if (g_limited_store) kiln_store_interrupt(g_limited_store);
}

/* Arms a one-shot timer on clk that raises sig after ms. Returns 0 or -errno. */
static int arm_timer(clockid_t clk, uint64_t ms, int sig, timer_t *t)
{
    struct sigevent ev;
    struct itimerspec its;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_limit;
    sigaction(sig, &sa, NULL);
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    if (timer_create(clk, &ev, t) < 0) return -errno;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(ms / 1000);
    its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
    if (timer_settime(*t, 0, &its, NULL) < 0) {
        int e = errno;
        timer_delete(*t);
        return -e;
    }
    return 0;
}

/* See vkernel.h. */
int kiln_wasi_run_limited(struct kiln_wasi *w, struct kiln_store *store,
                          const struct kiln_module *mod, const struct kiln_vk_limits *lim,
                          struct kiln_trap *trap, struct kiln_error *err)
{
    timer_t wall_t, cpu_t;
    bool wall = false, cpu = false;
    int r;

    g_limited_store = store;
    if (lim != NULL && lim->wall_ms)
        wall = arm_timer(CLOCK_MONOTONIC, lim->wall_ms, SIGALRM, &wall_t) == 0;
    if (lim != NULL && lim->cpu_ms)
        cpu = arm_timer(CLOCK_PROCESS_CPUTIME_ID, lim->cpu_ms, SIGVTALRM, &cpu_t) == 0;
    r = kiln_wasi_run(w, store, mod, trap, err);
    if (wall) timer_delete(wall_t);
    if (cpu) timer_delete(cpu_t);
    g_limited_store = NULL;
    return r;
}
