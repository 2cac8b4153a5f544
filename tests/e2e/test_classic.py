"""The classic path (mcusim/stacks/classic/): generated C, static memory plan, export.

End to end (needs arm-none-eabi-gcc): every model in models/ and every single-op model in
tests/data/ is generated, built for the STM32F411 (Cortex-M4F) with both kernel flavours and run
in the simulator on random int8 inputs; the outputs must equal the numpy reference AND the
tflite-micro Python interpreter bit for bit. One model also runs on the Cortex-M0+ board, and
an exported project is built with plain ``make``. Builds are cached by content (toolchain.py),
so a second run of this file compiles nothing.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from simhelpers import needs_gcc, one_per_operator_set
from tflite_builder import ModelBuilder, tflm_refusal

from mcusim import operators
from mcusim.errors import ModelError
from mcusim.frontend.graph import Graph
from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import load_model, parse_model
from mcusim.simulator.board import get_board
from mcusim.simulator.elf import Elf
from mcusim.simulator.machine import Machine
from mcusim.stacks.classic import build_classic, export_classic, generate_classic
from mcusim.stacks.deploy import FLAVOURS, Firmware, build_firmware, reference_only_kernels, run_firmware
from mcusim.stacks.planner import find_conflicts
from mcusim.stacks.runner import workdir_for
from mcusim.stacks.tinyml import give_inputs, take_outputs

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").glob("*.tflite"))
OP_MODELS = sorted((ROOT / "tests" / "data").glob("op_*.tflite"))
BOARD = "stm32f411ce"   # Cortex-M4F: the opt flavour uses the DSP extension
M0PLUS = "stm32g071rb"  # Cortex-M0+: no DSP, opt falls back to the reference kernels
SEEDS = (0, 1)

# (file stem, flavour) -> why it is skipped, naming the mcu_nn kernel at fault. Empty: every
# model and op passes in both flavours. Kernels are another engineer's; never patch them here.
KNOWN_KERNEL_ISSUES: dict[tuple[str, str], str] = {}


def _inputs(graph: Graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.input_tensors():
        if t.dtype == "INT8":
            out.append(rng.integers(-128, 128, t.size).astype(np.int8).reshape(t.shape))
        elif t.dtype == "INT16":
            out.append(rng.integers(-32768, 32768, t.size).astype(np.int16).reshape(t.shape))
        else:
            out.append(rng.normal(0.0, 2.0, t.size).astype(np.float32).reshape(t.shape))
    return out


def _tflm(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray] | None:
    """tflite-micro's outputs, or None when its interpreter refuses the model."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    if tflm_refusal(data) is not None:
        return None
    interp = runtime.Interpreter.from_bytes(data, arena_size=16 << 20)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [np.asarray(interp.get_output(i)) for i in range(len(parse_model(data).outputs))]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.size != b.size or a.dtype != b.dtype:
        return False
    a, b = a.reshape(-1), b.reshape(-1)
    return bool(np.array_equal(a.view(np.uint8), b.view(np.uint8)) if a.dtype.kind == "f" else np.array_equal(a, b))


def _diff(got: np.ndarray, want: np.ndarray) -> str:
    g, w = np.asarray(got).reshape(-1), np.asarray(want).reshape(-1)
    if g.shape != w.shape:
        return f"shape {got.shape} vs {np.shape(want)}"
    bad = np.flatnonzero(g != w)
    return f"{len(bad)} of {g.size} values differ, first at {bad[0]}: got {g[bad[0]]}, want {w[bad[0]]}"


@functools.cache
def _firmware(path: Path, flavour: str, board_name: str) -> tuple[Graph, Firmware]:
    graph = load_model(path)
    board = get_board(board_name)
    fw = build_classic(graph, board, flavour, workdir_for(graph, "classic", flavour, board), path.name)
    return graph, fw


