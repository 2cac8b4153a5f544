/* harness_main.c - storage and entry point shared by every kernel harness (see harness.h). */
#include "harness.h"

HARNESS_NOINIT int32_t harness_params[HARNESS_PARAMS];
HARNESS_NOINIT int32_t harness_arena[HARNESS_ARENA_BYTES / 4];
int32_t harness_cursor;
volatile int32_t harness_scratch_bytes;
volatile int32_t harness_status;

int32_t harness_main(void)
{
    harness_cursor = 0;
    harness_scratch_bytes = -1;
    harness_status = harness_run();
    return harness_status;
}

#ifndef HARNESS_HOST
int main(void)
{
    return (int)harness_main();
}
#endif
