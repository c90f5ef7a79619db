/*
 * verify_run.c — `kiln verify-run`: checks a run attestation written by kilnd
 * when a container's last process exited (docs/kilnd-protocol.md, "Run
 * attestation"): a DSSE envelope holding an in-toto Statement v1 whose
 * predicate (https://kiln.dev/run/v1) names the container, the policy
 * digest, start/end times, every process with its unit digest, signer and
 * exit code, and the per-call summary.
 *
 * Checks, in order: the envelope parses strictly (canonical form); a
 * signature by the given node key verifies over the PAE; the statement type
 * and predicate type are right; the predicate is complete (container, policy,
 * times in order, at least one process, calls); the subjects are exactly the
 * distinct unit digests of the processes. Exit 0 valid (a summary is
 * printed), 1 refused with one line naming the reason, 2 usage. --json
 * prints one JSON object on stdout for both outcomes instead of the summary.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "kiln/unit.h"

#define RUN_PREDICATE_TYPE "https://kiln.dev/run/v1"

static void usage(FILE *f)
{
    fprintf(f, "usage: kiln verify-run --key NODE.pub.pem [--quiet] [--json] RUN.json\n\n"
               "Verifies a kilnd run attestation: the node key's signature, the statement\n"
               "and predicate types, the record's completeness and that its subjects are the\n"
               "unit digests of the processes that ran.\n\n"
               "  --json    one JSON object on stdout (verified or refused): the predicate's\n"
               "            container, policy, times, denials and processes\n\n"
               "Exit status: 0 valid, 1 refused (one line with the reason), 2 usage.\n");
}

static bool hex64(const char *s)
{
    size_t i;
    if (s == NULL || strlen(s) != 64) return false;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

/* Checks the statement; returns NULL when valid, else the reason. */
static const char *check_statement(json_t *st, char *why, size_t n)
{
    json_t *pred, *procs, *subj, *p, *s;
    const char *started, *finished;
    size_t i, k;
    if (!json_is_object(st)) return "payload is not a JSON object";
    if (!json_is_string(json_object_get(st, "_type")) ||
        strcmp(json_string_value(json_object_get(st, "_type")), KILN_STATEMENT_TYPE) != 0)
        return "not an in-toto Statement v1 (_type)";
    if (!json_is_string(json_object_get(st, "predicateType")) ||
        strcmp(json_string_value(json_object_get(st, "predicateType")), RUN_PREDICATE_TYPE) != 0)
        return "not a kiln run attestation (predicateType)";
    pred = json_object_get(st, "predicate");
    subj = json_object_get(st, "subject");
    if (!json_is_object(pred) || !json_is_array(subj)) return "predicate or subject missing";
    if (!json_is_string(json_object_get(pred, "container"))) return "predicate.container missing";
    if (!json_is_object(json_object_get(pred, "policy"))) return "predicate.policy missing";
    if (!json_is_object(json_object_get(pred, "calls"))) return "predicate.calls missing";
    started = json_string_value(json_object_get(pred, "started"));
    finished = json_string_value(json_object_get(pred, "finished"));
    if (started == NULL || finished == NULL) return "predicate.started/finished missing";
    if (strlen(started) != strlen(finished) || strcmp(started, finished) > 0)
        return "predicate.finished is before predicate.started";
    procs = json_object_get(pred, "processes");
    if (!json_is_array(procs) || json_array_size(procs) == 0) return "no processes recorded";
    json_array_foreach(procs, i, p)
    {
        const char *d = json_string_value(json_object_get(p, "sha256"));
        json_t *code = json_object_get(p, "exitCode");
        bool found = false;
        if (!json_is_integer(json_object_get(p, "pid")) || d == NULL ||
            !(json_is_integer(code) || json_is_null(code))) {
            snprintf(why, n, "predicate.processes[%zu] incomplete", i);
            return why;
        }
        if (d[0] == 0) continue; /* no unit file was presented */
        if (!hex64(d)) {
            snprintf(why, n, "predicate.processes[%zu].sha256 is not a SHA-256", i);
            return why;
        }
        json_array_foreach(subj, k, s)
        {
            const char *sd =
                json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
            found |= sd != NULL && strcmp(sd, d) == 0;
        }
        if (!found) {
            snprintf(why, n, "unit sha256:%.12s... of process %zu is not a subject", d, i);
            return why;
        }
    }
    json_array_foreach(subj, k, s)
    {
        const char *sd = json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
        bool found = false;
        if (!hex64(sd)) {
            snprintf(why, n, "subject[%zu] has no sha256 digest", k);
            return why;
        }
        json_array_foreach(procs, i, p)
        {
            const char *d = json_string_value(json_object_get(p, "sha256"));
            found |= d != NULL && strcmp(sd, d) == 0;
        }
        if (!found) {
            snprintf(why, n, "subject[%zu] names no process that ran", k);
            return why;
        }
    }
    return NULL;
}

