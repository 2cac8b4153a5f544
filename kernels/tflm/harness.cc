/*
 * mcusim's harness around TensorFlow Lite Micro: the application a TFLM deployment writes.
 *
 *   start-up   GetModel, the op resolver, MicroInterpreter, AllocateTensors   (STARTUP probes)
 *   inference  inputs written into the input tensors, Invoke                (INVOKE probes)
 *   each op    its registration's invoke, wrapped                             (OP probes)
 *
 * Per-op probes come from wrapping each registration's invoke (mcu_tflm::timed_invoke)
 * rather than from a MicroProfilerInterface: a release build of TFLM
 * (-DTF_LITE_STRIP_ERROR_STRINGS) compiles the interpreter's profiler calls out.
 * There are no I/O buffers: the input and output tensors' addresses go into extern "C" slots,
 * and the host writes the inputs at the INPUTS_READY probe and reads the outputs at the end.
 * The arena's used bytes are stored in mcu_tflm_arena_used for the host (exact arena sizing).
 * main() returns 0, or a status the host explains (mcusim/tflm.py STATUS_MESSAGES).
 */
#include <new>

#include "mcu_tflm.h"
#include "mcusim.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
uint32_t mcu_tflm_arena_used;
}

namespace {

enum Status : int {
    kOk = 0,
    kSchemaVersion = 1,
    kOpResolver = 2,
    kAllocateTensors = 3,
    kIoMismatch = 4,
    kInvoke = 5,
};

uint32_t next_op;
alignas(tflite::MicroInterpreter) unsigned char interpreter_storage[sizeof(tflite::MicroInterpreter)];

/* Stores where every graph input (or output) lives in the arena into its slot; false when the
 * model's count or sizes differ from the generated file's. */
bool fill_slots(tflite::MicroInterpreter &interpreter, bool inputs)
{
    const size_t count = inputs ? interpreter.inputs_size() : interpreter.outputs_size();
    if (count != (inputs ? mcu_tflm::input_count : mcu_tflm::output_count))
        return false;
    for (size_t i = 0; i < count; ++i) {
        TfLiteTensor *t = inputs ? interpreter.input(i) : interpreter.output(i);
        const mcu_tflm::Slot &slot = inputs ? mcu_tflm::inputs[i] : mcu_tflm::outputs[i];
        if (t == nullptr || t->bytes != slot.bytes)
            return false;
        *slot.data = t->data.uint8;
    }
    return true;
}

}  // namespace

TfLiteStatus mcu_tflm::timed_invoke(TfLiteStatus (*invoke)(TfLiteContext *, TfLiteNode *),
                                    TfLiteContext *context, TfLiteNode *node)
{
    const uint32_t op = next_op++;
    mcusim_probe(MCUSIM_TAG_OP_BEGIN(op));
    const TfLiteStatus status = invoke(context, node);
    mcusim_probe(MCUSIM_TAG_OP_END(op));
    return status;
}

int main()
{
    mcusim_probe(MCUSIM_TAG_STARTUP_BEGIN);
    const tflite::Model *model = tflite::GetModel(mcu_tflm::model);
    if (model->version() != TFLITE_SCHEMA_VERSION)
        return kSchemaVersion;
    const tflite::MicroOpResolver *resolver = mcu_tflm::op_resolver();
    if (resolver == nullptr)
        return kOpResolver;
    auto *interpreter = new (interpreter_storage)
        tflite::MicroInterpreter(model, *resolver, mcu_tflm_arena, mcu_tflm_arena_size);
    const TfLiteStatus allocated = interpreter->AllocateTensors();
    mcusim_probe(MCUSIM_TAG_STARTUP_END);
    mcu_tflm_arena_used = interpreter->arena_used_bytes();
    if (allocated != kTfLiteOk)
        return kAllocateTensors;
    if (mcu_tflm_stop_after_init)
        return kOk;
    if (!fill_slots(*interpreter, true) || !fill_slots(*interpreter, false))
        return kIoMismatch;
    mcusim_probe(MCU_TFLM_TAG_INPUTS_READY);
    next_op = 0;
    mcusim_probe(MCUSIM_TAG_INVOKE_BEGIN);
    const TfLiteStatus invoked = interpreter->Invoke();
    mcusim_probe(MCUSIM_TAG_INVOKE_END);
    return invoked == kTfLiteOk ? kOk : kInvoke;
}
