/*
 * known_prog.c — a wasm32-wasi program (clang -O2 -fno-builtin, linked
 * with Debian's wasi-libc) that calls every libc function the AOT
 * translator recognises (src/wasm/aot/translate_known.c) on many argument
 * patterns and prints a digest of the results per function and length;
 * tests/aot/known/known.sh runs it interpreted and AOT-compiled and wants
 * identical output. Patterns: lengths 0..300, every alignment 0..15, the
 * difference or the searched byte at every position, bytes >= 0x80, c == 0
 * and c > 255, strings and ranges that end exactly at the end of memory,
 * long operations (lengths around 512 and up to 60000, overlaps at every
 * distance class, musl's copies and memory.copy/memory.fill alike: longs()),
 * and (with an argument) one call whose bytes run past the end of memory,
 * which must trap the same way under both engines.
 *
 *   known_prog             the patterns; exit 0
 *   known_prog trap NAME   one out-of-bounds call of NAME (see traps[])
 *   known_prog depth NAME N  a recursion N deep that calls NAME at every
 *                          level (known.sh finds the deepest N that does
 *                          not trap interpreted: the fast paths of functions
 *                          that call others must stop exactly where their
 *                          callees' entries would trap)
 *   known_prog list        the names of the trap cases
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strchrnul, memrchr */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the end of memory: a page grown here, after stdio's buffers exist */
static unsigned char *end_page;
static unsigned char *mem_end(void)
{
    return (unsigned char *)(__builtin_wasm_memory_size(0) * 65536);
}

static uint32_t h; /* FNV-1a of the results */
static void mix(uint32_t v)
{
    for (int i = 0; i < 4; i++)
        h = (h ^ ((v >> (8 * i)) & 0xff)) * 16777619u;
}
static void mixp(const void *base, const void *p)
{
    mix(p ? (uint32_t)((const char *)p - (const char *)base) + 1 : 0);
}

static uint32_t rng = 2463534242u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}
static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(1 + rnd() % 255); /* no NUL, >= 0x80 too */
}

static unsigned char bufa[1024], bufb[1024], bufs[64];

static void report(const char *what, unsigned len)
{
    printf("%s %u %08x\n", what, len, (unsigned)h);
    h = 2166136261u;
}

/* strings: every length and alignment, at an ordinary place and ending at the end of memory */
static void strings(void)
{
    static const int cs[] = {0, 'a', 0x80, 0xff, 0x141, -128, -1};
    for (unsigned len = 0; len <= 300; len++) {
        for (unsigned al = 0; al < 16; al++) {
            for (int where = 0; where < 2; where++) {
                unsigned char *s = where ? mem_end() - len - 1 - al : bufa + al;
                unsigned at = len ? (al * 37 + len) % len : 0;
                fill(s, len);
                s[len] = 0;
                if (where)
                    memset(s + len + 1, 0x5a, al); /* after the NUL: not part of the string */
                const char *z = (const char *)s;
                mix((uint32_t)strlen(z));
                for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
                    mixp(s, strchr(z, cs[k]));
                    mixp(s, strchrnul(z, cs[k]));
                    mixp(s, strrchr(z, cs[k]));
                }
                if (len) {
                    int c = s[at];
                    mixp(s, strchr(z, c));
                    mixp(s, strchr(z, (signed char)c));
                    mixp(s, strchrnul(z, c | 0x100));
                    mixp(s, strrchr(z, c));
                    for (unsigned k = 1; k <= 6; k++) { /* sets of 1..6 bytes, one of them in s */
                        for (unsigned j = 0; j < k; j++)
                            bufs[j] = (unsigned char)(j ? rnd() | 1 : c);
                        bufs[k] = 0;
                        mix((uint32_t)strcspn(z, (const char *)bufs));
                        mix((uint32_t)strspn(z, (const char *)bufs));
                    }
                    bufs[0] = s[0]; /* a run */
                    bufs[1] = 0;
                    mix((uint32_t)strspn(z, (const char *)bufs));
                    bufs[0] = s[len - 1];
                    bufs[1] = s[0];
                    bufs[2] = 0;
                    mix((uint32_t)strspn(z, (const char *)bufs));
                    mix((uint32_t)strcspn(z, (const char *)bufs + 1));
                }
                bufs[0] = 0;
                mix((uint32_t)strcspn(z, (const char *)bufs));
                mix((uint32_t)strspn(z, (const char *)bufs));
                mix((uint32_t)strnlen(z, len));
                mix((uint32_t)strnlen(z, len + 1));
                mix((uint32_t)strnlen(z, len / 2));
                mix((uint32_t)strnlen(z, (size_t)-1));
            }
        }
        report("strings", len);
    }
}

