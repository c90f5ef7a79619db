/*
 * translate_known.c — well-known libc functions for the AOT translator.
 * A defined function whose body is byte for byte one of Debian wasi-libc's
 * (musl) string functions below (SHA-256 of the body, with the immediates
 * of its calls zeroed and each callee checked to be the expected known
 * function) gets a native fast path: when fuel is not metered and every
 * byte the function may touch is inside memory 0 (and, for memcpy, the
 * ranges do not overlap), the C library does the work; in every other case
 * the translated body runs (so traps, partial writes and fuel are exactly
 * those of the wasm code). The result is the one the wasm code computes:
 * these musl functions have one possible result for in-bounds arguments
 * (memcmp returns the difference of the first differing bytes, as musl's
 * does). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/unit.h" /* kiln_sha256_hex */
#include "wasm/aot/aot_internal.h"
#include "wasm/module.h"
#include "wasm/reader.h"

enum { KF_NONE = KILN__AOT_KF_NONE, KF_MEMCPY, KF_MEMMOVE, KF_MEMSET, KF_MEMCMP, KF_STRLEN };
struct known_fn {
    uint8_t kind;
    uint32_t len;       /* body length */
    const char *sha256; /* of the body with call immediates zeroed */
    uint8_t callee;     /* kind every call in the body must target (KF_NONE: no calls) */
};
static const struct known_fn g_known[] = {
    /* wasi-libc 0.0~git20220510.9886d3d (Debian 12), clang 14 -O2 */
    {KF_MEMCPY, 1296, "9309fc4b367619f4e757d7fa0e9f69b126204f97105475b70b80de24d38e9de8", KF_NONE},
    {KF_MEMMOVE, 1287, "733e968ef9a068947a78b512a128301cae22c909fdc228995d8f0157e82cb256",
     KF_MEMCPY},
    {KF_MEMSET, 379, "deff370dc7f59d36989adab2cc33cfb5301abdb1db79ba597b353842b2e299bb", KF_NONE},
    {KF_MEMCMP, 73, "0c7dcc3ae4fa79ba231ede22d4305eed59eb0907f39aa455f713dc8ad552a3fb", KF_NONE},
    {KF_STRLEN, 177, "438492c91b2de7468434ff17fc2084e84443d35b3f804a0930a7940eec88cf7a", KF_NONE},
};
static const char *const g_known_name[] = {"", "memcpy", "memmove", "memset", "memcmp", "strlen"};

/* True when function f has type (i32 x np) -> i32. */
static bool sig_i32(const struct kiln_module *mod, uint32_t f, uint32_t np)
{
    const struct kiln__functype *ft = &mod->types[mod->funcs[f].type_idx];
    if (ft->nparams != np || ft->nresults != 1) return false;
    for (uint32_t i = 0; i <= np; i++)
        if (ft->types[i] != KILN_I32) return false;
    return true;
}

/* The known kind of defined function f (KF_NONE if it is none of them). */
static uint8_t known_kind(const struct kiln_module *mod, uint32_t f, unsigned depth)
{
    const struct kiln__func *fn = &mod->funcs[f];
    uint32_t callees[4], ncallees = 0;
    uint8_t *copy;
    char hex[65];
    struct kiln__reader r;
    uint8_t kind = KF_NONE;
    size_t k;

    if (f < mod->nfunc_imports || mod->nmems == 0 || depth > 2) return KF_NONE;
    for (k = 0; k < sizeof g_known / sizeof g_known[0]; k++)
        if (g_known[k].len == fn->body_len) break;
    if (k == sizeof g_known / sizeof g_known[0]) return KF_NONE;
    copy = malloc(fn->body_len);
    if (!copy) return KF_NONE;
    memcpy(copy, mod->bytes + fn->body_off, fn->body_len);
    /* zero the immediates of calls (function indices differ between
     * modules), remembering the callees */
    kiln__reader_init(&r, mod->bytes, mod->bytes + fn->code_off,
                      mod->bytes + fn->body_off + fn->body_len);
    while (!r.err && kiln__reader_off(&r) < fn->body_off + fn->body_len) {
        uint8_t b = kiln__read_u8(&r);
        uint32_t code = b == 0xfc || b == 0xfd ? kiln__read_u32(&r) : b;
        int imm = kiln__aot_op_imm(b, code);
        if (b == 0xfd || imm < 0) goto out; /* SIMD or unknown: not one of ours */
        if (b == 0x10) {
            size_t at = kiln__reader_off(&r) - fn->body_off;
            uint32_t c = kiln__read_u32(&r);
            size_t end = kiln__reader_off(&r) - fn->body_off;
            if (ncallees == 4 || c >= mod->nfuncs) goto out;
            callees[ncallees++] = c;
            memset(copy + at, 0, end - at);
            continue;
        }
        kiln__aot_skip_imm(&r, (uint8_t)imm);
    }
    if (r.err) goto out;
    kiln_sha256_hex(copy, fn->body_len, hex);
    for (k = 0; k < sizeof g_known / sizeof g_known[0]; k++) {
        const struct known_fn *kf = &g_known[k];
        if (kf->len != fn->body_len || strcmp(kf->sha256, hex) != 0) continue;
        for (uint32_t i = 0; i < ncallees; i++)
            if (kf->callee == KF_NONE || known_kind(mod, callees[i], depth + 1) != kf->callee)
                goto out;
        if (!sig_i32(mod, f, kf->kind == KF_STRLEN ? 1 : 3)) goto out;
        kind = kf->kind;
        break;
    }
out:
    free(copy);
    return kind;
}

