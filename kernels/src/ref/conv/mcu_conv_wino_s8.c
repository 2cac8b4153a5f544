/*
 * mcu_conv_wino_s8 - reference flavour (portable C): CONV_2D 3x3 / stride 1 by Winograd
 * F(2x2, 3x3), the contract in mcu_nn.h. Per 2x2 output tile: the 4x4 input window of every
 * channel is transformed (V = B^T d B, additions only), multiplied element by element with the
 * transformed filter and summed over channels (16 products per channel), and the 4x4 sum is
 * transformed back (Y = A^T M A, additions only). With
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G' = [2 0 0; 1 1 1; 1 -1 1; 0 0 2],
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * Y = 4 x (the direct convolution's accumulator) exactly; sums are kept in uint32 so the
 * intermediate values wrap like the hardware does without undefined behaviour.
 * Scratch: the transformed window of one tile, 16 x C' int32 ([position][channel]).
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

#define MCU_WINO_MAX_C 1024

static int mcu_wino_supported(const mcu_dims *f)
{
    return f->h == 3 && f->w == 3 && f->n >= 1 && f->c >= 1 && f->c <= MCU_WINO_MAX_C;
}

static inline int32_t mcu_wino_cp(int32_t c)
{
    return (c + 3) & ~3;
}

int32_t mcu_conv_wino_s8_filter_size(const mcu_dims *filter_dims)
{
    if (!filter_dims || !mcu_wino_supported(filter_dims))
        return 0;
    return 16 * ((filter_dims->n + 1) & ~1) * mcu_wino_cp(filter_dims->c) * 2;
}

/* Index (in int16 units) of transform position e of output channel o, input channel c. */
static inline int32_t mcu_wino_index(int32_t o, int32_t c, int32_t e, int32_t nq)
{
    const int32_t q = 2 * (c >> 2) + (c & 1), lane = (c >> 1) & 1;
    return ((((o >> 1) * 16 + e) * nq + q) * 2 + (o & 1)) * 2 + lane;
}

mcu_status mcu_conv_wino_s8_transform(const mcu_dims *filter_dims, const int8_t *filter,
                                      int16_t *transformed)
{
    if (!filter_dims || !filter || !transformed)
        return MCU_ERR_ARG;
    if (!mcu_wino_supported(filter_dims))
        return MCU_ERR_UNSUPPORTED;
    const int32_t out_c = filter_dims->n, in_c = filter_dims->c;
    const int32_t nq = mcu_wino_cp(in_c) / 2;
    const int32_t n16 = mcu_conv_wino_s8_filter_size(filter_dims) / 2;
    for (int32_t i = 0; i < n16; ++i)
        transformed[i] = 0;
    for (int32_t o = 0; o < out_c; ++o) {
        for (int32_t c = 0; c < in_c; ++c) {
            int32_t g[3][3], t[4][3];
            for (int32_t ky = 0; ky < 3; ++ky)
                for (int32_t kx = 0; kx < 3; ++kx)
                    g[ky][kx] = filter[((o * 3 + ky) * 3 + kx) * in_c + c];
            for (int32_t k = 0; k < 3; ++k) { /* G' g */
                t[0][k] = 2 * g[0][k];
                t[1][k] = g[0][k] + g[1][k] + g[2][k];
                t[2][k] = g[0][k] - g[1][k] + g[2][k];
                t[3][k] = 2 * g[2][k];
            }
            for (int32_t i = 0; i < 4; ++i) { /* (G' g) G'^T */
                const int32_t u[4] = {2 * t[i][0], t[i][0] + t[i][1] + t[i][2],
                                      t[i][0] - t[i][1] + t[i][2], 2 * t[i][2]};
                for (int32_t j = 0; j < 4; ++j)
                    transformed[mcu_wino_index(o, c, 4 * i + j, nq)] = (int16_t)u[j];
            }
        }
    }
    return MCU_OK;
}

/* Arguments shared by both flavours; MCU_OK or the status to return. */
static mcu_status mcu_wino_check(const mcu_context *ctx, const mcu_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int16_t *transformed, const mcu_dims *output_dims,
                                 const int8_t *output, int32_t need)
{
    const mcu_status st = mcu_check_conv(params, quant, input_dims, input, filter_dims,
                                         (const int8_t *)transformed, output_dims, output);
    if (st != MCU_OK)
        return st;
    if (!mcu_wino_supported(filter_dims) || filter_dims->c != input_dims->c ||
        params->stride.h != 1 || params->stride.w != 1 || params->dilation.h != 1 ||
        params->dilation.w != 1)
        return MCU_ERR_UNSUPPORTED;
    if ((uintptr_t)transformed & 3u)
        return MCU_ERR_ARG;
    void *scratch;
    return mcu_scratch(ctx, need, &scratch); /* present, large enough, 4-byte aligned */
}

