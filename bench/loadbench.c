/*
 * loadbench.c — `kiln-bench-load FILE.wasm [SECONDS]`: measures how fast kiln loads a module
 * (decode + validate + compile to the internal form, i.e. kiln_module_new) and how much memory
 * a compiled module and an instance of it take.
 *
 * Prints one line: size, load throughput in MB/s (median over repeated loads for about SECONDS
 * of CPU time, default 1; each load timed in thread CPU time), resident memory added by one compiled module, and resident memory added per
 * instance (each in its own store; imports are satisfied with host functions that trap and
 * host-created tables, memories and globals of the imported types; start functions run).
 * Resident memory is read from /proc/self/statm, so it counts pages actually touched (a linear
 * memory's reserved range costs nothing until used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kiln/wasm.h"

#define MAX_SAMPLES 100000
#define INSTANCES 8

/* CPU time of this thread: unlike wall time, not inflated when other jobs share the cores. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static int trap_stub(struct kiln_caller *caller, const uint64_t *args, uint64_t *results, void *env)
{
    return kiln_caller_trap(caller, KILN_TRAP_HOST, 0, "kiln-bench-load: import called");
}

/* Builds externs for every import of mod in store; returns the array (caller frees) or NULL. */
static struct kiln_extern *make_imports(struct kiln_store *store, const struct kiln_module *mod,
                                        uint32_t n)
{
    struct kiln_extern *ext = calloc(n ? n : 1, sizeof *ext);
    for (uint32_t i = 0; ext && i < n; i++) {
        struct kiln_importdesc d;
        struct kiln_val zero;
        kiln_module_import(mod, i, &d);
        ext[i].kind = d.kind;
        switch (d.kind) {
        case KILN_EXTERN_FUNC:
            ext[i].of.func = kiln_func_new_host(store, &d.functype, trap_stub, NULL);
            break;
        case KILN_EXTERN_TABLE:
            ext[i].of.table = kiln_table_new(store, d.valtype, &d.limits);
            break;
        case KILN_EXTERN_MEMORY:
            ext[i].of.memory = kiln_memory_new(store, &d.limits, NULL);
            break;
        default:
            memset(&zero, 0, sizeof zero);
            zero.type = d.valtype;
            ext[i].of.global = kiln_global_new(store, &zero, d.mutable_);
            break;
        }
    }
    return ext;
}

int main(int argc, char **argv)
{
    static double samples[MAX_SAMPLES];
    struct kiln_error err = {0};
    struct kiln_module *mod = NULL;
    struct kiln_store *stores[INSTANCES] = {0};
    size_t len = 0;
    int n = 0, ninst = 0, status = 1;
    double budget = argc > 2 ? atof(argv[2]) : 1.0, start;
    long rss0, rss1, rss2;
    uint8_t *bytes;

    if (argc < 2) {
        fprintf(stderr, "usage: kiln-bench-load FILE.wasm [SECONDS]\n");
        return 2;
    }
    bytes = read_file(argv[1], &len);
    if (!bytes) {
        perror(argv[1]);
        return 1;
    }
    /* first load on a fresh heap: what one compiled module keeps resident */
    rss0 = rss_bytes();
    if (kiln_module_new(bytes, len, NULL, &mod, &err) < 0) {
        fprintf(stderr, "kiln-bench-load: %s: %s\n", argv[1], err.msg);
        goto fail;
    }
    rss1 = rss_bytes();
    start = now();
    while (n < MAX_SAMPLES && (n < 3 || now() - start < budget)) {
        struct kiln_module *m;
        double t0 = now();
        if (kiln_module_new(bytes, len, NULL, &m, &err) < 0) {
            fprintf(stderr, "kiln-bench-load: %s: %s\n", argv[1], err.msg);
            goto fail;
        }
        samples[n++] = now() - t0;
        kiln_module_free(m);
    }
    qsort(samples, (size_t)n, sizeof samples[0], cmp_double);
    rss2 = rss_bytes(); /* instances are measured from here */
    for (ninst = 0; ninst < INSTANCES; ninst++) {
        uint32_t nimp = kiln_module_import_count(mod);
        struct kiln_instance *inst;
        struct kiln_extern *imports;
        struct kiln_trap trap;
        stores[ninst] = kiln_store_new(NULL);
        if (!stores[ninst]) break;
        imports = make_imports(stores[ninst], mod, nimp);
        if (!imports ||
            kiln_instance_new(stores[ninst], mod, imports, nimp, &inst, &trap, &err) < 0) {
            free(imports);
            kiln_store_free(stores[ninst]);
            stores[ninst] = NULL;
            break;
        }
        free(imports);
    }
    rss2 = rss_bytes() - rss2;
    printf("%s: %.0f KB, load+validate+compile %.1f MB/s (median of %d loads, %.2f ms each), "
           "compiled module +%.0f KB resident, ",
           strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1], len / 1e3,
           len / samples[n / 2] / 1e6, n, samples[n / 2] * 1e3, (rss1 - rss0) / 1e3);
    if (ninst > 0)
        printf("+%.0f KB resident per instance (%d instances)\n", rss2 / 1e3 / ninst, ninst);
    else
        printf("not instantiable here: %s\n", err.msg);
    status = 0;
fail:
    for (int i = 0; i < INSTANCES; i++)
        kiln_store_free(stores[i]);
    kiln_module_free(mod);
    free(bytes);
    return status;
}
