/*
 * mcu_fully_connected_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM reference_integer_ops::FullyConnectedPerChannel with int16 input, int8
 * weights, int64 bias): an int64 dot product per (batch, output channel), requantized by
 * the int64 MultiplyByQuantizedMultiplier and clamped to the int16 activation range.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

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
            const int8_t *w = filter + o * depth;
            int64_t acc = 0;
            for (int32_t k = 0; k < depth; ++k)
                acc += (int32_t)w[k] * x[k];
            if (bias)
                acc += bias[o];
            const int32_t y = mcu_requantize_s64(acc, mcu_quant_mult(quant, o), mcu_quant_shift(quant, o));
            output[b * out_ch + o] = mcu_clamp_s16_value(y + params->output_offset, params->activation.min,
                                                         params->activation.max);
        }
    }
    return MCU_OK;
}
