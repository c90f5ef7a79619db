/*
 * extract.c — layers -> root filesystem, safely.
 *
 * Pipeline per layer, in two threads:
 *   [decompressor thread] blob bytes (pread) --sha256--> libarchive "raw"
 *   reader with the gzip and zstd filters (decompression) -> a ring of
 *   RING_N buffers ->
 *   [calling thread] --sha256 (diff_id), byte bound--> libarchive tar reader
 *   -> one entry at a time -> apply().
 *   The decompressor thread owns the blob, its hash and the raw reader while
 *   it runs; the calling thread owns everything else. A failure on either
 *   side stops both (the ring's `stop` / `done` flags) before the layer's
 *   result is decided, and the thread is always joined before return.
 *
 * Invariants:
 *   - the output root is a temporary directory beside the target, created by
 *     us with mode 0700; its dirfd (rootfd) is the only anchor. A parent
 *     directory is opened with openat2(rootfd, parent, O_PATH|O_DIRECTORY,
 *     RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS); the last component is then
 *     created with *at() calls that never follow a final symlink (O_EXCL,
 *     mkdirat, symlinkat, linkat without AT_SYMLINK_FOLLOW, mkfifoat). So a
 *     symlink planted by one entry can redirect a later one only within the
 *     root, and any escape (absolute or `..` symlink) fails with EXDEV and is
 *     refused.
 *   - entry names are normalized lexically first: absolute paths and `..`
 *     components are refused outright, `.` and empty components dropped.
 *   - an entry name may appear once per layer (duplicates are refused);
 *     whiteouts and opaque markers only remove what lower layers created.
 *   - a digest mismatch is only known at the end of a layer; by then the
 *     entries sit in the temporary directory, which is removed on failure,
 *     so unverified content never becomes visible at the target path.
 *   - directory modes are applied in a final pass (children first), so
 *     read-only directories do not block extraction; the pass opens each
 *     directory with O_NOFOLLOW beneath the root and fchmods the fd.
 *   - with opt.sparse_data (kiln convert's analysis tree) a regular file that
 *     cannot be code (no execute bit, no .wasm name, no ELF/wasm/#! magic in
 *     its first block) is still read and hashed in full but not written: it
 *     becomes a hole of its size. Never used for a rootfs that runs.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/image_internal.h"

/* ---------------------------------------------------------- path set --- */

/* Open-addressing set of strings (FNV-1a). */
struct pathset {
    char **slot;
    size_t cap, n;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int set_has(const struct pathset *s, const char *p)
{
    if (!s->cap) return 0;
    for (size_t i = fnv(p) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i]) return 0;
        if (strcmp(s->slot[i], p) == 0) return 1;
    }
}

/* Adds p (copied). Returns 0, or -ENOMEM. */
static int set_add(struct pathset *s, const char *p)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        char **ns = calloc(ncap, sizeof *ns);
        if (!ns) return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t j = fnv(s->slot[i]) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = ns;
        s->cap = ncap;
    }
    size_t i = fnv(p) & (s->cap - 1);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    if (!(s->slot[i] = strdup(p))) return -ENOMEM;
    s->n++;
    return 0;
}

static void set_clear(struct pathset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------ context --- */

struct dirfix {
    char *path; /* normalized, "" = root */
    mode_t mode;
};

struct xctx {
    struct kiln_image *img;
    const struct kiln_image_limits *lim;
    struct kiln_image_stats st;
    struct kiln_error *err;
    int rootfd;
    /* current layer */
    const char *lname; /* digest (or diff_id / member name) for messages */
    struct kiln__blob blob;
    struct kiln_sha256 blob_hash, diff_hash;
    struct archive *raw; /* decompressor */
    uint64_t layer_bytes;
    int stream_rc;        /* set by tar_read_cb when it fails */
    char stream_msg[300]; /* and why */
    uint8_t blobbuf[1 << 16];
    struct ring *ring;          /* decompressed data between the threads */
    struct pathset layer_paths; /* names written by this layer */
    struct dirfix *dirs;
    size_t ndirs, capdirs;
    bool root_mode_set;
};

static int openat2_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags | O_CLOEXEC;
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r;
    do {
        r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    } while (r < 0 && errno == EAGAIN);
    return r < 0 ? -errno : (int)r;
}