static int cmd_verify_run(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *keyp = NULL, *path, *reason = NULL;
    struct kiln_pubkey key;
    struct kiln_error err = {0};
    struct kiln_dsse *env = NULL;
    json_t *st = NULL;
    char *text = NULL, why[256];
    size_t len = 0, i;
    bool quiet = false, sig_ok = false, json = false;
    int c, rc = 1;
    FILE *f;
    optind = 0;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keyp = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (keyp == NULL || optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    path = argv[optind];
    if (kiln_key_load_public(keyp, &key, &err) < 0) {
        fprintf(stderr, "kiln verify-run: %s\n", err.msg);
        return 2;
    }
    f = fopen(path, "rb");
    if (f != NULL) {
        size_t cap = 0;
        for (;;) {
            char *nb;
            size_t got;
            if (len + 65536 > cap && (nb = realloc(text, cap = cap * 2 + 65536)) != NULL) text = nb;
            if (text == NULL || len + 1 >= cap) break;
            got = fread(text + len, 1, cap - len - 1, f);
            len += got;
            if (got == 0) break;
        }
        fclose(f);
    }
    if (text == NULL) {
        snprintf(why, sizeof why, "cannot read the file");
        reason = why;
        goto out;
    }
    text[len] = 0;
    if (kiln_dsse_parse(text, len, &env, &err) < 0) {
        snprintf(why, sizeof why, "bad envelope: %s", err.msg);
        reason = why;
        goto out;
    }
    if (strcmp(env->payload_type, KILN_DSSE_PAYLOAD_TYPE) != 0) {
        reason = "payload type is not in-toto";
        goto out;
    }
    for (i = 0; i < env->nsigs && !sig_ok; i++)
        if (strcmp(env->sigs[i].keyid, key.keyid) == 0)
            sig_ok = kiln_dsse_verify_sig(env, i, &key, &err) == 1;
    if (!sig_ok) {
        snprintf(why, sizeof why, "no valid signature by node key %.16s...", key.keyid);
        reason = why;
        goto out;
    }
    st = json_loadb((const char *)env->payload, env->payload_len, 0, NULL);
    if ((reason = check_statement(st, why, sizeof why)) != NULL) goto out;
    rc = 0;
    if (json) {
        json_t *pred = json_object_get(st, "predicate");
        json_t *j = json_pack(
            "{s:s,s:b,s:s,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "path", path, "verified", 1,
            "nodeKey", key.keyid, "container", json_object_get(pred, "container"), "policy",
            json_object_get(pred, "policy"), "started", json_object_get(pred, "started"),
            "finished", json_object_get(pred, "finished"), "denials",
            json_object_get(pred, "denials"), "processes", json_object_get(pred, "processes"),
            "calls", json_object_get(pred, "calls"));
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (s) puts(s);
        free(s);
        json_decref(j);
    } else if (!quiet) {
        json_t *pred = json_object_get(st, "predicate"), *p;
        json_t *pd = json_object_get(json_object_get(pred, "policy"), "digest");
        printf("run attestation OK: container %s, %zu process(es), signed by node key %.16s...\n",
               json_string_value(json_object_get(pred, "container")),
               json_array_size(json_object_get(pred, "processes")), key.keyid);
        printf("  policy %s%s%s\n",
               json_string_value(json_object_get(json_object_get(pred, "policy"), "name")),
               json_is_object(pd) ? " sha256:" : "",
               json_is_object(pd) ? json_string_value(json_object_get(pd, "sha256")) : "");
        printf("  %s .. %s, %lld denial(s)\n", json_string_value(json_object_get(pred, "started")),
               json_string_value(json_object_get(pred, "finished")),
               (long long)json_integer_value(json_object_get(pred, "denials")));
        json_array_foreach(json_object_get(pred, "processes"), i, p)
        {
            json_t *code = json_object_get(p, "exitCode");
            const char *sg = json_string_value(json_object_get(p, "signer"));
            char ec[32];
            if (json_is_null(code))
                snprintf(ec, sizeof ec, "none");
            else
                snprintf(ec, sizeof ec, "%lld", (long long)json_integer_value(code));
            printf("  pid %lld %s sha256:%s signer %s exit %s (%s)\n",
                   (long long)json_integer_value(json_object_get(p, "pid")),
                   json_string_value(json_object_get(p, "unit")),
                   json_string_value(json_object_get(p, "sha256")), sg ? sg : "(unsigned)", ec,
                   json_string_value(json_object_get(p, "reason")));
        }
    }
out:
    if (reason != NULL) {
        fprintf(stderr, "kiln verify-run: %s: refused: %s\n", path, reason);
        if (json) {
            json_t *j = json_pack("{s:s,s:b,s:s}", "path", path, "verified", 0, "error", reason);
            char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
            if (s) puts(s);
            free(s);
            json_decref(j);
        }
    }
    json_decref(st);
    kiln_dsse_free(env);
    free(text);
    return rc;
}

KILN_COMMAND(verify_run, "verify-run", "check a kilnd run attestation (DSSE, node key)",
             cmd_verify_run);
