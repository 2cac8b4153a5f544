"""Decoding Thumb-2 instructions (capstone) into the classes the cost tables price.

Each instruction is decoded once per address; the result, :class:`Insn`, carries what the
cycle model needs: its class, its size, the registers it writes, the registers its address
uses, the register count of a load/store-multiple, and whether it is a call.
"""

from __future__ import annotations

from dataclasses import dataclass

import capstone
from capstone import arm

# Instruction classes. The names are the keys of every core's cost table and of the JSON
# ``instruction_mix``.
CLASSES = (
    "alu",          # data processing, shifts, moves, compares, extends, bit fields
    "mul",          # MUL/MLA/MLS and the 32x32->64 multiplies
    "dsp_mac",      # SMLAD/SMUAD/SMLSD/SMLALD/SMLA<xy>/SMLAW/SMMLA/... (DSP multiply-accumulate)
    "dsp_simd",     # SXTB16/SXTAB16/SADD16/QADD*/SHADD*/SSAT/USAT/PKHBT/SEL/USAD8/...
    "div",          # SDIV/UDIV (2-12 cycles by operand: priced per execution)
    "load",         # LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX, literal loads
    "store",        # STR/STRB/STRH/STREX
    "load_dual",    # LDRD
    "store_dual",   # STRD
    "load_multiple",   # LDM/POP (1+N)
    "store_multiple",  # STM/PUSH (1+N)
    "branch",       # B/BL/BX/BLX/CBZ/CBNZ/B<cc> (the refill P is added when taken)
    "table_branch",  # TBB/TBH
    "it",           # IT (folded onto a preceding 16-bit instruction: 0 cycles)
    "fpu",          # VADD/VSUB/VMUL/VABS/VNEG/VCMP/VCVT/VMOV/VMRS/VMSR
    "fpu_mac",      # VMLA/VMLS/VNMLA/VNMLS/VFMA/VFMS/VFNMA/VFNMS
    "fpu_div",      # VDIV/VSQRT
    "fpu_mem",      # VLDR/VSTR
    "fpu_multiple",  # VLDM/VSTM/VPUSH/VPOP (1+N)
    "system",       # NOP, BKPT, SVC, barriers, MRS/MSR, CPS, WFI/WFE
)

_MUL = {"mul", "muls", "mla", "mls", "smull", "umull", "smlal", "umlal"}
_DSP_MAC_PREFIXES = (
    "smlad", "smuad", "smlsd", "smusd", "smlald", "smlsld", "smlabb", "smlabt", "smlatb",
    "smlatt", "smlawb", "smlawt", "smulbb", "smulbt", "smultb", "smultt", "smulwb", "smulwt",
    "smmla", "smmls", "smmul", "smlalbb", "smlalbt", "smlaltb", "smlaltt", "umaal",
)
_DSP_SIMD = {
    "sxtb16", "sxtab16", "uxtb16", "uxtab16", "sadd16", "sadd8", "ssub16", "ssub8", "uadd16",
    "uadd8", "usub16", "usub8", "sasx", "ssax", "uasx", "usax", "qadd", "qsub", "qdadd",
    "qdsub", "qadd16", "qadd8", "qsub16", "qsub8", "qasx", "qsax", "uqadd16", "uqadd8",
    "uqsub16", "uqsub8", "shadd16", "shadd8", "shsub16", "shsub8", "uhadd16", "uhadd8",
    "uhsub16", "uhsub8", "ssat", "usat", "ssat16", "usat16", "pkhbt", "pkhtb", "sel", "usad8",
    "usada8", "sxtah", "sxtab", "uxtah", "uxtab",
}
_SYSTEM = {"nop", "bkpt", "svc", "dmb", "dsb", "isb", "mrs", "msr", "cpsid", "cpsie", "wfi",
           "wfe", "sev", "yield", "udf"}
_LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh", "ldrt",
          "ldrbt", "ldrht", "ldrsbt", "ldrsht", "lda", "ldab", "ldah", "ldaex"}
_STORES = {"str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt", "strht",
           "stl", "stlb", "stlh", "stlex"}


@dataclass(frozen=True, slots=True)
class Insn:
    address: int
    size: int
    mnemonic: str
    op_str: str
    cls: str
    reads: frozenset[int]
    writes: frozenset[int]
    addr_regs: frozenset[int]
    """Registers the address of a load/store is computed from (base and index)."""
    reg_count: int
    """Registers transferred by LDM/STM/PUSH/POP/VLDM/VSTM (0 otherwise)."""
    reg_offset: bool
    """A single load/store addressed by base + register."""
    mem: tuple[int, int, int, int] | None
    """(base, index, displacement, index left shift) of the memory operand, registers as
    capstone ids (0 = none)."""
    writes_pc: bool
    is_call: bool
    conditional: bool
    """Executes under a condition (B<cc>, or inside an IT block)."""

    @property
    def always_branches(self) -> bool:
        """An unconditional change of flow: B, BL, BX, BLX, POP {pc}, LDR pc, MOV pc..."""
        return (self.cls in ("branch", "table_branch") or self.writes_pc) and not self.conditional and not self.mnemonic.startswith(("cbz", "cbnz"))

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.op_str}".strip()


def base_mnemonic(mnemonic: str) -> str:
    """``ldr.w`` -> ``ldr``; ``vadd.f32`` -> ``vadd``; ``addeq`` stays (conditions kept)."""
    return mnemonic.split(".")[0]


_CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
          "gt", "le", "al")


def _strip_cond(m: str, known: set[str] | tuple[str, ...]) -> str:
    if m in known:
        return m
    for c in _CONDS:
        if m.endswith(c) and m[: -len(c)] in known:
            return m[: -len(c)]
    return m


