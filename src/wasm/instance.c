/*
 * instance.c — instantiation (import matching, index spaces, segment
 * initialisation, start function) and calls into the engine.
 *
 * Instantiation follows WebAssembly 2.0: after linking, globals are
 * initialised, then each element segment in order (active: bounds check and
 * copy, then drop; declarative: drop), then each data segment likewise, then
 * the start function runs. A trap in any of these makes the module
 * uninstantiable (KILN_E_TRAP), but writes already done to imported tables
 * or memories stay visible, as the spec requires. Objects created for a
 * failed instance remain owned by the store.
 *
 * Calls: the outermost kiln_func_call on a store takes the store's value
 * stack (allocated on first use, kept until kiln_store_free) and sets up
 * struct kiln__exec (limits, fuel, the sigsetjmp target for
 * memory faults) and makes it kiln__current_exec. A call made from inside a
 * host function (store->exec already set) gets its own exec whose stack
 * starts at the enclosing one's free space, with the remaining depth and
 * fuel, and its own trap target, so a trap in it returns to the host
 * function rather than unwinding through it. While a host function runs,
 * kiln__current_exec is NULL: a fault in host code is a host bug and crashes
 * normally instead of being turned into a guest trap.
 *
 * The fault handler is (re)installed by kiln_store_new() and
 * kiln_instance_new() (two sigaction queries); a call only checks, without
 * a system call, that it was installed and that the thread has its
 * alternate signal stack.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/linux/vmem.h"
#include "wasm/aot/aot_rt.h"
#include "wasm/runtime.h"

/* ---- calls ---------------------------------------------------------------- */

static void trap_default_msg(struct kiln_trap *t, int kind)
{
    t->kind = kind;
    snprintf(t->msg, sizeof t->msg, "%s", kiln_trap_message(kind));
}

/* True if f's attached AOT code has no fuel polls. */
static bool unmetered(const struct kiln_func *f)
{
    const struct kiln_aot_module *d = f->inst->mod->aot;
    return d && !(d->flags & KILN_AOT_F_METERED);
}

/* Calls f (host or defined) with slot-form args/results (see runtime.h).
 * Returns 0 or a trap kind; ex->trap describes the trap. */
int kiln__call(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args, uint64_t *res)
{
    int rc;
    if (f->aot && __builtin_expect(ex->fuel != UINT64_MAX, 0) && unmetered(f)) {
        /* fuel is metered but the code has no fuel polls (a function of an
         * instance made in a store without fuel, reached from one with
         * fuel): interpret it, or refuse to run it unmetered */
        struct kiln_module *mod = (struct kiln_module *)f->inst->mod;
        struct kiln_func tmp = *f;
        struct kiln_instance *saved = ex->inst;
        struct kiln_error err;
        tmp.aot = NULL;
        tmp.aot_native = NULL;
        tmp.aot_key = 0;
        tmp.host = NULL;
        if (kiln__module_compile(mod, &err) < 0 || !mod->funcs[f->func_idx].code) {
            snprintf(ex->trap->msg, sizeof ex->trap->msg,
                     "unmetered AOT code cannot run with fuel metering");
            ex->trap->kind = KILN_TRAP_HOST;
            return KILN_TRAP_HOST;
        }
        tmp.code = mod->funcs[f->func_idx].code;
        ex->inst = f->inst;
        rc = kiln__interp_call(ex, &tmp, args, res);
        ex->inst = saved;
        return rc;
    }
    if (f->aot) {
        struct kiln_instance *saved = ex->inst;
        ex->inst = f->inst;
        rc = kiln__aot_enter(ex, f, args, res);
        ex->inst = saved;
        return rc;
    }
    if (f->host) {
        struct kiln_caller caller;
        struct kiln__exec *saved_cur = kiln__current_exec;
        uint64_t *saved_sp = ex->sp;
        uint64_t *top;
        /* Nested calls from the host function must not overwrite the
         * arguments/results area of this call on the value stack. */
        if ((const uint64_t *)args >= ex->stack && (const uint64_t *)args < ex->stack_end) {
            uint32_t n = f->type->nparam_slots > f->type->nresult_slots ? f->type->nparam_slots
                                                                        : f->type->nresult_slots;
            top = (uint64_t *)args + n;
            if (top > ex->sp && top <= ex->stack_end) ex->sp = top;
        }
        caller.store = ex->store;
        caller.inst = ex->inst;
        caller.trap = ex->trap;
        ex->trap->kind = KILN_TRAP_NONE;
        ex->trap->exit_code = 0;
        ex->trap->msg[0] = '\0';
        kiln__current_exec = NULL;
        rc = f->host(&caller, args, res, f->env);
        kiln__current_exec = saved_cur;
        ex->sp = saved_sp;
        if (rc != 0) {
            if (rc < 0 || rc >= KILN_TRAP__COUNT) rc = KILN_TRAP_HOST;
            if (ex->trap->kind != rc || !ex->trap->msg[0]) {
                int code = ex->trap->exit_code;
                trap_default_msg(ex->trap, rc);
                ex->trap->exit_code = rc == KILN_TRAP_EXIT ? code : 0;
            }
        }
        return rc;
    } else {
        struct kiln_instance *saved = ex->inst;
        ex->inst = f->inst;
        rc = kiln__interp_call(ex, f, args, res);
        ex->inst = saved;
        return rc;
    }
}

