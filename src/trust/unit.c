/*
 * unit.c — the unit file: footer encode/parse, building (lay out + sign) and
 * verifying a unit held in memory.
 *
 *   [stub ELF][module.wasm][module.aot?][policy.json?][DSSE envelope][footer]
 *    ^ offset 0                                                        ^ last 256 bytes
 *
 * Footer (256 bytes, little-endian):
 *     0  magic "KILNUNIT"      8  u32 version (1)     12 u32 footer size (256)
 *    16  u32 flags (0)         20 u32 region count (2..8)
 *    24  u64 envelope offset   32 u64 envelope length
 *    40  8 x {u32 kind, u32 reserved 0, u64 offset, u64 length}  (unused slots all 0)
 *   232  16 reserved bytes (0)  248 end magic "KILNEND1"
 *
 * Invariants checked by the reader (so every footer byte matters): regions
 * are contiguous from offset 0 in increasing kind order (stub first, module
 * second), the envelope follows the last region and ends where the footer
 * begins, every reserved byte is zero, and the region table equals the
 * layout recorded in the signed statement.
 *
 * Verification order: footer sane -> envelope parses -> a signature by a
 * trusted, non-revoked key verifies -> digests (and layout) match the signed
 * subjects -> versions supported. One trusted valid signature suffices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

#define FOOTER_REGIONS_OFF 40
#define FOOTER_RESERVED_OFF 232
#define FOOTER_END_MAGIC_OFF 248

static void put32(uint8_t *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void kiln_unit_footer_encode(const struct kiln_unit_footer *f, uint8_t out[KILN_UNIT_FOOTER_SIZE])
{
    uint32_t i;
    memset(out, 0, KILN_UNIT_FOOTER_SIZE);
    memcpy(out, KILN_UNIT_MAGIC, 8);
    put32(out + 8, f->version);
    put32(out + 12, KILN_UNIT_FOOTER_SIZE);
    put32(out + 16, f->flags);
    put32(out + 20, f->region_count);
    put64(out + 24, f->envelope_offset);
    put64(out + 32, f->envelope_length);
    for (i = 0; i < f->region_count && i < KILN_UNIT_MAX_REGIONS; i++) {
        uint8_t *r = out + FOOTER_REGIONS_OFF + 24 * i;
        put32(r, f->regions[i].kind);
        put64(r + 8, f->regions[i].offset);
        put64(r + 16, f->regions[i].length);
    }
    memcpy(out + FOOTER_END_MAGIC_OFF, KILN_UNIT_END_MAGIC, 8);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* See unit.h. */
bool kiln_unit_fd_claims_unit(int fd)
{
    uint8_t tail[8];
    struct stat sb;
    return fstat(fd, &sb) == 0 && sb.st_size >= KILN_UNIT_FOOTER_SIZE &&
           pread(fd, tail, 8, sb.st_size - 8) == 8 && memcmp(tail, KILN_UNIT_END_MAGIC, 8) == 0;
}

