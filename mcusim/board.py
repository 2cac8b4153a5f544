"""Board profiles: chips and boards as data.

Each board is one TOML file in ``mcusim/boards/`` (see ``docs/boards.md`` for the schema and
the datasheet behind every figure). A board has one core, one memory map and one or more
operating points (clock, flash wait states, run current, supply voltage). A board is chosen on
the command line as ``NAME`` (its first operating point) or ``NAME@OP`` (``stm32l476rg@8mhz``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import BoardError

BOARDS_DIR = Path(__file__).parent / "boards"


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
    source: str = "no [flash_interface] section: every data load from flash pays the wait states"


@dataclass(frozen=True)
class Board:
    name: str
    title: str
    core: str
    """Key of the core: selects compiler flags and the cost table (``mcusim/cores/<core>.py``)."""
    fpu: bool
    flash_origin: int
    flash_size: int
    ram_origin: int
    ram_size: int
    icache_lines: int
    """Lines of the flash accelerator / instruction cache seen by taken branches (0 = none)."""
    icache_line_bytes: int
    sleep_current_ua: float
    sleep_mode: str
    memory_source: str
    sleep_source: str
    operating_points: tuple[OperatingPoint, ...]
    op: OperatingPoint
    """The selected operating point."""
    flash_interface: FlashInterface = FlashInterface()

    @property
    def qualified_name(self) -> str:
        return f"{self.name}@{self.op.name}"

    def energy_uj(self, cycles: int) -> float:
        """Energy of ``cycles`` at the selected operating point: t × I_run × V, in µJ."""
        seconds = cycles / self.op.clock_hz
        return seconds * self.op.run_current_ua * self.op.supply_v

    def latency_ms(self, cycles: int) -> float:
        return cycles / self.op.clock_hz * 1e3


def _load(path: Path) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


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
        source=str(d.get("source", "")),
    )
    if fi.dcache_lines:
        if fi.dcache_line_bytes < fi.read_bytes or fi.dcache_line_bytes // fi.read_bytes > 32:
            raise BoardError(f"board {name}: [flash_interface].dcache_line_bytes must hold 1 to 32 flash reads "
                             f"of {fi.read_bytes} bytes, not {fi.dcache_line_bytes}")
        if fi.dcache_ways > fi.dcache_lines:
            raise BoardError(f"board {name}: [flash_interface].dcache_ways ({fi.dcache_ways}) exceeds dcache_lines ({fi.dcache_lines})")
    if not fi.source:
        raise BoardError(f"board {name}: [flash_interface] needs a source (where its figures come from)")
    return fi


def _from_dict(d: dict, op_name: str | None) -> Board:
    ops = tuple(
        OperatingPoint(
            name=o["name"],
            clock_hz=int(o["clock_hz"]),
            flash_wait_states=int(o["flash_wait_states"]),
            run_current_ua=float(o["run_current_ua"]),
            supply_v=float(o["supply_v"]),
            source=o["source"],
        )
        for o in d["operating_points"]
    )
    if op_name is None:
        op = ops[0]
    else:
        matches = [o for o in ops if o.name == op_name]
        if not matches:
            names = ", ".join(o.name for o in ops)
            raise BoardError(f"board {d['name']} has no operating point {op_name!r} (has: {names})")
        op = matches[0]
    m = d["memory"]
    return Board(
        name=d["name"],
        title=d["title"],
        core=d["core"],
        fpu=bool(d["fpu"]),
        flash_origin=int(m["flash_origin"]),
        flash_size=int(m["flash_size"]),
        ram_origin=int(m["ram_origin"]),
        ram_size=int(m["ram_size"]),
        icache_lines=int(m.get("icache_lines", 0)),
        icache_line_bytes=int(m.get("icache_line_bytes", 16)),
        memory_source=m["source"],
        sleep_current_ua=float(d["sleep"]["current_ua"]),
        sleep_mode=d["sleep"]["mode"],
        sleep_source=d["sleep"]["source"],
        operating_points=ops,
        op=op,
        flash_interface=_flash_interface(d["name"], d.get("flash_interface")),
    )


@cache
def board_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in BOARDS_DIR.glob("*.toml")))


def get_board(spec: str) -> Board:
    """Board for ``NAME`` or ``NAME@OP``; raises BoardError naming the known boards."""
    name, _, op = spec.partition("@")
    path = BOARDS_DIR / f"{name.lower()}.toml"
    if not path.is_file():
        raise BoardError(f"unknown board {name!r}; known boards: {', '.join(board_names())}")
    return _from_dict(_load(path), op or None)


def all_boards() -> list[Board]:
    return [get_board(n) for n in board_names()]
