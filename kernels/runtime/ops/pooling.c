/*
 * MAX_POOL_2D and AVERAGE_POOL_2D: int8 NHWC [N, H, W, C] -> [N, OH, OW, C].
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_pool_params params;
    mcu_dims in_dims, out_dims;
} pool_data;

static mcu_rt_status pool_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(pool_data));
}

static mcu_rt_status pool_prepare(mcu_interpreter *rt, mcu_node *node)
{
    pool_data *d = (pool_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (in.rank != 4 || out.rank != 4)
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_rt_dims4(&in, &d->in_dims);
    mcu_rt_dims4(&out, &d->out_dims);
    const mcu_dims *i = &d->in_dims, *o = &d->out_dims;
    mcu_pool_params *p = &d->params;
    const int32_t padding = mcu_rt_option_u8(rt, node, TFL_POOL_PADDING, TFL_PADDING_SAME);
    p->stride.w = mcu_rt_option_i32(rt, node, TFL_POOL_STRIDE_W, 0);
    p->stride.h = mcu_rt_option_i32(rt, node, TFL_POOL_STRIDE_H, 0);
    p->filter.w = mcu_rt_option_i32(rt, node, TFL_POOL_FILTER_W, 0);
    p->filter.h = mcu_rt_option_i32(rt, node, TFL_POOL_FILTER_H, 0);
    const int32_t oh = mcu_rt_out_size(padding, i->h, p->filter.h, p->stride.h, 1);
    const int32_t ow = mcu_rt_out_size(padding, i->w, p->filter.w, p->stride.w, 1);
    if (oh != o->h || ow != o->w || o->n != i->n || o->c != i->c)
        return MCU_RT_CORRUPT_MODEL;
    p->padding.h = mcu_rt_padding(i->h, p->filter.h, p->stride.h, 1, oh);
    p->padding.w = mcu_rt_padding(i->w, p->filter.w, p->stride.w, 1, ow);
    if ((st = mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_POOL_ACTIVATION, TFL_ACT_NONE), &out,
                                &p->activation)))
        return st;
    if (node->reg->builtin_code == TFL_OP_AVERAGE_POOL_2D)
        node->scratch_bytes = mcu_avg_pool_s8_get_buffer_size(i);
    return MCU_RT_OK;
}

static mcu_rt_status max_pool_eval(mcu_interpreter *rt, mcu_node *node)
{
    const pool_data *d = (const pool_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_max_pool_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                            &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status avg_pool_eval(mcu_interpreter *rt, mcu_node *node)
{
    const pool_data *d = (const pool_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    return mcu_rt_kernel_status(
        rt, mcu_avg_pool_s8(&ctx, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                            &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_max_pool_2d = {
    TFL_OP_MAX_POOL_2D, 0, pool_init, pool_prepare, max_pool_eval};
const mcu_op_registration mcu_op_average_pool_2d = {
    TFL_OP_AVERAGE_POOL_2D, 0, pool_init, pool_prepare, avg_pool_eval};
