/*
 * known_test.c — the native fast paths of src/wasm/aot/aot_known.h against
 * a model of the musl code they replace (byte reads of a wasm memory that
 * trap outside it), natively, with the memory laid out as memory.c does:
 * page-aligned, its size a multiple of 16 (8 KiB here; memories are
 * multiples of 64 KiB), and here followed by a PROT_NONE page so that a
 * read beyond the end of memory crashes the test.
 *
 * For every function and many argument patterns (lengths 0..300, every
 * alignment 0..31, the difference or the searched byte at every position,
 * bytes >= 0x80, c == 0 and c > 255, strings and ranges ending exactly at
 * the end of memory or crossing it, plus random cases):
 *   - where the model traps, the fast path must answer KX_K_FALLBACK and
 *     leave memory unchanged;
 *   - where the model returns, the fast path must return the same value
 *     (and memory must be the same), except where a fallback is documented
 *     (memcpy of overlapping ranges, ranges of memcpy/memmove/memset that
 *     leave memory: musl writes part of them before it traps; n == 0
 *     copies and fills, which the translated body does just as well);
 *   - the _fast variants (memcmp, strcspn, strspn: the common case inline,
 *     aot_known.h) return what the full function returns, or fall back
 *     without writing; test_fast_cases() checks that they do take their
 *     common cases (a fast path that always fell back would pass the rest).
 * Exit 0 when everything matches; the first mismatches are printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* the host memchr of long scans (KX_K_HOST_SCAN): glibc's, counted */
static unsigned long host_scans;
#define KX_K_HOST_MEMCHR(s, c, n) (host_scans++, memchr((s), (c), (n)))
#include "wasm/aot/aot_known.h"

#define MEMSZ 8192u /* a multiple of 16, as memory sizes are (of 64 KiB) */
#define TRAP UINT64_MAX

