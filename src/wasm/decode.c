/*
 * decode.c — the WebAssembly 2.0 binary format, decoded and validated in one
 * pass (everything outside function bodies; bodies go to validate.c).
 *
 * Layout of a module: magic, version, then sections `id size contents`.
 * Non-custom sections appear at most once, in this order (custom sections
 * anywhere):
 *
 *   type(1) import(2) function(3) table(4) memory(5) global(6) export(7)
 *   start(8) element(9) datacount(12) code(10) data(11)
 *
 * Invariants:
 *   - Every read goes through a struct kiln__reader bounded by the current
 *     section's end, so no read passes the section or the module.
 *   - No allocation is sized by an unchecked length field: every count is
 *     bounded by the bytes left in its section (each item takes at least one
 *     byte) and by the KILN__MAX_* limits of module.h.
 *   - Malformed input yields KILN_E_MALFORMED, well-formed but invalid input
 *     KILN_E_INVALID; messages read "<section> section, offset 0x<hex>:
 *     <reason>" with the spec test suite's wording for <reason>.
 *   - Function bodies are validated and compiled only after every section is
 *     decoded, so everything a body may refer to (types, functions, tables,
 *     memories, globals, data count, declared function references) is known.
 *   - On failure the partially filled module is left consistent (counts never
 *     exceed what was allocated and initialised) so kiln__module_destroy()
 *     can free it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/module.h"
#include "wasm/reader.h"

/* Section ids. */
enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATACOUNT = 12
};

static const char *const section_names[] = {
    "custom section", "type section",   "import section",    "function section", "table section",
    "memory section", "global section", "export section",    "start section",    "element section",
    "code section",   "data section",   "data count section"};

/* Position of each section id in the required order (custom: 0). */
static const uint8_t section_rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

/* Every opcode as (prefix << 16 | code), to tell "illegal opcode" from
 * "constant expression required" in constant expressions (a rare path). */
static const uint32_t all_opcodes[] = {
#define OP(id, prefix, code, name, imm, sig, arg) ((uint32_t)(prefix) << 16 | (uint32_t)(code)),
#include "wasm/ops.def"
};

static bool opcode_exists(uint8_t op)
{
    size_t i;
    if (op == 0xfc || op == 0xfd) return true;
    for (i = 0; i < sizeof all_opcodes / sizeof all_opcodes[0]; i++)
        if (all_opcodes[i] == op) return true;
    return false;
}

struct dec {
    struct kiln_module *mod;
    struct kiln_error *err;
    struct kiln__reader r; /* the current section, or the module between sections */
    const char *where;     /* "type section", ... */
    bool in_section;
    uint32_t cap_funcs, cap_tables, cap_mems, cap_globals;
    bool has_funcsec;
    uint32_t nfuncsec; /* entries of the function section */
    bool has_code;
    bool has_data;
};

/* ---- errors --------------------------------------------------------------- */

static int fail_at(struct dec *d, int code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct dec *d, int code, size_t off, const char *fmt, ...)
{
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return kiln_error_set(d->err, code, "%s, offset 0x%zx: %s", d->where, off, why);
}

/* The reader's sticky failure as a KILN_E_MALFORMED error. */
static int rfail(struct dec *d)
{
    const char *why = d->r.err;
    if (d->in_section && strcmp(why, "unexpected end") == 0)
        why = "unexpected end of section or function";
    return fail_at(d, KILN_E_MALFORMED, d->r.err_off, "%s", why);
}

#define CHECK_R(d)                                                                                 \
    do {                                                                                           \
        if ((d)->r.err) return rfail(d);                                                           \
    } while (0)

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ < 0) return rc_;                                                                   \
    } while (0)

static int nomem(struct dec *d)
{
    return fail_at(d, KILN_E_NOMEM, kiln__reader_off(&d->r), "out of memory");
}

static size_t off(const struct dec *d)
{
    return kiln__reader_off(&d->r);
}

/* ---- small readers -------------------------------------------------------- */

/* Reads a vector length, bounded by the bytes left (every item takes at
 * least one byte) and by `max`. */
