"""The per-core cycle model: a cost per instruction class plus the pipeline rules of the core.

A block's cost is computed once, when the simulator first meets the block; see
``docs/cost-model.md`` for every number and its source. Dynamic effects are added by the
machine during the run: the refill ``branch_penalty`` on every taken branch (decided from the
executed path), flash wait states on taken branches that miss the flash accelerator, and the
operand-dependent latency of SDIV/UDIV.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import BoardError
from .isa import CLASSES, Insn


@dataclass(frozen=True)
class CoreModel:
    name: str
    unicorn_cpu: str
    """Name of the Unicorn CPU model constant (``UC_CPU_ARM_<name>``)."""
    has_dsp: bool
    has_fpu: bool
    costs: dict[str, int]
    sources: dict[str, str]
    branch_penalty: int
    """P: pipeline refill cycles added to a taken branch (the branch itself costs costs['branch'])."""
    branch_penalty_source: str
    div_min: int = 2
    div_max: int = 12
    load_pipelining: bool = False
    """Cortex-M4 §3.3.2: a load that follows a load (and does not use its result for the
    address) costs 1 cycle less; a store following a load also completes in 1."""
    store_imm_single_cycle: bool = False
    """Cortex-M4 §3.3.2: STR Rx,[Ry,#imm] costs 1 cycle (write buffer)."""
    agu_stall: int = 0
    """Extra cycles when a load/store address uses the result of the instruction just before."""
    it_folding: bool = False
    dual_issue: bool = False
    """Cortex-M7 (approximate): two adjacent independent ALU/load/store/branch ops issue together."""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        missing = [c for c in CLASSES if c not in self.costs]
        if missing:
            raise ValueError(f"{self.name}: cost table lacks {missing}")

    def div_cycles(self, dividend: int, divisor: int) -> int:
        """SDIV/UDIV latency by operands (magnitudes): ends early when the quotient is short.

        The TRMs give only the range (M4: 2-12); mcusim's rule spreads it linearly over the
        significant bits of the quotient: ``div_min + ceil(qbits * (div_max - div_min) / 32)``,
        so a zero quotient costs ``div_min`` and a 32-bit one ``div_max`` (docs/cost-model.md).
        """
        if divisor == 0 or dividend < divisor:
            return self.div_min
        qbits = dividend.bit_length() - divisor.bit_length() + 1
        span = self.div_max - self.div_min
        return self.div_min + -(-qbits * span // 32)

    def block_costs(self, insns: list[Insn]) -> list[int]:
        """Static cycles of each instruction of a block, in order (taken-branch refill excluded)."""
        out: list[int] = []
        prev: Insn | None = None
        paired = False
        for ins in insns:
            c = ins.cls
            if c in ("load_multiple", "store_multiple", "fpu_multiple"):
                cost = self.costs[c] + ins.reg_count
            elif c == "it" and self.it_folding and prev is not None and prev.size == 2:
                cost = 0
            else:
                cost = self.costs[c]
            if c in ("load", "store", "fpu_mem") and prev is not None:
                follows_load = prev.cls == "load" and not (prev.writes & ins.addr_regs)
                if self.load_pipelining and follows_load:
                    cost = max(1, cost - 1)
                elif self.agu_stall and prev.cls in ("alu", "mul", "dsp_simd", "dsp_mac") and (
                    prev.writes & ins.addr_regs
                ):
                    cost += self.agu_stall
            if c == "store" and self.store_imm_single_cycle and not ins.reg_offset:
                cost = 1
            if self.dual_issue and prev is not None and not paired and _can_pair(prev, ins):
                cost = 0
                paired = True
            else:
                paired = False
            out.append(cost)
            prev = ins
        return out


_PAIRABLE = {"alu", "load", "store", "branch", "dsp_simd", "fpu"}


def _can_pair(first: Insn, second: Insn) -> bool:
    """Cortex-M7 dual issue (approximation): independent simple ops pair up, at most one
    memory access per pair, nothing after a branch, no use of the first one's result."""
    if first.cls not in _PAIRABLE or second.cls not in _PAIRABLE:
        return False
    if first.cls == "branch" or first.writes_pc:
        return False
    mem = {"load", "store"}
    if first.cls in mem and second.cls in mem:
        return False
    return not (first.writes & second.reads)


def get_core(name: str) -> CoreModel:
    module = name.replace("-", "_")
    try:
        mod = importlib.import_module(f"mcusim.simulator.cores.{module}")
    except ModuleNotFoundError:
        raise BoardError(f"no cost table for core {name!r}") from None
    return mod.MODEL


CORES = ("cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m33")


def markdown_tables() -> str:
    """The per-core cost tables as Markdown (docs/cost-model.md embeds this text verbatim;
    a test regenerates it so the document cannot drift from the code)."""
    out = []
    for name in CORES:
        m = get_core(name)
        out.append(f"### {m.name}\n")
        out.append("| class | cycles | source |")
        out.append("|---|---|---|")
        for cls in CLASSES:
            cost = f"{m.costs[cls]}+N" if cls.endswith("multiple") else str(m.costs[cls])
            if cls == "div":
                cost = f"{m.div_min}-{m.div_max}"
            out.append(f"| {cls} | {cost} | {m.sources[cls]} |")
        rules = [
            f"taken-branch refill P = {m.branch_penalty} ({m.branch_penalty_source})",
            f"load pipelining: {'yes' if m.load_pipelining else 'no'}",
            f"STR with immediate offset in 1 cycle: {'yes' if m.store_imm_single_cycle else 'no'}",
            f"address-generation stall after an ALU result: +{m.agu_stall}",
            f"IT folding: {'yes' if m.it_folding else 'no'}",
            f"dual issue: {'yes' if m.dual_issue else 'no'}",
            *m.notes,
        ]
        out.append("")
        out.extend(f"- {r}" for r in rules)
        out.append("")
    return "\n".join(out)
