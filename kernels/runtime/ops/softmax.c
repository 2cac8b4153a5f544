/*
 * SOFTMAX over the last axis, int8 -> int8 with the output fixed at scale 1/256, zero
 * point -128 (TFLM's int8 kernel).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

#define SCALE_1_OVER_256 0x3B800000u /* float32 bits of 1/256 */

typedef struct {
    mcu_softmax_params params;
    int32_t rows, depth;
} softmax_data;

static mcu_rt_status softmax_prepare(mcu_interpreter *rt, mcu_node *node)
{
    softmax_data *d = (softmax_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    if (out.scales[0] != SCALE_1_OVER_256 || out.zero_point != -128)
        return MCU_RT_UNSUPPORTED_PARAMS;
    const int32_t depth = in.rank ? in.dims[in.rank - 1] : 1;
    if (depth < 1 || out.count != in.count)
        return MCU_RT_CORRUPT_MODEL;
    d->rows = in.count / depth;
    d->depth = depth;
    /* TFLM PreprocessSoftmaxScaling(beta, input_scale, 5): min(beta * s * 2^26, 2^31 - 1) in
     * double (the product of two float32s is exact there), then QuantizeMultiplier. */
    const uint32_t beta = (uint32_t)mcu_rt_option_i32(rt, node, TFL_SOFTMAX_BETA, 0);
    mcu_real real = mcu_real_mul(mcu_real_from_f32(beta), mcu_real_from_f32(in.scales[0]));
    real.e += 26;
    if (mcu_real_at_least(real, 0x7FFFFFFFu))
        real = mcu_real_int(0x7FFFFFFF, 0);
    mcu_quantize_multiplier(real, &d->params.input_multiplier, &d->params.input_left_shift);
    /* CalculateInputRadius(5, shift): floor((2^5 - 1) * 2^26 / 2^shift) */
    const int32_t shift = d->params.input_left_shift;
    d->params.diff_min = shift < 0 ? -INT32_MAX : -(int32_t)((31u << 26) >> (shift > 31 ? 31 : shift));
    return MCU_RT_OK;
}

static mcu_rt_status softmax_eval(mcu_interpreter *rt, mcu_node *node)
{
    const softmax_data *d = (const softmax_data *)node->user_data;
    const mcu_dims dims = {d->rows, 1, 1, d->depth};
    return mcu_rt_kernel_status(
        rt, mcu_softmax_s8(0, &d->params, &dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                           (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_softmax = {
    TFL_OP_SOFTMAX, 0, sizeof(softmax_data), softmax_prepare, softmax_eval};
