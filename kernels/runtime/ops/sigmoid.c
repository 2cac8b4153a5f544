/*
 * LOGISTIC and TANH, int8: the input rescaled to Q4.27 (multiplier = the input scale times
 * 2^27, exact), outputs fixed at 1/256 (zero point -128) and 1/128 (zero point 0).
 * 16x8 mode (int16 in and out, zero points 0, output scale 2^-15): TFLM's int16 prepare
 * (mcu_sigmoid16_params), the kernels interpolating in TFLite's sigmoid table. That table
 * comes from the TFLM tree (mcusim/stacks/tflmtables.py): only an image that links it
 * (MCU_RT_SIGMOID_TABLE, set by the build) has the int16 branch; elsewhere an int16 LOGISTIC
 * or TANH is UNSUPPORTED_PARAMS at start-up.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    union {
        mcu_sigmoid_params s8;
        mcu_sigmoid16_params s16;
    } params;
    mcu_dims dims;
    int32_t is_s16;
} sigmoid_data;

#if MCU_RT_SIGMOID_TABLE
/* TFLite's CheckedLog2 of a float32 scale: 1 when log2(scale) is within 1e-3 of an integer,
 * that integer in *log2. Decided exactly on the mantissa (2^+-0.001 is 1 + 5816.6 / 2^23 and
 * 1 - 11625.05 / 2^24); TFLite takes a float32 log, whose rounding moves the bound by up to
 * about ten float32 steps: a scale that close to it may be judged otherwise. */
static int checked_log2(uint32_t bits, int32_t *log2)
{
    const int32_t e = (int32_t)((bits >> 23) & 0xFFu) - 127;
    const uint32_t f = bits & 0x7FFFFFu;
    *log2 = f <= 5816u ? e : e + 1;
    return f <= 5816u || f >= 0x800000u - 11625u;
}

/* p * 2^k <= v, exactly (p < 2^26). */
static int scaled_at_most(uint64_t p, int32_t k, uint32_t v)
{
    if (k >= 0)
        return k < 16 && (p << k) <= v;
    return p <= ((uint64_t)v << (-k > 40 ? 40 : -k));
}

/* TFLM's int16 prepare (logistic_common.cc, tanh.cc). */
static mcu_rt_status sigmoid16_prepare(const mcu_node *node, sigmoid_data *d, const mcu_tensor_info *in,
                                       const mcu_tensor_info *out)
{
    int32_t log2;
    if (!checked_log2(out->scales[0], &log2) || log2 != -15)
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_sigmoid16_params *p = &d->params.s16;
    d->is_s16 = 1;
    const int32_t left = checked_log2(in->scales[0], &log2) ? 12 + log2 : -1;
    if (left == 0 || (left == 1 && node->reg->builtin_code == TFL_OP_TANH)) {
        p->input_multiplier = 3 << left; /* the power-of-two case */
        p->input_shift = 0;
        return MCU_RT_OK;
    }
    /* scale * 3 * 4096 = (3 * mantissa) * 2^k, doubled while at most 16383.5 (shift <= 30),
     * then truncated: exact in double, exact here. */
    const uint64_t m3 = 3u * ((in->scales[0] & 0x7FFFFFu) | 0x800000u);
    const int32_t k = (int32_t)((in->scales[0] >> 23) & 0xFFu) - 127 - 23 + 12;
    int32_t shift = 0;
    while (shift <= 30 && scaled_at_most(m3, k + shift + 1, 32767))
        ++shift;
    if (!scaled_at_most(m3, k + shift, 32767))
        return MCU_RT_UNSUPPORTED_PARAMS; /* TFLM's multiplier must be at most 32767 */
    const int32_t e = k + shift;
    p->input_multiplier = (int32_t)(e >= 0 ? m3 << e : (-e > 63 ? 0 : m3 >> -e));
    p->input_shift = shift;
    return MCU_RT_OK;
}

#endif

static mcu_rt_status sigmoid_prepare(mcu_interpreter *rt, mcu_node *node)
{
    sigmoid_data *d = (sigmoid_data *)node->user_data;
    mcu_unary t;
    mcu_rt_status st;
    if ((st = mcu_rt_check_activation(rt, node, 0, &t.in)) ||
        (st = mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &t.out)))
        return st;
    if (t.out.count != t.in.count || t.out.type != t.in.type)
        return MCU_RT_CORRUPT_MODEL;
    d->dims.n = d->dims.h = d->dims.w = 1;
    d->dims.c = t.in.count;
    if (t.in.type == TFL_INT16)
#if MCU_RT_SIGMOID_TABLE
        return sigmoid16_prepare(node, d, &t.in, &t.out);
#else
        return MCU_RT_UNSUPPORTED_PARAMS;
#endif
    d->is_s16 = 0;
    if (t.out.zero_point != (node->reg->builtin_code == TFL_OP_LOGISTIC ? -128 : 0))
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_real real = mcu_real_from_f32(t.in.scales[0]);
    real.e += 27; /* input_scale * 2^(31 - 4), exact */
    mcu_sigmoid_params *p = &d->params.s8;
    mcu_quantize_multiplier(real, &p->input_multiplier, &p->input_left_shift);
    p->input_zero_point = t.in.zero_point;
    /* CalculateInputRadius(4, shift, 31): floor(15 * 2^27 / 2^shift) */
    const int32_t shift = p->input_left_shift;
    p->input_range_radius = shift < 0 ? INT32_MAX : (int32_t)((15u << 27) >> (shift > 31 ? 31 : shift));
    return MCU_RT_OK;
}

static mcu_rt_status logistic_eval(mcu_interpreter *rt, mcu_node *node)
{
    const sigmoid_data *d = (const sigmoid_data *)node->user_data;
#if MCU_RT_SIGMOID_TABLE
    if (d->is_s16)
        return mcu_rt_kernel_status(
            rt, mcu_logistic_s16(0, &d->params.s16, &d->dims, (const int16_t *)MCU_RT_IN(rt, node, 0),
                                 (int16_t *)MCU_RT_OUT(rt, node)));
#endif
    return mcu_rt_kernel_status(
        rt, mcu_logistic_s8(0, &d->params.s8, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                            (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status tanh_eval(mcu_interpreter *rt, mcu_node *node)
{
    const sigmoid_data *d = (const sigmoid_data *)node->user_data;
#if MCU_RT_SIGMOID_TABLE
    if (d->is_s16)
        return mcu_rt_kernel_status(
            rt, mcu_tanh_s16(0, &d->params.s16, &d->dims, (const int16_t *)MCU_RT_IN(rt, node, 0),
                             (int16_t *)MCU_RT_OUT(rt, node)));
#endif
    return mcu_rt_kernel_status(
        rt, mcu_tanh_s8(0, &d->params.s8, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                        (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_logistic = {
    TFL_OP_LOGISTIC, 0, sizeof(sigmoid_data), sigmoid_prepare, logistic_eval};
const mcu_op_registration mcu_op_tanh = {
    TFL_OP_TANH, 0, sizeof(sigmoid_data), sigmoid_prepare, tanh_eval};
