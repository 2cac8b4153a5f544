"""Hostile models on the command line: mutated and truncated .tflite files, float models,
unsupported ops, wrong tensor types. Every case ends in a correct result (exit 0, outputs
checked against the reference inside run_model) or one clear line with exit code 2 — never a
traceback, a hang, a firmware fault or a report with unmeasured numbers.

The number of cases tried is recorded in docs/reliability.md (`pytest -m slow` runs more)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simhelpers import needs_gcc

from mcusim.cli import main

pytestmark = needs_gcc
ROOT = Path(__file__).resolve().parents[2]
SEED_MODEL = (ROOT / "models" / "kws_fc.tflite").read_bytes()
RUN_FIELDS = ("flash_bytes", "ram_peak_bytes", "cycles", "latency_ms", "energy_uj", "dispatch_share", "ops", "outputs")


def run_cli(tmp: Path, data: bytes, command: str, capsys) -> None:
    model = tmp / "m.tflite"
    model.write_bytes(data)
    out = tmp / "r.json"
    out.unlink(missing_ok=True)
    if command == "check":
        argv = ["check", str(model), "--path", "tinyml", "--max-flash", "1M", "--format", "json"]
    elif command == "compare":
        argv = ["compare", str(model), "--json", str(out)]
    else:
        argv = ["run", str(model), "--path", command, "--json", str(out)]
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    if code == 0:
        if command != "check":
            rep = json.loads(out.read_text())
            for r in rep.get("runs", [rep]):
                for f in RUN_FIELDS:
                    assert f in r and r[f] is not None
    else:
        assert code == 2, f"exit {code}: {captured.err}"
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
        assert not out.exists()


def mutate(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    b = bytearray(data)
    for pos, val in flips:
        b[pos % len(b)] = val
    return bytes(b[:cut]) if cut is not None else bytes(b)


MUTATIONS = st.tuples(
    st.lists(st.tuples(st.integers(0, len(SEED_MODEL) - 1), st.integers(0, 255)), min_size=1, max_size=4),
    st.one_of(st.none(), st.integers(0, len(SEED_MODEL))),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=MUTATIONS, command=st.sampled_from(["tinyml", "classic", "check"]))
def test_mutated_models_give_a_result_or_one_line(tmp_path_factory, capsys, case, command):
    run_cli(tmp_path_factory.mktemp("fuzz"), mutate(SEED_MODEL, *case), command, capsys)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=MUTATIONS, command=st.sampled_from(["tinyml", "classic", "compare", "check"]))
def test_mutated_models_many(tmp_path_factory, capsys, case, command):
    run_cli(tmp_path_factory.mktemp("fuzz"), mutate(SEED_MODEL, *case), command, capsys)


def _float_model() -> bytes:
    from tflite_builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor((1, 4), "FLOAT32")
    w = b.tensor((2, 4), "FLOAT32", data=[[1, 2, 3, 4], [5, 6, 7, 8]])
    y = b.tensor((1, 2), "FLOAT32")
    b.op("FULLY_CONNECTED", [x, w, -1], [y])
    b.io([x], [y])
    return b.build()


def _unsupported_op_model() -> bytes:
    from tflite_builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor((1, 4), scale=0.1)
    y = b.tensor((1, 4), scale=0.1)
    b.op("BATCH_MATMUL", [x, x], [y])
    b.io([x], [y])
    return b.build()


@pytest.mark.parametrize("name,data,expect", [
    ("empty", b"", "0 bytes"),
    ("text", b"hello, this is not a model at all\n" * 4, ""),
    ("truncated", SEED_MODEL[: len(SEED_MODEL) // 2], ""),
    ("float", None, "float"),
    ("unsupported", None, "BATCH_MATMUL"),
])
@pytest.mark.parametrize("command", ["tinyml", "classic", "compare", "check"])
def test_named_bad_models(tmp_path, capsys, name, data, expect, command):
    if name == "float":
        data = _float_model()
    elif name == "unsupported":
        data = _unsupported_op_model()
    model = tmp_path / "bad.tflite"
    model.write_bytes(data)
    argv = {"check": ["check", str(model), "--path", "classic", "--max-ram", "16K"],
            "compare": ["compare", str(model)]}.get(command, ["run", str(model), "--path", command])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert expect.lower() in err.lower()
