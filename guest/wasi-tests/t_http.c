/* t_http.c — a minimal HTTP/1.1 server on a preopened listening socket
 * (`kiln exec --listen tcp:ADDR:PORT t_http.wasm N`): serves N requests
 * (0 = forever), one connection at a time, each answered with a small body
 * naming the request path, then "Connection: close". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

static int send_all(__wasi_fd_t fd, const char *p, size_t n)
{
    while (n > 0) {
        __wasi_ciovec_t v = {(const uint8_t *)p, n};
        __wasi_size_t k;
        if (__wasi_sock_send(fd, &v, 1, 0, &k) != 0 || k == 0) return -1;
        p += k;
        n -= k;
    }
    return 0;
}

int main(int argc, char **argv)
{
    __wasi_fd_t lfd, fd;
    __wasi_fdstat_t st;
    long i, n = argc > 1 ? atol(argv[1]) : 0;
    for (lfd = 3; lfd < 16; lfd++)
        if (__wasi_fd_fdstat_get(lfd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM)
            break;
    if (lfd == 16) {
        fprintf(stderr, "no listening socket\n");
        return 2;
    }
    for (i = 0; n == 0 || i < n; i++) {
        char req[4096], path[256] = "/", resp[1024], body[512];
        size_t got = 0;
        int bl, hl;
        if (__wasi_sock_accept(lfd, 0, &fd) != 0) return 1;
        while (got < sizeof req - 1) {
            __wasi_iovec_t v = {(uint8_t *)req + got, sizeof req - 1 - got};
            __wasi_size_t k;
            __wasi_roflags_t ro;
            if (__wasi_sock_recv(fd, &v, 1, 0, &k, &ro) != 0 || k == 0) break;
            got += k;
            req[got] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        req[got] = 0;
        sscanf(req, "GET %255s", path);
        bl = snprintf(body, sizeof body, "hello from kiln: %s (request %ld)\n", path, i + 1);
        hl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n%s",
                      bl, body);
        send_all(fd, resp, (size_t)hl);
        (void)__wasi_sock_shutdown(fd, __WASI_SDFLAGS_WR);
        (void)__wasi_fd_close(fd);
    }
    printf("served %ld requests\n", i);
    return 0;
}
