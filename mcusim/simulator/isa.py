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


# --- what each core implements -------------------------------------------------------------------
@dataclass(frozen=True)
class CoreIsa:
    """The instruction set a core implements (ARMv6-M / ARMv7-M ARM, Armv8-M ARM; core TRMs)."""

    core: str
    title: str
    """``Cortex-M0+ (ARMv6-M)``: for messages."""
    arch: str
    dsp: bool
    fpu: str
    """``none``, ``sp`` or ``dp``."""
    fpv5: bool
    """FPv5 (M7, M33): VRINT, VSEL, VMAXNM/VMINNM, VCVTA/N/P/M; FPv4 (M4) lacks them."""

    @property
    def fault(self) -> str:
        """The exception an undefined instruction raises: ARMv6-M has only HardFault; ARMv7-M
        and ARMv8-M raise UsageFault (escalated to HardFault while it is disabled, as at reset)."""
        return "HardFault" if self.arch == "ARMv6-M" else "UsageFault"


_ARCH = {"cortex-m0plus": ("Cortex-M0+", "ARMv6-M"), "cortex-m3": ("Cortex-M3", "ARMv7-M"),
         "cortex-m4": ("Cortex-M4", "ARMv7E-M"), "cortex-m7": ("Cortex-M7", "ARMv7E-M"),
         "cortex-m33": ("Cortex-M33", "ARMv8-M Mainline")}
# 32-bit encodings ARMv6-M implements (ARMv6-M ARM A5.3): everything else 32-bit is UNDEFINED.
_V6M_WIDE = {"bl", "dmb", "dsb", "isb", "mrs", "msr", "udf"}
# Base ARMv7-M instructions the classifier files with the DSP classes (ARMv7-M ARM A7.7: SSAT
# and USAT are in every ARMv7-M core; the rest of dsp_mac/dsp_simd is the DSP extension).
_V7M_BASE_SAT = {"ssat", "usat"}
_FPV5_ONLY = ("vrint", "vsel", "vmaxnm", "vminnm", "vcvta", "vcvtn", "vcvtp", "vcvtm")
_V8M_ONLY = {"lda", "ldab", "ldah", "ldaex", "ldaexb", "ldaexh", "stl", "stlb", "stlh", "stlex", "stlexb",
             "stlexh", "sg", "tt", "ttt", "tta", "ttat", "bxns", "blxns"}


def core_isa(core: str, fpu: str, dsp: bool) -> CoreIsa:
    title, arch = _ARCH[core]
    return CoreIsa(core, f"{title} ({arch})", arch, dsp, fpu, core in ("cortex-m7", "cortex-m33"))


def undefined_reason(ins: Insn, isa: CoreIsa) -> str | None:
    """Why ``isa`` does not implement ``ins`` (None when it does)."""
    m = base_mnemonic(ins.mnemonic)
    plain = _strip_cond(m, _V6M_WIDE | _V8M_ONLY | {"cbz", "cbnz"})
    if isa.arch == "ARMv6-M":
        if ins.cls.startswith("fpu") or m.startswith("v"):
            return "floating-point instructions (no FPU)"
        if ins.cls in ("dsp_mac", "dsp_simd"):
            return "DSP instructions (no DSP extension; of Thumb-2, only BL, MRS, MSR and the barriers)"
        if ins.size == 4 and plain not in _V6M_WIDE:
            return "this 32-bit Thumb-2 instruction (ARMv6-M has only BL, MRS, MSR and the barriers)"
        if plain in ("cbz", "cbnz") or ins.cls == "it":
            return "CBZ/CBNZ and IT (ARMv7-M additions)"
        return None
    if ins.cls in ("dsp_mac", "dsp_simd") and not isa.dsp and _strip_cond(m, _V7M_BASE_SAT) not in _V7M_BASE_SAT:
        return "the DSP extension"
    if isa.arch != "ARMv8-M Mainline" and plain in _V8M_ONLY:
        return "this ARMv8-M instruction"
    if ins.cls.startswith("fpu") or m.startswith("v"):
        if isa.fpu == "none":
            return "floating-point instructions (no FPU)"
        if isa.fpu == "sp" and ".f64" in ins.mnemonic:
            return "double-precision floating point (its FPU is single precision)"
        if not isa.fpv5 and m.startswith(_FPV5_ONLY):
            return "FPv5 instructions (its FPU is FPv4)"
    return None


# Tag_CPU_arch values (ARM IHI 0045, Addenda to the ARM ABI: build attributes).
_ARCH_TAG = {1: "ARMv4", 2: "ARMv4T", 3: "ARMv5T", 4: "ARMv5TE", 5: "ARMv5TEJ", 6: "ARMv6", 7: "ARMv6KZ",
             8: "ARMv6T2", 9: "ARMv6K", 10: "ARMv7", 11: "ARMv6-M", 12: "ARMv6S-M", 13: "ARMv7E-M",
             14: "ARMv8-A", 15: "ARMv8-R", 16: "ARMv8-M Baseline", 17: "ARMv8-M Mainline",
             19: "ARMv8.1-A", 20: "ARMv8.2-A", 21: "ARMv8.1-M Mainline", 22: "ARMv9-A"}
_ACCEPTS = {"ARMv6-M": {11, 12}, "ARMv7-M": {10, 11, 12}, "ARMv7E-M": {10, 11, 12, 13},
            "ARMv8-M Mainline": {10, 11, 12, 13, 16, 17}}
# Tag_FP_arch: 1-2 VFPv1/v2, 3-4 VFPv3(-D16), 5-6 VFPv4(-D16) = FPv4, 7-8 FP-ARMv8(-D16) = FPv5.
_FP_FPV4, _FP_FPV5 = 6, 8


def build_mismatch(attrs: dict[str, int | str], isa: CoreIsa) -> str | None:
    """Why an ELF with these build attributes (:attr:`mcusim.elf.Elf.build_attributes`) cannot
    run on ``isa``: the architecture, DSP extension or FPU it was built for is newer or larger
    than the core's. None when it can run, or when the ELF carries no attributes."""
    arch = attrs.get("TAG_CPU_ARCH")
    if not isinstance(arch, int):
        return None
    profile = attrs.get("TAG_CPU_ARCH_PROFILE", 0)
    name = _ARCH_TAG.get(arch, f"Tag_CPU_arch {arch}")
    if arch == 10 and profile == ord("M"):
        name = "ARMv7-M"
    if profile in (ord("A"), ord("R")) or arch not in _ACCEPTS[isa.arch]:
        return f"built for {name} (Tag_CPU_arch), which the {isa.title} does not implement"
    if (arch == 13 or attrs.get("TAG_DSP_EXTENSION") == 1) and not isa.dsp:
        return f"built for {name} with the DSP extension, which the {isa.title} does not implement"
    fp = attrs.get("TAG_FP_ARCH", 0)
    if isinstance(fp, int) and fp:
        if isa.fpu == "none":
            return f"built for a hardware FPU (Tag_FP_arch {fp}), and the board's {isa.title} has none"
        if fp > (_FP_FPV5 if isa.fpv5 else _FP_FPV4):
            return f"built for a newer FPU (Tag_FP_arch {fp}) than the {isa.title}'s"
        if isa.fpu == "sp" and attrs.get("TAG_ABI_HARDFP_USE", 0) != 1:
            return (f"built for a double-precision FPU (Tag_FP_arch {fp} without Tag_ABI_HardFP_use = SP), "
                    f"and the board's {isa.title} FPU is single precision")
    return None
