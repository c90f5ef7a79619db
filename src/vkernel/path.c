/*
 * path.c — path resolution confined beneath the mounts.
 *
 * A guest path is never joined to a host path. Resolution works like this:
 *   1. the path is checked (non-empty, no NUL byte, shorter than PATH_MAX) and
 *      split into a parent part and a final component;
 *   2. the base is the guest's directory fd (relative paths) or, for absolute
 *      paths, the mount whose guest path is the longest prefix of the
 *      lexically normalized path;
 *   3. the parent is opened with openat2(base, parent, O_PATH | O_DIRECTORY,
 *      RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS [| RESOLVE_NO_XDEV]) — the
 *      kernel refuses "..", absolute symlinks and magic links that would leave
 *      the base (EXDEV / ELOOP), atomically with respect to concurrent renames
 *      and symlink swaps;
 *   4. the operation runs on (parent fd, final name) with *at() calls that do
 *      not follow a final symlink; where Linux follows it (open, stat, link -L)
 *      the object is opened with openat2 under the same resolve flags.
 *
 * Relative paths are confined beneath their base directory fd (the WASI rule);
 * ".." above it is an escape attempt: -EPERM and an audit event.
 *
 * Policy: a mount is "uniform" when no filesystem rule lies strictly beneath
 * it; then every object under it has the mount's mode and no further lookup is
 * needed. Otherwise the guest path of the parent directory is recovered from
 * the kernel (/proc/self/fd) after it was opened — the real location, not the
 * lexical one — and the rules are applied to it; objects reached through a
 * final symlink are checked again after opening.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vkernel/vk.h"

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    struct open_how how;
    long r;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(unsigned)flags;
    how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
    how.resolve = resolve;
    do {
        r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (r < 0 && errno == EAGAIN);
    return r < 0 ? -errno : (int)r;
}

static uint64_t resolve_flags(const struct kiln_vk *vk, int mount)
{
    uint64_t r = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    if (mount >= 0 && mount < vk->nmounts && (vk->mounts[mount].flags & KILN_VK_MOUNT_NOXDEV))
        r |= RESOLVE_NO_XDEV;
    return r;
}

/* Mode (and rule) for a guest path under mount m: the mount's own flag and
 * the policy rule, the stricter wins. */
static int mode_for(const struct kiln_vk *vk, int m, const char *guest, int *rule)
{
    int mode = KILN__FS_RW, pm;
    *rule = -1;
    if (m >= 0 && (vk->mounts[m].flags & KILN_VK_MOUNT_RO)) mode = KILN__FS_RO;
    if (vk->policy != NULL) {
        int r;
        pm = kiln__policy_fs(vk->policy, guest, &r);
        if (pm < mode) {
            mode = pm;
            *rule = r;
        }
    }
    return mode;
}

/* Recomputes per-mount modes; see vk.h. */
void kiln__mounts_refresh(struct kiln_vk *vk)
{
    int i;
    for (i = 0; i < vk->nmounts; i++) {
        struct kiln__mount *m = &vk->mounts[i];
        m->uniform = vk->policy == NULL || !kiln__policy_fs_below(vk->policy, m->guest_path);
        m->mode = mode_for(vk, i, m->guest_path, &m->rule);
        if (vk->policy != NULL && kiln__policy_fs_noxdev(vk->policy, m->guest_path))
            m->flags |= KILN_VK_MOUNT_NOXDEV;
    }
}

