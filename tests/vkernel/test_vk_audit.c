/*
 * test_vk_audit.c — the audit log: every line is one JSON object with ts,
 * seq (1, 2, ...), pid and event; the exit summary carries per-call
 * counters; events already written survive a crash of the process (each is
 * one write(2), nothing buffered).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "vk_fixture.h"

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

/* Parses every line; returns the number of events, checks common members. */
static int check_lines(struct fx *x, json_t **last)
{
    char *all = fx_read_all(x->audit), *line = all, *nl;
    int n = 0;
    while ((nl = strchr(line, '\n')) != NULL) {
        json_error_t je;
        json_t *ev;
        *nl = 0;
        ev = json_loads(line, 0, &je);
        if (ev == NULL) fail_msg("line %d not JSON: %s (%s)", n + 1, line, je.text);
        assert_true(json_is_string(json_object_get(ev, "ts")));
        assert_true(json_is_string(json_object_get(ev, "event")));
        assert_int_equal(json_integer_value(json_object_get(ev, "seq")), n + 1);
        assert_int_equal(json_integer_value(json_object_get(ev, "pid")), getpid());
        n++;
        if (last) {
            if (*last) json_decref(*last);
            *last = ev;
        } else {
            json_decref(ev);
        }
        line = nl + 1;
    }
    assert_int_equal(*line, 0); /* no partial line */
    free(all);
    return n;
}

static void test_events_and_summary(void **state)
{
    struct fx *x = *state;
    json_t *last = NULL, *sc;
    int fd;
    char weird[] = "we\"ird\\name\n\x01\xff";
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    kiln_vk_close(x->vk, fd);
    kiln_vk_openat(x->vk, x->rootfd, S("../escape"), O_RDONLY, 0);
    kiln_vk_mkdirat(x->vk, x->rootfd, S(weird), 0755);
    kiln_vk_renameat(x->vk, x->rootfd, S(weird), x->rootfd, S("plain"));
    kiln_vk_exec_memory(x->vk, "mmap", 0, 4096, 7);
    kiln_vk_exit(x->vk, 3, "exit");
    kiln_vk_exit(x->vk, 4, "twice");            /* ignored */
    assert_int_equal(check_lines(x, &last), 7); /* mount open deny mkdir rename exec-memory exit */
    assert_string_equal(json_string_value(json_object_get(last, "event")), "exit");
    assert_int_equal(json_integer_value(json_object_get(last, "code")), 3);
    assert_int_equal(json_integer_value(json_object_get(last, "denials")), 2);
    sc = json_object_get(last, "syscalls");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sc, "openat"), "calls")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sc, "openat"), "errors")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sc, "close"), "calls")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sc, "mmap"), "errors")), 1);
    json_decref(last);
    assert_int_equal(fx_audit_count(x, "\"path\":\"/we\\\"ird\\\\name\\u000a\\u0001\\u00ff\""), 1);
}

static void test_survives_crash(void **state)
{
    struct fx *x = *state;
    pid_t pid = fork();
    int status, i;
    if (pid == 0) {
        for (i = 0; i < 50; i++) {
            int fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
            kiln_vk_close(x->vk, fd);
        }
        raise(SIGKILL);
        _exit(0);
    }
    assert_true(waitpid(pid, &status, 0) == pid);
    assert_true(WIFSIGNALED(status));
    /* 1 mount line from the parent + 50 opens from the child, all complete */
    assert_int_equal(fx_audit_count(x, "\"event\":\"open\""), 50);
    {
        char *all = fx_read_all(x->audit);
        size_t l = strlen(all);
        assert_true(l > 0 && all[l - 1] == '\n');
        free(all);
    }
}

static void set_policy(struct fx *x, const char *json)
{
    struct kiln_vk_policy *p;
    struct kiln_error err;
    assert_int_equal(kiln_vk_policy_parse(json, strlen(json), "t", &p, &err), 0);
    kiln_vk_set_policy(x->vk, p);
}

static void test_levels(void **state)
{
    struct fx *x = *state;
    int fd;
    set_policy(x, "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},\"audit\":\"denials\","
                  "\"filesystem\":[{\"path\":\"/\",\"mode\":\"rw\"}]}");
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_true(fd >= 0);
    kiln_vk_mkdirat(x->vk, x->rootfd, S("newdir"), 0755);
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("../x"), O_RDONLY, 0), -EPERM);
    assert_int_equal(fx_audit_count(x, "\"event\":\"open\""), 0);
    assert_int_equal(fx_audit_count(x, "\"event\":\"mkdir\""), 0);
    assert_int_equal(fx_audit_count(x, "\"event\":\"deny\""), 1);
    set_policy(x, "{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},\"audit\":\"none\"}");
    assert_int_equal(kiln_vk_openat(x->vk, x->rootfd, S("../x"), O_RDONLY, 0), -EPERM);
    assert_int_equal(fx_audit_count(x, "\"event\":\"deny\""), 1);
    kiln_vk_exit(x->vk, 0, NULL);
    assert_int_equal(fx_audit_count(x, "\"event\":\"exit\""), 1);
}

static void test_no_sink(void **state)
{
    struct fx *x = *state;
    int fd;
    kiln_vk_set_audit_fd(x->vk, -1);
    fd = kiln_vk_openat(x->vk, x->rootfd, S("hello.txt"), O_RDONLY, 0);
    assert_true(fd >= 0);
    kiln_vk_exit(x->vk, 0, NULL);
    assert_int_equal(fx_audit_count(x, "\"event\""), 1); /* only the mount */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_and_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
