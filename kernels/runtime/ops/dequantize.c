/*
 * DEQUANTIZE: int8 (or int16, 16x8 mode) -> float32, scale * (x - zero point) in single
 * precision.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dequantize_params params;
    mcu_dims dims;
    int32_t int16;
} dequantize_data;

static mcu_rt_status dequantize_prepare(mcu_interpreter *rt, mcu_node *node)
{
    dequantize_data *d = (dequantize_data *)node->user_data;
    mcu_unary t;
    mcu_rt_status st = mcu_rt_unary(rt, node, MCU_RT_ANY_TYPE, TFL_FLOAT32, &t, &d->dims);
    if (st == MCU_RT_OK)
        st = mcu_rt_check_activation(rt, node, 0, &t.in);
    if (st != MCU_RT_OK)
        return st;
    d->int16 = t.in.type == TFL_INT16;
    d->params.zero_point = t.in.zero_point;
    __builtin_memcpy(&d->params.scale, &t.in.scales[0], sizeof(float));
    return MCU_RT_OK;
}

static mcu_rt_status dequantize_eval(mcu_interpreter *rt, mcu_node *node)
{
    const dequantize_data *d = (const dequantize_data *)node->user_data;
    if (d->int16)
        return mcu_rt_kernel_status(
            rt, mcu_dequantize_s16(0, &d->params, &d->dims, (const int16_t *)MCU_RT_IN(rt, node, 0),
                                   (float *)(void *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_dequantize_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                              (float *)(void *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_dequantize = {
    TFL_OP_DEQUANTIZE, 0, sizeof(dequantize_data), dequantize_prepare, dequantize_eval};
