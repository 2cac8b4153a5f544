/*
 * ADD: int8 + int8 with broadcasting (rank <= 4). Both inputs are rescaled to twice the
 * larger input scale with 20 bits of headroom, summed, and rescaled to the output (TFLM).
 * 16x8 mode: int16 + int16 the same way with 15 bits of headroom (mcu_add_s16).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_add_params params;
    mcu_dims dims1, dims2, out_dims;
    int32_t is_s16;
} add_data;

static mcu_rt_status add_prepare(mcu_interpreter *rt, mcu_node *node)
{
    add_data *d = (add_data *)node->user_data;
    mcu_binary t;
    const mcu_rt_status st = mcu_rt_binary16(rt, node, &t, &d->dims1, &d->dims2, &d->out_dims);
    if (st != MCU_RT_OK)
        return st;
    d->is_s16 = t.out.type == TFL_INT16;
    mcu_rt_add_quant(&t, d->is_s16 ? 15 : 20, MCU_REAL_DOUBLE, &d->params);
    return mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_ADD_ACTIVATION, TFL_ACT_NONE), &t.out,
                             &d->params.activation);
}

static mcu_rt_status add_eval(mcu_interpreter *rt, mcu_node *node)
{
    const add_data *d = (const add_data *)node->user_data;
    if (d->is_s16)
        return mcu_rt_kernel_status(
            rt, mcu_add_s16(0, &d->params, &d->dims1, (const int16_t *)MCU_RT_IN(rt, node, 0),
                            &d->dims2, (const int16_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                            (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_add_s8(0, &d->params, &d->dims1, (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                       (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                       (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_add = {
    TFL_OP_ADD, 0, sizeof(add_data), add_prepare, add_eval};
