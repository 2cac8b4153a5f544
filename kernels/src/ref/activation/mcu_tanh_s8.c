/*
 * mcu_tanh_s8 - reference flavour (portable C).
 * TFLM reference_integer_ops::Tanh (int8): inputs beyond +-input_range_radius saturate; the
 * rest are rescaled to Q4.27 and go through gemmlowp's fixed-point tanh
 * ((1 - exp(-2|x|)) / (1 + exp(-2|x|)), odd), then to scale 1/128, zero point 0.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static inline int32_t mcu_tanh_q31(int32_t a) /* a in Q4.27, result Q0.31 */
{
    if (a == 0)
        return 0;
    const int32_t neg_abs = a < 0 ? a : -a;
    /* Q4.27 raw reinterpreted as Q5.26 doubles the value: exp(-2|x|). */
    const int32_t t = mcu_one_minus_x_over_one_plus_x(mcu_exp_on_negative_values(neg_abs, 5));
    return a < 0 ? -t : t;
}

mcu_status mcu_tanh_s8(const mcu_context *ctx, const mcu_sigmoid_params *params,
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
            out = mcu_rdbpot(mcu_tanh_q31(q4), 31 - 7);
            out = MCU_CLAMP(out, -128, 127);
        }
        output[i] = (int8_t)out;
    }
    return MCU_OK;
}
