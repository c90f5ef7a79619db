/*
 * vk.h — internals of the vkernel core shared by task.c, fdtable.c, path.c,
 * policy.c, audit.c and sys/sys_*.c. Not a public header.
 *
 * Who holds what: struct kiln_vk owns its mounts (host O_PATH fds and path
 * strings), its fd table (host fds except NOCLOSE ones, guest path strings),
 * its policy and its audit fd.
 */
#ifndef KILN_VKERNEL_VK_H
#define KILN_VKERNEL_VK_H

#include <limits.h>
#include <stdint.h>

#include "kiln/vkernel.h"

/* Access modes of a filesystem rule / mount, ordered by authority. */
enum kiln__fsmode { KILN__FS_NONE = 0, KILN__FS_RO = 1, KILN__FS_RW = 2 };

/* Audit levels (policy "audit"). */
enum kiln__audit_level {
    KILN__AUDIT_ALL = 0,     /* every event */
    KILN__AUDIT_DENIALS = 1, /* deny, kill, exec-memory, confine, exit */
    KILN__AUDIT_NONE = 2     /* the exit summary only */
};

/* Policy actions (the OCI seccomp actions). */
enum kiln__action {
    KILN__ACT_ALLOW = 0,
    KILN__ACT_LOG,   /* allow and audit */
    KILN__ACT_ERRNO, /* fail with errno_ret */
    KILN__ACT_KILL,  /* kill the guest (KILL, KILL_PROCESS, KILL_THREAD, TRAP) */
    KILN__ACT_TRACE, /* no tracer: ENOSYS, as Linux does */
};

/* One mount: a host directory exposed at a guest path. */
struct kiln__mount {
    int host;        /* O_PATH|O_DIRECTORY fd of the host directory */
    char *host_path; /* realpath of the host directory */
    size_t host_len;
    char *guest_path; /* normalized absolute guest path ("/" or "/a/b") */
    size_t guest_len;
    unsigned flags; /* KILN_VK_MOUNT_* */
    bool uniform;   /* no policy rule strictly beneath it: the mode below
                       is valid for every path under the mount */
    int mode;       /* enum kiln__fsmode at the mount point (policy ∧ mount) */
    int rule;       /* policy rule index giving mode, or -1 (mount flags) */
};

struct kiln__counter {
    uint64_t calls;
    uint64_t errors;
};

struct kiln_vk {
    struct kiln__mount *mounts;
    int nmounts;
    struct kiln_vk_fd *fds;
    int nfds_cap;                  /* slots allocated */
    int nopen;                     /* open guest fds */
    struct kiln_vk_policy *policy; /* NULL = permissive built-in */
    int audit_fd;                  /* -1 = none */
    int audit_level;               /* enum kiln__audit_level, from the policy */
    uint64_t audit_seq;
    int audit_pid;       /* getpid() cached at the first event */
    int64_t audit_sec;   /* second of audit_date */
    char audit_date[24]; /* "YYYY-MM-DDTHH:MM:SS" of audit_sec */
    uint64_t out_bytes;  /* written to stdout/stderr */
    bool exited;
    volatile int signal_noted; /* kiln_vk_note_signal, 0 = none */
    struct kiln__counter sys[KILN_VK_SYS__COUNT];
    const char *const *abi_names;
    int nabi;
    uint64_t *abi_counts;
    uint64_t denials;
    const struct kiln_vk_backend *be; /* daemon placement: forwarded calls, or NULL */
    void *be_ctx;
};

/* Daemon placement: forwards call `fn` to the backend when one handles it. */
#define KILN__FORWARD(vk, fn, ...)                                                                 \
    do {                                                                                           \
        if ((vk)->be != NULL && (vk)->be->fn != NULL) return (vk)->be->fn((vk), __VA_ARGS__);      \
    } while (0)

/* ---- sys/sys_file.c ---- */
/* Opens guest directory path (beneath the mounts) as a preopen the runtime grants at start:
 * the filesystem rules apply, the policy's syscall rule for openat does not (a grant is a mount,
 * not a guest call; the guest's own opens beneath it are checked as usual). Local vkernels
 * only. Returns the guest fd or -errno. */
