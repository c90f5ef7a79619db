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
 * copies (and the fast paths of aot_known.h call memcpy/memmove/memset
 * for more than 64 bytes; translate.c's memory.copy and memory.fill are
 * memmove and memset), and calls of the libm rounding functions for
 * floor/ceil/trunc/rint without SSE4.1 (the wrappers in aot_rt.h handle NaN first, so these
 * see numbers and infinities only; the results equal glibc's in the default
 * rounding mode, signed zeros included). sqrt is inlined (-fno-math-errno).
 *
 * From KX_HOST_COPY bytes, memcpy, memmove and memset call the host
 * process's glibc through kx_rt (struct kiln_aot_rt, ABI 7; the pointers
 * are kiln's, so the object still imports nothing). Their callers check
 * bounds first, so those calls never fault.
 */
#include <stddef.h>
#include <stdint.h>

/* struct kiln_aot_rt: the host C library for long operations (ABI 7) */
#define KILN_AOT_RT_ABI_ONLY
#include "aot_rt.h"
#undef KILN_AOT_RT_ABI_ONLY

#define KILN_AOT_LIBC_C 1 /* (aot_known.h, when included after this file: declare, not define) */

#if defined(__GNUC__) && !defined(__clang__)
/* gcc would turn the byte loops below into calls of the functions they define (clang does not
 * with -fno-builtin) */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

#define KX_LIBC __attribute__((visibility("hidden"), used))

/* kiln's callbacks (the generated file defines it, the loader sets it before any code runs;
 * native tests define their own) */
extern __attribute__((visibility("hidden"))) const struct kiln_aot_rt *kx_rt;

/* Copies, moves (overlapping ones too) and fills of at least KX_HOST_COPY bytes call the host's
 * glibc through kx_rt (its AVX2/AVX-512 and rep movsb/stosb variants, and non-temporal stores for
 * copies larger than the cache; this file is built for the x86-64 baseline). Below it the
 * indirect call and the interrupt check after it (rt.c) cost about what glibc saves: with
 * aot-known-bench (tests/aot/known/known_bench.c), from 256 bytes glibc's 3.3 ns + the call
 * against 4.0 ns here, at 512 4.8 against 6.1. */
#ifndef KX_HOST_COPY
#define KX_HOST_COPY 512
#endif
/* memchr reads whole aligned 16-byte blocks, which never cross a page but may extend past the
 * object (as glibc's do); aot_libc_test.c runs under ASan in the sanitize build */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_address)
#define KX_OVERREAD __attribute__((no_sanitize_address))
#endif
#endif
#ifndef KX_OVERREAD
#define KX_OVERREAD
#endif

/* 16 bytes in a vector register (movdqu on x86-64; any target with GCC vectors) */
typedef uint8_t kx_v16 __attribute__((vector_size(16)));
#define LD16(p)                                                                                    \
    ({                                                                                             \
        kx_v16 v_;                                                                                 \
        __builtin_memcpy(&v_, (p), 16);                                                            \
        v_;                                                                                        \
    })
#define ST16(p, v)                                                                                 \
    do {                                                                                           \
        kx_v16 w_ = (v);                                                                           \
        __builtin_memcpy((p), &w_, 16);                                                            \
    } while (0)

/* n <= 64 bytes from s to d, every load before the first store (so any overlap is fine) */
static inline void copy_small(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n <= 16) {
        if (n >= 8) {
            uint64_t a, b;
            __builtin_memcpy(&a, s, 8);
            __builtin_memcpy(&b, s + n - 8, 8);
            __builtin_memcpy(d, &a, 8);
            __builtin_memcpy(d + n - 8, &b, 8);
        } else if (n >= 4) {
            uint32_t a, b;
            __builtin_memcpy(&a, s, 4);
            __builtin_memcpy(&b, s + n - 4, 4);
            __builtin_memcpy(d, &a, 4);
            __builtin_memcpy(d + n - 4, &b, 4);
        } else if (n) {
            uint8_t a = s[0], b = s[n >> 1], c = s[n - 1];
            d[0] = a;
            d[n >> 1] = b;
            d[n - 1] = c;
        }
    } else if (n <= 32) {
        kx_v16 a = LD16(s), b = LD16(s + n - 16);
        ST16(d, a);
        ST16(d + n - 16, b);
    } else {
        kx_v16 a = LD16(s), b = LD16(s + 16), c = LD16(s + n - 32), e = LD16(s + n - 16);
        ST16(d, a);
        ST16(d + 16, b);
        ST16(d + n - 32, c);
        ST16(d + n - 16, e);
    }
}

