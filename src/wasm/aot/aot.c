/*
 * aot.c — kiln_aot_compile (translate, run the system C compiler, link a
 * shared object, temp file + rename) and kiln_aot_load (sealed memfd,
 * digest read back from the memfd, dlopen of /proc/self/fd/N, descriptor
 * checks) — see include/kiln/aot.h.
 *
 * Invariants: the compiler runs with an argument vector (no shell); the
 * object is never mapped writable+executable (dlopen maps text read+exec
 * from the sealed memfd; the object is -fPIC without text relocations);
 * the digest that gates the mapping is computed from the sealed memfd's
 * bytes, so nothing can change between check and map.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kiln/aot.h"
#include "kiln/unit.h"
#include "wasm/aot/aot_internal.h"
#include "wasm/aot/aot_rt.h"
#include "wasm/module.h"
#include "wasm/runtime.h"

extern char **environ;

#define MAX_TEXT 4 /* executable PT_LOAD segments registered per object */

struct kiln_aot_handle {
    void *dl;
    int fd;
    const struct kiln_aot_module *desc;
    const struct kiln_module *mod;
    uintptr_t text[MAX_TEXT]; /* starts of the ranges registered with
                                 kiln__aot_text_add (unmetered objects), 0 = none */
};

const char *kiln_aot_target(void)
{
    return KILN_AOT_TARGET;
}

uint32_t kiln_aot_abi(void)
{
    return KILN_AOT_ABI;
}

/* ---- compile ---------------------------------------------------------------------- */

static void progress(const struct kiln_aot_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(const struct kiln_aot_opts *o, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    if (!o || !o->progress) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->progress(o->progress_arg, buf);
}

static int write_file(const char *path, const char *data, size_t len, struct kiln_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t off = 0;
    if (fd < 0) return kiln_error_sys(err, errno, "%s", path);
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return kiln_error_sys(err, e, "%s", path);
        }
        off += (size_t)n;
    }
    if (close(fd) < 0) return kiln_error_sys(err, errno, "%s", path);
    return 0;
}

static int mkdirs_for(const char *root, const char *rel, struct kiln_error *err)
{
    char path[PATH_MAX];
    const char *p = rel;
    while ((p = strchr(p, '/')) != NULL) {
        snprintf(path, sizeof path, "%s/%.*s", root, (int)(p - rel), rel);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) return kiln_error_sys(err, errno, "%s", path);
        p++;
    }
    return 0;
}

/* Starts argv with stderr to errpath; returns the pid or -1. */
static pid_t spawn(char *const argv[], const char *errpath)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;
    posix_spawn_file_actions_init(&fa);
    if (errpath)
        posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static int wait_ok(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* First line of the compiler's error output, for messages. */
static void first_error(const char *errpath, char *out, size_t n)
{
    FILE *f = fopen(errpath, "re");
    char line[512];
    out[0] = '\0';
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "error") || !out[0]) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, n, "%s", line);
            if (strstr(line, "error")) break;
        }
    }
    fclose(f);
}

/* Whether the compiler crashed (rather than rejected the code). */
static bool compiler_crashed(const char *errpath)
{
    FILE *f = fopen(errpath, "re");
    char line[512];
    bool crashed = false;
    if (!f) return false;
    while (!crashed && fgets(line, sizeof line, f))
        crashed = strstr(line, "internal compiler error") != NULL;
    fclose(f);
    return crashed;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* The fixed compiler flags of every generated part (after cc and -O2; part
 * of the object cache key). Stack clash protection: a function whose frame
 * is larger than a page touches it page by page, so even a huge frame meets
 * the guard page below the thread's stack instead of reaching past it (the
 * stack limit check comes after the frame is allocated). No sibling calls: a wasm call in tail
 * position must still take native stack, or an unbounded recursion in unmetered code (which counts
 * no frames) would become an endless loop instead of reaching the stack limit and trapping. No
 * null-pointer assumptions: memory 0 is the gs segment from address 0 (aot_gen.h, `mem` is the
 * null __seg_gs pointer), so to the compiler every access is through a null pointer; gcc 12
 * deleted stores it could prove went to wasm address 0 or 1 (aot.exprgen; aot.semantics
 * "null_store"). This flag fixed one such case; aot_gen.h also turns off gcc's points-to
 * analysis (a pragma: clang does not know the flag), which fixed all. */
