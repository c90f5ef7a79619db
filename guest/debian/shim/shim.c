/* shim.c — definitions behind wasi_shim.h: calls WASI preview1 cannot
 * express (file ownership and permission bits, user ids) succeed without
 * effect, as they would for root on a filesystem that ignores modes. Files a
 * guest creates get the host's default mode. Linked into every wasm build. */
#include <sys/types.h>

int fchmod(int fd, mode_t mode);
int fchown(int fd, uid_t uid, gid_t gid);
int chmod(const char *path, mode_t mode);
uid_t geteuid(void);
uid_t getuid(void);

/* Returns 0; changes nothing. */
int fchmod(int fd, mode_t mode)
{
    (void)fd;
    (void)mode;
    return 0;
}

/* Returns 0; changes nothing. */
int fchown(int fd, uid_t uid, gid_t gid)
{
    (void)fd;
    (void)uid;
    (void)gid;
    return 0;
}

/* Returns 0; changes nothing. */
int chmod(const char *path, mode_t mode)
{
    (void)path;
    (void)mode;
    return 0;
}

/* Returns 0 (the guest runs as its container's root). */
uid_t geteuid(void)
{
    return 0;
}

/* Returns 0 (the guest runs as its container's root). */
uid_t getuid(void)
{
    return 0;
}