/* Guest path of an open host fd; see vk.h. */
int kiln__path_of_fd(struct kiln_vk *vk, int host, char *guest, size_t size, int *mount, int *mode,
                     int *rule)
{
    char proc[64], hp[PATH_MAX + 1];
    ssize_t n;
    int i, best = -1;
    size_t best_len = 0;
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", host);
    n = readlink(proc, hp, sizeof hp - 1);
    if (n < 0) return -errno;
    if ((size_t)n >= sizeof hp - 1) return -ENAMETOOLONG;
    hp[n] = 0;
    for (i = 0; i < vk->nmounts; i++) {
        const struct kiln__mount *m = &vk->mounts[i];
        if (strncmp(hp, m->host_path, m->host_len) == 0 &&
            (hp[m->host_len] == '/' || hp[m->host_len] == 0) &&
            (best < 0 || m->host_len >= best_len)) {
            best = i;
            best_len = m->host_len;
        }
    }
    if (best < 0) return -EPERM;
    {
        const struct kiln__mount *m = &vk->mounts[best];
        const char *rest = hp + m->host_len; /* "" or "/..." */
        int w;
        if (m->guest_len == 1)
            w = snprintf(guest, size, "%s", rest[0] ? rest : "/");
        else
            w = snprintf(guest, size, "%s%s", m->guest_path, rest);
        if (w < 0 || (size_t)w >= size) return -ENAMETOOLONG;
    }
    *mount = best;
    *mode = mode_for(vk, best, guest, rule);
    return 0;
}

/* Appends the relative path rel to the absolute guest path g (size cap),
 * lexically. Returns 0, or -EPERM if ".." climbs above the first `floor`
 * bytes of g. */
static int lexical_join(char *g, size_t cap, size_t floor, const char *rel)
{
    size_t len = strlen(g);
    const char *c = rel;
    while (*c) {
        const char *e;
        size_t n;
        while (*c == '/')
            c++;
        if (*c == 0) break;
        e = strchr(c, '/');
        n = e ? (size_t)(e - c) : strlen(c);
        if (n == 1 && c[0] == '.') {
            /* nothing */
        } else if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (len <= floor) return -EPERM;
            while (len > 0 && g[len - 1] != '/')
                len--;
            if (len > 1) len--; /* drop the '/' unless it is the root */
            if (len < floor) return -EPERM;
            g[len] = 0;
        } else {
            if (len + 1 + n + 1 > cap) return -ENAMETOOLONG;
            if (len > 1 || g[0] != '/')
                g[len++] = '/';
            else if (len == 0)
                g[len++] = '/';
            memcpy(g + len, c, n);
            len += n;
            g[len] = 0;
        }
        c += n;
    }
    return 0;
}

/* Audits a refused path: path[0 .. len) is the caller's (guest) bytes,
 * not NUL-terminated, so the event gets a terminated copy (len < PATH_MAX
 * is checked before any call with a path). */
static void audit_escape(struct kiln_vk *vk, int sys, const char *path, size_t len, int e,
                         const char *rule)
{
    char copy[PATH_MAX];
    if (path && len < sizeof copy) {
        memcpy(copy, path, len);
        copy[len] = 0;
        path = copy;
    } else {
        path = NULL;
    }
    kiln__audit_deny(vk, kiln_vk_sys_name(sys), path, e, rule);
}

/* Resolves a guest path; see vk.h. */
int kiln__path_resolve(struct kiln_vk *vk, int sys, int dirfd, const char *path, size_t len,
                       struct kiln__path *p)
{
    char *rel, *last, *end;
    int r, base_mount;
    size_t floor;
    p->parent = -1;
    p->parent_owned = false;
    p->trailing_slash = false;
    p->guest[0] = 0;
    if (path == NULL || len == 0) return -ENOENT;
    if (memchr(path, 0, len) != NULL) {
        audit_escape(vk, sys, NULL, 0, EINVAL, "builtin:nul-in-path");
        return -EINVAL;
    }
    if (len >= PATH_MAX) {
        audit_escape(vk, sys, NULL, 0, ENAMETOOLONG, "builtin:path-max");
        return -ENAMETOOLONG;
    }
    memcpy(p->buf, path, len);
    p->buf[len] = 0;
    rel = p->buf;

