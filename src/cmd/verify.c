/*
 * verify.c — `kiln verify`: checks a unit against a trust store (a
 * directory, explicit public keys, or the system store) and prints who signed
 * what. Exit 0 only when the unit is valid; 1 with one line naming the
 * reason when it is refused; 2 on usage errors. --json prints one JSON object
 * on stdout for both outcomes (the refusal line still goes to stderr).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "kiln/unit.h"

#define MAX_SOURCES 16

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kiln verify [--trust DIR ...] [--key PUB.pem ...] UNIT\n\n"
            "Verifies UNIT: footer, envelope, a signature by a trusted non-revoked key,\n"
            "every region's SHA-256 and the manifest versions. Without --trust/--key the\n"
            "system trust store is used (%s, or the directory named\n"
            "in %s when that root-owned file exists).\n\n"
            "  --trust DIR      trust the *.pem public keys in DIR, minus DIR/revoked\n"
            "  --key PUB.pem    trust this public key\n"
            "  --timing         also print where verification spent its time\n"
            "  --json           one JSON object on stdout (verified or refused)\n"
            "  -h, --help       this text\n\n"
            "Exit status: 0 valid, 1 refused (one line with the reason), 2 usage.\n",
            kiln_trust_default_dir(), kiln_trust_config_path());
}

/* --json: {"path", "verified", and either "signer", "signatures",
 * "manifest", "regions", "timingMs" or "refusal", "error"}. */
static void print_json(const char *path, const struct kiln_unit *u, enum kiln_refusal why,
                       const char *msg)
{
    json_t *j;
    char *s;
    if (!u) {
        j = json_pack("{s:s,s:b,s:s,s:s}", "path", path, "verified", 0, "refusal",
                      kiln_refusal_name(why), "error", msg ? msg : "");
    } else {
        const struct kiln_manifest *m = &u->statement.manifest;
        json_t *regions = json_array();
        for (size_t i = 0; i < u->statement.nregions; i++)
            json_array_append_new(regions,
                                  json_pack("{s:s,s:s,s:I,s:I}", "name",
                                            kiln_region_name(u->statement.regions[i].kind),
                                            "sha256", u->statement.sha256[i], "offset",
                                            (json_int_t)u->statement.regions[i].offset, "length",
                                            (json_int_t)u->statement.regions[i].length));
        j = json_pack("{s:s,s:b,s:{s:s,s:s?},s:I,s:{s:s,s:i,s:i,s:s,s:{s:s,s:s,s:s},s:o},s:o,"
                      "s:{s:f,s:f,s:f,s:f}}",
                      "path", path, "verified", 1, "signer", "keyid", u->signer_keyid, "label",
                      u->signer_label, "signatures", (json_int_t)u->nsigs, "manifest", "guestAbi",
                      m->guest_abi, "engineVersion", m->engine_version, "formatVersion",
                      m->format_version, "tool", m->tool_version, "source", "path", m->source_path,
                      "kind", m->source_kind, "sha256", m->source_sha256, "aot",
                      m->has_aot ? json_pack("{s:s,s:s}", "target", m->aot_target, "compiler",
                                             m->aot_compiler)
                                 : json_null(),
                      "regions", regions, "timingMs", "read", u->timing.read_ns / 1e6, "parse",
                      u->timing.parse_ns / 1e6, "signature", u->timing.sig_ns / 1e6, "digests",
                      u->timing.hash_ns / 1e6);
    }
    s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(j);
}

static int cmd_verify(int argc, char **argv)
{
    enum { O_TRUST = 256, O_KEY, O_TIMING, O_JSON };
    static const struct option opts[] = {{"trust", required_argument, NULL, O_TRUST},
                                         {"key", required_argument, NULL, O_KEY},
                                         {"timing", no_argument, NULL, O_TIMING},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dirs[MAX_SOURCES], *keys[MAX_SOURCES], *path;
    size_t ndirs = 0, nkeys = 0, i;
    struct kiln_trust_store *ts = NULL;
    struct kiln_unit *u = NULL;
    struct kiln_error err = {0};
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    int c, rc = 1;
    bool timing = false, json = false;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_TRUST:
        case O_KEY:
            if (ndirs + nkeys == MAX_SOURCES) {
                fprintf(stderr, "kiln verify: too many --trust/--key options\n");
                return 2;
            }
            if (c == O_TRUST)
                dirs[ndirs++] = optarg;
            else
                keys[nkeys++] = optarg;
            break;
        case O_TIMING:
            timing = true;
            break;
        case O_JSON:
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
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    path = argv[optind];
    if (ndirs + nkeys == 0) {
        if (kiln_trust_store_open_default(&ts, &err) < 0) goto fail;
    } else {
        if (kiln_trust_store_new(&ts, &err) < 0) goto fail;
        for (i = 0; i < ndirs; i++)
            if (kiln_trust_store_load_dir(ts, dirs[i], &err) < 0) goto fail;
        for (i = 0; i < nkeys; i++) {
            struct kiln_pubkey k;
            if (kiln_key_load_public(keys[i], &k, &err) < 0 ||
                kiln_trust_store_add(ts, &k, keys[i], &err) < 0)
                goto fail;
        }
    }
    if (kiln_unit_verify_file(path, ts, &u, &why, &err) < 0) {
        fprintf(stderr, "kiln verify: %s: refused: %s\n", path, err.msg);
        if (json) print_json(path, NULL, why, err.msg);
        kiln_trust_store_free(ts);
        return 1;
    }
    if (json) {
        print_json(path, u, KILN_REFUSAL_NONE, NULL);
    } else {
        const struct kiln_manifest *m = &u->statement.manifest;
        printf("%s: verified\n", path);
        printf("  signed by   %s%s%s%s (%zu signature%s in the envelope)\n", u->signer_keyid,
               u->signer_label ? " (" : "", u->signer_label ? u->signer_label : "",
               u->signer_label ? ")" : "", u->nsigs, u->nsigs == 1 ? "" : "s");
        printf("  guest ABI   %s, engine version %d, format v%d, by %s\n", m->guest_abi,
               m->engine_version, m->format_version, m->tool_version);
        printf("  source      %s (%s, sha256:%s)\n", m->source_path, m->source_kind,
               m->source_sha256);
        if (m->has_aot)
            printf("  aot         target %s, compiler %s\n", m->aot_target, m->aot_compiler);
        for (i = 0; i < u->statement.nregions; i++)
            printf("  %-11s sha256:%s %llu bytes\n", kiln_region_name(u->statement.regions[i].kind),
                   u->statement.sha256[i], (unsigned long long)u->statement.regions[i].length);
        if (timing)
            printf("  timing      read %.3f ms, parse %.3f ms, signature %.3f ms, "
                   "digests %.3f ms\n",
                   u->timing.read_ns / 1e6, u->timing.parse_ns / 1e6, u->timing.sig_ns / 1e6,
                   u->timing.hash_ns / 1e6);
    }
    rc = 0;
fail:
    if (rc != 0) fprintf(stderr, "kiln verify: refused: trust store: %s\n", err.msg);
    kiln_unit_free(u);
    kiln_trust_store_free(ts);
    return rc;
}

KILN_COMMAND(verify, "verify", "verify a signed unit and show who signed what", cmd_verify);
