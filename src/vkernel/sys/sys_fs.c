/*
 * sys_fs.c — namespace operations: implements Linux mkdirat(2), unlinkat(2),
 * renameat2(2), linkat(2), symlinkat(2), readlinkat(2), fstatat(2),
 * utimensat(2) and getdents64(2).
 *
 * Every path goes through kiln__path_resolve (confined parent + final name)
 * and the host call never follows a final symlink by itself: where Linux
 * follows one, the object is first opened O_PATH with openat2 under the
 * confinement flags and then addressed through its fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vkernel/vk.h"

static void audit_path(struct kiln_vk *vk, const char *event, const char *guest)
{
    char g[PATH_MAX * 2 + 8];
    if (kiln__audit_grants(vk))
        kiln__audit(vk, event, "\"path\":%s", kiln__json_str(g, sizeof g, guest));
}

static void audit_two(struct kiln_vk *vk, const char *event, const char *a, const char *b)
{
    char ga[PATH_MAX * 2 + 8], gb[PATH_MAX * 2 + 8];
    if (kiln__audit_grants(vk))
        kiln__audit(vk, event, "\"from\":%s,\"to\":%s", kiln__json_str(ga, sizeof ga, a),
                    kiln__json_str(gb, sizeof gb, b));
}

/* For trailing-slash paths: the final object must be a directory. */
static int must_be_dir(const struct kiln__path *p)
{
    struct stat st;
    if (!p->trailing_slash) return 0;
    if (fstatat(p->parent, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* implements Linux mkdirat(2). */
int kiln_vk_mkdirat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, mode_t mode)
{
    KILN__FORWARD(vk, mkdirat, dirfd, path, len, mode);
    const int S = KILN_VK_SYS_mkdirat;
    struct kiln__path p;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_resolve(vk, S, dirfd, path, len, &p)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_allow(vk, S, &p, KILN__FS_RW)) < 0) goto out;
    r = mkdirat(p.parent, p.name, mode) < 0 ? -errno : 0;
    if (r == 0) audit_path(vk, "mkdir", p.guest);
out:
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

/* implements Linux unlinkat(2). */
int kiln_vk_unlinkat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags)
{
    KILN__FORWARD(vk, unlinkat, dirfd, path, len, flags);
    const int S = KILN_VK_SYS_unlinkat;
    struct kiln__path p;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (flags & ~AT_REMOVEDIR) return kiln__ret(vk, S, -EINVAL);
    if ((r = kiln__path_resolve(vk, S, dirfd, path, len, &p)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_allow(vk, S, &p, KILN__FS_RW)) < 0) goto out;
    if (strcmp(p.name, ".") == 0) {
        r = (flags & AT_REMOVEDIR) ? -EINVAL : -EISDIR;
        goto out;
    }
    if (!(flags & AT_REMOVEDIR) && p.trailing_slash) {
        struct stat st;
        r = fstatat(p.parent, p.name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno
            : S_ISDIR(st.st_mode)                                   ? -EISDIR
                                                                    : -ENOTDIR;
        goto out;
    }
    r = unlinkat(p.parent, p.name, flags) < 0 ? -errno : 0;
    if (r == 0) audit_path(vk, (flags & AT_REMOVEDIR) ? "rmdir" : "unlink", p.guest);
out:
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

/* implements Linux renameat2(2) with flags 0. */
int kiln_vk_renameat(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                     const char *newp, size_t newlen)
{
    KILN__FORWARD(vk, renameat, olddir, oldp, oldlen, newdir, newp, newlen);
    const int S = KILN_VK_SYS_renameat2;
    struct kiln__path a, b;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_resolve(vk, S, olddir, oldp, oldlen, &a)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_resolve(vk, S, newdir, newp, newlen, &b)) < 0) {
        kiln__path_done(&a);
        return kiln__ret(vk, S, r);
    }
    if ((r = kiln__path_allow(vk, S, &a, KILN__FS_RW)) < 0 ||
        (r = kiln__path_allow(vk, S, &b, KILN__FS_RW)) < 0)
        goto out;
    if (strcmp(a.name, ".") == 0 || strcmp(b.name, ".") == 0) {
        r = -EBUSY;
        goto out;
    }
    if (a.trailing_slash || b.trailing_slash) {
        struct stat st;
        if (fstatat(a.parent, a.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = -errno;
            goto out;
        }
        if (!S_ISDIR(st.st_mode)) {
            r = -ENOTDIR;
            goto out;
        }
    }
    r = renameat(a.parent, a.name, b.parent, b.name) < 0 ? -errno : 0;
    if (r == 0) audit_two(vk, "rename", a.guest, b.guest);
out:
    kiln__path_done(&a);
    kiln__path_done(&b);
    return kiln__ret(vk, S, r);
}

/* implements Linux linkat(2). The source needs write authority too: a hard
 * link shares the inode, so linking a read-only file into a writable place
 * would grant write access to it. */
int kiln_vk_linkat(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                   const char *newp, size_t newlen, int flags)
{
    KILN__FORWARD(vk, linkat, olddir, oldp, oldlen, newdir, newp, newlen, flags);
    const int S = KILN_VK_SYS_linkat;
    struct kiln__path a, b;
    int r = kiln__enter(vk, S), o = -1;
    if (r < 0) return kiln__ret(vk, S, r);
    if (flags & ~AT_SYMLINK_FOLLOW) return kiln__ret(vk, S, -EINVAL);
    if ((r = kiln__path_resolve(vk, S, olddir, oldp, oldlen, &a)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_resolve(vk, S, newdir, newp, newlen, &b)) < 0) {
        kiln__path_done(&a);
        return kiln__ret(vk, S, r);
    }
    if ((r = kiln__path_allow(vk, S, &a, KILN__FS_RW)) < 0 ||
        (r = kiln__path_allow(vk, S, &b, KILN__FS_RW)) < 0)
        goto out;
    if (b.trailing_slash) {
        r = -ENOENT;
        goto out;
    }
    if (strcmp(a.name, ".") == 0) {
        r = -EPERM; /* hard links to directories */
        goto out;
    }
    if (flags & AT_SYMLINK_FOLLOW) {
        char proc[64];
        o = kiln__path_open_final(vk, &a, O_PATH, 0, true);
        if (o < 0) {
            r = o;
            goto out;
        }
        if (!vk->mounts[a.mount].uniform) {
            char g[PATH_MAX + 2];
            int m, md, rl;
            if ((r = kiln__path_of_fd(vk, o, g, sizeof g, &m, &md, &rl)) < 0) goto out;
            memcpy(a.guest, g, strlen(g) + 1);
            a.mode = md;
            a.rule = rl;
            a.mount = m;
            if ((r = kiln__path_allow(vk, S, &a, KILN__FS_RW)) < 0) goto out;
        }
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", o);
        r = linkat(AT_FDCWD, proc, b.parent, b.name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
    } else {
        r = linkat(a.parent, a.name, b.parent, b.name, 0) < 0 ? -errno : 0;
    }
    if (r == 0) audit_two(vk, "link", a.guest, b.guest);
out:
    if (o >= 0) close(o);
    kiln__path_done(&a);
    kiln__path_done(&b);
    return kiln__ret(vk, S, r);
}

/* implements Linux symlinkat(2). */
int kiln_vk_symlinkat(struct kiln_vk *vk, const char *target, size_t tlen, int dirfd,
                      const char *path, size_t len)
{
    KILN__FORWARD(vk, symlinkat, target, tlen, dirfd, path, len);
    const int S = KILN_VK_SYS_symlinkat;
    struct kiln__path p;
    char t[PATH_MAX];
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (tlen == 0) return kiln__ret(vk, S, -ENOENT);
    if (tlen >= sizeof t) return kiln__ret(vk, S, -ENAMETOOLONG);
    if (memchr(target, 0, tlen) != NULL) return kiln__ret(vk, S, -EINVAL);
    memcpy(t, target, tlen);
    t[tlen] = 0;
    if ((r = kiln__path_resolve(vk, S, dirfd, path, len, &p)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_allow(vk, S, &p, KILN__FS_RW)) < 0) goto out;
    if (p.trailing_slash || strcmp(p.name, ".") == 0) {
        r = -EEXIST;
        goto out;
    }
    r = symlinkat(t, p.parent, p.name) < 0 ? -errno : 0;
    if (r == 0) audit_two(vk, "symlink", t, p.guest);
out:
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

/* implements Linux readlinkat(2). */
ssize_t kiln_vk_readlinkat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, char *buf,
                           size_t size)
{
    KILN__FORWARD(vk, readlinkat, dirfd, path, len, buf, size);
    const int S = KILN_VK_SYS_readlinkat;
    struct kiln__path p;
    ssize_t n;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_resolve(vk, S, dirfd, path, len, &p)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_allow(vk, S, &p, KILN__FS_RO)) < 0) goto out;
    if (strcmp(p.name, ".") == 0) {
        r = -EINVAL;
        goto out;
    }
    n = readlinkat(p.parent, p.name, buf, size);
    kiln__path_done(&p);
    return n < 0 ? kiln__ret(vk, S, -errno) : n;
out:
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

/* Opens the object of p following a final symlink (confined) and checks its
 * real location against the rules. Returns an O_PATH fd or -errno. */
static int open_followed(struct kiln_vk *vk, int S, struct kiln__path *p, int want)
{
    int o = kiln__path_open_final(vk, p, O_PATH, 0, true), r;
    if (o < 0) return o;
    if (!vk->mounts[p->mount].uniform) {
        char g[PATH_MAX + 2];
        int m, md, rl;
        if ((r = kiln__path_of_fd(vk, o, g, sizeof g, &m, &md, &rl)) < 0) {
            close(o);
            return r;
        }
        memcpy(p->guest, g, strlen(g) + 1);
        p->mode = md;
        p->rule = rl;
        p->mount = m;
        if ((r = kiln__path_allow(vk, S, p, want)) < 0) {
            close(o);
            return r;
        }
    }
    return o;
}

/* implements Linux fstatat(2). */
int kiln_vk_fstatat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, struct stat *st,
                    int flags)
{
    KILN__FORWARD(vk, fstatat, dirfd, path, len, st, flags);
    const int S = KILN_VK_SYS_newfstatat;
    struct kiln__path p;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (flags & ~AT_SYMLINK_NOFOLLOW) return kiln__ret(vk, S, -EINVAL);
    if ((r = kiln__path_resolve(vk, S, dirfd, path, len, &p)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_allow(vk, S, &p, KILN__FS_RO)) < 0) goto out;
    if (fstatat(p.parent, p.name, st, AT_SYMLINK_NOFOLLOW) < 0) {
        r = -errno;
        goto out;
    }
    if (S_ISLNK(st->st_mode) && (!(flags & AT_SYMLINK_NOFOLLOW) || p.trailing_slash)) {
        int o = open_followed(vk, S, &p, KILN__FS_RO);
        if (o < 0) {
            r = o;
            goto out;
        }
        r = fstat(o, st) < 0 ? -errno : 0;
        close(o);
        if (r < 0) goto out;
    }
    r = (p.trailing_slash && !S_ISDIR(st->st_mode)) ? -ENOTDIR : 0;
out:
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

/* implements Linux utimensat(2) on a path. */
int kiln_vk_utimensat(struct kiln_vk *vk, int dirfd, const char *path, size_t len,
                      const struct timespec times[2], int flags)
{
    KILN__FORWARD(vk, utimensat, dirfd, path, len, times, flags);
    const int S = KILN_VK_SYS_utimensat;
    struct kiln__path p;
    struct stat st;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (flags & ~AT_SYMLINK_NOFOLLOW) return kiln__ret(vk, S, -EINVAL);
    if ((r = kiln__path_resolve(vk, S, dirfd, path, len, &p)) < 0) return kiln__ret(vk, S, r);
    if ((r = kiln__path_allow(vk, S, &p, KILN__FS_RW)) < 0) goto out;
    if ((r = must_be_dir(&p)) < 0) goto out;
    if (fstatat(p.parent, p.name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        r = -errno;
        goto out;
    }
    if (S_ISLNK(st.st_mode) && !(flags & AT_SYMLINK_NOFOLLOW)) {
        char proc[64];
        int o = open_followed(vk, S, &p, KILN__FS_RW);
        if (o < 0) {
            r = o;
            goto out;
        }
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", o);
        r = utimensat(AT_FDCWD, proc, times, 0) < 0 ? -errno : 0;
        close(o);
    } else {
        r = utimensat(p.parent, p.name, times, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
    }
out:
    kiln__path_done(&p);
    return kiln__ret(vk, S, r);
}

/* implements Linux getdents64(2) from a cookie; see vkernel.h. */
ssize_t kiln_vk_getdents(struct kiln_vk *vk, int fd, uint64_t cookie, void *buf, size_t size)
{
    const int S = KILN_VK_SYS_getdents64;
    struct kiln_vk_fd *f;
    long n;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if ((f = kiln__fd(vk, fd)) == NULL || (f->oflags & O_PATH)) return kiln__ret(vk, S, -EBADF);
    if (f->kind != KILN_VK_DIR) return kiln__ret(vk, S, -ENOTDIR);
    if (cookie > INT64_MAX) return kiln__ret(vk, S, -EINVAL);
    if (lseek(f->host, (off_t)cookie, SEEK_SET) < 0) return kiln__ret(vk, S, -errno);
    n = syscall(SYS_getdents64, f->host, buf, size);
    return n < 0 ? kiln__ret(vk, S, -errno) : (ssize_t)n;
}
