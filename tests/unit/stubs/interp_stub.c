/*
 * interp_stub.c — stand-in linked into unit tests only while
 * src/wasm/interp.c does not exist: calls of defined functions trap.
 */
#include "wasm/runtime.h"

int kiln__interp_call(struct kiln__exec *ex, struct kiln_func *f, const uint64_t *args,
                      uint64_t *res)
{
    (void)ex;
    (void)f;
    (void)args;
    (void)res;
    return KILN_TRAP_UNREACHABLE;
}

const char *kiln_trap_message(int kind)
{
    (void)kind;
    return "trap (interpreter not built)";
}
