/*
 * test_landlock.c — the second wall: after kiln_vk_confine() the process
 * itself (not only the vkernel) can reach nothing but the mounts, read-only
 * ones only for reading, and can neither bind nor connect TCP sockets. Each
 * case runs in a child process (confinement is irreversible).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <dirent.h>
#include <sys/wait.h>

#include "../vkernel/vk_fixture.h"

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    if (fx_setup(x) < 0) return -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx_teardown(*state);
    free(*state);
    return 0;
}

/* Runs fn in a child; returns its exit status (0 = all checks held). */
static int in_child(struct fx *x, int (*fn)(struct fx *))
{
    int st;
    pid_t p = fork();
    if (p == 0) _exit(fn(x));
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int confined(struct fx *x)
{
    struct kiln_error err;
    char p[600];
    int fd, s;
    struct sockaddr_in sa;
    char ro[600];
    snprintf(ro, sizeof ro, "%s/rodir", x->top);
    mkdir(ro, 0755);
    if (kiln_vk_mount(x->vk, ro, "/ro", KILN_VK_MOUNT_RO, &err) < 0) return 1;
    if (kiln_vk_confine(x->vk, &err) < 0) return 77; /* no Landlock here */
    /* the host process itself cannot read outside */
    snprintf(p, sizeof p, "%s/secret", x->outside);
    if (open(p, O_RDONLY) >= 0 || errno != EACCES) return 2;
    if (open("/etc/passwd", O_RDONLY) >= 0) return 3;
    snprintf(p, sizeof p, "%s/new", x->outside);
    if (open(p, O_CREAT | O_WRONLY, 0644) >= 0) return 4;
    /* inside works, through the vkernel and directly */
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    if (fd < 0) return 5;
    fd = kiln_vk_openat(x->vk, x->rootfd, S("made"), O_CREAT | O_RDWR, 0644);
    if (fd < 0) return 6;
    /* a read-only mount is read-only for the process too (mounts nested in
     * a writable one share its rights: Landlock rights accumulate) */
    snprintf(p, sizeof p, "%s/x", ro);
    if (open(p, O_CREAT | O_WRONLY, 0644) >= 0) return 7;
    if (opendir(ro) == NULL) return 9;
    /* no TCP bind / connect */
    s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) == 0) return 8;
    return 0;
}

static void test_confined(void **state)
{
    struct fx *x = *state;
    int r = in_child(x, confined);
    if (r == 77) skip();
    assert_int_equal(r, 0);
    assert_int_equal(fx_audit_count(x, "\"event\":\"confine\",\"landlock_abi\""), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_confined, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
