/*
 * translate.c — validated wasm (struct kiln_module) → C source for the AOT
 * compiler. One pass over each function body with a virtual operand stack
 * of C variables; no re-validation (the module was validated by
 * kiln_module_new, so every index and type below is known to be good).
 *
 * Mapping:
 *   - defined function i  → hidden C function f<i>(inst, params...)
 *     returning its result (void, one value, or struct kxr<type> for
 *     multi-value); a trampoline t<i>(ex, inst, args slots, results slots).
 *     No exec parameter: code that needs the exec finds it as
 *     inst->store->exec (aot_gen.h, KX_EX_DECL), which keeps it out of a
 *     register and out of every call's arguments;
 *   - locals → l<k>; the operand stack entry at height h of C type X →
 *     variable s<h><X> (i u32, l u64, f float, d double, v v128, r void *),
 *     so block results and branch values meet at the same variables;
 *   - block/loop/if → labels and gotos (Lb<n> at a block's end, Lt<n> at a
 *     loop's head, Le<n> at an if's else); branches to the function's
 *     outermost block are returns; a branch to a loop head (a back-edge)
 *     checks interruption and fuel like the interpreter when the object is
 *     metered (KX_METERED; unmetered code has no polls, aot_gen.h);
 *   - traps call kx_rt->trap (noreturn) with the interpreter's kinds;
 *   - loads/stores are unchecked (guard region); bulk memory and tables
 *     are checked as the spec requires;
 *   - calls: defined functions directly; imports and call_indirect through
 *     the callee's typed native entry if it is AOT code, else through
 *     kx_rt->call (host functions, interpreted functions).
 *
 * Output: nparts C files; part 0 holds the descriptor kiln_aot_module, the
 * trampolines and the runtime pointer; functions are spread over the parts
 * by body size. Every part starts with the same prelude (types and
 * prototypes).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/unit.h" /* kiln_sha256_hex */
#include "wasm/aot/aot_internal.h"
#include "wasm/aot/aot_rt.h" /* KILN_AOT_F_METERED */
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* ---- string buffer ---------------------------------------------------------- */

void kiln__sb_free(struct kiln__sb *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

static void sb_grow(struct kiln__sb *b, size_t need)
{
    size_t nc;
    char *ns;
    if (b->oom || b->len + need + 1 <= b->cap) return;
    nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->len + need + 1) nc *= 2;
    ns = realloc(b->s, nc);
    if (!ns) {
        b->oom = true;
        return;
    }
    b->s = ns;
    b->cap = nc;
}

