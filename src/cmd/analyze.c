/*
 * analyze.c — `kiln analyze IMAGE|ROOTFS`: classifies every executable
 * (wasm, ELF, script, other), prints a summary or the JSON report, and
 * writes the draft policy. An image is extracted (digests checked) into a
 * private temporary directory that is removed afterwards; a directory that
 * is not an OCI layout is analyzed as a root filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
    fprintf(f, "usage: kiln analyze [options] IMAGE[:REF] | ROOTFS-DIR\n\n"
               "Classifies every executable of an image (or of an unpacked root filesystem):\n"
               "wasm modules (imports, exports, ABI), ELF files (class, machine, linkage,\n"
               "PT_INTERP, DT_NEEDED, imported symbols, syscall sites, JIT indicators), scripts\n"
               "and their interpreters; builds the dependency graph and a draft policy.\n\n"
               "  --json               print the full JSON report instead of the summary\n"
               "  --report FILE        also write the JSON report to FILE\n"
               "  --policy FILE        write the draft policy (docs/policy.md) to FILE\n"
               "  --rootfs             treat the argument as a root filesystem "
               "directory\n" KILN_IMAGE_OPTIONS_HELP);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fputc('\n', f);
    return fclose(f) == 0 ? 0 : -1;
}

static int is_rootfs_dir(const char *path)
{
    struct stat st;
    char p[4096];
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    snprintf(p, sizeof p, "%s/index.json", path);
    return access(p, F_OK) != 0;
}

static int cmd_analyze(int argc, char **argv)
{
    enum { O_JSON = 300, O_REPORT, O_POLICY, O_ROOTFS };
    static const struct option opts[] = {KILN_IMAGE_LONGOPTS,
                                         {"json", no_argument, NULL, O_JSON},
                                         {"report", required_argument, NULL, O_REPORT},
                                         {"policy", required_argument, NULL, O_POLICY},
                                         {"rootfs", no_argument, NULL, O_ROOTFS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct kiln_image_options opt;
    struct kiln_analyze_options aopt = {0};
    struct kiln_image *img = NULL;
    struct kiln_analysis *an = NULL;
    struct kiln_error err = {0};
    struct kiln_cmd_progress prog = {0};
    const char *report_path = NULL, *policy_path = NULL, *rootfs;
    char *path = NULL, *text = NULL, tmpl[4096] = "", rootdir[4200] = "";
    int c, json = 0, force_rootfs = 0, rc = 1;

    kiln_image_options_default(&opt);
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = kiln_cmd_image_option(c, optarg, &opt);
        if (r < 0) {
            fprintf(stderr, "kiln analyze: bad number: %s\n", optarg);
            return 2;
        }
        if (r) continue;
        switch (c) {
        case O_JSON:
            json = 1;
            break;
        case O_REPORT:
            report_path = optarg;
            break;
        case O_POLICY:
            policy_path = optarg;
            break;
        case O_ROOTFS:
            force_rootfs = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    if (force_rootfs || is_rootfs_dir(argv[optind])) {
        rootfs = argv[optind];
    } else {
        const char *tmp = getenv("TMPDIR");
        path = kiln_cmd_split_image_ref(argv[optind], &opt.ref);
        prog.tty = isatty(2);
        opt.progress = kiln_cmd_progress;
        opt.progress_ctx = &prog;
        if (!path || kiln_image_open(path, &opt, &img, &err) < 0) {
            fprintf(stderr, "kiln analyze: %s\n", path ? err.msg : "out of memory");
            goto out;
        }
        snprintf(tmpl, sizeof tmpl, "%s/kiln-analyze-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpl)) {
            fprintf(stderr, "kiln analyze: %s: %s\n", tmpl, strerror(errno));
            tmpl[0] = 0;
            goto out;
        }
        snprintf(rootdir, sizeof rootdir, "%s/rootfs", tmpl);
        if (kiln_image_extract(img, rootdir, NULL, &err) < 0) {
            if (prog.tty) fputc('\n', stderr);
            fprintf(stderr, "kiln analyze: %s\n", err.msg);
            goto out;
        }
        if (prog.tty) fprintf(stderr, "\r%-60s\r", "");
        rootfs = rootdir;
        aopt.config = &img->config;
        aopt.label = img->path;
    }
    if (kiln_analyze_rootfs(rootfs, &aopt, &an, &err) < 0) {
        fprintf(stderr, "kiln analyze: %s\n", err.msg);
        goto out;
    }
    if (policy_path) {
        if (kiln_analysis_policy_json(an, &text, &err) < 0 || write_text(policy_path, text) < 0) {
            fprintf(stderr, "kiln analyze: %s: %s\n", policy_path,
                    text ? strerror(errno) : err.msg);
            goto out;
        }
        free(text);
        text = NULL;
    }
    if (json || report_path) {
        if (kiln_analysis_report_json(an, &text, &err) < 0) {
            fprintf(stderr, "kiln analyze: %s\n", err.msg);
            goto out;
        }
        if (report_path && write_text(report_path, text) < 0) {
            fprintf(stderr, "kiln analyze: %s: %s\n", report_path, strerror(errno));
            goto out;
        }
        if (json) puts(text);
        free(text);
        text = NULL;
    }
    if (!json) {
        if (kiln_analysis_summary(an, &text, &err) < 0) {
            fprintf(stderr, "kiln analyze: %s\n", err.msg);
            goto out;
        }
        if (img)
            printf("image (%s), manifest %s\n", kiln_image_format_name(img->format),
                   img->manifest_digest[0] ? img->manifest_digest : "(legacy docker)");
        fputs(text, stdout);
    }
    rc = 0;
out:
    free(text);
    kiln_analysis_free(an);
    kiln_image_free(img);
    if (tmpl[0]) {
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        (void)kiln_image_remove_tree_at(fd, tmpl + 1);
        close(fd);
    }
    free(path);
    return rc;
}

KILN_COMMAND(analyze, "analyze",
             "classify an image's executables; JSON report, dependency graph, draft policy",
             cmd_analyze);
