/*
 * worker.c — one container's kilnd worker: serves every unit connection of
 * that container (protocol: proto.h, docs/kilnd-protocol.md) and keeps the
 * container's shared state: its process table (pid namespace), spawned
 * units, wait and kill (docs/guest-proc.md).
 *
 * The parent (server.c) forks the worker when the container's run starts,
 * after the registration is read; the worker confines itself beneath the
 * container root (confine_worker.c) before touching any request, so a bug
 * in one container's handling cannot reach another container's root. The
 * parent hands it connections (C_CONN, with the HELLO the parent already
 * checked against SO_PEERCRED); from then on the unit talks to the worker
 * directly.
 *
 * Connections: after HELLO each one has a "shadow" struct kiln_vk — the
 * container root mounted at "/", the process's policy, the container's audit
 * log. A process's policy is the container's, intersected
 * (kiln_vk_policy_intersect) with the unit's own signed policy when the unit
 * has one: a unit never gets more than its author granted it, nor more than
 * the container (or, for a spawned unit, its spawner) grants.
 * Forwarded calls run through the same core functions as in the embedded
 * placement; new fds go back by SCM_RIGHTS. Directory handles stay open in
 * the shadow table; files and sockets are released once sent.
 *
 * Processes: one entry per guest process of the current run. pids are
 * allocated from 1 per run. A process is "done" when its connection is
 * closed and, if kilnd started it (spawned), the parent has reaped it; the
 * run ends when no process is left: the run's statement goes to the parent
 * (C_ATTEST, signed there with the node key) and the worker reports idle
 * (C_IDLE). The parent closes the control channel when no connection is in
 * flight, and the worker exits.
 *
 *   spawn:  guest SPAWN -> the spawner's exec list, open beneath root, copy
 *           into a sealed memfd, digest, verify (trust store) -> the child's
 *           policy: intersect(spawner's policy, the unit's own signed
 *           policy) -> pid allocated, socketpair; C_EXEC to the parent
 *           (memfd, unit's socket end, stdio) -> parent forks/execs `kiln
 *           exec --kilnd fd:4` -> C_EXECED (host pid, pidfd) -> reply pid to
 *           the guest.
 *   wait:   answered at once if a child is done, else when one becomes done
 *           (deferred reply; kilnd never blocks).
 *   kill:   pidfd_send_signal to a live process of this container only.
 *
 * Robustness: never blocks on a unit; a malformed, oversized or
 * out-of-protocol packet drops that connection (logged). Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "vkernel/daemon/proto.h"
#include "vkernel/daemon/server.h"
#include "vkernel/vk.h"

#define MAX_CONNS 1024
#define MAX_PROCS 4096          /* processes per run */
#define MAX_SPAWN_ARGS 60       /* argv + env strings of one spawn */
#define MAX_MODULE (256u << 20) /* largest unit a guest may spawn */

/* One guest process of the container's current run. */
struct wproc {
    int vpid, ppid;    /* pid in the container; ppid 0 = started from outside */
    int pid, uid, gid; /* host */
    int pidfd;         /* -1 = none yet */
    char unit[256];    /* name the unit gave, or the spawned guest path */
    char abi[64];      /* guest ABI it presented */
    char sha256[65];   /* digest kilnd computed ("" = none given) */
    char signer[65];   /* key id of the verified signer ("" = unsigned module) */
    char policy[72];   /* the policy it ran under: "sha256:<hex>" or "builtin:permissive" */
    int64_t start_ns, end_ns;
    int code; /* exit code (valid when exited or reaped) */
    int sig;  /* terminating signal, 0 = none */
    char reason[128];
    bool exited;    /* EXIT received */
    bool conn_open; /* a connection (or a pre-bound one) is open */
    bool spawned;   /* started by kilnd: done only once reaped */
    bool reaped;
    bool failed; /* spawn failed: not a process of the record */
    bool waited;
    bool done;
};

struct wconn {
    int sock;
    int pid, uid, gid; /* SO_PEERCRED (pre-bound: the spawner's) */
    int pidfd;         /* handed to the process entry after HELLO */
    int proc;          /* index in procs, -1 before HELLO */
    bool prebound;     /* a spawned unit's connection, process entry exists */
    bool hello;        /* HELLO done */
    struct kiln_vk *vk;
    char **dirs; /* granted preopens (inherited by spawned children) */
    int ndirs;
    /* deferred replies (the unit waits for them; nothing else may arrive) */
    bool wait_pending;
    struct kilnd_hdr wait_q;
    int wait_pid;
    bool spawn_pending;
    struct kilnd_hdr spawn_q;
    /* the process's policy: prebound connections get it from the spawn (owned until HELLO);
     * derived: an intersection, not the container's registered policy */
    struct kiln_vk_policy *spawn_policy;
    bool derived;
};

struct worker {
    const struct kiln_kilnd_config *cfg;
    struct kiln__kilnd_ct *ct;
    struct kiln_trust_store *trust;
    int ctl;
    uint32_t conns_received;
    struct wconn *conns[MAX_CONNS];
    int nconns;
    struct wproc *procs;
    int nprocs, capprocs;
    int live; /* processes not done */
    int next_vpid;
    int64_t run_start_ns;
    struct kiln__counter sys[KILN_VK_SYS__COUNT];
    uint64_t denials;
    json_t *abi; /* ABI call name -> count */
    bool idle_sent;
    uint8_t *in; /* KILND_CTL_MAX + 1 */
};

/* one log line through the daemon's log callback (kiln__kilnd_logf) */
#define logf_(x, ...) kiln__kilnd_logf((x)->cfg, __VA_ARGS__)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void rfc3339(int64_t ns, char *b, size_t n)
{
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(b, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ns % 1000000000));
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

static int ctl_send(struct worker *w, int op, const int32_t *a, int na, int64_t x0,
                    const void *body, size_t len, const int *fds, int nfds)
{
    struct kilnd_ctl m;
    memset(&m, 0, sizeof m);
    m.h.magic = KILND_MAGIC;
    m.h.version = KILND_VERSION;
    m.h.op = (uint16_t)op;
    if (na > 0) memcpy(m.a, a, sizeof(int32_t) * (size_t)na);
    m.x[0] = x0;
    m.len = (uint32_t)len;
    return kiln__kilnd_send_ctl(w->ctl, &m, sizeof m, body, len, fds, nfds);
}

/* ---- the process table ---- */

static struct wproc *proc_new(struct worker *w)
{
    struct wproc *p;
    if (w->nprocs >= MAX_PROCS) return NULL;
    if (w->nprocs == w->capprocs) {
        int cap = w->capprocs ? w->capprocs * 2 : 4;
        struct wproc *np = realloc(w->procs, (size_t)cap * sizeof *np);
        if (np == NULL) return NULL;
        w->procs = np;
        w->capprocs = cap;
    }
    if (w->live == 0) { /* a new run */
        w->run_start_ns = now_ns();
        w->nprocs = 0;
        w->next_vpid = 1;
        memset(w->sys, 0, sizeof w->sys);
        w->denials = 0;
        json_decref(w->abi);
        w->abi = json_object();
        w->idle_sent = false;
    }
    p = &w->procs[w->nprocs++];
    memset(p, 0, sizeof *p);
    p->vpid = w->next_vpid++;
    p->pidfd = -1;
    p->start_ns = now_ns();
    w->live++;
    return p;
}

static struct wproc *proc_by_vpid(struct worker *w, int vpid)
{
    int i;
    for (i = 0; i < w->nprocs; i++)
        if (w->procs[i].vpid == vpid && !w->procs[i].failed) return &w->procs[i];
    return NULL;
}

/* Linux wait status of a done process. */
static int wstatus(const struct wproc *p)
{
    return p->sig ? (p->sig & 0x7f) : (p->code & 0xff) << 8;
}

static struct wconn *conn_of_proc(struct worker *w, const struct wproc *p)
{
    int i;
    for (i = 0; i < w->nconns; i++)
        if (w->conns[i]->proc == (int)(p - w->procs)) return w->conns[i];
    return NULL;
}

static int send_reply(struct wconn *c, const struct kilnd_hdr *q, int result,
                      const struct kiln_vk_fd *f, int handle, const void *data, size_t len);

/* A deferred WAIT of the parent of p may now be answered. */
static void wake_waiter(struct worker *w, struct wproc *p)
{
    struct wproc *par = p->ppid ? proc_by_vpid(w, p->ppid) : NULL;
    struct wconn *c = par ? conn_of_proc(w, par) : NULL;
    int32_t st;
    if (c == NULL || !c->wait_pending || (c->wait_pid != -1 && c->wait_pid != p->vpid)) return;
    c->wait_pending = false;
    p->waited = true;
    st = wstatus(p);
    if (send_reply(c, &c->wait_q, p->vpid, NULL, -1, &st, sizeof st) < 0)
        shutdown(c->sock, SHUT_RDWR); /* dropped at the next poll */
}

