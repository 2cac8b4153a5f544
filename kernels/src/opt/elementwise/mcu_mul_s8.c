/*
 * mcu_mul_s8 - optimized flavour (Cortex-M DSP extension).
 * Per element one product of the offset inputs and TFLM's requantization. When the output
 * shift is a right shift of 1..23 (checked once per call) that is the SMMLAR form of mcu_rq2
 * with the output offset folded into its rounding constant (|product| <= 255^2 is far inside
 * its 2^29 range); otherwise mcu_requantize_fast (any shift).
 * Inputs of the output's shape: four elements per step, SXTAB16 adds the input offsets to 4
 * bytes at once and SMLABB/SMLATT (accumulating into 0) form the products of the pairs of lanes, the four results
 * packed into one word store. Broadcasting: the same element code over the broadcast strides,
 * the innermost (channel) loop specialized for a stride of 1 or 0 on each side.
 * Cores without the DSP extension use the reference kernel. No scratch.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/elementwise/mcu_mul_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

typedef struct {
    mcu_rq2 q; /* fused: multiplier, rounding constant with the output offset, right shift */
    int32_t shift, offset, lo, hi;
} mcu_mul_k;

/* One element from the product of its offset inputs. */
static inline __attribute__((always_inline)) int32_t mcu_mul_elem(const mcu_mul_k *k,
                                                                  int32_t prod, const int fused)
{
    int32_t y;
    if (fused) {
        const int32_t p2 = prod << 1; /* |prod| <= 2^16 */
        y = (mcu_smmlar(p2, k->q.m, k->q.a) + (p2 >> 31)) >> k->q.r;
    } else {
        y = mcu_requantize_fast(prod, k->q.m, k->shift) + k->offset;
    }
    return mcu_rq_clamp(y, k->lo, k->hi);
}

static inline __attribute__((always_inline)) void
mcu_mul_run(const mcu_mul_k *kp, const int8_t *x1, const int8_t *x2, int8_t *out, int32_t size,
            int32_t off1, int32_t off2, const int fused)
{
    const mcu_mul_k k = *kp; /* a local copy: the stores cannot alias it */
    const int32_t o1 = mcu_dup16(off1), o2 = mcu_dup16(off2);
    int32_t i = 0;
    for (; i + 3 < size; i += 4) {
        const int32_t x = mcu_read_s8x4(x1 + i), y = mcu_read_s8x4(x2 + i);
        const int32_t a02 = __sxtab16(o1, x), a13 = mcu_sxtab16_ror8(o1, x);
        const int32_t b02 = __sxtab16(o2, y), b13 = mcu_sxtab16_ror8(o2, y);
        const uint32_t r0 = (uint8_t)mcu_mul_elem(&k, __smlabb(a02, b02, 0), fused);
        const uint32_t r1 = (uint8_t)mcu_mul_elem(&k, __smlabb(a13, b13, 0), fused);
        const uint32_t r2 = (uint8_t)mcu_mul_elem(&k, __smlatt(a02, b02, 0), fused);
        const uint32_t r3 = (uint8_t)mcu_mul_elem(&k, __smlatt(a13, b13, 0), fused);
        const uint32_t w = r0 | (r1 << 8) | (r2 << 16) | (r3 << 24);
        memcpy(out + i, &w, 4);
    }
    for (; i < size; ++i)
        out[i] = (int8_t)mcu_mul_elem(&k, (x1[i] + off1) * (x2[i] + off2), fused);
}

static void mcu_mul_same(const mcu_mul_k *k, const int8_t *x1, const int8_t *x2, int8_t *out,
                         int32_t size, int32_t off1, int32_t off2, int fused)
{
    if (fused)
        mcu_mul_run(k, x1, x2, out, size, off1, off2, 1);
    else
        mcu_mul_run(k, x1, x2, out, size, off1, off2, 0);
}

/* Broadcast along the channels: the other input is one value y (its offset added). */
static void mcu_mul_scalar(const mcu_mul_k *k, const int8_t *x, int32_t off, int32_t y,
                           int8_t *out, int32_t n, int fused)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t prod = (x[i] + off) * y;
        out[i] = (int8_t)(fused ? mcu_mul_elem(k, prod, 1) : mcu_mul_elem(k, prod, 0));
    }
}

mcu_status mcu_mul_s8(const mcu_context *ctx, const mcu_mul_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!params || !input1 || !input2 || !output ||
        !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2) ||
        !mcu_range_valid(&params->activation))
        return MCU_ERR_ARG;
    mcu_mul_k k;
    const int fused = mcu_rq2_ok(params->output_shift);
    k.q.m = params->output_multiplier;
    if (fused)
        mcu_rq2_init(&k.q, params->output_multiplier, params->output_shift,
                     params->output_offset);
    k.shift = params->output_shift;
    k.offset = params->output_offset;
    k.lo = params->activation.min;
    k.hi = params->activation.max;
    const int32_t off1 = params->input1_offset, off2 = params->input2_offset;
    if (mcu_same_dims(input1_dims, output_dims) && mcu_same_dims(input2_dims, output_dims)) {
        mcu_mul_same(&k, input1, input2, output, mcu_dims_count(output_dims), off1, off2, fused);
        return MCU_OK;
    }
    const int32_t c = output_dims->c;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w, output += c) {
                const int8_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int8_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                if (s1.c && s2.c) {
                    mcu_mul_same(&k, a, b, output, c, off1, off2, fused);
                } else if (s1.c) { /* input 2 is one value along the channels */
                    mcu_mul_scalar(&k, a, off1, *b + off2, output, c, fused);
                } else if (s2.c) {
                    mcu_mul_scalar(&k, b, off2, *a + off1, output, c, fused);
                } else { /* both one value along the channels */
                    mcu_mul_scalar(&k, b, off2, *a + off1, output, 1, fused);
                    memset(output + 1, output[0], (size_t)(c - 1));
                }
            }
    return MCU_OK;
}
#endif
