/*
 * truststore.c — the set of public keys a verifier trusts, plus revocations.
 *
 * On disk: a directory of PEM SPKI public keys ("*.pem") and an optional file
 * "revoked" listing key ids (64 lowercase hex digits), one per line, with
 * blank lines and '#' comments. The system store's location is fixed at
 * build time (KILN_TRUST_DIR) or named by a root-owned config file
 * (KILN_TRUST_CONFIG); the environment is never consulted.
 *
 * Invariant: loading fails closed — any unreadable or malformed key file or
 * revocation line makes the whole load fail, so a damaged store never
 * silently trusts less-checked keys or forgets a revocation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "trust/trust_internal.h"

#ifndef KILN_TRUST_DIR
#define KILN_TRUST_DIR "/etc/kiln/trust"
#endif
#ifndef KILN_TRUST_CONFIG
#define KILN_TRUST_CONFIG "/etc/kiln/trust.conf"
#endif

#define REVOKED_FILE "revoked"
#define REVOKED_MAX (1u << 20)

struct entry {
    struct kiln_pubkey key;
    char *label;
};

struct kiln_trust_store {
    struct entry *keys; /* trusted keys, no duplicates by key id */
    size_t nkeys;
    char (*revoked)[KILN_KEYID_LEN + 1]; /* revoked key ids */
    size_t nrevoked;
};

const char *kiln_trust_default_dir(void)
{
    return KILN_TRUST_DIR;
}

const char *kiln_trust_config_path(void)
{
    return KILN_TRUST_CONFIG;
}

int kiln_trust_store_new(struct kiln_trust_store **out, struct kiln_error *err)
{
    struct kiln_trust_store *ts = calloc(1, sizeof *ts);
    if (!ts) return kiln_error_set(err, KILN_E_NOMEM, "trust store: out of memory");
    *out = ts;
    return 0;
}

void kiln_trust_store_free(struct kiln_trust_store *ts)
{
    size_t i;
    if (!ts) return;
    for (i = 0; i < ts->nkeys; i++)
        free(ts->keys[i].label);
    free(ts->keys);
    free(ts->revoked);
    free(ts);
}

size_t kiln_trust_store_count(const struct kiln_trust_store *ts)
{
    return ts ? ts->nkeys : 0;
}

int kiln_trust_store_add(struct kiln_trust_store *ts, const struct kiln_pubkey *key,
                         const char *label, struct kiln_error *err)
{
    struct entry *e;
    size_t i;
    for (i = 0; i < ts->nkeys; i++)
        if (strcmp(ts->keys[i].key.keyid, key->keyid) == 0)
            return 0; /* the same key twice (e.g. two file names) */
    e = realloc(ts->keys, (ts->nkeys + 1) * sizeof *e);
    if (!e) return kiln_error_set(err, KILN_E_NOMEM, "trust store: out of memory");
    ts->keys = e;
    e[ts->nkeys].key = *key;
    e[ts->nkeys].label = label ? strdup(label) : NULL;
    if (label && !e[ts->nkeys].label)
        return kiln_error_set(err, KILN_E_NOMEM, "trust store: out of memory");
    ts->nkeys++;
    return 0;
}

int kiln_trust_store_revoke(struct kiln_trust_store *ts, const char *keyid, struct kiln_error *err)
{
    char(*r)[KILN_KEYID_LEN + 1];
    if (!kiln__is_hex64(keyid))
        return kiln_error_set(err, KILN_E_INVALID,
                              "revocation: \"%.80s\" is not a key id (64 lowercase hex digits)",
                              keyid);
    r = realloc(ts->revoked, (ts->nrevoked + 1) * sizeof *r);
    if (!r) return kiln_error_set(err, KILN_E_NOMEM, "trust store: out of memory");
    ts->revoked = r;
    memcpy(r[ts->nrevoked++], keyid, KILN_KEYID_LEN + 1);
    return 0;
}

enum kiln_trust_status kiln_trust_store_lookup(const struct kiln_trust_store *ts, const char *keyid,
                                               const struct kiln_pubkey **key, const char **label)
{
    size_t i;
    for (i = 0; i < ts->nrevoked; i++)
        if (strcmp(ts->revoked[i], keyid) == 0) return KILN_TRUST_REVOKED;
    for (i = 0; i < ts->nkeys; i++)
        if (strcmp(ts->keys[i].key.keyid, keyid) == 0) {
            if (key) *key = &ts->keys[i].key;
            if (label) *label = ts->keys[i].label;
            return KILN_TRUST_TRUSTED;
        }
    return KILN_TRUST_UNKNOWN;
}

