/*
 * test_vk_core.c — the vkernel core's Linux semantics, natively: fd table,
 * open/read/write, namespace operations, stat, readdir cookies, pipes,
 * clocks, random, poll, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <sys/uio.h>
#include <time.h>

#include "vk_fixture.h"

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

static ssize_t rd(struct kiln_vk *vk, int fd, char *buf, size_t n)
{
    struct iovec v = {buf, n};
    return kiln_vk_readv(vk, fd, &v, 1);
}

static ssize_t wr(struct kiln_vk *vk, int fd, const char *buf)
{
    struct iovec v = {(void *)buf, strlen(buf)};
    return kiln_vk_writev(vk, fd, &v, 1);
}

static void test_preopen_is_fd3(void **state)
{
    struct fx *x = *state;
    const struct kiln_vk_fd *f = kiln_vk_fd_get(x->vk, x->rootfd);
    assert_int_equal(x->rootfd, 0); /* no stdio installed in the fixture */
    assert_non_null(f);
    assert_int_equal(f->kind, KILN_VK_DIR);
    assert_string_equal(f->guest_path, "/");
    assert_true(f->flags & KILN_VK_FD_PREOPEN);
}

static void test_open_read(void **state)
{
    struct fx *x = *state;
    char buf[64] = {0};
    int fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_true(fd > x->rootfd);
    assert_int_equal(rd(x->vk, fd, buf, sizeof buf - 1), 12);
    assert_string_equal(buf, "hello world\n");
    assert_int_equal(rd(x->vk, fd, buf, sizeof buf), 0);
    assert_int_equal(kiln_vk_lseek(x->vk, fd, 6, SEEK_SET), 6);
    memset(buf, 0, sizeof buf);
    assert_int_equal(rd(x->vk, fd, buf, 5), 5);
    assert_string_equal(buf, "world");
    assert_int_equal(kiln_vk_close(x->vk, fd), 0);
    assert_int_equal(kiln_vk_close(x->vk, fd), -EBADF);
    assert_int_equal(fx_audit_count(x, "\"event\":\"open\",\"path\":\"/hello.txt\""), 1);
}

static void test_open_errors(void **state)
{
    struct fx *x = *state;
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("nope"), O_RDONLY, 0), -ENOENT);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt/"), O_RDONLY, 0), -ENOTDIR);
    assert_int_equal(
        kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644),
        -EEXIST);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("sub"), O_WRONLY, 0), -EISDIR);
    assert_int_equal(kiln_vk_openat(x->vk, 77, S("hello.txt"), O_RDONLY, 0), -EBADF);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, "", 0, O_RDONLY, 0), -ENOENT);
    {
        int fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
        assert_int_equal(kiln_vk_openat(x->vk, fd, S("x"), O_RDONLY, 0), -ENOTDIR);
        assert_int_equal(wr(x->vk, fd, "no"), -EBADF);
        kiln_vk_close(x->vk, fd);
    }
}

static void test_create_write_trunc_append(void **state)
{
    struct fx *x = *state;
    char buf[64] = {0};
    struct stat st;
    int fd = kiln_vk_openat(x->vk, x->rootfd, S("sub/new.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(wr(x->vk, fd, "abc"), 3);
    assert_int_equal(kiln_vk_fstat(x->vk, fd, &st), 0);
    assert_int_equal(st.st_size, 3);
    assert_int_equal(kiln_vk_ftruncate(x->vk, fd, 10), 0);
    assert_int_equal(kiln_vk_fstat(x->vk, fd, &st), 0);
    assert_int_equal(st.st_size, 10);
    kiln_vk_close(x->vk, fd);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("sub/new.txt"), O_WRONLY | O_APPEND, 0);
    assert_int_equal(wr(x->vk, fd, "Z"), 1);
    assert_int_equal(kiln_vk_fcntl_getfl(x->vk, fd) & O_APPEND, O_APPEND);
    assert_int_equal(kiln_vk_fcntl_setfl(x->vk, fd, 0), 0);
    assert_int_equal(kiln_vk_fcntl_getfl(x->vk, fd) & O_APPEND, 0);
    kiln_vk_close(x->vk, fd);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("sub/new.txt"), O_RDONLY, 0);
    {
        struct iovec v = {buf, sizeof buf};
        assert_int_equal(kiln_vk_preadv(x->vk, fd, &v, 1, 10), 1);
        assert_int_equal(buf[0], 'Z');
    }
    kiln_vk_close(x->vk, fd);
}

