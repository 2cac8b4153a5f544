"""Reading the GNU ld map file: which object (and so which part of the firmware) every input
section of the image came from. Drives the flash/RAM breakdown by component and tells which
code addresses belong to the kernel library (for the dispatch share).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from ..simulator.elf import Elf

_SECTION = re.compile(r"^ (\.\S+|COMMON)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_NAME_ONLY = re.compile(r"^ (\.\S+|COMMON)\s*$")
_ADDR_LINE = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_FILL = re.compile(r"^ \*fill\*\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)")
_OUTPUT = re.compile(r"^(\.\S+)(?:\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+))?")


@dataclass(frozen=True)
class InputSection:
    output: str
    name: str
    addr: int
    size: int
    origin: str
    """The object (or ``archive(member)``) the linker took the section from, or ``*fill*``."""


def parse_map(path: Path) -> list[InputSection]:
    """Every allocated input section of the memory map, in address order per output section."""
    text = Path(path).read_text(errors="replace")
    start = text.find("Linker script and memory map")
    lines = text[start:].splitlines() if start >= 0 else []
    out: list[InputSection] = []
    current = ""
    pending: str | None = None
    for line in lines:
        if line.startswith("OUTPUT("):
            break
        if pending is not None:
            m = _ADDR_LINE.match(line)
            if m:
                out.append(InputSection(current, pending, int(m.group(1), 16), int(m.group(2), 16), m.group(3).strip()))
            pending = None
            continue
        if line.startswith("."):
            current = _OUTPUT.match(line).group(1)  # type: ignore[union-attr]
            continue
        m = _SECTION.match(line)
        if m:
            out.append(InputSection(current, m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4).strip()))
            continue
        m = _FILL.match(line)
        if m:
            out.append(InputSection(current, "*fill*", int(m.group(1), 16), int(m.group(2), 16), "*fill*"))
            continue
        if _NAME_ONLY.match(line):
            pending = _NAME_ONLY.match(line).group(1)  # type: ignore[union-attr]
    return [s for s in out if s.size > 0]


def component_of_origin(origin: str, objects: dict[str, Path], components: dict[Path, str],
                        split_libraries: bool = False) -> str:
    """Component of an input section's origin: the builder's mapping for our own sources,
    ``libc`` for the C and compiler runtime libraries, ``other`` for linker stubs. With
    ``split_libraries`` the toolchain's libraries are told apart: ``libgcc`` (libgcc.a),
    ``libstdc++`` (libstdc++/libsupc++), ``libc`` (newlib's libc and libm)."""
    src = objects.get(origin)
    if src is not None:
        return components.get(src, "other")
    if ".a(" in origin or origin.endswith(".a"):
        if split_libraries:
            lib = Path(origin.split("(", 1)[0]).name
            if lib.startswith("libgcc"):
                return "libgcc"
            if lib.startswith(("libstdc++", "libsupc++")):
                return "libstdc++"
        return "libc"
    return "other"


class ComponentMap:
    """Flash and RAM bytes by component, and the component of any code address."""

    def __init__(self, elf: Elf, sections: list[InputSection], objects: dict[str, Path], components: dict[Path, str],
                 split_libraries: bool = False):
        flash_outputs = {s.name for s in elf.flash_sections()}
        ram_outputs = {s.name for s in elf.ram_sections()}
        self.flash: dict[str, int] = {}
        self.ram: dict[str, int] = {}
        self._starts: list[int] = []
        self._ranges: list[tuple[int, int, str]] = []
        self._sources: dict[int, Path] = {}
        previous = "other"
        for sec in sections:
            comp = previous if sec.origin == "*fill*" else component_of_origin(sec.origin, objects, components,
                                                                                       split_libraries)
            previous = comp
            if sec.output in flash_outputs:
                self.flash[comp] = self.flash.get(comp, 0) + sec.size
            if sec.output in ram_outputs:
                self.ram[comp] = self.ram.get(comp, 0) + sec.size
            if sec.output == ".text":
                self._ranges.append((sec.addr, sec.addr + sec.size, comp))
                if sec.origin in objects:
                    self._sources[sec.addr] = objects[sec.origin]
        # Alignment the linker script adds between input sections belongs to no object.
        for name, total in (("flash", elf.flash_bytes), ("ram", elf.static_ram_bytes)):
            table = getattr(self, name)
            gap = total - sum(table.values())
            if gap:
                table["padding"] = table.get("padding", 0) + gap
        self._ranges.sort()
        self._starts = [r[0] for r in self._ranges]

    def code_ranges(self, component: str) -> list[tuple[int, int]]:
        """[start, end) of every code input section of ``component``."""
        return [(a, b) for a, b, c in self._ranges if c == component]

    def component_at(self, addr: int) -> str:
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self._ranges[i][1]:
            return self._ranges[i][2]
        return "other"

    def source_at(self, addr: int) -> Path | None:
        """The C source whose object holds the code at ``addr`` (None: a library or stub)."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0 and addr < self._ranges[i][1]:
            return self._sources.get(self._ranges[i][0])
        return None
