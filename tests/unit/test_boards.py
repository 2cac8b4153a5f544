"""Board profiles: every TOML loads, every figure is positive and cites its source, and the
NAME@OP selection and the latency/energy arithmetic behave. No toolchain needed."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib

import pytest

from mcusim.errors import BoardError, McusimError
from mcusim.simulator.board import BOARDS_DIR, Board, all_boards, board_names, get_board

# Core keys that mcusim knows how to build for (see mcusim/build/toolchain.py CORE_FLAGS).
KNOWN_CORES = {"cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}

REQUIRED = {"stm32f411ce", "stm32l476rg", "nrf52840", "stm32h743zi"}

# A source must name a document: an ST DS/RM/AN number or a Nordic Product Specification.
CITATION = re.compile(r"\b(DS|RM|AN)\d{4,5}\b|Product Specification")

BOARDS = all_boards()
OPS = [(b.name, o) for b in BOARDS for o in b.operating_points]


def test_board_files_exist_and_names_match_files():
    names = board_names()
    assert names, "no board profiles found"
    for path in BOARDS_DIR.glob("*.toml"):
        with path.open("rb") as f:
            data = tomllib.load(f)
        assert data["name"] == path.stem, f"{path.name}: name field must equal the file name"


def test_required_boards_exist():
    assert REQUIRED <= set(board_names())


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.name)
def test_board_fields(board: Board):
    assert board.title
    assert board.core in KNOWN_CORES
    assert board.flash_size > 0 and board.ram_size > 0
    for r in board.regions:
        assert r.size > 0 and CITATION.search(r.source), (r.name, r.source)
    # No two regions (or aliases) overlap; the validator refuses that, so this only restates it.
    spans = sorted((a, a + r.size) for r in board.regions for a in (r.origin, *r.aliases))
    assert all(e0 <= a1 for (_, e0), (a1, _) in zip(spans, spans[1:]))
    assert board.icache_lines >= 0
    assert board.icache_line_bytes > 0 and board.icache_line_bytes & (board.icache_line_bytes - 1) == 0
    assert board.operating_points, "a board needs at least one operating point"
    assert board.op is board.operating_points[0], "NAME alone selects the first operating point"
    names = [o.name for o in board.operating_points]
    assert len(names) == len(set(names)), "operating point names must be unique"
    assert board.sleep_mode and board.sleep_mode.strip()
    assert board.sleep_current_ua and board.sleep_current_ua > 0 and math.isfinite(board.sleep_current_ua)
    assert CITATION.search(board.sleep_source), board.sleep_source
    assert CITATION.search(board.memory_source), board.memory_source


@pytest.mark.parametrize("board_name,op", OPS, ids=lambda x: x if isinstance(x, str) else x.name)
def test_operating_point_figures(board_name, op):
    assert op.name and op.name == op.name.strip() and "@" not in op.name
    assert op.clock_hz > 0
    assert op.flash_wait_states >= 0
    assert op.run_current_ua > 0 and math.isfinite(op.run_current_ua)
    assert 1.0 <= op.supply_v <= 5.5
    assert op.source.strip(), f"{board_name}@{op.name} has no source"
    assert CITATION.search(op.source), f"{board_name}@{op.name}: source names no document: {op.source}"
    # A whole-chip run current is mA-scale, not A-scale or nA-scale: catches unit slips (mA vs uA).
    assert 100 <= op.run_current_ua <= 1_000_000
    assert 10 <= op.run_current_ua / (op.clock_hz / 1e6) <= 1000, "implausible uA/MHz"


def test_sleep_is_far_below_run():
    for b in BOARDS:
        assert b.sleep_current_ua < min(o.run_current_ua for o in b.operating_points) / 10


def test_has_cortex_m0plus_board_without_fpu():
    m0 = [b for b in BOARDS if b.core == "cortex-m0plus"]
    assert m0, "need one Cortex-M0+ board"
    assert all(not b.fpu for b in m0)


def test_has_small_part_within_64k_16k():
    small = [b for b in BOARDS if b.flash_size <= 64 * 1024 and b.ram_size <= 16 * 1024]
    assert small, "need a part with <= 64 KB flash and <= 16 KB RAM"
    assert any(b.core == "cortex-m4" for b in small), "the small part should have the M4 DSP instructions"


def test_stm32l476_operating_points():
    fast = get_board("stm32l476rg")
    assert fast.op.name == "80mhz"
    assert fast.op.clock_hz == 80_000_000 and fast.op.flash_wait_states == 4
    slow = get_board("stm32l476rg@8mhz")
    assert slow.op.clock_hz == 8_000_000 and slow.op.flash_wait_states == 1
    assert "Range 2" in slow.op.source
    assert slow.op.run_current_ua < fast.op.run_current_ua
    sram1, sram2 = slow.region("sram1"), slow.region("sram2")
    assert (sram1.origin, sram1.size) == (0x20000000, 96 * 1024)
    assert (sram2.origin, sram2.size, sram2.aliases) == (0x10000000, 32 * 1024, (0x20018000,))
    assert slow.ram_size == 128 * 1024


def test_stm32h743_profile():
    b = get_board("stm32h743zi")
    assert b.core == "cortex-m7" and b.fpu
    assert b.op.clock_hz == 480_000_000
    assert b.flash_origin == 0x08000000 and b.flash_size == 2 * 1024 * 1024
    regions = {r.name: (r.kind, r.origin, r.size // 1024) for r in b.regions}
    assert regions == {"flash_bank1": ("flash", 0x08000000, 1024), "flash_bank2": ("flash", 0x08100000, 1024),
                       "itcm": ("tcm", 0, 64), "dtcm": ("tcm", 0x20000000, 128),
                       "axi_sram": ("ram", 0x24000000, 512), "sram1": ("ram", 0x30000000, 128),
                       "sram2": ("ram", 0x30020000, 128), "sram3": ("ram", 0x30040000, 32),
                       "sram4": ("ram", 0x38000000, 64), "backup_sram": ("ram", 0x38800000, 4)}
    # DS12110: 192 KB TCM + 864 KB user SRAM + 4 KB backup SRAM.
    assert b.ram_size == (192 + 864 + 4) * 1024 and b.fpu_kind == "dp"
    assert b.icache_lines * b.icache_line_bytes == 16 * 1024 and b.icache_line_bytes == 32


def test_nrf52840_memory_map():
    b = get_board("nrf52840")
    assert b.flash_origin == 0 and b.flash_size == 1024 * 1024
    ram = b.region("ram")
    assert (ram.origin, ram.size, ram.aliases) == (0x20000000, 256 * 1024, (0x00800000,))
    assert b.op.clock_hz == 64_000_000


def test_stm32f411_filled_in():
    b = get_board("stm32f411ce")
    assert b.op.clock_hz == 100_000_000 and b.op.flash_wait_states == 3
    assert "TODO" not in b.op.source and "TODO" not in b.sleep_source


def test_op_selection_and_qualified_name():
    b = get_board("stm32l476rg@8mhz")
    assert b.qualified_name == "stm32l476rg@8mhz"
    assert get_board("stm32f411ce").qualified_name == "stm32f411ce@100mhz"
    # The board name is case-insensitive (it is a file name); "NAME@" means the default point.
    assert get_board("STM32F411CE").name == "stm32f411ce"
    assert get_board("stm32f411ce@").op.name == "100mhz"
    # The selected op is one of the board's points, and the list is the same whichever is chosen.
    assert b.op in b.operating_points
    assert b.operating_points == get_board("stm32l476rg").operating_points


def test_unknown_board_raises_board_error_naming_known_boards():
    with pytest.raises(BoardError) as exc:
        get_board("no-such-board")
    msg = str(exc.value)
    assert "no-such-board" in msg and "stm32f411ce" in msg
    assert isinstance(exc.value, McusimError) and exc.value.exit_code == 2


def test_unknown_operating_point_raises_board_error_naming_the_points():
    with pytest.raises(BoardError) as exc:
        get_board("stm32l476rg@2mhz")
    msg = str(exc.value)
    assert "2mhz" in msg and "80mhz" in msg and "8mhz" in msg


def _with_op(board: Board, **kw) -> Board:
    return dataclasses.replace(board, op=dataclasses.replace(board.op, **kw))


def test_latency_arithmetic():
    b = _with_op(get_board("stm32f411ce"), clock_hz=100_000_000)
    assert b.latency_ms(0) == 0
    assert b.latency_ms(100_000_000) == pytest.approx(1000.0)
    assert b.latency_ms(1_234_567) == pytest.approx(12.34567)


def test_energy_arithmetic():
    # 1 s at 10 mA and 3 V is 30 mJ = 30 000 uJ.
    b = _with_op(get_board("stm32f411ce"), clock_hz=80_000_000, run_current_ua=10_000, supply_v=3.0)
    assert b.energy_uj(0) == 0
    assert b.energy_uj(80_000_000) == pytest.approx(30_000.0)
    assert b.energy_uj(8_000_000) == pytest.approx(3_000.0)


@pytest.mark.parametrize("board_name,op", OPS, ids=lambda x: x if isinstance(x, str) else x.name)
def test_energy_equals_time_current_voltage(board_name, op):
    b = get_board(f"{board_name}@{op.name}")
    cycles = 5_000_000
    seconds = cycles / op.clock_hz
    assert b.latency_ms(cycles) == pytest.approx(seconds * 1e3)
    assert b.energy_uj(cycles) == pytest.approx(seconds * op.run_current_ua * op.supply_v)
    # Energy per cycle is I*V/f: the same work costs twice the energy at twice the current.
    doubled = _with_op(b, run_current_ua=2 * op.run_current_ua)
    assert doubled.energy_uj(cycles) == pytest.approx(2 * b.energy_uj(cycles))
