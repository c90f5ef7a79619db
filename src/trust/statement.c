/*
 * statement.c — the kiln manifest as an in-toto Statement v1:
 *
 *   {"_type":"https://in-toto.io/Statement/v1",
 *    "subject":[{"name":"stub","digest":{"sha256":HEX}}, {"name":"module.wasm",...}, ...],
 *    "predicateType":"https://kiln.dev/unit/v1",
 *    "predicate":{"formatVersion":1,"engineVersion":1,"tool":"kiln 0.1.0",
 *                 "guest":{"abi":"wasi_snapshot_preview1"},
 *                 "source":{"path":P,"kind":K,"digest":{"sha256":HEX}},
 *                 "policy":{"digest":{"sha256":HEX}},            (iff a policy region)
 *                 "aot":{"target":T,"compiler":C},              (iff an AOT region)
 *                 "layout":[{"name":"stub","offset":0,"length":N}, ...]}}
 *
 * Output is canonical JSON (keys sorted bytewise, no whitespace, integers
 * only), so the same inputs always give the same bytes and digests.
 * Invariant: subject[i] and layout[i] describe the same region, in file order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

static const char *const region_names[] = {NULL, "stub", "module.wasm", "module.aot",
                                           "policy.json"};

const char *kiln_region_name(uint32_t kind)
{
    if (kind == 0 || kind >= sizeof region_names / sizeof region_names[0]) return NULL;
    return region_names[kind];
}

static uint32_t region_kind(const char *name)
{
    uint32_t k;
    for (k = 1; k < sizeof region_names / sizeof region_names[0]; k++)
        if (strcmp(name, region_names[k]) == 0) return k;
    return 0;
}

static const char *const abis[] = {"wasi_snapshot_preview1", "kiln-linux-wasm32",
                                   "kiln-linux-x86_64"};

bool kiln_manifest_abi_supported(const char *abi)
{
    size_t i;
    for (i = 0; abi && i < sizeof abis / sizeof abis[0]; i++)
        if (strcmp(abi, abis[i]) == 0) return true;
    return false;
}

void kiln_manifest_clear(struct kiln_manifest *m)
{
    if (!m) return;
    free(m->tool_version);
    free(m->guest_abi);
    free(m->source_path);
    free(m->source_kind);
    free(m->aot_target);
    free(m->aot_compiler);
    memset(m, 0, sizeof *m);
}

void kiln_statement_clear(struct kiln_statement *st)
{
    if (!st) return;
    free(st->statement_type);
    free(st->predicate_type);
    kiln_manifest_clear(&st->manifest);
    memset(st, 0, sizeof *st);
}

static json_t *digest_obj(const char *hex)
{
    return json_pack("{s:s}", "sha256", hex);
}

int kiln_statement_encode(const struct kiln_statement *st, char **json, size_t *len,
                          struct kiln_error *err)
{
    const struct kiln_manifest *m = &st->manifest;
    json_t *root = NULL, *subj, *pred, *layout;
    char *s;
    size_t i;
    int rc = -KILN_E_NOMEM;
    if (st->nregions == 0 || st->nregions > KILN_UNIT_MAX_REGIONS)
        return kiln_error_set(err, KILN_E_ARG, "statement: %zu regions", st->nregions);
    if (!m->guest_abi || !m->source_path || !m->source_kind || !m->tool_version ||
        !kiln__is_hex64(m->source_sha256))
        return kiln_error_set(err, KILN_E_ARG,
                              "statement: manifest needs guest ABI, source path, kind, "
                              "digest and tool version");
    root = json_object();
    subj = json_array();
    layout = json_array();
    pred = json_pack("{s:i,s:i,s:s,s:{s:s},s:{s:s,s:s,s:o}}", "formatVersion", m->format_version,
                     "engineVersion", m->engine_version, "tool", m->tool_version, "guest", "abi",
                     m->guest_abi, "source", "path", m->source_path, "kind", m->source_kind,
                     "digest", digest_obj(m->source_sha256));
    if (!root || !subj || !layout || !pred) {
        json_decref(subj);
        json_decref(layout);
        json_decref(pred);
        goto fail;
    }
    json_object_set_new(root, "subject", subj);
    json_object_set_new(root, "predicate", pred);
    json_object_set_new(pred, "layout", layout);
    for (i = 0; i < st->nregions; i++) {
        const char *name = kiln_region_name(st->regions[i].kind);
        if (!name || !kiln__is_hex64(st->sha256[i])) {
            rc = kiln_error_set(err, KILN_E_ARG, "statement: region %zu has kind %u or no digest",
                                i, st->regions[i].kind);
            goto fail;
        }
        if (json_array_append_new(subj, json_pack("{s:s,s:o}", "name", name, "digest",
                                                  digest_obj(st->sha256[i]))) != 0 ||
            json_array_append_new(layout, json_pack("{s:s,s:I,s:I}", "name", name, "offset",
                                                    (json_int_t)st->regions[i].offset, "length",
                                                    (json_int_t)st->regions[i].length)) != 0)
            goto fail;
    }
    if (json_object_set_new(root, "_type", json_string(KILN_STATEMENT_TYPE)) != 0 ||
        json_object_set_new(root, "predicateType", json_string(KILN_PREDICATE_TYPE)) != 0)
        goto fail;
    if (m->has_policy &&
        json_object_set_new(pred, "policy",
                            json_pack("{s:o}", "digest", digest_obj(m->policy_sha256))) != 0)
        goto fail;
    if (m->has_aot &&
        json_object_set_new(pred, "aot",
                            json_pack("{s:s,s:s}", "target", m->aot_target ? m->aot_target : "",
                                      "compiler", m->aot_compiler ? m->aot_compiler : "")) != 0)
        goto fail;
    s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) goto fail;
    *json = s;
    *len = strlen(s);
    rc = 0;
fail:
    if (rc == -KILN_E_NOMEM)
        kiln_error_set(err, KILN_E_NOMEM, "statement encode: out of memory (or invalid UTF-8)");
    json_decref(root);
    return rc;
}

/* Parsing helpers: each returns NULL/false and fills why on failure. */
struct ctx {
    char why[256];
};

