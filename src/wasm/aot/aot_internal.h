/*
 * aot_internal.h — between the files of kiln_aot (translator, compiler
 * driver, loader). Not a public interface.
 */
#ifndef KILN_WASM_AOT_INTERNAL_H
#define KILN_WASM_AOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/error.h"
#include "kiln/wasm.h"

/* A growable NUL-terminated string; oom is sticky. Zero-initialise. */
struct kiln__sb {
    char *s;
    size_t len, cap;
    bool oom;
};
void kiln__sb_put(struct kiln__sb *b, const char *s, size_t n);
void kiln__sb_printf(struct kiln__sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kiln__sb_free(struct kiln__sb *b);

/* translate.c: writes the C translation of the validated module into
 * parts[0..nparts) (zero-initialised buffers the caller frees). digest_hex
 * (64 hex digits) is recorded in the descriptor (and the compiler's
 * KILN_AOT_TARGET). Returns 0 or negative with *err (KILN_E_NOMEM,
 * KILN_E_UNSUPPORTED). */
int kiln__aot_translate(const struct kiln_module *mod, const char *digest_hex, unsigned nparts,
                        struct kiln__sb *parts, struct kiln_error *err);
/* The same with KILN_AOT_F_* flags (aot_rt.h): KILN_AOT_F_METERED emits
 * interrupt and fuel polls (kiln_aot_opts.metered); kiln__aot_translate
 * is flags 0 (no polls). The flags are recorded in the descriptor. */
int kiln__aot_translate_flags(const struct kiln_module *mod, const char *digest_hex,
                              uint32_t flags, unsigned nparts, struct kiln__sb *parts,
                              struct kiln_error *err);

/* translate.c, for translate_known.c: the immediate kind (KILN__IMM_*) of
 * the opcode whose first byte is b (code: the sub-opcode after 0xfc/0xfd,
 * else b), or -1 if unknown; and skipping the immediates of a kind. */
struct kiln__reader;
int kiln__aot_op_imm(uint8_t b, uint32_t code);
void kiln__aot_skip_imm(struct kiln__reader *r, uint8_t imm);

/* translate.c, for translate_chase.c: reads the opcode at r (not its
 * immediates); returns its KILN__OP_* id, or -1 if unknown, and fills *s:
 * the immediate kind, and unless special (typed by the walker itself:
 * control, calls, locals, globals, tables, references, select) its
 * operand and result counts, result type, and whether it loads memory. */
struct kiln__aot_opsig {
    uint8_t imm, np, nr, rt;
    bool special, load;
};
int kiln__aot_read_op(struct kiln__reader *r, struct kiln__aot_opsig *s);
/* translate.c, for the walks of translate_chase.c and translate_bits.c:
 * skips the dead code after an unconditional branch up to its frame's
 * else or end, which is left unread (false if the body cannot be read);
 * and reads a block type's immediate as operand and result counts. */
bool kiln__aot_skip_dead(struct kiln__reader *r);
/* translate.c: makes the array at *(T **)p (capacity *cap elements of
 * elem bytes) hold at least need elements, doubling; false when out of
 * memory (the array is unchanged). */
bool kiln__aot_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
void kiln__aot_blocktype(const struct kiln_module *mod, struct kiln__reader *r, uint32_t *np,
                         uint32_t *nr);

/* translate_chase.c: the loads of defined function f that chase pointers
 * around a loop (a load whose result becomes, inside a loop, part of its
 * own next address): their module offsets, sorted, in *out (malloc'd,
 * NULL when none; the caller frees) and their number in *nout. Returns 0,
 * or -1 when out of memory. */
int kiln__aot_find_chases(const struct kiln_module *mod, uint32_t f, uint32_t **out,
                          uint32_t *nout);

/* translate_bits.c: the integer constants of defined function f whose
 * bits that no consumer uses are changed (cleared, or set in the mask of
 * an `and`), so that the C compiler can drop masks the wasm needed only
 * for those bits: their module offsets (of the i32.const/i64.const
 * opcode) and new values, sorted by offset, in *out (malloc'd, NULL when
 * none; the caller frees) and their number in *nout. Returns 0, or -1
 * when out of memory. */
struct kiln__aot_const {
    uint32_t off;
    uint64_t val;
};
int kiln__aot_narrow_consts(const struct kiln_module *mod, uint32_t f,
                            struct kiln__aot_const **out, uint32_t *nout);

/* translate_known.c: well-known libc functions with native fast paths.
 * kiln__aot_known_kind returns the kind of defined function f (0,
 * KILN__AOT_KF_NONE, if it is not one); kiln__aot_emit_known writes the
 * fast path wrapper <name><f> around the translated body fw<f>. */
#define KILN__AOT_KF_NONE 0
uint8_t kiln__aot_known_kind(const struct kiln_module *mod, uint32_t f);
void kiln__aot_emit_known(struct kiln__sb *b, uint8_t kind, uint32_t f, const char *name);

/* headers.c: the header files the generated C needs, embedded at build
 * time: name (path relative to the include directory) and text. */
struct kiln__aot_header {
    const char *name;
    const char *text;
};
extern const struct kiln__aot_header kiln__aot_headers[];
extern const size_t kiln__aot_nheaders;
extern const char *const kiln__aot_translator_text;       /* translate.c */
extern const char *const kiln__aot_translator_known_text; /* translate_known.c */
extern const char *const kiln__aot_translator_chase_text; /* translate_chase.c */
extern const char *const kiln__aot_translator_bits_text;  /* translate_bits.c */

#endif
