/*
 * kiln/vkernel.h — the virtual kernel: the only way a guest touches the world.
 *
 * A struct kiln_vk is one container's kernel in the embedded placement (the
 * engine and the vkernel in one process). It owns:
 *   - a mount table: host directories (opened O_PATH) exposed at guest paths;
 *     the container root is the mount at "/";
 *   - a guest fd table: guest fd -> host fd + kind + ABI rights;
 *   - a policy (default-deny; see docs/policy.md) and an audit sink (JSON Lines,
 *     see docs/audit.md).
 *
 * Every operation speaks Linux semantics and returns a non-negative result or
 * -errno, like a raw Linux system call. Guest ABIs (WASI preview1, later
 * Linux-for-wasm32 and Linux-x86_64) are thin adapters over these calls.
 *
 * Invariants:
 *   - a path from a guest is never joined to a host path string: lookups are
 *     performed by openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to
 *     a directory fd the guest already holds, and final components by *at()
 *     calls that never follow symlinks;
 *   - every authority-granting call and every denial writes one audit event
 *     with one write(2), so a crash or trap loses nothing already decided;
 *   - a call the policy denies returns the errno its rule names (EPERM, EACCES,
 *     EROFS, ENOSYS, ...) or KILN_VK_EKILL when the rule kills the guest.
 *
 * Paths are passed as (pointer, length) so an embedded NUL is detected
 * (-EINVAL) instead of silently truncating the path.
 *
 * Threads: one struct kiln_vk is used by one thread at a time.
 */
#ifndef KILN_VKERNEL_H
#define KILN_VKERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "kiln/error.h"

/* Returned (negated) when a policy rule kills the guest (SCMP_ACT_KILL*,
 * SCMP_ACT_TRAP). Larger than any errno so it cannot be confused with one. */
#define KILN_VK_EKILL 10000

/* Kind of object behind a guest fd. */
enum kiln_vk_kind {
    KILN_VK_UNKNOWN = 0,
    KILN_VK_FILE,     /* regular file */
    KILN_VK_DIR,      /* directory (a base for path lookups) */
    KILN_VK_CHAR,     /* character device, terminal */
    KILN_VK_BLOCK,    /* block device */
    KILN_VK_PIPE,     /* pipe or FIFO */
    KILN_VK_SOCKET,   /* connected stream socket */
    KILN_VK_DGRAM,    /* datagram socket */
    KILN_VK_LISTENER, /* listening socket (accept only) */
    KILN_VK_SYMLINK   /* O_PATH|O_NOFOLLOW on a symlink */
};

/* Flags of a guest fd (struct kiln_vk_fd.flags). */
#define KILN_VK_FD_PREOPEN 0x01 /* created by the host (mount or --listen) */
#define KILN_VK_FD_NOCLOSE 0x02 /* host fd is not ours (stdio): never close it */
#define KILN_VK_FD_RO 0x04      /* beneath a read-only mount or rule */
#define KILN_VK_FD_STDOUT 0x08  /* counts toward the output-bytes limit */

/* One guest fd. Readable by ABI adapters through kiln_vk_fd_get(). */
struct kiln_vk_fd {
    int host;             /* host fd; -1 when the slot is free */
    uint8_t kind;         /* enum kiln_vk_kind */
    uint8_t flags;        /* KILN_VK_FD_* */
    int16_t mount;        /* mount index for directories and files, -1 otherwise */
    int oflags;           /* guest open flags (O_ACCMODE, O_APPEND, O_NONBLOCK, ...) */
    uint64_t rights_base; /* ABI rights (WASI); the core stores them only */
    uint64_t rights_inh;  /* ABI inheriting rights */
    char *guest_path;     /* guest absolute path of a directory, else NULL; owned */
    uint64_t *dcookies;   /* directories: host d_off after the i-th entry (see
                             kiln_vk_dircookie_*); owned */
    uint32_t ndcookies;
    int host_flags0; /* NOCLOSE fds: host file status flags at install,
                        restored when the slot is released */
    int32_t remote;  /* daemon placement: kilnd's handle for this object + 1
                        (directories), 0 = none; see kiln_vk_set_backend */
};

