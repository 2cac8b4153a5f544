"""The reports people act on, from the command line: check (exit codes and formats), battery
life, fit, annotate --op on a model, and the HTML report of a real comparison."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from simhelpers import needs_gcc

from mcusim.cli import main
from mcusim.simulator.board import all_boards

pytestmark = needs_gcc
ROOT = Path(__file__).resolve().parents[2]
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


def test_battery_life_fields(tmp_path, capsys):
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    assert main(["run", KWS, "--path", "tinyml", "--board", "stm32l476rg@8mhz", "--duty", "1000",
                 "--battery", "500", "--cold", "--json", str(out), "--html", str(page)]) == 0
    rep = json.loads(out.read_text())
    b = rep["battery"]
    assert b["cold_start"] and b["battery_days"] > 0 and 0 < b["cold_start_share"] < 1
    assert b["active_s_per_day"] == pytest.approx(1000 * (rep["latency_ms"] + rep["startup_ms"]) / 1e3)
    text = capsys.readouterr().out  # the terminal table says it too
    assert f"{b['battery_days']:,.1f} days" in text and f"{b['average_current_ua']:.4g} µA" in text
    assert f"{b['cold_start_share']:.1%} of the charge" in text
    html = page.read_text()
    assert "<h2>Battery life</h2>" in html and f"{b['battery_days']:,.1f} days" in html
    assert main(["run", KWS, "--path", "tinyml", "--duty", "1000"]) == 2  # needs --battery too


@pytest.mark.parametrize("extra", [["--cold"], ["--sleep-current", "2"]])
def test_duty_cycle_options_alone_are_refused_before_any_work(extra, capsys):
    for cmd in (["run", KWS, "--path", "tinyml"], ["compare", KWS, "--paths", "tinyml"]):
        assert main([*cmd, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "give --duty INFERENCES_PER_DAY and --battery MAH" in err
        assert extra[0] in err


@pytest.mark.slow  # every board at every operating point (~70 s); test_fit.py covers fit in the default run
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


def test_compare_html_has_both_paths(tmp_path, capsys):
    page, out = tmp_path / "cmp.html", tmp_path / "cmp.json"
    assert main(["compare", KWS, "--paths", "tinyml,classic", "--html", str(page), "--json", str(out),
                 "--duty", "86400", "--battery", "220"]) == 0
    days = [f"{r['battery']['battery_days']:,.1f} days" for r in json.loads(out.read_text())["runs"]]
    text = capsys.readouterr().out  # battery life of each column in the terminal and the page
    assert "battery: 86,400/day, 220 mAh" in text and all(d in text for d in days)
    html = page.read_text()
    assert "<h2>Battery life</h2>" in html and all(d in html for d in days)
    assert html.count("<svg") == 8 and "tinyml/opt" in html  # 7 plots and battery life and "classic/opt" in html
    assert "FULLY_CONNECTED" in html and "SOFTMAX" in html
    assert "70% headroom rule" in html and "activations (B)" in html
