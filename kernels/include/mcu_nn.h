/*
 * mcu_nn.h - the int8 kernel library of mcusim: the one public header.
 *
 * Both deployment paths call these functions: the generated C of the classic path and the
 * on-target micro-interpreter of the tinyml path. Every kernel is bit-exact with TensorFlow
 * Lite Micro's int8 reference kernels (and with mcusim/frontend/reference.py, the living spec).
 *
 * FLAVOURS. Two directories implement the SAME function names:
 *   kernels/src/ref/  portable C for any core (the specification in C), every kernel;
 *   kernels/src/opt/  C with the Cortex-M DSP instructions (SXTB16, SMLAD, SSAT, ...) through
 *                     arm_acle.h, under `#if defined(__ARM_FEATURE_DSP)`, for the kernels
 *                     that have an optimized algorithm.
 * A build picks the flavour per file (with -I kernels/include): ref compiles every .c under
 * src/ref/; opt compiles every .c under src/opt/ plus each src/ref/ file with no src/opt/
 * file of the same name. Never both files of one kernel. An optimized file, compiled for a
 * core without the DSP extension (Cortex-M0+/M3), includes the reference file of the same
 * kernel instead, so the opt flavour builds and is correct everywhere.
 *
 * CONVENTIONS shared by every kernel.
 *  - Signature: mcu_<op>_s8(ctx, params, [quant,] in_dims, in, [more inputs,] out_dims, out),
 *    returning mcu_status. Nothing is allocated; nothing touches floating point except
 *    mcu_dequantize_s8/_s16, mcu_quantize_f32_s16, mcu_neg_f32 (a float sign flip) and
 *    mcu_resize_nearest_s8's source indices (float32 as in TFLM). Kernels never write
 *    outside `out` and the scratch of `ctx`.
 *  - Tensors are NHWC, densely packed, int8 (bias int32). A tensor of lower rank is passed with
 *    leading dimensions of 1 (a [batch, depth] FC input is {n=batch, h=1, w=1, c=depth}).
 *  - Offsets follow TFLite's ArithmeticParams: an *input* offset is the NEGATED zero point
 *    (added to the raw value, range [-127, 128]); an *output* offset is the zero point itself
 *    ([-128, 127]). Where a field is named *_zero_point it is the zero point itself.
 *  - Requantization multipliers/shifts are computed by the caller with TFLite's
 *    QuantizeMultiplier: multiplier is Q31 in [2^30, 2^31) (or 0), shift in [-31, 30],
 *    positive = left shift. The kernels apply TFLM's double-rounding
 *    MultiplyByQuantizedMultiplier (SaturatingRoundingDoublingHighMul then RoundingDivideByPOT).
 *  - Activation clamps are int8 ranges with -128 <= min <= max <= 127.
 *  - Scratch: a kernel that may need scratch memory has a sibling
 *    int32_t mcu_<op>_s8_get_buffer_size(...) giving the bytes it needs in the flavour compiled
 *    (0 is a valid answer). Pass a ctx whose buf is 4-byte aligned and whose size is at least
 *    that, else MCU_ERR_BUFFER. Kernels without such a sibling never use scratch; ctx may be NULL.
 *  - Invalid arguments (NULL pointers, non-positive dims, mismatched shapes, out-of-range
 *    params) return MCU_ERR_ARG before anything is written.
 */
#ifndef MCU_NN_H
#define MCU_NN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MCU_OK = 0,
    MCU_ERR_ARG = -1,         /* NULL pointer, bad dimension, parameter out of range */
    MCU_ERR_BUFFER = -2,      /* ctx scratch missing or smaller than get_buffer_size */
    MCU_ERR_UNSUPPORTED = -3, /* valid TFLite but outside what the kernel implements */
} mcu_status;

/* Shape of an NHWC tensor; every field >= 1. */
typedef struct {
    int32_t n, h, w, c;
} mcu_dims;

/* Scratch memory handed to a kernel: buf 4-byte aligned, size in bytes. */
typedef struct {
    void *buf;
    int32_t size;
} mcu_context;

/* A (height, width) pair: stride, dilation, padding or filter size. */
typedef struct {
    int32_t h, w;
} mcu_hw;

/* Activation clamp, inclusive, -128 <= min <= max <= 127. */
typedef struct {
    int32_t min, max;
} mcu_range;

/* Requantization of an accumulator to the output scale, per tensor or per output channel.
 * per_channel == 0: multiplier[0], shift[0] for every channel; else one entry per channel. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t per_channel;
} mcu_quant_params;

/* ------------------------------------------------------------------------------------------ */
/* FULLY_CONNECTED                                                                            */

typedef struct {
    int32_t input_offset;  /* -input zero point, [-127, 128] */
    int32_t filter_offset; /* -filter zero point, [-127, 128]; 0 for TFLite's symmetric int8 */
    int32_t output_offset; /* output zero point, [-128, 127] */
    mcu_range activation;
} mcu_fc_params;

/* out[b][o] = clamp(requant(bias[o] + sum_k (w[o][k] + filter_offset) * (in[b][k] + input_offset),
 *                            quant[o]) + output_offset)
 * input_dims: n = batches, h*w*c = depth K.  filter_dims: n = output channels O, h = w = 1,
 * c = K; filter layout [O][K] as TFLite stores it.  output_dims: n = batches, h = w = 1, c = O.
 * bias: O int32 values, or NULL.  K <= 65535 (int32 accumulation cannot overflow). */
mcu_status mcu_fully_connected_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int8_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int32_t *bias,
                                  const mcu_dims *output_dims, int8_t *output);
int32_t mcu_fully_connected_s8_get_buffer_size(const mcu_dims *filter_dims);

/* 16x8 mode (int16 activations, zero point 0; int8 weights; int64 bias): out[b][o] =
 * clamp(requant64(bias[o] + sum_k w[o][k] * in[b][k], quant[o]) + output_offset), where
 * requant64 is TFLM's int64 MultiplyByQuantizedMultiplier (the multiplier rounded to Q0.15,
 * one rounding shift); input_offset and filter_offset are ignored (0 in 16x8 models); the
 * activation clamp an int16 range. Dims as mcu_fully_connected_s8. No scratch. */
