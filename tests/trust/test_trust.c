/*
 * test_trust.c — unit and adversarial tests for src/trust (keys, PAE, DSSE,
 * statements, trust store, unit reader/writer).
 *
 * Run as `test_trust NAME`; CMake registers each NAME as its own CTest test
 * (each in its own process). `test_trust` alone lists the names.
 *
 * The tamper tests run in-process: a small unit is built once and every
 * variant (each byte flipped, each prefix length, each crafted footer) is
 * verified from memory, expecting a refusal each time.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------- fixtures --- */

static uint8_t stub_bytes[64];
static uint8_t wasm_bytes[24];
static const char policy_text[] = "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}";

static void init_fixtures(void)
{
    size_t i;
    REQUIRE(sodium_init() >= 0);
    memcpy(stub_bytes, "\177ELF\2\1\1", 7);
    for (i = 7; i < sizeof stub_bytes; i++)
        stub_bytes[i] = (uint8_t)(i * 7);
    memcpy(wasm_bytes, "\0asm\1\0\0\0", 8);
    /* a custom section "kiln" holding 10 bytes */
    memcpy(wasm_bytes + 8, "\0\017\4kiln0123456789", 16);
}

static void manifest_init(struct kiln_manifest *m)
{
    memset(m, 0, sizeof *m);
    m->format_version = KILN_FORMAT_VERSION;
    m->engine_version = KILN_ENGINE_VERSION;
    m->tool_version = "kiln test";
    m->guest_abi = "wasi_snapshot_preview1";
    m->source_path = "/usr/bin/app";
    m->source_kind = "wasm";
    kiln_sha256_hex(wasm_bytes, sizeof wasm_bytes, m->source_sha256);
}

/* Builds a unit with kiln_unit_build; wasm may be overridden. */
static uint8_t *build_unit(const struct kiln_seckey *const *keys, size_t nkeys, bool policy,
                           const uint8_t *wasm, size_t wasm_len, size_t *len)
{
    struct kiln_manifest m;
    struct kiln_unit_input in;
    struct kiln_error err = {0};
    uint8_t *out = NULL;
    manifest_init(&m);
    memset(&in, 0, sizeof in);
    in.stub = stub_bytes, in.stub_len = sizeof stub_bytes;
    in.wasm = wasm ? wasm : wasm_bytes, in.wasm_len = wasm ? wasm_len : sizeof wasm_bytes;
    if (policy) in.policy = (const uint8_t *)policy_text, in.policy_len = strlen(policy_text);
    in.manifest = &m;
    in.keys = keys;
    in.nkeys = nkeys;
    if (kiln_unit_build(&in, &out, len, &err) < 0) {
        fprintf(stderr, "build: %s\n", err.msg);
        exit(1);
    }
    return out;
}

struct part {
    uint32_t kind;
    const uint8_t *p;
    size_t n;
};

/* Lays parts out contiguously, appends env (any bytes) and a footer. */
static uint8_t *assemble(const struct part *parts, size_t nparts, const char *env, size_t env_len,
                         size_t *len)
{
    struct kiln_unit_footer f;
    size_t i, pos = 0, total;
    uint8_t *buf;
    memset(&f, 0, sizeof f);
    for (i = 0; i < nparts; i++)
        pos += parts[i].n;
    total = pos + env_len + KILN_UNIT_FOOTER_SIZE;
    buf = malloc(total);
    REQUIRE(buf);
    pos = 0;
    for (i = 0; i < nparts; i++) {
        f.regions[i].kind = parts[i].kind;
        f.regions[i].offset = pos;
        f.regions[i].length = parts[i].n;
        memcpy(buf + pos, parts[i].p, parts[i].n);
        pos += parts[i].n;
    }
    f.version = KILN_FORMAT_VERSION;
    f.region_count = (uint32_t)nparts;
    f.envelope_offset = pos;
    f.envelope_length = env_len;
    memcpy(buf + pos, env, env_len);
    kiln_unit_footer_encode(&f, buf + pos + env_len);
    *len = total;
    return buf;
}

/* Statement JSON for parts under manifest m (m's versions/ABI used as given). */
static char *statement_for(const struct part *parts, size_t nparts, const struct kiln_manifest *m,
                           size_t *len)
{
    struct kiln_statement st;
    struct kiln_error err = {0};
    char *json;
    size_t i, pos = 0;
    memset(&st, 0, sizeof st);
    st.manifest = *m;
    for (i = 0; i < nparts; i++) {
        st.regions[i].kind = parts[i].kind;
        st.regions[i].offset = pos;
        st.regions[i].length = parts[i].n;
        kiln_sha256_hex(parts[i].p, parts[i].n, st.sha256[i]);
        if (parts[i].kind == KILN_REGION_POLICY) {
            st.manifest.has_policy = true;
            memcpy(st.manifest.policy_sha256, st.sha256[i], 65);
        }
        pos += parts[i].n;
    }
    st.nregions = nparts;
    if (kiln_statement_encode(&st, &json, len, &err) < 0) {
        fprintf(stderr, "statement: %s\n", err.msg);
        exit(1);
    }
    return json;
}

/* Envelope JSON over payload signed by keys. */
static char *envelope_for(const char *payload, size_t plen, const struct kiln_seckey *const *keys,
                          size_t nkeys, size_t *len)
{
    struct kiln_dsse *env;
    struct kiln_error err = {0};
    char *json;
    size_t i;
    REQUIRE(kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, (const uint8_t *)payload, plen, &env, &err) == 0);
    for (i = 0; i < nkeys; i++)
        REQUIRE(kiln_dsse_sign(env, keys[i], &err) == 0);
    REQUIRE(kiln_dsse_encode(env, &json, len, &err) == 0);
    kiln_dsse_free(env);
    return json;
}

static struct kiln_trust_store *store_with(const struct kiln_pubkey *k)
{
    struct kiln_trust_store *ts;
    REQUIRE(kiln_trust_store_new(&ts, NULL) == 0);
    if (k) REQUIRE(kiln_trust_store_add(ts, k, "test key", NULL) == 0);
    return ts;
}

/* Verifies a copy of data; returns the refusal (NONE on success). */
static enum kiln_refusal verify_copy(const uint8_t *data, size_t len,
                                     const struct kiln_trust_store *ts, struct kiln_error *err,
                                     struct kiln_unit **keep)
{
    uint8_t *copy = malloc(len ? len : 1);
    struct kiln_unit *u = NULL;
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    int rc;
    REQUIRE(copy);
    memcpy(copy, data, len);
    rc = kiln_unit_verify(copy, len, ts, &u, &why, err);
    if (rc == 0) {
        REQUIRE(why == KILN_REFUSAL_NONE && u);
        if (keep)
            *keep = u;
        else
            kiln_unit_free(u);
    } else {
        REQUIRE(why != KILN_REFUSAL_NONE);
        /* the message starts with the reason's name */
        REQUIRE(!err ||
                strncmp(err->msg, kiln_refusal_name(why), strlen(kiln_refusal_name(why))) == 0);
    }
    return why;
}

/* ------------------------------------------------------------- tests --- */

