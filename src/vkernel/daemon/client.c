/*
 * client.c — the vkernel backend of the daemon placement: forwards the
 * authority-granting core calls to kilnd (protocol: proto.h,
 * docs/kilnd-protocol.md) and installs the fds it grants in the local guest
 * fd table. Linked into the vkernel core, so every unit process can attach.
 *
 * Invariants:
 *   - one request is outstanding at a time; a reply must repeat the request's
 *     op and seq, or the connection is treated as broken;
 *   - after any transport or protocol error the connection is "lost": every
 *     later forwarded call returns -EIO without touching the socket, and the
 *     embedder's lost() callback runs exactly once (fail closed);
 *   - directories are named to kilnd only by the handles kilnd gave out
 *     (struct kiln_vk_fd.remote = handle + 1), never by fds of this process;
 *     sockets travel with their request (kilnd checks and acts on them).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kiln/kilnd.h"
#include "vkernel/daemon/proto.h"
#include "vkernel/vk.h"

struct kiln_kilnd {
    int sock;           /* SOCK_SEQPACKET connection, -1 when closed */
    uint32_t seq;       /* last request number */
    bool lost;          /* connection broken: fail closed */
    bool exited;        /* EXIT sent: releases are pointless */
    int pid;            /* this process's pid in the container (grant), 0 = unknown */
    struct kiln_vk *vk; /* the vkernel attached (for its noted signal) */
    void (*lost_cb)(const char *msg);
    char *policy_text; /* the grant's policy document (owned), NULL = none */
    size_t policy_len;
    uint8_t out[KILND_MSG_MAX];    /* request being built */
    uint8_t in[KILND_MSG_MAX + 1]; /* reply (one byte more detects oversize) */
};

static struct kiln_kilnd *ctx(struct kiln_vk *vk)
{
    return vk->be_ctx;
}

/* Marks the connection lost (once) and returns -EIO. */
static int fail_closed(struct kiln_kilnd *c, const char *what, int e)
{
    if (!c->lost) {
        char msg[256];
        c->lost = true;
        snprintf(msg, sizeof msg, "kilnd connection lost (%s: %s): failing closed", what,
                 strerror(e < 0 ? -e : e));
        if (c->lost_cb != NULL) c->lost_cb(msg);
    }
    return -EIO;
}

/* One round trip. q is filled by the caller except the header; d0/d1 follow
 * it. sendfd >= 0 travels with the request. On success returns the reply's
 * result; *rep gets the reply header, *data its payload (inside c->in) and
 * *fd a received fd (or -1; the caller owns it). */
static int rpc_reply(struct kiln_kilnd *c, int op, struct kilnd_reply *rep, const uint8_t **data,
                     int *fd);

/* A blocking WAIT's reply comes when a child is done. The embedder stopping
 * the guest on a signal (kiln_vk_note_signal) must not wait for that: the
 * wait returns -EINTR and the next request may only be EXIT (kilnd cancels
 * the pending WAIT on EXIT). */
static int wait_ready(struct kiln_kilnd *c)
{
    for (;;) {
        struct pollfd p = {.fd = c->sock, .events = POLLIN};
        if (poll(&p, 1, -1) > 0) return 0;
        if (errno != EINTR) return fail_closed(c, "poll", errno);
        if (c->vk != NULL && c->vk->signal_noted) return -EINTR;
    }
}

static int rpc(struct kiln_kilnd *c, int op, struct kilnd_call *q, const void *d0, size_t l0,
               const void *d1, size_t l1, int sendfd, struct kilnd_reply *rep, const uint8_t **data,
               int *fd)
{
    int r;
    *fd = -1;
    if (c->lost) return -EIO;
    if (sizeof *q + l0 + l1 > KILND_MSG_MAX) return -ENAMETOOLONG;
    q->h.magic = KILND_MAGIC;
    q->h.version = KILND_VERSION;
    q->h.op = (uint16_t)op;
    q->h.seq = ++c->seq;
    q->h.result = 0;
    q->len[0] = (uint32_t)l0;
    q->len[1] = (uint32_t)l1;
    memcpy(c->out, q, sizeof *q);
    if (l0) memcpy(c->out + sizeof *q, d0, l0);
    if (l1) memcpy(c->out + sizeof *q + l0, d1, l1);
    r = kiln__kilnd_send(c->sock, c->out, sizeof *q + l0 + l1, NULL, 0, &sendfd, sendfd >= 0);
    if (r < 0) return fail_closed(c, "send", r);
    if (op == KILND_WAIT && (r = wait_ready(c)) < 0) return r;
    return rpc_reply(c, op, rep, data, fd);
}