static int read_count(struct dec *d, uint32_t max, const char *what, uint32_t *out)
{
    size_t at = off(d);
    uint32_t n = kiln__read_u32(&d->r);
    CHECK_R(d);
    if (n > kiln__reader_left(&d->r))
        return fail_at(d, KILN_E_MALFORMED, at, "unexpected end of section or function");
    if (n > max) return fail_at(d, KILN_E_NOMEM, at, "too many %s (%u, limit %u)", what, n, max);
    *out = n;
    return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp, min;
        size_t len, k;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

/* Reads a name (vec(byte), valid UTF-8). Sets *raw and *len to the bytes in the
 * module and, if out is non-NULL, *out to a NUL-terminated copy (owned by
 * the caller). */
static int read_name(struct dec *d, char **out, const uint8_t **raw, uint32_t *len)
{
    size_t at = off(d);
    uint32_t n = kiln__read_u32(&d->r);
    CHECK_R(d);
    if (n > kiln__reader_left(&d->r))
        return fail_at(d, KILN_E_MALFORMED, at, "length out of bounds");
    if (!utf8_valid(d->r.p, n)) return fail_at(d, KILN_E_MALFORMED, at, "malformed UTF-8 encoding");
    if (raw) *raw = d->r.p;
    if (len) *len = n;
    if (out) {
        char *s = malloc((size_t)n + 1);
        if (!s) return nomem(d);
        memcpy(s, d->r.p, n);
        s[n] = '\0';
        *out = s;
    }
    d->r.p += n;
    return 0;
}

/* A single-byte field that must not have the LEB128 continuation bit. */
static int read_byte_field(struct dec *d, uint8_t *out)
{
    size_t at = off(d);
    uint8_t b = kiln__read_u8(&d->r);
    CHECK_R(d);
    if (b & 0x80) return fail_at(d, KILN_E_MALFORMED, at, "integer representation too long");
    *out = b;
    return 0;
}

static int read_valtype(struct dec *d, uint8_t *out)
{
    size_t at = off(d);
    uint8_t b = 0;
    TRY(read_byte_field(d, &b));
    if (!kiln__is_valtype(b, d->mod->cfg.simd))
        return fail_at(d, KILN_E_MALFORMED, at, "malformed value type");
    *out = b;
    return 0;
}

static int read_reftype(struct dec *d, uint8_t *out)
{
    size_t at = off(d);
    uint8_t b = 0;
    TRY(read_byte_field(d, &b));
    if (!kiln__is_reftype(b)) return fail_at(d, KILN_E_MALFORMED, at, "malformed reference type");
    *out = b;
    return 0;
}

static int read_limits(struct dec *d, struct kiln_limits *lim)
{
    size_t at = off(d);
    uint8_t flags = 0;
    TRY(read_byte_field(d, &flags));
    if (flags > 1) return fail_at(d, KILN_E_MALFORMED, at, "integer too large");
    lim->min = kiln__read_u32(&d->r);
    lim->has_max = flags == 1;
    lim->max = lim->has_max ? kiln__read_u32(&d->r) : 0;
    CHECK_R(d);
    if (lim->has_max && lim->min > lim->max)
        return fail_at(d, KILN_E_INVALID, at, "size minimum must not be greater than maximum");
    return 0;
}

static int read_memtype(struct dec *d, struct kiln_limits *lim)
{
    size_t at = off(d);
    TRY(read_limits(d, lim));
    if (lim->min > KILN__MAX_PAGES || (lim->has_max && lim->max > KILN__MAX_PAGES))
        return fail_at(d, KILN_E_INVALID, at, "memory size must be at most 65536 pages (4GiB)");
    return 0;
}

static int read_tabletype(struct dec *d, struct kiln__table *t)
{
    TRY(read_reftype(d, &t->reftype));
    return read_limits(d, &t->limits);
}

static int read_globaltype(struct dec *d, struct kiln__global *g)
{
    size_t at;
    uint8_t m;
    TRY(read_valtype(d, &g->type));
    at = off(d);
    m = kiln__read_u8(&d->r);
    CHECK_R(d);
    if (m > 1) return fail_at(d, KILN_E_MALFORMED, at, "malformed mutability");
    g->mutable_ = m == 1;
    return 0;
}

/* ---- growable index spaces ------------------------------------------------ */

/* Makes room for `more` entries after `n` in *arr (zeroing new ones). */
static int grow(struct dec *d, void **arr, uint32_t *cap, uint32_t n, uint32_t more, size_t elem)
{
    uint64_t need = (uint64_t)n + more;
    uint64_t ncap;
    void *p;
    if (need <= *cap) return 0;
    ncap = *cap ? (uint64_t)*cap * 2 : 8;
    if (ncap < need) ncap = need;
    p = realloc(*arr, (size_t)ncap * elem);
    if (!p) return nomem(d);
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *arr = p;
    *cap = (uint32_t)ncap;
    return 0;
}

/* Marks function fidx as referenced outside function bodies. The bitmap is
 * sized when first needed; the function index space is final by then (every
 * reference comes from a section after the function section). */
static int declare_func(struct dec *d, uint32_t fidx)
{
    struct kiln_module *mod = d->mod;
    if (!mod->declared_funcs) {
        mod->declared_funcs = calloc(((size_t)mod->nfuncs + 7) / 8 + 1, 1);
        if (!mod->declared_funcs) return nomem(d);
    }
    mod->declared_funcs[fidx / 8] |= (uint8_t)(1u << (fidx % 8));
    return 0;
}

/* ---- constant expressions ------------------------------------------------- */

/* Reads a constant expression up to and including its `end` and checks it
 * produces exactly one value of type `expect`. */
static int read_const(struct dec *d, uint8_t expect, struct kiln__constexpr *ce)
{
    struct kiln_module *mod = d->mod;
    size_t start = off(d);
    uint32_t nvals = 0;
    memset(ce, 0, sizeof *ce);
    for (;;) {
        struct kiln__constexpr v;
        size_t at = off(d);
        uint8_t op = kiln__read_u8(&d->r);
        CHECK_R(d);
        if (op == 0x0b) break;
        memset(&v, 0, sizeof v);
        switch (op) {
        case 0x41: /* i32.const */
            v.type = KILN_I32;
            v.bits[0] = (uint32_t)kiln__read_sleb(&d->r, 32);
            break;
        case 0x42: /* i64.const */
            v.type = KILN_I64;
            v.bits[0] = (uint64_t)kiln__read_sleb(&d->r, 64);
            break;
        case 0x43: /* f32.const */
            v.type = KILN_F32;
            v.bits[0] = kiln__read_fixed32(&d->r);
            break;
        case 0x44: /* f64.const */
            v.type = KILN_F64;
            v.bits[0] = kiln__read_fixed64(&d->r);
            break;
        case 0xfd: { /* v128.const */
            uint32_t sub = kiln__read_u32(&d->r);
            CHECK_R(d);
            if (!mod->cfg.simd) return fail_at(d, KILN_E_MALFORMED, at, "illegal opcode");
            if (sub != 12) return fail_at(d, KILN_E_INVALID, at, "constant expression required");
            v.type = KILN_V128;
            v.bits[0] = kiln__read_fixed64(&d->r);
            v.bits[1] = kiln__read_fixed64(&d->r);
            break;
        }
        case 0xd0: /* ref.null */
            v.op = KILN__CONST_REF_NULL;
            TRY(read_reftype(d, &v.type));
            break;
        case 0xd2: /* ref.func */
            v.op = KILN__CONST_REF_FUNC;
            v.type = KILN_FUNCREF;
            v.idx = kiln__read_u32(&d->r);
            CHECK_R(d);
            if (v.idx >= mod->nfuncs)
                return fail_at(d, KILN_E_INVALID, at, "unknown function %u", v.idx);
            TRY(declare_func(d, v.idx));
            break;
        case 0x23: /* global.get: only imported globals are visible */
            v.op = KILN__CONST_GLOBAL_GET;
            v.idx = kiln__read_u32(&d->r);
            CHECK_R(d);
            if (v.idx >= mod->nglobal_imports)
                return fail_at(d, KILN_E_INVALID, at, "unknown global %u", v.idx);
            if (mod->globals[v.idx].mutable_)
                return fail_at(d, KILN_E_INVALID, at, "constant expression required");
            v.type = mod->globals[v.idx].type;
            break;
        default:
            if (!opcode_exists(op)) return fail_at(d, KILN_E_MALFORMED, at, "illegal opcode");
            return fail_at(d, KILN_E_INVALID, at, "constant expression required");
        }
        CHECK_R(d);
        if (nvals++ == 0) *ce = v;
    }
    if (nvals != 1 || ce->type != expect) return fail_at(d, KILN_E_INVALID, start, "type mismatch");
    return 0;
}

/* ---- sections ------------------------------------------------------------- */

static int sec_type(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    uint8_t tmp[KILN__MAX_PARAMS + KILN__MAX_RESULTS];
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_TYPES, "types", &n));
    mod->types = calloc(n ? n : 1, sizeof *mod->types);
    if (!mod->types) return nomem(d);
    for (i = 0; i < n; i++) {
        struct kiln__functype *ft = &mod->types[i];
        size_t at = off(d);
        uint8_t form = 0;
        uint32_t np, nr, k;
        TRY(read_byte_field(d, &form));
        if (form != 0x60) return fail_at(d, KILN_E_MALFORMED, at, "malformed function type");
        TRY(read_count(d, KILN__MAX_PARAMS, "parameters", &np));
        for (k = 0; k < np; k++) {
            TRY(read_valtype(d, &tmp[k]));
            ft->nparam_slots += kiln__slots(tmp[k]);
        }
        TRY(read_count(d, KILN__MAX_RESULTS, "results", &nr));
        for (k = 0; k < nr; k++) {
            TRY(read_valtype(d, &tmp[np + k]));
            ft->nresult_slots += kiln__slots(tmp[np + k]);
        }
        ft->types = malloc((size_t)np + nr + 1);
        if (!ft->types) return nomem(d);
        memcpy(ft->types, tmp, (size_t)np + nr);
        ft->nparams = np;
        ft->nresults = nr;
        mod->ntypes = i + 1;
    }
    return 0;
}

