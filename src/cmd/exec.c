/*
 * exec.c — `kiln exec`: runs a WASI preview1 command module on the embedded
 * vkernel.
 *
 *   kiln exec [--dir HOST[::GUEST][:ro]]... [--env K=V]... [--listen tcp:ADDR:PORT]...
 *             [--policy FILE] [--audit FILE] MODULE.wasm [--] [ARGS...]
 *   kiln exec --kilnd SOCKET --container ID [--dir GUEST]... [--listen ...]
 *             [--env K=V]... MODULE.wasm [--] [ARGS...]
 *
 * With --kilnd the vkernel runs in the daemon placement: authority-granting
 * calls go to kilnd, which applies the container's policy beneath its root
 * (docs/kilnd-protocol.md); --dir names guest paths of the container to
 * preopen. The process then confines itself (Landlock) to no filesystem and
 * no network at all, and seals itself (seccomp, kiln_kilnd_seal) against
 * every call that would gain authority by itself.
 *
 * --dir P under --kilnd (absolute, normalized lexically as kilnd resolves it)
 * is asked of kilnd with "beneath", as kiln-stub asks for "/": when the
 * unit's policy grants P, P is the preopen; when it grants only directories
 * beneath P, the highest of them that exist are the preopens instead (the one
 * rule kiln__policy_fs_granted_beneath, docs/kilnd-protocol.md), and stderr
 * names them; when it grants no existing directory at or beneath P, kiln exec
 * refuses to run: "kiln exec: refused: --dir P: container ID's policy
 * (sha256:...) grants no existing directory at or beneath P", exit 126, the
 * status of every refusal by kilnd (a denied --dir, ":ro", an unknown
 * container). A usage error exits 2, other failures before the guest runs 1.
 *
 * The guest's stdin/stdout/stderr are the process's; its exit status is
 * ours (a trap exits 134 with the trap message on stderr). Without --policy
 * the built-in policy allows every call, and the filesystem is exactly the
 * --dir mounts; with --policy, the policy's rules apply as well (the
 * stricter of mount mode and rule wins).
 *
 * --aot-cache DIR runs the module's native code: compiled ahead of time on
 * first use into DIR (keyed by module digest and translator fingerprint,
 * kiln_aot_compile_cached) and loaded from a sealed memfd; right after, the
 * process hardens itself (no_new_privs, MDWE, the seccomp no-JIT filter), so
 * nothing further can become executable. A policy with "engine":
 * {"requireAot": true} is refused without it. (Signed units run their signed AOT payload under
 * `kiln run` and kiln-stub, through kiln_unit_module_load.)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/command.h"
#include "kiln/aot.h"
#include "kiln/kilnd.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "platform/linux/harden.h"

#define MAX_OPTS 64

static void usage(FILE *f)
{
    fprintf(f, "usage: kiln exec [--dir HOST[::GUEST][:ro]] [--env K=V] [--listen tcp:ADDR:PORT]\n"
               "                 [--policy FILE] [--audit FILE] MODULE.wasm [--] [ARGS...]\n"
               "       kiln exec --kilnd SOCKET --container ID [--dir PATH] [--env K=V]\n"
               "                 [--listen tcp:ADDR:PORT] MODULE.wasm [--] [ARGS...]\n\n"
               "Runs a WASI preview1 command module on the embedded vkernel (or, with --kilnd,\n"
               "on kilnd, under the container's policy).\n"
               "  --dir HOST::GUEST[:ro]  expose host directory HOST at guest path GUEST\n"
               "                          (default GUEST: HOST if absolute, else /)\n"
               "  --env K=V               set a guest environment variable\n"
               "  --listen tcp:ADDR:PORT  preopen a listening socket (for sock_accept)\n"
               "  --policy FILE           vkernel policy (docs/policy.md)\n"
               "  --audit FILE            append audit events (docs/audit.md)\n"
               "  --aot-cache DIR         run native code: compile the module ahead of time\n"
               "                          into DIR on first use (cc -O2), then reuse it\n"
               "  --kilnd SOCKET          daemon placement: attach to kilnd (with --container)\n"
               "  --container ID          the container this process belongs to (with --kilnd)\n"
               "  --dir PATH (--kilnd)    preopen the container's directory PATH (absolute). If\n"
               "                          the policy grants only directories beneath PATH, the\n"
               "                          highest existing ones are preopened instead (named on\n"
               "                          stderr); if it grants none, kiln exec refuses\n"
               "  --argv0 NAME            the guest's argv[0] (default: MODULE.wasm's path)\n\n"
               "Exit status: the guest's; 134 on a trap; 128+N when stopped by signal N;\n"
               "125 when the kilnd connection is lost; 126 when kilnd refuses (a --dir the\n"
               "policy grants nothing at or beneath, an unknown container); 2 on a usage error.\n");
}

#ifdef KILN_HAVE_WASI

static struct kiln_interrupt_slot g_run; /* the store while the guest runs */
/* The guest's vkernel: set before g_run is set, and freed only after g_run is cleared, so a
 * signal path that entered g_run and got the store may use it (kiln_interrupt_slot_enter). */