/* Contract in kiln/image.h. */
int kiln_image_remove_tree_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return -errno;
        DIR *d = fdopendir(fd);
        struct dirent *de;
        if (!d) {
            int e = errno;
            close(fd);
            return -e;
        }
        /* passes until one removes nothing: readdir while unlinking may miss entries */
        for (int removed = 1; removed;) {
            removed = 0;
            rewinddir(d);
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
                int r = kiln_image_remove_tree_at(fd, de->d_name);
                if (r < 0) {
                    closedir(d);
                    return r;
                }
                removed = 1;
            }
        }
        closedir(d);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0) return -errno;
        return 0;
    }
    return unlinkat(dirfd, name, 0) != 0 ? -errno : 0;
}

/* Lexical normalization: refuses absolute paths and `..`, drops `.` and empty
 * components. out gets "" for the root. Returns NULL or the reason. */
static const char *normalize(const char *in, char *out, size_t n)
{
    size_t o = 0;
    const char *p = in;
    if (!in || !*in) return "empty path";
    if (in[0] == '/') return "absolute path";
    while (*p) {
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - s);
        while (*p == '/')
            p++;
        if (len == 0 || (len == 1 && s[0] == '.')) continue;
        if (len == 2 && s[0] == '.' && s[1] == '.') return "`..` component";
        if (o + len + 2 > n) return "path too long";
        if (o) out[o++] = '/';
        memcpy(out + o, s, len);
        o += len;
    }
    out[o] = 0;
    return NULL;
}

static int deny(struct xctx *x, const char *path, const char *why)
{
    return kiln_error_set(x->err, KILN_E_DENIED, "layer %s: entry %.300s: refused: %s", x->lname,
                          path, why);
}

static int sysfail(struct xctx *x, const char *path, const char *what, int e)
{
    if (e == EXDEV || e == ELOOP)
        return deny(x, path, "a symlink on the way leads outside the root filesystem");
    return kiln_error_sys(x->err, e, "layer %s: entry %.300s: %s", x->lname, path, what);
}

/* Opens the directory `parent` ("" = root) beneath the root, creating
 * missing components (mode 0755). Returns an O_PATH fd or negative (err set). */
