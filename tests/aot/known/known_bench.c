/*
 * known_bench.c — nanoseconds per call of the AOT fast paths of well-known
 * libc functions (src/wasm/aot/aot_known.h, called as the generated
 * wrappers call them: wasm addresses, bounds from the memory size) and of
 * aot_libc.c's memcpy/memmove/memset/memcmp/memchr, next to glibc's, for
 * 16, 256 and 4096 bytes (or the SIZES given, each at most 57344). A
 * measuring tool, not a test (no CTest entry):
 *   aot-known-bench [ROUNDS [SIZES...]]
 * prints the minimum over ROUNDS (default 7) of the mean time per call.
 * Long operations reach glibc through kx_rt as in an object (aot_libc.c
 * from KX_HOST_COPY bytes, aot_known.h's scans past KX_K_HOST_SCAN), here
 * without rt.c's interrupt check after the call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define KXT_WITH_KNOWN /* the fast paths call aot_libc's copies, as in an object */
#include "../aot_libc_test.h"

#define MEMSZ (1u << 20)
static uint8_t *mem;
static volatile uint64_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* one benchmark: a call of fn(n) repeated; ns per call (minimum of rounds) */
typedef uint64_t (*bench_fn)(uint32_t n);
static int rounds = 7;
static double measure(bench_fn fn, uint32_t n)
{
    double best = 1e30;
    unsigned iters = n >= 4096 ? 20000 : 200000;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (unsigned i = 0; i < iters; i++)
            sink += fn(n);
        double t = (now() - t0) / iters;
        if (t < best) best = t;
    }
    return best;
}

/* argument layout: A at 4096+1, B at 65536+5 (unaligned, distinct), strings of n bytes */
#define A 4097u
#define B 65541u
static void setup(uint32_t n)
{
    memset(mem, 'a', MEMSZ);
    for (uint32_t i = 0; i < n; i++)
        mem[A + i] = mem[B + i] = (uint8_t)('a' + i % 23);
    mem[A + n] = mem[B + n] = 0;
    mem[A + n - 1] = 'Z';            /* the searched byte is the last one */
    mem[B + n - 1] = 'Y';            /* the difference is the last byte */
    strcpy((char *)mem + 200, "Zz"); /* a set of two bytes (LIKE's case pair) */
}

