/*
 * op_util.c - what several ops' prepare functions share: reading and checking tensors,
 * NHWC dims, fused activation ranges, padding, requantization, and the prepare of each op
 * pattern (MAC, window, binary, unary) over those.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

mcu_rt_status mcu_rt_fail(mcu_interpreter *rt, mcu_rt_status status, int32_t detail)
{
    rt->error_detail = detail;
    return status;
}

mcu_rt_status mcu_rt_input_info(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                mcu_tensor_info *t)
{
    const int32_t index = mcu_rt_in_index(node, k);
    return index < 0 ? MCU_RT_CORRUPT_MODEL : mcu_rt_tensor(rt, index, t);
}

mcu_rt_status mcu_rt_output_info(mcu_interpreter *rt, const mcu_node *node, mcu_tensor_info *t)
{
    return mcu_rt_tensor(rt, node->outputs[1], t);
}

mcu_rt_status mcu_rt_check_int8(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                mcu_tensor_info *t)
{
    const int32_t index = k == MCU_RT_OUTPUT ? node->outputs[1] : mcu_rt_in_index(node, k);
    if (index < 0)
        return MCU_RT_CORRUPT_MODEL;
    const mcu_rt_status st = mcu_rt_tensor(rt, index, t);
    if (st != MCU_RT_OK)
        return st;
    if (t->type != TFL_INT8 || t->n_scales != 1 || !mcu_scale_ok(t->scales[0]) ||
        t->zero_point < -128 || t->zero_point > 127)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, index);
    return MCU_RT_OK;
}

mcu_rt_status mcu_rt_check_activation(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                     mcu_tensor_info *t)
{
    const int32_t index = k == MCU_RT_OUTPUT ? node->outputs[1] : mcu_rt_in_index(node, k);
    if (index < 0)
        return MCU_RT_CORRUPT_MODEL;
    const mcu_rt_status st = mcu_rt_tensor(rt, index, t);
    if (st != MCU_RT_OK)
        return st;
    if (t->type != TFL_INT16)
        return mcu_rt_check_int8(rt, node, k, t);
    if (t->n_scales != 1 || !mcu_scale_ok(t->scales[0]) || t->zero_point != 0)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, index);
    return MCU_RT_OK;
}

mcu_rt_status mcu_rt_check_weights(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                   mcu_tensor_info *t)
{
    const mcu_rt_status st = mcu_rt_input_info(rt, node, k, t);
    if (st != MCU_RT_OK)
        return st;
    int ok = t->type == TFL_INT8 && t->data && t->n_scales >= 1 && t->zero_point >= -128 &&
             t->zero_point <= 127;
    for (int32_t c = 0; ok && c < t->n_scales; ++c)
        ok = mcu_scale_ok(t->scales[c]);
    return ok ? MCU_RT_OK : mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[1 + k]);
}

mcu_rt_status mcu_rt_bias(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                          int32_t channels, const int32_t **bias)
{
    return mcu_rt_bias_of(rt, node, k, channels, TFL_INT32, (const void **)bias);
}

mcu_rt_status mcu_rt_bias_of(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                             int32_t channels, int32_t type, const void **bias)
{
    mcu_tensor_info t;
    const int32_t index = mcu_rt_in_index(node, k);
    *bias = 0;
    if (index < 0)
        return MCU_RT_OK;
    const mcu_rt_status st = mcu_rt_tensor(rt, index, &t);
    if (st != MCU_RT_OK)
        return st;
    if (t.type != type || !t.data)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, index);
    if (t.count != channels)
        return MCU_RT_CORRUPT_MODEL;
    *bias = (const void *)t.data;
    return MCU_RT_OK;
}

mcu_rt_status mcu_rt_dims4(const mcu_tensor_info *t, mcu_dims *d)
{
    int32_t *f = &d->n; /* n, h, w, c are consecutive int32 fields */
    if (t->rank > 4)
        return MCU_RT_UNSUPPORTED_PARAMS;
    for (int32_t i = 0; i < 4; ++i)
        f[i] = 1;
    for (int32_t i = 0; i < t->rank; ++i)
        f[4 - t->rank + i] = t->dims[i];
    return MCU_RT_OK;
}

static int broadcasts(const mcu_dims *in, const mcu_dims *out)
{
    const int32_t *i = &in->n, *o = &out->n;
    for (int32_t k = 0; k < 4; ++k)
        if (i[k] != o[k] && i[k] != 1)
            return 0;
    return 1;
}

