"""Load plans: how the native block hook rebuilds the address of every load of a block.

Unicorn's memory hooks cannot be used to see data loads from flash (with one installed,
Unicorn 2.1.4 mis-executes Thumb IT blocks: unicorn-engine/unicorn#2309). The block hook sees
the registers at the entry of every block, which are also the registers at the exit of the
block before. So for each load of a block whose address could be in flash, this module works
out once, when the block is first met, how to compute the address from those:

- **static**: PC-relative (literal pool) loads: the address is a constant;
- **exit registers** (preferred: the hook reads them anyway): every write to the registers
  the address uses, after the load (its own writeback included), only adds a constant
  (``[rn], #4``, ``adds rn, #16``, a loop counter): the value at the load is the exit value
  minus those constants;
- **entry registers**, followed forward through the block: a register at the load holding an
  entry value plus a constant, the sum of two entry values, or a word the block loaded from
  an address known that way (``mem32[entry reg + k]``, read by the hook at the block's end, so
  only when no store of the block after that load can have changed it).

Loads through SP never reach flash (the stack is in RAM) and are left out. A load inside an
IT block carries its condition, evaluated on the APSR flags at the entry (no flag-setting
instruction before it in the block) or at the exit (none after it). A load none of this
covers is *unresolved*: it is counted (:attr:`Plan.unresolved`) and charged nothing, and
``Machine.unresolved_load_executions`` reports how often such loads ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import capstone
from capstone import arm

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


SRC_NONE, SRC_ENTRY, SRC_EXIT, SRC_MEM = 0, 1, 2, 3
"""Where an address operand comes from: nothing (0), a register at the block's entry or exit,
or a memory word read at the block's exit (``mem32[entry reg + k]``: a value the block loaded
and that no later store of the block can have changed: a stack slot no store of the block
overlaps, or any word when the block stores nothing after loading it)."""


@dataclass(frozen=True)
class Operand:
    src: int = SRC_NONE
    reg: int = 0
    k: int = 0
    """Offset from the entry register (SRC_MEM)."""


@dataclass(frozen=True)
class PlannedLoad:
    offset: int
    """Of the instruction from the block start."""
    base: Operand
    index: Operand
    shift: int
    disp: int
    """Added to base + (index << shift), modulo 2^32; the address itself when static."""
    nbytes: int
    cond: int
    """ARM condition code; COND_ALWAYS outside IT blocks."""
    cond_exit: bool
    """The condition is evaluated on the flags at the block's exit (else at its entry)."""


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
            for op in (ld.base, ld.index):
                if op.src in (SRC_ENTRY, SRC_MEM):
                    mask |= 1 << op.reg
        return mask

    @property
    def simple(self) -> bool:
        """Every load unconditional with its address built from exit registers and a constant
        (the hook's fast path)."""
        return all(ld.cond == COND_ALWAYS and ld.base.src == SRC_EXIT and ld.index.src in (SRC_NONE, SRC_EXIT)
                   for ld in self.loads)

    @property
    def needs_entry_flags(self) -> bool:
        return any(ld.cond != COND_ALWAYS and not ld.cond_exit for ld in self.loads)


# A symbolic register value: ("e", reg, c) = entry value of reg + c; ("s", ra, rb, c) = the
# sum of the entry values of ra and rb + c; ("m", r, k, c, j) = the word at the entry value
# of r + k, loaded by instruction j, + c; None = unknown.
_Value = tuple | None


