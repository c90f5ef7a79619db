/*
 * fuzz_path.c — libFuzzer target: random operations with random paths
 * against a vkernel whose root is a temporary directory; a sibling directory
 * holds a sentinel that must never be read, changed or joined by anything.
 * Input: a sequence of records [op byte][len byte][path bytes][len2][path2].
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kiln/vkernel.h"

static char top[64], outside[96], sentinel[128];
static struct kiln_vk *vk;
static int rootfd;

static void check_outside(void)
{
    struct stat st;
    DIR *d = opendir(outside);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        n++;
    if (d) closedir(d);
    if (n != 3 || stat(sentinel, &st) != 0 || st.st_size != 7 || st.st_nlink != 1) __builtin_trap();
}

static void init(void)
{
    struct kiln_error err;
    char root[96];
    FILE *f;
    snprintf(top, sizeof top, "/tmp/kiln-fuzz-XXXXXX");
    if (mkdtemp(top) == NULL) abort();
    snprintf(root, sizeof root, "%s/root", top);
    snprintf(outside, sizeof outside, "%s/outside", top);
    snprintf(sentinel, sizeof sentinel, "%s/secret", outside);
    mkdir(root, 0755);
    mkdir(outside, 0755);
    f = fopen(sentinel, "w");
    fputs("SECRET\n", f);
    fclose(f);
    symlinkat("../outside", open(root, O_RDONLY), "out");
    symlinkat(sentinel, open(root, O_RDONLY), "abs");
    kiln_vk_new(&vk, &err);
    rootfd = kiln_vk_mount(vk, root, "/", 0, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 0;
    static const char *const dict[] = {"..", "../", "out", "abs", "/", ".", "secret", "x/"};
    if (vk == NULL) init();
    while (i + 2 <= size) {
        char a[512], b[512];
        size_t la, lb = 0, k;
        uint8_t op = data[i++];
        la = data[i++] % 64;
        for (k = 0; k < la && i < size; k++, i++)
            a[k] = data[i] < 8 ? dict[data[i]][0] : (char)data[i];
        la = k;
        if (i < size) {
            lb = data[i++] % 64;
            for (k = 0; k < lb && i < size; k++, i++)
                b[k] = (char)data[i];
            lb = k;
        }
        switch (op % 10) {
        case 0: {
            int fd = kiln_vk_openat(vk, rootfd, a, la, (op >> 4) & 3 ? O_RDWR | O_CREAT : O_RDONLY,
                                    0644);
            if (fd >= 0) {
                char buf[16] = {0};
                struct iovec v = {buf, sizeof buf - 1};
                kiln_vk_readv(vk, fd, &v, 1);
                if (strstr(buf, "SECRET")) __builtin_trap();
                kiln_vk_close(vk, fd);
            }
            break;
        }
        case 1:
            kiln_vk_mkdirat(vk, rootfd, a, la, 0755);
            break;
        case 2:
            kiln_vk_unlinkat(vk, rootfd, a, la, (op >> 4) & 1 ? AT_REMOVEDIR : 0);
            break;
        case 3:
            kiln_vk_renameat(vk, rootfd, a, la, rootfd, b, lb);
            break;
        case 4:
            kiln_vk_linkat(vk, rootfd, a, la, rootfd, b, lb, (op >> 4) & 1 ? AT_SYMLINK_FOLLOW : 0);
            break;
        case 5:
            kiln_vk_symlinkat(vk, b, lb, rootfd, a, la);
            break;
        case 6: {
            struct stat st;
            kiln_vk_fstatat(vk, rootfd, a, la, &st, (op >> 4) & 1 ? AT_SYMLINK_NOFOLLOW : 0);
            break;
        }
        case 7: {
            char buf[64];
            kiln_vk_readlinkat(vk, rootfd, a, la, buf, sizeof buf);
            break;
        }
        case 8: {
            struct timespec t[2] = {{0, UTIME_OMIT}, {1, 0}};
            kiln_vk_utimensat(vk, rootfd, a, la, t, 0);
            break;
        }
        default: {
            int fd = kiln_vk_openat(vk, rootfd, a, la, O_RDONLY | O_DIRECTORY, 0);
            if (fd >= 0) {
                char buf[1024];
                kiln_vk_getdents(vk, fd, 0, buf, sizeof buf);
                kiln_vk_openat(vk, fd, b, lb, O_RDONLY, 0);
                kiln_vk_close(vk, fd);
            }
            break;
        }
        }
        check_outside();
    }
    /* keep the fd table small across runs */
    for (int fd = 1; fd < kiln_vk_fd_limit(vk); fd++)
        if (kiln_vk_fd_get(vk, fd) != NULL) kiln_vk_close(vk, fd);
    return 0;
}
