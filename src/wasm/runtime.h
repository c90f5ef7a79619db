/*
 * runtime.h — run-time objects of the engine: stores, instances, functions,
 * tables, memories, globals, and the execution context of a call.
 *
 * Who owns what: the store owns every object created in it (a list of
 * allocations freed by kiln_store_free). Objects point at each other freely
 * (a table may hold functions of another instance of the same store) because
 * they all die together. Modules are not owned by stores; they must outlive
 * every store that instantiated them.
 *
 * Values live in 64-bit slots: i32 zero-extended in the low half, f32/f64 as
 * bits, references as pointers (funcref = struct kiln_func *, NULL = null;
 * externref = host pointer), v128 in two consecutive slots (low half first).
 */
#ifndef KILN_WASM_RUNTIME_H
#define KILN_WASM_RUNTIME_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kiln/wasm.h"
#include "wasm/module.h"

struct kiln__code; /* compile.h: the compiled body of a defined function */
struct kiln_aot_func; /* aot/aot_rt.h: native entry points of a function */

/* A function: defined in an instance (inst != NULL) or a host function. */
struct kiln_func {
    uint32_t type_id; /* id of the signature: equal ids mean equal
                         signatures (call_indirect checks this). Small
                         signatures have a structural id, the same in every
                         store (kiln__functype_packed_id); others a
                         store-wide interned one (below 2^31) */
    const struct kiln__functype *type;
    struct kiln_instance *inst;     /* NULL for host functions */
    const struct kiln__code *code;  /* compiled body, for defined functions */
    uint32_t func_idx;              /* index in inst's module */
    kiln_host_fn host;              /* for host functions */
    void *env;
    const struct kiln_aot_func *aot; /* native code of a defined function
                                        (src/wasm/aot/aot_rt.h), or NULL:
                                        kiln__call() runs it instead of the
                                        interpreter */
    const void *aot_native;          /* aot->native (or NULL), here so that
                                        AOT code calling through a table or
                                        an import reads one pointer */
    uintptr_t aot_key;               /* with aot_native: (uintptr_t)inst +
                                        the index of its type in inst's
                                        module; else 0. An instance's
                                        allocation has at least as many bytes
                                        as its module has types (instance.c),
                                        so equal keys mean the same instance
                                        and module type: AOT call_indirect
                                        tests the common case, a function of
                                        the calling instance with the
                                        expected type, with this one compare
                                        (src/wasm/aot/translate.c) */
};

struct kiln_memory {
    uint8_t *base;      /* start of the reserved range; never moves */
    uint64_t size;      /* current size in bytes (pages * 64 KiB) */
    uint32_t pages;     /* current size in pages */
    uint32_t max_pages; /* effective maximum (declared max, store cap) */
    struct kiln_limits limits; /* declared type (for import matching) */
    size_t reserved;    /* bytes reserved (size of the mapping incl. guard) */
};

struct kiln_table {
    uint8_t reftype;
    uint32_t size;
    uint32_t cap;   /* allocated elements */
    uint32_t max;   /* effective maximum */
    struct kiln_limits limits; /* declared type */
    void **elems;   /* size entries; funcref = struct kiln_func *. malloc'd
                       with cap entries (table.grow may realloc it up to
                       max); freed by kiln_store_free() */
};

struct kiln_global {
    uint8_t type;
    bool mutable_;
    uint64_t val[2]; /* slot form; v128 uses both */
};

struct kiln_instance {
    struct kiln_store *store;
    const struct kiln_module *mod;
    struct kiln_func **funcs;     /* mod->nfuncs, imports first */
    struct kiln_table **tables;   /* mod->ntables */
    struct kiln_memory **mems;    /* mod->nmems */
    struct kiln_global **globals; /* mod->nglobals */
    uint32_t *type_ids;           /* store-wide id of each module type */
    uint8_t *elem_dropped;        /* mod->nelems flags */
    uint8_t *data_dropped;        /* mod->ndatas flags */
    /* fast access for the interpreter: */
    uint8_t *mem0_base;           /* mems[0]->base or NULL */
    struct kiln_memory *mem0;
    struct kiln_table *table0;    /* tables[0] or NULL (AOT call_indirect) */
    struct kiln_global *global0;  /* globals[0] or NULL (AOT code: clang's
                                     __stack_pointer is global 0) */
    uintptr_t aot_stack_limit;    /* the running thread's native stack limit
                                     for this instance's AOT code (ex's,
                                     copied in by rt.c and by AOT code
                                     calling another instance directly) */
    struct kiln_global global0_store; /* global 0 itself when the module
                                     defines it (global0 points here), so AOT
                                     code reaches it at a fixed offset from
                                     inst: no pointer to load or keep */
};

