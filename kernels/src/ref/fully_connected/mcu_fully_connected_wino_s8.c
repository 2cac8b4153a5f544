/*
 * mcu_fully_connected_wino_s8 - reference flavour (portable C): FULLY_CONNECTED by Winograd's
 * inner-product identity (contract in mcu_nn.h). Per batch and output row o, with
 * x = input + input_offset and w the raw int8 weights of row o:
 *   acc = sum_j [(x0 + w1)(x1 + w0) + (x2 + w3)(x3 + w2)]     (groups j of 4 inputs)
 *         - sum_j (x0 x1 + x2 x3)                              (input term, once per batch)
 *         - pair_sums[o]                                       (weight term, prepared)
 *         + sum over the last K % 4 inputs of x w              (direct)
 *         + filter_offset * sum_k x                            (fold, once per batch)
 *         + bias[o]
 * which is mcu_fully_connected_s8's accumulator exactly. Sums are kept in uint32 so the
 * intermediate values wrap like the hardware does without undefined behaviour.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

/* Arguments of the prepare function; MCU_OK or MCU_ERR_ARG. */
static mcu_status mcu_fcw_prepare_check(const mcu_dims *filter_dims, const int8_t *filter,
                                        const int32_t *pair_sums)
{
    if (!filter || !pair_sums || !mcu_dims_valid(filter_dims))
        return MCU_ERR_ARG;
    return filter_dims->h * filter_dims->w * filter_dims->c > 65535 ? MCU_ERR_ARG : MCU_OK;
}

#ifndef MCU_FCW_OPTIMIZED
mcu_status mcu_fully_connected_wino_s8_prepare(const mcu_dims *filter_dims, const int8_t *filter,
                                              int32_t *pair_sums)
{
    const mcu_status st = mcu_fcw_prepare_check(filter_dims, filter, pair_sums);
    if (st != MCU_OK)
        return st;
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t depth4 = depth & ~3;
    for (int32_t o = 0; o < filter_dims->n; ++o) {
        const int8_t *w = filter + o * depth;
        int32_t s = 0; /* |s| <= 2^15 K / 4 < 2^29 */
        for (int32_t k = 0; k < depth4; k += 2)
            s += w[k] * w[k + 1];
        pair_sums[o] = s;
    }
    return MCU_OK;
}
#endif

/* Arguments shared by both flavours; MCU_OK or the status to return. */
static mcu_status mcu_fcw_check(const mcu_fc_params *params, const mcu_quant_params *quant,
                                const mcu_dims *input_dims, const int8_t *input,
                                const mcu_dims *filter_dims, const int8_t *filter,
                                const int32_t *pair_sums, const mcu_dims *output_dims,
                                const int8_t *output)
{
    if (!pair_sums)
        return MCU_ERR_ARG;
    return mcu_check_fc(params, quant, input_dims, input, filter_dims, filter, output_dims,
                        output);
}

#ifndef MCU_FCW_OPTIMIZED
int32_t mcu_fully_connected_wino_s8_get_buffer_size(const mcu_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}

mcu_status mcu_fully_connected_wino_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                      const mcu_quant_params *quant, const mcu_dims *input_dims,
                                      const int8_t *input, const mcu_dims *filter_dims,
                                      const int8_t *filter, const int32_t *pair_sums,
                                      const int32_t *bias, const mcu_dims *output_dims,
                                      int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_fcw_check(params, quant, input_dims, input, filter_dims, filter,
                                        pair_sums, output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t batches = input_dims->n;
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t depth4 = depth & ~3, out_ch = filter_dims->n;
    const int32_t in_off = params->input_offset;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *xb = input + b * depth;
        uint32_t shared = 0; /* fold - input term, the same for every row */
        for (int32_t k = 0; k < depth4; k += 2)
            shared -= (uint32_t)((xb[k] + in_off) * (xb[k + 1] + in_off));
        for (int32_t k = 0; k < depth; ++k)
            shared += (uint32_t)(params->filter_offset * (xb[k] + in_off));
        for (int32_t o = 0; o < out_ch; ++o) {
            const int8_t *w = filter + o * depth;
            uint32_t acc = shared - (uint32_t)pair_sums[o];
            for (int32_t k = 0; k < depth4; k += 2) /* pairs (k, k + 1) */
                acc += (uint32_t)((xb[k] + in_off + w[k + 1]) * (xb[k + 1] + in_off + w[k]));
            for (int32_t k = depth4; k < depth; ++k)
                acc += (uint32_t)((xb[k] + in_off) * w[k]);
            int32_t a = (int32_t)acc;
            if (bias)
                a += bias[o];
            a = mcu_requantize(a, mcu_quant_mult(quant, o), mcu_quant_shift(quant, o));
            output[b * out_ch + o] = mcu_clamp_s8_value(a + params->output_offset,
                                                        params->activation.min,
                                                        params->activation.max);
        }
    }
    return MCU_OK;
}
#endif
