/* native_hello.c — a native (non-unit) program for tests/oci. kiln-oci must
 * refuse it unless the config allows native entries. Without arguments it
 * prints "native hello" and exits 5; "probe" prints what the container looks
 * like from inside (one "key: value" line each), so tests can check the
 * namespaces, mounts and hardening kiln-oci set up (it writes files: run it
 * only inside a container); "connect ABSTRACT" only tries to connect to the
 * abstract unix socket ABSTRACT; "fork N" starts N sleeping children. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *result(int rc)
{
    static char buf[64];
    if (rc == 0) return "ok";
    snprintf(buf, sizeof buf, "%s", strerror(errno));
    return buf;
}

int main(int argc, char **argv)
{
    struct utsname u;
    DIR *d;
    struct dirent *de;
    int fd, nfds = 0;
    if (argc > 2 && strcmp(argv[1], "connect") == 0) {
        /* connect ABSTRACT: only the abstract socket check, nothing written */
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        size_t n = strlen(argv[2]);
        memcpy(a.sun_path + 1, argv[2], n);
        printf("abstract connect: %s\n",
               result(connect(s, (struct sockaddr *)&a, (socklen_t)(sizeof(sa_family_t) + 1 + n))));
        close(s);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "fork") == 0) {
        /* fork N: start N sleeping children (pids limit); prints how many */
        int want = atoi(argv[2]), got = 0, err = 0;
        for (int i = 0; i < want; i++) {
            pid_t p = fork();
            if (p == 0) {
                sleep(30);
                _exit(0);
            }
            if (p < 0) {
                err = errno;
                break;
            }
            got++;
        }
        printf("forked %d of %d%s%s\n", got, want, err ? ": " : "", err ? strerror(err) : "");
        fflush(stdout);
        return got == want ? 0 : 4;
    }
    if (argc < 2 || strcmp(argv[1], "probe") != 0) {
        printf("native hello\n");
        return 5;
    }
    uname(&u);
    printf("hostname: %s\n", u.nodename);
    printf("pid: %d\n", (int)getpid());
    printf("uid: %d\n", (int)getuid());
    printf("cwd: %s\n", getcwd((char[4096]){0}, 4096));
    printf("nnp: %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    d = opendir("/proc/self/fd");
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && atoi(de->d_name) > 2 && atoi(de->d_name) != dirfd(d)) nfds++;
    if (d) closedir(d);
    printf("extra fds: %d\n", nfds);
    {
        /* masked paths: a file reads empty, a directory is empty */
        char buf[4096];
        long total = 0, n, ents = 0;
        fd = open("/proc/timer_list", O_RDONLY);
        while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
            total += n;
        if (fd >= 0) close(fd);
        printf("timer_list bytes: %ld\n", fd >= 0 ? total : -1L);
        d = opendir("/sys/firmware");
        while (d && (de = readdir(d)))
            if (de->d_name[0] != '.') ents++;
        if (d) closedir(d);
        printf("sys/firmware entries: %ld\n", d ? ents : -1L);
    }
    {
        /* the process's cgroups as its cgroup namespace shows them */
        char line[512];
        FILE *f = fopen("/proc/self/cgroup", "r");
        while (f && fgets(line, sizeof line, f)) {
            char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
            if (!p) continue;
            *p = 0;
            line[strcspn(p + 1, "\n") + (size_t)(p + 1 - line)] = 0;
            printf("cgroup %s: %s\n", c + 1, p + 1);
        }
        if (f) fclose(f);
    }
    fd = open("/proc/sys/kernel/hostname", O_WRONLY);
    printf("write /proc/sys: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    fd = open("/probe-file", O_WRONLY | O_CREAT, 0644);
    printf("write /: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    fd = open("/tmp/probe-file", O_WRONLY | O_CREAT, 0644);
    printf("write /tmp: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    printf("dev/null: %s\n", access("/dev/null", W_OK) == 0 ? "ok" : strerror(errno));
    printf("trust store: %s\n", access("/etc/kiln/trust", R_OK) == 0 ? "ok" : strerror(errno));
    fd = open("/etc/kiln/trust/x", O_WRONLY | O_CREAT, 0644);
    printf("write trust store: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0) close(fd);
    return 0;
}
