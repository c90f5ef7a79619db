/* t_wasi_raw.c — every wasi_snapshot_preview1 function called directly, with
 * its error paths: bad fds, missing rights, bad pointers at the end of
 * memory, huge iovec counts, escapes from the preopen. WASI-only: its
 * expected output is t_wasi_raw.expected (checked against node's WASI).
 * usage: t_wasi_raw /w a "b c"  (preopen "/w" at fd 3, env K1=v1 K2="two words") */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
IMPORT(proc_raise) int32_t raw_proc_raise(int32_t sig);
IMPORT(fd_write) int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t out);
IMPORT(fd_read) int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t n, int32_t out);
IMPORT(path_open)
int32_t raw_path_open(int32_t fd, int32_t df, int32_t p, int32_t pl, int32_t of, int64_t rb,
                      int64_t ri, int32_t ff, int32_t out);
IMPORT(random_get) int32_t raw_random_get(int32_t p, int32_t l);
IMPORT(args_sizes_get) int32_t raw_args_sizes_get(int32_t a, int32_t b);
IMPORT(poll_oneoff) int32_t raw_poll_oneoff(int32_t in, int32_t out, int32_t n, int32_t ne);

static int step;
#define T(expr) printf("%02d %s = %d\n", ++step, #expr, (int)(expr))
#define FD 3
#define ALL ((__wasi_rights_t)0x1fffffffull)