static int sec_import(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_IMPORTS, "imports", &n));
    mod->imports = calloc(n ? n : 1, sizeof *mod->imports);
    if (!mod->imports) return nomem(d);
    for (i = 0; i < n; i++) {
        struct kiln__import *im = &mod->imports[i];
        size_t at;
        uint8_t kind;
        mod->nimports = i + 1;
        TRY(read_name(d, &im->module, NULL, NULL));
        TRY(read_name(d, &im->name, NULL, NULL));
        at = off(d);
        kind = kiln__read_u8(&d->r);
        CHECK_R(d);
        im->kind = kind;
        switch (kind) {
        case KILN_EXTERN_FUNC: {
            struct kiln__func *f;
            uint32_t t;
            size_t tat = off(d);
            t = kiln__read_u32(&d->r);
            CHECK_R(d);
            if (t >= mod->ntypes) return fail_at(d, KILN_E_INVALID, tat, "unknown type %u", t);
            if (mod->nfuncs >= KILN__MAX_FUNCS)
                return fail_at(d, KILN_E_NOMEM, at, "too many functions");
            TRY(grow(d, (void **)&mod->funcs, &d->cap_funcs, mod->nfuncs, 1, sizeof *mod->funcs));
            f = &mod->funcs[mod->nfuncs];
            f->type_idx = t;
            f->import_idx = i;
            im->index = mod->nfuncs++;
            mod->nfunc_imports = mod->nfuncs;
            break;
        }
        case KILN_EXTERN_TABLE: {
            struct kiln__table t;
            memset(&t, 0, sizeof t);
            TRY(read_tabletype(d, &t));
            if (mod->ntables >= KILN__MAX_TABLES)
                return fail_at(d, KILN_E_NOMEM, at, "too many tables");
            TRY(grow(d, (void **)&mod->tables, &d->cap_tables, mod->ntables, 1,
                     sizeof *mod->tables));
            t.import_idx = i;
            mod->tables[mod->ntables] = t;
            im->index = mod->ntables++;
            mod->ntable_imports = mod->ntables;
            break;
        }
        case KILN_EXTERN_MEMORY: {
            struct kiln__memory m;
            memset(&m, 0, sizeof m);
            TRY(read_memtype(d, &m.limits));
            if (mod->nmems >= KILN__MAX_MEMORIES)
                return fail_at(d, KILN_E_INVALID, at, "multiple memories");
            TRY(grow(d, (void **)&mod->mems, &d->cap_mems, mod->nmems, 1, sizeof *mod->mems));
            m.import_idx = i;
            mod->mems[mod->nmems] = m;
            im->index = mod->nmems++;
            mod->nmem_imports = mod->nmems;
            break;
        }
        case KILN_EXTERN_GLOBAL: {
            struct kiln__global g;
            memset(&g, 0, sizeof g);
            TRY(read_globaltype(d, &g));
            if (mod->nglobals >= KILN__MAX_GLOBALS)
                return fail_at(d, KILN_E_NOMEM, at, "too many globals");
            TRY(grow(d, (void **)&mod->globals, &d->cap_globals, mod->nglobals, 1,
                     sizeof *mod->globals));
            g.import_idx = i;
            mod->globals[mod->nglobals] = g;
            im->index = mod->nglobals++;
            mod->nglobal_imports = mod->nglobals;
            break;
        }
        default:
            return fail_at(d, KILN_E_MALFORMED, at, "malformed import kind");
        }
    }
    return 0;
}

