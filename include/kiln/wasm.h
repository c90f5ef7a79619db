/*
 * kiln/wasm.h — the WebAssembly engine's public embedding API.
 *
 * Model (like the wasm-c-api / wasmtime "store"):
 *   - struct kiln_module: decoded, validated and compiled code. Immutable after
 *     kiln_module_new(); may be shared by any number of stores and threads.
 *   - struct kiln_store: owns every runtime object (instances, functions,
 *     tables, memories, globals) created in it; they all live until
 *     kiln_store_free(). One store is used by one thread at a time, except
 *     kiln_store_interrupt(), which any thread may call.
 *   - struct kiln_extern: a tagged pointer to a store object, used for
 *     imports and exports.
 *
 * No code is ever generated at run time: the engine interprets a compact
 * internal form compiled once at load, or (later) runs a signed AOT object.
 *
 * Values cross the API as struct kiln_val. Host functions receive raw 64-bit
 * slots for speed (a v128 takes two consecutive slots, low half first).
 */
#ifndef KILN_WASM_H
#define KILN_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/error.h"

#define KILN_WASM_PAGE_SIZE 65536u

/* Value types, encoded as in the binary format. */
enum kiln_valtype {
    KILN_I32 = 0x7f,
    KILN_I64 = 0x7e,
    KILN_F32 = 0x7d,
    KILN_F64 = 0x7c,
    KILN_V128 = 0x7b,
    KILN_FUNCREF = 0x70,
    KILN_EXTERNREF = 0x6f
};

/* A typed value. Floats are carried as their bit patterns so NaN payloads
 * survive. References: funcref is a struct kiln_func * (NULL = null);
 * externref is an opaque host pointer (NULL = null). */
struct kiln_val {
    uint8_t type; /* enum kiln_valtype */
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32; /* bits */
        uint64_t f64; /* bits */
        uint8_t v128[16];
        void *ref;
    } of;
};

enum kiln_extern_kind {
    KILN_EXTERN_FUNC = 0,
    KILN_EXTERN_TABLE = 1,
    KILN_EXTERN_MEMORY = 2,
    KILN_EXTERN_GLOBAL = 3
};

struct kiln_module;
struct kiln_store;
struct kiln_instance;
struct kiln_func;
struct kiln_table;
struct kiln_memory;
struct kiln_global;

struct kiln_extern {
    uint8_t kind; /* enum kiln_extern_kind */
    union {
        struct kiln_func *func;
        struct kiln_table *table;
        struct kiln_memory *memory;
        struct kiln_global *global;
    } of;
};

/* A function signature. types[0..nparams) are the parameters,
 * types[nparams..nparams+nresults) the results. */
struct kiln_functype {
    uint32_t nparams;
    uint32_t nresults;
    const uint8_t *types; /* enum kiln_valtype each */
};

/* Limits in units of pages (memories) or elements (tables). */
struct kiln_limits {
    uint32_t min;
    uint32_t max; /* valid only if has_max */
    bool has_max;
};

/* ---- traps ------------------------------------------------------------ */

enum kiln_trap_kind {
    KILN_TRAP_NONE = 0,
    KILN_TRAP_UNREACHABLE,       /* "unreachable" */
    KILN_TRAP_MEMORY_OOB,        /* "out of bounds memory access" */
    KILN_TRAP_TABLE_OOB,         /* "out of bounds table access" */
    KILN_TRAP_DIV_ZERO,          /* "integer divide by zero" */
    KILN_TRAP_INT_OVERFLOW,      /* "integer overflow" */
    KILN_TRAP_BAD_CONVERSION,    /* "invalid conversion to integer" */
    KILN_TRAP_INDIRECT_MISMATCH, /* "indirect call type mismatch" */
    KILN_TRAP_UNDEFINED_ELEMENT, /* "undefined element" */
    KILN_TRAP_UNINIT_ELEMENT,    /* "uninitialized element" */
    KILN_TRAP_STACK_EXHAUSTED,   /* "call stack exhausted" */
    KILN_TRAP_INTERRUPTED,       /* kiln_store_interrupt() was called */
    KILN_TRAP_OUT_OF_FUEL,       /* the step limit was reached */
    KILN_TRAP_HOST,              /* a host function failed; message says why */
    KILN_TRAP_EXIT,              /* the guest asked to exit; exit_code is set */
    KILN_TRAP__COUNT
};

