/*
 * NEG, float32 (TFLM's only NEG): -x. Keras's LayerNormalization negates its mean so, between
 * a DEQUANTIZE and a QUANTIZE.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dims dims;
} neg_data;

static mcu_rt_status neg_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(neg_data));
}

static mcu_rt_status neg_prepare(mcu_interpreter *rt, mcu_node *node)
{
    neg_data *d = (neg_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_input_info(rt, node, 0, &in)) || (st = mcu_rt_output_info(rt, node, &out)))
        return st;
    if (in.type != TFL_FLOAT32)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[1]);
    if (out.type != TFL_FLOAT32)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    if (out.count != in.count)
        return MCU_RT_CORRUPT_MODEL;
    const mcu_dims dims = {1, 1, 1, in.count};
    d->dims = dims;
    return MCU_RT_OK;
}

static mcu_rt_status neg_eval(mcu_interpreter *rt, mcu_node *node)
{
    const neg_data *d = (const neg_data *)node->user_data;
    return mcu_rt_kernel_status(rt, mcu_neg_f32(0, &d->dims,
                                                (const float *)(const void *)MCU_RT_IN(rt, node, 0),
                                                (float *)(void *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_neg = {TFL_OP_NEG, 0, neg_init, neg_prepare, neg_eval};
