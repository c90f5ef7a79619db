/*
 * aot_gen.h — included first by every generated C file (kiln compile
 * writes it, with aot_rt.h and the engine headers it needs, into the
 * compiler's include directory). Macros the translator's output relies on:
 * the names inst (struct kiln_instance *, every function's first parameter),
 * ex (struct kiln__exec *: a macro, see the end of this file) and mem
 * (linear memory 0 as loads and stores address it: KX_MEM0) are in scope in
 * every generated function; code that needs a host pointer into memory 0
 * (bulk memory, SIMD lane loads, libc fast paths) uses inst->mem0_base.
 */
#ifndef KILN_WASM_AOT_GEN_H
#define KILN_WASM_AOT_GEN_H

/* Memory 0 through the gs segment where the compiler supports named
 * address spaces on x86-64 (gcc, clang): `mem` is the null gs pointer and
 * every load/store is gs:(index + offset), which frees the register a base
 * pointer would hold and the load of it at every function entry (about 7%
 * of speedtest1's instructions). Recorded as KILN_AOT_F_SEGMEM. */
#if defined(__x86_64__) && defined(__SEG_GS)
#define KX_SEGMEM 1
#define KX_MSEG __seg_gs
#define KX_MEM0() ((KX_MSEG uint8_t *)0)
/* the callee runs on this memory (its native entry may be called
 * directly); another instance's code gets this thread's stack limit
 * (KX_ENTER reads it from the instance) */
#define KX_SAME_MEM(c)                                                                             \
    ((c)->inst == inst ||                                                                          \
     ((c)->inst->mem0_base == inst->mem0_base &&                                                   \
      ((c)->inst->aot_stack_limit = inst->aot_stack_limit, 1)))
#else
#define KX_SEGMEM 0
#define KX_MEM0() (inst->mem0_base)
#define KX_SAME_MEM(c)                                                                             \
    ((c)->inst == inst || ((c)->inst->aot_stack_limit = inst->aot_stack_limit, 1))
#endif

#include "wasm/aot/aot_rt.h"

/* gcc code generation for the generated functions (gcc only; clang ignores
 * the pragma): functions and loops start on 64-byte boundaries, and the
 * register allocator weighs register pressure per loop. Measured
 * (bench/aot/README.md): without the alignment, CoreMark's time changed by
 * up to 12% between builds with the code laid out differently (0.62 s to
 * 0.70 s for the same source); with it 0.62 s, stable. The loop-pressure
 * model keeps the VDBE dispatch pointer of sqlite in a register instead of
 * a stack slot (speedtest1 about 2% faster). Code size +5%. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("align-functions=64", "align-loops=64", "ira-loop-pressure")
#endif

/* No points-to analysis (gcc): `mem` is the null __seg_gs pointer (above),
 * and gcc 12 took an access it could prove went to wasm address 0 or 1 as
 * pointing to nothing and deleted such stores as dead (found by
 * aot.exprgen; aot.semantics "null_store"). Objects are also compiled with
 * -fno-delete-null-pointer-checks (aot.c), which clang accepts too; clang
 * treats a null pointer in another address space as valid anyway. Cost:
 * +0.04% instructions in speedtest1's object. */
#if defined(__GNUC__) && !defined(__clang__) && KX_SEGMEM
#pragma GCC optimize("no-tree-pta")
#endif

/* A function with an interpreter's dispatch loop (translate.c: a br_table
 * of 64 or more targets in a body of 8 KiB or more, like sqlite's VDBE)
 * gets gcc's single-region register allocation: with the default regions
 * per loop, gcc kept sqlite's VDBE instruction pointer in a stack slot in
 * the dispatch loop (one more dependent load per opcode); with one region
 * it stays in a register (speedtest1 1.5% faster; on all functions the
 * same option made CoreMark 3% slower). */
#if defined(__GNUC__) && !defined(__clang__)
#define KX_DISPATCH __attribute__((optimize("ira-region=one")))
#else
#define KX_DISPATCH
#endif

#define KX_HIDDEN __attribute__((visibility("hidden")))
typedef void *kx_ref;

