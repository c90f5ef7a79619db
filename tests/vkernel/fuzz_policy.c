/*
 * fuzz_policy.c — libFuzzer target for the policy parser, the intersection and
 * the policy writer (src/vkernel/policy.c).
 *
 * The input is one or two policy documents: split at the first NUL byte into
 * a and b; without a NUL, a is the whole input and b each of a few fixed
 * partner policies in turn (argument conditions, every filesystem mode,
 * network, exec, limits, audit, requireAot), so every document the fuzzer
 * finds is intersected with rich rules. Invariants checked:
 *   - kiln_vk_policy_parse either refuses with a NUL-terminated message or
 *     produces a policy whose evaluation functions are safe to call;
 *   - parse(to_json(a)) decides every probe exactly as a does;
 *   - i = intersect(a, b) never allows what a or b denies (syscalls: never a
 *     weaker action; exec: never an entry either side refuses), decides the
 *     syscall probes exactly as the stricter side (a's errno on a tie) unless
 *     the deciding rule is "builtin:intersection-conditions" (joined argument
 *     conditions that did not fit a rule), the filesystem, noXdev and network
 *     probes exactly as the stricter side,
 *     limits are the smaller, audit the stronger, requireAot either;
 *   - intersect(a, a) decides as a, intersect(NULL, a) decides as a;
 *   - parse(to_json(i)) decides every probe exactly as i does.
 * Probes: every syscall id with a few argument vectors, fixed paths plus the
 * rules' own paths (and a child of each), a small grid of socket addresses
 * and ports, a few exec candidates. A broken invariant is __builtin_trap().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/vkernel.h"
#include "vkernel/vk.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_policy: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

static const char *const g_paths[] = {"/",      "/a",   "/a/b",   "/a/b/c", "/etc",
                                      "/etc/x", "/tmp", "/tmp/y", "/proc",  "/data/z"};
#define NPATHS (sizeof g_paths / sizeof *g_paths)
static const char *const g_addrs[] = {"127.0.0.1", "::1", "10.0.0.1", "0.0.0.0", "::"};
#define NADDRS (sizeof g_addrs / sizeof *g_addrs)
static const int g_ports[] = {0, 1, 22, 80, 443, 8080, 65535};
#define NPORTS (sizeof g_ports / sizeof *g_ports)
static const char *const g_exec_paths[] = {"/bin/a", "/bin/sh", "/usr/bin/env", "/a"};
static const char *const g_exec_digests[] = {
    "aa", "0000000000000000000000000000000000000000000000000000000000000000",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
static const uint64_t g_args[][6] = {
    {0, 0, 0, 0, 0, 0},
    {1, 2, 3, 4, 5, 6},
    {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull},
    {2, 1, 0, 0x80000000ull, 0x10, 0x100},
};
#define NARGS (sizeof g_args / sizeof *g_args)

/* Partners for single-document inputs. */
static const char *const g_partners[] = {
    "{\"kilnPolicy\":1,\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
    "\"syscalls\":[{\"names\":[\"read\",\"write\",\"readv\",\"writev\",\"openat\"],"
    "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\","
    "\"errnoRet\":13},{\"names\":[\"openat\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{"
    "\"index\":2,\"value\":3,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},{\"names\":["
    "\"getrandom\"],\"action\":\"SCMP_ACT_KILL\"},{\"names\":[\"clock_gettime\"],\"action\":"
    "\"SCMP_ACT_LOG\"},{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":"
    "1,\"value\":2,\"op\":\"SCMP_CMP_LT\"},{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_NE\"}]}]},"
    "\"filesystem\":[{\"path\":\"/\",\"mode\":\"ro\"},{\"path\":\"/a\",\"mode\":\"rw\","
    "\"noXdev\":true},{\"path\":\"/a/b\",\"mode\":\"none\"},{\"path\":\"/tmp\",\"mode\":\"rw\"}],"
    "\"network\":[{\"direction\":\"listen\",\"proto\":\"tcp\",\"address\":\"127.0.0.1\","
    "\"port\":8080},{\"direction\":\"connect\",\"ports\":[1,1024]},{\"direction\":\"connect\","
    "\"proto\":\"udp\",\"address\":\"::1\"}],\"exec\":[\"/bin/a\",\"sha256:"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"],\"limits\":{"
    "\"memoryBytes\":1048576,\"openFiles\":8,\"outputBytes\":100,\"wallTimeMs\":10,"
    "\"cpuTimeMs\":10},\"audit\":\"all\",\"engine\":{\"requireAot\":true}}",
    "{\"kilnPolicy\":1,\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":["
    "\"openat\",\"unlinkat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":30,\"args\":[{"
    "\"index\":0,\"value\":1,\"valueTwo\":0,\"op\":\"SCMP_CMP_GE\"},{\"index\":2,\"value\":"
    "64,\"valueTwo\":64,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},{\"names\":[\"execve\"],\"action\":"
    "\"SCMP_ACT_TRACE\"}]},\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"},{\"path\":\"/etc\","
    "\"mode\":\"ro\"}],\"network\":[{\"direction\":\"listen\",\"proto\":\"udp\",\"address\":"
    "\"*\"}],\"limits\":{\"openFiles\":64,\"wallTimeMs\":1000},\"audit\":\"none\"}",
    "{\"kilnPolicy\":1}",
};
#define NPARTNERS (sizeof g_partners / sizeof *g_partners)

static int rank(int act)
{
    return act == KILN__ACT_ALLOW ? 0 : act == KILN__ACT_LOG ? 1 : act == KILN__ACT_KILL ? 3 : 2;
}

struct sysres {
    int act, err;
    const char *rule;
};
static struct sysres sys_of(const struct kiln_vk_policy *p, int id, const uint64_t *args)
{
    struct sysres r;
    const char *rule = NULL;
    r.err = 0;
    r.act = kiln__policy_sys(p, id, args, &r.err, &rule);
    CHECK(rule != NULL);
    r.rule = rule;
    if (rank(r.act) < 2) r.err = 0; /* an allowed call has no errno */
    return r;
}

static bool net_ok(const struct kiln_vk_policy *p, int d, int proto, size_t a, size_t port)
{
    const char *rule;
    return kiln__policy_net(p, d ? "listen" : "connect", proto ? "udp" : "tcp", g_addrs[a],
                            g_ports[port], &rule) == 0;
}

/* Exec probe k: a path alone, or an unlisted path with a digest. */
#define NEXEC                                                                                      \
    (sizeof g_exec_paths / sizeof *g_exec_paths + sizeof g_exec_digests / sizeof *g_exec_digests)
static bool exec_ok(const struct kiln_vk_policy *p, size_t k)
{
    int rule;
    size_t np = sizeof g_exec_paths / sizeof *g_exec_paths;
    if (k < np) return kiln__policy_exec_allowed(p, g_exec_paths[k], NULL, &rule);
    return kiln__policy_exec_allowed(p, "/elsewhere/x", g_exec_digests[k - np], &rule);
}

/* The path probes: fixed ones, every rule path of a and b, and a child of each. */
struct probes {
    char **v;
    size_t n, cap;
};
static void probe_add(struct probes *pr, const char *s, const char *suffix)
{
    size_t l = strlen(s), m = strlen(suffix);
    char *c;
    if (pr->n == pr->cap) {
        size_t cap = pr->cap ? pr->cap * 2 : 32;
        char **v = realloc(pr->v, cap * sizeof *v);
        if (v == NULL) return;
        pr->v = v;
        pr->cap = cap;
    }
    c = malloc(l + m + 1);
    if (c == NULL) return;
    memcpy(c, s, l);
    memcpy(c + l, suffix, m + 1);
    pr->v[pr->n++] = c;
}
static void probes_of(struct probes *pr, const struct kiln_vk_policy *p)
{
    const char *s;
    int i;
    for (i = 0; i < 64 && (s = kiln__policy_fs_rule_path(p, i)) != NULL; i++) {
        probe_add(pr, s, "");
        probe_add(pr, s, strcmp(s, "/") == 0 ? "q" : "/q");
    }
}
static void probes_free(struct probes *pr)
{
    size_t i;
    for (i = 0; i < pr->n; i++)
        free(pr->v[i]);
    free(pr->v);
}

/* x decides exactly as y on every probe. */
static void same_decisions(const struct kiln_vk_policy *x, const struct kiln_vk_policy *y,
                           const struct probes *pr)
{
    size_t i, k, a, port;
    int r1, r2, d, proto;
    for (i = 0; i < pr->n; i++) {
        CHECK(kiln__policy_fs(x, pr->v[i], &r1) == kiln__policy_fs(y, pr->v[i], &r2));
        CHECK(kiln__policy_fs_noxdev(x, pr->v[i]) == kiln__policy_fs_noxdev(y, pr->v[i]));
    }
    for (i = 0; i < KILN_VK_SYS__COUNT; i++)
        for (k = 0; k <= NARGS; k++) {
            const uint64_t *av = k < NARGS ? g_args[k] : NULL;
            struct sysres sx = sys_of(x, (int)i, av), sy = sys_of(y, (int)i, av);
            CHECK(sx.act == sy.act);
            CHECK(sx.err == sy.err);
        }
    for (d = 0; d < 2; d++)
        for (proto = 0; proto < 2; proto++)
            for (a = 0; a < NADDRS; a++)
                for (port = 0; port < NPORTS; port++)
                    CHECK(net_ok(x, d, proto, a, port) == net_ok(y, d, proto, a, port));
    for (k = 0; k < NEXEC; k++)
        CHECK(exec_ok(x, k) == exec_ok(y, k));
    CHECK(memcmp(kiln_vk_policy_limits(x), kiln_vk_policy_limits(y),
                 sizeof(struct kiln_vk_limits)) == 0);
    CHECK(kiln__policy_audit_level(x) == kiln__policy_audit_level(y));
    CHECK(kiln_vk_policy_require_aot(x) == kiln_vk_policy_require_aot(y));
}

static uint64_t lim_min(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* i = intersect(a, b): never more than either side grants; exact where documented. */
static void check_intersection(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b,
                               const struct kiln_vk_policy *i, const struct probes *pr)
{
    size_t k, j, ad, port;
    int r, d, proto, ma, mb, la, lb;
    for (k = 0; k < pr->n; k++) {
        ma = kiln__policy_fs(a, pr->v[k], &r);
        mb = kiln__policy_fs(b, pr->v[k], &r);
        CHECK(kiln__policy_fs(i, pr->v[k], &r) == (ma < mb ? ma : mb));
        CHECK(kiln__policy_fs_noxdev(i, pr->v[k]) ==
              (kiln__policy_fs_noxdev(a, pr->v[k]) || kiln__policy_fs_noxdev(b, pr->v[k])));
    }
    for (k = 0; k < KILN_VK_SYS__COUNT; k++)
        for (j = 0; j <= NARGS; j++) {
            const uint64_t *av = j < NARGS ? g_args[j] : NULL;
            struct sysres sa = sys_of(a, (int)k, av), sb = sys_of(b, (int)k, av);
            struct sysres si = sys_of(i, (int)k, av);
            struct sysres want = rank(sb.act) > rank(sa.act) ? sb : sa;
            /* never wider; exact (the stricter side, a's errno on a tie) unless the deciding
             * rule is one whose joined conditions did not fit (a denial, first match wins) */
            CHECK(rank(si.act) >= rank(sa.act) && rank(si.act) >= rank(sb.act));
            if (strcmp(si.rule, "builtin:intersection-conditions") != 0) {
                CHECK(rank(si.act) == rank(want.act));
                CHECK(si.err == want.err);
            }
        }
    for (d = 0; d < 2; d++)
        for (proto = 0; proto < 2; proto++)
            for (ad = 0; ad < NADDRS; ad++)
                for (port = 0; port < NPORTS; port++)
                    CHECK(net_ok(i, d, proto, ad, port) ==
                          (net_ok(a, d, proto, ad, port) && net_ok(b, d, proto, ad, port)));
    for (k = 0; k < NEXEC; k++)
        if (exec_ok(i, k)) CHECK(exec_ok(a, k) && exec_ok(b, k));
    {
        const struct kiln_vk_limits *xa = kiln_vk_policy_limits(a), *xb = kiln_vk_policy_limits(b),
                                    *xi = kiln_vk_policy_limits(i);
        CHECK(xi->memory_bytes == lim_min(xa->memory_bytes, xb->memory_bytes));
        CHECK(xi->open_fds == lim_min(xa->open_fds, xb->open_fds));
        CHECK(xi->output_bytes == lim_min(xa->output_bytes, xb->output_bytes));
        CHECK(xi->wall_ms == lim_min(xa->wall_ms, xb->wall_ms));
        CHECK(xi->cpu_ms == lim_min(xa->cpu_ms, xb->cpu_ms));
    }
    la = kiln__policy_audit_level(a);
    lb = kiln__policy_audit_level(b);
    CHECK(kiln__policy_audit_level(i) == (la < lb ? la : lb));
    CHECK(kiln_vk_policy_require_aot(i) ==
          (kiln_vk_policy_require_aot(a) || kiln_vk_policy_require_aot(b)));
}

static struct kiln_vk_policy *parse(const char *s, size_t n, const char *name)
{
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    if (kiln_vk_policy_parse(s, n, name, &p, &err) < 0) {
        CHECK(err.msg[0] != 0 && memchr(err.msg, 0, sizeof err.msg) != NULL);
        return NULL;
    }
    CHECK(p != NULL);
    return p;
}

static struct kiln_vk_policy *isect(const struct kiln_vk_policy *a, const struct kiln_vk_policy *b)
{
    struct kiln_vk_policy *o = NULL;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    CHECK(kiln_vk_policy_intersect(a, b, &o, &err) == 0);
    CHECK(o != NULL);
    return o;
}

/* parse(to_json(p)): must succeed (the writer's documents are valid). */
static struct kiln_vk_policy *roundtrip(const struct kiln_vk_policy *p)
{
    char *txt = NULL;
    size_t len = 0;
    struct kiln_error err;
    struct kiln_vk_policy *q = NULL;
    memset(&err, 0, sizeof err);
    CHECK(kiln_vk_policy_to_json(p, &txt, &len, &err) == 0);
    CHECK(txt != NULL && len == strlen(txt));
    if (kiln_vk_policy_parse(txt, len, "roundtrip.json", &q, &err) < 0) {
        fprintf(stderr, "fuzz_policy: to_json wrote a document parse refuses: %s\n%s\n", err.msg,
                txt);
        __builtin_trap();
    }
    free(txt);
    return q;
}

static void exercise(const struct kiln_vk_policy *p)
{
    int s, rule, e;
    const char *rn;
    uint64_t args[6] = {0, 1, 2, 3, 4, 5};
    for (s = 0; s < KILN_VK_SYS__COUNT; s++) {
        kiln__policy_sys(p, s, NULL, &e, &rn);
        kiln__policy_sys(p, s, args, &e, &rn);
    }
    kiln__policy_fs(p, "/", &rule);
    kiln__policy_fs(p, "/a/b/c", &rule);
    kiln__policy_fs_below(p, "/a");
    kiln__policy_net(p, "listen", "tcp", "127.0.0.1", 80, &rn);
    (void)kiln_vk_policy_limits(p);
}

/* Odd-sized inputs label the sides as kilnd and kiln-stub do ("container", "unit"). */
static bool g_label;

/* intersect(a, b) and intersect(b, a) against their operands, and the written
 * intersection read back. */
static void pair(struct kiln_vk_policy *a, struct kiln_vk_policy *b)
{
    struct probes pr = {NULL, 0, 0};
    struct kiln_vk_policy *ab, *ba, *rtab;
    size_t i;
    for (i = 0; i < NPATHS; i++)
        probe_add(&pr, g_paths[i], "");
    probes_of(&pr, a);
    probes_of(&pr, b);
    if (g_label) {
        kiln__policy_set_label(a, "container");
        kiln__policy_set_label(b, "unit");
    }
    ab = isect(a, b);
    ba = isect(b, a);
    kiln__policy_set_label(a, NULL);
    kiln__policy_set_label(b, NULL);
    exercise(ab);
    check_intersection(a, b, ab, &pr);
    check_intersection(b, a, ba, &pr);
    rtab = roundtrip(ab);
    same_decisions(rtab, ab, &pr);
    kiln_vk_policy_free(ab);
    kiln_vk_policy_free(ba);
    kiln_vk_policy_free(rtab);
    probes_free(&pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nul = memchr(s, 0, size);
    g_label = (size & 1) != 0;
    struct kiln_vk_policy *a = NULL, *b = NULL, *aa = NULL, *na = NULL, *rta = NULL;
    struct probes pr = {NULL, 0, 0};
    size_t i;

    if (nul == NULL) {
        a = parse(s, size, "fuzz.json");
        if (a == NULL) return 0;
        b = NULL;
        for (i = 0; i < NPARTNERS; i++) {
            struct kiln_vk_policy *q = parse(g_partners[i], strlen(g_partners[i]), "partner.json");
            CHECK(q != NULL);
            pair(a, q);
            kiln_vk_policy_free(q);
        }
    } else {
        a = parse(s, (size_t)(nul - s), "a.json");
        b = parse(nul + 1, size - (size_t)(nul - s) - 1, "b.json");
        if (a == NULL || b == NULL) goto out;
    }
    exercise(a);

    for (i = 0; i < NPATHS; i++)
        probe_add(&pr, g_paths[i], "");
    probes_of(&pr, a);
    if (b != NULL) probes_of(&pr, b);

    rta = roundtrip(a);
    same_decisions(rta, a, &pr);
    aa = isect(a, a);
    same_decisions(aa, a, &pr);
    na = isect(NULL, a);
    same_decisions(na, a, &pr);
    if (b != NULL) pair(a, b);
out:
    probes_free(&pr);
    kiln_vk_policy_free(a);
    kiln_vk_policy_free(b);
    kiln_vk_policy_free(aa);
    kiln_vk_policy_free(na);
    kiln_vk_policy_free(rta);
    return 0;
}
