/*
 * integer.c — a CoreMark-style integer kernel (our own code, same mix of work as CoreMark):
 * per iteration it
 *   1. builds a linked list of LIST_NODES nodes with pseudo-random keys, searches it, reverses
 *      it and merge-sorts it twice (by key, then back by sequence number);
 *   2. multiplies two MAT_N×MAT_N int16 matrices into int32, adds a scaled matrix, extracts
 *      bit fields, and does a matrix-vector product;
 *   3. runs a number-recognising state machine over a generated buffer of numeric tokens;
 *   4. folds every partial result into a bitwise CRC-32.
 * Each iteration reseeds from the iteration number, so nothing can be hoisted out of the loop.
 */
#include "bench.h"

#define LIST_NODES 400
#define MAT_N 20
#define TEXT_LEN 1024

struct node {
    struct node *next;
    int16_t key;
    uint16_t seq;
};

static struct node nodes[LIST_NODES];

/* ---- 1. lists ----------------------------------------------------------------------------- */

static struct node *list_build(uint32_t *rng)
{
    struct node *head = 0;
    for (int i = LIST_NODES - 1; i >= 0; i--) {
        nodes[i].key = (int16_t)(bench_xorshift32(rng) & 0x7fff) - 0x4000;
        nodes[i].seq = (uint16_t)i;
        nodes[i].next = head;
        head = &nodes[i];
    }
    return head;
}

static uint32_t list_find(const struct node *l, int16_t lo, int16_t hi)
{
    uint32_t found = 0, pos = 0;
    for (; l; l = l->next, pos++)
        if (l->key >= lo && l->key <= hi) found += pos;
    return found;
}

static struct node *list_reverse(struct node *l)
{
    struct node *prev = 0;
    while (l) {
        struct node *next = l->next;
        l->next = prev;
        prev = l;
        l = next;
    }
    return prev;
}

static int cmp_key(const struct node *a, const struct node *b)
{
    return a->key != b->key ? a->key - b->key : a->seq - b->seq;
}

static int cmp_seq(const struct node *a, const struct node *b)
{
    return a->seq - b->seq;
}

/* Bottom-up merge sort of a singly linked list: runs of width 1, 2, 4, ... are merged until
 * one pass does a single merge. Stable; uses no extra memory. */
static struct node *list_sort(struct node *l, int (*cmp)(const struct node *, const struct node *))
{
    for (int width = 1;; width *= 2) {
        struct node *p = l, *tail = 0;
        int merges = 0;
        l = 0;
        while (p) {
            struct node *q = p;
            int psize = 0, qsize = width;
            merges++;
            for (int i = 0; i < width && q; i++) {
                psize++;
                q = q->next;
            }
            while (psize > 0 || (qsize > 0 && q)) {
                struct node *e;
                if (psize == 0) {
                    e = q, q = q->next, qsize--;
                } else if (qsize == 0 || !q || cmp(p, q) <= 0) {
                    e = p, p = p->next, psize--;
                } else {
                    e = q, q = q->next, qsize--;
                }
                if (tail)
                    tail->next = e;
                else
                    l = e;
                tail = e;
            }
            p = q;
        }
        tail->next = 0;
        if (merges <= 1) return l;
    }
}

static uint32_t list_work(uint32_t seed, uint32_t crc)
{
    uint32_t rng = seed * 2654435761u | 1u;
    struct node *l = list_build(&rng);
    crc = bench_crc32_u32(crc, list_find(l, -100, 900));
    l = list_reverse(l);
    crc = bench_crc32_u32(crc, list_find(l, (int16_t)(seed & 0xfff), 0x3000));
    l = list_sort(l, cmp_key);
    for (const struct node *p = l; p; p = p->next)
        crc = bench_crc32_byte(crc, (uint8_t)p->key);
    l = list_sort(l, cmp_seq);
    for (int i = 0; l && i < 16; i++, l = l->next)
        crc = bench_crc32_u32(crc, (uint32_t)l->key);
    return crc;
}

/* ---- 2. matrices -------------------------------------------------------------------------- */

static int16_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N];
static int32_t mat_c[MAT_N][MAT_N], vec_out[MAT_N];

