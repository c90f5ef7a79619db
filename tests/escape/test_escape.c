/*
 * test_escape.c — attempts to leave the container root through the vkernel
 * core: ".." chains, absolute and relative symlinks (planted by the host and
 * created by the guest), a symlink swapped during lookup by a racing thread,
 * hard links, /proc magic links, very long paths, NUL bytes, guessed fd
 * numbers, renames across the boundary.
 *
 * Every attempt must fail with an errno, leave an audit event, and nothing
 * outside the root may be read or written (checked after each test: the
 * outside tree is byte-for-byte unchanged and its secret never shows up).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "../vkernel/vk_fixture.h"

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    if (fx_setup(x) < 0) return -1;
    *state = x;
    return 0;
}

/* The outside tree must be exactly {secret: "SECRET\n"} afterwards. */
static int teardown(void **state)
{
    struct fx *x = *state;
    char p[512], *c;
    DIR *d = opendir(x->outside);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    snprintf(p, sizeof p, "%s/secret", x->outside);
    c = fx_read_all(p);
    if (n != 1 || strcmp(c, "SECRET\n") != 0) {
        fprintf(stderr, "outside tree changed: %d entries, secret=%s\n", n, c);
        free(c);
        fx_teardown(x);
        free(x);
        return -1;
    }
    free(c);
    fx_teardown(x);
    free(x);
    return 0;
}

/* Opens (dirfd, path) read-only; if it succeeds, the content must not be the
 * secret. Returns the open result (fd closed again). */
static int try_open(struct fx *x, int dirfd, const char *path, size_t len, int flags)
{
    int fd = kiln_vk_openat(x->vk, dirfd, path, len, flags, 0644);
    if (fd >= 0) {
        char buf[64] = {0};
        struct iovec v = {buf, sizeof buf - 1};
        kiln_vk_readv(x->vk, fd, &v, 1);
        assert_null(strstr(buf, "SECRET"));
        kiln_vk_close(x->vk, fd);
    }
    return fd;
}

static void host_symlink(struct fx *x, const char *target, const char *rel)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", x->root, rel);
    assert_int_equal(symlink(target, p), 0);
}

static void test_dotdot_chains(void **state)
{
    struct fx *x = *state;
    static const char *const paths[] = {
        "../outside/secret",
        "sub/../../outside/secret",
        "../../../../../../../../etc/passwd",
        "./../outside/secret",
        "sub/./../.././outside/secret",
        "..",
        "sub/../..",
        "../root/hello.txt",
    };
    size_t i;
    int denials0 = fx_audit_count(x, "\"event\":\"deny\"");
    for (i = 0; i < sizeof paths / sizeof *paths; i++) {
        assert_int_equal(try_open(x, x->rootfd, S(paths[i]), O_RDONLY), -EPERM);
        assert_int_equal(try_open(x, x->rootfd, S(paths[i]), O_RDWR | O_CREAT), -EPERM);
    }
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("../outside/newdir"), 0755), -EPERM);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("../outside/secret"), 0), -EPERM);
    assert_int_equal(fx_audit_count(x, "\"event\":\"deny\"") - denials0,
                     (int)(2 * (sizeof paths / sizeof *paths)) + 2);
    /* from a subdirectory fd, ".." above it is refused even inside the root */
    {
        int sub = kiln_vk_openat(x->vk, x->rootfd, S("sub"), O_RDONLY | O_DIRECTORY, 0);
        assert_int_equal(try_open(x, sub, S("../hello.txt"), O_RDONLY), -EPERM);
        kiln_vk_close(x->vk, sub);
    }
    /* a guest path is not NUL-terminated: the denial names exactly its bytes,
     * never what follows them in guest memory */
    {
        static const char mem[] = "../outside/secretFOLLOWING-BYTES";
        int before = fx_audit_count(x, "\"path\":\"../outside/secret\"");
        assert_int_equal(try_open(x, x->rootfd, mem, 17, O_RDONLY), -EPERM);
        assert_int_equal(fx_audit_count(x, "\"path\":\"../outside/secret\"") - before, 1);
        assert_int_equal(fx_audit_count(x, "FOLLOWING-BYTES"), 0);
    }
    /* absolute paths are chroot-like: ".." at "/" stays at "/" */
    assert_int_equal(try_open(x, KILN_VK_AT_ROOT, S("/../../outside/secret"), O_RDONLY), -ENOENT);
    assert_true(try_open(x, KILN_VK_AT_ROOT, S("/../../hello.txt"), O_RDONLY) >= 0);
}

