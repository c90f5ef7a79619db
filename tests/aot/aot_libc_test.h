/*
 * aot_libc_test.h — kiln's AOT C library (src/wasm/aot/aot_libc.c) compiled
 * into a native test program under kxt_ names, so it sits next to glibc's
 * functions instead of replacing them (the test compares the two). With
 * KXT_WITH_KNOWN defined, aot_known.h (the fast paths of well-known libc
 * functions) is included in the same scope, so its calls reach aot_libc's
 * copies as they do in an object. Build the including file with
 * -fno-builtin -fno-math-errno, as aot.c compiles aot_libc.c.
 */
#ifndef KILN_TESTS_AOT_LIBC_TEST_H
#define KILN_TESTS_AOT_LIBC_TEST_H

#define memcpy kxt_memcpy
#define memmove kxt_memmove
#define memset kxt_memset
#define memcmp kxt_memcmp
#define memchr kxt_memchr
#define trunc kxt_trunc
#define floor kxt_floor
#define ceil kxt_ceil
#define rint kxt_rint
#define nearbyint kxt_nearbyint
#define truncf kxt_truncf
#define floorf kxt_floorf
#define ceilf kxt_ceilf
#define rintf kxt_rintf
#define nearbyintf kxt_nearbyintf
#define sqrt kxt_sqrt
#define sqrtf kxt_sqrtf
#include "wasm/aot/aot_libc.c"
#ifdef KXT_WITH_KNOWN
#include "wasm/aot/aot_known.h"
#endif
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef memchr
#undef trunc
#undef floor
#undef ceil
#undef rint
#undef nearbyint
#undef truncf
#undef floorf
#undef ceilf
#undef rintf
#undef nearbyintf
#undef sqrt
#undef sqrtf

/* kx_rt of a native program: the host C library of long operations is
 * glibc's, each call counted in kxt_host_calls (so tests see which path
 * a length takes) */
static unsigned long kxt_host_calls;
static void *kxt_host_memcpy(void *restrict d, const void *restrict s, size_t n)
{
    kxt_host_calls++;
    return memcpy(d, s, n);
}
static void *kxt_host_memmove(void *d, const void *s, size_t n)
{
    kxt_host_calls++;
    return memmove(d, s, n);
}
static void *kxt_host_memset(void *d, int c, size_t n)
{
    kxt_host_calls++;
    return memset(d, c, n);
}
static void *kxt_host_memchr(const void *s, int c, size_t n)
{
    kxt_host_calls++;
    return (void *)memchr(s, c, n);
}
static const struct kiln_aot_rt kxt_rt = {
    .host_memcpy = kxt_host_memcpy,
    .host_memmove = kxt_host_memmove,
    .host_memset = kxt_host_memset,
    .host_memchr = kxt_host_memchr,
};
__attribute__((visibility("hidden"))) const struct kiln_aot_rt *kx_rt = &kxt_rt;

#endif
