/*
 * RELU (requantized to the output scale, TFLM ReluQuantized) and RELU6 (TFLM's int8 RELU6
 * only clamps, on the input's scale: [zero_point, zero_point + round(6 / scale)]).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_requantize_params params; /* RELU6 uses only params.activation */
    mcu_dims dims;
} relu_data;

static mcu_rt_status relu_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(relu_data));
}

static mcu_rt_status relu_prepare(mcu_interpreter *rt, mcu_node *node)
{
    relu_data *d = (relu_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (out.count != in.count)
        return MCU_RT_CORRUPT_MODEL;
    const mcu_dims dims = {1, 1, 1, in.count};
    d->dims = dims;
    mcu_requantize_params *p = &d->params;
    if (node->reg->builtin_code == TFL_OP_RELU6) {
        /* RELU6's range is that of a fused RELU6 on the input tensor */
        return mcu_rt_activation(TFL_ACT_RELU6, &in, &p->activation);
    }
    p->input_zero_point = in.zero_point;
    p->output_zero_point = out.zero_point;
    mcu_quantize_multiplier(mcu_real_div(mcu_real_from_f32(in.scales[0]),
                                         mcu_real_from_f32(out.scales[0]), MCU_REAL_DOUBLE),
                            &p->multiplier, &p->shift);
    p->activation.min = out.zero_point;
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

const mcu_op_registration mcu_op_relu = {TFL_OP_RELU, 0, relu_init, relu_prepare, relu_eval};
const mcu_op_registration mcu_op_relu6 = {TFL_OP_RELU6, 0, relu_init, relu_prepare, relu6_eval};
