/*
 * CONV_2D: int8 NHWC input, weights [O, KH, KW, C/groups] (per-channel or per-tensor),
 * optional int32 bias [O] -> int8 [N, OH, OW, O]. SAME/VALID padding, strides, dilation.
 * 16x8 mode: int16 input and output, int64 bias -> mcu_conv_s16.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_conv_params params;
    mcu_quant_params quant;
    mcu_dims dims[3]; /* input, filter, output */
    const void *bias; /* int32, or int64 in 16x8 mode (params.input_offset == MCU_RT_S16) */
} conv_data;

static const mcu_window_slots conv_slots = {
    TFL_CONV_PADDING, TFL_CONV_STRIDE_W, TFL_CONV_STRIDE_H, TFL_CONV_DILATION_W,
    TFL_CONV_DILATION_H, MCU_RT_NO_OPTION, MCU_RT_NO_OPTION};

static mcu_rt_status conv_prepare(mcu_interpreter *rt, mcu_node *node)
{
    conv_data *d = (conv_data *)node->user_data;
    mcu_conv_params *p = &d->params;
    mcu_mac_tensors t;
    mcu_rt_status st;
    if ((st = mcu_rt_window(rt, node, &conv_slots, &t, d->dims, &p->stride, &p->padding,
                            &p->dilation)))
        return st;
    const mcu_dims *i = &d->dims[0], *f = &d->dims[1], *o = &d->dims[2];
    if (o->c != f->n || f->c < 1 || i->c % f->c || f->n % (i->c / f->c))
        return MCU_RT_CORRUPT_MODEL;
    p->input_offset = -t.in.zero_point;
    p->output_offset = t.out.zero_point;
    if ((st = mcu_rt_mac_quant(rt, node, &t, TFL_CONV_ACTIVATION, f->n, 0, &p->activation,
                               &d->quant, &d->bias)))
        return st;
    if (t.in.type == TFL_INT16)
        p->input_offset = MCU_RT_S16; /* the s16 kernels ignore it: the mode flag, no extra bytes */
    node->scratch_bytes = p->input_offset == MCU_RT_S16 ? mcu_conv_s16_get_buffer_size(i, f)
                                                        : mcu_conv_s8_get_buffer_size(i, f);
    return MCU_RT_OK;
}

static mcu_rt_status conv_eval(mcu_interpreter *rt, mcu_node *node)
{
    const conv_data *d = (const conv_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    if (d->params.input_offset == MCU_RT_S16)
        return mcu_rt_kernel_status(
            rt, mcu_conv_s16(&ctx, &d->params, &d->quant, &d->dims[0],
                             (const int16_t *)MCU_RT_IN(rt, node, 0), &d->dims[1],
                             (const int8_t *)MCU_RT_IN(rt, node, 1), (const int64_t *)d->bias,
                             &d->dims[2], (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_conv_s8(&ctx, &d->params, &d->quant, &d->dims[0],
                        (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims[1],
                        (const int8_t *)MCU_RT_IN(rt, node, 1), (const int32_t *)d->bias, &d->dims[2],
                        (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_conv_2d = {
    TFL_OP_CONV_2D, 0, sizeof(conv_data), conv_prepare, conv_eval};
