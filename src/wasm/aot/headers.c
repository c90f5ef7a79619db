/*
 * headers.c — the engine headers the generated C includes, embedded into
 * kiln at build time with .incbin (KILN_SOURCE_DIR is the source tree), so
 * `kiln compile` needs no kiln source tree and always compiles against the
 * exact struct layouts of the running engine.
 */
#include <stddef.h>

#include "wasm/aot/aot_internal.h"

#define EMBED(sym, path)                                                                           \
    __asm__(".section .rodata\n.balign 16\n.hidden " #sym "\n.globl " #sym "\n" #sym               \
            ":\n.incbin \"" KILN_SOURCE_DIR "/" path "\"\n.byte 0\n.previous\n");                  \
    extern const char sym[];

EMBED(kiln__aot_h_wasm, "include/kiln/wasm.h")
EMBED(kiln__aot_h_error, "include/kiln/error.h")
EMBED(kiln__aot_h_module, "src/wasm/module.h")
EMBED(kiln__aot_h_runtime, "src/wasm/runtime.h")
EMBED(kiln__aot_h_simd, "src/wasm/simd.h")
EMBED(kiln__aot_h_rt, "src/wasm/aot/aot_rt.h")
EMBED(kiln__aot_h_gen, "src/wasm/aot/aot_gen.h")
EMBED(kiln__aot_h_known, "src/wasm/aot/aot_known.h")
EMBED(kiln__aot_libc_src, "src/wasm/aot/aot_libc.c")
EMBED(kiln__aot_translator_src, "src/wasm/aot/translate.c")
EMBED(kiln__aot_translator_known_src, "src/wasm/aot/translate_known.c")
EMBED(kiln__aot_translator_chase_src, "src/wasm/aot/translate_chase.c")
EMBED(kiln__aot_translator_bits_src, "src/wasm/aot/translate_bits.c")

const struct kiln__aot_header kiln__aot_headers[] = {
    {"kiln/wasm.h", kiln__aot_h_wasm},       {"kiln/error.h", kiln__aot_h_error},
    {"wasm/module.h", kiln__aot_h_module},   {"wasm/runtime.h", kiln__aot_h_runtime},
    {"wasm/simd.h", kiln__aot_h_simd},       {"wasm/aot/aot_rt.h", kiln__aot_h_rt},
    {"wasm/aot/aot_gen.h", kiln__aot_h_gen},     {"wasm/aot/aot_known.h", kiln__aot_h_known},
    {"wasm/aot/aot_libc.c", kiln__aot_libc_src}, /* compiled into every object (aot.c) */
};
const size_t kiln__aot_nheaders = sizeof kiln__aot_headers / sizeof kiln__aot_headers[0];

/* The translator's own sources: part of the cache key of compiled objects,
 * so a changed translator never reuses a stale object. */
const char *const kiln__aot_translator_text = kiln__aot_translator_src;
const char *const kiln__aot_translator_known_text = kiln__aot_translator_known_src;
const char *const kiln__aot_translator_chase_text = kiln__aot_translator_chase_src;
const char *const kiln__aot_translator_bits_text = kiln__aot_translator_bits_src;