int kiln__vk_open_grant(struct kiln_vk *vk, const char *path, size_t len);

/* ---- fdtable.c ---- */
/* Allocates the lowest free guest fd for host (ownership passes on success;
 * on failure the caller still owns host). Returns the fd or -EMFILE/-ENOMEM. */
int kiln__fd_alloc(struct kiln_vk *vk, int host, int kind, unsigned flags, int mount,
                   const char *guest_path);
/* Like kiln__fd_alloc at a given free slot fd. -EBUSY if taken. */
int kiln__fd_alloc_at(struct kiln_vk *vk, int fd, int host, int kind, unsigned flags, int mount,
                      const char *guest_path);
/* The open entry for fd or NULL. */
struct kiln_vk_fd *kiln__fd(struct kiln_vk *vk, int fd);
/* Kind from a host fd's st_mode (fstat). */
int kiln__kind_of(int host);
int kiln__kind_from_mode(mode_t m);
/* Frees slot fd (closing host unless NOCLOSE). */
void kiln__fd_release(struct kiln_vk *vk, int fd);

/* ---- path.c ---- */
/* Result of resolving a guest (dirfd, path) pair to a parent directory and a
 * final component. */
struct kiln__path {
    int parent;               /* host fd of the parent directory (O_PATH) */
    bool parent_owned;        /* close parent when done */
    const char *name;         /* final component (no '/'), "." for the dir itself */
    bool trailing_slash;      /* path ended with '/' */
    int mount;                /* mount index */
    int mode;                 /* enum kiln__fsmode for the final path */
    int rule;                 /* rule index giving mode, -1 for the mount's flags */
    int base;                 /* host fd of the guest's base dir */
    const char *rel;          /* the path relative to base, NUL-terminated */
    char guest[PATH_MAX + 2]; /* guest absolute path (audit, policy) */
    char buf[PATH_MAX + 2];   /* copy of the guest path */
};
/* Resolves (dirfd, path, len) for call `sys`. On success fills *p (release
 * with kiln__path_done). Errors: -EBADF, -ENOTDIR, -ENOENT (empty), -EINVAL
 * (NUL byte), -ENAMETOOLONG, -EPERM (escape attempt, audited), host errors. */
int kiln__path_resolve(struct kiln_vk *vk, int sys, int dirfd, const char *path, size_t len,
                       struct kiln__path *p);
void kiln__path_done(struct kiln__path *p);
/* Checks that p may be used with `want` (KILN__FS_RO to read, RW to modify);
 * on refusal audits the denial and returns -EACCES (none) or -EROFS. */
int kiln__path_allow(struct kiln_vk *vk, int sys, const struct kiln__path *p, int want);
/* Guest path of an open host fd (through /proc/self/fd), mode and rule for it.
 * Returns 0 or -errno (-EPERM when it lies outside every mount). */
int kiln__path_of_fd(struct kiln_vk *vk, int host, char *guest, size_t size, int *mount, int *mode,
                     int *rule);
/* Opens (confined) the final object of p with flags (O_PATH allowed) and
 * resolve flags beneath the base directory. Returns host fd or -errno. */
int kiln__path_open_final(struct kiln_vk *vk, const struct kiln__path *p, int flags, mode_t mode,
                          bool follow);
/* Recomputes the mounts' uniform/mode fields after a policy or mount change. */
void kiln__mounts_refresh(struct kiln_vk *vk);

/* ---- policy.c ---- */
/* Filesystem mode for a guest absolute path; *rule gets the rule index or -1
 * when no rule matched (then the default "none" applies). */
int kiln__policy_fs(const struct kiln_vk_policy *p, const char *guest, int *rule);
/* True when some rule's path lies strictly beneath guest. */
bool kiln__policy_fs_below(const struct kiln_vk_policy *p, const char *guest);
/* Evaluates the syscall part for core id sys. Returns the action and sets
 * *errno_ret and *rule (the JSON path of the rule, static storage of p). */
int kiln__policy_sys(const struct kiln_vk_policy *p, int sys, const uint64_t *args, int *errno_ret,
                     const char **rule);
