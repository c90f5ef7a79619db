/*
 * run_verify.c — everything `kiln run` checks before any guest code exists
 * (docs/image.md "Run"):
 *   1. the manifest carries dev.kiln.converted; its OCI 1.1 attestation
 *      referrer is read (digest-checked), parses as a DSSE envelope and is
 *      signed by a trusted, non-revoked key (kiln_dsse_verify_trusted);
 *   2. the statement is an in-toto v1 statement with kiln's image predicate;
 *      its baseLayers equal the image's layers below the kiln layer;
 *   3. the rootfs, cached by manifest digest in a directory only this user
 *      can write, is extracted (every digest checked) on first use;
 *   4. /.kiln/attestation.json in the rootfs is byte-identical to the
 *      referrer, and every subject (units, policy) is bound to its signed
 *      digest — by hashing it, or by the verified-cache index when the file's
 *      stat identity is unchanged since it was hashed (run_index.c);
 *   5. the entrypoint resolves (inside the rootfs) to a subject, and that
 *      unit verifies on its own (kiln_unit_verify_fd_attested: its own
 *      signature, layout and versions; its bytes are the attested ones, so
 *      its regions are not hashed a second time).
 * Every failure is a refusal (exit 126).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cmd/run_internal.h"

#define IMAGE_PREDICATE "https://kiln.dev/image/v1"

/* Contract in run_internal.h. */
uint64_t kiln__run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int open_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    long r = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    return r < 0 ? -errno : (int)r;
}

/* Reads all of the regular file fd (at most 4 GiB) into a malloc'd buffer. */
static int read_all(int fd, uint8_t **out, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    size_t got = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1ll << 32)) return -EINVAL;
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) return -ENOMEM;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got != (size_t)st.st_size) {
        free(buf);
        return -EIO;
    }
    *out = buf;
    *len = got;
    return 0;
}

/* The guest path of an fd opened beneath rootreal. */
static int guest_path_of(int fd, const char *rootreal, char *out, size_t n)
{
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t l = readlink(link, real, sizeof real - 1);
    if (l <= 0) return -1;
    real[l] = 0;
    size_t rl = strlen(rootreal);
    if (strncmp(real, rootreal, rl) != 0 || real[rl] != '/') return -1;
    snprintf(out, n, "%s", real + rl);
    return 0;
}

/* 1 + 2: the signed attestation and its statement. */
static int verify_attestation(struct run_ctx *c, struct kiln_error *err)
{
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    char ann[128];
    if (c->o.trust_dir) {
        if (kiln_trust_store_new(&c->ts, err) < 0 ||
            kiln_trust_store_load_dir(c->ts, c->o.trust_dir, err) < 0)
            return -1;
    } else if (kiln_trust_store_open_default(&c->ts, err) < 0) {
        return -1;
    }
    if (kiln_image_open(c->path, &c->o.image, &c->img, err) < 0) return -1;
    if (kiln_image_annotation(c->img, "dev.kiln.converted", ann, sizeof ann) < 0 ||
        strcmp(ann, "true"))
        return kiln_error_set(err, KILN_E_VERIFY,
                              "%s: not converted by kiln (no dev.kiln.converted annotation); run "
                              "kiln convert first",
                              c->path);
    if (kiln_image_read_referrer(c->img, KILN_DSSE_PAYLOAD_TYPE, 1 << 20, &c->att, &c->att_len,
                                 err) < 0)
        return -1;
    kiln_sha256_hex(c->att, c->att_len, c->att_sha256);
    if (kiln_dsse_parse((const char *)c->att, c->att_len, &c->env, err) < 0 ||
        kiln_dsse_verify_trusted(c->env, c->ts, &c->signer, &why, err) < 0) {
        kiln_error_prefix(err, "attestation");
        return -1;
    }
    c->statement = json_loadb((const char *)c->env->payload, c->env->payload_len,
                              JSON_REJECT_DUPLICATES, NULL);
    const char *ty = json_string_value(json_object_get(c->statement, "_type"));
    const char *pt = json_string_value(json_object_get(c->statement, "predicateType"));
    json_t *pred = json_object_get(c->statement, "predicate");
    c->subjects = json_object_get(c->statement, "subject");
    if (!ty || strcmp(ty, KILN_STATEMENT_TYPE) || !pt || strcmp(pt, IMAGE_PREDICATE) ||
        !json_is_array(c->subjects) || !json_is_object(pred))
        return kiln_error_set(err, KILN_E_VERIFY, "attestation: not a kiln image statement");
    json_t *bl = json_object_get(pred, "baseLayers");
    size_t n = json_array_size(bl);
    int ok = json_is_array(bl) && c->img->nlayers == n + 1;
    for (size_t i = 0; ok && i < n; i++) {
        const char *d = json_string_value(json_array_get(bl, i));
        const struct kiln_image_layer *l = &c->img->layers[i];
        ok = d && (!strcmp(d, l->diff_id) || !strcmp(d, l->digest));
    }
    if (!ok)
        return kiln_error_set(
            err, KILN_E_VERIFY,
            "attestation: the image's layers are not the ones it was signed over");
    return 0;
}

