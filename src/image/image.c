/*
 * image.c — opening an image: index.json / manifest.json, the selected
 * manifest and the image config, every blob checked against its descriptor.
 *
 *   OCI layout (dir or tar; also Docker 25+ `docker save`, which embeds one):
 *     index.json -> descriptor (by ref name / platform; nested indexes
 *     followed up to 4 deep) -> manifest blob -> config blob + layer
 *     descriptors.
 *   Legacy docker-archive: manifest.json = [{Config, RepoTags, Layers}];
 *     the config is checked against its name when the name is a digest and
 *     each layer (an uncompressed tar) against config rootfs.diff_ids at
 *     extraction time.
 *
 * Invariants: a digest is syntax-checked before it becomes a path; JSON
 * documents are bounded (limits.max_json_bytes) and parsed with duplicate
 * keys rejected; nothing from the image is trusted before its digest matched.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "image/image_internal.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* Layer media types kiln can read (the table the docs list). */
static const char *const layer_types[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    NULL};

void kiln_image_options_default(struct kiln_image_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->limits.max_layer_bytes = (uint64_t)8 << 30;
    opt->limits.max_total_bytes = (uint64_t)32 << 30;
    opt->limits.max_entries = 1000000;
    opt->limits.max_json_bytes = 4u << 20;
    opt->limits.max_layers = 256;
    opt->limits.max_path_bytes = 4096;
}

const char *kiln_image_format_name(int format)
{
    switch (format) {
    case KILN_IMAGE_OCI_DIR:
        return "oci";
    case KILN_IMAGE_OCI_ARCHIVE:
        return "oci-archive";
    case KILN_IMAGE_DOCKER_ARCHIVE:
        return "docker-archive";
    default:
        return "unknown";
    }
}

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void kiln_image_config_clear(struct kiln_image_config *cfg)
{
    if (!cfg) return;
    free_strv(cfg->entrypoint);
    free_strv(cfg->cmd);
    free_strv(cfg->env);
    free_strv(cfg->exposed_ports);
    free_strv(cfg->volumes);
    free(cfg->workdir);
    free(cfg->user);
    free(cfg->os);
    free(cfg->architecture);
    free(cfg->variant);
    memset(cfg, 0, sizeof *cfg);
}

static json_t *load_json(const uint8_t *buf, size_t len, const char *what, struct kiln_error *err)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        kiln_error_set(err, KILN_E_MALFORMED, "%s:%d:%d: %s", what, je.line, je.column, je.text);
    return j;
}

/* A JSON array of strings (or null/absent) -> NULL-terminated vector. */
static int strv_from_array(json_t *arr, char ***out, const char *what, struct kiln_error *err)
{
    size_t i, n;
    char **v;
    *out = NULL;
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr))
        return kiln_error_set(err, KILN_E_MALFORMED, "config: %s: expected an array of strings",
                              what);
    n = json_array_size(arr);
    v = calloc(n + 1, sizeof *v);
    if (!v) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s)) {
            free_strv(v);
            return kiln_error_set(err, KILN_E_MALFORMED, "config: %s[%zu]: expected a string", what,
                                  i);
        }
        v[i] = strdup(json_string_value(s));
        if (!v[i]) {
            free_strv(v);
            return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        }
    }
    *out = v;
    return 0;
}

/* Keys of a JSON object ({"8080/tcp":{}}) -> vector. */
static int strv_from_keys(json_t *obj, char ***out, const char *what, struct kiln_error *err)
{
    const char *k;
    json_t *val;
    size_t i = 0;
    char **v;
    *out = NULL;
    if (!obj || json_is_null(obj)) return 0;
    if (!json_is_object(obj))
        return kiln_error_set(err, KILN_E_MALFORMED, "config: %s: expected an object", what);
    v = calloc(json_object_size(obj) + 1, sizeof *v);
    if (!v) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    json_object_foreach(obj, k, val)
    {
        (void)val;
        if (!(v[i++] = strdup(k))) {
            free_strv(v);
            return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        }
    }
    *out = v;
    return 0;
}

