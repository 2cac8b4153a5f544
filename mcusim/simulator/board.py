"""Board profiles: chips and boards as data.

Each board is one TOML file in ``mcusim/simulator/boards/`` (see ``docs/boards.md`` for the schema and
the datasheet behind every figure), or a user's own file given by path. A board has one core,
a memory map of named regions (flash, RAM, TCM, each with its access timing), a default
placement of stack, arena, static data and weights, and one or more operating points (clock,
flash wait states, run current, supply voltage). A board is chosen on the command line as
``NAME`` (its first operating point), ``NAME@OP`` (``stm32l476rg@8mhz``), or ``PATH.toml``
(``PATH.toml@OP``). Every file, built-in or not, passes :func:`validate`: a broken one is
refused with one line per problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import BoardError

BOARDS_DIR = Path(__file__).parent / "boards"

CORES = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
"""Core keys: each selects compiler flags (mcusim/build/toolchain.py) and a cost table (mcusim/simulator/cores/)."""
DSP_BY_DEFAULT = {"cortex-m0plus": False, "cortex-m3": False, "cortex-m4": True, "cortex-m7": True,
                  "cortex-m33": False}
"""Whether the core has the DSP extension when the board file does not say (``dsp``): always on
ARMv7E-M (M4, M7), never on ARMv6-M/ARMv7-M (M0+, M3), an implementation option on the M33."""
FPU_KINDS = ("none", "sp", "dp")
REGION_KINDS = ("flash", "ram", "tcm")
PLACEABLE = ("stack", "arena", "data", "weights")
"""What the generated firmware places: the main stack, the tensor arena, static data
(.data/.bss/.noinit: I/O buffers, runtime state) and the model's weights."""

_TOP_KEYS = {"name", "title", "core", "fpu", "dsp", "memory", "operating_points", "sleep", "placement",
             "flash_interface"}
_MEMORY_KEYS = {"regions", "icache_lines", "icache_line_bytes", "icache_ways", "source",
                "flash_origin", "flash_size", "ram_origin", "ram_size"}
_REGION_KEYS = {"name", "kind", "origin", "size", "wait_states", "aliases", "source"}
_OP_KEYS = {"name", "clock_hz", "flash_wait_states", "run_current_ua", "supply_v", "source"}
_SLEEP_KEYS = {"mode", "current_ua", "source"}


@dataclass(frozen=True)
class OperatingPoint:
    name: str
    clock_hz: int
    flash_wait_states: int
    run_current_ua: float
    """Whole-chip run current at this clock, code running from flash (µA)."""
    supply_v: float
    source: str


@dataclass(frozen=True)
class Region:
    """One block of memory of the chip, as the reference manual's memory map gives it."""

    name: str
    """Lower-case key used by ``--place`` and in reports (``flash``, ``sram1``, ``dtcm``...)."""
    kind: str
    """``flash``, ``ram`` or ``tcm`` (a tightly coupled memory of the core)."""
    origin: int
    size: int
    wait_states: int
    """Extra CPU cycles per data access (RAM/TCM; 0 = single-cycle at the core clock). Flash
    regions take their wait states from the operating point instead."""
    aliases: tuple[int, ...]
    """Other addresses at which the same memory appears (L476 SRAM2 at 0x10000000 and 0x20018000)."""
    source: str

    @property
    def end(self) -> int:
        return self.origin + self.size

    @property
    def is_ram(self) -> bool:
        return self.kind != "flash"

    def contains(self, addr: int, size: int = 1) -> bool:
        return self.origin <= addr and addr + size <= self.end


@dataclass(frozen=True)
class FlashInterface:
    """What sits between the core's data loads and the flash array (``[flash_interface]``).

    A data load from flash (literal pool, const table, weights) touches one or more flash
    read units (``read_bytes``, the flash word the interface reads at once). A unit the data
    cache holds costs nothing extra; any other costs the operating point's wait states.
    Without a data cache (``dcache_lines = 0``) every unit a load touches pays them.
    """

    read_bytes: int = 4
    """Width of one flash read (the flash word), bytes; a power of two."""
    dcache_lines: int = 0
    """Data-cache lines serving flash loads (0 = none)."""
    dcache_ways: int = 0
    """Associativity: lines per set, least recently used replaced (0 = fully associative)."""
    dcache_line_bytes: int = 0
    """Bytes per data-cache line; a miss fills only the flash read unit it needs."""
    prefetch: bool = True
    """Instruction prefetch on (PRFTEN): sequential flash reads overlap execution; off, each
    instruction read the cache misses stalls the core for the wait states."""
    source: str = "no [flash_interface] section: every data load from flash pays the wait states"


