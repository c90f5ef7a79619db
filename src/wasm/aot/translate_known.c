/*
 * translate_known.c — well-known libc functions for the AOT translator.
 * A defined function whose body is byte for byte one of Debian wasi-libc's
 * (musl) string functions below (SHA-256 of the body, with the immediates
 * of its calls zeroed and each callee checked to be one of the expected
 * known functions) gets a native fast path: when fuel is not metered, the
 * interpreter's depth limit would not be reached by the function or its
 * callees (metered code: only it counts frames), and every byte the
 * function may touch is inside memory 0, the helpers of aot_known.h
 * (embedded into every generated file) compute the result; in every other
 * case the translated body runs (so traps, partial writes and fuel are
 * exactly those of the wasm code). The result is the
 * one the wasm code computes: these musl functions have one possible result
 * for in-bounds arguments (memcmp, strcmp and strncmp return the difference
 * of the first differing bytes, as musl's do; chars are compared unsigned;
 * strchr(s, 0) finds the terminator).
 *
 * The bodies are those of wasi-libc 0.0~git20220510.9886d3d (Debian 12)
 * built by clang 14 -O2, as lld links them (not rewritten by binaryen's
 * wasm-opt); tests/aot/known/ checks each one against the interpreter and
 * that they are recognised in programs built from that libc.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/unit.h" /* kiln_sha256_hex */
#include "wasm/aot/aot_internal.h"
#include "wasm/module.h"
#include "wasm/reader.h"

enum {
    KF_NONE = KILN__AOT_KF_NONE,
    KF_MEMCPY,
    KF_MEMMOVE,
    KF_MEMSET,
    KF_MEMCMP,
    KF_STRLEN,
    KF_MEMCHR,
    KF_STRCHRNUL,
    KF_STRCHR,
    KF_STRCSPN,
    KF_STRSPN,
    KF_STRCMP,
    KF_STRNCMP,
    KF_STRNLEN,
    KF_MEMRCHR,
    KF_STRRCHR,
    KF_COUNT
};
#define B(k) (1u << (k))

/* One well-known function: its wasm signature is (i32 x nparams) -> i32. */
struct known_fn {
    uint8_t kind;
    const char *name; /* musl's name; the fast path is kx_k_<name> in aot_known.h */
    uint8_t nparams;
    uint8_t chain;      /* how deep its calls nest (0: a leaf) */
    uint32_t len;       /* body length */
    const char *sha256; /* of the body with call immediates zeroed */
    uint32_t callees;   /* B(kind) of what its calls may target (0: no calls) */
};
/* the kinds with a kx_k_<name>_fast (aot_known.h): their common case inline,
 * the rest through kx_k_<name> out of line */
/* (strlen, memchr: the scans up to the hand-over to the host's memchr, aot_known.h) */
#define KF_WITH_FAST (B(KF_MEMCMP) | B(KF_STRCSPN) | B(KF_STRSPN) | B(KF_STRLEN) | B(KF_MEMCHR))
static const struct known_fn g_known[] = {
    /* wasi-libc 0.0~git20220510.9886d3d (Debian 12), clang 14 -O2 */
    {KF_MEMCPY, "memcpy", 3, 0, 1296,
     "9309fc4b367619f4e757d7fa0e9f69b126204f97105475b70b80de24d38e9de8", 0},
    {KF_MEMMOVE, "memmove", 3, 1, 1287,
     "733e968ef9a068947a78b512a128301cae22c909fdc228995d8f0157e82cb256", B(KF_MEMCPY)},
    {KF_MEMSET, "memset", 3, 0, 379,
     "deff370dc7f59d36989adab2cc33cfb5301abdb1db79ba597b353842b2e299bb", 0},
    {KF_MEMCMP, "memcmp", 3, 0, 73,
     "0c7dcc3ae4fa79ba231ede22d4305eed59eb0907f39aa455f713dc8ad552a3fb", 0},
    {KF_STRLEN, "strlen", 1, 0, 177,
     "438492c91b2de7468434ff17fc2084e84443d35b3f804a0930a7940eec88cf7a", 0},
    {KF_MEMCHR, "memchr", 3, 0, 370,
     "74ebf63086b96f7be80da14a0d7f6770d59ede904608a50770721e98345ed115", 0},
    {KF_STRCHRNUL, "strchrnul", 2, 1, 353,
     "d32e5a0e129d7b1d59dac6b48e9f375091596c1ce94607d34d18d9ede2041d95", B(KF_STRLEN)},
    {KF_STRCHR, "strchr", 2, 2, 29,
     "16efde0bb804a53aa4d42b3b501d535fb5c650230008947fc8634638124c67a1", B(KF_STRCHRNUL)},
    {KF_STRCSPN, "strcspn", 2, 2, 258,
     "36716552ce825079fe4a39e210ae539650d55f86bbe8028f28f5a7681c81f8ec", B(KF_STRCHRNUL)},
    {KF_STRSPN, "strspn", 2, 0, 261,
     "5b592f897a5699240d14575e73246cccbadbde3d400418678c25378b78494a84", 0},
    {KF_STRCMP, "strcmp", 2, 0, 103,
     "a4c0e9062778c9040bd63df039c1b1e1f35cd0d0fad35475d3cd601a5bbb21cd", 0},
    {KF_STRNCMP, "strncmp", 3, 0, 143,
     "c1f4da8be6446425bb93bfa1c2bc586959d685e03317434f3b62070209b07d3d", 0},
    {KF_STRNLEN, "strnlen", 2, 1, 26,
     "a41040e9a3c86bd854f2b35917fb04797182d259bc30ef74dc1fac9f0896a49b", B(KF_MEMCHR)},
    {KF_MEMRCHR, "memrchr", 3, 0, 57,
     "54dadddfe1cce129ba5800267caf8f1d22d9806d4a8415301c1397074367bc79", 0},
    {KF_STRRCHR, "strrchr", 2, 1, 23,
     "a77d7b3c4a1fe453891285e0a313eafdff6f2bdc1985171ca79707505a0b7f72",
     B(KF_STRLEN) | B(KF_MEMRCHR)},
};
#define NKNOWN (sizeof g_known / sizeof g_known[0])

