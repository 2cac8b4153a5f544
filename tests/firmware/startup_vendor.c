/* Vendor-style start-up for the tests of `mcusim sim`: a writable vector table (no `const`, as
 * many vendor files have it), Reset_Handler copying .data and zeroing .bss, newlib's
 * constructors, then exit(main()). Unused handlers spin in Default_Handler, as vendor code does. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
extern void __libc_init_array(void);
int main(void);

void Reset_Handler(void)
{
    for (uint32_t *s = _sidata, *d = _sdata; d < _edata;)
        *d++ = *s++;
    for (uint32_t *d = _sbss; d < _ebss;)
        *d++ = 0;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
#endif
    __libc_init_array();
    exit(main());
}

void Default_Handler(void)
{
    for (;;) {
    }
}

void *vectors[16] __attribute__((section(".isr_vector"), used)) = {
    _estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,
};