static void test_absolute_symlinks(void **state)
{
    struct fx *x = *state;
    char target[600], buf[8];
    struct stat st;
    snprintf(target, sizeof target, "%s/secret", x->outside);
    host_symlink(x, target, "abs");
    host_symlink(x, x->outside, "absdir");
    host_symlink(x, "/etc/passwd", "sub/passwd");
    assert_int_equal(try_open(x, x->rootfd, S("abs"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("abs"), O_WRONLY | O_TRUNC), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("absdir/secret"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("sub/passwd"), O_RDONLY), -EPERM);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("abs"), &st, 0), -EPERM);
    assert_int_equal(
        kiln_vk_fstatat(x->vk, x->rootfd, S("absdir/secret"), &st, AT_SYMLINK_NOFOLLOW), -EPERM);
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("absdir/x"), 0755), -EPERM);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("absdir/secret"), 0), -EPERM);
    assert_int_equal(
        kiln_vk_utimensat(x->vk, x->rootfd, S("abs"), (struct timespec[2]){{0, 0}, {0, 0}}, 0),
        -EPERM);
    assert_int_equal(
        kiln_vk_linkat(x->vk, x->rootfd, S("abs"), x->rootfd, S("stolen"), AT_SYMLINK_FOLLOW),
        -EPERM);
    /* without following, the link itself may be inspected (it is inside) */
    assert_int_equal(kiln_vk_readlinkat(x->vk, x->rootfd, S("abs"), buf, sizeof buf), 8);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("abs"), &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(fx_audit_count(x, "\"rule\":\"builtin:beneath\"") >= 9);
}

static void test_relative_symlinks(void **state)
{
    struct fx *x = *state;
    struct stat st;
    host_symlink(x, "../outside/secret", "rel");
    host_symlink(x, "../../outside", "sub/reldir");
    host_symlink(x, "../../../../../../../..", "sub/deep");
    assert_int_equal(try_open(x, x->rootfd, S("rel"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("sub/reldir/secret"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("sub/deep/etc/passwd"), O_RDONLY), -EPERM);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("rel"), &st, 0), -EPERM);
    /* symlinks created by the guest behave the same */
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("../outside/secret"), x->rootfd, S("g1")), 0);
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("/"), x->rootfd, S("g2")), 0);
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("sub/../.."), x->rootfd, S("g3")), 0);
    assert_int_equal(try_open(x, x->rootfd, S("g1"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("g1"), O_WRONLY | O_CREAT | O_TRUNC), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("g2/etc/passwd"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, x->rootfd, S("g3/outside/secret"), O_RDONLY), -EPERM);
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("g3/outside/x"), 0755), -EPERM);
    /* a symlink planted to write outside: O_CREAT through a dangling link */
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("../outside/planted"), x->rootfd, S("g4")), 0);
    assert_int_equal(try_open(x, x->rootfd, S("g4"), O_WRONLY | O_CREAT), -EPERM);
}

struct race {
    char a[600], b[600];
    atomic_int stop;
};

static void *swapper(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->stop))
        syscall(SYS_renameat2, AT_FDCWD, r->a, AT_FDCWD, r->b, RENAME_EXCHANGE);
    return NULL;
}

