/*
 * worker_walls.c — checks the walls a kilnd worker puts around itself
 * (src/vkernel/daemon/confine_worker.c): after kiln__kilnd_confine_worker
 * for a container root ROOT (with a file ROOT/f), the process still reads
 * and writes beneath ROOT, and can no longer open a host file outside it,
 * create a unix socket, fork, exec, signal a process by pid, open a pidfd,
 * map executable memory, unshare/mount, or connect TCP (its policy has no
 * network rules). Prints one line per check and
 * exits 0 only when every check holds (CTest kilnd.walls).
 *
 *   worker_walls ROOT OUTSIDE_FILE
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vkernel/daemon/server.h"

static int bad;

static void check(const char *what, int ok, int e)
{
    printf("%s: %s (%s)\n", what, ok ? "ok" : "FAILED", e ? strerror(e) : "-");
    bad |= !ok;
}

int main(int argc, char **argv)
{
    struct kiln__kilnd_ct ct;
    const char *why = NULL;
    char path[4096];
    int r, fd;
    void *m;
    if (argc < 3) return 2;
    memset(&ct, 0, sizeof ct);
    snprintf(ct.id, sizeof ct.id, "walls");
    ct.root = argv[1];
    ct.policy_text = "{\"kilnPolicy\":1}"; /* no network rules: TCP refused too */
    ct.policy_len = strlen(ct.policy_text);
    ct.audit_fd = -1;
    r = kiln__kilnd_confine_worker(&ct, true, true, &why);
    if (r < 0) {
        printf("confine: %s: %s\n", why, strerror(-r));
        return 1;
    }
    snprintf(path, sizeof path, "%s/f", argv[1]);
    fd = open(path, O_RDWR);
    check("open beneath the root", fd >= 0, fd < 0 ? errno : 0);
    if (fd >= 0) close(fd);
    fd = open(argv[2], O_RDONLY);
    check("open outside the root refused", fd < 0 && errno == EACCES, fd < 0 ? errno : 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    check("unix socket refused", fd < 0 && errno == EPERM, fd < 0 ? errno : 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    check("inet socket allowed", fd >= 0, fd < 0 ? errno : 0);
    if (fd >= 0) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
        check("TCP connect refused (policy without network rules)", r < 0 && errno == EACCES,
              r < 0 ? errno : 0);
        close(fd);
    }
    r = (int)syscall(SYS_fork);
    if (r == 0) _exit(0);
    check("fork refused", r < 0 && errno == EPERM, r < 0 ? errno : 0);
    r = execl("/bin/true", "true", (char *)NULL);
    check("exec refused", r < 0 && errno == EPERM, errno);
    r = kill(1, 0);
    check("kill by pid refused", r < 0 && errno == EPERM, r < 0 ? errno : 0);
    r = (int)syscall(SYS_pidfd_open, 1, 0);
    check("pidfd_open refused", r < 0 && errno == EPERM, r < 0 ? errno : 0);
    m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check("executable mapping refused", m == MAP_FAILED && errno == EPERM,
          m == MAP_FAILED ? errno : 0);
    r = unshare(CLONE_NEWNS);
    check("unshare refused", r < 0 && errno == EPERM, r < 0 ? errno : 0);
    r = setuid(0);
    check("setuid refused", r < 0 && errno == EPERM, r < 0 ? errno : 0);
    return bad;
}
