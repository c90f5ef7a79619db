/*
 * kiln/kilnd.h — the daemon placement of the vkernel: a unit process attaches
 * its struct kiln_vk to kilnd (the shared host daemon) instead of holding
 * authority itself. Protocol: docs/kilnd-protocol.md.
 *
 * After kiln_kilnd_attach the vkernel forwards every authority-granting call
 * (open, mkdir, unlink, rename, link, symlink, readlink, stat and utimes by
 * path, socket, connect, bind, listen, accept) to kilnd, which checks the
 * container's policy, performs the call beneath the container's root, audits
 * it and returns the new fd; reads, writes and other calls on granted fds
 * stay in this process.
 *
 * Fail closed: once the connection breaks, every later forwarded call returns
 * -EIO and the `lost` callback (if any) runs once with a message.
 *
 * Threads: one connection is used by one thread at a time (like its vk).
 */
#ifndef KILN_KILND_H
#define KILN_KILND_H

#include <stdbool.h>

#include "kiln/error.h"
#include "kiln/vkernel.h"

struct kiln_kilnd;

/* What the unit presents on connect (its verified manifest summary). */
struct kiln_kilnd_hello {
    const char *container;    /* container id kilnd knows (required) */
    const char *abi;          /* guest ABI, e.g. "wasi_snapshot_preview1" */
    const char *unit_name;    /* the unit's or module's name (for the record) */
    int unit_fd;              /* fd of the unit/module file kilnd digests (and, for a
                                 signed unit, verifies); -1 = none */
    const char *const *paths; /* requested preopens: guest paths, ":ro" suffix for
                                 read-only */
    int npaths;
    const char *const *listens; /* requested listeners "tcp:ADDR:PORT" */
    int nlistens;
    bool paths_beneath; /* for each requested path the process's policy gives `none`: grant
                           instead the highest directories beneath it that the policy grants
                           and that exist (possibly none) — the unit sees exactly its policy's
                           subtrees (HELLO "beneath", docs/kilnd-protocol.md) */
};

/* Connects to kilnd at socket_path (or, for "fd:N", uses the inherited
 * connection N that kilnd made for a unit it spawned — docs/guest-proc.md),
 * presents hello and installs the grant in
 * vk: the granted preopens become the lowest free guest fds in the order
 * requested (a path granted through paths_beneath: its subtrees, in the
 * policy's rule order, in its place), then the listeners; the container's policy (sent by kilnd) is
 * installed as vk's policy (for the hot-path rules and limits); the backend
 * is switched to kilnd (with the process calls kiln_vk_spawn/wait/kill/getpid;
 * spawn only when the grant says the policy allows exec). A requested path
 * or port kilnd refuses is an error
 * (KILN_E_DENIED naming it). Errors: KILN_E_IO (cannot connect),
 * KILN_E_DENIED (refused: unknown container, peer credentials, policy),
 * KILN_E_MALFORMED (bad grant). *out is set only on success; free it with
 * kiln_kilnd_free after vk. */
int kiln_kilnd_attach(struct kiln_vk *vk, const char *socket_path,
                      const struct kiln_kilnd_hello *hello, void (*lost)(const char *msg),
                      struct kiln_kilnd **out, struct kiln_error *err);

/* Seals the calling process for the daemon placement: sets no_new_privs and
 * loads a seccomp filter (synchronized to all threads) under which every host
 * call that would gain authority by itself fails with EPERM — open, openat,
 * openat2, creat, socket, connect, bind, listen, accept, accept4, mkdir*,
 * unlink*, rename*, link*, symlink*, mknod*, truncate, chmod/chown by path,
 * execve*, io_uring_setup (and every x32 call). Descriptors already held and
 * the kilnd connection keep working. Irreversible. Returns 0 or -errno
 * (-ENOSYS on architectures without a filter here). */
int kiln_kilnd_seal(void);

/* True once the connection to kilnd broke. */
bool kiln_kilnd_lost(const struct kiln_kilnd *c);

/* Watches the connection on a detached thread, so a process fails closed when
 * kilnd goes away while its guest makes no call to kilnd (computes, sleeps):
 * on hangup the thread calls on_hup (it runs on that thread: set a flag,
 * kiln_store_interrupt), and if the process still runs one second later it
 * prints "<who>: kilnd connection lost (hangup): failing closed" and ends it
 * with status 125. Call once, after kiln_kilnd_attach; the thread polls
 * only (it works under kiln_kilnd_seal). Returns 0 or -errno. */
int kiln_kilnd_watch(const struct kiln_kilnd *c, const char *who, void (*on_hup)(void));

/* The policy document kilnd sent with the grant: the unit's effective policy, which kilnd's
 * log and the run attestation name "sha256:" + the SHA-256 of exactly these bytes. NULL (and
 * *len 0) when the container has none (the permissive built-in policy). len may be NULL.
 * Valid until kiln_kilnd_free. */
const char *kiln_kilnd_policy_text(const struct kiln_kilnd *c, size_t *len);

/* Closes the connection. NULL is a no-op. */
void kiln_kilnd_free(struct kiln_kilnd *c);

#endif
