"""Cortex-M7 (approximate). Arm publishes no M7 cycle table. Costs follow LLVM's
ARMScheduleM7.td (IssueWidth 2, LoadLatency 2, MUL/MAC latency 2, DIV 7 single-issue,
FP MAC32 6 latency, FDIV32 16) and the microbenchmarks on an STM32H743 summarised in
shared/reference/cortex-m-cycles.md §2 (LDM/STM ceil(n/2), mispredict 8 cycles). mcusim prices
throughput, not latency: single-cycle issue for ALU/MAC/DSP, dual issue of adjacent
independent simple ops, and a taken-branch refill of 1 (the branch target cache predicts
loop branches; a mispredict is not modelled separately).
"""

from dataclasses import replace

from mcusim.simulator.cores.cortex_m4 import MODEL as M4

SRC = "approximate (LLVM ARMScheduleM7.td; STM32H743 microbenchmarks)"

MODEL = replace(
    M4,
    name="cortex-m7",
    unicorn_cpu="CORTEX_M7",
    costs={**M4.costs, "load": 1, "store": 1, "load_dual": 1, "store_dual": 1,
           "div": 7, "fpu_div": 16, "fpu_mac": 1, "fpu_mem": 1},
    sources={c: SRC for c in M4.sources},
    branch_penalty=1,
    branch_penalty_source=SRC + ": predicted taken branch refill 1",
    div_min=7,
    div_max=7,
    load_pipelining=False,
    store_imm_single_cycle=False,
    agu_stall=0,
    it_folding=True,
    dual_issue=True,
    notes=("approximate: dual issue of adjacent independent ALU/load/store/DSP-SIMD ops",),
)
