/*
 * model.c - walking the .tflite flatbuffer in place: the file header, subgraph 0, and one
 * tensor at a time (shape, type, quantization, constant data), every read bounds-checked.
 */
#include "mcu_rt_op.h"
#include "mcu_rt_internal.h"

/* Largest tensor the runtime accepts: far beyond any microcontroller, small enough that
 * byte counts cannot overflow int32. */
#define MCU_RT_MAX_ELEMENTS (1 << 26)
#define MCU_RT_MAX_RANK 8

static int32_t element_size(int32_t type)
{
    switch (type) {
    case TFL_INT8:
    case TFL_UINT8:
    case TFL_BOOL:
        return 1;
    case TFL_INT16:
        return 2;
    case TFL_INT32:
    case TFL_FLOAT32:
        return 4;
    case TFL_INT64:
        return 8;
    default:
        return 0;
    }
}

mcu_rt_status mcu_rt_open_model(mcu_interpreter *rt, mcu_model_tables *m)
{
    mcu_fb *fb = &rt->fb;
    const uint8_t *b = fb->base;
    if (fb->size < 8 || ((uintptr_t)b & 3u))
        return MCU_RT_CORRUPT_MODEL;
    if (b[4] != 'T' || b[5] != 'F' || b[6] != 'L' || b[7] != '3')
        return MCU_RT_NOT_TFLITE;
    const uint32_t model = mcu_fb_root(fb);
    const uint32_t version = mcu_fb_u32(fb, model, TFL_MODEL_VERSION, 0);
    if (fb->bad)
        return MCU_RT_CORRUPT_MODEL;
    if (version != TFL_SCHEMA_VERSION) {
        rt->error_detail = (int32_t)version;
        return MCU_RT_SCHEMA_VERSION;
    }
    uint32_t n_subgraphs, n, n_in, n_out;
    const uint32_t subgraphs = mcu_fb_vector(fb, model, TFL_MODEL_SUBGRAPHS, 4, &n_subgraphs);
    m->opcodes = mcu_fb_vector(fb, model, TFL_MODEL_OPERATOR_CODES, 4, &m->n_opcodes);
    rt->buffers = mcu_fb_vector(fb, model, TFL_MODEL_BUFFERS, 4, &rt->n_buffers);
    const uint32_t sub = n_subgraphs ? mcu_fb_vector_table(fb, subgraphs, 0) : 0;
    rt->tensors = mcu_fb_vector(fb, sub, TFL_SUBGRAPH_TENSORS, 4, &n);
    rt->n_tensors = (int32_t)n;
    rt->operators = mcu_fb_vector(fb, sub, TFL_SUBGRAPH_OPERATORS, 4, &n);
    rt->n_ops = (int32_t)n;
    const uint32_t in = mcu_fb_vector(fb, sub, TFL_SUBGRAPH_INPUTS, 4, &n_in);
    const uint32_t out = mcu_fb_vector(fb, sub, TFL_SUBGRAPH_OUTPUTS, 4, &n_out);
    /* The planner indexes tensors and ops with int16. */
    if (fb->bad || sub == 0 || in == 0 || out == 0 || n_out == 0 || rt->n_tensors > 16000 ||
        rt->n_ops > 16000)
        return MCU_RT_CORRUPT_MODEL;
    rt->inputs = (const int32_t *)mcu_fb_ptr(fb, in);
    rt->outputs = (const int32_t *)mcu_fb_ptr(fb, out);
    return mcu_rt_check_indices(rt, rt->inputs, 0) || mcu_rt_check_indices(rt, rt->outputs, 0)
               ? MCU_RT_CORRUPT_MODEL
               : MCU_RT_OK;
}

int mcu_rt_check_indices(const mcu_interpreter *rt, const int32_t *list, int optional)
{
    for (int32_t i = 1; i <= list[0]; ++i)
        if (list[i] >= rt->n_tensors || list[i] < (optional ? -1 : 0))
            return 1;
    return 0;
}

static mcu_rt_status bad_type(mcu_interpreter *rt, int32_t index)
{
    rt->error_detail = index;
    return MCU_RT_BAD_TENSOR_TYPE;
}

