/*
 * aot_libc_test.c — src/wasm/aot/aot_libc.c (the C library subset linked
 * into every AOT object) against glibc: memcpy, memmove (both overlap
 * directions, distances 1..100), memset, memcmp and memchr over every
 * length 0..600 and long ones up to 5000 at several alignments (every
 * size class: overlapping small copies, 32-byte vector loop, rep-string
 * from 2048), memcmp's exact difference at every position, memchr on
 * buffers that end at a PROT_NONE page (its aligned-block reads must not
 * cross it) and with n = SIZE_MAX, and
 * the rounding functions bit for bit on special values, halfway cases and
 * random bit patterns (NaN excluded: aot_rt.h's wrappers handle NaN first);
 * the copies and fills from KX_HOST_COPY bytes, which call the host's glibc
 * through kx_rt (aot_libc_test.h counts the calls), up to 2 MiB.
 * Exit 0 when everything matches; the first mismatch is printed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "aot_libc_test.h"

#define N 5200
static uint8_t a[N + 64], b[N + 64], src[N + 64];
static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond) && failures++ < 10) {                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 131u + seed * 7u) ^ (i >> 3));
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void mem_tests(void)
{
    static const size_t offs[] = {0, 1, 3, 7, 8, 15};
    for (size_t oi = 0; oi < sizeof offs / sizeof offs[0]; oi++)
        for (size_t oj = 0; oj < sizeof offs / sizeof offs[0]; oj++)
            for (size_t n = 0; n <= 5000; n += n < 40     ? 1
                                               : n < 600  ? 7
                                               : n < 2040 ? 331
                                               : n < 2060 ? 1
                                                          : 997) {
                size_t d = offs[oi], s = offs[oj];
                /* memcpy (disjoint) */
                fill(src, sizeof src, (unsigned)n);
                fill(a, sizeof a, 1);
                fill(b, sizeof b, 1);
                CHECK(kxt_memcpy(a + d, src + s, n) == a + d, "memcpy return");
                memcpy(b + d, src + s, n);
                CHECK(!memcmp(a, b, sizeof a), "memcpy n=%zu d=%zu s=%zu", n, d, s);
                /* memmove, both directions of overlap, several distances */
                for (int dir = 0; dir < 16; dir++) {
                    static const size_t dist[8] = {1, 9, 16, 31, 32, 33, 64, 100};
                    size_t x = dir & 1 ? d + dist[dir / 2] : d, y = dir & 1 ? s : s + dist[dir / 2];
                    fill(a, sizeof a, (unsigned)n + 3);
                    fill(b, sizeof b, (unsigned)n + 3);
                    if (x + n > sizeof a || y + n > sizeof a) continue;
                    CHECK(kxt_memmove(a + x, a + y, n) == a + x, "memmove return");
                    memmove(b + x, b + y, n);
                    CHECK(!memcmp(a, b, sizeof a), "memmove n=%zu to %zu from %zu", n, x, y);
                }
                /* memset */
                fill(a, sizeof a, 2);
                fill(b, sizeof b, 2);
                CHECK(kxt_memset(a + d, 0xa5 + (int)n, n) == a + d, "memset return");
                memset(b + d, 0xa5 + (int)n, n);
                CHECK(!memcmp(a, b, sizeof a), "memset n=%zu d=%zu", n, d);
                /* memcmp: equal, then one byte differing at each of a few places */
                fill(a, sizeof a, 5);
                fill(b, sizeof b, 5);
                CHECK(kxt_memcmp(a + d, b + s, n) == 0 || d != s, "memcmp equal n=%zu", n);
                CHECK(sign(kxt_memcmp(a + d, b + s, n)) == sign(memcmp(a + d, b + s, n)),
                      "memcmp n=%zu d=%zu s=%zu", n, d, s);
                if (n > 0) {
                    size_t at = (n * 5) / 7;
                    memcpy(b + d, a + d, n);
                    b[d + at] ^= 0x81;
                    CHECK(kxt_memcmp(a + d, b + d, n) == memcmp(a + d, b + d, n) ||
                              sign(kxt_memcmp(a + d, b + d, n)) == sign(memcmp(a + d, b + d, n)),
                          "memcmp diff n=%zu at %zu", n, at);
                    CHECK(kxt_memcmp(a + d, b + d, n) == (int)a[d + at] - (int)b[d + at],
                          "memcmp value n=%zu", n);
                }
                /* memchr: absent, and present at a few places (first hit wins) */
                memset(a, 1, sizeof a);
                CHECK(kxt_memchr(a + d, 0, n) == NULL, "memchr absent n=%zu", n);
                if (n > 0) {
                    a[d + n - 1] = 0;
                    a[d + (n - 1) / 2] = 0;
                    CHECK(kxt_memchr(a + d, 0, n) == memchr(a + d, 0, n), "memchr n=%zu d=%zu", n,
                          d);
                    a[d + n - 1] = 200;
                    CHECK(kxt_memchr(a + d, 200, n) == memchr(a + d, 200, n), "memchr 200 n=%zu",
                          n);
                }
            }
}

