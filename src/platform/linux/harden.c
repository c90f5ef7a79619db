/*
 * harden.c — no_new_privs, MDWE and the no-JIT seccomp filter, applied in
 * that order (harden.h). Every step is sticky: a failure leaves the earlier
 * steps in force, and the caller must not run the guest.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "platform/linux/harden.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#ifndef PR_MDWE_REFUSE_EXEC_GAIN
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#endif

/* Applies the requested steps; see harden.h. */
int kiln_platform_harden(unsigned flags, struct kiln_harden_result *result)
{
    struct kiln_harden_result res = {0, 0, NULL};
    int rc = 0;
    if (flags & KILN_HARDEN_NO_NEW_PRIVS) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            rc = -errno;
            res.failed = "no_new_privs";
            goto fail;
        }
        res.applied |= KILN_HARDEN_NO_NEW_PRIVS;
    }
    if (flags & KILN_HARDEN_MDWE) {
        if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) == 0) {
            res.applied |= KILN_HARDEN_MDWE;
        } else if (errno == EINVAL && (flags & KILN_HARDEN_MDWE_OPTIONAL)) {
            res.missing |= KILN_HARDEN_MDWE;
        } else {
            rc = -errno;
            res.failed = "mdwe";
            goto fail;
        }
    }
    if (flags & KILN_HARDEN_SECCOMP) {
        rc = kiln_platform_seccomp_nojit();
        if (rc < 0) {
            res.failed = "seccomp";
            goto fail;
        }
        res.applied |= KILN_HARDEN_SECCOMP;
    }
fail:
    if (result != NULL) *result = res;
    return rc;
}

/* Reads the hardening state back; see harden.h. */
int kiln_platform_harden_status(struct kiln_harden_status *out)
{
    int r = prctl(PR_GET_SECCOMP, 0, 0, 0, 0); /* 0 none, 2 filter (strict would kill us) */
    out->seccomp_mode = r < 0 ? -1 : r;
    r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    out->no_new_privs = r < 0 ? -1 : r;
    r = prctl(PR_GET_MDWE, 0, 0, 0, 0);
    out->mdwe = r < 0 ? -1 : r;
    return out->seccomp_mode < 0 || out->no_new_privs < 0 ? -EINVAL : 0;
}
