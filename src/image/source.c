/*
 * source.c — where image blobs come from: an OCI layout directory or an
 * uncompressed tar (oci-archive, docker-archive).
 *
 * A tar is indexed in one pass with libarchive: for every regular member the
 * data offset (libarchive's consumed byte count right after the header) and
 * size are recorded; blobs are then read with pread. Compressed outer
 * archives, sparse members and duplicate member names are refused, so a name
 * always denotes exactly one byte range. In a directory every name is opened
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to the
 * layout's dirfd, so a symlinked blob cannot point outside the layout.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/image_internal.h"

static int openat2_beneath(int dirfd, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return r < 0 ? -errno : (int)r;
}

/* Contract in image_internal.h. */
void kiln__sha256_hex(const void *data, size_t len, char hex[65])
{
    kiln_sha256_hex(data, len, hex);
}

/* Contract in image_internal.h. */
int kiln__digest_path(const char *digest, char *path, size_t n, struct kiln_error *err)
{
    size_t i;
    if (!digest || strncmp(digest, "sha256:", 7) != 0) {
        if (digest && strchr(digest, ':'))
            return kiln_error_set(err, KILN_E_UNSUPPORTED, "digest %.80s: only sha256 is supported",
                                  digest);
        return kiln_error_set(err, KILN_E_MALFORMED, "digest %.80s: expected sha256:<hex>",
                              digest ? digest : "(null)");
    }
    for (i = 0; i < 64; i++) {
        char c = digest[7 + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return kiln_error_set(err, KILN_E_MALFORMED,
                                  "digest %.80s: expected 64 lowercase hex digits", digest);
    }
    if (digest[71] != 0)
        return kiln_error_set(err, KILN_E_MALFORMED, "digest %.80s: too long", digest);
    snprintf(path, n, "blobs/sha256/%s", digest + 7);
    return 0;
}

static const char *strip_dot_slash(const char *name)
{
    while (name[0] == '.' && name[1] == '/') {
        name += 2;
        while (*name == '/')
            name++;
    }
    return name;
}

static int index_tar(struct kiln_image_source *src, const struct kiln_image_limits *lim,
                     const char *path, struct kiln_error *err)
{
    if (kiln__archive_load(err) < 0) return -1;
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    size_t cap = 0;
    int r, rc = -1;

    if (!a) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    if (archive_read_open_fd(a, src->fd, 65536) != ARCHIVE_OK) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "%s: not an uncompressed tar archive: %s", path,
                            archive_error_string(a));
        goto fail;
    }
    for (;;) {
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc =
                kiln_error_set(err, KILN_E_MALFORMED, "%s: tar: %s", path, archive_error_string(a));
            goto fail;
        }
        if (archive_filter_count(a) > 1 && archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE) {
            rc = kiln_error_set(err, KILN_E_UNSUPPORTED,
                                "%s: compressed image archives (%s) are not supported; "
                                "decompress it first",
                                path, archive_filter_name(a, 0));
            goto fail;
        }
        const char *name = archive_entry_pathname(e);
        const char *link = NULL;
        char linkbuf[1024];
        if (!name) continue;
        name = strip_dot_slash(name);
        if (archive_entry_filetype(e) == AE_IFLNK) {
            /* docker save writes <id>/layer.tar -> ../<digest>.tar: resolve lexically
               (relative to the member's directory; no `..` beyond the top) */
            const char *t = archive_entry_symlink(e), *slash = strrchr(name, '/');
            size_t dl = slash ? (size_t)(slash - name) : 0;
            if (!t || t[0] == '/' || dl >= sizeof linkbuf) continue;
            memcpy(linkbuf, name, dl);
            linkbuf[dl] = 0;
            while (*t) {
                if (strncmp(t, "../", 3) == 0) {
                    char *up = strrchr(linkbuf, '/');
                    if (!linkbuf[0]) break;
                    if (up)
                        *up = 0;
                    else
                        linkbuf[0] = 0;
                    t += 3;
                } else if (strncmp(t, "./", 2) == 0) {
                    t += 2;
                } else {
                    size_t l = strlen(linkbuf);
                    if (l + strlen(t) + 2 > sizeof linkbuf) break;
                    snprintf(linkbuf + l, sizeof linkbuf - l, "%s%s", l ? "/" : "", t);
                    link = linkbuf;
                    break;
                }
            }
            if (!link) continue;
        } else if (archive_entry_filetype(e) != AE_IFREG) {
            continue;
        }
        if (archive_entry_sparse_count(e) > 0) {
            rc = kiln_error_set(err, KILN_E_UNSUPPORTED, "%s: member %.200s is sparse", path, name);
            goto fail;
        }
        if (kiln__source_has(src, name)) {
            rc = kiln_error_set(err, KILN_E_DENIED, "%s: duplicate member %.200s", path, name);
            goto fail;
        }
        if (src->nmembers >= lim->max_entries) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "%s: more than %llu members", path,
                                (unsigned long long)lim->max_entries);
            goto fail;
        }
        if (src->nmembers == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *p = realloc(src->members, ncap * sizeof *src->members);
            if (!p) {
                rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
                goto fail;
            }
            src->members = p;
            cap = ncap;
        }
        struct kiln__tar_member *m = &src->members[src->nmembers];
        m->name = strdup(name);
        if (!m->name) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        m->offset = (uint64_t)archive_filter_bytes(a, 0);
        m->size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
        m->link = NULL;
        if (link && !(m->link = strdup(link))) {
            free(m->name);
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        src->nmembers++;
    }
    rc = 0;
