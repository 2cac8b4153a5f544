/*
 * mcu_nn_checks.h - argument validation shared by both flavours, so the reference and the
 * optimized kernel of an op reject exactly the same calls (contracts in mcu_nn.h).
 */
#ifndef MCU_NN_CHECKS_H
#define MCU_NN_CHECKS_H

#include "mcu_nn_math.h"

static inline int mcu_quant_valid(const mcu_quant_params *q)
{
    return q && q->multiplier && q->shift;
}

/* FULLY_CONNECTED's arguments (mcu_fully_connected_s8, _s16, _wino_s8). Built with
 * MCU_NN_FC_CHECKED_ON_HOST (the classic path: its generator refuses, before emitting the
 * call, every argument set this function rejects, through the Python mirror
 * mcusim.operators.fully_connected.fc_kernel_args_problem; a test runs both on the same sets)
 * the check is left out: on the small layers of the models it was up to a fifth of the call. */
static inline mcu_status mcu_check_fc(const mcu_fc_params *p, const mcu_quant_params *q,
                                      const mcu_dims *in_d, const int8_t *in,
                                      const mcu_dims *f_d, const int8_t *f,
                                      const mcu_dims *out_d, const int8_t *out)
{
#ifdef MCU_NN_FC_CHECKED_ON_HOST
    (void)p, (void)q, (void)in_d, (void)in, (void)f_d, (void)f, (void)out_d, (void)out;
    return MCU_OK;
#endif
    if (!p || !mcu_quant_valid(q) || !in || !f || !out)
        return MCU_ERR_ARG;
    /* each shape's products right after its own checks (few values live at once: the
     * small layers' fixed cost) */
    if (!mcu_dims_valid(in_d))
        return MCU_ERR_ARG;
    const int32_t depth = in_d->h * in_d->w * in_d->c;
    if (depth > 65535 || !mcu_dims_valid(f_d) || f_d->c * f_d->h * f_d->w != depth)
        return MCU_ERR_ARG;
    if (!mcu_dims_valid(out_d) || out_d->c != f_d->n || out_d->n * out_d->h * out_d->w != in_d->n)
        return MCU_ERR_ARG;
    return mcu_range_valid(&p->activation) ? MCU_OK : MCU_ERR_ARG;
}

static inline int mcu_window_valid(const mcu_hw *stride, const mcu_hw *pad, const mcu_hw *dil)
{
    return stride->h >= 1 && stride->w >= 1 && pad->h >= 0 && pad->w >= 0 && dil->h >= 1 &&
           dil->w >= 1;
}

static inline mcu_status mcu_check_conv(const mcu_conv_params *p, const mcu_quant_params *q,
                                        const mcu_dims *in_d, const int8_t *in,
                                        const mcu_dims *f_d, const int8_t *f,
                                        const mcu_dims *out_d, const int8_t *out)
{
    if (!p || !mcu_quant_valid(q) || !in || !f || !out)
        return MCU_ERR_ARG;
    if (!mcu_dims_valid(in_d) || !mcu_dims_valid(f_d) || !mcu_dims_valid(out_d))
        return MCU_ERR_ARG;
    if (!mcu_window_valid(&p->stride, &p->padding, &p->dilation) ||
        !mcu_range_valid(&p->activation))
        return MCU_ERR_ARG;
    if (out_d->n != in_d->n || out_d->c != f_d->n)
        return MCU_ERR_ARG;
    if (in_d->c % f_d->c != 0 || f_d->n % (in_d->c / f_d->c) != 0)
        return MCU_ERR_ARG; /* groups must divide both channel counts */
    if (f_d->h * f_d->w * f_d->c > 65535)
        return MCU_ERR_ARG;
    return MCU_OK;
}

static inline mcu_status mcu_check_dw(const mcu_dw_conv_params *p, const mcu_quant_params *q,
                                      const mcu_dims *in_d, const int8_t *in,
                                      const mcu_dims *f_d, const int8_t *f,
                                      const mcu_dims *out_d, const int8_t *out)
{
    if (!p || !mcu_quant_valid(q) || !in || !f || !out)
        return MCU_ERR_ARG;
    if (!mcu_dims_valid(in_d) || !mcu_dims_valid(f_d) || !mcu_dims_valid(out_d))
        return MCU_ERR_ARG;
    if (!mcu_window_valid(&p->stride, &p->padding, &p->dilation) ||
        !mcu_range_valid(&p->activation) || p->ch_mult < 1)
        return MCU_ERR_ARG;
    if (f_d->n != 1 || f_d->c != in_d->c * p->ch_mult || out_d->c != f_d->c ||
        out_d->n != in_d->n)
        return MCU_ERR_ARG;
    return MCU_OK;
}

