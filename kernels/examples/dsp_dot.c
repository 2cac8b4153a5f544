/*
 * Example firmware: an int8 dot product with SMLAD, timed with the DWT cycle counter.
 * `mcusim sim` runs it as the bundled example; `mcusim bench` uses it as the DSP-heavy load.
 * Two int8 vectors of N elements are multiplied and accumulated REPEAT times; main returns
 * the low bits of the checksum so the run is checked, and stores the DWT-measured cycles of
 * one dot product in `dot_cycles`.
 */
#include <stdint.h>
#include <string.h>
#include "mcusim.h"

#ifndef N
#define N 256
#endif
#ifndef REPEAT
#define REPEAT 64
#endif

static int8_t a[N], b[N];
volatile uint32_t dot_cycles;

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
__attribute__((noinline)) static int32_t dot(const int8_t *x, const int8_t *y, int n, int32_t acc)
{
    for (int i = 0; i < n; i += 4) {
        uint32_t xv, yv;
        memcpy(&xv, x + i, 4);
        memcpy(&yv, y + i, 4);
        int16x2_t x_even = __sxtb16(xv), x_odd = __sxtb16((xv >> 8) | (xv << 24));
        int16x2_t y_even = __sxtb16(yv), y_odd = __sxtb16((yv >> 8) | (yv << 24));
        acc = __smlad(x_even, y_even, acc);
        acc = __smlad(x_odd, y_odd, acc);
    }
    return acc;
}
#else
__attribute__((noinline)) static int32_t dot(const int8_t *x, const int8_t *y, int n, int32_t acc)
{
    for (int i = 0; i < n; i++)
        acc += x[i] * y[i];
    return acc;
}
#endif

int main(void)
{
    for (int i = 0; i < N; i++) {
        a[i] = (int8_t)(i * 7 - 100);
        b[i] = (int8_t)(50 - i * 3);
    }
    mcusim_cycle_counter_enable();
    uint32_t t0 = MCUSIM_DWT_CYCCNT;
    int32_t acc = dot(a, b, N, 0);
    dot_cycles = MCUSIM_DWT_CYCCNT - t0;
    for (int r = 1; r < REPEAT; r++)
        acc = dot(a, b, N, acc);
    return (int)(acc & 0x7fff);
}
