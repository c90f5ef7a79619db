/*
 * validate.c — decodes the local declarations of one function body and
 * validates its instructions in a single pass, following the validation
 * algorithm of the WebAssembly 2.0 spec (appendix "Validation Algorithm"):
 *
 *   - an operand stack of value types, where T_ANY (0) is the "unknown" type
 *     produced by popping past the bottom of an unreachable frame;
 *   - a control stack of frames (function, block, loop, if, else), each with
 *     its parameter and result types, the operand height at its start and an
 *     "unreachable" flag set by unreachable/br/br_table/return.
 *
 * Opcode facts (immediate kind, stack signature class, natural alignment,
 * lane count) all come from ops.def; only the opcodes whose typing depends on
 * immediates or on the control stack (SIG_SPECIAL) are handled one by one.
 *
 * Invariants:
 *   - nvals >= frames[nframes-1].height while the body is being validated;
 *   - nothing is allocated per instruction: the two stacks start in buffers
 *     inside struct vstate and grow geometrically on the heap, up to
 *     MAX_VALS / MAX_FRAMES (implementation limits, reported as such);
 *   - every count read from the body is bounded before it drives a loop or
 *     an allocation (locals: by KILN__MAX_LOCALS; br_table: by the bytes
 *     left in the body).
 *
 * Errors: "code section, function N (body at 0x..), offset 0x..: reason",
 * with the spec test suite's wording as the reason, KILN_E_MALFORMED for
 * encoding problems and KILN_E_INVALID for typing/index problems.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/error.h"
#include "kiln/wasm.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

#define T_ANY 0u /* the unknown type of the polymorphic stack */

#define MAX_VALS (1u << 20)   /* operand stack height (implementation limit) */
#define MAX_FRAMES (1u << 18) /* control nesting depth (implementation limit) */
#define INLINE_VALS 1024u
#define INLINE_FRAMES 64u

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- opcode tables built from ops.def --------------------------------- */

struct opinfo {
    uint8_t valid; /* 1 when the opcode exists */
    uint8_t imm;   /* enum kiln__imm */
    uint8_t sig;   /* enum kiln__sig */
    uint8_t arg;   /* ops.def arg column */
};

/* Index of (prefix, code) in op_info: plain opcodes, then 0xFC, then 0xFD. */
#define OPIDX(pfx, code) ((pfx) == 0 ? (code) : (pfx) == 0xfc ? 256 + (code) : 512 + (code))

