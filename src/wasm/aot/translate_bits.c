/*
 * translate_bits.c — demanded bits of integer values, for the AOT
 * translator: integer constants whose undemanded bits can be changed so
 * that the C compiler sees simpler values.
 *
 * Why: clang's wasm keeps narrow values in 32-bit registers and chooses
 * constants for the shortest encoding, e.g. CoreMark's CRC step
 *     r = bit ? (x >> 1) ^ 0xffffa001 : x >> 1;  x' = (r >> 1) & 0x7fff
 * where only the low 16 bits of r are ever used. With 0xffffa001 the
 * compiler must keep the mask (4 dependent operations per bit); with the
 * equivalent 0xa001 it knows r < 0x10000 and drops it (3, as gcc's own
 * code does): CoreMark's CRC ran 1.3× native before.
 *
 * How: one forward walk over the validated body builds a node per integer
 * operation, constant and read of a local (other values are opaque), with
 * locals renamed within straight-line code (a local.get after a local.set
 * in the same stretch refers to the stored value's node, so a reused local
 * does not merge unrelated values). At every control instruction the
 * stretch ends: values on the operand stack are demanded whole, and each
 * local's current value "escapes" to the join, where its demand is the
 * union of every read of that local that is not renamed (flow-insensitive).
 * Consumers that are not modelled (calls, comparisons, memory addresses,
 * globals, branches, returns) demand every bit; stores demand their width.
 * A backward pass propagates demands from consumers to operands (and, or,
 * xor, add/sub/mul, shifts by constants, extensions, wrap, select) and is
 * repeated until the locals' demands stop growing.
 *
 * Result: for each constant, the bits no consumer demands. Those bits are
 * cleared, or for the mask of an `and` set when that makes the `and` a
 * no-op, which leaves every demanded bit of every value, and hence every
 * observable result, unchanged (any value of an undemanded bit would). Any doubt counts as demanded; a body the walk cannot follow
 * gets no change.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/aot/aot_internal.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

enum { NONE = UINT32_MAX, MAX_NODES = 1u << 20 };
enum { P_LGET = KILN__OP__COUNT, P_ESCAPE }; /* pseudo operations */

struct node {
    uint32_t op;      /* KILN__OP_* or P_* */
    uint32_t a, b, c; /* operands (NONE); P_LGET: a = local; P_ESCAPE: a = local, b = value */
    uint32_t off;     /* a constant's module offset */
    uint8_t width;    /* 32 or 64 (0: P_ESCAPE) */
    uint8_t nuse;     /* a constant's consumers (2 = more than one) */
    uint32_t user;    /* a constant's (only) consumer */
    uint64_t cval;    /* a constant's value */
    uint64_t demand;
};

struct frame {
    uint32_t height, nparams, nresults;
};

struct walk {
    const struct kiln_module *mod;
    struct kiln__reader r;
    struct node *n;
    uint32_t nn, n_cap;
    uint32_t *stk; /* node ids (NONE: opaque) */
    uint32_t sp, stk_cap;
    struct frame *fr;
    uint32_t nfr, fr_cap;
    uint32_t nlocals;
    const uint8_t *ltypes; /* params then locals */
    uint32_t *def;     /* [local]: its value's node in the current stretch */
    uint32_t *def_gen; /* [local]: the stretch def belongs to */
    uint32_t *touched; /* locals set in the current stretch */
    uint32_t ntouched, gen;
    uint64_t *dl; /* [local]: demand at joins */
    bool oom, give_up;
};

static uint8_t width_of(uint8_t type)
{
    return type == KILN_I32 ? 32 : type == KILN_I64 ? 64 : 0;
}

static uint64_t wmask(uint8_t width)
{
    return width == 64 ? UINT64_MAX : width == 32 ? 0xffffffffu : 0;
}

static uint32_t new_node(struct walk *w, uint32_t op, uint8_t width)
{
    struct node *n;
    if (w->nn == MAX_NODES) {
        w->give_up = true;
        return NONE;
    }
    if (!kiln__aot_grow(&w->n, &w->n_cap, w->nn + 1, sizeof *w->n)) {
        w->oom = true;
        return NONE;
    }
    n = &w->n[w->nn];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->width = width;
    n->a = n->b = n->c = NONE;
    n->user = NONE;
    return w->nn++;
}