@dataclass(frozen=True)
class Board:
    name: str
    title: str
    core: str
    """Key of the core: selects compiler flags and the cost table (``mcusim/simulator/cores/<core>.py``)."""
    fpu_kind: str
    """``none``, ``sp`` (single precision: FPv4-SP, FPv5-SP) or ``dp`` (FPv5-D16)."""
    dsp: bool
    """The core implements the DSP extension (SMLAD, SXTB16, QADD...)."""
    regions: tuple[Region, ...]
    placement: dict[str, tuple[str, ...]]
    """Region(s) of each of :data:`PLACEABLE` in order of preference: the image is linked with
    the first that fits (``flash`` names the code flash)."""
    icache_lines: int
    """Lines of the flash accelerator / instruction cache seen by taken branches (0 = none)."""
    icache_line_bytes: int
    sleep_current_ua: float | None
    """Current in the retention sleep mode, or None when the profile has no [sleep] section."""
    sleep_mode: str | None
    memory_source: str
    sleep_source: str | None
    operating_points: tuple[OperatingPoint, ...]
    op: OperatingPoint
    """The selected operating point."""
    path: Path | None = field(default=None, compare=False)
    """The file this profile came from."""
    flash_interface: FlashInterface = FlashInterface()
    icache_ways: int = 1
    """I-cache lines per set, least recently used replaced (1: direct-mapped; icache_lines:
    fully associative)."""

    @property
    def fpu(self) -> bool:
        return self.fpu_kind != "none"

    @property
    def qualified_name(self) -> str:
        return f"{self.name}@{self.op.name}"

    @property
    def flash_regions(self) -> tuple[Region, ...]:
        """The code flash: the run of contiguous flash regions from the boot address (banks)."""
        flash = sorted((r for r in self.regions if r.kind == "flash"), key=lambda r: r.origin)
        run = [flash[0]]
        for r in flash[1:]:
            if r.origin == run[-1].end:
                run.append(r)
        return tuple(run)

    @property
    def flash_origin(self) -> int:
        return self.flash_regions[0].origin

    @property
    def flash_size(self) -> int:
        return self.flash_regions[-1].end - self.flash_origin

    @property
    def ram_regions(self) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.is_ram)

    @property
    def ram_size(self) -> int:
        """All RAM of the part (every RAM and TCM region once, aliases not counted again)."""
        return sum(r.size for r in self.ram_regions)

    def region(self, name: str) -> Region:
        """The region called ``name`` (``flash`` is the code flash); BoardError if there is none."""
        key = name.lower()
        if key == "flash":
            fl = self.flash_regions
            return Region("flash", "flash", fl[0].origin, fl[-1].end - fl[0].origin, 0, (), fl[0].source)
        for r in self.regions:
            if r.name == key:
                return r
        raise BoardError(f"{self.name} has no memory region {name!r} (has: {', '.join(self.region_names())})")

    def region_names(self) -> list[str]:
        return ["flash"] + [r.name for r in self.ram_regions]

    def region_at(self, addr: int) -> Region | None:
        """The region holding ``addr`` (through an alias too), or None."""
        for r in self.regions:
            if r.contains(addr):
                return r
            for a in r.aliases:
                if a <= addr < a + r.size:
                    return r
        return None

    def energy_uj(self, cycles: int) -> float:
        """Energy of ``cycles`` at the selected operating point: t × I_run × V, in µJ."""
        seconds = cycles / self.op.clock_hz
        return seconds * self.op.run_current_ua * self.op.supply_v

    def latency_ms(self, cycles: int) -> float:
        return cycles / self.op.clock_hz * 1e3


