/*
 * mcu_nn_rescale.h - internal to the optimized flavour (DSP cores): the element loop of the
 * two-input ops that first move both inputs to one scale as TFLM's ArithmeticParams do
 * (a_i = MBQM((x_i + offset_i) << left_shift, m_i, s_i)) and then combine them: SUB (a_1 - a_2)
 * and SQUARED_DIFFERENCE ((a_1 - a_2)^2), both requantized to the output.
 * Each MBQM is mcu_nn_dsp.h's mcu_rq (one SMLAL and a shift for a right shift, identical
 * results); an input broadcast along the channels is rescaled once per row instead of per
 * element. Broadcasting by strides as the reference kernels.
 */
#ifndef MCU_NN_RESCALE_H
#define MCU_NN_RESCALE_H

#include "mcu_nn_checks.h"
#include "mcu_nn_dsp.h"

enum { MCU_RESCALE_SUB = 0, MCU_RESCALE_SQDIFF = 1 };

typedef struct {
    mcu_rq q1, q2, qo;
    int32_t off1, off2, sh, oo, lo, hi;
} mcu_rescale_k;

static inline void mcu_rescale_init(mcu_rescale_k *k, const mcu_add_params *p)
{
    mcu_rq_init(&k->q1, p->input1_multiplier, p->input1_shift);
    mcu_rq_init(&k->q2, p->input2_multiplier, p->input2_shift);
    mcu_rq_init(&k->qo, p->output_multiplier, p->output_shift);
    k->off1 = p->input1_offset;
    k->off2 = p->input2_offset;
    k->sh = p->left_shift;
    k->oo = p->output_offset;
    k->lo = p->activation.min;
    k->hi = p->activation.max;
}

static inline __attribute__((always_inline)) int32_t mcu_rescale_in(int32_t x, int32_t off,
                                                                    const mcu_rq *q, int32_t sh)
{
    return mcu_rq_apply((x + off) << sh, q);
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
                int32_t st2, int8_t *out, int32_t n, const int op)
{
    const mcu_rescale_k k = *kp; /* a local copy: the byte stores cannot alias it */
    if (st1 && st2) {
        for (int32_t i = 0; i < n; ++i)
            out[i] = mcu_rescale_out(&k, mcu_rescale_in(x1[i], k.off1, &k.q1, k.sh),
                                     mcu_rescale_in(x2[i], k.off2, &k.q2, k.sh), op);
    } else if (st1) {
        const int32_t b = mcu_rescale_in(x2[0], k.off2, &k.q2, k.sh);
        for (int32_t i = 0; i < n; ++i)
            out[i] = mcu_rescale_out(&k, mcu_rescale_in(x1[i], k.off1, &k.q1, k.sh), b, op);
    } else if (st2) {
        const int32_t a = mcu_rescale_in(x1[0], k.off1, &k.q1, k.sh);
        for (int32_t i = 0; i < n; ++i)
            out[i] = mcu_rescale_out(&k, a, mcu_rescale_in(x2[i], k.off2, &k.q2, k.sh), op);
    } else {
        const int8_t y = mcu_rescale_out(&k, mcu_rescale_in(x1[0], k.off1, &k.q1, k.sh),
                                         mcu_rescale_in(x2[0], k.off2, &k.q2, k.sh), op);
        memset(out, y, (size_t)n);
    }
}

/* The whole op over broadcast strides (same shapes: one row of every element). */
static inline __attribute__((always_inline)) void
mcu_rescale_run(const mcu_rescale_k *k, const mcu_dims *d1, const int8_t *x1, const mcu_dims *d2,
                const int8_t *x2, const mcu_dims *od, int8_t *out, const mcu_strides *s1,
                const mcu_strides *s2, const int op)
{
    if (mcu_same_dims(d1, od) && mcu_same_dims(d2, od)) {
        mcu_rescale_row(k, x1, 1, x2, 1, out, mcu_dims_count(od), op);
        return;
    }
    const int32_t c = od->c;
    for (int32_t n = 0; n < od->n; ++n)
        for (int32_t h = 0; h < od->h; ++h)
            for (int32_t w = 0; w < od->w; ++w, out += c)
                mcu_rescale_row(k, x1 + n * s1->n + h * s1->h + w * s1->w, s1->c,
                                x2 + n * s2->n + h * s2->h + w * s2->w, s2->c, out, c, op);
}

#endif /* MCU_NN_RESCALE_H */
