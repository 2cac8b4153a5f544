/*
 * host_run.c - the runtime compiled for the host (with the reference kernels), for tests
 * that need many runs fast: corrupt-model fuzzing under AddressSanitizer, planner checks.
 *
 *   host_run MODEL.tflite INPUTS.bin [ARENA_BYTES]
 * writes the outputs' bytes to stdout and one line to stderr:
 *   status=<init or invoke status> op=<error_op> detail=<error_detail> used=<arena bytes>
 * and exits with the status. Pointers are 8 bytes here, so arena figures differ from the
 * target's; statuses and outputs do not.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mcu_rt_op.h"

static _Alignas(16) uint8_t model[4 << 20];
static _Alignas(16) uint8_t arena[4 << 20];

/* Every op the runtime has, as the generated ops.c of an updatable image would list. */
#define OPS(X)                                                                                 \
    X(mcu_op_add) X(mcu_op_average_pool_2d) X(mcu_op_concatenation) X(mcu_op_conv_2d)          \
    X(mcu_op_depthwise_conv_2d) X(mcu_op_dequantize) X(mcu_op_expand_dims)                     \
    X(mcu_op_fully_connected) X(mcu_op_hard_swish) X(mcu_op_leaky_relu) X(mcu_op_logistic)     \
    X(mcu_op_max_pool_2d) X(mcu_op_mean) X(mcu_op_mul) X(mcu_op_pack) X(mcu_op_pad)            \
    X(mcu_op_prelu) X(mcu_op_quantize) X(mcu_op_relu) X(mcu_op_relu6) X(mcu_op_reshape)        \
    X(mcu_op_shape) X(mcu_op_softmax) X(mcu_op_squeeze) X(mcu_op_strided_slice) X(mcu_op_tanh)  \
    X(mcu_op_transpose) X(mcu_op_split) X(mcu_op_split_v) X(mcu_op_slice) X(mcu_op_gather)     \
    X(mcu_op_resize_nearest_neighbor) X(mcu_op_resize_bilinear)
#define DECLARE(name) extern const mcu_op_registration name;
#define ADDRESS(name) &name,
OPS(DECLARE)
const mcu_op_registration *const mcu_op_registry[] = {OPS(ADDRESS)};
const uint32_t mcu_op_registry_count = sizeof mcu_op_registry / sizeof mcu_op_registry[0];

int main(int argc, char **argv)
{
    if (argc < 3)
        return 100;
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 101;
    const size_t size = fread(model, 1, sizeof model, f);
    fclose(f);
    const uint32_t arena_size = argc > 3 ? (uint32_t)strtoul(argv[3], 0, 10) : (uint32_t)sizeof arena;
    mcu_interpreter rt;
    mcu_rt_status st = mcu_rt_init(&rt, model, (uint32_t)size, arena, arena_size);
    if (st == MCU_RT_OK) {
        FILE *in = fopen(argv[2], "rb");
        uint32_t bytes;
        uint8_t *p;
        for (int32_t i = 0; in && (p = mcu_rt_input(&rt, i, &bytes)) != 0; ++i)
            if (fread(p, 1, bytes, in) != bytes)
                break;
        if (in)
            fclose(in);
        st = mcu_rt_invoke(&rt);
        for (int32_t i = 0; st == MCU_RT_OK && (p = mcu_rt_output(&rt, i, &bytes)) != 0; ++i)
            fwrite(p, 1, bytes, stdout);
    }
    fprintf(stderr, "status=%d op=%d detail=%d used=%u head=%u tail=%u\n", (int)st,
            (int)rt.error_op, (int)rt.error_detail, (unsigned)rt.used, (unsigned)rt.head,
            (unsigned)rt.tail);
    return (int)st;
}
