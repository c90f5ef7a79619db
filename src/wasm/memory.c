/*
 * memory.c — linear memories as reserved address ranges, and the fault
 * handler that turns out-of-bounds accesses into traps.
 *
 * Every memory reserves KILN__MEM_RESERVE bytes (8 GiB + 64 KiB) of
 * inaccessible address space. The first pages * 64 KiB are readable and
 * writable (never executable); memory.grow makes more of them accessible in
 * place, so the base never moves. Any wasm32 access base + u32 address + u32
 * offset (+ up to 16 bytes) lands inside the reservation, so the interpreter
 * needs no bounds check: an access past the accessible part faults.
 *
 * Fault → trap: live reservations are listed in a fixed, lock-free registry
 * (slots of atomic base/length). The SIGSEGV/SIGBUS hook checks whether the
 * faulting address lies in a registered range and whether this thread is
 * running guest code (kiln__current_exec != NULL); if so it records
 * KILN_TRAP_MEMORY_OOB and siglongjmps to exec->trap_jmp. Otherwise it
 * returns and the platform layer lets the fault crash the process as usual.
 *
 * Interrupt signal → trap (AOT code without polls, docs/aot.md
 * "Interruption"): the text ranges of loaded unmetered AOT objects are
 * listed in a second registry of the same kind (filled by the loader,
 * aot/aot.c). kiln_store_interrupt() sends the interrupt signal to the
 * thread running the store's AOT code (store->aot_tid); the hook traps with
 * KILN_TRAP_INTERRUPTED exactly like a fault when this thread runs guest
 * code (kiln__current_exec), that exec's store has the request set and the
 * interrupted PC lies in a registered text range. Otherwise it returns: the
 * thread is in kiln code, which returns into AOT code through a check of
 * the flag (trampolines, after runtime callbacks), or in host code, or in a
 * signal handler that interrupted AOT code (then the signal is re-sent for
 * when that handler returns: KILN_PLATFORM_INTERRUPT_LATER).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "platform/linux/vmem.h"
#include "wasm/runtime.h"

#define KILN__MEM_RESERVE (((size_t)8 << 30) + KILN_WASM_PAGE_SIZE)
#define REGISTRY_SLOTS 16384 /* 128 TiB of address space / 8 GiB */
#define TEXT_SLOTS 4096      /* executable segments of loaded AOT objects (one each) */

_Thread_local struct kiln__exec *kiln__current_exec;

/* A lock-free list of [base, base+len) ranges; readable in signal context. */
struct range {
    _Atomic(uintptr_t) base; /* 0 = free slot, 1 = being filled */
    _Atomic(size_t) len;
};

static struct range registry[REGISTRY_SLOTS];  /* linear memory reservations */
static atomic_uint registry_high;              /* slots [0, high) may be in use */
static struct range text_registry[TEXT_SLOTS]; /* text of unmetered AOT objects */
static atomic_uint text_high;

static int ranges_add(struct range *r, unsigned nslots, atomic_uint *high_p, uintptr_t base,
                      size_t len)
{
    unsigned i;
    for (i = 0; i < nslots; i++) {
        uintptr_t expect = 0;
        if (atomic_compare_exchange_strong(&r[i].base, &expect, (uintptr_t)1)) {
            unsigned high = atomic_load(high_p);
            atomic_store(&r[i].len, len);
            atomic_store(&r[i].base, base);
            while (high < i + 1 && !atomic_compare_exchange_weak(high_p, &high, i + 1)) {
            }
            return 0;
        }
    }
    return -ENOMEM;
}

static void ranges_remove(struct range *r, atomic_uint *high_p, uintptr_t base)
{
    unsigned i, high = atomic_load(high_p);
    for (i = 0; i < high; i++)
        if (atomic_load(&r[i].base) == base) {
            atomic_store(&r[i].len, 0);
            atomic_store(&r[i].base, 0);
            return;
        }
}

static bool ranges_contain(struct range *r, atomic_uint *high_p, uintptr_t addr)
{
    unsigned i, high = atomic_load(high_p);
    for (i = 0; i < high; i++) {
        uintptr_t b = atomic_load(&r[i].base);
        if (b > 1 && addr >= b && addr - b < atomic_load(&r[i].len)) return true;
    }
    return false;
}

static int registry_add(void *base, size_t len)
{
    return ranges_add(registry, REGISTRY_SLOTS, &registry_high, (uintptr_t)base, len);
}

static void registry_remove(void *base)
{
    ranges_remove(registry, &registry_high, (uintptr_t)base);
}

/* Registers AOT text where the interrupt signal traps (see runtime.h).
 * Returns 0, -EINVAL or -ENOMEM. */
int kiln__aot_text_add(uintptr_t start, size_t len)
{
    if (start <= 1 || !len) return -EINVAL;
    return ranges_add(text_registry, TEXT_SLOTS, &text_high, start, len);
}

/* Unregisters the range starting at start (see runtime.h). */
void kiln__aot_text_remove(uintptr_t start)
{
    ranges_remove(text_registry, &text_high, start);
}

/* The platform fault hook (signal context). */
static void on_fault(void *addr)
{
    struct kiln__exec *ex = kiln__current_exec;
    if (!ex || !ranges_contain(registry, &registry_high, (uintptr_t)addr)) return;
    ex->trap_kind = KILN_TRAP_MEMORY_OOB;
    siglongjmp(ex->trap_jmp, 1);
}

