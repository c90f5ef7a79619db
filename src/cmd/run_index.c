/*
 * run_index.c — the verified-cache index of `kiln run`: which subject files
 * of a cached rootfs were hashed to their attested digest, and the stat
 * identity each had, so that a warm run stats a unit instead of hashing it.
 *
 * File CACHE/verified-<manifest hex> (beside the rootfs, never inside
 * the guest's view), mode 0600, written atomically (temporary + rename):
 *     kiln-verified 1
 *     attestation <sha256 of the attestation envelope bytes>
 *     <sha256> <dev> <ino> <size> <mtime s> <mtime ns> <ctime s> <ctime ns> <guest path>
 *     ...
 *
 * Trust assumption (docs/image.md "Run: the verified cache"): the cache
 * directory is this user's, mode 0700 (kiln run refuses anything else), so
 * only this user or root can change a cached file; and every change of a
 * file's content or of which inode sits at a path moves its ctime, which no
 * unprivileged process can set back. An entry matches only when digest,
 * device, inode, size, mtime and ctime are all equal, so any later write,
 * truncation, rename-over or re-link makes the run hash the file again.
 * What this does not catch: a file changed by root with the clock set back,
 * or bytes changed beneath the filesystem (a raw block device, bit rot);
 * `kiln run --rehash` hashes every subject regardless.
 *
 * Racy entries (as in git's index): ctime has the granularity of the
 * kernel's coarse clock (one tick) or of the filesystem (up to 2 s), so a
 * change made in the same tick as the recorded identity could leave ctime
 * equal. An entry is therefore recorded only when the file's ctime is older
 * than the moment before its fstat by more than that granularity; a file
 * extracted a moment ago is hashed on each run until it is old enough.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/run_internal.h"

#define INDEX_MAGIC "kiln-verified 1"
#define INDEX_MAX_BYTES (4u << 20)
#define INDEX_MAX_ENTRIES 65536u

static int add_entry(struct run_index *ix, const char *name, size_t namelen,
                     const struct run_index_entry *tmpl)
{
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 8;
        struct run_index_entry *e = realloc(ix->e, cap * sizeof *e);
        if (!e) return -1;
        ix->e = e;
        ix->cap = cap;
    }
    struct run_index_entry *e = &ix->e[ix->n];
    *e = *tmpl;
    e->name = strndup(name, namelen);
    if (!e->name) return -1;
    ix->n++;
    return 0;
}

static bool is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* Parses the text of an index; false if it is not one made under attestation. */
static bool parse(struct run_index *ix, char *text, const char attestation[65])
{
    char *line, *save = NULL;
    int lineno = 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), lineno++) {
        if (lineno == 0) {
            if (strcmp(line, INDEX_MAGIC)) return false;
            continue;
        }
        if (lineno == 1) {
            if (strncmp(line, "attestation ", 12) || strcmp(line + 12, attestation)) return false;
            continue;
        }
        struct run_index_entry e = {0};
        unsigned long long dev, ino, size;
        long long ms, mns, cs, cns;
        int used = 0;
        if (strlen(line) < 66 || !is_hex64(line) || line[64] != ' ') return false;
        memcpy(e.sha256, line, 64);
        e.sha256[64] = 0;
        if (sscanf(line + 65, "%llu %llu %llu %lld %lld %lld %lld %n", &dev, &ino, &size, &ms, &mns,
                   &cs, &cns, &used) != 7 ||
            used <= 0 || line[65 + used] != '/' || ix->n >= INDEX_MAX_ENTRIES)
            return false;
        e.dev = dev, e.ino = ino, e.size = size;
        e.mtime_s = ms, e.mtime_ns = mns, e.ctime_s = cs, e.ctime_ns = cns;
        const char *name = line + 65 + used;
        if (add_entry(ix, name, strlen(name), &e) < 0) return false;
    }
    return lineno >= 2;
}

