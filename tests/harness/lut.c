#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    const int8_t *table = P();
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    int8_t *y = P();
    return mcu_lut_s8(&ctx, table, &d, x, y);
}
