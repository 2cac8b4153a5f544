"""The regression gate: `check --baseline REPORT.json --max-growth ...` against a stored report."""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from simhelpers import needs_gcc

from mcusim.analysis.baseline import Allowance, compare, load_baseline, parse_growth
from mcusim.cli import build_parser, main
from mcusim.errors import McusimError

ROOT = Path(__file__).resolve().parents[2]
KWS = str(ROOT / "models" / "kws_dscnn.tflite")
RUN = {"schema": "mcusim.run/1", "model": "models/kws_dscnn.tflite", "board": "stm32f411ce@100mhz", "path": "tinyml",
       "kernels": "opt", "flash_bytes": 10_000, "ram_peak_bytes": 2_000, "cycles": 100_000, "latency_ms": 1.0,
       "energy_uj": 40.0, "ops": [{"index": 0, "type": "CONV_2D", "cycles": 60_000},
                                  {"index": 1, "type": "SOFTMAX", "cycles": 40_000}]}


def test_allowances():
    a = parse_growth("flash=1%,ram=0,cycles=2%,latency=0.5,energy=3")
    assert a["flash"] == Allowance("flash", 1.0, True) and a["ram"].limit(2_000) == 2_000
    assert a["cycles"].limit(100_000) == pytest.approx(102_000) and a["latency"].limit(1.0) == 1.5
    assert parse_growth("flash=1K")["flash"].limit(10_000) == 11_024
    assert set(parse_growth(None)) == {"flash", "ram", "cycles"}  # default: no growth of those
    for bad in ("flops=1%", "flash", "flash=-1", "flash=lots%"):
        with pytest.raises(McusimError, match="--max-growth"):
            parse_growth(bad)


def test_growth_per_metric_and_per_op():
    now = {**RUN, "flash_bytes": 10_050, "cycles": 103_000,
           "ops": [{"index": 0, "type": "CONV_2D", "cycles": 63_500}, {"index": 1, "type": "SOFTMAX", "cycles": 39_500}]}
    growth, ops = compare(RUN, now, parse_growth("flash=1%,ram=0,cycles=2%"))
    failed = [g.metric for g in growth if g.failed]
    assert failed == ["cycles"]  # flash +0.5% is within 1%
    assert [g.metric for g in growth][:3] == ["flash", "ram", "cycles"] and growth[3].allowance is None
    assert ops == [{"index": 0, "type": "CONV_2D", "baseline": 60_000, "measured": 63_500, "growth": 3_500,
                    "growth_pct": pytest.approx(3_500 / 60_000 * 100)}]
    assert growth[2].line() == "cycles 100,000 -> 103,000 cycles: +3,000 cycles (+3.00%); allowed growth 2%"


def test_baseline_files(tmp_path):
    f = tmp_path / "b.json"
    f.write_text(json.dumps(RUN))
    assert load_baseline(f, "tinyml", "opt", "stm32f411ce@100mhz", "/elsewhere/kws_dscnn.tflite")["cycles"] == 100_000
    cmp = {"schema": "mcusim.compare/2", "runs": [{**RUN, "path": "classic"}, RUN]}
    f.write_text(json.dumps(cmp))
    assert load_baseline(f, "tinyml", "opt", "stm32f411ce@100mhz", KWS)["path"] == "tinyml"
    cases = {
        "cannot read": None, "not JSON": "{", "not an mcusim run, check or compare report": "[1]",
        "another deployment: board stm32f301k8@72mhz": json.dumps(RUN),
        "no classic/opt run": json.dumps({**cmp, "runs": [RUN]}),
        "without cycles and ops": json.dumps({"schema": "mcusim.check/1", "measured": {}}),
    }
    for message, text in cases.items():
        g = tmp_path / "missing.json" if text is None else tmp_path / "x.json"
        if text is not None:
            g.write_text(text)
        board = "stm32f301k8@72mhz" if "board" in message else "stm32f411ce@100mhz"
        path = "classic" if "classic" in message else "tinyml"
        with pytest.raises(McusimError, match=re.escape(message)):
            load_baseline(g, path, "opt", board, KWS)


