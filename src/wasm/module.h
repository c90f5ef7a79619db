/*
 * module.h — the engine's internal picture of a decoded module.
 *
 * Filled by decode.c (sections, in one pass, validating as it goes) and
 * completed by compile.c (one compiled body per defined function). Immutable
 * once kiln_module_new() returns; shared read-only by every instance.
 *
 * Index spaces follow the spec: imports come first. funcs[0..nfunc_imports)
 * are imported functions (only type_idx and import_idx are meaningful),
 * funcs[nfunc_imports..nfuncs) are defined ones. Tables, memories and
 * globals follow the same rule.
 *
 * Ownership: everything hangs off struct kiln_module and is freed by
 * kiln_module_free(). `bytes` is the module's own copy of the binary; body
 * and data offsets index into it.
 */
#ifndef KILN_WASM_MODULE_H
#define KILN_WASM_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/wasm.h"

/* Hard bounds that keep length fields from causing unbounded allocation.
 * Each is also bounded by the bytes actually present. */
#define KILN__MAX_TYPES 1000000u
#define KILN__MAX_FUNCS 1000000u
#define KILN__MAX_IMPORTS 100000u
#define KILN__MAX_EXPORTS 100000u
#define KILN__MAX_GLOBALS 1000000u
#define KILN__MAX_TABLES 100000u
#define KILN__MAX_MEMORIES 1u /* wasm 2.0: at most one memory */
#define KILN__MAX_SEGMENTS 100000u
#define KILN__MAX_PARAMS 1000u
#define KILN__MAX_RESULTS 1000u
#define KILN__MAX_LOCALS 50000u
#define KILN__MAX_PAGES 65536u          /* 4 GiB of wasm32 memory */
#define KILN__MAX_TABLE_SIZE 0xffffffffu /* limits field range */

/* A function type: params then results. Slot counts give the frame size in
 * 64-bit slots (v128 takes 2). */
struct kiln__functype {
    uint32_t nparams;
    uint32_t nresults;
    uint8_t *types;        /* nparams + nresults valtypes; owned */
    uint32_t nparam_slots;  /* sum of slot sizes of params */
    uint32_t nresult_slots; /* sum of slot sizes of results */
};

/* A constant expression, restricted to what wasm 2.0 allows. */
enum kiln__constop {
    KILN__CONST_VALUE = 0, /* value in bits[] (i32/i64/f32/f64/v128) */
    KILN__CONST_GLOBAL_GET, /* idx = global index (an imported global) */
    KILN__CONST_REF_NULL,   /* type = reftype */
    KILN__CONST_REF_FUNC    /* idx = function index */
};
struct kiln__constexpr {
    uint8_t op;       /* enum kiln__constop */
    uint8_t type;     /* result valtype */
    uint32_t idx;     /* for GLOBAL_GET / REF_FUNC */
    uint64_t bits[2]; /* for VALUE; v128 low half in bits[0] */
};

struct kiln__import {
    char *module; /* NUL-terminated, validated UTF-8; owned */
    char *name;   /* owned */
    uint8_t kind; /* enum kiln_extern_kind */
    uint32_t index; /* index in its own index space (func/table/mem/global) */
};

struct kiln__func {
    uint32_t type_idx;
    uint32_t import_idx; /* for imported functions; else UINT32_MAX */
    /* for defined functions: */
    uint32_t body_off;  /* offset in mod->bytes of the body (after its size) */
    uint32_t body_len;
    uint32_t code_off;       /* offset of the first instruction (after the local
                                declarations); set by validate.c */
    uint32_t nlocals;        /* locals declared in the body, excluding params */
    uint8_t *local_types;    /* params then declared locals (nparams+nlocals); owned;
                                decoded by validate.c from the body's local
                                declarations */
    struct kiln__code *code; /* compiled form, set by compile.c; owned */
};

struct kiln__table {
    uint8_t reftype; /* KILN_FUNCREF or KILN_EXTERNREF */
    struct kiln_limits limits;
    uint32_t import_idx; /* UINT32_MAX if defined */
};

struct kiln__memory {
    struct kiln_limits limits; /* in pages */
    uint32_t import_idx;
};

struct kiln__global {
    uint8_t type;
    bool mutable_;
    uint32_t import_idx;
    struct kiln__constexpr init; /* for defined globals */
};

struct kiln__export {
    char *name; /* owned */
    uint8_t kind;
    uint32_t index;
};

enum kiln__segmode { KILN__SEG_ACTIVE = 0, KILN__SEG_PASSIVE, KILN__SEG_DECLARATIVE };

