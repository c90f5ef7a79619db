/*
 * run.c — `kiln run IMAGE [-- ARGS]`: verify a converted image's signed
 * attestation, unpack it into a private rootfs cached by manifest digest,
 * and run the entrypoint unit on the embedded engine + vkernel under the
 * image's policy (docs/image.md).
 *
 * Order of checks (nothing runs before all pass):
 *   1. the manifest carries dev.kiln.converted; its OCI 1.1 attestation
 *      referrer is read (digest-checked), parses as a DSSE envelope and is
 *      signed by a trusted, non-revoked key (kiln_dsse_verify_trusted);
 *   2. the statement is an in-toto v1 statement with kiln's image predicate;
 *      its baseLayers equal the image's layers below the kiln layer;
 *   3. the rootfs (cached, extracted with every digest checked on first use)
 *      holds /.kiln/attestation.json byte-identical to the referrer, and
 *      every subject (units, policy) hashes to its signed digest — on every
 *      run, so a tampered cache is refused too;
 *   4. the entrypoint resolves (inside the rootfs) to a subject, and the
 *      unit verifies on its own (kiln_unit_verify_fd) with the same store.
 * The guest then sees the rootfs read-only at "/", a private empty /tmp (when
 * the image has /tmp; removed afterwards) and the --volume mounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/command.h"
#include "cmd/image_cmd.h"
#include "kiln/image.h"
#include "kiln/unit.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"

#define IMAGE_PREDICATE "https://kiln.dev/image/v1"
#define MAX_OPTS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kiln run [options] IMAGE[:REF] [-- ARGS...]\n\n"
            "Verifies a converted image's signed attestation, unpacks it into a private rootfs\n"
            "cached by manifest digest, and runs its entrypoint unit on the embedded vkernel\n"
            "under the image's policy. ARGS replace the image's Cmd.\n\n"
            "  --trust DIR          trust the *.pem public keys in DIR (default: system store)\n"
            "  --cache DIR          rootfs cache (default: $XDG_CACHE_HOME/kiln or ~/.cache/kiln)\n"
            "  --policy FILE        override the image's policy\n"
            "  --audit FILE         append audit events (docs/audit.md)\n"
            "  --env K=V            add / override an environment variable\n"
            "  --volume HOST:GUEST[:ro]  expose a host directory\n"
            "  --listen tcp:ADDR:PORT    preopen a listening socket (checked by the policy)\n"
            "  --verbose            say what was verified\n" KILN_IMAGE_OPTIONS_HELP);
}

#ifdef KILN_HAVE_WASI

static int g_child; /* this process is the child that runs the guest */

static int open_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    long r = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    return r < 0 ? -errno : (int)r;
}

/* SHA-256 of the file at guest path (inside the rootfs, no symlink escape). */
static int hash_in_root(int rootfd, const char *path, char hex[65])
{
    int fd = open_in_root(rootfd, path, O_RDONLY | O_NOFOLLOW);
    struct stat st;
    uint8_t *buf;
    if (fd < 0) return fd;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1ll << 32)) {
        close(fd);
        return -EINVAL;
    }
    buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        return -EIO;
    }
    kiln_sha256_hex(buf, got, hex);
    free(buf);
    return 0;
}

