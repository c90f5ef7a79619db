/*
 * keys.c — Ed25519 keys: generation (libsodium), key ids, and the DER/PEM
 * encodings OpenSSL reads (SPKI public keys, PKCS#8 v1 private keys).
 *
 * Ed25519 DER has a fixed shape, so encoding is prefix || 32 bytes and
 * parsing is an exact-length, exact-prefix comparison (no general ASN.1
 * parser, nothing to get wrong):
 *   SPKI   = 30 2a 30 05 06 03 2b 65 70 03 21 00 || public key   (44 bytes)
 *   PKCS#8 = 30 2e 02 01 00 30 05 06 03 2b 65 70 04 22 04 20 || seed (48 bytes)
 * Key id = lowercase hex SHA-256 of the SPKI DER.
 *
 * Secrets: seeds and PKCS#8 buffers on the stack are wiped with
 * sodium_memzero before return.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

static const uint8_t spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                        0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const uint8_t pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                         0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

#define PEM_PUBLIC "PUBLIC KEY"
#define PEM_PRIVATE "PRIVATE KEY"
#define KEY_FILE_MAX 16384

void kiln_key_spki_der(const uint8_t pk[32], uint8_t out[KILN_SPKI_DER_LEN])
{
    memcpy(out, spki_prefix, sizeof spki_prefix);
    memcpy(out + sizeof spki_prefix, pk, 32);
}

void kiln_key_from_raw(struct kiln_pubkey *out, const uint8_t pk[32])
{
    uint8_t der[KILN_SPKI_DER_LEN];
    memcpy(out->pk, pk, 32);
    kiln_key_spki_der(pk, der);
    kiln_sha256_hex(der, sizeof der, out->keyid);
}

int kiln_key_spki_parse(const uint8_t *der, size_t len, uint8_t pk[32], struct kiln_error *err)
{
    size_t i;
    if (len != KILN_SPKI_DER_LEN)
        return kiln_error_set(err, KILN_E_MALFORMED, "SPKI DER is %zu bytes, an Ed25519 key has %d",
                              len, KILN_SPKI_DER_LEN);
    for (i = 0; i < sizeof spki_prefix; i++)
        if (der[i] != spki_prefix[i])
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "SPKI DER byte %zu is 0x%02x, expected 0x%02x (not an "
                                  "Ed25519 public key)",
                                  i, der[i], spki_prefix[i]);
    memcpy(pk, der + sizeof spki_prefix, 32);
    return 0;
}

int kiln_key_from_seed(struct kiln_seckey *out, const uint8_t seed[32], struct kiln_error *err)
{
    uint8_t pk[32];
    int rc = kiln__sodium_init(err);
    if (rc < 0) return rc;
    crypto_sign_seed_keypair(pk, out->sk, seed);
    kiln_key_from_raw(&out->pub, pk);
    return 0;
}

int kiln_key_generate(struct kiln_seckey *out, struct kiln_error *err)
{
    uint8_t pk[32];
    int rc = kiln__sodium_init(err);
    if (rc < 0) return rc;
    crypto_sign_keypair(pk, out->sk);
    kiln_key_from_raw(&out->pub, pk);
    return 0;
}

void kiln_key_wipe(struct kiln_seckey *key)
{
    if (key) sodium_memzero(key, sizeof *key);
}

void kiln_key_pkcs8_der(const struct kiln_seckey *key, uint8_t out[KILN_PKCS8_DER_LEN])
{
    memcpy(out, pkcs8_prefix, sizeof pkcs8_prefix);
    /* libsodium's secret key is seed || public key */
    memcpy(out + sizeof pkcs8_prefix, key->sk, 32);
}

int kiln_key_pkcs8_parse(const uint8_t *der, size_t len, struct kiln_seckey *out,
                         struct kiln_error *err)
{
    size_t i;
    if (len != KILN_PKCS8_DER_LEN)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "PKCS#8 DER is %zu bytes, an Ed25519 v1 key has %d", len,
                              KILN_PKCS8_DER_LEN);
    for (i = 0; i < sizeof pkcs8_prefix; i++)
        if (der[i] != pkcs8_prefix[i])
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "PKCS#8 DER byte %zu is 0x%02x, expected 0x%02x (not an "
                                  "Ed25519 v1 private key)",
                                  i, der[i], pkcs8_prefix[i]);
    return kiln_key_from_seed(out, der + sizeof pkcs8_prefix, err);
}

/* PEM armor around der: 64-column base64 lines. */
static int pem_encode(const char *label, const uint8_t *der, size_t der_len, char **pem,
                      struct kiln_error *err)
{
    char *b64 = kiln__b64_encode(der, der_len), *s = NULL, *p;
    size_t n, i, blen;
    if (!b64) goto nomem;
    blen = strlen(b64);
    n = 2 * (strlen(label) + 32) + blen + blen / 64 + 2;
    s = malloc(n);
    if (!s) goto nomem;
    p = s + sprintf(s, "-----BEGIN %s-----\n", label);
    for (i = 0; i < blen; i += 64) {
        size_t k = blen - i < 64 ? blen - i : 64;
        memcpy(p, b64 + i, k);
        p += k;
        *p++ = '\n';
    }
    sprintf(p, "-----END %s-----\n", label);
    sodium_memzero(b64, blen);
    free(b64);
    *pem = s;
    return 0;
nomem:
    if (b64) sodium_memzero(b64, strlen(b64));
    free(b64);
    return kiln_error_set(err, KILN_E_NOMEM, "PEM %s: out of memory", label);
}

