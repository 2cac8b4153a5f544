/*
 * mcu_lstm_gates_s8 - optimized flavour (Cortex-M DSP extension). x and h, offsets added, are
 * widened once per step to int16 in SXTB16's (x0, x2), (x1, x3) order (scratch: 2 bytes per
 * value, each vector padded to a multiple of 4 with the remainder kept in plain order); then
 * every gate matrix runs two rows per pass: per 4 values, two input words and two weight
 * words, each weight word sign-extended by SXTB16 (plain and ROR #8) into two SMLADs.
 * Without the DSP extension this file is the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/recurrent/mcu_lstm_gates_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_math.h"
#include "../../common/mcu_nn_dsp.h"

static inline int32_t mcu_lstm_padded(int32_t n)
{
    return (n + 3) & ~3;
}

int32_t mcu_lstm_gates_s8_get_buffer_size(const mcu_lstm_params *params)
{
    return (int32_t)sizeof(int16_t) * (mcu_lstm_padded(params->input_size) + mcu_lstm_padded(params->state_size));
}

/* n int8 plus offset into int16: groups of 4 reordered for SMLAD, the last n % 4 in order. */
static void mcu_lstm_widen(const int8_t *src, int16_t *dst, int32_t n, int32_t offset)
{
    const int32_t n4 = n & ~3;
    mcu_s8_to_s16_reordered(src, dst, n4, mcu_dup16(offset), 4);
    for (int32_t i = n4; i < n; ++i)
        dst[i] = (int16_t)(src[i] + offset);
}

/* Dot products of rows w0 and w1 (n values) with the widened vector v. */
static inline __attribute__((always_inline)) void mcu_lstm_dot2(const int8_t *w0, const int8_t *w1,
                                                                const int16_t *v, int32_t n,
                                                                int32_t *s0, int32_t *s1)
{
    int32_t a0 = *s0, a1 = *s1;
    const int32_t n4 = n & ~3;
    int32_t i = 0;
    for (; i < n4; i += 4) {
        const int32_t v02 = mcu_read_s16x2(v + i), v13 = mcu_read_s16x2(v + i + 2);
        const int32_t p = mcu_read_s8x4(w0 + i), q = mcu_read_s8x4(w1 + i);
        a0 = __smlad(__sxtb16(p), v02, a0);
        a0 = __smlad(mcu_sxtb16_ror8(p), v13, a0);
        a1 = __smlad(__sxtb16(q), v02, a1);
        a1 = __smlad(mcu_sxtb16_ror8(q), v13, a1);
    }
    for (; i < n; ++i) {
        a0 += w0[i] * v[i];
        a1 += w1[i] * v[i];
    }
    *s0 = a0;
    *s1 = a1;
}

static inline int32_t mcu_sat16(int32_t v)
{
    return (int32_t)__ssat(v, 16);
}

mcu_status mcu_lstm_gates_s8(const mcu_context *ctx, const mcu_lstm_params *p,
                             const mcu_lstm_weights *w, const int8_t *x, const int8_t *h,
                             int16_t *gates)
{
    if (!p || !w || !x || !h || !gates)
        return MCU_ERR_ARG;
    if (!ctx || !ctx->buf || ctx->size < mcu_lstm_gates_s8_get_buffer_size(p))
        return MCU_ERR_BUFFER;
    const int32_t n_in = p->input_size, n_state = p->state_size;
    int16_t *xw = (int16_t *)ctx->buf, *hw = xw + mcu_lstm_padded(n_in);
    mcu_lstm_widen(x, xw, n_in, p->input_offset);
    mcu_lstm_widen(h, hw, n_state, -p->hidden_zero_point);
    for (int32_t k = 0; k < MCU_LSTM_GATES; ++k) {
        const int8_t *wx = w->input[k], *wh = w->recurrent[k];
        const int32_t *bias = w->bias[k];
        const int32_t mx = p->input_multiplier[k], sx = p->input_shift[k];
        const int32_t mh = p->recurrent_multiplier[k], sh = p->recurrent_shift[k];
        int16_t *g = gates + k * n_state;
        int32_t o = 0;
        for (; o + 1 < n_state; o += 2, wx += 2 * n_in, wh += 2 * n_state) {
            int32_t x0 = bias ? bias[o] : 0, x1 = bias ? bias[o + 1] : 0, h0 = 0, h1 = 0;
            mcu_lstm_dot2(wx, wx + n_in, xw, n_in, &x0, &x1);
            mcu_lstm_dot2(wh, wh + n_state, hw, n_state, &h0, &h1);
            g[o] = (int16_t)mcu_sat16(mcu_sat16(mcu_requantize_fast(x0, mx, sx)) +
                                      mcu_sat16(mcu_requantize_fast(h0, mh, sh)));
            g[o + 1] = (int16_t)mcu_sat16(mcu_sat16(mcu_requantize_fast(x1, mx, sx)) +
                                          mcu_sat16(mcu_requantize_fast(h1, mh, sh)));
        }
        if (o < n_state) {
            int32_t x0 = bias ? bias[o] : 0, x1 = 0, h0 = 0, h1 = 0;
            mcu_lstm_dot2(wx, wx, xw, n_in, &x0, &x1);
            mcu_lstm_dot2(wh, wh, hw, n_state, &h0, &h1);
            g[o] = (int16_t)mcu_sat16(mcu_sat16(mcu_requantize_fast(x0, mx, sx)) +
                                      mcu_sat16(mcu_requantize_fast(h0, mh, sh)));
        }
    }
    return MCU_OK;
}
#endif
