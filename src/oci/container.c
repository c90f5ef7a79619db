/*
 * container.c — `create` and `exec`: the container's init process and the
 * processes that join it (oci.h).
 *
 * create, in order (P = kiln-oci create, C = the container init):
 *
 *   P: state dir ROOT/ID (EEXIST: refused), exec.fifo, console socket,
 *      setns(pid) when the config names a pid namespace path,
 *      clone(CLONE_NEW* of the config)                      ──► C
 *   P: cgroup: mkdir, limits, move C in; write "go"          ──► C waits for it
 *   C: setns the namespaces with paths; mounts beneath the rootfs (targets
 *      opened with openat2 RESOLVE_IN_ROOT, mounted through /proc/self/fd);
 *      /run/kiln: kilnd's files (daemon placement) or, embedded without
 *      native programs, a tmpfs for the container's policy; pivot_root;
 *      maskedPaths, readonlyPaths, read-only root; hostname; console;
 *      rlimits; open the entry beneath "/" with openat2 and verify it as a
 *      kiln unit (kiln_unit_verify_fd, the trust store P loaded
 *      from the host before the clone); copy the verified bytes into a
 *      sealed memfd; embedded: the unit's signed policy written to
 *      /run/kiln/policy.json and the tmpfs remounted read-only (exec'd units
 *      run under intersect(it, their own), src/stub/main.c); user,
 *      capabilities, no_new_privs, Landlock scoping;
 *      report "ok" or the error                              ──► P
 *   P: on "ok": state.json, pid file, exit 0; else kill C, clean up, exit 1
 *   C: block reading exec.fifo until `start` writes a byte, then fexecve
 *      the memfd: exactly the bytes that were verified run, never a file
 *      re-read by name. With the native annotation, the file is exec'd by
 *      its descriptor instead.
 *
 * C reports errors as one message over the sync socket and exits 1; it
 * never prints (its stderr is the container's).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "oci/oci.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* ------------------------------------------------------------ helpers --- */

/* The child's error channel: formats, sends, exits 1. */
static void die(int sync, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int sync, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    msg[0] = 'E';
    va_start(ap, fmt);
    vsnprintf(msg + 1, sizeof msg - 1, fmt, ap);
    va_end(ap);
    if (write(sync, msg, strlen(msg)) < 0) _exit(2);
    _exit(1);
}

