/* guest_pause.c — WASI guest for tests/cri: the pod sandbox ("pause")
 * program as a kiln unit, and a long-running workload.
 *   pause               prints "pause: ready", then sleeps forever (the
 *                       runtime stops it with SIGKILL: WASI has no signals)
 *   pause exit N MSG..  prints each MSG on its own line, exits with N
 *                       (what the test execs in a running container) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "exit") == 0) {
        for (int i = 3; i < argc; i++)
            printf("%s\n", argv[i]);
        return atoi(argv[2]);
    }
    printf("pause: ready\n");
    fflush(stdout);
    for (;;)
        sleep(3600);
}
