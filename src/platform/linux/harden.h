/*
 * harden.h — process hardening for the loader stub (DESIGN.md §2, "host").
 *
 * After a unit has been verified, the stub makes its own process unable to
 * ever gain executable memory or run another program:
 *
 *   1. no_new_privs           prctl(PR_SET_NO_NEW_PRIVS): execve can never
 *                             grant privileges (and seccomp may be loaded
 *                             without CAP_SYS_ADMIN);
 *   2. MDWE                   prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN):
 *                             memory can never become executable after it was
 *                             mapped without PROT_EXEC (kernel >= 6.3);
 *   3. the no-JIT seccomp     a filter (seccomp.c) that fails with EPERM:
 *      filter                 mmap/mprotect/pkey_mprotect with PROT_EXEC,
 *                             memfd_create without MFD_NOEXEC_SEAL (or with
 *                             MFD_EXEC), execve/execveat, and a few other
 *                             ways to executable memory (see seccomp.c).
 *
 * MDWE alone does not stop a fresh anonymous PROT_EXEC mapping nor a memfd
 * mapped once writable and once executable (PLATFORM.md), so the two are
 * paired. Everything is sticky and inherited by threads and children; none
 * of it can be undone by the process. Code here never prints; functions
 * return 0 or -errno.
 */
#ifndef KILN_PLATFORM_LINUX_HARDEN_H
#define KILN_PLATFORM_LINUX_HARDEN_H

#include <stdbool.h>

/* Steps of kiln_platform_harden (bits of `flags` and of the result). */
#define KILN_HARDEN_NO_NEW_PRIVS 0x1u
#define KILN_HARDEN_MDWE 0x2u
#define KILN_HARDEN_SECCOMP 0x4u
#define KILN_HARDEN_ALL (KILN_HARDEN_NO_NEW_PRIVS | KILN_HARDEN_MDWE | KILN_HARDEN_SECCOMP)
/* With this bit, a kernel without MDWE (prctl fails with EINVAL) is not an
 * error: the step is skipped and reported in result->missing. */
#define KILN_HARDEN_MDWE_OPTIONAL 0x100u

/* What kiln_platform_harden did. */
struct kiln_harden_result {
    unsigned applied;   /* KILN_HARDEN_* steps now in force */
    unsigned missing;   /* optional steps the kernel does not support */
    const char *failed; /* on failure: the step ("no_new_privs", "mdwe", "seccomp") */
};

/* Applies the steps named in flags, in the order above. Returns 0, or -errno
 * of the first step that failed (result->failed names it; the steps before it
 * stay applied: they cannot be undone). result may be NULL. The seccomp
 * filter is synchronized to every thread of the process (TSYNC). */
int kiln_platform_harden(unsigned flags, struct kiln_harden_result *result);

/* Loads only the no-JIT seccomp filter (seccomp.c); no_new_privs must already
 * be set (or the caller must hold CAP_SYS_ADMIN). Returns 0 or -errno
 * (-ENOMEM, -EINVAL, -EACCES from the kernel, -ESRCH when a thread could not
 * be synchronized). */
int kiln_platform_seccomp_nojit(void);

/* One rule of the no-JIT filter, for documentation and tests. */
struct kiln_seccomp_rule {
    const char *syscall; /* Linux name */
    int arg;             /* argument index the condition tests, -1 = none */
    unsigned long mask;  /* condition: (arg & mask) == value */
    unsigned long value;
    const char *why; /* one line: what this rule prevents */
};

/* The rules of the no-JIT filter (every match fails with EPERM; everything
 * else is allowed). *n gets the number of entries. */
const struct kiln_seccomp_rule *kiln_platform_seccomp_rules(int *n);

/* The state of the calling process, read back from the kernel (prctl). */
struct kiln_harden_status {
    int seccomp_mode; /* PR_GET_SECCOMP: 0 none, 2 filter; -1 unknown */
    int no_new_privs; /* PR_GET_NO_NEW_PRIVS: 0 or 1, -1 unknown */
    int mdwe;         /* PR_GET_MDWE: flags (1 = refuse exec gain), -1 unsupported */
};

/* Fills *out. Returns 0, or -EINVAL when seccomp or no_new_privs could not be
 * queried (the fields then hold -1). Async-signal-safe, no allocation. */
int kiln_platform_harden_status(struct kiln_harden_status *out);

#endif