extern KX_HIDDEN const struct kiln_aot_rt *kx_rt;

#define KX_TRAP(kind, arg) kx_rt->trap(ex, (kind), (arg))

/* KX_METERED (defined by the translator before this header, from
 * kiln_aot_opts.metered; recorded as KILN_AOT_F_METERED in the descriptor)
 * selects one of two sets of entry and back-edge macros:
 *
 *   metered   interruption and fuel are polled at every function entry and
 *             loop back-edge, exactly where the interpreter polls, so fuel
 *             use is the interpreter's to the step;
 *   unmetered no polls at all. kiln_store_interrupt() stops the code with a
 *             signal (memory.c: the handler traps when the interrupted PC is
 *             in the text of an unmetered object); what remains are checks
 *             in AOT text at the points where code outside the object
 *             returns into it (trampoline entry, KX_AFTER_HOST, KX_AFTER_RT),
 *             so a request that arrives while the thread runs kiln code is
 *             seen before the object can loop again. A store with fuel
 *             never runs unmetered code (instance.c interprets it).
 *
 * Stack exhaustion: metered code keeps the interpreter's depth limit
 * exactly (kiln_store_config.max_call_depth, leaf callees included) as
 * well as the native stack limit; unmetered code counts no frames and
 * traps "call stack exhausted" when the native stack pointer passes
 * inst->aot_stack_limit (the thread's stack less a margin: rt.c sets it in
 * the instance it enters, KX_SAME_MEM in another it calls directly), checked
 * at the entry of every function that calls others (a leaf's frame fits
 * in the margin). So unmetered code allows a different recursion depth
 * than the interpreter — deeper for small frames — and saves the depth
 * bookkeeping on every call (about 7% of speedtest1's instructions). */
#ifndef KX_METERED
#error "KX_METERED must be defined (0 or 1) before aot_gen.h"
#endif

/* the interrupt flag, read where code outside the object returns into it */
#define KX_INTERRUPTED() (atomic_load_explicit(&inst->store->interrupt, memory_order_relaxed) != 0)

/* After kx_rt->call (host and interpreted callees), in both modes: a
 * request made during the call traps right after it returns, as in the
 * interpreter (interp.c checks after every call through kiln__call). */
#define KX_AFTER_HOST()                                                                            \
    do {                                                                                           \
        if (KX_UNLIKELY(KX_INTERRUPTED())) KX_TRAP(KILN_TRAP_INTERRUPTED, ~0u);                    \
    } while (0)
#define KX_RT_CALL(c, a, q)                                                                        \
    do {                                                                                           \
        kx_rt->call(ex, inst, (c), (a), (q));                                                      \
        KX_AFTER_HOST();                                                                           \
    } while (0)

#if KX_METERED
/* Every function starts with KX_PROLOGUE (leaves) or KX_ENTER, which
 * computes the one word a check reads: the store's interrupt flag, or,
 * when fuel is metered (fixed for the whole exec: unlimited fuel is
 * UINT64_MAX and never decremented), a constant 1 so that every check takes
 * the slow path that counts fuel. On x86-64 a check is exactly
 * `cmpl $0, (reg); jne cold` (an asm goto: a volatile C load would cost a
 * separate load and test), and the cold path calls kx_check_slow through
 * kx_check_stub, which preserves every register, so the check does not make
 * the compiler save live values around a call on the hot path. */
static const int kx_always = 1;
#define KX_PROLOGUE()                                                                              \
    const int *const kx_poll =                                                                     \
        ex->fuel != UINT64_MAX ? &kx_always : (const int *)&ex->store->interrupt;                 \
    (void)kx_poll

/* the rare path of KX_CHECK: interrupted, or fuel metered */
static void __attribute__((noinline, cold, used)) kx_check_slow(struct kiln__exec *ex)
{
    if (atomic_load_explicit(&ex->store->interrupt, memory_order_relaxed) != 0)
        KX_TRAP(KILN_TRAP_INTERRUPTED, ~0u);
    if (ex->fuel != UINT64_MAX) {
        if (ex->fuel == 0) KX_TRAP(KILN_TRAP_OUT_OF_FUEL, ~0u);
        ex->fuel--;
    }
}

