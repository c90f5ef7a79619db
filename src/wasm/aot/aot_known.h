/*
 * aot_known.h — the native fast paths of well-known libc functions
 * (translate_known.c), included by aot_gen.h into every generated C file
 * and by tests/aot/known/known_test.c.
 *
 * Each kx_k_<name>(mem, size, args...) computes what Debian wasi-libc's
 * (musl) <name> returns for the wasm arguments args, with memory 0 at mem
 * (size bytes), or returns KX_K_FALLBACK when it cannot be sure: when a
 * byte the musl code would read (or write) may lie outside memory 0. The
 * caller then runs the translated body, which traps (or not) exactly as
 * the interpreter does. So a fast path never reads outside memory 0, and
 * returns a value only where the wasm code would return that same value
 * without trapping (for the string functions: signedness as musl's, chars
 * >= 0x80 included; strchr(s, 0) finds the terminator).
 *
 * Invariant the scans rely on (memory.c): mem is 16-byte aligned (a
 * reserved mapping) and size is a multiple of the 64 KiB page, so a 16-byte
 * aligned block that holds a byte of memory 0 lies wholly inside it. The
 * SSE2 scans read such whole aligned blocks (x86-64 has SSE2 as baseline);
 * other targets use the plain byte loops.
 *
 * Fixed cost per call (most calls are short: sqlite's memcpy and memcmp
 * move tens of bytes). For memcpy, memmove, memset, memcmp, strcspn and
 * strspn, kx_k_<name>_fast handles the common case only and returns
 * KX_K_FALLBACK for every other one, where the generated code calls (out
 * of line) kx_k_<name>, then, if that falls back too, the translated body:
 * copies and fills of up to 64 bytes (overlapping loads and stores from
 * both ends, every load before the first store), memcmp with 16 bytes of
 * slack after both ranges inside memory (16-byte compares that may read
 * past the n bytes), strcspn/strspn with sets of up to 4 bytes (one 8-byte
 * load). Each tests one bound per buffer and needs no stack frame, and no
 * value stays live across a call (that would cost the saving and restoring
 * of callee-saved registers on every call). A _fast function returns a
 * value only where kx_k_<name> returns the same one.
 */
#ifndef KILN_WASM_AOT_KNOWN_H
#define KILN_WASM_AOT_KNOWN_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(KX_K_PORTABLE) /* (tests build the portable loops too) */
#include <emmintrin.h>
#define KX_K_SSE2 1
#else
#define KX_K_SSE2 0
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define KX_K_LE 1
#else
#define KX_K_LE 0
#endif

#define KX_K_FALLBACK UINT64_MAX /* "run the translated body" */
#define KX_K_INL static inline __attribute__((always_inline, unused))
#define KX_K_FN static inline __attribute__((always_inline, unused))

/* Sibling calls in the generated fast-path functions (translate_known.c;
 * gcc: a function attribute, the objects are built without them): their
 * calls of aot_libc's copies, of kx_k_<name> out of line and of the
 * translated body become jumps, so they need no frame. Safe from runaway
 * recursion: a known function calls only known functions, at most two
 * deep. */
#if defined(__GNUC__) && !defined(__clang__)
#define KX_K_TAIL __attribute__((optimize("optimize-sibling-calls")))
#else
#define KX_K_TAIL
#endif

/* Long copies and fills: aot_libc.c's memcpy, memmove, memset, returning
 * r (nothing stays live across the call). Generated files (KX_METERED) and
 * aot_libc.c declare them; native programs (tests) get these wrappers. */
#if defined(KX_METERED) || defined(KILN_AOT_LIBC_C)
__attribute__((visibility("hidden"))) uint32_t
kiln__aot_memcpy_r(void *restrict d, const void *restrict s, size_t n, uint32_t r);
__attribute__((visibility("hidden"))) uint32_t kiln__aot_memmove_r(void *d, const void *s, size_t n,
                                                                   uint32_t r);
__attribute__((visibility("hidden"))) uint32_t kiln__aot_memset_r(void *d, int c, size_t n,
                                                                  uint32_t r);
#else
KX_K_INL uint32_t kiln__aot_memcpy_r(void *restrict d, const void *restrict s, size_t n, uint32_t r)
{
    memcpy(d, s, n);
    return r;
}
KX_K_INL uint32_t kiln__aot_memmove_r(void *d, const void *s, size_t n, uint32_t r)
{
    memmove(d, s, n);
    return r;
}
KX_K_INL uint32_t kiln__aot_memset_r(void *d, int c, size_t n, uint32_t r)
{
    memset(d, c, n);
    return r;
}
#endif

/* Long scans (memchr, strlen) read their first KX_K_HOST_SCAN bytes (to
 * a 16-byte boundary) in kx_k_<name>_fast and, when that finds nothing,
 * the rest in kx_k_<name>_slow, out of line, with the host's memchr (glibc's
 * AVX2/AVX-512 variant; objects are built for the x86-64 baseline):
 * kx_rt->host_memchr in objects (aot_rt.h, ABI 7: it traps if an
 * interruption is pending when it returns) and next to aot_libc.c, glibc's
 * memchr in other native programs (tests may define their own). The range
 * it gets is inside memory 0; glibc reads aligned vectors, which stay in
 * its pages. KX_K_HOST_SCAN from known_wbench.wasm: the host call costs
 * about 5 ns (the out-of-line path, the indirect call, rt.c's interrupt
 * check), the local scan about 13 ns per KiB against glibc's 5.5, so the
 * host pays from about 600 bytes; shorter thresholds made 256-byte scans
 * slower (6.6 -> 12.9 ns at 128). */
