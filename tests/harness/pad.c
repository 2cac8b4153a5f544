#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_pad_params p;
    p.before = harness_dims();
    p.after = harness_dims();
    p.pad_value = H();
    mcu_dims in = harness_dims(), out = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_pad_s8(&ctx, &p, &in, x, &out, y);
}
