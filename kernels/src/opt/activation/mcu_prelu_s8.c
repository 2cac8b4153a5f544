/*
 * mcu_prelu_s8 - optimized flavour (Cortex-M DSP extension).
 * Four elements per step, as mcu_leaky_relu_s8: x = in + input_offset in two int16 pairs
 * (SXTAB16 plain and ROR #8), the positive branch by SMLAWB/SMLAWT + ASR (mcu_nn_act_dsp.h), the
 * negative one from the products x * (alpha + alpha_offset) (SMULBB/SMULTT of the doubled x
 * pair and the alpha pair) requantized by SMMLAR as mcu_rq2 (mcu_nn_dsp.h: the doubling
 * is the SRDHM's, the rounding constant carries the output offset), the branch picked per lane
 * by SADD16 + SEL, saturated by SSAT16 and packed into one word store. alpha is read four
 * values at a time along the channels, or is one value repeated (broadcast along them).
 * With alpha advancing along the input, alpha_offset 0 (the converter's symmetric alpha) and
 * a positive shift in {-1, 0, 1} the loop is one asm block (mcu_prelu_run_asm). The same
 * results as the reference arithmetic. The form needs a positive shift in [-5, 6] and a
 * negative one in [-22, -2] (|x * alpha| <= 255^2 then requantizes into an int16 lane); the
 * last c % 4 elements of each row use the reference kernel's arithmetic; other multipliers:
 * the call is handed to the reference kernel (mcu_prelu_s8_ref, named in the run's report).
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/activation/mcu_prelu_s8.c"
#else
#include "mcu_nn.h"
/* The reference kernel under another name, for the calls this one hands over; out of line, so
 * the run's report sees it run (deploy.REF_HANDOVERS). */
__attribute__((noinline)) mcu_status
mcu_prelu_s8_ref(const mcu_context *ctx, const mcu_prelu_params *params, const mcu_dims *input_dims,
                 const int8_t *input, const mcu_dims *alpha_dims, const int8_t *alpha,
                 const mcu_dims *output_dims, int8_t *output);
#define mcu_prelu_s8 mcu_prelu_s8_ref
#include "../../ref/activation/mcu_prelu_s8.c"
#undef mcu_prelu_s8
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"
#include "../../common/mcu_nn_act_dsp.h"

static inline int32_t mcu_prelu_one(int32_t x, int32_t al, const mcu_prelu_params *p)
{
    const int32_t y = x >= 0 ? mcu_requantize(x, p->positive_multiplier, p->positive_shift)
                             : mcu_requantize(x * al, p->negative_multiplier, p->negative_shift);
    return mcu_clamp_s8_value(y + p->output_offset, -128, 127);
}

/* The negative branch: requantize(p) + output offset for p = 2 * x * alpha (the SRDHM's
 * doubling already in), |p| <= 2 * 255^2, as mcu_rq2_apply. */
static inline __attribute__((always_inline)) int32_t mcu_prelu_neg(int32_t p2, const mcu_rq2 *q)
{
    return (mcu_smmlar(p2, q->m, q->a) + (p2 >> 31)) >> q->r;
}

typedef struct {
    mcu_smlaw pos; /* the output offset folded in */
    mcu_rq2 neg;   /* the output offset in its rounding constant */
    int32_t in2, al2, zo;
} mcu_prelu_k;

/* One int16 pair of x (x02) and alpha + alpha_offset (a02) through both branches, selected. */
static inline __attribute__((always_inline)) int32_t mcu_prelu_pair(int32_t x02, int32_t a02,
                                                                    const mcu_prelu_k *k)
{
    const int32_t d02 = __sadd16(x02, x02);
    const int32_t n02 = mcu_pkhbt(mcu_prelu_neg((int16_t)d02 * (int16_t)a02, &k->neg),
                                  mcu_prelu_neg((d02 >> 16) * (a02 >> 16), &k->neg));
    return mcu_select16(x02, mcu_smlaw_pair(x02, &k->pos), n02);
}

/* n elements (a multiple of 4) of one row; alpha advances with them (astep 1) or is one
 * value (astep 0, its offset-added pair in al2). azero: alpha_offset is 0 (symmetric alpha,
 * the converter's case), so SXTB16 needs no offset register. */
