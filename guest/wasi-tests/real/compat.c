/* compat.c — calls real programs make that WASI preview1 has no notion of:
 * ownership and permission bits. They succeed without effect (the files a
 * guest creates get the host's default mode). */
#include <sys/types.h>

int fchmod(int fd, mode_t mode)
{
    (void)fd;
    (void)mode;
    return 0;
}

int fchown(int fd, uid_t uid, gid_t gid)
{
    (void)fd;
    (void)uid;
    (void)gid;
    return 0;
}

int chmod(const char *path, mode_t mode)
{
    (void)path;
    (void)mode;
    return 0;
}

uid_t geteuid(void)
{
    return 0;
}

uid_t getuid(void)
{
    return 0;
}
