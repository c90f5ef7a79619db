/*
 * interp.c — the interpreter loop: runs the internal form of compile.h.
 *
 * One function, run(), holds the whole loop so the hot state (ip, frame
 * pointer, memory base, instance) stays in locals. Dispatch is GNU computed
 * goto replicated at the end of every handler: the first word of each
 * instruction is the byte distance from the label L__base to the handler's
 * label, so `goto *(&&L__base + ip[0])` reaches it. The label-difference
 * table lives inside run() and is exported to the compiler through
 * kiln__interp_handlers() (run() called with ex == NULL publishes it).
 *
 * Wasm-to-wasm calls never recurse in C: a call places the callee's frame
 * on ex's value stack, starting at the caller's argument slots, and pushes a
 * return record (caller ip, caller fp, caller function) on a record stack
 * local to this run() (on the C stack, moved to the heap when deeper than
 * 128). Returning with an empty record stack ends the loop. Host functions
 * are called through kiln__call() with ex->sp above the current frame, so
 * they may re-enter the engine.
 *
 * Interruption and fuel are polled at every function entry and loop
 * back-edge (CHECK); the interrupt flag is also read right after every call
 * through kiln__call() returns, so a request made by a host function stops
 * its caller at the same point as in AOT code (docs/aot.md).
 *
 * Traps from handlers return kind != 0 with ex->trap filled. Memory accesses
 * are not bounds-checked here: linear memory is a reservation with a guard
 * region (memory.c) and faults become KILN_TRAP_MEMORY_OOB through the
 * signal handler, which siglongjmps to ex->trap_jmp (set by the API entry).
 *
 * Float semantics: copies never touch NaN bits (values move as raw slots);
 * arithmetic uses C float ops (x86-64 SSE gives IEEE results and quiet
 * NaNs); min/max/nearest/copysign/abs/neg follow the spec by hand;
 * float-to-int truncations check exact ranges before converting.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/wasm.h"
#include "wasm/compile.h"
#include "wasm/module.h"
#include "wasm/runtime.h"
#include "wasm/simd.h"

/* Returns the spec's wording for a trap kind. */
const char *kiln_trap_message(int kind)
{
    switch (kind) {
    case KILN_TRAP_NONE: return "no trap";
    case KILN_TRAP_UNREACHABLE: return "unreachable";
    case KILN_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case KILN_TRAP_TABLE_OOB: return "out of bounds table access";
    case KILN_TRAP_DIV_ZERO: return "integer divide by zero";
    case KILN_TRAP_INT_OVERFLOW: return "integer overflow";
    case KILN_TRAP_BAD_CONVERSION: return "invalid conversion to integer";
    case KILN_TRAP_INDIRECT_MISMATCH: return "indirect call type mismatch";
    case KILN_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case KILN_TRAP_UNINIT_ELEMENT: return "uninitialized element";
    case KILN_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case KILN_TRAP_INTERRUPTED: return "interrupted";
    case KILN_TRAP_OUT_OF_FUEL: return "out of fuel";
    case KILN_TRAP_HOST: return "host function failed";
    case KILN_TRAP_EXIT: return "exit";
    default: return "unknown trap";
    }
}

/* ---- value helpers -------------------------------------------------------- */

static inline float f32_of(uint64_t s)
{
    uint32_t u = (uint32_t)s;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double f64_of(uint64_t s)
{
    double d;
    memcpy(&d, &s, 8);
    return d;
}

static inline uint64_t bits32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline uint64_t bits64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* Rounding that quiets signalling NaNs, as the spec requires (the libm
 * and builtin versions may return a NaN operand unchanged). */
#define ROUND_FN(name, T, builtin)                                                                 \
    static inline T name(T x)                                                                      \
    {                                                                                              \
        return x != x ? x + x : builtin(x);                                                        \
    }
ROUND_FN(ceil32, float, __builtin_ceilf)
ROUND_FN(floor32, float, __builtin_floorf)
ROUND_FN(trunc32, float, __builtin_truncf)
ROUND_FN(nearest32, float, __builtin_rintf)
ROUND_FN(ceil64, double, __builtin_ceil)
ROUND_FN(floor64, double, __builtin_floor)
ROUND_FN(trunc64, double, __builtin_trunc)
ROUND_FN(nearest64, double, __builtin_rint)

static inline uint32_t rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return b ? (a << b) | (a >> (32 - b)) : a;
}
static inline uint32_t rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return b ? (a >> b) | (a << (32 - b)) : a;
}
static inline uint64_t rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return b ? (a << b) | (a >> (64 - b)) : a;
}
static inline uint64_t rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return b ? (a >> b) | (a << (64 - b)) : a;
}

