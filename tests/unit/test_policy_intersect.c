/*
 * test_policy_intersect.c — kiln_vk_policy_intersect and kiln_vk_policy_to_json
 * (src/vkernel/policy.c) on their own, as used for units started inside a
 * container (docs/guest-proc.md, "Whose policy").
 *
 * Property checks over random policies (a fixed-seed generator, so a failure
 * repeats): for every probe — a path, a syscall with arguments, a socket
 * address, an exec candidate —
 *   - intersect(a, b) decides exactly the stricter of a and b (filesystem,
 *     syscalls, network) and never grants an exec a or b denies;
 *   - intersect(a, a) decides as a does;
 *   - parse(to_json(x)) decides as x does.
 * Plus worked examples: rule names naming their side, limits, audit,
 * requireAot, NULL as the permissive policy, conditions that do not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vkernel/vk.h"

/* ---- a small deterministic generator ---- */

static uint64_t g_rng;
static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

static const char *const g_paths[] = {"/", "/a", "/a/b", "/a/b/c", "/a/x", "/d", "/d/e", "/etc"};
#define NPATHS (sizeof g_paths / sizeof *g_paths)
static const char *const g_probes[] = {"/",      "/a",    "/a/b",       "/a/b/c", "/a/b/c/f",
                                       "/a/x",   "/a/xy", "/ab",        "/d",     "/d/e",
                                       "/d/e/g", "/etc",  "/etc/hosts", "/z",     "/a/b/d"};
#define NPROBES (sizeof g_probes / sizeof *g_probes)
static const char *const g_modes[] = {"none", "ro", "rw"};
static const char *const g_names[] = {"openat", "read",   "readv", "writev", "mkdirat",
                                      "kill",   "execve", "open",  "getpid", "unlinkat"};
static const int g_ids[] = {KILN_VK_SYS_openat,  KILN_VK_SYS_readv,    KILN_VK_SYS_writev,
                            KILN_VK_SYS_mkdirat, KILN_VK_SYS_kill,     KILN_VK_SYS_execve,
                            KILN_VK_SYS_getpid,  KILN_VK_SYS_unlinkat, KILN_VK_SYS_close};
#define NIDS (sizeof g_ids / sizeof *g_ids)
static const char *const g_actions[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO",
                                        "SCMP_ACT_KILL", "SCMP_ACT_TRACE"};
static const char *const g_ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_GE",
                                    "SCMP_CMP_MASKED_EQ"};
static const char *const g_addrs[] = {"127.0.0.1", "::1", "10.0.0.1"};
static const int g_ports[] = {0, 22, 80, 443, 8080, 9000, 65535};
static const char *const g_exec[] = {"/bin/a", "/bin/b", "/bin/c", "sha256:aa", "sha256:bb"};

struct buf {
    char s[16384];
    size_t n;
};
static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    b->n += (size_t)vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    assert_true(b->n < sizeof b->s);
}

static struct kiln_vk_policy *parse(const char *json)
{
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    if (kiln_vk_policy_parse(json, strlen(json), "gen.json", &p, &err) < 0)
        fail_msg("%s\n%s", err.msg, json);
    return p;
}

