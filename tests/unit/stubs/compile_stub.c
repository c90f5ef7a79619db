/*
 * compile_stub.c — stand-in linked into unit tests only while
 * src/wasm/compile.c does not exist.
 */
#include "wasm/module.h"

int kiln__func_compile(struct kiln_module *mod, uint32_t fidx, struct kiln_error *err)
{
    (void)mod;
    return kiln_error_set(err, KILN_E_UNSUPPORTED,
                          "code section, function %u: compiler not built (stub)", fidx);
}

void kiln__code_free(struct kiln__code *code)
{
    (void)code;
}
