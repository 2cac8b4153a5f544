/*
 * MAX_POOL_2D and AVERAGE_POOL_2D: int8 NHWC [N, H, W, C] -> [N, OH, OW, C]; int16 in 16x8
 * mode (mcu_max_pool_s16, mcu_avg_pool_s16).
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_pool_params params;
    mcu_dims dims[2]; /* input, output */
    int32_t int16;
} pool_data;

static const mcu_window_slots pool_slots = {
    TFL_POOL_PADDING, TFL_POOL_STRIDE_W, TFL_POOL_STRIDE_H, MCU_RT_NO_OPTION, MCU_RT_NO_OPTION,
    TFL_POOL_FILTER_W, TFL_POOL_FILTER_H};

static mcu_rt_status pool_prepare(mcu_interpreter *rt, mcu_node *node)
{
    pool_data *d = (pool_data *)node->user_data;
    mcu_pool_params *p = &d->params;
    mcu_mac_tensors t;
    mcu_rt_status st;
    if ((st = mcu_rt_window(rt, node, &pool_slots, &t, d->dims, &p->stride, &p->padding,
                            &p->filter)))
        return st;
    if (d->dims[1].c != d->dims[0].c)
        return MCU_RT_CORRUPT_MODEL;
    d->int16 = t.in.type == TFL_INT16;
    if ((st = mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_POOL_ACTIVATION, TFL_ACT_NONE),
                                &t.out, &p->activation)))
        return st;
    if (node->reg->builtin_code == TFL_OP_AVERAGE_POOL_2D && !d->int16)
        node->scratch_bytes = mcu_avg_pool_s8_get_buffer_size(&d->dims[0]);
    return MCU_RT_OK;
}

static mcu_rt_status max_pool_eval(mcu_interpreter *rt, mcu_node *node)
{
    const pool_data *d = (const pool_data *)node->user_data;
    if (d->int16)
        return mcu_rt_kernel_status(
            rt, mcu_max_pool_s16(0, &d->params, &d->dims[0], (const int16_t *)MCU_RT_IN(rt, node, 0),
                                 &d->dims[1], (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_max_pool_s8(0, &d->params, &d->dims[0], (const int8_t *)MCU_RT_IN(rt, node, 0),
                            &d->dims[1], (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status avg_pool_eval(mcu_interpreter *rt, mcu_node *node)
{
    const pool_data *d = (const pool_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    if (d->int16)
        return mcu_rt_kernel_status(
            rt, mcu_avg_pool_s16(0, &d->params, &d->dims[0], (const int16_t *)MCU_RT_IN(rt, node, 0),
                                 &d->dims[1], (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_avg_pool_s8(&ctx, &d->params, &d->dims[0], (const int8_t *)MCU_RT_IN(rt, node, 0),
                            &d->dims[1], (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_max_pool_2d = {
    TFL_OP_MAX_POOL_2D, 0, sizeof(pool_data), pool_prepare, max_pool_eval};
const mcu_op_registration mcu_op_average_pool_2d = {
    TFL_OP_AVERAGE_POOL_2D, 0, sizeof(pool_data), pool_prepare, avg_pool_eval};