/* Entry checks of a leaf function (no calls) at callee depth d, as the
 * interpreter makes them on every call: the depth limit, then interruption
 * and fuel (see KX_ENTER, KX_LEAF_CALL and KX_LEAF_ENTRY). */
static void __attribute__((noinline, cold, used)) kx_leaf_slow(struct kiln__exec *ex, uint32_t d)
{
    if (d >= ex->max_depth) KX_TRAP(KILN_TRAP_STACK_EXHAUSTED, ~0u);
    kx_check_slow(ex);
}

#if defined(__x86_64__)
/* KX_STUB(name, fn): name(rdi, rsi) calls fn(rdi, rsi) with every
 * caller-saved general and vector register preserved and the stack
 * aligned for the call. */
#define KX_STUB(name, fn)                                                                          \
    __asm__(".text\n.p2align 4\n.type " #name ",@function\n" #name ":\n"                         \
            "push %rax\npush %rcx\npush %rdx\npush %rsi\npush %rdi\npush %r8\npush %r9\n"         \
            "push %r10\npush %r11\npush %rbp\nmov %rsp,%rbp\nand $-16,%rsp\nsub $256,%rsp\n"      \
            "movdqa %xmm0,0(%rsp)\nmovdqa %xmm1,16(%rsp)\nmovdqa %xmm2,32(%rsp)\n"               \
            "movdqa %xmm3,48(%rsp)\nmovdqa %xmm4,64(%rsp)\nmovdqa %xmm5,80(%rsp)\n"              \
            "movdqa %xmm6,96(%rsp)\nmovdqa %xmm7,112(%rsp)\nmovdqa %xmm8,128(%rsp)\n"            \
            "movdqa %xmm9,144(%rsp)\nmovdqa %xmm10,160(%rsp)\nmovdqa %xmm11,176(%rsp)\n"         \
            "movdqa %xmm12,192(%rsp)\nmovdqa %xmm13,208(%rsp)\nmovdqa %xmm14,224(%rsp)\n"        \
            "movdqa %xmm15,240(%rsp)\ncall " #fn "\n"                                             \
            "movdqa 0(%rsp),%xmm0\nmovdqa 16(%rsp),%xmm1\nmovdqa 32(%rsp),%xmm2\n"               \
            "movdqa 48(%rsp),%xmm3\nmovdqa 64(%rsp),%xmm4\nmovdqa 80(%rsp),%xmm5\n"              \
            "movdqa 96(%rsp),%xmm6\nmovdqa 112(%rsp),%xmm7\nmovdqa 128(%rsp),%xmm8\n"            \
            "movdqa 144(%rsp),%xmm9\nmovdqa 160(%rsp),%xmm10\nmovdqa 176(%rsp),%xmm11\n"         \
            "movdqa 192(%rsp),%xmm12\nmovdqa 208(%rsp),%xmm13\nmovdqa 224(%rsp),%xmm14\n"        \
            "movdqa 240(%rsp),%xmm15\nmov %rbp,%rsp\npop %rbp\npop %r11\npop %r10\npop %r9\n"    \
            "pop %r8\npop %rdi\npop %rsi\npop %rdx\npop %rcx\npop %rax\nret\n"                    \
            ".size " #name ",.-" #name "\n.previous\n")
KX_STUB(kx_check_stub, kx_check_slow);
KX_STUB(kx_leaf_stub, kx_leaf_slow);
/* the stub's call skips the red zone a leaf function may be using */
#define KX_CHECK()                                                                                 \
    do {                                                                                           \
        __label__ kx_slow, kx_done;                                                                \
        __asm__ goto("cmpl $0, %0\n\tjne %l[kx_slow]" ::"m"(*kx_poll) : "cc" : kx_slow);          \
        goto kx_done;                                                                              \
    kx_slow: __attribute__((cold));                                                                \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tcall kx_check_stub\n\tlea 128(%%rsp), %%rsp"  \
                         ::"D"(ex) : "memory", "cc");                                             \
    kx_done:;                                                                                      \
    } while (0)
/* before a direct call of a leaf: its entry checks, when the caller's poll
 * word says so (KX_ENTER points it at a constant 1 when fuel is metered or
 * the callee would be at the depth limit) */
#define KX_LEAF_CALL()                                                                             \
    do {                                                                                           \
        __label__ kx_slow, kx_done;                                                                \
        __asm__ goto("cmpl $0, %0\n\tjne %l[kx_slow]" ::"m"(*kx_poll) : "cc" : kx_slow);          \
        goto kx_done;                                                                              \
    kx_slow: __attribute__((cold));                                                                \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tcall kx_leaf_stub\n\tlea 128(%%rsp), %%rsp"   \
                         ::"D"(ex), "S"(kx_depth + 1) : "memory", "cc");                          \
    kx_done:;                                                                                      \
    } while (0)
#else
#define KX_CHECK()                                                                                 \
    do {                                                                                           \
        if (KX_UNLIKELY(*(const volatile int *)kx_poll != 0)) kx_check_slow(ex);                  \
    } while (0)
#define KX_LEAF_CALL()                                                                             \
    do {                                                                                           \
        if (KX_UNLIKELY(*(const volatile int *)kx_poll != 0)) kx_leaf_slow(ex, kx_depth + 1);     \
    } while (0)
#endif
#endif /* KX_METERED */

/* Entry of a function that calls others: metered, the interpreter's depth
 * limit and the native stack limit, then a check (the depth on entry is
 * kept in a local, and KX_LEAVE stores it back: callees restore what they
 * raised, so this equals a decrement, without the read-modify-write);
 * unmetered, the native stack limit only. */
#if defined(__x86_64__)
/* the stack pointer, without making the function set up a frame pointer
 * (as __builtin_frame_address(0) does, which costs rbp) */
KX_INL uintptr_t kx_sp(void)
{
    uintptr_t sp;
    __asm__("mov %%rsp, %0" : "=r"(sp));
    return sp;
}
#else
#define kx_sp() ((uintptr_t)__builtin_frame_address(0))
#endif
#define KX_ENTER_DEPTH()                                                                           \
    const uint32_t kx_depth = ex->depth;                                                           \
    do {                                                                                           \
        if (KX_UNLIKELY(kx_depth >= ex->max_depth || kx_sp() < ex->aot_stack_limit))             \
            KX_TRAP(KILN_TRAP_STACK_EXHAUSTED, ~0u);                                               \
        ex->depth = kx_depth + 1;                                                                  \
    } while (0)

#if KX_METERED
#define KX_ENTER()                                                                                 \
    KX_ENTER_DEPTH();                                                                              \
    const int *const kx_poll = ex->fuel != UINT64_MAX || kx_depth + 1 >= ex->max_depth             \
                                   ? &kx_always                                                    \
                                   : (const int *)&ex->store->interrupt;                           \
    KX_CHECK()

/* The checked entry of a leaf (trampoline, call_indirect, imports): the
 * same checks as KX_LEAF_CALL, from the exec, including the interrupt
 * flag (a pending request stops a leaf called from the host or through
 * call_indirect at its entry, as in the interpreter). */
#define KX_LEAF_ENTRY()                                                                            \
    do {                                                                                           \
        if (KX_UNLIKELY(ex->depth >= ex->max_depth || ex->fuel != UINT64_MAX ||                   \
                        atomic_load_explicit(&ex->store->interrupt, memory_order_relaxed) != 0))  \
            kx_leaf_slow(ex, ex->depth);                                                           \
    } while (0)

/* the entry polls see a pending request */
#define KX_TRAMP_CHECK() ((void)0)
/* memory.grow, table.grow: the polls see a request made meanwhile */
#define KX_AFTER_RT() ((void)0)
#else
/* No prologue, no back-edge polls, no frame counting (ex->depth is left as
 * it was at entry from kiln): the native stack limit alone bounds
 * recursion. */
#define KX_PROLOGUE() ((void)0)
#define KX_CHECK() ((void)0)
#if defined(__x86_64__)
/* one compare of %rsp with the limit in memory (no scratch register) */
#define KX_ENTER()                                                                                 \
    enum { kx_depth = 0 };                                                                         \
    do {                                                                                           \
        __label__ kx_ovf, kx_ok;                                                                   \
        __asm__ goto("cmp %0, %%rsp\n\tjb %l[kx_ovf]" ::"m"(inst->aot_stack_limit)                 \
                     : "cc"                                                                        \
                     : kx_ovf);                                                                    \
        goto kx_ok;                                                                                \
    kx_ovf: __attribute__((cold));                                                                 \
        KX_TRAP(KILN_TRAP_STACK_EXHAUSTED, ~0u);                                                   \
    kx_ok:;                                                                                        \
    } while (0)
#else
#define KX_ENTER()                                                                                 \
    enum { kx_depth = 0 };                                                                         \
    do {                                                                                           \
        if (KX_UNLIKELY(kx_sp() < inst->aot_stack_limit)) KX_TRAP(KILN_TRAP_STACK_EXHAUSTED, ~0u); \
    } while (0)
#endif
#define KX_LEAF_CALL() ((void)0)
#define KX_LEAF_ENTRY() ((void)0)
/* Entry from kiln (kiln__aot_enter published this thread for signals
 * first): a pending request traps here, in AOT text, before any loop. */
#define KX_TRAMP_CHECK()                                                                           \
    do {                                                                                           \
        if (KX_UNLIKELY(KX_INTERRUPTED())) KX_TRAP(KILN_TRAP_INTERRUPTED, ~0u);                    \
    } while (0)
/* after memory.grow / table.grow (kiln code, where the signal is ignored) */
#define KX_AFTER_RT() KX_AFTER_HOST()
#endif

/* memory.grow and table.grow through the runtime */
#define KX_MEMORY_GROW(m, n)                                                                       \
    ({                                                                                             \
        int64_t g_ = kx_rt->memory_grow((m), (n));                                                 \
        KX_AFTER_RT();                                                                             \
        g_;                                                                                        \
    })
#define KX_TABLE_GROW(t, n, v)                                                                     \
    ({                                                                                             \
        int64_t g_ = kx_rt->table_grow((t), (n), (v));                                             \
        KX_AFTER_RT();                                                                             \
        g_;                                                                                        \
    })

/* kx_leaf is a per-function constant (enum) emitted by the translator;
 * leaf functions (no calls) have no KX_ENTER and no kx_depth */
#if KX_METERED
#define KX_LEAVE() (kx_leaf ? (void)0 : (void)(ex->depth = kx_depth))
#else
#define KX_LEAVE() ((void)0)
#endif

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

/* Native fast paths of well-known libc functions (translate_known.c,
 * helpers in aot_known.h): taken only without fuel metering and for
 * arguments entirely inside memory 0. */
#define KX_LIKELY(x) __builtin_expect(!!(x), 1)
#if KX_METERED
KX_INL int kx_unmetered(const struct kiln__exec *ex) { return ex->fuel == UINT64_MAX; }
#else
/* code without polls never runs with fuel metered (instance.c) */
KX_INL int kx_unmetered(const struct kiln__exec *ex) { (void)ex; return 1; }
#endif
#include "wasm/aot/aot_known.h"

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

/* The exec (struct kiln__exec) of the running call. Generated functions
 * take no exec parameter (ABI 6): while a store's code runs, store->exec is
 * the innermost exec on its thread (instance.c), so `ex` in generated code
 * is inst->store->exec. Unmetered code needs it only on cold paths (traps,
 * host calls), where two loads cost nothing, and keeps neither a register
 * nor an argument for it; metered code, which reads it at every poll, loads
 * it once per function (KX_EX_DECL, at the top of every generated body).
 * Defined last: the helpers above take `ex` as a parameter. */
#if KX_METERED
#define KX_EX_DECL()                                                                               \
    struct kiln__exec *const kx_ex = inst->store->exec;                                            \
    (void)kx_ex
#define ex kx_ex
#else
#define KX_EX_DECL() ((void)0)
#define ex (inst->store->exec)
#endif

#endif
