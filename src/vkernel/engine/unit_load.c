/*
 * unit_load.c — kiln_unit_module_load: a verified unit -> a module that runs
 * the unit's signed AOT object, or the interpreter with an audited reason
 * (include/kiln/unit_load.h has the rule).
 *
 * Invariants:
 *   - the digest the AOT object is checked against is the region's signed
 *     subject digest from the verified statement, never one computed here
 *     from the bytes; kiln_aot_load recomputes it from the sealed memfd that
 *     is then mapped, so nothing can change between check and map;
 *   - a digest mismatch (KILN_E_VERIFY) refuses whatever the policy says;
 *   - with "engine.requireAot" no path ends in the interpreter;
 *   - a module that will run with fuel (kiln_unit_module_load_ex) never gets
 *     an object without fuel polls attached: that is a fallback too;
 *   - every outcome writes exactly one "aot" audit event; a refusal by
 *     "engine.requireAot" also writes a "deny" event (call "aot", rule
 *     "$.engine.requireAot"), which the audit level "denials" keeps.
 *
 * Part of kiln_vkernel (it needs the engine, the AOT loader and the vkernel's
 * audit sink); not in kiln_vkernel_core.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kiln/unit_load.h"
#include "vkernel/vk.h"
#include "wasm/module.h"

/* The signed subject digest of the unit's AOT region, or NULL. */
static const char *aot_digest(const struct kiln_unit *u)
{
    size_t i;
    for (i = 0; i < u->statement.nregions && i < KILN_UNIT_MAX_REGIONS; i++)
        if (u->statement.regions[i].kind == KILN_REGION_AOT) return u->statement.sha256[i];
    return NULL;
}

/* One "aot" audit event: status attached | interpreter | refused. */
static void audit_aot(struct kiln_vk *vk, const struct kiln_unit *u, const char *status,
                      const char *digest, const char *reason)
{
    const struct kiln_manifest *m = &u->statement.manifest;
    char jr[1200], jt[160], jc[400], jd[80];
    if (vk == NULL) return;
    kiln__json_str(jt, sizeof jt, m->has_aot && m->aot_target ? m->aot_target : "");
    kiln__json_str(jc, sizeof jc, m->has_aot && m->aot_compiler ? m->aot_compiler : "");
    kiln__json_str(jd, sizeof jd, digest ? digest : "");
    if (reason != NULL)
        kiln__audit(vk, "aot",
                    "\"status\":\"%s\",\"reason\":%s,\"object\":%s%s,\"target\":%s%s,"
                    "\"compiler\":%s%s,\"host_target\":\"%s\"",
                    status, kiln__json_str(jr, sizeof jr, reason), digest ? "" : "null",
                    digest ? jd : "", m->has_aot ? "" : "null", m->has_aot ? jt : "",
                    m->has_aot ? "" : "null", m->has_aot ? jc : "", kiln_aot_target());
    else
        kiln__audit(vk, "aot", "\"status\":\"%s\",\"object\":%s,\"target\":%s,\"compiler\":%s",
                    status, jd, jt, jc);
}

/* Loads a unit's module and AOT payload; see unit_load.h. */
int kiln_unit_module_load(const struct kiln_unit *unit, const struct kiln_vk_policy *pol,
                          struct kiln_vk *vk, struct kiln_module **mod_out,
                          struct kiln_aot_handle **aot_out, struct kiln_error *err)
{
    return kiln_unit_module_load_ex(unit, pol, vk, NULL, mod_out, aot_out, err);
}

/* The same with options; see unit_load.h. */
int kiln_unit_module_load_ex(const struct kiln_unit *unit, const struct kiln_vk_policy *pol,
                             struct kiln_vk *vk, const struct kiln_unit_load_opts *opts,
                             struct kiln_module **mod_out, struct kiln_aot_handle **aot_out,
                             struct kiln_error *err)
{
    const struct kiln_manifest *m;
    struct kiln_module *mod = NULL;
    struct kiln_aot_handle *h = NULL;
    const char *digest;
    bool require;
    char why[900];
    int rc;

