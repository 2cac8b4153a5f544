/*
 * SQUARED_DIFFERENCE: (int8 - int8)^2 with broadcasting (rank <= 4). Both inputs rescaled as
 * ADD does with a left shift of 7, the squared difference by twice_max^2 / (2^14 * s_out) (all
 * in double in TFLM; the product of two float32s is exact); no fused activation.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_add_params params;
    mcu_dims dims1, dims2, out_dims;
} squared_difference_data;

static mcu_rt_status squared_difference_prepare(mcu_interpreter *rt, mcu_node *node)
{
    squared_difference_data *d = (squared_difference_data *)node->user_data;
    mcu_binary t;
    const mcu_rt_status st = mcu_rt_binary(rt, node, &t, &d->dims1, &d->dims2, &d->out_dims);
    if (st != MCU_RT_OK)
        return st;
    mcu_add_params *p = &d->params;
    mcu_rt_add_quant(&t, 7, MCU_REAL_DOUBLE, p);
    const uint32_t b1 = t.a.scales[0], b2 = t.b.scales[0];
    mcu_real twice_max = mcu_real_from_f32(b1 > b2 ? b1 : b2); /* positive floats order as ints */
    twice_max.e += 1;
    mcu_real out_scale = mcu_real_from_f32(t.out.scales[0]); /* (1 << 14) * s_out: a float */
    out_scale.e += 2 * p->left_shift;
    mcu_quantize_multiplier(
        mcu_real_div(mcu_real_mul(twice_max, twice_max), out_scale, MCU_REAL_DOUBLE),
        &p->output_multiplier, &p->output_shift);
    p->activation.min = -128;
    p->activation.max = 127;
    return MCU_RT_OK;
}

static mcu_rt_status squared_difference_eval(mcu_interpreter *rt, mcu_node *node)
{
    const squared_difference_data *d = (const squared_difference_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_squared_difference_s8(0, &d->params, &d->dims1,
                                      (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                                      (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                                      (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_squared_difference = {
    TFL_OP_SQUARED_DIFFERENCE, 0, sizeof(squared_difference_data), squared_difference_prepare,
    squared_difference_eval};
