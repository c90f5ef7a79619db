/*
 * server.c — kilnd's parent process: one host daemon serving the vkernels
 * of many containers over a SOCK_SEQPACKET unix socket (protocol: proto.h,
 * docs/kilnd-protocol.md), each container served by its own worker process
 * (worker.c).
 *
 * What the parent does, and nothing more:
 *   - accepts connections, reads SO_PEERCRED (and the peer's pidfd) and the
 *     first packet, which must be a HELLO naming a registered container;
 *   - checks the peer's uid/pid against the registration
 *     (<config_dir>/<id>.json, re-read at the start of every run) and hands
 *     the connection, with its HELLO, to the container's worker (C_CONN),
 *     forking the worker first when the container has none (a run starts);
 *   - starts spawned units for workers (C_EXEC: fork, exec `kiln exec
 *     --kilnd fd:4` with the sealed module, the unit's end of its
 *     connection and its stdio) and reports their exit (C_REAPED);
 *   - holds the node key: signs and writes each run attestation a worker
 *     sends (C_ATTEST) to <state_dir>/<id>/run-<start>.json (temporary
 *     file, fsync, rename);
 *   - lets a worker go when it reports idle and no connection is in flight
 *     to it (C_IDLE with the number of C_CONNs it received).
 * The parent never reads a unit's requests after HELLO and never blocks on a
 * unit or a worker (control sockets are non-blocking).
 *
 * Stop (SIGTERM): every worker gets C_STOP, drops its connections (their
 * processes are recorded as lost), sends its run's record and exits; the
 * parent writes the attestations, waits up to 3 s, then kills stragglers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "kiln/vkernel.h"
#include "vkernel/daemon/proto.h"
#include "vkernel/daemon/server.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#define MAX_PENDING 1024
#define MAX_UIDS 16

/* A container as the parent sees it: its registration and its worker. */
struct pct {
    struct kiln__kilnd_ct ct;
    pid_t wpid;            /* worker pid, 0 = none */
    int ctl;               /* control socket to the worker, -1 = none */
    uint32_t sent;         /* C_CONNs sent to the current worker */
    int uids[MAX_UIDS][2]; /* peer uid/gid pairs routed to it: spawns run as one of them */
    int nuids;
    pid_t *pids; /* host pids of its processes (routed peers, spawned units): a
                    spawn's cgroups are those of one of them */
    int npids, cappids;
    struct pct *next;
};

/* A connection before its HELLO. */
struct pend {
    int sock;
    int pid, uid, gid;
    int pidfd;
};

/* A spawned unit process (a child of the parent). */
struct kid {
    pid_t pid;
    int vpid;
    char id[65];
};

struct server {
    const struct kiln_kilnd_config *cfg;
    struct pct *cts;
    struct pend pend[MAX_PENDING];
    int npend;
    struct kid *kids;
    int nkids, capkids;
    struct kiln_seckey key;
    bool have_key;
    struct kiln_trust_store *trust;
    char runner[PATH_MAX];
    int ls, sigfd;
    uint8_t in[KILND_CTL_MAX + 1];
};

/* one log line through the daemon's log callback (kiln__kilnd_logf) */
#define logf_(x, ...) kiln__kilnd_logf((x)->cfg, __VA_ARGS__)

