/*
 * kilnd.c — kiln-oci and kilnd (docs/containerd.md "kilnd", docs/kilnd-protocol.md):
 * kiln-oci's own config file, the id a container has in kilnd, and the
 * container's registration with kilnd.
 *
 * Config file (KILN_OCI_CONFIG, default /etc/kiln/oci.json; optional; when
 * present a regular file owned by root and not writable by group or others,
 * else every create is refused):
 *
 *   {"kilnd": {"socket": "/run/kilnd.sock",          kilnd serve --socket
 *              "config": "/etc/kilnd/containers",    kilnd serve --config
 *              "state":  "/var/lib/kilnd"}}          kilnd serve --state (informational)
 *
 * With "kilnd", every container whose entry is a verified unit runs in the
 * daemon placement unless its annotation dev.kiln.kilnd is "false":
 *   create   registers it (CONFIG/<kilnd id>.json: rootfs, the process uid,
 *            the unit's signed policy, requireSigned) and mounts a read-only
 *            tmpfs at /run/kiln in the container with kilnd.sock (a bind
 *            mount of the socket) and kilnd.id — what kiln-stub looks for;
 *   delete   removes the registration. kilnd writes the run attestation when
 *            the container's last unit disconnects (its exit).
 * Containers that allow native programs (dev.kiln.allow-native) are never
 * attached: a native process must not reach kilnd as the container.
 *
 * The kilnd id: "<basename of --root>.<id>" (containerd's namespace and the
 * container id, e.g. "k8s.io.web1") when that is a valid kilnd id (1-64 of
 * [A-Za-z0-9._-], not starting with '.'), else "oci-" and the first 40 hex
 * digits of SHA-256(root "\0" id) — so equal ids under two roots never share
 * a kilnd container.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "oci/oci.h"

#define KILND_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/* Copies the string member key of o into out (absolute path required). */
static int path_member(const char *file, json_t *o, const char *key, bool required, char *out,
                       size_t len, struct kiln_error *err)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);
    out[0] = 0;
    if (v == NULL && !required) return 0;
    if (s == NULL || s[0] != '/' || strlen(s) >= len)
        return kiln_error_set(err, KILN_E_MALFORMED, "%s: $.kilnd.%s: an absolute path expected",
                              file, key);
    strcpy(out, s);
    return 0;
}

/* See oci.h. */
int oci_config_load(const char *path, struct oci_config *out, struct kiln_error *err)
{
    struct oci_config c;
    struct stat st;
    json_error_t je;
    json_t *j = NULL, *k;
    int fd, rc;

    memset(&c, 0, sizeof c);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            *out = c;
            return 0;
        }
        return kiln_error_sys(err, errno, "kiln-oci config %s", path);
    }
    if (fstat(fd, &st) != 0) {
        rc = kiln_error_sys(err, errno, "kiln-oci config %s", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
        rc = kiln_error_set(err, KILN_E_DENIED,
                            "kiln-oci config %s: must be a regular file owned by root and not "
                            "writable by group or others",
                            path);
        goto fail;
    }
    j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "kiln-oci config %s:%d: %s", path, je.line,
                            j ? "not an object" : je.text);
        goto fail;
    }
    k = json_object_get(j, "kilnd");
    if (k != NULL) {
        if (!json_is_object(k)) {
            rc = kiln_error_set(err, KILN_E_MALFORMED, "%s: $.kilnd: an object expected", path);
            goto fail;
        }
        if ((rc = path_member(path, k, "socket", true, c.kilnd_socket, sizeof c.kilnd_socket,
                              err)) < 0 ||
            (rc = path_member(path, k, "config", true, c.kilnd_config, sizeof c.kilnd_config,
                              err)) < 0 ||
            (rc = path_member(path, k, "state", false, c.kilnd_state, sizeof c.kilnd_state, err)) <
                0)
            goto fail;
    }
    json_decref(j);
    close(fd);
    *out = c;
    return 0;
fail:
    json_decref(j);
    close(fd);
    return rc;
}

/* See oci.h. */
void oci_kilnd_id(const char *root, const char *id, char out[OCI_KILND_ID_MAX + 1])
{
    const char *base = strrchr(root, '/');
    size_t n;
    base = base && base[1] ? base + 1 : root;
    n = strlen(base) + 1 + strlen(id);
    if (n <= OCI_KILND_ID_MAX && base[0] != '.' && base[0] != 0 &&
        strspn(base, KILND_ID_CHARS) == strlen(base) && strspn(id, KILND_ID_CHARS) == strlen(id)) {
        snprintf(out, OCI_KILND_ID_MAX + 1, "%s.%s", base, id);
    } else {
        size_t rl = strlen(root), il = strlen(id);
        uint8_t *buf = malloc(rl + il + 1);
        char hex[65] = {0};
        if (buf != NULL) {
            memcpy(buf, root, rl);
            buf[rl] = 0;
            memcpy(buf + rl + 1, id, il);
            kiln_sha256_hex(buf, rl + il + 1, hex);
            free(buf);
        }
        snprintf(out, OCI_KILND_ID_MAX + 1, "oci-%.40s", hex);
    }
}

/* See oci.h. */
int oci_kilnd_register(const struct oci_config *c, const char *kid, const char *rootfs, uid_t uid,
                       pid_t init_pid, const char *policy, size_t policy_len,
                       const char *statedir, struct kiln_error *err)
{
    char reg[PATH_MAX], pol[PATH_MAX];
    json_t *j = NULL;
    char *txt = NULL;
    int rc;
    if (snprintf(reg, sizeof reg, "%s/%s.json", c->kilnd_config, kid) >= (int)sizeof reg ||
        snprintf(pol, sizeof pol, "%s/policy.json", statedir) >= (int)sizeof pol)
        return kiln_error_set(err, KILN_E_ARG, "kilnd registration: path too long");
    j = json_pack("{s:s,s:I,s:b}", "root", rootfs, "uid", (json_int_t)uid, "requireSigned", 1);
    if (j == NULL) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    /* only processes in the container's pid namespace (its init, `exec` units) may attach */
    if (init_pid > 0) json_object_set_new(j, "pidnsOf", json_integer(init_pid));
    if (policy != NULL) {
        /* the unit's signed policy, as verified inside the container */
        char *copy = malloc(policy_len + 1);
        if (copy == NULL) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(copy, policy, policy_len);
        copy[policy_len] = 0;
        rc = oci_write_atomic(pol, copy, err);
        free(copy);
        if (rc < 0) goto fail;
        json_object_set_new(j, "policy", json_string(pol));
    }
    txt = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (txt == NULL) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = oci_write_atomic(reg, txt, err)) < 0) {
        kiln_error_prefix(err, "kilnd registration");
        goto fail;
    }
    free(txt);
    json_decref(j);
    return 0;
fail:
    free(txt);
    json_decref(j);
    return rc;
}

/* See oci.h. */
void oci_kilnd_unregister(const char *config_dir, const char *kid)
{
    char reg[PATH_MAX];
    if (config_dir == NULL || !config_dir[0] || kid == NULL || !kid[0]) return;
    if (snprintf(reg, sizeof reg, "%s/%s.json", config_dir, kid) < (int)sizeof reg) unlink(reg);
}
