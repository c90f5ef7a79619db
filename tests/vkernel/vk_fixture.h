/*
 * vk_fixture.h — shared fixture for vkernel tests: a temporary tree
 *   T/root/        mounted at "/" (guest fd 3)
 *   T/outside/     never reachable; holds "secret"
 * and helpers to read the audit log (a pipe-free temp file).
 */
#ifndef KILN_TESTS_VK_FIXTURE_H
#define KILN_TESTS_VK_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln/vkernel.h"

struct fx {
    char top[256];
    char root[300];
    char outside[300];
    char audit[300];
    struct kiln_vk *vk;
    int rootfd; /* guest fd of "/" */
};

static int fx_rm(const char *p, const struct stat *s, int f, struct FTW *w)
{
    (void)s;
    (void)f;
    (void)w;
    return remove(p);
}

static void fx_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static char *fx_read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *b;
    long n;
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = calloc(1, (size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) b[0] = 0;
    fclose(f);
    return b;
}

static int fx_setup_flags(struct fx *x, unsigned mflags)
{
    char p[512];
    struct kiln_error err;
    snprintf(x->top, sizeof x->top, "/tmp/kiln-vk-XXXXXX");
    if (mkdtemp(x->top) == NULL) return -1;
    snprintf(x->root, sizeof x->root, "%s/root", x->top);
    snprintf(x->outside, sizeof x->outside, "%s/outside", x->top);
    snprintf(x->audit, sizeof x->audit, "%s/audit.jsonl", x->top);
    mkdir(x->root, 0755);
    mkdir(x->outside, 0755);
    snprintf(p, sizeof p, "%s/secret", x->outside);
    fx_write(p, "SECRET\n");
    snprintf(p, sizeof p, "%s/hello.txt", x->root);
    fx_write(p, "hello world\n");
    snprintf(p, sizeof p, "%s/sub", x->root);
    mkdir(p, 0755);
    if (kiln_vk_new(&x->vk, &err) < 0) return -1;
    if (kiln_vk_open_audit(x->vk, x->audit, &err) < 0) return -1;
    x->rootfd = kiln_vk_mount(x->vk, x->root, "/", mflags, &err);
    return x->rootfd;
}

static int fx_setup(struct fx *x)
{
    return fx_setup_flags(x, 0);
}

static void fx_teardown(struct fx *x)
{
    kiln_vk_free(x->vk);
    nftw(x->top, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Number of audit lines containing needle. */
static int fx_audit_count(struct fx *x, const char *needle)
{
    char *a = fx_read_all(x->audit), *p = a;
    int n = 0;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    free(a);
    return n;
}

#define S(str) (str), strlen(str)

#endif
