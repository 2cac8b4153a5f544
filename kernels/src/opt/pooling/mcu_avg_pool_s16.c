/*
 * mcu_avg_pool_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode: four channels per window tap from two 32-bit loads (int16 pairs), each lane added
 * into its own int32 sum (SXTAH for the low half, ADD with ASR #16 for the high half), then one
 * rounded division per output value, as TFLM does. Channels beyond a multiple of 4 and cores
 * without the DSP extension use the reference arithmetic.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/pooling/mcu_avg_pool_s16.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

static inline int16_t mcu_avg16_out(int32_t sum, int32_t count, const mcu_range *act)
{
    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return mcu_clamp_s16_value(sum, act->min, act->max);
}

mcu_status mcu_avg_pool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                            const mcu_dims *input_dims, const int16_t *input,
                            const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_pool_s16(params, input_dims, input, output_dims, output);
    if (st != MCU_OK)
        return st;
    if (params->filter.h * params->filter.w > 65536) /* the int32 sums cannot overflow */
        return MCU_ERR_ARG;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t ch4 = ch & ~3;
    const mcu_range *act = &params->activation;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_b = input + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky0 = MCU_MAX(0, -y0), ky1 = MCU_MIN(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, output += ch) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx0 = MCU_MAX(0, -x0), kx1 = MCU_MIN(params->filter.w, in_w - x0);
                if (ky1 <= ky0 || kx1 <= kx0)
                    return MCU_ERR_ARG;
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                int32_t c = 0;
                for (; c < ch4; c += 4) {
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int16_t *p = in_b + ((y0 + ky) * in_w + x0 + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx, p += ch) {
                            const int32_t lo = mcu_read_s16x2(p), hi = mcu_read_s16x2(p + 2);
                            s0 += (int16_t)lo;
                            s1 += lo >> 16;
                            s2 += (int16_t)hi;
                            s3 += hi >> 16;
                        }
                    }
                    output[c] = mcu_avg16_out(s0, count, act);
                    output[c + 1] = mcu_avg16_out(s1, count, act);
                    output[c + 2] = mcu_avg16_out(s2, count, act);
                    output[c + 3] = mcu_avg16_out(s3, count, act);
                }
                for (; c < ch; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky)
                        for (int32_t kx = kx0; kx < kx1; ++kx)
                            sum += in_b[((y0 + ky) * in_w + x0 + kx) * ch + c];
                    output[c] = mcu_avg16_out(sum, count, act);
                }
            }
        }
    }
    return MCU_OK;
}
#endif