#ifndef KX_K_HOST_SCAN
#define KX_K_HOST_SCAN 512
#endif
#ifndef KX_K_HOST_MEMCHR
#if defined(KX_METERED) || defined(KILN_AOT_LIBC_C)
#define KX_K_HOST_MEMCHR(s, c, n) (kx_rt->host_memchr((s), (c), (n)))
#else
#define KX_K_HOST_MEMCHR(s, c, n) (memchr((s), (c), (n)))
#endif
#endif

/* 16 bytes in a vector register (any target with GCC vectors), unaligned */
typedef uint8_t kx_k_v16 __attribute__((vector_size(16)));
KX_K_INL kx_k_v16 kx_k_ld16(const uint8_t *p)
{
    kx_k_v16 v;
    memcpy(&v, p, 16);
    return v;
}
KX_K_INL void kx_k_st16(uint8_t *p, kx_k_v16 v)
{
    memcpy(p, &v, 16);
}

/* ---- scans ---- */

/* what a scan looks for: NUL; c0; NUL or c0; NUL, c0 or c1; NUL or one of
 * c0..c3; a byte that is none of c0..c3 (NUL is never one of them). The
 * bytes c0..c3 are packed into one word cs (c0 in the low byte). */
enum { KX_K_NUL, KX_K_CHR, KX_K_CHRNUL, KX_K_ANY2, KX_K_ANY4, KX_K_NOT4 };

KX_K_INL int kx_k_match(uint8_t b, int mode, uint32_t cs)
{
    const uint8_t c0 = (uint8_t)cs, c1 = (uint8_t)(cs >> 8), c2 = (uint8_t)(cs >> 16),
                  c3 = (uint8_t)(cs >> 24);
    switch (mode) {
    case KX_K_NUL:
        return b == 0;
    case KX_K_CHR:
        return b == c0;
    case KX_K_CHRNUL:
        return b == 0 || b == c0;
    case KX_K_ANY2:
        return b == 0 || b == c0 || b == c1;
    case KX_K_ANY4:
        return b == 0 || b == c0 || b == c1 || b == c2 || b == c3;
    default:
        return b != c0 && b != c1 && b != c2 && b != c3;
    }
}

#if KX_K_SSE2
/* 0xff in the lanes of the 16 bytes x that match mode */
KX_K_INL __m128i kx_k_vmatch(__m128i x, int mode, __m128i v0, __m128i v1, __m128i v2, __m128i v3)
{
    const __m128i z = _mm_setzero_si128();
    switch (mode) {
    case KX_K_NUL:
        return _mm_cmpeq_epi8(x, z);
    case KX_K_CHR:
        return _mm_cmpeq_epi8(x, v0);
    case KX_K_CHRNUL:
        return _mm_or_si128(_mm_cmpeq_epi8(x, z), _mm_cmpeq_epi8(x, v0));
    case KX_K_ANY2:
        return _mm_or_si128(_mm_cmpeq_epi8(x, z),
                            _mm_or_si128(_mm_cmpeq_epi8(x, v0), _mm_cmpeq_epi8(x, v1)));
    case KX_K_ANY4:
        return _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, z), _mm_cmpeq_epi8(x, v0)),
            _mm_or_si128(_mm_cmpeq_epi8(x, v1),
                         _mm_or_si128(_mm_cmpeq_epi8(x, v2), _mm_cmpeq_epi8(x, v3))));
    default: /* none of c0..c3: the lanes where the "one of them" mask is 0 */
        return _mm_cmpeq_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, v0), _mm_cmpeq_epi8(x, v1)),
                         _mm_or_si128(_mm_cmpeq_epi8(x, v2), _mm_cmpeq_epi8(x, v3))),
            z);
    }
}

/* a vector that is 0 exactly in the lanes of x that match mode (cheaper to
 * combine over four blocks: one min per block, one compare for all four) */
KX_K_INL __m128i kx_k_vzero(__m128i x, int mode, __m128i v0, __m128i v1, __m128i v2, __m128i v3)
{
    switch (mode) {
    case KX_K_NUL:
        return x;
    case KX_K_CHR:
        return _mm_xor_si128(x, v0);
    case KX_K_CHRNUL:
        return _mm_min_epu8(x, _mm_xor_si128(x, v0));
    case KX_K_ANY2:
        return _mm_min_epu8(x, _mm_min_epu8(_mm_xor_si128(x, v0), _mm_xor_si128(x, v1)));
    case KX_K_ANY4:
        return _mm_min_epu8(_mm_min_epu8(x, _mm_xor_si128(x, v0)),
                            _mm_min_epu8(_mm_xor_si128(x, v1),
                                         _mm_min_epu8(_mm_xor_si128(x, v2), _mm_xor_si128(x, v3))));
    default: /* 0xff where x is one of c0..c3 */
        return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, v0), _mm_cmpeq_epi8(x, v1)),
                            _mm_or_si128(_mm_cmpeq_epi8(x, v2), _mm_cmpeq_epi8(x, v3)));
    }
}

