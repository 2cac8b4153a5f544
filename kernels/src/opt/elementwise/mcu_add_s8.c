/*
 * mcu_add_s8 - optimized flavour (Cortex-M DSP extension).
 * Per element TFLM's three requantizations (each input to the common scale, the sum to the
 * output). When the input shifts are right shifts of 0..23, the output's of 1..23 and
 * left_shift <= 21 (TFLM's int8 ADD: 20; checked once per call), each is the SMMLAR form of
 * mcu_rq2 (the
 * doubling folded into the input's left shift, the output offset into the output's rounding
 * constant): |(x + offset) << left_shift| <= 255 * 2^21 < 2^29 and the sum of two rescaled
 * inputs stays below 2^29, mcu_rq2's range. Otherwise mcu_requantize_fast (any shift).
 * Inputs of the output's shape: four elements per step, the input offsets added to 4 bytes at
 * once by SXTAB16 (plain and ROR #8), the four results packed into one word store.
 * Broadcasting: the same element code over the broadcast strides, the innermost (channel)
 * loop specialized for a stride of 1 or 0 on each side. No scratch.
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/elementwise/mcu_add_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

/* The per-call constants of one element; fused = the SMMLAR form applies. */
typedef struct {
    int32_t sh;             /* left shift of an offset input: left_shift (+ 1 when fused) */
    mcu_rq2 q1, q2, qo;     /* fused: multiplier, rounding constant (+ offset), right shift */
    int32_t neg1, neg2;     /* fused: -1 where the input's right shift is >= 1, else 0 */
    int32_t s1, s2, so, oo; /* general form: the shifts and the output offset */
    int32_t lo, hi;
} mcu_add_k;

/* mcu_rq2_apply on an already doubled x, also for a right shift of 0 (TFLM's input scale
 * 0.5 = multiplier 2^30, shift 0), where the result is SRDHM alone: a = 0, neg = 0. */
static inline __attribute__((always_inline)) int32_t mcu_add_rq2(int32_t x2, const mcu_rq2 *q,
                                                                 int32_t neg)
{
    return (mcu_smmlar(x2, q->m, q->a) + ((x2 >> 31) & neg)) >> q->r;
}

/* One element whose input offsets are already added. */
static inline __attribute__((always_inline)) int32_t
mcu_add_elem(const mcu_add_k *k, int32_t a, int32_t b, const int fused)
{
    int32_t y;
    if (fused) {
        const int32_t s = mcu_add_rq2((int32_t)((uint32_t)a << k->sh), &k->q1, k->neg1) +
                          mcu_add_rq2((int32_t)((uint32_t)b << k->sh), &k->q2, k->neg2);
        y = mcu_add_rq2(s << 1, &k->qo, -1);
    } else {
        a = mcu_requantize_fast((int32_t)((uint32_t)a << k->sh), k->q1.m, k->s1);
        b = mcu_requantize_fast((int32_t)((uint32_t)b << k->sh), k->q2.m, k->s2);
        y = mcu_requantize_fast(a + b, k->qo.m, k->so) + k->oo;
    }
    return mcu_rq_clamp(y, k->lo, k->hi);
}

static inline __attribute__((always_inline)) void
mcu_add_run(const mcu_add_k *kp, const int8_t *x1, const int8_t *x2, int8_t *out, int32_t size,
            int32_t off1, int32_t off2, const int fused)
{
    const mcu_add_k k = *kp; /* a local copy: the byte stores cannot alias it */
    const int32_t o1 = mcu_dup16(off1), o2 = mcu_dup16(off2);
    int32_t i = 0;
    for (; i + 3 < size; i += 4) {
        const int32_t x = mcu_read_s8x4(x1 + i), y = mcu_read_s8x4(x2 + i);
        const int32_t a02 = __sxtab16(o1, x), a13 = mcu_sxtab16_ror8(o1, x);
        const int32_t b02 = __sxtab16(o2, y), b13 = mcu_sxtab16_ror8(o2, y);
        const uint32_t r0 = (uint8_t)mcu_add_elem(&k, (int16_t)a02, (int16_t)b02, fused);
        const uint32_t r1 = (uint8_t)mcu_add_elem(&k, (int16_t)a13, (int16_t)b13, fused);
        const uint32_t r2 = (uint8_t)mcu_add_elem(&k, a02 >> 16, b02 >> 16, fused);
        const uint32_t r3 = (uint8_t)mcu_add_elem(&k, a13 >> 16, b13 >> 16, fused);
        const uint32_t w = r0 | (r1 << 8) | (r2 << 16) | (r3 << 24);
        memcpy(out + i, &w, 4);
    }
    for (; i < size; ++i)
        out[i] = (int8_t)mcu_add_elem(&k, x1[i] + off1, x2[i] + off2, fused);
}

