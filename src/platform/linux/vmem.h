/*
 * vmem.h — the Linux layer for virtual memory and fault signals.
 *
 * Reservations are address-space ranges mapped PROT_NONE; parts of them are
 * later made readable and writable in place. Nothing here ever creates
 * executable memory. Functions return 0 or -errno (never print).
 *
 * Fault hook: one process-wide SIGSEGV/SIGBUS handler calls the registered
 * hook with the faulting address. The hook either leaves the handler with
 * siglongjmp (the fault was expected) or returns; then the handler restores
 * the action that was installed before it and returns, so the faulting
 * instruction runs again under the previous action (normally: a crash with
 * the usual core dump / sanitizer report).
 *
 * Interrupt signal (KILN_PLATFORM_INTERRUPT_SIGNAL, SIGURG: ignored by
 * default, so a stray one is harmless): one process-wide handler calls the
 * registered hook with the program counter the thread was interrupted at;
 * the hook leaves with siglongjmp (it stopped guest code) or returns. It is
 * how kiln_store_interrupt() stops AOT code that has no polls.
 */
#ifndef KILN_PLATFORM_LINUX_VMEM_H
#define KILN_PLATFORM_LINUX_VMEM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* The system page size in bytes. */
size_t kiln_platform_page_size(void);

/* Reserves len bytes of inaccessible address space (no swap reservation).
 * On success stores the base in *out and returns 0; else -errno. */
int kiln_platform_vm_reserve(size_t len, void **out);

/* Makes [p, p+len) readable and writable (never executable). p and len must
 * be page-aligned and inside a reservation. Returns 0 or -errno. */
int kiln_platform_vm_commit(void *p, size_t len);

/* Releases a reservation made by kiln_platform_vm_reserve (NULL is a no-op).
 * Returns 0 or -errno. */
int kiln_platform_vm_release(void *p, size_t len);

/* Called in signal context with the faulting address. Must be
 * async-signal-safe. */
typedef void (*kiln_platform_fault_fn)(void *addr);

/* Makes the SIGSEGV/SIGBUS handler (SA_SIGINFO | SA_ONSTACK | SA_NODEFER)
 * with `hook` the current action, unless it already is (so a handler that
 * someone installed over ours is chained behind it again: two sigaction
 * queries per call), and gives the calling thread an alternate signal stack
 * (once per thread; an existing one is kept). Thread-safe. Returns 0 or
 * -errno. */
int kiln_platform_fault_install(kiln_platform_fault_fn hook);

/* Cheap per-call check: 0 when the handler has been installed in this
 * process (by kiln_platform_fault_install) and the calling thread has its
 * alternate signal stack (given here on the thread's first call); else
 * -errno. It cannot notice that someone replaced the handler since; callers
 * re-run kiln_platform_fault_install() at coarser points (store creation). */
int kiln_platform_fault_ready(void);

/* ---- interrupt signal ---------------------------------------------------------- */

#define KILN_PLATFORM_INTERRUPT_SIGNAL SIGURG

/* What the hook says about an interrupt signal it returns from. */
enum {
    KILN_PLATFORM_INTERRUPT_IGNORE = 0, /* not for this thread: pass it on */
    /* For this thread, which cannot stop where it is (it runs kiln code, or
     * a signal handler that interrupted guest code): the signal is blocked
     * in the interrupted context's mask and sent again, so it arrives when
     * that context's own signal frame returns (or at
     * kiln_platform_interrupt_settle) */
    KILN_PLATFORM_INTERRUPT_LATER = 1,
};

/* Called in signal context with the interrupted program counter. Must be
 * async-signal-safe; may leave with siglongjmp (it stopped guest code), or
 * returns KILN_PLATFORM_INTERRUPT_*. */
typedef int (*kiln_platform_interrupt_fn)(uintptr_t pc);

/* Makes the interrupt signal's handler (SA_SIGINFO | SA_ONSTACK |
 * SA_NODEFER | SA_RESTART: a siglongjmp out of it leaves the signal
 * unblocked, and system calls it interrupts in host code restart where the
 * kernel allows) with `hook` the current action, unless it already is. A
 * signal the hook returns from is passed to the handler that was installed
 * before our first install, if there was one (not to one installed over
 * ours later: it may chain back to ours). Thread-safe. Returns 0 or
 * -errno. */
int kiln_platform_interrupt_install(kiln_platform_interrupt_fn hook);

/* The calling thread's kernel thread id, cached per thread (a fork child's
 * cache is reset). Async-signal-safe. */
int kiln_platform_thread_id(void);

/* Sends the interrupt signal to thread tid of this process (tgkill). When
 * tid is the calling thread — a signal handler running on the thread it
 * interrupted — the signal is first blocked in the current mask, so that it
 * is delivered when that handler returns (sigreturn restores the
 * interrupted mask) with the interrupted program counter, instead of at
 * once inside the handler. Only call it that way from a signal handler
 * that returns normally. Async-signal-safe; errno is preserved. */
void kiln_platform_interrupt_send(int tid);

/* Unblocks the interrupt signal on the calling thread if kiln blocked it
 * for a later delivery (KILN_PLATFORM_INTERRUPT_LATER, or a send to itself)
 * and nothing has unblocked it since; a pending one is delivered now. Call
 * when guest code has finished on this thread, outside signal handlers. One
 * thread-local test when there is nothing to do. */
void kiln_platform_interrupt_settle(void);

#endif
