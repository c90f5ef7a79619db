/*
 * policy.c — the vkernel policy: parsing (jansson) and evaluation.
 *
 * Document (normative description in docs/policy.md):
 *   { "kilnPolicy": 1,
 *     "seccomp":    OCI runtime-spec linux.seccomp object (or the whole
 *                   document is one, as Docker profiles are),
 *     "filesystem": [ {"path": "/data", "mode": "ro|rw|none", "noXdev": bool} ],
 *     "network":    [ {"direction": "listen|connect", "proto": "tcp|udp",
 *                      "address": "127.0.0.1|::|*", "port": N | "ports": [lo, hi]} ],
 *     "limits":     { "memoryBytes", "openFiles", "outputBytes", "wallTimeMs",
 *                     "cpuTimeMs" },
 *     "engine":     { "requireAot": bool } }
 * Everything absent is denied: no seccomp part = every call fails with EPERM,
 * no filesystem rule = no path is reachable, no network rule = no socket.
 *
 * Evaluation: the syscall part is compiled at load into one decision per core
 * syscall id (first rule in document order whose names include the call or
 * one of its aliases); rules with argument conditions are kept and evaluated
 * at call time. Filesystem rules: the longest rule path that is a
 * component-wise prefix of the guest path decides.
 *
 * Malformed documents are refused with the JSON path of the problem.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkernel/vk.h"

/* Conditions per syscall rule. A document may give up to this many; a rule of an intersection
 * (kiln_vk_policy_intersect) carries the conditions of both sides and is made stricter when they
 * do not fit (see there). */
#define MAX_ARGS 16
#define RULE_NAME 96 /* "container:$.seccomp.syscalls[12]" */

struct sys_arg {
    int index;
    uint64_t value, value2;
    int op; /* enum below */
};
enum { CMP_NE, CMP_LT, CMP_LE, CMP_EQ, CMP_GE, CMP_GT, CMP_MASKED_EQ };

struct sys_rule {
    int action;
    int errno_ret;
    int nargs;
    struct sys_arg args[MAX_ARGS];
    char name[RULE_NAME];                      /* "$.seccomp.syscalls[3]" */
    uint8_t ids[(KILN_VK_SYS__COUNT + 7) / 8]; /* core ids this rule names */
};

struct fs_rule {
    char *path;
    size_t len;
    int mode;
    bool noxdev;
    char name[RULE_NAME];
};

struct net_rule {
    char dir[8];
    char proto[4];
    char addr[64]; /* "" = any */
    int lo, hi;
    char name[RULE_NAME];
};

struct sys_decision {
    int action;
    int errno_ret;
    bool dynamic; /* an args rule may apply: scan rules at call time */
    const char *rule;
};

struct kiln_vk_policy {
    int default_action;
    int default_errno;
    char default_rule[RULE_NAME]; /* "$.seccomp.defaultAction" or "default:deny" */
    struct sys_rule *rules;
    int nrules;
    struct sys_decision dec[KILN_VK_SYS__COUNT];
    struct fs_rule *fs;
    int nfs;
    struct net_rule *net;
    int nnet;
    struct kiln_vk_limits limits;
    int audit_level;  /* enum kiln__audit_level */
    char **exec;      /* "exec" entries: guest paths and "sha256:<hex>" (owned) */
    int nexec;        /* enforced by spawning placements (kilnd) */
    bool require_aot; /* "engine.requireAot": refuse to interpret units */
    char label[32];   /* kiln__policy_set_label: prefix of this side's rule names in an
                         intersection ("" = none) */
};

/* Linux names that map onto a core call (the core id's own name included). */
static const struct {
    const char *name;
    int id;
} aliases[] = {
    {"read", KILN_VK_SYS_readv},
    {"pread64", KILN_VK_SYS_preadv},
    {"preadv2", KILN_VK_SYS_preadv},
    {"write", KILN_VK_SYS_writev},
    {"pwrite64", KILN_VK_SYS_pwritev},
    {"pwritev2", KILN_VK_SYS_pwritev},
    {"open", KILN_VK_SYS_openat},
    {"openat2", KILN_VK_SYS_openat},
    {"creat", KILN_VK_SYS_openat},
    {"stat", KILN_VK_SYS_newfstatat},
    {"lstat", KILN_VK_SYS_newfstatat},
    {"statx", KILN_VK_SYS_newfstatat},
    {"fstatat64", KILN_VK_SYS_newfstatat},
    {"mkdir", KILN_VK_SYS_mkdirat},
    {"unlink", KILN_VK_SYS_unlinkat},
    {"rmdir", KILN_VK_SYS_unlinkat},
    {"rename", KILN_VK_SYS_renameat2},
    {"renameat", KILN_VK_SYS_renameat2},
    {"link", KILN_VK_SYS_linkat},
    {"symlink", KILN_VK_SYS_symlinkat},
    {"readlink", KILN_VK_SYS_readlinkat},
    {"getdents", KILN_VK_SYS_getdents64},
    {"pipe", KILN_VK_SYS_pipe2},
    {"dup", KILN_VK_SYS_dup3},
    {"dup2", KILN_VK_SYS_dup3},
    {"utime", KILN_VK_SYS_utimensat},
    {"utimes", KILN_VK_SYS_utimensat},
    {"futimesat", KILN_VK_SYS_utimensat},
    {"poll", KILN_VK_SYS_ppoll},
    {"select", KILN_VK_SYS_ppoll},
    {"pselect6", KILN_VK_SYS_ppoll},
    {"nanosleep", KILN_VK_SYS_clock_nanosleep},
    {"accept", KILN_VK_SYS_accept4},
    {"recvfrom", KILN_VK_SYS_recvmsg},
    {"sendto", KILN_VK_SYS_sendmsg},
    {"fcntl64", KILN_VK_SYS_fcntl},
    {"truncate", KILN_VK_SYS_ftruncate},
    {"fadvise64_64", KILN_VK_SYS_fadvise64},
    {"exit", KILN_VK_SYS_exit_group},
    {"tgkill", KILN_VK_SYS_kill},
    {"tkill", KILN_VK_SYS_kill},
    {"mmap2", KILN_VK_SYS_mmap},
    {"pkey_mprotect", KILN_VK_SYS_mprotect},
    {"lseek", KILN_VK_SYS_lseek},
    {"_llseek", KILN_VK_SYS_lseek},
};

