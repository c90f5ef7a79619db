/*
 * wasi_p1.c — the WASI preview1 ABI (wasi_snapshot_preview1) over the
 * vkernel core.
 *
 * Each WASI function is a host function of the engine (kiln_func_new_host).
 * It reads its arguments from guest linear memory, calls the core (Linux
 * semantics, -errno), and writes results back. Invariants:
 *   - every guest pointer+length is bounds-checked (kiln_memory_check, which
 *     is overflow-safe) BEFORE the operation, so an invalid out-pointer never
 *     leaves a half-done effect (e.g. an opened fd nobody knows about);
 *   - guest memory is accessed with memcpy-based little-endian loads/stores
 *     (guest pointers need not be aligned);
 *   - WASI rights are checked here (NOTCAPABLE); Linux permission and policy
 *     checks happen in the core;
 *   - a core result of -KILN_VK_EKILL (policy kill) becomes a trap.
 * The function list, signatures and support levels live in wasi_p1.def.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kiln/vkernel.h"
#include "kiln/wasm.h"
#include "vkernel/abi/kiln_proc.h"

/* ---- WASI constants ---- */
enum {
    W_SUCCESS = 0,
    W_2BIG = 1,
    W_ACCES = 2,
    W_ADDRINUSE = 3,
    W_ADDRNOTAVAIL = 4,
    W_AFNOSUPPORT = 5,
    W_AGAIN = 6,
    W_ALREADY = 7,
    W_BADF = 8,
    W_BADMSG = 9,
    W_BUSY = 10,
    W_CANCELED = 11,
    W_CHILD = 12,
    W_CONNABORTED = 13,
    W_CONNREFUSED = 14,
    W_CONNRESET = 15,
    W_DEADLK = 16,
    W_DESTADDRREQ = 17,
    W_DOM = 18,
    W_DQUOT = 19,
    W_EXIST = 20,
    W_FAULT = 21,
    W_FBIG = 22,
    W_HOSTUNREACH = 23,
    W_IDRM = 24,
    W_ILSEQ = 25,
    W_INPROGRESS = 26,
    W_INTR = 27,
    W_INVAL = 28,
    W_IO = 29,
    W_ISCONN = 30,
    W_ISDIR = 31,
    W_LOOP = 32,
    W_MFILE = 33,
    W_MLINK = 34,
    W_MSGSIZE = 35,
    W_MULTIHOP = 36,
    W_NAMETOOLONG = 37,
    W_NETDOWN = 38,
    W_NETRESET = 39,
    W_NETUNREACH = 40,
    W_NFILE = 41,
    W_NOBUFS = 42,
    W_NODEV = 43,
    W_NOENT = 44,
    W_NOEXEC = 45,
    W_NOLCK = 46,
    W_NOLINK = 47,
    W_NOMEM = 48,
    W_NOMSG = 49,
    W_NOPROTOOPT = 50,
    W_NOSPC = 51,
    W_NOSYS = 52,
    W_NOTCONN = 53,
    W_NOTDIR = 54,
    W_NOTEMPTY = 55,
    W_NOTRECOVERABLE = 56,
    W_NOTSOCK = 57,
    W_NOTSUP = 58,
    W_NOTTY = 59,
    W_NXIO = 60,
    W_OVERFLOW = 61,
    W_OWNERDEAD = 62,
    W_PERM = 63,
    W_PIPE = 64,
    W_PROTO = 65,
    W_PROTONOSUPPORT = 66,
    W_PROTOTYPE = 67,
    W_RANGE = 68,
    W_ROFS = 69,
    W_SPIPE = 70,
    W_SRCH = 71,
    W_STALE = 72,
    W_TIMEDOUT = 73,
    W_TXTBSY = 74,
    W_XDEV = 75,
    W_NOTCAPABLE = 76
};

#define R(n) (1ull << (n))
#define R_FD_DATASYNC R(0)
#define R_FD_READ R(1)
#define R_FD_SEEK R(2)
#define R_FD_FDSTAT_SET_FLAGS R(3)
#define R_FD_SYNC R(4)
#define R_FD_TELL R(5)
#define R_FD_WRITE R(6)
#define R_FD_ADVISE R(7)
#define R_FD_ALLOCATE R(8)
#define R_PATH_CREATE_DIRECTORY R(9)
#define R_PATH_CREATE_FILE R(10)
#define R_PATH_LINK_SOURCE R(11)
#define R_PATH_LINK_TARGET R(12)
#define R_PATH_OPEN R(13)
#define R_FD_READDIR R(14)
#define R_PATH_READLINK R(15)
#define R_PATH_RENAME_SOURCE R(16)
#define R_PATH_RENAME_TARGET R(17)
#define R_PATH_FILESTAT_GET R(18)
#define R_PATH_FILESTAT_SET_SIZE R(19)
#define R_PATH_FILESTAT_SET_TIMES R(20)
#define R_FD_FILESTAT_GET R(21)
#define R_FD_FILESTAT_SET_SIZE R(22)
#define R_FD_FILESTAT_SET_TIMES R(23)
#define R_PATH_SYMLINK R(24)
#define R_PATH_REMOVE_DIRECTORY R(25)
#define R_PATH_UNLINK_FILE R(26)
#define R_POLL_FD_READWRITE R(27)
#define R_SOCK_SHUTDOWN R(28)
#define R_SOCK_ACCEPT R(29)
#define R_ALL (R(30) - 1)

#define R_FILE                                                                                     \
    (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_TELL |       \
     R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE |       \
     R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)
#define R_DIR                                                                                      \
    (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_DATASYNC | R_PATH_CREATE_DIRECTORY |                 \
     R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN | R_FD_READDIR |   \
     R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET | R_PATH_FILESTAT_GET |         \
     R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES | R_FD_FILESTAT_GET |                    \
     R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK | R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE)
#define R_STREAM                                                                                   \
    (R_FD_READ | R_FD_WRITE | R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE |    \
     R_FD_SYNC | R_FD_DATASYNC)
#define R_SOCK (R_STREAM | R_SOCK_SHUTDOWN)
#define R_LISTEN (R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE | R_SOCK_ACCEPT)

enum { FT_UNKNOWN, FT_BLOCK, FT_CHAR, FT_DIR, FT_REG, FT_DGRAM, FT_STREAM, FT_SYMLINK };

/* ---- the adapter ---- */
struct kiln_wasi {
    struct kiln_vk *vk;
    int argc, nenv;
    char **argv, **env;
    size_t argv_bytes, env_bytes;
    int exit_code;
};

typedef int (*wasi_fn)(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                       struct kiln_wasi *w);

#define KILN_WASI_FN(name, params, results, level, linux, note)                                    \
    static int wasi_##name(struct kiln_caller *c, const uint64_t *a, uint64_t *res,                \
                           struct kiln_wasi *w);
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN

enum {
#define KILN_WASI_FN(name, params, results, level, linux, note) FN_##name,
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN
    FN__COUNT
};