mcu_rt_status mcu_rt_broadcast_dims(const mcu_tensor_info *a, const mcu_tensor_info *b,
                                    const mcu_tensor_info *out, mcu_dims *da, mcu_dims *db,
                                    mcu_dims *dout)
{
    if (mcu_rt_dims4(a, da) || mcu_rt_dims4(b, db) || mcu_rt_dims4(out, dout))
        return MCU_RT_UNSUPPORTED_PARAMS;
    const int32_t *x = &da->n, *y = &db->n, *o = &dout->n;
    for (int32_t k = 0; k < 4; ++k) /* the output is exactly the broadcast shape */
        if (o[k] != (x[k] > y[k] ? x[k] : y[k]))
            return MCU_RT_CORRUPT_MODEL;
    return broadcasts(da, dout) && broadcasts(db, dout) ? MCU_RT_OK : MCU_RT_CORRUPT_MODEL;
}

/* zero_point + round(value / scale) in float32, as TFLM's Quantize helper, unclamped. */
static int32_t quantize_value(int32_t value, const mcu_tensor_info *t)
{
    if (value == 0)
        return t->zero_point;
    const mcu_real q = mcu_real_div(mcu_real_int(value, 0), mcu_real_from_f32(t->scales[0]),
                                    MCU_REAL_FLOAT);
    return t->zero_point + mcu_real_to_int(q);
}

mcu_rt_status mcu_rt_activation(int32_t activation, const mcu_tensor_info *out,
                                mcu_range *range)
{
    const int32_t qmin = out->type == TFL_INT16 ? -32768 : -128;
    const int32_t qmax = out->type == TFL_INT16 ? 32767 : 127;
    range->min = qmin;
    range->max = qmax;
    switch (activation) {
    case TFL_ACT_NONE:
        return MCU_RT_OK;
    case TFL_ACT_RELU:
    case TFL_ACT_RELU6:
    case TFL_ACT_RELU_N1_TO_1: {
        const int32_t lo = quantize_value(activation == TFL_ACT_RELU_N1_TO_1 ? -1 : 0, out);
        range->min = lo > qmin ? lo : qmin;
        if (activation != TFL_ACT_RELU) {
            const int32_t hi = quantize_value(activation == TFL_ACT_RELU6 ? 6 : 1, out);
            range->max = hi < qmax ? hi : qmax;
        }
        return MCU_RT_OK;
    }
    default: /* TANH, SIGN_BIT: not on int8 outputs */
        return MCU_RT_UNSUPPORTED_PARAMS;
    }
}

int32_t mcu_rt_out_size(int32_t padding, int32_t in, int32_t filter, int32_t stride,
                        int32_t dilation)
{
    if (stride <= 0 || dilation <= 0 || filter <= 0)
        return -1;
    const int32_t effective = (filter - 1) * dilation + 1;
    return padding == TFL_PADDING_SAME ? (in + stride - 1) / stride
                                       : (in + stride - effective) / stride;
}

int32_t mcu_rt_padding(int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                       int32_t out)
{
    const int32_t total = (out - 1) * stride + (filter - 1) * dilation + 1 - in;
    return total > 0 ? total / 2 : 0;
}

/* TFLM's PopulateConvolutionQuantizationParams: (double)in * (double)filter / (double)out per
 * channel; FULLY_CONNECTED per-tensor multiplies the two float32 scales in float32 first. */
mcu_rt_status mcu_rt_mac_multipliers(mcu_interpreter *rt, const mcu_mac_tensors *t,
                                     int32_t channels, int float32_product, mcu_quant_params *q)
{
    const int32_t n = t->filter.n_scales;
    if (n != 1 && n != channels)
        return MCU_RT_CORRUPT_MODEL;
    int32_t *mult = (int32_t *)mcu_rt_alloc_persistent(rt, 8u * (uint32_t)n);
    if (!mult)
        return MCU_RT_ARENA_TOO_SMALL;
    int32_t *shift = mult + n;
    const mcu_real in_scale = mcu_real_from_f32(t->in.scales[0]);
    const mcu_real out_scale = mcu_real_from_f32(t->out.scales[0]);
    for (int32_t c = 0; c < n; ++c) {
        mcu_real product = mcu_real_mul(in_scale, mcu_real_from_f32(t->filter.scales[c]));
        if (float32_product && n == 1)
            product = mcu_real_round(product, MCU_REAL_FLOAT);
        mcu_quantize_multiplier(mcu_real_div(product, out_scale, MCU_REAL_DOUBLE), &mult[c],
                                &shift[c]);
    }
    q->multiplier = mult;
    q->shift = shift;
    q->per_channel = n > 1;
    return MCU_RT_OK;
}

