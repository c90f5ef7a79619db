/*
 * server.c — kilnd: one host daemon serving the vkernels of many containers
 * over a SOCK_SEQPACKET unix socket (protocol: proto.h,
 * docs/kilnd-protocol.md).
 *
 * Model. A container is registered by a file <config_dir>/<id>.json (root
 * directory, policy file, allowed peer uid/pid), read when its first unit
 * connects and re-read at the start of every run. Each connection is one unit
 * process of one container; after HELLO (peer credentials checked with
 * SO_PEERCRED, grant = requested preopens/listeners that the policy allows)
 * kilnd holds a "shadow" struct kiln_vk for it: the container root mounted
 * at "/", the container's policy, the container's audit log. Forwarded calls
 * run through the same core functions as in the embedded placement, on that
 * shadow vk; new fds go back by SCM_RIGHTS.
 *
 * Handles: directories the unit may use as lookup bases stay open in the
 * shadow fd table; their slot number is the handle the unit names them by.
 * Nothing else stays: files and sockets are released once sent. The shadow's
 * own root preopen is released at once, so a unit reaches only what it was
 * granted. Sockets come with their request and are installed only for the
 * duration of the call.
 *
 * Process table and run record (per container): one entry per connection
 * (pid, uid, unit digest and signer, start, end, exit code). A run starts
 * with the first connection and ends when the last one closes; then the run
 * attestation (in-toto statement, DSSE-signed with the node key) is written
 * to <state_dir>/<id>/run-<start>.json via a temporary file and rename.
 *
 * Robustness: kilnd never blocks on a unit (accept only when ready, one
 * packet per poll wakeup); a malformed, oversized or out-of-protocol packet
 * drops that connection (logged); a client that dies mid-request just closes
 * its connection. Everything is single-threaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "vkernel/daemon/proto.h"
#include "vkernel/daemon/server.h"
#include "vkernel/vk.h"

#define MAX_CONNS 1024

/* One unit process in a container's process table. */
struct proc {
    int pid, uid;
    char unit[256];  /* name the unit gave */
    char abi[64];    /* guest ABI it presented */
    char sha256[65]; /* digest kilnd computed of the unit fd ("" = none given) */
    char signer[65]; /* key id of the verified signer ("" = unsigned module) */
    int64_t start_ns, end_ns;
    int code; /* exit code (valid when exited) */
    char reason[128];
    bool exited; /* EXIT received */
    bool lost;   /* connection closed without EXIT */
};

struct container {
    char id[65];
    char root[PATH_MAX];
    char policy_path[PATH_MAX];
    char *policy_text; /* NULL = the permissive built-in policy */
    size_t policy_len;
    char policy_sha256[65];
    long uid, pid; /* allowed peer; pid -1 = any */
    bool require_signed;
    int audit_fd;
    /* the current run */
    int live;
    int64_t run_start_ns;
    struct proc *procs;
    int nprocs;
    struct kiln__counter sys[KILN_VK_SYS__COUNT];
    uint64_t denials;
    json_t *abi; /* ABI call name -> count */
    struct container *next;
};

struct conn {
    int sock;
    int pid, uid;
    struct container *ct; /* NULL before HELLO */
    struct kiln_vk *vk;   /* shadow vkernel, after HELLO */
    int proc;             /* index in ct->procs */
};

struct server {
    const struct kiln_kilnd_config *cfg;
    struct container *cts;
    struct conn conns[MAX_CONNS];
    int nconns;
    struct kiln_seckey key;
    bool have_key;
    struct kiln_trust_store *trust;
    uint8_t in[KILND_MSG_MAX + 1];
    uint8_t out[KILND_MSG_MAX];
};

static void logf_(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct server *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (s->cfg->log == NULL) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->cfg->log(line);
}

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

static void free_container(struct container *ct)
{
    if (ct == NULL) return;
    free(ct->policy_text);
    free(ct->procs);
    json_decref(ct->abi);
    if (ct->audit_fd >= 0) close(ct->audit_fd);
    free(ct);
}

