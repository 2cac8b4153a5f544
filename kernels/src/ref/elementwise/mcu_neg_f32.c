/*
 * mcu_neg_f32 - reference flavour (portable C).
 * TFLM NEG (float32 only): out = -in, the sign bit flipped (no arithmetic, so NaNs and zeros
 * negate as the FPU's vneg does). Output may alias input.
 */
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

mcu_status mcu_neg_f32(const mcu_context *ctx, const mcu_dims *dims, const float *input,
                       float *output)
{
    (void)ctx;
    if (!dims || !input || !output || !mcu_dims_valid(dims))
        return MCU_ERR_ARG;
    const int32_t count = mcu_dims_count(dims);
    for (int32_t i = 0; i < count; ++i) {
        uint32_t bits;
        memcpy(&bits, &input[i], sizeof bits);
        bits ^= 0x80000000u;
        memcpy(&output[i], &bits, sizeof bits);
    }
    return MCU_OK;
}
