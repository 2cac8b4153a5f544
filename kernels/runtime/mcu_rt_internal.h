/*
 * mcu_rt_internal.h - how the pieces of the interpreter call each other (not for op glue).
 */
#ifndef MCU_RT_INTERNAL_H
#define MCU_RT_INTERNAL_H

#include "mcu_rt_op.h"

typedef struct {
    uint32_t opcodes; /* position of Model.operator_codes */
    uint32_t n_opcodes;
} mcu_model_tables;

/* model.c: identifier, version, subgraph 0 and its graph inputs/outputs. */
mcu_rt_status mcu_rt_open_model(mcu_interpreter *rt, mcu_model_tables *m);
/* 1 when a tensor index list has an index out of range (-1 allowed when optional). */
int mcu_rt_check_indices(const mcu_interpreter *rt, const int32_t *list, int optional);

/* planner.c: place every non-constant tensor and scratch buffer in the arena's head. */
mcu_rt_status mcu_rt_plan(mcu_interpreter *rt);

#endif /* MCU_RT_INTERNAL_H */
