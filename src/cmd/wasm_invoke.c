/*
 * wasm_invoke.c — developer commands over the engine's public API:
 *
 *   kiln wasm invoke [--fuel N] [--max-memory BYTES] MODULE.wasm FUNC [ARGS...]
 *   kiln wasm validate MODULE.wasm
 *
 * invoke instantiates a module that has no imports, calls export FUNC with
 * ARGS parsed per its parameter types (i32/i64: decimal, signed or not, or
 * 0x hex; f32/f64: decimal, hex float, inf, nan; externref: null or a number
 * N meaning host value N; funcref: null; v128: 0x and 32 hex digits, most
 * significant first) and prints each result on its own line as TYPE:VALUE
 * (i32:42, f64:-0, v128:0x...). Exit status: 0 success, 1 trap ("kiln: trap:
 * MESSAGE" on stderr), 2 usage error or a module that does not load, link or
 * instantiate (the engine's message names section, offset and reason).
 *
 * validate decodes and validates: exit 0 if valid, 1 with the engine's error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "kiln/aot.h"
#include "kiln/wasm.h"

static const char *valtype_name(uint8_t t)
{
    switch (t) {
    case KILN_I32:
        return "i32";
    case KILN_I64:
        return "i64";
    case KILN_F32:
        return "f32";
    case KILN_F64:
        return "f64";
    case KILN_V128:
        return "v128";
    case KILN_FUNCREF:
        return "funcref";
    case KILN_EXTERNREF:
        return "externref";
    default:
        return "?";
    }
}

/* Reads a whole file into a malloc'd buffer. Returns 0, or -1 with a
 * message on stderr. */
