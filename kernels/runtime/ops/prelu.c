/*
 * PRELU, int8: alpha (int8, broadcast against the input) scales the negative part.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_prelu_params params;
    mcu_dims in_dims, alpha_dims, out_dims;
} prelu_data;

static mcu_rt_status prelu_prepare(mcu_interpreter *rt, mcu_node *node)
{
    prelu_data *d = (prelu_data *)node->user_data;
    mcu_tensor_info in, alpha, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_input_info(rt, node, 1, &alpha)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (alpha.type != TFL_INT8 || alpha.n_scales < 1 || !mcu_scale_ok(alpha.scales[0]))
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[2]);
    if ((st = mcu_rt_broadcast_dims(&in, &alpha, &out, &d->in_dims, &d->alpha_dims, &d->out_dims)))
        return st;
    if (!mcu_rt_same_shape(&in, &out))
        return MCU_RT_CORRUPT_MODEL;
    const mcu_real s_in = mcu_real_from_f32(in.scales[0]), s_out = mcu_real_from_f32(out.scales[0]);
    mcu_prelu_params *p = &d->params;
    mcu_quantize_multiplier(mcu_real_div(s_in, s_out, MCU_REAL_DOUBLE), &p->positive_multiplier,
                            &p->positive_shift);
    mcu_quantize_multiplier(
        mcu_real_div(mcu_real_mul(s_in, mcu_real_from_f32(alpha.scales[0])), s_out, MCU_REAL_DOUBLE),
        &p->negative_multiplier, &p->negative_shift);
    p->input_offset = -in.zero_point;
    p->alpha_offset = -alpha.zero_point;
    p->output_offset = out.zero_point;
    return MCU_RT_OK;
}

static mcu_rt_status prelu_eval(mcu_interpreter *rt, mcu_node *node)
{
    const prelu_data *d = (const prelu_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_prelu_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                         &d->alpha_dims, (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                         (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_prelu = {
    TFL_OP_PRELU, 0, sizeof(prelu_data), prelu_prepare, prelu_eval};