static inline mcu_status mcu_check_pool(const mcu_pool_params *p, const mcu_dims *in_d,
                                        const int8_t *in, const mcu_dims *out_d,
                                        const int8_t *out)
{
    if (!p || !in || !out || !mcu_dims_valid(in_d) || !mcu_dims_valid(out_d))
        return MCU_ERR_ARG;
    if (p->stride.h < 1 || p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        p->filter.h < 1 || p->filter.w < 1 || !mcu_range_valid(&p->activation))
        return MCU_ERR_ARG;
    if (out_d->n != in_d->n || out_d->c != in_d->c)
        return MCU_ERR_ARG;
    return MCU_OK;
}

static inline mcu_status mcu_check_transpose_conv(const mcu_transpose_conv_params *p,
                                                  const mcu_quant_params *q,
                                                  const mcu_dims *in_d, const int8_t *in,
                                                  const mcu_dims *f_d, const int8_t *f,
                                                  const mcu_dims *out_d, const int8_t *out)
{
    if (!p || !mcu_quant_valid(q) || !in || !f || !out)
        return MCU_ERR_ARG;
    if (!mcu_dims_valid(in_d) || !mcu_dims_valid(f_d) || !mcu_dims_valid(out_d))
        return MCU_ERR_ARG;
    if (p->stride.h < 1 || p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mcu_range_valid(&p->activation))
        return MCU_ERR_ARG;
    if (out_d->n != in_d->n || out_d->c != f_d->n || f_d->c != in_d->c ||
        f_d->h * f_d->w * f_d->c > 65535)
        return MCU_ERR_ARG;
    return MCU_OK;
}

/* Batch matmul operands as stored: (rows, cols) of lhs and rhs give M, K, N; every batch
 * dimension of an operand equals the output's or is 1. */
static inline mcu_status mcu_check_batch_matmul(const mcu_batch_matmul_params *p,
                                                const mcu_quant_params *q,
                                                const mcu_dims *l_d, const int8_t *l,
                                                const mcu_dims *r_d, const int8_t *r,
                                                const mcu_dims *out_d, const int8_t *out)
{
    if (!p || !mcu_quant_valid(q) || !l || !r || !out)
        return MCU_ERR_ARG;
    if (!mcu_dims_valid(l_d) || !mcu_dims_valid(r_d) || !mcu_dims_valid(out_d))
        return MCU_ERR_ARG;
    const int32_t m = p->adj_x ? l_d->c : l_d->w, k = p->adj_x ? l_d->w : l_d->c;
    const int32_t k2 = p->adj_y ? r_d->c : r_d->w, n = p->adj_y ? r_d->w : r_d->c;
    if (k != k2 || k > 65535 || out_d->w != m || out_d->c != n)
        return MCU_ERR_ARG;
    if ((l_d->n != out_d->n && l_d->n != 1) || (r_d->n != out_d->n && r_d->n != 1) ||
        (l_d->h != out_d->h && l_d->h != 1) || (r_d->h != out_d->h && r_d->h != 1))
        return MCU_ERR_ARG;
    return mcu_range_valid(&p->activation) ? MCU_OK : MCU_ERR_ARG;
}

/* ---- 16x8 mode (int16 activations): the same contracts, the clamp an int16 range ---------- */
static inline int mcu_range16_valid(const mcu_range *r)
{
    return r->min >= -32768 && r->max <= 32767 && r->min <= r->max;
}

/* The 16x8 kernels' argument checks: an int16 activation range, then the int8 contract's
 * geometry and quantization checks (given a full int8 range, as their clamp is not int8). */
#define MCU_CHECK16(params_type, params, call)                                                \
    do {                                                                                      \
        if (!(params) || !mcu_range16_valid(&(params)->activation))                           \
            return MCU_ERR_ARG;                                                               \
        params_type p8 = *(params);                                                           \
        p8.activation.min = -128;                                                             \
        p8.activation.max = 127;                                                              \
        return call;                                                                          \
    } while (0)

static inline mcu_status mcu_check_conv_s16(const mcu_conv_params *p, const mcu_quant_params *q,
                                            const mcu_dims *in_d, const int16_t *in,
                                            const mcu_dims *f_d, const int8_t *f,
                                            const mcu_dims *out_d, const int16_t *out)
{
    MCU_CHECK16(mcu_conv_params, p,
                mcu_check_conv(&p8, q, in_d, (const int8_t *)in, f_d, f, out_d,
                               (const int8_t *)out));
}

static inline mcu_status mcu_check_dw_s16(const mcu_dw_conv_params *p, const mcu_quant_params *q,
                                          const mcu_dims *in_d, const int16_t *in,
                                          const mcu_dims *f_d, const int8_t *f,
                                          const mcu_dims *out_d, const int16_t *out)
{
    MCU_CHECK16(mcu_dw_conv_params, p,
                mcu_check_dw(&p8, q, in_d, (const int8_t *)in, f_d, f, out_d,
                             (const int8_t *)out));
}