mcu_status mcu_fully_connected_s16(const mcu_context *ctx, const mcu_fc_params *params,
                                   const mcu_quant_params *quant, const mcu_dims *input_dims,
                                   const int16_t *input, const mcu_dims *filter_dims,
                                   const int8_t *filter, const int64_t *bias,
                                   const mcu_dims *output_dims, int16_t *output);

/* FULLY_CONNECTED by Winograd's inner-product identity (S. Winograd, "A new algorithm for
 * inner product", IEEE Trans. Computers C-17(7), 1968): for a pair of inputs and weights,
 *   x0 w0 + x1 w1 = (x0 + w1)(x1 + w0) - x0 x1 - w0 w1,
 * one multiply per two MACs once the two correction terms are known. The input term
 * sum_j (x_{4j} x_{4j+1} + x_{4j+2} x_{4j+3}) (x with the input offset added) is computed
 * once per batch and shared by every output row; the weight term of row o,
 *   pair_sums[o] = sum_{j < K/4} (w[o][4j] w[o][4j+1] + w[o][4j+2] w[o][4j+3])
 * (raw int8 weights, whole groups of 4 only), is a constant of the model, prepared once (on
 * the host by the classic path's code generator, or on the target) by
 * mcu_fully_connected_wino_s8_prepare: O int32 values, |value| <= 2^15 K / 4, so the filter
 * keeps its TFLite [O][K] layout and costs 4 extra bytes per output row. The last K % 4
 * inputs are multiplied directly; a non-zero filter_offset is folded in as
 * filter_offset * sum_k (x_k + input_offset). Intermediate sums wrap modulo 2^32 (harmless:
 * the final accumulator is exactly mcu_fully_connected_s8's), so the outputs are identical.
 * Same params, quant, dims, bias and K <= 65535 contracts as mcu_fully_connected_s8; pair_sums
 * NULL returns MCU_ERR_ARG. The prepare function takes the filter's dims {O, 1, 1, K} (any h, w
 * with h * w * c = K) and returns MCU_ERR_ARG for a NULL pointer, bad dims or K > 65535.
 * Scratch (get_buffer_size): 0 in the reference flavour; the optimized one keeps the input as
 * int16 (2 bytes per input) and 4 bytes per output row of its 8-row blocks. On the DSP
 * extension each weight word costs one load, two SXTAB16 and one SMLAD for four MACs
 * (SXTB16 + SMLAD needs two more instructions). */
mcu_status mcu_fully_connected_wino_s8_prepare(const mcu_dims *filter_dims, const int8_t *filter,
                                              int32_t *pair_sums);
mcu_status mcu_fully_connected_wino_s8(const mcu_context *ctx, const mcu_fc_params *params,
                                      const mcu_quant_params *quant, const mcu_dims *input_dims,
                                      const int8_t *input, const mcu_dims *filter_dims,
                                      const int8_t *filter, const int32_t *pair_sums,
                                      const int32_t *bias, const mcu_dims *output_dims,
                                      int8_t *output);
int32_t mcu_fully_connected_wino_s8_get_buffer_size(const mcu_dims *filter_dims);

/* ------------------------------------------------------------------------------------------ */
/* CONV_2D (also 1xN / Conv1D: pass h = 1)                                                    */

typedef struct {
    int32_t input_offset;  /* -input zero point, [-127, 128] */
    int32_t output_offset; /* output zero point, [-128, 127] */
    mcu_hw stride;         /* >= 1 */
    mcu_hw padding;        /* pad_top (h) and pad_left (w) in input pixels, >= 0, computed by the
                              caller (TFLite SAME: ((out-1)*stride + eff_k - in) / 2, floored) */
    mcu_hw dilation;       /* >= 1 */
    mcu_range activation;
} mcu_conv_params;

/* Standard convolution, TFLM ConvPerChannel semantics (taps outside the input contribute 0,
 * i.e. the padded value is the input zero point).
 * input_dims {N, H, W, C}; filter_dims {n = O, h = KH, w = KW, c = C}, layout [O][KH][KW][C];
 * output_dims {N, OH, OW, O}; bias O values or NULL. Grouped convolution: filter c = C / G
 * for G groups (G divides C and O; output channel o reads input channels of group o / (O/G)).
 * KH*KW*(C/G) <= 65535. */
mcu_status mcu_conv_s8(const mcu_context *ctx, const mcu_conv_params *params,
                       const mcu_quant_params *quant, const mcu_dims *input_dims,
                       const int8_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias, const mcu_dims *output_dims, int8_t *output);
int32_t mcu_conv_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);

/* 16x8 mode: mcu_conv_s8's geometry and grouping on int16 input and output (zero point 0,
 * input_offset ignored), int8 filter, int64 bias, int64 accumulation and TFLM's int64
 * MultiplyByQuantizedMultiplier (see mcu_fully_connected_s16); int16 clamp. Scratch
 * (get_buffer_size): 0 in the reference flavour; the optimized one keeps two int16 im2col
 * columns. */
mcu_status mcu_conv_s16(const mcu_context *ctx, const mcu_conv_params *params,
                        const mcu_quant_params *quant, const mcu_dims *input_dims,
                        const int16_t *input, const mcu_dims *filter_dims, const int8_t *filter,
                        const int64_t *bias, const mcu_dims *output_dims, int16_t *output);
int32_t mcu_conv_s16_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);

