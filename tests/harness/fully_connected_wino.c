#include "harness.h"

/* Like fully_connected.c, plus the region the per-row pair sums are prepared into on the
 * target (mcu_fully_connected_wino_s8_prepare) before the kernel runs on them. */
int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_fc_params p;
    p.input_offset = H();
    p.filter_offset = H();
    p.output_offset = H();
    p.activation = harness_range();
    mcu_quant_params q = harness_quant();
    mcu_dims in = harness_dims(), f = harness_dims(), out = harness_dims();
    const int8_t *x = P(), *w = P();
    const int32_t *bias = P();
    int32_t *pair_sums = P();
    int8_t *y = P();
    const mcu_status st = mcu_fully_connected_wino_s8_prepare(&f, w, pair_sums);
    if (st != MCU_OK)
        return st;
    if (harness_scratch(&ctx, mcu_fully_connected_wino_s8_get_buffer_size(&f)) != 0)
        return HARNESS_SCRATCH_TOO_SMALL;
    return mcu_fully_connected_wino_s8(&ctx, &p, &q, &in, x, &f, w, pair_sums, bias, &out, y);
}