static json_t *member(struct ctx *c, json_t *o, const char *where, const char *key, json_type type)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    if (!v) {
        snprintf(c->why, sizeof c->why, "%s: missing \"%s\"", where, key);
        return NULL;
    }
    if (json_typeof(v) != type && !(type == JSON_INTEGER && json_is_integer(v))) {
        snprintf(c->why, sizeof c->why, "%s: \"%s\" has the wrong type", where, key);
        return NULL;
    }
    return v;
}

static char *dup_str(struct ctx *c, json_t *o, const char *where, const char *key)
{
    json_t *v = member(c, o, where, key, JSON_STRING);
    char *s;
    if (!v) return NULL;
    s = strdup(json_string_value(v));
    if (!s) snprintf(c->why, sizeof c->why, "out of memory");
    return s;
}

static bool get_digest(struct ctx *c, json_t *o, const char *where, char out[65])
{
    json_t *d = member(c, o, where, "digest", JSON_OBJECT), *h;
    if (!d || !(h = member(c, d, where, "sha256", JSON_STRING))) return false;
    if (!kiln__is_hex64(json_string_value(h))) {
        snprintf(c->why, sizeof c->why, "%s: digest.sha256 is not 64 lowercase hex digits", where);
        return false;
    }
    memcpy(out, json_string_value(h), 65);
    return true;
}