struct kiln_trap {
    int kind;      /* enum kiln_trap_kind */
    int exit_code; /* for KILN_TRAP_EXIT */
    char msg[256]; /* the spec's wording for engine traps */
};

/* Returns the spec test suite's wording for a trap kind ("unreachable", ...). */
const char *kiln_trap_message(int kind);

/* ---- modules ---------------------------------------------------------- */

/* Which features the decoder accepts; kiln_module_config_default() enables
 * everything the engine supports. */
struct kiln_module_config {
    bool simd;
    uint64_t max_module_bytes; /* 0 = no limit beyond memory */
    /* Validate every function body, but compile the bodies for the
     * interpreter only when an instance first needs them (an instance
     * made without native code attached, or a fallback from it). For
     * modules that will run AOT code: saves the interpreter's compile time
     * at start-up, and a body the interpreter cannot run (KILN_E_UNSUPPORTED)
     * is reported by kiln_instance_new instead of kiln_module_new. */
    bool defer_compile;
};

void kiln_module_config_default(struct kiln_module_config *cfg);

/* Decodes, validates and compiles a binary module. `bytes` is copied; the
 * caller may free it afterwards. On failure returns negative and fills *err:
 * KILN_E_MALFORMED (does not decode) or KILN_E_INVALID (does not validate),
 * with a message naming the section, the byte offset and the reason.
 * cfg may be NULL (defaults). *out is set only on success; free it with
 * kiln_module_free(), after every store that instantiated it is freed. */
int kiln_module_new(const uint8_t *bytes, size_t len, const struct kiln_module_config *cfg,
                    struct kiln_module **out, struct kiln_error *err);
void kiln_module_free(struct kiln_module *mod);

/* Import and export descriptions. Strings are owned by the module. */
struct kiln_importdesc {
    const char *module;
    const char *name;
    uint8_t kind; /* enum kiln_extern_kind */
    /* for FUNC */
    struct kiln_functype functype;
    /* for TABLE (reftype in valtype) and GLOBAL (valtype, mutable) */
    uint8_t valtype;
    bool mutable_;
    /* for TABLE and MEMORY */
    struct kiln_limits limits;
};
struct kiln_exportdesc {
    const char *name;
    uint8_t kind;   /* enum kiln_extern_kind */
    uint32_t index; /* index in its index space */
};
uint32_t kiln_module_import_count(const struct kiln_module *mod);
void kiln_module_import(const struct kiln_module *mod, uint32_t i, struct kiln_importdesc *out);
uint32_t kiln_module_export_count(const struct kiln_module *mod);
void kiln_module_export(const struct kiln_module *mod, uint32_t i, struct kiln_exportdesc *out);
/* Type of an exported function by export name; false if absent / not a function. */
bool kiln_module_export_functype(const struct kiln_module *mod, const char *name,
                                 struct kiln_functype *out);

/* ---- stores ----------------------------------------------------------- */

struct kiln_store_config {
    uint64_t max_memory_bytes; /* cap on every linear memory; 0 = 4 GiB */
    uint32_t max_table_elems;  /* cap on table growth; 0 = 10,000,000 */
    uint32_t max_call_depth;   /* wasm call frames; 0 = default (20,000) */
    size_t value_stack_bytes;  /* interpreter value stack; 0 = default (8 MiB) */
    uint64_t fuel;             /* 0 = unlimited; else steps before OUT_OF_FUEL */
};