/* Receives the reply to request c->seq of op; see rpc. */
static int rpc_reply(struct kiln_kilnd *c, int op, struct kilnd_reply *rep, const uint8_t **data,
                     int *fd)
{
    long n;
    int fds[KILND_MAX_FDS], nfds = 0, i;
    *fd = -1;
    n = kiln__kilnd_recv(c->sock, c->in, sizeof c->in, fds, KILND_MAX_FDS, &nfds);
    if (n <= 0) return fail_closed(c, "receive", n == 0 ? ECONNRESET : (int)-n);
    if (kiln__kilnd_check(c->in, n, sizeof *rep) < 0) goto proto;
    memcpy(rep, c->in, sizeof *rep);
    if (rep->h.op != op || rep->h.seq != c->seq || rep->len > (size_t)n - sizeof *rep) goto proto;
    *data = c->in + sizeof *rep;
    if (nfds > 1 || (nfds == 1 && rep->h.result < 0)) goto proto;
    if (nfds == 1) *fd = fds[0];
    return rep->h.result;
proto:
    for (i = 0; i < nfds; i++)
        close(fds[i]);
    return fail_closed(c, "protocol", EPROTO);
}

/* kilnd's handle for (dirfd, path): absolute paths and AT_ROOT need none.
 * Returns 0 or -errno for fds kilnd never granted. */
static int dir_handle(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int32_t *h)
{
    const struct kiln_vk_fd *f;
    if ((len > 0 && path[0] == '/') || dirfd == KILN_VK_AT_ROOT) {
        *h = KILN_VK_AT_ROOT;
        return 0;
    }
    f = kiln__fd(vk, dirfd);
    if (f == NULL || f->remote == 0) {
        if (f != NULL && f->kind != KILN_VK_DIR) return -ENOTDIR;
        *h = -1; /* kilnd answers EBADF (and audits it) */
        return 0;
    }
    *h = f->remote - 1;
    return 0;
}

static void release_handle(struct kiln_kilnd *c, int32_t handle)
{
    struct kilnd_call q;
    if (c->lost || c->exited || c->sock < 0) return;
    memset(&q, 0, sizeof q);
    q.h.magic = KILND_MAGIC;
    q.h.version = KILND_VERSION;
    q.h.op = KILND_RELEASE;
    q.h.seq = ++c->seq;
    q.a[0] = handle;
    if (kiln__kilnd_send(c->sock, &q, sizeof q, NULL, 0, NULL, 0) < 0)
        fail_closed(c, "send", EPIPE);
}

/* Installs a granted host fd; returns the guest fd or -errno (fd closed). */
static int install(struct kiln_vk *vk, const struct kilnd_reply *rep, const uint8_t *data, int fd)
{
    char path[PATH_MAX + 1];
    int g;
    const char *gp = NULL;
    if (fd < 0) return fail_closed(ctx(vk), "protocol", EPROTO);
    if (rep->kind == KILN_VK_DIR && rep->len > 0 && rep->len <= PATH_MAX) {
        memcpy(path, data, rep->len);
        path[rep->len] = 0;
        gp = path;
    }
    g = kiln__fd_alloc(vk, fd, rep->kind, rep->fdflags & KILN_VK_FD_RO, -1, gp);
    if (g < 0) {
        close(fd);
        if (rep->handle >= 0) release_handle(ctx(vk), rep->handle);
        return g;
    }
    vk->fds[g].oflags = rep->oflags;
    vk->fds[g].remote = rep->handle >= 0 ? rep->handle + 1 : 0;
    return g;
}

static int c_openat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags,
                    mode_t mode)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    memset(&q, 0, sizeof q);
    if ((r = dir_handle(vk, dirfd, path, len, &q.a[0])) < 0) return r;
    q.a[1] = flags;
    q.a[2] = (int32_t)mode;
    r = rpc(ctx(vk), KILND_OPENAT, &q, path, len, NULL, 0, -1, &rep, &d, &fd);
    return r < 0 ? r : install(vk, &rep, d, fd);
}

/* Calls with a path (and an optional second path / string) and a plain result. */
static int simple(struct kiln_vk *vk, int op, int32_t h0, int32_t a1, int32_t a2, const char *p0,
                  size_t l0, const char *p1, size_t l1)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    memset(&q, 0, sizeof q);
    q.a[0] = h0;
    q.a[1] = a1;
    q.a[2] = a2;
    r = rpc(ctx(vk), op, &q, p0, l0, p1, l1, -1, &rep, &d, &fd);
    if (fd >= 0) close(fd);
    return r;
}

static int c_mkdirat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, mode_t mode)
{
    int32_t h;
    int r = dir_handle(vk, dirfd, path, len, &h);
    return r < 0 ? r : simple(vk, KILND_MKDIRAT, h, 0, (int32_t)mode, path, len, NULL, 0);
}

static int c_unlinkat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, int flags)
{
    int32_t h;
    int r = dir_handle(vk, dirfd, path, len, &h);
    return r < 0 ? r : simple(vk, KILND_UNLINKAT, h, flags, 0, path, len, NULL, 0);
}

