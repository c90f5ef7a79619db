/*
 * aot_rt.h — the ABI between kiln and AOT objects, and the inline helpers
 * the generated C uses. This header is compiled twice: into kiln (loader,
 * runtime callbacks) and, embedded as text in kiln, into every generated C
 * file (written next to it with runtime.h, module.h, wasm.h, error.h and
 * simd.h, so both sides see the same struct layouts).
 *
 * Object ABI (KILN_AOT_ABI): the object exports one symbol, kiln_aot_module
 * (struct kiln_aot_module). Each defined function i of the module has an
 * entry funcs[i - nfunc_imports] with
 *   - tramp: int (ex, inst, args slots, results slots), the uniform entry
 *     used by kiln__call(); returns 0 (traps leave with siglongjmp to
 *     ex->trap_jmp through rt->trap, like memory faults);
 *   - native: the typed C function (inst, params...) -> result (one
 *     value, or a struct of results for multi-value), called directly by
 *     other AOT code (call_indirect, imports) once the type id matched,
 *     through the copy kiln keeps in struct kiln_func (aot_native).
 * The descriptor's flags say how the code was compiled (KILN_AOT_F_METERED:
 * interrupt and fuel polls; 0: none, interruption by signal).
 * Invariants the generated code relies on: linear memory 0 never moves and
 * base + u32 + u32 offset + 16 is inside the reservation (guard region), so
 * loads and stores are unchecked; with KILN_AOT_F_SEGMEM, the gs segment's
 * base is the running instance's memory 0 base (kiln__aot_enter sets it);
 * ex->depth counts wasm frames exactly like the interpreter (metered);
 * inst->aot_stack_limit bounds the native stack; inst->store->exec is the
 * running exec.
 * `layout` is a fingerprint of the struct layouts the code was compiled
 * against; the loader refuses an object whose fingerprint differs.
 */
/* The ABI part (up to the descriptor flags) needs only <stddef.h> and
 * <stdint.h>: aot_libc.c, compiled without the include directory of the
 * engine headers, includes it alone (KILN_AOT_RT_ABI_ONLY) to reach the
 * host C library through kx_rt. */
#ifndef KILN_WASM_AOT_RT_ABI_H
#define KILN_WASM_AOT_RT_ABI_H

#include <stddef.h>
#include <stdint.h>

struct kiln__exec;
struct kiln_instance;
struct kiln_func;
struct kiln_memory;
struct kiln_table;

/* 2: descriptor flags (KILN_AOT_F_METERED); unmetered code has no polls.
 * 3: memory 0 addressed through the gs segment (KILN_AOT_F_SEGMEM).
 * 4: call_indirect compares small signatures' structural ids
 *    (kiln__functype_packed_id) as constants.
 * 5: call_indirect compares kiln_func.aot_key with inst + type index (a
 *    function of the calling instance with that type; runtime.h), and
 *    reads the expected type id from inst->type_ids otherwise.
 * 6: native functions take no exec (inst, params...): the exec is
 *    inst->store->exec, the stack limit inst->aot_stack_limit; a defined
 *    global 0 is inst->global0_store.
 * 7: struct kiln_aot_rt ends with the host C library functions for long
 *    operations (host_memcpy, ...; aot_libc.c, aot_known.h). */
#define KILN_AOT_ABI 7u

/* Target triple, as seen by whichever compiler compiles this header. */
#if defined(__x86_64__) && defined(__linux__)
#define KILN_AOT_TARGET "x86_64-linux-gnu"
#elif defined(__aarch64__) && defined(__linux__)
#define KILN_AOT_TARGET "aarch64-linux-gnu"
#else
#define KILN_AOT_TARGET "unknown"
#endif
#define KILN_AOT_MAGIC 0x4b414f54u /* "KAOT" */

#define KILN_AOT_LAYOUT                                                                            \
    ((uint64_t)sizeof(struct kiln_func) | (uint64_t)sizeof(struct kiln_instance) << 8 |           \
     (uint64_t)sizeof(struct kiln__exec) << 16 | (uint64_t)sizeof(struct kiln_table) << 32 |     \
     (uint64_t)offsetof(struct kiln__exec, aot_stack_limit) << 40 |                              \
     (uint64_t)offsetof(struct kiln_func, aot) << 52)

