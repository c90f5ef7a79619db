/*
 * proto.c — packet send/receive with SCM_RIGHTS for the kilnd protocol
 * (proto.h). Every received fd is either handed to the caller or closed,
 * never leaked; sends never raise SIGPIPE.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vkernel/daemon/proto.h"

static int send_packet(int sock, const void *a, size_t alen, const void *b, size_t blen,
                       const int *fds, int nfds, size_t max);

/* Sends one packet; see proto.h. */
int kiln__kilnd_send(int sock, const void *a, size_t alen, const void *b, size_t blen,
                     const int *fds, int nfds)
{
    return send_packet(sock, a, alen, b, blen, fds, nfds, KILND_MSG_MAX);
}

/* Sends one control packet; see proto.h. */
int kiln__kilnd_send_ctl(int sock, const void *a, size_t alen, const void *b, size_t blen,
                         const int *fds, int nfds)
{
    return send_packet(sock, a, alen, b, blen, fds, nfds, KILND_CTL_MAX);
}

static int send_packet(int sock, const void *a, size_t alen, const void *b, size_t blen,
                       const int *fds, int nfds, size_t max)
{
    struct iovec iov[2];
    struct msghdr mh;
    union {
        char buf[CMSG_SPACE(sizeof(int) * KILND_MAX_FDS)];
        struct cmsghdr align;
    } u;
    ssize_t r;
    if (alen + blen > max || nfds > KILND_MAX_FDS) return -EMSGSIZE;
    memset(&mh, 0, sizeof mh);
    iov[0].iov_base = (void *)a;
    iov[0].iov_len = alen;
    iov[1].iov_base = (void *)b;
    iov[1].iov_len = blen;
    mh.msg_iov = iov;
    mh.msg_iovlen = blen ? 2 : 1;
    if (nfds > 0) {
        struct cmsghdr *c;
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    do {
        r = sendmsg(sock, &mh, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    return (size_t)r == alen + blen ? 0 : -EMSGSIZE;
}

/* Receives one packet; see proto.h. */
long kiln__kilnd_recv(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds)
{
    struct iovec iov;
    struct msghdr mh;
    union {
        char buf[CMSG_SPACE(sizeof(int) * KILND_MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct cmsghdr *c;
    ssize_t r;
    int got = 0, bad = 0;
    memset(&mh, 0, sizeof mh);
    iov.iov_base = buf;
    iov.iov_len = cap;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    *nfds = 0;
    do {
        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        size_t i, n;
        int *p;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        p = (int *)CMSG_DATA(c);
        for (i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, p + i, sizeof fd);
            if (got < maxfds)
                fds[got++] = fd;
            else
                close(fd);
        }
    }
    if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)r >= cap) bad = 1;
    if (bad) {
        while (got > 0)
            close(fds[--got]);
        return -EMSGSIZE;
    }
    *nfds = got;
    return (long)r;
}

/* Checks a received header; see proto.h. */
int kiln__kilnd_check(const void *buf, long len, size_t min)
{
    struct kilnd_hdr h;
    if (len < (long)sizeof h || (size_t)len < min) return -EPROTO;
    memcpy(&h, buf, sizeof h);
    if (h.magic != KILND_MAGIC || h.version != KILND_VERSION) return -EPROTO;
    return 0;
}