def _check_bit_exact(path: Path, flavour: str, board_name: str = BOARD,
                     seeds: tuple[int, ...] = SEEDS) -> dict[str, Any]:
    reason = KNOWN_KERNEL_ISSUES.get((path.stem, flavour))
    if reason:
        pytest.skip(reason)
    graph, fw = _firmware(path, flavour, board_name)
    data = path.read_bytes()
    report: dict[str, Any] = {}
    for seed in seeds:
        inputs = _inputs(graph, seed)
        result = run_firmware(fw, graph, inputs)
        report = result.report
        for name, expected in (("numpy reference", run_graph(graph, inputs)), ("tflite-micro", _tflm(data, inputs))):
            if expected is None:
                continue
            for k, (got, want) in enumerate(zip(result.outputs, expected)):
                assert _same(got, want), (f"{path.name} classic/{flavour} on {board_name}, seed {seed}: "
                                          f"output {k} differs from {name}: {_diff(got, want)}")
    return report


def _ids(p: Path) -> str:
    return f"{p.parent.name}/{p.stem}"


# --- bit-exactness ----------------------------------------------------------------------------
@needs_gcc
@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("path", MODELS, ids=_ids)
def test_model_is_bit_exact(path: Path, flavour: str) -> None:
    report = _check_bit_exact(path, flavour)
    assert report["path"] == "classic" and report["kernels"] == flavour
    assert report["arena_bytes"] <= report["arena_naive_bytes"]
    # Reference code under opt is named per op, measured from the functions that ran: exactly the
    # ops whose kernel has no optimized file; none under ref.
    for op in report["ops"]:
        expected = flavour == "opt" and op["kernel"] in reference_only_kernels()
        assert ("ref_code" in op) == expected, (op["index"], op["type"], op["kernel"])
        if expected:
            assert op["ref_code"]["cause"] == "no-opt-kernel" and op["kernel"] in op["ref_code"]["functions"]


@needs_gcc
# ref in the slow tier: one build per model and flavour, and the ref kernels have their own
# bit-exact tests (test_kernels.py) while most ops' opt flavour links the same ref file
# bit-exact with the same kernels: one model per operator set in the default run, the variants slow
@pytest.mark.parametrize("flavour", [pytest.param("ref", marks=pytest.mark.slow), "opt"])
@pytest.mark.parametrize("path", one_per_operator_set(OP_MODELS), ids=_ids)
def test_op_model_is_bit_exact(path: Path, flavour: str) -> None:
    _check_bit_exact(path, flavour, seeds=SEEDS[:1])


@needs_gcc
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_runs_on_cortex_m0plus(flavour: str) -> None:
    report = _check_bit_exact(ROOT / "models" / "har_cnn_pc.tflite", flavour, M0PLUS, seeds=SEEDS[:1])
    assert report["core"] == "cortex-m0plus"
    # The opt flavour falls back to the reference kernels without the DSP extension, and the
    # scratch sizes (computed by the kernels' own get_buffer_size, in C) follow: none.
    assert report["scratch_bytes"] == 0
    kernel_ops = [op for op in report["ops"] if op["kernel"].startswith("mcu_")]
    assert kernel_ops and all(("ref_code" in op) == (flavour == "opt") for op in kernel_ops)
    assert all(op["ref_code"]["cause"] == "no-dsp" for op in kernel_ops if flavour == "opt")