/* Mount flags. */
#define KILN_VK_MOUNT_RO 0x01     /* writes beneath it fail with EROFS */
#define KILN_VK_MOUNT_NOXDEV 0x02 /* lookups may not cross host mount points */

/* Limits (0 = unlimited). */
struct kiln_vk_limits {
    uint64_t memory_bytes; /* applied by the embedder to the engine's store */
    uint32_t open_fds;     /* guest fds at once; beyond: EMFILE */
    uint64_t output_bytes; /* bytes written to stdout+stderr; beyond: EFBIG */
    uint64_t wall_ms;      /* applied by the embedder (interrupt) */
    uint64_t cpu_ms;       /* applied by the embedder (interrupt) */
};

struct kiln_vk;
struct kiln_vk_policy;

/* ---- lifetime ---------------------------------------------------------- */

/* Creates an empty vkernel (no mounts, no fds, the permissive built-in policy,
 * no audit sink). Returns 0 or -KILN_E_NOMEM; *out is set only on success. */
int kiln_vk_new(struct kiln_vk **out, struct kiln_error *err);

/* Closes every guest fd (except NOCLOSE ones), frees the policy given to
 * kiln_vk_set_policy and the audit sink. Does not write the exit summary
 * (see kiln_vk_exit). NULL is a no-op. */
void kiln_vk_free(struct kiln_vk *vk);

/* Exposes the host directory host_dir at guest_path (absolute, normalized,
 * "/" for the container root) and preopens it as the lowest free guest fd,
 * which is returned. flags: KILN_VK_MOUNT_*. Errors: negative kiln error code
 * (KILN_E_IO when host_dir cannot be opened, KILN_E_ARG for a bad guest path). */
int kiln_vk_mount(struct kiln_vk *vk, const char *host_dir, const char *guest_path, unsigned flags,
                  struct kiln_error *err);

/* Installs host_fd as guest fd guest_fd (which must be free). The vkernel
 * takes ownership unless flags has KILN_VK_FD_NOCLOSE. The kind is found with
 * fstat. Returns guest_fd or -errno (-EBADF, -EMFILE). */
int kiln_vk_install_fd(struct kiln_vk *vk, int guest_fd, int host_fd, unsigned flags);

/* Creates a listening socket from "tcp:ADDR:PORT" (ADDR: IPv4, [IPv6] or
 * empty for all), checks it against the policy's network rules, audits it
 * and preopens it as the lowest free guest fd (returned). */
int kiln_vk_listen(struct kiln_vk *vk, const char *spec, struct kiln_error *err);

/* Gives the vkernel a policy (ownership passes; the previous one is freed).
 * Mount modes are combined with the policy's filesystem rules (the stricter
 * wins). Returns 0. */
int kiln_vk_set_policy(struct kiln_vk *vk, struct kiln_vk_policy *policy);
const struct kiln_vk_policy *kiln_vk_policy(const struct kiln_vk *vk);

/* Sends audit events to fd (owned from now on; closed by kiln_vk_free).
 * fd < 0 disables auditing. */
void kiln_vk_set_audit_fd(struct kiln_vk *vk, int fd);
/* Opens (creates, appends) path for the audit log. */
int kiln_vk_open_audit(struct kiln_vk *vk, const char *path, struct kiln_error *err);

/* Second wall (embedded placement): restricts the whole calling process with
 * Landlock to the mounts (read-only where the mount is) and forbids TCP bind
 * and connect; already open fds keep working. Call after every mount and
 * listener is set up. Irreversible. Audits a "confine" event. Errors:
 * -KILN_E_IO when Landlock is unavailable or refuses (the process is then
 * unchanged). */
int kiln_vk_confine(struct kiln_vk *vk, struct kiln_error *err);

/* Records that the embedder is stopping the guest because the host process
 * got signal sig (SIGTERM, SIGINT, ...): the exit summary then reports code
 * 128 + sig and reason "signal N" whatever the guest's own end was.
 * Async-signal-safe. */
void kiln_vk_note_signal(struct kiln_vk *vk, int sig);

/* Writes the exit summary event (code, per-call counters). Call once. */
void kiln_vk_exit(struct kiln_vk *vk, int code, const char *reason);

