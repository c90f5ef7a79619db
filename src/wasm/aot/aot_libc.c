/*
 * aot_libc.c — the few C library functions compiled AOT code may call,
 * linked into every AOT object (hidden), so an object needs no shared
 * library at all: kiln-stub is static and its dlopen cannot load a libc or
 * libm into a container whose rootfs has none. aot.c compiles this file
 * with -ffreestanding -fno-builtin (and, for gcc, the pragma below) so none
 * of these loops turns back into a call to itself, and links with
 * -nostdlib -Wl,--no-undefined: a call the translator starts to emit that
 * is missing here fails at `kiln compile`, not in a container.
 *
 * gcc emits memcpy/memmove/memset/memcmp for bulk memory and structure
 * copies, and calls of the libm rounding functions for floor/ceil/trunc/
 * rint without SSE4.1 (the wrappers in aot_rt.h handle NaN first, so these
 * see numbers and infinities only; the results equal glibc's in the default
 * rounding mode, signed zeros included). sqrt is inlined (-fno-math-errno).
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__)
/* gcc would turn the byte loops below into calls of the functions they define (clang does not
 * with -fno-builtin) */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

#define KX_LIBC __attribute__((visibility("hidden"), used))

KX_LIBC void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    uint64_t a, b;
    if (n <= 16) { /* small copies (most of them): two overlapping loads and stores */
        if (n >= 8) {
            __builtin_memcpy(&a, sp, 8);
            __builtin_memcpy(&b, sp + n - 8, 8);
            __builtin_memcpy(dp, &a, 8);
            __builtin_memcpy(dp + n - 8, &b, 8);
        } else if (n >= 4) {
            uint32_t x, y;
            __builtin_memcpy(&x, sp, 4);
            __builtin_memcpy(&y, sp + n - 4, 4);
            __builtin_memcpy(dp, &x, 4);
            __builtin_memcpy(dp + n - 4, &y, 4);
        } else {
            while (n--) *dp++ = *sp++;
        }
        return d;
    }
#if defined(__x86_64__)
    if (n >= 256) {
        __asm__ volatile("rep movsb" : "+D"(dp), "+S"(sp), "+c"(n) : : "memory");
        return d;
    }
#endif
    {
        typedef uint8_t v16 __attribute__((vector_size(16)));
        v16 x, y;
        __builtin_memcpy(&y, sp + n - 16, 16); /* the last 16 bytes, stored after the loop */
        for (; n > 16; dp += 16, sp += 16, n -= 16) {
            __builtin_memcpy(&x, sp, 16);
            __builtin_memcpy(dp, &x, 16);
        }
        __builtin_memcpy(dp + n - 16, &y, 16);
    }
    return d;
}

KX_LIBC void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    uint64_t w;
    if (dp + n <= sp || dp >= sp + n) return memcpy(d, s, n); /* disjoint */
    if (dp < sp) { /* overlapping, d below s: forward, each word read before it is written */
        for (; n >= 8; n -= 8, dp += 8, sp += 8) {
            __builtin_memcpy(&w, sp, 8);
            __builtin_memcpy(dp, &w, 8);
        }
        while (n--) *dp++ = *sp++;
        return d;
    }
    /* overlapping with d above s: from the end */
    while (n >= 8) {
        n -= 8;
        __builtin_memcpy(&w, sp + n, 8);
        __builtin_memcpy(dp + n, &w, 8);
    }
    while (n--) dp[n] = sp[n];
    return d;
}

KX_LIBC void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    uint64_t w = 0x0101010101010101ull * (uint8_t)c;
    if (n < 8) {
        while (n--) *dp++ = (uint8_t)c;
        return d;
    }
#if defined(__x86_64__)
    if (n >= 256) {
        __asm__ volatile("rep stosb" : "+D"(dp), "+c"(n) : "a"(c) : "memory");
        return d;
    }
#endif
    __builtin_memcpy(dp + n - 8, &w, 8); /* the tail first; the loop covers the rest */
    for (; n >= 8; n -= 8, dp += 8) __builtin_memcpy(dp, &w, 8);
    return d;
}

KX_LIBC int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n >= 8; n -= 8, x += 8, y += 8) { /* 8 bytes at a time up to the first difference */
        uint64_t u, v;
        __builtin_memcpy(&u, x, 8);
        __builtin_memcpy(&v, y, 8);
        if (u != v) break;
    }
    for (; n; n--, x++, y++)
        if (*x != *y) return *x - *y;
    return 0;
}

KX_LIBC void *memchr(const void *s, int c, size_t n)
{
    const uint8_t *p = s;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t pat = ones * (uint8_t)c;
    for (; n >= 8; n -= 8, p += 8) { /* a word holds c iff (w ^ pat) has a zero byte */
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        w ^= pat;
        if ((w - ones) & ~w & highs) break;
    }
    for (; n; n--, p++)
        if (*p == (uint8_t)c) return (void *)p;
    return NULL;
}

/* ---- rounding (finite or infinite arguments) ---- */

static double kx_copysign(double x, double s) { return __builtin_copysign(x, s); }
static float kx_copysignf(float x, float s) { return __builtin_copysignf(x, s); }

KX_LIBC double trunc(double x)
{
    if (!(__builtin_fabs(x) < 0x1p52)) return x; /* integral already (or infinite) */
    return kx_copysign((double)(int64_t)x, x);
}

KX_LIBC double floor(double x)
{
    double t = trunc(x);
    return t > x ? t - 1.0 : t;
}

KX_LIBC double ceil(double x)
{
    double t = trunc(x);
    return t < x ? t + 1.0 : t;
}

KX_LIBC double rint(double x)
{
    double a = __builtin_fabs(x);
    if (!(a < 0x1p52)) return x;
    return kx_copysign((a + 0x1p52) - 0x1p52, x); /* round to nearest, ties to even */
}

KX_LIBC double nearbyint(double x) { return rint(x); }

KX_LIBC float truncf(float x)
{
    if (!(__builtin_fabsf(x) < 0x1p23f)) return x;
    return kx_copysignf((float)(int32_t)x, x);
}

KX_LIBC float floorf(float x)
{
    float t = truncf(x);
    return t > x ? t - 1.0f : t;
}

KX_LIBC float ceilf(float x)
{
    float t = truncf(x);
    return t < x ? t + 1.0f : t;
}

KX_LIBC float rintf(float x)
{
    float a = __builtin_fabsf(x);
    if (!(a < 0x1p23f)) return x;
    return kx_copysignf((a + 0x1p23f) - 0x1p23f, x);
}

KX_LIBC float nearbyintf(float x) { return rintf(x); }

KX_LIBC double sqrt(double x) { return __builtin_sqrt(x); }
KX_LIBC float sqrtf(float x) { return __builtin_sqrtf(x); }
