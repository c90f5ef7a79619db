/* guest_pause.c — WASI guest for tests/cri: the pod sandbox ("pause")
 * program as a kiln unit, and a long-running workload.
 *   pause               prints "pause: ready", then sleeps forever (the
 *                       runtime stops it with SIGKILL: WASI has no signals)
 *   pause exit N MSG..  prints each MSG on its own line, exits with N
 *                       (what the test execs in a running container)
 *   pause alloc N       allocates and touches N MiB, then exits 0 (past a
 *                       memory limit the kernel kills it first) */
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
    if (argc > 2 && strcmp(argv[1], "alloc") == 0) {
        long mib = atol(argv[2]);
        printf("allocating %ld MiB\n", mib);
        fflush(stdout);
        for (long k = 0; k < mib; k++) {
            /* volatile: the compiler may not elide the allocation */
            volatile char *p = malloc(1 << 20);
            if (p == NULL) {
                printf("malloc failed after %ld MiB\n", k);
                return 3;
            }
            for (long i = 0; i < (1 << 20); i += 4096)
                p[i] = (char)k;
        }
        printf("allocated %ld MiB\n", mib);
        return 0;
    }
    printf("pause: ready\n");
    fflush(stdout);
    for (;;)
        sleep(3600);
}
