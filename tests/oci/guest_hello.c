/* guest_hello.c — WASI guest for tests/oci: prints a greeting, its
 * arguments and KILN_OCI_TEST from the environment; exits with argv[1].
 * argv[1] "wait": reads stdin to the end first (a long-running container);
 * "alloc N": allocates and touches N MiB (memory limit tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *v = getenv("KILN_OCI_TEST");
    int i;
    printf("hello from kiln-oci\n");
    for (i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    if (v != NULL) printf("env: %s\n", v);
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        char buf[256];
        long total = 0;
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0)
            total += n;
        printf("read %ld bytes\n", total);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "alloc") == 0) {
        long mib = atol(argv[2]), sum = 0;
        for (long k = 0; k < mib; k++) {
            /* volatile: the compiler may not elide the allocation */
            volatile char *p = malloc(1 << 20);
            if (!p) {
                printf("malloc failed after %ld MiB\n", k);
                return 3;
            }
            for (long i = 0; i < (1 << 20); i += 4096)
                p[i] = (char)k;
            sum += p[4096];
        }
        printf("allocated %ld MiB (%ld)\n", mib, sum & 1);
        return 0;
    }
    return argc > 1 ? atoi(argv[1]) : 0;
}
