/*
 * spectest.c — the "spectest" host module that the spec test suite imports.
 *
 * Exports (as in the reference interpreter, spec/interpreter/host/spectest.ml):
 *   print, print_i32, print_i64, print_f32, print_f64, print_i32_f32,
 *   print_f64_f64          functions with those parameters and no results
 *   global_i32 = 666, global_i64 = 666, global_f32 = 666.6, global_f64 = 666.6
 *                          immutable globals
 *   table                  funcref table, limits 10..20
 *   memory                 memory, limits 1..2 pages
 *
 * The print functions print their arguments only with --verbose, so a test's
 * output stays the runner's own. All objects live in the caller's store;
 * struct spec_host only holds the name -> extern list.
 */
#include "spec/spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct print_fn {
    const char *name;
    uint32_t nparams;
    uint8_t params[2];
};

static const struct print_fn PRINTS[] = {
    {"print", 0, {0}},
    {"print_i32", 1, {KILN_I32}},
    {"print_i64", 1, {KILN_I64}},
    {"print_f32", 1, {KILN_F32}},
    {"print_f64", 1, {KILN_F64}},
    {"print_i32_f32", 2, {KILN_I32, KILN_F32}},
    {"print_f64_f64", 2, {KILN_F64, KILN_F64}},
};

#define NPRINTS (sizeof PRINTS / sizeof PRINTS[0])

struct host_export {
    const char *name;
    struct kiln_extern ext;
};

struct spec_host;

/* env of each print function */
struct print_env {
    const struct print_fn *fn;
    const struct spec_host *host;
};

struct spec_host {
    int verbose;
    struct host_export exports[NPRINTS + 6];
    size_t nexports;
    struct print_env envs[NPRINTS];
};

/* Host function body of every print_*: prints "spectest.NAME(args)". */
static int print_host(struct kiln_caller *caller, const uint64_t *args, uint64_t *results,
                      void *env)
{
    const struct print_env *pe = env;
    const struct print_fn *fn = pe->fn;
    const struct spec_host *host = pe->host;
    uint32_t i;
    (void)caller;
    (void)results;
    if (!host->verbose)
        return 0;
    printf("called host spectest.%s(", fn->name);
    for (i = 0; i < fn->nparams; i++) {
        struct kiln_val v = {.type = fn->params[i]};
        char buf[SPEC_FMT_MAX];
        v.of.i64 = (int64_t)args[i];
        if (v.type == KILN_I32 || v.type == KILN_F32)
            v.of.i32 = (int32_t)(uint32_t)args[i];
        printf("%s%s", i ? ", " : "", spec_val_format(&v, NULL, buf));
    }
    printf(")\n");
    return 0;
}

static void add(struct spec_host *h, const char *name, uint8_t kind, void *obj)
{
    struct host_export *e = &h->exports[h->nexports++];
    e->name = name;
    e->ext.kind = kind;
    switch (kind) {
    case KILN_EXTERN_FUNC:
        e->ext.of.func = obj;
        break;
    case KILN_EXTERN_TABLE:
        e->ext.of.table = obj;
        break;
    case KILN_EXTERN_MEMORY:
        e->ext.of.memory = obj;
        break;
    default:
        e->ext.of.global = obj;
    }
}

static struct kiln_global *const_global(struct kiln_store *store, uint8_t type, uint64_t bits)
{
    struct kiln_val v;
    memset(&v, 0, sizeof v);
    v.type = type;
    if (type == KILN_I32 || type == KILN_F32)
        v.of.i32 = (int32_t)(uint32_t)bits;
    else
        v.of.i64 = (int64_t)bits;
    return kiln_global_new(store, &v, false);
}

/* Creates the spectest objects in store (see spec.h). */
struct spec_host *spec_host_new(struct kiln_store *store, const struct spec_opts *opts,
                                struct kiln_error *err)
{
    struct spec_host *h = calloc(1, sizeof *h);
    struct kiln_limits tlim = {.min = 10, .max = 20, .has_max = true};
    struct kiln_limits mlim = {.min = 1, .max = 2, .has_max = true};
    float f32 = 666.6f;
    double f64 = 666.6;
    uint32_t f32bits;
    uint64_t f64bits;
    struct kiln_table *table;
    struct kiln_memory *mem;
    struct kiln_global *g[4];
    size_t i;

    if (!h) {
        kiln_error_set(err, KILN_E_NOMEM, "spectest: out of memory");
        goto fail;
    }
    h->verbose = opts->verbose;
    for (i = 0; i < NPRINTS; i++) {
        struct kiln_functype ft = {PRINTS[i].nparams, 0, PRINTS[i].params};
        struct kiln_func *f;
        h->envs[i].fn = &PRINTS[i];
        h->envs[i].host = h;
        f = kiln_func_new_host(store, &ft, print_host, &h->envs[i]);
        if (!f) {
            kiln_error_set(err, KILN_E_NOMEM, "spectest: cannot create %s", PRINTS[i].name);
            goto fail;
        }
        add(h, PRINTS[i].name, KILN_EXTERN_FUNC, f);
    }
    memcpy(&f32bits, &f32, 4);
    memcpy(&f64bits, &f64, 8);
    g[0] = const_global(store, KILN_I32, 666);
    g[1] = const_global(store, KILN_I64, 666);
    g[2] = const_global(store, KILN_F32, f32bits);
    g[3] = const_global(store, KILN_F64, f64bits);
    table = kiln_table_new(store, KILN_FUNCREF, &tlim);
    mem = kiln_memory_new(store, &mlim, err);
    if (!g[0] || !g[1] || !g[2] || !g[3] || !table) {
        kiln_error_set(err, KILN_E_NOMEM, "spectest: cannot create globals or table");
        goto fail;
    }
    if (!mem) {
        kiln_error_prefix(err, "spectest: memory");
        goto fail;
    }
    add(h, "global_i32", KILN_EXTERN_GLOBAL, g[0]);
    add(h, "global_i64", KILN_EXTERN_GLOBAL, g[1]);
    add(h, "global_f32", KILN_EXTERN_GLOBAL, g[2]);
    add(h, "global_f64", KILN_EXTERN_GLOBAL, g[3]);
    add(h, "table", KILN_EXTERN_TABLE, table);
    add(h, "memory", KILN_EXTERN_MEMORY, mem);
    return h;
fail:
    free(h);
    return NULL;
}

/* Frees the export list (the objects belong to the store). */
void spec_host_free(struct spec_host *h)
{
    free(h);
}

/* Looks up a spectest export (see spec.h). */
bool spec_host_export(const struct spec_host *h, const char *name, struct kiln_extern *out)
{
    size_t i;
    for (i = 0; i < h->nexports; i++) {
        if (!strcmp(h->exports[i].name, name)) {
            *out = h->exports[i].ext;
            return true;
        }
    }
    return false;
}