def classify(m: str) -> str:
    """Class of a base mnemonic (conditions and ``.w``/type suffixes may be present)."""
    m = base_mnemonic(m)
    if m.startswith("v"):
        v = m
        for c in _CONDS:  # vmoveq, vaddne inside IT blocks
            if v.endswith(c) and len(v) > 4:
                v = v[: -len(c)]
                break
        if v in ("vdiv", "vsqrt"):
            return "fpu_div"
        if v in ("vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"):
            return "fpu_mac"
        if v in ("vldr", "vstr"):
            return "fpu_mem"
        if v.startswith(("vldm", "vstm", "vpush", "vpop")):
            return "fpu_multiple"
        return "fpu"
    if m.startswith("it"):
        return "it"
    if m in ("tbb", "tbh"):
        return "table_branch"
    if m in ("cbz", "cbnz"):
        return "branch"
    plain = m[:-1] if m.endswith("s") and m[:-1] in _MUL | {"smull", "umull"} else m
    if _strip_cond(plain, _MUL) in _MUL:
        return "mul"
    if m.startswith(_DSP_MAC_PREFIXES):
        return "dsp_mac"
    if _strip_cond(m, _DSP_SIMD) in _DSP_SIMD:
        return "dsp_simd"
    if _strip_cond(m, ("sdiv", "udiv")) in ("sdiv", "udiv"):
        return "div"
    if m.startswith(("ldm", "pop")):
        return "load_multiple"
    if m.startswith(("stm", "push")):
        return "store_multiple"
    s = _strip_cond(m, _LOADS | {"ldrd"})
    if s == "ldrd":
        return "load_dual"
    if s in _LOADS:
        return "load"
    s = _strip_cond(m, _STORES | {"strd"})
    if s == "strd":
        return "store_dual"
    if s in _STORES:
        return "store"
    if _strip_cond(m, _SYSTEM) in _SYSTEM:
        return "system"
    if m in ("b", "bl", "bx", "blx") or (m.startswith("b") and _strip_cond(m, ("b",)) == "b"):
        return "branch"
    if _strip_cond(m, ("bx", "blx")) in ("bx", "blx"):
        return "branch"
    return "alu"


class Decoder:
    """Decodes Thumb code (Cortex-M) into :class:`Insn`, caching by address."""

    def __init__(self) -> None:
        self._cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
        self._cs.detail = True
        self._cache: dict[int, Insn] = {}

    def decode(self, code: bytes, address: int) -> list[Insn]:
        """Decode ``code`` at ``address``; stops at the first byte pattern capstone rejects."""
        out: list[Insn] = []
        offset = 0
        while offset < len(code):
            a = address + offset
            insn = self._cache.get(a)
            if insn is None:
                decoded = next(self._cs.disasm(code[offset : offset + 4], a, 1), None)
                if decoded is None:
                    break
                insn = self._convert(decoded)
                self._cache[a] = insn
            out.append(insn)
            offset += insn.size
        return out

    def decode_all(self, code: bytes, address: int) -> list[Insn]:
        """Decode a whole section, skipping 2 bytes past anything that is not an instruction
        (literal pools), so every real instruction in it is found."""
        out: list[Insn] = []
        offset = 0
        while offset < len(code):
            got = self.decode(code[offset:], address + offset)
            out.extend(got)
            offset += sum(i.size for i in got) if got else 2
        return out

    @staticmethod
    def _convert(i: capstone.CsInsn) -> Insn:
        cls = classify(i.mnemonic)
        try:
            read, written = i.regs_access()
        except capstone.CsError:
            read, written = [], []
        addr_regs: set[int] = set()
        reg_offset = False
        reg_count = 0
        mem: tuple[int, int, int, int] | None = None
        for op in i.operands:
            if op.type == arm.ARM_OP_MEM:
                if op.mem.base:
                    addr_regs.add(op.mem.base)
                if op.mem.index:
                    addr_regs.add(op.mem.index)
                    reg_offset = True
                shift = op.shift.value if op.shift.type == arm.ARM_SFT_LSL else 0
                mem = (op.mem.base, op.mem.index, op.mem.disp, shift)
        if mem is None and cls in ("load_multiple", "store_multiple", "fpu_multiple"):
            first = next((op for op in i.operands if op.type == arm.ARM_OP_REG), None)
            is_sp = base_mnemonic(i.mnemonic).startswith(("push", "pop", "vpush", "vpop"))
            base = arm.ARM_REG_SP if is_sp else (first.reg if first is not None else 0)
            mem = (base, 0, 0, 0)
        if cls in ("load_multiple", "store_multiple", "fpu_multiple"):
            regs = [op for op in i.operands if op.type == arm.ARM_OP_REG]
            is_push_pop = base_mnemonic(i.mnemonic).startswith(("push", "pop", "vpush", "vpop"))
            reg_count = len(regs) if is_push_pop else max(len(regs) - 1, 1)
            if cls == "fpu_multiple" and any(i.reg_name(op.reg).startswith("d") for op in regs):
                reg_count *= 2  # .64 transfers: 1+2N
        writes = frozenset(written)
        m = base_mnemonic(i.mnemonic)
        return Insn(
            address=i.address,
            size=i.size,
            mnemonic=i.mnemonic,
            op_str=i.op_str,
            cls=cls,
            reads=frozenset(read),
            writes=writes,
            addr_regs=frozenset(addr_regs),
            reg_count=reg_count,
            reg_offset=reg_offset,
            mem=mem,
            writes_pc=arm.ARM_REG_PC in writes,
            is_call=_strip_cond(m, ("bl", "blx")) in ("bl", "blx"),
            conditional=i.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID),
        )
