/*
 * rt.c — the engine side of AOT code: entry from kiln__call(), the
 * callbacks every loaded object receives (traps, calls, growth), and the
 * native stack limit. Built into kiln_wasm (instance.c dispatches here), so
 * the engine needs no other library to run an attached object; the
 * translator and loader live in kiln_aot.
 *
 * Traps: generated code calls kiln__aot_rt.trap, which fills ex->trap with
 * the interpreter's wording (including "undefined element N") and
 * siglongjmps to ex->trap_jmp, exactly like a memory fault; run_guarded()
 * in instance.c keeps the message. A trap returned by a callee reached
 * through kiln__call() (host or interpreted function) is re-raised the same
 * way with the callee's message.
 *
 * Stack: in metered code ex->depth counts frames like the interpreter;
 * in all code the native stack pointer must stay above
 * ex->aot_stack_limit, computed once per thread from its stack bounds with
 * a margin for host code (unmetered code has only this limit).
 *
 * Interruption (unmetered code has no polls; docs/aot.md "Interruption"):
 * while a thread runs a store's AOT code, store->aot_tid holds its id, so
 * kiln_store_interrupt() can signal it. kiln__aot_enter publishes it (the
 * outermost entry for the store on this thread) and restores the previous
 * value on return; rt_call clears it while AOT code calls out (host and
 * interpreted functions poll themselves, and a signal there could only
 * interrupt host system calls) and restores it afterwards. A trap skips
 * these restores; call_slots (instance.c) restores the value it found (a
 * republication, with the barrier below and its own flag check, when a
 * signal handler's call into a store whose AOT code it interrupted trapped
 * while rt_call had the id cleared).
 * After publishing, the code the thread returns to checks the flag in AOT
 * text (trampoline entry, KX_AFTER_HOST), pairing with the flag-then-id
 * order of kiln_store_interrupt: a request is never lost.
 *
 * That pairing is a Dekker pattern (each side stores one word, then loads
 * the other's), which needs a full barrier between the store and the load on
 * both sides: without one, the CPU may satisfy the AOT side's load of the
 * flag before its store of the id is visible (x86 store buffer), while the
 * requester reads the old id 0 — neither sees the other, no signal is sent
 * and the code loops on unpolled. The barrier is asymmetric, because the
 * AOT side publishes after every host call (speedtest1 makes ~10^5 WASI
 * calls a second) and requests are rare:
 *
 *   AOT thread (publish_barrier)        requester (kiln__aot_interrupt_barrier)
 *     aot_tid = self                      interrupt = 1
 *     compiler barrier only               membarrier(PRIVATE_EXPEDITED)
 *     load interrupt (AOT text)           load aot_tid
 *
 * membarrier returns only after every other running thread of the process
 * has executed a full memory barrier (an IPI; a thread that is not running
 * passes one in the scheduler before it runs again), and the call itself is
 * a full barrier for the requester. Take the point where that barrier hits
 * the AOT thread: if before its store of the id, its later load of the flag
 * comes after the requester's store (which precedes the IPI), so it sees
 * the request; if after its load of the flag, its store of the id precedes
 * the barrier, hence the requester's load after membarrier returns, so the
 * requester sees the id and signals; if in between, the barrier orders the
 * AOT side's store before its load, the classic full-fence Dekker case.
 * (Userspace RCU and the Linux "asymmetric fence" pattern use the same
 * argument.) A compiler barrier is all the AOT side still needs: the store
 * and the load must stay in program order.
 *
 * When membarrier is not usable (kernel without it, ENOSYS, EPERM, a seccomp
 * filter in force: not even probed then, seccomp_maybe_filtered;
 * KILN_AOT_FENCE=full), the AOT side keeps a full fence
 * (MFENCE) after each publication and the requester's seq_cst store and load
 * suffice, as before. The choice is one process-wide word, g_barrier,
 * decided once by kiln__aot_barrier_init() from kiln_store_new(): before
 * any store exists, so before any AOT code runs and before any request can
 * be made (both need a store, which the deciding thread created and handed
 * on). Registration (MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) covers the
 * whole process, threads created later included, and is followed by a probe
 * call on the deciding thread; only then is ASYMMETRIC published, so no
 * thread ever skips the fence while a requester could still be unable to
 * issue the barrier. The word only ever changes once more, from ASYMMETRIC
 * to FULL, when a requester's membarrier fails after all (a seccomp filter
 * installed later, or one on that thread only): publications fence from then
 * on; a publication already made with only the compiler barrier, racing with
 * that very request, is the one case left unguaranteed (the request, which
 * stays set, is then seen at the next host call or entry). kiln's own
 * filters never deny membarrier (docs/aot.md "Seccomp").
 *
 * Memory segment (x86-64, KILN_AOT_F_SEGMEM): objects address memory 0 as
 * gs:offset, so the thread's gs base must be the running instance's
 * memory 0 base whenever AOT code runs. tls_seg mirrors what kiln last set
 * (kiln never reads the register). kiln__aot_enter sets it to the callee's
 * memory and restores the previous value on return; a trap skips that
 * restore and call_slots (instance.c) restores the value it found
 * (kiln__aot_seg_save/restore); generated code calls another instance's
 * native entry directly only when both have the same memory (KX_SAME_MEM),
 * otherwise through rt_call -> kiln__call -> kiln__aot_enter. The base is
 * set with WRGSBASE when the kernel allows it in user space (AT_HWCAP2
 * FSGSBASE, Linux >= 5.9), else with arch_prctl(ARCH_SET_GS);
 * KILN_AOT_SEG=syscall forces the latter (valgrind does not emulate
 * WRGSBASE). Nothing else uses gs on x86-64 Linux (TLS is fs). If the
 * base cannot be set, the call traps instead of running the code with a
 * wrong base. A signal handler that runs AOT code on a thread already in
 * AOT code restores the base when it returns normally.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <asm/prctl.h>
#include <sys/auxv.h>
#endif
#if defined(__linux__)
#include <fcntl.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "wasm/aot/aot_rt.h"
#include "wasm/runtime.h"

#define STACK_MARGIN (256u * 1024u) /* left for host functions and signal frames */