static const struct {
    const char *name;
    int action;
} actions[] = {
    {"SCMP_ACT_ALLOW", KILN__ACT_ALLOW},       {"SCMP_ACT_LOG", KILN__ACT_LOG},
    {"SCMP_ACT_ERRNO", KILN__ACT_ERRNO},       {"SCMP_ACT_KILL", KILN__ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", KILN__ACT_KILL}, {"SCMP_ACT_KILL_THREAD", KILN__ACT_KILL},
    {"SCMP_ACT_TRAP", KILN__ACT_KILL},         {"SCMP_ACT_TRACE", KILN__ACT_TRACE},
    {"SCMP_ACT_NOTIFY", KILN__ACT_TRACE},
};

static const char *const cmp_ops[] = {"SCMP_CMP_NE",       "SCMP_CMP_LT", "SCMP_CMP_LE",
                                      "SCMP_CMP_EQ",       "SCMP_CMP_GE", "SCMP_CMP_GT",
                                      "SCMP_CMP_MASKED_EQ"};

/* ---- parsing helpers ---- */

struct ctx {
    const char *name;
    struct kiln_error *err;
};

static int bad(struct ctx *c, const char *jpath, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct ctx *c, const char *jpath, const char *fmt, ...)
{
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return kiln_error_set(c->err, KILN_E_INVALID, "%s: %s: %s", c->name, jpath, m);
}

static int known_keys(struct ctx *c, json_t *obj, const char *jpath, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        const char *const *p;
        bool ok = false;
        (void)v;
        for (p = keys; *p; p++)
            if (strcmp(*p, k) == 0) ok = true;
        if (!ok) {
            char jp[300];
            snprintf(jp, sizeof jp, "%s.%s", jpath, k);
            return bad(c, jp, "unknown member");
        }
    }
    return 0;
}

static int get_uint(struct ctx *c, json_t *obj, const char *key, const char *jpath, uint64_t max,
                    uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    char jp[300];
    if (v == NULL) return 0;
    snprintf(jp, sizeof jp, "%s.%s", jpath, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return bad(c, jp, "expected an integer from 0 to %llu", (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static void set_bit(uint8_t *b, int i)
{
    b[i / 8] |= (uint8_t)(1u << (i % 8));
}
static bool has_bit(const uint8_t *b, int i)
{
    return (b[i / 8] >> (i % 8)) & 1;
}

static void mark_name(struct sys_rule *r, const char *n)
{
    size_t i;
    for (i = 0; i < KILN_VK_SYS__COUNT; i++)
        if (strcmp(kiln_vk_sys_name((int)i), n) == 0) set_bit(r->ids, (int)i);
    for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].name, n) == 0) set_bit(r->ids, aliases[i].id);
}

static int parse_action(struct ctx *c, json_t *v, const char *jpath, int *out)
{
    size_t i;
    if (json_is_string(v))
        for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
            if (strcmp(actions[i].name, json_string_value(v)) == 0) {
                *out = actions[i].action;
                return 0;
            }
    return bad(c, jpath,
               "expected one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, "
               "SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, "
               "SCMP_ACT_LOG, SCMP_ACT_NOTIFY");
}

static int parse_seccomp(struct ctx *c, json_t *s, const char *jp0, struct kiln_vk_policy *p)
{
    static const char *const keys[] = {
        "defaultAction", "defaultErrnoRet",  "architectures", "archMap",      "syscalls", "flags",
        "listenerPath",  "listenerMetadata", "comment",       "defaultErrno", NULL};
    static const char *const rkeys[] = {"names",   "name",     "action",   "errnoRet", "args",
                                        "comment", "includes", "excludes", "errno",    NULL};
    char jp[300];
    json_t *v, *calls;
    size_t i, j;
    uint64_t u = EPERM;
    int r;
    if (!json_is_object(s)) return bad(c, jp0, "expected an object");
    if ((r = known_keys(c, s, jp0, keys)) < 0) return r;
    snprintf(jp, sizeof jp, "%s.defaultAction", jp0);
    v = json_object_get(s, "defaultAction");
    if (v == NULL) return bad(c, jp, "required member missing");
    if ((r = parse_action(c, v, jp, &p->default_action)) < 0) return r;
    if ((r = get_uint(c, s, "defaultErrnoRet", jp0, 4095, &u)) < 0) return r;
    p->default_errno = (int)u;
    snprintf(p->default_rule, sizeof p->default_rule, "%s.defaultAction", jp0);
    calls = json_object_get(s, "syscalls");
    if (calls == NULL) return 0;
    snprintf(jp, sizeof jp, "%s.syscalls", jp0);
    if (!json_is_array(calls)) return bad(c, jp, "expected an array");
    p->rules = calloc(json_array_size(calls) + 1, sizeof *p->rules);
    if (p->rules == NULL) return kiln_error_set(c->err, KILN_E_NOMEM, "%s: out of memory", c->name);
    json_array_foreach(calls, i, v)
    {
        struct sys_rule *sr = &p->rules[p->nrules];
        json_t *names, *n, *args, *a;
        char rp[300];
        snprintf(rp, sizeof rp, "%s.syscalls[%zu]", jp0, i);
        snprintf(sr->name, sizeof sr->name, "%s.syscalls[%zu]", jp0, i);
        if (!json_is_object(v)) return bad(c, rp, "expected an object");
        if ((r = known_keys(c, v, rp, rkeys)) < 0) return r;
        names = json_object_get(v, "names");
        if (names == NULL && (n = json_object_get(v, "name")) != NULL) {
            snprintf(jp, sizeof jp, "%s.name", rp);
            if (!json_is_string(n)) return bad(c, jp, "expected a string");
            mark_name(sr, json_string_value(n));
        } else {
            snprintf(jp, sizeof jp, "%s.names", rp);
            if (!json_is_array(names))
                return bad(c, jp,
                           names ? "expected an array of strings" : "required member missing");
            json_array_foreach(names, j, n)
            {
                char np[320];
                snprintf(np, sizeof np, "%s[%zu]", jp, j);
                if (!json_is_string(n)) return bad(c, np, "expected a string");
                mark_name(sr, json_string_value(n));
            }
        }
        snprintf(jp, sizeof jp, "%s.action", rp);
        if ((n = json_object_get(v, "action")) == NULL)
            return bad(c, jp, "required member missing");
        if ((r = parse_action(c, n, jp, &sr->action)) < 0) return r;
        u = EPERM;
        if ((r = get_uint(c, v, "errnoRet", rp, 4095, &u)) < 0) return r;
        sr->errno_ret = (int)u;
        args = json_object_get(v, "args");
        if (args != NULL && !json_is_null(args)) {
            snprintf(jp, sizeof jp, "%s.args", rp);
            if (!json_is_array(args)) return bad(c, jp, "expected an array");
            if (json_array_size(args) > MAX_ARGS)
                return bad(c, jp, "at most %d conditions", MAX_ARGS);
            json_array_foreach(args, j, a)
            {
                static const char *const akeys[] = {"index", "value", "valueTwo", "op", NULL};
                struct sys_arg *sa = &sr->args[sr->nargs];
                char ap[320], op[340];
                json_t *o;
                size_t k;
                uint64_t idx = 0;
                snprintf(ap, sizeof ap, "%s[%zu]", jp, j);
                if (!json_is_object(a)) return bad(c, ap, "expected an object");
                if ((r = known_keys(c, a, ap, akeys)) < 0) return r;
                if ((r = get_uint(c, a, "index", ap, 5, &idx)) < 0) return r;
                sa->index = (int)idx;
                if ((o = json_object_get(a, "value")) != NULL && !json_is_integer(o)) {
                    snprintf(op, sizeof op, "%s.value", ap);
                    return bad(c, op, "expected an integer");
                }
                sa->value = o ? (uint64_t)json_integer_value(o) : 0;
                if ((o = json_object_get(a, "valueTwo")) != NULL && !json_is_integer(o)) {
                    snprintf(op, sizeof op, "%s.valueTwo", ap);
                    return bad(c, op, "expected an integer");
                }
                sa->value2 = o ? (uint64_t)json_integer_value(o) : 0;
                o = json_object_get(a, "op");
                snprintf(op, sizeof op, "%s.op", ap);
                sa->op = -1;
                for (k = 0; o && json_is_string(o) && k < sizeof cmp_ops / sizeof *cmp_ops; k++)
                    if (strcmp(cmp_ops[k], json_string_value(o)) == 0) sa->op = (int)k;
                if (sa->op < 0)
                    return bad(c, op,
                               "expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
                               "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ");
                sr->nargs++;
            }
        }
        /* Docker: a rule that "includes" capabilities applies only to
         * containers holding them; guests hold none. */
        {
            json_t *inc = json_object_get(v, "includes"), *caps;
            if (json_is_object(inc) && (caps = json_object_get(inc, "caps")) != NULL &&
                json_is_array(caps) && json_array_size(caps) > 0)
                memset(sr->ids, 0, sizeof sr->ids);
        }
        p->nrules++;
    }
    return 0;
}

static bool path_norm_ok(const char *g)
{
    const char *c = g;
    if (g[0] != '/') return false;
    if (g[1] == 0) return true;
    while (*c == '/') {
        const char *e = strchr(c + 1, '/');
        size_t n = e ? (size_t)(e - c - 1) : strlen(c + 1);
        if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && c[1] == '.' && c[2] == '.'))
            return false;
        if (e == NULL) return true;
        c = e;
    }
    return false;
}