static void push(struct walk *w, uint32_t id)
{
    if (!kiln__aot_grow(&w->stk, &w->stk_cap, w->sp + 1, sizeof *w->stk)) {
        w->oom = true;
        return;
    }
    w->stk[w->sp++] = id;
}

static uint32_t pop(struct walk *w)
{
    return w->sp ? w->stk[--w->sp] : NONE;
}

/* Every bit of node id is demanded (an unmodelled consumer). */
static void demand_all(struct walk *w, uint32_t id)
{
    if (id == NONE) return;
    w->n[id].demand = wmask(w->n[id].width);
    if (w->n[id].nuse < 2) w->n[id].nuse++;
}

/* id is consumed by operation node user (its demand comes later). */
static void use(struct walk *w, uint32_t id, uint32_t user)
{
    if (id == NONE) return;
    if (w->n[id].nuse < 2) w->n[id].nuse++;
    w->n[id].user = user;
}

/* The end of a straight-line stretch: operands demanded whole, each local
 * set in it escapes to the join, and (reset) reads start afresh. */
static void stretch_end(struct walk *w, bool reset)
{
    for (uint32_t i = 0; i < w->sp; i++) demand_all(w, w->stk[i]);
    for (uint32_t i = 0; i < w->ntouched; i++) {
        uint32_t l = w->touched[i], e;
        if (w->def_gen[l] != w->gen || w->def[l] == NONE) continue;
        e = new_node(w, P_ESCAPE, 0);
        if (e == NONE) return;
        w->n[e].a = l;
        w->n[e].b = w->def[l];
        if (w->n[w->def[l]].nuse < 2) w->n[w->def[l]].nuse++;
    }
    if (reset) {
        w->ntouched = 0;
        w->gen++;
    }
}

static void set_local(struct walk *w, uint32_t l, uint32_t id)
{
    if (l >= w->nlocals) {
        w->give_up = true;
        return;
    }
    if (w->def_gen[l] != w->gen) {
        w->touched[w->ntouched++] = l; /* at most once per stretch: nlocals entries */
        w->def_gen[l] = w->gen;
    }
    w->def[l] = id;
}

static uint32_t get_local(struct walk *w, uint32_t l)
{
    uint32_t id;
    uint8_t width;
    if (l >= w->nlocals) {
        w->give_up = true;
        return NONE;
    }
    if (w->def_gen[l] == w->gen) return w->def[l];
    width = width_of(w->ltypes[l]);
    if (!width) return NONE;
    id = new_node(w, P_LGET, width);
    if (id != NONE) w->n[id].a = l;
    return id;
}

static struct frame *push_frame(struct walk *w)
{
    if (!kiln__aot_grow(&w->fr, &w->fr_cap, w->nfr + 1, sizeof *w->fr)) {
        w->oom = true;
        return NULL;
    }
    memset(&w->fr[w->nfr], 0, sizeof w->fr[0]);
    return &w->fr[w->nfr++];
}


static void push_opaque(struct walk *w, uint32_t n)
{
    while (n-- && !w->oom) push(w, NONE);
}


/* The operations whose demand on their operands is modelled. */
static bool modelled(int op)
{
    switch (op) {
    case KILN__OP_I32_AND: case KILN__OP_I64_AND: case KILN__OP_I32_OR: case KILN__OP_I64_OR:
    case KILN__OP_I32_XOR: case KILN__OP_I64_XOR: case KILN__OP_I32_ADD: case KILN__OP_I64_ADD:
    case KILN__OP_I32_SUB: case KILN__OP_I64_SUB: case KILN__OP_I32_MUL: case KILN__OP_I64_MUL:
    case KILN__OP_I32_SHL: case KILN__OP_I64_SHL: case KILN__OP_I32_SHR_U:
    case KILN__OP_I64_SHR_U: case KILN__OP_I32_SHR_S: case KILN__OP_I64_SHR_S:
    case KILN__OP_I32_WRAP_I64: case KILN__OP_I64_EXTEND_I32_U: case KILN__OP_I64_EXTEND_I32_S:
    case KILN__OP_I32_EXTEND8_S: case KILN__OP_I32_EXTEND16_S: case KILN__OP_I64_EXTEND8_S:
    case KILN__OP_I64_EXTEND16_S: case KILN__OP_I64_EXTEND32_S:
        return true;
    default: return false;
    }
}