/* the 16-bit mask of the bytes of the aligned block q that match */
KX_K_INL unsigned kx_k_mask(const uint8_t *q, int mode, __m128i v0, __m128i v1, __m128i v2,
                            __m128i v3)
{
    const __m128i x = _mm_load_si128((const __m128i *)(const void *)q);
    return (unsigned)_mm_movemask_epi8(kx_k_vmatch(x, mode, v0, v1, v2, v3));
}
#endif

/* The first byte in [p, lim) (p < lim) that matches mode, or NULL; atend:
 * lim is the end of memory (then a match in a block read is before it).
 * Reads the aligned 16-byte blocks that hold a byte of [p, lim) (see the
 * invariant), one at a time up to a 64-byte boundary, then four at a time. */
KX_K_INL const uint8_t *kx_k_scan(const uint8_t *p, const uint8_t *lim, int mode, uint32_t cs,
                                  int atend)
{
#if KX_K_SSE2
    /* c0..c3 each in all 16 lanes: bytes doubled twice, then one dword spread */
    const __m128i c = _mm_cvtsi32_si128((int)cs), cc = _mm_unpacklo_epi8(c, c);
    const __m128i w = _mm_unpacklo_epi16(cc, cc);
    const __m128i v0 = _mm_shuffle_epi32(w, 0x00), v1 = _mm_shuffle_epi32(w, 0x55);
    const __m128i v2 = _mm_shuffle_epi32(w, 0xaa), v3 = _mm_shuffle_epi32(w, 0xff);
    const unsigned off = (unsigned)((uintptr_t)p & 15);
    const uint8_t *q = p - off;
    const uint8_t *qlast = (const uint8_t *)((uintptr_t)(lim - 1) & ~(uintptr_t)15);
    unsigned m = kx_k_mask(q, mode, v0, v1, v2, v3) & (0xffffu << off);
    if (m) goto found;
    for (q += 16; q <= qlast && ((uintptr_t)q & 63); q += 16) /* (short strings end here) */
        if ((m = kx_k_mask(q, mode, v0, v1, v2, v3))) goto found;
    for (; q + 48 <= qlast; q += 64) {
        const __m128i *b = (const __m128i *)(const void *)q, z = _mm_setzero_si128();
        __m128i r0 = kx_k_vzero(_mm_load_si128(b), mode, v0, v1, v2, v3);
        __m128i r1 = kx_k_vzero(_mm_load_si128(b + 1), mode, v0, v1, v2, v3);
        __m128i r2 = kx_k_vzero(_mm_load_si128(b + 2), mode, v0, v1, v2, v3);
        __m128i r3 = kx_k_vzero(_mm_load_si128(b + 3), mode, v0, v1, v2, v3);
        __m128i all = _mm_min_epu8(_mm_min_epu8(r0, r1), _mm_min_epu8(r2, r3));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(all, z))) {
            if ((m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r0, z)))) goto found;
            q += 16;
            if ((m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r1, z)))) goto found;
            q += 16;
            if ((m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r2, z)))) goto found;
            q += 16;
            m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r3, z));
            goto found;
        }
    }
    for (; q <= qlast; q += 16)
        if ((m = kx_k_mask(q, mode, v0, v1, v2, v3))) goto found;
    return NULL;
found:
    p = q + __builtin_ctz(m);
    return atend || p < lim ? p : NULL;
#else
    (void)atend;
    for (; p < lim; p++)
        if (kx_k_match(*p, mode, cs)) return p;
    return NULL;
#endif
}

/* The last byte equal to c in [p, e) (p < e), or NULL; reads as kx_k_scan. */
KX_K_INL const uint8_t *kx_k_rscan(const uint8_t *p, const uint8_t *e, uint8_t c)
{
#if KX_K_SSE2
    const __m128i v = _mm_set1_epi8((char)c), z = _mm_setzero_si128();
    const uint8_t *q = (const uint8_t *)((uintptr_t)(e - 1) & ~(uintptr_t)15);
    unsigned m = kx_k_mask(q, KX_K_CHR, v, z, z, z) & (0xffffu >> (15 - (unsigned)(e - 1 - q)));
    while (!m) {
        if (q <= p) return NULL;
        q -= 16;
        m = kx_k_mask(q, KX_K_CHR, v, z, z, z);
    }
    e = q + (31 - __builtin_clz(m));
    return e >= p ? e : NULL;
#else
    while (e > p)
        if (*--e == c) return e;
    return NULL;
#endif
}

#if KX_K_SSE2
/* the 16-bit mask of the bytes where the 16 bytes at x and y differ */
KX_K_INL unsigned kx_k_neq16(const uint8_t *x, const uint8_t *y)
{
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)x);
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)y);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) ^ 0xffffu;
}
#endif

/* The index of the first i < n where a[i] != b[i], or (nul) where a[i] is
 * 0; n if there is none. n bytes of each must be readable. */
