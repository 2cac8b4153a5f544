/*
 * mcu_logistic_s16 - reference flavour (portable C).
 * 16x8 mode (TFLM reference_integer_ops::Logistic, int16): the input brought to the table's
 * scale, then linear interpolation in TFLite's sigmoid table (mcu_nn_s16_act.h); Q0.15 out.
 */
#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"
#include "../../common/mcu_nn_s16_act.h"

mcu_status mcu_logistic_s16(const mcu_context *ctx, const mcu_sigmoid16_params *params,
                            const mcu_dims *dims, const int16_t *input, int16_t *output)
{
    (void)ctx;
    if (mcu_check_unary(params, dims, (const int8_t *)input, output) != MCU_OK ||
        params->input_shift < 0 || params->input_shift > 31)
        return MCU_ERR_ARG;
    const int32_t size = mcu_dims_count(dims);
    for (int32_t i = 0; i < size; ++i)
        output[i] = mcu_sigmoid_q15(input[i], params->input_multiplier, params->input_shift);
    return MCU_OK;
}
