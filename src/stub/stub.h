/*
 * stub.h — the parts of kiln-stub outside main.c: its root-owned config
 * (config.c) and its audit events and timing line (events.c). Internal to
 * the stub and its tests.
 */
#ifndef KILN_STUB_STUB_H
#define KILN_STUB_STUB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
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

/* Reads the container's policy document at path (kiln-oci's
 * KILN_STUB_KILND_DIR/policy.json in the embedded placement, docs/containerd.md).
 * Returns 0 with *text NULL when there is no such file, 1 with a malloc'd
 * NUL-terminated copy in *text (caller frees) and its length in *len, or
 * negative with *err filled naming the path: KILN_E_DENIED when it is not a
 * regular file owned by root and not writable by group or others (or a
 * symlink), KILN_E_MALFORMED when empty or larger than 1 MiB, KILN_E_IO (or
 * the errno's code) when it cannot be opened or read. Does not parse it. */
int kiln_stub_container_policy_read(const char *path, char **text, size_t *len,
                                    struct kiln_error *err);

/* Audit event "refused" (reason, detail, path of the unit) through the
 * vkernel's audit sink; a no-op without a sink or without a vkernel. */
void kiln_stub_audit_refused(struct kiln_vk *vk, const char *reason, const char *detail);

/* Audit event "unit": the verified unit's region digests, signer, ABI,
 * source and the hardening in force as the kernel reports it (st). */
void kiln_stub_audit_unit(struct kiln_vk *vk, const struct kiln_unit *unit,
                          const struct kiln_harden_status *st);

/* The daemon placement (kilnd.c). Looks for DIR/kilnd.id and DIR/kilnd.sock:
 * returns 0 without kilnd.id (embedded placement), 1 with the socket path
 * in sock and the container id in id when both exist, negative with *err
 * filled when kilnd.sock is missing (KILN_E_DENIED) or not a socket or
 * kilnd.id is not a root-owned regular file that only root may write
 * (KILN_E_DENIED), or holds no valid container id (KILN_E_MALFORMED). */
int kiln_stub_kilnd_find(const char *dir, char *sock, size_t socklen, char *id, size_t idlen,
                         struct kiln_error *err);


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
