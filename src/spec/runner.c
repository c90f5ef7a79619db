/*
 * runner.c — executes the commands of one wast2json file (see spec.h).
 *
 * State per file: one store; the spectest host module; the instance of the
 * last module command ("current"); named modules ($M, newest first wins);
 * the registry of instances by "as" name (register); every loaded module
 * (freed after the store, which may reference them).
 *
 * Counting: every module command, action and assertion is one check that
 * passes or fails; register counts only when it fails; text modules in
 * assert_malformed / assert_invalid (wast2json cannot turn them into
 * binaries) and unknown command types are skipped. A failing check prints
 * "FILE:LINE: <command>: expected X, got Y" unless --quiet.
 */
#include "spec/spec.h"
#include "kiln/aot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct named {
    char *name;
    struct kiln_instance *inst;
};

struct run {
    const struct spec_opts *opts;
    struct spec_counts *counts;
    char *dir;          /* directory of the JSON file (for .wasm paths) */
    const char *source; /* the .wast name for messages */
    struct kiln_store *store;
    struct spec_host *host;
    struct kiln_instance *current; /* last module instantiated, or NULL */
    struct named *named;           /* $names of module commands */
    size_t nnamed, cap_named;
    struct named *registry; /* register "as" names */
    size_t nregistry, cap_registry;
    struct kiln_module **mods; /* to free after the store */
    size_t nmods, cap_mods;
    /* the command being run */
    long line;
    char desc[SPEC_FMT_MAX]; /* "assert_return \"f\"(i32:1)" for messages */
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "kiln-spec: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static void push_named(struct named **arr, size_t *n, size_t *cap, const char *name,
                       struct kiln_instance *inst)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = xrealloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[*n].name = xstrdup(name);
    (*arr)[*n].inst = inst;
    (*n)++;
}

static struct kiln_instance *find_named(const struct named *arr, size_t n, const char *name)
{
    while (n-- > 0)
        if (!strcmp(arr[n].name, name))
            return arr[n].inst;
    return NULL;
}

static void keep_module(struct run *r, struct kiln_module *mod)
{
    if (r->nmods == r->cap_mods) {
        r->cap_mods = r->cap_mods ? r->cap_mods * 2 : 16;
        r->mods = xrealloc(r->mods, r->cap_mods * sizeof *r->mods);
    }
    r->mods[r->nmods++] = mod;
}

/* ---- outcomes --------------------------------------------------------------- */

/* The --xfail entry for the current command, or NULL. */
static const struct spec_xfail_entry *xfail_entry(const struct run *r)
{
    const struct spec_xfail *x = r->opts->xfail;
    const char *base = strrchr(r->source, '/');
    size_t i;
    base = base ? base + 1 : r->source;
    for (i = 0; x && i < x->n; i++)
        if (x->entries[i].line == r->line && !strcmp(x->entries[i].file, base))
            return &x->entries[i];
    return NULL;
}

static void pass(struct run *r)
{
    const struct spec_xfail_entry *xe = xfail_entry(r);
    if (xe) {
        r->counts->failed++;
        if (!r->opts->quiet)
            printf("%s:%ld: %s: expected a known failure (%s), but it passed\n", r->source,
                   r->line, r->desc, xe->reason);
        return;
    }
    r->counts->passed++;
    if (r->opts->verbose)
        printf("%s:%ld: %s: ok\n", r->source, r->line, r->desc);
}

static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
    const struct spec_xfail_entry *xe = xfail_entry(r);
    va_list ap;
    if (xe) {
        r->counts->xfailed++;
        if (r->opts->verbose) {
            printf("%s:%ld: %s: known failure (%s): ", r->source, r->line, r->desc, xe->reason);
            va_start(ap, fmt);
            vprintf(fmt, ap);
            va_end(ap);
            printf("\n");
        }
        return;
    }
    r->counts->failed++;
    if (r->opts->quiet)
        return;
    printf("%s:%ld: %s: ", r->source, r->line, r->desc);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void skip(struct run *r, const char *why)
{
    r->counts->skipped++;
    if (r->opts->verbose)
        printf("%s:%ld: %s: skipped (%s)\n", r->source, r->line, r->desc, why);
}

