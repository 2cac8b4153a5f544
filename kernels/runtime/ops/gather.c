/*
 * GATHER of an int8 tensor (any rank) by int32 indices, constant or computed (TFLM takes int32
 * positions only), with the axis and batch_dims options; the loop bounds are resolved at
 * prepare, the indices read (and range-checked by the kernel) at eval.
 */
#include "mcu_rt_op.h"

static int32_t product(const int32_t *dims, int32_t from, int32_t to)
{
    int32_t p = 1;
    for (int32_t i = from; i < to; ++i)
        p *= dims[i];
    return p;
}

static mcu_rt_status gather_prepare(mcu_interpreter *rt, mcu_node *node)
{
    mcu_gather_params *p = (mcu_gather_params *)node->user_data;
    mcu_tensor_info in, idx, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_input_info(rt, node, 1, &idx)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (idx.type != TFL_INT32)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[2]);
    int32_t axis = mcu_rt_option_i32(rt, node, TFL_GATHER_AXIS, 0);
    int32_t batch_dims = mcu_rt_option_i32(rt, node, TFL_GATHER_BATCH_DIMS, 0);
    if (axis < 0)
        axis += in.rank;
    if (batch_dims < 0)
        batch_dims += idx.rank;
    if (axis < 0 || axis >= in.rank || batch_dims < 0 || batch_dims > axis || batch_dims > idx.rank)
        return MCU_RT_CORRUPT_MODEL;
    for (int32_t i = 0; i < batch_dims; ++i)
        if (in.dims[i] != idx.dims[i])
            return MCU_RT_CORRUPT_MODEL;
    p->batches = product(in.dims, 0, batch_dims);
    p->outer = product(in.dims, batch_dims, axis);
    p->axis_size = in.dims[axis];
    p->inner = product(in.dims, axis + 1, in.rank);
    p->num_indices = product(idx.dims, batch_dims, idx.rank);
    if (out.count != p->batches * p->outer * p->num_indices * p->inner)
        return MCU_RT_CORRUPT_MODEL;
    return MCU_RT_OK;
}

static mcu_rt_status gather_eval(mcu_interpreter *rt, mcu_node *node)
{
    return mcu_rt_kernel_status(
        rt, mcu_gather_s8(0, (const mcu_gather_params *)node->user_data,
                          (const int8_t *)MCU_RT_IN(rt, node, 0),
                          (const int32_t *)(const void *)MCU_RT_IN(rt, node, 1),
                          (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_gather = {TFL_OP_GATHER, 0, sizeof(mcu_gather_params), gather_prepare,
                                           gather_eval};
