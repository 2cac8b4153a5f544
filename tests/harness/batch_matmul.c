#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_batch_matmul_params p;
    p.lhs_offset = H();
    p.rhs_offset = H();
    p.output_offset = H();
    p.adj_x = H();
    p.adj_y = H();
    p.activation = harness_range();
    mcu_quant_params q = harness_quant();
    mcu_dims l = harness_dims(), r = harness_dims(), out = harness_dims();
    const int8_t *a = P(), *b = P();
    int8_t *y = P();
    if (harness_scratch(&ctx, mcu_batch_matmul_s8_get_buffer_size(&p, &l, &r)) != 0)
        return HARNESS_SCRATCH_TOO_SMALL;
    return mcu_batch_matmul_s8(&ctx, &p, &q, &l, a, &r, b, &out, y);
}