def _window_op_model(path: Path, op_type: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...], qdim: int,
                     y_shape: tuple[int, ...], seed: int, **options: Any) -> Path:
    """A one-op convolution model (SAME padding, per-channel weights along ``qdim``, random int8
    weights and int32 bias) written to ``path``."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor(x_shape, scale=0.04, zero_point=-3)
    n = w_shape[qdim]
    w = b.tensor(w_shape, scale=list(rng.uniform(0.005, 0.02, n)), zero_point=[0] * n,
                 quantized_dimension=qdim, data=rng.integers(-127, 128, w_shape))
    bias = b.tensor((n,), "INT32", data=rng.integers(-2000, 2000, n))
    y = b.tensor(y_shape, scale=0.05, zero_point=-10)
    b.op(op_type, [x, w, bias], [y], padding="SAME", **options)
    path.write_bytes(b.io([x], [y]).build())
    return path


@needs_gcc
def test_grouped_convolution_names_its_reference_code(tmp_path: Path) -> None:
    """A grouped CONV_2D (4 input channels, filter of 2: two groups) is a case the optimized
    mcu_conv_s8 hands to its reference code: bit-exact, and the report says so (measured: the
    function that ran), as a fallback line and on the op."""
    path = _window_op_model(tmp_path / "conv_grouped.tflite", "CONV_2D", (1, 6, 5, 4), (6, 3, 3, 2), 0,
                            (1, 6, 5, 6), seed=11, stride_w=1, stride_h=1)
    report = _check_bit_exact(path, "opt", seeds=SEEDS[:1])
    (op,) = report["ops"]
    assert op["ref_code"]["cause"] == "handover"
    assert op["ref_code"]["functions"] == ["mcu_conv_s8_ref"] and op["ref_code"]["share"] > 0.9
    (fb,) = report["fallbacks"]
    assert fb["index"] == 0 and "mcu_conv_s8_ref" in fb["used"] and "grouped" in fb["reason"]


@needs_gcc
def test_softmax_of_long_rows_names_its_reference_code(tmp_path: Path) -> None:
    """A SOFTMAX over 20 classes is longer than the optimized kernel's exp cache (16): it hands
    the call to mcu_softmax_s8_ref, bit-exact, and the report names it with the reason."""
    b = ModelBuilder()
    x = b.tensor((1, 20), scale=0.1, zero_point=3)
    y = b.tensor((1, 20), scale=1 / 256, zero_point=-128)
    b.op("SOFTMAX", [x], [y], beta=1.0)
    path = tmp_path / "softmax20.tflite"
    path.write_bytes(b.io([x], [y]).build())
    report = _check_bit_exact(path, "opt", seeds=SEEDS[:1])
    (op,) = report["ops"]
    assert op["ref_code"]["cause"] == "handover" and op["ref_code"]["functions"] == ["mcu_softmax_s8_ref"]
    (fb,) = report["fallbacks"]
    assert "mcu_softmax_s8_ref" in fb["used"] and "more than 16 values" in fb["reason"]


@needs_gcc
def test_kws_dscnn_on_cortex_m0plus() -> None:
    _check_bit_exact(ROOT / "models" / "kws_dscnn.tflite", "opt", M0PLUS, seeds=SEEDS[:1])


# --- corner cases built here ------------------------------------------------------------------
def _two_outputs_one_buffer() -> bytes:
    """Two graph outputs that are the same bytes (a RELU6 result and a reshape of it)."""
    b = ModelBuilder()
    x = b.tensor((1, 4, 6), scale=0.05, zero_point=3)
    y = b.tensor((1, 4, 6), scale=0.05, zero_point=3)
    shape = b.tensor((2,), "INT32", data=np.array([1, 24], np.int32))
    z = b.tensor((1, 24), scale=0.05, zero_point=3)
    b.op("RELU6", [x], [y])
    b.op("RESHAPE", [y, shape], [z], new_shape=[1, 24])
    return b.io([x], [y, z]).build()


def _slice_views() -> bytes:
    """A strided slice that is one contiguous run (a view with an offset) feeding a kernel, and
    one that is not (a generated gather loop)."""
    b = ModelBuilder()
    i32 = lambda v: b.tensor((len(v),), "INT32", data=np.array(v, np.int32))  # noqa: E731
    x = b.tensor((1, 8, 4), scale=0.1, zero_point=-2)
    rows = b.tensor((1, 3, 4), scale=0.1, zero_point=-2)
    b.op("STRIDED_SLICE", [x, i32([0, 2, 0]), i32([1, 5, 4]), i32([1, 1, 1])], [rows])
    every_other = b.tensor((1, 4, 2), scale=0.1, zero_point=-2)
    b.op("STRIDED_SLICE", [x, i32([0, 0, 1]), i32([1, 8, 4]), i32([1, 2, 2])], [every_other])
    r6a = b.tensor((1, 3, 4), scale=0.1, zero_point=-2)
    r6b = b.tensor((1, 4, 2), scale=0.1, zero_point=-2)
    b.op("RELU6", [rows], [r6a])
    b.op("RELU6", [every_other], [r6b])
    return b.io([x], [r6a, r6b]).build()


CORNERS = {"two_outputs_one_buffer": _two_outputs_one_buffer, "slice_views": _slice_views}


@needs_gcc
@pytest.mark.parametrize("name", sorted(CORNERS))
def test_corner_models(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(CORNERS[name]())
    _check_bit_exact(path, "opt", seeds=SEEDS[:1])


@needs_gcc
@pytest.mark.slow
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_reference_corner_cases(flavour: str, tmp_path: Path) -> None:
    """Every single-op corner of tests/test_reference_vs_tflm.py through the classic path."""
    from test_reference_vs_tflm import CASES

    failures = []
    for name, make in sorted(CASES.items()):
        path = tmp_path / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.tflite"
        path.write_bytes(make())
        try:
            _check_bit_exact(path, flavour, seeds=SEEDS[:1])
        except (AssertionError, ModelError) as err:
            failures.append(f"{name}: {err}")
    assert not failures, "\n".join(failures)


# 16x8 mode: the files whose every op has a classic 16x8 kernel (OpSpec.int16_paths)
INT16_MODELS = [ROOT / "tests" / "data" / f"{stem}.tflite" for stem in (
    "op16x8_conv2d", "op16x8_conv2d_s2_relu", "op16x8_depthwise_conv2d", "op16x8_fully_connected",
    "op16x8_max_pool_2d", "op16x8_softmax", "net16x8_mixed", "op16x8_average_pool_2d", "op16x8_mean",
    "op16x8_quantize_dequantize", "op16x8_fully_connected_pt")]
# their 16x8 kernels have no opt file: the opt build links the ref code, the ref build is slow-tier
SAME_CODE_BOTH_FLAVOURS = {"op16x8_quantize_dequantize"}


def _int16_params() -> list[object]:
    """(model, flavour): one model per operator set in the default run (one_per_operator_set),
    and the ref build of a model whose kernels have no opt file in the slow tier."""
    out = []
    for p in one_per_operator_set(INT16_MODELS):
        path, marks = (p, []) if isinstance(p, Path) else (p.values[0], list(p.marks))  # type: ignore[attr-defined]
        for f in FLAVOURS:
            slow = [pytest.mark.slow] if f == "ref" and path.stem in SAME_CODE_BOTH_FLAVOURS else []
            out.append(pytest.param(path, f, id=f"{_ids(path)}-{f}", marks=marks + slow))
    return out


@needs_gcc
@pytest.mark.parametrize("path, flavour", _int16_params())
def test_16x8_model_is_bit_exact(path: Path, flavour: str) -> None:
    """int16 activations, int8 weights, int64 bias: the mcu_*_s16 kernels equal the reference
    and tflite-micro bit for bit."""
    _check_bit_exact(path, flavour)


@needs_gcc
def test_16x8_requantizations_are_bit_exact(tmp_path: Path) -> None:
    """QUANTIZE int16 -> int16 -> int8 -> int16 (mcu_quantize_s16, _s16_s8, _s8_s16; no opt
    files, so one flavour)."""
    from test_reference_vs_tflm import quantize_int16_chain

    path = tmp_path / "quantize_int16_chain.tflite"
    path.write_bytes(quantize_int16_chain())
    _check_bit_exact(path, "opt")


def test_16x8_op_without_a_classic_kernel_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every op the reference runs in 16x8 mode has a classic form: pretend MEAN has none
    monkeypatch.setitem(operators.registry(), "MEAN", replace(operators.registry()["MEAN"], int16_paths=()))
    graph = parse_model((ROOT / "tests" / "data" / "op16x8_mean.tflite").read_bytes())
    with pytest.raises(ModelError, match=r"op 0 \(MEAN\) has 16-bit activations.*classic stack has no 16x8 kernel"):
        generate_classic(graph, get_board(BOARD), "ref", tmp_path)


def test_unsupported_mean_axes_name_the_op(tmp_path: Path) -> None:
    b = ModelBuilder()
    x = b.tensor((1, 4, 5, 6), scale=0.05, zero_point=0)
    axes = b.tensor((2,), "INT32", data=np.array([1, 3], np.int32))
    out = b.tensor((1, 5), scale=0.05, zero_point=0)
    b.op("MEAN", [x, axes], [out], keep_dims=False)
    graph = parse_model(b.io([x], [out]).build())
    with pytest.raises(ModelError, match=r"op 0 \(MEAN\)"):
        generate_classic(graph, get_board(BOARD), "ref", tmp_path)


def test_fully_connected_beyond_the_kernel_depth_bound_is_refused(tmp_path: Path) -> None:
    """The classic path builds its FULLY_CONNECTED kernels without their argument check, so the
    generator refuses a call the check would reject (depth 65,536 > 65,535) with one line."""
    b = ModelBuilder()
    x = b.tensor((1, 65536), scale=0.05, zero_point=0)
    w = b.tensor((1, 65536), data=np.ones((1, 65536), np.int8), scale=0.01, zero_point=0)
    out = b.tensor((1, 1), scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, -1], [out])
    graph = parse_model(b.io([x], [out]).build())
    with pytest.raises(ModelError, match=r"^op 0 \(FULLY_CONNECTED\) cannot run on mcu_fully_connected_s8: "
                                         r"depth 65536 exceeds 65535"):
        generate_classic(graph, get_board(BOARD), "opt", tmp_path)


@needs_gcc
def test_16x8_add_mul_logistic_tanh_are_bit_exact(tmp_path: Path) -> None:
    """16x8 ADD (power-of-two scales), MUL (equal shapes and broadcast along the channels),
    LOGISTIC and TANH (TFLite's sigmoid table from the TFLM tree) in one image: mcu_add_s16,
    mcu_mul_s16, mcu_logistic_s16, mcu_tanh_s16 (opt; the ref kernels run in test_tinyml's
    updatable images, the converter files on both flavours in the slow tier)."""
    from tflite_builder import int16_elementwise_model

    path = tmp_path / "int16_elementwise.tflite"
    path.write_bytes(int16_elementwise_model(pot_add=True))
    _check_bit_exact(path, "opt")


@needs_gcc
@pytest.mark.parametrize("board_name, flavour", [
    (BOARD, "opt"),
    pytest.param(BOARD, "ref", marks=pytest.mark.slow),
    pytest.param("stm32h743zi", "opt", marks=pytest.mark.slow),
    pytest.param(M0PLUS, "opt", marks=pytest.mark.slow)])
def test_16x8_conv_chain_is_bit_exact(tmp_path: Path, board_name: str, flavour: str) -> None:
    """mcu_conv_s16 / mcu_depthwise_conv_s16 around the optimized kernels' boundaries (odd
    channel counts, 1x1, stride 2, dilation 2, depth multiplier 2, an odd pixel count, more than
    32 output channels, K = 576 > 511, two images) in one model; the Cortex-M7 (DSP) and M0+
    (reference code) in the slow tier."""
    from tflite_builder import int16_conv_chain_model

    path = tmp_path / "int16_conv_chain.tflite"
    path.write_bytes(int16_conv_chain_model(batch=2))
    _check_bit_exact(path, flavour, board_name)


@needs_gcc
def test_16x8_conv_sums_beyond_int32_are_exact(tmp_path: Path) -> None:
    """mcu_conv_s16 (opt) sums in int32 blocks merged in int64: window sums of +-576 * 2^22
    (past 2^31) come out as TFLM's int64 reference (an int32 sum over K = 576 would wrap)."""
    from tflite_builder import int16_conv_overflow_model

    path = tmp_path / "int16_conv_overflow.tflite"
    path.write_bytes(int16_conv_overflow_model())
    _check_bit_exact(path, "opt", seeds=SEEDS[:1])


