/*
 * report.c — the analysis as a JSON report, a readable summary and a draft
 * policy (docs/policy.md: kilnPolicy 1, OCI seccomp schema, filesystem,
 * network, limits).
 *
 * The draft policy is derived, not guessed: syscalls come from the two
 * tables below (WASI preview1 imports -> the vkernel core calls they use;
 * libc imports of dynamic ELF programs -> Linux calls), filesystem rules from
 * the rootfs (read-only) and the config's volumes and /tmp (read-write),
 * listen rules from the config's ExposedPorts. Anything the analysis cannot
 * see (static ELF programs' calls, where connections go) is left denied and
 * listed in "notes", so the draft never grants more than was found.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze/analyze_internal.h"

/* WASI preview1 function -> vkernel core calls (docs/vkernel-syscalls.md). */
static const struct {
    const char *fn;
    const char *calls;
} wasi_calls[] = {{"fd_read", "readv"},
                  {"fd_write", "writev"},
                  {"fd_pread", "preadv"},
                  {"fd_pwrite", "pwritev"},
                  {"fd_seek", "lseek"},
                  {"fd_tell", "lseek"},
                  {"fd_close", "close"},
                  {"fd_readdir", "getdents64"},
                  {"fd_filestat_get", "fstat"},
                  {"fd_fdstat_get", "fstat"},
                  {"fd_fdstat_set_flags", "fcntl"},
                  {"fd_sync", "fsync"},
                  {"fd_datasync", "fdatasync"},
                  {"fd_advise", "fadvise64"},
                  {"fd_allocate", "fallocate"},
                  {"fd_filestat_set_size", "ftruncate"},
                  {"fd_filestat_set_times", "utimensat"},
                  {"fd_renumber", "dup3"},
                  {"path_open", "openat"},
                  {"path_filestat_get", "newfstatat"},
                  {"path_filestat_set_times", "utimensat"},
                  {"path_create_directory", "mkdirat"},
                  {"path_remove_directory", "unlinkat"},
                  {"path_unlink_file", "unlinkat"},
                  {"path_rename", "renameat2"},
                  {"path_link", "linkat"},
                  {"path_symlink", "symlinkat"},
                  {"path_readlink", "readlinkat"},
                  {"clock_time_get", "clock_gettime"},
                  {"clock_res_get", "clock_getres"},
                  {"random_get", "getrandom"},
                  {"sched_yield", "sched_yield"},
                  {"poll_oneoff", "ppoll"},
                  {"proc_exit", "exit_group"},
                  {"proc_raise", "kill"},
                  {"sock_accept", "accept4"},
                  {"sock_recv", "recvmsg"},
                  {"sock_send", "sendmsg"},
                  {"sock_shutdown", "shutdown"},
                  {NULL, NULL}};

