/*
 * exprgen.c — randomized differential test of the AOT translator
 * (src/wasm/aot/translate*.c): interpreter vs AOT on generated modules.
 *
 *   aot-exprgen-test WAT2WASM CACHE_DIR [--seed N] [--modules M] [--first I]
 *                    [--funcs F] [--out DIR] [--clean-cache] [--keep-going]
 *                    [--wat FILE] [--cc CC] [--opt FLAG]
 *
 * For each module index i in [I, I+M) a generator seeded with (N, i) writes
 * a valid wasm module as WAT text: one page of memory (exported "mem") with
 * a data segment of random bytes, two mutable globals (exported "g32",
 * "g64"), and F (16) functions f0..f<F-1>, each (param i32 i32 i64) with an
 * i32 or i64 result, all exported. Their bodies are integer code in the
 * style clang emits:
 *   - many locals, REUSED: local.set/tee/get of the same local for values
 *     of unrelated meaning, parameters overwritten too;
 *   - constants with interesting bit patterns (sign-extended -24575,
 *     0xffffa001, 0xffff..., masks, single bits, shift counts >= 32)
 *     feeding and/or/xor/add/sub/mul/shl/shr/rotates; "demanded bits"
 *     shapes (translate_bits.c): a constant xor/or/and/add whose result
 *     only feeds a mask, a shift, a narrow store, wrap, extend8/16_s —
 *     often teed into a local that is then read whole elsewhere;
 *   - select, eqz/eq/lt_u/... comparisons, clz/ctz/popcnt, wrap/extend,
 *     div/rem guarded against traps, narrow loads and stores at masked
 *     addresses (& 0xfff and the like, so they stay below 0x1020);
 *   - block/if/else with results, br_if with a value, br_table, a counted
 *     loop of at most 7 (or 8) rounds, a call to a lower-numbered function;
 *   - a linked list of 2..8 nodes built in memory (0x2000..0x2100, never
 *     touched by the masked stores; next at +0, +8 or +12; its length may
 *     depend on $a) and walked
 *     with `loop (local.set $p (i32.load (local.get $p))) ... br_if`: the
 *     pointer-chase path (translate_chase.c, kx_lh_ loads), some walks
 *     storing into the nodes or unlinking every second node;
 *   - in about 15% of the functions one operation that traps for some
 *     values of $c (which such a function never writes): division by zero
 *     or overflow, a load out of bounds, unreachable in a branch.
 * The result mixes several locals and is returned whole or masked
 * (& 0xffff, >> 1 & 0x7fff).
 *
 * The module is converted with WAT2WASM, loaded twice, one copy compiled
 * with kiln_aot_compile_cached(CACHE_DIR; --cc/--opt: kiln_aot_opts.cc,
 * .opt). Both are instantiated in their own stores and every export is
 * called with the same 8 argument triples (edge values 0, -1, 0x7fffffff,
 * 0x80000000, 0xffff, 0x8000, 1, 0xfff and random ones), in the same order
 * (memory and globals carry over between calls). After each call the
 * results or trap kinds, the whole memory and both globals must be equal.
 * A module the C compiler rejects counts as a failure too.
 *
 * On a mismatch: prints the seed, module index, function, arguments, both
 * outcomes (and the differing memory bytes), keeps the .wat/.wasm (paths
 * printed) and exits 1, or with --keep-going goes on with the next module
 * and exits 1 at the end. Otherwise prints one summary line (modules,
 * functions, calls compared, how many trapped) and exits 0. --out DIR
 * keeps every module there; --clean-cache deletes CACHE_DIR's *.so after
 * each module (the long run would otherwise fill the disk).
 * Reproduce one module: --seed N --first I --modules 1 --out DIR; rerun an
 * edited (reduced) module with the same arguments: --seed N --first I
 * --wat FILE.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aot_check.h"
#include "kiln/aot.h"
#include "kiln/wasm.h"

/* ---- output buffer ------------------------------------------------------- */

struct buf {
    char *s;
    size_t len, cap;
};

static void out(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) abort();
        if (b->s && b->len + (size_t)n < b->cap) break;
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s) abort();
    }
    b->len += (size_t)n;
}

/* ---- random numbers (splitmix64) ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, n) (n > 0) */
static unsigned rn(unsigned n)
{
    return (unsigned)(rnd64() % n);
}

/* true with probability pct/100 */
static bool chance(unsigned pct)
{
    return rn(100) < pct;
}

/* ---- generator ------------------------------------------------------------ */

enum { T32, T64 };
enum { NX = 10, NY = 6, MAXF = 64 };

/* The function being generated. i32 locals: $a $b (params) $x0..$x9; i64:
 * $c (param) $y0..$y5. busy: i32 locals (bit k = $xk) that must not be
 * written (a loop counter, a list pointer). */
struct fgen {
    struct buf *o;
    int self;             /* function index */
    int rtype[MAXF];      /* result type of each function */
    uint32_t busy;
    int in_loop;          /* no loops, calls or list walks inside a loop */
    int calls;            /* call sites so far (at most one) */
    int traps;            /* trapping operations so far */
    bool allow_trap;      /* this function may hold one */
    int label;            /* next label number */
};

static void e32(struct fgen *g, int d);
static void e64(struct fgen *g, int d);
static void stmts(struct fgen *g, int n, int d);

static const uint32_t k32[] = {
    0,          1,          2,          3,          4,          7,          8,
    15,         16,         24,         31,         32,         33,         0x7f,
    0x80,       0xff,       0x100,      0xfff,      0x1000,     0x7fff,     0x8000,
    0xa001,     0xffff,     0x10000,    0xff00,     0xff00ff00, 0x00ff00ff, 0x0f0f0f0f,
    0x55555555, 0xaaaaaaaa, 0x12345678, 0xdeadbeef, 0x7fffffff, 0x80000000, 0x80000001,
    0xfffffffe, 0xffffffff, 0xffff0000, 0xffffff00, 0xffffa001, 0xffff8000, 0xffff7fff,
    0xffffff80, 0xfffffff8, 0x3fffffff, 0xc0000000, (uint32_t)-24575, (uint32_t)-128,
};
#define NK32 (sizeof k32 / sizeof k32[0])