/* A random policy document. */
static struct kiln_vk_policy *random_policy(void)
{
    struct buf b = {.n = 0};
    uint32_t i, k, n;
    put(&b, "{\"kilnPolicy\":1");
    if (rnd(6) != 0) { /* sometimes no seccomp part: default deny */
        put(&b, ",\"seccomp\":{\"defaultAction\":\"%s\",\"defaultErrnoRet\":%u,\"syscalls\":[",
            g_actions[rnd(5)], 1 + rnd(40));
        n = rnd(7);
        for (i = 0; i < n; i++) {
            uint32_t nn = 1 + rnd(3), na = rnd(3) == 0 ? 0 : rnd(3);
            put(&b, "%s{\"names\":[", i ? "," : "");
            for (k = 0; k < nn; k++)
                put(&b, "%s\"%s\"", k ? "," : "", g_names[rnd(sizeof g_names / sizeof *g_names)]);
            put(&b, "],\"action\":\"%s\",\"errnoRet\":%u", g_actions[rnd(5)], 1 + rnd(40));
            if (na > 0) {
                put(&b, ",\"args\":[");
                for (k = 0; k < na; k++)
                    put(&b, "%s{\"index\":%u,\"value\":%u,\"valueTwo\":%u,\"op\":\"%s\"}",
                        k ? "," : "", rnd(3), rnd(4), rnd(3), g_ops[rnd(5)]);
                put(&b, "]");
            }
            put(&b, "}");
        }
        put(&b, "]}");
    }
    n = rnd(5);
    put(&b, ",\"filesystem\":[");
    for (i = 0; i < n; i++)
        put(&b, "%s{\"path\":\"%s\",\"mode\":\"%s\"%s}", i ? "," : "", g_paths[rnd(NPATHS)],
            g_modes[rnd(3)], rnd(4) == 0 ? ",\"noXdev\":true" : "");
    put(&b, "],\"network\":[");
    n = rnd(4);
    for (i = 0; i < n; i++) {
        uint32_t lo = (uint32_t)g_ports[rnd(7)], hi = (uint32_t)g_ports[rnd(7)];
        if (lo > hi) {
            uint32_t t = lo;
            lo = hi;
            hi = t;
        }
        put(&b, "%s{\"direction\":\"%s\",\"proto\":\"%s\"", i ? "," : "",
            rnd(2) ? "listen" : "connect", rnd(3) ? "tcp" : "udp");
        if (rnd(3)) put(&b, ",\"address\":\"%s\"", rnd(4) ? g_addrs[rnd(3)] : "*");
        if (rnd(3)) put(&b, ",\"ports\":[%u,%u]", lo, hi);
        put(&b, "}");
    }
    put(&b, "]");
    if (rnd(4)) {
        put(&b, ",\"exec\":[");
        n = rnd(4);
        for (i = 0; i < n; i++)
            put(&b, "%s\"%s\"", i ? "," : "", g_exec[rnd(5)]);
        put(&b, "]");
    }
    if (rnd(2)) {
        put(&b, ",\"limits\":{\"openFiles\":%u,\"memoryBytes\":%u", rnd(3) * 64, rnd(3) << 20);
        put(&b, ",\"wallTimeMs\":%u,\"cpuTimeMs\":%u,\"outputBytes\":%u}", rnd(3) * 1000,
            rnd(3) * 500, rnd(3) * 4096);
    }
    if (rnd(2)) put(&b, ",\"audit\":\"%s\"", (const char *[]){"all", "denials", "none"}[rnd(3)]);
    if (rnd(2)) put(&b, ",\"engine\":{\"requireAot\":%s}", rnd(2) ? "true" : "false");
    put(&b, "}");
    return parse(b.s);
}

/* ---- probes ---- */

static int rank(int act)
{
    return act == KILN__ACT_ALLOW ? 0 : act == KILN__ACT_LOG ? 1 : act == KILN__ACT_KILL ? 3 : 2;
}

struct sysres {
    int act, err;
};
static struct sysres sys_of(const struct kiln_vk_policy *p, int id, const uint64_t *args)
{
    struct sysres r;
    const char *rule = NULL;
    r.err = 0;
    r.act = kiln__policy_sys(p, id, args, &r.err, &rule);
    assert_non_null(rule);
    if (rank(r.act) < 2) r.err = 0; /* an allowed call has no errno */
    return r;
}

/* Every argument vector the probes try (index 0..2 over 0..3; others 0), then NULL. */
#define NARGV 65
static const uint64_t *argv_of(int k, uint64_t buf[6])
{
    if (k == 64) return NULL;
    memset(buf, 0, 6 * sizeof *buf);
    buf[0] = (uint64_t)(k & 3);
    buf[1] = (uint64_t)((k >> 2) & 3);
    buf[2] = (uint64_t)((k >> 4) & 3);
    return buf;
}

