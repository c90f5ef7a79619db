/*
 * translate_chase.c — finds the loads of a function that chase pointers
 * around a loop, for the AOT translator.
 *
 * Generated code addresses memory 0 through the gs segment (aot_gen.h),
 * and a gs-relative load has about two cycles more latency than a load
 * from base + index on the x86-64 cores measured (bench/aot/README.md:
 * 1.78 vs 1.25 ns per hop of an L1-resident ring). That is invisible where
 * loads overlap, but a loop that walks a linked structure waits for each
 * load before it can issue the next: CoreMark's list search ran 1.5× the
 * native time. Such loads are emitted with a host base instead
 * (translate.c: kx_lh_*, hb = inst->mem0_base); every other access keeps
 * the segment.
 *
 * A load chases when, inside a loop, its result flows (through integer
 * arithmetic, select, local.set/tee and other loads) into a local from
 * which its own address is computed: p = p->next, i = next[i],
 * n = cond ? n->left : n->right. The walk over the validated body keeps,
 * for each operand, up to three locals its value is computed from, each
 * with up to four loads on its way (so an accumulator fed by loads is no
 * chaser: the path from the accumulator carries no load); each
 * local.set/tee inside a loop records edges "local A's value reaches
 * local B (through these loads)", grouped by the innermost loop. A load is
 * a chaser when it lies on an edge A → B of a loop of at most MAX_LOOP
 * bytes whose own edges also lead from B back to A (the same strongly
 * connected component). The analysis may be wrong both ways (values
 * merged at block ends are forgotten; locals reused for other values can
 * close a cycle): a wrong answer costs speed, never correctness, since
 * both kinds of load read the same bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/aot/aot_internal.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* MAX_LOOP: only loops whose body is at most this many bytes of wasm are
 * searched; in a longer body the rest of the work hides a load's latency,
 * and host-base loads there only add register pressure (sqlite's VDBE
 * dispatch loop, whose opcodes reuse locals, would otherwise turn 857
 * loads into "chasers"). Measured (bench/aot/README.md): CoreMark the
 * same with 64, 256 or no limit; speedtest1 within noise of no chasers
 * with 256. */
enum { NROOT = 3, NLD = 4, MAX_EDGES = 65536, MAX_LOOP = 256 };

/* Where an operand's value comes from: up to NROOT locals, each with the
 * loads its value passed through on the way (module offsets of their
 * opcodes). */
struct path {
    uint32_t root;
    uint8_t nld;
    uint32_t ld[NLD];
};
struct tag {
    uint8_t n;
    struct path p[NROOT];
};

struct edge {
    uint32_t loop;     /* the innermost loop around the assignment */
    uint32_t from, to; /* locals */
    uint8_t nld;
    uint32_t ld[NLD];
};

struct frame {
    uint32_t height, nparams, nresults;
    uint32_t outer_loop; /* a loop's: the innermost loop around it */
    uint32_t start;      /* a loop's: module offset of its opcode */
    bool loop;
};

struct walk {
    const struct kiln_module *mod;
    struct kiln__reader r;
    struct tag *stk;
    uint32_t sp, stk_cap;
    struct frame *fr;
    uint32_t nfr, fr_cap;
    uint32_t loop, nloop; /* the innermost loop (1..nloop; 0: none) */
    uint32_t *loop_len;   /* [loop]: its body's length in bytes */
    uint32_t loop_cap;
    struct edge *e;
    uint32_t ne, e_cap;
    bool oom, give_up;
};

static struct tag *push(struct walk *w)
{
    if (!kiln__aot_grow(&w->stk, &w->stk_cap, w->sp + 1, sizeof *w->stk)) {
        w->oom = true;
        return NULL;
    }
    memset(&w->stk[w->sp], 0, sizeof w->stk[0]);
    return &w->stk[w->sp++];
}

static void push_none(struct walk *w, uint32_t n)
{
    while (n-- && !w->oom) push(w);
}

/* Pops n operands (validated code has them, except in dead code, which the
 * walk skips). */
static void pop(struct walk *w, uint32_t n)
{
    w->sp = n <= w->sp ? w->sp - n : 0;
}

static void add_load(struct path *p, uint32_t ld)
{
    for (uint8_t k = 0; k < p->nld; k++)
        if (p->ld[k] == ld) return;
    if (p->nld == NLD) {
        memmove(p->ld, p->ld + 1, (NLD - 1) * sizeof p->ld[0]);
        p->nld--;
    }
    p->ld[p->nld++] = ld;
}

