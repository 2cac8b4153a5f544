"""Running a Cortex-M ELF in Unicorn with cycle accounting.

The machine maps the board's flash and RAM, loads the ELF's loadable segments, resets the way
silicon does (MSP from word 0 of the vector table, PC from word 1), paints the free RAM for the
stack high-water mark, and runs until the firmware executes ``bkpt #0``.

Cycle accounting is native: a C block hook (``mcusim/simulator/native/blockhook.c``) adds each block's
static cost, computed once per block by :class:`mcusim.costmodel.CoreModel`, and the dynamic
taken-branch refill and flash wait states. Python runs only when a new block is first met,
on SDIV/UDIV (their latency depends on the operands), and on accesses to the system region
(DWT cycle counter, CPACR) and the probe register.
"""

from __future__ import annotations

import bisect
import ctypes
import re
import signal
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import unicorn as uc_mod
from capstone import arm as cs_arm
from unicorn import Uc, UcError
from unicorn import arm_const as A
from unicorn.unicorn_py3.unicorn import uclib

from .. import interrupts
from ..errors import BudgetExceeded, FirmwareFault, McusimError, WrongCore
from . import native
from .board import Board, Region
from .costmodel import CoreModel, get_core
from .elf import Elf
from .isa import Decoder, Insn, build_mismatch, core_isa, undefined_reason
from .loadplan import Planner
from .result import ClassStats, FunctionStats, RunResult, WindowStats
from .semihost import SEMIHOSTING_BKPT, Exit, Semihost, SemihostingError

PPB_BASE, PPB_SIZE = 0xE0000000, 0x100000
DWT_CTRL, DWT_CYCCNT = 0xE0001000, 0xE0001004
PROBE_BASE, PROBE_SIZE = 0x5FFFF000, 0x1000
PAINT_WORD = 0xA5A5A5A5
STACK_GUARD_BYTES = 32
"""Painted words just above the static data: if the stack reaches them, it has overflowed."""
SCB_CCR, CCR_DIV_0_TRP = 0xE000ED14, 1 << 4
Q_FLAG = 1 << 27
# Instructions that can set the sticky Q flag (ARMv7-M ARM A7.7: saturation and DSP MACs).
Q_SETTERS = ("ssat", "usat", "qadd", "qsub", "qdadd", "qdsub", "qasx", "qsax", "smlad", "smlsd",
             "smuad", "smlabb", "smlabt", "smlatb", "smlatt", "smlawb", "smlawt")
DEFAULT_MAX_INSTRUCTIONS = 2_000_000_000
EXCP_BKPT = 7
# QEMU's exception numbers as Unicorn's interrupt hook reports them (target/arm/cpu.h), with what
# the Cortex-M would have raised (Armv7-M ARM B1.5: UsageFault causes, SVCall).
EXCEPTIONS = {
    1: "undefined instruction (UsageFault UNDEFINSTR)",
    2: "svc: a supervisor call, and mcusim runs no exception handlers",
    3: "instruction fetch fault (MemManage/BusFault: executing from a peripheral or an unexecutable address)",
    4: "data access fault (BusFault, or UsageFault UNALIGNED: LDM/STM/LDRD/STRD/LDREX need aligned addresses)",
    8: "exception return (EXC_RETURN) outside a handler",
    17: "coprocessor instruction while the coprocessor is disabled (UsageFault NOCP: FPU not enabled in CPACR?)",
    18: "branch to an address with bit 0 clear (UsageFault INVSTATE: not a Thumb address)",
    19: "stack limit reached (UsageFault STKOF)",
    22: "unaligned access (UsageFault UNALIGNED)",
}
FLAG_CALL = 1
FLAG_ALWAYS_TAKEN = 2
FLAG_KERNEL = 4
FLAG_LOADS, FLAG_ENTRY_REGS, FLAG_ENTRY_FLAGS, FLAG_SIMPLE, FLAG_MAY_RETURN = 8, 16, 32, 64, 128

_REG = {f"r{i}": getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)}
_REG.update(sb=A.UC_ARM_REG_R9, sl=A.UC_ARM_REG_R10, fp=A.UC_ARM_REG_R11, ip=A.UC_ARM_REG_R12,
            sp=A.UC_ARM_REG_SP, lr=A.UC_ARM_REG_LR, pc=A.UC_ARM_REG_PC)


_LOAD_CLASSES = frozenset({"load", "load_dual", "load_multiple", "fpu_mem", "fpu_multiple"})
_STORE_CLASSES = frozenset({"store", "store_dual", "store_multiple", "fpu_mem", "fpu_multiple"})
_CS_TO_UC = {getattr(cs_arm, f"ARM_REG_R{i}"): getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)}
_CS_TO_UC.update({cs_arm.ARM_REG_SP: A.UC_ARM_REG_SP, cs_arm.ARM_REG_LR: A.UC_ARM_REG_LR,
                  cs_arm.ARM_REG_PC: A.UC_ARM_REG_PC, cs_arm.ARM_REG_SB: A.UC_ARM_REG_R9,
                  cs_arm.ARM_REG_SL: A.UC_ARM_REG_R10, cs_arm.ARM_REG_FP: A.UC_ARM_REG_R11,
                  cs_arm.ARM_REG_IP: A.UC_ARM_REG_R12})


@dataclass
class Block:
    addr: int
    size: int
    insns: list[Insn]
    costs: list[int]
    first_load: int = 0
    """Index of the instruction its data-side flash stalls are attributed to."""
    unresolved_loads: int = 0

    def prefix_cost(self, pc: int) -> int:
        """Cycles of this block's instructions before the one at ``pc``."""
        total = 0
        for ins, c in zip(self.insns, self.costs):
            if ins.address >= pc:
                break
            total += c
        return total


@dataclass
class Snapshot:
    """The counters at one instant of the run (a probe store, or the end)."""

    cycles: int
    execs: np.ndarray
    taken: np.ndarray
    stall: np.ndarray
    dstall: np.ndarray
    cur: int
    pc: int
    div_extra: dict[int, int]
    kernel_cycles: int = 0


@dataclass(frozen=True)
class WindowSpec:
    """``--window BEGIN:END``: two function names (entry of BEGIN to entry of END; the same
    name twice: entry to return) or two probe tags (stores of these values to the probe
    register)."""

    begin: str | int
    end: str | int

    @property
    def on_probes(self) -> bool:
        return isinstance(self.begin, int)

    @property
    def one_function(self) -> bool:
        return not self.on_probes and self.begin == self.end

    def __str__(self) -> str:
        show = lambda v: f"0x{v:x}" if isinstance(v, int) else v  # noqa: E731
        return f"{show(self.begin)}:{show(self.end)}"


def parse_window(text: str, elf: Elf) -> WindowSpec:
    """``NAME``, ``NAME:NAME`` or ``TAG:TAG`` (integers, ``0x`` for hex) checked against ``elf``."""
    parts = re.split(r"(?<!:):(?!:)", text)  # C++ names keep their `::`
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise McusimError(f"--window {text!r}: give BEGIN:END, two function names or two probe tags")
    values: list[str | int] = []
    for p in (x.strip() for x in parts):
        try:
            values.append(int(p, 0))
        except ValueError:
            values.append(p)
    kinds = {isinstance(v, int) for v in values}
    if len(kinds) != 1:
        raise McusimError(f"--window {text!r}: give two function names or two probe tags, not one of each")
    for i, v in enumerate(values):
        if isinstance(v, int):
            if not 0 <= v <= 0xFFFFFFFF:
                raise McusimError(f"--window {text!r}: probe tag {v} is not a 32-bit value")
            continue
        sym = elf.find_function(v)
        if sym is None:
            clones = sorted(n for n, s in elf.symbols.items() if s.kind == "func" and n.startswith(v + "."))
            hint = f" (did you mean {clones[0]}?)" if clones else ""
            raise McusimError(f"--window {text!r}: {elf.path.name} has no function {v!r}{hint}")
        values[i] = sym.name
    return WindowSpec(values[0], values[1])


