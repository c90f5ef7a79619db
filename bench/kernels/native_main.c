/*
 * native_main.c — the native driver of a benchmark kernel: `K-native N` prints run(N).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    printf("%d\n", (int)run((int32_t)atoi(argv[1])));
    return 0;
}