static void test_pem_der(void)
{
    /* RFC 8410 §10.3 example private key and its public key (§10.1). */
    static const char priv_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
        "-----END PRIVATE KEY-----\n";
    static const char pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
                                  "-----END PUBLIC KEY-----\n";
    struct kiln_seckey sk, sk2;
    struct kiln_pubkey pk, pk2;
    struct kiln_error err = {0};
    uint8_t der[KILN_SPKI_DER_LEN], der8[KILN_PKCS8_DER_LEN], raw[32];
    char *pem, hex[65];

    CHECK(kiln_key_parse_private_pem(priv_pem, strlen(priv_pem), &sk, &err) == 0);
    CHECK(kiln_key_parse_public_pem(pub_pem, strlen(pub_pem), &pk, &err) == 0);
    CHECK(memcmp(sk.pub.pk, pk.pk, 32) == 0);
    CHECK(strcmp(sk.pub.keyid, pk.keyid) == 0);
    /* key id = sha256(SPKI DER) */
    kiln_key_spki_der(pk.pk, der);
    kiln_sha256_hex(der, sizeof der, hex);
    CHECK(strcmp(hex, pk.keyid) == 0);
    CHECK(der[0] == 0x30 && der[1] == 0x2a && der[11] == 0x00);
    CHECK(kiln_key_spki_parse(der, sizeof der, raw, &err) == 0 && memcmp(raw, pk.pk, 32) == 0);
    /* our PEM output is byte-identical to the RFC's (and openssl's) */
    CHECK(kiln_key_public_pem(&pk, &pem, &err) == 0);
    CHECK(strcmp(pem, pub_pem) == 0);
    free(pem);
    CHECK(kiln_key_private_pem(&sk, &pem, &err) == 0);
    CHECK(strcmp(pem, priv_pem) == 0);
    free(pem);
    /* PKCS#8 round trip */
    kiln_key_pkcs8_der(&sk, der8);
    CHECK(kiln_key_pkcs8_parse(der8, sizeof der8, &sk2, &err) == 0);
    CHECK(memcmp(sk.sk, sk2.sk, 64) == 0);
    /* every prefix byte matters, lengths are exact */
    for (size_t i = 0; i < 12; i++) {
        der[i] ^= 1;
        CHECK(kiln_key_spki_parse(der, sizeof der, raw, &err) == -KILN_E_MALFORMED);
        der[i] ^= 1;
    }
    CHECK(kiln_key_spki_parse(der, sizeof der - 1, raw, &err) == -KILN_E_MALFORMED);
    der8[4] = 1; /* version v2 */
    CHECK(kiln_key_pkcs8_parse(der8, sizeof der8, &sk2, &err) == -KILN_E_MALFORMED);
    /* wrong type, junk, truncation */
    CHECK(kiln_key_parse_public_pem(priv_pem, strlen(priv_pem), &pk2, &err) == -KILN_E_INVALID);
    CHECK(kiln_key_parse_private_pem(pub_pem, strlen(pub_pem), &sk2, &err) == -KILN_E_INVALID);
    CHECK(kiln_key_parse_public_pem("hello", 5, &pk2, &err) == -KILN_E_MALFORMED);
    CHECK(kiln_key_parse_public_pem(pub_pem, 60, &pk2, &err) == -KILN_E_MALFORMED);
    {
        char bad[sizeof pub_pem];
        memcpy(bad, pub_pem, sizeof pub_pem);
        bad[30] = '!';
        CHECK(kiln_key_parse_public_pem(bad, strlen(bad), &pk2, &err) == -KILN_E_MALFORMED);
    }
    /* generated keys round-trip through PEM */
    CHECK(kiln_key_generate(&sk, &err) == 0);
    CHECK(kiln_key_private_pem(&sk, &pem, &err) == 0);
    CHECK(kiln_key_parse_private_pem(pem, strlen(pem), &sk2, &err) == 0);
    CHECK(memcmp(sk.sk, sk2.sk, 64) == 0 && strcmp(sk.pub.keyid, sk2.pub.keyid) == 0);
    free(pem);
    kiln_key_wipe(&sk);
    CHECK(sodium_is_zero((const unsigned char *)&sk, sizeof sk));
}