static const char *const g_part_cflags[] = {"-fPIC",
                                            "-fno-delete-null-pointer-checks",
                                            "-fvisibility=hidden",
                                            "-ffp-contract=off",
                                            "-fsignaling-nans",
                                            "-fno-strict-aliasing",
                                            "-fno-math-errno",
                                            "-fno-stack-protector",
                                            "-fno-optimize-sibling-calls",
                                            "-fstack-clash-protection",
                                            "-std=gnu11",
                                            "-w"};

/* Starts cc at optimisation opt on DIR/part<k>.c → obj, stderr to
 * DIR/part<k>.err; returns the pid or -1. */
static pid_t spawn_part(const char *cc, const char *opt, const char *inc, const char *dir,
                        unsigned k, const char *obj)
{
    char src[PATH_MAX], incflag[PATH_MAX + 2], errpath[PATH_MAX];
    char *argv[8 + sizeof g_part_cflags / sizeof g_part_cflags[0]];
    size_t n = 0;
    snprintf(src, sizeof src, "%s/part%u.c", dir, k);
    snprintf(incflag, sizeof incflag, "-I%s", inc);
    snprintf(errpath, sizeof errpath, "%s/part%u.err", dir, k);
    argv[n++] = (char *)cc;
    argv[n++] = (char *)opt;
    for (size_t f = 0; f < sizeof g_part_cflags / sizeof g_part_cflags[0]; f++)
        argv[n++] = (char *)g_part_cflags[f];
    argv[n++] = incflag;
    argv[n++] = "-c";
    argv[n++] = src;
    argv[n++] = "-o";
    argv[n++] = (char *)obj;
    argv[n] = NULL;
    return spawn(argv, errpath);
}

