/*
 * aot_gen.h — included first by every generated C file (kiln compile
 * writes it, with aot_rt.h and the engine headers it needs, into the
 * compiler's include directory). Macros the translator's output relies on:
 * the names ex (struct kiln__exec *), inst (struct kiln_instance *) and mem
 * (linear memory 0 base) are in scope in every generated function.
 */
#ifndef KILN_WASM_AOT_GEN_H
#define KILN_WASM_AOT_GEN_H

#include "wasm/aot/aot_rt.h"

#define KX_HIDDEN __attribute__((visibility("hidden")))
typedef void *kx_ref;

extern KX_HIDDEN const struct kiln_aot_rt *kx_rt;

#define KX_TRAP(kind, arg) kx_rt->trap(ex, (kind), (arg))

/* Interruption and fuel, at function entry and loop back-edges. Every
 * function starts with KX_PROLOGUE, which keeps the interrupt flag's
 * address and whether fuel is metered (fixed for the whole exec: unlimited
 * fuel is UINT64_MAX and never decremented) in locals, so a check is one
 * load and a register test. */
#define KX_PROLOGUE()                                                                              \
    atomic_int *const kx_intr = &ex->store->interrupt;                                             \
    const int kx_fuel = ex->fuel != UINT64_MAX;                                                    \
    (void)kx_intr;                                                                                 \
    (void)kx_fuel
#define KX_CHECK()                                                                                 \
    do {                                                                                           \
        if (KX_UNLIKELY((atomic_load_explicit(kx_intr, memory_order_relaxed) | kx_fuel) != 0))     \
            kx_check_slow(ex);                                                                     \
    } while (0)

/* the rare path of KX_CHECK: interrupted, or fuel metered */
static void __attribute__((noinline, cold, unused)) kx_check_slow(struct kiln__exec *ex)
{
    if (atomic_load_explicit(&ex->store->interrupt, memory_order_relaxed) != 0)
        KX_TRAP(KILN_TRAP_INTERRUPTED, ~0u);
    if (ex->fuel != UINT64_MAX) {
        if (ex->fuel == 0) KX_TRAP(KILN_TRAP_OUT_OF_FUEL, ~0u);
        ex->fuel--;
    }
}

#define KX_ENTER()                                                                                 \
    do {                                                                                           \
        if (KX_UNLIKELY(ex->depth >= ex->max_depth ||                                             \
                        (uintptr_t)__builtin_frame_address(0) < ex->aot_stack_limit))              \
            KX_TRAP(KILN_TRAP_STACK_EXHAUSTED, ~0u);                                               \
        ex->depth++;                                                                               \
        KX_CHECK();                                                                                \
    } while (0)
/* kx_leaf is a per-function constant (enum) emitted by the translator */
#define KX_LEAVE() (kx_leaf ? (void)0 : (void)ex->depth--)

#define KX_DIVU(a, b)                                                                              \
    ({                                                                                             \
        __typeof__(a) d_ = (b);                                                                    \
        if (KX_UNLIKELY(d_ == 0)) KX_TRAP(KILN_TRAP_DIV_ZERO, ~0u);                                \
        (a) / d_;                                                                                  \
    })
#define KX_REMU(a, b)                                                                              \
    ({                                                                                             \
        __typeof__(a) d_ = (b);                                                                    \
        if (KX_UNLIKELY(d_ == 0)) KX_TRAP(KILN_TRAP_DIV_ZERO, ~0u);                                \
        (a) % d_;                                                                                  \
    })
#define KX_DIVS(a, b, ST, UT, MIN)                                                                 \
    ({                                                                                             \
        ST n_ = (ST)(a), d_ = (ST)(b);                                                             \
        if (KX_UNLIKELY(d_ == 0)) KX_TRAP(KILN_TRAP_DIV_ZERO, ~0u);                                \
        if (KX_UNLIKELY(n_ == MIN && d_ == -1)) KX_TRAP(KILN_TRAP_INT_OVERFLOW, ~0u);              \
        (UT)(n_ / d_);                                                                             \
    })
#define KX_REMS(a, b, ST, UT)                                                                      \
    ({                                                                                             \
        ST n_ = (ST)(a), d_ = (ST)(b);                                                             \
        if (KX_UNLIKELY(d_ == 0)) KX_TRAP(KILN_TRAP_DIV_ZERO, ~0u);                                \
        d_ == -1 ? (UT)0 : (UT)(n_ % d_);                                                          \
    })
#define KX_DIVS32(a, b) KX_DIVS(a, b, int32_t, uint32_t, INT32_MIN)
#define KX_DIVS64(a, b) KX_DIVS(a, b, int64_t, uint64_t, INT64_MIN)
#define KX_REMS32(a, b) KX_REMS(a, b, int32_t, uint32_t)
#define KX_REMS64(a, b) KX_REMS(a, b, int64_t, uint64_t)

/* trapping float-to-int: lo/hi are conditions on x_ */
#define KX_TRUNC(FT, v, lo, hi, cast)                                                              \
    ({                                                                                             \
        FT x_ = (v);                                                                               \
        if (KX_UNLIKELY(x_ != x_)) KX_TRAP(KILN_TRAP_BAD_CONVERSION, ~0u);                         \
        if (KX_UNLIKELY(!((lo) && (hi)))) KX_TRAP(KILN_TRAP_INT_OVERFLOW, ~0u);                    \
        cast;                                                                                      \
    })

/* table.init, as the interpreter does it */
static void __attribute__((noinline, unused))
kx_rt_table_init(struct kiln__exec *ex, struct kiln_instance *inst, uint32_t ti, uint32_t ei,
                 uint32_t d, uint32_t s, uint32_t n)
{
    struct kiln_table *t = inst->tables[ti];
    const struct kiln__elem *seg = &inst->mod->elems[ei];
    uint32_t len = inst->elem_dropped[ei] ? 0 : seg->nitems;
    if ((uint64_t)s + n > len || (uint64_t)d + n > t->size) KX_TRAP(KILN_TRAP_TABLE_OOB, ~0u);
    for (uint32_t k = 0; k < n; k++) {
        const struct kiln__constexpr *e = &seg->items[s + k];
        void *v = NULL;
        if (e->op == KILN__CONST_REF_FUNC) v = inst->funcs[e->idx];
        else if (e->op == KILN__CONST_GLOBAL_GET)
            v = (void *)(uintptr_t)inst->globals[e->idx]->val[0];
        t->elems[d + k] = v;
    }
}

#endif
