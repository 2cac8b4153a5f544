/*
 * harness.h - the kernel test harness: one small C file per kernel (tests/harness/<op>.c)
 * defines harness_run(), which reads shapes and parameters from harness_params (in order, one
 * int32 each, via H()), finds its tensors in harness_arena by byte offset (P(); -1 = NULL),
 * calls the kernel and returns its status. The host writes both arrays before reset (they are
 * MCUSIM_NOINIT) and reads the outputs back from the arena afterwards.
 *
 * Compiled with -DHARNESS_HOST, the same files build a host shared library driven through
 * ctypes (reference flavour only: host compilers have no Arm DSP intrinsics).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdint.h>

#include "mcu_nn.h"

#ifdef HARNESS_HOST
#define HARNESS_NOINIT
#else
#include "mcusim.h"
#define HARNESS_NOINIT MCUSIM_NOINIT
#endif

#ifndef HARNESS_ARENA_BYTES
#define HARNESS_ARENA_BYTES 24576
#endif
#define HARNESS_PARAMS 96

extern int32_t harness_params[HARNESS_PARAMS];
extern int32_t harness_arena[HARNESS_ARENA_BYTES / 4];
extern int32_t harness_cursor;

int32_t harness_run(void);

static inline int32_t harness_next(void)
{
    return harness_params[harness_cursor++];
}
static inline void *harness_ptr(void)
{
    const int32_t off = harness_next();
    return off < 0 ? (void *)0 : (void *)((int8_t *)harness_arena + off);
}
static inline mcu_dims harness_dims(void)
{
    mcu_dims d;
    d.n = harness_next();
    d.h = harness_next();
    d.w = harness_next();
    d.c = harness_next();
    return d;
}
static inline mcu_range harness_range(void)
{
    mcu_range r;
    r.min = harness_next();
    r.max = harness_next();
    return r;
}
static inline mcu_hw harness_hw(void)
{
    mcu_hw v;
    v.h = harness_next();
    v.w = harness_next();
    return v;
}
/* Scratch: offset and size. */
static inline mcu_context harness_ctx(void)
{
    mcu_context c;
    c.buf = harness_ptr();
    c.size = harness_next();
    return c;
}
static inline mcu_quant_params harness_quant(void)
{
    mcu_quant_params q;
    q.multiplier = (const int32_t *)harness_ptr();
    q.shift = (const int32_t *)harness_ptr();
    q.per_channel = harness_next();
    return q;
}

/* The kernel gets exactly the scratch its get_buffer_size() asks for; the host reserved
 * ctx->size bytes (an upper bound) and reads harness_scratch_bytes back. */
#define HARNESS_SCRATCH_TOO_SMALL (-100)
extern volatile int32_t harness_scratch_bytes;
static inline int32_t harness_scratch(mcu_context *ctx, int32_t need)
{
    harness_scratch_bytes = need;
    if (need > ctx->size)
        return -1;
    ctx->size = need;
    return 0;
}

#define H() harness_next()
#define P() harness_ptr()

#endif /* HARNESS_H */