int kiln_unit_footer_parse(const uint8_t *data, uint64_t file_size, struct kiln_unit_footer *out,
                           struct kiln_error *err)
{
    struct kiln_unit_footer f;
    const uint8_t *p;
    uint64_t body, pos = 0;
    uint32_t i, prev_kind = 0;
    memset(&f, 0, sizeof f);
    if (file_size < KILN_UNIT_FOOTER_SIZE)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "file is %llu bytes, shorter than the %d-byte footer",
                              (unsigned long long)file_size, KILN_UNIT_FOOTER_SIZE);
    if (file_size > KILN_UNIT_MAX_SIZE)
        return kiln_error_set(err, KILN_E_MALFORMED, "file is %llu bytes, over the unit limit",
                              (unsigned long long)file_size);
    body = file_size - KILN_UNIT_FOOTER_SIZE; /* footer starts here */
    p = data + body;
    if (memcmp(p + FOOTER_END_MAGIC_OFF, KILN_UNIT_END_MAGIC, 8) != 0)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "no end magic \"%s\" at offset %llu (not a kiln unit, or truncated)",
                              KILN_UNIT_END_MAGIC,
                              (unsigned long long)(body + FOOTER_END_MAGIC_OFF));
    if (memcmp(p, KILN_UNIT_MAGIC, 8) != 0)
        return kiln_error_set(err, KILN_E_MALFORMED, "no magic \"%s\" at offset %llu",
                              KILN_UNIT_MAGIC, (unsigned long long)body);
    f.version = get32(p + 8);
    if (f.version != KILN_FORMAT_VERSION)
        return kiln_error_set(err, KILN_E_UNSUPPORTED, "footer version %u (this build reads %d)",
                              f.version, KILN_FORMAT_VERSION);
    if (get32(p + 12) != KILN_UNIT_FOOTER_SIZE)
        return kiln_error_set(err, KILN_E_MALFORMED, "footer size field is %u, expected %d",
                              get32(p + 12), KILN_UNIT_FOOTER_SIZE);
    f.flags = get32(p + 16);
    if (f.flags != 0)
        return kiln_error_set(err, KILN_E_MALFORMED, "footer flags 0x%x (none defined in v1)",
                              f.flags);
    f.region_count = get32(p + 20);
    if (f.region_count < 2 || f.region_count > KILN_UNIT_MAX_REGIONS)
        return kiln_error_set(err, KILN_E_MALFORMED, "region count %u (2..%d allowed)",
                              f.region_count, KILN_UNIT_MAX_REGIONS);
    f.envelope_offset = get64(p + 24);
    f.envelope_length = get64(p + 32);
    for (i = 0; i < KILN_UNIT_MAX_REGIONS; i++) {
        const uint8_t *r = p + FOOTER_REGIONS_OFF + 24 * i;
        struct kiln_unit_region *g = &f.regions[i];
        if (i >= f.region_count) {
            if (!all_zero(r, 24))
                return kiln_error_set(err, KILN_E_MALFORMED, "unused region slot %u is not zero",
                                      i);
            continue;
        }
        g->kind = get32(r);
        g->offset = get64(r + 8);
        g->length = get64(r + 16);
        if (get32(r + 4) != 0)
            return kiln_error_set(err, KILN_E_MALFORMED, "region %u: reserved field is not zero",
                                  i);
        if (!kiln_region_name(g->kind))
            return kiln_error_set(err, KILN_E_MALFORMED, "region %u: unknown kind %u", i, g->kind);
        if (g->kind <= prev_kind)
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "region %u: kind %u out of order (after kind %u)", i, g->kind,
                                  prev_kind);
        if ((i == 0 && g->kind != KILN_REGION_STUB) || (i == 1 && g->kind != KILN_REGION_WASM))
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "region %u: kind %u, but regions 0 and 1 must be the stub and "
                                  "the module",
                                  i, g->kind);
        if (g->length == 0 || g->length > body || g->offset > body - g->length)
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "region %u (%s): offset %llu length %llu lies outside the "
                                  "%llu bytes before the footer",
                                  i, kiln_region_name(g->kind), (unsigned long long)g->offset,
                                  (unsigned long long)g->length, (unsigned long long)body);
        if (g->offset != pos)
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "region %u (%s): offset %llu, expected %llu (regions must be "
                                  "contiguous, without gaps or overlap)",
                                  i, kiln_region_name(g->kind), (unsigned long long)g->offset,
                                  (unsigned long long)pos);
        pos = g->offset + g->length;
        prev_kind = g->kind;
    }
    if (!all_zero(p + FOOTER_RESERVED_OFF, FOOTER_END_MAGIC_OFF - FOOTER_RESERVED_OFF))
        return kiln_error_set(err, KILN_E_MALFORMED, "footer reserved bytes are not zero");
    if (f.envelope_offset != pos)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "envelope offset %llu, expected %llu (right after the last region)",
                              (unsigned long long)f.envelope_offset, (unsigned long long)pos);
    if (f.envelope_length == 0 || f.envelope_length > KILN_UNIT_MAX_ENVELOPE ||
        f.envelope_length != body - pos)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "envelope length %llu, expected %llu (up to the footer, at most "
                              "%llu)",
                              (unsigned long long)f.envelope_length,
                              (unsigned long long)(body - pos),
                              (unsigned long long)KILN_UNIT_MAX_ENVELOPE);
    *out = f;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *kiln_refusal_name(enum kiln_refusal r)
{
    static const char *const names[] = {
        "ok",          "read error",    "bad footer",   "bad envelope",    "unknown key",
        "revoked key", "bad signature", "bad manifest", "digest mismatch", "unsupported version"};
    if ((unsigned)r >= sizeof names / sizeof names[0]) return "refused";
    return names[r];
}

