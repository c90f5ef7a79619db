/*
 * aot_test.c — checks of the AOT path (include/kiln/aot.h), one scenario per
 * process (CTest runs each):
 *
 *   aot-test semantics DIR CACHE  main.wasm + other.wasm + shared.wasm (DIR)
 *                                 in all four interp/AOT combinations (main;
 *                                 other and shared), with objects compiled
 *                                 without polls and --metered: every call's
 *                                 outcome (values or trap message) must
 *                                 equal the all-interpreted run; covers host
 *                                 calls, AOT<->interpreter calls across
 *                                 instances, every call_indirect outcome (a
 *                                 function of the same instance, of another
 *                                 instance with its own memory or on the
 *                                 same memory, a host function, a trap in
 *                                 the callee, null, out of bounds, type
 *                                 mismatch), stack
 *                                 exhaustion, fuel (a store with fuel runs an
 *                                 unmetered object interpreted), memory
 *                                 growth, NaN bits, multi-value
 *   aot-test tamper DIR CACHE     a flipped byte, a wrong digest, an object
 *                                 of another module are refused; a missing
 *                                 payload falls back (or is refused when AOT
 *                                 is required)
 *   aot-test unit UNIT TRUSTDIR   a unit signed with `kiln sign --aot`: verify
 *                                 it, load its module.aot region against the
 *                                 signed subject digest (AOT required), run
 *   aot-test noexec DIR CACHE     load, then harden (seccomp no-JIT filter):
 *                                 AOT code still runs, but no new executable
 *                                 mapping (anonymous or a second object) can
 *                                 be made
 *   aot-test segdenied DIR CACHE  the gs base set with arch_prctl, which a
 *                                 seccomp filter then denies: with only
 *                                 ARCH_SET_GS denied the object loads and a
 *                                 call traps (the code never runs with
 *                                 another base); with arch_prctl denied the
 *                                 loader refuses the object
 */
#include <asm/prctl.h>
#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "aot_check.h"
#include "kiln/aot.h"
#include "kiln/unit.h"
#include "kiln/wasm.h"
#include "platform/linux/harden.h"


static struct kiln_module *load_mod(const char *dir, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return aot_load_module(p);
}

static int host_add(struct kiln_caller *c, const uint64_t *a, uint64_t *r, void *env)
{
    (void)env;
    if ((uint32_t)a[0] == 42 && (uint32_t)a[1] == 100)
        return kiln_caller_trap(c, KILN_TRAP_HOST, 0, "host says no to %u", (uint32_t)a[0]);
    r[0] = (uint32_t)(a[0] + a[1]);
    return 0;
}

/* Instantiates mm (other.wasm: its import is host_add) in a new store and
 * calls other(5). Returns kiln_func_call's result (0, or not 0 on a trap; -1 if
 * the instance could not be made, with the reason in trap->msg); the value
 * in *out. */
static int call_other(struct kiln_module *mm, int32_t *out, struct kiln_trap *trap)
{
    struct kiln_store *store = kiln_store_new(NULL);
    uint8_t t2[3] = {KILN_I32, KILN_I32, KILN_I32};
    struct kiln_functype ft = {2, 1, t2};
    struct kiln_extern imp, e;
    struct kiln_instance *inst;
    struct kiln_error err = {0};
    struct kiln_val a = {.type = KILN_I32, .of.i32 = 5}, r = {.type = KILN_I32};
    int rc = -1;
    memset(trap, 0, sizeof *trap);
    imp.kind = KILN_EXTERN_FUNC;
    imp.of.func = kiln_func_new_host(store, &ft, host_add, NULL);
    if (kiln_instance_new(store, mm, &imp, 1, &inst, trap, &err) < 0) {
        snprintf(trap->msg, sizeof trap->msg, "instantiate: %s", err.msg);
    } else {
        kiln_instance_export(inst, "other", &e);
        rc = kiln_func_call(store, e.of.func, &a, 1, &r, 1, trap);
    }
    *out = r.of.i32;
    kiln_store_free(store);
    return rc;
}

/* ---- semantics ------------------------------------------------------------------ */

struct call {
    const char *name;
    int nargs;
    struct kiln_val args[2];
};
#define I32(v) {.type = KILN_I32, .of.i32 = (int32_t)(v)}
#define I64(v) {.type = KILN_I64, .of.i64 = (int64_t)(v)}
#define F32B(v) {.type = KILN_F32, .of.f32 = (uint32_t)(v)}
#define F64B(v) {.type = KILN_F64, .of.f64 = (uint64_t)(v)}

