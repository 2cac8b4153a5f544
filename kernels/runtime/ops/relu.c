/*
 * RELU (requantized to the output scale, TFLM ReluQuantized) and RELU6 (TFLM's int8 RELU6
 * only clamps, on the input's scale: [zero_point, zero_point + round(6 / scale)]).
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_requantize_params params; /* RELU6 uses only params.activation */
    mcu_dims dims;
} relu_data;

static mcu_rt_status relu_prepare(mcu_interpreter *rt, mcu_node *node)
{
    relu_data *d = (relu_data *)node->user_data;
    mcu_unary t;
    const mcu_rt_status st = mcu_rt_unary(rt, node, TFL_INT8, TFL_INT8, &t, &d->dims);
    if (st != MCU_RT_OK)
        return st;
    mcu_requantize_params *p = &d->params;
    if (node->reg->builtin_code == TFL_OP_RELU6) {
        /* RELU6's range is that of a fused RELU6 on the input tensor */
        return mcu_rt_activation(TFL_ACT_RELU6, &t.in, &p->activation);
    }
    p->input_zero_point = t.in.zero_point;
    p->output_zero_point = t.out.zero_point;
    mcu_rt_rescale(&t.in, &t.out, &p->multiplier, &p->shift);
    p->activation.min = t.out.zero_point;
    p->activation.max = 127;
    return MCU_RT_OK;
}

static mcu_rt_status relu_eval(mcu_interpreter *rt, mcu_node *node)
{
    const relu_data *d = (const relu_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_quantize_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                            (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status relu6_eval(mcu_interpreter *rt, mcu_node *node)
{
    const relu_data *d = (const relu_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_clamp_s8(0, &d->params.activation, &d->dims,
                         (const int8_t *)MCU_RT_IN(rt, node, 0), (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_relu = {
    TFL_OP_RELU, 0, sizeof(relu_data), relu_prepare, relu_eval};
const mcu_op_registration mcu_op_relu6 = {
    TFL_OP_RELU6, 0, sizeof(relu_data), relu_prepare, relu6_eval};
