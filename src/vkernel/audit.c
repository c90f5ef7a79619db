/*
 * audit.c — the audit log: JSON Lines, one event per line (docs/audit.md).
 *
 * Every event is formatted into a stack buffer and written with a single
 * write(2) on an O_APPEND fd, so events are never buffered in the process:
 * a guest trap or a crash of the host process loses nothing already logged,
 * and concurrent writers to the same file never interleave inside a line.
 *
 * Common members of every event: "ts" (UTC, RFC 3339 with nanoseconds),
 * "seq" (1, 2, ... per vkernel), "pid" (host pid), "event".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vkernel/vk.h"

/* JSON string literal of s; see vk.h. */
char *kiln__json_str(char *buf, size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    const unsigned char *c = (const unsigned char *)s;
    if (size < 8) {
        if (size) buf[0] = 0;
        return buf;
    }
    buf[o++] = '"';
    for (; *c; c++) {
        char esc[8];
        size_t n = 0;
        if (*c == '"' || *c == '\\') {
            esc[n++] = '\\';
            esc[n++] = (char)*c;
        } else if (*c < 0x20 || *c == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'u';
            esc[n++] = '0';
            esc[n++] = '0';
            esc[n++] = hex[*c >> 4];
            esc[n++] = hex[*c & 15];
        } else if (*c >= 0x80) {
            /* keep valid UTF-8 as is; escape stray bytes as \u00XX */
            size_t len = (*c >= 0xf0 && *c < 0xf8) ? 4 : (*c >= 0xe0) ? 3 : (*c >= 0xc0) ? 2 : 0;
            size_t k;
            bool ok = len > 1;
            for (k = 1; ok && k < len; k++)
                ok = (c[k] & 0xc0) == 0x80;
            if (ok && len > 1) {
                if (o + len + 5 >= size) break;
                memcpy(buf + o, c, len);
                o += len;
                c += len - 1;
                continue;
            }
            esc[n++] = '\\';
            esc[n++] = 'u';
            esc[n++] = '0';
            esc[n++] = '0';
            esc[n++] = hex[*c >> 4];
            esc[n++] = hex[*c & 15];
        } else {
            esc[n++] = (char)*c;
        }
        if (o + n + 5 >= size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, esc, n);
        o += n;
    }
    buf[o++] = '"';
    buf[o] = 0;
    return buf;
}

/* Appends one event; see vk.h. */
void kiln__audit(struct kiln_vk *vk, const char *event, const char *fmt, ...)
{
    char line[20000];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int w;
    va_list ap;
    if (vk->audit_fd < 0) return;
    if (vk->audit_level != KILN__AUDIT_ALL && strcmp(event, "exit") != 0) {
        bool denial = !strcmp(event, "deny") || !strcmp(event, "kill") ||
                      !strcmp(event, "exec-memory") || !strcmp(event, "confine");
        if (vk->audit_level == KILN__AUDIT_NONE || !denial) return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    if (vk->audit_pid == 0) vk->audit_pid = (int)getpid();
    if (ts.tv_sec != vk->audit_sec || vk->audit_date[0] == 0) {
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(vk->audit_date, sizeof vk->audit_date, "%04d-%02d-%02dT%02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        vk->audit_sec = ts.tv_sec;
    }
    w = snprintf(line, sizeof line,
                 "{\"ts\":\"%s.%09ldZ\",\"seq\":%llu,\"pid\":%d,\"event\":\"%s\"", vk->audit_date,
                 ts.tv_nsec, (unsigned long long)++vk->audit_seq, vk->audit_pid, event);
    if (w < 0) return;
    n = (size_t)w;
    if (fmt != NULL && fmt[0]) {
        line[n++] = ',';
        va_start(ap, fmt);
        w = vsnprintf(line + n, sizeof line - n - 3, fmt, ap);
        va_end(ap);
        if (w < 0) return;
        n += (size_t)w < sizeof line - n - 3 ? (size_t)w : sizeof line - n - 4;
    }
    line[n++] = '}';
    line[n++] = '\n';
    {
        size_t off = 0;
        while (off < n) {
            ssize_t r = write(vk->audit_fd, line + off, n - off);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            off += (size_t)r;
        }
    }
}

/* Audits a denial; see vk.h. */
void kiln__audit_deny(struct kiln_vk *vk, const char *call, const char *path, int err,
                      const char *rule)
{
    char p[PATH_MAX * 2 + 16], r[256];
    vk->denials++;
    if (path != NULL)
        kiln__audit(vk, "deny", "\"call\":\"%s\",\"path\":%s,\"errno\":\"%s\",\"rule\":%s", call,
                    kiln__json_str(p, sizeof p, path), kiln__errno_name(err),
                    kiln__json_str(r, sizeof r, rule ? rule : ""));
    else
        kiln__audit(vk, "deny", "\"call\":\"%s\",\"errno\":\"%s\",\"rule\":%s", call,
                    kiln__errno_name(err), kiln__json_str(r, sizeof r, rule ? rule : ""));
}

/* Name of an errno value; see vk.h. */
const char *kiln__errno_name(int e)
{
    switch (e) {
#define E(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        E(EPERM)
        E(ENOENT)
        E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM)
            E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
                E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK)
                    E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EILSEQ)
                        E(ENOTSUP) E(ECONNREFUSED) E(EADDRINUSE) E(ENOTCONN) E(ENOTSOCK)
#undef E
                            default : return "EUNKNOWN";
    }
}
