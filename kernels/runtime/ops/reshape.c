/*
 * RESHAPE, EXPAND_DIMS, SQUEEZE: the same bytes under another shape. The planner makes the
 * output an alias of the input (MCU_OP_ALIAS), so eval moves nothing; it copies only if the
 * two were ever given different memory. Any element type; the shape input is not read: the
 * output tensor's static shape is the answer.
 */
#include "mcu_rt_op.h"

static mcu_rt_status reshape_prepare(mcu_interpreter *rt, mcu_node *node)
{
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_input_info(rt, node, 0, &in)) || (st = mcu_rt_output_info(rt, node, &out)))
        return st;
    if (in.type != out.type)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    return in.bytes == out.bytes ? MCU_RT_OK : MCU_RT_CORRUPT_MODEL;
}

static mcu_rt_status reshape_eval(mcu_interpreter *rt, mcu_node *node)
{
    const uint8_t *in = MCU_RT_IN(rt, node, 0);
    uint8_t *out = MCU_RT_OUT(rt, node);
    if (in != out) {
        mcu_tensor_info t;
        const mcu_rt_status st = mcu_rt_output_info(rt, node, &t);
        if (st != MCU_RT_OK)
            return st;
        for (int32_t i = 0; i < t.bytes; ++i)
            out[i] = in[i];
    }
    return MCU_RT_OK;
}

const mcu_op_registration mcu_op_reshape = {
    TFL_OP_RESHAPE, MCU_OP_ALIAS, 0, reshape_prepare, reshape_eval};
const mcu_op_registration mcu_op_expand_dims = {
    TFL_OP_EXPAND_DIMS, MCU_OP_ALIAS, 0, reshape_prepare, reshape_eval};
const mcu_op_registration mcu_op_squeeze = {
    TFL_OP_SQUEEZE, MCU_OP_ALIAS, 0, reshape_prepare, reshape_eval};