/* every position for short ranges; for longer ones the first and last 24 and every 13th */
static int pick(unsigned at, unsigned n, unsigned al)
{
    return n <= 64 || at < 24 || at + 24 >= n || (at + al) % 13 == 0;
}

/* comparisons with a difference at every position (see pick), and searches of ranges; the
 * digest takes musl's exact differences, not only their signs */
static void ranges(void)
{
    for (unsigned n = 0; n <= 300; n++) {
        for (unsigned al = 0; al < 16; al++) {
            unsigned char *a = bufa + al, *b = bufb + (al * 7) % 16, *e = mem_end() - n;
            fill(a, n + 40);
            memcpy(b, a, n + 40);
            memcpy(e, a, n);
            a[n + 20] = b[n + 20] = 0;
            mix((uint32_t)memcmp(a, b, n));
            mix((uint32_t)memcmp(a, e, n));
            mix((uint32_t)strcmp((char *)a, (char *)b));
            mix((uint32_t)strncmp((char *)a, (char *)b, n));
            mix((uint32_t)strncmp((char *)a, (char *)e, n));
            for (unsigned at = 0; at < n; at++) {
                unsigned char old = b[at];
                if (!pick(at, n, al)) continue;
                b[at] = (unsigned char)(old ^ (at & 1 ? 0x80 : 0x01));
                mix((uint32_t)memcmp(a, b, n));
                mix((uint32_t)memcmp(b, a, n));
                mix((uint32_t)strncmp((char *)a, (char *)b, n));
                mix((uint32_t)strncmp((char *)a, (char *)b, at + 1));
                mix((uint32_t)strncmp((char *)a, (char *)b, at));
                mix((uint32_t)strcmp((char *)b, (char *)a));
                e[at] ^= 0x40;
                mix((uint32_t)memcmp(a, e, n));
                mix((uint32_t)memcmp(e, a, n + 7)); /* crosses the end after the difference */
                mix((uint32_t)strncmp((char *)e, (char *)a, n + 7));
                e[at] ^= 0x40;
                b[at] = old;
                if (at % 7 == 0) {
                    a[at] = b[at] = 0;
                    mix((uint32_t)strcmp((char *)a, (char *)b));
                    mix((uint32_t)strncmp((char *)a, (char *)b, n + 5));
                    b[at] = 0x90;
                    mix((uint32_t)strcmp((char *)a, (char *)b));
                    mix((uint32_t)strcmp((char *)b, (char *)a));
                    a[at] = b[at] = old;
                }
            }
            for (int k = 0; k < 4; k++) {
                int c = k == 0 ? 0xab : k == 1 ? 0 : k == 2 ? 0x80 : 0xff;
                unsigned pos = n ? (unsigned)(k * 131 + al) % n : 0;
                if (n) a[pos] = e[pos] = (unsigned char)c;
                mixp(a, memchr(a, c, n));
                mixp(a, memchr(a, c | 0x300, n));
                mixp(a, memrchr(a, c, n));
                mixp(e, memchr(e, c, n));
                mixp(e, memrchr(e, c, n));
                if (n) mixp(e, memchr(e, c, (size_t)-1)); /* found before the end */
            }
            /* copies: disjoint and overlapping both ways, one ending at the end of memory */
            memcpy(b, a, n);
            mix((uint32_t)memcmp(a, b, n));
            memcpy(e, a, n);
            mix((uint32_t)memcmp(a, e, n));
            memmove(a + 5, a, n);
            mix((uint32_t)memcmp(a + 5, b, n));
            memmove(a, a + 5, n);
            mix((uint32_t)memcmp(a, b, n));
            memmove(a + 16, a, n);
            memmove(e, a + 16, n);
            mix((uint32_t)memcmp(b, e, n));
            memset(a, 0xc3, n);
            memset(e, 0x1234, n);
            for (unsigned i = 0; i < n; i++)
                mix(a[i] ^ (e[i] << 8));
        }
        report("ranges", n);
    }
}

/* memory.copy and memory.fill (bulk memory in these two functions only): translate.c makes them
 * memmove and memset after its bounds checks, which call the host's glibc from 512 bytes */