void kiln_store_config_default(struct kiln_store_config *cfg);

/* Creates a store. cfg may be NULL (defaults). Returns NULL on ENOMEM. */
struct kiln_store *kiln_store_new(const struct kiln_store_config *cfg);
/* Frees the store and everything created in it. NULL is a no-op. */
void kiln_store_free(struct kiln_store *store);

/* Asks the guest running in `store` to stop with KILN_TRAP_INTERRUPTED at the
 * next function entry or loop back-edge. Async-signal-safe and thread-safe.
 * The request stays until kiln_store_clear_interrupt(). AOT code compiled
 * without polls (the default, docs/aot.md "Interruption") is stopped at any
 * instruction by a SIGURG sent to the thread running it (kiln installs the
 * handler; keep SIGURG unblocked on threads that run guests); called from a
 * signal handler on that very thread, the handler must return normally.
 * The guest also stops right after a host function that requested it
 * returns. */
void kiln_store_interrupt(struct kiln_store *store);
void kiln_store_clear_interrupt(struct kiln_store *store);

/* Where other threads and signal handlers (a kilnd watcher, SIGINT) find the
 * store a thread is running, to interrupt it without racing its end: the
 * running thread sets the slot before the run and clears it after, and
 * clearing waits for an interrupt in progress on another thread, so the
 * store may be freed once clear returns. Zero-initialised (static storage);
 * members are private. */
struct kiln_interrupt_slot {
    struct kiln_store *store_;
    int users_;
};
/* Publishes store in slot (the calling thread is about to run it). */
void kiln_interrupt_slot_set(struct kiln_interrupt_slot *slot, struct kiln_store *store);
/* kiln_store_interrupt() on the published store, if any. Async-signal-safe
 * and thread-safe; never blocks. */
void kiln_interrupt_slot_fire(struct kiln_interrupt_slot *slot);
/* Withdraws the store; when this returns no fire touches it any more. Call
 * from the thread that set it, never from a signal handler. */
void kiln_interrupt_slot_clear(struct kiln_interrupt_slot *slot);
/* A fire done by hand, for a signal path that touches more than the store:
 * enter counts the caller as a fire in progress and returns the published
 * store (or NULL); until the matching leave, kiln_interrupt_slot_clear waits.
 * So what the running thread makes valid before kiln_interrupt_slot_set and
 * ends only after kiln_interrupt_slot_clear returns (its vkernel, say) may be
 * used between enter and leave whenever enter returned a store. Async-signal-safe
 * and thread-safe; never blocks. One leave per enter, on the same thread,
 * with nothing in between that waits for the running thread. */
struct kiln_store *kiln_interrupt_slot_enter(struct kiln_interrupt_slot *slot);
void kiln_interrupt_slot_leave(struct kiln_interrupt_slot *slot);

/* ---- host functions ---------------------------------------------------- */

/* Context passed to a host function while it runs. */
struct kiln_caller;

/* A host function. args holds the parameters as raw slots (i32 in the low 32
 * bits, floats as bits, refs as pointers, v128 in two slots); the function
 * writes its results the same way into results. Returns 0, or a trap kind
 * (after kiln_caller_trap() to set the message, optional). */
typedef int (*kiln_host_fn)(struct kiln_caller *caller, const uint64_t *args, uint64_t *results,
                            void *env);