static int openat2_(int dirfd, const char *path, int flags, uint64_t resolve)
{
    struct open_how how = {.flags = (uint64_t)flags, .mode = 0, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* Opens (O_PATH) path beneath rootfd, creating missing directories, and the
 * last component as a directory (file = false) or an empty file. Symlinks
 * resolve inside the root. Returns the fd or -errno. */
static int mkpath_beneath(int rootfd, const char *path, bool file)
{
    char buf[4096];
    char *p;
    int fd;
    snprintf(buf, sizeof buf, "%s", path);
    for (p = buf + 1;; p++) {
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        fd = openat2_(rootfd, buf, O_PATH | O_CLOEXEC, IN_ROOT);
        if (fd < 0 && errno == ENOENT) {
            /* create it in its (resolved) parent */
            char *slash = strrchr(buf, '/');
            int pfd;
            *slash = 0;
            pfd = openat2_(rootfd, buf[0] ? buf : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
            *slash = '/';
            if (pfd < 0) return -errno;
            if (c == 0 && file) {
                int f = openat(pfd, slash + 1, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f >= 0) close(f);
            } else if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(pfd);
                return -e;
            }
            close(pfd);
            fd = openat2_(rootfd, buf, O_PATH | O_CLOEXEC, IN_ROOT);
        }
        if (fd < 0) return -errno;
        if (c == 0) return fd;
        close(fd);
        *p = c;
    }
}

static void fdpath(char *out, size_t len, int fd)
{
    snprintf(out, len, "/proc/self/fd/%d", fd);
}

/* Remounts a bind mount with flags, keeping the flags the kernel locked. */
static int bind_remount(const char *target, unsigned long flags)
{
    unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(MS_REC | MS_BIND | MS_REMOUNT));
    struct statvfs sv;
    if (mount(NULL, target, NULL, f, NULL) == 0) return 0;
    if (errno != EPERM || statvfs(target, &sv) < 0) return -errno;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
    return mount(NULL, target, NULL, f, NULL) == 0 ? 0 : -errno;
}

/* ------------------------------------------------------------- mounts --- */

/* Reopens dest beneath the root: after a mount, the old O_PATH fd still
 * names the directory underneath, not the new mount. */
static int reopen(int sync, int rootfd, const char *dest, int old, char *target, size_t len)
{
    int fd = openat2_(rootfd, dest, O_PATH | O_CLOEXEC, IN_ROOT);
    close(old);
    if (fd < 0) die(sync, "mount %s: reopen: %s", dest, strerror(errno));
    fdpath(target, len, fd);
    return fd;
}

static void do_mount(int sync, int rootfd, const struct oci_mount *m)
{
    char target[64];
    int fd;
    bool file = false;
    const char *type = m->type ? m->type : "none";
    if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
        return; /* not supported: the container sees no cgroupfs (docs/containerd.md) */
    if (m->bind) {
        struct stat sb;
        if (!m->source || stat(m->source, &sb) < 0)
            die(sync, "mount %s: bind source %s: %s", m->dest, m->source ? m->source : "(none)",
                strerror(errno));
        file = !S_ISDIR(sb.st_mode);
    }
    fd = mkpath_beneath(rootfd, m->dest, file);
    if (fd < 0)
        die(sync, "mount %s: create the target beneath the rootfs: %s", m->dest, strerror(-fd));
    fdpath(target, sizeof target, fd);
    if (m->bind) {
        if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
            die(sync, "mount %s: bind %s: %s", m->dest, m->source, strerror(errno));
        fd = reopen(sync, rootfd, m->dest, fd, target, sizeof target);
        if ((m->flags & ~MS_REC) != 0) {
            int rc = bind_remount(target, m->flags);
            if (rc < 0) die(sync, "mount %s: remount: %s", m->dest, strerror(-rc));
        }
    } else if (mount(m->source ? m->source : type, target, type, m->flags & ~MS_REC, m->data) < 0) {
        if (errno == EPERM && strcmp(type, "sysfs") == 0) {
            /* sysfs cannot be mounted without a new network namespace:
             * runc's fallback, the host's /sys read-only */
            if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
                die(sync, "mount %s: sysfs: %s", m->dest, strerror(errno));
            fd = reopen(sync, rootfd, m->dest, fd, target, sizeof target);
            if (bind_remount(target, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
                die(sync, "mount %s: sysfs: %s", m->dest, strerror(errno));
        } else {
            die(sync, "mount %s: %s on %s: %s", m->dest, type, m->source ? m->source : "-",
                strerror(errno));
        }
    }
    if (m->prop) fd = reopen(sync, rootfd, m->dest, fd, target, sizeof target);
    if (m->prop && mount(NULL, target, NULL, m->prop, NULL) < 0)
        die(sync, "mount %s: propagation: %s", m->dest, strerror(errno));
    close(fd);
}

/* The devices every container gets when /dev is not the host's. */
static void default_devices(int sync, int rootfd)
{
    static const char *const devs[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                       "/dev/random", "/dev/urandom", "/dev/tty"};
    static const char *const links[][2] = {
        {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
        {"pts/ptmx", "/dev/ptmx"},
    };
    char target[64];
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        int fd = mkpath_beneath(rootfd, devs[i], true);
        if (fd < 0) die(sync, "device %s: %s", devs[i], strerror(-fd));
        fdpath(target, sizeof target, fd);
        if (mount(devs[i], target, NULL, MS_BIND, NULL) < 0)
            die(sync, "device %s: bind: %s", devs[i], strerror(errno));
        close(fd);
    }
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        int dfd = openat2_(rootfd, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC, IN_ROOT);
        if (dfd < 0) die(sync, "/dev: %s", strerror(errno));
        if (symlinkat(links[i][0], dfd, links[i][1] + 5) < 0 && errno != EEXIST)
            die(sync, "symlink %s: %s", links[i][1], strerror(errno));
        close(dfd);
    }
}

static bool dev_is_fresh(const struct oci_spec *s)
{
    for (size_t i = 0; i < s->nmounts; i++)
        if (strcmp(s->mounts[i].dest, "/dev") == 0) return !s->mounts[i].bind;
    return false;
}

/* The daemon placement's files for kiln-stub (src/stub/kilnd.c): a
 * read-only tmpfs at /run/kiln beneath the rootfs holding kilnd.id (root's,
 * 0444) and kilnd.sock, a bind mount of kilnd's socket on the host. */
static void kilnd_files(int sync, int rootfd, const char *sock, const char *kid)
{
    static const char dir[] = "/run/kiln";
    char target[64], sockt[64];
    int fd = mkpath_beneath(rootfd, dir, false), f, sfd;
    size_t len = strlen(kid);
    if (fd < 0) die(sync, "kilnd: create %s beneath the rootfs: %s", dir, strerror(-fd));
    fdpath(target, sizeof target, fd);
    if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
        die(sync, "kilnd: tmpfs on %s: %s", dir, strerror(errno));
    fd = reopen(sync, rootfd, dir, fd, target, sizeof target);
    f = openat(fd, "kilnd.id", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (f < 0 || write(f, kid, len) != (ssize_t)len || write(f, "\n", 1) != 1 ||
        fchown(f, 0, 0) < 0)
        die(sync, "kilnd: write %s/kilnd.id: %s", dir, strerror(errno));
    close(f);
    f = openat(fd, "kilnd.sock", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0) die(sync, "kilnd: %s/kilnd.sock: %s", dir, strerror(errno));
    close(f);
    sfd = openat(fd, "kilnd.sock", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0) die(sync, "kilnd: %s/kilnd.sock: %s", dir, strerror(errno));
    fdpath(sockt, sizeof sockt, sfd);
    if (mount(sock, sockt, NULL, MS_BIND, NULL) < 0)
        die(sync, "kilnd: bind the socket %s: %s", sock, strerror(errno));
    close(sfd);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=755,size=64k") < 0)
        die(sync, "kilnd: remount %s read-only: %s", dir, strerror(errno));
    close(fd);
}

/* The embedded placement's file for kiln-stub (src/stub/main.c): a tmpfs at
 * /run/kiln beneath the rootfs, writable by the init only until it has
 * verified its entry (policy_file writes policy.json into it and makes it
 * read-only). Returns an O_PATH fd of the tmpfs root. */
static int policy_dir(int sync, int rootfd)
{
    static const char dir[] = "/run/kiln";
    char target[64];
    int fd = mkpath_beneath(rootfd, dir, false);
    if (fd < 0) die(sync, "container policy: create %s beneath the rootfs: %s", dir, strerror(-fd));
    fdpath(target, sizeof target, fd);
    if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=256k") < 0)
        die(sync, "container policy: tmpfs on %s: %s", dir, strerror(errno));
    return reopen(sync, rootfd, dir, fd, target, sizeof target);
}

/* Writes the container's effective policy (the verified entry unit's signed
 * policy; none: no file, the permissive built-in policy) as policy.json
 * (root's, 0444) into the tmpfs dirfd names, then remounts it read-only, so
 * every unit exec'd into the container runs under intersect(this policy, its
 * own) (docs/containerd.md, "exec"). Closes dirfd. */
static void policy_file(int sync, int dirfd, const char *policy, size_t len)
{
    if (policy != NULL) {
        int f = openat(dirfd, "policy.json", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                       0444);
        size_t off = 0;
        if (f < 0) die(sync, "container policy: /run/kiln/policy.json: %s", strerror(errno));
        while (off < len) {
            ssize_t n = write(f, policy + off, len - off);
            if (n <= 0)
                die(sync, "container policy: write /run/kiln/policy.json: %s",
                    n < 0 ? strerror(errno) : "short write");
            off += (size_t)n;
        }
        if (fchown(f, 0, 0) < 0 || fchmod(f, 0444) < 0)
            die(sync, "container policy: /run/kiln/policy.json: %s", strerror(errno));
        close(f);
    }
    /* the O_PATH fd is the mount's root: remount through it (no /proc needed) */
    if (fchdir(dirfd) < 0 ||
        mount(NULL, ".", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=755,size=256k") < 0)
        die(sync, "container policy: remount /run/kiln read-only: %s", strerror(errno));
    if (chdir("/") < 0) die(sync, "chdir /: %s", strerror(errno));
    close(dirfd);
}

/* Returns the O_PATH fd of /run/kiln's tmpfs when with_policy_dir, else -1. */
static int setup_rootfs(int sync, const struct oci_spec *s, const char *kilnd_sock,
                        const char *kilnd_id, bool with_policy_dir)
{
    int pdir = -1;
    int rootfd;
    if (mount(NULL, "/", NULL, s->rootfs_prop, NULL) < 0)
        die(sync, "rootfs propagation: %s", strerror(errno));
    if (mount(s->root, s->root, NULL, MS_BIND | MS_REC, NULL) < 0)
        die(sync, "bind rootfs %s: %s", s->root, strerror(errno));
    rootfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) die(sync, "rootfs %s: %s", s->root, strerror(errno));
    for (size_t i = 0; i < s->nmounts; i++)
        do_mount(sync, rootfd, &s->mounts[i]);
    if (dev_is_fresh(s)) default_devices(sync, rootfd);
    if (kilnd_sock != NULL) kilnd_files(sync, rootfd, kilnd_sock, kilnd_id);
    if (with_policy_dir) pdir = policy_dir(sync, rootfd);
    if (fchdir(rootfd) < 0) die(sync, "chdir rootfs: %s", strerror(errno));
    if (syscall(SYS_pivot_root, ".", ".") < 0) die(sync, "pivot_root: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) < 0) die(sync, "detach the old root: %s", strerror(errno));
    if (chdir("/") < 0) die(sync, "chdir /: %s", strerror(errno));
    close(rootfd);
    return pdir;
}

/* maskedPaths, readonlyPaths and a read-only root; runs after pivot_root,
 * so every path resolves inside the container. */
static void harden_paths(int sync, const struct oci_spec *s)
{
    for (char **p = s->masked; *p; p++) {
        struct stat sb;
        if (stat(*p, &sb) < 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            if (mount("tmpfs", *p, "tmpfs", MS_RDONLY, NULL) < 0)
                die(sync, "maskedPaths %s: %s", *p, strerror(errno));
        } else if (mount("/dev/null", *p, NULL, MS_BIND, NULL) < 0) {
            die(sync, "maskedPaths %s: %s", *p, strerror(errno));
        }
    }
    for (char **p = s->readonly; *p; p++) {
        int rc;
        if (access(*p, F_OK) < 0) continue;
        if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0)
            die(sync, "readonlyPaths %s: %s", *p, strerror(errno));
        if ((rc = bind_remount(*p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) < 0)
            die(sync, "readonlyPaths %s: %s", *p, strerror(-rc));
    }
    if (s->root_ro) {
        int rc = bind_remount("/", MS_RDONLY);
        if (rc < 0) die(sync, "read-only root: %s", strerror(-rc));
    }
}

/* ------------------------------------------------------------ console --- */

/* Opens a pty in the container's /dev/ptmx, sends the master over the
 * console socket (runc's protocol: one SCM_RIGHTS fd, the pty name as data)
 * and makes the slave the controlling terminal and stdio. */
static void setup_console(int sync, int sock)
{
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
    char name[64] = "/dev/ptmx";
    unsigned int n = 0, unlock = 0;
    struct msghdr msg = {0};
    struct iovec iov;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct cmsghdr *c;
    if (master < 0) die(sync, "console: open /dev/ptmx in the container: %s", strerror(errno));
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die(sync, "console: unlock: %s", strerror(errno));
    if (ioctl(master, TIOCGPTN, &n) == 0) snprintf(name, sizeof name, "/dev/pts/%u", n);
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) die(sync, "console: open the pty peer: %s", strerror(errno));
    iov.iov_base = name;
    iov.iov_len = strlen(name);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &master, sizeof master);
    if (sendmsg(sock, &msg, 0) < 0) die(sync, "console: send the pty: %s", strerror(errno));
    close(master);
    close(sock);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) die(sync, "console: TIOCSCTTY: %s", strerror(errno));
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0) die(sync, "console: dup2: %s", strerror(errno));
    if (slave > 2) close(slave);
}

/* ---------------------------------------------------- entry + process --- */

static const char *env_get(char **env, const char *key)
{
    size_t n = strlen(key);
    for (char **e = env; e && *e; e++)
        if (strncmp(*e, key, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

/* Opens the entry program beneath "/" (the container root): args[0] as a
 * path (relative to cwd) or searched in the process's PATH. Returns the fd
 * (O_RDONLY) and the path found in out, or dies. */
static int open_entry(int sync, const struct oci_process *p, char *out, size_t len)
{
    const char *a0 = p->args[0];
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
    struct stat sb;
    if (rootfd < 0) die(sync, "open /: %s", strerror(errno));
    if (strchr(a0, '/')) {
        if (a0[0] == '/')
            snprintf(out, len, "%s", a0);
        else
            snprintf(out, len, "%s/%s", p->cwd, a0);
        fd = openat2_(rootfd, out, O_RDONLY | O_CLOEXEC, IN_ROOT);
        if (fd < 0) die(sync, "exec: %s: %s", out, strerror(errno));
    } else {
        const char *path = env_get(p->env, "PATH");
        char dirs[4096], *save = NULL, *d;
        snprintf(dirs, sizeof dirs, "%s",
                 path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            snprintf(out, len, "%s/%s", d[0] ? d : ".", a0);
            fd = openat2_(rootfd, out, O_RDONLY | O_CLOEXEC, IN_ROOT);
            if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111)) break;
            if (fd >= 0) close(fd);
            fd = -1;
        }
        if (fd < 0) die(sync, "exec: \"%s\": executable file not found in $PATH", a0);
    }
    close(rootfd);
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) die(sync, "exec: %s: not a regular file", out);
    if (!(sb.st_mode & 0111)) die(sync, "exec: %s: permission denied", out);
    return fd;
}

/* Verifies the entry as a kiln unit and returns a sealed memfd holding the
 * verified bytes; with allow_native and a file that is not a unit (no unit
 * footer), returns the file's own fd; a unit that does not verify is refused
 * even then (without a trust store, where nothing can be verified, a file
 * claiming to be a unit is refused too). Dies with a clear message otherwise. With
 * policy non-NULL, *policy gets a malloc'd copy of the unit's signed policy
 * (NULL when it has none) and *policy_len its length. */
static int verified_entry(int sync, int fd, const char *path, struct kiln_trust_store *ts,
                          bool allow_native, char **policy, size_t *policy_len)
{
    struct kiln_unit *u = NULL;
    struct kiln_error e = {0};
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    char name[64];
    int mfd;
    size_t off = 0;
    if (!ts || kiln_unit_verify_fd(fd, ts, &u, &why, &e) < 0) {
        /* native programs may run; a kiln unit that fails verification never does */
        if (allow_native && ts && why == KILN_REFUSAL_BAD_FOOTER && !kiln_unit_fd_claims_unit(fd))
            return fd;
        if (allow_native && ts)
            die(sync,
                "refusing to run %s: a kiln unit that does not verify (%s) is never run, "
                "not even where native programs are allowed",
                path, e.msg);
        if (allow_native && !kiln_unit_fd_claims_unit(fd)) return fd;
        die(sync,
            "refusing to run %s: not a verified kiln unit (%s); only signed units run unless "
            "the annotation " KILN_OCI_ANNOTATION_NATIVE "=true allows native programs",
            path, ts ? e.msg : "no trust store");
    }
    snprintf(name, sizeof name, "kiln-unit:%s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
    mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (mfd < 0 && errno == EINVAL) mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0) die(sync, "memfd for %s: %s", path, strerror(errno));
    while (off < u->size) {
        ssize_t n = write(mfd, u->data + off, u->size - off);
        if (n <= 0) die(sync, "memfd for %s: %s", path, strerror(errno));
        off += (size_t)n;
    }
    if (policy != NULL) {
        *policy = NULL;
        *policy_len = 0;
        if (u->policy != NULL) {
            *policy = malloc(u->policy_len);
            if (*policy == NULL) die(sync, "out of memory");
            memcpy(*policy, u->policy, u->policy_len);
            *policy_len = u->policy_len;
        }
    }
    kiln_unit_free(u);
    if (fchmod(mfd, 0555) < 0 ||
        fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        die(sync, "seal the memfd for %s: %s", path, strerror(errno));
    close(fd);
    return mfd;
}

/* Writes process.oomScoreAdj for the container's init (from here, as runc
 * does). Lowering it needs CAP_SYS_RESOURCE; where the kernel refuses, the
 * value is logged as not applied and the container still starts (the score
 * only ranks processes for the OOM killer; it grants nothing). */
static void set_oom_score_adj(pid_t pid, int adj)
{
    char path[64], val[16];
    int fd, n = snprintf(val, sizeof val, "%d", adj), e = 0;
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, val, (size_t)n) != n) e = errno;
    if (fd >= 0) close(fd);
    if (e) oci_warn("process.oomScoreAdj %d not applied: %s: %s", adj, path, strerror(e));
}

