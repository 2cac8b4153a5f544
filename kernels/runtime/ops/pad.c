/*
 * PAD (and PADV2's constant): int8 tensor of rank <= 4, int32 paddings [rank, 2]; the
 * border holds the output zero point (or PADV2's constant).
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_pad_params params;
    mcu_dims in_dims, out_dims;
} pad_data;

static mcu_rt_status pad_prepare(mcu_interpreter *rt, mcu_node *node)
{
    pad_data *d = (pad_data *)node->user_data;
    mcu_tensor_info in, pads, out, value;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_input_info(rt, node, 1, &pads)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) ||
        (st = mcu_rt_dims4(&in, &d->in_dims)) || (st = mcu_rt_dims4(&out, &d->out_dims)))
        return st;
    if (pads.type != TFL_INT32 || !pads.data)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[2]);
    if (pads.count != 2 * in.rank || out.rank != in.rank)
        return MCU_RT_CORRUPT_MODEL;
    const int32_t *p = (const int32_t *)(const void *)pads.data;
    int32_t *before = &d->params.before.n, *after = &d->params.after.n;
    const int32_t *i = &d->in_dims.n, *o = &d->out_dims.n;
    for (int32_t a = 0; a < 4; ++a) {
        const int32_t k = a - (4 - in.rank);
        before[a] = k < 0 ? 0 : p[2 * k];
        after[a] = k < 0 ? 0 : p[2 * k + 1];
        if (before[a] < 0 || after[a] < 0 || i[a] + before[a] + after[a] != o[a])
            return MCU_RT_CORRUPT_MODEL;
    }
    d->params.pad_value = out.zero_point;
    if (mcu_rt_in_index(node, 2) >= 0) { /* PADV2's constant value */
        if ((st = mcu_rt_input_info(rt, node, 2, &value)))
            return st;
        if (value.type != TFL_INT8 || !value.data || value.count < 1)
            return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[3]);
        d->params.pad_value = (int8_t)value.data[0];
    }
    return MCU_RT_OK;
}

static mcu_rt_status pad_eval(mcu_interpreter *rt, mcu_node *node)
{
    const pad_data *d = (const pad_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_pad_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                       &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_pad = {TFL_OP_PAD, 0, sizeof(pad_data), pad_prepare, pad_eval};
