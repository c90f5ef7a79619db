/*
 * fuzz_policy.c — libFuzzer target: kiln_vk_policy_parse on arbitrary bytes
 * must either refuse with a message or produce a policy whose evaluation
 * functions are safe to call.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kiln/vkernel.h"
#include "vkernel/vk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kiln_vk_policy *p = NULL;
    struct kiln_error err;
    memset(&err, 0, sizeof err);
    if (kiln_vk_policy_parse((const char *)data, size, "fuzz.json", &p, &err) < 0) {
        if (err.msg[0] == 0 || memchr(err.msg, 0, sizeof err.msg) == NULL) __builtin_trap();
        return 0;
    }
    {
        int s, rule, e;
        const char *rn;
        uint64_t args[6] = {0, 1, 2, 3, 4, 5};
        for (s = 0; s < KILN_VK_SYS__COUNT; s++) {
            kiln__policy_sys(p, s, NULL, &e, &rn);
            kiln__policy_sys(p, s, args, &e, &rn);
        }
        kiln__policy_fs(p, "/", &rule);
        kiln__policy_fs(p, "/a/b/c", &rule);
        kiln__policy_fs_below(p, "/a");
        kiln__policy_net(p, "listen", "tcp", "127.0.0.1", 80, &rn);
        (void)kiln_vk_policy_limits(p);
    }
    kiln_vk_policy_free(p);
    return 0;
}
