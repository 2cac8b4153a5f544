/*
 * mcu_lstm_gates_s8 - reference flavour: the four gate pre-activations of one LSTM step, one
 * output row at a time (contract in mcu_nn.h).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_math.h"

int32_t mcu_lstm_gates_s8_get_buffer_size(const mcu_lstm_params *params)
{
    (void)params;
    return 0;
}

static inline int16_t mcu_sat16(int32_t v)
{
    return (int16_t)MCU_CLAMP(v, -32768, 32767);
}

mcu_status mcu_lstm_gates_s8(const mcu_context *ctx, const mcu_lstm_params *p,
                             const mcu_lstm_weights *w, const int8_t *x, const int8_t *h,
                             int16_t *gates)
{
    (void)ctx;
    if (!p || !w || !x || !h || !gates)
        return MCU_ERR_ARG;
    const int32_t n_in = p->input_size, n_state = p->state_size;
    const int32_t h_off = -p->hidden_zero_point;
    for (int32_t k = 0; k < MCU_LSTM_GATES; ++k) {
        const int8_t *wx = w->input[k], *wh = w->recurrent[k];
        const int32_t *bias = w->bias[k];
        for (int32_t o = 0; o < n_state; ++o, wx += n_in, wh += n_state) {
            int32_t ax = bias ? bias[o] : 0, ah = 0;
            for (int32_t i = 0; i < n_in; ++i)
                ax += wx[i] * (x[i] + p->input_offset);
            for (int32_t j = 0; j < n_state; ++j)
                ah += wh[j] * (h[j] + h_off);
            const int32_t gx = mcu_sat16(mcu_requantize(ax, p->input_multiplier[k], p->input_shift[k]));
            const int32_t gh =
                mcu_sat16(mcu_requantize(ah, p->recurrent_multiplier[k], p->recurrent_shift[k]));
            gates[k * n_state + o] = mcu_sat16(gx + gh);
        }
    }
    return MCU_OK;
}
