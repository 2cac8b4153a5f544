/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM, integer as the converter emits it: int8 input/output [B, T, I]
 * (or [T, B, I] time-major), int8 per-tensor weights (inputs 1-8), int32 gate biases (12-15),
 * int8 hidden state (18) and int16 cell state (19) as variable tensors (persistent, reset at
 * start-up by the interpreter). Peepholes, projection and layer normalization are refused
 * (UNSUPPORTED_PARAMS), as TFLM refuses them. Kernel: mcu_lstm_s8, whose gate matmuls are
 * mcu_lstm_gates_s8 (the part the opt flavour optimizes).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

enum { LSTM_INPUTS = 24, LSTM_HIDDEN = 18, LSTM_CELL = 19 };

typedef struct {
    mcu_lstm_params params;
    mcu_lstm_weights weights;
} lstm_data;

/* TFLM's gate multiplier: the two float32 scales multiplied in float32, over 2^-12. */
static void gate_multiplier(const mcu_tensor_info *x, const mcu_tensor_info *w, int32_t *m, int32_t *s)
{
    mcu_real r = mcu_real_round(mcu_real_mul(mcu_real_from_f32(x->scales[0]), mcu_real_from_f32(w->scales[0])),
                                MCU_REAL_FLOAT);
    r.e += 12;
    mcu_quantize_multiplier(r, m, s);
}

/* TFLM's inter-gate multiplier: 2^a * scale / out_scale in double (scale NULL: 2^a alone). */
static void mul_multiplier(int32_t a, const uint32_t *scale, uint32_t out_scale, int32_t *m, int32_t *s)
{
    mcu_real r = scale ? mcu_real_from_f32(*scale) : mcu_real_int(1, 0);
    r.e += a;
    mcu_quantize_multiplier(mcu_real_div(r, mcu_real_from_f32(out_scale), MCU_REAL_DOUBLE), m, s);
}

/* |clip| / 2^p truncated to int16 (TFLM's static_cast of the clamped double); 0: no clip. */
static int32_t quantized_clip(uint32_t clip_bits, int32_t p)
{
    if (!mcu_scale_ok(clip_bits))
        return 0; /* 0, negative or not finite: TFLM clips only when cell_clip > 0 */
    mcu_real r = mcu_real_from_f32(clip_bits);
    r.e -= p;
    if (r.e >= 0)
        return r.e >= 16 || (r.m << r.e) > 32767 ? 32767 : (int32_t)(r.m << r.e);
    if (r.e <= -63)
        return 0;
    const uint64_t v = r.m >> -r.e;
    return v > 32767 ? 32767 : (int32_t)v;
}

