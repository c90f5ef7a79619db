/*
 * test_wasi_mock.c — the WASI preview1 adapter against a mock of the
 * engine's embedding API (host functions, caller memory, traps), so every
 * function, its rights checks, errno mapping and bounds checks are tested
 * natively, independent of the interpreter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "kiln/wasm.h"
#include "vk_fixture.h"

/* ---- the mock engine ---- */
#define MEM_SIZE 65536u
struct kiln_memory {
    uint8_t *data;
    uint64_t size;
};
struct kiln_caller {
    struct kiln_memory *mem;
    int trap_kind, exit_code;
    char msg[256];
};
struct kiln_func {
    char name[64];
    kiln_host_fn fn;
    void *env;
    struct kiln_functype type;
};
struct kiln_module {
    int n;
    struct kiln_importdesc d[64];
    uint8_t types[64][16];
};

static struct kiln_func funcs[64];
static int nfuncs;
static const char *creating; /* name of the import being linked */

uint8_t *kiln_memory_data(const struct kiln_memory *m)
{
    return m->data;
}
uint64_t kiln_memory_size(const struct kiln_memory *m)
{
    return m->size;
}
struct kiln_memory *kiln_caller_memory(struct kiln_caller *c)
{
    return c->mem;
}
struct kiln_store *kiln_caller_store(struct kiln_caller *c)
{
    (void)c;
    return NULL;
}
int kiln_caller_trap(struct kiln_caller *c, int kind, int exit_code, const char *fmt, ...)
{
    va_list ap;
    c->trap_kind = kind;
    c->exit_code = exit_code;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return kind;
}
struct kiln_func *kiln_func_new_host(struct kiln_store *s, const struct kiln_functype *t,
                                     kiln_host_fn fn, void *env)
{
    struct kiln_func *f = &funcs[nfuncs++];
    (void)s;
    snprintf(f->name, sizeof f->name, "%s", creating);
    f->fn = fn;
    f->env = env;
    f->type = *t;
    return f;
}
uint32_t kiln_module_import_count(const struct kiln_module *m)
{
    return (uint32_t)m->n;
}
void kiln_module_import(const struct kiln_module *m, uint32_t i, struct kiln_importdesc *out)
{
    *out = m->d[i];
    creating = m->d[i].name;
}
int kiln_instance_new(struct kiln_store *s, const struct kiln_module *m,
                      const struct kiln_extern *im, size_t n, struct kiln_instance **out,
                      struct kiln_trap *t, struct kiln_error *e)
{
    (void)s;
    (void)m;
    (void)im;
    (void)n;
    (void)out;
    (void)t;
    return kiln_error_set(e, KILN_E_LINK, "mock");
}
bool kiln_instance_export(const struct kiln_instance *i, const char *n, struct kiln_extern *o)
{
    (void)i;
    (void)n;
    (void)o;
    return false;
}
int kiln_func_call(struct kiln_store *s, struct kiln_func *f, const struct kiln_val *a, size_t na,
                   struct kiln_val *r, size_t nr, struct kiln_trap *t)
{
    (void)s;
    (void)f;
    (void)a;
    (void)na;
    (void)r;
    (void)nr;
    (void)t;
    return -KILN_E_TRAP;
}

/* ---- fixture: vkernel + adapter + memory + all 46 imports linked ---- */
struct wfx {
    struct fx x;
    struct kiln_wasi *w;
    struct kiln_memory mem;
    struct kiln_caller c;
    struct kiln_module mod;
};

static void add_import(struct kiln_module *m, const char *mod, const char *name, const char *p,
                       const char *r)
{
    struct kiln_importdesc *d = &m->d[m->n];
    size_t i, np = strlen(p), nr = strlen(r);
    memset(d, 0, sizeof *d);
    d->module = mod;
    d->name = name;
    d->kind = KILN_EXTERN_FUNC;
    for (i = 0; i < np; i++)
        m->types[m->n][i] = p[i] == 'I' ? KILN_I64 : KILN_I32;
    for (i = 0; i < nr; i++)
        m->types[m->n][np + i] = r[i] == 'I' ? KILN_I64 : KILN_I32;
    d->functype.nparams = (uint32_t)np;
    d->functype.nresults = (uint32_t)nr;
    d->functype.types = m->types[m->n];
    m->n++;
}

