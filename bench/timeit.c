/*
 * timeit.c — runs a command R times and reports the median wall-clock and CPU (user+system)
 * time of its process tree and the last line it printed, for bench/run.
 *
 *   timeit R CMD [ARGS...]
 *   prints: "ok WALL_MEDIAN CPU_MEDIAN WALL_MIN LAST_LINE"   (seconds), exit 0
 *       or: "fail STATUS LAST_LINE" if any run exits non-zero or is killed, exit 1
 *
 * CPU time comes from wait4()'s rusage, so it counts the command's own threads (node's JIT and
 * GC threads included) and is far less disturbed than wall time when other jobs share the cores.
 * The command's stdout is captured (last 4 KiB kept); its stderr passes through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 64
#define TAIL 4096

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs argv once; fills *wall, *cpu and tail (the last line of stdout). Returns the wait status
 * or -1 if the command could not be started. */
static int run_once(char **argv, double *wall, double *cpu, char *tail)
{
    int fds[2], status = 0;
    size_t len = 0;
    char buf[TAIL];
    struct rusage ru;
    if (pipe(fds) < 0) return -1;
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "timeit: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t r;
        if (len == sizeof buf) { /* keep only the last half */
            memmove(buf, buf + TAIL / 2, TAIL / 2);
            len = TAIL / 2;
        }
        r = read(fds[0], buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fds[0]);
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) return -1;
    *wall = now() - t0;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    size_t start = len;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    memcpy(tail, buf + start, len - start);
    tail[len - start] = 0;
    return status;
}

int main(int argc, char **argv)
{
    double wall[MAX_RUNS], cpu[MAX_RUNS];
    char tail[TAIL + 1] = "";
    int runs;
    if (argc < 3 || (runs = atoi(argv[1])) < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: timeit RUNS(1..%d) CMD [ARGS...]\n", MAX_RUNS);
        return 2;
    }
    for (int i = 0; i < runs; i++) {
        int st = run_once(argv + 2, &wall[i], &cpu[i], tail);
        if (st != 0) {
            printf("fail %d %s\n",
                   st < 0          ? -1
                   : WIFEXITED(st) ? WEXITSTATUS(st)
                                   : 128 + WTERMSIG(st),
                   tail);
            return 1;
        }
    }
    qsort(wall, (size_t)runs, sizeof wall[0], cmp_double);
    qsort(cpu, (size_t)runs, sizeof cpu[0], cmp_double);
    printf("ok %.4f %.4f %.4f %s\n", wall[runs / 2], cpu[runs / 2], wall[0], tail);
    return 0;
}