static const struct {
    const char *name, *params, *results;
    wasi_fn fn;
} table[] = {
#define KILN_WASI_FN(name, params, results, level, linux, note)                                    \
    {#name, params, results, wasi_##name},
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN
};

static const char *const fn_names[] = {
#define KILN_WASI_FN(name, params, results, level, linux, note) #name,
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN
};

/* Number of WASI functions; see vkernel.h. */
int kiln_wasi_function_count(void)
{
    return FN__COUNT;
}

/* Name of WASI function i or NULL; see vkernel.h. */
const char *kiln_wasi_function_name(int i)
{
    return (i >= 0 && i < FN__COUNT) ? fn_names[i] : NULL;
}

/* Linux errno -> WASI errno; see vkernel.h. */
int kiln_wasi_errno(int e)
{
    switch (e) {
    case 0:
        return W_SUCCESS;
    case E2BIG:
        return W_2BIG;
    case EACCES:
        return W_ACCES;
    case EADDRINUSE:
        return W_ADDRINUSE;
    case EADDRNOTAVAIL:
        return W_ADDRNOTAVAIL;
    case EAFNOSUPPORT:
        return W_AFNOSUPPORT;
    case EAGAIN:
        return W_AGAIN;
    case EALREADY:
        return W_ALREADY;
    case EBADF:
        return W_BADF;
    case EBADMSG:
        return W_BADMSG;
    case EBUSY:
        return W_BUSY;
    case ECANCELED:
        return W_CANCELED;
    case ECHILD:
        return W_CHILD;
    case ECONNABORTED:
        return W_CONNABORTED;
    case ECONNREFUSED:
        return W_CONNREFUSED;
    case ECONNRESET:
        return W_CONNRESET;
    case EDEADLK:
        return W_DEADLK;
    case EDESTADDRREQ:
        return W_DESTADDRREQ;
    case EDOM:
        return W_DOM;
    case EDQUOT:
        return W_DQUOT;
    case EEXIST:
        return W_EXIST;
    case EFAULT:
        return W_FAULT;
    case EFBIG:
        return W_FBIG;
    case EHOSTUNREACH:
        return W_HOSTUNREACH;
    case EIDRM:
        return W_IDRM;
    case EILSEQ:
        return W_ILSEQ;
    case EINPROGRESS:
        return W_INPROGRESS;
    case EINTR:
        return W_INTR;
    case EINVAL:
        return W_INVAL;
    case EIO:
        return W_IO;
    case EISCONN:
        return W_ISCONN;
    case EISDIR:
        return W_ISDIR;
    case ELOOP:
        return W_LOOP;
    case EMFILE:
        return W_MFILE;
    case EMLINK:
        return W_MLINK;
    case EMSGSIZE:
        return W_MSGSIZE;
    case EMULTIHOP:
        return W_MULTIHOP;
    case ENAMETOOLONG:
        return W_NAMETOOLONG;
    case ENETDOWN:
        return W_NETDOWN;
    case ENETRESET:
        return W_NETRESET;
    case ENETUNREACH:
        return W_NETUNREACH;
    case ENFILE:
        return W_NFILE;
    case ENOBUFS:
        return W_NOBUFS;
    case ENODEV:
        return W_NODEV;
    case ENOENT:
        return W_NOENT;
    case ENOEXEC:
        return W_NOEXEC;
    case ENOLCK:
        return W_NOLCK;
    case ENOLINK:
        return W_NOLINK;
    case ENOMEM:
        return W_NOMEM;
    case ENOMSG:
        return W_NOMSG;
    case ENOPROTOOPT:
        return W_NOPROTOOPT;
    case ENOSPC:
        return W_NOSPC;
    case ENOSYS:
        return W_NOSYS;
    case ENOTCONN:
        return W_NOTCONN;
    case ENOTDIR:
        return W_NOTDIR;
    case ENOTEMPTY:
        return W_NOTEMPTY;
    case ENOTRECOVERABLE:
        return W_NOTRECOVERABLE;
    case ENOTSOCK:
        return W_NOTSOCK;
    case ENOTSUP:
        return W_NOTSUP;
    case ENOTTY:
        return W_NOTTY;
    case ENXIO:
        return W_NXIO;
    case EOVERFLOW:
        return W_OVERFLOW;
    case EOWNERDEAD:
        return W_OWNERDEAD;
    case EPERM:
        return W_PERM;
    case EPIPE:
        return W_PIPE;
    case EPROTO:
        return W_PROTO;
    case EPROTONOSUPPORT:
        return W_PROTONOSUPPORT;
    case EPROTOTYPE:
        return W_PROTOTYPE;
    case ERANGE:
        return W_RANGE;
    case EROFS:
        return W_ROFS;
    case ESPIPE:
        return W_SPIPE;
    case ESRCH:
        return W_SRCH;
    case ESTALE:
        return W_STALE;
    case ETIMEDOUT:
        return W_TIMEDOUT;
    case ETXTBSY:
        return W_TXTBSY;
    case EXDEV:
        return W_XDEV;
    default:
        return W_IO;
    }
}

/* ---- guest memory helpers ---- */

static inline uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void st8(uint8_t *p, uint8_t v)
{
    *p = v;
}
static inline void st16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}
static inline void st32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void st64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Argument i as u32 / u64. */
#define A32(i) ((uint32_t)a[i])
#define A64(i) ((uint64_t)a[i])

/* Sets the errno result and returns "no trap". */
static int ok(uint64_t *res, int wasi_errno)
{
    res[0] = (uint32_t)wasi_errno;
    return 0;
}

/* Converts a core result: -KILN_VK_EKILL traps, -errno maps, >= 0 succeeds. */
static int done(struct kiln_caller *c, uint64_t *res, int64_t r)
{
    if (r == -KILN_VK_EKILL) return kiln_caller_trap(c, KILN_TRAP_HOST, 0, "killed by policy");
    return ok(res, r < 0 ? kiln_wasi_errno((int)-r) : W_SUCCESS);
}

/* Memory of the caller with bounds check of [p, p+len). */
static uint8_t *mem_at(struct kiln_caller *c, uint64_t p, uint64_t len)
{
    struct kiln_memory *m = kiln_caller_memory(c);
    if (m == NULL || !kiln_memory_check(m, p, len)) return NULL;
    return kiln_memory_data(m) + p;
}

#define CHECKED(var, ptr, len)                                                                     \
    uint8_t *var = mem_at(c, (ptr), (len));                                                        \
    if (var == NULL) return ok(res, W_FAULT)

/* Requires rights on fd; returns 0, W_BADF or W_NOTCAPABLE. */
static int need(struct kiln_wasi *w, int fd, uint64_t rights)
{
    const struct kiln_vk_fd *f = kiln_vk_fd_get(w->vk, fd);
    if (f == NULL) return W_BADF;
    if ((f->rights_base & rights) != rights) return W_NOTCAPABLE;
    return 0;
}

