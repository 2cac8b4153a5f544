#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_transpose_conv_params p;
    p.input_offset = H();
    p.output_offset = H();
    p.stride.h = H();
    p.stride.w = H();
    p.padding.h = H();
    p.padding.w = H();
    p.activation = harness_range();
    mcu_quant_params q = harness_quant();
    mcu_dims in = harness_dims(), f = harness_dims(), out = harness_dims();
    const int8_t *x = P(), *w = P();
    const int32_t *bias = P();
    int8_t *y = P();
    if (harness_scratch(&ctx, mcu_transpose_conv_s8_get_buffer_size(&p, &in, &f, &out)) != 0)
        return HARNESS_SCRATCH_TOO_SMALL;
    return mcu_transpose_conv_s8(&ctx, &p, &q, &in, x, &f, w, bias, &out, y);
}
