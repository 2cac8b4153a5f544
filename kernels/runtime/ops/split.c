/*
 * SPLIT (inputs: axis, data) and SPLIT_V (inputs: data, size_splits, axis) of an int8 tensor
 * of rank <= 4 along a constant axis into the node's outputs. The output tensors' shapes give
 * each part's extent (as TFLM reads them), so SPLIT_V's size_splits is not read.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_split_params params;
    int32_t data;          /* input position of the data */
    mcu_dims in_dims;
    mcu_dims *out_dims;    /* num_outputs */
    int8_t **outputs;      /* num_outputs, filled at eval */
} split_data;

static mcu_rt_status split_prepare(mcu_interpreter *rt, mcu_node *node, int32_t data, int32_t axis_at)
{
    mcu_tensor_info in, out;
    int32_t axis[4], n_axis;
    mcu_rt_status st;
    const int32_t n = node->outputs[0];
    split_data *d = (split_data *)mcu_rt_alloc_persistent(
        rt, sizeof(split_data) + (uint32_t)n * (sizeof(mcu_dims) + sizeof(int8_t *)));
    if (!d)
        return MCU_RT_ARENA_TOO_SMALL;
    node->user_data = d;
    d->out_dims = (mcu_dims *)(d + 1);
    d->outputs = (int8_t **)(d->out_dims + n);
    d->data = data;
    if ((st = mcu_rt_check_int8(rt, node, data, &in)) || (st = mcu_rt_dims4(&in, &d->in_dims)) ||
        (st = mcu_rt_const_ints(rt, node, axis_at, axis, &n_axis)))
        return st;
    const int32_t a = n_axis == 1 && axis[0] < 0 ? axis[0] + in.rank : axis[0];
    if (n_axis != 1 || a < 0 || a >= in.rank)
        return MCU_RT_CORRUPT_MODEL;
    const int32_t at = a + 4 - in.rank;
    int32_t total = 0;
    for (int32_t k = 0; k < n; ++k) {
        if ((st = mcu_rt_tensor(rt, node->outputs[1 + k], &out)))
            return st;
        if (out.type != TFL_INT8 || out.rank != in.rank)
            return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1 + k]);
        mcu_rt_dims4(&out, &d->out_dims[k]);
        const int32_t *f = &d->out_dims[k].n, *i = &d->in_dims.n;
        for (int32_t x = 0; x < 4; ++x)
            if (x != at && f[x] != i[x])
                return MCU_RT_CORRUPT_MODEL;
        total += f[at];
    }
    if (total != (&d->in_dims.n)[at])
        return MCU_RT_CORRUPT_MODEL;
    d->params.axis = at;
    d->params.num_outputs = n;
    return MCU_RT_OK;
}

static mcu_rt_status split_prepare_split(mcu_interpreter *rt, mcu_node *node)
{
    return split_prepare(rt, node, 1, 0);
}

static mcu_rt_status split_prepare_split_v(mcu_interpreter *rt, mcu_node *node)
{
    return split_prepare(rt, node, 0, 2);
}

static mcu_rt_status split_eval(mcu_interpreter *rt, mcu_node *node)
{
    split_data *d = (split_data *)node->user_data;
    for (int32_t k = 0; k < d->params.num_outputs; ++k)
        d->outputs[k] = (int8_t *)rt->data[node->outputs[1 + k]];
    return mcu_rt_kernel_status(
        rt, mcu_split_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, d->data),
                         d->out_dims, d->outputs));
}

const mcu_op_registration mcu_op_split = {TFL_OP_SPLIT, 0, 0, split_prepare_split, split_eval};
const mcu_op_registration mcu_op_split_v = {TFL_OP_SPLIT_V, 0, 0, split_prepare_split_v, split_eval};