@needs_gcc
def test_check_against_a_baseline_in_every_format(tmp_path, capsys):
    base = tmp_path / "main.json"
    assert main(["check", KWS, "--path", "classic", "--max-flash", "1M", "--format", "json", "--output", str(base)]) == 0
    gate = ["check", KWS, "--path", "classic", "--baseline", str(base), "--max-growth", "flash=1%,ram=0,cycles=2%"]
    assert main(gate) == 0
    assert "PASS: within budget and baseline allowances" in capsys.readouterr().out
    # the main branch was smaller and faster: the pull request regressed flash and cycles
    old = json.loads(base.read_text())
    old["measured"]["flash_bytes"] -= 2_000
    old["cycles"] -= 300_000
    old["ops"][0]["cycles"] -= 300_000
    base.write_text(json.dumps(old))
    assert main(gate) == 1
    text = capsys.readouterr().out
    assert "FAIL: 2 metrics grew past the allowance against the baseline (flash, cycles)" in text
    assert "regression: flash" in text and "regression: cycles" in text
    assert f"grew: op 0 {old['ops'][0]['type']}: " in text
    out = tmp_path / "r.json"
    assert main([*gate, "--format", "json", "--output", str(out)]) == 1
    rep = json.loads(out.read_text())
    assert [b["budget"] for b in rep["breaches"]] == ["max_growth_flash", "max_growth_cycles"]
    assert rep["verdict"] == "regressed" and rep["baseline"]["ops_grown"][0]["index"] == 0
    assert rep["baseline"]["ops_grown"][0]["growth"] == 300_000
    junit = tmp_path / "r.xml"
    assert main([*gate, "--format", "junit", "--output", str(junit)]) == 1
    cases = {c.get("name"): c for c in ET.fromstring(junit.read_text()).findall("testcase")}
    assert cases["classic.max_growth_flash"].find("failure") is not None
    assert cases["classic.max_growth_ram"].find("failure") is None
    assert "op 0 " in cases["classic.max_growth_cycles"].find("failure").text
    md = tmp_path / "r.md"
    assert main([*gate, "--format", "markdown", "--output", str(md)]) == 1
    assert "Against the baseline" in md.read_text() and "| cycles |" in md.read_text()
    capsys.readouterr()
    # another board than the baseline's, or an unreadable file: one line, exit 2
    assert main([*gate, "--board", "stm32l476rg"]) == 2
    err = capsys.readouterr().err
    assert "is for another deployment: board stm32l476rg@80mhz" in err and len(err.strip().splitlines()) == 1
    assert main(["check", KWS, "--path", "classic", "--baseline", str(tmp_path / "none.json")]) == 2
    assert main(["check", KWS, "--path", "classic", "--max-growth", "flash=1%"]) == 2  # needs --baseline


def test_the_ci_doc_commands_parse():
    """Every mcusim command of docs/ci.md is a valid command line."""
    doc = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```(?:sh|yaml)\n(.*?)```", doc, re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        m = re.search(r"(mcusim (?:run|check|fit) .*)", line)
        if m and not (line.strip().startswith("- mcusim check") and not line.rstrip().endswith("xml")):
            commands.append(m.group(1).split(" >>")[0].split(" ||")[0])
    # GitLab's folded script lines continue on the next lines
    for i, line in enumerate(text.splitlines()):
        if line.strip().startswith("- mcusim check") and not line.rstrip().endswith("xml"):
            rest = []
            for nxt in text.splitlines()[i + 1:]:
                if nxt.strip().startswith(("- ", "artifacts")):
                    break
                rest.append(nxt.strip())
            commands.append(line.strip()[2:] + " " + " ".join(rest))
    assert len(commands) >= 5
    parser = build_parser()
    for cmd in commands:
        cmd = cmd.replace('$(basename "$MODEL")', "m.tflite")
        cmd = re.sub(r'"[^"]*"', "x", cmd)  # quoted shell words (with variables)
        argv = shlex.split(re.sub(r"\$[{]?[A-Za-z_]+[}]?", "x", cmd))[1:]
        args = parser.parse_args(argv)
        if args.command == "check":
            assert args.baseline and parse_growth(args.max_growth)
