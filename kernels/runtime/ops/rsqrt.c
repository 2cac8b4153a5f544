/*
 * RSQRT, int8: 1/sqrt(x - zero point) by TFLM's fixed-point inverse square root, rescaled by
 * 1 / (sqrtf(s_in) * s_out): sqrtf and the product in float32, the reciprocal in double
 * (TFLM's SetRsqrtOutputMultiplier), reproduced here with integers.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_rsqrt_params params;
    mcu_dims dims;
} rsqrt_data;

/* floor(sqrt(x)) of a 64-bit integer, bit by bit. */
static uint32_t isqrt64(uint64_t x)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)r;
}

/* sqrtf of a positive normal float32, correctly rounded (IEEE): the mantissa widened to
 * [2^46, 2^48) with an even exponent, its integer square root (24 bits) rounded to nearest
 * (a tie is impossible: (r + 1/2)^2 is not an integer). */
static mcu_real sqrt_f32(mcu_real x)
{
    uint64_t m = x.m;
    int32_t e = x.e;
    while (m < ((uint64_t)1 << 46)) {
        m <<= 1;
        --e;
    }
    if (e & 1) {
        m <<= 1;
        --e;
    }
    const uint32_t r = isqrt64(m);
    const uint64_t rem = m - (uint64_t)r * r;
    mcu_real s = {(uint64_t)r + (rem > r), e / 2, 0};
    return mcu_real_round(s, MCU_REAL_FLOAT);
}

static mcu_rt_status rsqrt_prepare(mcu_interpreter *rt, mcu_node *node)
{
    rsqrt_data *d = (rsqrt_data *)node->user_data;
    mcu_unary t;
    const mcu_rt_status st = mcu_rt_unary(rt, node, TFL_INT8, TFL_INT8, &t, &d->dims);
    if (st != MCU_RT_OK)
        return st;
    mcu_rsqrt_params *p = &d->params;
    p->input_zero_point = t.in.zero_point;
    p->output_zero_point = t.out.zero_point;
    const mcu_real root = sqrt_f32(mcu_real_from_f32(t.in.scales[0]));
    const mcu_real product =
        mcu_real_round(mcu_real_mul(root, mcu_real_from_f32(t.out.scales[0])), MCU_REAL_FLOAT);
    mcu_quantize_multiplier(mcu_real_div(mcu_real_int(1, 0), product, MCU_REAL_DOUBLE),
                            &p->multiplier, &p->shift);
    return MCU_RT_OK;
}

static mcu_rt_status rsqrt_eval(mcu_interpreter *rt, mcu_node *node)
{
    const rsqrt_data *d = (const rsqrt_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_rsqrt_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                         (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_rsqrt = {TFL_OP_RSQRT, 0, sizeof(rsqrt_data), rsqrt_prepare,
                                          rsqrt_eval};