static bool net_ok(const struct kiln_vk_policy *p, int d, int proto, int a, int port)
{
    const char *rule;
    return kiln__policy_net(p, d ? "listen" : "connect", proto ? "udp" : "tcp", g_addrs[a],
                            g_ports[port], &rule) == 0;
}

static bool exec_ok(const struct kiln_vk_policy *p, int i)
{
    int rule;
    const char *e = g_exec[i];
    if (e[0] == '/') return kiln__policy_exec_allowed(p, e, NULL, &rule);
    return kiln__policy_exec_allowed(p, "/elsewhere", e + 7, &rule);
}

/* x decides exactly as y on every probe. */
static void same_decisions(const struct kiln_vk_policy *x, const struct kiln_vk_policy *y)
{
    size_t i, k;
    int r1, r2, d, pr, a, port;
    uint64_t buf[6];
    for (i = 0; i < NPROBES; i++) {
        assert_int_equal(kiln__policy_fs(x, g_probes[i], &r1),
                         kiln__policy_fs(y, g_probes[i], &r2));
        assert_int_equal(kiln__policy_fs_noxdev(x, g_probes[i]),
                         kiln__policy_fs_noxdev(y, g_probes[i]));
    }
    for (i = 0; i < NIDS; i++)
        for (k = 0; k < NARGV; k++) {
            struct sysres sx = sys_of(x, g_ids[i], argv_of((int)k, buf));
            struct sysres sy = sys_of(y, g_ids[i], argv_of((int)k, buf));
            assert_int_equal(sx.act, sy.act);
            assert_int_equal(sx.err, sy.err);
        }
    for (d = 0; d < 2; d++)
        for (pr = 0; pr < 2; pr++)
            for (a = 0; a < 3; a++)
                for (port = 0; port < 7; port++)
                    assert_int_equal(net_ok(x, d, pr, a, port), net_ok(y, d, pr, a, port));
    for (i = 0; i < 5; i++)
        assert_int_equal(exec_ok(x, (int)i), exec_ok(y, (int)i));
    assert_memory_equal(kiln_vk_policy_limits(x), kiln_vk_policy_limits(y),
                        sizeof(struct kiln_vk_limits));
    assert_int_equal(kiln__policy_audit_level(x), kiln__policy_audit_level(y));
    assert_int_equal(kiln_vk_policy_require_aot(x), kiln_vk_policy_require_aot(y));
}