static int opt_string(json_t *obj, const char *key, char **out, struct kiln_error *err)
{
    json_t *s = json_object_get(obj, key);
    *out = NULL;
    if (!s || json_is_null(s)) return 0;
    if (!json_is_string(s))
        return kiln_error_set(err, KILN_E_MALFORMED, "config: %s: expected a string", key);
    if (!(*out = strdup(json_string_value(s))))
        return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    return 0;
}

/* Contract in kiln/image.h. */
int kiln_image_config_parse(const uint8_t *json, size_t len, struct kiln_image_config *out,
                            struct kiln_error *err)
{
    struct kiln_image_config cfg;
    json_t *root, *c;
    int rc = -1;

    memset(&cfg, 0, sizeof cfg);
    root = load_json(json, len, "config", err);
    if (!root) return -KILN_E_MALFORMED;
    if (!json_is_object(root)) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "config: expected a JSON object");
        goto fail;
    }
    if ((rc = opt_string(root, "os", &cfg.os, err)) < 0) goto fail;
    if ((rc = opt_string(root, "architecture", &cfg.architecture, err)) < 0) goto fail;
    if ((rc = opt_string(root, "variant", &cfg.variant, err)) < 0) goto fail;
    c = json_object_get(root, "config");
    if (c && !json_is_null(c)) {
        if (!json_is_object(c)) {
            rc = kiln_error_set(err, KILN_E_MALFORMED, "config: config: expected an object");
            goto fail;
        }
        if ((rc = strv_from_array(json_object_get(c, "Entrypoint"), &cfg.entrypoint,
                                  "config.Entrypoint", err)) < 0 ||
            (rc = strv_from_array(json_object_get(c, "Cmd"), &cfg.cmd, "config.Cmd", err)) < 0 ||
            (rc = strv_from_array(json_object_get(c, "Env"), &cfg.env, "config.Env", err)) < 0 ||
            (rc = strv_from_keys(json_object_get(c, "ExposedPorts"), &cfg.exposed_ports,
                                 "config.ExposedPorts", err)) < 0 ||
            (rc = strv_from_keys(json_object_get(c, "Volumes"), &cfg.volumes, "config.Volumes",
                                 err)) < 0 ||
            (rc = opt_string(c, "WorkingDir", &cfg.workdir, err)) < 0 ||
            (rc = opt_string(c, "User", &cfg.user, err)) < 0)
            goto fail;
    }
    json_decref(root);
    *out = cfg;
    return 0;
fail:
    json_decref(root);
    kiln_image_config_clear(&cfg);
    return rc;
}

/* ---------------------------------------------------------------------- */

struct desc {
    const char *media_type; /* may be NULL */
    const char *digest;
    uint64_t size;
    json_t *obj;
};

static int parse_desc(json_t *d, struct desc *out, const char *where, struct kiln_error *err)
{
    json_t *mt, *dg, *sz;
    if (!json_is_object(d))
        return kiln_error_set(err, KILN_E_MALFORMED, "%s: expected a descriptor object", where);
    mt = json_object_get(d, "mediaType");
    dg = json_object_get(d, "digest");
    sz = json_object_get(d, "size");
    if (mt && !json_is_string(mt))
        return kiln_error_set(err, KILN_E_MALFORMED, "%s.mediaType: expected a string", where);
    if (!json_is_string(dg))
        return kiln_error_set(err, KILN_E_MALFORMED, "%s.digest: expected a string", where);
    if (!json_is_integer(sz) || json_integer_value(sz) < 0)
        return kiln_error_set(err, KILN_E_MALFORMED, "%s.size: expected a non-negative integer",
                              where);
    out->media_type = mt ? json_string_value(mt) : NULL;
    out->digest = json_string_value(dg);
    out->size = (uint64_t)json_integer_value(sz);
    out->obj = d;
    return 0;
}

