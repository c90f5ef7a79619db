/*
 * sys_file.c — open and the calls on open file descriptors: implements Linux
 * openat(2), readv/writev/preadv/pwritev(2), lseek(2), fstat(2),
 * ftruncate(2), fsync/fdatasync(2), posix_fadvise(2), fallocate(2),
 * fcntl(F_GETFL/F_SETFL) and futimens(3).
 *
 * openat is authority-granting (policy + audit); the others are hot-path
 * calls on descriptors already granted: a table lookup and the host call.
 * Writes to fds marked KILN_VK_FD_STDOUT count toward limits.outputBytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vkernel/vk.h"

#define GUEST_OFLAGS                                                                               \
    (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW |   \
     O_SYNC | O_DSYNC | O_PATH | O_NOCTTY | O_LARGEFILE | O_CLOEXEC | O_RSYNC | O_NOATIME)

static void flags_str(int flags, char *b, size_t n)
{
    static const struct {
        int f;
        const char *s;
    } t[] = {{O_CREAT, "O_CREAT"},       {O_EXCL, "O_EXCL"},         {O_TRUNC, "O_TRUNC"},
             {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"}, {O_DIRECTORY, "O_DIRECTORY"},
             {O_NOFOLLOW, "O_NOFOLLOW"}, {O_PATH, "O_PATH"}};
    size_t i;
    int acc = flags & O_ACCMODE;
    snprintf(b, n, "%s", acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : "O_RDWR");
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        if ((flags & t[i].f) == t[i].f) {
            size_t l = strlen(b);
            snprintf(b + l, n - l, "|%s", t[i].s);
        }
}

static int do_openat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags,
                     mode_t mode, bool check_sys);

/* implements Linux openat(2); see vkernel.h. */
int kiln_vk_openat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags,
                   mode_t mode)
{
    KILN__FORWARD(vk, openat, dirfd, path, len, flags, mode);
    return do_openat(vk, dirfd, path, len, flags, mode, true);
}

/* Opens a directory the runtime grants as a preopen (see vk.h). */
int kiln__vk_open_grant(struct kiln_vk *vk, const char *path, size_t len)
{
    if (vk->be != NULL) return -EINVAL; /* grants are made where the policy lives (kilnd) */
    return do_openat(vk, KILN_VK_AT_ROOT, path, len, O_RDONLY | O_DIRECTORY, 0, false);
}

/* openat's body; check_sys false skips the policy's syscall rule for openat (filesystem rules
 * still apply): a preopen granted at start is a mount, not a guest call. */
static int do_openat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags,
                     mode_t mode, bool check_sys)
{
    const int S = KILN_VK_SYS_openat;
    struct kiln__path p;
    int r, host = -1, gfd, want, kind;
    bool follow = (flags & O_NOFOLLOW) == 0;
    vk->sys[S].calls++;
    if (vk->policy != NULL && check_sys) {
        uint64_t args[6] = {(uint64_t)(int64_t)dirfd, 0, (uint64_t)(unsigned)flags, mode, 0, 0};
        if ((r = kiln_vk_check(vk, S, args)) < 0) return kiln__ret(vk, S, r);
    }
    if (flags & ~GUEST_OFLAGS) return kiln__ret(vk, S, -EINVAL);
    if ((flags & O_PATH) != 0) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    r = kiln__path_resolve(vk, S, dirfd, path, len, &p);
    if (r < 0) return kiln__ret(vk, S, r);
    want = ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) ? KILN__FS_RW
                                                                              : KILN__FS_RO;
    if ((r = kiln__path_allow(vk, S, &p, want)) < 0) goto fail;
    if (p.trailing_slash) {
        if (flags & O_CREAT) {
            r = -EISDIR;
            goto fail;
        }
        flags |= O_DIRECTORY;
    }
    if (follow && !vk->mounts[p.mount].uniform) {
        /* a final symlink may lead under another rule: check where it lands
         * before anything (O_CREAT, O_TRUNC) happens there. */
        struct stat st;
        if (fstatat(p.parent, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            int o = kiln__path_open_final(vk, &p, O_PATH, 0, true), m, md, rl;
            char g[PATH_MAX + 2];
            if (o >= 0) {
                r = kiln__path_of_fd(vk, o, g, sizeof g, &m, &md, &rl);
                close(o);
                if (r < 0) goto fail;
                memcpy(p.guest, g, strlen(g) + 1);
                p.mode = md;
                p.rule = rl;
                p.mount = m;
                if ((r = kiln__path_allow(vk, S, &p, want)) < 0) goto fail;
            } else if ((flags & O_CREAT) != 0) {
                r = -ELOOP; /* dangling symlink under mixed rules: refuse to create */
                goto fail;
            }
        }
    }
    r = kiln__path_open_final(vk, &p, (flags & ~(O_NOFOLLOW | O_CLOEXEC)) | O_NOCTTY, mode, follow);
    if (r < 0) goto fail;
    host = r;
    kind = kiln__kind_of(host);
    if (kind < 0) {
        r = kind;
        goto fail;
    }
    if ((flags & O_PATH) && kind != KILN_VK_DIR) kind = kind == KILN_VK_FILE ? KILN_VK_FILE : kind;
    gfd =
        kiln__fd_alloc(vk, host, kind, p.mode == KILN__FS_RO ? KILN_VK_FD_RO : 0, p.mount,
                       kind == KILN_VK_DIR ? p.guest : NULL); /* only dirs are lookup bases */
    if (gfd < 0) {
        r = gfd;
        goto fail;
    }
    vk->fds[gfd].oflags =
        flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_RSYNC | O_PATH);
    host = -1;
    if (kiln__audit_grants(vk)) {
        char g[PATH_MAX * 2 + 8], fl[160];
        flags_str(flags, fl, sizeof fl);
        kiln__audit(vk, "open", "\"path\":%s,\"flags\":\"%s\",\"fd\":%d",
                    kiln__json_str(g, sizeof g, p.guest), fl, gfd);
    }
    kiln__path_done(&p);
    return gfd;
