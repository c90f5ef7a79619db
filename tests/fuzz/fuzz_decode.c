/*
 * fuzz_decode.c — libFuzzer target: decode + validate + compile any bytes.
 *
 * Checks beyond "no crash, no sanitizer report": a rejected module comes
 * with a known error code and a non-empty message, and *out stays unset.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kiln/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kiln_module *mod = NULL;
    struct kiln_error err = {0};
    if (kiln_module_new(data, size, NULL, &mod, &err) == 0) {
        if (!mod)
            abort();
        kiln_module_free(mod);
        return 0;
    }
    if (mod)
        abort(); /* out-parameter set on failure */
    if (err.code != KILN_E_MALFORMED && err.code != KILN_E_INVALID &&
        err.code != KILN_E_NOMEM && err.code != KILN_E_UNSUPPORTED)
        abort();
    if (!err.msg[0])
        abort();
    return 0;
}
