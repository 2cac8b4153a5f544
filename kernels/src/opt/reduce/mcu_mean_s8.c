/*
 * mcu_mean_s8 - optimized flavour (Cortex-M DSP extension).
 * Sixteen channels per pass over the reduced positions (then eight, then four): per position
 * one word load per four channels, its bytes added into two int16-pair sums by SXTAB16 (plain:
 * channels 0 and 2, ROR #8: 1 and 3); the sixteen-channel loop is one asm block so all eight
 * pair sums stay in registers. int16 lanes hold at most 256 positions (256 * 128 = 2^15);
 * longer reductions are summed in runs of 256 whose lanes are added into int32 sums. Then
 * TFLM's requantization (1/count folded into the multiplier, as in the reference file), in
 * mcu_rq2's SMMLAR form (mcu_nn_dsp.h) when the folded shift is a right shift of 1..23 and
 * |sum - zp_in * count| <= 255 * count <= 2^29, else mcu_requantize_fast: the same results.
 * The last c % 4 channels use the reference kernel's arithmetic.
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/reduce/mcu_mean_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

int32_t mcu_mean_s8_get_buffer_size(const mcu_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

#define MCU_MEAN_RUN 256 /* positions an int16 lane can sum: 256 * (-128) = -2^15 */

typedef struct {
    mcu_rq2 q;             /* fast: the SMMLAR form, output offset in its rounding constant */
    int32_t mult, shift;   /* else mcu_requantize_fast */
    int32_t zin_count, zout, fast;
} mcu_mean_k;

static inline int8_t mcu_mean_out(int32_t sum, const mcu_mean_k *k)
{
    sum -= k->zin_count;
    const int32_t v = k->fast ? mcu_rq2_apply(sum, &k->q)
                              : mcu_requantize_fast(sum, k->mult, k->shift) + k->zout;
    return mcu_clamp_s8_value(v, -128, 127);
}

/* The sums of n channels (a multiple of 4; per four channels in the order 0, 2, 1, 3),
 * requantized into out. */
static void mcu_mean_store(const int32_t *s, int32_t n, const mcu_mean_k *k, int8_t *out)
{
    const int32_t z = k->zin_count;
    if (k->fast) {
        const mcu_rq2 q = k->q;
        for (int32_t j = 0; j < n; j += 4, s += 4, out += 4) {
            const uint32_t v = (uint8_t)__ssat(mcu_rq2_apply(s[0] - z, &q), 8) |
                               (uint32_t)(uint8_t)__ssat(mcu_rq2_apply(s[2] - z, &q), 8) << 8 |
                               (uint32_t)(uint8_t)__ssat(mcu_rq2_apply(s[1] - z, &q), 8) << 16 |
                               (uint32_t)(uint8_t)__ssat(mcu_rq2_apply(s[3] - z, &q), 8) << 24;
            memcpy(out, &v, 4);
        }
        return;
    }
    for (int32_t j = 0; j < n; j += 4) {
        out[j] = mcu_mean_out(s[j], k);
        out[j + 1] = mcu_mean_out(s[j + 2], k);
        out[j + 2] = mcu_mean_out(s[j + 1], k);
        out[j + 3] = mcu_mean_out(s[j + 3], k);
    }
}

/* n <= MCU_MEAN_RUN positions of 4 * words channels (words 1, 2 or 4) from p, positions ch
 * bytes apart: the int16-pair sums of each word's channels (0, 2) and (1, 3) into
 * a[2 * word], a[2 * word + 1]. */