static const struct call calls[] = {
    {"via_host", 1, {I32(5)}},
    {"via_host", 1, {I32(42)}},
    {"via_other", 1, {I32(5)}},
    {"indirect", 2, {I32(0), I32(6)}},
    {"indirect", 2, {I32(1), I32(6)}},
    {"indirect", 2, {I32(2), I32(6)}},
    {"indirect", 2, {I32(3), I32(6)}},
    {"indirect", 2, {I32(9), I32(6)}},
    {"bad_sig", 0, {I32(0)}},
    {"div", 2, {I32(7), I32(2)}},
    {"div", 2, {I32(1), I32(0)}},
    {"div", 2, {I32(INT32_MIN), I32(-1)}},
    {"unreach", 0, {I32(0)}},
    {"recurse", 1, {I32(0)}},
    {"spin", 1, {I32(1000)}},
    {"grow", 1, {I32(1)}},
    {"grow", 1, {I32(10)}},
    {"oob", 1, {I32(0)}},
    {"oob", 1, {I32(65536)}},
    {"store_load", 2, {I32(8), I64(0x1122334455667788ll)}},
    {"glob", 1, {I32(3)}},
    {"fnan", 1, {F32B(0x7fa00000u)}},
    {"fmin", 2, {F64B(0x8000000000000000ull), F64B(0)}},
    {"trunc", 1, {F64B(0x4202a05f20000000ull)}}, /* 1e10 */
    {"trunc", 1, {F64B(0x7ff8000000000000ull)}},
    {"multi", 1, {I32(-3)}},
    {"blocks", 1, {I32(0)}},
    {"blocks", 1, {I32(1)}},
    {"blocks", 1, {I32(2)}},
    /* a store at address 0 the compiler can see (gcc: a null pointer) */
    {"null_store", 1, {I32(0)}},
    {"null_load", 0, {I32(0)}},
    {"null_store", 1, {I32(5)}},
    {"null_load", 0, {I32(0)}},
    {"null_restore", 0, {I32(0)}},
    /* call_indirect: shared.wasm's function on main's memory (it stores x
     * at 32 and returns main's word at 0 + x), the host function itself
     * (and its trap), the boundary index, a mismatch against a host
     * function; a type index of the same signature as the callees' */
    {"indirect", 2, {I32(4), I32(6)}},
    {"mem32", 0, {I32(0)}},
    {"indirect2", 2, {I32(3), I32(4)}},
    {"indirect2", 2, {I32(42), I32(100)}},
    {"indirect", 2, {I32(6), I32(6)}},
    {"indirect", 2, {I32(5), I32(6)}},
    {"indirect_dup", 2, {I32(0), I32(6)}},
    {"indirect_dup", 2, {I32(4), I32(6)}},
    {"via_other", 1, {I32(13)}}, /* a trap in the other instance */
    {"via_other", 1, {I32(6)}},  /* then each instance's memory again */
    {"indirect", 2, {I32(1), I32(7)}},
    {"spin", 1, {I32(1000000)}}, /* with fuel: out of fuel */
};
#define NCALLS (sizeof calls / sizeof calls[0])

static void fmt_vals(char *out, size_t n, const struct kiln_val *v, size_t nv)
{
    size_t off = 0;
    for (size_t i = 0; i < nv && off < n; i++) {
        switch (v[i].type) {
        case KILN_I32: off += snprintf(out + off, n - off, " i32:%" PRId32, v[i].of.i32); break;
        case KILN_I64: off += snprintf(out + off, n - off, " i64:%" PRId64, v[i].of.i64); break;
        case KILN_F32: off += snprintf(out + off, n - off, " f32:%#x", v[i].of.f32); break;
        case KILN_F64: off += snprintf(out + off, n - off, " f64:%#" PRIx64, v[i].of.f64); break;
        default: off += snprintf(out + off, n - off, " ref"); break;
        }
    }
}