static int last_cap(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int n = 40;
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = 40;
        fclose(f);
    }
    return n;
}

/* rlimits, user and groups, capabilities, no_new_privs. */
static void setup_process(int sync, const struct oci_process *p, int lastcap, void *seccomp)
{
    uint64_t valid = lastcap >= 63 ? ~0ull : (1ull << (lastcap + 1)) - 1;
    int rc;
    /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: now */
    if (!p->no_new_privs && (rc = oci_seccomp_load(seccomp)) < 0)
        die(sync, "load the seccomp filter: %s", strerror(-rc));
    for (size_t i = 0; i < p->nrlimits; i++) {
        struct rlimit r = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
        if (setrlimit(p->rlimits[i].resource, &r) < 0)
            die(sync, "rlimit %d: %s", p->rlimits[i].resource, strerror(errno));
    }
    if (p->has_caps) {
        for (int c = 0; c <= lastcap; c++)
            if (!(p->cap_bounding & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                die(sync, "drop capability %d from the bounding set: %s", c, strerror(errno));
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die(sync, "keepcaps: %s", strerror(errno));
    }
    if (setgroups(p->ngids, p->gids) < 0) die(sync, "setgroups: %s", strerror(errno));
    if (setgid(p->gid) < 0) die(sync, "setgid %u: %s", (unsigned)p->gid, strerror(errno));
    if (setuid(p->uid) < 0) die(sync, "setuid %u: %s", (unsigned)p->uid, strerror(errno));
    if (p->has_umask) umask(p->umask);
    if (p->has_caps) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2];
        uint64_t eff = p->cap_effective & valid, perm = p->cap_permitted & valid,
                 inh = p->cap_inheritable & valid;
        d[0].effective = (uint32_t)eff;
        d[1].effective = (uint32_t)(eff >> 32);
        d[0].permitted = (uint32_t)perm;
        d[1].permitted = (uint32_t)(perm >> 32);
        d[0].inheritable = (uint32_t)inh;
        d[1].inheritable = (uint32_t)(inh >> 32);
        if (syscall(SYS_capset, &h, d) < 0) die(sync, "capset: %s", strerror(errno));
        /* like runc: an ambient capability that is not also permitted and
         * inheritable cannot be raised; that is not an error */
        for (int c = 0; c <= lastcap; c++)
            if (p->cap_ambient & (1ull << c)) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
    }
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die(sync, "no_new_privs: %s", strerror(errno));
}

