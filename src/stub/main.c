/*
 * main.c — kiln-stub, the loader at the front of every unit file
 * (docs/formats.md §5–§6, DESIGN.md §2).
 *
 * The kernel runs a unit as an ordinary static ELF: this program. It
 *
 *   1. reads its own file through an fd of /proc/self/exe, ONCE, and verifies
 *      it (kiln_unit_verify_fd) against the system trust store — whose place
 *      is fixed at build time or by a root-owned config file, never by the
 *      environment or argv, which belong to the guest;
 *   2. sets up the guest's kernel: embedded (the unit's signed policy,
 *      intersected with the container's when kiln-oci left one at
 *      KILN_STUB_KILND_DIR/policy.json; the process's root mounted at
 *      "/") or, when the runtime put kilnd's files at KILN_STUB_KILND_DIR
 *      (kilnd.c), the daemon placement: it connects to kilnd, presents its
 *      verified unit (HELLO with the fd of /proc/self/exe) and installs the
 *      grant and kilnd's policy;
 *   3. creates the module with kiln_unit_module_load (the unit's signed AOT
 *      object, mapped read+exec from a sealed memfd, or the interpreter) —
 *      before hardening, which forbids PROT_EXEC from then on;
 *   4. only then hardens the process (harden.c: no_new_privs, MDWE, the
 *      no-JIT seccomp filter), confines it with Landlock to its mounts
 *      (kiln_vk_confine; none at all in the daemon placement) and, in the
 *      daemon placement, seals it (kiln_kilnd_seal: no open, socket, exec
 *      ... of its own) and watches the kilnd connection;
 *   5. runs the verified module on the engine, passing argv, the
 *      environment and the exit status through.
 *
 * Nothing the guest controls is interpreted before step 5: every argument,
 * including options that look like ours, goes to the guest; the environment
 * never selects the placement.
 *
 * A refusal exits 126 with exactly one line on stderr,
 *     kiln-stub: refused: <reason>: <detail>
 * and one "refused" audit event when an audit sink is configured. <reason>
 * is a verifier refusal (kiln_refusal_name: "bad footer", "unknown key",
 * "revoked key", "bad signature", "digest mismatch", "unsupported version",
 * ...) or one of the stub's own: "config" (stub config unsafe or wrong),
 * "trust store" (the system store cannot be opened), "harden" (a hardening
 * step failed), "bad policy" (the signed policy does not parse), "container
 * policy" (KILN_STUB_KILND_DIR/policy.json is present but not a root-owned
 * regular file only root may write, unreadable or malformed), "kilnd"
 * (the daemon placement is set up wrong, or kilnd refused or cannot be
 * reached: fail closed, never a fallback to embedded), "internal". A guest
 * that cannot be started after verification (link error, no _start) exits
 * 126 with "kiln-stub: cannot run: <detail>". A trap exits 134 (as `kiln
 * exec`) with "kiln-stub: trap: <message>".
 *
 * The stub config (CMake KILN_STUB_CONFIG, default /etc/kiln/stub.conf) is
 * optional; if present it MUST be a regular file owned by root and not
 * writable by group or others (else every unit is refused), with lines
 *     audit = /absolute/path     append audit events (docs/audit.md) there
 * Blank lines and '#' comments are allowed; any other key is an error, so a
 * typo cannot silently drop auditing.
 *
 * Build-time switches (compile definitions; the production kiln-stub has
 * only the first one):
 *   KILN_STUB_CONFIG        path of the stub config;
 *   KILN_STUB_TRUST_DIR     + KILN_STUB_TRUST_CONFIG: a test build's own
 *                           system-store paths (same ownership rules as the
 *                           real store) instead of kiln_trust_store_open_default;
 *   KILN_STUB_TIMING        benchmark build: one "kiln-stub-timing" line on
 *                           stderr at exit (bench/startup/run);
 *   KILN_STUB_MDWE_OPTIONAL run on kernels without PR_SET_MDWE (< 6.3);
 *   KILN_STUB_KILND_DIR     where the runtime puts kilnd.sock and kilnd.id
 *                           (default /run/kiln; a test build's own).
 *
 * The guest's view: stdin/stdout/stderr are the process's. A unit with a
 * policy region gets the process's root directory mounted at "/" and the
 * policy decides what is reachable (its default is nothing); its preopens are
 * "/" when the policy grants it, else the highest directories beneath it that
 * the policy grants and that exist (embedded_dirs, kilnd's rule for
 * "beneath"); a unit without one gets the permissive built-in policy and no
 * filesystem at all. In the daemon placement the same unit asks kilnd for
 * "/" with "beneath" (with a policy: "/" if the process's policy grants it,
 * else the highest directories beneath it that the policy grants) or for
 * nothing (without),
 * and kilnd's policy is the one in force: the container's (kiln-oci
 * registers the entry unit's signed policy as that policy), intersected with
 * the unit's own for a unit exec'd into the container.
 * Embedded inside a kiln-oci container whose entry unit has a policy, that
 * policy is at KILN_STUB_KILND_DIR/policy.json and a unit exec'd there runs
 * under intersect(it, its own policy), as kilnd would run it; a unit without
 * a policy of its own then runs under the container's, with no filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kiln/kilnd.h"
#include "kiln/unit.h"
#include "kiln/unit_load.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "platform/linux/harden.h"
#include "stub/stub.h"
#include "vkernel/vk.h" /* kiln__policy_set_label: rule names naming their side */