/* 3: the cache directory (this user's, not writable by others) and the
 * rootfs in it, extracted on first use. */
static int open_rootfs(struct run_ctx *c, struct kiln_cmd_progress *prog, struct kiln_error *err)
{
    struct stat cst;
    char tmp[PATH_MAX];
    if (c->o.cache) {
        snprintf(c->cachedir, sizeof c->cachedir, "%s", c->o.cache);
    } else {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (x && *x)
            snprintf(c->cachedir, sizeof c->cachedir, "%s/kiln", x);
        else
            snprintf(c->cachedir, sizeof c->cachedir, "%s/.cache/kiln",
                     home && *home ? home : "/tmp");
    }
    if (lstat(c->cachedir, &cst) != 0) {
        snprintf(tmp, sizeof tmp, "%s", c->cachedir);
        for (char *p = tmp + 1; *p; p++)
            if (*p == '/') {
                *p = 0;
                mkdir(tmp, 0700);
                *p = '/';
            }
        mkdir(tmp, 0700);
    }
    /* someone else's (or a shared, writable) cache could hold a planted rootfs */
    if (lstat(c->cachedir, &cst) != 0 || !S_ISDIR(cst.st_mode) || cst.st_uid != geteuid() ||
        (cst.st_mode & 022))
        return kiln_error_set(err, KILN_E_VERIFY,
                              "cache %s: must be a directory owned by this user and not writable "
                              "by group or others",
                              c->cachedir);
    snprintf(c->rootdir, sizeof c->rootdir, "%s/rootfs-%s", c->cachedir,
             c->img->manifest_digest + 7);
    if (access(c->rootdir, F_OK) != 0) {
        uint64_t t = kiln__run_now();
        /* a concurrent run may have won the rename: its complete rootfs is as good */
        if (kiln_image_extract(c->img, c->rootdir, NULL, err) < 0 && access(c->rootdir, F_OK) != 0)
            return -1;
        c->t_unpack_ns = kiln__run_now() - t;
        c->unpacked = true;
        if (prog->tty) fprintf(stderr, "\r%-60s\r", "");
        if (c->o.verbose) fprintf(stderr, "kiln run: unpacked into %s\n", c->rootdir);
    }
    if (!realpath(c->rootdir, c->rootreal)) return kiln_error_sys(err, errno, "%s", c->rootdir);
    c->rootfd = open(c->rootreal, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->rootfd < 0) return kiln_error_sys(err, errno, "%s", c->rootreal);
    return 0;
}

/* 5a: the entrypoint (Entrypoint[0], else Cmd[0], on the config's PATH). */
static int open_entrypoint(struct run_ctx *c, struct kiln_error *err)
{
    const struct kiln_image_config *cfg = &c->img->config;
    const char *ep = cfg->entrypoint && cfg->entrypoint[0] ? cfg->entrypoint[0]
                     : cfg->cmd && cfg->cmd[0]             ? cfg->cmd[0]
                                                           : NULL;
    if (!ep) return kiln_error_set(err, KILN_E_INVALID, "the image has no entrypoint or cmd");
    if (ep[0] == '/') {
        c->efd = open_in_root(c->rootfd, ep, O_RDONLY);
    } else {
        char pathv[4096] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *save;
        for (char **e = cfg->env; e && *e; e++)
            if (!strncmp(*e, "PATH=", 5)) snprintf(pathv, sizeof pathv, "%s", *e + 5);
        c->efd = -ENOENT;
        for (char *tok = strtok_r(pathv, ":", &save); tok && c->efd < 0;
             tok = strtok_r(NULL, ":", &save)) {
            char cand[PATH_MAX];
            snprintf(cand, sizeof cand, "%s/%s", tok, ep);
            c->efd = open_in_root(c->rootfd, cand, O_RDONLY);
        }
    }
    if (c->efd < 0 || guest_path_of(c->efd, c->rootreal, c->entry_guest, sizeof c->entry_guest) < 0)
        return kiln_error_set(err, KILN_E_INVALID, "entrypoint %s: not found in the image", ep);
    return 0;
}

/* 4: one subject file (not the entrypoint) against its signed digest. */
static int check_subject(struct run_ctx *c, const char *name, const char *want,
                         struct kiln_error *err)
{
    struct timespec before;
    struct stat st;
    uint8_t *buf = NULL;
    size_t len;
    char hex[65];
    int fd = open_in_root(c->rootfd, name, O_RDONLY | O_NOFOLLOW);
    clock_gettime(CLOCK_REALTIME, &before);
    if (fd < 0 || fstat(fd, &st) != 0) goto mismatch;
    if (!c->o.rehash && kiln__run_index_match(&c->index, name, want, &st)) {
        c->nindexed++;
        close(fd);
        return 0;
    }
    if (read_all(fd, &buf, &len) < 0) goto mismatch;
    kiln_sha256_hex(buf, len, hex);
    free(buf);
    if (strcmp(hex, want)) goto mismatch;
    c->nhashed++;
    kiln__run_index_add(&c->index, name, want, &st, &before);
    close(fd);
    return 0;
mismatch:
    if (fd >= 0) close(fd);
    return kiln_error_set(err, KILN_E_VERIFY, "%s: digest mismatch with the attestation", name);
}

