/*
 * confine_worker.c — the walls around one container's kilnd worker
 * (DESIGN.md §4: "kilnd confines itself the same way per container
 * worker"). A worker handles untrusted requests of one container; if a bug
 * in that handling were exploited, the process must still not reach another
 * container's root, the node key, the host, or other processes.
 *
 * In order (each step irreversible):
 *   1. capabilities: keep only CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER,
 *      FSETID (act on the container's files as their owner would),
 *      KILL (signal its guest processes through pidfds) and
 *      NET_BIND_SERVICE; the bounding set loses the rest (SYS_ADMIN,
 *      SYS_PTRACE, SETUID, NET_ADMIN, MKNOD, ...). Nothing to do unprivileged;
 *   2. no_new_privs, not dumpable, dies with the parent (PDEATHSIG);
 *   3. Landlock: the filesystem only beneath the container root (read and
 *      write; the vkernel's policy checks decide finer), no execute; TCP bind
 *      and connect refused when the container's policy has no network rules
 *      (otherwise the vkernel's network rules decide); abstract unix sockets
 *      scoped (ABI 6+);
 *   4. seccomp (deny list, EPERM; x32 and foreign architectures killed):
 *      execve/execveat, fork/vfork/clone/clone3, ptrace,
 *      process_vm_readv/writev, pidfd_getfd, pidfd_open, kcmp,
 *      process_madvise, kill/tkill/tgkill and the sigqueue calls (signals
 *      only through the pidfds the parent handed it; /proc/PID is outside
 *      its Landlock domain), mount,
 *      umount2, pivot_root, chroot, setns, unshare, bpf, perf_event_open,
 *      module and kexec calls, reboot, swap, keyctl & co,
 *      open_by_handle_at, name_to_handle_at, io_uring, userfaultfd,
 *      set*id/setgroups/capset, mknod(at), personality, and socket() of any
 *      family but AF_INET/AF_INET6 (no unix sockets to host daemons); mmap
 *      and mprotect with PROT_EXEC.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vkernel/daemon/server.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)

/* struct landlock_ruleset_attr as of ABI 6 (scoped). */
struct ll_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

static int drop_caps(void)
{
    static const int keep[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
                               CAP_FSETID, CAP_KILL,         CAP_NET_BIND_SERVICE};
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    uint64_t mask = 0, eff, perm;
    size_t i;
    int c;
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) < 0) return -errno;
    perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    if (perm == 0) return 0; /* unprivileged: nothing to drop */
    for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
        mask |= 1ULL << keep[i];
    for (c = 0; c < 64; c++) {
        if (mask & (1ULL << c)) continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno == EINVAL) break; /* past last cap */
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    eff = (d[0].effective | (uint64_t)d[1].effective << 32) & mask;
    perm &= mask;
    d[0].effective = (uint32_t)eff;
    d[1].effective = (uint32_t)(eff >> 32);
    d[0].permitted = (uint32_t)perm;
    d[1].permitted = (uint32_t)(perm >> 32);
    d[0].inheritable = d[1].inheritable = 0;
    if (syscall(SYS_capset, &h, d) < 0) return -errno;
    return 0;
}

/* True when the container's policy exists and has no network rules. */
static bool no_network(const struct kiln__kilnd_ct *ct)
{
    json_t *j, *n;
    bool none;
    if (ct->policy_text == NULL) return false;
    j = json_loadb(ct->policy_text, ct->policy_len, 0, NULL);
    n = j ? json_object_get(j, "network") : NULL;
    none = j != NULL && (n == NULL || (json_is_array(n) && json_array_size(n) == 0));
    json_decref(j);
    return none;
}

static int landlock(const struct kiln__kilnd_ct *ct)
{
    struct ll_attr attr;
    struct ll_beneath pb;
    uint64_t rd = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    uint64_t wr = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                  LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                  LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                  LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                  LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM |
                  LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;
    uint64_t all = rd | wr | LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
    size_t size = sizeof attr;
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    int rs, root, r = 0;
    if (abi < 1) return -ENOSYS;
    if (abi < 2) all &= ~LANDLOCK_ACCESS_FS_REFER;
    if (abi < 3) all &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi < 5) all &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = all;
    if (abi >= 4 && no_network(ct)) attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
    if (abi >= 6)
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX;
    else if (abi >= 4)
        size = offsetof(struct ll_attr, scoped);
    else
        size = sizeof attr.handled_access_fs;
    rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0) return -errno;
    root = open(ct->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        r = -errno;
        goto out;
    }
    pb.allowed_access = (rd | wr) & all;
    pb.parent_fd = root;
    if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0 ||
        syscall(SYS_landlock_restrict_self, rs, 0) < 0)
        r = -errno;
    close(root);