static uint32_t const32(void)
{
    unsigned k = rn(10);
    if (k < 5) return k32[rn(NK32)];
    if (k == 5) return (uint32_t)(int32_t)(int16_t)rnd64(); /* sign-extended 16-bit */
    if (k == 6) return (uint32_t)rn(256);
    if (k == 7) return (((uint32_t)1 << rn(32)) - 1) ^ (chance(50) ? 0xffffffffu : 0);
    if (k == 8) return (uint32_t)1 << rn(32);
    return (uint32_t)rnd64();
}

static uint64_t const64(void)
{
    unsigned k = rn(12);
    static const uint64_t k64[] = {
        0, 1, 0xff, 0xffff, 0xffffffff, 0x100000000ull, 0xffffffff00000000ull,
        0xffffffffffffa001ull, 0xffffffffffff0000ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, 0xffffffffffffffffull, 0x00000000ffffa001ull,
        0x8000000080000000ull, 0x0123456789abcdefull, 0xfedcba9876543210ull, 32, 63, 64, 31,
    };
    if (k < 4) return k64[rn(sizeof k64 / sizeof k64[0])];
    if (k < 7) return (uint64_t)(int64_t)(int32_t)const32(); /* sign-extended i32 */
    if (k == 7) return (uint64_t)const32();
    if (k == 8) return (((uint64_t)1 << rn(64)) - 1) ^ (chance(50) ? ~0ull : 0);
    if (k == 9) return (uint64_t)1 << rn(64);
    if (k == 10) return rn(256);
    return rnd64();
}

static void c32(struct fgen *g, uint32_t v)
{
    if (chance(50)) out(g->o, "(i32.const %" PRId32 ")", (int32_t)v);
    else out(g->o, "(i32.const 0x%" PRIx32 ")", v);
}

static void c64(struct fgen *g, uint64_t v)
{
    if (chance(50)) out(g->o, "(i64.const %" PRId64 ")", (int64_t)v);
    else out(g->o, "(i64.const 0x%" PRIx64 ")", v);
}

/* i32 local names: 0 = $a, 1 = $b, 2.. = $x0..; i64: 0 = $c, 1.. = $y0.. */
static const char *const names32[2 + NX] = {"$a",  "$b",  "$x0", "$x1", "$x2", "$x3",
                                            "$x4", "$x5", "$x6", "$x7", "$x8", "$x9"};
static const char *const names64[1 + NY] = {"$c", "$y0", "$y1", "$y2", "$y3", "$y4", "$y5"};

static const char *l32(int k)
{
    return names32[k];
}

static int get32(void)
{
    return chance(15) ? (int)rn(2) : 2 + (int)rn(NX);
}

/* a writable i32 local (not busy) */
static int set32(struct fgen *g)
{
    for (;;) {
        int k = chance(10) ? (int)rn(2) : 2 + (int)rn(NX);
        if (k < 2 || !(g->busy & (1u << (k - 2)))) return k;
    }
}

/* a free $x local, marked busy */
static int grab32(struct fgen *g)
{
    for (;;) {
        int k = (int)rn(NX);
        if (!(g->busy & (1u << k))) {
            g->busy |= 1u << k;
            return k + 2;
        }
    }
}

static void release32(struct fgen *g, int k)
{
    g->busy &= ~(1u << (k - 2));
}

static const char *l64(int k)
{
    return names64[k];
}

static int get64(void)
{
    return chance(15) ? 0 : 1 + (int)rn(NY);
}

/* An address below 0x1010 (plus a small offset=): masked or constant. */
static void addr(struct fgen *g, int d)
{
    static const uint32_t masks[] = {0xfff, 0xff0, 0xffc, 0xff8, 0x7f, 0xff, 0x3f8, 0x0f0};
    if (chance(25)) {
        c32(g, rn(0x1000));
        return;
    }
    out(g->o, "(i32.and ");
    if (chance(50)) out(g->o, "(local.get %s)", l32(get32()));
    else e32(g, d - 1);
    out(g->o, " ");
    c32(g, masks[rn(sizeof masks / sizeof masks[0])]);
    out(g->o, ")");
}

static const char *offset(void)
{
    static const char *offs[] = {"", "", "", "offset=1 ", "offset=2 ", "offset=4 ",
                                 "offset=8 ", "offset=16 "};
    return offs[rn(sizeof offs / sizeof offs[0])];
}

/* An operation that traps for some arguments (at most one per function).
 * Its condition reads $c, which such a function never writes. */
static bool maybe_trap32(struct fgen *g, int d)
{
    if (!g->allow_trap || g->traps || g->in_loop || !chance(3)) return false;
    g->traps++;
    switch (rn(4)) {
    case 0: /* divide by zero when the low byte of $c is 0 */
        out(g->o, "(i32.div_u ");
        e32(g, d - 1);
        out(g->o, " (i32.and (i32.wrap_i64 (local.get $c)) (i32.const 0xff)))");
        break;
    case 1: /* by zero when the low half of $c is 0; INT_MIN / -1 overflows */
        out(g->o, "(i32.div_s (i32.wrap_i64 (i64.shr_u (local.get $c) (i64.const 32))) "
                  "(i32.wrap_i64 (local.get $c)))");
        break;
    case 2: /* out of bounds when $c >> 16 is large */
        out(g->o, "(i32.load8_u offset=3 (i32.wrap_i64 (i64.shr_u (local.get $c) (i64.const 16))))");
        break;
    default: /* unreachable on one branch */
        out(g->o, "(if (result i32) (i64.eq (local.get $c) (i64.const -1)) (then unreachable) "
                  "(else ");
        e32(g, d - 1);
        out(g->o, "))");
        break;
    }
    return true;
}

