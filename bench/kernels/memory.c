/*
 * memory.c — a memory-heavy kernel over ~14 MB of linear memory: per iteration
 *   1. fills ELEMS 32-bit keys from a seeded generator and radix-sorts them (LSD, 4 passes of
 *      8 bits through a second buffer), then checks the order;
 *   2. inserts ELEMS/2 of the keys into an open-addressing hash table of HASH_SLOTS (key, value)
 *      pairs (linear probing) and looks up ELEMS/2 keys, about half of them absent;
 *   3. moves blocks of various sizes and alignments with memcpy/memmove and reads them back
 *      with a stride that defeats the cache.
 * Working sets are far larger than L2, so this measures loads/stores and bulk copies.
 */
#include "bench.h"

#define ELEMS (1u << 19)      /* 2 MB per key buffer */
#define HASH_SLOTS (1u << 20) /* 8 MB table */
#define COPY_BYTES (1u << 21) /* 2 MB */

static uint32_t keys[ELEMS], sorted[ELEMS];
static struct slot {
    uint32_t key; /* 0 = empty */
    uint32_t value;
} table[HASH_SLOTS];
static uint8_t copy_src[COPY_BYTES], copy_dst[COPY_BYTES];

static uint32_t sort_work(uint32_t seed, uint32_t crc)
{
    uint32_t rng = seed * 2891336453u + 1u, bad = 0;
    uint32_t *from = keys, *to = sorted;
    for (uint32_t i = 0; i < ELEMS; i++)
        keys[i] = bench_xorshift32(&rng);
    for (int shift = 0; shift < 32; shift += 8) {
        uint32_t count[256] = {0}, pos = 0;
        for (uint32_t i = 0; i < ELEMS; i++)
            count[(from[i] >> shift) & 0xff]++;
        for (int b = 0; b < 256; b++) {
            uint32_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        for (uint32_t i = 0; i < ELEMS; i++)
            to[count[(from[i] >> shift) & 0xff]++] = from[i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    /* 4 passes: the result is back in keys[] */
    for (uint32_t i = 1; i < ELEMS; i++)
        bad += keys[i - 1] > keys[i];
    crc = bench_crc32_u32(crc, bad);
    for (uint32_t i = 0; i < ELEMS; i += ELEMS / 64)
        crc = bench_crc32_u32(crc, keys[i]);
    return crc;
}

static uint32_t hash_index(uint32_t key)
{
    key ^= key >> 16;
    key *= 0x7feb352du;
    key ^= key >> 15;
    return key & (HASH_SLOTS - 1);
}

static uint32_t hash_work(uint32_t seed, uint32_t crc)
{
    uint32_t rng = seed * 1664525u + 1013904223u, hits = 0, sum = 0, probes = 0;
    if (!rng) rng = 1;
    bench_memset(table, 0, sizeof table);
    /* keys[] is sorted now; insert every other one, in a scrambled order */
    for (uint32_t i = 0; i < ELEMS / 2; i++) {
        uint32_t k = keys[(i * 2654435761u) & (ELEMS - 1)] | 1u;
        uint32_t h = hash_index(k);
        while (table[h].key && table[h].key != k) {
            h = (h + 1) & (HASH_SLOTS - 1);
            probes++;
        }
        table[h].key = k;
        table[h].value += i;
    }
    for (uint32_t i = 0; i < ELEMS / 2; i++) {
        uint32_t k =
            (i & 1) ? (bench_xorshift32(&rng) | 1u) : (keys[(i * 40503u) & (ELEMS - 1)] | 1u);
        uint32_t h = hash_index(k);
        while (table[h].key) {
            if (table[h].key == k) {
                hits++;
                sum += table[h].value;
                break;
            }
            h = (h + 1) & (HASH_SLOTS - 1);
            probes++;
        }
    }
    crc = bench_crc32_u32(crc, hits);
    crc = bench_crc32_u32(crc, sum);
    return bench_crc32_u32(crc, probes);
}

static uint32_t copy_work(uint32_t seed, uint32_t crc)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < COPY_BYTES; i += 4) {
        uint32_t v = i * 2654435761u ^ seed;
        bench_memcpy(&copy_src[i], &v, 4);
    }
    for (uint32_t round = 0; round < 4; round++) {
        uint32_t off = (seed * 7 + round * 13) & 63;
        bench_memcpy(copy_dst + off, copy_src, COPY_BYTES - 64);
        __builtin_memmove(copy_dst + 1, copy_dst, COPY_BYTES / 2);
        for (uint32_t i = round; i < COPY_BYTES; i += 4093)
            acc = acc * 31 + copy_dst[i];
    }
    return bench_crc32_u32(crc, acc);
}

int32_t run(int32_t n)
{
    uint32_t crc = 0xffffffffu;
    for (int32_t i = 0; i < n; i++) {
        uint32_t seed = (uint32_t)i + 1;
        crc = sort_work(seed, crc);
        crc = hash_work(seed, crc);
        crc = copy_work(seed, crc);
    }
    return (int32_t)(~crc & 0x7fffffffu);
}