/* n > 64 bytes forward, 64 at a time with 16-byte aligned stores. The first 16 and the last 64
 * source bytes are loaded before anything is stored and each block before it is stored, so this
 * is right for d <= s even when the ranges overlap. */
static inline void copy_fwd(uint8_t *d, const uint8_t *s, size_t n)
{
    kx_v16 h = LD16(s), t0 = LD16(s + n - 64), t1 = LD16(s + n - 48), t2 = LD16(s + n - 32),
           t3 = LD16(s + n - 16);
    uint8_t *d0 = d, *e = d + n;
    size_t skip = 16 - ((uintptr_t)d & 15); /* 1..16: d becomes aligned */
    d += skip, s += skip, n -= skip;
    for (; n > 64; d += 64, s += 64, n -= 64) {
        kx_v16 a = LD16(s), b = LD16(s + 16), c = LD16(s + 32), x = LD16(s + 48);
        *(kx_v16 *)(void *)d = a;
        *(kx_v16 *)(void *)(d + 16) = b;
        *(kx_v16 *)(void *)(d + 32) = c;
        *(kx_v16 *)(void *)(d + 48) = x;
    }
    ST16(e - 64, t0);
    ST16(e - 48, t1);
    ST16(e - 32, t2);
    ST16(e - 16, t3);
    ST16(d0, h);
}

/* the same from the end, for d > s: the first 64 and the last 16 source bytes loaded first */
static inline void copy_bwd(uint8_t *d, const uint8_t *s, size_t n)
{
    kx_v16 h0 = LD16(s), h1 = LD16(s + 16), h2 = LD16(s + 32), h3 = LD16(s + 48),
           t = LD16(s + n - 16);
    uint8_t *e = d + n;
    n -= (uintptr_t)e & 15; /* d + n becomes aligned */
    for (; n > 64; n -= 64) {
        kx_v16 a = LD16(s + n - 64), b = LD16(s + n - 48), c = LD16(s + n - 32),
               x = LD16(s + n - 16);
        *(kx_v16 *)(void *)(d + n - 64) = a;
        *(kx_v16 *)(void *)(d + n - 48) = b;
        *(kx_v16 *)(void *)(d + n - 32) = c;
        *(kx_v16 *)(void *)(d + n - 16) = x;
    }
    ST16(e - 16, t);
    ST16(d, h0);
    ST16(d + 16, h1);
    ST16(d + 32, h2);
    ST16(d + 48, h3);
}

/* the copies and fills below KX_HOST_COPY bytes (always inlined into the functions below, which
 * then stay leaves on these paths: no register saved for the host call) */
static inline __attribute__((always_inline)) void copy_local(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n <= 64)
        copy_small(d, s, n);
    else
        copy_fwd(d, s, n);
}

static inline __attribute__((always_inline)) void move_local(uint8_t *dp, const uint8_t *sp,
                                                             size_t n)
{
    if (n <= 64)
        copy_small(dp, sp, n);
    else if (dp + n <= sp || dp >= sp + n || dp < sp)
        copy_fwd(dp, sp, n); /* disjoint, or forward */
    else if (dp > sp)
        copy_bwd(dp, sp, n);
}

