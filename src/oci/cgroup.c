/*
 * cgroup.c — container cgroups on v1, hybrid and v2 hosts (oci.h).
 *
 * Layouts:
 *  - v2: /sys/fs/cgroup is cgroup2 (has cgroup.controllers); the container's
 *    cgroup is /sys/fs/cgroup/PATH with memory/cpu/cpuset/pids enabled in
 *    every ancestor's cgroup.subtree_control.
 *  - v1 / hybrid: one directory per controller under /sys/fs/cgroup (the
 *    same hierarchy reached twice, e.g. cpu and cpuacct co-mounted, is used
 *    once); in hybrid mode the process also joins /sys/fs/cgroup/unified/PATH
 *    (no limits there, like runc).
 * Limits: memory (limit, swap = memory+swap), cpu (shares/weight, quota,
 * period, cpuset), pids, devices (v1 allow/deny lists; v2 needs BPF: not
 * applied, reported in docs/containerd.md), freezer (pause/resume).
 * PATH is always taken relative to each hierarchy's root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

#define CG_ROOT "/sys/fs/cgroup"
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *const v1_ctrls[] = {"memory",  "cpu",   "cpuacct", "cpuset",  "pids",
                                       "freezer", "blkio", "devices", "hugetlb", "systemd"};
#define NV1 (sizeof v1_ctrls / sizeof v1_ctrls[0])

static bool is_cgroup2(const char *path)
{
    struct statfs fs;
    return statfs(path, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

const char *oci_cgroup_mode(void)
{
    if (is_cgroup2(CG_ROOT)) return "v2";
    if (is_cgroup2(CG_ROOT "/unified")) return "hybrid";
    return "v1";
}

char *oci_cgroup_path(const char *cgroups_path, const char *id, bool systemd)
{
    char *out = NULL;
    if (!cgroups_path || !cgroups_path[0]) {
        if (asprintf(&out, "/kiln-oci/%s", id) < 0) return NULL;
        return out;
    }
    if (systemd && cgroups_path[0] != '/') {
        /* "slice:prefix:name" (what --systemd-cgroup callers send) */
        char slice[256] = "", prefix[256] = "", name[512] = "";
        if (sscanf(cgroups_path, "%255[^:]:%255[^:]:%511s", slice, prefix, name) == 3) {
            if (asprintf(&out, "/%s/%s-%s.scope", slice, prefix, name) < 0) return NULL;
            return out;
        }
    }
    if (asprintf(&out, "%s%s", cgroups_path[0] == '/' ? "" : "/", cgroups_path) < 0) return NULL;
    return out;
}

static int write_file(const char *dir, const char *file, const char *val, struct kiln_error *err)
{
    char path[4096];
    int fd;
    ssize_t n;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return kiln_error_sys(err, errno, "cgroup: open %s", path);
    n = write(fd, val, strlen(val));
    if (n < 0) {
        int e = errno;
        close(fd);
        return kiln_error_sys(err, e, "cgroup: write '%s' to %s", val, path);
    }
    close(fd);
    return 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
    char path[4096];
    int fd;
    ssize_t n;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) return -errno;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    return 0;
}

