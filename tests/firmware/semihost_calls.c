/* Semihosting calls made directly (bkpt 0xAB, Arm IHI 0062), each checked by the firmware
 * itself; the run ends with SYS_EXIT_EXTENDED and the number of the first failed check, or 42
 * when all passed. GARBAGE selects a call with an argument outside memory instead. */
#include <stdint.h>

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void sys_exit_extended(uint32_t reason, uint32_t code)
{
    uint32_t block[2] = {reason, code};
    semihost(0x20, block);
}

volatile uint32_t sink;

int main(void)
{
#if defined(GARBAGE)
    uint32_t open_out[3] = {(uint32_t)":tt", 4, 3};
    uint32_t block[3] = {(uint32_t)semihost(0x01, open_out), GARBAGE, 16};
    semihost(GARBAGE_OP, GARBAGE_OP == 0x05 ? (const void *)block : (const void *)GARBAGE);
    return 0;
#elif defined(UNKNOWN)
    semihost(UNKNOWN, 0);
    return 0;
#else
    int fail = 0;
    char c = '[';
    semihost(0x03, &c);                                        /* SYS_WRITEC */
    semihost(0x04, "write0]\n");                               /* SYS_WRITE0 */
    uint32_t open_out[3] = {(uint32_t)":tt", 4, 3};
    int out = semihost(0x01, open_out);                        /* SYS_OPEN :tt "w" */
    uint32_t open_err[3] = {(uint32_t)":tt", 8, 3};
    int err = semihost(0x01, open_err);                        /* SYS_OPEN :tt "a" */
    uint32_t open_in[3] = {(uint32_t)":tt", 0, 3};
    int in = semihost(0x01, open_in);                          /* SYS_OPEN :tt "r" */
    if (out <= 0 || err <= 0 || in <= 0 || out == err) fail = fail ? fail : 1;
    static const char msg[] = "to stdout\n";
    uint32_t w[3] = {(uint32_t)out, (uint32_t)msg, sizeof msg - 1};
    if (semihost(0x05, w) != 0) fail = fail ? fail : 2;        /* SYS_WRITE: 0 bytes left */
    static const char emsg[] = "to stderr\n";
    uint32_t we[3] = {(uint32_t)err, (uint32_t)emsg, sizeof emsg - 1};
    semihost(0x05, we);
    char buf[8];
    uint32_t r[3] = {(uint32_t)in, (uint32_t)buf, sizeof buf};
    if (semihost(0x06, r) != sizeof buf) fail = fail ? fail : 3;   /* SYS_READ: end of input */
    uint32_t h[1] = {(uint32_t)out};
    if (semihost(0x09, h) != 1) fail = fail ? fail : 4;        /* SYS_ISTTY */
    uint32_t open_file[3] = {(uint32_t)"/etc/passwd", 0, 11};
    if (semihost(0x01, open_file) != -1) fail = fail ? fail : 5;   /* host files stay closed */
    if (semihost(0x13, 0) != 2) fail = fail ? fail : 6;        /* SYS_ERRNO: ENOENT */
    uint32_t t0[2], t1[2];
    uint32_t c0 = (uint32_t)semihost(0x10, 0);                 /* SYS_CLOCK: centiseconds */
    semihost(0x30, t0);                                        /* SYS_ELAPSED: ticks */
    for (int i = 0; i < 100000; i++)
        sink += i;
    semihost(0x30, t1);
    uint32_t c1 = (uint32_t)semihost(0x10, 0);
    if (c1 < c0 || t1[0] - t0[0] < 100000u || t1[1] != 0) fail = fail ? fail : 7;
    if (semihost(0x31, 0) != 100000000) fail = fail ? fail : 8; /* SYS_TICKFREQ: the clock */
    uint32_t info[4];
    uint32_t *pinfo = info;
    semihost(0x16, &pinfo);                                    /* SYS_HEAPINFO */
    if (info[0] == 0 || info[1] <= info[0] || info[2] != info[1]) fail = fail ? fail : 9;
    uint32_t s[2] = {(uint32_t)out, 0};
    if (semihost(0x0A, s) != -1) fail = fail ? fail : 10;      /* SYS_SEEK on a tty */
    if (semihost(0x0C, h) != 0) fail = fail ? fail : 11;       /* SYS_FLEN */
    (void)semihost(0x11, 0);                                   /* SYS_TIME */
    if (semihost(0x02, h) != 0) fail = fail ? fail : 12;       /* SYS_CLOSE */
    if (semihost(0x02, h) != -1) fail = fail ? fail : 13;      /* closed twice */
    sys_exit_extended(0x20026, fail ? (uint32_t)fail : 42u);
    return 99;
#endif
}