/* Landlock scoping (ABI >= 6): the container cannot signal processes or
 * reach abstract unix sockets outside its domain (a shared network
 * namespace would otherwise expose the host's). The stub adds its own
 * filesystem and network rules. Returns whether it was applied. */
static bool landlock_scope(void)
{
    struct {
        uint64_t handled_access_fs, handled_access_net, scoped;
    } attr = {0, 0, 0x1 /* ABSTRACT_UNIX_SOCKET */ | 0x2 /* SIGNAL */};
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */);
    int fd;
    bool ok;
    if (abi < 6) return false;
    fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (fd < 0) return false;
    ok = syscall(SYS_landlock_restrict_self, fd, 0) == 0;
    close(fd);
    return ok;
}

/* The last steps before the program runs: every fd beyond stdio and the
 * preserved ones closes on exec; the config's seccomp filter when it was
 * not loaded earlier (no_new_privs set: as late as possible, like runc).
 * Returns only on failure. */
static void exec_entry(int fd, bool by_fd_native, const char *path, const struct oci_process *p,
                       int preserve_fds, void *seccomp)
{
    int rc;
    if (syscall(SYS_close_range, 3 + preserve_fds, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
        fprintf(stderr, "kiln-oci: close_range: %s\n", strerror(errno));
        return;
    }
    if (p->no_new_privs && (rc = oci_seccomp_load(seccomp)) < 0) {
        fprintf(stderr, "kiln-oci: load the seccomp filter: %s\n", strerror(-rc));
        return;
    }
    if (by_fd_native) {
        /* native program (allowed): by its path, so scripts work too */
        execve(path, p->args, p->env);
    }
    syscall(SYS_execveat, fd, "", p->args, p->env, AT_EMPTY_PATH);
}

/* -------------------------------------------------------------- create --- */

struct init_ctx {
    const struct oci_spec *s;
    struct kiln_trust_store *ts;
    int sync;    /* socket to the parent */
    int fifo;    /* exec.fifo, O_RDWR */
    int console; /* console socket or -1 */
    int lastcap;
    int preserve_fds;
    const char *kilnd_sock; /* daemon placement: kilnd's socket on the host, else NULL */
    const char *kilnd_id;   /* the container's id in kilnd */
    bool policy_dir;        /* embedded placement (units only): /run/kiln/policy.json */
};

static int ns_fd_join(int sync, const struct oci_spec *s, bool pid)
{
    for (size_t i = 0; i < s->nns; i++) {
        int fd;
        if (!s->ns[i].path || (s->ns[i].flag == CLONE_NEWPID) != pid) continue;
        fd = open(s->ns[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, s->ns[i].flag) < 0) {
            if (sync < 0) return -errno;
            die(sync, "join namespace %s: %s", s->ns[i].path, strerror(errno));
        }
        close(fd);
    }
    return 0;
}

static bool has_new_ns(const struct oci_spec *s, int flag)
{
    for (size_t i = 0; i < s->nns; i++)
        if (s->ns[i].flag == flag && !s->ns[i].path) return true;
    return false;
}

static void init_main(struct init_ctx *c)
{
    const struct oci_spec *s = c->s;
    char go, path[4096], *policy = NULL;
    size_t policy_len = 0;
    int fd, pdir;
    bool native;
    if (read(c->sync, &go, 1) != 1) _exit(1); /* the parent died or gave up */
    ns_fd_join(c->sync, s, false);
    if (has_new_ns(s, CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
        die(c->sync, "new cgroup namespace: %s", strerror(errno));
    /* namespaces and cgroup exist: the parent runs prestart/createRuntime */
    if (write(c->sync, "H", 1) != 1 || read(c->sync, &go, 1) != 1) _exit(1);
    if (!has_new_ns(s, CLONE_NEWNS)) die(c->sync, "kiln-oci needs a new mount namespace");
    pdir = setup_rootfs(c->sync, s, c->kilnd_sock, c->kilnd_id, c->policy_dir);
    harden_paths(c->sync, s);
    if (s->hostname && has_new_ns(s, CLONE_NEWUTS) &&
        sethostname(s->hostname, strlen(s->hostname)) < 0)
        die(c->sync, "sethostname: %s", strerror(errno));
    if (setsid() < 0) die(c->sync, "setsid: %s", strerror(errno));
    if (s->proc.terminal) {
        if (c->console < 0) die(c->sync, "process.terminal is set but no --console-socket given");
        setup_console(c->sync, c->console);
    }
    fd = open_entry(c->sync, &s->proc, path, sizeof path);
    fd = verified_entry(c->sync, fd, path, c->ts, s->allow_native, &policy, &policy_len);
    native = s->allow_native && fd >= 0 && !(fcntl(fd, F_GET_SEALS) > 0);
    if (pdir >= 0) policy_file(c->sync, pdir, policy, policy_len);
    if (c->kilnd_sock != NULL && policy != NULL) {
        /* the parent registers the unit's signed policy with kilnd */
        char *m = malloc(policy_len + 1);
        if (m == NULL || policy_len > OCI_POLICY_MAX) die(c->sync, "kilnd: policy too large");
        m[0] = 'P';
        memcpy(m + 1, policy, policy_len);
        if (write(c->sync, m, policy_len + 1) != (ssize_t)(policy_len + 1)) _exit(1);
        free(m);
    }
    free(policy);
    landlock_scope();
    setup_process(c->sync, &s->proc, c->lastcap, s->seccomp);
    if (chdir(s->proc.cwd) < 0) die(c->sync, "chdir %s: %s", s->proc.cwd, strerror(errno));
    if (write(c->sync, "K", 1) != 1) _exit(1);
    close(c->sync);
    /* wait for `start` */
    if (read(c->fifo, &go, 1) != 1) _exit(1);
    close(c->fifo);
    exec_entry(fd, native, path, &s->proc, c->preserve_fds, s->seccomp);
    fprintf(stderr, "kiln-oci: exec %s: %s\n", path, strerror(errno));
    _exit(127);
}

static char *now_rfc3339(void)
{
    struct timespec ts;
    struct tm tm;
    char buf[64], *out = NULL;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0) return NULL;
    return out;
}

static int connect_console(const char *path, struct kiln_error *err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return kiln_error_sys(err, errno, "console socket");
    if (strlen(path) >= sizeof a.sun_path) {
        close(fd);
        return kiln_error_set(err, KILN_E_ARG, "console socket path too long: %s", path);
    }
    strcpy(a.sun_path, path);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        return kiln_error_sys(err, e, "connect console socket %s", path);
    }
    return fd;
}

/* Reads the child's verdict: 0 on "K", else copies its message to err. A
 * policy message ("P" + the unit's policy) before it goes to *policy
 * (malloc'd) when policy is non-NULL. */
static int read_verdict(int sync, const char *what, char **policy, size_t *policy_len,
                        struct kiln_error *err)
{
    static char msg[OCI_POLICY_MAX + 2];
    ssize_t n = read(sync, msg, sizeof msg - 1);
    if (n > 1 && msg[0] == 'P' && policy != NULL && *policy == NULL) {
        *policy = malloc((size_t)n - 1);
        if (*policy == NULL) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        memcpy(*policy, msg + 1, (size_t)n - 1);
        *policy_len = (size_t)n - 1;
        n = read(sync, msg, sizeof msg - 1);
    }
    if (n == 1 && msg[0] == 'K') return 0;
    if (n > 1 && msg[0] == 'E') {
        msg[n] = 0;
        return kiln_error_set(err, KILN_E_IO, "%s: %s", what, msg + 1);
    }
    return kiln_error_set(err, KILN_E_IO, "%s: the container process died during setup", what);
}

static int write_pidfile(const char *path, pid_t pid, struct kiln_error *err)
{
    char v[32];
    if (!path) return 0;
    snprintf(v, sizeof v, "%d", (int)pid);
    return oci_write_atomic(path, v, err);
}

static void rm_statedir(const char *dir)
{
    char p[4200];
    const char *files[] = {"exec.fifo", "state.json", "policy.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* mkdir -p path, new levels 0711 (runc's --root rule). */
static int mkdir_p(const char *path, struct kiln_error *err)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != 0) continue;
        *s = 0;
        if (mkdir(p, 0711) < 0 && errno != EEXIST) return kiln_error_sys(err, errno, "mkdir %s", p);
        if (c == 0) return 0;
        *s = c;
    }
}