static uint64_t bits64(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}
static uint32_t bits32(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static void check_d(double x)
{
    if (x != x) return;
    CHECK(bits64(kxt_trunc(x)) == bits64(trunc(x)), "trunc(%a)", x);
    CHECK(bits64(kxt_floor(x)) == bits64(floor(x)), "floor(%a)", x);
    CHECK(bits64(kxt_ceil(x)) == bits64(ceil(x)), "ceil(%a)", x);
    CHECK(bits64(kxt_rint(x)) == bits64(rint(x)), "rint(%a)", x);
    CHECK(bits64(kxt_nearbyint(x)) == bits64(nearbyint(x)), "nearbyint(%a)", x);
    if (x >= 0) CHECK(bits64(kxt_sqrt(x)) == bits64(sqrt(x)), "sqrt(%a)", x);
}

static void check_f(float x)
{
    if (x != x) return;
    CHECK(bits32(kxt_truncf(x)) == bits32(truncf(x)), "truncf(%a)", (double)x);
    CHECK(bits32(kxt_floorf(x)) == bits32(floorf(x)), "floorf(%a)", (double)x);
    CHECK(bits32(kxt_ceilf(x)) == bits32(ceilf(x)), "ceilf(%a)", (double)x);
    CHECK(bits32(kxt_rintf(x)) == bits32(rintf(x)), "rintf(%a)", (double)x);
    CHECK(bits32(kxt_nearbyintf(x)) == bits32(nearbyintf(x)), "nearbyintf(%a)", (double)x);
    if (x >= 0) CHECK(bits32(kxt_sqrtf(x)) == bits32(sqrtf(x)), "sqrtf(%a)", (double)x);
}

static void round_tests(void)
{
    static const double sp[] = {0.0,
                                0.5,
                                1.0,
                                1.5,
                                2.5,
                                0.49999999999999994,
                                0x1p52,
                                0x1p52 - 0.5,
                                0x1p53,
                                0x1p63,
                                0x1p64,
                                1e300,
                                0x1p-1074,
                                0x1p-1022,
                                4503599627370497.0,
                                (double)INFINITY};
    static const float fsp[] = {0.0f,        0.5f,    1.0f,           1.5f,       2.5f,
                                0.49999997f, 0x1p23f, 0x1p23f - 0.5f, 0x1p24f,    0x1p31f,
                                0x1p32f,     3e38f,   0x1p-149f,      8388609.0f, INFINITY};
    uint64_t r = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        check_d(sp[i]);
        check_d(-sp[i]);
        for (int k = -3; k <= 3; k++)
            check_d(sp[i] + k * 0.25);
    }
    for (size_t i = 0; i < sizeof fsp / sizeof fsp[0]; i++) {
        check_f(fsp[i]);
        check_f(-fsp[i]);
        for (int k = -3; k <= 3; k++)
            check_f(fsp[i] + (float)k * 0.25f);
    }
    for (int i = 0; i < 2000000; i++) {
        double x;
        float f;
        uint32_t u;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        memcpy(&x, &r, 8);
        check_d(x);
        check_d(x * 0x1p-1000); /* small and mid magnitudes too */
        u = (uint32_t)(r >> 32);
        memcpy(&f, &u, 4);
        check_f(f);
        check_d((double)(int64_t)(r >> 11) / 1024.0);
        check_f((float)(int32_t)u / 64.0f);
    }
}

