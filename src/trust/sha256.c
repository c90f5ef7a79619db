/*
 * sha256.c — SHA-256 for unit digests: the x86-64 SHA extensions when the
 * CPU has them (about 5x libsodium's portable code, so hashing a payload
 * runs near memory bandwidth), libsodium otherwise.
 *
 * Invariant: both paths compute FIPS 180-4 SHA-256 bit for bit; the choice
 * is made once from CPUID (SHA, SSE4.1, SSSE3) and tests/trust compares the
 * result with libsodium on many lengths (one-shot and incremental in pieces
 * of every size). The incremental form (kiln_sha256_init/update/final) keeps
 * either our state or libsodium's in struct kiln_sha256, so kiln_image can
 * hash layers while streaming them at the same speed.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* Compresses nblocks 64-byte blocks into state (h0..h7). */
SHANI_TARGET static void shani_blocks(uint32_t state[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i s0, s1, t, w[4], msg, save0, save1;
    int i;

    /* h0..h3, h4..h7 -> the ABEF / CDGH lane order the instructions use */
    t = _mm_loadu_si128((const __m128i *)&state[0]);
    s1 = _mm_loadu_si128((const __m128i *)&state[4]);
    t = _mm_shuffle_epi32(t, 0xB1);
    s1 = _mm_shuffle_epi32(s1, 0x1B);
    s0 = _mm_alignr_epi8(t, s1, 8);
    s1 = _mm_blend_epi16(s1, t, 0xF0);

    for (; nblocks; nblocks--, p += 64) {
        save0 = s0;
        save1 = s1;
#pragma GCC unroll 16
        for (i = 0; i < 16; i++) {
            if (i < 4) {
                w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
            } else {
                /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time */
                __m128i x = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
                w[i & 3] = _mm_sha256msg2_epu32(x, w[(i + 3) & 3]);
            }
            msg = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)&K256[4 * i]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
            msg = _mm_shuffle_epi32(msg, 0x0E);
            s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
        }
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
    }

    t = _mm_shuffle_epi32(s0, 0x1B);
    s1 = _mm_shuffle_epi32(s1, 0xB1);
    s0 = _mm_blend_epi16(t, s1, 0xF0);
    s1 = _mm_alignr_epi8(s1, t, 8);
    _mm_storeu_si128((__m128i *)&state[0], s0);
    _mm_storeu_si128((__m128i *)&state[4], s1);
}

static void shani_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t tail[128];
    size_t full = len / 64, rest = len % 64, tlen = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    int i;
    shani_blocks(h, data, full);
    memset(tail, 0, sizeof tail);
    if (rest) memcpy(tail, data + 64 * full, rest);
    tail[rest] = 0x80;
    for (i = 0; i < 8; i++)
        tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
    shani_blocks(h, tail, tlen / 64);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

static int have_shani(void)
{
    static int cached = -1;
    unsigned a, b, c, d;
    if (cached >= 0) return cached;
    cached = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3) &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA))
        cached = 1;
    return cached;
}
#endif

void kiln__sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (have_shani()) {
        shani_sha256(data, len, out);
        return;
    }
#endif
    crypto_hash_sha256(out, data, len);
}

void kiln_sha256_hex(const uint8_t *data, size_t len, char hex[65])
{
    uint8_t d[32];
    kiln__sha256(data, len, d);
    sodium_bin2hex(hex, 65, d, sizeof d);
}

/* ------------------------------------------------------ incremental --- */

/* The state behind struct kiln_sha256 with the SHA extensions. */
struct ni_state {
    uint32_t h[8];
    uint64_t bytes; /* total length so far */
    uint8_t buf[64];
};

_Static_assert(sizeof(struct ni_state) <= sizeof(((struct kiln_sha256 *)0)->u.opaque),
               "kiln_sha256 too small");
_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct kiln_sha256 *)0)->u.opaque),
               "kiln_sha256 too small for libsodium's state");

void kiln_sha256_init(struct kiln_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memset(s, 0, sizeof *s);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (have_shani()) {
        struct ni_state *n = (struct ni_state *)s->u.opaque;
        memcpy(n->h, iv, sizeof iv);
        s->ni = 1;
        return;
    }
#endif
    (void)iv;
    crypto_hash_sha256_init((crypto_hash_sha256_state *)s->u.opaque);
}

void kiln_sha256_update(struct kiln_sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (s->ni) {
        struct ni_state *n = (struct ni_state *)s->u.opaque;
        size_t have = (size_t)(n->bytes % 64);
        n->bytes += len;
        if (have) {
            size_t take = 64 - have < len ? 64 - have : len;
            memcpy(n->buf + have, p, take);
            p += take;
            len -= take;
            if (have + take < 64) return;
            shani_blocks(n->h, n->buf, 1);
        }
        if (len >= 64) {
            shani_blocks(n->h, p, len / 64);
            p += len / 64 * 64;
            len %= 64;
        }
        if (len) memcpy(n->buf, p, len);
        return;
    }
#endif
    crypto_hash_sha256_update((crypto_hash_sha256_state *)s->u.opaque, p, len);
}

void kiln_sha256_final(struct kiln_sha256 *s, uint8_t out[32])
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (s->ni) {
        struct ni_state *n = (struct ni_state *)s->u.opaque;
        uint8_t tail[128];
        size_t rest = (size_t)(n->bytes % 64), tlen = rest < 56 ? 64 : 128;
        uint64_t bits = n->bytes * 8;
        int i;
        memset(tail, 0, sizeof tail);
        memcpy(tail, n->buf, rest);
        tail[rest] = 0x80;
        for (i = 0; i < 8; i++)
            tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
        shani_blocks(n->h, tail, tlen / 64);
        for (i = 0; i < 8; i++) {
            out[4 * i] = (uint8_t)(n->h[i] >> 24);
            out[4 * i + 1] = (uint8_t)(n->h[i] >> 16);
            out[4 * i + 2] = (uint8_t)(n->h[i] >> 8);
            out[4 * i + 3] = (uint8_t)n->h[i];
        }
        sodium_memzero(s, sizeof *s);
        return;
    }
#endif
    crypto_hash_sha256_final((crypto_hash_sha256_state *)s->u.opaque, out);
    sodium_memzero(s, sizeof *s);
}

void kiln_sha256_final_hex(struct kiln_sha256 *s, char hex[65])
{
    uint8_t d[32];
    kiln_sha256_final(s, d);
    sodium_bin2hex(hex, 65, d, sizeof d);
}
