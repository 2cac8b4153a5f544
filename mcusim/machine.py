"""Running a Cortex-M ELF in Unicorn with cycle accounting.

The machine maps the board's flash and RAM, loads the ELF's loadable segments, resets the way
silicon does (MSP from word 0 of the vector table, PC from word 1), paints the free RAM for the
stack high-water mark, and runs until the firmware executes ``bkpt #0``.

Cycle accounting is native: a C block hook (``mcusim/native/blockhook.c``) adds each block's
static cost, computed once per block by :class:`mcusim.costmodel.CoreModel`, and the dynamic
taken-branch refill and flash wait states. Python runs only when a new block is first met,
on SDIV/UDIV (their latency depends on the operands), and on accesses to the system region
(DWT cycle counter, CPACR) and the probe register.
"""

from __future__ import annotations

import bisect
import ctypes
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

from . import native
from .board import Board
from .costmodel import CoreModel, get_core
from .elf import Elf
from .errors import BudgetExceeded, FirmwareFault, McusimError
from .isa import Decoder, Insn

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
FLAG_CALL = 1
FLAG_ALWAYS_TAKEN = 2
FLAG_KERNEL = 4

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

    def prefix_cost(self, pc: int) -> int:
        """Cycles of this block's instructions before the one at ``pc``."""
        total = 0
        for ins, c in zip(self.insns, self.costs):
            if ins.address >= pc:
                break
            total += c
        return total


@dataclass
class FunctionStats:
    cycles: int = 0
    instructions: int = 0


@dataclass
class ClassStats:
    count: int = 0
    cycles: int = 0


@dataclass
class Snapshot:
    """The counters at one instant of the run (a probe store, or the end)."""

    cycles: int
    execs: np.ndarray
    taken: np.ndarray
    stall: np.ndarray
    cur: int
    pc: int
    div_extra: dict[int, int]
    kernel_cycles: int = 0


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


@dataclass
class RunResult(WindowStats):
    """What one run measured. Every figure is counted by the simulator, none estimated."""

    exit_code: int = 0
    stack_bytes: int = 0
    """Stack high-water mark: bytes below the initial MSP that the run overwrote."""
    probes: list[tuple[int, int]] = field(default_factory=list)
    """(cycle count at the store, value) for every store to the probe register, in order."""
    insns: dict[int, Insn] = field(default_factory=dict)
    machine: "Machine | None" = field(default=None, repr=False)

    def window(self, first_probe: int, second_probe: int) -> WindowStats:
        """Exact statistics of the code that ran between two probe stores (by index)."""
        assert self.machine is not None
        snaps = self.machine.probe_snapshots
        return self.machine.window(snaps[first_probe], snaps[second_probe])


