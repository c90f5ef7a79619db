/*
 * wasm_rt.c — the few libc functions the compiler may call in freestanding wasm builds of the
 * kernels (memcpy, memmove, memset). Plain byte loops: clang recognises these function names
 * and never turns their bodies back into calls to themselves; with bulk memory disabled
 * (clang 14's default for wasm32) they are what `__builtin_memcpy` becomes for large sizes.
 * The word copy goes through a may_alias type, so the kernels compile with strict aliasing,
 * as their native builds do.
 */
#include <stddef.h>
#include <stdint.h>

typedef uint64_t __attribute__((may_alias)) u64_alias;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    /* word copies when both are aligned: cheap win that every libc makes */
    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(u64_alias *)d = *(const u64_alias *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}