/* kiln__call() under ex's trap target: a memory fault in guest code
 * (memory.c's handler) resumes here with the trap kind. Kept apart from
 * call_slots so no local of the caller lives across the sigsetjmp. */
static int run_guarded(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args,
                       uint64_t *res)
{
    if (sigsetjmp(ex->trap_jmp, 0) == 0) return kiln__call(ex, f, args, res);
    /* AOT code raises every trap this way and fills the message first */
    if (ex->trap_kind && ex->trap->kind == ex->trap_kind && ex->trap->msg[0])
        return ex->trap->kind;
    trap_default_msg(ex->trap, ex->trap_kind ? ex->trap_kind : KILN_TRAP_MEMORY_OOB);
    return ex->trap->kind;
}

/* Runs f with slot-form args/results in its own exec (outermost or nested).
 * Returns 0 or a trap kind with *trap filled. */
static int call_slots(struct kiln_store *store, struct kiln_func *f, const uint64_t *args,
                      uint64_t *res, struct kiln_trap *trap)
{
    struct kiln__exec ex;
    struct kiln__exec *outer = store->exec;
    struct kiln__exec *saved_cur = kiln__current_exec;
    uint64_t *stack;
    int rc, saved_tid;
    uintptr_t saved_seg;

    memset(&ex, 0, sizeof ex);
    memset(trap, 0, sizeof *trap);
    ex.store = store;
    ex.trap = trap;
    ex.prev = outer;
    if (outer) {
        ex.stack = outer->sp;
        ex.stack_end = outer->stack_end;
        ex.depth = outer->depth;
        ex.max_depth = outer->max_depth;
        ex.fuel = outer->fuel;
        ex.inst = outer->inst;
    } else {
        size_t nslots = store->cfg.value_stack_bytes / sizeof(uint64_t);
        if (kiln_platform_fault_ready() < 0 && kiln__trap_handler_install() < 0) {
            snprintf(trap->msg, sizeof trap->msg, "cannot install the trap handler");
            trap->kind = KILN_TRAP_HOST;
            return KILN_TRAP_HOST;
        }
        if (!store->stack_cache) store->stack_cache = malloc(nslots * sizeof(uint64_t));
        stack = store->stack_cache;
        if (!stack) {
            snprintf(trap->msg, sizeof trap->msg, "out of memory for the value stack");
            trap->kind = KILN_TRAP_STACK_EXHAUSTED;
            return KILN_TRAP_STACK_EXHAUSTED;
        }
        ex.stack = stack;
        ex.stack_end = stack + nslots;
        ex.max_depth = store->cfg.max_call_depth;
        ex.fuel = store->cfg.fuel ? store->cfg.fuel : UINT64_MAX;
    }
    ex.sp = ex.stack;
    store->exec = &ex;
    kiln__current_exec = &ex;
    saved_tid = atomic_load_explicit(&store->aot_tid, memory_order_relaxed);
    saved_seg = kiln__aot_seg_save();
    rc = run_guarded(&ex, f, args, res);
    /* a trap in AOT code skipped kiln__aot_enter's restores (rt.c) */
    if (saved_tid != 0 && atomic_load_explicit(&store->aot_tid, memory_order_relaxed) != saved_tid) {
        /* A trap also skipped rt_call's republication (a fault in a callee
         * it called with the id cleared), in a call made while this store's
         * AOT code runs on this thread: a signal handler that interrupted it.
         * A request made while the id was cleared only set the flag, and the
         * handler returns into AOT code, which does not check it: check here,
         * after republishing with the same barrier as rt_call (rt.c
         * "Interruption"), and send the signal to this thread, delivered in
         * that code once the handler returns (as kiln_store_interrupt does
         * from a handler; deferred by the hook until then). */
        kiln__aot_tid_publish(store, saved_tid);
        if (atomic_load_explicit(&store->interrupt, memory_order_relaxed) != 0 &&
            saved_tid == kiln__thread_id())
            kiln__aot_interrupt_send(saved_tid);
    } else {
        atomic_store_explicit(&store->aot_tid, saved_tid, memory_order_relaxed);
    }
    kiln__aot_seg_restore(saved_seg);
    kiln__current_exec = saved_cur;
    kiln__aot_interrupt_settle(); /* an interrupt signal deferred in kiln code */
    store->exec = outer;
    if (outer) outer->fuel = ex.fuel;
    if (rc != 0) {
        trap->kind = rc;
        if (!trap->msg[0]) trap_default_msg(trap, rc);
    }
    return rc;
}