KX_K_INL uint64_t kx_k_cmpidx(const uint8_t *a, const uint8_t *b, uint64_t n, int nul)
{
    uint64_t i = 0;
#if KX_K_SSE2
#define KX_K_LD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
    /* per block, a vector that is 0 exactly in the lanes where the scan stops: memcmp
     * cmpeq(x, y); strcmp min(cmpeq(x, y), x) (0 where they differ or x is 0) */
#define KX_K_GO(x, y) (nul ? _mm_min_epu8(_mm_cmpeq_epi8((x), (y)), (x)) : _mm_cmpeq_epi8((x), (y)))
    const __m128i z = _mm_setzero_si128();
    unsigned m;
    for (; i + 64 <= n; i += 64) {
        __m128i g0 = KX_K_GO(KX_K_LD(a + i), KX_K_LD(b + i));
        __m128i g1 = KX_K_GO(KX_K_LD(a + i + 16), KX_K_LD(b + i + 16));
        __m128i g2 = KX_K_GO(KX_K_LD(a + i + 32), KX_K_LD(b + i + 32));
        __m128i g3 = KX_K_GO(KX_K_LD(a + i + 48), KX_K_LD(b + i + 48));
        __m128i all = _mm_min_epu8(_mm_min_epu8(g0, g1), _mm_min_epu8(g2, g3));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(all, z))) {
            if ((m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(g0, z))))
                return i + __builtin_ctz(m);
            if ((m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(g1, z))))
                return i + 16 + __builtin_ctz(m);
            if ((m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(g2, z))))
                return i + 32 + __builtin_ctz(m);
            m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(g3, z));
            return i + 48 + __builtin_ctz(m);
        }
    }
    for (; i + 16 <= n; i += 16)
        if ((m = (unsigned)_mm_movemask_epi8(
                 _mm_cmpeq_epi8(KX_K_GO(KX_K_LD(a + i), KX_K_LD(b + i)), z))))
            return i + __builtin_ctz(m);
    if (!nul && i < n) { /* memcmp: the last (overlapping) block; the bytes before it are equal */
        if (n >= 16) {
            m = kx_k_neq16(a + n - 16, b + n - 16);
            return m ? n - 16 + (unsigned)__builtin_ctz(m) : n;
        }
#if KX_K_LE
        if (n >= 8) { /* first 8, then the last 8 */
            uint64_t x, y;
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            if (x != y) return (uint64_t)__builtin_ctzll(x ^ y) >> 3;
            memcpy(&x, a + n - 8, 8);
            memcpy(&y, b + n - 8, 8);
            return x != y ? n - 8 + ((uint64_t)__builtin_ctzll(x ^ y) >> 3) : n;
        }
        if (n >= 4) {
            uint32_t x, y;
            memcpy(&x, a, 4);
            memcpy(&y, b, 4);
            if (x != y) return (uint64_t)__builtin_ctz(x ^ y) >> 3;
            memcpy(&x, a + n - 4, 4);
            memcpy(&y, b + n - 4, 4);
            return x != y ? n - 4 + ((uint64_t)__builtin_ctz(x ^ y) >> 3) : n;
        }
#endif
    }
#undef KX_K_GO
#undef KX_K_LD
#endif
    for (; i < n; i++)
        if (a[i] != b[i] || (nul && !a[i])) return i;
    return n;
}

/* The NUL-terminated set at wasm address c: its first four bytes (ch) and,
 * when it has more, a bitmap of all its bytes. Returns how many bytes
 * precede the NUL, or -1 if no NUL is inside memory. */
KX_K_INL int64_t kx_k_set(const uint8_t *mem, uint64_t size, uint32_t c, uint64_t bm[4],
                          uint8_t ch[4])
{
    uint64_t i;
    for (i = 0; i < 4; i++) { /* the usual sets are short: no bitmap */
        if (c + i >= size) return -1;
        ch[i] = mem[c + i];
        if (!ch[i]) return (int64_t)i;
    }
    for (i = c;; i++) {
        uint8_t b;
        if (i >= size) return -1;
        b = mem[i];
        if (!b) return (int64_t)(i - c);
        bm[b >> 6] |= (uint64_t)1 << (b & 63);
    }
}

/* The common set of strcspn/strspn: the NUL-terminated set at wasm address
 * c when it has at most 4 bytes and its first 8 bytes lie in memory, as
 * one word in *cs: its bytes from the low one up, then (pad) copies of its
 * first byte or (!pad) 0. Returns 0 for the empty set, 2 for a set of 1 or
 * 2 bytes, 4 for 3 or 4, -1 otherwise (then see kx_k_set). */
KX_K_INL int kx_k_set4(const uint8_t *mem, uint64_t size, uint32_t c, uint32_t *cs, int pad)
{
#if KX_K_LE
    uint64_t w, z, keep;
    if ((uint64_t)c + 8 > size) return -1;
    memcpy(&w, mem + c, 8);
    /* the lowest 0x80 bit of z marks the first NUL (a borrow only sets bits above it) */
    z = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
    if (!(z & 0x8080808080ull)) return -1; /* no NUL in the first 5 bytes */
    keep = ((z & (0 - z)) >> 7) - 1;       /* the bytes before the NUL */
    *cs = (uint32_t)((w & keep) | (pad ? (w & 0xff) * 0x01010101u & ~keep : 0));
    return z & 0x80 ? 0 : z & 0x808080 ? 2 : 4;
#else
    uint32_t k, v = 0;
    if ((uint64_t)c + 5 > size) return -1;
    for (k = 0; k < 4 && mem[c + k]; k++)
        v |= (uint32_t)mem[c + k] << (8 * k);
    if (k == 4 && mem[c + 4]) return -1;
    for (uint32_t i = k; pad && i < 4; i++)
        v |= (v & 0xff) << (8 * i);
    *cs = v;
    return k == 0 ? 0 : k <= 2 ? 2 : 4;
#endif
}

