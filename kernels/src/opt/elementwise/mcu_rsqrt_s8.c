/*
 * mcu_rsqrt_s8 - optimized flavour: no DSP form (it carries no MACs); the reference kernel.
 */
#include "../../ref/elementwise/mcu_rsqrt_s8.c"