/* CONV_2D 3x3, stride 1, dilation 1, ungrouped, by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016): each 2x2
 * block of outputs is A^T [(G g G^T) . (B^T d B)] A summed over input channels, 16 multiplies
 * per input channel where the direct form needs 36. Exact in integers: the filter transform is
 * scaled by 4 (G' = 2G has integer entries), so every product is an integer and the sum is 4
 * times TFLM's accumulator; the kernel divides it back exactly (arithmetic shift by 2) before
 * the bias and the same requantization as mcu_conv_s8, so the outputs are identical.
 * Intermediate sums wrap modulo 2^32 (harmless: the final value fits), which is why C <= 1024.
 *
 * The filter is used in transformed form, prepared once (on the host by the classic path's
 * code generator, or on the target) by mcu_conv_wino_s8_transform: int16 values, laid out
 * [O' / 2][16 transform positions][C' / 2][2 output channels][2 input channels] with
 * O' = O rounded up to even and C' = C rounded up to a multiple of 4; the input-channel pair
 * of word q = 2g + p is (4g + p, 4g + p + 2) (the even/odd halves SXTB16 gives); padding
 * channels are 0. 32 bytes per (output, input) channel pair against 9 for the int8 filter.
 * Same params, quant, dims and bias contracts as mcu_conv_s8; filter_dims is the int8
 * filter's {O, 3, 3, C}; transformed and ctx->buf 4-byte aligned. Anything else (other
 * kernel sizes, strides, dilation, groups, C > 1024) returns MCU_ERR_UNSUPPORTED. */
int32_t mcu_conv_wino_s8_filter_size(const mcu_dims *filter_dims); /* bytes; 0 if unsupported */
mcu_status mcu_conv_wino_s8_transform(const mcu_dims *filter_dims, const int8_t *filter,
                                      int16_t *transformed);
mcu_status mcu_conv_wino_s8(const mcu_context *ctx, const mcu_conv_params *params,
                            const mcu_quant_params *quant, const mcu_dims *input_dims,
                            const int8_t *input, const mcu_dims *filter_dims,
                            const int16_t *transformed, const int32_t *bias,
                            const mcu_dims *output_dims, int8_t *output);
int32_t mcu_conv_wino_s8_get_buffer_size(const mcu_dims *input_dims, const mcu_dims *filter_dims);

/* ------------------------------------------------------------------------------------------ */
/* DEPTHWISE_CONV_2D                                                                          */

typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t ch_mult;       /* depth multiplier M >= 1 */
    mcu_hw stride, padding, dilation;
    mcu_range activation;
} mcu_dw_conv_params;

/* Output channel oc = ic * M + m reads input channel ic.
 * input_dims {N, H, W, C}; filter_dims {n = 1, h = KH, w = KW, c = C*M}, layout
 * [1][KH][KW][C*M]; output_dims {N, OH, OW, C*M}; bias C*M values or NULL.
 * The optimized flavour runs C = 1, M > 1 as mcu_conv_s8 on a filter transposed into its
 * scratch, so a build of it must link kernels/src/opt/conv/mcu_conv_s8.c as well. */
mcu_status mcu_depthwise_conv_s8(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output);

/* 16x8 mode: mcu_depthwise_conv_s8's geometry on int16 input and output (zero point 0,
 * input_offset ignored), int8 filter, int64 bias, int64 accumulation and TFLM's int64
 * MultiplyByQuantizedMultiplier (see mcu_fully_connected_s16); int16 clamp. No scratch. */
mcu_status mcu_depthwise_conv_s16(const mcu_context *ctx, const mcu_dw_conv_params *params,
                                  const mcu_quant_params *quant, const mcu_dims *input_dims,
                                  const int16_t *input, const mcu_dims *filter_dims,
                                  const int8_t *filter, const int64_t *bias,
                                  const mcu_dims *output_dims, int16_t *output);
int32_t mcu_depthwise_conv_s8_get_buffer_size(const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims);

/* ------------------------------------------------------------------------------------------ */
/* TRANSPOSE_CONV                                                                             */

typedef struct {
    int32_t input_offset;  /* -input zero point, [-127, 128] */
    int32_t output_offset; /* output zero point, [-128, 127] */
    mcu_hw stride;         /* >= 1 */
    mcu_hw padding;        /* pad_top (h) and pad_left (w) in output pixels, >= 0, computed by the
                              caller as TFLM does: the conv padding with the OUTPUT as the image
                              (SAME: ((ceil(out/stride)-1)*stride + k - out) / 2, floored) */
    mcu_range activation;
} mcu_transpose_conv_params;

/* Transposed convolution, TFLM reference_integer_ops::TransposeConv semantics: input pixel
 * (iy, ix) times filter tap (ky, kx) lands on output (iy*stride.h - padding.h + ky,
 * ix*stride.w - padding.w + kx); products landing outside the output are dropped; then bias,
 * per-channel requantization and the clamp. input_dims {N, H, W, C}; filter_dims {n = O,
 * h = KH, w = KW, c = C}, layout [O][KH][KW][C] (TFLite's); output_dims {N, OH, OW, O}; bias O
 * values or NULL. The filter zero point is 0 (TFLite's symmetric int8 weights).
 * KH*KW*C <= 65535. Both flavours gather (per output pixel, the taps that reach it) instead of
 * scattering into an int32 buffer of the output's size as TFLM does: same sums, no such buffer.
 * Scratch (get_buffer_size): 0 in the reference flavour; the optimized one keeps the filter
 * split by stride phase (the taps that reach outputs of one (oy mod stride, ox mod stride)
 * class, each row padded to 4 bytes) and one widened int16 column of input values. */
mcu_status mcu_transpose_conv_s8(const mcu_context *ctx, const mcu_transpose_conv_params *params,
                                 const mcu_quant_params *quant, const mcu_dims *input_dims,
                                 const int8_t *input, const mcu_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const mcu_dims *output_dims, int8_t *output);
int32_t mcu_transpose_conv_s8_get_buffer_size(const mcu_transpose_conv_params *params,
                                              const mcu_dims *input_dims,
                                              const mcu_dims *filter_dims,
                                              const mcu_dims *output_dims);

/* ------------------------------------------------------------------------------------------ */
/* BATCH_MATMUL                                                                               */

typedef struct {
    int32_t lhs_offset;    /* -lhs zero point, [-127, 128] (TFLM's input_offset) */
    int32_t rhs_offset;    /* -rhs zero point, [-127, 128] (TFLM's filter offset) */
    int32_t output_offset; /* output zero point, [-128, 127] */
    int32_t adj_x;         /* 1: lhs stored transposed, [K][M] per batch */
    int32_t adj_y;         /* 1: rhs stored transposed, [N][K] per batch */
    mcu_range activation;  /* [-128, 127] for TFLite's BATCH_MATMUL */
} mcu_batch_matmul_params;

