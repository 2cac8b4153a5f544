/*
 * NEG, float32 (TFLM's only NEG): -x. Keras's LayerNormalization negates its mean so, between
 * a DEQUANTIZE and a QUANTIZE.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dims dims;
} neg_data;

static mcu_rt_status neg_prepare(mcu_interpreter *rt, mcu_node *node)
{
    neg_data *d = (neg_data *)node->user_data;
    mcu_unary t;
    return mcu_rt_unary(rt, node, TFL_FLOAT32, TFL_FLOAT32, &t, &d->dims);
}

static mcu_rt_status neg_eval(mcu_interpreter *rt, mcu_node *node)
{
    const neg_data *d = (const neg_data *)node->user_data;
    return mcu_rt_kernel_status(rt, mcu_neg_f32(0, &d->dims,
                                                (const float *)(const void *)MCU_RT_IN(rt, node, 0),
                                                (float *)(void *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_neg = {TFL_OP_NEG, 0, sizeof(neg_data), neg_prepare, neg_eval};
