/*
 * TRANSPOSE of an int8 tensor of rank <= 4 by a constant permutation (TFLM needs it constant
 * too): the permutation of the NHWC-padded axes is resolved at prepare.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_transpose_params params;
    mcu_dims in_dims, out_dims;
} transpose_data;

static mcu_rt_status transpose_prepare(mcu_interpreter *rt, mcu_node *node)
{
    transpose_data *d = (transpose_data *)node->user_data;
    mcu_tensor_info in, out;
    int32_t perm[4], n;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) ||
        (st = mcu_rt_const_ints(rt, node, 1, perm, &n)) || (st = mcu_rt_dims4(&in, &d->in_dims)) ||
        (st = mcu_rt_dims4(&out, &d->out_dims)))
        return st;
    if (n != in.rank || out.rank != in.rank)
        return MCU_RT_CORRUPT_MODEL;
    const int32_t lead = 4 - in.rank;
    const int32_t *i = &d->in_dims.n, *o = &d->out_dims.n;
    for (int32_t a = 0; a < 4; ++a) {
        const int32_t p = a < lead ? a : perm[a - lead] + lead;
        if ((a >= lead && p < lead) || p > 3 || o[a] != i[p])
            return MCU_RT_CORRUPT_MODEL;
        d->params.perm[a] = p; /* repeats are refused by the kernel */
    }
    return MCU_RT_OK;
}

static mcu_rt_status transpose_eval(mcu_interpreter *rt, mcu_node *node)
{
    const transpose_data *d = (const transpose_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_transpose_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                             &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_transpose = {
    TFL_OP_TRANSPOSE, 0, sizeof(transpose_data), transpose_prepare, transpose_eval};
