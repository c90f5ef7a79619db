/*
 * archive_dl.c — libarchive, loaded when an archive is first needed.
 *
 * Why: libarchive's shared object pulls in libxml2, ICU, libstdc++, nettle,
 * liblzma, lz4, bzip2, acl and more; mapping and relocating them costs every
 * `kiln` start about 1.2 ms, which is a third of a warm `kiln run` that never
 * reads an archive (the image is an OCI layout and its rootfs is cached).
 * So `kiln` does not link libarchive: this file defines the libarchive
 * functions kiln_image uses (same prototypes as <archive.h>, which the
 * compiler checks) as trampolines into the real library, which
 * kiln__archive_load() opens with dlopen(KILN_LIBARCHIVE_SONAME) and resolves
 * all at once.
 *
 * Invariants: kiln__archive_load() is called (and has succeeded) before any
 * archive_* call — by the entry points that use archives (kiln__source_open
 * of a tar, kiln_image_extract, kiln_image_write); it is idempotent and
 * thread-safe (pthread_once), and the table is written only inside it, so
 * the extraction's decompressor thread reads a complete table. A trampoline
 * reached without a loaded library is a bug: it aborts. The library is the
 * system's (the same search the dynamic linker does at exec, so distribution
 * security updates apply); nothing here maps writable+executable memory.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <archive.h>
#include <archive_entry.h>

#include "image/image_internal.h"

#ifndef KILN_LIBARCHIVE_SONAME
#define KILN_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

/* X(return type, name, (parameters), (arguments)) for functions returning a
 * value; V(name, (parameters), (arguments)) for void ones. */
#define KILN_ARCHIVE_FUNCS(X, V)                                                                   \
    X(struct archive_entry *, archive_entry_clear, (struct archive_entry * e), (e))                \
    X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))                        \
    V(archive_entry_free, (struct archive_entry * e), (e))                                         \
    X(la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))                              \
    X(const char *, archive_entry_hardlink, (struct archive_entry * e), (e))                       \
    X(time_t, archive_entry_mtime, (struct archive_entry * e), (e))                                \
    X(int, archive_entry_mtime_is_set, (struct archive_entry * e), (e))                            \
    X(long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))                             \
    X(struct archive_entry *, archive_entry_new, (void), ())                                       \
    X(const char *, archive_entry_pathname, (struct archive_entry * e), (e))                       \
    X(__LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))                            \
    V(archive_entry_set_filetype, (struct archive_entry * e, unsigned int t), (e, t))              \
    V(archive_entry_set_gid, (struct archive_entry * e, la_int64_t g), (e, g))                     \
    V(archive_entry_set_mtime, (struct archive_entry * e, time_t s, long ns), (e, s, ns))          \
    V(archive_entry_set_pathname, (struct archive_entry * e, const char *p), (e, p))               \
    V(archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m), (e, m))                   \
    V(archive_entry_set_size, (struct archive_entry * e, la_int64_t s), (e, s))                    \
    V(archive_entry_set_uid, (struct archive_entry * e, la_int64_t u), (e, u))                     \
    X(la_int64_t, archive_entry_size, (struct archive_entry * e), (e))                             \
    X(int, archive_entry_size_is_set, (struct archive_entry * e), (e))                             \
    X(int, archive_entry_sparse_count, (struct archive_entry * e), (e))                            \
    X(const char *, archive_entry_symlink, (struct archive_entry * e), (e))                        \
    X(la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))                              \
    X(const char *, archive_error_string, (struct archive * a), (a))                               \
    X(la_int64_t, archive_filter_bytes, (struct archive * a, int n), (a, n))                       \
    X(int, archive_filter_code, (struct archive * a, int n), (a, n))                               \
    X(int, archive_filter_count, (struct archive * a), (a))                                        \
    X(const char *, archive_filter_name, (struct archive * a, int n), (a, n))                      \
    X(la_ssize_t, archive_read_data, (struct archive * a, void *b, size_t n), (a, b, n))           \
    X(int, archive_read_data_block,                                                                \
      (struct archive * a, const void **b, size_t *n, la_int64_t *o), (a, b, n, o))                \
    X(int, archive_read_free, (struct archive * a), (a))                                           \
    X(struct archive *, archive_read_new, (void), ())                                              \
    X(int, archive_read_next_header, (struct archive * a, struct archive_entry * *e), (a, e))      \
    X(int, archive_read_open,                                                                      \
      (struct archive * a, void *d, archive_open_callback *o, archive_read_callback *r,            \
       archive_close_callback *c),                                                                 \
      (a, d, o, r, c))                                                                             \
    X(int, archive_read_open_fd, (struct archive * a, int fd, size_t bs), (a, fd, bs))             \
    X(int, archive_read_support_filter_gzip, (struct archive * a), (a))                            \
    X(int, archive_read_support_filter_zstd, (struct archive * a), (a))                            \
    X(int, archive_read_support_format_gnutar, (struct archive * a), (a))                          \
    X(int, archive_read_support_format_raw, (struct archive * a), (a))                             \
    X(int, archive_read_support_format_tar, (struct archive * a), (a))                             \
    X(int, archive_write_add_filter_gzip, (struct archive * a), (a))                               \
    X(int, archive_write_close, (struct archive * a), (a))                                         \
    X(la_ssize_t, archive_write_data, (struct archive * a, const void *b, size_t n), (a, b, n))    \
    X(int, archive_write_free, (struct archive * a), (a))                                          \
    X(int, archive_write_header, (struct archive * a, struct archive_entry * e), (a, e))           \
    X(struct archive *, archive_write_new, (void), ())                                             \
    X(int, archive_write_open,                                                                     \
      (struct archive * a, void *d, archive_open_callback *o, archive_write_callback *w,           \
       archive_close_callback *c),                                                                 \
      (a, d, o, w, c))                                                                             \
    X(int, archive_write_open_fd, (struct archive * a, int fd), (a, fd))                           \
    X(int, archive_write_set_bytes_in_last_block, (struct archive * a, int n), (a, n))             \
    X(int, archive_write_set_bytes_per_block, (struct archive * a, int n), (a, n))                 \
    X(int, archive_write_set_filter_option,                                                        \
      (struct archive * a, const char *m, const char *o, const char *v), (a, m, o, v))             \
    X(int, archive_write_set_format_pax_restricted, (struct archive * a), (a))                     \
    X(int, archive_write_set_format_raw, (struct archive * a), (a))

