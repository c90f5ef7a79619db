/*
 * unpack.c — `kiln unpack IMAGE DIR`: extracts an image's layers into a new
 * root filesystem directory with every digest checked (src/image/). Prints
 * the image config and extraction counts; `--json` for machines.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/command.h"
#include "cmd/image_cmd.h"
#include "kiln/image.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: kiln unpack [options] IMAGE[:REF] DIR\n\n"
               "Extracts IMAGE (OCI layout directory, oci-archive or docker-archive tar) into the\n"
               "new directory DIR, checking every blob's digest; unsafe entries are "
               "refused.\n\n" KILN_IMAGE_OPTIONS_HELP
               "  --json               machine-readable result\n");
}

/* Contract in image_cmd.h. */
void kiln_cmd_progress(void *ctx, const char *what, const char *id, uint64_t done, uint64_t total)
{
    struct kiln_cmd_progress *p = ctx;
    if (!p->tty) return;
    fprintf(stderr, "\r%s %.19s %llu/%llu KiB ", what, id, (unsigned long long)(done >> 10),
            (unsigned long long)(total >> 10));
}

/* Contract in image_cmd.h. */
char *kiln_cmd_split_image_ref(const char *arg, const char **ref)
{
    struct stat st;
    char *p = strdup(arg);
    if (!p || stat(p, &st) == 0) return p;
    char *c = strrchr(p, ':');
    if (c && c != p) {
        *c = 0;
        if (stat(p, &st) == 0) {
            *ref = c + 1;
            return p;
        }
        *c = ':';
    }
    return p;
}

/* Contract in image_cmd.h. */
int kiln_cmd_image_option(int c, const char *arg, struct kiln_image_options *opt)
{
    char *end;
    unsigned long long v;
    switch (c) {
    case 1001:
        opt->ref = arg;
        return 1;
    case 1002:
        opt->platform = arg;
        return 1;
    case 1003:
        opt->allow_setuid = true;
        return 1;
    case 1004:
        opt->allow_devices = true;
        return 1;
    case 1005:
        opt->allow_fifos = true;
        return 1;
    case 1006:
        opt->keep_owner = true;
        return 1;
    case 1007:
    case 1008:
    case 1009:
        v = strtoull(arg, &end, 0);
        if (*end || !*arg) return -1;
        if (c == 1007) opt->limits.max_layer_bytes = v;
        if (c == 1008) opt->limits.max_total_bytes = v;
        if (c == 1009) opt->limits.max_entries = v;
        return 1;
    }
    return 0;
}

static int cmd_unpack(int argc, char **argv)
{
    static const struct option opts[] = {KILN_IMAGE_LONGOPTS,
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct kiln_image_options opt;
    struct kiln_image *img = NULL;
    struct kiln_image_stats st;
    struct kiln_error err = {0};
    struct kiln_cmd_progress prog = {0};
    char *path = NULL;
    int c, json = 0, rc = 1;

    kiln_image_options_default(&opt);
    opt.keep_owner = geteuid() == 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = kiln_cmd_image_option(c, optarg, &opt);
        if (r < 0) {
            fprintf(stderr, "kiln unpack: bad number: %s\n", optarg);
            return 2;
        }
        if (r) continue;
        if (c == 'j')
            json = 1;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return 2;
    }
    path = kiln_cmd_split_image_ref(argv[optind], &opt.ref);
    prog.tty = isatty(2) && !json;
    opt.progress = kiln_cmd_progress;
    opt.progress_ctx = &prog;
    if (!path || kiln_image_open(path, &opt, &img, &err) < 0 ||
        kiln_image_extract(img, argv[optind + 1], &st, &err) < 0) {
        if (prog.tty) fputc('\n', stderr);
        fprintf(stderr, "kiln unpack: %s\n", path ? err.msg : "out of memory");
        goto out;
    }
    if (prog.tty) fprintf(stderr, "\r%-60s\r", "");
    if (json) {
        json_t *j = json_pack(
            "{s:s,s:s,s:s,s:s,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}", "image", img->path,
            "format", kiln_image_format_name(img->format), "manifest", img->manifest_digest,
            "config", img->config_digest, "layers", (json_int_t)img->nlayers, "stats", "entries",
            (json_int_t)st.entries, "files", (json_int_t)st.files, "dirs", (json_int_t)st.dirs,
            "symlinks", (json_int_t)st.symlinks, "hardlinks", (json_int_t)st.hardlinks, "whiteouts",
            (json_int_t)st.whiteouts, "bytes", (json_int_t)st.bytes, "blobBytes",
            (json_int_t)st.blob_bytes, "strippedSetid", (json_int_t)st.stripped_setid, "skipped",
            (json_int_t)st.skipped);
        char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (s) puts(s);
        free(s);
        json_decref(j);
    } else {
        printf("%s (%s), %zu layer(s), manifest %s\n", img->path,
               kiln_image_format_name(img->format), img->nlayers,
               img->manifest_digest[0] ? img->manifest_digest : "(legacy docker)");
        printf("unpacked into %s: %llu entries, %llu files, %llu dirs, %llu symlinks, "
               "%llu hard links, %llu whiteouts, %llu bytes",
               argv[optind + 1], (unsigned long long)st.entries, (unsigned long long)st.files,
               (unsigned long long)st.dirs, (unsigned long long)st.symlinks,
               (unsigned long long)st.hardlinks, (unsigned long long)st.whiteouts,
               (unsigned long long)st.bytes);
        if (st.stripped_setid)
            printf(", setuid/setgid stripped from %llu", (unsigned long long)st.stripped_setid);
        printf("\n");
    }
    rc = 0;
out:
    kiln_image_free(img);
    free(path);
    return rc;
}

KILN_COMMAND(unpack, "unpack", "extract a container image into a root filesystem (digests checked)",
             cmd_unpack);
