/*
 * SUB: int8 - int8 with broadcasting (rank <= 4). ADD's arithmetic (left shift 20, both inputs
 * rescaled to twice the larger input scale), but TFLM's SUB divides the scales in float32.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_add_params params;
    mcu_dims dims1, dims2, out_dims;
} sub_data;

static mcu_rt_status sub_prepare(mcu_interpreter *rt, mcu_node *node)
{
    sub_data *d = (sub_data *)node->user_data;
    mcu_binary t;
    const mcu_rt_status st = mcu_rt_binary(rt, node, &t, &d->dims1, &d->dims2, &d->out_dims);
    if (st != MCU_RT_OK)
        return st;
    mcu_rt_add_quant(&t, 20, MCU_REAL_FLOAT, &d->params);
    return mcu_rt_activation(mcu_rt_option_u8(rt, node, TFL_SUB_ACTIVATION, TFL_ACT_NONE), &t.out,
                             &d->params.activation);
}

static mcu_rt_status sub_eval(mcu_interpreter *rt, mcu_node *node)
{
    const sub_data *d = (const sub_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_sub_s8(0, &d->params, &d->dims1, (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                       (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                       (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_sub = {TFL_OP_SUB, 0, sizeof(sub_data), sub_prepare, sub_eval};
