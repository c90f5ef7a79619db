/*
 * analyze.c — classify the executables of a root filesystem, build the
 * dependency graph, and derive a draft policy (docs/policy.md format).
 *
 * Walk: depth-first from the root with dirfds (openat O_NOFOLLOW), so the
 * walk never leaves the rootfs. Candidates: regular files with an execute
 * bit, files named *.wasm; then, breadth-first, every library (DT_NEEDED
 * resolved through RUNPATH and the usual directories) and interpreter
 * (PT_INTERP, `#!`) they reach, even without an execute bit. Guest paths are
 * resolved inside the rootfs by resolve(): symlinks are followed
 * component by component with absolute targets taken relative to the rootfs
 * root and `..` clamped at it, at most 40 links. File contents are read with
 * openat2(RESOLVE_BENEATH) and mmap'd read-only.
 *
 * Invariants: nothing from a file is trusted (ELF via elf.c's bounds-checked
 * reader, wasm via the engine's validator, scripts by bounded line reads);
 * every list is bounded (max_files, the caps in elf.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kiln/image.h"
#include "kiln/wasm.h"
#include "analyze/analyze_internal.h"

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int openat2_beneath(int dirfd, const char *path, int flags)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return r < 0 ? -errno : (int)r;
}

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static int push(char ***v, size_t *n, const char *s)
{
    char *c = strdup(s);
    char **nv = c ? realloc(*v, (*n + 2) * sizeof **v) : NULL;
    if (!nv) {
        free(c);
        return -1;
    }
    *v = nv;
    nv[(*n)++] = c;
    nv[*n] = NULL;
    return 0;
}

static void note(struct kiln_analysis *an, const char *fmt, const char *a, const char *b)
{
    char buf[600];
    snprintf(buf, sizeof buf, fmt, a, b);
    (void)push(&an->notes, &an->nnotes, buf);
}

/* ------------------------------------------------------- file table --- */

static size_t find(const struct kiln_analysis *an, const char *path)
{
    if (!an->nslot) return SIZE_MAX;
    for (size_t i = fnv(path) & (an->nslot - 1);; i = (i + 1) & (an->nslot - 1)) {
        if (!an->slot[i]) return SIZE_MAX;
        if (strcmp(an->files[an->slot[i] - 1].path, path) == 0) return an->slot[i] - 1;
    }
}

/* Adds a file record (path copied) or returns the existing one; SIZE_MAX on
 * NOMEM or the max_files bound. */
static size_t add_file(struct kiln_analysis *an, const char *path)
{
    size_t i = find(an, path);
    if (i != SIZE_MAX) return i;
    if (an->nfiles >= an->opt.max_files) return SIZE_MAX;
    if (an->nfiles == an->cap) {
        size_t ncap = an->cap ? an->cap * 2 : 256;
        void *p = realloc(an->files, ncap * sizeof *an->files);
        if (!p) return SIZE_MAX;
        an->files = p;
        an->cap = ncap;
    }
    if ((an->nfiles + 1) * 2 > an->nslot) {
        size_t ns = an->nslot ? an->nslot * 2 : 512;
        size_t *s = calloc(ns, sizeof *s);
        if (!s) return SIZE_MAX;
        for (size_t k = 0; k < an->nfiles; k++) {
            size_t j = fnv(an->files[k].path) & (ns - 1);
            while (s[j])
                j = (j + 1) & (ns - 1);
            s[j] = k + 1;
        }
        free(an->slot);
        an->slot = s;
        an->nslot = ns;
    }
    struct afile *f = &an->files[an->nfiles];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return SIZE_MAX;
    f->abi = "";
    size_t j = fnv(path) & (an->nslot - 1);
    while (an->slot[j])
        j = (j + 1) & (an->nslot - 1);
    an->slot[j] = an->nfiles + 1;
    return an->nfiles++;
}

static int add_edge(struct kiln_analysis *an, size_t from, size_t to, const char *name,
                    const char *kind)
{
    if (an->nedges == an->capedges) {
        size_t ncap = an->capedges ? an->capedges * 2 : 128;
        void *p = realloc(an->edges, ncap * sizeof *an->edges);
        if (!p) return -1;
        an->edges = p;
        an->capedges = ncap;
    }
    struct edge *e = &an->edges[an->nedges];
    if (!(e->name = strdup(name))) return -1;
    e->from = from;
    e->to = to;
    e->kind = kind;
    an->nedges++;
    return 0;
}

