// A user's own TFLM application, as vendor examples write one: the model in a C array, an op
// resolver, an arena, AllocateTensors, then Invoke between two probe stores, and printf of the
// first output through newlib's rdimon (semihosting). Built by tests/test_sim_tflm.py.
#include <cstdint>
#include <cstdio>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

extern "C" void initialise_monitor_handles(void);
extern const unsigned char model_data[];

#define PROBE (*(volatile uint32_t *)0x5FFFF000u)

alignas(16) static uint8_t arena[24 * 1024];

int main()
{
    initialise_monitor_handles();
    const tflite::Model *model = tflite::GetModel(model_data);
    static tflite::MicroMutableOpResolver<2> resolver;
    resolver.AddFullyConnected();
    resolver.AddSoftmax();
    static tflite::MicroInterpreter interpreter(model, resolver, arena, sizeof arena);
    if (interpreter.AllocateTensors() != kTfLiteOk)
        return 1;
    TfLiteTensor *in = interpreter.input(0);
    for (size_t i = 0; i < in->bytes; i++)
        in->data.int8[i] = static_cast<int8_t>(((37 * i + 11) % 256) - 128);
    PROBE = 0x1A7E0000u;
    TfLiteStatus status = interpreter.Invoke();
    PROBE = 0x1A7E0001u;
    TfLiteTensor *out = interpreter.output(0);
    for (size_t i = 0; i < out->bytes; i++)
        printf("%d%c", out->data.int8[i], i + 1 == out->bytes ? '\n' : ' ');
    return status == kTfLiteOk ? 0 : 2;
}