void kiln__sb_put(struct kiln__sb *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void kiln__sb_printf(struct kiln__sb *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[256];
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        kiln__sb_put(b, small, (size_t)n);
        return;
    }
    sb_grow(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

#define P(...) kiln__sb_printf(&t->body, __VA_ARGS__)

/* ---- opcode tables (from ops.def) ---------------------------------------------- */

struct opinfo {
    uint8_t prefix;
    uint32_t code;
    uint8_t imm;
    uint8_t sig;
    uint8_t arg;
};
static const struct opinfo g_ops[] = {
#define OP(id, prefix, code, name, imm, sig, arg) {prefix, code, KILN__##imm, KILN__##sig, arg},
#include "wasm/ops.def"
};
static const char *const g_opid[] = {
#define OP(id, prefix, code, name, imm, sig, arg) #id,
#include "wasm/ops.def"
};
struct siginfo {
    uint8_t np, p[3], nr, r;
};
static const struct siginfo g_sigs[] = {
#define SIG(sig, np, p0, p1, p2, nr, r0) {np, {p0, p1, p2}, nr, r0},
#include "wasm/ops.def"
};

enum { C_NONE = 0, C_UNARY, C_BINARY, C_TERNARY, C_SHIFT, C_SPLAT, C_EXTRACT, C_REPLACE,
       C_SHUFFLE, C_TEST, C_LOAD, C_LOAD_LANE, C_STORE_LANE };
#include "wasm/simd_ops.h"
static const uint8_t g_simd_class[KILN__OP__COUNT] = {
#define X(id) [KILN__OP_##id] = C_UNARY,
    KILN__SIMD_UNARY(X)
#undef X
#define X(id) [KILN__OP_##id] = C_BINARY,
    KILN__SIMD_BINARY(X)
#undef X
#define X(id) [KILN__OP_##id] = C_TERNARY,
    KILN__SIMD_TERNARY(X)
#undef X
#define X(id) [KILN__OP_##id] = C_SHIFT,
    KILN__SIMD_SHIFT(X)
#undef X
#define X(id) [KILN__OP_##id] = C_SPLAT,
    KILN__SIMD_SPLAT(X)
#undef X
#define X(id) [KILN__OP_##id] = C_EXTRACT,
    KILN__SIMD_EXTRACT(X)
#undef X
#define X(id) [KILN__OP_##id] = C_REPLACE,
    KILN__SIMD_REPLACE(X)
#undef X
#define X(id) [KILN__OP_##id] = C_SHUFFLE,
    KILN__SIMD_SHUFFLE(X)
#undef X
#define X(id) [KILN__OP_##id] = C_TEST,
    KILN__SIMD_TEST(X)
#undef X
#define X(id) [KILN__OP_##id] = C_LOAD,
    KILN__SIMD_LOAD(X)
#undef X
#define X(id) [KILN__OP_##id] = C_LOAD_LANE,
    KILN__SIMD_LOAD_LANE(X)
#undef X
#define X(id) [KILN__OP_##id] = C_STORE_LANE,
    KILN__SIMD_STORE_LANE(X)
#undef X
};

/* C expressions of the plain numeric ops: $1 $2 are the operands (C types
 * of their wasm types: uint32_t, uint64_t, float, double). */
static const char *const g_tmpl[KILN__OP__COUNT] = {
    [KILN__OP_I32_EQZ] = "$1 == 0",
    [KILN__OP_I32_EQ] = "$1 == $2",
    [KILN__OP_I32_NE] = "$1 != $2",
    [KILN__OP_I32_LT_S] = "(int32_t)$1 < (int32_t)$2",
    [KILN__OP_I32_LT_U] = "$1 < $2",
    [KILN__OP_I32_GT_S] = "(int32_t)$1 > (int32_t)$2",
    [KILN__OP_I32_GT_U] = "$1 > $2",
    [KILN__OP_I32_LE_S] = "(int32_t)$1 <= (int32_t)$2",
    [KILN__OP_I32_LE_U] = "$1 <= $2",
    [KILN__OP_I32_GE_S] = "(int32_t)$1 >= (int32_t)$2",
    [KILN__OP_I32_GE_U] = "$1 >= $2",
    [KILN__OP_I64_EQZ] = "$1 == 0",
    [KILN__OP_I64_EQ] = "$1 == $2",
    [KILN__OP_I64_NE] = "$1 != $2",
    [KILN__OP_I64_LT_S] = "(int64_t)$1 < (int64_t)$2",
    [KILN__OP_I64_LT_U] = "$1 < $2",
    [KILN__OP_I64_GT_S] = "(int64_t)$1 > (int64_t)$2",
    [KILN__OP_I64_GT_U] = "$1 > $2",
    [KILN__OP_I64_LE_S] = "(int64_t)$1 <= (int64_t)$2",
    [KILN__OP_I64_LE_U] = "$1 <= $2",
    [KILN__OP_I64_GE_S] = "(int64_t)$1 >= (int64_t)$2",
    [KILN__OP_I64_GE_U] = "$1 >= $2",
    [KILN__OP_F32_EQ] = "$1 == $2",
    [KILN__OP_F32_NE] = "$1 != $2",
    [KILN__OP_F32_LT] = "$1 < $2",
    [KILN__OP_F32_GT] = "$1 > $2",
    [KILN__OP_F32_LE] = "$1 <= $2",
    [KILN__OP_F32_GE] = "$1 >= $2",
    [KILN__OP_F64_EQ] = "$1 == $2",
    [KILN__OP_F64_NE] = "$1 != $2",
    [KILN__OP_F64_LT] = "$1 < $2",
    [KILN__OP_F64_GT] = "$1 > $2",
    [KILN__OP_F64_LE] = "$1 <= $2",
    [KILN__OP_F64_GE] = "$1 >= $2",
    [KILN__OP_I32_CLZ] = "kx_clz32($1)",
    [KILN__OP_I32_CTZ] = "kx_ctz32($1)",
    [KILN__OP_I32_POPCNT] = "(uint32_t)__builtin_popcount($1)",
    [KILN__OP_I32_ADD] = "$1 + $2",
    [KILN__OP_I32_SUB] = "$1 - $2",
    [KILN__OP_I32_MUL] = "$1 * $2",
    [KILN__OP_I32_DIV_S] = "KX_DIVS32($1, $2)",
    [KILN__OP_I32_DIV_U] = "KX_DIVU($1, $2)",
    [KILN__OP_I32_REM_S] = "KX_REMS32($1, $2)",
    [KILN__OP_I32_REM_U] = "KX_REMU($1, $2)",
    [KILN__OP_I32_AND] = "$1 & $2",
    [KILN__OP_I32_OR] = "$1 | $2",
    [KILN__OP_I32_XOR] = "$1 ^ $2",
    [KILN__OP_I32_SHL] = "$1 << ($2 & 31)",
    [KILN__OP_I32_SHR_S] = "(uint32_t)((int32_t)$1 >> ($2 & 31))",
    [KILN__OP_I32_SHR_U] = "$1 >> ($2 & 31)",
    [KILN__OP_I32_ROTL] = "kx_rotl32($1, $2)",
    [KILN__OP_I32_ROTR] = "kx_rotr32($1, $2)",
    [KILN__OP_I64_CLZ] = "kx_clz64($1)",
    [KILN__OP_I64_CTZ] = "kx_ctz64($1)",
    [KILN__OP_I64_POPCNT] = "(uint64_t)__builtin_popcountll($1)",
    [KILN__OP_I64_ADD] = "$1 + $2",
    [KILN__OP_I64_SUB] = "$1 - $2",
    [KILN__OP_I64_MUL] = "$1 * $2",
    [KILN__OP_I64_DIV_S] = "KX_DIVS64($1, $2)",
    [KILN__OP_I64_DIV_U] = "KX_DIVU($1, $2)",
    [KILN__OP_I64_REM_S] = "KX_REMS64($1, $2)",
    [KILN__OP_I64_REM_U] = "KX_REMU($1, $2)",
    [KILN__OP_I64_AND] = "$1 & $2",
    [KILN__OP_I64_OR] = "$1 | $2",
    [KILN__OP_I64_XOR] = "$1 ^ $2",
    [KILN__OP_I64_SHL] = "$1 << ($2 & 63)",
    [KILN__OP_I64_SHR_S] = "(uint64_t)((int64_t)$1 >> ($2 & 63))",
    [KILN__OP_I64_SHR_U] = "$1 >> ($2 & 63)",
    [KILN__OP_I64_ROTL] = "kx_rotl64($1, $2)",
    [KILN__OP_I64_ROTR] = "kx_rotr64($1, $2)",
    [KILN__OP_F32_ABS] = "kx_abs32($1)",
    [KILN__OP_F32_NEG] = "kx_neg32($1)",
    [KILN__OP_F32_CEIL] = "kx_ceil32($1)",
    [KILN__OP_F32_FLOOR] = "kx_floor32($1)",
    [KILN__OP_F32_TRUNC] = "kx_trunc32($1)",
    [KILN__OP_F32_NEAREST] = "kx_nearest32($1)",
    [KILN__OP_F32_SQRT] = "__builtin_sqrtf($1)",
    [KILN__OP_F32_ADD] = "$1 + $2",
    [KILN__OP_F32_SUB] = "$1 - $2",
    [KILN__OP_F32_MUL] = "$1 * $2",
    [KILN__OP_F32_DIV] = "$1 / $2",
    [KILN__OP_F32_MIN] = "kx_fmin32($1, $2)",
    [KILN__OP_F32_MAX] = "kx_fmax32($1, $2)",
    [KILN__OP_F32_COPYSIGN] = "kx_copysign32($1, $2)",
    [KILN__OP_F64_ABS] = "kx_abs64($1)",
    [KILN__OP_F64_NEG] = "kx_neg64($1)",
    [KILN__OP_F64_CEIL] = "kx_ceil64($1)",
    [KILN__OP_F64_FLOOR] = "kx_floor64($1)",
    [KILN__OP_F64_TRUNC] = "kx_trunc64($1)",
    [KILN__OP_F64_NEAREST] = "kx_nearest64($1)",
    [KILN__OP_F64_SQRT] = "__builtin_sqrt($1)",
    [KILN__OP_F64_ADD] = "$1 + $2",
    [KILN__OP_F64_SUB] = "$1 - $2",
    [KILN__OP_F64_MUL] = "$1 * $2",
    [KILN__OP_F64_DIV] = "$1 / $2",
    [KILN__OP_F64_MIN] = "kx_fmin64($1, $2)",
    [KILN__OP_F64_MAX] = "kx_fmax64($1, $2)",
    [KILN__OP_F64_COPYSIGN] = "kx_copysign64($1, $2)",
    [KILN__OP_I32_WRAP_I64] = "(uint32_t)$1",
    [KILN__OP_I32_TRUNC_F32_S] =
        "KX_TRUNC(float, $1, x_ >= -2147483648.0f, x_ < 2147483648.0f, (uint32_t)(int32_t)x_)",
    [KILN__OP_I32_TRUNC_F32_U] =
        "KX_TRUNC(float, $1, x_ > -1.0f, x_ < 4294967296.0f, (uint32_t)x_)",
    [KILN__OP_I32_TRUNC_F64_S] =
        "KX_TRUNC(double, $1, x_ > -2147483649.0, x_ < 2147483648.0, (uint32_t)(int32_t)x_)",
    [KILN__OP_I32_TRUNC_F64_U] =
        "KX_TRUNC(double, $1, x_ > -1.0, x_ < 4294967296.0, (uint32_t)x_)",
    [KILN__OP_I64_EXTEND_I32_S] = "(uint64_t)(int64_t)(int32_t)$1",
    [KILN__OP_I64_EXTEND_I32_U] = "(uint64_t)$1",
    [KILN__OP_I64_TRUNC_F32_S] = "KX_TRUNC(float, $1, x_ >= -9223372036854775808.0f, x_ < "
                                 "9223372036854775808.0f, (uint64_t)(int64_t)x_)",
    [KILN__OP_I64_TRUNC_F32_U] =
        "KX_TRUNC(float, $1, x_ > -1.0f, x_ < 18446744073709551616.0f, (uint64_t)x_)",
    [KILN__OP_I64_TRUNC_F64_S] = "KX_TRUNC(double, $1, x_ >= -9223372036854775808.0, x_ < "
                                 "9223372036854775808.0, (uint64_t)(int64_t)x_)",
    [KILN__OP_I64_TRUNC_F64_U] =
        "KX_TRUNC(double, $1, x_ > -1.0, x_ < 18446744073709551616.0, (uint64_t)x_)",
    [KILN__OP_F32_CONVERT_I32_S] = "(float)(int32_t)$1",
    [KILN__OP_F32_CONVERT_I32_U] = "(float)$1",
    [KILN__OP_F32_CONVERT_I64_S] = "(float)(int64_t)$1",
    [KILN__OP_F32_CONVERT_I64_U] = "(float)$1",
    [KILN__OP_F32_DEMOTE_F64] = "(float)$1",
    [KILN__OP_F64_CONVERT_I32_S] = "(double)(int32_t)$1",
    [KILN__OP_F64_CONVERT_I32_U] = "(double)$1",
    [KILN__OP_F64_CONVERT_I64_S] = "(double)(int64_t)$1",
    [KILN__OP_F64_CONVERT_I64_U] = "(double)$1",
    [KILN__OP_F64_PROMOTE_F32] = "kx_promote($1)",
    [KILN__OP_I32_REINTERPRET_F32] = "kx_b32($1)",
    [KILN__OP_I64_REINTERPRET_F64] = "kx_b64($1)",
    [KILN__OP_F32_REINTERPRET_I32] = "kx_f32($1)",
    [KILN__OP_F64_REINTERPRET_I64] = "kx_f64($1)",
    [KILN__OP_I32_EXTEND8_S] = "(uint32_t)(int32_t)(int8_t)$1",
    [KILN__OP_I32_EXTEND16_S] = "(uint32_t)(int32_t)(int16_t)$1",
    [KILN__OP_I64_EXTEND8_S] = "(uint64_t)(int64_t)(int8_t)$1",
    [KILN__OP_I64_EXTEND16_S] = "(uint64_t)(int64_t)(int16_t)$1",
    [KILN__OP_I64_EXTEND32_S] = "(uint64_t)(int64_t)(int32_t)$1",
    [KILN__OP_I32_TRUNC_SAT_F32_S] = "kx_sat_i32($1)",
    [KILN__OP_I32_TRUNC_SAT_F32_U] = "kx_sat_u32($1)",
    [KILN__OP_I32_TRUNC_SAT_F64_S] = "kx_sat_i32($1)",
    [KILN__OP_I32_TRUNC_SAT_F64_U] = "kx_sat_u32($1)",
    [KILN__OP_I64_TRUNC_SAT_F32_S] = "kx_sat_i64($1)",
    [KILN__OP_I64_TRUNC_SAT_F32_U] = "kx_sat_u64($1)",
    [KILN__OP_I64_TRUNC_SAT_F64_S] = "kx_sat_i64($1)",
    [KILN__OP_I64_TRUNC_SAT_F64_U] = "kx_sat_u64($1)",
    /* loads: $1 is the effective address expression */
    [KILN__OP_I32_LOAD] = "kx_ld_u32($1)",
    [KILN__OP_I64_LOAD] = "kx_ld_u64($1)",
    [KILN__OP_F32_LOAD] = "kx_ld_f32($1)",
    [KILN__OP_F64_LOAD] = "kx_ld_f64($1)",
    [KILN__OP_I32_LOAD8_S] = "(uint32_t)(int32_t)kx_ld_i8($1)",
    [KILN__OP_I32_LOAD8_U] = "(uint32_t)kx_ld_u8($1)",
    [KILN__OP_I32_LOAD16_S] = "(uint32_t)(int32_t)kx_ld_i16($1)",
    [KILN__OP_I32_LOAD16_U] = "(uint32_t)kx_ld_u16($1)",
    [KILN__OP_I64_LOAD8_S] = "(uint64_t)(int64_t)kx_ld_i8($1)",
    [KILN__OP_I64_LOAD8_U] = "(uint64_t)kx_ld_u8($1)",
    [KILN__OP_I64_LOAD16_S] = "(uint64_t)(int64_t)kx_ld_i16($1)",
    [KILN__OP_I64_LOAD16_U] = "(uint64_t)kx_ld_u16($1)",
    [KILN__OP_I64_LOAD32_S] = "(uint64_t)(int64_t)kx_ld_i32($1)",
    [KILN__OP_I64_LOAD32_U] = "(uint64_t)kx_ld_u32($1)",
    [KILN__OP_V128_LOAD] = "kx_ld_v128($1)",
    /* stores: $1 address expression, $2 value */
    [KILN__OP_I32_STORE] = "kx_st_u32($1, $2)",
    [KILN__OP_I64_STORE] = "kx_st_u64($1, $2)",
    [KILN__OP_F32_STORE] = "kx_st_f32($1, $2)",
    [KILN__OP_F64_STORE] = "kx_st_f64($1, $2)",
    [KILN__OP_I32_STORE8] = "kx_st_u8($1, (uint8_t)$2)",
    [KILN__OP_I32_STORE16] = "kx_st_u16($1, (uint16_t)$2)",
    [KILN__OP_I64_STORE8] = "kx_st_u8($1, (uint8_t)$2)",
    [KILN__OP_I64_STORE16] = "kx_st_u16($1, (uint16_t)$2)",
    [KILN__OP_I64_STORE32] = "kx_st_u32($1, (uint32_t)$2)",
    [KILN__OP_V128_STORE] = "kx_st_v128($1, $2)",
};

static int g_lookup0[256], g_lookupfc[32], g_lookupfd[512];
static bool g_init;

static void tables_init(void)
{
    size_t i;
    if (g_init) return;
    for (i = 0; i < 256; i++) g_lookup0[i] = -1;
    for (i = 0; i < 32; i++) g_lookupfc[i] = -1;
    for (i = 0; i < 512; i++) g_lookupfd[i] = -1;
    for (i = 0; i < sizeof g_ops / sizeof g_ops[0]; i++) {
        const struct opinfo *o = &g_ops[i];
        if (o->prefix == 0 && o->code < 256) g_lookup0[o->code] = (int)i;
        else if (o->prefix == 0xfc && o->code < 32) g_lookupfc[o->code] = (int)i;
        else if (o->prefix == 0xfd && o->code < 512) g_lookupfd[o->code] = (int)i;
    }
    g_init = true;
}

/* ---- types ------------------------------------------------------------------ */

static char tletter(uint8_t t)
{
    switch (t) {
    case KILN_I32: return 'i';
    case KILN_I64: return 'l';
    case KILN_F32: return 'f';
    case KILN_F64: return 'd';
    case KILN_V128: return 'v';
    default: return 'r';
    }
}

static const char *ctype(uint8_t t)
{
    switch (t) {
    case KILN_I32: return "uint32_t";
    case KILN_I64: return "uint64_t";
    case KILN_F32: return "float";
    case KILN_F64: return "double";
    case KILN_V128: return "kiln__v128";
    default: return "kx_ref";
    }
}

static const char *czero(uint8_t t)
{
    switch (t) {
    case KILN_F32: return "0.0f";
    case KILN_F64: return "0.0";
    case KILN_V128: return "kx_v128_of(0, 0)";
    case KILN_I32:
    case KILN_I64: return "0";
    default: return "(void *)0";
    }
}

static int lidx(uint8_t t)
{
    switch (t) {
    case KILN_I32: return 0;
    case KILN_I64: return 1;
    case KILN_F32: return 2;
    case KILN_F64: return 3;
    case KILN_V128: return 4;
    default: return 5;
    }
}
static const uint8_t g_ltypes[6] = {KILN_I32, KILN_I64, KILN_F32, KILN_F64, KILN_V128, KILN_FUNCREF};

/* Return type of functions of type ti. */
static void rettype(struct kiln__sb *b, const struct kiln_module *mod, uint32_t ti)
{
    const struct kiln__functype *ft = &mod->types[ti];
    if (ft->nresults == 0) kiln__sb_printf(b, "void");
    else if (ft->nresults == 1) kiln__sb_printf(b, "%s", ctype(ft->types[ft->nparams]));
    else kiln__sb_printf(b, "kxr%u", ti);
}

/* ---- per-function state -------------------------------------------------------- */

enum { K_BLOCK, K_LOOP, K_IF, K_FUNC };

struct ctl {
    uint8_t kind;
    bool unreachable; /* the rest of this frame's body is dead */
    bool end_used;    /* a branch targets the end label */
    bool has_else;
    uint32_t id;
    uint32_t height; /* stack height below the params */
    uint32_t np, nr;
    const uint8_t *pt, *rt; /* into the module's types or g_valtype: never into ctl[],
                               which push_ctl moves */
};

/* A single-valtype block's result type: g_valtype[t] == t. */
static const uint8_t g_valtype[128] = {
#define V8(i) i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7
    V8(0),  V8(8),  V8(16), V8(24), V8(32), V8(40),  V8(48),  V8(56),
    V8(64), V8(72), V8(80), V8(88), V8(96), V8(104), V8(112), V8(120),
#undef V8
};

struct tr {
    const struct kiln_module *mod;
    struct kiln__sb body;
    struct kiln__reader r;
    uint32_t fidx;
    const struct kiln__functype *ft;
    const uint8_t *ltypes; /* params then locals */
    uint32_t nlocals_all;
    uint8_t *stk;
    uint32_t sp, stk_cap;
    uint32_t maxpos[6];
    struct ctl *ctl;
    uint32_t nctl, ctl_cap;
    uint32_t next_label;
    uint8_t *globals_used; /* nglobals flags */
    uint8_t *tables_used;  /* ntables flags: tables read by call_indirect */
    const uint8_t *leaf;   /* nfuncs flags: defined function without calls */
    uint32_t max_br_table; /* targets of the function's largest br_table */
    uint32_t *chase;       /* sorted module offsets of the pointer-chasing loads */
    uint32_t nchase;       /* (translate_chase.c) */
    bool host_base;        /* a chasing load was emitted: declare hb */
    struct kiln__aot_const *consts; /* constants with new values, by offset */
    uint32_t nconsts;               /* (translate_bits.c) */
    bool oom;
};

/* See aot_internal.h. */
bool kiln__aot_grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    void **pp = p, *np;
    uint32_t nc;
    if (need <= *cap) return true;
    nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    np = realloc(*pp, (size_t)nc * elem);
    if (!np) return false;
    *pp = np;
    *cap = nc;
    return true;
}

static void push(struct tr *t, uint8_t type)
{
    if (!kiln__aot_grow(&t->stk, &t->stk_cap, t->sp + 1, 1)) {
        t->oom = true;
        return;
    }
    t->stk[t->sp] = type;
    if (t->sp + 1 > t->maxpos[lidx(type)]) t->maxpos[lidx(type)] = t->sp + 1;
    t->sp++;
}

/* Name of the stack variable at position pos (of type stk[pos]). */
static const char *sv(struct tr *t, uint32_t pos, char *buf)
{
    snprintf(buf, 24, "s%u%c", pos, tletter(t->stk[pos]));
    return buf;
}

/* Substitutes $1 $2 $3 in tmpl. */
static void subst(struct kiln__sb *b, const char *tmpl, const char *a1, const char *a2,
                  const char *a3)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '$' && p[1] >= '1' && p[1] <= '3') {
            const char *a = p[1] == '1' ? a1 : p[1] == '2' ? a2 : a3;
            kiln__sb_put(b, a, strlen(a));
            p++;
        } else {
            kiln__sb_put(b, p, 1);
        }
    }
}