int kiln_key_public_pem(const struct kiln_pubkey *key, char **pem, struct kiln_error *err)
{
    uint8_t der[KILN_SPKI_DER_LEN];
    kiln_key_spki_der(key->pk, der);
    return pem_encode(PEM_PUBLIC, der, sizeof der, pem, err);
}

int kiln_key_private_pem(const struct kiln_seckey *key, char **pem, struct kiln_error *err)
{
    uint8_t der[KILN_PKCS8_DER_LEN];
    int rc;
    kiln_key_pkcs8_der(key, der);
    rc = pem_encode(PEM_PRIVATE, der, sizeof der, pem, err);
    sodium_memzero(der, sizeof der);
    return rc;
}

static const char *find_mem(const char *h, size_t hlen, const char *needle)
{
    size_t n = strlen(needle);
    const char *p = h, *end = h + hlen;
    while ((size_t)(end - p) >= n) {
        const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!q) return NULL;
        if (memcmp(q, needle, n) == 0) return q;
        p = q + 1;
    }
    return NULL;
}

/* Finds the one PEM block in text and decodes its body. Returns 0 and a
 * malloc'd DER; KILN_E_INVALID if the block has the other key type. */
static int pem_decode(const char *text, size_t len, const char *label, uint8_t **der,
                      size_t *der_len, struct kiln_error *err)
{
    char begin[64], end[64];
    const char *b, *e, *body;
    const char *other = strcmp(label, PEM_PUBLIC) == 0 ? "-----BEGIN " PEM_PRIVATE "-----"
                                                       : "-----BEGIN " PEM_PUBLIC "-----";
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    b = find_mem(text, len, begin);
    if (!b) {
        if (find_mem(text, len, other))
            return kiln_error_set(err, KILN_E_INVALID, "expected a PEM %s, found a %s", label,
                                  other + 11);
        return kiln_error_set(err, KILN_E_MALFORMED, "no '%s' line", begin);
    }
    body = b + strlen(begin);
    e = find_mem(body, len - (size_t)(body - text), end);
    if (!e) return kiln_error_set(err, KILN_E_MALFORMED, "no '%s' line", end);
    if (find_mem(e, len - (size_t)(e - text), "-----BEGIN "))
        return kiln_error_set(err, KILN_E_MALFORMED, "more than one PEM block");
    if (kiln__b64_decode(body, (size_t)(e - body), "\r\n", der, der_len) != 0)
        return kiln_error_set(err, KILN_E_MALFORMED, "PEM %s: invalid base64", label);
    return 0;
}

int kiln_key_parse_public_pem(const char *text, size_t len, struct kiln_pubkey *out,
                              struct kiln_error *err)
{
    uint8_t *der = NULL, pk[32];
    size_t n;
    int rc = pem_decode(text, len, PEM_PUBLIC, &der, &n, err);
    if (rc < 0) return rc;
    rc = kiln_key_spki_parse(der, n, pk, err);
    free(der);
    if (rc < 0) return rc;
    kiln_key_from_raw(out, pk);
    return 0;
}

int kiln_key_parse_private_pem(const char *text, size_t len, struct kiln_seckey *out,
                               struct kiln_error *err)
{
    uint8_t *der = NULL;
    size_t n;
    int rc = pem_decode(text, len, PEM_PRIVATE, &der, &n, err);
    if (rc < 0) return rc;
    rc = kiln_key_pkcs8_parse(der, n, out, err);
    sodium_memzero(der, n);
    free(der);
    return rc;
}

int kiln_key_load_public(const char *path, struct kiln_pubkey *out, struct kiln_error *err)
{
    uint8_t *buf;
    size_t n;
    int rc = kiln_trust_read_file(path, KEY_FILE_MAX, &buf, &n, err);
    if (rc < 0) return rc;
    rc = kiln_key_parse_public_pem((const char *)buf, n, out, err);
    free(buf);
    if (rc < 0) kiln_error_prefix(err, "%s", path);
    return rc;
}

int kiln_key_load_private(const char *path, struct kiln_seckey *out, struct kiln_error *err)
{
    uint8_t *buf;
    size_t n;
    int rc = kiln_trust_read_file(path, KEY_FILE_MAX, &buf, &n, err);
    if (rc < 0) return rc;
    rc = kiln_key_parse_private_pem((const char *)buf, n, out, err);
    sodium_memzero(buf, n);
    free(buf);
    if (rc < 0) kiln_error_prefix(err, "%s", path);
    return rc;
}

int kiln_key_save(const char *prefix, const struct kiln_seckey *key, struct kiln_error *err)
{
    char priv[4096], pub[4096];
    char *pem = NULL;
    struct stat st;
    int rc;
    if (snprintf(priv, sizeof priv, "%s.pem", prefix) >= (int)sizeof priv ||
        snprintf(pub, sizeof pub, "%s.pub.pem", prefix) >= (int)sizeof pub)
        return kiln_error_set(err, KILN_E_ARG, "%s: key path too long", prefix);
    if (lstat(priv, &st) == 0)
        return kiln_error_set(err, KILN_E_ARG, "%s: exists; refusing to overwrite a key", priv);
    rc = kiln_key_private_pem(key, &pem, err);
    if (rc < 0) goto fail;
    rc = kiln_trust_write_file(priv, pem, strlen(pem), 0600, err);
    sodium_memzero(pem, strlen(pem));
    free(pem);
    pem = NULL;
    if (rc < 0) goto fail;
    rc = kiln_key_public_pem(&key->pub, &pem, err);
    if (rc < 0) goto fail;
    rc = kiln_trust_write_file(pub, pem, strlen(pem), 0644, err);
    free(pem);
    pem = NULL;
    if (rc < 0) goto fail;
    return 0;
fail:
    return rc;
}