@pytest.mark.slow
@needs_gcc
@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("path", [ROOT / "tests" / "data" / f"op16x8_{op}.tflite"
                                  for op in ("add", "mul", "logistic", "tanh")], ids=_ids)
def test_16x8_elementwise_model_is_bit_exact(path: Path, flavour: str) -> None:
    """The converter's 16x8 ADD (general scales), MUL, LOGISTIC, TANH files, one image each."""
    _check_bit_exact(path, flavour)


# --- the memory plan ------------------------------------------------------------------------
@needs_gcc
@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("path", MODELS, ids=_ids)
def test_plan_has_no_live_overlap_and_beats_naive(path: Path, flavour: str, tmp_path: Path) -> None:
    graph = load_model(path)
    cm = generate_classic(graph, get_board(BOARD), flavour, tmp_path)
    assert find_conflicts(cm.buffers, cm.plan) == []
    assert cm.plan.lower_bound <= cm.plan.size <= cm.notes["arena_naive_bytes"]
    assert cm.notes["arena_bytes"] == cm.plan.size
    # every arena tensor is live from the op writing it to the last op reading it
    for b in cm.buffers:
        assert b.first <= b.last


@needs_gcc
def test_arena_symbol_is_the_planned_size() -> None:
    graph, fw = _firmware(ROOT / "models" / "kws_dscnn.tflite", "opt", BOARD)
    elf, _ = build_firmware(fw)
    assert fw.arena_symbol == "model_arena"
    assert elf.symbol("model_arena").size == fw.notes["arena_bytes"]
    assert fw.notes["arena_bytes"] < fw.notes["arena_naive_bytes"]