static void test_key_files(void)
{
    char dir[] = "/tmp/kiln-trust-test.XXXXXX", prefix[64], path[96];
    struct kiln_seckey sk, sk2;
    struct kiln_pubkey pk;
    struct kiln_error err = {0};
    struct stat st;
    REQUIRE(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/k", dir);
    CHECK(kiln_key_generate(&sk, &err) == 0);
    CHECK(kiln_key_save(prefix, &sk, &err) == 0);
    snprintf(path, sizeof path, "%s.pem", prefix);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(kiln_key_load_private(path, &sk2, &err) == 0 && memcmp(sk.sk, sk2.sk, 64) == 0);
    /* never overwrite a key */
    CHECK(kiln_key_save(prefix, &sk, &err) == -KILN_E_ARG);
    unlink(path);
    snprintf(path, sizeof path, "%s.pub.pem", prefix);
    CHECK(kiln_key_load_public(path, &pk, &err) == 0 && strcmp(pk.keyid, sk.pub.keyid) == 0);
    unlink(path);
    rmdir(dir);
}

/* kiln_sha256_hex (SHA extensions on capable CPUs) equals libsodium and the
 * FIPS 180-4 examples for every length up to 1 KiB and a few large buffers. */
static void test_sha256(void)
{
    static uint8_t buf[(1u << 20) + 77];
    uint8_t d[32];
    char want[65], got[65];
    size_t n, i;
    kiln_sha256_hex((const uint8_t *)"abc", 3, got);
    CHECK(strcmp(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    kiln_sha256_hex((const uint8_t *)"", 0, got);
    CHECK(strcmp(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    kiln_sha256_hex((const uint8_t *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                    got);
    CHECK(strcmp(got, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
    randombytes_buf_deterministic(buf, sizeof buf,
                                  (const unsigned char *)"kiln-sha256-test-seed-0000000001");
    for (n = 0; n <= 1024; n++) {
        crypto_hash_sha256(d, buf + (n & 7), n);
        sodium_bin2hex(want, sizeof want, d, sizeof d);
        kiln_sha256_hex(buf + (n & 7), n, got);
        CHECK_MSG(strcmp(want, got) == 0, "length %zu", n);
    }
    for (i = 0; i < 4; i++) {
        n = sizeof buf - i * 13;
        crypto_hash_sha256(d, buf, n);
        sodium_bin2hex(want, sizeof want, d, sizeof d);
        kiln_sha256_hex(buf, n, got);
        CHECK_MSG(strcmp(want, got) == 0, "length %zu", n);
    }
    /* incremental: lengths 0..300 cut into pieces of every size 1..130, and
       1 MiB in uneven pieces */
    for (n = 0; n <= 300; n++) {
        crypto_hash_sha256(d, buf, n);
        sodium_bin2hex(want, sizeof want, d, sizeof d);
        for (size_t piece = 1; piece <= 130; piece++) {
            struct kiln_sha256 st;
            kiln_sha256_init(&st);
            for (i = 0; i < n; i += piece)
                kiln_sha256_update(&st, buf + i, n - i < piece ? n - i : piece);
            kiln_sha256_final_hex(&st, got);
            CHECK_MSG(strcmp(want, got) == 0, "incremental length %zu piece %zu", n, piece);
        }
    }
    {
        struct kiln_sha256 st;
        size_t off = 0, step = 1;
        crypto_hash_sha256(d, buf, sizeof buf);
        sodium_bin2hex(want, sizeof want, d, sizeof d);
        kiln_sha256_init(&st);
        while (off < sizeof buf) {
            size_t k = sizeof buf - off < step ? sizeof buf - off : step;
            kiln_sha256_update(&st, buf + off, k);
            off += k;
            step = step * 3 + 1;
        }
        kiln_sha256_final_hex(&st, got);
        CHECK_MSG(strcmp(want, got) == 0, "incremental 1 MiB");
    }
}

static void test_pae(void)
{
    uint8_t *p;
    size_t n;
    static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
    CHECK(kiln_dsse_pae("http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, &p, &n,
                        NULL) == 0);
    CHECK(n == strlen(want) && memcmp(p, want, n) == 0);
    free(p);
    CHECK(kiln_dsse_pae("", NULL, 0, &p, &n, NULL) == 0);
    CHECK(n == 12 && memcmp(p, "DSSEv1 0  0 ", 12) == 0);
    free(p);
    CHECK(kiln_dsse_pae(KILN_DSSE_PAYLOAD_TYPE, (const uint8_t *)"{}", 2, &p, &n, NULL) == 0);
    CHECK(n == 43 && memcmp(p, "DSSEv1 28 application/vnd.in-toto+json 2 {}", 43) == 0);
    free(p);
}

static void test_envelope(void)
{
    struct kiln_seckey a, b;
    struct kiln_dsse *env, *back;
    struct kiln_error err = {0};
    char *json, buf[4096];
    size_t len;
    CHECK(kiln_key_generate(&a, NULL) == 0 && kiln_key_generate(&b, NULL) == 0);
    CHECK(kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, (const uint8_t *)"{\"x\":1}", 7, &env, &err) == 0);
    CHECK(kiln_dsse_sign(env, &a, &err) == 0);
    CHECK(kiln_dsse_verify_sig(env, 0, &a.pub, &err) == 1);
    CHECK(kiln_dsse_verify_sig(env, 0, &b.pub, &err) == 0);
    CHECK(kiln_dsse_encode(env, &json, &len, &err) == 0);
    {
        static const char head[] = "{\"payload\":\"eyJ4IjoxfQ==\",\"payloadType\":"
                                   "\"application/vnd.in-toto+json\",\"signatures\":[{\"keyid\":\"";
        CHECK(strncmp(json, head, strlen(head)) == 0);
    }
    CHECK(kiln_dsse_parse(json, len, &back, &err) == 0);
    CHECK(back->payload_len == 7 && memcmp(back->payload, "{\"x\":1}", 7) == 0);
    CHECK(back->nsigs == 1 && strcmp(back->sigs[0].keyid, a.pub.keyid) == 0);
    CHECK(kiln_dsse_verify_sig(back, 0, &a.pub, &err) == 1);
    kiln_dsse_free(back);
    /* the trust rule on a bare envelope */
    {
        struct kiln_trust_store *ts = store_with(&b.pub);
        enum kiln_refusal why = KILN_REFUSAL_NONE;
        const char *label = NULL;
        CHECK(kiln_dsse_verify_trusted(env, ts, &label, &why, &err) == -KILN_E_VERIFY);
        CHECK(why == KILN_REFUSAL_UNKNOWN_KEY);
        CHECK(kiln_trust_store_add(ts, &a.pub, "a", &err) == 0);
        CHECK(kiln_dsse_verify_trusted(env, ts, &label, &why, &err) == 0);
        CHECK(label && strcmp(label, "a") == 0);
        kiln_trust_store_free(ts);
    }
    /* a changed payload type breaks the signature (it is inside the PAE) */
    free(env->payload_type);
    env->payload_type = strdup("application/json");
    CHECK(kiln_dsse_verify_sig(env, 0, &a.pub, &err) == 0);
    {
        struct kiln_trust_store *ts = store_with(&a.pub);
        enum kiln_refusal why = KILN_REFUSAL_NONE;
        CHECK(kiln_dsse_verify_trusted(env, ts, NULL, &why, &err) == -KILN_E_VERIFY);
        CHECK(why == KILN_REFUSAL_BAD_SIGNATURE);
        kiln_trust_store_free(ts);
    }
    kiln_dsse_free(env);

    /* non-canonical or incomplete encodings are refused */
    {
        const char *p = json;
        snprintf(buf, sizeof buf, "%s ", p); /* trailing space */
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED);
        snprintf(buf, sizeof buf, "{ %s", p + 1); /* whitespace */
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED);
        snprintf(buf, sizeof buf,
                 "{\"payloadType\":\"application/vnd.in-toto+json\","
                 "\"payload\":\"eyJ4IjoxfQ==\",%s",
                 strstr(p, "\"signatures\""));
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* order */
        snprintf(buf, sizeof buf, "{\"a\":1,%s", p + 1); /* unknown field */
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED);
        snprintf(buf, sizeof buf, "{\"payload\":\"eyJ4IjoxfR==\",%s", strchr(p, ',') + 1);
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* pad bits */
        snprintf(buf, sizeof buf, "{\"payload\":\"eyJ4IjoxfQ\",%s", strchr(p, ',') + 1);
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* no pad */
        snprintf(buf, sizeof buf, "{\"payload\":\"eyJ4IjoxfQ==\",\"payload\":\"eyJ4IjoxfQ==\",%s",
                 strchr(p, ',') + 1);
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* dup */
        snprintf(buf, sizeof buf, "{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[]}");
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* no sigs */
        snprintf(buf, sizeof buf,
                 "{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[{\"keyid\":\"k\"}]}");
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* no sig */
        snprintf(buf, sizeof buf,
                 "{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[{"
                 "\"extra\":1,\"keyid\":\"k\",\"sig\":\"\"}]}");
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == -KILN_E_MALFORMED); /* extra */
        snprintf(buf, sizeof buf,
                 "{\"payload\":\"\",\"payloadType\":\"t\",\"signatures\":[{\"keyid\":\"k\","
                 "\"sig\":\"\"}]}");
        CHECK(kiln_dsse_parse(buf, strlen(buf), &back, &err) == 0); /* minimal, canonical */
        if (back) kiln_dsse_free(back);
    }
    free(json);
}

static void test_statement(void)
{
    struct part parts[3] = {
        {KILN_REGION_STUB, stub_bytes, sizeof stub_bytes},
        {KILN_REGION_WASM, wasm_bytes, sizeof wasm_bytes},
        {KILN_REGION_POLICY, (const uint8_t *)policy_text, strlen(policy_text)}};
    struct kiln_manifest m;
    struct kiln_statement st;
    struct kiln_error err = {0};
    char *json, *json2;
    size_t len, len2;
    manifest_init(&m);
    json = statement_for(parts, 3, &m, &len);
    CHECK(strncmp(json, "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{", 56) == 0);
    CHECK(kiln_statement_parse((const uint8_t *)json, len, &st, &err) == 0);
    CHECK(st.has_manifest && st.nregions == 3);
    CHECK(st.regions[1].kind == KILN_REGION_WASM && st.regions[1].offset == sizeof stub_bytes);
    CHECK(strcmp(st.manifest.guest_abi, "wasi_snapshot_preview1") == 0);
    CHECK(st.manifest.has_policy && !st.manifest.has_aot);
    /* reproducible: encoding the parsed statement gives the same bytes */
    CHECK(kiln_statement_encode(&st, &json2, &len2, &err) == 0);
    CHECK(len == len2 && memcmp(json, json2, len) == 0);
    free(json2);
    kiln_statement_clear(&st);
    /* missing required field */
    {
        size_t at = strlen(json) - strlen(strstr(json, "\"engineVersion\"") ?: "");
        REQUIRE(at < strlen(json));
        json[at + 1] = 'E';
        CHECK(kiln_statement_parse((const uint8_t *)json, len, &st, &err) == -KILN_E_MALFORMED);
    }
    free(json);
}

/* Every single-byte change anywhere in a small unit is refused. */
static void test_tamper_every_byte(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_error err = {0};
    size_t len, i, counts[16] = {0};
    uint8_t *unit;
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    CHECK(kiln_key_generate(&k, NULL) == 0);
    unit = build_unit(keys, 1, true, NULL, 0, &len);
    ts = store_with(&k.pub);
    REQUIRE(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_NONE);
    for (size_t mi = 0; mi < sizeof masks; mi++) {
        for (i = 0; i < len; i++) {
            enum kiln_refusal why;
            unit[i] ^= masks[mi];
            why = verify_copy(unit, len, ts, &err, NULL);
            unit[i] ^= masks[mi];
            CHECK_MSG(why != KILN_REFUSAL_NONE, "byte %zu ^ 0x%02x accepted", i, masks[mi]);
            counts[why < 16 ? why : 15]++;
        }
    }
    printf("%zu-byte unit, %zu variants refused:", len, len * sizeof masks);
    for (i = 1; i < 16; i++)
        if (counts[i]) printf(" %s=%zu", kiln_refusal_name((enum kiln_refusal)i), counts[i]);
    printf("\n");
    kiln_trust_store_free(ts);
    free(unit);
}

/* A 1 MiB module: a dense sample of region bytes plus every byte of the
 * envelope and the footer, each flipped, is refused. */
static void test_tamper_large(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_unit_footer f;
    struct kiln_error err = {0};
    size_t wlen = 1u << 20, len, i, n = 0;
    uint8_t *wasm = malloc(wlen), *unit, *work;
    REQUIRE(wasm);
    memcpy(wasm, wasm_bytes, 8);
    randombytes_buf_deterministic(wasm + 8, wlen - 8,
                                  (const unsigned char *)"kiln-tamper-large-test-seed-0001");
    CHECK(kiln_key_generate(&k, NULL) == 0);
    unit = build_unit(keys, 1, true, wasm, wlen, &len);
    ts = store_with(&k.pub);
    REQUIRE(kiln_unit_footer_parse(unit, len, &f, &err) == 0);
    work = malloc(len);
    REQUIRE(work);
    for (i = 0; i < len; i += (i < f.envelope_offset ? 4093 : 1)) {
        struct kiln_unit *u = NULL;
        enum kiln_refusal why = KILN_REFUSAL_NONE;
        memcpy(work, unit, len);
        work[i] ^= 0x20;
        /* kiln_unit_verify takes ownership: hand it the work buffer, then make a new one */
        if (kiln_unit_verify(work, len, ts, &u, &why, &err) == 0) {
            CHECK_MSG(0, "byte %zu flipped was accepted", i);
            kiln_unit_free(u);
        }
        work = malloc(len);
        REQUIRE(work);
        n++;
    }
    printf("%zu-byte unit: %zu flipped variants refused\n", len, n);
    free(work);
    kiln_trust_store_free(ts);
    free(unit);
    free(wasm);
}

/* Every proper prefix (in particular each region boundary) is refused, and so
 * is the unit with bytes appended. */
static void test_truncation(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_unit *u = NULL;
    size_t len, i;
    uint8_t *unit, *longer;
    CHECK(kiln_key_generate(&k, NULL) == 0);
    unit = build_unit(keys, 1, true, NULL, 0, &len);
    ts = store_with(&k.pub);
    REQUIRE(verify_copy(unit, len, ts, NULL, &u) == KILN_REFUSAL_NONE);
    /* region boundaries explicitly (also covered by the loop below) */
    for (i = 0; i < u->footer.region_count; i++) {
        size_t end = (size_t)(u->footer.regions[i].offset + u->footer.regions[i].length);
        CHECK(verify_copy(unit, end, ts, NULL, NULL) == KILN_REFUSAL_BAD_FOOTER);
    }
    CHECK(verify_copy(unit, (size_t)u->footer.envelope_offset + (size_t)u->footer.envelope_length,
                      ts, NULL, NULL) == KILN_REFUSAL_BAD_FOOTER);
    for (i = 0; i < len; i++)
        CHECK_MSG(verify_copy(unit, i, ts, NULL, NULL) != KILN_REFUSAL_NONE, "prefix %zu", i);
    /* a byte appended after the footer, or prepended before the stub */
    longer = malloc(len + 1);
    REQUIRE(longer);
    memcpy(longer, unit, len);
    longer[len] = 0;
    CHECK(verify_copy(longer, len + 1, ts, NULL, NULL) == KILN_REFUSAL_BAD_FOOTER);
    longer[0] = 0;
    memcpy(longer + 1, unit, len);
    CHECK(verify_copy(longer, len + 1, ts, NULL, NULL) != KILN_REFUSAL_NONE);
    free(longer);
    kiln_unit_free(u);
    kiln_trust_store_free(ts);
    free(unit);
}

/* Crafted footers: outside the file, overlapping, gaps, lengths near 2^64. */
static void test_footer_insane(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_unit_footer good, f;
    struct kiln_error err = {0};
    size_t len;
    uint8_t *unit, *foot;
    const uint64_t big[] = {UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63, ((uint64_t)1 << 32),
                            UINT64_MAX - 63};
    CHECK(kiln_key_generate(&k, NULL) == 0);
    unit = build_unit(keys, 1, true, NULL, 0, &len);
    ts = store_with(&k.pub);
    foot = unit + len - KILN_UNIT_FOOTER_SIZE;
    REQUIRE(kiln_unit_footer_parse(unit, len, &good, &err) == 0);
    REQUIRE(good.region_count == 3);

#define TRY(mutation, expect)                                                                      \
    do {                                                                                           \
        f = good;                                                                                  \
        mutation;                                                                                  \
        kiln_unit_footer_encode(&f, foot);                                                         \
        CHECK_MSG(verify_copy(unit, len, ts, &err, NULL) == (expect), "%s -> %s", #mutation,       \
                  err.msg);                                                                        \
    } while (0)

    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        TRY(f.regions[1].length = big[i], KILN_REFUSAL_BAD_FOOTER);
        TRY(f.regions[1].offset = big[i], KILN_REFUSAL_BAD_FOOTER);
        TRY(f.regions[2].offset = big[i]; f.regions[2].length = UINT64_MAX - big[i] + 1,
                                          KILN_REFUSAL_BAD_FOOTER); /* offset + length wraps to 0 */
        TRY(f.envelope_offset = big[i], KILN_REFUSAL_BAD_FOOTER);
        TRY(f.envelope_length = big[i], KILN_REFUSAL_BAD_FOOTER);
        TRY(f.regions[0].length = big[i], KILN_REFUSAL_BAD_FOOTER);
    }
    TRY(f.regions[1].offset = len, KILN_REFUSAL_BAD_FOOTER); /* outside */
    TRY(f.regions[2].length = len, KILN_REFUSAL_BAD_FOOTER); /* past the end */
    TRY(f.regions[1].offset -= 1, KILN_REFUSAL_BAD_FOOTER);  /* overlap */
    TRY(f.regions[1].offset += 1; f.regions[1].length -= 1, KILN_REFUSAL_BAD_FOOTER); /* gap */
    TRY(f.regions[0].length -= 1; f.regions[1].offset -= 1;
        f.regions[1].length += 1,
        KILN_REFUSAL_DIGEST_MISMATCH); /* consistent layout, moved boundary: digests catch it */
    TRY(f.regions[2].offset = f.regions[1].offset, KILN_REFUSAL_BAD_FOOTER); /* same start */
    TRY(f.envelope_offset -= 1, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.envelope_length += 1, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.envelope_length = 0, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.region_count = 0, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.region_count = 1, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.region_count = 9, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.region_count = UINT32_MAX, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.regions[1].kind = KILN_REGION_STUB, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.regions[2].kind = 99, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.regions[2].kind = KILN_REGION_AOT, KILN_REFUSAL_DIGEST_MISMATCH);
    TRY(f.regions[0].kind = KILN_REGION_WASM;
        f.regions[1].kind = KILN_REGION_STUB, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.flags = 1, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.version = 2, KILN_REFUSAL_UNSUPPORTED);
    TRY(f.version = 0, KILN_REFUSAL_UNSUPPORTED);
    /* a region covering the footer itself / the envelope */
    TRY(f.regions[2].length += f.envelope_length, KILN_REFUSAL_BAD_FOOTER);
    TRY(f.regions[2].length += f.envelope_length + KILN_UNIT_FOOTER_SIZE, KILN_REFUSAL_BAD_FOOTER);
#undef TRY
    kiln_unit_footer_encode(&good, foot);
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_NONE);
    /* raw bytes the encoder never writes: footer size field, reserved fields */
    foot[12] ^= 1;
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_BAD_FOOTER);
    foot[12] ^= 1;
    foot[40 + 4] = 1; /* region 0 reserved */
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_BAD_FOOTER);
    foot[40 + 4] = 0;
    foot[40 + 3 * 24] = 4; /* unused region slot 3 not zero */
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_BAD_FOOTER);
    foot[40 + 3 * 24] = 0;
    foot[240] = 1; /* trailing reserved */
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_BAD_FOOTER);
    foot[240] = 0;
    /* smaller than a footer */
    CHECK(verify_copy(unit, KILN_UNIT_FOOTER_SIZE - 1, ts, &err, NULL) == KILN_REFUSAL_BAD_FOOTER);
    CHECK(verify_copy(unit + len - KILN_UNIT_FOOTER_SIZE, KILN_UNIT_FOOTER_SIZE, ts, &err, NULL) ==
          KILN_REFUSAL_BAD_FOOTER);
    kiln_trust_store_free(ts);
    free(unit);
}