    if (unit == NULL || mod_out == NULL)
        return kiln_error_set(err, KILN_E_ARG, "kiln_unit_module_load: no unit or no output");
    m = &unit->statement.manifest;
    require = kiln_vk_policy_require_aot(pol);
    digest = unit->aot != NULL ? aot_digest(unit) : NULL;
    why[0] = 0;

    {
        /* with a payload, the interpreter's compile waits until an instance
         * actually interprets (a fallback below): attached native code
         * needs none of it (kiln_module_config.defer_compile) */
        struct kiln_module_config mcfg;
        kiln_module_config_default(&mcfg);
        mcfg.defer_compile = unit->aot != NULL && unit->aot_len != 0;
        rc = kiln_module_new(unit->wasm, unit->wasm_len, &mcfg, &mod, err);
    }
    if (rc < 0) {
        kiln_error_prefix(err, "module.wasm");
        audit_aot(vk, unit, "refused", digest, err ? err->msg : "module.wasm does not load");
        return rc;
    }

    /* decide whether to try the payload at all */
    if (unit->aot == NULL || unit->aot_len == 0)
        snprintf(why, sizeof why, "the unit has no AOT payload (module.aot)");
    else if (digest == NULL)
        snprintf(why, sizeof why, "the unit's statement has no module.aot subject");
    else if (m->has_aot && m->aot_target && strcmp(m->aot_target, kiln_aot_target()) != 0)
        snprintf(why, sizeof why, "the AOT payload is for %s, this host runs %s", m->aot_target,
                 kiln_aot_target());

    if (why[0] == 0) {
        char note[600];
        struct kiln_error local;
        memset(&local, 0, sizeof local);
        /* require_aot = true: every failure comes back, and we decide here */
        rc = kiln_aot_attach_payload(mod, unit->aot, unit->aot_len, digest, true, &h, note,
                                     sizeof note, &local);
        if (rc < 0) {
            if (local.code != KILN_E_UNSUPPORTED) {
                /* digest mismatch, another module, not an object: always refuse */
                bool named = strncmp(local.msg, "module.aot", 10) == 0;
                rc = kiln_error_set(err, local.code ? local.code : KILN_E_VERIFY, "%s%s",
                                    named ? "" : "module.aot: ", local.msg);
                goto fail;
            }
            snprintf(why, sizeof why, "the AOT payload is not usable here: %s", local.msg);
            h = NULL;
        } else if (h != NULL && opts != NULL && opts->fuel != 0 && !kiln_aot_metered(h)) {
            /* its code has no fuel polls: running it would lose metering */
            snprintf(why, sizeof why,
                     "the AOT payload has no fuel polls (compiled without --metered) and the "
                     "store meters fuel");
            kiln_module_attach_aot(mod, NULL, NULL);
            kiln_aot_free(h);
            h = NULL;
        }
    }

    if (h == NULL) {
        if (require) {
            /* a policy denial: also a "deny" event, kept at audit level "denials" */
            if (vk != NULL) kiln__audit_deny(vk, "aot", NULL, EACCES, "$.engine.requireAot");
            rc = kiln_error_set(err, KILN_E_DENIED,
                                "the policy requires AOT ($.engine.requireAot) but %s; refusing "
                                "to interpret (convert the image with --aot, by this kiln, "
                                "for this host's target)",
                                why);
            goto fail;
        }
        audit_aot(vk, unit, "interpreter", digest, why);
    } else {
        audit_aot(vk, unit, "attached", digest, NULL);
    }

    if (aot_out != NULL) {
        *aot_out = h;
    } else if (h != NULL) { /* the module owns it: kiln_module_free releases it */
        mod->aot_owned = h;
        mod->aot_release = kiln_aot_free;
    }
    *mod_out = mod;
    return 0;
fail:
    audit_aot(vk, unit, "refused", digest, err ? err->msg : "refused");
    kiln_module_free(mod);
    kiln_aot_free(h);
    return rc;
}