#define NEED(fd, rights)                                                                           \
    do {                                                                                           \
        int e_ = need(w, (int)(fd), (rights));                                                     \
        if (e_) return ok(res, e_);                                                                \
    } while (0)

static uint64_t max_rights(int kind, uint64_t *inh)
{
    *inh = 0;
    switch (kind) {
    case KILN_VK_DIR:
        *inh = R_ALL;
        return R_DIR;
    case KILN_VK_FILE:
        return R_FILE;
    case KILN_VK_SOCKET:
    case KILN_VK_DGRAM:
        return R_SOCK;
    case KILN_VK_LISTENER:
        return R_LISTEN;
    case KILN_VK_SYMLINK:
        return R_FD_FILESTAT_GET;
    default:
        return R_STREAM | R_FD_SEEK | R_FD_TELL;
    }
}

static uint8_t filetype(int kind)
{
    switch (kind) {
    case KILN_VK_FILE:
        return FT_REG;
    case KILN_VK_DIR:
        return FT_DIR;
    case KILN_VK_CHAR:
        return FT_CHAR;
    case KILN_VK_BLOCK:
        return FT_BLOCK;
    case KILN_VK_SOCKET:
        return FT_STREAM;
    case KILN_VK_LISTENER:
        return FT_STREAM;
    case KILN_VK_DGRAM:
        return FT_DGRAM;
    case KILN_VK_SYMLINK:
        return FT_SYMLINK;
    default:
        return FT_UNKNOWN;
    }
}

static uint8_t filetype_mode(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG:
        return FT_REG;
    case S_IFDIR:
        return FT_DIR;
    case S_IFCHR:
        return FT_CHAR;
    case S_IFBLK:
        return FT_BLOCK;
    case S_IFSOCK:
        return FT_STREAM;
    case S_IFLNK:
        return FT_SYMLINK;
    default:
        return FT_UNKNOWN;
    }
}

static void put_filestat(uint8_t *p, const struct stat *st)
{
    memset(p, 0, 64);
    st64(p + 0, (uint64_t)st->st_dev);
    st64(p + 8, (uint64_t)st->st_ino);
    st8(p + 16, filetype_mode(st->st_mode));
    st64(p + 24, (uint64_t)st->st_nlink);
    st64(p + 32, (uint64_t)st->st_size);
    st64(p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000ull + (uint64_t)st->st_atim.tv_nsec);
    st64(p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec);
    st64(p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec);
}

/* Builds host iovecs from a guest iovec array; returns 0 or a WASI errno. */
static int iovs(struct kiln_caller *c, uint32_t ptr, uint32_t n, struct iovec *out)
{
    uint8_t *arr;
    uint32_t i;
    if (n > IOV_MAX) return W_INVAL;
    arr = mem_at(c, ptr, (uint64_t)n * 8);
    if (arr == NULL) return W_FAULT;
    for (i = 0; i < n; i++) {
        uint32_t b = ld32(arr + i * 8), l = ld32(arr + i * 8 + 4);
        uint8_t *hb = mem_at(c, b, l);
        if (hb == NULL) return W_FAULT;
        out[i].iov_base = hb;
        out[i].iov_len = l;
    }
    return 0;
}

static int clock_of(uint32_t id)
{
    switch (id) {
    case 0:
        return CLOCK_REALTIME;
    case 1:
        return CLOCK_MONOTONIC;
    case 2:
        return CLOCK_PROCESS_CPUTIME_ID;
    case 3:
        return CLOCK_THREAD_CPUTIME_ID;
    default:
        return -1;
    }
}

/* Times from (atim, mtim, fstflags); returns 0 or W_INVAL. */
static int times_of(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec t[2])
{
    if ((fl & ~15u) || ((fl & 1) && (fl & 2)) || ((fl & 4) && (fl & 8))) return W_INVAL;
    t[0].tv_sec = (time_t)(atim / 1000000000ull);
    t[0].tv_nsec = (long)(atim % 1000000000ull);
    t[1].tv_sec = (time_t)(mtim / 1000000000ull);
    t[1].tv_nsec = (long)(mtim % 1000000000ull);
    if (fl & 2)
        t[0].tv_nsec = UTIME_NOW;
    else if (!(fl & 1))
        t[0].tv_nsec = UTIME_OMIT;
    if (fl & 8)
        t[1].tv_nsec = UTIME_NOW;
    else if (!(fl & 4))
        t[1].tv_nsec = UTIME_OMIT;
    return 0;
}

/* A guest path (pointer, length), bounds-checked. */
#define PATH(var, ptr, len) CHECKED(var, ptr, len)

/* ---- args / environ ---- */

static int wasi_args_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                         struct kiln_wasi *w)
{
    CHECKED(argv, A32(0), (uint64_t)w->argc * 4);
    CHECKED(buf, A32(1), w->argv_bytes);
    uint32_t off = A32(1);
    int i;
    (void)buf;
    for (i = 0; i < w->argc; i++) {
        size_t l = strlen(w->argv[i]) + 1;
        st32(argv + i * 4, off);
        memcpy(kiln_memory_data(kiln_caller_memory(c)) + off, w->argv[i], l);
        off += (uint32_t)l;
    }
    return ok(res, 0);
}

static int wasi_args_sizes_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                               struct kiln_wasi *w)
{
    CHECKED(n, A32(0), 4);
    CHECKED(sz, A32(1), 4);
    st32(n, (uint32_t)w->argc);
    st32(sz, (uint32_t)w->argv_bytes);
    return ok(res, 0);
}

static int wasi_environ_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    CHECKED(envp, A32(0), (uint64_t)w->nenv * 4);
    CHECKED(buf, A32(1), w->env_bytes);
    uint32_t off = A32(1);
    int i;
    (void)buf;
    for (i = 0; i < w->nenv; i++) {
        size_t l = strlen(w->env[i]) + 1;
        st32(envp + i * 4, off);
        memcpy(kiln_memory_data(kiln_caller_memory(c)) + off, w->env[i], l);
        off += (uint32_t)l;
    }
    return ok(res, 0);
}

static int wasi_environ_sizes_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                  struct kiln_wasi *w)
{
    CHECKED(n, A32(0), 4);
    CHECKED(sz, A32(1), 4);
    st32(n, (uint32_t)w->nenv);
    st32(sz, (uint32_t)w->env_bytes);
    return ok(res, 0);
}

/* ---- clocks, random, sched ---- */

static int wasi_clock_res_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                              struct kiln_wasi *w)
{
    struct timespec ts;
    int clk = clock_of(A32(0)), r;
    CHECKED(out, A32(1), 8);
    if (clk < 0) return ok(res, W_INVAL);
    r = kiln_vk_clock_getres(w->vk, clk, &ts);
    if (r == 0) st64(out, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    return done(c, res, r);
}

static int wasi_clock_time_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                               struct kiln_wasi *w)
{
    struct timespec ts;
    int clk = clock_of(A32(0)), r;
    CHECKED(out, A32(2), 8);
    if (clk < 0) return ok(res, W_INVAL);
    r = kiln_vk_clock_gettime(w->vk, clk, &ts);
    if (r == 0) st64(out, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
    return done(c, res, r);
}

static int wasi_random_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                           struct kiln_wasi *w)
{
    CHECKED(buf, A32(0), A32(1));
    return done(c, res, kiln_vk_getrandom(w->vk, buf, A32(1)));
}

