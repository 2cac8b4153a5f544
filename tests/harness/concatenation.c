#include "harness.h"

#define MAX_INPUTS 4

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_concat_params p;
    mcu_concat_input rq[MAX_INPUTS];
    mcu_dims dims[MAX_INPUTS];
    const int8_t *inputs[MAX_INPUTS];
    p.axis = H();
    p.num_inputs = H();
    p.output_zero_point = H();
    const int32_t requant = H();
    for (int32_t i = 0; i < p.num_inputs && i < MAX_INPUTS; ++i) {
        rq[i].input_zero_point = H();
        rq[i].multiplier = H();
        rq[i].shift = H();
        dims[i] = harness_dims();
        inputs[i] = P();
    }
    p.requant = requant ? rq : 0;
    mcu_dims out = harness_dims();
    int8_t *y = P();
    return mcu_concatenation_s8(&ctx, &p, dims, inputs, &out, y);
}
