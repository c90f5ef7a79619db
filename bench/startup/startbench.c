/*
 * startbench.c — measures the time from execve of a program to its first
 * own instruction (bench/startup/run).
 *
 *   startbench RUNS PROGRAM
 *
 * Each run forks; the child reads CLOCK_MONOTONIC immediately before
 * execve(PROGRAM, [PROGRAM, "<t0 ns>"]). The program (the bench guest, as a
 * signed unit or natively built) prints "t0=<argv[1]> first=<ns>" with the
 * clock read as the first statement of its main(); a timing build of kiln-stub also prints
 * "kiln-stub-timing main=... read=... ... run_start=..." on stderr. The
 * parent also notes when the child has exited.
 *
 * Output: one line per quantity with the median and min over RUNS, in
 * microseconds:
 *   exec_to_first  execve -> the guest's main (the number that matters)
 *   exit           execve -> the child reaped
 *   exec_to_main   execve -> the stub's main (kernel exec + libc start)
 *   setup          stub config, vkernel, trust store (before reading the unit)
 *   read parse sig hash harden decode   (stub phases, from its timing line)
 *   instantiate    the stub calling kiln_wasi_run -> the guest's main
 *                  (link, instantiate, data segments, wasi-libc start-up)
 * A run whose program fails or prints no "first=" line aborts with exit 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
    Q_FIRST,
    Q_EXIT,
    Q_MAIN,
    Q_SETUP,
    Q_READ,
    Q_PARSE,
    Q_SIG,
    Q_HASH,
    Q_HARDEN,
    Q_DECODE,
    Q_INST,
    NQ
};
static const char *const qname[NQ] = {"exec_to_first", "exit",   "exec_to_main", "setup",
                                      "read",          "parse",  "sig",          "hash",
                                      "harden",        "decode", "instantiate"};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads all of fd into buf (NUL-terminated). */
static void slurp(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        n += (size_t)r;
    }
    buf[n] = 0;
}

static uint64_t field(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

int main(int argc, char **argv)
{
    int runs, r, q;
    uint64_t *v[NQ];
    int have_stub = 0;
    if (argc != 3 || (runs = atoi(argv[1])) < 1) {
        fprintf(stderr, "usage: startbench RUNS PROGRAM\n");
        return 2;
    }
    for (q = 0; q < NQ; q++)
        v[q] = calloc((size_t)runs, sizeof(uint64_t));
    for (r = 0; r < runs; r++) {
        int out[2], err[2], status;
        char obuf[4096], ebuf[8192];
        uint64_t t0, first, done;
        pid_t pid;
        if (pipe(out) < 0 || pipe(err) < 0) return 1;
        /* the child's t0 reaches the parent through the program, which
         * echoes its argv[1] as "t0=" next to "first=" */
        pid = fork();
        if (pid == 0) {
            char t0s[32];
            dup2(out[1], 1);
            dup2(err[1], 2);
            close(out[0]);
            close(err[0]);
            t0 = now_ns();
            snprintf(t0s, sizeof t0s, "%llu", (unsigned long long)t0);
            execl(argv[2], argv[2], t0s, (char *)NULL);
            _exit(127);
        }
        close(out[1]);
        close(err[1]);
        slurp(out[0], obuf, sizeof obuf);
        slurp(err[0], ebuf, sizeof ebuf);
        close(out[0]);
        close(err[0]);
        waitpid(pid, &status, 0);
        done = now_ns();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strstr(obuf, "first=") == NULL) {
            fprintf(stderr, "startbench: %s: status %#x\nstdout: %s\nstderr: %s\n", argv[2], status,
                    obuf, ebuf);
            return 1;
        }
        first = field(obuf, "first=");
        t0 = field(obuf, "t0=");
        v[Q_FIRST][r] = first - t0;
        v[Q_EXIT][r] = done - t0;
        if (strstr(ebuf, "kiln-stub-timing") != NULL) {
            have_stub = 1;
            v[Q_MAIN][r] = field(ebuf, "main=") - t0;
            v[Q_SETUP][r] = field(ebuf, "setup=");
            v[Q_READ][r] = field(ebuf, "read=");
            v[Q_PARSE][r] = field(ebuf, "parse=");
            v[Q_SIG][r] = field(ebuf, "sig=");
            v[Q_HASH][r] = field(ebuf, "hash=");
            v[Q_HARDEN][r] = field(ebuf, "harden=");
            v[Q_DECODE][r] = field(ebuf, "decode=");
            v[Q_INST][r] = first - field(ebuf, "run_start=");
        }
    }
    for (q = 0; q < NQ; q++) {
        if (q >= Q_MAIN && !have_stub) break;
        qsort(v[q], (size_t)runs, sizeof(uint64_t), cmp_u64);
        printf("%s %.1f %.1f\n", qname[q], v[q][runs / 2] / 1000.0, v[q][0] / 1000.0);
    }
    return 0;
}