static uint32_t matrix_work(uint32_t seed, uint32_t crc)
{
    uint32_t rng = seed * 40503u + 12345u;
    int32_t acc = 0;
    if (!rng) rng = 1;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            uint32_t r = bench_xorshift32(&rng);
            mat_a[i][j] = (int16_t)(r & 0x0fff) - 0x0800;
            mat_b[i][j] = (int16_t)((r >> 12) & 0x0fff) - 0x0800;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += (int32_t)mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = s;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            mat_c[i][j] += mat_a[i][j] * (int32_t)(seed & 0xff);
            acc += (mat_c[i][j] >> 3) & 0x7f;
            if (mat_c[i][j] > 0) acc ^= mat_c[i][j] & 0x3ff;
        }
    for (int i = 0; i < MAT_N; i++) {
        uint32_t s = 0; /* unsigned: the products overflow 32 bits, and wrap the same everywhere */
        for (int j = 0; j < MAT_N; j++)
            s += (uint32_t)mat_c[i][j] * (uint32_t)(int32_t)mat_b[j][i];
        vec_out[i] = (int32_t)s;
    }
    for (int i = 0; i < MAT_N; i++)
        crc = bench_crc32_u32(crc, (uint32_t)vec_out[i]);
    return bench_crc32_u32(crc, (uint32_t)acc);
}

/* ---- 3. state machine --------------------------------------------------------------------- */

/* States of a recogniser for numbers like "-12", "3.25", "+.5e-7"; tokens end at ','.
 *   START -sign-> SIGN -digit-> INT -'.'-> DOT -digit-> FRAC -e-> EXP -sign-> EXPSIGN -digit->
 * EXPINT START -'.'-> DOT;  INT -e-> EXP;  EXP -digit-> EXPINT;  anything else -> BAD (until ',')
 */
enum { S_START, S_SIGN, S_INT, S_DOT, S_FRAC, S_EXP, S_EXPSIGN, S_EXPINT, S_BAD, S_COUNT };

static char text[TEXT_LEN];

static void text_build(uint32_t *rng)
{
    static const char alphabet[] = "0123456789012345678901234567890123456789+-.eE,x";
    for (int i = 0; i < TEXT_LEN; i++) {
        uint32_t r = bench_xorshift32(rng);
        text[i] = alphabet[r % (sizeof alphabet - 1)];
        if ((r >> 20) % 9 == 0) text[i] = ',';
    }
}

static int next_state(int s, char c)
{
    int digit = c >= '0' && c <= '9';
    switch (s) {
    case S_START:
        return digit ? S_INT : (c == '+' || c == '-') ? S_SIGN : c == '.' ? S_DOT : S_BAD;
    case S_SIGN:
        return digit ? S_INT : c == '.' ? S_DOT : S_BAD;
    case S_INT:
        return digit ? S_INT : c == '.' ? S_DOT : (c == 'e' || c == 'E') ? S_EXP : S_BAD;
    case S_DOT:
        return digit ? S_FRAC : S_BAD;
    case S_FRAC:
        return digit ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP : S_BAD;
    case S_EXP:
        return digit ? S_EXPINT : (c == '+' || c == '-') ? S_EXPSIGN : S_BAD;
    case S_EXPSIGN:
    case S_EXPINT:
        return digit ? S_EXPINT : S_BAD;
    default:
        return S_BAD;
    }
}

static uint32_t state_work(uint32_t seed, uint32_t crc)
{
    uint32_t rng = seed ^ 0x9e3779b9u;
    uint32_t finals[S_COUNT] = {0}, transitions = 0;
    int s = S_START;
    if (!rng) rng = 1;
    text_build(&rng);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < TEXT_LEN; i++) {
            char c = text[i];
            if (c == ',') {
                finals[s]++;
                s = S_START;
                continue;
            }
            int t = next_state(s, c);
            transitions += t != s;
            s = t;
        }
        /* second pass over a mutated copy: flip every 7th character's case/sign */
        for (int i = 0; i < TEXT_LEN; i += 7)
            text[i] = text[i] == 'e' ? 'E' : text[i] == '-' ? '+' : text[i];
    }
    for (int i = 0; i < S_COUNT; i++)
        crc = bench_crc32_u32(crc, finals[i]);
    return bench_crc32_u32(crc, transitions);
}

/* ---- driver ------------------------------------------------------------------------------- */

int32_t run(int32_t n)
{
    uint32_t crc = 0xffffffffu;
    for (int32_t i = 0; i < n; i++) {
        uint32_t seed = (uint32_t)i + 1;
        crc = list_work(seed, crc);
        crc = matrix_work(seed, crc);
        crc = state_work(seed, crc);
    }
    return (int32_t)(~crc & 0x7fffffffu);
}