/* Sets *why and an error "<refusal name>: <detail>"; returns negative. */
static int refuse(struct kiln_error *err, enum kiln_refusal *why, enum kiln_refusal r, int code,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int refuse(struct kiln_error *err, enum kiln_refusal *why, enum kiln_refusal r, int code,
                  const char *fmt, ...)
{
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (why) *why = r;
    return kiln_error_set(err, code, "%s: %s", kiln_refusal_name(r), detail);
}

void kiln_unit_free(struct kiln_unit *u)
{
    if (!u) return;
    kiln_statement_clear(&u->statement);
    free(u->signer_label);
    free(u->data);
    free(u);
}

int kiln_dsse_verify_trusted(const struct kiln_dsse *env, const struct kiln_trust_store *ts,
                             const char **label, enum kiln_refusal *why, struct kiln_error *err)
{
    size_t i;
    long bad = -1, revoked = -1;
    for (i = 0; i < env->nsigs; i++) {
        const struct kiln_pubkey *key;
        int ok;
        switch (kiln_trust_store_lookup(ts, env->sigs[i].keyid, &key, label)) {
        case KILN_TRUST_REVOKED:
            if (revoked < 0) revoked = (long)i;
            continue;
        case KILN_TRUST_UNKNOWN:
            continue;
        case KILN_TRUST_TRUSTED:
            break;
        }
        ok = kiln_dsse_verify_sig(env, i, key, NULL);
        if (ok < 0)
            return refuse(err, why, KILN_REFUSAL_IO, KILN_E_NOMEM,
                          "out of memory verifying signature %zu", i);
        if (ok) return (int)i;
        if (bad < 0) bad = (long)i;
    }
    if (bad >= 0)
        return refuse(err, why, KILN_REFUSAL_BAD_SIGNATURE, KILN_E_VERIFY,
                      "signature %ld by trusted key %s does not verify", bad, env->sigs[bad].keyid);
    if (revoked >= 0)
        return refuse(err, why, KILN_REFUSAL_REVOKED_KEY, KILN_E_VERIFY,
                      "signature %ld is by revoked key %s and no other trusted key signed", revoked,
                      env->sigs[revoked].keyid);
    return refuse(err, why, KILN_REFUSAL_UNKNOWN_KEY, KILN_E_VERIFY,
                  "none of the %zu signature(s) is by a trusted key (first keyid \"%.64s\")",
                  env->nsigs, env->nsigs ? env->sigs[0].keyid : "");
}

/* Step 5: digests of region bytes and the layout against the statement. */
static int check_digests(const uint8_t *data, const struct kiln_unit_footer *f,
                         const struct kiln_statement *st, enum kiln_refusal *why,
                         struct kiln_error *err)
{
    uint32_t i;
    if (st->nregions != f->region_count)
        return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                      "the statement has %zu subjects, the footer %u regions", st->nregions,
                      f->region_count);
    for (i = 0; i < f->region_count; i++) {
        const struct kiln_unit_region *r = &f->regions[i];
        char hex[65];
        if (st->regions[i].kind != r->kind)
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "region %u is %s but signed subject %u is another kind", i,
                          kiln_region_name(r->kind), i);
        kiln_sha256_hex(data + r->offset, (size_t)r->length, hex);
        if (strcmp(hex, st->sha256[i]) != 0)
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "region %u (%s, offset %llu, %llu bytes): sha256 %.16s..., signed "
                          "%.16s...",
                          i, kiln_region_name(r->kind), (unsigned long long)r->offset,
                          (unsigned long long)r->length, hex, st->sha256[i]);
        if (st->has_manifest &&
            (st->regions[i].offset != r->offset || st->regions[i].length != r->length))
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "region %u (%s): footer says offset %llu length %llu, signed layout "
                          "says %llu/%llu",
                          i, kiln_region_name(r->kind), (unsigned long long)r->offset,
                          (unsigned long long)r->length, (unsigned long long)st->regions[i].offset,
                          (unsigned long long)st->regions[i].length);
        if (st->has_manifest && r->kind == KILN_REGION_POLICY &&
            (!st->manifest.has_policy || strcmp(hex, st->manifest.policy_sha256) != 0))
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "policy region digest differs from predicate.policy.digest");
    }
    return 0;
}

