"""The classic path with ``--kernels cmsis-nn``: generated C calling Arm CMSIS-NN, built in place
from the TensorFlow Lite Micro tree (mcusim/stacks/cmsisnn.py).

End to end (arm-none-eabi-gcc + a TFLM tree with CMSIS-NN): every single-op model of tests/data
and the small bundled models run on the STM32F411 (Cortex-M4F, CMSIS-NN's DSP paths) and two on
the Cortex-M0+ (its plain-C paths); ``run_model`` checks every output against the int8 reference
bit for bit. The large models (models/ and the shared MLPerf Tiny set) are in the slow tier.
The CMSIS-NN objects compile once per core and tree (~7 s on two cores), then come from the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from simhelpers import model_params, needs_gcc, one_per_operator_set
from tflite_builder import single_op_model

from mcusim.cli import main
from mcusim.errors import McusimError
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import get_board
from mcusim.simulator.elf import Elf
from mcusim.stacks.classic import export_classic
from mcusim.stacks.runner import run_model
from mcusim.stacks.tflmtree import TflmTree, TflmTreeError, cmsis_nn_sources, find_tree

ROOT = Path(__file__).resolve().parents[2]
OP_MODELS = sorted((ROOT / "tests" / "data").glob("op_*.tflite"))
INT16_MODELS = sorted((ROOT / "tests" / "data").glob("*16x8_*.tflite"))
SMALL_MODELS = ("kws_fc", "har_cnn_pc", "ae_anomaly_leaky", "anomaly_cnn1d")
BIG_MODELS = sorted(p for p in (ROOT / "models").rglob("*.tflite") if p.stem not in SMALL_MODELS)
F411, M0PLUS = "stm32f411ce", "stm32g071rb"


def _tree() -> TflmTree | None:
    try:
        return find_tree(cwd=ROOT)
    except TflmTreeError:
        return None


TREE = _tree()
needs_tree = pytest.mark.skipif(TREE is None or not TREE.has_cmsis_nn,
                                reason="no TFLM tree with CMSIS-NN (MCUSIM_TFLM_DIR / tflm_dir in pyproject.toml)")


def _shared_models() -> list[Path]:
    """The MLPerf Tiny + TFLM example models kept beside the TFLM tree (../shared/models)."""
    env = os.environ.get("MCUSIM_SHARED_MODELS")
    candidates = [Path(env)] if env else [ROOT.parent / "shared" / "models"]
    if TREE is not None:
        candidates.append(TREE.root.parents[1] / "models")
    for d in candidates:
        if d.is_dir() and list(d.glob("*.tflite")):
            return sorted(d.glob("*.tflite"))
    return []


def _run(model: Path, board: str = F411) -> dict:
    return run_model(model, "classic", get_board(board), "cmsis-nn", tflm_dir=TREE.root).report  # type: ignore[union-attr]


def _check_kernels(rep: dict) -> None:
    """Every op that ran is a CMSIS-NN call, or a named fallback, or generated code."""
    fallback = {f["index"]: f for f in rep["fallbacks"]}
    for op in rep["ops"]:
        if op["index"] in fallback:
            assert op["kernel"].startswith("mcu_") and op["fallback"] == fallback[op["index"]]["reason"]
            assert fallback[op["index"]]["used"] == "mcusim opt"
        else:
            assert "fallback" not in op
            assert op["kernel"].startswith("arm_") or op["kernel"] == "generated code", op


# --- sources and flags -----------------------------------------------------------------------
@needs_tree
def test_cmsis_nn_sources_are_the_113_files_tflm_compiles() -> None:
    srcs = cmsis_nn_sources(TREE)  # type: ignore[arg-type]
    assert len(srcs) == 113
    assert not [p for p in srcs if p.name.endswith(("_f16.c", "_f32.c"))]
    assert any(p.name == "arm_convolve_wrapper_s8.c" for p in srcs)


# --- every op model, bit-exact -----------------------------------------------------------------
@needs_gcc
@needs_tree
@pytest.mark.parametrize("model", one_per_operator_set(OP_MODELS), ids=lambda p: p.stem)
def test_op_models_bit_exact_on_cortex_m4(model: Path) -> None:
    rep = _run(model)
    assert rep["reference_match"] and rep["kernels"] == "cmsis-nn"
    _check_kernels(rep)


@needs_gcc
@needs_tree
@pytest.mark.parametrize("stem", ["op_conv2d_pc_same_s1", "op_depthwise_conv2d_m1", "op_fully_connected_pc",
                                  "op_average_pool_2d_same", "op_add", "op_softmax", "op_pad",
                                  "op_transpose_4d"])
def test_each_cmsis_nn_family_runs_on_cmsis_nn(stem: str) -> None:
    rep = _run(ROOT / "tests" / "data" / f"{stem}.tflite")
    assert rep["fallbacks"] == []
    ran = {f["name"] for f in rep["functions"] if f["component"] == "cmsis-nn"}
    assert any(n.startswith("arm_") for n in ran), ran
    # CMSIS-NN code is kernel time: the generated glue around one call is a tiny share.
    assert rep["kernel_cycles"] > 0.8 * rep["cycles"]


@needs_gcc
@needs_tree
@pytest.mark.parametrize("stem, picked", [("op_depthwise_conv2d_m1", "arm_depthwise_conv_3x3_s8"),
                                          ("op_depthwise_conv2d_m2", "arm_depthwise_conv_s8"),
                                          ("op_conv1d", "arm_convolve_1_x_n_s8"),
                                          ("op_conv2d_pc_same_s1", "arm_convolve_s8")])
def test_the_kernel_a_wrapper_picks_is_reported(stem: str, picked: str) -> None:
    (op,) = _run(ROOT / "tests" / "data" / f"{stem}.tflite")["ops"]
    assert op["kernel"].endswith("_wrapper_s8") and picked in op["kernel_functions"]


@needs_gcc
@needs_tree
def test_the_dsp_paths_run_on_the_m4_and_the_plain_c_paths_on_the_m0plus() -> None:
    model = ROOT / "tests" / "data" / "op_conv2d_pc_same_s1.tflite"
    m4, m0 = _run(model, F411), _run(model, M0PLUS)
    assert m4["dsp_mac_share"] > 0.01        # SMLAD family inside CMSIS-NN's s8 matrix kernels
    assert m0["dsp_mac_share"] == 0.0 and m0["reference_match"]
    assert m0["flash_breakdown"]["cmsis-nn"] != m4["flash_breakdown"]["cmsis-nn"]


@needs_gcc
@needs_tree
def test_a_model_on_the_cortex_m0plus_is_bit_exact() -> None:
    rep = _run(ROOT / "models" / "har_cnn_pc.tflite", M0PLUS)
    assert rep["core"] == "cortex-m0plus" and rep["reference_match"]
    _check_kernels(rep)


@needs_gcc
@needs_tree
@pytest.mark.parametrize("axis, shapes", [(0, [(1, 2, 3, 4), (2, 2, 3, 4)]), (1, [(1, 2, 3, 4), (1, 3, 3, 4)]),
                                          (2, [(1, 2, 3, 4), (1, 2, 1, 4), (1, 2, 2, 4)]), (-1, [(1, 2, 3, 4), (1, 2, 3, 5)]),
                                          (1, [(2, 3, 4), (2, 5, 4)])])
def test_concatenation_along_every_axis_is_bit_exact(tmp_path: Path, axis: int, shapes: list) -> None:
    rank = len(shapes[0])
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    model = tmp_path / "concat.tflite"
    model.write_bytes(single_op_model("CONCATENATION", shapes, tuple(out), out_q=(0.05, 0), axis=axis))
    rep = _run(model)
    assert rep["ops"][0]["kernel"] == "arm_concatenation_s8_" + "wzyx"[(axis % rank) + 4 - rank]


# --- fallbacks and the report --------------------------------------------------------------------
@needs_gcc
@needs_tree
@pytest.mark.parametrize("stem", SMALL_MODELS)
def test_small_models_bit_exact_and_flash_adds_up(stem: str) -> None:
    rep = _run(ROOT / "models" / f"{stem}.tflite")
    _check_kernels(rep)
    assert sum(rep["flash_breakdown"].values()) == rep["flash_bytes"]
    assert rep["flash_breakdown"]["cmsis-nn"] > 0


# --- 16x8 mode: the s16 kernels ------------------------------------------------------------------
@needs_gcc
@needs_tree
@pytest.mark.parametrize("stem, kernels", [
    ("net16x8_mixed", {"arm_convolve_wrapper_s16", "arm_depthwise_conv_wrapper_s16", "arm_max_pool_s16",
                       "arm_softmax_s16"}),
    ("op16x8_average_pool_2d", {"arm_avgpool_s16"}), ("op16x8_fully_connected_pt", {"arm_fully_connected_s16"})])
def test_16x8_ops_run_on_cmsis_nn_s16_kernels(stem: str, kernels: set[str]) -> None:
    """Every op of these files is a CMSIS-NN s16 call (net16x8_mixed's per-channel FC too: a 1x1
    arm_convolve_wrapper_s16; per-tensor weights: arm_fully_connected_s16), bit-exact with the
    reference; RESHAPE is a view."""
    rep = _run(ROOT / "tests" / "data" / f"{stem}.tflite")
    assert rep["reference_match"] and rep["fallbacks"] == []
    assert {op["kernel"] for op in rep["ops"]} == kernels
    _check_kernels(rep)


@pytest.mark.slow
@needs_gcc
@needs_tree
@pytest.mark.parametrize("model", model_params(INT16_MODELS), ids=lambda p: p.stem)
def test_16x8_models_bit_exact_on_cortex_m4(model: Path) -> None:
    from mcusim import operators
    from mcusim.errors import ModelError

    try:
        operators.refuse_int16(load_model(model), "classic")
    except ModelError as err:  # an op whose 16x8 form the classic path does not run yet
        pytest.skip(str(err))
    rep = _run(model)
    assert rep["reference_match"] and rep["kernels"] == "cmsis-nn"
    _check_kernels(rep)


def _conv16_model(weight: int) -> bytes:
    """16x8 CONV_2D 3x3 over 64 channels, every weight ``weight``: 32768 * 576 * |weight| is the
    worst int32 sum of arm_convolve_s16."""
    import numpy as np
    from tflite_builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor((1, 3, 3, 64), "INT16", scale=1 / 4096)
    w = b.tensor((2, 3, 3, 64), "INT8", scale=[0.004, 0.003], quantized_dimension=0,
                 data=np.full((2, 3, 3, 64), weight, np.int8))
    bias = b.tensor((2,), "INT64", scale=[0.004 / 4096, 0.003 / 4096], data=np.array([100, -7], np.int64))
    y = b.tensor((1, 1, 1, 2), "INT16", scale=1 / 64)
    b.op("CONV_2D", [x, w, bias], [y], padding="VALID", stride_w=1, stride_h=1)
    return b.io([x], [y]).build()


@pytest.mark.slow
@needs_gcc
@needs_tree
def test_a_16x8_conv_whose_int32_sum_could_overflow_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "conv16_big.tflite"
    path.write_bytes(_conv16_model(127))
    rep = _run(path)
    assert rep["reference_match"]
    (fb,) = rep["fallbacks"]
    assert "int32 sum in arm_convolve_wrapper_s16 could reach" in fb["reason"] and rep["ops"][0]["kernel"] == "mcu_conv_s16"


@needs_gcc
@needs_tree
def test_an_op_cmsis_nn_lacks_is_a_named_fallback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["run", str(ROOT / "models" / "har_cnn_pc.tflite"), "--path", "classic", "--kernels", "cmsis-nn",
                 "--tflm-dir", str(TREE.root), "--json", str(out)]) == 0  # type: ignore[union-attr]
    rep = json.loads(out.read_text())
    assert rep["fallbacks"] == [{"index": 9, "type": "MEAN", "used": "mcusim opt",
                                 "reason": "CMSIS-NN has no int8 MEAN kernel"}]
    mean = next(o for o in rep["ops"] if o["index"] == 9)
    assert mean["kernel"] == "mcu_mean_s8" and mean["fallback"] == "CMSIS-NN has no int8 MEAN kernel"
    # mcusim's kernel for the fallback and CMSIS-NN are separate flash components.
    assert rep["flash_breakdown"]["kernels"] > 0 and rep["flash_breakdown"]["cmsis-nn"] > 0
    assert "fallback: op 9 (MEAN) runs on mcusim opt: CMSIS-NN has no int8 MEAN kernel" in capsys.readouterr().out


@needs_gcc
@needs_tree
def test_a_broadcast_add_falls_back_with_its_reason() -> None:
    rep = _run(ROOT / "tests" / "data" / "op_add_broadcast.tflite")
    assert [f["type"] for f in rep["fallbacks"]] == ["ADD"]
    assert "broadcast" in rep["fallbacks"][0]["reason"]


@needs_gcc
@needs_tree
def test_16x8_add_and_mul_call_the_s16_elementwise_kernels(tmp_path: Path) -> None:
    """16x8 mode: ADD and MUL of equal shapes are arm_elementwise_add_s16 / _mul_s16 (TFLM's
    CMSIS-NN port calls them with int8's arguments, left shift 15); the broadcast ADD and MUL,
    LOGISTIC and TANH are named fallbacks to mcusim's s16 kernels; bit-exact with the reference."""
    from tflite_builder import int16_elementwise_model

    model = tmp_path / "int16_elementwise.tflite"
    model.write_bytes(int16_elementwise_model(pot_add=True))
    rep = _run(model)
    assert rep["reference_match"]
    assert [op["kernel"] for op in rep["ops"]] == ["mcu_add_s16", "arm_elementwise_mul_s16", "mcu_logistic_s16",
                                                   "mcu_tanh_s16", "mcu_mul_s16", "arm_elementwise_add_s16"]
    assert "broadcast" in rep["fallbacks"][0]["reason"] and "broadcast" in rep["fallbacks"][3]["reason"]
    assert rep["fallbacks"][1]["reason"] == "CMSIS-NN has no 16x8 LOGISTIC kernel"
    _check_kernels(rep)


@needs_gcc
@needs_tree
def test_compare_runs_its_classic_side_on_cmsis_nn(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    assert main(["compare", str(ROOT / "models" / "kws_fc.tflite"), "--paths", "classic/cmsis-nn,tinyml,classic",
                 "--tflm-dir", str(TREE.root), "--json", str(out)]) == 0  # type: ignore[union-attr]
    cmp = json.loads(out.read_text())
    assert cmp["columns"] == ["classic/cmsis-nn", "tinyml/opt", "classic/opt"]
    assert [r["stack"]["real"] for r in cmp["runs"]] == [True, False, False]
    assert cmp["ratios"]["classic/opt"]["flash_bytes"] == cmp["runs"][2]["flash_bytes"] / cmp["runs"][0]["flash_bytes"]


def test_a_sweep_spec_may_list_cmsis_nn(tmp_path: Path) -> None:
    from mcusim.sweep import load_spec

    spec = tmp_path / "s.toml"
    spec.write_text(f'models = ["{ROOT / "models" / "kws_fc.tflite"}"]\nboards = ["stm32f411ce"]\n'
                    'paths = ["classic"]\nkernels = ["opt", "cmsis-nn"]\n')
    assert load_spec(spec).kernels == ["opt", "cmsis-nn"]


# --- bad input -------------------------------------------------------------------------------------
def test_a_bad_tree_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ROOT / "models" / "kws_fc.tflite"), "--path", "classic", "--kernels", "cmsis-nn",
                 "--tflm-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a TensorFlow Lite Micro tree" in err


def test_a_tree_without_cmsis_nn_is_refused(tmp_path: Path) -> None:
    with pytest.raises(McusimError, match="has no CMSIS-NN"):
        TflmTree(tmp_path, "test").require_cmsis_nn()


def test_cmsis_nn_on_the_tinyml_path_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(ROOT / "models" / "kws_fc.tflite"), "--path", "tinyml", "--kernels", "cmsis-nn"]) == 2
    assert "classic path" in capsys.readouterr().err