static int open_parent(struct xctx *x, const char *parent, const char *entry)
{
    int fd;
    if (!*parent) {
        fd = openat2_beneath(x->rootfd, ".", O_PATH | O_DIRECTORY, 0);
        return fd < 0 ? sysfail(x, entry, "open root", -fd) : fd;
    }
    fd = openat2_beneath(x->rootfd, parent, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0) return fd;
    if (fd != -ENOENT) {
        if (fd == -ENOTDIR) return deny(x, entry, "a parent component is not a directory");
        return sysfail(x, entry, "open parent directory", -fd);
    }
    /* create the missing components one by one */
    char buf[4096];
    size_t len = strlen(parent);
    if (len >= sizeof buf) return deny(x, entry, "path too long");
    memcpy(buf, parent, len + 1);
    for (size_t i = 0; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char save = buf[i];
        buf[i] = 0;
        int cfd = openat2_beneath(x->rootfd, buf, O_PATH | O_DIRECTORY, 0);
        if (cfd == -ENOENT) {
            char *slash = strrchr(buf, '/');
            const char *comp = slash ? slash + 1 : buf;
            int pfd;
            if (slash) {
                *slash = 0;
                pfd = openat2_beneath(x->rootfd, buf, O_PATH | O_DIRECTORY, 0);
                *slash = '/';
            } else {
                pfd = openat2_beneath(x->rootfd, ".", O_PATH | O_DIRECTORY, 0);
            }
            if (pfd < 0) return sysfail(x, entry, "open parent directory", -pfd);
            if (mkdirat(pfd, comp, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                close(pfd);
                return sysfail(x, entry, "create parent directory", e);
            }
            close(pfd);
            cfd = openat2_beneath(x->rootfd, buf, O_PATH | O_DIRECTORY, 0);
        }
        if (cfd < 0) {
            if (cfd == -ENOTDIR || cfd == -ENOENT)
                return deny(x, entry, "a parent component is not a directory");
            return sysfail(x, entry, "open parent directory", -cfd);
        }
        buf[i] = save;
        if (save == 0) return cfd;
        close(cfd);
    }
    return sysfail(x, entry, "open parent directory", ENOENT);
}

static int add_dirfix(struct xctx *x, const char *path, mode_t mode)
{
    if (x->ndirs == x->capdirs) {
        size_t ncap = x->capdirs ? x->capdirs * 2 : 64;
        void *p = realloc(x->dirs, ncap * sizeof *x->dirs);
        if (!p) return kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
        x->dirs = p;
        x->capdirs = ncap;
    }
    if (!(x->dirs[x->ndirs].path = strdup(path)))
        return kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
    x->dirs[x->ndirs++].mode = mode;
    return 0;
}

static void split(char *path, const char **parent, const char **base)
{
    char *slash = strrchr(path, '/');
    if (slash) {
        *slash = 0;
        *parent = path;
        *base = slash + 1;
    } else {
        *parent = "";
        *base = path;
    }
}

/* Applies an opaque marker: removes every child of dir not written by this layer. */
static int apply_opaque(struct xctx *x, const char *dir, const char *entry)
{
    int fd = openat2_beneath(x->rootfd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY, 0);
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;
    if (fd == -ENOENT) return 0;
    if (fd < 0) return sysfail(x, entry, "open opaque directory", -fd);
    int dfd = dup(fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0) close(dfd);
        close(fd);
        return sysfail(x, entry, "read opaque directory", errno);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            void *p = realloc(names, cap * sizeof *names);
            if (!p) {
                rc = kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
                goto out;
            }
            names = p;
        }
        if (!(names[n] = strdup(de->d_name))) {
            rc = kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    for (i = 0; i < n; i++) {
        char child[4200];
        snprintf(child, sizeof child, "%s%s%s", dir, *dir ? "/" : "", names[i]);
        if (set_has(&x->layer_paths, child)) continue;
        int r = kiln_image_remove_tree_at(fd, names[i]);
        if (r < 0) {
            rc = sysfail(x, entry, "remove for opaque directory", -r);
            goto out;
        }
    }
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    close(fd);
    return rc;
}

/* True when the first bytes of a file say it may be code (sparse_data). */
static bool code_magic(const uint8_t *p, size_t len)
{
    return (len >= 4 && (!memcmp(p,
                                 "\x7f"
                                 "ELF",
                                 4) ||
                         !memcmp(p, "\0asm", 4))) ||
           (len >= 2 && p[0] == '#' && p[1] == '!');
}

/* Writes the entry's data (holes stay holes); with maybe_data (sparse_data and
 * neither an execute bit nor a .wasm name), a file whose first bytes are not
 * code magic is read through (the layer digests need every byte) but not
 * written: it becomes a hole of its size. */
static int write_data(struct xctx *x, struct archive *a, int fd, const char *path, int64_t size,
                      bool maybe_data)
{
    const void *buf;
    size_t len;
    la_int64_t off;
    bool first = true, skip = false;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            if (x->stream_rc) return x->stream_rc;
            return kiln_error_set(x->err, KILN_E_MALFORMED, "layer %s: entry %.300s: %s", x->lname,
                                  path, archive_error_string(a));
        }
        const uint8_t *p = buf;
        if (first && maybe_data && len) skip = off != 0 || !code_magic(p, len);
        if (len) first = false;
        if (skip) continue;
        while (len) {
            ssize_t w = pwrite(fd, p, len, off);
            if (w < 0) {
                if (errno == EINTR) continue;
                return sysfail(x, path, "write", errno);
            }
            p += w;
            len -= (size_t)w;
            off += w;
        }
    }
    if (ftruncate(fd, size) != 0) return sysfail(x, path, "truncate", errno);
    return 0;
}

static void set_times(int dirfd, const char *base, struct archive_entry *e, int is_link)
{
    if (archive_entry_mtime_is_set(e)) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
        ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
        (void)utimensat(dirfd, base, ts, is_link ? AT_SYMLINK_NOFOLLOW : 0);
    }
}

/* Owner (when asked and root) then times; never follows a final symlink. */
static void set_owner_times(struct xctx *x, int dirfd, const char *base, struct archive_entry *e,
                            int is_link)
{
    if (x->img->opt.keep_owner && geteuid() == 0)
        (void)fchownat(dirfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                       AT_SYMLINK_NOFOLLOW);
    set_times(dirfd, base, e, is_link);
}