/* ------------------------------------------------------- resolution --- */

/* Resolves guest path `in` inside the rootfs, following symlinks (absolute
 * ones relative to the rootfs), into out ("/a/b"). Returns 0 and sets *st
 * (lstat of the final object, never a symlink), or -ENOENT / -ELOOP / ... */
static int resolve(struct kiln_analysis *an, const char *in, char *out, size_t n, struct stat *st)
{
    char rest[4096], cur[4096], tmp[4096];
    int hops = 0;
    if (snprintf(rest, sizeof rest, "%s", in) >= (int)sizeof rest) return -ENAMETOOLONG;
    cur[0] = 0;
    for (;;) {
        char *p = rest;
        while (*p == '/')
            p++;
        if (!*p) break;
        char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char comp[256];
        if (len >= sizeof comp) return -ENAMETOOLONG;
        memcpy(comp, p, len);
        comp[len] = 0;
        memmove(rest, p + len, strlen(p + len) + 1);
        if (!strcmp(comp, ".")) continue;
        if (!strcmp(comp, "..")) {
            char *s = strrchr(cur, '/');
            if (s) *s = 0;
            continue;
        }
        size_t cl = strlen(cur);
        if (cl + len + 2 > sizeof cur) return -ENAMETOOLONG;
        snprintf(cur + cl, sizeof cur - cl, "/%s", comp);
        struct stat s;
        if (fstatat(an->rootfd, cur + 1, &s, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
        if (S_ISLNK(s.st_mode)) {
            char target[4096];
            ssize_t tl;
            if (++hops > 40) return -ELOOP;
            tl = readlinkat(an->rootfd, cur + 1, target, sizeof target - 1);
            if (tl <= 0) return -EINVAL;
            target[tl] = 0;
            if (snprintf(tmp, sizeof tmp, "%s/%s", target, rest) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
            memcpy(rest, tmp, strlen(tmp) + 1);
            if (target[0] == '/')
                cur[0] = 0;
            else
                cur[cl] = 0; /* drop the link component */
        } else if (rest[0] && !S_ISDIR(s.st_mode)) {
            /* more components follow but this is not a directory */
            char *q = rest;
            while (*q == '/')
                q++;
            if (*q) return -ENOTDIR;
        }
    }
    if (!cur[0]) snprintf(cur, sizeof cur, "/");
    if (fstatat(an->rootfd, cur[1] ? cur + 1 : ".", st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
    if (snprintf(out, n, "%s", cur) >= (int)n) return -ENAMETOOLONG;
    return 0;
}

/* ----------------------------------------------------- classification --- */

static int classify_wasm(struct afile *f, const uint8_t *d, size_t len)
{
    struct kiln_module *m = NULL;
    struct kiln_error err = {0};
    if (kiln_module_new(d, len, NULL, &m, &err) < 0) {
        f->error = strdup(err.msg);
        return 0;
    }
    uint32_t ni = kiln_module_import_count(m), ne = kiln_module_export_count(m);
    for (uint32_t i = 0; i < ni; i++) {
        struct kiln_importdesc id;
        char buf[600];
        kiln_module_import(m, i, &id);
        snprintf(buf, sizeof buf, "%s.%s", id.module, id.name);
        if (strcmp(id.module, WASI_P1) == 0) f->abi = WASI_P1;
        if (push(&f->wimports, &f->nwimports, buf) < 0) goto nomem;
    }
    for (uint32_t i = 0; i < ne; i++) {
        struct kiln_exportdesc ed;
        kiln_module_export(m, i, &ed);
        if (push(&f->wexports, &f->nwexports, ed.name) < 0) goto nomem;
    }
    kiln_module_free(m);
    return 0;
nomem:
    kiln_module_free(m);
    return -1;
}

static void classify_script(struct afile *f, const uint8_t *d, size_t len)
{
    char line[512];
    size_t n = 0, i = 2;
    while (i < len && n + 1 < sizeof line && d[i] != '\n')
        line[n++] = (char)d[i++];
    line[n] = 0;
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    char *e = p;
    while (*e && *e != ' ' && *e != '\t' && *e != '\r')
        e++;
    char save = *e;
    *e = 0;
    f->interp = strdup(p);
    if (save) {
        char *a = e + 1;
        while (*a == ' ' || *a == '\t')
            a++;
        size_t al = strlen(a);
        while (al && (a[al - 1] == ' ' || a[al - 1] == '\r' || a[al - 1] == '\t'))
            a[--al] = 0;
        if (*a) f->interp_arg = strdup(a);
    }
}

static const char *const jit_libs[] = {
    "libv8",       "libnode",      "libLLVM",   "libluajit", "libmozjs",
    "libjvm",      "libpcre2-jit", "libgccjit", "libmono",   "libjavascriptcoregtk",
    "libwasmtime", "libwasmer",    NULL};

static bool is_jit_lib(const char *name)
{
    const char *b = strrchr(name, '/');
    b = b ? b + 1 : name;
    for (int i = 0; jit_libs[i]; i++)
        if (strncmp(b, jit_libs[i], strlen(jit_libs[i])) == 0) return true;
    return false;
}

/* Reads and classifies f (by its resolved path). */
static int classify(struct kiln_analysis *an, struct afile *f)
{
    int fd = openat2_beneath(an->rootfd, f->path + 1, O_RDONLY | O_NOFOLLOW);
    struct stat st;
    uint8_t *d = MAP_FAILED;
    size_t len;
    int rc = 0;

    f->analyzed = true;
    if (fd < 0 || fstat(fd, &st) != 0) {
        f->error = strdup(strerror(fd < 0 ? -fd : errno));
        if (fd >= 0) close(fd);
        return 0;
    }
    f->size = (uint64_t)st.st_size;
    f->mode = st.st_mode & 07777;
    f->executable = (st.st_mode & 0111) != 0;
    len = (size_t)(f->size < an->opt.max_file_bytes ? f->size : an->opt.max_file_bytes);
    if (f->size > an->opt.max_file_bytes)
        f->error = strdup("larger than the analysis bound; head only");
    if (len) {
        d = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (d == MAP_FAILED) {
            f->error = strdup(strerror(errno));
            close(fd);
            return 0;
        }
    }
    close(fd);
    if (len) {
        unsigned char h[32];
        crypto_hash_sha256(h, d, len);
        sodium_bin2hex(f->sha256, sizeof f->sha256, h, sizeof h);
    }
    if (len >= 4 && memcmp(d, "\0asm", 4) == 0) {
        f->kind = KILN_KIND_WASM;
        rc = classify_wasm(f, d, len);
    } else if (len >= 4 && memcmp(d, "\177ELF", 4) == 0) {
        struct kiln_error err = {0};
        f->kind = KILN_KIND_ELF;
        if (kiln_elf_parse(d, len, &f->elf, &err) == 0) {
            f->has_elf = true;
            f->jit = f->elf.jit;
            if (is_jit_lib(f->path)) f->jit |= KILN_JIT_LIBRARY;
        } else {
            free(f->error);
            f->error = strdup(err.msg);
        }
    } else if (len >= 2 && d[0] == '#' && d[1] == '!') {
        f->kind = KILN_KIND_SCRIPT;
        classify_script(f, d, len);
    } else {
        f->kind = KILN_KIND_OTHER;
    }
    if (d != MAP_FAILED) munmap(d, len);
    return rc;
}

/* ------------------------------------------------------------- walk --- */

static int walk(struct kiln_analysis *an, int dirfd, char *path, size_t plen, int depth)
{
    DIR *d;
    struct dirent *de;
    int fd, rc = 0;
    if (depth > 256) return 0;
    fd = openat(dirfd, plen ? path + 1 : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    while ((de = readdir(d))) {
        struct stat st;
        size_t nl = strlen(de->d_name);
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (plen + nl + 2 > 4096) continue;
        path[plen] = '/';
        memcpy(path + plen + 1, de->d_name, nl + 1);
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            rc = walk(an, dirfd, path, plen + 1 + nl, depth + 1);
            if (rc < 0) break;
        } else if (S_ISREG(st.st_mode)) {
            bool wasm = nl > 5 && strcmp(de->d_name + nl - 5, ".wasm") == 0;
            if ((st.st_mode & 0111) || wasm) {
                if (add_file(an, path) == SIZE_MAX) {
                    rc = -1;
                    break;
                }
            }
        }
    }
    path[plen] = 0;
    closedir(d);
    return rc;
}

/* Finds a library by soname: RUNPATH entries ($ORIGIN = the object's
 * directory), then the default directories. */
static int find_library(struct kiln_analysis *an, const struct afile *f, const char *soname,
                        char *out, size_t n)
{
    static const char *const dirs[] = {"/lib/x86_64-linux-gnu",
                                       "/usr/lib/x86_64-linux-gnu",
                                       "/lib/aarch64-linux-gnu",
                                       "/usr/lib/aarch64-linux-gnu",
                                       "/lib64",
                                       "/usr/lib64",
                                       "/lib",
                                       "/usr/lib",
                                       "/usr/local/lib",
                                       NULL};
    char cand[4096];
    struct stat st;
    if (strchr(soname, '/'))
        return resolve(an, soname, out, n, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
    if (f->has_elf && f->elf.runpath) {
        char rp[4096], origin[4096];
        snprintf(origin, sizeof origin, "%s", f->path);
        char *s = strrchr(origin, '/');
        if (s) *s = 0;
        snprintf(rp, sizeof rp, "%s", f->elf.runpath);
        for (char *tok = strtok(rp, ":"); tok; tok = strtok(NULL, ":")) {
            if (strncmp(tok, "$ORIGIN", 7) == 0)
                snprintf(cand, sizeof cand, "%s%s/%s", origin, tok + 7, soname);
            else
                snprintf(cand, sizeof cand, "%s/%s", tok, soname);
            if (resolve(an, cand, out, n, &st) == 0 && S_ISREG(st.st_mode)) return 0;
        }
    }
    for (int i = 0; dirs[i]; i++) {
        snprintf(cand, sizeof cand, "%s/%s", dirs[i], soname);
        if (resolve(an, cand, out, n, &st) == 0 && S_ISREG(st.st_mode)) return 0;
    }
    return -1;
}

/* Looks a command name up on the image's PATH (or resolves an absolute one). */
static int find_command(struct kiln_analysis *an, const char *cmd, char *out, size_t n)
{
    struct stat st;
    char cand[4096];
    if (strchr(cmd, '/')) return resolve(an, cmd, out, n, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
    for (char **d = an->path_dirs; d && *d; d++) {
        snprintf(cand, sizeof cand, "%s/%s", *d, cmd);
        if (resolve(an, cand, out, n, &st) == 0 && S_ISREG(st.st_mode)) return 0;
    }
    return -1;
}

/* Analyzes files[i..] breadth-first, adding dependencies as they appear. */
static int analyze_all(struct kiln_analysis *an)
{
    char res[4096];
    for (size_t i = 0; i < an->nfiles; i++) {
        if (!an->files[i].analyzed && classify(an, &an->files[i]) < 0) return -1;
        struct afile *f = &an->files[i];
        if (f->kind == KILN_KIND_ELF && f->has_elf) {
            if (f->elf.interp) {
                size_t to = SIZE_MAX;
                struct stat st;
                if (resolve(an, f->elf.interp, res, sizeof res, &st) == 0 && S_ISREG(st.st_mode)) {
                    to = add_file(an, res);
                    if (to == SIZE_MAX) return -1;
                    an->files[to].interpreter = true;
                }
                if (add_edge(an, i, to, an->files[i].elf.interp, "interpreter") < 0) return -1;
            }
            for (size_t k = 0; k < an->files[i].elf.nneeded; k++) {
                const char *so = an->files[i].elf.needed[k];
                size_t to = SIZE_MAX;
                if (find_library(an, &an->files[i], so, res, sizeof res) == 0) {
                    to = add_file(an, res);
                    if (to == SIZE_MAX) return -1;
                    an->files[to].library = true;
                }
                if (add_edge(an, i, to, so, "library") < 0) return -1;
            }
        } else if (f->kind == KILN_KIND_SCRIPT && f->interp) {
            const char *want = f->interp;
            size_t to = SIZE_MAX;
            const char *b = strrchr(want, '/');
            /* #!/usr/bin/env prog: the real interpreter is prog on PATH */
            if (b && strcmp(b + 1, "env") == 0 && f->interp_arg) {
                char prog[256];
                snprintf(prog, sizeof prog, "%s", f->interp_arg);
                char *sp = strchr(prog, ' ');
                if (sp) *sp = 0;
                if (strcmp(prog, "-S") != 0) {
                    if (find_command(an, prog, res, sizeof res) == 0) {
                        to = add_file(an, res);
                        if (to == SIZE_MAX) return -1;
                        an->files[to].interpreter = true;
                    }
                    if (add_edge(an, i, to, prog, "script") < 0) return -1;
                    want = NULL;
                }
            }
            if (want) {
                if (find_command(an, want, res, sizeof res) == 0) {
                    to = add_file(an, res);
                    if (to == SIZE_MAX) return -1;
                    an->files[to].interpreter = true;
                }
                if (add_edge(an, i, to, an->files[i].interp, "script") < 0) return -1;
            }
        }
    }
    /* JIT flags through the graph (a few rounds reach transitive deps) */
    for (int round = 0; round < 8; round++) {
        bool changed = false;
        for (size_t e = 0; e < an->nedges; e++) {
            struct edge *ed = &an->edges[e];
            if (ed->to == SIZE_MAX) continue;
            if (an->files[ed->to].jit && !(an->files[ed->from].jit & KILN_JIT_DEPENDENCY)) {
                an->files[ed->from].jit |= KILN_JIT_DEPENDENCY;
                changed = true;
            }
            if (ed->to == SIZE_MAX && is_jit_lib(ed->name))
                an->files[ed->from].jit |= KILN_JIT_LIBRARY;
        }
        if (!changed) break;
    }
    for (size_t e = 0; e < an->nedges; e++)
        if (is_jit_lib(an->edges[e].name)) an->files[an->edges[e].from].jit |= KILN_JIT_LIBRARY;
    return 0;
}

static int set_config(struct kiln_analysis *an, const struct kiln_image_config *cfg)
{
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t n = 0;
    char buf[4096];
    if (cfg && cfg->env)
        for (char **e = cfg->env; *e; e++)
            if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, ":"); tok; tok = strtok(NULL, ":"))
        if (tok[0] == '/' && push(&an->path_dirs, &n, tok) < 0) return -1;
    if (cfg) {
        n = 0;
        for (char **p = cfg->exposed_ports; p && *p; p++)
            if (push(&an->ports, &n, *p) < 0) return -1;
        n = 0;
        for (char **p = cfg->volumes; p && *p; p++)
            if (push(&an->volumes, &n, *p) < 0) return -1;
        const char *ep = cfg->entrypoint && cfg->entrypoint[0] ? cfg->entrypoint[0]
                         : cfg->cmd && cfg->cmd[0]             ? cfg->cmd[0]
                                                               : NULL;
        if (ep && !(an->entrypoint_raw = strdup(ep))) return -1;
    }
    return 0;
}

/* Contract in kiln/image.h. */
int kiln_analyze_rootfs(const char *rootfs, const struct kiln_analyze_options *opt,
                        struct kiln_analysis **out, struct kiln_error *err)
{
    struct kiln_analysis *an = calloc(1, sizeof *an);
    char path[4096];
    int rc;

    if (!an) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    an->rootfd = -1;
    if (opt) an->opt = *opt;
    if (!an->opt.max_file_bytes) an->opt.max_file_bytes = (uint64_t)512 << 20;
    if (!an->opt.max_files) an->opt.max_files = 200000;
    an->opt.config = NULL;
    an->opt.label = NULL;
    if (sodium_init() < 0 || !(an->rootfs = strdup(opt && opt->label ? opt->label : rootfs))) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    an->rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (an->rootfd < 0) {
        rc = kiln_error_sys(err, errno, "%s", rootfs);
        goto fail;
    }
    if (set_config(an, opt ? opt->config : NULL) < 0) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    path[0] = 0;
    if (walk(an, an->rootfd, path, 0, 0) < 0) {
        rc = kiln_error_set(err, KILN_E_NOMEM,
                            "%s: more than %u files to analyze (or out of memory)", rootfs,
                            an->opt.max_files);
        goto fail;
    }
    if (an->entrypoint_raw) {
        char res[4096];
        if (find_command(an, an->entrypoint_raw, res, sizeof res) == 0) {
            size_t i = add_file(an, res);
            if (i == SIZE_MAX || !(an->entrypoint = strdup(res))) {
                rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
                goto fail;
            }
            an->files[i].entrypoint = true;
        } else {
            note(an, "entrypoint %s%s is not a file in the image", an->entrypoint_raw, "");
        }
    }
    if (analyze_all(an) < 0) {
        rc = kiln_error_set(err, KILN_E_NOMEM,
                            "%s: more than %u files to analyze (or out of memory)", rootfs,
                            an->opt.max_files);
        goto fail;
    }
    *out = an;
    return 0;
fail:
    kiln_analysis_free(an);
    return rc;
}

void kiln_analysis_free(struct kiln_analysis *an)
{
    if (!an) return;
    for (size_t i = 0; i < an->nfiles; i++) {
        struct afile *f = &an->files[i];
        free(f->path);
        free(f->error);
        free_strv(f->wimports);
        free_strv(f->wexports);
        kiln_elf_info_clear(&f->elf);
        free(f->interp);
        free(f->interp_arg);
    }
    for (size_t i = 0; i < an->nedges; i++)
        free(an->edges[i].name);
    free(an->edges);
    free(an->files);
    free(an->slot);
    free_strv(an->path_dirs);
    free_strv(an->ports);
    free_strv(an->volumes);
    free_strv(an->notes);
    free(an->entrypoint);
    free(an->entrypoint_raw);
    free(an->rootfs);
    if (an->rootfd >= 0) close(an->rootfd);
    free(an);
}

void kiln_analysis_counts(const struct kiln_analysis *an, struct kiln_analysis_counts *out)
{
    memset(out, 0, sizeof *out);
    out->files = an->nfiles;
    for (size_t i = 0; i < an->nfiles; i++) {
        switch (an->files[i].kind) {
        case KILN_KIND_WASM:
            out->wasm++;
            break;
        case KILN_KIND_ELF:
            out->elf++;
            break;
        case KILN_KIND_SCRIPT:
            out->scripts++;
            break;
        default:
            out->other++;
            break;
        }
        if (an->files[i].jit) out->jit_flagged++;
    }
    for (size_t e = 0; e < an->nedges; e++)
        if (an->edges[e].to == SIZE_MAX) out->missing_deps++;
}

int kiln_analysis_kind_of(const struct kiln_analysis *an, const char *path, const char **abi,
                          const char **real_path)
{
    char res[4096];
    struct stat st;
    size_t i = find(an, path);
    if (i == SIZE_MAX && resolve((struct kiln_analysis *)an, path, res, sizeof res, &st) == 0)
        i = find(an, res);
    if (i == SIZE_MAX) return -1;
    if (abi) *abi = an->files[i].abi;
    if (real_path) *real_path = an->files[i].path;
    return an->files[i].kind;
}

size_t kiln_analysis_file_count(const struct kiln_analysis *an)
{
    return an->nfiles;
}

void kiln_analysis_file(const struct kiln_analysis *an, size_t i, struct kiln_analysis_file *out)
{
    const struct afile *f = &an->files[i];
    memset(out, 0, sizeof *out);
    out->path = f->path;
    out->kind = f->kind;
    out->abi = f->abi;
    out->sha256 = f->sha256;
    out->error = f->error;
    out->interp = f->interp;
    out->elf_link = f->has_elf ? f->elf.link : 0;
    out->elf_machine = f->has_elf ? f->elf.machine : 0;
    out->jit = f->jit;
    out->mode = f->mode;
    out->executable = f->executable;
    out->entrypoint = f->entrypoint;
    out->library = f->library;
    out->interpreter = f->interpreter;
}

const char *kiln_analysis_entrypoint(const struct kiln_analysis *an)
{
    return an->entrypoint;
}