/* The rest of a long scan for (uint8_t)c: [from, end) with the host's
 * memchr (from is 16-byte aligned, end the end of the range inside memory
 * 0); the offset from base of the byte found, else nf. Out of line, so the
 * fast paths keep no value across the call (a sibling call of it). */
static __attribute__((noinline, unused)) uint64_t kx_k_host_scan(const uint8_t *base,
                                                                 const uint8_t *from,
                                                                 const uint8_t *end, int c,
                                                                 uint64_t nf)
{
    const uint8_t *p = (const uint8_t *)KX_K_HOST_MEMCHR(from, c, (size_t)(end - from));
    return p ? (uint64_t)(p - base) : nf;
}

/* where a scan from p hands over to kx_k_host_scan: the 16-byte boundary
 * KX_K_HOST_SCAN bytes on, at most (past p) */
KX_K_INL const uint8_t *kx_k_host_from(const uint8_t *p)
{
    return (const uint8_t *)(((uintptr_t)p + KX_K_HOST_SCAN) & ~(uintptr_t)15);
}

/* ---- the functions (arguments and results are wasm values) ---- */

/* strlen scanned here only (strrchr's) */
KX_K_FN uint64_t kx_k_strlen_local(const uint8_t *mem, uint64_t size, uint32_t s)
{
    const uint8_t *p;
    if (s >= size) return KX_K_FALLBACK;
    p = kx_k_scan(mem + s, mem + size, KX_K_NUL, 0, 1);
    return p ? (uint64_t)(p - (mem + s)) : KX_K_FALLBACK;
}

/* strlen when the NUL comes within about KX_K_HOST_SCAN bytes (before the
 * hand-over point), else KX_K_FALLBACK: no call, so the generated fast path
 * keeps no register across one (the rest goes out of line to kx_k_strlen) */
KX_K_FN uint64_t kx_k_strlen_fast(const uint8_t *mem, uint64_t size, uint32_t s)
{
    const uint8_t *p, *stop;
    if (s >= size) return KX_K_FALLBACK;
    /* (nearly always the hand-over point: memory is larger). Either stop is
     * 16-byte aligned or the end of memory, so the blocks read end there and
     * a NUL found lies before it (atend) */
    stop = size - s > KX_K_HOST_SCAN ? kx_k_host_from(mem + s) : mem + size;
    p = kx_k_scan(mem + s, stop, KX_K_NUL, 0, 1);
    return p ? (uint64_t)(p - (mem + s)) : KX_K_FALLBACK;
}

/* the rest of strlen after kx_k_strlen_fast declined: the host's memchr
 * from the hand-over point to the end of memory */
KX_K_FN uint64_t kx_k_strlen_slow(const uint8_t *mem, uint64_t size, uint32_t s)
{
    if (s >= size || size - s <= KX_K_HOST_SCAN) return KX_K_FALLBACK; /* (no NUL in memory) */
    return kx_k_host_scan(mem + s, kx_k_host_from(mem + s), mem + size, 0, KX_K_FALLBACK);
}

KX_K_FN uint64_t kx_k_strlen(const uint8_t *mem, uint64_t size, uint32_t s)
{
    uint64_t r = kx_k_strlen_fast(mem, size, s);
    return r != KX_K_FALLBACK ? r : kx_k_strlen_slow(mem, size, s);
}

/* the address of the first byte of s that is 0 or (uint8_t)c (musl __strchrnul) */
KX_K_FN uint64_t kx_k_strchrnul(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    const uint8_t *p;
    if (s >= size) return KX_K_FALLBACK;
    p = (uint8_t)c ? kx_k_scan(mem + s, mem + size, KX_K_CHRNUL, (uint8_t)c, 1)
                   : kx_k_scan(mem + s, mem + size, KX_K_NUL, 0, 1);
    return p ? (uint64_t)(p - mem) : KX_K_FALLBACK;
}

/* __strchrnul, then 0 unless the byte found is (uint8_t)c (c == 0 finds the NUL) */
KX_K_FN uint64_t kx_k_strchr(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    uint64_t r = kx_k_strchrnul(mem, size, s, c);
    if (r == KX_K_FALLBACK) return r;
    return mem[r] == (uint8_t)c ? r : 0;
}

/* the length of the prefix of s without a byte of the set c */
KX_K_FN uint64_t kx_k_strcspn(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    uint64_t bm[4] = {0, 0, 0, 0};
    uint8_t ch[4] = {0, 0, 0, 0};
    const uint8_t *p, *lim = mem + size;
    int64_t n = kx_k_set(mem, size, c, bm, ch);
    if (n < 0 || s >= size) return KX_K_FALLBACK;
    p = mem + s;
    if (n <= 4) { /* (absent bytes are 0, which the scan stops at anyway) */
        p = kx_k_scan(p, lim, KX_K_ANY4, ch[0] | ch[1] << 8 | ch[2] << 16 | (uint32_t)ch[3] << 24,
                      1);
    } else {
        for (; p < lim; p++)
            if (!*p || (bm[*p >> 6] >> (*p & 63) & 1)) break;
        if (p == lim) p = NULL;
    }
    return p ? (uint64_t)(p - (mem + s)) : KX_K_FALLBACK;
}

