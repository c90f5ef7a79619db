/*
 * unit_load_test.c — kiln_unit_module_load (include/kiln/unit_load.h), the
 * loader every runner uses, on real signed units built here with a fresh
 * key (one scenario per process; CTest runs each, label "aot"):
 *
 *   unit-load-test SCENARIO WORKDIR HELLO.wasm OTHER.wasm
 *
 *   attached   a unit with its AOT object: the object is attached (the
 *              module runs native code), the guest runs and prints its line,
 *              the audit log has "aot" status "attached" and no fallback
 *   fallback   a unit without module.aot: interpreter, audit "interpreter"
 *              with the reason; the guest still runs
 *   require    the same unit under {"engine":{"requireAot":true}}: refused
 *              (KILN_E_DENIED) with a message naming $.engine.requireAot,
 *              audit "refused"; the policy member's accessor and its errors
 *              (JSON path named)
 *   target     a unit whose signed manifest says another CPU: falls back
 *              with the reason; refused under requireAot
 *   abi        a signed object built for another engine AOT ABI (the kept C
 *              recompiled with another ABI number): falls back with the
 *              loader's reason; refused under requireAot
 *   othermod   a properly signed unit whose AOT object was compiled from
 *              another module: refused (KILN_E_VERIFY) even without
 *              requireAot
 *   tamper     a byte of the AOT payload changed after verification (the
 *              bytes the loader gets differ from the signed digest): refused
 *              (KILN_E_VERIFY) whatever the policy; a unit file with a
 *              changed module.aot byte is refused by the verifier
 *   noexec     load through the unit path, then harden (seccomp no-JIT):
 *              the native code still runs, nothing new can be mapped
 *              executable (anonymous, RW->RX, a second AOT object)
 *   fuel       kiln_unit_module_load_ex for a store with fuel: an object
 *              without fuel polls (the default) falls back to the
 *              interpreter with the reason in the audit log, is refused
 *              under requireAot; an object compiled --metered is attached;
 *              the guest runs with fuel either way
 *
 * AOT objects are compiled once into WORKDIR/cache (keyed by module digest,
 * AOT ABI and this test binary).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aot_check.h"
#include "kiln/aot.h"
#include "kiln/unit.h"
#include "kiln/unit_load.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "platform/linux/harden.h"
#include "wasm/module.h"


static const char *work;
static struct kiln_seckey key;
static struct kiln_trust_store *ts;

static uint8_t *read_file(const char *path, size_t *len)
{
    uint8_t *b = NULL;
    struct kiln_error err = {0};
    if (kiln_trust_read_file(path, (uint64_t)1 << 30, &b, len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    return b;
}

/* The AOT object of wasm (compiled once into WORKDIR/cache, per engine
 * AOT ABI), with fuel polls if metered. */
static uint8_t *aot_object_mode(const uint8_t *wasm, size_t wasm_len, bool metered, size_t *len)
{
    char dig[65], dir[4096], path[4200];
    struct kiln_error err = {0};
    struct kiln_aot_opts o;
    memset(&o, 0, sizeof o);
    o.metered = metered;
    kiln_sha256_hex(wasm, wasm_len, dig);
    snprintf(dir, sizeof dir, "%s/cache", work);
    (void)mkdir(dir, 0755);
    {
        /* keyed by this binary too: a rebuilt engine may have other struct
         * layouts under the same ABI number (the loader would refuse the
         * old object and the unit would run interpreted) */
        struct stat st;
        unsigned long long id = 0;
        if (stat("/proc/self/exe", &st) == 0)
            id = (unsigned long long)st.st_mtime ^ (unsigned long long)st.st_size << 32;
        snprintf(path, sizeof path, "%s/%s-abi%u-%llx%s.so", dir, dig, kiln_aot_abi(), id,
                 metered ? "-metered" : "");
    }
    if (access(path, R_OK) != 0) {
        struct kiln_module *m = NULL;
        if (kiln_module_new(wasm, wasm_len, NULL, &m, &err) < 0 ||
            kiln_aot_compile(m, path, &o, &err) < 0) {
            fprintf(stderr, "compile: %s\n", err.msg);
            exit(1);
        }
        kiln_module_free(m);
    }
    return read_file(path, len);
}

