/*
 * SHAPE: the input's dimensions as an int32 vector (what Keras' Flatten emits with a
 * dynamic batch). The shape is static, but the output is a planned tensor, so eval writes it.
 */
#include "mcu_rt_op.h"

typedef struct {
    const int32_t *dims; /* in the flatbuffer */
    int32_t rank;
} shape_data;

static mcu_rt_status shape_prepare(mcu_interpreter *rt, mcu_node *node)
{
    shape_data *d = (shape_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_input_info(rt, node, 0, &in)) || (st = mcu_rt_output_info(rt, node, &out)))
        return st;
    if (out.type != TFL_INT32)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    if (out.count != in.rank)
        return MCU_RT_CORRUPT_MODEL;
    d->dims = in.dims;
    d->rank = in.rank;
    return MCU_RT_OK;
}

static mcu_rt_status shape_eval(mcu_interpreter *rt, mcu_node *node)
{
    const shape_data *d = (const shape_data *)node->user_data;
    int32_t *out = (int32_t *)(void *)MCU_RT_OUT(rt, node);
    for (int32_t i = 0; i < d->rank; ++i)
        out[i] = d->dims[i];
    return MCU_RT_OK;
}

const mcu_op_registration mcu_op_shape = {
    TFL_OP_SHAPE, 0, sizeof(shape_data), shape_prepare, shape_eval};
