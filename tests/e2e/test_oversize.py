"""A model that does not fit its part is a result: the enlarged memory map (no toolchain), the
``fit`` object, and the non-fitting check from the command line in every format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from simhelpers import needs_gcc

from mcusim.analysis.budget import check, check_json, check_junit, check_markdown
from mcusim.analysis.oversize import enlarged, growth, measure, part_fit
from mcusim.cli import main
from mcusim.errors import DoesNotFit
from mcusim.simulator.board import get_board

ROOT = Path(__file__).resolve().parents[2]
KWS = str(ROOT / "models" / "kws_dscnn.tflite")


def _spans(board):
    return sorted((a, a + r.size, r.name) for r in board.regions for a in (r.origin, *r.aliases))


def test_enlarged_map_grows_in_place_and_moves_what_is_above():
    l476 = get_board("stm32l476rg")  # sram1 0x20000000 96K, then sram2's alias at 0x20018000
    big = enlarged(l476, {"sram1": 200 * 1024})
    sram1, sram2 = big.region("sram1"), big.region("sram2")
    assert sram1.origin == 0x20000000 and sram1.size == 200 * 1024
    assert sram2.origin == 0x10000000 and sram2.size == 32 * 1024  # not grown, not moved
    assert sram2.aliases == (0x20000000 + 200 * 1024,)  # adjacent before, adjacent after
    spans = _spans(big)
    assert all(a1 >= e0 for (_, e0, _), (a1, _, _) in zip(spans, spans[1:]))  # no overlap
    assert big.op == l476.op and big.flash_interface == l476.flash_interface and big.name == l476.name
    # the code flash grows at its last bank; flash keeps its origin (the vector table)
    h7 = enlarged(get_board("stm32h743zi"), {"flash": 3 << 20})
    assert h7.flash_size == 3 << 20 and h7.flash_origin == 0x08000000
    with pytest.raises(DoesNotFit, match="0x40000000"):
        enlarged(get_board("stm32f411ce"), {"sram": 1 << 30})


def test_growth_follows_what_the_failure_names():
    b = get_board("stm32f301k8")
    g = growth(b, DoesNotFit("x", {"flash": 15_048, "sram": 10_000}))
    assert g == {"flash": 128 * 1024, "sram": 64 * 1024}  # flash: a power of two; RAM: twice that
    assert growth(b, DoesNotFit("x", {"sram": None})) == {"sram": 32 * 1024}  # unknown: doubled
    assert set(growth(b, DoesNotFit("x"))) == {"flash", "sram"}  # names nothing: everything


def test_measure_retries_until_it_runs_and_says_on_what():
    b = get_board("stm32f301k8")
    seen = []

    def run(board):
        seen.append(board.ram_size)
        if board.ram_size < 40_000:
            raise DoesNotFit("too small", {"sram": 30_000 - board.ram_size} if board.ram_size < 30_000 else {"sram": None})
        return "ran"

    result, on = measure(run, b)
    assert result == "ran" and on.ram_size == seen[-1] >= 40_000 and seen[0] == 16384
    assert measure(lambda board: "fits", b) == ("fits", b)
    with pytest.raises(DoesNotFit, match="never"):
        measure(lambda board: (_ for _ in ()).throw(DoesNotFit("never", {"sram": 1 << 31})), b)


def test_part_fit_names_every_breach_with_bytes_including_a_region():
    l476 = get_board("stm32l476rg")  # 96K sram1 + 32K sram2 = 128K
    big = enlarged(l476, {"sram1": 256 * 1024})
    report = {"flash_bytes": 2_000_000, "ram_peak_bytes": 110_000, "placement": {"stack": "sram2"},
              "ram_breakdown": {"static": 0, "arena": 0, "stack": 1_000, "heap": 0}}
    fit = part_fit(report, [(0x20000000, 109_000)], l476, big)  # all of it in sram1
    assert not fit["fits"]
    by = {b["what"]: b for b in fit["breaches"]}
    assert set(by) == {"flash", "RAM region sram1"}  # 110,000 B of RAM is under the part's 131,072
    assert by["flash"]["over_bytes"] == 2_000_000 - 1024 * 1024
    assert by["RAM region sram1"]["needed_bytes"] == 109_000 and by["RAM region sram1"]["available_bytes"] == 96 * 1024
    assert fit["regions"]["sram2"] == {"needed_bytes": 1_000, "available_bytes": 32 * 1024}
    assert fit["measured_on"]["sram1"]["size"] == 256 * 1024
    c = check({**report, "model": "m.tflite", "path": "tinyml", "board": "stm32l476rg@80mhz", "latency_ms": 1.0,
               "energy_uj": 1.0, "fit": fit}, {}, l476)
    assert not c.ok and c.verdict == "does not fit" and c.part_verdict == "does not fit"
    assert "does not fit stm32l476rg@80mhz (flash, RAM region sram1)" in c.headline()
    j = check_json(c)
    assert [b["budget"] for b in j["breaches"]] == ["part_flash", "part_ram_region_sram1"]
    assert "109,000 B needed, the part has 98,304 B" in check_markdown(c)
    assert ET.fromstring(check_junit(c)).get("failures") == "2"


def test_verdict_cannot_contradict_the_breaches():
    b = get_board("stm32f411ce")
    rep = {"model": "m.tflite", "path": "classic", "board": "stm32f411ce@100mhz", "flash_bytes": 10_000,
           "ram_peak_bytes": 1_000, "latency_ms": 2.0, "energy_uj": 3.0}
    over = check(rep, {"max_flash": 8_000.0, "max_ram": 512.0}, b)
    assert over.part_verdict == "fits with headroom" and over.verdict == "over budget"
    assert over.headline().startswith("FAIL: 2 budgets exceeded (flash, peak RAM); verdict: over budget")
    ok = check(rep, {"max_flash": 20_000.0}, b)
    assert ok.headline().startswith("PASS: within budget; verdict: fits with headroom")


@needs_gcc
def test_a_model_that_does_not_fit_is_checked_in_every_format(tmp_path, capsys):
    """The issue's command: kws_dscnn on tinyml does not fit a 64 KB / 16 KB part in flash nor in RAM."""
    base = ["check", KWS, "--path", "tinyml", "--board", "stm32f301k8", "--max-flash", "64K", "--max-ram", "16K"]
    junit = tmp_path / "r.xml"
    assert main([*base, "--format", "junit", "--output", str(junit)]) == 1
    suite = ET.fromstring(junit.read_text())
    failures = {c.get("name"): c.find("failure").get("message") for c in suite.findall("testcase")
                if c.find("failure") is not None}
    assert set(failures) == {"tinyml.part_flash", "tinyml.part_ram", "tinyml.max_flash", "tinyml.max_ram"}
    assert "the part has 65,536 B" in failures["tinyml.part_flash"]
    assert "the part has 16,384 B" in failures["tinyml.part_ram"]
    out = tmp_path / "r.json"
    assert main([*base, "--format", "json", "--output", str(out)]) == 1
    rep = json.loads(out.read_text())
    assert rep["ok"] is False and rep["fits_part"] is False and rep["verdict"] == "does not fit"
    part = {b["budget"]: b for b in rep["breaches"] if b["budget"].startswith("part_")}
    assert set(part) == {"part_flash", "part_ram"}
    assert part["part_flash"]["limit"] == 65536 and part["part_flash"]["measured"] > 65536
    assert part["part_ram"]["limit"] == 16384 and part["part_ram"]["measured"] > 16384
    assert part["part_flash"]["overshoot"] == part["part_flash"]["measured"] - 65536
    assert rep["part"]["measured_on"]  # run on an enlarged map, and said so
    assert rep["measured"]["latency_ms"] > 0  # still measured: cycles at the part's clock
    md = tmp_path / "r.md"
    assert main([*base, "--format", "markdown", "--output", str(md)]) == 1
    assert "| flash of the part |" in md.read_text() and "| RAM of the part |" in md.read_text()
    capsys.readouterr()
    assert main(base) == 1
    text = capsys.readouterr().out
    assert "does not fit: flash:" in text and "does not fit: RAM:" in text and "FAIL: does not fit" in text


