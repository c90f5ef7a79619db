/*
 * proto.h — the kilnd wire protocol, version 1 (normative text:
 * docs/kilnd-protocol.md). Shared by the client (client.c, linked into every
 * unit process) and the server (server.c, kilnd). Not a public header.
 *
 * Transport: a unix socket of type SOCK_SEQPACKET; one message = one packet of
 * at most KILND_MSG_MAX bytes; new file descriptors travel as SCM_RIGHTS
 * ancillary data of the reply that creates them. Integers are host-endian
 * (both ends are on the same host). Requests are answered in order; the client
 * sends the next request only after the reply to the previous one (RELEASE
 * has no reply).
 *
 * Invariants: every packet starts with struct kilnd_hdr carrying KILND_MAGIC
 * and KILND_VERSION; a receiver that sees anything else, a truncated packet
 * or a packet larger than KILND_MSG_MAX drops the connection. Unexpected fds
 * are closed on receipt.
 */
#ifndef KILN_VKERNEL_DAEMON_PROTO_H
#define KILN_VKERNEL_DAEMON_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define KILND_MAGIC 0x444e4c4bu /* "KLND" in little-endian bytes */
#define KILND_VERSION 1
#define KILND_MSG_MAX 65536
#define KILND_MAX_FDS 32

enum kilnd_op {
    KILND_HELLO = 1,   /* client: JSON manifest summary; reply: JSON grant + fds */
    KILND_EXIT = 2,    /* client: JSON exit report; reply: result 0 */
    KILND_RELEASE = 3, /* client: a[0] = handle; no reply */
    KILND_OPENAT = 10,
    KILND_MKDIRAT = 11,
    KILND_UNLINKAT = 12,
    KILND_RENAMEAT = 13,
    KILND_LINKAT = 14,
    KILND_SYMLINKAT = 15,
    KILND_READLINKAT = 16,
    KILND_FSTATAT = 17,
    KILND_UTIMENSAT = 18,
    KILND_SOCKET = 30,
    KILND_CONNECT = 31, /* the socket travels with the request (SCM_RIGHTS) */
    KILND_BIND = 32,
    KILND_LISTEN = 33,
    KILND_ACCEPT = 34,
    /* processes (docs/guest-proc.md) */
    KILND_SPAWN = 40, /* a[0..2] guest stdio fds (their host fds attached, in order),
                         a[3] argc, a[4] nenv; data: path, then argv and env strings
                         each NUL-terminated; reply: result = pid */
    KILND_WAIT = 41,  /* a[0] pid (-1 any child), a[1] options (KILN_VK_WNOHANG);
                         reply: result = pid (0: none yet), data = int32 status.
                         kilnd answers when a child has exited (never blocks) */
    KILND_KILL = 42,  /* a[0] pid, a[1] signal; reply: result */
};

/* Every packet starts with this header. */
struct kilnd_hdr {
    uint32_t magic;   /* KILND_MAGIC */
    uint16_t version; /* KILND_VERSION */
    uint16_t op;      /* enum kilnd_op (a reply repeats the request's op) */
    uint32_t seq;     /* request number; the reply repeats it */
    int32_t result;   /* replies: result >= 0 or -errno; requests: 0 */
};

/* A call request (every op except HELLO and EXIT, whose body is JSON text). */
struct kilnd_call {
    struct kilnd_hdr h;
    int32_t a[6];    /* integer arguments, per op (docs/kilnd-protocol.md) */
    int64_t x[4];    /* 64-bit arguments (utimensat times) */
    uint32_t len[2]; /* lengths of the two byte strings that follow */
    /* uint8_t data[len[0] + len[1]]: path / old path, new path / target */
};

/* A call reply. */
struct kilnd_reply {
    struct kilnd_hdr h;
    int32_t handle;  /* kilnd's handle for a new directory, else -1 */
    uint8_t kind;    /* enum kiln_vk_kind of the new fd */
    uint8_t fdflags; /* KILN_VK_FD_RO of the new fd */
    uint16_t pad;    /* 0 */
    int32_t oflags;  /* guest open flags of the new fd */
    uint32_t len;    /* bytes that follow: a directory's guest path, a link
                        target (readlinkat), a struct stat (fstatat) */
};

/* Control channel between kilnd's parent and one per-container worker (a
 * socketpair, never a unit socket; a worker drops any unit packet with one of
 * these ops). Packets: struct kilnd_ctl + len bytes, at most KILND_CTL_MAX. */
#define KILND_CTL_MAX (2 * KILND_MSG_MAX + 256)
enum kilnd_ctl_op {
    KILND_C_CONN = 100,   /* parent->worker: a connection and its HELLO packet (body);
                             fds: socket, peer pidfd (a[3] = 1) or none, HELLO's fds;
                             a[0] peer pid, a[1] uid, a[2] gid, a[4] HELLO fd count */
    KILND_C_EXEC = 101,   /* worker->parent: start a spawned unit; fds: module memfd,
                             the unit's end of its kilnd connection, stdin, stdout,
                             stderr; a[0] pid in the container, a[1] uid, a[2] gid,
                             a[3] the spawner's host pid (its cgroups are joined);
                             body: JSON {"argv":[],"env":[],"dirs":[]} */
    KILND_C_EXECED = 102, /* parent->worker: a[0] pid in the container, a[1] host pid or
                             -errno; fd: its pidfd */
    KILND_C_REAPED = 103, /* parent->worker: a[0] pid in the container, a[1] host pid,
                             a[2] wait status */
    KILND_C_ATTEST = 104, /* worker->parent: x[0] run start (ns); body: the run's
                             in-toto statement to sign and write */
    KILND_C_IDLE = 105,   /* worker->parent: no process left; a[0] = C_CONNs received */
    KILND_C_STOP = 106,   /* parent->worker: kilnd stops; drop everything, attest, exit */
};

struct kilnd_ctl {
    struct kilnd_hdr h; /* op = enum kilnd_ctl_op */
    int32_t a[6];
    int64_t x[2];
    uint32_t len; /* bytes that follow */
    uint32_t pad;
};

/* Sends one packet (iov of n parts) with up to nfds fds. Returns 0 or -errno. */
int kiln__kilnd_send(int sock, const void *a, size_t alen, const void *b, size_t blen,
                     const int *fds, int nfds);
/* Same for the parent-worker control channel (packets up to KILND_CTL_MAX). */
int kiln__kilnd_send_ctl(int sock, const void *a, size_t alen, const void *b, size_t blen,
                         const int *fds, int nfds);
/* Receives one packet into buf (cap bytes; cap must be KILND_MSG_MAX + 1 so an
 * oversized packet is detected; KILND_CTL_MAX + 1 on the control channel). Received fds go to fds[]
 * (at most maxfds, *nfds set; extra ones are closed). Returns the packet length, 0 at EOF, or
 * -errno (-EMSGSIZE for a truncated packet or control data; its fds are
 * closed). */
long kiln__kilnd_recv(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds);
/* Checks a received header: magic, version and minimal length for the op.
 * Returns 0 or -EPROTO. */
int kiln__kilnd_check(const void *buf, long len, size_t min);

#endif
