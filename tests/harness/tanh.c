#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_sigmoid_params p;
    p.input_zero_point = H();
    p.input_range_radius = H();
    p.input_multiplier = H();
    p.input_left_shift = H();
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_tanh_s8(&ctx, &p, &d, x, y);
}