def _plus(v: _Value, c: int) -> _Value:
    if v is None:
        return None
    if v[0] == "e":
        return ("e", v[1], v[2] + c)
    if v[0] == "s":
        return ("s", v[1], v[2], v[3] + c)
    return ("m", v[1], v[2], v[3] + c, v[4])


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
            # regs_access lists CPSR for compares but not for ADDS/ANDS/...: ask update_flags too
            sets_flags.append(bool(i.update_flags) or i.mnemonic.startswith("msr") or any(r in _FLAG_REGS or i.reg_name(r).startswith(("apsr", "cpsr"))
                                                         for r in written))
        # after[j][r]: what the instructions after j add to r before the block's exit (exit
        # value = value after j + after[j][r]), None when one of them writes r otherwise.
        after: list[list[int | None]] = [[]] * len(insns)
        cur: list[int | None] = [0] * 15
        for k in range(len(insns) - 1, -1, -1):
            after[k] = cur.copy()
            cur = _back_step(insns[k], writes[k], cur)
        # Per instruction, the stack bytes it stores to, relative to the entry SP: (lo, hi),
        # "any" when it stores to an address not known to be in the frame, None if no store.
        # A first forward pass finds them all: a word loaded early may be stored over later.
        stores: list[tuple[int, int] | str | None] = []
        vals: list[_Value] = [("e", r, 0) for r in range(15)]
        slots: dict[int, _Value] = {}
        for j, i in enumerate(insns):
            stores.append(_store_span(i, vals))
            _step(i, j, vals, writes[j], _access(i), slots)
        final_slots = slots  # what the frame holds at the block's exit, as far as known
        vals = [("e", r, 0) for r in range(15)]
        slots = {}
        loads: list[PlannedLoad] = []
        unresolved = 0
        first_load = -1
        for j, i in enumerate(insns):
            access = _access(i)
            if access is not None and access[0] != SP:
                if first_load < 0:
                    first_load = j
                if len(loads) == MAX_LOADS:
                    unresolved += 1  # the block record holds at most MAX_LOADS
                else:
                    ld = self._resolve(i, j, addr, access, vals, writes, sets_flags, stores, after[j], final_slots)
                    if ld is None:
                        unresolved += 1
                    else:
                        loads.append(ld)
            _step(i, j, vals, writes[j], access, slots)
        return Plan(tuple(loads), unresolved, max(first_load, 0))

    @staticmethod
    def _resolve(i: capstone.CsInsn, j: int, addr: int, access: tuple, vals: list[_Value],
                 writes: list[frozenset[int]], sets_flags: list[bool], stores: list,
                 after: list[int | None], final_slots: dict[int, _Value]) -> PlannedLoad | None:
        base, index, shift, disp, nbytes, delta = access
        if base < 0:
            return None
        cond = i.cc - 1 if i.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID) else COND_ALWAYS
        cond_exit = False
        if cond != COND_ALWAYS and any(sets_flags[:j]):
            if any(sets_flags[j + 1:]):
                return None
            cond_exit = True
        offset = i.address - addr
        if base == PC and index == NO_INDEX:
            return PlannedLoad(offset, Operand(), Operand(), 0, _s32(((i.address + 4) & ~3) + disp), nbytes, cond, cond_exit)
        if base == PC:  # TBB/TBH [pc, rm]: the table starts right after the instruction
            after_index = after[index] if index >= 0 else None
            if index < 0 or after_index is None or index in writes[j]:
                return None
            return PlannedLoad(offset, Operand(), Operand(SRC_EXIT, index), shift,
                               _s32(i.address + 4 - (after_index << shift)), nbytes, cond, cond_exit)
        # Exit registers first: they cost the hook nothing extra (entry ones are copied). A
        # register is usable if everything written to it after the load (its own writeback
        # included) only added constants: the value at the load is the exit value minus them.
        used = {base} | ({index} if index != NO_INDEX else set())
        dest = writes[j] - {base} if delta is not None else writes[j]
        db = after[base]
        if db is not None and delta is not None:
            db += delta
        dx = after[index] if index != NO_INDEX else 0
        if not used & dest and db is not None and dx is not None:
            idx = Operand(SRC_EXIT, index) if index != NO_INDEX else Operand()
            return PlannedLoad(offset, Operand(SRC_EXIT, base), idx, shift, _s32(disp - db - (dx << shift)),
                               nbytes, cond, cond_exit)
        # Else the values at the load, followed through the block from its entry.
        total = disp
        vb = vals[base]
        if vb is not None and vb[0] == "s" and index == NO_INDEX:
            return PlannedLoad(offset, Operand(SRC_ENTRY, vb[1]), Operand(SRC_ENTRY, vb[2]), 0, _s32(disp + vb[3]),
                               nbytes, cond, cond_exit)
        ops = []
        for reg, sh in ((base, 0), (index, shift)):
            if reg == NO_INDEX:
                ops.append(Operand())
                continue
            v = vals[reg]
            if v is None or v[0] == "s":
                return None
            if v[0] == "e":
                ops.append(Operand(SRC_ENTRY, v[1]))
                total += v[2] << sh
            else:
                _, r, k, c, origin = v
                later = [st for st in stores[origin + 1:] if st is not None]
                if not -32768 <= k < 32768:
                    return None
                if (r != SP and later) or any(st == "any" or (st[0] < k + 4 and k < st[1]) for st in later):
                    # Stored over later: usable only if the block puts back that same word plus a
                    # constant (a pointer spilled again after its increment).
                    back = final_slots.get(k) if r == SP else None
                    if back is None or back[0] != "m" or back[1:3] != (SP, k) or back[4] != origin:
                        return None  # the word may have changed before the hook reads it
                    c -= back[3]
                ops.append(Operand(SRC_MEM, r, k))
                total += c << sh
        return PlannedLoad(offset, ops[0], ops[1], shift, _s32(total), nbytes, cond, cond_exit)


