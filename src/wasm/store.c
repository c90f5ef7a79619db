/*
 * store.c — stores and the objects they own: host functions, tables,
 * memories, globals; interned function types; the caller context of host
 * functions; value <-> slot conversion.
 *
 * Ownership: every object is one struct kiln__alloc on the store's list,
 * freed (after its cleanup hook: unmap a memory, free a table's elements) by
 * kiln_store_free(). Nothing is freed earlier, so objects may point at each
 * other freely.
 *
 * Type interning: store->types[id] holds one copy of each distinct
 * signature seen in the store; equal signatures get equal ids, so
 * call_indirect and import matching compare one integer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/runtime.h"

#define DEFAULT_MAX_TABLE_ELEMS 10000000u
#define DEFAULT_MAX_CALL_DEPTH 20000u
#define DEFAULT_VALUE_STACK_BYTES ((size_t)8 << 20)

struct kiln__alloc {
    struct kiln__alloc *next;
    void (*cleanup)(void *obj); /* run before the block is freed, or NULL */
    _Alignas(max_align_t) unsigned char obj[];
};

/* Fills cfg with the defaults (all limits at their documented values). */
void kiln_store_config_default(struct kiln_store_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_memory_bytes = (uint64_t)KILN__MAX_PAGES * KILN_WASM_PAGE_SIZE;
    cfg->max_table_elems = DEFAULT_MAX_TABLE_ELEMS;
    cfg->max_call_depth = DEFAULT_MAX_CALL_DEPTH;
    cfg->value_stack_bytes = DEFAULT_VALUE_STACK_BYTES;
    cfg->fuel = 0;
}

