"""UNIDIRECTIONAL_SEQUENCE_LSTM (mcusim/operators/lstm.py) on every stack: the converter's LSTM
models in tests/data (made by tests/data/make_op_models.py: a full sequence, the last step
sliced off, and a small keyword-style classifier) run on tinyml and classic with both kernel
flavours and on tflm, outputs bit-exact with the tflite-micro Python interpreter on random
inputs. The state tensors are reset at start-up as TFLM resets them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc

from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import get_board
from mcusim.simulator.machine import Machine
from mcusim.stacks import tflmtables
from mcusim.stacks.runner import run_model
from mcusim.stacks.tflmtree import TflmTreeMissing

ROOT = Path(__file__).resolve().parents[2]
LSTM_MODELS = [ROOT / "tests" / "data" / n for n in
               ("op_lstm_sequences.tflite", "op_lstm_last.tflite", "net_lstm_kws.tflite")]
BOARD = get_board("stm32f411ce")


def _random_inputs(model: Path, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, t.shape).astype(np.int8) for t in load_model(model).input_tensors()]


def _tflm(model: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model.read_bytes())
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [np.asarray(it.get_output(i)) for i in range(len(load_model(model).outputs))]


@needs_gcc
def _lstm_cases():
    """Every model on mcusim's stacks; real TFLM (a ~14 s run each) on one model, the rest slow."""
    for model in LSTM_MODELS:
        for stack in ("tinyml/ref", "tinyml/opt", "classic/ref", "classic/opt", "tflm/ref"):
            slow = stack.startswith("tflm") and model != LSTM_MODELS[0]
            yield pytest.param(model, stack, id=f"{model.stem}-{stack}", marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("model, stack", _lstm_cases())
def test_lstm_bit_exact_with_tflm(model: Path, stack: str) -> None:
    path, kernels = stack.split("/")
    inputs = _random_inputs(model, 7)
    result = run_model(model, path, BOARD, kernels, inputs=inputs)
    for got, want in zip(result.outputs, _tflm(model, inputs)):
        np.testing.assert_array_equal(got, want.reshape(got.shape))
    op = next(o for o in result.report["ops"] if o["type"] == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert op["cycles"] > 0
    if path != "tflm":  # mcusim's kernels interpolate in the table generated from the TFLM tree
        table = Machine(result.elf, BOARD).read_symbol("mcu_sigmoid_table", 512)
        assert np.frombuffer(table, "<u2").tolist() == list(tflmtables.sigmoid_table())


@needs_gcc
@pytest.mark.parametrize("path", ["tinyml", "classic"])
def test_only_an_image_with_an_lstm_needs_the_tflm_tree(path: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a TFLM tree a model without LSTM still builds and runs (its image declares no
    mcu_sigmoid_table), an LSTM model stops with one line naming the table's file."""
    monkeypatch.delenv("MCUSIM_TFLM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tflmtables, "_loaded", None)
    plain = ROOT / "models" / "kws_fc.tflite"
    result = run_model(plain, path, BOARD, "ref", inputs=_random_inputs(plain, 1))
    assert result.elf.find_function("mcu_lstm_s8") is None
    with pytest.raises(TflmTreeMissing, match="sigmoid_table_uint16 from a TFLM tree's "
                                               "tensorflow/lite/kernels/internal/common.h"):
        run_model(LSTM_MODELS[2], path, BOARD, "ref", inputs=_random_inputs(LSTM_MODELS[2], 1))


@needs_gcc
@pytest.mark.slow
@pytest.mark.parametrize("stack", ["classic/cmsis-nn", "tflm/cmsis-nn"])
def test_lstm_cmsis_nn_stacks(stack: str) -> None:
    """classic/cmsis-nn calls CMSIS-NN's arm_lstm_unidirectional_s8 (effective biases from the
    host), as TFLM's CMSIS-NN port does; both bit-exact."""
    path, kernels = stack.split("/")
    model = LSTM_MODELS[2]
    inputs = _random_inputs(model, 3)
    result = run_model(model, path, BOARD, kernels, inputs=inputs)
    for got, want in zip(result.outputs, _tflm(model, inputs)):
        np.testing.assert_array_equal(got, want.reshape(got.shape))
    if path == "classic":
        op = next(o for o in result.report["ops"] if o["type"] == "UNIDIRECTIONAL_SEQUENCE_LSTM")
        assert op["kernel"] == "arm_lstm_unidirectional_s8"
        assert not any(f["type"] == "UNIDIRECTIONAL_SEQUENCE_LSTM" for f in result.report.get("fallbacks", []))


CORNERS = {  # tests/tflite_builder.lstm_model: layouts and quantizations the converter models lack
    "time_major_b2": dict(args=(2, 4, 3, 6), time_major=True),
    "clip_cell2^-11_b3": dict(args=(3, 5, 4, 5), cell_power=-11, cell_clip=3.0),
    "cell2^-15_odd_sizes": dict(args=(1, 8, 9, 5), cell_power=-15, w_scale=0.05, x_q=(0.1, -20)),
}


@needs_gcc
@pytest.mark.parametrize("stack", ["tinyml/ref", "tinyml/opt", "classic/opt"])
@pytest.mark.parametrize("corner", sorted(CORNERS))
def test_lstm_corners_bit_exact(corner: str, stack: str, tmp_path: Path) -> None:
    from tflite_builder import lstm_model

    kw = dict(CORNERS[corner])
    model = tmp_path / f"lstm_{corner}.tflite"
    model.write_bytes(lstm_model(*kw.pop("args"), **kw))
    path, kernels = stack.split("/")
    inputs = _random_inputs(model, 11)
    result = run_model(model, path, BOARD, kernels, inputs=inputs)
    for got, want in zip(result.outputs, _tflm(model, inputs)):
        np.testing.assert_array_equal(got, want.reshape(got.shape))


@needs_gcc
def test_lstm_on_cortex_m0plus() -> None:
    """Without the DSP extension the opt gate kernel is the reference code (Armv6-M has no
    SMLAD): still bit-exact."""
    model = LSTM_MODELS[2]
    inputs = _random_inputs(model, 5)
    result = run_model(model, "classic", get_board("stm32g071rb"), "opt", inputs=inputs)
    for got, want in zip(result.outputs, _tflm(model, inputs)):
        np.testing.assert_array_equal(got, want.reshape(got.shape))


@needs_gcc
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
@pytest.mark.parametrize("path", ["tinyml", "classic"])
def test_exported_lstm_project_carries_the_generated_table(path: str, tmp_path: Path) -> None:
    """The export of an LSTM model holds src/mcu_sigmoid_table.c written from the TFLM tree,
    its Makefile compiles it and says where it came from; `make` builds the measured image."""
    from mcusim.cli import main
    from mcusim.simulator.elf import Elf

    model, out = LSTM_MODELS[2], tmp_path / "export"
    assert main(["export", str(model), "--path", path, "--kernels", "opt", "--out", str(out)]) == 0
    table = (out / "src" / "mcu_sigmoid_table.c").read_text()
    numbers = [int(v) for v in table.split("[256] = {")[1].split("}")[0].replace(",", " ").split()]
    assert numbers == list(tflmtables.sigmoid_table())
    makefile = (out / "Makefile").read_text()
    assert "src/mcu_sigmoid_table.c" in makefile and str(tflmtables.COMMON_H) in makefile
    proc = subprocess.run(["make", "-j2"], cwd=out, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    measured = run_model(model, path, BOARD, "opt", inputs=_random_inputs(model, 2)).report
    assert Elf(out / "build" / "firmware.elf").flash_bytes == measured["flash_bytes"]
