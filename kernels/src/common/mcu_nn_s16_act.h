/*
 * mcu_nn_s16_act.h - TFLite's int16 sigmoid and tanh (Q0.15 out): the kernels of int16 LOGISTIC
 * and TANH and the integer LSTM's gates, shared by both flavours.
 *
 * Both interpolate linearly in a 256-entry table of sigmoid(i / 24) in 0.16 fixed point
 * (tanh(x) = 2 sigmoid(2x) - 1). The numbers are TFLite's (tensorflow/lite/kernels/internal/
 * common.h, sigmoid_table_uint16): tuned for the interpolation rather than rounded samples,
 * and bit-exactness needs them. mcusim carries no copy: it reads the table from the user's TFLM
 * tree and compiles a generated mcu_sigmoid_table.c into every image that uses it
 * (mcusim/stacks/tflmtables.py); the numpy reference reads the same table.
 */
#ifndef MCU_NN_S16_ACT_H
#define MCU_NN_S16_ACT_H

#include <stdint.h>

/* TFLite's table, defined by a file mcusim generates from the TFLM tree (mcu_sigmoid_table.c). */
extern const uint16_t mcu_sigmoid_table[256];

/* TFLite's int16 input stage: (x * multiplier + round) >> shift, in int32 arithmetic that
 * wraps as TFLM's does on its targets. multiplier and shift bring x to the table's scale,
 * 3 * 2^12 per unit (Q3.12 times 3). */
static inline int32_t mcu_s16_act_input(int32_t x, int32_t multiplier, int32_t shift)
{
    const uint32_t rounding = shift > 0 ? 1u << (shift - 1) : 0u;
    return (int32_t)((uint32_t)x * (uint32_t)multiplier + rounding) >> shift;
}

/* |v| as TFLite's abs(int32) then cast to uint32 (|INT32_MIN| = 2^31). */
static inline uint32_t mcu_s16_act_abs(int32_t v)
{
    return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

/* Logistic, Q0.15 out (TFLite's int16 LOGISTIC): the table indexed by |v| / 2^9. The LSTM's
 * gates are Q3.12: multiplier 3, shift 0. */
static inline int16_t mcu_sigmoid_q15(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t v = mcu_s16_act_input(x, multiplier, shift);
    const uint32_t a = mcu_s16_act_abs(v);
    const uint32_t i = a >> 9;
    uint32_t r;
    if (i >= 255) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t lo = mcu_sigmoid_table[i], hi = mcu_sigmoid_table[i + 1];
        r = (lo << 9) + (a & 0x1FFu) * (hi - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

/* The (multiplier, right shift) bringing an int16 of scale 2^p to the table's 3 * Q3.12. */
static inline void mcu_tanh_s16_scaling(int32_t p, int32_t *multiplier, int32_t *shift)
{
    const int32_t left = 12 + p;
    *multiplier = left < 0 ? 3 : 3 << left;
    *shift = left < 0 ? -left : 0;
}

/* tanh, Q0.15 out (TFLite's int16 TANH): the table indexed by |v| / 2^8. */
static inline int16_t mcu_tanh_q15(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t v = mcu_s16_act_input(x, multiplier, shift);
    const uint32_t a = mcu_s16_act_abs(v);
    const uint32_t i = a >> 8;
    int32_t r;
    if (i >= 255) {
        r = 0xFFFF << 8;
    } else {
        const uint32_t lo = mcu_sigmoid_table[i], hi = mcu_sigmoid_table[i + 1];
        r = (int32_t)((lo << 8) + (a & 0xFFu) * (hi - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

#endif /* MCU_NN_S16_ACT_H */
