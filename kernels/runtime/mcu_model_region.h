/*
 * mcu_model_region.h - the flash region that holds the model: a small header, then the
 * .tflite file byte for byte (16-byte aligned, as the converter aligns its buffers).
 *
 * The region has a fixed capacity and its own symbol (mcu_model), separate from all code, so
 * a deployed device can take a new model of the same op set by rewriting only this region:
 * the runtime reads size and bytes from here at every start-up.
 */
#ifndef MCU_MODEL_REGION_H
#define MCU_MODEL_REGION_H

#include <stdint.h>

typedef struct {
    uint32_t size;        /* bytes of the .tflite file in data[] */
    uint32_t capacity;    /* bytes data[] can hold */
    uint32_t reserved[2]; /* keeps data[] 16-byte aligned */
    uint8_t data[];
} mcu_model_region;

extern const mcu_model_region mcu_model;

#endif /* MCU_MODEL_REGION_H */