/* The guest path of an fd opened beneath rootdir. */
static int guest_path_of(int fd, const char *rootreal, char *out, size_t n)
{
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t l = readlink(link, real, sizeof real - 1);
    if (l <= 0) return -1;
    real[l] = 0;
    size_t rl = strlen(rootreal);
    if (strncmp(real, rootreal, rl) != 0 || real[rl] != '/') return -1;
    snprintf(out, n, "%s", real + rl);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    enum { O_TRUST = 300, O_CACHE, O_POLICY, O_AUDIT, O_ENV, O_VOLUME, O_VERBOSE, O_LISTEN };
    static const struct option opts[] = {KILN_IMAGE_LONGOPTS,
                                         {"trust", required_argument, NULL, O_TRUST},
                                         {"cache", required_argument, NULL, O_CACHE},
                                         {"policy", required_argument, NULL, O_POLICY},
                                         {"audit", required_argument, NULL, O_AUDIT},
                                         {"env", required_argument, NULL, O_ENV},
                                         {"volume", required_argument, NULL, O_VOLUME},
                                         {"verbose", no_argument, NULL, O_VERBOSE},
                                         {"listen", required_argument, NULL, O_LISTEN},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct kiln_image_options opt;
    struct kiln_image *img = NULL;
    struct kiln_error err = {0};
    struct kiln_trust_store *ts = NULL;
    struct kiln_dsse *env = NULL;
    struct kiln_unit *unit = NULL;
    struct kiln_vk *vk = NULL;
    struct kiln_vk_policy *pol = NULL;
    struct kiln_wasi *w = NULL;
    struct kiln_module *mod = NULL;
    struct kiln_store *store = NULL;
    struct kiln_trap trap;
    struct kiln_cmd_progress prog = {0};
    const char *trust_dir = NULL, *cache = NULL, *policy_path = NULL, *audit = NULL;
    const char *envs_opt[MAX_OPTS], *vols[MAX_OPTS], *listens[MAX_OPTS];
    char tmpdir[PATH_MAX] = "";
    int nlisten = 0;
    char *path = NULL, cachedir[PATH_MAX], rootdir[PATH_MAX], rootreal[PATH_MAX], ann[128];
    char entry_guest[PATH_MAX];
    uint8_t *att = NULL;
    size_t att_len = 0;
    json_t *st = NULL;
    char **gargv = NULL, **genv = NULL;
    int nenv_opt = 0, nvol = 0, verbose = 0, c, code = 1, rootfd = -1, efd = -1;
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    const char *label = NULL;

    memset(&trap, 0, sizeof trap);
    kiln_image_options_default(&opt);
    optind = 0;
    /* stop at the first non-option: what follows IMAGE belongs to the guest */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        int r = kiln_cmd_image_option(c, optarg, &opt);
        if (r < 0) {
            fprintf(stderr, "kiln run: bad number: %s\n", optarg);
            return 2;
        }
        if (r) continue;
        switch (c) {
        case O_TRUST:
            trust_dir = optarg;
            break;
        case O_CACHE:
            cache = optarg;
            break;
        case O_POLICY:
            policy_path = optarg;
            break;
        case O_AUDIT:
            audit = optarg;
            break;
        case O_ENV:
            if (!strchr(optarg, '=') || nenv_opt == MAX_OPTS) {
                fprintf(stderr, "kiln run: --env %s: expected K=V\n", optarg);
                return 2;
            }
            envs_opt[nenv_opt++] = optarg;
            break;
        case O_VOLUME:
            if (nvol == MAX_OPTS) return 2;
            vols[nvol++] = optarg;
            break;
        case O_VERBOSE:
            verbose = 1;
            break;
        case O_LISTEN:
            if (nlisten == MAX_OPTS) return 2;
            listens[nlisten++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *image_arg = argv[optind++];
    if (optind < argc && !strcmp(argv[optind], "--")) optind++;

    /* 1. trust + attestation */
    if (trust_dir) {
        if (kiln_trust_store_new(&ts, &err) < 0 ||
            kiln_trust_store_load_dir(ts, trust_dir, &err) < 0)
            goto refuse;
    } else if (kiln_trust_store_open_default(&ts, &err) < 0) {
        goto refuse;
    }
    path = kiln_cmd_split_image_ref(image_arg, &opt.ref);
    if (!path) goto nomem;
    prog.tty = isatty(2);
    opt.progress = kiln_cmd_progress;
    opt.progress_ctx = &prog;
    if (kiln_image_open(path, &opt, &img, &err) < 0) goto refuse;
    if (kiln_image_annotation(img, "dev.kiln.converted", ann, sizeof ann) < 0 ||
        strcmp(ann, "true")) {
        kiln_error_set(&err, KILN_E_VERIFY,
                       "%s: not converted by kiln (no dev.kiln.converted annotation); run kiln "
                       "convert first",
                       path);
        goto refuse;
    }
    if (kiln_image_read_referrer(img, KILN_DSSE_PAYLOAD_TYPE, 1 << 20, &att, &att_len, &err) < 0)
        goto refuse;
    if (kiln_dsse_parse((const char *)att, att_len, &env, &err) < 0) {
        kiln_error_prefix(&err, "attestation");
        goto refuse;
    }
    if (kiln_dsse_verify_trusted(env, ts, &label, &why, &err) < 0) {
        (void)why;
        kiln_error_prefix(&err, "attestation");
        goto refuse;
    }
    /* 2. the statement */
    st = json_loadb((const char *)env->payload, env->payload_len, JSON_REJECT_DUPLICATES, NULL);
    const char *ty = json_string_value(json_object_get(st, "_type"));
    const char *pt = json_string_value(json_object_get(st, "predicateType"));
    json_t *subjects = json_object_get(st, "subject"), *pred = json_object_get(st, "predicate");
    if (!ty || strcmp(ty, KILN_STATEMENT_TYPE) || !pt || strcmp(pt, IMAGE_PREDICATE) ||
        !json_is_array(subjects) || !json_is_object(pred)) {
        kiln_error_set(&err, KILN_E_VERIFY, "attestation: not a kiln image statement");
        goto refuse;
    }
    {
        json_t *bl = json_object_get(pred, "baseLayers");
        size_t n = json_array_size(bl);
        int ok = json_is_array(bl) && img->nlayers == n + 1;
        for (size_t i = 0; ok && i < n; i++) {
            const char *d = json_string_value(json_array_get(bl, i));
            const struct kiln_image_layer *l = &img->layers[i];
            ok = d && (!strcmp(d, l->diff_id) || !strcmp(d, l->digest));
        }
        if (!ok) {
            kiln_error_set(&err, KILN_E_VERIFY,
                           "attestation: the image's layers are not the ones it was signed over");
            goto refuse;
        }
    }
    /* 3. the rootfs, cached by manifest digest */
    if (cache) {
        snprintf(cachedir, sizeof cachedir, "%s", cache);
    } else {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (x && *x)
            snprintf(cachedir, sizeof cachedir, "%s/kiln", x);
        else
            snprintf(cachedir, sizeof cachedir, "%s/.cache/kiln", home && *home ? home : "/tmp");
    }
    {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", cachedir);
        for (char *p = tmp + 1; *p; p++)
            if (*p == '/') {
                *p = 0;
                mkdir(tmp, 0700);
                *p = '/';
            }
        mkdir(tmp, 0700);
    }
    {
        /* someone else's (or a shared, writable) cache could hold a planted rootfs */
        struct stat cst;
        if (lstat(cachedir, &cst) != 0 || !S_ISDIR(cst.st_mode) || cst.st_uid != geteuid() ||
            (cst.st_mode & 022)) {
            kiln_error_set(&err, KILN_E_VERIFY,
                           "cache %s: must be a directory owned by this user and not writable by "
                           "group or others",
                           cachedir);
            goto refuse;
        }
    }
    snprintf(rootdir, sizeof rootdir, "%s/rootfs-%s", cachedir, img->manifest_digest + 7);
    if (access(rootdir, F_OK) != 0) {
        /* a concurrent run may have won the rename: its complete rootfs is as good */
        if (kiln_image_extract(img, rootdir, NULL, &err) < 0 && access(rootdir, F_OK) != 0)
            goto refuse;
        if (prog.tty) fprintf(stderr, "\r%-60s\r", "");
        if (verbose) fprintf(stderr, "kiln run: unpacked into %s\n", rootdir);
    }
    if (!realpath(rootdir, rootreal)) {
        kiln_error_sys(&err, errno, "%s", rootdir);
        goto refuse;
    }
    rootfd = open(rootreal, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        kiln_error_sys(&err, errno, "%s", rootreal);
        goto refuse;
    }
    {
        char hex[65], ahex[65];
        kiln_sha256_hex(att, att_len, ahex);
        if (hash_in_root(rootfd, "/.kiln/attestation.json", hex) < 0 || strcmp(hex, ahex)) {
            kiln_error_set(&err, KILN_E_VERIFY,
                           "/.kiln/attestation.json in the image differs from the signed referrer");
            goto refuse;
        }
        size_t i;
        json_t *s;
        json_array_foreach(subjects, i, s)
        {
            const char *name = json_string_value(json_object_get(s, "name"));
            const char *want =
                json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
            if (!name || !want || hash_in_root(rootfd, name, hex) < 0 || strcmp(hex, want)) {
                kiln_error_set(&err, KILN_E_VERIFY, "%s: digest mismatch with the attestation",
                               name ? name : "(unnamed subject)");
                goto refuse;
            }
        }
    }
    /* 4. the entrypoint */
    const struct kiln_image_config *cfg = &img->config;
    const char *ep = cfg->entrypoint && cfg->entrypoint[0] ? cfg->entrypoint[0]
                     : cfg->cmd && cfg->cmd[0]             ? cfg->cmd[0]
                                                           : NULL;
    if (!ep) {
        kiln_error_set(&err, KILN_E_INVALID, "the image has no entrypoint or cmd");
        goto refuse;
    }
    if (ep[0] == '/') {
        efd = open_in_root(rootfd, ep, O_RDONLY);
    } else {
        char pathv[4096] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (char **e = cfg->env; e && *e; e++)
            if (!strncmp(*e, "PATH=", 5)) snprintf(pathv, sizeof pathv, "%s", *e + 5);
        efd = -ENOENT;
        for (char *tok = strtok(pathv, ":"); tok && efd < 0; tok = strtok(NULL, ":")) {
            char cand[PATH_MAX];
            snprintf(cand, sizeof cand, "%s/%s", tok, ep);
            efd = open_in_root(rootfd, cand, O_RDONLY);
        }
    }
    if (efd < 0 || guest_path_of(efd, rootreal, entry_guest, sizeof entry_guest) < 0) {
        kiln_error_set(&err, KILN_E_INVALID, "entrypoint %s: not found in the image", ep);
        goto refuse;
    }
    {
        size_t i;
        json_t *s;
        int signed_subject = 0;
        json_array_foreach(subjects, i, s)
        {
            const char *name = json_string_value(json_object_get(s, "name"));
            if (name && !strcmp(name, entry_guest)) signed_subject = 1;
        }
        if (!signed_subject) {
            kiln_error_set(&err, KILN_E_VERIFY,
                           "entrypoint %s is not a signed unit of this image (converted with "
                           "--allow-native?)",
                           entry_guest);
            goto refuse;
        }
    }
    if (kiln_unit_verify_fd(efd, ts, &unit, &why, &err) < 0) {
        kiln_error_prefix(&err, "%s", entry_guest);
        goto refuse;
    }
    if (verbose)
        fprintf(stderr,
                "kiln run: %s: attestation and %zu subjects verified (signer %s), unit %s\n",
                img->manifest_digest, json_array_size(subjects), label ? label : "?", entry_guest);

    /* the guest */
    if (policy_path) {
        if (kiln_vk_policy_load(policy_path, &pol, &err) < 0) goto fail;
    } else if (unit->policy) {
        if (kiln_vk_policy_parse((const char *)unit->policy, unit->policy_len, "policy.json", &pol,
                                 &err) < 0)
            goto fail;
    }
    if (kiln_vk_new(&vk, &err) < 0) goto fail;
    if (audit && kiln_vk_open_audit(vk, audit, &err) < 0) goto fail;
    if (pol) {
        kiln_vk_set_policy(vk, pol);
        pol = NULL;
    }
    for (int r = 0; r < 3; r++)
        (void)kiln_vk_install_fd(vk, r, r, KILN_VK_FD_NOCLOSE | (r ? KILN_VK_FD_STDOUT : 0));
    if (kiln_vk_mount(vk, rootreal, "/", KILN_VK_MOUNT_RO, &err) < 0) goto fail;
    /* a private, empty /tmp for this run (the policy decides whether it is writable) */
    {
        struct stat tst;
        if (fstatat(rootfd, "tmp", &tst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(tst.st_mode)) {
            const char *t = getenv("TMPDIR");
            snprintf(tmpdir, sizeof tmpdir, "%s/kiln-run-XXXXXX", t && *t ? t : "/tmp");
            if (!mkdtemp(tmpdir)) {
                kiln_error_sys(&err, errno, "%s", tmpdir);
                tmpdir[0] = 0;
                goto fail;
            }
            if (kiln_vk_mount(vk, tmpdir, "/tmp", 0, &err) < 0) goto fail;
        }
    }
    for (int r = 0; r < nlisten; r++)
        if (kiln_vk_listen(vk, listens[r], &err) < 0) goto fail;
    for (int r = 0; r < nvol; r++) {
        char host[PATH_MAX], *guest, *ro;
        unsigned fl = 0;
        snprintf(host, sizeof host, "%s", vols[r]);
        guest = strchr(host, ':');
        if (!guest) {
            kiln_error_set(&err, KILN_E_ARG, "--volume %s: expected HOST:GUEST[:ro]", vols[r]);
            goto fail;
        }
        *guest++ = 0;
        ro = strrchr(guest, ':');
        if (ro && !strcmp(ro, ":ro")) {
            *ro = 0;
            fl = KILN_VK_MOUNT_RO;
        }
        if (kiln_vk_mount(vk, host, guest, fl, &err) < 0) goto fail;
    }
    if (kiln_module_new(unit->wasm, unit->wasm_len, NULL, &mod, &err) < 0) goto fail;
    {
        struct kiln_store_config sc;
        kiln_store_config_default(&sc);
        const struct kiln_vk_policy *vp = kiln_vk_policy(vk);
        if (vp && kiln_vk_policy_limits(vp)->memory_bytes)
            sc.max_memory_bytes = kiln_vk_policy_limits(vp)->memory_bytes;
        store = kiln_store_new(&sc);
        if (!store) goto nomem;
    }
    {
        /* argv: entrypoint (as configured) + rest of Entrypoint + (ARGS or Cmd) */
        size_t n = 0, cap = (size_t)argc + 64;
        for (char **p = cfg->entrypoint; p && *p; p++)
            cap++;
        for (char **p = cfg->cmd; p && *p; p++)
            cap++;
        gargv = calloc(cap, sizeof *gargv);
        if (!gargv) goto nomem;
        if (cfg->entrypoint && cfg->entrypoint[0]) {
            for (char **p = cfg->entrypoint; *p; p++)
                gargv[n++] = *p;
            if (optind < argc)
                while (optind < argc)
                    gargv[n++] = argv[optind++];
            else
                for (char **p = cfg->cmd; p && *p; p++)
                    gargv[n++] = *p;
        } else {
            if (optind < argc)
                while (optind < argc)
                    gargv[n++] = argv[optind++];
            else
                for (char **p = cfg->cmd; p && *p; p++)
                    gargv[n++] = *p;
        }
        size_t ne = 0;
        for (char **p = cfg->env; p && *p; p++)
            ne++;
        genv = calloc(ne + (size_t)nenv_opt + 1, sizeof *genv);
        if (!genv) goto nomem;
        ne = 0;
        for (char **p = cfg->env; p && *p; p++) {
            int overridden = 0;
            size_t kl = strcspn(*p, "=");
            for (int k = 0; k < nenv_opt; k++)
                if (!strncmp(envs_opt[k], *p, kl + 1)) overridden = 1;
            if (!overridden) genv[ne++] = *p;
        }
        for (int k = 0; k < nenv_opt; k++)
            genv[ne++] = (char *)envs_opt[k];
        if (kiln_wasi_new(vk, (int)n, gargv, (int)ne, genv, &w, &err) < 0) goto fail;
    }
    /* With a private /tmp the guest runs in a child: Landlock confines only the
     * child, so this process can still remove the directory afterwards. */
    if (tmpdir[0]) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            kiln_error_sys(&err, errno, "fork");
            goto fail;
        }
        if (pid == 0) g_child = 1;
        if (pid > 0) {
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            goto out;
        }
    }
    if (getenv("KILN_NO_LANDLOCK") == NULL && kiln_vk_confine(vk, &err) < 0)
        memset(&err, 0, sizeof err);
    {
        const struct kiln_vk_policy *vp = kiln_vk_policy(vk);
        int r = kiln_wasi_run_limited(w, store, mod, vp ? kiln_vk_policy_limits(vp) : NULL,
                                      &trap, &err);
        if (r < 0) goto fail;
        if (trap.kind != KILN_TRAP_NONE && trap.kind != KILN_TRAP_EXIT)
            fprintf(stderr, "kiln run: %s: trap: %s%s\n", entry_guest, trap.msg,
                    trap.kind == KILN_TRAP_INTERRUPTED ? " (time limit)" : "");
        code = r;
    }
    if (tmpdir[0]) { /* the child */
        fflush(NULL);
        _exit(code);
    }
    goto out;
nomem:
    kiln_error_set(&err, KILN_E_NOMEM, "out of memory");
fail:
    fprintf(stderr, "kiln run: %s\n", err.msg[0] ? err.msg : "failed");
    code = 1;
    if (tmpdir[0] && g_child) {
        fflush(NULL);
        _exit(code);
    }
    goto out;
refuse:
    if (prog.tty) fputc('\n', stderr);
    fprintf(stderr, "kiln run: refused: %s\n", err.msg[0] ? err.msg : "failed");
    code = 126;
out:
    free(gargv);
    free(genv);
    kiln_wasi_free(w);
    kiln_store_free(store);
    kiln_module_free(mod);
    kiln_vk_free(vk);
    kiln_vk_policy_free(pol);
    kiln_unit_free(unit);
    json_decref(st);
    kiln_dsse_free(env);
    free(att);
    kiln_image_free(img);
    kiln_trust_store_free(ts);
    if (rootfd >= 0) close(rootfd);
    if (efd >= 0) close(efd);
    if (tmpdir[0]) {
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        (void)kiln_image_remove_tree_at(fd, tmpdir + 1);
        close(fd);
    }
    free(path);
    return code;
}

#else

static int cmd_run(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "kiln run: this build has no WebAssembly engine\n");
    return 1;
}

#endif

KILN_COMMAND(run, "run", "verify a converted image and run its entrypoint on the vkernel", cmd_run);
