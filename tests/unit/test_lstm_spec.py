"""The LSTM spec's pieces that do not need a simulator: the sigmoid table read from the TFLM
tree (what the reference and the kernels get, the errors without one), options and MACs read from a converter model, refusals."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pytest

from mcusim.errors import ModelError
from mcusim.frontend.graph import Graph
from mcusim.frontend.graphinfo import op_macs
from mcusim.frontend.tflite import load_model
from mcusim.frontend.validate import validate_graph
from mcusim.operators import lstm
from mcusim.stacks import tflmtables
from mcusim.stacks.tflmtree import _REQUIRED as TREE_FILES
from mcusim.stacks.tflmtree import TflmTreeMissing, find_tree

ROOT = Path(__file__).resolve().parents[2]
KWS = ROOT / "tests" / "data" / "net_lstm_kws.tflite"


def _numbers(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"\d+", text)]


TREE = Path(os.environ.get("MCUSIM_TFLM_DIR", "/work/shared/third_party/tflite-micro"))
COMMON = TREE / tflmtables.COMMON_H


@pytest.mark.skipif(not COMMON.is_file(), reason="no TFLM tree")
def test_sigmoid_table_is_the_trees_and_what_the_kernels_get(tmp_path: Path) -> None:
    tree = find_tree(TREE)
    values = tflmtables.load(tree)
    tflm = _numbers(COMMON.read_text().split("sigmoid_table_uint16[256] = {")[1].split("}")[0])
    assert list(values) == tflm and len(values) == 256 and tflmtables.sigmoid_table() == values
    c_file = tflmtables.sigmoid_table_source(tmp_path, tree)  # what every image that needs it compiles
    assert c_file.name == "mcu_sigmoid_table.c" and str(COMMON) in c_file.read_text()
    assert _numbers(c_file.read_text().split("mcu_sigmoid_table[256] = {")[1].split("}")[0]) == tflm
    header = (ROOT / "kernels" / "src" / "common" / "mcu_nn_s16_act.h").read_text()
    assert "extern const uint16_t mcu_sigmoid_table[256];" in header and "65534" not in header


def test_the_lstm_and_int16_sigmoid_tanh_need_the_table() -> None:
    data = ROOT / "tests" / "data"
    assert tflmtables.needs_sigmoid_table(load_model(KWS))
    assert tflmtables.needs_sigmoid_table(load_model(data / "op16x8_tanh.tflite"))
    assert not tflmtables.needs_sigmoid_table(load_model(data / "op_logistic.tflite"))  # int8
    assert not tflmtables.needs_sigmoid_table(op_types=["CONV_2D", "FULLY_CONNECTED", "SOFTMAX"])
    assert tflmtables.needs_sigmoid_table(op_types=["CONV_2D", "UNIDIRECTIONAL_SEQUENCE_LSTM"])
    assert tflmtables.needs_sigmoid_table(op_types=["LOGISTIC"])  # an updatable image may get 16x8


def _fake_tree(root: Path, common_h: str | None) -> Path:
    for rel in (*TREE_FILES, *([tflmtables.COMMON_H] if common_h is not None else [])):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(common_h if rel == tflmtables.COMMON_H else "")
    return root


@pytest.mark.parametrize("common_h, says", [
    (None, "cannot read sigmoid_table_uint16"),
    ("static const uint16_t other[2] = {1, 2};", "has no `sigmoid_table_uint16[256]"),
    ("const uint16_t sigmoid_table_uint16[256] = {" + ", ".join(["5", "4"] * 128) + "};", "not 256 non-decreasing"),
    ("const uint16_t sigmoid_table_uint16[256] = {" + ", ".join(["1"] * 255) + "};", "(255 values read)"),
])
def test_a_tree_without_a_usable_table_is_one_error_naming_the_file(tmp_path: Path, common_h: str | None,
                                                                     says: str) -> None:
    tree = find_tree(_fake_tree(tmp_path, common_h))
    with pytest.raises(tflmtables.TflmTableError) as err:
        tflmtables.load(tree)
    assert str(tree.root / tflmtables.COMMON_H) in str(err.value) and says in str(err.value)
    assert "\n" not in str(err.value)


def test_no_tree_is_one_error_naming_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCUSIM_TFLM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TflmTreeMissing, match="sigmoid_table_uint16 from a TFLM tree's tensorflow/lite/kernels/"
                                               "internal/common.h: no TensorFlow Lite Micro tree given"):
        tflmtables.tree_for(load_model(KWS))


def test_int16_activations_are_monotonic_and_symmetric() -> None:
    x = np.arange(1, 32768, dtype=np.int64)
    for f, zero, mirror in ((lstm.sigmoid_s16, 16384, (32767, 32768)),
                            (lambda v: lstm.tanh_s16(v, -12), 0, (-1, 0))):
        pos, neg = f(x).astype(np.int64), f(-x).astype(np.int64)
        assert f(np.array([0]))[0] == zero
        assert np.all(np.diff(pos) >= 0) and np.all(np.diff(neg) <= 0)
        assert set(np.unique(pos + neg)) <= set(mirror)  # f(-x) = 1 - f(x) / -f(x), to one unit
    assert lstm.tanh_s16(np.array([32767]), -12)[0] > 32700  # tanh(8) saturates


def test_options_macs_and_params_of_a_converter_model() -> None:
    g = load_model(KWS)
    op = next(o for o in g.ops if o.type == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert op.options["fused_activation_function"] == "TANH" and op.options["time_major"] is False
    p = lstm.prepare_lstm(g, op)
    x = g.tensors[op.inputs[0]]
    assert (p.batches, p.steps, p.input_size) == (x.shape[0], x.shape[1], x.shape[2])
    cell = g.tensors[op.inputs[lstm.CELL_STATE]]
    assert 2.0 ** p.cell_scale_power == float(cell.scale[0]) and p.forget_multiplier == (1 << 30, -14)
    assert op_macs(g, op) == p.batches * p.steps * 4 * p.state_size * (p.input_size + p.state_size)


def _with(graph: Graph, op_index: int, **changes: object) -> Graph:
    ops = list(graph.ops)
    ops[op_index] = dataclasses.replace(ops[op_index], **changes)
    return dataclasses.replace(graph, ops=ops)


@pytest.mark.parametrize("position, what", [(9, "peephole"), (16, "projection"), (20, "layer normalization"),
                                            (1, "CIFG")])
def test_refuses_what_it_does_not_implement(position: int, what: str) -> None:
    g = load_model(KWS)
    i = next(o.index for o in g.ops if o.type == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    inputs = list(g.ops[i].inputs)
    inputs[position] = inputs[2] if position != 1 else -1  # any tensor where none belongs
    with pytest.raises(ModelError, match=what):
        validate_graph(_with(g, i, inputs=tuple(inputs)))


def test_refuses_another_cell_activation() -> None:
    g = load_model(KWS)
    i = next(o.index for o in g.ops if o.type == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    options = {**g.ops[i].options, "fused_activation_function": "RELU"}
    with pytest.raises(ModelError, match="TANH"):
        validate_graph(_with(g, i, options=options))


@pytest.mark.parametrize("time_major", [False, True])
def test_time_major_is_the_same_recurrence(time_major: bool) -> None:
    """The reference on a [T, B, I] layout equals it on [B, T, I] transposed: batches are
    independent rows (TFLM runs all batches per step when time-major, one batch at a time
    otherwise)."""
    g = load_model(ROOT / "tests" / "data" / "op_lstm_sequences.tflite")
    op = g.ops[0]
    p = lstm.prepare_lstm(g, op)
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (3, p.steps, p.input_size)).astype(np.int8)
    args = ([g.tensors[op.inputs[k]].data for k in lstm.INPUT_WEIGHTS],
            [g.tensors[op.inputs[k]].data for k in lstm.RECURRENT_WEIGHTS],
            [g.tensors[op.inputs[k]].data for k in lstm.BIASES])
    batch_major = lstm.lstm(dataclasses.replace(p, batches=3), x, *args)
    if time_major:
        y = lstm.lstm(dataclasses.replace(p, batches=3, time_major=True), np.swapaxes(x, 0, 1), *args)
        np.testing.assert_array_equal(np.swapaxes(y, 0, 1), batch_major)
    else:  # each batch row alone gives the same sequence
        for b in range(3):
            np.testing.assert_array_equal(lstm.lstm(p, x[b:b + 1], *args)[0], batch_major[b])
