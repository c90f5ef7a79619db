/*
 * module.c — struct kiln_module life cycle and the import/export queries of
 * include/kiln/wasm.h.
 *
 * A module is created whole by kiln_module_new() (copy the bytes, decode +
 * validate + compile every section in one pass) or not at all; after that it
 * is immutable, so the queries below need no locking.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/wasm.h"
#include "wasm/module.h"

/* Fills cfg with every feature the engine supports. */
void kiln_module_config_default(struct kiln_module_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->simd = true;
    cfg->max_module_bytes = 0;
}

/* Creates a module from a binary (see wasm.h). Errors: KILN_E_ARG (NULL
 * arguments), KILN_E_NOMEM (allocation or max_module_bytes), and whatever
 * kiln__decode() reports (KILN_E_MALFORMED / KILN_E_INVALID). */
int kiln_module_new(const uint8_t *bytes, size_t len, const struct kiln_module_config *cfg,
                    struct kiln_module **out, struct kiln_error *err)
{
    struct kiln_module_config defcfg;
    struct kiln_module *mod = NULL;
    int rc;

    if (!out || (!bytes && len))
        return kiln_error_set(err, KILN_E_ARG, "kiln_module_new: NULL argument");
    if (!cfg) {
        kiln_module_config_default(&defcfg);
        cfg = &defcfg;
    }
    if (cfg->max_module_bytes && len > cfg->max_module_bytes)
        return kiln_error_set(err, KILN_E_NOMEM,
                              "module of %zu bytes exceeds the limit of %llu bytes", len,
                              (unsigned long long)cfg->max_module_bytes);
    if (len > UINT32_MAX)
        return kiln_error_set(err, KILN_E_MALFORMED, "module of %zu bytes is too large", len);
    mod = calloc(1, sizeof *mod);
    if (!mod) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory allocating a module");
        goto fail;
    }
    mod->bytes = malloc(len ? len : 1);
    if (!mod->bytes) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory copying %zu module bytes", len);
        goto fail;
    }
    if (len) memcpy(mod->bytes, bytes, len);
    mod->nbytes = len;
    mod->cfg = *cfg;
    rc = kiln__decode(mod, err);
    if (rc < 0) goto fail;
    *out = mod;
    return 0;
fail:
    kiln__module_destroy(mod);
    return rc;
}

/* Deferred compiles of every module take this lock: they happen once per
 * module, at instantiation, so one lock for all is enough. */
static pthread_mutex_t g_compile_mu = PTHREAD_MUTEX_INITIALIZER;

/* Compiles what cfg.defer_compile left uncompiled (see module.h). */
int kiln__module_compile(struct kiln_module *mod, struct kiln_error *err)
{
    int rc = 0;
    if (!mod->cfg.defer_compile) return 0;
    pthread_mutex_lock(&g_compile_mu);
    for (uint32_t i = mod->nfunc_imports; !mod->compiled && i < mod->nfuncs && rc == 0; i++)
        if (!mod->funcs[i].code) rc = kiln__func_compile(mod, i, err);
    if (rc == 0) mod->compiled = true;
    pthread_mutex_unlock(&g_compile_mu);
    return rc;
}

/* Frees a module (NULL is a no-op). Every store that instantiated it must be
 * freed first. */
void kiln_module_free(struct kiln_module *mod)
{
    kiln__module_destroy(mod);
}

/* Frees everything owned by mod, including partially decoded state after a
 * failed decode, and mod itself (NULL is a no-op). */
void kiln__module_destroy(struct kiln_module *mod)
{
    uint32_t i;
    if (!mod) return;
    if (mod->aot_release) mod->aot_release(mod->aot_owned);
    if (mod->types)
        for (i = 0; i < mod->ntypes; i++)
            free(mod->types[i].types);
    free(mod->types);
    if (mod->imports)
        for (i = 0; i < mod->nimports; i++) {
            free(mod->imports[i].module);
            free(mod->imports[i].name);
        }
    free(mod->imports);
    if (mod->funcs)
        for (i = 0; i < mod->nfuncs; i++) {
            free(mod->funcs[i].local_types);
            kiln__code_free(mod->funcs[i].code);
        }
    free(mod->funcs);
    free(mod->tables);
    free(mod->mems);
    free(mod->globals);
    if (mod->exports)
        for (i = 0; i < mod->nexports; i++)
            free(mod->exports[i].name);
    free(mod->exports);
    if (mod->elems)
        for (i = 0; i < mod->nelems; i++)
            free(mod->elems[i].items);
    free(mod->elems);
    free(mod->datas);
    free(mod->declared_funcs);
    free(mod->bytes);
    free(mod);
}

/* Number of imports. */
uint32_t kiln_module_import_count(const struct kiln_module *mod)
{
    return mod->nimports;
}

static void functype_view(const struct kiln__functype *ft, struct kiln_functype *out)
{
    out->nparams = ft->nparams;
    out->nresults = ft->nresults;
    out->types = ft->types;
}

/* Describes import i (i < kiln_module_import_count()); strings and type
 * arrays are owned by the module. */
void kiln_module_import(const struct kiln_module *mod, uint32_t i, struct kiln_importdesc *out)
{
    const struct kiln__import *im = &mod->imports[i];
    memset(out, 0, sizeof *out);
    out->module = im->module;
    out->name = im->name;
    out->kind = im->kind;
    switch (im->kind) {
    case KILN_EXTERN_FUNC:
        functype_view(&mod->types[mod->funcs[im->index].type_idx], &out->functype);
        break;
    case KILN_EXTERN_TABLE:
        out->valtype = mod->tables[im->index].reftype;
        out->limits = mod->tables[im->index].limits;
        break;
    case KILN_EXTERN_MEMORY:
        out->limits = mod->mems[im->index].limits;
        break;
    case KILN_EXTERN_GLOBAL:
        out->valtype = mod->globals[im->index].type;
        out->mutable_ = mod->globals[im->index].mutable_;
        break;
    }
}

/* Number of exports. */
uint32_t kiln_module_export_count(const struct kiln_module *mod)
{
    return mod->nexports;
}

/* Describes export i (i < kiln_module_export_count()); the name is owned by
 * the module. */
void kiln_module_export(const struct kiln_module *mod, uint32_t i, struct kiln_exportdesc *out)
{
    out->name = mod->exports[i].name;
    out->kind = mod->exports[i].kind;
    out->index = mod->exports[i].index;
}

/* Signature of the function exported as `name`; false if there is no such
 * export or it is not a function. The type array is owned by the module. */
bool kiln_module_export_functype(const struct kiln_module *mod, const char *name,
                                 struct kiln_functype *out)
{
    uint32_t i;
    for (i = 0; i < mod->nexports; i++) {
        const struct kiln__export *ex = &mod->exports[i];
        if (ex->kind == KILN_EXTERN_FUNC && strcmp(ex->name, name) == 0) {
            functype_view(&mod->types[mod->funcs[ex->index].type_idx], out);
            return true;
        }
    }
    return false;
}
