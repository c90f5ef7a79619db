/*
 * fuzz_elf.c — libFuzzer target: kiln_elf_parse on arbitrary bytes (every
 * offset and size in the input is hostile). Built only with KILN_FUZZ=ON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kiln_elf_info info;
    /* a private copy of exactly `size` bytes so ASan catches any over-read */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (kiln_elf_parse(copy, size, &info, NULL) == 0) kiln_elf_info_clear(&info);
    free(copy);
    return 0;
}
