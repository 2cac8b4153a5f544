/*
 * SOFTMAX over the last axis, int8 -> int8 with the output fixed at scale 1/256, zero
 * point -128 (TFLM's int8 kernel); 16x8 mode: int16 -> int16 (zero point 0), output scale
 * 1/32768 within 0.1% as TFLM requires (mcu_softmax_s16).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

#define SCALE_1_OVER_256 0x3B800000u /* float32 bits of 1/256 */

#define SCALE_1_OVER_32768 0x38000000u /* float32 bits of 1/32768 */

/* 16x8 mode overlays its two parameters on the int8 ones and marks the int8 diff_min slot
 * (always <= 0 for int8) with 1: the op data stays at its int8 size. */
typedef struct {
    union {
        mcu_softmax_params s8;
        struct {
            mcu_softmax16_params s16;
            int32_t is_s16;
        } s16;
    } params;
    int32_t rows, depth;
} softmax_data;

/* a / b rounded to nearest-even at 53 bits (a double division) for a 53-bit divisor, which
 * mcu_real_div does not take: restoring long division to 55 bits plus a sticky remainder.
 * a.m < 2^56, 0 < b.m < 2^54, both positive. */
static mcu_real div_double(mcu_real a, mcu_real b)
{
    uint64_t n = a.m, d = b.m;
    int32_t e = a.e - b.e;
    while (n < d) {
        n <<= 1;
        --e;
    }
    while (n >= 2 * d) {
        d <<= 1;
        ++e;
    }
    uint64_t q = 0;
    for (int32_t i = 0; i < 55; ++i) { /* q: 55 bits, the quotient in [1, 2) times 2^54 */
        q <<= 1;
        if (n >= d) {
            n -= d;
            q |= 1;
        }
        n <<= 1;
    }
    const uint64_t dropped = q & 3;
    q >>= 2;
    if (dropped > 2 || (dropped == 2 && (n != 0 || (q & 1))))
        ++q;
    const mcu_real r = {q, e - 52, 0};
    return r;
}

/* TFLM's int16 prepare: beta * input_scale / (10 / 65535) in double, QuantizeMultiplier. */
static mcu_rt_status softmax16_prepare(mcu_interpreter *rt, mcu_node *node, softmax_data *d,
                                       const mcu_tensor_info *in, const mcu_tensor_info *out)
{
    /* |scale - 1/32768| <= 0.001/32768: 16777 float32 steps below 2^-15, 8388 above */
    if (out->scales[0] < SCALE_1_OVER_32768 - 16777u || out->scales[0] > SCALE_1_OVER_32768 + 8388u ||
        out->zero_point != 0 || in->type != out->type)
        return MCU_RT_UNSUPPORTED_PARAMS;
    const uint32_t beta = (uint32_t)mcu_rt_option_i32(rt, node, TFL_SOFTMAX_BETA, 0);
    const mcu_real range = mcu_real_div(mcu_real_int(10, 0), mcu_real_int(65535, 0), MCU_REAL_DOUBLE);
    const mcu_real real = div_double(mcu_real_mul(mcu_real_from_f32(in->scales[0]), mcu_real_from_f32(beta)),
                                     range);
    mcu_quantize_multiplier(real, &d->params.s16.s16.input_multiplier, &d->params.s16.s16.input_shift);
    d->params.s16.is_s16 = 1;
    return MCU_RT_OK;
}

static mcu_rt_status softmax_prepare(mcu_interpreter *rt, mcu_node *node)
{
    softmax_data *d = (softmax_data *)node->user_data;
    mcu_tensor_info in, out;
    mcu_rt_status st;
    if ((st = mcu_rt_check_activation(rt, node, 0, &in)) ||
        (st = mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &out)))
        return st;
    const int32_t depth = in.rank ? in.dims[in.rank - 1] : 1;
    if (depth < 1 || out.count != in.count)
        return MCU_RT_CORRUPT_MODEL;
    d->rows = in.count / depth;
    d->depth = depth;
    if (in.type == TFL_INT16)
        return softmax16_prepare(rt, node, d, &in, &out);
    if (out.type != TFL_INT8 || out.scales[0] != SCALE_1_OVER_256 || out.zero_point != -128)
        return MCU_RT_UNSUPPORTED_PARAMS;
    /* TFLM PreprocessSoftmaxScaling(beta, input_scale, 5): min(beta * s * 2^26, 2^31 - 1) in
     * double (the product of two float32s is exact there), then QuantizeMultiplier. */
    const uint32_t beta = (uint32_t)mcu_rt_option_i32(rt, node, TFL_SOFTMAX_BETA, 0);
    mcu_real real = mcu_real_mul(mcu_real_from_f32(beta), mcu_real_from_f32(in.scales[0]));
    real.e += 26;
    if (mcu_real_at_least(real, 0x7FFFFFFFu))
        real = mcu_real_int(0x7FFFFFFF, 0);
    mcu_quantize_multiplier(real, &d->params.s8.input_multiplier, &d->params.s8.input_left_shift);
    /* CalculateInputRadius(5, shift): floor((2^5 - 1) * 2^26 / 2^shift) */
    const int32_t shift = d->params.s8.input_left_shift;
    d->params.s8.diff_min = shift < 0 ? -INT32_MAX : -(int32_t)((31u << 26) >> (shift > 31 ? 31 : shift));
    return MCU_RT_OK;
}

static mcu_rt_status softmax_eval(mcu_interpreter *rt, mcu_node *node)
{
    const softmax_data *d = (const softmax_data *)node->user_data;
    const mcu_dims dims = {d->rows, 1, 1, d->depth};
    if (d->params.s16.is_s16 == 1)
        return mcu_rt_kernel_status(
            rt, mcu_softmax_s16(0, &d->params.s16.s16, &dims, (const int16_t *)MCU_RT_IN(rt, node, 0),
                                (int16_t *)MCU_RT_OUT(rt, node)));
    return mcu_rt_kernel_status(
        rt, mcu_softmax_s8(0, &d->params.s8, &dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                           (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_softmax = {
    TFL_OP_SOFTMAX, 0, sizeof(softmax_data), softmax_prepare, softmax_eval};