/* The trap's message: the engine's text, else the kind's spec wording. */
static const char *trap_text(const struct kiln_trap *trap)
{
    const char *m = trap->msg[0] ? trap->msg : kiln_trap_message(trap->kind);
    return m ? m : "(no message)";
}

/* True when the trap's message starts with the expected text (the reference
 * interpreter's rule), by the engine's text or by the kind's wording. */
static bool trap_matches(const struct kiln_trap *trap, const char *expected)
{
    size_t n;
    const char *kind_msg = kiln_trap_message(trap->kind);
    if (!expected)
        return true;
    n = strlen(expected);
    return !strncmp(trap->msg, expected, n) || (kind_msg && !strncmp(kind_msg, expected, n));
}

static const char *error_kind(int code)
{
    switch (code) {
    case KILN_E_MALFORMED:
        return "malformed";
    case KILN_E_INVALID:
        return "invalid";
    case KILN_E_LINK:
        return "unlinkable";
    case KILN_E_TRAP:
        return "trap";
    case KILN_E_NOMEM:
        return "out of memory";
    default:
        return "error";
    }
}

/* ---- modules ---------------------------------------------------------------- */

/* Reads and decodes filename (relative to the JSON's directory). Returns 0
 * and *out, or negative with *err filled (KILN_E_IO if unreadable). */
static int load_module(struct run *r, const char *filename, struct kiln_module **out,
                       struct kiln_error *err)
{
    char path[4096];
    FILE *f = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0, cap = 0, n;
    struct kiln_module_config cfg;
    int rc;

    if (!filename)
        return kiln_error_set(err, KILN_E_ARG, "command has no filename");
    snprintf(path, sizeof path, "%s/%s", r->dir, filename);
    f = fopen(path, "rb");
    if (!f) {
        rc = kiln_error_sys(err, errno, "%s", path);
        goto fail;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            bytes = xrealloc(bytes, cap);
        }
        n = fread(bytes + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        rc = kiln_error_sys(err, errno, "%s", path);
        goto fail;
    }
    kiln_module_config_default(&cfg);
    rc = kiln_module_new(bytes, len, &cfg, out, err);
    if (rc == 0 && r->opts->aot_cache) {
        /* with --fuel: an object with fuel polls (and the interpreter's
         * depth limit), else the store would interpret it */
        struct kiln_aot_opts ao = {0};
        ao.metered = r->opts->cfg.fuel != 0;
        rc = kiln_aot_compile_cached(*out, r->opts->aot_cache, &ao, err);
        if (rc < 0) {
            kiln_module_free(*out);
            *out = NULL;
        }
    }
fail:
    if (f)
        fclose(f);
    free(bytes);
    return rc;
}

/* Resolves mod's imports from the registry and instantiates it in the
 * store. A missing import is reported as KILN_E_LINK here; everything else
 * (type mismatches included) is the engine's decision. */
static int instantiate(struct run *r, struct kiln_module *mod, struct kiln_instance **out,
                       struct kiln_trap *trap, struct kiln_error *err)
{
    uint32_t i, n = kiln_module_import_count(mod);
    struct kiln_extern *imports = xrealloc(NULL, (n ? n : 1) * sizeof *imports);
    int rc;

    memset(trap, 0, sizeof *trap);
    for (i = 0; i < n; i++) {
        struct kiln_importdesc d;
        struct kiln_instance *from;
        bool found;
        kiln_module_import(mod, i, &d);
        if (!strcmp(d.module, "spectest") && !find_named(r->registry, r->nregistry, d.module)) {
            found = spec_host_export(r->host, d.name, &imports[i]);
        } else {
            from = find_named(r->registry, r->nregistry, d.module);
            found = from && kiln_instance_export(from, d.name, &imports[i]);
        }
        if (!found) {
            rc = kiln_error_set(err, KILN_E_LINK, "unknown import \"%s\".\"%s\"", d.module,
                                d.name);
            goto fail;
        }
    }
    rc = kiln_instance_new(r->store, mod, imports, n, out, trap, err);
fail:
    free(imports);
    return rc;
}

/* ---- actions ------------------------------------------------------------------ */

