/*
 * RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of a 4-D int8 tensor to the constant size
 * (int32 [2]) the output tensor has; options align_corners and half_pixel_centers.
 */
#include "mcu_rt_op.h"

typedef struct {
    mcu_resize_params params;
    mcu_dims in_dims, out_dims;
} resize_data;

static mcu_rt_status resize_prepare(mcu_interpreter *rt, mcu_node *node, uint32_t align_slot,
                                    uint32_t half_slot)
{
    resize_data *d = (resize_data *)node->user_data;
    mcu_tensor_info in, out;
    int32_t size[4], n;
    mcu_rt_status st;
    if ((st = mcu_rt_check_int8(rt, node, 0, &in)) ||
        (st = mcu_rt_check_int8(rt, node, MCU_RT_OUTPUT, &out)) ||
        (st = mcu_rt_const_ints(rt, node, 1, size, &n)) || (st = mcu_rt_dims4(&in, &d->in_dims)) ||
        (st = mcu_rt_dims4(&out, &d->out_dims)))
        return st;
    if (in.rank != 4 || out.rank != 4 || n != 2 || out.dims[1] != size[0] || out.dims[2] != size[1] ||
        out.dims[0] != in.dims[0] || out.dims[3] != in.dims[3])
        return MCU_RT_CORRUPT_MODEL;
    d->params.align_corners = mcu_rt_option_u8(rt, node, align_slot, 0) != 0;
    d->params.half_pixel_centers = mcu_rt_option_u8(rt, node, half_slot, 0) != 0;
    return MCU_RT_OK;
}

static mcu_rt_status nearest_prepare(mcu_interpreter *rt, mcu_node *node)
{
    return resize_prepare(rt, node, TFL_RESIZE_NEAREST_ALIGN_CORNERS, TFL_RESIZE_NEAREST_HALF_PIXEL);
}

static mcu_rt_status bilinear_prepare(mcu_interpreter *rt, mcu_node *node)
{
    const mcu_rt_status st =
        resize_prepare(rt, node, TFL_RESIZE_BILINEAR_ALIGN_CORNERS, TFL_RESIZE_BILINEAR_HALF_PIXEL);
    const resize_data *d = (const resize_data *)node->user_data;
    return st == MCU_RT_OK && d->params.align_corners && d->params.half_pixel_centers
               ? MCU_RT_UNSUPPORTED_PARAMS /* TFLM refuses it too */
               : st;
}

static mcu_rt_status nearest_eval(mcu_interpreter *rt, mcu_node *node)
{
    const resize_data *d = (const resize_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_resize_nearest_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                                  &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

static mcu_rt_status bilinear_eval(mcu_interpreter *rt, mcu_node *node)
{
    const resize_data *d = (const resize_data *)node->user_data;
    return mcu_rt_kernel_status(
        rt, mcu_resize_bilinear_s8(0, &d->params, &d->in_dims, (const int8_t *)MCU_RT_IN(rt, node, 0),
                                   &d->out_dims, (int8_t *)MCU_RT_OUT(rt, node)));
}

const mcu_op_registration mcu_op_resize_nearest_neighbor = {
    TFL_OP_RESIZE_NEAREST_NEIGHBOR, 0, sizeof(resize_data), nearest_prepare, nearest_eval};
const mcu_op_registration mcu_op_resize_bilinear = {
    TFL_OP_RESIZE_BILINEAR, 0, sizeof(resize_data), bilinear_prepare, bilinear_eval};