int oci_create(const struct oci_create_opts *o, struct kiln_trust_store *ts, struct kiln_error *err)
{
    struct oci_spec s;
    struct oci_state st = {0};
    char dir[4096], fifo[4200], kid[OCI_KILND_ID_MAX + 1] = "", *policy = NULL;
    int sv[2] = {-1, -1}, fifofd = -1, console = -1, rc, flags = 0;
    bool dir_made = false, kilnd, registered = false;
    size_t policy_len = 0;
    pid_t pid = -1;
    char *cg = NULL;
    if ((rc = oci_spec_load(o->bundle, &s, err)) < 0) return rc;
    /* the daemon placement: units only (a native process must not reach
     * kilnd as this container), unless the annotation opts out */
    kilnd = o->config != NULL && o->config->kilnd_socket[0] && !s.allow_native && !s.no_kilnd;
    if (kilnd) oci_kilnd_id(o->root, o->id, kid);
    if (!ts && !s.allow_native) {
        rc = kiln_error_set(err, KILN_E_VERIFY, "cannot verify units: trust store: %s",
                            o->ts_error ? o->ts_error : "not loaded");
        goto fail;
    }
    if ((rc = mkdir_p(o->root, err)) < 0) goto fail;
    snprintf(dir, sizeof dir, "%s/%s", o->root, o->id);
    if (mkdir(dir, 0711) < 0) {
        rc = errno == EEXIST
                 ? kiln_error_set(err, KILN_E_ARG, "container with id exists: %s", o->id)
                 : kiln_error_sys(err, errno, "mkdir %s", dir);
        goto fail;
    }
    dir_made = true;
    snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
    if (mkfifo(fifo, 0600) < 0 || (fifofd = open(fifo, O_RDWR | O_CLOEXEC)) < 0) {
        rc = kiln_error_sys(err, errno, "exec fifo %s", fifo);
        goto fail;
    }
    if (o->console_socket && (console = connect_console(o->console_socket, err)) < 0) {
        rc = console;
        goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = kiln_error_sys(err, errno, "socketpair");
        goto fail;
    }
    if ((rc = ns_fd_join(-1, &s, true)) < 0) {
        rc = kiln_error_sys(err, -rc, "join the pid namespace");
        goto fail;
    }
    /* a new cgroup namespace is unshared by the child once it is in its
     * cgroup (else the namespace's root would be kiln-oci's cgroup) */
    for (size_t i = 0; i < s.nns; i++)
        if (!s.ns[i].path && s.ns[i].flag != CLONE_NEWCGROUP) flags |= s.ns[i].flag;
    fflush(NULL);
    pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        rc = kiln_error_sys(err, errno, "clone");
        goto fail;
    }
    if (pid == 0) {
        struct init_ctx c = {
            &s,      ts,         sv[1],           fifofd,
            console, last_cap(), o->preserve_fds, kilnd ? o->config->kilnd_socket : NULL,
            kid,     false};
        c.policy_dir = !kilnd && !s.allow_native;
        close(sv[0]);
        init_main(&c);
    }
    close(sv[1]);
    sv[1] = -1;
    cg = oci_cgroup_path(s.cgroups_path, o->id, o->systemd_cgroup);
    if (!cg) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = oci_cgroup_setup(cg, &s.res, pid, err)) < 0) goto fail;
    if (write(sv[0], "G", 1) != 1) {
        rc = kiln_error_sys(err, errno, "sync with the container process");
        goto fail;
    }
    /* the hook point: 'H' from the child, or its error */
    {
        char msg[1100];
        ssize_t n = read(sv[0], msg, sizeof msg - 1);
        if (n != 1 || msg[0] != 'H') {
            if (n > 1 && msg[0] == 'E') {
                msg[n] = 0;
                rc = kiln_error_set(err, KILN_E_IO, "container init: %s", msg + 1);
            } else {
                rc = kiln_error_set(err, KILN_E_IO, "container init: died during setup");
            }
            goto fail;
        }
    }
    if (s.proc.has_oom_score_adj) set_oom_score_adj(pid, s.proc.oom_score_adj);
    if ((rc = oci_hooks_run(&s.hooks, OCI_HOOK_PRESTART, o->id, pid, "created", o->bundle,
                            s.annotations, err)) < 0 ||
        (rc = oci_hooks_run(&s.hooks, OCI_HOOK_CREATE_RUNTIME, o->id, pid, "creating", o->bundle,
                            s.annotations, err)) < 0)
        goto fail;
    if (write(sv[0], "G", 1) != 1) {
        rc = kiln_error_sys(err, errno, "sync with the container process");
        goto fail;
    }
    if ((rc = read_verdict(sv[0], "container init", kilnd ? &policy : NULL, &policy_len, err)) < 0)
        goto fail;
    if (kilnd) {
        /* before the pid file: once the shim has it, `start` may come */
        if ((rc = oci_kilnd_register(o->config, kid, s.root, s.proc.uid, pid, policy, policy_len,
                                     dir, err)) < 0)
            goto fail;
        registered = true;
        st.kilnd_id = kid;
        st.kilnd_config = (char *)o->config->kilnd_config;
    }
    st.id = (char *)o->id;
    st.pid = pid;
    st.start_time = oci_pid_start_time(pid);
    st.bundle = (char *)o->bundle;
    st.rootfs = s.root;
    st.created = now_rfc3339();
    st.cgroup = cg;
    st.annotations = s.annotations;
    st.allow_native = s.allow_native;
    rc = st.created ? oci_state_save(o->root, &st, err) : kiln_error_set(err, KILN_E_NOMEM, "oom");
    free(st.created);
    if (rc < 0 || (rc = write_pidfile(o->pid_file, pid, err)) < 0) goto fail;
    close(sv[0]);
    close(fifofd);
    if (console >= 0) close(console);
    free(cg);
    free(policy);
    oci_spec_free(&s);
    return 0;
