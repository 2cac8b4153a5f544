"""Load plans: how the native block hook rebuilds the address of every load of a block.

Unicorn's memory hooks cannot be used to see data loads from flash (with one installed,
Unicorn 2.1.4 mis-executes Thumb IT blocks: unicorn-engine/unicorn#2309). The block hook sees
the registers at the entry of every block, which are also the registers at the exit of the
block before. So for each load of a block whose address could be in flash, this module works
out, once per block, from which of the two register sets its address follows:

- **static**: PC-relative (literal pool) loads: the address is a constant;
- **exit** (preferred: these registers are read anyway): no register the address uses is
  written by a later instruction of the block; the load's own writeback (``[rn], #4``,
  ``[rn, #4]!``, ``ldm rn!``) is undone, since its size is in the encoding;
- **entry**: none is written by an earlier one (the hook copies those registers on entry).

Loads through SP never reach flash (the stack is in RAM) and are left out. A load inside an
IT block carries its condition, evaluated on the APSR flags at the entry (no flag-setting
instruction before it in the block) or at the exit (none after it). A load for which neither
holds is *unresolved*: it is counted (:attr:`Plan.unresolved`) and charged nothing, and
``Machine.unresolved_load_executions`` reports how often such loads ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import capstone
from capstone import arm

LOAD_STATIC, LOAD_ENTRY, LOAD_EXIT = 0, 1, 2
COND_ALWAYS = 14
NO_INDEX = 0xFF
MAX_LOADS = 255
SP, LR, PC = 13, 14, 15
_ALL_REGS = frozenset(range(15))

_REGNUM = {getattr(arm, f"ARM_REG_R{i}"): i for i in range(13)}
_REGNUM.update({arm.ARM_REG_SB: 9, arm.ARM_REG_SL: 10, arm.ARM_REG_FP: 11, arm.ARM_REG_IP: 12,
                arm.ARM_REG_SP: SP, arm.ARM_REG_LR: LR, arm.ARM_REG_PC: PC})
_FLAG_REGS = frozenset(getattr(arm, n) for n in ("ARM_REG_CPSR", "ARM_REG_APSR", "ARM_REG_APSR_NZCV")
                       if hasattr(arm, n))
_SIZE = {"ldrb": 1, "ldrsb": 1, "ldrbt": 1, "ldrsbt": 1, "ldrexb": 1, "ldab": 1,
         "ldrh": 2, "ldrsh": 2, "ldrht": 2, "ldrsht": 2, "ldrexh": 2, "ldah": 2, "ldrd": 8}
_LOAD_CLASSES = ("load", "load_dual", "load_multiple", "fpu_mem", "fpu_multiple")


@dataclass(frozen=True)
class PlannedLoad:
    offset: int
    """Of the instruction from the block start."""
    kind: int
    base: int
    index: int
    shift: int
    disp: int
    """Added to base (+ index << shift); the address itself when static."""
    nbytes: int
    cond: int
    cond_exit: bool


@dataclass(frozen=True)
class Plan:
    loads: tuple[PlannedLoad, ...]
    unresolved: int
    """Loads that may read flash but whose address or condition cannot be rebuilt."""
    first_load: int
    """Index in the block of the first planned load (where its data stalls are attributed)."""

    @property
    def entry_regs(self) -> int:
        """Bit mask of the registers the plan reads at the block's entry."""
        mask = 0
        for ld in self.loads:
            if ld.kind == LOAD_ENTRY:
                mask |= 1 << ld.base
                if ld.index != NO_INDEX:
                    mask |= 1 << ld.index
        return mask

    @property
    def needs_entry_flags(self) -> bool:
        return any(ld.cond != COND_ALWAYS and not ld.cond_exit for ld in self.loads)


