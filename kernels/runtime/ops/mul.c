/*
 * MUL: int8 * int8 with broadcasting (rank <= 4); one multiplier s1 * s2 / s_out.
 * 16x8 mode: int16 * int16 (zero points 0) the same way (mcu_mul_s16).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_mul_params params;
    mcu_dims dims1, dims2, out_dims;
    int32_t is_s16;
} mul_data;

static mcu_rt_status mul_prepare(mcu_interpreter *rt, mcu_node *node)
{
    mul_data *d = (mul_data *)node->user_data;
    mcu_binary t;
    mcu_mul_params *p = &d->params;
    const mcu_rt_status st = mcu_rt_binary16(rt, node, &t, &d->dims1, &d->dims2, &d->out_dims);
    if (st != MCU_RT_OK)
        return st;
    d->is_s16 = t.out.type == TFL_INT16;
    p->input1_offset = -t.a.zero_point;
    p->input2_offset = -t.b.zero_point;
    p->output_offset = t.out.zero_point;
    const mcu_real product = mcu_real_mul(mcu_real_from_f32(t.a.scales[0]),
                                          mcu_real_from_f32(t.b.scales[0]));
    mcu_quantize_multiplier(
        mcu_real_div(product, mcu_real_from_f32(t.out.scales[0]), MCU_REAL_DOUBLE),
        &p->output_multiplier, &p->output_shift);
    return mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_MUL_ACTIVATION, TFL_ACT_NONE), &t.out,
                             &p->activation);
}

static mcu_rt_status mul_eval(mcu_interpreter *rt, mcu_node *node)
{
    const mul_data *d = (const mul_data *)node->user_data;
    if (d->is_s16)
        return mcu_rt_kernel_status(
            rt, mcu_mul_s16(0, &d->params, &d->dims1, (const int16_t *)MCU_RT_IN(rt, node, 0),
                            &d->dims2, (const int16_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                            (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_mul_s8(0, &d->params, &d->dims1, (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                       (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                       (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_mul = {
    TFL_OP_MUL, 0, sizeof(mul_data), mul_prepare, mul_eval};