/* Runs every call with main (and other) interpreted or AOT; fills out[]. */
static void run_all(const char *dir, const char *cache, bool main_aot, bool other_aot,
                    bool metered, char out[][160])
{
    struct kiln_module *mm = load_mod(dir, "main.wasm"), *om = load_mod(dir, "other.wasm");
    struct kiln_module *sm = load_mod(dir, "shared.wasm");
    struct kiln_error err = {0};
    struct kiln_store_config cfg;
    struct kiln_store *store;
    struct kiln_instance *mi, *oi, *si;
    struct kiln_extern imp[2], simp[3], e;
    uint8_t t2[3] = {KILN_I32, KILN_I32, KILN_I32};
    struct kiln_functype ft = {2, 1, t2};
    struct kiln_trap trap;
    struct kiln_aot_opts o;
    memset(&o, 0, sizeof o);
    o.metered = metered;
    if (main_aot && kiln_aot_compile_cached(mm, cache, &o, &err) < 0) {
        fprintf(stderr, "aot main: %s\n", err.msg);
        exit(1);
    }
    if (other_aot && kiln_aot_compile_cached(om, cache, &o, &err) < 0) {
        fprintf(stderr, "aot other: %s\n", err.msg);
        exit(1);
    }
    if (other_aot && kiln_aot_compile_cached(sm, cache, &o, &err) < 0) {
        fprintf(stderr, "aot shared: %s\n", err.msg);
        exit(1);
    }
    for (int pass = 0; pass < 2; pass++) {
        kiln_store_config_default(&cfg);
        if (pass == 1) cfg.fuel = 100000;
        store = kiln_store_new(&cfg);
        imp[0].kind = KILN_EXTERN_FUNC;
        imp[0].of.func = kiln_func_new_host(store, &ft, host_add, NULL);
        if (kiln_instance_new(store, om, imp, 1, &oi, &trap, &err) < 0) {
            fprintf(stderr, "other: %s\n", err.msg);
            exit(1);
        }
        kiln_instance_export(oi, "other", &imp[1]);
        if (kiln_instance_new(store, mm, imp, 2, &mi, &trap, &err) < 0) {
            fprintf(stderr, "main: %s\n", err.msg);
            exit(1);
        }
        /* shared: main's memory and table; fills table slots 4 and 5 */
        kiln_instance_export(mi, "mem", &simp[0]);
        kiln_instance_export(mi, "tab", &simp[1]);
        simp[2] = imp[0];
        if (kiln_instance_new(store, sm, simp, 3, &si, &trap, &err) < 0) {
            fprintf(stderr, "shared: %s\n", err.msg);
            exit(1);
        }
        for (size_t i = 0; i < NCALLS; i++) {
            struct kiln_val res[4];
            struct kiln_functype f;
            bool last = i == NCALLS - 1;
            if (last != (pass == 1)) continue;
            kiln_instance_export(mi, calls[i].name, &e);
            kiln_func_type(e.of.func, &f);
            memset(&trap, 0, sizeof trap);
            int rc = kiln_func_call(store, e.of.func, calls[i].args, (size_t)calls[i].nargs, res,
                                    f.nresults, &trap);
            if (rc == 0) {
                snprintf(out[i], 160, "ok");
                fmt_vals(out[i] + 2, 158, res, f.nresults);
            } else {
                snprintf(out[i], 160, "trap %d: %s", trap.kind, trap.msg);
            }
        }
        kiln_store_free(store);
    }
    kiln_module_free(mm);
    kiln_module_free(om);
    kiln_module_free(sm);
}