/* Network check: dir "listen"/"connect", proto "tcp"/"udp", address text,
 * port. Returns 0 or -EACCES; *rule as above. */
int kiln__policy_net(const struct kiln_vk_policy *p, const char *dir, const char *proto,
                     const char *addr, int port, const char **rule);
/* The policy's audit level (enum kiln__audit_level). */
int kiln__policy_audit_level(const struct kiln_vk_policy *p);
/* True when the rule deciding guest asks for RESOLVE_NO_XDEV. */
bool kiln__policy_fs_noxdev(const struct kiln_vk_policy *p, const char *guest);
/* JSON path of filesystem rule i ("$.filesystem[i]"), static per policy. */
const char *kiln__policy_fs_rule_name(const struct kiln_vk_policy *p, int i);
/* Guest path of filesystem rule i (in document order; an intersection's rules in its own
 * order), or NULL when i is past the last rule. */
const char *kiln__policy_fs_rule_path(const struct kiln_vk_policy *p, int i);
/* What a unit whose policy p denies directory d itself reaches beneath it: the highest
 * directories strictly beneath d (absolute, normalized) that p grants ("ro" at least), in p's
 * rule order, each once — a granted rule path with a granted directory between d and it is
 * covered by that one. The rule behind every preopen grant made from "beneath" (kilnd's HELLO
 * and spawn, the embedded kiln-stub): "/" when p grants it, else these under "/". Existence
 * is not checked (the caller opens each, under p, and skips an absent one). Calls fn(path,
 * ctx) for each (path: p's storage, valid while p lives). Returns 0, or the first negative
 * value fn returns (no further calls). */
int kiln__policy_fs_granted_beneath(const struct kiln_vk_policy *p, const char *d,
                                    int (*fn)(const char *path, void *ctx), void *ctx);
/* Exec list: true when an entry names the guest path (absolute) or the content digest sha256
 * (lowercase hex; NULL = not known yet); *rule gets the entry's index or -1. */
bool kiln__policy_exec_allowed(const struct kiln_vk_policy *p, const char *path, const char *sha256,
                               int *rule);
/* True when the exec list has "sha256:" entries (the content must be read to decide). */
bool kiln__policy_exec_digests(const struct kiln_vk_policy *p);
/* Number of exec entries (0: this policy may spawn nothing). */
int kiln__policy_exec_count(const struct kiln_vk_policy *p);
/* Names p's side in an intersection: rule names of the result that come from p read
 * "<label>:<rule>" ("container:$.filesystem[0]"). Labels do not change p's own rule names.
 * label NULL or "" = none (an intersection's result has none; its names carry their sides). */
void kiln__policy_set_label(struct kiln_vk_policy *p, const char *label);

/* ---- audit.c ---- */
/* Appends one event. fmt produces the event-specific members (without braces),
 * e.g. "\"path\":%s". Strings must go through kiln__json_str. */
void kiln__audit(struct kiln_vk *vk, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes s as a JSON string literal into buf (always NUL-terminated,
 * truncated with "..." if needed); returns buf. */
char *kiln__json_str(char *buf, size_t size, const char *s);
/* True when authority-granting events (open, mkdir, accept, ...) are logged:
 * callers skip formatting them otherwise. */
static inline bool kiln__audit_grants(const struct kiln_vk *vk)
{
    return vk->audit_fd >= 0 && vk->audit_level == KILN__AUDIT_ALL;
}
/* Audits a denial: call, guest path (or NULL), errno, rule. */
void kiln__audit_deny(struct kiln_vk *vk, const char *call, const char *path, int err,
                      const char *rule);
/* Name of an errno value ("EACCES"). */
const char *kiln__errno_name(int e);

/* ---- syscall accounting (task.c) ---- */
/* Counts sys and checks the policy. Same as kiln_vk_check. */
static inline int kiln__enter(struct kiln_vk *vk, int sys)
{
    vk->sys[sys].calls++;
    if (vk->policy == NULL) return 0;
    return kiln_vk_check(vk, sys, NULL);
}
static inline int kiln__ret(struct kiln_vk *vk, int sys, int r)
{
    if (r < 0) vk->sys[sys].errors++;
    return r;
}

#endif