struct kiln__elem {
    uint8_t mode; /* enum kiln__segmode */
    uint8_t reftype;
    uint32_t table_idx;
    struct kiln__constexpr offset; /* for ACTIVE */
    uint32_t nitems;
    struct kiln__constexpr *items; /* owned; REF_FUNC or REF_NULL or GLOBAL_GET */
};

struct kiln__data {
    uint8_t mode; /* ACTIVE or PASSIVE */
    uint32_t mem_idx;
    struct kiln__constexpr offset;
    uint32_t off; /* bytes in mod->bytes */
    uint32_t len;
};

struct kiln_module {
    uint8_t *bytes; /* owned copy of the binary */
    size_t nbytes;

    uint32_t ntypes;
    struct kiln__functype *types;

    uint32_t nimports;
    struct kiln__import *imports;

    uint32_t nfuncs, nfunc_imports;
    struct kiln__func *funcs;

    uint32_t ntables, ntable_imports;
    struct kiln__table *tables;

    uint32_t nmems, nmem_imports;
    struct kiln__memory *mems;

    uint32_t nglobals, nglobal_imports;
    struct kiln__global *globals;

    uint32_t nexports;
    struct kiln__export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    struct kiln__elem *elems;

    bool has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    struct kiln__data *datas;

    /* Functions referenced outside function bodies (exports, elem segments,
     * global initializers): only these may appear in ref.func in code.
     * Bitmap of nfuncs bits; owned. */
    uint8_t *declared_funcs;

    struct kiln_module_config cfg;
    /* With cfg.defer_compile: set once every defined function has its
     * interpreter code (kiln__module_compile, under module.c's lock). */
    bool compiled;

    /* Native code for the defined functions (aot/aot_rt.h), attached by
     * kiln_module_attach_aot() after verification, or NULL. Instances
     * created while it is set run their defined functions natively. Owned
     * by the loaded object's handle, which must outlive the module's use. */
    const struct kiln_aot_module *aot;
    /* Optional: a loaded object the module owns, released by
     * kiln_module_free() through aot_release (kiln_aot_compile_cached). */
    struct kiln_aot_handle *aot_owned;
    void (*aot_release)(struct kiln_aot_handle *h);
};

/* Slot size of a value type: 2 for v128, else 1. */
static inline uint32_t kiln__slots(uint8_t t)
{
    return t == KILN_V128 ? 2u : 1u;
}

static inline bool kiln__is_reftype(uint8_t t)
{
    return t == KILN_FUNCREF || t == KILN_EXTERNREF;
}

static inline bool kiln__is_valtype(uint8_t t, bool simd)
{
    return t == KILN_I32 || t == KILN_I64 || t == KILN_F32 || t == KILN_F64 ||
           (simd && t == KILN_V128) || kiln__is_reftype(t);
}

/* ---- entry points between the engine's files ----------------------------- */

/* decode.c: decodes and validates all sections of bytes[0..len) into *mod
 * (already zeroed, bytes already copied into mod->bytes). For each defined
 * function body it calls kiln__func_validate_compile() (kiln__func_validate()
 * alone with cfg.defer_compile). Returns 0 or a
 * negative kiln_error code with *err filled ("section code, offset 0x..: ..."). */
int kiln__decode(struct kiln_module *mod, struct kiln_error *err);

/* module.c: gives every defined function of mod its interpreter code, if
 * cfg.defer_compile left any without (thread-safe; a no-op afterwards and
 * for modules compiled at creation). Returns 0 or negative with *err
 * (KILN_E_NOMEM, KILN_E_UNSUPPORTED: "code section, function N: ..."). */
int kiln__module_compile(struct kiln_module *mod, struct kiln_error *err);

/* validate.c + compile.c: validates the body of defined function `fidx` and
 * compiles it into mod->funcs[fidx].code. Everything the body refers to
 * (types, functions, tables, memories, globals, datacount, declared_funcs)
 * is already decoded. Returns 0 or negative with *err naming "code section,
 * function N, offset 0x...: reason" (offsets absolute in the module). */
int kiln__func_validate_compile(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err);

/* validate.c: only the validation half of the above (locals decoded into
 * local_types/nlocals/code_off, instructions checked, nothing compiled).
 * Used by kiln__func_validate_compile() and by the validator's unit tests. */
int kiln__func_validate(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err);

/* compile.c: compiles the already-validated body of defined function fidx
 * into mod->funcs[fidx].code. Called by kiln__func_validate_compile() after
 * validation succeeded. Returns 0 or negative (ENOMEM, or an implementation
 * limit such as too many slots) with *err filled. */
int kiln__func_compile(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err);

/* compile.c: frees a compiled body (NULL is a no-op). */
void kiln__code_free(struct kiln__code *code);

/* module.c: frees everything owned by mod, and mod itself. */
void kiln__module_destroy(struct kiln_module *mod);

#endif
