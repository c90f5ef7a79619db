/*
 * hooks.c — OCI lifecycle hooks run by the runtime (oci.h).
 *
 * Supported: createRuntime and prestart (deprecated; both run in the
 * runtime's namespaces after the container's namespaces and cgroup exist
 * and before pivot_root; a failure fails create), poststart (after start;
 * a failure is logged, the container keeps running) and poststop (after
 * delete; logged). createContainer and startContainer, which run inside
 * the container's namespaces, are refused at create so that nothing a
 * config asks for is silently skipped.
 *
 * A hook gets the container's state JSON on stdin, its own args and env,
 * and is killed after its timeout (seconds; none = no limit).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

static const char *const kinds[] = {"prestart",       "createRuntime", "createContainer",
                                    "startContainer", "poststart",     "poststop"};

static void free_strv(char **v)
{
    if (!v) return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static char **strv(json_t *a)
{
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    char **v = calloc(n + 1, sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !(v[i] = strdup(s))) {
            free_strv(v);
            return NULL;
        }
    }
    return v;
}

int oci_hooks_parse(struct json_t *hooks, struct oci_hooks *out, struct kiln_error *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(hooks)) return 0;
    for (int k = 0; k < OCI_HOOK_KINDS; k++) {
        json_t *a = json_object_get(hooks, kinds[k]), *h;
        size_t i;
        if (!json_is_array(a) || json_array_size(a) == 0) continue;
        if (k == OCI_HOOK_CREATE_CONTAINER || k == OCI_HOOK_START_CONTAINER)
            return kiln_error_set(err, KILN_E_UNSUPPORTED,
                                  "config: hooks.%s: not supported by kiln-oci yet", kinds[k]);
        out->h[k] = calloc(json_array_size(a), sizeof *out->h[k]);
        if (!out->h[k]) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        json_array_foreach(a, i, h)
        {
            struct oci_hook *d = &out->h[k][i];
            const char *path = json_string_value(json_object_get(h, "path"));
            out->n[k]++;
            if (!path || path[0] != '/')
                return kiln_error_set(err, KILN_E_INVALID,
                                      "config: hooks.%s[%zu].path: must be absolute", kinds[k], i);
            d->path = strdup(path);
            if (json_is_array(json_object_get(h, "args"))) {
                d->args = strv(json_object_get(h, "args"));
            } else { /* argv[0] defaults to the path */
                json_t *one = json_pack("[s]", path);
                d->args = strv(one);
                json_decref(one);
            }
            d->env = strv(json_object_get(h, "env"));
            d->timeout = (int)json_integer_value(json_object_get(h, "timeout"));
            if (!d->path || !d->args || !d->env)
                return kiln_error_set(err, KILN_E_MALFORMED, "config: hooks.%s[%zu]", kinds[k], i);
        }
    }
    return 0;
}

void oci_hooks_free(struct oci_hooks *h)
{
    if (!h) return;
    for (int k = 0; k < OCI_HOOK_KINDS; k++) {
        for (size_t i = 0; i < h->n[k]; i++) {
            free(h->h[k][i].path);
            free_strv(h->h[k][i].args);
            free_strv(h->h[k][i].env);
        }
        free(h->h[k]);
    }
    memset(h, 0, sizeof *h);
}

/* Runs one hook with state on stdin; 0 when it exits 0. */
static int run_one(const struct oci_hook *h, const char *state, struct kiln_error *err)
{
    int in[2], st = 0;
    pid_t pid, w;
    time_t start = time(NULL);
    size_t len = strlen(state), off = 0;
    if (pipe2(in, O_CLOEXEC) < 0) return kiln_error_sys(err, errno, "%s: pipe", h->path);
    pid = fork();
    if (pid < 0) {
        close(in[0]);
        close(in[1]);
        return kiln_error_sys(err, errno, "%s: fork", h->path);
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        if (null >= 0) {
            /* stdout/stderr are the container's stdio here: keep them clean */
            dup2(null, 1);
            dup2(null, 2);
        }
        execve(h->path, h->args, h->env);
        _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    while (off < len) {
        ssize_t n = write(in[1], state + off, len - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    close(in[1]);
    for (;;) {
        w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return kiln_error_sys(err, errno, "%s: wait", h->path);
        if (h->timeout > 0 && time(NULL) - start >= h->timeout) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return kiln_error_set(err, KILN_E_IO, "%s: timed out after %d s", h->path, h->timeout);
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
    if (WIFEXITED(st))
        return kiln_error_set(err, KILN_E_IO, "%s: exit status %d", h->path, WEXITSTATUS(st));
    return kiln_error_set(err, KILN_E_IO, "%s: killed by signal %d", h->path, WTERMSIG(st));
}

int oci_hooks_run(const struct oci_hooks *h, int kind, const char *id, pid_t pid,
                  const char *status, const char *bundle, const char *annotations,
                  struct kiln_error *err)
{
    json_t *j;
    char *state;
    int rc = 0;
    if (!h || h->n[kind] == 0) return 0;
    j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", KILN_OCI_SPEC_VERSION, "id", id,
                  "status", status, "pid", (int)pid, "bundle", bundle);
    if (!j) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    json_object_set_new(j, "annotations", json_loads(annotations ? annotations : "{}", 0, NULL));
    state = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!state) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    for (size_t i = 0; i < h->n[kind] && rc == 0; i++)
        rc = run_one(&h->h[kind][i], state, err);
    free(state);
    if (rc < 0) kiln_error_prefix(err, "%s hook", kinds[kind]);
    return rc;
}
