/*
 * mcu_add_s8 - optimized flavour (Cortex-M DSP extension).
 * Per element TFLM's three requantizations (each input to the common scale, the sum to the
 * output). When every shift is a right shift of 1..23 and left_shift <= 21 (TFLM's int8 ADD:
 * 20; checked once per call), each is the four-instruction SMMLAR form of mcu_rq2 (the
 * doubling folded into the input's left shift, the output offset into the output's rounding
 * constant): |(x + offset) << left_shift| <= 255 * 2^21 < 2^29 and the sum of two rescaled
 * inputs stays below 2^29, mcu_rq2's range. Otherwise mcu_requantize_fast (any shift).
 * Inputs of the output's shape: four elements per step, the input offsets added to 4 bytes at
 * once by SXTAB16 (plain and ROR #8), the four results packed into one word store.
 * Broadcasting: the same element code over the broadcast strides, the innermost (channel)
 * loop specialized for a stride of 1 or 0 on each side.
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
    int32_t s1, s2, so, oo; /* general form: the shifts and the output offset */
    int32_t lo, hi;
    int fused;
} mcu_add_k;

static inline int32_t mcu_add_rq2(int32_t x2, const mcu_rq2 *q)
{
    return (mcu_smmlar(x2, q->m, q->a) + (x2 >> 31)) >> q->r;
}

/* One element whose input offsets are already added. */
static inline int32_t mcu_add_elem(const mcu_add_k *k, int32_t a, int32_t b)
{
    int32_t y;
    if (k->fused) {
        const int32_t s = mcu_add_rq2((int32_t)((uint32_t)a << k->sh), &k->q1) +
                          mcu_add_rq2((int32_t)((uint32_t)b << k->sh), &k->q2);
        y = mcu_add_rq2(s << 1, &k->qo);
    } else {
        a = mcu_requantize_fast((int32_t)((uint32_t)a << k->sh), k->q1.m, k->s1);
        b = mcu_requantize_fast((int32_t)((uint32_t)b << k->sh), k->q2.m, k->s2);
        y = mcu_requantize_fast(a + b, k->qo.m, k->so) + k->oo;
    }
    return mcu_rq_clamp(y, k->lo, k->hi);
}

static void mcu_add_same(const mcu_add_k *k, const int8_t *x1, const int8_t *x2, int8_t *out,
                         int32_t size, int32_t off1, int32_t off2)
{
    const int32_t o1 = mcu_dup16(off1), o2 = mcu_dup16(off2);
    int32_t i = 0;
    for (; i + 3 < size; i += 4) {
        const int32_t x = mcu_read_s8x4(x1 + i), y = mcu_read_s8x4(x2 + i);
        const int32_t a02 = __sxtab16(o1, x), a13 = mcu_sxtab16_ror8(o1, x);
        const int32_t b02 = __sxtab16(o2, y), b13 = mcu_sxtab16_ror8(o2, y);
        const uint32_t r0 = (uint8_t)mcu_add_elem(k, (int16_t)a02, (int16_t)b02);
        const uint32_t r1 = (uint8_t)mcu_add_elem(k, (int16_t)a13, (int16_t)b13);
        const uint32_t r2 = (uint8_t)mcu_add_elem(k, a02 >> 16, b02 >> 16);
        const uint32_t r3 = (uint8_t)mcu_add_elem(k, a13 >> 16, b13 >> 16);
        const uint32_t w = r0 | (r1 << 8) | (r2 << 16) | (r3 << 24);
        memcpy(out + i, &w, 4);
    }
    for (; i < size; ++i)
        out[i] = (int8_t)mcu_add_elem(k, x1[i] + off1, x2[i] + off2);
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
    k.fused = params->left_shift <= 21 && mcu_rq2_ok(params->input1_shift) &&
              mcu_rq2_ok(params->input2_shift) && mcu_rq2_ok(params->output_shift);
    k.sh = params->left_shift + (k.fused ? 1 : 0);
    k.s1 = params->input1_shift;
    k.s2 = params->input2_shift;
    k.so = params->output_shift;
    k.oo = params->output_offset;
    k.q1.m = params->input1_multiplier;
    k.q2.m = params->input2_multiplier;
    k.qo.m = params->output_multiplier;
    if (k.fused) {
        mcu_rq2_init(&k.q1, params->input1_multiplier, params->input1_shift, 0);
        mcu_rq2_init(&k.q2, params->input2_multiplier, params->input2_shift, 0);
        mcu_rq2_init(&k.qo, params->output_multiplier, params->output_shift,
                     params->output_offset);
    }
    k.lo = params->activation.min;
    k.hi = params->activation.max;
    const int32_t off1 = params->input1_offset, off2 = params->input2_offset;
    if (s1.c == 1 && s2.c == 1 && mcu_same_dims(input1_dims, output_dims) &&
        mcu_same_dims(input2_dims, output_dims)) {
        mcu_add_same(&k, input1, input2, output, mcu_dims_count(output_dims), off1, off2);
        return MCU_OK;
    }
    const int32_t c = output_dims->c;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w, output += c) {
                const int8_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int8_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                if (s1.c && s2.c) {
                    mcu_add_same(&k, a, b, output, c, off1, off2);
                } else if (s1.c) { /* input 2 is one value along the channels */
                    const int32_t y = *b + off2;
                    for (int32_t i = 0; i < c; ++i)
                        output[i] = (int8_t)mcu_add_elem(&k, a[i] + off1, y);
                } else {
                    const int32_t x = *a + off1;
                    for (int32_t i = 0; i < c; ++i)
                        output[i] = (int8_t)mcu_add_elem(&k, x, b[i * s2.c] + off2);
                }
            }
    return MCU_OK;
}
#endif
