/*
 * task.c — the vkernel object: lifetime, mounts, policy and audit wiring,
 * syscall accounting and the exit summary.
 *
 * Invariant: a mount's host fd is an O_PATH directory fd opened from the
 * realpath of the host directory, so the guest path of any object beneath it
 * can be recovered from /proc/self/fd (see path.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vkernel/vk.h"

static const char *const sys_names[] = {
#define KILN_VK_SYS(id, name, nr, level, note) name,
#include "kiln/vkernel_syscalls.def"
#undef KILN_VK_SYS
};

/* Returns the Linux name of core syscall id sys, or NULL. */
const char *kiln_vk_sys_name(int sys)
{
    if (sys < 0 || sys >= KILN_VK_SYS__COUNT) return NULL;
    return sys_names[sys];
}

/* Creates an empty vkernel; see vkernel.h. */
int kiln_vk_new(struct kiln_vk **out, struct kiln_error *err)
{
    struct kiln_vk *vk = calloc(1, sizeof *vk);
    if (vk == NULL) return kiln_error_set(err, KILN_E_NOMEM, "vkernel: out of memory");
    vk->audit_fd = -1;
    *out = vk;
    return 0;
}

/* Frees vk and everything it owns; see vkernel.h. */
void kiln_vk_free(struct kiln_vk *vk)
{
    int i;
    if (vk == NULL) return;
    for (i = 0; i < vk->nfds_cap; i++)
        if (vk->fds[i].host >= 0) kiln__fd_release(vk, i);
    free(vk->fds);
    for (i = 0; i < vk->nmounts; i++) {
        close(vk->mounts[i].host);
        free(vk->mounts[i].host_path);
        free(vk->mounts[i].guest_path);
    }
    free(vk->mounts);
    kiln_vk_policy_free(vk->policy);
    if (vk->audit_fd >= 0) close(vk->audit_fd);
    free(vk->abi_counts);
    free(vk);
}

/* True when g is a normalized absolute guest path: starts with '/', no empty,
 * "." or ".." components, no trailing '/' (except "/" itself). */
static bool guest_path_ok(const char *g)
{
    const char *c = g;
    if (g[0] != '/') return false;
    if (g[1] == 0) return true;
    while (*c == '/') {
        const char *e = strchr(c + 1, '/');
        size_t n = e ? (size_t)(e - c - 1) : strlen(c + 1);
        if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
            return false;
        if (e == NULL) return true;
        c = e;
    }
    return false;
}

/* Adds a mount and preopens it; see vkernel.h. */
int kiln_vk_mount(struct kiln_vk *vk, const char *host_dir, const char *guest_path, unsigned flags,
                  struct kiln_error *err)
{
    struct kiln__mount *m, *nm;
    char *real = NULL, *guest = NULL;
    int host = -1, fd;
    if (!guest_path_ok(guest_path))
        return kiln_error_set(err, KILN_E_ARG,
                              "mount %s: guest path must be absolute and normalized", guest_path);
    real = realpath(host_dir, NULL);
    if (real == NULL) {
        kiln_error_sys(err, errno, "mount %s", host_dir);
        goto fail;
    }
    host = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host < 0) {
        kiln_error_sys(err, errno, "mount %s", host_dir);
        goto fail;
    }
    guest = strdup(guest_path);
    nm = realloc(vk->mounts, (size_t)(vk->nmounts + 1) * sizeof *nm);
    if (guest == NULL || nm == NULL) {
        if (nm) vk->mounts = nm;
        kiln_error_set(err, KILN_E_NOMEM, "mount %s: out of memory", host_dir);
        goto fail;
    }
    vk->mounts = nm;
    m = &vk->mounts[vk->nmounts];
    memset(m, 0, sizeof *m);
    m->host = host;
    m->host_path = real;
    m->host_len = strlen(real);
    if (m->host_len == 1) /* host "/" : remainder starts right after it */
        m->host_len = 0;
    m->guest_path = guest;
    m->guest_len = strlen(guest);
    m->flags = flags;
    vk->nmounts++;
    kiln__mounts_refresh(vk);
    /* The preopened directory fd: its own O_PATH-free handle so fstat, readdir
     * and lookups work. */
    {
        int dfd = openat(host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            kiln_error_sys(err, errno, "mount %s", host_dir);
            return -KILN_E_IO; /* the mount stays; harmless without an fd */
        }
        fd = kiln__fd_alloc(vk, dfd, KILN_VK_DIR,
                            KILN_VK_FD_PREOPEN | ((flags & KILN_VK_MOUNT_RO) ? KILN_VK_FD_RO : 0),
                            vk->nmounts - 1, guest);
        if (fd < 0) {
            close(dfd);
            return kiln_error_sys(err, -fd, "mount %s", host_dir);
        }
    }
    {
        char a[PATH_MAX + 8], b[PATH_MAX + 8];
        kiln__audit(vk, "mount", "\"host\":%s,\"guest\":%s,\"ro\":%s,\"fd\":%d",
                    kiln__json_str(a, sizeof a, real), kiln__json_str(b, sizeof b, guest),
                    (flags & KILN_VK_MOUNT_RO) ? "true" : "false", fd);
    }
    return fd;