static bool get_int(struct ctx *c, json_t *o, const char *where, const char *key, int64_t min,
                    int64_t max, int64_t *out)
{
    json_t *v = member(c, o, where, key, JSON_INTEGER);
    if (!v) return false;
    if (json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(c->why, sizeof c->why, "%s: \"%s\" = %lld is out of range", where, key,
                 (long long)json_integer_value(v));
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static bool parse_predicate(struct ctx *c, json_t *pred, struct kiln_statement *st)
{
    struct kiln_manifest *m = &st->manifest;
    json_t *guest, *source, *layout, *pol, *aot, *e;
    int64_t v;
    size_t i;
    if (!json_is_object(pred)) {
        snprintf(c->why, sizeof c->why, "\"predicate\" is not an object");
        return false;
    }
    if (!get_int(c, pred, "predicate", "formatVersion", 0, 1000000, &v)) return false;
    m->format_version = (int)v;
    if (!get_int(c, pred, "predicate", "engineVersion", 0, 1000000, &v)) return false;
    m->engine_version = (int)v;
    if (!(m->tool_version = dup_str(c, pred, "predicate", "tool"))) return false;
    if (!(guest = member(c, pred, "predicate", "guest", JSON_OBJECT)) ||
        !(m->guest_abi = dup_str(c, guest, "predicate.guest", "abi")))
        return false;
    if (!(source = member(c, pred, "predicate", "source", JSON_OBJECT)) ||
        !(m->source_path = dup_str(c, source, "predicate.source", "path")) ||
        !(m->source_kind = dup_str(c, source, "predicate.source", "kind")) ||
        !get_digest(c, source, "predicate.source", m->source_sha256))
        return false;
    if ((pol = json_object_get(pred, "policy")) != NULL) {
        if (!get_digest(c, pol, "predicate.policy", m->policy_sha256)) return false;
        m->has_policy = true;
    }
    if ((aot = json_object_get(pred, "aot")) != NULL) {
        if (!(m->aot_target = dup_str(c, aot, "predicate.aot", "target")) ||
            !(m->aot_compiler = dup_str(c, aot, "predicate.aot", "compiler")))
            return false;
        m->has_aot = true;
    }
    if (!(layout = member(c, pred, "predicate", "layout", JSON_ARRAY))) return false;
    if (json_array_size(layout) != st->nregions) {
        snprintf(c->why, sizeof c->why, "predicate.layout has %zu entries for %zu subjects",
                 json_array_size(layout), st->nregions);
        return false;
    }
    json_array_foreach(layout, i, e)
    {
        char where[40];
        json_t *name;
        int64_t off, len;
        snprintf(where, sizeof where, "predicate.layout[%zu]", i);
        if (!(name = member(c, e, where, "name", JSON_STRING))) return false;
        if (region_kind(json_string_value(name)) != st->regions[i].kind ||
            st->regions[i].kind == 0) {
            snprintf(c->why, sizeof c->why, "%s: name \"%.40s\" does not match subject[%zu]", where,
                     json_string_value(name), i);
            return false;
        }
        if (!get_int(c, e, where, "offset", 0, INT64_MAX, &off) ||
            !get_int(c, e, where, "length", 0, INT64_MAX, &len))
            return false;
        st->regions[i].offset = (uint64_t)off;
        st->regions[i].length = (uint64_t)len;
    }
    st->has_manifest = true;
    return true;
}

int kiln_statement_parse(const uint8_t *json, size_t len, struct kiln_statement *out,
                         struct kiln_error *err)
{
    struct kiln_statement st;
    struct ctx c = {""};
    json_error_t jerr;
    json_t *root, *subj, *e;
    size_t i;
    memset(&st, 0, sizeof st);
    root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(c.why, sizeof c.why, "JSON error at byte %d: %s", jerr.position, jerr.text);
        goto fail;
    }
    if (!(st.statement_type = dup_str(&c, root, "statement", "_type")) ||
        !(st.predicate_type = dup_str(&c, root, "statement", "predicateType")) ||
        !(subj = member(&c, root, "statement", "subject", JSON_ARRAY)))
        goto fail;
    if (json_array_size(subj) == 0 || json_array_size(subj) > KILN_UNIT_MAX_REGIONS) {
        snprintf(c.why, sizeof c.why, "statement: %zu subjects (1..%d allowed)",
                 json_array_size(subj), KILN_UNIT_MAX_REGIONS);
        goto fail;
    }
    st.nregions = json_array_size(subj);
    json_array_foreach(subj, i, e)
    {
        char where[32];
        json_t *name;
        snprintf(where, sizeof where, "subject[%zu]", i);
        if (!(name = member(&c, e, where, "name", JSON_STRING)) ||
            !get_digest(&c, e, where, st.sha256[i]))
            goto fail;
        st.regions[i].kind = region_kind(json_string_value(name));
    }
    if (strcmp(st.predicate_type, KILN_PREDICATE_TYPE) == 0 &&
        !parse_predicate(&c, json_object_get(root, "predicate"), &st))
        goto fail;
    json_decref(root);
    *out = st;
    return 0;
fail:
    json_decref(root);
    kiln_statement_clear(&st);
    return kiln_error_set(err, KILN_E_MALFORMED, "statement: %s", c.why);
}
