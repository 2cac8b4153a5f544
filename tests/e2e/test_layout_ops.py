"""The data-movement and resize operators (mcusim/operators/transform.py, resize.py) on the stacks
the other suites do not cover for them: real TFLM (tflm path) on the converter-made single-op
models of tests/data, and the classic path's views of SPLIT / SLICE / TRANSPOSE / GATHER
(each output one contiguous run of the input: no code, no copy). tinyml and classic ref/opt on
every op model run in test_tinyml.py / test_classic.py; classic cmsis-nn in
test_classic_cmsis_nn.py; the numpy reference against tflite-micro in test_reference_vs_tflm.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc
from tflite_builder import ModelBuilder

from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import load_model, parse_model
from mcusim.simulator.board import get_board
from mcusim.stacks.classic.generator import Generator
from mcusim.stacks.runner import run_model

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BOARD = get_board("stm32f411ce")
MODELS = ["op_transpose_4d", "op_split", "op_split_v", "op_slice", "op_gather_axis0",
          "op_resize_nearest_align_corners", "op_resize_bilinear_half_pixel"]


def _tree_or_skip() -> None:
    if not os.environ.get("MCUSIM_TFLM_DIR") and not (ROOT.parent / "shared" / "third_party" / "tflite-micro").is_dir():
        pytest.skip("no TFLM tree (MCUSIM_TFLM_DIR)")


@needs_gcc
@pytest.mark.parametrize("stem", [pytest.param(m, marks=[] if m == "op_transpose_4d" else [pytest.mark.slow])
                                  for m in MODELS])
def test_real_tflm_runs_them_bit_exact(stem: str) -> None:
    """TFLM's reference kernels registered through MicroMutableOpResolver from the tree; run_model
    fails on any output that differs from the reference. TRANSPOSE also checks the arena search:
    a too-small arena faults in TFLM's TransposePrepare, which must count as too small."""
    _tree_or_skip()
    rep = run_model(DATA / f"{stem}.tflite", "tflm", BOARD, kernels="ref").report
    assert rep["reference_match"]
    assert [op["type"] for op in rep["ops"]] == [op.type for op in load_model(DATA / f"{stem}.tflite").ops]


def _generated(raw_or_path: bytes | Path) -> Generator:
    graph = load_model(raw_or_path) if isinstance(raw_or_path, Path) else parse_model(raw_or_path)
    gen = Generator(graph, "m")
    gen.run()
    return gen


def _folded(raw_or_path: bytes | Path) -> tuple[dict[str, str], list[str]]:
    gen = _generated(raw_or_path)
    return {op.type: why for op, why in gen.folded}, [s.kernel for s in gen.steps]


def test_classic_makes_outer_splits_and_contiguous_selections_views() -> None:
    folded, kernels = _folded(DATA / "op_split.tflite")  # 1x6x4 split along axis 1: three runs
    assert folded["SPLIT"] == "view of tensor 0 at elements [0, 8, 16]" and kernels == []
    folded, kernels = _folded(DATA / "op_split_v.tflite")  # along the last axis: interleaved
    assert "SPLIT_V" not in folded and kernels == ["mcu_split_s8"]
    folded, kernels = _folded(DATA / "op_slice.tflite")
    assert "SLICE" not in folded and kernels == ["mcu_slice_s8"]


def _chain() -> bytes:
    """SLICE of whole rows, GATHER of consecutive rows, TRANSPOSE moving only a 1-axis: all
    views; then an ADD so something runs."""
    b = ModelBuilder()
    i32 = lambda v: b.tensor((len(v),), "INT32", data=np.array(v, np.int32))  # noqa: E731
    x = b.tensor((1, 6, 4), scale=0.1, zero_point=1)
    s = b.tensor((1, 4, 4), scale=0.1, zero_point=1)
    g = b.tensor((1, 2, 4), scale=0.1, zero_point=1)
    t = b.tensor((2, 1, 4), scale=0.1, zero_point=1)
    y = b.tensor((2, 1, 4), scale=0.2, zero_point=0)
    b.op("SLICE", [x, i32([0, 1, 0]), i32([1, 4, -1])], [s])
    b.op("GATHER", [s, i32([2, 3])], [g], axis=1)
    b.op("TRANSPOSE", [g, i32([1, 0, 2])], [t])
    b.op("ADD", [t, t], [y])
    return b.io([x], [y]).build()


def test_classic_views_slice_gather_transpose_when_contiguous() -> None:
    gen = _generated(_chain())
    assert {op.type: why for op, why in gen.folded} == {
        "SLICE": "view of tensor 0 at element 4", "GATHER": "view of tensor 1 at element 8",
        "TRANSPOSE": "view of tensor 2 at element 0"}
    assert [s.kernel for s in gen.steps] == ["mcu_add_s8"]
    # every view resolves to the graph input's buffer: rows 3 and 4 of x, element 12 on
    assert (gen.locs[3].kind, gen.locs[3].key, gen.locs[3].offset) == ("arena", 0, 12)


@needs_gcc
def test_classic_view_chain_is_bit_exact(tmp_path: Path) -> None:
    path = tmp_path / "chain.tflite"
    path.write_bytes(_chain())
    graph = load_model(path)
    x = (np.arange(24) * 37 % 256 - 128).astype(np.int8).reshape(1, 6, 4)
    for kernels in ("ref", "opt"):
        rep = run_model(path, "classic", BOARD, kernels=kernels, inputs=[x])
        assert np.array_equal(rep.outputs[0], run_graph(graph, [x])[0])