mcu_rt_status mcu_rt_mac_tensors(mcu_interpreter *rt, const mcu_node *node, mcu_mac_tensors *t)
{
    mcu_rt_status st;
    if ((st = mcu_rt_check_activation(rt, node, 0, &t->in)) ||
        (st = mcu_rt_check_weights(rt, node, 1, &t->filter)) ||
        (st = mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &t->out)))
        return st;
    return t->in.type == t->out.type ? MCU_RT_OK : mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
}

mcu_rt_status mcu_rt_window(mcu_interpreter *rt, const mcu_node *node,
                            const mcu_window_slots *slots, mcu_mac_tensors *t, mcu_dims *dims,
                            mcu_hw *stride, mcu_hw *padding, mcu_hw *third)
{
    const int pooling = slots->filter_w != MCU_RT_NO_OPTION;
    mcu_rt_status st;
    if (!pooling)
        st = mcu_rt_mac_tensors(rt, node, t);
    else if ((st = mcu_rt_check_activation(rt, node, 0, &t->in)) == MCU_RT_OK &&
             (st = mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &t->out)) == MCU_RT_OK &&
             t->in.type != t->out.type)
        st = mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    if (st != MCU_RT_OK)
        return st;
    if (t->in.rank != 4 || t->out.rank != 4 || (!pooling && t->filter.rank != 4))
        return MCU_RT_UNSUPPORTED_PARAMS;
    mcu_dims *in = &dims[0], *out = &dims[pooling ? 1 : 2];
    mcu_rt_dims4(&t->in, in);
    mcu_rt_dims4(&t->out, out);
    mcu_hw window, dilation = {1, 1};
    if (pooling) {
        window.w = mcu_rt_option_i32(rt, node, (uint32_t)slots->filter_w, 0);
        window.h = mcu_rt_option_i32(rt, node, (uint32_t)slots->filter_h, 0);
        *third = window;
    } else {
        mcu_rt_dims4(&t->filter, &dims[1]);
        window.h = dims[1].h;
        window.w = dims[1].w;
        dilation.w = mcu_rt_option_i32(rt, node, (uint32_t)slots->dilation_w, 1);
        dilation.h = mcu_rt_option_i32(rt, node, (uint32_t)slots->dilation_h, 1);
        *third = dilation;
    }
    const int32_t pad = mcu_rt_option_u8(rt, node, (uint32_t)slots->padding, TFL_PADDING_SAME);
    stride->w = mcu_rt_option_i32(rt, node, (uint32_t)slots->stride_w, 0);
    stride->h = mcu_rt_option_i32(rt, node, (uint32_t)slots->stride_h, 0);
    const int32_t oh = mcu_rt_out_size(pad, in->h, window.h, stride->h, dilation.h);
    const int32_t ow = mcu_rt_out_size(pad, in->w, window.w, stride->w, dilation.w);
    if (oh != out->h || ow != out->w || out->n != in->n)
        return MCU_RT_CORRUPT_MODEL;
    padding->h = mcu_rt_padding(in->h, window.h, stride->h, dilation.h, oh);
    padding->w = mcu_rt_padding(in->w, window.w, stride->w, dilation.w, ow);
    return MCU_RT_OK;
}

mcu_rt_status mcu_rt_binary(mcu_interpreter *rt, const mcu_node *node, mcu_binary *t,
                            mcu_dims *dims1, mcu_dims *dims2, mcu_dims *out_dims)
{
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &t->a)) ||
        (st = mcu_rt_check_int8(rt, node, 1, &t->b)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &t->out)))
        return st;
    return mcu_rt_broadcast_dims(&t->a, &t->b, &t->out, dims1, dims2, out_dims);
}