static int sec_function(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_FUNCS - mod->nfuncs, "functions", &n));
    TRY(grow(d, (void **)&mod->funcs, &d->cap_funcs, mod->nfuncs, n, sizeof *mod->funcs));
    for (i = 0; i < n; i++) {
        size_t at = off(d);
        uint32_t t = kiln__read_u32(&d->r);
        struct kiln__func *f = &mod->funcs[mod->nfuncs];
        CHECK_R(d);
        if (t >= mod->ntypes) return fail_at(d, KILN_E_INVALID, at, "unknown type %u", t);
        memset(f, 0, sizeof *f);
        f->type_idx = t;
        f->import_idx = UINT32_MAX;
        mod->nfuncs++;
    }
    d->has_funcsec = true;
    d->nfuncsec = n;
    return 0;
}

static int sec_table(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_TABLES - mod->ntables, "tables", &n));
    TRY(grow(d, (void **)&mod->tables, &d->cap_tables, mod->ntables, n, sizeof *mod->tables));
    for (i = 0; i < n; i++) {
        struct kiln__table *t = &mod->tables[mod->ntables];
        memset(t, 0, sizeof *t);
        TRY(read_tabletype(d, t));
        t->import_idx = UINT32_MAX;
        mod->ntables++;
    }
    return 0;
}

