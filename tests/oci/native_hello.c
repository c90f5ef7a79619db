/* native_hello.c — a native (non-unit) program for tests/oci: kiln-oci must
 * refuse it unless the config allows native entries. */
#include <stdio.h>

int main(void)
{
    printf("native hello\n");
    return 5;
}
