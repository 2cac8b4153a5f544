/*
 * MAXIMUM, MINIMUM: the larger / smaller raw int8 value, with broadcasting (rank <= 4); TFLM
 * reads no quantization.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_dims dims1, dims2, out_dims;
} extremum_data;

static mcu_rt_status extremum_prepare(mcu_interpreter *rt, mcu_node *node)
{
    extremum_data *d = (extremum_data *)node->user_data;
    mcu_binary t;
    return mcu_rt_binary(rt, node, &t, &d->dims1, &d->dims2, &d->out_dims);
}

static mcu_rt_status maximum_eval(mcu_interpreter *rt, mcu_node *node)
{
    const extremum_data *d = (const extremum_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_maximum_s8(0, &d->dims1, (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                           (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                           (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status minimum_eval(mcu_interpreter *rt, mcu_node *node)
{
    const extremum_data *d = (const extremum_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_minimum_s8(0, &d->dims1, (const int8_t *)MCU_RT_IN(rt, node, 0), &d->dims2,
                           (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                           (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_maximum = {TFL_OP_MAXIMUM, 0, sizeof(extremum_data),
                                            extremum_prepare, maximum_eval};
const mcu_op_registration mcu_op_minimum = {TFL_OP_MINIMUM, 0, sizeof(extremum_data),
                                            extremum_prepare, minimum_eval};
