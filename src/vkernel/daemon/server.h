/*
 * server.h — kilnd, the shared vkernel daemon (server.c). Not a public
 * header: used by kilnd's main (kilnd_main.c) and tests.
 */
#ifndef KILN_VKERNEL_DAEMON_SERVER_H
#define KILN_VKERNEL_DAEMON_SERVER_H

#include <signal.h>

#include "kiln/error.h"

struct kiln_kilnd_config {
    const char *socket_path; /* where units connect (created, mode 0666: SO_PEERCRED decides) */
    const char *config_dir;  /* <id>.json per container (docs/kilnd-protocol.md) */
    const char *state_dir;   /* <id>/audit.jsonl and <id>/run-*.json are written here */
    const char *key_path;    /* node key (PKCS#8 PEM) signing run attestations; NULL = none */
    const char *trust_dir;   /* public keys naming unit signers; NULL = none */
    void (*log)(const char *line); /* one line per event worth a log (no newline) */
};

/* Serves until *stop becomes non-zero (a signal handler sets it). Returns 0
 * after a clean stop, or a negative kiln error code when the socket, the state
 * directory or the node key cannot be set up (err filled). */
int kiln__kilnd_serve(const struct kiln_kilnd_config *cfg, volatile sig_atomic_t *stop,
                      struct kiln_error *err);

#endif
