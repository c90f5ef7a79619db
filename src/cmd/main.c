/*
 * main.c — the `kiln` command: dispatches to subcommands registered with
 * KILN_COMMAND() (see command.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/command.h"

extern const struct kiln_command __start_kiln_cmds[];
extern const struct kiln_command __stop_kiln_cmds[];

#define KILN_VERSION "0.1.0"

static void usage(FILE *f)
{
    const struct kiln_command *c;
    fprintf(f, "usage: kiln COMMAND [ARGS...]\n\n"
               "kiln turns container images into signed, JIT-free WebAssembly workloads.\n\n"
               "commands:\n");
    for (c = __start_kiln_cmds; c < __stop_kiln_cmds; c++)
        fprintf(f, "  %-16s %s\n", c->name, c->summary);
    fprintf(f, "\nRun `kiln COMMAND --help` for a command's options.\n");
}

/* Number of argv words matched by the command's (space-separated) name, or 0. */
static int match(const struct kiln_command *c, int argc, char **argv)
{
    const char *n = c->name;
    int i = 0;
    while (*n && i < argc) {
        size_t len = strcspn(n, " ");
        if (strlen(argv[i]) != len || strncmp(argv[i], n, len) != 0)
            return 0;
        n += len;
        i++;
        if (*n == ' ')
            n++;
    }
    return *n ? 0 : i;
}

int main(int argc, char **argv)
{
    const struct kiln_command *c, *best = NULL;
    int best_words = 0;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("kiln %s\n", KILN_VERSION);
        return 0;
    }
    for (c = __start_kiln_cmds; c < __stop_kiln_cmds; c++) {
        int w = match(c, argc - 1, argv + 1);
        if (w > best_words) {
            best = c;
            best_words = w;
        }
    }
    if (!best) {
        fprintf(stderr, "kiln: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return best->run(argc - best_words, argv + best_words);
}
