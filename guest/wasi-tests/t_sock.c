/* t_sock.c — a tiny TCP service on a preopened listening socket
 * (`kiln exec --listen tcp:ADDR:PORT`): accepts N connections (argv[1],
 * default 1), answers each request line in upper case, shuts the socket
 * down. Uses sock_accept/sock_recv/sock_send/sock_shutdown directly. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <wasi/api.h>

int main(int argc, char **argv)
{
    __wasi_fd_t lfd = 0, fd;
    __wasi_fdstat_t st;
    int i, n = argc > 1 ? atoi(argv[1]) : 1;
    for (lfd = 3; lfd < 16; lfd++)
        if (__wasi_fd_fdstat_get(lfd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM)
            break;
    if (lfd == 16) {
        fprintf(stderr, "no listening socket\n");
        return 2;
    }
    for (i = 0; i < n; i++) {
        char buf[256];
        __wasi_size_t got = 0, sent;
        __wasi_roflags_t ro;
        __wasi_errno_t e = __wasi_sock_accept(lfd, 0, &fd);
        if (e) {
            fprintf(stderr, "accept: %d\n", e);
            return 1;
        }
        while (got < sizeof buf) {
            __wasi_iovec_t v = {(uint8_t *)buf + got, sizeof buf - got};
            __wasi_size_t k;
            if (__wasi_sock_recv(fd, &v, 1, 0, &k, &ro) || k == 0) break;
            got += k;
            if (buf[got - 1] == '\n') break;
        }
        for (__wasi_size_t j = 0; j < got; j++)
            buf[j] = (char)toupper((unsigned char)buf[j]);
        {
            __wasi_ciovec_t cv = {(const uint8_t *)buf, got};
            (void)__wasi_sock_send(fd, &cv, 1, 0, &sent);
        }
        (void)__wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR);
        (void)__wasi_fd_close(fd);
        printf("served %u bytes\n", (unsigned)got);
    }
    return 0;
}
