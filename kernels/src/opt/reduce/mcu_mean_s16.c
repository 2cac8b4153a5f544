/*
 * mcu_mean_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode: four channels per reduced position from two 32-bit loads (int16 pairs), each lane
 * added into its own int32 sum (SXTAH for the low half, ADD with ASR #16 for the high half),
 * then the reference kernel's requantization. Channels beyond a multiple of 4 and cores without
 * the DSP extension use the reference arithmetic.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/reduce/mcu_mean_s16.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

static inline int16_t mcu_mean16_out(int32_t sum, int32_t count, int32_t mult, int32_t shift,
                                     const mcu_mean_params *p)
{
    sum -= p->input_zero_point * count;
    const int32_t v = mcu_requantize(sum, mult, shift) + p->output_zero_point;
    return mcu_clamp_s16_value(v, -32768, 32767);
}

mcu_status mcu_mean_s16(const mcu_context *ctx, const mcu_mean_params *params,
                        const mcu_dims *input_dims, const int16_t *input,
                        const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    /* at most 2^16 values: the int32 sum of int16 values cannot overflow */
    if (mcu_check_mean(params, input_dims, input, output_dims, output, 1 << 16) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t count = input_dims->h * input_dims->w, ch = input_dims->c;
    int32_t mult = params->multiplier, shift = params->shift;
    mcu_mean_fold(count, &mult, &shift);
    const int32_t ch4 = ch & ~3;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int16_t *in_b = input + b * count * ch;
        int16_t *out_b = output + b * ch;
        int32_t c = 0;
        for (; c < ch4; c += 4) {
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            const int16_t *p = in_b + c;
            for (int32_t i = 0; i < count; ++i, p += ch) {
                const int32_t lo = mcu_read_s16x2(p), hi = mcu_read_s16x2(p + 2);
                s0 += (int16_t)lo;
                s1 += lo >> 16;
                s2 += (int16_t)hi;
                s3 += hi >> 16;
            }
            out_b[c] = mcu_mean16_out(s0, count, mult, shift, params);
            out_b[c + 1] = mcu_mean16_out(s1, count, mult, shift, params);
            out_b[c + 2] = mcu_mean16_out(s2, count, mult, shift, params);
            out_b[c + 3] = mcu_mean16_out(s3, count, mult, shift, params);
        }
        for (; c < ch; ++c) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; ++i)
                sum += in_b[i * ch + c];
            out_b[c] = mcu_mean16_out(sum, count, mult, shift, params);
        }
    }
    return MCU_OK;
}
#endif
