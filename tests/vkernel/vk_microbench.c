/*
 * vk_microbench.c — per-call cost of the vkernel core against the same host
 * calls made directly (not a test: prints ns/op; run by hand).
 *   vk_microbench [ITERATIONS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kiln/vkernel.h"

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
        printf("%-34s %8.1f ns/op\n", label, (now() - t0) / (n));                                  \
    } while (0)

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    char dir[] = "/tmp/kiln-bench-XXXXXX", path[64], buf[4096];
    struct kiln_vk *vk;
    struct kiln_error err;
    int root, hd, nul, gnul, gfile, hfile;
    struct iovec v64 = {buf, 64}, v4k = {buf, 4096};
    memset(buf, 'x', sizeof buf);
    if (mkdtemp(dir) == NULL) return 1;
    snprintf(path, sizeof path, "%s/f", dir);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    truncate(path, 8192);
    kiln_vk_new(&vk, &err);
    root = kiln_vk_mount(vk, dir, "/", 0, &err);
    hd = open(dir, O_RDONLY | O_DIRECTORY);
    nul = open("/dev/null", O_WRONLY);
    gnul = kiln_vk_install_fd(vk, 10, open("/dev/null", O_WRONLY), 0);
    hfile = open(path, O_RDONLY);
    gfile = kiln_vk_openat(vk, root, "f", 1, O_RDONLY, 0);

    BENCH("native writev 64B /dev/null", n, writev(nul, &v64, 1));
    BENCH("vkernel writev 64B /dev/null", n, kiln_vk_writev(vk, gnul, &v64, 1));
    BENCH("native writev 4KiB /dev/null", n, writev(nul, &v4k, 1));
    BENCH("vkernel writev 4KiB /dev/null", n, kiln_vk_writev(vk, gnul, &v4k, 1));
    BENCH("native preadv 64B file", n, preadv(hfile, &v64, 1, 0));
    BENCH("vkernel preadv 64B file", n, kiln_vk_preadv(vk, gfile, &v64, 1, 0));
    BENCH("native preadv 4KiB file", n, preadv(hfile, &v4k, 1, 0));
    BENCH("vkernel preadv 4KiB file", n, kiln_vk_preadv(vk, gfile, &v4k, 1, 0));
    BENCH("native openat+close", n / 4, close(openat(hd, "f", O_RDONLY | O_CLOEXEC)));
    BENCH("vkernel openat+close", n / 4,
          kiln_vk_close(vk, kiln_vk_openat(vk, root, "f", 1, O_RDONLY, 0)));
    {
        char a[64];
        snprintf(a, sizeof a, "%s/audit", dir);
        kiln_vk_open_audit(vk, a, &err);
        BENCH("vkernel openat+close (audited)", n / 4,
              kiln_vk_close(vk, kiln_vk_openat(vk, root, "f", 1, O_RDONLY, 0)));
        kiln_vk_set_audit_fd(vk, -1);
    }
    {
        struct timespec ts;
        BENCH("native clock_gettime", n, clock_gettime(CLOCK_MONOTONIC, &ts));
        BENCH("vkernel clock_gettime", n, kiln_vk_clock_gettime(vk, CLOCK_MONOTONIC, &ts));
    }
    kiln_vk_free(vk);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    return system(path) == 0 ? 0 : 1;
}