static struct ctl *push_ctl(struct tr *t, uint8_t kind)
{
    struct ctl *c;
    if (!kiln__aot_grow(&t->ctl, &t->ctl_cap, t->nctl + 1, sizeof *t->ctl)) {
        t->oom = true;
        return NULL;
    }
    c = &t->ctl[t->nctl++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->id = t->next_label++;
    return c;
}

static void blocktype(struct tr *t, struct ctl *c)
{
    int64_t bt = kiln__read_sleb(&t->r, 33);
    if (bt == -64) { /* 0x40 */
        c->np = c->nr = 0;
    } else if (bt < 0) {
        c->np = 0;
        c->nr = 1;
        c->rt = &g_valtype[bt & 0x7f];
    } else {
        const struct kiln__functype *ft = &t->mod->types[bt];
        c->np = ft->nparams;
        c->nr = ft->nresults;
        c->pt = ft->types;
        c->rt = ft->types + ft->nparams;
    }
}

/* Slot-form conversions for calls through slot arrays. */
static void to_slots(struct kiln__sb *b, const char *arr, uint32_t k, uint8_t type,
                     const char *v)
{
    switch (type) {
    case KILN_I32: kiln__sb_printf(b, "%s[%u] = (uint64_t)%s; ", arr, k, v); break;
    case KILN_I64: kiln__sb_printf(b, "%s[%u] = %s; ", arr, k, v); break;
    case KILN_F32: kiln__sb_printf(b, "%s[%u] = kx_b32(%s); ", arr, k, v); break;
    case KILN_F64: kiln__sb_printf(b, "%s[%u] = kx_b64(%s); ", arr, k, v); break;
    case KILN_V128:
        kiln__sb_printf(b, "%s[%u] = %s.u64[0]; %s[%u] = %s.u64[1]; ", arr, k, v, arr, k + 1, v);
        break;
    default: kiln__sb_printf(b, "%s[%u] = (uint64_t)(uintptr_t)%s; ", arr, k, v); break;
    }
}

static void from_slots(struct kiln__sb *b, const char *dst, uint8_t type, const char *arr,
                       uint32_t k)
{
    switch (type) {
    case KILN_I32: kiln__sb_printf(b, "%s = (uint32_t)%s[%u]; ", dst, arr, k); break;
    case KILN_I64: kiln__sb_printf(b, "%s = %s[%u]; ", dst, arr, k); break;
    case KILN_F32: kiln__sb_printf(b, "%s = kx_f32((uint32_t)%s[%u]); ", dst, arr, k); break;
    case KILN_F64: kiln__sb_printf(b, "%s = kx_f64(%s[%u]); ", dst, arr, k); break;
    case KILN_V128:
        kiln__sb_printf(b, "%s = kx_v128_of(%s[%u], %s[%u]); ", dst, arr, k, arr, k + 1);
        break;
    default: kiln__sb_printf(b, "%s = (void *)(uintptr_t)%s[%u]; ", dst, arr, k); break;
    }
}

/* Emits the return of the top nresults stack values. */
static void emit_return(struct tr *t)
{
    const struct kiln__functype *ft = t->ft;
    char b1[24];
    uint32_t base = t->sp - ft->nresults;
    P("KX_LEAVE(); ");
    if (ft->nresults == 0) {
        P("return;\n");
    } else if (ft->nresults == 1) {
        P("return %s;\n", sv(t, base, b1));
    } else {
        P("{ kxr%u r_; ", t->mod->funcs[t->fidx].type_idx);
        for (uint32_t i = 0; i < ft->nresults; i++) P("r_.r%u = %s; ", i, sv(t, base + i, b1));
        P("return r_; }\n");
    }
}

/* Emits the moves and the jump of a branch to label depth d. */
static void emit_branch(struct tr *t, uint32_t d)
{
    struct ctl *c = &t->ctl[t->nctl - 1 - d];
    uint32_t n, i;
    char b1[24], b2[24];
    if (c->kind == K_FUNC) {
        emit_return(t);
        return;
    }
    n = c->kind == K_LOOP ? c->np : c->nr;
    for (i = 0; i < n; i++) {
        uint32_t from = t->sp - n + i, to = c->height + i;
        if (from != to) {
            snprintf(b2, sizeof b2, "s%u%c", to, tletter(t->stk[from]));
            P("%s = %s; ", b2, sv(t, from, b1));
        }
    }
    if (c->kind == K_LOOP) {
        P("KX_CHECK(); goto Lt%u;\n", c->id);
    } else {
        c->end_used = true;
        P("goto Lb%u;\n", c->id);
    }
}

/* Sets the stack to height h followed by n values of types ts. */
static void reset_stack(struct tr *t, uint32_t h, uint32_t n, const uint8_t *ts)
{
    t->sp = h;
    for (uint32_t i = 0; i < n; i++) push(t, ts[i]);
}

static void skip_imm_r(struct kiln__reader *r, uint8_t imm);
static void skip_imm(struct tr *t, uint8_t imm)
{
    skip_imm_r(&t->r, imm);
}

static void skip_imm_r(struct kiln__reader *r, uint8_t imm)
{
    uint32_t n;
    switch (imm) {
    case KILN__IMM_NONE: break;
    case KILN__IMM_BLOCKTYPE: kiln__read_sleb(r, 33); break;
    case KILN__IMM_BR_TABLE:
        n = kiln__read_u32(r);
        for (uint32_t i = 0; i <= n && !r->err; i++) kiln__read_u32(r);
        break;
    case KILN__IMM_LABEL:
    case KILN__IMM_FUNC:
    case KILN__IMM_LOCAL:
    case KILN__IMM_GLOBAL:
    case KILN__IMM_TABLE:
    case KILN__IMM_DATA:
    case KILN__IMM_ELEM: kiln__read_u32(r); break;
    case KILN__IMM_CALL_INDIRECT:
    case KILN__IMM_MEMARG:
    case KILN__IMM_TABLE_INIT:
    case KILN__IMM_TABLE_COPY:
        kiln__read_u32(r);
        kiln__read_u32(r);
        break;
    case KILN__IMM_I32: kiln__read_sleb(r, 32); break;
    case KILN__IMM_I64: kiln__read_sleb(r, 64); break;
    case KILN__IMM_F32: kiln__read_fixed32(r); break;
    case KILN__IMM_F64: kiln__read_fixed64(r); break;
    case KILN__IMM_V128:
    case KILN__IMM_SHUFFLE:
        kiln__read_fixed64(r);
        kiln__read_fixed64(r);
        break;
    case KILN__IMM_LANE:
    case KILN__IMM_REFTYPE:
    case KILN__IMM_MEMIDX: kiln__read_u8(r); break;
    case KILN__IMM_MEMARG_LANE:
        kiln__read_u32(r);
        kiln__read_u32(r);
        kiln__read_u8(r);
        break;
    case KILN__IMM_SELECT_T:
        n = kiln__read_u32(r);
        for (uint32_t i = 0; i < n && !r->err; i++) kiln__read_u8(r);
        break;
    case KILN__IMM_MEMORY_INIT:
        kiln__read_u32(r);
        kiln__read_u8(r);
        break;
    case KILN__IMM_MEMORY_COPY:
        kiln__read_u8(r);
        kiln__read_u8(r);
        break;
    default: kiln__reader_fail(r, "unknown immediate"); break;
    }
}

/* The immediate kind (KILN__IMM_*) of the opcode with first byte b (and
 * sub-opcode code after 0xfc/0xfd), or -1 if the translator does not know
 * it (see aot_internal.h). */
int kiln__aot_op_imm(uint8_t b, uint32_t code)
{
    int idx;
    tables_init();
    if (b == 0xfc) idx = code < 32 ? g_lookupfc[code] : -1;
    else if (b == 0xfd) idx = code < 512 ? g_lookupfd[code] : -1;
    else idx = g_lookup0[b];
    return idx < 0 ? -1 : g_ops[idx].imm;
}

/* Skips the immediates of kind imm (see aot_internal.h). */
void kiln__aot_skip_imm(struct kiln__reader *r, uint8_t imm)
{
    skip_imm_r(r, imm);
}

/* See aot_internal.h. */
int kiln__aot_read_op(struct kiln__reader *r, struct kiln__aot_opsig *s)
{
    uint8_t b = kiln__read_u8(r);
    uint32_t c = b;
    int idx;
    const struct opinfo *o;
    const struct siginfo *sg;
    tables_init();
    memset(s, 0, sizeof *s);
    if (b == 0xfc || b == 0xfd) c = kiln__read_u32(r);
    if (b == 0xfc) idx = c < 32 ? g_lookupfc[c] : -1;
    else if (b == 0xfd) idx = c < 512 ? g_lookupfd[c] : -1;
    else idx = g_lookup0[b];
    if (idx < 0 || r->err) return -1;
    o = &g_ops[idx];
    sg = &g_sigs[o->sig];
    s->imm = o->imm;
    s->special = o->sig == KILN__SIG_SPECIAL;
    s->np = sg->np;
    s->nr = sg->nr;
    s->rt = sg->r;
    s->load = (o->imm == KILN__IMM_MEMARG || o->imm == KILN__IMM_MEMARG_LANE) && sg->nr == 1;
    return idx;
}

/* See aot_internal.h. */
bool kiln__aot_skip_dead(struct kiln__reader *r)
{
    uint32_t depth = 0;
    for (;;) {
        struct kiln__reader save = *r;
        struct kiln__aot_opsig s;
        int op = kiln__aot_read_op(r, &s);
        if (op < 0 || r->err) return false;
        if (op == KILN__OP_BLOCK || op == KILN__OP_LOOP || op == KILN__OP_IF) {
            depth++;
        } else if (op == KILN__OP_END || (op == KILN__OP_ELSE && depth == 0)) {
            if (depth == 0) {
                *r = save;
                return true;
            }
            depth--;
        }
        skip_imm_r(r, s.imm);
    }
}

/* See aot_internal.h. */
void kiln__aot_blocktype(const struct kiln_module *mod, struct kiln__reader *r, uint32_t *np,
                         uint32_t *nr)
{
    int64_t bt = kiln__read_sleb(r, 33);
    *np = *nr = 0;
    if (bt == -64) return;
    if (bt < 0) {
        *nr = 1;
        return;
    }
    if ((uint64_t)bt < mod->ntypes) {
        *np = mod->types[bt].nparams;
        *nr = mod->types[bt].nresults;
    }
}

/* Reads one opcode; returns its index in g_ops or -1. */
static int read_op(struct tr *t)
{
    uint8_t b = kiln__read_u8(&t->r);
    uint32_t c;
    if (b == 0xfc) {
        c = kiln__read_u32(&t->r);
        return c < 32 ? g_lookupfc[c] : -1;
    }
    if (b == 0xfd) {
        c = kiln__read_u32(&t->r);
        return c < 512 ? g_lookupfd[c] : -1;
    }
    return g_lookup0[b];
}

/* Globals of these types are kept in a local G<g> within a function. */
static bool cached_global(uint8_t ty)
{
    return ty == KILN_I32 || ty == KILN_I64 || ty == KILN_F32 || ty == KILN_F64;
}

/* After a call: the callee (or a host function, or another instance) may
 * have set any mutable global; KX_GR (defined per function) reloads the
 * cached ones. */
static void after_call(struct tr *t)
{
    P("KX_GR;\n");
}

static void global_ref(struct tr *t, uint32_t g, char *buf, size_t n)
{
    t->globals_used[g] = 1;
    snprintf(buf, n, "g%u", g);
}

/* A call of type ti with args from stack position base, results into the
 * stack: through function pointer fnp (cast to kxft<ti>) with instance
 * argument instv, or (fnp NULL) to kxci<ti> with extra last arguments
 * extra. */
static void emit_native_call(struct tr *t, uint32_t ti, uint32_t base, const char *fnp,
                             const char *instv, const char *extra)
{
    const struct kiln__functype *ft = &t->mod->types[ti];
    char b1[24];
    uint32_t i;
    if (ft->nresults == 1) P("s%u%c = ", base, tletter(ft->types[ft->nparams]));
    else if (ft->nresults > 1) P("kxr%u r_ = ", ti);
    if (fnp) P("((kxft%u)%s)(%s", ti, fnp, instv);
    else P("kxci%u(%s", ti, instv);
    for (i = 0; i < ft->nparams; i++) P(", %s", sv(t, base + i, b1));
    if (extra) P(", %s", extra);
    P("); ");
    if (ft->nresults > 1)
        for (i = 0; i < ft->nresults; i++)
            P("s%u%c = r_.r%u; ", base + i, tletter(ft->types[ft->nparams + i]), i);
}

/* Emits a call of import c_ (struct kiln_func *) of type ti; args are the
 * top nparams stack entries (already popped by the caller: base = first):
 * the callee's native entry when it is AOT code running on this memory 0
 * (KX_SAME_MEM), else rt->call. */
static void emit_call_ptr(struct tr *t, uint32_t ti, uint32_t base)
{
    const struct kiln__functype *ft = &t->mod->types[ti];
    char b1[24], b2[24];
    uint32_t i, k;
    P("if (c_->aot_native && KX_SAME_MEM(c_)) { ");
    emit_native_call(t, ti, base, "c_->aot_native", "c_->inst", NULL);
    P("} else { uint64_t a_[%u], q_[%u]; ", ft->nparam_slots ? ft->nparam_slots : 1,
      ft->nresult_slots ? ft->nresult_slots : 1);
    for (i = 0, k = 0; i < ft->nparams; i++) {
        to_slots(&t->body, "a_", k, ft->types[i], sv(t, base + i, b1));
        k += kiln__slots(ft->types[i]);
    }
    P("KX_RT_CALL(c_, a_, q_); ");
    for (i = 0, k = 0; i < ft->nresults; i++) {
        uint8_t ty = ft->types[ft->nparams + i];
        snprintf(b2, sizeof b2, "s%u%c", base + i, tletter(ty));
        from_slots(&t->body, b2, ty, "q_", k);
        k += kiln__slots(ty);
    }
    P("} }\n");
}

/* Memory effective address of the stack entry at pos plus offset, for
 * kx_ld_* and kx_st_* (in KX_MSEG). */
static void ea(struct tr *t, uint32_t pos, uint32_t off, char *buf, size_t n)
{
    snprintf(buf, n, "(mem + (uint64_t)s%ui + %uu)", pos, off);
}

/* bsearch order of a module offset against an element whose first member
 * is one (t->chase's uint32_t, struct kiln__aot_const's off). */
static int cmp_off(const void *key, const void *elem)
{
    uint32_t k = *(const uint32_t *)key, e = *(const uint32_t *)elem;
    return k < e ? -1 : k > e;
}

/* Whether the load at module offset at chases pointers around a loop
 * (translate_chase.c): it is emitted with the host base hb instead of the
 * memory segment, whose extra latency would be paid on every hop. */
static bool chases(const struct tr *t, size_t at)
{
    uint32_t k = (uint32_t)at;
    return t->nchase && bsearch(&k, t->chase, t->nchase, sizeof *t->chase, cmp_off);
}

/* The value to emit for the constant at module offset at: its own, or
 * the one translate_bits.c chose (the bits no consumer uses changed). */
static uint64_t const_val(const struct tr *t, size_t at, uint64_t v)
{
    uint32_t k = (uint32_t)at;
    const struct kiln__aot_const *c =
        t->nconsts ? bsearch(&k, t->consts, t->nconsts, sizeof *t->consts, cmp_off) : NULL;
    return c ? c->val : v;
}

/* The same address as a host pointer (for helpers shared with the
 * interpreter, which take plain pointers). */
static void ea_host(struct tr *t, uint32_t pos, uint32_t off, char *buf, size_t n)
{
    snprintf(buf, n, "(inst->mem0_base + (uint64_t)s%ui + %uu)", pos, off);
}

static void fmt_slotval(uint8_t type, const char *v, char *buf, size_t n)
{
    switch (type) {
    case KILN_I32: snprintf(buf, n, "(uint64_t)%s", v); break;
    case KILN_I64: snprintf(buf, n, "%s", v); break;
    case KILN_F32: snprintf(buf, n, "(uint64_t)kx_b32(%s)", v); break;
    default: snprintf(buf, n, "kx_b64(%s)", v); break;
    }
}

/* Translates the body of defined function fidx into t->body. */
static int translate_body(struct tr *t, struct kiln_error *err)
{
    const struct kiln_module *mod = t->mod;
    char b1[24], b2[24], b3[24], e1[96];
    struct ctl *c;
    for (;;) {
        size_t at;
        int op;
        const struct opinfo *o;
        struct ctl *top;
        if (t->oom) return kiln_error_set(err, KILN_E_NOMEM, "out of memory translating");
        if (t->r.err)
            return kiln_error_set(err, KILN_E_MALFORMED, "function %u, offset 0x%zx: %s",
                                  t->fidx, t->r.err_off, t->r.err);
        if (t->nctl == 0) return 0;
        at = kiln__reader_off(&t->r);
        op = read_op(t);
        if (op < 0)
            return kiln_error_set(err, KILN_E_MALFORMED, "function %u, offset 0x%zx: opcode",
                                  t->fidx, kiln__reader_off(&t->r));
        o = &g_ops[op];
        top = &t->ctl[t->nctl - 1];

        if (top->unreachable) {
            /* skip dead code up to this frame's else/end, tracking nesting */
            uint32_t depth = 0;
            for (;;) {
                if (op == KILN__OP_BLOCK || op == KILN__OP_LOOP || op == KILN__OP_IF) {
                    depth++;
                } else if (op == KILN__OP_END) {
                    if (depth == 0) break;
                    depth--;
                } else if (op == KILN__OP_ELSE && depth == 0) {
                    break;
                }
                skip_imm(t, o->imm);
                if (t->r.err) break;
                op = read_op(t);
                if (op < 0) {
                    kiln__reader_fail(&t->r, "opcode");
                    break;
                }
                o = &g_ops[op];
            }
            if (t->r.err) continue;
        }

        switch (op) {
        case KILN__OP_UNREACHABLE:
            P("KX_TRAP(KILN_TRAP_UNREACHABLE, ~0u);\n");
            top->unreachable = true;
            break;
        case KILN__OP_NOP: break;
        case KILN__OP_BLOCK:
        case KILN__OP_LOOP:
        case KILN__OP_IF: {
            uint32_t cond = 0;
            if (op == KILN__OP_IF) cond = --t->sp;
            c = push_ctl(t, op == KILN__OP_BLOCK ? K_BLOCK : op == KILN__OP_LOOP ? K_LOOP : K_IF);
            if (!c) break;
            blocktype(t, c);
            c->height = t->sp - c->np;
            if (op == KILN__OP_LOOP) P("Lt%u:;\n", c->id);
            else if (op == KILN__OP_IF) P("if (!s%ui) goto Le%u;\n", cond, c->id);
            break;
        }
        case KILN__OP_ELSE:
            if (!top->unreachable) {
                top->end_used = true;
                P("goto Lb%u;\n", top->id);
            }
            P("Le%u:;\n", top->id);
            top->has_else = true;
            top->unreachable = false;
            reset_stack(t, top->height, top->np, top->pt);
            break;
        case KILN__OP_END: {
            struct ctl cc = *top;
            if (cc.kind == K_FUNC) {
                if (!cc.unreachable) emit_return(t);
                t->nctl--;
                break;
            }
            if (cc.kind == K_IF && !cc.has_else) P("Le%u:;\n", cc.id);
            if (cc.end_used) P("Lb%u:;\n", cc.id);
            t->nctl--;
            reset_stack(t, cc.height, cc.nr, cc.rt);
            /* after a dead end with no branch to it, the code that follows
             * is dead too (and if without else always falls through) */
            if (cc.unreachable && !cc.end_used && !(cc.kind == K_IF && !cc.has_else))
                t->ctl[t->nctl - 1].unreachable = true;
            break;
        }
        case KILN__OP_BR:
            emit_branch(t, kiln__read_u32(&t->r));
            top->unreachable = true;
            break;
        case KILN__OP_BR_IF: {
            uint32_t d = kiln__read_u32(&t->r);
            uint32_t cond = --t->sp;
            P("if (s%ui) { ", cond);
            emit_branch(t, d);
            P("}\n");
            break;
        }
        case KILN__OP_BR_TABLE: {
            uint32_t n = kiln__read_u32(&t->r);
            uint32_t idx = --t->sp;
            if (n > t->max_br_table) t->max_br_table = n;
            P("switch (s%ui) {\n", idx);
            for (uint32_t i = 0; i <= n && !t->r.err; i++) {
                uint32_t d = kiln__read_u32(&t->r);
                if (i < n) P("case %u: ", i);
                else P("default: ");
                emit_branch(t, d);
            }
            P("}\n");
            top->unreachable = true;
            break;
        }
        case KILN__OP_RETURN:
            emit_return(t);
            top->unreachable = true;
            break;
        case KILN__OP_CALL: {
            uint32_t f = kiln__read_u32(&t->r);
            uint32_t ti = mod->funcs[f].type_idx;
            const struct kiln__functype *ft = &mod->types[ti];
            uint32_t base = t->sp - ft->nparams;
            if (f < mod->nfunc_imports) {
                P("{ struct kiln_func *c_ = inst->funcs[%u]; ", f);
                emit_call_ptr(t, ti, base);
            } else {
                /* a leaf callee's entry checks (depth, fuel) are made here,
                 * on the caller's poll word (KX_LEAF_CALL), and its body
                 * fl<f> is called directly */
                if (t->leaf[f]) P("KX_LEAF_CALL();\n");
                if (ft->nresults == 1)
                    P("s%u%c = ", base, tletter(ft->types[ft->nparams]));
                else if (ft->nresults > 1) P("{ kxr%u r_ = ", ti);
                P("%s%u(inst", t->leaf[f] ? "fl" : "f", f);
                for (uint32_t i = 0; i < ft->nparams; i++) P(", %s", sv(t, base + i, b1));
                P(");");
                if (ft->nresults > 1) {
                    for (uint32_t i = 0; i < ft->nresults; i++)
                        P(" s%u%c = r_.r%u;", base + i, tletter(ft->types[ft->nparams + i]), i);
                    P(" }");
                }
                P("\n");
            }
            after_call(t);
            t->sp = base;
            for (uint32_t i = 0; i < ft->nresults; i++) push(t, ft->types[ft->nparams + i]);
            break;
        }
        case KILN__OP_CALL_INDIRECT: {
            uint32_t ti = kiln__read_u32(&t->r);
            uint32_t tab = kiln__read_u32(&t->r);
            const struct kiln__functype *ft = &mod->types[ti];
            uint32_t idx = --t->sp;
            uint32_t base = t->sp - ft->nparams;
            /* table 0 is read where it is used (one load: inst->table0),
             * others once per function (T<t>). The common case, a function
             * of this instance declared with type ti, is one compare of
             * its aot_key (runtime.h) after the bounds and null checks;
             * everything else, traps included, is kxci<ti> (emit_prelude) */
            if (tab) t->tables_used[tab] = 1;
            if (tab) P("{ struct kiln_table *t_ = T%u; ", tab);
            else P("{ struct kiln_table *t_ = inst->table0; ");
            P("uint32_t i_ = s%ui; struct kiln_func *c_; if (KX_LIKELY(i_ < t_->size && (c_ = "
              "t_->elems[i_]) != NULL && c_->aot_key == (uintptr_t)inst + %uu)) { ",
              idx, ti);
            emit_native_call(t, ti, base, "c_->aot_native", "inst", NULL);
            P("} else { ");
            emit_native_call(t, ti, base, NULL, "inst", "t_, i_");
            P("} }\n");
            after_call(t);
            t->sp = base;
            for (uint32_t i = 0; i < ft->nresults; i++) push(t, ft->types[ft->nparams + i]);
            break;
        }
        case KILN__OP_DROP: t->sp--; break;
        case KILN__OP_SELECT:
        case KILN__OP_SELECT_T: {
            uint32_t cond, a;
            if (op == KILN__OP_SELECT_T) skip_imm(t, o->imm);
            cond = --t->sp;
            t->sp -= 2;
            a = t->sp;
            P("if (!s%ui) %s = ", cond, sv(t, a, b1));
            P("%s;\n", sv(t, a + 1, b2));
            push(t, t->stk[a]);
            break;
        }
        case KILN__OP_LOCAL_GET: {
            uint32_t l = kiln__read_u32(&t->r);
            push(t, t->ltypes[l]);
            P("%s = l%u;\n", sv(t, t->sp - 1, b1), l);
            break;
        }
        case KILN__OP_LOCAL_SET:
        case KILN__OP_LOCAL_TEE: {
            uint32_t l = kiln__read_u32(&t->r);
            P("l%u = %s;\n", l, sv(t, t->sp - 1, b1));
            if (op == KILN__OP_LOCAL_SET) t->sp--;
            break;
        }
        case KILN__OP_GLOBAL_GET: {
            uint32_t g = kiln__read_u32(&t->r);
            const struct kiln__global *gd = &mod->globals[g];
            uint8_t ty = gd->type;
            push(t, ty);
            sv(t, t->sp - 1, b1);
            if (g >= mod->nglobal_imports && !gd->mutable_ && gd->init.op == KILN__CONST_VALUE) {
                /* immutable with a constant initializer: inline it */
                switch (ty) {
                case KILN_I32: P("%s = 0x%" PRIx32 "u;\n", b1, (uint32_t)gd->init.bits[0]); break;
                case KILN_I64: P("%s = 0x%" PRIx64 "ull;\n", b1, gd->init.bits[0]); break;
                case KILN_F32:
                    P("%s = kx_f32(0x%" PRIx32 "u);\n", b1, (uint32_t)gd->init.bits[0]);
                    break;
                case KILN_F64: P("%s = kx_f64(0x%" PRIx64 "ull);\n", b1, gd->init.bits[0]); break;
                case KILN_V128:
                    P("%s = kx_v128_of(0x%" PRIx64 "ull, 0x%" PRIx64 "ull);\n", b1,
                      gd->init.bits[0], gd->init.bits[1]);
                    break;
                default: P("%s = (void *)0;\n", b1); break;
                }
                break;
            }
            global_ref(t, g, b2, sizeof b2);
            if (cached_global(ty)) {
                P("%s = G%u;\n", b1, g);
                break;
            }
            switch (ty) {
            case KILN_V128: P("%s = kx_v128_of(%s->val[0], %s->val[1]);\n", b1, b2, b2); break;
            default: P("%s = (void *)(uintptr_t)%s->val[0];\n", b1, b2); break;
            }
            break;
        }
        case KILN__OP_GLOBAL_SET: {
            uint32_t g = kiln__read_u32(&t->r);
            uint8_t ty = mod->globals[g].type;
            uint32_t v = --t->sp;
            sv(t, v, b1);
            global_ref(t, g, b2, sizeof b2);
            switch (ty) {
            /* write-through: the global's slot is always current (traps,
             * host functions and other instances see it), and reads use
             * the local copy, reloaded only after calls */
            case KILN_I32: P("G%u = %s; %s->val[0] = (uint64_t)G%u;\n", g, b1, b2, g); break;
            case KILN_I64: P("G%u = %s; %s->val[0] = G%u;\n", g, b1, b2, g); break;
            case KILN_F32: P("G%u = %s; %s->val[0] = kx_b32(G%u);\n", g, b1, b2, g); break;
            case KILN_F64: P("G%u = %s; %s->val[0] = kx_b64(G%u);\n", g, b1, b2, g); break;
            case KILN_V128:
                P("%s->val[0] = %s.u64[0]; %s->val[1] = %s.u64[1];\n", b2, b1, b2, b1);
                break;
            default: P("%s->val[0] = (uint64_t)(uintptr_t)%s;\n", b2, b1); break;
            }
            break;
        }
        case KILN__OP_TABLE_GET: {
            uint32_t tab = kiln__read_u32(&t->r);
            uint32_t i = t->sp - 1;
            t->sp--;
            P("{ struct kiln_table *t_ = inst->tables[%u]; uint32_t i_ = s%ui; if "
              "(KX_UNLIKELY(i_ >= t_->size)) KX_TRAP(KILN_TRAP_TABLE_OOB, ~0u); ",
              tab, i);
            push(t, mod->tables[tab].reftype);
            P("%s = t_->elems[i_]; }\n", sv(t, t->sp - 1, b1));
            break;
        }
        case KILN__OP_TABLE_SET: {
            uint32_t tab = kiln__read_u32(&t->r);
            uint32_t v = --t->sp, i = --t->sp;
            P("{ struct kiln_table *t_ = inst->tables[%u]; uint32_t i_ = s%ui; if "
              "(KX_UNLIKELY(i_ >= t_->size)) KX_TRAP(KILN_TRAP_TABLE_OOB, ~0u); t_->elems[i_] = "
              "%s; }\n",
              tab, i, sv(t, v, b1));
            break;
        }
        case KILN__OP_TABLE_SIZE: {
            uint32_t tab = kiln__read_u32(&t->r);
            push(t, KILN_I32);
            P("s%ui = inst->tables[%u]->size;\n", t->sp - 1, tab);
            break;
        }
        case KILN__OP_TABLE_GROW: {
            uint32_t tab = kiln__read_u32(&t->r);
            uint32_t n = --t->sp, v = --t->sp;
            P("s%ui = (uint32_t)(int32_t)KX_TABLE_GROW(inst->tables[%u], s%ui, %s);\n", v,
              tab, n, sv(t, v, b1));
            push(t, KILN_I32);
            break;
        }
        case KILN__OP_TABLE_FILL: {
            uint32_t tab = kiln__read_u32(&t->r);
            uint32_t n = --t->sp, v = --t->sp, i = --t->sp;
            P("{ struct kiln_table *t_ = inst->tables[%u]; uint32_t i_ = s%ui, n_ = s%ui; if "
              "((uint64_t)i_ + n_ > t_->size) KX_TRAP(KILN_TRAP_TABLE_OOB, ~0u); for (uint32_t "
              "k_ = 0; k_ < n_; k_++) t_->elems[i_ + k_] = %s; }\n",
              tab, i, n, sv(t, v, b1));
            break;
        }
        case KILN__OP_TABLE_COPY: {
            uint32_t td = kiln__read_u32(&t->r), ts = kiln__read_u32(&t->r);
            uint32_t n = --t->sp, s = --t->sp, d = --t->sp;
            P("{ struct kiln_table *d_ = inst->tables[%u], *s_ = inst->tables[%u]; uint32_t x_ = "
              "s%ui, y_ = s%ui, n_ = s%ui; if ((uint64_t)x_ + n_ > d_->size || (uint64_t)y_ + n_ "
              "> s_->size) KX_TRAP(KILN_TRAP_TABLE_OOB, ~0u); if (n_) memmove(d_->elems + x_, "
              "s_->elems + y_, (size_t)n_ * sizeof(void *)); }\n",
              td, ts, d, s, n);
            break;
        }
        case KILN__OP_TABLE_INIT: {
            uint32_t ei = kiln__read_u32(&t->r), tab = kiln__read_u32(&t->r);
            uint32_t n = --t->sp, s = --t->sp, d = --t->sp;
            P("kx_rt_table_init(ex, inst, %u, %u, s%ui, s%ui, s%ui);\n", tab, ei, d, s, n);
            break;
        }
        case KILN__OP_ELEM_DROP:
            P("inst->elem_dropped[%u] = 1;\n", kiln__read_u32(&t->r));
            break;
        case KILN__OP_MEMORY_SIZE:
            skip_imm(t, o->imm);
            push(t, KILN_I32);
            P("s%ui = inst->mem0->pages;\n", t->sp - 1);
            break;
        case KILN__OP_MEMORY_GROW:
            skip_imm(t, o->imm);
            P("s%ui = (uint32_t)(int32_t)KX_MEMORY_GROW(inst->mem0, s%ui);\n", t->sp - 1,
              t->sp - 1);
            break;
        case KILN__OP_MEMORY_COPY: {
            uint32_t n, s, d;
            skip_imm(t, o->imm);
            n = --t->sp, s = --t->sp, d = --t->sp;
            P("{ uint64_t d_ = s%ui, s_ = s%ui, n_ = s%ui, z_ = inst->mem0->size; if (d_ + n_ > "
              "z_ || s_ + n_ > z_) KX_TRAP(KILN_TRAP_MEMORY_OOB, ~0u); memmove(inst->mem0_base "
              "+ d_, inst->mem0_base + s_, n_); }\n",
              d, s, n);
            break;
        }
        case KILN__OP_MEMORY_FILL: {
            uint32_t n, v, d;
            skip_imm(t, o->imm);
            n = --t->sp, v = --t->sp, d = --t->sp;
            P("{ uint64_t d_ = s%ui, n_ = s%ui; if (d_ + n_ > inst->mem0->size) "
              "KX_TRAP(KILN_TRAP_MEMORY_OOB, ~0u); memset(inst->mem0_base + d_, (int)(uint8_t)s%ui, n_); }\n",
              d, n, v);
            break;
        }
        case KILN__OP_MEMORY_INIT: {
            uint32_t di = kiln__read_u32(&t->r);
            uint32_t n, s, d;
            kiln__read_u8(&t->r);
            n = --t->sp, s = --t->sp, d = --t->sp;
            P("{ const struct kiln__data *g_ = &inst->mod->datas[%u]; uint64_t d_ = s%ui, s_ = "
              "s%ui, n_ = s%ui; uint64_t l_ = inst->data_dropped[%u] ? 0 : g_->len; if (s_ + n_ > "
              "l_ || d_ + n_ > inst->mem0->size) KX_TRAP(KILN_TRAP_MEMORY_OOB, ~0u); if (n_) "
              "memcpy(inst->mem0_base + d_, inst->mod->bytes + g_->off + s_, n_); }\n",
              di, d, s, n, di);
            break;
        }
        case KILN__OP_DATA_DROP:
            P("inst->data_dropped[%u] = 1;\n", kiln__read_u32(&t->r));
            break;
        case KILN__OP_I32_CONST:
            push(t, KILN_I32);
            P("s%ui = 0x%" PRIx32 "u;\n", t->sp - 1,
              (uint32_t)const_val(t, at, (uint32_t)kiln__read_sleb(&t->r, 32)));
            break;
        case KILN__OP_I64_CONST:
            push(t, KILN_I64);
            P("s%ul = 0x%" PRIx64 "ull;\n", t->sp - 1,
              const_val(t, at, (uint64_t)kiln__read_sleb(&t->r, 64)));
            break;
        case KILN__OP_F32_CONST:
            push(t, KILN_F32);
            P("s%uf = kx_f32(0x%" PRIx32 "u);\n", t->sp - 1, kiln__read_fixed32(&t->r));
            break;
        case KILN__OP_F64_CONST:
            push(t, KILN_F64);
            P("s%ud = kx_f64(0x%" PRIx64 "ull);\n", t->sp - 1, kiln__read_fixed64(&t->r));
            break;
        case KILN__OP_V128_CONST: {
            uint64_t lo = kiln__read_fixed64(&t->r), hi = kiln__read_fixed64(&t->r);
            push(t, KILN_V128);
            P("s%uv = kx_v128_of(0x%" PRIx64 "ull, 0x%" PRIx64 "ull);\n", t->sp - 1, lo, hi);
            break;
        }
        case KILN__OP_REF_NULL: {
            uint8_t rt = kiln__read_u8(&t->r);
            push(t, rt);
            P("%s = (void *)0;\n", sv(t, t->sp - 1, b1));
            break;
        }
        case KILN__OP_REF_IS_NULL: {
            uint32_t a = t->sp - 1;
            P("{ int z_ = %s == (void *)0; ", sv(t, a, b1));
            t->stk[a] = KILN_I32;
            if (t->maxpos[0] < a + 1) t->maxpos[0] = a + 1;
            P("s%ui = (uint32_t)z_; }\n", a);
            break;
        }
        case KILN__OP_REF_FUNC: {
            uint32_t f = kiln__read_u32(&t->r);
            push(t, KILN_FUNCREF);
            P("%s = (void *)inst->funcs[%u];\n", sv(t, t->sp - 1, b1), f);
            break;
        }
        case KILN__OP_I8X16_SHUFFLE: {
            uint8_t idx[16];
            uint32_t b = --t->sp, a = t->sp - 1;
            for (int i = 0; i < 16; i++) idx[i] = kiln__read_u8(&t->r);
            P("{ static const uint8_t x_[16] = {");
            for (int i = 0; i < 16; i++) P("%u,", idx[i]);
            P("}; s%uv = kiln__simd_I8X16_SHUFFLE(s%uv, s%uv, x_); }\n", a, a, b);
            break;
        }
        default: {
            const struct siginfo *sg = &g_sigs[o->sig];
            uint8_t cls = g_simd_class[op];
            uint32_t memoff = 0, lane = 0;
            bool is_mem = o->imm == KILN__IMM_MEMARG || o->imm == KILN__IMM_MEMARG_LANE;
            uint32_t a, i;
            if (o->sig == KILN__SIG_SPECIAL)
                return kiln_error_set(err, KILN_E_UNSUPPORTED,
                                      "function %u: opcode %s not supported by the translator",
                                      t->fidx, g_opid[op]);
            if (is_mem) {
                kiln__read_u32(&t->r); /* align */
                memoff = kiln__read_u32(&t->r);
            }
            if (o->imm == KILN__IMM_LANE || o->imm == KILN__IMM_MEMARG_LANE)
                lane = kiln__read_u8(&t->r);
            a = t->sp - sg->np;
            t->sp = a;
            /* operand names (s<k><T> with the operand's own type) */
            char opn[3][24];
            for (i = 0; i < sg->np; i++)
                snprintf(opn[i], sizeof opn[i], "s%u%c", a + i, tletter(sg->p[i]));
            if (sg->nr) push(t, sg->r);
            if (cls == C_NONE) {
                const char *tm = g_tmpl[op];
                if (!tm)
                    return kiln_error_set(err, KILN_E_UNSUPPORTED,
                                          "function %u: opcode %s not supported by the translator",
                                          t->fidx, g_opid[op]);
                if (is_mem) {
                    ea(t, a, memoff, e1, sizeof e1);
                    const char *ld = sg->nr ? strstr(tm, "kx_ld_") : NULL;
                    if (ld && chases(t, at)) {
                        /* a pointer chase: kx_lh_* from the host base */
                        snprintf(e1, sizeof e1, "(hb + (uint64_t)s%ui + %uu)", a, memoff);
                        P("%s = %.*skx_lh_", sv(t, a, b1), (int)(ld - tm), tm);
                        subst(&t->body, ld + 6, e1, "", "");
                        t->host_base = true;
                    } else if (sg->nr) {
                        P("%s = ", sv(t, a, b1));
                        subst(&t->body, tm, e1, "", "");
                    } else {
                        subst(&t->body, tm, e1, opn[1], "");
                    }
                } else {
                    P("%s = ", sv(t, a, b1));
                    subst(&t->body, tm, opn[0], sg->np > 1 ? opn[1] : "", "");
                }
                P(";\n");
                break;
            }
            /* SIMD through simd.h */
            switch (cls) {
            case C_UNARY: P("s%uv = kiln__simd_%s(%s);\n", a, g_opid[op], opn[0]); break;
            case C_BINARY:
                P("s%uv = kiln__simd_%s(%s, %s);\n", a, g_opid[op], opn[0], opn[1]);
                break;
            case C_TERNARY:
                P("s%uv = kiln__simd_%s(%s, %s, %s);\n", a, g_opid[op], opn[0], opn[1], opn[2]);
                break;
            case C_SHIFT:
                P("s%uv = kiln__simd_%s(%s, %s);\n", a, g_opid[op], opn[0], opn[1]);
                break;
            case C_SPLAT:
                fmt_slotval(sg->p[0], opn[0], e1, sizeof e1);
                P("s%uv = kiln__simd_%s(%s);\n", a, g_opid[op], e1);
                break;
            case C_EXTRACT:
                snprintf(e1, sizeof e1, "kiln__simd_%s(%s, %u)", g_opid[op], opn[0], lane);
                snprintf(b2, sizeof b2, "s%u%c", a, tletter(sg->r));
                switch (sg->r) {
                case KILN_I32: P("%s = (uint32_t)%s;\n", b2, e1); break;
                case KILN_I64: P("%s = %s;\n", b2, e1); break;
                case KILN_F32: P("%s = kx_f32((uint32_t)%s);\n", b2, e1); break;
                default: P("%s = kx_f64(%s);\n", b2, e1); break;
                }
                break;
            case C_REPLACE:
                fmt_slotval(sg->p[1], opn[1], e1, sizeof e1);
                P("s%uv = kiln__simd_%s(%s, %s, %u);\n", a, g_opid[op], opn[0], e1, lane);
                break;
            case C_TEST: P("s%ui = (uint32_t)kiln__simd_%s(%s);\n", a, g_opid[op], opn[0]); break;
            case C_LOAD:
                ea_host(t, a, memoff, e1, sizeof e1);
                P("s%uv = kiln__simd_%s(%s); KX_USE_V(s%uv);\n", a, g_opid[op], e1, a);
                break;
            case C_LOAD_LANE:
                ea_host(t, a, memoff, e1, sizeof e1);
                P("s%uv = kiln__simd_%s(%s, %s, %u); KX_USE_V(s%uv);\n", a, g_opid[op], e1,
                  opn[1], lane, a);
                break;
            case C_STORE_LANE:
                ea_host(t, a, memoff, e1, sizeof e1);
                P("kiln__simd_%s(%s, %s, %u);\n", g_opid[op], e1, opn[1], lane);
                break;
            default:
                return kiln_error_set(err, KILN_E_UNSUPPORTED, "function %u: opcode %s",
                                      t->fidx, g_opid[op]);
            }
            (void)b3;
            break;
        }
        }
    }
}

/* ---- whole module --------------------------------------------------------------- */

static void emit_proto_named(struct kiln__sb *b, const struct kiln_module *mod, uint32_t f,
                             const char *storage, const char *prefix);

static void emit_proto(struct kiln__sb *b, const struct kiln_module *mod, uint32_t f)
{
    emit_proto_named(b, mod, f, "KX_HIDDEN", "f");
}

static void emit_proto_named(struct kiln__sb *b, const struct kiln_module *mod, uint32_t f,
                             const char *storage, const char *prefix)
{
    uint32_t ti = mod->funcs[f].type_idx;
    const struct kiln__functype *ft = &mod->types[ti];
    kiln__sb_printf(b, "%s ", storage);
    rettype(b, mod, ti);
    kiln__sb_printf(b, " %s%u(struct kiln_instance *inst", prefix, f);
    for (uint32_t i = 0; i < ft->nparams; i++)
        kiln__sb_printf(b, ", %s l%u", ctype(ft->types[i]), i);
    kiln__sb_printf(b, ")");
}

/* kxci<ti>: the rest of a call_indirect of type ti, out of line, for
 * whatever is not a function of the calling instance declared with type ti
 * (the inline test, translate_body): the checks in the interpreter's order
 * (undefined element, uninitialized element, signature: the callee's type
 * id against the instance's id of ti), then the callee's native entry when
 * it is AOT code on this memory 0 (KX_SAME_MEM; a function of this
 * instance always is), else rt->call with slot arrays (host functions,
 * interpreted functions, other memories). Unused ones are dropped by the
 * compiler. */
static void emit_call_indirect_rest(struct kiln__sb *b, const struct kiln_module *mod,
                                    uint32_t ti)
{
    const struct kiln__functype *ft = &mod->types[ti];
    char nm[24], an[24];
    uint32_t j, k;
    kiln__sb_printf(b, "static __attribute__((noinline, unused)) ");
    rettype(b, mod, ti);
    kiln__sb_printf(b, " kxci%u(struct kiln_instance *inst", ti);
    for (j = 0; j < ft->nparams; j++) kiln__sb_printf(b, ", %s l%u", ctype(ft->types[j]), j);
    kiln__sb_printf(b,
                    ", struct kiln_table *t_, uint32_t i_)\n{\nKX_EX_DECL();\nstruct kiln_func *c_;\n"
                    "if (i_ >= t_->size) KX_TRAP(KILN_TRAP_UNDEFINED_ELEMENT, i_);\n"
                    "c_ = t_->elems[i_];\n"
                    "if (!c_) KX_TRAP(KILN_TRAP_UNINIT_ELEMENT, i_);\n"
                    "if (c_->type_id != inst->type_ids[%u]) "
                    "KX_TRAP(KILN_TRAP_INDIRECT_MISMATCH, ~0u);\n"
                    "if (c_->aot_native && KX_SAME_MEM(c_)) "
                    "return ((kxft%u)c_->aot_native)(c_->inst",
                    ti, ti);
    for (j = 0; j < ft->nparams; j++) kiln__sb_printf(b, ", l%u", j);
    kiln__sb_printf(b, ");\n{ uint64_t a_[%u], q_[%u]; ", ft->nparam_slots ? ft->nparam_slots : 1,
                    ft->nresult_slots ? ft->nresult_slots : 1);
    if (ft->nresults) {
        rettype(b, mod, ti);
        kiln__sb_printf(b, " r_; ");
    }
    for (j = 0, k = 0; j < ft->nparams; j++) {
        snprintf(an, sizeof an, "l%u", j);
        to_slots(b, "a_", k, ft->types[j], an);
        k += kiln__slots(ft->types[j]);
    }
    kiln__sb_printf(b, "KX_RT_CALL(c_, a_, q_); ");
    for (j = 0, k = 0; j < ft->nresults; j++) {
        uint8_t ty = ft->types[ft->nparams + j];
        if (ft->nresults == 1) snprintf(nm, sizeof nm, "r_");
        else snprintf(nm, sizeof nm, "r_.r%u", j);
        from_slots(b, nm, ty, "q_", k);
        k += kiln__slots(ty);
    }
    kiln__sb_printf(b, "%s }\n}\n", ft->nresults ? "return r_;" : "return;");
}

static void emit_prelude(struct kiln__sb *b, const struct kiln_module *mod, const uint8_t *leaf,
                         const uint8_t *ind, bool metered)
{
    uint32_t i, j;
    kiln__sb_printf(b, "/* generated by kiln compile: do not edit */\n"
                       "#define KX_METERED %d\n"
                       "#include \"wasm/aot/aot_gen.h\"\n\n",
                    metered ? 1 : 0);
    for (i = 0; i < mod->ntypes; i++) {
        const struct kiln__functype *ft = &mod->types[i];
        if (ft->nresults > 1) {
            kiln__sb_printf(b, "typedef struct { ");
            for (j = 0; j < ft->nresults; j++)
                kiln__sb_printf(b, "%s r%u; ", ctype(ft->types[ft->nparams + j]), j);
            kiln__sb_printf(b, "} kxr%u;\n", i);
        }
        kiln__sb_printf(b, "typedef ");
        rettype(b, mod, i);
        kiln__sb_printf(b, " (*kxft%u)(struct kiln_instance *", i);
        for (j = 0; j < ft->nparams; j++) kiln__sb_printf(b, ", %s", ctype(ft->types[j]));
        kiln__sb_printf(b, ");\n");
        if (ind[i]) emit_call_indirect_rest(b, mod, i);
    }
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++) {
        emit_proto(b, mod, i);
        kiln__sb_printf(b, ";\n");
        if (leaf[i]) {
            emit_proto_named(b, mod, i, "KX_HIDDEN", "fl");
            kiln__sb_printf(b, ";\n");
        }
    }
    kiln__sb_printf(b, "\n");
}