/* A valid envelope moved onto another module is refused. */
static void test_envelope_reuse(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_unit_footer fa;
    struct kiln_error err = {0};
    uint8_t other[sizeof wasm_bytes], *a, *spliced;
    size_t alen, slen;
    CHECK(kiln_key_generate(&k, NULL) == 0);
    ts = store_with(&k.pub);
    a = build_unit(keys, 1, false, NULL, 0, &alen);
    REQUIRE(kiln_unit_footer_parse(a, alen, &fa, &err) == 0);
    memcpy(other, wasm_bytes, sizeof other);
    other[sizeof other - 1] = 'X'; /* same length, other content */
    {
        struct part parts[2] = {{KILN_REGION_STUB, stub_bytes, sizeof stub_bytes},
                                {KILN_REGION_WASM, other, sizeof other}};
        spliced = assemble(parts, 2, (const char *)a + fa.envelope_offset,
                           (size_t)fa.envelope_length, &slen);
    }
    CHECK(verify_copy(spliced, slen, ts, &err, NULL) == KILN_REFUSAL_DIGEST_MISMATCH);
    CHECK(strstr(err.msg, "module.wasm") != NULL);
    free(spliced);
    /* and onto a module of another length: layout differs too */
    {
        uint8_t longer[sizeof wasm_bytes + 1];
        struct part parts[2] = {{KILN_REGION_STUB, stub_bytes, sizeof stub_bytes},
                                {KILN_REGION_WASM, longer, sizeof longer}};
        memcpy(longer, wasm_bytes, sizeof wasm_bytes);
        longer[sizeof wasm_bytes] = 0;
        spliced = assemble(parts, 2, (const char *)a + fa.envelope_offset,
                           (size_t)fa.envelope_length, &slen);
        CHECK(verify_copy(spliced, slen, ts, &err, NULL) == KILN_REFUSAL_DIGEST_MISMATCH);
        free(spliced);
    }
    /* dropping the policy region while keeping the envelope of a unit with one */
    {
        uint8_t *b;
        size_t blen;
        struct kiln_unit_footer fb;
        struct part parts[2] = {{KILN_REGION_STUB, stub_bytes, sizeof stub_bytes},
                                {KILN_REGION_WASM, wasm_bytes, sizeof wasm_bytes}};
        b = build_unit(keys, 1, true, NULL, 0, &blen);
        REQUIRE(kiln_unit_footer_parse(b, blen, &fb, &err) == 0);
        spliced = assemble(parts, 2, (const char *)b + fb.envelope_offset,
                           (size_t)fb.envelope_length, &slen);
        CHECK(verify_copy(spliced, slen, ts, &err, NULL) == KILN_REFUSAL_DIGEST_MISMATCH);
        free(spliced);
        free(b);
    }
    kiln_trust_store_free(ts);
    free(a);
}

