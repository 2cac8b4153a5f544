#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_dims d = harness_dims();
    const float *x = P();
    float *y = P();
    return mcu_neg_f32(&ctx, &d, x, y);
}
