/*
 * mcu_leaky_relu_s8 - optimized flavour (Cortex-M DSP extension).
 * Four elements per step: one word load, x = in - zp_in in two int16 pairs (SXTAB16 plain and
 * ROR #8), both branches computed on each lane straight from the pair (SMLAWB/SMLAWT, see
 * mcu_nn_act_dsp.h: a whole requantization is one SMLAW and one ASR), the branch picked per lane
 * by SADD16 + SEL, the output offset folded into the constants (or added by SADD16),
 * saturated by SSAT16 and packed into one word store; the same results as the reference
 * arithmetic. The last size % 4 elements use the reference kernel's arithmetic; multipliers
 * outside that form's range (left shift > 6, right shift > 15): the call is handed to the
 * reference kernel (mcu_leaky_relu_s8_ref, named in the run's report).
 * Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/activation/mcu_leaky_relu_s8.c"
#else
#include "mcu_nn.h"
/* The reference kernel under another name, for the calls this one hands over; out of line, so
 * the run's report sees it run (deploy.REF_HANDOVERS). */
__attribute__((noinline)) mcu_status mcu_leaky_relu_s8_ref(const mcu_context *ctx,
                                                           const mcu_leaky_relu_params *params,
                                                           const mcu_dims *dims,
                                                           const int8_t *input, int8_t *output);
#define mcu_leaky_relu_s8 mcu_leaky_relu_s8_ref
#include "../../ref/activation/mcu_leaky_relu_s8.c"
#undef mcu_leaky_relu_s8
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"
#include "../../common/mcu_nn_act_dsp.h"

static inline int32_t mcu_leaky_one(int32_t x, const mcu_leaky_relu_params *p)
{
    const int32_t y = x >= 0 ? mcu_requantize(x, p->identity_multiplier, p->identity_shift)
                             : mcu_requantize(x, p->alpha_multiplier, p->alpha_shift);
    return mcu_clamp_s8_value(y + p->output_zero_point, -128, 127);
}

/* The first size & ~3 elements; zo2: the output offset in both halves, added unless folded
 * into the branches' constants (fold). */
static inline __attribute__((always_inline)) void
mcu_leaky_run(const int8_t *in, int8_t *out, int32_t size, const mcu_smlaw *pos,
              const mcu_smlaw *neg, int32_t zin, int32_t zo2, const int fold)
{
    const int32_t zp2 = mcu_dup16(-zin);
    const mcu_smlaw p = *pos, n = *neg; /* locals: the stores cannot alias them */
    const int8_t *end = in + (size & ~3);
    for (; in != end; in += 4, out += 4) {
        const int32_t w = mcu_read_s8x4(in);
        const int32_t x02 = __sxtab16(zp2, w), x13 = mcu_sxtab16_ror8(zp2, w);
        int32_t y02 = mcu_select16(x02, mcu_smlaw_pair(x02, &p), mcu_smlaw_pair(x02, &n));
        int32_t y13 = mcu_select16(x13, mcu_smlaw_pair(x13, &p), mcu_smlaw_pair(x13, &n));
        if (!fold) {
            y02 = __sadd16(y02, zo2);
            y13 = __sadd16(y13, zo2);
        }
        const uint32_t v = mcu_pack_s8x4(y02, y13);
        memcpy(out, &v, 4);
    }
}

mcu_status mcu_leaky_relu_s8(const mcu_context *ctx, const mcu_leaky_relu_params *params,
                             const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    if (mcu_check_unary(params, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims), zin = params->input_zero_point;
    const int32_t zo = params->output_zero_point;
    const int32_t mi = params->identity_multiplier, si = params->identity_shift;
    const int32_t ma = params->alpha_multiplier, sa = params->alpha_shift;
    mcu_smlaw pos, neg;
    if (!mcu_smlaw_init(&pos, mi, si, 0) || !mcu_smlaw_init(&neg, ma, sa, 1))
        return mcu_leaky_relu_s8_ref(ctx, params, dims, input, output);
    if (mcu_smlaw_fold_ok(&pos, zo) && mcu_smlaw_fold_ok(&neg, zo)) {
        mcu_smlaw_fold(&pos, zo);
        mcu_smlaw_fold(&neg, zo);
        mcu_leaky_run(input, output, size, &pos, &neg, zin, 0, 1);
    } else
        mcu_leaky_run(input, output, size, &pos, &neg, zin, mcu_dup16(zo), 0);
    for (int32_t i = size & ~3; i < size; ++i)
        output[i] = (int8_t)mcu_leaky_one(input[i] - zin, params);
    return MCU_OK;
}
#endif