static uint32_t mem_end(void)
{
    return (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
}

static __wasi_fd_t open_at(const char *p, __wasi_oflags_t of, __wasi_rights_t r, __wasi_errno_t *e)
{
    __wasi_fd_t fd = (__wasi_fd_t)-1;
    *e = __wasi_path_open(FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, p, of, r, ALL, 0, &fd);
    return fd;
}

int main(void)
{
    __wasi_size_t a, b, n;
    __wasi_timestamp_t ts;
    __wasi_prestat_t ps;
    __wasi_fdstat_t fs;
    __wasi_filestat_t st;
    __wasi_errno_t e;
    __wasi_fd_t fd, fd2;
    char buf[512], name[64];
    uint8_t *argv[8], *envv[8];
    char argbuf[256], envbuf[256];
    uint32_t end = mem_end();

    /* args / environ */
    T(__wasi_args_sizes_get(&a, &b));
    T(__wasi_args_get(argv, (uint8_t *)argbuf));
    printf("   argc %u rest %u argv[1] %s argv[2] %s argv[3] %s\n", (unsigned)a,
           (unsigned)(b - strlen((char *)argv[0]) - 1), (char *)argv[1], (char *)argv[2],
           (char *)argv[3]);
    T(__wasi_environ_sizes_get(&a, &b));
    printf("   envc %u bytes %u\n", (unsigned)a, (unsigned)b);
    T(__wasi_environ_get(envv, (uint8_t *)envbuf));
    printf("   env[0] %s\n", (char *)envv[0]);
    T(raw_args_sizes_get((int32_t)end - 2, 0));

    /* clocks, random, yield */
    T(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &ts));
    T(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &ts));
    printf("   realtime > 2020: %d\n", ts > 1577836800000000000ull);
    T(__wasi_clock_time_get(99, 1, &ts));
    T(__wasi_random_get((uint8_t *)buf, 16));
    T(raw_random_get((int32_t)end - 8, 9));
    T(raw_random_get((int32_t)end, 0));
    T(__wasi_sched_yield());
    T(raw_proc_raise(6) != 0);

    /* preopens */
    T(__wasi_fd_prestat_get(FD, &ps));
    printf("   tag %d len %u\n", ps.tag, (unsigned)ps.u.dir.pr_name_len);
    memset(name, 0, sizeof name);
    T(__wasi_fd_prestat_dir_name(FD, (uint8_t *)name, ps.u.dir.pr_name_len));
    printf("   name %s\n", name);
    T(__wasi_fd_prestat_get(1, &ps));
    T(__wasi_fd_prestat_get(77, &ps));

    /* stdio fdstat */
    T(__wasi_fd_fdstat_get(1, &fs));
    printf("   write right %d\n", (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
    T(__wasi_fd_fdstat_get(FD, &fs));
    printf("   preopen filetype %d\n", fs.fs_filetype);

    /* files */
    fd = open_at("f.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, ALL, &e);
    T(e);
    {
        __wasi_ciovec_t v[2] = {{(const uint8_t *)"0123456789", 10}, {(const uint8_t *)"ab", 2}};
        T(__wasi_fd_write(fd, v, 2, &n));
        printf("   wrote %u\n", (unsigned)n);
        T(__wasi_fd_pwrite(fd, v, 1, 100, &n));
    }
    T(__wasi_fd_tell(fd, &ts));
    printf("   tell %llu\n", (unsigned long long)ts);
    T(__wasi_fd_seek(fd, 2, __WASI_WHENCE_SET, &ts));
    {
        __wasi_iovec_t v = {(uint8_t *)buf, 4};
        T(__wasi_fd_read(fd, &v, 1, &n));
        printf("   read %u '%.4s'\n", (unsigned)n, buf);
        T(__wasi_fd_pread(fd, &v, 1, 8, &n));
        printf("   pread %u '%.*s'\n", (unsigned)n, (int)n, buf);
    }
    T(__wasi_fd_seek(fd, 0, 9, &ts));
    T(__wasi_fd_filestat_get(fd, &st));
    printf("   size %llu type %d nlink %llu\n", (unsigned long long)st.size, st.filetype,
           (unsigned long long)st.nlink);
    T(__wasi_fd_filestat_set_size(fd, 5));
    T(__wasi_fd_filestat_set_times(fd, 1000000000ull, 2000000000ull,
                                   __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    T(__wasi_fd_filestat_get(fd, &st));
    printf("   size %llu atim %llu mtim %llu\n", (unsigned long long)st.size,
           (unsigned long long)st.atim, (unsigned long long)st.mtim);
    T(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    T(__wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_WILLNEED));
    T(__wasi_fd_allocate(fd, 0, 4096));
    T(__wasi_fd_sync(fd));
    T(__wasi_fd_datasync(fd));
    T(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    T(__wasi_fd_fdstat_get(fd, &fs));
    printf("   flags %d\n", fs.fs_flags);
    T(__wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_TELL, 0));
    {
        __wasi_ciovec_t v = {(const uint8_t *)"x", 1};
        T(__wasi_fd_write(fd, &v, 1, &n));
    }
    T(__wasi_fd_fdstat_set_rights(fd, ALL, 0));
    T(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &ts));
    /* bounds */
    T(raw_fd_read(fd, (int32_t)end - 4, 1, 0));
    T(raw_fd_write(1, 0, 0x7fffffff, 16));
    T(__wasi_fd_close(fd));
    T(__wasi_fd_close(fd));
    T(raw_path_open(FD, 1, (int32_t)end - 2, 5, 0, (int64_t)ALL, (int64_t)ALL, 0, 16));

    /* directories and links */
    T(__wasi_path_create_directory(FD, "d"));
    T(__wasi_path_create_directory(FD, "d"));
    fd = open_at("d/g", __WASI_OFLAGS_CREAT, ALL, &e);
    T(e);
    T(__wasi_fd_close(fd));
    T(__wasi_path_remove_directory(FD, "d"));
    T(__wasi_path_unlink_file(FD, "d"));
    T(__wasi_path_rename(FD, "d/g", FD, "d/h"));
    T(__wasi_path_link(FD, 0, "d/h", FD, "d/i"));
    T(__wasi_path_filestat_get(FD, 0, "d/i", &st));
    printf("   nlink %llu\n", (unsigned long long)st.nlink);
    T(__wasi_path_symlink("h", FD, "d/s"));
    T(__wasi_path_readlink(FD, "d/s", (uint8_t *)buf, sizeof buf, &n));
    printf("   link '%.*s'\n", (int)n, buf);
    T(__wasi_path_filestat_get(FD, 0, "d/s", &st));
    printf("   type %d\n", st.filetype);
    T(__wasi_path_filestat_get(FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "d/s", &st));
    printf("   type %d\n", st.filetype);
    T(__wasi_path_filestat_set_times(FD, 0, "d/h", 0, 3000000000ull, __WASI_FSTFLAGS_MTIM));
    T(__wasi_path_filestat_get(FD, 0, "d/h", &st));
    printf("   mtim %llu\n", (unsigned long long)st.mtim);
    T(__wasi_path_open(FD, 0, "d/s", 0, ALL, ALL, 0, &fd2));
    T(__wasi_path_open(FD, 0, "d/h", __WASI_OFLAGS_DIRECTORY, ALL, ALL, 0, &fd2));
    T(__wasi_path_open(FD, 0, "missing", 0, ALL, ALL, 0, &fd2));
    T(__wasi_path_open(FD, 0, "d/h", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ALL, ALL, 0, &fd2));
    T(__wasi_path_unlink_file(FD, "d/s"));
    /* readdir with cookies */
    fd = open_at("d", __WASI_OFLAGS_DIRECTORY, ALL, &e);
    T(e);
    {
        __wasi_dircookie_t c = 0;
        int names = 0, rounds = 0;
        for (;;) {
            T(__wasi_fd_readdir(fd, (uint8_t *)buf, 40, c, &n) || 0);
            if (n == 0 || ++rounds > 10) break;
            {
                __wasi_dirent_t de;
                memcpy(&de, buf, sizeof de);
                if (buf[sizeof de] != '.') names++;
                c = de.d_next;
            }
            step--;
        }
        printf("   entries %d\n", names);
    }
    T(__wasi_fd_readdir(1, (uint8_t *)buf, sizeof buf, 0, &n));
    T(__wasi_fd_renumber(fd, FD + 10));
    fd2 = open_at("d", __WASI_OFLAGS_DIRECTORY, ALL, &e);
    T(e);
    T(__wasi_fd_renumber(fd, fd2));
    T(__wasi_fd_close(fd));
    T(__wasi_fd_close(fd2));

    /* escapes */
    T(__wasi_path_open(FD, 0, "../etc/passwd", 0, ALL, ALL, 0, &fd2) != 0);
    T(__wasi_path_open(FD, 0, "/etc/passwd", 0, ALL, ALL, 0, &fd2) != 0);
    T(__wasi_path_symlink("/etc", FD, "abs"));
    T(__wasi_path_open(FD, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs/passwd", 0, ALL, ALL, 0, &fd2) !=
      0);
    T(__wasi_path_unlink_file(FD, "abs"));
    T(__wasi_path_create_directory(FD, "../x") != 0);

    /* poll */
    {
        __wasi_subscription_t s[2];
        __wasi_event_t ev[2];
        memset(s, 0, sizeof s);
        s[0].userdata = 7;
        s[0].u.tag = __WASI_EVENTTYPE_CLOCK;
        s[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        s[0].u.u.clock.timeout = 1000000;
        T(__wasi_poll_oneoff(s, ev, 1, &n));
        printf("   events %u userdata %llu type %d error %d\n", (unsigned)n,
               (unsigned long long)ev[0].userdata, ev[0].type, ev[0].error);
        s[1].userdata = 8;
        s[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
        s[1].u.u.fd_write.file_descriptor = 1;
        T(__wasi_poll_oneoff(s, ev, 2, &n));
        printf("   events %u userdata %llu type %d\n", (unsigned)n,
               (unsigned long long)ev[0].userdata, ev[0].type);
        T(__wasi_poll_oneoff(s, ev, 0, &n));
        T(raw_poll_oneoff((int32_t)end - 40, 0, 1, 16));
    }

    /* sockets on things that are not sockets */
    T(__wasi_sock_accept(FD, 0, &fd2));
    {
        __wasi_iovec_t v = {(uint8_t *)buf, 4};
        __wasi_ciovec_t cv = {(const uint8_t *)buf, 4};
        __wasi_roflags_t ro;
        T(__wasi_sock_recv(77, &v, 1, 0, &n, &ro));
        T(__wasi_sock_send(77, &cv, 1, 0, &n));
    }
    T(__wasi_sock_shutdown(77, __WASI_SDFLAGS_WR));

    T(__wasi_path_unlink_file(FD, "d/h"));
    T(__wasi_path_unlink_file(FD, "d/i"));
    T(__wasi_path_remove_directory(FD, "d"));
    T(__wasi_path_unlink_file(FD, "f.txt"));
    fflush(stdout);
    __wasi_proc_exit(3);
}