static int c_renameat(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                      const char *newp, size_t newlen)
{
    int32_t a, b;
    int r;
    if ((r = dir_handle(vk, olddir, oldp, oldlen, &a)) < 0) return r;
    if ((r = dir_handle(vk, newdir, newp, newlen, &b)) < 0) return r;
    return simple(vk, KILND_RENAMEAT, a, b, 0, oldp, oldlen, newp, newlen);
}

static int c_linkat(struct kiln_vk *vk, int olddir, const char *oldp, size_t oldlen, int newdir,
                    const char *newp, size_t newlen, int flags)
{
    int32_t a, b;
    int r;
    if ((r = dir_handle(vk, olddir, oldp, oldlen, &a)) < 0) return r;
    if ((r = dir_handle(vk, newdir, newp, newlen, &b)) < 0) return r;
    return simple(vk, KILND_LINKAT, a, b, flags, oldp, oldlen, newp, newlen);
}

static int c_symlinkat(struct kiln_vk *vk, const char *target, size_t tlen, int dirfd,
                       const char *path, size_t len)
{
    int32_t h;
    int r = dir_handle(vk, dirfd, path, len, &h);
    return r < 0 ? r : simple(vk, KILND_SYMLINKAT, h, 0, 0, path, len, target, tlen);
}

static ssize_t c_readlinkat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, char *buf,
                            size_t size)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    memset(&q, 0, sizeof q);
    if ((r = dir_handle(vk, dirfd, path, len, &q.a[0])) < 0) return r;
    q.a[1] = size > PATH_MAX ? PATH_MAX : (int32_t)size;
    r = rpc(ctx(vk), KILND_READLINKAT, &q, path, len, NULL, 0, -1, &rep, &d, &fd);
    if (fd >= 0) close(fd);
    if (r < 0) return r;
    if ((size_t)r > rep.len || (size_t)r > size) return fail_closed(ctx(vk), "protocol", EPROTO);
    memcpy(buf, d, (size_t)r);
    return r;
}

static int c_fstatat(struct kiln_vk *vk, int dirfd, const char *path, size_t len, struct stat *st,
                     int flags)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    memset(&q, 0, sizeof q);
    if ((r = dir_handle(vk, dirfd, path, len, &q.a[0])) < 0) return r;
    q.a[1] = flags;
    r = rpc(ctx(vk), KILND_FSTATAT, &q, path, len, NULL, 0, -1, &rep, &d, &fd);
    if (fd >= 0) close(fd);
    if (r < 0) return r;
    if (rep.len != sizeof *st) return fail_closed(ctx(vk), "protocol", EPROTO);
    memcpy(st, d, sizeof *st);
    return r;
}

static int c_utimensat(struct kiln_vk *vk, int dirfd, const char *path, size_t len,
                       const struct timespec times[2], int flags)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    memset(&q, 0, sizeof q);
    if ((r = dir_handle(vk, dirfd, path, len, &q.a[0])) < 0) return r;
    q.a[1] = flags;
    q.a[2] = times != NULL;
    if (times != NULL) {
        q.x[0] = times[0].tv_sec;
        q.x[1] = times[0].tv_nsec;
        q.x[2] = times[1].tv_sec;
        q.x[3] = times[1].tv_nsec;
    }
    r = rpc(ctx(vk), KILND_UTIMENSAT, &q, path, len, NULL, 0, -1, &rep, &d, &fd);
    if (fd >= 0) close(fd);
    return r;
}

static int c_socket(struct kiln_vk *vk, int domain, int type, int protocol)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    memset(&q, 0, sizeof q);
    q.a[0] = domain;
    q.a[1] = type;
    q.a[2] = protocol;
    r = rpc(ctx(vk), KILND_SOCKET, &q, NULL, 0, NULL, 0, -1, &rep, &d, &fd);
    return r < 0 ? r : install(vk, &rep, d, fd);
}

/* The local socket entry for fd, with the core's errors. */
static struct kiln_vk_fd *sock_of(struct kiln_vk *vk, int fd, int *e)
{
    struct kiln_vk_fd *f = kiln__fd(vk, fd);
    *e = 0;
    if (f == NULL)
        *e = -EBADF;
    else if (f->kind != KILN_VK_SOCKET && f->kind != KILN_VK_DGRAM && f->kind != KILN_VK_LISTENER)
        *e = -ENOTSOCK;
    return *e ? NULL : f;
}

static int sock_call(struct kiln_vk *vk, int op, int fd, int32_t a0, int32_t a1, const void *sa,
                     size_t len)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    struct kiln_vk_fd *f;
    int nfd, r;
    if ((f = sock_of(vk, fd, &r)) == NULL) return r;
    memset(&q, 0, sizeof q);
    q.a[0] = a0;
    q.a[1] = a1;
    q.a[2] = fd;
    r = rpc(ctx(vk), op, &q, sa, len, NULL, 0, f->host, &rep, &d, &nfd);
    if (r < 0 || op != KILND_ACCEPT) {
        if (nfd >= 0) close(nfd);
        return r;
    }
    return install(vk, &rep, d, nfd);
}