/* Step 6: versions and the ABI. */
static int check_versions(const struct kiln_unit_footer *f, const struct kiln_statement *st,
                          enum kiln_refusal *why, struct kiln_error *err)
{
    const struct kiln_manifest *m = &st->manifest;
    bool has_aot = false, has_policy = false;
    uint32_t i;
    if (strcmp(st->statement_type, KILN_STATEMENT_TYPE) != 0)
        return refuse(err, why, KILN_REFUSAL_UNSUPPORTED, KILN_E_UNSUPPORTED,
                      "statement _type \"%.80s\", expected %s", st->statement_type,
                      KILN_STATEMENT_TYPE);
    if (strcmp(st->predicate_type, KILN_PREDICATE_TYPE) != 0 || !st->has_manifest)
        return refuse(err, why, KILN_REFUSAL_UNSUPPORTED, KILN_E_UNSUPPORTED,
                      "predicateType \"%.80s\", this build reads %s", st->predicate_type,
                      KILN_PREDICATE_TYPE);
    if (m->format_version != KILN_FORMAT_VERSION || (uint32_t)m->format_version != f->version)
        return refuse(err, why, KILN_REFUSAL_UNSUPPORTED, KILN_E_UNSUPPORTED,
                      "manifest formatVersion %d (footer %u, this build %d)", m->format_version,
                      f->version, KILN_FORMAT_VERSION);
    if (m->engine_version < 1 || m->engine_version > KILN_ENGINE_VERSION)
        return refuse(err, why, KILN_REFUSAL_UNSUPPORTED, KILN_E_UNSUPPORTED,
                      "manifest engineVersion %d (this engine supports 1..%d)", m->engine_version,
                      KILN_ENGINE_VERSION);
    if (!kiln_manifest_abi_supported(m->guest_abi))
        return refuse(err, why, KILN_REFUSAL_UNSUPPORTED, KILN_E_UNSUPPORTED,
                      "guest ABI \"%.80s\" is not supported", m->guest_abi);
    for (i = 0; i < f->region_count; i++) {
        has_aot |= f->regions[i].kind == KILN_REGION_AOT;
        has_policy |= f->regions[i].kind == KILN_REGION_POLICY;
    }
    if (has_aot != m->has_aot || has_policy != m->has_policy)
        return refuse(err, why, KILN_REFUSAL_BAD_MANIFEST, KILN_E_VERIFY,
                      "manifest %s an AOT/policy entry that the unit %s",
                      m->has_aot || m->has_policy ? "has" : "lacks",
                      has_aot || has_policy ? "has" : "lacks");
    return 0;
}

/* Step 5 for a unit whose whole-file digest was already checked against a
 * signed subject (kiln_unit_verify_attested): the same layout checks as
 * check_digests, with the signed subject digests standing in for hashes of
 * bytes that the whole-file digest already covers. */
static int check_layout(const struct kiln_unit_footer *f, const struct kiln_statement *st,
                        enum kiln_refusal *why, struct kiln_error *err)
{
    uint32_t i;
    if (st->nregions != f->region_count)
        return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                      "the statement has %zu subjects, the footer %u regions", st->nregions,
                      f->region_count);
    for (i = 0; i < f->region_count; i++) {
        const struct kiln_unit_region *r = &f->regions[i];
        if (st->regions[i].kind != r->kind)
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "region %u is %s but signed subject %u is another kind", i,
                          kiln_region_name(r->kind), i);
        if (!st->has_manifest || st->regions[i].offset != r->offset ||
            st->regions[i].length != r->length)
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "region %u (%s): footer says offset %llu length %llu, signed layout "
                          "says %llu/%llu",
                          i, kiln_region_name(r->kind), (unsigned long long)r->offset,
                          (unsigned long long)r->length, (unsigned long long)st->regions[i].offset,
                          (unsigned long long)st->regions[i].length);
        if (r->kind == KILN_REGION_POLICY &&
            (!st->manifest.has_policy || strcmp(st->sha256[i], st->manifest.policy_sha256) != 0))
            return refuse(err, why, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                          "policy region digest differs from predicate.policy.digest");
    }
    return 0;
}