static int sec_memory(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    size_t at = off(d);
    uint32_t n, i;
    TRY(read_count(d, UINT32_MAX, "memories", &n));
    if ((uint64_t)mod->nmems + n > KILN__MAX_MEMORIES)
        return fail_at(d, KILN_E_INVALID, at, "multiple memories");
    TRY(grow(d, (void **)&mod->mems, &d->cap_mems, mod->nmems, n, sizeof *mod->mems));
    for (i = 0; i < n; i++) {
        struct kiln__memory *m = &mod->mems[mod->nmems];
        memset(m, 0, sizeof *m);
        TRY(read_memtype(d, &m->limits));
        m->import_idx = UINT32_MAX;
        mod->nmems++;
    }
    return 0;
}

static int sec_global(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_GLOBALS - mod->nglobals, "globals", &n));
    TRY(grow(d, (void **)&mod->globals, &d->cap_globals, mod->nglobals, n, sizeof *mod->globals));
    for (i = 0; i < n; i++) {
        struct kiln__global g;
        memset(&g, 0, sizeof g);
        TRY(read_globaltype(d, &g));
        g.import_idx = UINT32_MAX;
        TRY(read_const(d, g.type, &g.init));
        mod->globals[mod->nglobals++] = g;
    }
    return 0;
}

struct name_ref {
    const uint8_t *p;
    uint32_t len;
};