/* out[b][m][n] = clamp(requant(sum_k (lhs[b][m][k] + lhs_offset) * (rhs[b][k][n] + rhs_offset))
 *                      + output_offset), per-tensor quant (multiplier[0], shift[0]).
 * Dims as stored: lhs {n = B0, h = B1, w, c} is [M][K] (adj_x: [K][M]); rhs {B0, B1, w, c} is
 * [K][N] (adj_y: [N][K]); output {B0, B1, M, N}. Each batch dimension of lhs and rhs equals
 * the output's or is 1 (broadcast). K <= 65535. Scratch (get_buffer_size): 0 in the
 * reference flavour; the optimized one lays the rhs out as N rows of K (padded to a multiple
 * of 4) and keeps one widened int16 lhs row: N * K4 + 2 * K4 bytes. */
mcu_status mcu_batch_matmul_s8(const mcu_context *ctx, const mcu_batch_matmul_params *params,
                               const mcu_quant_params *quant, const mcu_dims *lhs_dims,
                               const int8_t *lhs, const mcu_dims *rhs_dims, const int8_t *rhs,
                               const mcu_dims *output_dims, int8_t *output);
int32_t mcu_batch_matmul_s8_get_buffer_size(const mcu_batch_matmul_params *params,
                                            const mcu_dims *lhs_dims, const mcu_dims *rhs_dims);

/* ------------------------------------------------------------------------------------------ */
/* MAX_POOL_2D, AVERAGE_POOL_2D                                                               */

typedef struct {
    mcu_hw stride;  /* >= 1 */
    mcu_hw padding; /* pad_top, pad_left >= 0 */
    mcu_hw filter;  /* window KH, KW >= 1 */
    mcu_range activation;
} mcu_pool_params;

/* input {N, H, W, C}, output {N, OH, OW, C}; window positions outside the input are skipped
 * (not counted). Input and output scale/zero point are equal (TFLite requires it). */
mcu_status mcu_max_pool_s8(const mcu_context *ctx, const mcu_pool_params *params,
                           const mcu_dims *input_dims, const int8_t *input,
                           const mcu_dims *output_dims, int8_t *output);

/* 16x8 mode: mcu_max_pool_s8 on int16 input and output, an int16 activation clamp. */
mcu_status mcu_max_pool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                            const mcu_dims *input_dims, const int16_t *input,
                            const mcu_dims *output_dims, int16_t *output);

/* Average over the in-bounds taps, rounded half away from zero (TFLM). An output whose window
 * has no in-bounds tap returns MCU_ERR_ARG (TFLM fails the same way). */
mcu_status mcu_avg_pool_s8(const mcu_context *ctx, const mcu_pool_params *params,
                           const mcu_dims *input_dims, const int8_t *input,
                           const mcu_dims *output_dims, int8_t *output);
int32_t mcu_avg_pool_s8_get_buffer_size(const mcu_dims *input_dims);

/* 16x8 mode: mcu_avg_pool_s8 on int16 input and output (int32 sums, a window of at most
 * 65536 taps), an int16 activation clamp. No scratch. */
mcu_status mcu_avg_pool_s16(const mcu_context *ctx, const mcu_pool_params *params,
                            const mcu_dims *input_dims, const int16_t *input,
                            const mcu_dims *output_dims, int16_t *output);

/* ------------------------------------------------------------------------------------------ */
/* MEAN over H and W (global average pooling)                                                 */

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* QuantizeMultiplier(input_scale / output_scale) */
    int32_t shift;
} mcu_mean_params;

/* out[n][c] = clamp(MBQM(sum_hw in - zp_in * H*W, m', s') + zp_out), where (m', s')
 * folds 1/(H*W) into (multiplier, shift) exactly as TFLM's QuantizedMeanOrSum does:
 *   k = min(floor(log2(H*W)), 32, 31 + shift); m' = (multiplier << k) / (H*W); s' = shift - k.
 * This holds also when input and output share quantization (current TFLM has no plain
 * sum / count path). input {N, H, W, C}; output {N, 1, 1, C}; H*W <= 2^23. */
mcu_status mcu_mean_s8(const mcu_context *ctx, const mcu_mean_params *params,
                       const mcu_dims *input_dims, const int8_t *input,
                       const mcu_dims *output_dims, int8_t *output);
int32_t mcu_mean_s8_get_buffer_size(const mcu_dims *input_dims);

/* 16x8 mode: mcu_mean_s8 on int16 input and output (TFLM QuantizedMeanOrSum<int16_t>: the
 * same int32 sums and folded multiplier), saturated to int16; H*W <= 2^16. No scratch. */
mcu_status mcu_mean_s16(const mcu_context *ctx, const mcu_mean_params *params,
                        const mcu_dims *input_dims, const int16_t *input,
                        const mcu_dims *output_dims, int16_t *output);

/* ------------------------------------------------------------------------------------------ */
/* ADD, MUL (elementwise with broadcasting)                                                   */
/* Broadcast: every dimension of each input equals the output's or is 1 (NumPy rules after the
 * caller pads both shapes to rank 4). Output may alias an input of the output's shape.       */

typedef struct {
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t left_shift;                   /* 20 for int8 (TFLM) */
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t output_offset;
    mcu_range activation;
} mcu_add_params;

/* TFLM int8 ADD: a_i = MBQM((x_i + off_i) << left_shift, m_i, s_i);
 * out = clamp(MBQM(a_1 + a_2, m_out, s_out) + output_offset). */
mcu_status mcu_add_s8(const mcu_context *ctx, const mcu_add_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output);

typedef struct {
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t output_multiplier, output_shift; /* QuantizeMultiplier(s1 * s2 / s_out) */
    int32_t output_offset;
    mcu_range activation;
} mcu_mul_params;

/* TFLM int8 MUL: out = clamp(MBQM((x1 + off1) * (x2 + off2), m, s) + output_offset). */
mcu_status mcu_mul_s8(const mcu_context *ctx, const mcu_mul_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output);

