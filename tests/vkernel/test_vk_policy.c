/*
 * test_vk_policy.c — policy parsing (errors name the JSON path), the OCI
 * seccomp part (actions, errnoRet, aliases, argument conditions, a real
 * containers/Docker profile), filesystem rules (including a symlink leading
 * into a stricter rule), network rules and limits; every denial audited with
 * its rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/uio.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "vk_fixture.h"
#include "vkernel/vk.h" /* kiln__policy_fs_granted_beneath */

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    if (fx_setup(x) < 0) return -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx_teardown(*state);
    free(*state);
    return 0;
}

static void expect_error(const char *json, const char *msg)
{
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    assert_true(kiln_vk_policy_parse(json, strlen(json), "policy.json", &p, &err) < 0);
    assert_null(p);
    if (strstr(err.msg, msg) == NULL) fail_msg("expected '%s' in '%s'", msg, err.msg);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error(
        "{\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"},{\"path\":\"/a\",\"mode\":\"ro\"},"
        "{\"path\":\"/b\",\"mode\":\"write\"}]}",
        "policy.json: $.filesystem[2].mode: expected one of ro, rw, none");
    expect_error("{\"filesystem\":[{\"path\":\"/a/../b\",\"mode\":\"rw\"}]}",
                 "policy.json: $.filesystem[0].path: expected an absolute normalized path");
    expect_error("{\"filesystem\":[{\"mode\":\"rw\"}]}",
                 "$.filesystem[0].path: required member missing");
    expect_error("{\"filesytem\":[]}", "policy.json: $.filesytem: unknown member");
    expect_error("{\"seccomp\":{\"syscalls\":[]}}", "$.seccomp.defaultAction: required member");
    expect_error("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_MAYBE\"}}",
                 "$.seccomp.defaultAction: expected one of SCMP_ACT_ALLOW");
    expect_error("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                 "[\"read\",3],\"action\":\"SCMP_ACT_ALLOW\"}]}}",
                 "$.seccomp.syscalls[0].names[1]: expected a string");
    expect_error("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                 "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":9,\"value\":1,"
                 "\"op\":\"SCMP_CMP_EQ\"}]}]}}",
                 "$.seccomp.syscalls[0].args[0].index: expected an integer from 0 to 5");
    expect_error("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                 "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,\"value\":1,"
                 "\"op\":\"SCMP_CMP_ABOUT\"}]}]}}",
                 "$.seccomp.syscalls[0].args[0].op: expected one of SCMP_CMP_NE");
    expect_error("{\"network\":[{\"direction\":\"listen\",\"port\":70000}]}",
                 "$.network[0].port: expected an integer from 0 to 65535");
    expect_error("{\"network\":[{\"direction\":\"sideways\"}]}",
                 "$.network[0].direction: expected one of listen, connect");
    expect_error("{\"limits\":{\"openFiles\":-1}}", "$.limits.openFiles: expected an integer");
    expect_error("{\"kilnPolicy\":2}", "$.kilnPolicy: expected 1");
    expect_error("{\"audit\":\"some\"}",
                 "policy.json: $.audit: expected one of all, denials, none");
    expect_error("{\"exec\":[\"/bin/sh\",\"sh\"]}", "policy.json: $.exec[1]: expected an absolute");
    expect_error("{\"exec\":{}}", "policy.json: $.exec: expected an array");
    expect_error("{\"a\":", "policy.json:1:");
    expect_error("[]", "policy.json: $: expected an object");
    expect_error("{\"filesystem\":[],\"filesystem\":[]}", "policy.json:1:");
}

static struct kiln_vk_policy *load(const char *json)
{
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    if (kiln_vk_policy_parse(json, strlen(json), "t.json", &p, &err) < 0) fail_msg("%s", err.msg);
    return p;
}

static void test_default_deny(void **state)
{
    struct fx *x = *state;
    struct stat st;
    struct timespec ts;
    kiln_vk_set_policy(x->vk, load("{}"));
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0), -EPERM);
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_REALTIME, &ts), -EPERM);
    assert_int_equal(
        fx_audit_count(x, "\"call\":\"openat\",\"errno\":\"EPERM\",\"rule\":\"default:deny\""), 1);
    /* syscalls allowed but no filesystem rule: every path is "none" */
    kiln_vk_set_policy(x->vk, load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}"));
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0), -EACCES);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("hello.txt"), &st, 0), -EACCES);
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_REALTIME, &ts), 0);
    assert_int_equal(
        fx_audit_count(x, "\"path\":\"/hello.txt\",\"errno\":\"EACCES\",\"rule\":\"default:none\""),
        2);
}