static _Thread_local uintptr_t tls_stack_limit;

/* ---- the publication barrier (see "Interruption" above) ------------------------------------ */

enum { BARRIER_UNDECIDED, BARRIER_ASYMMETRIC, BARRIER_FULL };
static atomic_int g_barrier; /* BARRIER_*: UNDECIDED until the first kiln_store_new */

#if defined(__linux__) && defined(SYS_membarrier)
/* membarrier(cmd) as a raw system call; 0 or -errno, errno preserved
 * (async-signal-safe). */
static long membarrier(int cmd)
{
    int saved = errno;
    long r = syscall(SYS_membarrier, cmd, 0u, 0);
    if (r < 0) r = -errno;
    errno = saved;
    return r;
}

/* Registers this process for private expedited barriers and checks that the
 * command goes through on this thread. 0 or -errno. */
static long membarrier_setup(void)
{
    long r = membarrier(MEMBARRIER_CMD_QUERY);
    if (r < 0) return r;
    if (!(r & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
        !(r & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
        return -ENOSYS;
    if ((r = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) < 0) return r;
    return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}
#else
static long membarrier(int cmd)
{
    (void)cmd;
    return -ENOSYS;
}
static long membarrier_setup(void)
{
    return -ENOSYS;
}
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED 0
#endif

/* Whether this thread may run under a seccomp filter: the "Seccomp:" line
 * of /proc/self/status is not 0, or cannot be read (no /proc in a bare
 * root filesystem). Under a filter, even probing membarrier is not safe: a
 * profile whose default action kills (SCMP_ACT_KILL) and that does not list
 * it would end the process at the probe. */
#if defined(__linux__)
static bool seccomp_maybe_filtered(void)
{
    char buf[4096];
    const char *p;
    ssize_t n;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return true;
    buf[n] = '\0';
    p = strstr(buf, "\nSeccomp:");
    if (!p) return true;
    p += strlen("\nSeccomp:");
    while (*p == ' ' || *p == '\t') p++;
    return *p != '0';
}
#else
static bool seccomp_maybe_filtered(void)
{
    return true;
}
#endif

/* Decides g_barrier once (see runtime.h). Racing first callers agree on one
 * value (compare-and-swap); whichever wins, its registration happened before
 * its value became visible. The asymmetric barrier only where no seccomp
 * filter can be in force (a container's profile could kill the probe):
 * elsewhere the fence, which costs ≈ 0.5% of speedtest1. */
void kiln__aot_barrier_init(void)
{
    const char *e;
    int want = BARRIER_FULL, expect = BARRIER_UNDECIDED;
    if (atomic_load_explicit(&g_barrier, memory_order_acquire) != BARRIER_UNDECIDED) return;
    e = getenv("KILN_AOT_FENCE");
    if (!(e && strcmp(e, "full") == 0) && !seccomp_maybe_filtered() && membarrier_setup() == 0)
        want = BARRIER_ASYMMETRIC;
    atomic_compare_exchange_strong(&g_barrier, &expect, want);
}

/* Whether publications skip the fence (see runtime.h). */
bool kiln__aot_barrier_asymmetric(void)
{
    return atomic_load_explicit(&g_barrier, memory_order_acquire) == BARRIER_ASYMMETRIC;
}

/* The requester's barrier (see runtime.h). */
int kiln__aot_interrupt_barrier(void)
{
    long r;
    if (atomic_load_explicit(&g_barrier, memory_order_acquire) != BARRIER_ASYMMETRIC) return 0;
    r = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
    if (r >= 0) return 0;
    /* publications fence from now on (the only change after the decision) */
    atomic_store_explicit(&g_barrier, BARRIER_FULL, memory_order_seq_cst);
    return (int)r;
}

/* The AOT side's barrier between its store of store->aot_tid and the load
 * of store->interrupt that follows in AOT text. g_barrier was decided when
 * the store was created, which happened before this thread could use it. */
static inline void publish_barrier(void)
{
    if (atomic_load_explicit(&g_barrier, memory_order_relaxed) == BARRIER_ASYMMETRIC)
        atomic_signal_fence(memory_order_seq_cst); /* the requester's membarrier does the rest */
    else
        atomic_thread_fence(memory_order_seq_cst);
}

/* Publishes tid as the store's AOT thread (see runtime.h). */
void kiln__aot_tid_publish(struct kiln_store *s, int tid)
{
    atomic_store_explicit(&s->aot_tid, tid, memory_order_relaxed);
    publish_barrier();
}

static uintptr_t stack_limit(void)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;
    if (tls_stack_limit) return tls_stack_limit;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        if (pthread_attr_getstack(&a, &addr, &size) != 0) addr = NULL;
        pthread_attr_destroy(&a);
    }
    if (addr && size > 2 * STACK_MARGIN)
        tls_stack_limit = (uintptr_t)addr + STACK_MARGIN;
    else if (addr && size) /* a small stack: keep half of it for host code */
        tls_stack_limit = (uintptr_t)addr + size / 2;
    else /* unknown bounds: allow 1 MiB below the current frame */
        tls_stack_limit = (uintptr_t)__builtin_frame_address(0) - (1u << 20);
    return tls_stack_limit;
}

#if defined(__x86_64__)
static _Thread_local uintptr_t tls_seg; /* gs base kiln last set on this thread */
static int g_seg_mode;                  /* 0 not yet known, 1 WRGSBASE, 2 arch_prctl */

static int seg_mode(void)
{
    int m = __atomic_load_n(&g_seg_mode, __ATOMIC_RELAXED);
    if (!m) {
        const char *e = getenv("KILN_AOT_SEG");
        bool fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0; /* HWCAP2_FSGSBASE */
        m = fsgsbase && !(e && strcmp(e, "syscall") == 0) ? 1 : 2;
        __atomic_store_n(&g_seg_mode, m, __ATOMIC_RELAXED);
    }
    return m;
}

/* Sets the thread's gs base; 0 or -errno. */
static int seg_set(uintptr_t base)
{
    if (seg_mode() == 1) __asm__ volatile("wrgsbase %0" ::"r"(base) : "memory");
    else if (syscall(SYS_arch_prctl, ARCH_SET_GS, base) != 0) return -errno;
    tls_seg = base;
    return 0;
}

/* Whether this process can set the gs base (see aot.c: objects with
 * KILN_AOT_F_SEGMEM are refused otherwise). */
bool kiln__aot_seg_usable(void)
{
    unsigned long cur = 0;
    return seg_mode() == 1 || syscall(SYS_arch_prctl, ARCH_GET_GS, &cur) == 0;
}

uintptr_t kiln__aot_seg_save(void)
{
    return tls_seg;
}

void kiln__aot_seg_restore(uintptr_t saved)
{
    if (saved && saved != tls_seg) (void)seg_set(saved);
}
#else
bool kiln__aot_seg_usable(void)
{
    return true;
}
uintptr_t kiln__aot_seg_save(void)
{
    return 0;
}
void kiln__aot_seg_restore(uintptr_t saved)
{
    (void)saved;
}
#endif

static __attribute__((noreturn)) void rt_trap(struct kiln__exec *ex, int kind, uint32_t arg)
{
    struct kiln_trap *t = ex->trap;
    if (t) {
        t->kind = kind;
        if ((kind == KILN_TRAP_UNDEFINED_ELEMENT || kind == KILN_TRAP_UNINIT_ELEMENT) &&
            arg != UINT32_MAX)
            snprintf(t->msg, sizeof t->msg, "%s %u", kiln_trap_message(kind), arg);
        else
            snprintf(t->msg, sizeof t->msg, "%s", kiln_trap_message(kind));
    }
    ex->trap_kind = kind;
    siglongjmp(ex->trap_jmp, 1);
}

static void rt_call(struct kiln__exec *ex, struct kiln_instance *caller, struct kiln_func *f,
                    const uint64_t *args, uint64_t *res)
{
    struct kiln_store *s = ex->store;
    int rc, tid = atomic_load_explicit(&s->aot_tid, memory_order_relaxed);
    ex->inst = caller;
    if (tid) atomic_store_explicit(&s->aot_tid, 0, memory_order_relaxed);
    rc = kiln__call(ex, f, args, res);
    if (tid) {
        /* republish, then the caller checks the flag (KX_AFTER_HOST) */
        atomic_store_explicit(&s->aot_tid, tid, memory_order_relaxed);
        publish_barrier();
    }
    ex->inst = caller;
    if (rc != 0) {
        if (ex->trap && (ex->trap->kind != rc || !ex->trap->msg[0])) {
            ex->trap->kind = rc;
            snprintf(ex->trap->msg, sizeof ex->trap->msg, "%s", kiln_trap_message(rc));
        }
        ex->trap_kind = rc;
        siglongjmp(ex->trap_jmp, 1);
    }
}

/* Grows a table by n elements set to init; returns the old size or -1
 * (same rule as the interpreter's table.grow). */
static int64_t rt_table_grow(struct kiln_table *t, uint32_t n, void *init)
{
    uint32_t old = t->size;
    if ((uint64_t)old + n > t->max) return -1;
    if (old + n > t->cap) {
        uint64_t ncap = (uint64_t)t->cap * 2;
        void **ne;
        if (ncap < (uint64_t)old + n) ncap = (uint64_t)old + n;
        if (ncap > t->max) ncap = t->max;
        ne = realloc(t->elems, (size_t)(ncap ? ncap : 1) * sizeof *ne);
        if (!ne) return -1;
        t->elems = ne;
        t->cap = (uint32_t)ncap;
    }
    for (uint32_t i = 0; i < n; i++) t->elems[old + i] = init;
    t->size = old + n;
    return old;
}

/* Host C library for long operations of AOT code (struct kiln_aot_rt,
 * ABI 7): glibc's run-time selected variants. They run outside AOT text,
 * where the interrupt signal is deferred rather than trapping (a request
 * that arrives during a long copy leaves SIGURG blocked in the code's
 * context), so each returns into the object through the check that
 * KX_AFTER_RT makes after the other callbacks: a pending request of the
 * running store traps here. The exec is the thread's innermost one, whose
 * code called us. */
static inline void rt_after_libc(void)
{
    struct kiln__exec *ex = kiln__current_exec;
    if (__builtin_expect(ex != NULL && atomic_load_explicit(&ex->store->interrupt,
                                                            memory_order_relaxed) != 0,
                         0))
        rt_trap(ex, KILN_TRAP_INTERRUPTED, UINT32_MAX);
}

static void *rt_memcpy(void *restrict d, const void *restrict s, size_t n)
{
    memcpy(d, s, n);
    rt_after_libc();
    return d;
}

static void *rt_memmove(void *d, const void *s, size_t n)
{
    memmove(d, s, n);
    rt_after_libc();
    return d;
}

static void *rt_memset(void *d, int c, size_t n)
{
    memset(d, c, n);
    rt_after_libc();
    return d;
}

static void *rt_memchr(const void *s, int c, size_t n)
{
    void *p = memchr(s, c, n);
    rt_after_libc();
    return p;
}

const struct kiln_aot_rt kiln__aot_rt = {
    .abi = KILN_AOT_ABI,
    .trap = rt_trap,
    .call = rt_call,
    .memory_grow = kiln__memory_grow,
    .table_grow = rt_table_grow,
    .host_memcpy = rt_memcpy,
    .host_memmove = rt_memmove,
    .host_memset = rt_memset,
    .host_memchr = rt_memchr,
};

/* Runs f's native code (see runtime.h). Returns 0; traps siglongjmp. */
int kiln__aot_enter(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args,
                    uint64_t *res)
{
    struct kiln_store *s = ex->store;
    int self = kiln__thread_id();
    int prev = atomic_load_explicit(&s->aot_tid, memory_order_relaxed);
    int rc;
#if defined(__x86_64__)
    uintptr_t want = (uintptr_t)f->inst->mem0_base, had = tls_seg;
    bool switched = false;
    if (want && want != had) {
        /* memory 0 for gs-relative code (a module without memory touches none) */
        int e = seg_set(want);
        if (e < 0) {
            if (ex->trap) {
                ex->trap->kind = KILN_TRAP_HOST;
                snprintf(ex->trap->msg, sizeof ex->trap->msg,
                         "cannot set the gs base for AOT code: %s", strerror(-e));
            }
            ex->trap_kind = KILN_TRAP_HOST;
            siglongjmp(ex->trap_jmp, 1);
        }
        switched = true;
    }
#endif
    if (!ex->aot_stack_limit) ex->aot_stack_limit = stack_limit();
    /* the code reads the limit from its instance (ABI 5; KX_SAME_MEM copies
     * it into another instance it calls directly) */
    f->inst->aot_stack_limit = ex->aot_stack_limit;
    if (prev != self) {
        /* publish, then the trampoline checks the flag (KX_TRAMP_CHECK) */
        atomic_store_explicit(&s->aot_tid, self, memory_order_relaxed);
        publish_barrier();
    }
    rc = f->aot->tramp(ex, f->inst, args, res);
    if (prev != self) atomic_store_explicit(&s->aot_tid, prev, memory_order_relaxed);
#if defined(__x86_64__)
    if (switched && had) (void)seg_set(had); /* it was settable a moment ago */
#endif
    return rc;
}

/* Host-function pointer of AOT functions; only reached by a caller that
 * bypasses kiln__call(). Reports a host trap. */
int kiln__aot_host_shim(struct kiln_caller *caller, const uint64_t *args, uint64_t *res,
                        void *env)
{
    (void)args;
    (void)res;
    (void)env;
    return kiln_caller_trap(caller, KILN_TRAP_HOST, 0, "AOT function called outside kiln__call");
}