__attribute__((target("bulk-memory"), noinline)) static void *bulk_copy(void *d, const void *s,
                                                                         size_t n)
{
    return __builtin_memmove(d, s, n);
}
__attribute__((target("bulk-memory"), noinline)) static void *bulk_fill(void *d, int c, size_t n)
{
    return __builtin_memset(d, c, n);
}

static void mixbuf(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
}

/* long operations (the fast paths hand them to the host's glibc: copies and fills from 512
 * bytes, scans past 512): lengths around 512 and far above it, overlaps both ways at distances
 * 1 to n - 1, ranges ending at the end of memory, musl's copies and memory.copy/fill alike */
static void longs(void)
{
    static const unsigned lens[] = {500, 511, 512, 513, 1000, 4096, 4099, 20000, 60000};
    static unsigned char big[2 * 60000 + 256];
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        unsigned n = lens[li];
        const unsigned dist[] = {1, 7, 100, n / 2, n - 1};
        unsigned char *e = mem_end() - n, *a = big + 3;
        for (int bulk = 0; bulk < 2; bulk++) {
            void *(*cp)(void *, const void *, size_t) = bulk ? bulk_copy : memmove;
            fill(big, sizeof big);
            mix((uint32_t)((unsigned char *)(bulk ? bulk_copy : memcpy)(a + n + 50, a, n) - big));
            mixbuf(big, sizeof big);
            for (size_t di = 0; di < sizeof dist / sizeof dist[0]; di++) {
                mix((uint32_t)((unsigned char *)cp(a + dist[di], a, n) - big));
                mixbuf(big, n + dist[di] + 8);
                mix((uint32_t)((unsigned char *)cp(a, a + dist[di], n) - big));
                mixbuf(big, n + dist[di] + 8);
            }
            mix((uint32_t)((unsigned char *)cp(e, a, n) - e)); /* to the end of memory */
            mix((uint32_t)((unsigned char *)cp(a, e, n) - big));
            mixbuf(big, n + 8);
            mix((uint32_t)((unsigned char *)cp(e + n / 3, e, n - n / 3) - e));
            mix((uint32_t)((unsigned char *)cp(e, e + n / 3, n - n / 3) - e));
            mixbuf(e, n);
            mix((uint32_t)((unsigned char *)(bulk ? bulk_fill : memset)(e + 1, 0x1a5, n - 1) - e));
            mix((uint32_t)((unsigned char *)(bulk ? bulk_fill : memset)(a + 5, n, n) - big));
            mixbuf(e, n);
            mixbuf(big, n + 16);
        }
        /* scans: the byte at either side of the hand-over point, then at the end; none */
        fill(a, n + 16);
        memcpy(e, a, n);
        static const unsigned ats[] = {100, 127, 128, 129, 200, 480, 495, 496, 497, 500,
                                       511, 512, 513, 520, 527, 528, 529, 600, 1000, 4000,
                                       19999, 40000, 59999};
        for (size_t ai = 0; ai < sizeof ats / sizeof ats[0] && ats[ai] < n; ai++) {
            unsigned at = ats[ai];
            unsigned char oa = a[at], oe = e[at];
            a[at] = e[at] = 0;
            mix((uint32_t)strlen((char *)a));
            mix((uint32_t)strlen((char *)e));
            mix((uint32_t)strnlen((char *)a, n));
            mix((uint32_t)strnlen((char *)e, at));
            mixp(a, strrchr((char *)a, a[at / 2]));
            mixp(a, memchr(a, 0, n));
            mixp(e, memchr(e, 0, n));
            mixp(e, memchr(e, 0, (size_t)-1));
            a[at] = e[at] = 0xfe;
            mixp(a, memchr(a, 0xfe, n));
            mixp(e, memchr(e, 0x2fe, n));
            mixp(e, memrchr(e, 0xfe, n));
            a[at] = oa;
            e[at] = oe;
        }
        mixp(e, memchr(e, 0, n)); /* absent up to the end of memory */
        a[n] = 0;
        mix((uint32_t)strlen((char *)a));
        mix((uint32_t)memcmp(a, e, n));
        memcpy(e, a, n);
        mix((uint32_t)memcmp(a, e, n));
        e[n - 1] ^= 1;
        mix((uint32_t)memcmp(e, a, n));
        report("longs", n);
    }
}

