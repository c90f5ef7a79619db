/*
 * sys_socket.c — sockets: the host-side listener (kiln exec --listen),
 * implements Linux accept4(2), recvmsg(2), sendmsg(2) and shutdown(2).
 *
 * Guests cannot create sockets in this ABI level; they receive preopened
 * listening sockets, checked against the policy's network rules when created
 * (direction "listen") and audited ("bind"); each accepted connection is
 * audited ("accept") with the peer address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vkernel/vk.h"

static void addr_str(const struct sockaddr_storage *ss, char *b, size_t n, int *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, b, (socklen_t)n);
        *port = ntohs(s6->sin6_port);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const void *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, b, (socklen_t)n);
        *port = ntohs(s4->sin_port);
    } else {
        snprintf(b, n, "unix");
        *port = 0;
    }
}

/* Creates a preopened listening socket; see vkernel.h. */
int kiln_vk_listen(struct kiln_vk *vk, const char *spec, struct kiln_error *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char addr[80], *colon;
    const char *rest;
    long port;
    int s = -1, one = 1, fd;
    memset(&ss, 0, sizeof ss);
    if (strncmp(spec, "tcp:", 4) != 0)
        return kiln_error_set(err, KILN_E_ARG, "--listen %s: expected tcp:ADDR:PORT", spec);
    rest = spec + 4;
    colon = strrchr(rest, ':');
    if (colon == NULL || (size_t)(colon - rest) >= sizeof addr)
        return kiln_error_set(err, KILN_E_ARG, "--listen %s: expected tcp:ADDR:PORT", spec);
    memcpy(addr, rest, (size_t)(colon - rest));
    addr[colon - rest] = 0;
    port = strtol(colon + 1, &colon, 10);
    if (*colon || port < 0 || port > 65535)
        return kiln_error_set(err, KILN_E_ARG, "--listen %s: bad port", spec);
    if (addr[0] == '[') {
        struct sockaddr_in6 *s6 = (void *)&ss;
        size_t l = strlen(addr);
        if (l < 2 || addr[l - 1] != ']')
            return kiln_error_set(err, KILN_E_ARG, "--listen %s: bad address", spec);
        memmove(addr, addr + 1, l - 2);
        addr[l - 2] = 0;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
            return kiln_error_set(err, KILN_E_ARG, "--listen %s: bad address", spec);
        sl = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (void *)&ss;
        if (addr[0] == 0) snprintf(addr, sizeof addr, "0.0.0.0");
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
            return kiln_error_set(err, KILN_E_ARG, "--listen %s: bad address", spec);
        sl = sizeof *s4;
    }
    vk->sys[KILN_VK_SYS_bind].calls++;
    if (vk->policy != NULL) {
        const char *rule;
        if (kiln__policy_net(vk->policy, "listen", "tcp", addr, (int)port, &rule) < 0) {
            char p[128];
            snprintf(p, sizeof p, "tcp:%s:%ld", addr, port);
            kiln__audit_deny(vk, "bind", p, EACCES, rule);
            vk->sys[KILN_VK_SYS_bind].errors++;
            return kiln_error_set(err, KILN_E_DENIED, "--listen %s: denied by policy (%s)", spec,
                                  rule);
        }
    }
    s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return kiln_error_sys(err, errno, "--listen %s: socket", spec);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&ss, sl) < 0 || listen(s, 128) < 0) {
        kiln_error_sys(err, errno, "--listen %s", spec);
        close(s);
        return -KILN_E_IO;
    }
    sl = sizeof ss;
    getsockname(s, (struct sockaddr *)&ss, &sl);
    fd = kiln__fd_alloc(vk, s, KILN_VK_LISTENER, KILN_VK_FD_PREOPEN, -1, NULL);
    if (fd < 0) {
        close(s);
        return kiln_error_sys(err, -fd, "--listen %s", spec);
    }
    vk->fds[fd].oflags = O_RDWR;
    {
        char a[80];
        int p;
        addr_str(&ss, a, sizeof a, &p);
        kiln__audit(vk, "bind", "\"proto\":\"tcp\",\"address\":\"%s\",\"port\":%d,\"fd\":%d", a, p,
                    fd);
    }
    return fd;
}