static void e32_leaf(struct fgen *g)
{
    switch (rn(10)) {
    case 0: case 1: case 2: case 3: case 4:
        out(g->o, "(local.get %s)", l32(get32()));
        break;
    case 5: case 6: case 7:
        c32(g, const32());
        break;
    case 8: {
        static const char *ld[] = {"i32.load", "i32.load8_u", "i32.load8_s", "i32.load16_u",
                                   "i32.load16_s"};
        out(g->o, "(%s %s", ld[rn(5)], offset());
        addr(g, 1);
        out(g->o, ")");
        break;
    }
    default:
        out(g->o, "(global.get $g32)");
        break;
    }
}

/* A "demanded bits" shape: a constant mixed in, then only some bits used. */
static void demanded32(struct fgen *g, int d)
{
    static const char *mix[] = {"xor", "xor", "or", "and", "add", "sub"};
    const char *m = mix[rn(sizeof mix / sizeof mix[0])];
    int tee = chance(40) ? set32(g) : -1;
    unsigned k = rn(7);
    static const char *pre[] = {
        "(i32.and (i32.shr_u ", "(i32.and ", "(i32.extend8_s ", "(i32.extend16_s ",
        "(i32.shl ", "(i32.shr_s (i32.shl ", "(i32.and (i32.shr_s ",
    };
    out(g->o, "%s", pre[k]);
    if (tee >= 0) out(g->o, "(local.tee %s ", l32(tee));
    out(g->o, "(i32.%s ", m);
    e32(g, d - 1);
    out(g->o, " ");
    c32(g, chance(70) ? k32[36 + rn(NK32 - 36)] : const32());
    out(g->o, ")");
    if (tee >= 0) out(g->o, ")");
    switch (k) {
    case 0: case 6:
        out(g->o, " (i32.const %u)) (i32.const 0x%x))", rn(17), chance(50) ? 0x7fffu : 0xffu);
        break;
    case 1:
        out(g->o, " (i32.const 0x%x))", chance(50) ? 0xffffu : chance(50) ? 0xffu : 0x7f00u);
        break;
    case 2: case 3:
        out(g->o, ")");
        break;
    case 4:
        out(g->o, " (i32.const %u))", 8 + rn(24));
        break;
    default:
        out(g->o, " (i32.const 16)) (i32.const %u))", 16 + rn(16));
        break;
    }
}

static void e32(struct fgen *g, int d)
{
    static const char *bin[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_u",
                                "shr_s", "rotl", "rotr", "and", "xor", "or"};
    static const char *cmp[] = {"eq", "ne", "lt_u", "lt_s", "gt_u", "gt_s", "le_u", "le_s",
                                "ge_u", "ge_s"};
    static const char *un[] = {"eqz", "clz", "ctz", "popcnt", "extend8_s", "extend16_s"};
    if (d <= 0 || chance(15)) {
        e32_leaf(g);
        return;
    }
    if (maybe_trap32(g, d)) return;
    switch (rn(21)) {
    case 0: case 1: case 2: case 3: /* binary with a constant */
        out(g->o, "(i32.%s ", bin[rn(sizeof bin / sizeof bin[0])]);
        e32(g, d - 1);
        out(g->o, " ");
        c32(g, const32());
        out(g->o, ")");
        break;
    case 4: case 5: case 6: /* binary */
        out(g->o, "(i32.%s ", bin[rn(sizeof bin / sizeof bin[0])]);
        e32(g, d - 1);
        out(g->o, " ");
        e32(g, d - 1);
        out(g->o, ")");
        break;
    case 7:
        out(g->o, "(i32.%s ", cmp[rn(sizeof cmp / sizeof cmp[0])]);
        e32(g, d - 1);
        out(g->o, " ");
        if (chance(50)) c32(g, const32());
        else e32(g, d - 1);
        out(g->o, ")");
        break;
    case 8:
        out(g->o, "(i32.%s ", un[rn(sizeof un / sizeof un[0])]);
        e32(g, d - 1);
        out(g->o, ")");
        break;
    case 9:
        out(g->o, "(i32.wrap_i64 ");
        e64(g, d - 1);
        out(g->o, ")");
        break;
    case 10:
        if (chance(30)) {
            out(g->o, "(i64.eqz ");
        } else {
            out(g->o, "(i64.%s ", cmp[rn(sizeof cmp / sizeof cmp[0])]);
            e64(g, d - 1);
            out(g->o, " ");
        }
        e64(g, d - 1);
        out(g->o, ")");
        break;
    case 11:
        out(g->o, "(select ");
        e32(g, d - 1);
        out(g->o, " ");
        e32(g, d - 1);
        out(g->o, " ");
        e32(g, d - 1);
        out(g->o, ")");
        break;
    case 12: case 13:
        out(g->o, "(local.tee %s ", l32(set32(g)));
        e32(g, d - 1);
        out(g->o, ")");
        break;
    case 14:
        out(g->o, "(if (result i32) ");
        e32(g, d - 1);
        out(g->o, " (then ");
        if (chance(30)) stmts(g, 1, d - 1);
        e32(g, d - 1);
        out(g->o, ") (else ");
        e32(g, d - 1);
        out(g->o, "))");
        break;
    case 15: { /* br_if with a value */
        int l = g->label++;
        out(g->o, "(block $B%d (result i32) (drop (br_if $B%d ", l, l);
        e32(g, d - 1);
        out(g->o, " ");
        e32(g, d - 1);
        out(g->o, ")) ");
        if (chance(30)) stmts(g, 1, d - 1);
        e32(g, d - 1);
        out(g->o, ")");
        break;
    }
    case 16: case 17:
        demanded32(g, d);
        break;
    case 18: { /* division that cannot trap */
        static const char *dv[] = {"div_u", "rem_u", "div_s", "rem_s"};
        out(g->o, "(i32.%s ", dv[rn(4)]);
        e32(g, d - 1);
        out(g->o, " (i32.or (i32.and ");
        e32(g, d - 1);
        out(g->o, " (i32.const 0x%x)) (i32.const 1)))", chance(50) ? 0x7fffffffu : 0xffu);
        break;
    }
    case 19: /* a call to a lower-numbered function */
        if (g->self > 0 && !g->in_loop && !g->calls) {
            int f = (int)rn((unsigned)g->self);
            g->calls++;
            if (g->rtype[f] == T64) out(g->o, "(i32.wrap_i64 ");
            out(g->o, "(call $f%d ", f);
            e32(g, d - 1);
            out(g->o, " ");
            e32(g, d - 1);
            out(g->o, " ");
            e64(g, d - 1);
            out(g->o, ")");
            if (g->rtype[f] == T64) out(g->o, ")");
            break;
        }
        /* fall through */
    default:
        e32_leaf(g);
        break;
    }
}

