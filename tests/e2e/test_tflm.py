"""The tflm path (mcusim/stacks/tflm.py): real TensorFlow Lite Micro built from the tree that
mcusim.tflmtree finds (the repository's pyproject ``tflm_dir``, or MCUSIM_TFLM_DIR), with TFLM's
CMSIS-NN and reference kernels.

Every model of models/ and ../shared/models runs in both flavours, outputs bit-exact with the
tflite-micro Python interpreter; the report's flash components sum to arm-none-eabi-size's
total; per-op cycles plus the between-ops row equal the Invoke window; the declared arena is
the smallest that works. The TFLM objects are cached by content, so the default run compiles
them once per (core, flavour): M4 CMSIS-NN, M4 reference, M0+ reference.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc
from test_elf_sizes import size_tool

from mcusim.cli import main
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import get_board
from mcusim.stacks import default_kernels, tflm
from mcusim.stacks.deploy import build_firmware
from mcusim.stacks.runner import run_model
from mcusim.stacks.tflmtree import TflmTreeError, cmsis_nn_build, find_tree

pytestmark = needs_gcc
ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "models"
if not SHARED.is_dir():  # a worktree beside the checkout: the tree's config names ../shared from the repo
    SHARED = Path(os.environ.get("MCUSIM_TFLM_DIR", "/nonexistent")).parent.parent / "models"

LARGE = {"vww_96_int8", "person_detect", "pretrainedResnet_quant", "ad01_int8"}


def _tree():
    try:
        return find_tree(None, None, ROOT)
    except TflmTreeError as e:
        pytest.fail(f"the tflm tests need the TFLM tree: {e}")


def _models() -> list[Path]:
    return (sorted((ROOT / "models").glob("*.tflite")) + sorted(SHARED.glob("*.tflite"))
            + sorted((ROOT / "models" / "dispatch_sweep").glob("*.tflite")))


def _cases():
    for model in _models():
        for flavour in ("cmsis-nn", "ref"):
            # default run: every small model on cmsis-nn (the baseline of every ratio), the
            # reference kernels on kws_fc only (~10 s a run: TFLM's arena search starts it up
            # several times)
            slow = ((model.stem in LARGE and not (flavour == "cmsis-nn" and model.stem == "ad01_int8"))
                    or model.parent.name == "dispatch_sweep" or (flavour == "ref" and model.stem != "kws_fc"))
            marks = [pytest.mark.slow] if slow else []
            yield pytest.param(model, flavour, marks=marks, id=f"{model.stem}-{flavour}")


def tflite_micro_outputs(model: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model.read_bytes())
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [it.get_output(i) for i in range(len(load_model(model).outputs))]


def check_report(dep, graph) -> None:
    rep = dep.report
    # flash by component: sums to the total, which is what arm-none-eabi-size says
    assert sum(rep["flash_breakdown"].values()) == rep["flash_bytes"]
    _, (text, data, _) = size_tool(dep.elf.path)
    assert rep["flash_bytes"] == text + data
    for comp in ("tflm-framework", "tflm-kernels", "model", "harness", "startup"):
        assert rep["flash_breakdown"].get(comp, 0) > 0, comp
    assert rep["flash_breakdown"].get("model", 0) >= len(graph.raw)
    if rep["kernels"] == "cmsis-nn":
        assert rep["flash_breakdown"].get("cmsis-nn", 0) > 0
    else:
        assert "cmsis-nn" not in rep["flash_breakdown"]
    # every op timed once, in order, and per-op + between-ops == the Invoke window
    assert [o["index"] for o in rep["ops"]] == list(range(len(graph.ops)))
    assert [o["type"] for o in rep["ops"]] == [op.type for op in graph.ops]
    assert rep["between_ops_cycles"] > 0
    assert sum(o["cycles"] for o in rep["ops"]) + rep["between_ops_cycles"] == rep["cycles"]
    split = rep["dispatch_breakdown"]
    assert min(split.values()) >= 0 and sum(split.values()) == rep["cycles"]
    assert split["kernels"] == rep["kernel_cycles"] and split["kernels"] > 0
    # the arena: the declared size is a 16-byte multiple >= TFLM's arena_used_bytes()
    assert rep["ram_breakdown"]["arena"] == rep["tflm_arena_size"]
    assert rep["tflm_arena_size"] % 16 == 0 and rep["tflm_arena_size"] >= rep["tflm_arena_used_bytes"]
    assert rep["ram_peak_bytes"] == sum(rep["ram_breakdown"].values())
    assert rep["startup_cycles"] > 0


@pytest.mark.parametrize(("model", "flavour"), list(_cases()))
def test_model_bit_exact_with_tflite_micro(model, flavour):
    _tree()
    graph = load_model(model)
    dep = run_model(model, "tflm", get_board("stm32f411ce"), flavour)  # raises unless == mcusim.reference
    rep = dep.report
    assert rep["path"] == "tflm" and rep["kernels"] == flavour and rep["reference_match"]
    from mcusim.frontend.graphinfo import default_inputs

    for got, want in zip(dep.outputs, tflite_micro_outputs(model, default_inputs(graph))):
        np.testing.assert_array_equal(got, np.asarray(want).reshape(got.shape))
    check_report(dep, graph)


def test_kws_fc_on_the_m0plus_defaults_to_reference_kernels():
    _tree()
    board = get_board("stm32g071rb")
    assert default_kernels("tflm", board) == "ref"
    dep = run_model(ROOT / "models" / "kws_fc.tflite", "tflm", board)
    assert dep.report["kernels"] == "ref" and dep.report["core"] == "cortex-m0plus"
    check_report(dep, load_model(ROOT / "models" / "kws_fc.tflite"))


def test_default_flavour_per_core():
    """CMSIS-NN where the core has the DSP extension (the board says: an M33 may lack it)."""
    for name in ("stm32f411ce", "stm32h743zi", "stm32u585ai"):
        assert default_kernels("tflm", get_board(name)) == "cmsis-nn"
    assert default_kernels("tflm", get_board("stm32g071rb")) == "ref"
    assert default_kernels("tinyml", get_board("stm32f411ce")) == default_kernels("classic", get_board("stm32g071rb")) == "opt"


def test_declared_arena_is_the_smallest_that_works():
    tree = _tree()
    graph = load_model(ROOT / "models" / "kws_fc.tflite")
    board = get_board("stm32f411ce")
    fw = tflm.build_tflm(graph, board, tree, "cmsis-nn")
    size = fw.notes["tflm_arena_size"]
    ops, srcs = tflm.kernel_files(tree, graph, "cmsis-nn")
    lib = tflm.tflm_library(tree, board, "cmsis-nn", srcs)
    sizing, _ = build_firmware(tflm._firmware(tree, graph, board, "cmsis-nn", fw_workdir(fw), ops, lib, 64 * 1024, True))
    assert tflm._startup_run(sizing, board, size)[0] == 0
    assert tflm._startup_run(sizing, board, size - 16)[0] == tflm.STATUS_ALLOCATE


def fw_workdir(fw) -> Path:
    return next(src for src, comp in fw.objects.values() if comp == "model").parent.parent


def test_cmsis_nn_build_lists_the_non_float_sources():
    nn = cmsis_nn_build(_tree(), "cortex-m4")
    names = {p.name for p in nn.sources}
    assert len(nn.sources) == 113
    assert "arm_convolve_s8.c" in names and not any(n.endswith(("_f32.c", "_f16.c")) for n in names)
    assert "-DARM_NN_ENABLE_F32=0" in nn.flags and "-DARMCM4" in nn.flags and "-DCPU_M4=1" in nn.flags
    assert "-DARMCM0plus" in cmsis_nn_build(_tree(), "cortex-m0plus").flags


# --- errors: one line, exit 2 ---------------------------------------------------------------------
def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err
    return err


def test_missing_tree_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MCUSIM_TFLM_DIR", str(tmp_path / "nowhere"))
    err = _one_line_error(capsys, ["run", "models/kws_fc.tflite", "--path", "tflm"])
    assert "nowhere" in err and "docs/stacks.md" in err


def test_broken_tree_is_one_line(capsys, tmp_path):
    (tmp_path / "tensorflow/lite/micro").mkdir(parents=True)
    (tmp_path / "tensorflow/lite/micro/micro_interpreter.h").write_text("")
    err = _one_line_error(capsys, ["run", "models/kws_fc.tflite", "--path", "tflm", "--tflm-dir", str(tmp_path)])
    assert "missing tensorflow/lite/micro/micro_mutable_op_resolver.h" in err


def test_16x8_per_channel_fc_on_tflm_cmsis_nn_is_one_line_naming_tflm(capsys):
    """TFLM's CMSIS-NN FULLY_CONNECTED Prepare takes per-channel weights only with int8 input;
    refused before building (a release build would only say "arena too small")."""
    _tree()
    err = _one_line_error(capsys, ["run", "tests/data/op16x8_fully_connected.tflite", "--path", "tflm",
                                   "--kernels", "cmsis-nn"])
    assert "op 0 (FULLY_CONNECTED)" in err and "TFLM's CMSIS-NN kernel" in err and "--kernels ref" in err
    for name, flavour in (("op16x8_fully_connected.tflite", "ref"), ("op16x8_fully_connected_pt.tflite", "cmsis-nn"),
                          ("op16x8_softmax.tflite", "cmsis-nn")):
        tflm.refuse_known_prepare_failures(_tree(), load_model(ROOT / "tests" / "data" / name), flavour)


@pytest.mark.slow
def test_16x8_softmax_whose_prepare_faults_on_a_short_arena_runs():
    """The int16 SOFTMAX's lookup tables overwrite its temporary tensors when the arena is a
    little short (TFLM's allocator): the arena search counts that fault as too small."""
    rep = run_model(ROOT / "tests" / "data" / "op16x8_softmax.tflite", "tflm", get_board("stm32f411ce"),
                    "cmsis-nn", tflm_dir=_tree().root).report
    assert rep["reference_match"]


def test_opt_kernels_refused_on_tflm(capsys):
    err = _one_line_error(capsys, ["run", "models/kws_fc.tflite", "--path", "tflm", "--kernels", "opt"])
    assert "cmsis-nn or ref" in err


def test_op_the_resolver_cannot_supply_is_named(capsys, monkeypatch):
    _tree()
    real = tflm.resolver_methods

    def without_softmax(root):
        return {k: v for k, v in real(root).items() if k != "SOFTMAX"}

    monkeypatch.setattr(tflm, "resolver_methods", without_softmax)
    err = _one_line_error(capsys, ["run", "models/kws_fc.tflite", "--path", "tflm", "--kernels", "ref"])
    assert "SOFTMAX" in err and "tflm/ref" in err


# --- export ---------------------------------------------------------------------------------------
def _export_builds_the_measured_image(tmp_path, flavour, model):
    _tree()
    out = tmp_path / "export"
    assert main(["export", str(model), "--path", "tflm", "--kernels", flavour, "--out", str(out)]) == 0
    assert not list(out.rglob("micro_interpreter*")) and not list(out.rglob("arm_*.c"))  # TFLM is not copied
    proc = subprocess.run(["make", "-j2"], cwd=out, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, (text, data, _) = size_tool(out / "build" / "firmware.elf")
    rep = run_model(model, "tflm", get_board("stm32f411ce"), flavour).report
    assert text + data == rep["flash_bytes"]


@pytest.mark.slow  # make builds TFLM from the tree (~100 s); the classic and tinyml exports stay in the default run
def test_export_ref_builds_with_make_to_the_measured_flash(tmp_path):
    _export_builds_the_measured_image(tmp_path, "ref", ROOT / "models" / "kws_fc.tflite")


@pytest.mark.slow
def test_export_cmsis_nn_builds_with_make_to_the_measured_flash(tmp_path):
    _export_builds_the_measured_image(tmp_path, "cmsis-nn", ROOT / "models" / "kws_fc.tflite")