static void test_pwrite_positional(void **state)
{
    struct fx *x = *state;
    char buf[8] = {0};
    struct iovec v = {(void *)"XY", 2}, r = {buf, 5};
    int fd = kiln_vk_openat(x->vk, x->rootfd, S("p.txt"), O_CREAT | O_RDWR, 0644);
    assert_int_equal(wr(x->vk, fd, "12345"), 5);
    assert_int_equal(kiln_vk_pwritev(x->vk, fd, &v, 1, 1), 2);
    assert_int_equal(kiln_vk_lseek(x->vk, fd, 0, SEEK_CUR), 5);
    assert_int_equal(kiln_vk_preadv(x->vk, fd, &r, 1, 0), 5);
    assert_string_equal(buf, "1XY45");
    assert_int_equal(kiln_vk_pwritev(x->vk, fd, &v, 1, -1), -EINVAL);
    assert_int_equal(kiln_vk_fsync(x->vk, fd, false), 0);
    assert_int_equal(kiln_vk_fsync(x->vk, fd, true), 0);
    assert_int_equal(kiln_vk_fadvise(x->vk, fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
    assert_int_equal(kiln_vk_fallocate(x->vk, fd, 0, 100), 0);
    kiln_vk_close(x->vk, fd);
}

static void test_mkdir_unlink_rmdir(void **state)
{
    struct fx *x = *state;
    struct stat st;
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("d1"), 0755), 0);
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("d1"), 0755), -EEXIST);
    assert_int_equal(kiln_vk_mkdirat(x->vk, x->rootfd, S("nodir/d2"), 0755), -ENOENT);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("d1"), &st, 0), 0);
    assert_true(S_ISDIR(st.st_mode));
    {
        int fd = kiln_vk_openat(x->vk, x->rootfd, S("d1/f"), O_CREAT | O_WRONLY, 0644);
        kiln_vk_close(x->vk, fd);
    }
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1"), AT_REMOVEDIR), -ENOTEMPTY);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1"), 0), -EISDIR);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1/f"), AT_REMOVEDIR), -ENOTDIR);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1/f/"), 0), -ENOTDIR);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1/f"), 0), 0);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1/f"), 0), -ENOENT);
    assert_int_equal(kiln_vk_unlinkat(x->vk, x->rootfd, S("d1/"), AT_REMOVEDIR), 0);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("d1"), &st, 0), -ENOENT);
    assert_int_equal(fx_audit_count(x, "\"event\":\"mkdir\""), 1);
    assert_int_equal(fx_audit_count(x, "\"event\":\"unlink\""), 1);
    assert_int_equal(fx_audit_count(x, "\"event\":\"rmdir\""), 1);
}

static void test_rename_link(void **state)
{
    struct fx *x = *state;
    struct stat st;
    assert_int_equal(kiln_vk_renameat(x->vk, x->rootfd, S("hello.txt"), x->rootfd, S("sub/h2")), 0);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("hello.txt"), &st, 0), -ENOENT);
    assert_int_equal(kiln_vk_linkat(x->vk, x->rootfd, S("sub/h2"), x->rootfd, S("h3"), 0), 0);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("h3"), &st, 0), 0);
    assert_int_equal(st.st_nlink, 2);
    assert_int_equal(kiln_vk_linkat(x->vk, x->rootfd, S("h3"), x->rootfd, S("sub/h2"), 0), -EEXIST);
    assert_int_equal(kiln_vk_renameat(x->vk, x->rootfd, S("nope"), x->rootfd, S("x")), -ENOENT);
    assert_int_equal(kiln_vk_renameat(x->vk, x->rootfd, S("h3"), x->rootfd, S("sub")), -EISDIR);
    assert_int_equal(kiln_vk_linkat(x->vk, x->rootfd, S("sub"), x->rootfd, S("sub2"), 0), -EPERM);
    assert_int_equal(
        fx_audit_count(x, "\"event\":\"rename\",\"from\":\"/hello.txt\",\"to\":\"/sub/h2\""), 1);
    assert_int_equal(fx_audit_count(x, "\"event\":\"link\""), 1);
}

