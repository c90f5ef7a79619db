/*
 * seccomp.c — the config's linux.seccomp (OCI runtime-spec schema) compiled
 * with libseccomp and loaded just before the container's program is exec'd
 * (oci.h).
 *
 * "Merged with the kiln policy" means stacked: this filter is installed by
 * kiln-oci, the unit's stub then installs its own no-JIT filter on top, and
 * the kernel applies every filter, the most restrictive action winning. So
 * a Docker/Kubernetes RuntimeDefault profile keeps its meaning and kiln's
 * rules still hold. Syscall names this libseccomp or architecture does not
 * know are skipped, as runc does; an unknown action or operator is an
 * error naming the field.
 */
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci.h"

static int action(const char *name, json_t *errno_ret, uint32_t *out)
{
    int e = json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : EPERM;
    if (!name) return -1;
    if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint32_t)e);
    else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint32_t)(json_is_integer(errno_ret) ? e : 0));
    else
        return -1;
    return 0;
}

static int arch(const char *name, uint32_t *out)
{
    static const struct {
        const char *n;
        uint32_t a;
    } t[] = {{"SCMP_ARCH_X86", SCMP_ARCH_X86},
             {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
             {"SCMP_ARCH_X32", SCMP_ARCH_X32},
             {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
             {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(name, t[i].n) == 0) {
            *out = t[i].a;
            return 0;
        }
    return -1; /* other architectures: not on this host; skipped */
}

static int op(const char *name, enum scmp_compare *out)
{
    static const struct {
        const char *n;
        enum scmp_compare c;
    } t[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
             {"SCMP_CMP_LT", SCMP_CMP_LT},
             {"SCMP_CMP_LE", SCMP_CMP_LE},
             {"SCMP_CMP_EQ", SCMP_CMP_EQ},
             {"SCMP_CMP_GE", SCMP_CMP_GE},
             {"SCMP_CMP_GT", SCMP_CMP_GT},
             {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    for (size_t i = 0; name && i < sizeof t / sizeof t[0]; i++)
        if (strcmp(name, t[i].n) == 0) {
            *out = t[i].c;
            return 0;
        }
    return -1;
}

int oci_seccomp_build(json_t *sc, void **out, struct kiln_error *err)
{
    scmp_filter_ctx ctx = NULL;
    uint32_t def;
    json_t *v, *a;
    size_t i;
    int rc;
    *out = NULL;
    if (!json_is_object(sc)) return 0;
    if (action(json_string_value(json_object_get(sc, "defaultAction")),
               json_object_get(sc, "defaultErrnoRet"), &def) < 0)
        return kiln_error_set(err, KILN_E_INVALID, "config: linux.seccomp.defaultAction: unknown");
    ctx = seccomp_init(def);
    if (!ctx) return kiln_error_set(err, KILN_E_NOMEM, "seccomp_init failed");
    a = json_object_get(sc, "architectures");
    json_array_foreach(a, i, v)
    {
        uint32_t ar;
        const char *n = json_string_value(v);
        if (n && arch(n, &ar) == 0 && ar != seccomp_arch_native()) {
            rc = seccomp_arch_add(ctx, ar);
            if (rc < 0 && rc != -EEXIST) {
                rc = kiln_error_set(err, KILN_E_INVALID,
                                    "config: linux.seccomp.architectures[%zu]: "
                                    "%s: %s",
                                    i, n, strerror(-rc));
                goto fail;
            }
        }
    }
    a = json_object_get(sc, "syscalls");
    json_array_foreach(a, i, v)
    {
        uint32_t act;
        struct scmp_arg_cmp cmp[6];
        unsigned ncmp = 0;
        json_t *names = json_object_get(v, "names"), *args = json_object_get(v, "args"), *n, *g;
        size_t k;
        if (action(json_string_value(json_object_get(v, "action")), json_object_get(v, "errnoRet"),
                   &act) < 0) {
            rc = kiln_error_set(err, KILN_E_INVALID,
                                "config: linux.seccomp.syscalls[%zu].action: "
                                "unknown",
                                i);
            goto fail;
        }
        if (act == def) continue; /* libseccomp refuses rules equal to the default */
        json_array_foreach(args, k, g)
        {
            enum scmp_compare c;
            if (ncmp == 6 || op(json_string_value(json_object_get(g, "op")), &c) < 0) {
                rc = kiln_error_set(err, KILN_E_INVALID,
                                    "config: linux.seccomp.syscalls[%zu].args[%zu]: bad op", i, k);
                goto fail;
            }
            cmp[ncmp].arg = (unsigned)json_integer_value(json_object_get(g, "index"));
            cmp[ncmp].op = c;
            cmp[ncmp].datum_a = (scmp_datum_t)json_integer_value(json_object_get(g, "value"));
            cmp[ncmp].datum_b = (scmp_datum_t)json_integer_value(json_object_get(g, "valueTwo"));
            ncmp++;
        }
        json_array_foreach(names, k, n)
        {
            const char *name = json_string_value(n);
            int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
            if (nr == __NR_SCMP_ERROR) continue; /* unknown here: skipped, like runc */
            rc = seccomp_rule_add_array(ctx, act, nr, ncmp, cmp);
            if (rc < 0 && rc != -EEXIST) {
                rc = kiln_error_set(err, KILN_E_INVALID,
                                    "config: linux.seccomp.syscalls[%zu]: %s: %s", i, name,
                                    strerror(-rc));
                goto fail;
            }
        }
    }
    *out = ctx;
    return 0;
fail:
    seccomp_release(ctx);
    return rc;
}

int oci_seccomp_load(void *filter)
{
    int rc;
    if (!filter) return 0;
    rc = seccomp_load((scmp_filter_ctx)filter);
    return rc < 0 ? rc : 0;
}

void oci_seccomp_free(void *filter)
{
    if (filter) seccomp_release((scmp_filter_ctx)filter);
}
