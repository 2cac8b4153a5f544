/*
 * mcu_mul_s8 - optimized flavour (Cortex-M DSP extension).
 * Inputs of the output's shape (no broadcast): four elements per step; SXTAB16 adds the input
 * offsets to 4 bytes at once and SMLABB/SMLATT (accumulating into 0) form two offset-corrected products per pair of
 * lanes, then TFLM's per-element requantization. Broadcasting calls, and cores without the
 * DSP extension, use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/elementwise/mcu_mul_s8.c"
#else
#define mcu_mul_s8 mcu_mul_s8_ref
#include "../../ref/elementwise/mcu_mul_s8.c"
#undef mcu_mul_s8
#include "../../common/mcu_nn_dsp.h"

static inline int8_t mcu_mul_lane(const mcu_mul_params *p, int32_t prod)
{
    const int32_t v = mcu_requantize(prod, p->output_multiplier, p->output_shift) +
                      p->output_offset;
    return mcu_clamp_s8_value(v, p->activation.min, p->activation.max);
}

mcu_status mcu_mul_s8(const mcu_context *ctx, const mcu_mul_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output)
{
    if (!params || !input1_dims || !input2_dims || !output_dims ||
        !mcu_same_dims(input1_dims, output_dims) || !mcu_same_dims(input2_dims, output_dims))
        return mcu_mul_s8_ref(ctx, params, input1_dims, input1, input2_dims, input2,
                              output_dims, output);
    if (!input1 || !input2 || !output || !mcu_dims_valid(output_dims) ||
        !mcu_range_valid(&params->activation))
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(output_dims);
    const int32_t off1 = mcu_dup16(params->input1_offset), off2 = mcu_dup16(params->input2_offset);
    int32_t i = 0;
    for (; i + 3 < size; i += 4) {
        const int32_t x = mcu_read_s8x4(input1 + i), y = mcu_read_s8x4(input2 + i);
        const int32_t a02 = __sxtab16(off1, x), a13 = mcu_sxtab16_ror8(off1, x);
        const int32_t b02 = __sxtab16(off2, y), b13 = mcu_sxtab16_ror8(off2, y);
        output[i] = mcu_mul_lane(params, __smlabb(a02, b02, 0));
        output[i + 1] = mcu_mul_lane(params, __smlabb(a13, b13, 0));
        output[i + 2] = mcu_mul_lane(params, __smlatt(a02, b02, 0));
        output[i + 3] = mcu_mul_lane(params, __smlatt(a13, b13, 0));
    }
    for (; i < size; ++i)
        output[i] = mcu_mul_lane(params, (input1[i] + params->input1_offset) *
                                             (input2[i] + params->input2_offset));
    return MCU_OK;
}
#endif