#ifdef KILN_STUB_TRUST_DIR
#include "trust/trust_internal.h"
#endif

#ifndef KILN_STUB_CONFIG
#define KILN_STUB_CONFIG "/etc/kiln/stub.conf"
#endif

#ifndef KILN_STUB_KILND_DIR
#define KILN_STUB_KILND_DIR "/run/kiln"
#endif

#define EXIT_REFUSED 126
#define EXIT_TRAP 134
#define EXIT_KILND_LOST 125

extern char **environ;

/* Everything main() owns, freed in one place. */
struct stub {
    struct kiln_vk *vk;             /* the guest's kernel; also our audit sink */
    struct kiln_trust_store *ts;    /* the system trust store */
    struct kiln_unit *unit;         /* the verified unit (freed once hardened) */
    int exe_fd;                     /* /proc/self/exe, for kilnd's HELLO (-1: closed) */
    struct kiln_kilnd *kc;          /* daemon placement: the connection, else NULL */
    struct kiln_module *mod;        /* the module (owns its AOT object, if any) */
    struct kiln_store *store;       /* the engine store */
    struct kiln_wasi *wasi;         /* the WASI preview1 adapter */
    struct kiln_stub_timing timing; /* phase times (printed by timing builds) */
};

/* The daemon placement's fail-closed state: set when the kilnd connection
 * hangs up (watcher thread) or a forwarded call finds it broken (client). */
static volatile sig_atomic_t g_lost;
static struct kiln_interrupt_slot g_run; /* the store while the guest runs */

static void on_lost(const char *msg)
{
    fprintf(stderr, "kiln-stub: %s\n", msg);
    g_lost = 1;
    kiln_interrupt_slot_fire(&g_run);
}

