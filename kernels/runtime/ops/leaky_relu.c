/*
 * LEAKY_RELU, int8: separate multipliers for x >= 0 (s_in / s_out) and x < 0
 * (s_in * alpha / s_out), both float32 arithmetic in TFLM, reproduced exactly.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_leaky_relu_params params;
    mcu_dims dims;
} leaky_relu_data;

static mcu_rt_status leaky_relu_prepare(mcu_interpreter *rt, mcu_node *node)
{
    leaky_relu_data *d = (leaky_relu_data *)node->user_data;
    mcu_unary t;
    const mcu_rt_status st = mcu_rt_unary(rt, node, TFL_INT8, TFL_INT8, &t, &d->dims);
    if (st != MCU_RT_OK)
        return st;
    const mcu_real s_in = mcu_real_from_f32(t.in.scales[0]);
    const mcu_real s_out = mcu_real_from_f32(t.out.scales[0]);
    const mcu_real alpha =
        mcu_real_from_f32((uint32_t)mcu_rt_option_i32(rt, node, TFL_LEAKY_RELU_ALPHA, 0));
    mcu_leaky_relu_params *p = &d->params;
    const mcu_real scaled_alpha = mcu_real_round(mcu_real_mul(s_in, alpha), MCU_REAL_FLOAT);
    mcu_quantize_multiplier(mcu_real_div(scaled_alpha, s_out, MCU_REAL_FLOAT), &p->alpha_multiplier,
                            &p->alpha_shift);
    mcu_quantize_multiplier(mcu_real_div(s_in, s_out, MCU_REAL_FLOAT), &p->identity_multiplier,
                            &p->identity_shift);
    p->input_zero_point = t.in.zero_point;
    p->output_zero_point = t.out.zero_point;
    return MCU_RT_OK;
}

static mcu_rt_status leaky_relu_eval(mcu_interpreter *rt, mcu_node *node)
{
    const leaky_relu_data *d = (const leaky_relu_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_leaky_relu_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                              (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_leaky_relu = {
    TFL_OP_LEAKY_RELU, 0, sizeof(leaky_relu_data), leaky_relu_prepare, leaky_relu_eval};
