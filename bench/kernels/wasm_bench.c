/*
 * wasm_bench.c — for engines that can only call exports without arguments (wabt's
 * `wasm-interp --run-all-exports`): exports bench() = run(BENCH_N), with BENCH_N fixed at
 * compile time (-DBENCH_N=...).
 */
#include "bench.h"

#ifndef BENCH_N
#error "define BENCH_N"
#endif

__attribute__((export_name("bench"))) int32_t bench(void)
{
    return run(BENCH_N);
}
