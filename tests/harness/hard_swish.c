#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_hard_swish_params p;
    p.input_zero_point = H();
    p.output_zero_point = H();
    p.reluish_multiplier = H();
    p.reluish_exponent = H();
    p.output_multiplier = H();
    p.output_exponent = H();
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_hard_swish_s8(&ctx, &p, &d, x, y);
}
