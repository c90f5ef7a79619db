/*
 * trust_internal.h — helpers shared by the files of src/trust (not public).
 */
#ifndef KILN_TRUST_INTERNAL_H
#define KILN_TRUST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/error.h"

/* sodium_init() once; returns 0 or a KILN_E_IO error. */
int kiln__sodium_init(struct kiln_error *err);

/* Standard (padded, RFC 4648) base64 of data; malloc'd NUL-terminated string or NULL. */
char *kiln__b64_encode(const uint8_t *data, size_t len);

/* Decodes canonical padded base64 (no whitespace unless ignore != NULL, no
 * non-zero padding bits, the whole input consumed). Returns 0 and a malloc'd
 * buffer (len may be 0; buffer then non-NULL), or -1. */
int kiln__b64_decode(const char *b64, size_t b64_len, const char *ignore, uint8_t **out,
                     size_t *out_len);

/* SHA-256 of data into out (SHA extensions when the CPU has them). */
void kiln__sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/* True iff s is exactly 64 lowercase hex digits. */
bool kiln__is_hex64(const char *s);

/* Reads all of a regular file open on fd (pread from offset 0, once), at
 * most max bytes; name is used in messages. Returns 0 and a malloc'd buffer
 * with an extra NUL after *len. */
int kiln__read_fd(int fd, const char *name, uint64_t max, uint8_t **out, size_t *len,
                  struct kiln_error *err);

struct kiln_trust_store;

/* kiln_trust_store_open_default with explicit paths (tests use temporary
 * ones): config is honoured only if root-owned and not group/other-writable,
 * and the chosen directory must be root-owned and not group/other-writable. */
int kiln__trust_store_open_system(const char *config, const char *default_dir,
                                  struct kiln_trust_store **out, struct kiln_error *err);

#endif
