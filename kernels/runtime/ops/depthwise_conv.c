/*
 * DEPTHWISE_CONV_2D: int8 NHWC input [N, H, W, C], weights [1, KH, KW, C*M], optional int32
 * bias [C*M] -> int8 [N, OH, OW, C*M].
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dw_conv_params params;
    mcu_quant_params quant;
    mcu_dims dims[3]; /* input, filter, output */
    const void *bias; /* int32, or int64 in 16x8 mode (params.input_offset == MCU_RT_S16) */
} dw_data;

static const mcu_window_slots dw_slots = {
    TFL_DW_PADDING, TFL_DW_STRIDE_W, TFL_DW_STRIDE_H, TFL_DW_DILATION_W, TFL_DW_DILATION_H,
    MCU_RT_NO_OPTION, MCU_RT_NO_OPTION};

static mcu_rt_status dw_prepare(mcu_interpreter *rt, mcu_node *node)
{
    dw_data *d = (dw_data *)node->user_data;
    mcu_dw_conv_params *p = &d->params;
    mcu_mac_tensors t;
    mcu_rt_status st;
    if ((st = mcu_rt_window(rt, node, &dw_slots, &t, d->dims, &p->stride, &p->padding,
                            &p->dilation)))
        return st;
    const mcu_dims *i = &d->dims[0], *f = &d->dims[1], *o = &d->dims[2];
    p->ch_mult = mcu_rt_option_i32(rt, node, TFL_DW_MULTIPLIER, 0);
    if (p->ch_mult == 0)
        p->ch_mult = 1;
    if (f->n != 1 || p->ch_mult < 1 || f->c != o->c || o->c != i->c * p->ch_mult)
        return MCU_RT_CORRUPT_MODEL;
    p->input_offset = -t.in.zero_point;
    p->output_offset = t.out.zero_point;
    if ((st = mcu_rt_mac_quant(rt, node, &t, TFL_DW_ACTIVATION, o->c, 0, &p->activation,
                               &d->quant, &d->bias)))
        return st;
    if (t.in.type == TFL_INT16)
        p->input_offset = MCU_RT_S16; /* the s16 kernels ignore it: the mode flag, no extra bytes */
    node->scratch_bytes = p->input_offset == MCU_RT_S16 ? 0 : mcu_depthwise_conv_s8_get_buffer_size(i, f);
    return MCU_RT_OK;
}

static mcu_rt_status dw_eval(mcu_interpreter *rt, mcu_node *node)
{
    const dw_data *d = (const dw_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    if (d->params.input_offset == MCU_RT_S16)
        return mcu_rt_kernel_status(
            rt, mcu_depthwise_conv_s16(&ctx, &d->params, &d->quant, &d->dims[0],
                                       (const int16_t *)MCU_RT_IN(rt, node, 0), &d->dims[1],
                                       (const int8_t *)MCU_RT_IN(rt, node, 1),
                                       (const int64_t *)d->bias, &d->dims[2],
                                       (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_depthwise_conv_s8(&ctx, &d->params, &d->quant, &d->dims[0],
                                  (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims[1],
                                  (const int8_t *)MCU_RT_IN(rt, node, 1), (const int32_t *)d->bias, &d->dims[2],
                                  (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_depthwise_conv_2d = {
    TFL_OP_DEPTHWISE_CONV_2D, 0, sizeof(dw_data), dw_prepare, dw_eval};