static uint64_t lim_min(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* i = intersect(a, b) decides the stricter of a and b everywhere. */
static void check_intersection(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                               const struct kiln_vk_policy *i)
{
    size_t k, j;
    int r, d, pr, ad, port, ma, mb;
    uint64_t buf[6];
    for (k = 0; k < NPROBES; k++) {
        ma = kiln__policy_fs(a, g_probes[k], &r);
        mb = kiln__policy_fs(b, g_probes[k], &r);
        assert_int_equal(kiln__policy_fs(i, g_probes[k], &r), ma < mb ? ma : mb);
        assert_int_equal(kiln__policy_fs_noxdev(i, g_probes[k]),
                         kiln__policy_fs_noxdev(a, g_probes[k]) ||
                             kiln__policy_fs_noxdev(b, g_probes[k]));
    }
    for (k = 0; k < NIDS; k++)
        for (j = 0; j < NARGV; j++) {
            const uint64_t *av = argv_of((int)j, buf);
            struct sysres sa = sys_of(a, g_ids[k], av), sb = sys_of(b, g_ids[k], av);
            struct sysres si = sys_of(i, g_ids[k], av);
            struct sysres want = rank(sb.act) > rank(sa.act) ? sb : sa;
            if (rank(si.act) != rank(want.act) || si.err != want.err)
                fail_msg("%s args %zu: a %d/%d b %d/%d -> %d/%d", kiln_vk_sys_name(g_ids[k]), j,
                         sa.act, sa.err, sb.act, sb.err, si.act, si.err);
            /* never more than either side allows */
            assert_true(rank(si.act) >= rank(sa.act) && rank(si.act) >= rank(sb.act));
        }
    for (d = 0; d < 2; d++)
        for (pr = 0; pr < 2; pr++)
            for (ad = 0; ad < 3; ad++)
                for (port = 0; port < 7; port++)
                    assert_int_equal(net_ok(i, d, pr, ad, port),
                                     net_ok(a, d, pr, ad, port) && net_ok(b, d, pr, ad, port));
    for (k = 0; k < 5; k++)
        if (exec_ok(i, (int)k)) assert_true(exec_ok(a, (int)k) && exec_ok(b, (int)k));
    {
        const struct kiln_vk_limits *la = kiln_vk_policy_limits(a), *lb = kiln_vk_policy_limits(b),
                                    *li = kiln_vk_policy_limits(i);
        assert_int_equal(li->memory_bytes, lim_min(la->memory_bytes, lb->memory_bytes));
        assert_int_equal(li->open_fds, lim_min(la->open_fds, lb->open_fds));
        assert_int_equal(li->output_bytes, lim_min(la->output_bytes, lb->output_bytes));
        assert_int_equal(li->wall_ms, lim_min(la->wall_ms, lb->wall_ms));
        assert_int_equal(li->cpu_ms, lim_min(la->cpu_ms, lb->cpu_ms));
    }
    r = kiln__policy_audit_level(a) < kiln__policy_audit_level(b) ? kiln__policy_audit_level(a)
                                                                  : kiln__policy_audit_level(b);
    assert_int_equal(kiln__policy_audit_level(i), r);
    assert_int_equal(kiln_vk_policy_require_aot(i),
                     kiln_vk_policy_require_aot(a) || kiln_vk_policy_require_aot(b));
}

static struct kiln_vk_policy *isect(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b)
{
    struct kiln_vk_policy *o = (struct kiln_vk_policy *)1;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(kiln_vk_policy_intersect(a, b, &o, &err), 0);
    return o;
}

static struct kiln_vk_policy *roundtrip(const struct kiln_vk_policy *p)
{
    char *txt = NULL;
    size_t len = 0;
    struct kiln_error err;
    struct kiln_vk_policy *q;
    memset(&err, 0, sizeof err);
    assert_int_equal(kiln_vk_policy_to_json(p, &txt, &len, &err), 0);
    assert_int_equal(len, strlen(txt));
    q = parse(txt);
    free(txt);
    return q;
}

/* ---- tests ---- */

static void test_random_properties(void **state)
{
    int n;
    (void)state;
    g_rng = 0x9e3779b97f4a7c15ull;
    for (n = 0; n < 300; n++) {
        struct kiln_vk_policy *a = random_policy(), *b = random_policy();
        struct kiln_vk_policy *ab = isect(a, b), *ba = isect(b, a), *aa = isect(a, a);
        struct kiln_vk_policy *rt = roundtrip(ab), *art = roundtrip(a);
        check_intersection(a, b, ab);
        check_intersection(b, a, ba);
        same_decisions(aa, a);  /* intersect(a, a) == a */
        same_decisions(rt, ab); /* the document says what the policy does */
        same_decisions(art, a);
        kiln_vk_policy_free(a);
        kiln_vk_policy_free(b);
        kiln_vk_policy_free(ab);
        kiln_vk_policy_free(ba);
        kiln_vk_policy_free(aa);
        kiln_vk_policy_free(rt);
        kiln_vk_policy_free(art);
    }
}

/* Intersections of intersections (a spawned unit spawning another). */
static void test_nested(void **state)
{
    int n;
    (void)state;
    g_rng = 0x2545f4914f6cdd1dull;
    for (n = 0; n < 60; n++) {
        struct kiln_vk_policy *a = random_policy(), *b = random_policy(), *c = random_policy();
        struct kiln_vk_policy *ab = isect(a, b), *abc = isect(ab, c), *bc = isect(b, c);
        struct kiln_vk_policy *a_bc = isect(a, bc);
        check_intersection(ab, c, abc);
        check_intersection(a, bc, a_bc);
        kiln_vk_policy_free(a);
        kiln_vk_policy_free(b);
        kiln_vk_policy_free(c);
        kiln_vk_policy_free(ab);
        kiln_vk_policy_free(abc);
        kiln_vk_policy_free(bc);
        kiln_vk_policy_free(a_bc);
    }
}

/* The example of the task: the container allows / ro and /data rw, the unit
 * only reading /etc: the unit gets /etc ro and nothing else; a unit asking
 * for / rw still gets only what the container grants. */
static void test_example(void **state)
{
    struct kiln_vk_policy *ct = parse(
        "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
        "\"filesystem\":[{\"path\":\"/\",\"mode\":\"ro\"},{\"path\":\"/data\",\"mode\":\"rw\"}],"
        "\"network\":[{\"direction\":\"connect\",\"address\":\"*\",\"ports\":[1,65535]}],"
        "\"exec\":[\"/bin/tool\",\"/bin/other\"],\"limits\":{\"openFiles\":100}}");
    struct kiln_vk_policy *narrow =
        parse("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
              "[\"openat\",\"read\",\"close\",\"exit_group\",\"writev\"],\"action\":\"SCMP_ACT_"
              "ALLOW\"}]},"
              "\"filesystem\":[{\"path\":\"/etc\",\"mode\":\"ro\"}],\"audit\":\"denials\","
              "\"limits\":{\"openFiles\":500,\"wallTimeMs\":1000}}");
    struct kiln_vk_policy *wide =
        parse("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
              "\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"}],"
              "\"network\":[{\"direction\":\"connect\",\"address\":\"10.0.0.1\",\"port\":443},"
              "{\"direction\":\"listen\",\"port\":80}],"
              "\"exec\":[\"/bin/tool\",\"/bin/third\"],\"engine\":{\"requireAot\":true}}");
    struct kiln_vk_policy *i1, *i2;
    const char *rule;
    int r, e;
    (void)state;
    kiln__policy_set_label(ct, "container");
    kiln__policy_set_label(narrow, "unit");
    kiln__policy_set_label(wide, "unit");
    i1 = isect(ct, narrow);
    assert_int_equal(kiln__policy_fs(i1, "/etc/hosts", &r), KILN__FS_RO);
    assert_int_equal(kiln__policy_fs(i1, "/data/x", &r), KILN__FS_NONE);
    assert_string_equal(kiln__policy_fs_rule_name(i1, r), "unit:default:none");
    assert_int_equal(kiln__policy_fs(i1, "/", &r), KILN__FS_NONE);
    assert_int_equal(kiln__policy_sys(i1, KILN_VK_SYS_mkdirat, NULL, &e, &rule), KILN__ACT_ERRNO);
    assert_string_equal(rule, "unit:$.seccomp.defaultAction");
    assert_int_equal(kiln__policy_sys(i1, KILN_VK_SYS_readv, NULL, &e, &rule), KILN__ACT_ALLOW);
    assert_int_equal(kiln__policy_net(i1, "connect", "tcp", "10.0.0.1", 443, &rule), -EACCES);
    assert_int_equal(kiln__policy_exec_count(i1), 0); /* the unit may spawn nothing */
    assert_int_equal(kiln_vk_policy_limits(i1)->open_fds, 100);
    assert_int_equal(kiln_vk_policy_limits(i1)->wall_ms, 1000);
    assert_int_equal(kiln__policy_audit_level(i1), KILN__AUDIT_ALL); /* the container's */

    i2 = isect(ct, wide);
    assert_int_equal(kiln__policy_fs(i2, "/etc/hosts", &r), KILN__FS_RO);
    assert_string_equal(kiln__policy_fs_rule_name(i2, r), "container:$.filesystem[0]");
    assert_int_equal(kiln__policy_fs(i2, "/data/x", &r), KILN__FS_RW);
    assert_int_equal(kiln__policy_net(i2, "connect", "tcp", "10.0.0.1", 443, &rule), 0);
    assert_string_equal(rule, "container:$.network[0]&unit:$.network[0]");
    assert_int_equal(kiln__policy_net(i2, "connect", "tcp", "10.0.0.2", 443, &rule), -EACCES);
    assert_int_equal(kiln__policy_net(i2, "listen", "tcp", "127.0.0.1", 80, &rule), -EACCES);
    assert_true(kiln__policy_exec_allowed(i2, "/bin/tool", NULL, &r));
    assert_false(kiln__policy_exec_allowed(i2, "/bin/other", NULL, &r));
    assert_false(kiln__policy_exec_allowed(i2, "/bin/third", NULL, &r));
    assert_true(kiln_vk_policy_require_aot(i2));
    kiln_vk_policy_free(i1);
    kiln_vk_policy_free(i2);
    kiln_vk_policy_free(ct);
    kiln_vk_policy_free(narrow);
    kiln_vk_policy_free(wide);
}

