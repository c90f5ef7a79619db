/* wasi_shim.h — forced include (clang -include) for Debian sources built for
 * wasm32-wasi with the 2022 wasi-libc, which lacks a few POSIX declarations
 * these programs name:
 *   - POSIX advisory lock constants (sqlite 3.40's os_unix.c names them even
 *     when the unix-dotfile VFS, which never takes a POSIX lock, is used;
 *     sqlite 3.41 defines the same for WASI upstream);
 *   - ownership and permission calls (fchmod, fchown, chmod, geteuid, ...),
 *     which WASI preview1 has no notion of; shim.c makes them succeed
 *     without effect.
 * Only declarations and constants: no Debian file is edited. */
#ifndef KILN_WASI_SHIM_H
#define KILN_WASI_SHIM_H
#ifdef __wasi__
#include <fcntl.h>
#include <sys/types.h>
#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#endif
#ifndef F_GETLK
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
#endif