/* connect: kilnd starts it without blocking; a blocking socket then waits
 * here for the outcome, as connect(2) would. */
static int c_connect(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len)
{
    struct kiln_vk_fd *f;
    int r, e = 0;
    socklen_t el = sizeof e;
    if (sa == NULL || len > 256) return -EINVAL;
    r = sock_call(vk, KILND_CONNECT, fd, 0, 0, sa, len);
    if (r != -EINPROGRESS || (f = kiln__fd(vk, fd)) == NULL ||
        (fcntl(f->host, F_GETFL) & O_NONBLOCK))
        return r;
    for (;;) {
        struct pollfd p = {.fd = f->host, .events = POLLOUT};
        if (poll(&p, 1, -1) < 0) return -errno;
        if (p.revents) break;
    }
    if (getsockopt(f->host, SOL_SOCKET, SO_ERROR, &e, &el) < 0) return -errno;
    return -e;
}

static int c_bind(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len)
{
    if (sa == NULL || len > 256) return -EINVAL;
    return sock_call(vk, KILND_BIND, fd, 0, 0, sa, len);
}

static int c_listen_fd(struct kiln_vk *vk, int fd, int backlog)
{
    struct kiln_vk_fd *f;
    int r;
    if ((f = sock_of(vk, fd, &r)) == NULL) return r;
    if (f->kind != KILN_VK_SOCKET && f->kind != KILN_VK_LISTENER) return -EOPNOTSUPP;
    r = sock_call(vk, KILND_LISTEN, fd, backlog, 0, NULL, 0);
    if (r == 0) kiln__fd(vk, fd)->kind = KILN_VK_LISTENER;
    return r;
}

/* accept: kilnd never blocks on a guest's behalf. A blocking accept waits
 * here (poll on the listener), then asks kilnd to take the connection only if
 * one is ready (a[1] = 1); a race with another acceptor just waits again. */
static int c_accept(struct kiln_vk *vk, int fd, int flags)
{
    struct kiln_vk_fd *f;
    int r;
    if ((f = sock_of(vk, fd, &r)) == NULL) return r;
    if (f->kind != KILN_VK_LISTENER) return f->kind == KILN_VK_SOCKET ? -EINVAL : -ENOTSOCK;
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
    if (fcntl(f->host, F_GETFL) & O_NONBLOCK)
        return sock_call(vk, KILND_ACCEPT, fd, flags, 0, NULL, 0);
    for (;;) {
        struct pollfd p = {.fd = f->host, .events = POLLIN};
        if (poll(&p, 1, -1) < 0) return -errno;
        r = sock_call(vk, KILND_ACCEPT, fd, flags, 1, NULL, 0);
        if (r != -EAGAIN) return r;
        if ((f = kiln__fd(vk, fd)) == NULL) return -EBADF;
    }
}

static void c_release(struct kiln_vk *vk, int32_t remote)
{
    release_handle(ctx(vk), remote - 1);
}

/* The exit report: the process's own counters (the hot path) for the run
 * attestation; kilnd adds what it counted itself. */
static void c_exit(struct kiln_vk *vk, int code, const char *reason)
{
    struct kiln_kilnd *c = ctx(vk);
    struct kilnd_hdr h;
    json_t *o = json_object(), *sys = json_object(), *abi = json_object();
    char *txt = NULL;
    int i, fds[KILND_MAX_FDS], nfds = 0;
    long n;
    if (c->lost || c->exited || o == NULL || sys == NULL || abi == NULL) goto out;
    for (i = 0; i < KILN_VK_SYS__COUNT; i++) {
        json_t *e;
        if (vk->sys[i].calls == 0) continue;
        e = json_pack("{sIsI}", "calls", (json_int_t)vk->sys[i].calls, "errors",
                      (json_int_t)vk->sys[i].errors);
        json_object_set_new(sys, kiln_vk_sys_name(i), e);
    }
    for (i = 0; i < vk->nabi; i++)
        if (vk->abi_counts[i] != 0)
            json_object_set_new(abi, vk->abi_names[i], json_integer((json_int_t)vk->abi_counts[i]));
    json_object_set_new(o, "code", json_integer(code));
    json_object_set_new(o, "reason", json_string(reason ? reason : "exit"));
    json_object_set_new(o, "denials", json_integer((json_int_t)vk->denials));
    json_object_set_new(o, "output_bytes", json_integer((json_int_t)vk->out_bytes));
    json_object_set(o, "syscalls", sys);
    json_object_set(o, "abi", abi);
    txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (txt == NULL || strlen(txt) + sizeof h > KILND_MSG_MAX) goto out;
    memset(&h, 0, sizeof h);
    h.magic = KILND_MAGIC;
    h.version = KILND_VERSION;
    h.op = KILND_EXIT;
    h.seq = ++c->seq;
    if (kiln__kilnd_send(c->sock, &h, sizeof h, txt, strlen(txt), NULL, 0) < 0) {
        fail_closed(c, "send", EPIPE);
        goto out;
    }
    /* wait for the acknowledgement so the record exists before we exit */
    n = kiln__kilnd_recv(c->sock, c->in, sizeof c->in, fds, KILND_MAX_FDS, &nfds);
    while (nfds > 0)
        close(fds[--nfds]);
    if (n <= 0) fail_closed(c, "receive", n == 0 ? ECONNRESET : (int)-n);
    c->exited = true;
out:
    free(txt);
    json_decref(sys);
    json_decref(abi);
    json_decref(o);
}

