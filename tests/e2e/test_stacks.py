"""Stacks and the columns of `compare` (no toolchain needed except where marked)."""

import json
import shutil
from pathlib import Path

import pytest

from mcusim.cli import main
from mcusim.errors import McusimError
from mcusim.simulator.board import get_board
from mcusim.stacks import compare_columns, default_kernels, describe, is_real

M4 = get_board("stm32f411ce")
M0 = get_board("stm32g071rb")
ROOT = Path(__file__).resolve().parents[2]


def test_default_columns_put_the_real_stacks_first():
    assert compare_columns(None, None, M4) == [("tflm", "cmsis-nn"), ("classic", "cmsis-nn"), ("tinyml", "opt"),
                                               ("classic", "opt")]
    # No DSP extension: TFLM's reference kernels are the tflm default.
    assert compare_columns(None, None, M0)[0] == ("tflm", "ref")
    assert default_kernels("tinyml", M0) == "opt"


def test_paths_and_kernels_choose_columns():
    assert compare_columns("tinyml,classic", "ref", M4) == [("tinyml", "ref"), ("classic", "ref")]
    assert compare_columns("tflm/ref,classic/cmsis-nn,tflm/ref", None, M4) == [("tflm", "ref"), ("classic", "cmsis-nn")]
    # --kernels opt applies where the path has it; tflm keeps its default.
    assert compare_columns("tflm,tinyml", "opt", M4) == [("tflm", "cmsis-nn"), ("tinyml", "opt")]
    assert compare_columns(None, "ref", M4) == [("tflm", "ref"), ("classic", "ref"), ("tinyml", "ref")]


@pytest.mark.parametrize("spec", ["tflm/opt", "tinyml/cmsis-nn", "nosuch", ","])
def test_bad_columns_are_one_line_errors(spec):
    with pytest.raises(McusimError):
        compare_columns(spec, None, M4)


def test_descriptions_say_what_is_real():
    assert is_real("tflm", "ref") and is_real("classic", "cmsis-nn")
    assert not is_real("tinyml", "opt") and not is_real("classic", "opt")
    assert "real TensorFlow Lite Micro" in describe("tflm", "cmsis-nn") and "real CMSIS-NN" in describe("tflm", "cmsis-nn")
    assert "mcusim's own" in describe("classic", "opt")
    # no DSP extension: the opt flavour is the reference code, and the description says so
    assert "reference kernels" not in describe("tinyml", "opt")
    assert "compiled as the reference kernels" in describe("tinyml", "opt", dsp=False)
    assert describe("tinyml", "ref", dsp=False) == describe("tinyml", "ref")


@pytest.mark.toolchain
def test_compare_without_a_tree_runs_the_others_and_says_why(tmp_path, monkeypatch, capsys):
    """No --tflm-dir, no MCUSIM_TFLM_DIR, no config: the real-stack columns are skipped with
    the reason in one line each, mcusim's own columns run, JSON and Markdown carry it."""
    model = tmp_path / "kws_fc.tflite"
    shutil.copy(ROOT / "models" / "kws_fc.tflite", model)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCUSIM_TFLM_DIR", raising=False)
    out, md = tmp_path / "c.json", tmp_path / "c.md"
    assert main(["compare", str(model), "--json", str(out), "--markdown", str(md)]) == 0
    cmp = json.loads(out.read_text())
    assert cmp["columns"] == ["tinyml/opt", "classic/opt"] and cmp["baseline"] == "tinyml/opt"
    assert [s["column"] for s in cmp["skipped"]] == ["tflm/cmsis-nn", "classic/cmsis-nn"]
    assert all("--tflm-dir" in s["reason"] for s in cmp["skipped"])
    assert cmp["ratios"]["classic/opt"]["cycles"] == cmp["runs"][1]["cycles"] / cmp["runs"][0]["cycles"]
    assert all(r["stack"]["real"] is False for r in cmp["runs"])
    text = capsys.readouterr().out
    assert "tflm/cmsis-nn: not run: no TensorFlow Lite Micro tree given" in text
    assert "| cycles / inference |" in md.read_text() and "not run" in md.read_text()
    # Asked for by name, the missing tree is an error (exit 2), not an omission.
    assert main(["compare", str(model), "--paths", "tflm"]) == 2


@pytest.mark.toolchain
def test_compare_with_a_broken_tree_is_an_error(tmp_path, capsys):
    model = ROOT / "models" / "kws_fc.tflite"
    assert main(["compare", str(model), "--tflm-dir", str(tmp_path)]) == 2
    assert "is not a TensorFlow Lite Micro tree" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")
def test_opt_on_a_core_without_dsp_says_it_runs_the_reference_code(capsys):
    """On the Cortex-M0+ the optimized kernel files compile to their reference code: the run
    report's stack description and the terminal say so (no silent opt -> ref)."""
    from mcusim.cli import main

    assert main(["run", str(ROOT / "models" / "kws_fc.tflite"), "--path", "classic", "--board", "stm32g071rb",
                 "--json", "-"]) == 0
    captured = capsys.readouterr()
    rep = json.loads(captured.out)
    assert "compiled as the reference kernels: the core has no DSP extension" in rep["stack"]["description"]
    assert "compiled as the reference kernels" in captured.err