fail:
    if (host >= 0) close(host);
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

static struct kiln_vk_fd *io_fd(struct kiln_vk *vk, int sys, int fd, int *err)
{
    struct kiln_vk_fd *f = kiln__fd(vk, fd);
    if (f == NULL) {
        kiln__audit_deny(vk, kiln_vk_sys_name(sys), NULL, EBADF, "builtin:fd-table");
        *err = -EBADF;
        return NULL;
    }
    if (f->oflags & O_PATH) {
        *err = -EBADF;
        return NULL;
    }
    return f;
}

/* implements Linux readv(2). */
ssize_t kiln_vk_readv(struct kiln_vk *vk, int fd, const struct iovec *iov, int n)
{
    const int S = KILN_VK_SYS_readv;
    struct kiln_vk_fd *f;
    ssize_t r;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (n < 0 || n > IOV_MAX) return kiln__ret(vk, S, -EINVAL);
    if (f->kind == KILN_VK_DIR) return kiln__ret(vk, S, -EISDIR);
    r = readv(f->host, iov, n);
    return r < 0 ? kiln__ret(vk, S, -errno) : r;
}

/* Clamps a write to the output-bytes limit; returns the byte budget or -EFBIG. */
static int64_t out_budget(struct kiln_vk *vk, int sys)
{
    const struct kiln_vk_limits *l = vk->policy ? kiln_vk_policy_limits(vk->policy) : NULL;
    if (l == NULL || l->output_bytes == 0) return INT64_MAX;
    if (vk->out_bytes >= l->output_bytes) {
        kiln__audit_deny(vk, kiln_vk_sys_name(sys), NULL, EFBIG, "$.limits.outputBytes");
        return -EFBIG;
    }
    return (int64_t)(l->output_bytes - vk->out_bytes);
}

static ssize_t do_write(struct kiln_vk *vk, int S, int fd, const struct iovec *iov, int n,
                        int64_t off, bool positional)
{
    struct kiln_vk_fd *f;
    struct iovec tmp[64]; /* a write cut to the output limit */
    ssize_t r;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (n < 0 || n > IOV_MAX) return kiln__ret(vk, S, -EINVAL);
    if (f->kind == KILN_VK_DIR) return kiln__ret(vk, S, -EISDIR);
    if (f->flags & KILN_VK_FD_STDOUT) {
        int64_t budget = out_budget(vk, S);
        int i, m = 0;
        uint64_t total = 0;
        if (budget < 0) return kiln__ret(vk, S, (int)budget);
        for (i = 0; i < n; i++)
            total += iov[i].iov_len;
        if (total > (uint64_t)budget) {
            /* write only what fits */
            for (i = 0; i < n && m < 64 && budget > 0; i++) {
                tmp[m] = iov[i];
                if ((int64_t)tmp[m].iov_len > budget) tmp[m].iov_len = (size_t)budget;
                budget -= (int64_t)tmp[m].iov_len;
                m++;
            }
            iov = tmp;
            n = m;
        }
    }
    r = positional ? pwritev(f->host, iov, n, off) : writev(f->host, iov, n);
    if (r < 0) return kiln__ret(vk, S, -errno);
    if (f->flags & KILN_VK_FD_STDOUT) vk->out_bytes += (uint64_t)r;
    return r;
}

/* implements Linux writev(2). */
ssize_t kiln_vk_writev(struct kiln_vk *vk, int fd, const struct iovec *iov, int n)
{
    return do_write(vk, KILN_VK_SYS_writev, fd, iov, n, 0, false);
}

/* implements Linux preadv(2). */
ssize_t kiln_vk_preadv(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int64_t off)
{
    const int S = KILN_VK_SYS_preadv;
    struct kiln_vk_fd *f;
    ssize_t r;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (n < 0 || n > IOV_MAX || off < 0) return kiln__ret(vk, S, -EINVAL);
    if (f->kind == KILN_VK_DIR) return kiln__ret(vk, S, -EISDIR);
    r = preadv(f->host, iov, n, off);
    return r < 0 ? kiln__ret(vk, S, -errno) : r;
}

