/* t_loop.c — never ends; under a policy with limits.wallTimeMs the run is
 * interrupted (exit status 134, trap message on stderr). */
#include <stdio.h>

int main(void)
{
    volatile unsigned long n = 0;
    printf("looping\n");
    fflush(stdout);
    for (;;)
        n++;
}
