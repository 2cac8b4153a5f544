/*
 * mcu_resize_nearest_s8 - reference flavour (portable C).
 * RESIZE_NEAREST_NEIGHBOR as TFLM's reference: the source row and column of each output pixel
 * in float32 (the scale, then (index + offset) * scale, floored or rounded half away from
 * zero), then the pixel's C bytes copied (memcpy).
 */
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static float mcu_nearest_scale(int32_t in_size, int32_t out_size, int32_t align_corners)
{
    return align_corners && out_size > 1 ? (float)(in_size - 1) / (float)(out_size - 1)
                                         : (float)in_size / (float)out_size;
}

static int32_t mcu_nearest_source(int32_t v, float scale, int32_t in_size,
                                  const mcu_resize_params *p)
{
    const float pos = ((float)v + (p->half_pixel_centers ? 0.5f : 0.0f)) * scale;
    int32_t s = (int32_t)pos; /* pos >= 0: truncation is the floor */
    if (p->align_corners && pos - (float)s >= 0.5f)
        s += 1; /* pos - s is exact: round half away from zero without rounding pos + 0.5 */
    if (s > in_size - 1)
        s = in_size - 1;
    return s < 0 ? 0 : s;
}

mcu_status mcu_resize_nearest_s8(const mcu_context *ctx, const mcu_resize_params *params,
                                 const mcu_dims *input_dims, const int8_t *input,
                                 const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input || !output || !mcu_dims_valid(input_dims) ||
        !mcu_dims_valid(output_dims) || input_dims->n != output_dims->n ||
        input_dims->c != output_dims->c)
        return MCU_ERR_ARG;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const float scale_h = mcu_nearest_scale(in_h, output_dims->h, params->align_corners);
    const float scale_w = mcu_nearest_scale(in_w, output_dims->w, params->align_corners);
    for (int32_t n = 0; n < output_dims->n; ++n) {
        const int8_t *image = input + n * in_h * in_w * c;
        for (int32_t y = 0; y < output_dims->h; ++y) {
            const int8_t *row = image + mcu_nearest_source(y, scale_h, in_h, params) * in_w * c;
            for (int32_t x = 0; x < output_dims->w; ++x) {
                memcpy(output, row + mcu_nearest_source(x, scale_w, in_w, params) * c, (size_t)c);
                output += c;
            }
        }
    }
    return MCU_OK;
}