static bool exists(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

/* The distinct hierarchy directories for path: dirs[i] = mount/PATH, with
 * ctrl[i] naming the controller ("unified" for cgroup2). Returns the count. */
struct hier {
    char dir[4096];
    const char *ctrl;
};

static size_t hierarchies(const char *path, struct hier *h, size_t max)
{
    size_t n = 0;
    char seen[NV1 + 1][PATH_MAX];
    size_t nseen = 0;
    if (is_cgroup2(CG_ROOT)) {
        snprintf(h[0].dir, sizeof h[0].dir, "%s%s", CG_ROOT, path);
        h[0].ctrl = "unified";
        return 1;
    }
    for (size_t i = 0; i < NV1 && n < max; i++) {
        char mnt[256], real[PATH_MAX];
        bool dup = false;
        snprintf(mnt, sizeof mnt, CG_ROOT "/%s", v1_ctrls[i]);
        if (!realpath(mnt, real)) continue;
        for (size_t k = 0; k < nseen; k++)
            if (strcmp(seen[k], real) == 0) dup = true;
        if (dup) continue;
        snprintf(seen[nseen++], PATH_MAX, "%s", real);
        snprintf(h[n].dir, sizeof h[n].dir, "%s%s", real, path);
        h[n].ctrl = v1_ctrls[i];
        n++;
    }
    if (n < max && is_cgroup2(CG_ROOT "/unified")) {
        snprintf(h[n].dir, sizeof h[n].dir, CG_ROOT "/unified%s", path);
        h[n].ctrl = "unified";
        n++;
    }
    return n;
}

/* v2: lets dir's children use the memory, cpu, cpuset and pids controllers
 * dir has (best effort: a controller a parent lacks stays off, and a limit
 * that needs it then fails when written). */
static void enable_controllers(const char *dir)
{
    char avail[1024], *save = NULL, *tok;
    if (read_file(dir, "cgroup.controllers", avail, sizeof avail) < 0) return;
    for (tok = strtok_r(avail, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char en[64];
        if (strcmp(tok, "memory") && strcmp(tok, "cpu") && strcmp(tok, "pids") &&
            strcmp(tok, "cpuset"))
            continue;
        snprintf(en, sizeof en, "+%s", tok);
        write_file(dir, "cgroup.subtree_control", en, NULL);
    }
}

/* mkdir -p of dir below mount; for v1 cpuset copies cpus/mems down into new
 * levels (a new cpuset is empty and refuses tasks); for v2 enables the
 * controllers in each level's parent. */
static int make_dir(const char *dir, const char *ctrl, bool v2, struct kiln_error *err)
{
    char p[4096];
    size_t base = strlen(CG_ROOT);
    snprintf(p, sizeof p, "%s", dir);
    if (v2) enable_controllers(CG_ROOT);
    for (char *s = p + base + 1;; s++) {
        char c = *s;
        if (c != '/' && c != 0) continue;
        *s = 0;
        if (mkdir(p, 0755) == 0) {
            if (strcmp(ctrl, "cpuset") == 0) {
                char parent[4096], val[4096];
                snprintf(parent, sizeof parent, "%s", p);
                *strrchr(parent, '/') = 0;
                for (int k = 0; k < 2; k++) {
                    const char *f = k ? "cpuset.mems" : "cpuset.cpus";
                    if (read_file(parent, f, val, sizeof val) == 0 && val[0])
                        write_file(p, f, val, NULL);
                }
            }
        } else if (errno != EEXIST) {
            return kiln_error_sys(err, errno, "cgroup: mkdir %s", p);
        }
        if (v2 && c == '/') enable_controllers(p);
        if (c == 0) break;
        *s = c;
    }
    return 0;
}

static int apply_v1(const struct hier *h, const struct oci_resources *r, struct kiln_error *err)
{
    char v[64];
    int rc = 0;
    if (strcmp(h->ctrl, "memory") == 0) {
        if (r->mem_limit > 0) {
            snprintf(v, sizeof v, "%lld", (long long)r->mem_limit);
            if ((rc = write_file(h->dir, "memory.limit_in_bytes", v, err)) < 0) return rc;
        }
        if (r->mem_swap > 0 && exists(h->dir, "memory.memsw.limit_in_bytes")) {
            snprintf(v, sizeof v, "%lld", (long long)r->mem_swap);
            if ((rc = write_file(h->dir, "memory.memsw.limit_in_bytes", v, err)) < 0) return rc;
        }
    } else if (strcmp(h->ctrl, "cpu") == 0) {
        if (r->cpu_shares) {
            snprintf(v, sizeof v, "%llu", (unsigned long long)r->cpu_shares);
            if ((rc = write_file(h->dir, "cpu.shares", v, err)) < 0) return rc;
        }
        if (r->cpu_period) {
            snprintf(v, sizeof v, "%llu", (unsigned long long)r->cpu_period);
            if ((rc = write_file(h->dir, "cpu.cfs_period_us", v, err)) < 0) return rc;
        }
        if (r->cpu_quota) {
            snprintf(v, sizeof v, "%lld", (long long)r->cpu_quota);
            if ((rc = write_file(h->dir, "cpu.cfs_quota_us", v, err)) < 0) return rc;
        }
    } else if (strcmp(h->ctrl, "cpuset") == 0) {
        if (r->cpuset_cpus && (rc = write_file(h->dir, "cpuset.cpus", r->cpuset_cpus, err)) < 0)
            return rc;
        if (r->cpuset_mems && (rc = write_file(h->dir, "cpuset.mems", r->cpuset_mems, err)) < 0)
            return rc;
    } else if (strcmp(h->ctrl, "pids") == 0) {
        if (r->pids_limit > 0) snprintf(v, sizeof v, "%lld", (long long)r->pids_limit);
        if (r->pids_limit != 0 &&
            (rc = write_file(h->dir, "pids.max", r->pids_limit > 0 ? v : "max", err)) < 0)
            return rc;
    } else if (strcmp(h->ctrl, "devices") == 0 && r->ndevices > 0) {
        /* the rules in order, as the spec says; runc's default devices are
         * the caller's business (containerd lists them) */
        for (size_t i = 0; i < r->ndevices; i++) {
            const struct oci_devrule *d = &r->devices[i];
            char rule[96], ma[24], mi[24];
            if (d->major < 0)
                snprintf(ma, sizeof ma, "*");
            else
                snprintf(ma, sizeof ma, "%lld", (long long)d->major);
            if (d->minor < 0)
                snprintf(mi, sizeof mi, "*");
            else
                snprintf(mi, sizeof mi, "%lld", (long long)d->minor);
            if (d->type == 'a')
                snprintf(rule, sizeof rule, "a");
            else
                snprintf(rule, sizeof rule, "%c %s:%s %s", d->type, ma, mi, d->access);
            if ((rc = write_file(h->dir, d->allow ? "devices.allow" : "devices.deny", rule, err)) <
                0)
                return rc;
        }
    }
    return 0;
}

static int apply_v2(const char *dir, const struct oci_resources *r, struct kiln_error *err)
{
    char v[128];
    int rc;
    if (r->mem_limit > 0) {
        snprintf(v, sizeof v, "%lld", (long long)r->mem_limit);
        if ((rc = write_file(dir, "memory.max", v, err)) < 0) return rc;
        if (r->mem_swap >= r->mem_limit && exists(dir, "memory.swap.max")) {
            snprintf(v, sizeof v, "%lld", (long long)(r->mem_swap - r->mem_limit));
            if ((rc = write_file(dir, "memory.swap.max", v, err)) < 0) return rc;
        }
    }
    if (r->cpu_shares) {
        /* runc's conversion of shares [2, 262144] to weight [1, 10000] */
        unsigned long long w = 1 + ((r->cpu_shares - 2) * 9999) / 262142;
        snprintf(v, sizeof v, "%llu", w);
        if ((rc = write_file(dir, "cpu.weight", v, err)) < 0) return rc;
    }
    if (r->cpu_quota || r->cpu_period) {
        unsigned long long period = r->cpu_period ? r->cpu_period : 100000;
        if (r->cpu_quota > 0)
            snprintf(v, sizeof v, "%lld %llu", (long long)r->cpu_quota, period);
        else
            snprintf(v, sizeof v, "max %llu", period);
        if ((rc = write_file(dir, "cpu.max", v, err)) < 0) return rc;
    }
    if (r->cpuset_cpus && (rc = write_file(dir, "cpuset.cpus", r->cpuset_cpus, err)) < 0) return rc;
    if (r->cpuset_mems && (rc = write_file(dir, "cpuset.mems", r->cpuset_mems, err)) < 0) return rc;
    if (r->pids_limit != 0) {
        if (r->pids_limit > 0) snprintf(v, sizeof v, "%lld", (long long)r->pids_limit);
        if ((rc = write_file(dir, "pids.max", r->pids_limit > 0 ? v : "max", err)) < 0) return rc;
    }
    return 0;
}

static int join(const char *dir, pid_t pid, struct kiln_error *err)
{
    char v[32];
    snprintf(v, sizeof v, "%d", (int)pid);
    return write_file(dir, "cgroup.procs", v, err);
}

int oci_cgroup_setup(const char *path, const struct oci_resources *res, pid_t pid,
                     struct kiln_error *err)
{
    struct hier h[NV1 + 1];
    bool v2 = is_cgroup2(CG_ROOT);
    size_t n = hierarchies(path, h, NV1 + 1);
    int rc;
    if (n == 0) return kiln_error_set(err, KILN_E_UNSUPPORTED, "cgroup: no hierarchy mounted");
    for (size_t i = 0; i < n; i++) {
        if ((rc = make_dir(h[i].dir, h[i].ctrl, v2, err)) < 0) return rc;
        if (v2)
            rc = apply_v2(h[i].dir, res, err);
        else
            rc = apply_v1(&h[i], res, err);
        if (rc < 0) return rc;
        if ((rc = join(h[i].dir, pid, err)) < 0) return rc;
    }
    /* a limit asked for must exist somewhere */
    if (!v2) {
        bool mem = false, pids = false;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(h[i].ctrl, "memory") == 0) mem = true;
            if (strcmp(h[i].ctrl, "pids") == 0) pids = true;
        }
        if ((res->mem_limit > 0 && !mem) || (res->pids_limit > 0 && !pids))
            return kiln_error_set(err, KILN_E_UNSUPPORTED,
                                  "cgroup: a memory or pids limit is set but the controller is "
                                  "not mounted");
    }
    return 0;
}