static int load_revoked(struct kiln_trust_store *ts, const char *path, struct kiln_error *err)
{
    uint8_t *buf;
    size_t n, lineno = 0;
    char *line, *save = NULL;
    int rc = kiln_trust_read_file(path, REVOKED_MAX, &buf, &n, err);
    if (rc < 0) return rc;
    for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s = line, *e;
        lineno++;
        while (*s == ' ' || *s == '\t')
            s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = 0;
        if (*s == 0 || *s == '#') continue;
        rc = kiln_trust_store_revoke(ts, s, err);
        if (rc < 0) {
            kiln_error_prefix(err, "%s: line %zu", path, lineno);
            break;
        }
    }
    free(buf);
    return rc;
}

int kiln_trust_store_load_dir(struct kiln_trust_store *ts, const char *dir, struct kiln_error *err)
{
    char path[4096];
    struct dirent *d;
    DIR *dp = opendir(dir);
    int rc = 0;
    if (!dp) return kiln_error_sys(err, errno, "trust store %s", dir);
    while ((d = readdir(dp)) != NULL) {
        size_t len = strlen(d->d_name);
        struct kiln_pubkey key;
        if (d->d_name[0] == '.' || len < 5 || strcmp(d->d_name + len - 4, ".pem") != 0) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, d->d_name) >= (int)sizeof path) {
            rc = kiln_error_set(err, KILN_E_ARG, "%s/%s: path too long", dir, d->d_name);
            goto done;
        }
        rc = kiln_key_load_public(path, &key, err);
        if (rc < 0) goto done;
        rc = kiln_trust_store_add(ts, &key, d->d_name, err);
        if (rc < 0) goto done;
    }
    snprintf(path, sizeof path, "%s/%s", dir, REVOKED_FILE);
    if (access(path, F_OK) == 0) rc = load_revoked(ts, path, err);
done:
    closedir(dp);
    return rc;
}

/* Reads "trust_dir = /abs/path" from the root-owned config file. Returns 1 and
 * fills dir, 0 if the file does not exist, negative on error. */
static int read_config(const char *path, char *dir, size_t dirlen, struct kiln_error *err)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t n;
    char *line, *save = NULL;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        return kiln_error_sys(err, errno, "trust config %s", path);
    }
    if (fstat(fd, &st) != 0) {
        rc = kiln_error_sys(err, errno, "trust config %s: fstat", path);
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
        close(fd);
        return kiln_error_set(err, KILN_E_DENIED,
                              "trust config %s: must be a regular file owned by root and not "
                              "writable by group or others",
                              path);
    }
    rc = kiln__read_fd(fd, path, 65536, &buf, &n, err);
    close(fd);
    if (rc < 0) return rc;
    rc = kiln_error_set(err, KILN_E_MALFORMED, "trust config %s: no \"trust_dir = /path\" line",
                        path);
    for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *s = line, *e;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || strncmp(s, "trust_dir", 9) != 0) continue;
        s += 9;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s++ != '=') continue;
        while (*s == ' ' || *s == '\t')
            s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = 0;
        if (*s != '/' || strlen(s) >= dirlen) {
            rc = kiln_error_set(err, KILN_E_INVALID,
                                "trust config %s: trust_dir must be an absolute path", path);
            break;
        }
        strcpy(dir, s);
        rc = 1;
        break;
    }
    free(buf);
    return rc;
}

int kiln__trust_store_open_system(const char *config, const char *default_dir,
                                  struct kiln_trust_store **out, struct kiln_error *err)
{
    char dir[4096];
    struct stat st;
    struct kiln_trust_store *ts = NULL;
    int rc = read_config(config, dir, sizeof dir, err);
    if (rc < 0) return rc;
    if (rc == 0) snprintf(dir, sizeof dir, "%s", default_dir);
    if (stat(dir, &st) != 0) return kiln_error_sys(err, errno, "trust store %s", dir);
    if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
        return kiln_error_set(err, KILN_E_DENIED,
                              "trust store %s: must be a directory owned by root and not "
                              "writable by group or others",
                              dir);
    rc = kiln_trust_store_new(&ts, err);
    if (rc < 0) return rc;
    rc = kiln_trust_store_load_dir(ts, dir, err);
    if (rc < 0) {
        kiln_trust_store_free(ts);
        return rc;
    }
    *out = ts;
    return 0;
}

int kiln_trust_store_open_default(struct kiln_trust_store **out, struct kiln_error *err)
{
    return kiln__trust_store_open_system(KILN_TRUST_CONFIG, KILN_TRUST_DIR, out, err);
}
