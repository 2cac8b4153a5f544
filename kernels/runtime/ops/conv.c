/*
 * CONV_2D: int8 NHWC input, weights [O, KH, KW, C/groups] (per-channel or per-tensor),
 * optional int32 bias [O] -> int8 [N, OH, OW, O]. SAME/VALID padding, strides, dilation.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_conv_params params;
    mcu_quant_params quant;
    mcu_dims in_dims, filter_dims, out_dims;
    const int32_t *bias;
} conv_data;

static mcu_rt_status conv_init(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_alloc_op_data(rt, node, sizeof(conv_data));
}

static mcu_rt_status conv_prepare(mcu_interpreter *rt, mcu_node *node)
{
    conv_data *d = (conv_data *)node->user_data;
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
    const int32_t padding = mcu_rt_option_u8(rt, node, TFL_CONV_PADDING, TFL_PADDING_SAME);
    mcu_conv_params *p = &d->params;
    p->stride.w = mcu_rt_option_i32(rt, node, TFL_CONV_STRIDE_W, 0);
    p->stride.h = mcu_rt_option_i32(rt, node, TFL_CONV_STRIDE_H, 0);
    p->dilation.w = mcu_rt_option_i32(rt, node, TFL_CONV_DILATION_W, 1);
    p->dilation.h = mcu_rt_option_i32(rt, node, TFL_CONV_DILATION_H, 1);
    const int32_t oh = mcu_rt_out_size(padding, i->h, f->h, p->stride.h, p->dilation.h);
    const int32_t ow = mcu_rt_out_size(padding, i->w, f->w, p->stride.w, p->dilation.w);
    if (oh != o->h || ow != o->w || o->n != i->n || o->c != f->n || f->c < 1 ||
        i->c % f->c || f->n % (i->c / f->c))
        return MCU_RT_CORRUPT_MODEL;
    p->padding.h = mcu_rt_padding(i->h, f->h, p->stride.h, p->dilation.h, oh);
    p->padding.w = mcu_rt_padding(i->w, f->w, p->stride.w, p->dilation.w, ow);
    p->input_offset = -in.zero_point;
    p->output_offset = out.zero_point;
    if ((st = mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_CONV_ACTIVATION, TFL_ACT_NONE), &out,
                                &p->activation)) ||
        (st = mcu_rt_conv_quant(rt, &in, &w, &out, f->n, 0, &d->quant)) ||
        (st = mcu_rt_bias(rt, node, 2, f->n, &d->bias)))
        return st;
    node->scratch_bytes = mcu_conv_s8_get_buffer_size(i, f);
    return MCU_RT_OK;
}

static mcu_rt_status conv_eval(mcu_interpreter *rt, mcu_node *node)
{
    const conv_data *d = (const conv_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    return mcu_rt_kernel_status(
        rt, mcu_conv_s8(&ctx, &d->params, &d->quant, &d->in_dims,
                        (const int8_t *)MCU_RT_IN(rt, node, 0), &d->filter_dims,
                        (const int8_t *)MCU_RT_IN(rt, node, 1), d->bias, &d->out_dims,
                        (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_conv_2d = {TFL_OP_CONV_2D, 0, conv_init, conv_prepare, conv_eval};