/* The checked entry f<f> of leaf f (trampoline, call_indirect, imports):
 * the interpreter's entry checks, then the body fl<f>. */
static void emit_leaf_entry(struct kiln__sb *b, const struct kiln_module *mod, uint32_t f)
{
    const struct kiln__functype *ft = &mod->types[mod->funcs[f].type_idx];
    emit_proto(b, mod, f);
    kiln__sb_printf(b, "\n{\nKX_EX_DECL();\nKX_LEAF_ENTRY();\n%sfl%u(inst",
                    ft->nresults ? "return " : "", f);
    for (uint32_t i = 0; i < ft->nparams; i++) kiln__sb_printf(b, ", l%u", i);
    kiln__sb_printf(b, ");\n}\n\n");
}

/* True unless defined function f certainly makes no call (a body the walk
 * cannot follow counts as calling). Sets ind[ti] for the type ti of each
 * call_indirect (kxci<ti> is emitted for those only), or all of ind when
 * the walk cannot follow the body. */
static bool body_has_calls(const struct kiln_module *mod, uint32_t f, uint8_t *ind)
{
    const struct kiln__func *fn = &mod->funcs[f];
    struct kiln__reader r;
    bool calls = false;
    kiln__reader_init(&r, mod->bytes, mod->bytes + fn->code_off,
                      mod->bytes + fn->body_off + fn->body_len);
    while (!r.err && kiln__reader_off(&r) < fn->body_off + fn->body_len) {
        uint8_t b = kiln__read_u8(&r);
        int idx;
        if (b == 0x10) calls = true; /* call */
        if (b == 0x11) {             /* call_indirect */
            uint32_t ti = kiln__read_u32(&r);
            kiln__read_u32(&r);
            if (!r.err && ti < mod->ntypes) ind[ti] = 1;
            calls = true;
            continue;
        }
        if (b == 0xfc || b == 0xfd) {
            uint32_t c = kiln__read_u32(&r);
            idx = b == 0xfc ? (c < 32 ? g_lookupfc[c] : -1) : (c < 512 ? g_lookupfd[c] : -1);
        } else {
            idx = g_lookup0[b];
        }
        if (idx < 0) break;
        skip_imm_r(&r, g_ops[idx].imm);
    }
    if (r.err || kiln__reader_off(&r) < fn->body_off + fn->body_len) {
        memset(ind, 1, mod->ntypes);
        return true;
    }
    return calls;
}

