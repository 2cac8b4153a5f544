/*
 * mcu_max_pool_s16 - optimized flavour (Cortex-M DSP extension).
 * 16x8 mode: two channels per 32-bit word: SSUB16 sets the GE flags of each halfword lane
 * where the new value is >= the running maximum and SEL picks per lane; four channels (two
 * words) per tap, then a word of two, then one channel in plain C. The running maximum starts
 * at the activation minimum (the reference's max, then its clamp from below) and the same pair
 * clamps from above. Cores without the DSP extension use the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/pooling/mcu_max_pool_s16.c"
#else
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_dsp.h"

static inline int32_t mcu_max2(int32_t a, int32_t b)
{
    (void)__ssub16(a, b); /* GE of lane i = a[i] >= b[i] */
    return (int32_t)__sel((uint32_t)a, (uint32_t)b);
}

static inline int32_t mcu_min2(int32_t a, int32_t b)
{
    (void)__ssub16(a, b);
    return (int32_t)__sel((uint32_t)b, (uint32_t)a);
}

mcu_status mcu_max_pool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                            const mcu_dims *input_dims, const int16_t *input,
                            const mcu_dims *output_dims, int16_t *output)
{
    (void)ctx;
    const mcu_status st = mcu_check_pool_s16(params, input_dims, input, output_dims, output);
    if (st != MCU_OK)
        return st;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, ch = input_dims->c;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t lo2 = (int32_t)(((uint32_t)lo & 0xFFFFu) * 0x10001u);
    const int32_t hi2 = (int32_t)(((uint32_t)hi & 0xFFFFu) * 0x10001u);
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_b = input + b * in_h * in_w * ch;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t ky0 = MCU_MAX(0, -y0), ky1 = MCU_MIN(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox, output += ch) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t kx0 = MCU_MAX(0, -x0), kx1 = MCU_MIN(params->filter.w, in_w - x0);
                const int16_t *first = in_b + ((y0 + ky0) * in_w + x0 + kx0) * ch;
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4) {
                    int32_t m0 = lo2, m1 = lo2;
                    const int16_t *row = first + c;
                    for (int32_t ky = ky0; ky < ky1; ++ky, row += in_w * ch) {
                        const int16_t *p = row;
                        for (int32_t kx = kx0; kx < kx1; ++kx, p += ch) {
                            m0 = mcu_max2(mcu_read_s16x2(p), m0);
                            m1 = mcu_max2(mcu_read_s16x2(p + 2), m1);
                        }
                    }
                    mcu_write_s16x2(output + c, mcu_min2(m0, hi2));
                    mcu_write_s16x2(output + c + 2, mcu_min2(m1, hi2));
                }
                if (c + 2 <= ch) {
                    int32_t m = lo2;
                    const int16_t *row = first + c;
                    for (int32_t ky = ky0; ky < ky1; ++ky, row += in_w * ch) {
                        const int16_t *p = row;
                        for (int32_t kx = kx0; kx < kx1; ++kx, p += ch)
                            m = mcu_max2(mcu_read_s16x2(p), m);
                    }
                    mcu_write_s16x2(output + c, mcu_min2(m, hi2));
                    c += 2;
                }
                if (c < ch) {
                    int32_t m = lo;
                    const int16_t *row = first + c;
                    for (int32_t ky = ky0; ky < ky1; ++ky, row += in_w * ch)
                        for (int32_t kx = 0; kx < kx1 - kx0; ++kx)
                            m = MCU_MAX(m, row[kx * ch]);
                    output[c] = (int16_t)MCU_MIN(m, hi);
                }
            }
        }
    }
    return MCU_OK;
}
#endif
