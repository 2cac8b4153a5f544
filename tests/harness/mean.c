#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_mean_params p;
    p.input_zero_point = H();
    p.output_zero_point = H();
    p.multiplier = H();
    p.shift = H();
    mcu_dims in = harness_dims(), out = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    if (harness_scratch(&ctx, mcu_mean_s8_get_buffer_size(&in)) != 0)
        return HARNESS_SCRATCH_TOO_SMALL;
    return mcu_mean_s8(&ctx, &p, &in, x, &out, y);
}