static int name_cmp(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int sec_export(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    struct name_ref *names = NULL;
    uint32_t n, i;
    int rc;
    rc = read_count(d, KILN__MAX_EXPORTS, "exports", &n);
    if (rc < 0) return rc;
    mod->exports = calloc(n ? n : 1, sizeof *mod->exports);
    names = calloc(n ? n : 1, sizeof *names);
    if (!mod->exports || !names) {
        rc = nomem(d);
        goto fail;
    }
    for (i = 0; i < n; i++) {
        struct kiln__export *ex = &mod->exports[i];
        size_t at;
        uint32_t limit = 0;
        const char *what = "";
        mod->nexports = i + 1;
        rc = read_name(d, &ex->name, &names[i].p, &names[i].len);
        if (rc < 0) goto fail;
        at = off(d);
        ex->kind = kiln__read_u8(&d->r);
        ex->index = kiln__read_u32(&d->r);
        if (d->r.err) {
            rc = rfail(d);
            goto fail;
        }
        switch (ex->kind) {
        case KILN_EXTERN_FUNC:
            limit = mod->nfuncs, what = "function";
            break;
        case KILN_EXTERN_TABLE:
            limit = mod->ntables, what = "table";
            break;
        case KILN_EXTERN_MEMORY:
            limit = mod->nmems, what = "memory";
            break;
        case KILN_EXTERN_GLOBAL:
            limit = mod->nglobals, what = "global";
            break;
        default:
            rc = fail_at(d, KILN_E_MALFORMED, at, "malformed export kind");
            goto fail;
        }
        if (ex->index >= limit) {
            rc = fail_at(d, KILN_E_INVALID, at, "unknown %s %u", what, ex->index);
            goto fail;
        }
        if (ex->kind == KILN_EXTERN_FUNC) {
            rc = declare_func(d, ex->index);
            if (rc < 0) goto fail;
        }
    }
    qsort(names, n, sizeof *names, name_cmp);
    for (i = 1; i < n; i++)
        if (name_cmp(&names[i - 1], &names[i]) == 0) {
            rc = fail_at(d, KILN_E_INVALID, (size_t)(names[i].p - mod->bytes),
                         "duplicate export name");
            goto fail;
        }
    free(names);
    return 0;
fail:
    free(names);
    return rc;
}

static int sec_start(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    size_t at = off(d);
    const struct kiln__functype *ft;
    uint32_t idx = kiln__read_u32(&d->r);
    CHECK_R(d);
    if (idx >= mod->nfuncs) return fail_at(d, KILN_E_INVALID, at, "unknown function %u", idx);
    ft = &mod->types[mod->funcs[idx].type_idx];
    if (ft->nparams || ft->nresults) return fail_at(d, KILN_E_INVALID, at, "start function");
    mod->has_start = true;
    mod->start = idx;
    return 0;
}

/* One element segment (all eight encodings, flags 0..7):
 *   bit 0: passive or declarative (else active)
 *   bit 1: active with explicit table index / declarative (with bit 0)
 *   bit 2: items are expressions (else function indices)
 * and bits 0|1 non-zero means an elemkind/reftype byte is present. */
static int read_elem(struct dec *d, struct kiln__elem *e)
{
    struct kiln_module *mod = d->mod;
    size_t at = off(d), tat;
    uint32_t flags = kiln__read_u32(&d->r), n, i;
    CHECK_R(d);
    if (flags > 7) return fail_at(d, KILN_E_MALFORMED, at, "malformed elements segment kind");
    e->mode = !(flags & 1)  ? KILN__SEG_ACTIVE
              : (flags & 2) ? KILN__SEG_DECLARATIVE
                            : KILN__SEG_PASSIVE;
    e->reftype = KILN_FUNCREF;
    tat = off(d);
    if ((flags & 3) == 2) {
        e->table_idx = kiln__read_u32(&d->r);
        CHECK_R(d);
    }
    if (e->mode == KILN__SEG_ACTIVE) {
        if (e->table_idx >= mod->ntables)
            return fail_at(d, KILN_E_INVALID, tat, "unknown table %u", e->table_idx);
        TRY(read_const(d, KILN_I32, &e->offset));
    }
    if (flags & 3) {
        if (flags & 4) {
            TRY(read_reftype(d, &e->reftype));
        } else {
            size_t kat = off(d);
            uint8_t kind = kiln__read_u8(&d->r);
            CHECK_R(d);
            if (kind != 0) return fail_at(d, KILN_E_MALFORMED, kat, "malformed element kind");
        }
    }
    if (e->mode == KILN__SEG_ACTIVE && mod->tables[e->table_idx].reftype != e->reftype)
        return fail_at(d, KILN_E_INVALID, at, "type mismatch");
    TRY(read_count(d, UINT32_MAX, "elements", &n));
    e->items = calloc(n ? n : 1, sizeof *e->items);
    if (!e->items) return nomem(d);
    for (i = 0; i < n; i++) {
        struct kiln__constexpr *it = &e->items[i];
        if (flags & 4) {
            TRY(read_const(d, e->reftype, it));
        } else {
            size_t fat = off(d);
            it->op = KILN__CONST_REF_FUNC;
            it->type = KILN_FUNCREF;
            it->idx = kiln__read_u32(&d->r);
            CHECK_R(d);
            if (it->idx >= mod->nfuncs)
                return fail_at(d, KILN_E_INVALID, fat, "unknown function %u", it->idx);
            TRY(declare_func(d, it->idx));
        }
        e->nitems = i + 1;
    }
    return 0;
}

static int sec_element(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_SEGMENTS, "element segments", &n));
    mod->elems = calloc(n ? n : 1, sizeof *mod->elems);
    if (!mod->elems) return nomem(d);
    for (i = 0; i < n; i++) {
        mod->nelems = i + 1;
        TRY(read_elem(d, &mod->elems[i]));
    }
    return 0;
}

