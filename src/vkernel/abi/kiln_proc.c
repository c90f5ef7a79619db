/*
 * kiln_proc.c — the "kiln_proc" import module: guest processes for wasm
 * guests (docs/guest-proc.md). WASI preview1 has no processes; these host
 * functions expose the vkernel's process calls (sys/sys_proc.c: spawn,
 * wait4, kill, getpid) plus pipe2, so a guest can start other verified units
 * of its container and connect them with pipes. They are linked next to
 * wasi_snapshot_preview1 only when the vkernel can spawn (daemon placement
 * and the container policy allows exec); otherwise a module importing them
 * does not link.
 *
 * Conventions as in wasi_p1.c: every guest pointer is bounds-checked before
 * use; results are WASI errnos (0 = success), out-values are written to
 * guest memory; a core result of -KILN_VK_EKILL (policy kill) traps. Strings
 * are passed as buffers of NUL-terminated strings (argv, env).
 *
 *   spawn(path, path_len, argv_buf, argv_len, argc, env_buf, env_len, nenv,
 *         stdio, pid_out) -> errno     stdio: 3 x i32 guest fds (-1: own)
 *   wait(pid, options, status_out, pid_out) -> errno   options: 1 = WNOHANG
 *   kill(pid, sig) -> errno
 *   pipe(fds_out) -> errno             fds_out: 2 x i32 (read end, write end)
 *   getpid() -> pid
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "vkernel/abi/kiln_proc.h"

/* WASI rights of pipe ends (the WASI preview1 bit numbers). */
#define R_FD_READ (1ull << 1)
#define R_FD_FDSTAT_SET_FLAGS (1ull << 3)
#define R_FD_WRITE (1ull << 6)
#define R_FD_FILESTAT_GET (1ull << 21)
#define R_POLL_FD_READWRITE (1ull << 27)
#define R_PIPE (R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE)

#define W_FAULT 21
#define W_INVAL 28

static uint8_t *mem_at(struct kiln_caller *c, uint64_t p, uint64_t len)
{
    struct kiln_memory *m = kiln_caller_memory(c);
    if (m == NULL || !kiln_memory_check(m, p, len)) return NULL;
    return kiln_memory_data(m) + p;
}

static int ok(uint64_t *res, int wasi_errno)
{
    res[0] = (uint32_t)wasi_errno;
    return 0;
}

static int done(struct kiln_caller *c, uint64_t *res, int64_t r)
{
    if (r == -KILN_VK_EKILL) return kiln_caller_trap(c, KILN_TRAP_HOST, 0, "killed by policy");
    return ok(res, r < 0 ? kiln_wasi_errno((int)-r) : 0);
}

static void st32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Splits a buffer of n NUL-terminated strings into v[0..n). Returns 0 or -1. */
static int split(char *buf, uint32_t len, uint32_t n, char **v)
{
    uint32_t i, k = 0;
    for (i = 0; i < n; i++) {
        char *z = k < len ? memchr(buf + k, 0, len - k) : NULL;
        if (z == NULL) return -1;
        v[i] = buf + k;
        k = (uint32_t)(z - buf) + 1;
    }
    return 0;
}

static int p_spawn(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)
{
    struct kiln_vk *vk = env;
    uint32_t plen = (uint32_t)a[1], alen = (uint32_t)a[3], argc = (uint32_t)a[4];
    uint32_t elen = (uint32_t)a[6], nenv = (uint32_t)a[7];
    uint8_t *path = mem_at(c, (uint32_t)a[0], plen), *ab = mem_at(c, (uint32_t)a[2], alen);
    uint8_t *eb = mem_at(c, (uint32_t)a[5], elen), *sp = mem_at(c, (uint32_t)a[8], 12);
    uint8_t *out = mem_at(c, (uint32_t)a[9], 4);
    char *abuf = NULL, *ebuf = NULL, **v = NULL;
    int stdio[3], i;
    int64_t r;
    if (path == NULL || ab == NULL || eb == NULL || sp == NULL || out == NULL)
        return ok(res, W_FAULT);
    if (argc > 64 || nenv > 64) return ok(res, kiln_wasi_errno(E2BIG));
    /* copies: the guest's memory may not be NUL-terminated where it claims */
    abuf = malloc(alen + 1);
    ebuf = malloc(elen + 1);
    v = calloc(argc + nenv + 1, sizeof *v);
    if (abuf == NULL || ebuf == NULL || v == NULL) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(abuf, ab, alen);
    memcpy(ebuf, eb, elen);
    if (split(abuf, alen, argc, v) < 0 || split(ebuf, elen, nenv, v + argc) < 0) {
        r = -EINVAL;
        goto out;
    }
    for (i = 0; i < 3; i++)
        stdio[i] = (int32_t)ld32(sp + 4 * i);
    r = kiln_vk_spawn(vk, (const char *)path, plen, (int)argc, v, (int)nenv, v + argc, stdio);
    if (r >= 0) st32(out, (uint32_t)r);
out:
    free(abuf);
    free(ebuf);
    free(v);
    return done(c, res, r);
}