static void test_seccomp_actions(void **state)
{
    struct fx *x = *state;
    struct timespec ts;
    char buf[4];
    kiln_vk_set_policy(
        x->vk, load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                    "\"syscalls\":["
                    "{\"names\":[\"open\",\"close\",\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                    "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13},"
                    "{\"names\":[\"clock_gettime\"],\"action\":\"SCMP_ACT_LOG\"},"
                    "{\"names\":[\"getrandom\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
                    "{\"names\":[\"unlink\"],\"action\":\"SCMP_ACT_TRACE\"}]},"
                    "\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"}]}"));
    {
        int fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
        struct iovec v = {buf, 4};
        assert_true(fd >= 0);                                 /* "open" is an alias of openat */
        assert_int_equal(kiln_vk_readv(x->vk, fd, &v, 1), 4); /* "read" -> readv */
        assert_int_equal(kiln_vk_close(x->vk, fd), 0);
    }
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("d"), 0755), -EACCES);
    assert_int_equal(kiln_vk_renameat(x->vk, x->rootfd, S("a"), x->rootfd, S("b")), -ENOSYS);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("hello.txt"), 0), -ENOSYS);
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_REALTIME, &ts), 0);
    assert_int_equal(kiln_vk_getrandom(x->vk, buf, 4), -KILN_VK_EKILL);
    assert_int_equal(
        fx_audit_count(
            x, "\"call\":\"mkdirat\",\"errno\":\"EACCES\",\"rule\":\"$.seccomp.syscalls[1]\""),
        1);
    assert_int_equal(
        fx_audit_count(
            x, "\"call\":\"renameat2\",\"errno\":\"ENOSYS\",\"rule\":\"$.seccomp.defaultAction\""),
        1);
    assert_int_equal(fx_audit_count(x, "\"event\":\"log\",\"call\":\"clock_gettime\""), 1);
    assert_int_equal(
        fx_audit_count(
            x, "\"event\":\"kill\",\"call\":\"getrandom\",\"rule\":\"$.seccomp.syscalls[3]\""),
        1);
}

static void test_seccomp_args(void **state)
{
    struct fx *x = *state;
    /* openat allowed only read-only: arg 2 (flags) & O_ACCMODE == O_RDONLY */
    kiln_vk_set_policy(
        x->vk, load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                    "{\"names\":[\"openat\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,"
                    "\"value\":3,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
                    "{\"names\":[\"openat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]},"
                    "\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"}]}"));
    {
        int fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
        assert_true(fd >= 0);
        kiln_vk_close(x->vk, fd);
    }
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDWR, 0), -EPERM);
    assert_int_equal(fx_audit_count(x, "\"rule\":\"$.seccomp.syscalls[1]\""), 1);
}

static void test_containers_profile(void **state)
{
    struct fx *x = *state;
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err;
    struct timespec ts;
    const char *path = "/usr/share/containers/seccomp.json";
    if (access(path, R_OK) != 0) skip();
    assert_int_equal(kiln_vk_policy_load(path, &p, &err), 0);
    kiln_vk_set_policy(x->vk, p);
    /* the profile allows ordinary calls; no filesystem rules: paths are denied */
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_MONOTONIC, &ts), 0);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0), -EACCES);
}

static void test_fs_rules(void **state)
{
    struct fx *x = *state;
    char p[600];
    struct stat st;
    int fd;
    snprintf(p, sizeof p, "%s/data", x->root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/data/private", x->root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/data/private/key", x->root);
    fx_write(p, "KEY\n");
    snprintf(p, sizeof p, "%s/data/link", x->root);
    assert_int_equal(symlink("private/key", p), 0);
    snprintf(p, sizeof p, "%s/data/dirlink", x->root);
    assert_int_equal(symlink("private", p), 0);
    kiln_vk_set_policy(x->vk,
                       load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},\"filesystem\":["
                            "{\"path\":\"/\",\"mode\":\"ro\"},"
                            "{\"path\":\"/data\",\"mode\":\"rw\"},"
                            "{\"path\":\"/data/private\",\"mode\":\"none\"}]}"));
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_true(fd >= 0);
    kiln_vk_close(x->vk, fd);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDWR, 0), -EROFS);
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("newdir"), 0755), -EROFS);
    assert_int_equal(fx_audit_count(x, "\"rule\":\"$.filesystem[0]\""), 2);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("data/new"), O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    kiln_vk_close(x->vk, fd);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("data/private/key"), O_RDONLY, 0), -EACCES);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("data/private/key"), &st, 0), -EACCES);
    /* through symlinks: the real location decides */
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("data/link"), O_RDONLY, 0), -EACCES);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("data/link"), &st, 0), -EACCES);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("data/dirlink/key"), O_RDONLY, 0), -EACCES);
    assert_int_equal(
        kiln_vk_linkat(x->vk, x->rootfd, S("data/link"), x->rootfd, S("data/h"), AT_SYMLINK_FOLLOW),
        -EACCES);
    assert_int_equal(
        kiln_vk_renameat(x->vk, x->rootfd, S("data/private/key"), x->rootfd, S("data/stolen")),
        -EACCES);
    assert_true(fx_audit_count(x, "\"rule\":\"$.filesystem[2]\"") >= 7);
    /* a directory fd opened inside the rw area keeps the rules */
    fd = kiln_vk_openat(x->vk, x->rootfd, S("data"), O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    assert_int_equal(kiln_vk_openat(x->vk, fd, S("private/key"), O_RDONLY, 0), -EACCES);
    assert_int_equal(kiln_vk_mkdirat(x->vk, fd, S("sub2"), 0755), 0);
    kiln_vk_close(x->vk, fd);
}