/* The guest fd entry, or NULL if fd is not open. Valid until the next call
 * that changes the fd table. */
const struct kiln_vk_fd *kiln_vk_fd_get(const struct kiln_vk *vk, int fd);
/* Sets the ABI rights of an open fd. Returns 0 or -EBADF. */
int kiln_vk_fd_set_rights(struct kiln_vk *vk, int fd, uint64_t base, uint64_t inh);
/* Number of fd slots (for iteration); slots >= this are free. */
int kiln_vk_fd_limit(const struct kiln_vk *vk);

/* ---- policy (policy.c) ------------------------------------------------- */

/* Parses a policy document (docs/policy.md). name is used in messages
 * ("policy.json: $.filesystem[2].mode: expected one of ro, rw, none").
 * On failure returns -KILN_E_MALFORMED / -KILN_E_INVALID and fills *err.
 * Free with kiln_vk_policy_free. */
int kiln_vk_policy_parse(const char *json, size_t len, const char *name,
                         struct kiln_vk_policy **out, struct kiln_error *err);
int kiln_vk_policy_load(const char *path, struct kiln_vk_policy **out, struct kiln_error *err);
void kiln_vk_policy_free(struct kiln_vk_policy *p);
/* The policy's limits (zeros = unlimited). */
const struct kiln_vk_limits *kiln_vk_policy_limits(const struct kiln_vk_policy *p);
/* True when the policy says "engine": {"requireAot": true}: a unit must run
 * its signed AOT object, never the interpreter (kiln_unit_module_load,
 * kiln/unit_load.h). NULL (the built-in policy) -> false. */
bool kiln_vk_policy_require_aot(const struct kiln_vk_policy *p);

/* The intersection of two policies: *out grants a thing only if both a and b
 * grant it, so a unit started inside a container (kilnd's spawn, an exec'd
 * unit attaching to kilnd) runs under intersect(container or spawner policy,
 * the unit's own signed policy) and never gets more than either grants
 * (docs/guest-proc.md, "Whose policy"). NULL stands for the permissive
 * built-in policy: intersect(NULL, b) is a copy of b, intersect(NULL, NULL)
 * sets *out to NULL (still permissive). Part by part:
 *   - syscall rules: per call, the stricter decision of the two (ALLOW <
 *     LOG < ERRNO/TRACE < KILL; LOG when either logs; when both fail the
 *     call, a's errno). Exact, argument conditions included; a rule whose
 *     joined conditions exceed what a rule holds becomes a denial (stricter);
 *   - filesystem: at every path the weaker mode of the two (none < ro < rw),
 *     noXdev where either sets it. Exact;
 *   - network: what both allow (same direction and protocol, an address both
 *     accept, the common port range). Exact;
 *   - exec: the entries both lists hold (same path, or same digest). Stricter
 *     than exact: a (path in a, digest in b) pair cannot be written as one
 *     entry, so it is not granted;
 *   - limits: the smaller of each (0 = unlimited counts as the larger);
 *   - audit: the level recording more (all > denials > none);
 *   - engine.requireAot: either.
 * Rule names of the result say which side decided (kiln__policy_set_label).
 * a and b are not changed and may be the same policy. Returns 0, or
 * -KILN_E_NOMEM with *err filled; *out is set only on success; free it with
 * kiln_vk_policy_free. */
int kiln_vk_policy_intersect(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                             struct kiln_vk_policy **out, struct kiln_error *err);

/* The policy as a kiln policy document (docs/policy.md) that
 * kiln_vk_policy_parse reads back into a policy deciding every call, path,
 * address, exec entry and limit the same way (rule names become the new
 * document's JSON paths). Canonical: compact, sorted keys, so equal policies
 * built the same way give equal bytes (the effective policy's digest in audit
 * events). Returns 0 and a malloc'd NUL-terminated text in *out (caller
 * frees) and its length in *len, or -KILN_E_NOMEM. */
int kiln_vk_policy_to_json(const struct kiln_vk_policy *p, char **out, size_t *len,
                           struct kiln_error *err);

/* ---- syscalls (Linux semantics, -errno) -------------------------------- */

/* Directory base for *at calls: a guest fd, or KILN_VK_AT_ROOT for absolute
 * paths (resolved beneath the mount at "/"). */