static uint8_t *aot_object(const uint8_t *wasm, size_t wasm_len, size_t *len)
{
    return aot_object_mode(wasm, wasm_len, false, len);
}

/* Builds and verifies a unit of wasm with (optionally) obj as module.aot,
 * described as built for target. */
static struct kiln_unit *make_unit(const uint8_t *wasm, size_t wasm_len, const uint8_t *obj,
                                   size_t obj_len, const char *target, uint8_t **file,
                                   size_t *file_len)
{
    struct kiln_manifest m;
    struct kiln_unit_input in;
    const struct kiln_seckey *keys[1] = {&key};
    struct kiln_error err = {0};
    struct kiln_unit *u = NULL;
    uint8_t *data = NULL, *copy;
    size_t len = 0, stub_len = 0;
    uint8_t *stub = read_file("/proc/self/exe", &stub_len);
    memset(&m, 0, sizeof m);
    m.format_version = KILN_FORMAT_VERSION;
    m.engine_version = KILN_ENGINE_VERSION;
    m.tool_version = (char *)"unit-load-test";
    m.guest_abi = (char *)"wasi_snapshot_preview1";
    m.source_path = (char *)"/app/hello";
    m.source_kind = (char *)"wasm";
    kiln_sha256_hex(wasm, wasm_len, m.source_sha256);
    if (obj) {
        m.has_aot = true;
        m.aot_target = (char *)target;
        m.aot_compiler = (char *)"cc -O2";
    }
    memset(&in, 0, sizeof in);
    in.stub = stub, in.stub_len = stub_len;
    in.wasm = wasm, in.wasm_len = wasm_len;
    in.aot = obj, in.aot_len = obj_len;
    in.manifest = &m;
    in.keys = keys, in.nkeys = 1;
    if (kiln_unit_build(&in, &data, &len, &err) < 0) {
        fprintf(stderr, "build: %s\n", err.msg);
        exit(1);
    }
    free(stub);
    copy = malloc(len);
    memcpy(copy, data, len);
    if (kiln_unit_verify(copy, len, ts, &u, NULL, &err) < 0) {
        fprintf(stderr, "verify: %s\n", err.msg);
        exit(1);
    }
    if (file) {
        *file = data;
        *file_len = len;
    } else {
        free(data);
    }
    return u;
}

/* A vkernel whose audit log is WORKDIR/NAME.audit and stdout WORKDIR/NAME.out. */
static struct kiln_vk *new_vk(const char *name)
{
    struct kiln_vk *vk = NULL;
    struct kiln_error err = {0};
    char p[4200];
    int fd;
    snprintf(p, sizeof p, "%s/%s.audit", work, name);
    unlink(p);
    if (kiln_vk_new(&vk, &err) < 0 || kiln_vk_open_audit(vk, p, &err) < 0) {
        fprintf(stderr, "vk: %s\n", err.msg);
        exit(1);
    }
    snprintf(p, sizeof p, "%s/%s.out", work, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || kiln_vk_install_fd(vk, 1, fd, 0) < 0) {
        perror(p);
        exit(1);
    }
    return vk;
}

/* The contents of WORKDIR/NAME.EXT (malloc'd, NUL-terminated). */
static char *slurp(const char *name, const char *ext)
{
    char p[4200];
    size_t len;
    snprintf(p, sizeof p, "%s/%s.%s", work, name, ext);
    return (char *)read_file(p, &len);
}

/* The fuel the next expect() loads and runs with (0 = none). */
static uint64_t g_fuel;