/* Contract in run_internal.h. */
void kiln__run_index_load(struct run_index *ix, const char *path, const char attestation[65])
{
    struct stat st;
    char *text = NULL;
    int fd;
    memset(ix, 0, sizeof *ix);
    snprintf(ix->path, sizeof ix->path, "%s", path);
    snprintf(ix->attestation, sizeof ix->attestation, "%s", attestation);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    /* only an index this user wrote counts (the directory is checked too) */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) || st.st_size <= 0 || st.st_size > INDEX_MAX_BYTES)
        goto out;
    text = malloc((size_t)st.st_size + 1);
    if (!text) goto out;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, text + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) goto out;
        got += (size_t)r;
    }
    text[got] = 0;
    if (memchr(text, 0, got) || !parse(ix, text, attestation)) {
        kiln__run_index_clear(ix);
        snprintf(ix->path, sizeof ix->path, "%s", path);
        snprintf(ix->attestation, sizeof ix->attestation, "%s", attestation);
    }
out:
    free(text);
    close(fd);
}

static bool same_identity(const struct run_index_entry *e, const struct stat *st)
{
    return e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino &&
           e->size == (uint64_t)st->st_size && e->mtime_s == (int64_t)st->st_mtim.tv_sec &&
           e->mtime_ns == (int64_t)st->st_mtim.tv_nsec &&
           e->ctime_s == (int64_t)st->st_ctim.tv_sec && e->ctime_ns == (int64_t)st->st_ctim.tv_nsec;
}

/* Contract in run_internal.h. */
const struct run_index_entry *kiln__run_index_match(const struct run_index *ix, const char *name,
                                                    const char sha256[65], const struct stat *st)
{
    for (size_t i = 0; i < ix->n; i++)
        if (!strcmp(ix->e[i].name, name))
            return !strcmp(ix->e[i].sha256, sha256) && same_identity(&ix->e[i], st) ? &ix->e[i]
                                                                                    : NULL;
    return NULL;
}

/* Contract in run_internal.h. */
void kiln__run_index_add(struct run_index *ix, const char *name, const char sha256[65],
                         const struct stat *st, const struct timespec *before)
{
    struct run_index_entry e = {0};
    /* a filesystem that keeps whole seconds shows tv_nsec == 0: assume 2 s
     * granularity (FAT keeps 2 s); otherwise 50 ms covers any kernel tick */
    int64_t gran_ns = st->st_ctim.tv_nsec == 0 ? 2000000000 : 50000000;
    int64_t age = ((int64_t)before->tv_sec - st->st_ctim.tv_sec) * 1000000000 +
                  ((int64_t)before->tv_nsec - st->st_ctim.tv_nsec);
    if (age <= gran_ns || strchr(name, '\n') || name[0] != '/') return; /* racy / unrecordable */
    for (size_t i = 0; i < ix->n; i++)
        if (!strcmp(ix->e[i].name, name)) { /* replace a stale entry */
            free(ix->e[i].name);
            ix->e[i] = ix->e[--ix->n];
            break;
        }
    memcpy(e.sha256, sha256, 65);
    e.dev = (uint64_t)st->st_dev, e.ino = (uint64_t)st->st_ino, e.size = (uint64_t)st->st_size;
    e.mtime_s = st->st_mtim.tv_sec, e.mtime_ns = st->st_mtim.tv_nsec;
    e.ctime_s = st->st_ctim.tv_sec, e.ctime_ns = st->st_ctim.tv_nsec;
    if (ix->n < INDEX_MAX_ENTRIES && add_entry(ix, name, strlen(name), &e) == 0) ix->dirty = true;
}

/* Contract in run_internal.h. */
void kiln__run_index_save(struct run_index *ix)
{
    char tmp[PATH_MAX + 16];
    FILE *f;
    int fd;
    if (!ix->dirty || !ix->path[0]) return;
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", ix->path) >= (int)sizeof tmp) return;
    fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) return;
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return;
    }
    fprintf(f, "%s\nattestation %s\n", INDEX_MAGIC, ix->attestation);
    for (size_t i = 0; i < ix->n; i++) {
        const struct run_index_entry *e = &ix->e[i];
        fprintf(f, "%s %llu %llu %llu %lld %lld %lld %lld %s\n", e->sha256,
                (unsigned long long)e->dev, (unsigned long long)e->ino, (unsigned long long)e->size,
                (long long)e->mtime_s, (long long)e->mtime_ns, (long long)e->ctime_s,
                (long long)e->ctime_ns, e->name);
    }
    if (fclose(f) != 0 || rename(tmp, ix->path) != 0) unlink(tmp);
    ix->dirty = false;
}

/* Contract in run_internal.h. */
void kiln__run_index_clear(struct run_index *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->e[i].name);
    free(ix->e);
    memset(ix, 0, sizeof *ix);
}
