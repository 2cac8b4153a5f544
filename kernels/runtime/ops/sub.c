/*
 * SUB: int8 - int8 with broadcasting (rank <= 4). ADD's arithmetic (left shift 20, both inputs
 * rescaled to twice the larger input scale), but TFLM's SUB divides the scales in float32.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_add_params params;
    mcu_dims dims1, dims2, out_dims;
} sub_data;

static mcu_rt_status sub_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(sub_data));
}

static mcu_rt_status sub_prepare(mcu_interpreter *rt, mcu_node *node)
{
    sub_data *d = (sub_data *)node->user_data;
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
    p->left_shift = 20;
    /* TFLM, in float32: twice_max = 2 * max(s1, s2); s1 / twice_max, s2 / twice_max,
     * twice_max / (2^20 * s_out). Scaling by powers of two is exact. */
    const mcu_real s1 = mcu_real_from_f32(a.scales[0]), s2 = mcu_real_from_f32(b.scales[0]);
    mcu_real twice_max = a.scales[0] > b.scales[0] ? s1 : s2; /* positive floats order as ints */
    twice_max.e += 1;
    mcu_real out_scale = mcu_real_from_f32(out.scales[0]);
    out_scale.e += p->left_shift;
    mcu_quantize_multiplier(mcu_real_div(s1, twice_max, MCU_REAL_FLOAT), &p->input1_multiplier,
                            &p->input1_shift);
    mcu_quantize_multiplier(mcu_real_div(s2, twice_max, MCU_REAL_FLOAT), &p->input2_multiplier,
                            &p->input2_shift);
    mcu_quantize_multiplier(mcu_real_div(twice_max, out_scale, MCU_REAL_FLOAT),
                            &p->output_multiplier, &p->output_shift);
    return mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_SUB_ACTIVATION, TFL_ACT_NONE), &out,
                             &p->activation);
}

static mcu_rt_status sub_eval(mcu_interpreter *rt, mcu_node *node)
{
    const sub_data *d = (const sub_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_sub_s8(0, &d->params, &d->dims1, (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                       (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                       (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_sub = {TFL_OP_SUB, 0, sub_init, sub_prepare, sub_eval};
