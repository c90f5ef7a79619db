/*
 * t_proc.c — a wasm32-wasi test guest for guest processes through kilnd
 * (docs/guest-proc.md): calls the "kiln_proc" import module directly.
 * Run by tests/kilnd/run_kilnd_test.sh under `kiln exec --kilnd`; the same
 * module is the child it spawns (argv[1] picks the role; a spawned child's
 * argv[0] is the spawn's path).
 *
 *   exit N                 print argv[0], exit with code N
 *   produce N              write N lines to stdout
 *   consume                read stdin to EOF, print it upper-cased and a count
 *   sleep                  sleep until killed
 *   getpid                 print the pid in the container
 *   spawnwait PATH N       spawn PATH "exit N", wait, print the status
 *   pipeline PATH N        PATH "produce N" | PATH "consume" through a pipe
 *   killsibling PATH SIG   spawn PATH "sleep", kill it with SIG, wait
 *   waitsleeper PATH       spawn PATH "sleep" and wait for it (until stopped)
 *   kill PID SIG           kill PID, print the result
 *   spawn PATH             try to spawn PATH "exit 0", print the result
 *   wait                   wait with no child: ECHILD
 *   cat PATH               read PATH's first line, print it or the errno
 *   write PATH             create PATH and write to it, print the result
 *   spawnrun PATH ARGS...  spawn PATH with ARGS (stdio: ours), wait, print the status
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IMPORT(n) __attribute__((import_module("kiln_proc"), import_name(n)))
IMPORT("spawn")
int32_t kp_spawn(const char *path, uint32_t plen, const char *argv, uint32_t alen, uint32_t argc,
                 const char *env, uint32_t elen, uint32_t nenv, const int32_t *stdio,
                 int32_t *pid_out);
IMPORT("wait") int32_t kp_wait(int32_t pid, int32_t options, int32_t *status, int32_t *pid_out);
IMPORT("kill") int32_t kp_kill(int32_t pid, int32_t sig);
IMPORT("pipe") int32_t kp_pipe(int32_t *fds);
IMPORT("getpid") int32_t kp_getpid(void);

static const char *ename(int e)
{
    switch (e) {
    case 0:
        return "ok";
    case 2:
        return "EACCES";
    case 6:
        return "EAGAIN";
    case 8:
        return "EBADF";
    case 12:
        return "ECHILD";
    case 28:
        return "EINVAL";
    case 44:
        return "ENOENT";
    case 45:
        return "ENOEXEC";
    case 52:
        return "ENOSYS";
    case 63:
        return "EPERM";
    case 69:
        return "EROFS";
    case 71:
        return "ESRCH";
    case 76:
        return "ENOTCAPABLE";
    default:
        return "EOTHER";
    }
}

/* Spawns path with args (NULL-terminated) and stdio; returns errno, *pid. */
static int spawn(const char *path, const char *const *args, const int32_t stdio[3], int32_t *pid)
{
    char buf[512];
    uint32_t n = 0, argc = 0;
    size_t l = strlen(path) + 1;
    memcpy(buf, path, l); /* argv[0] */
    n += (uint32_t)l;
    argc++;
    for (; *args; args++, argc++) {
        l = strlen(*args) + 1;
        memcpy(buf + n, *args, l);
        n += (uint32_t)l;
    }
    return kp_spawn(path, (uint32_t)strlen(path), buf, n, argc, "K=v", 4, 1, stdio, pid);
}

static void status_line(const char *who, int32_t pid, int32_t st)
{
    if ((st & 0x7f) == 0)
        printf("%s pid %d exited with code %d\n", who, pid, (st >> 8) & 0xff);
    else
        printf("%s pid %d killed by signal %d\n", who, pid, st & 0x7f);
}