static inline __attribute__((always_inline)) void set_local(uint8_t *dp, int c, size_t n)
{
    uint64_t w = 0x0101010101010101ull * (uint8_t)c;
    kx_v16 v = {0};
    v += (uint8_t)c;
    if (n < 8) {
        while (n--)
            *dp++ = (uint8_t)c;
    } else if (n <= 16) {
        __builtin_memcpy(dp, &w, 8);
        __builtin_memcpy(dp + n - 8, &w, 8);
    } else if (n <= 32) {
        ST16(dp, v);
        ST16(dp + n - 16, v);
    } else if (n <= 64) {
        ST16(dp, v);
        ST16(dp + 16, v);
        ST16(dp + n - 32, v);
        ST16(dp + n - 16, v);
    } else { /* the first 16 and the last 64 bytes unaligned, 64 at a time aligned between */
        uint8_t *e = dp + n;
        ST16(dp, v);
        ST16(e - 64, v);
        ST16(e - 48, v);
        ST16(e - 32, v);
        ST16(e - 16, v);
        for (dp = (uint8_t *)((uintptr_t)(dp + 16) & ~(uintptr_t)15); dp + 64 < e; dp += 64) {
            *(kx_v16 *)(void *)dp = v;
            *(kx_v16 *)(void *)(dp + 16) = v;
            *(kx_v16 *)(void *)(dp + 32) = v;
            *(kx_v16 *)(void *)(dp + 48) = v;
        }
    }
}

KX_LIBC void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    if (__builtin_expect(n >= KX_HOST_COPY, 0)) return kx_rt->host_memcpy(d, s, n);
    copy_local(d, s, n);
    return d;
}

KX_LIBC void *memmove(void *d, const void *s, size_t n)
{
    if (__builtin_expect(n >= KX_HOST_COPY, 0))
        return kx_rt->host_memmove(d, s, n); /* (overlapping ones too) */
    move_local(d, s, n);
    return d;
}

KX_LIBC void *memset(void *d, int c, size_t n)
{
    if (__builtin_expect(n >= KX_HOST_COPY, 0)) return kx_rt->host_memset(d, c, n);
    set_local(d, c, n);
    return d;
}

/* memcpy, memmove and memset returning r: the fast paths of aot_known.h
 * return the wasm address of the destination, and passing it through
 * leaves no value live across their call. The host calls are out of line
 * (host_*_r, reached by a sibling call), so that r is not kept in a
 * callee-saved register on the local paths. */
static __attribute__((noinline)) uint32_t host_memcpy_r(void *restrict d, const void *restrict s,
                                                        size_t n, uint32_t r)
{
    kx_rt->host_memcpy(d, s, n);
    return r;
}
static __attribute__((noinline)) uint32_t host_memmove_r(void *d, const void *s, size_t n,
                                                         uint32_t r)
{
    kx_rt->host_memmove(d, s, n);
    return r;
}
static __attribute__((noinline)) uint32_t host_memset_r(void *d, int c, size_t n, uint32_t r)
{
    kx_rt->host_memset(d, c, n);
    return r;
}

KX_LIBC uint32_t kiln__aot_memcpy_r(void *restrict d, const void *restrict s, size_t n, uint32_t r)
{
    if (__builtin_expect(n >= KX_HOST_COPY, 0)) return host_memcpy_r(d, s, n, r);
    copy_local(d, s, n);
    return r;
}

KX_LIBC uint32_t kiln__aot_memmove_r(void *d, const void *s, size_t n, uint32_t r)
{
    if (__builtin_expect(n >= KX_HOST_COPY, 0)) return host_memmove_r(d, s, n, r);
    move_local(d, s, n);
    return r;
}

KX_LIBC uint32_t kiln__aot_memset_r(void *d, int c, size_t n, uint32_t r)
{
    if (__builtin_expect(n >= KX_HOST_COPY, 0)) return host_memset_r(d, c, n, r);
    set_local(d, c, n);
    return r;
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* the 16-bit mask of the bytes of two 16-byte blocks that are equal */
static inline unsigned eq_mask(const uint8_t *x, const uint8_t *y)
{
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)x);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)y);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b));
}
#endif

