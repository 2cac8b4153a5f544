#include "harness.h"

int32_t harness_run(void)
{
    mcu_context ctx = harness_ctx();
    mcu_dequantize_params p;
    p.zero_point = H();
    const int32_t scale_bits = H();
    __builtin_memcpy(&p.scale, &scale_bits, sizeof p.scale);
    mcu_dims d = harness_dims();
    const int8_t *x = P();
    float *y = P();
    return mcu_dequantize_s8(&ctx, &p, &d, x, y);
}