class Planner:
    def __init__(self) -> None:
        self._cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
        self._cs.detail = True

    def plan(self, code: bytes, addr: int) -> Plan:
        """The load plan of the block of Thumb ``code`` at ``addr``."""
        insns = list(self._cs.disasm(code, addr))
        writes: list[frozenset[int]] = []
        sets_flags: list[bool] = []
        for i in insns:
            try:
                _, written = i.regs_access()
            except capstone.CsError:  # unknown effects: assume it writes everything
                writes.append(_ALL_REGS)
                sets_flags.append(True)
                continue
            writes.append(frozenset(_REGNUM[r] for r in written if r in _REGNUM))
            sets_flags.append(any(r in _FLAG_REGS for r in written))
        loads: list[PlannedLoad] = []
        unresolved = 0
        first_load = -1
        for j, i in enumerate(insns):
            access = _access(i)
            if access is not None and len(loads) == MAX_LOADS:
                unresolved += 1  # the block record holds at most MAX_LOADS
                continue
            if access is None:
                continue
            base, index, shift, disp, nbytes, delta = access
            if base == SP:
                continue
            if base < 0:
                unresolved += 1
                continue
            if first_load < 0:
                first_load = j
            cond = i.cc - 1 if i.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID) else COND_ALWAYS
            cond_exit = False
            if cond != COND_ALWAYS:
                if any(sets_flags[:j]):
                    if any(sets_flags[j + 1:]):
                        unresolved += 1
                        continue
                    cond_exit = True
            offset = i.address - addr
            if base == PC:
                loads.append(PlannedLoad(offset, LOAD_STATIC, 0, NO_INDEX, 0,
                                         ((i.address + 4) & ~3) + disp, nbytes, cond, cond_exit))
                continue
            # Exit registers first: they cost the hook nothing extra (entry ones are copied).
            used = {base} | ({index} if index != NO_INDEX else set())
            after = frozenset().union(*writes[j + 1:])
            dest = writes[j] - {base} if delta is not None else writes[j]
            if not used & after and not used & dest:
                exit_disp = disp - (delta or 0)
                loads.append(PlannedLoad(offset, LOAD_EXIT, base, index, shift, exit_disp, nbytes, cond, cond_exit))
                continue
            before = frozenset().union(*writes[:j])
            if not used & before:
                loads.append(PlannedLoad(offset, LOAD_ENTRY, base, index, shift, disp, nbytes, cond, cond_exit))
                continue
            unresolved += 1
        return Plan(tuple(loads), unresolved, max(first_load, 0))


def _access(i: capstone.CsInsn) -> tuple[int, int, int, int, int, int | None] | None:
    """(base, index, shift, disp, bytes, writeback delta or None) of a load; None otherwise."""
    m = i.mnemonic.split(".")[0]
    ops = i.operands
    if m.startswith(("ldm", "pop", "vldm", "vpop")):
        if m.startswith(("pop", "vpop")):
            return (SP, NO_INDEX, 0, 0, 4, None)
        regs = [op.reg for op in ops if op.type == arm.ARM_OP_REG]
        base = _REGNUM.get(regs[0], -1)
        rest = [i.reg_name(r) for r in regs[1:]]
        nbytes = sum(8 if r.startswith("d") else 4 for r in rest)
        down = "db" in m
        disp = -nbytes if down else 0
        delta = (-nbytes if down else nbytes) if i.writeback else None
        return (base, NO_INDEX, 0, disp, nbytes, delta)
    is_load = (m.startswith("ldr") or m.startswith("lda") or m.startswith("vldr"))
    if not is_load:
        return None
    mem = next((op for op in ops if op.type == arm.ARM_OP_MEM), None)
    if mem is None:
        return None
    base = _REGNUM.get(mem.mem.base, -1)
    index = _REGNUM.get(mem.mem.index, NO_INDEX) if mem.mem.index else NO_INDEX
    shift = mem.shift.value if mem.shift.type == arm.ARM_SFT_LSL else 0
    disp = mem.mem.disp
    if m.startswith("vldr"):
        first = next(op for op in ops if op.type == arm.ARM_OP_REG)
        nbytes = 8 if i.reg_name(first.reg).startswith("d") else 4
    else:
        nbytes = _SIZE.get(_strip_cond(m), 4)
    delta: int | None = None
    if i.writeback:
        if i.post_index:
            # No immediate (not a Thumb encoding): delta stays None, so the base counts as
            # overwritten by the load and only the entry registers can give the address.
            imm = next((op.imm for op in ops if op.type == arm.ARM_OP_IMM), None)
            delta = imm
        else:
            delta = disp
    return (base, index, shift, disp, nbytes, delta)


_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")


def _strip_cond(m: str) -> str:
    if m in _SIZE or m in ("ldr", "ldrex", "lda", "ldrt"):
        return m
    for c in _CONDS:
        if m.endswith(c) and (m[: -len(c)] in _SIZE or m[: -len(c)] in ("ldr", "ldrex", "lda", "ldrt")):
            return m[: -len(c)]
    return m