static void on_hup(void)
{
    if (!g_lost) g_lost = 2; /* seen by the watcher; the client has not reported it */
    kiln_interrupt_slot_fire(&g_run);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Prints the one refusal line, audits it and returns the exit status. */
static int refuse(struct stub *s, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(struct stub *s, const char *reason, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    /* one line, whatever the detail holds */
    for (char *p = detail; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fprintf(stderr, "kiln-stub: refused: %s: %s\n", reason, detail);
    kiln_stub_audit_refused(s->vk, reason, detail);
    return EXIT_REFUSED;
}

/* The store's refusal detail: err.msg already starts with "<reason>: ". */
static const char *detail_of(const struct kiln_error *err, const char *reason)
{
    size_t n = strlen(reason);
    if (strncmp(err->msg, reason, n) == 0 && err->msg[n] == ':' && err->msg[n + 1] == ' ')
        return err->msg + n + 2;
    return err->msg[0] ? err->msg : "failed";
}

static int open_trust_store(struct kiln_trust_store **ts, struct kiln_error *err)
{
#ifdef KILN_STUB_TRUST_DIR
    return kiln__trust_store_open_system(KILN_STUB_TRUST_CONFIG, KILN_STUB_TRUST_DIR, ts, err);
#else
    return kiln_trust_store_open_default(ts, err);
#endif
}

/* Step 1: config, trust store, verification. Keeps the fd of
 * /proc/self/exe open for kilnd. Returns 0 or the exit status of a refusal
 * (already reported). */
static int verify(struct stub *s)
{
    struct kiln_error err = {0};
    struct kiln_stub_config cfg;
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    int rc;

    if (kiln_vk_new(&s->vk, &err) < 0) return refuse(s, "internal", "%s", err.msg);
    if (kiln_stub_config_load(KILN_STUB_CONFIG, &cfg, &err) < 0)
        return refuse(s, "config", "%s", err.msg);
    if (cfg.audit[0] && kiln_vk_open_audit(s->vk, cfg.audit, &err) < 0)
        return refuse(s, "config", "audit: %s", err.msg);

    s->exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (s->exe_fd < 0)
        return refuse(s, kiln_refusal_name(KILN_REFUSAL_IO), "/proc/self/exe: %s", strerror(errno));
    if (open_trust_store(&s->ts, &err) < 0) return refuse(s, "trust store", "%s", err.msg);
    s->timing.setup_ns = now_ns() - s->timing.main_ns;
    rc = kiln_unit_verify_fd(s->exe_fd, s->ts, &s->unit, &why, &err);
    if (rc < 0) {
        const char *reason = kiln_refusal_name(why != KILN_REFUSAL_NONE ? why : KILN_REFUSAL_IO);
        return refuse(s, reason, "%s", detail_of(&err, reason));
    }
    s->timing.read_ns = s->unit->timing.read_ns;
    s->timing.parse_ns = s->unit->timing.parse_ns;
    s->timing.sig_ns = s->unit->timing.sig_ns;
    s->timing.hash_ns = s->unit->timing.hash_ns;
    return 0;
}

/* The daemon placement: connects to kilnd and installs its grant. Returns 0
 * or the exit status of a refusal. */
static int attach(struct stub *s, const char *sock, const char *id)
{
    const struct kiln_manifest *m = &s->unit->statement.manifest;
    static const char *const root[] = {"/"};
    struct kiln_kilnd_hello h;
    struct kiln_error err = {0};
    memset(&h, 0, sizeof h);
    h.container = id;
    h.abi = m->guest_abi ? m->guest_abi : "wasi_snapshot_preview1";
    h.unit_name = m->source_path ? m->source_path : "unit";
    h.unit_fd = s->exe_fd;
    /* a unit with a policy gets "/" when its effective policy (kilnd's
     * intersection of the container's and its own) grants "/", else the
     * highest directories beneath it that policy grants — exactly what the
     * policy reaches, nothing it denies is visible; one without a policy gets
     * no filesystem. A kilnd without "beneath" denies "/": fail closed. */
    h.paths = s->unit->policy != NULL ? root : NULL;
    h.npaths = s->unit->policy != NULL ? 1 : 0;
    h.paths_beneath = true;
    if (kiln_kilnd_attach(s->vk, sock, &h, on_lost, &s->kc, &err) < 0)
        return refuse(s, "kilnd", "%s", err.msg);
    return 0;
}

/* "sha256:<hex>" of len bytes at data into out. */
static void digest_id(const void *data, size_t len, char out[72])
{
    static const char hx[] = "0123456789abcdef";
    uint8_t d[32];
    crypto_hash_sha256(d, data, len);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < 32; i++) {
        out[7 + 2 * i] = hx[d[i] >> 4];
        out[8 + 2 * i] = hx[d[i] & 15];
    }
    out[71] = 0;
}

/* Audit event "policy" for a unit narrowed by the container's policy (as kilnd's for a
 * narrowed attach): "container" the digest of the container's document, "policy" the digest
 * of the effective policy's canonical document (kiln_vk_policy_to_json). */
static void audit_policy(struct stub *s, const char *ctext, size_t clen,
                         const struct kiln_vk_policy *eff)
{
    struct kiln_error err = {0};
    char cid[72], pid[72] = "unknown", *doc = NULL;
    size_t len = 0;
    digest_id(ctext, clen, cid);
    if (kiln_vk_policy_to_json(eff, &doc, &len, &err) == 0) digest_id(doc, len, pid);
    free(doc);
    kiln__audit(s->vk, "policy", "\"container\":\"%s\",\"policy\":\"%s\"", cid, pid);
}

/* The embedded placement's policy: the unit's own signed policy, intersected
 * with the container's (KILN_STUB_KILND_DIR/policy.json, which kiln-oci puts
 * in a read-only tmpfs when the container's entry unit has a policy) exactly
 * as kilnd does for a unit that attaches by itself (docs/guest-proc.md,
 * "Whose policy"): a file equal to the unit's own policy (the entry unit)
 * changes nothing; rule names say which side decided ("container:",
 * "unit:"). A file that is present but unsafe, unreadable or malformed
 * refuses the unit (fail closed). *out: the policy (NULL: the permissive
 * built-in one). Returns 0 or the exit status of a refusal. */
static int embedded_policy(struct stub *s, struct kiln_vk_policy **out)
{
    static const char cpath[] = KILN_STUB_KILND_DIR "/policy.json";
    struct kiln_error err = {0};
    struct kiln_vk_policy *up = NULL, *cp = NULL;
    char *ctext = NULL;
    size_t clen = 0;
    int rc = 0;

    *out = NULL;
    if (kiln_stub_container_policy_read(cpath, &ctext, &clen, &err) < 0)
        return refuse(s, "container policy", "%s", err.msg);
    if (ctext != NULL && s->unit->policy != NULL && clen == s->unit->policy_len &&
        memcmp(ctext, s->unit->policy, clen) == 0) {
        free(ctext); /* the container's entry unit: its own policy is the container's */
        ctext = NULL;
    }
    if (s->unit->policy != NULL &&
        kiln_vk_policy_parse((const char *)s->unit->policy, s->unit->policy_len, "policy.json", &up,
                             &err) < 0) {
        rc = refuse(s, "bad policy", "%s", err.msg);
        goto fail;
    }
    if (ctext == NULL) {
        *out = up;
        return 0;
    }
    if (kiln_vk_policy_parse(ctext, clen, cpath, &cp, &err) < 0) {
        rc = refuse(s, "container policy", "%s", err.msg);
        goto fail;
    }
    if (up != NULL) { /* as kilnd: without a policy of its own the container's names stay */
        kiln__policy_set_label(up, "unit");
        kiln__policy_set_label(cp, "container");
    }
    if (kiln_vk_policy_intersect(cp, up, out, &err) < 0) {
        rc = refuse(s, "internal", "policy intersection: %s", err.msg);
        goto fail;
    }
    audit_policy(s, ctext, clen, *out);
fail:
    kiln_vk_policy_free(up);
    kiln_vk_policy_free(cp);
    free(ctext);
    return rc;
}

/* kiln__policy_fs_granted_beneath callback: opens guest directory path in the vkernel ctx
 * (under its policy) as a preopen. An absent one is no preopen; one that cannot be opened
 * otherwise is none either, with a warning. Returns 0. */
static int grant_dir(const char *path, void *ctx)
{
    struct kiln_vk *vk = ctx;
    int g = kiln__vk_open_grant(vk, path, strlen(path));
    if (g >= 0)
        vk->fds[g].flags |= KILN_VK_FD_PREOPEN;
    else if (g != -ENOENT && g != -ENOTDIR)
        fprintf(stderr, "kiln-stub: warning: %s not preopened: %s\n", path, strerror(-g));
    return 0;
}

/* The embedded filesystem of a unit with a policy: the process's root mounted at "/" (every
 * path resolves beneath it, under the policy; Landlock confines the process to it), with the
 * preopens the policy reaches, as kilnd grants them for "beneath": "/" itself when the policy
 * grants it, else the highest directories beneath it that the policy grants and that exist
 * (kiln__policy_fs_granted_beneath) — so a unit granted only /etc gets /etc and cannot list
 * the names in "/" (a readdir on a preopen checks no path). Returns 0 or the exit status of
 * a refusal. */
static int embedded_dirs(struct stub *s)
{
    struct kiln_error err = {0};
    const struct kiln_vk_policy *pol = kiln_vk_policy(s->vk);
    int root, rule;
    if ((root = kiln_vk_mount(s->vk, "/", "/", 0, &err)) < 0)
        return refuse(s, "internal", "mount /: %s", err.msg);
    if (pol == NULL || kiln__policy_fs(pol, "/", &rule) != KILN__FS_NONE) return 0;
    kiln__fd_release(s->vk, root); /* "/" stays mounted, but is no preopen */
    (void)kiln__policy_fs_granted_beneath(pol, "/", grant_dir, s->vk);
    return 0;
}

/* Steps 2 and 3: the guest's kernel (embedded or kilnd) and the module, AOT
 * object mapped before hardening. Returns 0 or an exit status. */
static int load(struct stub *s)
{
    struct kiln_error err = {0};
    struct kiln_vk_policy *pol = NULL;
    char sock[PATH_MAX], id[80];
    uint64_t t = now_ns();
    int fd, daemon;

    daemon = kiln_stub_kilnd_find(KILN_STUB_KILND_DIR, sock, sizeof sock, id, sizeof id, &err);
    if (daemon < 0) return refuse(s, "kilnd", "%s", err.msg);
    if (!daemon) {
        int rc = embedded_policy(s, &pol);
        if (rc != 0) return rc;
        if (pol != NULL) kiln_vk_set_policy(s->vk, pol);
    }
    for (fd = 0; fd < 3; fd++)
        (void)kiln_vk_install_fd(s->vk, fd, fd, KILN_VK_FD_NOCLOSE | (fd ? KILN_VK_FD_STDOUT : 0));
    if (daemon) {
        int rc;
        if ((rc = attach(s, sock, id)) != 0) return rc;
        if (kiln_kilnd_watch(s->kc, "kiln-stub", on_hup) < 0)
            fprintf(stderr, "kiln-stub: warning: kilnd connection not watched: a guest blocked "
                            "in a host call notices a lost kilnd only at its next call\n");
    } else if (s->unit->policy != NULL) {
        int rc = embedded_dirs(s);
        if (rc != 0) return rc;
    }
    close(s->exe_fd);
    s->exe_fd = -1;

    if (kiln_unit_module_load(s->unit, kiln_vk_policy(s->vk), s->vk, &s->mod, NULL, &err) < 0) {
        fprintf(stderr, "kiln-stub: cannot run: %s\n", err.msg);
        return EXIT_REFUSED;
    }
    s->timing.decode_ns = now_ns() - t;
    return 0;
}

/* Step 4: hardening, checked against what the kernel reports, and the
 * "unit" audit event; then the unit's file image is freed. Returns 0 or the
 * exit status of a refusal. */
static int harden(struct stub *s)
{
    struct kiln_harden_result hr;
    struct kiln_harden_status st;
    unsigned flags = KILN_HARDEN_ALL;
    uint64_t t = now_ns();
    int rc;

#ifdef KILN_STUB_MDWE_OPTIONAL
    flags |= KILN_HARDEN_MDWE_OPTIONAL;
#endif
    rc = kiln_platform_harden(flags, &hr);
    s->timing.harden_ns = now_ns() - t;
    if (rc < 0) return refuse(s, "harden", "%s: %s", hr.failed ? hr.failed : "?", strerror(-rc));
    /* trust the kernel's word, not our bookkeeping: this is what gets audited */
    kiln_platform_harden_status(&st);
    if (st.no_new_privs != 1 || st.seccomp_mode != 2 ||
        ((hr.applied & KILN_HARDEN_MDWE) && !(st.mdwe > 0 && (st.mdwe & 1))))
        return refuse(s, "harden", "the kernel reports seccomp mode %d, no_new_privs %d, mdwe %d",
                      st.seccomp_mode, st.no_new_privs, st.mdwe);
    kiln_stub_audit_unit(s->vk, s->unit, &st);
    /* the module holds its own copy: the file image is no longer needed */
    kiln_unit_free(s->unit);
    s->unit = NULL;
    return 0;
}

/* Step 4 (rest) up to the guest's first instruction: the store, the WASI
 * adapter, Landlock and, in the daemon placement, the seal. Returns 0 or an
 * exit status. */
static int prepare(struct stub *s, int argc, char **argv)
{
    struct kiln_error err = {0};
    const struct kiln_vk_policy *pol = kiln_vk_policy(s->vk);
    struct kiln_store_config sc;
    int nenv = 0, rc;

    kiln_store_config_default(&sc);
    if (pol != NULL && kiln_vk_policy_limits(pol)->memory_bytes)
        sc.max_memory_bytes = kiln_vk_policy_limits(pol)->memory_bytes;
    s->store = kiln_store_new(&sc);
    if (s->store == NULL) {
        fprintf(stderr, "kiln-stub: cannot run: out of memory\n");
        return EXIT_REFUSED;
    }
    while (environ != NULL && environ[nenv] != NULL)
        nenv++;
    if (kiln_wasi_new(s->vk, argc, argv, nenv, environ, &s->wasi, &err) < 0) {
        fprintf(stderr, "kiln-stub: cannot run: %s\n", err.msg);
        return EXIT_REFUSED;
    }
    /* the second wall (Landlock): from here on the process reaches only the
     * mounts (none in the daemon placement); where the kernel lacks it the
     * vkernel's own checks remain */
    if (kiln_vk_confine(s->vk, &err) < 0) memset(&err, 0, sizeof err);
    /* daemon placement: no authority of its own either — everything the
     * guest may use arrives from kilnd as descriptors */
    if (s->kc != NULL && (rc = kiln_kilnd_seal()) < 0)
        return refuse(s, "harden", "kilnd seal: %s", strerror(-rc));
    return 0;
}

/* Runs _start under the policy's time limits. Returns the exit status. */
static int run(struct stub *s)
{
    const struct kiln_vk_policy *pol = kiln_vk_policy(s->vk);
    const struct kiln_vk_limits *lim = pol ? kiln_vk_policy_limits(pol) : NULL;
    struct kiln_error err = {0};
    struct kiln_trap trap;
    int r;

    memset(&trap, 0, sizeof trap);
    s->timing.run_start_ns = now_ns();
    kiln_interrupt_slot_set(&g_run, s->store);
    if (g_lost) kiln_store_interrupt(s->store); /* lost before the first instruction */
    r = kiln_wasi_run_limited(s->wasi, s->store, s->mod, lim, &trap, &err);
    kiln_interrupt_slot_clear(&g_run); /* the watcher thread may be firing */
    if (s->kc != NULL &&
        (kiln_kilnd_lost(s->kc) || (g_lost && trap.kind == KILN_TRAP_INTERRUPTED))) {
        if (g_lost == 2) /* the watcher's: the client's own line was not printed */
            fprintf(stderr, "kiln-stub: kilnd connection lost (hangup): failing closed\n");
        fprintf(stderr, "kiln-stub: stopped: the kilnd connection was lost\n");
        return EXIT_KILND_LOST;
    }
    if (r < 0) {
        fprintf(stderr, "kiln-stub: cannot run: %s\n", err.msg[0] ? err.msg : "failed");
        return EXIT_REFUSED;
    }
    if (trap.kind != KILN_TRAP_NONE && trap.kind != KILN_TRAP_EXIT)
        fprintf(stderr, "kiln-stub: trap: %s%s\n", trap.msg,
                trap.kind == KILN_TRAP_INTERRUPTED ? " (time limit)" : "");
    return r;
}

int main(int argc, char **argv)
{
    struct stub s;
    int code;

    memset(&s, 0, sizeof s);
    s.exe_fd = -1;
    s.timing.main_ns = now_ns();
    code = verify(&s);
    if (code == 0) code = load(&s);
    if (code == 0) code = harden(&s);
    if (code == 0) code = prepare(&s, argc, argv);
    if (code == 0) code = run(&s);
#ifdef KILN_STUB_TIMING
    kiln_stub_timing_print(&s.timing);
#endif
    fflush(stdout);
    kiln_wasi_free(s.wasi);
    kiln_store_free(s.store);
    kiln_module_free(s.mod);
    kiln_unit_free(s.unit);
    kiln_trust_store_free(s.ts);
    kiln_vk_free(s.vk);
    kiln_kilnd_free(s.kc); /* after vk, as kilnd.h says */
    if (s.exe_fd >= 0) close(s.exe_fd);
    return code;
}
