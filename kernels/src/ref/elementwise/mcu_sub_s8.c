/*
 * mcu_sub_s8 - reference flavour (portable C).
 * TFLM int8 SUB (reference_ops::Sub / BroadcastQuantSubSlow): ADD's arithmetic with the two
 * rescaled inputs subtracted. The parameters are ADD's record; TFLM computes SUB's multipliers
 * in float32 (the caller does so). Broadcasting by strides.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static inline int8_t mcu_sub_one(const mcu_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t a = mcu_requantize((x1 + p->input1_offset) * (1 << p->left_shift),
                                     p->input1_multiplier, p->input1_shift);
    const int32_t b = mcu_requantize((x2 + p->input2_offset) * (1 << p->left_shift),
                                     p->input2_multiplier, p->input2_shift);
    const int32_t out = mcu_requantize(a - b, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    return mcu_clamp_s8_value(out, p->activation.min, p->activation.max);
}

mcu_status mcu_sub_s8(const mcu_context *ctx, const mcu_add_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!params || !input1 || !input2 || !output ||
        !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2) ||
        !mcu_range_valid(&params->activation) || params->left_shift < 0 ||
        params->left_shift > 22)
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w) {
                const int8_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int8_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                for (int32_t c = 0; c < output_dims->c; ++c)
                    *output++ = mcu_sub_one(params, a[c * s1.c], b[c * s2.c]);
            }
    return MCU_OK;
}
