/*
 * run_guest.c — the guest side of `kiln run`, after run_verify.c accepted
 * the image: the vkernel (policy, audit sink, mounts: the rootfs read-only at
 * "/", a private empty /tmp when the image has one, --volume, --listen), the
 * module of the verified unit (kiln_unit_module_load: its signed AOT object
 * or the interpreter), argv/env, Landlock, and the run.
 *
 * With a private /tmp the guest runs in a forked child: Landlock confines only
 * the child, so this process can still remove the directory afterwards.
 * For the --json summary the run keeps a read view of the audit sink (the
 * --audit file, or a memfd when there is none) and counts this run's events
 * afterwards (kiln__run_audit_summary).
 */
#ifdef KILN_HAVE_WASI
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/run_internal.h"
#include "kiln/aot.h"
#include "kiln/unit_load.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "platform/linux/harden.h"

/* The guest's pieces, freed together. */
struct guest {
    struct kiln_vk *vk;
    struct kiln_vk_policy *pol; /* until handed to vk */
    struct kiln_wasi *w;
    struct kiln_module *mod;
    struct kiln_aot_handle *aot;
    struct kiln_store *store;
    char **argv, **envp;
};

static void guest_free(struct guest *g)
{
    free(g->argv);
    free(g->envp);
    kiln_wasi_free(g->w);
    kiln_store_free(g->store); /* stores before the module and its AOT handle */
    kiln_module_free(g->mod);
    kiln_aot_free(g->aot);
    kiln_vk_free(g->vk);
    kiln_vk_policy_free(g->pol);
}

/* The audit sink: --audit FILE and/or (for --json) a view we can read back. */
static int open_audit(struct run_ctx *c, struct kiln_vk *vk, struct kiln_error *err)
{
    int fd;
    struct stat st;
    if (!c->o.json_path) return c->o.audit ? kiln_vk_open_audit(vk, c->o.audit, err) : 0;
    if (c->o.audit) {
        fd = open(c->o.audit, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) return kiln_error_sys(err, errno, "audit log %s", c->o.audit);
        c->audit_fd = open(c->o.audit, O_RDONLY | O_CLOEXEC);
    } else {
        fd = memfd_create("kiln-run-audit", MFD_CLOEXEC);
        if (fd < 0) return kiln_error_sys(err, errno, "memfd_create");
        c->audit_fd = dup(fd);
    }
    c->audit_off = fstat(fd, &st) == 0 ? (int64_t)st.st_size : 0;
    kiln_vk_set_audit_fd(vk, fd);
    return 0;
}

/* --volume HOST:GUEST[:ro] */
static int mount_volume(struct kiln_vk *vk, const char *spec, struct kiln_error *err)
{
    char host[PATH_MAX], *guest, *ro;
    unsigned fl = 0;
    snprintf(host, sizeof host, "%s", spec);
    guest = strchr(host, ':');
    if (!guest)
        return kiln_error_set(err, KILN_E_ARG, "--volume %s: expected HOST:GUEST[:ro]", spec);
    *guest++ = 0;
    ro = strrchr(guest, ':');
    if (ro && !strcmp(ro, ":ro")) {
        *ro = 0;
        fl = KILN_VK_MOUNT_RO;
    }
    return kiln_vk_mount(vk, host, guest, fl, err);
}

/* The vkernel: policy (--policy or the unit's signed one), audit, stdio,
 * mounts and listeners. */
