/*
 * image_internal.h — shared between the files of src/image/.
 *
 * A struct kiln_image_source says where blobs come from: a directory (OCI
 * layout: blobs/sha256/HEX opened beneath the layout's dirfd) or an
 * uncompressed tar file, indexed once (name -> data offset, length) so every
 * blob is read with pread from the single open fd. Nothing read from the
 * source is trusted until its digest was checked by the caller.
 */
#ifndef KILN_IMAGE_INTERNAL_H
#define KILN_IMAGE_INTERNAL_H

#include <sodium.h>
#include <stdint.h>

#include "kiln/image.h"
#include "kiln/unit.h" /* kiln_sha256_* */

struct kiln__tar_member {
    char *name;      /* normalized: no leading "./" */
    uint64_t offset; /* of the data in the tar file */
    uint64_t size;
    char *link; /* a symlink member: the normalized member it names, else NULL */
};

struct kiln_image_source {
    int is_dir;
    int fd; /* layout dirfd or tar fd */
    struct kiln__tar_member *members;
    size_t nmembers;
};

/* A byte range of the source, read sequentially. */
struct kiln__blob {
    int fd; /* owned iff own_fd */
    int own_fd;
    uint64_t offset, size, pos; /* pos: bytes consumed so far */
};

/* Opens the source at path (directory or tar). */
int kiln__source_open(const char *path, const struct kiln_image_limits *lim,
                      struct kiln_image_source **out, struct kiln_error *err);
void kiln__source_free(struct kiln_image_source *src);

/* Opens a file of the source by name (a tar member name, or a path beneath a
 * layout directory). Returns 0, or KILN_E_INVALID "missing" when absent. */
int kiln__source_open_file(struct kiln_image_source *src, const char *name, struct kiln__blob *b,
                           struct kiln_error *err);

/* True if the source has a file of that name. */
int kiln__source_has(struct kiln_image_source *src, const char *name);

/* Checks "sha256:<64 lowercase hex>" and writes "blobs/sha256/<hex>". */
int kiln__digest_path(const char *digest, char *path, size_t n, struct kiln_error *err);

/* Reads up to want bytes at the blob's current position. Returns bytes read
 * (0 at the end) or -errno. */
ssize_t kiln__blob_read(struct kiln__blob *b, void *buf, size_t want);
void kiln__blob_close(struct kiln__blob *b);

/* Reads a whole file of the source (at most max bytes) into a malloc'd
 * NUL-terminated buffer; hex (if non-NULL) gets its SHA-256. */
int kiln__source_read_all(struct kiln_image_source *src, const char *name, uint64_t max,
                          uint8_t **out, size_t *len, char hex[65], struct kiln_error *err);

/* Loads libarchive (archive_dl.c) once; every entry point that uses
 * archive_* calls it first. Returns 0 or KILN_E_IO naming what failed. */
int kiln__archive_load(struct kiln_error *err);

/* Lowercase hex SHA-256 of data (streams use kiln_sha256_init/update/
 * final_hex from kiln/unit.h: SHA extensions when the CPU has them). */
void kiln__sha256_hex(const void *data, size_t len, char hex[65]);

#endif