/* The resolved functions (plus archive_set_error, which is variadic). */
static struct {
#define X(ret, name, params, args) ret(*name) params;
#define V(name, params, args) void(*name) params;
    KILN_ARCHIVE_FUNCS(X, V)
#undef X
#undef V
    void (*archive_set_error)(struct archive *, int, const char *, ...);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[300]; /* "" after a successful load */
static int loaded;

static void load(void)
{
    void *h = dlopen(KILN_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    const char *missing = NULL;
    if (!h) {
        const char *e = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s: %s", KILN_LIBARCHIVE_SONAME,
                 e ? e : "dlopen failed");
        return;
    }
#define RESOLVE(name)                                                                              \
    do {                                                                                           \
        *(void **)&fn.name = dlsym(h, #name);                                                      \
        if (!fn.name && !missing) missing = #name;                                                 \
    } while (0);
#define X(ret, name, params, args) RESOLVE(name)
#define V(name, params, args) RESOLVE(name)
    KILN_ARCHIVE_FUNCS(X, V)
    RESOLVE(archive_set_error)
#undef X
#undef V
#undef RESOLVE
    if (missing) {
        snprintf(load_error, sizeof load_error, "%s: no symbol %s", KILN_LIBARCHIVE_SONAME,
                 missing);
        return;
    }
    loaded = 1;
}

/* Contract in image_internal.h. */
int kiln__archive_load(struct kiln_error *err)
{
    pthread_once(&once, load);
    if (!loaded) return kiln_error_set(err, KILN_E_IO, "libarchive: %s", load_error);
    return 0;
}

/* A trampoline reached before kiln__archive_load succeeded. */
static void not_loaded(const char *name)
{
    fprintf(stderr, "kiln: internal error: %s called before libarchive was loaded\n", name);
    abort();
}

#define X(ret, name, params, args)                                                                 \
    ret name params                                                                                \
    {                                                                                              \
        if (!loaded) not_loaded(#name);                                                            \
        return fn.name args;                                                                       \
    }
#define V(name, params, args)                                                                      \
    void name params                                                                               \
    {                                                                                              \
        if (!loaded) not_loaded(#name);                                                            \
        fn.name args;                                                                              \
    }
KILN_ARCHIVE_FUNCS(X, V)
#undef X
#undef V

void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!loaded) not_loaded("archive_set_error");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn.archive_set_error(a, code, "%s", msg);
}
