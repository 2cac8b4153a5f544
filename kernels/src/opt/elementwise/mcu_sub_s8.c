/*
 * mcu_sub_s8 - optimized flavour (Cortex-M DSP extension).
 * TFLM int8 SUB: a_1 - a_2 of the inputs on a common scale, as the reference kernel, with each
 * input rescaled by one SMMLAR, the output by one SMLAL, and an input broadcast along the
 * channels rescaled once per row (mcu_nn_rescale.h). No scratch.
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/elementwise/mcu_sub_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_rescale.h"

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
        !mcu_range_valid(&params->activation) || params->left_shift < 0 || params->left_shift > 22)
        return MCU_ERR_ARG;
    mcu_rescale_run(params, input1_dims, input1, input2_dims, input2, output_dims, output, &s1, &s2,
                    MCU_RESCALE_SUB);
    return MCU_OK;
}
#endif