/* Type-checks args, calls func and converts the results (see wasm.h). */
int kiln_func_call(struct kiln_store *store, struct kiln_func *func, const struct kiln_val *args,
                   size_t nargs, struct kiln_val *results, size_t nresults, struct kiln_trap *trap)
{
    const struct kiln__functype *ft;
    struct kiln_trap local;
    uint64_t argbuf[16], resbuf[16];
    uint64_t *argv = NULL, *resv = NULL;
    uint32_t i, k;
    int rc;

    if (!store || !func || (nargs && !args) || (nresults && !results)) return -KILN_E_ARG;
    ft = func->type;
    if (nargs != ft->nparams || nresults != ft->nresults) return -KILN_E_ARG;
    for (i = 0; i < ft->nparams; i++)
        if (args[i].type != ft->types[i]) return -KILN_E_ARG;
    argv = ft->nparam_slots <= 16 ? argbuf : malloc((size_t)ft->nparam_slots * sizeof *argv);
    resv = ft->nresult_slots <= 16 ? resbuf : malloc((size_t)ft->nresult_slots * sizeof *resv);
    if (!argv || !resv) {
        rc = -KILN_E_NOMEM;
        goto out;
    }
    for (i = 0, k = 0; i < ft->nparams; i++) {
        kiln__val_to_slots(&args[i], argv + k);
        k += kiln__slots(ft->types[i]);
    }
    rc = call_slots(store, func, argv, resv, &local);
    if (rc != 0) {
        if (trap) *trap = local;
        rc = -KILN_E_TRAP;
        goto out;
    }
    for (i = 0, k = 0; i < ft->nresults; i++) {
        uint8_t t = ft->types[ft->nparams + i];
        kiln__slots_to_val(t, resv + k, &results[i]);
        k += kiln__slots(t);
    }
    rc = 0;
out:
    if (argv != argbuf) free(argv);
    if (resv != resbuf) free(resv);
    return rc;
}

/* The function's signature; the type array is owned by the store or module. */
void kiln_func_type(const struct kiln_func *func, struct kiln_functype *out)
{
    out->nparams = func->type->nparams;
    out->nresults = func->type->nresults;
    out->types = func->type->types;
}

/* ---- instantiation -------------------------------------------------------- */

static const char *const kind_names[] = {"function", "table", "memory", "global"};

/* Import subtyping of limits: the provided object's current size and
 * maximum must fit inside the declared limits. */
static bool limits_match(uint32_t have_min, bool have_has_max, uint32_t have_max,
                         const struct kiln_limits *want)
{
    if (have_min < want->min) return false;
    if (want->has_max && (!have_has_max || have_max > want->max)) return false;
    return true;
}