def _step(i: capstone.CsInsn, j: int, vals: list[_Value], written: frozenset[int], access: tuple | None,
          slots: dict[int, _Value]) -> None:
    """Update the symbolic register values (and the stack words the block stored, ``slots``:
    offset from the entry SP -> value) past instruction ``i``."""
    new: dict[int, _Value] = {}
    _store_slots(i, vals, slots)
    m = i.mnemonic.split(".")[0]
    ops = i.operands
    conditional = i.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID)
    regs = [_REGNUM.get(op.reg, -1) for op in ops if op.type == arm.ARM_OP_REG]
    imms = [op.imm for op in ops if op.type == arm.ARM_OP_IMM]
    if not conditional:
        if m in ("add", "adds", "sub", "subs", "addw", "subw") and imms and 1 <= len(regs) <= 2 and not any(
                op.type == arm.ARM_OP_REG and op.shift.type for op in ops):
            rd, rn = regs[0], regs[-1]
            v = vals[rn] if 0 <= rn < 15 else None
            if v is not None and 0 <= rd < 15:
                new[rd] = _plus(v, imms[0] if m.startswith("add") else -imms[0])
        elif m in ("add", "adds") and not imms and 2 <= len(regs) <= 3 and not any(
                op.type == arm.ARM_OP_REG and op.shift.type for op in ops):
            rd, ra, rb = (regs[0], regs[0], regs[1]) if len(regs) == 2 else regs
            va = vals[ra] if 0 <= ra < 15 else None
            vb = vals[rb] if 0 <= rb < 15 else None
            if 0 <= rd < 15 and va is not None and vb is not None and va[0] == "e" and vb[0] == "e":
                new[rd] = ("s", va[1], vb[1], va[2] + vb[2])
        elif m in ("mov", "movs") and len(regs) == 2 and not imms and not ops[1].shift.type:
            rd, rn = regs
            if 0 <= rd < 15 and 0 <= rn < 15:
                new[rd] = vals[rn]
        elif access is not None and m == "ldr" and 0 <= access[0] < 15 and access[1] == NO_INDEX and access[5] is None:
            rd = regs[0]
            vb = vals[access[0]]
            if vb is not None and vb[0] == "e" and 0 <= rd < 15:
                k = vb[2] + access[3]
                if vb[1] == SP and k in slots:  # a word this block spilled: reloaded as it was
                    new[rd] = slots[k]
                else:
                    new[rd] = ("m", vb[1], k, 0, j)
        wb = _writeback(i)  # loads and stores (PUSH/POP too): base += step
        if wb is not None and 0 <= wb[0] < 15:
            new[wb[0]] = _plus(vals[wb[0]], wb[1])
    for r in written:
        if r < 15:
            vals[r] = new.get(r)
    for r, v in new.items():
        if r not in written:
            vals[r] = v


def _store_slots(i: capstone.CsInsn, vals: list[_Value], slots: dict[int, _Value]) -> None:
    """Record in ``slots`` the words a store puts in the frame (before ``i``'s register effects)."""
    span = _store_span(i, vals)
    if span is None:
        return
    if span == "any":
        slots.clear()  # it may have hit the frame
        return
    lo, hi = span
    for k in [k for k in slots if k < hi and lo < k + 4]:
        del slots[k]
    m = i.mnemonic.split(".")[0]
    if i.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID):
        return
    regs = [_REGNUM.get(op.reg, -1) for op in i.operands if op.type == arm.ARM_OP_REG]
    if m.startswith("push"):
        words = regs
    elif m in ("str", "strd"):
        words = regs[:2] if m == "strd" else regs[:1]
    else:
        return
    if hi - lo != 4 * len(words):
        return
    for n, r in enumerate(words):
        slots[lo + 4 * n] = vals[r] if 0 <= r < 15 else None


