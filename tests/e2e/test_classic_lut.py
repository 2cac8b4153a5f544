"""Lookup-table activations on the classic path (`--lut-activations`): swish (x * sigmoid(x),
LOGISTIC + MUL fused into one table), a parametric leaky ReLU (PRELU with one alpha) and the
pointwise ops, each as a 256-entry int8 table built on the host from the reference op. The
outputs must stay bit-exact with tflite-micro, and the tables must be faster than the kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc
from tflite_builder import ModelBuilder

from mcusim.errors import McusimError
from mcusim.frontend.graphinfo import default_inputs
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import get_board
from mcusim.stacks.runner import run_model

pytestmark = needs_gcc
BOARD = get_board("stm32f411ce")


def swish_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 4, 4, 8), scale=0.06, zero_point=-3)
    s = b.tensor((1, 4, 4, 8), scale=1 / 256, zero_point=-128)  # TFLM's LOGISTIC output
    y = b.tensor((1, 4, 4, 8), scale=0.035, zero_point=-118)
    b.op("LOGISTIC", [x], [s])
    b.op("MUL", [x, s], [y], fused_activation_function="NONE")
    return b.io([x], [y]).build()


def scalar_prelu_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 64), scale=0.05, zero_point=4)
    alpha = b.tensor((1,), scale=0.002, zero_point=0, data=[77])  # one alpha: 0.154
    y = b.tensor((1, 64), scale=0.04, zero_point=-20)
    b.op("PRELU", [x, alpha], [y])
    return b.io([x], [y]).build()


def tflm(data: bytes, x: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(data)
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0)


@pytest.mark.parametrize("make", [swish_model, scalar_prelu_model], ids=["swish", "scalar_prelu"])
def test_lut_models_bit_exact_and_faster(tmp_path, make):
    data = make()
    model = tmp_path / "m.tflite"
    model.write_bytes(data)
    g = load_model(model)
    x = np.random.default_rng(3).integers(-128, 128, g.input_tensors()[0].shape).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    lut = run_model(model, "classic", BOARD, "opt", str(tmp_path / "x.npy"), lut_activations=True)
    plain = run_model(model, "classic", BOARD, "opt", str(tmp_path / "x.npy"))
    np.testing.assert_array_equal(lut.outputs[0], tflm(data, x))
    np.testing.assert_array_equal(plain.outputs[0], lut.outputs[0])
    assert lut.report["cycles"] < plain.report["cycles"]
    kernels = {f["name"] for f in lut.report["functions"]}
    assert "mcu_lut_s8" in kernels
    if make is swish_model:
        assert [o["type"] for o in lut.report["ops"]] == ["MUL"]  # LOGISTIC fused away
        assert lut.report["folded_ops"][0]["type"] == "LOGISTIC"


def test_bundled_leaky_relu_model_with_tables(tmp_path):
    path = Path(__file__).resolve().parents[2] / "models" / "ae_anomaly_leaky.tflite"
    g = load_model(path)
    lut = run_model(path, "classic", BOARD, "opt", lut_activations=True)
    np.testing.assert_array_equal(lut.outputs[0], tflm(path.read_bytes(), default_inputs(g)[0]))
    leaky = [o for o in lut.report["ops"] if o["type"] == "LEAKY_RELU"]
    assert len(leaky) == 5


def test_lut_is_a_classic_option_only():
    path = Path(__file__).resolve().parents[2] / "models" / "ae_anomaly_leaky.tflite"
    with pytest.raises(McusimError, match="classic-path option"):
        run_model(path, "tinyml", BOARD, "opt", lut_activations=True)
