/*
 * mcu_tflm.h - what mcusim's TFLM harness (harness.cc) needs from the file generated per model.
 *
 * The generated model file defines the model (a const, 16-byte aligned array in flash), the op
 * resolver with exactly the model's builtin ops and the input/output slots (extern "C" pointers
 * to the tensors' data, found by symbol); the generated application file the statically sized
 * tensor arena.
 */
#ifndef MCU_TFLM_H
#define MCU_TFLM_H

#include <cstddef>
#include <cstdint>

#include "tensorflow/lite/micro/micro_op_resolver.h"

namespace mcu_tflm {

/* Probe stored once the input tensors are allocated and their addresses are in the input
 * slots: the simulator writes the inputs there, as a sensor driver would on a device. */
#define MCU_TFLM_TAG_INPUTS_READY 0x5EED0010u

/* One graph input or output: where the harness stores its tensor's data address (an extern "C"
 * pointer the host reads by symbol), and the bytes the model says it has. */
struct Slot {
    uint8_t **data;
    uint32_t bytes;
};

extern const unsigned char model[];
extern const Slot inputs[];
extern const uint32_t input_count;
extern const Slot outputs[];
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