static void test_symlink_readlink(void **state)
{
    struct fx *x = *state;
    char buf[64] = {0};
    struct stat st;
    int fd;
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("hello.txt"), x->rootfd, S("ln")), 0);
    assert_int_equal(kiln_vk_readlinkat(x->vk, x->rootfd, S("ln"), buf, sizeof buf), 9);
    assert_memory_equal(buf, "hello.txt", 9);
    assert_int_equal(kiln_vk_readlinkat(x->vk, x->rootfd, S("ln"), buf, 3), 3);
    assert_int_equal(kiln_vk_readlinkat(x->vk, x->rootfd, S("hello.txt"), buf, 3), -EINVAL);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("ln"), &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("ln"), &st, 0), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 12);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("ln"), O_RDONLY, 0);
    assert_true(fd >= 0);
    kiln_vk_close(x->vk, fd);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("ln"), O_RDONLY | O_NOFOLLOW, 0), -ELOOP);
    /* relative symlink into a sibling directory through ".." (stays inside) */
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("../hello.txt"), x->rootfd, S("sub/up")), 0);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("sub/up"), O_RDONLY, 0);
    assert_true(fd >= 0);
    kiln_vk_close(x->vk, fd);
    /* link -L follows */
    assert_int_equal(
        kiln_vk_linkat(x->vk, x->rootfd, S("ln"), x->rootfd, S("hard"), AT_SYMLINK_FOLLOW), 0);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("hard"), &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(kiln_vk_symlinkat(x->vk, S("a"), x->rootfd, S("ln")), -EEXIST);
}

static void test_utimens(void **state)
{
    struct fx *x = *state;
    struct timespec t[2] = {{1000, 0}, {2000, 5}};
    struct stat st;
    int fd;
    assert_int_equal(kiln_vk_utimensat(x->vk, x->rootfd, S("hello.txt"), t, 0), 0);
    assert_int_equal(kiln_vk_fstatat(x->vk, x->rootfd, S("hello.txt"), &st, 0), 0);
    assert_int_equal(st.st_atim.tv_sec, 1000);
    assert_int_equal(st.st_mtim.tv_sec, 2000);
    assert_int_equal(st.st_mtim.tv_nsec, 5);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDWR, 0);
    t[1].tv_nsec = UTIME_OMIT;
    t[0].tv_sec = 3000;
    assert_int_equal(kiln_vk_futimens(x->vk, fd, t), 0);
    assert_int_equal(kiln_vk_fstat(x->vk, fd, &st), 0);
    assert_int_equal(st.st_atim.tv_sec, 3000);
    assert_int_equal(st.st_mtim.tv_sec, 2000);
    kiln_vk_close(x->vk, fd);
}