/* Loads <config_dir>/<id>.json. Returns the container or NULL (*why set). */
static struct container *load_container(struct server *s, const char *id, const char **why)
{
    char path[PATH_MAX], dir[PATH_MAX];
    struct container *ct = NULL;
    json_t *j = NULL, *v;
    json_error_t je;
    const char *root, *pol;
    static char msg[512];
    struct container **pp;
    for (pp = &s->cts; *pp != NULL; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0) {
            if ((*pp)->live > 0) return *pp;
            /* between runs: re-read the registration (kilnd register may have
             * changed it); nothing refers to an idle container */
            ct = *pp;
            *pp = ct->next;
            free_container(ct);
            ct = NULL;
            break;
        }
    snprintf(path, sizeof path, "%s/%s.json", s->cfg->config_dir, id);
    j = json_load_file(path, 0, &je);
    if (j == NULL) {
        *why = "unknown container";
        return NULL;
    }
    ct = calloc(1, sizeof *ct);
    if (ct == NULL) goto bad;
    ct->audit_fd = -1;
    snprintf(ct->id, sizeof ct->id, "%s", id);
    root = json_string_value(json_object_get(j, "root"));
    v = json_object_get(j, "uid");
    if (root == NULL || !json_is_integer(v)) {
        snprintf(msg, sizeof msg, "%s: \"root\" and \"uid\" are required", path);
        goto bad_msg;
    }
    if (realpath(root, ct->root) == NULL) {
        snprintf(msg, sizeof msg, "%s: root %s: %s", path, root, strerror(errno));
        goto bad_msg;
    }
    ct->uid = (long)json_integer_value(v);
    v = json_object_get(j, "pid");
    ct->pid = json_is_integer(v) ? (long)json_integer_value(v) : -1;
    ct->require_signed = json_is_true(json_object_get(j, "requireSigned"));
    pol = json_string_value(json_object_get(j, "policy"));
    if (pol != NULL) {
        struct kiln_vk_policy *p = NULL;
        struct kiln_error e;
        uint8_t d[32];
        snprintf(ct->policy_path, sizeof ct->policy_path, "%s", pol);
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
    ct->next = s->cts;
    s->cts = ct;
    logf_(s, "container %s registered: root %s, policy %s, uid %ld", id, ct->root,
          ct->policy_text ? ct->policy_path : "(built-in)", ct->uid);
    return ct;
bad_msg:
    logf_(s, "container %s: %s", id, msg);
bad:
    *why = "container configuration invalid (see kilnd's log)";
    json_decref(j);
    free_container(ct);
    return NULL;
}

/* Digest of the unit file behind fd and, for a signed unit, its signer. */
static int digest_unit(struct server *s, int fd, struct proc *p, const char **why)
{
    crypto_hash_sha256_state st;
    uint8_t buf[65536], d[32], tail[8];
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
    if (sb.st_size >= 8 && pread(fd, tail, 8, sb.st_size - 8) == 8 &&
        memcmp(tail, KILN_UNIT_END_MAGIC, 8) == 0) {
        struct kiln_unit *u = NULL;
        struct kiln_error e;
        memset(&e, 0, sizeof e);
        if (s->trust == NULL || kiln_unit_verify_fd(fd, s->trust, &u, NULL, &e) < 0) {
            logf_(s, "unit %s does not verify: %s", p->unit, s->trust ? e.msg : "no trust store");
            *why = "unit does not verify";
            return -EACCES;
        }
        snprintf(p->signer, sizeof p->signer, "%s", u->signer_keyid);
        free(u->data);
        kiln_statement_clear(&u->statement);
        free(u->signer_label);
        free(u);
    }
    return 0;
}

/* ---- replies ---- */

static int send_reply(struct server *s, struct conn *c, const struct kilnd_hdr *q, int result,
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
static int reply_fd(struct server *s, struct conn *c, const struct kilnd_hdr *q, int g)
{
    struct kiln_vk_fd *f = kiln__fd(c->vk, g);
    bool keep = f->kind == KILN_VK_DIR;
    const char *gp = keep && f->guest_path ? f->guest_path : "";
    int r = send_reply(s, c, q, g, f, keep ? g : -1, gp, strlen(gp));
    if (!keep || r < 0) kiln__fd_release(c->vk, g);
    return r;
}

/* Installs a socket the unit sent for one call. Returns the shadow fd or -errno. */
static int temp_socket(struct conn *c, int *fds, int nfds)
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

/* Handles one forwarded call. Returns 0, or -1 to drop the connection. */
static int handle_call(struct server *s, struct conn *c, long n, int *fds, int nfds)
{
    struct kilnd_call q;
    const char *p0, *p1;
    size_t l0, l1;
    struct kiln_vk *vk = c->vk;
    int r, t = -1;
    if (n < (long)sizeof q) return -1;
    memcpy(&q, s->in, sizeof q);
    l0 = q.len[0];
    l1 = q.len[1];
    if (l0 > KILND_MSG_MAX || l1 > KILND_MSG_MAX || sizeof q + l0 + l1 != (size_t)n) return -1;
    p0 = (const char *)s->in + sizeof q;
    p1 = p0 + l0;
    if (q.h.op < KILND_CONNECT && nfds > 0) return -1; /* fds only with socket calls */
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
        if (r >= 0) return reply_fd(s, c, &q.h, r) < 0 ? -1 : 0;
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
        if (m >= 0) return send_reply(s, c, &q.h, (int)m, NULL, -1, buf, (size_t)m) < 0 ? -1 : 0;
        r = (int)m;
        break;
    }
    case KILND_FSTATAT: {
        struct stat st;
        r = kiln_vk_fstatat(vk, q.a[0], p0, l0, &st, q.a[1]);
        if (r >= 0) return send_reply(s, c, &q.h, r, NULL, -1, &st, sizeof st) < 0 ? -1 : 0;
        break;
    }
    case KILND_UTIMENSAT: {
        struct timespec ts[2] = {{(time_t)q.x[0], (long)q.x[1]}, {(time_t)q.x[2], (long)q.x[3]}};
        r = kiln_vk_utimensat(vk, q.a[0], p0, l0, q.a[2] ? ts : NULL, q.a[1]);
        break;
    }
    case KILND_SOCKET:
        r = kiln_vk_socket(vk, q.a[0], q.a[1], q.a[2]);
        if (r >= 0) return reply_fd(s, c, &q.h, r) < 0 ? -1 : 0;
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
            /* a blocking connect would stall every container: start it
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
                /* a blocking listener would stall every container: take the
                 * pending connection without waiting */
                int fl = fcntl(vk->fds[t].host, F_GETFL);
                r = (fl & O_NONBLOCK) || q.a[1] == 1 ? kiln_vk_accept(vk, t, q.a[0]) : -EAGAIN;
            }
            kiln__fd_release(vk, t);
            if (r >= 0) return reply_fd(s, c, &q.h, r) < 0 ? -1 : 0;
            t = -1;
        }
        if (t >= 0) kiln__fd_release(vk, t);
        break;
    default:
        return -1;
    }
    return send_reply(s, c, &q.h, r, NULL, -1, NULL, 0) < 0 ? -1 : 0;
}

