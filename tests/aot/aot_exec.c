/*
 * aot_exec.c — kiln-aot-exec: runs a WASI program on the embedded vkernel,
 * interpreted or (with --aot DIR) as native code compiled once into the
 * cache DIR. A reduced `kiln exec` for the AOT differential tests and the
 * speedtest1 benchmark: the same program, the same vkernel, only the
 * engine mode differs.
 *
 *   kiln-aot-exec [--aot DIR [--metered]] [--dir HOST::GUEST]... [--env K=V]...
 *                 MODULE.wasm [ARGS...]
 *   kiln-aot-exec [--aot DIR [--metered]] --call FUNC N MODULE.wasm
 *
 * --metered compiles the object with interrupt and fuel polls (kiln compile
 * --metered), for A/B measurements of the polls. --call runs the export
 * FUNC(i32 N) of a module without WASI (bench/kernels, CoreMark) and prints
 * its result.
 *
 * Exit status: the guest's, or 1 with a message on stderr.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/aot.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) return NULL;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(b, cap = cap ? cap * 2 : 1 << 16);
            if (!nb) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (!got) break;
    }
    fclose(f);
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    const char *aot = NULL, *dirs[16], *call = NULL, *call_arg = NULL;
    bool metered = false;
    char *envs[16];
    int ndirs = 0, nenv = 0, i = 1, r, code = 1;
    struct kiln_error err;
    struct kiln_vk *vk = NULL;
    struct kiln_wasi *w = NULL;
    struct kiln_module *mod = NULL;
    struct kiln_store *store = NULL;
    struct kiln_trap trap;
    uint8_t *bytes = NULL;
    size_t len = 0;

    memset(&err, 0, sizeof err);
    memset(&trap, 0, sizeof trap);
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "--metered")) {
            metered = true;
            i--;
            continue;
        }
        if (!strcmp(argv[i], "--call") && i + 2 < argc) {
            call = argv[i + 1];
            call_arg = argv[i + 2];
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--aot")) aot = argv[i + 1];
        else if (!strcmp(argv[i], "--dir") && ndirs < 16) dirs[ndirs++] = argv[i + 1];
        else if (!strcmp(argv[i], "--env") && nenv < 16) envs[nenv++] = argv[i + 1];
        else break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: kiln-aot-exec [--aot DIR] [--dir HOST::GUEST] MODULE [ARGS]\n");
        return 2;
    }
    if (kiln_vk_new(&vk, &err) < 0) goto fail;
    for (r = 0; r < 3; r++)
        kiln_vk_install_fd(vk, r, r, KILN_VK_FD_NOCLOSE | (r ? KILN_VK_FD_STDOUT : 0));
    for (r = 0; r < ndirs; r++) {
        char host[4096];
        const char *sep = strstr(dirs[r], "::");
        if (!sep) {
            kiln_error_set(&err, KILN_E_ARG, "--dir %s: expected HOST::GUEST", dirs[r]);
            goto fail;
        }
        snprintf(host, sizeof host, "%.*s", (int)(sep - dirs[r]), dirs[r]);
        if (kiln_vk_mount(vk, host, sep + 2, 0, &err) < 0) goto fail;
    }
    bytes = read_file(argv[i], &len);
    if (!bytes) {
        kiln_error_set(&err, KILN_E_IO, "%s: cannot read", argv[i]);
        goto fail;
    }
    {
        struct kiln_module_config mcfg;
        kiln_module_config_default(&mcfg);
        mcfg.defer_compile = aot != NULL; /* as kiln run / kiln-stub do with a payload */
        if (kiln_module_new(bytes, len, &mcfg, &mod, &err) < 0) goto fail;
    }
    if (aot) {
        struct kiln_aot_opts o;
        memset(&o, 0, sizeof o);
        o.metered = metered;
        if (kiln_aot_compile_cached(mod, aot, &o, &err) < 0) goto fail;
    }
    store = kiln_store_new(NULL);
    if (!store) goto fail;
    if (call) {
        struct kiln_instance *inst = NULL;
        struct kiln_extern e;
        struct kiln_val a = {.type = KILN_I32}, res[1];
        struct kiln_functype ft;
        a.of.i32 = (int32_t)strtol(call_arg, NULL, 0);
        if (kiln_instance_new(store, mod, NULL, 0, &inst, &trap, &err) < 0) goto fail;
        if (!kiln_instance_export(inst, call, &e) || e.kind != KILN_EXTERN_FUNC) {
            kiln_error_set(&err, KILN_E_ARG, "%s: no function export %s", argv[i], call);
            goto fail;
        }
        kiln_func_type(e.of.func, &ft);
        if (ft.nparams != 1 || ft.nresults > 1) {
            kiln_error_set(&err, KILN_E_ARG, "%s: %s is not (i32) -> one value", argv[i], call);
            goto fail;
        }
        if (kiln_func_call(store, e.of.func, &a, 1, res, ft.nresults, &trap) < 0) {
            fprintf(stderr, "kiln-aot-exec: %s: trap: %s\n", argv[i], trap.msg);
            goto out;
        }
        if (ft.nresults)
            printf("%lld\n", res[0].type == KILN_I64 ? (long long)res[0].of.i64
                                                      : (long long)res[0].of.i32);
        code = 0;
        goto out;
    }
    if (kiln_wasi_new(vk, argc - i, argv + i, nenv, envs, &w, &err) < 0) goto fail;
    r = kiln_wasi_run(w, store, mod, &trap, &err);
    if (r < 0) goto fail;
    if (trap.kind != KILN_TRAP_NONE && trap.kind != KILN_TRAP_EXIT)
        fprintf(stderr, "kiln-aot-exec: %s: trap: %s\n", argv[i], trap.msg);
    code = r;
    goto out;
fail:
    fprintf(stderr, "kiln-aot-exec: %s\n", err.msg[0] ? err.msg : "failed");
out:
    kiln_wasi_free(w);
    kiln_store_free(store);
    kiln_module_free(mod);
    kiln_vk_free(vk);
    free(bytes);
    return code;
}
