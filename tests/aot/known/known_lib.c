/*
 * known_lib.c — a wasm32-wasi library module without imports (clang -O2
 * -fno-builtin, -nostartfiles --no-entry, linked with Debian's wasi-libc)
 * for tests/aot/known/known_fuel_test.c: run(k) calls each of the fifteen
 * libc functions the AOT translator recognises on strings and ranges of a
 * length chosen by k and returns a digest of the results.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strchrnul, memrchr */
#endif
#include <stdint.h>
#include <string.h>

static unsigned char a[1024], b[1024], d[1024];
static uint32_t h;
static void mix(uint32_t v)
{
    h = (h ^ v) * 16777619u;
}

__attribute__((export_name("run"))) uint32_t run(int k)
{
    unsigned n = (unsigned)k % 300, at = n ? ((unsigned)k * 37u) % n : 0;
    h = 2166136261u;
    for (unsigned i = 0; i < n + 64; i++)
        a[i] = b[i] = (unsigned char)(1 + (i * 131u + k) % 255);
    a[n] = b[n] = 0;
    if (n) b[at] ^= 0x80;
    const char *s = (const char *)a, *t = (const char *)b;
    char set[3] = {(char)a[at], (char)a[n / 2], 0};
    mix((uint32_t)strlen(s));
    mix((uint32_t)(strchr(s, a[at]) ? strchr(s, a[at]) - s : -1));
    mix((uint32_t)(strchrnul(s, 0x80) - s));
    mix((uint32_t)(strrchr(s, a[at]) ? strrchr(s, a[at]) - s : -1));
    mix((uint32_t)strcspn(s, set));
    mix((uint32_t)strspn(s, set));
    mix((uint32_t)strnlen(s, n / 2 + 1));
    mix((uint32_t)strcmp(s, t));
    mix((uint32_t)strncmp(s, t, at + 1));
    mix((uint32_t)memcmp(a, b, n));
    mix((uint32_t)(memchr(a, a[at], n + 1) ? (unsigned char *)memchr(a, a[at], n + 1) - a : -1));
    mix((uint32_t)(memrchr(a, a[at], n + 1) ? (unsigned char *)memrchr(a, a[at], n + 1) - a : -1));
    memcpy(d, a, n);
    memmove(d + 5, d, n);
    memset(d + n / 3, k, n / 2);
    for (unsigned i = 0; i < n + 5; i++)
        mix(d[i]);
    return h;
}