/* kiln__policy_fs_granted_beneath collects into a "|"-joined string */
struct beneath_acc {
    char s[512];
    int calls, stop_at;
};

static int beneath_cb(const char *path, void *ctx)
{
    struct beneath_acc *a = ctx;
    if (++a->calls == a->stop_at) return -7;
    snprintf(a->s + strlen(a->s), sizeof a->s - strlen(a->s), "%s%s", a->s[0] ? "|" : "", path);
    return 0;
}

static const char *beneath(const struct kiln_vk_policy *p, const char *d, int stop_at)
{
    static struct beneath_acc a;
    memset(&a, 0, sizeof a);
    a.stop_at = stop_at;
    assert_int_equal(kiln__policy_fs_granted_beneath(p, d, beneath_cb, &a), 0);
    return a.s;
}

/* the highest granted directories beneath a denied one (kilnd's and the embedded stub's
 * preopens for "beneath"): rule order, a granted ancestor covers, "none" rules are none */
static void test_fs_granted_beneath(void **state)
{
    struct kiln_vk_policy *p, *q, *i = NULL;
    struct kiln_error err;
    struct beneath_acc a;
    (void)state;
    p = load("{\"kilnPolicy\":1,\"filesystem\":["
             "{\"path\":\"/srv/a\",\"mode\":\"ro\"},{\"path\":\"/srv/a/deep\",\"mode\":\"rw\"},"
             "{\"path\":\"/srv/b/c\",\"mode\":\"ro\"},{\"path\":\"/srv/b\",\"mode\":\"none\"},"
             "{\"path\":\"/etc\",\"mode\":\"ro\"},{\"path\":\"/x\",\"mode\":\"none\"},"
             "{\"path\":\"/x/y\",\"mode\":\"ro\"},{\"path\":\"/srvx\",\"mode\":\"none\"}]}");
    assert_string_equal(beneath(p, "/", 0), "/srv/a|/srv/b/c|/etc|/x/y");
    assert_string_equal(beneath(p, "/srv", 0), "/srv/a|/srv/b/c");
    assert_string_equal(beneath(p, "/srv/b", 0), "/srv/b/c");
    assert_string_equal(beneath(p, "/srv/a", 0), "/srv/a/deep"); /* strictly beneath d */
    assert_string_equal(beneath(p, "/etc", 0), "");
    assert_string_equal(beneath(p, "/sr", 0), ""); /* component-wise */
    /* fn's error stops the walk */
    memset(&a, 0, sizeof a);
    a.stop_at = 2;
    assert_int_equal(kiln__policy_fs_granted_beneath(p, "/", beneath_cb, &a), -7);
    assert_int_equal(a.calls, 2);
    assert_string_equal(a.s, "/srv/a");
    /* an intersection naming a path on both sides: once */
    q = load("{\"kilnPolicy\":1,\"filesystem\":[{\"path\":\"/etc\",\"mode\":\"ro\"},"
             "{\"path\":\"/x/y\",\"mode\":\"rw\"}]}");
    memset(&err, 0, sizeof err);
    assert_int_equal(kiln_vk_policy_intersect(p, q, &i, &err), 0);
    assert_string_equal(beneath(i, "/", 0), "/etc|/x/y");
    kiln_vk_policy_free(i);
    kiln_vk_policy_free(q);
    kiln_vk_policy_free(p);
}

static void test_network_rules(void **state)
{
    struct fx *x = *state;
    struct kiln_error err;
    kiln_vk_set_policy(x->vk,
                       load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},\"network\":["
                            "{\"direction\":\"listen\",\"proto\":\"tcp\",\"address\":"
                            "\"127.0.0.1\",\"ports\":[0,0]}]}"));
    assert_true(kiln_vk_listen(x->vk, "tcp:127.0.0.1:0", &err) >= 0);
    assert_int_equal(kiln_vk_listen(x->vk, "tcp:0.0.0.0:0", &err), -KILN_E_DENIED);
    assert_non_null(strstr(err.msg, "denied by policy"));
    assert_int_equal(kiln_vk_listen(x->vk, "udp:1", &err), -KILN_E_ARG);
    assert_int_equal(
        fx_audit_count(x, "\"event\":\"bind\",\"proto\":\"tcp\",\"address\":\"127.0.0.1\""), 1);
    assert_int_equal(fx_audit_count(x, "\"call\":\"bind\",\"path\":\"tcp:0.0.0.0:0\",\"errno\":"
                                       "\"EACCES\",\"rule\":\"default:none\""),
                     1);
}