/* The verifier behind kiln_unit_verify and kiln_unit_verify_attested.
 * whole == NULL: every region is hashed (check_digests). Otherwise the file's
 * bytes are bound to the signed digest whole[] (hashed here once unless the
 * caller vouches with KILN_UNIT_ATTESTED_KNOWN) and only the layout is
 * compared (check_layout). Owns data from the start. */
static int verify(uint8_t *data, size_t size, const struct kiln_trust_store *ts, const char *whole,
                  unsigned flags, struct kiln_unit **out, enum kiln_refusal *refusal,
                  struct kiln_error *err)
{
    struct kiln_unit *u = NULL;
    struct kiln_dsse *env = NULL;
    const char *label = NULL;
    int rc, which;
    uint32_t i;
    uint64_t t0 = now_ns(), t1, t2, th = 0;

    u = calloc(1, sizeof *u);
    if (!u) {
        rc = refuse(err, refusal, KILN_REFUSAL_IO, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    u->data = data;
    u->size = size;
    data = NULL; /* owned by u from here on */

    /* 0. (attested) the whole file against its signed digest */
    if (whole && !(flags & KILN_UNIT_ATTESTED_KNOWN)) {
        char hex[65];
        kiln_sha256_hex(u->data, u->size, hex);
        th = now_ns() - t0;
        if (!kiln__is_hex64(whole) || strcmp(hex, whole) != 0) {
            rc =
                refuse(err, refusal, KILN_REFUSAL_DIGEST_MISMATCH, KILN_E_VERIFY,
                       "the file's sha256 %.16s... differs from the attested %.16s...", hex, whole);
            goto fail;
        }
    }
    /* 1. footer sane */
    rc = kiln_unit_footer_parse(u->data, u->size, &u->footer, err);
    if (rc < 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err ? err->msg : "");
        rc = refuse(err, refusal,
                    rc == -KILN_E_UNSUPPORTED ? KILN_REFUSAL_UNSUPPORTED : KILN_REFUSAL_BAD_FOOTER,
                    -rc, "%s", m);
        goto fail;
    }
    /* 2. envelope parses (canonical form, in-toto payload type) */
    rc = kiln_dsse_parse((const char *)u->data + u->footer.envelope_offset,
                         (size_t)u->footer.envelope_length, &env, err);
    if (rc < 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err ? err->msg : "");
        rc = refuse(err, refusal, KILN_REFUSAL_BAD_ENVELOPE, -rc, "%s", m);
        goto fail;
    }
    if (strcmp(env->payload_type, KILN_DSSE_PAYLOAD_TYPE) != 0) {
        rc =
            refuse(err, refusal, KILN_REFUSAL_BAD_ENVELOPE, KILN_E_MALFORMED,
                   "payloadType \"%.80s\", expected %s", env->payload_type, KILN_DSSE_PAYLOAD_TYPE);
        goto fail;
    }
    t1 = now_ns();
    /* 3. a trusted, non-revoked signature verifies over the PAE */
    rc = which = kiln_dsse_verify_trusted(env, ts, &label, refusal, err);
    if (rc < 0) goto fail;
    snprintf(u->signer_keyid, sizeof u->signer_keyid, "%s", env->sigs[which].keyid);
    u->signer_label = label ? strdup(label) : NULL;
    u->nsigs = env->nsigs;
    t2 = now_ns();
    /* the signed statement (only now is it worth parsing) */
    rc = kiln_statement_parse(env->payload, env->payload_len, &u->statement, err);
    if (rc < 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err ? err->msg : "");
        rc = refuse(err, refusal, KILN_REFUSAL_BAD_MANIFEST, KILN_E_VERIFY, "%s", m);
        goto fail;
    }
    /* 4. every region's digest (and the layout) matches the signed subjects */
    rc = whole ? check_layout(&u->footer, &u->statement, refusal, err)
               : check_digests(u->data, &u->footer, &u->statement, refusal, err);
    if (rc < 0) goto fail;
    /* 5. versions supported */
    rc = check_versions(&u->footer, &u->statement, refusal, err);
    if (rc < 0) goto fail;

    for (i = 0; i < u->footer.region_count; i++) {
        const struct kiln_unit_region *r = &u->footer.regions[i];
        const uint8_t *p = u->data + r->offset;
        switch (r->kind) {
        case KILN_REGION_STUB:
            if (!(flags & KILN_UNIT_ATTESTED_NO_STUB)) u->stub = p, u->stub_len = (size_t)r->length;
            break;
        case KILN_REGION_WASM:
            u->wasm = p, u->wasm_len = (size_t)r->length;
            break;
        case KILN_REGION_AOT:
            u->aot = p, u->aot_len = (size_t)r->length;
            break;
        case KILN_REGION_POLICY:
            u->policy = p, u->policy_len = (size_t)r->length;
            break;
        }
    }
    kiln_dsse_free(env);
    u->timing.parse_ns = t1 - t0 - th;
    u->timing.sig_ns = t2 - t1;
    u->timing.hash_ns = now_ns() - t2 + th;
    if (refusal) *refusal = KILN_REFUSAL_NONE;
    *out = u;
    return 0;