fail:
    if (host >= 0) close(host);
    free(real);
    free(guest);
    return err ? -err->code : -KILN_E_IO;
}

/* Installs a host fd at a given guest fd; see vkernel.h. */
int kiln_vk_install_fd(struct kiln_vk *vk, int guest_fd, int host_fd, unsigned flags)
{
    int kind, r;
    if (guest_fd < 0 || host_fd < 0) return -EBADF;
    if (kiln__fd(vk, guest_fd) != NULL) return -EBUSY;
    kind = kiln__kind_of(host_fd);
    if (kind < 0) return kind;
    r = kiln__fd_alloc_at(vk, guest_fd, host_fd, kind, flags, -1, NULL);
    if (r < 0) return r;
    vk->fds[guest_fd].flags = (uint8_t)flags;
    vk->fds[guest_fd].oflags = fcntl(host_fd, F_GETFL);
    return guest_fd;
}

/* Installs a policy; see vkernel.h. */
int kiln_vk_set_policy(struct kiln_vk *vk, struct kiln_vk_policy *policy)
{
    if (vk->policy != policy) kiln_vk_policy_free(vk->policy);
    vk->policy = policy;
    vk->audit_level = policy ? kiln__policy_audit_level(policy) : KILN__AUDIT_ALL;
    kiln__mounts_refresh(vk);
    return 0;
}

/* The installed policy or NULL (permissive built-in). */
const struct kiln_vk_policy *kiln_vk_policy(const struct kiln_vk *vk)
{
    return vk->policy;
}

/* Sets the audit fd; see vkernel.h. */
void kiln_vk_set_audit_fd(struct kiln_vk *vk, int fd)
{
    if (vk->audit_fd >= 0) close(vk->audit_fd);
    vk->audit_fd = fd;
}

/* Opens the audit log file; see vkernel.h. */
int kiln_vk_open_audit(struct kiln_vk *vk, const char *path, struct kiln_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return kiln_error_sys(err, errno, "audit log %s", path);
    kiln_vk_set_audit_fd(vk, fd);
    return 0;
}

/* Registers ABI call names for the exit summary; see vkernel.h. */
void kiln_vk_set_abi_names(struct kiln_vk *vk, const char *const *names, int n)
{
    free(vk->abi_counts);
    vk->abi_counts = calloc((size_t)n, sizeof *vk->abi_counts);
    vk->abi_names = vk->abi_counts ? names : NULL;
    vk->nabi = vk->abi_counts ? n : 0;
}

/* Counts one ABI-level call; see vkernel.h. */
void kiln_vk_count(struct kiln_vk *vk, int abi_index)
{
    if (abi_index >= 0 && abi_index < vk->nabi) vk->abi_counts[abi_index]++;
}

