"""TRANSPOSE_CONV and BATCH_MATMUL on the simulated MCU, bit-exact with the tflite-micro
interpreter: converter-made models (tests/data: the transposed-convolution decoder, the
batch-matmul single-op files) and the corner models of tests/matmul_models.py, through tinyml
and classic with mcusim's ref and opt kernels, classic with CMSIS-NN
(arm_transpose_conv_wrapper_s8, arm_batch_matmul_s8 or the named fallback) and the tflm path.
The op_* files also run in test_tinyml.py and test_classic.py. The bench_* models (tens of
thousands of MACs, the cycle comparisons of the docs) are in the slow tier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matmul_models import CORNERS
from simhelpers import needs_gcc

from mcusim.frontend.tflite import load_model, parse_model
from mcusim.simulator.board import get_board
from mcusim.stacks.runner import run_model
from mcusim.stacks.tflmtree import TflmTreeError, find_tree

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BOARD = get_board("stm32f411ce")  # Cortex-M4F: the opt kernels use the DSP extension
OWN = ("tinyml/ref", "tinyml/opt", "classic/ref", "classic/opt")


def _has_tree() -> bool:
    try:
        return find_tree(cwd=ROOT).has_cmsis_nn
    except TflmTreeError:
        return False


needs_tree = pytest.mark.skipif(not _has_tree(), reason="no TFLM tree with CMSIS-NN (MCUSIM_TFLM_DIR)")


def _tflm(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    interp = runtime.Interpreter.from_bytes(data, arena_size=4 << 20)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [np.asarray(interp.get_output(i)) for i in range(len(parse_model(data).outputs))]


def _run(path: Path, stack: str, seed: int = 0) -> dict:
    """Run ``path`` on ``stack`` (path/kernels); its outputs must equal tflite-micro's."""
    graph = load_model(path)
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(-128, 128, t.shape).astype(np.int8) for t in graph.input_tensors()]
    where, kernels = stack.split("/")
    result = run_model(path, where, BOARD, kernels, graph=graph, inputs=inputs)
    for k, (got, want) in enumerate(zip(result.outputs, _tflm(path.read_bytes(), inputs))):
        assert np.array_equal(np.asarray(got).reshape(want.shape), want), f"{path.name} {stack} output {k}"
    return result.report


@needs_gcc
@pytest.mark.parametrize("stack", OWN)
def test_decoder_is_bit_exact(stack: str) -> None:
    report = _run(DATA / "net_tconv_decoder.tflite", stack)
    assert [op["type"] for op in report["ops"]] == ["TRANSPOSE_CONV", "TRANSPOSE_CONV"]


@needs_gcc
@pytest.mark.parametrize("stack", OWN)
@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corner_is_bit_exact(name: str, stack: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(CORNERS[name]())
    _run(path, stack, seed=1)


@needs_gcc
def test_opt_kernels_beat_ref_on_the_decoder() -> None:
    """The DSP kernels are the faster ones (the cycles are measured, not assumed)."""
    path = DATA / "net_tconv_decoder.tflite"
    ref, opt = (_run(path, f"classic/{k}") for k in ("ref", "opt"))
    for r, o in zip(ref["ops"], opt["ops"]):
        assert o["cycles"] < r["cycles"] / 2, (r, o)


@needs_gcc
@needs_tree
@pytest.mark.parametrize("model", ["net_tconv_decoder", "op_batch_matmul_const", "op_batch_matmul_adj_y",
                                   "op_batch_matmul_adj_x"])
def test_cmsis_nn_is_bit_exact(model: str) -> None:
    """CMSIS-NN where it has the op (the adj_x product falls back to mcusim's opt kernel, named)."""
    report = _run(DATA / f"{model}.tflite", "classic/cmsis-nn")
    kernels = {op["kernel"] for op in report["ops"]}
    if model == "op_batch_matmul_adj_x":
        assert kernels == {"mcu_batch_matmul_s8"}
    else:
        assert kernels <= {"arm_transpose_conv_wrapper_s8", "arm_batch_matmul_s8"}, kernels


@needs_gcc
@needs_tree
@pytest.mark.parametrize("model, kernels", [
    ("net_tconv_decoder", "cmsis-nn"), ("op_batch_matmul_adj_xy", "ref"),
    pytest.param("net_tconv_decoder", "ref", marks=pytest.mark.slow),
    pytest.param("op_batch_matmul_adj_xy", "cmsis-nn", marks=pytest.mark.slow)])
def test_tflm_path_runs_the_ops(model: str, kernels: str) -> None:
    _run(DATA / f"{model}.tflite", f"tflm/{kernels}")


@needs_gcc
@needs_tree
@pytest.mark.slow
@pytest.mark.parametrize("stack", [*OWN, "classic/cmsis-nn"])
@pytest.mark.parametrize("model", ["bench_tconv_decoder", "bench_batch_matmul_attn", "bench_batch_matmul_const"])
def test_bench_models_are_bit_exact(model: str, stack: str) -> None:
    _run(DATA / f"{model}.tflite", stack)
