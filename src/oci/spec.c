/*
 * spec.c — reads an OCI runtime config (config.json) and `exec --process`
 * files into struct oci_spec / struct oci_process (oci.h).
 *
 * Only what kiln-oci applies is kept; unknown fields are ignored like runc
 * does. Unknown capability, rlimit, namespace or mount option names are
 * errors (naming the field), so nothing is silently dropped that the caller
 * asked for. Strings are owned by the structs; *_free releases them.
 */
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "oci/oci.h"

static char *dupz(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

static const struct {
    const char *name;
    int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static const struct {
    const char *name;
    int flag;
} ns_names[] = {
    {"mount", CLONE_NEWNS},    {"pid", CLONE_NEWPID},
    {"ipc", CLONE_NEWIPC},     {"uts", CLONE_NEWUTS},
    {"network", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
    {"user", CLONE_NEWUSER},   {"time", 0x80 /* CLONE_NEWTIME */},
};

/* Mount options that are flags; clear = the option removes the flag. */
static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
} mount_opts[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

static const struct {
    const char *name;
    unsigned long prop;
} prop_opts[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static unsigned long prop_of(const char *s)
{
    for (size_t i = 0; i < sizeof prop_opts / sizeof prop_opts[0]; i++)
        if (strcmp(s, prop_opts[i].name) == 0) return prop_opts[i].prop;
    return 0;
}

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* A NULL-terminated copy of a JSON array of strings (absent: empty). */
static int strv(json_t *a, const char *field, char ***out, struct kiln_error *err)
{
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    char **v;
    if (a && !json_is_array(a))
        return kiln_error_set(err, KILN_E_MALFORMED, "config: %s: not an array", field);
    v = calloc(n + 1, sizeof *v);
    if (!v) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(v[i] = strdup(s))) {
            free_strv(v);
            return kiln_error_set(err, KILN_E_MALFORMED, "config: %s[%zu]: not a string", field, i);
        }
    }
    *out = v;
    return 0;
}

static int caps(json_t *a, const char *field, uint64_t *out, struct kiln_error *err)
{
    uint64_t m = 0;
    size_t i;
    json_t *v;
    if (!a) {
        *out = 0;
        return 0;
    }
    if (!json_is_array(a))
        return kiln_error_set(err, KILN_E_MALFORMED, "config: %s: not an array", field);
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        size_t k;
        for (k = 0; s && k < sizeof cap_names / sizeof cap_names[0]; k++)
            if (strcmp(s, cap_names[k]) == 0) break;
        if (!s || k == sizeof cap_names / sizeof cap_names[0])
            return kiln_error_set(err, KILN_E_INVALID, "config: %s[%zu]: unknown capability %s",
                                  field, i, s ? s : "(not a string)");
        m |= 1ull << k;
    }
    *out = m;
    return 0;
}

static int parse_process(json_t *p, struct oci_process *out, struct kiln_error *err)
{
    json_t *user, *c, *rl, *v;
    size_t i;
    int rc;
    memset(out, 0, sizeof *out);
    if (!json_is_object(p)) return kiln_error_set(err, KILN_E_MALFORMED, "config: process missing");
    out->terminal = json_is_true(json_object_get(p, "terminal"));
    user = json_object_get(p, "user");
    if (json_is_object(user)) {
        json_t *ag = json_object_get(user, "additionalGids");
        out->uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
        out->gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
        if (json_is_integer(json_object_get(user, "umask"))) {
            out->has_umask = true;
            out->umask = (mode_t)json_integer_value(json_object_get(user, "umask"));
        }
        if (json_is_array(ag) && json_array_size(ag) > 0) {
            out->ngids = json_array_size(ag);
            out->gids = calloc(out->ngids, sizeof *out->gids);
            if (!out->gids) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            json_array_foreach(ag, i, v) out->gids[i] = (gid_t)json_integer_value(v);
        }
    }
    if ((rc = strv(json_object_get(p, "args"), "process.args", &out->args, err)) < 0) return rc;
    if (!out->args[0] || !out->args[0][0])
        return kiln_error_set(err, KILN_E_INVALID, "config: process.args: empty");
    if ((rc = strv(json_object_get(p, "env"), "process.env", &out->env, err)) < 0) return rc;
    out->cwd = dupz(json_string_value(json_object_get(p, "cwd")));
    if (!out->cwd) out->cwd = strdup("/");
    if (!out->cwd || out->cwd[0] != '/')
        return kiln_error_set(err, KILN_E_INVALID, "config: process.cwd: must be absolute");
    out->no_new_privs = json_is_true(json_object_get(p, "noNewPrivileges"));
    v = json_object_get(p, "oomScoreAdj");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < -1000 || json_integer_value(v) > 1000)
            return kiln_error_set(err, KILN_E_INVALID,
                                  "config: process.oomScoreAdj: an integer in -1000..1000");
        out->has_oom_score_adj = true;
        out->oom_score_adj = (int)json_integer_value(v);
    }
    rl = json_object_get(p, "rlimits");
    if (json_is_array(rl) && json_array_size(rl) > 0) {
        out->rlimits = calloc(json_array_size(rl), sizeof *out->rlimits);
        if (!out->rlimits) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        json_array_foreach(rl, i, v)
        {
            const char *t = json_string_value(json_object_get(v, "type"));
            size_t k;
            for (k = 0; t && k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
                if (strcmp(t, rlimit_names[k].name) == 0) break;
            if (!t || k == sizeof rlimit_names / sizeof rlimit_names[0])
                return kiln_error_set(err, KILN_E_INVALID,
                                      "config: process.rlimits[%zu].type: unknown %s", i,
                                      t ? t : "(missing)");
            out->rlimits[i].resource = rlimit_names[k].res;
            out->rlimits[i].soft = (uint64_t)json_integer_value(json_object_get(v, "soft"));
            out->rlimits[i].hard = (uint64_t)json_integer_value(json_object_get(v, "hard"));
            out->nrlimits++;
        }
    }
    c = json_object_get(p, "capabilities");
    if (json_is_object(c)) {
        out->has_caps = true;
        if ((rc = caps(json_object_get(c, "bounding"), "process.capabilities.bounding",
                       &out->cap_bounding, err)) < 0 ||
            (rc = caps(json_object_get(c, "effective"), "process.capabilities.effective",
                       &out->cap_effective, err)) < 0 ||
            (rc = caps(json_object_get(c, "permitted"), "process.capabilities.permitted",
                       &out->cap_permitted, err)) < 0 ||
            (rc = caps(json_object_get(c, "inheritable"), "process.capabilities.inheritable",
                       &out->cap_inheritable, err)) < 0 ||
            (rc = caps(json_object_get(c, "ambient"), "process.capabilities.ambient",
                       &out->cap_ambient, err)) < 0)
            return rc;
    }
    return 0;
}

