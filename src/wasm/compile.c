/*
 * compile.c — compiles a validated function body into the interpreter's
 * internal form (compile.h), in one pass over the bytes.
 *
 * The compiler keeps a virtual operand stack. Each entry has a canonical
 * slot (fixed by its stack position) and a current location: either a slot
 * (its canonical slot, or a local's slot after local.get) or a constant not
 * yet written anywhere. Instructions read their operands from wherever they
 * are, write their result to the canonical slot of the result position, and
 * a following local.set/local.tee rewrites that destination to the local.
 *
 * Invariants:
 *   - an entry located in a temp slot is always at its own canonical slot;
 *   - entries below the innermost control frame's base are canonical (every
 *     block/loop/if entry flushes the stack), so control-flow merges only
 *     ever see canonical slots;
 *   - before a local is written, entries that still refer to it are copied
 *     to their canonical slots;
 *   - the body was validated, so immediates and stack shapes are trusted;
 *     the reader is still bounds-checked.
 *
 * Fusions: compare (+ constant) followed by br_if/if becomes one
 * compare-and-branch; i32/i64 ops with a constant right operand use the
 * _I forms; eqz + br_if/if becomes a branch on zero; i32 stores of
 * constants use ST32_I. Branches to the function's outermost block are
 * compiled as returns.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/error.h"
#include "wasm/compile.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* (prefix << 16) | code for every opcode of ops.def. */
enum {
#define OP(id, prefix, code, name, imm, sig, arg) KEY_##id = ((prefix) << 16) | (code),
#include "wasm/ops.def"
    KEY__DUMMY
};

static const struct {
    uint8_t np, nr, r0;
} sig_info[KILN__SIG__COUNT] = {
#define SIG(sig, np, p0, p1, p2, nr, r0) [KILN__##sig] = {np, nr, r0},
#include "wasm/ops.def"
};

static int op_imm(uint32_t key)
{
    switch (key) {
#define OP(id, prefix, code, name, imm, sig, arg)                                                  \
    case KEY_##id:                                                                                 \
        return KILN__##imm;
#include "wasm/ops.def"
    default:
        return -1;
    }
}

static int op_sig(uint32_t key)
{
    switch (key) {
#define OP(id, prefix, code, name, imm, sig, arg)                                                  \
    case KEY_##id:                                                                                 \
        return KILN__##sig;
#include "wasm/ops.def"
    default:
        return -1;
    }
}

/* The internal op of a simple numeric opcode, or -1. */
static int num_iop(uint32_t key)
{
    switch (key) {
#define X(id)                                                                                      \
    case KEY_##id:                                                                                 \
        return KILN__I_##id;
        KILN__NUM_UNARY(X)
        KILN__NUM_BINARY(X)
#undef X
    default:
        return -1;
    }
}

/* The _I form of a binary op, or -1. */
static int imm_iop(int iop)
{
    switch (iop) {
#define X(id)                                                                                      \
    case KILN__I_##id:                                                                             \
        return KILN__I_##id##_I;
        KILN__NUM_IMM(X)
#undef X
    default:
        return -1;
    }
}

/* Condition codes in KILN__CMP_LIST order. */
static const uint8_t cc_inverse[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};
static const uint8_t cc_mirror[10] = {0, 1, 4, 5, 2, 3, 8, 9, 6, 7};

_Static_assert(KILN__I_I32_GE_U - KILN__I_I32_EQ == 9, "cmp order");
_Static_assert(KILN__I_I64_GE_U - KILN__I_I64_EQ == 9, "cmp order");
_Static_assert(KILN__I_I32_GE_U_I - KILN__I_I32_EQ_I == 9, "cmp order");
_Static_assert(KILN__I_I64_GE_U_I - KILN__I_I64_EQ_I == 9, "cmp order");
_Static_assert(KILN__I_BR_I32_GE_U - KILN__I_BR_I32_EQ == 9, "cmp order");
_Static_assert(KILN__I_BR_I64_GE_U_I - KILN__I_BR_I64_EQ_I == 9, "cmp order");
_Static_assert(KILN__I_LD32S64_A - KILN__I_LD32_A == KILN__I_LD32S64 - KILN__I_LD32, "load order");
_Static_assert(KILN__I_ST64_A - KILN__I_ST8_A == KILN__I_ST64 - KILN__I_ST8, "store order");
_Static_assert(KILN__I_LD32S64_AA - KILN__I_LD32_AA == KILN__I_LD32S64 - KILN__I_LD32, "load order");
_Static_assert(KILN__I_ST64_AA - KILN__I_ST8_AA == KILN__I_ST64 - KILN__I_ST8, "store order");

/* ---- compiler state ------------------------------------------------------- */

/* V_ADDI: the i32 value (u32)(slot + c[0]), not computed yet (an i32.add
 * of a constant whose consumer may be a load or store that folds it). */
/* V_ADD2: the i32 value (u32)(slot + slot2), likewise (both slots stay
 * valid while the entry lives: locals or the entry's own canonical slot,
 * unless the very next instruction is the load that consumes it). */
enum { V_SLOT = 0, V_CONST = 1, V_ADDI = 2, V_ADD2 = 3 };

struct ventry {
    uint8_t type;   /* valtype */
    uint8_t kind;   /* V_SLOT, V_CONST or V_ADDI */
    uint32_t slot;  /* V_SLOT: where the value is; V_ADDI/V_ADD2: the base */
    uint32_t slot2; /* V_ADD2: the second addend */
    uint32_t canon; /* canonical slot of this stack position */
    uint64_t c[2];  /* V_CONST: the value in slot form */
};

enum { F_BLOCK = 0, F_LOOP, F_IF, F_ELSE };

struct cframe {
    uint8_t kind;
    uint8_t bt_kind;     /* 0 empty, 1 one valtype (bt_val), 2 type index */
    uint32_t bt_val;     /* valtype or type index */
    uint32_t height;     /* stack index of the first param */
    uint32_t base_slot;  /* canonical slot at height */
    uint32_t nparams, nresults;
    uint32_t loop_pc;    /* word index of the loop's first instruction */
    int32_t patches;     /* pending forward branches (index into patches) */
    uint32_t else_patch; /* offset word of the if's false branch, or UINT32_MAX */
    bool unreachable;
};

struct patch {
    uint32_t at;
    int32_t next;
};

struct comp {
    struct kiln_module *mod;
    struct kiln__reader r;
    const int32_t *h;

    uint32_t *code;
    size_t ncode, capcode;
    struct ventry *vs;
    uint32_t nvs, capvs;
    struct cframe *cf;
    uint32_t ncf, capcf;
    struct patch *pt;
    uint32_t npt, cappt;

    uint32_t nlocals;      /* params + declared */
    uint32_t *local_slot;  /* slot of each local */
    const uint8_t *local_type;
    uint32_t temp_base;
    uint32_t max_slot;
    uint32_t nrefs;        /* stack entries located in a local's slot */
    long last_dst;         /* dst word of the last value-producing op, or -1 */
    long last_op;          /* first word of the last op if nothing (no label)
                              came after it, or -1 */
    uint32_t last_height;  /* stack size right after that op */
    uint32_t *starts;      /* word offset of every op in the code, ascending */
    uint32_t nstarts, capstarts;
    bool oom;
};

static bool grow(void **p, uint32_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 16;
    void *np;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX / 2)
        return false;
    np = realloc(*p, ncap * elem);
    if (!np)
        return false;
    *p = np;
    *cap = (uint32_t)ncap;
    return true;
}

static bool code_reserve(struct comp *c, size_t n)
{
    if (c->ncode + n <= c->capcode)
        return true;
    {
        size_t ncap = c->capcode ? c->capcode : 256;
        uint32_t *np;
        while (ncap < c->ncode + n)
            ncap *= 2;
        if (ncap > (size_t)INT32_MAX) {
            c->oom = true;
            return false;
        }
        np = realloc(c->code, ncap * sizeof *np);
        if (!np) {
            c->oom = true;
            return false;
        }
        c->code = np;
        c->capcode = ncap;
    }
    return true;
}

/* Emits the handler word of op; forgets the pending destination. */
static void op(struct comp *c, int iop)
{
    c->last_dst = -1;
    if (!code_reserve(c, 8))
        return;
    c->last_op = (long)c->ncode;
    /* ops rewound by a fusion (ncode moved back) are dropped here */
    while (c->nstarts && c->starts[c->nstarts - 1] >= c->ncode)
        c->nstarts--;
    if (c->nstarts == c->capstarts &&
        !grow((void **)&c->starts, &c->capstarts, c->nstarts + 1, sizeof *c->starts)) {
        c->oom = true;
        return;
    }
    c->starts[c->nstarts++] = (uint32_t)c->ncode;
    c->code[c->ncode++] = (uint32_t)c->h[iop];
}

/* Length in words of op h if it is a pair head (KILN__PAIR_HEADS), else 0;
 * *iop gets the op. */