static mcu_rt_status lstm_prepare(mcu_interpreter *rt, mcu_node *node)
{
    lstm_data *d = (lstm_data *)node->user_data;
    mcu_lstm_params *p = &d->params;
    mcu_tensor_info in, out, hidden, cell, w;
    mcu_rt_status st;
    if (node->inputs[0] != LSTM_INPUTS)
        return MCU_RT_CORRUPT_MODEL;
    static const int8_t absent[] = {9, 10, 11, 16, 17, 20, 21, 22, 23};
    for (uint32_t k = 0; k < sizeof absent; ++k)
        if (mcu_rt_in_index(node, absent[k]) >= 0)
            return MCU_RT_UNSUPPORTED_PARAMS;
    if (mcu_rt_option_u8(rt, node, TFL_LSTM_ACTIVATION, TFL_ACT_NONE) != TFL_ACT_TANH ||
        mcu_rt_option_u8(rt, node, TFL_LSTM_DIAGONAL_RECURRENT, 0) != 0)
        return MCU_RT_UNSUPPORTED_PARAMS;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) || (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) ||
        (st = mcu_rt_check_int8(rt, node, LSTM_HIDDEN, &hidden)) ||
        (st = mcu_rt_input_info(rt, node, LSTM_CELL, &cell)))
        return st;
    if (!hidden.is_variable || !cell.is_variable || cell.type != TFL_INT16 || cell.n_scales != 1 ||
        !mcu_scale_ok(cell.scales[0]) || (cell.scales[0] & 0x7FFFFFu) || cell.zero_point != 0)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->inputs[1 + LSTM_CELL]);
    if (in.rank != 3 || out.rank != 3 || out.dims[0] != in.dims[0] || out.dims[1] != in.dims[1])
        return MCU_RT_CORRUPT_MODEL;
    p->time_major = mcu_rt_option_u8(rt, node, TFL_LSTM_TIME_MAJOR, 0) != 0;
    p->batches = in.dims[p->time_major ? 1 : 0];
    p->steps = in.dims[p->time_major ? 0 : 1];
    p->input_size = in.dims[2];
    p->state_size = out.dims[2];
    const int32_t n = p->state_size;
    if (hidden.count != p->batches * n || cell.count != p->batches * n)
        return MCU_RT_CORRUPT_MODEL;
    p->input_offset = -in.zero_point;
    p->hidden_zero_point = hidden.zero_point;
    for (int32_t k = 0; k < MCU_LSTM_GATES; ++k) {
        if ((st = mcu_rt_check_weights(rt, node, 1 + k, &w)))
            return st;
        if (w.n_scales != 1 || w.zero_point != 0 || w.rank != 2 || w.dims[0] != n || w.dims[1] != p->input_size)
            return MCU_RT_UNSUPPORTED_PARAMS;
        d->weights.input[k] = (const int8_t *)w.data;
        gate_multiplier(&in, &w, &p->input_multiplier[k], &p->input_shift[k]);
        if ((st = mcu_rt_check_weights(rt, node, 5 + k, &w)))
            return st;
        if (w.n_scales != 1 || w.zero_point != 0 || w.rank != 2 || w.dims[0] != n || w.dims[1] != n)
            return MCU_RT_UNSUPPORTED_PARAMS;
        d->weights.recurrent[k] = (const int8_t *)w.data;
        gate_multiplier(&hidden, &w, &p->recurrent_multiplier[k], &p->recurrent_shift[k]);
        if ((st = mcu_rt_bias(rt, node, 12 + k, n, &d->weights.bias[k])))
            return st;
    }
    /* The cell scale is 2^cell_scale_power (checked: no mantissa bits). */
    p->cell_scale_power = (int32_t)((cell.scales[0] >> 23) & 0xFFu) - 127;
    mul_multiplier(-15, &cell.scales[0], cell.scales[0], &p->forget_multiplier, &p->forget_shift);
    mul_multiplier(-30, 0, cell.scales[0], &p->update_multiplier, &p->update_shift);
    mul_multiplier(-30, 0, hidden.scales[0], &p->hidden_multiplier, &p->hidden_shift);
    p->cell_clip = quantized_clip((uint32_t)mcu_rt_option_i32(rt, node, TFL_LSTM_CELL_CLIP, 0),
                                  p->cell_scale_power);
    node->scratch_bytes = mcu_lstm_s8_get_buffer_size(p);
    return MCU_RT_OK;
}

static mcu_rt_status lstm_eval(mcu_interpreter *rt, mcu_node *node)
{
    lstm_data *d = (lstm_data *)node->user_data;
    const mcu_context ctx = {node->scratch, node->scratch_bytes};
    return mcu_rt_kernel_status(
        rt, mcu_lstm_s8(&ctx, &d->params, &d->weights, (const int8_t *)MCU_RT_IN(rt, node, 0),
                        (int8_t *)MCU_RT_IN(rt, node, LSTM_HIDDEN),
                        (int16_t *)MCU_RT_IN(rt, node, LSTM_CELL), (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_unidirectional_sequence_lstm = {
    TFL_OP_UNIDIRECTIONAL_SEQUENCE_LSTM, 0, sizeof(lstm_data), lstm_prepare, lstm_eval};