static void test_keys_trust(void)
{
    struct kiln_seckey a, b, c;
    const struct kiln_seckey *ka[1] = {&a}, *kab[2] = {&a, &b};
    struct kiln_trust_store *ts;
    struct kiln_unit *u = NULL;
    struct kiln_error err = {0};
    uint8_t *unit;
    size_t len;
    CHECK(kiln_key_generate(&a, NULL) == 0 && kiln_key_generate(&b, NULL) == 0 &&
          kiln_key_generate(&c, NULL) == 0);

    /* wrong key */
    unit = build_unit(ka, 1, false, NULL, 0, &len);
    ts = store_with(&b.pub);
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_UNKNOWN_KEY);
    kiln_trust_store_free(ts);
    ts = store_with(NULL);
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_UNKNOWN_KEY);
    kiln_trust_store_free(ts);
    /* revoked key (even though trusted) */
    ts = store_with(&a.pub);
    CHECK(kiln_trust_store_revoke(ts, a.pub.keyid, &err) == 0);
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_REVOKED_KEY);
    CHECK(strstr(err.msg, a.pub.keyid) != NULL);
    kiln_trust_store_free(ts);
    free(unit);

    /* signed twice (a, b): either key alone suffices; revoking one leaves the other */
    unit = build_unit(kab, 2, true, NULL, 0, &len);
    ts = store_with(&b.pub);
    CHECK(verify_copy(unit, len, ts, &err, &u) == KILN_REFUSAL_NONE);
    CHECK(u && strcmp(u->signer_keyid, b.pub.keyid) == 0 && u->nsigs == 2);
    kiln_unit_free(u);
    u = NULL;
    CHECK(kiln_trust_store_add(ts, &a.pub, "a", &err) == 0);
    CHECK(kiln_trust_store_revoke(ts, b.pub.keyid, &err) == 0);
    CHECK(verify_copy(unit, len, ts, &err, &u) == KILN_REFUSAL_NONE);
    CHECK(u && strcmp(u->signer_keyid, a.pub.keyid) == 0);
    kiln_unit_free(u);
    u = NULL;
    CHECK(kiln_trust_store_revoke(ts, a.pub.keyid, &err) == 0);
    CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_REVOKED_KEY);
    kiln_trust_store_free(ts);
    free(unit);

    /* signed twice, one signature bad: [forged "by c" (trusted), good by a] -> accepted when a
     * is trusted; refused with "bad signature" when only c is trusted */
    {
        struct part parts[2] = {{KILN_REGION_STUB, stub_bytes, sizeof stub_bytes},
                                {KILN_REGION_WASM, wasm_bytes, sizeof wasm_bytes}};
        struct kiln_manifest m;
        struct kiln_dsse *env;
        char *payload, *json;
        size_t plen, jlen;
        uint8_t junk[64];
        manifest_init(&m);
        payload = statement_for(parts, 2, &m, &plen);
        REQUIRE(kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, (uint8_t *)payload, plen, &env, &err) == 0);
        memset(junk, 0x5a, sizeof junk);
        REQUIRE(kiln_dsse_add_sig(env, c.pub.keyid, junk, sizeof junk, &err) == 0);
        REQUIRE(kiln_dsse_sign(env, &a, &err) == 0);
        /* a real signature by b, but labelled with c's key id */
        REQUIRE(kiln_dsse_sign(env, &b, &err) == 0);
        free(env->sigs[2].keyid);
        env->sigs[2].keyid = strdup(c.pub.keyid);
        REQUIRE(kiln_dsse_encode(env, &json, &jlen, &err) == 0);
        unit = assemble(parts, 2, json, jlen, &len);
        ts = store_with(&c.pub);
        CHECK(kiln_trust_store_add(ts, &a.pub, "a", &err) == 0);
        CHECK(verify_copy(unit, len, ts, &err, &u) == KILN_REFUSAL_NONE);
        CHECK(u && strcmp(u->signer_keyid, a.pub.keyid) == 0 && u->nsigs == 3);
        kiln_unit_free(u);
        u = NULL;
        kiln_trust_store_free(ts);
        ts = store_with(&c.pub);
        CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_BAD_SIGNATURE);
        kiln_trust_store_free(ts);
        ts = store_with(&b.pub); /* b signed, but its keyid was replaced: not found */
        CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_UNKNOWN_KEY);
        kiln_trust_store_free(ts);
        free(unit);
        free(json);
        free(payload);
        kiln_dsse_free(env);
    }
}