static int wasi_sched_yield(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    (void)a;
    return done(c, res, kiln_vk_sched_yield(w->vk));
}

static int wasi_proc_exit(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    (void)res;
    w->exit_code = (int)A32(0);
    kiln_vk_count(w->vk, FN_proc_exit);
    return kiln_caller_trap(c, KILN_TRAP_EXIT, (int)A32(0), "exit %d", (int)A32(0));
}

static int wasi_proc_raise(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                           struct kiln_wasi *w)
{
    (void)c;
    (void)a;
    (void)w;
    return ok(res, W_NOSYS);
}

/* ---- fd calls ---- */

static int wasi_fd_advise(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    static const int adv[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                              POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    NEED(A32(0), R_FD_ADVISE);
    if (A32(3) > 5 || A64(1) > INT64_MAX || A64(2) > INT64_MAX) return ok(res, W_INVAL);
    return done(c, res,
                kiln_vk_fadvise(w->vk, (int)A32(0), (int64_t)A64(1), (int64_t)A64(2), adv[A32(3)]));
}

static int wasi_fd_allocate(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    NEED(A32(0), R_FD_ALLOCATE);
    if (A64(1) > INT64_MAX || A64(2) > INT64_MAX) return ok(res, W_INVAL);
    return done(c, res, kiln_vk_fallocate(w->vk, (int)A32(0), (int64_t)A64(1), (int64_t)A64(2)));
}

static int wasi_fd_close(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                         struct kiln_wasi *w)
{
    return done(c, res, kiln_vk_close(w->vk, (int)A32(0)));
}

static int wasi_fd_datasync(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    NEED(A32(0), R_FD_DATASYNC);
    return done(c, res, kiln_vk_fsync(w->vk, (int)A32(0), true));
}

static int wasi_fd_sync(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                        struct kiln_wasi *w)
{
    NEED(A32(0), R_FD_SYNC);
    return done(c, res, kiln_vk_fsync(w->vk, (int)A32(0), false));
}

static int wasi_fd_fdstat_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                              struct kiln_wasi *w)
{
    const struct kiln_vk_fd *f;
    int fl, r;
    uint16_t wf = 0;
    CHECKED(out, A32(1), 24);
    r = kiln_vk_fcntl_getfl(w->vk, (int)A32(0));
    if (r < 0) return done(c, res, r);
    f = kiln_vk_fd_get(w->vk, (int)A32(0));
    fl = r;
    if (fl & O_APPEND) wf |= 1;
    if ((fl & O_DSYNC) && !((fl & O_SYNC) == O_SYNC)) wf |= 2;
    if (fl & O_NONBLOCK) wf |= 4;
    if ((fl & O_SYNC) == O_SYNC) wf |= 16;
    memset(out, 0, 24);
    st8(out, filetype(f->kind));
    st16(out + 2, wf);
    st64(out + 8, f->rights_base);
    st64(out + 16, f->rights_inh);
    return ok(res, 0);
}

static int wasi_fd_fdstat_set_flags(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                    struct kiln_wasi *w)
{
    uint32_t fl = A32(1);
    NEED(A32(0), R_FD_FDSTAT_SET_FLAGS);
    if (fl & ~31u) return ok(res, W_INVAL);
    if (fl & (2 | 8 | 16)) return ok(res, W_NOTSUP);
    return done(c, res,
                kiln_vk_fcntl_setfl(w->vk, (int)A32(0),
                                    ((fl & 1) ? O_APPEND : 0) | ((fl & 4) ? O_NONBLOCK : 0)));
}

static int wasi_fd_fdstat_set_rights(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                     struct kiln_wasi *w)
{
    const struct kiln_vk_fd *f = kiln_vk_fd_get(w->vk, (int)A32(0));
    (void)c;
    if (f == NULL) return ok(res, W_BADF);
    if ((A64(1) & ~f->rights_base) || (A64(2) & ~f->rights_inh)) return ok(res, W_NOTCAPABLE);
    kiln_vk_fd_set_rights(w->vk, (int)A32(0), A64(1), A64(2));
    return ok(res, 0);
}

static int wasi_fd_filestat_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                struct kiln_wasi *w)
{
    struct stat st;
    int r;
    CHECKED(out, A32(1), 64);
    NEED(A32(0), R_FD_FILESTAT_GET);
    r = kiln_vk_fstat(w->vk, (int)A32(0), &st);
    if (r == 0) put_filestat(out, &st);
    return done(c, res, r);
}

static int wasi_fd_filestat_set_size(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                     struct kiln_wasi *w)
{
    NEED(A32(0), R_FD_FILESTAT_SET_SIZE);
    if (A64(1) > INT64_MAX) return ok(res, W_INVAL);
    return done(c, res, kiln_vk_ftruncate(w->vk, (int)A32(0), (int64_t)A64(1)));
}

static int wasi_fd_filestat_set_times(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                      struct kiln_wasi *w)
{
    struct timespec t[2];
    NEED(A32(0), R_FD_FILESTAT_SET_TIMES);
    if (times_of(A64(1), A64(2), A32(3), t)) return ok(res, W_INVAL);
    return done(c, res, kiln_vk_futimens(w->vk, (int)A32(0), t));
}

static int rw_common(struct kiln_caller *c, const uint64_t *a, uint64_t *res, struct kiln_wasi *w,
                     int which)
{
    /* which: 0 read, 1 write, 2 pread, 3 pwrite */
    struct iovec v[IOV_MAX];
    uint32_t outp = (which >= 2) ? A32(4) : A32(3);
    ssize_t r;
    int e;
    static const uint64_t rights[] = {R_FD_READ, R_FD_WRITE, R_FD_READ | R_FD_SEEK,
                                      R_FD_WRITE | R_FD_SEEK};
    CHECKED(out, outp, 4);
    NEED(A32(0), rights[which]);
    if ((e = iovs(c, A32(1), A32(2), v)) != 0) return ok(res, e);
    if (which >= 2 && A64(3) > INT64_MAX) return ok(res, W_INVAL);
    switch (which) {
    case 0:
        r = kiln_vk_readv(w->vk, (int)A32(0), v, (int)A32(2));
        break;
    case 1:
        r = kiln_vk_writev(w->vk, (int)A32(0), v, (int)A32(2));
        break;
    case 2:
        r = kiln_vk_preadv(w->vk, (int)A32(0), v, (int)A32(2), (int64_t)A64(3));
        break;
    default:
        r = kiln_vk_pwritev(w->vk, (int)A32(0), v, (int)A32(2), (int64_t)A64(3));
        break;
    }
    if (r >= 0) st32(out, (uint32_t)r);
    return done(c, res, r);
}