/* kx_k_strcspn for sets of up to 4 bytes whose first 8 lie in memory, or
 * KX_K_FALLBACK (the 0 bytes of cs past the set's end change nothing: the
 * scan stops at NUL) */
KX_K_FN uint64_t kx_k_strcspn_fast(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    uint32_t cs;
    const uint8_t *p;
    int k;
    if (s >= size || (k = kx_k_set4(mem, size, c, &cs, 0)) < 0) return KX_K_FALLBACK;
    p = k <= 2 ? kx_k_scan(mem + s, mem + size, KX_K_ANY2, cs, 1)
               : kx_k_scan(mem + s, mem + size, KX_K_ANY4, cs, 1);
    return p ? (uint64_t)(p - (mem + s)) : KX_K_FALLBACK;
}

/* the length of the prefix of s made of bytes of the set c (musl reads no
 * byte of s when c is empty) */
KX_K_FN uint64_t kx_k_strspn(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    uint64_t bm[4] = {0, 0, 0, 0};
    uint8_t ch[4] = {0, 0, 0, 0};
    const uint8_t *p, *lim = mem + size;
    int64_t n = kx_k_set(mem, size, c, bm, ch);
    if (n < 0) return KX_K_FALLBACK;
    if (n == 0) return 0;
    if (s >= size) return KX_K_FALLBACK;
    p = mem + s;
    if (n <= 4) { /* (absent bytes repeat the first: NUL must stay outside the set) */
        uint32_t cs = ch[0] * 0x01010101u;
        for (int64_t i = 1; i < n; i++)
            cs = (cs & ~(0xffu << (8 * i))) | (uint32_t)ch[i] << (8 * i);
        p = kx_k_scan(p, lim, KX_K_NOT4, cs, 1);
    } else {
        for (; p < lim; p++)
            if (!(bm[*p >> 6] >> (*p & 63) & 1)) break; /* NUL is never in the set */
        if (p == lim) p = NULL;
    }
    return p ? (uint64_t)(p - (mem + s)) : KX_K_FALLBACK;
}

/* kx_k_strspn for sets of 1 to 4 bytes whose first 8 lie in memory, or
 * KX_K_FALLBACK */
KX_K_FN uint64_t kx_k_strspn_fast(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    uint32_t cs;
    const uint8_t *p;
    if (s >= size || kx_k_set4(mem, size, c, &cs, 1) <= 0) return KX_K_FALLBACK;
    p = kx_k_scan(mem + s, mem + size, KX_K_NOT4, cs, 1);
    return p ? (uint64_t)(p - (mem + s)) : KX_K_FALLBACK;
}

/* the address of the first (uint8_t)c in [s, s+n), or 0; musl reads up to
 * the byte found, so a range that leaves memory after it is fine. Scanned
 * here only (strnlen's). */
KX_K_FN uint64_t kx_k_memchr_local(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c,
                                   uint32_t n)
{
    const uint8_t *p;
    uint64_t end = (uint64_t)s + n;
    if (n == 0) return 0;
    if (s >= size) return KX_K_FALLBACK;
    p = kx_k_scan(mem + s, mem + (end < size ? end : size), KX_K_CHR, (uint8_t)c, 0);
    if (p) return (uint64_t)(p - mem);
    return end <= size ? 0 : KX_K_FALLBACK;
}

/* memchr over ranges of up to KX_K_HOST_SCAN bytes and the first bytes of
 * longer ones (to the hand-over point), else KX_K_FALLBACK (see strlen) */
KX_K_FN uint64_t kx_k_memchr_fast(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c,
                                  uint32_t n)
{
    const uint8_t *p, *stop;
    uint64_t end = (uint64_t)s + n, lim;
    if (n == 0) return 0;
    if (s >= size) return KX_K_FALLBACK;
    lim = end < size ? end : size;
    stop = lim - s > KX_K_HOST_SCAN ? kx_k_host_from(mem + s) : mem + lim;
    p = kx_k_scan(mem + s, stop, KX_K_CHR, (uint8_t)c, 0);
    if (p) return (uint64_t)(p - mem);
    return stop == mem + end ? 0 : KX_K_FALLBACK; /* (the range ends in memory: no byte found) */
}

/* the rest of memchr after kx_k_memchr_fast declined: the host's memchr
 * from the hand-over point to the end of the range or of memory */
KX_K_FN uint64_t kx_k_memchr_slow(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c,
                                  uint32_t n)
{
    uint64_t end = (uint64_t)s + n, lim = end < size ? end : size;
    if (s >= size || lim - s <= KX_K_HOST_SCAN) return KX_K_FALLBACK; /* (past memory) */
    return kx_k_host_scan(mem, kx_k_host_from(mem + s), mem + lim, (uint8_t)c,
                          end <= size ? 0 : KX_K_FALLBACK);
}

KX_K_FN uint64_t kx_k_memchr(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c, uint32_t n)
{
    uint64_t r = kx_k_memchr_fast(mem, size, s, c, n);
    return r != KX_K_FALLBACK ? r : kx_k_memchr_slow(mem, size, s, c, n);
}

