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
 *   2. only then hardens the process (harden.c: no_new_privs, MDWE, the
 *      no-JIT seccomp filter), and, once the guest's mounts are set up,
 *      confines it with Landlock to them (kiln_vk_confine);
 *   3. runs the verified module on the engine with the embedded vkernel and
 *      the unit's signed policy, passing argv, the environment and the exit
 *      status through.
 *
 * Nothing the guest controls is interpreted before step 3: every argument,
 * including options that look like ours, goes to the guest.
 *
 * A refusal exits 126 with exactly one line on stderr,
 *     kiln-stub: refused: <reason>: <detail>
 * and one "refused" audit event when an audit sink is configured. <reason>
 * is a verifier refusal (kiln_refusal_name: "bad footer", "unknown key",
 * "revoked key", "bad signature", "digest mismatch", "unsupported version",
 * ...) or one of the stub's own: "config" (stub config unsafe or wrong),
 * "trust store" (the system store cannot be opened), "harden" (a hardening
 * step failed), "bad policy" (the signed policy does not parse), "internal". A guest
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
 *   KILN_STUB_MDWE_OPTIONAL run on kernels without PR_SET_MDWE (< 6.3).
 *
 * The guest's view: stdin/stdout/stderr are the process's. A unit with a
 * policy region gets the process's root directory mounted at "/" and the
 * policy decides what is reachable (its default is nothing); a unit without
 * one gets the permissive built-in policy and no filesystem at all.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "platform/linux/harden.h"
#include "stub/stub.h"

#ifdef KILN_STUB_TRUST_DIR
#include "trust/trust_internal.h"
#endif

#ifndef KILN_STUB_CONFIG
#define KILN_STUB_CONFIG "/etc/kiln/stub.conf"
#endif

#define EXIT_REFUSED 126
#define EXIT_TRAP 134

extern char **environ;

/* Everything main() owns, freed in one place. */
struct stub {
    struct kiln_vk *vk;             /* the guest's kernel; also our audit sink */
    struct kiln_trust_store *ts;    /* the system trust store */
    struct kiln_unit *unit;         /* the verified unit (freed once decoded) */
    struct kiln_module *mod;        /* the decoded module */
    struct kiln_store *store;       /* the engine store */
    struct kiln_wasi *wasi;         /* the WASI preview1 adapter */
    struct kiln_stub_timing timing; /* phase times (printed by timing builds) */
};

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

/* Steps 1 and 2: config, trust store, verification, hardening. Returns 0 or
 * the exit status of a refusal (already reported). */
static int verify_and_harden(struct stub *s)
{
    struct kiln_error err = {0};
    struct kiln_stub_config cfg;
    struct kiln_harden_result hr;
    struct kiln_harden_status st;
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    unsigned flags = KILN_HARDEN_ALL;
    uint64_t t;
    int fd, rc;

    if (kiln_vk_new(&s->vk, &err) < 0) return refuse(s, "internal", "%s", err.msg);
    if (kiln_stub_config_load(KILN_STUB_CONFIG, &cfg, &err) < 0)
        return refuse(s, "config", "%s", err.msg);
    if (cfg.audit[0] && kiln_vk_open_audit(s->vk, cfg.audit, &err) < 0)
        return refuse(s, "config", "audit: %s", err.msg);

    fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return refuse(s, kiln_refusal_name(KILN_REFUSAL_IO), "/proc/self/exe: %s", strerror(errno));
    if (open_trust_store(&s->ts, &err) < 0) {
        close(fd);
        return refuse(s, "trust store", "%s", err.msg);
    }
    s->timing.setup_ns = now_ns() - s->timing.main_ns;
    rc = kiln_unit_verify_fd(fd, s->ts, &s->unit, &why, &err);
    close(fd);
    if (rc < 0) {
        const char *reason = kiln_refusal_name(why != KILN_REFUSAL_NONE ? why : KILN_REFUSAL_IO);
        return refuse(s, reason, "%s", detail_of(&err, reason));
    }
    s->timing.read_ns = s->unit->timing.read_ns;
    s->timing.parse_ns = s->unit->timing.parse_ns;
    s->timing.sig_ns = s->unit->timing.sig_ns;
    s->timing.hash_ns = s->unit->timing.hash_ns;

    t = now_ns();
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
    return 0;
}

/* Step 3 up to the guest's first instruction: the vkernel, the policy, the
 * module, the store and the WASI adapter. Returns 0 or an exit status. */
static int prepare(struct stub *s, int argc, char **argv)
{
    struct kiln_error err = {0};
    struct kiln_vk_policy *pol = NULL;
    struct kiln_store_config sc;
    int nenv = 0, fd;
    uint64_t t = now_ns();

    if (s->unit->policy != NULL) {
        if (kiln_vk_policy_parse((const char *)s->unit->policy, s->unit->policy_len, "policy.json",
                                 &pol, &err) < 0)
            return refuse(s, "bad policy", "%s", err.msg);
        kiln_vk_set_policy(s->vk, pol);
    }
    for (fd = 0; fd < 3; fd++)
        (void)kiln_vk_install_fd(s->vk, fd, fd, KILN_VK_FD_NOCLOSE | (fd ? KILN_VK_FD_STDOUT : 0));
    if (pol != NULL && kiln_vk_mount(s->vk, "/", "/", 0, &err) < 0)
        return refuse(s, "internal", "mount /: %s", err.msg);

    if (kiln_module_new(s->unit->wasm, s->unit->wasm_len, NULL, &s->mod, &err) < 0) {
        fprintf(stderr, "kiln-stub: cannot run: module.wasm: %s\n", err.msg);
        return EXIT_REFUSED;
    }
    /* the module holds its own copy: the file image is no longer needed */
    kiln_unit_free(s->unit);
    s->unit = NULL;
    s->timing.decode_ns = now_ns() - t;

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
     * mounts; where the kernel lacks it the vkernel's own checks remain */
    if (kiln_vk_confine(s->vk, &err) < 0) memset(&err, 0, sizeof err);
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
    r = kiln_wasi_run_limited(s->wasi, s->store, s->mod, lim, &trap, &err);
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
    s.timing.main_ns = now_ns();
    code = verify_and_harden(&s);
    if (code == 0) code = prepare(&s, argc, argv);
    if (code == 0) code = run(&s);
#ifdef KILN_STUB_TIMING
    kiln_stub_timing_print(&s.timing);
#endif
    kiln_wasi_free(s.wasi);
    kiln_store_free(s.store);
    kiln_module_free(s.mod);
    kiln_unit_free(s.unit);
    kiln_trust_store_free(s.ts);
    kiln_vk_free(s.vk);
    fflush(stdout);
    return code;
}