/* One operator; false at the function's end. */
static bool step(struct walk *w)
{
    const struct kiln_module *mod = w->mod;
    size_t at = kiln__reader_off(&w->r);
    struct kiln__aot_opsig s;
    struct frame *f;
    uint32_t n, id, a, b, c;
    int op = kiln__aot_read_op(&w->r, &s);
    if (op < 0 || w->r.err) {
        w->give_up = true;
        return false;
    }
    switch (op) {
    case KILN__OP_UNREACHABLE:
    case KILN__OP_BR:
    case KILN__OP_BR_TABLE:
    case KILN__OP_RETURN:
        kiln__aot_skip_imm(&w->r, s.imm);
        stretch_end(w, true);
        w->give_up = !kiln__aot_skip_dead(&w->r);
        return !w->give_up;
    case KILN__OP_BLOCK:
    case KILN__OP_LOOP:
    case KILN__OP_IF:
        stretch_end(w, true); /* the if's condition too: demanded whole */
        if (op == KILN__OP_IF) pop(w);
        f = push_frame(w);
        if (!f) return false;
        kiln__aot_blocktype(w->mod, &w->r, &f->nparams, &f->nresults);
        if (f->nparams > w->sp) f->nparams = w->sp;
        f->height = w->sp - f->nparams;
        w->sp = f->height;
        push_opaque(w, f->nparams);
        return true;
    case KILN__OP_ELSE:
        stretch_end(w, true);
        f = &w->fr[w->nfr - 1];
        w->sp = f->height;
        push_opaque(w, f->nparams);
        return true;
    case KILN__OP_END:
        stretch_end(w, true);
        if (w->nfr == 1) return false; /* the function's end */
        f = &w->fr[--w->nfr];
        w->sp = f->height;
        push_opaque(w, f->nresults);
        return true;
    case KILN__OP_BR_IF:
        kiln__read_u32(&w->r);
        stretch_end(w, false); /* the fall-through keeps the stretch's values */
        pop(w);
        return true;
    case KILN__OP_CALL: {
        uint32_t fi = kiln__read_u32(&w->r);
        const struct kiln__functype *ft = &mod->types[mod->funcs[fi].type_idx];
        for (uint32_t i = 0; i < ft->nparams; i++) demand_all(w, pop(w));
        push_opaque(w, ft->nresults);
        return true;
    }
    case KILN__OP_CALL_INDIRECT: {
        uint32_t ti = kiln__read_u32(&w->r);
        kiln__read_u32(&w->r);
        for (uint32_t i = 0; i < 1 + mod->types[ti].nparams; i++) demand_all(w, pop(w));
        push_opaque(w, mod->types[ti].nresults);
        return true;
    }
    case KILN__OP_DROP: pop(w); return true;
    case KILN__OP_SELECT:
    case KILN__OP_SELECT_T:
        kiln__aot_skip_imm(&w->r, s.imm);
        c = pop(w);
        b = pop(w);
        a = pop(w);
        demand_all(w, c);
        if (a == NONE || b == NONE || w->n[a].width != w->n[b].width) {
            demand_all(w, a);
            demand_all(w, b);
            push(w, NONE);
            return true;
        }
        id = new_node(w, op, w->n[a].width);
        if (id == NONE) return false;
        w->n[id].a = a;
        w->n[id].b = b;
        use(w, a, id);
        use(w, b, id);
        push(w, id);
        return true;
    case KILN__OP_LOCAL_GET:
        n = kiln__read_u32(&w->r);
        push(w, get_local(w, n));
        return true;
    case KILN__OP_LOCAL_SET:
    case KILN__OP_LOCAL_TEE:
        n = kiln__read_u32(&w->r);
        /* the local's reads are counted as uses where they are consumed */
        id = op == KILN__OP_LOCAL_SET ? pop(w) : (w->sp ? w->stk[w->sp - 1] : NONE);
        set_local(w, n, id);
        return true;
    case KILN__OP_GLOBAL_GET: kiln__read_u32(&w->r); push(w, NONE); return true;
    case KILN__OP_GLOBAL_SET: kiln__read_u32(&w->r); demand_all(w, pop(w)); return true;
    case KILN__OP_I32_CONST:
    case KILN__OP_I64_CONST:
        id = new_node(w, op, op == KILN__OP_I32_CONST ? 32 : 64);
        if (id == NONE) return false;
        w->n[id].off = (uint32_t)at;
        w->n[id].cval = op == KILN__OP_I32_CONST ? (uint32_t)kiln__read_sleb(&w->r, 32)
                                                 : (uint64_t)kiln__read_sleb(&w->r, 64);
        push(w, id);
        return true;
    default: break;
    }
    kiln__aot_skip_imm(&w->r, s.imm);
    if (s.special) {
        /* table and reference operators: operands and results opaque */
        switch (op) {
        case KILN__OP_TABLE_GET: demand_all(w, pop(w)); push(w, NONE); return true;
        case KILN__OP_TABLE_SET: demand_all(w, pop(w)); demand_all(w, pop(w)); return true;
        case KILN__OP_TABLE_GROW:
            demand_all(w, pop(w));
            demand_all(w, pop(w));
            push(w, NONE);
            return true;
        case KILN__OP_TABLE_FILL:
            for (int i = 0; i < 3; i++) demand_all(w, pop(w));
            return true;
        case KILN__OP_REF_NULL:
        case KILN__OP_REF_FUNC: push(w, NONE); return true;
        case KILN__OP_REF_IS_NULL: pop(w); push(w, NONE); return true;
        default: w->give_up = true; return false;
        }
    }
    if (s.np > w->sp) {
        w->give_up = true;
        return false;
    }
    /* stores: the value's width; everything else unmodelled: whole */
    if (s.nr == 0 && s.np == 2 && (s.imm == KILN__IMM_MEMARG)) {
        uint32_t v = pop(w), addr = pop(w);
        demand_all(w, addr);
        if (v != NONE) {
            uint64_t m = op == KILN__OP_I32_STORE8 || op == KILN__OP_I64_STORE8 ? 0xff
                         : op == KILN__OP_I32_STORE16 || op == KILN__OP_I64_STORE16 ? 0xffff
                         : op == KILN__OP_I64_STORE32 ? 0xffffffffu
                                                      : wmask(w->n[v].width);
            w->n[v].demand |= m & wmask(w->n[v].width);
            if (w->n[v].nuse < 2) w->n[v].nuse++;
        }
        return true;
    }
    if (modelled(op) && s.nr == 1 && width_of(s.rt)) {
        id = new_node(w, op, width_of(s.rt));
        if (id == NONE) return false;
        if (s.np == 2) {
            w->n[id].b = pop(w);
            use(w, w->n[id].b, id);
        }
        w->n[id].a = pop(w);
        use(w, w->n[id].a, id);
        push(w, id);
        return true;
    }
    for (uint32_t i = 0; i < s.np; i++) demand_all(w, pop(w));
    if (s.nr) push(w, NONE);
    return true;
}

