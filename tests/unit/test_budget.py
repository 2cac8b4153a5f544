"""Budget gates, the headroom verdict and battery life: pure functions over a report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mcusim.analysis.budget import (
    battery,
    check,
    check_json,
    check_junit,
    check_markdown,
    load_budget_files,
    normalise_budgets,
    parse_size,
    verdict,
)
from mcusim.errors import McusimError
from mcusim.simulator.board import get_board

REPORT = {"model": "m.tflite", "path": "tinyml", "board": "stm32f301k8@72mhz", "flash_bytes": 50_000,
          "ram_peak_bytes": 12_000, "latency_ms": 2.0, "energy_uj": 30.0, "startup_ms": 1.0}


def test_sizes():
    assert parse_size("64K", "x") == 65536 and parse_size("1M", "x") == 1 << 20
    assert parse_size(1000, "x") == 1000 and parse_size("16KiB", "x") == 16384
    with pytest.raises(McusimError, match="not a size"):
        parse_size("lots", "max_flash")


def test_breaches_name_value_budget_and_overshoot():
    board = get_board("stm32f301k8")
    c = check(REPORT, normalise_budgets({"max_flash": "48K", "max_ram": "16K", "max_latency_ms": 1.5}), board)
    assert not c.ok
    lines = [b.line() for b in c.breaches]
    assert lines[0] == "flash 50,000 B exceeds the budget 49,152 B by 848 B (1.7%)"
    assert lines[1] == "latency 2 ms exceeds the budget 1.500 ms by 0.500 ms (33.3%)"
    j = check_json(c)
    assert j["ok"] is False and j["breaches"][0]["overshoot"] == 848
    md = check_markdown(c)
    assert "| flash | 50,000 B | 49,152 B | over |" in md and "| peak RAM | 12,000 B | 16,384 B | ok |" in md
    suite = ET.fromstring(check_junit(c))
    assert suite.get("failures") == "2" and suite.get("skipped") == "1"
    assert len(suite.findall("testcase/failure")) == 2


def test_verdict_follows_the_70_percent_rule():
    b = get_board("stm32f301k8")  # 64 KB / 16 KB
    assert verdict(int(0.69 * b.flash_size), 1000, b)[0] == "fits with headroom"
    assert verdict(-(-7 * b.flash_size // 10), 1000, b)[0] == "tight"
    assert verdict(b.flash_size, b.ram_size, b)[0] == "tight"
    assert verdict(1000, b.ram_size + 1, b)[0] == "does not fit"


def test_budget_files_pyproject_then_beside_model(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mcusim]\nmax_flash = "64K"\nmax_ram = "16K"\n')
    models = tmp_path / "models"
    models.mkdir()
    (models / "mcusim.toml").write_text('max_ram = "8K"\npath = "classic"\n')
    raw, sources = load_budget_files(models / "m.tflite", cwd=tmp_path)
    assert normalise_budgets(raw) == {"max_flash": 65536, "max_ram": 8192}
    assert raw["path"] == "classic" and len(sources) == 2
    (models / "mcusim.toml").write_text('max_rom = 3\n')
    with pytest.raises(McusimError, match="unknown budget keys"):
        load_budget_files(models / "m.tflite", cwd=tmp_path)


def test_battery_life_arithmetic():
    b = get_board("stm32l476rg@8mhz")
    r = battery(REPORT, b, per_day=1000, battery_mah=500)
    busy = 1000 * 0.002
    expected_avg = (busy * b.op.run_current_ua + (86400 - busy) * b.sleep_current_ua) / 86400
    assert r["average_current_ua"] == pytest.approx(expected_avg)
    assert r["battery_days"] == pytest.approx(500_000 / expected_avg / 24)
    cold = battery(REPORT, b, per_day=1000, battery_mah=500, cold_start=True)
    assert cold["active_s_per_day"] == pytest.approx(1000 * 0.003)
    assert cold["battery_days"] < r["battery_days"]
