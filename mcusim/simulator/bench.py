"""``mcusim bench``: what cycle accounting costs, as a ratio of instruction rates measured in one
process on one DSP-heavy image (kernels/examples/dsp_dot.c).

Three ways of running the same ELF are timed, interleaved, best of ``rounds``:
  raw        Unicorn with no hooks but the one that stops at ``bkpt``;
  accounting mcusim's full measurement (native block hook, DWT, probes, stack paint);
  minimal    (for scale) a native block hook that only counts: Unicorn's own hook cost;
  py_block   (for scale) a Python callback per block that only counts.
The raw and accounting runs execute the same instruction count; the ratio of their rates is
the figure of merit (target >= 0.70). Times are this process's CPU time (time.process_time), so
other processes on a shared machine do not enter the ratio; the emulation thread of the
accounting run is included, the main thread waiting for it costs next to nothing.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

import unicorn as uc_mod
from unicorn import arm_const as A
from unicorn.unicorn_py3.unicorn import uc_hook_h, uclib

from ..build.toolchain import KERNELS, build_elf
from . import native
from .board import Board
from .elf import Elf
from .machine import Machine

EXAMPLE = KERNELS / "examples" / "dsp_dot.c"


@dataclass
class BenchResult:
    instructions: int
    raw_mips: float
    accounting_mips: float
    py_block_mips: float
    native_min_mips: float
    ratio: float


def _raw_run(elf: Elf, board: Board, py_block: bool = False, native_count: bool = False) -> float:
    m = Machine(elf, board)  # maps memory and loads the image; no accounting hooks yet
    uc = m.uc
    uc.hook_add(uc_mod.UC_HOOK_INTR, lambda u, n, d: u.emu_stop())
    if native_count:
        # The cheapest native block hook possible (one increment): Unicorn's own cost of
        # calling a block hook, the floor under mcusim's accounting.
        lib = native.library()
        count = ctypes.c_uint64(0)
        handle = uc_hook_h()
        uclib.uc_hook_add(uc._uch, ctypes.byref(handle), uc_mod.UC_HOOK_BLOCK,
                          ctypes.cast(lib.mcusim_count_hook, ctypes.c_void_p),
                          ctypes.cast(ctypes.pointer(count), ctypes.c_void_p), ctypes.c_uint64(1), ctypes.c_uint64(0))
    if py_block:
        counter = [0]

        def on_block(u: object, addr: int, size: int, d: object) -> None:
            counter[0] += 1

        uc.hook_add(uc_mod.UC_HOOK_BLOCK, on_block)
    sp = int.from_bytes(m.read(board.flash_origin, 4), "little")
    pc = int.from_bytes(m.read(board.flash_origin + 4, 4), "little")
    uc.reg_write(A.UC_ARM_REG_SP, sp)
    t = time.process_time()
    uc.emu_start(pc | 1, 0xFFFFFFFF)
    return time.process_time() - t


def run_bench(board: Board, repeat: int = 128000, rounds: int = 5) -> BenchResult:
    elf = Elf(build_elf([EXAMPLE], board, defines={"REPEAT": repeat}).elf)
    instructions = 0
    best = {"raw": float("inf"), "acc": float("inf"), "py": float("inf"), "min": float("inf")}
    for _ in range(rounds):
        best["raw"] = min(best["raw"], _raw_run(elf, board))
        best["min"] = min(best["min"], _raw_run(elf, board, native_count=True))
        m = Machine(elf, board)
        t = time.process_time()
        res = m.run()
        best["acc"] = min(best["acc"], time.process_time() - t)
        instructions = res.instructions
    # The Python block hook is ~20x slower: time it on one round only.
    best["py"] = _raw_run(elf, board, py_block=True)
    mips = {k: instructions / v / 1e6 for k, v in best.items()}
    return BenchResult(instructions, mips["raw"], mips["acc"], mips["py"], mips["min"], mips["acc"] / mips["raw"])