/* Creates a store; zero fields of cfg take their defaults. NULL on ENOMEM. */
struct kiln_store *kiln_store_new(const struct kiln_store_config *cfg)
{
    struct kiln_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (cfg) s->cfg = *cfg;
    if (!s->cfg.max_memory_bytes ||
        s->cfg.max_memory_bytes > (uint64_t)KILN__MAX_PAGES * KILN_WASM_PAGE_SIZE)
        s->cfg.max_memory_bytes = (uint64_t)KILN__MAX_PAGES * KILN_WASM_PAGE_SIZE;
    if (!s->cfg.max_table_elems) s->cfg.max_table_elems = DEFAULT_MAX_TABLE_ELEMS;
    if (!s->cfg.max_call_depth) s->cfg.max_call_depth = DEFAULT_MAX_CALL_DEPTH;
    if (!s->cfg.value_stack_bytes) s->cfg.value_stack_bytes = DEFAULT_VALUE_STACK_BYTES;
    atomic_init(&s->interrupt, 0);
    atomic_init(&s->aot_tid, 0);
    /* decided before any store's AOT code runs or is interrupted */
    kiln__aot_barrier_init();
    /* The fault handler is (re)installed at store creation and
     * instantiation, not on every call (see instance.c). */
    if (kiln__trap_handler_install() < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* Frees the store and every object in it (NULL is a no-op). Must not be
 * called while a call in the store is running. */
void kiln_store_free(struct kiln_store *store)
{
    struct kiln__alloc *a, *next;
    uint32_t i;
    if (!store) return;
    for (a = store->allocs; a; a = next) {
        next = a->next;
        if (a->cleanup) a->cleanup(a->obj);
        free(a);
    }
    free(store->stack_cache);
    for (i = 0; i < store->ntypes; i++)
        free(store->types[i].types);
    free(store->types);
    free(store);
}

/* Requests an interrupt (async-signal-safe, any thread). The flag stops
 * the interpreter and metered AOT code at their next poll; AOT code without
 * polls is stopped by the interrupt signal, sent to the thread that runs
 * it. Store flag, barrier, load id pairs with the AOT side's store of
 * aot_tid, barrier, flag check in AOT text (rt.c "Interruption"): either
 * that thread sees the flag, or this one sees its id. The barrier here is
 * membarrier when the AOT side skips its fence, else the seq_cst accesses
 * themselves. A failed membarrier (rt.c: a filter installed after the
 * decision) switches the process to full fences; this request may then wait
 * for the code's next host call. */
void kiln_store_interrupt(struct kiln_store *store)
{
    int tid;
    atomic_store(&store->interrupt, 1);
    (void)kiln__aot_interrupt_barrier();
    tid = atomic_load(&store->aot_tid);
    if (tid > 0) kiln__aot_interrupt_send(tid);
}

/* Withdraws an interrupt request. */
void kiln_store_clear_interrupt(struct kiln_store *store)
{
    atomic_store(&store->interrupt, 0);
}

static void *store_alloc_cleanup(struct kiln_store *store, size_t size, void (*cleanup)(void *))
{
    struct kiln__alloc *a;
    if (size > SIZE_MAX - sizeof *a) return NULL;
    a = calloc(1, sizeof *a + size);
    if (!a) return NULL;
    a->cleanup = cleanup;
    a->next = store->allocs;
    store->allocs = a;
    return a->obj;
}

/* A zeroed block owned by the store (see runtime.h); NULL on ENOMEM. */
void *kiln__store_alloc(struct kiln_store *store, size_t size)
{
    return store_alloc_cleanup(store, size, NULL);
}

static bool functype_equal(const struct kiln__functype *a, const struct kiln__functype *b)
{
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           memcmp(a->types, b->types, (size_t)a->nparams + a->nresults) == 0;
}

/* Structural id of a small signature, or 0 (see runtime.h). */
uint32_t kiln__functype_packed_id(const struct kiln__functype *ft)
{
    uint32_t id, n = ft->nparams + ft->nresults;
    if (ft->nparams > 7 || ft->nresults > 3 || n > 8) return 0;
    id = 0x80000000u | (uint32_t)ft->nparams << 28 | (uint32_t)ft->nresults << 26;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t code;
        switch (ft->types[k]) {
        case KILN_I32: code = 1; break;
        case KILN_I64: code = 2; break;
        case KILN_F32: code = 3; break;
        case KILN_F64: code = 4; break;
        case KILN_V128: code = 5; break;
        case KILN_FUNCREF: code = 6; break;
        case KILN_EXTERNREF: code = 7; break;
        default: return 0;
        }
        id |= code << (3 * k);
    }
    return id;
}

/* Id of ft (see runtime.h); UINT32_MAX on ENOMEM. */
uint32_t kiln__store_intern_type(struct kiln_store *store, const struct kiln__functype *ft)
{
    struct kiln__functype *t;
    size_t n = (size_t)ft->nparams + ft->nresults;
    uint32_t i, packed = kiln__functype_packed_id(ft);
    if (packed) return packed;
    for (i = 0; i < store->ntypes; i++)
        if (functype_equal(&store->types[i], ft)) return i;
    if (store->ntypes >= 0x7fffffffu) return UINT32_MAX; /* bit 31 marks packed ids */
    if (store->ntypes == store->cap_types) {
        uint32_t ncap = store->cap_types ? store->cap_types * 2 : 16;
        struct kiln__functype *p = realloc(store->types, (size_t)ncap * sizeof *p);
        if (!p) return UINT32_MAX;
        store->types = p;
        store->cap_types = ncap;
    }
    t = &store->types[store->ntypes];
    *t = *ft;
    t->types = malloc(n ? n : 1);
    if (!t->types) return UINT32_MAX;
    memcpy(t->types, ft->types, n);
    return store->ntypes++;
}

/* ---- values --------------------------------------------------------------- */

/* Writes v in slot form (see runtime.h). */
void kiln__val_to_slots(const struct kiln_val *v, uint64_t *slots)
{
    switch (v->type) {
    case KILN_I32:
        slots[0] = (uint32_t)v->of.i32;
        break;
    case KILN_I64:
        slots[0] = (uint64_t)v->of.i64;
        break;
    case KILN_F32:
        slots[0] = v->of.f32;
        break;
    case KILN_F64:
        slots[0] = v->of.f64;
        break;
    case KILN_V128:
        memcpy(slots, v->of.v128, 16);
        break;
    default: /* references */
        slots[0] = (uint64_t)(uintptr_t)v->of.ref;
        break;
    }
}

/* Reads a value of `type` from slot form. */
void kiln__slots_to_val(uint8_t type, const uint64_t *slots, struct kiln_val *out)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    switch (type) {
    case KILN_I32:
        out->of.i32 = (int32_t)(uint32_t)slots[0];
        break;
    case KILN_I64:
        out->of.i64 = (int64_t)slots[0];
        break;
    case KILN_F32:
        out->of.f32 = (uint32_t)slots[0];
        break;
    case KILN_F64:
        out->of.f64 = slots[0];
        break;
    case KILN_V128:
        memcpy(out->of.v128, slots, 16);
        break;
    default:
        out->of.ref = (void *)(uintptr_t)slots[0];
        break;
    }
}

