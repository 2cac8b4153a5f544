"""Cortex-M0+ (r0p1): Arm DDI 0484C, Cortex-M0+ Technical Reference Manual, §3.3
(instruction timings, ARMv6-M: no DSP, no divide, no IT, no FPU), with the single-cycle
multiplier option that STM32 parts implement. Two-stage pipeline: P = 1.
"""

from mcusim.simulator.costmodel import CoreModel

T = "DDI 0484C §3.3 Table 3-1"

MODEL = CoreModel(
    name="cortex-m0plus",
    unicorn_cpu="CORTEX_M0",
    has_dsp=False,
    has_fpu=False,
    costs={
        "alu": 1, "mul": 1, "dsp_mac": 1, "dsp_simd": 1, "div": 1,
        "load": 2, "store": 2, "load_dual": 3, "store_dual": 3,
        "load_multiple": 1, "store_multiple": 1,
        "branch": 1, "table_branch": 2, "it": 1,
        "fpu": 1, "fpu_mac": 1, "fpu_div": 1, "fpu_mem": 2, "fpu_multiple": 1,
        "system": 1,
    },
    sources={
        "alu": f"{T}: data processing = 1",
        "mul": f"{T}: MULS = 1 (fast multiplier option; 32 with the small one)",
        "dsp_mac": "not in ARMv6-M (never executed)",
        "dsp_simd": "SXTB/UXTB etc. counted as alu; DSP SIMD not in ARMv6-M",
        "div": "not in ARMv6-M (never executed)",
        "load": f"{T}: LDR* = 2",
        "store": f"{T}: STR* = 2",
        "load_dual": "not in ARMv6-M",
        "store_dual": "not in ARMv6-M",
        "load_multiple": f"{T}: LDM/POP = 1+N (POP with PC: 3+N, the +P added when taken)",
        "store_multiple": f"{T}: STM/PUSH = 1+N",
        "branch": f"{T}: B = 2, B<cc> = 1 not taken / 2 taken, BL = 3, BX/BLX = 2 (1+P, P=1; BL's extra cycle folded into P)",
        "table_branch": "not in ARMv6-M",
        "it": "not in ARMv6-M",
        "fpu": "no FPU", "fpu_mac": "no FPU", "fpu_div": "no FPU", "fpu_mem": "no FPU",
        "fpu_multiple": "no FPU",
        "system": f"{T}: NOP/BKPT/MRS/MSR/CPS = 1 (MRS/MSR 3-4 on silicon, rare)",
    },
    branch_penalty=1,
    branch_penalty_source=f"{T}: taken branch = 2 cycles (1+P with P = 1)",
    load_pipelining=False,
    store_imm_single_cycle=False,
    agu_stall=0,
    it_folding=False,
)