#define KILN_VK_AT_ROOT (-100)

/* implements Linux openat(2). Returns the new guest fd. */
int kiln_vk_openat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags,
                   mode_t mode);
/* implements Linux close(2). */
int kiln_vk_close(struct kiln_vk *vk, int fd);
/* implements Linux dup3(2)-like renumbering: moves `from` onto `to`
 * (closing `to`), `from` becomes free. Both must be open. */
int kiln_vk_renumber(struct kiln_vk *vk, int from, int to);
ssize_t kiln_vk_readv(struct kiln_vk *vk, int fd, const struct iovec *iov, int n);
ssize_t kiln_vk_writev(struct kiln_vk *vk, int fd, const struct iovec *iov, int n);
ssize_t kiln_vk_preadv(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int64_t off);
ssize_t kiln_vk_pwritev(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int64_t off);
int64_t kiln_vk_lseek(struct kiln_vk *vk, int fd, int64_t off, int whence);
int kiln_vk_fstat(struct kiln_vk *vk, int fd, struct stat *st);
int kiln_vk_ftruncate(struct kiln_vk *vk, int fd, int64_t size);
int kiln_vk_fsync(struct kiln_vk *vk, int fd, bool data_only);
int kiln_vk_fadvise(struct kiln_vk *vk, int fd, int64_t off, int64_t len, int advice);
int kiln_vk_fallocate(struct kiln_vk *vk, int fd, int64_t off, int64_t len);
/* F_GETFL / F_SETFL (O_APPEND, O_NONBLOCK only). */
int kiln_vk_fcntl_getfl(struct kiln_vk *vk, int fd);
int kiln_vk_fcntl_setfl(struct kiln_vk *vk, int fd, int flags);
/* utimensat on an fd (times as for utimensat(2), UTIME_NOW/UTIME_OMIT ok). */
int kiln_vk_futimens(struct kiln_vk *vk, int fd, const struct timespec times[2]);

/* implements Linux mkdirat(2). */
int kiln_vk_mkdirat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, mode_t mode);
/* implements Linux unlinkat(2) (flags: 0 or AT_REMOVEDIR). */
int kiln_vk_unlinkat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags);
/* implements Linux renameat2(2) with flags 0. */
int kiln_vk_renameat(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                     const char *newp, size_t newlen);
/* implements Linux linkat(2) (flags: 0 or AT_SYMLINK_FOLLOW). */
int kiln_vk_linkat(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                   const char *newp, size_t newlen, int flags);
/* implements Linux symlinkat(2); target is stored verbatim (it is only ever
 * interpreted by lookups, which stay confined). */
int kiln_vk_symlinkat(struct kiln_vk *vk, const char *target, size_t tlen, int dirfd,
                      const char *path, size_t len);
/* implements Linux readlinkat(2). Returns the number of bytes placed in buf. */
ssize_t kiln_vk_readlinkat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, char *buf,
                           size_t size);
/* implements Linux fstatat(2) (flags: 0 or AT_SYMLINK_NOFOLLOW). */
int kiln_vk_fstatat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, struct stat *st,
                    int flags);
/* implements Linux utimensat(2) on a path (flags: 0 or AT_SYMLINK_NOFOLLOW). */
int kiln_vk_utimensat(struct kiln_vk *vk, int dirfd, const char *path, size_t len,
                      const struct timespec times[2], int flags);
/* implements Linux getdents64(2) after positioning the directory at cookie
 * (0 = start; else a d_off from an earlier entry). Writes struct
 * linux_dirent64 records to buf; returns bytes written, 0 at the end. */
ssize_t kiln_vk_getdents(struct kiln_vk *vk, int fd, uint64_t cookie, void *buf, size_t size);

/* Small directory cookies for ABIs whose cookies are narrower than the
 * host's d_off (wasm32 telldir() returns a 32-bit long): cookie n means
 * "after the n-th entry". get returns the host offset to pass to
 * kiln_vk_getdents (cookie 0 -> 0) or -EINVAL for a cookie never handed out;
 * set records the host offset after entry n (n >= 1, at most one past the
 * last recorded). Both -EBADF/-ENOTDIR for a bad fd. */
