/*
 * interpreter.c - start-up (parse, resolve, op data, prepare, plan) and the invoke loop.
 */
#include "mcu_rt_internal.h"
#include "mcusim.h"

/* Resolve operator i: registration, input/output lists, options. */
static mcu_rt_status resolve(mcu_interpreter *rt, const mcu_model_tables *m, int32_t i,
                             mcu_node *node)
{
    mcu_fb *fb = &rt->fb;
    const uint32_t op = mcu_fb_vector_table(fb, rt->operators, (uint32_t)i);
    const uint32_t opcode_index = mcu_fb_u32(fb, op, TFL_OP_OPCODE_INDEX, 0);
    uint32_t n_in, n_out;
    const uint32_t in = mcu_fb_vector(fb, op, TFL_OP_INPUTS, 4, &n_in);
    const uint32_t out = mcu_fb_vector(fb, op, TFL_OP_OUTPUTS, 4, &n_out);
    mcu_fb_table(fb, op, TFL_OP_BUILTIN_OPTIONS); /* checked here, read in prepare */
    if (fb->bad || opcode_index >= m->n_opcodes || in == 0 || out == 0 || n_out == 0)
        return MCU_RT_CORRUPT_MODEL;
    const uint32_t opcode = mcu_fb_vector_table(fb, m->opcodes, opcode_index);
    /* Codes above 127 live only in builtin_code; older files fill only the deprecated byte. */
    const int32_t deprecated = (int8_t)mcu_fb_u8(fb, opcode, TFL_OPCODE_DEPRECATED_BUILTIN, 0);
    const int32_t builtin = (int32_t)mcu_fb_u32(fb, opcode, TFL_OPCODE_BUILTIN, 0);
    node->inputs = (const int32_t *)mcu_fb_ptr(fb, in);
    node->outputs = (const int32_t *)mcu_fb_ptr(fb, out);
    if (fb->bad || mcu_rt_check_indices(rt, node->inputs, 1) ||
        mcu_rt_check_indices(rt, node->outputs, 0))
        return MCU_RT_CORRUPT_MODEL;
    for (int32_t k = 1; k <= node->outputs[0]; ++k)
        if (rt->data[node->outputs[k]]) /* an op cannot write a constant */
            return MCU_RT_CORRUPT_MODEL;
    node->reg = mcu_rt_find_op(builtin > deprecated ? builtin : deprecated);
    if (node->reg == 0) {
        rt->error_detail = builtin > deprecated ? builtin : deprecated;
        return MCU_RT_UNSUPPORTED_OP;
    }
    return MCU_RT_OK;
}

/* Allocate every node's op data (reg->data_bytes), then run every prepare, stopping at the
 * first error. */
static mcu_rt_status prepare_nodes(mcu_interpreter *rt)
{
    mcu_node *node = rt->nodes;
    for (int32_t i = 0; i < rt->n_ops; ++i, ++node) {
        const uint32_t bytes = node->reg->data_bytes;
        if (bytes && !(node->user_data = mcu_rt_alloc_persistent(rt, bytes))) {
            rt->error_op = i;
            return MCU_RT_ARENA_TOO_SMALL;
        }
    }
    node = rt->nodes;
    for (int32_t i = 0; i < rt->n_ops; ++i, ++node) {
        rt->options = mcu_fb_table(&rt->fb, mcu_fb_vector_table(&rt->fb, rt->operators, (uint32_t)i),
                                   TFL_OP_BUILTIN_OPTIONS);
        const mcu_rt_status st = node->reg->prepare ? node->reg->prepare(rt, node) : MCU_RT_OK;
        if (st != MCU_RT_OK) {
            rt->error_op = i;
            return st;
        }
    }
    return MCU_RT_OK;
}

/* A variable tensor (an LSTM's state) lives across invokes: persistent memory, reset as
 * TFLM's AllocateTensors resets it (an int8 tensor to its zero point, anything else to 0).
 * The planner leaves it alone, as it leaves constants. */
static mcu_rt_status variable(mcu_interpreter *rt, const mcu_tensor_info *info, uint8_t **data)
{
    if (info->data) /* a variable with contents on file */
        return MCU_RT_CORRUPT_MODEL;
    uint8_t *p = (uint8_t *)mcu_rt_alloc_persistent(rt, (uint32_t)info->bytes);
    if (!p)
        return MCU_RT_ARENA_TOO_SMALL;
    const uint8_t fill = (uint8_t)(info->type == TFL_INT8 ? info->zero_point : 0);
    for (int32_t i = 0; i < info->bytes; ++i)
        p[i] = fill;
    *data = p;
    return MCU_RT_OK;
}

