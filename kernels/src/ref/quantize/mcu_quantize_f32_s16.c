/*
 * mcu_quantize_f32_s16 - reference flavour (portable C).
 * QUANTIZE float32 -> int16 (TFLM reference_ops::AffineQuantize, the 16x8 model's float
 * input): round(x / scale) half away from zero, in single precision, plus the zero point,
 * saturated to int16.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_quantize_f32_s16(const mcu_context *ctx, const mcu_dequantize_params *params,
                                const mcu_dims *dims, const float *input, int16_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, (const int8_t *)(const void *)input, output) != MCU_OK ||
        !(params->scale > 0.0f))
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i) {
        float q = input[i] / params->scale;
        /* clamped first so the conversion is defined (NaN to the low end); beyond +-2^17
         * every result saturates anyway */
        q = !(q >= -131072.0f) ? -131072.0f : (q > 131072.0f ? 131072.0f : q);
        const float a = q < 0.0f ? -q : q;
        int32_t r = (int32_t)a; /* truncates; a - r is exact below 2^23 */
        if (a - (float)r >= 0.5f)
            r += 1;
        r = (q < 0.0f ? -r : r) + params->zero_point;
        output[i] = mcu_clamp_s16_value(r, -32768, 32767);
    }
    return MCU_OK;
}
