/*
 * mcu_fully_connected_s8 - reference flavour (portable C).
 * TFLM reference_integer_ops::FullyConnected (per-tensor) and FullyConnectedPerChannel:
 * one int32 dot product per (batch, output channel), then requantize and clamp.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

int32_t mcu_fully_connected_s8_get_buffer_size(const mcu_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}

mcu_status mcu_fully_connected_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int8_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_fc(params, quant, input_dims, input, filter_dims, filter,
                                       output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t batches = input_dims->n;
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t out_ch = filter_dims->n;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *x = input + b * depth;
        for (int32_t o = 0; o < out_ch; ++o) {
            const int8_t *w = filter + o * depth;
            int32_t acc = 0;
            for (int32_t k = 0; k < depth; ++k)
                acc += (w[k] + params->filter_offset) * (x[k] + params->input_offset);
            if (bias)
                acc += bias[o];
            acc = mcu_requantize(acc, mcu_quant_mult(quant, o), mcu_quant_shift(quant, o));
            output[b * out_ch + o] = mcu_clamp_s8_value(acc + params->output_offset,
                                                        params->activation.min,
                                                        params->activation.max);
        }
    }
    return MCU_OK;
}