/* memcmp's exact difference at every position; memchr next to a PROT_NONE page and unbounded */
static void edge_tests(void)
{
    size_t pg = 4096;
    uint8_t *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED && mprotect(m + pg, pg, PROT_NONE) == 0, "mmap");
    if (m == MAP_FAILED) return;
    for (size_t n = 1; n <= 100; n++)
        for (size_t at = 0; at < n; at++) {
            fill(a, n + 16, 9);
            memcpy(b, a, n + 16);
            b[at + 3] = (uint8_t)(b[at + 3] + 1 + (at & 0x7f));
            CHECK(kxt_memcmp(a + 3, b + 3, n) == (int)a[at + 3] - (int)b[at + 3] &&
                      kxt_memcmp(b + 3, a + 3, n) == (int)b[at + 3] - (int)a[at + 3],
                  "memcmp n=%zu diff at %zu", n, at);
        }
    for (size_t n = 0; n <= 300; n++)
        for (size_t at = 0; at <= n; at++) { /* [p, p+n) ends at the guard page; c at `at` */
            uint8_t *p = m + pg - n;
            memset(m, 7, pg);
            if (at < n) p[at] = 0xe1;
            CHECK(kxt_memchr(p, 0xe1, n) == (at < n ? p + at : NULL), "memchr guard n=%zu at %zu",
                  n, at);
            if (at < n)
                CHECK(kxt_memchr(p, 0x1e1, SIZE_MAX) == p + at, "memchr unbounded n=%zu", n);
        }
    munmap(m, 2 * pg);
}

/* The long operations that call the host's glibc through kx_rt (from KX_HOST_COPY bytes): the
 * host is called exactly from that length, and the results are glibc's, at lengths around it and
 * far above (2 MiB: glibc's non-temporal copies), every overlap direction and distance from 1 to
 * n - 1, unaligned */
static void host_tests(void)
{
    static const size_t lens[] = {KX_HOST_COPY - 1, KX_HOST_COPY,     KX_HOST_COPY + 1, 1000,
                                  4093,             65536 + 3,        (1u << 21) + 5};
    size_t cap = (1u << 21) * 2 + 256;
    uint8_t *x = malloc(cap), *y = malloc(cap);
    CHECK(x && y, "malloc");
    if (!x || !y) goto out;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t n = lens[li];
        int host = n >= KX_HOST_COPY;
        unsigned long h0;
        const size_t dist[] = {1, 7, 64, 100, n / 2, n - 1, n, n + 33};
        fill(x, cap, (unsigned)n);
        memcpy(y, x, cap);
        h0 = kxt_host_calls;
        CHECK(kxt_memcpy(x + 3, x + n + 100, n) == x + 3, "memcpy return");
        memcpy(y + 3, y + n + 100, n);
        CHECK(!memcmp(x, y, cap), "host memcpy n=%zu", n);
        CHECK((kxt_host_calls - h0 == 1) == host, "memcpy n=%zu: host called %lu", n,
              kxt_host_calls - h0);
        for (size_t di = 0; di < sizeof dist / sizeof dist[0]; di++)
            for (int dir = 0; dir < 2; dir++) {
                size_t to = dir ? 5 + dist[di] : 5, from = dir ? 5 : 5 + dist[di];
                h0 = kxt_host_calls;
                CHECK(kxt_memmove(x + to, x + from, n) == x + to, "memmove return");
                memmove(y + to, y + from, n);
                CHECK(!memcmp(x, y, cap), "host memmove n=%zu to %zu from %zu", n, to, from);
                CHECK((kxt_host_calls - h0 == 1) == host, "memmove n=%zu: host called %lu", n,
                      kxt_host_calls - h0);
            }
        h0 = kxt_host_calls;
        CHECK(kxt_memset(x + 9, 0x1c5, n) == x + 9, "memset return");
        memset(y + 9, 0x1c5, n);
        CHECK(!memcmp(x, y, cap), "host memset n=%zu", n);
        CHECK((kxt_host_calls - h0 == 1) == host, "memset n=%zu: host called %lu", n,
              kxt_host_calls - h0);
    }
out:
    free(x);
    free(y);
}

int main(void)
{
    mem_tests();
    edge_tests();
    host_tests();
    round_tests();
    if (failures) {
        printf("aot_libc: %d mismatches\n", failures);
        return 1;
    }
    printf("aot_libc: memcpy/memmove/memset/memcmp/memchr and rounding match glibc\n");
    return 0;
}
