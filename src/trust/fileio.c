/*
 * fileio.c — whole-file reads, atomic writes (temp file + fsync + rename),
 * and base64 helpers for the trust code.
 *
 * Invariant: a file written here is never observed half-written under its
 * final name; the temporary lives in the same directory (same filesystem) and
 * is removed on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

int kiln__sodium_init(struct kiln_error *err)
{
    if (sodium_init() < 0)
        return kiln_error_set(err, KILN_E_IO, "libsodium: initialization failed");
    return 0;
}

char *kiln__b64_encode(const uint8_t *data, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    if (!s) return NULL;
    sodium_bin2base64(s, n, data, len, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

int kiln__b64_decode(const char *b64, size_t b64_len, const char *ignore, uint8_t **out,
                     size_t *out_len)
{
    size_t cap = b64_len / 4 * 3 + 3, n = 0;
    const char *end = NULL;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return -1;
    if (sodium_base642bin(buf, cap, b64, b64_len, ignore, &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != b64 + b64_len) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

bool kiln__is_hex64(const char *s)
{
    size_t i;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return s[64] == '\0';
}

int kiln__read_fd(int fd, const char *name, uint64_t max, uint8_t **out, size_t *len,
                  struct kiln_error *err)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t cap, n = 0;
    int rc;
    if (fstat(fd, &st) != 0) return kiln_error_sys(err, errno, "%s: fstat", name);
    if (!S_ISREG(st.st_mode))
        return kiln_error_set(err, KILN_E_ARG, "%s: not a regular file", name);
    if ((uint64_t)st.st_size > max)
        return kiln_error_set(err, KILN_E_ARG, "%s: %lld bytes, more than the limit of %llu", name,
                              (long long)st.st_size, (unsigned long long)max);
    cap = (size_t)st.st_size + 1;
    buf = malloc(cap);
    if (!buf)
        return kiln_error_set(err, KILN_E_NOMEM, "%s: out of memory for %zu bytes", name, cap);
    /* Read to EOF with pread from offset 0 (the fd's position is irrelevant);
     * a file that grew past its size is refused rather than half-read. */
    for (;;) {
        ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
        if (r < 0) {
            if (errno == EINTR) continue;
            rc = kiln_error_sys(err, errno, "%s: read at offset %zu", name, n);
            goto fail;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) {
            rc = kiln_error_set(err, KILN_E_IO, "%s: file grew while being read", name);
            goto fail;
        }
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    return rc;
}

int kiln_trust_read_file(const char *path, uint64_t max, uint8_t **out, size_t *len,
                         struct kiln_error *err)
{
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return kiln_error_sys(err, errno, "%s: open", path);
    rc = kiln__read_fd(fd, path, max, out, len, err);
    close(fd);
    return rc;
}

int kiln_trust_write_file(const char *path, const void *data, size_t len, unsigned mode,
                          struct kiln_error *err)
{
    char tmp[PATH_MAX];
    const uint8_t *p = data;
    size_t off = 0;
    int fd = -1, rc;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return kiln_error_set(err, KILN_E_ARG, "%s: path too long", path);
    fd = mkstemp(tmp);
    if (fd < 0) return kiln_error_sys(err, errno, "%s: create temporary file", tmp);
    if (fchmod(fd, (mode_t)mode) != 0) {
        rc = kiln_error_sys(err, errno, "%s: fchmod", tmp);
        goto fail;
    }
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            rc = kiln_error_sys(err, errno, "%s: write at offset %zu", tmp, off);
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = kiln_error_sys(err, errno, "%s: fsync", tmp);
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = kiln_error_sys(err, errno, "%s: close", tmp);
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = kiln_error_sys(err, errno, "rename %s -> %s", tmp, path);
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0) close(fd);
    unlink(tmp);
    return rc;
}
