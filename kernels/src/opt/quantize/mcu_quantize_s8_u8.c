/*
 * mcu_quantize_s8_u8 - optimized flavour: the reference algorithm (a per-element cost, no MACs);
 * the file exists so that compiling kernels/src/opt/ alone provides every function of mcu_nn.h.
 */
#include "../../ref/quantize/mcu_quantize_s8_u8.c"
