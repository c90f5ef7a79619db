/*
 * kilnd_probe.c — a test client of kilnd (tests/kilnd/run_kilnd_test.sh).
 *
 *   kilnd_probe [--as UID] SOCK CONTAINER open ABSPATH       attach, open, print result
 *   kilnd_probe [--as UID] SOCK CONTAINER openrel DIR REL    preopen DIR, open REL under it
 *   kilnd_probe SOCK CONTAINER crash                         HELLO + OPENAT, then SIGKILL
 *   kilnd_probe SOCK CONTAINER garbage|oversized[-after]     expect kilnd to hang up (-after:
 *                                                            after a HELLO, in the worker)
 *   kilnd_probe SOCK CONTAINER failclosed ABSPATH            attach, wait for a stdin line,
 *                                                            open (kilnd gone: EIO)
 *   kilnd_probe SOCK CONTAINER confined ABSPATH HOSTPATH     confine the process (Landlock, no
 *                                                            mounts) like kiln exec --kilnd: a
 *                                                            host open of HOSTPATH fails, ABSPATH
 *                                                            through kilnd still opens
 *   kilnd_probe SOCK CONTAINER random N SEED                 after HELLO, N packets with a valid
 *                                                            header and random ops, arguments and
 *                                                            bytes (reconnects when dropped)
 *   kilnd_probe SOCK CONTAINER unit FILE                     present FILE as the unit, exit 0
 *   kilnd_probe SOCK CONTAINER unitopen FILE ABSPATH [w]     present FILE as the unit (its own
 *                                                            signed policy narrows the
 *                                                            container's), open ABSPATH (w: for
 *                                                            writing, created)
 *   kilnd_probe SOCK CONTAINER spawn FILE GUESTPATH [ARG..]  present FILE as the unit, spawn
 *                                                            GUESTPATH (stdio: ours), wait
 *   kilnd_probe SOCK CONTAINER bench ROOT PATH N             latency of open+close of PATH
 *                                                            (absolute in the container whose
 *                                                            root is ROOT): native, embedded,
 *                                                            kilnd; median and p99 in µs
 *                                                            (a measurement, not a test)
 * Prints one line per result, "ok" or the errno name; exit 0 unless the
 * probe itself failed (exit 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kiln/kilnd.h"
#include "vkernel/daemon/proto.h"

static int lost_calls;
static void on_lost(const char *msg)
{
    lost_calls++;
    printf("lost: %s\n", msg);
}

static const char *ename(int e)
{
    switch (e) {
    case EPERM:
        return "EPERM";
    case ENOENT:
        return "ENOENT";
    case EACCES:
        return "EACCES";
    case EIO:
        return "EIO";
    case EBADF:
        return "EBADF";
    case ENOTDIR:
        return "ENOTDIR";
    case EROFS:
        return "EROFS";
    case ELOOP:
        return "ELOOP";
    case ENOEXEC:
        return "ENOEXEC";
    case ESRCH:
        return "ESRCH";
    default:
        return "EOTHER";
    }
}

static int raw_connect(const char *path)
{
    struct sockaddr_un sa;
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("connect");
        exit(3);
    }
    return s;
}

/* Raw HELLO for container id; returns the grant's result. */
static int raw_hello(int s, const char *id)
{
    char body[256], in[KILND_MSG_MAX + 1];
    struct kilnd_hdr h = {KILND_MAGIC, KILND_VERSION, KILND_HELLO, 1, 0};
    int fds[KILND_MAX_FDS], nfds;
    long n;
    snprintf(body, sizeof body,
             "{\"protocol\":1,\"container\":\"%s\",\"abi\":\"wasi_snapshot_preview1\","
             "\"unit\":\"probe\",\"paths\":[],\"listen\":[]}",
             id);
    kiln__kilnd_send(s, &h, sizeof h, body, strlen(body), NULL, 0);
    n = kiln__kilnd_recv(s, in, sizeof in, fds, KILND_MAX_FDS, &nfds);
    if (n < (long)sizeof h) return -EIO;
    memcpy(&h, in, sizeof h);
    return h.result;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t tick(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(const char *what, uint64_t *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_u64);
    printf("%-9s open+close: median %.2f us, p99 %.2f us (n=%d)\n", what, t[n / 2] / 1000.0,
           t[(n * 99) / 100] / 1000.0, n);
}

/* open+close of path: native (openat beneath root), embedded vkernel, kilnd. */
static int bench(struct kiln_vk *dvk, const char *root, const char *path, int n)
{
    uint64_t *t = calloc((size_t)n, sizeof *t);
    struct kiln_vk *evk = NULL;
    struct kiln_error err;
    char host[4096];
    int k, r, rootfd = open(root, O_PATH | O_DIRECTORY);
    if (t == NULL || rootfd < 0) return 3;
    memset(&err, 0, sizeof err);
    snprintf(host, sizeof host, "%s", path[0] == '/' ? path + 1 : path);
    for (k = 0; k < n; k++) {
        uint64_t t0 = tick();
        r = openat(rootfd, host, O_RDONLY | O_CLOEXEC);
        if (r >= 0) close(r);
        t[k] = tick() - t0;
        if (r < 0) return 3;
    }
    report("native", t, n);
    if (kiln_vk_new(&evk, &err) < 0 || kiln_vk_mount(evk, root, "/", 0, &err) < 0) return 3;
    for (k = 0; k < n; k++) {
        uint64_t t0 = tick();
        r = kiln_vk_openat(evk, KILN_VK_AT_ROOT, path, strlen(path), O_RDONLY, 0);
        if (r >= 0) kiln_vk_close(evk, r);
        t[k] = tick() - t0;
        if (r < 0) return 3;
    }
    report("embedded", t, n);
    for (k = 0; k < n; k++) {
        uint64_t t0 = tick();
        r = kiln_vk_openat(dvk, KILN_VK_AT_ROOT, path, strlen(path), O_RDONLY, 0);
        if (r >= 0) kiln_vk_close(dvk, r);
        t[k] = tick() - t0;
        if (r < 0) return 3;
    }
    report("kilnd", t, n);
    kiln_vk_free(evk);
    close(rootfd);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    struct kiln_vk *vk = NULL;
    struct kiln_kilnd *kc = NULL;
    struct kiln_kilnd_hello hello;
    struct kiln_error err;
    const char *sock, *id, *mode, *paths[1];
    int r, i = 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 3 && strcmp(argv[1], "--as") == 0) {
        uid_t u = (uid_t)atoi(argv[2]);
        if (setresgid(u, u, u) < 0 || setresuid(u, u, u) < 0) {
            perror("setresuid");
            return 3;
        }
        i = 3;
    }
    if (argc - i < 3) {
        fprintf(stderr, "usage: see kilnd_probe.c\n");
        return 3;
    }
    sock = argv[i];
    id = argv[i + 1];
    mode = argv[i + 2];
    if (!strcmp(mode, "crash")) {
        int s = raw_connect(sock);
        struct {
            struct kilnd_call q;
            char path[8];
        } m;
        if ((r = raw_hello(s, id)) < 0) {
            printf("hello refused: %s\n", ename(-r));
            return 3;
        }
        memset(&m, 0, sizeof m);
        m.q.h = (struct kilnd_hdr){KILND_MAGIC, KILND_VERSION, KILND_OPENAT, 2, 0};
        m.q.a[0] = KILN_VK_AT_ROOT;
        m.q.len[0] = 2;
        memcpy(m.path, "/.", 2);
        kiln__kilnd_send(s, &m, sizeof m.q + 2, NULL, 0, NULL, 0);
        raise(SIGKILL); /* dies with the request in flight */
        return 3;
    }
    if (!strcmp(mode, "random") && argc - i >= 5) {
        static const int ops[] = {KILND_RELEASE,   KILND_OPENAT,
                                  KILND_MKDIRAT,   KILND_UNLINKAT,
                                  KILND_RENAMEAT,  KILND_LINKAT,
                                  KILND_SYMLINKAT, KILND_READLINKAT,
                                  KILND_FSTATAT,   KILND_UTIMENSAT,
                                  KILND_SOCKET,    KILND_CONNECT,
                                  KILND_BIND,      KILND_LISTEN,
                                  KILND_ACCEPT,    KILND_EXIT,
                                  KILND_HELLO,     KILND_SPAWN,
                                  KILND_WAIT,      77}; /* not KILL: pid 1 is the probe */
        static char pkt[4096], in[KILND_MSG_MAX + 1];
        int count = atoi(argv[i + 3]), k, s = -1, drops = 0, fds[KILND_MAX_FDS], nfds, j;
        srand((unsigned)atoi(argv[i + 4]));
        for (k = 0; k < count; k++) {
            struct kilnd_call q;
            size_t n, extra = (size_t)(rand() % 64);
            if (s < 0) {
                s = raw_connect(sock);
                if (raw_hello(s, id) < 0) return 3;
            }
            memset(&q, 0, sizeof q);
            q.h = (struct kilnd_hdr){KILND_MAGIC, KILND_VERSION,
                                     (uint16_t)ops[rand() % (int)(sizeof ops / sizeof ops[0])],
                                     (uint32_t)k + 2, 0};
            for (j = 0; j < 6; j++)
                q.a[j] = rand() % 3 == 0 ? rand() : rand() % 8 - 2;
            for (j = 0; j < 4; j++)
                q.x[j] = rand();
            q.len[0] = (uint32_t)(rand() % 4 == 0 ? rand() : rand() % (int)(extra + 1));
            q.len[1] = (uint32_t)(extra - (q.len[0] <= extra ? q.len[0] : 0));
            memcpy(pkt, &q, sizeof q);
            for (n = 0; n < extra; n++) /* path-ish bytes: letters, '/', '.', NUL */
                pkt[sizeof q + n] = "ab./\0..x/"[rand() % 10];
            if (kiln__kilnd_send(s, pkt, sizeof q + extra, NULL, 0, (int[]){0}, rand() % 4 == 0) <
                0) {
                close(s), s = -1, drops++;
                continue;
            }
            if (q.h.op == KILND_RELEASE) continue;
            if (kiln__kilnd_recv(s, in, sizeof in, fds, KILND_MAX_FDS, &nfds) <= 0) {
                close(s), s = -1, drops++;
                continue;
            }
            while (nfds > 0)
                close(fds[--nfds]);
        }
        printf("random: %d packets, %d drops\n", count, drops);
        return 0;
    }
    if (!strncmp(mode, "garbage", 7) || !strncmp(mode, "oversized", 9)) {
        /* "...-after": after a HELLO (the container's worker sees it) */
        int s = raw_connect(sock), fds[KILND_MAX_FDS], nfds;
        if (strstr(mode, "-after") != NULL && raw_hello(s, id) < 0) return 3;
        static char big[KILND_MSG_MAX + 4096], in[KILND_MSG_MAX + 1];
        size_t n = !strncmp(mode, "garbage", 7) ? 40 : sizeof big;
        int sz = (int)sizeof big * 2;
        long got;
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        memset(big, 'x', sizeof big);
        if (!strncmp(mode, "oversized", 9)) {
            struct kilnd_hdr h = {KILND_MAGIC, KILND_VERSION, KILND_HELLO, 1, 0};
            memcpy(big, &h, sizeof h);
        }
        if (send(s, big, n, MSG_NOSIGNAL) < 0) {
            perror("send");
            return 3;
        }
        got = kiln__kilnd_recv(s, in, sizeof in, fds, KILND_MAX_FDS, &nfds);
        printf("%s: %s\n", mode, got == 0 || got == -ECONNRESET ? "disconnected" : "answered");
        return 0;
    }
    memset(&err, 0, sizeof err);
    memset(&hello, 0, sizeof hello);
    hello.container = id;
    hello.abi = "wasi_snapshot_preview1";
    hello.unit_name = "kilnd_probe";
    hello.unit_fd = -1;
    if ((!strcmp(mode, "unit") || !strcmp(mode, "spawn") || !strcmp(mode, "unitopen")) &&
        argc - i >= 4) {
        hello.unit_name = argv[i + 3];
        hello.unit_fd = open(argv[i + 3], O_RDONLY | O_CLOEXEC);
    }
    if (!strcmp(mode, "openrel") && argc - i >= 5) {
        paths[0] = argv[i + 3];
        hello.paths = paths;
        hello.npaths = 1;
    }
    if (kiln_vk_new(&vk, &err) < 0) return 3;
    for (r = 0; r < 3 && !strcmp(mode, "spawn"); r++) /* stdio for the child */
        kiln_vk_install_fd(vk, r, r, KILN_VK_FD_NOCLOSE);
    if (kiln_kilnd_attach(vk, sock, &hello, on_lost, &kc, &err) < 0) {
        printf("attach refused: %s\n", err.msg);
        kiln_vk_free(vk);
        return 0;
    }
    if (!strcmp(mode, "open") && argc - i >= 4) {
        r = kiln_vk_openat(vk, KILN_VK_AT_ROOT, argv[i + 3], strlen(argv[i + 3]), O_RDONLY, 0);
        printf("open %s: %s\n", argv[i + 3], r >= 0 ? "ok" : ename(-r));
    } else if (!strcmp(mode, "openrel") && argc - i >= 5) {
        r = kiln_vk_openat(vk, 0, argv[i + 4], strlen(argv[i + 4]), O_RDONLY, 0);
        printf("openrel %s: %s\n", argv[i + 4], r >= 0 ? "ok" : ename(-r));
    } else if (!strcmp(mode, "failclosed") && argc - i >= 4) {
        char line[16];
        printf("attached\n");
        if (fgets(line, sizeof line, stdin) == NULL) return 3;
        r = kiln_vk_openat(vk, KILN_VK_AT_ROOT, argv[i + 3], strlen(argv[i + 3]), O_RDONLY, 0);
        printf("open %s: %s\n", argv[i + 3], r >= 0 ? "ok" : ename(-r));
        r = kiln_vk_mkdirat(vk, KILN_VK_AT_ROOT, "/d", 2, 0755);
        printf("mkdir /d: %s (lost callbacks: %d)\n", r >= 0 ? "ok" : ename(-r), lost_calls);
    } else if (!strcmp(mode, "confined") && argc - i >= 5) {
        int h;
        if (kiln_vk_confine(vk, &err) < 0) {
            printf("confine: %s\n", err.msg);
            return 3;
        }
        h = open(argv[i + 4], O_RDONLY);
        printf("host open %s: %s\n", argv[i + 4], h >= 0 ? "ok" : ename(errno));
        if ((r = kiln_kilnd_seal()) < 0) {
            printf("seal: %s\n", strerror(-r));
            return 3;
        }
        h = socket(AF_INET, SOCK_DGRAM, 0);
        printf("host socket: %s\n", h >= 0 ? "ok" : ename(errno));
        r = kiln_vk_socket(vk, AF_INET, SOCK_DGRAM, 0);
        printf("kilnd socket: %s\n", r >= 0 ? "ok" : ename(-r));
        r = kiln_vk_openat(vk, KILN_VK_AT_ROOT, argv[i + 3], strlen(argv[i + 3]), O_RDONLY, 0);
        printf("open %s: %s\n", argv[i + 3], r >= 0 ? "ok" : ename(-r));
    } else if (!strcmp(mode, "bench") && argc - i >= 6) {
        if (bench(vk, argv[i + 3], argv[i + 4], atoi(argv[i + 5])) != 0) return 3;
    } else if (!strcmp(mode, "spawn") && argc - i >= 5) {
        char *args[32];
        int n = 0, st = 0, k;
        for (k = i + 4; k < argc && n < 31; k++)
            args[n++] = argv[k];
        r = kiln_vk_spawn(vk, argv[i + 4], strlen(argv[i + 4]), n, args, 0, NULL, NULL);
        printf("spawn %s: %s\n", argv[i + 4], r > 0 ? "ok" : ename(-r));
        if (r > 0) {
            k = kiln_vk_wait(vk, r, &st, 0);
            printf("wait: pid %d status %d\n", k, st);
        }
    } else if (!strcmp(mode, "unitopen") && argc - i >= 5) {
        int fl = argc - i >= 6 && !strcmp(argv[i + 5], "w") ? O_WRONLY | O_CREAT : O_RDONLY;
        r = kiln_vk_openat(vk, KILN_VK_AT_ROOT, argv[i + 4], strlen(argv[i + 4]), fl, 0644);
        printf("open %s: %s\n", argv[i + 4], r >= 0 ? "ok" : ename(-r));
    } else if (!strcmp(mode, "unit")) {
        printf("unit accepted\n");
    } else {
        fprintf(stderr, "kilnd_probe: unknown mode %s\n", mode);
        return 3;
    }
    kiln_vk_exit(vk, 0, "exit");
    kiln_vk_free(vk);
    kiln_kilnd_free(kc);
    return 0;
}