static struct kiln_vk *g_vk;
static volatile sig_atomic_t g_signal;
static volatile sig_atomic_t g_kilnd_lost;

/* kilnd connection lost: fail closed — stop the guest at its next safe point. */
static void on_kilnd_lost(const char *msg)
{
    fprintf(stderr, "kiln exec: %s\n", msg);
    g_kilnd_lost = 1;
    kiln_interrupt_slot_fire(&g_run);
}

/* The watcher saw kilnd hang up (kiln_kilnd_watch): the same, for a guest
 * that makes no call to kilnd (it computes or sleeps). */
static void on_kilnd_hup(void)
{
    on_kilnd_lost("kilnd connection lost (hangup): failing closed");
}

/* SIGINT/SIGTERM/SIGHUP: stop the guest at its next safe point so the exit
 * summary is written, then exit with 128 + signal. The handler may run on any
 * thread (the kilnd watcher's too) while the main thread tears the run down:
 * it touches the vkernel and the store only inside the slot, which clearing
 * waits for (g_vk is read once, and only when the slot holds a store). */
static void on_stop(int sig)
{
    struct kiln_store *s;
    g_signal = sig;
    s = kiln_interrupt_slot_enter(&g_run);
    if (s != NULL) {
        kiln_vk_note_signal(g_vk, sig);
        kiln_store_interrupt(s);
    }
    kiln_interrupt_slot_leave(&g_run);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    if (f == NULL) return NULL;
    for (;;) {
        size_t got;
        if (cap - n < 65536) {
            uint8_t *nb = realloc(buf, cap = cap * 2 + 65536);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* --kilnd: spec (a container path, optional ":ro") as sent to kilnd, into out: absolute and
 * lexically normal — no empty or "." components, ".." removes the component before it (at
 * "/" it stays "/", as kilnd resolves absolute guest paths), no trailing '/' — so the policy
 * is asked about the directory kilnd opens and the preopen's name is the path the guest
 * uses. Returns 0, or -1 when spec is not absolute or too long. */
static int kilnd_dir(const char *spec, char *out, size_t cap)
{
    size_t sl = strlen(spec), n = 0;
    bool ro = sl > 3 && strcmp(spec + sl - 3, ":ro") == 0;
    const char *s = spec, *end = spec + sl - (ro ? 3 : 0);
    if (s == end || *s != '/') return -1;
    while (s < end) {
        const char *c;
        size_t cl;
        while (s < end && *s == '/')
            s++;
        for (c = s; s < end && *s != '/'; s++) {
        }
        cl = (size_t)(s - c);
        if (cl == 0 || (cl == 1 && c[0] == '.')) continue;
        if (cl == 2 && c[0] == '.' && c[1] == '.') {
            while (n > 0 && out[--n] != '/') {
            }
            continue;
        }
        if (n + cl + 5 >= cap) return -1;
        out[n++] = '/';
        memcpy(out + n, c, cl);
        n += cl;
    }
    if (n == 0) out[n++] = '/';
    if (n + 4 >= cap) return -1;
    memcpy(out + n, ro ? ":ro" : "", ro ? 4 : 1);
    return 0;
}

/* True when guest path q is d or lies beneath directory d (component-wise). */
static bool at_or_beneath(const char *d, const char *q)
{
    size_t n = strlen(d);
    if (n == 1) return q[0] == '/';
    return strncmp(d, q, n) == 0 && (q[n] == 0 || q[n] == '/');
}

/* --kilnd: what kilnd granted for each --dir P (asked with "beneath": P itself when the
 * policy grants it, else the highest directories beneath P that it grants and that exist).
 * Says on stderr which directories stand in for a P granted only beneath; a P with nothing
 * granted at or beneath it is a refusal (KILN_E_DENIED naming P, the container and its
 * policy). policy_id names the policy as kilnd's log does. */
static int check_dirs(const struct kiln_vk *vk, const char *const *asked, const char *const *dirs,
                      int ndirs, const char *container, const char *policy_id,
                      struct kiln_error *err)
{
    int i, fd, lim = kiln_vk_fd_limit(vk);
    for (i = 0; i < ndirs; i++) {
        char d[4096], got[1024], as[4200];
        size_t n = 0, dl;
        bool self = false;
        snprintf(d, sizeof d, "%s", dirs[i]);
        dl = strlen(d);
        if (dl > 3 && strcmp(d + dl - 3, ":ro") == 0) d[dl - 3] = 0;
        got[0] = 0;
        for (fd = 0; fd < lim; fd++) {
            const struct kiln_vk_fd *f = kiln_vk_fd_get(vk, fd);
            int w;
            if (f == NULL || !(f->flags & KILN_VK_FD_PREOPEN) || f->kind != KILN_VK_DIR ||
                f->guest_path == NULL || !at_or_beneath(d, f->guest_path))
                continue;
            self |= strcmp(f->guest_path, d) == 0;
            w = snprintf(got + n, sizeof got - n, "%s%s%s", n ? ", " : "", f->guest_path,
                         (f->flags & KILN_VK_FD_RO) ? " (ro)" : "");
            if (w > 0 && (size_t)w < sizeof got - n) n += (size_t)w;
        }
        if (self) continue;
        /* the --dir as given, and the directory it names when spelled otherwise */
        snprintf(as, sizeof as, strcmp(asked[i], dirs[i]) ? "%s (%s)" : "%s", asked[i], d);
        if (n == 0)
            return kiln_error_set(
                err, KILN_E_DENIED,
                "--dir %s: container %s's policy (%s) grants no existing directory at "
                "or beneath %s",
                as, container, policy_id, d);
        fprintf(stderr,
                "kiln exec: --dir %s: container %s's policy (%s) does not grant %s itself; "
                "preopened what it grants beneath: %s\n",
                as, container, policy_id, d, got);
    }
    return 0;
}

/* Parses HOST[::GUEST][:ro] and mounts it. */
static int add_dir(struct kiln_vk *vk, const char *spec, struct kiln_error *err)
{
    char host[4096], guest[4096];
    const char *sep = strstr(spec, "::");
    size_t sl = strlen(spec);
    unsigned flags = 0;
    if (sl >= sizeof host) return kiln_error_set(err, KILN_E_ARG, "--dir %s: too long", spec);
    if (sl > 3 && strcmp(spec + sl - 3, ":ro") == 0) {
        flags |= KILN_VK_MOUNT_RO;
        sl -= 3;
    }
    if (sep != NULL && (size_t)(sep - spec) < sl) {
        memcpy(host, spec, (size_t)(sep - spec));
        host[sep - spec] = 0;
        memcpy(guest, sep + 2, sl - (size_t)(sep - spec) - 2);
        guest[sl - (size_t)(sep - spec) - 2] = 0;
    } else {
        memcpy(host, spec, sl);
        host[sl] = 0;
        snprintf(guest, sizeof guest, "%s", host[0] == '/' ? host : "/");
        /* strip a trailing '/' of an absolute host path used as guest path */
        while (strlen(guest) > 1 && guest[strlen(guest) - 1] == '/')
            guest[strlen(guest) - 1] = 0;
    }
    return kiln_vk_mount(vk, host, guest, flags, err);
}

static int cmd_exec(int argc, char **argv)
{
    const char *dirs[MAX_OPTS], *listens[MAX_OPTS], *policy = NULL, *audit = NULL, *modpath;
    char *kdirs[MAX_OPTS]; /* --kilnd: the --dir paths as asked of kilnd (kilnd_dir) */
    const char *kilnd = NULL, *container = NULL, *aot_cache = NULL, *argv0 = NULL;
    struct kiln_kilnd *kc = NULL;
    char *envs[MAX_OPTS];
    int ndirs = 0, nlist = 0, nenv = 0, nkdirs = 0, i, code = 1, r;
    bool refused = false; /* kilnd refused what was asked: exit 126 */
    struct kiln_error err;
    struct kiln_vk *vk = NULL;
    struct kiln_vk_policy *pol = NULL;
    struct kiln_wasi *w = NULL;
    struct kiln_module *mod = NULL;
    struct kiln_store *store = NULL;
    struct kiln_store_config sc;
    struct kiln_trap trap;
    uint8_t *bytes = NULL;
    size_t len = 0;

    memset(&err, 0, sizeof err);
    memset(&trap, 0, sizeof trap);
    for (i = 1; i < argc; i += 2) { /* every option takes one value */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-' || !strcmp(a, "--")) break;
        if (v == NULL) {
            fprintf(stderr, "kiln exec: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--dir") && ndirs < MAX_OPTS)
            dirs[ndirs++] = v;
        else if (!strcmp(a, "--env") && nenv < MAX_OPTS) {
            if (strchr(v, '=') == NULL) {
                fprintf(stderr, "kiln exec: --env %s: expected K=V\n", v);
                return 2;
            }
            envs[nenv++] = (char *)v;
        } else if (!strcmp(a, "--listen") && nlist < MAX_OPTS)
            listens[nlist++] = v;
        else if (!strcmp(a, "--policy"))
            policy = v;
        else if (!strcmp(a, "--audit"))
            audit = v;
        else if (!strcmp(a, "--kilnd"))
            kilnd = v;
        else if (!strcmp(a, "--aot-cache"))
            aot_cache = v;
        else if (!strcmp(a, "--container"))
            container = v;
        else if (!strcmp(a, "--argv0"))
            argv0 = v;
        else {
            fprintf(stderr, "kiln exec: unknown option %s\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (i < argc && !strcmp(argv[i], "--")) i++;
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    modpath = argv[i++];
    if (i < argc && !strcmp(argv[i], "--")) i++;
    if ((kilnd != NULL) != (container != NULL) || (kilnd != NULL && policy != NULL)) {
        fprintf(stderr, "kiln exec: --kilnd needs --container, and the policy is kilnd's\n");
        return 2;
    }

    if (kiln_vk_new(&vk, &err) < 0) goto fail;
    if (audit != NULL && kiln_vk_open_audit(vk, audit, &err) < 0) goto fail;
    if (policy != NULL) {
        if (kiln_vk_policy_load(policy, &pol, &err) < 0) goto fail;
        kiln_vk_set_policy(vk, pol);
    }
    for (r = 0; r < 3; r++)
        if (kiln_vk_install_fd(vk, r, r, KILN_VK_FD_NOCLOSE | (r ? KILN_VK_FD_STDOUT : 0)) < 0) {
            /* a closed stdio fd stays closed for the guest */
        }
    if (kilnd != NULL) {
        struct kiln_kilnd_hello h;
        char polid[80] = "builtin:permissive";
        const char *ptext;
        size_t plen;
        int ufd;
        for (nkdirs = 0; nkdirs < ndirs; nkdirs++) {
            char d[4096];
            if (kilnd_dir(dirs[nkdirs], d, sizeof d) < 0) {
                kiln_error_set(&err, KILN_E_ARG,
                               "--dir %s: with --kilnd, an absolute path in the container",
                               dirs[nkdirs]);
                goto fail;
            }
            if ((kdirs[nkdirs] = strdup(d)) == NULL) {
                kiln_error_set(&err, KILN_E_NOMEM, "out of memory");
                goto fail;
            }
        }
        ufd = open(modpath, O_RDONLY | O_CLOEXEC);
        memset(&h, 0, sizeof h);
        h.container = container;
        h.abi = "wasi_snapshot_preview1";
        h.unit_name = modpath;
        h.unit_fd = ufd;
        h.paths = (const char *const *)kdirs;
        h.npaths = nkdirs;
        h.paths_beneath = true; /* a --dir granted only beneath: its granted subtrees */
        h.listens = listens;
        h.nlistens = nlist;
        r = kiln_kilnd_attach(vk, kilnd, &h, on_kilnd_lost, &kc, &err);
        if (ufd >= 0) close(ufd);
        refused = r < 0 && err.code == KILN_E_DENIED;
        if (r < 0) goto fail;
        if ((ptext = kiln_kilnd_policy_text(kc, &plen)) != NULL) {
            /* named as kilnd's log and the run attestation name it */
            uint8_t md[crypto_hash_sha256_BYTES];
            crypto_hash_sha256(md, (const uint8_t *)ptext, plen);
            memcpy(polid, "sha256:", 8);
            sodium_bin2hex(polid + 7, sizeof polid - 7, md, sizeof md);
        }
        if (check_dirs(vk, dirs, (const char *const *)kdirs, nkdirs, container, polid, &err) < 0) {
            refused = true;
            goto fail;
        }
        if (kiln_kilnd_watch(kc, "kiln exec", on_kilnd_hup) < 0)
            fprintf(stderr, "kiln exec: warning: kilnd connection not watched: a guest that makes "
                            "no call to kilnd runs on if kilnd goes away\n");
        pol = (struct kiln_vk_policy *)kiln_vk_policy(vk); /* kilnd's, owned by vk */
    } else {
        for (r = 0; r < ndirs; r++)
            if (add_dir(vk, dirs[r], &err) < 0) goto fail;
        for (r = 0; r < nlist; r++)
            if (kiln_vk_listen(vk, listens[r], &err) < 0) goto fail;
    }

    bytes = read_file(modpath, &len);
    if (bytes == NULL) {
        kiln_error_sys(&err, errno, "%s", modpath);
        goto fail;
    }
    {
        /* with --aot-cache the interpreter's compile waits for an instance
         * that interprets (none, once the object attaches) */
        struct kiln_module_config mcfg;
        kiln_module_config_default(&mcfg);
        mcfg.defer_compile = aot_cache != NULL;
        if (kiln_module_new(bytes, len, &mcfg, &mod, &err) < 0) {
            kiln_error_prefix(&err, "%s", modpath);
            goto fail;
        }
    }
    if (aot_cache != NULL) {
        if (kiln_aot_compile_cached(mod, aot_cache, NULL, &err) < 0) {
            kiln_error_prefix(&err, "%s: --aot-cache %s", modpath, aot_cache);
            goto fail;
        }
        /* the object is mapped: from here on nothing may become executable */
        {
            struct kiln_harden_result hr;
            memset(&hr, 0, sizeof hr);
            r = kiln_platform_harden(KILN_HARDEN_ALL | KILN_HARDEN_MDWE_OPTIONAL, &hr);
            if (r < 0) {
                kiln_error_sys(&err, -r, "hardening after loading the AOT object (%s)",
                               hr.failed ? hr.failed : "?");
                goto fail;
            }
        }
    } else if (kiln_vk_policy_require_aot(pol)) {
        kiln_error_set(&err, KILN_E_DENIED,
                       "%s: the policy requires AOT ($.engine.requireAot); run with --aot-cache "
                       "DIR",
                       modpath);
        goto fail;
    }
    kiln_store_config_default(&sc);
    if (pol != NULL && kiln_vk_policy_limits(pol)->memory_bytes)
        sc.max_memory_bytes = kiln_vk_policy_limits(pol)->memory_bytes;
    store = kiln_store_new(&sc);
    if (store == NULL) {
        kiln_error_set(&err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    {
        char **gargv = calloc((size_t)(argc - i + 2), sizeof *gargv);
        int n = 0;
        if (gargv == NULL) {
            kiln_error_set(&err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        gargv[n++] = (char *)(argv0 != NULL ? argv0 : modpath);
        while (i < argc)
            gargv[n++] = argv[i++];
        r = kiln_wasi_new(vk, n, gargv, nenv, envs, &w, &err);
        free(gargv);
        if (r < 0) goto fail;
    }
    /* the second wall: from here on the process reaches only the mounts */
    if (getenv("KILN_NO_LANDLOCK") == NULL && kiln_vk_confine(vk, &err) < 0)
        memset(&err, 0, sizeof err); /* unavailable: the vkernel's own checks remain */
    /* daemon placement: the process cannot gain authority by itself either
     * (seccomp); everything it may use arrives from kilnd */
    if (kc != NULL && getenv("KILN_NO_SEAL") == NULL && (r = kiln_kilnd_seal()) < 0) {
        kiln_error_sys(&err, -r, "kilnd: sealing the process");
        goto fail;
    }
    g_vk = vk;
    kiln_interrupt_slot_set(&g_run, store);
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop; /* no SA_RESTART: blocked host calls return EINTR */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    r = kiln_wasi_run_limited(w, store, mod, pol ? kiln_vk_policy_limits(pol) : NULL, &trap, &err);
    kiln_interrupt_slot_clear(&g_run); /* waits for a fire or signal path in progress */
    g_vk = NULL;                       /* no signal path reads it any more */
    if (r < 0) goto fail;
    if (g_kilnd_lost) {
        fprintf(stderr, "kiln exec: %s: stopped: the kilnd connection was lost\n", modpath);
        code = 125;
        goto out;
    }
    if (g_signal) {
        code = 128 + g_signal;
        goto out;
    }
    if (trap.kind != KILN_TRAP_NONE && trap.kind != KILN_TRAP_EXIT)
        fprintf(stderr, "kiln exec: %s: trap: %s%s\n", modpath, trap.msg,
                trap.kind == KILN_TRAP_INTERRUPTED ? " (time limit)" : "");
    code = r;
    goto out;
fail:
    fprintf(stderr, "kiln exec: %s%s\n", refused ? "refused: " : "",
            err.msg[0] ? err.msg : "failed");
    code = refused ? 126 : err.code == KILN_E_ARG ? 2 : 1;
out:
    while (nkdirs > 0)
        free(kdirs[--nkdirs]);
    kiln_wasi_free(w);
    kiln_store_free(store);
    kiln_module_free(mod);
    kiln_vk_free(vk); /* frees pol */
    kiln_kilnd_free(kc);
    free(bytes);
    return code;
}

#else /* no engine in this build */

static int cmd_exec(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "kiln exec: this build has no WebAssembly engine\n");
    return 1;
}

#endif

KILN_COMMAND(exec, "exec", "run a WASI preview1 module on the vkernel", cmd_exec);