static mcu_rt_status start(mcu_interpreter *rt)
{
    mcu_model_tables m;
    mcu_rt_status st = mcu_rt_open_model(rt, &m);
    if (st != MCU_RT_OK)
        return st;
    rt->data = (uint8_t **)mcu_rt_alloc_persistent(rt, (uint32_t)rt->n_tensors * sizeof(uint8_t *));
    rt->nodes = (mcu_node *)mcu_rt_alloc_persistent(rt, (uint32_t)rt->n_ops * sizeof(mcu_node));
    if (!rt->data || !rt->nodes)
        return MCU_RT_ARENA_TOO_SMALL;
    for (int32_t t = 0; t < rt->n_tensors; ++t) {
        mcu_tensor_info info;
        st = mcu_rt_tensor(rt, t, &info);
        if (st != MCU_RT_OK)
            return st;
        rt->data[t] = (uint8_t *)(uintptr_t)info.data;
        if (info.is_variable && (st = variable(rt, &info, &rt->data[t])) != MCU_RT_OK)
            return st;
    }
    for (int32_t k = 1; k <= rt->inputs[0]; ++k)
        if (rt->data[rt->inputs[k]]) /* a graph input cannot be a constant */
            return MCU_RT_CORRUPT_MODEL;
    for (int32_t i = 0; i < rt->n_ops; ++i) {
        mcu_node *node = &rt->nodes[i];
        node->user_data = 0;
        node->scratch = 0;
        node->scratch_bytes = 0;
        st = resolve(rt, &m, i, node);
        if (st != MCU_RT_OK) {
            rt->error_op = i;
            return st;
        }
    }
    st = prepare_nodes(rt);
    return st == MCU_RT_OK ? mcu_rt_plan(rt) : st;
}

mcu_rt_status mcu_rt_init(mcu_interpreter *rt, const uint8_t *model, uint32_t model_size,
                          uint8_t *arena, uint32_t arena_size)
{
    const uint32_t skip = (uint32_t)(-(uintptr_t)arena & (MCU_RT_ALIGN - 1)); /* align the start */
    rt->fb.base = model;
    rt->fb.size = model_size;
    rt->fb.bad = 0;
    rt->arena = arena + skip;
    rt->arena_size = arena_size > skip ? (arena_size - skip) & ~(MCU_RT_ALIGN - 1) : 0;
    rt->tail = rt->head = rt->used = 0;
    rt->error_op = -1;
    rt->error_detail = 0;
    rt->ready = 0;
    const mcu_rt_status st = start(rt);
    rt->ready = st == MCU_RT_OK; /* invoke refuses to run a half-built interpreter */
    return st;
}

mcu_rt_status mcu_rt_invoke(mcu_interpreter *rt)
{
    mcu_node *node = rt->nodes;
    if (!rt->ready)
        return MCU_RT_CORRUPT_MODEL;
    for (int32_t i = 0; i < rt->n_ops; ++i, ++node) {
        mcusim_probe(MCUSIM_TAG_OP_BEGIN(i));
        const mcu_rt_status st = node->reg->eval(rt, node);
        mcusim_probe(MCUSIM_TAG_OP_END(i));
        if (st != MCU_RT_OK) {
            rt->error_op = i;
            return st;
        }
    }
    return MCU_RT_OK;
}

static uint8_t *io(mcu_interpreter *rt, const int32_t *list, int32_t i, uint32_t *bytes)
{
    mcu_tensor_info t;
    *bytes = 0;
    if (!rt->ready || i < 0 || i >= list[0] || mcu_rt_tensor(rt, list[1 + i], &t) != MCU_RT_OK)
        return 0;
    *bytes = (uint32_t)t.bytes;
    return rt->data[list[1 + i]];
}

uint8_t *mcu_rt_input(mcu_interpreter *rt, int32_t i, uint32_t *bytes)
{
    return io(rt, rt->inputs, i, bytes);
}

uint8_t *mcu_rt_output(mcu_interpreter *rt, int32_t i, uint32_t *bytes)
{
    return io(rt, rt->outputs, i, bytes);
}