    if (rel[0] == '/') {
        /* Absolute: lexically normalize (".." at "/" stays at "/"), then pick
         * the mount with the longest guest prefix. */
        char norm[PATH_MAX + 2] = "/";
        const char *c = rel;
        int i, best = -1;
        size_t bl = 0;
        while (*c) {
            const char *e;
            size_t n, l = strlen(norm);
            while (*c == '/')
                c++;
            if (!*c) break;
            e = strchr(c, '/');
            n = e ? (size_t)(e - c) : strlen(c);
            if (n == 2 && c[0] == '.' && c[1] == '.') {
                while (l > 1 && norm[l - 1] != '/')
                    l--;
                if (l > 1) l--;
                norm[l] = 0;
            } else if (!(n == 1 && c[0] == '.')) {
                if (l + n + 2 > sizeof norm) return -ENAMETOOLONG;
                if (l > 1) norm[l++] = '/';
                memcpy(norm + l, c, n);
                norm[l + n] = 0;
            }
            c += n;
        }
        for (i = 0; i < vk->nmounts; i++) {
            const struct kiln__mount *m = &vk->mounts[i];
            bool match =
                m->guest_len == 1 || (strncmp(norm, m->guest_path, m->guest_len) == 0 &&
                                      (norm[m->guest_len] == '/' || norm[m->guest_len] == 0));
            if (match && (best < 0 || m->guest_len > bl)) {
                best = i;
                bl = m->guest_len;
            }
        }
        if (best < 0) return -ENOENT;
        p->trailing_slash = len > 1 && path[len - 1] == '/';
        memcpy(p->guest, norm, strlen(norm) + 1);
        p->base = vk->mounts[best].host;
        base_mount = best;
        floor = vk->mounts[best].guest_len;
        {
            size_t rl = strlen(norm) - (bl == 1 ? 1 : bl);
            memmove(p->buf, norm + strlen(norm) - rl, rl + 1);
            while (p->buf[0] == '/')
                memmove(p->buf, p->buf + 1, strlen(p->buf));
            if (p->buf[0] == 0) strcpy(p->buf, ".");
            if (p->trailing_slash && strlen(p->buf) + 1 < sizeof p->buf) strcat(p->buf, "/");
        }
        rel = p->buf;
    } else {
        const struct kiln_vk_fd *f = kiln__fd(vk, dirfd);
        if (f == NULL) {
            audit_escape(vk, sys, NULL, 0, EBADF, "builtin:fd-table");
            return -EBADF;
        }
        if (f->kind != KILN_VK_DIR) return -ENOTDIR;
        p->base = f->host;
        base_mount = f->mount;
        {
            /* a bounded copy (this runs on every relative path: snprintf
             * "%s" costs hundreds of instructions) */
            const char *g = f->guest_path ? f->guest_path : "/";
            size_t gl = strnlen(g, sizeof p->guest - 1);
            memcpy(p->guest, g, gl);
            p->guest[gl] = 0;
            floor = gl;
        }
        r = lexical_join(p->guest, sizeof p->guest, floor, rel);
        if (r == -EPERM) {
            audit_escape(vk, sys, path, len, EPERM, "builtin:beneath");
            return r;
        }
        if (r < 0) return r;
    }
    (void)floor;
    p->rel = rel;
    p->mount = base_mount;

    /* Split into parent part and final component. */
    end = rel + strlen(rel);
    while (end > rel + 1 && end[-1] == '/') {
        end--;
        p->trailing_slash = true;
    }
    last = end;
    while (last > rel && last[-1] != '/')
        last--;
    {
        size_t nl = (size_t)(end - last);
        bool dots = (nl == 1 && last[0] == '.') || (nl == 2 && last[0] == '.' && last[1] == '.');
        static char dot[] = ".";
        if (dots || nl == 0) {
            /* the whole path names a directory: parent = whole, name = "." */
            if (strcmp(rel, ".") == 0 || rel[0] == 0) {
                p->parent = p->base;
            } else {
                r = sys_openat2(p->base, rel, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                                resolve_flags(vk, base_mount));
                if (r < 0) goto open_fail;
                p->parent = r;
                p->parent_owned = true;
            }
            p->name = dot;
        } else if (last == rel) {
            p->parent = p->base;
            *end = 0;
            p->name = last;
        } else {
            /* parent part = rel[0 .. last) ; cut at the '/' before last */
            char save = last[-1];
            last[-1] = 0;
            *end = 0;
            r = sys_openat2(p->base, rel, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                            resolve_flags(vk, base_mount));
            last[-1] = save;
            if (r < 0) {
                last[-1] = save;
                goto open_fail;
            }
            p->parent = r;
            p->parent_owned = true;
            p->name = last;
        }
    }

