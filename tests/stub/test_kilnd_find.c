/*
 * test_kilnd_find.c — how kiln-stub decides on the daemon placement
 * (src/stub/kilnd.c, kiln_stub_kilnd_find): kilnd.id selects it, kilnd.sock
 * alone does not, kilnd.id without a socket, with a bad id, or writable by
 * others is refused.
 *
 *   test_stub_kilnd_find   runs every case in a temporary directory
 *
 * The ownership case needs root (kilnd.id must be root's); as non-root the
 * accepted cases are skipped with a note.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stub/stub.h"

static int failures;
static char dir[] = "/tmp/kiln-stub-kilnd-XXXXXX";

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL: %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void put_id(const char *text, mode_t mode)
{
    char path[512];
    int fd;
    snprintf(path, sizeof path, "%s/kilnd.id", dir);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(path);
        exit(1);
    }
    close(fd);
    chmod(path, mode);
}

/* Binds a listening SEQPACKET socket at dir/kilnd.sock; returns its fd. */
static int make_sock(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s/kilnd.sock", dir);
    unlink(a.sun_path);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0) {
        perror("socket");
        exit(1);
    }
    return s;
}

static int find(char *id, size_t idlen, struct kiln_error *err)
{
    char sock[512];
    memset(err, 0, sizeof *err);
    return kiln_stub_kilnd_find(dir, sock, sizeof sock, id, idlen, err);
}

int main(void)
{
    struct kiln_error err;
    char id[80], path[512];
    int ls, r;
    bool root = geteuid() == 0;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    /* nothing: embedded */
    CHECK(find(id, sizeof id, &err) == 0, "empty directory: %s", err.msg);
    /* a host's own kilnd socket alone: embedded */
    ls = make_sock();
    CHECK(find(id, sizeof id, &err) == 0, "socket alone: %s", err.msg);
    /* both */
    put_id("k8s.io.web1\n", 0444);
    r = find(id, sizeof id, &err);
    if (root) {
        CHECK(r == 1 && strcmp(id, "k8s.io.web1") == 0, "both: %d %s", r, err.msg);
    } else {
        CHECK(r < 0 && err.code == KILN_E_DENIED, "non-root id accepted");
        printf("note: not root, the accepted case is skipped\n");
    }
    /* writable by others: refused */
    put_id("web1", 0666);
    CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_DENIED, "0666 id accepted");
    /* not an id */
    if (root) {
        put_id(".hidden", 0444);
        CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_MALFORMED, "'.hidden'");
        put_id("a/b", 0444);
        CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_MALFORMED, "'a/b'");
        put_id("", 0444);
        CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_MALFORMED, "empty id");
        put_id("0123456789012345678901234567890123456789012345678901234567890123456789", 0444);
        CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_MALFORMED, "70 characters");
    }
    /* the id without a socket, or with a regular file there: refused */
    put_id("web1", 0444);
    close(ls);
    snprintf(path, sizeof path, "%s/kilnd.sock", dir);
    unlink(path);
    CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_DENIED && strstr(err.msg, "without"),
          "id without socket: %s", err.msg);
    close(open(path, O_WRONLY | O_CREAT, 0666));
    CHECK(find(id, sizeof id, &err) < 0 && err.code == KILN_E_DENIED, "regular file as socket");
    unlink(path);

    snprintf(path, sizeof path, "%s/kilnd.id", dir);
    unlink(path);
    rmdir(dir);
    if (failures) return 1;
    printf("stub kilnd placement: all cases passed\n");
    return 0;
}
