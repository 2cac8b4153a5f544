/*
 * BATCH_MATMUL: int8 lhs and rhs (activations or constants, per-tensor), adj_x / adj_y ->
 * int8 product; batch dimensions broadcast. Ranks up to 4 (two batch dimensions, what
 * mcu_dims holds); a rank-5 product is refused as UNSUPPORTED_PARAMS.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_batch_matmul_params params;
    mcu_quant_params quant;
    mcu_dims lhs_dims, rhs_dims, out_dims;
} bmm_data;

static mcu_rt_status bmm_prepare(mcu_interpreter *rt, mcu_node *node)
{
    bmm_data *d = (bmm_data *)node->user_data;
    mcu_mac_tensors t; /* lhs as the input, rhs as the weights */
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &t.in)) ||
        (st = mcu_rt_check_int8(rt, node, 1, &t.filter)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &t.out)))
        return st;
    if (t.in.rank < 2 || t.filter.rank < 2 || t.in.rank > 4 || t.filter.rank > 4 || t.out.rank > 4)
        return MCU_RT_UNSUPPORTED_PARAMS;
    if ((st = mcu_rt_dims4(&t.in, &d->lhs_dims)) || (st = mcu_rt_dims4(&t.filter, &d->rhs_dims)) ||
        (st = mcu_rt_dims4(&t.out, &d->out_dims)))
        return st;
    mcu_batch_matmul_params *p = &d->params;
    p->adj_x = mcu_rt_option_u8(rt, node, TFL_BMM_ADJ_X, 0) != 0;
    p->adj_y = mcu_rt_option_u8(rt, node, TFL_BMM_ADJ_Y, 0) != 0;
    p->lhs_offset = -t.in.zero_point;
    p->rhs_offset = -t.filter.zero_point;
    p->output_offset = t.out.zero_point;
    p->activation.min = -128;
    p->activation.max = 127;
    /* TFLM: QuantizeMultiplier(double(float(lhs_scale * rhs_scale)) / out_scale) */
    if ((st = mcu_rt_mac_multipliers(rt, &t, 1, 1, &d->quant)))
        return st;
    const mcu_dims *l = &d->lhs_dims, *r = &d->rhs_dims, *o = &d->out_dims;
    const int32_t m = p->adj_x ? l->c : l->w, k = p->adj_x ? l->w : l->c;
    const int32_t k2 = p->adj_y ? r->c : r->w, n = p->adj_y ? r->w : r->c;
    if (k != k2 || o->w != m || o->c != n || (l->n != o->n && l->n != 1) ||
        (r->n != o->n && r->n != 1) || (l->h != o->h && l->h != 1) || (r->h != o->h && r->h != 1))
        return MCU_RT_CORRUPT_MODEL;
    node->scratch_bytes = mcu_batch_matmul_s8_get_buffer_size(p, l, r);
    return MCU_RT_OK;
}

static mcu_rt_status bmm_eval(mcu_interpreter *rt, mcu_node *node)
{
    const bmm_data *d = (const bmm_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    return mcu_rt_kernel_status(
        rt, mcu_batch_matmul_s8(&ctx, &d->params, &d->quant, &d->lhs_dims,
                                (const int8_t *)MCU_RT_IN(rt, node, 0), &d->rhs_dims,
                                (const int8_t *)MCU_RT_IN(rt, node, 1), &d->out_dims,
                                (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_batch_matmul = {
    TFL_OP_BATCH_MATMUL, 0, sizeof(bmm_data), bmm_prepare, bmm_eval};
