/*
 * aot_check.h — what the AOT test programs share (aot-test, aot-parity-test,
 * aot-known-fuel-test, unit-load-test): CHECK, which counts a failure in
 * `failures`, reports it with its place and goes on; reading a file whole; and
 * loading a module, which ends the program when it cannot (a test without its
 * module checks nothing). Included once per program.
 */
#ifndef KILN_TESTS_AOT_CHECK_H
#define KILN_TESTS_AOT_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kiln/wasm.h"

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* The bytes of path (malloc'd, one spare byte) and their count in *len, or
 * NULL if it cannot be read. */
static inline uint8_t *aot_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The validated module in path; exits with a message when there is none. */
static inline struct kiln_module *aot_load_module(const char *path)
{
    size_t len = 0;
    uint8_t *b = aot_read_file(path, &len);
    struct kiln_module *m = NULL;
    struct kiln_error err = {0};
    if (!b || kiln_module_new(b, len, NULL, &m, &err) < 0) {
        fprintf(stderr, "cannot load %s: %s\n", path, b ? err.msg : "cannot read it");
        exit(1);
    }
    free(b);
    return m;
}

#endif