/* Runs mod's _start on vk (with g_fuel); returns the exit status. */
static int run(struct kiln_vk *vk, const struct kiln_module *mod)
{
    struct kiln_wasi *w = NULL;
    struct kiln_store_config cfg;
    struct kiln_store *store;
    struct kiln_error err = {0};
    struct kiln_trap trap;
    char *argv[] = {(char *)"hello", NULL};
    int r;
    kiln_store_config_default(&cfg);
    cfg.fuel = g_fuel;
    store = kiln_store_new(&cfg);
    memset(&trap, 0, sizeof trap);
    if (kiln_wasi_new(vk, 1, argv, 0, NULL, &w, &err) < 0) {
        fprintf(stderr, "wasi: %s\n", err.msg);
        exit(1);
    }
    r = kiln_wasi_run(w, store, mod, &trap, &err);
    if (r < 0) fprintf(stderr, "run: %s\n", err.msg);
    kiln_wasi_free(w);
    kiln_store_free(store);
    return r;
}

/* The AOT object of wasm built for AOT ABI 999: kiln_aot_compile keeps its
 * C, which is recompiled with the descriptor's ABI number changed. */
static uint8_t *other_abi_object(const uint8_t *wasm, size_t wasm_len, size_t *len)
{
    static const char marker[] = "KILN_AOT_MAGIC, KILN_AOT_ABI,";
    char keep[4096], c[4200], c2[4200], so[4200], out[4200], cmd[20000];
    struct kiln_module *m = NULL;
    struct kiln_aot_opts o;
    struct kiln_error err = {0};
    size_t clen;
    char *text, *at;
    FILE *f;
    memset(&o, 0, sizeof o);
    snprintf(keep, sizeof keep, "%s/keep", work);
    snprintf(c, sizeof c, "%s/part0.c", keep);
    snprintf(c2, sizeof c2, "%s/abi999.c", keep);
    snprintf(so, sizeof so, "%s/ref.so", work);
    snprintf(out, sizeof out, "%s/abi999.so", work);
    o.keep_c_dir = keep;
    o.parts = 1;
    if (kiln_module_new(wasm, wasm_len, NULL, &m, &err) < 0 ||
        kiln_aot_compile(m, so, &o, &err) < 0) {
        fprintf(stderr, "compile: %s\n", err.msg);
        exit(1);
    }
    kiln_module_free(m);
    text = (char *)read_file(c, &clen);
    at = strstr(text, marker);
    if (at == NULL) {
        fprintf(stderr, "%s: the descriptor initializer '%s' is not there (translator changed?)\n",
                c, marker);
        exit(1);
    }
    f = fopen(c2, "w");
    if (f == NULL) {
        perror(c2);
        exit(1);
    }
    fprintf(f, "%.*sKILN_AOT_MAGIC, 999u,%s", (int)(at - text), text, at + strlen(marker));
    fclose(f);
    free(text);
    snprintf(cmd, sizeof cmd,
             "cc -O0 -fPIC -shared -fvisibility=hidden -I'%s/include' '%s' -o '%s' -lm", keep, c2,
             out);
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        exit(1);
    }
    return read_file(out, len);
}

static struct kiln_vk_policy *policy(const char *json)
{
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err = {0};
    if (kiln_vk_policy_parse(json, strlen(json), "test.json", &p, &err) < 0) {
        fprintf(stderr, "policy: %s\n", err.msg);
        exit(1);
    }
    return p;
}

#define REQUIRE                                                                                    \
    "{\"engine\":{\"requireAot\":true},\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}"
#define PREFER                                                                                     \
    "{\"engine\":{\"requireAot\":false},\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}"

/* Loads u under pol_json (NULL: no policy) and checks the outcome:
 * want_rc 0 -> loads, aot says whether native code is attached, the guest
 * runs; else the error code; audit_status must appear in the log. */