/* See server.h. */
void kiln__kilnd_logf(const struct kiln_kilnd_config *cfg, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (cfg->log == NULL) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cfg->log(line);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    static const char x[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[2 * n] = 0;
}

static bool id_ok(const char *id)
{
    size_t i, n = strlen(id);
    if (n == 0 || n > 64 || id[0] == '.') return false;
    for (i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL) return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(b, cap = cap * 2 + 8192);
            if (nb == NULL) break;
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    if (b != NULL) b[n] = 0;
    *len = n;
    return b;
}

static void free_pct(struct pct *pc)
{
    if (pc == NULL) return;
    free(pc->ct.policy_text);
    free(pc->ct.root);
    free(pc->ct.policy_path);
    free(pc->pids);
    if (pc->ct.audit_fd >= 0) close(pc->ct.audit_fd);
    if (pc->ctl >= 0) close(pc->ctl);
    free(pc);
}

static struct pct *find_pct(struct server *s, const char *id)
{
    struct pct *pc;
    for (pc = s->cts; pc != NULL; pc = pc->next)
        if (strcmp(pc->ct.id, id) == 0) return pc;
    return NULL;
}

/* Loads <config_dir>/<id>.json, replacing a worker-less record of id.
 * Returns the container or NULL (*why set). */
static struct pct *load_container(struct server *s, const char *id, const char **why)
{
    char path[PATH_MAX], dir[PATH_MAX];
    struct pct *pc = NULL, **pp;
    struct kiln__kilnd_ct *ct;
    json_t *j = NULL, *v;
    json_error_t je;
    const char *root, *pol;
    static char msg[512];
    for (pp = &s->cts; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->ct.id, id) == 0) {
            if ((*pp)->ctl >= 0) return *pp;
            /* between runs: re-read the registration (kilnd register may
             * have changed it); nothing refers to an idle container */
            pc = *pp;
            *pp = pc->next;
            free_pct(pc);
            pc = NULL;
            break;
        }
    snprintf(path, sizeof path, "%s/%s.json", s->cfg->config_dir, id);
    j = json_load_file(path, 0, &je);
    if (j == NULL) {
        *why = "unknown container";
        return NULL;
    }
    pc = calloc(1, sizeof *pc);
    if (pc == NULL) goto bad;
    ct = &pc->ct;
    ct->audit_fd = -1;
    pc->ctl = -1;
    snprintf(ct->id, sizeof ct->id, "%s", id);
    root = json_string_value(json_object_get(j, "root"));
    v = json_object_get(j, "uid");
    if (root == NULL || !json_is_integer(v)) {
        snprintf(msg, sizeof msg, "%s: \"root\" and \"uid\" are required", path);
        goto bad_msg;
    }
    if ((ct->root = realpath(root, NULL)) == NULL) {
        snprintf(msg, sizeof msg, "%s: root %s: %s", path, root, strerror(errno));
        goto bad_msg;
    }
    ct->uid = (long)json_integer_value(v);
    v = json_object_get(j, "pid");
    ct->pid = json_is_integer(v) ? (long)json_integer_value(v) : -1;
    v = json_object_get(j, "pidnsOf");
    if (v != NULL) {
        char nsp[64];
        struct stat nst;
        snprintf(nsp, sizeof nsp, "/proc/%lld/ns/pid", (long long)json_integer_value(v));
        if (!json_is_integer(v) || json_integer_value(v) < 1 || stat(nsp, &nst) < 0) {
            snprintf(msg, sizeof msg, "%s: \"pidnsOf\": not a live process's pid", path);
            goto bad_msg;
        }
        ct->has_pidns = true;
        ct->pidns_dev = (unsigned long long)nst.st_dev;
        ct->pidns_ino = (unsigned long long)nst.st_ino;
    }
    ct->require_signed = json_is_true(json_object_get(j, "requireSigned"));
    v = json_object_get(j, "maxProcesses");
    ct->max_procs = 256;
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 4096) {
            snprintf(msg, sizeof msg, "%s: \"maxProcesses\": expected 1..4096", path);
            goto bad_msg;
        }
        ct->max_procs = (int)json_integer_value(v);
    }
    pol = json_string_value(json_object_get(j, "policy"));
    if (pol != NULL) {
        struct kiln_vk_policy *p = NULL;
        struct kiln_error e;
        uint8_t d[32];
        if ((ct->policy_path = strdup(pol)) == NULL) goto bad;
        ct->policy_text = slurp(pol, &ct->policy_len);
        memset(&e, 0, sizeof e);
        if (ct->policy_text == NULL ||
            kiln_vk_policy_parse(ct->policy_text, ct->policy_len, pol, &p, &e) < 0) {
            snprintf(msg, sizeof msg, "%s: policy %s: %s", path, pol,
                     e.msg[0] ? e.msg : strerror(errno));
            goto bad_msg;
        }
        kiln_vk_policy_free(p);
        crypto_hash_sha256(d, (const uint8_t *)ct->policy_text, ct->policy_len);
        hex(d, 32, ct->policy_sha256);
    }
    snprintf(dir, sizeof dir, "%s/%s", s->cfg->state_dir, id);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(msg, sizeof msg, "state %s: %s", dir, strerror(errno));
        goto bad_msg;
    }
    snprintf(path, sizeof path, "%s/audit.jsonl", dir);
    ct->audit_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (ct->audit_fd < 0) {
        snprintf(msg, sizeof msg, "audit %s: %s", path, strerror(errno));
        goto bad_msg;
    }
    json_decref(j);
    pc->next = s->cts;
    s->cts = pc;
    logf_(s, "container %s registered: root %s, policy %s, uid %ld", id, ct->root,
          ct->policy_text ? ct->policy_path : "(built-in)", ct->uid);
    return pc;
bad_msg:
    logf_(s, "container %s: %s", id, msg);
bad:
    *why = "container configuration invalid (see kilnd's log)";
    json_decref(j);
    free_pct(pc);
    return NULL;
}

static int ctl_send(struct pct *pc, int op, const int32_t *a, int na, const void *body, size_t len,
                    const int *fds, int nfds)
{
    struct kilnd_ctl m;
    if (pc->ctl < 0) return -EPIPE;
    memset(&m, 0, sizeof m);
    m.h.magic = KILND_MAGIC;
    m.h.version = KILND_VERSION;
    m.h.op = (uint16_t)op;
    if (na > 0) memcpy(m.a, a, sizeof(int32_t) * (size_t)na);
    m.len = (uint32_t)len;
    return kiln__kilnd_send_ctl(pc->ctl, &m, sizeof m, body, len, fds, nfds);
}

