/*
 * sys_random.c — implements Linux getrandom(2), always filling the whole
 * buffer (the guest never sees short reads or EINTR).
 */
#include <errno.h>
#include <sys/random.h>

#include "vkernel/vk.h"

/* implements Linux getrandom(2); returns len or -errno. */
ssize_t kiln_vk_getrandom(struct kiln_vk *vk, void *buf, size_t len)
{
    const int S = KILN_VK_SYS_getrandom;
    size_t off = 0;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    while (off < len) {
        ssize_t n = getrandom((char *)buf + off, len - off, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return kiln__ret(vk, S, -errno);
        off += (size_t)n;
    }
    return (ssize_t)len;
}