/* ---- HELLO ---- */

static int refuse(struct server *s, struct conn *c, const struct kilnd_hdr *q, int e,
                  const char *why)
{
    struct kilnd_hdr h = *q;
    char *txt;
    json_t *o = json_pack("{s:s}", "error", why);
    txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    h.result = -e;
    kiln__kilnd_send(c->sock, &h, sizeof h, txt, txt ? strlen(txt) : 0, NULL, 0);
    logf_(s, "refused pid %d uid %d: %s", c->pid, c->uid, why);
    free(txt);
    json_decref(o);
    return -1;
}

static int handle_hello(struct server *s, struct conn *c, long n, int *fds, int nfds)
{
    struct kilnd_hdr q;
    json_t *j, *grant = NULL, *pre, *lis, *den, *e;
    json_error_t je;
    const char *id, *why = NULL;
    struct container *ct;
    struct proc p;
    struct kiln_error err;
    struct kiln_vk_policy *pol = NULL;
    int sendfds[KILND_MAX_FDS], nsend = 0, r = -1, root;
    size_t i;
    char msg[300], *txt = NULL;
    memcpy(&q, s->in, sizeof q);
    j = json_loadb((const char *)s->in + sizeof q, (size_t)n - sizeof q, 0, &je);
    if (j == NULL || json_integer_value(json_object_get(j, "protocol")) != KILND_VERSION) {
        r = refuse(s, c, &q, EPROTO, "hello: not a protocol 1 manifest summary");
        goto out;
    }
    id = json_string_value(json_object_get(j, "container"));
    if (id == NULL || !id_ok(id)) {
        r = refuse(s, c, &q, EINVAL, "hello: bad container id");
        goto out;
    }
    if ((ct = load_container(s, id, &why)) == NULL) {
        snprintf(msg, sizeof msg, "container %s: %s", id, why);
        r = refuse(s, c, &q, ENOENT, msg);
        goto out;
    }
    if ((ct->uid >= 0 && c->uid != ct->uid) || (ct->pid >= 0 && c->pid != ct->pid)) {
        snprintf(msg, sizeof msg,
                 "container %s: peer credentials (uid %d, pid %d) not allowed (uid %ld%s)", id,
                 c->uid, c->pid, ct->uid, ct->pid >= 0 ? ", fixed pid" : "");
        r = refuse(s, c, &q, EACCES, msg);
        goto out;
    }
    memset(&p, 0, sizeof p);
    p.pid = c->pid;
    p.uid = c->uid;
    snprintf(p.unit, sizeof p.unit, "%s",
             json_string_value(json_object_get(j, "unit"))
                 ? json_string_value(json_object_get(j, "unit"))
                 : "");
    snprintf(p.abi, sizeof p.abi, "%s",
             json_string_value(json_object_get(j, "abi"))
                 ? json_string_value(json_object_get(j, "abi"))
                 : "");
    if (nfds > 1) {
        r = refuse(s, c, &q, EINVAL, "hello: more than one unit fd");
        goto out;
    }
    if (nfds == 1 && digest_unit(s, fds[0], &p, &why) < 0) {
        r = refuse(s, c, &q, EACCES, why);
        goto out;
    }
    if (ct->require_signed && p.signer[0] == 0) {
        r = refuse(s, c, &q, EACCES, "container requires a signed unit");
        goto out;
    }
    /* the shadow vkernel: root at "/", the policy, the container's audit log */
    memset(&err, 0, sizeof err);
    if (kiln_vk_new(&c->vk, &err) < 0) goto nomem;
    kiln_vk_set_audit_fd(c->vk, dup(ct->audit_fd));
    c->vk->audit_pid = c->pid;
    if (ct->policy_text != NULL) {
        if (kiln_vk_policy_parse(ct->policy_text, ct->policy_len, ct->policy_path, &pol, &err) < 0)
            goto nomem;
        kiln_vk_set_policy(c->vk, pol);
    }
    root = kiln_vk_mount(c->vk, ct->root, "/", 0, &err);
    if (root < 0) {
        r = refuse(s, c, &q, EIO, "container root cannot be opened");
        goto out;
    }
    kiln__fd_release(c->vk, root); /* the unit gets only what it asked for */
    grant = json_object();
    pre = json_array();
    lis = json_array();
    den = json_array();
    json_object_set_new(grant, "protocol", json_integer(KILND_VERSION));
    json_object_set_new(grant, "container", json_string(id));
    json_object_set_new(grant, "policy",
                        ct->policy_text ? json_stringn(ct->policy_text, ct->policy_len)
                                        : json_null());
    json_array_foreach(json_object_get(j, "paths"), i, e)
    {
        const char *path = json_string_value(json_object_get(e, "path"));
        int g;
        if (path == NULL || json_is_true(json_object_get(e, "ro")) || nsend >= KILND_MAX_FDS) {
            json_array_append_new(den, json_pack("{s:s?,s:s}", "path", path, "error",
                                                 "read-only narrowing is the policy's job here"));
            continue;
        }
        g = kiln_vk_openat(c->vk, KILN_VK_AT_ROOT, path, strlen(path), O_RDONLY | O_DIRECTORY, 0);
        if (g < 0) {
            json_array_append_new(den, json_pack("{s:s,s:s}", "path", path, "error", strerror(-g)));
            continue;
        }
        c->vk->fds[g].flags |= KILN_VK_FD_PREOPEN;
        json_array_append_new(pre,
                              json_pack("{s:s,s:i,s:b,s:i}", "path", path, "handle", g, "ro",
                                        (c->vk->fds[g].flags & KILN_VK_FD_RO) != 0, "fd", nsend));
        sendfds[nsend++] = c->vk->fds[g].host;
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
    txt = json_dumps(grant, JSON_COMPACT);
    if (txt == NULL || strlen(txt) + sizeof q > KILND_MSG_MAX) goto nomem;
    q.result = 0;
    if (kiln__kilnd_send(c->sock, &q, sizeof q, txt, strlen(txt), sendfds, nsend) < 0) goto out;
    /* the process table */
    {
        struct proc *np = realloc(ct->procs, (size_t)(ct->nprocs + 1) * sizeof *np);
        if (np == NULL) goto out;
        ct->procs = np;
        if (ct->live == 0) {
            ct->run_start_ns = now_ns();
            ct->nprocs = 0;
            memset(ct->sys, 0, sizeof ct->sys);
            ct->denials = 0;
            json_decref(ct->abi);
            ct->abi = json_object();
        }
        p.start_ns = now_ns();
        c->proc = ct->nprocs;
        ct->procs[ct->nprocs++] = p;
        ct->live++;
        c->ct = ct;
    }
    logf_(s, "container %s: pid %d attached (unit %s sha256:%s%s%s, %zu preopens)", id, c->pid,
          p.unit, p.sha256[0] ? p.sha256 : "-", p.signer[0] ? " signer " : "", p.signer,
          json_array_size(pre));
    r = 0;
    goto out;
nomem:
    r = refuse(s, c, &q, ENOMEM, err.msg[0] ? err.msg : "out of memory");
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
    json_decref(grant);
    json_decref(j);
    return r;
}

static void merge_sys(struct container *ct, json_t *sys)
{
    const char *k;
    json_t *v;
    int i;
    json_object_foreach(sys, k, v)
    {
        for (i = 0; i < KILN_VK_SYS__COUNT; i++)
            if (strcmp(kiln_vk_sys_name(i), k) == 0) {
                ct->sys[i].calls += (uint64_t)json_integer_value(json_object_get(v, "calls"));
                ct->sys[i].errors += (uint64_t)json_integer_value(json_object_get(v, "errors"));
                break;
            }
    }
}

static int handle_exit(struct server *s, struct conn *c, long n)
{
    struct kilnd_hdr q;
    json_t *j, *v;
    json_error_t je;
    const char *k;
    struct proc *p = &c->ct->procs[c->proc];
    memcpy(&q, s->in, sizeof q);
    j = json_loadb((const char *)s->in + sizeof q, (size_t)n - sizeof q, 0, &je);
    if (j == NULL || p->exited) {
        json_decref(j);
        return -1;
    }
    p->exited = true;
    p->end_ns = now_ns();
    p->code = (int)json_integer_value(json_object_get(j, "code"));
    snprintf(p->reason, sizeof p->reason, "%s",
             json_string_value(json_object_get(j, "reason"))
                 ? json_string_value(json_object_get(j, "reason"))
                 : "exit");
    merge_sys(c->ct, json_object_get(j, "syscalls"));
    c->ct->denials += (uint64_t)json_integer_value(json_object_get(j, "denials"));
    json_object_foreach(json_object_get(j, "abi"), k, v)
    {
        json_int_t old = json_integer_value(json_object_get(c->ct->abi, k));
        json_object_set_new(c->ct->abi, k, json_integer(old + json_integer_value(v)));
    }
    json_decref(j);
    q.result = 0;
    return kiln__kilnd_send(c->sock, &q, sizeof q, NULL, 0, NULL, 0) < 0 ? -1 : 0;
}

/* ---- run attestation ---- */

static void write_attestation(struct server *s, struct container *ct)
{
    json_t *st = json_object(), *subj = json_array(), *pred = json_object(), *procs = json_array();
    json_t *calls = json_object();
    char ts[64], path[PATH_MAX], tmp[PATH_MAX + 8], *payload = NULL, *env_json = NULL;
    struct kiln_dsse *env = NULL;
    struct kiln_error err;
    size_t env_len;
    int i, k, fd = -1;
    int64_t end = now_ns();
    memset(&err, 0, sizeof err);
    for (i = 0; i < ct->nprocs; i++) {
        const struct proc *p = &ct->procs[i];
        json_t *o;
        char a[64], b[64];
        bool dup = false;
        for (k = 0; k < i; k++)
            dup |= strcmp(ct->procs[k].sha256, p->sha256) == 0;
        if (p->sha256[0] && !dup)
            json_array_append_new(
                subj, json_pack("{s:s,s:{s:s}}", "name", p->unit, "digest", "sha256", p->sha256));
        rfc3339(p->start_ns, a, sizeof a);
        rfc3339(p->end_ns ? p->end_ns : end, b, sizeof b);
        o = json_pack("{s:i,s:i,s:s,s:s,s:s,s:s,s:s}", "pid", p->pid, "uid", p->uid, "unit",
                      p->unit, "abi", p->abi, "sha256", p->sha256, "started", a, "finished", b);
        json_object_set_new(o, "signer", p->signer[0] ? json_string(p->signer) : json_null());
        json_object_set_new(o, "exitCode", p->exited ? json_integer(p->code) : json_null());
        json_object_set_new(o, "reason", json_string(p->exited ? p->reason : "connection lost"));
        json_array_append_new(procs, o);
    }
    for (i = 0; i < KILN_VK_SYS__COUNT; i++)
        if (ct->sys[i].calls)
            json_object_set_new(calls, kiln_vk_sys_name(i),
                                json_pack("{s:I,s:I}", "calls", (json_int_t)ct->sys[i].calls,
                                          "errors", (json_int_t)ct->sys[i].errors));
    json_object_set_new(st, "_type", json_string(KILN_STATEMENT_TYPE));
    json_object_set_new(st, "subject", subj);
    json_object_set_new(st, "predicateType", json_string("https://kiln.dev/run/v1"));
    json_object_set_new(pred, "container", json_string(ct->id));
    {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        json_object_set_new(pred, "node", json_string(host));
    }
    json_object_set_new(pred, "policy",
                        ct->policy_text
                            ? json_pack("{s:s,s:{s:s}}", "name", ct->policy_path, "digest",
                                        "sha256", ct->policy_sha256)
                            : json_pack("{s:s,s:n}", "name", "builtin:permissive", "digest"));
    rfc3339(ct->run_start_ns, ts, sizeof ts);
    json_object_set_new(pred, "started", json_string(ts));
    rfc3339(end, ts, sizeof ts);
    json_object_set_new(pred, "finished", json_string(ts));
    json_object_set_new(pred, "processes", procs);
    json_object_set_new(pred, "calls", calls);
    json_object_set(pred, "abiCalls", ct->abi ? ct->abi : json_object());
    json_object_set_new(pred, "denials", json_integer((json_int_t)ct->denials));
    json_object_set_new(st, "predicate", pred);
    payload = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    if (payload == NULL) goto fail;
    if (!s->have_key) {
        logf_(s, "container %s: run ended; no node key, no attestation", ct->id);
        goto out;
    }
    if (kiln_dsse_new(KILN_DSSE_PAYLOAD_TYPE, (const uint8_t *)payload, strlen(payload), &env,
                      &err) < 0 ||
        kiln_dsse_sign(env, &s->key, &err) < 0 ||
        kiln_dsse_encode(env, &env_json, &env_len, &err) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/%s/run-%lld.json", s->cfg->state_dir, ct->id,
             (long long)ct->run_start_ns);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, env_json, env_len) != (ssize_t)env_len || fsync(fd) < 0 ||
        close(fd) < 0) {
        if (fd >= 0) close(fd);
        unlink(tmp);
        snprintf(err.msg, sizeof err.msg, "%s: %s", tmp, strerror(errno));
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        snprintf(err.msg, sizeof err.msg, "%s: %s", path, strerror(errno));
        goto fail;
    }
    logf_(s, "container %s: run ended (%d processes); attestation %s", ct->id, ct->nprocs, path);
    goto out;
