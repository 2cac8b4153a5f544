/*
 * DEQUANTIZE: int8 -> float32, scale * (x - zero point) in single precision.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dequantize_params params;
    mcu_dims dims;
} dequantize_data;

static mcu_rt_status dequantize_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(dequantize_data));
}

static mcu_rt_status dequantize_prepare(mcu_interpreter *rt, mcu_node *node)
{
    dequantize_data *d = (dequantize_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_output_info(rt, node, &out)))
        return st;
    if (out.type != TFL_FLOAT32)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    if (out.count != in.count)
        return MCU_RT_CORRUPT_MODEL;
    const mcu_dims dims = {1, 1, 1, in.count};
    d->dims = dims;
    d->params.zero_point = in.zero_point;
    __builtin_memcpy(&d->params.scale, &in.scales[0], sizeof(float));
    return MCU_RT_OK;
}

static mcu_rt_status dequantize_eval(mcu_interpreter *rt, mcu_node *node)
{
    const dequantize_data *d = (const dequantize_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_dequantize_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                              (float *)(void *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_dequantize = {
    TFL_OP_DEQUANTIZE, 0, dequantize_init, dequantize_prepare, dequantize_eval};
