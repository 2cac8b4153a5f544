#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_pool_params p;
    p.stride = harness_hw();
    p.padding = harness_hw();
    p.filter = harness_hw();
    p.activation = harness_range();
    mcu_dims in = harness_dims(), out = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    if (harness_scratch(&ctx, mcu_avg_pool_s8_get_buffer_size(&in)) != 0)
        return HARNESS_SCRATCH_TOO_SMALL;
    return mcu_avg_pool_s8(&ctx, &p, &in, x, &out, y);
}
