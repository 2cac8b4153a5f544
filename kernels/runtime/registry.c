/*
 * registry.c - the op resolver: a builtin operator code to its registration.
 * The table itself (mcu_op_registry) is generated per model by mcusim/stacks/tinyml.py, listing
 * only the ops the model uses, so the linker keeps only their glue and kernels.
 */
#include "mcu_rt_op.h"

const mcu_op_registration *mcu_rt_find_op(int32_t builtin_code)
{
    for (uint32_t i = 0; i < mcu_op_registry_count; ++i)
        if (mcu_op_registry[i]->builtin_code == builtin_code)
            return mcu_op_registry[i];
    return 0;
}
