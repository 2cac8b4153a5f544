/*
 * mcu_transpose_s8 - optimized flavour: the reference algorithm (data movement, no MACs); the file
 * exists so that compiling kernels/src/opt/ alone provides every function of mcu_nn.h.
 */
#include "../../ref/layout/mcu_transpose_s8.c"