fail:
    kiln_dsse_free(env);
    kiln_unit_free(u);
    free(data);
    return rc;
}

int kiln_unit_verify(uint8_t *data, size_t size, const struct kiln_trust_store *ts,
                     struct kiln_unit **out, enum kiln_refusal *refusal, struct kiln_error *err)
{
    return verify(data, size, ts, NULL, 0, out, refusal, err);
}

int kiln_unit_verify_attested(uint8_t *data, size_t size, const struct kiln_trust_store *ts,
                              const char whole_sha256[65], unsigned flags, struct kiln_unit **out,
                              enum kiln_refusal *refusal, struct kiln_error *err)
{
    if (!whole_sha256 || (flags & ~(KILN_UNIT_ATTESTED_KNOWN | KILN_UNIT_ATTESTED_NO_STUB)) ||
        ((flags & KILN_UNIT_ATTESTED_NO_STUB) && !(flags & KILN_UNIT_ATTESTED_KNOWN))) {
        free(data);
        return refuse(err, refusal, KILN_REFUSAL_IO, KILN_E_ARG,
                      "kiln_unit_verify_attested: bad arguments");
    }
    return verify(data, size, ts, whole_sha256, flags, out, refusal, err);
}

/* Reads the unit on fd for kiln_unit_verify_fd_attested without its stub
 * region: a zero-filled buffer of the file's size, the footer read first, then
 * every byte from the end of the stub region to the end of the file (once,
 * with pread). The footer is parsed again by the verifier on the whole buffer. */
static int read_without_stub(int fd, uint8_t **out, size_t *len, size_t *from,
                             struct kiln_error *err)
{
    struct stat st;
    struct kiln_unit_footer f;
    uint8_t *buf = NULL;
    size_t size, off, want;
    int rc;
    if (fstat(fd, &st) != 0) return kiln_error_sys(err, errno, "unit: fstat");
    if (!S_ISREG(st.st_mode)) return kiln_error_set(err, KILN_E_ARG, "unit: not a regular file");
    if (st.st_size < KILN_UNIT_FOOTER_SIZE || (uint64_t)st.st_size > KILN_UNIT_MAX_SIZE)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "unit: %lld bytes: no room for a footer or "
                              "over the size limit",
                              (long long)st.st_size);
    size = (size_t)st.st_size;
    buf = calloc(1, size + 1); /* large: fresh zero pages, the stub's are never touched */
    if (!buf) return kiln_error_set(err, KILN_E_NOMEM, "unit: out of memory for %zu bytes", size);
    off = size - KILN_UNIT_FOOTER_SIZE;
    for (;;) {
        want = size - off;
        ssize_t r = pread(fd, buf + off, want, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r != (ssize_t)want) {
            rc = r < 0 ? kiln_error_sys(err, errno, "unit: read at offset %zu", off)
                       : kiln_error_set(err, KILN_E_IO, "unit: short read at offset %zu", off);
            goto fail;
        }
        if (off != size - KILN_UNIT_FOOTER_SIZE) break;
        rc = kiln_unit_footer_parse(buf, size, &f, err);
        if (rc < 0) goto fail;
        off = f.region_count > 1 ? (size_t)f.regions[1].offset : 0;
        if (off >= size - KILN_UNIT_FOOTER_SIZE) break;
    }
    *out = buf;
    *len = size;
    *from = off;
    return 0;
fail:
    free(buf);
    return rc;
}

