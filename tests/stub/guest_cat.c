/* guest_cat.c — WASI guest for tests/stub: prints each file named on the
 * command line, or "PATH: error" when it cannot be opened (exit 1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int i, rc = 0;
    for (i = 1; i < argc; i++) {
        char buf[512];
        size_t n;
        FILE *f = fopen(argv[i], "r");
        if (f == NULL) {
            printf("%s: %s\n", argv[i], strerror(errno));
            rc = 1;
            continue;
        }
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, stdout);
        fclose(f);
    }
    return rc;
}