static void expect(const char *name, struct kiln_unit *u, const char *pol_json, int want_rc,
                   bool aot, const char *audit_status, const char *msg_part)
{
    struct kiln_vk *vk = new_vk(name);
    struct kiln_vk_policy *pol = pol_json ? policy(pol_json) : NULL;
    struct kiln_module *mod = NULL;
    struct kiln_aot_handle *h = NULL;
    struct kiln_error err = {0};
    char want[64], *log, *out;
    struct kiln_unit_load_opts lo = {.fuel = g_fuel};
    int rc = kiln_unit_module_load_ex(u, pol, vk, &lo, &mod, &h, &err);
    if (want_rc == 0) {
        CHECK(rc == 0, "%s: load failed: %s", name, err.msg);
        if (rc == 0) {
            CHECK((h != NULL) == aot && (mod->aot != NULL) == aot,
                  "%s: expected %s, got handle %p, module aot %p", name,
                  aot ? "native code" : "the interpreter", (void *)h, (const void *)mod->aot);
            CHECK(run(vk, mod) == 0, "%s: guest did not exit 0", name);
            out = slurp(name, "out");
            CHECK(strcmp(out, "aot unit ok\n") == 0, "%s: guest printed '%s'", name, out);
            free(out);
        }
    } else {
        CHECK(rc == -want_rc, "%s: expected error %d, got %d (%s)", name, want_rc, rc, err.msg);
        CHECK(mod == NULL && h == NULL, "%s: outputs set on failure", name);
        if (msg_part)
            CHECK(strstr(err.msg, msg_part) != NULL, "%s: message '%s' lacks '%s'", name, err.msg,
                  msg_part);
        printf("%s: refused: %s\n", name, err.msg);
    }
    kiln_module_free(mod);
    kiln_aot_free(h);
    kiln_vk_free(vk);
    kiln_vk_policy_free(pol);
    log = slurp(name, "audit");
    snprintf(want, sizeof want, "\"event\":\"aot\",\"status\":\"%s\"", audit_status);
    CHECK(strstr(log, want) != NULL, "%s: audit log lacks %s:\n%s", name, want, log);
    if (want_rc == KILN_E_DENIED)
        CHECK(strstr(log, "\"event\":\"deny\",\"call\":\"aot\",\"errno\":\"EACCES\","
                          "\"rule\":\"$.engine.requireAot\"") != NULL,
              "%s: no deny event for the requireAot refusal:\n%s", name, log);
    if (strcmp(audit_status, "attached") == 0)
        CHECK(strstr(log, "\"status\":\"interpreter\"") == NULL, "%s: fallback note in %s", name,
              log);
    if (msg_part && want_rc == 0)
        CHECK(strstr(log, msg_part) != NULL, "%s: audit log lacks '%s':\n%s", name, msg_part, log);
    if (!failures) printf("%s: ok; audit: %s", name, strstr(log, "\"event\":\"aot\""));
    free(log);
}