static void e64_leaf(struct fgen *g)
{
    switch (rn(10)) {
    case 0: case 1: case 2: case 3: case 4:
        out(g->o, "(local.get %s)", l64(get64()));
        break;
    case 5: case 6: case 7:
        c64(g, const64());
        break;
    case 8: {
        static const char *ld[] = {"i64.load", "i64.load32_u", "i64.load32_s", "i64.load8_u",
                                   "i64.load16_s"};
        out(g->o, "(%s %s", ld[rn(5)], offset());
        addr(g, 1);
        out(g->o, ")");
        break;
    }
    default:
        out(g->o, "(global.get $g64)");
        break;
    }
}

static void e64(struct fgen *g, int d)
{
    static const char *bin[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_u",
                                "shr_s", "rotl", "rotr", "and", "xor", "or"};
    static const char *un[] = {"clz", "ctz", "popcnt", "extend8_s", "extend16_s", "extend32_s"};
    if (d <= 0 || chance(15)) {
        e64_leaf(g);
        return;
    }
    switch (rn(16)) {
    case 0: case 1: case 2:
        out(g->o, "(i64.%s ", bin[rn(sizeof bin / sizeof bin[0])]);
        e64(g, d - 1);
        out(g->o, " ");
        c64(g, const64());
        out(g->o, ")");
        break;
    case 3: case 4:
        out(g->o, "(i64.%s ", bin[rn(sizeof bin / sizeof bin[0])]);
        e64(g, d - 1);
        out(g->o, " ");
        e64(g, d - 1);
        out(g->o, ")");
        break;
    case 5:
        out(g->o, "(i64.%s ", un[rn(sizeof un / sizeof un[0])]);
        e64(g, d - 1);
        out(g->o, ")");
        break;
    case 6: case 7:
        out(g->o, "(i64.extend_i32_%s ", chance(50) ? "u" : "s");
        e32(g, d - 1);
        out(g->o, ")");
        break;
    case 8:
        out(g->o, "(select ");
        e64(g, d - 1);
        out(g->o, " ");
        e64(g, d - 1);
        out(g->o, " ");
        e32(g, d - 1);
        out(g->o, ")");
        break;
    case 9:
        out(g->o, "(local.tee %s ", l64(1 + (int)rn(NY)));
        e64(g, d - 1);
        out(g->o, ")");
        break;
    case 10:
        out(g->o, "(if (result i64) ");
        e32(g, d - 1);
        out(g->o, " (then ");
        e64(g, d - 1);
        out(g->o, ") (else ");
        e64(g, d - 1);
        out(g->o, "))");
        break;
    case 11: /* demanded bits: constant xor/or, then low 32 bits or a mask */
        out(g->o, "(i64.%s (i64.%s ", chance(50) ? "and" : "shr_u", chance(70) ? "xor" : "or");
        e64(g, d - 1);
        out(g->o, " ");
        c64(g, chance(50) ? 0xffffffffffffa001ull : const64());
        out(g->o, ") ");
        c64(g, chance(50) ? 0xffffffffull : rn(64));
        out(g->o, ")");
        break;
    case 12: { /* combining two i32 halves, as clang does */
        out(g->o, "(i64.or (i64.shl (i64.extend_i32_u ");
        e32(g, d - 1);
        out(g->o, ") (i64.const 32)) (i64.extend_i32_u ");
        e32(g, d - 1);
        out(g->o, "))");
        break;
    }
    case 13: {
        static const char *dv[] = {"div_u", "rem_u", "div_s", "rem_s"};
        out(g->o, "(i64.%s ", dv[rn(4)]);
        e64(g, d - 1);
        out(g->o, " (i64.or (i64.shr_u ");
        e64(g, d - 1);
        out(g->o, " (i64.const %u)) (i64.const 1)))", 1 + rn(40));
        break;
    }
    default:
        e64_leaf(g);
        break;
    }
}

/* A counted loop of at most 7 (while form) or 8 (do-while form) rounds. */
static void count_loop(struct fgen *g, int d)
{
    int k = grab32(g), l = g->label++;
    g->in_loop++;
    if (chance(50)) {
        out(g->o, "(local.set %s (i32.and ", l32(k));
        e32(g, 2);
        out(g->o, " (i32.const 7)))\n    (block $B%d (loop $L%d (br_if $B%d (i32.eqz (local.get %s)))\n    ",
            l, l, l, l32(k));
        stmts(g, 2 + (int)rn(4), d);
        out(g->o, "\n    (local.set %s (i32.sub (local.get %s) (i32.const 1))) (br $L%d)))", l32(k),
            l32(k), l);
    } else {
        out(g->o, "(local.set %s (i32.add (i32.and ", l32(k));
        e32(g, 2);
        out(g->o, " (i32.const 7)) (i32.const 1)))\n    (loop $L%d\n    ", l);
        stmts(g, 2 + (int)rn(4), d);
        out(g->o, "\n    (br_if $L%d (local.tee %s (i32.sub (local.get %s) (i32.const 1)))))", l,
            l32(k), l32(k));
    }
    g->in_loop--;
    release32(g, k);
}

/* Replaces every '@' in b from offset `from` on with rep (the generator
 * writes '@' where a list's next-field offset goes). */
