/*
 * LOGISTIC and TANH, int8: the input rescaled to Q4.27 (multiplier = the input scale times
 * 2^27, exact), outputs fixed at 1/256 (zero point -128) and 1/128 (zero point 0).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_sigmoid_params params;
    mcu_dims dims;
} sigmoid_data;

static mcu_rt_status sigmoid_prepare(mcu_interpreter *rt, mcu_node *node)
{
    sigmoid_data *d = (sigmoid_data *)node->user_data;
    mcu_unary t;
    const mcu_rt_status st = mcu_rt_unary(rt, node, TFL_INT8, TFL_INT8, &t, &d->dims);
    if (st != MCU_RT_OK)
        return st;
    if (t.out.zero_point != (node->reg->builtin_code == TFL_OP_LOGISTIC ? -128 : 0))
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_real real = mcu_real_from_f32(t.in.scales[0]);
    real.e += 27; /* input_scale * 2^(31 - 4), exact */
    mcu_sigmoid_params *p = &d->params;
    mcu_quantize_multiplier(real, &p->input_multiplier, &p->input_left_shift);
    p->input_zero_point = t.in.zero_point;
    /* CalculateInputRadius(4, shift, 31): floor(15 * 2^27 / 2^shift) */
    const int32_t shift = p->input_left_shift;
    p->input_range_radius = shift < 0 ? INT32_MAX : (int32_t)((15u << 27) >> (shift > 31 ? 31 : shift));
    return MCU_RT_OK;
}

static mcu_rt_status logistic_eval(mcu_interpreter *rt, mcu_node *node)
{
    const sigmoid_data *d = (const sigmoid_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_logistic_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                            (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status tanh_eval(mcu_interpreter *rt, mcu_node *node)
{
    const sigmoid_data *d = (const sigmoid_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_tanh_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                        (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_logistic = {
    TFL_OP_LOGISTIC, 0, sizeof(sigmoid_data), sigmoid_prepare, logistic_eval};
const mcu_op_registration mcu_op_tanh = {
    TFL_OP_TANH, 0, sizeof(sigmoid_data), sigmoid_prepare, tanh_eval};
