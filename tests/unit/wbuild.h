/*
 * wbuild.h — a tiny WebAssembly binary builder for unit tests: modules are
 * written by hand, byte by byte, with helpers for LEB128, names and
 * sections. Buffers are fixed-size; overflow aborts the test.
 */
#ifndef KILN_TEST_WBUILD_H
#define KILN_TEST_WBUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct wb {
    uint8_t b[8192];
    size_t n;
};

static inline void wb_bytes(struct wb *w, const void *p, size_t n)
{
    if (w->n + n > sizeof w->b) abort();
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static inline void wb_u8(struct wb *w, uint8_t x)
{
    wb_bytes(w, &x, 1);
}

static inline void wb_uleb(struct wb *w, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        wb_u8(w, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static inline void wb_sleb(struct wb *w, int64_t v)
{
    for (;;) {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
            wb_u8(w, b);
            return;
        }
        wb_u8(w, (uint8_t)(b | 0x80));
    }
}

static inline void wb_name(struct wb *w, const char *s)
{
    wb_uleb(w, strlen(s));
    wb_bytes(w, s, strlen(s));
}

static inline void wb_header(struct wb *w)
{
    static const uint8_t h[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    w->n = 0;
    wb_bytes(w, h, 8);
}

/* Appends section `id` whose contents are c. */
static inline void wb_section(struct wb *w, uint8_t id, const struct wb *c)
{
    wb_u8(w, id);
    wb_uleb(w, c->n);
    wb_bytes(w, c->b, c->n);
}

/* Appends section `id` with raw contents. */
static inline void wb_section_raw(struct wb *w, uint8_t id, const void *p, size_t n)
{
    wb_u8(w, id);
    wb_uleb(w, n);
    wb_bytes(w, p, n);
}

#define WB_RAW(w, ...)                                                                             \
    do {                                                                                           \
        static const uint8_t raw_[] = {__VA_ARGS__};                                               \
        wb_bytes((w), raw_, sizeof raw_);                                                          \
    } while (0)

#endif