/* The execution context of the outermost kiln_func_call on a thread; nested
 * calls from host functions reuse it. */
struct kiln__exec {
    struct kiln_store *store;
    uint64_t *stack;       /* value stack (slots) */
    uint64_t *stack_end;
    uint64_t *sp;          /* first free slot */
    uint32_t depth;        /* current wasm call depth */
    uint32_t max_depth;
    uint64_t fuel;         /* remaining steps; UINT64_MAX = unlimited */
    sigjmp_buf trap_jmp;   /* target of traps raised by signal handlers */
    volatile int trap_kind;
    struct kiln_trap *trap; /* where to report */
    struct kiln__exec *prev; /* the enclosing exec on this thread, if any */
    struct kiln_instance *inst; /* instance of the innermost running wasm
                                   function: kiln__call() sets it around each
                                   defined function it runs; host functions
                                   called through kiln__call() see it as their
                                   caller (kiln_caller_memory). Calls that
                                   switch instances should go through
                                   kiln__call() (or update this field). */
    uintptr_t aot_stack_limit; /* AOT code traps "call stack exhausted" when
                                  the native stack pointer goes below this
                                  (0 = not yet computed; set on AOT entry) */
};

struct kiln_store {
    struct kiln_store_config cfg;
    atomic_int interrupt;  /* set by kiln_store_interrupt() */
    struct kiln__alloc *allocs; /* everything to free with the store */
    /* interned function types: index = type_id */
    uint32_t ntypes, cap_types;
    struct kiln__functype *types;
    struct kiln__exec *exec; /* the active outermost call, or NULL */
    uint64_t *stack_cache;   /* value stack kept between outermost calls
                                (instance.c; cfg.value_stack_bytes); owned */
    atomic_int aot_tid;      /* kernel thread id of the thread running this
                                store's AOT code, 0 = none: set by the
                                outermost kiln__aot_enter, cleared while AOT
                                code calls out (host, interpreter), restored
                                by call_slots after a trap. Read by
                                kiln_store_interrupt() to signal the thread
                                (docs/aot.md "Interruption"). */
};

/* The caller context handed to host functions. */
struct kiln_caller {
    struct kiln_store *store;
    struct kiln_instance *inst; /* calling instance, or NULL (API call) */
    struct kiln_trap *trap;
};

/* ---- entry points between the engine's files ----------------------------- */

/* store.c: interns a function type, returning its id: the structural id
 * of kiln__functype_packed_id when it has one, else a store-wide index
 * (< 2^31); UINT32_MAX on ENOMEM. */
uint32_t kiln__store_intern_type(struct kiln_store *store, const struct kiln__functype *ft);
/* store.c: the structural id of a signature with at most 7 parameters, 3
 * results and 8 value types in all, each a number, vector or reference
 * type: bit 31 set, the counts and a 3-bit code per type (injective, so
 * equal ids mean equal signatures, in any store; AOT code compares
 * against it as a constant). 0 when the signature has none. */
uint32_t kiln__functype_packed_id(const struct kiln__functype *ft);
/* store.c: allocations owned by the store (zeroed); NULL on ENOMEM. */
void *kiln__store_alloc(struct kiln_store *store, size_t size);
/* store.c: a struct kiln_val to slot form (1 slot, 2 for v128) and back. */
void kiln__val_to_slots(const struct kiln_val *v, uint64_t *slots);
void kiln__slots_to_val(uint8_t type, const uint64_t *slots, struct kiln_val *out);

/* memory.c: reserves the range for a memory with `pages` initial pages (RW)
 * and the rest PROT_NONE, including the guard region that makes every
 * base + u32 address + u32 offset (+16 bytes) either valid or faulting.
 * Registers the range with the fault handler. Returns 0 or -errno. */