KX_LIBC int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
#if defined(__SSE2__)
    size_t i = 0;
    unsigned m;
    if (n >= 16) {
        for (; i + 64 <= n; i += 64) /* four blocks, one test */
            if ((eq_mask(x + i, y + i) & eq_mask(x + i + 16, y + i + 16) &
                 eq_mask(x + i + 32, y + i + 32) & eq_mask(x + i + 48, y + i + 48)) != 0xffffu)
                break;
        for (; i + 16 <= n; i += 16)
            if ((m = eq_mask(x + i, y + i) ^ 0xffffu)) goto found;
        if (i == n) return 0;
        i = n - 16; /* the last block, overlapping the equal ones before it */
        if ((m = eq_mask(x + i, y + i) ^ 0xffffu)) goto found;
        return 0;
    found:
        i += (unsigned)__builtin_ctz(m);
        return x[i] - y[i];
    }
#endif
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

KX_LIBC KX_OVERREAD void *memchr(const void *s, int c, size_t n)
{
    const uint8_t *p = s;
#if defined(__SSE2__)
    /* whole aligned blocks (never crossing a page), the bytes before s and after s + n masked */
    const __m128i v = _mm_set1_epi8((char)c);
    const uint8_t *q;
    unsigned off, m;
    if (!n) return NULL;
    if (n > SIZE_MAX - 16) n = SIZE_MAX - 16; /* (memory ends long before) */
    off = (unsigned)((uintptr_t)p & 15);
    q = p - off;
    m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_load_si128((const __m128i *)(const void *)q), v)) &
        (0xffffu << off);
    n += off; /* bytes from q */
    for (;;) {
        if (m) {
            size_t i = (unsigned)__builtin_ctz(m);
            return i < n ? (void *)(q + i) : NULL;
        }
        if (n <= 16) return NULL;
        q += 16;
        n -= 16;
        /* four whole blocks before the last one, one test; from a 64-byte boundary, so that the
         * blocks read past a match stay in its page (n may be larger than the object) */
        while (n > 64 && !((uintptr_t)q & 63)) {
            const __m128i *w = (const __m128i *)(const void *)q;
            __m128i r0 = _mm_cmpeq_epi8(_mm_load_si128(w), v);
            __m128i r1 = _mm_cmpeq_epi8(_mm_load_si128(w + 1), v);
            __m128i r2 = _mm_cmpeq_epi8(_mm_load_si128(w + 2), v);
            __m128i r3 = _mm_cmpeq_epi8(_mm_load_si128(w + 3), v);
            if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(r0, r1), _mm_or_si128(r2, r3)))) {
                unsigned long long m4 = (unsigned)_mm_movemask_epi8(r0) |
                                        (unsigned)_mm_movemask_epi8(r1) << 16 |
                                        (unsigned long long)(unsigned)_mm_movemask_epi8(r2) << 32 |
                                        (unsigned long long)(unsigned)_mm_movemask_epi8(r3) << 48;
                return (void *)(q + __builtin_ctzll(m4)); /* inside [s, s + n) */
            }
            q += 64;
            n -= 64;
        }
        m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_load_si128((const __m128i *)(const void *)q), v));
    }
#else
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
#endif
}

/* ---- rounding (finite or infinite arguments) ---- */

static double kx_copysign(double x, double s)
{
    return __builtin_copysign(x, s);
}
static float kx_copysignf(float x, float s)
{
    return __builtin_copysignf(x, s);
}

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

KX_LIBC double nearbyint(double x)
{
    return rint(x);
}

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

KX_LIBC float nearbyintf(float x)
{
    return rintf(x);
}

KX_LIBC double sqrt(double x)
{
    return __builtin_sqrt(x);
}
KX_LIBC float sqrtf(float x)
{
    return __builtin_sqrtf(x);
}
