/*
 * mcu_max_pool_s8 - optimized flavour (Cortex-M DSP extension).
 * Four channels per 32-bit word: SSUB8 sets the GE flag of each byte lane where the new
 * value is >= the running maximum and SEL picks per lane, so one tap costs a load and two
 * instructions for 4 channels. The activation clamp uses the same pair. Channels beyond a
 * multiple of 4, and cores without the DSP extension, use plain C (the reference kernel).
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/pooling/mcu_max_pool_s8.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

static inline int32_t mcu_max4(int32_t a, int32_t b)
{
    (void)__ssub8(a, b); /* GE[i] = a[i] >= b[i] */
    return (int32_t)__sel((uint32_t)a, (uint32_t)b);
}

static inline int32_t mcu_dup8(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFu) * 0x01010101u);
}

mcu_status mcu_max_pool_s8(const mcu_context *ctx, const mcu_pool_params *params,
                           const mcu_dims *input_dims, const int8_t *input,
                           const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_pool(params, input_dims, input, output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t ch4 = ch & ~3, lo = params->activation.min, hi = params->activation.max;
    const int32_t lo4 = mcu_dup8(lo), hi4 = mcu_dup8(hi);
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky0 = MCU_MAX(0, -y0), ky1 = MCU_MIN(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, output += ch) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx0 = MCU_MAX(0, -x0), kx1 = MCU_MIN(params->filter.w, in_w - x0);
                int32_t c = 0;
                for (; c < ch4; c += 4) {
                    int32_t m = lo4; /* max(window, act_min) */
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *p = in_b + ((y0 + ky) * in_w + x0 + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx, p += ch)
                            m = mcu_max4(mcu_read_s8x4(p), m);
                    }
                    (void)__ssub8(m, hi4);             /* GE = m >= hi: take hi there */
                    m = (int32_t)__sel((uint32_t)hi4, (uint32_t)m);
                    memcpy(output + c, &m, 4);
                }
                for (; c < ch; ++c) {
                    int32_t m = lo;
                    for (int32_t ky = ky0; ky < ky1; ++ky)
                        for (int32_t kx = kx0; kx < kx1; ++kx)
                            m = MCU_MAX(m, in_b[((y0 + ky) * in_w + x0 + kx) * ch + c]);
                    output[c] = (int8_t)MCU_MIN(m, hi);
                }
            }
        }
    }
    return MCU_OK;
}
#endif
