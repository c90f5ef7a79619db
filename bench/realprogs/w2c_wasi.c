/* w2c_wasi.c — just enough WASI preview1 for a wasm2c-translated program to
 * run a benchmark (sqlite's speedtest1): wabt ships no WASI implementation
 * for wasm2c output, so this maps each call to the Linux call it names. It is
 * a benchmark driver, not a sandbox: paths are not confined and rights are
 * not checked.
 *
 *   w2c-PROGRAM HOSTDIR [ARGS...]
 *
 * The guest sees HOSTDIR preopened as "/data" (guest fd 3), stdio as fds 0-2,
 * TMPDIR=/data in its environment and ARGS as argv[1..]. Guest fds are host
 * fds. Build: wasm2c M.wasm -o M.c; gcc -O2 -DW2C_MOD=M '-DW2C_HEADER="M.h"'
 * w2c_wasi.c M.c wasm-rt-impl.c -lm. Exit status: the guest's; 134 on a trap.
 *
 * Layouts (preview1): filestat = dev u64 @0, ino @8, filetype u8 @16, nlink
 * @24, size @32, atim @40, mtim @48, ctim @56 (64 bytes); fdstat = filetype u8
 * @0, flags u16 @2, rights @8, @16 (24 bytes); prestat = tag u8 @0, len u32 @4.
 * Memory is little-endian on both sides, so fields are copied with memcpy. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "wasm-rt-impl.h"
#include W2C_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define MOD(s) CAT(CAT(Z_, W2C_MOD), s)
#define WASI(name) Z_wasi_snapshot_preview1Z_##name

struct Z_wasi_snapshot_preview1_instance_t {
    wasm_rt_memory_t *mem; /* the guest's exported memory */
    int argc;              /* guest argv (argv[0] is the program) */
    char **argv;
};

static const char *const guest_env[] = {"TMPDIR=/data"};
enum { PREOPEN_FD = 3 };

/* Linux errno -> WASI errno. */
static uint32_t werr(int e)
{
    switch (e) {
    case 0: return 0;
    case E2BIG: return 1;
    case EACCES: return 2;
    case EAGAIN: return 6;
    case EBADF: return 8;
    case EBUSY: return 10;
    case EEXIST: return 20;
    case EFBIG: return 22;
    case EINTR: return 27;
    case EINVAL: return 28;
    case EIO: return 29;
    case EISDIR: return 31;
    case ELOOP: return 32;
    case EMFILE: return 33;
    case ENAMETOOLONG: return 37;
    case ENOENT: return 44;
    case ENOMEM: return 48;
    case ENOSPC: return 51;
    case ENOSYS: return 52;
    case ENOTDIR: return 54;
    case ENOTEMPTY: return 55;
    case EPERM: return 63;
    case EROFS: return 69;
    case ESPIPE: return 70;
    case EXDEV: return 75;
    default: return 29;
    }
}

#define M(w) ((w)->mem->data)
#define CHECK(w, p, n)                                                                             \
    do {                                                                                           \
        if ((uint64_t)(p) + (uint64_t)(n) > (w)->mem->size)                                        \
            return 21; /* EFAULT */                                                                \
    } while (0)

static void put32(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t p, uint32_t v)
{
    memcpy(M(w) + p, &v, 4);
}

static void put64(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t p, uint64_t v)
{
    memcpy(M(w) + p, &v, 8);
}

/* Copies a guest path into buf (NUL-terminated); returns 0 or a WASI errno. */
static uint32_t path(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t p, uint32_t n,
                     char *buf, size_t cap)
{
    CHECK(w, p, n);
    if (n >= cap)
        return 37;
    memcpy(buf, M(w) + p, n);
    buf[n] = 0;
    return 0;
}

static uint8_t ftype(mode_t m)
{
    if (S_ISREG(m)) return 4;
    if (S_ISDIR(m)) return 3;
    if (S_ISCHR(m)) return 2;
    if (S_ISBLK(m)) return 1;
    if (S_ISLNK(m)) return 7;
    if (S_ISSOCK(m)) return 6;
    return 0;
}