static int t_semantics(const char *dir, const char *cache)
{
    static char base[NCALLS][160], got[NCALLS][160];
    run_all(dir, cache, false, false, false, base);
    for (int combo = 1; combo < 8; combo++) {
        if (!(combo & 3)) continue; /* no AOT side */
        run_all(dir, cache, combo & 1, combo & 2, combo & 4, got);
        for (size_t i = 0; i < NCALLS; i++)
            CHECK(!strcmp(base[i], got[i]), "main %s, other %s%s: %s: interp [%s], got [%s]",
                  combo & 1 ? "aot" : "interp", combo & 2 ? "aot" : "interp",
                  combo & 4 ? " (metered)" : "", calls[i].name, base[i], got[i]);
    }
    for (size_t i = 0; i < NCALLS; i++) printf("%-11s %s\n", calls[i].name, base[i]);
    /* sanity of the baseline itself */
    CHECK(strstr(base[13], "call stack exhausted"), "recurse: %s", base[13]);
    CHECK(strstr(base[1], "host says no to 42"), "host trap: %s", base[1]);
    CHECK(strstr(base[7], "undefined element 9"), "undefined: %s", base[7]);
    CHECK(strstr(base[NCALLS - 1], "out of fuel"), "fuel: %s", base[NCALLS - 1]);
    /* each instance read its own memory: 3*5 + 7 (other's) + 5, + 1000 (main's) */
    CHECK(!strcmp(base[2], "ok i32:1027"), "via_other: %s", base[2]);
    CHECK(strstr(base[NCALLS - 4], "unreachable"), "trap in other: %s", base[NCALLS - 4]);
    CHECK(!strcmp(base[NCALLS - 3], "ok i32:1031"), "via_other after a trap: %s",
          base[NCALLS - 3]);
    /* call_indirect outcomes (the calls before "via_other 13") */
    {
        const size_t k = NCALLS - 4 - 8;
        CHECK(!strcmp(base[3], "ok i32:36"), "indirect, same instance: %s", base[3]);
        CHECK(!strcmp(base[4], "ok i32:31"), "indirect, other instance: %s", base[4]);
        CHECK(strstr(base[6], "uninitialized element 3"), "indirect, null: %s", base[6]);
        CHECK(strstr(base[8], "indirect call type mismatch"), "bad_sig: %s", base[8]);
        CHECK(!strcmp(base[k], "ok i32:1006"), "indirect, shared memory: %s", base[k]);
        CHECK(!strcmp(base[k + 1], "ok i32:6"), "shared wrote main's memory: %s", base[k + 1]);
        CHECK(!strcmp(base[k + 2], "ok i32:7"), "indirect, host function: %s", base[k + 2]);
        CHECK(strstr(base[k + 3], "host says no to 42"), "indirect, host trap: %s", base[k + 3]);
        CHECK(strstr(base[k + 4], "undefined element 6"), "indirect, size: %s", base[k + 4]);
        CHECK(strstr(base[k + 5], "indirect call type mismatch"), "indirect, host type: %s",
              base[k + 5]);
        CHECK(!strcmp(base[k + 6], "ok i32:36"), "indirect, same signature: %s", base[k + 6]);
        CHECK(!strcmp(base[k + 7], "ok i32:1006"), "indirect, same signature, shared: %s",
              base[k + 7]);
    }
    return failures ? 1 : 0;
}

/* ---- tamper ------------------------------------------------------------------------ */

static int t_tamper(const char *dir, const char *cache)
{
    struct kiln_module *mm = load_mod(dir, "main.wasm"), *om = load_mod(dir, "other.wasm");
    struct kiln_error err = {0};
    struct kiln_aot_handle *h = NULL;
    char path[4096], dig[65], note[256];
    uint8_t *obj;
    size_t len;
    int rc;

    snprintf(path, sizeof path, "%s/main.so", cache);
    rc = kiln_aot_compile(mm, path, NULL, &err);
    CHECK(rc == 0, "compile: %s", err.msg);
    obj = aot_read_file(path, &len);
    CHECK(obj != NULL, "read %s", path);
    if (!obj) return 1;
    kiln_sha256_hex(obj, len, dig);

    rc = kiln_aot_load(mm, obj, len, dig, &h, &err);
    CHECK(rc == 0, "genuine object refused: %s", err.msg);
    kiln_aot_free(h);
    h = NULL;

    /* flip one byte in several places: every copy must be refused */
    for (size_t off = 0; off < len; off += len / 7 + 1) {
        obj[off] ^= 0x01;
        memset(&err, 0, sizeof err);
        rc = kiln_aot_load(mm, obj, len, dig, &h, &err);
        CHECK(rc == -KILN_E_VERIFY && h == NULL, "tampered byte %zu accepted (rc %d)", off, rc);
        CHECK(strstr(err.msg, "digest mismatch") != NULL, "message: %s", err.msg);
        obj[off] ^= 0x01;
    }
    /* a wrong expected digest */
    {
        char bad[65];
        memcpy(bad, dig, 65);
        bad[0] = bad[0] == '0' ? '1' : '0';
        rc = kiln_aot_load(mm, obj, len, bad, &h, &err);
        CHECK(rc == -KILN_E_VERIFY, "wrong digest accepted");
    }
    /* the genuine object for another module */
    rc = kiln_aot_load(om, obj, len, dig, &h, &err);
    CHECK(rc == -KILN_E_VERIFY && strstr(err.msg, "compiled from module"),
          "object of another module accepted: %d %s", rc, err.msg);
    /* policy: no payload falls back with a note, or is refused */
    rc = kiln_aot_attach_payload(mm, NULL, 0, NULL, false, &h, note, sizeof note, &err);
    CHECK(rc == 0 && h == NULL && strstr(note, "interpreted"), "fallback: %d %s", rc, note);
    rc = kiln_aot_attach_payload(mm, NULL, 0, NULL, true, &h, note, sizeof note, &err);
    CHECK(rc < 0, "require_aot without payload accepted");
    obj[len / 2] ^= 0x80;
    rc = kiln_aot_attach_payload(mm, obj, len, dig, false, &h, note, sizeof note, &err);
    CHECK(rc == -KILN_E_VERIFY, "tampered payload fell back instead of refusing (%d)", rc);
    obj[len / 2] ^= 0x80;
    rc = kiln_aot_attach_payload(mm, obj, len, dig, true, &h, note, sizeof note, &err);
    CHECK(rc == 0 && h != NULL, "genuine payload: %s", err.msg);
    kiln_module_attach_aot(mm, NULL, NULL);
    kiln_aot_free(h);
    free(obj);
    kiln_module_free(mm);
    kiln_module_free(om);
    if (!failures) printf("tamper: all refusals as expected\n");
    return failures ? 1 : 0;
}