/* Appends " \"field\"(args)" to r->desc. */
static void describe_action(struct run *r, const json_t *action)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *field = json_string_value(json_object_get(action, "field"));
    const char *module = json_string_value(json_object_get(action, "module"));
    const json_t *args = json_object_get(action, "args");
    size_t i, len = strlen(r->desc);
    char *p = r->desc + len;
    size_t left = sizeof r->desc - len;
    int w;

    w = snprintf(p, left, " %s%s%s \"%s\"", type ? type : "?", module ? " " : "",
                 module ? module : "", field ? field : "?");
    if (w < 0 || (size_t)w >= left)
        return;
    p += w;
    left -= (size_t)w;
    if (type && !strcmp(type, "get"))
        return;
    for (i = 0; i < json_array_size(args) && left > 2; i++) {
        char buf[SPEC_FMT_MAX];
        w = snprintf(p, left, "%s%s", i ? ", " : "(",
                     spec_val_format_expected(json_array_get(args, i), buf));
        if (w < 0 || (size_t)w >= left)
            return;
        p += w;
        left -= (size_t)w;
    }
    snprintf(p, left, "%s", i ? ")" : "()");
}

enum action_outcome { ACT_OK = 0, ACT_TRAP = 1, ACT_ERROR = -1, ACT_SKIP = 2 };

/* Performs an action. On ACT_OK, *results (malloc'd, *nresults long) holds
 * the results; on ACT_TRAP, *trap; on ACT_ERROR, why[] says what went wrong
 * (unknown module or export, bad arguments, engine refusal); on ACT_SKIP,
 * why[] says why the action cannot be expressed through the API (an export
 * name with a NUL byte: the C API takes C strings). */
static enum action_outcome run_action(struct run *r, const json_t *action,
                                      struct kiln_val **results, size_t *nresults,
                                      struct kiln_trap *trap, char *why)
{
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *field = json_string_value(json_object_get(action, "field"));
    const char *module = json_string_value(json_object_get(action, "module"));
    const json_t *jargs = json_object_get(action, "args");
    struct kiln_instance *inst = r->current;
    struct kiln_extern ext;
    struct kiln_functype ft;
    struct kiln_val *args = NULL, *res = NULL;
    size_t i, nargs = json_array_size(jargs);
    enum action_outcome out = ACT_ERROR;
    int rc;

    *results = NULL;
    *nresults = 0;
    memset(trap, 0, sizeof *trap);
    if (module)
        inst = find_named(r->named, r->nnamed, module);
    if (!inst) {
        snprintf(why, SPEC_FMT_MAX, "no module %s", module ? module : "instantiated");
        goto done;
    }
    if (field && json_string_length(json_object_get(action, "field")) != strlen(field)) {
        snprintf(why, SPEC_FMT_MAX, "export name contains a NUL byte");
        return ACT_SKIP;
    }
    if (!field || !kiln_instance_export(inst, field, &ext)) {
        snprintf(why, SPEC_FMT_MAX, "no export \"%s\"", field ? field : "?");
        goto done;
    }
    if (type && !strcmp(type, "get")) {
        if (ext.kind != KILN_EXTERN_GLOBAL) {
            snprintf(why, SPEC_FMT_MAX, "export \"%s\" is not a global", field);
            goto done;
        }
        res = xrealloc(NULL, sizeof *res);
        kiln_global_get(ext.of.global, res);
        *results = res;
        *nresults = 1;
        return ACT_OK;
    }
    if (!type || strcmp(type, "invoke")) {
        snprintf(why, SPEC_FMT_MAX, "unknown action type \"%s\"", type ? type : "(none)");
        goto done;
    }
    if (ext.kind != KILN_EXTERN_FUNC) {
        snprintf(why, SPEC_FMT_MAX, "export \"%s\" is not a function", field);
        goto done;
    }
    kiln_func_type(ext.of.func, &ft);
    if (ft.nparams != nargs) {
        snprintf(why, SPEC_FMT_MAX, "\"%s\" takes %" PRIu32 " arguments, %zu given", field,
                 ft.nparams, nargs);
        goto done;
    }
    args = xrealloc(NULL, (nargs ? nargs : 1) * sizeof *args);
    for (i = 0; i < nargs; i++)
        if (spec_val_parse(json_array_get(jargs, i), &args[i], why) < 0)
            goto done;
    res = xrealloc(NULL, (ft.nresults ? ft.nresults : 1) * sizeof *res);
    memset(res, 0, (ft.nresults ? ft.nresults : 1) * sizeof *res);
    rc = kiln_func_call(r->store, ext.of.func, args, nargs, res, ft.nresults, trap);
    if (rc == 0) {
        *results = res;
        *nresults = ft.nresults;
        res = NULL;
        out = ACT_OK;
    } else if (rc == -KILN_E_TRAP) {
        out = ACT_TRAP;
    } else {
        snprintf(why, SPEC_FMT_MAX, "kiln_func_call refused the call (%d)", rc);
    }
done:
    free(args);
    free(res);
    return out;
}

