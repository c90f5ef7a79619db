/*
 * spec.h — internals of kiln-spec, the runner for `wast2json` output.
 *
 * kiln-spec reads one X.json written by wabt's wast2json (the commands of a
 * .wast script) plus the X.N.wasm files beside it, and executes every command
 * against the engine through its public API (include/kiln/wasm.h) only.
 *
 * Pieces:
 *   value.c    JSON values <-> struct kiln_val: parsing arguments, matching
 *              results against expectations (NaN patterns, v128 lanes,
 *              references), formatting both for messages.
 *   spectest.c the "spectest" host module the suite imports from.
 *   runner.c   the command loop: modules, registry, actions, assertions.
 *   main.c     options and the summary line.
 *
 * Invariants: one store per file, so side effects of a failed instantiation
 * (e.g. table writes before a trapping data segment) persist, as the spec
 * requires. Modules outlive the store (freed after it). Externref host value
 * N is the pointer (void *)(uintptr_t)(N + 1), so N = 0 stays distinct from
 * null (NULL).
 */
#ifndef KILN_SPEC_SPEC_H
#define KILN_SPEC_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/wasm.h"

/* Command-line options shared by every piece. */
struct spec_opts {
    int verbose;                  /* print every command's outcome */
    int quiet;                    /* print only the summary lines */
    struct kiln_store_config cfg; /* fuel, stack and memory limits */
    const char *aot_cache;        /* --aot DIR: run modules as AOT code (NULL = interpret) */
    const struct spec_xfail *xfail; /* known failures (--xfail), or NULL */
};

/* Counters printed at the end. */
struct spec_counts {
    unsigned passed;
    unsigned failed;
    unsigned skipped;
    unsigned xfailed; /* failures listed in the --xfail file */
};

/* A list of known failures: checks at FILE:LINE (FILE = the .wast's base
 * name) that are expected to fail, each with a reason. A listed check that
 * fails counts as xfailed; one that passes counts as failed, so the list
 * only shrinks. */
struct spec_xfail {
    size_t n;
    struct spec_xfail_entry {
        char *file;   /* "imports.wast" */
        long line;
        char *reason;
    } *entries;
};

/* Reads an xfail file: lines "FILE:LINE  reason", '#' comments. Returns
 * NULL (message on stderr) if it cannot be read or parsed. */
struct spec_xfail *spec_xfail_load(const char *path);
void spec_xfail_free(struct spec_xfail *x);

/* ---- value.c -------------------------------------------------------------- */

/* Size of the buffers the format functions fill. */
#define SPEC_FMT_MAX 512

/* Host value N as an externref (never NULL). */
static inline void *spec_externref(uint64_t n)
{
    return (void *)(uintptr_t)(n + 1);
}

/* Parses a JSON value {"type": T, "value": V[, "lane_type": L]} into *out.
 * Returns 0, or -1 with a reason in why[SPEC_FMT_MAX] (unknown type, bad
 * number, or a NaN pattern where a concrete value is needed). */
int spec_val_parse(const json_t *j, struct kiln_val *out, char *why);

/* Valtype of a JSON value's "type" field, or 0 if unknown. */
uint8_t spec_val_type(const json_t *j);

/* True when got matches the expectation j (exact bits, "nan:canonical" /
 * "nan:arithmetic" per float or per lane, references by identity or null). */
bool spec_val_match(const json_t *j, const struct kiln_val *got);

/* Formats an expectation / a value as "i32:42", "f32:1.5 [0x3fc00000]",
 * "v128:i32x4 1 2 3 4", "externref:7", "funcref:null"... into buf
 * (SPEC_FMT_MAX bytes). `like` (may be NULL) is an expectation whose
 * lane_type is used to show a v128 result. Return buf. */
char *spec_val_format_expected(const json_t *j, char *buf);
char *spec_val_format(const struct kiln_val *v, const json_t *like, char *buf);

/* Name of a valtype ("i32", "funcref", ...). */
const char *spec_valtype_name(uint8_t t);

/* ---- spectest.c ------------------------------------------------------------- */

struct spec_host; /* the "spectest" module's objects in one store */

/* Creates the spectest module's functions, globals, table and memory in
 * store. Returns NULL on failure (message in *err). Freed by spec_host_free;
 * the objects themselves belong to the store. */
struct spec_host *spec_host_new(struct kiln_store *store, const struct spec_opts *opts,
                                struct kiln_error *err);
void spec_host_free(struct spec_host *h);

/* Looks up export `name` of the spectest module. */
bool spec_host_export(const struct spec_host *h, const char *name, struct kiln_extern *out);

/* ---- runner.c --------------------------------------------------------------- */

/* Runs every command of the wast2json file at path, adding to *counts.
 * Returns 0, or -1 if the file itself could not be read (message printed). */
int spec_run_file(const char *path, const struct spec_opts *opts, struct spec_counts *counts);

#endif
