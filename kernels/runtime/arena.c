/*
 * arena.c - the tensor arena: one array the application provides, used from both ends.
 *
 *   arena                                                               arena + arena_size
 *   |<------------- head ------------->|                   |<------------ tail ------------>|
 *   +----------------------------------+-------------------+--------------------------------+
 *   | tensors and scratch, placed by   |       free        | persistent, allocated downward |
 *   | lifetime (planner.c): buffers    |                   | at start-up and kept:          |
 *   | whose lifetimes do not overlap   |                   |   op data (params, dims,       |
 *   | share bytes. Before the plan is  |                   |   per-channel multipliers),    |
 *   | made, the planner's own lists    |                   |   nodes[n_ops],                |
 *   | live here (temporary).           |                   |   data[n_tensors] pointers     |
 *   +----------------------------------+-------------------+--------------------------------+
 *   0                                 head          arena_size - tail                arena_size
 *
 * Every allocation is aligned to a pointer (4 bytes on Cortex-M).
 *
 * The tail is allocated first (every node's op data, then what prepare asks for), the head
 * last (plan), so the head never has
 * to move. Bytes needed = max(head, planner temp) + tail: rt->used, which the host reads
 * to size the arena exactly.
 */
#include "mcu_rt_op.h"

void *mcu_rt_alloc_persistent(mcu_interpreter *rt, uint32_t bytes)
{
    bytes = (bytes + MCU_RT_ALIGN - 1) & ~(MCU_RT_ALIGN - 1);
    if (bytes > rt->arena_size - rt->tail) {
        rt->error_detail = (int32_t)(rt->tail + bytes); /* at least this much is needed */
        return 0;
    }
    rt->tail += bytes;
    return rt->arena + rt->arena_size - rt->tail;
}
