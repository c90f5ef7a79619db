/*
 * aot_known.h — helpers of the native fast paths of well-known libc
 * functions (translate_known.c), included by aot_gen.h into every
 * generated C file. Each returns exactly what the wasm (musl) function
 * returns for arguments inside memory 0; the caller has checked bounds.
 */
#ifndef KILN_WASM_AOT_KNOWN_H
#define KILN_WASM_AOT_KNOWN_H

#include <stdint.h>
#include <string.h>

/* musl's memcmp result: the difference of the first differing bytes */
static uint32_t __attribute__((unused)) kx_memcmp_diff(const uint8_t *a, const uint8_t *b,
                                                       uint32_t n)
{
    uint32_t i = 0;
    if (memcmp(a, b, n) == 0) return 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
            i += (uint32_t)__builtin_ctzll(x ^ y) >> 3; /* little-endian: first differing byte */
            return (uint32_t)((int32_t)a[i] - (int32_t)b[i]);
        }
    }
    for (; i < n; i++)
        if (a[i] != b[i]) return (uint32_t)((int32_t)a[i] - (int32_t)b[i]);
    return 0;
}

#endif