int kiln_unit_verify_fd_attested(int fd, const struct kiln_trust_store *ts,
                                 const char whole_sha256[65], unsigned flags,
                                 struct kiln_unit **out, enum kiln_refusal *refusal,
                                 struct kiln_error *err)
{
    uint8_t *data;
    size_t n, from = 0;
    uint64_t t0 = now_ns(), t1;
    int rc = (flags & KILN_UNIT_ATTESTED_NO_STUB)
                 ? read_without_stub(fd, &data, &n, &from, err)
                 : kiln__read_fd(fd, "unit", KILN_UNIT_MAX_SIZE, &data, &n, err);
    if (rc < 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err ? err->msg : "");
        return refuse(err, refusal,
                      rc == -KILN_E_MALFORMED ? KILN_REFUSAL_BAD_FOOTER : KILN_REFUSAL_IO, -rc,
                      "%s", m);
    }
    t1 = now_ns();
    rc = kiln_unit_verify_attested(data, n, ts, whole_sha256, flags, out, refusal, err);
    if (rc < 0) return rc;
    /* the file changed between the two reads: bytes before `from` were not read */
    if ((*out)->footer.region_count > 1 && (*out)->footer.regions[1].offset < from) {
        kiln_unit_free(*out);
        *out = NULL;
        return refuse(err, refusal, KILN_REFUSAL_IO, KILN_E_IO,
                      "the unit changed while it was being read");
    }
    (*out)->timing.read_ns = t1 - t0;
    return 0;
}

int kiln_unit_verify_fd(int fd, const struct kiln_trust_store *ts, struct kiln_unit **out,
                        enum kiln_refusal *refusal, struct kiln_error *err)
{
    uint8_t *data;
    size_t n;
    uint64_t t0 = now_ns(), t1;
    int rc = kiln__read_fd(fd, "unit", KILN_UNIT_MAX_SIZE, &data, &n, err);
    if (rc < 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err ? err->msg : "");
        return refuse(err, refusal, KILN_REFUSAL_IO, -rc, "%s", m);
    }
    t1 = now_ns();
    rc = kiln_unit_verify(data, n, ts, out, refusal, err);
    if (rc == 0) (*out)->timing.read_ns = t1 - t0;
    return rc;
}

int kiln_unit_verify_file(const char *path, const struct kiln_trust_store *ts,
                          struct kiln_unit **out, enum kiln_refusal *refusal,
                          struct kiln_error *err)
{
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = kiln_error_sys(err, errno, "%s: open", path);
        kiln_error_prefix(err, "%s", kiln_refusal_name(KILN_REFUSAL_IO));
        if (refusal) *refusal = KILN_REFUSAL_IO;
        return rc;
    }
    rc = kiln_unit_verify_fd(fd, ts, out, refusal, err);
    close(fd);
    return rc;
}

int kiln_unit_build(const struct kiln_unit_input *in, uint8_t **out, size_t *out_len,
                    struct kiln_error *err)
{
    struct kiln_statement st;
    struct kiln_unit_footer f;
    struct kiln_dsse *env = NULL;
    char *payload = NULL, *json = NULL;
    size_t plen, jlen, total, i;
    uint8_t *buf = NULL;
    uint64_t pos = 0;
    int rc;
    struct {
        uint32_t kind;
        const uint8_t *p;
        size_t n;
    } parts[4] = {{KILN_REGION_STUB, in->stub, in->stub_len},
                  {KILN_REGION_WASM, in->wasm, in->wasm_len},
                  {KILN_REGION_AOT, in->aot, in->aot_len},
                  {KILN_REGION_POLICY, in->policy, in->policy_len}};

    memset(&st, 0, sizeof st);
    memset(&f, 0, sizeof f);
    if (!in->stub || in->stub_len < 4 || memcmp(in->stub, "\177ELF", 4) != 0)
        return kiln_error_set(err, KILN_E_ARG, "unit: the stub is not an ELF file");
    if (!in->wasm || in->wasm_len < 8 || memcmp(in->wasm, "\0asm\1\0\0\0", 8) != 0)
        return kiln_error_set(err, KILN_E_ARG,
                              "unit: the module is not a WebAssembly binary (magic, version 1)");
    if (!in->manifest || in->nkeys == 0)
        return kiln_error_set(err, KILN_E_ARG, "unit: a manifest and at least one key are needed");
    if ((in->aot && !in->aot_len) || (in->policy && !in->policy_len))
        return kiln_error_set(err, KILN_E_ARG, "unit: empty AOT or policy region");