/* Applies one tar entry. */
static int apply(struct xctx *x, struct archive *a, struct archive_entry *e)
{
    const char *raw = archive_entry_pathname(e);
    char path[4200], tmp[4200], lnk[4200];
    const char *why, *parent, *base;
    const char *hl = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    mode_t mode = archive_entry_perm(e) & 07777;
    int pfd = -1, fd = -1, rc = 0;
    struct stat st;
    int exists;

    if (!raw) return deny(x, "(unnamed)", "entry without a path");
    if (strlen(raw) > x->lim->max_path_bytes) return deny(x, raw, "path too long");
    if ((why = normalize(raw, path, sizeof path))) return deny(x, raw, why);
    if (!*path) { /* the root itself */
        if (type == AE_IFDIR) {
            x->root_mode_set = true;
            return add_dirfix(x, "", mode);
        }
        return deny(x, raw, "the root is not a directory");
    }
    if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > x->lim->max_layer_bytes)
        return kiln_error_set(x->err, KILN_E_NOMEM,
                              "layer %s: entry %.300s: %lld bytes, over the layer bound of %llu",
                              x->lname, path, (long long)archive_entry_size(e),
                              (unsigned long long)x->lim->max_layer_bytes);
    memcpy(tmp, path, strlen(path) + 1);
    split(tmp, &parent, &base);

    /* whiteouts */
    if (strncmp(base, ".wh.", 4) == 0) {
        x->st.whiteouts++;
        if (strcmp(base, ".wh..wh..opq") == 0) return apply_opaque(x, parent, raw);
        if (strncmp(base, ".wh..wh.", 8) == 0) { /* aufs bookkeeping (.wh..wh.plnk, ...) */
            x->st.whiteouts--;
            x->st.skipped++;
            return 0;
        }
        const char *victim = base + 4;
        if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
            return deny(x, raw, "whiteout of `.`, `..` or an empty name");
        char vpath[4200];
        snprintf(vpath, sizeof vpath, "%s%s%s", parent, *parent ? "/" : "", victim);
        if (set_has(&x->layer_paths, vpath))
            return deny(x, raw, "whiteout of an entry of the same layer");
        pfd = openat2_beneath(x->rootfd, *parent ? parent : ".", O_PATH | O_DIRECTORY, 0);
        if (pfd == -ENOENT || pfd == -ENOTDIR) return 0;
        if (pfd < 0) return sysfail(x, raw, "open whiteout directory", -pfd);
        int r = kiln_image_remove_tree_at(pfd, victim);
        close(pfd);
        return r < 0 ? sysfail(x, raw, "apply whiteout", -r) : 0;
    }

    if (set_has(&x->layer_paths, path)) return deny(x, raw, "duplicate entry in the layer");
    if (set_add(&x->layer_paths, path) < 0)
        return kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");

    if (!hl) {
        if (type == AE_IFCHR || type == AE_IFBLK) {
            if (!x->img->opt.allow_devices) return deny(x, raw, "device node");
            x->st.skipped++;
            return 0;
        }
        if (type == AE_IFIFO && !x->img->opt.allow_fifos) return deny(x, raw, "FIFO");
        if (type == AE_IFSOCK) {
            x->st.skipped++;
            return 0;
        }
        if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO)
            return deny(x, raw, "unknown entry type");
    }

    pfd = open_parent(x, parent, raw);
    if (pfd < 0) return pfd;
    exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(type == AE_IFDIR && !hl && S_ISDIR(st.st_mode))) {
        int r = kiln_image_remove_tree_at(pfd, base);
        if (r < 0) {
            rc = sysfail(x, raw, "replace lower-layer entry", -r);
            goto out;
        }
        exists = 0;
    }

    if (hl) {
        const char *tparent, *tbase;
        if (strlen(hl) > x->lim->max_path_bytes) {
            rc = deny(x, raw, "hard link target path too long");
            goto out;
        }
        if ((why = normalize(hl, lnk, sizeof lnk))) {
            char w[128];
            snprintf(w, sizeof w, "hard link target: %s", why);
            rc = deny(x, raw, w);
            goto out;
        }
        if (!*lnk || !strcmp(lnk, path)) {
            rc = deny(x, raw, "hard link to itself or to the root");
            goto out;
        }
        split(lnk, &tparent, &tbase);
        int tfd = openat2_beneath(x->rootfd, *tparent ? tparent : ".", O_PATH | O_DIRECTORY, 0);
        if (tfd < 0) {
            rc = tfd == -ENOENT || tfd == -ENOTDIR
                     ? deny(x, raw, "hard link to a missing file")
                     : sysfail(x, raw, "open hard link target directory", -tfd);
            goto out;
        }
        struct stat tst;
        if (fstatat(tfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) != 0) {
            close(tfd);
            rc = deny(x, raw, "hard link to a missing file");
            goto out;
        }
        if (S_ISDIR(tst.st_mode)) {
            close(tfd);
            rc = deny(x, raw, "hard link to a directory");
            goto out;
        }
        if (linkat(tfd, tbase, pfd, base, 0) != 0) {
            int eno = errno;
            close(tfd);
            rc = sysfail(x, raw, "hard link", eno);
            goto out;
        }
        close(tfd);
        x->st.hardlinks++;
        goto out;
    }

    switch (type) {
    case AE_IFDIR:
        if (!exists && mkdirat(pfd, base, 0700) != 0) {
            rc = sysfail(x, raw, "mkdir", errno);
            goto out;
        }
        if (x->img->opt.keep_owner && geteuid() == 0)
            (void)fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                           AT_SYMLINK_NOFOLLOW);
        x->st.dirs++;
        rc = add_dirfix(x, path, mode);
        break;
    case AE_IFREG:
        if ((mode & 06000) && !x->img->opt.allow_setuid) {
            mode &= ~(mode_t)06000;
            x->st.stripped_setid++;
        }
        fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            rc = sysfail(x, raw, "create", errno);
            goto out;
        }
        {
            size_t bl = strlen(base);
            bool maybe_data = x->img->opt.sparse_data && !(mode & 0111) &&
                              !(bl >= 5 && !strcmp(base + bl - 5, ".wasm"));
            rc = write_data(x, a, fd, raw, archive_entry_size(e), maybe_data);
        }
        if (rc < 0) goto out;
        /* owner first: chown clears setuid/setgid bits */
        if (x->img->opt.keep_owner && geteuid() == 0)
            (void)fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e));
        if (fchmod(fd, mode) != 0) {
            rc = sysfail(x, raw, "chmod", errno);
            goto out;
        }
        close(fd);
        fd = -1;
        set_times(pfd, base, e, 0);
        x->st.files++;
        break;
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target || !*target) {
            rc = deny(x, raw, "symlink without a target");
            goto out;
        }
        if (symlinkat(target, pfd, base) != 0) {
            rc = sysfail(x, raw, "symlink", errno);
            goto out;
        }
        set_owner_times(x, pfd, base, e, 1);
        x->st.symlinks++;
        break;
    }
    case AE_IFIFO:
        if (mkfifoat(pfd, base, mode & 0777) != 0) {
            rc = sysfail(x, raw, "mkfifo", errno);
            goto out;
        }
        set_owner_times(x, pfd, base, e, 0);
        break;
    }