static void test_symlink_swap_race(void **state)
{
    struct fx *x = *state;
    struct race r;
    pthread_t t;
    char p[600];
    int i, opened = 0, refused = 0;
    /* sub/swap is alternately a real directory (with an innocent "secret")
     * and a symlink to the outside directory. */
    snprintf(p, sizeof p, "%s/sub/swap", x->root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/swap/secret", x->root);
    fx_write(p, "inside\n");
    snprintf(r.a, sizeof r.a, "%s/sub/swap", x->root);
    snprintf(r.b, sizeof r.b, "%s/sub/swapl", x->root);
    assert_int_equal(symlink(x->outside, r.b), 0);
    atomic_store(&r.stop, 0);
    assert_int_equal(pthread_create(&t, NULL, swapper, &r), 0);
    for (i = 0; i < 3000; i++) {
        int fd = try_open(x, x->rootfd, S("sub/swap/secret"), i % 2 ? O_RDONLY : O_RDWR);
        if (fd >= 0)
            opened++;
        else
            refused++;
        if (i % 3 == 0) {
            struct stat st;
            int rr = kiln_vk_fstatat(x->vk, x->rootfd, S("sub/swap/secret"), &st, 0);
            assert_true(rr == 0 ? st.st_size == 7 : 1);
        }
    }
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    assert_int_equal(opened + refused, 3000);
    assert_true(refused == 0 || fx_audit_count(x, "\"event\":\"deny\"") > 0);
}

static void test_hard_links(void **state)
{
    struct fx *x = *state;
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s/secret", x->outside);
    host_symlink(x, p, "abs");
    assert_int_equal(
        kiln_vk_linkat(x->vk, x->rootfd, S("../outside/secret"), x->rootfd, S("h1"), 0), -EPERM);
    assert_int_equal(
        kiln_vk_linkat(x->vk, x->rootfd, S("abs"), x->rootfd, S("h2"), AT_SYMLINK_FOLLOW), -EPERM);
    assert_int_equal(
        kiln_vk_linkat(x->vk, x->rootfd, S("hello.txt"), x->rootfd, S("../outside/h3"), 0), -EPERM);
    /* linking the symlink itself (no follow) creates another symlink inside:
     * following it is still confined. */
    assert_int_equal(kiln_vk_linkat(x->vk, x->rootfd, S("abs"), x->rootfd, S("h4"), 0), 0);
    assert_int_equal(try_open(x, x->rootfd, S("h4"), O_RDONLY), -EPERM);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_nlink, 1);
}

static void test_magic_links(void **state)
{
    struct fx *x = *state;
    struct kiln_error err;
    char buf[64];
    int proc = kiln_vk_mount(x->vk, "/proc", "/proc", KILN_VK_MOUNT_RO, &err), fd;
    assert_true(proc > 0);
    host_symlink(x, "/proc/self/root", "pr");
    assert_int_equal(try_open(x, x->rootfd, S("pr/etc/passwd"), O_RDONLY), -EPERM);
    assert_int_equal(try_open(x, proc, S("self/root/etc/passwd"), O_RDONLY), -ELOOP);
    assert_int_equal(try_open(x, proc, S("self/cwd"), O_RDONLY | O_DIRECTORY), -ELOOP);
    assert_int_equal(try_open(x, proc, S("self/exe"), O_RDONLY), -ELOOP);
    assert_int_equal(try_open(x, proc, S("thread-self/root/etc/passwd"), O_RDONLY), -ELOOP);
    assert_int_equal(try_open(x, KILN_VK_AT_ROOT, S("/proc/self/root/etc/passwd"), O_RDONLY),
                     -ELOOP);
    snprintf(buf, sizeof buf, "self/fd/%d", x->rootfd);
    assert_int_equal(try_open(x, proc, S(buf), O_RDONLY), -ELOOP);
    /* the host fd of the outside world, via /proc/self/fd */
    fd = open(x->outside, O_PATH);
    snprintf(buf, sizeof buf, "self/fd/%d/secret", fd);
    assert_int_equal(try_open(x, proc, S(buf), O_RDONLY), -ELOOP);
    close(fd);
    assert_true(fx_audit_count(x, "\"rule\":\"builtin:no-magiclinks\"") >= 6);
    /* /proc is read-only here */
    assert_int_equal(try_open(x, proc, S("self/comm"), O_WRONLY), -EROFS);
}