/* Closes every fd >= 3 but those in keep[0..n). */
static void close_except(const int *keep, int n)
{
    int lo = 3, i, best;
    for (;;) {
        best = -1;
        for (i = 0; i < n; i++)
            if (keep[i] >= lo && (best < 0 || keep[i] < best)) best = keep[i];
        if (best < 0) {
            syscall(SYS_close_range, lo, ~0U, 0);
            return;
        }
        if (best > lo) syscall(SYS_close_range, lo, best - 1, 0);
        lo = best + 1;
    }
}

static void add_pid(struct pct *pc, pid_t pid)
{
    if (pc->npids == pc->cappids) {
        int cap = pc->cappids ? pc->cappids * 2 : 8;
        pid_t *np = realloc(pc->pids, (size_t)cap * sizeof *np);
        if (np == NULL) return;
        pc->pids = np;
        pc->cappids = cap;
    }
    pc->pids[pc->npids++] = pid;
}

/* The mount point of the cgroup hierarchy with controllers ctrls (v1: "memory",
 * "cpu,cpuacct", "name=systemd"; "" = the v2 hierarchy), from mountinfo. */
static bool cgroup_mount(const char *ctrls, char *out, size_t n)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096];
    bool found = false;
    if (f == NULL) return false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char mnt[PATH_MAX], *sep = strstr(line, " - "), fstype[32], src[256], opts[1024];
        if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
            sscanf(sep + 3, "%31s %255s %1023s", fstype, src, opts) != 3)
            continue;
        if (ctrls[0] == 0) {
            found = strcmp(fstype, "cgroup2") == 0;
        } else if (strcmp(fstype, "cgroup") == 0) {
            /* every controller of ctrls among the super options */
            char want[256], *save = NULL, *t;
            found = true;
            snprintf(want, sizeof want, "%s", ctrls);
            for (t = strtok_r(want, ",", &save); t && found; t = strtok_r(NULL, ",", &save)) {
                char pat[300];
                snprintf(pat, sizeof pat, ",%s,", t);
                snprintf(src, sizeof src, ",%s,", opts);
                found = strstr(src, pat) != NULL;
            }
        }
        if (found) snprintf(out, n, "%s", mnt);
    }
    fclose(f);
    return found;
}

/* Moves pid into every cgroup of spawner that differs from kilnd's own
 * (a kiln-oci container's memory, pids, cpu limits then cover the units it
 * spawns). Returns 0 or -errno. */
static int join_cgroups(pid_t spawner, pid_t pid)
{
    char path[64], line[4096], mine[8192] = "";
    FILE *f;
    int r = 0;
    size_t n;
    if ((f = fopen("/proc/self/cgroup", "r")) != NULL) {
        n = fread(mine, 1, sizeof mine - 1, f);
        mine[n] = 0;
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)spawner);
    if ((f = fopen(path, "r")) == NULL) return -ESRCH;
    while (r == 0 && fgets(line, sizeof line, f) != NULL) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, mnt[PATH_MAX];
        char procs[PATH_MAX * 2], num[24];
        int fd;
        if (c2 == NULL || strstr(mine, line) != NULL) continue; /* same as kilnd's */
        *c2 = 0;
        c2[1 + strcspn(c2 + 1, "\n")] = 0;
        if (!cgroup_mount(c1 + 1, mnt, sizeof mnt)) continue; /* not mounted here */
        snprintf(procs, sizeof procs, "%s%s/cgroup.procs", mnt, c2 + 1);
        snprintf(num, sizeof num, "%d\n", (int)pid);
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, num, strlen(num)) != (ssize_t)strlen(num)) r = -errno;
        if (fd >= 0) close(fd);
    }
    fclose(f);
    return r;
}

/* In a new worker: joins the network namespace of the container's first
 * process (peer pid, pidfd) when it differs from kilnd's, so the sockets the
 * worker creates for the container (socket, bind, listen, --listen) live in
 * the container's network, e.g. a kiln-oci container's own. Returns 0 or
 * -errno. */
