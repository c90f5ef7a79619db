/*
 * aot_chase_test.c — the translator's analyses: pointer-chasing loads
 * (src/wasm/aot/translate_chase.c) on tests/aot/chase.wat, and demanded
 * bits of constants (translate_bits.c) on tests/aot/bits.wat:
 *
 *   aot-chase-test [chase] WASM CACHE
 *   aot-chase-test bits WASM CACHE
 *
 * chase:
 * 1. every export named c<N>_... has exactly N loads found to chase;
 * 2. the generated C of c1_reverse loads through the host base (kx_lh_)
 *    and of c0_sum only through the segment;
 * 3. a fixed sequence of calls (building a list and a tree, walking,
 *    reversing and splicing them with stores in the chasing loops, then a
 *    chase that traps out of bounds) gives the same results and traps
 *    interpreted and AOT-compiled (CACHE: kiln_aot_compile_cached).
 * bits:
 * 1. every export named b<N>_... has exactly N constants changed;
 * 2. every export, called with edge values (0, 1, -1, 0x7fffffff,
 *    0x80000000, 0xffff, 0x8000, 0xa001, 0x12345678), returns the same
 *    interpreted and AOT-compiled.
 * Exit 0 when all hold; each failure is printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot_check.h"
#include "kiln/aot.h"
#include "kiln/wasm.h"
#include "wasm/aot/aot_internal.h"
#include "wasm/module.h"

static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

static uint32_t export_func(const struct kiln_module *m, const char *name)
{
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == KILN_EXTERN_FUNC && !strcmp(m->exports[i].name, name))
            return m->exports[i].index;
    fprintf(stderr, "no export %s\n", name);
    exit(1);
}

/* Exports named <prefix><N>_...: the analysis finds N items. */
static void check_counts(const struct kiln_module *m, char prefix)
{
    for (uint32_t i = 0; i < m->nexports; i++) {
        const struct kiln__export *e = &m->exports[i];
        uint32_t *offs = NULL, n = 0, want;
        struct kiln__aot_const *consts = NULL;
        int rc;
        if (e->kind != KILN_EXTERN_FUNC || e->name[0] != prefix) continue;
        want = (uint32_t)strtoul(e->name + 1, NULL, 10);
        rc = prefix == 'c' ? kiln__aot_find_chases(m, e->index, &offs, &n)
                           : kiln__aot_narrow_consts(m, e->index, &consts, &n);
        if (rc < 0) {
            FAIL("%s: out of memory", e->name);
            continue;
        }
        if (n != want)
            FAIL("%s: %" PRIu32 " %s, expected %" PRIu32, e->name, n,
                 prefix == 'c' ? "chasing loads found" : "constants changed", want);
        else
            printf("ok %s: %" PRIu32 " %s\n", e->name, n,
                   prefix == 'c' ? "chasing loads" : "constants changed");
        for (uint32_t k = 0; consts && k < n; k++)
            printf("   constant at 0x%" PRIx32 " -> 0x%" PRIx64 "\n", consts[k].off, consts[k].val);
        free(offs);
        free(consts);
    }
}

/* The C text of defined function f (from "f<f>(" or "fl<f>(" to the next
 * blank line) in the translation of m. */
static void check_c(const struct kiln_module *m)
{
    struct kiln__sb part = {0};
    struct kiln_error err = {0};
    const char *names[2] = {"c1_reverse", "c0_sum"};
    if (kiln__aot_translate(m, "0000000000000000000000000000000000000000000000000000000000000000",
                            1, &part, &err) < 0) {
        FAIL("translate: %s", err.msg);
        return;
    }
    for (int k = 0; k < 2; k++) {
        char head[64];
        uint32_t f = export_func(m, names[k]);
        const char *s, *end;
        snprintf(head, sizeof head, "fl%" PRIu32 "(struct kiln_instance *inst", f);
        s = strstr(part.s, head);
        if (s) s = strstr(s + 1, head); /* the definition follows the prototype */
        end = s ? strstr(s, "\n\n") : NULL;
        if (!s || !end) {
            FAIL("%s: no definition %s in the generated C", names[k], head);
            continue;
        }
        bool host = memmem(s, (size_t)(end - s), "kx_lh_", 6) != NULL;
        if (host != (k == 0)) FAIL("%s: host-base loads %s", names[k], host ? "present" : "absent");
        else printf("ok %s: %s\n", names[k], host ? "kx_lh_ loads" : "segment loads only");
    }
    kiln__sb_free(&part);
}

