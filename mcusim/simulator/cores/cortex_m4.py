"""Cortex-M4 (r0p1): Arm DDI 0439D, Cortex-M4 Technical Reference Manual.

Table 3-1 (processor instruction timings), Table 3-2 (DSP instructions, all single-cycle),
§3.3.2 (load/store pipelining), Table 7-1 (FPU instruction timings). Zero wait-state memory;
flash wait states are a board property added by the machine on taken branches.
"""

from mcusim.simulator.costmodel import CoreModel

T31 = "DDI 0439D Table 3-1"
T32 = "DDI 0439D Table 3-2"
T71 = "DDI 0439D Table 7-1"

MODEL = CoreModel(
    name="cortex-m4",
    unicorn_cpu="CORTEX_M4",
    has_dsp=True,
    has_fpu=True,
    costs={
        "alu": 1, "mul": 1, "dsp_mac": 1, "dsp_simd": 1, "div": 2,
        "load": 2, "store": 2, "load_dual": 3, "store_dual": 3,
        "load_multiple": 1, "store_multiple": 1,
        "branch": 1, "table_branch": 2, "it": 1,
        "fpu": 1, "fpu_mac": 3, "fpu_div": 14, "fpu_mem": 2, "fpu_multiple": 1,
        "system": 1,
    },
    sources={
        "alu": f"{T31}: ADD/SUB/logic/shift/MOV/CMP/extend/bit-field = 1",
        "mul": f"{T31}: MUL/MLA/MLS = 1; SMULL/UMULL/SMLAL/UMLAL = 1 (no early termination on M4)",
        "dsp_mac": f"{T32}: SMLAD{{X}}/SMUAD/SMLSD/SMLALD/SMLA<xy>/SMLAW/SMMLA = 1",
        "dsp_simd": f"{T32}: SXTB16/SXTAB16/SADD16/QADD/SSAT/USAT/PKHBT/SEL = 1",
        "div": f"{T31}: SDIV/UDIV 2-12, priced per execution from the operands",
        "load": f"{T31}: LDR* = 2; §3.3.2: 1 when pipelined after a load",
        "store": f"{T31}: STR* = 2; §3.3.2: STR Rx,[Ry,#imm] = 1 (write buffer), 1 after a load",
        "load_dual": f"{T31}: LDRD = 1+N, N=2",
        "store_dual": f"{T31}: STRD = 1+N, N=2",
        "load_multiple": f"{T31}: LDM/POP = 1+N (+P when PC is loaded)",
        "store_multiple": f"{T31}: STM/PUSH = 1+N",
        "branch": f"{T31}: B/BL/BX/BLX = 1+P; B<cc>/CBZ = 1 not taken, 1+P taken",
        "table_branch": f"{T31}: TBB/TBH = 2+P",
        "it": f"{T31}: IT = 1, 0 when folded onto a preceding 16-bit instruction",
        "fpu": f"{T71}: VADD/VSUB/VMUL/VABS/VNEG/VCMP/VCVT/VMOV/VMRS = 1",
        "fpu_mac": f"{T71}: VMLA/VMLS/VFMA/VFMS and negated forms = 3",
        "fpu_div": f"{T71}: VDIV.F32/VSQRT.F32 = 14",
        "fpu_mem": f"{T71}: VLDR.32/VSTR.32 = 2",
        "fpu_multiple": f"{T71}: VLDM/VSTM/VPUSH/VPOP = 1+N (.32), 1+2N (.64)",
        "system": f"{T31}: NOP/BKPT/MRS/MSR/CPS = 1 (barriers 1+B with B taken as 0)",
    },
    branch_penalty=2,
    branch_penalty_source=(
        f"{T31}: P = 1-3 by target alignment/width and speculation; mcusim uses the midpoint "
        "P = 2, so a taken branch costs 3 cycles"
    ),
    div_min=2,
    div_max=12,
    load_pipelining=True,
    store_imm_single_cycle=True,
    agu_stall=1,
    it_folding=True,
)
