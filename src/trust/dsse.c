/*
 * dsse.c — DSSE envelopes (Dead Simple Signing Envelope, v1): the
 * pre-authentication encoding (PAE), Ed25519 signing/verification over it,
 * and the canonical JSON form kiln writes and insists on reading.
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *   LEN = ASCII decimal byte count, no leading zeros; SP = one 0x20 byte.
 *
 * Invariant: kiln_dsse_parse accepts only text that equals
 * kiln_dsse_encode(kiln_dsse_parse(text)), so an envelope has exactly one
 * byte representation and no byte of it can change unnoticed (the payload
 * and type are signed; keyid and sig select and prove the signer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

int kiln_dsse_pae(const char *type, const uint8_t *body, size_t body_len, uint8_t **out,
                  size_t *out_len, struct kiln_error *err)
{
    char head[96];
    size_t tlen = strlen(type);
    int h1 = snprintf(head, sizeof head, "DSSEv1 %zu ", tlen);
    char mid[32];
    int h2 = snprintf(mid, sizeof mid, " %zu ", body_len);
    size_t n = (size_t)h1 + tlen + (size_t)h2 + body_len;
    uint8_t *p;
    if (n < body_len || !(p = malloc(n ? n : 1)))
        return kiln_error_set(err, KILN_E_NOMEM, "DSSE PAE: out of memory for %zu bytes", n);
    memcpy(p, head, (size_t)h1);
    memcpy(p + h1, type, tlen);
    memcpy(p + h1 + tlen, mid, (size_t)h2);
    if (body_len) memcpy(p + h1 + tlen + h2, body, body_len);
    *out = p;
    *out_len = n;
    return 0;
}

void kiln_dsse_free(struct kiln_dsse *env)
{
    size_t i;
    if (!env) return;
    for (i = 0; i < env->nsigs; i++) {
        free(env->sigs[i].keyid);
        free(env->sigs[i].sig);
    }
    free(env->sigs);
    free(env->payload_type);
    free(env->payload);
    free(env);
}

int kiln_dsse_new(const char *type, const uint8_t *payload, size_t payload_len,
                  struct kiln_dsse **out, struct kiln_error *err)
{
    struct kiln_dsse *env = calloc(1, sizeof *env);
    if (!env) goto nomem;
    env->payload_type = strdup(type);
    env->payload = malloc(payload_len ? payload_len : 1);
    if (!env->payload_type || !env->payload) goto nomem;
    if (payload_len) memcpy(env->payload, payload, payload_len);
    env->payload_len = payload_len;
    *out = env;
    return 0;
nomem:
    kiln_dsse_free(env);
    return kiln_error_set(err, KILN_E_NOMEM, "DSSE envelope: out of memory");
}

int kiln_dsse_add_sig(struct kiln_dsse *env, const char *keyid, const uint8_t *sig, size_t sig_len,
                      struct kiln_error *err)
{
    struct kiln_dsse_sig *s = realloc(env->sigs, (env->nsigs + 1) * sizeof *s);
    char *k;
    uint8_t *b;
    if (!s) goto nomem;
    env->sigs = s;
    k = strdup(keyid);
    b = malloc(sig_len ? sig_len : 1);
    if (!k || !b) {
        free(k);
        free(b);
        goto nomem;
    }
    if (sig_len) memcpy(b, sig, sig_len);
    s[env->nsigs].keyid = k;
    s[env->nsigs].sig = b;
    s[env->nsigs].sig_len = sig_len;
    env->nsigs++;
    return 0;
nomem:
    return kiln_error_set(err, KILN_E_NOMEM, "DSSE signature: out of memory");
}

int kiln_dsse_sign(struct kiln_dsse *env, const struct kiln_seckey *key, struct kiln_error *err)
{
    uint8_t *pae = NULL, sig[crypto_sign_BYTES];
    size_t n;
    int rc = kiln__sodium_init(err);
    if (rc < 0) return rc;
    rc = kiln_dsse_pae(env->payload_type, env->payload, env->payload_len, &pae, &n, err);
    if (rc < 0) return rc;
    crypto_sign_detached(sig, NULL, pae, n, key->sk);
    free(pae);
    return kiln_dsse_add_sig(env, key->pub.keyid, sig, sizeof sig, err);
}

int kiln_dsse_verify_sig(const struct kiln_dsse *env, size_t i, const struct kiln_pubkey *key,
                         struct kiln_error *err)
{
    uint8_t *pae = NULL;
    size_t n;
    int rc, ok;
    if (i >= env->nsigs || env->sigs[i].sig_len != crypto_sign_BYTES) return 0;
    rc = kiln__sodium_init(err);
    if (rc < 0) return rc;
    rc = kiln_dsse_pae(env->payload_type, env->payload, env->payload_len, &pae, &n, err);
    if (rc < 0) return rc;
    ok = crypto_sign_verify_detached(env->sigs[i].sig, pae, n, key->pk) == 0;
    free(pae);
    return ok;
}

int kiln_dsse_encode(const struct kiln_dsse *env, char **json, size_t *len, struct kiln_error *err)
{
    json_t *root = json_object(), *sigs = json_array();
    char *b64 = NULL, *s = NULL;
    size_t i;
    int rc = -KILN_E_NOMEM;
    if (!root || !sigs) goto fail;
    if (!(b64 = kiln__b64_encode(env->payload, env->payload_len)) ||
        json_object_set_new(root, "payload", json_string(b64)) != 0 ||
        json_object_set_new(root, "payloadType", json_string(env->payload_type)) != 0)
        goto fail;
    free(b64);
    b64 = NULL;
    for (i = 0; i < env->nsigs; i++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(sigs, o) != 0) goto fail;
        if (!(b64 = kiln__b64_encode(env->sigs[i].sig, env->sigs[i].sig_len)) ||
            json_object_set_new(o, "keyid", json_string(env->sigs[i].keyid)) != 0 ||
            json_object_set_new(o, "sig", json_string(b64)) != 0)
            goto fail;
        free(b64);
        b64 = NULL;
    }
    if (json_object_set(root, "signatures", sigs) != 0) goto fail;
    s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) goto fail;
    *json = s;
    *len = strlen(s);
    rc = 0;
fail:
    if (rc < 0) kiln_error_set(err, KILN_E_NOMEM, "DSSE encode: out of memory");
    free(b64);
    json_decref(sigs);
    json_decref(root);
    return rc;
}

/* A string member of o, or NULL (with *why set). */
static const char *get_str(json_t *o, const char *key, const char *where, char *why, size_t wn)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        snprintf(why, wn, "%s: missing \"%s\"", where, key);
        return NULL;
    }
    if (!json_is_string(v)) {
        snprintf(why, wn, "%s: \"%s\" is not a string", where, key);
        return NULL;
    }
    return json_string_value(v);
}