/* ---- host functions and the caller context -------------------------------- */

/* Creates a host function (see wasm.h); the type is copied into the store.
 * NULL on ENOMEM or an invalid type. */
struct kiln_func *kiln_func_new_host(struct kiln_store *store, const struct kiln_functype *type,
                                     kiln_host_fn fn, void *env)
{
    struct kiln__functype *ft;
    struct kiln_func *f;
    size_t n;
    uint32_t i;
    if (!store || !type || !fn || type->nparams > KILN__MAX_PARAMS ||
        type->nresults > KILN__MAX_RESULTS || (!type->types && type->nparams + type->nresults))
        return NULL;
    n = (size_t)type->nparams + type->nresults;
    for (i = 0; i < n; i++)
        if (!kiln__is_valtype(type->types[i], true)) return NULL;
    ft = kiln__store_alloc(store, sizeof *ft + n + 1);
    f = kiln__store_alloc(store, sizeof *f);
    if (!ft || !f) return NULL;
    ft->types = (uint8_t *)(ft + 1);
    if (n) memcpy(ft->types, type->types, n);
    ft->nparams = type->nparams;
    ft->nresults = type->nresults;
    for (i = 0; i < type->nparams; i++)
        ft->nparam_slots += kiln__slots(ft->types[i]);
    for (i = 0; i < type->nresults; i++)
        ft->nresult_slots += kiln__slots(ft->types[type->nparams + i]);
    f->type_id = kiln__store_intern_type(store, ft);
    if (f->type_id == UINT32_MAX) return NULL;
    f->type = ft;
    f->host = fn;
    f->env = env;
    f->func_idx = UINT32_MAX;
    return f;
}

/* Memory 0 of the calling instance, or NULL. */
struct kiln_memory *kiln_caller_memory(struct kiln_caller *caller)
{
    return caller && caller->inst ? caller->inst->mem0 : NULL;
}

/* Records a trap (kind, exit code, message) for the running host function;
 * returns kind so `return kiln_caller_trap(...)` works. */
int kiln_caller_trap(struct kiln_caller *caller, int kind, int exit_code, const char *fmt, ...)
{
    if (caller && caller->trap) {
        va_list ap;
        caller->trap->kind = kind;
        caller->trap->exit_code = exit_code;
        caller->trap->msg[0] = '\0';
        if (fmt) {
            va_start(ap, fmt);
            vsnprintf(caller->trap->msg, sizeof caller->trap->msg, fmt, ap);
            va_end(ap);
        }
    }
    return kind;
}

/* The store of the running call. */
struct kiln_store *kiln_caller_store(struct kiln_caller *caller)
{
    return caller ? caller->store : NULL;
}

/* ---- tables --------------------------------------------------------------- */

static void table_cleanup(void *obj)
{
    struct kiln_table *t = obj;
    free(t->elems);
    t->elems = NULL;
}

/* Creates a table of limits->min null elements. Its maximum is the declared
 * one capped by the store's max_table_elems. NULL on ENOMEM, a bad reftype,
 * or a minimum above that maximum. */
struct kiln_table *kiln_table_new(struct kiln_store *store, uint8_t reftype,
                                  const struct kiln_limits *limits)
{
    struct kiln_table *t;
    uint32_t max;
    if (!store || !limits || !kiln__is_reftype(reftype) ||
        (limits->has_max && limits->min > limits->max))
        return NULL;
    max = store->cfg.max_table_elems;
    if (limits->has_max && limits->max < max) max = limits->max;
    if (limits->min > max) return NULL;
    t = store_alloc_cleanup(store, sizeof *t, table_cleanup);
    if (!t) return NULL;
    t->elems = calloc(limits->min ? limits->min : 1, sizeof *t->elems);
    if (!t->elems) return NULL; /* the block stays on the list; cleanup frees NULL */
    t->reftype = reftype;
    t->size = limits->min;
    t->cap = limits->min ? limits->min : 1;
    t->max = max;
    t->limits = *limits;
    return t;
}

