/*
 * mcu_batch_matmul_s8 - reference flavour (portable C).
 * TFLM reference_ops::BatchMatMul (int8, int32 accumulator): per output batch, the operands'
 * batches chosen by broadcasting (a batch dimension of 1 is reused), one int32 dot product
 * per (m, n) over K, then per-tensor requantization and the clamp. adj_x / adj_y are read
 * through the element strides; nothing is transposed.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

int32_t mcu_batch_matmul_s8_get_buffer_size(const mcu_batch_matmul_params *params,
                                            const mcu_dims *lhs_dims, const mcu_dims *rhs_dims)
{
    (void)params;
    (void)lhs_dims;
    (void)rhs_dims;
    return 0;
}

mcu_status mcu_batch_matmul_s8(const mcu_context *ctx, const mcu_batch_matmul_params *params,
                               const mcu_quant_params *quant, const mcu_dims *lhs_dims,
                               const int8_t *lhs, const mcu_dims *rhs_dims, const int8_t *rhs,
                               const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_batch_matmul(params, quant, lhs_dims, lhs, rhs_dims, rhs,
                                                 output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t m_n = output_dims->w, n_n = output_dims->c;
    const int32_t k_n = params->adj_x ? lhs_dims->w : lhs_dims->c;
    /* element strides of (m, k) in lhs and (k, n) in rhs */
    const int32_t lm = params->adj_x ? 1 : k_n, lk = params->adj_x ? m_n : 1;
    const int32_t rk = params->adj_y ? 1 : n_n, rn = params->adj_y ? k_n : 1;
    const int32_t l_size = m_n * k_n, r_size = k_n * n_n;
    const int32_t mult = quant->multiplier[0], shift = quant->shift[0];
    for (int32_t b0 = 0; b0 < output_dims->n; ++b0) {
        for (int32_t b1 = 0; b1 < output_dims->h; ++b1) {
            const int32_t lb = (lhs_dims->n == 1 ? 0 : b0) * lhs_dims->h + (lhs_dims->h == 1 ? 0 : b1);
            const int32_t rb = (rhs_dims->n == 1 ? 0 : b0) * rhs_dims->h + (rhs_dims->h == 1 ? 0 : b1);
            const int8_t *l = lhs + lb * l_size, *r = rhs + rb * r_size;
            for (int32_t m = 0; m < m_n; ++m) {
                for (int32_t n = 0; n < n_n; ++n) {
                    int32_t acc = 0;
                    for (int32_t k = 0; k < k_n; ++k)
                        acc += (l[m * lm + k * lk] + params->lhs_offset) *
                               (r[k * rk + n * rn] + params->rhs_offset);
                    acc = mcu_requantize(acc, mult, shift);
                    *output++ = mcu_clamp_s8_value(acc + params->output_offset,
                                                   params->activation.min,
                                                   params->activation.max);
                }
            }
        }
    }
    return MCU_OK;
}
