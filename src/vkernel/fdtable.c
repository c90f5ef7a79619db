/*
 * fdtable.c — the guest fd table: guest fd -> host fd, kind, flags, rights.
 *
 * Invariants: a slot is free iff host == -1; guest fds are allocated lowest
 * first (Linux semantics); the table never holds more than the policy's
 * limits.open_fds entries (EMFILE beyond). A guessed fd number that is not in
 * the table is -EBADF: host fds are never reachable by their own numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkernel/vk.h"

#define KILN__FD_HARD_MAX 65536

/* The open entry for fd, or NULL. */
struct kiln_vk_fd *kiln__fd(struct kiln_vk *vk, int fd)
{
    if (fd < 0 || fd >= vk->nfds_cap || vk->fds[fd].host < 0) return NULL;
    return &vk->fds[fd];
}

/* Public read-only view of an fd entry; see vkernel.h. */
const struct kiln_vk_fd *kiln_vk_fd_get(const struct kiln_vk *vk, int fd)
{
    return kiln__fd((struct kiln_vk *)vk, fd);
}

/* Number of slots; see vkernel.h. */
int kiln_vk_fd_limit(const struct kiln_vk *vk)
{
    return vk->nfds_cap;
}

/* Sets ABI rights; see vkernel.h. */
int kiln_vk_fd_set_rights(struct kiln_vk *vk, int fd, uint64_t base, uint64_t inh)
{
    struct kiln_vk_fd *f = kiln__fd(vk, fd);
    if (f == NULL) return -EBADF;
    f->rights_base = base;
    f->rights_inh = inh;
    return 0;
}

/* Maps an st_mode to a kind. */
int kiln__kind_from_mode(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG:
        return KILN_VK_FILE;
    case S_IFDIR:
        return KILN_VK_DIR;
    case S_IFCHR:
        return KILN_VK_CHAR;
    case S_IFBLK:
        return KILN_VK_BLOCK;
    case S_IFIFO:
        return KILN_VK_PIPE;
    case S_IFSOCK:
        return KILN_VK_SOCKET;
    case S_IFLNK:
        return KILN_VK_SYMLINK;
    default:
        return KILN_VK_UNKNOWN;
    }
}

