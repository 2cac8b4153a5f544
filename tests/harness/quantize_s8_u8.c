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
    const int8_t *x = P();
    uint8_t *y = P();
    return mcu_quantize_s8_u8(&ctx, &p, &d, x, y);
}
