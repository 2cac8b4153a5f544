/*
 * STRIDED_SLICE with constant begin/end/strides (begin, end and shrink masks, the offset
 * option; no ellipsis or new axis, as TFLM), rank <= 4, any element size. The slice is
 * resolved at prepare into start/step/count per axis; eval is four nested loops.
 */
#include "mcu_rt_op.h"

typedef struct {
    int32_t start[4], step[4], count[4];
    int32_t stride[4]; /* input elements between neighbours along each axis */
    int32_t elem;      /* bytes per element */
} slice_data;

static int32_t clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* First index along an axis of `dim` elements (TF's StartForAxis). */
static int32_t start_index(int32_t b, int32_t step, int32_t dim, int masked)
{
    if (masked)
        return step > 0 ? 0 : dim - 1;
    if (b < 0)
        b += dim;
    return step > 0 ? clamp(b, 0, dim) : clamp(b, -1, dim - 1);
}

/* One past the last index (TF's StopForAxis). */
static int32_t stop_index(int32_t e, int32_t step, int32_t dim, int masked)
{
    if (masked)
        return step > 0 ? dim : -1;
    if (e < 0)
        e += dim;
    return step > 0 ? clamp(e, 0, dim) : clamp(e, -1, dim - 1);
}

static mcu_rt_status const_int32(mcu_interpreter *rt, const mcu_node *node, int32_t k,
                                 mcu_tensor_info *t)
{
    const mcu_rt_status st = mcu_rt_input_info(rt, node, k, t);
    if (st != MCU_RT_OK)
        return st;
    return t->type == TFL_INT32 && t->data ? MCU_RT_OK
                                           : mcu_rt_fail(rt, MCU_RT_UNSUPPORTED_PARAMS, node->inputs[1 + k]);
}

static mcu_rt_status slice_prepare(mcu_interpreter *rt, mcu_node *node)
{
    slice_data *d = (slice_data *)node->user_data;
    mcu_tensor_info in, begin, end, strides, out;
    mcu_rt_status st;
    if ((st = mcu_rt_input_info(rt, node, 0, &in)) || (st = const_int32(rt, node, 1, &begin)) ||
        (st = const_int32(rt, node, 2, &end)) || (st = mcu_rt_output_info(rt, node, &out)))
        return st;
    strides.count = 0;
    if (mcu_rt_in_index(node, 3) >= 0 && (st = const_int32(rt, node, 3, &strides)))
        return st;
    if (in.type != out.type)
        return mcu_rt_fail(rt, MCU_RT_BAD_TENSOR_TYPE, node->outputs[1]);
    if (in.rank > 4 || mcu_rt_option_i32(rt, node, TFL_SLICE_ELLIPSIS_MASK, 0) ||
        mcu_rt_option_i32(rt, node, TFL_SLICE_NEW_AXIS_MASK, 0))
        return MCU_RT_UNSUPPORTED_PARAMS;
    const int32_t begin_mask = mcu_rt_option_i32(rt, node, TFL_SLICE_BEGIN_MASK, 0);
    const int32_t end_mask = mcu_rt_option_i32(rt, node, TFL_SLICE_END_MASK, 0);
    const int32_t shrink = mcu_rt_option_i32(rt, node, TFL_SLICE_SHRINK_MASK, 0);
    const int32_t offset = mcu_rt_option_u8(rt, node, TFL_SLICE_OFFSET, 0);
    const int32_t *b = (const int32_t *)(const void *)begin.data;
    const int32_t *e = (const int32_t *)(const void *)end.data;
    const int32_t *s = (const int32_t *)(const void *)strides.data;
    int32_t total = 1, stride = 1;
    for (int32_t k = 3; k >= 0; --k) {
        const int32_t a = k - (4 - in.rank); /* axis of the input, < 0 for padding */
        const int32_t dim = a >= 0 ? in.dims[a] : 1;
        d->stride[k] = stride;
        stride *= dim;
        d->start[k] = 0;
        d->step[k] = 1;
        d->count[k] = 1;
        if (a < 0)
            continue;
        int32_t first = a < begin.count ? b[a] : 0, last = a < end.count ? e[a] : dim;
        const int32_t step = a < strides.count ? s[a] : 1;
        if (step == 0)
            return MCU_RT_CORRUPT_MODEL;
        if (offset)
            last += first;
        first = dim ? start_index(first, step, dim, (begin_mask >> a) & 1) : 0;
        if ((shrink >> a) & 1) {
            if (first < 0 || first >= dim)
                return MCU_RT_CORRUPT_MODEL;
        } else {
            last = stop_index(last, step, dim, (end_mask >> a) & 1);
            const int32_t span = step > 0 ? last - first : first - last;
            const int32_t n = span > 0 ? (span + (step > 0 ? step : -step) - 1) / (step > 0 ? step : -step) : 0;
            d->step[k] = step;
            d->count[k] = n;
        }
        d->start[k] = first;
        total *= d->count[k];
    }
    d->elem = in.count ? in.bytes / in.count : 1;
    return total == out.count ? MCU_RT_OK : MCU_RT_CORRUPT_MODEL;
}

static mcu_rt_status slice_eval(mcu_interpreter *rt, mcu_node *node)
{
    const slice_data *d = (const slice_data *)node->user_data;
    const uint8_t *in = MCU_RT_IN(rt, node, 0);
    uint8_t *out = MCU_RT_OUT(rt, node);
    const int32_t elem = d->elem;
    for (int32_t i0 = 0; i0 < d->count[0]; ++i0)
        for (int32_t i1 = 0; i1 < d->count[1]; ++i1)
            for (int32_t i2 = 0; i2 < d->count[2]; ++i2)
                for (int32_t i3 = 0; i3 < d->count[3]; ++i3) {
                    const int32_t at = (d->start[0] + i0 * d->step[0]) * d->stride[0] +
                                       (d->start[1] + i1 * d->step[1]) * d->stride[1] +
                                       (d->start[2] + i2 * d->step[2]) * d->stride[2] +
                                       (d->start[3] + i3 * d->step[3]) * d->stride[3];
                    for (int32_t k = 0; k < elem; ++k)
                        *out++ = in[at * elem + k];
                }
    return MCU_RT_OK;
}

const mcu_op_registration mcu_op_strided_slice = {
    TFL_OP_STRIDED_SLICE, 0, sizeof(slice_data), slice_prepare, slice_eval};