static void test_long_paths(void **state)
{
    struct fx *x = *state;
    size_t n = 5000, i;
    char *p = malloc(n + 1);
    for (i = 0; i < n; i++)
        p[i] = "a/"[i % 2];
    p[n] = 0;
    assert_int_equal(try_open(x, x->rootfd, p, n, O_RDONLY), -ENAMETOOLONG);
    for (i = 0; i + 3 <= n; i += 3)
        memcpy(p + i, "../", 3);
    assert_int_equal(try_open(x, x->rootfd, p, n, O_RDONLY), -ENAMETOOLONG);
    /* just under PATH_MAX, ".." heavy: still confined */
    p[4000] = 0;
    for (i = 0; i + 3 <= 4000; i += 3)
        memcpy(p + i, "../", 3);
    assert_int_equal(try_open(x, x->rootfd, p, strlen(p), O_RDONLY), -EPERM);
    /* a long name component */
    memset(p, 'x', 300);
    p[300] = 0;
    assert_int_equal(try_open(x, x->rootfd, p, 300, O_RDONLY | O_CREAT), -ENAMETOOLONG);
    assert_true(fx_audit_count(x, "\"rule\":\"builtin:path-max\"") >= 2);
    free(p);
}

static void test_nul_bytes(void **state)
{
    struct fx *x = *state;
    static const char p1[] = "hello.txt\0../../outside/secret";
    static const char p2[] = "\0";
    struct stat st;
    assert_int_equal(try_open(x, x->rootfd, p1, sizeof p1 - 1, O_RDONLY), -EINVAL);
    assert_int_equal(try_open(x, x->rootfd, p2, 1, O_RDONLY), -EINVAL);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, p1, sizeof p1 - 1, &st, 0), -EINVAL);
    assert_int_equal(kiln_vk_symlinkat(x->vk, p1, sizeof p1 - 1, x->rootfd, S("l")), -EINVAL);
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, "d\0x", 3, 0755), -EINVAL);
    assert_true(fx_audit_count(x, "\"rule\":\"builtin:nul-in-path\"") >= 3);
}

static void test_guessed_fds(void **state)
{
    struct fx *x = *state;
    int host = open(x->outside, O_RDONLY | O_DIRECTORY), g;
    char buf[16];
    struct iovec v = {buf, sizeof buf};
    int denials0 = fx_audit_count(x, "\"rule\":\"builtin:fd-table\""), tried = 0;
    for (g = 0; g < 1100; g++) {
        if (kiln_vk_fd_get(x->vk, g) != NULL) continue;
        assert_int_equal(try_open(x, g, S("secret"), O_RDONLY), -EBADF);
        assert_int_equal(kiln_vk_readv(x->vk, g, &v, 1), -EBADF);
        tried++;
    }
    assert_true(kiln_vk_fd_get(x->vk, host) == NULL || host == x->rootfd);
    assert_int_equal(kiln_vk_close(x->vk, host), -EBADF);
    assert_int_equal(kiln_vk_openat(x->vk, -1, S("secret"), O_RDONLY, 0), -EBADF);
    assert_int_equal(kiln_vk_openat(x->vk, INT32_MAX, S("secret"), O_RDONLY, 0), -EBADF);
    assert_int_equal(fx_audit_count(x, "\"rule\":\"builtin:fd-table\"") - denials0, 2 * tried + 2);
    close(host);
}

static void test_rename_across(void **state)
{
    struct fx *x = *state;
    assert_int_equal(
        kiln_vk_renameat(x->vk, x->rootfd, S("hello.txt"), x->rootfd, S("../outside/stolen")),
        -EPERM);
    assert_int_equal(
        kiln_vk_renameat(x->vk, x->rootfd, S("../outside/secret"), x->rootfd, S("mine")), -EPERM);
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("../outside"), x->rootfd, S("o")), 0);
    assert_int_equal(kiln_vk_renameat(x->vk, x->rootfd, S("hello.txt"), x->rootfd, S("o/stolen")),
                     -EPERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_dotdot_chains),     T(test_absolute_symlinks), T(test_relative_symlinks),
        T(test_symlink_swap_race), T(test_hard_links),        T(test_magic_links),
        T(test_long_paths),        T(test_nul_bytes),         T(test_guessed_fds),
        T(test_rename_across),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
