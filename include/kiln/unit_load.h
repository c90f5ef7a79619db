/*
 * kiln/unit_load.h — turning a verified unit into a runnable module: the one
 * place every runner (kiln run, kiln-stub, kiln exec of units) decides
 * between the unit's signed AOT object and the interpreter.
 *
 * Rule (issue 6, docs/aot.md "AOT in units"):
 *   - the module is always created from the unit's module.wasm region;
 *   - a module.aot region is loaded with kiln_aot_attach_payload: copied into
 *     a sealed memfd, its SHA-256 read back from the memfd and compared with
 *     the region's SIGNED subject digest, then mapped read+exec (never
 *     writable+exec) and attached;
 *   - no payload, a payload for another CPU (manifest aot.target) or another
 *     engine AOT ABI / struct layout: fall back to the interpreter and write
 *     an "aot" audit event with the reason — or refuse when the policy says
 *     "engine": {"requireAot": true} (docs/policy.md);
 *   - a digest mismatch or an object made from another module is always a
 *     refusal, whatever the policy;
 *   - a store that meters fuel (kiln_unit_module_load_ex) needs an object
 *     compiled with --metered; an unmetered one is another fallback.
 * Every outcome writes one "aot" audit event (status attached | interpreter
 * | refused, docs/audit.md) when vk has an audit sink.
 *
 * Call it BEFORE the process forbids PROT_EXEC (seccomp / kiln-stub's
 * hardening): loading the object maps its text read+exec.
 */
#ifndef KILN_UNIT_LOAD_H
#define KILN_UNIT_LOAD_H

#include "kiln/aot.h"
#include "kiln/error.h"
#include "kiln/unit.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"

/* Creates the module of a verified unit (kiln_unit_verify*) and attaches its
 * AOT payload per the rule above.
 *   pol   the policy in force (may be NULL: AOT preferred, not required);
 *   vk    where the "aot" audit event goes (may be NULL: no event).
 * On success returns 0 and sets *mod_out (free with kiln_module_free) and,
 * if aot_out is non-NULL, *aot_out to the loaded AOT handle or NULL when
 * interpreting; the caller frees it with kiln_aot_free() AFTER every store
 * using the module and the module itself are freed. With aot_out == NULL the
 * module owns the handle and kiln_module_free() releases it.
 * Nothing refers to the unit's memory afterwards: the unit may be freed.
 * Errors (negative, *err filled, nothing allocated, outputs untouched):
 *   KILN_E_VERIFY   the AOT object's digest (from the sealed memfd) differs
 *                   from the signed one, or it was made from another module;
 *   KILN_E_DENIED   the policy requires AOT and the unit would fall back;
 *                   the message names "$.engine.requireAot" and the reason;
 *   KILN_E_UNSUPPORTED / KILN_E_MALFORMED / KILN_E_IO / KILN_E_NOMEM from
 *                   the module decoder or the AOT loader (message prefixed
 *                   "module.wasm: " or "module.aot: ");
 *   KILN_E_ARG      unit or mod_out is NULL. */
int kiln_unit_module_load(const struct kiln_unit *unit, const struct kiln_vk_policy *pol,
                          struct kiln_vk *vk, struct kiln_module **mod_out,
                          struct kiln_aot_handle **aot_out, struct kiln_error *err);

/* Options of kiln_unit_module_load_ex. Zero-initialise. */
struct kiln_unit_load_opts {
    /* the kiln_store_config.fuel the module will run with. Nonzero needs an
     * AOT object compiled with fuel polls (kiln compile --metered): an
     * unmetered one falls back to the interpreter like the other fallbacks
     * (audit "aot" "interpreter" with the reason; refused under
     * "engine.requireAot"), so metering is never lost. */
    uint64_t fuel;
};

/* kiln_unit_module_load with options (NULL = all zero, the same as
 * kiln_unit_module_load). */
int kiln_unit_module_load_ex(const struct kiln_unit *unit, const struct kiln_vk_policy *pol,
                             struct kiln_vk *vk, const struct kiln_unit_load_opts *opts,
                             struct kiln_module **mod_out, struct kiln_aot_handle **aot_out,
                             struct kiln_error *err);

#endif
