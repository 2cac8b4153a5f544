#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_requantize_params p;
    p.input_zero_point = H();
    p.output_zero_point = H();
    p.multiplier = H();
    p.shift = H();
    p.activation = harness_range();
    mcu_dims d = harness_dims();
    const uint8_t *x = P();
    int8_t *y = P();
    return mcu_quantize_u8_s8(&ctx, &p, &d, x, y);
}