def _back_step(i: capstone.CsInsn, written: frozenset[int], cur: list[int | None]) -> list[int | None]:
    """``cur`` (what later instructions add to each register) extended over instruction ``i``."""
    out = cur.copy()
    m = i.mnemonic.split(".")[0]
    conditional = i.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID)
    ops = i.operands
    regs = [_REGNUM.get(op.reg, -1) for op in ops if op.type == arm.ARM_OP_REG]
    imms = [op.imm for op in ops if op.type == arm.ARM_OP_IMM]
    additive: dict[int, int] = {}
    if not conditional:
        if (m in ("add", "adds", "sub", "subs", "addw", "subw") and imms and 1 <= len(regs) <= 2
                and regs[0] == regs[-1] and not any(op.type == arm.ARM_OP_REG and op.shift.type for op in ops)):
            additive[regs[0]] = imms[0] if m.startswith("add") else -imms[0]
        else:
            wb = _writeback(i)
            if wb is not None:
                base, step = wb
                loaded = [r for r in regs if r != base] if m.startswith(("ldr", "ldm", "pop")) else []
                if base not in loaded:
                    additive[base] = step
    for r in written:
        if r >= 15:
            continue
        if r in additive and out[r] is not None:
            out[r] = out[r] + additive[r]
        else:
            out[r] = None
    return out


def _writeback(i: capstone.CsInsn) -> tuple[int, int] | None:
    """(base register, what the instruction adds to it) of a load/store with writeback."""
    if not i.writeback:
        return None
    m = i.mnemonic.split(".")[0]
    ops = i.operands
    regs = [op for op in ops if op.type == arm.ARM_OP_REG]
    if m.startswith(("push", "pop", "vpush", "vpop", "ldm", "stm", "vldm", "vstm")):
        if m.startswith(("push", "pop", "vpush", "vpop")):
            base, listed = SP, regs
        else:
            base, listed = _REGNUM.get(regs[0].reg, -1), regs[1:]
        n = sum(8 if i.reg_name(op.reg).startswith("d") else 4 for op in listed)
        down = m.startswith(("push", "vpush")) or "db" in m
        return (base, -n if down else n) if base >= 0 else None
    mem = next((op for op in ops if op.type == arm.ARM_OP_MEM), None)
    if mem is None:
        return None
    base = _REGNUM.get(mem.mem.base, -1)
    if i.post_index:
        imm = next((op.imm for op in ops if op.type == arm.ARM_OP_IMM), None)
        return (base, imm) if imm is not None and base >= 0 else None
    return (base, mem.mem.disp) if base >= 0 else None


def _store_span(i: capstone.CsInsn, vals: list[_Value]) -> tuple[int, int] | str | None:
    """Stack bytes (from the entry SP) a store writes; "any" if not known to be the frame."""
    m = i.mnemonic.split(".")[0]
    if not m.startswith(("st", "push", "vst", "vpush")):
        return None
    sp = vals[SP]
    if sp is None or sp[0] != "e" or sp[1] != SP:
        return "any"
    regs = [op for op in i.operands if op.type == arm.ARM_OP_REG]
    if m.startswith(("push", "vpush")):
        n = sum(8 if i.reg_name(op.reg).startswith("d") else 4 for op in regs)
        return (sp[2] - n, sp[2])
    mem = next((op for op in i.operands if op.type == arm.ARM_OP_MEM), None)
    if mem is None or _REGNUM.get(mem.mem.base) != SP or mem.mem.index:
        return "any"
    plain = next((m[:-2] for c in _CONDS if m.endswith(c) and m[:-2] in _STORE_SIZE), m)
    size = _STORE_SIZE.get(plain, 4)
    lo = sp[2] + (0 if i.post_index else mem.mem.disp)
    return (lo, lo + max(size, 8 if m.startswith("vst") else size))


_STORE_SIZE = {"str": 4, "strb": 1, "strh": 2, "strd": 8, "strex": 4, "strexb": 1, "strexh": 2, "strt": 4,
               "strbt": 1, "strht": 2, "vstr": 8}


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


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
    if m in ("tbb", "tbh"):  # the branch table is read from memory (usually flash, after the TBB)
        mem = next(op for op in ops if op.type == arm.ARM_OP_MEM)
        return (_REGNUM.get(mem.mem.base, -1), _REGNUM.get(mem.mem.index, -1), 1 if m == "tbh" else 0, 0,
                2 if m == "tbh" else 1, None)
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