/* musl strnlen: p = memchr(s, 0, n), p ? p - s : n (a NUL at address 0 is not found) */
KX_K_FN uint64_t kx_k_strnlen(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t n)
{
    uint64_t p = kx_k_memchr_local(mem, size, s, 0, n);
    if (p == KX_K_FALLBACK) return p;
    return p ? (uint32_t)((uint32_t)p - s) : n;
}

/* the address of the last (uint8_t)c in [s, s+n), or 0; musl reads from
 * the end, so the whole range must be inside memory */
KX_K_FN uint64_t kx_k_memrchr(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c, uint32_t n)
{
    const uint8_t *p;
    if (n == 0) return 0;
    if ((uint64_t)s + n > size) return KX_K_FALLBACK;
    p = kx_k_rscan(mem + s, mem + s + n, (uint8_t)c);
    return p ? (uint64_t)(p - mem) : 0;
}

/* musl strrchr: __memrchr(s, c, strlen(s) + 1) */
KX_K_FN uint64_t kx_k_strrchr(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    uint64_t n = kx_k_strlen_local(mem, size, s);
    if (n == KX_K_FALLBACK) return n;
    return kx_k_memrchr(mem, size, s, c, (uint32_t)n + 1);
}

/* the difference of the first differing bytes (unsigned), up to and
 * including a NUL of l */
KX_K_FN uint64_t kx_k_strcmp(const uint8_t *mem, uint64_t size, uint32_t l, uint32_t r)
{
    uint64_t avail, i;
    if (l >= size || r >= size) return KX_K_FALLBACK;
    avail = size - (l > r ? l : r);
    i = kx_k_cmpidx(mem + l, mem + r, avail, 1);
    if (i == avail) return KX_K_FALLBACK;
    return (uint32_t)((int32_t)mem[l + i] - (int32_t)mem[r + i]);
}

/* as strcmp, the n-th byte at most (n == 0: 0, nothing read) */
KX_K_FN uint64_t kx_k_strncmp(const uint8_t *mem, uint64_t size, uint32_t l, uint32_t r, uint32_t n)
{
    uint64_t avail, lim, i;
    if (n == 0) return 0;
    if (l >= size || r >= size) return KX_K_FALLBACK;
    avail = size - (l > r ? l : r);
    lim = n < avail ? n : avail;
    i = kx_k_cmpidx(mem + l, mem + r, lim, 1);
    if (i == lim) {
        if (n > avail) return KX_K_FALLBACK;
        return 0; /* n bytes equal and without NUL: musl stops at n - 1 */
    }
    return (uint32_t)((int32_t)mem[l + i] - (int32_t)mem[r + i]);
}

/* musl memcmp: the difference of the first differing bytes; it reads up
 * to that difference only */
KX_K_FN uint64_t kx_k_memcmp(const uint8_t *mem, uint64_t size, uint32_t a, uint32_t b, uint32_t n)
{
    uint64_t avail, lim, i;
    if (n == 0) return 0;
    if (a >= size || b >= size) return KX_K_FALLBACK;
    avail = size - (a > b ? a : b);
    lim = n < avail ? n : avail;
    i = kx_k_cmpidx(mem + a, mem + b, lim, 0);
    if (i == lim) return n > avail ? KX_K_FALLBACK : 0;
    return (uint32_t)((int32_t)mem[a + i] - (int32_t)mem[b + i]);
}

/* kx_k_memcmp when 16 bytes past both ranges lie in memory (reads past the
 * n bytes then stay in it), or KX_K_FALLBACK: one 16-byte compare for
 * n <= 16, then up to 80 bytes 16 at a time and the last 16, longer ones
 * 64 bytes per step */
KX_K_FN uint64_t kx_k_memcmp_fast(const uint8_t *mem, uint64_t size, uint32_t a, uint32_t b,
                                  uint32_t n)
{
#if KX_K_SSE2
    const uint8_t *x = mem + a, *y = mem + b;
    uint64_t i;
    unsigned m;
    if ((uint64_t)(a > b ? a : b) + n + 16 > size) return KX_K_FALLBACK;
    m = kx_k_neq16(x, y);
    if (n <= 16) {
        i = (unsigned)__builtin_ctz(m | 0x10000u);
        if (i >= n) return 0;
    } else if (m) {
        i = (unsigned)__builtin_ctz(m);
    } else if (n > 80) { /* 64 bytes per step */
        i = 16 + kx_k_cmpidx(x + 16, y + 16, n - 16, 0);
        if (i == n) return 0;
    } else {
        for (i = 16; i + 16 < n; i += 16)
            if ((m = kx_k_neq16(x + i, y + i))) goto found;
        i = n - 16;
        if (!(m = kx_k_neq16(x + i, y + i))) return 0;
    found:
        i += (unsigned)__builtin_ctz(m);
    }
    return (uint32_t)((int32_t)x[i] - (int32_t)y[i]);
#else
    return kx_k_memcmp(mem, size, a, b, n);
#endif
}

/* n <= 32 bytes from s to d, every load before the first store (so any
 * overlap gives memmove's result), as glibc's small copies: two
 * overlapping words or vectors from each end */
