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
 */
#ifndef KILN_PLATFORM_LINUX_VMEM_H
#define KILN_PLATFORM_LINUX_VMEM_H

#include <stddef.h>

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

#endif
