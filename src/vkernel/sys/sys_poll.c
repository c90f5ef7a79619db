/*
 * sys_poll.c — implements Linux ppoll(2) over guest fds and FIONREAD.
 *
 * Guest fds are translated to host fds in a private array; an fd that is
 * not open gets POLLNVAL without reaching the host.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vkernel/vk.h"

#define POLL_MAX 4096

/* implements Linux ppoll(2); see vkernel.h. */
int kiln_vk_poll(struct kiln_vk *vk, struct kiln_vk_pollfd *fds, int n, int64_t timeout_ns)
{
    const int S = KILN_VK_SYS_ppoll;
    struct pollfd stackfds[64], *h = stackfds;
    struct timespec ts, *tsp = NULL;
    int i, r = kiln__enter(vk, S), ready = 0;
    if (r < 0) return kiln__ret(vk, S, r);
    if (n < 0 || n > POLL_MAX) return kiln__ret(vk, S, -EINVAL);
    if (n > 64 && (h = calloc((size_t)n, sizeof *h)) == NULL) return kiln__ret(vk, S, -ENOMEM);
    for (i = 0; i < n; i++) {
        const struct kiln_vk_fd *f = kiln__fd(vk, fds[i].fd);
        h[i].fd = f ? f->host : -1;
        h[i].events = fds[i].events;
        h[i].revents = 0;
        fds[i].revents = 0;
        if (f == NULL && fds[i].fd >= 0) {
            fds[i].revents = POLLNVAL;
            ready++;
        }
    }
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    if (ready > 0) {
        ts.tv_sec = ts.tv_nsec = 0;
        tsp = &ts;
    }
    do {
        r = ppoll(h, (nfds_t)n, tsp, NULL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        r = -errno;
        goto out;
    }
    for (i = 0; i < n; i++)
        if (h[i].fd >= 0) {
            fds[i].revents = h[i].revents;
        }
    r = 0;
    for (i = 0; i < n; i++)
        if (fds[i].revents) r++;
out:
    if (h != stackfds) free(h);
    return kiln__ret(vk, S, r);
}

/* Bytes readable without blocking; see vkernel.h. */
int64_t kiln_vk_nread(struct kiln_vk *vk, int fd)
{
    const struct kiln_vk_fd *f = kiln__fd(vk, fd);
    int v = 0;
    if (f == NULL) return -EBADF;
    if (f->kind == KILN_VK_FILE) {
        struct stat st;
        off_t pos = lseek(f->host, 0, SEEK_CUR);
        if (fstat(f->host, &st) < 0 || pos < 0) return -errno;
        return st.st_size > pos ? st.st_size - pos : 0;
    }
    if (ioctl(f->host, FIONREAD, &v) < 0) return -errno;
    return v;
}