# --- export ------------------------------------------------------------------------------------------
@needs_gcc
@needs_tree
@pytest.mark.skipif(shutil.which("make") is None or shutil.which("arm-none-eabi-size") is None,
                    reason="make / arm-none-eabi-size not installed")
def test_export_builds_with_make_and_matches_the_measured_flash(tmp_path: Path) -> None:
    model = ROOT / "models" / "har_cnn_pc.tflite"
    board = get_board(F411)
    export_classic(load_model(model), board, "cmsis-nn", tmp_path / "export", model.name, tflm_tree=TREE)
    make = (tmp_path / "export" / "Makefile").read_text()
    assert f"CMSIS_NN_DIR ?= {TREE.cmsis_nn}" in make  # type: ignore[union-attr]
    assert not list((tmp_path / "export").rglob("arm_*.c"))  # CMSIS-NN is built in place, never copied
    proc = subprocess.run(["make", "-j2"], cwd=tmp_path / "export", capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    elf = tmp_path / "export" / "build" / "firmware.elf"
    size = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True)
    text, data, _bss = (int(v) for v in size.stdout.splitlines()[1].split()[:3])
    measured = _run(model)
    assert text + data == measured["flash_bytes"] == Elf(elf).flash_bytes


# --- the large models (slow tier) -----------------------------------------------------------------------
@pytest.mark.slow
@needs_gcc
@needs_tree
@pytest.mark.parametrize("model", BIG_MODELS + _shared_models(), ids=lambda p: p.stem)
def test_every_model_bit_exact_on_cortex_m4(model: Path) -> None:
    rep = _run(model)
    _check_kernels(rep)
    assert sum(rep["flash_breakdown"].values()) == rep["flash_bytes"]
