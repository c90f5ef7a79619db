/*
 * opcodes.h — enums generated from ops.def, for code that wants names for
 * opcodes, immediate kinds and signature classes.
 *
 *   enum kiln__imm   KILN__IMM_NONE, KILN__IMM_BLOCKTYPE, ...      (IMM list)
 *   enum kiln__sig   KILN__SIG_SPECIAL, KILN__SIG_II_I, ...        (SIG list)
 *   enum kiln__op    KILN__OP_UNREACHABLE, ..., KILN__OP__COUNT: a dense
 *                    index over every opcode in ops.def order (use it to
 *                    size tables; it is NOT the binary encoding)
 *   enum kiln__opc   KILN__OPC_I32_ADD = 0x6a, KILN__OPC_I8X16_ADD = 0x6e,
 *                    ...: the binary code (the byte, or the u32 after the
 *                    prefix), for `case` labels after reading the prefix.
 *
 * Invariant: everything here is derived from ops.def; nothing is repeated.
 */
#ifndef KILN_WASM_OPCODES_H
#define KILN_WASM_OPCODES_H

#include <stdint.h>

#define KILN__PREFIX_FC 0xfc /* misc: saturating truncation, bulk memory, tables */
#define KILN__PREFIX_FD 0xfd /* fixed-width SIMD */

enum kiln__imm {
#define IMM(kind, text) KILN__##kind,
#include "wasm/ops.def"
    KILN__IMM__COUNT
};

enum kiln__sig {
#define SIG(sig, np, p0, p1, p2, nr, r0) KILN__##sig,
#include "wasm/ops.def"
    KILN__SIG__COUNT
};

enum kiln__op {
#define OP(id, prefix, code, name, imm, sig, arg) KILN__OP_##id,
#include "wasm/ops.def"
    KILN__OP__COUNT
};

enum kiln__opc {
#define OP(id, prefix, code, name, imm, sig, arg) KILN__OPC_##id = (code),
#include "wasm/ops.def"
    KILN__OPC__UNUSED = -1
};

#endif
