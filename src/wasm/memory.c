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
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "platform/linux/vmem.h"
#include "wasm/runtime.h"

#define KILN__MEM_RESERVE (((size_t)8 << 30) + KILN_WASM_PAGE_SIZE)
#define REGISTRY_SLOTS 16384 /* 128 TiB of address space / 8 GiB */

_Thread_local struct kiln__exec *kiln__current_exec;

static struct {
    _Atomic(uintptr_t) base; /* 0 = free slot */
    _Atomic(size_t) len;
} registry[REGISTRY_SLOTS];
static atomic_uint registry_high; /* slots [0, high) may be in use */

static int registry_add(void *base, size_t len)
{
    unsigned i;
    for (i = 0; i < REGISTRY_SLOTS; i++) {
        uintptr_t expect = 0;
        if (atomic_compare_exchange_strong(&registry[i].base, &expect, (uintptr_t)1)) {
            unsigned high = atomic_load(&registry_high);
            atomic_store(&registry[i].len, len);
            atomic_store(&registry[i].base, (uintptr_t)base);
            while (high < i + 1 && !atomic_compare_exchange_weak(&registry_high, &high, i + 1)) {
            }
            return 0;
        }
    }
    return -ENOMEM;
}

static void registry_remove(void *base)
{
    unsigned i, high = atomic_load(&registry_high);
    for (i = 0; i < high; i++)
        if (atomic_load(&registry[i].base) == (uintptr_t)base) {
            atomic_store(&registry[i].len, 0);
            atomic_store(&registry[i].base, 0);
            return;
        }
}

static bool registry_contains(uintptr_t addr)
{
    unsigned i, high = atomic_load(&registry_high);
    for (i = 0; i < high; i++) {
        uintptr_t b = atomic_load(&registry[i].base);
        if (b > 1 && addr >= b && addr - b < atomic_load(&registry[i].len)) return true;
    }
    return false;
}

/* The platform fault hook (signal context). */
static void on_fault(void *addr)
{
    struct kiln__exec *ex = kiln__current_exec;
    if (!ex || !registry_contains((uintptr_t)addr)) return;
    ex->trap_kind = KILN_TRAP_MEMORY_OOB;
    siglongjmp(ex->trap_jmp, 1);
}

/* Installs the fault handler and this thread's alternate stack (see
 * runtime.h). Returns 0 or -errno. */
int kiln__trap_handler_install(void)
{
    return kiln_platform_fault_install(on_fault);
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