/* Checks core call sys against the policy; see vkernel.h. */
int kiln_vk_check(struct kiln_vk *vk, int sys, const uint64_t *args)
{
    int errno_ret = EPERM, act;
    const char *rule = NULL;
    if (vk->policy == NULL || sys < 0 || sys >= KILN_VK_SYS__COUNT) return 0;
    act = kiln__policy_sys(vk->policy, sys, args, &errno_ret, &rule);
    switch (act) {
    case KILN__ACT_ALLOW:
        return 0;
    case KILN__ACT_LOG:
        kiln__audit(vk, "log", "\"call\":\"%s\",\"rule\":\"%s\"", sys_names[sys], rule ? rule : "");
        return 0;
    case KILN__ACT_TRACE:
        errno_ret = ENOSYS;
        break;
    case KILN__ACT_KILL:
        vk->denials++; /* kill events are not "deny" events */
        kiln__audit(vk, "kill", "\"call\":\"%s\",\"rule\":\"%s\"", sys_names[sys],
                    rule ? rule : "");
        return -KILN_VK_EKILL;
    default:
        break;
    }
    kiln__audit_deny(vk, sys_names[sys], NULL, errno_ret, rule);
    return -errno_ret;
}

/* Notes a host signal for the exit summary; see vkernel.h. */
void kiln_vk_note_signal(struct kiln_vk *vk, int sig)
{
    vk->signal_noted = sig;
}

/* Writes the exit summary; see vkernel.h. */
void kiln_vk_exit(struct kiln_vk *vk, int code, const char *reason)
{
    char buf[16384], rs[300], sigr[32];
    size_t n = 0;
    int i;
    bool first = true;
    if (vk->exited) return;
    vk->exited = true;
    if (vk->signal_noted) {
        snprintf(sigr, sizeof sigr, "signal %d", vk->signal_noted);
        code = 128 + vk->signal_noted;
        reason = sigr;
    }
    buf[0] = 0;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        int w_ = snprintf(buf + n, sizeof buf - n, __VA_ARGS__);                                   \
        if (w_ > 0 && (size_t)w_ < sizeof buf - n) n += (size_t)w_;                                \
    } while (0)
    APPEND("\"code\":%d,\"reason\":%s,\"denials\":%llu,\"syscalls\":{", code,
           kiln__json_str(rs, sizeof rs, reason ? reason : "exit"),
           (unsigned long long)vk->denials);
    for (i = 0; i < KILN_VK_SYS__COUNT; i++) {
        if (vk->sys[i].calls == 0) continue;
        APPEND("%s\"%s\":{\"calls\":%llu,\"errors\":%llu}", first ? "" : ",", sys_names[i],
               (unsigned long long)vk->sys[i].calls, (unsigned long long)vk->sys[i].errors);
        first = false;
    }
    APPEND("},\"abi\":{");
    first = true;
    for (i = 0; i < vk->nabi; i++) {
        if (vk->abi_counts[i] == 0) continue;
        APPEND("%s\"%s\":%llu", first ? "" : ",", vk->abi_names[i],
               (unsigned long long)vk->abi_counts[i]);
        first = false;
    }
    APPEND("},\"output_bytes\":%llu", (unsigned long long)vk->out_bytes);
#undef APPEND
    kiln__audit(vk, "exit", "%s", buf);
    if (vk->be != NULL && vk->be->exit != NULL) vk->be->exit(vk, code, reason);
}

/* Installs or removes the placement backend; see vkernel.h. */
int kiln_vk_set_backend(struct kiln_vk *vk, const struct kiln_vk_backend *be, void *ctx)
{
    vk->be = be;
    vk->be_ctx = be ? ctx : NULL;
    return 0;
}

/* The backend's ctx; see vkernel.h. */
void *kiln_vk_backend_ctx(const struct kiln_vk *vk)
{
    return vk->be_ctx;
}

/* Always refuses executable memory; see vkernel.h. */
int kiln_vk_exec_memory(struct kiln_vk *vk, const char *call, uint64_t addr, uint64_t len, int prot)
{
    char c[64];
    int sys = strcmp(call, "mprotect") == 0 ? KILN_VK_SYS_mprotect : KILN_VK_SYS_mmap;
    vk->sys[sys].calls++;
    vk->sys[sys].errors++;
    vk->denials++;
    kiln__audit(vk, "exec-memory",
                "\"call\":%s,\"addr\":%llu,\"len\":%llu,\"prot\":%d,\"errno\":\"EPERM\","
                "\"rule\":\"builtin:no-jit\"",
                kiln__json_str(c, sizeof c, call), (unsigned long long)addr,
                (unsigned long long)len, prot);
    return -EPERM;
}
