/*
 * mcu_fully_connected_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode: each row's dot product by mcu_dot_s16_s8 (SMLALD on int16 pairs, four taps per
 * weight word, exact int64 sums), then the reference kernel's output stage. Cores without
 * the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/fully_connected/mcu_fully_connected_s16.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

mcu_status mcu_fully_connected_s16(const mcu_context *ctx, const mcu_fc_params *params,
                                   const mcu_quant_params *quant, const mcu_dims *input_dims,
                                   const int16_t *input, const mcu_dims *filter_dims,
                                   const int8_t *filter, const int64_t *bias,
                                   const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_fc_s16(params, quant, input_dims, input, filter_dims, filter,
                                           output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t batches = input_dims->n;
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t out_ch = filter_dims->n;
    for (int32_t b = 0; b < batches; ++b) {
        const int16_t *x = input + b * depth;
        for (int32_t o = 0; o < out_ch; ++o) {
            const int64_t acc = mcu_dot_s16_s8(x, filter + o * depth, depth, bias ? bias[o] : 0);
            const int32_t y = mcu_requantize_s64(acc, mcu_quant_mult(quant, o), mcu_quant_shift(quant, o));
            output[b * out_ch + o] = mcu_clamp_s16_value(y + params->output_offset, params->activation.min,
                                                         params->activation.max);
        }
    }
    return MCU_OK;
}
#endif