static int join_netns(int peer, int pidfd)
{
    char path[64];
    struct stat a, b;
    snprintf(path, sizeof path, "/proc/%d/ns/net", peer);
    if (pidfd < 0 || stat("/proc/self/ns/net", &a) < 0 || stat(path, &b) < 0) return 0;
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) return 0;
    return setns(pidfd, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* Forks pc's worker for the connection of peer (pid, pidfd or -1). Returns 0
 * or -errno. */
static int start_worker(struct server *s, struct pct *pc, int peer, int pidfd)
{
    int sv[2];
    pid_t pid;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return -errno;
    }
    if (pid == 0) {
        sigset_t all;
        int keep[2] = {sv[1], pc->ct.audit_fd}, r;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        if ((r = join_netns(peer, pidfd)) < 0) {
            logf_(s, "container %s: worker cannot join the network namespace of pid %d: %s",
                  pc->ct.id, peer, strerror(-r));
            _exit(1);
        }
        close_except(keep, 2);
        /* the node key does not stay here. The other containers' records
         * (paths, policies: no authority, their fds are closed) are left
         * alone: writing to them would copy a page per container into every
         * worker */
        kiln_key_wipe(&s->key);
        _exit(kiln__kilnd_worker(s->cfg, &pc->ct, sv[1], s->trust));
    }
    close(sv[1]);
    close(pc->ct.audit_fd); /* the worker writes the audit log; reopened next run */
    pc->ct.audit_fd = -1;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    pc->ctl = sv[0];
    pc->wpid = pid;
    pc->sent = 0;
    pc->nuids = 0;
    pc->npids = 0;
    logf_(s, "container %s: worker %d started", pc->ct.id, (int)pid);
    return 0;
}

static void drop_pend(struct server *s, int i, const char *why)
{
    struct pend *p = &s->pend[i];
    if (why != NULL) logf_(s, "pid %d: connection dropped: %s", p->pid, why);
    close(p->sock);
    if (p->pidfd >= 0) close(p->pidfd);
    s->pend[i] = s->pend[--s->npend];
}

/* True when peer p lives in ct's pid namespace: /proc/PID/ns/pid of the peer names the
 * registered namespace, and the peer is still the process SO_PEERCRED named (its pidfd still
 * signals), so a reused pid cannot pass. */
static bool in_pidns(const struct pend *p, const struct kiln__kilnd_ct *ct)
{
    char nsp[64];
    struct stat st;
    snprintf(nsp, sizeof nsp, "/proc/%d/ns/pid", p->pid);
    if (stat(nsp, &st) < 0 || (unsigned long long)st.st_dev != ct->pidns_dev ||
        (unsigned long long)st.st_ino != ct->pidns_ino)
        return false;
    return p->pidfd >= 0 && syscall(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0) == 0;
}

static void refuse(struct server *s, int i, const struct kilnd_hdr *q, int e, const char *why)
{
    struct pend *p = &s->pend[i];
    struct kilnd_hdr h = *q;
    json_t *o = json_pack("{s:s}", "error", why);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    h.result = -e;
    kiln__kilnd_send(p->sock, &h, sizeof h, txt, txt ? strlen(txt) : 0, NULL, 0);
    logf_(s, "refused pid %d uid %d: %s", p->pid, p->uid, why);
    free(txt);
    json_decref(o);
    drop_pend(s, i, NULL);
}

/* The first packet of pending connection i: HELLO -> route to a worker. */
static void on_hello(struct server *s, int i)
{
    struct pend *p = &s->pend[i];
    int fds[KILND_MAX_FDS], nfds = 0, k, xf[3], nx = 0;
    struct kilnd_hdr q;
    json_t *j = NULL;
    const char *id, *why = NULL;
    char msg[300];
    struct pct *pc;
    long n = kiln__kilnd_recv(p->sock, s->in, KILND_MSG_MAX + 1, fds, KILND_MAX_FDS, &nfds);
    if (n == 0 || n == -ECONNRESET) {
        drop_pend(s, i, NULL);
        return;
    }
    if (n < 0) {
        drop_pend(s, i, n == -EMSGSIZE ? "oversized packet" : strerror((int)-n));
        return;
    }
    if (kiln__kilnd_check(s->in, n, sizeof q) < 0) {
        drop_pend(s, i, "not a kilnd protocol 1 packet");
        goto out;
    }
    memcpy(&q, s->in, sizeof q);
    if (q.op != KILND_HELLO) {
        drop_pend(s, i, "protocol violation");
        goto out;
    }
    j = json_loadb((const char *)s->in + sizeof q, (size_t)n - sizeof q, 0, NULL);
    if (j == NULL || json_integer_value(json_object_get(j, "protocol")) != KILND_VERSION) {
        refuse(s, i, &q, EPROTO, "hello: not a protocol 1 manifest summary");
        goto out;
    }
    id = json_string_value(json_object_get(j, "container"));
    if (id == NULL || !id_ok(id)) {
        refuse(s, i, &q, EINVAL, "hello: bad container id");
        goto out;
    }
    if (nfds > 1) {
        refuse(s, i, &q, EINVAL, "hello: more than one unit fd");
        goto out;
    }
    if ((pc = load_container(s, id, &why)) == NULL) {
        snprintf(msg, sizeof msg, "container %s: %s", id, why);
        refuse(s, i, &q, ENOENT, msg);
        goto out;
    }
    if ((pc->ct.uid >= 0 && p->uid != pc->ct.uid) || (pc->ct.pid >= 0 && p->pid != pc->ct.pid)) {
        snprintf(msg, sizeof msg,
                 "container %s: peer credentials (uid %d, pid %d) not allowed (uid %ld%s)", id,
                 p->uid, p->pid, pc->ct.uid, pc->ct.pid >= 0 ? ", fixed pid" : "");
        refuse(s, i, &q, EACCES, msg);
        goto out;
    }
    if (pc->ct.has_pidns && !in_pidns(p, &pc->ct)) {
        snprintf(msg, sizeof msg,
                 "container %s: peer pid %d is not in the container's pid namespace", id, p->pid);
        refuse(s, i, &q, EACCES, msg);
        goto out;
    }
    if (pc->ctl < 0 && start_worker(s, pc, p->pid, p->pidfd) < 0) {
        refuse(s, i, &q, EAGAIN, "cannot start the container's worker");
        goto out;
    }
    xf[nx++] = p->sock;
    if (p->pidfd >= 0) xf[nx++] = p->pidfd;
    if (nfds == 1) xf[nx++] = fds[0];
    {
        int32_t a[5] = {p->pid, p->uid, p->gid, p->pidfd >= 0, nfds};
        if (ctl_send(pc, KILND_C_CONN, a, 5, s->in, (size_t)n, xf, nx) < 0) {
            refuse(s, i, &q, EAGAIN, "the container's worker does not answer");
            goto out;
        }
    }
    pc->sent++;
    for (k = 0; k < pc->nuids; k++)
        if (pc->uids[k][0] == p->uid && pc->uids[k][1] == p->gid) break;
    if (k == pc->nuids && k < MAX_UIDS) {
        pc->uids[k][0] = p->uid;
        pc->uids[k][1] = p->gid;
        pc->nuids++;
    }
    add_pid(pc, p->pid);
    drop_pend(s, i, NULL); /* the worker holds it now */
out:
    for (k = 0; k < nfds; k++)
        close(fds[k]);
    json_decref(j);
}

