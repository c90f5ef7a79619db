/*
 * gen_syscall_doc.c — prints docs/vkernel-syscalls.md from the syscall
 * tables (include/kiln/vkernel_syscalls.def for the core,
 * src/vkernel/abi/wasi_p1.def for WASI preview1). Run by CMake.
 */
#include <stdio.h>

/* Prints s with '|' escaped so it stays inside one table cell. */
static void cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|') putchar('\\');
        putchar(*s);
    }
}

static void row(const char *a, const char *b, const char *c, const char *d)
{
    printf("| `%s` | ", a);
    cell(b);
    printf(" | %s | ", c);
    cell(d);
    printf(" |\n");
}

int main(void)
{
    int n = 0;
    printf("# vkernel syscalls\n\n"
           "Generated from the syscall tables by `src/vkernel/gen_syscall_doc.c`; do not edit.\n"
           "Support levels: **full** (Linux semantics), **partial** (see note), **none** "
           "(refused), **denied** (always refused and audited).\n\n");
    printf("## Core (Linux semantics)\n\nPolicy rules name these calls (or their aliases, "
           "see docs/policy.md).\n\n| call | x86-64 nr | level | note |\n|---|---|---|---|\n");
#define KILN_VK_SYS(id, name, nr, level, note)                                                     \
    do {                                                                                           \
        char nrs[16];                                                                              \
        snprintf(nrs, sizeof nrs, "%d", nr);                                                       \
        row(name, nrs, level, note);                                                               \
    } while (0);
#include "kiln/vkernel_syscalls.def"
#undef KILN_VK_SYS
    printf("\n## WASI preview1 (`wasi_snapshot_preview1`)\n\n"
           "| function | core calls | level | note |\n|---|---|---|---|\n");
#define KILN_WASI_FN(name, params, results, level, linux, note)                                    \
    row(#name, linux[0] ? "`" linux "`" : "—", level, note);                                       \
    n++;
#include "vkernel/abi/wasi_p1.def"
#undef KILN_WASI_FN
    printf("\n%d WASI functions.\n", n);
    return 0;
}
