/*
 * mcu_rt_op.h - the contract between the interpreter and the op glue (kernels/runtime/ops/).
 *
 * An op is a registration: the size of its persistent data and two functions, as in
 * TensorFlow Lite Micro (whose `init` here is the size: the interpreter allocates
 * `data_bytes` in the arena's tail for every node before any prepare runs, node->user_data):
 *   prepare  once, at start-up: check types and shapes, compute the kernel parameters
 *            (multipliers and shifts with mcu_rt_quant.h, never floating point), request
 *            scratch memory;
 *   eval     every inference: call the kernel of mcu_nn.h with what prepare stored.
 * Glue stays thin: anything computable at prepare is computed at prepare, and the checks
 * the ops of one pattern share are one helper each (window, binary, unary: below).
 */
#ifndef MCU_RT_OP_H
#define MCU_RT_OP_H

#include <stdint.h>

#include "mcu_nn.h"
#include "mcu_runtime.h"
#include "tflite_schema.h"

typedef struct mcu_node {
    const struct mcu_op_registration *reg;
    void *user_data;           /* the op's persistent data (reg->data_bytes, before prepare) */
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
    uint32_t data_bytes;       /* op data allocated before prepare (0: none, user_data NULL) */
    mcu_op_fn prepare, eval;
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
    int32_t is_variable;       /* state kept across invokes (LSTM): persistent, reset at start-up */
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

/* An op datum's "16x8 mode" mark where a field is unused by the s16 kernels (an int8 input
 * offset is in [-127, 128]): the glue picks the kernel without a byte more of op data. */
#define MCU_RT_S16 INT32_MIN

/* mcu_rt_check_int8, or an int16 activation with one scale and zero point 0 (16x8 mode). */
mcu_rt_status mcu_rt_check_activation(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                      mcu_tensor_info *t);

/* Constant int8 weights (input k) whose scales (1, or one per channel) are all valid. */
mcu_rt_status mcu_rt_check_weights(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                   mcu_tensor_info *t);

/* Optional constant int32 bias (input k) of `channels` values; *bias = NULL when absent. */
mcu_rt_status mcu_rt_bias(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                          int32_t channels, const int32_t **bias);

/* Optional constant bias (input k) of `channels` values of TFLite type `type`. */
mcu_rt_status mcu_rt_bias_of(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                             int32_t channels, int32_t type, const void **bias);

/* Report `status` about tensor/value `detail` (error_detail), returning status. */
mcu_rt_status mcu_rt_fail(mcu_interpreter *rt, mcu_rt_status status, int32_t detail);

/* Data of input k / output 0 in eval (planned or constant). */
#define MCU_RT_IN(rt, node, k) ((rt)->data[(node)->inputs[1 + (k)]])
#define MCU_RT_OUT(rt, node) ((rt)->data[(node)->outputs[1]])

/* Alignment of arena allocations: a pointer's (4 on Cortex-M, 8 on a 64-bit host). */
#define MCU_RT_ALIGN ((uint32_t)sizeof(void *))

/* Persistent memory from the arena's tail (MCU_RT_ALIGN-aligned), NULL when the arena is full
 * (the interpreter then reports ARENA_TOO_SMALL with the size it would have needed). For op
 * data whose size prepare computes (CONCATENATION: per input); a fixed size belongs in the
 * registration's data_bytes. */
void *mcu_rt_alloc_persistent(mcu_interpreter *rt, uint32_t bytes);

/* Fields of the builtin options table of the op being prepared (defaults
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

/* ---- prepare helpers of the shared op patterns (op_util.c) ------------------------------ */

#define MCU_RT_NO_OPTION (-1) /* an option slot the op does not have */

/* MAC ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): int8 input 0, constant int8 weights
 * (input 1, per-tensor or per-channel scales), int8 output; or int16 input and output (16x8
 * mode, mcu_rt_check_activation). */
typedef struct {
    mcu_tensor_info in, filter, out;
} mcu_mac_tensors;

mcu_rt_status mcu_rt_mac_tensors(mcu_interpreter *rt, const mcu_node *node, mcu_mac_tensors *t);

/* Multipliers and shifts of `channels` outputs (persistent; one pair when the filter has one
 * scale) from input, filter and output scales: TFLM's PopulateConvolutionQuantizationParams.
 * float32_product: FULLY_CONNECTED per-tensor rounds the input x filter scale product to
 * float32 first, as TFLM does. */
mcu_rt_status mcu_rt_mac_multipliers(mcu_interpreter *rt, const mcu_mac_tensors *t,
                                     int32_t channels, int float32_product, mcu_quant_params *q);

/* The requantization of a MAC op: the fused activation of option `activation_slot`, the
 * multipliers (above) and the optional constant bias (input 2) of `channels` values (NULL
 * when absent): int32, or int64 when the input is int16 (16x8 mode). Inline: prepare's stack
 * stays what it was before the helper. */
static inline mcu_rt_status mcu_rt_mac_quant(mcu_interpreter *rt, const mcu_node *node,
                                             const mcu_mac_tensors *t, uint32_t activation_slot,
                                             int32_t channels, int float32_product,
                                             mcu_range *activation, mcu_quant_params *q,
                                             const void **bias)
{
    mcu_rt_status st;
    if ((st = mcu_rt_activation(mcu_rt_option_u8(rt, node, activation_slot, TFL_ACT_NONE), &t->out,
                                activation)) ||
        (st = mcu_rt_mac_multipliers(rt, t, channels, float32_product, q)))
        return st;
    return mcu_rt_bias_of(rt, node, 2, channels, t->in.type == TFL_INT16 ? TFL_INT64 : TFL_INT32,
                          bias);
}

/* Window ops (CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, AVERAGE_POOL_2D): the option slots of
 * their geometry. Pooling: no dilation (MCU_RT_NO_OPTION), the window size from filter_w/h;
 * conv: filter_w/h MCU_RT_NO_OPTION, the window is the filter tensor's KH x KW. */
typedef struct {
    int8_t padding, stride_w, stride_h, dilation_w, dilation_h, filter_w, filter_h;
} mcu_window_slots;

/* A window op's shared prepare: the tensors (mcu_rt_mac_tensors for conv; for pooling int8
 * input 0 and output, t->filter unset), all of rank 4 (else UNSUPPORTED_PARAMS), their NHWC
 * dims into dims[] ({input, filter, output} for conv, {input, output} for pooling); stride
 * and the leading padding into the kernel's params, and into *third the dilation (conv) or
 * the window size (pooling). The output's H and W are checked against SAME/VALID (TFLM's
 * formulas) and its N against the input's (else CORRUPT_MODEL). The results go straight into
 * the op data, so prepare's stack holds no copy. */
mcu_rt_status mcu_rt_window(mcu_interpreter *rt, const mcu_node *node,
                            const mcu_window_slots *slots, mcu_mac_tensors *t, mcu_dims *dims,
                            mcu_hw *stride, mcu_hw *padding, mcu_hw *third);

/* Binary elementwise ops (ADD, MUL; SUB, MINIMUM, MAXIMUM, SQUARED_DIFFERENCE): int8 inputs 0
 * and 1 and int8 output, their NHWC dims (rank <= 4, each input broadcasting to the output:
 * mcu_rt_broadcast_dims). The fused activation is the op's: mcu_rt_activation. */
typedef struct {
    mcu_tensor_info a, b, out;
} mcu_binary;

mcu_rt_status mcu_rt_binary(mcu_interpreter *rt, const mcu_node *node, mcu_binary *t,
                            mcu_dims *dims1, mcu_dims *dims2, mcu_dims *out_dims);

/* mcu_rt_binary for ops with a 16x8 form (ADD, MUL): int8, or int16 with zero point 0
 * (mcu_rt_check_activation), the three tensors of one type. */
mcu_rt_status mcu_rt_binary16(mcu_interpreter *rt, const mcu_node *node, mcu_binary *t,
                              mcu_dims *dims1, mcu_dims *dims2, mcu_dims *out_dims);

/* ADD's requantization (TFLM; also SUB's and SQUARED_DIFFERENCE's inputs): offsets, both inputs
 * rescaled to twice the larger input scale with `left_shift` bits of headroom, the result to
 * the output scale; the divisions rounded to `bits` (MCU_REAL_DOUBLE for ADD, MCU_REAL_FLOAT
 * for SUB: TFLM divides the float scales in float32 there). Fills every field of *p but the
 * activation. */
void mcu_rt_add_quant(const mcu_binary *t, int32_t left_shift, int32_t bits, mcu_add_params *p);

/* Input k (or MCU_RT_OUTPUT) of a node, of type `type`: TFL_INT8 is an int8 activation
 * (mcu_rt_check_int8), another type must match exactly (else BAD_TENSOR_TYPE),
 * MCU_RT_ANY_TYPE is not checked. */
#define MCU_RT_ANY_TYPE (-1)
mcu_rt_status mcu_rt_typed(mcu_interpreter *rt, const mcu_node *node, int32_t k, int32_t type,
                           mcu_tensor_info *t);

/* Unary elementwise ops (activations, QUANTIZE, DEQUANTIZE): input 0 and output 0 (types as
 * mcu_rt_typed) of equal element count (else CORRUPT_MODEL), viewed flat as dims
 * {1, 1, 1, count}. Inline: prepare's stack stays what it was before the helper. */
typedef struct {
    mcu_tensor_info in, out;
} mcu_unary;

static inline mcu_rt_status mcu_rt_unary(mcu_interpreter *rt, const mcu_node *node,
                                         int32_t in_type, int32_t out_type, mcu_unary *t,
                                         mcu_dims *dims)
{
    mcu_rt_status st;
    if ((st = mcu_rt_typed(rt, node, 0, in_type, &t->in)) ||
        (st = mcu_rt_typed(rt, node, MCU_RT_OUTPUT, out_type, &t->out)))
        return st;
    if (t->out.count != t->in.count)
        return MCU_RT_CORRUPT_MODEL;
    dims->n = dims->h = dims->w = 1;
    dims->c = t->in.count;
    return MCU_RT_OK;
}

/* The multiplier and shift of a plain rescale, QuantizeMultiplier(s_in / s_out) in double. */
void mcu_rt_rescale(const mcu_tensor_info *in, const mcu_tensor_info *out, int32_t *multiplier,
                    int32_t *shift);

#endif /* MCU_RT_OP_H */