fail:
    if (registered) oci_kilnd_unregister(o->config->kilnd_config, kid);
    free(policy);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (cg && pid > 0) oci_cgroup_remove(cg, NULL);
    if (sv[0] >= 0) close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
    if (fifofd >= 0) close(fifofd);
    if (console >= 0) close(console);
    if (dir_made) rm_statedir(dir);
    free(cg);
    oci_spec_free(&s);
    return rc;
}

/* ---------------------------------------------------------------- exec --- */

int oci_exec(const struct oci_exec_opts *o, struct kiln_trust_store *ts, struct kiln_error *err)
{
    static const struct {
        const char *name;
        int flag;
    } nss[] = {{"ipc", CLONE_NEWIPC},
               {"uts", CLONE_NEWUTS},
               {"net", CLONE_NEWNET},
               {"cgroup", CLONE_NEWCGROUP},
               {"mnt", CLONE_NEWNS}};
    struct oci_state st;
    struct oci_process p;
    struct oci_spec spec = {0};
    int nsfd[5], pidns = -1, sv[2] = {-1, -1}, console = -1, rc, status;
    char path[64];
    pid_t pid = -1;
    const char *stat_s;
    for (size_t i = 0; i < 5; i++)
        nsfd[i] = -1;
    if ((rc = oci_state_load(o->root, o->id, &st, err)) < 0) return rc;
    if ((rc = oci_process_load(o->process, &p, err)) < 0) {
        oci_state_free(&st);
        return rc;
    }
    /* the container's seccomp filter applies to exec'd processes too */
    if ((rc = oci_spec_load(st.bundle, &spec, err)) < 0) goto fail;
    stat_s = oci_state_status(o->root, &st);
    if (strcmp(stat_s, "running") != 0 && strcmp(stat_s, "created") != 0) {
        rc = kiln_error_set(err, KILN_E_ARG, "cannot exec in a %s container", stat_s);
        goto fail;
    }
    if (!ts && !st.allow_native) {
        rc = kiln_error_set(err, KILN_E_VERIFY, "cannot verify units: trust store: %s",
                            o->ts_error ? o->ts_error : "not loaded");
        goto fail;
    }
    /* namespaces of the init (only those that differ from ours matter, but
     * joining the same one is harmless) */
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)st.pid, nss[i].name);
        nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd[i] < 0) {
            rc = kiln_error_sys(err, errno, "%s", path);
            goto fail;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)st.pid);
    if ((pidns = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(pidns, CLONE_NEWPID) < 0) {
        rc = kiln_error_sys(err, errno, "join %s", path);
        goto fail;
    }
    if (o->console_socket && (console = connect_console(o->console_socket, err)) < 0) {
        rc = console;
        goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = kiln_error_sys(err, errno, "socketpair");
        goto fail;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        rc = kiln_error_sys(err, errno, "fork");
        goto fail;
    }
    if (pid == 0) {
        int sync = sv[1], fd, lastcap = last_cap();
        char go, entry[4096];
        bool native;
        close(sv[0]);
        if (read(sync, &go, 1) != 1) _exit(1);
        for (size_t i = 0; i < 5; i++)
            if (setns(nsfd[i], nss[i].flag) < 0 &&
                !(errno == EINVAL && nss[i].flag == CLONE_NEWCGROUP))
                die(sync, "join the container's %s namespace: %s", nss[i].name, strerror(errno));
        if (setsid() < 0) die(sync, "setsid: %s", strerror(errno));
        if (p.terminal) {
            if (console < 0) die(sync, "process.terminal is set but no --console-socket given");
            setup_console(sync, console);
        }
        fd = open_entry(sync, &p, entry, sizeof entry);
        fd = verified_entry(sync, fd, entry, ts, st.allow_native, NULL, NULL);
        native = st.allow_native && !(fcntl(fd, F_GET_SEALS) > 0);
        landlock_scope();
        setup_process(sync, &p, lastcap, spec.seccomp);
        if (chdir(p.cwd) < 0) die(sync, "chdir %s: %s", p.cwd, strerror(errno));
        if (write(sync, "K", 1) != 1) _exit(1);
        exec_entry(fd, native, entry, &p, o->preserve_fds, spec.seccomp);
        fprintf(stderr, "kiln-oci: exec %s: %s\n", entry, strerror(errno));
        _exit(127);
    }
    close(sv[1]);
    sv[1] = -1;
    if (st.cgroup[0] && (rc = oci_cgroup_join(st.cgroup, pid, err)) < 0) goto fail;
    if (write(sv[0], "G", 1) != 1) {
        rc = kiln_error_sys(err, errno, "sync with the exec process");
        goto fail;
    }
    if ((rc = read_verdict(sv[0], "exec", NULL, NULL, err)) < 0) goto fail;
    if ((rc = write_pidfile(o->pid_file, pid, err)) < 0) goto fail;
    rc = 0;
    if (!o->detach) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    pid = -1;
fail:
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    for (size_t i = 0; i < 5; i++)
        if (nsfd[i] >= 0) close(nsfd[i]);
    if (pidns >= 0) close(pidns);
    if (sv[0] >= 0) close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
    if (console >= 0) close(console);
    oci_process_free(&p);
    oci_spec_free(&spec);
    oci_state_free(&st);
    return rc;
}
