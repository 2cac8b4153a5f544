#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_dims a = harness_dims(), b = harness_dims(), out = harness_dims();
    const int8_t *x1 = P(), *x2 = P();
    int8_t *y = P();
    return mcu_maximum_s8(&ctx, &a, x1, &b, x2, &out, y);
}