KX_K_INL void kx_k_copy32(uint8_t *d, const uint8_t *s, uint32_t n)
{
    if (n > 16) {
        kx_k_v16 a0 = kx_k_ld16(s), b0 = kx_k_ld16(s + n - 16);
        kx_k_st16(d, a0);
        kx_k_st16(d + n - 16, b0);
    } else if (n >= 8) {
        uint64_t a0, b0;
        memcpy(&a0, s, 8);
        memcpy(&b0, s + n - 8, 8);
        memcpy(d, &a0, 8);
        memcpy(d + n - 8, &b0, 8);
    } else if (n >= 4) {
        uint32_t a0, b0;
        memcpy(&a0, s, 4);
        memcpy(&b0, s + n - 4, 4);
        memcpy(d, &a0, 4);
        memcpy(d + n - 4, &b0, 4);
    } else if (n) {
        uint8_t a0 = s[0], a1 = s[n >> 1], a2 = s[n - 1];
        d[0] = a0;
        d[n >> 1] = a1;
        d[n - 1] = a2;
    }
}

/* 32 < n <= 64 bytes, the same way */
KX_K_INL void kx_k_copy64(uint8_t *d, const uint8_t *s, uint32_t n)
{
    kx_k_v16 a0 = kx_k_ld16(s), a1 = kx_k_ld16(s + 16), b0 = kx_k_ld16(s + n - 32),
             b1 = kx_k_ld16(s + n - 16);
    kx_k_st16(d, a0);
    kx_k_st16(d + 16, a1);
    kx_k_st16(d + n - 32, b0);
    kx_k_st16(d + n - 16, b1);
}

/* musl memcpy, for ranges inside memory that do not overlap (musl's result
 * for overlapping ones is its own: the translated body makes it). The
 * copies, memmove and memset leave n == 0 with an argument past the end of
 * memory to the translated body too (it returns d). */
KX_K_FN uint64_t kx_k_memcpy(uint8_t *mem, uint64_t size, uint32_t d, uint32_t s, uint32_t n)
{
    /* both ranges in memory: the higher one ends in it; then they overlap
     * iff |d - s| < n, which 32-bit wrapping arithmetic computes as below
     * (for n == 0 the test is true unless d == s: the translated body
     * returns d then) */
    const uint64_t dd = d, ss = s, nn = n;
    if ((dd > ss ? dd : ss) + nn > size || dd - ss + nn - 1 < 2 * nn - 1) return KX_K_FALLBACK;
    if (n > 32) { /* (the tests in the order of sqlite's sizes: 33..64 most often) */
        if (n > 64) return kiln__aot_memcpy_r(mem + d, mem + s, n, d);
        kx_k_copy64(mem + d, mem + s, n);
    } else {
        kx_k_copy32(mem + d, mem + s, n);
    }
    return d;
}

KX_K_FN uint64_t kx_k_memmove(uint8_t *mem, uint64_t size, uint32_t d, uint32_t s, uint32_t n)
{
    if (n == 0) return d; /* (a third of sqlite's memmoves) */
    if ((uint64_t)d + n > size || (uint64_t)s + n > size) return KX_K_FALLBACK;
    if (n > 32) {
        if (n > 64) return kiln__aot_memmove_r(mem + d, mem + s, n, d);
        kx_k_copy64(mem + d, mem + s, n);
    } else {
        kx_k_copy32(mem + d, mem + s, n);
    }
    return d;
}

/* 0 < n <= 64 bytes (uint8_t)c at p */
KX_K_INL void kx_k_set64(uint8_t *p, uint32_t c, uint32_t n)
{
    if (n <= 16) {
        uint64_t w = 0x0101010101010101ull * (uint8_t)c;
        if (n >= 8) {
            memcpy(p, &w, 8);
            memcpy(p + n - 8, &w, 8);
        } else if (n >= 4) {
            memcpy(p, &w, 4);
            memcpy(p + n - 4, &w, 4);
        } else if (n) {
            p[0] = (uint8_t)c;
            p[n >> 1] = (uint8_t)c;
            p[n - 1] = (uint8_t)c;
        }
    } else {
        kx_k_v16 v = {0};
        v += (uint8_t)c;
        kx_k_st16(p, v);
        kx_k_st16(p + n - 16, v);
        if (n > 32) {
            kx_k_st16(p + 16, v);
            kx_k_st16(p + n - 32, v);
        }
    }
}

KX_K_FN uint64_t kx_k_memset(uint8_t *mem, uint64_t size, uint32_t d, uint32_t c, uint32_t n)
{
    if (n == 0) return d; /* (sqlite's memsets are mostly empty) */
    if ((uint64_t)d + n > size) return KX_K_FALLBACK;
    if (n > 64) return kiln__aot_memset_r(mem + d, (int)(uint8_t)c, n, d);
    kx_k_set64(mem + d, c, n);
    return d;
}

/* what fy<f> (translate_known.c) calls after a _fast variant declined:
 * the full function (strlen and memchr have their own, above) */
KX_K_FN uint64_t kx_k_memcmp_slow(const uint8_t *mem, uint64_t size, uint32_t a, uint32_t b,
                                  uint32_t n)
{
    return kx_k_memcmp(mem, size, a, b, n);
}
KX_K_FN uint64_t kx_k_strcspn_slow(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    return kx_k_strcspn(mem, size, s, c);
}
KX_K_FN uint64_t kx_k_strspn_slow(const uint8_t *mem, uint64_t size, uint32_t s, uint32_t c)
{
    return kx_k_strspn(mem, size, s, c);
}

#endif
