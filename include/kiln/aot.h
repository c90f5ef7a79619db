/*
 * kiln/aot.h — ahead-of-time compilation of wasm modules to native code,
 * and loading of verified native objects. No code is generated at run time:
 * kiln_aot_compile runs at build time (the system C compiler turns kiln's C
 * translation into a shared object); at run time kiln_aot_load only maps an
 * object whose SHA-256 matches the expected (signed) digest, read back from
 * a sealed memfd, mapped read+exec, never writable+exec.
 *
 * Typical use (run time):
 *   kiln_module_new(wasm) → kiln_aot_load(mod, obj, len, signed_digest, &h)
 *   → kiln_module_attach_aot(mod, h) → kiln_instance_new(...) as usual;
 *   then harden the process (seccomp: no further PROT_EXEC). Free the
 *   handle after every store using the module is freed.
 * kiln_aot_attach_payload() wraps this with the fallback rule: a missing
 * payload or one for another engine ABI / CPU falls back to the interpreter
 * with a note, unless AOT is required; a digest mismatch always refuses.
 */
#ifndef KILN_AOT_H
#define KILN_AOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/error.h"
#include "kiln/wasm.h"

struct kiln_aot_opts {
    const char *cc;          /* C compiler command (no arguments); NULL = "cc" */
    const char *opt;         /* optimisation flag; NULL = "-O2" */
    const char *keep_c_dir;  /* if set, the generated C and headers are kept here */
    unsigned parts;          /* C files to split into (parallel cc); 0 = automatic */
    unsigned jobs;           /* parallel compiler processes; 0 = 2 */
    /* progress messages ("translating", "cc part 2/4", ...); may be NULL */
    void (*progress)(void *arg, const char *msg);
    void *progress_arg;
    /* Compile with interrupt and fuel polls at every function entry and
     * loop back-edge (exact fuel parity with the interpreter; what a store
     * with kiln_store_config.fuel needs). false (the default): no polls,
     * interruption by signal; a store with fuel runs such an object's
     * module interpreted. Recorded in the object (kiln_aot_metered). */
    bool metered;
};

/* Translates the validated module to C and compiles it into a shared object
 * at out_path (written to a temporary file in the same directory, then
 * renamed). opts may be NULL. Returns 0, or negative with *err:
 * KILN_E_UNSUPPORTED (a construct the translator lacks), KILN_E_IO (files,
 * the compiler failed: the message quotes its first error line),
 * KILN_E_NOMEM. */
int kiln_aot_compile(const struct kiln_module *mod, const char *out_path,
                     const struct kiln_aot_opts *opts, struct kiln_error *err);

/* A loaded AOT object: the mapping stays until kiln_aot_free(). */
struct kiln_aot_handle;

/* Loads an AOT object for mod: copies obj[0..len) into a memfd, seals it
 * (write, grow, shrink, seal), hashes the sealed memfd's contents and
 * compares with expected_sha256 (64 lowercase hex digits, required), then
 * maps it with dlopen of /proc/self/fd/N and checks its descriptor: magic,
 * ABI, struct layout, target, the SHA-256 of mod's bytes and the function
 * count. Errors: KILN_E_VERIFY (digest mismatch, or an object made from
 * another module: refuse), KILN_E_UNSUPPORTED (another engine ABI/layout
 * or CPU: the caller may fall back to the interpreter), KILN_E_IO,
 * KILN_E_ARG, KILN_E_MALFORMED (not a loadable object). *out is set only on
 * success. Call before the process forbids PROT_EXEC. */
int kiln_aot_load(const struct kiln_module *mod, const uint8_t *obj, size_t len,
                  const char *expected_sha256, struct kiln_aot_handle **out,
                  struct kiln_error *err);

/* Makes instances of mod created from now on run h's native code. h must
 * have been loaded for mod. Returns 0 or -KILN_E_ARG. */
int kiln_module_attach_aot(struct kiln_module *mod, const struct kiln_aot_handle *h,
                           struct kiln_error *err);

/* Unmaps the object. The module must no longer be used by any store (or
 * must be detached: kiln_module_attach_aot(mod, NULL, ...)). NULL is a
 * no-op. */
void kiln_aot_free(struct kiln_aot_handle *h);

/* Policy wrapper: obj may be NULL (no payload). On success *out is the
 * handle (attached to mod) or NULL when falling back to the interpreter,
 * in which case note (if non-NULL, note_len bytes) says why, for the audit
 * log. With require_aot, every fallback becomes an error. A digest
 * mismatch is always an error (KILN_E_VERIFY). */
int kiln_aot_attach_payload(struct kiln_module *mod, const uint8_t *obj, size_t len,
                            const char *expected_sha256, bool require_aot,
                            struct kiln_aot_handle **out, char *note, size_t note_len,
                            struct kiln_error *err);

/* Development helper (spec runner, tests, benchmarks): looks for
 * cache_dir/<sha256 of the module>.so, compiles it there if absent (temp
 * file + rename, so concurrent runs are safe), loads it with its own file
 * digest as the expected digest (no signature: the cache is trusted like
 * the build tree), attaches it, and makes kiln_module_free() release it.
 * Returns 0 or negative with *err. */
int kiln_aot_compile_cached(struct kiln_module *mod, const char *cache_dir,
                            const struct kiln_aot_opts *opts, struct kiln_error *err);

/* Whether h was compiled with kiln_aot_opts.metered (interrupt and fuel
 * polls). A store configured with fuel runs only metered objects: instances
 * of a module whose attached object is unmetered are interpreted in such a
 * store. h must not be NULL. */
bool kiln_aot_metered(const struct kiln_aot_handle *h);

/* The target triple this build runs AOT objects for ("x86_64-linux-gnu"). */
const char *kiln_aot_target(void);
/* The engine's AOT ABI version (recorded in objects and checked on load). */
uint32_t kiln_aot_abi(void);

#endif