/* Contract in kiln/image.h. */
int kiln_image_read_blob(struct kiln_image *img, const char *digest, uint64_t expected_size,
                         uint64_t max, uint8_t **out, size_t *len, struct kiln_error *err)
{
    char path[96], hex[65];
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = kiln__digest_path(digest, path, sizeof path, err);
    if (rc < 0) return rc;
    if (expected_size != UINT64_MAX && expected_size > max)
        return kiln_error_set(err, KILN_E_NOMEM,
                              "blob %s: descriptor size %llu over the bound %llu", digest,
                              (unsigned long long)expected_size, (unsigned long long)max);
    rc = kiln__source_read_all(img->src, path, max, &buf, &n, hex, err);
    if (rc < 0) {
        kiln_error_prefix(err, "blob %s", digest);
        return rc;
    }
    if (expected_size != UINT64_MAX && n != expected_size) {
        free(buf);
        return kiln_error_set(err, KILN_E_VERIFY,
                              "blob %s: size mismatch: descriptor says %llu bytes, blob has %zu",
                              digest, (unsigned long long)expected_size, n);
    }
    if (strcmp(hex, digest + 7) != 0) {
        free(buf);
        return kiln_error_set(err, KILN_E_VERIFY,
                              "blob %s: digest mismatch: content hashes to sha256:%s", digest, hex);
    }
    *out = buf;
    *len = n;
    return 0;
}

static void host_platform(char *os, size_t nos, char *arch, size_t narch)
{
    struct utsname u;
    snprintf(os, nos, "linux");
    if (uname(&u) == 0 && strcmp(u.machine, "aarch64") == 0)
        snprintf(arch, narch, "arm64");
    else
        snprintf(arch, narch, "amd64");
}

static int platform_matches(json_t *d, const char *want_os, const char *want_arch,
                            const char *want_variant)
{
    json_t *p = json_object_get(d, "platform");
    if (!json_is_object(p)) return 0;
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    const char *var = json_string_value(json_object_get(p, "variant"));
    if (!os || !arch || strcmp(os, want_os) || strcmp(arch, want_arch)) return 0;
    if (want_variant && (!var || strcmp(var, want_variant))) return 0;
    return 1;
}

static int ref_matches(json_t *d, const char *ref)
{
    json_t *an = json_object_get(d, "annotations");
    const char *keys[] = {"org.opencontainers.image.ref.name", "io.containerd.image.name", NULL};
    size_t rl = strlen(ref);
    if (!json_is_object(an)) return 0;
    for (int i = 0; keys[i]; i++) {
        const char *v = json_string_value(json_object_get(an, keys[i]));
        if (!v) continue;
        size_t vl = strlen(v);
        if (strcmp(v, ref) == 0) return 1;
        /* "docker.io/library/x:tag" matches "tag" and "x:tag" */
        if (vl > rl && strcmp(v + vl - rl, ref) == 0 &&
            (v[vl - rl - 1] == ':' || v[vl - rl - 1] == '/'))
            return 1;
    }
    return 0;
}

