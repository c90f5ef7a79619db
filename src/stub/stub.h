/*
 * stub.h — the parts of kiln-stub outside main.c: its root-owned config
 * (config.c) and its audit events and timing line (events.c). Internal to
 * the stub and its tests.
 */
#ifndef KILN_STUB_STUB_H
#define KILN_STUB_STUB_H

#include <limits.h>
#include <stdint.h>

#include "kiln/error.h"

struct kiln_vk;
struct kiln_unit;
struct kiln_harden_status;

/* The stub config (see main.c for the file format). */
struct kiln_stub_config {
    char audit[PATH_MAX]; /* audit sink path, "" = none */
};

/* Loads the config at path into *out. A missing file is not an error (all
 * defaults). Errors (negative, *err filled, naming the path and line):
 * KILN_E_DENIED when the file is not a regular file owned by root and not
 * writable by group or others, KILN_E_MALFORMED for a line that is not
 * "key = value" or names an unknown key, KILN_E_INVALID for a relative
 * path, KILN_E_IO when it cannot be read. */
int kiln_stub_config_load(const char *path, struct kiln_stub_config *out, struct kiln_error *err);

/* Audit event "refused" (reason, detail, path of the unit) through the
 * vkernel's audit sink; a no-op without a sink or without a vkernel. */
void kiln_stub_audit_refused(struct kiln_vk *vk, const char *reason, const char *detail);

/* Audit event "unit": the verified unit's region digests, signer, ABI,
 * source and the hardening in force as the kernel reports it (st). */
void kiln_stub_audit_unit(struct kiln_vk *vk, const struct kiln_unit *unit,
                          const struct kiln_harden_status *st);

/* Where the stub spent its time (CLOCK_MONOTONIC ns). */
struct kiln_stub_timing {
    uint64_t main_ns;      /* absolute: main() entered */
    uint64_t setup_ns;     /* stub config, vkernel, trust store (before reading) */
    uint64_t read_ns;      /* reading /proc/self/exe (unit.timing) */
    uint64_t parse_ns;     /* footer + envelope */
    uint64_t sig_ns;       /* Ed25519 */
    uint64_t hash_ns;      /* statement + SHA-256 of every region */
    uint64_t harden_ns;    /* no_new_privs + MDWE + seccomp */
    uint64_t decode_ns;    /* policy, vkernel setup, module decode/validate/compile */
    uint64_t run_start_ns; /* absolute: kiln_wasi_run called (link, instantiate, _start) */
};

/* Prints "kiln-stub-timing main=... read=... ..." (one line) on stderr. */
void kiln_stub_timing_print(const struct kiln_stub_timing *t);

#endif
