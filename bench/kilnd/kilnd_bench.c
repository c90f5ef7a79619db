/*
 * kilnd_bench.c — N containers on one kilnd: memory per container and
 * authority calls per second (bench/kilnd/run drives it; README.md there
 * has the figures). A measurement, not a test.
 *
 *   kilnd_bench SOCK KILND_PID PREFIX NIDLE NBUSY SECONDS PATH
 *
 * 1. memory of kilnd alone (its parent process, no workers);
 * 2. attaches one connection (a unit) to each of the NIDLE containers
 *    PREFIX0 .. PREFIX<NIDLE-1> from this one process (each gets its own
 *    worker) and reports the attach time and the memory of kilnd's parent
 *    plus all workers (RSS and PSS from /proc/PID/smaps_rollup), per
 *    container;
 * 3. NBUSY processes, each attached to its own container
 *    PREFIX<NIDLE+j>, open+close PATH (absolute in the container) as fast
 *    as they can for SECONDS; reports the total calls per second (one
 *    open, the authority call, per iteration; close stays local) and the
 *    memory again.
 * Output lines start with "bench:" and are key=value for the runner.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kiln/kilnd.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Rss and Pss (kB) of one process. */
static void mem_of(int pid, long *rss, long *pss)
{
    char path[64], line[256];
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    *rss = *pss = 0;
    if ((f = fopen(path, "r")) == NULL) return;
    while (fgets(line, sizeof line, f) != NULL) {
        sscanf(line, "Rss: %ld kB", rss);
        sscanf(line, "Pss: %ld kB", pss);
    }
    fclose(f);
}

/* kilnd's parent and its worker children (spawned units excluded: their
 * command line is kiln's). */
static void mem_kilnd(int kpid, long *prss, long *ppss, long *wrss, long *wpss, int *nw)
{
    char path[96], buf[65536], exe[64], self[4096], other[4096];
    FILE *f;
    char *tok, *save = NULL;
    ssize_t n;
    mem_of(kpid, prss, ppss);
    *wrss = *wpss = 0;
    *nw = 0;
    snprintf(exe, sizeof exe, "/proc/%d/exe", kpid);
    n = readlink(exe, self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", kpid, kpid);
    if ((f = fopen(path, "r")) == NULL) return;
    n = (ssize_t)fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n > 0 ? n : 0] = 0;
    for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
        long r, p;
        snprintf(exe, sizeof exe, "/proc/%s/exe", tok);
        n = readlink(exe, other, sizeof other - 1);
        other[n > 0 ? n : 0] = 0;
        if (strcmp(other, self) != 0) continue; /* not a worker */
        mem_of(atoi(tok), &r, &p);
        *wrss += r;
        *wpss += p;
        (*nw)++;
    }
}

/* System-wide kernel memory of processes (kB): kernel stacks, page tables. */
static long kernel_kb(void)
{
    char line[256];
    long v, sum = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "KernelStack: %ld kB", &v) == 1 ||
            sscanf(line, "PageTables: %ld kB", &v) == 1)
            sum += v;
    fclose(f);
    return sum;
}

static long kernel0;

static void report_mem(const char *when, int kpid, int ncont)
{
    long prss, ppss, wrss, wpss, k = kernel_kb();
    int nw;
    mem_kilnd(kpid, &prss, &ppss, &wrss, &wpss, &nw);
    if (ncont == 0) kernel0 = k;
    printf("bench: when=%s containers=%d workers=%d parent_rss_kb=%ld parent_pss_kb=%ld "
           "workers_rss_kb=%ld workers_pss_kb=%ld per_container_pss_kb=%.1f "
           "per_container_rss_kb=%.1f kernel_stack_pagetables_delta_kb=%ld\n",
           when, ncont, nw, prss, ppss, wrss, wpss, nw ? (double)(wpss + ppss) / nw : 0.0,
           nw ? (double)wrss / nw : 0.0, k - kernel0);
}

