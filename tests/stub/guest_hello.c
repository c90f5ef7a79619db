/* guest_hello.c — WASI guest for tests/stub: prints a greeting, its
 * arguments and KILN_STUB_TEST from the environment; exits with argv[1]. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *v = getenv("KILN_STUB_TEST");
    int i;
    printf("hello from a signed unit\n");
    for (i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    if (v != NULL) printf("env: %s\n", v);
    return argc > 1 ? atoi(argv[1]) : 0;
}
