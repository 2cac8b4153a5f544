/*
 * HARD_SWISH, int8: x * relu6(x + 3) / 6 in TFLM's 16-bit fixed point. The scale ratios are
 * float32 divisions in TFLM, reproduced exactly (rounded to 24 bits).
 */
#include "mcu_rt_op.h"
#include "mcu_rt_quant.h"

typedef struct {
    mcu_hard_swish_params params;
    mcu_dims dims;
} hard_swish_data;

/* TFLM DownScaleInt32ToInt16Multiplier */
static int32_t to_int16_multiplier(int32_t multiplier)
{
    if (multiplier >= INT32_MAX - (1 << 15))
        return 32767;
    return (multiplier + (1 << 15)) >> 16;
}

static mcu_rt_status hard_swish_prepare(mcu_interpreter *rt, mcu_node *node)
{
    hard_swish_data *d = (hard_swish_data *)node->user_data;
    mcu_unary t;
    const mcu_rt_status st = mcu_rt_unary(rt, node, TFL_INT8, TFL_INT8, &t, &d->dims);
    if (st != MCU_RT_OK)
        return st;
    mcu_real hires = mcu_real_from_f32(t.in.scales[0]);
    hires.e -= 7; /* input_scale / 128, exact in float32 */
    const mcu_real reluish = mcu_real_int(3, -15); /* 3 / 32768 */
    mcu_hard_swish_params *p = &d->params;
    int32_t m;
    mcu_quantize_multiplier(mcu_real_div(hires, mcu_real_from_f32(t.out.scales[0]), MCU_REAL_FLOAT),
                            &m, &p->output_exponent);
    p->output_multiplier = to_int16_multiplier(m);
    mcu_quantize_multiplier(mcu_real_div(hires, reluish, MCU_REAL_FLOAT), &m, &p->reluish_exponent);
    p->reluish_multiplier = to_int16_multiplier(m);
    p->input_zero_point = t.in.zero_point;
    p->output_zero_point = t.out.zero_point;
    return p->output_exponent > 0 ? MCU_RT_UNSUPPORTED_PARAMS : MCU_RT_OK;
}

static mcu_rt_status hard_swish_eval(mcu_interpreter *rt, mcu_node *node)
{
    const hard_swish_data *d = (const hard_swish_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_hard_swish_s8(0, &d->params, &d->dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                              (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_hard_swish = {
    TFL_OP_HARD_SWISH, 0, sizeof(hard_swish_data), hard_swish_prepare, hard_swish_eval};