static void test_readdir_cookies(void **state)
{
    struct fx *x = *state;
    char buf[4096];
    int fd, i, seen = 0;
    ssize_t n;
    uint64_t cookie = 0, third = 0;
    for (i = 0; i < 20; i++) {
        char name[32];
        int f;
        snprintf(name, sizeof name, "sub/f%02d", i);
        f = kiln_vk_openat(x->vk, x->rootfd, S(name), O_CREAT | O_WRONLY, 0644);
        kiln_vk_close(x->vk, f);
    }
    fd = kiln_vk_openat(x->vk, x->rootfd, S("sub"), O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    /* read in tiny buffers: one entry per call (a dirent64 for "fNN" is 24 bytes) */
    for (;;) {
        n = kiln_vk_getdents(x->vk, fd, cookie, buf, 32);
        assert_true(n >= 0);
        if (n == 0) break;
        {
            uint64_t off;
            memcpy(&off, buf + 8, 8);
            cookie = off;
        }
        if (++seen == 3) third = cookie;
    }
    assert_int_equal(seen, 22); /* 20 files + . + .. */
    /* resume from a saved cookie */
    n = kiln_vk_getdents(x->vk, fd, third, buf, sizeof buf);
    assert_true(n > 0);
    {
        int count = 0;
        ssize_t off = 0;
        while (off < n) {
            uint16_t rl;
            memcpy(&rl, buf + off + 16, 2);
            off += rl;
            count++;
        }
        assert_int_equal(count, 19);
    }
    assert_int_equal(kiln_vk_getdents(x->vk, fd, 0, buf, 8), -EINVAL);
    kiln_vk_close(x->vk, fd);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_int_equal(kiln_vk_getdents(x->vk, fd, 0, buf, sizeof buf), -ENOTDIR);
    kiln_vk_close(x->vk, fd);
}

static void test_dir_cookies(void **state)
{
    struct fx *x = *state;
    int fd = kiln_vk_openat(x->vk, x->rootfd, S("sub"), O_RDONLY | O_DIRECTORY, 0);
    int file = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_int_equal(kiln_vk_dircookie_get(x->vk, fd, 0), 0);
    assert_int_equal(kiln_vk_dircookie_get(x->vk, fd, 1), -EINVAL);
    assert_int_equal(kiln_vk_dircookie_set(x->vk, fd, 2, 99), -EINVAL);
    assert_int_equal(kiln_vk_dircookie_set(x->vk, fd, 1, 0x7fffffffffff0001ll), 0);
    assert_int_equal(kiln_vk_dircookie_set(x->vk, fd, 2, 0x7fffffffffff0002ll), 0);
    assert_int_equal(kiln_vk_dircookie_set(x->vk, fd, 1, 0x7fffffffffff0003ll), 0);
    assert_int_equal(kiln_vk_dircookie_get(x->vk, fd, 1), 0x7fffffffffff0003ll);
    assert_int_equal(kiln_vk_dircookie_get(x->vk, fd, 2), 0x7fffffffffff0002ll);
    assert_int_equal(kiln_vk_dircookie_get(x->vk, file, 0), -ENOTDIR);
    assert_int_equal(kiln_vk_dircookie_get(x->vk, 99, 0), -EBADF);
    {
        int i;
        for (i = 3; i < 1000; i++)
            assert_int_equal(kiln_vk_dircookie_set(x->vk, fd, (uint64_t)i, (uint64_t)i * 7), 0);
        assert_int_equal(kiln_vk_dircookie_get(x->vk, fd, 999), 999 * 7);
    }
}

static void test_noclose_flags_restored(void **state)
{
    struct kiln_vk *vk;
    struct kiln_error err;
    int p[2];
    (void)state;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(kiln_vk_new(&vk, &err), 0);
    assert_int_equal(kiln_vk_install_fd(vk, 0, p[0], KILN_VK_FD_NOCLOSE), 0);
    assert_int_equal(kiln_vk_fcntl_setfl(vk, 0, O_NONBLOCK), 0);
    assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    kiln_vk_free(vk);
    /* the host fd is still open and has its flags back */
    assert_int_equal(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    close(p[0]);
    close(p[1]);
}

static void test_pipe_poll(void **state)
{
    struct fx *x = *state;
    int p[2];
    char buf[8] = {0};
    struct kiln_vk_pollfd pf[3];
    assert_int_equal(kiln_vk_pipe(x->vk, p, 0), 0);
    pf[0].fd = p[0];
    pf[0].events = POLLIN;
    pf[1].fd = p[1];
    pf[1].events = POLLOUT;
    pf[2].fd = 999;
    pf[2].events = POLLIN;
    assert_int_equal(kiln_vk_poll(x->vk, pf, 2, 0), 1);
    assert_int_equal(pf[0].revents, 0);
    assert_true(pf[1].revents & POLLOUT);
    assert_int_equal(wr(x->vk, p[1], "ping"), 4);
    assert_int_equal(kiln_vk_nread(x->vk, p[0]), 4);
    assert_int_equal(kiln_vk_poll(x->vk, pf, 3, -1), 3);
    assert_true(pf[0].revents & POLLIN);
    assert_int_equal(pf[2].revents, POLLNVAL);
    assert_int_equal(rd(x->vk, p[0], buf, sizeof buf), 4);
    assert_string_equal(buf, "ping");
    assert_int_equal(kiln_vk_lseek(x->vk, p[0], 0, SEEK_CUR), -ESPIPE);
    kiln_vk_close(x->vk, p[1]);
    assert_int_equal(rd(x->vk, p[0], buf, sizeof buf), 0);
    kiln_vk_close(x->vk, p[0]);
    assert_int_equal(kiln_vk_pipe(x->vk, p, O_DIRECT), -EINVAL);
}

static void test_renumber(void **state)
{
    struct fx *x = *state;
    int a = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    int b = kiln_vk_openat(x->vk, x->rootfd, S("sub"), O_RDONLY, 0);
    char buf[6] = {0};
    assert_int_equal(kiln_vk_renumber(x->vk, a, b), 0);
    assert_null(kiln_vk_fd_get(x->vk, a));
    assert_int_equal(rd(x->vk, b, buf, 5), 5);
    assert_string_equal(buf, "hello");
    assert_int_equal(kiln_vk_renumber(x->vk, a, b), -EBADF);
    /* lowest free fd is reused */
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0), a);
}

