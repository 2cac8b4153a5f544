/*
 * mcu_add_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM's int16 ADD, reference_ops AddElementwise / BroadcastAdd6DSlow): int8 ADD's
 * arithmetic with 15 bits of headroom, which TFLM applies to power-of-two scales as well.
 * Broadcasting by strides.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static inline int16_t mcu_add_one_s16(const mcu_add_params *p, int32_t x1, int32_t x2)
{
    const int32_t a = mcu_requantize((x1 + p->input1_offset) * (1 << p->left_shift),
                                     p->input1_multiplier, p->input1_shift);
    const int32_t b = mcu_requantize((x2 + p->input2_offset) * (1 << p->left_shift),
                                     p->input2_multiplier, p->input2_shift);
    const int32_t out = mcu_requantize(a + b, p->output_multiplier, p->output_shift) +
                        p->output_offset;
    return (int16_t)MCU_CLAMP(out, p->activation.min, p->activation.max);
}

mcu_status mcu_add_s16(const mcu_context *ctx, const mcu_add_params *params,
                       const mcu_dims *input1_dims, const int16_t *input1,
                       const mcu_dims *input2_dims, const int16_t *input2,
                       const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!params || !input1 || !input2 || !output ||
        !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2) ||
        !mcu_range16_valid(&params->activation) || params->left_shift < 0 ||
        params->left_shift > 15)
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w) {
                const int16_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int16_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                for (int32_t c = 0; c < output_dims->c; ++c)
                    *output++ = mcu_add_one_s16(params, a[c * s1.c], b[c * s2.c]);
            }
    return MCU_OK;
}