    /* Mode for the final path. */
    if (base_mount >= 0 && base_mount < vk->nmounts && vk->mounts[base_mount].uniform) {
        p->mode = vk->mounts[base_mount].mode;
        p->rule = vk->mounts[base_mount].rule;
    } else if (p->parent_owned) {
        char g[PATH_MAX + 2];
        int m;
        r = kiln__path_of_fd(vk, p->parent, g, sizeof g, &m, &p->mode, &p->rule);
        if (r < 0) goto fail;
        if (strcmp(p->name, ".") != 0) {
            size_t gl = strlen(g);
            if (gl + 1 + strlen(p->name) + 1 > sizeof p->guest) {
                r = -ENAMETOOLONG;
                goto fail;
            }
            snprintf(p->guest, sizeof p->guest, "%s%s%s", g, gl > 1 ? "/" : "", p->name);
        } else {
            memcpy(p->guest, g, strlen(g) + 1);
        }
        p->mode = mode_for(vk, m, p->guest, &p->rule);
        p->mount = m;
    } else {
        p->mode = mode_for(vk, base_mount, p->guest, &p->rule);
    }
    return 0;

open_fail:
    if (r == -EXDEV) {
        audit_escape(vk, sys, path, len, EPERM, "builtin:beneath");
        r = -EPERM;
    } else if (r == -ELOOP) {
        audit_escape(vk, sys, path, len, ELOOP, "builtin:no-magiclinks");
    }
fail:
    kiln__path_done(p);
    return r;
}

/* Releases the parent fd of p. */
void kiln__path_done(struct kiln__path *p)
{
    if (p->parent_owned && p->parent >= 0) close(p->parent);
    p->parent = -1;
    p->parent_owned = false;
}

/* Policy check of a resolved path; see vk.h. */
int kiln__path_allow(struct kiln_vk *vk, int sys, const struct kiln__path *p, int want)
{
    char rule[96];
    const char *rn;
    int e;
    if (p->mode >= want) return 0;
    e = p->mode == KILN__FS_NONE ? EACCES : EROFS;
    if (p->rule >= 0 && vk->policy != NULL) {
        rn = kiln__policy_fs_rule_name(vk->policy, p->rule);
    } else if (p->mount >= 0 && (vk->mounts[p->mount].flags & KILN_VK_MOUNT_RO)) {
        snprintf(rule, sizeof rule, "mount:%s:ro", vk->mounts[p->mount].guest_path);
        rn = rule;
    } else {
        rn = "default:none";
    }
    kiln__audit_deny(vk, kiln_vk_sys_name(sys), p->guest, e, rn);
    return -e;
}

/* Opens the final object of p; see vk.h. */
int kiln__path_open_final(struct kiln_vk *vk, const struct kiln__path *p, int flags, mode_t mode,
                          bool follow)
{
    uint64_t res = resolve_flags(vk, p->mount);
    int r;
    if (!follow) {
        r = openat(p->parent, p->name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (r < 0 && errno == ELOOP && (flags & O_PATH) == 0) return -ELOOP;
        return r < 0 ? -errno : r;
    }
    r = sys_openat2(p->parent, p->name, flags | O_CLOEXEC, mode, res);
    if (r == -EXDEV && p->parent != p->base) {
        /* the final symlink leaves its parent: resolve the whole path beneath
         * the base directory instead (still confined). */
        r = sys_openat2(p->base, p->rel, flags | O_CLOEXEC, mode, res);
    }
    if (r == -EXDEV) {
        audit_escape(vk, KILN_VK_SYS_openat, p->guest, strlen(p->guest), EPERM, "builtin:beneath");
        return -EPERM;
    }
    if (r == -ELOOP) {
        /* a genuine loop, or a magic link */
        audit_escape(vk, KILN_VK_SYS_openat, p->guest, strlen(p->guest), ELOOP, "builtin:no-magiclinks");
    }
    return r;
}
