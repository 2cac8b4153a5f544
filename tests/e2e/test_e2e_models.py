"""Every bundled model through both paths and both kernel flavours on two cores (Cortex-M4F
and Cortex-M0+), outputs bit-exact with the tflite-micro Python interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc

from mcusim.errors import DoesNotFit
from mcusim.frontend.graphinfo import default_inputs
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import get_board
from mcusim.stacks.runner import run_model

pytestmark = needs_gcc
ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").glob("*.tflite"))
BOARDS = ("stm32f411ce", "stm32g071rb")


def tflm_outputs(model: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model.read_bytes())
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [it.get_output(i) for i in range(len(load_model(model).outputs))]


def _cases():
    """Default run: the Cortex-M0+ with the reference kernels. Slow: the Cortex-M4F (test_tinyml.py
    and test_classic.py run every bundled model there, both flavours, in the default run) and the
    M0+ with ``opt`` (without the DSP extension it compiles to the reference code)."""
    for model in MODELS:
        for path in ("tinyml", "classic"):
            for kernels in ("ref", "opt"):
                for board in BOARDS:
                    slow = (board, kernels) != ("stm32g071rb", "ref")
                    yield pytest.param(model, path, kernels, board, id=f"{model.stem}-{path}-{kernels}-{board}",
                                       marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("model, path, kernels, board", _cases())
def test_model_bit_exact_with_tflm(model, path, kernels, board):
    graph = load_model(model)
    try:
        result = run_model(model, path, get_board(board), kernels, graph=graph)
    except DoesNotFit as e:
        assert board == "stm32g071rb", e  # only the 36 KB-RAM part may be too small
        pytest.skip(str(e))
    want = tflm_outputs(model, default_inputs(graph))
    for got, ref in zip(result.outputs, want):
        np.testing.assert_array_equal(got, ref.reshape(got.shape))
    rep = result.report
    assert rep["cycles"] > 0 and 0 <= rep["dispatch_share"] < 1
    assert sum(rep["flash_breakdown"].values()) == rep["flash_bytes"]
    assert [o["index"] for o in rep["ops"]] == sorted(o["index"] for o in rep["ops"])