out:
    close(rs);
    return r;
}

static int seccomp(void)
{
#if defined(__x86_64__)
    static const int deny[] = {
        __NR_execve,
        __NR_execveat,
        __NR_fork,
        __NR_vfork,
        __NR_clone,
        __NR_clone3,
        __NR_ptrace,
        __NR_process_vm_readv,
        __NR_process_vm_writev,
        __NR_pidfd_getfd,
        __NR_pidfd_open,
        __NR_kcmp,
        __NR_process_madvise,
        __NR_kill,
        __NR_tkill,
        __NR_tgkill,
        __NR_rt_sigqueueinfo,
        __NR_rt_tgsigqueueinfo,
        __NR_mount,
        __NR_umount2,
        __NR_pivot_root,
        __NR_chroot,
        __NR_setns,
        __NR_unshare,
        __NR_bpf,
        __NR_perf_event_open,
        __NR_init_module,
        __NR_finit_module,
        __NR_delete_module,
        __NR_kexec_load,
        __NR_kexec_file_load,
        __NR_reboot,
        __NR_swapon,
        __NR_swapoff,
        __NR_keyctl,
        __NR_add_key,
        __NR_request_key,
        __NR_open_by_handle_at,
        __NR_name_to_handle_at,
        __NR_io_uring_setup,
        __NR_io_uring_enter,
        __NR_io_uring_register,
        __NR_userfaultfd,
        __NR_setuid,
        __NR_setgid,
        __NR_setreuid,
        __NR_setregid,
        __NR_setresuid,
        __NR_setresgid,
        __NR_setgroups,
        __NR_capset,
        __NR_mknod,
        __NR_mknodat,
        __NR_personality,
        __NR_fsopen,
        __NR_fsmount,
        __NR_move_mount,
        __NR_open_tree,
        __NR_quotactl,
        __NR_acct,
        __NR_syslog,
        __NR_iopl,
        __NR_ioperm,
        __NR_fanotify_init,
        __NR_settimeofday,
        __NR_clock_settime,
        __NR_adjtimex,
        __NR_clock_adjtime,
        __NR_sethostname,
        __NR_setdomainname,
    };
    enum { N = sizeof deny / sizeof deny[0] };
    struct sock_filter f[2 * N + 32];
    struct sock_fprog prog;
    int i, k = 0;
#define STMT(c, v) (struct sock_filter) BPF_STMT(c, v)
#define JUMP(c, v, t, e) (struct sock_filter) BPF_JUMP(c, v, t, e)
#define LD(field) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
    const unsigned ALLOW = SECCOMP_RET_ALLOW, DENY = SECCOMP_RET_ERRNO | EPERM;
    f[k++] = LD(arch);
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[k++] = LD(nr);
    f[k++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1); /* x32 */
    f[k++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    for (i = 0; i < N; i++) {
        f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deny[i], 0, 1);
        f[k++] = STMT(BPF_RET | BPF_K, DENY);
    }
    /* socket(): AF_INET and AF_INET6 only */
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 5);
    f[k++] = LD(args[0]);
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0);
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0);
    f[k++] = STMT(BPF_RET | BPF_K, DENY);
    f[k++] = STMT(BPF_RET | BPF_K, ALLOW);
    /* mmap/mprotect/pkey_mprotect with PROT_EXEC (arg 2) */
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 2, 0);
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 1, 0);
    f[k++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pkey_mprotect, 0, 3);
    f[k++] = LD(args[2]);
    f[k++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1);
    f[k++] = STMT(BPF_RET | BPF_K, DENY);
    f[k++] = STMT(BPF_RET | BPF_K, ALLOW);
#undef STMT
#undef JUMP
#undef LD
    prog.len = (unsigned short)k;
    prog.filter = f;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return -errno;
    return 0;
#else
    return -ENOSYS;
#endif
}

/* Confines the worker; see server.h. */
int kiln__kilnd_confine_worker(const struct kiln__kilnd_ct *ct, bool use_landlock, bool use_seccomp,
                               const char **why)
{
    pid_t parent = getppid();
    int r;
    *why = "prctl";
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) return -errno;
    if (getppid() != parent) return -ESRCH; /* the parent died meanwhile */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    *why = "capabilities";
    if ((r = drop_caps()) < 0) return r;
    *why = "no_new_privs";
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
    *why = "landlock";
    if (use_landlock && (r = landlock(ct)) < 0 && r != -ENOSYS) return r;
    *why = "seccomp";
    if (use_seccomp && (r = seccomp()) < 0) return r;
    *why = NULL;
    return 0;
}
