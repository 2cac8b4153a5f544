/*
 * mcu_concatenation_s8 - reference flavour (portable C).
 * Concatenation along one NHWC axis. Inputs quantized like the output are copied (TFLM's only
 * case); any other input is requantized per element with the integer multiplier given by the
 * caller, as QUANTIZE would.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static int32_t mcu_dim_at(const mcu_dims *d, int32_t axis)
{
    return axis == 0 ? d->n : axis == 1 ? d->h : axis == 2 ? d->w : d->c;
}

mcu_status mcu_concatenation_s8(const mcu_context *ctx, const mcu_concat_params *params,
                                const mcu_dims *input_dims, const int8_t *const *inputs,
                                const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input_dims || !inputs || !output || !mcu_dims_valid(output_dims) ||
        params->num_inputs < 1 || params->axis < 0 || params->axis > 3)
        return MCU_ERR_ARG;
    const int32_t axis = params->axis;
    int32_t total = 0;
    for (int32_t i = 0; i < params->num_inputs; ++i) {
        const mcu_dims *d = &input_dims[i];
        if (!inputs[i] || !mcu_dims_valid(d))
            return MCU_ERR_ARG;
        for (int32_t a = 0; a < 4; ++a)
            if (a != axis && mcu_dim_at(d, a) != mcu_dim_at(output_dims, a))
                return MCU_ERR_ARG;
        total += mcu_dim_at(d, axis);
    }
    if (total != mcu_dim_at(output_dims, axis))
        return MCU_ERR_ARG;

    /* outer = product of dims before axis; each input contributes a contiguous block of
     * (its axis extent * inner) per outer index. */
    int32_t outer = 1, inner = 1;
    for (int32_t a = 0; a < axis; ++a)
        outer *= mcu_dim_at(output_dims, a);
    for (int32_t a = axis + 1; a < 4; ++a)
        inner *= mcu_dim_at(output_dims, a);
    const int32_t out_block = total * inner;
    int32_t offset = 0;
    for (int32_t i = 0; i < params->num_inputs; ++i) {
        const int32_t block = mcu_dim_at(&input_dims[i], axis) * inner;
        const mcu_concat_input *rq = params->requant ? &params->requant[i] : 0;
        for (int32_t o = 0; o < outer; ++o) {
            const int8_t *src = inputs[i] + o * block;
            int8_t *dst = output + o * out_block + offset;
            if (!rq || rq->multiplier == 0) {
                for (int32_t k = 0; k < block; ++k)
                    dst[k] = src[k];
            } else {
                for (int32_t k = 0; k < block; ++k) {
                    const int32_t v = mcu_requantize(src[k] - rq->input_zero_point,
                                                     rq->multiplier, rq->shift) +
                                      params->output_zero_point;
                    dst[k] = mcu_clamp_s8_value(v, -128, 127);
                }
            }
        }
        offset += block;
    }
    return MCU_OK;
}