int kiln__memory_init(struct kiln_memory *mem, uint32_t pages, uint32_t max_pages);
/* memory.c: grows in place; returns old pages or -1. */
int64_t kiln__memory_grow(struct kiln_memory *mem, uint32_t delta);
/* memory.c: unmaps and unregisters. */
void kiln__memory_release(struct kiln_memory *mem);
/* memory.c: installs the SIGSEGV/SIGBUS handler (once per process) and an
 * alternate signal stack for the calling thread. Faults inside a registered
 * memory while a call is active on this thread siglongjmp to
 * exec->trap_jmp with KILN_TRAP_MEMORY_OOB; any other fault is passed on to
 * the previous handler. Returns 0 or -errno. */
int kiln__trap_handler_install(void);
/* memory.c: the exec active on this thread (set around interpreter runs). */
extern _Thread_local struct kiln__exec *kiln__current_exec;
/* memory.c: registers [start, start+len) as text of an unmetered AOT object
 * (aot/aot.c, on load): the interrupt signal stops the store's code there
 * (kiln__trap_handler_install also installs that signal's handler).
 * Returns 0 or -errno (-ENOMEM: registry full). Lock-free, any thread. */
int kiln__aot_text_add(uintptr_t start, size_t len);
/* memory.c: unregisters the range added with this start (on unload). */
void kiln__aot_text_remove(uintptr_t start);
/* memory.c: sends the interrupt signal to thread tid of this process (also
 * from a signal handler on that very thread: then it is delivered when the
 * handler returns). Async-signal-safe. */
void kiln__aot_interrupt_send(int tid);
/* memory.c: after guest code finished on this thread (call_slots): unblocks
 * the interrupt signal if kiln deferred it and no signal return did. */
void kiln__aot_interrupt_settle(void);
/* memory.c: the calling thread's kernel thread id (cached per thread). */
int kiln__thread_id(void);

/* interp.c: runs defined function f with args in args[] (slot form);
 * results are written to res[] (slot form). Returns 0 or a trap kind (and
 * fills ex->trap). Requires ex set up by kiln_func_call. */
int kiln__interp_call(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args,
                      uint64_t *res);

/* instance.c: calls any function (host or defined) from the interpreter or
 * the API with slot-form args/results. Returns 0 or a trap kind. */
int kiln__call(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args, uint64_t *res);

/* aot/rt.c: runs the native code of f (f->aot != NULL) with slot-form
 * args/results; traps leave through ex->trap_jmp. Returns 0. */
int kiln__aot_enter(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args,
                    uint64_t *res);
/* aot/rt.c: the memory segment of gs-relative AOT code (x86-64; rt.c,
 * "Memory segment"): whether this process can set the gs base, and the base
 * kiln last set on this thread, to restore after a trap skipped
 * kiln__aot_enter's own restore (call_slots). No-ops on other targets. */
bool kiln__aot_seg_usable(void);
uintptr_t kiln__aot_seg_save(void);
void kiln__aot_seg_restore(uintptr_t saved);
/* aot/rt.c: the barrier between publishing store->aot_tid and the flag
 * check that follows in AOT text, paired with kiln_store_interrupt (rt.c
 * "Interruption"; docs/aot.md). kiln__aot_barrier_init decides once per
 * process, before any store exists (kiln_store_new calls it), whether the
 * AOT side needs only a compiler barrier because requesters issue
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (registered there), or a full
 * fence (no usable membarrier, or KILN_AOT_FENCE=full); idempotent,
 * thread-safe. kiln__aot_barrier_asymmetric tells which (for tests).
 * kiln__aot_interrupt_barrier is the requester's side, between its store of
 * the flag and its load of aot_tid: 0, or -errno when membarrier failed (the
 * process then fences from now on). Async-signal-safe.
 * kiln__aot_tid_publish stores tid into s->aot_tid followed by the AOT
 * side's barrier. */
void kiln__aot_barrier_init(void);
bool kiln__aot_barrier_asymmetric(void);
int kiln__aot_interrupt_barrier(void);
void kiln__aot_tid_publish(struct kiln_store *s, int tid);
/* aot/rt.c: the host-function pointer of AOT functions (kiln__call() never
 * uses it; a direct call reports a host trap). */
int kiln__aot_host_shim(struct kiln_caller *caller, const uint64_t *args, uint64_t *res,
                        void *env);
/* aot/rt.c: the callbacks handed to every loaded AOT object. */
extern const struct kiln_aot_rt kiln__aot_rt;

#endif