/* ---- commands -------------------------------------------------------------------- */

static void cmd_module(struct run *r, const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    struct kiln_module *mod = NULL;
    struct kiln_instance *inst = NULL;
    struct kiln_error err = {0};
    struct kiln_trap trap;

    r->current = NULL; /* later commands must not act on an older module */
    if (load_module(r, json_string_value(json_object_get(c, "filename")), &mod, &err) < 0) {
        fail(r, "expected a valid module, got %s: %s", error_kind(err.code), err.msg);
        return;
    }
    keep_module(r, mod);
    if (instantiate(r, mod, &inst, &trap, &err) < 0) {
        if (err.code == KILN_E_TRAP)
            fail(r, "expected instantiation, got trap: %s", trap_text(&trap));
        else
            fail(r, "expected instantiation, got %s: %s", error_kind(err.code), err.msg);
        return;
    }
    r->current = inst;
    if (name)
        push_named(&r->named, &r->nnamed, &r->cap_named, name, inst);
    pass(r);
}

static void cmd_register(struct run *r, const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *as = json_string_value(json_object_get(c, "as"));
    struct kiln_instance *inst = name ? find_named(r->named, r->nnamed, name) : r->current;
    if (!inst || !as) {
        fail(r, "expected a module to register, got none");
        return;
    }
    push_named(&r->registry, &r->nregistry, &r->cap_registry, as, inst);
}

static void cmd_action(struct run *r, const json_t *c)
{
    struct kiln_val *res;
    size_t nres;
    struct kiln_trap trap;
    char why[SPEC_FMT_MAX];
    switch (run_action(r, json_object_get(c, "action"), &res, &nres, &trap, why)) {
    case ACT_SKIP:
        skip(r, why);
        break;
    case ACT_OK:
        pass(r);
        break;
    case ACT_TRAP:
        fail(r, "expected success, got trap: %s", trap_text(&trap));
        break;
    default:
        fail(r, "expected success, got error: %s", why);
    }
    free(res);
}

static void cmd_assert_return(struct run *r, const json_t *c)
{
    const json_t *expected = json_object_get(c, "expected");
    struct kiln_val *res;
    size_t i, nres;
    struct kiln_trap trap;
    char why[SPEC_FMT_MAX], a[SPEC_FMT_MAX], b[SPEC_FMT_MAX];

    switch (run_action(r, json_object_get(c, "action"), &res, &nres, &trap, why)) {
    case ACT_SKIP:
        skip(r, why);
        return;
    case ACT_TRAP:
        fail(r, "expected a return, got trap: %s", trap_text(&trap));
        return;
    case ACT_ERROR:
        fail(r, "expected a return, got error: %s", why);
        return;
    case ACT_OK:
        break;
    }
    if (nres != json_array_size(expected)) {
        fail(r, "expected %zu results, got %zu", json_array_size(expected), nres);
        goto done;
    }
    for (i = 0; i < nres; i++) {
        const json_t *e = json_array_get(expected, i);
        if (!spec_val_match(e, &res[i])) {
            fail(r, "expected %s, got %s (result %zu)", spec_val_format_expected(e, a),
                 spec_val_format(&res[i], e, b), i);
            goto done;
        }
    }
    pass(r);
done:
    free(res);
}

/* assert_trap and assert_exhaustion on an action. */
static void cmd_assert_trap(struct run *r, const json_t *c)
{
    const char *text = json_string_value(json_object_get(c, "text"));
    struct kiln_val *res;
    size_t nres;
    struct kiln_trap trap;
    char why[SPEC_FMT_MAX];

    switch (run_action(r, json_object_get(c, "action"), &res, &nres, &trap, why)) {
    case ACT_SKIP:
        skip(r, why);
        break;
    case ACT_OK:
        fail(r, "expected trap \"%s\", got a return", text ? text : "");
        break;
    case ACT_ERROR:
        fail(r, "expected trap \"%s\", got error: %s", text ? text : "", why);
        break;
    case ACT_TRAP:
        if (trap_matches(&trap, text))
            pass(r);
        else
            fail(r, "expected trap \"%s\", got trap \"%s\"", text ? text : "",
                 trap_text(&trap));
        break;
    }
    free(res);
}