#define NI __attribute__((noinline))
NI static uint64_t g_memcpy(uint32_t n)
{
    return (uintptr_t)memcpy(mem + B + 8192, mem + A, n);
}
NI static uint64_t a_memcpy(uint32_t n)
{
    return (uintptr_t)kxt_memcpy(mem + B + 8192, mem + A, n);
}
NI static uint64_t k_memcpy(uint32_t n)
{
    return kx_k_memcpy(mem, MEMSZ, B + 8192, A, n);
}
NI static uint64_t g_memmove(uint32_t n)
{
    return (uintptr_t)memmove(mem + A + 7, mem + A, n);
}
NI static uint64_t a_memmove(uint32_t n)
{
    return (uintptr_t)kxt_memmove(mem + A + 7, mem + A, n);
}
NI static uint64_t k_memmove(uint32_t n)
{
    return kx_k_memmove(mem, MEMSZ, A + 7, A, n);
}
NI static uint64_t g_memset(uint32_t n)
{
    return (uintptr_t)memset(mem + B + 8192, 'q', n);
}
NI static uint64_t a_memset(uint32_t n)
{
    return (uintptr_t)kxt_memset(mem + B + 8192, 'q', n);
}
NI static uint64_t k_memset(uint32_t n)
{
    return kx_k_memset(mem, MEMSZ, B + 8192, 'q', n);
}
NI static uint64_t g_memcmp(uint32_t n)
{
    return (uint64_t)memcmp(mem + A, mem + B, n);
}
NI static uint64_t a_memcmp(uint32_t n)
{
    return (uint64_t)kxt_memcmp(mem + A, mem + B, n);
}
NI static uint64_t k_memcmp(uint32_t n)
{
    return kx_k_memcmp(mem, MEMSZ, A, B, n);
}
NI static uint64_t g_memchr(uint32_t n)
{
    return (uintptr_t)memchr(mem + A, 'Z', n);
}
NI static uint64_t a_memchr(uint32_t n)
{
    return (uintptr_t)kxt_memchr(mem + A, 'Z', n);
}
NI static uint64_t k_memchr(uint32_t n)
{
    return kx_k_memchr(mem, MEMSZ, A, 'Z', n);
}
NI static uint64_t g_strlen(uint32_t n)
{
    return (void)n, strlen((char *)mem + A);
}
NI static uint64_t k_strlen(uint32_t n)
{
    return (void)n, kx_k_strlen(mem, MEMSZ, A);
}
NI static uint64_t g_strchr(uint32_t n)
{
    return (void)n, (uintptr_t)strchr((char *)mem + A, 'Z');
}
NI static uint64_t k_strchr(uint32_t n)
{
    return (void)n, kx_k_strchr(mem, MEMSZ, A, 'Z');
}
NI static uint64_t g_strcspn(uint32_t n)
{
    return (void)n, strcspn((char *)mem + A, (char *)mem + 200);
}
NI static uint64_t k_strcspn(uint32_t n)
{
    return (void)n, kx_k_strcspn(mem, MEMSZ, A, 200);
}
NI static uint64_t g_strcmp(uint32_t n)
{
    return (void)n, (uint64_t)strcmp((char *)mem + A, (char *)mem + B);
}
NI static uint64_t k_strcmp(uint32_t n)
{
    return (void)n, kx_k_strcmp(mem, MEMSZ, A, B);
}
NI static uint64_t g_strncmp(uint32_t n)
{
    return (uint64_t)strncmp((char *)mem + A, (char *)mem + B, n);
}
NI static uint64_t k_strncmp(uint32_t n)
{
    return kx_k_strncmp(mem, MEMSZ, A, B, n);
}

static const struct {
    const char *name;
    bench_fn g, a, k; /* glibc, aot_libc, fast path */
} benches[] = {
    {"memcpy", g_memcpy, a_memcpy, k_memcpy}, {"memmove", g_memmove, a_memmove, k_memmove},
    {"memset", g_memset, a_memset, k_memset}, {"memcmp", g_memcmp, a_memcmp, k_memcmp},
    {"memchr", g_memchr, a_memchr, k_memchr}, {"strlen", g_strlen, NULL, k_strlen},
    {"strchr", g_strchr, NULL, k_strchr},     {"strcspn", g_strcspn, NULL, k_strcspn},
    {"strcmp", g_strcmp, NULL, k_strcmp},     {"strncmp", g_strncmp, NULL, k_strncmp},
};

int main(int argc, char **argv)
{
    uint32_t sizes[64] = {16, 256, 4096};
    size_t nsizes = 3;
    if (argc > 1) rounds = atoi(argv[1]) > 0 ? atoi(argv[1]) : rounds;
    if (argc > 2)
        for (nsizes = 0; nsizes < 64 && (int)nsizes + 2 < argc; nsizes++) {
            long v = atol(argv[nsizes + 2]);
            sizes[nsizes] = v < 1 ? 1 : v > 57344 ? 57344 : (uint32_t)v;
        }
    mem = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return 1;
    printf("| function | bytes | glibc ns | aot_libc ns | AOT fast path ns "
           "|\n|---|---:|---:|---:|---:|\n");
    for (size_t b = 0; b < sizeof benches / sizeof benches[0]; b++)
        for (size_t s = 0; s < nsizes; s++) {
            uint32_t n = sizes[s];
            double g, a = 0, k;
            setup(n);
            g = measure(benches[b].g, n);
            if (benches[b].a) a = measure(benches[b].a, n);
            k = measure(benches[b].k, n);
            printf("| %s | %u | %.1f | ", benches[b].name, n, g);
            if (benches[b].a)
                printf("%.1f", a);
            else
                printf("-");
            printf(" | %.1f |\n", k);
        }
    return 0;
}
