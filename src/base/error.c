/*
 * error.c — struct kiln_error helpers (see include/kiln/error.h).
 */
#include "kiln/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kiln_error_set(struct kiln_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->sys_errno = 0;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -code;
}

int kiln_error_sys(struct kiln_error *err, int sys_errno, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        size_t n;
        err->code = KILN_E_IO;
        err->sys_errno = sys_errno;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(sys_errno));
    }
    return -KILN_E_IO;
}

void kiln_error_prefix(struct kiln_error *err, const char *fmt, ...)
{
    char pre[256], old[sizeof err->msg];
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
}
