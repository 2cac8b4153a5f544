"""What a run measured: the result types of the simulator, free of the emulator.

Rendering (mcusim/present) and the stacks read these; only mcusim/simulator/machine.py makes them.
Importing this module loads neither Unicorn nor capstone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .isa import Insn
    from .machine import Machine


@dataclass
class FunctionStats:
    cycles: int = 0
    instructions: int = 0
    calls: int = 0
    """Executions of the function's first instruction: calls and tail calls (and loops back to
    the very first instruction, which compilers do not emit for a function entry)."""


@dataclass
class ClassStats:
    count: int = 0
    cycles: int = 0


@dataclass
class WindowStats:
    """What ran between two snapshots: exact, attributed per instruction."""

    cycles: int
    instructions: int
    functions: dict[str, FunctionStats]
    instruction_mix: dict[str, ClassStats]
    mnemonics: dict[str, ClassStats]
    """Per base mnemonic (``smlad``, ``ldr``...), for the DSP share and the student view."""
    insn_counts: dict[int, tuple[int, int]]
    """address -> (executions, cycles) for every instruction executed in the window."""
    kernel_cycles: int = 0
    """Cycles inside the kernel library (callees included), when the machine was given
    ``kernel_ranges``; 0 otherwise."""
    taken_branches: int = 0
    refill_cycles: int = 0
    """Pipeline refills of taken branches (taken_branches x P). ``instruction_mix`` and
    ``mnemonics`` leave them out; ``functions`` and ``insn_counts`` include them."""
    stall_cycles: int = 0
    """Flash wait-state cycles (fetch + data); like refills, outside ``instruction_mix``."""
    fetch_stall_cycles: int = 0
    """Flash wait states paid by instruction fetch (taken branches missing the I-cache, and
    straight-line code streaming in from flash faster than it can be read)."""
    data_stall_cycles: int = 0
    """Flash wait states paid by data loads (units the data cache did not hold)."""
    occurrences: list[int] = field(default_factory=list)
    """For a window summed over several occurrences: the cycles of each."""


@dataclass
class RunResult(WindowStats):
    """What one run measured. Every figure is counted by the simulator, none estimated."""

    exit_code: int = 0
    stop: str = "bkpt #0"
    """How the run ended: ``bkpt #0``, ``semihosting SYS_EXIT``/``SYS_EXIT_EXTENDED``,
    ``_exit`` (newlib's, reached), or ``branch-to-self`` (an endless ``b .``)."""
    stack_bytes: int = 0
    """Stack high-water mark: bytes below the initial MSP that the run overwrote."""
    heap_bytes: int = 0
    """Highest break newlib's ``_sbrk`` granted minus its first one (0 when nothing was allocated)."""
    heap_base: int | None = None
    heap_top: int | None = None
    """The highest address the heap reached (the break), when ``_sbrk`` granted anything."""
    stdout: bytes = b""
    stderr: bytes = b""
    output_truncated: bool = False
    semihosting_calls: int = 0
    probes: list[tuple[int, int]] = field(default_factory=list)
    """(cycle count at the store, value) for every store to the probe register, in order."""
    insns: dict[int, Insn] = field(default_factory=dict)
    machine: "Machine | None" = field(default=None, repr=False)

    def window(self, first_probe: int, second_probe: int) -> WindowStats:
        """Exact statistics of the code that ran between two probe stores (by index)."""
        assert self.machine is not None
        snaps = self.machine.probe_snapshots
        return self.machine.window(snaps[first_probe], snaps[second_probe])