static int is_index_type(const char *mt)
{
    return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

static int load_manifest(struct kiln_image *img, const struct desc *d, struct kiln_error *err);

/* Picks one descriptor of an index's "manifests" and follows it. */
static int follow_index(struct kiln_image *img, json_t *index, const char *where, int depth,
                        const char *ref, struct kiln_error *err)
{
    json_t *ms = json_object_get(index, "manifests");
    size_t i, n, nmatch = 0;
    struct desc pick, d;
    char os[16], arch[16], w[64];
    const char *want_os, *want_arch, *want_var = NULL;
    char platbuf[64];
    int rc;

    if (depth > 4)
        return kiln_error_set(err, KILN_E_INVALID, "%s: indexes nested more than 4 deep", where);
    if (!json_is_array(ms))
        return kiln_error_set(err, KILN_E_MALFORMED, "%s: manifests: expected an array", where);
    n = json_array_size(ms);
    if (n == 0) return kiln_error_set(err, KILN_E_INVALID, "%s: no manifests", where);
    host_platform(os, sizeof os, arch, sizeof arch);
    want_os = os;
    want_arch = arch;
    if (img->opt.platform) {
        snprintf(platbuf, sizeof platbuf, "%s", img->opt.platform);
        char *a = strchr(platbuf, '/');
        if (!a) return kiln_error_set(err, KILN_E_ARG, "platform %s: expected os/arch", platbuf);
        *a++ = 0;
        char *v = strchr(a, '/');
        if (v) *v++ = 0;
        want_os = platbuf;
        want_arch = a;
        want_var = v;
    }
    /* pass 1: by ref (when given); pass 2: by platform among those */
    memset(&pick, 0, sizeof pick);
    size_t nref = 0, nplat = 0;
    struct desc plat_pick;
    memset(&plat_pick, 0, sizeof plat_pick);
    for (i = 0; i < n; i++) {
        snprintf(w, sizeof w, "%s: manifests[%zu]", where, i);
        if ((rc = parse_desc(json_array_get(ms, i), &d, w, err)) < 0) return rc;
        if (json_object_get(d.obj, "artifactType")) continue; /* a referrer, not an image */
        if (ref && !ref_matches(d.obj, ref)) continue;
        nref++;
        pick = d;
        if (platform_matches(d.obj, want_os, want_arch, want_var)) {
            nplat++;
            plat_pick = d;
        }
    }
    if (nref == 0)
        return kiln_error_set(err, KILN_E_INVALID, "%s: no image named %s", where,
                              ref ? ref : "(any)");
    if (nref == 1)
        nmatch = 1;
    else if (nplat == 1) {
        pick = plat_pick;
        nmatch = 1;
    } else if (nplat > 1 || img->opt.platform) {
        return kiln_error_set(err, KILN_E_INVALID, "%s: %zu images match platform %s/%s; name one",
                              where, nplat, want_os, want_arch);
    }
    if (nmatch != 1)
        return kiln_error_set(err, KILN_E_INVALID,
                              "%s: %zu images and no ref given; name one with IMAGE:REF", where,
                              nref);
    if (is_index_type(pick.media_type)) {
        uint8_t *buf = NULL;
        size_t len;
        json_t *sub;
        rc = kiln_image_read_blob(img, pick.digest, pick.size, img->opt.limits.max_json_bytes, &buf,
                                  &len, err);
        if (rc < 0) return rc;
        sub = load_json(buf, len, pick.digest, err);
        free(buf);
        if (!sub) return -KILN_E_MALFORMED;
        rc = follow_index(img, sub, pick.digest, depth + 1, NULL, err);
        json_decref(sub);
        return rc;
    }
    return load_manifest(img, &pick, err);
}

static int is_layer_type(const char *mt)
{
    for (int i = 0; layer_types[i]; i++)
        if (strcmp(mt, layer_types[i]) == 0) return 1;
    return 0;
}

/* Reads config rootfs.diff_ids into the layers (when present and matching). */
static int set_diff_ids(struct kiln_image *img, struct kiln_error *err)
{
    json_t *root = load_json(img->config_json, img->config_len, "config", err);
    json_t *ids;
    size_t i;
    int rc = 0;
    if (!root) return -KILN_E_MALFORMED;
    ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
    if (json_is_array(ids)) {
        if (json_array_size(ids) != img->nlayers) {
            rc = kiln_error_set(err, KILN_E_INVALID,
                                "config %s: rootfs.diff_ids has %zu entries for %zu layers",
                                img->config_digest, json_array_size(ids), img->nlayers);
        } else {
            for (i = 0; i < img->nlayers; i++) {
                const char *s = json_string_value(json_array_get(ids, i));
                char tmp[96];
                if (!s || kiln__digest_path(s, tmp, sizeof tmp, NULL) < 0) {
                    rc =
                        kiln_error_set(err, KILN_E_MALFORMED,
                                       "config: rootfs.diff_ids[%zu]: expected a sha256 digest", i);
                    break;
                }
                snprintf(img->layers[i].diff_id, KILN_DIGEST_MAX, "%s", s);
            }
        }
    }
    json_decref(root);
    return rc;
}

static int load_manifest(struct kiln_image *img, const struct desc *d, struct kiln_error *err)
{
    uint8_t *buf = NULL;
    size_t len, i, n;
    json_t *m = NULL, *layers, *cfg;
    struct desc cd, ld;
    char w[64];
    int rc;

    if (d->media_type && strcmp(d->media_type, MT_OCI_MANIFEST) != 0 &&
        strcmp(d->media_type, MT_DOCKER_MANIFEST) != 0)
        return kiln_error_set(err, KILN_E_UNSUPPORTED, "manifest %s: media type %s is not an image",
                              d->digest, d->media_type);
    rc = kiln_image_read_blob(img, d->digest, d->size, img->opt.limits.max_json_bytes, &buf, &len,
                              err);
    if (rc < 0) return rc;
    m = load_json(buf, len, d->digest, err);
    if (!m) {
        rc = -KILN_E_MALFORMED;
        goto fail;
    }
    const char *mt = json_string_value(json_object_get(m, "mediaType"));
    if (!mt) mt = d->media_type ? d->media_type : MT_OCI_MANIFEST;
    if (strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0) {
        rc = kiln_error_set(err, KILN_E_UNSUPPORTED, "manifest %s: media type %s is not an image",
                            d->digest, mt);
        goto fail;
    }
    snprintf(img->manifest_digest, KILN_DIGEST_MAX, "%s", d->digest);
    img->manifest_media_type = strdup(mt);
    img->manifest_json = buf;
    img->manifest_len = len;
    buf = NULL;
    cfg = json_object_get(m, "config");
    if ((rc = parse_desc(cfg, &cd, "manifest.config", err)) < 0) goto fail;
    if (cd.media_type && strcmp(cd.media_type, MT_OCI_CONFIG) != 0 &&
        strcmp(cd.media_type, MT_DOCKER_CONFIG) != 0) {
        rc = kiln_error_set(err, KILN_E_UNSUPPORTED,
                            "manifest %s: config media type %s is not an image config", d->digest,
                            cd.media_type);
        goto fail;
    }
    layers = json_object_get(m, "layers");
    if (!json_is_array(layers)) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "manifest %s: layers: expected an array",
                            d->digest);
        goto fail;
    }
    n = json_array_size(layers);
    if (n > img->opt.limits.max_layers) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "manifest %s: %zu layers, more than the bound %u",
                            d->digest, n, img->opt.limits.max_layers);
        goto fail;
    }
    img->layers = calloc(n ? n : 1, sizeof *img->layers);
    if (!img->layers || !img->manifest_media_type) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        struct kiln_image_layer *l = &img->layers[i];
        char path[96];
        snprintf(w, sizeof w, "manifest.layers[%zu]", i);
        if ((rc = parse_desc(json_array_get(layers, i), &ld, w, err)) < 0) goto fail;
        if ((rc = kiln__digest_path(ld.digest, path, sizeof path, err)) < 0) goto fail;
        const char *lmt = ld.media_type ? ld.media_type : "";
        if (!is_layer_type(lmt)) {
            rc = kiln_error_set(err, KILN_E_UNSUPPORTED,
                                "manifest %s: layers[%zu] %s: media type '%s' is not a layer kiln "
                                "can read",
                                d->digest, i, ld.digest, lmt);
            goto fail;
        }
        snprintf(l->digest, KILN_DIGEST_MAX, "%s", ld.digest);
        l->size = ld.size;
        l->media_type = strdup(lmt);
        l->source_name = strdup(path);
        img->nlayers++;
        if (!l->media_type || !l->source_name) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
    }
    rc = kiln_image_read_blob(img, cd.digest, cd.size, img->opt.limits.max_json_bytes,
                              &img->config_json, &img->config_len, err);
    if (rc < 0) goto fail;
    snprintf(img->config_digest, KILN_DIGEST_MAX, "%s", cd.digest);
    img->config_media_type = strdup(cd.media_type ? cd.media_type : MT_OCI_CONFIG);
    if (!img->config_media_type) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    rc = 0;
