/*
 * test_signal_path.c — `kiln exec`'s SIGINT/SIGTERM path against the run's
 * teardown (src/cmd/exec.c on_stop): the handler notes the signal in the
 * guest's vkernel and interrupts its store, and may run on any thread (the
 * kilnd watcher's) while the main thread clears the slot and frees both. It
 * does so inside kiln_interrupt_slot_enter/leave, reading the vkernel only
 * when the slot holds a store, so clearing waits for it.
 *
 * stop_path() below is on_stop's body. Two threads run it without pause —
 * one calling it, one raising a real signal at itself whose handler calls it
 * (signal context) — while the main thread sets up, publishes, withdraws and
 * frees 2000 vkernel+store pairs in exec's order. A vkernel or store touched
 * after its free, or a NULL vkernel read, is what the sanitizer build (the
 * sanitize stage of .ci/run runs label unit under ASan) would report; the
 * plain build checks that the signal reached the right vkernel: whenever the
 * main thread saw its store interrupted, that vkernel's exit summary names
 * the signal.
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
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "wasm/runtime.h"

#define ROUNDS 2000

static struct kiln_interrupt_slot g_run;
static struct kiln_vk *g_vk; /* valid from before g_run is set until after it is cleared */
static volatile int g_stop;
static long g_calls, g_signals;

/* exec.c's on_stop, without the flag it keeps for its own exit code. */
static void stop_path(int sig)
{
    struct kiln_store *s = kiln_interrupt_slot_enter(&g_run);
    if (s != NULL) {
        kiln_vk_note_signal(g_vk, sig);
        kiln_store_interrupt(s);
    }
    kiln_interrupt_slot_leave(&g_run);
}

static void on_usr1(int sig)
{
    stop_path(sig);
}

static void *caller(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        stop_path(SIGINT);
        __atomic_add_fetch(&g_calls, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* The handler runs on this thread, in signal context, concurrently with the main thread. */
static void *raiser(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        pthread_kill(pthread_self(), SIGUSR1);
        __atomic_add_fetch(&g_signals, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_signal_path_vs_teardown(void **state)
{
    pthread_t t[2];
    struct sigaction sa;
    int hit = 0, noted = 0, audit, k;
    char *log;
    off_t len;
    (void)state;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    audit = memfd_create("audit", MFD_CLOEXEC);
    assert_true(audit >= 0);
    stop_path(SIGINT); /* nothing published: nothing happens */
    assert_int_equal(pthread_create(&t[0], NULL, caller, NULL), 0);
    assert_int_equal(pthread_create(&t[1], NULL, raiser, NULL), 0);
    for (int i = 0; i < ROUNDS; i++) {
        struct kiln_vk *vk = NULL;
        struct kiln_store *s;
        struct kiln_error err;
        int seen;
        memset(&err, 0, sizeof err);
        assert_int_equal(kiln_vk_new(&vk, &err), 0);
        kiln_vk_set_audit_fd(vk, dup(audit));
        s = kiln_store_new(NULL);
        assert_non_null(s);
        /* exec's order: the vkernel, then the slot; clear, then free */
        g_vk = vk;
        kiln_interrupt_slot_set(&g_run, s);
        for (k = 0; k < 50 && !atomic_load(&s->interrupt); k++)
            sched_yield();
        seen = atomic_load(&s->interrupt) != 0;
        kiln_interrupt_slot_clear(&g_run);
        g_vk = NULL;
        hit += seen;
        kiln_vk_exit(vk, 0, "exit"); /* the summary names a noted signal */
        kiln_store_free(s);
        kiln_vk_free(vk);
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    len = lseek(audit, 0, SEEK_END);
    assert_true(len > 0);
    log = calloc(1, (size_t)len + 1);
    assert_non_null(log);
    assert_int_equal(pread(audit, log, (size_t)len, 0), len);
    for (char *p = log; (p = strstr(p, "\"reason\":\"signal ")) != NULL; p++)
        noted++;
    printf("signal path: %ld calls, %ld signals; %d of %d stores interrupted while set, "
           "%d summaries name the signal\n",
           g_calls, g_signals, hit, ROUNDS, noted);
    assert_true(hit > 0);
    assert_true(noted >= hit); /* noted before the interrupt, in the vkernel published */
    free(log);
    close(audit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_path_vs_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