static int link_import(struct kiln_instance *inst, uint32_t i, const struct kiln_extern *ext,
                       struct kiln_error *err)
{
    const struct kiln_module *mod = inst->mod;
    const struct kiln__import *im = &mod->imports[i];
    bool ok = false;
    if (ext->kind == im->kind) {
        switch (im->kind) {
        case KILN_EXTERN_FUNC: {
            struct kiln_func *f = ext->of.func;
            ok = f && f->type_id == inst->type_ids[mod->funcs[im->index].type_idx];
            if (ok) inst->funcs[im->index] = f;
            break;
        }
        case KILN_EXTERN_TABLE: {
            struct kiln_table *t = ext->of.table;
            const struct kiln__table *want = &mod->tables[im->index];
            ok = t && t->reftype == want->reftype &&
                 limits_match(t->size, t->limits.has_max, t->limits.max, &want->limits);
            if (ok) inst->tables[im->index] = t;
            break;
        }
        case KILN_EXTERN_MEMORY: {
            struct kiln_memory *m = ext->of.memory;
            ok = m && limits_match(m->pages, m->limits.has_max, m->limits.max,
                                   &mod->mems[im->index].limits);
            if (ok) inst->mems[im->index] = m;
            break;
        }
        case KILN_EXTERN_GLOBAL: {
            struct kiln_global *g = ext->of.global;
            const struct kiln__global *want = &mod->globals[im->index];
            ok = g && g->type == want->type && g->mutable_ == want->mutable_;
            if (ok) inst->globals[im->index] = g;
            break;
        }
        }
    }
    if (!ok)
        return kiln_error_set(err, KILN_E_LINK,
                              "import %u (\"%s\" \"%s\", %s): incompatible import type", i,
                              im->module, im->name, kind_names[im->kind & 3]);
    return 0;
}

/* Evaluates a validated constant expression into slot form. */
static void eval_const(const struct kiln_instance *inst, const struct kiln__constexpr *ce,
                       uint64_t out[2])
{
    out[0] = out[1] = 0;
    switch (ce->op) {
    case KILN__CONST_VALUE:
        out[0] = ce->bits[0];
        out[1] = ce->bits[1];
        break;
    case KILN__CONST_GLOBAL_GET:
        out[0] = inst->globals[ce->idx]->val[0];
        out[1] = inst->globals[ce->idx]->val[1];
        break;
    case KILN__CONST_REF_NULL:
        break;
    case KILN__CONST_REF_FUNC:
        out[0] = (uint64_t)(uintptr_t)inst->funcs[ce->idx];
        break;
    }
}

static int set_trap(struct kiln_trap *trap, struct kiln_error *err, int kind, const char *what,
                    uint32_t idx)
{
    if (trap) {
        memset(trap, 0, sizeof *trap);
        trap_default_msg(trap, kind);
    }
    return kiln_error_set(err, KILN_E_TRAP, "%s %u: %s", what, idx, kiln_trap_message(kind));
}

/* Runs element and data segments, then the start function. */
static int initialize(struct kiln_instance *inst, struct kiln_trap *trap, struct kiln_error *err)
{
    const struct kiln_module *mod = inst->mod;
    uint32_t i, j;
    for (i = 0; i < mod->nelems; i++) {
        const struct kiln__elem *e = &mod->elems[i];
        if (e->mode == KILN__SEG_ACTIVE) {
            struct kiln_table *t = inst->tables[e->table_idx];
            uint64_t off[2];
            eval_const(inst, &e->offset, off);
            off[0] = (uint32_t)off[0];
            if (off[0] + e->nitems > t->size)
                return set_trap(trap, err, KILN_TRAP_TABLE_OOB, "element segment", i);
            for (j = 0; j < e->nitems; j++) {
                uint64_t v[2];
                eval_const(inst, &e->items[j], v);
                t->elems[off[0] + j] = (void *)(uintptr_t)v[0];
            }
            inst->elem_dropped[i] = 1;
        } else if (e->mode == KILN__SEG_DECLARATIVE) {
            inst->elem_dropped[i] = 1;
        }
    }
    for (i = 0; i < mod->ndatas; i++) {
        const struct kiln__data *d = &mod->datas[i];
        if (d->mode == KILN__SEG_ACTIVE) {
            struct kiln_memory *m = inst->mems[d->mem_idx];
            uint64_t off[2];
            eval_const(inst, &d->offset, off);
            off[0] = (uint32_t)off[0];
            if (off[0] + d->len > m->size)
                return set_trap(trap, err, KILN_TRAP_MEMORY_OOB, "data segment", i);
            if (d->len) memcpy(m->base + off[0], mod->bytes + d->off, d->len);
            inst->data_dropped[i] = 1;
        }
    }
    if (mod->has_start) {
        struct kiln_trap local;
        uint64_t none[2] = {0, 0};
        int rc = call_slots(inst->store, inst->funcs[mod->start], none, none + 1, &local);
        if (rc != 0) {
            if (trap) *trap = local;
            return kiln_error_set(err, KILN_E_TRAP, "start function %u: %s", mod->start, local.msg);
        }
    }
    return 0;
}