/* Saturating truncations. */
static inline uint64_t sat_i32(double x)
{
    if (x != x)
        return 0;
    if (x <= -2147483649.0)
        return (uint32_t)INT32_MIN;
    if (x >= 2147483648.0)
        return (uint32_t)INT32_MAX;
    return (uint32_t)(int32_t)x;
}
static inline uint64_t sat_u32(double x)
{
    if (x != x || x <= -1.0)
        return 0;
    if (x >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)x;
}
static inline uint64_t sat_i64(double x)
{
    if (x != x)
        return 0;
    if (x < -9223372036854775808.0)
        return (uint64_t)INT64_MIN;
    if (x >= 9223372036854775808.0)
        return (uint64_t)INT64_MAX;
    return (uint64_t)(int64_t)x;
}
static inline uint64_t sat_u64(double x)
{
    if (x != x || x <= -1.0)
        return 0;
    if (x >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

/* Value of an element segment item. */
static void *elem_item(struct kiln_instance *inst, const struct kiln__constexpr *e)
{
    switch (e->op) {
    case KILN__CONST_REF_FUNC:
        return inst->funcs[e->idx];
    case KILN__CONST_GLOBAL_GET:
        return (void *)(uintptr_t)inst->globals[e->idx]->val[0];
    default:
        return NULL;
    }
}

/* Grows a table by n elements set to init; returns the old size or -1. */
static int64_t table_grow(struct kiln_table *t, uint32_t n, void *init)
{
    uint32_t old = t->size;
    if ((uint64_t)old + n > t->max)
        return -1;
    if (old + n > t->cap) {
        uint64_t ncap = (uint64_t)t->cap * 2;
        void **ne;
        if (ncap < (uint64_t)old + n)
            ncap = (uint64_t)old + n;
        if (ncap > t->max)
            ncap = t->max;
        ne = realloc(t->elems, (size_t)(ncap ? ncap : 1) * sizeof *ne);
        if (!ne)
            return -1;
        t->elems = ne;
        t->cap = (uint32_t)ncap;
    }
    for (uint32_t i = 0; i < n; i++)
        t->elems[old + i] = init;
    t->size = old + n;
    return old;
}

static const int32_t *_Atomic g_handlers;

#ifdef KILN_OPSTATS
/* Profiling build only (-DKILN_OPSTATS): counts dispatches per internal op
 * and per (previous, next) pair, printed to stderr at exit. */
static const char *const g_opnames[] = {
#define X(id) #id,
    KILN__IOPS(X)
#undef X
};
static uint64_t g_opcnt[KILN__I__COUNT], g_oppair[KILN__I__COUNT][KILN__I__COUNT];
static int32_t g_hkey[8192];
static uint16_t g_hval[8192];
static unsigned g_prevop;

static void opstats_dump(void)
{
    static struct {
        uint64_t n;
        unsigned a, b;
    } top[200];
    uint64_t tot = 0;
    for (unsigned i = 0; i < KILN__I__COUNT; i++)
        tot += g_opcnt[i];
    fprintf(stderr, "opstats: %llu dispatches\n", (unsigned long long)tot);
    for (unsigned i = 0; i < KILN__I__COUNT; i++)
        for (unsigned j = 0; j < KILN__I__COUNT; j++) {
            uint64_t n = g_oppair[i][j];
            unsigned k = 200;
            if (!n || n <= top[199].n)
                continue;
            while (k > 0 && top[k - 1].n < n) {
                if (k < 200)
                    top[k] = top[k - 1];
                k--;
            }
            top[k].n = n;
            top[k].a = i;
            top[k].b = j;
        }
    for (unsigned i = 0; i < KILN__I__COUNT; i++)
        if (g_opcnt[i] * 1000 >= tot)
            fprintf(stderr, "op %-20s %12llu %5.2f%%\n", g_opnames[i],
                    (unsigned long long)g_opcnt[i], 100.0 * g_opcnt[i] / tot);
    for (unsigned k = 0; k < 200 && top[k].n; k++)
        fprintf(stderr, "pair %-20s %-20s %12llu %5.2f%%\n", g_opnames[top[k].a],
                g_opnames[top[k].b], (unsigned long long)top[k].n, 100.0 * top[k].n / tot);
}

static void opstats_note(const int32_t *table, int32_t h)
{
    unsigned k = ((uint32_t)h * 2654435761u) >> 19;
    while (g_hkey[k] != h || g_hval[k] == 0) {
        if (g_hval[k] == 0) {
            static bool registered;
            unsigned i = 0;
            if (!registered) {
                registered = true;
                atexit(opstats_dump);
            }
            while (table[i] != h)
                i++;
            g_hkey[k] = h;
            g_hval[k] = (uint16_t)(i + 1);
            break;
        }
        k = (k + 1) & 8191;
    }
    {
        unsigned op = g_hval[k] - 1u;
        g_opcnt[op]++;
        g_oppair[g_prevop][op]++;
        g_prevop = op;
    }
}
#define OPSTAT() opstats_note(table, (int32_t)ip[0])
#else
#define OPSTAT() (void)0
#endif

/* Where a wasm-to-wasm call returns to. */
struct rec {
    const uint32_t *ip;
    uint64_t *fp;
    struct kiln_func *fn;
};

static int run(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args, uint64_t *res)
{
    static const int32_t table[] = {
#define X(id) [KILN__I_##id] = &&L_##id - &&L__base,
        KILN__IOPS(X)
#undef X
    };
    const uint32_t *ip;
    uint64_t *fp;
    uint8_t *mem;
    struct kiln_instance *inst;
    struct kiln_func **funcs;
    struct kiln_global **globals;
    struct kiln_func *cur, *callee;
    struct kiln_store *store;
    uint64_t *argp, *stack_end;
    uint64_t *saved_sp;
    uint32_t saved_depth;
    int trap = 0;
    bool host_trap = false;
    uint32_t trap_arg = UINT32_MAX; /* element index for call_indirect traps */
    /* return records of the frames this run pushed (not the entry frame) */
    struct rec rlocal[128], *rbase = rlocal, *rp = rlocal, *rend = rlocal + 128;

    if (!ex) {
        atomic_store(&g_handlers, table);
        return 0;
    }

#define NEXT()                                                                                     \
    do {                                                                                           \
        OPSTAT();                                                                                  \
        goto *(const void *)((const char *)&&L__base + (int32_t)ip[0]);                            \
    } while (0)
#define R(k) fp[ip[k]]
#define U32(k) ((uint32_t)fp[ip[k]])
#define I32(k) ((int32_t)(uint32_t)fp[ip[k]])
#define I64(k) ((int64_t)fp[ip[k]])
#define F32(k) f32_of(fp[ip[k]])
#define F64(k) f64_of(fp[ip[k]])
#define TRAP(kind)                                                                                 \
    do {                                                                                           \
        trap = KILN_TRAP_##kind;                                                                   \
        goto do_trap;                                                                              \
    } while (0)
#define CHECK()                                                                                    \
    do {                                                                                           \
        if (__builtin_expect(atomic_load_explicit(&store->interrupt, memory_order_relaxed) != 0,  \
                             0))                                                                   \
            TRAP(INTERRUPTED);                                                                     \
        if (__builtin_expect(ex->fuel != UINT64_MAX, 0)) {                                        \
            if (ex->fuel == 0)                                                                     \
                TRAP(OUT_OF_FUEL);                                                                 \
            ex->fuel--;                                                                            \
        }                                                                                          \
    } while (0)
/* Branch through the offset word at ip[k]; backward branches are loop
 * back-edges and check interruption and fuel. */
#define BRANCH(k)                                                                                  \
    do {                                                                                           \
        int32_t off_ = (int32_t)ip[k];                                                             \
        ip += (ptrdiff_t)(k) + off_;                                                               \
        if (off_ < 0)                                                                              \
            CHECK();                                                                               \
        NEXT();                                                                                    \
    } while (0)
#define EA(ka, ko) (mem + (uint64_t)U32(ka) + (uint64_t)ip[ko])
#define SWITCH_INST(ni)                                                                            \
    do {                                                                                           \
        inst = (ni);                                                                               \
        mem = inst->mem0_base;                                                                     \
        funcs = inst->funcs;                                                                       \
        globals = inst->globals;                                                                   \
        ex->inst = inst;                                                                           \
    } while (0)

    store = ex->store;
    stack_end = ex->stack_end;
    saved_sp = ex->sp;
    saved_depth = ex->depth;
    cur = f;
    SWITCH_INST(f->inst);
    {
        const struct kiln__code *code = f->code;
        fp = ex->sp;
        if (ex->depth >= ex->max_depth || code->frame_slots > (size_t)(stack_end - fp))
            TRAP(STACK_EXHAUSTED);
        if (code->nparam_slots)
            memcpy(fp, args, code->nparam_slots * sizeof *fp);
        memset(fp + code->nparam_slots, 0, code->nlocal_slots * sizeof *fp);
        ex->depth++;
        ip = code->words;
        CHECK();
        NEXT();
    }

    /* ---- control ---------------------------------------------------------- */
L_UNREACHABLE:
    TRAP(UNREACHABLE);
L_BR:
    BRANCH(1);
L_BR_IF_NZ:
    if (U32(1))
        BRANCH(2);
    ip += 3;
    NEXT();
L_BR_IF_Z:
    if (!U32(1))
        BRANCH(2);
    ip += 3;
    NEXT();
L_BR_IF_NZ64:
    if (R(1))
        BRANCH(2);
    ip += 3;
    NEXT();
L_BR_IF_Z64:
    if (!R(1))
        BRANCH(2);
    ip += 3;
    NEXT();
L_BR_AND_NZ:
    if (U32(1) & ip[2])
        BRANCH(3);
    ip += 4;
    NEXT();
L_BR_AND_Z:
    if (!(U32(1) & ip[2]))
        BRANCH(3);
    ip += 4;
    NEXT();
L_BR_AND_EQ_I:
    if ((U32(1) & ip[2]) == ip[3])
        BRANCH(4);
    ip += 5;
    NEXT();
L_BR_AND_NE_I:
    if ((U32(1) & ip[2]) != ip[3])
        BRANCH(4);
    ip += 5;
    NEXT();
L_I32_ADDI_BR_NZ: {
    uint32_t v = U32(2) + ip[3];
    R(1) = v;
    if (v)
        BRANCH(4);
    ip += 5;
    NEXT();
}
L_I32_ADDI_BR_Z: {
    uint32_t v = U32(2) + ip[3];
    R(1) = v;
    if (!v)
        BRANCH(4);
    ip += 5;
    NEXT();
}
#define ADDI_BR(name, cond, bexpr)                                                                  \
    L_I32_ADDI_BR_##name: {                                                                        \
        uint32_t x = U32(2) + ip[3], b = (bexpr);                                                  \
        R(1) = x;                                                                                  \
        if (cond)                                                                                  \
            BRANCH(5);                                                                             \
        ip += 6;                                                                                   \
        NEXT();                                                                                    \
    }
    ADDI_BR(NE, x != b, U32(4))
    ADDI_BR(LT_S, (int32_t)x < (int32_t)b, U32(4))
    ADDI_BR(LT_U, x < b, U32(4))
    ADDI_BR(NE_I, x != b, ip[4])
    ADDI_BR(LT_S_I, (int32_t)x < (int32_t)b, ip[4])
    ADDI_BR(LT_U_I, x < b, ip[4])
L_LD32_BR_NZ: {
    uint32_t v;
    memcpy(&v, EA(2, 3), 4);
    R(1) = v;
    if (v)
        BRANCH(4);
    ip += 5;
    NEXT();
}
L_LD32_BR_Z: {
    uint32_t v;
    memcpy(&v, EA(2, 3), 4);
    R(1) = v;
    if (!v)
        BRANCH(4);
    ip += 5;
    NEXT();
}
L_BR_TABLE: {
    uint32_t i = U32(1), n = ip[2];
    if (i > n)
        i = n;
    BRANCH(3 + i);
}

#define BRCC(name, T, cond)                                                                        \
    L_BR_##name: {                                                                                 \
        T a = (T)R(1), b = (T)R(2);                                                                \
        if (cond)                                                                                  \
            BRANCH(3);                                                                             \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define BRCCI(name, T, cond)                                                                       \
    L_BR_##name##_I: {                                                                             \
        T a = (T)R(1), b = (T)(int32_t)ip[2];                                                      \
        if (cond)                                                                                  \
            BRANCH(3);                                                                             \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define BRCC_BOTH(name, T, cond) BRCC(name, T, cond) BRCCI(name, T, cond)
    BRCC_BOTH(I32_EQ, uint32_t, a == b)
    BRCC_BOTH(I32_NE, uint32_t, a != b)
    BRCC_BOTH(I32_LT_S, uint32_t, (int32_t)a < (int32_t)b)
    BRCC_BOTH(I32_LT_U, uint32_t, a < b)
    BRCC_BOTH(I32_GT_S, uint32_t, (int32_t)a > (int32_t)b)
    BRCC_BOTH(I32_GT_U, uint32_t, a > b)
    BRCC_BOTH(I32_LE_S, uint32_t, (int32_t)a <= (int32_t)b)
    BRCC_BOTH(I32_LE_U, uint32_t, a <= b)
    BRCC_BOTH(I32_GE_S, uint32_t, (int32_t)a >= (int32_t)b)
    BRCC_BOTH(I32_GE_U, uint32_t, a >= b)
    BRCC_BOTH(I64_EQ, uint64_t, a == b)
    BRCC_BOTH(I64_NE, uint64_t, a != b)
    BRCC_BOTH(I64_LT_S, uint64_t, (int64_t)a < (int64_t)b)
    BRCC_BOTH(I64_LT_U, uint64_t, a < b)
    BRCC_BOTH(I64_GT_S, uint64_t, (int64_t)a > (int64_t)b)
    BRCC_BOTH(I64_GT_U, uint64_t, a > b)
    BRCC_BOTH(I64_LE_S, uint64_t, (int64_t)a <= (int64_t)b)
    BRCC_BOTH(I64_LE_U, uint64_t, a <= b)
    BRCC_BOTH(I64_GE_S, uint64_t, (int64_t)a >= (int64_t)b)
    BRCC_BOTH(I64_GE_U, uint64_t, a >= b)

    /* ---- calls and returns ------------------------------------------------- */
L_CALL:
    callee = funcs[ip[1]];
    argp = fp + ip[2];
    ip += 3;
    goto do_call;
L_CALL_INDIRECT: {
    struct kiln_table *t = inst->tables[ip[2]];
    uint32_t i = U32(4);
    trap_arg = i;
    if (i >= t->size)
        TRAP(UNDEFINED_ELEMENT);
    callee = t->elems[i];
    if (!callee)
        TRAP(UNINIT_ELEMENT);
    if (callee->type_id != inst->type_ids[ip[1]])
        TRAP(INDIRECT_MISMATCH);
    argp = fp + ip[3];
    ip += 5;
    goto do_call;
}
do_call: {
    const struct kiln__code *cc = callee->code;
    if (__builtin_expect(cc == NULL, 0))
        goto do_host_call;
    if (__builtin_expect(ex->depth >= ex->max_depth ||
                             cc->frame_slots > (size_t)(stack_end - argp),
                         0))
        TRAP(STACK_EXHAUSTED);
    if (__builtin_expect(rp == rend, 0)) {
        /* grow the record stack (the first block lives on the C stack) */
        size_t n = (size_t)(rend - rbase), nn = n * 4;
        struct rec *nb = malloc(nn * sizeof *nb);
        if (!nb)
            TRAP(STACK_EXHAUSTED);
        memcpy(nb, rbase, n * sizeof *nb);
        if (rbase != rlocal)
            free(rbase);
        rbase = nb;
        rp = nb + n;
        rend = nb + nn;
    }
    rp->ip = ip;
    rp->fp = fp;
    rp->fn = cur;
    rp++;
    {
        /* zero the declared locals; most functions have a few */
        uint64_t *l = argp + cc->nparam_slots;
        switch (cc->nlocal_slots) {
        case 6: l[5] = 0; /* fall through */
        case 5: l[4] = 0; /* fall through */
        case 4: l[3] = 0; /* fall through */
        case 3: l[2] = 0; /* fall through */
        case 2: l[1] = 0; /* fall through */
        case 1: l[0] = 0; /* fall through */
        case 0: break;
        default: memset(l, 0, cc->nlocal_slots * sizeof *fp); break;
        }
    }
    fp = argp;
    ip = cc->words;
    cur = callee;
    ex->depth++;
    if (callee->inst != inst)
        SWITCH_INST(callee->inst);
    CHECK();
    NEXT();
}
do_host_call: {
    /* host functions go through kiln__call(), which sets up the caller
     * context, protects the argument area and normalizes the trap */
    const struct kiln__functype *ft = callee->type;
    uint64_t hres[16], *hr = hres;
    int rc;
    if (!callee->host)
        TRAP(UNINIT_ELEMENT);
    if (ft->nresult_slots > 16) {
        hr = malloc(ft->nresult_slots * sizeof *hr);
        if (!hr)
            TRAP(STACK_EXHAUSTED);
    }
    ex->inst = inst;
    ex->sp = fp + cur->code->frame_slots;
    rc = kiln__call(ex, callee, argp, hr);
    ex->sp = saved_sp;
    if (rc) {
        if (hr != hres)
            free(hr);
        trap = rc;
        host_trap = true;
        goto do_trap;
    }
    memcpy(argp, hr, ft->nresult_slots * sizeof *hr);
    if (hr != hres)
        free(hr);
    /* a request made during the call (by the host function, or while it
     * ran) stops the caller right after it returns, as in AOT code */
    if (__builtin_expect(atomic_load_explicit(&store->interrupt, memory_order_relaxed) != 0, 0))
        TRAP(INTERRUPTED);
    NEXT();
}
L_RETURN:
    memmove(fp, fp + ip[1], ip[2] * sizeof *fp);
    goto do_return;
L_RETURN1:
    fp[0] = fp[ip[1]];
do_return: {
    struct kiln_func *caller_fn;
    ex->depth--;
    if (rp == rbase)
        goto done;
    rp--;
    ip = rp->ip;
    fp = rp->fp;
    caller_fn = rp->fn;
    cur = caller_fn;
    if (caller_fn->inst != inst)
        SWITCH_INST(caller_fn->inst);
    NEXT();
}

    /* ---- moves, constants, select, globals ------------------------------------ */
L_COPY:
    R(1) = R(2);
    ip += 3;
    NEXT();
L_COPY2: {
    uint64_t x0 = fp[ip[2]], x1 = fp[ip[2] + 1];
    fp[ip[1]] = x0;
    fp[ip[1] + 1] = x1;
    ip += 3;
    NEXT();
}
L_COPY_COPY: {
    uint64_t x = fp[ip[2]];
    fp[ip[1]] = x;
    x = fp[ip[4]];
    fp[ip[3]] = x;
    ip += 5;
    NEXT();
}
L_COPY_CONST:
    fp[ip[1]] = fp[ip[2]];
    fp[ip[3]] = ip[4];
    ip += 5;
    NEXT();
L_CONST_COPY:
    fp[ip[1]] = ip[2];
    fp[ip[3]] = fp[ip[4]];
    ip += 5;
    NEXT();
L_CONST_CONST:
    fp[ip[1]] = ip[2];
    fp[ip[3]] = ip[4];
    ip += 5;
    NEXT();
L_I32_SHRU_AND_I:
    R(1) = (U32(2) >> (ip[3] & 31)) & ip[4];
    ip += 5;
    NEXT();
L_I32_ADD_I2:
    R(1) = (uint32_t)(U32(2) + ip[3]);
    R(4) = (uint32_t)(U32(5) + ip[6]);
    ip += 7;
    NEXT();
L_I32_MUL_ADD:
    R(1) = (uint32_t)(U32(2) * U32(3) + U32(4));
    ip += 5;
    NEXT();
L_I32_RSUB_I:
    R(1) = (uint32_t)(ip[3] - U32(2));
    ip += 4;
    NEXT();
L_I64_RSUB_I:
    R(1) = (uint64_t)(int64_t)(int32_t)ip[3] - R(2);
    ip += 4;
    NEXT();
L_CONST32:
    R(1) = ip[2];
    ip += 3;
    NEXT();
L_CONST64:
    R(1) = ip[2] | (uint64_t)ip[3] << 32;
    ip += 4;
    NEXT();
L_CONST128:
    fp[ip[1]] = ip[2] | (uint64_t)ip[3] << 32;
    fp[ip[1] + 1] = ip[4] | (uint64_t)ip[5] << 32;
    ip += 6;
    NEXT();
L_SELECT:
    R(1) = U32(4) ? R(2) : R(3);
    ip += 5;
    NEXT();
L_SELECT_MASK:
    R(1) = (U32(4) & ip[5]) ? R(2) : R(3);
    ip += 6;
    NEXT();
L_SELECT2: {
    uint32_t s = U32(4) ? ip[2] : ip[3];
    uint64_t x0 = fp[s], x1 = fp[s + 1];
    fp[ip[1]] = x0;
    fp[ip[1] + 1] = x1;
    ip += 5;
    NEXT();
}
L_GLOBAL_GET:
    R(1) = globals[ip[2]]->val[0];
    ip += 3;
    NEXT();
L_GLOBAL_SET:
    globals[ip[1]]->val[0] = R(2);
    ip += 3;
    NEXT();
L_GLOBAL_GET2: {
    struct kiln_global *g = globals[ip[2]];
    fp[ip[1]] = g->val[0];
    fp[ip[1] + 1] = g->val[1];
    ip += 3;
    NEXT();
}
L_GLOBAL_SET2: {
    struct kiln_global *g = globals[ip[1]];
    g->val[0] = fp[ip[2]];
    g->val[1] = fp[ip[2] + 1];
    ip += 3;
    NEXT();
}
L_REF_FUNC:
    R(1) = (uintptr_t)funcs[ip[2]];
    ip += 3;
    NEXT();

    /* ---- tables ------------------------------------------------------------- */
L_TABLE_GET: {
    struct kiln_table *t = inst->tables[ip[2]];
    uint32_t i = U32(3);
    if (i >= t->size)
        TRAP(TABLE_OOB);
    R(1) = (uintptr_t)t->elems[i];
    ip += 4;
    NEXT();
}
L_TABLE_SET: {
    struct kiln_table *t = inst->tables[ip[1]];
    uint32_t i = U32(2);
    if (i >= t->size)
        TRAP(TABLE_OOB);
    t->elems[i] = (void *)(uintptr_t)R(3);
    ip += 4;
    NEXT();
}
L_TABLE_SIZE:
    R(1) = inst->tables[ip[2]]->size;
    ip += 3;
    NEXT();
L_TABLE_GROW: {
    struct kiln_table *t = inst->tables[ip[2]];
    int64_t old = table_grow(t, U32(4), (void *)(uintptr_t)R(3));
    R(1) = (uint32_t)(int32_t)old;
    ip += 5;
    NEXT();
}
L_TABLE_FILL: {
    struct kiln_table *t = inst->tables[ip[1]];
    uint32_t i = U32(2), n = U32(4);
    void *v = (void *)(uintptr_t)R(3);
    if ((uint64_t)i + n > t->size)
        TRAP(TABLE_OOB);
    for (uint32_t k = 0; k < n; k++)
        t->elems[i + k] = v;
    ip += 5;
    NEXT();
}
L_TABLE_COPY: {
    struct kiln_table *td = inst->tables[ip[1]], *ts = inst->tables[ip[2]];
    uint32_t d = U32(3), s = U32(4), n = U32(5);
    if ((uint64_t)d + n > td->size || (uint64_t)s + n > ts->size)
        TRAP(TABLE_OOB);
    if (n)
        memmove(td->elems + d, ts->elems + s, (size_t)n * sizeof(void *));
    ip += 6;
    NEXT();
}
L_TABLE_INIT: {
    struct kiln_table *t = inst->tables[ip[1]];
    uint32_t ei = ip[2];
    const struct kiln__elem *seg = &inst->mod->elems[ei];
    uint32_t d = U32(3), s = U32(4), n = U32(5);
    uint32_t len = inst->elem_dropped[ei] ? 0 : seg->nitems;
    if ((uint64_t)s + n > len || (uint64_t)d + n > t->size)
        TRAP(TABLE_OOB);
    for (uint32_t k = 0; k < n; k++)
        t->elems[d + k] = elem_item(inst, &seg->items[s + k]);
    ip += 6;
    NEXT();
}
L_ELEM_DROP:
    inst->elem_dropped[ip[1]] = 1;
    ip += 2;
    NEXT();

    /* ---- memory --------------------------------------------------------------- */
#define LOAD(name, T, conv)                                                                        \
    L_##name: {                                                                                    \
        T v_;                                                                                      \
        memcpy(&v_, EA(2, 3), sizeof v_);                                                          \
        R(1) = conv;                                                                               \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
    LOAD(LD32, uint32_t, v_)
    LOAD(LD64, uint64_t, v_)
    LOAD(LD8S32, int8_t, (uint32_t)(int32_t)v_)
    LOAD(LD8S64, int8_t, (uint64_t)(int64_t)v_)
    LOAD(LD8U, uint8_t, v_)
    LOAD(LD16S32, int16_t, (uint32_t)(int32_t)v_)
    LOAD(LD16S64, int16_t, (uint64_t)(int64_t)v_)
    LOAD(LD16U, uint16_t, v_)
    LOAD(LD32S64, int32_t, (uint64_t)(int64_t)v_)
#define EA_A(kb, ki, ko) (mem + (uint64_t)(uint32_t)(U32(kb) + ip[ki]) + (uint64_t)ip[ko])
#define LOAD_A(name, T, conv)                                                                      \
    L_##name##_A: {                                                                                \
        T v_;                                                                                      \
        memcpy(&v_, EA_A(2, 3, 4), sizeof v_);                                                     \
        R(1) = conv;                                                                               \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    LOAD_A(LD32, uint32_t, v_)
    LOAD_A(LD64, uint64_t, v_)
    LOAD_A(LD8S32, int8_t, (uint32_t)(int32_t)v_)
    LOAD_A(LD8S64, int8_t, (uint64_t)(int64_t)v_)
    LOAD_A(LD8U, uint8_t, v_)
    LOAD_A(LD16S32, int16_t, (uint32_t)(int32_t)v_)
    LOAD_A(LD16S64, int16_t, (uint64_t)(int64_t)v_)
    LOAD_A(LD16U, uint16_t, v_)
    LOAD_A(LD32S64, int32_t, (uint64_t)(int64_t)v_)
#define EA_AA(ka, kb, ko) (mem + (uint64_t)(uint32_t)(U32(ka) + U32(kb)) + (uint64_t)ip[ko])
#define LOAD_AA(name, T, conv)                                                                     \
    L_##name##_AA: {                                                                               \
        T v_;                                                                                      \
        memcpy(&v_, EA_AA(2, 3, 4), sizeof v_);                                                    \
        R(1) = conv;                                                                               \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    LOAD_AA(LD32, uint32_t, v_)
    LOAD_AA(LD64, uint64_t, v_)
    LOAD_AA(LD8S32, int8_t, (uint32_t)(int32_t)v_)
    LOAD_AA(LD8S64, int8_t, (uint64_t)(int64_t)v_)
    LOAD_AA(LD8U, uint8_t, v_)
    LOAD_AA(LD16S32, int16_t, (uint32_t)(int32_t)v_)
    LOAD_AA(LD16S64, int16_t, (uint64_t)(int64_t)v_)
    LOAD_AA(LD16U, uint16_t, v_)
    LOAD_AA(LD32S64, int32_t, (uint64_t)(int64_t)v_)
L_LD128:
    memcpy(&fp[ip[1]], EA(2, 3), 16);
    ip += 4;
    NEXT();
#define STORE(name, T)                                                                             \
    L_##name: {                                                                                    \
        T v_ = (T)R(2);                                                                            \
        memcpy(EA(1, 3), &v_, sizeof v_);                                                          \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
    STORE(ST8, uint8_t)
    STORE(ST16, uint16_t)
    STORE(ST32, uint32_t)
    STORE(ST64, uint64_t)
#define STORE_A(name, T)                                                                           \
    L_##name##_A: {                                                                                \
        T v_ = (T)R(2);                                                                            \
        memcpy(EA_A(1, 3, 4), &v_, sizeof v_);                                                     \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    STORE_A(ST8, uint8_t)
    STORE_A(ST16, uint16_t)
    STORE_A(ST32, uint32_t)
    STORE_A(ST64, uint64_t)
#define STORE_AA(name, T)                                                                          \
    L_##name##_AA: {                                                                               \
        T v_ = (T)R(2);                                                                            \
        memcpy(EA_AA(1, 3, 4), &v_, sizeof v_);                                                    \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    STORE_AA(ST8, uint8_t)
    STORE_AA(ST16, uint16_t)
    STORE_AA(ST32, uint32_t)
    STORE_AA(ST64, uint64_t)
L_ST128:
    memcpy(EA(1, 3), &fp[ip[2]], 16);
    ip += 4;
    NEXT();
L_ST32_I:
    memcpy(EA(1, 3), &ip[2], 4);
    ip += 4;
    NEXT();
L_ST64_I: {
    uint64_t v = ip[2] | (uint64_t)ip[3] << 32;
    memcpy(EA(1, 4), &v, 8);
    ip += 5;
    NEXT();
}
L_MEMORY_SIZE:
    R(1) = inst->mem0->pages;
    ip += 2;
    NEXT();
L_MEMORY_GROW: {
    int64_t old = kiln__memory_grow(inst->mem0, U32(2));
    R(1) = (uint32_t)(int32_t)old;
    ip += 3;
    NEXT();
}
L_MEMORY_COPY: {
    uint64_t d = U32(1), s = U32(2), n = U32(3), size = inst->mem0->size;
    if (d + n > size || s + n > size)
        TRAP(MEMORY_OOB);
    memmove(mem + d, mem + s, n);
    ip += 4;
    NEXT();
}
L_MEMORY_FILL: {
    uint64_t d = U32(1), n = U32(3);
    if (d + n > inst->mem0->size)
        TRAP(MEMORY_OOB);
    memset(mem + d, (int)(uint8_t)U32(2), n);
    ip += 4;
    NEXT();
}
L_MEMORY_INIT: {
    uint32_t di = ip[1];
    const struct kiln__data *seg = &inst->mod->datas[di];
    uint64_t d = U32(2), s = U32(3), n = U32(4);
    uint64_t len = inst->data_dropped[di] ? 0 : seg->len;
    if (s + n > len || d + n > inst->mem0->size)
        TRAP(MEMORY_OOB);
    if (n)
        memcpy(mem + d, inst->mod->bytes + seg->off + s, n);
    ip += 5;
    NEXT();
}
L_DATA_DROP:
    inst->data_dropped[ip[1]] = 1;
    ip += 2;
    NEXT();

    /* ---- numeric ---------------------------------------------------------------- */
#define UN(name, expr)                                                                             \
    L_##name: {                                                                                    \
        uint64_t x = R(2);                                                                         \
        R(1) = (expr);                                                                             \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
#define BIN(name, T, expr)                                                                         \
    L_##name: {                                                                                    \
        T a = (T)R(2), b = (T)R(3);                                                                \
        R(1) = (expr);                                                                             \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define BINI(name, T, expr)                                                                        \
    L_##name##_I: {                                                                                \
        T a = (T)R(2), b = (T)(int32_t)ip[3];                                                      \
        R(1) = (expr);                                                                             \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define BIN2(name, T, expr) BIN(name, T, expr) BINI(name, T, expr)
#define FBIN32(name, expr)                                                                         \
    L_##name: {                                                                                    \
        float a = F32(2), b = F32(3);                                                              \
        R(1) = (expr);                                                                             \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define FBIN64(name, expr)                                                                         \
    L_##name: {                                                                                    \
        double a = F64(2), b = F64(3);                                                             \
        R(1) = (expr);                                                                             \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }

    /* i32: operands as uint32_t, results zero-extended */
    UN(I32_EQZ, (uint32_t)x == 0)
    UN(I32_CLZ, (uint32_t)x ? (uint64_t)__builtin_clz((uint32_t)x) : 32)
    UN(I32_CTZ, (uint32_t)x ? (uint64_t)__builtin_ctz((uint32_t)x) : 32)
    UN(I32_POPCNT, (uint64_t)__builtin_popcount((uint32_t)x))
    UN(I64_EQZ, x == 0)
    UN(I64_CLZ, x ? (uint64_t)__builtin_clzll(x) : 64)
    UN(I64_CTZ, x ? (uint64_t)__builtin_ctzll(x) : 64)
    UN(I64_POPCNT, (uint64_t)__builtin_popcountll(x))
    UN(F32_ABS, x & 0x7fffffffu)
    UN(F32_NEG, (x ^ 0x80000000u) & 0xffffffffu)
    UN(F32_CEIL, bits32(ceil32(f32_of(x))))
    UN(F32_FLOOR, bits32(floor32(f32_of(x))))
    UN(F32_TRUNC, bits32(trunc32(f32_of(x))))
    UN(F32_NEAREST, bits32(nearest32(f32_of(x))))
    UN(F32_SQRT, bits32(__builtin_sqrtf(f32_of(x))))
    UN(F64_ABS, x & 0x7fffffffffffffffull)
    UN(F64_NEG, x ^ 0x8000000000000000ull)
    UN(F64_CEIL, bits64(ceil64(f64_of(x))))
    UN(F64_FLOOR, bits64(floor64(f64_of(x))))
    UN(F64_TRUNC, bits64(trunc64(f64_of(x))))
    UN(F64_NEAREST, bits64(nearest64(f64_of(x))))
    UN(F64_SQRT, bits64(__builtin_sqrt(f64_of(x))))
    UN(I32_WRAP_I64, (uint32_t)x)
    UN(I64_EXTEND_I32_S, (uint64_t)(int64_t)(int32_t)(uint32_t)x)
    UN(I64_EXTEND_I32_U, (uint32_t)x)
    UN(F32_CONVERT_I32_S, bits32((float)(int32_t)(uint32_t)x))
    UN(F32_CONVERT_I32_U, bits32((float)(uint32_t)x))
    UN(F32_CONVERT_I64_S, bits32((float)(int64_t)x))
    UN(F32_CONVERT_I64_U, bits32((float)x))
    UN(F32_DEMOTE_F64, bits32((float)f64_of(x)))
    UN(F64_CONVERT_I32_S, bits64((double)(int32_t)(uint32_t)x))
    UN(F64_CONVERT_I32_U, bits64((double)(uint32_t)x))
    UN(F64_CONVERT_I64_S, bits64((double)(int64_t)x))
    UN(F64_CONVERT_I64_U, bits64((double)x))
    UN(F64_PROMOTE_F32, bits64((double)f32_of(x)))
    UN(I32_EXTEND8_S, (uint32_t)(int32_t)(int8_t)x)
    UN(I32_EXTEND16_S, (uint32_t)(int32_t)(int16_t)x)
    UN(I64_EXTEND8_S, (uint64_t)(int64_t)(int8_t)x)
    UN(I64_EXTEND16_S, (uint64_t)(int64_t)(int16_t)x)
    UN(I64_EXTEND32_S, (uint64_t)(int64_t)(int32_t)x)
    UN(I32_TRUNC_SAT_F32_S, sat_i32(f32_of(x)))
    UN(I32_TRUNC_SAT_F32_U, sat_u32(f32_of(x)))
    UN(I32_TRUNC_SAT_F64_S, sat_i32(f64_of(x)))
    UN(I32_TRUNC_SAT_F64_U, sat_u32(f64_of(x)))
    UN(I64_TRUNC_SAT_F32_S, sat_i64(f32_of(x)))
    UN(I64_TRUNC_SAT_F32_U, sat_u64(f32_of(x)))
    UN(I64_TRUNC_SAT_F64_S, sat_i64(f64_of(x)))
    UN(I64_TRUNC_SAT_F64_U, sat_u64(f64_of(x)))

#define TRUNC(name, FT, conv, lo_ok, hi_ok, cast)                                                  \
    L_##name: {                                                                                    \
        FT x = conv(R(2));                                                                         \
        if (x != x)                                                                                \
            TRAP(BAD_CONVERSION);                                                                  \
        if (!((lo_ok) && (hi_ok)))                                                                 \
            TRAP(INT_OVERFLOW);                                                                    \
        R(1) = cast;                                                                               \
        ip += 3;                                                                                   \
        NEXT();                                                                                    \
    }
    TRUNC(I32_TRUNC_F32_S, float, f32_of, x >= -2147483648.0f, x < 2147483648.0f,
          (uint32_t)(int32_t)x)
    TRUNC(I32_TRUNC_F32_U, float, f32_of, x > -1.0f, x < 4294967296.0f, (uint32_t)x)
    TRUNC(I32_TRUNC_F64_S, double, f64_of, x > -2147483649.0, x < 2147483648.0,
          (uint32_t)(int32_t)x)
    TRUNC(I32_TRUNC_F64_U, double, f64_of, x > -1.0, x < 4294967296.0, (uint32_t)x)
    TRUNC(I64_TRUNC_F32_S, float, f32_of, x >= -9223372036854775808.0f,
          x < 9223372036854775808.0f, (uint64_t)(int64_t)x)
    TRUNC(I64_TRUNC_F32_U, float, f32_of, x > -1.0f, x < 18446744073709551616.0f, (uint64_t)x)
    TRUNC(I64_TRUNC_F64_S, double, f64_of, x >= -9223372036854775808.0,
          x < 9223372036854775808.0, (uint64_t)(int64_t)x)
    TRUNC(I64_TRUNC_F64_U, double, f64_of, x > -1.0, x < 18446744073709551616.0, (uint64_t)x)

    BIN2(I32_EQ, uint32_t, a == b)
    BIN2(I32_NE, uint32_t, a != b)
    BIN2(I32_LT_S, uint32_t, (int32_t)a < (int32_t)b)
    BIN2(I32_LT_U, uint32_t, a < b)
    BIN2(I32_GT_S, uint32_t, (int32_t)a > (int32_t)b)
    BIN2(I32_GT_U, uint32_t, a > b)
    BIN2(I32_LE_S, uint32_t, (int32_t)a <= (int32_t)b)
    BIN2(I32_LE_U, uint32_t, a <= b)
    BIN2(I32_GE_S, uint32_t, (int32_t)a >= (int32_t)b)
    BIN2(I32_GE_U, uint32_t, a >= b)
    BIN2(I64_EQ, uint64_t, a == b)
    BIN2(I64_NE, uint64_t, a != b)
    BIN2(I64_LT_S, uint64_t, (int64_t)a < (int64_t)b)
    BIN2(I64_LT_U, uint64_t, a < b)
    BIN2(I64_GT_S, uint64_t, (int64_t)a > (int64_t)b)
    BIN2(I64_GT_U, uint64_t, a > b)
    BIN2(I64_LE_S, uint64_t, (int64_t)a <= (int64_t)b)
    BIN2(I64_LE_U, uint64_t, a <= b)
    BIN2(I64_GE_S, uint64_t, (int64_t)a >= (int64_t)b)
    BIN2(I64_GE_U, uint64_t, a >= b)
    FBIN32(F32_EQ, a == b)
    FBIN32(F32_NE, a != b)
    FBIN32(F32_LT, a < b)
    FBIN32(F32_GT, a > b)
    FBIN32(F32_LE, a <= b)
    FBIN32(F32_GE, a >= b)
    FBIN64(F64_EQ, a == b)
    FBIN64(F64_NE, a != b)
    FBIN64(F64_LT, a < b)
    FBIN64(F64_GT, a > b)
    FBIN64(F64_LE, a <= b)
    FBIN64(F64_GE, a >= b)

    BIN2(I32_ADD, uint32_t, (uint32_t)(a + b))
    BIN(I32_SUB, uint32_t, (uint32_t)(a - b))
    BIN2(I32_MUL, uint32_t, (uint32_t)(a * b))
    BIN2(I32_AND, uint32_t, a & b)
    BIN2(I32_OR, uint32_t, a | b)
    BIN2(I32_XOR, uint32_t, a ^ b)
    BIN2(I32_SHL, uint32_t, (uint32_t)(a << (b & 31)))
    BIN2(I32_SHR_S, uint32_t, (uint32_t)((int32_t)a >> (b & 31)))
    BIN2(I32_SHR_U, uint32_t, a >> (b & 31))
    BIN(I32_ROTL, uint32_t, rotl32(a, b))
    BIN(I32_ROTR, uint32_t, rotr32(a, b))
    BIN2(I64_ADD, uint64_t, a + b)
    BIN(I64_SUB, uint64_t, a - b)
    BIN2(I64_MUL, uint64_t, a * b)
    BIN2(I64_AND, uint64_t, a & b)
    BIN2(I64_OR, uint64_t, a | b)
    BIN2(I64_XOR, uint64_t, a ^ b)
    BIN2(I64_SHL, uint64_t, a << (b & 63))
    BIN2(I64_SHR_S, uint64_t, (uint64_t)((int64_t)a >> (b & 63)))
    BIN2(I64_SHR_U, uint64_t, a >> (b & 63))
    BIN(I64_ROTL, uint64_t, rotl64(a, b))
    BIN(I64_ROTR, uint64_t, rotr64(a, b))

