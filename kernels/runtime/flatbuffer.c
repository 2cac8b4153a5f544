/*
 * flatbuffer.c - the checked FlatBuffer accessors of mcu_fb.h.
 * One rule everywhere: pos + width <= size and pos aligned to min(width, 4), else bad.
 */
#include "mcu_fb.h"

static uint32_t fail(mcu_fb *fb)
{
    fb->bad = 1;
    return 0;
}

/* 1 when [pos, pos + bytes) lies in the buffer. */
static int in_range(const mcu_fb *fb, uint32_t pos, uint32_t bytes)
{
    return pos <= fb->size && bytes <= fb->size - pos;
}

/* 1 when a scalar of `width` bytes at pos lies in the buffer, aligned to min(width, 4). */
static int in_bounds(const mcu_fb *fb, uint32_t pos, uint32_t width)
{
    const uint32_t align = width > 4 ? 4 : width;
    return in_range(fb, pos, width) && (pos & (align - 1)) == 0;
}

static uint32_t read_u16(const mcu_fb *fb, uint32_t pos)
{
    return *(const uint16_t *)(const void *)(fb->base + pos);
}

uint32_t mcu_fb_deref(mcu_fb *fb, uint32_t pos)
{
    if (pos == 0 || !in_bounds(fb, pos, 4))
        return fail(fb);
    const uint32_t offset = mcu_fb_read_u32(fb, pos);
    const uint32_t target = pos + offset;
    /* Forward only (offset > 0, no wrap), and room for the target's first word. */
    if (offset == 0 || target < pos || !in_bounds(fb, target, 4))
        return fail(fb);
    return target;
}

uint32_t mcu_fb_root(mcu_fb *fb)
{
    if (!in_bounds(fb, 0, 8))
        return fail(fb);
    const uint32_t root = mcu_fb_read_u32(fb, 0);
    if (root < 8 || !in_bounds(fb, root, 4)) /* past the offset and the file identifier */
        return fail(fb);
    return root;
}

uint32_t mcu_fb_field(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t width)
{
    if (table == 0)
        return 0;
    if (!in_bounds(fb, table, 4))
        return fail(fb);
    const uint32_t vtable = table - mcu_fb_read_u32(fb, table); /* soffset is signed: wraps */
    /* vtables hold uint16s: 2-byte aligned */
    if (!in_bounds(fb, vtable, 2) || !in_range(fb, vtable, 4))
        return fail(fb);
    const uint32_t vsize = read_u16(fb, vtable), tsize = read_u16(fb, vtable + 2);
    if (vsize < 4 || (vsize & 1) || !in_range(fb, vtable, vsize))
        return fail(fb);
    const uint32_t voffset = 4 + 2 * slot;
    if (voffset >= vsize)
        return 0; /* written by an older schema: field absent */
    const uint32_t offset = read_u16(fb, vtable + voffset);
    if (offset == 0)
        return 0;
    if (offset + width > tsize || !in_bounds(fb, table + offset, width))
        return fail(fb);
    return table + offset;
}

uint32_t mcu_fb_u32(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t dflt)
{
    const uint32_t pos = mcu_fb_field(fb, table, slot, 4);
    return pos ? mcu_fb_read_u32(fb, pos) : dflt;
}

uint32_t mcu_fb_u8(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t dflt)
{
    const uint32_t pos = mcu_fb_field(fb, table, slot, 1);
    return pos ? fb->base[pos] : dflt;
}

uint32_t mcu_fb_table(mcu_fb *fb, uint32_t table, uint32_t slot)
{
    const uint32_t pos = mcu_fb_field(fb, table, slot, 4);
    return pos ? mcu_fb_deref(fb, pos) : 0;
}

uint32_t mcu_fb_vector(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t elem_size,
                       uint32_t *count)
{
    *count = 0;
    const uint32_t pos = mcu_fb_field(fb, table, slot, 4);
    if (pos == 0)
        return 0;
    const uint32_t vec = mcu_fb_deref(fb, pos);
    if (vec == 0)
        return 0;
    const uint32_t n = mcu_fb_read_u32(fb, vec);
    const uint32_t room = fb->size - vec - 4; /* in_bounds(vec, 4) held */
    if ((uint64_t)n * elem_size > room || ((vec + 4) & ((elem_size > 4 ? 4 : elem_size) - 1)))
        return fail(fb);
    *count = n;
    return vec;
}

uint32_t mcu_fb_vector_table(mcu_fb *fb, uint32_t vec, uint32_t i)
{
    return mcu_fb_deref(fb, vec + 4 + 4 * i);
}