/* dst |= src: the union of the paths, per local; when there are more
 * locals than fit, paths through loads displace those without. */
static void merge(struct tag *dst, const struct tag *src)
{
    for (uint8_t i = 0; i < src->n; i++) {
        const struct path *sp = &src->p[i];
        struct path *dp = NULL;
        for (uint8_t j = 0; j < dst->n && !dp; j++)
            if (dst->p[j].root == sp->root) dp = &dst->p[j];
        if (dp) {
            for (uint8_t k = 0; k < sp->nld; k++) add_load(dp, sp->ld[k]);
            continue;
        }
        if (dst->n < NROOT) {
            dst->p[dst->n++] = *sp;
            continue;
        }
        for (uint8_t j = 0; j < dst->n && sp->nld; j++)
            if (!dst->p[j].nld) {
                dst->p[j] = *sp;
                break;
            }
    }
}

static void add_edge(struct walk *w, uint32_t to, const struct path *p)
{
    struct edge *e;
    if (w->ne == MAX_EDGES) {
        w->give_up = true; /* a body this big is left as it is */
        return;
    }
    if (!kiln__aot_grow(&w->e, &w->e_cap, w->ne + 1, sizeof *w->e)) {
        w->oom = true;
        return;
    }
    e = &w->e[w->ne++];
    e->loop = w->loop;
    e->from = p->root;
    e->to = to;
    e->nld = p->nld;
    memcpy(e->ld, p->ld, sizeof p->ld);
}

/* local.set/tee l of value v, inside a loop: v's roots reach l */
static void assign(struct walk *w, uint32_t l, const struct tag *v)
{
    if (!w->loop) return;
    for (uint8_t i = 0; i < v->n; i++) add_edge(w, l, &v->p[i]);
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

static bool set_loop_len(struct walk *w, uint32_t loop, uint32_t len)
{
    if (!kiln__aot_grow(&w->loop_len, &w->loop_cap, loop + 1, sizeof *w->loop_len)) {
        w->oom = true;
        return false;
    }
    w->loop_len[loop] = len;
    return true;
}



/* One operator; false at the function's end. */
static bool step(struct walk *w)
{
    const struct kiln_module *mod = w->mod;
    size_t at = kiln__reader_off(&w->r);
    struct kiln__aot_opsig s;
    struct frame *f;
    struct tag v, *t;
    uint32_t n;
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
        w->give_up = !kiln__aot_skip_dead(&w->r);
        return !w->give_up;
    case KILN__OP_BLOCK:
    case KILN__OP_LOOP:
    case KILN__OP_IF:
        if (op == KILN__OP_IF) pop(w, 1);
        f = push_frame(w);
        if (!f) return false;
        kiln__aot_blocktype(w->mod, &w->r, &f->nparams, &f->nresults);
        if (f->nparams > w->sp) f->nparams = w->sp;
        f->height = w->sp - f->nparams;
        f->loop = op == KILN__OP_LOOP;
        if (f->loop) {
            f->outer_loop = w->loop;
            f->start = (uint32_t)at;
            w->loop = ++w->nloop;
        }
        /* values entering the block are forgotten (merged at the head) */
        pop(w, f->nparams);
        push_none(w, f->nparams);
        return true;
    case KILN__OP_ELSE:
        f = &w->fr[w->nfr - 1];
        w->sp = f->height;
        push_none(w, f->nparams);
        return true;
    case KILN__OP_END:
        if (w->nfr == 1) return false; /* the function's end */
        f = &w->fr[--w->nfr];
        if (f->loop) {
            if (!set_loop_len(w, w->loop, (uint32_t)at - f->start)) return false;
            w->loop = f->outer_loop;
        }
        w->sp = f->height;
        push_none(w, f->nresults);
        return true;
    case KILN__OP_BR_IF: kiln__read_u32(&w->r); pop(w, 1); return true;
    case KILN__OP_CALL: {
        uint32_t fi = kiln__read_u32(&w->r);
        const struct kiln__functype *ft = &mod->types[mod->funcs[fi].type_idx];
        pop(w, ft->nparams);
        push_none(w, ft->nresults);
        return true;
    }
    case KILN__OP_CALL_INDIRECT: {
        uint32_t ti = kiln__read_u32(&w->r);
        kiln__read_u32(&w->r);
        pop(w, 1 + mod->types[ti].nparams);
        push_none(w, mod->types[ti].nresults);
        return true;
    }
    case KILN__OP_DROP: pop(w, 1); return true;
    case KILN__OP_SELECT:
    case KILN__OP_SELECT_T:
        kiln__aot_skip_imm(&w->r, s.imm);
        if (w->sp < 3) return !(w->give_up = true);
        v = w->stk[w->sp - 3];
        merge(&v, &w->stk[w->sp - 2]);
        pop(w, 3);
        t = push(w);
        if (t) *t = v;
        return true;
    case KILN__OP_LOCAL_GET:
        n = kiln__read_u32(&w->r);
        t = push(w);
        if (t) {
            t->n = 1;
            t->p[0].root = n;
        }
        return true;
    case KILN__OP_LOCAL_SET:
    case KILN__OP_LOCAL_TEE:
        n = kiln__read_u32(&w->r);
        if (!w->sp) return !(w->give_up = true);
        v = w->stk[w->sp - 1];
        assign(w, n, &v);
        if (op == KILN__OP_LOCAL_SET) pop(w, 1);
        return true;
    case KILN__OP_GLOBAL_GET: kiln__read_u32(&w->r); push_none(w, 1); return true;
    case KILN__OP_GLOBAL_SET: kiln__read_u32(&w->r); pop(w, 1); return true;
    case KILN__OP_TABLE_GET: kiln__read_u32(&w->r); pop(w, 1); push_none(w, 1); return true;
    case KILN__OP_TABLE_SET: kiln__read_u32(&w->r); pop(w, 2); return true;
    case KILN__OP_TABLE_GROW: kiln__read_u32(&w->r); pop(w, 2); push_none(w, 1); return true;
    case KILN__OP_TABLE_FILL: kiln__read_u32(&w->r); pop(w, 3); return true;
    case KILN__OP_REF_NULL: kiln__read_u8(&w->r); push_none(w, 1); return true;
    case KILN__OP_REF_IS_NULL: pop(w, 1); push_none(w, 1); return true;
    case KILN__OP_REF_FUNC: kiln__read_u32(&w->r); push_none(w, 1); return true;
    default: break;
    }
    kiln__aot_skip_imm(&w->r, s.imm);
    if (s.special) {
        w->give_up = true; /* an operator this walk does not know */
        return false;
    }
    if (s.np > w->sp) return !(w->give_up = true);
    memset(&v, 0, sizeof v);
    if (s.nr == 1 && (s.rt == KILN_I32 || s.rt == KILN_I64)) {
        /* an integer result: computed from its integer operands; a load's
         * from its address, with the load itself on the way */
        for (uint32_t i = 0; i < s.np; i++) merge(&v, &w->stk[w->sp - s.np + i]);
        if (s.load) {
            for (uint8_t i = 0; i < v.n; i++) add_load(&v.p[i], (uint32_t)at);
        }
    }
    pop(w, s.np);
    if (s.nr) {
        t = push(w);
        if (t) *t = v;
    }
    return true;
}

