/* t_time.c — clocks, sleeping, randomness, sched_yield, poll with timeouts.
 * Prints only facts that hold on every run. usage: t_time DIR */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static long long ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
    struct timespec r;
    long long a, b;
    unsigned char buf[300], zero[64] = {0};
    int fd;
    (void)argc;
    printf("realtime after 2020: %d\n", time(NULL) > 1577836800);
    a = ns(CLOCK_MONOTONIC);
    {
        struct timespec s = {0, 20000000};
        SHOW("nanosleep", nanosleep(&s, NULL));
    }
    b = ns(CLOCK_MONOTONIC);
    printf("slept >= 20ms: %d\n", b - a >= 20000000LL);
    SHOW("clock_getres realtime", clock_getres(CLOCK_REALTIME, &r));
    printf("res positive: %d\n", r.tv_sec > 0 || r.tv_nsec > 0);
    SHOW("clock_getres monotonic", clock_getres(CLOCK_MONOTONIC, &r));
    a = ns(CLOCK_PROCESS_CPUTIME_ID);
    for (volatile int i = 0; i < 3000000; i++)
        ;
    b = ns(CLOCK_PROCESS_CPUTIME_ID);
    printf("cputime advances: %d\n", b > a);
    SHOW("getentropy", getentropy(buf, sizeof zero));
    printf("random not zero: %d\n", memcmp(buf, zero, sizeof zero) != 0);
    SHOW("getentropy too big", getentropy(buf, 257));
    SHOW("sched_yield", sched_yield());
    /* poll: a regular file is always readable; a timeout-only poll sleeps */
    fd = open(P(argv[1], "p.txt"), O_CREAT | O_RDWR, 0644);
    write(fd, "abc", 3);
    lseek(fd, 0, SEEK_SET);
    {
        struct pollfd p = {fd, POLLIN, 0};
        int k = poll(&p, 1, 1000);
        printf("poll file: %d revents POLLIN %d\n", k, (p.revents & POLLIN) != 0);
        p.events = POLLOUT;
        k = poll(&p, 1, 1000);
        printf("poll file out: %d revents POLLOUT %d\n", k, (p.revents & POLLOUT) != 0);
    }
    a = ns(CLOCK_MONOTONIC);
    {
        int k = poll(NULL, 0, 30);
        printf("poll timeout: %d\n", k);
    }
    b = ns(CLOCK_MONOTONIC);
    printf("waited >= 30ms: %d\n", b - a >= 30000000LL);
    close(fd);
    unlink(P(argv[1], "p.txt"));
    return 0;
}