static int sec_datacount(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    size_t at = off(d);
    uint32_t n = kiln__read_u32(&d->r);
    CHECK_R(d);
    if (n > KILN__MAX_SEGMENTS)
        return fail_at(d, KILN_E_NOMEM, at, "too many data segments (%u, limit %u)", n,
                       KILN__MAX_SEGMENTS);
    mod->has_datacount = true;
    mod->datacount = n;
    return 0;
}

static int sec_code(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    size_t at = off(d);
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_FUNCS, "function bodies", &n));
    if (n != mod->nfuncs - mod->nfunc_imports)
        return fail_at(d, KILN_E_MALFORMED, at,
                       "function and code section have inconsistent lengths");
    for (i = 0; i < n; i++) {
        struct kiln__func *f = &mod->funcs[mod->nfunc_imports + i];
        size_t sat = off(d);
        uint32_t size = kiln__read_u32(&d->r);
        CHECK_R(d);
        if (size > kiln__reader_left(&d->r))
            return fail_at(d, KILN_E_MALFORMED, sat, "length out of bounds");
        f->body_off = (uint32_t)off(d);
        f->body_len = size;
        d->r.p += size;
    }
    d->has_code = true;
    return 0;
}

static int sec_data(struct dec *d)
{
    struct kiln_module *mod = d->mod;
    size_t cat = off(d);
    uint32_t n, i;
    TRY(read_count(d, KILN__MAX_SEGMENTS, "data segments", &n));
    if (mod->has_datacount && n != mod->datacount)
        return fail_at(d, KILN_E_MALFORMED, cat,
                       "data count and data section have inconsistent lengths");
    mod->datas = calloc(n ? n : 1, sizeof *mod->datas);
    if (!mod->datas) return nomem(d);
    for (i = 0; i < n; i++) {
        struct kiln__data *s = &mod->datas[i];
        size_t at = off(d), mat;
        uint32_t flags = kiln__read_u32(&d->r), len;
        CHECK_R(d);
        mod->ndatas = i + 1;
        if (flags > 2) return fail_at(d, KILN_E_MALFORMED, at, "malformed data segment kind");
        s->mode = flags == 1 ? KILN__SEG_PASSIVE : KILN__SEG_ACTIVE;
        mat = off(d);
        if (flags == 2) {
            s->mem_idx = kiln__read_u32(&d->r);
            CHECK_R(d);
        }
        if (s->mode == KILN__SEG_ACTIVE) {
            if (s->mem_idx >= mod->nmems)
                return fail_at(d, KILN_E_INVALID, mat, "unknown memory %u", s->mem_idx);
            TRY(read_const(d, KILN_I32, &s->offset));
        }
        at = off(d);
        len = kiln__read_u32(&d->r);
        CHECK_R(d);
        if (len > kiln__reader_left(&d->r))
            return fail_at(d, KILN_E_MALFORMED, at, "unexpected end of section or function");
        s->off = (uint32_t)off(d);
        s->len = len;
        d->r.p += len;
    }
    d->has_data = true;
    return 0;
}