int64_t kiln_vk_dircookie_get(struct kiln_vk *vk, int fd, uint64_t cookie);
int kiln_vk_dircookie_set(struct kiln_vk *vk, int fd, uint64_t cookie, uint64_t host_off);

/* implements Linux pipe2(2): fds[0] read end, fds[1] write end. */
int kiln_vk_pipe(struct kiln_vk *vk, int fds[2], int flags);

/* implements clock_gettime(2) / clock_getres(2) for REALTIME, MONOTONIC,
 * PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID. */
int kiln_vk_clock_gettime(struct kiln_vk *vk, int clock, struct timespec *ts);
int kiln_vk_clock_getres(struct kiln_vk *vk, int clock, struct timespec *ts);
/* implements Linux clock_nanosleep(2) (flags: 0 or TIMER_ABSTIME). */
int kiln_vk_nanosleep(struct kiln_vk *vk, int clock, int flags, const struct timespec *ts);
/* implements Linux getrandom(2) (always fills len bytes). */
ssize_t kiln_vk_getrandom(struct kiln_vk *vk, void *buf, size_t len);
/* implements Linux sched_yield(2). */
int kiln_vk_sched_yield(struct kiln_vk *vk);

/* One entry for kiln_vk_poll: fd is a guest fd, events/revents as poll(2). */
struct kiln_vk_pollfd {
    int fd;
    short events;
    short revents;
};
/* implements Linux ppoll(2); timeout_ns < 0 waits forever. Returns the number
 * of entries with revents != 0. An fd that is not open gets POLLNVAL. */
int kiln_vk_poll(struct kiln_vk *vk, struct kiln_vk_pollfd *fds, int n, int64_t timeout_ns);
/* Bytes readable without blocking (FIONREAD; for files size - offset). */
int64_t kiln_vk_nread(struct kiln_vk *vk, int fd);

struct sockaddr;
/* implements Linux socket(2) for AF_INET/AF_INET6 with SOCK_STREAM or
 * SOCK_DGRAM (plus SOCK_NONBLOCK/SOCK_CLOEXEC); others: EAFNOSUPPORT /
 * EINVAL. Returns the new guest fd. */
int kiln_vk_socket(struct kiln_vk *vk, int domain, int type, int protocol);
/* implements Linux connect(2): the address must match a "connect" network
 * rule of the policy (EACCES otherwise, audited); success is audited. */
int kiln_vk_connect(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len);
/* implements Linux bind(2): checked against "listen" rules, audited. */
int kiln_vk_bind(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len);
/* implements Linux listen(2); the fd becomes a listener. */
int kiln_vk_listen_fd(struct kiln_vk *vk, int fd, int backlog);

/* implements Linux accept4(2) on a listening guest fd; returns the new fd. */
int kiln_vk_accept(struct kiln_vk *vk, int fd, int flags);
/* implements recvmsg/sendmsg on stream sockets (flags: MSG_PEEK,
 * MSG_WAITALL for recv; none for send). *flags_out gets MSG_TRUNC etc. */
ssize_t kiln_vk_recv(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int flags,
                     int *flags_out);
ssize_t kiln_vk_send(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int flags);
/* implements Linux shutdown(2). */
int kiln_vk_shutdown(struct kiln_vk *vk, int fd, int how);

/* ---- processes (sys/sys_proc.c; docs/guest-proc.md) ----------------------
 * Guest processes exist in the daemon placement: kilnd keeps one process
 * table (pid namespace) per container. Embedded, the guest is pid 1 alone:
 * spawn fails with -ENOSYS, wait with -ECHILD, kill of pid 1 with -ENOSYS
 * and of any other pid with -ESRCH. */

/* implements a posix_spawn-like execve(2) (no fork): starts a new guest
 * process of the same container running the unit at the absolute guest path
 * (path, len), with argv[0..argc) and env[0..nenv) ("K=V"), whose stdin,
 * stdout and stderr are the caller's guest fds stdio[0..2] (-1: the caller's
 * own fd of that number). kilnd checks the policy's "exec" list and the
 * unit's signature first. Returns the child's pid (> 0) or -errno (-EACCES
 * not allowed or unit refused, -ENOENT, -ENOEXEC not a module, -EBADF,
 * -EAGAIN too many processes, -ENOSYS embedded). */