/* NULL is the permissive built-in policy. */
static void test_permissive(void **state)
{
    struct kiln_vk_policy *b = parse("{\"filesystem\":[{\"path\":\"/w\",\"mode\":\"rw\"}]}");
    struct kiln_vk_policy *o = (struct kiln_vk_policy *)1;
    struct kiln_error err;
    int r;
    (void)state;
    memset(&err, 0, sizeof err);
    assert_int_equal(kiln_vk_policy_intersect(NULL, NULL, &o, &err), 0);
    assert_null(o);
    kiln__policy_set_label(b, "unit");
    o = isect(NULL, b);
    assert_non_null(o);
    same_decisions(o, b);
    assert_int_equal(kiln__policy_fs(o, "/w/f", &r), KILN__FS_RW);
    assert_string_equal(kiln__policy_fs_rule_name(o, r), "unit:$.filesystem[0]");
    kiln_vk_policy_free(o);
    o = isect(b, NULL);
    same_decisions(o, b);
    kiln_vk_policy_free(o);
    kiln_vk_policy_free(b);
}

/* Argument conditions: both sides' conditions must hold; too many to fit one
 * rule make it a denial (stricter), never an allowance. */
static void test_conditions(void **state)
{
    struct buf x = {.n = 0}, y = {.n = 0};
    struct kiln_vk_policy *a, *b, *i;
    uint64_t args[6] = {0};
    const char *rule;
    int k, e;
    (void)state;
    a = parse("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
              "[\"openat\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,\"value\":3,"
              "\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}");
    b = parse("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
              "[\"openat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":30,\"args\":[{\"index\":2,"
              "\"value\":64,\"valueTwo\":64,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}");
    i = isect(a, b);
    args[2] = 0; /* O_RDONLY */
    assert_int_equal(kiln__policy_sys(i, KILN_VK_SYS_openat, args, &e, &rule), KILN__ACT_ALLOW);
    args[2] = 1; /* O_WRONLY: a says no */
    assert_int_equal(kiln__policy_sys(i, KILN_VK_SYS_openat, args, &e, &rule), KILN__ACT_ERRNO);
    assert_int_equal(e, EPERM);
    args[2] = 64; /* O_CREAT: b says EROFS */
    assert_int_equal(kiln__policy_sys(i, KILN_VK_SYS_openat, args, &e, &rule), KILN__ACT_ERRNO);
    assert_int_equal(e, 30);
    kiln_vk_policy_free(a);
    kiln_vk_policy_free(b);
    kiln_vk_policy_free(i);

    /* 10 + 10 distinct conditions do not fit one rule */
    put(&x, "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
            "[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[");
    put(&y, "%s", x.s);
    for (k = 0; k < 10; k++) {
        put(&x, "%s{\"index\":0,\"value\":%d,\"op\":\"SCMP_CMP_NE\"}", k ? "," : "", 100 + k);
        put(&y, "%s{\"index\":1,\"value\":%d,\"op\":\"SCMP_CMP_NE\"}", k ? "," : "", 100 + k);
    }
    put(&x, "]}]}}");
    put(&y, "]}]}}");
    a = parse(x.s);
    b = parse(y.s);
    i = isect(a, b);
    memset(args, 0, sizeof args);
    assert_int_equal(kiln__policy_sys(a, KILN_VK_SYS_getpid, args, &e, &rule), KILN__ACT_ALLOW);
    assert_int_equal(kiln__policy_sys(b, KILN_VK_SYS_getpid, args, &e, &rule), KILN__ACT_ALLOW);
    assert_int_equal(kiln__policy_sys(i, KILN_VK_SYS_getpid, args, &e, &rule), KILN__ACT_ERRNO);
    assert_string_equal(rule, "builtin:intersection-conditions");
    for (k = 0; k < NARGV; k++) { /* still never more than either side */
        uint64_t buf[6];
        const uint64_t *av = argv_of(k, buf);
        struct sysres sa = sys_of(a, KILN_VK_SYS_getpid, av),
                      sb = sys_of(b, KILN_VK_SYS_getpid, av);
        struct sysres si = sys_of(i, KILN_VK_SYS_getpid, av);
        assert_true(rank(si.act) >= rank(sa.act) && rank(si.act) >= rank(sb.act));
    }
    kiln_vk_policy_free(i);
    i = isect(a, a); /* the same conditions twice are one set: fits, exact */
    same_decisions(i, a);
    kiln_vk_policy_free(a);
    kiln_vk_policy_free(b);
    kiln_vk_policy_free(i);
}

