/*
 * planner.c - placing tensors and scratch buffers in the arena's head by lifetime.
 *
 * A buffer lives from the first operator that touches it to the last (graph inputs from
 * the start, graph outputs to the end; an op's scratch only during that op). Outputs of
 * MCU_OP_ALIAS ops (RESHAPE...) share their input's buffer, whose lifetime then covers both.
 *
 * Buffers are placed one at a time, each where it overlaps no placed buffer that is alive at
 * the same time. Four greedy strategies are tried and the smallest head kept (ties: the
 * earlier one), then that one is run again to set the offsets (no second offset array):
 *   order:     largest size first (TFLM's GreedyMemoryPlanner), or largest size x lifetime
 *              first (long-lived big buffers at the bottom, short ones fill the gaps above);
 *   placement: first fit (lowest offset with room), or best fit (the smallest gap with room,
 *              else on top of everything alive).
 * "size, first fit" is TFLM's planner, so the head is never larger than TFLM's would be for
 * the same buffers. mcusim/stacks/tinyml.py has the same algorithm in Python (plan_head_bytes) to
 * check the firmware's plan.
 *
 * The planner's lists live in the head itself, before any tensor does (see arena.c).
 */
#include "mcu_rt_internal.h"

typedef struct {
    int32_t size;     /* bytes, multiple of 4; 0 = not planned */
    int32_t offset;   /* from the arena start; -1 until placed */
    int16_t first;    /* lifetime, in operator indices */
    int16_t last;
    int16_t next;     /* next placed buffer by offset, -1 at the end */
    int16_t root;     /* tensors: the tensor whose buffer this one shares (itself if none) */
} plan_entry;

static void use(plan_entry *e, int16_t at)
{
    if (at < e->first)
        e->first = at;
    if (at > e->last)
        e->last = at;
}

static void use_list(mcu_interpreter *rt, plan_entry *e, const int32_t *list, int16_t at)
{
    for (int32_t k = 1; k <= list[0]; ++k) {
        const int32_t t = list[k];
        if (t >= 0 && rt->data[t] == 0)
            use(&e[e[t].root], at);
    }
}

enum { BY_SIZE = 0, BY_AREA = 2, BEST_FIT = 1, N_STRATEGIES = 4 };

/* The order key of an unplaced buffer: its size, or size x lifetime (steps). */
static uint32_t key(const plan_entry *e, int32_t strategy)
{
    return (strategy & BY_AREA) ? (uint32_t)e->size * (uint32_t)(e->last - e->first + 1)
                                : (uint32_t)e->size;
}

/* One greedy pass: the unplaced buffer with the largest key (then the largest size, then the
 * lowest index) goes to the lowest free offset (first fit) or the smallest free gap (best
 * fit) for its whole lifetime; returns the end of the highest buffer. */
static uint32_t place(plan_entry *e, int32_t n, int32_t strategy)
{
    int32_t placed = -1; /* list sorted by offset */
    uint32_t high = 0;
    for (int32_t i = 0; i < n; ++i)
        e[i].offset = -1;
    for (;;) {
        int32_t b = -1;
        uint32_t bk = 0;
        for (int32_t i = 0; i < n; ++i) {
            if (e[i].offset >= 0 || e[i].size <= 0)
                continue;
            const uint32_t k = key(&e[i], strategy);
            if (b < 0 || k > bk || (k == bk && e[i].size > e[b].size)) {
                b = i;
                bk = k;
            }
        }
        if (b < 0)
            return high;
        int32_t at = 0, best = -1, best_gap = 0;
        for (int32_t p = placed; p >= 0; p = e[p].next) {
            if (e[p].last < e[b].first || e[p].first > e[b].last)
                continue; /* never alive together */
            const int32_t gap = e[p].offset - at;
            if (gap >= e[b].size) { /* the gap before p is big enough */
                if (!(strategy & BEST_FIT)) {
                    best = at;
                    break;
                }
                if (best < 0 || gap < best_gap) {
                    best = at;
                    best_gap = gap;
                }
            }
            if (e[p].offset + e[p].size > at)
                at = e[p].offset + e[p].size;
        }
        if (best >= 0)
            at = best;
        e[b].offset = at;
        if (placed < 0 || e[placed].offset > at) { /* keep the list sorted by offset */
            e[b].next = (int16_t)placed;
            placed = b;
        } else {
            int32_t p = placed;
            while (e[p].next >= 0 && e[e[p].next].offset <= at)
                p = e[p].next;
            e[b].next = e[p].next;
            e[p].next = (int16_t)b;
        }
        if ((uint32_t)(at + e[b].size) > high)
            high = (uint32_t)(at + e[b].size);
    }
}