int kiln_vk_spawn(struct kiln_vk *vk, const char *path, size_t len, int argc, char *const *argv,
                  int nenv, char *const *env, const int stdio[3]);
/* Option of kiln_vk_wait: do not block (WNOHANG). */
#define KILN_VK_WNOHANG 1
/* implements Linux wait4(2) without rusage for children spawned by the
 * caller: pid > 0 one child, -1 any. Blocks unless KILN_VK_WNOHANG. Returns
 * the child's pid (0: WNOHANG and none exited) and sets *status (Linux
 * encoding: exit code << 8, or the signal number), or -ECHILD / -EINVAL. */
int kiln_vk_wait(struct kiln_vk *vk, int pid, int *status, int options);
/* implements Linux kill(2) for one pid of the caller's container (pid > 0;
 * sig 0..31): -ESRCH when no such live process (another container's pids do
 * not exist here; audited), -EINVAL for a bad signal or pid <= 0. */
int kiln_vk_kill(struct kiln_vk *vk, int pid, int sig);
/* implements Linux getpid(2): the pid in the container's pid namespace. */
int kiln_vk_getpid(struct kiln_vk *vk);
/* True when this vkernel can spawn processes (daemon placement and the
 * container policy allows exec). ABIs offer process calls only then. */
bool kiln_vk_can_spawn(const struct kiln_vk *vk);

/* A guest asked for executable memory (mmap/mprotect with PROT_EXEC): always
 * -EPERM, audited. call names the guest call ("mmap", "mprotect"). */
int kiln_vk_exec_memory(struct kiln_vk *vk, const char *call, uint64_t addr, uint64_t len,
                        int prot);

/* Checks core call sys against the policy's syscall part (the Linux syscall
 * name of the core operation). Every kiln_vk_* call does this itself; ABIs
 * call it only for calls the core does not implement.
 * Returns 0 to proceed, or -errno / -KILN_VK_EKILL (already audited).
 * args may be NULL (then argument conditions do not match). */
int kiln_vk_check(struct kiln_vk *vk, int sys, const uint64_t *args);

/* Core syscall ids (for kiln_vk_check), from src/vkernel/sys/syscalls.def. */
enum kiln_vk_sys {
#define KILN_VK_SYS(id, name, nr, level, note) KILN_VK_SYS_##id,
#include "kiln/vkernel_syscalls.def"
#undef KILN_VK_SYS
    KILN_VK_SYS__COUNT
};
/* The Linux name of a core syscall id ("openat"), or NULL. */
const char *kiln_vk_sys_name(int sys);

/* Counts an ABI-level call by name for the exit summary (the ABI keeps the
 * string alive). Cheap: adapters call it on every entry. */
void kiln_vk_count(struct kiln_vk *vk, int abi_index);
/* Registers the ABI's call names for the summary (array of n strings). */
void kiln_vk_set_abi_names(struct kiln_vk *vk, const char *const *names, int n);

/* ---- placement backend (daemon placement, src/vkernel/daemon) ----------
 * By default every call runs in this process (embedded placement). With a
 * backend installed, the authority-granting calls below are forwarded to it
 * before any local check or counting (kilnd checks, performs, counts and
 * audits them); the hot-path calls on fds already granted stay local.
 * release is called when a local fd whose `remote` field is set is freed;
 * exit is called by kiln_vk_exit with the final code and reason (after the
 * local exit event). Any member may be NULL (that call stays local). */