static uint8_t *mem;  /* the "wasm memory" of the fast paths (guarded) */
static uint8_t *ref;  /* the model's copy */
static uint8_t *save; /* the memory before the call */
static int failures;
static unsigned long checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond) && failures++ < 20) {                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* ---- the model: musl's code, reading bytes of ref, trapping outside ---- */

static int trapped;
static uint8_t rd(uint64_t a)
{
    if (a >= MEMSZ) {
        trapped = 1;
        return 0;
    }
    return ref[a];
}
static void wr(uint64_t a, uint8_t v)
{
    if (a >= MEMSZ)
        trapped = 1;
    else
        ref[a] = v;
}
#define RD(a)                                                                                      \
    ({                                                                                             \
        uint8_t v_ = rd(a);                                                                        \
        if (trapped) return TRAP;                                                                  \
        v_;                                                                                        \
    })
#define WR(a, v)                                                                                   \
    do {                                                                                           \
        wr((a), (v));                                                                              \
        if (trapped) return TRAP;                                                                  \
    } while (0)

static uint64_t m_strlen(uint32_t s)
{
    uint32_t i = 0;
    while (RD((uint64_t)s + i))
        i++;
    return i;
}
static uint64_t m_strchrnul(uint32_t s, uint32_t c)
{
    c = (uint8_t)c;
    for (;; s++) {
        uint8_t b = RD(s);
        if (!b || b == c) return s;
    }
}
static uint64_t m_strchr(uint32_t s, uint32_t c)
{
    uint64_t r = m_strchrnul(s, c);
    if (r == TRAP) return r;
    return RD(r) == (uint8_t)c ? r : 0;
}
static uint64_t m_strcspn(uint32_t s, uint32_t c)
{
    uint8_t set[256] = {0};
    uint32_t a = s;
    uint8_t c0 = RD(c);
    if (!c0 || !RD((uint64_t)c + 1)) {
        uint64_t r = m_strchrnul(s, c0);
        return r == TRAP ? r : r - a;
    }
    for (;; c++) {
        uint8_t b = RD(c);
        if (!b) break;
        set[b] = 1;
    }
    for (;; s++) {
        uint8_t b = RD(s);
        if (!b || set[b]) return s - a;
    }
}
static uint64_t m_strspn(uint32_t s, uint32_t c)
{
    uint8_t set[256] = {0};
    uint32_t a = s;
    uint8_t c0 = RD(c);
    if (!c0) return 0;
    if (!RD((uint64_t)c + 1)) {
        while (RD(s) == c0)
            s++;
        return s - a;
    }
    for (;; c++) {
        uint8_t b = RD(c);
        if (!b) break;
        set[b] = 1;
    }
    for (;; s++) {
        uint8_t b = RD(s);
        if (!b || !set[b]) return s - a;
    }
}
static uint64_t m_memchr(uint32_t s, uint32_t c, uint32_t n)
{
    for (; n; n--, s++)
        if (RD(s) == (uint8_t)c) return s;
    return 0;
}
static uint64_t m_strnlen(uint32_t s, uint32_t n)
{
    uint64_t p = m_memchr(s, 0, n);
    if (p == TRAP) return p;
    return p ? (uint32_t)p - s : n;
}
static uint64_t m_memrchr(uint32_t s, uint32_t c, uint32_t n)
{
    while (n--)
        if (RD((uint64_t)s + n) == (uint8_t)c) return s + n;
    return 0;
}
static uint64_t m_strrchr(uint32_t s, uint32_t c)
{
    uint64_t n = m_strlen(s);
    if (n == TRAP) return n;
    return m_memrchr(s, c, (uint32_t)n + 1);
}
static uint64_t m_strcmp(uint32_t l, uint32_t r)
{
    for (;; l++, r++) {
        uint8_t a = RD(l), b = RD(r);
        if (a != b || !a) return (uint32_t)((int32_t)a - (int32_t)b);
    }
}
static uint64_t m_strncmp(uint32_t l, uint32_t r, uint32_t n)
{
    if (!n--) return 0;
    for (;; l++, r++, n--) {
        uint8_t a = RD(l), b;
        if (!a) return (uint32_t)(0 - (int32_t)RD(r));
        b = RD(r);
        if (!b || !n || a != b) return (uint32_t)((int32_t)a - (int32_t)b);
    }
}
static uint64_t m_memcmp(uint32_t l, uint32_t r, uint32_t n)
{
    for (; n; n--, l++, r++) {
        uint8_t a = RD(l), b = RD(r);
        if (a != b) return (uint32_t)((int32_t)a - (int32_t)b);
    }
    return 0;
}
static uint64_t m_memmove(uint32_t d, uint32_t s, uint32_t n)
{
    if (d < s)
        for (uint32_t i = 0; i < n; i++)
            WR((uint64_t)d + i, RD((uint64_t)s + i));
    else
        while (n--)
            WR((uint64_t)d + n, RD((uint64_t)s + n));
    return d;
}
static uint64_t m_memset(uint32_t d, uint32_t c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        WR((uint64_t)d + i, (uint8_t)c);
    return d;
}

/* ---- driver ---- */

enum {
    F_STRLEN,
    F_STRCHRNUL,
    F_STRCHR,
    F_STRCSPN,
    F_STRSPN,
    F_MEMCHR,
    F_STRNLEN,
    F_MEMRCHR,
    F_STRRCHR,
    F_STRCMP,
    F_STRNCMP,
    F_MEMCMP,
    F_MEMCPY,
    F_MEMMOVE,
    F_MEMSET,
    F_N
};
static const char *const names[F_N] = {"strlen",  "strchrnul", "strchr",  "strcspn", "strspn",
                                       "memchr",  "strnlen",   "memrchr", "strrchr", "strcmp",
                                       "strncmp", "memcmp",    "memcpy",  "memmove", "memset"};
static unsigned long ncalls[F_N], nfast[F_N], nfast2[F_N];

/* Calls function f both ways on the current memory (mem == ref). */
static void call(int f, uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t want, got;
    uint64_t fast = KX_K_FALLBACK; /* the _fast variant's result, where there is one */
    int writes = f >= F_MEMCPY, may_fall = writes && c == 0, has_fast = 0;
    if (writes) memcpy(save, mem, MEMSZ); /* (the others take const memory) */
    trapped = 0;
    switch (f) {
    case F_STRLEN:
        want = m_strlen(a), got = kx_k_strlen(mem, MEMSZ, a);
        fast = kx_k_strlen_fast(mem, MEMSZ, a), has_fast = 1;
        break;
    case F_STRCHRNUL:
        want = m_strchrnul(a, b), got = kx_k_strchrnul(mem, MEMSZ, a, b);
        break;
    case F_STRCHR:
        want = m_strchr(a, b), got = kx_k_strchr(mem, MEMSZ, a, b);
        break;
    case F_STRCSPN:
        want = m_strcspn(a, b), got = kx_k_strcspn(mem, MEMSZ, a, b);
        fast = kx_k_strcspn_fast(mem, MEMSZ, a, b), has_fast = 1;
        break;
    case F_STRSPN:
        want = m_strspn(a, b), got = kx_k_strspn(mem, MEMSZ, a, b);
        fast = kx_k_strspn_fast(mem, MEMSZ, a, b), has_fast = 1;
        break;
    case F_MEMCHR:
        want = m_memchr(a, b, c), got = kx_k_memchr(mem, MEMSZ, a, b, c);
        fast = kx_k_memchr_fast(mem, MEMSZ, a, b, c), has_fast = 1;
        break;
    case F_STRNLEN:
        want = m_strnlen(a, b), got = kx_k_strnlen(mem, MEMSZ, a, b);
        break;
    case F_MEMRCHR:
        want = m_memrchr(a, b, c), got = kx_k_memrchr(mem, MEMSZ, a, b, c);
        break;
    case F_STRRCHR:
        want = m_strrchr(a, b), got = kx_k_strrchr(mem, MEMSZ, a, b);
        break;
    case F_STRCMP:
        want = m_strcmp(a, b), got = kx_k_strcmp(mem, MEMSZ, a, b);
        break;
    case F_STRNCMP:
        want = m_strncmp(a, b, c), got = kx_k_strncmp(mem, MEMSZ, a, b, c);
        break;
    case F_MEMCMP:
        want = m_memcmp(a, b, c), got = kx_k_memcmp(mem, MEMSZ, a, b, c);
        fast = kx_k_memcmp_fast(mem, MEMSZ, a, b, c), has_fast = 1;
        break;
    case F_MEMCPY:
        /* musl's result for overlapping ranges is its own: not modelled, always a fallback */
        may_fall |= (uint64_t)a + c > b && (uint64_t)b + c > a;
        want = m_memmove(a, b, c), got = kx_k_memcpy(mem, MEMSZ, a, b, c);
        break;
    case F_MEMMOVE:
        want = m_memmove(a, b, c), got = kx_k_memmove(mem, MEMSZ, a, b, c);
        break;
    default:
        want = m_memset(a, b, c), got = kx_k_memset(mem, MEMSZ, a, b, c);
        break;
    }
    if (f == F_MEMCPY && c && (uint64_t)a + c > b && (uint64_t)b + c > a)
        CHECK(got == KX_K_FALLBACK, "memcpy(%u, %u, %u): overlapping, but no fallback", a, b, c);
    ncalls[f]++;
    if (got != KX_K_FALLBACK) nfast[f]++;
    if (fast != KX_K_FALLBACK) nfast2[f]++;
    if (has_fast && fast != KX_K_FALLBACK)
        CHECK(fast == got, "%s_fast(%u, %u, %u) = %llu, %s %llu", names[f], a, b, c,
              (unsigned long long)fast, names[f], (unsigned long long)got);
    if (want == TRAP) {
        CHECK(got == KX_K_FALLBACK, "%s(%u, %u, %u): wasm traps, fast path returned %llu", names[f],
              a, b, c, (unsigned long long)got);
        if (writes)
            CHECK(memcmp(mem, save, MEMSZ) == 0, "%s(%u, %u, %u): fallback wrote memory", names[f],
                  a, b, c);
    } else if (got == KX_K_FALLBACK) {
        CHECK(may_fall, "%s(%u, %u, %u): needless fallback (wasm returns %llu)", names[f], a, b, c,
              (unsigned long long)want);
        if (writes)
            CHECK(memcmp(mem, save, MEMSZ) == 0, "%s(%u, %u, %u): fallback wrote memory", names[f],
                  a, b, c);
    } else {
        CHECK(got == want, "%s(%u, %u, %u) = %llu, wasm %llu", names[f], a, b, c,
              (unsigned long long)got, (unsigned long long)want);
        if (writes)
            CHECK(memcmp(mem, ref, MEMSZ) == 0, "%s(%u, %u, %u): memory differs", names[f], a, b,
                  c);
    }
    if (writes) { /* back to one state for the next call */
        memcpy(mem, save, MEMSZ);
        memcpy(ref, save, MEMSZ);
    }
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* fills [a, a+n) with nonzero bytes, half of them >= 0x80 */
static void fill_str(uint32_t a, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        mem[a + i] = (uint8_t)(1 + rnd() % 255);
}

static void set_both(uint32_t a, uint8_t v)
{
    mem[a] = ref[a] = v;
}
static void sync_ref(void)
{
    memcpy(ref, mem, MEMSZ);
}

/* strings of every length and alignment at the start and at the end of memory */
static void string_tests(void)
{
    static const uint32_t cs[] = {0, 'a', 0x80, 0xff, 0x141, 0xffffff80u};
    const uint32_t set = 2048; /* sets live here */
    for (uint32_t len = 0; len <= 300; len++) {
        for (uint32_t al = 0; al < 32; al++) {
            for (int where = 0; where < 3; where++) {
                /* 0: at 64+al; 1: NUL is the last byte of memory; 2: no NUL before the end */
                uint32_t s = where == 0 ? 64 + al : MEMSZ - len - (where == 1) - (al & 15);
                memset(mem, 0x11, MEMSZ);
                fill_str(s, len);
                if (where == 1) mem[s + len] = 0;
                if (where == 0) mem[s + len] = 0;
                if (where == 2) fill_str(s + len, MEMSZ - s - len);
                sync_ref();
                call(F_STRLEN, s, 0, 0);
                for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
                    call(F_STRCHRNUL, s, cs[k], 0);
                    call(F_STRCHR, s, cs[k], 0);
                    call(F_STRRCHR, s, cs[k], 0);
                }
                if (len) { /* the searched byte at one place (and again later) */
                    uint32_t at = (al * 37 + len) % len;
                    uint8_t c = mem[s + at];
                    call(F_STRCHR, s, c, 0);
                    call(F_STRCHRNUL, s, c | 0x100, 0);
                    call(F_STRRCHR, s, c, 0);
                    /* sets of 1..6 bytes, the first in the string at `at`, the rest not (likely) */
                    for (uint32_t k = 1; k <= 6; k++) {
                        for (uint32_t j = 0; j < k; j++)
                            mem[set + j] = (uint8_t)(j ? rnd() | 1 : c);
                        mem[set + k] = 0;
                        sync_ref();
                        call(F_STRCSPN, s, set, 0);
                        call(F_STRSPN, s, set, 0);
                    }
                    /* strspn of a run: the whole string is one byte but the last */
                    mem[set] = mem[s];
                    mem[set + 1] = 0;
                    sync_ref();
                    call(F_STRSPN, s, set, 0);
                }
                mem[set] = 0;
                sync_ref();
                call(F_STRCSPN, s, set, 0);
                call(F_STRSPN, s, set, 0);
                call(F_STRNLEN, s, len, 0);
                call(F_STRNLEN, s, len + 1, 0);
                call(F_STRNLEN, s, len / 2, 0);
                call(F_STRNLEN, s, 0xffffffffu, 0);
            }
        }
    }
    /* a set that is not terminated inside memory; a string at address 0 */
    memset(mem, 'x', MEMSZ);
    sync_ref();
    call(F_STRCSPN, 0, MEMSZ - 3, 0);
    call(F_STRSPN, 0, MEMSZ - 3, 0);
    set_both(0, 0);
    call(F_STRNLEN, 0, 10, 0);
    call(F_STRCHR, 0, 0, 0);
    call(F_MEMCHR, 0, 0, 5);
    call(F_STRLEN, MEMSZ, 0, 0);
    call(F_STRLEN, 0xffffffffu, 0, 0);
}

/* ranges: memchr, memrchr, memcmp, strcmp, strncmp, copies */
static void range_tests(void)
{
    for (uint32_t n = 0; n <= 300; n++) {
        for (uint32_t al = 0; al < 32; al++) {
            uint32_t a = 256 + al, b = 1024 + (al * 7) % 32;
            uint32_t e = MEMSZ - n; /* a range ending exactly at the end of memory */
            memset(mem, 0, MEMSZ);
            fill_str(a, n + 40);
            memcpy(mem + b, mem + a, n + 40);
            fill_str(e - 64, 64);
            memcpy(mem + e, mem + a, n);
            sync_ref();
            call(F_MEMCMP, a, b, n);
            call(F_MEMCMP, a, e, n);
            call(F_MEMCMP, e, a, n + 1); /* crosses the end: equal up to it */
            call(F_STRCMP, a, b, 0);
            call(F_STRNCMP, a, b, n);
            call(F_STRNCMP, a, e, n);
            call(F_STRNCMP, e, a, n + 1);
            call(F_STRCMP, e, a, 0); /* runs off the end: no NUL */
            /* a difference at every position (bytes >= 0x80 too), and a NUL */
            for (uint32_t at = 0; at < n; at++) {
                uint8_t old = mem[b + at], nw = (uint8_t)(old ^ (at & 1 ? 0x80 : 0x01));
                set_both(b + at, nw);
                call(F_MEMCMP, a, b, n);
                call(F_MEMCMP, b, a, n);
                call(F_STRNCMP, a, b, n);
                call(F_STRNCMP, a, b, at + 1);
                call(F_STRNCMP, a, b, at);
                call(F_STRCMP, b, a, 0);
                set_both(e + at, (uint8_t)(mem[e + at] ^ 0x40));
                call(F_MEMCMP, a, e, n);
                call(F_MEMCMP, e, a, n + 7);
                call(F_STRNCMP, e, a, n + 7);
                set_both(e + at, (uint8_t)(mem[e + at] ^ 0x40));
                set_both(b + at, old);
                if (at % 7 == 0) {
                    set_both(a + at, 0);
                    set_both(b + at, 0);
                    call(F_STRCMP, a, b, 0);
                    call(F_STRNCMP, a, b, n + 5);
                    set_both(b + at, 0x90);
                    call(F_STRCMP, a, b, 0);
                    call(F_STRCMP, b, a, 0);
                    set_both(a + at, old);
                    set_both(b + at, old);
                }
            }
            /* memchr / memrchr: absent, present at a few places, ranges crossing the end */
            for (int k = 0; k < 4; k++) {
                uint8_t c = (uint8_t)(k == 0 ? 0xAB : k == 1 ? 0 : k == 2 ? 0x80 : 0xff);
                uint32_t at = n ? (k * 131 + al) % n : 0;
                if (n) {
                    set_both(a + at, c);
                    set_both(e + at, c);
                }
                call(F_MEMCHR, a, c, n);
                call(F_MEMCHR, a, c | 0x300, n);
                call(F_MEMRCHR, a, c, n);
                call(F_MEMCHR, e, c, n);
                call(F_MEMCHR, e, c, n + 1);
                call(F_MEMCHR, e, c, 0xffffffffu);
                call(F_MEMRCHR, e, c, n);
                call(F_MEMRCHR, e, c, n + 1);
                call(F_MEMRCHR, e - 1, c, n + 1);
            }
            /* copies: disjoint, overlapping both ways, at and across the end */
            call(F_MEMCPY, b, a, n);
            call(F_MEMCPY, a + 3, a, n);
            call(F_MEMCPY, e, a, n);
            call(F_MEMCPY, e, a, n + 1);
            call(F_MEMMOVE, b, a, n);
            call(F_MEMMOVE, a + 5, a, n);
            call(F_MEMMOVE, a, a + 5, n);
            call(F_MEMMOVE, a + 16, a, n);
            call(F_MEMMOVE, e, a, n);
            call(F_MEMMOVE, a, e, n);
            call(F_MEMMOVE, a, e, n + 1);
            call(F_MEMSET, a, 0xC3, n);
            call(F_MEMSET, a, 0x1234, n);
            call(F_MEMSET, e, 0, n);
            call(F_MEMSET, e, 0, n + 1);
        }
    }
}

/* the thresholds of the inline cases: copies and fills of 0..80 bytes at
 * overlap distances 0..70 both ways; memcmp with both ranges ending 0..20
 * bytes before the end of memory (the 16 bytes of slack) and one past it;
 * sets of strcspn/strspn ending at the last bytes of memory */
static void threshold_tests(void)
{
    memset(mem, 0, MEMSZ);
    fill_str(0, MEMSZ);
    sync_ref();
    for (uint32_t n = 0; n <= 80; n++) {
        for (uint32_t k = 0; k <= 70; k++) {
            call(F_MEMMOVE, 1000 + k, 1000, n);
            call(F_MEMMOVE, 1000, 1000 + k, n);
            call(F_MEMCPY, 1000 + k, 1000, n);
            call(F_MEMCPY, 1000, 1000 + k, n);
            call(F_MEMCPY, 3000 + k, 1000, n);
        }
        for (uint32_t k = 0; k <= 20; k++) {
            uint32_t e = MEMSZ - n - k;
            call(F_MEMCPY, e, 100, n);
            call(F_MEMCPY, 100, e, n);
            call(F_MEMMOVE, e, e - 1, n);
            call(F_MEMMOVE, e - 3, e, n);
            call(F_MEMSET, e, 0x5a, n);
        }
        call(F_MEMCPY, MEMSZ - n + 1, 100, n);
        call(F_MEMCPY, 100, MEMSZ - n + 1, n);
        call(F_MEMMOVE, MEMSZ - n + 1, 100, n);
        call(F_MEMSET, MEMSZ - n + 1, 1, n);
        call(F_MEMSET, MEMSZ + 5, 1, n);
    }
    for (uint32_t n = 0; n <= 80; n++) {
        for (uint32_t k = 0; k <= 20; k++) {
            uint32_t e = MEMSZ - n - k, a = 500 + (n * 7 + k) % 64;
            memcpy(mem + e, mem + a, n);
            sync_ref();
            call(F_MEMCMP, a, e, n);
            call(F_MEMCMP, e, a, n);
            call(F_MEMCMP, e, a, n + k + 1); /* one byte past the end, equal up to it */
            if (n) {                         /* a difference at the first, middle, last byte */
                const uint32_t step = n > 2 ? (n - 1) / 2 : 1;
                for (uint32_t at = 0; at < n; at += step) {
                    set_both(e + at, (uint8_t)(mem[e + at] ^ 0x81));
                    call(F_MEMCMP, a, e, n);
                    call(F_MEMCMP, e, a, n + k + 1);
                    set_both(e + at, (uint8_t)(mem[e + at] ^ 0x81));
                }
            }
        }
    }
    /* sets of 0..6 bytes ending at each of the last 10 bytes of memory (the 8-byte load) */
    for (uint32_t len = 0; len <= 6; len++) {
        for (uint32_t k = 1; k <= 10; k++) {
            uint32_t c = MEMSZ - k - len;
            memset(mem, 0, MEMSZ);
            fill_str(0, MEMSZ);
            if (c + len < MEMSZ) mem[c + len] = 0;
            mem[300] = 0;
            for (uint32_t j = 0; j < len && c + j < MEMSZ; j++)
                mem[c + j] = mem[100 + 13 * j];
            sync_ref();
            call(F_STRCSPN, 100, c, 0);
            call(F_STRSPN, 100, c, 0);
            call(F_STRSPN, 100 + 13 * len, c, 0);
        }
    }
}

/* The _fast variants take their common cases (in the other tests a fast
 * path that always declines would pass): short copies are not tested here
 * (they have no _fast variant). */
static void test_fast_cases(void)
{
    memset(mem, 0, MEMSZ);
    fill_str(0, 4000);
    memcpy(mem + 2000, mem + 100, 300);
    mem[4000] = 0;
    strcpy((char *)mem + 5000, "ab");
    strcpy((char *)mem + 5010, "abcd");
    mem[5020] = mem[100], mem[5021] = 0;
    sync_ref();
    for (uint32_t n = 0; n <= 300; n++) {
        CHECK(kx_k_memcmp_fast(mem, MEMSZ, 100, 2000, n) == 0, "memcmp_fast(%u) declined", n);
        if (n) {
            mem[2000 + n - 1] ^= 1;
            CHECK(kx_k_memcmp_fast(mem, MEMSZ, 100, 2000, n) != KX_K_FALLBACK,
                  "memcmp_fast(%u, difference at the end) declined", n);
            mem[2000 + n - 1] ^= 1;
        }
    }
    CHECK(kx_k_strcspn_fast(mem, MEMSZ, 100, 5000) != KX_K_FALLBACK, "strcspn_fast(2) declined");
    CHECK(kx_k_strcspn_fast(mem, MEMSZ, 100, 5010) != KX_K_FALLBACK, "strcspn_fast(4) declined");
    CHECK(kx_k_strcspn_fast(mem, MEMSZ, 100, 5002) != KX_K_FALLBACK, "strcspn_fast(0) declined");
    CHECK(kx_k_strspn_fast(mem, MEMSZ, 100, 5020) == 1 + (mem[101] == mem[100]),
          "strspn_fast(1) wrong or declined");
    CHECK(kx_k_strspn_fast(mem, MEMSZ, 100, 5010) != KX_K_FALLBACK, "strspn_fast(4) declined");
    /* strlen and memchr answer inline up to the hand-over point (at least KX_K_HOST_SCAN - 15
     * bytes), and decline past it (the rest goes to the host's memchr) */
    for (uint32_t n = 0; n <= KX_K_HOST_SCAN + 40; n++)
        for (uint32_t al = 0; al < 16; al++) {
            uint32_t s = 6000 + al, h = (s + KX_K_HOST_SCAN) & ~15u;
            memset(mem + 6000, 'x', 1000);
            mem[s + n] = 0;
            CHECK((kx_k_strlen_fast(mem, MEMSZ, s) == KX_K_FALLBACK) == (s + n >= h),
                  "strlen_fast(%u bytes at %u)", n, s);
            CHECK((kx_k_memchr_fast(mem, MEMSZ, s, 0, 900) == KX_K_FALLBACK) == (s + n >= h),
                  "memchr_fast(%u bytes at %u)", n, s);
            CHECK(kx_k_memchr_fast(mem, MEMSZ, s, 'q', n) == (n <= KX_K_HOST_SCAN ? 0 : KX_K_FALLBACK),
                  "memchr_fast(%u absent at %u)", n, s);
        }
    memset(mem, 0, MEMSZ);
    sync_ref();
}

/* random arguments, most of them near the end of memory */
static void random_tests(long count)
{
    for (long i = 0; i < count; i++) {
        int f = (int)(rnd() % F_N);
        uint32_t r = rnd(), a, b, c;
        if (i % 1000 == 0) {
            for (uint32_t k = 0; k < MEMSZ; k++)
                mem[k] = (uint8_t)(rnd() % 5 == 0 ? 0 : rnd());
            sync_ref();
        }
        a = r & 1 ? MEMSZ - rnd() % 400 : rnd() % MEMSZ;
        b = r & 2 ? MEMSZ - rnd() % 400 : rnd() % MEMSZ;
        c = r & 4 ? rnd() % 64 : rnd() % 600;
        if (r % 97 == 0) a = MEMSZ + rnd() % 100;
        if (f == F_STRCHR || f == F_STRCHRNUL || f == F_STRRCHR || f == F_MEMCHR ||
            f == F_MEMRCHR || f == F_MEMSET)
            b = r & 8 ? mem[rnd() % MEMSZ] : rnd();
        call(f, a, b, c);
    }
}

/* known_test [SEED COUNT]: COUNT random calls (default 200000) from SEED (a longer, fuzz-style
 * run: aot-known-test-sse2 7 20000000) */
/* The scans that hand over to the host memchr after KX_K_HOST_SCAN bytes:
 * strlen, memchr, strnlen, strrchr at lengths around the hand-over point
 * and far beyond it, the byte found on each side of it, every alignment of
 * the start, ranges ending at and crossing the end of memory (the host
 * memchr then gets a range that ends at the guard page), no terminator
 * before the end (fallback); and the host memchr is called exactly when a
 * scan is longer than KX_K_HOST_SCAN bytes and finds nothing before. */
static void host_scan_tests(void)
{
    static const uint32_t lens[] = {0,   1,   15,  16,  17,  100, 128, 255, 256, 480,  495,
                                    496, 497, 500, 511, 512, 513, 520, 527, 528, 529,  540,
                                    600, 1000, 4095, 4096, 7000};
    memset(mem, 'x', MEMSZ);
    sync_ref();
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (uint32_t al = 0; al < 32; al += 3) {
            uint32_t n = lens[li], s = 16 + al;
            if (s + n >= MEMSZ) continue;
            memset(mem, 'x', MEMSZ);
            mem[s + n] = 0;
            sync_ref();
            unsigned long h0 = host_scans;
            call(F_STRLEN, s, 0, 0);
            /* (mem is page-aligned: the hand-over point is this multiple of 16) */
            CHECK((host_scans != h0) == (s + n >= ((s + KX_K_HOST_SCAN) & ~15u)),
                  "strlen(%u bytes at %u): host memchr %s", n, s,
                  host_scans != h0 ? "called" : "not called");
            call(F_STRRCHR, s, 'x', 0);
            call(F_STRRCHR, s, 'y', 0);
            call(F_STRNLEN, s, n, 0);
            call(F_STRNLEN, s, n + 1, 0);
            call(F_STRNLEN, s, n + 100, 0);
            call(F_STRNLEN, s, n / 2, 0);
            mem[s + n] = 'x';
            mem[s + n / 2] = 'Q';
            mem[s + n] = 'Q';
            sync_ref();
            call(F_MEMCHR, s, 'Q', n + 1);       /* the first Q, at n / 2 */
            call(F_MEMCHR, s, 'Q' + 256, n / 2); /* none before n / 2 */
            call(F_MEMCHR, s, 'Q', n / 2 + 1);
            call(F_MEMCHR, s, 'Z', n);           /* absent */
            call(F_MEMCHR, s, 'Z', MEMSZ - s);   /* absent up to the end of memory */
            call(F_MEMCHR, s, 'Z', MEMSZ - s + 1); /* and beyond it: fallback */
            call(F_MEMCHR, s, 'Z', UINT32_MAX);
            call(F_STRLEN, s, 0, 0); /* no NUL before the end of memory: fallback */
            call(F_STRNLEN, s, UINT32_MAX, 0);
        }
    /* ranges and strings ending at the end of memory, long enough for the host scan */
    for (uint32_t k = 0; k < 40; k++) {
        uint32_t s = MEMSZ - 700 - k;
        memset(mem, 'x', MEMSZ);
        sync_ref();
        call(F_MEMCHR, s, 'Z', MEMSZ - s);
        call(F_MEMCHR, s, 'Z', MEMSZ - s + 1);
        call(F_STRLEN, s, 0, 0);
        mem[MEMSZ - 1 - k % 17] = 0;
        mem[MEMSZ - 1] = 'Z';
        sync_ref();
        call(F_MEMCHR, s, 'Z', MEMSZ - s);
        call(F_MEMCHR, s, 'Z', UINT32_MAX);
        call(F_STRLEN, s, 0, 0);
        call(F_STRRCHR, s, 'x', 0);
        call(F_STRNLEN, s, UINT32_MAX, 0);
    }
}

int main(int argc, char **argv)
{
    long count = argc > 2 ? atol(argv[2]) : 200000;
    if (argc > 1 && strtoul(argv[1], NULL, 0)) rng = (uint32_t)strtoul(argv[1], NULL, 0);
    uint8_t *m =
        mmap(NULL, MEMSZ + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + MEMSZ, 4096, PROT_NONE) < 0) {
        perror("mmap");
        return 1;
    }
    mem = m;
    ref = malloc(MEMSZ);
    save = malloc(MEMSZ);
    if (!ref || !save) return 1;
    string_tests();
    range_tests();
    threshold_tests();
    host_scan_tests();
    random_tests(count);
    test_fast_cases();
    for (int f = 0; f < F_N; f++)
        printf("%-9s %8lu calls, %8lu on the fast path, %8lu inline (_fast)\n", names[f], ncalls[f],
               nfast[f], nfast2[f]);
    if (failures) {
        printf("known: %d mismatches in %lu checks\n", failures, checks);
        return 1;
    }
    printf("known: every fast path matches the musl model (%lu checks)\n", checks);
    return 0;
}
