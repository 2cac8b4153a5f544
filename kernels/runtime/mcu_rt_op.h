/*
 * mcu_rt_op.h - the contract between the interpreter and the op glue (kernels/runtime/ops/).
 *
 * An op is a registration of three functions, as in TensorFlow Lite Micro:
 *   init     once, before prepare: allocate the op's persistent data (may be NULL);
 *   prepare  once, at start-up: check types and shapes, compute the kernel parameters
 *            (multipliers and shifts with mcu_rt_quant.h, never floating point), request
 *            scratch memory;
 *   eval     every inference: call the kernel of mcu_nn.h with what prepare stored.
 * Glue stays thin: anything computable at prepare is computed at prepare.
 */
#ifndef MCU_RT_OP_H
#define MCU_RT_OP_H

#include <stdint.h>

#include "mcu_nn.h"
#include "mcu_runtime.h"
#include "tflite_schema.h"

typedef struct mcu_node {
    const struct mcu_op_registration *reg;
    void *user_data;           /* the op's persistent data (init) */
    const int32_t *inputs;     /* [count, tensor index or -1...], in the flatbuffer */
    const int32_t *outputs;    /* [count, tensor index...] */
    void *scratch;             /* planned scratch memory (valid in eval) */
    int32_t scratch_bytes;     /* requested in prepare */
} mcu_node;

typedef mcu_rt_status (*mcu_op_fn)(mcu_interpreter *rt, mcu_node *node);

/* MCU_OP_ALIAS: the output is a view of input 0 (RESHAPE and friends): the planner gives
 * both one buffer, and eval has nothing to move. */
enum { MCU_OP_ALIAS = 1 };

typedef struct mcu_op_registration {
    int32_t builtin_code;
    uint32_t flags;
    mcu_op_fn init, prepare, eval;
} mcu_op_registration;

/* The op resolver: generated per model (ops.c), only the registrations the model needs. */
extern const mcu_op_registration *const mcu_op_registry[];
extern const uint32_t mcu_op_registry_count;

const mcu_op_registration *mcu_rt_find_op(int32_t builtin_code);

/* ---- what prepare may ask for ------------------------------------------------------------ */

/* Everything about one tensor, read (and checked) from the flatbuffer. */
typedef struct {
    const int32_t *dims;       /* rank entries */
    int32_t rank;
    int32_t type;              /* TFL_INT8, TFL_INT32, TFL_FLOAT32, ... */
    int32_t count;             /* elements */
    int32_t bytes;
    const uint8_t *data;       /* constant contents (in flash) or NULL */
    const uint32_t *scales;    /* float32 bit patterns, n_scales of them */
    int32_t n_scales;
    int32_t zero_point;        /* of channel 0 */
} mcu_tensor_info;

/* Reads tensor `index` (must be in range). */
mcu_rt_status mcu_rt_tensor(mcu_interpreter *rt, int32_t index, mcu_tensor_info *t);

/* Tensor index of input/output k of a node, or -1 when absent or optional-and-missing. */
static inline int32_t mcu_rt_in_index(const mcu_node *node, int32_t k)
{
    return k < node->inputs[0] ? node->inputs[1 + k] : -1;
}
static inline int32_t mcu_rt_out_index(const mcu_node *node, int32_t k)
{
    return k < node->outputs[0] ? node->outputs[1 + k] : -1;
}

/* Input k / output 0 of a node (must exist): tensor info, in one call. */
mcu_rt_status mcu_rt_input_info(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                mcu_tensor_info *t);
mcu_rt_status mcu_rt_output_info(mcu_interpreter *rt, const mcu_node *node, mcu_tensor_info *t);

/* Int8 activation with one scale and a zero point in [-128, 127]; else BAD_TENSOR_TYPE. */
mcu_rt_status mcu_rt_check_int8(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                mcu_tensor_info *t);
#define MCU_RT_OUTPUT (-1) /* k for mcu_rt_check_int8: the output */

/* Constant int8 weights (input k) whose scales (1, or one per channel) are all valid. */
mcu_rt_status mcu_rt_check_weights(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                   mcu_tensor_info *t);

/* Optional constant int32 bias (input k) of `channels` values; *bias = NULL when absent. */
mcu_rt_status mcu_rt_bias(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                          int32_t channels, const int32_t **bias);

/* Report `status` about tensor/value `detail` (error_detail), returning status. */
mcu_rt_status mcu_rt_fail(mcu_interpreter *rt, mcu_rt_status status, int32_t detail);