/* libc function -> Linux system calls (comma-separated). */
static const struct {
    const char *fn;
    const char *calls;
} libc_calls[] = {{"open", "openat"},
                  {"open64", "openat"},
                  {"openat", "openat"},
                  {"openat64", "openat"},
                  {"fopen", "openat"},
                  {"fopen64", "openat"},
                  {"creat", "openat"},
                  {"read", "read"},
                  {"fread", "read"},
                  {"fgets", "read"},
                  {"getline", "read"},
                  {"pread", "pread64"},
                  {"pread64", "pread64"},
                  {"write", "write"},
                  {"fwrite", "write"},
                  {"printf", "write"},
                  {"puts", "write"},
                  {"fputs", "write"},
                  {"pwrite", "pwrite64"},
                  {"pwrite64", "pwrite64"},
                  {"close", "close"},
                  {"fclose", "close"},
                  {"stat", "newfstatat"},
                  {"stat64", "newfstatat"},
                  {"lstat", "newfstatat"},
                  {"fstatat", "newfstatat"},
                  {"__xstat", "newfstatat"},
                  {"fstat", "fstat"},
                  {"fstat64", "fstat"},
                  {"lseek", "lseek"},
                  {"lseek64", "lseek"},
                  {"opendir", "openat"},
                  {"readdir", "getdents64"},
                  {"readdir64", "getdents64"},
                  {"mkdir", "mkdirat"},
                  {"unlink", "unlinkat"},
                  {"rmdir", "unlinkat"},
                  {"remove", "unlinkat"},
                  {"rename", "renameat2"},
                  {"link", "linkat"},
                  {"symlink", "symlinkat"},
                  {"readlink", "readlinkat"},
                  {"socket", "socket"},
                  {"bind", "bind"},
                  {"listen", "listen"},
                  {"accept", "accept4"},
                  {"accept4", "accept4"},
                  {"connect", "connect"},
                  {"send", "sendmsg"},
                  {"sendto", "sendmsg"},
                  {"sendmsg", "sendmsg"},
                  {"recv", "recvmsg"},
                  {"recvfrom", "recvmsg"},
                  {"recvmsg", "recvmsg"},
                  {"shutdown", "shutdown"},
                  {"setsockopt", "setsockopt"},
                  {"getaddrinfo", "socket,connect"},
                  {"fork", "clone"},
                  {"vfork", "clone"},
                  {"posix_spawn", "clone,execve"},
                  {"system", "clone,execve"},
                  {"popen", "clone,execve,pipe2"},
                  {"execve", "execve"},
                  {"execv", "execve"},
                  {"execvp", "execve"},
                  {"execl", "execve"},
                  {"execlp", "execve"},
                  {"mmap", "mmap"},
                  {"mmap64", "mmap"},
                  {"mprotect", "mprotect"},
                  {"pipe", "pipe2"},
                  {"pipe2", "pipe2"},
                  {"dup", "dup3"},
                  {"dup2", "dup3"},
                  {"dup3", "dup3"},
                  {"poll", "ppoll"},
                  {"select", "ppoll"},
                  {"epoll_wait", "epoll_wait"},
                  {"epoll_create1", "epoll_create1"},
                  {"nanosleep", "clock_nanosleep"},
                  {"sleep", "clock_nanosleep"},
                  {"usleep", "clock_nanosleep"},
                  {"clock_gettime", "clock_gettime"},
                  {"gettimeofday", "clock_gettime"},
                  {"time", "clock_gettime"},
                  {"getrandom", "getrandom"},
                  {"exit", "exit_group"},
                  {"_exit", "exit_group"},
                  {"pthread_create", "clone"},
                  {"kill", "kill"},
                  {"ioctl", "ioctl"},
                  {"fcntl", "fcntl"},
                  {"fcntl64", "fcntl"},
                  {"ftruncate", "ftruncate"},
                  {"fsync", "fsync"},
                  {"fdatasync", "fdatasync"},
                  {"chdir", "chdir"},
                  {"getcwd", "getcwd"},
                  {"chmod", "fchmodat"},
                  {"fchmod", "fchmod"},
                  {"chown", "fchownat"},
                  {"utimensat", "utimensat"},
                  {NULL, NULL}};

static const char *kind_name(int k)
{
    switch (k) {
    case KILN_KIND_WASM:
        return "wasm";
    case KILN_KIND_ELF:
        return "elf";
    case KILN_KIND_SCRIPT:
        return "script";
    default:
        return "other";
    }
}

static const char *link_name(int l)
{
    switch (l) {
    case KILN_ELF_STATIC:
        return "static";
    case KILN_ELF_DYNAMIC:
        return "dynamic";
    case KILN_ELF_STATIC_PIE:
        return "static-pie";
    case KILN_ELF_SHARED:
        return "shared-library";
    default:
        return "other";
    }
}