/* Constant contents of buffer `index` (must hold exactly `bytes`), NULL for none. */
static mcu_rt_status buffer_data(mcu_interpreter *rt, uint32_t index, int32_t bytes,
                                 int32_t elem, const uint8_t **data)
{
    mcu_fb *fb = &rt->fb;
    *data = 0;
    if (index == 0) /* buffer 0 is the empty sentinel */
        return MCU_RT_OK;
    if (index >= rt->n_buffers)
        return MCU_RT_CORRUPT_MODEL;
    const uint32_t table = mcu_fb_vector_table(fb, rt->buffers, index);
    uint32_t n;
    const uint32_t vec = mcu_fb_vector(fb, table, TFL_BUFFER_DATA, 1, &n);
    /* Data outside the flatbuffer (models over 2 GB): not for a microcontroller. */
    const uint32_t external = mcu_fb_field(fb, table, TFL_BUFFER_OFFSET, 8);
    if (fb->bad || (n == 0 && external && mcu_fb_read_u32(fb, external) > 1))
        return MCU_RT_CORRUPT_MODEL;
    if (n == 0)
        return MCU_RT_OK;
    /* The kernels read int32/float data with word loads: it must be aligned. */
    if (n != (uint32_t)bytes || ((vec + 4) & (uint32_t)((elem > 4 ? 4 : elem) - 1)))
        return MCU_RT_CORRUPT_MODEL;
    *data = (const uint8_t *)mcu_fb_ptr(fb, vec + 4);
    return MCU_RT_OK;
}

mcu_rt_status mcu_rt_tensor(mcu_interpreter *rt, int32_t index, mcu_tensor_info *t)
{
    mcu_fb *fb = &rt->fb;
    const uint32_t table = mcu_fb_vector_table(fb, rt->tensors, (uint32_t)index);
    uint32_t rank, n_scales, n_zero_points;
    const uint32_t shape = mcu_fb_vector(fb, table, TFL_TENSOR_SHAPE, 4, &rank);
    t->type = (int32_t)mcu_fb_u8(fb, table, TFL_TENSOR_TYPE, TFL_FLOAT32);
    const uint32_t buffer = mcu_fb_u32(fb, table, TFL_TENSOR_BUFFER, 0);
    const uint32_t quant = mcu_fb_table(fb, table, TFL_TENSOR_QUANTIZATION);
    const uint32_t scales = mcu_fb_vector(fb, quant, TFL_QUANT_SCALE, 4, &n_scales);
    const uint32_t zero_points = mcu_fb_vector(fb, quant, TFL_QUANT_ZERO_POINT, 8, &n_zero_points);
    const uint32_t sparsity = mcu_fb_field(fb, table, TFL_TENSOR_SPARSITY, 4);
    if (fb->bad || rank > MCU_RT_MAX_RANK ||
        (n_zero_points != 0 && n_zero_points != n_scales))
        return MCU_RT_CORRUPT_MODEL;
    t->rank = (int32_t)rank;
    t->dims = (const int32_t *)mcu_fb_ptr(fb, shape + 4);
    t->count = 1;
    for (uint32_t i = 0; i < rank; ++i) {
        if (t->dims[i] < 0 || (t->dims[i] && t->count > MCU_RT_MAX_ELEMENTS / t->dims[i]))
            return MCU_RT_CORRUPT_MODEL;
        t->count *= t->dims[i];
    }
    const int32_t elem = element_size(t->type);
    if (elem == 0 || sparsity)
        return bad_type(rt, index);
    t->bytes = t->count * elem;
    t->n_scales = (int32_t)n_scales;
    t->scales = (const uint32_t *)mcu_fb_ptr(fb, scales + 4);
    t->zero_point = 0;
    t->is_variable = mcu_fb_u8(fb, table, TFL_TENSOR_IS_VARIABLE, 0) != 0;
    if (n_zero_points) {
        /* int64 on file: keep it only if it is a sign-extended int32 */
        const int32_t low = (int32_t)mcu_fb_read_u32(fb, zero_points + 4);
        if (mcu_fb_read_u32(fb, zero_points + 8) != (low < 0 ? 0xFFFFFFFFu : 0u))
            return bad_type(rt, index);
        t->zero_point = low;
    }
    return buffer_data(rt, buffer, t->bytes, elem, &t->data);
}
