/*
 * state.c — the container state under --root (ROOT/ID/state.json) and the
 * status runc reports, derived from the live system (oci.h).
 *
 * A recorded pid is the container's only if it is alive, not a zombie, and
 * has the start time recorded at create (pid reuse cannot fake a running
 * container).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"

bool oci_id_valid(const char *id)
{
    if (!id || !id[0] || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p)) return false;
    return true;
}

int oci_write_atomic(const char *path, const char *data, struct kiln_error *err)
{
    char tmp[4200];
    size_t len = strlen(data), off = 0;
    int fd;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return kiln_error_sys(err, errno, "%s", tmp);
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto fail;
        off += (size_t)n;
    }
    if (fsync(fd) < 0) goto fail;
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return kiln_error_sys(err, e, "rename %s", path);
    }
    return 0;
fail : {
    int e = errno;
    close(fd);
    unlink(tmp);
    return kiln_error_sys(err, e, "write %s", tmp);
}
}

int oci_state_save(const char *root, const struct oci_state *st, struct kiln_error *err)
{
    char path[4096];
    json_t *j = json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:b}", "id", st->id, "pid",
                          (int)st->pid, "start_time", (json_int_t)st->start_time, "bundle",
                          st->bundle, "rootfs", st->rootfs, "created", st->created, "cgroup",
                          st->cgroup ? st->cgroup : "", "allow_native", st->allow_native);
    char *text;
    int rc;
    if (!j) return kiln_error_set(err, KILN_E_NOMEM, "state: out of memory");
    json_object_set_new(j, "annotations",
                        json_loads(st->annotations ? st->annotations : "{}", 0, NULL));
    if (st->kilnd_id && st->kilnd_id[0]) {
        json_object_set_new(j, "kilnd_id", json_string(st->kilnd_id));
        json_object_set_new(j, "kilnd_config",
                            json_string(st->kilnd_config ? st->kilnd_config : ""));
    }
    text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text) return kiln_error_set(err, KILN_E_NOMEM, "state: out of memory");
    snprintf(path, sizeof path, "%s/%s/state.json", root, st->id);
    rc = oci_write_atomic(path, text, err);
    free(text);
    return rc;
}

int oci_state_load(const char *root, const char *id, struct oci_state *out, struct kiln_error *err)
{
    char path[4096];
    json_error_t je;
    json_t *j, *a;
    if (!oci_id_valid(id)) return kiln_error_set(err, KILN_E_ARG, "invalid container id '%s'", id);
    snprintf(path, sizeof path, "%s/%s/state.json", root, id);
    j = json_load_file(path, 0, &je);
    if (!j) {
        struct stat sb;
        if (stat(path, &sb) < 0 && errno == ENOENT)
            return kiln_error_set(err, KILN_E_ARG, "container does not exist");
        return kiln_error_set(err, KILN_E_MALFORMED, "%s: %s", path, je.text);
    }
    memset(out, 0, sizeof *out);
    out->id = strdup(id);
    out->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
    out->start_time = (uint64_t)json_integer_value(json_object_get(j, "start_time"));
    out->bundle = strdup(json_string_value(json_object_get(j, "bundle")) ?: "");
    out->rootfs = strdup(json_string_value(json_object_get(j, "rootfs")) ?: "");
    out->created = strdup(json_string_value(json_object_get(j, "created")) ?: "");
    out->cgroup = strdup(json_string_value(json_object_get(j, "cgroup")) ?: "");
    out->allow_native = json_is_true(json_object_get(j, "allow_native"));
    out->kilnd_id = strdup(json_string_value(json_object_get(j, "kilnd_id")) ?: "");
    out->kilnd_config = strdup(json_string_value(json_object_get(j, "kilnd_config")) ?: "");
    a = json_object_get(j, "annotations");
    out->annotations = a ? json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    json_decref(j);
    if (!out->id || !out->bundle || !out->rootfs || !out->created || !out->cgroup ||
        !out->annotations || !out->kilnd_id || !out->kilnd_config) {
        oci_state_free(out);
        return kiln_error_set(err, KILN_E_NOMEM, "state: out of memory");
    }
    return 0;
}

void oci_state_free(struct oci_state *st)
{
    if (!st) return;
    free(st->id);
    free(st->bundle);
    free(st->rootfs);
    free(st->created);
    free(st->cgroup);
    free(st->annotations);
    free(st->kilnd_id);
    free(st->kilnd_config);
    memset(st, 0, sizeof *st);
}

uint64_t oci_pid_start_time(pid_t pid)
{
    char path[64], buf[2048], *p;
    unsigned long long st = 0;
    ssize_t n;
    int fd, field;
    if (pid <= 0) return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    /* comm may hold spaces and parentheses: fields start after the last ')' */
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ') return 0;
    p += 2;
    if (*p == 'Z' || *p == 'X') return 0;
    for (field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    if (!p || sscanf(p, "%llu", &st) != 1) return 0;
    return st;
}

const char *oci_state_status(const char *root, const struct oci_state *st)
{
    char fifo[4096];
    struct stat sb;
    uint64_t t = oci_pid_start_time(st->pid);
    if (t == 0 || t != st->start_time) return "stopped";
    snprintf(fifo, sizeof fifo, "%s/%s/exec.fifo", root, st->id);
    if (lstat(fifo, &sb) == 0) return "created";
    if (st->cgroup && st->cgroup[0] && oci_cgroup_frozen(st->cgroup) == 1) return "paused";
    return "running";
}

char *oci_state_json(const char *root, const struct oci_state *st)
{
    const char *status = oci_state_status(root, st);
    json_t *j = json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion", KILN_OCI_SPEC_VERSION, "id",
        st->id, "pid", strcmp(status, "stopped") == 0 ? 0 : (int)st->pid, "status", status,
        "bundle", st->bundle, "rootfs", st->rootfs, "created", st->created, "owner", "");
    char *s;
    if (!j) return NULL;
    json_object_set_new(j, "annotations",
                        json_loads(st->annotations ? st->annotations : "{}", 0, NULL));
    s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}
