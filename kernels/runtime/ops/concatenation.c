/*
 * CONCATENATION of int8 tensors (rank <= 4) along one axis. The converter gives every input
 * the output's quantization, and TFLM copies raw values, so the kernel copies bytes.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_concat_params params;
    mcu_dims out_dims;
    mcu_dims *in_dims;           /* num_inputs */
    const int8_t **inputs;       /* num_inputs, filled at eval */
} concat_data;

static mcu_rt_status concat_prepare(mcu_interpreter *rt, mcu_node *node)
{
    mcu_tensor_info in, out;
    mcu_rt_status st;
    const int32_t n = node->inputs[0];
    concat_data *d = (concat_data *)mcu_rt_alloc_persistent(rt, sizeof(concat_data) + (uint32_t)n * (sizeof(mcu_dims) + sizeof(int8_t *)));
    if (!d)
        return MCU_RT_ARENA_TOO_SMALL;
    node->user_data = d;
    d->in_dims = (mcu_dims *)(d + 1);
    d->inputs = (const int8_t **)(d->in_dims + n);
    if ((st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) || (st = mcu_rt_dims4(&out, &d->out_dims)))
        return st;
    int32_t axis = mcu_rt_option_i32(rt, node, TFL_CONCAT_AXIS, 0);
    if (axis < 0)
        axis += out.rank;
    if (n < 1 || axis < 0 || axis >= out.rank)
        return MCU_RT_CORRUPT_MODEL;
    if (mcu_rt_option_u8(rt, node, TFL_CONCAT_ACTIVATION, TFL_ACT_NONE) != TFL_ACT_NONE)
        return MCU_RT_UNSUPPORTED_PARAMS;
    axis += 4 - out.rank;
    int32_t total = 0;
    for (int32_t k = 0; k < n; ++k) {
        if ((st = mcu_rt_check_int8(rt, node, k, &in)))
            return st;
        if (in.rank != out.rank)
            return MCU_RT_CORRUPT_MODEL;
        mcu_rt_dims4(&in, &d->in_dims[k]);
        const int32_t *f = &d->in_dims[k].n, *o = &d->out_dims.n;
        for (int32_t a = 0; a < 4; ++a)
            if (a != axis && f[a] != o[a])
                return MCU_RT_CORRUPT_MODEL;
        total += f[axis];
    }
    if (total != (&d->out_dims.n)[axis])
        return MCU_RT_CORRUPT_MODEL;
    d->params.axis = axis;
    d->params.num_inputs = n;
    d->params.output_zero_point = out.zero_point;
    d->params.requant = 0;
    return MCU_RT_OK;
}

static mcu_rt_status concat_eval(mcu_interpreter *rt, mcu_node *node)
{
    concat_data *d = (concat_data *)node->user_data;
    for (int32_t k = 0; k < d->params.num_inputs; ++k)
        d->inputs[k] = (const int8_t *)MCU_RT_IN(rt, node, k);
    return mcu_rt_kernel_status(
        rt, mcu_concatenation_s8(0, &d->params, d->in_dims, d->inputs, &d->out_dims,
                                 (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_concatenation = {
    TFL_OP_CONCATENATION, 0, 0, concat_prepare, concat_eval};