int main(int argc, char **argv)
{
    struct kiln_error err = {0};
    uint8_t *hello, *other, *obj, *oobj;
    size_t hello_len, other_len, obj_len, oobj_len;
    const char *sc;
    if (argc != 5) {
        fprintf(stderr, "usage: unit-load-test SCENARIO WORKDIR HELLO.wasm OTHER.wasm\n");
        return 2;
    }
    sc = argv[1];
    work = argv[2];
    if (mkdir(work, 0755) < 0 && errno != EEXIST) {
        perror(work);
        return 1;
    }
    if (kiln_key_generate(&key, &err) < 0 || kiln_trust_store_new(&ts, &err) < 0 ||
        kiln_trust_store_add(ts, &key.pub, "test", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    hello = read_file(argv[3], &hello_len);
    other = read_file(argv[4], &other_len);
    obj = aot_object(hello, hello_len, &obj_len);

    if (!strcmp(sc, "attached")) {
        struct kiln_unit *u = make_unit(hello, hello_len, obj, obj_len, kiln_aot_target(), NULL, 0);
        expect("attached", u, NULL, 0, true, "attached", NULL);
        expect("attached-prefer", u, PREFER, 0, true, "attached", NULL);
        expect("attached-require", u, REQUIRE, 0, true, "attached", NULL);
        /* aot_out == NULL: the module owns the handle */
        {
            struct kiln_module *mod = NULL;
            CHECK(kiln_unit_module_load(u, NULL, NULL, &mod, NULL, &err) == 0 && mod->aot,
                  "owned: %s", err.msg);
            kiln_module_free(mod);
        }
        kiln_unit_free(u);
    } else if (!strcmp(sc, "fuel")) {
        size_t mobj_len;
        uint8_t *mobj = aot_object_mode(hello, hello_len, true, &mobj_len);
        struct kiln_unit *u = make_unit(hello, hello_len, obj, obj_len, kiln_aot_target(), NULL, 0);
        struct kiln_unit *mu =
            make_unit(hello, hello_len, mobj, mobj_len, kiln_aot_target(), NULL, 0);
        g_fuel = (uint64_t)1 << 40;
        expect("fuel-unmetered", u, PREFER, 0, false, "interpreter", "no fuel polls");
        expect("fuel-unmetered-require", u, REQUIRE, KILN_E_DENIED, false, "refused",
               "no fuel polls");
        expect("fuel-metered", mu, REQUIRE, 0, true, "attached", NULL);
        g_fuel = 0;
        expect("nofuel-unmetered", u, REQUIRE, 0, true, "attached", NULL);
        expect("nofuel-metered", mu, NULL, 0, true, "attached", NULL);
        kiln_unit_free(u);
        kiln_unit_free(mu);
        free(mobj);
    } else if (!strcmp(sc, "fallback")) {
        struct kiln_unit *u = make_unit(hello, hello_len, NULL, 0, NULL, NULL, 0);
        expect("fallback", u, NULL, 0, false, "interpreter", NULL);
        expect("fallback-prefer", u, PREFER, 0, false, "interpreter", NULL);
        kiln_unit_free(u);
    } else if (!strcmp(sc, "require")) {
        struct kiln_unit *u = make_unit(hello, hello_len, NULL, 0, NULL, NULL, 0);
        expect("require", u, REQUIRE, KILN_E_DENIED, false, "refused", "$.engine.requireAot");
        kiln_unit_free(u);
        /* the policy member: accessor and errors naming the JSON path */
        {
            static const struct {
                const char *json, *msg;
            } bad[] = {
                {"{\"engine\":{\"requireAot\":1}}", "$.engine.requireAot: expected true or false"},
                {"{\"engine\":{\"requireAOT\":true}}", "$.engine.requireAOT: unknown member"},
                {"{\"engine\":true}", "$.engine: expected an object"},
            };
            struct kiln_vk_policy *p = policy(REQUIRE);
            CHECK(kiln_vk_policy_require_aot(p), "requireAot true not seen");
            kiln_vk_policy_free(p);
            p = policy(PREFER);
            CHECK(!kiln_vk_policy_require_aot(p) && !kiln_vk_policy_require_aot(NULL),
                  "requireAot false / no policy");
            kiln_vk_policy_free(p);
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                p = NULL;
                memset(&err, 0, sizeof err);
                CHECK(kiln_vk_policy_parse(bad[i].json, strlen(bad[i].json), "p.json", &p, &err) <
                              0 &&
                          strstr(err.msg, bad[i].msg) != NULL,
                      "policy %s: '%s'", bad[i].json, err.msg);
                kiln_vk_policy_free(p);
            }
        }
    } else if (!strcmp(sc, "target")) {
        struct kiln_unit *u =
            make_unit(hello, hello_len, obj, obj_len, "aarch64-linux-gnu", NULL, 0);
        expect("target", u, NULL, 0, false, "interpreter", NULL);
        expect("target-require", u, REQUIRE, KILN_E_DENIED, false, "refused", "aarch64-linux-gnu");
        kiln_unit_free(u);
    } else if (!strcmp(sc, "abi")) {
        size_t alen;
        uint8_t *aobj = other_abi_object(hello, hello_len, &alen);
        struct kiln_unit *u = make_unit(hello, hello_len, aobj, alen, kiln_aot_target(), NULL, 0);
        expect("abi", u, NULL, 0, false, "interpreter", NULL);
        expect("abi-require", u, REQUIRE, KILN_E_DENIED, false, "refused", "not usable here");
        kiln_unit_free(u);
        free(aobj);
    } else if (!strcmp(sc, "othermod")) {
        struct kiln_unit *u;
        oobj = aot_object(other, other_len, &oobj_len);
        u = make_unit(hello, hello_len, oobj, oobj_len, kiln_aot_target(), NULL, 0);
        expect("othermod", u, NULL, KILN_E_VERIFY, false, "refused", "module.aot");
        expect("othermod-prefer", u, PREFER, KILN_E_VERIFY, false, "refused", "module.aot");
        kiln_unit_free(u);
        free(oobj);
    } else if (!strcmp(sc, "tamper")) {
        uint8_t *file = NULL, *copy;
        size_t flen = 0;
        struct kiln_unit *u =
            make_unit(hello, hello_len, obj, obj_len, kiln_aot_target(), &file, &flen);
        struct kiln_unit *bad = NULL;
        enum kiln_refusal why = KILN_REFUSAL_NONE;
        /* the bytes handed to the loader no longer match the signed digest */
        ((uint8_t *)u->aot)[u->aot_len / 2] ^= 0x01;
        expect("tamper", u, NULL, KILN_E_VERIFY, false, "refused", "module.aot");
        expect("tamper-prefer", u, PREFER, KILN_E_VERIFY, false, "refused", "module.aot");
        kiln_unit_free(u);
        /* the same change in the file: the verifier refuses the unit */
        copy = malloc(flen);
        memcpy(copy, file, flen);
        {
            size_t i, off = 0;
            struct kiln_unit_footer f;
            CHECK(kiln_unit_footer_parse(copy, flen, &f, &err) == 0, "footer: %s", err.msg);
            for (i = 0; i < f.region_count; i++)
                if (f.regions[i].kind == KILN_REGION_AOT)
                    off = f.regions[i].offset + f.regions[i].length / 2;
            CHECK(off != 0, "no module.aot region");
            copy[off] ^= 0x01;
        }
        CHECK(kiln_unit_verify(copy, flen, ts, &bad, &why, &err) < 0 &&
                  why == KILN_REFUSAL_DIGEST_MISMATCH,
              "a unit file with a changed module.aot byte verified (%s)", err.msg);
        printf("tamper: unit file refused: %s\n", err.msg);
        free(file);
    } else if (!strcmp(sc, "noexec")) {
        struct kiln_unit *u = make_unit(hello, hello_len, obj, obj_len, kiln_aot_target(), NULL, 0);
        struct kiln_vk *vk = new_vk("noexec");
        struct kiln_module *mod = NULL, *m2 = NULL;
        struct kiln_aot_handle *h = NULL, *h2 = NULL;
        struct kiln_harden_result hr;
        int rc = kiln_unit_module_load(u, NULL, vk, &mod, &h, &err);
        CHECK(rc == 0 && h != NULL, "load: %s", err.msg);
        rc = kiln_platform_harden(KILN_HARDEN_ALL | KILN_HARDEN_MDWE_OPTIONAL, &hr);
        CHECK(rc == 0, "harden: %s: %s", hr.failed ? hr.failed : "?", strerror(-rc));
        if (!failures) {
            char *out;
            void *p;
            CHECK(run(vk, mod) == 0, "the native code does not run after hardening");
            out = slurp("noexec", "out");
            CHECK(strcmp(out, "aot unit ok\n") == 0, "guest printed '%s'", out);
            free(out);
            p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHECK(p == MAP_FAILED && errno == EPERM, "anonymous PROT_EXEC mapping allowed");
            p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHECK(p != MAP_FAILED && mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EPERM,
                  "RW->RX mprotect allowed");
            /* a second unit load cannot map its object any more: refused,
             * never silently interpreted when AOT is required */
            {
                struct kiln_vk_policy *pol = policy(REQUIRE);
                rc = kiln_unit_module_load(u, pol, NULL, &m2, &h2, &err);
                CHECK(rc < 0, "a second AOT object was mapped after hardening");
                printf("noexec: second load after hardening refused: %s\n", err.msg);
                kiln_vk_policy_free(pol);
            }
        }
        kiln_module_free(mod);
        kiln_aot_free(h);
        kiln_vk_free(vk);
        kiln_unit_free(u);
        if (!failures)
            printf("noexec: native code runs after hardening; no new executable memory\n");
    } else {
        fprintf(stderr, "unknown scenario %s\n", sc);
        return 2;
    }
    free(hello);
    free(other);
    free(obj);
    kiln_trust_store_free(ts);
    kiln_key_wipe(&key);
    return failures ? 1 : 0;
}
