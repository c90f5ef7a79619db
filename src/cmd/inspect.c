/*
 * inspect.c — `kiln inspect UNIT [--json]`: shows a unit's footer, regions
 * (with their actual SHA-256), signatures and manifest WITHOUT verifying
 * anything; use `kiln verify` for a trust decision.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "kiln/unit.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: kiln inspect [--json] UNIT\n\n"
               "Shows the unit's layout, actual region digests, signature key ids and signed\n"
               "statement. Nothing is verified: see `kiln verify`.\n\n"
               "  --json       one JSON object (footer, regions, envelope, statement)\n"
               "  -h, --help   this text\n");
}

static int print_json(const char *path, size_t size, const struct kiln_unit_info *info)
{
    json_t *root = json_object(), *regions = json_array(), *env = json_null(), *st = json_null();
    uint32_t i;
    char *s;
    for (i = 0; i < info->footer.region_count; i++) {
        const struct kiln_unit_region *r = &info->footer.regions[i];
        json_array_append_new(regions, json_pack("{s:i,s:s,s:I,s:I,s:s}", "kind", (int)r->kind,
                                                 "name", kiln_region_name(r->kind), "offset",
                                                 (json_int_t)r->offset, "length",
                                                 (json_int_t)r->length, "sha256", info->sha256[i]));
    }
    if (info->envelope) {
        json_t *sigs = json_array();
        size_t k;
        for (k = 0; k < info->envelope->nsigs; k++)
            json_array_append_new(sigs, json_pack("{s:s}", "keyid", info->envelope->sigs[k].keyid));
        json_decref(env);
        env =
            json_pack("{s:s,s:o}", "payloadType", info->envelope->payload_type, "signatures", sigs);
        if (info->has_statement) {
            json_decref(st);
            st = json_loadb((const char *)info->envelope->payload, info->envelope->payload_len, 0,
                            NULL);
            if (!st) st = json_null();
        }
    }
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "size", json_integer((json_int_t)size));
    json_object_set_new(root, "verified", json_false());
    json_object_set_new(root, "footer",
                        json_pack("{s:i,s:i,s:o,s:{s:I,s:I}}", "version", (int)info->footer.version,
                                  "flags", (int)info->footer.flags, "regions", regions, "envelope",
                                  "offset", (json_int_t)info->footer.envelope_offset, "length",
                                  (json_int_t)info->footer.envelope_length));
    json_object_set_new(root, "envelope", env);
    json_object_set_new(root, "statement", st);
    if (info->envelope_error[0])
        json_object_set_new(root, "error", json_string(info->envelope_error));
    s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (!s) return 1;
    printf("%s\n", s);
    free(s);
    return 0;
}

static void print_text(const char *path, size_t size, const struct kiln_unit_info *info)
{
    uint32_t i;
    size_t k;
    printf("%s: kiln unit, format v%u, %zu bytes (NOT verified; use kiln verify)\n", path,
           info->footer.version, size);
    printf("  regions:\n");
    for (i = 0; i < info->footer.region_count; i++) {
        const struct kiln_unit_region *r = &info->footer.regions[i];
        printf("    %-12s offset %10llu  length %10llu  sha256:%s\n", kiln_region_name(r->kind),
               (unsigned long long)r->offset, (unsigned long long)r->length, info->sha256[i]);
    }
    printf("    %-12s offset %10llu  length %10llu\n", "envelope",
           (unsigned long long)info->footer.envelope_offset,
           (unsigned long long)info->footer.envelope_length);
    printf("    %-12s offset %10llu  length %10d\n", "footer",
           (unsigned long long)(size - KILN_UNIT_FOOTER_SIZE), KILN_UNIT_FOOTER_SIZE);
    if (!info->envelope) {
        printf("  envelope: %s\n", info->envelope_error);
        return;
    }
    printf("  envelope: %s, %zu signature(s)\n", info->envelope->payload_type,
           info->envelope->nsigs);
    for (k = 0; k < info->envelope->nsigs; k++)
        printf("    keyid %s\n", info->envelope->sigs[k].keyid);
    if (!info->has_statement) {
        printf("  statement: %s\n", info->envelope_error);
        return;
    }
    printf("  statement: %s\n    predicateType %s\n", info->statement.statement_type,
           info->statement.predicate_type);
    for (k = 0; k < info->statement.nregions; k++) {
        const char *n = kiln_region_name(info->statement.regions[k].kind);
        printf("    subject %-12s sha256:%s%s\n", n ? n : "?", info->statement.sha256[k],
               k < info->footer.region_count && !strcmp(info->statement.sha256[k], info->sha256[k])
                   ? ""
                   : "  (DIFFERS from the region's bytes)");
    }
    if (info->statement.has_manifest) {
        const struct kiln_manifest *m = &info->statement.manifest;
        printf("  manifest:\n    format v%d, engine version %d, tool %s\n    guest ABI %s\n"
               "    source %s (%s, sha256:%s)\n",
               m->format_version, m->engine_version, m->tool_version, m->guest_abi, m->source_path,
               m->source_kind, m->source_sha256);
        if (m->has_policy) printf("    policy sha256:%s\n", m->policy_sha256);
        if (m->has_aot) printf("    aot target %s, compiler %s\n", m->aot_target, m->aot_compiler);
    }
}

static int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct kiln_unit_info *info = NULL;
    struct kiln_error err = {0};
    uint8_t *data = NULL;
    size_t size;
    bool json = false;
    int c, rc = 1;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
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
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (kiln_trust_read_file(argv[optind], KILN_UNIT_MAX_SIZE, &data, &size, &err) < 0 ||
        kiln_unit_inspect(data, size, &info, &err) < 0) {
        fprintf(stderr, "kiln inspect: %s: %s\n", argv[optind], err.msg);
        goto done;
    }
    if (json)
        rc = print_json(argv[optind], size, info);
    else {
        print_text(argv[optind], size, info);
        rc = 0;
    }
done:
    kiln_unit_info_free(info);
    free(data);
    return rc;
}

KILN_COMMAND(inspect, "inspect", "show a unit's layout, signers and manifest (unverified)",
             cmd_inspect);
