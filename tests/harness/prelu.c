#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_prelu_params p;
    p.input_offset = H();
    p.alpha_offset = H();
    p.output_offset = H();
    p.positive_multiplier = H();
    p.positive_shift = H();
    p.negative_multiplier = H();
    p.negative_shift = H();
    mcu_dims in = harness_dims(), ad = harness_dims(), out = harness_dims();
    const int8_t *x = P(), *alpha = P();
    int8_t *y = P();
    return mcu_prelu_s8(&ctx, &p, &in, x, &ad, alpha, &out, y);
}