static void test_clocks_random(void **state)
{
    struct fx *x = *state;
    struct timespec a, b, r;
    unsigned char buf[4096], zero[4096] = {0};
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_MONOTONIC, &a), 0);
    assert_int_equal(kiln_vk_nanosleep(x->vk, CLOCK_MONOTONIC, 0, &(struct timespec){0, 1000000}),
                     0);
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_MONOTONIC, &b), 0);
    assert_true(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec > a.tv_nsec));
    assert_int_equal(kiln_vk_clock_getres(x->vk, CLOCK_REALTIME, &r), 0);
    assert_int_equal(kiln_vk_clock_gettime(x->vk, CLOCK_BOOTTIME, &a), -EINVAL);
    assert_int_equal(kiln_vk_clock_gettime(x->vk, 12345, &a), -EINVAL);
    assert_int_equal(kiln_vk_getrandom(x->vk, buf, sizeof buf), (ssize_t)sizeof buf);
    assert_memory_not_equal(buf, zero, sizeof buf);
    assert_int_equal(kiln_vk_sched_yield(x->vk), 0);
}

static void test_exec_memory_denied(void **state)
{
    struct fx *x = *state;
    assert_int_equal(kiln_vk_exec_memory(x->vk, "mprotect", 4096, 4096, 5), -EPERM);
    assert_int_equal(fx_audit_count(x, "\"event\":\"exec-memory\",\"call\":\"mprotect\""), 1);
}

static void test_ro_mount(void **state)
{
    struct fx *x = *state;
    struct kiln_error err;
    char p[400];
    int ro, fd;
    snprintf(p, sizeof p, "%s/sub", x->root);
    ro = kiln_vk_mount(x->vk, p, "/ro", KILN_VK_MOUNT_RO, &err);
    assert_true(ro > 0);
    fd = kiln_vk_openat(x->vk, ro, S("x"), O_CREAT | O_WRONLY, 0644);
    assert_int_equal(fd, -EROFS);
    assert_int_equal(kiln_vk_mkdirat(x->vk, ro, S("d"), 0755), -EROFS);
    assert_int_equal(kiln_vk_openat(x->vk, KILN_VK_AT_ROOT, S("/ro/y"), O_CREAT | O_WRONLY, 0644),
                     -EROFS);
    assert_true(fx_audit_count(x, "\"rule\":\"mount:/ro:ro\"") >= 3);
    /* reading through the ro mount works; absolute paths pick the longest mount */
    fd = kiln_vk_openat(x->vk, KILN_VK_AT_ROOT, S("/hello.txt"), O_RDONLY, 0);
    assert_true(fd >= 0);
    kiln_vk_close(x->vk, fd);
    assert_int_equal(
        kiln_vk_openat(x->vk, KILN_VK_AT_ROOT, S("/ro/../sub/../hello.txt"), O_RDONLY, 0) >= 0, 1);
}

static void test_fd_limit(void **state)
{
    struct fx *x = *state;
    struct kiln_vk_policy *p;
    struct kiln_error err;
    const char *json = "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
                       "\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"}],"
                       "\"limits\":{\"openFiles\":4}}";
    int i, last = 0;
    assert_int_equal(kiln_vk_policy_parse(json, strlen(json), "t.json", &p, &err), 0);
    kiln_vk_set_policy(x->vk, p);
    for (i = 0; i < 5; i++)
        last = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_int_equal(last, -EMFILE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_preopen_is_fd3),    T(test_open_read),
        T(test_open_errors),       T(test_create_write_trunc_append),
        T(test_pwrite_positional), T(test_mkdir_unlink_rmdir),
        T(test_rename_link),       T(test_symlink_readlink),
        T(test_utimens),           T(test_readdir_cookies),
        T(test_dir_cookies),       T(test_noclose_flags_restored),
        T(test_pipe_poll),         T(test_renumber),
        T(test_clocks_random),     T(test_exec_memory_denied),
        T(test_ro_mount),          T(test_fd_limit),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