/* Emits the native fast path of known function f (named <name><f>)
 * around its translated body (named fw<f>). A function that calls others
 * (memmove, whose callee is a leaf) takes the fast path only where neither
 * its own entry nor a call one level deeper would reach the depth limit. */
void kiln__aot_emit_known(struct kiln__sb *b, uint8_t kind, uint32_t f, const char *name)
{
    kiln__sb_printf(b,
                    "KX_HIDDEN uint32_t %s%u(struct kiln__exec *ex, struct kiln_instance *inst, "
                    "uint32_t l0",
                    name, f);
    if (kind != KF_STRLEN) kiln__sb_printf(b, ", uint32_t l1, uint32_t l2");
    kiln__sb_printf(b,
                    ")\n{\n/* %s (wasi-libc): native when in bounds */\n"
                    "uint8_t *mem = inst->mem0_base;\n"
                    "if (KX_LIKELY(kx_unmetered(ex)%s)) {\n",
                    g_known_name[kind],
                    strcmp(name, "f") == 0 ? " && ex->depth + 1 < ex->max_depth" : "");
    switch (kind) {
    case KF_MEMCPY:
        kiln__sb_printf(b, "if (kx_inb(inst, l0, l2) && kx_inb(inst, l1, l2) && ((uint64_t)l0 + l2 "
                           "<= l1 || (uint64_t)l1 + l2 <= l0)) { memcpy(mem + l0, mem + l1, l2); "
                           "return l0; }\n");
        break;
    case KF_MEMMOVE:
        kiln__sb_printf(b, "if (kx_inb(inst, l0, l2) && kx_inb(inst, l1, l2)) { memmove(mem + l0, "
                           "mem + l1, l2); return l0; }\n");
        break;
    case KF_MEMSET:
        kiln__sb_printf(b, "if (kx_inb(inst, l0, l2)) { memset(mem + l0, (int)(uint8_t)l1, l2); "
                           "return l0; }\n");
        break;
    case KF_MEMCMP:
        kiln__sb_printf(b, "if (kx_inb(inst, l0, l2) && kx_inb(inst, l1, l2)) return "
                           "kx_memcmp_diff(mem + l0, mem + l1, l2);\n");
        break;
    default: /* strlen */
        kiln__sb_printf(b, "uint64_t z_ = inst->mem0->size; if (l0 < z_) { const uint8_t *e_ = "
                           "memchr(mem + l0, 0, z_ - l0); if (e_) return (uint32_t)(e_ - (mem + "
                           "l0)); }\n");
        break;
    }
    kiln__sb_printf(b, "}\nreturn fw%u(ex, inst, l0%s);\n}\n\n", f,
                    kind == KF_STRLEN ? "" : ", l1, l2");
}

/* The known kind of defined function f (see aot_internal.h). */
uint8_t kiln__aot_known_kind(const struct kiln_module *mod, uint32_t f)
{
    return known_kind(mod, f, 0);
}