static int parse_fs(struct ctx *c, json_t *a, struct kiln_vk_policy *p)
{
    static const char *const keys[] = {"path", "mode", "noXdev", "comment", NULL};
    size_t i;
    json_t *v;
    int r;
    if (!json_is_array(a)) return bad(c, "$.filesystem", "expected an array");
    p->fs = calloc(json_array_size(a) + 1, sizeof *p->fs);
    if (p->fs == NULL) return kiln_error_set(c->err, KILN_E_NOMEM, "%s: out of memory", c->name);
    json_array_foreach(a, i, v)
    {
        struct fs_rule *f = &p->fs[p->nfs];
        char jp[64], kp[80];
        json_t *x;
        snprintf(jp, sizeof jp, "$.filesystem[%zu]", i);
        snprintf(f->name, sizeof f->name, "$.filesystem[%zu]", i);
        if (!json_is_object(v)) return bad(c, jp, "expected an object");
        if ((r = known_keys(c, v, jp, keys)) < 0) return r;
        snprintf(kp, sizeof kp, "%s.path", jp);
        x = json_object_get(v, "path");
        if (!json_is_string(x))
            return bad(c, kp, x ? "expected a string" : "required member missing");
        if (!path_norm_ok(json_string_value(x)))
            return bad(c, kp,
                       "expected an absolute normalized path (no '.', '..', '//' or "
                       "trailing '/')");
        f->path = strdup(json_string_value(x));
        if (f->path == NULL)
            return kiln_error_set(c->err, KILN_E_NOMEM, "%s: out of memory", c->name);
        f->len = strlen(f->path);
        p->nfs++;
        snprintf(kp, sizeof kp, "%s.mode", jp);
        x = json_object_get(v, "mode");
        if (x == NULL) return bad(c, kp, "required member missing");
        if (json_is_string(x) && strcmp(json_string_value(x), "ro") == 0)
            f->mode = KILN__FS_RO;
        else if (json_is_string(x) && strcmp(json_string_value(x), "rw") == 0)
            f->mode = KILN__FS_RW;
        else if (json_is_string(x) && strcmp(json_string_value(x), "none") == 0)
            f->mode = KILN__FS_NONE;
        else
            return bad(c, kp, "expected one of ro, rw, none");
        x = json_object_get(v, "noXdev");
        if (x != NULL) {
            snprintf(kp, sizeof kp, "%s.noXdev", jp);
            if (!json_is_boolean(x)) return bad(c, kp, "expected true or false");
            f->noxdev = json_is_true(x);
        }
    }
    return 0;
}

static int parse_net(struct ctx *c, json_t *a, struct kiln_vk_policy *p)
{
    static const char *const keys[] = {"direction", "proto",   "address", "port",
                                       "ports",     "comment", NULL};
    size_t i;
    json_t *v;
    int r;
    if (!json_is_array(a)) return bad(c, "$.network", "expected an array");
    p->net = calloc(json_array_size(a) + 1, sizeof *p->net);
    if (p->net == NULL) return kiln_error_set(c->err, KILN_E_NOMEM, "%s: out of memory", c->name);
    json_array_foreach(a, i, v)
    {
        struct net_rule *n = &p->net[p->nnet];
        char jp[64], kp[80];
        json_t *x;
        snprintf(jp, sizeof jp, "$.network[%zu]", i);
        snprintf(n->name, sizeof n->name, "$.network[%zu]", i);
        if (!json_is_object(v)) return bad(c, jp, "expected an object");
        if ((r = known_keys(c, v, jp, keys)) < 0) return r;
        snprintf(kp, sizeof kp, "%s.direction", jp);
        x = json_object_get(v, "direction");
        if (!json_is_string(x) || (strcmp(json_string_value(x), "listen") != 0 &&
                                   strcmp(json_string_value(x), "connect") != 0))
            return bad(c, kp, "expected one of listen, connect");
        snprintf(n->dir, sizeof n->dir, "%s", json_string_value(x));
        snprintf(kp, sizeof kp, "%s.proto", jp);
        x = json_object_get(v, "proto");
        if (x == NULL)
            snprintf(n->proto, sizeof n->proto, "tcp");
        else if (json_is_string(x) && (strcmp(json_string_value(x), "tcp") == 0 ||
                                       strcmp(json_string_value(x), "udp") == 0))
            snprintf(n->proto, sizeof n->proto, "%s", json_string_value(x));
        else
            return bad(c, kp, "expected one of tcp, udp");
        x = json_object_get(v, "address");
        if (x != NULL) {
            snprintf(kp, sizeof kp, "%s.address", jp);
            if (!json_is_string(x) || strlen(json_string_value(x)) >= sizeof n->addr)
                return bad(c, kp, "expected an IP address or \"*\"");
            if (strcmp(json_string_value(x), "*") != 0)
                snprintf(n->addr, sizeof n->addr, "%s", json_string_value(x));
        }
        n->lo = 0;
        n->hi = 65535;
        if ((x = json_object_get(v, "port")) != NULL) {
            snprintf(kp, sizeof kp, "%s.port", jp);
            if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 65535)
                return bad(c, kp, "expected an integer from 0 to 65535");
            n->lo = n->hi = (int)json_integer_value(x);
        } else if ((x = json_object_get(v, "ports")) != NULL) {
            snprintf(kp, sizeof kp, "%s.ports", jp);
            if (!json_is_array(x) || json_array_size(x) != 2 ||
                !json_is_integer(json_array_get(x, 0)) || !json_is_integer(json_array_get(x, 1)))
                return bad(c, kp, "expected [lowest, highest]");
            n->lo = (int)json_integer_value(json_array_get(x, 0));
            n->hi = (int)json_integer_value(json_array_get(x, 1));
            if (n->lo < 0 || n->hi > 65535 || n->lo > n->hi)
                return bad(c, kp, "expected 0 <= lowest <= highest <= 65535");
        }
        p->nnet++;
    }
    return 0;
}