/* The C expression reading scalar global g from its slot (uses buf). */
static const char *global_load(uint8_t ty, uint32_t g, char *buf)
{
    switch (ty) {
    case KILN_I32: snprintf(buf, 64, "(uint32_t)g%u->val[0]", g); break;
    case KILN_I64: snprintf(buf, 64, "g%u->val[0]", g); break;
    case KILN_F32: snprintf(buf, 64, "kx_f32((uint32_t)g%u->val[0])", g); break;
    default: snprintf(buf, 64, "kx_f64(g%u->val[0])", g); break;
    }
    return buf;
}

static int translate_func(struct tr *t, uint32_t f, struct kiln__sb *out, struct kiln_error *err)
{
    char b[64];
    uint8_t known;
    const char *storage;
    const struct kiln_module *mod = t->mod;
    const struct kiln__func *fn = &mod->funcs[f];
    const struct kiln__functype *ft = &mod->types[fn->type_idx];
    uint32_t i;
    int rc;
    struct ctl *c;

    t->fidx = f;
    t->ft = ft;
    t->ltypes = fn->local_types;
    t->nlocals_all = ft->nparams + fn->nlocals;
    t->sp = 0;
    t->nctl = 0;
    t->next_label = 0;
    t->max_br_table = 0;
    t->host_base = false;
    free(t->chase);
    t->chase = NULL;
    t->nchase = 0;
    free(t->consts);
    t->consts = NULL;
    t->nconsts = 0;
    if ((mod->nmems && kiln__aot_find_chases(mod, f, &t->chase, &t->nchase) < 0) ||
        kiln__aot_narrow_consts(mod, f, &t->consts, &t->nconsts) < 0)
        return kiln_error_set(err, KILN_E_NOMEM, "out of memory translating");
    memset(t->maxpos, 0, sizeof t->maxpos);
    memset(t->globals_used, 0, mod->nglobals ? mod->nglobals : 1);
    memset(t->tables_used, 0, mod->ntables ? mod->ntables : 1);
    t->body.len = 0;
    if (t->body.s) t->body.s[0] = '\0';
    kiln__reader_init(&t->r, mod->bytes, mod->bytes + fn->code_off,
                      mod->bytes + fn->body_off + fn->body_len);
    c = push_ctl(t, K_FUNC);
    if (!c) return kiln_error_set(err, KILN_E_NOMEM, "out of memory translating");
    c->nr = ft->nresults;
    c->rt = ft->types + ft->nparams;
    rc = translate_body(t, err);
    if (rc < 0) return rc;
    if (t->body.oom) return kiln_error_set(err, KILN_E_NOMEM, "out of memory translating");

    known = kiln__aot_known_kind(mod, f);
    /* an interpreter's dispatch loop: a big body around a big br_table
     * (aot_gen.h KX_DISPATCH) */
    storage = t->max_br_table >= 64 && fn->body_len >= 8192 ? "KX_HIDDEN KX_DISPATCH" : "KX_HIDDEN";
    if (known != KILN__AOT_KF_NONE) emit_proto_named(out, mod, f, "static", "fw");
    else emit_proto_named(out, mod, f, storage, t->leaf[f] ? "fl" : "f");
    kiln__sb_printf(out, "\n{\n");
    kiln__sb_printf(out, "KX_EX_DECL();\n");
    if (mod->nmems) kiln__sb_printf(out, "KX_MSEG uint8_t *const mem = KX_MEM0(); (void)mem;\n");
    if (t->host_base) kiln__sb_printf(out, "uint8_t *const hb = inst->mem0_base;\n");
    for (i = ft->nparams; i < t->nlocals_all; i++)
        kiln__sb_printf(out, "%s l%u = %s;\n", ctype(t->ltypes[i]), i, czero(t->ltypes[i]));
    for (int k = 0; k < 6; k++) {
        if (!t->maxpos[k]) continue;
        kiln__sb_printf(out, "%s", ctype(g_ltypes[k]));
        for (i = 0; i < t->maxpos[k]; i++)
            kiln__sb_printf(out, "%s s%u%c", i ? "," : "", i, tletter(g_ltypes[k]));
        kiln__sb_printf(out, ";\n");
    }
    /* globals: the slot's address, and a local copy of scalar ones; KX_GR
     * reloads the mutable ones after calls */
    for (i = 0; i < mod->nglobals; i++) {
        uint8_t ty = mod->globals[i].type;
        if (!t->globals_used[i]) continue;
        if (i == 0 && mod->nglobal_imports == 0)
            kiln__sb_printf(out, "struct kiln_global *const g0 = &inst->global0_store;\n");
        else
            kiln__sb_printf(out, i ? "struct kiln_global *const g%u = inst->globals[%u];\n"
                                   : "struct kiln_global *const g%u = inst->global0;\n",
                            i, i);
        if (cached_global(ty))
            kiln__sb_printf(out, "%s G%u = %s;\n", ctype(ty), i, global_load(ty, i, b));
    }
    kiln__sb_printf(out, "#define KX_GR do { ");
    for (i = 0; i < mod->nglobals; i++) {
        uint8_t ty = mod->globals[i].type;
        if (t->globals_used[i] && cached_global(ty) && mod->globals[i].mutable_)
            kiln__sb_printf(out, "G%u = %s; ", i, global_load(ty, i, b));
    }
    kiln__sb_printf(out, "} while (0)\n");
    for (i = 0; i < mod->ntables; i++)
        if (t->tables_used[i])
            kiln__sb_printf(out, "struct kiln_table *const T%u = inst->tables[%u];\n", i, i);
    /* a leaf (no calls) cannot deepen the stack: its entry checks (depth
     * limit, and when metered interruption and fuel, as the interpreter
     * makes them on every call) are made by its callers (KX_LEAF_CALL) or
     * by its checked entry f<f> below; metered, its loops check on every
     * back-edge (aot_gen.h: KX_METERED) */
    if (!t->leaf[f]) kiln__sb_printf(out, "enum { kx_leaf = 0 };\nKX_ENTER();\n");
    else kiln__sb_printf(out, "KX_PROLOGUE();\nenum { kx_leaf = 1, kx_depth = 0 };\n");
    kiln__sb_put(out, t->body.s ? t->body.s : "", t->body.len);
    kiln__sb_printf(out, "#undef KX_GR\n}\n\n");
    if (known != KILN__AOT_KF_NONE) kiln__aot_emit_known(out, known, f, t->leaf[f] ? "fl" : "f");
    if (t->leaf[f]) emit_leaf_entry(out, mod, f);
    return 0;
}