static json_t *jit_array(unsigned jit)
{
    json_t *a = json_array();
    if (jit & KILN_JIT_WX_SEGMENT)
        json_array_append_new(a, json_string("writable+executable segment"));
    if (jit & KILN_JIT_EXEC_STACK) json_array_append_new(a, json_string("executable stack"));
    if (jit & KILN_JIT_LIBRARY) json_array_append_new(a, json_string("JIT library"));
    if (jit & KILN_JIT_SYMBOL) json_array_append_new(a, json_string("imports a JIT entry point"));
    if (jit & KILN_JIT_DEPENDENCY)
        json_array_append_new(a, json_string("a dependency has a JIT indicator"));
    return a;
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *file_json(const struct kiln_analysis *an, const struct afile *f)
{
    json_t *o = json_object();
    char mode[8];
    (void)an;
    snprintf(mode, sizeof mode, "%04o", f->mode);
    json_object_set_new(o, "path", json_string(f->path));
    json_object_set_new(o, "kind", json_string(kind_name(f->kind)));
    json_object_set_new(o, "size", json_integer((json_int_t)f->size));
    json_object_set_new(o, "mode", json_string(mode));
    json_object_set_new(o, "sha256", json_string(f->sha256));
    json_object_set_new(o, "executable", json_boolean(f->executable));
    if (f->entrypoint) json_object_set_new(o, "entrypoint", json_true());
    if (f->library) json_object_set_new(o, "library", json_true());
    if (f->interpreter) json_object_set_new(o, "interpreter", json_true());
    if (f->error) json_object_set_new(o, "error", json_string(f->error));
    if (f->kind == KILN_KIND_WASM) {
        json_t *w = json_object();
        json_object_set_new(w, "abi", json_string(f->abi[0] ? f->abi : "none"));
        json_object_set_new(w, "imports", strv_json(f->wimports, f->nwimports));
        json_object_set_new(w, "exports", strv_json(f->wexports, f->nwexports));
        json_object_set_new(o, "wasm", w);
    } else if (f->kind == KILN_KIND_ELF && f->has_elf) {
        json_t *e = json_object();
        const struct kiln_elf_info *i = &f->elf;
        json_object_set_new(e, "class", json_integer(i->elf_class));
        json_object_set_new(e, "endian", json_string(i->big_endian ? "big" : "little"));
        json_object_set_new(e, "machine", json_string(kiln_elf_machine_name(i->machine)));
        json_object_set_new(e, "linkage", json_string(link_name(i->link)));
        if (i->interp) json_object_set_new(e, "interp", json_string(i->interp));
        if (i->soname) json_object_set_new(e, "soname", json_string(i->soname));
        if (i->runpath) json_object_set_new(e, "runpath", json_string(i->runpath));
        json_object_set_new(e, "needed", strv_json(i->needed, i->nneeded));
        json_object_set_new(e, "importedSymbols", strv_json(i->imports, i->nimports));
        json_object_set_new(e, "syscallSites", json_integer((json_int_t)i->syscall_sites));
        if (i->warning) json_object_set_new(e, "warning", json_string(i->warning));
        json_object_set_new(o, "elf", e);
    } else if (f->kind == KILN_KIND_SCRIPT) {
        json_t *s = json_object();
        json_object_set_new(s, "interpreter", json_string(f->interp ? f->interp : ""));
        if (f->interp_arg) json_object_set_new(s, "argument", json_string(f->interp_arg));
        json_object_set_new(o, "script", s);
    }
    json_object_set_new(o, "jit", jit_array(f->jit));
    return o;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_calls(json_t *set, const char *calls)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", calls);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
        json_object_set_new(set, t, json_true());
}

static json_t *policy_json(const struct kiln_analysis *an, json_t *notes)
{
    json_t *set = json_object(), *p = json_object(), *sc = json_object(), *rules = json_array();
    json_t *fs = json_array(), *net = json_array();
    bool static_seen = false;
    add_calls(set, "exit_group");
    for (size_t i = 0; i < an->nfiles; i++) {
        const struct afile *f = &an->files[i];
        if (f->kind == KILN_KIND_WASM) {
            for (size_t k = 0; k < f->nwimports; k++) {
                const char *imp = f->wimports[k];
                if (strncmp(imp, "wasi_snapshot_preview1.", 23) != 0) continue;
                for (int t = 0; wasi_calls[t].fn; t++)
                    if (strcmp(imp + 23, wasi_calls[t].fn) == 0)
                        add_calls(set, wasi_calls[t].calls);
            }
        } else if (f->kind == KILN_KIND_ELF && f->has_elf) {
            if (f->elf.link == KILN_ELF_STATIC || f->elf.link == KILN_ELF_STATIC_PIE) {
                static_seen = true;
                continue;
            }
            for (size_t k = 0; k < f->elf.nimports; k++) {
                char sym[128];
                snprintf(sym, sizeof sym, "%s", f->elf.imports[k]);
                char *at = strchr(sym, '@');
                if (at) *at = 0;
                for (int t = 0; libc_calls[t].fn; t++)
                    if (strcmp(sym, libc_calls[t].fn) == 0) add_calls(set, libc_calls[t].calls);
            }
        }
    }
    if (static_seen)
        json_array_append_new(notes,
                              json_string("static ELF programs: their system calls cannot be "
                                          "derived from imports and are not in the draft"));
    /* sorted names */
    size_t n = json_object_size(set), k = 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    const char *key;
    json_t *v;
    json_object_foreach(set, key, v)
    {
        (void)v;
        names[k++] = key;
    }
    qsort(names, n, sizeof *names, cmpstr);
    json_t *arr = json_array();
    for (k = 0; k < n; k++)
        json_array_append_new(arr, json_string(names[k]));
    free(names);
    json_array_append_new(rules,
                          json_pack("{s:o,s:s,s:s}", "names", arr, "action", "SCMP_ACT_ALLOW",
                                    "comment", "derived from the imports found by kiln analyze"));
    json_object_set_new(sc, "defaultAction", json_string("SCMP_ACT_ERRNO"));
    json_object_set_new(sc, "defaultErrnoRet", json_integer(1));
    json_object_set_new(sc, "syscalls", rules);

    json_array_append_new(fs, json_pack("{s:s,s:s}", "path", "/", "mode", "ro"));
    struct stat st;
    if (fstatat(an->rootfd, "tmp", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        json_array_append_new(fs, json_pack("{s:s,s:s}", "path", "/tmp", "mode", "rw"));
    for (char **vol = an->volumes; vol && *vol; vol++) {
        char norm[1024];
        size_t l = (size_t)snprintf(norm, sizeof norm, "%s", *vol);
        while (l > 1 && norm[l - 1] == '/')
            norm[--l] = 0;
        if (norm[0] != '/' || strstr(norm, "/.") || strstr(norm, "//")) continue;
        if (strcmp(norm, "/") == 0 || strcmp(norm, "/tmp") == 0) continue;
        json_array_append_new(fs, json_pack("{s:s,s:s,s:s}", "path", norm, "mode", "rw", "comment",
                                            "a volume of the image config"));
    }
    for (char **port = an->ports; port && *port; port++) {
        char *end;
        long pn = strtol(*port, &end, 10);
        const char *proto = *end == '/' ? end + 1 : "tcp";
        if (pn <= 0 || pn > 65535 || (strcmp(proto, "tcp") && strcmp(proto, "udp"))) continue;
        json_array_append_new(net, json_pack("{s:s,s:s,s:I,s:s}", "direction", "listen", "proto",
                                             proto, "port", (json_int_t)pn, "comment",
                                             "an exposed port of the image config"));
    }
    json_object_set_new(p, "kilnPolicy", json_integer(1));
    json_object_set_new(p, "seccomp", sc);
    json_object_set_new(p, "filesystem", fs);
    json_object_set_new(p, "network", net);
    json_object_set_new(
        p, "limits",
        json_pack("{s:I,s:I}", "memoryBytes", (json_int_t)268435456, "openFiles", (json_int_t)256));
    if (json_object_get(set, "connect"))
        json_array_append_new(notes, json_string("some program imports connect(): outgoing "
                                                 "connections are denied until network rules with "
                                                 "direction \"connect\" are added"));
    json_decref(set);
    return p;
}

static json_t *report(const struct kiln_analysis *an)
{
    json_t *r = json_object(), *files = json_array(), *graph = json_array(), *notes = json_array();
    struct kiln_analysis_counts c;
    for (size_t i = 0; i < an->nfiles; i++)
        json_array_append_new(files, file_json(an, &an->files[i]));
    for (size_t e = 0; e < an->nedges; e++) {
        const struct edge *ed = &an->edges[e];
        json_t *o = json_pack("{s:s,s:s,s:s}", "from", an->files[ed->from].path, "kind", ed->kind,
                              "name", ed->name);
        if (ed->to == SIZE_MAX)
            json_object_set_new(o, "missing", json_true());
        else
            json_object_set_new(o, "to", json_string(an->files[ed->to].path));
        json_array_append_new(graph, o);
    }
    for (size_t i = 0; i < an->nnotes; i++)
        json_array_append_new(notes, json_string(an->notes[i]));
    json_t *pol = policy_json(an, notes);
    kiln_analysis_counts(an, &c);
    json_t *sum = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "files", (json_int_t)c.files, "wasm", (json_int_t)c.wasm,
        "elf", (json_int_t)c.elf, "scripts", (json_int_t)c.scripts, "other", (json_int_t)c.other,
        "jitFlagged", (json_int_t)c.jit_flagged, "missingDependencies", (json_int_t)c.missing_deps);
    if (an->entrypoint) {
        size_t i;
        for (i = 0; i < an->nfiles && strcmp(an->files[i].path, an->entrypoint); i++) {
        }
        json_object_set_new(sum, "entrypoint",
                            json_pack("{s:s,s:s}", "path", an->entrypoint, "kind",
                                      i < an->nfiles ? kind_name(an->files[i].kind) : "other"));
    }
    json_object_set_new(r, "rootfs", json_string(an->rootfs));
    json_object_set_new(r, "summary", sum);
    json_object_set_new(r, "files", files);
    json_object_set_new(r, "graph", graph);
    json_object_set_new(r, "policy", pol);
    json_object_set_new(r, "notes", notes);
    return r;
}

static int dump(json_t *j, char **out, struct kiln_error *err)
{
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    *out = s;
    return 0;
}

/* Contract in kiln/image.h. */
int kiln_analysis_report_json(const struct kiln_analysis *an, char **out, struct kiln_error *err)
{
    return dump(report(an), out, err);
}

/* Contract in kiln/image.h. */
int kiln_analysis_policy_json(const struct kiln_analysis *an, char **out, struct kiln_error *err)
{
    json_t *notes = json_array();
    json_t *p = policy_json(an, notes);
    json_decref(notes);
    return dump(p, out, err);
}

struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
};

static void sb(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char tmp[1024];
    va_start(ap, fmt);
    int l = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (l < 0 || b->oom) return;
    if ((size_t)l >= sizeof tmp) l = sizeof tmp - 1;
    if (b->n + (size_t)l + 1 > b->cap) {
        size_t nc = (b->cap + (size_t)l + 1) * 2;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
    memcpy(b->s + b->n, tmp, (size_t)l + 1);
    b->n += (size_t)l;
}

/* Contract in kiln/image.h. */
int kiln_analysis_summary(const struct kiln_analysis *an, char **out, struct kiln_error *err)
{
    struct sbuf b = {0};
    struct kiln_analysis_counts c;
    kiln_analysis_counts(an, &c);
    sb(&b, "%s: %zu files analyzed: %zu wasm, %zu ELF, %zu scripts, %zu other\n", an->rootfs,
       c.files, c.wasm, c.elf, c.scripts, c.other);
    if (an->entrypoint) {
        const char *abi = NULL;
        int k = kiln_analysis_kind_of(an, an->entrypoint, &abi, NULL);
        sb(&b, "entrypoint: %s (%s%s%s)\n", an->entrypoint, kind_name(k < 0 ? 0 : k),
           abi && *abi ? ", " : "", abi && *abi ? abi : "");
    } else if (an->entrypoint_raw) {
        sb(&b, "entrypoint: %s (not found in the image)\n", an->entrypoint_raw);
    }
    for (int kind = KILN_KIND_WASM; kind <= KILN_KIND_SCRIPT; kind++) {
        bool hdr = false;
        for (size_t i = 0; i < an->nfiles; i++) {
            const struct afile *f = &an->files[i];
            if (f->kind != kind) continue;
            if (!hdr) {
                sb(&b, "%s:\n",
                   kind == KILN_KIND_WASM  ? "wasm modules"
                   : kind == KILN_KIND_ELF ? "ELF files"
                                           : "scripts");
                hdr = true;
            }
            sb(&b, "  %s", f->path);
            if (kind == KILN_KIND_WASM)
                sb(&b, "  abi %s, %zu imports, %zu exports", f->abi[0] ? f->abi : "none",
                   f->nwimports, f->nwexports);
            else if (kind == KILN_KIND_ELF && f->has_elf)
                sb(&b, "  %s %d-bit %s, %zu needed, %zu imported symbols, %llu syscall sites",
                   kiln_elf_machine_name(f->elf.machine), f->elf.elf_class, link_name(f->elf.link),
                   f->elf.nneeded, f->elf.nimports, (unsigned long long)f->elf.syscall_sites);
            else if (kind == KILN_KIND_SCRIPT)
                sb(&b, "  #! %s%s%s", f->interp ? f->interp : "", f->interp_arg ? " " : "",
                   f->interp_arg ? f->interp_arg : "");
            if (f->jit) sb(&b, "  [JIT indicators]");
            if (f->error) sb(&b, "  (%s)", f->error);
            sb(&b, "\n");
        }
    }
    for (size_t e = 0; e < an->nedges; e++)
        if (an->edges[e].to == SIZE_MAX)
            sb(&b, "missing %s: %s needs %s\n", an->edges[e].kind,
               an->files[an->edges[e].from].path, an->edges[e].name);
    if (c.jit_flagged) {
        sb(&b, "JIT indicators:\n");
        for (size_t i = 0; i < an->nfiles; i++) {
            const struct afile *f = &an->files[i];
            if (!f->jit) continue;
            json_t *a = jit_array(f->jit);
            char *s = json_dumps(a, JSON_COMPACT);
            sb(&b, "  %s %s\n", f->path, s ? s : "");
            free(s);
            json_decref(a);
        }
    }
    for (size_t i = 0; i < an->nnotes; i++)
        sb(&b, "note: %s\n", an->notes[i]);
    if (b.oom || !b.s) {
        free(b.s);
        return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    }
    *out = b.s;
    return 0;
}