struct call {
    const char *name;
    int nargs;
    int32_t a[2];
};

/* A list of 40 at 1024 (walk position k: node 7k mod 40, data 11k mod 17;
 * its tail is node 33, at 1552), a tree of 31 at 8192, an index table at
 * 16384. Data 5 is at position 2, 0 at 0, 16 at 3. */
static const struct call script[] = {
    {"c0_init", 1, {40}},          {"c1_find", 2, {1024, 5}},      {"c1_find", 2, {1024, 99}},
    {"c1_reverse", 1, {1024}},     {"c1_find", 2, {1552, 5}},      {"c0_sum", 2, {1024, 160}},
    {"c1_reverse", 1, {1552}},     {"c1_find", 2, {1024, 16}},     {"c1_skip", 1, {1024}},
    {"c1_find", 2, {1024, 16}},    {"c1_skip", 1, {1024}},         {"c1_find", 2, {1024, 0}},
    {"c0_long", 1, {1024}},        {"c0_tree_init", 1, {31}},      {"c2_tree", 2, {8192, 0x0}},
    {"c2_tree", 2, {8192, 0x1f}},  {"c2_tree", 2, {8192, 0x15}},   {"c0_index_init", 0, {0}},
    {"c1_index", 2, {3, 1000}},    {"c0_param", 2, {3, 1000}},     {"c0_sum", 2, {1024, 4096}},
    {"c1_oob", 1, {1024}},
};
#define NSCRIPT (sizeof script / sizeof script[0])

static struct kiln_instance *instantiate(struct kiln_module *m, struct kiln_store **store)
{
    struct kiln_store_config cfg;
    struct kiln_instance *inst;
    struct kiln_error err = {0};
    struct kiln_trap trap;
    kiln_store_config_default(&cfg);
    *store = kiln_store_new(&cfg);
    if (!*store || kiln_instance_new(*store, m, NULL, 0, &inst, &trap, &err) < 0) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        exit(1);
    }
    return inst;
}

/* bits: every b* export with every edge value (1 or 2 i32 parameters),
 * interpreted and AOT, the same results */
static void run_bits(struct kiln_module *interp, struct kiln_module *aot)
{
    static const int32_t edge[] = {0, 1, -1, 0x7fffffff, INT32_MIN, 0xffff, 0x8000, 0xa001,
                                   0x12345678};
    const size_t ne = sizeof edge / sizeof edge[0];
    struct kiln_store *sa, *sb;
    struct kiln_instance *ia = instantiate(interp, &sa), *ib = instantiate(aot, &sb);
    unsigned compared = 0;
    for (uint32_t i = 0; i < interp->nexports; i++) {
        const struct kiln__export *ex = &interp->exports[i];
        struct kiln_extern ea, eb;
        struct kiln_functype ft;
        if (ex->kind != KILN_EXTERN_FUNC || ex->name[0] != 'b') continue;
        kiln_instance_export(ia, ex->name, &ea);
        kiln_instance_export(ib, ex->name, &eb);
        kiln_func_type(ea.of.func, &ft);
        for (size_t x = 0; x < ne; x++) {
            for (size_t y = 0; y < (ft.nparams > 1 ? ne : 1); y++) {
                struct kiln_val args[2], ra, rb;
                struct kiln_trap ta, tb;
                int ca, cb;
                args[0].type = args[1].type = KILN_I32;
                args[0].of.i32 = edge[x];
                args[1].of.i32 = edge[y];
                memset(&ta, 0, sizeof ta);
                memset(&tb, 0, sizeof tb);
                ca = kiln_func_call(sa, ea.of.func, args, ft.nparams, &ra, 1, &ta);
                cb = kiln_func_call(sb, eb.of.func, args, ft.nparams, &rb, 1, &tb);
                compared++;
                if (ca != cb || (ca == 0 && ra.of.i32 != rb.of.i32))
                    FAIL("%s(%#x, %#x): interpreted %d/%#x, AOT %d/%#x", ex->name,
                         (unsigned)edge[x], (unsigned)edge[y], ca, (unsigned)ra.of.i32, cb,
                         (unsigned)rb.of.i32);
            }
        }
    }
    printf("bits: %u calls compared\n", compared);
    kiln_store_free(sa);
    kiln_store_free(sb);
}