static uint64_t lowmask(uint64_t d)
{
    if (!d) return 0;
    return (UINT64_MAX >> __builtin_clzll(d));
}

static bool add_demand(struct walk *w, uint32_t id, uint64_t d)
{
    uint64_t old;
    if (id == NONE) return false;
    d &= wmask(w->n[id].width);
    old = w->n[id].demand;
    w->n[id].demand |= d;
    return w->n[id].demand != old;
}

/* The constant value of node id, if it is one. */
static bool is_const(const struct walk *w, uint32_t id, uint64_t *v)
{
    if (id == NONE || (w->n[id].op != KILN__OP_I32_CONST && w->n[id].op != KILN__OP_I64_CONST))
        return false;
    *v = w->n[id].cval;
    return true;
}

/* One backward pass; true if any demand grew. */
static bool backward(struct walk *w)
{
    bool ch = false;
    for (uint32_t i = w->nn; i-- > 0;) {
        struct node *n = &w->n[i];
        uint64_t d = n->demand, k, all;
        uint32_t sh;
        if (n->op == P_ESCAPE) {
            ch |= add_demand(w, n->b, w->dl[n->a]);
            continue;
        }
        if (n->op == P_LGET) {
            uint64_t old = w->dl[n->a];
            w->dl[n->a] |= d;
            ch |= w->dl[n->a] != old;
            continue;
        }
        if (n->op == KILN__OP_I32_CONST || n->op == KILN__OP_I64_CONST) continue;
        all = wmask(n->width);
        sh = n->width - 1;
        switch (n->op) {
        case KILN__OP_I32_AND:
        case KILN__OP_I64_AND:
            if (is_const(w, n->b, &k)) {
                ch |= add_demand(w, n->a, d & k);
                ch |= add_demand(w, n->b, d);
            } else if (is_const(w, n->a, &k)) {
                ch |= add_demand(w, n->b, d & k);
                ch |= add_demand(w, n->a, d);
            } else {
                ch |= add_demand(w, n->a, d);
                ch |= add_demand(w, n->b, d);
            }
            break;
        case KILN__OP_I32_OR:
        case KILN__OP_I64_OR:
            if (is_const(w, n->b, &k)) {
                ch |= add_demand(w, n->a, d & ~k);
                ch |= add_demand(w, n->b, d);
            } else if (is_const(w, n->a, &k)) {
                ch |= add_demand(w, n->b, d & ~k);
                ch |= add_demand(w, n->a, d);
            } else {
                ch |= add_demand(w, n->a, d);
                ch |= add_demand(w, n->b, d);
            }
            break;
        case KILN__OP_I32_XOR:
        case KILN__OP_I64_XOR:
        case KILN__OP_SELECT:
        case KILN__OP_SELECT_T:
            ch |= add_demand(w, n->a, d);
            ch |= add_demand(w, n->b, d);
            break;
        case KILN__OP_I32_ADD:
        case KILN__OP_I64_ADD:
        case KILN__OP_I32_SUB:
        case KILN__OP_I64_SUB:
        case KILN__OP_I32_MUL:
        case KILN__OP_I64_MUL:
            ch |= add_demand(w, n->a, lowmask(d));
            ch |= add_demand(w, n->b, lowmask(d));
            break;
        case KILN__OP_I32_SHL:
        case KILN__OP_I64_SHL:
        case KILN__OP_I32_SHR_U:
        case KILN__OP_I64_SHR_U:
        case KILN__OP_I32_SHR_S:
        case KILN__OP_I64_SHR_S:
            ch |= add_demand(w, n->b, all);
            if (!is_const(w, n->b, &k)) {
                ch |= add_demand(w, n->a, all);
                break;
            }
            k &= sh;
            if (n->op == KILN__OP_I32_SHL || n->op == KILN__OP_I64_SHL) {
                ch |= add_demand(w, n->a, d >> k);
            } else {
                uint64_t m = (d << k) & all;
                /* shr_s: a demanded bit among the top k copies the sign */
                if ((n->op == KILN__OP_I32_SHR_S || n->op == KILN__OP_I64_SHR_S) && k &&
                    (d & ~(all >> k)))
                    m |= 1ull << sh;
                ch |= add_demand(w, n->a, m);
            }
            break;
        case KILN__OP_I32_WRAP_I64: ch |= add_demand(w, n->a, d & 0xffffffffu); break;
        case KILN__OP_I64_EXTEND_I32_U: ch |= add_demand(w, n->a, d & 0xffffffffu); break;
        case KILN__OP_I64_EXTEND_I32_S:
            ch |= add_demand(w, n->a, (d & 0x7fffffffu) | (d >> 31 ? 0x80000000u : 0));
            break;
        case KILN__OP_I32_EXTEND8_S:
        case KILN__OP_I64_EXTEND8_S:
            ch |= add_demand(w, n->a, (d & 0x7f) | (d >> 7 ? 0x80 : 0));
            break;
        case KILN__OP_I32_EXTEND16_S:
        case KILN__OP_I64_EXTEND16_S:
            ch |= add_demand(w, n->a, (d & 0x7fff) | (d >> 15 ? 0x8000 : 0));
            break;
        case KILN__OP_I64_EXTEND32_S:
            ch |= add_demand(w, n->a, (d & 0x7fffffffu) | (d >> 31 ? 0x80000000u : 0));
            break;
        default:
            ch |= add_demand(w, n->a, all);
            ch |= add_demand(w, n->b, all);
            ch |= add_demand(w, n->c, all);
            break;
        }
    }
    return ch;
}