static uint32_t head_len(const struct comp *c, uint32_t h, int *iop)
{
    static const struct {
        int a;
        uint32_t len;
    } heads[] = {
#define HEAD_ENTRY(a, n) {KILN__I_##a, n},
        KILN__PAIR_HEADS(HEAD_ENTRY)
#undef HEAD_ENTRY
    };
    for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++)
        if (h == (uint32_t)c->h[heads[k].a]) {
            *iop = heads[k].a;
            return heads[k].len;
        }
    return 0;
}

/* Last pass: an op A directly followed by op B, (A, B) in KILN__PAIRS,
 * gets the pair handler P_A__B; A, B, C in KILN__TRIPLES gets P3_A__B__C
 * and A, B, C, D in KILN__QUADS P4_A__B__C__D, longest first (the layout is
 * unchanged, see compile.h). Every op starts through op(),
 * so starts[] lists them all; a handler word is only rewritten at its own
 * step and only words of later ops are read, so every test sees the
 * original ops. */
static void fuse_pairs(struct comp *c)
{
    static const struct {
        int a, b, ab;
    } pairs[] = {
#define PAIR_ENTRY(X_, a, b) {KILN__I_##a, KILN__I_##b, KILN__I_P_##a##__##b},
        KILN__PAIRS(PAIR_ENTRY, _)
#undef PAIR_ENTRY
    };
    static const struct {
        int a, b, c, abc;
    } triples[] = {
#define TRIPLE_ENTRY(X_, a, b, c) {KILN__I_##a, KILN__I_##b, KILN__I_##c, KILN__I_P3_##a##__##b##__##c},
        KILN__TRIPLES(TRIPLE_ENTRY, _)
#undef TRIPLE_ENTRY
    };
    static const struct {
        int a, b, c, d, abcd;
    } quads[] = {
#define QUAD_ENTRY(X_, a, b, c, d)                                                                 \
    {KILN__I_##a, KILN__I_##b, KILN__I_##c, KILN__I_##d, KILN__I_P4_##a##__##b##__##c##__##d},
        KILN__QUADS(QUAD_ENTRY, _)
#undef QUAD_ENTRY
    };
    for (uint32_t i = 0; i + 1 < c->nstarts; i++) {
        uint32_t s = c->starts[i], t = c->starts[i + 1], len, lenb, lenc;
        int a = -1, b = -1, cc = -1;
        bool done = false;
        if (t >= c->ncode)
            break;
        len = head_len(c, c->code[s], &a);
        if (!len || s + len != t)
            continue;
        lenb = head_len(c, c->code[t], &b);
        if (lenb && i + 2 < c->nstarts && c->starts[i + 2] == t + lenb && t + lenb < c->ncode) {
            uint32_t u = t + lenb;
            lenc = head_len(c, c->code[u], &cc);
            if (lenc && i + 3 < c->nstarts && c->starts[i + 3] == u + lenc && u + lenc < c->ncode)
                for (size_t k = 0; k < sizeof quads / sizeof quads[0]; k++)
                    if (quads[k].a == a && quads[k].b == b && quads[k].c == cc &&
                        c->code[u + lenc] == (uint32_t)c->h[quads[k].d]) {
                        c->code[s] = (uint32_t)c->h[quads[k].abcd];
                        done = true;
                        break;
                    }
            for (size_t k = 0; !done && k < sizeof triples / sizeof triples[0]; k++)
                if (triples[k].a == a && triples[k].b == b &&
                    c->code[t + lenb] == (uint32_t)c->h[triples[k].c]) {
                    c->code[s] = (uint32_t)c->h[triples[k].abc];
                    done = true;
                    break;
                }
        }
        for (size_t k = 0; !done && k < sizeof pairs / sizeof pairs[0]; k++)
            if (pairs[k].a == a && c->code[t] == (uint32_t)c->h[pairs[k].b]) {
                c->code[s] = (uint32_t)c->h[pairs[k].ab];
                done = true;
            }
    }
}

static void w(struct comp *c, uint32_t v)
{
    if (!code_reserve(c, 1))
        return;
    c->code[c->ncode++] = v;
}

/* Emits a destination word and remembers it for local.set patching. */
static void wdst(struct comp *c, uint32_t slot)
{
    long at = (long)c->ncode;
    w(c, slot);
    c->last_dst = at;
    c->last_height = c->nvs + 1; /* caller pushes the result next */
}

static uint32_t next_canon(const struct comp *c)
{
    if (c->nvs == 0)
        return c->temp_base;
    return c->vs[c->nvs - 1].canon + kiln__slots(c->vs[c->nvs - 1].type);
}

static struct ventry *push(struct comp *c, uint8_t type)
{
    struct ventry *e;
    uint32_t canon = next_canon(c);
    if (c->nvs == c->capvs && !grow((void **)&c->vs, &c->capvs, c->nvs + 1, sizeof *c->vs)) {
        c->oom = true;
        return NULL;
    }
    e = &c->vs[c->nvs++];
    e->type = type;
    e->kind = V_SLOT;
    e->canon = canon;
    e->slot = canon;
    e->c[0] = e->c[1] = 0;
    if (canon + kiln__slots(type) > c->max_slot)
        c->max_slot = canon + kiln__slots(type);
    return e;
}

static void push_slot(struct comp *c, uint8_t type, uint32_t slot)
{
    struct ventry *e = push(c, type);
    if (!e)
        return;
    e->slot = slot;
    if (slot < c->temp_base)
        c->nrefs++;
}

static void push_const(struct comp *c, uint8_t type, uint64_t lo, uint64_t hi)
{
    struct ventry *e = push(c, type);
    if (!e)
        return;
    e->kind = V_CONST;
    e->c[0] = lo;
    e->c[1] = hi;
}

/* Does e read a local's slot? */
static bool is_ref(const struct comp *c, const struct ventry *e)
{
    return e->kind != V_CONST &&
           (e->slot < c->temp_base || (e->kind == V_ADD2 && e->slot2 < c->temp_base));
}

static void pop(struct comp *c, uint32_t n)
{
    while (n--) {
        struct ventry *e = &c->vs[--c->nvs];
        if (is_ref(c, e))
            c->nrefs--;
    }
}

/* Emits `dst = src slot` (COPY) or `dst = value` (CONST32), merged with a
 * COPY/CONST32 emitted right before (no label between) into one op. */
static void emit_small_move(struct comp *c, bool is_const, uint32_t dst, uint32_t arg)
{
    if (c->last_op >= 0 && c->last_op + 3 == (long)c->ncode) {
        uint32_t h0 = c->code[c->last_op];
        int merged = -1;
        if (h0 == (uint32_t)c->h[KILN__I_COPY])
            merged = is_const ? KILN__I_COPY_CONST : KILN__I_COPY_COPY;
        else if (h0 == (uint32_t)c->h[KILN__I_CONST32])
            merged = is_const ? KILN__I_CONST_CONST : KILN__I_CONST_COPY;
        if (merged >= 0) {
            c->code[c->last_op] = (uint32_t)c->h[merged];
            w(c, dst);
            w(c, arg);
            c->last_op = -1;
            c->last_dst = -1;
            return;
        }
    }
    op(c, is_const ? KILN__I_CONST32 : KILN__I_COPY);
    w(c, dst);
    w(c, arg);
}

/* Emits code writing entry e's value into slot dst. */
static void emit_move(struct comp *c, const struct ventry *e, uint32_t dst)
{
    if (e->kind == V_ADD2) {
        op(c, KILN__I_I32_ADD);
        w(c, dst);
        w(c, e->slot);
        w(c, e->slot2);
    } else if (e->kind == V_ADDI) {
        if (c->last_op >= 0 && c->last_op + 4 == (long)c->ncode &&
            c->code[c->last_op] == (uint32_t)c->h[KILN__I_I32_ADD_I]) {
            /* two adds of constants in a row (counters, pointers) */
            c->code[c->last_op] = (uint32_t)c->h[KILN__I_I32_ADD_I2];
            c->last_op = -1;
            c->last_dst = -1;
        } else {
            op(c, KILN__I_I32_ADD_I);
        }
        w(c, dst);
        w(c, e->slot);
        w(c, (uint32_t)e->c[0]);
    } else if (e->kind == V_CONST) {
        if (e->type == KILN_V128) {
            op(c, KILN__I_CONST128);
            w(c, dst);
            w(c, (uint32_t)e->c[0]);
            w(c, (uint32_t)(e->c[0] >> 32));
            w(c, (uint32_t)e->c[1]);
            w(c, (uint32_t)(e->c[1] >> 32));
        } else if (e->c[0] <= UINT32_MAX) {
            emit_small_move(c, true, dst, (uint32_t)e->c[0]);
        } else {
            op(c, KILN__I_CONST64);
            w(c, dst);
            w(c, (uint32_t)e->c[0]);
            w(c, (uint32_t)(e->c[0] >> 32));
        }
    } else if (e->slot != dst) {
        if (e->type == KILN_V128) {
            op(c, KILN__I_COPY2);
            w(c, dst);
            w(c, e->slot);
        } else {
            emit_small_move(c, false, dst, e->slot);
        }
    }
}

/* Moves stack entry i to its canonical slot. */
static void materialize(struct comp *c, uint32_t i)
{
    struct ventry *e = &c->vs[i];
    if (e->kind == V_SLOT && e->slot == e->canon)
        return;
    emit_move(c, e, e->canon);
    if (is_ref(c, e))
        c->nrefs--;
    e->kind = V_SLOT;
    e->slot = e->canon;
}

/* Slot holding entry i's value (constants are materialized). */
static uint32_t operand(struct comp *c, uint32_t i)
{
    if (c->vs[i].kind != V_SLOT)
        materialize(c, i);
    return c->vs[i].slot;
}

static void flush_from(struct comp *c, uint32_t from)
{
    for (uint32_t i = from; i < c->nvs; i++)
        materialize(c, i);
}

static struct cframe *top_frame(struct comp *c)
{
    return &c->cf[c->ncf - 1];
}

/* Flushes every entry of the current frame (entries below are canonical). */
static void flush_all(struct comp *c)
{
    flush_from(c, c->ncf ? top_frame(c)->height : 0);
}

/* ---- block types ------------------------------------------------------------ */

static uint8_t frame_type(const struct comp *c, const struct cframe *f, bool result, uint32_t i)
{
    if (f->bt_kind == 1)
        return (uint8_t)f->bt_val;
    {
        const struct kiln__functype *ft = &c->mod->types[f->bt_val];
        return ft->types[result ? ft->nparams + i : i];
    }
}

/* Arity of a branch to f: loop params, else results. */
static uint32_t label_arity(const struct cframe *f)
{
    return f->kind == F_LOOP ? f->nparams : f->nresults;
}

static void read_blocktype(struct comp *c, struct cframe *f)
{
    int64_t v = kiln__read_sleb(&c->r, 33);
    if (v < 0) {
        uint8_t t = (uint8_t)(v & 0x7f);
        if (t == 0x40) {
            f->bt_kind = 0;
            f->nparams = f->nresults = 0;
        } else {
            f->bt_kind = 1;
            f->bt_val = t;
            f->nparams = 0;
            f->nresults = 1;
        }
    } else {
        f->bt_kind = 2;
        f->bt_val = (uint32_t)v;
        f->nparams = c->mod->types[v].nparams;
        f->nresults = c->mod->types[v].nresults;
    }
}

static struct cframe *push_frame(struct comp *c, uint8_t kind, const struct cframe *tmpl)
{
    struct cframe *f;
    if (c->ncf == c->capcf && !grow((void **)&c->cf, &c->capcf, c->ncf + 1, sizeof *c->cf)) {
        c->oom = true;
        return NULL;
    }
    f = &c->cf[c->ncf++];
    *f = *tmpl;
    f->kind = kind;
    f->height = c->nvs - f->nparams;
    f->base_slot = f->height < c->nvs ? c->vs[f->height].canon : next_canon(c);
    f->patches = -1;
    f->else_patch = UINT32_MAX;
    f->unreachable = false;
    f->loop_pc = (uint32_t)c->ncode;
    if (kind == F_LOOP)
        c->last_op = -1;
    return f;
}

/* ---- branches ----------------------------------------------------------------- */

static void add_patch(struct comp *c, struct cframe *f, uint32_t at)
{
    if (c->npt == c->cappt && !grow((void **)&c->pt, &c->cappt, c->npt + 1, sizeof *c->pt)) {
        c->oom = true;
        return;
    }
    c->pt[c->npt].at = at;
    c->pt[c->npt].next = f->patches;
    f->patches = (int32_t)c->npt++;
}

/* Emits the offset word of a branch to frame f. */
static void emit_target(struct comp *c, struct cframe *f)
{
    uint32_t at = (uint32_t)c->ncode;
    if (f->kind == F_LOOP) {
        w(c, (uint32_t)((int32_t)f->loop_pc - (int32_t)at));
    } else {
        add_patch(c, f, at);
        w(c, 0);
    }
}

static void patch_here(struct comp *c, uint32_t at)
{
    c->last_op = -1; /* a branch lands here */
    if (!c->oom)
        c->code[at] = (uint32_t)((int32_t)c->ncode - (int32_t)at);
}

/* Do the branch values of f need moving to its label slots? */
static bool need_moves(struct comp *c, struct cframe *f)
{
    uint32_t n = label_arity(f), slot = f->base_slot;
    for (uint32_t i = 0; i < n; i++) {
        struct ventry *e = &c->vs[c->nvs - n + i];
        if (e->kind != V_SLOT || e->slot != slot)
            return true;
        slot += kiln__slots(e->type);
    }
    return false;
}

static void emit_moves(struct comp *c, struct cframe *f)
{
    uint32_t n = label_arity(f), slot = f->base_slot;
    for (uint32_t i = 0; i < n; i++) {
        struct ventry *e = &c->vs[c->nvs - n + i];
        emit_move(c, e, slot);
        slot += kiln__slots(e->type);
    }
}

/* Emits a return of the top nresults values (already materialized). */
static void emit_return(struct comp *c)
{
    struct cframe *f = &c->cf[0];
    uint32_t n = f->nresults;
    uint32_t src = n ? c->vs[c->nvs - n].canon : 0;
    uint32_t nslots = 0;
    for (uint32_t i = 0; i < n; i++)
        nslots += kiln__slots(c->vs[c->nvs - n + i].type);
    if (nslots == 1) {
        op(c, KILN__I_RETURN1);
        w(c, src);
    } else {
        op(c, KILN__I_RETURN);
        w(c, src);
        w(c, nslots);
    }
}

/* Unconditional branch to frame f (values on top of the stack). */
static void emit_br(struct comp *c, struct cframe *f)
{
    if (f == &c->cf[0]) {
        flush_from(c, c->nvs - f->nresults);
        emit_return(c);
        return;
    }
    emit_moves(c, f);
    op(c, KILN__I_BR);
    emit_target(c, f);
}

/* A branch condition: `iop_t a [b]` branches when true, `iop_f` when false. */
struct cond {
    int iop_t, iop_f;
    uint32_t a, b, c3;
    bool two, three;
};

static void emit_cond(struct comp *c, const struct cond *k, bool when)
{
    op(c, when ? k->iop_t : k->iop_f);
    w(c, k->a);
    if (k->two)
        w(c, k->b);
    if (k->three)
        w(c, k->c3);
}

/* If the op just emitted is `slot = src & mask` (an I32_AND_I whose result
 * is only consumed now), removes it and returns true with *src and *mask. */
static bool take_and(struct comp *c, uint32_t slot, uint32_t *src, uint32_t *mask)
{
    if (c->last_op < 0 || c->last_op + 4 != (long)c->ncode ||
        c->code[c->last_op] != (uint32_t)c->h[KILN__I_I32_AND_I] ||
        c->last_dst != c->last_op + 1 || c->code[c->last_op + 1] != slot || slot < c->temp_base)
        return false;
    *src = c->code[c->last_op + 2];
    *mask = c->code[c->last_op + 3];
    c->ncode = (size_t)c->last_op;
    c->last_op = -1;
    c->last_dst = -1;
    return true;
}

/* The condition "fp[slot] != 0" for br_if/if, as a test of an and just
 * emitted when there is one. */
static void value_cond(struct comp *c, uint32_t slot, struct cond *k)
{
    memset(k, 0, sizeof *k);
    k->a = slot;
    k->iop_t = KILN__I_BR_IF_NZ;
    k->iop_f = KILN__I_BR_IF_Z;
    if (take_and(c, slot, &k->a, &k->b)) {
        k->two = true;
        k->iop_t = KILN__I_BR_AND_NZ;
        k->iop_f = KILN__I_BR_AND_Z;
    }
}

static void compile_br_if(struct comp *c, const struct cond *k, uint32_t depth)
{
    struct cframe *f = &c->cf[c->ncf - 1 - depth];
    uint32_t n = label_arity(f);
    if (f == &c->cf[0] || (n && need_moves(c, f))) {
        uint32_t skip;
        if (f == &c->cf[0])
            flush_from(c, c->nvs - n);
        emit_cond(c, k, false);
        skip = (uint32_t)c->ncode;
        w(c, 0);
        emit_br(c, f);
        patch_here(c, skip);
    } else {
        emit_cond(c, k, true);
        emit_target(c, f);
    }
    c->last_dst = -1;
}

static void set_unreachable(struct comp *c)
{
    struct cframe *f = top_frame(c);
    pop(c, c->nvs - f->height);
    f->unreachable = true;
    c->last_dst = -1;
}

static void compile_if(struct comp *c, const struct cond *k)
{
    struct cframe tmpl, *f;
    memset(&tmpl, 0, sizeof tmpl);
    read_blocktype(c, &tmpl);
    flush_all(c);
    emit_cond(c, k, false);
    f = push_frame(c, F_IF, &tmpl);
    if (!f)
        return;
    f->else_patch = (uint32_t)c->ncode;
    w(c, 0);
    c->last_dst = -1;
}

/* Reads a label and compiles a br_if on k, or an if, if next opcode is one.
 * Returns true if the condition was consumed. */
static bool fuse_branch(struct comp *c, const struct cond *k)
{
    if (c->r.p < c->r.end && *c->r.p == 0x0d) {
        c->r.p++;
        compile_br_if(c, k, kiln__read_u32(&c->r));
        return true;
    }
    if (c->r.p < c->r.end && *c->r.p == 0x04) {
        c->r.p++;
        compile_if(c, k);
        return true;
    }
    return false;
}

static void compile_br_table(struct comp *c)
{
    uint32_t n = kiln__read_u32(&c->r), idx, at;
    const uint8_t *labels = c->r.p;
    uint32_t nvals;
    struct cframe *f0;

    idx = operand(c, c->nvs - 1);
    pop(c, 1);
    /* the default label's arity is the arity of all of them */
    f0 = NULL;
    {
        struct kiln__reader save = c->r;
        for (uint32_t i = 0; i < n; i++)
            kiln__read_u32(&c->r);
        f0 = &c->cf[c->ncf - 1 - kiln__read_u32(&c->r)];
        c->r = save;
    }
    nvals = label_arity(f0);
    flush_from(c, c->nvs - nvals);
    op(c, KILN__I_BR_TABLE);
    w(c, idx);
    w(c, n);
    at = (uint32_t)c->ncode;
    if (!code_reserve(c, (size_t)n + 1))
        return;
    c->ncode += (size_t)n + 1;
    /* pass 1: direct targets; pass 2: stubs for those needing moves */
    for (int pass = 0; pass < 2; pass++) {
        c->r.p = labels;
        for (uint32_t i = 0; i <= n && !c->oom; i++) {
            struct cframe *f = &c->cf[c->ncf - 1 - kiln__read_u32(&c->r)];
            bool stub = f == &c->cf[0] || need_moves(c, f);
            if (pass == 0 && !stub) {
                if (f->kind == F_LOOP) {
                    c->code[at + i] = (uint32_t)((int32_t)f->loop_pc - (int32_t)(at + i));
                } else {
                    add_patch(c, f, at + i);
                }
            } else if (pass == 1 && stub) {
                patch_here(c, at + i);
                emit_br(c, f);
            }
        }
    }
    set_unreachable(c);
}

/* ---- calls -------------------------------------------------------------------- */

/* Materializes the top np entries and returns the slot of the first. */
static uint32_t call_args(struct comp *c, const struct kiln__functype *ft)
{
    uint32_t np = ft->nparams;
    flush_from(c, c->nvs - np);
    return np ? c->vs[c->nvs - np].canon : next_canon(c);
}

static void push_results(struct comp *c, const struct kiln__functype *ft)
{
    for (uint32_t i = 0; i < ft->nresults; i++)
        push(c, ft->types[ft->nparams + i]);
}

/* ---- locals --------------------------------------------------------------------- */

static void local_write(struct comp *c, uint32_t x, bool tee)
{
    uint32_t slot = c->local_slot[x];
    uint8_t type = c->local_type[x];
    struct ventry e = c->vs[c->nvs - 1];

    if (e.kind == V_SLOT && e.slot == slot) {
        if (!tee)
            pop(c, 1);
        return;
    }
    if (c->nrefs) {
        for (uint32_t i = 0; i + 1 < c->nvs; i++)
            if (c->vs[i].kind != V_CONST &&
                (c->vs[i].slot == slot || (c->vs[i].kind == V_ADD2 && c->vs[i].slot2 == slot)))
                materialize(c, i);
    }
    if (e.kind == V_SLOT && e.slot == e.canon && c->last_dst >= 0 &&
        c->last_height == c->nvs && (uint32_t)c->last_dst < c->ncode &&
        c->code[c->last_dst] == e.canon) {
        c->code[c->last_dst] = slot; /* the producer writes the local */
        c->last_dst = -1;
    } else {
        emit_move(c, &e, slot);
    }
    pop(c, 1);
    if (tee) {
        if (e.kind == V_CONST)
            push_const(c, type, e.c[0], e.c[1]);
        else
            push_slot(c, type, slot);
    }
}

/* ---- numeric ops -------------------------------------------------------------- */

static bool fits_s32(uint64_t v)
{
    return (int64_t)v >= INT32_MIN && (int64_t)v <= INT32_MAX;
}

static bool is_cmp_iop(int iop, bool *is64, int *cc)
{
    if (iop >= KILN__I_I32_EQ && iop <= KILN__I_I32_GE_U) {
        *is64 = false;
        *cc = iop - KILN__I_I32_EQ;
        return true;
    }
    if (iop >= KILN__I_I64_EQ && iop <= KILN__I_I64_GE_U) {
        *is64 = true;
        *cc = iop - KILN__I_I64_EQ;
        return true;
    }
    return false;
}

/* The _K form of a float op, or -1. */
static int fop_k(int iop)
{
    switch (iop) {
    case KILN__I_F32_ADD: return KILN__I_F32_ADD_K;
    case KILN__I_F32_SUB: return KILN__I_F32_SUB_K;
    case KILN__I_F32_MUL: return KILN__I_F32_MUL_K;
    case KILN__I_F32_DIV: return KILN__I_F32_DIV_K;
    case KILN__I_F64_ADD: return KILN__I_F64_ADD_K;
    case KILN__I_F64_SUB: return KILN__I_F64_SUB_K;
    case KILN__I_F64_MUL: return KILN__I_F64_MUL_K;
    case KILN__I_F64_DIV: return KILN__I_F64_DIV_K;
    default: return -1;
    }
}

/* The reversed _K form (constant on the left) of a float op, or -1. */
static int frop_k(int iop)
{
    switch (iop) {
    case KILN__I_F32_SUB: return KILN__I_F32_RSUB_K;
    case KILN__I_F32_DIV: return KILN__I_F32_RDIV_K;
    case KILN__I_F64_SUB: return KILN__I_F64_RSUB_K;
    case KILN__I_F64_DIV: return KILN__I_F64_RDIV_K;
    default: return -1;
    }
}

static bool commutes(int iop)
{
    switch (iop) {
    case KILN__I_F32_ADD: case KILN__I_F32_MUL: case KILN__I_F64_ADD: case KILN__I_F64_MUL:
    case KILN__I_I32_ADD: case KILN__I_I32_MUL: case KILN__I_I32_AND: case KILN__I_I32_OR:
    case KILN__I_I32_XOR: case KILN__I_I64_ADD: case KILN__I_I64_MUL: case KILN__I_I64_AND:
    case KILN__I_I64_OR: case KILN__I_I64_XOR:
        return true;
    default:
        return false;
    }
}

static void compile_binary(struct comp *c, int iop, uint8_t rtype)
{
    struct ventry *a = &c->vs[c->nvs - 2], *b = &c->vs[c->nvs - 1];
    bool is64 = false, cmp, wide;
    int cc = 0;
    bool use_imm = false;
    uint64_t imm = 0;
    uint32_t sa, sb = 0;

    cmp = is_cmp_iop(iop, &is64, &cc);
    wide = rtype == KILN_I64 || is64;
    /* constant on the left: swap for commutative ops and comparisons, when
     * the _I form can then take it */
    if (a->kind == V_CONST && b->kind != V_CONST && (commutes(iop) || cmp) &&
        (!wide || fits_s32(a->c[0]))) {
        struct ventry t = *a;
        uint32_t ca = a->canon, cb = b->canon;
        *a = *b; /* located at b's slot; both are consumed right below */
        *b = t;
        a->canon = ca;
        b->canon = cb;
        if (cmp) {
            cc = cc_mirror[cc];
            iop = (is64 ? KILN__I_I64_EQ : KILN__I_I32_EQ) + cc;
        }
    }
    if (b->kind == V_CONST && a->kind == V_SLOT) {
        if (iop == KILN__I_I32_SUB) {
            iop = KILN__I_I32_ADD;
            b->c[0] = (uint32_t)(0u - (uint32_t)b->c[0]);
        } else if (iop == KILN__I_I64_SUB && fits_s32(0 - b->c[0])) {
            iop = KILN__I_I64_ADD;
            b->c[0] = 0 - b->c[0];
        }
        if (imm_iop(iop) >= 0 && (!wide || fits_s32(b->c[0]))) {
            use_imm = true;
            imm = b->c[0];
        }
    }
    if (!use_imm && (iop == KILN__I_I32_SUB || iop == KILN__I_I64_SUB) && a->kind == V_CONST &&
        b->kind == V_SLOT && (iop == KILN__I_I32_SUB || fits_s32(a->c[0]))) {
        /* constant minus x */
        uint32_t k = (uint32_t)a->c[0];
        sb = b->slot;
        pop(c, 2);
        op(c, iop == KILN__I_I32_SUB ? KILN__I_I32_RSUB_I : KILN__I_I64_RSUB_I);
        wdst(c, next_canon(c));
        w(c, sb);
        w(c, k);
        push(c, rtype);
        return;
    }
    if (use_imm && iop == KILN__I_I32_ADD && a->kind == V_SLOT &&
        (a->slot < c->temp_base || a->slot == a->canon)) {
        /* defer: a load/store may fold it into its address */
        uint32_t base = a->slot;
        pop(c, 2);
        push_slot(c, KILN_I32, base);
        c->vs[c->nvs - 1].kind = V_ADDI;
        c->vs[c->nvs - 1].c[0] = (uint32_t)imm;
        c->last_dst = -1;
        return;
    }
    if (a->kind == V_CONST && b->kind == V_SLOT && frop_k(iop) >= 0) {
        /* constant minus / divided by x */
        uint64_t k = a->c[0];
        sb = b->slot;
        pop(c, 2);
        op(c, frop_k(iop));
        wdst(c, next_canon(c));
        w(c, sb);
        w(c, (uint32_t)k);
        if (rtype == KILN_F64)
            w(c, (uint32_t)(k >> 32));
        push(c, rtype);
        return;
    }
    if (!use_imm && b->kind == V_CONST && a->kind == V_SLOT && fop_k(iop) >= 0) {
        uint64_t k = b->c[0];
        sa = a->slot;
        pop(c, 2);
        op(c, fop_k(iop));
        wdst(c, next_canon(c));
        w(c, sa);
        w(c, (uint32_t)k);
        if (rtype == KILN_F64)
            w(c, (uint32_t)(k >> 32));
        push(c, rtype);
        return;
    }
    sa = operand(c, c->nvs - 2);
    if (!use_imm)
        sb = operand(c, c->nvs - 1);

    if (cmp) {
        struct cond k;
        int base = use_imm ? (is64 ? KILN__I_BR_I64_EQ_I : KILN__I_BR_I32_EQ_I)
                           : (is64 ? KILN__I_BR_I64_EQ : KILN__I_BR_I32_EQ);
        uint32_t and_src, and_mask;
        memset(&k, 0, sizeof k);
        k.iop_t = base + cc;
        k.iop_f = base + cc_inverse[cc];
        k.a = sa;
        k.b = use_imm ? (uint32_t)imm : sb;
        k.two = true;
        pop(c, 2);
        if (!is64 && (cc == 1 || cc == 2 || cc == 3) && c->r.p < c->r.end && *c->r.p == 0x0d &&
            c->last_op >= 0 && c->last_op + 4 == (long)c->ncode &&
            c->code[c->last_op] == (uint32_t)c->h[KILN__I_I32_ADD_I] &&
            c->code[c->last_op + 1] == sa && (use_imm || sb != sa)) {
            /* x = y + k; br_if (x != / < z): one op when the branch needs
             * no moves (the write to x stays) */
            struct kiln__reader save = c->r;
            struct cframe *f;
            uint32_t d;
            c->r.p++;
            d = kiln__read_u32(&c->r);
            f = &c->cf[c->ncf - 1 - d];
            if (!c->r.err && f != &c->cf[0] && !need_moves(c, f)) {
                static const int fused[2][3] = {
                    {KILN__I_I32_ADDI_BR_NE, KILN__I_I32_ADDI_BR_LT_S, KILN__I_I32_ADDI_BR_LT_U},
                    {KILN__I_I32_ADDI_BR_NE_I, KILN__I_I32_ADDI_BR_LT_S_I,
                     KILN__I_I32_ADDI_BR_LT_U_I}};
                uint32_t src = c->code[c->last_op + 2], kk = c->code[c->last_op + 3];
                c->ncode = (size_t)c->last_op;
                op(c, fused[use_imm][cc - 1]);
                w(c, sa);
                w(c, src);
                w(c, kk);
                w(c, k.b);
                emit_target(c, f);
                c->last_op = -1;
                c->last_dst = -1;
                return;
            }
            c->r = save;
        }
        if (use_imm && !is64 && cc <= 1 && c->r.p < c->r.end &&
            (*c->r.p == 0x0d || *c->r.p == 0x04) && take_and(c, sa, &and_src, &and_mask)) {
            /* (x & m) == k / != k, then br_if or if */
            k.iop_t = cc == 0 ? KILN__I_BR_AND_EQ_I : KILN__I_BR_AND_NE_I;
            k.iop_f = cc == 0 ? KILN__I_BR_AND_NE_I : KILN__I_BR_AND_EQ_I;
            k.a = and_src;
            k.b = and_mask;
            k.c3 = (uint32_t)imm;
            k.three = true;
            fuse_branch(c, &k);
            return;
        }
        if (fuse_branch(c, &k))
            return;
        op(c, use_imm ? imm_iop(iop) : iop);
        wdst(c, next_canon(c));
        w(c, sa);
        w(c, k.b);
        push(c, rtype);
        return;
    }
    if (use_imm && iop == KILN__I_I32_AND && c->last_op >= 0 && c->last_op + 4 == (long)c->ncode &&
        c->code[c->last_op] == (uint32_t)c->h[KILN__I_I32_SHR_U_I] &&
        c->last_dst == c->last_op + 1 && c->vs[c->nvs - 2].slot == c->vs[c->nvs - 2].canon &&
        c->code[c->last_op + 1] == sa) {
        /* (x >> k) & m: extend the shift just emitted */
        long dst_at = c->last_op + 1;
        c->code[c->last_op] = (uint32_t)c->h[KILN__I_I32_SHRU_AND_I];
        w(c, (uint32_t)imm);
        pop(c, 2);
        push(c, rtype);
        c->last_op = -1;
        c->last_dst = dst_at;
        c->last_height = c->nvs;
        return;
    }
    if (!use_imm && iop == KILN__I_I32_ADD && c->last_op >= 0 &&
        c->last_op + 4 == (long)c->ncode &&
        c->code[c->last_op] == (uint32_t)c->h[KILN__I_I32_MUL] && c->last_dst == c->last_op + 1 &&
        (sa == c->vs[c->nvs - 2].canon || sb == c->vs[c->nvs - 1].canon) &&
        (c->code[c->last_op + 1] == sa || c->code[c->last_op + 1] == sb) && sa != sb) {
        /* x * y + z: extend the multiply just emitted */
        uint32_t other = c->code[c->last_op + 1] == sa ? sb : sa;
        long dst_at = c->last_op + 1;
        c->code[c->last_op] = (uint32_t)c->h[KILN__I_I32_MUL_ADD];
        c->code[dst_at] = c->vs[c->nvs - 2].canon;
        w(c, other);
        pop(c, 2);
        push(c, rtype);
        c->last_op = -1;
        c->last_dst = dst_at;
        c->last_height = c->nvs;
        return;
    }
    if (!use_imm && iop == KILN__I_I32_ADD && a->kind == V_SLOT && b->kind == V_SLOT &&
        ((c->r.p < c->r.end && *c->r.p >= 0x28 && *c->r.p <= 0x35) ||
         ((a->slot < c->temp_base || a->slot == a->canon) && b->slot < c->temp_base))) {
        /* defer: a load/store may take both addends as its address */
        struct ventry *e;
        pop(c, 2);
        e = push(c, KILN_I32);
        if (!e)
            return;
        e->kind = V_ADD2;
        e->slot = sa;
        e->slot2 = sb;
        if (is_ref(c, e))
            c->nrefs++;
        c->last_dst = -1;
        return;
    }
    pop(c, 2);
    op(c, use_imm ? imm_iop(iop) : iop);
    wdst(c, next_canon(c));
    w(c, sa);
    w(c, use_imm ? (uint32_t)imm : sb);
    push(c, rtype);
}

static void compile_unary(struct comp *c, int iop, uint8_t rtype)
{
    uint32_t sa;
    if (iop == KILN__I_I32_EQZ || iop == KILN__I_I64_EQZ) {
        struct cond k;
        bool is64 = iop == KILN__I_I64_EQZ;
        memset(&k, 0, sizeof k);
        sa = operand(c, c->nvs - 1);
        k.iop_t = is64 ? KILN__I_BR_IF_Z64 : KILN__I_BR_IF_Z;
        k.iop_f = is64 ? KILN__I_BR_IF_NZ64 : KILN__I_BR_IF_NZ;
        k.a = sa;
        k.two = false;
        pop(c, 1);
        if (!is64 && c->r.p < c->r.end && (*c->r.p == 0x0d || *c->r.p == 0x04) &&
            take_and(c, sa, &k.a, &k.b)) {
            /* !(x & m), then br_if or if */
            k.two = true;
            k.iop_t = KILN__I_BR_AND_Z;
            k.iop_f = KILN__I_BR_AND_NZ;
        }
        if (fuse_branch(c, &k))
            return;
    } else {
        sa = operand(c, c->nvs - 1);
        pop(c, 1);
    }
    op(c, iop);
    wdst(c, next_canon(c));
    w(c, sa);
    push(c, rtype);
}

/* ---- the main loop ---------------------------------------------------------- */

static void skip_imm(struct comp *c, int kind)
{
    struct kiln__reader *r = &c->r;
    switch (kind) {
    case KILN__IMM_NONE:
        break;
    case KILN__IMM_BLOCKTYPE:
        kiln__read_sleb(r, 33);
        break;
    case KILN__IMM_BR_TABLE: {
        uint32_t n = kiln__read_u32(r);
        for (uint32_t i = 0; i <= n && !r->err; i++)
            kiln__read_u32(r);
        break;
    }
    case KILN__IMM_CALL_INDIRECT:
    case KILN__IMM_MEMARG:
    case KILN__IMM_TABLE_INIT:
    case KILN__IMM_TABLE_COPY:
        kiln__read_u32(r);
        kiln__read_u32(r);
        break;
    case KILN__IMM_MEMARG_LANE:
        kiln__read_u32(r);
        kiln__read_u32(r);
        kiln__read_u8(r);
        break;
    case KILN__IMM_I32:
        kiln__read_sleb(r, 32);
        break;
    case KILN__IMM_I64:
        kiln__read_sleb(r, 64);
        break;
    case KILN__IMM_F32:
        kiln__read_fixed32(r);
        break;
    case KILN__IMM_F64:
        kiln__read_fixed64(r);
        break;
    case KILN__IMM_V128:
    case KILN__IMM_SHUFFLE:
        kiln__read_fixed64(r);
        kiln__read_fixed64(r);
        break;
    case KILN__IMM_LANE:
    case KILN__IMM_REFTYPE:
    case KILN__IMM_MEMIDX:
        kiln__read_u8(r);
        break;
    case KILN__IMM_MEMORY_INIT:
        kiln__read_u32(r);
        kiln__read_u8(r);
        break;
    case KILN__IMM_MEMORY_COPY:
        kiln__read_u8(r);
        kiln__read_u8(r);
        break;
    case KILN__IMM_SELECT_T: {
        uint32_t n = kiln__read_u32(r);
        for (uint32_t i = 0; i < n && !r->err; i++)
            kiln__read_u8(r);
        break;
    }
    default: /* one u32: label, func, local, global, table, data, elem */
        kiln__read_u32(r);
        break;
    }
}

static uint32_t read_key(struct comp *c)
{
    uint8_t b = kiln__read_u8(&c->r);
    if (b == 0xfc || b == 0xfd)
        return ((uint32_t)b << 16) | kiln__read_u32(&c->r);
    return b;
}

static void compile_end(struct comp *c)
{
    struct cframe *f = top_frame(c);
    if (!f->unreachable)
        flush_from(c, c->nvs - f->nresults);
    if (c->ncf == 1) {
        if (!f->unreachable)
            emit_return(c);
        c->ncf = 0;
        return;
    }
    if (f->else_patch != UINT32_MAX)
        patch_here(c, f->else_patch);
    for (int32_t p = f->patches; p >= 0; p = c->pt[p].next)
        patch_here(c, c->pt[p].at);
    pop(c, c->nvs - f->height);
    {
        struct cframe fr = *f;
        c->ncf--;
        for (uint32_t i = 0; i < fr.nresults; i++)
            push(c, frame_type(c, &fr, true, i));
    }
    c->last_dst = -1;
}

static void compile_else(struct comp *c)
{
    struct cframe *f = top_frame(c);
    if (!f->unreachable) {
        flush_from(c, c->nvs - f->nresults);
        op(c, KILN__I_BR);
        emit_target(c, f);
    }
    patch_here(c, f->else_patch);
    f->else_patch = UINT32_MAX;
    pop(c, c->nvs - f->height);
    for (uint32_t i = 0; i < f->nparams; i++)
        push(c, frame_type(c, f, false, i));
    f->kind = F_ELSE;
    f->unreachable = false;
    c->last_dst = -1;
}

/* Skips unreachable code up to the else/end that closes the current frame. */
static void skip_dead(struct comp *c)
{
    uint32_t depth = 0;
    while (!c->r.err && c->r.p < c->r.end) {
        uint32_t key = read_key(c);
        if (key == KEY_BLOCK || key == KEY_LOOP || key == KEY_IF) {
            kiln__read_sleb(&c->r, 33);
            depth++;
        } else if (key == KEY_END) {
            if (depth == 0) {
                compile_end(c);
                return;
            }
            depth--;
        } else if (key == KEY_ELSE && depth == 0) {
            compile_else(c);
            return;
        } else {
            int k = op_imm(key);
            if (k < 0) {
                kiln__reader_fail(&c->r, "unknown opcode");
                return;
            }
            skip_imm(c, k);
        }
    }
}

static int load_iop(uint32_t key)
{
    switch (key) {
    case KEY_I32_LOAD: case KEY_F32_LOAD: case KEY_I64_LOAD32_U: return KILN__I_LD32;
    case KEY_I64_LOAD: case KEY_F64_LOAD: return KILN__I_LD64;
    case KEY_I32_LOAD8_S: return KILN__I_LD8S32;
    case KEY_I64_LOAD8_S: return KILN__I_LD8S64;
    case KEY_I32_LOAD8_U: case KEY_I64_LOAD8_U: return KILN__I_LD8U;
    case KEY_I32_LOAD16_S: return KILN__I_LD16S32;
    case KEY_I64_LOAD16_S: return KILN__I_LD16S64;
    case KEY_I32_LOAD16_U: case KEY_I64_LOAD16_U: return KILN__I_LD16U;
    case KEY_I64_LOAD32_S: return KILN__I_LD32S64;
    case KEY_V128_LOAD: return KILN__I_LD128;
    default: return -1;
    }
}

static int store_iop(uint32_t key)
{
    switch (key) {
    case KEY_I32_STORE8: case KEY_I64_STORE8: return KILN__I_ST8;
    case KEY_I32_STORE16: case KEY_I64_STORE16: return KILN__I_ST16;
    case KEY_I32_STORE: case KEY_F32_STORE: case KEY_I64_STORE32: return KILN__I_ST32;
    case KEY_I64_STORE: case KEY_F64_STORE: return KILN__I_ST64;
    case KEY_V128_STORE: return KILN__I_ST128;
    default: return -1;
    }
}

/* SIMD (0xFD) opcodes other than v128.load/store: compile_simd.inc (ops in simd_ops.h,
 * semantics in simd.h, handlers in interp_simd.inc). */
#include "wasm/compile_simd.inc" /* kiln__compile_simd() */

static int unsupported(struct comp *c, uint32_t key, struct kiln_error *err, uint32_t fidx)
{
    return kiln_error_set(err, KILN_E_UNSUPPORTED,
                          "code section, function %u, offset 0x%zx: opcode 0x%x:%u not supported "
                          "by the interpreter",
                          fidx, kiln__reader_off(&c->r), key >> 16, key & 0xffff);
}

/* Compiles the body; returns 0, or negative with *err set. */
static int compile_body(struct comp *c, uint32_t fidx, struct kiln_error *err)
{
    struct kiln__reader *r = &c->r;
    while (c->ncf > 0 && !c->oom) {
        uint32_t key;
        int iop;
        if (r->err || r->p >= r->end)
            break;
        if (top_frame(c)->unreachable) {
            skip_dead(c);
            continue;
        }
        key = read_key(c);
        iop = num_iop(key);
        if (iop >= 0) {
            const int s = op_sig(key);
            if (sig_info[s].np == 2)
                compile_binary(c, iop, sig_info[s].r0);
            else
                compile_unary(c, iop, sig_info[s].r0);
            continue;
        }
        switch (key) {
        case KEY_UNREACHABLE:
            op(c, KILN__I_UNREACHABLE);
            set_unreachable(c);
            break;
        case KEY_NOP:
            break;
        case KEY_BLOCK:
        case KEY_LOOP: {
            struct cframe tmpl;
            memset(&tmpl, 0, sizeof tmpl);
            read_blocktype(c, &tmpl);
            flush_all(c);
            push_frame(c, key == KEY_LOOP ? F_LOOP : F_BLOCK, &tmpl);
            c->last_dst = -1;
            break;
        }
        case KEY_IF: {
            struct cond k;
            value_cond(c, operand(c, c->nvs - 1), &k);
            pop(c, 1);
            compile_if(c, &k);
            break;
        }
        case KEY_ELSE:
            compile_else(c);
            break;
        case KEY_END:
            compile_end(c);
            break;
        case KEY_BR: {
            uint32_t d = kiln__read_u32(r);
            emit_br(c, &c->cf[c->ncf - 1 - d]);
            set_unreachable(c);
            break;
        }
        case KEY_BR_IF: {
            struct cond k;
            uint32_t d = kiln__read_u32(r);
            uint32_t s = operand(c, c->nvs - 1);
            if (d + 1 < c->ncf && c->last_op >= 0 && c->last_op + 4 == (long)c->ncode &&
                c->code[c->last_op] == (uint32_t)c->h[KILN__I_I32_ADD_I] &&
                c->code[c->last_op + 1] == s) {
                /* x += k; br_if on x: one op (the write stays; nothing is
                 * emitted between it and the test) */
                memset(&k, 0, sizeof k);
                k.iop_t = KILN__I_I32_ADDI_BR_NZ;
                k.iop_f = KILN__I_I32_ADDI_BR_Z;
                k.a = s;
                k.b = c->code[c->last_op + 2];
                k.c3 = c->code[c->last_op + 3];
                k.two = k.three = true;
                c->ncode = (size_t)c->last_op;
                c->last_op = -1;
                c->last_dst = -1;
            } else if (d + 1 < c->ncf && c->last_op >= 0 && c->last_op + 4 == (long)c->ncode &&
                       c->code[c->last_op] == (uint32_t)c->h[KILN__I_LD32] &&
                       c->code[c->last_op + 1] == s) {
                /* x = load; br_if on x (list walks): one op, same rules */
                memset(&k, 0, sizeof k);
                k.iop_t = KILN__I_LD32_BR_NZ;
                k.iop_f = KILN__I_LD32_BR_Z;
                k.a = s;
                k.b = c->code[c->last_op + 2];
                k.c3 = c->code[c->last_op + 3];
                k.two = k.three = true;
                c->ncode = (size_t)c->last_op;
                c->last_op = -1;
                c->last_dst = -1;
            } else {
                value_cond(c, s, &k);
            }
            pop(c, 1);
            compile_br_if(c, &k, d);
            break;
        }
        case KEY_BR_TABLE:
            compile_br_table(c);
            break;
        case KEY_RETURN:
            emit_br(c, &c->cf[0]);
            set_unreachable(c);
            break;
        case KEY_CALL: {
            uint32_t fi = kiln__read_u32(r);
            const struct kiln__functype *ft = &c->mod->types[c->mod->funcs[fi].type_idx];
            uint32_t argslot = call_args(c, ft);
            pop(c, ft->nparams);
            op(c, KILN__I_CALL);
            w(c, fi);
            w(c, argslot);
            push_results(c, ft);
            break;
        }
        case KEY_CALL_INDIRECT: {
            uint32_t ti = kiln__read_u32(r), tab = kiln__read_u32(r);
            const struct kiln__functype *ft = &c->mod->types[ti];
            uint32_t idx = operand(c, c->nvs - 1), argslot;
            pop(c, 1);
            argslot = call_args(c, ft);
            pop(c, ft->nparams);
            op(c, KILN__I_CALL_INDIRECT);
            w(c, ti);
            w(c, tab);
            w(c, argslot);
            w(c, idx);
            push_results(c, ft);
            break;
        }
        case KEY_DROP:
            pop(c, 1);
            break;
        case KEY_SELECT:
        case KEY_SELECT_T: {
            uint32_t sc, sb, sa;
            uint8_t t;
            if (key == KEY_SELECT_T) {
                uint32_t n = kiln__read_u32(r);
                for (uint32_t i = 0; i < n; i++)
                    kiln__read_u8(r);
            }
            t = c->vs[c->nvs - 2].type;
            sc = operand(c, c->nvs - 1);
            sb = operand(c, c->nvs - 2);
            sa = operand(c, c->nvs - 3);
            if (t != KILN_V128 && c->last_op >= 0 && c->last_op + 4 == (long)c->ncode &&
                c->code[c->last_op] == (uint32_t)c->h[KILN__I_I32_AND_I] &&
                c->last_dst == c->last_op + 1 && c->code[c->last_op + 1] == sc &&
                c->vs[c->nvs - 1].slot == c->vs[c->nvs - 1].canon) {
                /* select on (x & m): drop the and, test in the select */
                uint32_t src = c->code[c->last_op + 2], mask = c->code[c->last_op + 3];
                c->ncode = (size_t)c->last_op;
                pop(c, 3);
                op(c, KILN__I_SELECT_MASK);
                wdst(c, next_canon(c));
                w(c, sa);
                w(c, sb);
                w(c, src);
                w(c, mask);
                push(c, t);
                break;
            }
            pop(c, 3);
            op(c, t == KILN_V128 ? KILN__I_SELECT2 : KILN__I_SELECT);
            wdst(c, next_canon(c));
            w(c, sa);
            w(c, sb);
            w(c, sc);
            push(c, t);
            break;
        }
        case KEY_LOCAL_GET: {
            uint32_t x = kiln__read_u32(r);
            push_slot(c, c->local_type[x], c->local_slot[x]);
            break;
        }
        case KEY_LOCAL_SET:
            local_write(c, kiln__read_u32(r), false);
            break;
        case KEY_LOCAL_TEE:
            local_write(c, kiln__read_u32(r), true);
            break;
        case KEY_GLOBAL_GET: {
            uint32_t g = kiln__read_u32(r);
            uint8_t t = c->mod->globals[g].type;
            op(c, t == KILN_V128 ? KILN__I_GLOBAL_GET2 : KILN__I_GLOBAL_GET);
            wdst(c, next_canon(c));
            w(c, g);
            push(c, t);
            break;
        }
        case KEY_GLOBAL_SET: {
            uint32_t g = kiln__read_u32(r);
            uint8_t t = c->mod->globals[g].type;
            uint32_t s = operand(c, c->nvs - 1);
            pop(c, 1);
            op(c, t == KILN_V128 ? KILN__I_GLOBAL_SET2 : KILN__I_GLOBAL_SET);
            w(c, g);
            w(c, s);
            break;
        }
        case KEY_TABLE_GET: {
            uint32_t t = kiln__read_u32(r);
            uint32_t i = operand(c, c->nvs - 1);
            pop(c, 1);
            op(c, KILN__I_TABLE_GET);
            wdst(c, next_canon(c));
            w(c, t);
            w(c, i);
            push(c, c->mod->tables[t].reftype);
            break;
        }
        case KEY_TABLE_SET: {
            uint32_t t = kiln__read_u32(r);
            uint32_t v = operand(c, c->nvs - 1), i = operand(c, c->nvs - 2);
            pop(c, 2);
            op(c, KILN__I_TABLE_SET);
            w(c, t);
            w(c, i);
            w(c, v);
            break;
        }
        case KEY_MEMORY_SIZE:
            kiln__read_u8(r);
            op(c, KILN__I_MEMORY_SIZE);
            wdst(c, next_canon(c));
            push(c, KILN_I32);
            break;
        case KEY_MEMORY_GROW: {
            uint32_t d;
            kiln__read_u8(r);
            d = operand(c, c->nvs - 1);
            pop(c, 1);
            op(c, KILN__I_MEMORY_GROW);
            wdst(c, next_canon(c));
            w(c, d);
            push(c, KILN_I32);
            break;
        }
        case KEY_I32_CONST:
            push_const(c, KILN_I32, (uint32_t)kiln__read_sleb(r, 32), 0);
            break;
        case KEY_I64_CONST:
            push_const(c, KILN_I64, (uint64_t)kiln__read_sleb(r, 64), 0);
            break;
        case KEY_F32_CONST:
            push_const(c, KILN_F32, kiln__read_fixed32(r), 0);
            break;
        case KEY_F64_CONST:
            push_const(c, KILN_F64, kiln__read_fixed64(r), 0);
            break;
        case KEY_I32_REINTERPRET_F32:
        case KEY_F32_REINTERPRET_I32:
        case KEY_I64_REINTERPRET_F64:
        case KEY_F64_REINTERPRET_I64: {
            /* same bits: only the type changes */
            static const uint8_t to[4] = {KILN_I32, KILN_F32, KILN_I64, KILN_F64};
            uint32_t k = key == KEY_I32_REINTERPRET_F32   ? 0
                         : key == KEY_F32_REINTERPRET_I32 ? 1
                         : key == KEY_I64_REINTERPRET_F64 ? 2
                                                          : 3;
            c->vs[c->nvs - 1].type = to[k];
            c->last_dst = -1;
            break;
        }
        case KEY_REF_NULL:
            push_const(c, kiln__read_u8(r), 0, 0);
            break;
        case KEY_REF_IS_NULL:
            compile_unary(c, KILN__I_I64_EQZ, KILN_I32);
            break;
        case KEY_REF_FUNC: {
            uint32_t fi = kiln__read_u32(r);
            op(c, KILN__I_REF_FUNC);
            wdst(c, next_canon(c));
            w(c, fi);
            push(c, KILN_FUNCREF);
            break;
        }
        case KEY_MEMORY_INIT: {
            uint32_t d = kiln__read_u32(r), a0, a1, a2;
            kiln__read_u8(r);
            a2 = operand(c, c->nvs - 1);
            a1 = operand(c, c->nvs - 2);
            a0 = operand(c, c->nvs - 3);
            pop(c, 3);
            op(c, KILN__I_MEMORY_INIT);
            w(c, d);
            w(c, a0);
            w(c, a1);
            w(c, a2);
            break;
        }
        case KEY_DATA_DROP:
            op(c, KILN__I_DATA_DROP);
            w(c, kiln__read_u32(r));
            break;
        case KEY_MEMORY_COPY:
        case KEY_MEMORY_FILL: {
            uint32_t a0, a1, a2;
            kiln__read_u8(r);
            if (key == KEY_MEMORY_COPY)
                kiln__read_u8(r);
            a2 = operand(c, c->nvs - 1);
            a1 = operand(c, c->nvs - 2);
            a0 = operand(c, c->nvs - 3);
            pop(c, 3);
            op(c, key == KEY_MEMORY_COPY ? KILN__I_MEMORY_COPY : KILN__I_MEMORY_FILL);
            w(c, a0);
            w(c, a1);
            w(c, a2);
            break;
        }
        case KEY_TABLE_INIT:
        case KEY_TABLE_COPY: {
            uint32_t x = kiln__read_u32(r), y = kiln__read_u32(r), a0, a1, a2;
            a2 = operand(c, c->nvs - 1);
            a1 = operand(c, c->nvs - 2);
            a0 = operand(c, c->nvs - 3);
            pop(c, 3);
            if (key == KEY_TABLE_INIT) {
                op(c, KILN__I_TABLE_INIT);
                w(c, y); /* table */
                w(c, x); /* elem */
            } else {
                op(c, KILN__I_TABLE_COPY);
                w(c, x);
                w(c, y);
            }
            w(c, a0);
            w(c, a1);
            w(c, a2);
            break;
        }
        case KEY_ELEM_DROP:
            op(c, KILN__I_ELEM_DROP);
            w(c, kiln__read_u32(r));
            break;
        case KEY_TABLE_GROW: {
            uint32_t t = kiln__read_u32(r);
            uint32_t n = operand(c, c->nvs - 1), v = operand(c, c->nvs - 2);
            pop(c, 2);
            op(c, KILN__I_TABLE_GROW);
            wdst(c, next_canon(c));
            w(c, t);
            w(c, v);
            w(c, n);
            push(c, KILN_I32);
            break;
        }
        case KEY_TABLE_SIZE: {
            uint32_t t = kiln__read_u32(r);
            op(c, KILN__I_TABLE_SIZE);
            wdst(c, next_canon(c));
            w(c, t);
            push(c, KILN_I32);
            break;
        }
        case KEY_TABLE_FILL: {
            uint32_t t = kiln__read_u32(r), a0, a1, a2;
            a2 = operand(c, c->nvs - 1);
            a1 = operand(c, c->nvs - 2);
            a0 = operand(c, c->nvs - 3);
            pop(c, 3);
            op(c, KILN__I_TABLE_FILL);
            w(c, t);
            w(c, a0);
            w(c, a1);
            w(c, a2);
            break;
        }
        default: {
            int li = load_iop(key), si = store_iop(key);
            if (li >= 0) {
                uint32_t a, off;
                uint8_t rt = sig_info[op_sig(key)].r0;
                kiln__read_u32(r);
                off = kiln__read_u32(r);
                if (c->vs[c->nvs - 1].kind == V_ADD2 && li != KILN__I_LD128) {
                    uint32_t b2 = c->vs[c->nvs - 1].slot2;
                    a = c->vs[c->nvs - 1].slot;
                    pop(c, 1);
                    op(c, KILN__I_LD32_AA + (li - KILN__I_LD32));
                    wdst(c, next_canon(c));
                    w(c, a);
                    w(c, b2);
                    w(c, off);
                    push(c, rt);
                    break;
                }
                if (c->vs[c->nvs - 1].kind == V_ADDI && li != KILN__I_LD128) {
                    uint32_t k = (uint32_t)c->vs[c->nvs - 1].c[0];
                    a = c->vs[c->nvs - 1].slot;
                    pop(c, 1);
                    op(c, KILN__I_LD32_A + (li - KILN__I_LD32));
                    wdst(c, next_canon(c));
                    w(c, a);
                    w(c, k);
                    w(c, off);
                    push(c, rt);
                    break;
                }
                a = operand(c, c->nvs - 1);
                pop(c, 1);
                op(c, li);
                wdst(c, next_canon(c));
                w(c, a);
                w(c, off);
                push(c, rt);
            } else if (si >= 0) {
                uint32_t a, v, off;
                struct ventry *ve = &c->vs[c->nvs - 1];
                kiln__read_u32(r);
                off = kiln__read_u32(r);
                if (ve->kind == V_CONST && (si == KILN__I_ST32 || si == KILN__I_ST64)) {
                    uint64_t cv = ve->c[0];
                    a = operand(c, c->nvs - 2);
                    pop(c, 2);
                    op(c, si == KILN__I_ST32 ? KILN__I_ST32_I : KILN__I_ST64_I);
                    w(c, a);
                    w(c, (uint32_t)cv);
                    if (si == KILN__I_ST64)
                        w(c, (uint32_t)(cv >> 32));
                    w(c, off);
                    break;
                }
                v = operand(c, c->nvs - 1);
                if (c->vs[c->nvs - 2].kind == V_ADD2 && si != KILN__I_ST128) {
                    uint32_t b2 = c->vs[c->nvs - 2].slot2;
                    a = c->vs[c->nvs - 2].slot;
                    pop(c, 2);
                    op(c, KILN__I_ST8_AA + (si - KILN__I_ST8));
                    w(c, a);
                    w(c, v);
                    w(c, b2);
                    w(c, off);
                    break;
                }
                if (c->vs[c->nvs - 2].kind == V_ADDI && si != KILN__I_ST128) {
                    uint32_t k = (uint32_t)c->vs[c->nvs - 2].c[0];
                    a = c->vs[c->nvs - 2].slot;
                    pop(c, 2);
                    op(c, KILN__I_ST8_A + (si - KILN__I_ST8));
                    w(c, a);
                    w(c, v);
                    w(c, k);
                    w(c, off);
                    break;
                }
                a = operand(c, c->nvs - 2);
                pop(c, 2);
                op(c, si);
                w(c, a);
                w(c, v);
                w(c, off);
            } else if ((key >> 16) != 0xfd || kiln__compile_simd(c, key) < 0) {
                return unsupported(c, key, err, fidx);
            }
            break;
        }
        }
    }
    if (c->oom)
        return kiln_error_set(err, KILN_E_NOMEM,
                              "code section, function %u: out of memory compiling", fidx);
    if (r->err)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "code section, function %u, offset 0x%zx: %s", fidx, r->err_off,
                              r->err);
    if (c->ncf != 0)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "code section, function %u: body ends inside a block", fidx);
    return 0;
}

