/*
 * mcu_batch_matmul_s8 - optimized flavour (Cortex-M DSP extension).
 * Per output batch, the rhs is laid out once as N rows of K int8 (transposed when stored
 * [K][N], i.e. without adj_y), each padded with zeros to K4 = K rounded up to 4, in the
 * scratch, and kept while broadcasting reuses the same rhs batch. Per lhs row (read through
 * its strides, so adj_x needs no copy), the K values are widened to int16 with lhs_offset
 * added, in the order SMLAD against SXTB16-extended weights wants (x0, x2, x1, x3 per group of
 * 4, zeros past K); rhs_offset is folded in as rhs_offset * sum(lhs + lhs_offset). Then two rhs
 * rows per pass share each pair of column loads: per 4 values two column words, two rhs words,
 * four SXTB16 and four SMLAD. Requantization per value (mcu_requantize_fast, per tensor).
 * Scratch: N * K4 bytes of rhs rows and 2 * K4 of column.
 * Without the DSP extension (Cortex-M0+/M3) this file is the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/matmul/mcu_batch_matmul_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

int32_t mcu_batch_matmul_s8_get_buffer_size(const mcu_batch_matmul_params *params,
                                            const mcu_dims *lhs_dims, const mcu_dims *rhs_dims)
{
    if (!params || !mcu_dims_valid(lhs_dims) || !mcu_dims_valid(rhs_dims))
        return 0;
    const int32_t k4 = ((params->adj_x ? lhs_dims->w : lhs_dims->c) + 3) & ~3;
    const int32_t n = params->adj_y ? rhs_dims->w : rhs_dims->c;
    return n * k4 + 2 * k4;
}

/* Two rows w0, w1 of k4 (a multiple of 4) int8 against the column x. */
static inline void mcu_bmm_dot2(const int8_t *w0, const int8_t *w1, const int16_t *x, int32_t k4,
                                int32_t *s0, int32_t *s1)
{
    int32_t a0 = *s0, a1 = *s1;
    for (int32_t k = k4 >> 2; k > 0; --k) {
        const int32_t x02 = mcu_read_s16x2(x), x13 = mcu_read_s16x2(x + 2);
        const int32_t a = mcu_read_s8x4(w0), b = mcu_read_s8x4(w1);
        x += 4;
        w0 += 4;
        w1 += 4;
        a0 = __smlad(__sxtb16(a), x02, a0);
        a0 = __smlad(mcu_sxtb16_ror8(a), x13, a0);
        a1 = __smlad(__sxtb16(b), x02, a1);
        a1 = __smlad(mcu_sxtb16_ror8(b), x13, a1);
    }
    *s0 = a0;
    *s1 = a1;
}

mcu_status mcu_batch_matmul_s8(const mcu_context *ctx, const mcu_batch_matmul_params *params,
                               const mcu_quant_params *quant, const mcu_dims *lhs_dims,
                               const int8_t *lhs, const mcu_dims *rhs_dims, const int8_t *rhs,
                               const mcu_dims *output_dims, int8_t *output)
{
    mcu_status st = mcu_check_batch_matmul(params, quant, lhs_dims, lhs, rhs_dims, rhs,
                                           output_dims, output);
    if (st != MCU_OK)
        return st;
    void *scratch;
    st = mcu_scratch(ctx, mcu_batch_matmul_s8_get_buffer_size(params, lhs_dims, rhs_dims),
                     &scratch);
    if (st != MCU_OK)
        return st;
    const int32_t m_n = output_dims->w, n_n = output_dims->c;
    const int32_t k_n = params->adj_x ? lhs_dims->w : lhs_dims->c, k4 = (k_n + 3) & ~3;
    int8_t *rows = (int8_t *)scratch;
    int16_t *col = (int16_t *)(rows + n_n * k4);
    const int32_t lm = params->adj_x ? 1 : k_n, lk = params->adj_x ? m_n : 1;
    const int32_t l_size = m_n * k_n, r_size = k_n * n_n;
    const int32_t mult = quant->multiplier[0], shift = quant->shift[0];
    const int32_t l_off = params->lhs_offset, r_off = params->rhs_offset;
    const int32_t out_off = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t off2 = mcu_dup16(l_off);
    const int words = !params->adj_x && (k_n & 3) == 0;
    for (int32_t t = k_n; t < k4; ++t)
        col[t] = 0;
    int32_t last_r = -1;
    for (int32_t b0 = 0; b0 < output_dims->n; ++b0) {
        for (int32_t b1 = 0; b1 < output_dims->h; ++b1) {
            const int32_t lb = (lhs_dims->n == 1 ? 0 : b0) * lhs_dims->h + (lhs_dims->h == 1 ? 0 : b1);
            const int32_t rb = (rhs_dims->n == 1 ? 0 : b0) * rhs_dims->h + (rhs_dims->h == 1 ? 0 : b1);
            if (rb != last_r) { /* rhs rows [N][K4] */
                const int8_t *r = rhs + rb * r_size;
                const int32_t rk = params->adj_y ? 1 : n_n, rn = params->adj_y ? k_n : 1;
                for (int32_t n = 0; n < n_n; ++n) {
                    int8_t *row = rows + n * k4;
                    const int8_t *src = r + n * rn;
                    for (int32_t k = 0; k < k_n; ++k, src += rk)
                        row[k] = *src;
                    for (int32_t k = k_n; k < k4; ++k)
                        row[k] = 0;
                }
                last_r = rb;
            }
            const int8_t *l = lhs + lb * l_size;
            for (int32_t m = 0; m < m_n; ++m, output += n_n) {
                const int8_t *src = l + m * lm;
                int32_t sum = 0;
                if (words) {
                    mcu_s8_to_s16_reordered(src, col, k_n, off2, 4);
                    if (r_off)
                        for (int32_t k = 0; k < k_n; ++k)
                            sum += src[k];
                    sum += k_n * l_off;
                } else {
                    for (int32_t k = 0; k < k_n; ++k, src += lk) {
                        const int32_t v = *src + l_off;
                        col[(k & ~3) | ((k & 1) << 1) | ((k >> 1) & 1)] = (int16_t)v;
                        sum += v;
                    }
                }
                const int32_t fold = r_off * sum;
                int32_t n = 0;
                for (; n + 1 < n_n; n += 2) {
                    int32_t s0 = fold, s1 = fold;
                    mcu_bmm_dot2(rows + n * k4, rows + (n + 1) * k4, col, k4, &s0, &s1);
                    output[n] = mcu_output_s8(s0, mult, shift, out_off, lo, hi);
                    output[n + 1] = mcu_output_s8(s1, mult, shift, out_off, lo, hi);
                }
                if (n < n_n) {
                    int32_t s0 = fold, s1 = fold;
                    mcu_bmm_dot2(rows + n * k4, rows + n * k4, col, k4, &s0, &s1);
                    output[n] = mcu_output_s8(s0, mult, shift, out_off, lo, hi);
                }
            }
        }
    }
    return MCU_OK;
}
#endif