static int setup_vk(struct run_ctx *c, struct guest *g, struct kiln_error *err)
{
    const struct kiln_unit *u = c->unit;
    struct stat tst;
    if (c->o.policy_path) {
        if (kiln_vk_policy_load(c->o.policy_path, &g->pol, err) < 0) return -1;
    } else if (u->policy) {
        if (kiln_vk_policy_parse((const char *)u->policy, u->policy_len, "policy.json", &g->pol,
                                 err) < 0)
            return -1;
    }
    if (kiln_vk_new(&g->vk, err) < 0 || open_audit(c, g->vk, err) < 0) return -1;
    if (g->pol) {
        kiln_vk_set_policy(g->vk, g->pol);
        g->pol = NULL;
    }
    for (int r = 0; r < 3; r++)
        (void)kiln_vk_install_fd(g->vk, r, r, KILN_VK_FD_NOCLOSE | (r ? KILN_VK_FD_STDOUT : 0));
    if (kiln_vk_mount(g->vk, c->rootreal, "/", KILN_VK_MOUNT_RO, err) < 0) return -1;
    /* a private, empty /tmp for this run (the policy decides whether it is writable) */
    if (fstatat(c->rootfd, "tmp", &tst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(tst.st_mode)) {
        const char *t = getenv("TMPDIR");
        snprintf(c->tmpdir, sizeof c->tmpdir, "%s/kiln-run-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(c->tmpdir)) {
            int e = errno;
            kiln_error_sys(err, e, "%s", c->tmpdir);
            c->tmpdir[0] = 0;
            return -1;
        }
        if (kiln_vk_mount(g->vk, c->tmpdir, "/tmp", 0, err) < 0) return -1;
    }
    for (int r = 0; r < c->o.nlisten; r++)
        if (kiln_vk_listen(g->vk, c->o.listens[r], err) < 0) return -1;
    for (int r = 0; r < c->o.nvol; r++)
        if (mount_volume(g->vk, c->o.vols[r], err) < 0) return -1;
    return 0;
}

/* argv = Entrypoint + (ARGS or Cmd), or (ARGS or Cmd) without an
 * Entrypoint; env = the config's, overridden / extended by --env. */
static int setup_args(struct run_ctx *c, struct guest *g, struct kiln_error *err)
{
    const struct kiln_image_config *cfg = &c->img->config;
    size_t n = 0, cap = (size_t)c->o.nargs + 1, ne = 0;
    for (char **p = cfg->entrypoint; p && *p; p++)
        cap++;
    for (char **p = cfg->cmd; p && *p; p++)
        cap++;
    g->argv = calloc(cap, sizeof *g->argv);
    if (!g->argv) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    for (char **p = cfg->entrypoint; p && *p; p++)
        g->argv[n++] = *p;
    if (c->o.nargs)
        for (int i = 0; i < c->o.nargs; i++)
            g->argv[n++] = c->o.args[i];
    else
        for (char **p = cfg->cmd; p && *p; p++)
            g->argv[n++] = *p;
    for (char **p = cfg->env; p && *p; p++)
        ne++;
    g->envp = calloc(ne + (size_t)c->o.nenv + 1, sizeof *g->envp);
    if (!g->envp) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    ne = 0;
    for (char **p = cfg->env; p && *p; p++) {
        int overridden = 0;
        size_t kl = strcspn(*p, "=");
        for (int k = 0; k < c->o.nenv; k++)
            if (!strncmp(c->o.envs[k], *p, kl + 1)) overridden = 1;
        if (!overridden) g->envp[ne++] = *p;
    }
    for (int k = 0; k < c->o.nenv; k++)
        g->envp[ne++] = (char *)c->o.envs[k];
    return kiln_wasi_new(g->vk, (int)n, g->argv, (int)ne, g->envp, &g->w, err);
}

/* The module (signed AOT object or interpreter) and a store sized by the
 * policy's memory limit. */
static int setup_module(struct run_ctx *c, struct guest *g, struct kiln_error *err)
{
    const struct kiln_vk_policy *vp = kiln_vk_policy(g->vk);
    struct kiln_store_config sc;
    struct kiln_harden_result hr;
    int r;
    if (kiln_unit_module_load(c->unit, vp, g->vk, &g->mod, &g->aot, err) < 0) return -1;
    /* the signed object (if any) is mapped: from here on nothing may become executable
     * (no_new_privs, MDWE, the seccomp no-JIT filter), as in kiln-stub and kiln exec */
    memset(&hr, 0, sizeof hr);
    r = kiln_platform_harden(KILN_HARDEN_ALL | KILN_HARDEN_MDWE_OPTIONAL, &hr);
    if (r < 0)
        return kiln_error_sys(err, -r, "hardening after loading the module (%s)",
                              hr.failed ? hr.failed : "?");
    kiln_store_config_default(&sc);
    if (vp && kiln_vk_policy_limits(vp)->memory_bytes)
        sc.max_memory_bytes = kiln_vk_policy_limits(vp)->memory_bytes;
    g->store = kiln_store_new(&sc);
    if (!g->store) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    return 0;
}

/* Landlock, then the guest; returns its exit code or negative. */
static int run_here(struct run_ctx *c, struct guest *g, struct kiln_error *err)
{
    const struct kiln_vk_policy *vp = kiln_vk_policy(g->vk);
    struct kiln_trap trap;
    struct kiln_error lerr = {0};
    int r;
    memset(&trap, 0, sizeof trap);
    if (getenv("KILN_NO_LANDLOCK") == NULL) (void)kiln_vk_confine(g->vk, &lerr);
    r = kiln_wasi_run_limited(g->w, g->store, g->mod, vp ? kiln_vk_policy_limits(vp) : NULL, &trap,
                              err);
    if (r < 0) return r;
    c->trap_kind = trap.kind;
    snprintf(c->trap_msg, sizeof c->trap_msg, "%s", trap.msg);
    if (trap.kind != KILN_TRAP_NONE && trap.kind != KILN_TRAP_EXIT)
        fprintf(stderr, "kiln run: %s: trap: %s%s\n", c->entry_guest, trap.msg,
                trap.kind == KILN_TRAP_INTERRUPTED ? " (time limit)" : "");
    return r;
}

/* Contract in run_internal.h. */
int kiln__run_guest(struct run_ctx *c, struct kiln_error *err)
{
    struct guest g = {0};
    int code = -1;
    if (setup_vk(c, &g, err) < 0 || setup_args(c, &g, err) < 0 || setup_module(c, &g, err) < 0)
        goto out;
    c->t_loaded = kiln__run_now();
    c->guest_pid = getpid();
    if (c->tmpdir[0]) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            kiln_error_sys(err, errno, "fork");
            goto out;
        }
        if (pid > 0) {
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            c->guest_pid = pid;
            code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            goto out;
        }
        c->child = true;
        code = run_here(c, &g, err);
        if (code < 0) fprintf(stderr, "kiln run: %s\n", err->msg[0] ? err->msg : "failed");
        fflush(NULL);
        _exit(code < 0 ? 1 : code);
    }
    code = run_here(c, &g, err);