#define ALLOC_ARRAY(store, n, type)                                                                \
    ((type *)kiln__store_alloc((store), ((size_t)(n) + 1) * sizeof(type)))

/* Instantiates mod in store (see wasm.h). Errors: KILN_E_ARG, KILN_E_LINK
 * (missing or incompatible import), KILN_E_NOMEM (allocation or a store
 * limit), KILN_E_IO (memory reservation), KILN_E_TRAP (a segment out of
 * bounds or the start function trapped; *trap says which). */
int kiln_instance_new(struct kiln_store *store, const struct kiln_module *mod,
                      const struct kiln_extern *imports, size_t nimports,
                      struct kiln_instance **out, struct kiln_trap *trap, struct kiln_error *err)
{
    struct kiln_instance *inst;
    uint32_t i;
    bool native;
    int rc;

    if (trap) memset(trap, 0, sizeof *trap);
    if (!store || !mod || !out || (nimports && !imports))
        return kiln_error_set(err, KILN_E_ARG, "kiln_instance_new: NULL argument");
    if (nimports < mod->nimports) {
        const struct kiln__import *im = &mod->imports[nimports];
        return kiln_error_set(err, KILN_E_LINK, "import %zu (\"%s\" \"%s\"): unknown import",
                              nimports, im->module, im->name);
    }
    if (nimports > mod->nimports)
        return kiln_error_set(err, KILN_E_ARG, "%zu imports given, the module has %u", nimports,
                              mod->nimports);
    /* (Re)install the fault handler here rather than on every call, in case
     * another component replaced it since the store was created. */
    if (kiln__trap_handler_install() < 0)
        return kiln_error_set(err, KILN_E_IO, "cannot install the memory fault handler");

    /* at least one byte per module type: the aot_key of each function
     * (runtime.h) is an address in this block */
    inst = kiln__store_alloc(store, sizeof *inst > mod->ntypes ? sizeof *inst : mod->ntypes);
    if (!inst) goto nomem;
    inst->store = store;
    inst->mod = mod;
    inst->funcs = ALLOC_ARRAY(store, mod->nfuncs, struct kiln_func *);
    inst->tables = ALLOC_ARRAY(store, mod->ntables, struct kiln_table *);
    inst->mems = ALLOC_ARRAY(store, mod->nmems, struct kiln_memory *);
    inst->globals = ALLOC_ARRAY(store, mod->nglobals, struct kiln_global *);
    inst->type_ids = ALLOC_ARRAY(store, mod->ntypes, uint32_t);
    inst->elem_dropped = ALLOC_ARRAY(store, mod->nelems, uint8_t);
    inst->data_dropped = ALLOC_ARRAY(store, mod->ndatas, uint8_t);
    if (!inst->funcs || !inst->tables || !inst->mems || !inst->globals || !inst->type_ids ||
        !inst->elem_dropped || !inst->data_dropped)
        goto nomem;
    for (i = 0; i < mod->ntypes; i++) {
        inst->type_ids[i] = kiln__store_intern_type(store, &mod->types[i]);
        if (inst->type_ids[i] == UINT32_MAX) goto nomem;
    }

    /* imports */
    for (i = 0; i < mod->nimports; i++) {
        rc = link_import(inst, i, &imports[i], err);
        if (rc < 0) return rc;
    }

