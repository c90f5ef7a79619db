/*
 * convert.c — `kiln convert IMAGE -o OUT --key KEY`: a container image in, a
 * signed image out (DESIGN.md §1, docs/image.md).
 *
 *   open + extract (digests checked) -> analyze -> policy (draft or --policy)
 *   -> every wasm module with a supported ABI becomes a signed unit at the
 *   same path (stub + module + policy, kiln_unit_build) -> everything else is
 *   reported per file with the reason -> the entrypoint must be converted
 *   unless --allow-native -> image attestation (in-toto statement over every
 *   unit and the policy, DSSE-signed) -> new OCI layout: original layers +
 *   one layer holding the units, /.kiln/policy.json, /.kiln/attestation.json
 *   and /.kiln/report.json; the attestation also as an OCI 1.1 referrer.
 *
 * Each unit is verified against the signing keys before it is emitted.
 *
 * --aot: every module that becomes a unit is also compiled ahead of time
 * (kiln_aot_compile: wasm -> C -> cc -O2 -> shared object) and the object is
 * packed into the unit as its module.aot region, with the target triple and
 * the compiler identity in the signed manifest (docs/aot.md "AOT in units";
 * --metered compiles objects with fuel and interrupt polls, and the
 * identity then ends in " --metered").
 * Objects are cached in DIR/<module sha256>-<fingerprint>.so, where the
 * fingerprint covers this kiln binary (translator), the AOT ABI, the target
 * and the compiler identity, so a second convert reuses them and any change
 * of tool or compiler recompiles. The cache must be a directory owned by
 * this user and not writable by others: its objects get signed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/command.h"
#include "cmd/image_cmd.h"
#include "kiln/aot.h"
#include "kiln/image.h"
#include "kiln/unit.h"
#include "kiln/wasm.h"

#define MAX_KEYS 8
#define TOOL_VERSION "kiln 0.1.0"
#define IMAGE_PREDICATE "https://kiln.dev/image/v1"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kiln convert [options] IMAGE[:REF] -o OUT --key KEY.pem\n\n"
            "Turns every wasm module of IMAGE into a signed unit at the same path and writes a\n"
            "new OCI image (layout directory, or a tar with --format oci-archive) with a new\n"
            "top layer, the policy and a signed image attestation (also an OCI 1.1 referrer).\n"
            "What cannot be converted yet is reported per file; the entrypoint must be\n"
            "converted unless --allow-native.\n\n"
            "  -o, --output OUT     output path (must not exist)\n"
            "  --key KEY.pem        Ed25519 private key (repeat for several signatures)\n"
            "  --format F           oci (default) | oci-archive\n"
            "  --tag T              ref name of the converted image (default: the source's, or "
            "latest)\n"
            "  --policy FILE        policy to embed (default: the draft from kiln analyze)\n"
            "  --stub FILE          loader stub (default: kiln-stub next to this kiln)\n"
            "  --allow-native       emit the image even if the entrypoint stays native\n"
            "  --aot                also compile every unit's module ahead of time (cc -O2) and\n"
            "                       sign the native object into the unit (docs/aot.md)\n"
            "  --aot-cache DIR      AOT object cache (default: $XDG_CACHE_HOME/kiln/aot or\n"
            "                       ~/.cache/kiln/aot)\n"
            "  --metered            with --aot: objects poll for interruption and count fuel\n"
            "                       like the interpreter (kiln compile --metered; slower)\n"
            "  --json               print the conversion report as JSON\n" KILN_IMAGE_OPTIONS_HELP);
}

static int default_stub(char *out, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = 0;
    if (snprintf(out, n, "%s/kiln-stub", dirname(self)) >= (int)n) return -1;
    return access(out, R_OK) == 0 ? 0 : -1;
}

/* Reads rootfs/path (beneath the rootfs dirfd) into a malloc'd buffer. */
static int read_beneath(int rootfd, const char *path, uint8_t **out, size_t *len)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    struct stat st;
    int fd = (int)syscall(SYS_openat2, rootfd, path[0] == '/' ? path + 1 : path, &how, sizeof how);
    if (fd < 0) return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1ll << 31)) {
        close(fd);
        return -EINVAL;
    }
    uint8_t *b = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (b && got < (size_t)st.st_size) {
        ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
        if (r <= 0) {
            free(b);
            b = NULL;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    if (!b) return -EIO;
    *out = b;
    *len = got;
    return 0;
}

static const char *why_native(const struct kiln_analysis_file *f, char *buf, size_t n)
{
    switch (f->kind) {
    case KILN_KIND_WASM:
        if (!f->error && f->abi && *f->abi)
            snprintf(buf, n,
                     "wasm module without an execute bit (data for another program?): "
                     "left unchanged");
        else if (f->error)
            snprintf(buf, n, "wasm module does not validate: %s", f->error);
        else
            snprintf(buf, n, "wasm module without a supported guest ABI (no %s imports)",
                     "wasi_snapshot_preview1");
        break;
    case KILN_KIND_ELF:
        snprintf(buf, n, "native ELF (%s, %s): translation to wasm is not available yet",
                 kiln_elf_machine_name(f->elf_machine),
                 f->elf_link == KILN_ELF_STATIC       ? "static"
                 : f->elf_link == KILN_ELF_DYNAMIC    ? "dynamic"
                 : f->elf_link == KILN_ELF_STATIC_PIE ? "static-pie"
                 : f->elf_link == KILN_ELF_SHARED     ? "shared library"
                                                      : "other");
        break;
    case KILN_KIND_SCRIPT:
        snprintf(buf, n, "script for %s: interpreter polyfills are not available yet",
                 f->interp ? f->interp : "?");
        break;
    default:
        snprintf(buf, n, "not a program kiln can convert");
        break;
    }
    return buf;
}

/* ---- --aot ---------------------------------------------------------------- */

extern char **environ;

/* State of --aot for one conversion. */
struct aot_ctx {
    int on;
    int metered;        /* kiln_aot_opts.metered (--metered) */
    int tty;            /* progress on stderr */
    char dir[PATH_MAX]; /* the object cache */
    char compiler[256]; /* "cc (Debian 12.2.0-14) 12.2.0 -O2", for the manifest
                           (+ " --metered" for objects with fuel polls) */
    char fp[17];        /* cache key part: tool, ABI, target, compiler */
    const char *path;   /* the file being compiled (progress) */
    double compile_s;   /* cold compile time, seconds */
    size_t compiled, cached;
};

/* The first line of `cc --version` (run with an argument vector, no shell). */
static int compiler_identity(char *out, size_t n)
{
    char *const av[] = {(char *)"cc", (char *)"--version", NULL};
    posix_spawn_file_actions_t fa;
    int p[2], st = 0;
    pid_t pid;
    size_t got = 0;
    out[0] = 0;
    if (pipe2(p, O_CLOEXEC) < 0) return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    if (posix_spawnp(&pid, "cc", &fa, NULL, av, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(p[0]);
        close(p[1]);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    while (got + 1 < n) {
        ssize_t r = read(p[0], out + got, n - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    out[got] = 0;
    close(p[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    out[strcspn(out, "\n")] = 0;
    return out[0] && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Makes (if needed) and checks the cache directory: ours, not writable by
 * others, since what it holds gets signed. */
static int aot_cache_dir(struct aot_ctx *a, const char *opt)
{
    struct stat st;
    char tmp[PATH_MAX], *q;
    if (opt)
        snprintf(a->dir, sizeof a->dir, "%s", opt);
    else {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (x && *x)
            snprintf(a->dir, sizeof a->dir, "%s/kiln/aot", x);
        else
            snprintf(a->dir, sizeof a->dir, "%s/.cache/kiln/aot", home && *home ? home : "/tmp");
    }
    snprintf(tmp, sizeof tmp, "%s", a->dir);
    for (q = tmp + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            (void)mkdir(tmp, 0700);
            *q = '/';
        }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "kiln convert: --aot-cache %s: %s\n", a->dir, strerror(errno));
        return -1;
    }
    if (lstat(a->dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022)) {
        fprintf(stderr,
                "kiln convert: --aot-cache %s: must be a directory owned by this user and not "
                "writable by group or others (its objects get signed)\n",
                a->dir);
        return -1;
    }
    return 0;
}

/* Sets up --aot: compiler identity, cache directory, cache fingerprint. */
static int aot_init(struct aot_ctx *a, const char *cache, struct kiln_error *err)
{
    char id[200], self[65], key[1024];
    uint8_t *exe = NULL;
    size_t exe_len = 0;
    if (compiler_identity(id, sizeof id) < 0) {
        fprintf(stderr, "kiln convert: --aot needs a C compiler: `cc --version` failed\n");
        return -1;
    }
    snprintf(a->compiler, sizeof a->compiler, "%s -O2%s", id, a->metered ? " --metered" : "");
    if (aot_cache_dir(a, cache) < 0) return -1;
    /* the translator is part of this binary: its digest keys the cache */
    if (kiln_trust_read_file("/proc/self/exe", (uint64_t)1 << 30, &exe, &exe_len, err) < 0) {
        fprintf(stderr, "kiln convert: %s\n", err->msg);
        return -1;
    }
    kiln_sha256_hex(exe, exe_len, self);
    free(exe);
    snprintf(key, sizeof key, "kiln-aot-cache 1\nabi %u\ntarget %s\ncompiler %s\nkiln %s\n",
             (unsigned)kiln_aot_abi(), kiln_aot_target(), a->compiler, self);
    kiln_sha256_hex((const uint8_t *)key, strlen(key), self);
    snprintf(a->fp, sizeof a->fp, "%.16s", self);
    return 0;
}

static void aot_progress(void *arg, const char *msg)
{
    struct aot_ctx *a = arg;
    if (a->tty) fprintf(stderr, "\r%-70.70s\r  aot %.40s: %.25s", "", a->path, msg);
}

/* The AOT object of one module: from the cache, or compiled into it.
 * Returns 0 and a malloc'd object, or -1 after printing why. */
static int aot_object(struct aot_ctx *a, const char *path, const uint8_t *wasm, size_t wasm_len,
                      uint8_t **obj, size_t *obj_len, struct kiln_error *err)
{
    char digest[65], file[PATH_MAX + 100];
    kiln_sha256_hex(wasm, wasm_len, digest);
    snprintf(file, sizeof file, "%s/%s-%s.so", a->dir, digest, a->fp);
    if (access(file, R_OK) != 0) {
        struct kiln_module *mod = NULL;
        struct kiln_aot_opts o;
        struct timespec t0, t1;
        int r;
        memset(&o, 0, sizeof o);
        o.metered = a->metered != 0;
        o.progress = aot_progress;
        o.progress_arg = a;
        a->path = path;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (kiln_module_new(wasm, wasm_len, NULL, &mod, err) < 0) {
            kiln_error_prefix(err, "%s", path);
            return -1;
        }
        r = kiln_aot_compile(mod, file, &o, err); /* temp file + rename */
        kiln_module_free(mod);
        if (r < 0) {
            kiln_error_prefix(err, "%s: --aot", path);
            return -1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        a->compile_s += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        a->compiled++;
    } else {
        a->cached++;
    }
    if (kiln_trust_read_file(file, (uint64_t)1 << 31, obj, obj_len, err) < 0) return -1;
    /* a cheap sanity check before signing: an ELF object whose descriptor
     * names this module (the loader checks it fully at run time) */
    if (*obj_len < 64 || memcmp(*obj, "\177ELF", 4) != 0 ||
        memmem(*obj, *obj_len, digest, 64) == NULL) {
        free(*obj);
        *obj = NULL;
        kiln_error_set(err, KILN_E_MALFORMED,
                       "%s: --aot: cached object %s is not an AOT object of this module; remove "
                       "it and convert again",
                       path, file);
        return -1;
    }
    return 0;
}

struct unit_out {
    char *path;
    uint8_t *data;
    size_t len;
    char sha256[65];
    char source_sha256[65];
    const char *abi;
    unsigned mode, uid, gid; /* of the original file: the unit keeps them */
};

static int cmd_convert(int argc, char **argv)
{
    enum {
        O_KEY = 300,
        O_FORMAT,
        O_TAG,
        O_POLICY,
        O_STUB,
        O_NATIVE,
        O_JSON,
        O_AOT,
        O_AOTCACHE,
        O_METERED
    };
    static const struct option opts[] = {KILN_IMAGE_LONGOPTS,
                                         {"output", required_argument, NULL, 'o'},
                                         {"key", required_argument, NULL, O_KEY},
                                         {"format", required_argument, NULL, O_FORMAT},
                                         {"tag", required_argument, NULL, O_TAG},
                                         {"policy", required_argument, NULL, O_POLICY},
                                         {"stub", required_argument, NULL, O_STUB},
                                         {"allow-native", no_argument, NULL, O_NATIVE},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"aot", no_argument, NULL, O_AOT},
                                         {"aot-cache", required_argument, NULL, O_AOTCACHE},
                                         {"metered", no_argument, NULL, O_METERED},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct kiln_image_options opt;
    struct kiln_analyze_options aopt = {0};
    struct kiln_image *img = NULL;
    struct kiln_analysis *an = NULL;
    struct kiln_error err = {0};
    struct kiln_cmd_progress prog = {0};
    struct aot_ctx aot = {0};
    const char *aot_cache = NULL;
    struct kiln_seckey keys[MAX_KEYS];
    const struct kiln_seckey *keyp[MAX_KEYS];
    struct kiln_trust_store *ts = NULL;
    struct kiln_dsse *env = NULL;
    struct unit_out *units = NULL;
    struct kiln_image_entry *entries = NULL;
    json_t *report = NULL, *notconv = json_array(), *unitsj = json_array(),
           *subjects = json_array();
    const char *keyfiles[MAX_KEYS], *out = NULL, *tag = NULL, *policy_path = NULL,
                                    *stub_path = NULL;
    char *path = NULL, *policy = NULL, *stmt = NULL, *envjson = NULL, *reportjs = NULL;
    char tmpl[4096] = "", rootdir[4200], stub_default[PATH_MAX], policy_hex[65];
    uint8_t *stub = NULL;
    size_t nkeys = 0, stub_len = 0, nunits = 0, policy_len = 0, envlen = 0, i;
    int c, rc = 1, json = 0, allow_native = 0, format = KILN_IMAGE_OCI_DIR, rootfd = -1;

    kiln_image_options_default(&opt);
    opt.keep_owner = geteuid() == 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int r = kiln_cmd_image_option(c, optarg, &opt);
        if (r < 0) {
            fprintf(stderr, "kiln convert: bad number: %s\n", optarg);
            return 2;
        }
        if (r) continue;
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case O_KEY:
            if (nkeys == MAX_KEYS) {
                fprintf(stderr, "kiln convert: at most %d keys\n", MAX_KEYS);
                return 2;
            }
            keyfiles[nkeys++] = optarg;
            break;
        case O_FORMAT:
            if (!strcmp(optarg, "oci"))
                format = KILN_IMAGE_OCI_DIR;
            else if (!strcmp(optarg, "oci-archive"))
                format = KILN_IMAGE_OCI_ARCHIVE;
            else {
                fprintf(stderr, "kiln convert: --format: expected oci or oci-archive\n");
                return 2;
            }
            break;
        case O_TAG:
            tag = optarg;
            break;
        case O_POLICY:
            policy_path = optarg;
            break;
        case O_STUB:
            stub_path = optarg;
            break;
        case O_NATIVE:
            allow_native = 1;
            break;
        case O_JSON:
            json = 1;
            break;
        case O_AOT:
            aot.on = 1;
            break;
        case O_AOTCACHE:
            aot_cache = optarg;
            break;
        case O_METERED:
            aot.metered = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 1 || !out || !nkeys) {
        if (!out || !nkeys) fprintf(stderr, "kiln convert: -o OUT and --key KEY are required\n");
        usage(stderr);
        return 2;
    }
    if (aot.metered && !aot.on) {
        fprintf(stderr, "kiln convert: --metered needs --aot\n");
        return 2;
    }
    if (!notconv || !unitsj || !subjects) goto nomem;

    /* keys and the stub */
    for (i = 0; i < nkeys; i++) {
        if (kiln_key_load_private(keyfiles[i], &keys[i], &err) < 0) {
            fprintf(stderr, "kiln convert: %s\n", err.msg);
            nkeys = i;
            goto out;
        }
        keyp[i] = &keys[i];
    }
    if (!stub_path) {
        if (default_stub(stub_default, sizeof stub_default) < 0) {
            fprintf(stderr, "kiln convert: no kiln-stub next to kiln; pass --stub FILE\n");
            goto out;
        }
        stub_path = stub_default;
    }
    if (kiln_trust_read_file(stub_path, (uint64_t)1 << 30, &stub, &stub_len, &err) < 0) {
        fprintf(stderr, "kiln convert: %s\n", err.msg);
        goto out;
    }
    if (aot.on && aot_init(&aot, aot_cache, &err) < 0) goto out;
    if (kiln_trust_store_new(&ts, &err) < 0) goto fail_err;
    for (i = 0; i < nkeys; i++)
        if (kiln_trust_store_add(ts, &keys[i].pub, keyfiles[i], &err) < 0) goto fail_err;

    /* image -> rootfs -> analysis */
    path = kiln_cmd_split_image_ref(argv[optind], &opt.ref);
    if (!path) goto nomem;
    if (!tag) tag = opt.ref;
    prog.tty = isatty(2) && !json;
    aot.tty = prog.tty;
    opt.sparse_data = true; /* the rootfs is only analyzed: data files stay holes */
    opt.progress = kiln_cmd_progress;
    opt.progress_ctx = &prog;
    if (kiln_image_open(path, &opt, &img, &err) < 0) goto fail_err;
    {
        const char *tmp = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/kiln-convert-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpl)) {
            fprintf(stderr, "kiln convert: %s: %s\n", tmpl, strerror(errno));
            tmpl[0] = 0;
            goto out;
        }
    }
    snprintf(rootdir, sizeof rootdir, "%s/rootfs", tmpl);
    if (kiln_image_extract(img, rootdir, NULL, &err) < 0) goto fail_err;
    if (prog.tty) fprintf(stderr, "\r%-60s\r", "");
    aopt.config = &img->config;
    if (kiln_analyze_rootfs(rootdir, &aopt, &an, &err) < 0) goto fail_err;
    rootfd = open(rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        fprintf(stderr, "kiln convert: %s: %s\n", rootdir, strerror(errno));
        goto out;
    }

    /* policy */
    if (policy_path) {
        uint8_t *p;
        if (kiln_trust_read_file(policy_path, 1 << 20, &p, &policy_len, &err) < 0) goto fail_err;
        policy = (char *)p;
    } else {
        if (kiln_analysis_policy_json(an, &policy, &err) < 0) goto fail_err;
        policy_len = strlen(policy);
    }
    kiln_sha256_hex((const uint8_t *)policy, policy_len, policy_hex);

    /* units */
    size_t nfiles = kiln_analysis_file_count(an);
    units = calloc(nfiles ? nfiles : 1, sizeof *units);
    if (!units) goto nomem;
    const char *entry = kiln_analysis_entrypoint(an);
    int entry_converted = 0;
    for (i = 0; i < nfiles; i++) {
        struct kiln_analysis_file f;
        char why[600];
        kiln_analysis_file(an, i, &f);
        if (f.kind == KILN_KIND_WASM && !f.error && f.abi && *f.abi &&
            (f.executable || f.entrypoint)) {
            struct unit_out *u = &units[nunits];
            struct kiln_manifest m;
            struct kiln_unit_input in;
            struct kiln_unit *vu = NULL;
            uint8_t *wasm = NULL, *obj = NULL;
            size_t wasm_len = 0, obj_len = 0;
            if (prog.tty) fprintf(stderr, "\r%-70.70s", f.path); /* per-file progress */
            int r = read_beneath(rootfd, f.path, &wasm, &wasm_len);
            if (r < 0) {
                fprintf(stderr, "kiln convert: %s: %s\n", f.path, strerror(-r));
                goto out;
            }
            if (aot.on && aot_object(&aot, f.path, wasm, wasm_len, &obj, &obj_len, &err) < 0) {
                free(wasm);
                goto fail_err;
            }
            memset(&m, 0, sizeof m);
            m.format_version = KILN_FORMAT_VERSION;
            m.engine_version = KILN_ENGINE_VERSION;
            m.tool_version = (char *)TOOL_VERSION;
            m.guest_abi = (char *)f.abi;
            m.source_path = (char *)f.path;
            m.source_kind = (char *)"wasm";
            snprintf(m.source_sha256, sizeof m.source_sha256, "%s", f.sha256);
            memset(&in, 0, sizeof in);
            in.stub = stub;
            in.stub_len = stub_len;
            in.wasm = wasm;
            in.wasm_len = wasm_len;
            in.policy = (const uint8_t *)policy;
            in.policy_len = policy_len;
            if (obj != NULL) {
                in.aot = obj;
                in.aot_len = obj_len;
                m.has_aot = true;
                m.aot_target = (char *)kiln_aot_target();
                m.aot_compiler = aot.compiler;
            }
            in.manifest = &m;
            in.keys = keyp;
            in.nkeys = nkeys;
            r = kiln_unit_build(&in, &u->data, &u->len, &err);
            free(wasm);
            free(obj);
            if (r < 0) {
                kiln_error_prefix(&err, "%s", f.path);
                goto fail_err;
            }
            /* verify what we are about to emit (the verifier takes a copy) */
            uint8_t *copy = malloc(u->len);
            if (!copy) goto nomem;
            memcpy(copy, u->data, u->len);
            if (kiln_unit_verify(copy, u->len, ts, &vu, NULL, &err) < 0) {
                kiln_error_prefix(&err, "%s: the new unit does not verify", f.path);
                goto fail_err;
            }
            kiln_unit_free(vu);
            u->path = strdup(f.path);
            if (!u->path) goto nomem;
            u->abi = f.abi;
            {
                struct stat ust;
                u->mode = 0755;
                if (fstatat(rootfd, f.path + 1, &ust, AT_SYMLINK_NOFOLLOW) == 0) {
                    u->mode = ust.st_mode & 0777;
                    if (!(u->mode & 0111)) u->mode |= 0111; /* an entrypoint without x bits */
                    if (opt.keep_owner) { /* owners are only real when extracted as root */
                        u->uid = ust.st_uid;
                        u->gid = ust.st_gid;
                    }
                }
            }
            kiln_sha256_hex(u->data, u->len, u->sha256);
            snprintf(u->source_sha256, sizeof u->source_sha256, "%s", f.sha256);
            nunits++;
            if (entry && strcmp(entry, f.path) == 0) entry_converted = 1;
            json_array_append_new(unitsj, json_pack("{s:s,s:s,s:s,s:s,s:b}", "path", f.path,
                                                    "sha256", u->sha256, "sourceSha256", f.sha256,
                                                    "abi", f.abi, "aot", obj_len != 0));
            json_array_append_new(subjects, json_pack("{s:s,s:{s:s}}", "name", f.path, "digest",
                                                      "sha256", u->sha256));
        } else if (f.executable || f.kind == KILN_KIND_WASM || f.entrypoint) {
            const char *k = f.kind == KILN_KIND_WASM     ? "wasm"
                            : f.kind == KILN_KIND_ELF    ? "elf"
                            : f.kind == KILN_KIND_SCRIPT ? "script"
                                                         : "other";
            json_array_append_new(notconv, json_pack("{s:s,s:s,s:s}", "path", f.path, "kind", k,
                                                     "reason", why_native(&f, why, sizeof why)));
        }
    }
    json_array_append_new(subjects, json_pack("{s:s,s:{s:s}}", "name", "/.kiln/policy.json",
                                              "digest", "sha256", policy_hex));
    if (!entry) {
        if (!allow_native) {
            fprintf(stderr,
                    "kiln convert: the image has no entrypoint in its rootfs%s%s%s; "
                    "refusing (--allow-native to emit it anyway)\n",
                    img->config.entrypoint || img->config.cmd ? " (" : "",
                    img->config.entrypoint ? img->config.entrypoint[0]
                    : img->config.cmd      ? img->config.cmd[0]
                                           : "",
                    img->config.entrypoint || img->config.cmd ? " not found)" : "");
            goto out;
        }
    } else if (!entry_converted && !allow_native) {
        size_t k;
        json_t *nc;
        const char *why = "not converted";
        json_array_foreach(notconv, k, nc)
        {
            if (!strcmp(json_string_value(json_object_get(nc, "path")), entry))
                why = json_string_value(json_object_get(nc, "reason"));
        }
        fprintf(stderr,
                "kiln convert: the entrypoint %s is not converted (%s); refusing to emit the image "
                "(name it with --allow-native to emit it anyway)\n",
                entry, why);
        goto out;
    }

    /* the conversion report and the image attestation */
    report = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:b,s:O,s:O,s:{s:s,s:s}}", "tool", TOOL_VERSION,
                       "sourceImage", img->path, "sourceManifest", img->manifest_digest,
                       "sourceConfig", img->config_digest, "entrypoint", entry, "allowNative",
                       allow_native, "units", unitsj, "notConverted", notconv, "policy", "path",
                       "/.kiln/policy.json", "sha256", policy_hex);
    if (!report) goto nomem;
    {
        json_t *layers = json_array();
        for (i = 0; i < img->nlayers; i++)
            json_array_append_new(layers,
                                  json_string(img->layers[i].diff_id[0] ? img->layers[i].diff_id
                                                                        : img->layers[i].digest));
        json_t *st = json_pack("{s:s,s:O,s:s,s:{s:s,s:s,s:s,s:s?,s:o,s:O,s:{s:s,s:s}}}", "_type",
                               KILN_STATEMENT_TYPE, "subject", subjects, "predicateType",
                               IMAGE_PREDICATE, "predicate", "tool", TOOL_VERSION, "sourceManifest",
                               img->manifest_digest, "sourceConfig", img->config_digest,
                               "entrypoint", entry, "baseLayers", layers, "units", unitsj, "policy",
                               "path", "/.kiln/policy.json", "sha256", policy_hex);
        stmt = st ? json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(st);
        if (!stmt) goto nomem;
    }
    if (kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, (const uint8_t *)stmt, strlen(stmt), &env, &err) < 0)
        goto fail_err;
    for (i = 0; i < nkeys; i++)
        if (kiln_dsse_sign(env, &keys[i], &err) < 0) goto fail_err;
    if (kiln_dsse_encode(env, &envjson, &envlen, &err) < 0) goto fail_err;
    reportjs = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!reportjs) goto nomem;

    /* the new layer and the image */
    entries = calloc(nunits + 4, sizeof *entries);
    if (!entries) goto nomem;
    size_t ne = 0;
    entries[ne++] = (struct kiln_image_entry){"/.kiln", S_IFDIR | 0755, NULL, 0, 0, 0};
    entries[ne++] =
        (struct kiln_image_entry){"/.kiln/policy.json", 0644, (uint8_t *)policy, policy_len, 0, 0};
    entries[ne++] = (struct kiln_image_entry){
        "/.kiln/attestation.json", 0644, (uint8_t *)envjson, envlen, 0, 0};
    entries[ne++] = (struct kiln_image_entry){"/.kiln/report.json", 0644, (uint8_t *)reportjs,
                                              strlen(reportjs),     0,    0};
    for (i = 0; i < nunits; i++)
        entries[ne++] = (struct kiln_image_entry){units[i].path, units[i].mode, units[i].data,
                                                  units[i].len,  units[i].uid,  units[i].gid};
    {
        char pol_ann[80];
        snprintf(pol_ann, sizeof pol_ann, "sha256:%s", policy_hex);
        const char *ann[] = {"dev.kiln.converted",
                             "true",
                             "dev.kiln.tool",
                             TOOL_VERSION,
                             "dev.kiln.source.manifest",
                             img->manifest_digest[0] ? img->manifest_digest : img->config_digest,
                             "dev.kiln.policy",
                             pol_ann,
                             "dev.kiln.attestation",
                             "/.kiln/attestation.json",
                             "dev.kiln.signer",
                             keys[0].pub.keyid,
                             NULL};
        const char *rann[] = {"dev.kiln.predicate-type", IMAGE_PREDICATE, NULL};
        struct kiln_image_referrer ref = {KILN_DSSE_PAYLOAD_TYPE,
                                          "application/vnd.dsse.envelope.v1+json",
                                          (const uint8_t *)envjson, envlen, rann};
        struct kiln_image_write_spec spec = {entries, ne, tag, ann, "kiln convert", &ref, format};
        struct kiln_image_written wr;
        if (kiln_image_write(img, &spec, out, &wr, &err) < 0) goto fail_err;
        if (prog.tty) fprintf(stderr, "\r%-60s\r", "");
        json_object_set_new(report, "output",
                            json_pack("{s:s,s:s,s:s,s:s,s:s}", "path", out, "format",
                                      kiln_image_format_name(format), "manifest",
                                      wr.manifest_digest, "layer", wr.layer_digest, "attestation",
                                      wr.referrer_digest));
    }
    if (json) {
        char *s = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) puts(s);
        free(s);
    } else {
        size_t k;
        json_t *v;
        printf("converted %s -> %s (%s, manifest %s)\n", img->path, out,
               kiln_image_format_name(format),
               json_string_value(json_object_get(json_object_get(report, "output"), "manifest")));
        json_array_foreach(unitsj, k, v)
            printf("  unit   %s (%s%s%s)\n", json_string_value(json_object_get(v, "path")),
                   json_string_value(json_object_get(v, "abi")),
                   json_is_true(json_object_get(v, "aot")) ? ", aot " : "",
                   json_is_true(json_object_get(v, "aot")) ? kiln_aot_target() : "");
        if (aot.on)
            printf("aot: %zu compiled (%.2f s), %zu from the cache %s\n", aot.compiled,
                   aot.compile_s, aot.cached, aot.dir);
        json_array_foreach(notconv, k, v)
            printf("  kept   %s: %s\n", json_string_value(json_object_get(v, "path")),
                   json_string_value(json_object_get(v, "reason")));
        printf("entrypoint: %s%s\n", entry ? entry : "(none)",
               entry_converted ? " (signed unit)" : " (NOT converted; --allow-native)");
    }
    rc = 0;
    goto out;
nomem:
    fprintf(stderr, "kiln convert: out of memory\n");
    goto out;
fail_err:
    if (prog.tty) fputc('\n', stderr);
    fprintf(stderr, "kiln convert: %s\n", err.msg);
out:
    for (i = 0; i < nkeys; i++)
        kiln_key_wipe(&keys[i]);
    for (i = 0; i < nunits; i++) {
        free(units[i].path);
        free(units[i].data);
    }
    free(units);
    free(entries);
    json_decref(report);
    json_decref(notconv);
    json_decref(unitsj);
    json_decref(subjects);
    kiln_dsse_free(env);
    kiln_trust_store_free(ts);
    free(stmt);
    free(envjson);
    free(reportjs);
    free(policy);
    free(stub);
    kiln_analysis_free(an);
    kiln_image_free(img);
    if (rootfd >= 0) close(rootfd);
    if (tmpl[0]) {
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        (void)kiln_image_remove_tree_at(fd, tmpl + 1);
        close(fd);
    }
    free(path);
    return rc;
}

KILN_COMMAND(convert, "convert",
             "turn an image's wasm modules into signed units; new OCI image with policy and "
             "attestation",
             cmd_convert);