/* Signed statements this build does not support are refused as such. */
static void test_versions(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_error err = {0};
    struct part parts[2] = {{KILN_REGION_STUB, stub_bytes, sizeof stub_bytes},
                            {KILN_REGION_WASM, wasm_bytes, sizeof wasm_bytes}};
    struct kiln_manifest m;
    char *payload, *env, *p;
    size_t plen, elen, len;
    uint8_t *unit;
    CHECK(kiln_key_generate(&k, NULL) == 0);
    ts = store_with(&k.pub);

#define CASE(setup, expect)                                                                        \
    do {                                                                                           \
        manifest_init(&m);                                                                         \
        payload = statement_for(parts, 2, &m, &plen);                                              \
        setup;                                                                                     \
        env = envelope_for(payload, plen, keys, 1, &elen);                                         \
        unit = assemble(parts, 2, env, elen, &len);                                                \
        CHECK_MSG(verify_copy(unit, len, ts, &err, NULL) == (expect), "%s -> %s", #setup,          \
                  err.msg);                                                                        \
        free(unit);                                                                                \
        free(env);                                                                                 \
        free(payload);                                                                             \
    } while (0)

    CASE((void)0, KILN_REFUSAL_NONE);
    CASE(m.format_version = 2; free(payload);
         payload = statement_for(parts, 2, &m, &plen), KILN_REFUSAL_UNSUPPORTED);
    CASE(m.engine_version = KILN_ENGINE_VERSION + 1; free(payload);
         payload = statement_for(parts, 2, &m, &plen), KILN_REFUSAL_UNSUPPORTED);
    CASE(m.guest_abi = "wasi_preview2"; free(payload);
         payload = statement_for(parts, 2, &m, &plen), KILN_REFUSAL_UNSUPPORTED);
    CASE(p = strstr(payload, "kiln.dev/unit/v1"); p[15] = '2', KILN_REFUSAL_UNSUPPORTED);
    CASE(p = strstr(payload, "Statement/v1"); p[11] = '2', KILN_REFUSAL_UNSUPPORTED);
    CASE(p = strstr(payload, "\"subject\""); p[1] = 'S', KILN_REFUSAL_BAD_MANIFEST);
    CASE(free(payload); payload = strdup("not json"); plen = 8, KILN_REFUSAL_BAD_MANIFEST);
#undef CASE
    /* an envelope of another payload type, validly signed */
    {
        struct kiln_dsse *e;
        manifest_init(&m);
        payload = statement_for(parts, 2, &m, &plen);
        REQUIRE(kiln_dsse_new("application/json", (uint8_t *)payload, plen, &e, &err) == 0);
        REQUIRE(kiln_dsse_sign(e, &k, &err) == 0);
        REQUIRE(kiln_dsse_encode(e, &env, &elen, &err) == 0);
        unit = assemble(parts, 2, env, elen, &len);
        CHECK(verify_copy(unit, len, ts, &err, NULL) == KILN_REFUSAL_BAD_ENVELOPE);
        free(unit);
        free(env);
        free(payload);
        kiln_dsse_free(e);
    }
    kiln_trust_store_free(ts);
}

static void write_text(const char *path, const char *text)
{
    REQUIRE(kiln_trust_write_file(path, text, strlen(text), 0644, NULL) == 0);
}

static void test_trust_dir(void)
{
    char dir[] = "/tmp/kiln-trust-test.XXXXXX", path[128], *pem;
    struct kiln_seckey a, b;
    struct kiln_trust_store *ts;
    struct kiln_error err = {0};
    const char *label = NULL;
    REQUIRE(mkdtemp(dir));
    CHECK(kiln_key_generate(&a, NULL) == 0 && kiln_key_generate(&b, NULL) == 0);
    REQUIRE(kiln_key_public_pem(&a.pub, &pem, NULL) == 0);
    snprintf(path, sizeof path, "%s/a.pem", dir);
    write_text(path, pem);
    free(pem);
    REQUIRE(kiln_key_public_pem(&b.pub, &pem, NULL) == 0);
    snprintf(path, sizeof path, "%s/b.pem", dir);
    write_text(path, pem);
    free(pem);
    snprintf(path, sizeof path, "%s/README", dir); /* ignored: not *.pem */
    write_text(path, "not a key\n");
    snprintf(path, sizeof path, "%s/revoked", dir);
    {
        char text[256];
        snprintf(text, sizeof text, "# revoked keys\n\n  %s  \n", b.pub.keyid);
        write_text(path, text);
    }
    REQUIRE(kiln_trust_store_new(&ts, NULL) == 0);
    CHECK(kiln_trust_store_load_dir(ts, dir, &err) == 0);
    CHECK(kiln_trust_store_count(ts) == 2);
    CHECK(kiln_trust_store_lookup(ts, a.pub.keyid, NULL, &label) == KILN_TRUST_TRUSTED);
    CHECK(label && strcmp(label, "a.pem") == 0);
    CHECK(kiln_trust_store_lookup(ts, b.pub.keyid, NULL, NULL) == KILN_TRUST_REVOKED);
    CHECK(kiln_trust_store_lookup(ts, "00", NULL, NULL) == KILN_TRUST_UNKNOWN);
    kiln_trust_store_free(ts);
    /* fail closed: a malformed revocation line */
    write_text(path, "ABCDEF\n");
    REQUIRE(kiln_trust_store_new(&ts, NULL) == 0);
    CHECK(kiln_trust_store_load_dir(ts, dir, &err) == -KILN_E_INVALID);
    CHECK(strstr(err.msg, "line 1") != NULL);
    kiln_trust_store_free(ts);
    unlink(path);
    /* fail closed: a private key or junk named *.pem */
    REQUIRE(kiln_key_private_pem(&a, &pem, NULL) == 0);
    snprintf(path, sizeof path, "%s/oops.pem", dir);
    write_text(path, pem);
    free(pem);
    REQUIRE(kiln_trust_store_new(&ts, NULL) == 0);
    CHECK(kiln_trust_store_load_dir(ts, dir, &err) == -KILN_E_INVALID);
    kiln_trust_store_free(ts);
    unlink(path);
    REQUIRE(kiln_trust_store_new(&ts, NULL) == 0);
    CHECK(kiln_trust_store_load_dir(ts, "/nonexistent/kiln", &err) == -KILN_E_IO);
    kiln_trust_store_free(ts);
    snprintf(path, sizeof path, "%s/a.pem", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/b.pem", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/README", dir);
    unlink(path);
    rmdir(dir);
}

