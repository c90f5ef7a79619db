/*
 * sys_time.c — clocks and sleeping: implements Linux clock_gettime(2),
 * clock_getres(2), clock_nanosleep(2) and sched_yield(2). Only the four
 * clocks a guest may name are accepted (others: EINVAL), so a guest cannot
 * probe host clocks by number.
 */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "vkernel/vk.h"

static bool clock_ok(int c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_PROCESS_CPUTIME_ID ||
           c == CLOCK_THREAD_CPUTIME_ID;
}

/* implements Linux clock_gettime(2). */
int kiln_vk_clock_gettime(struct kiln_vk *vk, int clock, struct timespec *ts)
{
    const int S = KILN_VK_SYS_clock_gettime;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (!clock_ok(clock)) return kiln__ret(vk, S, -EINVAL);
    return clock_gettime(clock, ts) < 0 ? kiln__ret(vk, S, -errno) : 0;
}

/* implements Linux clock_getres(2). */
int kiln_vk_clock_getres(struct kiln_vk *vk, int clock, struct timespec *ts)
{
    const int S = KILN_VK_SYS_clock_getres;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (!clock_ok(clock)) return kiln__ret(vk, S, -EINVAL);
    return clock_getres(clock, ts) < 0 ? kiln__ret(vk, S, -errno) : 0;
}

/* implements Linux clock_nanosleep(2); restarts after signals. */
int kiln_vk_nanosleep(struct kiln_vk *vk, int clock, int flags, const struct timespec *ts)
{
    const int S = KILN_VK_SYS_clock_nanosleep;
    struct timespec req = *ts, rem;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return kiln__ret(vk, S, -EINVAL);
    if (flags & ~TIMER_ABSTIME || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L || ts->tv_sec < 0)
        return kiln__ret(vk, S, -EINVAL);
    while ((r = clock_nanosleep(clock, flags, &req, &rem)) == EINTR)
        if (!(flags & TIMER_ABSTIME)) req = rem;
    return r ? kiln__ret(vk, S, -r) : 0;
}

/* implements Linux sched_yield(2). */
int kiln_vk_sched_yield(struct kiln_vk *vk)
{
    const int S = KILN_VK_SYS_sched_yield;
    int r = kiln__enter(vk, S);
    if (r < 0) return kiln__ret(vk, S, r);
    sched_yield();
    return 0;
}
