"""Cortex-M33 (approximate). Arm publishes no full cycle table in the M33 TRM (Arm 100230);
the table follows the Armv8-M Mainline pipeline as modelled by LLVM's ARMScheduleM33
(via ARMScheduleM4.td reuse: loads/MAC latency 2, single-cycle DSP) with the M4's rules.
Differences from the M4: SDIV/UDIV 2-11 (100230 §B1 divide note), branch refill P = 1
(the M33 has a shorter, 3-stage pipeline with branch speculation; see docs/cost-model.md).
"""

from dataclasses import replace

from mcusim.simulator.cores.cortex_m4 import MODEL as M4

MODEL = replace(
    M4,
    name="cortex-m33",
    unicorn_cpu="CORTEX_M33",
    div_max=11,
    branch_penalty=1,
    branch_penalty_source="approximate: M33 3-stage pipeline with speculative fetch, P = 1",
    sources={**M4.sources, "div": "approximate: SDIV/UDIV 2-11, operand dependent"},
    notes=("approximate: M4 table with M33 divide range and branch refill",),
)