static int parse_limits(struct ctx *c, json_t *o, struct kiln_vk_policy *p)
{
    static const char *const keys[] = {"memoryBytes", "openFiles", "outputBytes", "wallTimeMs",
                                       "cpuTimeMs",   "comment",   NULL};
    uint64_t u = 0;
    int r;
    if (!json_is_object(o)) return bad(c, "$.limits", "expected an object");
    if ((r = known_keys(c, o, "$.limits", keys)) < 0) return r;
    if ((r = get_uint(c, o, "memoryBytes", "$.limits", UINT64_MAX >> 1, &p->limits.memory_bytes)) <
        0)
        return r;
    if ((r = get_uint(c, o, "openFiles", "$.limits", 65536, &u)) < 0) return r;
    p->limits.open_fds = (uint32_t)u;
    if ((r = get_uint(c, o, "outputBytes", "$.limits", UINT64_MAX >> 1, &p->limits.output_bytes)) <
        0)
        return r;
    if ((r = get_uint(c, o, "wallTimeMs", "$.limits", UINT64_MAX >> 1, &p->limits.wall_ms)) < 0)
        return r;
    return get_uint(c, o, "cpuTimeMs", "$.limits", UINT64_MAX >> 1, &p->limits.cpu_ms);
}

/* "engine": how the guest's code may run (kiln_unit_module_load reads it). */
static int parse_engine(struct ctx *c, json_t *o, struct kiln_vk_policy *p)
{
    static const char *const keys[] = {"requireAot", "comment", NULL};
    json_t *v;
    int r;
    if (!json_is_object(o)) return bad(c, "$.engine", "expected an object");
    if ((r = known_keys(c, o, "$.engine", keys)) < 0) return r;
    if ((v = json_object_get(o, "requireAot")) != NULL) {
        if (!json_is_boolean(v)) return bad(c, "$.engine.requireAot", "expected true or false");
        p->require_aot = json_is_true(v);
    }
    return 0;
}

/* Precomputes one decision per core id. */
static void compile(struct kiln_vk_policy *p)
{
    int id, i;
    for (id = 0; id < KILN_VK_SYS__COUNT; id++) {
        struct sys_decision *d = &p->dec[id];
        d->action = p->default_action;
        d->errno_ret = p->default_errno;
        d->dynamic = false;
        d->rule = p->default_rule;
        for (i = 0; i < p->nrules; i++) {
            const struct sys_rule *r = &p->rules[i];
            if (!has_bit(r->ids, id)) continue;
            if (r->nargs > 0) {
                d->dynamic = true;
                continue;
            }
            d->action = r->action;
            d->errno_ret = r->errno_ret;
            d->rule = r->name;
            break;
        }
    }
}

/* Parses a policy; see vkernel.h. */
int kiln_vk_policy_parse(const char *json, size_t len, const char *name,
                         struct kiln_vk_policy **out, struct kiln_error *err)
{
    static const char *const keys[] = {"kilnPolicy", "seccomp", "filesystem", "network", "limits",
                                       "exec",       "audit",   "engine",     "comment", NULL};
    struct ctx c = {name ? name : "policy", err};
    struct kiln_vk_policy *p;
    json_error_t je;
    json_t *root, *v;
    int r = 0;
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return kiln_error_set(err, KILN_E_MALFORMED, "%s:%d:%d: %s", c.name, je.line, je.column,
                              je.text);
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        json_decref(root);
        return kiln_error_set(err, KILN_E_NOMEM, "%s: out of memory", c.name);
    }
    p->default_action = KILN__ACT_ERRNO;
    p->default_errno = EPERM;
    snprintf(p->default_rule, sizeof p->default_rule, "default:deny");
    if (!json_is_object(root)) {
        r = bad(&c, "$", "expected an object");
        goto fail;
    }
    if (json_object_get(root, "defaultAction") != NULL) {
        /* the whole document is an OCI/Docker seccomp profile */
        r = parse_seccomp(&c, root, "$", p);
        if (r < 0) goto fail;
    } else {
        if ((r = known_keys(&c, root, "$", keys)) < 0) goto fail;
        v = json_object_get(root, "kilnPolicy");
        if (v != NULL && !(json_is_integer(v) && json_integer_value(v) == 1)) {
            r = bad(&c, "$.kilnPolicy", "expected 1 (the only version)");
            goto fail;
        }
        if ((v = json_object_get(root, "seccomp")) != NULL &&
            (r = parse_seccomp(&c, v, "$.seccomp", p)) < 0)
            goto fail;
        if ((v = json_object_get(root, "filesystem")) != NULL && (r = parse_fs(&c, v, p)) < 0)
            goto fail;
        if ((v = json_object_get(root, "network")) != NULL && (r = parse_net(&c, v, p)) < 0)
            goto fail;
        if ((v = json_object_get(root, "limits")) != NULL && (r = parse_limits(&c, v, p)) < 0)
            goto fail;
        if ((v = json_object_get(root, "engine")) != NULL && (r = parse_engine(&c, v, p)) < 0)
            goto fail;
        if ((v = json_object_get(root, "exec")) != NULL) {
            size_t i;
            json_t *e;
            if (!json_is_array(v)) {
                r = bad(&c, "$.exec", "expected an array of guest paths or sha256 digests");
                goto fail;
            }
            p->exec = calloc(json_array_size(v) + 1, sizeof *p->exec);
            if (p->exec == NULL) {
                r = kiln_error_set(err, KILN_E_NOMEM, "%s: out of memory", c.name);
                goto fail;
            }
            json_array_foreach(v, i, e)
            {
                char jp[40];
                snprintf(jp, sizeof jp, "$.exec[%zu]", i);
                if (!json_is_string(e) || (json_string_value(e)[0] != '/' &&
                                           strncmp(json_string_value(e), "sha256:", 7) != 0)) {
                    r = bad(&c, jp, "expected an absolute guest path or \"sha256:<hex>\"");
                    goto fail;
                }
                if ((p->exec[p->nexec] = strdup(json_string_value(e))) == NULL) {
                    r = kiln_error_set(err, KILN_E_NOMEM, "%s: out of memory", c.name);
                    goto fail;
                }
                p->nexec++;
            }
        }
        if ((v = json_object_get(root, "audit")) != NULL) {
            const char *a = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(a, "all") == 0)
                p->audit_level = KILN__AUDIT_ALL;
            else if (strcmp(a, "denials") == 0)
                p->audit_level = KILN__AUDIT_DENIALS;
            else if (strcmp(a, "none") == 0)
                p->audit_level = KILN__AUDIT_NONE;
            else {
                r = bad(&c, "$.audit", "expected one of all, denials, none");
                goto fail;
            }
        }
    }
    compile(p);
    json_decref(root);
    *out = p;
    return 0;