/* Compiles mod->funcs[fidx] (see module.h). Errors: KILN_E_NOMEM,
 * KILN_E_UNSUPPORTED (SIMD beyond v128 load/store/const), KILN_E_MALFORMED
 * (inconsistent body; cannot happen after validation). */
int kiln__func_compile(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err)
{
    struct kiln__func *fn = &mod->funcs[fidx];
    const struct kiln__functype *ft = &mod->types[fn->type_idx];
    struct comp c;
    struct kiln__code *code = NULL;
    uint32_t slot = 0, nparam_slots = 0;
    int rc;

    memset(&c, 0, sizeof c);
    c.mod = mod;
    c.h = kiln__interp_handlers();
    c.last_dst = -1;
    c.last_op = -1;
    c.nlocals = ft->nparams + fn->nlocals;
    c.local_type = fn->local_types;
    c.local_slot = malloc(((size_t)c.nlocals + 1) * sizeof *c.local_slot);
    if (!c.local_slot) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "code section, function %u: out of memory", fidx);
        goto fail;
    }
    for (uint32_t i = 0; i < c.nlocals; i++) {
        if (i == ft->nparams)
            nparam_slots = slot;
        c.local_slot[i] = slot;
        slot += kiln__slots(fn->local_types[i]);
    }
    if (c.nlocals == ft->nparams)
        nparam_slots = slot;
    c.temp_base = slot;
    c.max_slot = slot;
    kiln__reader_init(&c.r, mod->bytes, mod->bytes + fn->code_off,
                      mod->bytes + fn->body_off + fn->body_len);
    {
        struct cframe tmpl;
        memset(&tmpl, 0, sizeof tmpl);
        tmpl.bt_kind = 2;
        tmpl.bt_val = fn->type_idx;
        tmpl.nparams = 0; /* the function's params are locals, not operands */
        tmpl.nresults = ft->nresults;
        if (!push_frame(&c, F_BLOCK, &tmpl)) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "code section, function %u: out of memory",
                                fidx);
            goto fail;
        }
    }
    rc = compile_body(&c, fidx, err);
    if (rc < 0)
        goto fail;
    fuse_pairs(&c);
    code = malloc(sizeof *code + c.ncode * sizeof(uint32_t));
    if (!code) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "code section, function %u: out of memory", fidx);
        goto fail;
    }
    code->nparam_slots = nparam_slots;
    code->nlocal_slots = c.temp_base - nparam_slots;
    code->nresult_slots = ft->nresult_slots;
    code->frame_slots = c.max_slot > ft->nresult_slots ? c.max_slot : ft->nresult_slots;
    code->nwords = (uint32_t)c.ncode;
    if (c.ncode)
        memcpy(code->words, c.code, c.ncode * sizeof(uint32_t));
    kiln__code_free(fn->code);
    fn->code = code;
    rc = 0;
fail:
    free(c.local_slot);
    free(c.code);
    free(c.vs);
    free(c.cf);
    free(c.pt);
    free(c.starts);
    return rc;
}

/* Frees a compiled body; NULL is a no-op. */
void kiln__code_free(struct kiln__code *code)
{
    free(code);
}