out:
    c->t_ran = kiln__run_now();
    guest_free(&g);
    return code;
}

/* Contract in run_internal.h. */
json_t *kiln__run_audit_summary(struct run_ctx *c)
{
    struct stat st;
    char *text, *line, *save = NULL;
    json_t *by = json_object(), *out;
    long long events = 0, denials = 0;
    const char *reason = NULL;
    json_t *exitev = NULL;
    if (c->audit_fd < 0 || fstat(c->audit_fd, &st) != 0 || st.st_size <= c->audit_off ||
        st.st_size - c->audit_off > (64 << 20)) {
        json_decref(by);
        return NULL;
    }
    size_t n = (size_t)(st.st_size - c->audit_off), got = 0;
    text = malloc(n + 1);
    while (text && got < n) {
        ssize_t r = pread(c->audit_fd, text + got, n - got, (off_t)(c->audit_off + (int64_t)got));
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (!text) {
        json_decref(by);
        return NULL;
    }
    text[got] = 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL);
        json_int_t pid = json_integer_value(json_object_get(ev, "pid"));
        const char *name = json_string_value(json_object_get(ev, "event"));
        /* the sink may be shared with other runs: ours are this process's and the guest's */
        if (!name || (pid != getpid() && pid != c->guest_pid)) {
            json_decref(ev);
            continue;
        }
        events++;
        json_object_set_new(by, name,
                            json_integer(json_integer_value(json_object_get(by, name)) + 1));
        if (!strcmp(name, "deny") || !strcmp(name, "exec-memory")) denials++;
        if (!strcmp(name, "exit")) {
            json_decref(exitev);
            exitev = json_incref(ev);
        }
        json_decref(ev);
    }
    free(text);
    reason = json_string_value(json_object_get(exitev, "reason"));
    out = json_pack("{s:I,s:I,s:o,s:s?,s:O?,s:O?}", "events", (json_int_t)events, "denials",
                    (json_int_t)denials, "byEvent", by, "exitReason", reason, "syscalls",
                    json_object_get(exitev, "syscalls"), "outputBytes",
                    json_object_get(exitev, "output_bytes"));
    json_decref(exitev);
    return out;
}
#endif /* KILN_HAVE_WASI */
