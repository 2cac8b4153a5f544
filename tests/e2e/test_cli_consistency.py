"""What every command shares: help text for every option, `-` as standard output for every
report, report files with the umask's permissions, the mcusim version and command line in every
JSON report; and `bench --json`, `boards`' flash-interface facts, `query --cheapest` within the
spec's budgets."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest
from simhelpers import needs_gcc

import mcusim
from mcusim.build.toolchain import KERNELS
from mcusim.cli import build_parser, main
from mcusim.present.report import json_text, write_json, write_text
from mcusim.simulator.board import all_boards, get_board

ROOT = Path(__file__).resolve().parents[2]


def _subparsers(p: argparse.ArgumentParser):
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_option_and_argument_has_help():
    parser = build_parser()
    missing = [f"mcusim {a.dest}" for a in parser._actions if not a.help]
    for name, sub in _subparsers(parser):
        missing += [f"mcusim {name} {'/'.join(a.option_strings) or a.dest}" for a in sub._actions
                    if not a.help or a.help == argparse.SUPPRESS]
    assert not missing, f"options without help text: {missing}"


def test_every_subcommand_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    assert set(helps) == set(sub.choices) and all(helps.values()), helps


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_report_files_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_json(tmp_path / "r.json", {"a": 1})
        write_text(tmp_path / "r.md", "x\n")
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "r.md").stat().st_mode & 0o777 == mode


def test_json_reports_record_version_and_command_line(monkeypatch):
    import mcusim.present.report as report

    monkeypatch.setattr(report, "COMMAND_LINE", ["mcusim", "run", "m.tflite", "--json", "-"])
    d = json.loads(json_text({"schema": "x"}))
    assert d["mcusim"] == {"version": mcusim.__version__, "argv": ["mcusim", "run", "m.tflite", "--json", "-"]}


def test_json_dash_is_stdout_for_every_report_option(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["ops", "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["schema"] == "mcusim.ops/1"
    assert main(["ops", "--markdown", "-"]) == 0
    assert capsys.readouterr().out.startswith("# Operators per stack")
    assert not (tmp_path / "-").exists()
    assert main(["ops", "--json", "-", "--markdown", "-"]) == 2
    assert "only one report can go to standard output" in capsys.readouterr().err


@needs_gcc
def test_sim_and_run_json_dash(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["sim", str(KERNELS / "examples" / "dsp_dot.c"), "--json", "-"]) == 0
    cap = capsys.readouterr()
    rep = json.loads(cap.out)  # the report alone on stdout; the tables on stderr
    assert rep["exit_code"] == 8192 and "instruction mix" in cap.err
    assert rep["mcusim"]["argv"][:2] == ["mcusim", "sim"]
    assert main(["run", "models/kws_fc.tflite", "--path", "tinyml", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == "tinyml"


@needs_gcc
def test_bench_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--repeat", "2000", "--rounds", "1", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["schema"] == "mcusim.bench/1" and rep["board"] == "stm32f411ce@100mhz"
    assert rep["raw_mips"] > 0 and rep["ratio"] == rep["accounting_mips"] / rep["raw_mips"]
    assert rep["instructions"] > 0 and "mcusim" in rep


def test_boards_show_flash_interface_and_wait_states(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    assert "wait states by operating point" in out
    for b in all_boards():
        ws = ", ".join(f"{op.name} {op.flash_wait_states}" for op in b.operating_points)
        line = next(ln for ln in out.splitlines() if f"│ {b.name} " in ln and ws in ln)
        fi = b.flash_interface
        assert f"{fi.read_bytes} B" in line
        if fi.dcache_lines:
            assert f"{fi.dcache_lines} x {fi.dcache_line_bytes} B lines" in line
        if b.icache_lines:
            assert f"{b.icache_lines} x {b.icache_line_bytes} B lines" in line
    f411 = get_board("stm32f411ce").flash_interface
    assert (f411.dcache_lines, f411.read_bytes) == (8, 16)  # RM0383 section 3.4 (the board file's source)


def test_query_cheapest_honours_the_spec_budgets(tmp_path, capsys):
    """A cell the sweep recorded over the spec's budget is not an answer, however small its
    part (the issue: stm32g071rb at 111.5 ms although the spec says max_latency_ms = 20)."""
    from test_sweep import fake_cell, write_models, write_spec

    from mcusim.sweep import (
        InlineEngine,
        ResultsDB,
        cheapest,
        load_spec,
        query,
        run_sweep,
    )

    write_models(tmp_path)
    write_spec(tmp_path, 'models = ["models/*.tflite"]\nboards = ["stm32g071rb", "stm32f301k8", "stm32f411ce", '
                         '"stm32h743zi"]\npaths = ["tinyml", "classic"]\n[budgets]\nmax_latency_ms = 5\n')
    with ResultsDB(tmp_path / "r.db") as db:
        run_sweep(load_spec(tmp_path / "sweep.toml"), db, InlineEngine(), fake_cell)
        rows = query(db)
    ignoring = {(a["model"], a["path"]): a["board"] for a in cheapest([{**r, "within_budget": None} for r in rows])}
    assert main(["query", str(tmp_path / "r.db"), "--cheapest", "--json", "-"]) == 0
    answers = json.loads(capsys.readouterr().out)["cheapest"]
    assert answers and all(a["board"] is None or a["latency_ms"] <= 5 for a in answers)
    got = {(a["model"], a["path"]): a["board"] for a in answers}
    assert got != ignoring  # the budget changed at least one answer (the test can fail)
