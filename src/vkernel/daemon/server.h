/*
 * server.h — kilnd, the shared vkernel daemon. Not a public header: used by
 * kilnd's main (kilnd_main.c), the parent (server.c), the per-container
 * workers (worker.c, confine_worker.c) and tests.
 *
 * Process model (docs/kilnd-protocol.md, "Per-container workers"): the
 * parent accepts connections, reads each one's HELLO, checks SO_PEERCRED
 * against the container's registration and passes the connection to that
 * container's worker, a child forked when the container's run starts and
 * confined beneath the container root (Landlock, seccomp, capabilities).
 * The worker serves every request of its container; the parent keeps the
 * node key, writes run attestations and starts spawned units.
 */
#ifndef KILN_VKERNEL_DAEMON_SERVER_H
#define KILN_VKERNEL_DAEMON_SERVER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "kiln/error.h"

struct kiln_trust_store;

struct kiln_kilnd_config {
    const char *socket_path; /* where units connect (created, mode 0666: SO_PEERCRED decides) */
    const char *config_dir;  /* <id>.json per container (docs/kilnd-protocol.md) */
    const char *state_dir;   /* <id>/audit.jsonl and <id>/run-*.json are written here */
    const char *key_path;    /* node key (PKCS#8 PEM) signing run attestations; NULL = none */
    const char *trust_dir;   /* public keys naming unit signers; NULL = none */
    const char *runner;      /* `kiln` executable started for spawned units; NULL = the
                                `kiln` next to this executable */
    void (*log)(const char *line); /* one line per event worth a log (no newline) */
};

/* Formats one log line (no newline) and passes it to cfg->log, if set; shared
 * by the parent (server.c) and the workers (worker.c). */
void kiln__kilnd_logf(const struct kiln_kilnd_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A registered container, as read from <config_dir>/<id>.json when its run
 * starts. Owned by the parent; a worker gets its copy by fork. */
struct kiln__kilnd_ct {
    char id[65];
    char *root;        /* realpath, owned */
    char *policy_path; /* owned; NULL without a policy */
    char *policy_text; /* NULL = the permissive built-in policy */
    size_t policy_len;
    char policy_sha256[65];
    long uid, pid; /* allowed peer; -1 = any */
    /* "pidnsOf": peers must share this pid namespace (st_dev/st_ino of /proc/PID/ns/pid of the
     * registered process, read when the registration is loaded); has_pidns false = any */
    bool has_pidns;
    unsigned long long pidns_dev, pidns_ino;
    bool require_signed;
    int max_procs; /* live guest processes at once ("maxProcesses", default 256) */
    int audit_fd;  /* <state>/<id>/audit.jsonl, append */
};

/* Serves until *stop becomes non-zero (a signal handler sets it). Returns 0
 * after a clean stop, or a negative kiln error code when the socket, the state
 * directory or the node key cannot be set up (err filled). */
int kiln__kilnd_serve(const struct kiln_kilnd_config *cfg, volatile sig_atomic_t *stop,
                      struct kiln_error *err);

/* The worker of container ct (worker.c): runs in the forked child until its
 * run ends and the parent lets it go (or on C_STOP / a closed control
 * channel). ctl is its control socket to the parent; trust may be NULL.
 * Confines itself first (unless KILN_NO_LANDLOCK / KILN_NO_SEAL are set).
 * Returns the process exit status. */
int kiln__kilnd_worker(const struct kiln_kilnd_config *cfg, struct kiln__kilnd_ct *ct, int ctl,
                       struct kiln_trust_store *trust);

/* Confines the calling worker process (confine_worker.c): drops every
 * capability but those needed to act on a container's files and signal its
 * processes, sets no_new_privs, restricts the filesystem with Landlock to
 * beneath ct->root (and TCP when the policy has no network rules), and loads
 * a seccomp filter against exec, fork, ptrace, namespaces, mounts, unix
 * sockets, kill by pid and other ways out. Returns 0 or -errno; *why names
 * the step that failed. Irreversible. */
int kiln__kilnd_confine_worker(const struct kiln__kilnd_ct *ct, bool landlock, bool seccomp,
                               const char **why);

#endif
