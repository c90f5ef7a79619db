/* t_policy.c — runs under t_policy.json: /w is read-only except /w/rw, and
 * /w/secret is unreachable; stdout is limited to 2000 bytes. Prints what a
 * Linux program sees (errno names), then floods stdout past the limit.
 * usage: t_policy DIR */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
    const char *d = argc > 1 ? argv[1] : "/w";
    struct stat st;
    int fd, i;
    SHOW("mkdir rw", mkdir(P(d, "rw"), 0755)); /* exists (host made it) */
    fd = open(P(d, "rw/new.txt"), O_CREAT | O_WRONLY, 0644);
    printf("create in rw: %s\n", fd >= 0 ? "ok" : ename(errno));
    close(fd);
    SHOW("create in ro", open(P(d, "new.txt"), O_CREAT | O_WRONLY, 0644));
    SHOW("read ro file", open(P(d, "readme"), O_RDONLY));
    SHOW("write ro file", open(P(d, "readme"), O_WRONLY));
    SHOW("unlink ro file", unlink(P(d, "readme")));
    SHOW("mkdir in ro", mkdir(P(d, "dir"), 0755));
    SHOW("rename ro->rw", rename(P(d, "readme"), P(d, "rw/readme")));
    SHOW("open secret", open(P(d, "secret/key"), O_RDONLY));
    SHOW("stat secret", stat(P(d, "secret/key"), &st));
    SHOW("open via symlink to secret", open(P(d, "rw/link"), O_RDONLY));
    SHOW("open escape", open(P(d, "../etc/passwd"), O_RDONLY));
    fflush(stdout);
    for (i = 0; i < 100; i++)
        printf("%03d 0123456789012345678901234567890123456789012345678901234567890123456789\n", i);
    return 0;
}
