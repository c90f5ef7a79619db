/*
 * kiln/error.h — the error object every library function may fill.
 *
 * Library code returns an int (0 on success, negative on failure) and, when the
 * caller passes a non-NULL struct kiln_error *, writes a code, the errno (if a
 * system call failed) and a message that names the file, offset or field at
 * fault. Callers add context on the way up with kiln_error_prefix().
 */
#ifndef KILN_ERROR_H
#define KILN_ERROR_H

#include <stddef.h>

enum kiln_error_code {
    KILN_OK = 0,
    KILN_E_NOMEM = 1,     /* allocation failed or a configured limit was hit */
    KILN_E_IO = 2,        /* a system call failed; sys_errno says which */
    KILN_E_MALFORMED = 3, /* input does not parse (binary format, JSON, ...) */
    KILN_E_INVALID = 4,   /* input parses but fails validation */
    KILN_E_LINK = 5,      /* imports do not match (unlinkable) */
    KILN_E_TRAP = 6,      /* a trap during instantiation (uninstantiable) */
    KILN_E_ARG = 7,       /* bad argument from the caller */
    KILN_E_UNSUPPORTED = 8,
    KILN_E_VERIFY = 9, /* signature / digest / trust failure */
    KILN_E_DENIED = 10 /* policy denied */
};

struct kiln_error {
    int code;      /* enum kiln_error_code */
    int sys_errno; /* errno of the failed system call, or 0 */
    char msg[512]; /* NUL-terminated, human readable, no trailing newline */
};

/* Sets *err (if non-NULL) and returns -code, so `return kiln_error_set(...)`
 * works in functions that return a negative value on failure. */
int kiln_error_set(struct kiln_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like kiln_error_set, and records errno (sys_errno) and appends strerror. */
int kiln_error_sys(struct kiln_error *err, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to err->msg (no-op when err is NULL). */
void kiln_error_prefix(struct kiln_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