fail:
    logf_(s, "container %s: attestation not written: %s", ct->id, err.msg[0] ? err.msg : "error");
out:
    kiln_dsse_free(env);
    free(env_json);
    free(payload);
    json_decref(st);
}

/* ---- connections ---- */

static void drop(struct server *s, int i, const char *why)
{
    struct conn *c = &s->conns[i];
    if (why != NULL) logf_(s, "pid %d: connection dropped: %s", c->pid, why);
    if (c->ct != NULL) {
        struct container *ct = c->ct;
        struct proc *p = &ct->procs[c->proc];
        int k;
        if (!p->exited) {
            p->lost = true;
            p->end_ns = now_ns();
            logf_(s, "container %s: pid %d lost its connection without exit", ct->id, p->pid);
        }
        if (c->vk != NULL) {
            for (k = 0; k < KILN_VK_SYS__COUNT; k++) {
                ct->sys[k].calls += c->vk->sys[k].calls;
                ct->sys[k].errors += c->vk->sys[k].errors;
            }
            ct->denials += c->vk->denials;
        }
        if (--ct->live == 0) write_attestation(s, ct);
    }
    kiln_vk_free(c->vk);
    close(c->sock);
    s->conns[i] = s->conns[--s->nconns];
}

static void on_packet(struct server *s, int i)
{
    struct conn *c = &s->conns[i];
    int fds[KILND_MAX_FDS], nfds = 0, r = -1, k;
    struct kilnd_hdr h;
    long n = kiln__kilnd_recv(c->sock, s->in, sizeof s->in, fds, KILND_MAX_FDS, &nfds);
    if (n == 0 || n == -ECONNRESET) {
        drop(s, i, NULL);
        return;
    }
    if (n < 0) {
        drop(s, i, n == -EMSGSIZE ? "oversized packet" : strerror((int)-n));
        return;
    }
    if (kiln__kilnd_check(s->in, n, sizeof h) < 0) {
        for (k = 0; k < nfds; k++)
            close(fds[k]);
        drop(s, i, "not a kilnd protocol 1 packet");
        return;
    }
    memcpy(&h, s->in, sizeof h);
    if (c->ct == NULL)
        r = h.op == KILND_HELLO ? handle_hello(s, c, n, fds, nfds) : -1;
    else if (h.op == KILND_EXIT && nfds == 0)
        r = handle_exit(s, c, n);
    else if (h.op != KILND_HELLO)
        r = handle_call(s, c, n, fds, nfds);
    for (k = 0; k < nfds; k++)
        if (fds[k] >= 0) close(fds[k]);
    if (r < 0) drop(s, i, c->ct == NULL && h.op == KILND_HELLO ? NULL : "protocol violation");
}