static void on_accept(struct server *s)
{
    struct ucred cr;
    socklen_t l = sizeof cr;
    int fd = accept4(s->ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), pidfd = -1;
    if (fd < 0) return;
    if (s->npend >= MAX_PENDING || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
        logf_(s, "connection refused: %s", s->npend >= MAX_PENDING ? "too many" : strerror(errno));
        close(fd);
        return;
    }
    /* blocking again: the worker's sends wait for a slow unit's buffer like before */
    fcntl(fd, F_SETFL, 0);
    l = sizeof pidfd;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &l) < 0) /* before Linux 6.5 */
        pidfd = (int)syscall(SYS_pidfd_open, cr.pid, 0);
    s->pend[s->npend].sock = fd;
    s->pend[s->npend].pid = (int)cr.pid;
    s->pend[s->npend].uid = (int)cr.uid;
    s->pend[s->npend].gid = (int)cr.gid;
    s->pend[s->npend].pidfd = pidfd;
    s->npend++;
}

/* ---- spawned units ---- */

/* C_EXEC from pc's worker: starts `kiln exec --kilnd fd:4`. */
static void on_exec(struct server *s, struct pct *pc, const struct kilnd_ctl *m,
                    const uint8_t *body, int *fds, int nfds)
{
    json_t *j = json_loadb((const char *)body, m->len, 0, NULL), *e;
    const char **argv = NULL;
    size_t i, na = 0;
    int32_t a[2] = {m->a[0], -EINVAL};
    int k, r = 0, uid = m->a[1], gid = m->a[2], pidfd = -1, gate[2] = {-1, -1};
    pid_t pid = 0;
    if (nfds != 5 || j == NULL) goto reply;
    for (k = 0; k < pc->nuids; k++)
        if (pc->uids[k][0] == uid && pc->uids[k][1] == gid) break;
    if (k == pc->nuids) {
        logf_(s, "container %s: worker asked to spawn as uid %d gid %d: refused", pc->ct.id, uid,
              gid);
        a[1] = -EPERM;
        goto reply;
    }
    argv = calloc(16 + 2 * json_array_size(json_object_get(j, "dirs")) +
                      2 * json_array_size(json_object_get(j, "env")) +
                      json_array_size(json_object_get(j, "argv")),
                  sizeof *argv);
    if (argv == NULL) goto reply;
    argv[na++] = s->runner;
    argv[na++] = "exec";
    argv[na++] = "--kilnd";
    argv[na++] = "fd:4";
    argv[na++] = "--container";
    argv[na++] = pc->ct.id;
    json_array_foreach(json_object_get(j, "dirs"), i, e)
    {
        argv[na++] = "--dir";
        argv[na++] = json_string_value(e) ? json_string_value(e) : "/";
    }
    json_array_foreach(json_object_get(j, "env"), i, e)
    {
        argv[na++] = "--env";
        argv[na++] = json_string_value(e) ? json_string_value(e) : "=";
    }
    e = json_array_get(json_object_get(j, "argv"), 0);
    if (json_string_value(e) != NULL) { /* the guest's argv[0], not the runner's fd path */
        argv[na++] = "--argv0";
        argv[na++] = json_string_value(e);
    }
    argv[na++] = "/proc/self/fd/3";
    argv[na++] = "--";
    json_array_foreach(json_object_get(j, "argv"), i, e) if (i > 0 && json_string_value(e))
        argv[na++] = json_string_value(e);
    argv[na] = NULL;
    /* the unit starts only after its worker has C_EXECED (with its host pid)
     * queued: a gate pipe the parent opens after sending it */
    if (pipe2(gate, O_CLOEXEC) < 0) {
        a[1] = -errno;
        goto reply;
    }
    pid = fork();
    if (pid < 0) {
        a[1] = -errno;
        goto reply;
    }
    if (pid == 0) {
        sigset_t all;
        int t[5];
        char b;
        close(gate[1]);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* kilnd gone: so are its units */
        if (read(gate[0], &b, 1) != 1) _exit(126);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        for (k = 0; k < 5; k++)
            if ((t[k] = fcntl(fds[k], F_DUPFD_CLOEXEC, 10)) < 0) _exit(126);
        if (dup2(t[2], 0) < 0 || dup2(t[3], 1) < 0 || dup2(t[4], 2) < 0 || dup2(t[0], 3) < 0 ||
            dup2(t[1], 4) < 0)
            _exit(126);
        syscall(SYS_close_range, 5, ~0U, 0);
        if (geteuid() == 0 && (uid != 0 || gid != 0) &&
            (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0))
            _exit(126);
        execv(s->runner, (char *const *)argv);
        _exit(127);
    }
    for (k = 0; k < pc->npids; k++)
        if (pc->pids[k] == (pid_t)m->a[3]) break;
    if (k == pc->npids || (r = join_cgroups((pid_t)m->a[3], pid)) < 0) {
        logf_(s, "container %s: pid %d not started: %s", pc->ct.id, m->a[0],
              k == pc->npids ? "unknown spawner" : strerror(-r));
        kill(pid, SIGKILL); /* still waiting at the gate */
        close(gate[1]);
        gate[1] = -1;
        pid = 0;
        a[1] = k == pc->npids ? -EPERM : r;
        goto reply;
    }
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    add_pid(pc, pid);
    if (s->nkids == s->capkids) {
        int cap = s->capkids ? s->capkids * 2 : 16;
        struct kid *nk = realloc(s->kids, (size_t)cap * sizeof *nk);
        if (nk != NULL) {
            s->kids = nk;
            s->capkids = cap;
        }
    }
    if (s->nkids < s->capkids) {
        s->kids[s->nkids].pid = pid;
        s->kids[s->nkids].vpid = m->a[0];
        snprintf(s->kids[s->nkids].id, sizeof s->kids[0].id, "%s", pc->ct.id);
        s->nkids++;
    }
    a[1] = (int32_t)pid;
    logf_(s, "container %s: pid %d started as host pid %d", pc->ct.id, m->a[0], (int)pid);
reply:
    ctl_send(pc, KILND_C_EXECED, a, 2, NULL, 0, &pidfd, pidfd >= 0);
    if (pid > 0 && write(gate[1], "x", 1) != 1) kill(pid, SIGKILL);
    if (gate[0] >= 0) close(gate[0]);
    if (gate[1] >= 0) close(gate[1]);
    if (pidfd >= 0) close(pidfd);
    free(argv);
    json_decref(j);
}

