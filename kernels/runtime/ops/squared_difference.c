/*
 * SQUARED_DIFFERENCE: (int8 - int8)^2 with broadcasting (rank <= 4). Both inputs rescaled to
 * twice the larger input scale with a left shift of 7, the squared difference rescaled by
 * twice_max^2 / (2^14 * s_out) (all in double in TFLM); no fused activation.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_add_params params;
    mcu_dims dims1, dims2, out_dims;
} squared_difference_data;

static mcu_rt_status squared_difference_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(squared_difference_data));
}

static mcu_rt_status squared_difference_prepare(mcu_interpreter *rt, mcu_node *node)
{
    squared_difference_data *d = (squared_difference_data *)node->user_data;
    mcu_tensor_info a, b, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &a)) || (st = mcu_rt_check_int8(rt, node, 1, &b)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) ||
        (st = mcu_rt_broadcast_dims(&a, &b, &out, &d->dims1, &d->dims2, &d->out_dims)))
        return st;
    mcu_add_params *p = &d->params;
    p->input1_offset = -a.zero_point;
    p->input2_offset = -b.zero_point;
    p->output_offset = out.zero_point;
    p->left_shift = 7;
    const mcu_real s1 = mcu_real_from_f32(a.scales[0]), s2 = mcu_real_from_f32(b.scales[0]);
    mcu_real twice_max = a.scales[0] > b.scales[0] ? s1 : s2; /* positive floats order as ints */
    twice_max.e += 1;
    mcu_real out_scale = mcu_real_from_f32(out.scales[0]); /* (1 << 14) * s_out: a float */
    out_scale.e += 2 * p->left_shift;
    mcu_quantize_multiplier(mcu_real_div(s1, twice_max, MCU_REAL_DOUBLE), &p->input1_multiplier,
                            &p->input1_shift);
    mcu_quantize_multiplier(mcu_real_div(s2, twice_max, MCU_REAL_DOUBLE), &p->input2_multiplier,
                            &p->input2_shift);
    mcu_quantize_multiplier(mcu_real_div(mcu_real_mul(twice_max, twice_max), out_scale,
                                         MCU_REAL_DOUBLE),
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
    TFL_OP_SQUARED_DIFFERENCE, 0, squared_difference_init, squared_difference_prepare,
    squared_difference_eval};