/* ---- processes (docs/guest-proc.md) ---- */

/* Host fd to pass for guest fd g as stdio slot k (-1: the caller's fd k). */
static int stdio_host(struct kiln_vk *vk, int g, int k, int *e)
{
    const struct kiln_vk_fd *f = kiln__fd(vk, g < 0 ? k : g);
    *e = 0;
    if (f == NULL || f->host < 0) {
        *e = -EBADF;
        return -1;
    }
    return f->host;
}

static int c_spawn(struct kiln_vk *vk, const char *path, size_t len, int argc, char *const *argv,
                   int nenv, char *const *env, const int stdio[3])
{
    struct kiln_kilnd *c = ctx(vk);
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    char *blob = NULL;
    size_t bl = 0, k;
    int fds[3], i, r, fd;
    if (argc < 0 || nenv < 0 || argc + nenv > 60) return -E2BIG;
    for (i = 0; i < 3; i++)
        if ((fds[i] = stdio_host(vk, stdio ? stdio[i] : -1, i, &r)) < 0) return r;
    for (i = 0; i < argc + nenv; i++)
        bl += strlen(i < argc ? argv[i] : env[i - argc]) + 1;
    if (sizeof q + len + bl > KILND_MSG_MAX) return -E2BIG;
    if ((blob = malloc(bl ? bl : 1)) == NULL) return -ENOMEM;
    for (i = 0, k = 0; i < argc + nenv; i++) {
        const char *z = i < argc ? argv[i] : env[i - argc];
        size_t zl = strlen(z) + 1;
        memcpy(blob + k, z, zl);
        k += zl;
    }
    memset(&q, 0, sizeof q);
    for (i = 0; i < 3; i++)
        q.a[i] = stdio ? stdio[i] : -1;
    q.a[3] = argc;
    q.a[4] = nenv;
    /* rpc sends one fd; SPAWN carries three: build the packet here */
    if (c->lost) {
        free(blob);
        return -EIO;
    }
    q.h.magic = KILND_MAGIC;
    q.h.version = KILND_VERSION;
    q.h.op = KILND_SPAWN;
    q.h.seq = ++c->seq;
    q.len[0] = (uint32_t)len;
    q.len[1] = (uint32_t)bl;
    memcpy(c->out, &q, sizeof q);
    memcpy(c->out + sizeof q, path, len);
    memcpy(c->out + sizeof q + len, blob, bl);
    free(blob);
    r = kiln__kilnd_send(c->sock, c->out, sizeof q + len + bl, NULL, 0, fds, 3);
    if (r < 0) return fail_closed(c, "send", r);
    r = rpc_reply(c, KILND_SPAWN, &rep, &d, &fd);
    if (fd >= 0) close(fd);
    return r;
}

static int c_wait(struct kiln_vk *vk, int pid, int *status, int options)
{
    struct kilnd_call q;
    struct kilnd_reply rep;
    const uint8_t *d;
    int fd, r;
    int32_t st;
    memset(&q, 0, sizeof q);
    q.a[0] = pid;
    q.a[1] = options;
    r = rpc(ctx(vk), KILND_WAIT, &q, NULL, 0, NULL, 0, -1, &rep, &d, &fd);
    if (fd >= 0) close(fd);
    if (r < 0) return r;
    if (rep.len != sizeof st) return fail_closed(ctx(vk), "protocol", EPROTO);
    memcpy(&st, d, sizeof st);
    if (status != NULL) *status = st;
    return r;
}

static int c_kill(struct kiln_vk *vk, int pid, int sig)
{
    return simple(vk, KILND_KILL, pid, sig, 0, NULL, 0, NULL, 0);
}

static int c_getpid(struct kiln_vk *vk)
{
    vk->sys[KILN_VK_SYS_getpid].calls++;
    return ctx(vk)->pid > 0 ? ctx(vk)->pid : 1;
}

#define KILND_BACKEND_COMMON                                                                       \
    .openat = c_openat, .mkdirat = c_mkdirat, .unlinkat = c_unlinkat, .renameat = c_renameat,      \
    .linkat = c_linkat, .symlinkat = c_symlinkat, .readlinkat = c_readlinkat,                      \
    .fstatat = c_fstatat, .utimensat = c_utimensat, .socket = c_socket, .connect = c_connect,      \
    .bind = c_bind, .listen_fd = c_listen_fd, .accept = c_accept, .release = c_release,            \
    .exit = c_exit, .wait = c_wait, .kill = c_kill, .getpid = c_getpid

