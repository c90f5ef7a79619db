/* wasicall.c — per-call cost of the system calls WASI programs make most,
 * timed inside the program with clock_gettime(CLOCK_MONOTONIC) so the same
 * source measures native Linux, kiln and node's WASI alike.
 *
 *   wasicall [N]      (default N = 20000)
 *
 * Expects stdin to read from /dev/zero, stdout to go to /dev/null, and the
 * working directory (the preopen "/" under WASI) to hold a file "bench.dat".
 * For each operation, 5 rounds of N calls; prints the fastest round as
 * "op<TAB>ns per call" on stderr (stdout is the sink being measured):
 *   write64 / write4k   write(1, buf, 64 / 4096)          -> fd_write
 *   read64 / read4k     read(0, buf, 64 / 4096)           -> fd_read
 *   open_close          open("bench.dat", O_RDONLY)+close -> path_open + fd_close
 *   clock               clock_gettime(CLOCK_MONOTONIC)    -> clock_time_get
 * Exits 1 if any call fails. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5

static char buf[4096];

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int op_write64(void) { return write(1, buf, 64) == 64 ? 0 : -1; }
static int op_write4k(void) { return write(1, buf, 4096) == 4096 ? 0 : -1; }
static int op_read64(void) { return read(0, buf, 64) == 64 ? 0 : -1; }
static int op_read4k(void) { return read(0, buf, 4096) == 4096 ? 0 : -1; }

static int op_open_close(void)
{
    int fd = open("bench.dat", O_RDONLY);
    if (fd < 0)
        return -1;
    return close(fd);
}

static int op_clock(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts);
}

static const struct {
    const char *name;
    int (*fn)(void);
} ops[] = {
    {"write64", op_write64}, {"write4k", op_write4k},       {"read64", op_read64},
    {"read4k", op_read4k},   {"open_close", op_open_close}, {"clock", op_clock},
};

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n <= 0)
        n = 20000;
    memset(buf, 'x', sizeof buf);
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        double best = 0;
        for (int r = 0; r < ROUNDS; r++) {
            double t0 = now_ns();
            for (long i = 0; i < n; i++) {
                if (ops[k].fn() != 0) {
                    fprintf(stderr, "wasicall: %s failed at call %ld\n", ops[k].name, i);
                    return 1;
                }
            }
            double dt = (now_ns() - t0) / (double)n;
            if (r == 0 || dt < best)
                best = dt;
        }
        fprintf(stderr, "%s\t%.1f\n", ops[k].name, best);
    }
    return 0;
}
