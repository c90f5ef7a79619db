/* t_stdio.c — argv, environment, stdin/stdout/stderr and the exit status.
 * usage: t_stdio DIR ARGS...  (stdin: a few lines; env: K1, K2) */
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

extern char **environ;

int main(int argc, char **argv)
{
    char line[256];
    int i, nl = 0;
    printf("argc %d\n", argc);
    for (i = 1; i < argc; i++)
        printf("argv[%d] '%s'\n", i, argv[i]);
    printf("K1=%s\n", getenv("K1") ? getenv("K1") : "(unset)");
    printf("K2=%s\n", getenv("K2") ? getenv("K2") : "(unset)");
    printf("PATH=%s\n", getenv("PATH") ? "set" : "(unset)");
    for (i = 0; environ[i]; i++)
        ;
    printf("environ count %d\n", i);
    while (fgets(line, sizeof line, stdin) != NULL) {
        nl++;
        printf("in: %s", line);
    }
    printf("lines %d\n", nl);
    fprintf(stderr, "this goes to stderr\n");
    printf("isatty(1) %d\n", isatty(1));
    fflush(stdout);
    return 7;
}