static inline __attribute__((always_inline)) void
mcu_mean_lanes(const int8_t *p, int32_t n, int32_t ch, int32_t *a, const int words)
{
#if MCU_NN_ASM
    if (words == 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0, w0, w1;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[w0], [%[p]]\n\t"
            "ldr %[w1], [%[p], #4]\n\t"
            "sxtab16 %[a0], %[a0], %[w0]\n\t"
            "sxtab16 %[a1], %[a1], %[w0], ror #8\n\t"
            "sxtab16 %[a2], %[a2], %[w1]\n\t"
            "sxtab16 %[a3], %[a3], %[w1], ror #8\n\t"
            "ldr %[w0], [%[p], #8]\n\t"
            "ldr %[w1], [%[p], #12]\n\t"
            "add %[p], %[p], %[ch]\n\t"
            "sxtab16 %[a4], %[a4], %[w0]\n\t"
            "sxtab16 %[a5], %[a5], %[w0], ror #8\n\t"
            "sxtab16 %[a6], %[a6], %[w1]\n\t"
            "sxtab16 %[a7], %[a7], %[w1], ror #8\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
              [a5] "+r"(a5), [a6] "+r"(a6), [a7] "+r"(a7), [w0] "=&r"(w0), [w1] "=&r"(w1),
              [p] "+r"(p), [n] "+r"(n)
            : [ch] "r"(ch)
            : "cc", "memory");
        a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, a[4] = a4, a[5] = a5, a[6] = a6, a[7] = a7;
        return;
    }
#endif
    int32_t l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int32_t i = 0; i < n; ++i, p += ch)
        for (int32_t j = 0; j < words; ++j) {
            const int32_t w = mcu_read_s8x4(p + 4 * j);
            l[2 * j] = __sxtab16(l[2 * j], w);
            l[2 * j + 1] = mcu_sxtab16_ror8(l[2 * j + 1], w);
        }
    for (int32_t j = 0; j < 2 * words; ++j)
        a[j] = l[j];
}

/* Channels c .. c + 4 * words - 1 of one batch: sums, requantized into out. */
static inline __attribute__((always_inline)) void
mcu_mean_block(const int8_t *p, int32_t count, int32_t ch, const mcu_mean_k *k, int8_t *out,
               const int words)
{
    int32_t a[8], s[16];
    int32_t n = MCU_MIN(count, MCU_MEAN_RUN);
    mcu_mean_lanes(p, n, ch, a, words);
    for (int32_t j = 0; j < 2 * words; ++j) {
        s[2 * j] = (int16_t)a[j];
        s[2 * j + 1] = a[j] >> 16;
    }
    for (int32_t i = n; i < count; i += n) {
        n = MCU_MIN(count - i, MCU_MEAN_RUN);
        mcu_mean_lanes(p + i * ch, n, ch, a, words);
        for (int32_t j = 0; j < 2 * words; ++j) {
            s[2 * j] += (int16_t)a[j];
            s[2 * j + 1] += a[j] >> 16;
        }
    }
    mcu_mean_store(s, 4 * words, k, out);
}

mcu_status mcu_mean_s8(const mcu_context *ctx, const mcu_mean_params *params,
                       const mcu_dims *input_dims, const int8_t *input,
                       const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (mcu_check_mean(params, input_dims, input, output_dims, output, 1 << 23) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t count = input_dims->h * input_dims->w, ch = input_dims->c;
    mcu_mean_k k;
    k.mult = params->multiplier;
    k.shift = params->shift;
    mcu_mean_fold(count, &k.mult, &k.shift);
    k.zin_count = params->input_zero_point * count;
    k.zout = params->output_zero_point;
    k.fast = mcu_rq2_ok(k.shift) && count <= (MCU_RQ2_MAX_ACC / 255) && k.mult >= 0 &&
             k.zout >= -255 && k.zout <= 255;
    if (k.fast)
        mcu_rq2_init(&k.q, k.mult, k.shift, k.zout);
    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *in_b = input + b * count * ch;
        int8_t *out_b = output + b * ch;
        int32_t c = 0;
        for (; c + 16 <= ch; c += 16)
            mcu_mean_block(in_b + c, count, ch, &k, out_b + c, 4);
        if (c + 8 <= ch) {
            mcu_mean_block(in_b + c, count, ch, &k, out_b + c, 2);
            c += 8;
        }
        if (c + 4 <= ch) {
            mcu_mean_block(in_b + c, count, ch, &k, out_b + c, 1);
            c += 4;
        }
        for (; c < ch; ++c) {
            int32_t sum = 0;
            for (int32_t i = 0; i < count; ++i)
                sum += in_b[i * ch + c];
            out_b[c] = mcu_mean_out(sum, &k);
        }
    }
    return MCU_OK;
}
#endif