static void expand_at(struct buf *b, size_t from, const char *rep)
{
    struct buf t = {0};
    size_t i;
    for (i = from; i < b->len; i++) {
        if (b->s[i] == '@') out(&t, "%s", rep);
        else out(&t, "%c", b->s[i]);
    }
    b->len = from;
    if (t.s) out(b, "%s", t.s);
    free(t.s);
}

/* A list of 2..8 nodes (16 bytes, in slots of 0x2000..0x2100: next at +0,
 * data at +4, an i64 at +8; or next at +8 or +12, so the chasing load has
 * an offset) built here, then walked. */
static void list_walk(struct fgen *g)
{
    int n = 2 + (int)rn(7), slot[16], p, acc, l = g->label++;
    unsigned variant = rn(4);
    bool y = chance(30);
    unsigned nxo = chance(60) ? 0 : chance(50) ? 8 : 12;
    size_t start = g->o->len;
    if (nxo) y = false; /* the i64 field would overlap next */
    int yacc = 1 + (int)rn(NY);
    for (int i = 0; i < 16; i++) slot[i] = i;
    for (int i = 15; i > 0; i--) {
        int j = (int)rn((unsigned)i + 1), t = slot[i];
        slot[i] = slot[j];
        slot[j] = t;
    }
    p = grab32(g);
    acc = grab32(g);
    g->in_loop++;
    for (int i = 0; i < n; i++) {
        unsigned a = 0x2000 + (unsigned)slot[i] * 16, nx = 0x2000 + (unsigned)slot[i + 1] * 16;
        if (i == n - 1) out(g->o, "(i32.store @(i32.const %u) (i32.const 0))\n    ", a);
        else if (i > 0 && chance(30)) /* the list may end here, depending on $a */
            out(g->o, "(i32.store @(i32.const %u) (select (i32.const 0) (i32.const %u) "
                      "(i32.eq (i32.and (local.get $a) (i32.const 7)) (i32.const %d))))\n    ",
                a, nx, i);
        else out(g->o, "(i32.store @(i32.const %u) (i32.const %u))\n    ", a, nx);
        out(g->o, "(i32.store offset=4 (i32.const %u) ", a);
        e32(g, 2);
        out(g->o, ")\n    ");
        if (y) {
            out(g->o, "(i64.store offset=8 (i32.const %u) ", a);
            e64(g, 1);
            out(g->o, ")\n    ");
        }
    }
    out(g->o, "(local.set %s (i32.const %u))\n    (local.set %s ", l32(p), 0x2000 + slot[0] * 16,
        l32(acc));
    e32(g, 1);
    out(g->o, ")\n    (loop $L%d\n      ", l);
    switch (variant) {
    case 0: /* data, then p = p->next */
        out(g->o, "(local.set %s (i32.%s (local.get %s) (i32.load offset=4 (local.get %s))))\n      ",
            l32(acc), chance(50) ? "add" : "xor", l32(acc), l32(p));
        if (y)
            out(g->o, "(local.set %s (i64.add (local.get %s) (i64.load offset=8 (local.get %s))))\n      ",
                l64(yacc), l64(yacc), l32(p));
        if (chance(40)) /* store into the node being walked */
            out(g->o, "(i32.store16 offset=4 (local.get %s) (i32.xor (local.get %s) (i32.const "
                      "0xffffa001)))\n      ",
                l32(p), l32(acc));
        out(g->o, "(local.set %s (i32.load @(local.get %s)))\n      (br_if $L%d (local.get %s)))",
            l32(p), l32(p), l, l32(p));
        break;
    case 1: /* p = p->next first (the head's data is skipped; 0 reads address 4) */
        out(g->o, "(local.set %s (i32.load @(local.get %s)))\n      ", l32(p), l32(p));
        out(g->o, "(local.set %s (i32.add (i32.mul (local.get %s) (i32.const 31)) "
                  "(i32.load8_u offset=4 (local.get %s))))\n      ",
            l32(acc), l32(acc), l32(p));
        out(g->o, "(br_if $L%d (local.get %s)))", l, l32(p));
        break;
    case 2: /* tee in the condition, through a select */
        out(g->o, "(local.set %s (i32.xor (local.get %s) (select (i32.load16_s offset=4 "
                  "(local.get %s)) (i32.const -24575) (i32.and (local.get %s) (i32.const 1)))))\n      ",
            l32(acc), l32(acc), l32(p), l32(acc));
        out(g->o, "(br_if $L%d (local.tee %s (i32.load @(local.get %s)))))", l, l32(p), l32(p));
        break;
    default: /* unlink every second node: p->next = p->next->next */
        out(g->o, "(local.set %s (i32.add (local.get %s) (i32.add (i32.const 1000) "
                  "(i32.load offset=4 (local.get %s)))))\n      ",
            l32(acc), l32(acc), l32(p));
        out(g->o, "(if (i32.load @(local.get %s)) (then (i32.store @(local.get %s) (i32.load @"
                  "(i32.load @(local.get %s))))))\n      ",
            l32(p), l32(p), l32(p));
        out(g->o, "(local.set %s (i32.load @(local.get %s)))\n      (br_if $L%d (local.get %s)))",
            l32(p), l32(p), l, l32(p));
        break;
    }
    g->in_loop--;
    release32(g, p);
    release32(g, acc);
    /* p is 0 now; the locals are reused for other values afterwards */
    expand_at(g->o, start, nxo == 0 ? "" : nxo == 8 ? "offset=8 " : "offset=12 ");
}

