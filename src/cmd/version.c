/* version.c — `kiln version`. */
#include <stdio.h>

#include "cmd/command.h"

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("kiln 0.1.0 (engine: interpreter; format v1)\n");
    return 0;
}

KILN_COMMAND(version, "version", "print the version", cmd_version);