static int wasi_fd_read(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                        struct kiln_wasi *w)
{
    return rw_common(c, a, res, w, 0);
}

static int wasi_fd_write(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                         struct kiln_wasi *w)
{
    return rw_common(c, a, res, w, 1);
}

static int wasi_fd_pread(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                         struct kiln_wasi *w)
{
    return rw_common(c, a, res, w, 2);
}

static int wasi_fd_pwrite(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    return rw_common(c, a, res, w, 3);
}

static int wasi_fd_prestat_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                               struct kiln_wasi *w)
{
    const struct kiln_vk_fd *f = kiln_vk_fd_get(w->vk, (int)A32(0));
    CHECKED(out, A32(1), 8);
    if (f == NULL || !(f->flags & KILN_VK_FD_PREOPEN) || f->kind != KILN_VK_DIR)
        return ok(res, W_BADF);
    memset(out, 0, 8);
    st32(out + 4, (uint32_t)strlen(f->guest_path));
    return ok(res, 0);
}

static int wasi_fd_prestat_dir_name(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                    struct kiln_wasi *w)
{
    const struct kiln_vk_fd *f = kiln_vk_fd_get(w->vk, (int)A32(0));
    size_t l;
    CHECKED(out, A32(1), A32(2));
    if (f == NULL || !(f->flags & KILN_VK_FD_PREOPEN) || f->kind != KILN_VK_DIR)
        return ok(res, W_BADF);
    l = strlen(f->guest_path);
    if (A32(2) < l) return ok(res, W_NAMETOOLONG);
    memcpy(out, f->guest_path, l);
    return ok(res, 0);
}

static uint8_t dtype(uint8_t t)
{
    switch (t) {
    case 1:
        return FT_UNKNOWN; /* DT_FIFO */
    case 2:
        return FT_CHAR;
    case 4:
        return FT_DIR;
    case 6:
        return FT_BLOCK;
    case 8:
        return FT_REG;
    case 10:
        return FT_SYMLINK;
    case 12:
        return FT_STREAM;
    default:
        return FT_UNKNOWN;
    }
}

/* fd_readdir: WASI cookies are small ordinals ("after the n-th entry"),
 * mapped to the host's 64-bit d_off by the core, because wasm32 guests keep
 * cookies in a 32-bit long (telldir). */
static int wasi_fd_readdir(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                           struct kiln_wasi *w)
{
    uint8_t hb[16384];
    uint32_t len = A32(2), used = 0;
    uint64_t cookie = A64(3);
    int64_t hoff;
    CHECKED(buf, A32(1), len);
    CHECKED(usedp, A32(4), 4);
    NEED(A32(0), R_FD_READDIR);
    hoff = kiln_vk_dircookie_get(w->vk, (int)A32(0), cookie);
    if (hoff < 0) return done(c, res, hoff);
    while (used < len) {
        ssize_t n = kiln_vk_getdents(w->vk, (int)A32(0), (uint64_t)hoff, hb, sizeof hb), off = 0;
        if (n < 0) return done(c, res, n);
        if (n == 0) break;
        while (off < n && used < len) {
            /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name */
            uint64_t ino = ld64(hb + off), doff = ld64(hb + off + 8);
            uint16_t reclen;
            uint8_t ent[24];
            const char *name = (const char *)hb + off + 19;
            uint32_t nl = (uint32_t)strlen(name), k;
            int r;
            memcpy(&reclen, hb + off + 16, 2);
            r = kiln_vk_dircookie_set(w->vk, (int)A32(0), cookie + 1, doff);
            if (r < 0) return done(c, res, r);
            cookie++;
            st64(ent, cookie);
            st64(ent + 8, ino);
            st32(ent + 16, nl);
            memset(ent + 20, 0, 4);
            st8(ent + 20, dtype(hb[off + 18]));
            k = len - used < 24 ? len - used : 24;
            memcpy(buf + used, ent, k);
            used += k;
            k = len - used < nl ? len - used : nl;
            memcpy(buf + used, name, k);
            used += k;
            hoff = (int64_t)doff;
            off += reclen;
        }
    }
    st32(usedp, used);
    return ok(res, 0);
}

static int wasi_fd_renumber(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    return done(c, res, kiln_vk_renumber(w->vk, (int)A32(0), (int)A32(1)));
}