/* The system store: a root-owned config file may name the directory; both
 * must be root-owned and not writable by group or others. (As non-root every
 * case is refused, which is checked too.) */
static void test_system_store(void)
{
    char dir[] = "/tmp/kiln-trust-sys.XXXXXX", conf[128], keys[128], other[128], text[256];
    char path[192], *pem;
    struct kiln_seckey a;
    struct kiln_trust_store *ts = NULL;
    struct kiln_error err = {0};
    bool root = geteuid() == 0;
    REQUIRE(mkdtemp(dir));
    snprintf(conf, sizeof conf, "%s/trust.conf", dir);
    snprintf(keys, sizeof keys, "%s/keys", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    REQUIRE(mkdir(keys, 0755) == 0 && mkdir(other, 0755) == 0);
    CHECK(kiln_key_generate(&a, NULL) == 0);
    REQUIRE(kiln_key_public_pem(&a.pub, &pem, NULL) == 0);
    snprintf(path, sizeof path, "%s/a.pem", other);
    write_text(path, pem);
    free(pem);

    /* no config file: the default directory (empty store) */
    CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) == (root ? 0 : -KILN_E_DENIED));
    CHECK(!root || kiln_trust_store_count(ts) == 0);
    kiln_trust_store_free(ts);
    ts = NULL;
    /* a config naming the other directory */
    snprintf(text, sizeof text, "# kiln\ntrust_dir = %s\n", other);
    write_text(conf, text);
    CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) == (root ? 0 : -KILN_E_DENIED));
    CHECK(!root ||
          (ts && kiln_trust_store_lookup(ts, a.pub.keyid, NULL, NULL) == KILN_TRUST_TRUSTED));
    kiln_trust_store_free(ts);
    ts = NULL;
    /* a group-writable config or directory is refused */
    chmod(conf, 0664);
    CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) == -KILN_E_DENIED);
    chmod(conf, 0644);
    chmod(other, 0775);
    CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) == -KILN_E_DENIED);
    chmod(other, 0755);
    /* a config not owned by root is refused */
    if (root) {
        CHECK(chown(conf, 1, 1) == 0);
        CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) == -KILN_E_DENIED);
        CHECK(chown(conf, 0, 0) == 0);
    }
    /* a relative or missing trust_dir */
    write_text(conf, "trust_dir = relative/path\n");
    CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) ==
          (root ? -KILN_E_INVALID : -KILN_E_DENIED));
    write_text(conf, "nothing here\n");
    CHECK(kiln__trust_store_open_system(conf, keys, &ts, &err) ==
          (root ? -KILN_E_MALFORMED : -KILN_E_DENIED));
    unlink(conf);
    unlink(path);
    rmdir(keys);
    rmdir(other);
    rmdir(dir);
}

/* verify_fd reads the file once from offset 0, whatever the fd position. */
static void test_verify_fd(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_trust_store *ts;
    struct kiln_unit *u = NULL;
    struct kiln_error err = {0};
    enum kiln_refusal why;
    char path[] = "/tmp/kiln-unit-test.XXXXXX";
    uint8_t *unit;
    size_t len;
    int fd;
    CHECK(kiln_key_generate(&k, NULL) == 0);
    unit = build_unit(keys, 1, true, NULL, 0, &len);
    ts = store_with(&k.pub);
    fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, unit, len) == (ssize_t)len);
    CHECK(kiln_unit_verify_fd(fd, ts, &u, &why, &err) == 0);
    CHECK(u && u->wasm_len == sizeof wasm_bytes && memcmp(u->wasm, wasm_bytes, u->wasm_len) == 0);
    CHECK(u && u->policy_len == strlen(policy_text) && u->stub_len == sizeof stub_bytes);
    CHECK(u && u->wasm >= u->data && u->wasm + u->wasm_len <= u->data + u->size);
    CHECK(u && !u->aot);
    kiln_unit_free(u);
    u = NULL;
    /* corrupt the file: refused */
    REQUIRE(pwrite(fd, "\0", 1, (off_t)sizeof stub_bytes + 3) == 1);
    CHECK(kiln_unit_verify_fd(fd, ts, &u, &why, &err) < 0 && why == KILN_REFUSAL_DIGEST_MISMATCH);
    CHECK(kiln_unit_verify_file("/nonexistent/unit", ts, &u, &why, &err) < 0 &&
          why == KILN_REFUSAL_IO);
    close(fd);
    unlink(path);
    kiln_trust_store_free(ts);
    free(unit);
}

/* kiln_unit_verify_attested / _fd_attested (kiln run: a unit bound to the
 * whole-file digest in a verified image attestation): every byte still
 * matters when the digest is checked here; the unit's own signature, layout
 * and versions are checked in every mode; _KNOWN skips only hashing. */