static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *nbuf;
    size_t len = 0, cap = 0, n;
    if (!f) {
        fprintf(stderr, "kiln: %s: %s\n", path, strerror(errno));
        return -1;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            nbuf = realloc(buf, cap);
            if (!nbuf) {
                fprintf(stderr, "kiln: %s: out of memory\n", path);
                goto fail;
            }
            buf = nbuf;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        fprintf(stderr, "kiln: %s: %s\n", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    *out = buf;
    *out_len = len;
    return 0;
fail:
    fclose(f);
    free(buf);
    return -1;
}

/* Loads a module; prints the engine's error and returns NULL on failure. */
static struct kiln_module *load(const char *path, int *code)
{
    uint8_t *bytes;
    size_t len;
    struct kiln_module *mod = NULL;
    struct kiln_error err = {0};
    *code = KILN_E_IO;
    if (read_file(path, &bytes, &len) < 0)
        return NULL;
    if (kiln_module_new(bytes, len, NULL, &mod, &err) < 0) {
        fprintf(stderr, "kiln: %s: %s\n", path, err.msg);
        *code = err.code;
        mod = NULL;
    }
    free(bytes);
    return mod;
}

/* Parses an integer of `bits` bits: signed or unsigned decimal, or 0x hex. */
static int parse_int(const char *s, unsigned bits, uint64_t *out)
{
    char *end;
    uint64_t v;
    errno = 0;
    if (s[0] == '-') {
        int64_t sv = strtoll(s, &end, 0);
        if (bits < 64 && sv < -((int64_t)1 << (bits - 1)))
            return -1;
        v = (uint64_t)sv;
    } else {
        v = strtoull(s, &end, 0);
        if (bits < 64 && v >> bits)
            return -1;
    }
    if (errno || end == s || *end)
        return -1;
    *out = bits < 64 ? v & (((uint64_t)1 << bits) - 1) : v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses one argument of type t into *v. Returns 0 or -1. */
static int parse_arg(uint8_t t, const char *s, struct kiln_val *v)
{
    char *end;
    uint64_t x;
    memset(v, 0, sizeof *v);
    v->type = t;
    switch (t) {
    case KILN_I32:
        if (parse_int(s, 32, &x) < 0)
            return -1;
        v->of.i32 = (int32_t)(uint32_t)x;
        return 0;
    case KILN_I64:
        if (parse_int(s, 64, &x) < 0)
            return -1;
        v->of.i64 = (int64_t)x;
        return 0;
    case KILN_F32: {
        float f;
        errno = 0;
        f = strtof(s, &end);
        if (end == s || *end)
            return -1;
        memcpy(&v->of.f32, &f, 4);
        return 0;
    }
    case KILN_F64: {
        double d;
        d = strtod(s, &end);
        if (end == s || *end)
            return -1;
        memcpy(&v->of.f64, &d, 8);
        return 0;
    }
    case KILN_V128: {
        size_t i;
        if (strncmp(s, "0x", 2) || strlen(s) != 34)
            return -1;
        for (i = 0; i < 16; i++) {
            int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
            if (hi < 0 || lo < 0)
                return -1;
            v->of.v128[15 - i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
    }
    case KILN_FUNCREF:
    case KILN_EXTERNREF:
        if (!strcmp(s, "null")) {
            v->of.ref = NULL;
            return 0;
        }
        if (t == KILN_EXTERNREF && parse_int(s, 64, &x) == 0 && x != UINT64_MAX) {
            v->of.ref = (void *)(uintptr_t)(x + 1);
            return 0;
        }
        return -1;
    default:
        return -1;
    }
}

static void print_float(double d, uint64_t bits, unsigned width)
{
    if (isnan(d))
        printf("%snan:0x%" PRIx64 "\n", (bits >> (width - 1)) & 1 ? "-" : "",
               bits & (width == 32 ? 0x7fffffu : 0xfffffffffffffu));
    else
        printf(width == 32 ? "%.9g\n" : "%.17g\n", d);
}

/* Prints a result as TYPE:VALUE on its own line. */
static void print_val(const struct kiln_val *v)
{
    int i;
    printf("%s:", valtype_name(v->type));
    switch (v->type) {
    case KILN_I32:
        printf("%" PRId32 "\n", v->of.i32);
        break;
    case KILN_I64:
        printf("%" PRId64 "\n", v->of.i64);
        break;
    case KILN_F32: {
        float f;
        memcpy(&f, &v->of.f32, 4);
        print_float(f, v->of.f32, 32);
        break;
    }
    case KILN_F64: {
        double d;
        memcpy(&d, &v->of.f64, 8);
        print_float(d, v->of.f64, 64);
        break;
    }
    case KILN_V128:
        printf("0x");
        for (i = 15; i >= 0; i--)
            printf("%02x", v->of.v128[i]);
        printf("\n");
        break;
    case KILN_EXTERNREF:
        if (v->of.ref)
            printf("%" PRIuPTR "\n", (uintptr_t)v->of.ref - 1);
        else
            printf("null\n");
        break;
    default:
        printf("%s\n", v->of.ref ? "non-null" : "null");
    }
}

static void invoke_usage(FILE *f)
{
    fprintf(f, "usage: kiln wasm invoke [OPTIONS] MODULE.wasm FUNC [ARGS...]\n"
               "\n"
               "Instantiates MODULE (which must have no imports), calls its export FUNC\n"
               "with ARGS parsed per the parameter types and prints each result as\n"
               "TYPE:VALUE on its own line.\n"
               "  i32/i64    decimal (signed or unsigned) or 0x hex\n"
               "  f32/f64    decimal, hex float, inf, nan\n"
               "  v128       0x and 32 hex digits, most significant byte first\n"
               "  externref  null or N (host value N); funcref: null\n"
               "\n"
               "options:\n"
               "  --fuel N            trap after N steps (0 = unlimited)\n"
               "  --max-memory BYTES  cap on linear memory\n"
               "  --aot DIR           run as native code, compiled once into DIR (kiln_aot)\n"
               "  -h, --help          this text\n"
               "\n"
               "exit status: 0 success, 1 trap, 2 usage error or bad module\n");
}

static int number_opt(const char *opt, const char *s, uint64_t *out)
{
    if (s[0] == '-' || parse_int(s, 64, out) < 0) {
        fprintf(stderr, "kiln wasm invoke: %s: not a number: %s\n", opt, s);
        return -1;
    }
    return 0;
}

/* `kiln wasm invoke`: see the file header. Returns the exit status. */
static int cmd_invoke(int argc, char **argv)
{
    enum { OPT_FUEL = 256, OPT_MAXMEM, OPT_AOT };
    const char *aot_dir = NULL;
    static const struct option longopts[] = {
        {"fuel", required_argument, NULL, OPT_FUEL},
        {"max-memory", required_argument, NULL, OPT_MAXMEM},
        {"aot", required_argument, NULL, OPT_AOT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct kiln_store_config cfg;
    struct kiln_module *mod = NULL;
    struct kiln_store *store = NULL;
    struct kiln_instance *inst = NULL;
    struct kiln_extern ext;
    struct kiln_functype ft;
    struct kiln_val *args = NULL, *res = NULL;
    struct kiln_error err = {0};
    struct kiln_trap trap;
    const char *path, *func;
    uint32_t i;
    int c, code, status = 2;

    kiln_store_config_default(&cfg);
    optind = 1;
    /* "+": stop at the first operand, so negative numbers stay arguments */
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FUEL:
            if (number_opt("--fuel", optarg, &cfg.fuel) < 0)
                return 2;
            break;
        case OPT_AOT:
            aot_dir = optarg;
            break;
        case OPT_MAXMEM:
            if (number_opt("--max-memory", optarg, &cfg.max_memory_bytes) < 0)
                return 2;
            break;
        case 'h':
            invoke_usage(stdout);
            return 0;
        default:
            invoke_usage(stderr);
            return 2;
        }
    }
    if (argc - optind < 2) {
        invoke_usage(stderr);
        return 2;
    }
    path = argv[optind];
    func = argv[optind + 1];
    mod = load(path, &code);
    if (!mod)
        goto done;
    /* with --fuel: an object with fuel polls (a store with fuel would run an
     * object without them interpreted) */
    struct kiln_aot_opts ao = {.metered = cfg.fuel != 0};
    if (aot_dir && kiln_aot_compile_cached(mod, aot_dir, &ao, &err) < 0) {
        fprintf(stderr, "kiln: %s: aot: %s\n", path, err.msg);
        goto done;
    }
    if (kiln_module_import_count(mod) > 0) {
        struct kiln_importdesc d;
        kiln_module_import(mod, 0, &d);
        fprintf(stderr, "kiln: %s: imports \"%s\".\"%s\": wasm invoke runs only modules "
                        "without imports\n", path, d.module, d.name);
        goto done;
    }
    if (!kiln_module_export_functype(mod, func, &ft)) {
        fprintf(stderr, "kiln: %s: no exported function \"%s\"\n", path, func);
        goto done;
    }
    if ((uint32_t)(argc - optind - 2) != ft.nparams) {
        fprintf(stderr, "kiln: %s: \"%s\" takes %" PRIu32 " arguments (", path, func,
                ft.nparams);
        for (i = 0; i < ft.nparams; i++)
            fprintf(stderr, "%s%s", i ? " " : "", valtype_name(ft.types[i]));
        fprintf(stderr, "), %d given\n", argc - optind - 2);
        goto done;
    }
    args = calloc(ft.nparams + 1, sizeof *args);
    res = calloc(ft.nresults + 1, sizeof *res);
    if (!args || !res) {
        fprintf(stderr, "kiln: out of memory\n");
        goto done;
    }
    for (i = 0; i < ft.nparams; i++) {
        if (parse_arg(ft.types[i], argv[optind + 2 + i], &args[i]) < 0) {
            fprintf(stderr, "kiln: argument %" PRIu32 ": not a valid %s: %s\n", i + 1,
                    valtype_name(ft.types[i]), argv[optind + 2 + i]);
            goto done;
        }
    }
    store = kiln_store_new(&cfg);
    if (!store) {
        fprintf(stderr, "kiln: cannot create a store\n");
        goto done;
    }
    memset(&trap, 0, sizeof trap);
    if (kiln_instance_new(store, mod, NULL, 0, &inst, &trap, &err) < 0) {
        if (err.code == KILN_E_TRAP) {
            fprintf(stderr, "kiln: trap: %s\n", trap.msg[0] ? trap.msg : kiln_trap_message(trap.kind));
            status = 1;
        } else {
            fprintf(stderr, "kiln: %s: %s\n", path, err.msg);
        }
        goto done;
    }
    if (!kiln_instance_export(inst, func, &ext) || ext.kind != KILN_EXTERN_FUNC) {
        fprintf(stderr, "kiln: %s: no exported function \"%s\"\n", path, func);
        goto done;
    }
    memset(&trap, 0, sizeof trap);
    if (kiln_func_call(store, ext.of.func, args, ft.nparams, res, ft.nresults, &trap) < 0) {
        fprintf(stderr, "kiln: trap: %s\n", trap.msg[0] ? trap.msg : kiln_trap_message(trap.kind));
        status = trap.kind == KILN_TRAP_EXIT ? trap.exit_code : 1;
        goto done;
    }
    for (i = 0; i < ft.nresults; i++)
        print_val(&res[i]);
    status = 0;
done:
    kiln_store_free(store);
    kiln_module_free(mod);
    free(args);
    free(res);
    return status;
}

static void validate_usage(FILE *f)
{
    fprintf(f, "usage: kiln wasm validate MODULE.wasm\n"
               "\n"
               "Decodes and validates MODULE. Exit status: 0 valid, 1 not valid (the\n"
               "error names the section, byte offset and reason), 2 usage error.\n");
}

/* `kiln wasm validate`: see the file header. Returns the exit status. */
static int cmd_validate(int argc, char **argv)
{
    struct kiln_module *mod;
    int code;
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        validate_usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        validate_usage(stderr);
        return 2;
    }
    mod = load(argv[1], &code);
    if (!mod)
        return code == KILN_E_IO ? 2 : 1;
    kiln_module_free(mod);
    return 0;
}

KILN_COMMAND(wasm_invoke, "wasm invoke", "call an export of a wasm module and print the results",
             cmd_invoke);
KILN_COMMAND(wasm_validate, "wasm validate", "decode and validate a wasm module", cmd_validate);
