/*
 * known_wbench.c — nanoseconds per call of libc string functions as a
 * program sees them: built for wasm32-wasi (clang -O2 -fno-builtin,
 * Debian's wasi-libc) and run by kiln (AOT: the fast paths of
 * src/wasm/aot/aot_known.h), or built natively (glibc) for reference.
 * A measuring tool, not a test:
 *   kiln-aot-exec --aot CACHE known_wbench.wasm [ROUNDS]
 * prints one Markdown row per function and size (8, 16, 48, 256, 4096
 * bytes: most calls in real programs are short, so the fixed cost per call
 * matters most): the minimum over ROUNDS (default 5) of the mean time per
 * call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *A, *B, *D, set2[3] = "Zz";
static volatile uintptr_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

enum { MEMCPY, MEMMOVE, MEMSET, MEMCMP, MEMCHR, STRLEN, STRCHR, STRCSPN, STRCMP, STRNCMP, NF };
static const char *const names[NF] = {"memcpy", "memmove", "memset",  "memcmp", "memchr",
                                      "strlen", "strchr",  "strcspn", "strcmp", "strncmp"};

static uintptr_t call(int f, size_t n)
{
    switch (f) {
    case MEMCPY:
        return (uintptr_t)memcpy(D, A, n);
    case MEMMOVE:
        return (uintptr_t)memmove(A + 7, A, n);
    case MEMSET:
        return (uintptr_t)memset(D, 'q', n);
    case MEMCMP:
        return (uintptr_t)memcmp(A, B, n);
    case MEMCHR:
        return (uintptr_t)memchr(A, 'Z', n);
    case STRLEN:
        return strlen(A);
    case STRCHR:
        return (uintptr_t)strchr(A, 'Z');
    case STRCSPN:
        return strcspn(A, set2);
    case STRCMP:
        return (uintptr_t)strcmp(A, B);
    default:
        return (uintptr_t)strncmp(A, B, n);
    }
}

/* strings of n bytes; the searched byte and the difference are the last ones */
static void setup(size_t n)
{
    for (size_t i = 0; i < n + 64; i++)
        A[i] = B[i] = (char)('a' + i % 23);
    A[n] = B[n] = 0;
    A[n - 1] = 'Z';
    B[n - 1] = 'Y';
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {8, 16, 48, 256, 4096};
    const int nsizes = (int)(sizeof sizes / sizeof sizes[0]);
    int rounds = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 5;
    char *buf = malloc(3 * 8192 + 64);
    if (!buf) return 1;
    A = buf + 1, B = buf + 8192 + 5, D = buf + 2 * 8192 + 3;
    printf("| function | bytes | ns per call |\n|---|---:|---:|\n");
    for (int f = 0; f < NF; f++)
        for (int s = 0; s < nsizes; s++) {
            size_t n = sizes[s];
            unsigned iters = n >= 4096 ? 20000 : 200000;
            double best = 1e30;
            for (int r = 0; r < rounds; r++) {
                double t0;
                setup(n);
                t0 = now();
                for (unsigned i = 0; i < iters; i++)
                    sink += call(f, n);
                t0 = (now() - t0) / iters;
                if (t0 < best) best = t0;
            }
            printf("| %s | %zu | %.1f |\n", names[f], n, best);
        }
    return 0;
}
