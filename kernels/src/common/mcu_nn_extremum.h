/*
 * mcu_nn_extremum.h - internal to the optimized flavour (DSP cores): MAXIMUM / MINIMUM four
 * bytes per step. SSUB8 sets the four GE flags where a >= b (signed bytes) and SEL then takes
 * each byte from a or b: the larger of each pair (maximum) or the smaller (minimum). The two
 * instructions are one asm block, so nothing can come between the flags and their use. An
 * input broadcast along the channels is its one byte repeated in a word. Broadcasting by
 * strides as the reference kernels.
 */
#ifndef MCU_NN_EXTREMUM_H
#define MCU_NN_EXTREMUM_H

#include "mcu_nn_checks.h"
#include "mcu_nn_dsp.h"

static inline __attribute__((always_inline)) uint32_t mcu_extremum4(uint32_t a, uint32_t b,
                                                                    const int max)
{
    uint32_t r;
    if (max)
        __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    else
        __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

static inline __attribute__((always_inline)) int8_t mcu_extremum1(int8_t a, int8_t b,
                                                                  const int max)
{
    return max ? (a >= b ? a : b) : (a <= b ? a : b);
}

/* n outputs; an input whose stride is 0 is one value for the whole row. */
static inline __attribute__((always_inline)) void
mcu_extremum_row(const int8_t *x1, int32_t st1, const int8_t *x2, int32_t st2, int8_t *out,
                 int32_t n, const int max)
{
    const uint32_t b1 = st1 ? 0 : (uint8_t)x1[0] * 0x01010101u;
    const uint32_t b2 = st2 ? 0 : (uint8_t)x2[0] * 0x01010101u;
    int32_t i = 0;
    for (; i + 3 < n; i += 4) {
        const uint32_t a = st1 ? (uint32_t)mcu_read_s8x4(x1 + i) : b1;
        const uint32_t b = st2 ? (uint32_t)mcu_read_s8x4(x2 + i) : b2;
        const uint32_t r = mcu_extremum4(a, b, max);
        memcpy(out + i, &r, 4);
    }
    for (; i < n; ++i)
        out[i] = mcu_extremum1(x1[st1 ? i : 0], x2[st2 ? i : 0], max);
}

static inline __attribute__((always_inline)) mcu_status
mcu_extremum_run(const mcu_dims *d1, const int8_t *x1, const mcu_dims *d2, const int8_t *x2,
                 const mcu_dims *od, int8_t *out, const int max)
{
    mcu_strides s1, s2;
    if (!x1 || !x2 || !out || !mcu_broadcast_strides(d1, od, &s1) ||
        !mcu_broadcast_strides(d2, od, &s2))
        return MCU_ERR_ARG;
    if (mcu_same_dims(d1, od) && mcu_same_dims(d2, od)) {
        mcu_extremum_row(x1, 1, x2, 1, out, mcu_dims_count(od), max);
        return MCU_OK;
    }
    const int32_t c = od->c;
    for (int32_t n = 0; n < od->n; ++n)
        for (int32_t h = 0; h < od->h; ++h)
            for (int32_t w = 0; w < od->w; ++w, out += c)
                mcu_extremum_row(x1 + n * s1.n + h * s1.h + w * s1.w, s1.c,
                                 x2 + n * s2.n + h * s2.h + w * s2.w, s2.c, out, c, max);
    return MCU_OK;
}

#endif /* MCU_NN_EXTREMUM_H */
