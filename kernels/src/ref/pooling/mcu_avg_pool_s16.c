/*
 * mcu_avg_pool_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM reference_integer_ops::AveragePool for int16): the int32 sum over the
 * in-bounds part of each window divided by the number of in-bounds taps, rounded half away
 * from zero, then the int16 activation clamp.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_avg_pool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                            const mcu_dims *input_dims, const int16_t *input,
                            const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_pool_s16(params, input_dims, input, output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    if (params->filter.h * params->filter.w > 65536) /* the int32 sum cannot overflow */
        return MCU_ERR_ARG;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_b = input + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky0 = MCU_MAX(0, -y0);
            const int32_t ky1 = MCU_MIN(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx0 = MCU_MAX(0, -x0);
                const int32_t kx1 = MCU_MIN(params->filter.w, in_w - x0);
                if (ky1 <= ky0 || kx1 <= kx0)
                    return MCU_ERR_ARG;
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                for (int32_t c = 0; c < ch; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky)
                        for (int32_t kx = kx0; kx < kx1; ++kx)
                            sum += in_b[((y0 + ky) * in_w + x0 + kx) * ch + c];
                    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = mcu_clamp_s16_value(sum, params->activation.min,
                                                    params->activation.max);
                }
            }
        }
    }
    return MCU_OK;
}
