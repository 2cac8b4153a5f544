/*
 * mcu_neg_f32 - optimized flavour: no DSP form (it carries no MACs); the reference kernel.
 */
#include "../../ref/elementwise/mcu_neg_f32.c"