static int wasi_fd_seek(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                        struct kiln_wasi *w)
{
    static const int wh[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    int64_t r;
    CHECKED(out, A32(3), 8);
    if (A32(2) > 2) return ok(res, W_INVAL);
    NEED(A32(0), (A32(2) == 1 && A64(1) == 0) ? R_FD_TELL : R_FD_SEEK);
    r = kiln_vk_lseek(w->vk, (int)A32(0), (int64_t)A64(1), wh[A32(2)]);
    if (r >= 0) st64(out, (uint64_t)r);
    return done(c, res, r);
}

static int wasi_fd_tell(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                        struct kiln_wasi *w)
{
    int64_t r;
    CHECKED(out, A32(1), 8);
    NEED(A32(0), R_FD_TELL);
    r = kiln_vk_lseek(w->vk, (int)A32(0), 0, SEEK_CUR);
    if (r >= 0) st64(out, (uint64_t)r);
    return done(c, res, r);
}

/* ---- path calls ---- */

/* WASI paths are relative to their directory fd: an absolute path is not a
 * capability the guest holds. */
static int rel_ok(const uint8_t *p, uint32_t len)
{
    return len > 0 && p[0] == '/' ? W_NOTCAPABLE : 0;
}

static int wasi_path_create_directory(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                      struct kiln_wasi *w)
{
    PATH(p, A32(1), A32(2));
    NEED(A32(0), R_PATH_CREATE_DIRECTORY);
    if (rel_ok(p, A32(2))) return ok(res, W_NOTCAPABLE);
    return done(c, res, kiln_vk_mkdirat(w->vk, (int)A32(0), (const char *)p, A32(2), 0777));
}

static int wasi_path_filestat_get(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                  struct kiln_wasi *w)
{
    struct stat st;
    int r;
    PATH(p, A32(2), A32(3));
    CHECKED(out, A32(4), 64);
    NEED(A32(0), R_PATH_FILESTAT_GET);
    if (rel_ok(p, A32(3))) return ok(res, W_NOTCAPABLE);
    r = kiln_vk_fstatat(w->vk, (int)A32(0), (const char *)p, A32(3), &st,
                        (A32(1) & 1) ? 0 : AT_SYMLINK_NOFOLLOW);
    if (r == 0) put_filestat(out, &st);
    return done(c, res, r);
}

static int wasi_path_filestat_set_times(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                        struct kiln_wasi *w)
{
    struct timespec t[2];
    PATH(p, A32(2), A32(3));
    NEED(A32(0), R_PATH_FILESTAT_SET_TIMES);
    if (rel_ok(p, A32(3))) return ok(res, W_NOTCAPABLE);
    if (times_of(A64(4), A64(5), A32(6), t)) return ok(res, W_INVAL);
    return done(c, res,
                kiln_vk_utimensat(w->vk, (int)A32(0), (const char *)p, A32(3), t,
                                  (A32(1) & 1) ? 0 : AT_SYMLINK_NOFOLLOW));
}

static int wasi_path_link(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    PATH(op, A32(2), A32(3));
    PATH(np, A32(5), A32(6));
    NEED(A32(0), R_PATH_LINK_SOURCE);
    NEED(A32(4), R_PATH_LINK_TARGET);
    if (rel_ok(op, A32(3)) || rel_ok(np, A32(6))) return ok(res, W_NOTCAPABLE);
    return done(c, res,
                kiln_vk_linkat(w->vk, (int)A32(0), (const char *)op, A32(3), (int)A32(4),
                               (const char *)np, A32(6), (A32(1) & 1) ? AT_SYMLINK_FOLLOW : 0));
}

static int wasi_path_open(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    const struct kiln_vk_fd *dir;
    uint32_t dirflags = A32(1), of = A32(4), fdfl = A32(7);
    uint64_t base = A64(5), inh = A64(6), need_r = R_PATH_OPEN, maxb, maxi;
    int flags = O_RDONLY, fd;
    bool rd, wr;
    PATH(p, A32(2), A32(3));
    CHECKED(out, A32(8), 4);
    if (of & ~15u || fdfl & ~31u) return ok(res, W_INVAL);
    if (of & 1) need_r |= R_PATH_CREATE_FILE;
    if (of & 8) need_r |= R_PATH_FILESTAT_SET_SIZE;
    NEED(A32(0), need_r);
    dir = kiln_vk_fd_get(w->vk, (int)A32(0));
    if ((base & ~dir->rights_inh) || (inh & ~dir->rights_inh)) return ok(res, W_NOTCAPABLE);
    if (rel_ok(p, A32(3))) return ok(res, W_NOTCAPABLE);
    rd = (base & (R_FD_READ | R_FD_READDIR)) != 0;
    wr = (base & (R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE)) != 0;
    if (of & 2) {
        flags = O_RDONLY | O_DIRECTORY;
    } else if (wr) {
        flags = rd ? O_RDWR : O_WRONLY;
    }
    if (of & 1) flags |= O_CREAT;
    if (of & 4) flags |= O_EXCL;
    if (of & 8) flags |= O_TRUNC;
    if (fdfl & 1) flags |= O_APPEND;
    if (fdfl & 2) flags |= O_DSYNC;
    if (fdfl & 4) flags |= O_NONBLOCK;
    if (fdfl & 8) flags |= O_RSYNC;
    if (fdfl & 16) flags |= O_SYNC;
    if (!(dirflags & 1)) flags |= O_NOFOLLOW;
    fd = kiln_vk_openat(w->vk, (int)A32(0), (const char *)p, A32(3), flags, 0666);
    if (fd == -ELOOP && !(dirflags & 1) && !(of & 2)) {
        /* Linux reports a final symlink under O_NOFOLLOW as ELOOP; so does WASI. */
    }
    if (fd < 0) return done(c, res, fd);
    maxb = max_rights(kiln_vk_fd_get(w->vk, fd)->kind, &maxi);
    if (kiln_vk_fd_get(w->vk, fd)->kind == KILN_VK_DIR) maxi = R_ALL;
    kiln_vk_fd_set_rights(w->vk, fd, base & maxb, inh & maxi);
    st32(out, (uint32_t)fd);
    return ok(res, 0);
}

static int wasi_path_readlink(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                              struct kiln_wasi *w)
{
    ssize_t r;
    PATH(p, A32(1), A32(2));
    CHECKED(buf, A32(3), A32(4));
    CHECKED(usedp, A32(5), 4);
    NEED(A32(0), R_PATH_READLINK);
    if (rel_ok(p, A32(2))) return ok(res, W_NOTCAPABLE);
    r = kiln_vk_readlinkat(w->vk, (int)A32(0), (const char *)p, A32(2), (char *)buf, A32(4));
    if (r >= 0) st32(usedp, (uint32_t)r);
    return done(c, res, r);
}

static int wasi_path_remove_directory(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                      struct kiln_wasi *w)
{
    PATH(p, A32(1), A32(2));
    NEED(A32(0), R_PATH_REMOVE_DIRECTORY);
    if (rel_ok(p, A32(2))) return ok(res, W_NOTCAPABLE);
    return done(c, res,
                kiln_vk_unlinkat(w->vk, (int)A32(0), (const char *)p, A32(2), AT_REMOVEDIR));
}

static int wasi_path_rename(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    PATH(op, A32(1), A32(2));
    PATH(np, A32(4), A32(5));
    NEED(A32(0), R_PATH_RENAME_SOURCE);
    NEED(A32(3), R_PATH_RENAME_TARGET);
    if (rel_ok(op, A32(2)) || rel_ok(np, A32(5))) return ok(res, W_NOTCAPABLE);
    return done(c, res,
                kiln_vk_renameat(w->vk, (int)A32(0), (const char *)op, A32(2), (int)A32(3),
                                 (const char *)np, A32(5)));
}

static int wasi_path_symlink(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                             struct kiln_wasi *w)
{
    PATH(op, A32(0), A32(1));
    PATH(np, A32(3), A32(4));
    NEED(A32(2), R_PATH_SYMLINK);
    if (rel_ok(np, A32(4))) return ok(res, W_NOTCAPABLE);
    return done(
        c, res,
        kiln_vk_symlinkat(w->vk, (const char *)op, A32(1), (int)A32(2), (const char *)np, A32(4)));
}

static int wasi_path_unlink_file(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                                 struct kiln_wasi *w)
{
    PATH(p, A32(1), A32(2));
    NEED(A32(0), R_PATH_UNLINK_FILE);
    if (rel_ok(p, A32(2))) return ok(res, W_NOTCAPABLE);
    return done(c, res, kiln_vk_unlinkat(w->vk, (int)A32(0), (const char *)p, A32(2), 0));
}

/* ---- poll ---- */

#define POLL_MAX 1024

static int wasi_poll_oneoff(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    uint32_t n = A32(2), i, nev = 0;
    struct kiln_vk_pollfd pf[POLL_MAX];
    int map[POLL_MAX], npf = 0, r;
    int64_t timeout = -1;
    int64_t deadline[POLL_MAX]; /* per clock sub: ns of CLOCK_MONOTONIC, -1 none */
    uint16_t early_err[POLL_MAX];
    struct timespec now;
    if (n == 0) return ok(res, W_INVAL);
    if (n > POLL_MAX) return ok(res, W_INVAL);
    CHECKED(in, A32(0), (uint64_t)n * 48);
    CHECKED(out, A32(1), (uint64_t)n * 32);
    CHECKED(nevp, A32(3), 4);
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (i = 0; i < n; i++) {
        const uint8_t *s = in + i * 48;
        uint8_t tag = s[8];
        deadline[i] = -1;
        early_err[i] = 0;
        map[i] = -1;
        if (tag == 0) {
            uint32_t id = ld32(s + 16);
            uint64_t to = ld64(s + 24);
            uint16_t fl;
            int64_t rel;
            memcpy(&fl, s + 40, 2);
            if (clock_of(id) < 0) {
                early_err[i] = W_INVAL;
                continue;
            }
            if (fl & 1) {
                struct timespec cn;
                int64_t cur;
                kiln_vk_clock_gettime(w->vk, clock_of(id), &cn);
                cur = (int64_t)cn.tv_sec * 1000000000 + cn.tv_nsec;
                rel = (int64_t)to > cur ? (int64_t)to - cur : 0;
            } else {
                rel = to > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)to;
            }
            deadline[i] = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + rel;
            if (timeout < 0 || rel < timeout) timeout = rel;
        } else if (tag == 1 || tag == 2) {
            int fd = (int)ld32(s + 16);
            int e = need(w, fd, R_POLL_FD_READWRITE);
            if (e == W_NOTCAPABLE && kiln_vk_fd_get(w->vk, fd) != NULL)
                e = need(w, fd, tag == 1 ? R_FD_READ : R_FD_WRITE);
            if (e) {
                early_err[i] = (uint16_t)e;
                continue;
            }
            pf[npf].fd = fd;
            pf[npf].events = tag == 1 ? POLLIN : POLLOUT;
            map[i] = npf++;
        } else {
            early_err[i] = W_INVAL;
        }
    }
    for (i = 0; i < n; i++)
        if (early_err[i]) timeout = 0;
    r = kiln_vk_poll(w->vk, pf, npf, timeout);
    if (r == -KILN_VK_EKILL || (r < 0 && r != -EINTR)) return done(c, res, r);
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (i = 0; i < n; i++) {
        const uint8_t *s = in + i * 48;
        uint8_t *e = out + nev * 32;
        uint8_t tag = s[8];
        bool fire = false;
        uint64_t nbytes = 0;
        uint16_t flags = 0, err = early_err[i];
        if (err) {
            fire = true;
        } else if (tag == 0) {
            fire = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec >= deadline[i];
        } else if (map[i] >= 0 && r > 0 && pf[map[i]].revents) {
            short rv = pf[map[i]].revents;
            fire = true;
            if (rv & POLLNVAL) {
                err = W_BADF;
            } else {
                if (rv & POLLHUP) flags |= 1;
                if (tag == 1) {
                    int64_t nr = kiln_vk_nread(w->vk, pf[map[i]].fd);
                    nbytes = nr > 0 ? (uint64_t)nr : 0;
                } else if (rv & POLLERR) {
                    err = W_IO;
                }
            }
        }
        if (!fire) continue;
        memset(e, 0, 32);
        st64(e, ld64(s));
        st16(e + 8, err);
        st8(e + 10, tag);
        if (tag != 0) {
            st64(e + 16, nbytes);
            st16(e + 24, flags);
        }
        nev++;
    }
    st32(nevp, nev);
    return ok(res, 0);
}

