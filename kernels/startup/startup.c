/*
 * Reset and vector table for every Cortex-M image mcusim builds.
 *
 * Reset_Handler: copy .data (and .weights, when the board places them in RAM) from flash, zero
 * .bss and the tensor arena, enable the FPU where the core has one,
 * call main(), then stop with `bkpt #0` holding main's return value in r0. The simulator
 * treats `bkpt #0` as a normal end of program; any other fault vector stops with `bkpt #1`
 * and is reported as a fault.
 */
#include <stdint.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
extern uint32_t _siweights[], _sweights[], _eweights[], _sarena[], _earena[];
int main(void);

__attribute__((noreturn)) static void stop(int code)
{
    register int r0 __asm__("r0") = code;
    __asm__ volatile("bkpt #0" : : "r"(r0));
    for (;;) {
    }
}

/* no-tree-loop-distribute-patterns: keep the copy loops as loops, so a tiny image does not
 * pull memcpy/memset out of libc just to start. */
__attribute__((noreturn, used, optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;)
        *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;)
        *dst++ = 0;
    if ((uintptr_t)_sweights != (uintptr_t)_siweights) /* weights placed in RAM: load them from flash */
        for (uint32_t *src = _siweights, *dst = _sweights; dst < _eweights;)
            *dst++ = *src++;
    for (uint32_t *dst = _sarena; dst < _earena;)
        *dst++ = 0;
#if defined(__ARM_FP)
    /* CPACR (0xE000ED88): full access to CP10 and CP11. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    stop(main());
}

__attribute__((noreturn, used)) void Fault_Handler(void)
{
    __asm__ volatile("bkpt #1");
    for (;;) {
    }
}

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used)) const vector_t mcusim_vectors[16] = {
    (vector_t)(uintptr_t)_estack, /* 0: initial MSP */
    Reset_Handler,                /* 1: reset */
    Fault_Handler,                /* 2: NMI */
    Fault_Handler,                /* 3: HardFault */
    Fault_Handler,                /* 4: MemManage */
    Fault_Handler,                /* 5: BusFault */
    Fault_Handler,                /* 6: UsageFault */
    0, 0, 0, 0,                   /* 7-10: reserved */
    Fault_Handler,                /* 11: SVCall */
    Fault_Handler,                /* 12: DebugMonitor */
    0,                            /* 13: reserved */
    Fault_Handler,                /* 14: PendSV */
    Fault_Handler,                /* 15: SysTick */
};