class Machine:
    """One simulated microcontroller running one ELF image."""

    def __init__(self, elf: Elf | Path | str, board: Board, core: CoreModel | None = None,
                 snapshot_probes: bool = False, track_saturation: bool = False,
                 kernel_ranges: list[tuple[int, int]] | None = None,
                 on_output: Callable[[int, bytes], None] | None = None,
                 window: WindowSpec | None = None, data_stalls: bool = True) -> None:
        """``snapshot_probes``: keep the counters at every probe store, so
        :meth:`RunResult.window` can break down the code between any two probes.
        ``track_saturation``: count the executions that set the APSR Q flag (saturating and
        DSP multiply-accumulate instructions; a Python hook on each: slow, for the student view).
        ``kernel_ranges``: code address ranges of the kernel library; the time from entering
        one (call or tail call) until returning out of it, callees included, is counted as
        kernel time (:attr:`WindowStats.kernel_cycles`).
        ``on_output(stream, data)``: semihosting output as the firmware writes it (1 stdout,
        2 stderr); it is also kept in the result. ``window``: measure only between two
        functions or probe tags (:meth:`run` then sets :attr:`window_stats`).

        ``data_stalls``: charge the flash wait states of data loads (the board's
        ``[flash_interface]``); False models the instruction side only (for comparisons)."""
        self.elf = elf if isinstance(elf, Elf) else Elf(elf)
        self.board = board
        self.core = core or get_core(board.core)
        self.isa = core_isa(board.core, board.fpu_kind, board.dsp)
        slow = [r for r in board.ram_regions if r.wait_states]
        if slow:
            # Charging them needs every load/store address; the native hook computes those for
            # flash data reads only. Refused rather than silently run at zero wait states.
            raise McusimError(f"{board.name}: region {slow[0].name} has {slow[0].wait_states} wait states; "
                              "mcusim does not charge RAM wait states yet (set wait_states = 0 to run "
                              "without them, and say so in its source)")
        mismatch = build_mismatch(self.elf.build_attributes, self.isa)
        if mismatch:
            raise WrongCore(f"{self.elf.path.name} cannot run on {board.name}: {mismatch}")
        # No UC_MODE_MCLASS: Unicorn 2.1 forces its Cortex-M33 model whenever that mode bit is
        # set (cpu_arm_init), whatever ctl_set_cpu_model asked, so every core ran as an M33
        # (single-precision FPU: the M7's double-precision instructions were undefined). The
        # M-profile models carry ARM_FEATURE_M themselves.
        self.uc = Uc(uc_mod.UC_ARCH_ARM, uc_mod.UC_MODE_THUMB)
        self.uc.ctl_set_cpu_model(getattr(A, f"UC_CPU_ARM_{self.core.unicorn_cpu}"))
        self._map_memory()
        self._load()
        self._decoder = Decoder()
        self._blocks: list[Block] = []
        self._ppb: dict[int, int] = {}
        self._cyccnt_base = 0
        self._cyccnt_frozen = 0
        self._cyccnt_on = False
        self._probes: list[tuple[int, int]] = []
        self._div_extra: dict[int, int] = defaultdict(int)
        self._invalid: str | None = None
        self._undefined: tuple[int, str] | None = None
        self._state: native.State | None = None
        self._snapshot_probes = snapshot_probes
        self._kernel_ranges = sorted(kernel_ranges or [])
        self._track_q = track_saturation
        self.saturations: dict[int, int] = defaultdict(int)
        """Address -> executions that set the Q flag (with ``track_saturation``)."""
        self._last_q: int | None = None
        self.probe_snapshots: list[Snapshot] = []
        self.on_probe: Callable[[int, Machine], None] | None = None
        """Called with each probe value as it is stored (the host may read and write memory)."""
        self._mmio_exec: tuple[int, int] = (-1, -1)
        self._mmio_pos = 0
        self._on_output = on_output
        self._window = window
        if window is not None and window.on_probes:
            self._snapshot_probes = True
        self.window_stats: WindowStats | None = None
        """With a ``window``: the code between its events, summed over every occurrence."""
        self._semihost: Semihost | None = None
        self._data_stalls = data_stalls
        self._planner = Planner()
        self._loads = np.zeros(0, native.LOAD_DTYPE)
        self._nloads = 0
        self.register_file_found = False
        """Whether the hook reads Unicorn's register file directly (else via uc_reg_read_batch)."""

    # -- memory --------------------------------------------------------------------------
    def _map_memory(self) -> None:
        """Every region of the board; an aliased region's cells are mapped at each address."""
        self._host_memory: list[ctypes.Array] = []
        for r in self.board.regions:
            prot = uc_mod.UC_PROT_READ | uc_mod.UC_PROT_EXEC if r.kind == "flash" else uc_mod.UC_PROT_ALL
            if r.aliases:
                buf = (ctypes.c_uint8 * _page(r.size))()
                self._host_memory.append(buf)
                for addr in (r.origin, *r.aliases):
                    self.uc.mem_map_ptr(addr, _page(r.size), prot, ctypes.addressof(buf))
            else:
                self.uc.mem_map(r.origin, _page(r.size), prot)
        self.uc.mmio_map(PPB_BASE, PPB_SIZE, self._ppb_read, None, self._ppb_write, None)
        self.uc.mmio_map(PROBE_BASE, PROBE_SIZE, lambda *a: 0, None, self._probe_write, None)

    def _load(self) -> None:
        b = self.board
        for seg in self.elf.segments:
            region = b.region_at(seg.paddr)
            view = _view(region, seg.paddr) if region else None
            if view is None or seg.paddr + len(seg.data) > view[1]:
                regions = ", ".join(f"{r.name} 0x{r.origin:08x}+{r.size}" for r in b.regions)
                raise McusimError(
                    f"{self.elf.path.name}: segment at 0x{seg.paddr:08x}+{len(seg.data)} does not fit "
                    f"{b.name}'s memory map ({regions})"
                )
            self.uc.mem_write(seg.paddr, seg.data)

    def write_symbol(self, name: str, data: bytes) -> None:
        """Write ``data`` at a symbol (before :meth:`run`, use ``MCUSIM_NOINIT`` buffers)."""
        sym = self.elf.symbol(name)
        if sym.size and len(data) > sym.size:
            raise McusimError(f"{len(data)} bytes do not fit symbol {name} ({sym.size} bytes)")
        self.uc.mem_write(sym.addr, bytes(data))

    def read_symbol(self, name: str, size: int | None = None) -> bytes:
        sym = self.elf.symbol(name)
        return bytes(self.uc.mem_read(sym.addr, sym.size if size is None else size))

    def read(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    # -- system region: DWT, CPACR, probe ------------------------------------------------
    def now(self, access: int | None = None, write: bool = False) -> int:
        """Cycle count at the instruction currently executing (valid inside hooks)."""
        return self._where(access, write)[0]

    def _where(self, access: int | None, write: bool) -> tuple[int, int]:
        """(cycle count, PC) of the instruction executing now.

        Inside an MMIO callback Unicorn's PC still holds the start of the block, so the
        accessing instruction is found from ``access`` (the address touched): the first
        load (or store) of the block, after the previous MMIO access of this execution of the
        block, whose effective address computed from the live registers matches.
        """
        s = self._state
        pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        if s is None:
            return 0, pc  # not counting (raw runs of `mcusim bench`)
        if s.cur < 0:
            return int(s.cycles), pc
        block = self._blocks[s.cur]
        if access is not None and pc == block.addr:
            pc = self._mmio_insn(block, s.cur, access, write)
        return int(s.cycles) + block.prefix_cost(pc), pc

    def _snapshot(self, cycles: int, pc: int) -> Snapshot:
        n = len(self._blocks)
        b = self._blk
        st = self._state
        kernel = int(st.kernel_cycles) + (cycles - int(st.kernel_start) if st.in_kernel else 0)
        return Snapshot(cycles, b["exec"][:n].copy(), b["taken"][:n].copy(), b["stall"][:n].copy(),
                        b["dstall"][:n].copy(), int(st.cur), pc, dict(self._div_extra), kernel)

    def _mmio_insn(self, block: Block, idx: int, access: int, write: bool) -> int:
        execution = (idx, int(self._blk["exec"][idx]))
        start = self._mmio_pos if self._mmio_exec == execution else 0
        kinds = _STORE_CLASSES if write else _LOAD_CLASSES
        first: int | None = None
        for i in range(start, len(block.insns)):
            ins = block.insns[i]
            if ins.cls not in kinds or ins.mem is None:
                continue
            if first is None:
                first = i
            base, index, disp, shift = ins.mem
            ea = (self._reg(base) + disp + (self._reg(index) << shift if index else 0)) & 0xFFFFFFFF
            span = 4 * max(ins.reg_count, 2)
            if ea - span <= access <= ea + span:
                first = i
                break
        if first is None:
            return block.addr
        self._mmio_exec, self._mmio_pos = execution, first + 1
        return block.insns[first].address

    def _reg(self, capstone_reg: int) -> int:
        return self.uc.reg_read(_CS_TO_UC[capstone_reg]) if capstone_reg else 0

    def _ppb_read(self, uc: Uc, offset: int, size: int, _: object) -> int:
        addr = PPB_BASE + offset
        if addr == DWT_CYCCNT:
            if self._cyccnt_on:
                return (self.now(addr) - self._cyccnt_base) & 0xFFFFFFFF
            return self._cyccnt_frozen
        return self._ppb.get(addr, 0)

    def _ppb_write(self, uc: Uc, offset: int, size: int, value: int, _: object) -> None:
        addr = PPB_BASE + offset
        if addr == DWT_CYCCNT:
            self._cyccnt_frozen = value
            self._cyccnt_base = self.now(addr, write=True) - value
        elif addr == DWT_CTRL:
            on = bool(value & 1)
            if on and not self._cyccnt_on:
                self._cyccnt_base = self.now(addr, write=True) - self._cyccnt_frozen
            elif not on and self._cyccnt_on:
                self._cyccnt_frozen = (self.now(addr, write=True) - self._cyccnt_base) & 0xFFFFFFFF
            self._cyccnt_on = on
        self._ppb[addr] = value

    def _probe_write(self, uc: Uc, offset: int, size: int, value: int, _: object) -> None:
        cycles, pc = self._where(PROBE_BASE + offset, True)
        self._probes.append((cycles, value))
        if self._snapshot_probes:
            self.probe_snapshots.append(self._snapshot(cycles, pc))
        if self.on_probe is not None:
            self.on_probe(value, self)

    # -- block decoding (called from the native hook on a new block) ---------------------
    def _on_miss(self, addr: int, size: int) -> int:
        try:
            code = bytes(self.uc.mem_read(addr, size))
            insns = self._decoder.decode(code, addr)
            if not insns:
                return -1
            for ins in insns:
                # Decided once per block: the core's instruction set, as on silicon.
                why = undefined_reason(ins, self.isa)
                if why:
                    self._undefined = (ins.address, f"{self.isa.fault}: undefined instruction `{ins.text}` "
                                                    f"(the {self.isa.title} does not implement {why})")
                    return -1
            idx = len(self._blocks)
            if idx >= self._capacity:
                self._grow_blocks()
            costs = self.core.block_costs(insns)
            plan = self._planner.plan(code, addr) if self._state.data_mode else None
            block = Block(addr, size, insns, costs)
            self._blocks.append(block)
            rec = self._blk[idx]
            rec["cost"] = sum(costs)
            rec["ninsn"] = len(insns)
            rec["end"] = addr + size
            last = insns[-1]
            rec["flags"] = ((FLAG_CALL if last.is_call else 0) | (FLAG_ALWAYS_TAKEN if last.always_branches else 0)
                            | (FLAG_KERNEL if self._in_kernel_code(addr) else 0)
                            | (FLAG_MAY_RETURN if _indirect(last) else 0))
            if plan is not None:
                block.unresolved_loads = plan.unresolved
                block.first_load = plan.first_load
                if plan.loads:
                    rec["loads_first"] = self._add_loads(plan.loads)
                    rec["flags"] |= (FLAG_LOADS | (len(plan.loads) << 8) | (plan.entry_regs << 16)
                                     | (FLAG_ENTRY_REGS if plan.entry_regs else 0)
                                     | (FLAG_ENTRY_FLAGS if plan.needs_entry_flags else 0)
                                     | (FLAG_SIMPLE if plan.simple else 0))
            if (self._state.ht_used + 1) * 2 > self._state.ht_mask:
                self._grow_table()
            self._lib.mcusim_insert(ctypes.byref(self._state), addr | (size << 32), idx)
            return idx
        except Exception:  # noqa: BLE001 - must never unwind through C; reported after stop
            return -1

    def _add_loads(self, loads: tuple) -> int:
        first = self._nloads
        if first + len(loads) > len(self._loads):
            grown = np.zeros(max(2 * len(self._loads), first + len(loads), 1024), native.LOAD_DTYPE)
            grown[:first] = self._loads[:first]
            self._loads = grown
            self._state.loads = grown.ctypes.data
        for k, ld in enumerate(loads):
            self._loads[first + k] = (ld.disp, ld.offset, ld.nbytes, ld.base.src, ld.base.reg, ld.index.src,
                                      ld.index.reg, ld.shift, ld.cond, int(ld.cond_exit), 0, ld.base.k, ld.index.k)
        self._nloads = first + len(loads)
        return first

    def _in_kernel_code(self, addr: int) -> bool:
        i = bisect.bisect_right(self._kernel_ranges, (addr, 0xFFFFFFFF)) - 1
        return i >= 0 and self._kernel_ranges[i][0] <= addr < self._kernel_ranges[i][1]

    def _alloc_blocks(self, capacity: int) -> None:
        blk = np.zeros(capacity, native.BLOCK_DTYPE)
        blk["next_idx"] = -1
        epoch = np.full(capacity, 0xFFFFFFFF, np.uint32)  # never equal to the eviction count at first
        old = getattr(self, "_blk", None)
        if old is not None:
            blk[: len(old)] = old
            epoch[: len(old)] = self._iepoch
        self._blk = blk
        self._iepoch = epoch
        self._capacity = capacity
        self._state.blk = blk.ctypes.data
        self._state.iepoch = epoch.ctypes.data_as(native.u32p)

    def _grow_blocks(self) -> None:
        self._alloc_blocks(self._capacity * 2)

    def _alloc_table(self, slots: int) -> None:
        self._ht_keys = np.zeros(slots, np.uint64)
        self._ht_vals = np.full(slots, -1, np.int32)
        s = self._state
        s.ht_keys = self._ht_keys.ctypes.data_as(native.u64p)
        s.ht_vals = self._ht_vals.ctypes.data_as(native.i32p)
        s.ht_mask = slots - 1
        s.ht_used = 0

    def _grow_table(self) -> None:
        self._alloc_table((self._state.ht_mask + 1) * 4)
        for idx, b in enumerate(self._blocks):
            self._lib.mcusim_insert(ctypes.byref(self._state), b.addr | (b.size << 32), idx)

    # -- SDIV/UDIV: operand-dependent latency --------------------------------------------
    def _install_div_hooks(self) -> None:
        """Hook every SDIV/UDIV (and, with ``track_saturation``, every Q-setting instruction).

        Images hold kilobytes of weights next to the code, so instead of disassembling whole
        sections the SDIV/UDIV encodings (T1: 0xFB9n/0xFBBn, then 0xFnFn) are found with a
        vectorised scan and only the candidates are decoded. Q tracking decodes the function
        ranges of the symbol table (it is opt-in and slow anyway).
        """
        for sec in self.elf.sections:
            if not sec.executable or sec.size < 4:
                continue
            code = self.read(sec.addr, sec.size & ~1)
            hw = np.frombuffer(code, dtype="<u2")
            first = hw[:-1] & 0xFFF0
            hits = np.nonzero(((first == 0xFB90) | (first == 0xFBB0)) & ((hw[1:] & 0xF0F0) == 0xF0F0))[0]
            for i in hits:
                addr = sec.addr + 2 * int(i)
                ins = self._decoder.decode(code[2 * int(i): 2 * int(i) + 4], addr)
                if ins and ins[0].cls == "div":
                    self.uc.hook_add(uc_mod.UC_HOOK_CODE, self._on_div, ins[0], addr, addr)
        if self._track_q:
            for f in self.elf.function_ranges():
                if f.size == 0:
                    continue
                for ins in self._decoder.decode_all(self.read(f.addr, f.size), f.addr):
                    if ins.mnemonic.split(".")[0].startswith(Q_SETTERS):
                        self.uc.hook_add(uc_mod.UC_HOOK_CODE, self._on_q_insn, ins, ins.address, ins.address)

    def _on_q_insn(self, uc: Uc, address: int, size: int, ins: Insn) -> None:
        """Before a Q-capable instruction: if Q is set, the previous one set it; clear it."""
        self._collect_q()
        self._last_q = address

    def _collect_q(self) -> None:
        apsr = self.uc.reg_read(A.UC_ARM_REG_XPSR)
        if apsr & Q_FLAG and self._last_q is not None:
            self.saturations[self._last_q] += 1
            self.uc.reg_write(A.UC_ARM_REG_XPSR, apsr & ~Q_FLAG)

    def _on_div(self, uc: Uc, address: int, size: int, ins: Insn) -> None:
        ops = [r.strip() for r in ins.op_str.split(",")]
        rn, rm = (ops[1], ops[2]) if len(ops) == 3 else (ops[0], ops[1])
        n, m = uc.reg_read(_REG[rn]), uc.reg_read(_REG[rm])
        if ins.mnemonic.startswith("sdiv"):
            n, m = abs(_signed(n)), abs(_signed(m))
        if m == 0 and self._ppb.get(SCB_CCR, 0) & CCR_DIV_0_TRP:
            self._trap = f"divide by zero ({ins.text}) with CCR.DIV_0_TRP set (UsageFault)"
            uc.emu_stop()
            return
        extra = self.core.div_cycles(n, m) - self.core.costs["div"]
        if extra:
            self._state.cycles += extra
            self._div_extra[address] += extra

    # -- running -------------------------------------------------------------------------
    def _install_hooks(self, max_instructions: int) -> None:
        self._lib = native.library()
        s = self._state = native.State()
        s.uc = ctypes.cast(self.uc._uch, ctypes.c_void_p)
        s.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p)
        self._miss_cb = native.MISS_FN(self._on_miss)
        s.on_miss = self._miss_cb
        s.max_instructions = max_instructions
        s.branch_penalty = self.core.branch_penalty
        s.flash_lo = self.board.flash_origin
        s.flash_hi = self.board.flash_origin + self.board.flash_size
        s.flash_wait_states = self.board.op.flash_wait_states
        lines = self.board.icache_lines
        if self.board.op.flash_wait_states == 0:
            s.flash_mode = 0
        elif not lines:
            s.flash_mode = 1  # no accelerator: every taken branch into flash refetches
        else:
            n = 1 << (lines.bit_length() - 1)  # a power of two lines
            ways = min(self.board.icache_ways, n)
            self._icache = np.full(n, 0xFFFFFFFF, np.uint32)
            self._ivalid = np.zeros(n, np.uint32)
            self._istamp = np.zeros(n, np.uint32)
            self._ihint = np.zeros(native.IHINT_SLOTS, np.uint32)
            s.icache_tags = self._icache.ctypes.data_as(native.u32p)
            s.ivalid = self._ivalid.ctypes.data_as(native.u32p)
            s.istamp = self._istamp.ctypes.data_as(native.u32p)
            s.ihint = self._ihint.ctypes.data_as(native.u32p)
            s.icache_mask = n // ways - 1  # sets - 1
            s.iways = ways
            s.prefetch = int(self.board.flash_interface.prefetch)
            s.flash_mode = 2
        s.icache_line_shift = max(self.board.icache_line_bytes, 1).bit_length() - 1
        # A line holds 1 to 32 read units (one valid bit each).
        read_shift = self.board.flash_interface.read_bytes.bit_length() - 1
        s.fetch_shift = min(max(read_shift, s.icache_line_shift - 5), s.icache_line_shift)
        self._configure_data_side(s)
        s.cur = -1
        self._alloc_blocks(4096)
        self._alloc_table(16384)
        self._hook_handle = uc_mod.unicorn_py3.unicorn.uc_hook_h()
        status = uclib.uc_hook_add(
            self.uc._uch,
            ctypes.byref(self._hook_handle),
            uc_mod.UC_HOOK_BLOCK,
            ctypes.cast(self._lib.mcusim_block_hook, ctypes.c_void_p),
            ctypes.cast(ctypes.pointer(s), ctypes.c_void_p),
            ctypes.c_uint64(1),
            ctypes.c_uint64(0),
        )
        if status != 0:
            raise McusimError(f"cannot install the cycle hook: {UcError(status)}")
        self.uc.hook_add(uc_mod.UC_HOOK_INTR, self._on_intr)
        self.uc.hook_add(
            uc_mod.UC_HOOK_MEM_READ_UNMAPPED | uc_mod.UC_HOOK_MEM_WRITE_UNMAPPED
            | uc_mod.UC_HOOK_MEM_FETCH_UNMAPPED | uc_mod.UC_HOOK_MEM_WRITE_PROT
            | uc_mod.UC_HOOK_MEM_FETCH_PROT,
            self._on_invalid,
        )
        self._install_div_hooks()

    def _configure_data_side(self, s: native.State) -> None:
        """The flash interface as the data loads see it (board ``[flash_interface]``)."""
        fi = self.board.flash_interface
        ws = self.board.op.flash_wait_states
        if not self._data_stalls or ws == 0:
            s.data_mode = 0
            return
        s.data_wait_states = ws
        s.unit_shift = fi.read_bytes.bit_length() - 1
        if fi.dcache_lines:
            ways = fi.dcache_ways or fi.dcache_lines
            sets = fi.dcache_lines // ways
            self._dtags = np.full(fi.dcache_lines, 0xFFFFFFFF, np.uint32)
            self._dvalid = np.zeros(fi.dcache_lines, np.uint32)
            self._dstamp = np.zeros(fi.dcache_lines, np.uint32)
            s.dtags = self._dtags.ctypes.data_as(native.u32p)
            s.dvalid = self._dvalid.ctypes.data_as(native.u32p)
            s.dstamp = self._dstamp.ctypes.data_as(native.u32p)
            s.dline_shift = fi.dcache_line_bytes.bit_length() - 1
            s.dset_mask = sets - 1
            s.dways = ways
            s.data_mode = 2
        else:
            s.data_mode = 1
        s.xpsr_id = A.UC_ARM_REG_XPSR
        s.reg_read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p)
        s.reg_read_batch = ctypes.cast(uclib.uc_reg_read_batch, ctypes.c_void_p)
        s.mem_read = ctypes.cast(uclib.uc_mem_read, ctypes.c_void_p)
        addr = native.register_file(self.uc)
        self.register_file_found = addr is not None
        if addr is not None:
            s.regs = addr
        else:
            # Named fallback: the same registers through the API (slower).
            s.regs_by_api = 1
            ids = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)] + [A.UC_ARM_REG_SP, A.UC_ARM_REG_LR]
            for k, rid in enumerate(ids):
                s.api_ids[k] = rid
                s.api_ptrs[k] = ctypes.addressof(s.api_regs) + 4 * k
            s.regs = ctypes.addressof(s.api_regs)

    @property
    def unresolved_load_executions(self) -> int:
        """Executions of loads that might read flash but whose address or condition the load
        plan could not rebuild (charged no data stall; docs/fidelity.md counts them)."""
        if self._state is None:
            return 0
        n = len(self._blocks)
        execs = self._blk["exec"][:n]
        return int(sum(int(execs[i]) * b.unresolved_loads for i, b in enumerate(self._blocks) if b.unresolved_loads))

    def _on_intr(self, uc: Uc, intno: int, _: object) -> None:
        """Exceptions. ``bkpt 0xAB`` is a semihosting call: served and stepped over. Anything
        else stops the run, and :meth:`run` says why."""
        try:
            if intno == EXCP_BKPT and self._semihost is not None:
                pc = uc.reg_read(A.UC_ARM_REG_PC)
                if self.read(pc, 2)[0] == SEMIHOSTING_BKPT:
                    op = uc.reg_read(A.UC_ARM_REG_R0)
                    r = self._semihost.call(op, uc.reg_read(A.UC_ARM_REG_R1))
                    if isinstance(r, Exit):
                        self._end = (f"semihosting {'SYS_EXIT_EXTENDED' if op == 0x20 else 'SYS_EXIT'}", r.code, pc)
                        uc.emu_stop()
                    else:
                        uc.reg_write(A.UC_ARM_REG_R0, r & 0xFFFFFFFF)
                        uc.reg_write(A.UC_ARM_REG_PC, (pc + 2) | 1)
                    return
        except SemihostingError as e:
            self._trap = str(e)
            uc.emu_stop()
            return
        except Exception as e:  # noqa: BLE001 - never unwind through Unicorn; re-raised by run()
            self._hook_error = e
            uc.emu_stop()
            return
        self._intno = intno
        uc.emu_stop()

    def _on_invalid(self, uc: Uc, access: int, address: int, size: int, value: int, _: object) -> bool:
        kinds = {
            uc_mod.UC_MEM_READ_UNMAPPED: "read of unmapped address",
            uc_mod.UC_MEM_WRITE_UNMAPPED: "write to unmapped address",
            uc_mod.UC_MEM_FETCH_UNMAPPED: "instruction fetch from unmapped address",
            uc_mod.UC_MEM_WRITE_PROT: "write to read-only memory (flash)",
            uc_mod.UC_MEM_FETCH_PROT: "instruction fetch from non-executable memory",
        }
        self._invalid = f"{kinds.get(access, 'invalid access')} 0x{address:08x} ({size} bytes)"
        return False

    # -- memory facts from the section headers ------------------------------------------
    def _regions(self) -> list[tuple[int, int, int]]:
        """Mapped memory as (first, last, perms), the system and probe regions left out."""
        return [(lo, hi, perms) for lo, hi, perms in self.uc.mem_regions()
                if not (PPB_BASE <= lo < PPB_BASE + PPB_SIZE or PROBE_BASE <= lo < PROBE_BASE + PROBE_SIZE)]

    def _region_of(self, addr: int, size: int = 1, perms: int = 0) -> tuple[int, int] | None:
        """(first, end) of the memory region holding ``addr .. addr+size`` with ``perms``."""
        for lo, hi, p in self._regions():
            if lo <= addr and addr + size - 1 <= hi and (p & perms) == perms:
                return lo, hi + 1
        return None

    def _guest_read(self, addr: int, size: int) -> bytes:
        if size == 0:
            return b""
        if self._region_of(addr, size, uc_mod.UC_PROT_READ) is None:
            raise SemihostingError("outside memory")
        return self.read(addr, size)

    def _guest_write(self, addr: int, data: bytes) -> None:
        if not data:
            return
        if self._region_of(addr, len(data), uc_mod.UC_PROT_WRITE) is None:
            raise SemihostingError("not in writable memory" if self._region_of(addr, len(data)) else "outside memory")
        self.uc.mem_write(addr, data)

    def _reset_vector(self) -> tuple[int, int]:
        """(MSP, reset PC) from the vector table, refused with one line when the core could
        not start from them."""
        name = self.elf.path.name
        vt = self.board.flash_origin
        check_vector_table(self.elf, self.board)
        msp = int.from_bytes(self.read(vt, 4), "little")
        reset = int.from_bytes(self.read(vt + 4, 4), "little")
        ram = ", ".join(f"0x{lo:08x}-0x{hi + 1:08x}" for lo, hi, p in self._regions() if p & uc_mod.UC_PROT_WRITE)
        if msp & ~3 == 0 or self._region_of((msp & ~3) - 4, 4, uc_mod.UC_PROT_WRITE) is None:
            raise McusimError(f"{name}: the initial stack pointer 0x{msp:08x} (word 0 of the vector table at "
                              f"0x{vt:08x}) is outside RAM ({ram}): the first push would fault")
        if not reset & 1:
            raise McusimError(f"{name}: the reset vector 0x{reset:08x} (word 1 of the vector table) has bit 0 "
                              f"clear, not a Thumb address: the core would fault at once (INVSTATE)")
        if self._region_of(reset & ~1, 2, uc_mod.UC_PROT_EXEC) is None:
            raise McusimError(f"{name}: the reset vector 0x{reset:08x} (word 1 of the vector table) points "
                              f"outside flash and RAM")
        return msp & ~3, reset

    def _static_end(self) -> int:
        """End of the static RAM below the initial stack pointer, from the section headers
        (no linker symbol needed): the highest end of an allocated section that reaches into the
        MSP's mapped region below the MSP (a section may begin in the region before it, where
        adjacent regions are contiguous: SRAM1|SRAM2|SRAM3 of the L4+), heap/stack reservations
        left out (the heap and the stack live there)."""
        region = self._region_of(self._msp - 4, 4)
        assert region is not None
        lo = region[0]
        reserved = {s.name for s in self.elf.reserved_sections()}
        for sec in self.elf.sections:
            end = sec.addr + sec.size
            if sec.addr < self._msp and end > region[0] and sec.name not in reserved:
                lo = max(lo, min(end, self._msp))
        return (lo + 7) & ~7

    def _paint_stack(self) -> tuple[int, int]:
        lo = self._static_end()
        hi = self._msp
        if hi > lo:
            self.uc.mem_write(lo, PAINT_WORD.to_bytes(4, "little") * ((hi - lo) // 4))
        return lo, hi

    def _stack_floor(self) -> int:
        """Where the stack region starts: above the heap's highest break, else above the statics."""
        lo, hi = self._paint
        top = self._heap_top if self._heap_top is not None else lo
        return min(max(lo, (top + 3) & ~3), hi)

    def _stack_high_water(self, lo: int, hi: int) -> int:
        if hi <= lo:
            return 0
        words = np.frombuffer(self.read(lo, hi - lo), dtype="<u4")
        touched = np.nonzero(words != PAINT_WORD)[0]
        return 0 if len(touched) == 0 else hi - (lo + 4 * int(touched[0]))

    # -- how a run ends: hooks on _exit, branch-to-self, _sbrk, window functions ---------
    def _install_run_hooks(self) -> None:
        syms = self.elf.symbols
        code = uc_mod.UC_HOOK_CODE
        sbrk = syms.get("_sbrk")
        if sbrk is not None and sbrk.kind == "func":
            self.uc.hook_add(code, self._on_sbrk, None, sbrk.addr, sbrk.addr)
        ex = syms.get("_exit")
        if ex is not None and ex.kind == "func":
            self.uc.hook_add(code, self._on_stop_hook, "_exit", ex.addr, ex.addr)
        for addr in self._branches_to_self():
            self.uc.hook_add(code, self._on_stop_hook, "branch-to-self", addr, addr)
        w = self._window
        if w is not None and not w.on_probes:
            self._win_depth = 0
            b, e = syms[str(w.begin)].addr, syms[str(w.end)].addr
            self.uc.hook_add(code, self._on_window_begin, None, b, b)
            if not w.one_function:
                self.uc.hook_add(code, self._on_window_end, None, e, e)

    def _branches_to_self(self) -> list[int]:
        """Addresses of unconditional branches to themselves (``b .``: T2 0xE7FE, T4
        0xF7FF 0xBFFE) in executable sections. Nothing in mcusim raises an interrupt, so once
        one runs nothing can wake the core."""
        out: list[int] = []
        for sec in self.elf.sections:
            if not sec.executable or sec.size < 2:
                continue
            hw = np.frombuffer(self.read(sec.addr, sec.size & ~1), dtype="<u2")
            out += [sec.addr + 2 * int(i) for i in np.nonzero(hw == 0xE7FE)[0]]
            if len(hw) > 1:
                out += [sec.addr + 2 * int(i) for i in np.nonzero((hw[:-1] == 0xF7FF) & (hw[1:] == 0xBFFE))[0]]
        return out

    def _on_stop_hook(self, uc: Uc, address: int, size: int, why: str) -> None:
        self._end = (why, _signed(uc.reg_read(A.UC_ARM_REG_R0)), address)
        uc.emu_stop()

    def _cycles_at(self, address: int) -> int:
        """Cycle count before the instruction at ``address`` (inside a code hook)."""
        s = self._state
        return int(s.cycles) + (self._blocks[s.cur].prefix_cost(address) if s.cur >= 0 else 0)

    def _after_return(self, uc: Uc, then: Callable[[Uc], None]) -> None:
        """Call ``then`` when the function being entered now returns: at its return address
        (LR) with the stack pointer it was called with."""
        ret = uc.reg_read(A.UC_ARM_REG_LR) & ~1
        sp = uc.reg_read(A.UC_ARM_REG_SP)
        if ret not in self._return_hooks:
            self._return_hooks[ret] = []
            self.uc.hook_add(uc_mod.UC_HOOK_CODE, self._on_return_address, None, ret, ret)
        self._return_hooks[ret].append((sp, then))

    def _on_return_address(self, uc: Uc, address: int, size: int, _: object) -> None:
        waiting = self._return_hooks.get(address)
        sp = uc.reg_read(A.UC_ARM_REG_SP)
        for i in range(len(waiting) - 1, -1, -1) if waiting else ():
            if waiting[i][0] == sp:
                _, then = waiting.pop(i)
                then(uc)
                return

    def _on_sbrk(self, uc: Uc, address: int, size: int, _: object) -> None:
        incr = _signed(uc.reg_read(A.UC_ARM_REG_R0))

        def granted(uc: Uc) -> None:
            prev = uc.reg_read(A.UC_ARM_REG_R0)
            if prev == 0xFFFFFFFF:
                return  # refused (ENOMEM)
            if self._heap_base is None:
                self._heap_base = prev
            top = prev + incr
            if self._heap_top is None or top > self._heap_top:
                self._heap_top = top

        self._after_return(uc, granted)

    def _on_window_begin(self, uc: Uc, address: int, size: int, _: object) -> None:
        assert self._window is not None
        if self._window.one_function:
            self._win_depth += 1
            if self._win_depth == 1:
                self._window_event(True, address)

            def returned(uc: Uc) -> None:
                self._win_depth -= 1
                if self._win_depth == 0:
                    self._window_event(False, uc.reg_read(A.UC_ARM_REG_PC))

            self._after_return(uc, returned)
        else:
            self._window_event(True, address)

    def _on_window_end(self, uc: Uc, address: int, size: int, _: object) -> None:
        self._window_event(False, address)

    def _window_event(self, begin: bool, address: int) -> None:
        if begin and self._win_open is None:
            self._win_open = self._snapshot(self._cycles_at(address), address)
        elif not begin and self._win_open is not None:
            # Summed as it goes: a window on a hot function may close a million times.
            self._win_total.add_pair(self._win_open, self._snapshot(self._cycles_at(address), address))
            self._win_open = None

    # -- running -------------------------------------------------------------------------
    def run(self, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> RunResult:
        """Reset and run until the firmware stops: ``bkpt #0``, a semihosting exit, newlib's
        ``_exit`` or an endless branch-to-self (the exit code is r0, or the semihosting exit's).
        Raises FirmwareFault or BudgetExceeded; McusimError when the core could not start."""
        self._msp, reset = self._reset_vector()
        self._intno: int | None = None
        self._trap: str | None = None
        self._end: tuple[str, int, int] | None = None
        self._hook_error: Exception | None = None
        self._heap_base: int | None = None
        self._heap_top: int | None = None
        self._return_hooks: dict[int, list[tuple[int, Callable[[Uc], None]]]] = {}
        self._win_open: Snapshot | None = None
        self._win_total = _Counters.empty()
        self._install_hooks(max_instructions)
        self._install_run_hooks()
        paint = self._paint_stack()
        self._paint = paint
        self._semihost = Semihost(self._guest_read, self._guest_write, lambda: self._where(None, False)[0],
                                  self.board.op.clock_hz, (paint[0], paint[1], paint[1], paint[0]), self._on_output)
        self.uc.reg_write(A.UC_ARM_REG_SP, self._msp)
        error = self._emulate(reset | 1)
        if self._hook_error is not None:
            raise self._hook_error
        pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        s = self._state
        if self._trap is not None:
            self._fault(pc, self._trap)
        if self._end is not None:
            stop, code, pc = self._end
        else:
            if s.stop_reason == 1:
                raise BudgetExceeded(
                    f"instruction budget of {s.max_instructions:,} exceeded at PC 0x{pc:08x} in "
                    f"{self.elf.function_at(pc)} (runaway loop? raise it with --max-instructions)"
                )
            if self._undefined is not None:
                self._fault(*self._undefined)
            if s.stop_reason == 2:
                self._fault(pc, "cannot decode the instruction stream (undefined instruction)")
            if error is not None:
                self._fault(pc, self._invalid or _UC_ERRORS.get(error.errno, str(error)))
            if self._intno is None and self._after_sleep(pc):
                # WFI/WFE halts the core until an interrupt or event, and nothing in the
                # simulation raises one: the program has ended, like an endless `b .`.
                return self._finish(pc, "wfi/wfe (nothing can wake the core)", _signed(self.uc.reg_read(A.UC_ARM_REG_R0)))
            if self._intno is None:
                self._fault(pc, "the emulator stopped without an exception or a stop mcusim knows")
            if self._intno != EXCP_BKPT:
                self._fault(pc, EXCEPTIONS.get(self._intno or 0, f"unexpected exception {self._intno}"))
            imm = self.read(pc, 2)[0]
            if imm != 0:
                self._fault(pc, f"bkpt #{imm} (a breakpoint: only bkpt #0 ends a run, and 0xAB is semihosting; "
                                f"mcusim's own start-up code stops with bkpt #1 in its fault handler)")
            stop, code = "bkpt #0", _signed(self.uc.reg_read(A.UC_ARM_REG_R0))
        return self._finish(pc, stop, code)

    def _finish(self, pc: int, stop: str, code: int) -> RunResult:
        overflow = self._stack_overflow()
        if overflow:
            raise FirmwareFault(overflow)
        if self._track_q:
            self._collect_q()
        s = self._state
        if s.cur >= 0:
            # The stop instruction's block ran only up to `pc`: its loads before it are charged now.
            self._lib.mcusim_finish(ctypes.byref(s), pc - self._blocks[s.cur].addr)
        return self._result(pc, self._paint, stop, code)

    def _after_sleep(self, pc: int) -> bool:
        """Whether the instruction just before ``pc`` is WFI or WFE (T1 0xBF30/0xBF20, T2
        0xF3AF 0x8003/0x8002)."""
        try:
            before = self.read(pc - 4, 4)
        except UcError:
            return False
        hw = int.from_bytes(before[2:], "little")
        first, second = int.from_bytes(before[:2], "little"), hw
        return hw in (0xBF30, 0xBF20) or (first == 0xF3AF and second in (0x8003, 0x8002))

    def _stack_overflow(self) -> str | None:
        """A message when the painted guard just above the heap (or the static data) was overwritten."""
        floor, hi = self._stack_floor(), self._paint[1]
        if hi - floor < STACK_GUARD_BYTES:
            return None
        guard = np.frombuffer(self.read(floor, STACK_GUARD_BYTES), dtype="<u4")
        if np.all(guard == PAINT_WORD):
            return None
        below = "the heap" if self._heap_top is not None else "static data"
        above = "the heap's highest break" if self._heap_top is not None else "the static data"
        return (f"stack overflow: the stack grew down into {below} (the painted guard at 0x{floor:08x}, just above "
                f"{above}, was overwritten; {hi - floor:,} bytes were free for the stack)")

    def _emulate(self, entry: int) -> UcError | None:
        """Run Unicorn in a worker thread, so Ctrl-C in the main thread stops the emulation
        at once instead of after the whole run.

        The worker runs native code that calls back into Python (the block decoder, hooks), so
        the Unicorn instance, the native state and those callbacks must outlive it: on Ctrl-C the
        main thread asks it to stop (the native hook's instruction budget drops to zero, and
        ``uc_emu_stop``) and waits for it to return, ignoring further Ctrl-C meanwhile, before
        letting KeyboardInterrupt go on."""
        outcome: list[UcError | None] = [None]
        done = threading.Event()

        def work() -> None:
            try:
                self.uc.emu_start(entry, 0xFFFFFFFF)
            except UcError as e:
                outcome[0] = e
            finally:
                done.set()

        worker = threading.Thread(target=work, name="mcusim-emulation", daemon=True)
        started = False
        try:
            # SIGINT blocked while the thread starts: it is then surely running when Ctrl-C is
            # handled, and it inherits the mask, so the signal always goes to the main thread.
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                worker.start()
                started = True
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            while not done.wait(0.05):
                interrupts.raise_if_lost()
        except KeyboardInterrupt:
            if started:
                self._stop_worker(worker, done)
            raise
        worker.join()
        return outcome[0]

    def _stop_worker(self, worker: threading.Thread, done: threading.Event) -> None:
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            if self._state is not None:
                self._state.max_instructions = 0
            while not done.wait(0.02):
                self.uc.emu_stop()
            worker.join()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def _fault(self, pc: int, what: str) -> None:
        overflow = self._stack_overflow()
        cause = f" (likely cause: {overflow})" if overflow else ""
        raise FirmwareFault(f"firmware fault: {what} at PC 0x{pc:08x} in {self.elf.function_at(pc)}; "
                            f"backtrace: {' <- '.join(self.backtrace(pc))}{cause}")

    def backtrace(self, pc: int) -> list[str]:
        """Function names from the faulting one outwards, from the shadow call stack."""
        s = self._state
        frames = [self.elf.function_at(pc)]
        depth = min(s.cs_depth, native.CALLSTACK_MAX)
        for k in range(depth - 1, max(depth - 9, -1), -1):
            frames.append(self.elf.function_at(s.cs_ret[k] - 2))
        return frames

    def _flatten(self) -> None:
        """Per-instruction arrays over all blocks met, for vectorised windows."""
        addrs, costs, owner, first, last, dload = [], [], [], [], [], []
        for idx, b in enumerate(self._blocks):
            first.append(len(addrs))
            dload.append(len(addrs) + b.first_load)
            for ins, c in zip(b.insns, b.costs):
                addrs.append(ins.address)
                costs.append(c)
                owner.append(idx)
                self._insn_by_addr[ins.address] = ins
            last.append(len(addrs) - 1)
        self._f_addr = np.array(addrs, np.int64)
        self._f_cost = np.array(costs, np.int64)
        self._f_owner = np.array(owner, np.int64)
        self._f_first = np.array(first, np.int64)
        self._f_last = np.array(last, np.int64)
        self._f_dload = np.array(dload, np.int64)
        uniq, self._f_slot = np.unique(self._f_addr, return_inverse=True)
        self._u_addr = uniq
        self._u_func = [self.elf.function_at(int(a)) for a in uniq]
        self._u_cls = [self._insn_by_addr[int(a)].cls for a in uniq]
        self._u_mnem = [self._insn_by_addr[int(a)].mnemonic.split(".")[0] for a in uniq]
        self._u_index = {int(a): i for i, a in enumerate(uniq)}

    def _per_insn(self, c: "_Counters") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(executions, own cycles, refill + wait-state cycles) per unique instruction address
        for the counters ``c``. A taken branch's refill is booked to the block's last
        instruction, a wait-state stall to its first."""
        n_blocks = len(self._blocks)

        def fit(a: np.ndarray) -> np.ndarray:
            out = np.zeros(n_blocks, np.int64)
            out[: len(a)] = a[:n_blocks]
            return out

        execs, taken, stall, dstall = fit(c.execs), fit(c.taken), fit(c.stall), fit(c.dstall)
        runs = execs[self._f_owner]
        for (cur, pc), n in c.partial.items():
            if n and cur >= 0:
                # That block was entered but had run only up to `pc` (exclusive).
                runs = runs - n * ((self._f_owner == cur) & (self._f_addr >= pc))
        own = runs * self._f_cost
        extra = np.zeros(len(own), np.int64)
        np.add.at(extra, self._f_last, taken * self.core.branch_penalty)
        np.add.at(extra, self._f_first, stall)
        np.add.at(extra, self._f_dload, dstall)
        count_u = np.zeros(len(self._u_addr), np.int64)
        own_u = np.zeros(len(self._u_addr), np.int64)
        extra_u = np.zeros(len(self._u_addr), np.int64)
        np.add.at(count_u, self._f_slot, runs)
        np.add.at(own_u, self._f_slot, own)
        np.add.at(extra_u, self._f_slot, extra)
        for addr, more in c.div_extra.items():
            own_u[self._u_index[addr]] += more
        return count_u, own_u, extra_u

    def window(self, a: Snapshot | None, b: Snapshot) -> WindowStats:
        """Exact statistics between two snapshots (``a`` None: from reset)."""
        c = _Counters.of(b)
        if a is not None:
            c.add(_Counters.of(a), -1)
        return self._stats(c)

    def _stats(self, c: "_Counters") -> WindowStats:
        count, own, extra = self._per_insn(c)
        cyc = own + extra
        functions: dict[str, FunctionStats] = defaultdict(FunctionStats)
        mix: dict[str, ClassStats] = defaultdict(ClassStats)
        mnem: dict[str, ClassStats] = defaultdict(ClassStats)
        counts: dict[int, tuple[int, int]] = {}
        for i in np.nonzero((count != 0) | (cyc != 0))[0]:
            n, y, o = int(count[i]), int(cyc[i]), int(own[i])
            addr = int(self._u_addr[i])
            counts[addr] = (n, y)
            f = functions[self._u_func[i]]
            f.cycles += y
            f.instructions += n
            if addr in self._func_entries:
                f.calls += n
            if n == 0:
                continue  # only a wait-state stall landed here: no instruction of this class ran
            for table, key in ((mix, self._u_cls[i]), (mnem, self._u_mnem[i])):
                st = table[key]
                st.count += n
                st.cycles += o
        total_cycles = int(cyc.sum())
        assert total_cycles == c.cycles, (total_cycles, c.cycles)
        taken = int(c.taken.sum()) if len(c.taken) else 0
        return WindowStats(total_cycles, int(count.sum()), dict(functions), dict(mix), dict(mnem), counts,
                           c.kernel, taken_branches=taken, refill_cycles=taken * self.core.branch_penalty,
                           stall_cycles=int(c.stall.sum()) + int(c.dstall.sum()),
                           fetch_stall_cycles=int(c.stall.sum()), data_stall_cycles=int(c.dstall.sum()),
                           occurrences=list(c.occurrences))

    def _result(self, pc: int, paint: tuple[int, int], stop: str, exit_code: int) -> RunResult:
        s = self._state
        last = int(s.cur)
        cycles = int(s.cycles) + (self._blocks[last].prefix_cost(pc) if last >= 0 else 0)
        end = self._snapshot(cycles, pc)
        self._insn_by_addr: dict[int, Insn] = {}
        self._func_entries = {f.addr for f in self.elf.function_ranges()}
        self._flatten()
        w = self.window(None, end)
        if self._window is not None:
            self.window_stats = self._window_stats()
        floor = self._stack_floor()
        con = self._semihost.console
        return RunResult(
            cycles=w.cycles,
            instructions=w.instructions,
            functions=w.functions,
            instruction_mix=w.instruction_mix,
            mnemonics=w.mnemonics,
            insn_counts=w.insn_counts,
            kernel_cycles=w.kernel_cycles,
            taken_branches=w.taken_branches,
            refill_cycles=w.refill_cycles,
            stall_cycles=w.stall_cycles,
            exit_code=exit_code,
            stop=stop,
            stack_bytes=self._stack_high_water(floor, paint[1]),
            heap_bytes=(self._heap_top - self._heap_base) if self._heap_top is not None and self._heap_base is not None else 0,
            heap_base=self._heap_base,
            heap_top=self._heap_top,
            stdout=bytes(con.stdout),
            stderr=bytes(con.stderr),
            output_truncated=con.truncated,
            semihosting_calls=self._semihost.calls,
            probes=list(self._probes),
            insns=dict(self._insn_by_addr),
            machine=self,
            fetch_stall_cycles=w.fetch_stall_cycles,
            data_stall_cycles=w.data_stall_cycles,
        )

    def _window_stats(self) -> WindowStats:
        w = self._window
        assert w is not None
        total = self._win_total
        if w.on_probes:
            opened = None
            for (_, value), snap in zip(self._probes, self.probe_snapshots):
                if value == w.begin and opened is None:
                    opened = snap
                elif value == w.end and opened is not None:
                    total.add_pair(opened, snap)
                    opened = None
        if not total.occurrences:
            raise McusimError(f"--window {w}: the window never opened and closed in this run "
                              f"(BEGIN, then END, must both happen)")
        return self._stats(total)


@dataclass
class _Counters:
    """Block counters as a signed sum of snapshots (a window, or several)."""

    execs: np.ndarray
    taken: np.ndarray
    stall: np.ndarray
    dstall: np.ndarray
    partial: dict[tuple[int, int], int]
    div_extra: dict[int, int]
    cycles: int
    kernel: int
    occurrences: list[int] = field(default_factory=list)

    @staticmethod
    def empty() -> "_Counters":
        z = np.zeros(0, np.int64)
        return _Counters(z, z, z, z, defaultdict(int), defaultdict(int), 0, 0)

    def add_pair(self, a: Snapshot, b: Snapshot) -> None:
        """Add the window from snapshot ``a`` to snapshot ``b``."""
        self.add(_Counters.of(b))
        self.add(_Counters.of(a), -1)
        self.occurrences.append(b.cycles - a.cycles)

    @staticmethod
    def of(snap: Snapshot) -> "_Counters":
        partial: dict[tuple[int, int], int] = defaultdict(int)
        partial[(snap.cur, snap.pc)] += 1
        div: dict[int, int] = defaultdict(int, snap.div_extra)
        return _Counters(snap.execs.astype(np.int64), snap.taken.astype(np.int64), snap.stall.astype(np.int64),
                         snap.dstall.astype(np.int64), partial, div, snap.cycles, snap.kernel_cycles)

    def add(self, other: "_Counters", sign: int = 1) -> None:
        for name in ("execs", "taken", "stall", "dstall"):
            mine, theirs = getattr(self, name), getattr(other, name)
            n = max(len(mine), len(theirs))
            out = np.zeros(n, np.int64)
            out[: len(mine)] += mine
            out[: len(theirs)] += sign * theirs
            setattr(self, name, out)
        for key, v in other.partial.items():
            self.partial[key] += sign * v
        for addr, v in other.div_extra.items():
            self.div_extra[addr] += sign * v
        self.cycles += sign * other.cycles
        self.kernel += sign * other.kernel


def check_vector_table(elf: Elf, board: Board) -> None:
    """Refuse (one line) an image whose vector table is not where the core reads it: the
    first 8 bytes of the board's flash."""
    vt = board.flash_origin
    loaded = any(seg.paddr <= vt and vt + 8 <= seg.paddr + len(seg.data) for seg in elf.segments)
    named = [s for s in elf.sections if "vector" in s.name.lower() and not s.nobits]
    if loaded and (not named or any(s.load_addr == vt for s in named)):
        return  # (a second, RAM copy of the vectors is fine)
    if named:
        where = f"the ELF puts {named[0].name} at 0x{named[0].load_addr:08x}"
    else:
        stored = [s for s in elf.sections if not s.nobits]
        first = min(stored, key=lambda s: s.load_addr, default=None)
        where = (f"the ELF's lowest loaded section is {first.name} at 0x{first.load_addr:08x}" if first
                 else "the ELF loads nothing")
    raise McusimError(f"{elf.path.name}: the vector table is not at {board.name}'s flash origin 0x{vt:08x}, "
                      f"where the core reads it at reset: {where} (link it for this board, or choose the board "
                      f"it was linked for)")


_UC_ERRORS = {
    uc_mod.UC_ERR_INSN_INVALID: "undefined instruction",
    uc_mod.UC_ERR_EXCEPTION: "unhandled CPU exception (hard fault)",
    uc_mod.UC_ERR_READ_UNALIGNED: "unaligned read",
    uc_mod.UC_ERR_WRITE_UNALIGNED: "unaligned write",
    uc_mod.UC_ERR_FETCH_UNALIGNED: "unaligned instruction fetch",
}


def _view(region: "Region", addr: int) -> tuple[int, int] | None:
    """(start, end) of the address range of ``region`` (its origin or an alias) holding ``addr``."""
    for base in (region.origin, *region.aliases):
        if base <= addr < base + region.size:
            return base, base + region.size
    return None


def _indirect(ins: Insn) -> bool:
    """Whether ``ins`` changes the flow to an address held in a register or memory (a return
    can only be one of these; B, BL, CBZ, B<cc> name their target)."""
    if ins.cls == "table_branch":
        return False
    if ins.cls == "branch":
        return not ins.mnemonic.startswith(("cbz", "cbnz")) and not ins.op_str.lstrip().startswith("#")
    return ins.writes_pc


def _page(n: int) -> int:
    return (n + 0xFFF) & ~0xFFF


def _signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v