/* ---- sockets ---- */

static int wasi_sock_accept(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                            struct kiln_wasi *w)
{
    uint64_t mi, mb;
    int fd;
    CHECKED(out, A32(2), 4);
    NEED(A32(0), R_SOCK_ACCEPT);
    if (A32(1) & ~4u) return ok(res, W_INVAL);
    fd = kiln_vk_accept(w->vk, (int)A32(0), (A32(1) & 4) ? SOCK_NONBLOCK : 0);
    if (fd < 0) return done(c, res, fd);
    mb = max_rights(KILN_VK_SOCKET, &mi);
    kiln_vk_fd_set_rights(w->vk, fd, mb, mi);
    st32(out, (uint32_t)fd);
    return ok(res, 0);
}

static int wasi_sock_recv(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    struct iovec v[IOV_MAX];
    int e, fo = 0;
    ssize_t r;
    CHECKED(lenp, A32(4), 4);
    CHECKED(flp, A32(5), 2);
    NEED(A32(0), R_FD_READ);
    if (A32(3) & ~3u) return ok(res, W_INVAL);
    if ((e = iovs(c, A32(1), A32(2), v)) != 0) return ok(res, e);
    r = kiln_vk_recv(w->vk, (int)A32(0), v, (int)A32(2),
                     ((A32(3) & 1) ? MSG_PEEK : 0) | ((A32(3) & 2) ? MSG_WAITALL : 0), &fo);
    if (r >= 0) {
        st32(lenp, (uint32_t)r);
        st16(flp, (fo & MSG_TRUNC) ? 1 : 0);
    }
    return done(c, res, r);
}

static int wasi_sock_send(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                          struct kiln_wasi *w)
{
    struct iovec v[IOV_MAX];
    int e;
    ssize_t r;
    CHECKED(lenp, A32(4), 4);
    NEED(A32(0), R_FD_WRITE);
    if (A32(3) != 0) return ok(res, W_INVAL);
    if ((e = iovs(c, A32(1), A32(2), v)) != 0) return ok(res, e);
    r = kiln_vk_send(w->vk, (int)A32(0), v, (int)A32(2), 0);
    if (r >= 0) st32(lenp, (uint32_t)r);
    return done(c, res, r);
}

static int wasi_sock_shutdown(struct kiln_caller *c, const uint64_t *a, uint64_t *res,
                              struct kiln_wasi *w)
{
    uint32_t how = A32(1);
    NEED(A32(0), R_SOCK_SHUTDOWN);
    if (how == 0 || how > 3) return ok(res, W_INVAL);
    return done(c, res,
                kiln_vk_shutdown(w->vk, (int)A32(0),
                                 how == 3   ? SHUT_RDWR
                                 : how == 1 ? SHUT_RD
                                            : SHUT_WR));
}

/* ---- the host-function trampoline, linking, running ---- */