/* Callbacks kiln gives every loaded object (set through rt_slot). */
struct kiln_aot_rt {
    uint32_t abi;
    /* Raises trap `kind` (arg: element index for call_indirect traps, or
     * UINT32_MAX): fills ex->trap and siglongjmps to ex->trap_jmp. */
    __attribute__((noreturn)) void (*trap)(struct kiln__exec *ex, int kind, uint32_t arg);
    /* Calls any function with slot-form args/results from instance `caller`;
     * a trap in the callee is re-raised (does not return). */
    void (*call)(struct kiln__exec *ex, struct kiln_instance *caller, struct kiln_func *f,
                 const uint64_t *args, uint64_t *res);
    int64_t (*memory_grow)(struct kiln_memory *mem, uint32_t delta);
    int64_t (*table_grow)(struct kiln_table *t, uint32_t n, void *init);
    /* The host process's C library for long operations (ABI 7; aot_libc.c's
     * memcpy, memmove, memset from KX_HOST_COPY bytes, aot_known.h's memchr
     * and strlen scans from KX_K_HOST_SCAN): kiln's own glibc functions, whose
     * AVX2/AVX-512/ERMS variants glibc selects at run time (an object is built
     * for the x86-64 baseline). Same contracts as the C functions; the caller
     * checks bounds first, so they never fault on guest memory. Each returns
     * into AOT text through a check of the interrupt flag: if the running
     * store has a request set it traps KILN_TRAP_INTERRUPTED (a signal that
     * arrives while the thread runs outside AOT text is deferred, docs/aot.md
     * "Interruption"). */
    void *(*host_memcpy)(void *restrict d, const void *restrict s, size_t n);
    void *(*host_memmove)(void *d, const void *s, size_t n);
    void *(*host_memset)(void *d, int c, size_t n);
    void *(*host_memchr)(const void *s, int c, size_t n);
};

typedef int (*kiln_aot_tramp)(struct kiln__exec *ex, struct kiln_instance *inst,
                              const uint64_t *args, uint64_t *res);

struct kiln_aot_func {
    kiln_aot_tramp tramp;
    const void *native;
};

struct kiln_aot_module {
    uint32_t magic;       /* KILN_AOT_MAGIC */
    uint32_t abi;         /* KILN_AOT_ABI */
    uint64_t layout;      /* KILN_AOT_LAYOUT when compiled */
    char digest[65];      /* SHA-256 (hex) of the wasm module it was made from */
    char target[64];      /* target triple */
    uint32_t nfuncs;      /* defined functions */
    const struct kiln_aot_func *funcs;
    const struct kiln_aot_rt **rt_slot; /* where the loader stores its callbacks */
    uint32_t flags;       /* KILN_AOT_F_* the code was compiled with */
};

/* The code polls the interrupt flag and counts fuel at every function entry
 * and loop back-edge, exactly where the interpreter does (kiln compile
 * --metered). Without it the code has no polls: interruption is delivered
 * by a signal (docs/aot.md, "Interruption"), and a store with fuel runs the
 * module interpreted instead. */
#define KILN_AOT_F_METERED 1u
/* Loads and stores address memory 0 as gs:offset (x86-64): kiln sets the
 * thread's gs base to the instance's memory before running the code and
 * whenever it switches instances (rt.c, "Memory segment"); no register
 * holds the memory base. The generated code calls another instance's
 * native entry directly only when both use the same memory. */
#define KILN_AOT_F_SEGMEM 2u

#endif /* KILN_WASM_AOT_RT_ABI_H */

#if !defined(KILN_AOT_RT_ABI_ONLY) && !defined(KILN_WASM_AOT_RT_H)
#define KILN_WASM_AOT_RT_H

#include <stdatomic.h>
#include <string.h>

#include "wasm/runtime.h"
#include "wasm/simd.h"

/* ---- helpers for generated code ------------------------------------------------ */
#define KX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define KX_INL static inline __attribute__((always_inline))