static int parse_mount(json_t *m, size_t idx, struct oci_mount *out, struct kiln_error *err)
{
    json_t *opts = json_object_get(m, "options"), *v;
    size_t i, dlen = 0;
    char data[4096] = "";
    out->dest = dupz(json_string_value(json_object_get(m, "destination")));
    out->type = dupz(json_string_value(json_object_get(m, "type")));
    out->source = dupz(json_string_value(json_object_get(m, "source")));
    if (!out->dest || out->dest[0] != '/')
        return kiln_error_set(err, KILN_E_INVALID, "config: mounts[%zu].destination: not absolute",
                              idx);
    if (out->type && strcmp(out->type, "bind") == 0) out->bind = true;
    json_array_foreach(opts, i, v)
    {
        const char *o = json_string_value(v);
        size_t k;
        unsigned long pr;
        if (!o) return kiln_error_set(err, KILN_E_MALFORMED, "config: mounts[%zu].options", idx);
        if (strcmp(o, "bind") == 0) {
            out->bind = true;
            continue;
        }
        if (strcmp(o, "rbind") == 0) {
            out->bind = true;
            out->flags |= MS_REC;
            continue;
        }
        if ((pr = prop_of(o)) != 0) {
            out->prop = pr;
            continue;
        }
        for (k = 0; k < sizeof mount_opts / sizeof mount_opts[0]; k++)
            if (strcmp(o, mount_opts[k].name) == 0) break;
        if (k < sizeof mount_opts / sizeof mount_opts[0]) {
            if (mount_opts[k].clear)
                out->flags &= ~mount_opts[k].flag;
            else
                out->flags |= mount_opts[k].flag;
            continue;
        }
        if (dlen + strlen(o) + 2 >= sizeof data)
            return kiln_error_set(err, KILN_E_INVALID, "config: mounts[%zu].options: too long",
                                  idx);
        dlen += (size_t)snprintf(data + dlen, sizeof data - dlen, "%s%s", dlen ? "," : "", o);
    }
    out->data = dlen ? strdup(data) : NULL;
    return 0;
}