@needs_gcc
def test_inputs_and_outputs_are_arena_tensors() -> None:
    """No I/O buffers besides the arena: the input and output pointers point into it, the input
    is planned from step 0 (so its bytes are reused once it is dead) and the output to the
    end, and static RAM outside the arena is the two pointers."""
    graph, fw = _firmware(ROOT / "models" / "kws_dscnn.tflite", "opt", BOARD)
    result = run_firmware(fw, graph, _inputs(graph, 0))
    arena = result.elf.symbol("model_arena")
    m = Machine(result.elf, get_board(BOARD))
    for sym, t in zip(fw.input_symbols + fw.output_symbols, graph.input_tensors() + graph.output_tensors()):
        at = int.from_bytes(m.read_symbol(f"{sym}_tensor", 4), "little")
        assert arena.addr <= at and at + t.nbytes <= arena.addr + arena.size, sym
    (tin,) = graph.inputs
    (tout,) = graph.outputs
    bufs = {b.name: b for b in generate_classic(graph, get_board(BOARD), "opt", fw.include_dirs[0]).buffers}
    assert bufs[f"t{tin}"].first == 0
    assert bufs[f"t{tout}"].last == len(graph.ops) - 1
    assert result.report["ram_breakdown"]["static"] == 8


@needs_gcc
def test_scratch_sizes_come_from_the_kernels() -> None:
    """opt conv/FC on the M4 need scratch (their get_buffer_size says so); ref kernels none."""
    _, opt = _firmware(ROOT / "models" / "kws_dscnn.tflite", "opt", BOARD)
    _, ref = _firmware(ROOT / "models" / "kws_dscnn.tflite", "ref", BOARD)
    assert opt.notes["scratch_bytes"] > 0
    assert ref.notes["scratch_bytes"] == 0
    assert "C" in opt.notes["scratch_sizing"]


