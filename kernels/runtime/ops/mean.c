/*
 * MEAN over a contiguous run of axes (global average pooling: H and W of NHWC, or the time
 * axis of [N, T, C]): the input is viewed as [outer, reduced, 1, inner] for mcu_mean_s8
 * (mcu_mean_s16 on int16 in 16x8 mode).
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_mean_params params;
    mcu_dims in_dims, out_dims;
    int32_t int16;
} mean_data;

static mcu_rt_status mean_prepare(mcu_interpreter *rt, mcu_node *node)
{
    mean_data *d = (mean_data *)node->user_data;
    mcu_tensor_info in, axis, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_activation(rt, node, 0, &in)) ||
        (st = mcu_rt_input_info(rt, node, 1, &axis)) ||
        (st = mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (in.type != out.type)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    d->int16 = in.type == TFL_INT16;
    if (axis.type != TFL_INT32 || !axis.data)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[2]);
    uint32_t reduced = 0;
    const int32_t *axes = (const int32_t *)(const void *)axis.data;
    for (int32_t k = 0; k < axis.count; ++k) {
        const int32_t a = axes[k] < 0 ? axes[k] + in.rank : axes[k];
        if (a < 0 || a >= in.rank)
            return MCU_RT_CORRUPT_MODEL;
        reduced |= 1u << a;
    }
    int32_t outer = 1, mid = 1, inner = 1, seen = 0, gap = 0;
    for (int32_t a = 0; a < in.rank; ++a) {
        if (reduced & (1u << a)) {
            if (gap)
                return MCU_RT_UNSUPPORTED_PARAMS; /* axes not contiguous */
            seen = 1;
            mid *= in.dims[a];
        } else if (seen) {
            gap = 1;
            inner *= in.dims[a];
        } else {
            outer *= in.dims[a];
        }
    }
    if (!seen) { /* no axis: a plain requantization through the same kernel */
        inner *= outer;
        outer = 1;
    }
    if (out.count != outer * inner)
        return MCU_RT_CORRUPT_MODEL;
    if (d->int16 && mid > (1 << 16))
        return MCU_RT_UNSUPPORTED_PARAMS; /* mcu_mean_s16's int32 sums */
    const mcu_dims in_dims = {outer, mid, 1, inner}, out_dims = {outer, 1, 1, inner};
    d->in_dims = in_dims;
    d->out_dims = out_dims;
    d->params.input_zero_point = in.zero_point;
    d->params.output_zero_point = out.zero_point;
    mcu_rt_rescale(&in, &out, &d->params.multiplier, &d->params.shift);
    node->scratch_bytes = d->int16 ? 0 : mcu_mean_s8_get_buffer_size(&d->in_dims);
    return MCU_RT_OK;
}

static mcu_rt_status mean_eval(mcu_interpreter *rt, mcu_node *node)
{
    const mean_data *d = (const mean_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    if (d->int16)
        return mcu_rt_kernel_status(
            rt, mcu_mean_s16(0, &d->params, &d->in_dims, (const int16_t *)MCU_RT_IN(rt, node, 0),
                             &d->out_dims, (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_mean_s8(&ctx, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                        &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_mean = {
    TFL_OP_MEAN, 0, sizeof(mean_data), mean_prepare, mean_eval};