static uint32_t put_stat(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t p,
                         const struct stat *st)
{
    CHECK(w, p, 64);
    memset(M(w) + p, 0, 64);
    put64(w, p, (uint64_t)st->st_dev);
    put64(w, p + 8, (uint64_t)st->st_ino);
    M(w)[p + 16] = ftype(st->st_mode);
    put64(w, p + 24, (uint64_t)st->st_nlink);
    put64(w, p + 32, (uint64_t)st->st_size);
    put64(w, p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec);
    put64(w, p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    put64(w, p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);
    return 0;
}

static uint32_t strings_sizes(struct Z_wasi_snapshot_preview1_instance_t *w, int n,
                              const char *const *v, uint32_t pc, uint32_t ps)
{
    uint32_t total = 0;
    CHECK(w, pc, 4);
    CHECK(w, ps, 4);
    for (int i = 0; i < n; i++)
        total += (uint32_t)strlen(v[i]) + 1;
    put32(w, pc, (uint32_t)n);
    put32(w, ps, total);
    return 0;
}

static uint32_t strings_get(struct Z_wasi_snapshot_preview1_instance_t *w, int n,
                            const char *const *v, uint32_t pv, uint32_t pb)
{
    for (int i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(v[i]) + 1;
        CHECK(w, pv + 4 * (uint32_t)i, 4);
        CHECK(w, pb, len);
        put32(w, pv + 4 * (uint32_t)i, pb);
        memcpy(M(w) + pb, v[i], len);
        pb += len;
    }
    return 0;
}

u32 WASI(args_sizes_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pc, u32 ps)
{
    return strings_sizes(w, w->argc, (const char *const *)w->argv, pc, ps);
}

u32 WASI(args_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pv, u32 pb)
{
    return strings_get(w, w->argc, (const char *const *)w->argv, pv, pb);
}

u32 WASI(environ_sizes_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pc, u32 ps)
{
    return strings_sizes(w, 1, guest_env, pc, ps);
}

u32 WASI(environ_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pv, u32 pb)
{
    return strings_get(w, 1, guest_env, pv, pb);
}

u32 WASI(clock_time_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 id, u64 prec, u32 p)
{
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    struct timespec ts;
    (void)prec;
    if (id > 3)
        return 28;
    CHECK(w, p, 8);
    if (clock_gettime(ids[id], &ts) != 0)
        return werr(errno);
    put64(w, p, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return 0;
}

u32 WASI(fd_close)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd)
{
    (void)w;
    return close((int)fd) == 0 ? 0 : werr(errno);
}

u32 WASI(fd_fdstat_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p)
{
    struct stat st;
    int fl;
    CHECK(w, p, 24);
    if (fstat((int)fd, &st) != 0 || (fl = fcntl((int)fd, F_GETFL)) < 0)
        return werr(errno);
    memset(M(w) + p, 0, 24);
    M(w)[p] = ftype(st.st_mode);
    M(w)[p + 2] = (uint8_t)(((fl & O_APPEND) ? 1 : 0) | ((fl & O_NONBLOCK) ? 4 : 0));
    put64(w, p + 8, ~(uint64_t)0);
    put64(w, p + 16, ~(uint64_t)0);
    return 0;
}

u32 WASI(fd_fdstat_set_flags)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 fl)
{
    int f = ((fl & 1) ? O_APPEND : 0) | ((fl & 4) ? O_NONBLOCK : 0);
    (void)w;
    return fcntl((int)fd, F_SETFL, f) == 0 ? 0 : werr(errno);
}

u32 WASI(fd_filestat_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p)
{
    struct stat st;
    if (fstat((int)fd, &st) != 0)
        return werr(errno);
    return put_stat(w, p, &st);
}

u32 WASI(fd_filestat_set_size)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u64 sz)
{
    (void)w;
    return ftruncate((int)fd, (off_t)sz) == 0 ? 0 : werr(errno);
}

