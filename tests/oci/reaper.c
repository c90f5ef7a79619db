/* reaper.c — tests/oci helper: `reaper FILE CMD ARGS...` runs CMD as a child
 * subreaper (as containerd's shim is), so container processes orphaned by
 * `kiln-oci create` are reaped here; each is appended to FILE as
 * "PID exit N" or "PID signal N". Exits with CMD's status once CMD ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    pid_t cmd, w;
    int st;
    if (argc < 3) {
        fprintf(stderr, "usage: reaper FILE CMD ARGS...\n");
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        perror("PR_SET_CHILD_SUBREAPER");
        return 2;
    }
    cmd = fork();
    if (cmd < 0) return 2;
    if (cmd == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    for (;;) {
        w = wait(&st);
        if (w < 0) {
            if (errno == EINTR) continue;
            return 2;
        }
        if (w == cmd) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        FILE *f = fopen(argv[1], "a");
        if (f) {
            if (WIFEXITED(st))
                fprintf(f, "%d exit %d\n", (int)w, WEXITSTATUS(st));
            else
                fprintf(f, "%d signal %d\n", (int)w, WTERMSIG(st));
            fclose(f);
        }
    }
}
