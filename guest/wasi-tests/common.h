/*
 * common.h — helpers for the WASI test programs. Each program is built twice,
 * for wasm32-wasi (run under `kiln exec`) and natively, and must print the
 * same thing in both: so errors are printed by errno NAME (strerror texts
 * differ between libcs) and nothing host-specific (paths, inode numbers,
 * times) is printed.
 */
#ifndef KILN_WASI_TESTS_COMMON_H
#define KILN_WASI_TESTS_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

__attribute__((unused)) static const char *ename(int e)
{
    switch (e) {
#define E(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        E(EPERM)
        E(ENOENT) E(EIO) E(EBADF) E(EAGAIN) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV)
            E(ENOTDIR) E(EISDIR) E(EINVAL) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
                E(EMLINK) E(EPIPE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EILSEQ)
                    E(ENOTSUP) E(ENOTSOCK)
#undef E
                        default:
        {
            static char b[16];
            snprintf(b, sizeof b, "E%d", e);
            return b;
        }
    }
}

/* Prints "label: ok" or "label: ENAME". */
#define SHOW(label, expr)                                                                          \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(expr);                                                                    \
        if (r_ < 0)                                                                                \
            printf("%s: %s\n", label, ename(errno));                                               \
        else                                                                                       \
            printf("%s: ok\n", label);                                                             \
    } while (0)

/* Joins base and name into a static buffer (the program's own paths). */
__attribute__((unused)) static const char *P(const char *base, const char *name)
{
    static char buf[8][1024];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", base, name);
    return buf[i];
}

#endif
