#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_softmax_params p;
    p.input_multiplier = H();
    p.input_left_shift = H();
    p.diff_min = H();
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_softmax_s8(&ctx, &p, &d, x, y);
}
