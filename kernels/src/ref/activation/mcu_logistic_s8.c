/*
 * mcu_logistic_s8 - reference flavour (portable C).
 * TFLM reference_integer_ops::Logistic (int8): inputs beyond +-input_range_radius saturate;
 * the rest are rescaled to Q4.27 and go through gemmlowp's fixed-point logistic
 * (1 / (1 + exp(-|x|)), mirrored for x < 0), then to scale 1/256, zero point -128.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static inline int32_t mcu_logistic_q31(int32_t a) /* a in Q4.27, result Q0.31 */
{
    if (a == 0)
        return 1 << 30; /* one half */
    const int32_t abs_a = a > 0 ? a : -a;
    const int32_t pos = mcu_one_over_one_plus_x(mcu_exp_on_negative_values(-abs_a, 4));
    return a > 0 ? pos : INT32_MAX - pos;
}

mcu_status mcu_logistic_s8(const mcu_context *ctx, const mcu_sigmoid_params *params,
                           const mcu_dims *dims, const int8_t *input, int8_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, input, output) != MCU_OK)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = input[i] - params->input_zero_point;
        int32_t out;
        if (x <= -params->input_range_radius) {
            out = -128;
        } else if (x >= params->input_range_radius) {
            out = 127;
        } else {
            const int32_t q4 = mcu_requantize(x, params->input_multiplier,
                                              params->input_left_shift);
            out = mcu_rdbpot(mcu_logistic_q31(q4), 31 - 8) - 128;
            out = MCU_CLAMP(out, -128, 127);
        }
        output[i] = (int8_t)out;
    }
    return MCU_OK;
}
