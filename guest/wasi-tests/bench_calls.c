/* bench_calls.c — per-call cost of common WASI operations, measured inside
 * the guest (not a test; run by hand under kiln exec, node and natively):
 *   bench_calls DIR [N]   (stdout should go to /dev/null or a file; results
 *   are printed on stderr) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

#define BENCH(label, n, body)                                                                      \
    do {                                                                                           \
        double t0 = now();                                                                         \
        for (long i_ = 0; i_ < (n); i_++) {                                                        \
            body;                                                                                  \
        }                                                                                          \
        fprintf(stderr, "%-28s %9.1f ns/op\n", label, (now() - t0) / (double)(n));                 \
    } while (0)

int main(int argc, char **argv)
{
    const char *d = argc > 1 ? argv[1] : ".";
    long n = argc > 2 ? atol(argv[2]) : 100000;
    static char buf[4096];
    char path[512];
    int fd;
    struct timespec ts;
    memset(buf, 'x', sizeof buf);
    snprintf(path, sizeof path, "%s/bench.dat", d);
    fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != sizeof buf) return 1;
    BENCH("write 64B (stdout)", n, (void)!write(1, buf, 64));
    BENCH("write 4KiB (stdout)", n, (void)!write(1, buf, 4096));
    BENCH("pread 64B (file)", n, (void)!pread(fd, buf, 64, 0));
    BENCH("pread 4KiB (file)", n, (void)!pread(fd, buf, 4096, 0));
    BENCH("open+close", n / 4, close(open(path, O_RDONLY)));
    BENCH("clock_gettime", n, clock_gettime(CLOCK_MONOTONIC, &ts));
    close(fd);
    unlink(path);
    return 0;
}