static void test_verify_attested(void)
{
    struct kiln_seckey k, other;
    const struct kiln_seckey *keys[1] = {&k}, *okeys[1] = {&other};
    struct kiln_trust_store *ts;
    struct kiln_unit *u = NULL;
    struct kiln_error err = {0};
    enum kiln_refusal why;
    char path[] = "/tmp/kiln-unit-test.XXXXXX", hex[65], zero[65];
    uint8_t *unit, *ounit;
    size_t len, olen, i;
    int fd;
    CHECK(kiln_key_generate(&k, NULL) == 0);
    CHECK(kiln_key_generate(&other, NULL) == 0);
    unit = build_unit(keys, 1, true, NULL, 0, &len);
    ounit = build_unit(okeys, 1, true, NULL, 0, &olen);
    ts = store_with(&k.pub);
    kiln_sha256_hex(unit, len, hex);
    memset(zero, '0', 64);
    zero[64] = 0;
    /* good: hashed once here */
    uint8_t *copy = malloc(len);
    REQUIRE(copy);
    memcpy(copy, unit, len);
    CHECK(kiln_unit_verify_attested(copy, len, ts, hex, 0, &u, &why, &err) == 0);
    CHECK(u && u->wasm_len == sizeof wasm_bytes && memcmp(u->wasm, wasm_bytes, u->wasm_len) == 0);
    CHECK(u && u->stub_len == sizeof stub_bytes && u->policy_len == strlen(policy_text));
    kiln_unit_free(u);
    u = NULL;
    /* every flipped byte: refused (whole-file digest, or earlier checks) */
    for (i = 0; i < len; i++) {
        copy = malloc(len);
        REQUIRE(copy);
        memcpy(copy, unit, len);
        copy[i] ^= 0x01;
        CHECK_MSG(kiln_unit_verify_attested(copy, len, ts, hex, 0, &u, &why, &err) < 0,
                  "byte %zu flipped: accepted", i);
    }
    /* another digest: refused */
    copy = malloc(len);
    REQUIRE(copy);
    memcpy(copy, unit, len);
    CHECK(kiln_unit_verify_attested(copy, len, ts, zero, 0, &u, &why, &err) < 0 &&
          why == KILN_REFUSAL_DIGEST_MISMATCH);
    /* _KNOWN: no hashing, but the unit's own signature still counts */
    copy = malloc(len);
    REQUIRE(copy);
    memcpy(copy, unit, len);
    CHECK(kiln_unit_verify_attested(copy, len, ts, zero, KILN_UNIT_ATTESTED_KNOWN, &u, &why,
                                    &err) == 0);
    kiln_unit_free(u);
    u = NULL;
    copy = malloc(olen);
    REQUIRE(copy);
    memcpy(copy, ounit, olen);
    CHECK(kiln_unit_verify_attested(copy, olen, ts, zero, KILN_UNIT_ATTESTED_KNOWN, &u, &why,
                                    &err) < 0 &&
          why == KILN_REFUSAL_UNKNOWN_KEY);
    /* bad flags: NO_STUB without KNOWN, unknown bits, no digest */
    copy = malloc(len);
    REQUIRE(copy);
    CHECK(kiln_unit_verify_attested(copy, len, ts, hex, KILN_UNIT_ATTESTED_NO_STUB, &u, &why,
                                    &err) == -KILN_E_ARG);
    copy = malloc(len);
    REQUIRE(copy);
    CHECK(kiln_unit_verify_attested(copy, len, ts, hex, 0x80, &u, &why, &err) == -KILN_E_ARG);
    copy = malloc(len);
    REQUIRE(copy);
    CHECK(kiln_unit_verify_attested(copy, len, ts, NULL, 0, &u, &why, &err) == -KILN_E_ARG);
    /* from a file, without the stub */
    fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, unit, len) == (ssize_t)len);
    CHECK(kiln_unit_verify_fd_attested(fd, ts, hex, 0, &u, &why, &err) == 0);
    CHECK(u && u->stub && u->stub_len == sizeof stub_bytes);
    kiln_unit_free(u);
    u = NULL;
    CHECK(kiln_unit_verify_fd_attested(fd, ts, hex,
                                       KILN_UNIT_ATTESTED_KNOWN | KILN_UNIT_ATTESTED_NO_STUB, &u,
                                       &why, &err) == 0);
    CHECK(u && !u->stub && u->wasm_len == sizeof wasm_bytes &&
          memcmp(u->wasm, wasm_bytes, u->wasm_len) == 0);
    kiln_unit_free(u);
    u = NULL;
    /* a changed stub byte is caught when hashing, whatever the mode of the last run */
    REQUIRE(pwrite(fd, "\xff", 1, 3) == 1);
    CHECK(kiln_unit_verify_fd_attested(fd, ts, hex, 0, &u, &why, &err) < 0 &&
          why == KILN_REFUSAL_DIGEST_MISMATCH);
    /* a changed envelope byte is caught even with _KNOWN (signature / parse) */
    REQUIRE(pwrite(fd, unit + 3, 1, 3) == 1);
    {
        struct kiln_unit_footer f;
        REQUIRE(kiln_unit_footer_parse(unit, len, &f, &err) == 0);
        uint8_t b = unit[f.envelope_offset + 20] ^ 0x01;
        REQUIRE(pwrite(fd, &b, 1, (off_t)f.envelope_offset + 20) == 1);
        CHECK(kiln_unit_verify_fd_attested(fd, ts, hex,
                                           KILN_UNIT_ATTESTED_KNOWN | KILN_UNIT_ATTESTED_NO_STUB,
                                           &u, &why, &err) < 0);
    }
    /* a truncated file: refused */
    REQUIRE(ftruncate(fd, 100) == 0);
    CHECK(kiln_unit_verify_fd_attested(fd, ts, hex,
                                       KILN_UNIT_ATTESTED_KNOWN | KILN_UNIT_ATTESTED_NO_STUB, &u,
                                       &why, &err) < 0);
    close(fd);
    unlink(path);
    kiln_trust_store_free(ts);
    free(unit);
    free(ounit);
}

static void test_inspect(void)
{
    struct kiln_seckey k;
    const struct kiln_seckey *keys[1] = {&k};
    struct kiln_unit_info *info = NULL;
    struct kiln_error err = {0};
    uint8_t *unit;
    size_t len;
    CHECK(kiln_key_generate(&k, NULL) == 0);
    unit = build_unit(keys, 1, true, NULL, 0, &len);
    CHECK(kiln_unit_inspect(unit, len, &info, &err) == 0);
    CHECK(info && info->has_statement && info->envelope && info->envelope->nsigs == 1);
    CHECK(info && strcmp(info->sha256[1], info->statement.sha256[1]) == 0);
    kiln_unit_info_free(info);
    info = NULL;
    {
        struct kiln_unit_footer f;
        REQUIRE(kiln_unit_footer_parse(unit, len, &f, &err) == 0);
        unit[f.envelope_offset] = 'x'; /* envelope broken: still inspectable, with an error */
    }
    CHECK(kiln_unit_inspect(unit, len, &info, &err) == 0);
    CHECK(info && !info->has_statement && info->envelope_error[0]);
    kiln_unit_info_free(info);
    CHECK(kiln_unit_inspect(unit, 100, &info, &err) < 0);
    free(unit);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"pem_der", test_pem_der},
    {"key_files", test_key_files},
    {"sha256", test_sha256},
    {"pae", test_pae},
    {"envelope", test_envelope},
    {"statement", test_statement},
    {"tamper_every_byte", test_tamper_every_byte},
    {"tamper_large", test_tamper_large},
    {"truncation", test_truncation},
    {"footer_insane", test_footer_insane},
    {"envelope_reuse", test_envelope_reuse},
    {"keys_trust", test_keys_trust},
    {"versions", test_versions},
    {"trust_dir", test_trust_dir},
    {"system_store", test_system_store},
    {"verify_fd", test_verify_fd},
    {"verify_attested", test_verify_attested},
    {"inspect", test_inspect},
};

/* Writes seed units for fuzz_unit into dir, signed with the fixed fuzz key
 * (seed bytes 0x4b, as in fuzz_unit.c). */
static int write_seeds(const char *dir)
{
    struct kiln_seckey k, other;
    const struct kiln_seckey *one[1] = {&k}, *two[2] = {&other, &k};
    uint8_t seed[32], *unit;
    size_t len;
    char path[4096];
    memset(seed, 0x4b, sizeof seed);
    REQUIRE(kiln_key_from_seed(&k, seed, NULL) == 0);
    memset(seed, 0x4c, sizeof seed);
    REQUIRE(kiln_key_from_seed(&other, seed, NULL) == 0);
    unit = build_unit(one, 1, false, NULL, 0, &len);
    snprintf(path, sizeof path, "%s/unit-plain", dir);
    REQUIRE(kiln_trust_write_file(path, unit, len, 0644, NULL) == 0);
    free(unit);
    unit = build_unit(two, 2, true, NULL, 0, &len);
    snprintf(path, sizeof path, "%s/unit-policy-2sigs", dir);
    REQUIRE(kiln_trust_write_file(path, unit, len, 0644, NULL) == 0);
    free(unit);
    return 0;
}

int main(int argc, char **argv)
{
    size_t i;
    init_fixtures();
    if (argc == 3 && strcmp(argv[1], "--seed") == 0) return write_seeds(argv[2]);
    if (argc != 2) {
        for (i = 0; i < sizeof tests / sizeof tests[0]; i++)
            printf("%s\n", tests[i].name);
        return argc == 1 ? 0 : 2;
    }
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (strcmp(argv[1], tests[i].name) == 0 || strcmp(argv[1], "all") == 0) {
            tests[i].fn();
            if (strcmp(argv[1], "all") != 0) break;
        }
    if (i == sizeof tests / sizeof tests[0] && strcmp(argv[1], "all") != 0) {
        fprintf(stderr, "unknown test %s\n", argv[1]);
        return 2;
    }
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