class Machine:
    """One simulated microcontroller running one ELF image."""

    def __init__(self, elf: Elf | Path | str, board: Board, core: CoreModel | None = None,
                 snapshot_probes: bool = False, track_saturation: bool = False,
                 kernel_ranges: list[tuple[int, int]] | None = None) -> None:
        """``snapshot_probes``: keep the counters at every probe store, so
        :meth:`RunResult.window` can break down the code between any two probes.
        ``track_saturation``: count the executions that set the APSR Q flag (saturating and
        DSP multiply-accumulate instructions; a Python hook on each: slow, for the student view).
        ``kernel_ranges``: code address ranges of the kernel library; the time from entering
        one (call or tail call) until returning out of it, callees included, is counted as
        kernel time (:attr:`WindowStats.kernel_cycles`)."""
        self.elf = elf if isinstance(elf, Elf) else Elf(elf)
        self.board = board
        self.core = core or get_core(board.core)
        self.uc = Uc(uc_mod.UC_ARCH_ARM, uc_mod.UC_MODE_THUMB | uc_mod.UC_MODE_MCLASS)
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

    # -- memory --------------------------------------------------------------------------
    def _map_memory(self) -> None:
        b = self.board
        self.uc.mem_map(b.flash_origin, _page(b.flash_size), uc_mod.UC_PROT_READ | uc_mod.UC_PROT_EXEC)
        self.uc.mem_map(b.ram_origin, _page(b.ram_size), uc_mod.UC_PROT_ALL)
        self.uc.mmio_map(PPB_BASE, PPB_SIZE, self._ppb_read, None, self._ppb_write, None)
        self.uc.mmio_map(PROBE_BASE, PROBE_SIZE, lambda *a: 0, None, self._probe_write, None)

    def _load(self) -> None:
        b = self.board
        for seg in self.elf.segments:
            end = seg.paddr + len(seg.data)
            in_flash = b.flash_origin <= seg.paddr and end <= b.flash_origin + b.flash_size
            in_ram = b.ram_origin <= seg.paddr and end <= b.ram_origin + b.ram_size
            if not (in_flash or in_ram):
                raise McusimError(
                    f"{self.elf.path.name}: segment at 0x{seg.paddr:08x}+{len(seg.data)} does not fit "
                    f"{b.name}'s memory map (flash 0x{b.flash_origin:08x}+{b.flash_size}, "
                    f"RAM 0x{b.ram_origin:08x}+{b.ram_size})"
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
                        int(st.cur), pc, dict(self._div_extra), kernel)

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
            idx = len(self._blocks)
            if idx >= self._capacity:
                self._grow_blocks()
            costs = self.core.block_costs(insns)
            self._blocks.append(Block(addr, size, insns, costs))
            rec = self._blk[idx]
            rec["cost"] = sum(costs)
            rec["ninsn"] = len(insns)
            rec["end"] = addr + size
            last = insns[-1]
            rec["flags"] = ((FLAG_CALL if last.is_call else 0) | (FLAG_ALWAYS_TAKEN if last.always_branches else 0)
                            | (FLAG_KERNEL if self._in_kernel_code(addr) else 0))
            if (self._state.ht_used + 1) * 2 > self._state.ht_mask:
                self._grow_table()
            self._lib.mcusim_insert(ctypes.byref(self._state), addr | (size << 32), idx)
            return idx
        except Exception:  # noqa: BLE001 - must never unwind through C; reported after stop
            return -1

    def _in_kernel_code(self, addr: int) -> bool:
        i = bisect.bisect_right(self._kernel_ranges, (addr, 0xFFFFFFFF)) - 1
        return i >= 0 and self._kernel_ranges[i][0] <= addr < self._kernel_ranges[i][1]

    def _alloc_blocks(self, capacity: int) -> None:
        blk = np.zeros(capacity, native.BLOCK_DTYPE)
        blk["next_idx"] = -1
        old = getattr(self, "_blk", None)
        if old is not None:
            blk[: len(old)] = old
        self._blk = blk
        self._capacity = capacity
        self._state.blk = blk.ctypes.data

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
            n = 1 << (lines.bit_length() - 1)  # direct-mapped, a power of two lines
            self._icache = np.full(n, 0xFFFFFFFF, np.uint32)
            s.icache_tags = self._icache.ctypes.data_as(native.u32p)
            s.icache_mask = n - 1
            s.flash_mode = 2
        s.icache_line_shift = max(self.board.icache_line_bytes, 1).bit_length() - 1
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

    def _on_intr(self, uc: Uc, intno: int, _: object) -> None:
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

    def _paint_stack(self) -> tuple[int, int]:
        lo = self.elf.symbols["_end"].addr if "_end" in self.elf.symbols else self.board.ram_origin
        hi = self._msp
        lo = (lo + 3) & ~3
        if hi > lo:
            self.uc.mem_write(lo, PAINT_WORD.to_bytes(4, "little") * ((hi - lo) // 4))
        return lo, hi

    def _stack_high_water(self, lo: int, hi: int) -> int:
        if hi <= lo:
            return 0
        words = np.frombuffer(self.read(lo, hi - lo), dtype="<u4")
        touched = np.nonzero(words != PAINT_WORD)[0]
        return 0 if len(touched) == 0 else hi - (lo + 4 * int(touched[0]))

    def run(self, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> RunResult:
        """Reset and run to ``bkpt #0``. Raises FirmwareFault or BudgetExceeded."""
        vt = self.board.flash_origin
        self._msp = int.from_bytes(self.read(vt, 4), "little")
        reset = int.from_bytes(self.read(vt + 4, 4), "little")
        self._install_hooks(max_instructions)
        paint = self._paint_stack()
        self.uc.reg_write(A.UC_ARM_REG_SP, self._msp)
        self._intno: int | None = None
        self._trap: str | None = None
        self._paint = paint
        error = self._emulate(reset | 1)
        pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        s = self._state
        if s.stop_reason == 1:
            raise BudgetExceeded(
                f"instruction budget of {max_instructions:,} exceeded at PC 0x{pc:08x} in "
                f"{self.elf.function_at(pc)} (runaway loop? raise it with --max-instructions)"
            )
        if self._trap is not None:
            self._fault(pc, self._trap)
        if s.stop_reason == 2:
            self._fault(pc, "cannot decode the instruction stream (undefined instruction)")
        if error is not None:
            self._fault(pc, self._invalid or _UC_ERRORS.get(error.errno, str(error)))
        if self._intno != EXCP_BKPT:
            self._fault(pc, f"unexpected exception {self._intno} (undefined instruction or SVC)")
        bkpt_imm = self.read(pc, 2)[0]
        if bkpt_imm != 0:
            self._fault(pc, "the firmware entered a fault handler (bkpt #1)")
        overflow = self._stack_overflow()
        if overflow:
            raise FirmwareFault(overflow)
        if self._track_q:
            self._collect_q()
        return self._result(pc, paint)

    def _stack_overflow(self) -> str | None:
        """A message when the painted guard above the static data was overwritten."""
        lo, hi = self._paint
        if hi - lo < STACK_GUARD_BYTES:
            return None
        guard = np.frombuffer(self.read(lo, STACK_GUARD_BYTES), dtype="<u4")
        if np.all(guard == PAINT_WORD):
            return None
        return (f"stack overflow: the stack grew down into static data (the painted guard at "
                f"0x{lo:08x}, just above .bss, was overwritten; {hi - lo:,} bytes were free for the stack)")

    def _emulate(self, entry: int) -> UcError | None:
        """Run Unicorn in a worker thread, so Ctrl-C in the main thread stops the emulation
        at once (uc_emu_stop is safe from another thread) instead of after the whole run."""
        outcome: list[UcError | None] = [None]

        def work() -> None:
            try:
                self.uc.emu_start(entry, 0xFFFFFFFF)
            except UcError as e:
                outcome[0] = e

        worker = threading.Thread(target=work, name="mcusim-emulation", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.05)
        except KeyboardInterrupt:
            self.uc.emu_stop()
            worker.join()
            raise
        return outcome[0]

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
        addrs, costs, owner, first, last = [], [], [], [], []
        for idx, b in enumerate(self._blocks):
            first.append(len(addrs))
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
        uniq, self._f_slot = np.unique(self._f_addr, return_inverse=True)
        self._u_addr = uniq
        self._u_func = [self.elf.function_at(int(a)) for a in uniq]
        self._u_cls = [self._insn_by_addr[int(a)].cls for a in uniq]
        self._u_mnem = [self._insn_by_addr[int(a)].mnemonic.split(".")[0] for a in uniq]
        self._u_index = {int(a): i for i, a in enumerate(uniq)}

    def _per_insn(self, snap: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        """(executions, cycles) per unique instruction address up to ``snap``."""
        n_blocks = len(self._blocks)
        execs = np.zeros(n_blocks, np.int64)
        taken = np.zeros(n_blocks, np.int64)
        stall = np.zeros(n_blocks, np.int64)
        k = len(snap.execs)
        execs[:k], taken[:k], stall[:k] = snap.execs, snap.taken, snap.stall
        runs = execs[self._f_owner]
        if snap.cur >= 0:
            # The current block was entered but has run only up to `pc` (exclusive).
            sel = (self._f_owner == snap.cur) & (self._f_addr >= snap.pc)
            runs = runs - sel
        cyc = runs * self._f_cost
        np.add.at(cyc, self._f_last, taken * self.core.branch_penalty)
        np.add.at(cyc, self._f_first, stall)
        count_u = np.zeros(len(self._u_addr), np.int64)
        cyc_u = np.zeros(len(self._u_addr), np.int64)
        np.add.at(count_u, self._f_slot, runs)
        np.add.at(cyc_u, self._f_slot, cyc)
        for addr, extra in snap.div_extra.items():
            cyc_u[self._u_index[addr]] += extra
        return count_u, cyc_u

    def window(self, a: Snapshot | None, b: Snapshot) -> WindowStats:
        """Exact statistics between two snapshots (``a`` None: from reset)."""
        count, cyc = self._per_insn(b)
        if a is not None:
            ca, ya = self._per_insn(a)
            count, cyc = count - ca, cyc - ya
        functions: dict[str, FunctionStats] = defaultdict(FunctionStats)
        mix: dict[str, ClassStats] = defaultdict(ClassStats)
        mnem: dict[str, ClassStats] = defaultdict(ClassStats)
        counts: dict[int, tuple[int, int]] = {}
        for i in np.nonzero((count != 0) | (cyc != 0))[0]:
            c, y = int(count[i]), int(cyc[i])
            counts[int(self._u_addr[i])] = (c, y)
            for table, key in ((functions, self._u_func[i]), (mix, self._u_cls[i]), (mnem, self._u_mnem[i])):
                st = table[key]
                if table is functions:
                    st.cycles += y  # type: ignore[union-attr]
                    st.instructions += c  # type: ignore[union-attr]
                else:
                    st.count += c  # type: ignore[union-attr]
                    st.cycles += y  # type: ignore[union-attr]
        total_cycles = int(cyc.sum())
        expected = b.cycles - (a.cycles if a is not None else 0)
        assert total_cycles == expected, (total_cycles, expected)
        kernel = b.kernel_cycles - (a.kernel_cycles if a is not None else 0)
        return WindowStats(total_cycles, int(count.sum()), dict(functions), dict(mix), dict(mnem), counts, kernel)

    def _result(self, pc: int, paint: tuple[int, int]) -> RunResult:
        s = self._state
        last = int(s.cur)
        cycles = int(s.cycles) + (self._blocks[last].prefix_cost(pc) if last >= 0 else 0)
        end = self._snapshot(cycles, pc)
        self._insn_by_addr: dict[int, Insn] = {}
        self._flatten()
        w = self.window(None, end)
        return RunResult(
            cycles=w.cycles,
            instructions=w.instructions,
            functions=w.functions,
            instruction_mix=w.instruction_mix,
            mnemonics=w.mnemonics,
            insn_counts=w.insn_counts,
            kernel_cycles=w.kernel_cycles,
            exit_code=_signed(self.uc.reg_read(A.UC_ARM_REG_R0)),
            stack_bytes=self._stack_high_water(*paint),
            probes=list(self._probes),
            insns=dict(self._insn_by_addr),
            machine=self,
        )


_UC_ERRORS = {
    uc_mod.UC_ERR_INSN_INVALID: "undefined instruction",
    uc_mod.UC_ERR_EXCEPTION: "unhandled CPU exception (hard fault)",
    uc_mod.UC_ERR_READ_UNALIGNED: "unaligned read",
    uc_mod.UC_ERR_WRITE_UNALIGNED: "unaligned write",
    uc_mod.UC_ERR_FETCH_UNALIGNED: "unaligned instruction fetch",
}


def _page(n: int) -> int:
    return (n + 0xFFF) & ~0xFFF


def _signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v