# --- validation ---------------------------------------------------------------------------------
class _Check:
    """Collects one line per problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, msg: str) -> None:
        self.errors.append(msg)

    def get(self, table: dict, key: str, kind: type | tuple[type, ...], where: str, required: bool = True,
            positive: bool = False, nonneg: bool = False) -> Any:
        at = key if where == "top level" else f"{where}.{key}"
        if key not in table:
            if required:
                self.err(f"missing key '{key}'" if where == "top level" else f"{where}: missing key '{key}'")
            return None
        v = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML booleans are not numbers here, and integers are accepted where floats are.
        ok = isinstance(v, kinds) and not (isinstance(v, bool) and bool not in kinds)
        if not ok and float in kinds and isinstance(v, int) and not isinstance(v, bool):
            ok = True
        if not ok:
            names = " or ".join({int: "an integer", float: "a number", str: "a string", bool: "true/false",
                                 list: "an array", dict: "a table"}[k] for k in kinds)
            self.err(f"{at}: must be {names}, got {type(v).__name__} {v!r}")
            return None
        if positive and not v > 0:
            self.err(f"{at}: must be greater than zero, got {v!r}")
            return None
        if nonneg and v < 0:
            self.err(f"{at}: must not be negative, got {v!r}")
            return None
        if isinstance(v, str) and not v.strip():
            self.err(f"{at}: must not be empty")
            return None
        return v

    def unknown(self, table: dict, allowed: set[str], where: str) -> None:
        for k in table:
            if k not in allowed:
                self.err(f"{'' if where == 'top level' else where + ': '}unknown key '{k}' "
                         f"(known: {', '.join(sorted(allowed))})")


def _pow2(name: str, key: str, value: object, allow_zero: bool = True) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (value & (value - 1)) or (value == 0 and not allow_zero):
        raise BoardError(f"board {name}: [flash_interface].{key} must be a power of two, not {value!r}")
    return value


def _flash_interface(name: str, d: dict | None) -> FlashInterface:
    if d is None:
        return FlashInterface()
    fi = FlashInterface(
        read_bytes=_pow2(name, "read_bytes", d.get("read_bytes", 4), allow_zero=False),
        dcache_lines=_pow2(name, "dcache_lines", d.get("dcache_lines", 0)),
        dcache_ways=_pow2(name, "dcache_ways", d.get("dcache_ways", 0)),
        dcache_line_bytes=_pow2(name, "dcache_line_bytes", d.get("dcache_line_bytes", 0)),
        prefetch=d.get("prefetch", True),
        source=str(d.get("source", "")),
    )
    if not isinstance(fi.prefetch, bool):
        raise BoardError(f"board {name}: [flash_interface].prefetch must be true or false, not {fi.prefetch!r}")
    if fi.dcache_lines:
        if fi.dcache_line_bytes < fi.read_bytes or fi.dcache_line_bytes // fi.read_bytes > 32:
            raise BoardError(f"board {name}: [flash_interface].dcache_line_bytes must hold 1 to 32 flash reads "
                             f"of {fi.read_bytes} bytes, not {fi.dcache_line_bytes}")
        if fi.dcache_ways > fi.dcache_lines:
            raise BoardError(f"board {name}: [flash_interface].dcache_ways ({fi.dcache_ways}) exceeds dcache_lines ({fi.dcache_lines})")
    if not fi.source:
        raise BoardError(f"board {name}: [flash_interface] needs a source (where its figures come from)")
    return fi


def _regions(c: _Check, mem: dict) -> list[Region]:
    raw = mem.get("regions")
    if raw is None:
        # The single-RAM schema of earlier mcusim versions: one flash and one RAM region.
        legacy = [k for k in ("flash_origin", "flash_size", "ram_origin", "ram_size") if k in mem]
        if not legacy:
            c.err("[memory]: missing [[memory.regions]] (each: name, kind, origin, size, source)")
            return []
        out = []
        for kind, name in (("flash", "flash"), ("ram", "sram")):
            origin = c.get(mem, f"{kind}_origin", int, "[memory]", nonneg=True)
            size = c.get(mem, f"{kind}_size", int, "[memory]", positive=True)
            if origin is not None and size is not None:
                out.append(Region(name, "flash" if kind == "flash" else "ram", origin, size, 0, (),
                                  str(mem.get("source", ""))))
        return out
    if not isinstance(raw, list) or not raw:
        c.err("[memory].regions: must be a non-empty array of tables ([[memory.regions]])")
        return []
    out: list[Region] = []
    seen: set[str] = set()
    before = len(c.errors)
    for i, r in enumerate(raw):
        where = f"[[memory.regions]] #{i + 1}"
        if not isinstance(r, dict):
            c.err(f"{where}: must be a table")
            continue
        name = c.get(r, "name", str, where)
        if name:
            where = f"region {name!r}"
        c.unknown(r, _REGION_KEYS, where)
        kind = c.get(r, "kind", str, where)
        if kind is not None and kind not in REGION_KINDS:
            c.err(f"{where}.kind: must be one of {', '.join(REGION_KINDS)}, got {kind!r}")
            kind = None
        origin = c.get(r, "origin", int, where, nonneg=True)
        size = c.get(r, "size", int, where, positive=True)
        ws = c.get(r, "wait_states", int, where, required=False, nonneg=True)
        if ws is not None and kind == "flash":
            c.err(f"{where}.wait_states: flash wait states belong to the operating points (flash_wait_states)")
        aliases = c.get(r, "aliases", list, where, required=False) or []
        if any(not isinstance(a, int) or isinstance(a, bool) or a < 0 for a in aliases):
            c.err(f"{where}.aliases: must be an array of addresses")
            aliases = []
        source = c.get(r, "source", str, where)
        for addr in [origin, *aliases]:
            if addr is not None and addr % 4096:
                c.err(f"{where}: address 0x{addr:08x} is not 4 KB aligned")
        if name is not None:
            if name != name.lower() or not name.replace("_", "").isalnum():
                c.err(f"{where}.name: use lower-case letters, digits and '_'")
            elif name == "flash" and kind != "flash":
                c.err(f"{where}.name: 'flash' is reserved for the code flash")
            elif name in seen:
                c.err(f"{where}: two regions are called {name!r}")
            seen.add(name)
        if None not in (name, kind, origin, size, source):
            out.append(Region(name, kind, origin, size, ws or 0, tuple(aliases), source))
    spans = sorted((a, a + r.size, f"{r.name}" + ("" if a == r.origin else f" (alias 0x{a:08x})"))
                   for r in out for a in (r.origin, *r.aliases))
    for (a0, e0, n0), (a1, _, n1) in zip(spans, spans[1:]):
        if a1 < e0:
            c.err(f"[memory]: regions {n0} and {n1} overlap at 0x{a1:08x}")
    if len(c.errors) > before:
        return out  # "no flash/RAM region" would only restate a broken region
    if out and not any(r.kind == "flash" for r in out):
        c.err("[memory]: no region of kind 'flash' (the vector table lives there)")
    if out and not any(r.is_ram for r in out):
        c.err("[memory]: no RAM region (kind 'ram' or 'tcm')")
    return out


def _placement(c: _Check, d: dict, regions: list[Region]) -> dict[str, tuple[str, ...]]:
    ram = [r for r in regions if r.is_ram]
    main = next((r for r in ram if r.kind == "ram"), ram[0] if ram else None)
    name = main.name if main else ""
    default = {"stack": (name,), "arena": (name,), "data": (name,), "weights": ("flash",)}
    raw = d.get("placement", {})
    if not isinstance(raw, dict):
        c.err("[placement]: must be a table")
        return default
    c.unknown(raw, set(PLACEABLE), "[placement]")
    names = {r.name: r for r in regions}
    for what, where in raw.items():
        if what not in PLACEABLE:
            continue
        choices = [where] if isinstance(where, str) else where
        if not isinstance(choices, list) or not choices or not all(isinstance(x, str) for x in choices):
            c.err(f"[placement].{what}: must be a region name or an array of them (first that fits wins)")
            continue
        problems = [p for p in (placement_problem(what, x, names) for x in choices) if p]
        for p in problems:
            c.err(f"[placement].{what}: {p}")
        if not problems:
            default[what] = tuple(choices)
    return default


def parse_place(text: str, board: "Board") -> Board:
    """``board`` with the ``--place`` overrides applied (``arena=dtcm,stack=sram1``); BoardError
    naming the first bad entry."""
    placement = dict(board.placement)
    names = {r.name: r for r in board.regions}
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        what, eq, where = (t.strip().lower() for t in item.partition("="))
        if not eq or not where:
            raise BoardError(f"--place {item!r}: write WHAT=REGION, e.g. arena=dtcm")
        if what not in PLACEABLE:
            raise BoardError(f"--place {item!r}: {what!r} is not placeable (one of {', '.join(PLACEABLE)})")
        problem = placement_problem(what, where, names)
        if problem:
            raise BoardError(f"--place {item!r} on {board.name}: {problem}")
        placement[what] = (where,)
    return replace(board, placement=placement)


def placement_problem(what: str, where: str, regions: dict[str, Region]) -> str | None:
    """Why ``what`` cannot go into the region called ``where`` (None when it can)."""
    if where == "flash":
        return None if what == "weights" else f"the {what} must be in RAM, not flash"
    r = regions.get(where)
    if r is None:
        known = ", ".join(["flash", *(n for n, x in regions.items() if x.is_ram)])
        return f"no region {where!r} (regions: {known})"
    if not r.is_ram:
        return f"{where} is flash; only 'flash' (the code flash) may hold weights"
    return None


def validate(d: Any, source: str = "board") -> tuple[list[str], dict[str, Any]]:
    """Check a parsed board file. Returns (errors, fields): every problem found, one line each,
    and the pieces built from the valid parts."""
    c = _Check()
    if not isinstance(d, dict):
        return [f"{source}: not a table"], {}
    c.unknown(d, _TOP_KEYS, "top level")
    name = c.get(d, "name", str, "top level")
    if name is not None and "@" in name:
        c.err(f"name: must not contain '@', got {name!r}")
    c.get(d, "title", str, "top level")
    core = c.get(d, "core", str, "top level")
    if core is not None and core not in CORES:
        c.err(f"core: unknown core {core!r} (known: {', '.join(CORES)})")
        core = None
    fpu = c.get(d, "fpu", (bool, str), "top level")
    fpu_kind = "none"
    if isinstance(fpu, bool):
        # true is the single-precision FPU of the M4/M33; a double-precision FPU says "dp".
        fpu_kind = "sp" if fpu else "none"
    elif isinstance(fpu, str):
        if fpu not in FPU_KINDS:
            c.err(f"fpu: must be true/false or one of {', '.join(FPU_KINDS)}, got {fpu!r}")
        else:
            fpu_kind = fpu
    if core in ("cortex-m0plus", "cortex-m3") and fpu_kind != "none":
        c.err(f"fpu: a {core} has no FPU")
    if core == "cortex-m4" and fpu_kind == "dp":
        c.err("fpu: the Cortex-M4's FPv4-SP is single precision ('sp')")
    dsp = c.get(d, "dsp", bool, "top level", required=False)
    if dsp is None and core is not None:
        dsp = DSP_BY_DEFAULT[core]
    if dsp and core in ("cortex-m0plus", "cortex-m3"):
        c.err(f"dsp: a {core} has no DSP extension")

    mem = c.get(d, "memory", dict, "top level")
    regions: list[Region] = []
    icache_lines, icache_line_bytes, icache_ways, mem_source = 0, 16, 1, ""
    if mem is not None:
        c.unknown(mem, _MEMORY_KEYS, "[memory]")
        regions = _regions(c, mem)
        icache_lines = c.get(mem, "icache_lines", int, "[memory]", required=False, nonneg=True) or 0
        lb = c.get(mem, "icache_line_bytes", int, "[memory]", required=False, positive=True)
        if lb is not None:
            if lb & (lb - 1):
                c.err(f"[memory].icache_line_bytes: must be a power of two, got {lb}")
            else:
                icache_line_bytes = lb
        ways = c.get(mem, "icache_ways", int, "[memory]", required=False, positive=True)
        if ways is not None:
            if ways & (ways - 1) or (icache_lines and ways > icache_lines):
                c.err(f"[memory].icache_ways: must be a power of two no larger than icache_lines, got {ways}")
            else:
                icache_ways = ways
        mem_source = c.get(mem, "source", str, "[memory]", required=False) or "; ".join(r.source for r in regions)

    ops: list[OperatingPoint] = []
    raw_ops = c.get(d, "operating_points", list, "top level")
    if raw_ops is not None and not raw_ops:
        c.err("operating_points: needs at least one [[operating_points]]")
    op_names: set[str] = set()
    for i, o in enumerate(raw_ops or []):
        where = f"[[operating_points]] #{i + 1}"
        if not isinstance(o, dict):
            c.err(f"{where}: must be a table")
            continue
        oname = c.get(o, "name", str, where)
        if oname:
            where = f"operating point {oname!r}"
            if "@" in oname:
                c.err(f"{where}.name: must not contain '@'")
            if oname in op_names:
                c.err(f"{where}: two operating points have this name")
            op_names.add(oname)
        c.unknown(o, _OP_KEYS, where)
        vals = (oname, c.get(o, "clock_hz", int, where, positive=True),
                c.get(o, "flash_wait_states", int, where, nonneg=True),
                c.get(o, "run_current_ua", float, where, positive=True),
                c.get(o, "supply_v", float, where, positive=True), c.get(o, "source", str, where))
        if None not in vals:
            ops.append(OperatingPoint(vals[0], int(vals[1]), int(vals[2]), float(vals[3]), float(vals[4]), vals[5]))

    sleep = c.get(d, "sleep", dict, "top level", required=False)
    sleep_fields: tuple[Any, Any, Any] = (None, None, None)
    if sleep is not None:
        c.unknown(sleep, _SLEEP_KEYS, "[sleep]")
        sleep_fields = (c.get(sleep, "mode", str, "[sleep]"), c.get(sleep, "current_ua", float, "[sleep]", nonneg=True),
                        c.get(sleep, "source", str, "[sleep]"))
    placement = _placement(c, d, regions)
    flash_interface = FlashInterface()
    raw_fi = c.get(d, "flash_interface", dict, "top level", required=False)
    if raw_fi is not None:
        try:
            flash_interface = _flash_interface(name or source, raw_fi)
        except BoardError as e:
            c.err(str(e))
    return c.errors, {"flash_interface": flash_interface, "name": name, "title": d.get("title"), "core": core, "fpu_kind": fpu_kind, "dsp": bool(dsp),
                      "regions": tuple(regions), "placement": placement, "icache_lines": icache_lines,
                      "icache_line_bytes": icache_line_bytes, "icache_ways": icache_ways, "memory_source": mem_source,
                      "sleep": sleep_fields, "operating_points": tuple(ops)}


def _from_dict(d: dict, op_name: str | None, source: str, path: Path | None = None) -> Board:
    errors, f = validate(d, source)
    if errors:
        n = len(errors)
        raise BoardError(f"{source}: {n} error{'s' if n > 1 else ''} in the board profile:\n"
                         + "\n".join(f"  {source}: {e}" for e in errors))
    ops = f["operating_points"]
    if op_name is None:
        op = ops[0]
    else:
        matches = [o for o in ops if o.name == op_name]
        if not matches:
            names = ", ".join(o.name for o in ops)
            raise BoardError(f"board {f['name']} has no operating point {op_name!r} (has: {names})")
        op = matches[0]
    mode, current, sleep_source = f["sleep"]
    return Board(
        name=f["name"], title=f["title"], core=f["core"], fpu_kind=f["fpu_kind"], dsp=f["dsp"],
        regions=f["regions"], placement=f["placement"], icache_lines=f["icache_lines"],
        icache_line_bytes=f["icache_line_bytes"], memory_source=f["memory_source"],
        sleep_current_ua=None if current is None else float(current), sleep_mode=mode, sleep_source=sleep_source,
        operating_points=ops, op=op, path=path,
        flash_interface=f["flash_interface"], icache_ways=f["icache_ways"],
    )


def load_board_file(path: Path, op_name: str | None = None) -> Board:
    """A board profile from any TOML file (validated like the built-in ones)."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise BoardError(f"{path}: no such board file") from None
    except OSError as e:
        raise BoardError(f"{path}: cannot read the board file: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise BoardError(f"{path}: not valid TOML: {e}") from None
    return _from_dict(data, op_name, str(path), path)


@cache
def board_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in BOARDS_DIR.glob("*.toml")))


def is_board_path(spec: str) -> bool:
    name = spec.partition("@")[0]
    return name.endswith(".toml") or "/" in name or "\\" in name


def get_board(spec: str) -> Board:
    """Board for ``NAME``, ``NAME@OP``, ``PATH.toml`` or ``PATH.toml@OP``; raises BoardError
    naming the known boards, or listing every problem of a broken file."""
    name, _, op = spec.partition("@")
    if is_board_path(spec):
        return load_board_file(Path(name), op or None)
    path = BOARDS_DIR / f"{name.lower()}.toml"
    if not path.is_file():
        raise BoardError(f"unknown board {name!r}; known boards: {', '.join(board_names())} "
                         "(or give a board file: --board path/to/board.toml)")
    return load_board_file(path, op or None)


def all_boards() -> list[Board]:
    return [get_board(n) for n in board_names()]