/* ---- run attestation ---- */

/* C_ATTEST from pc's worker: sign the statement and write it. */
static void on_attest(struct server *s, struct pct *pc, const struct kilnd_ctl *m,
                      const uint8_t *payload)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], *env_json = NULL;
    struct kiln_dsse *env = NULL;
    struct kiln_error err;
    size_t env_len;
    int fd = -1, nprocs;
    json_t *st = json_loadb((const char *)payload, m->len, 0, NULL);
    json_t *pred = json_object_get(st, "predicate");
    const char *cid = json_string_value(json_object_get(pred, "container"));
    memset(&err, 0, sizeof err);
    if (st == NULL || cid == NULL || strcmp(cid, pc->ct.id) != 0) {
        logf_(s, "container %s: worker sent a bad run record: ignored", pc->ct.id);
        goto out;
    }
    nprocs = (int)json_array_size(json_object_get(pred, "processes"));
    if (!s->have_key) {
        logf_(s, "container %s: run ended; no node key, no attestation", pc->ct.id);
        goto out;
    }
    if (kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, payload, m->len, &env, &err) < 0 ||
        kiln_dsse_sign(env, &s->key, &err) < 0 ||
        kiln_dsse_encode(env, &env_json, &env_len, &err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/%s/run-%lld.json", s->cfg->state_dir, pc->ct.id,
             (long long)m->x[0]);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, env_json, env_len) != (ssize_t)env_len || fsync(fd) < 0 ||
        close(fd) < 0) {
        if (fd >= 0) close(fd);
        unlink(tmp);
        snprintf(err.msg, sizeof err.msg, "%s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        snprintf(err.msg, sizeof err.msg, "%s: %s", path, strerror(errno));
        goto fail;
    }
    logf_(s, "container %s: run ended (%d processes); attestation %s", pc->ct.id, nprocs, path);
    goto out;
fail:
    logf_(s, "container %s: attestation not written: %s", pc->ct.id,
          err.msg[0] ? err.msg : "error");
out:
    kiln_dsse_free(env);
    free(env_json);
    json_decref(st);
}

