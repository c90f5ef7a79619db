/* wasi_compat.h — forced include (-include) for sqlite 3.40 on wasm32-wasi:
 * the POSIX lock constants and ownership calls its os_unix.c names (3.41
 * added the same for WASI upstream). With the unix-dotfile VFS no POSIX lock
 * is ever taken. */
#ifndef KILN_WASI_COMPAT_H
#define KILN_WASI_COMPAT_H
#include <fcntl.h>
#include <sys/types.h>
#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#endif
int fchmod(int fd, mode_t mode);
int fchown(int fd, uid_t uid, gid_t gid);
int chmod(const char *path, mode_t mode);
uid_t geteuid(void);
uid_t getuid(void);
#endif