/* implements Linux pwritev(2). */
ssize_t kiln_vk_pwritev(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int64_t off)
{
    if (off < 0) {
        vk->sys[KILN_VK_SYS_pwritev].calls++;
        return kiln__ret(vk, KILN_VK_SYS_pwritev, -EINVAL);
    }
    return do_write(vk, KILN_VK_SYS_pwritev, fd, iov, n, off, true);
}

/* implements Linux lseek(2). */
int64_t kiln_vk_lseek(struct kiln_vk *vk, int fd, int64_t off, int whence)
{
    const int S = KILN_VK_SYS_lseek;
    struct kiln_vk_fd *f;
    off_t r;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (f->kind == KILN_VK_SOCKET || f->kind == KILN_VK_LISTENER || f->kind == KILN_VK_DGRAM)
        return kiln__ret(vk, S, -ESPIPE);
    r = lseek(f->host, off, whence);
    return r < 0 ? kiln__ret(vk, S, -errno) : r;
}

/* implements Linux fstat(2). */
int kiln_vk_fstat(struct kiln_vk *vk, int fd, struct stat *st)
{
    const int S = KILN_VK_SYS_fstat;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = kiln__fd(vk, fd)) == NULL) return kiln__ret(vk, S, -EBADF);
    return fstat(f->host, st) < 0 ? kiln__ret(vk, S, -errno) : 0;
}

/* implements Linux ftruncate(2). */
int kiln_vk_ftruncate(struct kiln_vk *vk, int fd, int64_t size)
{
    const int S = KILN_VK_SYS_ftruncate;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (size < 0) return kiln__ret(vk, S, -EINVAL);
    if (f->flags & KILN_VK_FD_RO) return kiln__ret(vk, S, -EROFS);
    return ftruncate(f->host, size) < 0 ? kiln__ret(vk, S, -errno) : 0;
}

/* implements Linux fsync(2) / fdatasync(2). */
int kiln_vk_fsync(struct kiln_vk *vk, int fd, bool data_only)
{
    const int S = data_only ? KILN_VK_SYS_fdatasync : KILN_VK_SYS_fsync;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    e = data_only ? fdatasync(f->host) : fsync(f->host);
    return e < 0 ? kiln__ret(vk, S, -errno) : 0;
}

/* implements Linux posix_fadvise(2). */
int kiln_vk_fadvise(struct kiln_vk *vk, int fd, int64_t off, int64_t len, int advice)
{
    const int S = KILN_VK_SYS_fadvise64;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    e = posix_fadvise(f->host, off, len, advice);
    return e != 0 ? kiln__ret(vk, S, -e) : 0;
}

/* implements Linux fallocate(2) with mode 0. */
int kiln_vk_fallocate(struct kiln_vk *vk, int fd, int64_t off, int64_t len)
{
    const int S = KILN_VK_SYS_fallocate;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = io_fd(vk, S, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (off < 0 || len <= 0) return kiln__ret(vk, S, -EINVAL);
    if (f->flags & KILN_VK_FD_RO) return kiln__ret(vk, S, -EROFS);
    e = posix_fallocate(f->host, off, len);
    return e != 0 ? kiln__ret(vk, S, -e) : 0;
}

/* implements fcntl(F_GETFL). */
int kiln_vk_fcntl_getfl(struct kiln_vk *vk, int fd)
{
    const int S = KILN_VK_SYS_fcntl;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = kiln__fd(vk, fd)) == NULL) return kiln__ret(vk, S, -EBADF);
    return f->oflags;
}

/* implements fcntl(F_SETFL) for O_APPEND and O_NONBLOCK. */
int kiln_vk_fcntl_setfl(struct kiln_vk *vk, int fd, int flags)
{
    const int S = KILN_VK_SYS_fcntl;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S), hf;
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = kiln__fd(vk, fd)) == NULL) return kiln__ret(vk, S, -EBADF);
    hf = fcntl(f->host, F_GETFL);
    if (hf < 0) return kiln__ret(vk, S, -errno);
    hf = (hf & ~(O_APPEND | O_NONBLOCK)) | (flags & (O_APPEND | O_NONBLOCK));
    if (fcntl(f->host, F_SETFL, hf) < 0) return kiln__ret(vk, S, -errno);
    f->oflags = (f->oflags & ~(O_APPEND | O_NONBLOCK)) | (flags & (O_APPEND | O_NONBLOCK));
    return 0;
}

/* implements futimens(3) (utimensat on an fd). */
int kiln_vk_futimens(struct kiln_vk *vk, int fd, const struct timespec times[2])
{
    const int S = KILN_VK_SYS_utimensat;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = kiln__fd(vk, fd)) == NULL) return kiln__ret(vk, S, -EBADF);
    if (f->flags & KILN_VK_FD_RO) return kiln__ret(vk, S, -EROFS);
    if (f->oflags & O_PATH) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->host);
        e = utimensat(AT_FDCWD, proc, times, 0);
    } else {
        e = futimens(f->host, times);
    }
    return e < 0 ? kiln__ret(vk, S, -errno) : 0;
}
