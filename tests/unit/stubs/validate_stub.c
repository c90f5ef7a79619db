/*
 * validate_stub.c — stand-in linked into unit tests only while
 * src/wasm/validate.c does not exist: every function body is rejected.
 */
#include "wasm/module.h"

int kiln__func_validate_compile(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err)
{
    (void)mod;
    return kiln_error_set(err, KILN_E_UNSUPPORTED,
                          "code section, function %u: validator not built (stub)", fidx);
}
