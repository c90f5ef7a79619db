/*
 * bench.h — what every benchmark kernel provides and may use.
 *
 * A kernel is one C file with `int32_t run(int32_t n)`: it does n iterations of a fixed amount
 * of work (so time is linear in n, which lets slow engines run fewer iterations and be scaled)
 * and returns a checksum in [0, 2^31) that must be identical on every engine: the runner
 * compares it with the native build's to catch wrong results. Kernels are freestanding: no
 * libc, no imports, static buffers only; bench_memcpy/bench_memset map to the compiler builtins
 * (native libc, or kernels/wasm_rt.c in the wasm builds).
 */
#ifndef KILN_BENCH_H
#define KILN_BENCH_H

#include <stddef.h>
#include <stdint.h>

int32_t run(int32_t n);

#define bench_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define bench_memset(d, c, n) __builtin_memset((d), (c), (n))

/* Reflected CRC-32 (polynomial 0xEDB88320) of one byte, bit by bit: a cheap, dependent chain
 * used to fold results into checksums. */
static inline uint32_t bench_crc32_byte(uint32_t crc, uint8_t b)
{
    crc ^= b;
    for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    return crc;
}

static inline uint32_t bench_crc32_u32(uint32_t crc, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        crc = bench_crc32_byte(crc, (uint8_t)(v >> (8 * i)));
    return crc;
}

/* xorshift32: a deterministic pseudo-random sequence (state must be non-zero). */
static inline uint32_t bench_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

#endif