static int sec_custom(struct dec *d)
{
    /* The name must be valid UTF-8; the contents are not interpreted. */
    TRY(read_name(d, NULL, NULL, NULL));
    d->r.p = d->r.end;
    return 0;
}

typedef int (*section_fn)(struct dec *d);

static const section_fn section_fns[] = {
    sec_custom, sec_type,  sec_import,  sec_function, sec_table, sec_memory,   sec_global,
    sec_export, sec_start, sec_element, sec_code,     sec_data,  sec_datacount};

/* ---- the module ----------------------------------------------------------- */

/* Decodes mod->bytes (see module.h). */
int kiln__decode(struct kiln_module *mod, struct kiln_error *err)
{
    static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
    static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
    const uint8_t *base = mod->bytes, *end = mod->bytes + mod->nbytes;
    struct kiln__reader top;
    struct dec d;
    unsigned last_rank = 0;
    uint32_t i;

    memset(&d, 0, sizeof d);
    d.mod = mod;
    d.err = err;
    d.where = "module header";
    kiln__reader_init(&top, base, base, end);
    d.r = top;
    if (mod->nbytes < 4) return fail_at(&d, KILN_E_MALFORMED, mod->nbytes, "unexpected end");
    if (memcmp(base, magic, 4) != 0)
        return fail_at(&d, KILN_E_MALFORMED, 0, "magic header not detected");
    if (mod->nbytes < 8) return fail_at(&d, KILN_E_MALFORMED, mod->nbytes, "unexpected end");
    if (memcmp(base + 4, version, 4) != 0)
        return fail_at(&d, KILN_E_MALFORMED, 4, "unknown binary version");
    top.p = base + 8;

    while (top.p < end) {
        size_t at = kiln__reader_off(&top);
        uint8_t id = kiln__read_u8(&top);
        uint32_t size;
        d.where = "section header";
        d.in_section = false;
        if (id > SEC_DATACOUNT) {
            d.r = top;
            return fail_at(&d, KILN_E_MALFORMED, at, "malformed section id");
        }
        d.where = section_names[id];
        size = kiln__read_u32(&top);
        if (top.err) {
            d.r = top;
            return rfail(&d);
        }
        if (size > kiln__reader_left(&top))
            return fail_at(&d, KILN_E_MALFORMED, kiln__reader_off(&top), "length out of bounds");
        if (id != SEC_CUSTOM) {
            if (section_rank[id] <= last_rank)
                return fail_at(&d, KILN_E_MALFORMED, at, "unexpected content after last section");
            last_rank = section_rank[id];
        }
        kiln__reader_init(&d.r, base, top.p, top.p + size);
        d.in_section = true;
        TRY(section_fns[id](&d));
        if (d.r.p != d.r.end)
            return fail_at(&d, KILN_E_MALFORMED, off(&d), "section size mismatch");
        top.p += size;
    }

    d.in_section = false;
    d.where = "code section";
    kiln__reader_init(&d.r, base, end, end);
    if (mod->nfuncs - mod->nfunc_imports != 0 && !d.has_code)
        return fail_at(&d, KILN_E_MALFORMED, mod->nbytes,
                       "function and code section have inconsistent lengths");
    d.where = "data section";
    if (mod->has_datacount && !d.has_data && mod->datacount != 0)
        return fail_at(&d, KILN_E_MALFORMED, mod->nbytes,
                       "data count and data section have inconsistent lengths");
    if (!mod->declared_funcs) {
        mod->declared_funcs = calloc(((size_t)mod->nfuncs + 7) / 8 + 1, 1);
        if (!mod->declared_funcs) return nomem(&d);
    }
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++)
        TRY(mod->cfg.defer_compile ? kiln__func_validate(mod, i, err)
                                   : kiln__func_validate_compile(mod, i, err));
    return 0;
}