/* Per-function entry points: env is the adapter; the index is static. */
#define KILN_WASI_FN(name, params, results, level, linux, note)                                    \
    static int entry_##name(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)    \
    {                                                                                              \
        struct kiln_wasi *w_ = env;                                                                \
        if (FN_##name != FN_proc_exit) kiln_vk_count(w_->vk, FN_##name);                           \
        return wasi_##name(c, a, res, w_);                                                         \
    }
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN

static const kiln_host_fn entries[] = {
#define KILN_WASI_FN(name, params, results, level, linux, note) entry_##name,
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN
};

static size_t strv_bytes(int n, char *const *v)
{
    size_t s = 0;
    int i;
    for (i = 0; i < n; i++)
        s += strlen(v[i]) + 1;
    return s;
}

static char **strv_dup(int n, char *const *v)
{
    char **o = calloc((size_t)n + 1, sizeof *o);
    int i;
    if (o == NULL) return NULL;
    for (i = 0; i < n; i++)
        if ((o[i] = strdup(v[i])) == NULL) {
            while (i-- > 0)
                free(o[i]);
            free(o);
            return NULL;
        }
    return o;
}

static void strv_free(int n, char **v)
{
    int i;
    if (v == NULL) return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Creates the adapter; see vkernel.h. */
int kiln_wasi_new(struct kiln_vk *vk, int argc, char *const *argv, int nenv, char *const *env,
                  struct kiln_wasi **out, struct kiln_error *err)
{
    struct kiln_wasi *w = calloc(1, sizeof *w);
    int i;
    if (w == NULL) goto fail;
    w->vk = vk;
    w->argc = argc;
    w->nenv = nenv;
    w->argv = strv_dup(argc, argv);
    w->env = strv_dup(nenv, env);
    if (w->argv == NULL || w->env == NULL) goto fail;
    w->argv_bytes = strv_bytes(argc, argv);
    w->env_bytes = strv_bytes(nenv, env);
    for (i = 0; i < kiln_vk_fd_limit(vk); i++) {
        const struct kiln_vk_fd *f = kiln_vk_fd_get(vk, i);
        uint64_t mb, mi;
        if (f == NULL) continue;
        mb = max_rights(f->kind, &mi);
        if (f->kind == KILN_VK_CHAR || f->kind == KILN_VK_PIPE || f->kind == KILN_VK_UNKNOWN) {
            int acc = f->oflags & O_ACCMODE;
            if (acc == O_RDONLY)
                mb &= ~R_FD_WRITE;
            else if (acc == O_WRONLY)
                mb &= ~R_FD_READ;
        }
        kiln_vk_fd_set_rights(vk, i, mb, mi);
    }
    kiln_vk_set_abi_names(vk, fn_names, FN__COUNT);
    *out = w;
    return 0;
fail:
    kiln_wasi_free(w);
    return kiln_error_set(err, KILN_E_NOMEM, "wasi: out of memory");
}

/* Frees the adapter. NULL is a no-op. */
void kiln_wasi_free(struct kiln_wasi *w)
{
    if (w == NULL) return;
    strv_free(w->argc, w->argv);
    strv_free(w->nenv, w->env);
    free(w);
}

static uint8_t vt(char ch)
{
    return ch == 'I' ? KILN_I64 : KILN_I32;
}

/* Links every import of mod to a WASI host function; see vkernel.h. */
int kiln_wasi_link(struct kiln_wasi *w, struct kiln_store *store, const struct kiln_module *mod,
                   struct kiln_extern **imports, size_t *nimports, struct kiln_error *err)
{
    uint32_t n = kiln_module_import_count(mod), i;
    struct kiln_extern *ex = calloc(n ? n : 1, sizeof *ex);
    if (ex == NULL) return kiln_error_set(err, KILN_E_NOMEM, "wasi: out of memory");
    for (i = 0; i < n; i++) {
        struct kiln_importdesc d;
        struct kiln_functype ft;
        uint8_t types[16];
        int k, found = -1;
        size_t np, nr, j;
        kiln_module_import(mod, i, &d);
        if (strcmp(d.module, KILN_PROC_MODULE) == 0) { /* guest processes (kiln_proc.c) */
            if (kiln__proc_link(w->vk, store, &d, &ex[i], err) < 0) goto fail;
            continue;
        }
        if (strcmp(d.module, "wasi_snapshot_preview1") != 0 || d.kind != KILN_EXTERN_FUNC) {
            kiln_error_set(err, KILN_E_LINK,
                           "import %s.%s: unknown import (only "
                           "wasi_snapshot_preview1 functions are provided)",
                           d.module, d.name);
            goto fail;
        }
        for (k = 0; k < FN__COUNT; k++)
            if (strcmp(table[k].name, d.name) == 0) found = k;
        if (found < 0) {
            kiln_error_set(err, KILN_E_LINK, "import %s.%s: unknown WASI function", d.module,
                           d.name);
            goto fail;
        }
        np = strlen(table[found].params);
        nr = strlen(table[found].results);
        for (j = 0; j < np; j++)
            types[j] = vt(table[found].params[j]);
        for (j = 0; j < nr; j++)
            types[np + j] = vt(table[found].results[j]);
        ft.nparams = (uint32_t)np;
        ft.nresults = (uint32_t)nr;
        ft.types = types;
        if (d.functype.nparams != ft.nparams || d.functype.nresults != ft.nresults ||
            memcmp(d.functype.types, types, np + nr) != 0) {
            kiln_error_set(err, KILN_E_LINK, "import %s.%s: incompatible import type", d.module,
                           d.name);
            goto fail;
        }
        ex[i].kind = KILN_EXTERN_FUNC;
        ex[i].of.func = kiln_func_new_host(store, &ft, entries[found], w);
        if (ex[i].of.func == NULL) {
            kiln_error_set(err, KILN_E_NOMEM, "wasi: out of memory");
            goto fail;
        }
    }
    *imports = ex;
    *nimports = n;
    return 0;
fail:
    free(ex);
    return err ? -err->code : -KILN_E_LINK;
}

/* Runs a command module; see vkernel.h. */
int kiln_wasi_run(struct kiln_wasi *w, struct kiln_store *store, const struct kiln_module *mod,
                  struct kiln_trap *trap, struct kiln_error *err)
{
    struct kiln_extern *imports = NULL, start;
    struct kiln_instance *inst = NULL;
    struct kiln_trap t;
    size_t n = 0;
    int r, code;
    memset(&t, 0, sizeof t);
    r = kiln_wasi_link(w, store, mod, &imports, &n, err);
    if (r < 0) return r;
    r = kiln_instance_new(store, mod, imports, n, &inst, &t, err);
    free(imports);
    if (r < 0) {
        if (t.kind == KILN_TRAP_EXIT) {
            code = t.exit_code;
            goto exited;
        }
        if (trap) *trap = t;
        kiln_vk_exit(w->vk, 128 + 6, "instantiation failed");
        return r;
    }
    if (!kiln_instance_export(inst, "_start", &start) || start.kind != KILN_EXTERN_FUNC) {
        kiln_vk_exit(w->vk, 1, "no _start");
        return kiln_error_set(err, KILN_E_LINK, "module has no _start function export");
    }
    r = kiln_func_call(store, start.of.func, NULL, 0, NULL, 0, &t);
    if (r == 0) {
        code = 0;
    } else if (t.kind == KILN_TRAP_EXIT) {
        code = t.exit_code;
    } else if (r == -KILN_E_TRAP) {
        char reason[300];
        if (trap) *trap = t;
        snprintf(reason, sizeof reason, "trap: %s", t.msg);
        kiln_vk_exit(w->vk, 128 + 6, reason);
        return 128 + 6;
    } else {
        kiln_vk_exit(w->vk, 1, "bad _start signature");
        return kiln_error_set(err, KILN_E_LINK, "_start has the wrong signature");
    }
exited:
    kiln_vk_exit(w->vk, code, "exit");
    return code;
}