int oci_cgroup_join(const char *path, pid_t pid, struct kiln_error *err)
{
    struct hier h[NV1 + 1];
    size_t n = hierarchies(path, h, NV1 + 1);
    int rc;
    for (size_t i = 0; i < n; i++) {
        if (access(h[i].dir, F_OK) < 0) continue;
        if ((rc = join(h[i].dir, pid, err)) < 0) return rc;
    }
    return 0;
}

/* The hierarchy whose cgroup.procs lists the container's processes. */
static int procs_dir(const char *path, char *out, size_t len)
{
    struct hier h[NV1 + 1];
    size_t n = hierarchies(path, h, NV1 + 1);
    const char *pref[] = {"unified", "pids", "memory", "freezer", "cpu"};
    bool v2 = is_cgroup2(CG_ROOT);
    for (size_t k = 0; k < sizeof pref / sizeof pref[0]; k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(h[i].ctrl, pref[k]) == 0 && (v2 || k > 0) && access(h[i].dir, F_OK) == 0) {
                snprintf(out, len, "%s", h[i].dir);
                return 0;
            }
    return -ENOENT;
}

int oci_cgroup_pids(const char *path, pid_t **out, size_t *n, struct kiln_error *err)
{
    char dir[4096], file[4200];
    FILE *f;
    pid_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int pid;
    if (procs_dir(path, dir, sizeof dir) < 0)
        return kiln_error_set(err, KILN_E_IO, "cgroup %s: not found", path);
    snprintf(file, sizeof file, "%s/cgroup.procs", dir);
    f = fopen(file, "re");
    if (!f) return kiln_error_sys(err, errno, "%s", file);
    while (fscanf(f, "%d", &pid) == 1) {
        if (cnt == cap) {
            pid_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            if (!nv) {
                free(v);
                fclose(f);
                return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            }
            v = nv;
        }
        v[cnt++] = pid;
    }
    fclose(f);
    *out = v;
    *n = cnt;
    return 0;
}

