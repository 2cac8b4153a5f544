/*
 * QUANTIZE: int8 -> int8 requantization (TFLM Requantize); uint8 -> int8 and int8 -> uint8
 * (the converter's uint8 model input and output, the same Requantize); or float32 -> int8 at
 * a model's input (round(x / scale) + zero point in float32, as TFLM's AffineQuantize). 16x8
 * mode: float32 -> int16 (mcu_quantize_f32_s16) and the int16 requantizations (int16 -> int16,
 * int16 -> int8, int8 -> int16).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

enum {
    QUANTIZE_S8, QUANTIZE_U8_S8, QUANTIZE_S8_U8, QUANTIZE_F32,
    QUANTIZE_S16, QUANTIZE_S16_S8, QUANTIZE_S8_S16, QUANTIZE_F32_S16
};

typedef struct {
    mcu_requantize_params params;
    mcu_dims dims;
    float scale;  /* float32 input only */
    int32_t kind; /* QUANTIZE_* */
} quantize_data;

/* A uint8 tensor at the model's edge: one scale, a zero point in [0, 255]. */
static mcu_rt_status check_uint8(mcu_interpreter *rt, int32_t index, const mcu_tensor_info *t)
{
    if (t->type != TFL_UINT8 || t->n_scales != 1 || !mcu_scale_ok(t->scales[0]) ||
        t->zero_point < 0 || t->zero_point > 255)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, index);
    return MCU_RT_OK;
}

static mcu_rt_status quantize_prepare(mcu_interpreter *rt, mcu_node *node)
{
    quantize_data *d = (quantize_data *)node->user_data;
    mcu_unary t;
    mcu_rt_status st;
    if ((st = mcu_rt_unary(rt, node, MCU_RT_ANY_TYPE, MCU_RT_ANY_TYPE, &t, &d->dims)))
        return st;
    const int to_u8 = t.out.type == TFL_UINT8 && t.in.type == TFL_INT8;
    if ((st = to_u8 ? check_uint8(rt, node->outputs[1], &t.out)
                    : mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &t.out)))
        return st;
    const int out16 = t.out.type == TFL_INT16;
    mcu_requantize_params *p = &d->params;
    p->output_zero_point = t.out.zero_point;
    p->activation.min = to_u8 ? 0 : out16 ? -32768 : -128;
    p->activation.max = to_u8 ? 255 : out16 ? 32767 : 127;
    if (t.in.type == TFL_FLOAT32) {
        d->kind = out16 ? QUANTIZE_F32_S16 : QUANTIZE_F32;
        const uint32_t bits = t.out.scales[0];
        __builtin_memcpy(&d->scale, &bits, sizeof bits);
        return MCU_RT_OK;
    }
    if (t.in.type == TFL_UINT8) {
        if (out16) /* TFLM has no uint8 -> int16 */
            return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
        d->kind = QUANTIZE_U8_S8;
        st = check_uint8(rt, mcu_rt_in_index(node, 0), &t.in);
    } else {
        st = mcu_rt_check_activation(rt, node, 0, &t.in);
        const int in16 = t.in.type == TFL_INT16;
        d->kind = to_u8  ? QUANTIZE_S8_U8
                  : in16 ? (out16 ? QUANTIZE_S16 : QUANTIZE_S16_S8)
                         : (out16 ? QUANTIZE_S8_S16 : QUANTIZE_S8);
    }
    if (st)
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
    const void *x = MCU_RT_IN(rt, node, 0);
    void *y = MCU_RT_OUT(rt, node);
    if (d->kind == QUANTIZE_S8)
        return mcu_rt_kernel_status(rt, mcu_quantize_s8(0, &d->params, &d->dims, x, y));
    if (d->kind == QUANTIZE_U8_S8)
        return mcu_rt_kernel_status(rt, mcu_quantize_u8_s8(0, &d->params, &d->dims, x, y));
    if (d->kind == QUANTIZE_S8_U8)
        return mcu_rt_kernel_status(rt, mcu_quantize_s8_u8(0, &d->params, &d->dims, x, y));
    if (d->kind == QUANTIZE_S16)
        return mcu_rt_kernel_status(rt, mcu_quantize_s16(0, &d->params, &d->dims, x, y));
    if (d->kind == QUANTIZE_S16_S8)
        return mcu_rt_kernel_status(rt, mcu_quantize_s16_s8(0, &d->params, &d->dims, x, y));
    if (d->kind == QUANTIZE_S8_S16)
        return mcu_rt_kernel_status(rt, mcu_quantize_s8_s16(0, &d->params, &d->dims, x, y));
    if (d->kind == QUANTIZE_F32_S16) {
        const mcu_dequantize_params f = {d->params.output_zero_point, d->scale};
        return mcu_rt_kernel_status(rt, mcu_quantize_f32_s16(0, &f, &d->dims, x, y));
    }
    const float *in = (const float *)x;
    int8_t *out = (int8_t *)y;
    for (int32_t i = 0; i < d->dims.c; ++i) {
        const int32_t q = round_float(in[i] / d->scale) + d->params.output_zero_point;
        out[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
    }
    return MCU_RT_OK;
}

const mcu_op_registration mcu_op_quantize = {
    TFL_OP_QUANTIZE, 0, sizeof(quantize_data), quantize_prepare, quantize_eval};