/* Kind of a host fd, or -errno. Sockets: stream/dgram/listener by getsockopt. */
int kiln__kind_of(int host)
{
    struct stat st;
    int k;
    if (fstat(host, &st) < 0) return -errno;
    k = kiln__kind_from_mode(st.st_mode);
    if (k == KILN_VK_SOCKET) {
        int v = 0;
        socklen_t l = sizeof v;
        if (getsockopt(host, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v) return KILN_VK_LISTENER;
        l = sizeof v;
        if (getsockopt(host, SOL_SOCKET, SO_TYPE, &v, &l) == 0 && v == SOCK_DGRAM)
            return KILN_VK_DGRAM;
    }
    return k;
}

static int open_limit(const struct kiln_vk *vk)
{
    const struct kiln_vk_limits *l = vk->policy ? kiln_vk_policy_limits(vk->policy) : NULL;
    if (l != NULL && l->open_fds > 0 && l->open_fds < KILN__FD_HARD_MAX) return (int)l->open_fds;
    return KILN__FD_HARD_MAX;
}

static int grow(struct kiln_vk *vk, int need)
{
    int cap = vk->nfds_cap ? vk->nfds_cap : 16, i;
    struct kiln_vk_fd *n;
    while (cap <= need)
        cap *= 2;
    if (cap <= vk->nfds_cap) return 0;
    n = realloc(vk->fds, (size_t)cap * sizeof *n);
    if (n == NULL) return -ENOMEM;
    for (i = vk->nfds_cap; i < cap; i++) {
        memset(&n[i], 0, sizeof n[i]);
        n[i].host = -1;
        n[i].mount = -1;
    }
    vk->fds = n;
    vk->nfds_cap = cap;
    return 0;
}

/* Allocates guest fd `fd` (must be free); see vk.h. */
int kiln__fd_alloc_at(struct kiln_vk *vk, int fd, int host, int kind, unsigned flags, int mount,
                      const char *guest_path)
{
    struct kiln_vk_fd *f;
    char *g = NULL;
    int r;
    if (fd < 0 || fd >= KILN__FD_HARD_MAX) return -EBADF;
    if (vk->nopen >= open_limit(vk)) return -EMFILE;
    r = grow(vk, fd);
    if (r < 0) return r;
    f = &vk->fds[fd];
    if (f->host >= 0) return -EBUSY;
    if (guest_path != NULL && (g = strdup(guest_path)) == NULL) return -ENOMEM;
    f->host = host;
    f->kind = (uint8_t)kind;
    f->flags = (uint8_t)flags;
    f->mount = (int16_t)mount;
    f->oflags = 0;
    f->rights_base = f->rights_inh = 0;
    f->guest_path = g;
    f->host_flags0 = (flags & KILN_VK_FD_NOCLOSE) ? fcntl(host, F_GETFL) : -1;
    vk->nopen++;
    return fd;
}

/* Allocates the lowest free guest fd; see vk.h. */
int kiln__fd_alloc(struct kiln_vk *vk, int host, int kind, unsigned flags, int mount,
                   const char *guest_path)
{
    int i;
    for (i = 0; i < vk->nfds_cap; i++)
        if (vk->fds[i].host < 0) break;
    return kiln__fd_alloc_at(vk, i, host, kind, flags, mount, guest_path);
}

/* Frees slot fd; see vk.h. */
void kiln__fd_release(struct kiln_vk *vk, int fd)
{
    struct kiln_vk_fd *f = &vk->fds[fd];
    if (f->remote != 0 && vk->be != NULL && vk->be->release != NULL)
        vk->be->release(vk, f->remote); /* daemon placement: drop kilnd's handle */
    if (!(f->flags & KILN_VK_FD_NOCLOSE))
        close(f->host);
    else if (f->host_flags0 >= 0)
        fcntl(f->host, F_SETFL, f->host_flags0); /* e.g. O_NONBLOCK set by the guest */
    free(f->guest_path);
    free(f->dcookies);
    memset(f, 0, sizeof *f);
    f->host = -1;
    f->mount = -1;
    vk->nopen--;
}

/* implements Linux close(2). Closing a preopen is allowed (as in Linux). */
int kiln_vk_close(struct kiln_vk *vk, int fd)
{
    int r = kiln__enter(vk, KILN_VK_SYS_close);
    if (r < 0) return kiln__ret(vk, KILN_VK_SYS_close, r);
    if (kiln__fd(vk, fd) == NULL) return kiln__ret(vk, KILN_VK_SYS_close, -EBADF);
    kiln__fd_release(vk, fd);
    return 0;
}

/* Moves from onto to; see vkernel.h. */
int kiln_vk_renumber(struct kiln_vk *vk, int from, int to)
{
    struct kiln_vk_fd tmp;
    int r = kiln__enter(vk, KILN_VK_SYS_dup3);
    if (r < 0) return kiln__ret(vk, KILN_VK_SYS_dup3, r);
    if (kiln__fd(vk, from) == NULL || kiln__fd(vk, to) == NULL)
        return kiln__ret(vk, KILN_VK_SYS_dup3, -EBADF);
    if (from == to) return 0;
    kiln__fd_release(vk, to);
    tmp = vk->fds[from];
    vk->fds[to] = tmp;
    memset(&vk->fds[from], 0, sizeof vk->fds[from]);
    vk->fds[from].host = -1;
    vk->fds[from].mount = -1;
    return 0;
}

#define KILN__DCOOKIE_MAX (1u << 24)

/* Host offset for a small directory cookie; see vkernel.h. */
int64_t kiln_vk_dircookie_get(struct kiln_vk *vk, int fd, uint64_t cookie)
{
    const struct kiln_vk_fd *f = kiln__fd(vk, fd);
    if (f == NULL) return -EBADF;
    if (f->kind != KILN_VK_DIR) return -ENOTDIR;
    if (cookie == 0) return 0;
    if (cookie > f->ndcookies) return -EINVAL;
    return (int64_t)f->dcookies[cookie - 1];
}

/* Records the host offset after entry `cookie`; see vkernel.h. */
int kiln_vk_dircookie_set(struct kiln_vk *vk, int fd, uint64_t cookie, uint64_t host_off)
{
    struct kiln_vk_fd *f = kiln__fd(vk, fd);
    if (f == NULL) return -EBADF;
    if (f->kind != KILN_VK_DIR) return -ENOTDIR;
    if (cookie == 0 || cookie > (uint64_t)f->ndcookies + 1 || cookie > KILN__DCOOKIE_MAX)
        return -EINVAL;
    if (cookie == (uint64_t)f->ndcookies + 1) {
        if ((f->ndcookies & (f->ndcookies - 1)) == 0 || f->dcookies == NULL) {
            uint32_t cap = f->ndcookies ? f->ndcookies * 2 : 16;
            uint64_t *n = realloc(f->dcookies, cap * sizeof *n);
            if (n == NULL) return -ENOMEM;
            f->dcookies = n;
        }
        f->ndcookies++;
    }
    f->dcookies[cookie - 1] = host_off;
    return 0;
}