#ifndef MCU_WINO_OPTIMIZED
int32_t mcu_conv_wino_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims)
{
    (void)input_dims;
    if (!filter_dims || !mcu_wino_supported(filter_dims))
        return 0;
    return 16 * mcu_wino_cp(filter_dims->c) * (int32_t)sizeof(int32_t);
}

mcu_status mcu_conv_wino_s8(const mcu_context *ctx, const mcu_conv_params *params,
                            const mcu_quant_params *quant, const mcu_dims *input_dims,
                            const int8_t *input, const mcu_dims *filter_dims,
                            const int16_t *transformed, const int32_t *bias,
                            const mcu_dims *output_dims, int8_t *output)
{
    const mcu_status st = mcu_wino_check(
        ctx, params, quant, input_dims, input, filter_dims, transformed, output_dims, output,
        filter_dims ? mcu_conv_wino_s8_get_buffer_size(input_dims, filter_dims) : 0);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = filter_dims->n;
    const int32_t cp = mcu_wino_cp(in_c), nq = cp / 2;
    const int32_t in_off = params->input_offset;
    int32_t *v = (int32_t *)ctx->buf; /* v[e * cp + c]; the padding channels stay 0 */
    for (int32_t i = 0; i < 16 * cp; ++i)
        v[i] = 0;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        int8_t *out_b = output + b * out_h * out_w * out_c;
        for (int32_t oy = 0; oy < out_h; oy += 2) {
            for (int32_t ox = 0; ox < out_w; ox += 2) {
                const int32_t y0 = oy - params->padding.h, x0 = ox - params->padding.w;
                for (int32_t c = 0; c < in_c; ++c) {
                    int32_t d[4][4], t[4][4];
                    for (int32_t r = 0; r < 4; ++r) {
                        for (int32_t k = 0; k < 4; ++k) {
                            const int32_t y = y0 + r, x = x0 + k;
                            d[r][k] = (y < 0 || y >= in_h || x < 0 || x >= in_w)
                                          ? 0
                                          : in_b[(y * in_w + x) * in_c + c] + in_off;
                        }
                    }
                    for (int32_t k = 0; k < 4; ++k) { /* B^T d */
                        t[0][k] = d[0][k] - d[2][k];
                        t[1][k] = d[1][k] + d[2][k];
                        t[2][k] = d[2][k] - d[1][k];
                        t[3][k] = d[1][k] - d[3][k];
                    }
                    for (int32_t r = 0; r < 4; ++r) { /* (B^T d) B */
                        int32_t *vr = v + 4 * r * cp + c;
                        vr[0] = t[r][0] - t[r][2];
                        vr[cp] = t[r][1] + t[r][2];
                        vr[2 * cp] = t[r][2] - t[r][1];
                        vr[3 * cp] = t[r][1] - t[r][3];
                    }
                }
                for (int32_t o = 0; o < out_c; ++o) {
                    uint32_t m[16], s[2][4];
                    for (int32_t e = 0; e < 16; ++e) {
                        /* word q of (o, e) holds channels (c0, c0 + 2), c0 = 4 (q / 2) + q % 2 */
                        const int16_t *u = transformed + mcu_wino_index(o, 0, e, nq);
                        const int32_t *ve = v + e * cp;
                        uint32_t acc = 0;
                        for (int32_t q = 0; q < nq; ++q, u += 4) {
                            const int32_t c0 = 4 * (q >> 1) + (q & 1);
                            acc += (uint32_t)(u[0] * ve[c0]) + (uint32_t)(u[1] * ve[c0 + 2]);
                        }
                        m[e] = acc;
                    }
                    for (int32_t k = 0; k < 4; ++k) { /* A^T M */
                        s[0][k] = m[k] + m[4 + k] + m[8 + k];
                        s[1][k] = m[4 + k] - m[8 + k] - m[12 + k];
                    }
                    for (int32_t i = 0; i < 2 && oy + i < out_h; ++i) { /* (A^T M) A */
                        const uint32_t yy[2] = {s[i][0] + s[i][1] + s[i][2],
                                                s[i][1] - s[i][2] - s[i][3]};
                        for (int32_t j = 0; j < 2 && ox + j < out_w; ++j) {
                            int32_t acc = (int32_t)yy[j] >> 2; /* exact: yy = 4 x accumulator */
                            if (bias)
                                acc += bias[o];
                            acc = mcu_requantize(acc, mcu_quant_mult(quant, o),
                                                 mcu_quant_shift(quant, o));
                            out_b[((oy + i) * out_w + ox + j) * out_c + o] =
                                mcu_clamp_s8_value(acc + params->output_offset,
                                                   params->activation.min,
                                                   params->activation.max);
                        }
                    }
                }
            }
        }
    }
    return MCU_OK;
}
#endif
