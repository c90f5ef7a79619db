/*
 * fuzz_translate.c — libFuzzer target: decode + validate any bytes, then
 * translate a valid module to C (src/wasm/aot/translate.c, without
 * compiling the C) and search each function for pointer-chasing loads
 * (translate_chase.c).
 *
 * Checks beyond "no crash, no sanitizer report": translation succeeds or
 * fails with KILN_E_UNSUPPORTED / KILN_E_NOMEM and a message; a success
 * gives non-empty C; the chasing loads of a function are strictly sorted
 * and lie inside its body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kiln/wasm.h"
#include "wasm/aot/aot_internal.h"
#include "wasm/module.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_chases(const struct kiln_module *mod)
{
    for (uint32_t f = mod->nfunc_imports; f < mod->nfuncs; f++) {
        const struct kiln__func *fn = &mod->funcs[f];
        uint32_t *offs = NULL, n = 0;
        if (kiln__aot_find_chases(mod, f, &offs, &n) < 0) continue; /* out of memory */
        if ((n == 0) != (offs == NULL)) abort();
        for (uint32_t i = 0; i < n; i++) {
            if (offs[i] < fn->code_off || offs[i] >= fn->body_off + fn->body_len) abort();
            if (i && offs[i] <= offs[i - 1]) abort();
        }
        free(offs);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kiln_module *mod = NULL;
    struct kiln_error err = {0};
    struct kiln__sb parts[2] = {{0}};
    if (kiln_module_new(data, size, NULL, &mod, &err) < 0) return 0;
    check_chases(mod);
    if (kiln__aot_translate(mod, "0000000000000000000000000000000000000000000000000000000000000000",
                            2, parts, &err) == 0) {
        if (!parts[0].s || !parts[0].len) abort();
    } else if ((err.code != KILN_E_UNSUPPORTED && err.code != KILN_E_NOMEM) || !err.msg[0]) {
        abort();
    }
    kiln__sb_free(&parts[0]);
    kiln__sb_free(&parts[1]);
    kiln_module_free(mod);
    return 0;
}