fail:
    free(buf);
    json_decref(m);
    return rc;
}

/* Legacy docker save: manifest.json = [{"Config": name, "RepoTags": [...], "Layers": [names]}]. */
static int open_docker_legacy(struct kiln_image *img, struct kiln_error *err)
{
    uint8_t *buf = NULL;
    size_t len, i, n, pick = 0, nmatch = 0;
    json_t *root = NULL, *e, *layers;
    char hex[65];
    int rc;

    rc = kiln__source_read_all(img->src, "manifest.json", img->opt.limits.max_json_bytes, &buf,
                               &len, NULL, err);
    if (rc < 0) return rc;
    root = load_json(buf, len, "manifest.json", err);
    free(buf);
    buf = NULL;
    if (!root) return -KILN_E_MALFORMED;
    if (!json_is_array(root) || json_array_size(root) == 0) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "manifest.json: expected a non-empty array");
        goto fail;
    }
    n = json_array_size(root);
    for (i = 0; i < n; i++) {
        e = json_array_get(root, i);
        if (!img->opt.ref) {
            pick = i;
            nmatch++;
            continue;
        }
        json_t *tags = json_object_get(e, "RepoTags"), *t;
        size_t k;
        json_array_foreach(tags, k, t)
        {
            const char *s = json_string_value(t);
            size_t sl = s ? strlen(s) : 0, rl = strlen(img->opt.ref);
            if (s && (strcmp(s, img->opt.ref) == 0 || (sl > rl && s[sl - rl - 1] == ':' &&
                                                       strcmp(s + sl - rl, img->opt.ref) == 0))) {
                pick = i;
                nmatch++;
                break;
            }
        }
    }
    if (nmatch != 1) {
        rc = kiln_error_set(err, KILN_E_INVALID, "manifest.json: %zu images match %s%s", nmatch,
                            img->opt.ref ? img->opt.ref : "(no ref given)",
                            nmatch > 1 ? "; name one with IMAGE:REF" : "");
        goto fail;
    }
    e = json_array_get(root, pick);
    const char *cfgname = json_string_value(json_object_get(e, "Config"));
    layers = json_object_get(e, "Layers");
    if (!cfgname || !json_is_array(layers)) {
        rc =
            kiln_error_set(err, KILN_E_MALFORMED,
                           "manifest.json[%zu]: expected Config (string) and Layers (array)", pick);
        goto fail;
    }
    rc = kiln__source_read_all(img->src, cfgname, img->opt.limits.max_json_bytes, &img->config_json,
                               &img->config_len, hex, err);
    if (rc < 0) goto fail;
    /* a config named by its digest ("HEX.json" or "blobs/sha256/HEX") must match it */
    {
        const char *base = strrchr(cfgname, '/');
        base = base ? base + 1 : cfgname;
        size_t bl = strlen(base);
        int named = 0;
        if (bl == 64 || (bl == 69 && strcmp(base + 64, ".json") == 0)) {
            named = 1;
            for (int k = 0; k < 64; k++)
                if (!((base[k] >= '0' && base[k] <= '9') || (base[k] >= 'a' && base[k] <= 'f')))
                    named = 0;
        }
        if (named && strncmp(base, hex, 64) != 0) {
            rc = kiln_error_set(err, KILN_E_VERIFY,
                                "config %.200s: digest mismatch: content hashes to sha256:%s",
                                cfgname, hex);
            goto fail;
        }
    }
    snprintf(img->config_digest, KILN_DIGEST_MAX, "sha256:%s", hex);
    img->config_media_type = strdup(MT_DOCKER_CONFIG);
    img->manifest_media_type = strdup("");
    n = json_array_size(layers);
    if (n > img->opt.limits.max_layers) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "manifest.json: %zu layers, more than the bound %u",
                            n, img->opt.limits.max_layers);
        goto fail;
    }
    img->layers = calloc(n ? n : 1, sizeof *img->layers);
    if (!img->layers || !img->config_media_type || !img->manifest_media_type) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        const char *ln = json_string_value(json_array_get(layers, i));
        struct kiln__blob b;
        if (!ln) {
            rc = kiln_error_set(err, KILN_E_MALFORMED,
                                "manifest.json: Layers[%zu]: expected a string", i);
            goto fail;
        }
        if ((rc = kiln__source_open_file(img->src, ln, &b, err)) < 0) goto fail;
        img->layers[i].size = b.size;
        kiln__blob_close(&b);
        img->layers[i].media_type = strdup("");
        img->layers[i].source_name = strdup(ln);
        img->nlayers++;
        if (!img->layers[i].media_type || !img->layers[i].source_name) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
    }
    rc = set_diff_ids(img, err);
    if (rc < 0) goto fail;
    for (i = 0; i < n; i++) {
        if (!img->layers[i].diff_id[0]) {
            rc = kiln_error_set(err, KILN_E_INVALID,
                                "config %.200s: no rootfs.diff_ids to check the layers against",
                                cfgname);
            goto fail;
        }
    }
    rc = 0;