static void stmt(struct fgen *g, int d)
{
    unsigned k = rn(100);
    if (k < 40) {
        out(g->o, "(local.set %s ", l32(set32(g)));
        e32(g, d);
        out(g->o, ")");
    } else if (k < 55) {
        out(g->o, "(local.set %s ", l64(chance(10) && !g->allow_trap ? 0 : 1 + (int)rn(NY)));
        e64(g, d);
        out(g->o, ")");
    } else if (k < 70) {
        static const char *st32[] = {"i32.store", "i32.store8", "i32.store16"};
        static const char *st64[] = {"i64.store", "i64.store8", "i64.store16", "i64.store32"};
        bool w = chance(35);
        out(g->o, "(%s %s", w ? st64[rn(4)] : st32[rn(3)], offset());
        addr(g, d);
        out(g->o, " ");
        if (w) e64(g, d - 1);
        else e32(g, d - 1);
        out(g->o, ")");
    } else if (k < 73) {
        if (chance(50)) {
            out(g->o, "(global.set $g32 ");
            e32(g, d - 1);
        } else {
            out(g->o, "(global.set $g64 ");
            e64(g, d - 1);
        }
        out(g->o, ")");
    } else if (k < 80) {
        out(g->o, "(if ");
        e32(g, d - 1);
        out(g->o, " (then ");
        stmts(g, 1 + (int)rn(3), d - 1);
        out(g->o, ")");
        if (chance(60)) {
            out(g->o, " (else ");
            stmts(g, 1 + (int)rn(3), d - 1);
            out(g->o, ")");
        }
        out(g->o, ")");
    } else if (k < 85) {
        int l = g->label++;
        out(g->o, "(block $B%d ", l);
        stmts(g, 1 + (int)rn(2), d - 1);
        out(g->o, " (br_if $B%d ", l);
        e32(g, d - 1);
        out(g->o, ") ");
        stmts(g, 1 + (int)rn(2), d - 1);
        out(g->o, ")");
    } else if (k < 90 && !g->in_loop) {
        count_loop(g, d > 3 ? 3 : d);
    } else if (k < 93 && !g->in_loop) {
        list_walk(g);
    } else if (k < 96) {
        /* br_table over three nested blocks: 0 runs both tails, 1 the outer */
        int l = g->label;
        g->label += 3;
        out(g->o, "(block $B%d (block $B%d (block $B%d (br_table $B%d $B%d $B%d ", l, l + 1, l + 2,
            l + 2, l + 1, l);
        if (chance(50)) e32(g, d - 1);
        else {
            out(g->o, "(i32.and ");
            e32(g, d - 1);
            out(g->o, " (i32.const 3))");
        }
        out(g->o, ")) ");
        stmts(g, 1 + (int)rn(2), d - 1);
        out(g->o, ") ");
        stmts(g, 1 + (int)rn(2), d - 1);
        out(g->o, ")");
    } else {
        /* a local first set to a demanded-bits value, later read whole */
        int x = set32(g);
        out(g->o, "(local.set %s ", l32(x));
        demanded32(g, d);
        out(g->o, ") (local.set %s (i32.xor (local.get %s) ", l32(set32(g)), l32(x));
        c32(g, const32());
        out(g->o, "))");
    }
}

static void stmts(struct fgen *g, int n, int d)
{
    for (int i = 0; i < n; i++) {
        if (i) out(g->o, "\n    ");
        stmt(g, d);
    }
}

static void gen_func(struct buf *o, int self, const int *rtype, bool allow_trap)
{
    struct fgen g;
    int n = 10 + (int)rn(16);
    memset(&g, 0, sizeof g);
    g.o = o;
    g.self = self;
    memcpy(g.rtype, rtype, sizeof g.rtype);
    g.allow_trap = allow_trap;
    out(o, "  (func $f%d (export \"f%d\") (param $a i32) (param $b i32) (param $c i64) (result %s)\n",
        self, self, rtype[self] == T64 ? "i64" : "i32");
    out(o, "   ");
    for (int i = 0; i < NX; i++) out(o, " (local $x%d i32)", i);
    for (int i = 0; i < NY; i++) out(o, " (local $y%d i64)", i);
    out(o, "\n    ");
    if (chance(40)) { /* a list walk early, so most functions have one */
        list_walk(&g);
        out(o, "\n    ");
    }
    stmts(&g, n, 4);
    out(o, "\n    ");
    /* the result: several locals mixed in, returned whole or masked */
    if (rtype[self] == T32) {
        unsigned m = rn(4);
        if (m == 1) out(o, "(i32.and ");
        else if (m == 2) out(o, "(i32.and (i32.shr_u ");
        out(o, "(i32.add (i32.xor (local.get %s) (local.get %s)) ", l32(get32()), l32(get32()));
        out(o, "(i32.xor (i32.wrap_i64 (local.get %s)) ", l64(get64()));
        e32(&g, 3);
        out(o, "))");
        if (m == 1) out(o, " (i32.const 0xffff))");
        else if (m == 2) out(o, " (i32.const 1)) (i32.const 0x7fff))");
    } else {
        bool m = chance(25);
        if (m) out(o, "(i64.and ");
        out(o, "(i64.add (i64.xor (local.get %s) (i64.extend_i32_u (local.get %s))) ", l64(get64()),
            l32(get32()));
        e64(&g, 3);
        out(o, ")");
        if (m) out(o, " (i64.const 0xffff))");
    }
    out(o, ")\n");
}

/* The WAT text of module (seed, index) with nf functions. */
static void gen_module(struct buf *o, uint64_t seed, unsigned index, int nf)
{
    int rtype[MAXF];
    rng_state = seed * 0x100000001b3ull ^ ((uint64_t)index << 32 | index) ^ 0x6b696c6e;
    rnd64();
    out(o, ";; aot-exprgen-test --seed %" PRIu64 " --first %u --modules 1 --funcs %d\n(module\n",
        seed, index, nf);
    out(o, "  (memory (export \"mem\") 1)\n");
    out(o, "  (global $g32 (export \"g32\") (mut i32) (i32.const %" PRId32 "))\n",
        (int32_t)const32());
    out(o, "  (global $g64 (export \"g64\") (mut i64) (i64.const %" PRId64 "))\n",
        (int64_t)const64());
    out(o, "  (data (i32.const 0) \"");
    for (int i = 0; i < 256; i++) out(o, "\\%02x", rn(256));
    out(o, "\")\n");
    for (int f = 0; f < nf; f++) rtype[f] = chance(60) ? T32 : T64;
    for (int f = 0; f < nf; f++) gen_func(o, f, rtype, chance(15));
    out(o, ")\n");
}

