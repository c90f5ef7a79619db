/*
 * core_portme.c — kiln's freestanding CoreMark port (see core_portme.h).
 * CoreMark's main() is compiled as coremark_main (-Dmain=coremark_main);
 * run(n) runs n iterations and returns n if CoreMark validated its CRCs,
 * else minus the number of errors it printed.
 */
#include "coremark.h"

volatile ee_s32 seed1_volatile = 0x0;
volatile ee_s32 seed2_volatile = 0x0;
volatile ee_s32 seed3_volatile = 0x66;
volatile ee_s32 seed4_volatile = 1;
volatile ee_s32 seed5_volatile = 0;
ee_u32 default_num_contexts = 1;
static int errors;
static CORE_TICKS ticks;

void start_time(void) {}
void stop_time(void) { ticks = 1; }
CORE_TICKS get_time(void) { return ticks; }
secs_ret time_in_secs(CORE_TICKS t) { return t; }
void portable_init(core_portable *p, int *argc, char *argv[])
{
    (void)argc;
    (void)argv;
    p->portable_id = 1;
}
void portable_fini(core_portable *p) { p->portable_id = 0; }

/* counts CoreMark's "ERROR! ... crc..." lines instead of printing */
int ee_printf(const char *fmt, ...)
{
    int err = 0, crc = 0;
    for (const char *s = fmt; *s; s++) {
        if (s[0] == 'E' && s[1] == 'R' && s[2] == 'R') err = 1;
        if (s[0] == 'c' && s[1] == 'r' && s[2] == 'c') crc = 1;
    }
    errors += err && crc;
    return 0;
}

int coremark_main(void);

int run(int n)
{
    seed4_volatile = n;
    errors = 0;
    coremark_main();
    return errors ? -errors : n;
}