L_I32_DIV_S: {
    int32_t a = I32(2), b = I32(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    if (a == INT32_MIN && b == -1)
        TRAP(INT_OVERFLOW);
    R(1) = (uint32_t)(a / b);
    ip += 4;
    NEXT();
}
L_I32_DIV_U: {
    uint32_t a = U32(2), b = U32(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    R(1) = a / b;
    ip += 4;
    NEXT();
}
L_I32_REM_S: {
    int32_t a = I32(2), b = I32(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    R(1) = b == -1 ? 0 : (uint32_t)(a % b);
    ip += 4;
    NEXT();
}
L_I32_REM_U: {
    uint32_t a = U32(2), b = U32(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    R(1) = a % b;
    ip += 4;
    NEXT();
}
L_I64_DIV_S: {
    int64_t a = I64(2), b = I64(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    if (a == INT64_MIN && b == -1)
        TRAP(INT_OVERFLOW);
    R(1) = (uint64_t)(a / b);
    ip += 4;
    NEXT();
}
L_I64_DIV_U: {
    uint64_t a = R(2), b = R(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    R(1) = a / b;
    ip += 4;
    NEXT();
}
L_I64_REM_S: {
    int64_t a = I64(2), b = I64(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    R(1) = b == -1 ? 0 : (uint64_t)(a % b);
    ip += 4;
    NEXT();
}
L_I64_REM_U: {
    uint64_t a = R(2), b = R(3);
    if (b == 0)
        TRAP(DIV_ZERO);
    R(1) = a % b;
    ip += 4;
    NEXT();
}

    FBIN32(F32_ADD, bits32(a + b))
    FBIN32(F32_SUB, bits32(a - b))
    FBIN32(F32_MUL, bits32(a * b))
    FBIN32(F32_DIV, bits32(a / b))
    FBIN32(F32_MIN, bits32(kiln__simd_fmin32(a, b)))
    FBIN32(F32_MAX, bits32(kiln__simd_fmax32(a, b)))
#define FK32(name, expr)                                                                           \
    L_##name##_K: {                                                                                \
        float a = F32(2), b = f32_of(ip[3]);                                                       \
        R(1) = bits32(expr);                                                                       \
        ip += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define FK64(name, expr)                                                                           \
    L_##name##_K: {                                                                                \
        double a = F64(2), b = f64_of(ip[3] | (uint64_t)ip[4] << 32);                              \
        R(1) = bits64(expr);                                                                       \
        ip += 5;                                                                                   \
        NEXT();                                                                                    \
    }
    FK32(F32_ADD, a + b)
    FK32(F32_SUB, a - b)
    FK32(F32_MUL, a * b)
    FK32(F32_DIV, a / b)
    FK64(F64_ADD, a + b)
    FK64(F64_SUB, a - b)
    FK64(F64_MUL, a * b)
    FK64(F64_DIV, a / b)
    FK32(F32_RSUB, b - a)
    FK32(F32_RDIV, b / a)
    FK64(F64_RSUB, b - a)
    FK64(F64_RDIV, b / a)
L_F32_COPYSIGN:
    R(1) = (R(2) & 0x7fffffffu) | (R(3) & 0x80000000u);
    ip += 4;
    NEXT();
    FBIN64(F64_ADD, bits64(a + b))
    FBIN64(F64_SUB, bits64(a - b))
    FBIN64(F64_MUL, bits64(a * b))
    FBIN64(F64_DIV, bits64(a / b))
    FBIN64(F64_MIN, bits64(kiln__simd_fmin64(a, b)))
    FBIN64(F64_MAX, bits64(kiln__simd_fmax64(a, b)))
L_F64_COPYSIGN:
    R(1) = (R(2) & 0x7fffffffffffffffull) | (R(3) & 0x8000000000000000ull);
    ip += 4;
    NEXT();

#include "wasm/interp_simd.inc" /* SIMD handlers (simd helper) */

    /* ---- pair ops (compile.h KILN__PAIRS) -------------------------------------- */
    /* PA_<A>: the effect of op A without advancing ip; PLEN_<A>: its length */
#define PA_LD32 { uint32_t v_; memcpy(&v_, EA(2, 3), 4); R(1) = v_; }
#define PA_LD8U { uint8_t v_; memcpy(&v_, EA(2, 3), 1); R(1) = v_; }
#define PA_LD8S32 { int8_t v_; memcpy(&v_, EA(2, 3), 1); R(1) = (uint32_t)(int32_t)v_; }
#define PA_LD8U_A { uint8_t v_; memcpy(&v_, EA_A(2, 3, 4), 1); R(1) = v_; }
#define PA_ST8_A { uint8_t v_ = (uint8_t)R(2); memcpy(EA_A(1, 3, 4), &v_, 1); }
#define PA_ST8 { uint8_t v_ = (uint8_t)R(2); memcpy(EA(1, 3), &v_, 1); }
#define PA_I32_ADD_I2 { R(1) = (uint32_t)(U32(2) + ip[3]); R(4) = (uint32_t)(U32(5) + ip[6]); }
#define PA_I32_ADD_I { R(1) = (uint32_t)(U32(2) + ip[3]); }
#define PA_I32_MUL_I { R(1) = (uint32_t)(U32(2) * ip[3]); }
#define PA_I32_ADD { R(1) = (uint32_t)(U32(2) + U32(3)); }
#define PA_I32_SHL_I { R(1) = (uint32_t)(U32(2) << (ip[3] & 31)); }
#define PA_I32_AND { R(1) = U32(2) & U32(3); }
#define PA_GLOBAL_GET { R(1) = globals[ip[2]]->val[0]; }
#define PA_CONST32 { R(1) = ip[2]; }
#define PA_COPY { R(1) = R(2); }
#define PA_COPY_COPY { uint64_t x_ = fp[ip[2]]; fp[ip[1]] = x_; x_ = fp[ip[4]]; fp[ip[3]] = x_; }
#define PA_I64_ADD_I { R(1) = R(2) + (uint64_t)(int64_t)(int32_t)ip[3]; }
#define PA_I32_SHR_U_I { R(1) = U32(2) >> (ip[3] & 31); }
#define PA_I32_SHR_U { R(1) = U32(2) >> (U32(3) & 31); }
#define PA_LD32_AA { uint32_t v_; memcpy(&v_, EA_AA(2, 3, 4), 4); R(1) = v_; }
#define PA_I32_SHRU_AND_I { R(1) = (U32(2) >> (ip[3] & 31)) & ip[4]; }
#define PA_LD32_A { uint32_t v_; memcpy(&v_, EA_A(2, 3, 4), 4); R(1) = v_; }
#define PA_LD16U { uint16_t v_; memcpy(&v_, EA(2, 3), 2); R(1) = v_; }
#define PA_LD64 { uint64_t v_; memcpy(&v_, EA(2, 3), 8); R(1) = v_; }
#define PA_I32_OR { R(1) = U32(2) | U32(3); }
#define PA_ST32 { uint32_t v_ = (uint32_t)R(2); memcpy(EA(1, 3), &v_, 4); }
#define PA_I32_AND_I { R(1) = U32(2) & ip[3]; }
#define PLEN_(a, n) PLEN_##a = n,
    enum { KILN__PAIR_HEADS(PLEN_) PLEN__END };
#undef PLEN_
#define PAIR_HANDLER(X_, a, b)                                                                      \
    L_P_##a##__##b:                                                                                \
    PA_##a;                                                                                        \
    ip += PLEN_##a;                                                                                \
    goto L_##b;
    KILN__PAIRS(PAIR_HANDLER, _)
#undef PAIR_HANDLER
#define TRIPLE_HANDLER(X_, a, b, c)                                                                 \
    L_P3_##a##__##b##__##c:                                                                        \
    PA_##a;                                                                                        \
    ip += PLEN_##a;                                                                                \
    PA_##b;                                                                                        \
    ip += PLEN_##b;                                                                                \
    goto L_##c;
    KILN__TRIPLES(TRIPLE_HANDLER, _)
#undef TRIPLE_HANDLER
#define QUAD_HANDLER(X_, a, b, c, d)                                                                \
    L_P4_##a##__##b##__##c##__##d:                                                                 \
    PA_##a;                                                                                        \
    ip += PLEN_##a;                                                                                \
    PA_##b;                                                                                        \
    ip += PLEN_##b;                                                                                \
    PA_##c;                                                                                        \
    ip += PLEN_##c;                                                                                \
    goto L_##d;
    KILN__QUADS(QUAD_HANDLER, _)
#undef QUAD_HANDLER


    /* ---- exits ---------------------------------------------------------------- */
L__base:
do_trap:
    if (rbase != rlocal)
        free(rbase);
    ex->depth = saved_depth;
    ex->sp = saved_sp;
    if (ex->trap) {
        ex->trap->kind = trap;
        if (!host_trap || !ex->trap->msg[0]) {
            if ((trap == KILN_TRAP_UNDEFINED_ELEMENT || trap == KILN_TRAP_UNINIT_ELEMENT) &&
                trap_arg != UINT32_MAX)
                snprintf(ex->trap->msg, sizeof ex->trap->msg, "%s %u", kiln_trap_message(trap),
                         trap_arg);
            else
                snprintf(ex->trap->msg, sizeof ex->trap->msg, "%s", kiln_trap_message(trap));
        }
    }
    return trap;
done:
    if (rbase != rlocal)
        free(rbase);
    if (res && cur->code->nresult_slots)
        memcpy(res, fp, cur->code->nresult_slots * sizeof *fp);
    ex->depth = saved_depth;
    ex->sp = saved_sp;
    return 0;
}

/* Returns the handler table (see compile.h). */
const int32_t *kiln__interp_handlers(void)
{
    const int32_t *t = atomic_load(&g_handlers);
    if (!t) {
        run(NULL, NULL, NULL, NULL);
        t = atomic_load(&g_handlers);
    }
    return t;
}

/* Runs defined function f (see runtime.h). Returns 0 or a trap kind with
 * ex->trap filled. Results go to res[0..nresult_slots). */
int kiln__interp_call(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args,
                      uint64_t *res)
{
    if (!f->code) {
        /* a host function reached through the interpreter entry */
        struct kiln_caller caller = {ex->store, NULL, ex->trap};
        return f->host ? f->host(&caller, args, res, f->env) : KILN_TRAP_UNREACHABLE;
    }
    return run(ex, f, args, res);
}
