/*
 * sys_pipe.c — implements Linux pipe2(2): a host pipe whose two ends become
 * guest fds. Pipes between guest processes (daemon placement) come later.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "vkernel/vk.h"

/* implements Linux pipe2(2) (flags: O_NONBLOCK, O_CLOEXEC). */
int kiln_vk_pipe(struct kiln_vk *vk, int fds[2], int flags)
{
    const int S = KILN_VK_SYS_pipe2;
    int h[2], a, b, r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (flags & ~(O_NONBLOCK | O_CLOEXEC)) return kiln__ret(vk, S, -EINVAL);
    if (pipe2(h, O_CLOEXEC | (flags & O_NONBLOCK)) < 0) return kiln__ret(vk, S, -errno);
    a = kiln__fd_alloc(vk, h[0], KILN_VK_PIPE, 0, -1, NULL);
    if (a < 0) {
        close(h[0]);
        close(h[1]);
        return kiln__ret(vk, S, a);
    }
    b = kiln__fd_alloc(vk, h[1], KILN_VK_PIPE, 0, -1, NULL);
    if (b < 0) {
        kiln__fd_release(vk, a);
        close(h[1]);
        return kiln__ret(vk, S, b);
    }
    vk->fds[a].oflags = O_RDONLY | (flags & O_NONBLOCK);
    vk->fds[b].oflags = O_WRONLY | (flags & O_NONBLOCK);
    fds[0] = a;
    fds[1] = b;
    return 0;
}