/* The smallest head of the strategies; the offsets are left as that strategy placed them. */
static uint32_t place_best(plan_entry *e, int32_t n)
{
    int32_t chosen = 0;
    uint32_t least = 0;
    for (int32_t s = 0; s < N_STRATEGIES; ++s) {
        const uint32_t high = place(e, n, s);
        if (s == 0 || high < least) {
            least = high;
            chosen = s;
        }
    }
    return chosen == N_STRATEGIES - 1 ? least : place(e, n, chosen);
}

mcu_rt_status mcu_rt_plan(mcu_interpreter *rt)
{
    const int32_t nt = rt->n_tensors, n = nt + rt->n_ops;
    const uint32_t temp = (uint32_t)n * sizeof(plan_entry);
    const uint32_t room = rt->arena_size - rt->tail;
    if (temp > room) {
        rt->error_detail = (int32_t)(temp + rt->tail);
        return MCU_RT_ARENA_TOO_SMALL;
    }
    plan_entry *e = (plan_entry *)(void *)rt->arena;
    for (int32_t i = 0; i < n; ++i) {
        e[i].size = 0;
        e[i].offset = -1;
        e[i].first = INT16_MAX;
        e[i].last = -1;
        e[i].next = -1;
        e[i].root = (int16_t)i;
    }
    mcu_node *node = rt->nodes;
    for (int32_t i = 0; i < rt->n_ops; ++i, ++node) {
        const int32_t in = mcu_rt_in_index(node, 0), out = mcu_rt_out_index(node, 0);
        if (!(node->reg->flags & MCU_OP_ALIAS) || in < 0)
            continue;
        if (rt->data[in]) /* a view of a constant: the output is that constant */
            rt->data[out] = rt->data[in];
        else
            e[out].root = e[in].root;
    }
    const int16_t end = (int16_t)(rt->n_ops > 0 ? rt->n_ops - 1 : 0);
    use_list(rt, e, rt->inputs, 0);
    node = rt->nodes;
    for (int16_t i = 0; i < rt->n_ops; ++i, ++node) {
        use_list(rt, e, node->inputs, i);
        use_list(rt, e, node->outputs, i);
        e[nt + i].size = (node->scratch_bytes + 3) & ~3;
        e[nt + i].first = e[nt + i].last = i;
    }
    use_list(rt, e, rt->outputs, end);
    for (int32_t t = 0; t < nt; ++t) {
        mcu_tensor_info info;
        if (e[t].root != t || e[t].last < 0 || rt->data[t])
            continue;
        const mcu_rt_status st = mcu_rt_tensor(rt, t, &info);
        if (st != MCU_RT_OK)
            return st;
        e[t].size = (info.bytes + 3) & ~3;
    }

    rt->head = place_best(e, n);
    /* An arena of exactly `used` bytes must work: round the head up like the arena's size. */
    rt->used = (((rt->head > temp ? rt->head : temp) + MCU_RT_ALIGN - 1) & ~(MCU_RT_ALIGN - 1)) + rt->tail;
    if (rt->head > room) {
        rt->error_detail = (int32_t)rt->used;
        return MCU_RT_ARENA_TOO_SMALL;
    }
    for (int32_t t = 0; t < nt; ++t)
        if (rt->data[t] == 0 && e[e[t].root].last >= 0)
            rt->data[t] = rt->arena + (e[e[t].root].size ? e[e[t].root].offset : 0);
    node = rt->nodes;
    for (int32_t i = 0; i < rt->n_ops; ++i, ++node)
        node->scratch = node->scratch_bytes ? rt->arena + e[nt + i].offset : 0;
    return MCU_RT_OK;
}
