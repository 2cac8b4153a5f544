/*
 * mcusim.h - the few things firmware needs to cooperate with the simulator.
 *
 * Everything here also works on a real part: the probe is a store to an unused address
 * (harmless on hardware only if you remove it; define MCUSIM_NO_PROBE to compile it out),
 * and the cycle counter is the DWT's, which the simulator emulates.
 */
#ifndef MCUSIM_H
#define MCUSIM_H

#include <stdint.h>

/* Buffers the host writes before reset: the startup code neither copies nor zeroes them. */
#define MCUSIM_NOINIT __attribute__((section(".noinit"), aligned(4)))

/* The tensor arena: its own section, linked into the board's arena region (the board profile's
 * [placement], `--place arena=REGION`) and zeroed at start-up like .bss. */
#define MCUSIM_ARENA __attribute__((section(".arena"), aligned(16)))

/* DWT cycle counter (ARMv7-M ARM C1.8; present on M3/M4/M7/M33, absent on M0+). */
#define MCUSIM_DWT_CTRL   (*(volatile uint32_t *)0xE0001000u)
#define MCUSIM_DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define MCUSIM_DEMCR      (*(volatile uint32_t *)0xE000EDFCu)

/* Probe register: every store is recorded by the simulator with the cycle count at which the
 * store executes. Firmware uses it to mark the begin and end of regions (e.g. each operator). */
#define MCUSIM_PROBE_ADDR 0x5FFFF000u

static inline void mcusim_probe(uint32_t tag)
{
#ifndef MCUSIM_NO_PROBE
    *(volatile uint32_t *)MCUSIM_PROBE_ADDR = tag;
#else
    (void)tag;
#endif
}

/*
 * Probe tags of the deployment protocol (both paths use it; mcusim/stacks/deploy.py reads it):
 *   MCUSIM_TAG_STARTUP_BEGIN / _END   one-off start-up work (tinyml: parse, plan, prepare)
 *   MCUSIM_TAG_INVOKE_BEGIN / _END    one inference
 *   MCUSIM_TAG_OP_BEGIN(i) / _END(i)  operator i of the model (its eval, glue included)
 *   MCUSIM_TAG_INPUTS_READY           the input pointer slots hold where the inputs go (tensors
 *                                     in the arena): the host writes them now
 */
#define MCUSIM_TAG_STARTUP_BEGIN 0x5EED0000u
#define MCUSIM_TAG_STARTUP_END   0x5EED0001u
#define MCUSIM_TAG_INVOKE_BEGIN  0x5EED0002u
#define MCUSIM_TAG_INVOKE_END    0x5EED0003u
#define MCUSIM_TAG_OP_BEGIN(i)   (0x0B000000u | (uint32_t)(i))
#define MCUSIM_TAG_OP_END(i)     (0x0E000000u | (uint32_t)(i))
#define MCUSIM_TAG_INPUTS_READY  0x5EED0010u

static inline void mcusim_cycle_counter_enable(void)
{
    MCUSIM_DEMCR |= 1u << 24;   /* TRCENA */
    MCUSIM_DWT_CYCCNT = 0;
    MCUSIM_DWT_CTRL |= 1u;      /* CYCCNTENA */
}

#endif /* MCUSIM_H */