/* implements Linux accept4(2) on a preopened listener. */
int kiln_vk_accept(struct kiln_vk *vk, int fd, int flags)
{
    KILN__FORWARD(vk, accept, fd, flags);
    const int S = KILN_VK_SYS_accept4;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct kiln_vk_fd *f;
    int h, g, r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if ((f = kiln__fd(vk, fd)) == NULL) return kiln__ret(vk, S, -EBADF);
    if (f->kind != KILN_VK_LISTENER)
        return kiln__ret(vk, S, f->kind == KILN_VK_SOCKET ? -EINVAL : -ENOTSOCK);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return kiln__ret(vk, S, -EINVAL);
    h = accept4(f->host, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | (flags & SOCK_NONBLOCK));
    if (h < 0) return kiln__ret(vk, S, -errno);
    g = kiln__fd_alloc(vk, h, KILN_VK_SOCKET, 0, -1, NULL);
    if (g < 0) {
        close(h);
        return kiln__ret(vk, S, g);
    }
    vk->fds[g].oflags = O_RDWR | ((flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
    if (kiln__audit_grants(vk)) {
        char a[80];
        int p;
        addr_str(&ss, a, sizeof a, &p);
        kiln__audit(vk, "accept", "\"listener\":%d,\"fd\":%d,\"peer\":\"%s\",\"port\":%d", fd, g, a,
                    p);
    }
    return g;
}

static struct kiln_vk_fd *sock_fd(struct kiln_vk *vk, int fd, int *e)
{
    struct kiln_vk_fd *f = kiln__fd(vk, fd);
    if (f == NULL) {
        *e = -EBADF;
        return NULL;
    }
    if (f->kind != KILN_VK_SOCKET && f->kind != KILN_VK_DGRAM && f->kind != KILN_VK_LISTENER) {
        *e = -ENOTSOCK;
        return NULL;
    }
    return f;
}

/* implements Linux recvmsg(2) without addresses or control data. */
ssize_t kiln_vk_recv(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int flags,
                     int *flags_out)
{
    const int S = KILN_VK_SYS_recvmsg;
    struct kiln_vk_fd *f;
    struct msghdr mh;
    ssize_t r;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = sock_fd(vk, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (flags & ~(MSG_PEEK | MSG_WAITALL) || n < 0 || n > IOV_MAX) return kiln__ret(vk, S, -EINVAL);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)n;
    r = recvmsg(f->host, &mh, flags);
    if (r < 0) return kiln__ret(vk, S, -errno);
    *flags_out = mh.msg_flags;
    return r;
}

/* implements Linux sendmsg(2) (never raises SIGPIPE: EPIPE instead). */
ssize_t kiln_vk_send(struct kiln_vk *vk, int fd, const struct iovec *iov, int n, int flags)
{
    const int S = KILN_VK_SYS_sendmsg;
    struct kiln_vk_fd *f;
    struct msghdr mh;
    ssize_t r;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = sock_fd(vk, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (flags != 0 || n < 0 || n > IOV_MAX) return kiln__ret(vk, S, -EINVAL);
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)n;
    r = sendmsg(f->host, &mh, MSG_NOSIGNAL);
    return r < 0 ? kiln__ret(vk, S, -errno) : r;
}

/* implements Linux shutdown(2). */
int kiln_vk_shutdown(struct kiln_vk *vk, int fd, int how)
{
    const int S = KILN_VK_SYS_shutdown;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = sock_fd(vk, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    return shutdown(f->host, how) < 0 ? kiln__ret(vk, S, -errno) : 0;
}

/* implements Linux socket(2) (inet families only); see vkernel.h. */
int kiln_vk_socket(struct kiln_vk *vk, int domain, int type, int protocol)
{
    KILN__FORWARD(vk, socket, domain, type, protocol);
    const int S = KILN_VK_SYS_socket;
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), h, g;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (domain != AF_INET && domain != AF_INET6) return kiln__ret(vk, S, -EAFNOSUPPORT);
    if (base != SOCK_STREAM && base != SOCK_DGRAM) return kiln__ret(vk, S, -EINVAL);
    h = socket(domain, base | SOCK_CLOEXEC | (type & SOCK_NONBLOCK), protocol);
    if (h < 0) return kiln__ret(vk, S, -errno);
    g = kiln__fd_alloc(vk, h, base == SOCK_STREAM ? KILN_VK_SOCKET : KILN_VK_DGRAM, 0, -1, NULL);
    if (g < 0) {
        close(h);
        return kiln__ret(vk, S, g);
    }
    vk->fds[g].oflags = O_RDWR | ((type & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
    return g;
}

/* Address text, port and protocol of a guest sockaddr for the policy.
 * Returns 0 or -EINVAL / -EAFNOSUPPORT. */
static int net_target(const struct kiln_vk_fd *f, const struct sockaddr *sa, size_t len, char *addr,
                      size_t asz, int *port, const char **proto)
{
    struct sockaddr_storage ss;
    int type = 0;
    socklen_t tl = sizeof type;
    if (sa == NULL || len < sizeof(sa_family_t) || len > sizeof ss) return -EINVAL;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, sa, len);
    if (ss.ss_family == AF_INET && len < sizeof(struct sockaddr_in)) return -EINVAL;
    if (ss.ss_family == AF_INET6 && len < sizeof(struct sockaddr_in6)) return -EINVAL;
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return -EAFNOSUPPORT;
    addr_str(&ss, addr, asz, port);
    getsockopt(f->host, SOL_SOCKET, SO_TYPE, &type, &tl);
    *proto = type == SOCK_DGRAM ? "udp" : "tcp";
    return 0;
}

/* connect/bind share the policy check and the audit. */
static int net_op(struct kiln_vk *vk, int S, const char *dir, int fd, const struct sockaddr *sa,
                  size_t len)
{
    struct kiln_vk_fd *f;
    char addr[80], what[128];
    const char *proto = "tcp", *rule = "";
    int port = 0, e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = sock_fd(vk, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if ((e = net_target(f, sa, len, addr, sizeof addr, &port, &proto)) < 0)
        return kiln__ret(vk, S, e);
    snprintf(what, sizeof what, "%s:%s:%d", proto, addr, port);
    if (vk->policy != NULL && kiln__policy_net(vk->policy, dir, proto, addr, port, &rule) < 0) {
        kiln__audit_deny(vk, kiln_vk_sys_name(S), what, EACCES, rule);
        return kiln__ret(vk, S, -EACCES);
    }
    e = S == KILN_VK_SYS_connect ? connect(f->host, sa, (socklen_t)len)
                                 : bind(f->host, sa, (socklen_t)len);
    if (e < 0 && !(S == KILN_VK_SYS_connect && errno == EINPROGRESS))
        return kiln__ret(vk, S, -errno);
    if (kiln__audit_grants(vk))
        kiln__audit(vk, S == KILN_VK_SYS_connect ? "connect" : "bind",
                    "\"proto\":\"%s\",\"address\":\"%s\",\"port\":%d,\"fd\":%d", proto, addr, port,
                    fd);
    return e < 0 ? kiln__ret(vk, S, -EINPROGRESS) : 0;
}

/* implements Linux connect(2); see vkernel.h. */
int kiln_vk_connect(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len)
{
    KILN__FORWARD(vk, connect, fd, sa, len);
    return net_op(vk, KILN_VK_SYS_connect, "connect", fd, sa, len);
}

/* implements Linux bind(2); see vkernel.h. */
int kiln_vk_bind(struct kiln_vk *vk, int fd, const struct sockaddr *sa, size_t len)
{
    KILN__FORWARD(vk, bind, fd, sa, len);
    return net_op(vk, KILN_VK_SYS_bind, "listen", fd, sa, len);
}

/* implements Linux listen(2); see vkernel.h. */
int kiln_vk_listen_fd(struct kiln_vk *vk, int fd, int backlog)
{
    KILN__FORWARD(vk, listen_fd, fd, backlog);
    const int S = KILN_VK_SYS_listen;
    struct kiln_vk_fd *f;
    int e = kiln__enter(vk, S);
    if (e < 0) return kiln__ret(vk, S, e);
    if ((f = sock_fd(vk, fd, &e)) == NULL) return kiln__ret(vk, S, e);
    if (f->kind != KILN_VK_SOCKET && f->kind != KILN_VK_LISTENER)
        return kiln__ret(vk, S, -EOPNOTSUPP);
    if (listen(f->host, backlog) < 0) return kiln__ret(vk, S, -errno);
    f->kind = KILN_VK_LISTENER;
    return 0;
}