/* 16x8 mode (int16 in and out, zero points 0): ADD with left_shift 15 (TFLM runs every int16
 * ADD through this general rescaling, power-of-two scales too), left_shift 0..15; MUL with
 * the same formula as int8 (the product of two int16 values fits int32); int16 clamp. */
mcu_status mcu_add_s16(const mcu_context *ctx, const mcu_add_params *params,
                       const mcu_dims *input1_dims, const int16_t *input1,
                       const mcu_dims *input2_dims, const int16_t *input2,
                       const mcu_dims *output_dims, int16_t *output);
mcu_status mcu_mul_s16(const mcu_context *ctx, const mcu_mul_params *params,
                       const mcu_dims *input1_dims, const int16_t *input1,
                       const mcu_dims *input2_dims, const int16_t *input2,
                       const mcu_dims *output_dims, int16_t *output);

/* TFLM int8 SUB: ADD's record and arithmetic with out = clamp(MBQM(a_1 - a_2, m_out, s_out)
 * + output_offset). TFLM computes SUB's real multipliers in float32 (ADD's in double). */
mcu_status mcu_sub_s8(const mcu_context *ctx, const mcu_add_params *params,
                      const mcu_dims *input1_dims, const int8_t *input1,
                      const mcu_dims *input2_dims, const int8_t *input2,
                      const mcu_dims *output_dims, int8_t *output);

/* TFLM int8 SQUARED_DIFFERENCE, in ADD's record: left_shift 7 (0..7), input shifts <= 0,
 * d = a_1 - a_2; out = clamp(MBQM(d * d, m_out, s_out) + output_offset), where
 * m_out, s_out = QuantizeMultiplier(twice_max^2 / (2^14 * s_out)) (the shift may be positive)
 * and the activation is [-128, 127]. */
mcu_status mcu_squared_difference_s8(const mcu_context *ctx, const mcu_add_params *params,
                                     const mcu_dims *input1_dims, const int8_t *input1,
                                     const mcu_dims *input2_dims, const int8_t *input2,
                                     const mcu_dims *output_dims, int8_t *output);

/* TFLM int8 MAXIMUM / MINIMUM: the larger / smaller raw int8 value (no quantization: the
 * converter gives both inputs and the output one scale and zero point). */
mcu_status mcu_maximum_s8(const mcu_context *ctx, const mcu_dims *input1_dims,
                          const int8_t *input1, const mcu_dims *input2_dims, const int8_t *input2,
                          const mcu_dims *output_dims, int8_t *output);
mcu_status mcu_minimum_s8(const mcu_context *ctx, const mcu_dims *input1_dims,
                          const int8_t *input1, const mcu_dims *input2_dims, const int8_t *input2,
                          const mcu_dims *output_dims, int8_t *output);

/* ------------------------------------------------------------------------------------------ */
/* RSQRT (int8), NEG (float32)                                                                */

typedef struct {
    int32_t input_zero_point, output_zero_point; /* the zero points themselves */
    int32_t multiplier, shift; /* QuantizeMultiplier(1 / (sqrtf(s_in) * s_out)), float32 product */
} mcu_rsqrt_params;

/* TFLM int8 RSQRT: v = x - input_zero_point; v == 0 -> 127; else
 * out = clamp(MBQM(MBQM(1, inv, inv_shift + 20), multiplier, shift - 20) + output_zero_point)
 * with (inv, inv_shift) = TFLM's GetInvSqrtQuantizedMultiplierExp(v) (fixed-point Newton).
 * Any x < input_zero_point (a negative number, which TFLM refuses): MCU_ERR_ARG. */
mcu_status mcu_rsqrt_s8(const mcu_context *ctx, const mcu_rsqrt_params *params,
                        const mcu_dims *dims, const int8_t *input, int8_t *output);

/* TFLM NEG (float32 only; Keras's LayerNormalization negates its mean between a DEQUANTIZE and
 * a QUANTIZE): out = -in, by flipping the sign bit. Output may alias input. */
mcu_status mcu_neg_f32(const mcu_context *ctx, const mcu_dims *dims, const float *input,
                       float *output);

/* ------------------------------------------------------------------------------------------ */
/* CONCATENATION, PAD                                                                         */

/* Requantization of one concatenation input to the output's quantization.
 * multiplier == 0 means "same scale and zero point": bytes are copied. Otherwise
 * out = clamp(MBQM(x - input_zero_point, multiplier, shift) + output_zero_point, -128, 127). */
typedef struct {
    int32_t input_zero_point;
    int32_t multiplier, shift;
} mcu_concat_input;

typedef struct {
    int32_t axis;       /* 0..3 = n, h, w, c */
    int32_t num_inputs; /* >= 1 */
    int32_t output_zero_point;
    const mcu_concat_input *requant; /* num_inputs entries, or NULL: all copied */
} mcu_concat_params;

/* input_dims/inputs: arrays of num_inputs; all dims equal the output's except along axis,
 * where they sum to the output's. */
mcu_status mcu_concatenation_s8(const mcu_context *ctx, const mcu_concat_params *params,
                                const mcu_dims *input_dims, const int8_t *const *inputs,
                                const mcu_dims *output_dims, int8_t *output);

typedef struct {
    mcu_dims before; /* elements added before each dimension, >= 0 */
    mcu_dims after;  /* elements added after each dimension, >= 0 */
    int32_t pad_value; /* int8 value written in the border: the output zero point for PAD */
} mcu_pad_params;

/* output_dims must equal input + before + after in every dimension. */
mcu_status mcu_pad_s8(const mcu_context *ctx, const mcu_pad_params *params,
                      const mcu_dims *input_dims, const int8_t *input,
                      const mcu_dims *output_dims, int8_t *output);

/* ------------------------------------------------------------------------------------------ */
/* TRANSPOSE, SPLIT / SPLIT_V, SLICE, GATHER (data movement: raw int8 values are moved, the   */
/* quantization passes through as in TFLM). Output never aliases an input.                   */

typedef struct {
    int32_t perm[4]; /* output axis a is input axis perm[a]; a permutation of 0..3 (NHWC) */
} mcu_transpose_params;