# --- the generated code -----------------------------------------------------------------------
@needs_gcc
@pytest.mark.parametrize("path", MODELS, ids=_ids)
def test_generated_code_is_commented_per_layer(path: Path) -> None:
    graph, fw = _firmware(path, "opt", BOARD)
    src = Path(next(p for p, c in fw.sources.items() if c == "code")).read_text()
    folded = {f["index"] for f in fw.notes["folded_ops"]}
    for op in graph.ops:
        if op.index in folded:
            assert f"/* op {op.index}: {op.type} -- folded" in src
            continue
        m = re.search(rf"/\* op {op.index}: {op.type}\n(.*?)\*/", src, re.S)
        assert m, f"no comment for op {op.index} ({op.type})"
        comment = m.group(1)
        out = graph.tensors[op.outputs[0]]
        assert "x".join(map(str, out.shape)) in comment, f"op {op.index}: output shape missing"
        assert "scale" in comment, f"op {op.index}: quantization missing"
        assert f"MCUSIM_TAG_OP_BEGIN({op.index})" in src and f"MCUSIM_TAG_OP_END({op.index})" in src
    weights = Path(next(p for p, c in fw.sources.items() if c == "weights")).read_text()
    arrays = re.findall(r"^(.*)\[\d+\] = \{", weights, re.M)
    assert arrays and all(a.startswith("const ") for a in arrays), "weights must all be const"
    for banned in ("malloc", "flatbuffer", "tflite"):
        assert banned not in src.lower().replace(".tflite", ""), banned