/* each call reads or writes past the end of memory: a trap in both engines */
static void trap(const char *name)
{
    unsigned char *e = mem_end();
    memset(e - 64, 'x', 64);
    bufs[0] = 'y';
    bufs[1] = 'z';
    bufs[2] = 0;
    printf("calling %s at the end of memory\n", name);
    fflush(stdout);
    if (!strcmp(name, "strlen"))
        printf("%zu\n", strlen((char *)e - 10));
    else if (!strcmp(name, "strchr"))
        printf("%p\n", strchr((char *)e - 10, 'q'));
    else if (!strcmp(name, "strchr0"))
        printf("%p\n", strchr((char *)e - 10, 0));
    else if (!strcmp(name, "strchrnul"))
        printf("%p\n", strchrnul((char *)e - 10, 'q'));
    else if (!strcmp(name, "strrchr"))
        printf("%p\n", strrchr((char *)e - 10, 'x'));
    else if (!strcmp(name, "strcspn"))
        printf("%zu\n", strcspn((char *)e - 10, (char *)bufs));
    else if (!strcmp(name, "strcspn1"))
        printf("%zu\n", strcspn((char *)e - 10, (char *)bufs + 1));
    else if (!strcmp(name, "strcspn_set"))
        printf("%zu\n", strcspn((char *)bufa, (char *)e - 3));
    else if (!strcmp(name, "strspn"))
        printf("%zu\n", strspn((char *)e - 10, "x"));
    else if (!strcmp(name, "strspn2"))
        printf("%zu\n", strspn((char *)e - 10, "xy"));
    else if (!strcmp(name, "strnlen"))
        printf("%zu\n", strnlen((char *)e - 10, 11));
    else if (!strcmp(name, "memchr"))
        printf("%p\n", memchr(e - 10, 'q', 11));
    else if (!strcmp(name, "memrchr"))
        printf("%p\n", memrchr(e - 10, 'x', 11));
    else if (!strcmp(name, "memcmp"))
        printf("%d\n", memcmp(e - 10, e - 20, 11));
    else if (!strcmp(name, "strcmp"))
        printf("%d\n", strcmp((char *)e - 10, (char *)e - 20));
    else if (!strcmp(name, "strncmp"))
        printf("%d\n", strncmp((char *)e - 10, (char *)e - 20, 11));
    else if (!strcmp(name, "memcpy"))
        printf("%p\n", memcpy(e - 10, bufa, 11));
    else if (!strcmp(name, "memmove"))
        printf("%p\n", memmove(e - 10, e - 11, 11));
    else if (!strcmp(name, "memset"))
        printf("%p\n", memset(e - 10, 0, 11));
    /* the inline cases of the fast paths (up to 64 bytes, memcmp's 16-byte compares, sets of
     * up to 4 bytes) and the general ones, one byte past the end */
    else if (!strcmp(name, "memcpy40"))
        printf("%p\n", memcpy(e - 39, bufa, 40));
    else if (!strcmp(name, "memcpy100"))
        printf("%p\n", memcpy(e - 99, bufa, 100));
    else if (!strcmp(name, "memmove40"))
        printf("%p\n", memmove(e - 39, e - 50, 40));
    else if (!strcmp(name, "memmove40b"))
        printf("%p\n", memmove(e - 50, e - 39, 40));
    else if (!strcmp(name, "memset64"))
        printf("%p\n", memset(e - 63, 1, 64));
    else if (!strcmp(name, "memcmp40"))
        printf("%d\n", memcmp(e - 40, e - 60, 41));
    else if (!strcmp(name, "memcmp3"))
        printf("%d\n", memcmp(e - 2, e - 20, 3));
    else if (!strcmp(name, "strcspn4"))
        printf("%zu\n", strcspn((char *)e - 10, "abcd"));
    else if (!strcmp(name, "strspn4"))
        printf("%zu\n", strspn((char *)e - 10, "abcx"));
    /* long ones (the host's glibc past the thresholds), one byte past the end */
    else if (!strcmp(name, "memcpy600"))
        printf("%p\n", memcpy(e - 599, bufa, 600));
    else if (!strcmp(name, "memmove600"))
        printf("%p\n", memmove(e - 599, e - 700, 600));
    else if (!strcmp(name, "memmove600b"))
        printf("%p\n", memmove(e - 700, e - 599, 600));
    else if (!strcmp(name, "memset600"))
        printf("%p\n", memset(e - 599, 1, 600));
    else if (!strcmp(name, "bulkcopy600"))
        printf("%p\n", bulk_copy(e - 599, e - 4000, 600));
    else if (!strcmp(name, "bulkcopy600b"))
        printf("%p\n", bulk_copy(e - 4000, e - 599, 600));
    else if (!strcmp(name, "bulkfill600"))
        printf("%p\n", bulk_fill(e - 599, 1, 600));
    else if (!strcmp(name, "bulkfill40000"))
        printf("%p\n", bulk_fill(e - 39999, 1, 40000));
    else if (!strcmp(name, "memchr600")) {
        memset(e - 600, 'x', 600);
        printf("%p\n", memchr(e - 600, 'q', 601));
    } else if (!strcmp(name, "strlen600")) {
        memset(e - 600, 'x', 600);
        printf("%zu\n", strlen((char *)e - 600));
    } else if (!strcmp(name, "strnlen600")) {
        memset(e - 600, 'x', 600);
        printf("%zu\n", strnlen((char *)e - 600, 700));
    } else if (!strcmp(name, "memcmp600")) {
        memset(e - 1200, 'x', 1200);
        printf("%d\n", memcmp(e - 600, e - 1200, 601));
    }
    else
        printf("no such case\n");
}