u32 WASI(fd_prestat_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p)
{
    if (fd != PREOPEN_FD)
        return 8;
    CHECK(w, p, 8);
    memset(M(w) + p, 0, 8);
    put32(w, p + 4, 5); /* "/data" */
    return 0;
}

u32 WASI(fd_prestat_dir_name)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p, u32 n)
{
    if (fd != PREOPEN_FD)
        return 8;
    CHECK(w, p, n);
    memcpy(M(w) + p, "/data", n < 5 ? n : 5);
    return 0;
}

static uint32_t rw(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 piov, u32 n,
                   u32 pout, int write_)
{
    struct iovec iov[64];
    ssize_t r;
    if (n > 64)
        n = 64;
    CHECK(w, piov, 8 * n);
    CHECK(w, pout, 4);
    for (u32 i = 0; i < n; i++) {
        uint32_t b, l;
        memcpy(&b, M(w) + piov + 8 * i, 4);
        memcpy(&l, M(w) + piov + 8 * i + 4, 4);
        CHECK(w, b, l);
        iov[i].iov_base = M(w) + b;
        iov[i].iov_len = l;
    }
    r = write_ ? writev((int)fd, iov, (int)n) : readv((int)fd, iov, (int)n);
    if (r < 0)
        return werr(errno);
    put32(w, pout, (uint32_t)r);
    return 0;
}

u32 WASI(fd_read)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 piov, u32 n, u32 p)
{
    return rw(w, fd, piov, n, p, 0);
}

u32 WASI(fd_write)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 piov, u32 n, u32 p)
{
    return rw(w, fd, piov, n, p, 1);
}

u32 WASI(fd_seek)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u64 off, u32 wh, u32 p)
{
    off_t r;
    if (wh > 2)
        return 28;
    CHECK(w, p, 8);
    r = lseek((int)fd, (off_t)off, (int)wh); /* SET/CUR/END are 0/1/2 on both */
    if (r < 0)
        return werr(errno);
    put64(w, p, (uint64_t)r);
    return 0;
}

u32 WASI(fd_sync)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd)
{
    (void)w;
    return fsync((int)fd) == 0 ? 0 : werr(errno);
}

u32 WASI(path_create_directory)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p,
                                u32 n)
{
    char b[4096];
    uint32_t e = path(w, p, n, b, sizeof b);
    if (e)
        return e;
    return mkdirat((int)fd, b, 0777) == 0 ? 0 : werr(errno);
}

u32 WASI(path_remove_directory)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p,
                                u32 n)
{
    char b[4096];
    uint32_t e = path(w, p, n, b, sizeof b);
    if (e)
        return e;
    return unlinkat((int)fd, b, AT_REMOVEDIR) == 0 ? 0 : werr(errno);
}

u32 WASI(path_unlink_file)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p, u32 n)
{
    char b[4096];
    uint32_t e = path(w, p, n, b, sizeof b);
    if (e)
        return e;
    return unlinkat((int)fd, b, 0) == 0 ? 0 : werr(errno);
}

