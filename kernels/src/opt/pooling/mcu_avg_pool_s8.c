/*
 * mcu_avg_pool_s8 - optimized flavour (Cortex-M DSP extension).
 * Four channels per 32-bit load: SXTAB16 (plain and ROR #8) adds the 4 bytes into two pairs of
 * 16-bit lane sums, exact while the window has at most 256 taps (|sum| <= 128 * 256). Then one
 * rounded division per output value, as TFLM does. Channels beyond a multiple of 4 use plain C
 * (the reference arithmetic); filters of more than 256 taps: the call is handed to the
 * reference kernel (mcu_avg_pool_s8_ref, named in the run's report).
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/pooling/mcu_avg_pool_s8.c"
#else
#include "mcu_nn.h"
/* The reference kernel under another name, for the calls this one hands over; out of line, so
 * the run's report sees it run (deploy.REF_HANDOVERS). Its scratch need (none) is this one's. */
__attribute__((noinline)) mcu_status
mcu_avg_pool_s8_ref(const mcu_context *ctx, const mcu_pool_params *params, const mcu_dims *input_dims,
                    const int8_t *input, const mcu_dims *output_dims, int8_t *output);
#define mcu_avg_pool_s8 mcu_avg_pool_s8_ref
#include "../../ref/pooling/mcu_avg_pool_s8.c"
#undef mcu_avg_pool_s8
#include "../../common/mcu_nn_dsp.h"

static inline int8_t mcu_avg_out(int32_t sum, int32_t count, const mcu_range *act)
{
    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return mcu_clamp_s8_value(sum, act->min, act->max);
}

mcu_status mcu_avg_pool_s8(const mcu_context *ctx, const mcu_pool_params *params,
                           const mcu_dims *input_dims, const int8_t *input,
                           const mcu_dims *output_dims, int8_t *output)
{
    const mcu_status st = mcu_check_pool(params, input_dims, input, output_dims, output);
    if (st != MCU_OK)
        return st;
    if (params->filter.h * params->filter.w > 256) /* 16-bit lane sums would overflow */
        return mcu_avg_pool_s8_ref(ctx, params, input_dims, input, output_dims, output);
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t ch4 = ch & ~3;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
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
                    int32_t s02 = 0, s13 = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *p = in_b + ((y0 + ky) * in_w + x0 + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx, p += ch) {
                            const int32_t x = mcu_read_s8x4(p);
                            s02 = __sxtab16(s02, x);
                            s13 = mcu_sxtab16_ror8(s13, x);
                        }
                    }
                    output[c] = mcu_avg_out((int16_t)s02, count, &params->activation);
                    output[c + 1] = mcu_avg_out((int16_t)s13, count, &params->activation);
                    output[c + 2] = mcu_avg_out(s02 >> 16, count, &params->activation);
                    output[c + 3] = mcu_avg_out(s13 >> 16, count, &params->activation);
                }
                for (; c < ch; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky)
                        for (int32_t kx = kx0; kx < kx1; ++kx)
                            sum += in_b[((y0 + ky) * in_w + x0 + kx) * ch + c];
                    output[c] = mcu_avg_out(sum, count, &params->activation);
                }
            }
        }
    }
    return MCU_OK;
}
#endif