out:
    if (fd >= 0) close(fd);
    if (pfd >= 0) close(pfd);
    return rc;
}

/* ------------------------------------------------------------ streams --- */

/* Decompressed buffers handed from the decompressor thread to the tar
 * reader: slots [head, head + count) are full; the consumer keeps the slot it
 * returned last until its next read (libarchive reads from it until then). */
#define RING_N 8
#define RING_BUF (256u << 10)
struct ring {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[RING_N];
    size_t len[RING_N];
    unsigned head, count;
    bool held; /* the consumer holds slot head - 1 (released at its next read) */
    bool done; /* the producer finished (EOF or error) */
    bool stop; /* the consumer gives up: the producer must end */
    int err;   /* producer: 0, or KILN_E_* (message in msg) */
    char msg[300];
    uint64_t pos; /* blob bytes read so far (progress) */
};

static la_ssize_t raw_read_cb(struct archive *a, void *ud, const void **buf)
{
    struct xctx *x = ud;
    ssize_t n = kiln__blob_read(&x->blob, x->blobbuf, sizeof x->blobbuf);
    if (n < 0) {
        archive_set_error(a, (int)-n, "read layer blob: %s", strerror((int)-n));
        return -1;
    }
    kiln_sha256_update(&x->blob_hash, x->blobbuf, (size_t)n);
    x->st.blob_bytes += (uint64_t)n;
    *buf = x->blobbuf;
    return n;
}

/* The decompressor thread: fills ring slots until EOF, an error or stop,
 * then reads (and hashes) the rest of the blob. */
