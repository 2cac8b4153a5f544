#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_add_params p;
    p.input1_offset = H();
    p.input2_offset = H();
    p.left_shift = H();
    p.input1_multiplier = H();
    p.input1_shift = H();
    p.input2_multiplier = H();
    p.input2_shift = H();
    p.output_multiplier = H();
    p.output_shift = H();
    p.output_offset = H();
    p.activation = harness_range();
    mcu_dims a = harness_dims(), b = harness_dims(), out = harness_dims();
    const int8_t *x1 = P(), *x2 = P();
    int8_t *y = P();
    return mcu_sub_s8(&ctx, &p, &a, x1, &b, x2, &out, y);
}