/* The platform interrupt-signal hook (signal context): pc is where the
 * thread was. In AOT text: trap (run_guarded() in instance.c fills the
 * interpreter's message). Elsewhere, while this thread is the store's AOT
 * thread (not in a host call): it runs kiln code on its way back into AOT
 * code, which checks the flag there, or a signal handler that interrupted
 * AOT code and does not itself request the interrupt — then the signal must
 * come again when that handler returns: LATER. */
static int on_interrupt(uintptr_t pc)
{
    struct kiln__exec *ex = kiln__current_exec;
    if (!ex || atomic_load_explicit(&ex->store->interrupt, memory_order_relaxed) == 0)
        return KILN_PLATFORM_INTERRUPT_IGNORE;
    if (ranges_contain(text_registry, &text_high, pc)) {
        ex->trap_kind = KILN_TRAP_INTERRUPTED;
        siglongjmp(ex->trap_jmp, 1);
    }
    if (atomic_load_explicit(&ex->store->aot_tid, memory_order_relaxed) ==
        kiln_platform_thread_id())
        return KILN_PLATFORM_INTERRUPT_LATER;
    return KILN_PLATFORM_INTERRUPT_IGNORE;
}

/* Installs the fault and interrupt-signal handlers and this thread's
 * alternate stack (see runtime.h). Returns 0 or -errno. */
int kiln__trap_handler_install(void)
{
    int rc = kiln_platform_interrupt_install(on_interrupt);
    if (rc < 0) return rc;
    return kiln_platform_fault_install(on_fault);
}

/* Stops the AOT code of a store on thread tid (see runtime.h). */
void kiln__aot_interrupt_send(int tid)
{
    kiln_platform_interrupt_send(tid);
}

/* Undoes a deferral of the interrupt signal on this thread (see runtime.h). */
void kiln__aot_interrupt_settle(void)
{
    kiln_platform_interrupt_settle();
}

/* This thread's id, as recorded in kiln_store.aot_tid (see runtime.h). */
int kiln__thread_id(void)
{
    return kiln_platform_thread_id();
}

/* Reserves and registers the range for mem (see runtime.h). On failure mem
 * is left without a mapping (base NULL). Returns 0 or -errno. */
int kiln__memory_init(struct kiln_memory *mem, uint32_t pages, uint32_t max_pages)
{
    void *base = NULL;
    int rc;
    mem->base = NULL;
    mem->size = 0;
    mem->pages = 0;
    mem->reserved = 0;
    if (pages > max_pages || max_pages > KILN__MAX_PAGES) return -EINVAL;
    rc = kiln_platform_vm_reserve(KILN__MEM_RESERVE, &base);
    if (rc < 0) return rc;
    rc = kiln_platform_vm_commit(base, (size_t)pages * KILN_WASM_PAGE_SIZE);
    if (rc < 0) goto fail;
    rc = registry_add(base, KILN__MEM_RESERVE);
    if (rc < 0) goto fail;
    mem->base = base;
    mem->pages = pages;
    mem->size = (uint64_t)pages * KILN_WASM_PAGE_SIZE;
    mem->max_pages = max_pages;
    mem->reserved = KILN__MEM_RESERVE;
    return 0;
fail:
    kiln_platform_vm_release(base, KILN__MEM_RESERVE);
    return rc;
}

/* Grows mem by delta pages in place; returns the old size in pages, or -1
 * when the result would pass max_pages or the system refuses. */
int64_t kiln__memory_grow(struct kiln_memory *mem, uint32_t delta)
{
    uint32_t old = mem->pages;
    uint64_t want = (uint64_t)old + delta;
    if (want > mem->max_pages || !mem->base) return -1;
    if (delta == 0) return old;
    if (kiln_platform_vm_commit(mem->base + mem->size, (size_t)delta * KILN_WASM_PAGE_SIZE) < 0)
        return -1;
    mem->pages = (uint32_t)want;
    mem->size = want * KILN_WASM_PAGE_SIZE;
    return old;
}

/* Unregisters and unmaps mem's range (no-op if it has none). */
void kiln__memory_release(struct kiln_memory *mem)
{
    if (!mem->base) return;
    registry_remove(mem->base);
    kiln_platform_vm_release(mem->base, mem->reserved);
    mem->base = NULL;
    mem->size = 0;
    mem->pages = 0;
}

/* ---- public accessors (kiln/wasm.h) -------------------------------------- */

/* Base of the memory; stable until the store is freed. */
uint8_t *kiln_memory_data(const struct kiln_memory *mem)
{
    return mem->base;
}

/* Current size in bytes. */
uint64_t kiln_memory_size(const struct kiln_memory *mem)
{
    return mem->size;
}

/* Grows by delta pages; old size in pages, or -1. */
int64_t kiln_memory_grow(struct kiln_memory *mem, uint32_t delta)
{
    return kiln__memory_grow(mem, delta);
}

/* The memory's type: current size as minimum, declared maximum. */
void kiln_memory_limits(const struct kiln_memory *mem, struct kiln_limits *out)
{
    out->min = mem->pages;
    out->max = mem->limits.max;
    out->has_max = mem->limits.has_max;
}
