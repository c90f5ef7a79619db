/*
 * run_internal.h — the pieces of `kiln run` (src/cmd/run*.c), shared by
 * run.c (options, order of steps, the --json summary), run_verify.c
 * (attestation, rootfs cache, subjects, entrypoint unit), run_index.c (the
 * verified-cache index) and run_guest.c (vkernel, module, the guest run).
 *
 * One struct run_ctx carries a run from options to exit code; every step
 * fills its part and the single cleanup (kiln__run_ctx_clear) frees what is
 * set. Invariant: nothing of the guest is created before every verification
 * step (kiln__run_verify) has succeeded.
 */
#ifndef KILN_CMD_RUN_INTERNAL_H
#define KILN_CMD_RUN_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/image_cmd.h"
#include "kiln/error.h"
#include "kiln/image.h"
#include "kiln/unit.h"

#define KILN_RUN_MAX_OPTS 64

/* What the command line asked for. Strings point into argv. */
struct run_opts {
    struct kiln_image_options image; /* --ref, --platform, limits, ... */
    const char *image_arg;           /* IMAGE[:REF] */
    const char *trust_dir;           /* --trust, or NULL for the system store */
    const char *cache;               /* --cache, or NULL for the default */
    const char *policy_path;         /* --policy */
    const char *audit;               /* --audit */
    const char *json_path;           /* --json=FILE; "" = stderr; NULL = no summary */
    const char *envs[KILN_RUN_MAX_OPTS], *vols[KILN_RUN_MAX_OPTS], *listens[KILN_RUN_MAX_OPTS];
    int nenv, nvol, nlisten;
    bool verbose;
    bool rehash; /* --rehash: ignore the verified-cache index (hash every subject) */
    char **args; /* guest ARGS (replace Cmd), NULL-terminated view into argv */
    int nargs;
};

/* One entry of the verified-cache index: a subject file whose bytes were
 * hashed to `sha256` while it had this stat identity. */
struct run_index_entry {
    char *name; /* guest path (attestation subject name) */
    char sha256[65];
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

/* The verified-cache index of one cached rootfs (run_index.c). */
struct run_index {
    char path[PATH_MAX];  /* CACHE/verified-<manifest hex> */
    char attestation[65]; /* sha256 of the attestation envelope it was made under */
    struct run_index_entry *e;
    size_t n, cap;
    bool dirty; /* entries were added: save it */
};

struct run_ctx {
    struct run_opts o;
    /* verification (run_verify.c) */
    char *path; /* image path without :REF */
    struct kiln_image *img;
    struct kiln_trust_store *ts;
    uint8_t *att; /* the attestation envelope (referrer bytes) */
    size_t att_len;
    char att_sha256[65];
    struct kiln_dsse *env;
    const char *signer; /* store label of the attestation's signer (in ts) */
    json_t *statement;  /* the signed statement; subjects/predicate point into it */
    json_t *subjects;
    char cachedir[PATH_MAX], rootdir[PATH_MAX], rootreal[PATH_MAX];
    int rootfd;
    bool unpacked; /* this run extracted the rootfs (cache miss) */
    struct run_index index;
    size_t nsubjects, nhashed, nindexed; /* subjects checked; by hashing; by the index */
    char entry_guest[PATH_MAX];          /* the entrypoint's guest path */
    char entry_sha256[65];               /* its attested whole-file digest */
    int efd;
    struct kiln_unit *unit;
    /* the guest (run_guest.c) */
    char tmpdir[PATH_MAX]; /* private /tmp on the host, or "" */
    int audit_fd;          /* our own view of the audit sink for the summary, or -1 */
    int64_t audit_off;     /* where this run's events start in it */
    int guest_pid;         /* pid that wrote this run's audit events */
    bool child;            /* this process is the forked child running the guest */
    int trap_kind;
    char trap_msg[160];
    /* timings (CLOCK_MONOTONIC ns) */
    uint64_t t0, t_verified, t_unpack_ns, t_loaded, t_ran;
};

/* CLOCK_MONOTONIC in ns. */
uint64_t kiln__run_now(void);

/* Steps 1-5 of docs/image.md "Run": attestation, rootfs cache, subjects,
 * entrypoint unit. Returns 0, or negative with err filled (the caller
 * reports a refusal, exit 126). */
int kiln__run_verify(struct run_ctx *c, struct kiln_cmd_progress *prog, struct kiln_error *err);

/* Sets up the vkernel, module and store, runs the guest (in a child when the
 * image has /tmp) and returns its exit code (>= 0), or negative with err
 * filled when the guest could not be started (exit 1). In the forked child it
 * never returns. */
int kiln__run_guest(struct run_ctx *c, struct kiln_error *err);

/* Counts this run's audit events into *out (a new JSON object: events,
 * denials, byEvent) — from our own view of the sink; NULL when there is none. */
json_t *kiln__run_audit_summary(struct run_ctx *c);

/* Index: loads path (a missing, foreign-owned, group/other-writable or
 * malformed file, or one made under another attestation, gives an empty
 * index). Never fails. */
void kiln__run_index_load(struct run_index *ix, const char *path, const char attestation[65]);
/* The entry for name whose digest is sha256 and whose stat identity equals
 * st's, or NULL. */
const struct run_index_entry *kiln__run_index_match(const struct run_index *ix, const char *name,
                                                    const char sha256[65], const struct stat *st);
/* Records that name (stat identity st, taken before its bytes were read;
 * before = CLOCK_REALTIME read before that fstat) hashed to sha256. Skipped when the file changed
 * too recently for its ctime to tell a later change apart ("racy", see run_index.c). */
void kiln__run_index_add(struct run_index *ix, const char *name, const char sha256[65],
                         const struct stat *st, const struct timespec *before);
/* Writes the index atomically (mode 0600) when entries were added; errors
 * are ignored (the next run hashes again). */
void kiln__run_index_save(struct run_index *ix);
void kiln__run_index_clear(struct run_index *ix);

#endif