fail:
    archive_read_free(a);
    return rc;
}

/* Contract in image_internal.h. */
int kiln__source_open(const char *path, const struct kiln_image_limits *lim,
                      struct kiln_image_source **out, struct kiln_error *err)
{
    struct kiln_image_source *src = calloc(1, sizeof *src);
    struct stat st;
    int rc;

    if (!src) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    src->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src->fd < 0) {
        rc = kiln_error_sys(err, errno, "%s", path);
        goto fail;
    }
    if (fstat(src->fd, &st) != 0) {
        rc = kiln_error_sys(err, errno, "%s", path);
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        src->is_dir = 1;
    } else if (S_ISREG(st.st_mode)) {
        rc = index_tar(src, lim, path, err);
        if (rc < 0) goto fail;
    } else {
        rc =
            kiln_error_set(err, KILN_E_INVALID, "%s: neither a directory nor a regular file", path);
        goto fail;
    }
    *out = src;
    return 0;
fail:
    kiln__source_free(src);
    return rc;
}

void kiln__source_free(struct kiln_image_source *src)
{
    size_t i;
    if (!src) return;
    if (src->fd >= 0) close(src->fd);
    for (i = 0; i < src->nmembers; i++) {
        free(src->members[i].name);
        free(src->members[i].link);
    }
    free(src->members);
    free(src);
}

static struct kiln__tar_member *find_member(struct kiln_image_source *src, const char *name)
{
    size_t i;
    int hops;
    name = strip_dot_slash(name);
    for (hops = 0; hops < 8; hops++) {
        for (i = 0; i < src->nmembers; i++)
            if (strcmp(src->members[i].name, name) == 0) break;
        if (i == src->nmembers) return NULL;
        if (!src->members[i].link) return &src->members[i];
        name = src->members[i].link;
    }
    return NULL;
}

/* Contract in image_internal.h. */
int kiln__source_has(struct kiln_image_source *src, const char *name)
{
    if (src->is_dir) {
        struct stat st;
        int fd = openat2_beneath(src->fd, name, O_PATH);
        if (fd < 0) return 0;
        int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        close(fd);
        return ok;
    }
    return find_member(src, name) != NULL;
}

/* Contract in image_internal.h. */
int kiln__source_open_file(struct kiln_image_source *src, const char *name, struct kiln__blob *b,
                           struct kiln_error *err)
{
    memset(b, 0, sizeof *b);
    b->fd = -1;
    if (src->is_dir) {
        struct stat st;
        int fd = openat2_beneath(src->fd, name, O_RDONLY);
        if (fd < 0) {
            if (fd == -ENOENT)
                return kiln_error_set(err, KILN_E_INVALID, "%.200s: missing from the layout", name);
            return kiln_error_sys(err, -fd, "%.200s", name);
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return kiln_error_set(err, KILN_E_INVALID, "%.200s: not a regular file", name);
        }
        b->fd = fd;
        b->own_fd = 1;
        b->size = (uint64_t)st.st_size;
        return 0;
    }
    struct kiln__tar_member *m = find_member(src, name);
    if (!m) return kiln_error_set(err, KILN_E_INVALID, "%.200s: missing from the archive", name);
    b->fd = src->fd;
    b->offset = m->offset;
    b->size = m->size;
    return 0;
}

/* Contract in image_internal.h. */
ssize_t kiln__blob_read(struct kiln__blob *b, void *buf, size_t want)
{
    uint64_t left = b->size - b->pos;
    if (want > left) want = (size_t)left;
    if (want == 0) return 0;
    ssize_t n;
    do {
        n = pread(b->fd, buf, want, (off_t)(b->offset + b->pos));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return -EIO; /* file shorter than its index says */
    b->pos += (uint64_t)n;
    return n;
}

void kiln__blob_close(struct kiln__blob *b)
{
    if (b->own_fd && b->fd >= 0) close(b->fd);
    b->fd = -1;
    b->own_fd = 0;
}

/* Contract in image_internal.h. */
int kiln__source_read_all(struct kiln_image_source *src, const char *name, uint64_t max,
                          uint8_t **out, size_t *len, char hex[65], struct kiln_error *err)
{
    struct kiln__blob b;
    uint8_t *buf = NULL;
    size_t got = 0;
    int rc = kiln__source_open_file(src, name, &b, err);
    if (rc < 0) return rc;
    if (b.size > max) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "%.200s: %llu bytes, more than the bound of %llu",
                            name, (unsigned long long)b.size, (unsigned long long)max);
        goto fail;
    }
    buf = malloc((size_t)b.size + 1);
    if (!buf) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    while (got < b.size) {
        ssize_t n = kiln__blob_read(&b, buf + got, (size_t)b.size - got);
        if (n <= 0) {
            rc = kiln_error_sys(err, n < 0 ? (int)-n : EIO, "%.200s: read", name);
            goto fail;
        }
        got += (size_t)n;
    }
    buf[got] = 0;
    if (hex) kiln__sha256_hex(buf, got, hex);
    kiln__blob_close(&b);
    *out = buf;
    *len = got;
    return 0;
fail:
    free(buf);
    kiln__blob_close(&b);
    return rc;
}