/* Data of input k / output 0 in eval (planned or constant). */
#define MCU_RT_IN(rt, node, k) ((rt)->data[(node)->inputs[1 + (k)]])
#define MCU_RT_OUT(rt, node) ((rt)->data[(node)->outputs[1]])

/* Alignment of arena allocations: a pointer's (4 on Cortex-M, 8 on a 64-bit host). */
#define MCU_RT_ALIGN ((uint32_t)sizeof(void *))

/* Persistent memory from the arena's tail (MCU_RT_ALIGN-aligned), NULL when the arena is full
 * (the interpreter then reports ARENA_TOO_SMALL with the size it would have needed). */
void *mcu_rt_alloc_persistent(mcu_interpreter *rt, uint32_t bytes);
mcu_rt_status mcu_rt_alloc_op_data(mcu_interpreter *rt, mcu_node *node, uint32_t bytes);

/* Fields of the builtin options table of the op being initialised or prepared (defaults
 * when the table or the field is absent). Options are read at start-up only, so nodes do not
 * keep them: the interpreter points rt->options at the current op's table. */
static inline int32_t mcu_rt_option_i32(mcu_interpreter *rt, const mcu_node *node,
                                        uint32_t slot, int32_t dflt)
{
    (void)node;
    return (int32_t)mcu_fb_u32(&rt->fb, rt->options, slot, (uint32_t)dflt);
}
static inline int32_t mcu_rt_option_u8(mcu_interpreter *rt, const mcu_node *node,
                                       uint32_t slot, int32_t dflt)
{
    (void)node;
    return (int32_t)mcu_fb_u8(&rt->fb, rt->options, slot, (uint32_t)dflt);
}

/* ---- shared glue helpers (op_util.c) ----------------------------------------------------- */

/* Shape of rank <= 4 as NHWC with leading 1s ({6, 4} -> n=1, h=1, w=6, c=4). */
mcu_rt_status mcu_rt_dims4(const mcu_tensor_info *t, mcu_dims *d);

/* NHWC dims of two inputs and an output that broadcast (each input dim equals the output's
 * or is 1, after padding to rank 4 with leading 1s). */
mcu_rt_status mcu_rt_broadcast_dims(const mcu_tensor_info *a, const mcu_tensor_info *b,
                                    const mcu_tensor_info *out, mcu_dims *da, mcu_dims *db,
                                    mcu_dims *dout);

/* Fused activation clamp on an int8 output (TFLM CalculateActivationRangeQuantized). */
mcu_rt_status mcu_rt_activation(int32_t activation, const mcu_tensor_info *out,
                                mcu_range *range);

/* SAME/VALID output size and leading padding along one axis (TFLM's formulas); returns -1
 * for a non-positive stride or dilation. */
int32_t mcu_rt_out_size(int32_t padding, int32_t in, int32_t filter, int32_t stride,
                        int32_t dilation);
int32_t mcu_rt_padding(int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                       int32_t out);

/* Per-channel requantization for CONV_2D/DEPTHWISE_CONV_2D/FULLY_CONNECTED: fills
 * multiplier/shift arrays of `channels` entries (persistent) from input, filter and output
 * scales, TFLM's PopulateConvolutionQuantizationParams. float32_product: FC per-tensor
 * rounds the input x filter product to float32 first, as TFLM does. */
mcu_rt_status mcu_rt_conv_quant(mcu_interpreter *rt, const mcu_tensor_info *in,
                                const mcu_tensor_info *filter, const mcu_tensor_info *out,
                                int32_t channels, int float32_product, mcu_quant_params *q);

/* The kernel status as a runtime status (error_detail keeps the kernel's code). */
mcu_rt_status mcu_rt_kernel_status(mcu_interpreter *rt, mcu_status st);

/* Constant int32 (or int64 holding int32 values) input k of at most 4 values, e.g. a
 * permutation, axis, begin or size: into values[], their number into *count; BAD_TENSOR_TYPE
 * when it is not such a constant, UNSUPPORTED_PARAMS for more than 4 values. */
mcu_rt_status mcu_rt_const_ints(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                int32_t values[4], int32_t *count);

/* Element count and layout checks. */
static inline int mcu_rt_same_shape(const mcu_tensor_info *a, const mcu_tensor_info *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int32_t i = 0; i < a->rank; ++i)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

#endif /* MCU_RT_OP_H */
