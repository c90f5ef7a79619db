/*
 * seccomp.c — the no-JIT seccomp filter of the loader stub (harden.h).
 *
 * One table, `rules`, is the single source of truth: every entry names a
 * system call and an optional argument condition `(arg & mask) == value`;
 * a call that matches fails with EPERM, everything else is allowed. The
 * filter does not try to be the syscall allow-list of DESIGN.md §4 (that
 * comes with the daemon placement); it closes every door to executable
 * memory and to running another program:
 *
 *   - PROT_EXEC in mmap / mprotect / pkey_mprotect (so no RWX, no RW->RX,
 *     no fresh RX anonymous memory, no RX view of a memfd mapped RW elsewhere);
 *   - memfd_create unless MFD_NOEXEC_SEAL is given (a sealed memfd can never
 *     be mapped executable nor executed), and never with MFD_EXEC;
 *   - execve / execveat (so no fexecve of a memfd either);
 *   - personality(READ_IMPLIES_EXEC), which would make the kernel add
 *     PROT_EXEC to PROT_READ mappings behind the filter's back;
 *   - shmat(SHM_EXEC), remap_file_pages;
 *   - ptrace and process_vm_writev (writing code into another process);
 *   - io_uring_setup (io_uring requests are not seen by seccomp).
 *
 * libseccomp adds the architecture check: a call made through another ABI
 * (int 0x80, x32) kills the process.
 */
#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>

#include "platform/linux/harden.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif

static const struct kiln_seccomp_rule rules[] = {
    {"mmap", 2, PROT_EXEC, PROT_EXEC, "executable mappings (RWX, RX anonymous, RX file or memfd)"},
    {"mprotect", 2, PROT_EXEC, PROT_EXEC, "making memory executable (RW -> RX)"},
    {"pkey_mprotect", 2, PROT_EXEC, PROT_EXEC, "making memory executable with a protection key"},
    {"memfd_create", 1, MFD_NOEXEC_SEAL, 0, "memfds that could later be mapped executable"},
    {"memfd_create", 1, MFD_EXEC, MFD_EXEC, "memfds created executable"},
    {"execve", -1, 0, 0, "running another program"},
    {"execveat", -1, 0, 0, "running another program (fexecve of a memfd too)"},
    {"personality", 0, READ_IMPLIES_EXEC, READ_IMPLIES_EXEC,
     "READ_IMPLIES_EXEC (PROT_READ would imply PROT_EXEC)"},
    {"shmat", 2, SHM_EXEC, SHM_EXEC, "executable System V shared memory"},
    {"remap_file_pages", -1, 0, 0, "rearranging mapped pages behind mmap"},
    {"ptrace", -1, 0, 0, "writing another process's memory"},
    {"process_vm_writev", -1, 0, 0, "writing another process's memory"},
    {"io_uring_setup", -1, 0, 0, "io_uring (its requests bypass seccomp)"},
};

/* The filter's rules; see harden.h. */
const struct kiln_seccomp_rule *kiln_platform_seccomp_rules(int *n)
{
    *n = (int)(sizeof rules / sizeof rules[0]);
    return rules;
}

/* Builds and loads the filter; see harden.h. */
int kiln_platform_seccomp_nojit(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    size_t i;
    int rc;
    if (ctx == NULL) return -ENOMEM;
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc < 0) goto fail;
    for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const struct kiln_seccomp_rule *r = &rules[i];
        int nr = seccomp_syscall_resolve_name(r->syscall);
        struct scmp_arg_cmp cmp;
        if (nr == __NR_SCMP_ERROR) {
            rc = -EINVAL; /* fail closed: a rule we cannot express */
            goto fail;
        }
        if (r->arg >= 0) {
            cmp.arg = (unsigned)r->arg;
            cmp.op = SCMP_CMP_MASKED_EQ;
            cmp.datum_a = r->mask;
            cmp.datum_b = r->value;
            rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &cmp);
        } else {
            rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0, NULL);
        }
        if (rc < 0) goto fail;
    }
    rc = seccomp_load(ctx);
    if (rc > 0) rc = -ESRCH; /* TSYNC: the id of a thread that could not be synchronized */
fail:
    seccomp_release(ctx);
    return rc < 0 ? rc : 0;
}
