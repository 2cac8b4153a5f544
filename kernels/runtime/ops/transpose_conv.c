/*
 * TRANSPOSE_CONV: inputs 0 output shape (int32, read from the output tensor instead, as TFLM
 * does), 1 weights [O, KH, KW, C] (per-channel or per-tensor, zero point 0), 2 int8 NHWC
 * input, 3 optional int32 bias [O] -> int8 [N, OH, OW, O]. The padding is TFLM's: the conv
 * padding with the output as the image.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_transpose_conv_params params;
    mcu_quant_params quant;
    mcu_dims in_dims, filter_dims, out_dims;
    const int32_t *bias;
} tconv_data;

static mcu_rt_status tconv_prepare(mcu_interpreter *rt, mcu_node *node)
{
    tconv_data *d = (tconv_data *)node->user_data;
    mcu_mac_tensors t; /* input 2, weights 1 */
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 2, &t.in)) ||
        (st = mcu_rt_check_weights(rt, node, 1, &t.filter)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &t.out)))
        return st;
    if (t.in.rank != 4 || t.filter.rank != 4 || t.out.rank != 4 || t.filter.zero_point != 0)
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_rt_dims4(&t.in, &d->in_dims);
    mcu_rt_dims4(&t.filter, &d->filter_dims);
    mcu_rt_dims4(&t.out, &d->out_dims);
    const mcu_dims *i = &d->in_dims, *f = &d->filter_dims, *o = &d->out_dims;
    if (o->n != i->n || o->c != f->n || f->c != i->c)
        return MCU_RT_CORRUPT_MODEL;
    const int32_t padding = mcu_rt_option_u8(rt, node, TFL_TCONV_PADDING, TFL_PADDING_SAME);
    mcu_transpose_conv_params *p = &d->params;
    p->stride.w = mcu_rt_option_i32(rt, node, TFL_TCONV_STRIDE_W, 0);
    p->stride.h = mcu_rt_option_i32(rt, node, TFL_TCONV_STRIDE_H, 0);
    const int32_t ch = mcu_rt_out_size(padding, o->h, f->h, p->stride.h, 1);
    const int32_t cw = mcu_rt_out_size(padding, o->w, f->w, p->stride.w, 1);
    if (ch < 0 || cw < 0)
        return MCU_RT_CORRUPT_MODEL;
    p->padding.h = mcu_rt_padding(o->h, f->h, p->stride.h, 1, ch);
    p->padding.w = mcu_rt_padding(o->w, f->w, p->stride.w, 1, cw);
    p->input_offset = -t.in.zero_point;
    p->output_offset = t.out.zero_point;
    const int32_t act = mcu_rt_option_u8(rt, node, TFL_TCONV_ACTIVATION, TFL_ACT_NONE);
    if ((st = mcu_rt_activation(act, &t.out, &p->activation)) ||
        (st = mcu_rt_mac_multipliers(rt, &t, f->n, 0, &d->quant)) ||
        (st = mcu_rt_bias(rt, node, 3, f->n, &d->bias)))
        return st;
    node->scratch_bytes = mcu_transpose_conv_s8_get_buffer_size(p, i, f, o);
    return MCU_RT_OK;
}

static mcu_rt_status tconv_eval(mcu_interpreter *rt, mcu_node *node)
{
    const tconv_data *d = (const tconv_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    return mcu_rt_kernel_status(
        rt, mcu_transpose_conv_s8(&ctx, &d->params, &d->quant, &d->in_dims,
                                  (const int8_t *)MCU_RT_IN(rt, node, 2), &d->filter_dims,
                                  (const int8_t *)MCU_RT_IN(rt, node, 1), d->bias, &d->out_dims,
                                  (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_transpose_conv = {
    TFL_OP_TRANSPOSE_CONV, 0, sizeof(tconv_data), tconv_prepare, tconv_eval};
