/*
 * writer.c — a new OCI image layout from an opened image plus one new top
 * layer (kiln convert's output), optionally with an OCI 1.1 referrer.
 *
 * Layout written (docs/image.md):
 *   oci-layout, index.json           -> [image manifest (ref name), referrer]
 *   blobs/sha256/<original layers>   copied, re-hashed, checked on the way
 *   blobs/sha256/<new layer>         gzip(tar(entries)), fixed mtimes/owners
 *   blobs/sha256/<config>            original config + diff_id + history entry
 *   blobs/sha256/<manifest>          OCI image manifest with annotations
 *   blobs/sha256/<artifact manifest> subject = the image manifest (optional)
 *
 * Invariants: everything goes into a temporary directory beside the target
 * and is renamed into place only when complete (for an oci-archive the tar is
 * written beside the target and renamed); on failure both are removed. Every
 * blob's name is the SHA-256 of the bytes actually written.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/image_internal.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

/* docker layer media types -> OCI equivalents */
static const char *const layer_map[][2] = {
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", MT_LAYER_GZIP},
    {"application/vnd.docker.image.rootfs.diff.tar", MT_LAYER_TAR},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
    {"", MT_LAYER_TAR}, /* legacy docker-archive: uncompressed tar */
    {NULL, NULL}};

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static int buf_put(struct buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t nc = (b->cap + n) * 2;
        uint8_t *q = realloc(b->p, nc);
        if (!q) return -1;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    return 0;
}

static la_ssize_t buf_write_cb(struct archive *a, void *ud, const void *d, size_t n)
{
    if (buf_put(ud, d, n) < 0) {
        archive_set_error(a, ENOMEM, "out of memory");
        return -1;
    }
    return (la_ssize_t)n;
}

struct wctx {
    struct kiln_error *err;
    int blobfd; /* <tmp>/blobs/sha256 */
};

/* Writes data as a blob; digest gets "sha256:HEX". */
static int put_blob(struct wctx *w, const void *data, size_t len, char digest[KILN_DIGEST_MAX])
{
    char hex[65];
    kiln__sha256_hex(data, len, hex);
    int fd = openat(w->blobfd, hex, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return kiln_error_sys(w->err, errno, "write blob %s", hex);
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return kiln_error_sys(w->err, e, "write blob %s", hex);
        }
        p += n;
        left -= (size_t)n;
    }
    if (close(fd) != 0) return kiln_error_sys(w->err, errno, "write blob %s", hex);
    snprintf(digest, KILN_DIGEST_MAX, "sha256:%s", hex);
    return 0;
}

