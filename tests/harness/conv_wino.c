#include "harness.h"

/* Like conv.c, plus the region the filter is transformed into on the target
 * (mcu_conv_wino_s8_transform) before the kernel runs on it. */
int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_conv_params p;
    p.input_offset = H();
    p.output_offset = H();
    p.stride = harness_hw();
    p.padding = harness_hw();
    p.dilation = harness_hw();
    p.activation = harness_range();
    mcu_quant_params q = harness_quant();
    mcu_dims in = harness_dims(), f = harness_dims(), out = harness_dims();
    const int8_t *x = P(), *w = P();
    const int32_t *bias = P();
    int16_t *u = P();
    int8_t *y = P();
    const mcu_status st = mcu_conv_wino_s8_transform(&f, w, u);
    if (st != MCU_OK)
        return st;
    if (harness_scratch(&ctx, mcu_conv_wino_s8_get_buffer_size(&in, &f)) != 0)
        return HARNESS_SCRATCH_TOO_SMALL;
    return mcu_conv_wino_s8(&ctx, &p, &q, &in, x, &f, u, bias, &out, y);
}