/* ---- running --------------------------------------------------------------- */

static int run_wat2wasm(const char *tool, const char *wat, const char *wasm)
{
    pid_t pid = fork();
    int st;
    if (pid < 0) return -1;
    if (pid == 0) {
        execl(tool, tool, wat, "-o", wasm, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

struct side {
    struct kiln_store *store;
    struct kiln_instance *inst;
    struct kiln_memory *mem;
    struct kiln_global *g32, *g64;
};

static int side_new(struct side *s, struct kiln_module *m)
{
    struct kiln_store_config cfg;
    struct kiln_trap trap;
    struct kiln_error err = {0};
    struct kiln_extern e;
    kiln_store_config_default(&cfg);
    memset(s, 0, sizeof *s);
    s->store = kiln_store_new(&cfg);
    if (!s->store || kiln_instance_new(s->store, m, NULL, 0, &s->inst, &trap, &err) < 0) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        return -1;
    }
    s->mem = kiln_instance_memory(s->inst);
    if (!s->mem || !kiln_instance_export(s->inst, "g32", &e)) return -1;
    s->g32 = e.of.global;
    if (!kiln_instance_export(s->inst, "g64", &e)) return -1;
    s->g64 = e.of.global;
    return 0;
}

/* outcome of one call, as text */
static void call(struct side *s, const char *name, const struct kiln_val *args, char *res,
                 size_t len)
{
    struct kiln_extern e;
    struct kiln_val r[1];
    struct kiln_trap trap;
    memset(&trap, 0, sizeof trap);
    memset(r, 0, sizeof r);
    if (!kiln_instance_export(s->inst, name, &e)) {
        snprintf(res, len, "no export %s", name);
        return;
    }
    if (kiln_func_call(s->store, e.of.func, args, 3, r, 1, &trap) == 0) {
        if (r[0].type == KILN_I64)
            snprintf(res, len, "i64 %" PRId64 " (0x%" PRIx64 ")", r[0].of.i64,
                     (uint64_t)r[0].of.i64);
        else
            snprintf(res, len, "i32 %" PRId32 " (0x%" PRIx32 ")", r[0].of.i32,
                     (uint32_t)r[0].of.i32);
    } else {
        snprintf(res, len, "trap kind %d", trap.kind);
    }
}

static const uint32_t edge32[] = {0, 0xffffffff, 0x7fffffff, 0x80000000, 0xffff, 0x8000, 1, 0xfff};
static const uint64_t edge64[] = {0,          ~0ull,      0x7fffffffffffffffull,
                                  0x8000000000000000ull, 0xffffffffull, 0x80000000ull,
                                  0xffff,     1};

static uint32_t arg32(void)
{
    return chance(50) ? edge32[rn(8)] : chance(50) ? (uint32_t)rnd64() : rn(0x2000);
}

static uint64_t arg64(void)
{
    return chance(50) ? edge64[rn(8)] : chance(50) ? rnd64() : (uint64_t)(int64_t)(int32_t)arg32();
}

static void clean_cache(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096];
    if (!d) return;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n > 3 && !strcmp(de->d_name + n - 3, ".so")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    const char *tool, *cache, *outdir = NULL;
    const char *watin = NULL;
    const char *cc = NULL, *opt = NULL;
    uint64_t seed = 1;
    unsigned nmod = 1, first = 0, ncalls_per = 8;
    int nf = 16;
    bool clean = false;
    bool keep_going = false;
    int ncc_fail = 0;
    char dir[4096];
    unsigned long long nfuncs = 0, ncalls = 0, ntraps = 0;
    struct timespec t0, t1;
    if (argc < 3) goto usage;
    tool = argv[1];
    cache = argv[2];
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--modules") && i + 1 < argc) nmod = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--first") && i + 1 < argc) first = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--funcs") && i + 1 < argc) nf = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) outdir = argv[++i];
        else if (!strcmp(argv[i], "--clean-cache")) clean = true;
        else if (!strcmp(argv[i], "--keep-going")) keep_going = true;
        else if (!strcmp(argv[i], "--wat") && i + 1 < argc) watin = argv[++i];
        else if (!strcmp(argv[i], "--cc") && i + 1 < argc) cc = argv[++i];
        else if (!strcmp(argv[i], "--opt") && i + 1 < argc) opt = argv[++i];
        else goto usage;
    }
    if (nf < 1 || nf > MAXF) goto usage;
    if (outdir) {
        mkdir(outdir, 0777);
        snprintf(dir, sizeof dir, "%s", outdir);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/exprgen-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    }
    mkdir(cache, 0777);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned mi = first; mi < first + nmod; mi++) {
        struct buf wat = {0};
        char watp[4200], wasmp[4200];
        FILE *f;
        struct kiln_module *mi_int, *mi_aot;
        struct kiln_error err = {0};
        struct kiln_aot_opts opts;
        struct side si, sa;
        int bad = 0;
        if (watin) {
            size_t n = 0;
            wat.s = (char *)aot_read_file(watin, &n);
            if (!wat.s) {
                fprintf(stderr, "cannot read %s\n", watin);
                return 1;
            }
            wat.len = n;
        } else {
            gen_module(&wat, seed, mi, nf);
        }
        snprintf(watp, sizeof watp, "%s/m%" PRIu64 "-%u.wat", dir, seed, mi);
        snprintf(wasmp, sizeof wasmp, "%s/m%" PRIu64 "-%u.wasm", dir, seed, mi);
        f = fopen(watp, "w");
        if (!f || fwrite(wat.s, 1, wat.len, f) != wat.len || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", watp);
            return 1;
        }
        free(wat.s);
        if (run_wat2wasm(tool, watp, wasmp) < 0) {
            fprintf(stderr, "FAIL: %s rejected the generated module %s (seed %" PRIu64
                            ", module %u): a generator bug\n",
                    tool, watp, seed, mi);
            return 1;
        }
        mi_int = aot_load_module(wasmp);
        mi_aot = aot_load_module(wasmp);
        memset(&opts, 0, sizeof opts);
        opts.cc = cc;
        opts.opt = opt;
        if (kiln_aot_compile_cached(mi_aot, cache, &opts, &err) < 0) {
            fprintf(stderr, "FAIL: AOT compile of %s (seed %" PRIu64 ", module %u): %s\n", watp,
                    seed, mi, err.msg);
            failures++;
            ncc_fail++;
            kiln_module_free(mi_int);
            kiln_module_free(mi_aot);
            if (!keep_going) return 1;
            continue;
        }
        if (side_new(&si, mi_int) < 0 || side_new(&sa, mi_aot) < 0) {
            fprintf(stderr, "FAIL: cannot instantiate %s\n", watp);
            return 1;
        }
        /* the arguments come from their own stream, the same for both sides */
        rng_state = seed ^ ((uint64_t)mi * 0x9e3779b97f4a7c15ull) ^ 0xa5a5;
        for (int fi = 0; fi < nf && !bad; fi++) {
            char name[16];
            struct kiln_extern ex;
            snprintf(name, sizeof name, "f%d", fi);
            if (!kiln_instance_export(si.inst, name, &ex)) break;
            nfuncs++;
            for (unsigned c = 0; c < ncalls_per && !bad; c++) {
                struct kiln_val args[3];
                char ri[128], ra[128];
                struct kiln_val gi, ga;
                uint8_t *mdi = kiln_memory_data(si.mem), *mda = kiln_memory_data(sa.mem);
                uint64_t szi, sza;
                args[0].type = args[1].type = KILN_I32;
                args[2].type = KILN_I64;
                if (c < 4) { /* edge values first: all of one kind, then mixed */
                    args[0].of.i32 = (int32_t)edge32[(c * 3 + (unsigned)fi) % 8];
                    args[1].of.i32 = (int32_t)edge32[(c * 5 + 1 + (unsigned)fi) % 8];
                    args[2].of.i64 = (int64_t)edge64[(c * 3 + 2 + (unsigned)fi) % 8];
                } else {
                    args[0].of.i32 = (int32_t)arg32();
                    args[1].of.i32 = (int32_t)arg32();
                    args[2].of.i64 = (int64_t)arg64();
                }
                call(&si, name, args, ri, sizeof ri);
                call(&sa, name, args, ra, sizeof ra);
                ncalls++;
                if (!strncmp(ri, "trap", 4)) ntraps++;
                szi = kiln_memory_size(si.mem);
                sza = kiln_memory_size(sa.mem);
                kiln_global_get(si.g32, &gi);
                kiln_global_get(sa.g32, &ga);
                if (strcmp(ri, ra)) {
                    bad = 1;
                } else if (szi != sza || memcmp(mdi, mda, szi)) {
                    bad = 2;
                } else if (gi.of.i32 != ga.of.i32) {
                    bad = 3;
                } else {
                    kiln_global_get(si.g64, &gi);
                    kiln_global_get(sa.g64, &ga);
                    if (gi.of.i64 != ga.of.i64) bad = 3;
                }
                if (bad) {
                    fprintf(stderr,
                            "MISMATCH seed %" PRIu64 " module %u function %s args (%" PRId32
                            ", %" PRId32 ", %" PRId64 ") [0x%" PRIx32 ", 0x%" PRIx32
                            ", 0x%" PRIx64 "], call %u of this function\n"
                            "  interpreted: %s\n  AOT:         %s\n",
                            seed, mi, name, args[0].of.i32, args[1].of.i32, args[2].of.i64,
                            (uint32_t)args[0].of.i32, (uint32_t)args[1].of.i32,
                            (uint64_t)args[2].of.i64, c, ri, ra);
                    if (bad == 2) {
                        int shown = 0;
                        fprintf(stderr, "  memory differs (sizes %" PRIu64 "/%" PRIu64 "):", szi,
                                sza);
                        for (uint64_t k = 0; k < szi && k < sza && shown < 16; k++)
                            if (mdi[k] != mda[k]) {
                                fprintf(stderr, " [0x%" PRIx64 "] %02x/%02x", k, mdi[k], mda[k]);
                                shown++;
                            }
                        fprintf(stderr, " (interpreted/AOT)\n");
                    }
                    if (bad == 3) fprintf(stderr, "  globals differ\n");
                    fprintf(stderr,
                            "  reproducer: %s (%s); rerun: aot-exprgen-test WAT2WASM CACHE "
                            "--seed %" PRIu64 " --first %u --modules 1 --funcs %d --out DIR\n",
                            watp, wasmp, seed, mi, nf);
                }
            }
        }
        kiln_store_free(si.store);
        kiln_store_free(sa.store);
        kiln_module_free(mi_int);
        kiln_module_free(mi_aot);
        if (bad) {
            failures++;
            if (!keep_going) return 1;
        } else if (!outdir) {
            unlink(watp);
            unlink(wasmp);
        }
        if (clean) clean_cache(cache);
    }
    if (!outdir && !failures) rmdir(dir);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("aot-exprgen-test: seed %" PRIu64 ", %u modules, %llu functions, %llu calls compared "
           "(%llu trapped), %s (%.1f s)\n",
           seed, nmod, nfuncs, ncalls, ntraps,
           failures ? "FAILURES in the modules above" : "interpreter and AOT agree",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (failures)
        printf("%d of %u modules failed: %d mismatched, %d not compiled\n", failures, nmod,
               failures - ncc_fail, ncc_fail);
    return failures ? 1 : 0;
usage:
    fprintf(stderr, "usage: aot-exprgen-test WAT2WASM CACHE_DIR [--seed N] [--modules M] "
                    "[--first I] [--funcs F] [--out DIR] [--clean-cache] [--keep-going]\n"
                    "       [--wat FILE] [--cc CC] [--opt FLAG]\n");
    return 2;
}
