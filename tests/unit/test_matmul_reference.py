"""TRANSPOSE_CONV and BATCH_MATMUL: the numpy reference (mcusim/operators/transpose_conv.py,
batch_matmul.py) equals the tflite-micro interpreter bit for bit on the corner models of
tests/matmul_models.py (the converter-made files are covered by test_reference_vs_tflm.py),
and the specs' MAC counts and checks."""

from __future__ import annotations

import numpy as np
import pytest
from matmul_models import CORNERS
from tflite_builder import ModelBuilder, tflm_refusal

from mcusim.errors import ModelError
from mcusim.frontend.graphinfo import op_macs
from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import parse_model

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")


def _tflm(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    interp = runtime.Interpreter.from_bytes(data, arena_size=1 << 20)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [np.asarray(interp.get_output(i)) for i in range(len(parse_model(data).outputs))]


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corner_matches_tflm(name: str) -> None:
    data = CORNERS[name]()
    assert tflm_refusal(data) is None
    graph = parse_model(data)
    for seed in (0, 1, 2):
        rng = np.random.default_rng(seed)
        inputs = [rng.integers(-128, 128, t.shape).astype(np.int8) for t in graph.input_tensors()]
        ours, theirs = run_graph(graph, inputs), _tflm(data, inputs)
        for got, want in zip(ours, theirs):
            assert np.array_equal(np.asarray(got).reshape(want.shape), want), f"{name}, seed {seed}"


def test_macs_count_products_inside_the_output() -> None:
    # stride 2 SAME 1x1 kernel on 3x3: every input pixel lands once -> 9 pixels x 4 x 3 per image
    g = parse_model(CORNERS["tconv_k1_s2_same_batch2"]())
    assert op_macs(g, g.ops[0]) == 2 * 9 * 4 * 3
    g = parse_model(CORNERS["bmm_broadcast_both_axes"]())
    assert op_macs(g, g.ops[0]) == 3 * 2 * 4 * 5 * 8


def test_mismatched_depth_is_a_model_error() -> None:
    b = ModelBuilder()
    a, c = b.tensor((4, 6), scale=0.1), b.tensor((5, 5), scale=0.1)
    y = b.tensor((4, 5), scale=0.1)
    b.op("BATCH_MATMUL", [a, c], [y])
    with pytest.raises(ModelError, match="accumulate over 6 and 5"):
        parse_model(b.io([a, c], [y]).build())


def test_nonzero_filter_zero_point_is_refused() -> None:
    b = ModelBuilder()
    shape = b.tensor((4,), "INT32", data=np.array([1, 4, 4, 2], np.int32))
    w = b.tensor((2, 2, 2, 3), data=np.ones((2, 2, 2, 3), np.int8), scale=0.1, zero_point=3)
    x = b.tensor((1, 2, 2, 3), scale=0.1)
    y = b.tensor((1, 4, 4, 2), scale=0.1)
    b.op("TRANSPOSE_CONV", [shape, w, x], [y], padding="VALID", stride_h=2, stride_w=2)
    with pytest.raises(ModelError, match="non-zero zero point"):
        parse_model(b.io([x], [y]).build())