/* out[i0][i1][i2][i3] = in[...] with input index j[perm[a]] = i_a; output_dims are the input
 * dims permuted. */
mcu_status mcu_transpose_s8(const mcu_context *ctx, const mcu_transpose_params *params,
                            const mcu_dims *input_dims, const int8_t *input,
                            const mcu_dims *output_dims, int8_t *output);

typedef struct {
    int32_t axis;        /* 0..3 = n, h, w, c */
    int32_t num_outputs; /* >= 1 */
} mcu_split_params;

/* The inverse of mcu_concatenation_s8: output k takes the next output_dims[k] extent of the
 * input along axis (SPLIT: equal parts; SPLIT_V: given sizes). output_dims/outputs: arrays of
 * num_outputs; every dim equals the input's except along axis, where they sum to it. */
mcu_status mcu_split_s8(const mcu_context *ctx, const mcu_split_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *output_dims, int8_t *const *outputs);

typedef struct {
    mcu_dims begin; /* first input index per axis, >= 0 */
} mcu_slice_params;

/* The box of output_dims starting at begin: begin + output_dims <= input_dims per axis. */
mcu_status mcu_slice_s8(const mcu_context *ctx, const mcu_slice_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *output_dims, int8_t *output);

typedef struct {
    int32_t batches;     /* product of the input dims before batch_dims (>= 1) */
    int32_t outer;       /* product of the input dims from batch_dims to axis (>= 1) */
    int32_t axis_size;   /* the input's extent along axis (>= 1) */
    int32_t inner;       /* product of the input dims after axis: bytes per gathered block */
    int32_t num_indices; /* indices per batch (>= 0) */
} mcu_gather_params;

/* TFLM GATHER: for b < batches, o < outer, k < num_indices, the inner-byte block
 * out[b][o][k] = in[b][o][indices[b * num_indices + k]]. The input has
 * batches * outer * axis_size * inner bytes, the output batches * outer * num_indices * inner.
 * An index outside [0, axis_size) returns MCU_ERR_ARG (TFLM does not check; it reads outside
 * the input) before anything is written. */
mcu_status mcu_gather_s8(const mcu_context *ctx, const mcu_gather_params *params,
                         const int8_t *input, const int32_t *indices, int8_t *output);

/* ------------------------------------------------------------------------------------------ */
/* RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR: input {N, H, W, C} to output {N, OH, OW, C}      */

typedef struct {
    int32_t align_corners;      /* 0 or 1 */
    int32_t half_pixel_centers; /* 0 or 1 (bilinear: not together with align_corners) */
} mcu_resize_params;

/* TFLM ResizeNearestNeighbor: source row (column) of output y is
 * min(floor((y + 0.5 * half_pixel_centers) * scale), H - 1) (align_corners: rounded half away
 * from zero instead of floored; half_pixel_centers: at least 0), scale = H / OH or, with
 * align_corners and OH > 1, (H - 1) / (OH - 1) -- computed in float32 exactly as TFLM does
 * (the one float kernel besides mcu_dequantize_s8: software floats on a core without an FPU). */
mcu_status mcu_resize_nearest_s8(const mcu_context *ctx, const mcu_resize_params *params,
                                 const mcu_dims *input_dims, const int8_t *input,
                                 const mcu_dims *output_dims, int8_t *output);

/* TFLM ResizeBilinearInteger: positions in 10 fractional bits (scale rounded to 1/1024), the
 * four neighbours weighted in 20 bits, rounded half away from zero. Integer only. */
mcu_status mcu_resize_bilinear_s8(const mcu_context *ctx, const mcu_resize_params *params,
                                  const mcu_dims *input_dims, const int8_t *input,
                                  const mcu_dims *output_dims, int8_t *output);

/* ------------------------------------------------------------------------------------------ */
/* SOFTMAX, LOGISTIC, TANH, HARD_SWISH (TFLM's int8 fixed-point algorithms)                   */

typedef struct {
    int32_t input_multiplier; /* PreprocessSoftmaxScaling(beta, input_scale, 5) */
    int32_t input_left_shift; /* >= 0 */
    int32_t diff_min;         /* -CalculateInputRadius(5, input_left_shift), <= 0 */
} mcu_softmax_params;

/* Softmax along c for every (n, h, w) row; output scale 1/256, zero point -128 (TFLM). */
mcu_status mcu_softmax_s8(const mcu_context *ctx, const mcu_softmax_params *params,
                          const mcu_dims *dims, const int8_t *input, int8_t *output);

/* 16x8 mode (TFLM SoftmaxInt16): softmax along c on int16 input (zero point 0), output
 * scale 1/32768, zero point 0. The input difference to the row maximum is rescaled by
 * MultiplyByQuantizedMultiplier(input_multiplier, input_shift) so that [-65535, 0] covers
 * [-10, 0]; exp and 1/(1+x) come from the kernel's two 513-entry int16 tables (TFLM's
 * LUTPopulate<int16_t> ones, which depend on no model parameter). */
typedef struct {
    int32_t input_multiplier;
    int32_t input_shift; /* QuantizeMultiplier's shift, positive = left */
} mcu_softmax16_params;

mcu_status mcu_softmax_s16(const mcu_context *ctx, const mcu_softmax16_params *params,
                           const mcu_dims *dims, const int16_t *input, int16_t *output);

/* LOGISTIC and TANH: the input is rescaled to Q4.27, then gemmlowp's fixed-point logistic/tanh.
 *   input_multiplier/input_left_shift: frexp(input_scale * 2^27) as TFLM's Prepare computes it
 *   (left shift, >= 0 in practice); input_range_radius: CalculateInputRadius(4, left_shift, 31).
 * LOGISTIC output: scale 1/256, zero point -128.  TANH output: scale 1/128, zero point 0. */
typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} mcu_sigmoid_params;

mcu_status mcu_logistic_s8(const mcu_context *ctx, const mcu_sigmoid_params *params,
                           const mcu_dims *dims, const int8_t *input, int8_t *output);