fail:
    json_decref(root);
    kiln_vk_policy_free(p);
    return r;
}

/* Reads and parses a policy file; see vkernel.h. */
int kiln_vk_policy_load(const char *path, struct kiln_vk_policy **out, struct kiln_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    const char *base = strrchr(path, '/');
    int r;
    if (f == NULL) return kiln_error_sys(err, errno, "policy %s", path);
    for (;;) {
        size_t got;
        if (n + 4096 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 8192);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return kiln_error_set(err, KILN_E_NOMEM, "policy %s: out of memory", path);
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    r = kiln_vk_policy_parse(buf, n, base ? base + 1 : path, out, err);
    free(buf);
    return r;
}

/* Frees a policy. NULL is a no-op. */
void kiln_vk_policy_free(struct kiln_vk_policy *p)
{
    int i;
    if (p == NULL) return;
    for (i = 0; i < p->nfs; i++)
        free(p->fs[i].path);
    for (i = 0; i < p->nexec; i++)
        free(p->exec[i]);
    free(p->exec);
    free(p->fs);
    free(p->net);
    free(p->rules);
    free(p);
}

/* Audit level of the policy; see vk.h. */
int kiln__policy_audit_level(const struct kiln_vk_policy *p)
{
    return p->audit_level;
}

/* The policy's limits; see vkernel.h. */
const struct kiln_vk_limits *kiln_vk_policy_limits(const struct kiln_vk_policy *p)
{
    return &p->limits;
}

/* Whether the policy demands AOT; see vkernel.h. */
bool kiln_vk_policy_require_aot(const struct kiln_vk_policy *p)
{
    return p != NULL && p->require_aot;
}

/* ---- evaluation ---- */

static bool prefix_of(const char *rule, size_t rl, const char *path)
{
    if (rl == 1) return true; /* "/" */
    return strncmp(rule, path, rl) == 0 && (path[rl] == '/' || path[rl] == 0);
}

/* Filesystem mode for a guest path; see vk.h. */
int kiln__policy_fs(const struct kiln_vk_policy *p, const char *guest, int *rule)
{
    int i, best = -1;
    size_t bl = 0;
    for (i = 0; i < p->nfs; i++)
        if (prefix_of(p->fs[i].path, p->fs[i].len, guest) && (best < 0 || p->fs[i].len >= bl)) {
            best = i;
            bl = p->fs[i].len;
        }
    *rule = best;
    return best < 0 ? KILN__FS_NONE : p->fs[best].mode;
}

/* True when a rule lies strictly beneath guest; see vk.h. */
bool kiln__policy_fs_below(const struct kiln_vk_policy *p, const char *guest)
{
    int i;
    size_t gl = strlen(guest);
    for (i = 0; i < p->nfs; i++)
        if (p->fs[i].len > gl && prefix_of(guest, gl, p->fs[i].path)) return true;
    return false;
}

/* Whether lookups under guest may not cross host mounts (rule noXdev). */
bool kiln__policy_fs_noxdev(const struct kiln_vk_policy *p, const char *guest)
{
    int r;
    kiln__policy_fs(p, guest, &r);
    return r >= 0 && p->fs[r].noxdev;
}

/* Path of filesystem rule i; see vk.h. */
const char *kiln__policy_fs_rule_path(const struct kiln_vk_policy *p, int i)
{
    return (i >= 0 && i < p->nfs) ? p->fs[i].path : NULL;
}

/* True when q lies strictly beneath directory d (component-wise). */
static bool strictly_beneath(const char *d, const char *q)
{
    size_t n = strlen(d);
    if (n == 1) return q[0] == '/' && q[1] != 0; /* d = "/" */
    return strncmp(d, q, n) == 0 && q[n] == '/';
}

/* The highest granted directories strictly beneath d; see vk.h. */
int kiln__policy_fs_granted_beneath(const struct kiln_vk_policy *p, const char *d,
                                    int (*fn)(const char *path, void *ctx), void *ctx)
{
    char anc[PATH_MAX];
    int i, j, rule, r;
    for (i = 0; i < p->nfs; i++) {
        const char *q = p->fs[i].path;
        bool covered = false, dup = false;
        char *s;
        if (!strictly_beneath(d, q) || kiln__policy_fs(p, q, &rule) == KILN__FS_NONE) continue;
        if (p->fs[i].len >= sizeof anc) continue;
        memcpy(anc, q, p->fs[i].len + 1); /* a granted directory between d and q covers q */
        while (!covered && (s = strrchr(anc, '/')) != NULL && s != anc) {
            *s = 0;
            if (!strictly_beneath(d, anc)) break;
            covered = kiln__policy_fs(p, anc, &rule) != KILN__FS_NONE;
        }
        /* the same path named by an earlier rule was handled there (same answer) */
        for (j = 0; j < i && !dup; j++)
            dup = strcmp(p->fs[j].path, q) == 0;
        if (covered || dup) continue;
        if ((r = fn(q, ctx)) < 0) return r;
    }
    return 0;
}

/* JSON path of filesystem rule i; see vk.h. */
const char *kiln__policy_fs_rule_name(const struct kiln_vk_policy *p, int i)
{
    return (i >= 0 && i < p->nfs) ? p->fs[i].name : "default:none";
}

static bool arg_holds(const struct sys_arg *a, const uint64_t *args)
{
    uint64_t v = args[a->index];
    switch (a->op) {
    case CMP_NE:
        return v != a->value;
    case CMP_LT:
        return v < a->value;
    case CMP_LE:
        return v <= a->value;
    case CMP_EQ:
        return v == a->value;
    case CMP_GE:
        return v >= a->value;
    case CMP_GT:
        return v > a->value;
    case CMP_MASKED_EQ:
        return (v & a->value) == a->value2;
    default:
        return false;
    }
}

/* Syscall decision; see vk.h. */
int kiln__policy_sys(const struct kiln_vk_policy *p, int sys, const uint64_t *args, int *errno_ret,
                     const char **rule)
{
    const struct sys_decision *d = &p->dec[sys];
    int i, j;
    if (d->dynamic) {
        for (i = 0; i < p->nrules; i++) {
            const struct sys_rule *r = &p->rules[i];
            bool ok = true;
            if (!has_bit(r->ids, sys)) continue;
            for (j = 0; j < r->nargs && ok; j++)
                ok = args != NULL && arg_holds(&r->args[j], args);
            if (!ok) continue;
            *errno_ret = r->errno_ret;
            *rule = r->name;
            return r->action;
        }
        *errno_ret = p->default_errno;
        *rule = p->default_rule;
        return p->default_action;
    }
    *errno_ret = d->errno_ret;
    *rule = d->rule;
    return d->action;
}

/* Network decision; see vk.h. */
int kiln__policy_net(const struct kiln_vk_policy *p, const char *dir, const char *proto,
                     const char *addr, int port, const char **rule)
{
    int i;
    for (i = 0; i < p->nnet; i++) {
        const struct net_rule *n = &p->net[i];
        if (strcmp(n->dir, dir) != 0 || strcmp(n->proto, proto) != 0) continue;
        if (n->addr[0] && strcmp(n->addr, addr) != 0) continue;
        if (port < n->lo || port > n->hi) continue;
        *rule = n->name;
        return 0;
    }
    *rule = "default:none";
    return -EACCES;
}

/* ---- the exec list ---- */

/* Exec-list decision; see vk.h. */
bool kiln__policy_exec_allowed(const struct kiln_vk_policy *p, const char *path, const char *sha256,
                               int *rule)
{
    int i;
    *rule = -1;
    for (i = 0; i < p->nexec; i++) {
        const char *s = p->exec[i];
        if ((s[0] == '/' && path != NULL && strcmp(s, path) == 0) ||
            (strncmp(s, "sha256:", 7) == 0 && sha256 != NULL && strcmp(s + 7, sha256) == 0)) {
            *rule = i;
            return true;
        }
    }
    return false;
}

/* Whether the exec list names digests; see vk.h. */
bool kiln__policy_exec_digests(const struct kiln_vk_policy *p)
{
    int i;
    for (i = 0; i < p->nexec; i++)
        if (strncmp(p->exec[i], "sha256:", 7) == 0) return true;
    return false;
}

/* Number of exec entries; see vk.h. */
int kiln__policy_exec_count(const struct kiln_vk_policy *p)
{
    return p->nexec;
}

/* Sets the label; see vk.h. */
void kiln__policy_set_label(struct kiln_vk_policy *p, const char *label)
{
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
}

/* ---- intersection ----
 *
 * The result is built from the two parsed policies, never from their text, so
 * it holds exactly what the evaluation functions above read:
 *   - syscalls: per core id, the first-match list of each side (its rules that
 *     name the id, up to the first one without conditions, then the default).
 *     The product of the two lists in lexicographic order, each pair's
 *     conditions joined (AND) and the stricter action, is again a first-match
 *     list and decides exactly what "the stricter of both sides" decides: the
 *     first pair that matches is (first match of a, first match of b).
 *   - filesystem: one rule at every path either side names, with the weaker
 *     mode of the two there; longest-prefix matching over that union gives
 *     min(mode_a, mode_b) at every path (the longest rule of each side that
 *     prefixes a path also prefixes the longest rule of the union).
 *   - network: a rule per pair of rules with the same direction and protocol,
 *     compatible addresses and overlapping ports: the rectangles' intersections.
 * Rule names keep where a decision came from: "<label>:<rule of that side>". */

/* Authority order of the seccomp actions: a larger rank is stricter. */
static int act_rank(int a)
{
    switch (a) {
    case KILN__ACT_ALLOW:
        return 0;
    case KILN__ACT_LOG:
        return 1;
    case KILN__ACT_KILL:
        return 3;
    default: /* ERRNO, TRACE: the call fails */
        return 2;
    }
}

static void side_name(char *out, size_t n, const struct kiln_vk_policy *p, const char *name)
{
    if (p->label[0])
        snprintf(out, n, "%s:%s", p->label, name);
    else
        snprintf(out, n, "%s", name);
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    void *n;
    int c;
    if (need <= *cap) return 0;
    c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    n = realloc(*arr, (size_t)c * elem);
    if (n == NULL) return -1;
    memset((char *)n + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *arr = n;
    *cap = c;
    return 0;
}

/* Side p's first-match list for core id: pointers to its rules naming id, up
 * to and including the first without conditions; NULL stands for the
 * default. Returns the length (>= 1). */
static int sys_list(const struct kiln_vk_policy *p, int id, const struct sys_rule **out)
{
    int i, n = 0;
    for (i = 0; i < p->nrules; i++) {
        const struct sys_rule *r = &p->rules[i];
        if (!has_bit(r->ids, id)) continue;
        out[n++] = r;
        if (r->nargs == 0) return n;
    }
    out[n++] = NULL;
    return n;
}

/* Adds condition c to r unless r has it already. Returns false when r is full. */
static bool add_cond(struct sys_rule *r, const struct sys_arg *c)
{
    int k;
    for (k = 0; k < r->nargs; k++)
        if (r->args[k].index == c->index && r->args[k].op == c->op &&
            r->args[k].value == c->value && r->args[k].value2 == c->value2)
            return true;
    if (r->nargs == MAX_ARGS) return false;
    r->args[r->nargs++] = *c;
    return true;
}

/* The product rule of (ra, rb) for id (NULL = that side's default). */
static void pair_rule(struct sys_rule *out, const struct kiln_vk_policy *a,
                      const struct sys_rule *ra, const struct kiln_vk_policy *b,
                      const struct sys_rule *rb, int id)
{
    int xa = ra ? ra->action : a->default_action, xb = rb ? rb->action : b->default_action;
    int ea = ra ? ra->errno_ret : a->default_errno, eb = rb ? rb->errno_ret : b->default_errno;
    bool take_b = act_rank(xb) > act_rank(xa), fits = true;
    int k;
    memset(out, 0, sizeof *out);
    set_bit(out->ids, id);
    out->action = take_b ? xb : xa;
    out->errno_ret = take_b ? eb : ea;
    if (take_b)
        side_name(out->name, sizeof out->name, b, rb ? rb->name : b->default_rule);
    else
        side_name(out->name, sizeof out->name, a, ra ? ra->name : a->default_rule);
    for (k = 0; ra && k < ra->nargs && fits; k++)
        fits = add_cond(out, &ra->args[k]);
    for (k = 0; rb && k < rb->nargs && fits; k++)
        fits = add_cond(out, &rb->args[k]);
    if (!fits && act_rank(out->action) < 2) {
        /* more conditions than a rule holds: keep the first MAX_ARGS (the rule then matches
         * more calls) and make it a denial, so it can only refuse more, never allow more */
        out->action = KILN__ACT_ERRNO;
        out->errno_ret = EPERM;
        snprintf(out->name, sizeof out->name, "builtin:intersection-conditions");
    }
}

static bool same_static(const struct sys_rule *x, const struct sys_rule *y)
{
    return x->nargs == 0 && y->nargs == 0 && x->action == y->action &&
           x->errno_ret == y->errno_ret && strcmp(x->name, y->name) == 0;
}

static int intersect_sys(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                         struct kiln_vk_policy *o)
{
    const struct sys_rule **la = calloc((size_t)a->nrules + 1, sizeof *la);
    const struct sys_rule **lb = calloc((size_t)b->nrules + 1, sizeof *lb);
    int cap = 0, id, i, j, k, na, nb, r = -1;
    bool take_b = act_rank(b->default_action) > act_rank(a->default_action);
    if (la == NULL || lb == NULL) goto out;
    o->default_action = take_b ? b->default_action : a->default_action;
    o->default_errno = take_b ? b->default_errno : a->default_errno;
    if (take_b)
        side_name(o->default_rule, sizeof o->default_rule, b, b->default_rule);
    else
        side_name(o->default_rule, sizeof o->default_rule, a, a->default_rule);
    for (id = 0; id < KILN_VK_SYS__COUNT; id++) {
        na = sys_list(a, id, la);
        nb = sys_list(b, id, lb);
        if (na == 1 && nb == 1) {
            /* a static decision: share one rule with other ids decided the same way */
            struct sys_rule t;
            pair_rule(&t, a, la[0], b, lb[0], id);
            for (k = 0; k < o->nrules; k++)
                if (same_static(&o->rules[k], &t)) {
                    set_bit(o->rules[k].ids, id);
                    break;
                }
            if (k < o->nrules) continue;
        }
        if (grow((void **)&o->rules, &cap, o->nrules + na * nb, sizeof *o->rules) < 0) goto out;
        for (i = 0; i < na; i++)
            for (j = 0; j < nb; j++)
                pair_rule(&o->rules[o->nrules++], a, la[i], b, lb[j], id);
    }
    r = 0;
out:
    free(la);
    free(lb);
    return r;
}

static int intersect_fs(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                        struct kiln_vk_policy *o)
{
    int i, k, n = a->nfs + b->nfs;
    o->fs = calloc((size_t)n + 1, sizeof *o->fs);
    if (o->fs == NULL) return -1;
    for (i = 0; i < n; i++) {
        const struct fs_rule *src = i < a->nfs ? &a->fs[i] : &b->fs[i - a->nfs];
        struct fs_rule *f;
        int ra, rb, ma, mb;
        for (k = 0; k < o->nfs; k++)
            if (strcmp(o->fs[k].path, src->path) == 0) break;
        if (k < o->nfs) continue; /* already there */
        f = &o->fs[o->nfs];
        if ((f->path = strdup(src->path)) == NULL) return -1;
        f->len = src->len;
        o->nfs++;
        ma = kiln__policy_fs(a, f->path, &ra);
        mb = kiln__policy_fs(b, f->path, &rb);
        f->mode = ma < mb ? ma : mb;
        f->noxdev = kiln__policy_fs_noxdev(a, f->path) || kiln__policy_fs_noxdev(b, f->path);
        if (mb < ma)
            side_name(f->name, sizeof f->name, b, kiln__policy_fs_rule_name(b, rb));
        else
            side_name(f->name, sizeof f->name, a, kiln__policy_fs_rule_name(a, ra));
    }
    return 0;
}

static int intersect_net(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                         struct kiln_vk_policy *o)
{
    int i, j;
    o->net = calloc((size_t)a->nnet * (size_t)b->nnet + 1, sizeof *o->net);
    if (o->net == NULL) return -1;
    for (i = 0; i < a->nnet; i++)
        for (j = 0; j < b->nnet; j++) {
            const struct net_rule *x = &a->net[i], *y = &b->net[j];
            struct net_rule *n = &o->net[o->nnet];
            char nx[RULE_NAME], ny[RULE_NAME];
            if (strcmp(x->dir, y->dir) != 0 || strcmp(x->proto, y->proto) != 0) continue;
            if (x->addr[0] && y->addr[0] && strcmp(x->addr, y->addr) != 0) continue;
            if ((x->lo > y->lo ? x->lo : y->lo) > (x->hi < y->hi ? x->hi : y->hi)) continue;
            memcpy(n->dir, x->dir, sizeof n->dir);
            memcpy(n->proto, x->proto, sizeof n->proto);
            memcpy(n->addr, x->addr[0] ? x->addr : y->addr, sizeof n->addr);
            n->lo = x->lo > y->lo ? x->lo : y->lo;
            n->hi = x->hi < y->hi ? x->hi : y->hi;
            side_name(nx, sizeof nx, a, x->name);
            side_name(ny, sizeof ny, b, y->name);
            if (strlen(nx) + 1 + strlen(ny) < sizeof n->name)
                snprintf(n->name, sizeof n->name, "%s&%s", nx, ny);
            else
                memcpy(n->name, nx, sizeof n->name);
            o->nnet++;
        }
    return 0;
}

static uint64_t min_limit(uint64_t x, uint64_t y)
{
    if (x == 0) return y; /* 0 = unlimited */
    if (y == 0) return x;
    return x < y ? x : y;
}

/* A copy of p whose rule names carry p's label (an intersection with the
 * permissive built-in policy). Returns NULL when out of memory. */
static struct kiln_vk_policy *relabeled_copy(const struct kiln_vk_policy *p)
{
    struct kiln_vk_policy *o = calloc(1, sizeof *o);
    int i;
    char t[RULE_NAME];
    if (o == NULL) return NULL;
    *o = *p;
    o->rules = NULL;
    o->fs = NULL;
    o->net = NULL;
    o->exec = NULL;
    o->nrules = o->nfs = o->nnet = o->nexec = 0;
    o->label[0] = 0;
    side_name(o->default_rule, sizeof o->default_rule, p, p->default_rule);
    if ((o->rules = calloc((size_t)p->nrules + 1, sizeof *o->rules)) == NULL ||
        (o->fs = calloc((size_t)p->nfs + 1, sizeof *o->fs)) == NULL ||
        (o->net = calloc((size_t)p->nnet + 1, sizeof *o->net)) == NULL ||
        (o->exec = calloc((size_t)p->nexec + 1, sizeof *o->exec)) == NULL)
        goto fail;
    for (i = 0; i < p->nrules; i++, o->nrules++) {
        o->rules[i] = p->rules[i];
        side_name(t, sizeof t, p, p->rules[i].name);
        memcpy(o->rules[i].name, t, sizeof t);
    }
    for (i = 0; i < p->nfs; i++, o->nfs++) {
        o->fs[i] = p->fs[i];
        if ((o->fs[i].path = strdup(p->fs[i].path)) == NULL) goto fail;
        side_name(t, sizeof t, p, p->fs[i].name);
        memcpy(o->fs[i].name, t, sizeof t);
    }
    for (i = 0; i < p->nnet; i++, o->nnet++) {
        o->net[i] = p->net[i];
        side_name(t, sizeof t, p, p->net[i].name);
        memcpy(o->net[i].name, t, sizeof t);
    }
    for (i = 0; i < p->nexec; i++, o->nexec++)
        if ((o->exec[i] = strdup(p->exec[i])) == NULL) goto fail;
    compile(o);
    return o;
fail:
    kiln_vk_policy_free(o);
    return NULL;
}

/* The intersection of two policies; see vkernel.h. */
int kiln_vk_policy_intersect(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                             struct kiln_vk_policy **out, struct kiln_error *err)
{
    struct kiln_vk_policy *o = NULL;
    int i, k;
    if (a == NULL && b == NULL) { /* both permissive */
        *out = NULL;
        return 0;
    }
    if (a == NULL || b == NULL) {
        o = relabeled_copy(a ? a : b);
        if (o == NULL) goto nomem;
        *out = o;
        return 0;
    }
    if ((o = calloc(1, sizeof *o)) == NULL) goto nomem;
    if (intersect_sys(a, b, o) < 0 || intersect_fs(a, b, o) < 0 || intersect_net(a, b, o) < 0)
        goto nomem;
    o->exec = calloc((size_t)a->nexec + 1, sizeof *o->exec);
    if (o->exec == NULL) goto nomem;
    for (i = 0; i < a->nexec; i++) /* entries both lists hold (see vkernel.h) */
        for (k = 0; k < b->nexec; k++)
            if (strcmp(a->exec[i], b->exec[k]) == 0) {
                if ((o->exec[o->nexec] = strdup(a->exec[i])) == NULL) goto nomem;
                o->nexec++;
                break;
            }
    o->limits.memory_bytes = min_limit(a->limits.memory_bytes, b->limits.memory_bytes);
    o->limits.open_fds = (uint32_t)min_limit(a->limits.open_fds, b->limits.open_fds);
    o->limits.output_bytes = min_limit(a->limits.output_bytes, b->limits.output_bytes);
    o->limits.wall_ms = min_limit(a->limits.wall_ms, b->limits.wall_ms);
    o->limits.cpu_ms = min_limit(a->limits.cpu_ms, b->limits.cpu_ms);
    /* audit: whatever either side asks to record (ALL < DENIALS < NONE) */
    o->audit_level = a->audit_level < b->audit_level ? a->audit_level : b->audit_level;
    o->require_aot = a->require_aot || b->require_aot;
    compile(o);
    *out = o;
    return 0;
nomem:
    kiln_vk_policy_free(o);
    return kiln_error_set(err, KILN_E_NOMEM, "policy intersection: out of memory");
}

/* ---- serialization ---- */

static const char *act_json(int a)
{
    switch (a) {
    case KILN__ACT_ALLOW:
        return "SCMP_ACT_ALLOW";
    case KILN__ACT_LOG:
        return "SCMP_ACT_LOG";
    case KILN__ACT_KILL:
        return "SCMP_ACT_KILL_PROCESS";
    case KILN__ACT_TRACE:
        return "SCMP_ACT_TRACE";
    default:
        return "SCMP_ACT_ERRNO";
    }
}

static int add(json_t *o, const char *k, json_t *v)
{
    return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static json_t *seccomp_json(const struct kiln_vk_policy *p)
{
    json_t *s = json_object(), *calls = json_array();
    int i, id, k, r = 0;
    if (s == NULL || calls == NULL) goto fail;
    r |= add(s, "defaultAction", json_string(act_json(p->default_action)));
    r |= add(s, "defaultErrnoRet", json_integer(p->default_errno));
    for (i = 0; i < p->nrules && r == 0; i++) {
        const struct sys_rule *sr = &p->rules[i];
        json_t *o = json_object(), *names = json_array(), *args = json_array();
        r |= o == NULL || names == NULL || args == NULL ? -1 : 0;
        for (id = 0; id < KILN_VK_SYS__COUNT && r == 0; id++)
            if (has_bit(sr->ids, id))
                r |= json_array_append_new(names, json_string(kiln_vk_sys_name(id)));
        for (k = 0; k < sr->nargs && r == 0; k++)
            r |= json_array_append_new(
                args, json_pack("{s:i,s:I,s:I,s:s}", "index", sr->args[k].index, "value",
                                (json_int_t)sr->args[k].value, "valueTwo",
                                (json_int_t)sr->args[k].value2, "op", cmp_ops[sr->args[k].op]));
        if (r == 0 && json_array_size(names) > 0) {
            r |= add(o, "names", json_incref(names));
            r |= add(o, "action", json_string(act_json(sr->action)));
            r |= add(o, "errnoRet", json_integer(sr->errno_ret));
            if (sr->nargs > 0) r |= add(o, "args", json_incref(args));
            r |= json_array_append(calls, o);
        }
        json_decref(o);
        json_decref(names);
        json_decref(args);
    }
    if (r != 0) goto fail;
    r = add(s, "syscalls", calls); /* takes calls, also on failure */
    calls = NULL;
    if (r != 0) goto fail;
    return s;
fail:
    json_decref(calls);
    json_decref(s);
    return NULL;
}

/* The policy as a document; see vkernel.h. */
int kiln_vk_policy_to_json(const struct kiln_vk_policy *p, char **out, size_t *len,
                           struct kiln_error *err)
{
    static const char *const modes[] = {"none", "ro", "rw"};
    static const char *const levels[] = {"all", "denials", "none"};
    json_t *d = json_object(), *fs = json_array(), *net = json_array(), *ex = json_array();
    json_t *lim = json_object();
    char *txt = NULL;
    int i, r = 0;
    if (d == NULL || fs == NULL || net == NULL || ex == NULL || lim == NULL) r = -1;
    for (i = 0; i < p->nfs && r == 0; i++) {
        json_t *f = json_pack("{s:s,s:s}", "path", p->fs[i].path, "mode", modes[p->fs[i].mode]);
        if (f != NULL && p->fs[i].noxdev) json_object_set_new(f, "noXdev", json_true());
        r |= json_array_append_new(fs, f);
    }
    for (i = 0; i < p->nnet && r == 0; i++) {
        const struct net_rule *n = &p->net[i];
        r |= json_array_append_new(
            net, json_pack("{s:s,s:s,s:s,s:[i,i]}", "direction", n->dir, "proto", n->proto,
                           "address", n->addr[0] ? n->addr : "*", "ports", n->lo, n->hi));
    }
    for (i = 0; i < p->nexec && r == 0; i++)
        r |= json_array_append_new(ex, json_string(p->exec[i]));
    if (p->limits.memory_bytes)
        r |= add(lim, "memoryBytes", json_integer((json_int_t)p->limits.memory_bytes));
    if (p->limits.open_fds) r |= add(lim, "openFiles", json_integer(p->limits.open_fds));
    if (p->limits.output_bytes)
        r |= add(lim, "outputBytes", json_integer((json_int_t)p->limits.output_bytes));
    if (p->limits.wall_ms) r |= add(lim, "wallTimeMs", json_integer((json_int_t)p->limits.wall_ms));
    if (p->limits.cpu_ms) r |= add(lim, "cpuTimeMs", json_integer((json_int_t)p->limits.cpu_ms));
    if (r == 0) {
        r |= add(d, "kilnPolicy", json_integer(1));
        r |= add(d, "seccomp", seccomp_json(p));
        r |= json_object_set(d, "filesystem", fs);
        r |= json_object_set(d, "network", net);
        r |= json_object_set(d, "exec", ex);
        r |= json_object_set(d, "limits", lim);
        r |= add(d, "audit", json_string(levels[p->audit_level]));
        r |= add(d, "engine", json_pack("{s:b}", "requireAot", p->require_aot));
    }
    if (r == 0) txt = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    json_decref(fs);
    json_decref(net);
    json_decref(ex);
    json_decref(lim);
    if (txt == NULL) return kiln_error_set(err, KILN_E_NOMEM, "policy: out of memory");
    *out = txt;
    *len = strlen(txt);
    return 0;
}