static int parse_devices(json_t *a, struct oci_resources *r, struct kiln_error *err)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a) || json_array_size(a) == 0) return 0;
    r->devices = calloc(json_array_size(a), sizeof *r->devices);
    if (!r->devices) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    json_array_foreach(a, i, v)
    {
        struct oci_devrule *d = &r->devices[r->ndevices++];
        const char *t = json_string_value(json_object_get(v, "type"));
        const char *acc = json_string_value(json_object_get(v, "access"));
        json_t *ma = json_object_get(v, "major"), *mi = json_object_get(v, "minor");
        d->allow = json_is_true(json_object_get(v, "allow"));
        d->type = t && (t[0] == 'c' || t[0] == 'b') ? t[0] : 'a';
        d->major = json_is_integer(ma) ? json_integer_value(ma) : -1;
        d->minor = json_is_integer(mi) ? json_integer_value(mi) : -1;
        snprintf(d->access, sizeof d->access, "%s", acc && acc[0] ? acc : "rwm");
        if (strspn(d->access, "rwm") != strlen(d->access))
            return kiln_error_set(err, KILN_E_INVALID,
                                  "config: linux.resources.devices[%zu].access: %s", i, d->access);
    }
    return 0;
}

static int parse_linux(json_t *l, struct oci_spec *s, struct kiln_error *err)
{
    json_t *a, *v, *res;
    size_t i;
    int rc;
    s->rootfs_prop = MS_SLAVE | MS_REC;
    s->res.mem_limit = s->res.mem_swap = -1;
    if (!json_is_object(l)) {
        s->masked = calloc(1, sizeof(char *));
        s->readonly = calloc(1, sizeof(char *));
        return s->masked && s->readonly ? 0 : kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    }
    a = json_object_get(l, "namespaces");
    if (json_is_array(a) && json_array_size(a) > 0) {
        s->ns = calloc(json_array_size(a), sizeof *s->ns);
        if (!s->ns) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        json_array_foreach(a, i, v)
        {
            const char *t = json_string_value(json_object_get(v, "type"));
            size_t k;
            for (k = 0; t && k < sizeof ns_names / sizeof ns_names[0]; k++)
                if (strcmp(t, ns_names[k].name) == 0) break;
            if (!t || k == sizeof ns_names / sizeof ns_names[0])
                return kiln_error_set(err, KILN_E_INVALID,
                                      "config: linux.namespaces[%zu].type: unknown %s", i,
                                      t ? t : "(missing)");
            if (ns_names[k].flag == CLONE_NEWUSER || ns_names[k].flag == 0x80)
                return kiln_error_set(err, KILN_E_UNSUPPORTED,
                                      "config: linux.namespaces[%zu]: %s namespaces are not "
                                      "supported by kiln-oci yet",
                                      i, t);
            s->ns[s->nns].flag = ns_names[k].flag;
            s->ns[s->nns].path = dupz(json_string_value(json_object_get(v, "path")));
            s->nns++;
        }
    }
    if ((rc = strv(json_object_get(l, "maskedPaths"), "linux.maskedPaths", &s->masked, err)) < 0)
        return rc;
    if ((rc = strv(json_object_get(l, "readonlyPaths"), "linux.readonlyPaths", &s->readonly, err)) <
        0)
        return rc;
    s->cgroups_path = dupz(json_string_value(json_object_get(l, "cgroupsPath")));
    if ((rc = oci_seccomp_build(json_object_get(l, "seccomp"), &s->seccomp, err)) < 0) return rc;
    if (json_is_string(json_object_get(l, "rootfsPropagation"))) {
        unsigned long p = prop_of(json_string_value(json_object_get(l, "rootfsPropagation")));
        if (p) s->rootfs_prop = p;
    }
    res = json_object_get(l, "resources");
    if (json_is_object(res)) {
        json_t *m = json_object_get(res, "memory"), *c = json_object_get(res, "cpu"),
               *p = json_object_get(res, "pids");
        if (json_is_integer(json_object_get(m, "limit")))
            s->res.mem_limit = json_integer_value(json_object_get(m, "limit"));
        if (json_is_integer(json_object_get(m, "swap")))
            s->res.mem_swap = json_integer_value(json_object_get(m, "swap"));
        s->res.cpu_shares = (uint64_t)json_integer_value(json_object_get(c, "shares"));
        s->res.cpu_quota = json_integer_value(json_object_get(c, "quota"));
        s->res.cpu_period = (uint64_t)json_integer_value(json_object_get(c, "period"));
        s->res.cpuset_cpus = dupz(json_string_value(json_object_get(c, "cpus")));
        s->res.cpuset_mems = dupz(json_string_value(json_object_get(c, "mems")));
        s->res.pids_limit = json_integer_value(json_object_get(p, "limit"));
        if ((rc = parse_devices(json_object_get(res, "devices"), &s->res, err)) < 0) return rc;
    }
    return 0;
}

