#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_rsqrt_params p;
    p.input_zero_point = H();
    p.output_zero_point = H();
    p.multiplier = H();
    p.shift = H();
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_rsqrt_s8(&ctx, &p, &d, x, y);
}
