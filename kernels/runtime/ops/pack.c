/*
 * PACK: n tensors of one shape stacked along a new axis (any element type).
 */
#include "mcu_rt_op.h"

typedef struct {
    int32_t outer;       /* product of the dims before the axis */
    int32_t inner_bytes; /* bytes of one input from the axis on */
    int32_t n;
} pack_data;

static mcu_rt_status pack_prepare(mcu_interpreter *rt, mcu_node *node)
{
    pack_data *d = (pack_data *)node->user_data;
    mcu_tensor_info first, in, out;
    mcu_rt_status st;
    const int32_t n = node->inputs[0];
    if ((st = mcu_rt_input_info(rt, node, 0, &first)) || (st = mcu_rt_output_info(rt, node, &out)))
        return st;
    int32_t axis = mcu_rt_option_i32(rt, node, TFL_PACK_AXIS, 0);
    if (axis < 0)
        axis += first.rank + 1;
    if (axis < 0 || axis > first.rank || out.rank != first.rank + 1 || out.dims[axis] != n)
        return MCU_RT_CORRUPT_MODEL;
    for (int32_t k = 0; k < n; ++k) {
        if ((st = mcu_rt_input_info(rt, node, k, &in)))
            return st;
        if (in.type != out.type)
            return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[1 + k]);
        if (!mcu_rt_same_shape(&in, &first))
            return MCU_RT_CORRUPT_MODEL;
    }
    d->outer = 1;
    for (int32_t a = 0; a < axis; ++a) {
        if (out.dims[a] != first.dims[a])
            return MCU_RT_CORRUPT_MODEL;
        d->outer *= first.dims[a];
    }
    for (int32_t a = axis; a < first.rank; ++a)
        if (out.dims[a + 1] != first.dims[a])
            return MCU_RT_CORRUPT_MODEL;
    d->inner_bytes = d->outer ? first.bytes / d->outer : 0;
    d->n = n;
    return out.bytes == n * first.bytes ? MCU_RT_OK : MCU_RT_CORRUPT_MODEL;
}

static mcu_rt_status pack_eval(mcu_interpreter *rt, mcu_node *node)
{
    const pack_data *d = (const pack_data *)node->user_data;
    uint8_t *out = MCU_RT_OUT(rt, node);
    for (int32_t o = 0; o < d->outer; ++o)
        for (int32_t k = 0; k < d->n; ++k) {
            const uint8_t *in = MCU_RT_IN(rt, node, k) + o * d->inner_bytes;
            for (int32_t i = 0; i < d->inner_bytes; ++i)
                *out++ = in[i];
        }
    return MCU_RT_OK;
}

const mcu_op_registration mcu_op_pack = {
    TFL_OP_PACK, 0, sizeof(pack_data), pack_prepare, pack_eval};
