/*
 * confine.c — the second wall of the embedded placement (DESIGN.md §4):
 * after the mounts and listeners are set up, the whole process restricts
 * itself with Landlock to exactly the mounts (read-only where the mount or
 * the policy says so) and gives up binding and connecting TCP sockets. A
 * bug in path handling then still cannot reach the rest of the host.
 *
 * Landlock is used at the best ABI the kernel offers (rights the kernel does
 * not know are dropped, as the Landlock documentation prescribes). Already
 * open descriptors (stdio, the audit log, listeners) keep working.
 */
#include <errno.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vkernel/vk.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define KILN__LL_NET_BIND_TCP (1ULL << 0)
#define KILN__LL_NET_CONNECT_TCP (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 4 (handled_access_net). */
struct kiln__ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
};

struct kiln__ll_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE                                                                                   \
    (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                               \
     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |   \
     LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER |      \
     LANDLOCK_ACCESS_FS_TRUNCATE)

/* Applies Landlock to the calling process; see vkernel.h. */
int kiln_vk_confine(struct kiln_vk *vk, struct kiln_error *err)
{
    struct kiln__ll_ruleset_attr attr;
    uint64_t fs_all, fs_mask;
    size_t attr_size = sizeof attr;
    long abi;
    int rs = -1, i, r;

    abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        kiln__audit(vk, "confine", "\"landlock_abi\":0,\"error\":\"unavailable\"");
        return kiln_error_sys(err, errno, "landlock unavailable");
    }
    fs_all = LANDLOCK_ACCESS_FS_EXECUTE | LL_READ | LL_WRITE | LANDLOCK_ACCESS_FS_IOCTL_DEV;
    fs_mask = fs_all;
    if (abi < 2) fs_mask &= ~LANDLOCK_ACCESS_FS_REFER;
    if (abi < 3) fs_mask &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi < 5) fs_mask &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = fs_mask;
    if (abi >= 4)
        attr.handled_access_net = KILN__LL_NET_BIND_TCP | KILN__LL_NET_CONNECT_TCP;
    else
        attr_size = sizeof attr.handled_access_fs;
    rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (rs < 0) return kiln_error_sys(err, errno, "landlock_create_ruleset");
    for (i = 0; i < vk->nmounts; i++) {
        const struct kiln__mount *m = &vk->mounts[i];
        struct kiln__ll_path_beneath pb;
        /* the mount's own mode; rules beneath it are enforced by the
         * vkernel (Landlock is the coarse outer wall) */
        int mode = (m->flags & KILN_VK_MOUNT_RO) ? KILN__FS_RO : KILN__FS_RW;
        if (vk->policy != NULL && m->uniform && m->mode < mode) mode = m->mode;
        if (mode == KILN__FS_NONE) continue;
        pb.allowed_access = (LL_READ | (mode == KILN__FS_RW ? LL_WRITE : 0)) & fs_mask;
        pb.parent_fd = m->host;
        if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
            r = kiln_error_sys(err, errno, "landlock_add_rule %s", m->host_path);
            goto fail;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        r = kiln_error_sys(err, errno, "no_new_privs");
        goto fail;
    }
    if (syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
        r = kiln_error_sys(err, errno, "landlock_restrict_self");
        goto fail;
    }
    close(rs);
    kiln__audit(vk, "confine", "\"landlock_abi\":%ld,\"mounts\":%d,\"net\":%s", abi, vk->nmounts,
                abi >= 4 ? "\"none\"" : "\"unrestricted\"");
    return 0;
fail:
    close(rs);
    kiln__audit(vk, "confine", "\"landlock_abi\":%ld,\"error\":\"refused\"", abi);
    return r;
}
