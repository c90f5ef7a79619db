/*
 * events.c — the stub's audit events and its benchmark timing line.
 *
 * Stub events go through the vkernel's audit sink (one write(2) per line,
 * the common members ts/seq/pid/event of docs/audit.md), so one log holds
 * the verification outcome followed by what the guest did:
 *
 *   {"event":"refused","reason":"digest mismatch","detail":"...","path":"/usr/bin/app"}
 *   {"event":"unit","path":"/usr/bin/app","module":"<sha256>","stub":"<sha256>",
 *    "policy":"<sha256>"|null,"signer":"<keyid>","signer_label":"a.pub.pem"|null,
 *    "abi":"wasi_snapshot_preview1","source":"/app"|null,
 *    "hardening":{"no_new_privs":true,"mdwe":true,"seccomp":true}}
 *
 * "hardening" is read back from the kernel (prctl) after the hardening call,
 * so it is evidence of the state the guest runs in.
 *
 * The vkernel has no public call for foreign events yet, so this file uses
 * its internal kiln__audit (src/vkernel/vk.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "platform/linux/harden.h"
#include "stub/stub.h"
#include "vkernel/vk.h"

/* The path of the running unit (readlink of /proc/self/exe) or "". */
static void self_path(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
}

/* Audits a refusal; see stub.h. */
void kiln_stub_audit_refused(struct kiln_vk *vk, const char *reason, const char *detail)
{
    char path[PATH_MAX], jp[PATH_MAX * 2], jr[256], jd[2048];
    if (vk == NULL) return;
    self_path(path, sizeof path);
    kiln__audit(vk, "refused", "\"reason\":%s,\"detail\":%s,\"path\":%s",
                kiln__json_str(jr, sizeof jr, reason), kiln__json_str(jd, sizeof jd, detail),
                kiln__json_str(jp, sizeof jp, path));
}

/* Index of the region of kind k, or -1. */
static int region(const struct kiln_unit *u, uint32_t k)
{
    size_t i;
    for (i = 0; i < u->statement.nregions; i++)
        if (u->statement.regions[i].kind == k) return (int)i;
    return -1;
}

/* Audits the verified unit; see stub.h. */
void kiln_stub_audit_unit(struct kiln_vk *vk, const struct kiln_unit *u,
                          const struct kiln_harden_status *st)
{
    char path[PATH_MAX], jp[PATH_MAX * 2], jl[512], ja[256], js[PATH_MAX * 2], pol[80];
    const struct kiln_manifest *m = &u->statement.manifest;
    int ip = region(u, KILN_REGION_POLICY), iw = region(u, KILN_REGION_WASM),
        is = region(u, KILN_REGION_STUB);
    if (vk == NULL) return;
    self_path(path, sizeof path);
    if (ip >= 0)
        snprintf(pol, sizeof pol, "\"%s\"", u->statement.sha256[ip]);
    else
        snprintf(pol, sizeof pol, "null");
    kiln__audit(vk, "unit",
                "\"path\":%s,\"module\":\"%s\",\"stub\":\"%s\",\"policy\":%s,\"signer\":\"%s\","
                "\"signer_label\":%s,\"abi\":%s,\"source\":%s,"
                "\"hardening\":{\"no_new_privs\":%s,\"mdwe\":%s,\"seccomp\":%s}",
                kiln__json_str(jp, sizeof jp, path), iw >= 0 ? u->statement.sha256[iw] : "",
                is >= 0 ? u->statement.sha256[is] : "", pol, u->signer_keyid,
                u->signer_label ? kiln__json_str(jl, sizeof jl, u->signer_label) : "null",
                kiln__json_str(ja, sizeof ja, m->guest_abi ? m->guest_abi : ""),
                m->source_path ? kiln__json_str(js, sizeof js, m->source_path) : "null",
                st->no_new_privs == 1 ? "true" : "false",
                st->mdwe > 0 && (st->mdwe & 1) ? "true" : "false",
                st->seccomp_mode == 2 ? "true" : "false");
}

/* Prints the timing line; see stub.h. */
void kiln_stub_timing_print(const struct kiln_stub_timing *t)
{
    fprintf(stderr,
            "kiln-stub-timing main=%llu setup=%llu read=%llu parse=%llu sig=%llu hash=%llu "
            "harden=%llu decode=%llu run_start=%llu\n",
            (unsigned long long)t->main_ns, (unsigned long long)t->setup_ns,
            (unsigned long long)t->read_ns, (unsigned long long)t->parse_ns,
            (unsigned long long)t->sig_ns, (unsigned long long)t->hash_ns,
            (unsigned long long)t->harden_ns, (unsigned long long)t->decode_ns,
            (unsigned long long)t->run_start_ns);
}