fail:
    json_decref(root);
    return rc;
}

/* Contract in kiln/image.h. */
int kiln_image_open(const char *path, const struct kiln_image_options *opt, struct kiln_image **out,
                    struct kiln_error *err)
{
    struct kiln_image *img = calloc(1, sizeof *img);
    struct kiln_image_options def;
    uint8_t *buf = NULL;
    size_t len;
    json_t *index = NULL;
    int rc;

    if (!img) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    kiln_image_options_default(&def);
    if (opt) {
        img->opt = *opt;
        struct kiln_image_limits *l = &img->opt.limits;
        if (!l->max_layer_bytes) l->max_layer_bytes = def.limits.max_layer_bytes;
        if (!l->max_total_bytes) l->max_total_bytes = def.limits.max_total_bytes;
        if (!l->max_entries) l->max_entries = def.limits.max_entries;
        if (!l->max_json_bytes) l->max_json_bytes = def.limits.max_json_bytes;
        if (!l->max_layers) l->max_layers = def.limits.max_layers;
        if (!l->max_path_bytes) l->max_path_bytes = def.limits.max_path_bytes;
    } else {
        img->opt = def;
    }
    img->path = strdup(path);
    if (!img->path || sodium_init() < 0) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    rc = kiln__source_open(path, &img->opt.limits, &img->src, err);
    if (rc < 0) goto fail;
    if (kiln__source_has(img->src, "index.json")) {
        img->format = img->src->is_dir ? KILN_IMAGE_OCI_DIR : KILN_IMAGE_OCI_ARCHIVE;
        rc = kiln__source_read_all(img->src, "index.json", img->opt.limits.max_json_bytes, &buf,
                                   &len, NULL, err);
        if (rc < 0) goto fail;
        index = load_json(buf, len, "index.json", err);
        if (!index) {
            rc = -KILN_E_MALFORMED;
            goto fail;
        }
        if (!json_is_object(index)) {
            rc = kiln_error_set(err, KILN_E_MALFORMED, "index.json: expected an object");
            goto fail;
        }
        rc = follow_index(img, index, "index.json", 0, img->opt.ref, err);
        if (rc < 0) goto fail;
        rc = set_diff_ids(img, err);
        if (rc < 0) goto fail;
    } else if (kiln__source_has(img->src, "manifest.json")) {
        img->format = KILN_IMAGE_DOCKER_ARCHIVE;
        rc = open_docker_legacy(img, err);
        if (rc < 0) goto fail;
    } else {
        rc = kiln_error_set(err, KILN_E_INVALID,
                            "not an image: no index.json (OCI layout) or manifest.json "
                            "(docker-archive)");
        goto fail;
    }
    rc = kiln_image_config_parse(img->config_json, img->config_len, &img->config, err);
    if (rc < 0) {
        kiln_error_prefix(err, "%s", img->config_digest);
        goto fail;
    }
    img->opt.ref = NULL; /* caller's strings need not outlive the call */
    img->opt.platform = NULL;
    free(buf);
    json_decref(index);
    *out = img;
    return 0;
fail:
    kiln_error_prefix(err, "%s", path);
    free(buf);
    json_decref(index);
    kiln_image_free(img);
    return rc;
}

