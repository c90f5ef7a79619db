/*
 * kilnd.c — kiln-stub in the daemon placement (docs/kilnd-protocol.md,
 * DESIGN.md §4): how the stub learns that it runs under kilnd. (The
 * watcher that makes a unit fail closed when kilnd goes away while the guest
 * makes no authority call is kiln_kilnd_watch, in the kilnd client.)
 *
 * The runtime (kiln-oci) says "daemon placement" with two files in a fixed
 * directory, KILN_STUB_KILND_DIR (default /run/kiln; kiln-oci mounts a
 * read-only tmpfs there):
 *     kilnd.sock   kilnd's socket (a bind mount of the host's socket)
 *     kilnd.id     the container id kilnd knows, one line
 * Never the environment or argv: they belong to the guest. kilnd.id selects
 * the placement: it must be a regular file owned by root and not writable by
 * group or others (the same rule as the stub config), and kilnd.id without
 * kilnd.sock is an error, so a half-set-up container cannot silently fall
 * back to the embedded placement. kilnd.sock alone (a host where kilnd's own
 * socket lives at /run/kiln/kilnd.sock, dist/systemd/kilnd.service) means
 * nothing.
 *
 * Invariants: nothing here runs after the process is sealed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/stub.h"

#define ID_MAX 64

/* See stub.h. */
int kiln_stub_kilnd_find(const char *dir, char *sock, size_t socklen, char *id, size_t idlen,
                         struct kiln_error *err)
{
    char idpath[PATH_MAX], buf[ID_MAX + 2];
    struct stat ss, is;
    bool have_sock, have_id;
    ssize_t n;
    int fd, rc;

    if (snprintf(sock, socklen, "%s/kilnd.sock", dir) >= (int)socklen ||
        snprintf(idpath, sizeof idpath, "%s/kilnd.id", dir) >= (int)sizeof idpath)
        return kiln_error_set(err, KILN_E_ARG, "kilnd directory %s: path too long", dir);
    fd = open(idpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    have_id = fd >= 0;
    if (!have_id && errno != ENOENT && errno != ENOTDIR)
        return kiln_error_sys(err, errno, "%s", idpath);
    if (!have_id) return 0; /* kilnd.sock alone: a host's own kilnd socket */
    have_sock = lstat(sock, &ss) == 0;
    if (!have_sock) {
        rc = kiln_error_set(err, KILN_E_DENIED, "%s: kilnd.id without kilnd.sock (%s)", dir,
                            strerror(errno));
        goto fail;
    }
    if (!S_ISSOCK(ss.st_mode)) {
        rc = kiln_error_set(err, KILN_E_DENIED, "%s: not a socket", sock);
        goto fail;
    }
    if (fstat(fd, &is) != 0) {
        rc = kiln_error_sys(err, errno, "%s", idpath);
        goto fail;
    }
    if (!S_ISREG(is.st_mode) || is.st_uid != 0 || (is.st_mode & 022)) {
        rc = kiln_error_set(err, KILN_E_DENIED,
                            "%s: must be a regular file owned by root and not writable by group "
                            "or others",
                            idpath);
        goto fail;
    }
    n = read(fd, buf, sizeof buf - 1);
    if (n < 0) {
        rc = kiln_error_sys(err, errno, "%s", idpath);
        goto fail;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = 0;
    if (n == 0 || n > ID_MAX || (size_t)n >= idlen || buf[0] == '.' ||
        strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
            (size_t)n) {
        rc = kiln_error_set(err, KILN_E_MALFORMED,
                            "%s: not a container id (1-64 of [A-Za-z0-9._-], not starting "
                            "with '.')",
                            idpath);
        goto fail;
    }
    memcpy(id, buf, (size_t)n + 1);
    close(fd);
    return 1;
fail:
    if (fd >= 0) close(fd);
    return rc;
}