/* Copies layer l of img into the blob directory, checking its digest. */
static int copy_layer(struct wctx *w, struct kiln_image *img, const struct kiln_image_layer *l,
                      char digest[KILN_DIGEST_MAX], uint64_t *size, uint64_t *copied,
                      const char **media_type)
{
    uint8_t magic[4] = {0};
    struct kiln__blob b;
    struct kiln_sha256 st;
    char hex[65], tmpname[64];
    static uint8_t chunk[1 << 16];
    const char *want = l->digest[0] ? l->digest : l->diff_id;
    int fd = -1, rc;

    rc = kiln__source_open_file(img->src, l->source_name, &b, w->err);
    if (rc < 0) return rc;
    snprintf(tmpname, sizeof tmpname, ".copy-%08x", randombytes_random());
    fd = openat(w->blobfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = kiln_error_sys(w->err, errno, "layer %s: copy", want);
        goto fail;
    }
    kiln_sha256_init(&st);
    for (;;) {
        ssize_t n = kiln__blob_read(&b, chunk, sizeof chunk);
        if (n < 0) {
            rc = kiln_error_sys(w->err, (int)-n, "layer %s: read", want);
            goto fail;
        }
        if (n == 0) break;
        if (b.pos == (uint64_t)n) memcpy(magic, chunk, n < 4 ? (size_t)n : 4);
        kiln_sha256_update(&st, chunk, (size_t)n);
        if (img->opt.progress && (b.pos & ((4u << 20) - 1)) < (uint64_t)n) /* every 4 MiB */
            img->opt.progress(img->opt.progress_ctx, "copy", want, b.pos, b.size);
        for (ssize_t off = 0; off < n;) {
            ssize_t m = write(fd, chunk + off, (size_t)(n - off));
            if (m < 0) {
                if (errno == EINTR) continue;
                rc = kiln_error_sys(w->err, errno, "layer %s: write", want);
                goto fail;
            }
            off += m;
        }
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = kiln_error_sys(w->err, errno, "layer %s: write", want);
        goto fail;
    }
    fd = -1;
    kiln_sha256_final_hex(&st, hex);
    /* a legacy docker-archive layer has no blob digest, only a diff_id: an
       uncompressed one must hash to it; a compressed one (Docker 25+ files read
       through manifest.json) was checked against it when it was extracted */
    int compressed = (magic[0] == 0x1f && magic[1] == 0x8b) ||
                     (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd);
    if (!l->digest[0])
        *media_type = !compressed        ? "application/vnd.oci.image.layer.v1.tar"
                      : magic[0] == 0x1f ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                         : "application/vnd.oci.image.layer.v1.tar+zstd";
    if ((l->digest[0] || !compressed) && strcmp(hex, want + 7) != 0) {
        rc = kiln_error_set(w->err, KILN_E_VERIFY,
                            "layer %s: digest mismatch while copying (content hashes to sha256:%s)",
                            want, hex);
        goto fail;
    }
    if (renameat(w->blobfd, tmpname, w->blobfd, hex) != 0) {
        rc = kiln_error_sys(w->err, errno, "layer %s: rename", want);
        goto fail;
    }
    snprintf(digest, KILN_DIGEST_MAX, "sha256:%s", hex);
    *size = b.size;
    *copied += b.size;
    kiln__blob_close(&b);
    return 0;
fail:
    if (fd >= 0) close(fd);
    unlinkat(w->blobfd, tmpname, 0);
    kiln__blob_close(&b);
    return rc;
}

/* tar(entries) then gzip; diff_id of the tar, digest of the gzip. */
static int make_layer(struct wctx *w, const struct kiln_image_write_spec *spec, struct buf *gz,
                      char diff_id[KILN_DIGEST_MAX])
{
    struct buf tar = {0};
    struct archive *a = archive_write_new(), *z = NULL;
    struct archive_entry *e = archive_entry_new();
    char hex[65];
    int rc = -1;

    if (!a || !e) {
        rc = kiln_error_set(w->err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open(a, &tar, NULL, buf_write_cb, NULL) != ARCHIVE_OK) goto arch;
    for (size_t i = 0; i < spec->nentries; i++) {
        const struct kiln_image_entry *en = &spec->entries[i];
        const char *p = en->path;
        while (*p == '/')
            p++;
        if (!*p || strstr(p, "..")) {
            rc = kiln_error_set(w->err, KILN_E_ARG, "new layer: bad path %.200s", en->path);
            goto fail;
        }
        archive_entry_clear(e);
        archive_entry_set_pathname(e, p);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, en->uid);
        archive_entry_set_gid(e, en->gid);
        if (S_ISDIR(en->mode)) {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, en->mode & 07777);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, en->mode & 07777);
            archive_entry_set_size(e, (la_int64_t)en->len);
        }
        if (archive_write_header(a, e) != ARCHIVE_OK) goto arch;
        if (!S_ISDIR(en->mode) && en->len &&
            archive_write_data(a, en->data, en->len) != (la_ssize_t)en->len)
            goto arch;
    }
    if (archive_write_close(a) != ARCHIVE_OK) goto arch;
    kiln__sha256_hex(tar.p, tar.n, hex);
    snprintf(diff_id, KILN_DIGEST_MAX, "sha256:%s", hex);

    z = archive_write_new();
    if (!z) {
        rc = kiln_error_set(w->err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    archive_write_set_format_raw(z);
    archive_write_add_filter_gzip(z);
    archive_write_set_filter_option(z, "gzip", "timestamp", NULL); /* reproducible */
    /* level 1: 2x faster than the default 6 for 8 % more bytes (a 2 MB unit: 0.95 vs 0.88 MB) */
    archive_write_set_filter_option(z, "gzip", "compression-level", "1");
    archive_write_set_bytes_per_block(z, 0);
    if (archive_write_open(z, gz, NULL, buf_write_cb, NULL) != ARCHIVE_OK) {
        a = z, z = NULL;
        goto arch2;
    }
    archive_entry_clear(e);
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, (la_int64_t)tar.n);
    if (archive_write_header(z, e) != ARCHIVE_OK ||
        archive_write_data(z, tar.p, tar.n) != (la_ssize_t)tar.n ||
        archive_write_close(z) != ARCHIVE_OK) {
        rc = kiln_error_set(w->err, KILN_E_IO, "new layer: gzip: %s", archive_error_string(z));
        goto fail;
    }
    rc = 0;
    goto fail;
arch:
arch2:
    rc = kiln_error_set(w->err, KILN_E_IO, "new layer: tar: %s", archive_error_string(a));
fail:
    if (a) archive_write_free(a);
    if (z) archive_write_free(z);
    if (e) archive_entry_free(e);
    free(tar.p);
    return rc;
}