/* assert_invalid (want_code KILN_E_INVALID) and assert_malformed. The module
 * must be rejected; which of the two reasons the engine gives is shown in
 * verbose mode but not judged (a one-pass decoder/validator may find the
 * other problem first, as most engines' runners accept). */
static void cmd_assert_rejected(struct run *r, const json_t *c, int want_code)
{
    const char *mtype = json_string_value(json_object_get(c, "module_type"));
    const char *text = json_string_value(json_object_get(c, "text"));
    struct kiln_module *mod = NULL;
    struct kiln_error err = {0};

    if (mtype && strcmp(mtype, "binary")) {
        skip(r, "text module");
        return;
    }
    if (load_module(r, json_string_value(json_object_get(c, "filename")), &mod, &err) == 0) {
        kiln_module_free(mod);
        fail(r, "expected %s module (\"%s\"), got a valid module",
             want_code == KILN_E_INVALID ? "an invalid" : "a malformed", text ? text : "");
        return;
    }
    if (err.code == KILN_E_IO) {
        fail(r, "expected %s, got error: %s", text ? text : "rejection", err.msg);
        return;
    }
    if (r->opts->verbose)
        printf("%s:%ld: %s: rejected as %s (want \"%s\"): %s\n", r->source, r->line, r->desc,
               error_kind(err.code), text ? text : "", err.msg);
    pass(r);
}

/* assert_unlinkable and assert_uninstantiable. */
static void cmd_assert_instantiate_fails(struct run *r, const json_t *c, int want_code)
{
    const char *text = json_string_value(json_object_get(c, "text"));
    struct kiln_module *mod = NULL;
    struct kiln_instance *inst = NULL;
    struct kiln_error err = {0};
    struct kiln_trap trap;

    if (load_module(r, json_string_value(json_object_get(c, "filename")), &mod, &err) < 0) {
        fail(r, "expected a valid module, got %s: %s", error_kind(err.code), err.msg);
        return;
    }
    keep_module(r, mod);
    if (instantiate(r, mod, &inst, &trap, &err) == 0) {
        fail(r, "expected %s \"%s\", got an instance",
             want_code == KILN_E_LINK ? "link error" : "trap", text ? text : "");
        return;
    }
    if (err.code != want_code) {
        fail(r, "expected %s \"%s\", got %s: %s",
             want_code == KILN_E_LINK ? "link error" : "trap", text ? text : "",
             error_kind(err.code), err.code == KILN_E_TRAP ? trap_text(&trap) : err.msg);
        return;
    }
    if (want_code == KILN_E_TRAP && !trap_matches(&trap, text)) {
        fail(r, "expected trap \"%s\", got trap \"%s\"", text ? text : "", trap_text(&trap));
        return;
    }
    pass(r);
}

static void run_command(struct run *r, const json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    const json_t *action = json_object_get(c, "action");
    const char *filename = json_string_value(json_object_get(c, "filename"));

    r->line = (long)json_integer_value(json_object_get(c, "line"));
    snprintf(r->desc, sizeof r->desc, "%s", type ? type : "(no type)");
    if (action)
        describe_action(r, action);
    else if (filename)
        snprintf(r->desc + strlen(r->desc), sizeof r->desc - strlen(r->desc), " %s", filename);
    if (!type)
        skip(r, "no command type");
    else if (!strcmp(type, "module"))
        cmd_module(r, c);
    else if (!strcmp(type, "register"))
        cmd_register(r, c);
    else if (!strcmp(type, "action"))
        cmd_action(r, c);
    else if (!strcmp(type, "assert_return"))
        cmd_assert_return(r, c);
    else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion"))
        cmd_assert_trap(r, c);
    else if (!strcmp(type, "assert_invalid"))
        cmd_assert_rejected(r, c, KILN_E_INVALID);
    else if (!strcmp(type, "assert_malformed"))
        cmd_assert_rejected(r, c, KILN_E_MALFORMED);
    else if (!strcmp(type, "assert_unlinkable"))
        cmd_assert_instantiate_fails(r, c, KILN_E_LINK);
    else if (!strcmp(type, "assert_uninstantiable"))
        cmd_assert_instantiate_fails(r, c, KILN_E_TRAP);
    else
        skip(r, "unknown command type");
}