int kiln_dsse_parse(const char *json, size_t len, struct kiln_dsse **out, struct kiln_error *err)
{
    json_error_t jerr;
    json_t *root = NULL, *sigs;
    struct kiln_dsse *env = NULL;
    char why[256] = "";
    const char *key, *type, *payload;
    json_t *val;
    uint8_t *bytes = NULL;
    size_t n, i;
    char *re = NULL;
    size_t relen;
    int rc;

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(why, sizeof why, "JSON error at byte %d: %s", jerr.position, jerr.text);
        goto malformed;
    }
    if (!json_is_object(root)) {
        snprintf(why, sizeof why, "top level is not an object");
        goto malformed;
    }
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "payload") && strcmp(key, "payloadType") && strcmp(key, "signatures")) {
            snprintf(why, sizeof why, "unknown field \"%.64s\"", key);
            goto malformed;
        }
    }
    if (!(type = get_str(root, "payloadType", "envelope", why, sizeof why)) ||
        !(payload = get_str(root, "payload", "envelope", why, sizeof why)))
        goto malformed;
    if (kiln__b64_decode(payload, strlen(payload), NULL, &bytes, &n) != 0) {
        snprintf(why, sizeof why, "\"payload\" is not canonical base64");
        goto malformed;
    }
    rc = kiln_dsse_new(type, bytes, n, &env, err);
    free(bytes);
    bytes = NULL;
    if (rc < 0) goto fail;
    sigs = json_object_get(root, "signatures");
    if (!json_is_array(sigs) || json_array_size(sigs) == 0) {
        snprintf(why, sizeof why, "\"signatures\" is missing, not an array, or empty");
        goto malformed;
    }
    json_array_foreach(sigs, i, val)
    {
        char where[48];
        const char *kid, *sig;
        snprintf(where, sizeof where, "signatures[%zu]", i);
        if (!json_is_object(val)) {
            snprintf(why, sizeof why, "%s is not an object", where);
            goto malformed;
        }
        if (!(kid = get_str(val, "keyid", where, why, sizeof why)) ||
            !(sig = get_str(val, "sig", where, why, sizeof why)))
            goto malformed;
        if (kiln__b64_decode(sig, strlen(sig), NULL, &bytes, &n) != 0) {
            snprintf(why, sizeof why, "%s: \"sig\" is not canonical base64", where);
            goto malformed;
        }
        rc = kiln_dsse_add_sig(env, kid, bytes, n, err);
        free(bytes);
        bytes = NULL;
        if (rc < 0) goto fail;
    }
    /* One representation only: the text must be its own canonical encoding
     * (this also rejects extra fields inside signature entries). */
    rc = kiln_dsse_encode(env, &re, &relen, err);
    if (rc < 0) goto fail;
    if (relen != len || memcmp(re, json, len) != 0) {
        size_t k = 0;
        while (k < len && k < relen && re[k] == json[k])
            k++;
        snprintf(why, sizeof why, "not in canonical form (first difference at byte %zu)", k);
        goto malformed;
    }
    free(re);
    json_decref(root);
    *out = env;
    return 0;
malformed:
    rc = kiln_error_set(err, KILN_E_MALFORMED, "DSSE envelope: %s", why);
fail:
    free(re);
    free(bytes);
    kiln_dsse_free(env);
    json_decref(root);
    return rc;
}