static int cmp_const(const void *x, const void *y)
{
    const struct kiln__aot_const *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off;
}

/* See aot_internal.h. */
int kiln__aot_narrow_consts(const struct kiln_module *mod, uint32_t f, struct kiln__aot_const **out,
                            uint32_t *nout)
{
    const struct kiln__func *fn = &mod->funcs[f];
    const struct kiln__functype *ft = &mod->types[fn->type_idx];
    struct kiln__aot_const *res = NULL;
    uint32_t n = 0, cap = 0;
    struct walk w;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    memset(&w, 0, sizeof w);
    w.mod = mod;
    w.nlocals = ft->nparams + fn->nlocals;
    w.ltypes = fn->local_types;
    w.gen = 1;
    w.def = calloc(w.nlocals ? w.nlocals : 1, sizeof *w.def);
    w.def_gen = calloc(w.nlocals ? w.nlocals : 1, sizeof *w.def_gen);
    w.touched = calloc(w.nlocals ? w.nlocals : 1, sizeof *w.touched);
    w.dl = calloc(w.nlocals ? w.nlocals : 1, sizeof *w.dl);
    if (!w.def || !w.def_gen || !w.touched || !w.dl || !push_frame(&w)) {
        rc = -1;
        goto out;
    }
    kiln__reader_init(&w.r, mod->bytes, mod->bytes + fn->code_off,
                      mod->bytes + fn->body_off + fn->body_len);
    while (!w.oom && !w.give_up && step(&w)) {
    }
    if (w.oom) {
        rc = -1;
        goto out;
    }
    if (w.give_up) goto out;
    while (backward(&w)) {
    }
    for (uint32_t i = 0; i < w.nn; i++) {
        const struct node *c = &w.n[i];
        uint64_t all = wmask(c->width), v;
        if (c->op != KILN__OP_I32_CONST && c->op != KILN__OP_I64_CONST) continue;
        /* the mask of an `and` (its only consumer) becomes all ones when
         * that makes the `and` a no-op, else stays (setting only some of
         * its undemanded bits would hide from the compiler that they are
         * clear); other constants lose their undemanded bits */
        if (c->nuse == 1 && c->user != NONE &&
            (w.n[c->user].op == KILN__OP_I32_AND || w.n[c->user].op == KILN__OP_I64_AND))
            v = ((c->cval | ~c->demand) & all) == all ? all : c->cval;
        else
            v = c->cval & c->demand;
        if (v == c->cval) continue;
        if (!kiln__aot_grow(&res, &cap, n + 1, sizeof *res)) {
            rc = -1;
            goto out;
        }
        res[n].off = c->off;
        res[n].val = v;
        n++;
    }
    if (n) qsort(res, n, sizeof *res, cmp_const);
    *out = res;
    *nout = n;
    res = NULL;
out:
    free(res);
    free(w.n);
    free(w.stk);
    free(w.fr);
    free(w.def);
    free(w.def_gen);
    free(w.touched);
    free(w.dl);
    return rc;
}