u32 WASI(path_filestat_get)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 fl, u32 p,
                            u32 n, u32 out)
{
    char b[4096];
    struct stat st;
    uint32_t e = path(w, p, n, b, sizeof b);
    if (e)
        return e;
    if (fstatat((int)fd, b, &st, (fl & 1) ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
        return werr(errno);
    return put_stat(w, out, &st);
}

u32 WASI(path_filestat_set_times)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 fl,
                                  u32 p, u32 n, u64 at, u64 mt, u32 fst)
{
    char b[4096];
    struct timespec ts[2];
    uint32_t e = path(w, p, n, b, sizeof b);
    if (e)
        return e;
    ts[0].tv_sec = (time_t)(at / 1000000000u);
    ts[0].tv_nsec = (long)(at % 1000000000u);
    ts[1].tv_sec = (time_t)(mt / 1000000000u);
    ts[1].tv_nsec = (long)(mt % 1000000000u);
    if (fst & 2)
        ts[0].tv_nsec = UTIME_NOW;
    else if (!(fst & 1))
        ts[0].tv_nsec = UTIME_OMIT;
    if (fst & 8)
        ts[1].tv_nsec = UTIME_NOW;
    else if (!(fst & 4))
        ts[1].tv_nsec = UTIME_OMIT;
    return utimensat((int)fd, b, ts, (fl & 1) ? 0 : AT_SYMLINK_NOFOLLOW) == 0 ? 0 : werr(errno);
}

u32 WASI(path_open)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 dirfl, u32 p, u32 n,
                    u32 of, u64 rights, u64 inh, u32 fdfl, u32 out)
{
    char b[4096];
    int flags = O_CLOEXEC, r;
    uint32_t e = path(w, p, n, b, sizeof b);
    (void)inh;
    if (e)
        return e;
    CHECK(w, out, 4);
    if ((rights & (1u << 1)) && (rights & (1u << 6)))
        flags |= O_RDWR;
    else if (rights & (1u << 6))
        flags |= O_WRONLY;
    flags |= ((of & 1) ? O_CREAT : 0) | ((of & 2) ? O_DIRECTORY : 0) | ((of & 4) ? O_EXCL : 0) |
             ((of & 8) ? O_TRUNC : 0);
    flags |= ((fdfl & 1) ? O_APPEND : 0) | ((fdfl & 2) ? O_DSYNC : 0) |
             ((fdfl & 4) ? O_NONBLOCK : 0) | ((fdfl & 16) ? O_SYNC : 0);
    if (!(dirfl & 1))
        flags |= O_NOFOLLOW;
    r = openat((int)fd, b, flags, 0666);
    if (r < 0)
        return werr(errno);
    put32(w, out, (uint32_t)r);
    return 0;
}

u32 WASI(path_readlink)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p, u32 n,
                        u32 buf, u32 len, u32 out)
{
    char b[4096];
    ssize_t r;
    uint32_t e = path(w, p, n, b, sizeof b);
    if (e)
        return e;
    CHECK(w, buf, len);
    CHECK(w, out, 4);
    r = readlinkat((int)fd, b, (char *)M(w) + buf, len);
    if (r < 0)
        return werr(errno);
    put32(w, out, (uint32_t)r);
    return 0;
}

u32 WASI(poll_oneoff)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 a, u32 b, u32 n, u32 out)
{
    (void)w, (void)a, (void)b, (void)n, (void)out;
    return 52; /* ENOSYS: speedtest1 never sleeps */
}

void WASI(proc_exit)(struct Z_wasi_snapshot_preview1_instance_t *w, u32 code)
{
    (void)w;
    exit((int)code);
}

int main(int argc, char **argv)
{
    static MOD(_instance_t) inst;
    struct Z_wasi_snapshot_preview1_instance_t wasi;
    int dfd;

    if (argc < 2) {
        fprintf(stderr, "usage: %s HOSTDIR [ARGS...]\n", argv[0]);
        return 2;
    }
    dfd = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || (dfd != PREOPEN_FD && dup2(dfd, PREOPEN_FD) < 0)) {
        perror(argv[1]);
        return 2;
    }
    if (dfd != PREOPEN_FD)
        close(dfd);
    wasi.argc = argc - 1;
    wasi.argv = argv + 1;
    wasi.argv[0] = argv[0];
    wasm_rt_init();
    MOD(_init_module)();
    MOD(_instantiate)(&inst, &wasi);
    wasi.mem = MOD(Z_memory)(&inst);
    wasm_rt_trap_t trap = wasm_rt_impl_try();
    if (trap != WASM_RT_TRAP_NONE) {
        fprintf(stderr, "%s: trap %d\n", argv[0], (int)trap);
        return 134;
    }
    MOD(Z__start)(&inst);
    return 0;
}