mcu_status mcu_tanh_s8(const mcu_context *ctx, const mcu_sigmoid_params *params,
                       const mcu_dims *dims, const int8_t *input, int8_t *output);

/* 16x8 mode (TFLM's int16 LOGISTIC / TANH): v = (x * input_multiplier + round) >> input_shift
 * (int32, wrapping) brings the input to 3 * 2^12 per unit, then linear interpolation in
 * TFLite's sigmoid table (mcu_sigmoid_table, generated from the TFLM tree: every image with
 * these kernels links mcu_sigmoid_table.c). Output Q0.15 (scale 2^-15, zero point 0).
 *   power-of-two input scale 2^-12 (TANH: or 2^-11): multiplier 3 << (12 + log2 scale), shift 0;
 *   otherwise multiplier = trunc(scale * 12288 * 2^shift), the first shift (0..31) putting it
 *   above 16383.5; multiplier <= 32767. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_shift; /* right shift with rounding, 0..31 */
} mcu_sigmoid16_params;

mcu_status mcu_logistic_s16(const mcu_context *ctx, const mcu_sigmoid16_params *params,
                            const mcu_dims *dims, const int16_t *input, int16_t *output);
mcu_status mcu_tanh_s16(const mcu_context *ctx, const mcu_sigmoid16_params *params,
                        const mcu_dims *dims, const int16_t *input, int16_t *output);

/* HARD_SWISH, TFLM reference_ops::HardSwish<int8_t> (16-bit fixed point). With
 * hires = input_scale / 128: QuantizeMultiplier(hires / output_scale) and
 * QuantizeMultiplier(hires / (3 / 32768)), each multiplier cut to int16 by
 * DownScaleInt32ToInt16Multiplier. output_exponent <= 0. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t reluish_multiplier; /* int16 fixed point, [0, 32767] */
    int32_t reluish_exponent;   /* [-31, 30] */
    int32_t output_multiplier;  /* int16 fixed point, [0, 32767] */
    int32_t output_exponent;    /* [-31, 0] */
} mcu_hard_swish_params;

mcu_status mcu_hard_swish_s8(const mcu_context *ctx, const mcu_hard_swish_params *params,
                             const mcu_dims *dims, const int8_t *input, int8_t *output);

/* ------------------------------------------------------------------------------------------ */
/* LEAKY_RELU, PRELU, RELU/RELU6 (clamp), QUANTIZE (requantize), DEQUANTIZE, LUT              */
/* All pointwise: output may alias input.                                                     */

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t identity_multiplier, identity_shift; /* QuantizeMultiplier(s_in / s_out) */
    int32_t alpha_multiplier, alpha_shift;       /* QuantizeMultiplier(s_in * alpha / s_out) */
} mcu_leaky_relu_params;

/* x = in - zp_in; out = clamp(zp_out + MBQM(x, x >= 0 ? identity : alpha)). */
mcu_status mcu_leaky_relu_s8(const mcu_context *ctx, const mcu_leaky_relu_params *params,
                             const mcu_dims *dims, const int8_t *input, int8_t *output);

typedef struct {
    int32_t input_offset;  /* -input zero point */
    int32_t alpha_offset;  /* -alpha zero point */
    int32_t output_offset; /* output zero point */
    int32_t positive_multiplier, positive_shift; /* QuantizeMultiplier(s_in / s_out) */
    int32_t negative_multiplier, negative_shift; /* QuantizeMultiplier(s_in * s_alpha / s_out) */
} mcu_prelu_params;

/* TFLM PRELU: x = in + input_offset; out = clamp(output_offset + (x >= 0 ?
 * MBQM(x, pos) : MBQM(x * (alpha + alpha_offset), neg))). alpha broadcasts like ADD's inputs
 * (each alpha dim equals the input's or is 1); output_dims equal input_dims. */
mcu_status mcu_prelu_s8(const mcu_context *ctx, const mcu_prelu_params *params,
                        const mcu_dims *input_dims, const int8_t *input,
                        const mcu_dims *alpha_dims, const int8_t *alpha,
                        const mcu_dims *output_dims, int8_t *output);

/* RELU, RELU6, RELU_N1_TO_1 and fused activations when input and output share scale and zero
 * point: out = clamp(in, range.min, range.max), e.g. RELU6 = [zp, zp + round(6 / scale)]. */
mcu_status mcu_clamp_s8(const mcu_context *ctx, const mcu_range *range, const mcu_dims *dims,
                        const int8_t *input, int8_t *output);

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift; /* QuantizeMultiplier(s_in / s_out) */
    mcu_range activation;      /* [-128, 127] for QUANTIZE; the RELU range for a rescaling RELU */
} mcu_requantize_params;

/* QUANTIZE int8 -> int8 (TFLM Requantize), and RELU/RELU6 whose output scale differs from the
 * input's (TFLM ReluQuantized): out = clamp(MBQM(in - zp_in, m, s) + zp_out). */
mcu_status mcu_quantize_s8(const mcu_context *ctx, const mcu_requantize_params *params,
                           const mcu_dims *dims, const int8_t *input, int8_t *output);

/* QUANTIZE uint8 -> int8 and int8 -> uint8 (TFLM Requantize; the converter's uint8 model input
 * and output): the same formula, the activation range within the output type's ([-128, 127] or
 * [0, 255] for QUANTIZE). */
mcu_status mcu_quantize_u8_s8(const mcu_context *ctx, const mcu_requantize_params *params,
                              const mcu_dims *dims, const uint8_t *input, int8_t *output);
mcu_status mcu_quantize_s8_u8(const mcu_context *ctx, const mcu_requantize_params *params,
                              const mcu_dims *dims, const int8_t *input, uint8_t *output);

/* QUANTIZE with int16 (16x8 mode; TFLM Requantize): int16 -> int16, int16 -> int8 and
 * int8 -> int16, the same formula, the activation range within the output type's. */
mcu_status mcu_quantize_s16(const mcu_context *ctx, const mcu_requantize_params *params,
                            const mcu_dims *dims, const int16_t *input, int16_t *output);
mcu_status mcu_quantize_s16_s8(const mcu_context *ctx, const mcu_requantize_params *params,
                               const mcu_dims *dims, const int16_t *input, int8_t *output);