static void worker_gone(struct server *s, struct pct *pc)
{
    if (pc->ctl >= 0) close(pc->ctl);
    pc->ctl = -1;
}

/* One message from pc's worker (or its end). */
static void on_worker(struct server *s, struct pct *pc)
{
    int fds[KILND_MAX_FDS], nfds = 0, k;
    struct kilnd_ctl m;
    long n = kiln__kilnd_recv(pc->ctl, s->in, sizeof s->in, fds, KILND_MAX_FDS, &nfds);
    if (n == -EAGAIN) return;
    if (n <= 0) {
        logf_(s, "container %s: worker %d ended", pc->ct.id, (int)pc->wpid);
        /* its spawned units lost their connections: stop them too */
        for (k = 0; k < s->nkids; k++)
            if (strcmp(s->kids[k].id, pc->ct.id) == 0) kill(s->kids[k].pid, SIGTERM);
        worker_gone(s, pc);
        return;
    }
    if (kiln__kilnd_check(s->in, n, sizeof m) < 0) goto bad;
    memcpy(&m, s->in, sizeof m);
    if (sizeof m + m.len != (size_t)n) goto bad;
    switch (m.h.op) {
    case KILND_C_EXEC:
        on_exec(s, pc, &m, s->in + sizeof m, fds, nfds);
        break;
    case KILND_C_ATTEST:
        on_attest(s, pc, &m, s->in + sizeof m);
        break;
    case KILND_C_IDLE:
        if ((uint32_t)m.a[0] == pc->sent) worker_gone(s, pc); /* it exits on EOF */
        break;
    default:
        goto bad;
    }
    for (k = 0; k < nfds; k++)
        close(fds[k]);
    return;
bad:
    for (k = 0; k < nfds; k++)
        close(fds[k]);
    logf_(s, "container %s: bad message from worker %d: stopping it", pc->ct.id, (int)pc->wpid);
    kill(pc->wpid, SIGKILL);
    worker_gone(s, pc);
}

static void reap(struct server *s)
{
    struct signalfd_siginfo si;
    int st, k;
    pid_t pid;
    while (read(s->sigfd, &si, sizeof si) == sizeof si) {
    }
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (k = 0; k < s->nkids; k++)
            if (s->kids[k].pid == pid) break;
        if (k < s->nkids) {
            struct pct *pc = find_pct(s, s->kids[k].id);
            int32_t a[3] = {s->kids[k].vpid, (int32_t)pid, st};
            if (pc != NULL) ctl_send(pc, KILND_C_REAPED, a, 3, NULL, 0, NULL, 0);
            s->kids[k] = s->kids[--s->nkids];
            continue;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            logf_(s, "process %d ended with status %d", (int)pid, st);
    }
}

/* Stops every worker: C_STOP, then their records, up to 3 s. */
static void stop_workers(struct server *s)
{
    struct pct *pc;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int k;
    for (pc = s->cts; pc != NULL; pc = pc->next)
        if (pc->ctl >= 0 && ctl_send(pc, KILND_C_STOP, NULL, 0, NULL, 0, NULL, 0) < 0)
            worker_gone(s, pc);
    for (k = 0; k < s->nkids; k++) /* spawned units stop cleanly (exit summary) */
        kill(s->kids[k].pid, SIGTERM);
    for (;;) {
        struct pollfd pf[256];
        struct pct *map[256];
        int n = 0, i;
        long ms;
        for (pc = s->cts; pc != NULL && n < 256; pc = pc->next)
            if (pc->ctl >= 0) {
                pf[n].fd = pc->ctl;
                pf[n].events = POLLIN;
                map[n++] = pc;
            }
        clock_gettime(CLOCK_MONOTONIC, &t);
        ms = 3000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (n == 0 || ms <= 0 || poll(pf, (nfds_t)n, (int)ms) <= 0) break;
        for (i = 0; i < n; i++)
            if (pf[i].revents) on_worker(s, map[i]);
    }
    for (pc = s->cts; pc != NULL; pc = pc->next)
        if (pc->ctl >= 0) {
            kill(pc->wpid, SIGKILL);
            worker_gone(s, pc);
        }
}

