/*
 * mcu_minimum_s8 - optimized flavour (Cortex-M DSP extension): four bytes per SSUB8 + SEL
 * (mcu_nn_extremum.h), the same results as the reference kernel. No scratch.
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/elementwise/mcu_minimum_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_extremum.h"

mcu_status mcu_minimum_s8(const mcu_context *ctx, const mcu_dims *input1_dims,
                        const int8_t *input1, const mcu_dims *input2_dims, const int8_t *input2,
                        const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    return mcu_extremum_run(input1_dims, input1, input2_dims, input2, output_dims, output, 0);
}
#endif