static inline mcu_status mcu_check_fc_s16(const mcu_fc_params *p, const mcu_quant_params *q,
                                          const mcu_dims *in_d, const int16_t *in,
                                          const mcu_dims *f_d, const int8_t *f,
                                          const mcu_dims *out_d, const int16_t *out)
{
    MCU_CHECK16(mcu_fc_params, p,
                mcu_check_fc(&p8, q, in_d, (const int8_t *)in, f_d, f, out_d,
                             (const int8_t *)out));
}

static inline mcu_status mcu_check_pool_s16(const mcu_pool_params *p, const mcu_dims *in_d,
                                            const int16_t *in, const mcu_dims *out_d,
                                            const int16_t *out)
{
    MCU_CHECK16(mcu_pool_params, p,
                mcu_check_pool(&p8, in_d, (const int8_t *)in, out_d, (const int8_t *)out));
}
#undef MCU_CHECK16

/* Scratch of `need` bytes: NULL when need == 0, else the ctx buffer if it is big enough. */
static inline mcu_status mcu_scratch(const mcu_context *ctx, int32_t need, void **buf)
{
    *buf = 0;
    if (need <= 0)
        return MCU_OK;
    if (!ctx || !ctx->buf || ctx->size < need || ((uintptr_t)ctx->buf & 3u))
        return MCU_ERR_BUFFER;
    *buf = ctx->buf;
    return MCU_OK;
}

/* Broadcast strides (in elements) of an NHWC input against the output shape: a dimension of 1
 * under a larger output dimension gets stride 0. Returns 0 if the shapes do not broadcast. */
typedef struct {
    int32_t n, h, w, c;
} mcu_strides;

static inline int mcu_broadcast_strides(const mcu_dims *in, const mcu_dims *out, mcu_strides *s)
{
    if (!mcu_dims_valid(in) || !mcu_dims_valid(out))
        return 0;
    if ((in->n != out->n && in->n != 1) || (in->h != out->h && in->h != 1) ||
        (in->w != out->w && in->w != 1) || (in->c != out->c && in->c != 1))
        return 0;
    s->c = in->c == 1 ? 0 : 1;
    s->w = in->w == 1 ? 0 : in->c;
    s->h = in->h == 1 ? 0 : in->w * in->c;
    s->n = in->n == 1 ? 0 : in->h * in->w * in->c;
    return 1;
}

static inline int mcu_same_dims(const mcu_dims *a, const mcu_dims *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/* Checks shared by the pointwise (unary) kernels. */
/* MEAN over H and W (mcu_mean_s8/_s16): output 1x1 per channel, at most ``max_count`` values
 * averaged (the int32 sum cannot overflow). */
static inline mcu_status mcu_check_mean(const mcu_mean_params *p, const mcu_dims *in_d,
                                        const void *in, const mcu_dims *out_d, const void *out,
                                        int32_t max_count)
{
    if (!p || !in || !out || !mcu_dims_valid(in_d) || !mcu_dims_valid(out_d))
        return MCU_ERR_ARG;
    if (out_d->n != in_d->n || out_d->h != 1 || out_d->w != 1 || out_d->c != in_d->c)
        return MCU_ERR_ARG;
    return in_d->h * in_d->w <= max_count ? MCU_OK : MCU_ERR_ARG;
}

/* TFLM's MEAN requantization: 1/count folded into (multiplier, shift), both flavours. */
static inline void mcu_mean_fold(int32_t count, int32_t *multiplier, int32_t *shift)
{
    int32_t k = 31 - __builtin_clz((uint32_t)count); /* floor(log2(count)) */
    k = MCU_MIN(k, 32);
    k = MCU_MIN(k, 31 + *shift);
    *multiplier = (int32_t)(((int64_t)*multiplier << k) / count);
    *shift -= k;
}

static inline mcu_status mcu_check_unary(const void *p, const mcu_dims *d, const int8_t *in,
                                         const void *out)
{
    return (p && in && out && mcu_dims_valid(d)) ? MCU_OK : MCU_ERR_ARG;
}

/* SOFTMAX int8: the unary contract and a left shift the exp's input scaling can take. */
static inline mcu_status mcu_check_softmax(const mcu_softmax_params *p, const mcu_dims *d,
                                           const int8_t *in, const int8_t *out)
{
    if (mcu_check_unary(p, d, in, out) != MCU_OK || p->input_left_shift < 0 ||
        p->input_left_shift > 31)
        return MCU_ERR_ARG;
    return MCU_OK;
}

#endif /* MCU_NN_CHECKS_H */