/* Current number of elements. */
uint32_t kiln_table_size(const struct kiln_table *t)
{
    return t->size;
}

/* Element i as a value of the table's reftype; false if out of bounds. */
bool kiln_table_get(const struct kiln_table *t, uint32_t i, struct kiln_val *out)
{
    if (i >= t->size) return false;
    memset(out, 0, sizeof *out);
    out->type = t->reftype;
    out->of.ref = t->elems[i];
    return true;
}

/* The table's type: current size as minimum, declared maximum. */
void kiln_table_type(const struct kiln_table *t, uint8_t *reftype, struct kiln_limits *out)
{
    if (reftype) *reftype = t->reftype;
    if (out) {
        out->min = t->size;
        out->max = t->limits.max;
        out->has_max = t->limits.has_max;
    }
}

/* ---- memories ------------------------------------------------------------- */

static void memory_cleanup(void *obj)
{
    kiln__memory_release(obj);
}

/* Creates a memory of limits->min pages. Its maximum is the declared one
 * capped by the store's max_memory_bytes. Errors: KILN_E_ARG (bad limits),
 * KILN_E_NOMEM (minimum above the cap, or allocation), KILN_E_IO (the
 * reservation failed). */
struct kiln_memory *kiln_memory_new(struct kiln_store *store, const struct kiln_limits *limits,
                                    struct kiln_error *err)
{
    struct kiln_memory *m;
    uint32_t max;
    int rc;
    if (!store || !limits || (limits->has_max && limits->min > limits->max) ||
        limits->min > KILN__MAX_PAGES || (limits->has_max && limits->max > KILN__MAX_PAGES)) {
        kiln_error_set(err, KILN_E_ARG, "memory limits are invalid");
        return NULL;
    }
    max = (uint32_t)(store->cfg.max_memory_bytes / KILN_WASM_PAGE_SIZE);
    if (limits->has_max && limits->max < max) max = limits->max;
    if (limits->min > max) {
        kiln_error_set(err, KILN_E_NOMEM,
                       "memory of %u pages exceeds the limit of %u pages (%llu bytes)", limits->min,
                       max, (unsigned long long)store->cfg.max_memory_bytes);
        return NULL;
    }
    m = store_alloc_cleanup(store, sizeof *m, memory_cleanup);
    if (!m) {
        kiln_error_set(err, KILN_E_NOMEM, "out of memory allocating a memory");
        return NULL;
    }
    rc = kiln__memory_init(m, limits->min, max);
    if (rc < 0) {
        kiln_error_sys(err, -rc, "reserving linear memory of %u pages", limits->min);
        return NULL;
    }
    m->limits = *limits;
    return m;
}

/* ---- globals -------------------------------------------------------------- */

/* Creates a global holding *init (its type is init->type). NULL on ENOMEM or
 * an unknown type. */
struct kiln_global *kiln_global_new(struct kiln_store *store, const struct kiln_val *init,
                                    bool mutable_)
{
    struct kiln_global *g;
    if (!store || !init || !kiln__is_valtype(init->type, true)) return NULL;
    g = kiln__store_alloc(store, sizeof *g);
    if (!g) return NULL;
    g->type = init->type;
    g->mutable_ = mutable_;
    kiln__val_to_slots(init, g->val);
    return g;
}

/* Current value. */
void kiln_global_get(const struct kiln_global *g, struct kiln_val *out)
{
    kiln__slots_to_val(g->type, g->val, out);
}

/* Sets a mutable global of the same type; false otherwise. */
bool kiln_global_set(struct kiln_global *g, const struct kiln_val *v)
{
    if (!g->mutable_ || v->type != g->type) return false;
    kiln__val_to_slots(v, g->val);
    return true;
}

/* The global's type. */
void kiln_global_type(const struct kiln_global *g, uint8_t *valtype, bool *mutable_)
{
    if (valtype) *valtype = g->type;
    if (mutable_) *mutable_ = g->mutable_;
}
