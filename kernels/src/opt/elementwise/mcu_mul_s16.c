/*
 * mcu_mul_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode (zero points 0): two int16 elements per word, their products by SMULBB and
 * SMULTT, each requantized by one SMLAL (mcu_rq, exact: see mcu_add_s16), one word store.
 * Broadcasting: the same element code over the broadcast strides. No scratch. Cores without
 * the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/elementwise/mcu_mul_s16.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

typedef struct {
    mcu_rq q;
    int32_t oo, lo, hi;
} mcu_mul16_k;

static inline __attribute__((always_inline)) int32_t mcu_mul16_out(const mcu_mul16_k *k, int32_t prod)
{
    return mcu_rq_clamp(mcu_rq_apply(prod, &k->q) + k->oo, k->lo, k->hi);
}

static void mcu_mul16_run(const mcu_mul16_k *kp, const int16_t *x1, const int16_t *x2,
                          int16_t *out, int32_t size)
{
    const mcu_mul16_k k = *kp; /* a local copy: the halfword stores cannot alias it */
    int32_t i = 0;
    for (; i + 1 < size; i += 2) {
        const int32_t x = mcu_read_s16x2(x1 + i), y = mcu_read_s16x2(x2 + i);
        const int32_t lo = mcu_mul16_out(&k, (int16_t)x * (int16_t)y);
        const int32_t hi = mcu_mul16_out(&k, (x >> 16) * (y >> 16));
        mcu_write_s16x2(out + i, (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16)));
    }
    for (; i < size; ++i)
        out[i] = (int16_t)mcu_mul16_out(&k, x1[i] * x2[i]);
}

mcu_status mcu_mul_s16(const mcu_context *ctx, const mcu_mul_params *params,
                       const mcu_dims *input1_dims, const int16_t *input1,
                       const mcu_dims *input2_dims, const int16_t *input2,
                       const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    mcu_strides s1, s2;
    if (!params || !input1 || !input2 || !output ||
        !mcu_broadcast_strides(input1_dims, output_dims, &s1) ||
        !mcu_broadcast_strides(input2_dims, output_dims, &s2) ||
        !mcu_range16_valid(&params->activation) || params->input1_offset != 0 ||
        params->input2_offset != 0)
        return MCU_ERR_ARG;
    mcu_mul16_k k;
    mcu_rq_init(&k.q, params->output_multiplier, params->output_shift);
    k.oo = params->output_offset;
    k.lo = params->activation.min;
    k.hi = params->activation.max;
    if (mcu_same_dims(input1_dims, output_dims) && mcu_same_dims(input2_dims, output_dims)) {
        mcu_mul16_run(&k, input1, input2, output, mcu_dims_count(output_dims));
        return MCU_OK;
    }
    const int32_t c = output_dims->c;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w, output += c) {
                const int16_t *a = input1 + n * s1.n + h * s1.h + w * s1.w;
                const int16_t *b = input2 + n * s2.n + h * s2.h + w * s2.w;
                if (s1.c && s2.c) {
                    mcu_mul16_run(&k, a, b, output, c);
                } else {
                    for (int32_t i = 0; i < c; ++i)
                        output[i] = (int16_t)mcu_mul16_out(&k, a[i * s1.c] * b[i * s2.c]);
                }
            }
    return MCU_OK;
}
#endif
