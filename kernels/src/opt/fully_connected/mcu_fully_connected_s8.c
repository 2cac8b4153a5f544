/*
 * mcu_fully_connected_s8 - optimized flavour (Cortex-M DSP extension).
 * The input row is converted once per batch to int16 with the input offset added, reordered
 * to match SXTB16 (scratch: 2 bytes per input value). Then four output channels per pass
 * (two, then one, for the rest) share each pair of input loads: each 32-bit load of 4 weights
 * is sign-extended by SXTB16 (plain and ROR #8) and fed to two
 * SMLADs. A non-zero filter offset is folded in as filter_offset * sum(x + input_offset).
 * Without the DSP extension (Cortex-M0+/M3) this file is the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/fully_connected/mcu_fully_connected_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

int32_t mcu_fully_connected_s8_get_buffer_size(const mcu_dims *filter_dims)
{
    const int32_t depth = filter_dims->h * filter_dims->w * filter_dims->c;
    return (int32_t)sizeof(int16_t) * ((depth + 3) & ~3);
}

/* Dot products of four weight rows (stride depth) with the converted input, groups of 4. The
 * two input words are loaded once for the four rows. */
__attribute__((noinline, optimize("no-schedule-insns"))) static void mcu_fc_dot4(const int8_t *w, int32_t depth, const int16_t *x, int32_t *acc)
{
    const int32_t d1 = depth, d2 = 2 * depth, d3 = 3 * depth;
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    const int16_t *x_end = x + (depth & ~3);
    while (x < x_end) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        int32_t a = mcu_read_s8x4(w);
        x += 4;
        s0 = __smlad(__sxtb16(a), x02, s0);
        s0 = __smlad(mcu_sxtb16_ror8(a), x13, s0);
        a = mcu_read_s8x4(w + d1);
        s1 = __smlad(__sxtb16(a), x02, s1);
        s1 = __smlad(mcu_sxtb16_ror8(a), x13, s1);
        a = mcu_read_s8x4(w + d2);
        s2 = __smlad(__sxtb16(a), x02, s2);
        s2 = __smlad(mcu_sxtb16_ror8(a), x13, s2);
        a = mcu_read_s8x4(w + d3);
        w += 4;
        s3 = __smlad(__sxtb16(a), x02, s3);
        s3 = __smlad(mcu_sxtb16_ror8(a), x13, s3);
    }
    for (int32_t k = 0; k < (depth & 3); ++k) {
        s0 += w[k] * x[k];
        s1 += w[d1 + k] * x[k];
        s2 += w[d2 + k] * x[k];
        s3 += w[d3 + k] * x[k];
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* Dot products of two weight rows with the converted input; k4 groups of 4, then the tail
 * (plain int16, not reordered). */
__attribute__((noinline)) static void mcu_fc_dot2(const int8_t *w0, const int8_t *w1, const int16_t *x,
                               int32_t depth, int32_t *acc0, int32_t *acc1)
{
    int32_t s0 = *acc0, s1 = *acc1;
    int32_t k = depth >> 2;
    while (k--) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        const int32_t a = mcu_read_s8x4(w0), b = mcu_read_s8x4(w1);
        x += 4;
        w0 += 4;
        w1 += 4;
        s0 = __smlad(__sxtb16(a), x02, s0);
        s1 = __smlad(__sxtb16(b), x02, s1);
        s0 = __smlad(mcu_sxtb16_ror8(a), x13, s0);
        s1 = __smlad(mcu_sxtb16_ror8(b), x13, s1);
    }
    for (k = 0; k < (depth & 3); ++k) {
        s0 += w0[k] * x[k];
        s1 += w1[k] * x[k];
    }
    *acc0 = s0;
    *acc1 = s1;
}

static inline int32_t mcu_fc_dot1(const int8_t *w, const int16_t *x, int32_t depth, int32_t s)
{
    int32_t k = depth >> 2;
    while (k--) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        const int32_t a = mcu_read_s8x4(w);
        x += 4;
        w += 4;
        s = __smlad(__sxtb16(a), x02, s);
        s = __smlad(mcu_sxtb16_ror8(a), x13, s);
    }
    for (k = 0; k < (depth & 3); ++k)
        s += w[k] * x[k];
    return s;
}

mcu_status mcu_fully_connected_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int8_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const mcu_dims *output_dims, int8_t *output)
{
    mcu_status st = mcu_check_fc(params, quant, input_dims, input, filter_dims, filter,
                                 output_dims, output);
    if (st != MCU_OK)
        return st;
    void *scratch;
    st = mcu_scratch(ctx, mcu_fully_connected_s8_get_buffer_size(filter_dims), &scratch);
    if (st != MCU_OK)
        return st;
    int16_t *x16 = (int16_t *)scratch;
    const int32_t depth = input_dims->h * input_dims->w * input_dims->c;
    const int32_t depth4 = depth & ~3, out_ch = filter_dims->n;
    const int32_t off2 = mcu_dup16(params->input_offset);
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t per_ch = quant->per_channel ? 1 : 0, out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
#define MCU_FC_OUT(o, acc) \
    mcu_output_s8((acc), mult[(o) * per_ch], shift[(o) * per_ch], out_off, lo, hi)

    for (int32_t b = 0; b < input_dims->n; ++b, input += depth, output += out_ch) {
        mcu_s8_to_s16_reordered(input, x16, depth4, off2, 4);
        for (int32_t k = depth4; k < depth; ++k)
            x16[k] = (int16_t)(input[k] + params->input_offset);
        int32_t fold = 0; /* filter_offset * sum(x + input_offset) */
        if (params->filter_offset != 0) {
            for (int32_t k = 0; k < depth; ++k)
                fold += x16[k];
            fold *= params->filter_offset;
        }
        const int8_t *w = filter;
        int32_t o = 0;
        for (; o + 3 < out_ch; o += 4, w += 4 * depth) {
            int32_t acc[4];
            for (int32_t i = 0; i < 4; ++i)
                acc[i] = fold + (bias ? bias[o + i] : 0);
            mcu_fc_dot4(w, depth, x16, acc);
            for (int32_t i = 0; i < 4; ++i)
                output[o + i] = MCU_FC_OUT(o + i, acc[i]);
        }
        for (; o + 1 < out_ch; o += 2, w += 2 * depth) {
            int32_t a0 = fold + (bias ? bias[o] : 0);
            int32_t a1 = fold + (bias ? bias[o + 1] : 0);
            mcu_fc_dot2(w, w + depth, x16, depth, &a0, &a1);
            output[o] = MCU_FC_OUT(o, a0);
            output[o + 1] = MCU_FC_OUT(o + 1, a1);
        }
        if (o < out_ch)
            output[o] = MCU_FC_OUT(o, mcu_fc_dot1(w, x16, depth, fold + (bias ? bias[o] : 0)));
    }
#undef MCU_FC_OUT
    return MCU_OK;
}
#endif