@needs_gcc
def test_report_lists_only_the_ops_that_run() -> None:
    path = ROOT / "models" / "anomaly_cnn1d.tflite"
    report = _check_bit_exact(path, "opt", seeds=SEEDS[:1])
    graph, fw = _firmware(path, "opt", BOARD)
    folded = {f["index"] for f in fw.notes["folded_ops"]}
    assert {op.index for op in graph.ops if op.type in ("RESHAPE", "EXPAND_DIMS", "SHAPE", "STRIDED_SLICE", "PACK")} == folded
    assert [r["index"] for r in report["ops"]] == [op.index for op in graph.ops if op.index not in folded]
    assert report["dispatch_share"] < 0.05
    assert {"weights", "code", "kernels", "runtime", "startup"} <= set(report["flash_breakdown"])
    assert report["ram_breakdown"]["arena"] == report["arena_bytes"]


# --- export ---------------------------------------------------------------------------------
@needs_gcc
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_exported_project_builds_with_make(tmp_path: Path) -> None:
    path = ROOT / "models" / "har_cnn_pc.tflite"
    graph = load_model(path)
    board = get_board(BOARD)
    fw = export_classic(graph, board, "opt", tmp_path / "export", path.name)
    proc = subprocess.run(["make", "-j4"], cwd=tmp_path / "export", capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    made = Elf(tmp_path / "export" / "build" / "firmware.elf")
    ours, _ = build_firmware(fw)
    assert made.flash_bytes == ours.flash_bytes
    assert made.static_ram_bytes == ours.static_ram_bytes
    # Same code and data, byte for byte (debug info differs only in paths).
    assert [(s.paddr, s.data) for s in made.segments] == [(s.paddr, s.data) for s in ours.segments]
    inputs = _inputs(graph, 0)
    m = Machine(made, board)
    give_inputs(m, fw, graph, inputs)
    assert m.run().exit_code == 0
    got = take_outputs(m, fw, graph)[0]
    assert np.array_equal(got.reshape(-1), run_graph(graph, inputs)[0].reshape(-1))


@needs_gcc
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_depthwise_of_one_channel_runs_as_a_convolution(tmp_path: Path, flavour: str) -> None:
    """A DEPTHWISE_CONV_2D of one input channel into M = 8 outputs (micro_speech's and
    person_detect's first layer, smaller) is emitted as mcu_conv_s8 on a filter transposed on the
    host: bit-exact with the numpy reference and tflite-micro, and the report names the kernel."""
    path = _window_op_model(tmp_path / "dw_c1_m8.tflite", "DEPTHWISE_CONV_2D", (1, 13, 11, 1), (1, 5, 4, 8), 3,
                            (1, 7, 6, 8), seed=5, stride_w=2, stride_h=2, depth_multiplier=8,
                            fused_activation_function="RELU")
    report = _check_bit_exact(path, flavour)
    (op,) = report["ops"]
    assert op["type"] == "DEPTHWISE_CONV_2D" and op["kernel"] == "mcu_conv_s8"
