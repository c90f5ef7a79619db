/*
 * known_fuel_test.c — the fast paths of well-known libc functions
 * (src/wasm/aot/translate_known.c) under fuel: known_fuel_test LIB.wasm CACHE
 * runs run(k) of known_lib.wasm (every recognised function, lengths 0..299)
 *   - without fuel, interpreted, AOT (fast paths) and AOT --metered: the
 *     same results;
 *   - with fuel, interpreted and AOT --metered (whose fast paths must fall
 *     back to the translated bodies when fuel is metered): the same minimum
 *     fuel (binary search), and the same outcome (result or out of fuel) at
 *     that fuel minus one and at eighths of it.
 * Exit 0 when everything matches.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aot_check.h"
#include "kiln/aot.h"
#include "kiln/wasm.h"

#define NMODES 3
static struct kiln_module *mods[NMODES]; /* interpreted, AOT, AOT metered */
static const char *const mode_name[NMODES] = {"interp", "aot", "aot-metered"};



/* run(k) in a fresh store with fuel (0: unlimited): 0 and *res, or the trap kind */
static int call_run(int mode, uint64_t fuel, int32_t k, int32_t *res)
{
    struct kiln_store_config cfg;
    struct kiln_store *store;
    struct kiln_instance *inst = NULL;
    struct kiln_extern e;
    struct kiln_val a = {.type = KILN_I32}, r[1];
    struct kiln_trap trap;
    struct kiln_error err = {0};
    int kind = 0;
    kiln_store_config_default(&cfg);
    cfg.fuel = fuel;
    store = kiln_store_new(&cfg);
    if (!store) exit(1);
    memset(&trap, 0, sizeof trap);
    if (kiln_instance_new(store, mods[mode], NULL, 0, &inst, &trap, &err) < 0) {
        fprintf(stderr, "instantiate (%s): %s\n", mode_name[mode], err.msg);
        exit(1);
    }
    if (!kiln_instance_export(inst, "run", &e)) {
        fprintf(stderr, "no export run\n");
        exit(1);
    }
    a.of.i32 = k;
    if (kiln_func_call(store, e.of.func, &a, 1, r, 1, &trap) == 0)
        *res = r[0].of.i32;
    else
        kind = trap.kind ? trap.kind : -1;
    kiln_store_free(store);
    return kind;
}

/* the smallest fuel with which run(k) completes in mode m */
static uint64_t min_fuel(int m, int32_t k)
{
    uint64_t lo = 0, hi = 1;
    int32_t res;
    while (call_run(m, hi, k, &res) != 0)
        hi *= 2;
    while (hi - lo > 1) { /* run(k) completes with hi, not with lo */
        uint64_t mid = lo + (hi - lo) / 2;
        if (call_run(m, mid, k, &res) == 0)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

int main(int argc, char **argv)
{
    static const int32_t ks[] = {0, 1, 2, 7, 16, 33, 64, 100, 255, 299};
    struct kiln_error err = {0};
    if (argc != 3) {
        fprintf(stderr, "usage: %s KNOWN_LIB.wasm CACHE\n", argv[0]);
        return 2;
    }
    for (int m = 0; m < NMODES; m++)
        mods[m] = aot_load_module(argv[1]);
    for (int m = 1; m < NMODES; m++) {
        struct kiln_aot_opts o;
        memset(&o, 0, sizeof o);
        o.metered = m == 2;
        if (kiln_aot_compile_cached(mods[m], argv[2], &o, &err) < 0) {
            fprintf(stderr, "aot (%s): %s\n", mode_name[m], err.msg);
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        int32_t k = ks[i], r[NMODES] = {0};
        int kind[NMODES];
        uint64_t fi, fm;
        for (int m = 0; m < NMODES; m++)
            kind[m] = call_run(m, 0, k, &r[m]);
        for (int m = 1; m < NMODES; m++)
            CHECK(kind[m] == kind[0] && r[m] == r[0], "run(%d) without fuel: %s %d/%#x, %s %d/%#x",
                  k, mode_name[0], kind[0], (unsigned)r[0], mode_name[m], kind[m], (unsigned)r[m]);
        fi = min_fuel(0, k);
        fm = min_fuel(2, k);
        CHECK(fi == fm, "run(%d): minimum fuel interp %" PRIu64 ", aot-metered %" PRIu64, k, fi,
              fm);
        for (uint64_t j = 1; j <= 8; j++) {
            uint64_t fuel = j == 8 ? fi - 1 : fi * j / 8;
            int32_t a = 0, b = 0;
            int ka, kb;
            if (!fuel) continue;
            ka = call_run(0, fuel, k, &a);
            kb = call_run(2, fuel, k, &b);
            CHECK(ka == kb && a == b, "run(%d) fuel %" PRIu64 ": interp %d/%#x, aot-metered %d/%#x",
                  k, fuel, ka, (unsigned)a, kb, (unsigned)b);
        }
        printf("run(%3d) = %#010x  minimum fuel interp %7" PRIu64 "  aot-metered %7" PRIu64 "\n", k,
               (unsigned)r[0], fi, fm);
    }
    for (int m = 0; m < NMODES; m++)
        kiln_module_free(mods[m]);
    if (failures) {
        fprintf(stderr, "known_fuel: %d failure(s)\n", failures);
        return 1;
    }
    printf("known_fuel: fast paths agree without fuel and fall back exactly under fuel\n");
    return 0;
}