static void *decompress_main(void *arg)
{
    struct xctx *x = arg;
    struct ring *r = x->ring;
    int err = 0;
    char msg[300] = "";
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->stop && r->count + (r->held ? 1u : 0u) >= RING_N)
            pthread_cond_wait(&r->cv, &r->mu);
        unsigned slot = (r->head + r->count) % RING_N;
        bool stop = r->stop;
        r->pos = x->blob.pos;
        pthread_mutex_unlock(&r->mu);
        if (stop) {
            err = -1; /* stopped: the result no longer matters */
            break;
        }
        la_ssize_t n = archive_read_data(x->raw, r->buf[slot], RING_BUF);
        if (n < 0) {
            err = KILN_E_MALFORMED;
            snprintf(msg, sizeof msg, "%s", archive_error_string(x->raw));
            break;
        }
        if (n == 0) break;
        pthread_mutex_lock(&r->mu);
        r->len[slot] = (size_t)n;
        r->count++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    /* the rest of the blob after the compressed stream: hashed too */
    while (!err) {
        ssize_t n = kiln__blob_read(&x->blob, x->blobbuf, sizeof x->blobbuf);
        if (n < 0) {
            err = KILN_E_IO;
            snprintf(msg, sizeof msg, "read: %s", strerror((int)-n));
        }
        if (n <= 0) break;
        kiln_sha256_update(&x->blob_hash, x->blobbuf, (size_t)n);
        x->st.blob_bytes += (uint64_t)n;
    }
    pthread_mutex_lock(&r->mu);
    r->done = true;
    r->err = err < 0 ? 0 : err;
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    r->pos = x->blob.pos;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static la_ssize_t tar_read_cb(struct archive *a, void *ud, const void **buf)
{
    struct xctx *x = ud;
    struct ring *r = x->ring;
    la_ssize_t n;
    pthread_mutex_lock(&r->mu);
    if (r->held) { /* the previous slot is free again */
        r->held = false;
        pthread_cond_broadcast(&r->cv);
    }
    while (!r->count && !r->done)
        pthread_cond_wait(&r->cv, &r->mu);
    if (r->count) {
        unsigned slot = r->head;
        r->head = (r->head + 1) % RING_N;
        r->count--;
        r->held = true;
        n = (la_ssize_t)r->len[slot];
        *buf = r->buf[slot];
    } else {
        n = r->err ? -1 : 0;
    }
    pthread_mutex_unlock(&r->mu);
    if (n < 0) {
        x->stream_rc = kiln_error_set(x->err, r->err == KILN_E_IO ? KILN_E_IO : KILN_E_MALFORMED,
                                      "layer %s: %s%s", x->lname,
                                      r->err == KILN_E_IO ? "" : "decompression failed: ", r->msg);
        archive_set_error(a, EIO, "decompression failed");
        return -1;
    }
    x->layer_bytes += (uint64_t)n;
    x->st.bytes += (uint64_t)n;
    if (x->layer_bytes > x->lim->max_layer_bytes || x->st.bytes > x->lim->max_total_bytes) {
        x->stream_rc = kiln_error_set(
            x->err, KILN_E_NOMEM, "layer %s: uncompressed size over the bound of %llu bytes%s",
            x->lname,
            (unsigned long long)(x->layer_bytes > x->lim->max_layer_bytes
                                     ? x->lim->max_layer_bytes
                                     : x->lim->max_total_bytes),
            x->layer_bytes > x->lim->max_layer_bytes ? " per layer" : " for the image");
        archive_set_error(a, EFBIG, "size bound");
        return -1;
    }
    if (n) kiln_sha256_update(&x->diff_hash, *buf, (size_t)n);
    return n;
}

/* Starts the decompressor thread for the current layer (x->raw open). */
static int ring_start(struct xctx *x)
{
    struct ring *r = calloc(1, sizeof *r);
    if (!r) return kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
    for (int i = 0; i < RING_N; i++)
        if (!(r->buf[i] = malloc(RING_BUF))) goto nomem;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    x->ring = r;
    if (pthread_create(&r->th, NULL, decompress_main, x) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        x->ring = NULL;
        goto nomem;
    }
    return 0;
nomem:
    for (int i = 0; i < RING_N; i++)
        free(r->buf[i]);
    free(r);
    return kiln_error_set(x->err, KILN_E_NOMEM, "out of memory for the decompressor");
}

/* Stops (if still running) and joins the decompressor; an I/O error it met
 * after the compressed stream becomes x->stream_rc. No-op without a ring. */
