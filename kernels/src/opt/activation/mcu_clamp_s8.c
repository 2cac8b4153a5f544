/*
 * mcu_clamp_s8 - optimized flavour: the reference algorithm. This op has no DSP-specific
 * implementation (its cost is per element, not per MAC); the file exists so that compiling
 * kernels/src/opt/ alone provides every function of mcu_nn.h.
 */
#include "../../ref/activation/mcu_clamp_s8.c"