void kiln_image_free(struct kiln_image *img)
{
    size_t i;
    if (!img) return;
    kiln__source_free(img->src);
    for (i = 0; i < img->nlayers; i++) {
        free(img->layers[i].media_type);
        free(img->layers[i].source_name);
    }
    free(img->layers);
    free(img->manifest_json);
    free(img->manifest_media_type);
    free(img->config_json);
    free(img->config_media_type);
    kiln_image_config_clear(&img->config);
    free(img->path);
    free(img);
}

/* Contract in kiln/image.h. */
int kiln_image_read_referrer(struct kiln_image *img, const char *artifact_type, uint64_t max,
                             uint8_t **out, size_t *len, struct kiln_error *err)
{
    uint8_t *buf = NULL;
    size_t n;
    json_t *idx = NULL, *ms, *d;
    size_t i;
    int rc;

    if (img->format == KILN_IMAGE_DOCKER_ARCHIVE || !img->manifest_digest[0])
        return kiln_error_set(err, KILN_E_INVALID, "%s: a docker-archive has no referrers",
                              img->path);
    rc = kiln__source_read_all(img->src, "index.json", img->opt.limits.max_json_bytes, &buf, &n,
                               NULL, err);
    if (rc < 0) return rc;
    idx = load_json(buf, n, "index.json", err);
    free(buf);
    buf = NULL;
    if (!idx) return -KILN_E_MALFORMED;
    ms = json_object_get(idx, "manifests");
    rc = kiln_error_set(err, KILN_E_INVALID, "%s: no %s referrer of %s in index.json", img->path,
                        artifact_type, img->manifest_digest);
    json_array_foreach(ms, i, d)
    {
        struct desc dd, ld;
        json_t *m;
        const char *at = json_string_value(json_object_get(d, "artifactType"));
        if (!at || strcmp(at, artifact_type) != 0) continue;
        if (parse_desc(d, &dd, "index.json: manifests[]", err) < 0) continue;
        if ((rc = kiln_image_read_blob(img, dd.digest, dd.size, img->opt.limits.max_json_bytes,
                                       &buf, &n, err)) < 0)
            goto out;
        m = load_json(buf, n, dd.digest, err);
        free(buf);
        buf = NULL;
        if (!m) {
            rc = -KILN_E_MALFORMED;
            goto out;
        }
        const char *subj =
            json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
        const char *mat = json_string_value(json_object_get(m, "artifactType"));
        if (!subj || strcmp(subj, img->manifest_digest) != 0 || !mat ||
            strcmp(mat, artifact_type) != 0 ||
            parse_desc(json_array_get(json_object_get(m, "layers"), 0), &ld, "referrer layers[0]",
                       err) < 0) {
            json_decref(m);
            rc = kiln_error_set(err, KILN_E_INVALID, "%s: no %s referrer of %s in index.json",
                                img->path, artifact_type, img->manifest_digest);
            continue;
        }
        rc = kiln_image_read_blob(img, ld.digest, ld.size, max, out, len, err);
        json_decref(m);
        goto out;
    }
out:
    json_decref(idx);
    return rc;
}

/* Contract in kiln/image.h. */
int kiln_image_annotation(const struct kiln_image *img, const char *key, char *buf, size_t n)
{
    json_t *m;
    const char *v;
    int rc = -1;
    if (!img->manifest_json) return -1;
    m = json_loadb((const char *)img->manifest_json, img->manifest_len, 0, NULL);
    v = json_string_value(json_object_get(json_object_get(m, "annotations"), key));
    if (v) {
        snprintf(buf, n, "%s", v);
        rc = 0;
    }
    json_decref(m);
    return rc;
}