/* 4 + 5b: every subject, then the entrypoint unit itself. */
static int check_subjects(struct run_ctx *c, struct kiln_error *err)
{
    char path[PATH_MAX + 16];
    uint8_t *copy = NULL;
    size_t copy_len = 0, i;
    json_t *s;
    int fd = open_in_root(c->rootfd, "/.kiln/attestation.json", O_RDONLY | O_NOFOLLOW);
    int same = fd >= 0 && read_all(fd, &copy, &copy_len) == 0 && copy_len == c->att_len &&
               !memcmp(copy, c->att, copy_len);
    free(copy);
    if (fd >= 0) close(fd);
    if (!same)
        return kiln_error_set(err, KILN_E_VERIFY,
                              "/.kiln/attestation.json in the image differs from the signed "
                              "referrer");
    snprintf(path, sizeof path, "%s/verified-%s", c->cachedir, c->img->manifest_digest + 7);
    kiln__run_index_load(&c->index, path, c->att_sha256);
    if (open_entrypoint(c, err) < 0) return -1;
    json_array_foreach(c->subjects, i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *want =
            json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
        if (!name || !want || strlen(want) != 64)
            return kiln_error_set(err, KILN_E_VERIFY,
                                  "attestation: subject %zu: no name or "
                                  "sha256 digest",
                                  i);
        c->nsubjects++;
        if (!strcmp(name, c->entry_guest)) {
            if (c->entry_sha256[0] && strcmp(c->entry_sha256, want))
                return kiln_error_set(err, KILN_E_VERIFY,
                                      "attestation: %s is a subject twice, with two digests", name);
            snprintf(c->entry_sha256, sizeof c->entry_sha256, "%s", want);
            continue;
        }
        if (check_subject(c, name, want, err) < 0) return -1;
    }
    if (!c->entry_sha256[0])
        return kiln_error_set(err, KILN_E_VERIFY,
                              "entrypoint %s is not a signed unit of this image (converted with "
                              "--allow-native?)",
                              c->entry_guest);
    /* the unit: bound to its attested digest by the index or by one hash of
     * the whole file; then its own signature, layout and versions */
    struct timespec before;
    struct stat st;
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    unsigned flags = 0;
    clock_gettime(CLOCK_REALTIME, &before);
    if (fstat(c->efd, &st) != 0) return kiln_error_sys(err, errno, "%s", c->entry_guest);
    if (!c->o.rehash && kiln__run_index_match(&c->index, c->entry_guest, c->entry_sha256, &st))
        flags = KILN_UNIT_ATTESTED_KNOWN | KILN_UNIT_ATTESTED_NO_STUB;
    if (kiln_unit_verify_fd_attested(c->efd, c->ts, c->entry_sha256, flags, &c->unit, &why, err) <
        0) {
        if (why == KILN_REFUSAL_DIGEST_MISMATCH && !flags && strstr(err->msg, "attested")) {
            char m[sizeof err->msg];
            snprintf(m, sizeof m, "%s", err->msg);
            return kiln_error_set(err, KILN_E_VERIFY,
                                  "%s: digest mismatch with the attestation (%s)", c->entry_guest,
                                  m);
        }
        kiln_error_prefix(err, "%s", c->entry_guest);
        return -1;
    }
    if (flags) {
        c->nindexed++;
    } else {
        c->nhashed++;
        kiln__run_index_add(&c->index, c->entry_guest, c->entry_sha256, &st, &before);
    }
    kiln__run_index_save(&c->index);
    return 0;
}

/* Contract in run_internal.h. */
int kiln__run_verify(struct run_ctx *c, struct kiln_cmd_progress *prog, struct kiln_error *err)
{
    c->path = kiln_cmd_split_image_ref(c->o.image_arg, &c->o.image.ref);
    if (!c->path) return kiln_error_set(err, KILN_E_NOMEM, "out of memory");
    prog->tty = isatty(2) && !c->o.json_path;
    c->o.image.progress = kiln_cmd_progress;
    c->o.image.progress_ctx = prog;
    if (verify_attestation(c, err) < 0 || open_rootfs(c, prog, err) < 0 ||
        check_subjects(c, err) < 0)
        return -1;
    if (c->o.verbose)
        fprintf(stderr,
                "kiln run: %s: attestation and %zu subjects verified (signer %s; %zu hashed, %zu "
                "unchanged since hashed), unit %s\n",
                c->img->manifest_digest, c->nsubjects, c->signer ? c->signer : "?", c->nhashed,
                c->nindexed, c->entry_guest);
    return 0;
}