/* A bare OCI seccomp profile (no filesystem part) against a kiln policy. */
static void test_bare_profile(void **state)
{
    struct kiln_vk_policy *a = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
                                     "\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
    struct kiln_vk_policy *b = parse("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
                                     "\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"}]}");
    struct kiln_vk_policy *i = isect(a, b), *rt;
    const char *rule;
    int r, e;
    (void)state;
    assert_int_equal(kiln__policy_fs(i, "/x", &r), KILN__FS_NONE);
    assert_int_equal(kiln__policy_sys(i, KILN_VK_SYS_mkdirat, NULL, &e, &rule), KILN__ACT_ERRNO);
    assert_int_equal(kiln__policy_sys(i, KILN_VK_SYS_getpid, NULL, &e, &rule), KILN__ACT_ALLOW);
    rt = roundtrip(i);
    same_decisions(rt, i);
    kiln_vk_policy_free(rt);
    kiln_vk_policy_free(a);
    kiln_vk_policy_free(b);
    kiln_vk_policy_free(i);
}

/* The document is canonical: the same policy gives the same bytes. */
static void test_canonical(void **state)
{
    struct kiln_vk_policy *a = parse("{\"filesystem\":[{\"path\":\"/a\",\"mode\":\"ro\"}],"
                                     "\"exec\":[\"/bin/x\"],\"limits\":{\"openFiles\":3}}");
    struct kiln_vk_policy *b = roundtrip(a), *c = roundtrip(b);
    char *t1 = NULL, *t2 = NULL;
    size_t l1, l2;
    struct kiln_error err;
    (void)state;
    assert_int_equal(kiln_vk_policy_to_json(b, &t1, &l1, &err), 0);
    assert_int_equal(kiln_vk_policy_to_json(c, &t2, &l2, &err), 0);
    assert_string_equal(t1, t2);
    assert_non_null(strstr(t1, "\"exec\":[\"/bin/x\"]"));
    assert_non_null(strstr(t1, "\"openFiles\":3"));
    free(t1);
    free(t2);
    kiln_vk_policy_free(a);
    kiln_vk_policy_free(b);
    kiln_vk_policy_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_properties), cmocka_unit_test(test_nested),
        cmocka_unit_test(test_example),           cmocka_unit_test(test_permissive),
        cmocka_unit_test(test_conditions),        cmocka_unit_test(test_bare_profile),
        cmocka_unit_test(test_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
