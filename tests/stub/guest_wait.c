/* guest_wait.c — WASI guest for tests/stub: reads stdin to the end (so a
 * test can inspect the running process), then prints how many bytes. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char buf[256];
    long total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        total += n;
    printf("read %ld bytes\n", total);
    return 0;
}