/* ---- noexec ------------------------------------------------------------------------- */

static int t_noexec(const char *dir, const char *cache)
{
    struct kiln_module *mm = load_mod(dir, "other.wasm"), *m2 = load_mod(dir, "main.wasm");
    struct kiln_error err = {0};
    struct kiln_aot_handle *h = NULL, *h2 = NULL;
    struct kiln_harden_result hr;
    char path[4096], dig[65];
    uint8_t *obj;
    size_t len;
    int rc;

    snprintf(path, sizeof path, "%s/other.so", cache);
    CHECK(kiln_aot_compile(mm, path, NULL, &err) == 0, "compile: %s", err.msg);
    obj = aot_read_file(path, &len);
    if (!obj) return 1;
    kiln_sha256_hex(obj, len, dig);
    rc = kiln_aot_load(mm, obj, len, dig, &h, &err);
    CHECK(rc == 0, "load: %s", err.msg);
    kiln_module_attach_aot(mm, h, NULL);

    rc = kiln_platform_harden(KILN_HARDEN_ALL | KILN_HARDEN_MDWE_OPTIONAL, &hr);
    CHECK(rc == 0, "harden: %s: %s", hr.failed ? hr.failed : "?", strerror(-rc));

    /* the loaded code still runs */
    {
        struct kiln_trap trap;
        int32_t v = 0;
        CHECK(call_other(mm, &v, &trap) == 0 && v == 27, "AOT call after hardening: %d (%s)", v,
              trap.msg);
    }
    /* nothing new can become executable */
    {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p == MAP_FAILED && errno == EPERM, "anonymous PROT_EXEC mapping allowed");
        p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED && mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EPERM,
              "RW->RX mprotect allowed");
        rc = kiln_aot_load(mm, obj, len, dig, &h2, &err);
        CHECK(rc < 0, "a second AOT object was mapped after hardening");
        printf("second load after hardening refused: %s\n", err.msg);
    }
    (void)m2;
    free(obj);
    if (!failures) printf("noexec: loaded code runs; no new executable memory\n");
    return failures ? 1 : 0;
}

/* ---- gs base not settable ------------------------------------------------------------ */

/* Denies arch_prctl (only its ARCH_SET_GS operation when set_only) with EPERM. */
static int deny_arch_prctl(bool set_only)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int rc;
    if (!ctx) return -1;
    struct scmp_arg_cmp op = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = ARCH_SET_GS, .datum_b = 0};
    rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(arch_prctl), set_only ? 1 : 0,
                                set_only ? &op : NULL);
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

