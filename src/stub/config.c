/*
 * config.c — the stub's root-owned config file (format in main.c).
 *
 * The file is opened with O_NOFOLLOW and checked on the open fd (fstat), so
 * what is checked is what is read. It is trusted only when root owns it and
 * nobody else may write it; a present but unsafe file is an error (the stub
 * then refuses to run anything) rather than being ignored.
 *
 * The same rules hold for the container's policy file (KILN_STUB_KILND_DIR/
 * policy.json, written by kiln-oci in the embedded placement; see main.c):
 * present but unreadable, unsafe or oversized is an error, never "no policy".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/stub.h"

#define CONFIG_MAX 65536
#define CONTAINER_POLICY_MAX (1 << 20)

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

/* Parses one "key = value" line into *out. */
static int parse_line(const char *path, int lineno, char *line, struct kiln_stub_config *out,
                      struct kiln_error *err)
{
    char *eq = strchr(line, '='), *key, *val;
    if (eq == NULL)
        return kiln_error_set(err, KILN_E_MALFORMED, "%s:%d: expected \"key = value\"", path,
                              lineno);
    *eq = 0;
    key = trim(line);
    val = trim(eq + 1);
    if (strcmp(key, "audit") == 0) {
        if (val[0] != '/' || strlen(val) >= sizeof out->audit)
            return kiln_error_set(err, KILN_E_INVALID, "%s:%d: audit must be an absolute path",
                                  path, lineno);
        strcpy(out->audit, val);
        return 0;
    }
    return kiln_error_set(err, KILN_E_MALFORMED, "%s:%d: unknown key \"%s\"", path, lineno, key);
}

/* Reads the root-owned file at path whole into a malloc'd, NUL-terminated
 * *text of *len bytes (at most max). Refused (KILN_E_DENIED) unless it is a
 * regular file (not a symlink) owned by root and writable by no one else.
 * what prefixes every message ("stub config " or ""). Returns 1, 0 if the
 * file does not exist (*text NULL), or negative with *err. */
static int read_root_file(const char *path, const char *what, size_t max, char **text, size_t *len,
                          struct kiln_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    int fd, rc;

    *text = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return kiln_error_sys(err, errno, "%s%s: cannot be read", what, path);
    }
    if (fstat(fd, &st) != 0) {
        rc = kiln_error_sys(err, errno, "%s%s: fstat", what, path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
        rc = kiln_error_set(err, KILN_E_DENIED,
                            "%s%s: must be a regular file owned by root and not "
                            "writable by group or others",
                            what, path);
        goto fail;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "%s%s: size %lld: larger than %zu bytes", what,
                            path, (long long)st.st_size, max);
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "%s%s: out of memory", what, path);
        goto fail;
    }
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = kiln_error_sys(err, errno, "%s%s: cannot be read", what, path);
            goto fail;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n != (size_t)st.st_size) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "%s%s: short read", what, path);
        goto fail;
    }
    buf[n] = 0;
    close(fd);
    *text = buf;
    *len = n;
    return 1;
fail:
    free(buf);
    close(fd);
    return rc;
}

/* Loads the config; see stub.h. */
int kiln_stub_config_load(const char *path, struct kiln_stub_config *out, struct kiln_error *err)
{
    struct kiln_stub_config cfg;
    char *buf, *line, *save = NULL;
    size_t n;
    int rc, lineno = 0;

    memset(&cfg, 0, sizeof cfg);
    rc = read_root_file(path, "stub config ", CONFIG_MAX, &buf, &n, err);
    if (rc <= 0) {
        if (rc == 0) *out = cfg;
        return rc;
    }
    rc = 0;
    if (memchr(buf, 0, n) != NULL) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "stub config %s: NUL byte", path);
        goto fail;
    }
    /* strtok_r skips empty lines, so count lines by hand */
    for (line = buf; line != NULL; line = save) {
        char *t;
        save = strchr(line, '\n');
        if (save != NULL) *save++ = 0;
        lineno++;
        t = trim(line);
        if (*t == 0 || *t == '#') continue;
        rc = parse_line(path, lineno, t, &cfg, err);
        if (rc < 0) goto fail;
    }
    *out = cfg;
fail:
    free(buf);
    return rc;
}

/* Reads the container's policy file; see stub.h. */
int kiln_stub_container_policy_read(const char *path, char **text, size_t *len,
                                    struct kiln_error *err)
{
    int rc = read_root_file(path, "", CONTAINER_POLICY_MAX, text, len, err);
    if (rc == 1 && *len == 0) {
        free(*text);
        *text = NULL;
        return kiln_error_set(err, KILN_E_MALFORMED, "%s: size 0 (expected 1..%d bytes)", path,
                              CONTAINER_POLICY_MAX);
    }
    return rc;
}