/* Exec allowed by the container's policy: spawn too. */
static const struct kiln_vk_backend kilnd_backend_exec = {KILND_BACKEND_COMMON, .spawn = c_spawn};

static const struct kiln_vk_backend kilnd_backend = {
    .openat = c_openat,
    .mkdirat = c_mkdirat,
    .unlinkat = c_unlinkat,
    .renameat = c_renameat,
    .linkat = c_linkat,
    .symlinkat = c_symlinkat,
    .readlinkat = c_readlinkat,
    .fstatat = c_fstatat,
    .utimensat = c_utimensat,
    .socket = c_socket,
    .connect = c_connect,
    .bind = c_bind,
    .listen_fd = c_listen_fd,
    .accept = c_accept,
    .release = c_release,
    .exit = c_exit,
    .wait = c_wait,
    .kill = c_kill,
    .getpid = c_getpid,
};

static json_t *hello_json(const struct kiln_kilnd_hello *h)
{
    json_t *o = json_object(), *paths = json_array(), *ls = json_array();
    int i;
    for (i = 0; i < h->npaths; i++) {
        const char *p = h->paths[i];
        size_t l = strlen(p);
        bool ro = l > 3 && strcmp(p + l - 3, ":ro") == 0;
        json_t *e = json_pack("{s:s%,s:b}", "path", p, ro ? l - 3 : l, "ro", ro);
        if (e != NULL && h->paths_beneath) json_object_set_new(e, "beneath", json_true());
        json_array_append_new(paths, e);
    }
    for (i = 0; i < h->nlistens; i++)
        json_array_append_new(ls, json_string(h->listens[i]));
    json_object_set_new(o, "protocol", json_integer(KILND_VERSION));
    json_object_set_new(o, "container", json_string(h->container));
    json_object_set_new(o, "abi", json_string(h->abi ? h->abi : "wasi_snapshot_preview1"));
    json_object_set_new(o, "unit", json_string(h->unit_name ? h->unit_name : ""));
    json_object_set_new(o, "paths", paths);
    json_object_set_new(o, "listen", ls);
    return o;
}

/* Installs the grant's preopens, listeners and policy. */
static int apply_grant(struct kiln_vk *vk, json_t *g, int *fds, int nfds, struct kiln_error *err)
{
    json_t *pre = json_object_get(g, "preopens"), *lis = json_object_get(g, "listeners"), *e;
    json_t *pol = json_object_get(g, "policy");
    size_t i;
    if (!json_is_array(pre) || !json_is_array(lis))
        return kiln_error_set(err, KILN_E_MALFORMED, "kilnd grant: preopens/listeners missing");
    e = json_array_get(json_object_get(g, "denied"), 0);
    if (e != NULL) {
        const char *what = json_string_value(json_object_get(e, "path"));
        if (what == NULL) what = json_string_value(json_object_get(e, "listen"));
        return kiln_error_set(err, KILN_E_DENIED, "kilnd denied %s: %s", what ? what : "?",
                              json_string_value(json_object_get(e, "error"))
                                  ? json_string_value(json_object_get(e, "error"))
                                  : "refused");
    }
    if (json_is_string(pol)) {
        struct kiln_vk_policy *p = NULL;
        if (kiln_vk_policy_parse(json_string_value(pol), json_string_length(pol), "kilnd grant", &p,
                                 err) < 0)
            return -err->code;
        kiln_vk_set_policy(vk, p);
    }
    json_array_foreach(pre, i, e)
    {
        json_int_t idx = json_integer_value(json_object_get(e, "fd"));
        json_int_t handle = json_integer_value(json_object_get(e, "handle"));
        const char *path = json_string_value(json_object_get(e, "path"));
        bool ro = json_is_true(json_object_get(e, "ro"));
        int g2;
        if (path == NULL || idx < 0 || idx >= nfds || fds[idx] < 0)
            return kiln_error_set(err, KILN_E_MALFORMED, "kilnd grant: preopens[%zu]", i);
        g2 = kiln__fd_alloc(vk, fds[idx], KILN_VK_DIR,
                            KILN_VK_FD_PREOPEN | (ro ? KILN_VK_FD_RO : 0), -1, path);
        if (g2 < 0) return kiln_error_sys(err, -g2, "kilnd grant: preopen %s", path);
        fds[idx] = -1;
        vk->fds[g2].oflags = O_RDONLY;
        vk->fds[g2].remote = (int32_t)handle + 1;
    }
    json_array_foreach(lis, i, e)
    {
        json_int_t idx = json_integer_value(json_object_get(e, "fd"));
        int g2;
        if (idx < 0 || idx >= nfds || fds[idx] < 0)
            return kiln_error_set(err, KILN_E_MALFORMED, "kilnd grant: listeners[%zu]", i);
        g2 = kiln__fd_alloc(vk, fds[idx], KILN_VK_LISTENER, KILN_VK_FD_PREOPEN, -1, NULL);
        if (g2 < 0) return kiln_error_sys(err, -g2, "kilnd grant: listener");
        fds[idx] = -1;
        vk->fds[g2].oflags = O_RDWR;
    }
    return 0;
}

