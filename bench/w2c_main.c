/*
 * w2c_main.c — the driver of a kernel translated by wabt's wasm2c (`wasm2c K.wasm -n kbench`):
 * `K-wasm2c N` instantiates the module and prints run(N). Compiled with gcc -O2 together with
 * the generated kbench.c and wabt's wasm-rt-impl.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kbench.h"

int main(int argc, char **argv)
{
    Z_kbench_instance_t inst;
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    wasm_rt_init();
    Z_kbench_init_module();
    Z_kbench_instantiate(&inst);
    printf("%d\n", (int)Z_kbenchZ_run(&inst, (u32)atoi(argv[1])));
    Z_kbench_free(&inst);
    wasm_rt_free();
    return 0;
}