KX_INL float kx_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
KX_INL double kx_f64(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
KX_INL uint32_t kx_b32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
KX_INL uint64_t kx_b64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* Linear memory 0 as generated code addresses it: KX_MSEG is an address
 * space qualifier (aot_gen.h: __seg_gs on x86-64, so `mem` is 0 in the gs
 * segment, whose base kiln sets to the instance's memory, and no register
 * holds the base), or nothing (mem is inst->mem0_base). */
#ifndef KX_MSEG
#define KX_MSEG
#endif

/* Loads: the empty asm consumes the value so the compiler never deletes a
 * load whose result is unused (the load may trap: a fault in the guard
 * region is the bounds check). Accesses are unaligned (aligned(1)).
 * kx_lh_* is the same load from a host pointer (hb + index: the loads that
 * chase pointers, translate_chase.c); compilers treat an access through
 * the segment and one through a generic pointer as possibly aliasing, so
 * mixing both keeps the order of memory accesses. */
#define KX_LD(name, T, cons)                                                                       \
    typedef T __attribute__((aligned(1), may_alias)) kx_ua_##name;                                 \
    KX_INL T kx_ld_##name(const KX_MSEG uint8_t *p)                                                \
    {                                                                                              \
        T v = *(const KX_MSEG kx_ua_##name *)p;                                                    \
        __asm__("" ::cons(v));                                                                     \
        return v;                                                                                  \
    }                                                                                              \
    KX_INL T kx_lh_##name(const uint8_t *p)                                                        \
    {                                                                                              \
        T v = *(const kx_ua_##name *)p;                                                            \
        __asm__("" ::cons(v));                                                                     \
        return v;                                                                                  \
    }
KX_LD(u8, uint8_t, "r") KX_LD(i8, int8_t, "r") KX_LD(u16, uint16_t, "r") KX_LD(i16, int16_t, "r")
#if defined(__x86_64__)
#define KX_FREG "x"
#else
#define KX_FREG "w"
#endif
#define KX_USE_V(v) __asm__("" ::KX_FREG((v).vu8))
KX_LD(u32, uint32_t, "r") KX_LD(i32, int32_t, "r") KX_LD(u64, uint64_t, "r")
KX_LD(f32, float, KX_FREG) KX_LD(f64, double, KX_FREG)
typedef uint8_t kx_ua_v16 __attribute__((vector_size(16), aligned(1), may_alias));
KX_INL kiln__v128 kx_ld_v128(const KX_MSEG uint8_t *p)
{
    kiln__v128 v;
    v.vu8 = *(const KX_MSEG kx_ua_v16 *)p;
    KX_USE_V(v);
    return v;
}
#define KX_ST(name, T)                                                                             \
    KX_INL void kx_st_##name(KX_MSEG uint8_t *p, T v) { *(KX_MSEG kx_ua_##name *)p = v; }
KX_ST(u8, uint8_t) KX_ST(u16, uint16_t) KX_ST(u32, uint32_t) KX_ST(u64, uint64_t) KX_ST(f32, float)
KX_ST(f64, double)
KX_INL void kx_st_v128(KX_MSEG uint8_t *p, kiln__v128 v) { *(KX_MSEG kx_ua_v16 *)p = v.vu8; }

KX_INL float kx_fmin32(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return __builtin_signbit(a) ? a : b;
    return a < b ? a : b;
}
KX_INL float kx_fmax32(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return __builtin_signbit(a) ? b : a;
    return a > b ? a : b;
}
KX_INL double kx_fmin64(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return __builtin_signbit(a) ? a : b;
    return a < b ? a : b;
}
KX_INL double kx_fmax64(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == b) return __builtin_signbit(a) ? b : a;
    return a > b ? a : b;
}
KX_INL float kx_ceil32(float x) { return x != x ? x + x : __builtin_ceilf(x); }
KX_INL float kx_floor32(float x) { return x != x ? x + x : __builtin_floorf(x); }
KX_INL float kx_trunc32(float x) { return x != x ? x + x : __builtin_truncf(x); }
KX_INL float kx_nearest32(float x) { return x != x ? x + x : __builtin_rintf(x); }
KX_INL double kx_ceil64(double x) { return x != x ? x + x : __builtin_ceil(x); }
KX_INL double kx_floor64(double x) { return x != x ? x + x : __builtin_floor(x); }
KX_INL double kx_trunc64(double x) { return x != x ? x + x : __builtin_trunc(x); }
KX_INL double kx_nearest64(double x) { return x != x ? x + x : __builtin_rint(x); }
KX_INL float kx_abs32(float x) { return kx_f32(kx_b32(x) & 0x7fffffffu); }
KX_INL float kx_neg32(float x) { return kx_f32(kx_b32(x) ^ 0x80000000u); }
KX_INL float kx_copysign32(float a, float b)
{
    return kx_f32((kx_b32(a) & 0x7fffffffu) | (kx_b32(b) & 0x80000000u));
}
KX_INL double kx_abs64(double x) { return kx_f64(kx_b64(x) & 0x7fffffffffffffffull); }
KX_INL double kx_neg64(double x) { return kx_f64(kx_b64(x) ^ 0x8000000000000000ull); }
KX_INL double kx_copysign64(double a, double b)
{
    return kx_f64((kx_b64(a) & 0x7fffffffffffffffull) | (kx_b64(b) & 0x8000000000000000ull));
}
KX_INL uint32_t kx_rotl32(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
KX_INL uint32_t kx_rotr32(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
KX_INL uint64_t kx_rotl64(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
KX_INL uint64_t kx_rotr64(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }
KX_INL uint32_t kx_clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
KX_INL uint32_t kx_ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
KX_INL uint64_t kx_clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
KX_INL uint64_t kx_ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }

KX_INL uint32_t kx_sat_i32(double x)
{
    if (x != x) return 0;
    if (x <= -2147483649.0) return (uint32_t)INT32_MIN;
    if (x >= 2147483648.0) return (uint32_t)INT32_MAX;
    return (uint32_t)(int32_t)x;
}
KX_INL uint32_t kx_sat_u32(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 4294967296.0) return UINT32_MAX;
    return (uint32_t)x;
}
KX_INL uint64_t kx_sat_i64(double x)
{
    if (x != x) return 0;
    if (x < -9223372036854775808.0) return (uint64_t)INT64_MIN;
    if (x >= 9223372036854775808.0) return (uint64_t)INT64_MAX;
    return (uint64_t)(int64_t)x;
}
KX_INL uint64_t kx_sat_u64(double x)
{
    if (x != x || x <= -1.0) return 0;
    if (x >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)x;
}

/* f64.promote_f32 behind a barrier: the compiler must not fold a
 * promote/demote round trip to the identity (it would keep a signalling
 * NaN signalling). */
KX_INL double kx_promote(float x)
{
    double d = (double)x;
    __asm__("" : "+" KX_FREG(d));
    return d;
}

/* v128 <-> slots */
KX_INL kiln__v128 kx_v128_of(uint64_t lo, uint64_t hi)
{
    kiln__v128 v;
    v.u64[0] = lo;
    v.u64[1] = hi;
    return v;
}

#endif
