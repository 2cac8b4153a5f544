"""What mcusim needs from an ELF image: loadable segments, sections, symbols, sizes.

Flash and RAM come from the section headers, by address. Given the board's flash range, a
section occupies flash when it has contents and its load address is in flash (code, read-only
data, a writable vector table kept in flash, ``.data``'s initial values), and static RAM when
it is allocated and its run address is outside flash (``.data``, ``.bss``, ``.noinit``...),
except empty sections that only reserve room for the heap or the stack (their use is measured).
Flash then equals ``arm-none-eabi-size``'s text + data. Without a flash range (images mcusim
builds itself), a section is taken to run from flash when it is read-only, which is the same
for those images. ``tests/test_elf_sizes.py`` checks the numbers against ``arm-none-eabi-size``.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from ..errors import McusimError


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    size: int
    load_addr: int
    writable: bool
    executable: bool
    nobits: bool


@dataclass(frozen=True)
class Symbol:
    name: str
    addr: int
    size: int
    kind: str  # "func" or "object"


@dataclass(frozen=True)
class Segment:
    paddr: int
    data: bytes


class Elf:
    """A parsed Cortex-M ELF image."""

    def __init__(self, path: Path | str, flash: tuple[int, int] | None = None) -> None:
        """``flash``: (first address, end) of the flash the image is for, which decides what
        is flash and what is RAM (see the module docstring)."""
        self.path = Path(path)
        self.flash = flash
        try:
            with self.path.open("rb") as f:
                elf = ELFFile(f)
                if elf["e_machine"] != "EM_ARM":
                    raise McusimError(f"{self.path}: not an ARM ELF ({elf['e_machine']})")
                self.entry = elf["e_entry"]
                self.build_attributes = self._attributes(elf)
                self.sections = self._sections(elf)
                self.segments = [
                    Segment(seg["p_paddr"], seg.data())
                    for seg in elf.iter_segments()
                    if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0
                ]
                self.symbols = self._symbols(elf)
        except OSError as e:
            raise McusimError(f"{self.path}: cannot read: {e.strerror}") from None
        except McusimError:
            raise
        except Exception as e:  # noqa: BLE001 - pyelftools raises many types on a malformed file
            raise McusimError(f"{self.path}: cannot read ELF image: {e if isinstance(e, ELFError) else type(e).__name__ + ': ' + str(e)}") from None
        funcs = sorted((s for s in self.symbols.values() if s.kind == "func"), key=lambda s: s.addr)
        self._func_starts = [s.addr for s in funcs]
        self._funcs = funcs

    @staticmethod
    def _attributes(elf: ELFFile) -> dict[str, int | str]:
        """The public ("aeabi") build attributes of .ARM.attributes, by pyelftools tag name
        (``TAG_CPU_ARCH``, ``TAG_FP_ARCH``, ``TAG_DSP_EXTENSION``...); empty when absent."""
        sec = elf.get_section_by_name(".ARM.attributes")
        out: dict[str, int | str] = {}
        if sec is None or not hasattr(sec, "iter_subsections"):
            return out
        try:
            for sub in sec.iter_subsections():
                if sub.header["vendor_name"] != "aeabi":
                    continue
                for subsub in sub.iter_subsubsections():
                    if subsub.header.tag != "TAG_FILE":
                        continue
                    for a in subsub.iter_attributes():
                        out[a.tag] = a.value
        except Exception:  # noqa: BLE001 - malformed attributes: nothing to check against
            return {}
        return out

    @staticmethod
    def _sections(elf: ELFFile) -> list[Section]:
        lma_of: dict[int, int] = {}
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD":
                lma_of[seg["p_vaddr"]] = seg["p_paddr"]
        out = []
        for s in elf.iter_sections():
            flags = s["sh_flags"]
            if not flags & SH_FLAGS.SHF_ALLOC or s["sh_size"] == 0:
                continue
            addr = s["sh_addr"]
            load = addr
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg.section_in_segment(s):
                    load = seg["p_paddr"] + (addr - seg["p_vaddr"])
                    break
            out.append(
                Section(
                    name=s.name,
                    addr=addr,
                    size=s["sh_size"],
                    load_addr=load,
                    writable=bool(flags & SH_FLAGS.SHF_WRITE),
                    executable=bool(flags & SH_FLAGS.SHF_EXECINSTR),
                    nobits=s["sh_type"] == "SHT_NOBITS",
                )
            )
        return out

    @staticmethod
    def _symbols(elf: ELFFile) -> dict[str, Symbol]:
        table = elf.get_section_by_name(".symtab")
        out: dict[str, Symbol] = {}
        if table is None:
            return out
        for sym in table.iter_symbols():
            kind = sym["st_info"]["type"]
            if not sym.name or kind not in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                continue
            addr = sym["st_value"]
            if kind == "STT_FUNC":
                addr &= ~1
            k = "func" if kind == "STT_FUNC" else "object"
            if kind == "STT_NOTYPE" and sym.name in out:
                continue
            out[sym.name] = Symbol(sym.name, addr, sym["st_size"], k)
        return out

    # -- sizes -------------------------------------------------------------------------
    def _in_flash(self, addr: int) -> bool:
        return self.flash is not None and self.flash[0] <= addr < self.flash[1]

    def flash_sections(self) -> list[Section]:
        """Sections stored in flash: code/read-only data, and the initial values of .data."""
        if self.flash is not None:
            return [s for s in self.sections if not s.nobits and self._in_flash(s.load_addr)]
        return [s for s in self.sections if not s.nobits and (not s.writable or s.load_addr != s.addr)]

    def ram_sections(self) -> list[Section]:
        """Sections that occupy RAM while the program runs (reservations left out)."""
        if self.flash is not None:
            return [s for s in self.sections if not self._in_flash(s.addr) and not _reservation(s)]
        return [s for s in self.sections
                if (s.writable or (not s.nobits and s.load_addr != s.addr)) and not _reservation(s)]

    def reserved_sections(self) -> list[Section]:
        """Empty sections that only reserve room for the heap or the stack (STM32Cube's
        ``._user_heap_stack``, ``.heap``, ``.stack``): the run measures what heap and stack
        really use, so they are not static RAM."""
        return [s for s in self.sections if _reservation(s) and not self._in_flash(s.addr)]

    @property
    def flash_bytes(self) -> int:
        """text + data, as ``arm-none-eabi-size`` counts them."""
        return sum(s.size for s in self.flash_sections())

    @property
    def static_ram_bytes(self) -> int:
        """data + bss (+ .noinit, .arena), as ``arm-none-eabi-size`` counts them, plus read-only
        data the start-up code copies into RAM (which ``size`` counts as text only), less heap/stack
        reservations."""
        return sum(s.size for s in self.ram_sections())

    # -- symbols -----------------------------------------------------------------------
    def function_at(self, addr: int) -> str:
        """Name of the function containing ``addr`` (``?`` outside every known function)."""
        i = bisect.bisect_right(self._func_starts, addr) - 1
        if i >= 0:
            f = self._funcs[i]
            # Hand-written assembly often has no .size: such a function runs to the next one.
            nxt = self._func_starts[i + 1] if i + 1 < len(self._funcs) else f.addr + 4096
            if addr < (f.addr + f.size if f.size else nxt):
                return f.name
        return f"0x{addr:08x}"

    def symbol(self, name: str) -> Symbol:
        try:
            return self.symbols[name]
        except KeyError:
            raise McusimError(f"{self.path.name}: no symbol {name!r}") from None

    def function_ranges(self) -> list[Symbol]:
        return list(self._funcs)

    def find_function(self, name: str) -> Symbol | None:
        """A function by its symbol name, or by its C++ name (``tflite::MicroInterpreter::Invoke``,
        with or without the parameter list), demangled with ``arm-none-eabi-c++filt``."""
        sym = self.symbols.get(name)
        if sym is not None and sym.kind == "func":
            return sym
        if "::" not in name and "(" not in name:
            return None
        mangled = [f.name for f in self._funcs if f.name.startswith("_Z")]
        tool = shutil.which("arm-none-eabi-c++filt") or shutil.which("c++filt")
        if tool is None:
            raise McusimError(f"cannot match C++ name {name!r}: arm-none-eabi-c++filt not found; give the symbol name")
        out = subprocess.run([tool], input="\n".join(mangled), capture_output=True, text=True).stdout.splitlines()
        hits = {m for m, d in zip(mangled, out) if name in (d, d.split("(")[0])}
        if len(hits) > 1:
            raise McusimError(f"C++ name {name!r} matches {len(hits)} functions; give the parameter list or the symbol name")
        return self.symbols[hits.pop()] if hits else None


def _reservation(s: Section) -> bool:
    name = s.name.lower()
    return s.nobits and ("heap" in name or "stack" in name)