int oci_spec_load(const char *bundle, struct oci_spec *out, struct kiln_error *err)
{
    char path[4096];
    json_error_t je;
    json_t *j = NULL, *v, *ann;
    const char *rp;
    size_t i;
    int rc;
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "%s/config.json", bundle);
    j = json_load_file(path, 0, &je);
    if (!j) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "%s: line %d: %s", path, je.line, je.text);
        goto fail;
    }
    rp = json_string_value(json_object_get(json_object_get(j, "root"), "path"));
    if (!rp) {
        rc = kiln_error_set(err, KILN_E_INVALID, "%s: root.path missing", path);
        goto fail;
    }
    if (rp[0] == '/')
        out->root = strdup(rp);
    else if (asprintf(&out->root, "%s/%s", bundle, rp) < 0)
        out->root = NULL;
    if (!out->root) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    out->root_ro = json_is_true(json_object_get(json_object_get(j, "root"), "readonly"));
    out->hostname = dupz(json_string_value(json_object_get(j, "hostname")));
    if ((rc = parse_process(json_object_get(j, "process"), &out->proc, err)) < 0) goto fail;
    v = json_object_get(j, "mounts");
    if (json_is_array(v) && json_array_size(v) > 0) {
        json_t *m;
        out->mounts = calloc(json_array_size(v), sizeof *out->mounts);
        if (!out->mounts) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        json_array_foreach(v, i, m)
        {
            out->nmounts++;
            if ((rc = parse_mount(m, i, &out->mounts[i], err)) < 0) goto fail;
        }
    }
    if ((rc = parse_linux(json_object_get(j, "linux"), out, err)) < 0) goto fail;
    if ((rc = oci_hooks_parse(json_object_get(j, "hooks"), &out->hooks, err)) < 0) goto fail;
    ann = json_object_get(j, "annotations");
    if (json_is_object(ann)) {
        const char *n = json_string_value(json_object_get(ann, KILN_OCI_ANNOTATION_NATIVE));
        /* a Kubernetes pod's sandbox ("pause") container is native: the CRI
         * implementation sets these itself (containerd, CRI-O) */
        const char *t1 =
            json_string_value(json_object_get(ann, "io.kubernetes.cri.container-type"));
        const char *t2 =
            json_string_value(json_object_get(ann, "io.kubernetes.cri-o.ContainerType"));
        const char *kd = json_string_value(json_object_get(ann, KILN_OCI_ANNOTATION_KILND));
        out->allow_native = (n && strcmp(n, "true") == 0) || (t1 && strcmp(t1, "sandbox") == 0) ||
                            (t2 && strcmp(t2, "sandbox") == 0);
        out->no_kilnd = kd && strcmp(kd, "false") == 0;
        out->annotations = json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
    } else {
        out->annotations = strdup("{}");
    }
    json_decref(j);
    return 0;
fail:
    if (err) kiln_error_prefix(err, "%s", "config.json");
    json_decref(j);
    oci_spec_free(out);
    return rc;
}

int oci_process_load(const char *path, struct oci_process *out, struct kiln_error *err)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    int rc;
    if (!j) return kiln_error_set(err, KILN_E_MALFORMED, "%s: line %d: %s", path, je.line, je.text);
    rc = parse_process(j, out, err);
    json_decref(j);
    if (rc < 0) {
        oci_process_free(out);
        kiln_error_prefix(err, "%s", path);
    }
    return rc;
}

void oci_process_free(struct oci_process *p)
{
    if (!p) return;
    free(p->gids);
    free_strv(p->args);
    free_strv(p->env);
    free(p->cwd);
    free(p->rlimits);
    memset(p, 0, sizeof *p);
}

void oci_spec_free(struct oci_spec *s)
{
    if (!s) return;
    free(s->root);
    free(s->hostname);
    oci_process_free(&s->proc);
    for (size_t i = 0; i < s->nmounts; i++) {
        free(s->mounts[i].dest);
        free(s->mounts[i].type);
        free(s->mounts[i].source);
        free(s->mounts[i].data);
    }
    free(s->mounts);
    for (size_t i = 0; i < s->nns; i++)
        free(s->ns[i].path);
    free(s->ns);
    free_strv(s->masked);
    free_strv(s->readonly);
    free(s->cgroups_path);
    free(s->res.cpuset_cpus);
    free(s->res.cpuset_mems);
    free(s->res.devices);
    free(s->annotations);
    oci_seccomp_free(s->seccomp);
    oci_hooks_free(&s->hooks);
    memset(s, 0, sizeof *s);
}
