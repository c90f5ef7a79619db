/* guest_ls.c — WASI guest for tests/stub: what a unit's filesystem lets it list.
 *
 *   ls -p        one line per preopened directory, "preopen NAME: ENTRY ENTRY ...", listed
 *                with fd_readdir straight on the preopen's fd (no path lookup, so no
 *                policy check of a path: what the preopen itself exposes), or
 *                "preopen NAME: errno N" when it cannot be read
 *   ls DIR ...   "DIR: ENTRY ENTRY ..." through opendir/readdir, or "DIR: <strerror>"
 *
 * "." and ".." are left out. Exits 0, or 1 when some DIR could not be listed. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

/* Lists preopen fd (a directory) with raw fd_readdir calls. */
static void list_fd(int fd)
{
    static uint8_t buf[65536];
    __wasi_dircookie_t cookie = 0;
    for (;;) {
        __wasi_size_t n = 0, off = 0;
        __wasi_errno_t e = __wasi_fd_readdir(fd, buf, sizeof buf, cookie, &n);
        if (e != 0) {
            printf(" errno %d", (int)e);
            return;
        }
        while (off + sizeof(__wasi_dirent_t) <= n) {
            __wasi_dirent_t d;
            memcpy(&d, buf + off, sizeof d);
            off += sizeof d;
            if (off + d.d_namlen > n) return; /* truncated: the buffer is large enough */
            if (!(d.d_namlen == 1 && buf[off] == '.') &&
                !(d.d_namlen == 2 && buf[off] == '.' && buf[off + 1] == '.'))
                printf(" %.*s", (int)d.d_namlen, (const char *)buf + off);
            off += d.d_namlen;
            cookie = d.d_next;
        }
        if (n < sizeof buf) return;
    }
}

int main(int argc, char **argv)
{
    int i, fd, rc = 0;
    if (argc == 2 && strcmp(argv[1], "-p") == 0) {
        for (fd = 3; fd < 64; fd++) {
            __wasi_prestat_t ps;
            char name[256];
            if (__wasi_fd_prestat_get(fd, &ps) != 0 || ps.tag != __WASI_PREOPENTYPE_DIR) continue;
            if (ps.u.dir.pr_name_len >= sizeof name ||
                __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, ps.u.dir.pr_name_len) != 0)
                continue;
            name[ps.u.dir.pr_name_len] = 0;
            printf("preopen %s:", name);
            list_fd(fd);
            printf("\n");
        }
        return 0;
    }
    for (i = 1; i < argc; i++) {
        struct dirent *d;
        DIR *dir = opendir(argv[i]);
        if (dir == NULL) {
            printf("%s: %s\n", argv[i], strerror(errno));
            rc = 1;
            continue;
        }
        printf("%s:", argv[i]);
        while ((d = readdir(dir)) != NULL)
            if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
                printf(" %s", d->d_name);
        printf("\n");
        closedir(dir);
    }
    return rc;
}
