/*
 * DEPTHWISE_CONV_2D: int8 NHWC input [N, H, W, C], weights [1, KH, KW, C*M], optional int32
 * bias [C*M] -> int8 [N, OH, OW, C*M].
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dw_conv_params params;
    mcu_quant_params quant;
    mcu_dims in_dims, filter_dims, out_dims;
    const int32_t *bias;
} dw_data;

static mcu_rt_status dw_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(dw_data));
}

static mcu_rt_status dw_prepare(mcu_interpreter *rt, mcu_node *node)
{
    dw_data *d = (dw_data *)node->user_data;
    mcu_tensor_info in, w, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_check_weights(rt, node, 1, &w)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (in.rank != 4 || w.rank != 4 || out.rank != 4)
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_rt_dims4(&in, &d->in_dims);
    mcu_rt_dims4(&w, &d->filter_dims);
    mcu_rt_dims4(&out, &d->out_dims);
    const mcu_dims *i = &d->in_dims, *f = &d->filter_dims, *o = &d->out_dims;
    const int32_t padding = mcu_rt_option_u8(rt, node, TFL_DW_PADDING, TFL_PADDING_SAME);
    mcu_dw_conv_params *p = &d->params;
    p->stride.w = mcu_rt_option_i32(rt, node, TFL_DW_STRIDE_W, 0);
    p->stride.h = mcu_rt_option_i32(rt, node, TFL_DW_STRIDE_H, 0);
    p->dilation.w = mcu_rt_option_i32(rt, node, TFL_DW_DILATION_W, 1);
    p->dilation.h = mcu_rt_option_i32(rt, node, TFL_DW_DILATION_H, 1);
    p->ch_mult = mcu_rt_option_i32(rt, node, TFL_DW_MULTIPLIER, 0);
    if (p->ch_mult == 0)
        p->ch_mult = 1;
    const int32_t oh = mcu_rt_out_size(padding, i->h, f->h, p->stride.h, p->dilation.h);
    const int32_t ow = mcu_rt_out_size(padding, i->w, f->w, p->stride.w, p->dilation.w);
    if (oh != o->h || ow != o->w || o->n != i->n || f->n != 1 || p->ch_mult < 1 ||
        f->c != o->c || o->c != i->c * p->ch_mult)
        return MCU_RT_CORRUPT_MODEL;
    p->padding.h = mcu_rt_padding(i->h, f->h, p->stride.h, p->dilation.h, oh);
    p->padding.w = mcu_rt_padding(i->w, f->w, p->stride.w, p->dilation.w, ow);
    p->input_offset = -in.zero_point;
    p->output_offset = out.zero_point;
    if ((st = mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_DW_ACTIVATION, TFL_ACT_NONE), &out,
                                &p->activation)) ||
        (st = mcu_rt_conv_quant(rt, &in, &w, &out, o->c, 0, &d->quant)) ||
        (st = mcu_rt_bias(rt, node, 2, o->c, &d->bias)))
        return st;
    node->scratch_bytes = mcu_depthwise_conv_s8_get_buffer_size(i, f);
    return MCU_RT_OK;
}

static mcu_rt_status dw_eval(mcu_interpreter *rt, mcu_node *node)
{
    const dw_data *d = (const dw_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    return mcu_rt_kernel_status(
        rt, mcu_depthwise_conv_s8(&ctx, &d->params, &d->quant, &d->in_dims,
                                  (const int8_t *)MCU_RT_IN(rt, node, 0), &d->filter_dims,
                                  (const int8_t *)MCU_RT_IN(rt, node, 1), d->bias, &d->out_dims,
                                  (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_depthwise_conv_2d = {
    TFL_OP_DEPTHWISE_CONV_2D, 0, dw_init, dw_prepare, dw_eval};