static int setup(void **state)
{
    struct wfx *f = calloc(1, sizeof *f);
    struct kiln_error err;
    struct kiln_extern *ex;
    size_t n;
    char *argv[] = {"prog", "a1", "ärg"};
    char *env[] = {"A=1", "LONGER=two words"};
    if (fx_setup(&f->x) < 0) /* the tree; the vkernel is rebuilt with stdio at 0..2 */
        return -1;
    kiln_vk_free(f->x.vk);
    kiln_vk_new(&f->x.vk, &err);
    kiln_vk_open_audit(f->x.vk, f->x.audit, &err);
    kiln_vk_install_fd(f->x.vk, 0, open("/dev/null", O_RDONLY), 0);
    kiln_vk_install_fd(f->x.vk, 1, open("/dev/null", O_WRONLY), KILN_VK_FD_STDOUT);
    kiln_vk_install_fd(f->x.vk, 2, open("/dev/null", O_WRONLY), KILN_VK_FD_STDOUT);
    f->x.rootfd = kiln_vk_mount(f->x.vk, f->x.root, "/", 0, &err);
    if (f->x.rootfd != 3) return -1;
    if (kiln_wasi_new(f->x.vk, 3, argv, 2, env, &f->w, &err) < 0) return -1;
    f->mem.data = calloc(1, MEM_SIZE);
    f->mem.size = MEM_SIZE;
    f->c.mem = &f->mem;
    nfuncs = 0;
#define KILN_WASI_FN(name, params, results, level, linux, note)                                    \
    add_import(&f->mod, "wasi_snapshot_preview1", #name, params, results);
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN
    if (kiln_wasi_link(f->w, NULL, &f->mod, &ex, &n, &err) < 0) return -1;
    free(ex);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct wfx *f = *state;
    kiln_wasi_free(f->w);
    free(f->mem.data);
    fx_teardown(&f->x);
    free(f);
    return 0;
}

/* Calls WASI function `name` with up to 9 args; returns the errno result. */
static int call(struct wfx *f, const char *name, int na, ...)
{
    uint64_t a[10] = {0}, r[1] = {0xdead};
    va_list ap;
    int i, k;
    va_start(ap, na);
    for (i = 0; i < na; i++)
        a[i] = va_arg(ap, uint64_t);
    va_end(ap);
    for (i = 0; i < nfuncs; i++)
        if (!strcmp(funcs[i].name, name)) {
            f->c.trap_kind = 0;
            k = funcs[i].fn(&f->c, a, r, funcs[i].env);
            if (k != 0) return -k; /* trap */
            return (int)r[0];
        }
    fail_msg("no function %s", name);
    return -1;
}
#define CALL(f, name, ...) call(f, name, PP_NARG(__VA_ARGS__), __VA_ARGS__)
#define PP_NARG(...) PP_NARG_(__VA_ARGS__, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define PP_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, N, ...) N
#define U(x) ((uint64_t)(x))

static uint8_t *M(struct wfx *f, uint32_t p)
{
    return f->mem.data + p;
}
static uint32_t ld32(struct wfx *f, uint32_t p)
{
    uint32_t v;
    memcpy(&v, M(f, p), 4);
    return v;
}
static uint64_t ld64(struct wfx *f, uint32_t p)
{
    uint64_t v;
    memcpy(&v, M(f, p), 8);
    return v;
}
static void st32(struct wfx *f, uint32_t p, uint32_t v)
{
    memcpy(M(f, p), &v, 4);
}
static uint32_t put(struct wfx *f, uint32_t p, const char *s)
{
    memcpy(M(f, p), s, strlen(s));
    return (uint32_t)strlen(s);
}

#define ALL_RIGHTS U(0x3fffffff)
#define RD_RIGHTS U((1 << 1) | (1 << 2) | (1 << 5) | (1 << 21) | (1 << 14))
enum {
    W_BADF = 8,
    W_EXIST = 20,
    W_FAULT = 21,
    W_INVAL = 28,
    W_NOENT = 44,
    W_NOTDIR = 54,
    W_NOTCAPABLE = 76,
    W_PERM = 63,
    W_ISDIR = 31,
    W_NOTEMPTY = 55,
    W_LOOP = 32,
    W_SPIPE = 70,
    W_NOSYS = 52,
    W_NAMETOOLONG = 37
};

static int open_file(struct wfx *f, const char *path, uint32_t oflags, uint64_t rights)
{
    uint32_t l = put(f, 100, path);
    int e =
        CALL(f, "path_open", U(3), U(1), U(100), U(l), U(oflags), rights, ALL_RIGHTS, U(0), U(200));
    return e ? -e : (int)ld32(f, 200);
}

static void test_table(void **state)
{
    (void)state;
    assert_int_equal(kiln_wasi_function_count(), 46);
    assert_int_equal(nfuncs, 46);
    assert_string_equal(kiln_wasi_function_name(0), "args_get");
    assert_int_equal(kiln_wasi_errno(ENOENT), W_NOENT);
    assert_int_equal(kiln_wasi_errno(EBADF), W_BADF);
    assert_int_equal(kiln_wasi_errno(EXDEV), 75);
}

static void test_link_errors(void **state)
{
    struct wfx *f = *state;
    struct kiln_module m;
    struct kiln_extern *ex;
    struct kiln_error err;
    size_t n;
    memset(&m, 0, sizeof m);
    add_import(&m, "wasi_snapshot_preview1", "fd_write", "iii", "i");
    assert_int_equal(kiln_wasi_link(f->w, NULL, &m, &ex, &n, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "fd_write: incompatible import type"));
    memset(&m, 0, sizeof m);
    add_import(&m, "wasi_snapshot_preview1", "fd_frobnicate", "i", "i");
    assert_int_equal(kiln_wasi_link(f->w, NULL, &m, &ex, &n, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "unknown WASI function"));
    memset(&m, 0, sizeof m);
    add_import(&m, "env", "f", "i", "i");
    assert_int_equal(kiln_wasi_link(f->w, NULL, &m, &ex, &n, &err), -KILN_E_LINK);
    assert_non_null(strstr(err.msg, "env.f"));
}

static void test_args_env(void **state)
{
    struct wfx *f = *state;
    assert_int_equal(CALL(f, "args_sizes_get", U(0), U(4)), 0);
    assert_int_equal(ld32(f, 0), 3);
    assert_int_equal(ld32(f, 4), 5 + 3 + 5);
    assert_int_equal(CALL(f, "args_get", U(16), U(64)), 0);
    assert_int_equal(ld32(f, 16), 64);
    assert_string_equal((char *)M(f, ld32(f, 20)), "a1");
    assert_string_equal((char *)M(f, ld32(f, 24)), "ärg");
    assert_int_equal(CALL(f, "environ_sizes_get", U(0), U(4)), 0);
    assert_int_equal(ld32(f, 0), 2);
    assert_int_equal(ld32(f, 4), 4 + 17);
    assert_int_equal(CALL(f, "environ_get", U(16), U(64)), 0);
    assert_string_equal((char *)M(f, ld32(f, 20)), "LONGER=two words");
    /* buffers that do not fit in memory */
    assert_int_equal(CALL(f, "args_get", U(16), U(MEM_SIZE - 4)), W_FAULT);
    assert_int_equal(CALL(f, "environ_get", U(MEM_SIZE - 4), U(64)), W_FAULT);
    assert_int_equal(CALL(f, "args_sizes_get", U(MEM_SIZE - 2), U(0)), W_FAULT);
}

static void test_prestat(void **state)
{
    struct wfx *f = *state;
    assert_int_equal(CALL(f, "fd_prestat_get", U(3), U(0)), 0);
    assert_int_equal(M(f, 0)[0], 0);
    assert_int_equal(ld32(f, 4), 1);
    assert_int_equal(CALL(f, "fd_prestat_dir_name", U(3), U(16), U(1)), 0);
    assert_int_equal(M(f, 16)[0], '/');
    assert_int_equal(CALL(f, "fd_prestat_dir_name", U(3), U(16), U(0)), W_NAMETOOLONG);
    assert_int_equal(CALL(f, "fd_prestat_get", U(1), U(0)), W_BADF);
    assert_int_equal(CALL(f, "fd_prestat_get", U(4), U(0)), W_BADF);
    assert_int_equal(CALL(f, "fd_prestat_get", U(3), U(MEM_SIZE - 4)), W_FAULT);
}

static void test_file_io(void **state)
{
    struct wfx *f = *state;
    int fd = open_file(f, "new.txt", 1 | 8, ALL_RIGHTS);
    assert_true(fd >= 4);
    /* iovecs: "hello " + "wasi" */
    put(f, 1000, "hello wasi");
    st32(f, 300, 1000);
    st32(f, 304, 6);
    st32(f, 308, 1006);
    st32(f, 312, 4);
    assert_int_equal(CALL(f, "fd_write", U(fd), U(300), U(2), U(320)), 0);
    assert_int_equal(ld32(f, 320), 10);
    assert_int_equal(CALL(f, "fd_tell", U(fd), U(320)), 0);
    assert_int_equal(ld64(f, 320), 10);
    assert_int_equal(CALL(f, "fd_seek", U(fd), U((uint64_t)-4), U(1), U(320)), 0);
    assert_int_equal(ld64(f, 320), 6);
    st32(f, 300, 2000);
    st32(f, 304, 100);
    assert_int_equal(CALL(f, "fd_read", U(fd), U(300), U(1), U(320)), 0);
    assert_int_equal(ld32(f, 320), 4);
    assert_memory_equal(M(f, 2000), "wasi", 4);
    assert_int_equal(CALL(f, "fd_pread", U(fd), U(300), U(1), U(0), U(320)), 0);
    assert_int_equal(ld32(f, 320), 10);
    st32(f, 300, 1000);
    st32(f, 304, 5);
    assert_int_equal(CALL(f, "fd_pwrite", U(fd), U(300), U(1), U(20), U(320)), 0);
    assert_int_equal(CALL(f, "fd_filestat_get", U(fd), U(400)), 0);
    assert_int_equal(M(f, 400)[16], 4); /* regular file */
    assert_int_equal(ld64(f, 432), 25); /* size */
    assert_int_equal(CALL(f, "fd_filestat_set_size", U(fd), U(3)), 0);
    assert_int_equal(CALL(f, "fd_filestat_get", U(fd), U(400)), 0);
    assert_int_equal(ld64(f, 432), 3);
    assert_int_equal(CALL(f, "fd_filestat_set_times", U(fd), U(5000000000ull), U(0), U(1)), 0);
    assert_int_equal(CALL(f, "fd_filestat_get", U(fd), U(400)), 0);
    assert_int_equal(ld64(f, 440), 5000000000ull);
    assert_int_equal(CALL(f, "fd_filestat_set_times", U(fd), U(0), U(0), U(3)), W_INVAL);
    assert_int_equal(CALL(f, "fd_advise", U(fd), U(0), U(0), U(1)), 0);
    assert_int_equal(CALL(f, "fd_advise", U(fd), U(0), U(0), U(9)), W_INVAL);
    assert_int_equal(CALL(f, "fd_allocate", U(fd), U(0), U(100)), 0);
    assert_int_equal(CALL(f, "fd_sync", U(fd)), 0);
    assert_int_equal(CALL(f, "fd_datasync", U(fd)), 0);
    assert_int_equal(CALL(f, "fd_seek", U(fd), U(0), U(7), U(320)), W_INVAL);
    assert_int_equal(CALL(f, "fd_close", U(fd)), 0);
    assert_int_equal(CALL(f, "fd_close", U(fd)), W_BADF);
    assert_int_equal(CALL(f, "fd_read", U(fd), U(300), U(1), U(320)), W_BADF);
    /* stdio: writes to /dev/null, seek on a char device */
    st32(f, 300, 1000);
    st32(f, 304, 10);
    assert_int_equal(CALL(f, "fd_write", U(1), U(300), U(1), U(320)), 0);
    assert_int_equal(ld32(f, 320), 10);
}

static void test_rights(void **state)
{
    struct wfx *f = *state;
    int fd = open_file(f, "hello.txt", 0, RD_RIGHTS);
    assert_true(fd >= 0);
    st32(f, 300, 1000);
    st32(f, 304, 1);
    assert_int_equal(CALL(f, "fd_write", U(fd), U(300), U(1), U(320)), W_NOTCAPABLE);
    assert_int_equal(CALL(f, "fd_fdstat_get", U(fd), U(400)), 0);
    assert_int_equal(M(f, 400)[0], 4);
    assert_int_equal(ld64(f, 408), RD_RIGHTS & ~U(1 << 14)); /* READDIR: not a file right */
    /* shrink: drop FD_SEEK; then seeking is refused; growing is refused */
    assert_int_equal(
        CALL(f, "fd_fdstat_set_rights", U(fd), RD_RIGHTS & ~U((1 << 2) | (1 << 14)), U(0)), 0);
    assert_int_equal(CALL(f, "fd_seek", U(fd), U(1), U(0), U(320)), W_NOTCAPABLE);
    assert_int_equal(CALL(f, "fd_fdstat_set_rights", U(fd), ALL_RIGHTS, U(0)), W_NOTCAPABLE);
    /* fdstat flags */
    assert_int_equal(CALL(f, "fd_fdstat_set_flags", U(fd), U(16)), 76); /* no right */
    CALL(f, "fd_close", U(fd));
    fd = open_file(f, "hello.txt", 0, ALL_RIGHTS);
    assert_int_equal(CALL(f, "fd_fdstat_set_flags", U(fd), U(1 | 4)), 0);
    assert_int_equal(CALL(f, "fd_fdstat_get", U(fd), U(400)), 0);
    assert_int_equal(M(f, 402)[0], 1 | 4);
    assert_int_equal(CALL(f, "fd_fdstat_set_flags", U(fd), U(16)), 58);
    CALL(f, "fd_close", U(fd));
    /* a directory fd opened without PATH_OPEN cannot open beneath it */
    {
        uint32_t l = put(f, 100, "sub");
        assert_int_equal(
            CALL(f, "path_open", U(3), U(0), U(100), U(l), U(2), U(1 << 14), U(0), U(0), U(200)),
            0);
        fd = (int)ld32(f, 200);
        l = put(f, 100, "x");
        assert_int_equal(
            CALL(f, "path_open", U(fd), U(0), U(100), U(l), U(1), U(0), U(0), U(0), U(200)),
            W_NOTCAPABLE);
        assert_int_equal(CALL(f, "path_create_directory", U(fd), U(100), U(1)), W_NOTCAPABLE);
    }
}

static void test_path_ops(void **state)
{
    struct wfx *f = *state;
    uint32_t l, l2;
    l = put(f, 100, "dir");
    assert_int_equal(CALL(f, "path_create_directory", U(3), U(100), U(l)), 0);
    assert_int_equal(CALL(f, "path_create_directory", U(3), U(100), U(l)), W_EXIST);
    l = put(f, 100, "dir/f");
    assert_true(open_file(f, "dir/f", 1, ALL_RIGHTS) >= 0);
    l = put(f, 100, "dir");
    assert_int_equal(CALL(f, "path_remove_directory", U(3), U(100), U(l)), W_NOTEMPTY);
    assert_int_equal(CALL(f, "path_unlink_file", U(3), U(100), U(l)), W_ISDIR);
    l = put(f, 100, "dir/f");
    l2 = put(f, 150, "dir/g");
    assert_int_equal(CALL(f, "path_rename", U(3), U(100), U(l), U(3), U(150), U(l2)), 0);
    assert_int_equal(CALL(f, "path_link", U(3), U(0), U(150), U(l2), U(3), U(100), U(l)), 0);
    assert_int_equal(CALL(f, "path_filestat_get", U(3), U(0), U(100), U(l), U(400)), 0);
    assert_int_equal(ld64(f, 424), 2); /* nlink */
    l2 = put(f, 150, "f");
    assert_int_equal(CALL(f, "path_symlink", U(150), U(l2), U(3), U(100), U(l)), W_EXIST);
    l = put(f, 100, "dir/s");
    assert_int_equal(CALL(f, "path_symlink", U(150), U(l2), U(3), U(100), U(l)), 0);
    assert_int_equal(CALL(f, "path_readlink", U(3), U(100), U(l), U(500), U(64), U(600)), 0);
    assert_int_equal(ld32(f, 600), 1);
    assert_int_equal(M(f, 500)[0], 'f');
    assert_int_equal(CALL(f, "path_filestat_get", U(3), U(0), U(100), U(l), U(400)), 0);
    assert_int_equal(M(f, 416)[0], 7); /* symlink */
    assert_int_equal(CALL(f, "path_filestat_get", U(3), U(1), U(100), U(l), U(400)), 0);
    assert_int_equal(M(f, 416)[0], 4); /* followed */
    assert_int_equal(
        CALL(f, "path_filestat_set_times", U(3), U(1), U(100), U(l), U(0), U(7000000000ull), U(4)),
        0);
    assert_int_equal(CALL(f, "path_filestat_get", U(3), U(1), U(100), U(l), U(400)), 0);
    assert_int_equal(ld64(f, 448), 7000000000ull);
    /* O_NOFOLLOW semantics: opening a symlink without SYMLINK_FOLLOW */
    assert_int_equal(
        CALL(f, "path_open", U(3), U(0), U(100), U(l), U(0), RD_RIGHTS, U(0), U(0), U(200)),
        W_LOOP);
    assert_int_equal(CALL(f, "path_unlink_file", U(3), U(100), U(l)), 0);
    /* errors */
    l = put(f, 100, "/etc/passwd");
    assert_int_equal(
        CALL(f, "path_open", U(3), U(1), U(100), U(l), U(0), RD_RIGHTS, U(0), U(0), U(200)),
        W_NOTCAPABLE);
    l = put(f, 100, "../x");
    assert_int_equal(
        CALL(f, "path_open", U(3), U(1), U(100), U(l), U(0), RD_RIGHTS, U(0), U(0), U(200)),
        W_PERM);
    l = put(f, 100, "missing");
    assert_int_equal(
        CALL(f, "path_open", U(3), U(1), U(100), U(l), U(0), RD_RIGHTS, U(0), U(0), U(200)),
        W_NOENT);
    l = put(f, 100, "hello.txt");
    assert_int_equal(
        CALL(f, "path_open", U(3), U(1), U(100), U(l), U(2), RD_RIGHTS, U(0), U(0), U(200)),
        W_NOTDIR);
    assert_int_equal(
        CALL(f, "path_open", U(3), U(1), U(100), U(l), U(16), RD_RIGHTS, U(0), U(0), U(200)),
        W_INVAL);
    assert_int_equal(
        CALL(f, "path_open", U(7), U(1), U(100), U(l), U(0), RD_RIGHTS, U(0), U(0), U(200)),
        W_BADF);
}

static void test_readdir(void **state)
{
    struct wfx *f = *state;
    int fd, i, names = 0;
    uint64_t cookie = 0;
    for (i = 0; i < 10; i++) {
        char n[16];
        snprintf(n, sizeof n, "sub/e%d", i);
        CALL(f, "fd_close", U(open_file(f, n, 1, ALL_RIGHTS)));
    }
    {
        uint32_t l = put(f, 100, "sub");
        assert_int_equal(CALL(f, "path_open", U(3), U(0), U(100), U(l), U(2), ALL_RIGHTS,
                              ALL_RIGHTS, U(0), U(200)),
                         0);
        fd = (int)ld32(f, 200);
    }
    /* a 40-byte buffer holds one entry (24 + name) at a time; the guest
     * continues from the d_next of the last complete entry */
    for (i = 0; i < 100; i++) {
        uint32_t used;
        assert_int_equal(CALL(f, "fd_readdir", U(fd), U(1000), U(40), cookie, U(300)), 0);
        used = ld32(f, 300);
        if (used == 0) break;
        assert_true(used >= 24);
        {
            uint32_t nl = ld32(f, 1016);
            assert_true(24 + nl <= used);
            if (M(f, 1024)[0] == 'e') names++;
            cookie = ld64(f, 1000);
        }
    }
    assert_int_equal(names, 10);
    assert_int_equal(CALL(f, "fd_readdir", U(fd), U(MEM_SIZE - 10), U(40), U(0), U(300)), W_FAULT);
    assert_int_equal(CALL(f, "fd_readdir", U(1), U(1000), U(40), U(0), U(300)), 76);
}

static void test_bounds(void **state)
{
    struct wfx *f = *state;
    int before = 0, after = 0, i, fd = open_file(f, "hello.txt", 0, ALL_RIGHTS);
    /* iovec array at the very end of memory */
    assert_int_equal(CALL(f, "fd_read", U(fd), U(MEM_SIZE - 4), U(1), U(320)), W_FAULT);
    /* huge iovec count */
    assert_int_equal(CALL(f, "fd_read", U(fd), U(300), U(0xffffffffu), U(320)), W_INVAL);
    assert_int_equal(CALL(f, "fd_write", U(1), U(300), U(0x20000000u), U(320)), W_INVAL);
    /* an iovec whose buffer runs past the end; and pointer+length overflow */
    st32(f, 300, MEM_SIZE - 10);
    st32(f, 304, 11);
    assert_int_equal(CALL(f, "fd_read", U(fd), U(300), U(1), U(320)), W_FAULT);
    st32(f, 300, 0xfffffff0u);
    st32(f, 304, 0x20);
    assert_int_equal(CALL(f, "fd_write", U(1), U(300), U(1), U(320)), W_FAULT);
    st32(f, 300, 0);
    st32(f, 304, 0xffffffffu);
    assert_int_equal(CALL(f, "fd_read", U(fd), U(300), U(1), U(320)), W_FAULT);
    /* exactly at the end is fine (zero length) */
    st32(f, 300, MEM_SIZE);
    st32(f, 304, 0);
    assert_int_equal(CALL(f, "fd_read", U(fd), U(300), U(1), U(MEM_SIZE - 4)), 0);
    /* out pointer invalid: nothing is opened */
    for (i = 0; i < kiln_vk_fd_limit(f->x.vk); i++)
        before += kiln_vk_fd_get(f->x.vk, i) != NULL;
    {
        uint32_t l = put(f, 100, "hello.txt");
        assert_int_equal(CALL(f, "path_open", U(3), U(1), U(100), U(l), U(0), RD_RIGHTS, U(0), U(0),
                              U(MEM_SIZE - 2)),
                         W_FAULT);
        assert_int_equal(CALL(f, "path_open", U(3), U(1), U(MEM_SIZE - 3), U(9), U(0), RD_RIGHTS,
                              U(0), U(0), U(200)),
                         W_FAULT);
    }
    for (i = 0; i < kiln_vk_fd_limit(f->x.vk); i++)
        after += kiln_vk_fd_get(f->x.vk, i) != NULL;
    assert_int_equal(before, after);
    assert_int_equal(CALL(f, "random_get", U(MEM_SIZE - 8), U(9)), W_FAULT);
    assert_int_equal(CALL(f, "clock_time_get", U(0), U(0), U(MEM_SIZE - 7)), W_FAULT);
    assert_int_equal(CALL(f, "poll_oneoff", U(MEM_SIZE - 47), U(0), U(1), U(300)), W_FAULT);
    assert_int_equal(CALL(f, "poll_oneoff", U(0), U(0), U(0xffffff), U(300)), W_INVAL);
    /* a memory-less caller */
    f->c.mem = NULL;
    assert_int_equal(CALL(f, "args_sizes_get", U(0), U(4)), W_FAULT);
    f->c.mem = &f->mem;
}

static void test_clock_random_poll(void **state)
{
    struct wfx *f = *state;
    uint8_t zero[32] = {0};
    int fd = open_file(f, "hello.txt", 0, ALL_RIGHTS), p[2];
    assert_int_equal(CALL(f, "clock_time_get", U(1), U(1), U(0)), 0);
    assert_true(ld64(f, 0) > 0);
    assert_int_equal(CALL(f, "clock_res_get", U(0), U(0)), 0);
    assert_true(ld64(f, 0) > 0);
    assert_int_equal(CALL(f, "clock_time_get", U(9), U(1), U(0)), W_INVAL);
    memset(M(f, 100), 0, 32);
    assert_int_equal(CALL(f, "random_get", U(100), U(32)), 0);
    assert_memory_not_equal(M(f, 100), zero, 32);
    assert_int_equal(CALL(f, "sched_yield", U(0)), 0);
    /* poll: 1 ms relative clock + fd_read on a file (ready at once) */
    memset(M(f, 1000), 0, 96);
    memcpy(M(f, 1000), "\x11\0\0\0\0\0\0\0", 8); /* userdata 0x11 */
    M(f, 1008)[0] = 0;                           /* clock */
    st32(f, 1016, 1);                            /* monotonic */
    memcpy(M(f, 1024), &(uint64_t){1000000}, 8); /* 1 ms */
    memcpy(M(f, 1048), "\x22\0\0\0\0\0\0\0", 8);
    M(f, 1056)[0] = 1; /* fd_read */
    st32(f, 1064, (uint32_t)fd);
    assert_int_equal(CALL(f, "poll_oneoff", U(1000), U(2000), U(2), U(300)), 0);
    assert_int_equal(ld32(f, 300), 1);
    assert_int_equal(ld64(f, 2000), 0x22);
    assert_int_equal(M(f, 2010)[0], 1);
    assert_int_equal(ld64(f, 2016), 12); /* nbytes */
    /* only the clock: it fires */
    assert_int_equal(CALL(f, "poll_oneoff", U(1000), U(2000), U(1), U(300)), 0);
    assert_int_equal(ld32(f, 300), 1);
    assert_int_equal(ld64(f, 2000), 0x11);
    assert_int_equal(M(f, 2010)[0], 0);
    /* absolute clock in the past fires at once; a bad fd yields BADF */
    M(f, 1040)[0] = 1;
    memcpy(M(f, 1024), &(uint64_t){1}, 8);
    st32(f, 1064, 999);
    assert_int_equal(CALL(f, "poll_oneoff", U(1000), U(2000), U(2), U(300)), 0);
    assert_int_equal(ld32(f, 300), 2);
    assert_int_equal(M(f, 2032 + 8)[0], W_BADF);
    /* a pipe with nothing to read: only the clock fires */
    assert_int_equal(kiln_vk_pipe(f->x.vk, p, 0), 0);
    kiln_vk_fd_set_rights(f->x.vk, p[0], ALL_RIGHTS, 0);
    M(f, 1040)[0] = 0;
    memcpy(M(f, 1024), &(uint64_t){2000000}, 8);
    st32(f, 1064, (uint32_t)p[0]);
    assert_int_equal(CALL(f, "poll_oneoff", U(1000), U(2000), U(2), U(300)), 0);
    assert_int_equal(ld32(f, 300), 1);
    assert_int_equal(ld64(f, 2000), 0x11);
    assert_int_equal(CALL(f, "poll_oneoff", U(1000), U(2000), U(0), U(300)), W_INVAL);
}

static void test_renumber_exit_raise(void **state)
{
    struct wfx *f = *state;
    int a = open_file(f, "hello.txt", 0, ALL_RIGHTS), b = open_file(f, "sub", 2, ALL_RIGHTS);
    assert_int_equal(CALL(f, "fd_renumber", U(a), U(b)), 0);
    assert_int_equal(CALL(f, "fd_fdstat_get", U(b), U(400)), 0);
    assert_int_equal(M(f, 400)[0], 4);
    assert_int_equal(CALL(f, "fd_renumber", U(a), U(b)), W_BADF);
    assert_int_equal(CALL(f, "proc_raise", U(6)), W_NOSYS);
    assert_int_equal(CALL(f, "proc_exit", U(42)), -KILN_TRAP_EXIT);
    assert_int_equal(f->c.exit_code, 42);
}

static void test_sockets(void **state)
{
    struct wfx *f = *state;
    struct kiln_error err;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int lfd = kiln_vk_listen(f->x.vk, "tcp:127.0.0.1:0", &err), cli, s;
    char buf[16] = {0};
    uint64_t mi;
    (void)mi;
    assert_true(lfd > 3);
    kiln_vk_fd_set_rights(f->x.vk, lfd, U(1 << 29) | U(1 << 27) | U(1 << 21), 0);
    getsockname(kiln_vk_fd_get(f->x.vk, lfd)->host, (struct sockaddr *)&sa, &sl);
    cli = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cli, (struct sockaddr *)&sa, sl), 0);
    assert_int_equal(CALL(f, "sock_accept", U(lfd), U(0), U(200)), 0);
    s = (int)ld32(f, 200);
    assert_int_equal(write(cli, "ping", 4), 4);
    st32(f, 300, 1000);
    st32(f, 304, 16);
    assert_int_equal(CALL(f, "sock_recv", U(s), U(300), U(1), U(1), U(320), U(324)), 0); /* peek */
    assert_int_equal(ld32(f, 320), 4);
    assert_int_equal(CALL(f, "sock_recv", U(s), U(300), U(1), U(0), U(320), U(324)), 0);
    assert_memory_equal(M(f, 1000), "ping", 4);
    put(f, 1000, "pong");
    st32(f, 304, 4);
    assert_int_equal(CALL(f, "sock_send", U(s), U(300), U(1), U(0), U(320)), 0);
    assert_int_equal(ld32(f, 320), 4);
    assert_int_equal(read(cli, buf, sizeof buf), 4);
    assert_string_equal(buf, "pong");
    assert_int_equal(CALL(f, "sock_shutdown", U(s), U(2)), 0);
    assert_int_equal(CALL(f, "sock_shutdown", U(s), U(0)), W_INVAL);
    assert_int_equal(CALL(f, "sock_send", U(s), U(300), U(1), U(0), U(320)), 64); /* EPIPE */
    assert_int_equal(CALL(f, "sock_accept", U(s), U(0), U(200)), 76);
    assert_int_equal(CALL(f, "sock_recv", U(3), U(300), U(1), U(0), U(320), U(324)), 76);
    assert_int_equal(fx_audit_count(&f->x, "\"event\":\"accept\""), 1);
    close(cli);
}

static void test_policy_kill_traps(void **state)
{
    struct wfx *f = *state;
    struct kiln_vk_policy *p;
    struct kiln_error err;
    const char *j = "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_KILL\"}}";
    assert_int_equal(kiln_vk_policy_parse(j, strlen(j), "k", &p, &err), 0);
    kiln_vk_set_policy(f->x.vk, p);
    assert_int_equal(CALL(f, "random_get", U(0), U(4)), -KILN_TRAP_HOST);
    assert_non_null(strstr(f->c.msg, "killed by policy"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_table),
        T(test_link_errors),
        T(test_args_env),
        T(test_prestat),
        T(test_file_io),
        T(test_rights),
        T(test_path_ops),
        T(test_readdir),
        T(test_bounds),
        T(test_clock_random_poll),
        T(test_renumber_exit_raise),
        T(test_sockets),
        T(test_policy_kill_traps),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
