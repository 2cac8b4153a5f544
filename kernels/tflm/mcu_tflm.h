/*
 * mcu_tflm.h - what mcusim's TFLM harness (harness.cc) needs from the file generated per model.
 *
 * The generated model file defines the model (a const, 16-byte aligned array in flash), the op
 * resolver with exactly the model's builtin ops and the input/output buffers the simulator
 * writes and reads (extern "C" names, found by symbol); the generated application file the
 * statically sized tensor arena.
 */
#ifndef MCU_TFLM_H
#define MCU_TFLM_H

#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/micro/micro_op_resolver.h"

namespace mcu_tflm {

struct Buffer {
    uint8_t *data;
    uint32_t size;
};

extern const unsigned char model[];
extern const Buffer inputs[];
extern const uint32_t input_count;
extern const Buffer outputs[];
extern const uint32_t output_count;

/* The resolver of the model's ops, each registration's invoke wrapped by timed_invoke; null
 * when TFLM refused to add an op. */
const tflite::MicroOpResolver *op_resolver();

/* Calls a registration's own invoke between the OP_BEGIN/OP_END probes of the next operator. */
TfLiteStatus timed_invoke(TfLiteStatus (*invoke)(TfLiteContext *, TfLiteNode *), TfLiteContext *context,
                          TfLiteNode *node);

}  // namespace mcu_tflm

/* The application's file (generated): the arena and its declared size, and whether the image
 * stops after start-up (the arena-sizing image, whose size word the host rewrites per run). */
extern "C" {
extern uint8_t mcu_tflm_arena[];
extern const uint32_t mcu_tflm_arena_size;
extern const uint32_t mcu_tflm_stop_after_init;
}

#endif /* MCU_TFLM_H */
