/*
 * kv.c — a tiny key-value lookup tool, the example image's entrypoint
 * (compiled to wasm32-wasi). Reads KEY=VALUE lines from /data/kv.txt:
 *   kv            lists every key
 *   kv KEY...     prints each KEY's value; exit status 1 if one is missing
 */
#include <stdio.h>
#include <string.h>

#define DB "/data/kv.txt"

int main(int argc, char **argv)
{
    char line[512];
    int missing = 0;
    for (int a = argc > 1 ? 1 : 0; a < argc; a++) {
        FILE *f = fopen(DB, "r");
        int found = 0;
        if (!f) {
            perror(DB);
            return 2;
        }
        while (fgets(line, sizeof line, f)) {
            char *eq = strchr(line, '=');
            if (!eq || line[0] == '#') continue;
            *eq = 0;
            if (argc == 1) {
                printf("%s\n", line);
            } else if (strcmp(line, argv[a]) == 0) {
                fputs(eq + 1, stdout);
                found = 1;
                break;
            }
        }
        fclose(f);
        if (argc > 1 && !found) {
            fprintf(stderr, "kv: %s: no such key\n", argv[a]);
            missing = 1;
        }
    }
    return missing;
}
