"""`mcusim ops`: the operators per stack and kernel flavour, read from the code's own tables,
and docs/ops.md kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mcusim
from mcusim.cli import main
from mcusim.frontend.validate import supported_ops
from mcusim.operators.support import STACKS, ops_markdown, ops_table
from mcusim.stacks.tflmtree import TflmTreeError, find_tree

ROOT = Path(__file__).resolve().parents[2]


def _tree_or_skip() -> None:
    try:
        find_tree(None, None, ROOT)
    except TflmTreeError as e:
        pytest.skip(f"no TFLM tree: {e}")


def cell(table: dict, op: str, stack: str) -> dict:
    return next(o for o in table["ops"] if o["op"] == op)["stacks"][stack]


def test_rows_are_the_front_end_ops_and_columns_every_stack():
    t = mcusim.ops().to_dict()
    assert [o["op"] for o in t["ops"]] == list(supported_ops())
    assert t["stacks"] == list(STACKS) and all(set(o["stacks"]) == set(STACKS) for o in t["ops"])


def test_limits_come_from_the_code():
    t = ops_table()
    dw = cell(t, "DEPTHWISE_CONV_2D", "tinyml/opt")
    assert dw["supported"] and any("without the DSP extension" in x and "reference kernel" in x for x in dw["limits"])
    assert not cell(t, "DEPTHWISE_CONV_2D", "tinyml/ref")["limits"]
    # CMSIS-NN has no TANH: the classic generator falls back to mcusim's opt kernel (its spec has no cmsis_nn emitter)
    tanh = cell(t, "TANH", "classic/cmsis-nn")
    assert tanh["runs"] == "mcusim opt: mcu_tanh_s16, mcu_tanh_s8"
    assert "CMSIS-NN has no int8 or 16x8 TANH kernel" in tanh["limits"][0]
    conv = cell(t, "CONV_2D", "classic/cmsis-nn")
    assert conv["runs"] == "CMSIS-NN arm_convolve_wrapper_s16, arm_convolve_wrapper_s8"
    assert cell(t, "DEPTHWISE_CONV_2D", "classic/cmsis-nn")["runs"] == \
        "CMSIS-NN arm_depthwise_conv_wrapper_s16, arm_depthwise_conv_wrapper_s8"
    assert any("int32 sum in arm_convolve_wrapper_s16" in x for x in conv["limits"])
    assert any("run-time paddings" in x for x in cell(t, "PAD", "classic/ref")["limits"])
    assert cell(t, "RESHAPE", "classic/opt")["runs"] == "a view of its input (no code)"


def test_a_new_registry_entry_shows_up(monkeypatch):
    from dataclasses import replace

    from mcusim import operators

    reg = operators.registry()
    leaky = reg["LEAKY_RELU"]
    monkeypatch.setitem(reg, "LEAKY_RELU", replace(leaky, tinyml=operators.Tinyml("mcu_op_my_leaky", "leaky_relu.c")))
    assert cell(ops_table(), "LEAKY_RELU", "tinyml/opt")["runs"].startswith("mcu_op_my_leaky (leaky_relu.c)")
    monkeypatch.setitem(reg, "LEAKY_RELU", replace(leaky, tinyml=None))
    assert not cell(ops_table(), "LEAKY_RELU", "tinyml/opt")["supported"]


def test_tflm_columns_from_the_tree():
    _tree_or_skip()
    t = ops_table()
    assert cell(t, "CONV_2D", "tflm/cmsis-nn")["runs"] == "AddConv2D: cmsis_nn/conv.cc"
    tanh = cell(t, "TANH", "tflm/cmsis-nn")
    assert tanh["runs"] == "AddTanh: tanh.cc" and "no cmsis_nn/ port" in tanh["limits"][0]
    # read from the tree's Prepare, as the tflm path's refusal of such a model
    (fc,) = cell(t, "FULLY_CONNECTED", "tflm/cmsis-nn")["limits"]
    assert "int16 input with per-channel weights" in fc and not cell(t, "FULLY_CONNECTED", "tflm/ref")["limits"]


def test_without_a_tree_the_tflm_columns_say_so(tmp_path, monkeypatch):
    monkeypatch.delenv("MCUSIM_TFLM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    t = ops_table()
    assert t["tflm_missing"] and cell(t, "ADD", "tflm/ref") is None
    assert "The tflm columns need a TensorFlow Lite Micro tree" in ops_markdown(t)


def test_cli_table_json_and_op_detail(tmp_path, capsys):
    out = tmp_path / "ops.json"
    assert main(["ops", "--json", str(out), "--op", "depthwise_conv_2d"]) == 0
    text = capsys.readouterr().out
    assert "DEPTHWISE_CONV_2D" in text and "without the DSP extension" in text
    assert json.loads(out.read_text())["schema"] == "mcusim.ops/1"
    assert main(["ops", "--op", "CUSTOM"]) == 2


def test_docs_ops_md_is_current():
    _tree_or_skip()
    want = ops_markdown(ops_table())
    assert (ROOT / "docs" / "ops.md").read_text() == want, \
        "docs/ops.md is out of date: run `mcusim ops --markdown docs/ops.md`"