static int t_segdenied(const char *dir, const char *cache)
{
#if defined(__x86_64__)
    struct kiln_module *mm = load_mod(dir, "other.wasm");
    struct kiln_error err = {0};
    struct kiln_aot_handle *h = NULL, *h2 = NULL;
    char path[4096], dig[65];
    uint8_t *obj;
    size_t len;
    int rc;

    /* before anything runs AOT code in this process: the syscall path */
    setenv("KILN_AOT_SEG", "syscall", 1);
    snprintf(path, sizeof path, "%s/other.so", cache);
    CHECK(kiln_aot_compile(mm, path, NULL, &err) == 0, "compile: %s", err.msg);
    obj = aot_read_file(path, &len);
    if (!obj) return 1;
    kiln_sha256_hex(obj, len, dig);

    /* ARCH_SET_GS denied: the object loads (the probe reads the base), the
     * call traps before any of its code runs */
    CHECK(deny_arch_prctl(true) == 0, "seccomp filter");
    rc = kiln_aot_load(mm, obj, len, dig, &h, &err);
    CHECK(rc == 0, "load with ARCH_GET_GS allowed: %s", err.msg);
    if (rc == 0) {
        struct kiln_trap trap;
        int32_t v = 0;
        kiln_module_attach_aot(mm, h, NULL);
        rc = call_other(mm, &v, &trap);
        CHECK(rc != 0 && strstr(trap.msg, "cannot set the gs base"),
              "call with ARCH_SET_GS denied: rc %d, %s", rc, trap.msg);
        printf("segdenied: call refused: %s\n", trap.msg);
    }

    /* arch_prctl denied altogether: the loader refuses the object */
    CHECK(deny_arch_prctl(false) == 0, "seccomp filter");
    rc = kiln_aot_load(mm, obj, len, dig, &h2, &err);
    CHECK(rc < 0 && strstr(err.msg, "gs segment"), "load with arch_prctl denied: rc %d, %s", rc,
          err.msg);
    printf("segdenied: load refused: %s\n", err.msg);
    free(obj);
    if (!failures) printf("segdenied: AOT code never runs without its memory's gs base\n");
    return failures ? 1 : 0;
#else
    (void)dir;
    (void)cache;
    printf("segdenied: not x86-64, nothing to check\n");
    return 0;
#endif
}

/* ---- signed unit ------------------------------------------------------------------- */

static int t_unit(const char *unit, const char *trustdir)
{
    struct kiln_trust_store *ts = NULL;
    struct kiln_unit *u = NULL;
    struct kiln_module *mod = NULL;
    struct kiln_aot_handle *h = NULL;
    struct kiln_error err = {0};
    enum kiln_refusal why;
    char note[256];
    const char *dig = NULL;
    if (kiln_trust_store_new(&ts, &err) < 0 || kiln_trust_store_load_dir(ts, trustdir, &err) < 0 ||
        kiln_unit_verify_file(unit, ts, &u, &why, &err) < 0) {
        fprintf(stderr, "unit: %s\n", err.msg);
        return 1;
    }
    CHECK(u->aot != NULL, "unit has no module.aot region");
    for (size_t i = 0; i < u->statement.nregions; i++)
        if (u->statement.regions[i].kind == KILN_REGION_AOT) dig = u->statement.sha256[i];
    CHECK(dig != NULL, "no signed digest for module.aot");
    CHECK(kiln_module_new(u->wasm, u->wasm_len, NULL, &mod, &err) == 0, "module: %s", err.msg);
    if (failures) return 1;
    CHECK(kiln_aot_attach_payload(mod, u->aot, u->aot_len, dig, true, &h, note, sizeof note,
                                  &err) == 0 && h,
          "signed payload refused: %s", err.msg);
    {
        struct kiln_trap trap;
        int32_t v = 0;
        CHECK(call_other(mod, &v, &trap) == 0 && v == 27, "call: %d (%s)", v, trap.msg);
    }
    if (!failures) printf("unit: signed module.aot verified, loaded and run (signer %s)\n",
                          u->signer_keyid);
    kiln_module_free(mod);
    kiln_aot_free(h);
    kiln_unit_free(u);
    kiln_trust_store_free(ts);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: aot-test semantics|tamper|noexec WASM_DIR CACHE_DIR\n");
        return 2;
    }
    if (!strcmp(argv[1], "unit")) return t_unit(argv[2], argv[3]);
    if (mkdir(argv[3], 0755) < 0 && errno != EEXIST) {
        perror(argv[3]);
        return 1;
    }
    if (!strcmp(argv[1], "semantics")) return t_semantics(argv[2], argv[3]);
    if (!strcmp(argv[1], "tamper")) return t_tamper(argv[2], argv[3]);
    if (!strcmp(argv[1], "noexec")) return t_noexec(argv[2], argv[3]);
    if (!strcmp(argv[1], "segdenied")) return t_segdenied(argv[2], argv[3]);
    return 2;
}