    /* defined functions: native code when an object is attached, except
     * that a store with fuel never runs an object without fuel polls
     * (kiln compile --metered): its functions stay interpreted. Interpreted
     * functions need their compiled bodies (deferred with
     * kiln_module_config.defer_compile: compiled now, once per module). */
    native = mod->aot && (!store->cfg.fuel || (mod->aot->flags & KILN_AOT_F_METERED));
    if (!native && mod->nfuncs > mod->nfunc_imports) {
        rc = kiln__module_compile((struct kiln_module *)mod, err);
        if (rc < 0) return rc;
    }
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++) {
        struct kiln_func *f = kiln__store_alloc(store, sizeof *f);
        if (!f) goto nomem;
        f->type_id = inst->type_ids[mod->funcs[i].type_idx];
        f->type = &mod->types[mod->funcs[i].type_idx];
        f->inst = inst;
        f->code = mod->funcs[i].code;
        f->func_idx = i;
        if (native) {
            /* native code: the interpreter reaches it through kiln__call()
             * (it treats a function without code as a host function) */
            f->aot = &mod->aot->funcs[i - mod->nfunc_imports];
            f->aot_native = f->aot->native;
            f->aot_key = (uintptr_t)inst + mod->funcs[i].type_idx;
            f->code = NULL;
            f->host = kiln__aot_host_shim;
        }
        inst->funcs[i] = f;
    }

    /* defined tables and memories */
    for (i = mod->ntable_imports; i < mod->ntables; i++) {
        inst->tables[i] = kiln_table_new(store, mod->tables[i].reftype, &mod->tables[i].limits);
        if (!inst->tables[i])
            return kiln_error_set(err, KILN_E_NOMEM,
                                  "table %u: cannot create %u elements (limit %u)", i,
                                  mod->tables[i].limits.min, store->cfg.max_table_elems);
    }
    for (i = mod->nmem_imports; i < mod->nmems; i++) {
        inst->mems[i] = kiln_memory_new(store, &mod->mems[i].limits, err);
        if (!inst->mems[i]) {
            kiln_error_prefix(err, "memory %u", i);
            return err ? -err->code : -KILN_E_NOMEM;
        }
    }
    if (mod->nmems) {
        inst->mem0 = inst->mems[0];
        inst->mem0_base = inst->mems[0]->base;
    }
    if (mod->ntables) inst->table0 = inst->tables[0];

    /* defined globals, in order (initialisers see imported globals only) */
    for (i = mod->nglobal_imports; i < mod->nglobals; i++) {
        /* a defined global 0 lives in the instance (runtime.h: global0_store) */
        struct kiln_global *g = i == 0 ? &inst->global0_store : kiln__store_alloc(store, sizeof *g);
        if (!g) goto nomem;
        g->type = mod->globals[i].type;
        g->mutable_ = mod->globals[i].mutable_;
        eval_const(inst, &mod->globals[i].init, g->val);
        inst->globals[i] = g;
    }
    if (mod->nglobals) inst->global0 = inst->globals[0];

    rc = initialize(inst, trap, err);
    if (rc < 0) return rc;
    *out = inst;
    return 0;
nomem:
    return kiln_error_set(err, KILN_E_NOMEM, "out of memory instantiating a module");
}

/* Looks up an export by name; false if absent. */
bool kiln_instance_export(const struct kiln_instance *inst, const char *name,
                          struct kiln_extern *out)
{
    const struct kiln_module *mod = inst->mod;
    uint32_t i;
    for (i = 0; i < mod->nexports; i++) {
        const struct kiln__export *ex = &mod->exports[i];
        if (strcmp(ex->name, name) != 0) continue;
        out->kind = ex->kind;
        switch (ex->kind) {
        case KILN_EXTERN_FUNC:
            out->of.func = inst->funcs[ex->index];
            break;
        case KILN_EXTERN_TABLE:
            out->of.table = inst->tables[ex->index];
            break;
        case KILN_EXTERN_MEMORY:
            out->of.memory = inst->mems[ex->index];
            break;
        case KILN_EXTERN_GLOBAL:
            out->of.global = inst->globals[ex->index];
            break;
        }
        return true;
    }
    return false;
}

/* The module the instance was created from. */
const struct kiln_module *kiln_instance_module(const struct kiln_instance *inst)
{
    return inst->mod;
}

/* Memory 0 of the instance, or NULL. */
struct kiln_memory *kiln_instance_memory(const struct kiln_instance *inst)
{
    return inst->mem0;
}
