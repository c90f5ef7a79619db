/*
 * test_config.c — the stub config parser (src/stub/config.c): ownership and
 * mode rules, syntax, unknown keys, and that *out is untouched on failure.
 *
 *   test_stub_config      runs every case in a temporary directory
 *
 * Ownership cases need root (they chown to nobody); as non-root they are
 * skipped with a note.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/stub.h"

static int failures;
static char dir[] = "/tmp/kiln-stub-config-XXXXXX";

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL: %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Writes a config file with mode and returns its path (static buffer). */
static const char *put(const char *name, const void *text, size_t len, mode_t mode)
{
    static char path[512];
    int fd;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        perror(path);
        exit(1);
    }
    close(fd);
    chmod(path, mode);
    return path;
}

/* put() for a NUL-terminated text. */
static const char *put_text(const char *name, const char *text, mode_t mode)
{
    return put(name, text, strlen(text), mode);
}

/* Loads path; returns the negative code or 0, fills *cfg. */
static int load(const char *path, struct kiln_stub_config *cfg, struct kiln_error *err)
{
    memset(err, 0, sizeof *err);
    strcpy(cfg->audit, "untouched");
    return kiln_stub_config_load(path, cfg, err);
}

int main(void)
{
    struct kiln_stub_config cfg;
    struct kiln_error err;
    const char *p;
    char big[70000];
    int rc;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    /* missing: defaults */
    snprintf(big, sizeof big, "%s/none.conf", dir);
    rc = load(big, &cfg, &err);
    CHECK(rc == 0 && cfg.audit[0] == 0, "missing file: rc %d audit '%s'", rc, cfg.audit);

    /* comments, blank lines, spaces, CRLF */
    p = put_text("ok.conf", "# kiln-stub\n\n  audit\t=  /var/log/kiln/audit.jsonl  \r\n# end\n",
                 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == 0, "valid: %s", err.msg);
    CHECK(strcmp(cfg.audit, "/var/log/kiln/audit.jsonl") == 0, "audit '%s'", cfg.audit);

    /* empty file: defaults */
    p = put_text("empty.conf", "", 0600);
    rc = load(p, &cfg, &err);
    CHECK(rc == 0 && cfg.audit[0] == 0, "empty: %s", err.msg);

    /* unknown key, named with its line */
    p = put_text("unknown.conf", "audit = /a\n\nadit = /b\n", 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_MALFORMED && strstr(err.msg, ":3: unknown key \"adit\"") != NULL,
          "unknown key: rc %d %s", rc, err.msg);
    CHECK(strcmp(cfg.audit, "untouched") == 0, "out changed on failure");

    /* no '=' */
    p = put_text("noeq.conf", "audit /x\n", 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_MALFORMED && strstr(err.msg, ":1: expected") != NULL, "no '=': %s",
          err.msg);

    /* relative and empty paths */
    p = put_text("rel.conf", "audit = x.jsonl\n", 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_INVALID, "relative audit path: rc %d %s", rc, err.msg);
    p = put_text("emptyval.conf", "audit =\n", 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_INVALID, "empty audit path: rc %d %s", rc, err.msg);

    /* too long a path */
    memset(big, 'a', sizeof big);
    memcpy(big, "audit = /", 9);
    p = put("longpath.conf", big, 9 + 5000, 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_INVALID, "over-long path: rc %d %s", rc, err.msg);

    /* NUL byte, oversized file */
    p = put("nul.conf", "audit = /a\0b\n", 13, 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_MALFORMED && strstr(err.msg, "NUL") != NULL, "NUL: %s", err.msg);
    memset(big, '#', sizeof big);
    p = put("big.conf", big, sizeof big, 0644);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_MALFORMED && strstr(err.msg, "larger") != NULL, "oversized: %s", err.msg);

    /* writable by group or others */
    p = put_text("gw.conf", "audit = /a\n", 0664);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_DENIED, "group-writable: rc %d %s", rc, err.msg);
    p = put_text("ow.conf", "audit = /a\n", 0646);
    rc = load(p, &cfg, &err);
    CHECK(rc == -KILN_E_DENIED, "other-writable: rc %d %s", rc, err.msg);

    /* a symlink is not followed; a directory is not a config */
    p = put_text("target.conf", "audit = /a\n", 0644);
    snprintf(big, sizeof big, "%s/link.conf", dir);
    CHECK(symlink(p, big) == 0, "symlink");
    rc = load(big, &cfg, &err);
    CHECK(rc == -KILN_E_IO && err.sys_errno == ELOOP, "symlink: rc %d %s", rc, err.msg);
    rc = load(dir, &cfg, &err);
    CHECK(rc == -KILN_E_DENIED, "directory: rc %d %s", rc, err.msg);

    /* not owned by root */
    if (geteuid() == 0) {
        p = put_text("nobody.conf", "audit = /a\n", 0644);
        CHECK(chown(p, 65534, 65534) == 0, "chown");
        rc = load(p, &cfg, &err);
        CHECK(rc == -KILN_E_DENIED && strstr(err.msg, "owned by root") != NULL,
              "not root-owned: rc %d %s", rc, err.msg);
    } else {
        printf("note: not root, ownership case skipped\n");
    }

    snprintf(big, sizeof big, "rm -rf '%s'", dir);
    if (system(big) != 0) fprintf(stderr, "note: could not remove %s\n", dir);
    if (failures == 0) printf("stub config: ok\n");
    return failures ? 1 : 0;
}