static void run(struct kiln_module *m, char out[][128])
{
    struct kiln_store_config cfg;
    struct kiln_store *store;
    struct kiln_instance *inst;
    struct kiln_error err = {0};
    struct kiln_trap trap;
    kiln_store_config_default(&cfg);
    store = kiln_store_new(&cfg);
    if (!store || kiln_instance_new(store, m, NULL, 0, &inst, &trap, &err) < 0) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        exit(1);
    }
    for (size_t i = 0; i < NSCRIPT; i++) {
        struct kiln_extern e;
        struct kiln_val args[2], res[1];
        for (int k = 0; k < script[i].nargs; k++) {
            args[k].type = KILN_I32;
            args[k].of.i32 = script[i].a[k];
        }
        kiln_instance_export(inst, script[i].name, &e);
        memset(&trap, 0, sizeof trap);
        if (kiln_func_call(store, e.of.func, args, (size_t)script[i].nargs, res, 1, &trap) == 0)
            snprintf(out[i], 128, "ok %" PRId32, res[0].of.i32);
        else
            snprintf(out[i], 128, "trap %d: %s", trap.kind, trap.msg);
    }
    kiln_store_free(store);
}

int main(int argc, char **argv)
{
    struct kiln_module *interp, *aot;
    struct kiln_error err = {0};
    struct kiln_aot_opts o;
    static char a[NSCRIPT][128], b[NSCRIPT][128];
    bool bits = argc == 4 && !strcmp(argv[1], "bits");
    if (argc == 4 && (bits || !strcmp(argv[1], "chase"))) {
        argv++;
        argc--;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: aot-chase-test [chase|bits] WASM CACHE\n");
        return 2;
    }
    interp = aot_load_module(argv[1]);
    aot = aot_load_module(argv[1]);
    check_counts(interp, bits ? 'b' : 'c');
    if (!bits) check_c(interp);
    memset(&o, 0, sizeof o);
    if (kiln_aot_compile_cached(aot, argv[2], &o, &err) < 0) {
        fprintf(stderr, "aot: %s\n", err.msg);
        return 1;
    }
    if (bits) {
        run_bits(interp, aot);
        goto done;
    }
    run(interp, a);
    run(aot, b);
    for (size_t i = 0; i < NSCRIPT; i++) {
        if (strcmp(a[i], b[i]))
            FAIL("%s(%" PRId32 "): interpreted %s, AOT %s", script[i].name, script[i].a[0], a[i],
                 b[i]);
        else printf("ok %s(%" PRId32 ", %" PRId32 "): %s\n", script[i].name, script[i].a[0],
                    script[i].a[1], a[i]);
    }
    if (strncmp(b[NSCRIPT - 1], "trap", 4)) FAIL("c1_oob did not trap: %s", b[NSCRIPT - 1]);
done:
    kiln_module_free(interp);
    kiln_module_free(aot);
    if (failures) fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