static void test_socket_connect_bind(void **state)
{
    struct fx *x = *state;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int ls, c, c2, a;
    kiln_vk_set_policy(x->vk,
                       load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},\"network\":["
                            "{\"direction\":\"listen\",\"address\":\"127.0.0.1\"},"
                            "{\"direction\":\"connect\",\"proto\":\"tcp\",\"address\":"
                            "\"127.0.0.1\",\"ports\":[1024,65535]}]}"));
    ls = kiln_vk_socket(x->vk, AF_INET, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(kiln_vk_bind(x->vk, ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(kiln_vk_listen_fd(x->vk, ls, 4), 0);
    getsockname(kiln_vk_fd_get(x->vk, ls)->host, (struct sockaddr *)&sa, &sl);
    c = kiln_vk_socket(x->vk, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(kiln_vk_connect(x->vk, c, (struct sockaddr *)&sa, sizeof sa), 0);
    a = kiln_vk_accept(x->vk, ls, 0);
    assert_true(a >= 0);
    /* a port outside the rule, another address, a bad address length */
    c2 = kiln_vk_socket(x->vk, AF_INET, SOCK_STREAM, 0);
    sa.sin_port = htons(80);
    assert_int_equal(kiln_vk_connect(x->vk, c2, (struct sockaddr *)&sa, sizeof sa), -EACCES);
    sa.sin_port = htons(5000);
    sa.sin_addr.s_addr = htonl(0x0a000001);
    assert_int_equal(kiln_vk_connect(x->vk, c2, (struct sockaddr *)&sa, sizeof sa), -EACCES);
    assert_int_equal(kiln_vk_connect(x->vk, c2, (struct sockaddr *)&sa, 3), -EINVAL);
    sa.sin_addr.s_addr = htonl(0x0a000001);
    assert_int_equal(kiln_vk_bind(x->vk, c2, (struct sockaddr *)&sa, sizeof sa), -EACCES);
    assert_int_equal(kiln_vk_socket(x->vk, AF_UNIX, SOCK_STREAM, 0), -EAFNOSUPPORT);
    assert_int_equal(kiln_vk_socket(x->vk, AF_INET, SOCK_RAW, 0), -EINVAL);
    assert_int_equal(kiln_vk_connect(x->vk, x->rootfd, (struct sockaddr *)&sa, sizeof sa),
                     -ENOTSOCK);
    assert_int_equal(fx_audit_count(x, "\"event\":\"connect\",\"proto\":\"tcp\""), 1);
    assert_int_equal(fx_audit_count(x, "\"event\":\"bind\",\"proto\":\"tcp\""), 1);
    assert_int_equal(fx_audit_count(x, "\"call\":\"connect\",\"path\":\"tcp:127.0.0.1:80\","
                                       "\"errno\":\"EACCES\",\"rule\":\"default:none\""),
                     1);
    assert_int_equal(fx_audit_count(x, "\"call\":\"bind\",\"path\":\"tcp:10.0.0.1:5000\""), 1);
}

static void test_output_limit(void **state)
{
    struct fx *x = *state;
    int p[2], g;
    char buf[64] = {0};
    struct iovec v = {(void *)"0123456789", 10};
    kiln_vk_set_policy(x->vk, load("{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
                                   "\"limits\":{\"outputBytes\":15}}"));
    assert_int_equal(pipe(p), 0);
    g = kiln_vk_install_fd(x->vk, 10, p[1], KILN_VK_FD_STDOUT);
    assert_int_equal(g, 10);
    assert_int_equal(kiln_vk_writev(x->vk, g, &v, 1), 10);
    assert_int_equal(kiln_vk_writev(x->vk, g, &v, 1), 5);
    assert_int_equal(kiln_vk_writev(x->vk, g, &v, 1), -EFBIG);
    assert_int_equal(read(p[0], buf, sizeof buf), 15);
    assert_string_equal(buf, "012345678901234");
    assert_int_equal(fx_audit_count(x, "\"rule\":\"$.limits.outputBytes\""), 1);
    close(p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_malformed),          T(test_default_deny),        T(test_seccomp_actions),
        T(test_seccomp_args),       T(test_containers_profile),  T(test_fs_rules),
        T(test_network_rules),      T(test_socket_connect_bind), T(test_output_limit),
        T(test_fs_granted_beneath),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