@needs_gcc
def test_run_and_compare_flag_a_model_that_does_not_fit(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["run", KWS, "--path", "classic", "--board", "stm32f301k8", "--json", str(out)]) == 1
    rep = json.loads(out.read_text())
    assert rep["fit"]["fits"] is False and [b["what"] for b in rep["fit"]["breaches"]] == ["RAM"]
    assert rep["cycles"] > 0 and rep["reference_match"]
    assert "DOES NOT FIT stm32f301k8@72mhz" in capsys.readouterr().out
    md, page = tmp_path / "cmp.md", tmp_path / "cmp.html"
    assert main(["compare", KWS, "--paths", "classic", "--board", "stm32f301k8", "--markdown", str(md),
                 "--html", str(page)]) == 0
    assert "DOES NOT FIT" in capsys.readouterr().out
    # the Markdown and the HTML say it too, with the breach and its bytes
    assert "**`classic/opt`: DOES NOT FIT stm32f301k8@72mhz" in md.read_text()
    assert re.search(r"RAM: [\d,]+ B needed, the part has 16,384 B \(\d+%\): [\d,]+ B over", md.read_text())
    html = page.read_text()
    assert "class='dnf'" in html and "DOES NOT FIT stm32f301k8@72mhz" in html


@needs_gcc
def test_real_tflm_that_does_not_fit_is_measured_too():
    from mcusim.stacks.runner import run_model

    rep = run_model(KWS, "tflm", get_board("stm32f301k8"), oversize=True).report
    assert [b["what"] for b in rep["fit"]["breaches"]] == ["flash", "RAM"]
    assert rep["fit"]["flash"]["needed_bytes"] == rep["flash_bytes"] > 65536 and rep["cycles"] > 0
