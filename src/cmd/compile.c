/*
 * compile.c — `kiln compile MODULE.wasm -o OUT.so [--cc CC] [--keep-c DIR]
 * [-O LEVEL] [--parts N] [--jobs N] [--metered]`: ahead-of-time compilation
 * of a wasm module to a native shared object (include/kiln/aot.h). The output is
 * written to a temporary file and renamed; progress goes to stderr (none
 * with -q or --json; --json prints one JSON object on stdout at the end,
 * also when compilation fails).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/command.h"
#include "kiln/aot.h"
#include "kiln/wasm.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: kiln compile MODULE.wasm -o OUT.so [--cc CC] [--keep-c DIR] [-O LEVEL]\n"
               "                    [--parts N] [--jobs N] [--metered] [-q] [--json]\n"
               "\n"
               "Translates the validated module to C and compiles it with the system C\n"
               "compiler into a shared object that `kiln sign --aot` can pack into a unit.\n"
               "--metered: poll for interruption and count fuel at every function entry and\n"
               "  loop back-edge, like the interpreter (needed to run with fuel; slower).\n"
               "  Without it the code has no polls and is interrupted by a signal.\n"
               "--json: one JSON object on stdout (ok, module, output, sizes, seconds, target,\n"
               "  abi, metered).\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct prog {
    double t0;
    int quiet;
};

static void on_progress(void *arg, const char *msg)
{
    struct prog *p = arg;
    if (!p->quiet) fprintf(stderr, "kiln compile: [%6.2fs] %s\n", now() - p->t0, msg);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    size_t n = 0, cap = 0, r;
    if (!f) return -1;
    do {
        if (n == cap) {
            uint8_t *nb;
            cap = cap ? cap * 2 : 65536;
            nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            b = nb;
        }
        r = fread(b + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    if (ferror(f)) {
        free(b);
        fclose(f);
        return -1;
    }
    fclose(f);
    *out = b;
    *len = n;
    return 0;
}

/* --json result: ok, module, output, sizes, seconds, target/ABI, mode, error. */
static void print_json(const char *module, const char *out, size_t wasm_len, long long out_len,
                       double secs, bool metered, const char *error)
{
    json_t *j = json_pack("{s:b,s:s,s:s,s:I,s:o?,s:f,s:s,s:i,s:b,s:s?}", "ok", error == NULL,
                          "module", module, "output", out, "wasmBytes", (json_int_t)wasm_len,
                          "outputBytes", out_len >= 0 ? json_integer(out_len) : NULL, "seconds",
                          secs, "target", kiln_aot_target(), "abi", (int)kiln_aot_abi(),
                          "metered", metered, "error", error);
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s) puts(s);
    free(s);
    json_decref(j);
}

static int cmd_compile(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"cc", required_argument, NULL, 'c'},
        {"keep-c", required_argument, NULL, 'k'}, {"parts", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},   {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'J'},         {"metered", no_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct kiln_aot_opts opts;
    struct prog prog = {now(), 0};
    struct kiln_error err;
    struct kiln_module *mod = NULL;
    const char *out = NULL;
    char optflag[16];
    uint8_t *bytes = NULL;
    size_t len = 0;
    struct stat st;
    int c, rc = 1, json = 0;

    memset(&opts, 0, sizeof opts);
    memset(&err, 0, sizeof err);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:O:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'c': opts.cc = optarg; break;
        case 'k': opts.keep_c_dir = optarg; break;
        case 'p': opts.parts = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'j': opts.jobs = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'O':
            snprintf(optflag, sizeof optflag, "-O%s", optarg);
            opts.opt = optflag;
            break;
        case 'q': prog.quiet = 1; break;
        case 'J': json = prog.quiet = 1; break;
        case 'M': opts.metered = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || !out) {
        usage(stderr);
        return 2;
    }
    opts.progress = on_progress;
    opts.progress_arg = &prog;
    if (read_file(argv[optind], &bytes, &len) < 0) {
        fprintf(stderr, "kiln compile: %s: %s\n", argv[optind], strerror(errno));
        if (json)
            print_json(argv[optind], out, 0, -1, now() - prog.t0, opts.metered, strerror(errno));
        return 1;
    }
    if (kiln_module_new(bytes, len, NULL, &mod, &err) < 0) {
        fprintf(stderr, "kiln compile: %s: %s\n", argv[optind], err.msg);
        if (json) print_json(argv[optind], out, len, -1, now() - prog.t0, opts.metered, err.msg);
        goto out;
    }
    on_progress(&prog, "module decoded and validated");
    if (kiln_aot_compile(mod, out, &opts, &err) < 0) {
        fprintf(stderr, "kiln compile: %s: %s\n", argv[optind], err.msg);
        if (json) print_json(argv[optind], out, len, -1, now() - prog.t0, opts.metered, err.msg);
        goto out;
    }
    if (json)
        print_json(argv[optind], out, len, stat(out, &st) == 0 ? (long long)st.st_size : -1,
                   now() - prog.t0, opts.metered, NULL);
    if (stat(out, &st) == 0 && !prog.quiet)
        fprintf(stderr,
                "kiln compile: wrote %s (%lld bytes, %.2f MB/MB of wasm) in %.2fs (%s, ABI %u%s)\n",
                out, (long long)st.st_size, len ? (double)st.st_size / (double)len : 0.0,
                now() - prog.t0, kiln_aot_target(), kiln_aot_abi(),
                opts.metered ? ", metered" : "");
    rc = 0;
out:
    kiln_module_free(mod);
    free(bytes);
    return rc;
}

KILN_COMMAND(compile, "compile", "compile a wasm module ahead of time to a native object",
             cmd_compile);
