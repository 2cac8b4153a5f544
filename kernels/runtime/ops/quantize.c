/*
 * QUANTIZE: int8 -> int8 requantization (TFLM Requantize), or float32 -> int8 at a model's
 * input (round(x / scale) + zero point in float32, as TFLM's AffineQuantize).
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_requantize_params params;
    mcu_dims dims;
    float scale;      /* float32 input only */
    int32_t is_float; /* the input is float32 */
} quantize_data;

static mcu_rt_status quantize_prepare(mcu_interpreter *rt, mcu_node *node)
{
    quantize_data *d = (quantize_data *)node->user_data;
    mcu_unary t;
    mcu_rt_status st;
    if ((st = mcu_rt_unary(rt, node, MCU_RT_ANY_TYPE, TFL_INT8, &t, &d->dims)))
        return st;
    mcu_requantize_params *p = &d->params;
    p->output_zero_point = t.out.zero_point;
    p->activation.min = -128;
    p->activation.max = 127;
    d->is_float = t.in.type == TFL_FLOAT32;
    if (d->is_float) {
        const uint32_t bits = t.out.scales[0];
        __builtin_memcpy(&d->scale, &bits, sizeof bits);
        return MCU_RT_OK;
    }
    if ((st = mcu_rt_check_int8(rt, node, 0, &t.in)))
        return st;
    p->input_zero_point = t.in.zero_point;
    mcu_rt_rescale(&t.in, &t.out, &p->multiplier, &p->shift);
    return MCU_RT_OK;
}

/* round(v) half away from zero, for |v| <= 1024 (exact: 13 fraction bits remain) */
static int32_t round_float(float v)
{
    if (!(v > -1024.0f))
        v = -1024.0f; /* also NaN */
    if (v > 1024.0f)
        v = 1024.0f;
    int32_t r = (int32_t)v; /* truncates */
    const float fraction = v - (float)r;
    r += (fraction >= 0.5f) - (fraction <= -0.5f);
    return r;
}

static mcu_rt_status quantize_eval(mcu_interpreter *rt, mcu_node *node)
{
    const quantize_data *d = (const quantize_data *)node->user_data;
    if (!d->is_float)
        return mcu_rt_kernel_status(
            rt, mcu_quantize_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                                (int8_t *)MCU_RT_OUT(rt, node)));
    const float *in = (const float *)(const void *)MCU_RT_IN(rt, node, 0);
    int8_t *out = (int8_t *)MCU_RT_OUT(rt, node);
    for (int32_t i = 0; i < d->dims.c; ++i) {
        const int32_t q = round_float(in[i] / d->scale) + d->params.output_zero_point;
        out[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
    }
    return MCU_RT_OK;
}

const mcu_op_registration mcu_op_quantize = {
    TFL_OP_QUANTIZE, 0, sizeof(quantize_data), quantize_prepare, quantize_eval};