static int attach(const char *sock, const char *id, struct kiln_vk **vk, struct kiln_kilnd **kc)
{
    struct kiln_kilnd_hello h;
    struct kiln_error err;
    memset(&h, 0, sizeof h);
    memset(&err, 0, sizeof err);
    h.container = id;
    h.abi = "wasi_snapshot_preview1";
    h.unit_name = "kilnd_bench";
    h.unit_fd = -1;
    if (kiln_vk_new(vk, &err) < 0 || kiln_kilnd_attach(*vk, sock, &h, NULL, kc, &err) < 0) {
        fprintf(stderr, "kilnd_bench: attach %s: %s\n", id, err.msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *sock, *prefix, *path;
    int kpid, nidle, nbusy, i, secs;
    struct kiln_vk **vks;
    struct kiln_kilnd **kcs;
    struct rlimit rl;
    char id[80];
    double t0;
    if (argc != 8) {
        fprintf(stderr, "usage: kilnd_bench SOCK KILND_PID PREFIX NIDLE NBUSY SECONDS PATH\n");
        return 2;
    }
    sock = argv[1];
    kpid = atoi(argv[2]);
    prefix = argv[3];
    nidle = atoi(argv[4]);
    nbusy = atoi(argv[5]);
    secs = atoi(argv[6]);
    path = argv[7];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    vks = calloc((size_t)nidle + 1, sizeof *vks);
    kcs = calloc((size_t)nidle + 1, sizeof *kcs);
    if (vks == NULL || kcs == NULL) return 3;
    report_mem("empty", kpid, 0);
    t0 = now();
    for (i = 0; i < nidle; i++) {
        snprintf(id, sizeof id, "%s%d", prefix, i);
        if (attach(sock, id, &vks[i], &kcs[i]) < 0) return 3;
    }
    if (nidle > 0) {
        printf("bench: when=attach containers=%d seconds=%.3f per_attach_ms=%.3f\n", nidle,
               now() - t0, (now() - t0) * 1000 / nidle);
        usleep(200000);
        report_mem("idle", kpid, nidle);
    }
    if (nbusy > 0) {
        int fds[64][2], k;
        long total = 0;
        double el = 0;
        for (k = 0; k < nbusy && k < 64; k++) {
            pid_t p;
            if (pipe(fds[k]) < 0) return 3;
            p = fork();
            if (p == 0) {
                struct kiln_vk *vk;
                struct kiln_kilnd *kc;
                long n = 0;
                double start, e;
                char msg[64];
                close(fds[k][0]);
                snprintf(id, sizeof id, "%s%d", prefix, nidle + k);
                if (attach(sock, id, &vk, &kc) < 0) _exit(3);
                start = now();
                do {
                    int g;
                    for (int j = 0; j < 256; j++) {
                        g = kiln_vk_openat(vk, KILN_VK_AT_ROOT, path, strlen(path), O_RDONLY, 0);
                        if (g < 0) _exit(4);
                        kiln_vk_close(vk, g);
                    }
                    n += 256;
                } while ((e = now() - start) < secs);
                snprintf(msg, sizeof msg, "%ld %.6f\n", n, e);
                if (write(fds[k][1], msg, strlen(msg)) < 0) _exit(5);
                kiln_vk_exit(vk, 0, "exit");
                _exit(0);
            }
            close(fds[k][1]);
        }
        usleep((useconds_t)secs * 500000); /* memory in the middle of the busy phase */
        report_mem("busy", kpid, nidle + nbusy);
        for (k = 0; k < nbusy && k < 64; k++) {
            char buf[64] = "";
            long n = 0;
            double e = 0;
            int st;
            if (read(fds[k][0], buf, sizeof buf - 1) > 0) sscanf(buf, "%ld %lf", &n, &e);
            close(fds[k][0]);
            wait(&st);
            total += n;
            if (e > el) el = e;
        }
        printf("bench: when=calls busy=%d idle=%d calls=%ld seconds=%.3f calls_per_s=%.0f "
               "per_container_calls_per_s=%.0f\n",
               nbusy, nidle, total, el, el > 0 ? total / el : 0.0,
               el > 0 ? total / el / nbusy : 0.0);
    }
    for (i = 0; i < nidle; i++) {
        kiln_vk_exit(vks[i], 0, "exit");
        kiln_vk_free(vks[i]);
        kiln_kilnd_free(kcs[i]);
    }
    free(vks);
    free(kcs);
    return 0;
}