/* Strongly connected components of the locals' graph (Kosaraju, without
 * recursion): comp[l] for each local; two locals share a component when
 * each reaches the other. Returns false when out of memory. */
static bool components(const struct edge *e, uint32_t ne, uint32_t nlocals, uint32_t *comp)
{
    uint32_t *off = calloc((size_t)nlocals + 1, sizeof *off);
    uint32_t *roff = calloc((size_t)nlocals + 1, sizeof *roff);
    uint32_t *adj = malloc(((size_t)ne + 1) * sizeof *adj);
    uint32_t *radj = malloc(((size_t)ne + 1) * sizeof *radj);
    uint32_t *order = malloc(((size_t)nlocals + 1) * sizeof *order);
    uint32_t *st = malloc(((size_t)nlocals + 1) * sizeof *st);
    uint32_t *pos = malloc(((size_t)nlocals + 1) * sizeof *pos);
    uint32_t norder = 0, ncomp = 0, i;
    bool ok = off && roff && adj && radj && order && st && pos;
    if (!ok) goto out;
    /* adjacency and reverse adjacency in CSR form */
    for (i = 0; i < ne; i++) {
        off[e[i].from + 1]++;
        roff[e[i].to + 1]++;
    }
    for (i = 0; i < nlocals; i++) {
        off[i + 1] += off[i];
        roff[i + 1] += roff[i];
    }
    memcpy(pos, off, nlocals * sizeof *pos);
    for (i = 0; i < ne; i++) adj[pos[e[i].from]++] = e[i].to;
    memcpy(pos, roff, nlocals * sizeof *pos);
    for (i = 0; i < ne; i++) radj[pos[e[i].to]++] = e[i].from;
    /* pass 1: finishing order of a depth-first walk of the graph */
    for (i = 0; i < nlocals; i++) comp[i] = UINT32_MAX;
    for (uint32_t s = 0; s < nlocals; s++) {
        uint32_t sp = 0;
        if (comp[s] != UINT32_MAX) continue;
        comp[s] = 0; /* visited */
        st[sp++] = s;
        pos[s] = off[s];
        while (sp) {
            uint32_t l = st[sp - 1];
            if (pos[l] < off[l + 1]) {
                uint32_t b = adj[pos[l]++];
                if (comp[b] == UINT32_MAX) {
                    comp[b] = 0;
                    pos[b] = off[b];
                    st[sp++] = b;
                }
            } else {
                order[norder++] = l;
                sp--;
            }
        }
    }
    /* pass 2: the reverse graph in decreasing finishing order */
    for (i = 0; i < nlocals; i++) comp[i] = UINT32_MAX;
    while (norder) {
        uint32_t s = order[--norder], sp = 0;
        if (comp[s] != UINT32_MAX) continue;
        comp[s] = ncomp;
        st[sp++] = s;
        while (sp) {
            uint32_t l = st[--sp];
            for (uint32_t k = roff[l]; k < roff[l + 1]; k++)
                if (comp[radj[k]] == UINT32_MAX) {
                    comp[radj[k]] = ncomp;
                    st[sp++] = radj[k];
                }
        }
        ncomp++;
    }
out:
    free(off);
    free(roff);
    free(adj);
    free(radj);
    free(order);
    free(st);
    free(pos);
    return ok;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_loop(const void *a, const void *b)
{
    return cmp_u32(&((const struct edge *)a)->loop, &((const struct edge *)b)->loop);
}

/* See aot_internal.h. */
int kiln__aot_find_chases(const struct kiln_module *mod, uint32_t f, uint32_t **out,
                          uint32_t *nout)
{
    const struct kiln__func *fn = &mod->funcs[f];
    const struct kiln__functype *ft = &mod->types[fn->type_idx];
    uint32_t nlocals = ft->nparams + fn->nlocals, n = 0, cap = 0;
    uint32_t *res = NULL, *comp = NULL;
    struct walk w;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    memset(&w, 0, sizeof w);
    w.mod = mod;
    kiln__reader_init(&w.r, mod->bytes, mod->bytes + fn->code_off,
                      mod->bytes + fn->body_off + fn->body_len);
    if (!push_frame(&w)) return -1;
    while (!w.oom && !w.give_up && step(&w)) {
    }
    if (w.oom) {
        rc = -1;
        goto out;
    }
    if (w.give_up || !w.ne) goto out;
    /* a cycle counts only within one loop's own assignments (nested
     * loops apart): compilers reuse locals, and across loops a merged
     * local would make most of the function's loads look like chasers */
    qsort(w.e, w.ne, sizeof *w.e, cmp_loop);
    comp = malloc((nlocals ? nlocals : 1) * sizeof *comp);
    if (!comp) {
        rc = -1;
        goto out;
    }
    for (uint32_t g = 0, g1; g < w.ne; g = g1) {
        for (g1 = g + 1; g1 < w.ne && w.e[g1].loop == w.e[g].loop;) g1++;
        if (w.e[g].loop >= w.loop_cap || w.loop_len[w.e[g].loop] > MAX_LOOP) continue;
        if (!components(w.e + g, g1 - g, nlocals, comp)) {
            rc = -1;
            goto out;
        }
        for (uint32_t i = g; i < g1; i++) {
            const struct edge *e = &w.e[i];
            if (!e->nld || comp[e->from] != comp[e->to]) continue;
            for (uint8_t k = 0; k < e->nld; k++) {
                if (!kiln__aot_grow(&res, &cap, n + 1, sizeof *res)) {
                    rc = -1;
                    goto out;
                }
                res[n++] = e->ld[k];
            }
        }
    }
    if (n) {
        uint32_t m = 1;
        qsort(res, n, sizeof *res, cmp_u32);
        for (uint32_t i = 1; i < n; i++)
            if (res[i] != res[m - 1]) res[m++] = res[i];
        n = m;
    }
    *out = res;
    *nout = n;
    res = NULL;
out:
    free(res);
    free(comp);
    free(w.stk);
    free(w.fr);
    free(w.e);
    free(w.loop_len);
    return rc;
}