mcu_rt_status mcu_rt_binary16(mcu_interpreter *rt, const mcu_node *node, mcu_binary *t,
                              mcu_dims *dims1, mcu_dims *dims2, mcu_dims *out_dims)
{
    mcu_rt_status st;
    if ((st = mcu_rt_check_activation(rt, node, 0, &t->a)) ||
        (st = mcu_rt_check_activation(rt, node, 1, &t->b)) ||
        (st = mcu_rt_check_activation(rt, node, MCU_RT_OUTPUT, &t->out)))
        return st;
    if (t->a.type != t->out.type || t->b.type != t->out.type)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    return mcu_rt_broadcast_dims(&t->a, &t->b, &t->out, dims1, dims2, out_dims);
}

void mcu_rt_add_quant(const mcu_binary *t, int32_t left_shift, int32_t bits, mcu_add_params *p)
{
    p->input1_offset = -t->a.zero_point;
    p->input2_offset = -t->b.zero_point;
    p->output_offset = t->out.zero_point;
    p->left_shift = left_shift;
    /* TFLM, in double (ADD) or float32 (SUB): twice_max = 2 * max(s1, s2); s1 / twice_max,
     * s2 / twice_max, twice_max / (2^left_shift * s_out). Scaling by powers of two is exact. */
    const uint32_t b1 = t->a.scales[0], b2 = t->b.scales[0];
    const mcu_real s1 = mcu_real_from_f32(b1), s2 = mcu_real_from_f32(b2);
    mcu_real twice_max = b1 > b2 ? s1 : s2; /* positive floats order as ints */
    twice_max.e += 1;
    mcu_real out_scale = mcu_real_from_f32(t->out.scales[0]);
    out_scale.e += left_shift;
    mcu_quantize_multiplier(mcu_real_div(s1, twice_max, bits), &p->input1_multiplier,
                            &p->input1_shift);
    mcu_quantize_multiplier(mcu_real_div(s2, twice_max, bits), &p->input2_multiplier,
                            &p->input2_shift);
    mcu_quantize_multiplier(mcu_real_div(twice_max, out_scale, bits), &p->output_multiplier,
                            &p->output_shift);
}

mcu_rt_status mcu_rt_typed(mcu_interpreter *rt, const mcu_node *node, int32_t k, int32_t type,
                           mcu_tensor_info *t)
{
    if (type == TFL_INT8)
        return mcu_rt_check_int8(rt, node, k, t);
    const mcu_rt_status st = k == MCU_RT_OUTPUT ? mcu_rt_output_info(rt, node, t)
                                                : mcu_rt_input_info(rt, node, k, t);
    if (st != MCU_RT_OK || type == MCU_RT_ANY_TYPE || t->type == type)
        return st;
    return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE,
                       k == MCU_RT_OUTPUT ? node->outputs[1] : node->inputs[1 + k]);
}

void mcu_rt_rescale(const mcu_tensor_info *in, const mcu_tensor_info *out, int32_t *multiplier,
                    int32_t *shift)
{
    mcu_quantize_multiplier(mcu_real_div(mcu_real_from_f32(in->scales[0]),
                                         mcu_real_from_f32(out->scales[0]), MCU_REAL_DOUBLE),
                            multiplier, shift);
}

mcu_rt_status mcu_rt_kernel_status(mcu_interpreter *rt, mcu_status st)
{
    return st == MCU_OK ? MCU_RT_OK : mcu_rt_fail(rt, MCU_RT_KERNEL_ERROR, st);
}

mcu_rt_status mcu_rt_const_ints(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                int32_t values[4], int32_t *count)
{
    mcu_tensor_info t;
    const mcu_rt_status st = mcu_rt_input_info(rt, node, k, &t);
    if (st != MCU_RT_OK)
        return st;
    if (!t.data || (t.type != TFL_INT32 && t.type != TFL_INT64))
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[1 + k]);
    if (t.count > 4)
        return MCU_RT_UNSUPPORTED_PARAMS;
    const int32_t words = t.type == TFL_INT64 ? 2 : 1;
    for (int32_t i = 0; i < t.count; ++i) {
        const uint8_t *p = t.data + 4 * words * i; /* little-endian: the low word first */
        const int32_t v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                    (uint32_t)p[3] << 24);
        if (words == 2 && (int32_t)((uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                                    (uint32_t)p[7] << 24) != (v < 0 ? -1 : 0))
            return MCU_RT_UNSUPPORTED_PARAMS; /* beyond int32 */
        values[i] = v;
    }
    *count = t.count;
    return MCU_RT_OK;
}