static void on_accept(struct server *s, int ls)
{
    struct ucred cr;
    socklen_t l = sizeof cr;
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (s->nconns >= MAX_CONNS || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
        logf_(s, "connection refused: %s", s->nconns >= MAX_CONNS ? "too many" : strerror(errno));
        close(fd);
        return;
    }
    memset(&s->conns[s->nconns], 0, sizeof s->conns[0]);
    s->conns[s->nconns].sock = fd;
    s->conns[s->nconns].pid = (int)cr.pid;
    s->conns[s->nconns].uid = (int)cr.uid;
    s->nconns++;
}

/* Serves; see server.h. */
int kiln__kilnd_serve(const struct kiln_kilnd_config *cfg, volatile sig_atomic_t *stop,
                      struct kiln_error *err)
{
    struct server *s = calloc(1, sizeof *s);
    struct sockaddr_un sa;
    struct pollfd *pf = NULL;
    int ls = -1, r = 0, i;
    if (s == NULL) return kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
    s->cfg = cfg;
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
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(cfg->socket_path) >= sizeof sa.sun_path) {
        r = kiln_error_set(err, KILN_E_ARG, "kilnd: socket path %s too long", cfg->socket_path);
        goto out;
    }
    strcpy(sa.sun_path, cfg->socket_path);
    unlink(cfg->socket_path);
    ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 128) < 0 ||
        chmod(cfg->socket_path, 0666) < 0) {
        r = kiln_error_sys(err, errno, "kilnd: socket %s", cfg->socket_path);
        goto out;
    }
    pf = calloc(MAX_CONNS + 1, sizeof *pf);
    if (pf == NULL) {
        r = kiln_error_set(err, KILN_E_NOMEM, "kilnd: out of memory");
        goto out;
    }
    logf_(s, "kilnd listening on %s (protocol %d)", cfg->socket_path, KILND_VERSION);
    while (!*stop) {
        int n = s->nconns, ready;
        pf[0].fd = ls;
        pf[0].events = POLLIN;
        for (i = 0; i < n; i++) {
            pf[i + 1].fd = s->conns[i].sock;
            pf[i + 1].events = POLLIN;
            pf[i + 1].revents = 0;
        }
        ready = poll(pf, (nfds_t)n + 1, -1);
        if (ready < 0) continue; /* EINTR: re-check *stop */
        /* back to front: drop() moves the last connection into slot i */
        for (i = n - 1; i >= 0; i--) {
            if (pf[i + 1].revents & POLLIN)
                on_packet(s, i);
            else if (pf[i + 1].revents & (POLLHUP | POLLERR | POLLNVAL))
                drop(s, i, NULL);
        }
        if (pf[0].revents & POLLIN) on_accept(s, ls);
    }
    logf_(s, "kilnd stopping");
    while (s->nconns > 0)
        drop(s, s->nconns - 1, NULL);
out:
    if (ls >= 0) {
        close(ls);
        unlink(cfg->socket_path);
    }
    free(pf);
    while (s->cts != NULL) {
        struct container *n = s->cts->next;
        free_container(s->cts);
        s->cts = n;
    }
    kiln_trust_store_free(s->trust);
    kiln_key_wipe(&s->key);
    free(s);
    return r;
}
