/*
 * main.c — kiln-spec: runs wast2json output files against the engine.
 *
 *   kiln-spec [--verbose|--quiet] [--fuel N] [--max-call-depth N]
 *             [--value-stack BYTES] [--max-memory BYTES] FILE.json...
 *
 * Prints one line per failed check ("FILE:LINE: <command>: expected X, got
 * Y"), then "N known failures" (with --xfail, if any), "N skipped" and, as
 * the last line, "N passed, N failed". With
 * several files, a per-file count line precedes the totals. Exit status: 0
 * iff nothing failed, 1 if a check failed, 2 on a usage error or a file that
 * cannot be read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kiln-spec [OPTIONS] FILE.json...\n"
            "\n"
            "Runs the commands of wast2json output files (wabt) against kiln's engine.\n"
            "The last output line is \"N passed, N failed\"; exit 0 iff none failed.\n"
            "\n"
            "options:\n"
            "  -v, --verbose            print every command's outcome and spectest prints\n"
            "  -q, --quiet              print only the summary lines\n"
            "      --fuel N             steps per call before an out-of-fuel trap (0 = none)\n"
            "      --max-call-depth N   wasm call frames before \"call stack exhausted\"\n"
            "      --value-stack BYTES  interpreter value stack size\n"
            "      --max-memory BYTES   cap on every linear memory\n"
            "      --aot DIR            compile every module to native code (cached in DIR)\n"
            "      --xfail FILE         known failures: lines \"NAME.wast:LINE reason\"; such a\n"
            "                           check failing is not counted, passing is a failure\n"
            "  -h, --help               this text\n");
}

/* Parses an unsigned number option; exits with status 2 if malformed. */
static uint64_t number(const char *opt, const char *s)
{
    char *end;
    uint64_t v;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "kiln-spec: %s: not a number: %s\n", opt, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    enum { OPT_FUEL = 256, OPT_DEPTH, OPT_VSTACK, OPT_MAXMEM, OPT_AOT, OPT_XFAIL };
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"fuel", required_argument, NULL, OPT_FUEL},
        {"max-call-depth", required_argument, NULL, OPT_DEPTH},
        {"value-stack", required_argument, NULL, OPT_VSTACK},
        {"max-memory", required_argument, NULL, OPT_MAXMEM},
        {"aot", required_argument, NULL, OPT_AOT},
        {"xfail", required_argument, NULL, OPT_XFAIL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct spec_opts opts;
    struct spec_counts total = {0, 0, 0, 0};
    struct spec_xfail *xfail = NULL;
    int c, i, status = 0;

    memset(&opts, 0, sizeof opts);
    kiln_store_config_default(&opts.cfg);
    while ((c = getopt_long(argc, argv, "vqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'v':
            opts.verbose = 1;
            opts.quiet = 0;
            break;
        case 'q':
            opts.quiet = 1;
            opts.verbose = 0;
            break;
        case OPT_FUEL:
            opts.cfg.fuel = number("--fuel", optarg);
            break;
        case OPT_DEPTH:
            opts.cfg.max_call_depth = (uint32_t)number("--max-call-depth", optarg);
            break;
        case OPT_VSTACK:
            opts.cfg.value_stack_bytes = (size_t)number("--value-stack", optarg);
            break;
        case OPT_MAXMEM:
            opts.cfg.max_memory_bytes = number("--max-memory", optarg);
            break;
        case OPT_AOT:
            opts.aot_cache = optarg;
            break;
        case OPT_XFAIL:
            spec_xfail_free(xfail);
            xfail = spec_xfail_load(optarg);
            if (!xfail)
                return 2;
            opts.xfail = xfail;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    /* Failures are printed as they happen; keep them in order with a crash. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i = optind; i < argc; i++) {
        struct spec_counts one = {0, 0, 0, 0};
        if (spec_run_file(argv[i], &opts, &one) < 0)
            status = 2;
        if (argc - optind > 1 && !opts.quiet)
            printf("%s: %u passed, %u failed, %u skipped\n", argv[i], one.passed, one.failed,
                   one.skipped);
        total.passed += one.passed;
        total.failed += one.failed;
        total.skipped += one.skipped;
        total.xfailed += one.xfailed;
    }
    spec_xfail_free(xfail);
    if (total.xfailed)
        printf("%u known failures\n", total.xfailed);
    printf("%u skipped\n", total.skipped);
    printf("%u passed, %u failed\n", total.passed, total.failed);
    if (status)
        return status;
    return total.failed ? 1 : 0;
}