int main(int argc, char **argv)
{
    const int32_t own[3] = {-1, -1, -1};
    int32_t pid = 0, st = 0, got = 0;
    int e;
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "exit") && argc > 2) {
        printf("argv0 %s\n", argv[0]);
        return atoi(argv[2]);
    }
    if (!strcmp(argv[1], "produce") && argc > 2) {
        for (int i = 0; i < atoi(argv[2]); i++)
            printf("line %d from pid %d\n", i, kp_getpid());
        return 0;
    }
    if (!strcmp(argv[1], "consume")) {
        char b[4096];
        size_t n, total = 0, lines = 0;
        while ((n = fread(b, 1, sizeof b, stdin)) > 0) {
            for (size_t i = 0; i < n; i++) {
                if (b[i] >= 'a' && b[i] <= 'z') b[i] = (char)(b[i] - 32);
                lines += b[i] == '\n';
            }
            fwrite(b, 1, n, stdout);
            total += n;
        }
        printf("consumer pid %d: %zu lines, %zu bytes\n", kp_getpid(), lines, total);
        return 0;
    }
    if (!strcmp(argv[1], "sleep")) {
        printf("sleeper pid %d\n", kp_getpid());
        fflush(stdout);
        for (;;) {
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!strcmp(argv[1], "getpid")) {
        printf("pid %d\n", kp_getpid());
        return 0;
    }
    if (!strcmp(argv[1], "spawnwait") && argc > 3) {
        const char *args[] = {"exit", argv[3], NULL};
        e = spawn(argv[2], args, own, &pid);
        printf("spawn: %s (parent pid %d, child pid %d)\n", ename(e), kp_getpid(), pid);
        if (e) return 1;
        e = kp_wait(pid, 0, &st, &got);
        printf("wait: %s\n", ename(e));
        status_line("child", got, st);
        e = kp_wait(-1, 1, &st, &got);
        printf("wait again: %s\n", ename(e));
        return 0;
    }
    if (!strcmp(argv[1], "pipeline") && argc > 3) {
        int32_t fds[2], p1 = 0, p2 = 0, s1 = 0, s2 = 0, g;
        const char *pa[] = {"produce", argv[3], NULL}, *ca[] = {"consume", NULL};
        if ((e = kp_pipe(fds)) != 0) {
            printf("pipe: %s\n", ename(e));
            return 1;
        }
        int32_t out[3] = {-1, fds[1], -1}, in[3] = {fds[0], -1, -1};
        e = spawn(argv[2], pa, out, &p1);
        printf("spawn producer: %s\n", ename(e));
        e |= spawn(argv[2], ca, in, &p2);
        close(fds[0]);
        close(fds[1]);
        fflush(stdout);
        if (e) return 1;
        for (int k = 0; k < 2; k++) {
            if (kp_wait(-1, 0, &st, &g) != 0) return 1;
            if (g == p1) s1 = st;
            if (g == p2) s2 = st;
        }
        status_line("producer", p1, s1);
        status_line("consumer", p2, s2);
        return 0;
    }
    if (!strcmp(argv[1], "killsibling") && argc > 3) {
        const char *args[] = {"sleep", NULL};
        int32_t wn = 0, fds[2];
        char line[64] = "";
        ssize_t n;
        /* the sleeper's stdout is a pipe: its first line says it runs */
        if (kp_pipe(fds) != 0) return 1;
        int32_t out[3] = {-1, fds[1], -1};
        e = spawn(argv[2], args, out, &pid);
        printf("spawn sleeper: %s\n", ename(e));
        fflush(stdout);
        close(fds[1]);
        if (e) return 1;
        n = read(fds[0], line, sizeof line - 1);
        printf("from the sleeper: %s", n > 0 ? line : "nothing\n");
        /* not exited: WNOHANG finds nothing */
        e = kp_wait(pid, 1, &st, &wn);
        printf("wait WNOHANG: %s, %d\n", ename(e), wn);
        e = kp_kill(pid, atoi(argv[3]));
        printf("kill: %s\n", ename(e));
        e = kp_wait(pid, 0, &st, &got);
        printf("wait: %s\n", ename(e));
        status_line("sleeper", got, st);
        e = kp_kill(pid, atoi(argv[3]));
        printf("kill again: %s\n", ename(e));
        return 0;
    }
    if (!strcmp(argv[1], "waitsleeper") && argc > 2) {
        const char *args[] = {"sleep", NULL};
        e = spawn(argv[2], args, own, &pid);
        printf("spawn sleeper: %s, pid %d\n", ename(e), pid);
        fflush(stdout);
        if (e) return 1;
        e = kp_wait(pid, 0, &st, &got); /* until we are stopped */
        printf("wait: %s\n", ename(e));
        return 0;
    }
    if (!strcmp(argv[1], "kill") && argc > 3) {
        e = kp_kill(atoi(argv[2]), atoi(argv[3]));
        printf("kill %s: %s\n", argv[2], ename(e));
        return 0;
    }
    if (!strcmp(argv[1], "spawn") && argc > 2) {
        const char *args[] = {"exit", "0", NULL};
        e = spawn(argv[2], args, own, &pid);
        printf("spawn %s: %s\n", argv[2], ename(e));
        if (e == 0 && kp_wait(pid, 0, &st, &got) == 0) status_line("child", got, st);
        return 0;
    }
    if (!strcmp(argv[1], "cat") && argc > 2) {
        char line[128] = "";
        FILE *f = fopen(argv[2], "r");
        if (f == NULL) {
            printf("cat %s: %s\n", argv[2], ename(errno));
            return 0;
        }
        if (fgets(line, sizeof line, f) == NULL) line[0] = 0;
        line[strcspn(line, "\n")] = 0;
        printf("cat %s: ok %s\n", argv[2], line);
        fclose(f);
        return 0;
    }
    if (!strcmp(argv[1], "write") && argc > 2) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL) {
            printf("write %s: %s\n", argv[2], ename(errno));
            return 0;
        }
        e = fputs("written\n", f) < 0 ? errno : 0;
        if (fclose(f) != 0 && e == 0) e = errno;
        printf("write %s: %s\n", argv[2], ename(e));
        return 0;
    }
    if (!strcmp(argv[1], "spawnrun") && argc > 2) {
        e = spawn(argv[2], (const char *const *)argv + 3, own, &pid);
        printf("spawnrun %s: %s\n", argv[2], ename(e));
        fflush(stdout);
        if (e) return 1;
        e = kp_wait(pid, 0, &st, &got);
        if (e == 0) status_line("child", got, st);
        return 0;
    }
    if (!strcmp(argv[1], "wait")) {
        e = kp_wait(-1, 0, &st, &got);
        printf("wait: %s\n", ename(e));
        return 0;
    }
    return 2;
}
