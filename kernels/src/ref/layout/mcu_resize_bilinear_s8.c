/*
 * mcu_resize_bilinear_s8 - reference flavour (portable C).
 * RESIZE_BILINEAR as TFLM's ResizeBilinearInteger: positions with 10 fractional bits, the four
 * neighbours' weights (products of two 10-bit fractions, 20 bits) computed once per output
 * pixel, the weighted sum rounded half away from zero. The sum fits int32: the weights' absolute
 * values add up to at most 2048 x 2048 (a fraction is >= -512 only at the first pixel, where
 * both neighbours are the same), times 128.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

typedef struct {
    int32_t pos, lower, upper; /* position << 10 and the two source indices */
} mcu_bilinear_axis;

static int32_t mcu_bilinear_scale(int32_t in_size, int32_t out_size, int32_t align_corners)
{
    if (align_corners && out_size > 1)
        return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
    return ((1 << 10) * in_size + out_size / 2) / out_size;
}

static mcu_bilinear_axis mcu_bilinear_at(int32_t v, int32_t scale, int32_t in_size,
                                         int32_t half_pixel_centers)
{
    mcu_bilinear_axis a;
    a.pos = half_pixel_centers ? v * scale + scale / 2 - (1 << 9) : v * scale;
    a.lower = a.pos / (1 << 10); /* C division truncates toward zero, as TFLM's */
    if (a.lower < 0)
        a.lower = 0;
    a.upper = (a.pos + (1 << 10) - 1) / (1 << 10);
    if (a.upper > in_size - 1)
        a.upper = in_size - 1;
    return a;
}

mcu_status mcu_resize_bilinear_s8(const mcu_context *ctx, const mcu_resize_params *params,
                                  const mcu_dims *input_dims, const int8_t *input,
                                  const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input || !output || !mcu_dims_valid(input_dims) ||
        !mcu_dims_valid(output_dims) || input_dims->n != output_dims->n ||
        input_dims->c != output_dims->c || (params->align_corners && params->half_pixel_centers))
        return MCU_ERR_ARG;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t scale_h = mcu_bilinear_scale(in_h, out_h, params->align_corners);
    const int32_t scale_w = mcu_bilinear_scale(in_w, out_w, params->align_corners);
    /* The last pixel has the largest lower index: past the input, TFLM would read outside it. */
    if (mcu_bilinear_at(out_h - 1, scale_h, in_h, params->half_pixel_centers).lower >= in_h ||
        mcu_bilinear_at(out_w - 1, scale_w, in_w, params->half_pixel_centers).lower >= in_w)
        return MCU_ERR_ARG;
    for (int32_t n = 0; n < output_dims->n; ++n) {
        const int8_t *image = input + n * in_h * in_w * c;
        for (int32_t y = 0; y < out_h; ++y) {
            const mcu_bilinear_axis ay = mcu_bilinear_at(y, scale_h, in_h, params->half_pixel_centers);
            const int32_t fy = ay.pos - (ay.lower << 10);
            const int8_t *top = image + ay.lower * in_w * c, *bottom = image + ay.upper * in_w * c;
            for (int32_t x = 0; x < out_w; ++x) {
                const mcu_bilinear_axis ax =
                    mcu_bilinear_at(x, scale_w, in_w, params->half_pixel_centers);
                const int32_t fx = ax.pos - (ax.lower << 10);
                const int32_t w_tl = ((1 << 10) - fy) * ((1 << 10) - fx);
                const int32_t w_bl = fy * ((1 << 10) - fx);
                const int32_t w_tr = ((1 << 10) - fy) * fx;
                const int32_t w_br = fy * fx;
                const int8_t *tl = top + ax.lower * c, *tr = top + ax.upper * c;
                const int8_t *bl = bottom + ax.lower * c, *br = bottom + ax.upper * c;
                for (int32_t k = 0; k < c; ++k) {
                    const int32_t acc = tl[k] * w_tl + bl[k] * w_bl + tr[k] * w_tr + br[k] * w_br;
                    *output++ = (int8_t)((acc + (acc > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
                }
            }
        }
    }
    return MCU_OK;
}
