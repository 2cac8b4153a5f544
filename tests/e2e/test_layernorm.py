"""Converter-made LayerNormalization blocks (tests/data/net_layernorm*.tflite: Dense ->
LayerNormalization -> Dense; Keras's layer becomes MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, MUL and
a float NEG between a DEQUANTIZE and a QUANTIZE; the written-out form has SUB instead) on the
simulated Cortex-M4F through every stack: bit-exact with the tflite-micro Python interpreter
and with mcusim's numpy reference, on several random inputs."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc

from mcusim.frontend.graph import Graph
from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import get_board
from mcusim.stacks.deploy import Firmware, run_firmware
from mcusim.stacks.runner import build_path

pytestmark = needs_gcc
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
MODELS = [DATA / "net_layernorm.tflite", DATA / "net_layernorm_written_out.tflite"]
BOARD = "stm32f411ce"
SEEDS = (0, 1, 2)


def _inputs(graph: Graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, t.size).astype(np.int8).reshape(t.shape) for t in graph.input_tensors()]


def _tflite_micro(model: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    interp = runtime.Interpreter.from_bytes(model.read_bytes())
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [np.asarray(interp.get_output(i)) for i in range(len(load_model(model).outputs))]


@functools.cache
def _firmware(model: Path, path: str, kernels: str) -> tuple[Graph, Firmware]:
    graph = load_model(model)
    return graph, build_path(graph, path, get_board(BOARD), kernels, False, False, None, model)


def _check(model: Path, path: str, kernels: str, seeds: tuple[int, ...] = SEEDS) -> dict:
    graph, fw = _firmware(model, path, kernels)
    report: dict = {}
    for seed in seeds:
        inputs = _inputs(graph, seed)
        result = run_firmware(fw, graph, inputs)
        for name, want in (("tflite-micro", _tflite_micro(model, inputs)), ("numpy reference", run_graph(graph, inputs))):
            for k, (got, w) in enumerate(zip(result.outputs, want)):
                w = np.asarray(w).reshape(got.shape)
                assert np.array_equal(got, w), (f"{model.name} {path}/{kernels} seed {seed}: output {k} differs "
                                                f"from {name} in {int(np.sum(got != w))} of {got.size} values")
        report = result.report
    return report


@pytest.mark.parametrize("kernels", ["ref", "opt"])
@pytest.mark.parametrize("path", ["tinyml", "classic"])
@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_layernorm_block_is_bit_exact(model: Path, path: str, kernels: str) -> None:
    report = _check(model, path, kernels)
    ran = {o["type"] for o in report["ops"]}
    assert {"MEAN", "SQUARED_DIFFERENCE", "RSQRT", "MUL", "ADD"} <= ran
    assert ("NEG" in ran) == (model.stem == "net_layernorm") and ("SUB" in ran) != (model.stem == "net_layernorm")


_SLOW = pytest.mark.slow


@pytest.mark.parametrize(("stem", "kernels"), [
    ("net_layernorm", "cmsis-nn"),
    pytest.param("net_layernorm", "ref", marks=_SLOW),
    pytest.param("net_layernorm_written_out", "cmsis-nn", marks=_SLOW),
    pytest.param("op_maximum_broadcast", "cmsis-nn", marks=_SLOW),
    pytest.param("op_minimum", "ref", marks=_SLOW),
])
def test_new_ops_run_on_tflm(stem: str, kernels: str) -> None:
    """TFLM's own kernels for the new ops (sub.cc, squared_difference.cc, elementwise.cc's RSQRT,
    neg.cc, maximum_minimum.cc or its cmsis_nn twin), registered in the generated resolver, on
    the simulator (about 45 s each: the exact arena search re-runs start-up)."""
    report = _check(DATA / f"{stem}.tflite", "tflm", kernels, seeds=(0,))
    assert report["path"] == "tflm" and report["kernels"] == kernels


def test_classic_cmsis_nn_runs_maximum_and_minimum_on_cmsis_nn() -> None:
    """arm_maximum_s8 / arm_minimum_s8 (the tree's CMSIS-NN has them), broadcasting included;
    SUB, SQUARED_DIFFERENCE and RSQRT fall back to mcusim's opt kernels, named."""
    for stem in ("op_maximum", "op_maximum_broadcast", "op_minimum"):
        rep = _check(DATA / f"{stem}.tflite", "classic", "cmsis-nn")
        assert rep["fallbacks"] == [] and rep["ops"][0]["kernel"].startswith("arm_m")
    rep = _check(MODELS[1], "classic", "cmsis-nn")
    fell = {f["type"]: f["reason"] for f in rep["fallbacks"]}
    assert {"SUB", "SQUARED_DIFFERENCE", "RSQRT"} <= set(fell)
    assert all("CMSIS-NN has no int8" in fell[t] for t in ("SUB", "SQUARED_DIFFERENCE", "RSQRT"))