    /* layout */
    st.manifest = *in->manifest; /* borrowed strings: not cleared below */
    st.manifest.format_version = KILN_FORMAT_VERSION;
    if (st.manifest.engine_version == 0) st.manifest.engine_version = KILN_ENGINE_VERSION;
    st.manifest.has_policy = in->policy != NULL;
    st.manifest.has_aot = in->aot != NULL;
    for (i = 0; i < 4; i++) {
        struct kiln_unit_region *r;
        if (!parts[i].p) continue;
        r = &f.regions[f.region_count];
        r->kind = parts[i].kind;
        r->offset = pos;
        r->length = parts[i].n;
        st.regions[st.nregions] = *r;
        kiln_sha256_hex(parts[i].p, parts[i].n, st.sha256[st.nregions]);
        if (parts[i].kind == KILN_REGION_POLICY)
            memcpy(st.manifest.policy_sha256, st.sha256[st.nregions], 65);
        st.nregions++;
        f.region_count++;
        pos += parts[i].n;
    }
    rc = kiln_statement_encode(&st, &payload, &plen, err);
    if (rc < 0) goto fail;
    rc = kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, (const uint8_t *)payload, plen, &env, err);
    if (rc < 0) goto fail;
    for (i = 0; i < in->nkeys; i++) {
        rc = kiln_dsse_sign(env, in->keys[i], err);
        if (rc < 0) goto fail;
    }
    rc = kiln_dsse_encode(env, &json, &jlen, err);
    if (rc < 0) goto fail;
    if (jlen > KILN_UNIT_MAX_ENVELOPE) {
        rc = kiln_error_set(err, KILN_E_ARG, "unit: envelope of %zu bytes is over the limit", jlen);
        goto fail;
    }
    f.version = KILN_FORMAT_VERSION;
    f.envelope_offset = pos;
    f.envelope_length = jlen;
    total = (size_t)pos + jlen + KILN_UNIT_FOOTER_SIZE;
    if (total > KILN_UNIT_MAX_SIZE) {
        rc = kiln_error_set(err, KILN_E_ARG, "unit: %zu bytes is over the unit size limit", total);
        goto fail;
    }
    buf = malloc(total);
    if (!buf) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "unit: out of memory for %zu bytes", total);
        goto fail;
    }
    for (i = 0; i < f.region_count; i++)
        memcpy(buf + f.regions[i].offset, parts[f.regions[i].kind - 1].p,
               (size_t)f.regions[i].length);
    memcpy(buf + pos, json, jlen);
    kiln_unit_footer_encode(&f, buf + pos + jlen);
    *out = buf;
    *out_len = total;
    buf = NULL;
    rc = 0;
fail:
    free(buf);
    free(json);
    free(payload);
    kiln_dsse_free(env);
    return rc;
}

void kiln_unit_info_free(struct kiln_unit_info *info)
{
    if (!info) return;
    kiln_dsse_free(info->envelope);
    if (info->has_statement) kiln_statement_clear(&info->statement);
    free(info);
}

int kiln_unit_inspect(const uint8_t *data, size_t size, struct kiln_unit_info **out,
                      struct kiln_error *err)
{
    struct kiln_unit_info *info = calloc(1, sizeof *info);
    struct kiln_error e2;
    uint32_t i;
    int rc;
    if (!info) return kiln_error_set(err, KILN_E_NOMEM, "inspect: out of memory");
    rc = kiln_unit_footer_parse(data, size, &info->footer, err);
    if (rc < 0) {
        free(info);
        return rc;
    }
    for (i = 0; i < info->footer.region_count; i++)
        kiln_sha256_hex(data + info->footer.regions[i].offset,
                        (size_t)info->footer.regions[i].length, info->sha256[i]);
    if (kiln_dsse_parse((const char *)data + info->footer.envelope_offset,
                        (size_t)info->footer.envelope_length, &info->envelope, &e2) < 0) {
        snprintf(info->envelope_error, sizeof info->envelope_error, "%s", e2.msg);
    } else if (kiln_statement_parse(info->envelope->payload, info->envelope->payload_len,
                                    &info->statement, &e2) < 0) {
        snprintf(info->envelope_error, sizeof info->envelope_error, "%s", e2.msg);
    } else {
        info->has_statement = true;
    }
    *out = info;
    return 0;
}
