/*
 * mcu_lstm_s8 - UNIDIRECTIONAL_SEQUENCE_LSTM over a whole sequence (contract in mcu_nn.h).
 * The gate matmuls are mcu_lstm_gates_s8 (the flavour's); the element-wise cell and hidden
 * updates are the same in both flavours (S values per step against S * (I + S) * 4 MACs).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_math.h"
#include "../../common/mcu_nn_s16_act.h"

static int32_t mcu_lstm_gate_bytes(const mcu_lstm_params *p)
{
    return (int32_t)sizeof(int16_t) * MCU_LSTM_GATES * p->state_size;
}

int32_t mcu_lstm_s8_get_buffer_size(const mcu_lstm_params *params)
{
    return mcu_lstm_gate_bytes(params) + mcu_lstm_gates_s8_get_buffer_size(params);
}

static int mcu_lstm_params_valid(const mcu_lstm_params *p, const mcu_lstm_weights *w)
{
    if (p->batches < 1 || p->steps < 1 || p->input_size < 1 || p->input_size > 65535 ||
        p->state_size < 1 || p->state_size > 65535 || p->cell_scale_power < -30 ||
        p->cell_scale_power > 3 || p->cell_clip < 0 || p->cell_clip > 32767 ||
        p->input_offset < -127 || p->input_offset > 128 || p->hidden_zero_point < -128 ||
        p->hidden_zero_point > 127)
        return 0;
    for (int32_t k = 0; k < MCU_LSTM_GATES; ++k)
        if (!w->input[k] || !w->recurrent[k])
            return 0;
    return 1;
}

static inline int32_t mcu_sat16(int32_t v)
{
    return MCU_CLAMP(v, -32768, 32767);
}

mcu_status mcu_lstm_s8(const mcu_context *ctx, const mcu_lstm_params *p,
                       const mcu_lstm_weights *w, const int8_t *input, int8_t *hidden_state,
                       int16_t *cell_state, int8_t *output)
{
    if (!p || !w || !input || !hidden_state || !cell_state || !output ||
        !mcu_lstm_params_valid(p, w))
        return MCU_ERR_ARG;
    const int32_t need = mcu_lstm_s8_get_buffer_size(p);
    if (!ctx || !ctx->buf || ctx->size < need)
        return MCU_ERR_BUFFER;
    const int32_t n = p->state_size, gate_bytes = mcu_lstm_gate_bytes(p);
    int16_t *gates = (int16_t *)ctx->buf;
    const mcu_context rest = {(int8_t *)ctx->buf + gate_bytes, ctx->size - gate_bytes};
    int32_t tanh_mult, tanh_shift;
    mcu_tanh_s16_scaling(p->cell_scale_power, &tanh_mult, &tanh_shift);
    const int32_t clip = p->cell_clip ? p->cell_clip : 32768;
    for (int32_t b = 0; b < p->batches; ++b) {
        int8_t *h = hidden_state + b * n;
        int16_t *c = cell_state + b * n;
        for (int32_t t = 0; t < p->steps; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->steps + t;
            const mcu_status st = mcu_lstm_gates_s8(&rest, p, w, input + row * p->input_size, h, gates);
            if (st != MCU_OK)
                return st;
            int8_t *y = output + row * n;
            for (int32_t j = 0; j < n; ++j) {
                const int32_t ig = mcu_sigmoid_q15(gates[j], 3, 0);
                const int32_t fg = mcu_sigmoid_q15(gates[n + j], 3, 0);
                const int32_t gg = mcu_tanh_q15(gates[2 * n + j], 3, 0); /* Q3.12 */
                const int32_t og = mcu_sigmoid_q15(gates[3 * n + j], 3, 0);
                int32_t cv = mcu_sat16(mcu_requantize_fast(fg * c[j], p->forget_multiplier, p->forget_shift)) +
                             mcu_sat16(mcu_requantize_fast(ig * gg, p->update_multiplier, p->update_shift));
                cv = MCU_CLAMP(cv, -clip, clip);
                cv = mcu_sat16(cv);
                c[j] = (int16_t)cv;
                const int32_t th = mcu_tanh_q15(cv, tanh_mult, tanh_shift);
                const int32_t hv = mcu_requantize_fast(th * og, p->hidden_multiplier, p->hidden_shift) +
                                   p->hidden_zero_point;
                h[j] = (int8_t)MCU_CLAMP(hv, -128, 127);
                y[j] = h[j];
            }
        }
    }
    return MCU_OK;
}
