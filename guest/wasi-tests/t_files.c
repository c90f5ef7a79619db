/* t_files.c — files and directories through libc: open flags, read/write,
 * seek, pread/pwrite, truncate, stat family, times, sync, advise/allocate,
 * mkdir/rmdir/unlink/rename/link/symlink/readlink, readdir with telldir/
 * seekdir (fd_readdir cookies), fcntl flags, and their error paths.
 * usage: t_files DIR */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *d = argc > 1 ? argv[1] : ".";
    char buf[256];
    struct stat st;
    int fd, fd2;
    ssize_t n;

    fd = open(P(d, "a.txt"), O_CREAT | O_RDWR | O_TRUNC, 0644);
    printf("open a.txt: %s\n", fd >= 0 ? "ok" : ename(errno));
    printf("write: %zd\n", write(fd, "hello, world\n", 13));
    printf("lseek cur: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("lseek set: %lld\n", (long long)lseek(fd, 7, SEEK_SET));
    n = read(fd, buf, sizeof buf);
    printf("read: %zd '%.*s'\n", n, (int)(n > 0 ? n - 1 : 0), buf);
    printf("lseek end: %lld\n", (long long)lseek(fd, -6, SEEK_END));
    SHOW("lseek bad whence", lseek(fd, 0, 42));
    SHOW("lseek negative", lseek(fd, -100, SEEK_SET));
    printf("pwrite: %zd\n", pwrite(fd, "W", 1, 7));
    n = pread(fd, buf, 5, 7);
    printf("pread: %zd '%.*s'\n", n, (int)n, buf);
    printf("pos after p*: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    SHOW("ftruncate 5", ftruncate(fd, 5));
    SHOW("fstat", fstat(fd, &st));
    printf("size %lld reg %d dir %d\n", (long long)st.st_size, S_ISREG(st.st_mode) != 0,
           S_ISDIR(st.st_mode) != 0);
    SHOW("fsync", fsync(fd));
    SHOW("fdatasync", fdatasync(fd));
    printf("posix_fadvise: %d\n", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    printf("posix_fallocate: %d\n", posix_fallocate(fd, 0, 64));
    SHOW("fstat", fstat(fd, &st));
    printf("size after fallocate %lld\n", (long long)st.st_size);
    {
        struct timespec t[2] = {{100, 5}, {200, 7}};
        SHOW("futimens", futimens(fd, t));
        fstat(fd, &st);
        printf("atime %lld.%ld mtime %lld.%ld\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
               (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        t[0].tv_nsec = UTIME_OMIT;
        t[1].tv_sec = 300;
        SHOW("utimensat", utimensat(AT_FDCWD, P(d, "a.txt"), t, 0));
        stat(P(d, "a.txt"), &st);
        printf("atime %lld mtime %lld\n", (long long)st.st_atim.tv_sec,
               (long long)st.st_mtim.tv_sec);
    }
    printf("F_GETFL append: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    SHOW("F_SETFL append", fcntl(fd, F_SETFL, O_APPEND));
    printf("F_GETFL append: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    write(fd, "END", 3);
    fstat(fd, &st);
    printf("size after append %lld\n", (long long)st.st_size);
    SHOW("close", close(fd));
    SHOW("close again", close(fd));
    SHOW("read closed", read(fd, buf, 1));

    /* open error paths */
    SHOW("open missing", open(P(d, "missing"), O_RDONLY));
    SHOW("open excl", open(P(d, "a.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    SHOW("open notdir", open(P(d, "a.txt/x"), O_RDONLY));
    SHOW("open dir for write", open(d, O_WRONLY));
    SHOW("open O_DIRECTORY on file", open(P(d, "a.txt"), O_RDONLY | O_DIRECTORY));
    fd = open(P(d, "a.txt"), O_RDONLY);
    SHOW("write to O_RDONLY", write(fd, "x", 1));
    close(fd);
    fd = open(P(d, "a.txt"), O_WRONLY);
    SHOW("read from O_WRONLY", read(fd, buf, 1));
    close(fd);

    /* directories */
    SHOW("mkdir sub", mkdir(P(d, "sub"), 0755));
    SHOW("mkdir sub again", mkdir(P(d, "sub"), 0755));
    SHOW("mkdir missing/x", mkdir(P(d, "missing/x"), 0755));
    SHOW("stat sub", stat(P(d, "sub"), &st));
    printf("sub is dir: %d\n", S_ISDIR(st.st_mode) != 0);
    fd = open(P(d, "sub/f1"), O_CREAT | O_WRONLY, 0644);
    close(fd);
    SHOW("rmdir nonempty", rmdir(P(d, "sub")));
    SHOW("unlink dir", unlink(P(d, "sub")));
    SHOW("rmdir file", rmdir(P(d, "sub/f1")));
    SHOW("rename", rename(P(d, "sub/f1"), P(d, "sub/f2")));
    SHOW("rename missing", rename(P(d, "sub/f1"), P(d, "sub/f3")));
    SHOW("rename file over dir", rename(P(d, "a.txt"), P(d, "sub")));
    SHOW("link", link(P(d, "sub/f2"), P(d, "sub/f3")));
    SHOW("link exists", link(P(d, "sub/f2"), P(d, "sub/f3")));
    stat(P(d, "sub/f3"), &st);
    printf("nlink %d\n", (int)st.st_nlink);
    SHOW("symlink", symlink("f2", P(d, "sub/ln")));
    SHOW("symlink exists", symlink("f2", P(d, "sub/ln")));
    n = readlink(P(d, "sub/ln"), buf, sizeof buf);
    printf("readlink: %zd '%.*s'\n", n, (int)(n > 0 ? n : 0), buf);
    SHOW("readlink on file", readlink(P(d, "sub/f2"), buf, sizeof buf));
    SHOW("lstat ln", lstat(P(d, "sub/ln"), &st));
    printf("ln is link: %d\n", S_ISLNK(st.st_mode) != 0);
    SHOW("stat ln", stat(P(d, "sub/ln"), &st));
    printf("ln target is reg: %d\n", S_ISREG(st.st_mode) != 0);
    SHOW("open ln nofollow", open(P(d, "sub/ln"), O_RDONLY | O_NOFOLLOW));
    SHOW("symlink dangling", symlink("nowhere", P(d, "sub/dang")));
    SHOW("stat dangling", stat(P(d, "sub/dang"), &st));
    SHOW("unlink dangling", unlink(P(d, "sub/dang")));

    /* readdir: sorted names; then telldir/seekdir */
    {
        DIR *dir;
        struct dirent *e;
        char *names[64];
        int k = 0, i;
        long pos = -1;
        for (i = 0; i < 20; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "sub/e%02d", i);
            close(open(P(d, nm), O_CREAT | O_WRONLY, 0644));
        }
        dir = opendir(P(d, "sub"));
        while ((e = readdir(dir)) != NULL && k < 64) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            names[k++] = strdup(e->d_name);
            if (k == 5) pos = telldir(dir);
        }
        qsort(names, (size_t)k, sizeof *names, cmp);
        printf("readdir %d:", k);
        for (i = 0; i < k; i++)
            printf(" %s", names[i]);
        printf("\n");
        {
            int rest = 0;
            seekdir(dir, pos);
            while ((e = readdir(dir)) != NULL)
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) rest++;
            printf("after seekdir: %d\n", rest <= k - 5 + 2 && rest >= k - 5 - 2 ? 1 : rest);
        }
        closedir(dir);
        for (i = 0; i < k; i++)
            free(names[i]);
    }
    SHOW("opendir file", opendir(P(d, "a.txt")) ? 0 : -1);

    /* dup2-like renumbering */
    fd = open(P(d, "a.txt"), O_RDONLY);
    fd2 = open(P(d, "sub/f2"), O_RDONLY);
#ifdef __wasi__
    {
#include <wasi/api.h>
        printf("renumber: %d\n", __wasi_fd_renumber((__wasi_fd_t)fd, (__wasi_fd_t)fd2));
    }
#else
    printf("renumber: %d\n", dup2(fd, fd2) == fd2 && close(fd) == 0 ? 0 : 1);
#endif
    n = read(fd2, buf, 5);
    printf("read renumbered: %zd '%.*s'\n", n, (int)(n > 0 ? n : 0), buf);
    SHOW("old fd closed", read(fd, buf, 1));
    close(fd2);
    SHOW("unlink", unlink(P(d, "a.txt")));
    SHOW("unlink again", unlink(P(d, "a.txt")));
    return 0;
}