/* Compiles mod to a shared object at out_path (see aot.h). */
int kiln_aot_compile(const struct kiln_module *mod, const char *out_path,
                     const struct kiln_aot_opts *opts, struct kiln_error *err)
{
    char dir[PATH_MAX], inc[PATH_MAX], path[PATH_MAX], errpath[PATH_MAX], tmp_out[PATH_MAX];
    char digest[65], msg[512], libc_obj[PATH_MAX];
    const char *cc = opts && opts->cc ? opts->cc : "cc";
    const char *opt = opts && opts->opt ? opts->opt : "-O2";
    const char *tmpdir = getenv("TMPDIR");
    struct kiln__sb *parts = NULL;
    char **objs = NULL;
    pid_t *pids = NULL;
    unsigned nparts, jobs, i;
    size_t code_bytes = 0;
    bool made_dir = false, made_out = false;
    int rc;

    if (!mod || !out_path)
        return kiln_error_set(err, KILN_E_ARG, "kiln_aot_compile: NULL argument");
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++)
        code_bytes += mod->funcs[i].body_len;
    nparts = opts && opts->parts ? opts->parts : (unsigned)(code_bytes / (256 * 1024) + 1);
    if (nparts > 64) nparts = 64;
    jobs = opts && opts->jobs ? opts->jobs : 2;

    if (opts && opts->keep_c_dir) {
        snprintf(dir, sizeof dir, "%s", opts->keep_c_dir);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            rc = kiln_error_sys(err, errno, "%s", dir);
            goto fail;
        }
    } else {
        snprintf(dir, sizeof dir, "%s/kiln-aot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
        if (!mkdtemp(dir)) {
            rc = kiln_error_sys(err, errno, "mkdtemp %s", dir);
            goto fail;
        }
        made_dir = true;
    }
    snprintf(inc, sizeof inc, "%s/include", dir);
    if (mkdir(inc, 0755) < 0 && errno != EEXIST) {
        rc = kiln_error_sys(err, errno, "%s", inc);
        goto fail;
    }
    for (i = 0; i < kiln__aot_nheaders; i++) {
        const struct kiln__aot_header *h = &kiln__aot_headers[i];
        rc = mkdirs_for(inc, h->name, err);
        if (rc < 0) goto fail;
        snprintf(path, sizeof path, "%s/%s", inc, h->name);
        rc = write_file(path, h->text, strlen(h->text), err);
        if (rc < 0) goto fail;
    }

    progress(opts, "translating %u functions (%zu bytes of code) into %u C file(s)",
             mod->nfuncs - mod->nfunc_imports, code_bytes, nparts);
    kiln_sha256_hex(mod->bytes, mod->nbytes, digest);
    parts = calloc(nparts, sizeof *parts);
    objs = calloc(nparts, sizeof *objs);
    pids = calloc(nparts, sizeof *pids);
    if (!parts || !objs || !pids) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    rc = kiln__aot_translate_flags(mod, digest, opts && opts->metered ? KILN_AOT_F_METERED : 0,
                                   nparts, parts, err);
    if (rc < 0) goto fail;
    for (i = 0; i < nparts; i++) {
        snprintf(path, sizeof path, "%s/part%u.c", dir, i);
        rc = write_file(path, parts[i].s ? parts[i].s : "", parts[i].len, err);
        if (rc < 0) goto fail;
        kiln__sb_free(&parts[i]);
        if (asprintf(&objs[i], "%s/part%u.o", dir, i) < 0) {
            objs[i] = NULL;
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
    }

    /* compile the parts, `jobs` at a time */
    for (i = 0; i < nparts; i++)
        pids[i] = -1;
    for (unsigned next = 0, done = 0; done < nparts;) {
        unsigned running = 0;
        for (unsigned k = 0; k < nparts; k++)
            running += pids[k] > 0;
        if (next < nparts && running < jobs) {
            progress(opts, "cc part %u/%u", next + 1, nparts);
            pids[next] = spawn_part(cc, opt, inc, dir, next, objs[next]);
            if (pids[next] < 0) {
                rc = kiln_error_sys(err, errno, "cannot run %s", cc);
                goto fail;
            }
            next++;
            continue;
        }
        for (unsigned k = 0; k < nparts; k++) {
            if (pids[k] <= 0) continue;
            int ok = wait_ok(pids[k]);
            pids[k] = 0;
            done++;
            snprintf(errpath, sizeof errpath, "%s/part%u.err", dir, k);
            /* a compiler bug, not our C: gcc 12 crashes (in forwprop, ccp, dom or
             * pre) on about 1 in 100 of aot.exprgen's generated modules; the part
             * is compiled again at -O1, then at -O0, which gives up speed in this
             * part only (-O0 avoided every crash found) */
            for (int r = 0; ok < 0 && r < 2 && compiler_crashed(errpath); r++) {
                const char *lower = r == 0 ? "-O1" : "-O0";
                pid_t p;
                if (!strcmp(opt, lower) || !strcmp(opt, "-O0")) break;
                progress(opts, "cc crashed on part %u; compiling it again at %s", k + 1, lower);
                p = spawn_part(cc, lower, inc, dir, k, objs[k]);
                ok = p < 0 ? -1 : wait_ok(p);
            }
            if (ok < 0) {
                first_error(errpath, msg, sizeof msg);
                rc = kiln_error_set(err, KILN_E_IO, "%s failed on part %u: %s", cc, k, msg);
                goto fail;
            }
            break;
        }
    }

    /* the C library subset every object carries (aot_libc.c): objects need no shared library */
    snprintf(path, sizeof path, "%s/wasm/aot/aot_libc.c", inc);
    snprintf(libc_obj, sizeof libc_obj, "%s/aot_libc.o", dir);
    snprintf(errpath, sizeof errpath, "%s/aot_libc.err", dir);
    {
        char *argv[] = {(char *)cc,
                        "-O2",
                        "-fPIC",
                        "-ffreestanding",
                        "-fno-builtin",
                        "-fno-stack-protector",
                        "-fno-math-errno",
                        "-std=gnu11",
                        "-w",
                        "-c",
                        path,
                        "-o",
                        libc_obj,
                        NULL};
        pid_t pid = spawn(argv, errpath);
        if (pid < 0 || wait_ok(pid) < 0) {
            first_error(errpath, msg, sizeof msg);
            rc = kiln_error_set(err, KILN_E_IO, "%s failed on aot_libc.c: %s", cc, msg);
            goto fail;
        }
    }

    /* link into a temporary file next to out_path, then rename; self-contained: no libc, no
     * libm, nothing left undefined (kiln-stub is static and maps objects in bare rootfs) */
    snprintf(tmp_out, sizeof tmp_out, "%s.tmp-%d", out_path, (int)getpid());
    {
        char **argv = calloc(nparts + 12, sizeof *argv);
        unsigned a = 0;
        pid_t pid;
        if (!argv) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        argv[a++] = (char *)cc;
        argv[a++] = "-shared";
        argv[a++] = "-nostdlib";
        argv[a++] = "-Wl,--no-undefined";
        argv[a++] = "-Wl,-z,noexecstack";
        argv[a++] = "-o";
        argv[a++] = tmp_out;
        for (i = 0; i < nparts; i++)
            argv[a++] = objs[i];
        argv[a++] = libc_obj;
        argv[a++] = "-lgcc";
        argv[a] = NULL;
        snprintf(errpath, sizeof errpath, "%s/link.err", dir);
        progress(opts, "linking %s", out_path);
        pid = spawn(argv, errpath);
        free(argv);
        made_out = true;
        if (pid < 0 || wait_ok(pid) < 0) {
            first_error(errpath, msg, sizeof msg);
            rc = kiln_error_set(err, KILN_E_IO, "%s -shared failed: %s", cc, msg);
            goto fail;
        }
    }
    if (rename(tmp_out, out_path) < 0) {
        rc = kiln_error_sys(err, errno, "rename to %s", out_path);
        goto fail;
    }
    made_out = false;
    rc = 0;
fail:
    if (made_out) unlink(tmp_out);
    if (pids)
        for (i = 0; i < nparts; i++)
            if (pids[i] > 0) wait_ok(pids[i]);
    if (parts)
        for (i = 0; i < nparts; i++)
            kiln__sb_free(&parts[i]);
    if (objs)
        for (i = 0; i < nparts; i++)
            free(objs[i]);
    free(parts);
    free(objs);
    free(pids);
    if (made_dir) rm_tree(dir);
    return rc;
}

/* ---- load ------------------------------------------------------------------------------ */

/* Drops h's text ranges from the interrupt signal's registry. */
static void unregister_text(struct kiln_aot_handle *h)
{
    for (unsigned i = 0; i < MAX_TEXT; i++)
        if (h->text[i]) {
            kiln__aot_text_remove(h->text[i]);
            h->text[i] = 0;
        }
}

/* Registers the executable segments of the mapped object (its program
 * headers, read from the verified bytes obj[0..len), at the load address
 * dlinfo reports) as AOT text: the interrupt signal traps code running
 * there (memory.c). Returns 0 or negative with *err. */
static int register_text(struct kiln_aot_handle *h, const uint8_t *obj, size_t len,
                         struct kiln_error *err)
{
    Elf64_Ehdr eh;
    struct link_map *lm = NULL;
    unsigned n = 0;
    if (len < sizeof eh) goto bad;
    memcpy(&eh, obj, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
        goto bad;
    if (dlinfo(h->dl, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return kiln_error_set(err, KILN_E_IO, "module.aot: no link map for the mapped object");
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        int rc;
        memcpy(&ph, obj + eh.e_phoff + (size_t)i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) || !ph.p_memsz) continue;
        if (n == MAX_TEXT) goto bad;
        rc = kiln__aot_text_add((uintptr_t)lm->l_addr + (uintptr_t)ph.p_vaddr, (size_t)ph.p_memsz);
        if (rc < 0) {
            unregister_text(h);
            return kiln_error_sys(err, -rc, "module.aot: registering its text");
        }
        h->text[n++] = (uintptr_t)lm->l_addr + (uintptr_t)ph.p_vaddr;
    }
    if (n) return 0;
bad:
    unregister_text(h);
    return kiln_error_set(err, KILN_E_MALFORMED, "module.aot: no executable segment found");
}

/* Loads an AOT object for mod (see aot.h). */
int kiln_aot_load(const struct kiln_module *mod, const uint8_t *obj, size_t len,
                  const char *expected_sha256, struct kiln_aot_handle **out, struct kiln_error *err)
{
    struct kiln_aot_handle *h = NULL;
    char path[64], have[65], moddig[65];
    uint8_t *back = NULL;
    size_t off = 0;
    int fd = -1, rc;
    void *dl = NULL;
    const struct kiln_aot_module *d;

    if (!mod || !obj || !len || !expected_sha256 || !out)
        return kiln_error_set(err, KILN_E_ARG, "kiln_aot_load: missing argument");
    fd = memfd_create("kiln-aot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return kiln_error_sys(err, errno, "memfd_create");
    while (off < len) {
        ssize_t n = write(fd, obj + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = kiln_error_sys(err, errno, "write to memfd");
            goto fail;
        }
        off += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
        rc = kiln_error_sys(err, errno, "sealing the AOT memfd");
        goto fail;
    }
    /* hash what the memfd now holds (immutable), not the caller's buffer */
    back = malloc(len);
    if (!back) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    for (off = 0; off < len;) {
        ssize_t n = pread(fd, back + off, len - off, (off_t)off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            rc = kiln_error_sys(err, n < 0 ? errno : EIO, "reading back the AOT memfd");
            goto fail;
        }
        off += (size_t)n;
    }
    kiln_sha256_hex(back, len, have);
    free(back);
    back = NULL;
    if (strcmp(have, expected_sha256) != 0) {
        rc = kiln_error_set(err, KILN_E_VERIFY,
                            "module.aot: digest mismatch: sealed object has sha256 %s, expected %s",
                            have, expected_sha256);
        goto fail;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        rc = kiln_error_set(err, KILN_E_MALFORMED, "module.aot: cannot map: %s", e ? e : "?");
        goto fail;
    }
    d = dlsym(dl, "kiln_aot_module");
    if (!d || d->magic != KILN_AOT_MAGIC) {
        rc = kiln_error_set(err, KILN_E_MALFORMED, "module.aot: no kiln_aot_module descriptor");
        goto fail;
    }
    if (d->abi != KILN_AOT_ABI || d->layout != KILN_AOT_LAYOUT) {
        rc = kiln_error_set(err, KILN_E_UNSUPPORTED,
                            "module.aot: engine ABI %u (layout %#llx), this engine has %u (%#llx)",
                            d->abi, (unsigned long long)d->layout, KILN_AOT_ABI,
                            (unsigned long long)KILN_AOT_LAYOUT);
        goto fail;
    }
    if (strncmp(d->target, KILN_AOT_TARGET, sizeof d->target) != 0) {
        rc = kiln_error_set(err, KILN_E_UNSUPPORTED, "module.aot: target %.64s, this CPU is %s",
                            d->target, KILN_AOT_TARGET);
        goto fail;
    }
    if (d->flags & ~(KILN_AOT_F_METERED | KILN_AOT_F_SEGMEM)) {
        rc = kiln_error_set(err, KILN_E_UNSUPPORTED, "module.aot: unknown descriptor flags %#x",
                            d->flags);
        goto fail;
    }
    if ((d->flags & KILN_AOT_F_SEGMEM) && !kiln__aot_seg_usable()) {
        rc = kiln_error_set(err, KILN_E_UNSUPPORTED,
                            "module.aot: the code addresses memory through the gs segment, and "
                            "this process can set its base with neither WRGSBASE nor arch_prctl");
        goto fail;
    }
    kiln_sha256_hex(mod->bytes, mod->nbytes, moddig);
    if (strncmp(d->digest, moddig, 64) != 0 || d->nfuncs != mod->nfuncs - mod->nfunc_imports) {
        rc = kiln_error_set(err, KILN_E_VERIFY,
                            "module.aot: compiled from module %.64s, this module is %s", d->digest,
                            moddig);
        goto fail;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }
    h->dl = dl;
    h->fd = fd;
    h->desc = d;
    h->mod = mod;
    if (!(d->flags & KILN_AOT_F_METERED)) {
        rc = register_text(h, obj, len, err);
        if (rc < 0) goto fail;
    }
    *d->rt_slot = &kiln__aot_rt;
    *out = h;
    return 0;
fail:
    if (h) unregister_text(h);
    free(h);
    free(back);
    if (dl) dlclose(dl);
    if (fd >= 0) close(fd);
    return rc;
}

/* Attaches (or with h == NULL detaches) native code (see aot.h). */
int kiln_module_attach_aot(struct kiln_module *mod, const struct kiln_aot_handle *h,
                           struct kiln_error *err)
{
    if (!mod) return kiln_error_set(err, KILN_E_ARG, "kiln_module_attach_aot: NULL module");
    if (h && h->mod != mod)
        return kiln_error_set(err, KILN_E_ARG, "AOT object was loaded for another module");
    mod->aot = h ? h->desc : NULL;
    return 0;
}

/* Unmaps the object (see aot.h). */
void kiln_aot_free(struct kiln_aot_handle *h)
{
    if (!h) return;
    unregister_text(h);
    dlclose(h->dl);
    close(h->fd);
    free(h);
}

/* Whether h's code polls (see aot.h). */
bool kiln_aot_metered(const struct kiln_aot_handle *h)
{
    return (h->desc->flags & KILN_AOT_F_METERED) != 0;
}

/* Load-or-fall-back policy (see aot.h). */
int kiln_aot_attach_payload(struct kiln_module *mod, const uint8_t *obj, size_t len,
                            const char *expected_sha256, bool require_aot,
                            struct kiln_aot_handle **out, char *note, size_t note_len,
                            struct kiln_error *err)
{
    struct kiln_aot_handle *h = NULL;
    struct kiln_error local;
    int rc;
    if (note && note_len) note[0] = '\0';
    if (!obj || !len) {
        if (require_aot)
            return kiln_error_set(err, KILN_E_DENIED,
                                  "AOT required but the unit has no AOT payload");
        if (note) snprintf(note, note_len, "no AOT payload: running interpreted");
        *out = NULL;
        return 0;
    }
    memset(&local, 0, sizeof local);
    rc = kiln_aot_load(mod, obj, len, expected_sha256, &h, &local);
    if (rc < 0) {
        if (local.code == KILN_E_UNSUPPORTED && !require_aot) {
            if (note)
                snprintf(note, note_len, "AOT payload not usable (%s): running interpreted",
                         local.msg);
            *out = NULL;
            return 0;
        }
        if (err) *err = local;
        return rc;
    }
    kiln_module_attach_aot(mod, h, NULL);
    *out = h;
    return 0;
}

static int read_all(const char *path, uint8_t **out, size_t *len, struct kiln_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *b;
    size_t off = 0;
    if (fd < 0) return kiln_error_sys(err, errno, "%s", path);
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        close(fd);
        return kiln_error_set(err, KILN_E_IO, "%s: empty or unreadable", path);
    }
    b = malloc((size_t)st.st_size);
    if (!b) {
        close(fd);
        return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    }
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, b + off, (size_t)st.st_size - off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            free(b);
            close(fd);
            return kiln_error_set(err, KILN_E_IO, "%s: short read", path);
        }
        off += (size_t)n;
    }
    close(fd);
    *out = b;
    *len = off;
    return 0;
}