/* Connects, presents hello, installs the grant; see kilnd.h. */
int kiln_kilnd_attach(struct kiln_vk *vk, const char *socket_path,
                      const struct kiln_kilnd_hello *hello, void (*lost)(const char *msg),
                      struct kiln_kilnd **out, struct kiln_error *err)
{
    struct kiln_kilnd *c = calloc(1, sizeof *c);
    struct sockaddr_un sa;
    struct kilnd_hdr h;
    json_t *hj = NULL, *g = NULL;
    json_error_t je;
    char *txt = NULL;
    int fds[KILND_MAX_FDS], nfds = 0, r, i;
    long n;
    if (c == NULL) return kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
    c->sock = -1;
    c->lost_cb = lost;
    if (hello == NULL || hello->container == NULL) {
        r = kiln_error_set(err, KILN_E_ARG, "kilnd: no container id");
        goto fail;
    }
    if (strncmp(socket_path, "fd:", 3) == 0) {
        /* a connection kilnd made for a unit it spawned (inherited fd) */
        char *end;
        long v = strtol(socket_path + 3, &end, 10);
        int type = 0;
        socklen_t tl = sizeof type;
        if (*end != 0 || v < 0 || v > INT32_MAX ||
            getsockopt((int)v, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET) {
            r = kiln_error_set(err, KILN_E_ARG, "kilnd %s: not an inherited kilnd connection",
                               socket_path);
            goto fail;
        }
        c->sock = (int)v;
        fcntl(c->sock, F_SETFD, FD_CLOEXEC);
    } else {
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if (strlen(socket_path) >= sizeof sa.sun_path) {
            r = kiln_error_set(err, KILN_E_ARG, "kilnd socket %s: path too long", socket_path);
            goto fail;
        }
        strcpy(sa.sun_path, socket_path);
        c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
            r = kiln_error_sys(err, errno, "kilnd socket %s", socket_path);
            goto fail;
        }
    }
    hj = hello_json(hello);
    txt = json_dumps(hj, JSON_COMPACT);
    if (txt == NULL) {
        r = kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
        goto fail;
    }
    memset(&h, 0, sizeof h);
    h.magic = KILND_MAGIC;
    h.version = KILND_VERSION;
    h.op = KILND_HELLO;
    h.seq = ++c->seq;
    r = kiln__kilnd_send(c->sock, &h, sizeof h, txt, strlen(txt), &hello->unit_fd,
                         hello->unit_fd >= 0);
    if (r < 0) {
        r = kiln_error_sys(err, -r, "kilnd %s: hello", socket_path);
        goto fail;
    }
    n = kiln__kilnd_recv(c->sock, c->in, sizeof c->in, fds, KILND_MAX_FDS, &nfds);
    if (n <= 0) {
        r = kiln_error_sys(err, n == 0 ? ECONNRESET : (int)-n, "kilnd %s: no grant", socket_path);
        goto fail;
    }
    if (kiln__kilnd_check(c->in, n, sizeof h) < 0) {
        r = kiln_error_set(err, KILN_E_MALFORMED, "kilnd %s: bad grant packet", socket_path);
        goto fail;
    }
    memcpy(&h, c->in, sizeof h);
    g = json_loadb((const char *)c->in + sizeof h, (size_t)n - sizeof h, 0, &je);
    if (h.result < 0) {
        const char *why = g ? json_string_value(json_object_get(g, "error")) : NULL;
        r = kiln_error_set(err, KILN_E_DENIED, "kilnd refused container %s: %s", hello->container,
                           why ? why : strerror(-h.result));
        goto fail;
    }
    if (g == NULL || h.op != KILND_HELLO) {
        r = kiln_error_set(err, KILN_E_MALFORMED, "kilnd %s: grant: %s", socket_path, je.text);
        goto fail;
    }
    if ((r = apply_grant(vk, g, fds, nfds, err)) < 0) goto fail;
    if (json_is_string(json_object_get(g, "policy"))) {
        json_t *pt = json_object_get(g, "policy");
        c->policy_len = json_string_length(pt);
        if ((c->policy_text = malloc(c->policy_len + 1)) == NULL) {
            r = kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
            goto fail;
        }
        memcpy(c->policy_text, json_string_value(pt), c->policy_len + 1);
    }
    for (i = 0; i < nfds; i++)
        if (fds[i] >= 0) close(fds[i]);
    c->pid = (int)json_integer_value(json_object_get(g, "pid"));
    c->vk = vk;
    kiln_vk_set_backend(
        vk, json_is_true(json_object_get(g, "exec")) ? &kilnd_backend_exec : &kilnd_backend, c);
    json_decref(hj);
    json_decref(g);
    free(txt);
    *out = c;
    return 0;
fail:
    for (i = 0; i < nfds; i++)
        if (fds[i] >= 0) close(fds[i]);
    json_decref(hj);
    json_decref(g);
    free(txt);
    if (c->sock >= 0) close(c->sock);
    free(c->policy_text);
    free(c);
    return r < 0 ? r : -KILN_E_IO;
}