/* Translates mod without polls (see aot_internal.h). */
int kiln__aot_translate(const struct kiln_module *mod, const char *digest_hex, unsigned nparts,
                        struct kiln__sb *parts, struct kiln_error *err)
{
    return kiln__aot_translate_flags(mod, digest_hex, 0, nparts, parts, err);
}

/* Translates mod with KILN_AOT_F_* flags (see aot_internal.h). */
int kiln__aot_translate_flags(const struct kiln_module *mod, const char *digest_hex,
                              uint32_t flags, unsigned nparts, struct kiln__sb *parts,
                              struct kiln_error *err)
{
    const bool metered = (flags & KILN_AOT_F_METERED) != 0;
    struct tr t;
    uint32_t i, ndef = mod->nfuncs - mod->nfunc_imports;
    uint64_t total = 0, acc = 0;
    uint8_t *leaf = NULL, *ind = NULL;
    int rc = 0;

    tables_init();
    if (nparts == 0) nparts = 1;
    memset(&t, 0, sizeof t);
    t.mod = mod;
    t.globals_used = calloc(mod->nglobals ? mod->nglobals : 1, 1);
    t.tables_used = calloc(mod->ntables ? mod->ntables : 1, 1);
    leaf = calloc(mod->nfuncs ? mod->nfuncs : 1, 1);
    ind = calloc(mod->ntypes ? mod->ntypes : 1, 1); /* types of call_indirects */
    if (!t.globals_used || !t.tables_used || !leaf || !ind) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory translating");
        goto out;
    }
    /* a leaf is a function without calls whose frame surely fits in the
     * native stack margin the callers' checks leave (rt.c: 256 KiB): each
     * local or operand-stack value takes at most 16 bytes and every operand
     * needs a byte of code, so nlocals + body length <= 4096 bounds its C
     * frame by 64 KiB; a bigger one is treated as calling (its entry checks
     * the stack limit itself, and in metered code counts its frame, as the
     * interpreter does for every call) */
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++)
        leaf[i] = !body_has_calls(mod, i, ind) &&
                  (uint64_t)mod->funcs[i].nlocals + mod->funcs[i].body_len <= 4096;
    t.leaf = leaf;
    for (i = 0; i < nparts; i++) emit_prelude(&parts[i], mod, leaf, ind, metered);
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++) total += mod->funcs[i].body_len;
    for (i = mod->nfunc_imports; i < mod->nfuncs; i++) {
        unsigned part = total ? (unsigned)((acc * nparts) / (total + 1)) : 0;
        acc += mod->funcs[i].body_len;
        rc = translate_func(&t, i, &parts[part], err);
        if (rc < 0) {
            kiln_error_prefix(err, "aot translate");
            goto out;
        }
    }
    /* part 0: trampolines and the descriptor */
    {
        struct kiln__sb *b = &parts[0];
        for (i = mod->nfunc_imports; i < mod->nfuncs; i++) {
            uint32_t ti = mod->funcs[i].type_idx;
            const struct kiln__functype *ft = &mod->types[ti];
            uint32_t j, k;
            char nm[24];
            /* the entry from kiln: KX_TRAMP_CHECK sees a request made before
             * the call (unmetered code has no entry polls) */
            kiln__sb_printf(b,
                            "static int t%u(struct kiln__exec *kx_tex, struct kiln_instance *inst, "
                            "const uint64_t *a, uint64_t *q)\n{\n(void)kx_tex; (void)a; (void)q; "
                            "KX_TRAMP_CHECK();\n",
                            i);
            if (ft->nresults == 1) kiln__sb_printf(b, "%s r_ = ", ctype(ft->types[ft->nparams]));
            else if (ft->nresults > 1) kiln__sb_printf(b, "kxr%u r_ = ", ti);
            kiln__sb_printf(b, "f%u(inst", i);
            for (j = 0, k = 0; j < ft->nparams; j++) {
                uint8_t ty = ft->types[j];
                switch (ty) {
                case KILN_I32: kiln__sb_printf(b, ", (uint32_t)a[%u]", k); break;
                case KILN_I64: kiln__sb_printf(b, ", a[%u]", k); break;
                case KILN_F32: kiln__sb_printf(b, ", kx_f32((uint32_t)a[%u])", k); break;
                case KILN_F64: kiln__sb_printf(b, ", kx_f64(a[%u])", k); break;
                case KILN_V128: kiln__sb_printf(b, ", kx_v128_of(a[%u], a[%u])", k, k + 1); break;
                default: kiln__sb_printf(b, ", (void *)(uintptr_t)a[%u]", k); break;
                }
                k += kiln__slots(ty);
            }
            kiln__sb_printf(b, ");\n");
            for (j = 0, k = 0; j < ft->nresults; j++) {
                uint8_t ty = ft->types[ft->nparams + j];
                if (ft->nresults == 1) snprintf(nm, sizeof nm, "r_");
                else snprintf(nm, sizeof nm, "r_.r%u", j);
                to_slots(b, "q", k, ty, nm);
                k += kiln__slots(ty);
            }
            kiln__sb_printf(b, "\nreturn 0;\n}\n");
        }
        kiln__sb_printf(b, "\nstatic const struct kiln_aot_func kx_funcs[%u] = {\n",
                        ndef ? ndef : 1);
        for (i = mod->nfunc_imports; i < mod->nfuncs; i++)
            kiln__sb_printf(b, "  {t%u, (const void *)f%u},\n", i, i);
        kiln__sb_printf(b, "};\n\nKX_HIDDEN const struct kiln_aot_rt *kx_rt;\n\n"
                           "__attribute__((visibility(\"default\"))) const struct kiln_aot_module "
                           "kiln_aot_module = {\n"
                           "  KILN_AOT_MAGIC, KILN_AOT_ABI, KILN_AOT_LAYOUT, \"%s\", KILN_AOT_TARGET, %u, "
                           "kx_funcs, &kx_rt, %uu | (KX_SEGMEM ? KILN_AOT_F_SEGMEM : 0)\n};\n",
                        digest_hex, ndef, flags & KILN_AOT_F_METERED);
    }
    for (i = 0; i < nparts; i++)
        if (parts[i].oom) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory translating");
            goto out;
        }
out:
    free(t.globals_used);
    free(t.tables_used);
    free(leaf);
    free(ind);
    free(t.stk);
    free(t.ctl);
    free(t.chase);
    free(t.consts);
    kiln__sb_free(&t.body);
    return rc;
}
