/*
 * vmem.c — Linux virtual memory reservations and the fault signal handler
 * (see vmem.h).
 *
 * Invariants: no mapping made here is ever executable. Whenever our handler
 * is (re)installed, the action it replaces is saved; a fault that is not ours
 * restores that action and re-executes, so it behaves as if we were absent.
 * The interrupt signal's handler likewise passes a signal that is not ours
 * to the handler it replaced (the default action of SIGURG is to ignore it).
 */
#include "platform/linux/vmem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* See vmem.h. */
size_t kiln_platform_page_size(void)
{
    long n = sysconf(_SC_PAGESIZE);
    return n > 0 ? (size_t)n : 4096u;
}

/* See vmem.h: mmap PROT_NONE, MAP_NORESERVE. */
int kiln_platform_vm_reserve(size_t len, void **out)
{
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
}

/* See vmem.h: mprotect RW, never PROT_EXEC. */
int kiln_platform_vm_commit(void *p, size_t len)
{
    if (len == 0) return 0;
    if (mprotect(p, len, PROT_READ | PROT_WRITE) != 0) return -errno;
    return 0;
}

/* See vmem.h: munmap. */
int kiln_platform_vm_release(void *p, size_t len)
{
    if (!p) return 0;
    if (munmap(p, len) != 0) return -errno;
    return 0;
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_result;
static _Atomic(kiln_platform_fault_fn) fault_hook;
static struct sigaction prev_segv, prev_bus;
static _Thread_local void *altstack_mem; /* ours, or (void *)1 if foreign */
static pthread_key_t altstack_key;

/* Thread exit: drop and free the alternate stack we gave the thread. */
static void altstack_free(void *mem)
{
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    free(mem);
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
    kiln_platform_fault_fn hook = atomic_load(&fault_hook);
    (void)uc;
    if (hook) hook(si->si_addr); /* siglongjmps away when the fault is expected */
    /* Not ours: put the previous action back; returning re-executes the
     * faulting instruction under it. */
    sigaction(sig, sig == SIGBUS ? &prev_bus : &prev_segv, NULL);
}

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int installed; /* our handler was installed at least once */

static void init_key(void)
{
    if (pthread_key_create(&altstack_key, altstack_free) != 0) install_result = -EAGAIN;
}

/* (Re)installs our handler for sig unless it is already the current action;
 * another component (a test framework, a runtime) may have replaced it. */
static int install_sig(int sig, struct sigaction *prev)
{
    struct sigaction cur, sa;
    if (sigaction(sig, NULL, &cur) != 0) return -errno;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == fault_handler) return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, prev) != 0) return -errno;
    return 0;
}

/* Gives the calling thread an alternate signal stack unless it has one, so a
 * fault on an exhausted native stack can still be handled. The stack is
 * freed by the thread-exit destructor of altstack_key. */
static int altstack_install(void)
{
    stack_t cur, ss;
    size_t size = 64 * 1024;
    if (altstack_mem) return 0;
    if (sigaltstack(NULL, &cur) != 0) return -errno;
    if (!(cur.ss_flags & SS_DISABLE)) {
        altstack_mem = (void *)1;
        return 0;
    }
    ss.ss_sp = malloc(size);
    if (!ss.ss_sp) return -ENOMEM;
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0) {
        int e = errno;
        free(ss.ss_sp);
        return -e;
    }
    altstack_mem = ss.ss_sp;
    pthread_setspecific(altstack_key, ss.ss_sp);
    return 0;
}

/* See vmem.h. */
int kiln_platform_fault_install(kiln_platform_fault_fn hook)
{
    int rc;
    atomic_store(&fault_hook, hook);
    pthread_once(&install_once, init_key);
    if (install_result) return install_result;
    pthread_mutex_lock(&install_lock);
    rc = install_sig(SIGSEGV, &prev_segv);
    if (rc == 0) rc = install_sig(SIGBUS, &prev_bus);
    pthread_mutex_unlock(&install_lock);
    if (rc < 0) return rc;
    atomic_store(&installed, 1);
    return altstack_install();
}

