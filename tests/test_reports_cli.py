"""The reports people act on, from the command line: check (exit codes and formats), battery
life, fit, annotate --op on a model, and the HTML report of a real comparison."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mcusim.board import all_boards
from mcusim.cli import main
from simhelpers import needs_gcc

pytestmark = needs_gcc
ROOT = Path(__file__).resolve().parent.parent
KWS = str(ROOT / "models" / "kws_fc.tflite")


def test_check_within_and_over_budget(tmp_path, capsys):
    assert main(["check", KWS, "--path", "classic", "--max-flash", "64K", "--max-ram", "16K"]) == 0
    out = capsys.readouterr().out
    assert "within budget" in out and "verdict: fits with headroom" in out
    junit = tmp_path / "check.xml"
    code = main(["check", KWS, "--path", "tinyml", "--max-flash", "16K", "--max-ram", "16K",
                 "--format", "junit", "--output", str(junit)])
    assert code == 1
    suite = ET.fromstring(junit.read_text())
    failure = suite.find("testcase/failure")
    assert failure is not None and "exceeds the budget 16,384 B by" in failure.get("message")
    assert main(["check", KWS, "--path", "tinyml", "--max-latency-ms", "0.01", "--format", "json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] is False and rep["breaches"][0]["budget"] == "max_latency_ms"
    assert rep["breaches"][0]["measured"] > 0.01


def test_check_budgets_from_mcusim_toml_beside_the_model(tmp_path, capsys):
    model = tmp_path / "kws.tflite"
    model.write_bytes(Path(KWS).read_bytes())
    (tmp_path / "mcusim.toml").write_text('path = "classic"\nmax_flash = "8K"\n')
    assert main(["check", str(model), "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    assert "FAIL: 1 budget exceeded (flash)" in md and "| flash |" in md
    assert main(["check", str(model)]) == 1  # text format names the breach
    assert "over budget: flash" in capsys.readouterr().out
    assert main(["check", str(model), "--max-ram", "lots"]) == 2


def test_battery_life_fields(tmp_path):
    out = tmp_path / "r.json"
    assert main(["run", KWS, "--path", "tinyml", "--board", "stm32l476rg@8mhz", "--duty", "1000",
                 "--battery", "500", "--cold", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    b = rep["battery"]
    assert b["cold_start"] and b["battery_days"] > 0
    assert b["active_s_per_day"] == pytest.approx(1000 * (rep["latency_ms"] + rep["startup_ms"]) / 1e3)
    assert main(["run", KWS, "--path", "tinyml", "--duty", "1000"]) == 2  # needs --battery too


def test_fit_lists_boards_and_the_smallest_part(tmp_path, capsys):
    out = tmp_path / "fit.json"
    model = str(ROOT / "tests" / "data" / "op_relu.tflite")
    assert main(["fit", model, "--jobs", "1", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    rows = rep["rows"]
    assert {r["path"] for r in rows} == {"tinyml", "classic"}
    assert all(r["verdict"] == "fits with headroom" for r in rows)  # a one-op model fits everywhere
    # every board at every operating point, each simulated with its latency
    points = {(b.name, op.name) for b in all_boards() for op in b.operating_points}
    assert {(r["board"], r["op_point"]) for r in rows if r["path"] == "tinyml"} == points
    assert all(r["basis"] == "simulated" and r["latency_ms"] > 0 and r["energy_uj"] > 0 for r in rows)
    text = capsys.readouterr().out
    assert "smallest part with headroom for tinyml/opt: stm32f301k8@72mhz" in text


def test_annotate_an_op_of_a_model(capsys):
    assert main(["annotate", KWS, "--path", "classic", "--op", "0", "--top", "1"]) == 0
    out = capsys.readouterr().out
    assert "op 0 (FULLY_CONNECTED)" in out and "smlad" in out
    assert main(["annotate", KWS, "--path", "classic", "--op", "99"]) == 2


def test_compare_html_has_both_paths(tmp_path):
    page = tmp_path / "cmp.html"
    assert main(["compare", KWS, "--paths", "tinyml,classic", "--html", str(page)]) == 0
    html = page.read_text()
    assert html.count("<svg") == 5 and "tinyml (opt)" in html and "classic (opt)" in html
    assert "FULLY_CONNECTED" in html and "SOFTMAX" in html