static void mcu_add_same(const mcu_add_k *k, const int8_t *x1, const int8_t *x2, int8_t *out,
                         int32_t size, int32_t off1, int32_t off2, int fused)
{
    if (fused)
        mcu_add_run(k, x1, x2, out, size, off1, off2, 1);
    else
        mcu_add_run(k, x1, x2, out, size, off1, off2, 0);
}

/* Broadcast along the channels: one of the inputs is a single value (its offset added). */
static void mcu_add_scalar(const mcu_add_k *k, const int8_t *x, int32_t off, int32_t y,
                           int first, int8_t *out, int32_t n, int fused)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t v = x[i] + off;
        out[i] = (int8_t)(fused ? mcu_add_elem(k, first ? y : v, first ? v : y, 1)
                                : mcu_add_elem(k, first ? y : v, first ? v : y, 0));
    }
}

mcu_status mcu_add_s8(const mcu_context *ctx, const mcu_add_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!params || !input1 || !input2 || !output ||
        !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2) ||
        !mcu_range_valid(&params->activation) || params->left_shift < 0 ||
        params->left_shift > 22)
        return MCU_ERR_ARG;
    mcu_add_k k;
    const int fused = params->left_shift <= 21 && params->input1_shift <= 0 &&
                      params->input1_shift >= -23 && params->input2_shift <= 0 &&
                      params->input2_shift >= -23 && mcu_rq2_ok(params->output_shift);
    k.sh = params->left_shift + (fused ? 1 : 0);
    k.s1 = params->input1_shift;
    k.s2 = params->input2_shift;
    k.so = params->output_shift;
    k.oo = params->output_offset;
    k.q1.m = params->input1_multiplier;
    k.q2.m = params->input2_multiplier;
    k.qo.m = params->output_multiplier;
    k.neg1 = k.neg2 = 0;
    if (fused) {
        const int32_t *shift[2] = {&params->input1_shift, &params->input2_shift};
        mcu_rq2 *q[2] = {&k.q1, &k.q2};
        int32_t *neg[2] = {&k.neg1, &k.neg2};
        for (int i = 0; i < 2; ++i) {
            q[i]->r = -*shift[i];
            q[i]->a = q[i]->r ? 1 << (q[i]->r - 1) : 0;
            *neg[i] = q[i]->r ? -1 : 0;
        }
        mcu_rq2_init(&k.qo, params->output_multiplier, params->output_shift,
                     params->output_offset);
    }
    k.lo = params->activation.min;
    k.hi = params->activation.max;
    const int32_t off1 = params->input1_offset, off2 = params->input2_offset;
    if (mcu_same_dims(input1_dims, output_dims) && mcu_same_dims(input2_dims, output_dims)) {
        mcu_add_same(&k, input1, input2, output, mcu_dims_count(output_dims), off1, off2, fused);
        return MCU_OK;
    }
    const int32_t c = output_dims->c;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w, output += c) {
                const int8_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int8_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                if (s1.c && s2.c)
                    mcu_add_same(&k, a, b, output, c, off1, off2, fused);
                else if (!s1.c && !s2.c) { /* both one value along the channels */
                    mcu_add_scalar(&k, b, off2, *a + off1, 1, output, 1, fused);
                    memset(output + 1, output[0], (size_t)(c - 1));
                }
                else if (s1.c) /* input 2 is one value along the channels */
                    mcu_add_scalar(&k, a, off1, *b + off2, 0, output, c, fused);
                else
                    mcu_add_scalar(&k, b, off2, *a + off1, 1, output, c, fused);
            }
    return MCU_OK;
}
#endif
