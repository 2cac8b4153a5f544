#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_leaky_relu_params p;
    p.input_zero_point = H();
    p.output_zero_point = H();
    p.identity_multiplier = H();
    p.identity_shift = H();
    p.alpha_multiplier = H();
    p.alpha_shift = H();
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_leaky_relu_s8(&ctx, &p, &d, x, y);
}
