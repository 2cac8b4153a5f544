/*
 * SLICE of an int8 tensor of rank <= 4 with constant begin and size (int32 or int64; size -1:
 * to the end): the box is the output tensor's shape at begin.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_slice_params params;
    mcu_dims in_dims, out_dims;
} slice_data;

static mcu_rt_status slice_prepare(mcu_interpreter *rt, mcu_node *node)
{
    slice_data *d = (slice_data *)node->user_data;
    mcu_tensor_info in, out;
    int32_t begin[4], size[4], nb, ns;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) ||
        (st = mcu_rt_const_ints(rt, node, 1, begin, &nb)) ||
        (st = mcu_rt_const_ints(rt, node, 2, size, &ns)) || (st = mcu_rt_dims4(&in, &d->in_dims)) ||
        (st = mcu_rt_dims4(&out, &d->out_dims)))
        return st;
    if (nb != in.rank || ns != in.rank || out.rank != in.rank)
        return MCU_RT_CORRUPT_MODEL;
    const int32_t lead = 4 - in.rank;
    int32_t *b = &d->params.begin.n;
    const int32_t *i = &d->in_dims.n, *o = &d->out_dims.n;
    for (int32_t a = 0; a < 4; ++a) {
        b[a] = a < lead ? 0 : begin[a - lead];
        const int32_t s = a < lead ? 1 : size[a - lead] == -1 ? i[a] - b[a] : size[a - lead];
        if (b[a] < 0 || s != o[a] || b[a] + s > i[a])
            return MCU_RT_CORRUPT_MODEL;
    }
    return MCU_RT_OK;
}

static mcu_rt_status slice_eval(mcu_interpreter *rt, mcu_node *node)
{
    const slice_data *d = (const slice_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_slice_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                         &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_slice = {TFL_OP_SLICE, 0, sizeof(slice_data), slice_prepare, slice_eval};