/* The memory of the calling instance (its memory 0), or NULL if none. */
struct kiln_memory *kiln_caller_memory(struct kiln_caller *caller);
/* Sets the trap message (and exit code for KILN_TRAP_EXIT); returns kind. */
int kiln_caller_trap(struct kiln_caller *caller, int kind, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The store the caller runs in. */
struct kiln_store *kiln_caller_store(struct kiln_caller *caller);

/* Creates a host function in store. The type is copied. env is passed to fn
 * unchanged; the store does not own it. Returns NULL on ENOMEM. */
struct kiln_func *kiln_func_new_host(struct kiln_store *store, const struct kiln_functype *type,
                                     kiln_host_fn fn, void *env);

/* ---- host-created tables, memories, globals (e.g. the spec's "spectest") - */

struct kiln_table *kiln_table_new(struct kiln_store *store, uint8_t reftype,
                                  const struct kiln_limits *limits);
struct kiln_memory *kiln_memory_new(struct kiln_store *store, const struct kiln_limits *limits,
                                    struct kiln_error *err);
struct kiln_global *kiln_global_new(struct kiln_store *store, const struct kiln_val *init,
                                    bool mutable_);

/* ---- instances --------------------------------------------------------- */

/* Instantiates mod in store. imports[i] must match the module's i-th import
 * (kiln_module_import). Runs the start function. On failure returns negative:
 * KILN_E_LINK (unlinkable: missing/mismatched import) or KILN_E_TRAP
 * (uninstantiable: a segment out of bounds or the start function trapped;
 * *trap says which if non-NULL). *out is set only on success and is owned by
 * the store. */
int kiln_instance_new(struct kiln_store *store, const struct kiln_module *mod,
                      const struct kiln_extern *imports, size_t nimports,
                      struct kiln_instance **out, struct kiln_trap *trap, struct kiln_error *err);

/* Looks up an export by name. Returns false if absent. */
bool kiln_instance_export(const struct kiln_instance *inst, const char *name,
                          struct kiln_extern *out);
const struct kiln_module *kiln_instance_module(const struct kiln_instance *inst);
/* The instance's memory 0, or NULL. */
struct kiln_memory *kiln_instance_memory(const struct kiln_instance *inst);

/* ---- calls ------------------------------------------------------------- */

/* The function's signature (owned by the store or module). */
void kiln_func_type(const struct kiln_func *func, struct kiln_functype *out);

/* Calls func with args (types must match the signature; checked) and writes
 * the results. Returns 0 on success; on a trap returns -KILN_E_TRAP and fills
 * *trap; on a bad call (wrong arity/types) returns -KILN_E_ARG. Re-entrant
 * from inside host functions of the same store. */
int kiln_func_call(struct kiln_store *store, struct kiln_func *func, const struct kiln_val *args,
                   size_t nargs, struct kiln_val *results, size_t nresults,
                   struct kiln_trap *trap);

/* ---- memories, tables, globals ----------------------------------------- */

/* Base of linear memory and its current size in bytes. The base never moves
 * (memory is a reserved range grown in place), so the pointer stays valid
 * until the store is freed; the size may grow. */
uint8_t *kiln_memory_data(const struct kiln_memory *mem);
uint64_t kiln_memory_size(const struct kiln_memory *mem);
/* Grows by delta pages; returns the old size in pages or -1 on failure. */
int64_t kiln_memory_grow(struct kiln_memory *mem, uint32_t delta);
/* True when [ptr, ptr+len) lies inside the memory (overflow-safe). */
static inline bool kiln_memory_check(const struct kiln_memory *mem, uint64_t ptr, uint64_t len)
{
    uint64_t size = kiln_memory_size(mem);
    return ptr <= size && len <= size - ptr;
}

uint32_t kiln_table_size(const struct kiln_table *t);
/* Reads element i into *out; false if out of bounds. */
bool kiln_table_get(const struct kiln_table *t, uint32_t i, struct kiln_val *out);

void kiln_global_get(const struct kiln_global *g, struct kiln_val *out);
/* Sets a mutable global; false if immutable or of another type. */
bool kiln_global_set(struct kiln_global *g, const struct kiln_val *v);

/* Describes an extern's type, for linking checks by embedders. */
void kiln_memory_limits(const struct kiln_memory *mem, struct kiln_limits *out);
void kiln_table_type(const struct kiln_table *t, uint8_t *reftype, struct kiln_limits *out);
void kiln_global_type(const struct kiln_global *g, uint8_t *valtype, bool *mutable_);

#endif
