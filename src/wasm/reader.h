/*
 * reader.h — a bounds-checked cursor over module bytes with LEB128 decoding.
 *
 * Invariant: p <= end always. Every read checks the remaining length first;
 * on failure the reader becomes "failed" (sticky) and reads return 0, so a
 * decoder may do several reads and check r->err once. Offsets reported in
 * errors are absolute (p - start).
 */
#ifndef KILN_WASM_READER_H
#define KILN_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct kiln__reader {
    const uint8_t *start; /* beginning of the module (for offsets) */
    const uint8_t *p;
    const uint8_t *end;
    const char *err; /* first failure reason, or NULL (sticky) */
    size_t err_off;  /* absolute offset of the failure */
};

static inline void kiln__reader_init(struct kiln__reader *r, const uint8_t *start,
                                     const uint8_t *p, const uint8_t *end)
{
    r->start = start;
    r->p = p;
    r->end = end;
    r->err = NULL;
    r->err_off = 0;
}

static inline size_t kiln__reader_off(const struct kiln__reader *r)
{
    return (size_t)(r->p - r->start);
}

static inline void kiln__reader_fail(struct kiln__reader *r, const char *why)
{
    if (!r->err) {
        r->err = why;
        r->err_off = (size_t)(r->p - r->start);
    }
    r->p = r->end; /* stop further progress */
}

static inline size_t kiln__reader_left(const struct kiln__reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline uint8_t kiln__read_u8(struct kiln__reader *r)
{
    if (r->p >= r->end) {
        kiln__reader_fail(r, "unexpected end");
        return 0;
    }
    return *r->p++;
}

/* Unsigned LEB128 of at most `bits` bits (32 or 64). Rejects over-long
 * encodings and unused bits set in the last byte, as the spec requires
 * ("integer representation too long" / "integer too large"). */
static inline uint64_t kiln__read_uleb(struct kiln__reader *r, unsigned bits)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b;
        if (r->p >= r->end) {
            kiln__reader_fail(r, "unexpected end");
            return 0;
        }
        b = *r->p++;
        if (shift + 7 >= bits) {
            /* last permitted byte */
            unsigned used = bits - shift;
            if (b & 0x80) {
                r->p--;
                kiln__reader_fail(r, "integer representation too long");
                return 0;
            }
            if (used < 7 && (b >> used) != 0) {
                r->p--;
                kiln__reader_fail(r, "integer too large");
                return 0;
            }
            return v | ((uint64_t)b << shift);
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return v;
    }
}

/* Signed LEB128 of at most `bits` bits (32, 33 or 64); unused bits of the
 * last byte must be a sign extension. */
static inline int64_t kiln__read_sleb(struct kiln__reader *r, unsigned bits)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    for (;;) {
        if (r->p >= r->end) {
            kiln__reader_fail(r, "unexpected end");
            return 0;
        }
        b = *r->p++;
        if (shift + 7 >= bits) {
            unsigned used = bits - shift; /* 1..7 value bits in this byte */
            if (b & 0x80) {
                r->p--;
                kiln__reader_fail(r, "integer representation too long");
                return 0;
            }
            /* bits [used-1 .. 6] must all equal the sign bit */
            {
                int8_t sb = (int8_t)(b << 1) >> 1; /* sign-extend 7 bits */
                int8_t top = (int8_t)(sb >> (used - 1));
                if (top != 0 && top != -1) {
                    r->p--;
                    kiln__reader_fail(r, "integer too large");
                    return 0;
                }
            }
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

static inline uint32_t kiln__read_u32(struct kiln__reader *r)
{
    return (uint32_t)kiln__read_uleb(r, 32);
}

/* Fixed-width little-endian reads (float constants, v128). */
static inline uint32_t kiln__read_fixed32(struct kiln__reader *r)
{
    uint32_t v = 0;
    if (kiln__reader_left(r) < 4) {
        kiln__reader_fail(r, "unexpected end");
        return 0;
    }
    memcpy(&v, r->p, 4);
    r->p += 4;
    return v;
}

static inline uint64_t kiln__read_fixed64(struct kiln__reader *r)
{
    uint64_t v = 0;
    if (kiln__reader_left(r) < 8) {
        kiln__reader_fail(r, "unexpected end");
        return 0;
    }
    memcpy(&v, r->p, 8);
    r->p += 8;
    return v;
}

#endif