static inline __attribute__((always_inline)) void
mcu_prelu_run(const mcu_prelu_k *kp, const int8_t *in, const int8_t *alpha, int8_t *out,
              int32_t n, const int astep, const int azero)
{
    const mcu_prelu_k k = *kp; /* a local copy: the byte stores cannot alias it */
    const int8_t *end = in + n;
    for (; in != end; in += 4, out += 4, alpha += 4 * astep) {
        const int32_t w = mcu_read_s8x4(in);
        int32_t a02 = k.al2, a13 = k.al2;
        if (astep) {
            const int32_t aw = mcu_read_s8x4(alpha);
            a02 = azero ? __sxtb16(aw) : __sxtab16(k.al2, aw);
            a13 = azero ? mcu_sxtb16_ror8(aw) : mcu_sxtab16_ror8(k.al2, aw);
        }
        const int32_t y02 = mcu_prelu_pair(__sxtab16(k.in2, w), a02, &k);
        const int32_t y13 = mcu_prelu_pair(mcu_sxtab16_ror8(k.in2, w), a13, &k);
        const uint32_t v = mcu_pack_s8x4(y02, y13);
        memcpy(out, &v, 4);
    }
}

#if MCU_NN_ASM
/* mcu_prelu_run for alpha advancing with the input, alpha_offset 0 and a positive shift
 * ps in {-1, 0, 1}, n >= 4: one asm block over all fourteen allocatable registers (nine
 * constants and pointers, five temporaries). The positive branch runs on x * 2^kp with
 * kp = 1 + l - r = ps + 1 (the lanes doubled kp times by SADD16; |x| * 4 fits), which makes
 * the total shift of mcu_nn_act_dsp.h's form exactly 32 (T + kp = 31 - l + r + kp): SMLAW's
 * 16 and the 16 of PKHTB's ASR #16, which packs the two lanes at the same time. Its
 * constant is then c' = D * 2^kp / 2^16 = 2^(15-r) + [r>=1] * 2^15 + zp * 2^16 (posc).
 * SEL reads the GE flags of the SADD16 that doubled x (x + x >= 0 per lane; nothing in
 * between writes GE). The iteration count rides in the negative shift's register above bit
 * 8 (ASR by register reads bits 7:0 only). */
#define MCU_PRELU_PAIR(ROR, SCALE)                                                       \
    "sxtab16 %[t0], %[in2], %[t0]" ROR "\n\t"                                            \
    "sxtb16 %[t1], %[t1]" ROR "\n\t"                                                     \
    "sadd16 %[t2], %[t0], %[t0]\n\t" SCALE                                               \
    "smlawb %[t4], %[pm], %[t0], %[pc]\n\t"                                              \
    "smlawt %[t0], %[pm], %[t0], %[pc]\n\t"                                              \
    "pkhtb %[t4], %[t0], %[t4], asr #16\n\t"                                             \
    "smulbb %[t0], %[t2], %[t1]\n\t"                                                     \
    "smultt %[t2], %[t2], %[t1]\n\t"                                                     \
    "smmlar %[t1], %[t0], %[nm], %[na]\n\t"                                              \
    "add %[t1], %[t1], %[t0], asr #31\n\t"                                               \
    "asr %[t1], %[t1], %[nr]\n\t"                                                        \
    "smmlar %[t0], %[t2], %[nm], %[na]\n\t"                                              \
    "add %[t0], %[t0], %[t2], asr #31\n\t"                                               \
    "asr %[t0], %[t0], %[nr]\n\t"                                                        \
    "pkhbt %[t1], %[t1], %[t0], lsl #16\n\t"                                             \
    "sel %[t4], %[t4], %[t1]\n\t"                                                        \
    "ssat16 %[t4], #8, %[t4]\n\t"

/* SCALE: the lanes the positive branch reads (t0) from x (t0) and 2x (t2). */
#define MCU_PRELU_LOOP(SCALE)                                                            \
    __asm__ volatile("1:\n\t"                                                            \
                     "ldr %[t0], [%[in]]\n\t"                                            \
                     "ldr %[t1], [%[al]]\n\t"                                            \
                     MCU_PRELU_PAIR("", SCALE)                                           \
                     "mov %[t3], %[t4]\n\t"                                              \
                     "ldr %[t0], [%[in]], #4\n\t"                                        \
                     "ldr %[t1], [%[al]], #4\n\t"                                        \
                     MCU_PRELU_PAIR(", ror #8", SCALE)                                   \
                     "uxtb16 %[t3], %[t3]\n\t"                                           \
                     "uxtb16 %[t4], %[t4]\n\t"                                           \
                     "orr %[t3], %[t3], %[t4], lsl #8\n\t"                               \
                     "str %[t3], [%[out]], #4\n\t"                                       \
                     "subs %[nr], %[nr], #256\n\t"                                       \
                     "bpl 1b"                                                            \
                     : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),   \
                       [t4] "=&r"(t4), [in] "+r"(in), [al] "+r"(alpha), [out] "+r"(out), \
                       [nr] "+r"(nr)                                                     \
                     : [in2] "r"(k->in2), [pm] "r"(k->pos.m), [pc] "r"(posc),            \
                       [nm] "r"(k->neg.m), [na] "r"(k->neg.a)                            \
                     : "cc", "memory")