/* ---- interrupt signal ------------------------------------------------------------ */

static _Atomic(kiln_platform_interrupt_fn) interrupt_hook;
static struct sigaction prev_interrupt; /* the action before our first install */
static int interrupt_installed_once;    /* under install_lock */
static _Thread_local int tls_tid;
static _Thread_local volatile sig_atomic_t tls_deferred; /* we blocked the signal: settle */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork child: the surviving thread has a new id */
static void tid_reset(void)
{
    tls_tid = 0;
}

static void atfork_init(void)
{
    pthread_atfork(NULL, NULL, tid_reset);
}

static uintptr_t interrupted_pc(const void *ucv)
{
    const ucontext_t *uc = ucv;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

/* Blocks the signal in the current mask (so the tgkill below stays
 * pending) and notes it for kiln_platform_interrupt_settle. */
static void block_for_later(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    tls_deferred = 1;
}

static void interrupt_handler(int sig, siginfo_t *si, void *uc)
{
    kiln_platform_interrupt_fn hook = atomic_load(&interrupt_hook);
    /* siglongjmps away when it stopped guest code */
    int r = hook ? hook(interrupted_pc(uc)) : KILN_PLATFORM_INTERRUPT_IGNORE;
    if (r == KILN_PLATFORM_INTERRUPT_LATER) {
        int saved = errno;
        /* pending, and blocked until the interrupted context's own frame
         * returns (its mask is restored then) or until settle */
        sigaddset(&((ucontext_t *)uc)->uc_sigmask, sig);
        block_for_later(sig);
        syscall(SYS_tgkill, (int)getpid(), (int)syscall(SYS_gettid), sig);
        errno = saved;
        return;
    }
    /* not ours: the handler we replaced, if any */
    if (prev_interrupt.sa_flags & SA_SIGINFO) {
        if (prev_interrupt.sa_sigaction) prev_interrupt.sa_sigaction(sig, si, uc);
    } else if (prev_interrupt.sa_handler != SIG_DFL && prev_interrupt.sa_handler != SIG_IGN) {
        prev_interrupt.sa_handler(sig);
    }
}

/* See vmem.h. */
int kiln_platform_interrupt_install(kiln_platform_interrupt_fn hook)
{
    const int sig = KILN_PLATFORM_INTERRUPT_SIGNAL;
    struct sigaction cur, sa;
    int rc = 0;
    atomic_store(&interrupt_hook, hook);
    pthread_once(&atfork_once, atfork_init);
    pthread_mutex_lock(&install_lock);
    if (sigaction(sig, NULL, &cur) != 0) {
        rc = -errno;
    } else if (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == interrupt_handler)) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = interrupt_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        /* chain only to what was there first: a handler installed over ours
         * later may itself chain back to ours (a loop) */
        if (sigaction(sig, &sa, interrupt_installed_once ? NULL : &prev_interrupt) != 0)
            rc = -errno;
        else
            interrupt_installed_once = 1;
    }
    pthread_mutex_unlock(&install_lock);
    return rc;
}

/* See vmem.h. */
int kiln_platform_thread_id(void)
{
    if (!tls_tid) tls_tid = (int)syscall(SYS_gettid);
    return tls_tid;
}

/* See vmem.h. */
void kiln_platform_interrupt_send(int tid)
{
    int saved = errno;
    if (tid <= 0) return;
    if (tid == (int)syscall(SYS_gettid)) block_for_later(KILN_PLATFORM_INTERRUPT_SIGNAL);
    syscall(SYS_tgkill, (int)getpid(), tid, KILN_PLATFORM_INTERRUPT_SIGNAL);
    errno = saved;
}

/* See vmem.h. */
void kiln_platform_interrupt_settle(void)
{
    sigset_t set;
    if (!tls_deferred) return;
    tls_deferred = 0;
    sigemptyset(&set);
    sigaddset(&set, KILN_PLATFORM_INTERRUPT_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* See vmem.h. */
int kiln_platform_fault_ready(void)
{
    if (!atomic_load_explicit(&installed, memory_order_acquire)) return -EAGAIN;
    return altstack_install();
}