static void ring_stop(struct xctx *x)
{
    struct ring *r = x->ring;
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    if (r->err && !x->stream_rc)
        x->stream_rc = kiln_error_set(x->err, r->err, "layer %s: %s%s", x->lname,
                                      r->err == KILN_E_IO ? "" : "decompression failed: ", r->msg);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    for (int i = 0; i < RING_N; i++)
        free(r->buf[i]);
    free(r);
    x->ring = NULL;
}

static int extract_layer(struct xctx *x, size_t li)
{
    struct kiln_image_layer *l = &x->img->layers[li];
    struct archive *t = NULL;
    struct archive_entry *e;
    char hex[65];
    int rc, r;

    x->lname = l->digest[0] ? l->digest : l->diff_id[0] ? l->diff_id : l->source_name;
    x->layer_bytes = 0;
    x->stream_rc = 0;
    set_clear(&x->layer_paths);
    rc = kiln__source_open_file(x->img->src, l->source_name, &x->blob, x->err);
    if (rc < 0) {
        kiln_error_prefix(x->err, "layer %s", x->lname);
        return rc;
    }
    if (l->digest[0] && x->blob.size != l->size) {
        rc =
            kiln_error_set(x->err, KILN_E_VERIFY,
                           "layer %s: size mismatch: descriptor says %llu bytes, blob has %llu",
                           x->lname, (unsigned long long)l->size, (unsigned long long)x->blob.size);
        goto fail;
    }
    kiln_sha256_init(&x->blob_hash);
    kiln_sha256_init(&x->diff_hash);
    x->raw = archive_read_new();
    t = archive_read_new();
    if (!x->raw || !t) {
        rc = kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    archive_read_support_filter_gzip(x->raw);
    archive_read_support_filter_zstd(x->raw);
    archive_read_support_format_raw(x->raw);
    if (archive_read_open(x->raw, x, NULL, raw_read_cb, NULL) != ARCHIVE_OK ||
        archive_read_next_header(x->raw, &e) != ARCHIVE_OK) {
        rc = kiln_error_set(x->err, KILN_E_MALFORMED, "layer %s: %s", x->lname,
                            archive_error_string(x->raw));
        goto fail;
    }
    rc = ring_start(x);
    if (rc < 0) goto fail;
    archive_read_support_format_tar(t);
    archive_read_support_format_gnutar(t);
    if (archive_read_open(t, x, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
        rc = x->stream_rc ? x->stream_rc
                          : kiln_error_set(x->err, KILN_E_MALFORMED, "layer %s: not a tar: %s",
                                           x->lname, archive_error_string(t));
        goto fail;
    }
    for (;;) {
        r = archive_read_next_header(t, &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = x->stream_rc ? x->stream_rc
                              : kiln_error_set(x->err, KILN_E_MALFORMED, "layer %s: tar: %s",
                                               x->lname, archive_error_string(t));
            goto fail;
        }
        if (++x->st.entries > x->lim->max_entries) {
            rc = kiln_error_set(x->err, KILN_E_NOMEM,
                                "layer %s: more than %llu entries in the image", x->lname,
                                (unsigned long long)x->lim->max_entries);
            goto fail;
        }
        rc = apply(x, t, e);
        if (rc < 0) goto fail;
        if (x->img->opt.progress) {
            pthread_mutex_lock(&x->ring->mu);
            uint64_t pos = x->ring->pos;
            pthread_mutex_unlock(&x->ring->mu);
            x->img->opt.progress(x->img->opt.progress_ctx, "layer", x->lname, pos, x->blob.size);
        }
    }
    /* the rest of the decompressed stream (tar padding), then the rest of the blob */
    for (;;) {
        const void *p;
        la_ssize_t n = tar_read_cb(t, x, &p);
        if (n < 0) {
            rc = x->stream_rc;
            goto fail;
        }
        if (n == 0) break;
    }
    /* the decompressor has read (and hashed) the rest of the blob */
    ring_stop(x);
    if (x->stream_rc) {
        rc = x->stream_rc;
        goto fail;
    }
    kiln_sha256_final_hex(&x->blob_hash, hex);
    if (l->digest[0] && strcmp(hex, l->digest + 7) != 0) {
        rc = kiln_error_set(x->err, KILN_E_VERIFY,
                            "layer %s: digest mismatch: blob hashes to sha256:%s", x->lname, hex);
        goto fail;
    }
    kiln_sha256_final_hex(&x->diff_hash, hex);
    if (l->diff_id[0] && strcmp(hex, l->diff_id + 7) != 0) {
        rc = kiln_error_set(x->err, KILN_E_VERIFY,
                            "layer %s: diff_id mismatch: uncompressed tar hashes to sha256:%s, "
                            "config says %s",
                            x->lname, hex, l->diff_id);
        goto fail;
    }
    rc = 0;
fail:
    ring_stop(x);
    if (t) archive_read_free(t);
    if (x->raw) archive_read_free(x->raw);
    x->raw = NULL;
    kiln__blob_close(&x->blob);
    return rc;
}

/* Final pass: directory modes, children first (reverse order), last record
 * for a path wins. */
static int fix_dirs(struct xctx *x)
{
    struct pathset done = {0};
    int rc = 0;
    for (size_t i = x->ndirs; i-- > 0;) {
        const char *p = x->dirs[i].path;
        if (set_has(&done, p)) continue;
        if (set_add(&done, p) < 0) {
            rc = kiln_error_set(x->err, KILN_E_NOMEM, "out of memory");
            break;
        }
        int fd = openat2_beneath(x->rootfd, *p ? p : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (fd < 0) continue; /* replaced by a non-directory later */
        (void)fchmod(fd, x->dirs[i].mode);
        close(fd);
    }
    set_clear(&done);
    return rc;
}

/* Contract in kiln/image.h. */
int kiln_image_extract(struct kiln_image *img, const char *outdir, struct kiln_image_stats *stats,
                       struct kiln_error *err)
{
    struct xctx *x = calloc(1, sizeof *x);
    char *dcopy = NULL, *bcopy = NULL, tmpname[300];
    const char *dname, *bname;
    int parentfd = -1, made = 0, rc;
    struct stat st;
    size_t i;

    if (!x) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    if ((rc = kiln__archive_load(err)) < 0) {
        free(x);
        return rc;
    }
    x->img = img;
    x->lim = &img->opt.limits;
    x->err = err;
    x->rootfd = -1;
    dcopy = strdup(outdir);
    bcopy = strdup(outdir);
    if (!dcopy || !bcopy) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    dname = dirname(dcopy);
    bname = basename(bcopy);
    if (!*bname || !strcmp(bname, "/") || !strcmp(bname, ".") || !strcmp(bname, "..")) {
        rc = kiln_error_set(err, KILN_E_ARG, "%s: not a usable output directory name", outdir);
        goto fail;
    }
    parentfd = open(dname, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (parentfd < 0) {
        rc = kiln_error_sys(err, errno, "%s", dname);
        goto fail;
    }
    if (fstatat(parentfd, bname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        rc = kiln_error_set(err, KILN_E_ARG, "%s: already exists", outdir);
        goto fail;
    }
    for (int tries = 0;; tries++) {
        uint32_t rnd = randombytes_random();
        snprintf(tmpname, sizeof tmpname, ".%.200s.kiln-%08x", bname, rnd);
        if (mkdirat(parentfd, tmpname, 0700) == 0) break;
        if (errno != EEXIST || tries > 16) {
            rc = kiln_error_sys(err, errno, "%s: create temporary directory", dname);
            goto fail;
        }
    }
    made = 1;
    x->rootfd = openat(parentfd, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (x->rootfd < 0) {
        rc = kiln_error_sys(err, errno, "%s/%s", dname, tmpname);
        goto fail;
    }
    for (i = 0; i < img->nlayers; i++) {
        rc = extract_layer(x, i);
        if (rc < 0) goto fail;
    }
    if (!x->root_mode_set && (rc = add_dirfix(x, "", 0755)) < 0) goto fail;
    if ((rc = fix_dirs(x)) < 0) goto fail;
    if (syscall(SYS_renameat2, parentfd, tmpname, parentfd, bname, 1 /* RENAME_NOREPLACE */) != 0) {
        rc = kiln_error_sys(err, errno, "%s: rename into place", outdir);
        goto fail;
    }
    made = 0;
    if (stats) *stats = x->st;
    rc = 0;
fail:
    if (x->rootfd >= 0) close(x->rootfd);
    if (made) (void)kiln_image_remove_tree_at(parentfd, tmpname);
    if (parentfd >= 0) close(parentfd);
    set_clear(&x->layer_paths);
    for (i = 0; i < x->ndirs; i++)
        free(x->dirs[i].path);
    free(x->dirs);
    free(x);
    free(dcopy);
    free(bcopy);
    return rc;
}