static void mcu_prelu_run_asm(const mcu_prelu_k *k, const int8_t *in, const int8_t *alpha,
                              int8_t *out, int32_t n, int32_t ps)
{
    const int32_t r = ps < 0 ? -ps : 0;
    const int32_t posc = (1 << (15 - r)) + (r >= 1 ? 1 << 15 : 0) +
                         (int32_t)((uint32_t)k->zo << 16);
    int32_t nr = k->neg.r + ((n / 4 - 1) << 8);
    int32_t t0, t1, t2, t3, t4;
    if (ps < 0)
        MCU_PRELU_LOOP("");
    else if (ps == 0)
        MCU_PRELU_LOOP("mov %[t0], %[t2]\n\t");
    else
        MCU_PRELU_LOOP("sadd16 %[t0], %[t2], %[t2]\n\t");
}
#undef MCU_PRELU_LOOP
#undef MCU_PRELU_PAIR
#endif

/* One row of c elements: the fast form on the first c & ~3, the reference arithmetic after. */
static inline __attribute__((always_inline)) void
mcu_prelu_row(const mcu_prelu_k *k, const mcu_prelu_params *p, const int8_t *in,
              const int8_t *alpha, int astep, int8_t *out, int32_t c)
{
    int32_t i = 0;
    if (c >= 4) {
        i = c & ~3;
        if (!astep)
            mcu_prelu_run(k, in, alpha, out, i, 0, 0);
#if MCU_NN_ASM
        else if (p->alpha_offset == 0 && p->positive_shift >= -1 && p->positive_shift <= 1)
            mcu_prelu_run_asm(k, in, alpha, out, i, p->positive_shift);
#endif
        else if (p->alpha_offset == 0)
            mcu_prelu_run(k, in, alpha, out, i, 1, 1);
        else
            mcu_prelu_run(k, in, alpha, out, i, 1, 0);
    }
    for (; i < c; ++i)
        out[i] = (int8_t)mcu_prelu_one(in[i] + p->input_offset,
                                       alpha[astep * i] + p->alpha_offset, p);
}

mcu_status mcu_prelu_s8(const mcu_context *ctx, const mcu_prelu_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *alpha_dims, const int8_t *alpha,
                        const mcu_dims *output_dims, int8_t *output)
{
    mcu_strides sa = {0, 0, 0, 0};
    if (!params || !input || !alpha || !output || !alpha_dims || !output_dims ||
        !mcu_dims_valid(input_dims) || !mcu_same_dims(input_dims, output_dims))
        return MCU_ERR_ARG;
    /* alpha as long as the input (one row over the whole tensor), else broadcast */
    const int full = mcu_same_dims(alpha_dims, output_dims);
    if (!full && !mcu_broadcast_strides(alpha_dims, output_dims, &sa))
        return MCU_ERR_ARG;
    /* the fast form: positive shift in [-5, 6] (then |zo| <= 255 folds into its constant:
     * |zo| * 2^sh <= 2^28), negative shift in [-22, -2] */
    const int32_t zo = params->output_offset, ps = params->positive_shift;
    const int32_t ns = params->negative_shift;
    mcu_prelu_k k;
    if ((uint32_t)(ps + 5) > 11u || (uint32_t)(ns + 22) > 20u || (uint32_t)(zo + 255) > 510u ||
        params->negative_multiplier < 0 || !mcu_smlaw_init(&k.pos, params->positive_multiplier, ps, 0))
        return mcu_prelu_s8_ref(ctx, params, input_dims, input, alpha_dims, alpha, output_dims,
                                output);
    k.in2 = mcu_dup16(params->input_offset);
    k.al2 = mcu_dup16(params->alpha_offset);
    k.zo = zo;
    mcu_smlaw_fold(&k.pos, zo);
    mcu_rq2_init(&k.neg, params->negative_multiplier, ns, zo);
    const int32_t c = output_dims->c;
    if (full) {
        mcu_prelu_row(&k, params, input, alpha, 1, output, mcu_dims_count(output_dims));
        return MCU_OK;
    }
    const int32_t al2 = k.al2;
    for (int32_t n = 0; n < output_dims->n; ++n)
        for (int32_t h = 0; h < output_dims->h; ++h)
            for (int32_t w = 0; w < output_dims->w; ++w, input += c, output += c) {
                const int8_t *a = alpha + n * sa.n + h * sa.h + w * sa.w;
                if (!sa.c) /* one alpha value along the channels: its pair */
                    k.al2 = __sxtab16(al2, (int32_t)((uint32_t)(uint8_t)a[0] * 0x00010001u));
                mcu_prelu_row(&k, params, input, a, sa.c, output, c);
            }
    return MCU_OK;
}
#endif