/* Seals the process (seccomp deny-list of authority-gaining calls); see kilnd.h. */
int kiln_kilnd_seal(void)
{
#if defined(__x86_64__)
    static const int deny[] = {__NR_open,
                               __NR_openat,
                               __NR_openat2,
                               __NR_creat,
                               __NR_socket,
                               __NR_connect,
                               __NR_bind,
                               __NR_listen,
                               __NR_accept,
                               __NR_accept4,
                               __NR_mkdir,
                               __NR_mkdirat,
                               __NR_unlink,
                               __NR_unlinkat,
                               __NR_rmdir,
                               __NR_rename,
                               __NR_renameat,
                               __NR_renameat2,
                               __NR_link,
                               __NR_linkat,
                               __NR_symlink,
                               __NR_symlinkat,
                               __NR_mknod,
                               __NR_mknodat,
                               __NR_truncate,
                               __NR_chmod,
                               __NR_fchmodat,
                               __NR_chown,
                               __NR_lchown,
                               __NR_fchownat,
                               __NR_execve,
                               __NR_execveat,
                               __NR_io_uring_setup,
                               __NR_open_by_handle_at,
                               __NR_name_to_handle_at};
    enum { N = sizeof deny / sizeof deny[0] };
    struct sock_filter f[N + 7];
    struct sock_fprog prog;
    int i, k = 0;
    f[k++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    /* x32 calls (nr | 0x40000000): refused */
    f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, N + 1, 0);
    for (i = 0; i < N; i++)
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deny[i],
                                              (unsigned char)(N - i), 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    prog.len = (unsigned short)k;
    prog.filter = f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
        return errno ? -errno : -ESRCH;
    return 0;
#else
    return -ENOSYS;
#endif
}

/* See kilnd.h. */
bool kiln_kilnd_lost(const struct kiln_kilnd *c)
{
    return c != NULL && c->lost;
}

static int g_watch_fd = -1;
static void (*g_watch_hup)(void);
static char g_watch_who[32];

/* Waits for the connection to hang up; then lets the main thread stop the
 * guest (on_hup) and, if it has not ended the process a second later (the
 * guest is blocked in a host call), ends it here. */
static void *watch_main(void *arg)
{
    struct pollfd p;
    struct timespec grace = {1, 0};
    char msg[96];
    int n;
    (void)arg;
    p.fd = g_watch_fd;
    p.events = POLLRDHUP;
    for (;;) {
        p.revents = 0;
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p.revents & POLLNVAL) return NULL; /* closed by the main thread at exit */
        if (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) break;
    }
    if (g_watch_hup != NULL) g_watch_hup();
    while (nanosleep(&grace, &grace) < 0 && errno == EINTR) {
    }
    n = snprintf(msg, sizeof msg, "%s: kilnd connection lost (hangup): failing closed\n",
                 g_watch_who);
    if (n > 0 && write(2, msg, (size_t)n) < 0) {
    }
    _exit(125);
    return NULL;
}

/* See kilnd.h. */
int kiln_kilnd_watch(const struct kiln_kilnd *c, const char *who, void (*on_hup)(void))
{
    pthread_t t;
    pthread_attr_t a;
    int rc;
    if (c == NULL || c->sock < 0) return -EBADF;
    if (g_watch_fd >= 0) return -EBUSY; /* one connection per process */
    g_watch_fd = c->sock;
    g_watch_hup = on_hup;
    snprintf(g_watch_who, sizeof g_watch_who, "%s", who ? who : "kiln");
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 64 * 1024);
    rc = pthread_create(&t, &a, watch_main, NULL);
    pthread_attr_destroy(&a);
    if (rc != 0) g_watch_fd = -1;
    return -rc;
}

/* See kilnd.h. */
const char *kiln_kilnd_policy_text(const struct kiln_kilnd *c, size_t *len)
{
    if (len != NULL) *len = c != NULL && c->policy_text != NULL ? c->policy_len : 0;
    return c != NULL ? c->policy_text : NULL;
}

/* See kilnd.h. */
void kiln_kilnd_free(struct kiln_kilnd *c)
{
    if (c == NULL) return;
    if (c->sock >= 0) close(c->sock);
    free(c->policy_text);
    free(c);
}
