/* native.c — a native (non-unit) program for tests/cri, linked statically
 * (the image holds nothing else). Without arguments it prints "native hello"
 * and exits 5; "pause" sleeps until a signal ends it (a native pod sandbox,
 * as registry pause images are). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "pause") == 0) {
        for (;;)
            pause();
    }
    printf("native hello\n");
    return 5;
}
