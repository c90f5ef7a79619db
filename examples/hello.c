/*
 * hello.c — a WASI command (wasm32-wasi, wasi-libc): prints a greeting and its arguments.
 * The first guest `kiln run` runs once WASI lands; built by examples/CMakeLists.txt.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello from kiln\n");
    for (int i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    return 0;
}