static json_t *desc(const char *mt, const char *digest, uint64_t size)
{
    return json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)size);
}

static json_t *annotations(const char *const *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        json_object_set_new(o, kv[i], json_string(kv[i + 1]));
    return o;
}

static int put_json(struct wctx *w, json_t *j, char digest[KILN_DIGEST_MAX], uint64_t *size)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    int rc;
    if (!s) return kiln_error_set(w->err, KILN_E_NOMEM, "out of memory");
    rc = put_blob(w, s, strlen(s), digest);
    if (size) *size = strlen(s);
    free(s);
    return rc;
}

/* Tars the layout directory dirfd (its files only: oci-layout, index.json,
 * blobs/sha256/<*>) into the file tarpath. */
static int archive_layout(struct wctx *w, int parentfd, const char *tmpdir, const char *tarname)
{
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    char path[600];
    int tfd = -1, rc = -1;
    static uint8_t chunk[1 << 16];
    const char *fixed[] = {"oci-layout", "index.json", NULL};

    tfd = openat(parentfd, tarname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (!a || !e || tfd < 0) {
        rc = kiln_error_sys(w->err, tfd < 0 ? errno : ENOMEM, "%s", tarname);
        goto fail;
    }
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_fd(a, tfd) != ARCHIVE_OK) goto arch;
    const char *dirs[] = {"blobs", "blobs/sha256", NULL};
    for (int i = 0; dirs[i]; i++) {
        archive_entry_clear(e);
        archive_entry_set_pathname(e, dirs[i]);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, 0, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK) goto arch;
    }
    /* files: the fixed ones, then every blob */
    int bdir = openat(parentfd, tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int bfd = bdir >= 0 ? openat(bdir, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    DIR *d = bfd >= 0 ? fdopendir(bfd) : NULL;
    struct dirent *de;
    int idx = 0;
    for (;;) {
        const char *name;
        int srcdir;
        if (fixed[idx]) {
            name = fixed[idx++];
            srcdir = bdir;
            snprintf(path, sizeof path, "%s", name);
        } else {
            if (!d || !(de = readdir(d))) break;
            if (de->d_name[0] == '.') continue;
            name = de->d_name;
            srcdir = bfd;
            snprintf(path, sizeof path, "blobs/sha256/%s", name);
        }
        int fd = openat(srcdir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            if (fd >= 0) close(fd);
            rc = kiln_error_sys(w->err, errno, "%s", path);
            if (d) closedir(d);
            if (bdir >= 0) close(bdir);
            goto fail;
        }
        archive_entry_clear(e);
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_size(e, st.st_size);
        int ok = archive_write_header(a, e) == ARCHIVE_OK;
        ssize_t n;
        while (ok && (n = read(fd, chunk, sizeof chunk)) > 0)
            ok = archive_write_data(a, chunk, (size_t)n) == n;
        close(fd);
        if (!ok) {
            if (d) closedir(d);
            if (bdir >= 0) close(bdir);
            goto arch;
        }
    }
    if (d) closedir(d);
    if (bdir >= 0) close(bdir);
    if (archive_write_close(a) != ARCHIVE_OK) goto arch;
    rc = 0;
    goto fail;
arch:
    rc = kiln_error_set(w->err, KILN_E_IO, "%s: %s", tarname, archive_error_string(a));
fail:
    if (a) archive_write_free(a);
    if (e) archive_entry_free(e);
    if (tfd >= 0 && close(tfd) != 0 && rc == 0) rc = kiln_error_sys(w->err, errno, "%s", tarname);
    return rc;
}

/* Contract in kiln/image.h. */
int kiln_image_write(struct kiln_image *img, const struct kiln_image_write_spec *spec,
                     const char *out, struct kiln_image_written *res, struct kiln_error *err)
{
    struct wctx w = {err, -1};
    struct kiln_image_written r;
    struct buf gz = {0};
    json_t *cfg = NULL, *layers = NULL, *man = NULL, *idx = NULL, *art = NULL;
    char *dcopy = strdup(out), *bcopy = strdup(out);
    char tmpname[300], tarname[320], cfg_digest[KILN_DIGEST_MAX];
    uint64_t cfg_size = 0;
    int parentfd = -1, tmpfd = -1, made = 0, made_tar = 0, rc;
    const char *bname;
    struct stat st;

    memset(&r, 0, sizeof r);
    if (!dcopy || !bcopy) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    rc = kiln__archive_load(err);
    if (rc < 0) goto fail;
    bname = basename(bcopy);
    parentfd = open(dirname(dcopy), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parentfd < 0) {
        rc = kiln_error_sys(err, errno, "%s: parent directory", out);
        goto fail;
    }
    if (fstatat(parentfd, bname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        rc = kiln_error_set(err, KILN_E_ARG, "%s: already exists", out);
        goto fail;
    }
    snprintf(tmpname, sizeof tmpname, ".%.200s.kiln-%08x", bname, randombytes_random());
    if (mkdirat(parentfd, tmpname, 0755) != 0) {
        rc = kiln_error_sys(err, errno, "%s: temporary directory", out);
        goto fail;
    }
    made = 1;
    tmpfd = openat(parentfd, tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tmpfd < 0 || mkdirat(tmpfd, "blobs", 0755) != 0 ||
        mkdirat(tmpfd, "blobs/sha256", 0755) != 0 ||
        (w.blobfd = openat(tmpfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = kiln_error_sys(err, errno, "%s: temporary directory", out);
        goto fail;
    }

    /* layers: originals, then the new one */
    layers = json_array();
    for (size_t i = 0; i < img->nlayers; i++) {
        const struct kiln_image_layer *l = &img->layers[i];
        char dg[KILN_DIGEST_MAX];
        uint64_t size = 0;
        const char *mt = l->media_type;
        for (int k = 0; layer_map[k][0]; k++)
            if (strcmp(mt, layer_map[k][0]) == 0) mt = layer_map[k][1];
        rc = copy_layer(&w, img, l, dg, &size, &r.bytes_copied, &mt);
        if (rc < 0) goto fail;
        if (img->opt.progress) img->opt.progress(img->opt.progress_ctx, "copy", dg, size, size);
        json_array_append_new(layers, desc(mt, dg, size));
    }
    rc = make_layer(&w, spec, &gz, r.layer_diff_id);
    if (rc < 0) goto fail;
    rc = put_blob(&w, gz.p, gz.n, r.layer_digest);
    if (rc < 0) goto fail;
    r.layer_size = gz.n;
    json_array_append_new(layers, desc(MT_LAYER_GZIP, r.layer_digest, r.layer_size));

    /* config: the original with our diff_id and history entry */
    {
        json_error_t je;
        cfg = json_loadb((const char *)img->config_json, img->config_len, 0, &je);
        if (!json_is_object(cfg)) {
            rc = kiln_error_set(err, KILN_E_MALFORMED, "config: %s", je.text);
            goto fail;
        }
        json_t *rootfs = json_object_get(cfg, "rootfs");
        if (!json_is_object(rootfs)) {
            rootfs = json_pack("{s:s,s:[]}", "type", "layers", "diff_ids");
            json_object_set_new(cfg, "rootfs", rootfs);
        }
        json_t *ids = json_object_get(rootfs, "diff_ids");
        if (!json_is_array(ids)) {
            ids = json_array();
            json_object_set_new(rootfs, "diff_ids", ids);
        }
        json_array_append_new(ids, json_string(r.layer_diff_id));
        json_t *hist = json_object_get(cfg, "history");
        if (json_is_array(hist))
            json_array_append_new(hist,
                                  json_pack("{s:s,s:s}", "created_by",
                                            spec->created_by ? spec->created_by : "kiln", "comment",
                                            "kiln: signed units, policy, attestation"));
        rc = put_json(&w, cfg, cfg_digest, &cfg_size);
        if (rc < 0) goto fail;
    }

    man = json_pack("{s:i,s:s,s:o,s:O}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST, "config",
                    desc(MT_OCI_CONFIG, cfg_digest, cfg_size), "layers", layers);
    if (spec->annotations) json_object_set_new(man, "annotations", annotations(spec->annotations));
    rc = put_json(&w, man, r.manifest_digest, &r.manifest_size);
    if (rc < 0) goto fail;

    json_t *mdesc = desc(MT_OCI_MANIFEST, r.manifest_digest, r.manifest_size);
    json_object_set_new(
        mdesc, "annotations",
        json_pack("{s:s}", "org.opencontainers.image.ref.name", spec->ref ? spec->ref : "latest"));
    idx = json_pack("{s:i,s:s,s:[o]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests",
                    mdesc);
    if (spec->referrer) {
        const struct kiln_image_referrer *ref = spec->referrer;
        char bdg[KILN_DIGEST_MAX], edg[KILN_DIGEST_MAX];
        uint64_t asz;
        if ((rc = put_blob(&w, ref->data, ref->len, bdg)) < 0 ||
            (rc = put_blob(&w, "{}", 2, edg)) < 0)
            goto fail;
        art = json_pack("{s:i,s:s,s:s,s:o,s:[o],s:o}", "schemaVersion", 2, "mediaType",
                        MT_OCI_MANIFEST, "artifactType", ref->artifact_type, "config",
                        desc(MT_OCI_EMPTY, edg, 2), "layers", desc(ref->media_type, bdg, ref->len),
                        "subject", desc(MT_OCI_MANIFEST, r.manifest_digest, r.manifest_size));
        if (ref->annotations)
            json_object_set_new(art, "annotations", annotations(ref->annotations));
        rc = put_json(&w, art, r.referrer_digest, &asz);
        if (rc < 0) goto fail;
        json_t *adesc = desc(MT_OCI_MANIFEST, r.referrer_digest, asz);
        json_object_set_new(adesc, "artifactType", json_string(ref->artifact_type));
        json_array_append_new(json_object_get(idx, "manifests"), adesc);
    }
    {
        char *s = json_dumps(idx, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        int ok = s != NULL;
        int fd =
            ok ? openat(tmpfd, "index.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
        ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);
        if (fd >= 0 && close(fd) != 0) ok = 0;
        free(s);
        fd = openat(tmpfd, "oci-layout", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, layout, sizeof layout - 1) != (ssize_t)sizeof layout - 1) ok = 0;
        if (fd >= 0 && close(fd) != 0) ok = 0;
        if (!ok) {
            rc = kiln_error_sys(err, errno ? errno : ENOMEM, "%s: index.json", out);
            goto fail;
        }
    }
    if (spec->format == KILN_IMAGE_OCI_ARCHIVE) {
        snprintf(tarname, sizeof tarname, "%s.tar", tmpname);
        made_tar = 1;
        rc = archive_layout(&w, parentfd, tmpname, tarname);
        if (rc < 0) goto fail;
        if (syscall(SYS_renameat2, parentfd, tarname, parentfd, bname, 1 /* NOREPLACE */) != 0) {
            rc = kiln_error_sys(err, errno, "%s: rename into place", out);
            goto fail;
        }
        made_tar = 0;
    } else {
        if (syscall(SYS_renameat2, parentfd, tmpname, parentfd, bname, 1 /* NOREPLACE */) != 0) {
            rc = kiln_error_sys(err, errno, "%s: rename into place", out);
            goto fail;
        }
        made = 0;
    }
    if (res) *res = r;
    rc = 0;
fail:
    if (w.blobfd >= 0) close(w.blobfd);
    if (tmpfd >= 0) close(tmpfd);
    if (made) (void)kiln_image_remove_tree_at(parentfd, tmpname);
    if (made_tar) (void)unlinkat(parentfd, tarname, 0);
    if (parentfd >= 0) close(parentfd);
    json_decref(cfg);
    json_decref(layers);
    json_decref(man);
    json_decref(idx);
    json_decref(art);
    free(gz.p);
    free(dcopy);
    free(bcopy);
    return rc;
}
