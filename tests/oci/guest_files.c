/* guest_files.c — WASI guest for tests/oci's kilnd mode: file operations
 * through the unit's "/" preopen (granted by kilnd in the daemon placement).
 *   ls DIR          one line "ent NAME" per entry (not . and ..)
 *   cat FILE        the file's bytes
 *   write FILE TEXT creates/truncates FILE with TEXT
 *   spin            prints "spinning", then opens and reads FILE /usr/bin/files
 *                   every 50 ms forever (authority calls that go to kilnd)
 * Errors print "error: OP PATH: MESSAGE" and exit 2. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int err(const char *op, const char *path)
{
    printf("error: %s %s: %s\n", op, path, strerror(errno));
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "ls") == 0) {
        DIR *d = opendir(argv[2]);
        struct dirent *e;
        if (d == NULL) return err("ls", argv[2]);
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                printf("ent %s\n", e->d_name);
        closedir(d);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "cat") == 0) {
        char buf[4096];
        ssize_t n;
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) return err("cat", argv[2]);
        while ((n = read(fd, buf, sizeof buf)) > 0)
            fwrite(buf, 1, (size_t)n, stdout);
        close(fd);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "write") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        size_t len = strlen(argv[3]);
        if (fd < 0) return err("write", argv[2]);
        if (write(fd, argv[3], len) != (ssize_t)len) return err("write", argv[2]);
        close(fd);
        printf("wrote %s\n", argv[2]);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "spin") == 0) {
        struct timespec ts = {0, 50000000};
        printf("spinning\n");
        fflush(stdout);
        for (;;) {
            char buf[64];
            int fd = open("/usr/bin/files", O_RDONLY);
            if (fd < 0) return err("open", "/usr/bin/files");
            if (read(fd, buf, sizeof buf) < 0) return err("read", "/usr/bin/files");
            close(fd);
            nanosleep(&ts, NULL);
        }
    }
    printf("usage: files ls DIR | cat FILE | write FILE TEXT | spin\n");
    return 1;
}