/* depth: rec(k) calls one known function, then itself through a pointer (no loop), down to
 * depth_n; the deepest call of the known function is the one that meets the depth limit */
static const char *depth_name;
static int depth_n;
static char dbuf[64] = "deep";
static int rec(int k);
static int (*volatile recp)(int) = rec;
static int rec(int k)
{
    uintptr_t r;
    if (k == depth_n) return 0;
    if (!strcmp(depth_name, "strchr0"))
        r = (uintptr_t)strchr(dbuf, 0); /* strchrnul, strlen */
    else if (!strcmp(depth_name, "strcspn0"))
        r = strcspn(dbuf, ""); /* strchrnul, strlen */
    else if (!strcmp(depth_name, "strcspn1"))
        r = strcspn(dbuf, "e"); /* strchrnul */
    else if (!strcmp(depth_name, "strchrnul"))
        r = (uintptr_t)strchrnul(dbuf, 'p'); /* leaf path */
    else if (!strcmp(depth_name, "memmove"))
        r = (uintptr_t)memmove(dbuf + 8, dbuf, 5); /* memcpy */
    else if (!strcmp(depth_name, "strnlen"))
        r = strnlen(dbuf, 9); /* memchr */
    else if (!strcmp(depth_name, "strrchr"))
        r = (uintptr_t)strrchr(dbuf, 'e'); /* strlen, memrchr */
    else
        r = strlen(dbuf); /* a leaf */
    return recp(k + 1) + (int)(r & 1);
}

static const char *const traps[] = {
    "strlen",      "strchr",     "strchr0",  "strchrnul", "strrchr", "strcspn",  "strcspn1",
    "strcspn_set", "strspn",     "strspn2",  "strnlen",   "memchr",  "memrchr",  "memcmp",
    "strcmp",      "strncmp",    "memcpy",   "memmove",   "memset",  "memcpy40", "memcpy100",
    "memmove40",   "memmove40b", "memset64", "memcmp40",  "memcmp3", "strcspn4", "strspn4",
    "memcpy600",   "memmove600", "memmove600b", "memset600", "bulkcopy600", "bulkcopy600b",
    "bulkfill600", "bulkfill40000", "memchr600", "strlen600", "strnlen600", "memcmp600"};

int main(int argc, char **argv)
{
    h = 2166136261u;
    printf("known_prog\n"); /* stdio's buffer exists before memory grows */
    if (__builtin_wasm_memory_grow(0, 1) == (size_t)-1) return 2;
    end_page = mem_end() - 65536;
    memset(end_page, 0, 65536);
    if (argc == 2 && !strcmp(argv[1], "list")) {
        for (size_t i = 0; i < sizeof traps / sizeof traps[0]; i++)
            printf("%s\n", traps[i]);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "depth")) {
        depth_name = argv[2];
        depth_n = atoi(argv[3]);
        printf("depth %d: %d\n", depth_n, rec(0)); /* printed after the recursion unwound */
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "trap")) {
        trap(argv[2]);
        return 0;
    }
    strings();
    ranges();
    longs();
    printf("done\n");
    return 0;
}
