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