static int freezer_dir(const char *path, char *out, size_t len, bool *v2)
{
    struct hier h[NV1 + 1];
    size_t n = hierarchies(path, h, NV1 + 1);
    *v2 = is_cgroup2(CG_ROOT);
    for (size_t i = 0; i < n; i++)
        if ((*v2 && strcmp(h[i].ctrl, "unified") == 0) || strcmp(h[i].ctrl, "freezer") == 0) {
            if (access(h[i].dir, F_OK) < 0) return -ENOENT;
            snprintf(out, len, "%s", h[i].dir);
            return 0;
        }
    return -ENOENT;
}

int oci_cgroup_frozen(const char *path)
{
    char dir[4096], v[256];
    bool v2;
    if (freezer_dir(path, dir, sizeof dir, &v2) < 0) return -1;
    if (v2) {
        if (read_file(dir, "cgroup.events", v, sizeof v) < 0) return -1;
        return strstr(v, "frozen 1") != NULL;
    }
    if (read_file(dir, "freezer.state", v, sizeof v) < 0) return -1;
    return strcmp(v, "FROZEN") == 0;
}

int oci_cgroup_freeze(const char *path, bool freeze, struct kiln_error *err)
{
    char dir[4096];
    bool v2;
    int rc;
    if (freezer_dir(path, dir, sizeof dir, &v2) < 0)
        return kiln_error_set(err, KILN_E_UNSUPPORTED, "cgroup %s: no freezer", path);
    if (v2)
        rc = write_file(dir, "cgroup.freeze", freeze ? "1" : "0", err);
    else
        rc = write_file(dir, "freezer.state", freeze ? "FROZEN" : "THAWED", err);
    if (rc < 0) return rc;
    for (int i = 0; i < 1000; i++) {
        struct timespec ts = {0, 1000000};
        if (oci_cgroup_frozen(path) == (freeze ? 1 : 0)) return 0;
        if (!v2 && freeze) write_file(dir, "freezer.state", "FROZEN", NULL);
        nanosleep(&ts, NULL);
    }
    return kiln_error_set(err, KILN_E_IO, "cgroup %s: freezer did not settle", path);
}

int oci_cgroup_remove(const char *path, struct kiln_error *err)
{
    struct hier h[NV1 + 1];
    size_t n = hierarchies(path, h, NV1 + 1);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int tries = 0;
        while (rmdir(h[i].dir) < 0) {
            struct timespec ts = {0, 10000000};
            if (errno == ENOENT) break;
            if (errno != EBUSY || ++tries > 200) {
                rc = kiln_error_sys(err, errno, "cgroup: rmdir %s", h[i].dir);
                break;
            }
            nanosleep(&ts, NULL);
        }
    }
    return rc;
}
