/*
 * fuzz_run.c — libFuzzer target: instantiate a module with dummy imports and
 * call every exported function with zero arguments.
 *
 * Limits keep each input short: a fuel budget for the store, a 16 MiB
 * memory cap, a small table cap and call depth. Dummy imports: functions
 * return zeros, globals hold zero (mutability as declared), tables and
 * memories are created with the declared limits (an import the caps do not
 * allow just skips the input).
 *
 * Checks beyond "no crash, no sanitizer report": instantiation fails only
 * with KILN_E_LINK / KILN_E_TRAP / KILN_E_NOMEM; a call returns 0 or
 * -KILN_E_TRAP with a known trap kind that our host functions cannot cause.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUEL 200000
#define MAX_MEMORY (16u << 20)
#define MAX_TABLE 10000
#define MAX_DEPTH 500
#define MAX_VALS 1024 /* params / results we are willing to build */

/* Host function for every imported function: all results zero. */
static int zero_fn(struct kiln_caller *caller, const uint64_t *args, uint64_t *results,
                   void *env)
{
    uintptr_t nslots = (uintptr_t)env;
    (void)caller;
    (void)args;
    memset(results, 0, nslots * sizeof *results);
    return 0;
}

static uint32_t slots(const struct kiln_functype *ft)
{
    uint32_t i, n = 0;
    for (i = 0; i < ft->nresults; i++)
        n += ft->types[ft->nparams + i] == KILN_V128 ? 2 : 1;
    return n;
}

/* Makes a dummy for import d; false if it cannot (limits beyond our caps). */
static bool dummy(struct kiln_store *store, const struct kiln_importdesc *d,
                  struct kiln_extern *out)
{
    struct kiln_error err;
    out->kind = d->kind;
    switch (d->kind) {
    case KILN_EXTERN_FUNC:
        out->of.func = kiln_func_new_host(store, &d->functype, zero_fn,
                                          (void *)(uintptr_t)slots(&d->functype));
        return out->of.func != NULL;
    case KILN_EXTERN_GLOBAL: {
        struct kiln_val v;
        memset(&v, 0, sizeof v);
        v.type = d->valtype;
        out->of.global = kiln_global_new(store, &v, d->mutable_);
        return out->of.global != NULL;
    }
    case KILN_EXTERN_TABLE:
        if (d->limits.min > MAX_TABLE)
            return false;
        out->of.table = kiln_table_new(store, d->valtype, &d->limits);
        return out->of.table != NULL;
    case KILN_EXTERN_MEMORY:
        if ((uint64_t)d->limits.min * KILN_WASM_PAGE_SIZE > MAX_MEMORY)
            return false;
        out->of.memory = kiln_memory_new(store, &d->limits, &err);
        return out->of.memory != NULL;
    default:
        abort(); /* the decoder accepted an unknown import kind */
    }
}

static void call_exports(struct kiln_store *store, const struct kiln_module *mod,
                         struct kiln_instance *inst)
{
    static struct kiln_val args[MAX_VALS], res[MAX_VALS];
    uint32_t i, j, n = kiln_module_export_count(mod);
    for (i = 0; i < n; i++) {
        struct kiln_exportdesc e;
        struct kiln_extern ext;
        struct kiln_functype ft;
        struct kiln_trap trap;
        int rc;
        kiln_module_export(mod, i, &e);
        if (e.kind != KILN_EXTERN_FUNC)
            continue;
        if (!kiln_instance_export(inst, e.name, &ext) || ext.kind != KILN_EXTERN_FUNC)
            abort(); /* the module lists an export the instance lacks */
        kiln_func_type(ext.of.func, &ft);
        if (ft.nparams > MAX_VALS || ft.nresults > MAX_VALS)
            continue;
        memset(args, 0, sizeof args);
        for (j = 0; j < ft.nparams; j++)
            args[j].type = ft.types[j];
        memset(&trap, 0, sizeof trap);
        rc = kiln_func_call(store, ext.of.func, args, ft.nparams, res, ft.nresults, &trap);
        if (rc == 0)
            continue;
        if (rc != -KILN_E_TRAP)
            abort();
        if (trap.kind <= KILN_TRAP_NONE || trap.kind >= KILN_TRAP__COUNT ||
            trap.kind == KILN_TRAP_HOST || trap.kind == KILN_TRAP_EXIT ||
            trap.kind == KILN_TRAP_INTERRUPTED)
            abort();
        if (trap.kind == KILN_TRAP_OUT_OF_FUEL)
            return; /* the budget is spent for the whole store */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kiln_module *mod = NULL;
    struct kiln_store *store = NULL;
    struct kiln_instance *inst = NULL;
    struct kiln_extern *imports = NULL;
    struct kiln_store_config cfg;
    struct kiln_error err = {0};
    struct kiln_trap trap;
    uint32_t i, nimports;
    int rc;

    if (kiln_module_new(data, size, NULL, &mod, &err) < 0)
        return 0;
    kiln_store_config_default(&cfg);
    cfg.fuel = FUEL;
    cfg.max_memory_bytes = MAX_MEMORY;
    cfg.max_table_elems = MAX_TABLE;
    cfg.max_call_depth = MAX_DEPTH;
    cfg.value_stack_bytes = 1u << 20;
    store = kiln_store_new(&cfg);
    if (!store)
        goto done;
    nimports = kiln_module_import_count(mod);
    imports = calloc(nimports + 1, sizeof *imports);
    if (!imports)
        goto done;
    for (i = 0; i < nimports; i++) {
        struct kiln_importdesc d;
        kiln_module_import(mod, i, &d);
        if (!dummy(store, &d, &imports[i]))
            goto done;
    }
    memset(&trap, 0, sizeof trap);
    rc = kiln_instance_new(store, mod, imports, nimports, &inst, &trap, &err);
    if (rc < 0) {
        if (err.code != KILN_E_LINK && err.code != KILN_E_TRAP && err.code != KILN_E_NOMEM)
            abort();
        goto done;
    }
    call_exports(store, mod, inst);
done:
    free(imports);
    kiln_store_free(store);
    kiln_module_free(mod);
    return 0;
}