static const struct opinfo op_info[768] = {
#define OP(id, pfx, code, name, imm, sig, arg)                                                     \
    [OPIDX(pfx, code)] = {1, KILN__##imm, KILN__##sig, arg},
#include "wasm/ops.def"
};

struct sigdef {
    uint8_t np;       /* operands popped */
    uint8_t p[3];     /* their types, deepest first */
    uint8_t nr;       /* results pushed (0 or 1) */
    uint8_t r;        /* result type */
    uint32_t mask;    /* low np bytes set */
    uint32_t pattern; /* p[0..np) as little-endian bytes, for a one-compare check */
};

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "sig_info patterns assume a little-endian host"
#endif

static const struct sigdef sig_info[KILN__SIG__COUNT] = {
#define SIG(sig, np, p0, p1, p2, nr, r0)                                                           \
    [KILN__##sig] = {np,                                                                           \
                     {p0, p1, p2},                                                                 \
                     nr,                                                                           \
                     r0,                                                                           \
                     (uint32_t)((1ull << (8 * (np))) - 1),                                         \
                     (uint32_t)(p0) | (uint32_t)(p1) << 8 | (uint32_t)(p2) << 16},
#include "wasm/ops.def"
};

/* One-element type vectors for single-valtype block types. */
static const uint8_t one_type[] = {KILN_I32,  KILN_I64,     KILN_F32,      KILN_F64,
                                   KILN_V128, KILN_FUNCREF, KILN_EXTERNREF};

static const uint8_t *one_type_ptr(uint8_t t)
{
    size_t i;
    for (i = 0; i < sizeof one_type; i++)
        if (one_type[i] == t) return &one_type[i];
    return NULL;
}

/* ---- validator state ---------------------------------------------------- */

struct frame {
    const uint8_t *params;  /* block parameter types */
    const uint8_t *results; /* block result types */
    uint32_t nparams;
    uint32_t nresults;
    uint32_t height;     /* operand stack height at block entry (below params) */
    uint8_t kind;        /* 0 = function, else the opcode: block/loop/if/else */
    uint8_t unreachable; /* rest of the block is stack-polymorphic */
    uint32_t stamp;      /* br_table that last checked this frame's label */
};

struct vstate {
    struct kiln_module *mod;
    struct kiln__reader r;
    const uint8_t *locals; /* local types: params then declared locals */
    uint32_t nlocals;      /* params + declared locals */
    size_t op_off;         /* absolute offset of the current instruction */

    uint8_t *vals; /* operand types; T_ANY = unknown */
    uint32_t nvals, capvals;
    struct frame *frames;
    uint32_t nframes, capframes;
    uint32_t stamp; /* counts br_table instructions (see frame.stamp) */

    int code;        /* kiln error code of the failure, 0 while valid */
    size_t fail_off; /* absolute offset of the failure */
    char why[160];   /* reason */

    uint8_t vals_buf[INLINE_VALS];
    struct frame frames_buf[INLINE_FRAMES];
};

/* Records the first failure; always returns -1. */
static int __attribute__((format(printf, 4, 5)))
vfail_at(struct vstate *v, int code, size_t off, const char *fmt, ...)
{
    va_list ap;
    if (v->code) return -1;
    v->code = code;
    v->fail_off = off;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    return -1;
}

#define INVALID(v, ...) vfail_at((v), KILN_E_INVALID, (v)->op_off, __VA_ARGS__)
#define MALFORMED(v, ...) vfail_at((v), KILN_E_MALFORMED, (v)->op_off, __VA_ARGS__)

/* Turns a reader failure into a validator failure (encoding: malformed). */
static int reader_failed(struct vstate *v)
{
    return vfail_at(v, KILN_E_MALFORMED, v->r.err_off, "%s", v->r.err);
}

static int type_mismatch(struct vstate *v)
{
    return INVALID(v, "type mismatch");
}

/* ---- stacks --------------------------------------------------------------- */

/* Makes room for n more operand types. */
static int __attribute__((noinline)) grow_vals(struct vstate *v, uint32_t n)
{
    uint64_t need = (uint64_t)v->nvals + n;
    uint32_t cap = v->capvals;
    uint8_t *nv;
    if (need > MAX_VALS)
        return vfail_at(v, KILN_E_NOMEM, v->op_off,
                        "implementation limit: more than %u values on the operand stack", MAX_VALS);
    while (cap < need)
        cap = cap * 2;
    if (cap > MAX_VALS) cap = MAX_VALS;
    if (v->vals == v->vals_buf) {
        nv = malloc(cap);
        if (nv) memcpy(nv, v->vals, v->nvals);
    } else {
        nv = realloc(v->vals, cap);
    }
    if (!nv) return vfail_at(v, KILN_E_NOMEM, v->op_off, "out of memory for the operand stack");
    v->vals = nv;
    v->capvals = cap;
    return 0;
}

static inline int reserve_vals(struct vstate *v, uint32_t n)
{
    if (LIKELY(v->capvals - v->nvals >= n)) return 0;
    return grow_vals(v, n);
}

static inline struct frame *top_frame(struct vstate *v)
{
    return &v->frames[v->nframes - 1];
}

/* Pops one operand, which must have type t (or be unknown). */
static inline int pop_expect(struct vstate *v, uint8_t t)
{
    struct frame *f = top_frame(v);
    uint8_t a;
    if (UNLIKELY(v->nvals == f->height)) return f->unreachable ? 0 : type_mismatch(v);
    a = v->vals[--v->nvals];
    if (UNLIKELY(a != t && a != T_ANY && t != T_ANY)) return type_mismatch(v);
    return 0;
}

/* Pops one operand of any type into *t (T_ANY when polymorphic). */
static inline int pop_any(struct vstate *v, uint8_t *t)
{
    struct frame *f = top_frame(v);
    if (UNLIKELY(v->nvals == f->height)) {
        *t = T_ANY;
        return f->unreachable ? 0 : type_mismatch(v);
    }
    *t = v->vals[--v->nvals];
    return 0;
}

/* Pushes one operand; the caller reserved room. */
static inline void push(struct vstate *v, uint8_t t)
{
    v->vals[v->nvals++] = t;
}

static int push_vals(struct vstate *v, const uint8_t *types, uint32_t n)
{
    if (n == 0) return 0;
    if (reserve_vals(v, n) < 0) return -1;
    memcpy(v->vals + v->nvals, types, n);
    v->nvals += n;
    return 0;
}

/* Pops n operands matching types[0..n) (types[n-1] on top). */
static int pop_vals(struct vstate *v, const uint8_t *types, uint32_t n)
{
    struct frame *f = top_frame(v);
    uint32_t i;
    if (LIKELY(v->nvals - f->height >= n)) {
        const uint8_t *s = v->vals + v->nvals - n;
        for (i = 0; i < n; i++)
            if (UNLIKELY(s[i] != types[i] && s[i] != T_ANY)) return type_mismatch(v);
        v->nvals -= n;
        return 0;
    }
    for (i = n; i-- > 0;)
        if (pop_expect(v, types[i]) < 0) return -1;
    return 0;
}

/* Checks that the top operands match types[0..n) without changing the stack
 * (pop_vals followed by pushing the popped values back). */
static int check_vals(struct vstate *v, const uint8_t *types, uint32_t n)
{
    struct frame *f = top_frame(v);
    uint32_t avail = v->nvals - f->height;
    uint32_t i;
    for (i = 0; i < n; i++) {
        uint8_t a;
        if (i >= avail) {
            if (!f->unreachable) return type_mismatch(v);
            break;
        }
        a = v->vals[v->nvals - 1 - i];
        if (a != types[n - 1 - i] && a != T_ANY) return type_mismatch(v);
    }
    return 0;
}

static int push_frame(struct vstate *v, uint8_t kind, const uint8_t *params, uint32_t nparams,
                      const uint8_t *results, uint32_t nresults)
{
    struct frame *f;
    if (UNLIKELY(v->nframes == v->capframes)) {
        uint32_t cap = v->capframes * 2;
        struct frame *nf;
        if (v->capframes >= MAX_FRAMES)
            return vfail_at(v, KILN_E_NOMEM, v->op_off,
                            "implementation limit: blocks nested deeper than %u", MAX_FRAMES);
        if (v->frames == v->frames_buf) {
            nf = malloc(cap * sizeof *nf);
            if (nf) memcpy(nf, v->frames, v->nframes * sizeof *nf);
        } else {
            nf = realloc(v->frames, cap * sizeof *nf);
        }
        if (!nf) return vfail_at(v, KILN_E_NOMEM, v->op_off, "out of memory for the control stack");
        v->frames = nf;
        v->capframes = cap;
    }
    f = &v->frames[v->nframes++];
    f->kind = kind;
    f->params = params;
    f->nparams = nparams;
    f->results = results;
    f->nresults = nresults;
    f->height = v->nvals;
    f->unreachable = 0;
    f->stamp = 0;
    return push_vals(v, params, nparams);
}

/* Checks the end of the top frame's instructions (results on the stack,
 * nothing else) and pops the frame into *out. */
static int pop_frame(struct vstate *v, struct frame *out)
{
    struct frame *f = top_frame(v);
    if (pop_vals(v, f->results, f->nresults) < 0) return -1;
    if (v->nvals != f->height) return type_mismatch(v);
    *out = *f;
    v->nframes--;
    return 0;
}

/* The stack becomes polymorphic until the end of the current block. */
static inline void set_unreachable(struct vstate *v)
{
    struct frame *f = top_frame(v);
    v->nvals = f->height;
    f->unreachable = 1;
}

/* Types a branch to frame f carries: params of a loop, results otherwise. */
static inline void label_types(const struct frame *f, const uint8_t **types, uint32_t *n)
{
    if (f->kind == 0x03) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

/* ---- immediates ------------------------------------------------------------- */

/* u32 LEB128 with a fast path for the common one-byte encoding. */
static inline __attribute__((always_inline)) uint32_t rd_u32(struct kiln__reader *r)
{
    if (LIKELY(r->p < r->end && *r->p < 0x80)) return *r->p++;
    return kiln__read_u32(r);
}

/* Skips an s32/s64 LEB128 (the value does not matter to validation). */
static inline __attribute__((always_inline)) void skip_sleb(struct kiln__reader *r, unsigned bits)
{
    if (LIKELY(r->p < r->end && *r->p < 0x80))
        r->p++;
    else
        (void)kiln__read_sleb(r, bits);
}

static int read_label(struct vstate *v, uint32_t *depth)
{
    uint32_t l = rd_u32(&v->r);
    if (UNLIKELY(v->r.err)) return reader_failed(v);
    if (l >= v->nframes) return INVALID(v, "unknown label %u", l);
    *depth = l;
    return 0;
}

static int need_memory(struct vstate *v, uint32_t idx)
{
    if (idx >= v->mod->nmems) return INVALID(v, "unknown memory %u", idx);
    return 0;
}

/* A reserved memory index byte (must be zero in wasm 2.0). */
static int zero_byte(struct vstate *v)
{
    uint8_t b = kiln__read_u8(&v->r);
    if (UNLIKELY(v->r.err)) return reader_failed(v);
    if (b != 0)
        return vfail_at(v, KILN_E_MALFORMED, kiln__reader_off(&v->r) - 1, "zero byte expected");
    return 0;
}

static int read_memarg(struct vstate *v, uint32_t max_align)
{
    uint32_t align = rd_u32(&v->r);
    (void)rd_u32(&v->r); /* offset: any u32 */
    if (UNLIKELY(v->r.err)) return reader_failed(v);
    if (need_memory(v, 0) < 0) return -1;
    if (align > max_align) return INVALID(v, "alignment must not be larger than natural");
    return 0;
}

static int need_table(struct vstate *v, uint32_t idx)
{
    if (idx >= v->mod->ntables) return INVALID(v, "unknown table %u", idx);
    return 0;
}

static int need_datacount(struct vstate *v, uint32_t idx)
{
    if (!v->mod->has_datacount) return MALFORMED(v, "data count section required");
    if (idx >= v->mod->datacount) return INVALID(v, "unknown data segment %u", idx);
    return 0;
}

static int need_elem(struct vstate *v, uint32_t idx)
{
    if (idx >= v->mod->nelems) return INVALID(v, "unknown elem segment %u", idx);
    return 0;
}

/* Reads and checks the immediates of a non-special opcode. */
static int do_imm(struct vstate *v, const struct opinfo *oi)
{
    struct kiln__reader *r = &v->r;
    uint32_t a, b;
    switch (oi->imm) {
    case KILN__IMM_NONE:
        return 0;
    case KILN__IMM_MEMARG:
        return read_memarg(v, oi->arg);
    case KILN__IMM_I32:
        skip_sleb(r, 32);
        break;
    case KILN__IMM_I64:
        skip_sleb(r, 64);
        break;
    case KILN__IMM_F32:
        (void)kiln__read_fixed32(r);
        break;
    case KILN__IMM_F64:
        (void)kiln__read_fixed64(r);
        break;
    case KILN__IMM_V128:
        if (kiln__reader_left(r) < 16)
            kiln__reader_fail(r, "unexpected end");
        else
            r->p += 16;
        break;
    case KILN__IMM_LANE:
        a = kiln__read_u8(r);
        if (r->err) break;
        if (a >= oi->arg) return INVALID(v, "invalid lane index");
        return 0;
    case KILN__IMM_MEMARG_LANE:
        if (read_memarg(v, oi->arg) < 0) return -1;
        a = kiln__read_u8(r);
        if (r->err) break;
        if (a >= (16u >> oi->arg)) return INVALID(v, "invalid lane index");
        return 0;
    case KILN__IMM_SHUFFLE:
        if (kiln__reader_left(r) < 16) {
            kiln__reader_fail(r, "unexpected end");
            break;
        }
        for (a = 0; a < 16; a++)
            if (r->p[a] >= 32) return INVALID(v, "invalid lane index");
        r->p += 16;
        return 0;
    case KILN__IMM_MEMIDX:
        if (zero_byte(v) < 0) return -1;
        return need_memory(v, 0);
    case KILN__IMM_MEMORY_INIT:
        a = rd_u32(r);
        if (r->err) break;
        if (zero_byte(v) < 0 || need_memory(v, 0) < 0) return -1;
        return need_datacount(v, a);
    case KILN__IMM_DATA:
        a = rd_u32(r);
        if (r->err) break;
        return need_datacount(v, a);
    case KILN__IMM_MEMORY_COPY:
        if (zero_byte(v) < 0 || zero_byte(v) < 0) return -1;
        return need_memory(v, 0);
    case KILN__IMM_TABLE_INIT: /* elemidx, then tableidx */
        a = rd_u32(r);
        b = rd_u32(r);
        if (r->err) break;
        if (need_table(v, b) < 0 || need_elem(v, a) < 0) return -1;
        if (v->mod->elems[a].reftype != v->mod->tables[b].reftype) return type_mismatch(v);
        return 0;
    case KILN__IMM_ELEM:
        a = rd_u32(r);
        if (r->err) break;
        return need_elem(v, a);
    case KILN__IMM_TABLE_COPY: /* dst, then src */
        a = rd_u32(r);
        b = rd_u32(r);
        if (r->err) break;
        if (need_table(v, a) < 0 || need_table(v, b) < 0) return -1;
        if (v->mod->tables[a].reftype != v->mod->tables[b].reftype) return type_mismatch(v);
        return 0;
    case KILN__IMM_TABLE: /* table.size */
        a = rd_u32(r);
        if (r->err) break;
        return need_table(v, a);
    default:
        /* special immediates never reach here (ops.def marks them SIG_SPECIAL) */
        return MALFORMED(v, "illegal opcode");
    }
    if (UNLIKELY(r->err)) return reader_failed(v);
    return 0;
}

/* Applies a stack signature class: pops its operands, pushes its result.
 * Fast path: all operands present above the frame and exactly typed, checked
 * with one 32-bit compare (the main loop keeps >= 4 bytes of slack above
 * nvals, so the load stays inside the buffer). */
static inline __attribute__((always_inline)) int do_sig(struct vstate *v, uint8_t sig)
{
    const struct sigdef *s = &sig_info[sig];
    struct frame *f = top_frame(v);
    uint32_t n = v->nvals;
    uint32_t w;
    if (LIKELY(n - f->height >= s->np)) {
        const uint8_t *t = v->vals + n - s->np;
        memcpy(&w, t, 4);
        if (UNLIKELY((w & s->mask) != s->pattern)) {
            uint32_t i;
            for (i = 0; i < s->np; i++)
                if (t[i] != s->p[i] && t[i] != T_ANY) return type_mismatch(v);
        }
        n -= s->np;
    } else {
        uint32_t i;
        for (i = s->np; i-- > 0;)
            if (pop_expect(v, s->p[i]) < 0) return -1;
        n = v->nvals;
    }
    v->vals[n] = s->r; /* harmless when nr == 0: inside the slack */
    v->nvals = n + s->nr;
    return 0;
}

/* ---- block types and control ---------------------------------------------------- */

static int read_blocktype(struct vstate *v, const uint8_t **params, uint32_t *np,
                          const uint8_t **results, uint32_t *nr)
{
    struct kiln__reader *r = &v->r;
    int64_t bt;
    uint8_t b;
    if (UNLIKELY(r->p >= r->end)) {
        kiln__reader_fail(r, "unexpected end");
        return reader_failed(v);
    }
    b = *r->p;
    *params = NULL;
    *np = 0;
    if (b == 0x40) {
        r->p++;
        *results = NULL;
        *nr = 0;
        return 0;
    }
    if ((b & 0xc0) == 0x40) { /* a negative one-byte s33: must be a value type */
        r->p++;
        if (!kiln__is_valtype(b, v->mod->cfg.simd)) return MALFORMED(v, "malformed value type");
        *results = one_type_ptr(b);
        *nr = 1;
        return 0;
    }
    bt = kiln__read_sleb(r, 33);
    if (UNLIKELY(r->err)) return reader_failed(v);
    if (bt < 0) return MALFORMED(v, "malformed value type");
    if ((uint64_t)bt >= v->mod->ntypes) return INVALID(v, "unknown type %lld", (long long)bt);
    {
        const struct kiln__functype *ft = &v->mod->types[bt];
        *params = ft->types;
        *np = ft->nparams;
        *results = ft->types + ft->nparams;
        *nr = ft->nresults;
    }
    return 0;
}

static int do_block(struct vstate *v, uint8_t kind)
{
    const uint8_t *params = NULL, *results = NULL;
    uint32_t np = 0, nr = 0;
    if (read_blocktype(v, &params, &np, &results, &nr) < 0) return -1;
    if (kind == 0x04 && pop_expect(v, KILN_I32) < 0) return -1;
    if (pop_vals(v, params, np) < 0) return -1;
    return push_frame(v, kind, params, np, results, nr);
}

static int do_br_table(struct vstate *v)
{
    struct kiln__reader *r = &v->r;
    const uint8_t *labels;
    const uint8_t *types;
    uint32_t n, i, l, def, arity;

    n = rd_u32(r);
    if (UNLIKELY(r->err)) return reader_failed(v);
    if (n > kiln__reader_left(r)) { /* each label takes at least one byte */
        kiln__reader_fail(r, "unexpected end");
        return reader_failed(v);
    }
    if (pop_expect(v, KILN_I32) < 0) return -1;
    /* First pass: bounds of every label, and the default's arity. */
    labels = r->p;
    if (++v->stamp == 0) { /* wrapped: forget every old stamp */
        for (i = 0; i < v->nframes; i++)
            v->frames[i].stamp = 0;
        v->stamp = 1;
    }
    for (i = 0; i < n; i++)
        if (read_label(v, &l) < 0) return -1;
    if (read_label(v, &def) < 0) return -1;
    label_types(&v->frames[v->nframes - 1 - def], &types, &arity);
    /* Second pass: every target takes the same number of values, and the
     * values on the stack suit each of them. */
    {
        struct kiln__reader again;
        kiln__reader_init(&again, r->start, labels, r->end);
        for (i = 0; i < n; i++) {
            const uint8_t *lt;
            uint32_t ln;
            struct frame *target;
            l = kiln__read_u32(&again);
            target = &v->frames[v->nframes - 1 - l];
            if (target->stamp == v->stamp) continue; /* already checked: keeps it O(n) */
            target->stamp = v->stamp;
            label_types(target, &lt, &ln);
            if (ln != arity) return type_mismatch(v);
            if (check_vals(v, lt, ln) < 0) return -1;
        }
    }
    if (pop_vals(v, types, arity) < 0) return -1;
    set_unreachable(v);
    return 0;
}

static int do_call_type(struct vstate *v, const struct kiln__functype *ft)
{
    if (pop_vals(v, ft->types, ft->nparams) < 0) return -1;
    return push_vals(v, ft->types + ft->nparams, ft->nresults);
}

static inline __attribute__((always_inline)) int read_index(struct vstate *v, uint32_t *idx)
{
    *idx = rd_u32(&v->r);
    if (UNLIKELY(v->r.err)) return reader_failed(v);
    return 0;
}

/* ---- the instruction loop ------------------------------------------------------- */

static int validate_code(struct vstate *v, const struct kiln__functype *ft)
{
    struct kiln__reader *r = &v->r;
    struct kiln_module *mod = v->mod;
    uint32_t idx, idx2;
    uint8_t t1, t2;

    if (push_frame(v, 0, NULL, 0, ft->types + ft->nparams, ft->nresults) < 0) return -1;
    for (;;) {
        uint8_t op;
        if (UNLIKELY(r->p >= r->end)) {
            /* the body ran out between instructions: at the end of the
             * module the spec interpreter reports running out of input */
            v->op_off = kiln__reader_off(r);
            if (v->op_off >= mod->nbytes)
                return MALFORMED(v, "unexpected end of section or function");
            return MALFORMED(v, "END opcode expected");
        }
        if (UNLIKELY(reserve_vals(v, 4) < 0)) return -1;
        v->op_off = kiln__reader_off(r);
        op = *r->p++;
        switch (op) {
        case 0x00: /* unreachable */
            set_unreachable(v);
            break;
        case 0x02: /* block */
        case 0x03: /* loop */
        case 0x04: /* if */
            if (do_block(v, op) < 0) return -1;
            break;
        case 0x05: { /* else */
            struct frame f = {0};
            if (top_frame(v)->kind != 0x04) return MALFORMED(v, "END opcode expected");
            if (pop_frame(v, &f) < 0) return -1;
            if (push_frame(v, 0x05, f.params, f.nparams, f.results, f.nresults) < 0) return -1;
            break;
        }
        case 0x0b: { /* end */
            struct frame f = {0};
            if (pop_frame(v, &f) < 0) return -1;
            /* an if without else: the missing else passes its params on */
            if (f.kind == 0x04 && (f.nparams != f.nresults ||
                                   (f.nparams && memcmp(f.params, f.results, f.nparams) != 0)))
                return type_mismatch(v);
            if (v->nframes == 0) {
                if (r->p != r->end)
                    return vfail_at(v, KILN_E_MALFORMED, kiln__reader_off(r),
                                    "section size mismatch (bytes after the function's end)");
                return 0;
            }
            if (push_vals(v, f.results, f.nresults) < 0) return -1;
            break;
        }
        case 0x0c: { /* br */
            const uint8_t *lt;
            uint32_t ln;
            if (read_label(v, &idx) < 0) return -1;
            label_types(&v->frames[v->nframes - 1 - idx], &lt, &ln);
            if (pop_vals(v, lt, ln) < 0) return -1;
            set_unreachable(v);
            break;
        }
        case 0x0d: { /* br_if */
            const uint8_t *lt;
            uint32_t ln;
            if (read_label(v, &idx) < 0) return -1;
            if (pop_expect(v, KILN_I32) < 0) return -1;
            label_types(&v->frames[v->nframes - 1 - idx], &lt, &ln);
            if (pop_vals(v, lt, ln) < 0 || push_vals(v, lt, ln) < 0) return -1;
            break;
        }
        case 0x0e: /* br_table */
            if (do_br_table(v) < 0) return -1;
            break;
        case 0x0f: /* return */
            if (pop_vals(v, v->frames[0].results, v->frames[0].nresults) < 0) return -1;
            set_unreachable(v);
            break;
        case 0x10: /* call */
            if (read_index(v, &idx) < 0) return -1;
            if (idx >= mod->nfuncs) return INVALID(v, "unknown function %u", idx);
            if (do_call_type(v, &mod->types[mod->funcs[idx].type_idx]) < 0) return -1;
            break;
        case 0x11: /* call_indirect typeidx tableidx */
            if (read_index(v, &idx) < 0 || read_index(v, &idx2) < 0) return -1;
            if (need_table(v, idx2) < 0) return -1;
            if (idx >= mod->ntypes) return INVALID(v, "unknown type %u", idx);
            if (mod->tables[idx2].reftype != KILN_FUNCREF) return type_mismatch(v);
            if (pop_expect(v, KILN_I32) < 0) return -1;
            if (do_call_type(v, &mod->types[idx]) < 0) return -1;
            break;
        case 0x1a: /* drop */
            if (pop_any(v, &t1) < 0) return -1;
            break;
        case 0x1b: /* select (numeric or vector operands only) */
            if (pop_expect(v, KILN_I32) < 0 || pop_any(v, &t1) < 0 || pop_any(v, &t2) < 0)
                return -1;
            if (kiln__is_reftype(t1) || kiln__is_reftype(t2)) return type_mismatch(v);
            if (t1 != t2 && t1 != T_ANY && t2 != T_ANY) return type_mismatch(v);
            push(v, t1 == T_ANY ? t2 : t1);
            break;
        case 0x1c: { /* select t* */
            uint8_t t;
            if (read_index(v, &idx) < 0) return -1;
            if (idx != 1) return INVALID(v, "invalid result arity");
            t = kiln__read_u8(r);
            if (UNLIKELY(r->err)) return reader_failed(v);
            if (!kiln__is_valtype(t, mod->cfg.simd)) return MALFORMED(v, "malformed value type");
            if (pop_expect(v, KILN_I32) < 0 || pop_expect(v, t) < 0 || pop_expect(v, t) < 0)
                return -1;
            push(v, t);
            break;
        }
        case 0x20: /* local.get */
            if (read_index(v, &idx) < 0) return -1;
            if (idx >= v->nlocals) return INVALID(v, "unknown local %u", idx);
            push(v, v->locals[idx]);
            break;
        case 0x21: /* local.set */
        case 0x22: /* local.tee */
            if (read_index(v, &idx) < 0) return -1;
            if (idx >= v->nlocals) return INVALID(v, "unknown local %u", idx);
            if (pop_expect(v, v->locals[idx]) < 0) return -1;
            if (op == 0x22) push(v, v->locals[idx]);
            break;
        case 0x23: /* global.get */
            if (read_index(v, &idx) < 0) return -1;
            if (idx >= mod->nglobals) return INVALID(v, "unknown global %u", idx);
            push(v, mod->globals[idx].type);
            break;
        case 0x24: /* global.set */
            if (read_index(v, &idx) < 0) return -1;
            if (idx >= mod->nglobals) return INVALID(v, "unknown global %u", idx);
            if (!mod->globals[idx].mutable_) return INVALID(v, "global is immutable");
            if (pop_expect(v, mod->globals[idx].type) < 0) return -1;
            break;
        case 0x25: /* table.get */
            if (read_index(v, &idx) < 0 || need_table(v, idx) < 0) return -1;
            if (pop_expect(v, KILN_I32) < 0) return -1;
            push(v, mod->tables[idx].reftype);
            break;
        case 0x26: /* table.set */
            if (read_index(v, &idx) < 0 || need_table(v, idx) < 0) return -1;
            if (pop_expect(v, mod->tables[idx].reftype) < 0 || pop_expect(v, KILN_I32) < 0)
                return -1;
            break;
        case 0x41: /* i32.const (the second most common opcode: a direct path) */
            skip_sleb(r, 32);
            if (UNLIKELY(r->err)) return reader_failed(v);
            push(v, KILN_I32);
            break;
        case 0x42: /* i64.const */
            skip_sleb(r, 64);
            if (UNLIKELY(r->err)) return reader_failed(v);
            push(v, KILN_I64);
            break;
        case 0xd0: { /* ref.null t */
            uint8_t t = kiln__read_u8(r);
            if (UNLIKELY(r->err)) return reader_failed(v);
            if (!kiln__is_reftype(t)) return MALFORMED(v, "malformed reference type");
            push(v, t);
            break;
        }
        case 0xd1: /* ref.is_null */
            if (pop_any(v, &t1) < 0) return -1;
            if (t1 != T_ANY && !kiln__is_reftype(t1)) return type_mismatch(v);
            push(v, KILN_I32);
            break;
        case 0xd2: /* ref.func */
            if (read_index(v, &idx) < 0) return -1;
            if (idx >= mod->nfuncs) return INVALID(v, "unknown function %u", idx);
            if (!mod->declared_funcs || !(mod->declared_funcs[idx >> 3] & (1u << (idx & 7))))
                return INVALID(v, "undeclared function reference");
            push(v, KILN_FUNCREF);
            break;
        case 0xfc: { /* misc prefix */
            const struct opinfo *oi;
            if (read_index(v, &idx) < 0) return -1;
            if (idx > 17 || !op_info[256 + idx].valid)
                return MALFORMED(v, "illegal opcode 0xfc %u", idx);
            oi = &op_info[256 + idx];
            if (idx == 15 || idx == 17) { /* table.grow, table.fill */
                if (read_index(v, &idx2) < 0 || need_table(v, idx2) < 0) return -1;
                t1 = mod->tables[idx2].reftype;
                if (idx == 15) { /* [t i32] -> [i32] */
                    if (pop_expect(v, KILN_I32) < 0 || pop_expect(v, t1) < 0) return -1;
                    push(v, KILN_I32);
                } else { /* [i32 t i32] -> [] */
                    if (pop_expect(v, KILN_I32) < 0 || pop_expect(v, t1) < 0 ||
                        pop_expect(v, KILN_I32) < 0)
                        return -1;
                }
                break;
            }
            if (do_imm(v, oi) < 0 || do_sig(v, oi->sig) < 0) return -1;
            break;
        }
        case 0xfd: { /* SIMD prefix */
            const struct opinfo *oi;
            if (!mod->cfg.simd) return MALFORMED(v, "illegal opcode 0xfd (SIMD is disabled)");
            if (read_index(v, &idx) < 0) return -1;
            if (idx > 0xff || !op_info[512 + idx].valid)
                return MALFORMED(v, "illegal opcode 0xfd %u", idx);
            oi = &op_info[512 + idx];
            if (do_imm(v, oi) < 0 || do_sig(v, oi->sig) < 0) return -1;
            break;
        }
        default: {
            const struct opinfo *oi = &op_info[op];
            if (UNLIKELY(!oi->valid || oi->sig == KILN__SIG_SPECIAL))
                return MALFORMED(v, "illegal opcode 0x%02x", op);
            if (oi->imm == KILN__IMM_MEMARG &&
                LIKELY(r->end - r->p >= 2 && !((r->p[0] | r->p[1]) & 0x80))) {
                /* one-byte align and offset */
                uint8_t align = r->p[0];
                r->p += 2;
                if (UNLIKELY(mod->nmems == 0)) return INVALID(v, "unknown memory 0");
                if (UNLIKELY(align > oi->arg))
                    return INVALID(v, "alignment must not be larger than natural");
            } else if (oi->imm != KILN__IMM_NONE && do_imm(v, oi) < 0) {
                return -1;
            }
            if (do_sig(v, oi->sig) < 0) return -1;
            break;
        }
        }
    }
}

/* ---- local declarations ---------------------------------------------------------- */

/* Decodes the body's local declarations into fn->local_types / nlocals and
 * leaves the reader at the first instruction. */
static int decode_locals(struct vstate *v, struct kiln__func *fn, const struct kiln__functype *ft)
{
    struct kiln__reader *r = &v->r;
    const uint8_t *decls;
    uint32_t ndecl, i, pos;
    uint64_t total = ft->nparams;
    uint8_t *types;

    v->op_off = kiln__reader_off(r);
    ndecl = kiln__read_u32(r);
    if (UNLIKELY(r->err)) return reader_failed(v);
    if (ndecl > kiln__reader_left(r) / 2) { /* each declaration takes >= 2 bytes */
        kiln__reader_fail(r, "unexpected end");
        return reader_failed(v);
    }
    decls = r->p;
    for (i = 0; i < ndecl; i++) {
        uint32_t n;
        uint8_t t;
        v->op_off = kiln__reader_off(r);
        n = kiln__read_u32(r);
        t = kiln__read_u8(r);
        if (UNLIKELY(r->err)) return reader_failed(v);
        total += n;
        if (total > KILN__MAX_LOCALS) return MALFORMED(v, "too many locals");
        if (!kiln__is_valtype(t, v->mod->cfg.simd))
            return vfail_at(v, KILN_E_MALFORMED, kiln__reader_off(r) - 1, "malformed value type");
    }
    types = malloc(total ? total : 1);
    if (!types)
        return vfail_at(v, KILN_E_NOMEM, v->op_off, "out of memory for %llu local types",
                        (unsigned long long)total);
    free(fn->local_types);
    fn->local_types = types;
    fn->nlocals = (uint32_t)(total - ft->nparams);
    memcpy(types, ft->types, ft->nparams);
    /* Second pass over the declarations, already known to be well formed. */
    {
        struct kiln__reader again;
        kiln__reader_init(&again, r->start, decls, r->p);
        pos = ft->nparams;
        for (i = 0; i < ndecl; i++) {
            uint32_t n = kiln__read_u32(&again);
            uint8_t t = kiln__read_u8(&again);
            memset(types + pos, t, n);
            pos += n;
        }
    }
    v->locals = types;
    v->nlocals = (uint32_t)total;
    fn->code_off = (uint32_t)kiln__reader_off(r);
    return 0;
}

/* ---- entry points ------------------------------------------------------------------ */

/* Validates the body of defined function fidx (see module.h): decodes its
 * local declarations into mod->funcs[fidx].local_types (params then locals,
 * owned by the module), .nlocals and .code_off, then checks every
 * instruction. Does not compile. Returns 0, or negative with *err filled:
 * KILN_E_MALFORMED (encoding), KILN_E_INVALID (typing, indices) or
 * KILN_E_NOMEM (allocation or an implementation limit). */
int kiln__func_validate(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err)
{
    struct vstate state;
    struct vstate *v = &state;
    struct kiln__func *fn;
    const struct kiln__functype *ft;
    int rc = 0;

    if (fidx < mod->nfunc_imports || fidx >= mod->nfuncs)
        return kiln_error_set(err, KILN_E_ARG, "code section: function %u is not defined here",
                              fidx);
    fn = &mod->funcs[fidx];
    if ((uint64_t)fn->body_off + fn->body_len > mod->nbytes || fn->type_idx >= mod->ntypes)
        return kiln_error_set(err, KILN_E_ARG, "code section, function %u: bad body bounds", fidx);
    ft = &mod->types[fn->type_idx];
    /* The state holds the inline stacks (~3.6 KiB, on the C stack); only
     * unusually deep bodies move them to the heap. */
    v->mod = mod;
    kiln__reader_init(&v->r, mod->bytes, mod->bytes + fn->body_off,
                      mod->bytes + fn->body_off + fn->body_len);
    v->locals = NULL;
    v->nlocals = 0;
    v->op_off = fn->body_off;
    v->vals = v->vals_buf;
    v->nvals = 0;
    v->capvals = INLINE_VALS;
    v->frames = v->frames_buf;
    v->nframes = 0;
    v->capframes = INLINE_FRAMES;
    v->code = 0;
    v->stamp = 0;
    v->fail_off = 0;
    v->why[0] = '\0';

    if (decode_locals(v, fn, ft) < 0 || validate_code(v, ft) < 0) {
        rc = kiln_error_set(err, v->code ? v->code : KILN_E_INVALID,
                            "code section, function %u (body at 0x%x), offset 0x%zx: %s", fidx,
                            fn->body_off, v->fail_off, v->why[0] ? v->why : "invalid");
        goto out;
    }
out:
    if (v->vals != v->vals_buf) free(v->vals);
    if (v->frames != v->frames_buf) free(v->frames);
    return rc;
}

/* Validates then compiles defined function fidx (see module.h). Returns 0
 * or negative with *err filled; on success mod->funcs[fidx].code is set by
 * kiln__func_compile(). */
int kiln__func_validate_compile(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err)
{
    int rc = kiln__func_validate(mod, fidx, err);
    if (rc < 0) return rc;
    return kiln__func_compile(mod, fidx, err);
}