/* Runs every command of the file (see spec.h). */
int spec_run_file(const char *path, const struct spec_opts *opts, struct spec_counts *counts)
{
    struct run r;
    json_error_t jerr;
    json_t *root = NULL;
    const json_t *commands;
    struct kiln_error err = {0};
    const char *slash;
    size_t i;
    int rc = -1;

    memset(&r, 0, sizeof r);
    r.opts = opts;
    r.counts = counts;
    root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        fprintf(stderr, "kiln-spec: %s:%d: %s\n", path, jerr.line, jerr.text);
        goto fail;
    }
    commands = json_object_get(root, "commands");
    if (!json_is_array(commands)) {
        fprintf(stderr, "kiln-spec: %s: no \"commands\" array (not wast2json output?)\n", path);
        goto fail;
    }
    slash = strrchr(path, '/');
    r.dir = slash ? strndup(path, (size_t)(slash - path)) : xstrdup(".");
    if (!r.dir)
        goto fail;
    r.source = json_string_value(json_object_get(root, "source_filename"));
    if (!r.source)
        r.source = path;
    r.store = kiln_store_new(&opts->cfg);
    if (!r.store) {
        fprintf(stderr, "kiln-spec: cannot create a store\n");
        goto fail;
    }
    r.host = spec_host_new(r.store, opts, &err);
    if (!r.host) {
        fprintf(stderr, "kiln-spec: %s\n", err.msg);
        goto fail;
    }
    for (i = 0; i < json_array_size(commands); i++)
        run_command(&r, json_array_get(commands, i));
    rc = 0;
fail:
    spec_host_free(r.host);
    kiln_store_free(r.store);
    for (i = 0; i < r.nmods; i++)
        kiln_module_free(r.mods[i]);
    for (i = 0; i < r.nnamed; i++)
        free(r.named[i].name);
    for (i = 0; i < r.nregistry; i++)
        free(r.registry[i].name);
    free(r.mods);
    free(r.named);
    free(r.registry);
    free(r.dir);
    json_decref(root);
    return rc;
}

/* Reads a known-failures file (see spec.h). */
struct spec_xfail *spec_xfail_load(const char *path)
{
    FILE *f = fopen(path, "r");
    struct spec_xfail *x = NULL;
    char buf[1024];
    long lineno = 0;

    if (!f) {
        fprintf(stderr, "kiln-spec: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    x = xrealloc(NULL, sizeof *x);
    x->n = 0;
    x->entries = NULL;
    while (fgets(buf, sizeof buf, f)) {
        char *p = buf, *start, *colon, *end;
        struct spec_xfail_entry *e;
        long line;
        lineno++;
        buf[strcspn(buf, "\n")] = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        start = p;
        end = p + strcspn(p, " \t");
        colon = memchr(p, ':', (size_t)(end - p));
        if (!colon || colon == p) {
            fprintf(stderr, "kiln-spec: %s:%ld: expected FILE:LINE reason\n", path, lineno);
            goto fail;
        }
        errno = 0;
        line = strtol(colon + 1, &p, 10);
        if (errno || p != end || line <= 0) {
            fprintf(stderr, "kiln-spec: %s:%ld: bad line number\n", path, lineno);
            goto fail;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        x->entries = xrealloc(x->entries, (x->n + 1) * sizeof *x->entries);
        e = &x->entries[x->n++];
        e->file = strndup(start, (size_t)(colon - start));
        e->line = line;
        e->reason = xstrdup(*p ? p : "no reason given");
        if (!e->file) {
            fprintf(stderr, "kiln-spec: out of memory\n");
            goto fail;
        }
    }
    fclose(f);
    return x;
fail:
    fclose(f);
    spec_xfail_free(x);
    return NULL;
}

/* Frees a list from spec_xfail_load (NULL is a no-op). */
void spec_xfail_free(struct spec_xfail *x)
{
    size_t i;
    if (!x)
        return;
    for (i = 0; i < x->n; i++) {
        free(x->entries[i].file);
        free(x->entries[i].reason);
    }
    free(x->entries);
    free(x);
}