static void end_run(struct worker *w);

/* Re-evaluates whether p is done; a done process may end the run. */
static void proc_update(struct worker *w, struct wproc *p)
{
    if (p->done || p->conn_open || (p->spawned && !p->reaped)) return;
    p->done = true;
    if (p->end_ns == 0) p->end_ns = now_ns();
    if (p->pidfd >= 0) {
        close(p->pidfd);
        p->pidfd = -1;
    }
    if (!p->failed) wake_waiter(w, p);
    if (--w->live == 0) end_run(w);
}

/* ---- the unit digest ---- */

/* Digest of the unit file behind fd and, for a signed unit, its signer and a
 * malloc'd copy of its signed policy (*pol, NULL when it has none). */
static int digest_unit(struct worker *w, int fd, struct wproc *p, uint8_t **pol, size_t *pol_len,
                       const char **why)
{
    crypto_hash_sha256_state st;
    uint8_t buf[65536], d[32];
    struct stat sb;
    off_t off = 0;
    ssize_t n;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > KILN_UNIT_MAX_SIZE) {
        *why = "the unit fd is not a regular file of at most 4 GiB";
        return -EINVAL;
    }
    crypto_hash_sha256_init(&st);
    while (off < sb.st_size && (n = pread(fd, buf, sizeof buf, off)) > 0) {
        crypto_hash_sha256_update(&st, buf, (size_t)n);
        off += n;
    }
    if (off != sb.st_size) {
        *why = "cannot read the unit";
        return -EIO;
    }
    crypto_hash_sha256_final(&st, d);
    hex(d, 32, p->sha256);
    /* a kiln unit ends with the footer's end magic */
    if (kiln_unit_fd_claims_unit(fd)) {
        struct kiln_unit *u = NULL;
        struct kiln_error e;
        memset(&e, 0, sizeof e);
        if (w->trust == NULL || kiln_unit_verify_fd(fd, w->trust, &u, NULL, &e) < 0) {
            logf_(w, "unit %s does not verify: %s", p->unit, w->trust ? e.msg : "no trust store");
            *why = "unit does not verify";
            return -EACCES;
        }
        snprintf(p->signer, sizeof p->signer, "%s", u->signer_keyid);
        if (u->policy != NULL && (*pol = malloc(u->policy_len + 1)) != NULL) {
            memcpy(*pol, u->policy, u->policy_len);
            *pol_len = u->policy_len;
        }
        free(u->data);
        kiln_statement_clear(&u->statement);
        free(u->signer_label);
        free(u);
        if (*pol_len > 0 && *pol == NULL) {
            *why = "out of memory";
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---- whose policy ---- */

/* The policy a unit runs under (docs/guest-proc.md, "Whose policy"): outer (the container's
 * or the spawner's, NULL = permissive; outer_derived: itself an intersection) intersected
 * with the unit's own signed policy text own (NULL = none). *out (NULL = permissive) and
 * *derived are set on success; *why names a refusal. Returns 0 or -errno. */
static int unit_policy(const struct kiln__kilnd_ct *ct, struct kiln_vk_policy *outer,
                       bool outer_derived, const uint8_t *own, size_t own_len,
                       struct kiln_vk_policy **out, bool *derived, const char **why)
{
    struct kiln_vk_policy *up = NULL;
    struct kiln_error err;
    bool narrowed;
    int r;
    memset(&err, 0, sizeof err);
    if (own != NULL && !outer_derived && ct->policy_text != NULL && own_len == ct->policy_len &&
        memcmp(own, ct->policy_text, own_len) == 0)
        own = NULL; /* the container's own policy (a kiln-oci entry unit): nothing to narrow */
    if (own != NULL &&
        kiln_vk_policy_parse((const char *)own, own_len, "unit policy.json", &up, &err) < 0) {
        *why = "the unit's signed policy does not parse";
        return -EACCES;
    }
    if (up != NULL) {
        kiln__policy_set_label(up, "unit");
        if (outer != NULL) kiln__policy_set_label(outer, outer_derived ? NULL : "container");
    }
    narrowed = up != NULL;
    r = kiln_vk_policy_intersect(outer, up, out, &err);
    if (outer != NULL) kiln__policy_set_label(outer, NULL);
    kiln_vk_policy_free(up);
    if (r < 0) {
        *why = "out of memory";
        return -ENOMEM;
    }
    *derived = outer_derived || narrowed;
    return 0;
}

/* The document and identity of a process's policy: for the container's registered policy its
 * text (not copied) and digest; for an intersection its canonical document (malloc'd in
 * *owned) and that document's digest. id gets "sha256:<hex>" or "builtin:permissive". */
static int policy_doc(const struct kiln__kilnd_ct *ct, const struct kiln_vk_policy *p, bool derived,
                      const char **text, size_t *len, char **owned, char id[72])
{
    uint8_t d[32];
    struct kiln_error err;
    *owned = NULL;
    if (!derived || p == NULL) {
        *text = p ? ct->policy_text : NULL;
        *len = p ? ct->policy_len : 0;
        if (p)
            snprintf(id, 72, "sha256:%s", ct->policy_sha256);
        else
            snprintf(id, 72, "builtin:permissive");
        return 0;
    }
    memset(&err, 0, sizeof err);
    if (kiln_vk_policy_to_json(p, owned, len, &err) < 0) return -ENOMEM;
    *text = *owned;
    crypto_hash_sha256(d, (const uint8_t *)*owned, *len);
    memcpy(id, "sha256:", 7);
    hex(d, 32, id + 7);
    return 0;
}

/* ---- replies ---- */

static int send_reply(struct wconn *c, const struct kilnd_hdr *q, int result,
                      const struct kiln_vk_fd *f, int handle, const void *data, size_t len)
{
    struct kilnd_reply rep;
    memset(&rep, 0, sizeof rep);
    rep.h.magic = KILND_MAGIC;
    rep.h.version = KILND_VERSION;
    rep.h.op = q->op;
    rep.h.seq = q->seq;
    rep.h.result = result;
    rep.handle = handle;
    if (f != NULL) {
        rep.kind = f->kind;
        rep.fdflags = f->flags & KILN_VK_FD_RO;
        rep.oflags = f->oflags;
    }
    rep.len = (uint32_t)len;
    return kiln__kilnd_send(c->sock, &rep, sizeof rep, data, len, f ? &f->host : NULL, f != NULL);
}

/* Sends the new shadow fd g; keeps it as a handle when it is a directory. */
static int reply_fd(struct wconn *c, const struct kilnd_hdr *q, int g)
{
    struct kiln_vk_fd *f = kiln__fd(c->vk, g);
    bool keep = f->kind == KILN_VK_DIR;
    const char *gp = keep && f->guest_path ? f->guest_path : "";
    int r = send_reply(c, q, g, f, keep ? g : -1, gp, strlen(gp));
    if (!keep || r < 0) kiln__fd_release(c->vk, g);
    return r;
}

/* Installs a socket the unit sent for one call. Returns the shadow fd or -errno. */
static int temp_socket(struct wconn *c, int *fds, int nfds)
{
    int k, g;
    if (nfds != 1) return -EBADF;
    k = kiln__kind_of(fds[0]);
    if (k != KILN_VK_SOCKET && k != KILN_VK_DGRAM && k != KILN_VK_LISTENER) return -ENOTSOCK;
    g = kiln__fd_alloc(c->vk, fds[0], k, 0, -1, NULL);
    if (g < 0) return g;
    c->vk->fds[g].oflags = O_RDWR | (fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    fds[0] = -1; /* owned by the shadow now */
    return g;
}

/* ---- processes: spawn, wait, kill ---- */

/* Does the spawner's policy (its exec list) allow the unit at guest path with digest? */
static bool exec_allowed(const struct kiln_vk_policy *pol, const char *path, const char *sha256,
                         const char **rule)
{
    static char jp[40];
    int i;
    if (pol == NULL) {
        *rule = "builtin:permissive";
        return true;
    }
    if (kiln__policy_exec_allowed(pol, path, sha256, &i)) {
        snprintf(jp, sizeof jp, "$.exec[%d]", i);
        *rule = jp;
        return true;
    }
    *rule = kiln__policy_exec_count(pol) > 0 ? "$.exec" : "default:none";
    return false;
}

/* Copies host fd src (a regular file) into a new sealed memfd while hashing
 * it. Returns the memfd or -errno. */
static int copy_sealed(int src, const char *name, uint8_t digest[32], off_t *size)
{
    crypto_hash_sha256_state st;
    uint8_t buf[65536];
    struct stat sb;
    off_t off = 0;
    int m;
    if (fstat(src, &sb) < 0) return -errno;
    if (!S_ISREG(sb.st_mode)) return -EACCES;
    if ((uint64_t)sb.st_size > MAX_MODULE) return -EFBIG;
    m = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (m < 0) return -errno;
    crypto_hash_sha256_init(&st);
    while (off < sb.st_size) {
        ssize_t n = pread(src, buf, sizeof buf, off), k = 0;
        if (n <= 0) break;
        crypto_hash_sha256_update(&st, buf, (size_t)n);
        while (k < n) {
            ssize_t wr = write(m, buf + k, (size_t)(n - k));
            if (wr <= 0) goto fail;
            k += wr;
        }
        off += n;
    }
    if (off != sb.st_size) goto fail;
    crypto_hash_sha256_final(&st, digest);
    if (fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        goto fail;
    *size = off;
    return m;
fail:
    close(m);
    return -EIO;
}

/* A sealed memfd holding len bytes of data. Returns it or -errno. */
static int sealed_bytes(const char *name, const uint8_t *data, size_t len)
{
    size_t k = 0;
    int m = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (m < 0) return -errno;
    while (k < len) {
        ssize_t wr = write(m, data + k, len - k);
        if (wr <= 0) {
            close(m);
            return -EIO;
        }
        k += (size_t)wr;
    }
    if (fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        close(m);
        return -errno;
    }
    return m;
}

/* Prepares the module of a spawn: opens path beneath the root through the
 * shadow vk (filesystem rules apply), copies it into a sealed memfd, checks
 * the spawner's exec list, verifies a kiln unit (its wasm payload becomes the
 * module) or accepts a plain module (unless signed units are required), and
 * works out the child's policy: intersect(the spawner's, the unit's own
 * signed policy) into *eff (NULL = permissive) and *derived. Fills
 * p->sha256/signer/policy. Returns the module memfd or -errno (audited). */
static int spawn_module(struct worker *w, struct wconn *c, const char *path, size_t len,
                        struct wproc *p, struct kiln_vk_policy **eff, bool *derived)
{
    uint8_t d[32], magic[4], *own = NULL;
    const char *rule = NULL, *why = NULL, *ptext;
    char *pdoc = NULL, own_id[72] = "";
    size_t own_len = 0, plen;
    off_t size = 0;
    int g, m, e;
    char gpath[PATH_MAX];
    if (len == 0 || len >= sizeof gpath || path[0] != '/' || memchr(path, 0, len) != NULL)
        return -EINVAL;
    memcpy(gpath, path, len);
    gpath[len] = 0;
    if ((c->vk->policy == NULL || !kiln__policy_exec_digests(c->vk->policy)) &&
        !exec_allowed(c->vk->policy, gpath, NULL, &rule)) {
        /* no digest entries: the path alone decides, before reading anything */
        kiln__audit_deny(c->vk, "execve", gpath, EACCES, rule);
        c->vk->denials++;
        return -EACCES;
    }
    g = kiln_vk_openat(c->vk, KILN_VK_AT_ROOT, path, len, O_RDONLY | O_NONBLOCK, 0);
    if (g < 0) return g;
    m = copy_sealed(c->vk->fds[g].host, "kiln-spawn", d, &size);
    kiln__fd_release(c->vk, g);
    if (m < 0) return m;
    hex(d, 32, p->sha256);
    snprintf(p->unit, sizeof p->unit, "%s", gpath);
    snprintf(p->abi, sizeof p->abi, "wasi_snapshot_preview1");
    if (!exec_allowed(c->vk->policy, gpath, p->sha256, &rule)) {
        kiln__audit_deny(c->vk, "execve", gpath, EACCES, rule);
        c->vk->denials++;
        e = -EACCES;
        goto fail;
    }
    if (kiln_unit_fd_claims_unit(m)) {
        struct kiln_unit *u = NULL;
        struct kiln_error err;
        int pm;
        memset(&err, 0, sizeof err);
        if (w->trust == NULL || kiln_unit_verify_fd(m, w->trust, &u, NULL, &err) < 0) {
            why = w->trust ? err.msg : "no trust store";
            logf_(w, "container %s: spawn of %s refused: unit does not verify: %s", w->ct->id,
                  gpath, why);
            kiln__audit_deny(c->vk, "execve", gpath, EACCES, "trust:unit does not verify");
            c->vk->denials++;
            e = -EACCES;
            goto fail;
        }
        snprintf(p->signer, sizeof p->signer, "%s", u->signer_keyid);
        if (u->statement.has_manifest && u->statement.manifest.guest_abi)
            snprintf(p->abi, sizeof p->abi, "%s", u->statement.manifest.guest_abi);
        if (u->policy != NULL) { /* the author's least privilege, covered by the signature */
            crypto_hash_sha256(d, u->policy, u->policy_len);
            memcpy(own_id, "sha256:", 7);
            hex(d, 32, own_id + 7);
            if ((own = malloc(u->policy_len + 1)) != NULL) {
                memcpy(own, u->policy, u->policy_len);
                own_len = u->policy_len;
            }
        }
        pm = u->wasm != NULL ? sealed_bytes("kiln-spawn-wasm", u->wasm, u->wasm_len) : -ENOEXEC;
        if (u->policy != NULL && own == NULL && pm >= 0) {
            close(pm);
            pm = -ENOMEM;
        }
        free(u->data);
        kiln_statement_clear(&u->statement);
        free(u->signer_label);
        free(u);
        if (pm < 0) {
            e = pm;
            goto fail;
        }
        close(m);
        m = pm;
    } else if (w->ct->require_signed) {
        logf_(w, "container %s: spawn of %s refused: container requires a signed unit", w->ct->id,
              gpath);
        kiln__audit_deny(c->vk, "execve", gpath, EACCES, "trust:requireSigned");
        c->vk->denials++;
        e = -EACCES;
        goto fail;
    } else if (pread(m, magic, 4, 0) != 4 || memcmp(magic, "\0asm", 4) != 0) {
        kiln__audit_deny(c->vk, "execve", gpath, ENOEXEC, "builtin:not a module");
        e = -ENOEXEC;
        goto fail;
    }
    /* the child's policy: never more than the spawner's, never more than its own */
    e = unit_policy(w->ct, c->vk->policy, c->derived, own, own_len, eff, derived, &why);
    if (e == -EACCES) {
        logf_(w, "container %s: spawn of %s refused: %s", w->ct->id, gpath, why);
        kiln__audit_deny(c->vk, "execve", gpath, EACCES, "trust:unit policy does not parse");
        c->vk->denials++;
    }
    if (e < 0) goto fail;
    if (policy_doc(w->ct, *eff, *derived, &ptext, &plen, &pdoc, p->policy) < 0) {
        kiln_vk_policy_free(*eff);
        *eff = NULL;
        e = -ENOMEM;
        goto fail;
    }
    if (kiln__audit_grants(c->vk)) {
        char jp[PATH_MAX + 16], sj[80], uj[80];
        snprintf(sj, sizeof sj, p->signer[0] ? "\"%s\"" : "null", p->signer);
        snprintf(uj, sizeof uj, own_id[0] ? "\"%s\"" : "null", own_id);
        kiln__audit(c->vk, "spawn",
                    "\"path\":%s,\"sha256\":\"%s\",\"signer\":%s,\"rule\":\"%s\","
                    "\"policy\":\"%s\",\"unitPolicy\":%s",
                    kiln__json_str(jp, sizeof jp, gpath), p->sha256, sj, rule, p->policy, uj);
    }
    free(pdoc);
    free(own);
    return m;
fail:
    free(own);
    close(m);
    return e;
}

/* kiln__policy_fs_granted_beneath callback: appends path to the JSON array ctx. */
static int append_path(const char *path, void *ctx)
{
    return json_array_append_new((json_t *)ctx, json_string(path)) < 0 ? -ENOMEM : 0;
}

/* The highest directories strictly beneath directory d that policy eff grants (`ro` at
 * least), in eff's rule order, each once (kiln__policy_fs_granted_beneath, the rule the
 * embedded kiln-stub follows too). Existence is not checked. Returns a new JSON array of
 * guest paths (NULL: out of memory). */
static json_t *granted_beneath(const struct kiln_vk_policy *eff, const char *d)
{
    json_t *out = json_array();
    if (out != NULL && kiln__policy_fs_granted_beneath(eff, d, append_path, out) < 0) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

/* The preopens a spawned child gets (a JSON array of guest paths): each of the spawner's
 * directories that the child's policy eff grants; one it denies is replaced by the highest
 * directories beneath it that eff grants and that exist (checked through a scratch vkernel
 * under eff), so a unit granted only /etc still reaches /etc through its spawner's "/". */
static json_t *child_dirs(struct worker *w, struct wconn *c, const struct kiln_vk_policy *eff)
{
    json_t *dirs = json_array(), *cand = NULL, *e, *f;
    struct kiln_vk *t = NULL;
    struct kiln_error err;
    int k, rule, g;
    size_t i, m;
    if (dirs == NULL) return NULL;
    for (k = 0; k < c->ndirs; k++) {
        const char *d = c->dirs[k];
        if (eff == NULL || kiln__policy_fs(eff, d, &rule) != KILN__FS_NONE) {
            json_array_append_new(dirs, json_string(d));
            continue;
        }
        json_decref(cand);
        if ((cand = granted_beneath(eff, d)) == NULL) goto out;
        json_array_foreach(cand, i, e)
        {
            const char *q = json_string_value(e);
            bool dup = false;
            json_array_foreach(dirs, m, f) dup |= strcmp(json_string_value(f), q) == 0;
            if (dup) continue;
            memset(&err, 0, sizeof err);
            if (t == NULL) {
                struct kiln_vk_policy *cp = NULL;
                if (kiln_vk_new(&t, &err) < 0) goto out;
                if (kiln_vk_policy_intersect(eff, NULL, &cp, &err) < 0) goto out;
                kiln_vk_set_policy(t, cp);
                if ((g = kiln_vk_mount(t, w->ct->root, "/", 0, &err)) < 0) goto out;
                kiln__fd_release(t, g);
            }
            if ((g = kiln__vk_open_grant(t, q, strlen(q))) < 0) continue; /* absent */
            kiln__fd_release(t, g);
            json_array_append_new(dirs, json_string(q));
        }
    }
out:
    json_decref(cand);
    kiln_vk_free(t);
    return dirs;
}

/* SPAWN: returns 0 (reply deferred or sent) or -1 to drop the connection. */
static int handle_spawn(struct worker *w, struct wconn *c, const struct kilnd_call *q,
                        const char *p0, size_t l0, const char *p1, size_t l1, int *fds, int nfds)
{
    struct wproc *par = &w->procs[c->proc], *p;
    json_t *o = NULL, *argv = NULL, *env = NULL, *dirs = NULL;
    char *txt = NULL;
    struct kiln_vk_policy *eff = NULL;
    bool derived = false;
    int r, mod = -1, sp[2] = {-1, -1}, k, pi;
    const char *s = p1, *end = p1 + l1;
    struct wconn *nc = NULL;
    if (nfds != 3) return -1;
    r = kiln__enter(c->vk, KILN_VK_SYS_execve);
    if (r < 0) goto reply;
    if (q->a[3] < 0 || q->a[4] < 0 || q->a[3] + q->a[4] > MAX_SPAWN_ARGS) {
        r = -E2BIG;
        goto reply;
    }
    argv = json_array();
    env = json_array();
    for (k = 0; k < q->a[3] + q->a[4]; k++) { /* NUL-terminated strings */
        const char *z = memchr(s, 0, (size_t)(end - s));
        if (z == NULL) {
            r = -EINVAL;
            goto reply;
        }
        if (k >= q->a[3] && strchr(s, '=') == NULL) {
            r = -EINVAL;
            goto reply;
        }
        json_array_append_new(k < q->a[3] ? argv : env, json_string(s));
        s = z + 1;
    }
    if (s != end || json_array_size(argv) + json_array_size(env) != (size_t)(q->a[3] + q->a[4])) {
        r = -EINVAL; /* not UTF-8, or trailing bytes */
        goto reply;
    }
    if (w->nconns >= MAX_CONNS || w->live >= w->ct->max_procs) {
        r = -EAGAIN; /* like fork(2) at RLIMIT_NPROC */
        goto reply;
    }
    pi = c->proc;
    if ((p = proc_new(w)) == NULL) {
        r = -EAGAIN;
        goto reply;
    }
    par = &w->procs[pi]; /* procs may have moved */
    p->ppid = par->vpid;
    p->uid = par->uid;
    p->gid = c->gid;
    p->spawned = true;
    p->conn_open = true;
    mod = spawn_module(w, c, p0, l0, p, &eff, &derived);
    if (mod < 0) {
        r = mod;
        mod = -1;
        goto undo;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
        (nc = calloc(1, sizeof *nc)) == NULL) {
        r = -EAGAIN;
        goto undo;
    }
    nc->sock = sp[0];
    sp[0] = -1;
    nc->pid = par->pid;
    nc->uid = par->uid;
    nc->gid = c->gid;
    nc->pidfd = -1;
    nc->proc = (int)(p - w->procs);
    nc->prebound = true;
    nc->spawn_policy = eff; /* installed at the child's HELLO */
    nc->derived = derived;
    eff = NULL;
    dirs = child_dirs(w, c, nc->spawn_policy);
    o = json_pack("{s:O,s:O,s:O}", "argv", argv, "env", env, "dirs", dirs);
    txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (txt == NULL) {
        r = -ENOMEM;
        goto undo;
    }
    {
        int32_t a[4] = {p->vpid, p->uid, p->gid, par->pid};
        int xf[5] = {mod, sp[1], fds[0], fds[1], fds[2]};
        if (ctl_send(w, KILND_C_EXEC, a, 4, 0, txt, strlen(txt), xf, 5) < 0) {
            r = -EAGAIN;
            goto undo;
        }
    }
    w->conns[w->nconns++] = nc;
    nc = NULL;
    c->spawn_pending = true;
    c->spawn_q = q->h;
    logf_(w, "container %s: pid %d spawns %s as pid %d", w->ct->id, par->vpid, p->unit, p->vpid);
    r = 0;
    goto out;
undo:
    p->failed = true;
    p->conn_open = false;
    p->spawned = false;
    proc_update(w, p);
reply:
    r = send_reply(c, &q->h, r, NULL, -1, NULL, 0) < 0 ? -1 : 0;
out:
    if (nc != NULL) {
        close(nc->sock);
        kiln_vk_policy_free(nc->spawn_policy);
        free(nc);
    }
    kiln_vk_policy_free(eff);
    if (mod >= 0) close(mod);
    if (sp[0] >= 0) close(sp[0]);
    if (sp[1] >= 0) close(sp[1]);
    free(txt);
    json_decref(o);
    json_decref(argv);
    json_decref(env);
    json_decref(dirs);
    return r;
}

static int handle_wait(struct worker *w, struct wconn *c, const struct kilnd_call *q)
{
    struct wproc *me = &w->procs[c->proc];
    int i, r, any = 0;
    int32_t st;
    r = kiln__enter(c->vk, KILN_VK_SYS_wait4);
    if (r < 0) goto reply;
    if ((q->a[1] & ~KILN_VK_WNOHANG) != 0 || q->a[0] == 0 || q->a[0] < -1) {
        r = -EINVAL;
        goto reply;
    }
    for (i = 0; i < w->nprocs; i++) {
        struct wproc *p = &w->procs[i];
        if (p->failed || p->ppid != me->vpid || p->waited) continue;
        if (q->a[0] != -1 && p->vpid != q->a[0]) continue;
        any = 1;
        if (p->done) {
            p->waited = true;
            st = wstatus(p);
            return send_reply(c, &q->h, p->vpid, NULL, -1, &st, sizeof st) < 0 ? -1 : 0;
        }
    }
    if (!any) {
        r = -ECHILD;
        goto reply;
    }
    if (q->a[1] & KILN_VK_WNOHANG) {
        st = 0;
        return send_reply(c, &q->h, 0, NULL, -1, &st, sizeof st) < 0 ? -1 : 0;
    }
    c->wait_pending = true;
    c->wait_q = q->h;
    c->wait_pid = q->a[0];
    return 0;
reply:
    c->vk->sys[KILN_VK_SYS_wait4].errors++;
    return send_reply(c, &q->h, r, NULL, -1, NULL, 0) < 0 ? -1 : 0;
}

static int handle_kill(struct worker *w, struct wconn *c, const struct kilnd_call *q)
{
    struct wproc *p;
    int r = kiln__enter(c->vk, KILN_VK_SYS_kill);
    char det[64];
    if (r < 0) goto reply;
    if (q->a[1] < 0 || q->a[1] > 31 || q->a[0] <= 0) {
        r = -EINVAL;
        goto reply;
    }
    p = proc_by_vpid(w, q->a[0]);
    snprintf(det, sizeof det, "pid %d", q->a[0]);
    if (p == NULL || p->done || (p->reaped && !p->conn_open)) {
        /* only this container's processes exist here */
        kiln__audit_deny(c->vk, "kill", det, ESRCH, "builtin:pid namespace");
        c->vk->denials++;
        r = -ESRCH;
        goto reply;
    }
    if (p->pidfd < 0) {
        r = -EAGAIN; /* spawn not finished */
        goto reply;
    }
    r = syscall(SYS_pidfd_send_signal, p->pidfd, q->a[1], NULL, 0) < 0 ? -errno : 0;
    if (kiln__audit_grants(c->vk))
        kiln__audit(c->vk, "signal", "\"target\":%d,\"signal\":%d,\"result\":%d", q->a[0], q->a[1],
                    r);
reply:
    if (r < 0) c->vk->sys[KILN_VK_SYS_kill].errors++;
    return send_reply(c, &q->h, r, NULL, -1, NULL, 0) < 0 ? -1 : 0;
}

/* ---- forwarded calls ---- */

/* Handles one forwarded call. Returns 0, or -1 to drop the connection. */
static int handle_call(struct worker *w, struct wconn *c, long n, int *fds, int nfds)
{
    struct kilnd_call q;
    const char *p0, *p1;
    _Alignas(16) char b0[PATH_MAX];
    char b1[PATH_MAX];
    size_t l0, l1;
    struct kiln_vk *vk = c->vk;
    int r, t = -1;
    if (n < (long)sizeof q) return -1;
    memcpy(&q, w->in, sizeof q);
    l0 = q.len[0];
    l1 = q.len[1];
    if (l0 > KILND_MSG_MAX || l1 > KILND_MSG_MAX || sizeof q + l0 + l1 != (size_t)n) return -1;
    p0 = (const char *)w->in + sizeof q;
    p1 = p0 + l0;
    /* the core reads a path it refuses as a C string for its audit event (path.c's escape
     * denials): hand it NUL-terminated copies, never the packet, whose bytes run on into
     * the next string or an earlier, longer packet of another connection */
    if (l0 < sizeof b0) {
        memcpy(b0, p0, l0);
        b0[l0] = 0;
        p0 = b0;
    }
    if (l1 < sizeof b1) {
        memcpy(b1, p1, l1);
        b1[l1] = 0;
        p1 = b1;
    }
    /* fds only with socket calls (one) and SPAWN (three) */
    if (nfds > 0 && !(q.h.op >= KILND_CONNECT && q.h.op <= KILND_ACCEPT) && q.h.op != KILND_SPAWN)
        return -1;
    switch (q.h.op) {
    case KILND_RELEASE:
        if (q.a[0] >= 0 && kiln__fd(vk, q.a[0]) != NULL && vk->fds[q.a[0]].kind == KILN_VK_DIR)
            kiln__fd_release(vk, q.a[0]);
        return 0;
    case KILND_OPENAT:
        /* never block kilnd: a FIFO would wait for its other end. The unit
         * gets the fd with the O_NONBLOCK it asked for. */
        r = kiln_vk_openat(vk, q.a[0], p0, l0, q.a[1] | O_NONBLOCK, (mode_t)q.a[2]);
        if (r >= 0 && !(q.a[1] & O_NONBLOCK)) {
            struct kiln_vk_fd *f = kiln__fd(vk, r);
            int fl = fcntl(f->host, F_GETFL);
            if (fl >= 0) fcntl(f->host, F_SETFL, fl & ~O_NONBLOCK);
            f->oflags &= ~O_NONBLOCK;
        }
        if (r >= 0) return reply_fd(c, &q.h, r) < 0 ? -1 : 0;
        break;
    case KILND_MKDIRAT:
        r = kiln_vk_mkdirat(vk, q.a[0], p0, l0, (mode_t)q.a[2]);
        break;
    case KILND_UNLINKAT:
        r = kiln_vk_unlinkat(vk, q.a[0], p0, l0, q.a[1]);
        break;
    case KILND_RENAMEAT:
        r = kiln_vk_renameat(vk, q.a[0], p0, l0, q.a[1], p1, l1);
        break;
    case KILND_LINKAT:
        r = kiln_vk_linkat(vk, q.a[0], p0, l0, q.a[1], p1, l1, q.a[2]);
        break;
    case KILND_SYMLINKAT:
        r = kiln_vk_symlinkat(vk, p1, l1, q.a[0], p0, l0);
        break;
    case KILND_READLINKAT: {
        char buf[PATH_MAX];
        size_t size = q.a[1] < 0 ? 0 : q.a[1] > PATH_MAX ? PATH_MAX : (size_t)q.a[1];
        ssize_t m = kiln_vk_readlinkat(vk, q.a[0], p0, l0, buf, size);
        if (m >= 0) return send_reply(c, &q.h, (int)m, NULL, -1, buf, (size_t)m) < 0 ? -1 : 0;
        r = (int)m;
        break;
    }
    case KILND_FSTATAT: {
        struct stat st;
        r = kiln_vk_fstatat(vk, q.a[0], p0, l0, &st, q.a[1]);
        if (r >= 0) return send_reply(c, &q.h, r, NULL, -1, &st, sizeof st) < 0 ? -1 : 0;
        break;
    }
    case KILND_UTIMENSAT: {
        struct timespec ts[2] = {{(time_t)q.x[0], (long)q.x[1]}, {(time_t)q.x[2], (long)q.x[3]}};
        r = kiln_vk_utimensat(vk, q.a[0], p0, l0, q.a[2] ? ts : NULL, q.a[1]);
        break;
    }
    case KILND_SOCKET:
        r = kiln_vk_socket(vk, q.a[0], q.a[1], q.a[2]);
        if (r >= 0) return reply_fd(c, &q.h, r) < 0 ? -1 : 0;
        break;
    case KILND_CONNECT:
    case KILND_BIND:
    case KILND_LISTEN:
    case KILND_ACCEPT:
        if ((t = temp_socket(c, fds, nfds)) < 0) {
            r = t;
            break;
        }
        if (q.h.op == KILND_CONNECT) {
            /* a blocking connect would stall the container: start it
             * non-blocking; the unit waits for completion itself */
            int fl = fcntl(vk->fds[t].host, F_GETFL);
            if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(vk->fds[t].host, F_SETFL, fl | O_NONBLOCK);
            r = kiln_vk_connect(vk, t, (const struct sockaddr *)p0, l0);
            if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(vk->fds[t].host, F_SETFL, fl);
        } else if (q.h.op == KILND_BIND)
            r = kiln_vk_bind(vk, t, (const struct sockaddr *)p0, l0);
        else if (q.h.op == KILND_LISTEN)
            r = kiln_vk_listen_fd(vk, t, q.a[0]);
        else {
            struct pollfd pf = {.fd = vk->fds[t].host, .events = POLLIN};
            vk->fds[t].kind = KILN_VK_LISTENER;
            if (q.a[1] == 1 && (poll(&pf, 1, 0) <= 0 || !(pf.revents & POLLIN))) {
                r = -EAGAIN; /* not ready: never block on a unit's behalf */
            } else {
                int fl = fcntl(vk->fds[t].host, F_GETFL);
                r = (fl & O_NONBLOCK) || q.a[1] == 1 ? kiln_vk_accept(vk, t, q.a[0]) : -EAGAIN;
            }
            kiln__fd_release(vk, t);
            if (r >= 0) return reply_fd(c, &q.h, r) < 0 ? -1 : 0;
            t = -1;
        }
        if (t >= 0) kiln__fd_release(vk, t);
        break;
    case KILND_SPAWN:
        return handle_spawn(w, c, &q, p0, l0, p1, l1, fds, nfds);
    case KILND_WAIT:
        return handle_wait(w, c, &q);
    case KILND_KILL:
        return handle_kill(w, c, &q);
    default:
        return -1;
    }
    return send_reply(c, &q.h, r, NULL, -1, NULL, 0) < 0 ? -1 : 0;
}

/* ---- HELLO ---- */

static int refuse(struct worker *w, struct wconn *c, const struct kilnd_hdr *q, int e,
                  const char *why)
{
    struct kilnd_hdr h = *q;
    char *txt;
    json_t *o = json_pack("{s:s}", "error", why);
    txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    h.result = -e;
    kiln__kilnd_send(c->sock, &h, sizeof h, txt, txt ? strlen(txt) : 0, NULL, 0);
    logf_(w, "refused pid %d uid %d: %s", c->pid, c->uid, why);
    free(txt);
    json_decref(o);
    return -1;
}

/* Opens guest directory path in c's shadow vkernel as a preopen (the filesystem rules of its
 * policy apply), adds its grant entry to pre and its host fd to sendfds, and remembers it as a
 * directory spawned children may inherit. Returns the handle, -EMFILE when the grant already
 * carries KILND_MAX_FDS descriptors, or the open's -errno. A path already granted in pre is
 * granted again (the client installs each entry). */
static int grant_dir(struct wconn *c, const char *path, json_t *pre, int *sendfds, int *nsend)
{
    char **nd;
    int g;
    if (*nsend >= KILND_MAX_FDS) return -EMFILE;
    g = kiln__vk_open_grant(c->vk, path, strlen(path));
    if (g < 0) return g;
    c->vk->fds[g].flags |= KILN_VK_FD_PREOPEN;
    json_array_append_new(pre, json_pack("{s:s,s:i,s:b,s:i}", "path", path, "handle", g, "ro",
                                         (c->vk->fds[g].flags & KILN_VK_FD_RO) != 0, "fd", *nsend));
    sendfds[(*nsend)++] = c->vk->fds[g].host;
    nd = realloc(c->dirs, (size_t)(c->ndirs + 1) * sizeof *nd);
    if (nd != NULL) {
        c->dirs = nd;
        if ((nd[c->ndirs] = strdup(path)) != NULL) c->ndirs++;
    }
    return g;
}

/* HELLO on a connection the parent checked (peer credentials) or on a
 * spawned unit's pre-bound connection. Returns 0 or -1 to drop it. */
static int handle_hello(struct worker *w, struct wconn *c, const uint8_t *pkt, long n, int *fds,
                        int nfds)
{
    struct kiln__kilnd_ct *ct = w->ct;
    struct kilnd_hdr q;
    json_t *j, *grant = NULL, *pre, *lis, *den, *e;
    json_error_t je;
    const char *id, *why = NULL;
    struct wproc tmp, *p = &tmp;
    struct kiln_error err;
    struct kiln_vk_policy *pol = NULL;
    int sendfds[KILND_MAX_FDS], nsend = 0, r = -1, root;
    size_t i, own_len = 0, plen = 0;
    uint8_t *own = NULL;
    const char *ptext = NULL;
    char *txt = NULL, *pdoc = NULL;
    memcpy(&q, pkt, sizeof q);
    j = json_loadb((const char *)pkt + sizeof q, (size_t)n - sizeof q, 0, &je);
    id = json_string_value(json_object_get(j, "container"));
    if (j == NULL || json_integer_value(json_object_get(j, "protocol")) != KILND_VERSION) {
        r = refuse(w, c, &q, EPROTO, "hello: not a protocol 1 manifest summary");
        goto out;
    }
    if (id == NULL || strcmp(id, ct->id) != 0) {
        r = refuse(w, c, &q, EINVAL, "hello: bad container id");
        goto out;
    }
    if (c->prebound) {
        p = &w->procs[c->proc];
    } else {
        memset(p, 0, sizeof *p);
        p->pid = c->pid;
        p->uid = c->uid;
        p->gid = c->gid;
        snprintf(p->unit, sizeof p->unit, "%s",
                 json_string_value(json_object_get(j, "unit"))
                     ? json_string_value(json_object_get(j, "unit"))
                     : "");
        snprintf(p->abi, sizeof p->abi, "%s",
                 json_string_value(json_object_get(j, "abi"))
                     ? json_string_value(json_object_get(j, "abi"))
                     : "");
        if (nfds > 1) {
            r = refuse(w, c, &q, EINVAL, "hello: more than one unit fd");
            goto out;
        }
        if (nfds == 1 && digest_unit(w, fds[0], p, &own, &own_len, &why) < 0) {
            r = refuse(w, c, &q, EACCES, why);
            goto out;
        }
        if (ct->require_signed && p->signer[0] == 0) {
            r = refuse(w, c, &q, EACCES, "container requires a signed unit");
            goto out;
        }
    }
    /* the shadow vkernel: root at "/", the policy, the container's audit log */
    memset(&err, 0, sizeof err);
    if (kiln_vk_new(&c->vk, &err) < 0) goto nomem;
    kiln_vk_set_audit_fd(c->vk, dup(ct->audit_fd));
    c->vk->audit_pid = c->prebound ? w->procs[c->proc].pid : c->pid;
    if (c->prebound) { /* worked out at the spawn */
        pol = c->spawn_policy;
        c->spawn_policy = NULL;
    } else {
        /* the container's policy, narrowed by the unit's own signed policy (an exec'd unit) */
        struct kiln_vk_policy *ctp = NULL;
        if (ct->policy_text != NULL &&
            kiln_vk_policy_parse(ct->policy_text, ct->policy_len, ct->policy_path, &ctp, &err) < 0)
            goto nomem;
        if (own != NULL) {
            r = unit_policy(ct, ctp, false, own, own_len, &pol, &c->derived, &why);
            kiln_vk_policy_free(ctp);
            if (r < 0) {
                r = refuse(w, c, &q, -r, why);
                goto out;
            }
        } else
            pol = ctp;
    }
    kiln_vk_set_policy(c->vk, pol);
    if (policy_doc(ct, pol, c->derived, &ptext, &plen, &pdoc, p->policy) < 0) goto nomem;
    root = kiln_vk_mount(c->vk, ct->root, "/", 0, &err);
    if (root < 0) {
        r = refuse(w, c, &q, EIO, "container root cannot be opened");
        goto out;
    }
    kiln__fd_release(c->vk, root); /* the unit gets only what it asked for */
    grant = json_object();
    pre = json_array();
    lis = json_array();
    den = json_array();
    json_object_set_new(grant, "protocol", json_integer(KILND_VERSION));
    json_object_set_new(grant, "container", json_string(ct->id));
    json_object_set_new(grant, "policy", ptext ? json_stringn(ptext, plen) : json_null());
    json_array_foreach(json_object_get(j, "paths"), i, e)
    {
        const char *path = json_string_value(json_object_get(e, "path"));
        int g, rule;
        if (path == NULL || json_is_true(json_object_get(e, "ro"))) {
            json_array_append_new(den, json_pack("{s:s?,s:s}", "path", path, "error",
                                                 "read-only narrowing is the policy's job here"));
            continue;
        }
        if (json_is_true(json_object_get(e, "beneath")) && pol != NULL &&
            kiln__policy_fs(pol, path, &rule) == KILN__FS_NONE) {
            /* the policy denies the directory itself: its granted subtrees instead */
            json_t *cand = granted_beneath(pol, path), *f;
            size_t k;
            if (cand == NULL) goto nomem;
            json_array_foreach(cand, k, f)
            {
                const char *q = json_string_value(f);
                g = grant_dir(c, q, pre, sendfds, &nsend);
                if (g < 0 && g != -ENOENT && g != -ENOTDIR) /* absent: nothing to grant */
                    json_array_append_new(
                        den, json_pack("{s:s,s:s}", "path", q, "error",
                                       g == -EMFILE ? "too many preopens" : strerror(-g)));
            }
            json_decref(cand);
            continue;
        }
        g = grant_dir(c, path, pre, sendfds, &nsend); /* a mount, as embedded */
        if (g < 0)
            json_array_append_new(den,
                                  json_pack("{s:s,s:s}", "path", path, "error",
                                            g == -EMFILE ? "too many preopens" : strerror(-g)));
    }
    json_array_foreach(json_object_get(j, "listen"), i, e)
    {
        const char *spec = json_string_value(e);
        int g;
        memset(&err, 0, sizeof err);
        if (spec == NULL || nsend >= KILND_MAX_FDS || (g = kiln_vk_listen(c->vk, spec, &err)) < 0) {
            json_array_append_new(den, json_pack("{s:s?,s:s}", "listen", spec, "error",
                                                 err.msg[0] ? err.msg : "refused"));
            continue;
        }
        json_array_append_new(lis, json_pack("{s:s,s:i}", "spec", spec, "fd", nsend));
        sendfds[nsend++] = dup(c->vk->fds[g].host); /* closed below, after sending */
        kiln__fd_release(c->vk, g);
    }
    json_object_set_new(grant, "preopens", pre);
    json_object_set_new(grant, "listeners", lis);
    json_object_set_new(grant, "denied", den);
    /* the process table: a new process (or the spawned one, pre-registered) */
    if (!c->prebound) {
        struct wproc *np = proc_new(w);
        if (np == NULL) {
            r = refuse(w, c, &q, EAGAIN, "too many processes in this container");
            goto out;
        }
        tmp.vpid = np->vpid;
        tmp.start_ns = np->start_ns;
        tmp.pidfd = c->pidfd;
        c->pidfd = -1;
        tmp.conn_open = true;
        *np = tmp;
        p = np;
    }
    c->proc = (int)(p - w->procs);
    c->vk->audit_pid = p->pid; /* a spawned unit's host pid may come later (C_EXECED) */
    json_object_set_new(grant, "pid", json_integer(p->vpid));
    json_object_set_new(grant, "exec",
                        json_boolean(pol == NULL || kiln__policy_exec_count(pol) > 0));
    txt = json_dumps(grant, JSON_COMPACT);
    if (txt == NULL || strlen(txt) + sizeof q > KILND_MSG_MAX) goto nomem;
    q.result = 0;
    if (kiln__kilnd_send(c->sock, &q, sizeof q, txt, strlen(txt), sendfds, nsend) < 0) goto out;
    c->hello = true;
    if (c->derived && !c->prebound && kiln__audit_grants(c->vk)) {
        char uj[300];
        kiln__audit(c->vk, "policy", "\"unit\":%s,\"sha256\":\"%s\",\"policy\":\"%s\"",
                    kiln__json_str(uj, sizeof uj, p->unit), p->sha256, p->policy);
    }
    logf_(w, "container %s: pid %d attached (unit %s sha256:%s%s%s, policy %s%s, %zu preopens)",
          ct->id, c->prebound ? p->pid : c->pid, p->unit, p->sha256[0] ? p->sha256 : "-",
          p->signer[0] ? " signer " : "", p->signer, p->policy, c->derived ? " (intersection)" : "",
          json_array_size(pre));
    r = 0;
    goto out;
nomem:
    r = refuse(w, c, &q, ENOMEM, err.msg[0] ? err.msg : "out of memory");
out:
    /* listener fds were dup'd for sending: close those copies */
    if (grant != NULL) {
        json_array_foreach(json_object_get(grant, "listeners"), i, e)
        {
            json_int_t k = json_integer_value(json_object_get(e, "fd"));
            if (k >= 0 && k < nsend) close(sendfds[k]);
        }
    }
    free(txt);
    free(own);
    free(pdoc);
    json_decref(grant);
    json_decref(j);
    return r;
}

static void merge_sys(struct worker *w, json_t *sys)
{
    const char *k;
    json_t *v;
    int i;
    json_object_foreach(sys, k, v)
    {
        for (i = 0; i < KILN_VK_SYS__COUNT; i++)
            if (strcmp(kiln_vk_sys_name(i), k) == 0) {
                w->sys[i].calls += (uint64_t)json_integer_value(json_object_get(v, "calls"));
                w->sys[i].errors += (uint64_t)json_integer_value(json_object_get(v, "errors"));
                break;
            }
    }
}

static int handle_exit(struct worker *w, struct wconn *c, long n)
{
    struct kilnd_hdr q;
    json_t *j, *v;
    json_error_t je;
    const char *k, *reason;
    struct wproc *p = &w->procs[c->proc];
    memcpy(&q, w->in, sizeof q);
    j = json_loadb((const char *)w->in + sizeof q, (size_t)n - sizeof q, 0, &je);
    if (j == NULL || p->exited) {
        json_decref(j);
        return -1;
    }
    p->exited = true;
    p->end_ns = now_ns();
    p->code = (int)json_integer_value(json_object_get(j, "code"));
    reason = json_string_value(json_object_get(j, "reason"));
    snprintf(p->reason, sizeof p->reason, "%s", reason ? reason : "exit");
    if (strncmp(p->reason, "signal ", 7) == 0) p->sig = atoi(p->reason + 7) & 0x7f;
    merge_sys(w, json_object_get(j, "syscalls"));
    w->denials += (uint64_t)json_integer_value(json_object_get(j, "denials"));
    json_object_foreach(json_object_get(j, "abi"), k, v)
    {
        json_int_t old = json_integer_value(json_object_get(w->abi, k));
        json_object_set_new(w->abi, k, json_integer(old + json_integer_value(v)));
    }
    json_decref(j);
    q.result = 0;
    return kiln__kilnd_send(c->sock, &q, sizeof q, NULL, 0, NULL, 0) < 0 ? -1 : 0;
}

/* ---- run attestation (signed and written by the parent) ---- */

static void end_run(struct worker *w)
{
    json_t *st = json_object(), *subj = json_array(), *pred = json_object(), *procs = json_array();
    json_t *calls = json_object();
    char ts[64], *payload = NULL;
    int i, k, n = 0;
    int64_t end = now_ns();
    for (i = 0; i < w->nprocs; i++) {
        const struct wproc *p = &w->procs[i];
        json_t *o;
        char a[64], b[64];
        bool dup = false, known;
        if (p->failed) continue;
        n++;
        for (k = 0; k < i; k++)
            dup |= !w->procs[k].failed && strcmp(w->procs[k].sha256, p->sha256) == 0;
        if (p->sha256[0] && !dup)
            json_array_append_new(
                subj, json_pack("{s:s,s:{s:s}}", "name", p->unit, "digest", "sha256", p->sha256));
        rfc3339(p->start_ns, a, sizeof a);
        rfc3339(p->end_ns ? p->end_ns : end, b, sizeof b);
        o = json_pack("{s:i,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s}", "pid", p->pid, "vpid", p->vpid,
                      "ppid", p->ppid, "uid", p->uid, "unit", p->unit, "abi", p->abi, "sha256",
                      p->sha256, "started", a, "finished", b);
        json_object_set_new(o, "signer", p->signer[0] ? json_string(p->signer) : json_null());
        /* the policy the process ran under: the container's, or its intersection with the
         * unit's own signed policy (docs/guest-proc.md) */
        if (p->policy[0]) json_object_set_new(o, "policy", json_string(p->policy));
        known = p->exited || p->reaped;
        json_object_set_new(o, "exitCode", known ? json_integer(p->code) : json_null());
        json_object_set_new(o, "signal", p->sig ? json_integer(p->sig) : json_null());
        json_object_set_new(o, "reason",
                            json_string(p->exited   ? p->reason
                                        : p->reaped ? (p->sig ? "killed"
                                                              : "exit "
                                                                "without "
                                                                "report")
                                                    : "connection lost"));
        json_array_append_new(procs, o);
    }
    for (i = 0; i < KILN_VK_SYS__COUNT; i++)
        if (w->sys[i].calls)
            json_object_set_new(calls, kiln_vk_sys_name(i),
                                json_pack("{s:I,s:I}", "calls", (json_int_t)w->sys[i].calls,
                                          "errors", (json_int_t)w->sys[i].errors));
    json_object_set_new(st, "_type", json_string(KILN_STATEMENT_TYPE));
    json_object_set_new(st, "subject", subj);
    json_object_set_new(st, "predicateType", json_string("https://kiln.dev/run/v1"));
    json_object_set_new(pred, "container", json_string(w->ct->id));
    {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        json_object_set_new(pred, "node", json_string(host));
    }
    json_object_set_new(pred, "policy",
                        w->ct->policy_text
                            ? json_pack("{s:s,s:{s:s}}", "name", w->ct->policy_path, "digest",
                                        "sha256", w->ct->policy_sha256)
                            : json_pack("{s:s,s:n}", "name", "builtin:permissive", "digest"));
    rfc3339(w->run_start_ns, ts, sizeof ts);
    json_object_set_new(pred, "started", json_string(ts));
    rfc3339(end, ts, sizeof ts);
    json_object_set_new(pred, "finished", json_string(ts));
    json_object_set_new(pred, "processes", procs);
    json_object_set_new(pred, "calls", calls);
    json_object_set(pred, "abiCalls", w->abi ? w->abi : json_object());
    json_object_set_new(pred, "denials", json_integer((json_int_t)w->denials));
    json_object_set_new(st, "predicate", pred);
    payload = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    if (n > 0 && payload != NULL &&
        (strlen(payload) > KILND_CTL_MAX - sizeof(struct kilnd_ctl) ||
         ctl_send(w, KILND_C_ATTEST, NULL, 0, w->run_start_ns, payload, strlen(payload), NULL, 0) <
             0))
        logf_(w, "container %s: run record not sent to the parent (%zu bytes)", w->ct->id,
              strlen(payload));
    free(payload);
    json_decref(st);
    w->nprocs = 0;
    {
        int32_t a[1] = {(int32_t)w->conns_received};
        ctl_send(w, KILND_C_IDLE, a, 1, 0, NULL, 0, NULL, 0);
        w->idle_sent = true;
    }
}

/* ---- connections ---- */

static void drop(struct worker *w, int i, const char *why)
{
    struct wconn *c = w->conns[i];
    int k;
    if (why != NULL) logf_(w, "pid %d: connection dropped: %s", c->pid, why);
    w->conns[i] = w->conns[--w->nconns];
    if (c->vk != NULL) {
        for (k = 0; k < KILN_VK_SYS__COUNT; k++) {
            w->sys[k].calls += c->vk->sys[k].calls;
            w->sys[k].errors += c->vk->sys[k].errors;
        }
        w->denials += c->vk->denials;
    }
    kiln_vk_free(c->vk);
    kiln_vk_policy_free(c->spawn_policy);
    close(c->sock);
    if (c->pidfd >= 0) close(c->pidfd);
    for (k = 0; k < c->ndirs; k++)
        free(c->dirs[k]);
    free(c->dirs);
    if (c->proc >= 0 && c->proc < w->nprocs) {
        struct wproc *p = &w->procs[c->proc];
        if (!p->exited) {
            p->end_ns = now_ns();
            if (c->hello)
                logf_(w, "container %s: pid %d lost its connection without exit", w->ct->id,
                      p->pid);
        }
        p->conn_open = false;
        free(c);
        proc_update(w, p);
        return;
    }
    free(c);
}

static void on_packet(struct worker *w, int i)
{
    struct wconn *c = w->conns[i];
    int fds[KILND_MAX_FDS], nfds = 0, r = -1, k;
    struct kilnd_hdr h;
    long n = kiln__kilnd_recv(c->sock, w->in, KILND_MSG_MAX + 1, fds, KILND_MAX_FDS, &nfds);
    if (n == 0 || n == -ECONNRESET) {
        drop(w, i, NULL);
        return;
    }
    if (n < 0) {
        drop(w, i, n == -EMSGSIZE ? "oversized packet" : strerror((int)-n));
        return;
    }
    if (kiln__kilnd_check(w->in, n, sizeof h) < 0) {
        for (k = 0; k < nfds; k++)
            close(fds[k]);
        drop(w, i, "not a kilnd protocol 1 packet");
        return;
    }
    memcpy(&h, w->in, sizeof h);
    if (c->wait_pending && h.op == KILND_EXIT && nfds == 0) {
        c->wait_pending = false; /* the unit stops while waiting: the wait is cancelled */
        r = handle_exit(w, c, n);
    } else if (c->wait_pending || c->spawn_pending)
        r = -1; /* the unit waits for a deferred reply: nothing else may arrive */
    else if (!c->hello)
        r = h.op == KILND_HELLO ? handle_hello(w, c, w->in, n, fds, nfds) : -1;
    else if (h.op == KILND_EXIT && nfds == 0)
        r = handle_exit(w, c, n);
    else if (h.op != KILND_HELLO)
        r = handle_call(w, c, n, fds, nfds);
    for (k = 0; k < nfds; k++)
        if (fds[k] >= 0) close(fds[k]);
    if (r < 0) drop(w, i, !c->hello && h.op == KILND_HELLO ? NULL : "protocol violation");
}

/* C_CONN: a connection the parent checked; its HELLO packet follows. */
static void on_conn(struct worker *w, const struct kilnd_ctl *m, int *fds, int nfds)
{
    struct wconn *c;
    int k, base = m->a[3] ? 2 : 1;
    uint32_t len;
    w->conns_received++;
    if (nfds < base || w->nconns >= MAX_CONNS || (c = calloc(1, sizeof *c)) == NULL) {
        for (k = 0; k < nfds; k++)
            close(fds[k]);
        return;
    }
    c->sock = fds[0];
    c->pidfd = m->a[3] ? fds[1] : -1;
    c->pid = m->a[0];
    c->uid = m->a[1];
    c->gid = m->a[2];
    c->proc = -1;
    w->conns[w->nconns++] = c;
    len = m->len; /* m lies in w->in: read it before the move */
    memmove(w->in, (const uint8_t *)m + sizeof *m, len);
    if (handle_hello(w, c, w->in, (long)len, fds + base, nfds - base) < 0)
        drop(w, w->nconns - 1, NULL);
    for (k = base; k < nfds; k++)
        close(fds[k]);
    if (w->live == 0) { /* refused: still idle */
        int32_t a[1] = {(int32_t)w->conns_received};
        ctl_send(w, KILND_C_IDLE, a, 1, 0, NULL, 0, NULL, 0);
    }
}

static void on_execed(struct worker *w, const struct kilnd_ctl *m, int *fds, int nfds)
{
    struct wproc *p = proc_by_vpid(w, m->a[0]);
    struct wproc *par;
    struct wconn *c, *pc;
    int i;
    if (p == NULL || !p->spawned || p->pid != 0) {
        for (i = 0; i < nfds; i++)
            close(fds[i]);
        return;
    }
    par = proc_by_vpid(w, p->ppid);
    pc = par ? conn_of_proc(w, par) : NULL;
    if (m->a[1] <= 0) {
        logf_(w, "container %s: spawn of %s failed: %s", w->ct->id, p->unit,
              strerror(m->a[1] < 0 ? -m->a[1] : EIO));
        for (i = 0; i < w->nconns; i++)
            if (w->conns[i]->proc == (int)(p - w->procs)) {
                w->conns[i]->proc = -1;
                drop(w, i, NULL);
                break;
            }
        p->failed = true;
        p->conn_open = false;
        p->spawned = false;
        if (pc != NULL && pc->spawn_pending) {
            pc->spawn_pending = false;
            send_reply(pc, &pc->spawn_q, m->a[1] < 0 ? m->a[1] : -EIO, NULL, -1, NULL, 0);
        }
        proc_update(w, p);
        return;
    }
    p->pid = m->a[1];
    c = conn_of_proc(w, p);
    if (c != NULL && c->vk != NULL) c->vk->audit_pid = p->pid;
    if (nfds == 1) p->pidfd = fds[0];
    for (i = 1; i < nfds; i++)
        close(fds[i]);
    c = pc;
    if (c != NULL && c->spawn_pending) {
        c->spawn_pending = false;
        if (send_reply(c, &c->spawn_q, p->vpid, NULL, -1, NULL, 0) < 0)
            shutdown(c->sock, SHUT_RDWR);
    }
}

static void on_reaped(struct worker *w, const struct kilnd_ctl *m)
{
    struct wproc *p = proc_by_vpid(w, m->a[0]);
    int st = m->a[2];
    if (p == NULL || !p->spawned || p->pid != m->a[1] || p->reaped) return;
    p->reaped = true;
    if (!p->exited) {
        if (WIFSIGNALED(st)) {
            p->sig = WTERMSIG(st);
            p->code = 128 + p->sig;
        } else
            p->code = WEXITSTATUS(st);
    }
    if (p->end_ns == 0) p->end_ns = now_ns();
    proc_update(w, p);
}

/* One control message. Returns 0, or -1 when the worker must stop. */
static int on_ctl(struct worker *w)
{
    int fds[KILND_MAX_FDS], nfds = 0, k;
    struct kilnd_ctl m;
    long n = kiln__kilnd_recv(w->ctl, w->in, KILND_CTL_MAX + 1, fds, KILND_MAX_FDS, &nfds);
    if (n <= 0) return -1; /* the parent let us go (or died) */
    if (kiln__kilnd_check(w->in, n, sizeof m) < 0) goto bad;
    memcpy(&m, w->in, sizeof m);
    if (sizeof m + m.len != (size_t)n) goto bad;
    switch (m.h.op) {
    case KILND_C_CONN:
        on_conn(w, (const struct kilnd_ctl *)w->in, fds, nfds);
        return 0;
    case KILND_C_EXECED:
        on_execed(w, &m, fds, nfds);
        return 0;
    case KILND_C_REAPED:
        on_reaped(w, &m);
        break;
    case KILND_C_STOP:
        for (k = 0; k < nfds; k++)
            close(fds[k]);
        return -1;
    default:
        goto bad;
    }
    for (k = 0; k < nfds; k++)
        close(fds[k]);
    return 0;
bad:
    for (k = 0; k < nfds; k++)
        close(fds[k]);
    logf_(w, "container %s: bad control message", w->ct->id);
    return -1;
}

/* Runs the worker; see server.h. */
int kiln__kilnd_worker(const struct kiln_kilnd_config *cfg, struct kiln__kilnd_ct *ct, int ctl,
                       struct kiln_trust_store *trust)
{
    struct worker *w = calloc(1, sizeof *w);
    struct pollfd *pf = NULL;
    const char *why = NULL;
    int i, r;
    bool landlock = getenv("KILN_NO_LANDLOCK") == NULL, seal = getenv("KILN_NO_SEAL") == NULL;
    if (w == NULL || (w->in = malloc(KILND_CTL_MAX + 1)) == NULL ||
        (pf = calloc(MAX_CONNS + 1, sizeof *pf)) == NULL)
        return 1;
    w->cfg = cfg;
    w->ct = ct;
    w->ctl = ctl;
    w->trust = trust;
    if ((r = kiln__kilnd_confine_worker(ct, landlock, seal, &why)) < 0) {
        logf_(w, "container %s: worker cannot confine itself (%s: %s); refusing to serve", ct->id,
              why, strerror(-r));
        return 1;
    }
    for (;;) {
        int n = w->nconns;
        pf[0].fd = w->ctl;
        pf[0].events = POLLIN;
        pf[0].revents = 0;
        for (i = 0; i < n; i++) {
            pf[i + 1].fd = w->conns[i]->sock;
            pf[i + 1].events = POLLIN;
            pf[i + 1].revents = 0;
        }
        if (poll(pf, (nfds_t)n + 1, -1) < 0) continue;
        /* control first: a spawned unit's C_EXECED (its host pid) is queued
         * before the unit can send its HELLO. The control message may change
         * the connection table: poll again before serving connections. */
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (on_ctl(w) < 0) break;
            continue;
        }
        /* back to front: drop() moves the last connection into slot i */
        for (i = n - 1; i >= 0; i--) {
            if (pf[i + 1].revents & POLLIN)
                on_packet(w, i);
            else if (pf[i + 1].revents & (POLLHUP | POLLERR | POLLNVAL))
                drop(w, i, NULL);
        }
    }
    /* stopping (or the parent is gone): every process still here is lost */
    while (w->nconns > 0)
        drop(w, w->nconns - 1, NULL);
    for (i = 0; i < w->nprocs && w->live > 0; i++) {
        struct wproc *p = &w->procs[i];
        p->spawned = false; /* no reaping any more */
        proc_update(w, p);
    }
    json_decref(w->abi);
    free(w->procs);
    free(w->in);
    free(pf);
    free(w);
    return 0;
}
