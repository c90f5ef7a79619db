/*
 * command.h — how `kiln` subcommands register themselves.
 *
 * Each src/cmd/<name>.c defines one or more commands with KILN_COMMAND(); the
 * linker gathers them into the "kiln_cmds" section, so adding a subcommand
 * never edits a central table. main.c dispatches on the command words
 * ("wasm invoke" is two words) and prints the list for `kiln --help`.
 *
 * A command's run() gets argv starting at its own name's last word and
 * returns the process exit status: 0 success, 1 the operation failed
 * (verification failed, guest error, ...), 2 usage error; commands that run a
 * guest return the guest's exit status.
 */
#ifndef KILN_CMD_COMMAND_H
#define KILN_CMD_COMMAND_H

struct kiln_command {
    const char *name;    /* "wasm invoke", "keygen", ... */
    const char *summary; /* one line for `kiln --help` */
    int (*run)(int argc, char **argv);
};

#define KILN_COMMAND(ident, name_, summary_, fn_)                                                  \
    __attribute__((used, section("kiln_cmds"), aligned(sizeof(void *))))                          \
    const struct kiln_command kiln_cmd_##ident = {name_, summary_, fn_}

#endif
