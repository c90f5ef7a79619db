/*
 * sys_proc.c — guest processes: implements spawn (a posix_spawn-like
 * execve(2)), wait4(2), kill(2) and getpid(2) for the core.
 *
 * Processes are shared state of a container, so they live in the daemon
 * placement: kilnd keeps the container's process table (its pid namespace),
 * checks the policy's "exec" list and the unit's signature, starts the unit
 * and collects exit codes (docs/guest-proc.md, docs/kilnd-protocol.md).
 * These functions forward to the backend; kilnd counts, checks and audits
 * them. Embedded (no backend) the guest is pid 1 alone: spawn -ENOSYS, wait
 * -ECHILD, kill -ENOSYS for itself and -ESRCH for anyone else, each counted
 * and checked against the policy's syscall rules like every core call.
 */
#include <errno.h>

#include "vkernel/vk.h"

/* implements spawn; see vkernel.h. */
int kiln_vk_spawn(struct kiln_vk *vk, const char *path, size_t len, int argc, char *const *argv,
                  int nenv, char *const *env, const int stdio[3])
{
    const int S = KILN_VK_SYS_execve;
    int r;
    KILN__FORWARD(vk, spawn, path, len, argc, argv, nenv, env, stdio);
    if ((r = kiln__enter(vk, S)) < 0) return kiln__ret(vk, S, r);
    return kiln__ret(vk, S, -ENOSYS);
}

/* implements wait4; see vkernel.h. */
int kiln_vk_wait(struct kiln_vk *vk, int pid, int *status, int options)
{
    const int S = KILN_VK_SYS_wait4;
    int r;
    KILN__FORWARD(vk, wait, pid, status, options);
    if ((r = kiln__enter(vk, S)) < 0) return kiln__ret(vk, S, r);
    if (options & ~KILN_VK_WNOHANG) return kiln__ret(vk, S, -EINVAL);
    return kiln__ret(vk, S, -ECHILD);
}

/* implements kill; see vkernel.h. */
int kiln_vk_kill(struct kiln_vk *vk, int pid, int sig)
{
    const int S = KILN_VK_SYS_kill;
    int r;
    KILN__FORWARD(vk, kill, pid, sig);
    if ((r = kiln__enter(vk, S)) < 0) return kiln__ret(vk, S, r);
    if (sig < 0 || sig > 31 || pid <= 0) return kiln__ret(vk, S, -EINVAL);
    return kiln__ret(vk, S, pid == 1 ? -ENOSYS : -ESRCH);
}

/* implements getpid; see vkernel.h. */
int kiln_vk_getpid(struct kiln_vk *vk)
{
    if (vk->be != NULL && vk->be->getpid != NULL) return vk->be->getpid(vk);
    vk->sys[KILN_VK_SYS_getpid].calls++;
    return 1;
}

/* See vkernel.h. */
bool kiln_vk_can_spawn(const struct kiln_vk *vk)
{
    return vk->be != NULL && vk->be->spawn != NULL;
}
