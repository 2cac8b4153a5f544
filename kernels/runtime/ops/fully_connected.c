/*
 * FULLY_CONNECTED: int8 input [batches..., K], weights [O, K] (per-tensor or per-channel),
 * optional int32 bias [O] -> int8 [batches..., O]. 16x8 mode: int16 input and output, int64
 * bias -> mcu_fully_connected_s16.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_fc_params params;
    const int32_t *multiplier; /* shifts follow: per_channel ? units : 1 of each */
    const void *bias; /* int32, or int64 when int16 */
    int16_t per_channel;
    int16_t int16; /* 16x8 mode; two int16_t keep the op data at its int8 size */
    int32_t batches, depth, units; /* dims and quant params are built at eval: less arena */
} fc_data;

static mcu_rt_status fc_prepare(mcu_interpreter *rt, mcu_node *node)
{
    fc_data *d = (fc_data *)node->user_data;
    mcu_mac_tensors t;
    mcu_rt_status st;
    if ((st = mcu_rt_mac_tensors(rt, node, &t)))
        return st;
    if (t.filter.rank != 2 || mcu_rt_option_u8(rt, node, TFL_FC_WEIGHTS_FORMAT, 0) != 0)
        return MCU_RT_UNSUPPORTED_PARAMS;
    const int32_t units = t.filter.dims[0], depth = t.filter.dims[1];
    if (units < 1 || depth < 1 || t.in.count % depth || t.out.count != t.in.count / depth * units)
        return MCU_RT_CORRUPT_MODEL;
    d->batches = t.in.count / depth;
    d->depth = depth;
    d->units = units;
    d->params.input_offset = -t.in.zero_point;
    d->params.filter_offset = -t.filter.zero_point;
    d->params.output_offset = t.out.zero_point;
    mcu_quant_params quant;
    if ((st = mcu_rt_mac_quant(rt, node, &t, TFL_FC_ACTIVATION, units, 1, &d->params.activation,
                               &quant, &d->bias)))
        return st;
    d->multiplier = quant.multiplier;
    d->per_channel = quant.per_channel;
    const mcu_dims filter_dims = {units, 1, 1, depth};
    d->int16 = t.in.type == TFL_INT16;
    node->scratch_bytes = d->int16 ? 0 : mcu_fully_connected_s8_get_buffer_size(&filter_dims);
    return MCU_RT_OK;
}

static mcu_rt_status fc_eval(mcu_interpreter *rt, mcu_node *node)
{
    const fc_data *d = (const fc_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    const mcu_dims in_dims = {d->batches, 1, 1, d->depth};
    const mcu_dims filter_dims = {d->units, 1, 1, d->depth};
    const mcu_dims out_dims = {d->batches, 1, 1, d->units};
    const mcu_quant_params quant = {d->multiplier, d->multiplier + (d->per_channel ? d->units : 1),
                                    d->per_channel};
    if (d->int16)
        return mcu_rt_kernel_status(
            rt, mcu_fully_connected_s16(&ctx, &d->params, &quant, &in_dims,
                                        (const int16_t *)MCU_RT_IN(rt, node, 0), &filter_dims,
                                        (const int8_t *)MCU_RT_IN(rt, node, 1),
                                        (const int64_t *)d->bias, &out_dims,
                                        (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_fully_connected_s8(&ctx, &d->params, &quant, &in_dims,
                                   (const int8_t *)MCU_RT_IN(rt, node, 0), &filter_dims,
                                   (const int8_t *)MCU_RT_IN(rt, node, 1), (const int32_t *)d->bias, &out_dims,
                                   (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_fully_connected = {
    TFL_OP_FULLY_CONNECTED, 0, sizeof(fc_data), fc_prepare, fc_eval};