static void find_runner(struct server *s)
{
    char self[PATH_MAX];
    ssize_t n;
    if (s->cfg->runner != NULL) {
        snprintf(s->runner, sizeof s->runner, "%s", s->cfg->runner);
        return;
    }
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(s->runner, sizeof s->runner, "kiln");
        return;
    }
    self[n] = 0;
    snprintf(s->runner, sizeof s->runner, "%s/kiln", dirname(self));
}

/* Serves; see server.h. */
int kiln__kilnd_serve(const struct kiln_kilnd_config *cfg, volatile sig_atomic_t *stop,
                      struct kiln_error *err)
{
    struct server *s = calloc(1, sizeof *s);
    struct sockaddr_un sa;
    struct pollfd *pf = NULL;
    struct pct **pmap = NULL;
    sigset_t chld;
    int r = 0, i;
    if (s == NULL) return kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
    s->cfg = cfg;
    s->ls = s->sigfd = -1;
    find_runner(s);
    {
        /* one control socket per live container, one fd per pending connection */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (sodium_init() < 0) {
        r = kiln_error_set(err, KILN_E_IO, "kilnd: libsodium init failed");
        goto out;
    }
    if (cfg->key_path != NULL) {
        if ((r = kiln_key_load_private(cfg->key_path, &s->key, err)) < 0) goto out;
        s->have_key = true;
    }
    if (cfg->trust_dir != NULL) {
        if ((r = kiln_trust_store_new(&s->trust, err)) < 0 ||
            (r = kiln_trust_store_load_dir(s->trust, cfg->trust_dir, err)) < 0)
            goto out;
    }
    if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST) {
        r = kiln_error_sys(err, errno, "kilnd: state dir %s", cfg->state_dir);
        goto out;
    }
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    s->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sigfd < 0) {
        r = kiln_error_sys(err, errno, "kilnd: signalfd");
        goto out;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(cfg->socket_path) >= sizeof sa.sun_path) {
        r = kiln_error_set(err, KILN_E_ARG, "kilnd: socket path %s too long", cfg->socket_path);
        goto out;
    }
    strcpy(sa.sun_path, cfg->socket_path);
    unlink(cfg->socket_path);
    s->ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s->ls < 0 || bind(s->ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s->ls, 512) < 0 ||
        chmod(cfg->socket_path, 0666) < 0) {
        r = kiln_error_sys(err, errno, "kilnd: socket %s", cfg->socket_path);
        goto out;
    }
    logf_(s, "kilnd listening on %s (protocol %d, per-container workers, runner %s)",
          cfg->socket_path, KILND_VERSION, s->runner);
    while (!*stop) {
        int np = s->npend, nw = 0, k = 0, ready;
        struct pct *pc;
        size_t want = 2 + (size_t)np;
        for (pc = s->cts; pc != NULL; pc = pc->next)
            want += pc->ctl >= 0;
        free(pf);
        free(pmap);
        pf = calloc(want, sizeof *pf);
        pmap = calloc(want, sizeof *pmap);
        if (pf == NULL || pmap == NULL) {
            r = kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
            goto out;
        }
        pf[k].fd = s->ls;
        pf[k++].events = POLLIN;
        pf[k].fd = s->sigfd;
        pf[k++].events = POLLIN;
        for (i = 0; i < np; i++) {
            pf[k].fd = s->pend[i].sock;
            pf[k++].events = POLLIN;
        }
        for (pc = s->cts; pc != NULL; pc = pc->next)
            if (pc->ctl >= 0) {
                pmap[nw++] = pc;
                pf[k].fd = pc->ctl;
                pf[k++].events = POLLIN;
            }
        ready = poll(pf, (nfds_t)k, -1);
        if (ready < 0) continue; /* EINTR: re-check *stop */
        if (pf[1].revents) reap(s);
        for (i = 0; i < nw; i++)
            if (pf[2 + np + i].revents) on_worker(s, pmap[i]);
        /* back to front: drop_pend() moves the last entry into slot i */
        for (i = np - 1; i >= 0; i--)
            if (pf[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) on_hello(s, i);
        if (pf[0].revents & POLLIN) on_accept(s);
    }
    logf_(s, "kilnd stopping");
    while (s->npend > 0)
        drop_pend(s, s->npend - 1, NULL);
    stop_workers(s);
out:
    if (s->ls >= 0) {
        close(s->ls);
        unlink(cfg->socket_path);
    }
    if (s->sigfd >= 0) close(s->sigfd);
    free(pf);
    free(pmap);
    while (s->cts != NULL) {
        struct pct *n = s->cts->next;
        free_pct(s->cts);
        s->cts = n;
    }
    free(s->kids);
    kiln_trust_store_free(s->trust);
    kiln_key_wipe(&s->key);
    free(s);
    return r;
}
