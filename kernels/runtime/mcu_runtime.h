/*
 * mcu_runtime.h - mcusim's on-target micro-interpreter for int8 .tflite models (the tinyml
 * path), in the style of TensorFlow Lite Micro:
 *
 *   mcu_rt_init()    reads the flatbuffer in place (identifier "TFL3", schema version 3,
 *                    bounds-checked), resolves every operator through the op registry
 *                    (mcu_op_registry[], generated per model: only the ops it needs),
 *                    allocates each op's data and runs its prepare (quantization
 *                    multipliers computed here, on target, in integer arithmetic), and
 *                    plans the tensor arena.
 *   mcu_rt_invoke()  runs the operators in order through their eval function pointers,
 *                    with a probe pair around each (mcusim.h: MCUSIM_TAG_OP_BEGIN/END(i)).
 *
 * Nothing is allocated outside the arena the caller provides; the interpreter struct itself
 * is the caller's (static) object. Every failure is one status code below plus, in
 * error_op / error_detail, which operator and what (see each code).
 */
#ifndef MCU_RUNTIME_H
#define MCU_RUNTIME_H

#include <stdint.h>

#include "mcu_fb.h"

typedef enum {
    MCU_RT_OK = 0,
    MCU_RT_CORRUPT_MODEL = 1,     /* offset/size outside the model, misaligned, or shapes that
                                     contradict each other; error_op: op or -1 */
    MCU_RT_NOT_TFLITE = 2,        /* file identifier is not "TFL3" */
    MCU_RT_SCHEMA_VERSION = 3,    /* Model.version is not 3; error_detail: the version */
    MCU_RT_UNSUPPORTED_OP = 4,    /* error_op: op index; error_detail: builtin code */
    MCU_RT_ARENA_TOO_SMALL = 5,   /* error_detail: bytes the arena would need */
    MCU_RT_BAD_TENSOR_TYPE = 6,   /* error_detail: tensor index (type or quantization) */
    MCU_RT_UNSUPPORTED_PARAMS = 7,/* op options or shapes outside what the kernels implement */
    MCU_RT_KERNEL_ERROR = 8,      /* a kernel rejected its arguments; error_detail: its status */
    MCU_RT_IO_MISMATCH = 9,       /* the model's inputs/outputs do not fit the app's buffers */
} mcu_rt_status;

struct mcu_node;

typedef struct mcu_interpreter {
    mcu_fb fb;                 /* the model, read in place */
    const int32_t *inputs;     /* graph input tensor indices: [count, index...] */
    const int32_t *outputs;    /* graph output tensor indices */
    uint32_t tensors;          /* position of SubGraph.tensors (vector of tables) */
    uint32_t operators;        /* position of SubGraph.operators */
    uint32_t options;          /* builtin options of the op being prepared (start-up only) */
    uint32_t buffers;          /* position of Model.buffers (vector of tables) */
    uint32_t n_buffers;
    int32_t n_tensors, n_ops;
    uint8_t **data;            /* per tensor: its bytes (flash for constants, arena else) */
    struct mcu_node *nodes;    /* per operator */
    uint8_t *arena;            /* 4-byte aligned start */
    uint32_t arena_size;
    uint32_t tail;             /* bytes of persistent allocations at the arena's end */
    uint32_t head;             /* bytes of the planned tensors and scratch at its start */
    uint32_t used;             /* bytes the arena must have: max(head, planner temp) + tail */
    int32_t error_op;
    int32_t error_detail;
    uint32_t ready;            /* 1 after a successful mcu_rt_init */
} mcu_interpreter;

mcu_rt_status mcu_rt_init(mcu_interpreter *rt, const uint8_t *model, uint32_t model_size,
                          uint8_t *arena, uint32_t arena_size);
mcu_rt_status mcu_rt_invoke(mcu_interpreter *rt);

/* Graph input/output i: its bytes in the arena and their count (0 when i is out of range). */
uint8_t *mcu_rt_input(mcu_interpreter *rt, int32_t i, uint32_t *bytes);
uint8_t *mcu_rt_output(mcu_interpreter *rt, int32_t i, uint32_t *bytes);

#endif /* MCU_RUNTIME_H */