mcu_status mcu_quantize_s8_s16(const mcu_context *ctx, const mcu_requantize_params *params,
                               const mcu_dims *dims, const int8_t *input, int16_t *output);

typedef struct {
    int32_t zero_point;
    float scale;
} mcu_dequantize_params;

/* DEQUANTIZE int8 -> float32: out = scale * (float)(in - zero_point) (single precision,
 * hardware FPU where the core has one, soft-float otherwise). Output may not alias input. */
mcu_status mcu_dequantize_s8(const mcu_context *ctx, const mcu_dequantize_params *params,
                             const mcu_dims *dims, const int8_t *input, float *output);

/* DEQUANTIZE int16 -> float32 (16x8 mode's float output): mcu_dequantize_s8's formula. */
mcu_status mcu_dequantize_s16(const mcu_context *ctx, const mcu_dequantize_params *params,
                              const mcu_dims *dims, const int16_t *input, float *output);

/* QUANTIZE float32 -> int16 (16x8 mode's float input; TFLM AffineQuantize): round(x / scale)
 * half away from zero in single precision, + zero_point, saturated; params are the int16
 * tensor's (scale > 0). */
mcu_status mcu_quantize_f32_s16(const mcu_context *ctx, const mcu_dequantize_params *params,
                                const mcu_dims *dims, const float *input, int16_t *output);

/* 256-entry lookup table: out = table[in + 128] (table[0] is the output for -128). The table
 * is built on the host from any activation (swish, parametric leaky ReLU, ...). */
mcu_status mcu_lut_s8(const mcu_context *ctx, const int8_t *table, const mcu_dims *dims,
                      const int8_t *input, int8_t *output);

/* ------------------------------------------------------------------------------------------ */
/* UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 cell state)               */

/* Gate order in every per-gate array: input, forget, cell, output. */
#define MCU_LSTM_GATES 4

typedef struct {
    int32_t batches, steps;    /* >= 1 */
    int32_t input_size;        /* I, 1..65535 */
    int32_t state_size;        /* S, 1..65535 */
    int32_t time_major;        /* 1: input/output [steps][batches][.], 0: [batches][steps][.] */
    int32_t input_offset;      /* -input zero point, [-127, 128] */
    int32_t hidden_zero_point; /* hidden state (and output) zero point, [-128, 127] */
    /* Per gate: W_x . (x + input_offset) + bias -> Q3.12, and W_h . (h - hidden zero point)
     * -> Q3.12 (QuantizeMultiplier of s_x s_w / 2^-12 and s_h s_r / 2^-12). */
    int32_t input_multiplier[MCU_LSTM_GATES], input_shift[MCU_LSTM_GATES];
    int32_t recurrent_multiplier[MCU_LSTM_GATES], recurrent_shift[MCU_LSTM_GATES];
    int32_t forget_multiplier, forget_shift; /* f * c: 2^-15 s_c / s_c */
    int32_t update_multiplier, update_shift; /* i * g: 2^-30 / s_c */
    int32_t hidden_multiplier, hidden_shift; /* tanh(c) * o: 2^-30 / s_h */
    int32_t cell_scale_power;                /* cell state scale = 2^cell_scale_power, [-30, 3] */
    int32_t cell_clip;                       /* |c| bound in cell units, 0..32767; 0: none */
} mcu_lstm_params;

typedef struct {
    const int8_t *input[MCU_LSTM_GATES];     /* [S][I] per gate, zero point 0 */
    const int8_t *recurrent[MCU_LSTM_GATES]; /* [S][S] per gate, zero point 0 */
    const int32_t *bias[MCU_LSTM_GATES];     /* S values per gate */
} mcu_lstm_weights;

/* The four gates' pre-activations of one LSTM step for one batch row (TFLM's two
 * FullyConnected calls per gate and their saturating sum):
 *   gates[k*S + o] = sat16(sat16(MBQM(bias_k[o] + sum_i W_xk[o][i] (x[i] + input_offset),
 *                                     input_multiplier[k], input_shift[k]))
 *                         + sat16(MBQM(sum_j W_hk[o][j] (h[j] - hidden_zero_point),
 *                                      recurrent_multiplier[k], recurrent_shift[k])))
 * x: I int8, h: S int8, gates: 4*S int16 (Q3.12). The matmuls are the op's MACs: the
 * optimized flavour widens x and h once (scratch 2 bytes per value) and runs two rows per
 * pass with SXTB16 and SMLAD. */
mcu_status mcu_lstm_gates_s8(const mcu_context *ctx, const mcu_lstm_params *params,
                             const mcu_lstm_weights *weights, const int8_t *x, const int8_t *h,
                             int16_t *gates);
int32_t mcu_lstm_gates_s8_get_buffer_size(const mcu_lstm_params *params);

/* UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's integer path: per batch row and time step, the gates
 * (mcu_lstm_gates_s8), then i, f, o = sigmoid, g = tanh (int16, Q3.12 -> Q0.15),
 *   c = sat16(sat16(MBQM(f c, forget)) + sat16(MBQM(i g, update))), clipped to +-cell_clip,
 *   h = clamp(MBQM(tanh(c) o, hidden) + hidden_zero_point, -128, 127),
 * and h is written to the output at that step. hidden_state (batches x S int8) and
 * cell_state (batches x S int16) are the op's variable tensors: read as the state before the
 * sequence and left holding the state after it (a fresh model starts them at the hidden zero
 * point and 0, as TFLM's AllocateTensors does). input/output in the layout time_major says;
 * output may not alias anything. Scratch: 8 * S bytes for the gates plus
 * mcu_lstm_gates_s8_get_buffer_size. */
mcu_status mcu_lstm_s8(const mcu_context *ctx, const mcu_lstm_params *params,
                       const mcu_lstm_weights *weights, const int8_t *input, int8_t *hidden_state,
                       int16_t *cell_state, int8_t *output);
int32_t mcu_lstm_s8_get_buffer_size(const mcu_lstm_params *params);

#ifdef __cplusplus
}
#endif

#endif /* MCU_NN_H */