/* Compile-or-reuse into a digest-keyed cache, load, attach (see aot.h). */
int kiln_aot_compile_cached(struct kiln_module *mod, const char *cache_dir,
                            const struct kiln_aot_opts *opts, struct kiln_error *err)
{
    char digest[65], path[PATH_MAX], objdig[65];
    struct kiln_aot_handle *h = NULL;
    uint8_t *obj = NULL;
    size_t len = 0;
    int rc;
    if (!mod || !cache_dir) return kiln_error_set(err, KILN_E_ARG, "missing argument");
    if (mkdir(cache_dir, 0755) < 0 && errno != EEXIST)
        return kiln_error_sys(err, errno, "%s", cache_dir);
    /* key: module digest + a fingerprint of the translator, the headers
     * the C is compiled against and the compiler options */
    {
        struct kiln__sb k = {0};
        char fp[65];
        kiln__sb_printf(&k, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n", kiln__aot_translator_text,
                        kiln__aot_translator_known_text, kiln__aot_translator_chase_text,
                        kiln__aot_translator_bits_text,
                        opts && opts->cc ? opts->cc : "cc",
                        opts && opts->opt ? opts->opt : "-O2",
                        opts && opts->metered ? "metered" : "unmetered");
        for (size_t i = 0; i < sizeof g_part_cflags / sizeof g_part_cflags[0]; i++)
            kiln__sb_printf(&k, "%s ", g_part_cflags[i]);
        for (size_t i = 0; i < kiln__aot_nheaders; i++)
            kiln__sb_printf(&k, "%s\n", kiln__aot_headers[i].text);
        if (k.oom || !k.s) {
            kiln__sb_free(&k);
            return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        }
        kiln_sha256_hex((const uint8_t *)k.s, k.len, fp);
        kiln__sb_free(&k);
        kiln_sha256_hex(mod->bytes, mod->nbytes, digest);
        snprintf(path, sizeof path, "%s/%s-%.16s.so", cache_dir, digest, fp);
    }
    if (access(path, R_OK) != 0) {
        rc = kiln_aot_compile(mod, path, opts, err);
        if (rc < 0) return rc;
    }
    rc = read_all(path, &obj, &len, err);
    if (rc < 0) return rc;
    kiln_sha256_hex(obj, len, objdig);
    rc = kiln_aot_load(mod, obj, len, objdig, &h, err);
    free(obj);
    if (rc < 0) return rc;
    if (mod->aot_release) mod->aot_release(mod->aot_owned);
    kiln_module_attach_aot(mod, h, NULL);
    mod->aot_owned = h;
    mod->aot_release = kiln_aot_free;
    return 0;
}