static int p_wait(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)
{
    struct kiln_vk *vk = env;
    uint8_t *st = mem_at(c, (uint32_t)a[2], 4), *po = mem_at(c, (uint32_t)a[3], 4);
    int status = 0, r;
    if (st == NULL || po == NULL) return ok(res, W_FAULT);
    r = kiln_vk_wait(vk, (int32_t)a[0], &status, (int32_t)a[1]);
    if (r >= 0) {
        st32(st, (uint32_t)status);
        st32(po, (uint32_t)r);
    }
    return done(c, res, r);
}

static int p_kill(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)
{
    return done(c, res, kiln_vk_kill(env, (int32_t)a[0], (int32_t)a[1]));
}

static int p_pipe(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)
{
    struct kiln_vk *vk = env;
    uint8_t *out = mem_at(c, (uint32_t)a[0], 8);
    int fds[2], r;
    if (out == NULL) return ok(res, W_FAULT);
    r = kiln_vk_pipe(vk, fds, 0);
    if (r >= 0) {
        kiln_vk_fd_set_rights(vk, fds[0], R_PIPE | R_FD_READ, 0);
        kiln_vk_fd_set_rights(vk, fds[1], R_PIPE | R_FD_WRITE, 0);
        st32(out, (uint32_t)fds[0]);
        st32(out + 4, (uint32_t)fds[1]);
    }
    return done(c, res, r);
}

static int p_getpid(struct kiln_caller *c, const uint64_t *a, uint64_t *res, void *env)
{
    (void)c;
    (void)a;
    res[0] = (uint32_t)kiln_vk_getpid(env);
    return 0;
}

static const struct {
    const char *name;
    const char *params; /* one 'i' per i32 */
    kiln_host_fn fn;
} table[] = {
    {"spawn", "iiiiiiiiii", p_spawn}, {"wait", "iiii", p_wait},
    {"kill", "ii", p_kill},           {"pipe", "i", p_pipe},
    {"getpid", "", p_getpid},
};

/* Links one kiln_proc import; see kiln_proc.h. */
int kiln__proc_link(struct kiln_vk *vk, struct kiln_store *store, const struct kiln_importdesc *d,
                    struct kiln_extern *out, struct kiln_error *err)
{
    uint8_t types[16];
    struct kiln_functype ft;
    size_t i, k, np;
    if (!kiln_vk_can_spawn(vk))
        return kiln_error_set(err, KILN_E_LINK,
                              "import %s.%s: the kiln_proc module is not available (no daemon "
                              "placement, or the container policy allows no exec)",
                              d->module, d->name);
    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, d->name) == 0) break;
    if (i == sizeof table / sizeof table[0] || d->kind != KILN_EXTERN_FUNC)
        return kiln_error_set(err, KILN_E_LINK, "import %s.%s: unknown kiln_proc function",
                              d->module, d->name);
    np = strlen(table[i].params);
    for (k = 0; k <= np; k++)
        types[k] = KILN_I32;
    ft.nparams = (uint32_t)np;
    ft.nresults = 1;
    ft.types = types;
    if (d->functype.nparams != ft.nparams || d->functype.nresults != 1 ||
        memcmp(d->functype.types, types, np + 1) != 0)
        return kiln_error_set(err, KILN_E_LINK, "import %s.%s: incompatible import type", d->module,
                              d->name);
    out->kind = KILN_EXTERN_FUNC;
    out->of.func = kiln_func_new_host(store, &ft, table[i].fn, vk);
    if (out->of.func == NULL) return kiln_error_set(err, KILN_E_NOMEM, "kiln_proc: out of memory");
    return 0;
}
