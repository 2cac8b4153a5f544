/*
 * mcu_fb.h - bounds-checked reading of a FlatBuffer in place (the .tflite file in flash).
 *
 * Every position is a byte offset from the start of the buffer; 0 means "absent" (offset 0
 * holds the root offset, never a table or vector). Every accessor checks that what it reads
 * lies inside the buffer and is aligned for its width (so a corrupt file cannot make the core
 * fault on an unaligned or out-of-range load), and that offsets point forward (so no walk can
 * loop). On any violation it returns 0 / the default and sets fb->bad; callers check bad once
 * after a batch of reads instead of after every read.
 *
 * Layout reminders (FlatBuffers binary format):
 *   table:  int32 soffset to its vtable (vtable = table - soffset), then the fields;
 *   vtable: uint16 vtable bytes, uint16 table bytes, then one uint16 field offset per slot
 *           (0 = field absent, use the default);
 *   vector: uint32 element count, then the elements; referenced by a uint32 forward offset.
 */
#ifndef MCU_FB_H
#define MCU_FB_H

#include <stdint.h>

typedef struct {
    const uint8_t *base;
    uint32_t size;
    uint32_t bad; /* sticky: non-zero after any failed check */
} mcu_fb;

/* Position of the root table (the uint32 offset at byte 0), 0 on error. */
uint32_t mcu_fb_root(mcu_fb *fb);

/* Position of a field of `width` bytes (1, 2, 4 or 8) in `table`, or 0 when absent. */
uint32_t mcu_fb_field(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t width);

/* Scalar fields; `dflt` when absent. Signed values come back cast from these. */
uint32_t mcu_fb_u32(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t dflt);
uint32_t mcu_fb_u8(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t dflt);

/* Follow the uint32 forward offset stored at `pos` to a table; 0 on error. */
uint32_t mcu_fb_deref(mcu_fb *fb, uint32_t pos);

/* Sub-table in `slot` of `table`, or 0 when absent. */
uint32_t mcu_fb_table(mcu_fb *fb, uint32_t table, uint32_t slot);

/* Vector in `slot` of `table`: position of its length word (elements follow), checked to hold
 * *count elements of elem_size bytes inside the buffer; 0 and *count = 0 when absent. */
uint32_t mcu_fb_vector(mcu_fb *fb, uint32_t table, uint32_t slot, uint32_t elem_size,
                       uint32_t *count);

/* Table i of a vector of tables (vec as returned by mcu_fb_vector, i < its count). */
uint32_t mcu_fb_vector_table(mcu_fb *fb, uint32_t vec, uint32_t i);

static inline const void *mcu_fb_ptr(const mcu_fb *fb, uint32_t pos)
{
    return fb->base + pos;
}

static inline uint32_t mcu_fb_read_u32(const mcu_fb *fb, uint32_t pos)
{
    return *(const uint32_t *)(const void *)(fb->base + pos);
}

#endif /* MCU_FB_H */