struct sockaddr;
struct kiln_vk_backend {
    int (*openat)(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags,
                  mode_t mode);
    int (*mkdirat)(struct kiln_vk *vk, int dirfd, const char *path, size_t len, mode_t mode);
    int (*unlinkat)(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags);
    int (*renameat)(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                    const char *newp, size_t newlen);
    int (*linkat)(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                  const char *newp, size_t newlen, int flags);
    int (*symlinkat)(struct kiln_vk *vk, const char *target, size_t tlen, int dirfd,
                     const char *path, size_t len);
    ssize_t (*readlinkat)(struct kiln_vk *vk, int dirfd, const char *path, size_t len, char *buf,
                          size_t size);
    int (*fstatat)(struct kiln_vk *vk, int dirfd, const char *path, size_t len, struct stat *st,
                   int flags);
    int (*utimensat)(struct kiln_vk *vk, int dirfd, const char *path, size_t len,
                     const struct timespec times[2], int flags);
    int (*socket)(struct kiln_vk *vk, int domain, int type, int protocol);
    int (*connect)(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len);
    int (*bind)(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len);
    int (*listen_fd)(struct kiln_vk *vk, int fd, int backlog);
    int (*accept)(struct kiln_vk *vk, int fd, int flags);
    void (*release)(struct kiln_vk *vk, int32_t remote);
    void (*exit)(struct kiln_vk *vk, int code, const char *reason);
    /* processes (sys_proc.c); spawn == NULL means exec is not allowed */
    int (*spawn)(struct kiln_vk *vk, const char *path, size_t len, int argc, char *const *argv,
                 int nenv, char *const *env, const int stdio[3]);
    int (*wait)(struct kiln_vk *vk, int pid, int *status, int options);
    int (*kill)(struct kiln_vk *vk, int pid, int sig);
    int (*getpid)(struct kiln_vk *vk);
};

/* Installs (be != NULL) or removes the backend; ctx is the backend's own
 * state (not owned). Returns 0. */
int kiln_vk_set_backend(struct kiln_vk *vk, const struct kiln_vk_backend *be, void *ctx);
/* The ctx given to kiln_vk_set_backend, or NULL. */
void *kiln_vk_backend_ctx(const struct kiln_vk *vk);

/* ---- WASI preview1 adapter (abi/wasi_p1.c) ------------------------------
 * Built into kiln_vkernel when the engine (kiln_wasm) is present; then
 * KILN_HAVE_WASI is defined for users of the library. */
struct kiln_wasi;
struct kiln_store;
struct kiln_module;
struct kiln_extern;
struct kiln_trap;

/* Creates the adapter over vk (not owned; must outlive it). argv/env
 * ("K=V") are copied. Every open guest fd gets the WASI rights of its kind.
 * Returns 0 or -KILN_E_NOMEM. */
int kiln_wasi_new(struct kiln_vk *vk, int argc, char *const *argv, int nenv, char *const *env,
                  struct kiln_wasi **out, struct kiln_error *err);
void kiln_wasi_free(struct kiln_wasi *w);

/* Creates host functions in store for every import of mod. All imports must
 * be functions of "wasi_snapshot_preview1" with the right signature, else
 * -KILN_E_LINK naming the import. *imports (malloc'd, caller frees) gets one
 * extern per import, in order. */
int kiln_wasi_link(struct kiln_wasi *w, struct kiln_store *store, const struct kiln_module *mod,
                   struct kiln_extern **imports, size_t *nimports, struct kiln_error *err);

/* Links, instantiates and runs the command module's _start. Returns the exit
 * status (0.., from proc_exit or 0 when _start returns) or, when the guest
 * trapped, 128 + 6 after filling *trap (if non-NULL) — or a negative kiln
 * error code (link failure, no _start) with *err filled. Writes the audit
 * exit summary. */
int kiln_wasi_run(struct kiln_wasi *w, struct kiln_store *store, const struct kiln_module *mod,
                  struct kiln_trap *trap, struct kiln_error *err);

/* kiln_wasi_run() under the wall-time and CPU-time limits in *lim (NULL or
 * zeros = none): one-shot timers interrupt the guest, which then stops with
 * KILN_TRAP_INTERRUPTED. One limited run at a time per process. Returns what
 * kiln_wasi_run() returns. */
int kiln_wasi_run_limited(struct kiln_wasi *w, struct kiln_store *store,
                          const struct kiln_module *mod, const struct kiln_vk_limits *lim,
                          struct kiln_trap *trap, struct kiln_error *err);

/* Number of functions in the WASI table and their names (for docs, tests). */
int kiln_wasi_function_count(void);
const char *kiln_wasi_function_name(int i);
/* Maps a Linux errno (positive) to the WASI errno. */
int kiln_wasi_errno(int linux_errno);

#endif
