/*
 * mcu_nn_rescale.h - internal to the optimized flavour (DSP cores): the element loop of the
 * two-input ops that first move both inputs to one scale as TFLM's ArithmeticParams do
 * (a_i = MBQM((x_i + offset_i) << left_shift, m_i, s_i)) and then combine them: SUB (a_1 - a_2)
 * and SQUARED_DIFFERENCE ((a_1 - a_2)^2), both requantized to the output.
 * When each input's shift is a right shift of 0..23 and left_shift <= 21 (TFLM: 20 for SUB, 7
 * for SQUARED_DIFFERENCE; checked once per call), an input's rescaling is one SMMLAR on the
 * doubled shifted value plus a sign correction and a shift, as in the opt ADD (|x << 22| <
 * 2^30); otherwise mcu_requantize_fast. The output is mcu_rq (one SMLAL and a shift, any
 * accumulator). An input broadcast along the channels is rescaled once per row. Broadcasting
 * by strides as the reference kernels. Results identical to the reference kernels.
 */
#ifndef MCU_NN_RESCALE_H
#define MCU_NN_RESCALE_H

#include "mcu_nn_checks.h"
#include "mcu_nn_dsp.h"

enum { MCU_RESCALE_SUB = 0, MCU_RESCALE_SQDIFF = 1 };

typedef struct {
    int32_t m, shift; /* the input's multiplier and shift */
    int32_t a, neg;   /* fused: rounding constant 2^(r-1) (0 for r = 0), -1 where r >= 1 */
    int32_t r, off;   /* fused: right shift r = -shift; the input offset */
} mcu_rescale_in_k;

typedef struct {
    mcu_rescale_in_k in1, in2;
    mcu_rq qo;
    int32_t sh, oo, lo, hi; /* sh: the left shift (+ 1 when fused: the doubling of SRDHM) */
} mcu_rescale_k;

/* 1 when the fused form applies (then sh is left_shift + 1). */
static inline int mcu_rescale_init(mcu_rescale_k *k, const mcu_add_params *p)
{
    const int fused = p->left_shift <= 21 && p->input1_shift <= 0 && p->input1_shift >= -23 &&
                      p->input2_shift <= 0 && p->input2_shift >= -23;
    const int32_t m[2] = {p->input1_multiplier, p->input2_multiplier};
    const int32_t s[2] = {p->input1_shift, p->input2_shift};
    const int32_t off[2] = {p->input1_offset, p->input2_offset};
    mcu_rescale_in_k *in[2] = {&k->in1, &k->in2};
    for (int i = 0; i < 2; ++i) {
        in[i]->m = m[i];
        in[i]->shift = s[i];
        in[i]->off = off[i];
        in[i]->r = fused ? -s[i] : 0;
        in[i]->a = fused && s[i] ? 1 << (-s[i] - 1) : 0;
        in[i]->neg = fused && s[i] ? -1 : 0;
    }
    mcu_rq_init(&k->qo, p->output_multiplier, p->output_shift);
    k->sh = p->left_shift + (fused ? 1 : 0);
    k->oo = p->output_offset;
    k->lo = p->activation.min;
    k->hi = p->activation.max;
    return fused;
}

static inline __attribute__((always_inline)) int32_t
mcu_rescale_in(int32_t x, const mcu_rescale_in_k *q, int32_t sh, const int fused)
{
    const int32_t v = (int32_t)((uint32_t)(x + q->off) << sh);
    if (fused)
        return (mcu_smmlar(v, q->m, q->a) + ((v >> 31) & q->neg)) >> q->r;
    return mcu_requantize_fast(v, q->m, q->shift);
}

/* The output of the two rescaled inputs. */
static inline __attribute__((always_inline)) int8_t mcu_rescale_out(const mcu_rescale_k *k,
                                                                    int32_t a, int32_t b,
                                                                    const int op)
{
    const int32_t d = a - b;
    return mcu_rq_out(op == MCU_RESCALE_SQDIFF ? d * d : d, &k->qo, k->oo, k->lo, k->hi);
}

/* n outputs along the channels; an input whose stride is 0 is one value for the whole row. */
static inline __attribute__((always_inline)) void
mcu_rescale_row(const mcu_rescale_k *kp, const int8_t *x1, int32_t st1, const int8_t *x2,
                int32_t st2, int8_t *out, int32_t n, const int op, const int fused)
{
    const mcu_rescale_k k = *kp; /* a local copy: the byte stores cannot alias it */
    if (st1 && st2) {
        for (int32_t i = 0; i < n; ++i)
            out[i] = mcu_rescale_out(&k, mcu_rescale_in(x1[i], &k.in1, k.sh, fused),
                                     mcu_rescale_in(x2[i], &k.in2, k.sh, fused), op);
    } else if (st1) {
        const int32_t b = mcu_rescale_in(x2[0], &k.in2, k.sh, fused);
        for (int32_t i = 0; i < n; ++i)
            out[i] = mcu_rescale_out(&k, mcu_rescale_in(x1[i], &k.in1, k.sh, fused), b, op);
    } else if (st2) {
        const int32_t a = mcu_rescale_in(x1[0], &k.in1, k.sh, fused);
        for (int32_t i = 0; i < n; ++i)
            out[i] = mcu_rescale_out(&k, a, mcu_rescale_in(x2[i], &k.in2, k.sh, fused), op);
    } else {
        const int8_t y = mcu_rescale_out(&k, mcu_rescale_in(x1[0], &k.in1, k.sh, fused),
                                         mcu_rescale_in(x2[0], &k.in2, k.sh, fused), op);
        memset(out, y, (size_t)n);
    }
}

static inline __attribute__((always_inline)) void
mcu_rescale_rows(const mcu_rescale_k *k, const mcu_dims *d1, const int8_t *x1,
                 const mcu_dims *d2, const int8_t *x2, const mcu_dims *od, int8_t *out,
                 const mcu_strides *s1, const mcu_strides *s2, const int op, const int fused)
{
    if (mcu_same_dims(d1, od) && mcu_same_dims(d2, od)) {
        mcu_rescale_row(k, x1, 1, x2, 1, out, mcu_dims_count(od), op, fused);
        return;
    }
    const int32_t c = od->c;
    for (int32_t n = 0; n < od->n; ++n)
        for (int32_t h = 0; h < od->h; ++h)
            for (int32_t w = 0; w < od->w; ++w, out += c)
                mcu_rescale_row(k, x1 + n * s1->n + h * s1->h + w * s1->w, s1->c,
                                x2 + n * s2->n + h * s2->h + w * s2->w, s2->c, out, c, op, fused);
}

/* The whole op over broadcast strides (same shapes: one row of every element). */
static inline __attribute__((always_inline)) void
mcu_rescale_run(const mcu_add_params *p, const mcu_dims *d1, const int8_t *x1,
                const mcu_dims *d2, const int8_t *x2, const mcu_dims *od, int8_t *out,
                const mcu_strides *s1, const mcu_strides *s2, const int op)
{
    mcu_rescale_k k;
    if (mcu_rescale_init(&k, p))
        mcu_rescale_rows(&k, d1, x1, d2, x2, od, out, s1, s2, op, 1);
    else
        mcu_rescale_rows(&k, d1, x1, d2, x2, od, out, s1, s2, op, 0);
}

#endif /* MCU_NN_RESCALE_H */