/* The table entry of kind (kinds are unique in g_known). */
static const struct known_fn *known_of(uint8_t kind)
{
    for (size_t k = 0; k < NKNOWN; k++)
        if (g_known[k].kind == kind) return &g_known[k];
    return NULL;
}

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
    for (k = 0; k < NKNOWN; k++)
        if (g_known[k].len == fn->body_len) break;
    if (k == NKNOWN) return KF_NONE;
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
    for (k = 0; k < NKNOWN; k++) {
        const struct known_fn *kf = &g_known[k];
        if (kf->len != fn->body_len || strcmp(kf->sha256, hex) != 0) continue;
        for (uint32_t i = 0; i < ncallees; i++) {
            uint8_t ck = known_kind(mod, callees[i], depth + 1);
            if (ck == KF_NONE || !(kf->callees & B(ck))) goto out;
        }
        if (!sig_i32(mod, f, kf->nparams)) goto out;
        kind = kf->kind;
        break;
    }
out:
    free(copy);
    return kind;
}

/* Emits the native fast path of known function f (named <name><f>)
 * around its translated body (named fw<f>, reached through a cold,
 * never-inlined thunk fx<f>, so the fast path needs no saved registers).
 * For the kinds of KF_WITH_FAST, <name><f> calls kx_k_<name>_fast and, when
 * that declines, fy<f> (never inlined: kx_k_<name>_slow, which may rely on
 * the _fast one having declined, then fx<f>), so that
 * no value is live across a call on the common path. <name><f> and fy<f>
 * make sibling calls (KX_K_TAIL, gcc), so the common path has no frame.
 *
 * The conditions: unmetered code (instance.c never runs it with fuel)
 * always tries the fast path, since its translated body counts no frames
 * and polls for nothing either (a signal interrupts it, fast paths
 * included; a fast path's frame is a leaf's, within the stack margin).
 * Metered code tries it when fuel is not metered and, for a function that
 * calls others (name "f": not a leaf), where no call in its chain of
 * callees would reach the depth limit and no interruption is pending (what
 * its entry and its callees' entries check). */
void kiln__aot_emit_known(struct kiln__sb *b, uint8_t kind, uint32_t f, const char *name)
{
    const struct known_fn *kf = known_of(kind);
    const char *args[] = {"", ", l0", ", l0, l1", ", l0, l1, l2"};
    char params[80] = "";
    uint8_t np = kf ? kf->nparams : 0;
    bool fast = (KF_WITH_FAST & B(kind)) != 0;
    if (!kf) return; /* cannot happen: kind came from known_kind */
    for (uint8_t i = 0; i < np; i++)
        snprintf(params + strlen(params), sizeof params - strlen(params), ", uint32_t l%u", i);
    kiln__sb_printf(b,
                    "static __attribute__((noinline, cold)) uint32_t fx%u("
                    "struct kiln_instance *inst%s)\n{\nreturn fw%u(inst%s);\n}\n\n",
                    f, params, f, args[np]);
    if (fast)
        kiln__sb_printf(
            b,
            "static KX_K_TAIL __attribute__((noinline)) uint32_t fy%u("
            "struct kiln_instance *inst%s)\n{\n"
            "uint64_t r_ = kx_k_%s_slow(inst->mem0_base, inst->mem0->size%s);\n"
            "if (KX_LIKELY(r_ != KX_K_FALLBACK)) return (uint32_t)r_;\n"
            "return fx%u(inst%s);\n}\n\n",
            f, params, kf->name, args[np], f, args[np]);
    kiln__sb_printf(
        b,
        "KX_HIDDEN KX_K_TAIL uint32_t %s%u(struct kiln_instance *inst%s)\n"
        "{\nKX_EX_DECL();\n/* %s (wasi-libc): native when in bounds */\n"
        "if (KX_LIKELY(kx_unmetered(ex)",
        name, f, params, kf->name);
    if (strcmp(name, "f") == 0)
        kiln__sb_printf(b,
                        " && (!KX_METERED || (ex->depth + %u < ex->max_depth && "
                        "atomic_load_explicit(&ex->store->interrupt, memory_order_relaxed) == 0))",
                        kf->chain ? kf->chain : 1);
    kiln__sb_printf(b,
                    ")) {\nuint64_t r_ = kx_k_%s%s(inst->mem0_base, inst->mem0->size%s);\n"
                    "if (KX_LIKELY(r_ != KX_K_FALLBACK)) return (uint32_t)r_;\n",
                    kf->name, fast ? "_fast" : "", args[np]);
    if (fast) kiln__sb_printf(b, "return fy%u(inst%s);\n", f, args[np]);
    kiln__sb_printf(b, "}\nreturn fx%u(inst%s);\n}\n\n", f, args[np]);
}

/* The known kind of defined function f (see aot_internal.h). */
uint8_t kiln__aot_known_kind(const struct kiln_module *mod, uint32_t f)
{
    return known_kind(mod, f, 0);
}
