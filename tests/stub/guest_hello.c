/* guest_hello.c — WASI guest for tests/stub: prints a greeting, its
 * arguments and KILN_STUB_TEST from the environment; exits with argv[1].
 * argv[1] "trap" traps (unreachable); "spin" loops forever (time limits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *v = getenv("KILN_STUB_TEST");
    volatile unsigned long n = 0;
    int i;
    printf("hello from a signed unit\n");
    for (i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    if (v != NULL) printf("env: %s\n", v);
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "trap") == 0) __builtin_trap();
    if (argc > 1 && strcmp(argv[1], "spin") == 0)
        for (;;)
            n++;
    return argc > 1 ? atoi(argv[1]) : 0;
}
