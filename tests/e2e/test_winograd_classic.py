"""Winograd convolutions on the classic path (`--winograd`): every CONV_2D that
`mcusim.winograd.supported` accepts, with an output map of at least 4x4 (`worthwhile`), calls
mcu_conv_wino_s8 with its filter transformed on the host (int16 in weights.c); the others stay
on mcu_conv_s8. Outputs must stay bit-exact with
the int8 reference (run_model raises on a mismatch) and with tflite-micro."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc
from tflite_builder import ModelBuilder

from mcusim.cli import main
from mcusim.errors import McusimError
from mcusim.frontend.graphinfo import default_inputs
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import Board, get_board
from mcusim.stacks import winograd
from mcusim.stacks.runner import build_path, run_model

pytestmark = needs_gcc
ROOT = Path(__file__).resolve().parents[2]
CONV = ROOT / "tests" / "data" / "op_conv2d_pc_same_s1.tflite"  # 1x8x8x3 -> 3x3 s1 SAME -> 1x8x8x4
M4, M0PLUS = get_board("stm32f411ce"), get_board("stm32g071rb")


def tflm(data: bytes, x: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(data)
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0)


def generated_model_c(model: Path, board: Board, kernels: str) -> str:
    fw = build_path(load_model(model), "classic", board, kernels, winograd=True)
    return next(Path(p) for p in fw.sources if Path(p).name == "model.c").read_text()


def mixed_model() -> bytes:
    """A 3x3 stride-1 VALID conv with odd sizes everywhere (9x7 input -> 7x5 output: partial
    2x2 tiles; 5 input channels, 3 output channels: padded channel groups), per-channel
    weights and a fused ReLU, then a 3x3 stride-2 conv that does not qualify, then a 3x3
    stride-1 conv on a 4x3 map: supported, but below winograd.MIN_OUTPUT, so direct."""
    rng = np.random.default_rng(11)
    b = ModelBuilder()
    x = b.tensor((1, 9, 7, 5), scale=0.04, zero_point=-7)
    w1_scale = [0.011, 0.007, 0.013]
    w1 = b.tensor((3, 3, 3, 5), scale=w1_scale, zero_point=0,
                  data=rng.integers(-127, 128, (3, 3, 3, 5)))
    b1 = b.tensor((3,), "INT32", scale=[0.04 * s for s in w1_scale], zero_point=0,
                  data=rng.integers(-2000, 2000, 3))
    y1 = b.tensor((1, 7, 5, 3), scale=0.05, zero_point=-128)
    b.op("CONV_2D", [x, w1, b1], [y1], padding="VALID", stride_h=1, stride_w=1,
         dilation_h_factor=1, dilation_w_factor=1, fused_activation_function="RELU")
    w2 = b.tensor((2, 3, 3, 3), scale=0.02, zero_point=0, data=rng.integers(-127, 128, (2, 3, 3, 3)))
    y2 = b.tensor((1, 4, 3, 2), scale=0.06, zero_point=5)
    b.op("CONV_2D", [y1, w2], [y2], padding="SAME", stride_h=2, stride_w=2,
         dilation_h_factor=1, dilation_w_factor=1, fused_activation_function="NONE")
    w3 = b.tensor((2, 3, 3, 2), scale=0.02, zero_point=0, data=rng.integers(-127, 128, (2, 3, 3, 2)))
    y3 = b.tensor((1, 4, 3, 2), scale=0.05, zero_point=-3)
    b.op("CONV_2D", [y2, w3], [y3], padding="SAME", stride_h=1, stride_w=1,
         dilation_h_factor=1, dilation_w_factor=1, fused_activation_function="NONE")
    return b.io([x], [y3]).build()


@pytest.mark.parametrize("kernels", ["ref", "opt"])
def test_bundled_conv_bit_exact_on_m4(kernels):
    graph = load_model(CONV)
    wino = run_model(CONV, "classic", M4, kernels, graph=graph, winograd=True)  # raises on a mismatch
    plain = run_model(CONV, "classic", M4, kernels, graph=graph)
    want = tflm(CONV.read_bytes(), default_inputs(graph)[0])
    np.testing.assert_array_equal(wino.outputs[0], want.reshape(wino.outputs[0].shape))
    np.testing.assert_array_equal(wino.outputs[0], plain.outputs[0])
    rep = wino.report
    assert rep["reference_match"] and rep["winograd"] is True and rep["winograd_ops"] == [0]
    assert plain.report["winograd"] is False and plain.report["winograd_ops"] == []
    ran = {f["name"] for f in rep["functions"]}
    assert "mcu_conv_wino_s8" in ran and "mcu_conv_s8" not in ran
    # weights.c holds the int16 transform instead of the int8 filter: 32 bytes vs 9 per channel pair
    w = graph.tensors[graph.ops[0].inputs[1]]
    assert winograd.filter_bytes(w.shape) == 32 * 4 * 4  # O' = 4, C' = 4
    grown = rep["flash_breakdown"]["weights"] - plain.report["flash_breakdown"]["weights"]
    assert grown == winograd.filter_bytes(w.shape) - w.size
    src = generated_model_c(CONV, M4, kernels)
    assert "st = mcu_conv_wino_s8(" in src and "mcu_conv_s8(" not in src
    assert "Winograd F(2x2,3x3)" in src


def test_mixed_model_only_qualifying_convs_by_winograd(tmp_path):
    data = mixed_model()
    model = tmp_path / "mixed.tflite"
    model.write_bytes(data)
    graph = load_model(model)
    x = np.random.default_rng(5).integers(-128, 128, graph.input_tensors()[0].shape).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    for kernels in ("ref", "opt"):
        result = run_model(model, "classic", M4, kernels, str(tmp_path / "x.npy"), graph=graph, winograd=True)
        np.testing.assert_array_equal(result.outputs[0], tflm(data, x).reshape(result.outputs[0].shape))
        assert result.report["winograd_ops"] == [0]
        ran = {f["name"] for f in result.report["functions"]}
        assert {"mcu_conv_wino_s8", "mcu_conv_s8"} <= ran
    src = generated_model_c(model, M4, "opt")
    assert src.count("st = mcu_conv_wino_s8(") == 1 and src.count("st = mcu_conv_s8(") == 2
    assert winograd.supported((2, 3, 3, 2), (1, 1), (1, 1)) and not winograd.worthwhile(4, 3)


def test_bundled_conv_bit_exact_on_m0plus():
    graph = load_model(CONV)
    result = run_model(CONV, "classic", M0PLUS, "opt", graph=graph, winograd=True)
    want = tflm(CONV.read_bytes(), default_inputs(graph)[0])
    np.testing.assert_array_equal(result.outputs[0], want.reshape(result.outputs[0].shape))
    assert result.report["winograd_ops"] == [0]
    assert "mcu_conv_wino_s8" in {f["name"] for f in result.report["functions"]}
    assert "st = mcu_conv_wino_s8(" in generated_model_c(CONV, M0PLUS, "opt")


def test_winograd_is_a_classic_option_only(capsys):
    with pytest.raises(McusimError, match="classic-path option"):
        run_model(CONV, "tinyml", M4, "opt", winograd=True)
    code = main(["run", str(CONV), "--path", "tinyml", "--winograd"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--winograd" in err and "Traceback" not in err


# --- FULLY_CONNECTED by Winograd's inner-product identity (mcu_fully_connected_wino_s8) --------
KWS = ROOT / "models" / "kws_fc.tflite"  # 250 -> 64 -> 32 -> 16, per-channel, depth 250 = 4 x 62 + 2
FC_MODELS = sorted((ROOT / "tests" / "data").glob("op_fully_connected*.tflite"))


@pytest.mark.parametrize("kernels", ["ref", "opt"])
def test_fully_connected_kws_bit_exact_on_m4(kernels):
    graph = load_model(KWS)
    wino = run_model(KWS, "classic", M4, kernels, graph=graph, winograd=True)  # raises on a mismatch
    plain = run_model(KWS, "classic", M4, kernels, graph=graph)
    want = tflm(KWS.read_bytes(), default_inputs(graph)[0])
    np.testing.assert_array_equal(wino.outputs[0], want.reshape(wino.outputs[0].shape))
    np.testing.assert_array_equal(wino.outputs[0], plain.outputs[0])
    fcs = [op.index for op in graph.ops if op.type == "FULLY_CONNECTED"]
    # the 32 -> 16 layer (512 MACs) is below the crossover: it stays on the direct kernel
    assert fcs == [0, 1, 2] and wino.report["winograd_ops"] == [0, 1]
    fcs = fcs[:2]
    ran = {f["name"] for f in wino.report["functions"]}
    assert "mcu_fully_connected_wino_s8" in ran and "mcu_fully_connected_s8" in ran
    # 4 bytes of pair sums per output row, nothing else
    units = sum(graph.tensors[graph.ops[i].inputs[1]].shape[0] for i in fcs)
    grown = wino.report["flash_breakdown"]["weights"] - plain.report["flash_breakdown"]["weights"]
    assert grown == 4 * units
    if kernels == "opt":
        # measured: 38,506 against 45,437 cycles (0.85; 0.79 before the direct kernel's 4-row passes)
        assert wino.report["cycles"] < 0.9 * plain.report["cycles"]
    src = generated_model_c(KWS, M4, kernels)
    assert src.count("st = mcu_fully_connected_wino_s8(") == 2 and src.count("st = mcu_fully_connected_s8(") == 1
    assert "Winograd's inner-product identity" in src
    fw = build_path(graph, "classic", M4, kernels, winograd=True)
    weights_c = next(Path(p) for p in fw.sources if Path(p).name == "weights.c").read_text()
    assert "const int32_t op0_pair_sums[64] = {" in weights_c


@pytest.mark.parametrize("model", [m if i == 0 else pytest.param(m, marks=pytest.mark.slow)
                                   for i, m in enumerate(FC_MODELS)], ids=lambda p: p.stem)
def test_fully_connected_single_op_models_bit_exact(model, monkeypatch):
    """3-D input (batches), no bias, per-channel, fused ReLU: both flavours, against tflite-micro.
    These layers are below the measured crossover (winograd.fc_worthwhile), so --winograd leaves
    them direct; forcing the kernel checks its generated call on every variant."""
    graph = load_model(model)
    plain = run_model(model, "classic", M4, "opt", graph=graph, winograd=True)
    assert plain.report["winograd_ops"] == []
    monkeypatch.setattr(winograd, "fc_worthwhile", lambda depth, units: True)
    want = tflm(model.read_bytes(), default_inputs(graph)[0])
    for kernels in ("ref", "opt"):
        result = run_model(model, "classic", M4, kernels, graph=graph, winograd=True)
        np.testing.assert_array_equal(result.outputs[0], want.reshape(result.outputs[0].shape))
        assert result.report["winograd_ops"] == [0]
        assert "mcu_fully_connected_wino_s8" in {f["name"] for f in result.report["functions"]}


def test_fully_connected_with_weights_offset_stays_direct(tmp_path, monkeypatch):
    """weights_offset != 0 (asymmetric int8 weights, outside TFLite's spec but in mcusim's
    reference): the generator keeps mcu_fully_connected_s8; a second FC with symmetric weights
    goes by the identity (forced: both layers are below the size crossover); outputs bit-exact
    with the numpy reference (run_model checks)."""
    monkeypatch.setattr(winograd, "fc_worthwhile", lambda depth, units: True)
    rng = np.random.default_rng(3)
    b = ModelBuilder()
    x = b.tensor((1, 13), scale=0.05, zero_point=3)
    w1 = b.tensor((9, 13), scale=0.01, zero_point=5, data=rng.integers(-120, 120, (9, 13)))
    y1 = b.tensor((1, 9), scale=0.1, zero_point=-2)
    b.op("FULLY_CONNECTED", [x, w1, -1], [y1], fused_activation_function="NONE")
    w2 = b.tensor((8, 9), scale=0.02, zero_point=0, data=rng.integers(-127, 128, (8, 9)))
    b2 = b.tensor((8,), "INT32", scale=0.002, zero_point=0, data=rng.integers(-500, 500, 8))
    y2 = b.tensor((1, 8), scale=0.08, zero_point=1)
    b.op("FULLY_CONNECTED", [y1, w2, b2], [y2], fused_activation_function="RELU")
    model = tmp_path / "fc_offset.tflite"
    model.write_bytes(b.io([x], [y2]).build())
    for kernels in ("ref", "opt"):
        result = run_model(model, "classic", M4, kernels, winograd=True)  # raises on a mismatch
        assert result.report["reference_match"] and result.report["winograd_ops"] == [1]
    src = generated_model_c(model, M4, "opt")
    assert src.count("st = mcu_fully_connected_s8(") == 1
    assert src.count("st = mcu_fully_connected_wino_s8(") == 1


def test_fully_connected_kws_on_m0plus():
    graph = load_model(KWS)
    result = run_model(KWS, "classic", M0PLUS, "opt", graph=graph, winograd=True)
    want = tflm(KWS.read_bytes(), default_inputs(graph)[0])
    np.testing.assert_array_equal(result.outputs[0], want.reshape(result.outputs[0].shape))
    assert "mcu_fully_connected_wino_s8" in {f["name"] for f in result.report["functions"]}
