"""The tinyml path: mcusim's micro-interpreter (kernels/runtime/) on target and on the host.

* Host C (native gcc, no ARM toolchain): quantize.c's integer-exact QuantizeMultiplier against
  mcusim/frontend/quant.py on random float32 scales; the whole runtime under AddressSanitizer on
  corrupted flatbuffers (a status, never a crash) and on the single-op corner cases of
  test_reference_vs_tflm.py.
* End to end (arm-none-eabi-gcc + the simulator + tflite-micro): every model in models/ and
  every tests/data/op_*.tflite, both kernel flavours, on stm32f411ce, equal to
  mcusim.reference.run_graph and to the tflite-micro interpreter bit for bit; an unsupported op
  and corrupt flatbuffers give their status, no fault; the arena the firmware reports matches
  its plan; a second model runs on the same image when only the model region is rewritten;
  no soft-double helpers in the image; the framework's flash.
"""

from __future__ import annotations

import ctypes
import functools
import shutil
import struct
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from simhelpers import needs_gcc, one_per_operator_set

from mcusim import operators
from mcusim.build.toolchain import KERNELS
from mcusim.errors import FirmwareFault, McusimError
from mcusim.frontend import quant as q
from mcusim.frontend.graph import Graph
from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import load_model, parse_model
from mcusim.simulator.board import get_board
from mcusim.simulator.isa import Decoder
from mcusim.simulator.machine import Machine
from mcusim.stacks.deploy import Firmware, build_firmware, run_firmware
from mcusim.stacks.tflmtables import sigmoid_table_source
from mcusim.stacks.tflmtree import TflmTreeError
from mcusim.stacks.tinyml import (
    FRAMEWORK_SOURCES,
    MODEL_SYMBOL,
    RUNTIME_DIR,
    STATUS_MESSAGES,
    build_tinyml,
    build_updatable,
    give_inputs,
    model_update_flash,
    plan_head_bytes,
    take_outputs,
    write_model,
)

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").glob("*.tflite"))
OP_MODELS = sorted((ROOT / "tests" / "data").glob("op_*.tflite"))
FLAVOURS = ("opt", "ref")
BOARD = get_board("stm32f411ce")

needs_host_cc = pytest.mark.skipif(shutil.which("gcc") is None, reason="host gcc not installed")

# main()'s statuses (kernels/runtime/mcu_runtime.h)
CORRUPT, NOT_TFLITE, SCHEMA_VERSION, UNSUPPORTED_OP, ARENA_TOO_SMALL = 1, 2, 3, 4, 5


def _name(p: Path) -> str:
    return p.stem


def _graph(path: Path) -> Graph | None:
    """The model, or None when mcusim's frontend rejects it (nothing to compare then)."""
    try:
        return load_model(path)
    except Exception:  # noqa: BLE001 - a frontend refusal is tested elsewhere
        return None


def _inputs(graph: Graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, t.shape).astype(np.int8) if t.dtype == "INT8"
            else rng.integers(-32768, 32768, t.shape).astype(np.int16) if t.dtype == "INT16"
            else rng.normal(0.0, 2.0, t.shape).astype(np.float32) for t in graph.input_tensors()]


def _tflm(raw: bytes, inputs: list[np.ndarray], outputs: int) -> list[np.ndarray]:
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    interp = runtime.Interpreter.from_bytes(raw, arena_size=1 << 22)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    return [np.asarray(interp.get_output(i)) for i in range(outputs)]


def _same(a: np.ndarray, b: Any) -> bool:
    b = np.asarray(b).reshape(a.shape)
    return a.dtype == b.dtype and np.array_equal(a.view(np.uint8) if a.dtype.kind == "f" else a,
                                                 b.view(np.uint8) if b.dtype.kind == "f" else b)


def _assert_bit_exact(graph: Graph, inputs: list[np.ndarray], got: list[np.ndarray], what: str) -> None:
    expected = run_graph(graph, inputs)
    tflm = _tflm(graph.raw, inputs, len(graph.outputs))
    for k, (mine, ref, theirs) in enumerate(zip(got, expected, tflm)):
        assert _same(mine, ref), f"{what}: output {k} differs from mcusim.frontend.reference"
        assert _same(mine, theirs), f"{what}: output {k} differs from tflite-micro"


# --- host C: the quantization math --------------------------------------------------------------
def _host_compile(out: Path, sources: list[Path], *flags: str, shared: bool = False) -> Path:
    cmd = ["gcc", "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-DMCUSIM_NO_PROBE",
           f"-I{RUNTIME_DIR}", f"-I{KERNELS / 'include'}", *flags,
           *(["-shared", "-fPIC"] if shared else []), "-o", str(out), *map(str, sources)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


@pytest.fixture(scope="module")
def quant_lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    out = tmp_path_factory.mktemp("quant") / "libquant.so"
    _host_compile(out, [RUNTIME_DIR / "quantize.c", RUNTIME_DIR / "tests" / "quant_exports.c"], shared=True)
    return ctypes.CDLL(str(out))


def _bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def _call_qm(fn: Any, *args: int) -> tuple[int, int]:
    mult, shift = ctypes.c_int32(), ctypes.c_int32()
    fn(*(ctypes.c_uint32(a) if a >= 0 else ctypes.c_int32(a) for a in args), ctypes.byref(mult), ctypes.byref(shift))
    return mult.value, shift.value


scales = st.floats(min_value=2.0**-40, max_value=2.0**14, width=32, allow_subnormal=False)
F32_1_PLUS_2M8, F32_1_PLUS_2M23 = struct.unpack("<ff", struct.pack("<II", 0x3F808000, 0x3F800001))


@needs_host_cc
@settings(max_examples=3000, deadline=None)
@given(a=scales, b=scales, c=scales)
@example(a=F32_1_PLUS_2M8, b=F32_1_PLUS_2M23, c=1.0)   # q * 2^31 is an exact tie
@example(a=1.0, b=1.0, c=1.0)
@example(a=0.5, b=1.0, c=3.0)
def test_quantize_multiplier_equals_tflm_double_math(quant_lib: ctypes.CDLL, a: float, b: float, c: float) -> None:
    fa, fb, fc = np.float32(a), np.float32(b), np.float32(c)
    # CONV_2D / FC per-channel / MUL / PRELU: double product, double division
    assert _call_qm(quant_lib.qm_double, _bits(fa), _bits(fb), _bits(fc), 0) == \
        q.quantize_multiplier(float(fa) * float(fb) / float(fc))
    # FULLY_CONNECTED per-tensor: the product rounded to float32 first
    assert _call_qm(quant_lib.qm_double, _bits(fa), _bits(fb), _bits(fc), 1) == \
        q.quantize_multiplier(float(fa * fb) / float(fc))
    # ratios (RELU, QUANTIZE, MEAN, ADD): double division
    assert _call_qm(quant_lib.qm_double, _bits(fa), 0, _bits(fc), 0) == \
        q.quantize_multiplier(float(fa) / float(fc))
    # LEAKY_RELU / HARD_SWISH: float32 arithmetic
    assert _call_qm(quant_lib.qm_float, _bits(fa), _bits(fb), _bits(fc)) == \
        q.quantize_multiplier(float(fa * fb / fc))
    assert _call_qm(quant_lib.qm_float, _bits(fa), 0, _bits(fc)) == q.quantize_multiplier(float(fa / fc))
    # SOFTMAX: beta * scale * 2^26, capped at 2^31 - 1
    assert _call_qm(quant_lib.qm_scaled_product, _bits(fa), _bits(fb), 26, 1) == \
        q.preprocess_softmax_scaling(float(fa), float(fb), 5)
    # LOGISTIC / TANH: scale * 2^27, exact
    assert _call_qm(quant_lib.qm_scaled_product, _bits(fa), _bits(np.float32(1.0)), 27, 0) == \
        q.quantize_multiplier_frexp_only(float(fa) * float(1 << 27))


@needs_host_cc
@settings(max_examples=2000, deadline=None)
@given(scale=st.floats(min_value=2.0**-16, max_value=2.0**14, width=32, allow_subnormal=False),
       value=st.sampled_from([6, 1, -1, 3, -128]))
def test_activation_bound_rounds_like_float32_division(quant_lib: ctypes.CDLL, scale: float, value: int) -> None:
    quant_lib.round_div.restype = ctypes.c_int32
    got = quant_lib.round_div(ctypes.c_int32(value), ctypes.c_uint32(_bits(np.float32(scale))))
    assert got == q.round_half_away(float(np.float32(value) / np.float32(scale)))


# --- host C: the whole runtime under AddressSanitizer -------------------------------------------
@pytest.fixture(scope="module")
def host_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("host gcc not installed")
    from mcusim.stacks.tinyml import glue_of, registry_c, runtime_ops

    work = tmp_path_factory.mktemp("host")
    glue = [glue_of(op) for op in runtime_ops()]
    registry = work / "ops.c"
    registry.write_text(registry_c(sorted({g.registration for g in glue}), "every op the runtime has"))
    sources = [*FRAMEWORK_SOURCES, *sorted({RUNTIME_DIR / "ops" / g.glue for g in glue}), registry,
               RUNTIME_DIR / "tests" / "host_run.c", *sorted((KERNELS / "src" / "ref").rglob("*.c"))]
    try:  # the LSTM kernel's int16 sigmoid table, generated from the TFLM tree (tflmtables)
        sources.append(sigmoid_table_source(work / "tables"))
    except TflmTreeError as e:
        pytest.skip(f"no TFLM tree for the LSTM's sigmoid table: {e}")
    return _host_compile(work / "host_run", sources, "-DMCU_RT_SIGMOID_TABLE=1",  # the table is linked
                         "-fsanitize=address,undefined", "-fno-sanitize-recover=all")


def _host_run(exe: Path, tmp: Path, raw: bytes, inputs: list[np.ndarray]) -> tuple[int, bytes, str]:
    model, data = tmp / "model.tflite", tmp / "inputs.bin"
    model.write_bytes(raw)
    data.write_bytes(b"".join(x.tobytes() for x in inputs))
    p = subprocess.run([str(exe), str(model), str(data)], capture_output=True, timeout=60)
    err = p.stderr.decode(errors="replace")
    assert "Sanitizer" not in err and "runtime error" not in err, err[-2000:]
    assert 0 <= p.returncode <= 9, f"host runtime died with {p.returncode}: {err[-2000:]}"
    return p.returncode, p.stdout, err


@functools.cache
def _corner_cases() -> dict[str, Any]:
    """The single-op corner cases of tests/unit/test_reference_vs_tflm.py (conftest puts
    tests/unit on the path)."""
    try:
        from test_reference_vs_tflm import CASES
    except pytest.skip.Exception:  # tflite-micro missing: no builder either
        return {}
    return dict(CASES)


@pytest.mark.parametrize("case", sorted(_corner_cases()))
def test_host_runtime_matches_reference_on_corner_cases(host_runtime: Path, tmp_path: Path, case: str) -> None:
    raw = _corner_cases()[case]()
    graph = parse_model(raw)
    for seed in (0, 1):
        inputs = _inputs(graph, seed)
        status, out, err = _host_run(host_runtime, tmp_path, raw, inputs)
        assert status == 0, f"{case}: {STATUS_MESSAGES.get(status)} ({err.strip()})"
        want = b"".join(np.asarray(e).astype(t.numpy_dtype).tobytes()
                        for e, t in zip(run_graph(graph, inputs), graph.output_tensors()))
        assert out == want, f"{case} differs from mcusim.frontend.reference (seed {seed})"


def _structure_end(raw: bytes) -> int:
    """Bytes before the first large constant buffer: where the tables live (the converter
    writes the buffers' data after the tables)."""
    graph = parse_model(raw)
    starts = [raw.find(t.data.tobytes()) for t in graph.tensors
              if t.data is not None and t.data.nbytes >= 64]
    starts = [s for s in starts if s > 0]
    return min(starts) if starts else len(raw)


@pytest.mark.parametrize("model", ["kws_fc", "anomaly_cnn1d"])
def test_corrupt_flatbuffers_give_a_status_never_a_crash(host_runtime: Path, tmp_path: Path, model: str) -> None:
    raw = (ROOT / "models" / f"{model}.tflite").read_bytes()
    graph = parse_model(raw)
    inputs = _inputs(graph, 0)
    end = _structure_end(raw)
    rng = np.random.default_rng(7)
    statuses: dict[int, int] = {}
    for trial in range(150):
        data = bytearray(raw)
        kind = trial % 3
        if kind == 0:  # random bytes in the tables
            for pos in rng.integers(0, end, int(rng.integers(1, 4))):
                data[pos] = int(rng.integers(0, 256))
        elif kind == 1:  # a 32-bit word (offsets, lengths, indices) set to an extreme
            pos = int(rng.integers(0, end // 4)) * 4
            data[pos:pos + 4] = struct.pack("<I", int(rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000,
                                                                  len(raw), len(raw) - 2])))
        else:  # truncated
            data = data[:int(rng.integers(0, len(raw)))]
        status, _, _ = _host_run(host_runtime, tmp_path, bytes(data), inputs)
        statuses[status] = statuses.get(status, 0) + 1
    assert statuses.get(CORRUPT, 0) > 20, statuses  # most corruptions are caught as such


SHARED_MODELS = ROOT.parent / "shared" / "models"


def test_runtime_planner_beats_greedy_by_size(host_runtime: Path, tmp_path: Path) -> None:
    """planner.c's head equals its Python replica on every bundled model, and on MLPerf Tiny's
    VWW (where TFLM's greedy-by-size first fit needs 64,512 bytes: the size x lifetime order
    reaches the busiest step's 55,296, the optimum) it is that optimum. The reference kernels
    of the host build need no scratch."""
    vww = SHARED_MODELS / "vww_96_int8.tflite"
    models = sorted((ROOT / "models").glob("*.tflite")) + ([vww] if vww.is_file() else [])
    for model in models:
        raw = model.read_bytes()
        graph = parse_model(raw)
        status, _, err = _host_run(host_runtime, tmp_path, raw, _inputs(graph, 0))
        assert status == 0, f"{model.name}: {err}"
        head = int(err.split("head=")[1].split()[0])
        assert head == plan_head_bytes(graph), model.name
        if model == vww:
            assert head == 55296


def test_runtime_reports_arena_too_small_and_the_size_it_needs(host_runtime: Path, tmp_path: Path) -> None:
    raw = (ROOT / "models" / "kws_fc.tflite").read_bytes()
    graph = parse_model(raw)
    (tmp_path / "m.tflite").write_bytes(raw)
    (tmp_path / "in.bin").write_bytes(_inputs(graph, 0)[0].tobytes())

    def run(arena: int | None) -> tuple[int, str]:
        args = [str(host_runtime), str(tmp_path / "m.tflite"), str(tmp_path / "in.bin")]
        p = subprocess.run(args + ([str(arena)] if arena is not None else []), capture_output=True)
        return p.returncode, p.stderr.decode()

    status, err = run(None)
    used = int(err.split("used=")[1].split()[0])
    assert status == 0
    assert run(used)[0] == 0
    assert run(used - 4)[0] == ARENA_TOO_SMALL
    assert run(64)[0] == ARENA_TOO_SMALL


# --- end to end: models on the simulated stm32f411ce --------------------------------------------
_DECODERS: dict[Path, Decoder] = {}


def _machine(fw: Firmware) -> Machine:
    """A fresh machine for fw's image. Machine disassembles the whole image on every run
    (~2 s in Python): runs of one image share one Decoder, whose cache is by address."""
    elf, _ = build_firmware(fw)
    m = Machine(elf, fw.board, snapshot_probes=True)
    m._decoder = _DECODERS.setdefault(elf.path, m._decoder)
    return m


def _run(fw: Firmware, graph: Graph, inputs: list[np.ndarray], raw: bytes | None = None) -> tuple[int, list[np.ndarray], Machine]:
    m = _machine(fw)
    if raw is not None:
        write_model(m, raw)
    give_inputs(m, fw, graph, inputs)
    res = m.run()
    return res.exit_code, take_outputs(m, fw, graph) if res.exit_code == 0 else [], m


def _word(m: Machine, name: str) -> int:
    return int.from_bytes(m.read_symbol(name, 4), "little", signed=True)


@functools.cache
def _model_firmware(path: Path, kernels: str) -> Firmware:
    return build_tinyml(load_model(path), BOARD, kernels=kernels)


@functools.cache
def _updatable(kernels: str) -> Firmware:
    return build_updatable(BOARD, kernels, model_capacity=64 * 1024, arena_size=32 * 1024, max_outputs=4)


@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
@pytest.mark.parametrize("model", MODELS, ids=_name)
def test_model_matches_reference_and_tflm(model: Path, kernels: str) -> None:
    graph = load_model(model)
    fw = _model_firmware(model, kernels)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(fw, graph, inputs)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"{model.name} ({kernels})")


@needs_gcc
def _op_model_cases():
    """opt on every op model; ref on one model per operator set (the ref kernels have their own
    bit-exact tests in test_kernels.py), the other ref cells slow."""
    for kernels in FLAVOURS:
        for p in (OP_MODELS if kernels == "opt" else one_per_operator_set(OP_MODELS)):
            model = p if isinstance(p, Path) else p.values[0]
            marks = [] if isinstance(p, Path) else list(p.marks)
            yield pytest.param(model, kernels, id=f"{model.stem}-{kernels}", marks=marks)


@pytest.mark.parametrize("model, kernels", _op_model_cases())
def test_op_model_matches_reference_and_tflm(model: Path, kernels: str) -> None:
    """Every op model on one updatable image per flavour (all ops registered), its bytes
    written to the model region: no rebuild per model."""
    graph = _graph(model)
    if graph is None:
        pytest.skip(f"mcusim's frontend refuses {model.name}")
    fw = _updatable(kernels)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(fw, graph, inputs, raw=graph.raw)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"{model.name} ({kernels})")


@needs_gcc
def test_deploy_report_has_startup_arena_and_flash_breakdown() -> None:
    model = ROOT / "models" / "kws_fc.tflite"
    graph = load_model(model)
    fw = _model_firmware(model, "opt")
    result = run_firmware(fw, graph, _inputs(graph, 0))
    rep = result.report
    assert rep["path"] == "tinyml" and rep["startup_cycles"] > 0
    assert {"runtime", "op_glue", "model", "kernels", "app"} <= set(rep["flash_breakdown"])
    assert rep["flash_breakdown"]["model"] == rep["model_region_bytes"]
    assert rep["ram_breakdown"]["arena"] == rep["arena_used_bytes"]
    assert [op["type"] for op in rep["ops"]] == [op.type for op in graph.ops]
    assert 0 < rep["dispatch_share"] < 0.1
    # kws_fc: three FULLY_CONNECTED and a SOFTMAX, all on optimized kernels: no reference code
    assert not any("ref_code" in op for op in rep["ops"])


@needs_gcc
def test_deploy_report_names_reference_code_per_op() -> None:
    """An op whose kernel has no optimized file (CONCATENATION) is named in the opt run's
    report, from the functions that ran."""
    model = ROOT / "tests" / "data" / "op_concatenation.tflite"
    graph = load_model(model)
    rep = run_firmware(_model_firmware(model, "opt"), graph, _inputs(graph, 0)).report
    flagged = [op for op in rep["ops"] if "ref_code" in op]
    assert [op["type"] for op in flagged] == ["CONCATENATION"]
    assert flagged[0]["ref_code"]["cause"] == "no-opt-kernel"
    assert "mcu_concatenation_s8" in flagged[0]["ref_code"]["functions"]


@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
def test_arena_used_bytes_matches_plan(kernels: str) -> None:
    """The arena the firmware reports is what its plan needs: the planned (head) part equals
    the Python replica of the planner; an arena of exactly that size runs; 4 bytes less
    stops at start-up with ARENA_TOO_SMALL."""
    model = ROOT / "models" / "kws_fc.tflite"
    graph = load_model(model)
    fw = _model_firmware(model, kernels)
    used = fw.notes["arena_used_bytes"]
    status, _, m = _run(fw, graph, _inputs(graph, 0))
    assert status == 0
    assert _word(m, "mcu_arena_used") == used == m.elf.symbol(fw.arena_symbol).size
    # Scratch: the optimized FC converts its input to int16 (2 bytes per value, 4-aligned).
    scratch = {op.index: 2 * ((graph.tensors[op.inputs[1]].shape[1] + 3) & ~3)
               for op in graph.ops if op.type == "FULLY_CONNECTED"} if kernels == "opt" else {}
    assert _word(m, "mcu_arena_head") == plan_head_bytes(graph, scratch)
    assert _word(m, "mcu_arena_head") + _word(m, "mcu_arena_tail") == used
    small = build_tinyml(graph, BOARD, kernels=kernels, arena_size=used - 4)
    status, _, m = _run(small, graph, _inputs(graph, 0))
    assert status == ARENA_TOO_SMALL
    assert _word(m, "mcu_error_detail") >= used - 4


@needs_gcc
def test_inputs_and_outputs_are_arena_tensors() -> None:
    """The application has no I/O buffers: its input and output pointers point into the arena
    (written by the host at INPUTS_READY), and static RAM is the interpreter and a few words,
    less than the 250-byte input alone."""
    model = ROOT / "models" / "kws_fc.tflite"
    graph = load_model(model)
    fw = _model_firmware(model, "opt")
    assert fw.io_ready_probe is not None
    status, outputs, m = _run(fw, graph, _inputs(graph, 0))
    assert status == 0
    _assert_bit_exact(graph, _inputs(graph, 0), outputs, "kws_fc, I/O in the arena")
    arena = m.elf.symbol(fw.arena_symbol)
    for sym in fw.input_symbols + fw.output_symbols:
        at = _word(m, sym)
        assert arena.addr <= at < arena.addr + arena.size, sym
    rep = run_firmware(fw, graph, _inputs(graph, 0)).report
    assert rep["ram_breakdown"]["static"] < graph.input_tensors()[0].nbytes


@needs_gcc
def test_kws_fc_arena_is_no_larger_than_tflms() -> None:
    """TFLM (Cortex-M4F, reference kernels) needs 2,020 bytes of arena for this 250-64-32-16
    FC model (issue 4)."""
    for kernels in FLAVOURS:
        assert _model_firmware(ROOT / "models" / "kws_fc.tflite", kernels).notes["arena_used_bytes"] <= 2020


@needs_gcc
def test_unsupported_op_stops_with_its_status() -> None:
    """kws_fc's image (FULLY_CONNECTED + SOFTMAX registered) given kws_fc with SOFTMAX's
    operator code changed to TANH: the registry has no TANH."""
    pytest.importorskip("tflite_micro")
    model = ROOT / "models" / "kws_fc.tflite"
    graph = load_model(model)
    raw = bytearray(graph.raw)
    # OperatorCode tables hold the code twice (deprecated byte and int32): rewrite the table
    # whose builtin_code is 25 (SOFTMAX).
    from tflite_builder import fb  # the schema's object API (tflite-micro package)
    m = fb.ModelT.InitFromPackedBuf(bytes(raw), 0)
    for oc in m.operatorCodes:
        if oc.builtinCode == fb.BuiltinOperator.SOFTMAX:
            oc.builtinCode = oc.deprecatedBuiltinCode = fb.BuiltinOperator.TANH
    import flatbuffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    changed = bytes(builder.Output())
    fw = _model_firmware(model, "opt")
    status, _, mach = _run(fw, graph, _inputs(graph, 0), raw=changed)
    assert status == UNSUPPORTED_OP
    assert _word(mach, "mcu_error_op") == 3
    assert _word(mach, "mcu_error_detail") == fb.BuiltinOperator.TANH
    with pytest.raises(FirmwareFault, match="op registry does not have"):
        from mcusim.stacks.tinyml import run_with_model
        run_with_model(fw, changed, graph, _inputs(graph, 0))


@needs_gcc
@pytest.mark.parametrize("corruption,status", [
    ("identifier", NOT_TFLITE),
    ("version", SCHEMA_VERSION),
    ("truncated", CORRUPT),
    ("root_offset", CORRUPT),
    ("empty", CORRUPT),
])
def test_corrupt_flatbuffer_on_target_gives_its_status(corruption: str, status: int) -> None:
    model = ROOT / "models" / "kws_fc.tflite"
    graph = load_model(model)
    raw = bytearray(graph.raw)
    if corruption == "identifier":
        raw[4:8] = b"TFL2"
    elif corruption == "version":
        root = struct.unpack_from("<I", raw, 0)[0]  # Model table; its vtable's slot 0: version
        vtable = root - struct.unpack_from("<i", raw, root)[0]
        version_pos = root + struct.unpack_from("<H", raw, vtable + 4)[0]
        raw[version_pos:version_pos + 4] = struct.pack("<I", 2)
        assert parse_model(bytes(raw)).version == 2
    elif corruption == "truncated":
        raw = raw[:len(raw) // 3]
    elif corruption == "root_offset":
        raw[0:4] = struct.pack("<I", 0xFFFFFFF0)
    else:
        raw = bytearray()
    got, _, _ = _run(_model_firmware(model, "opt"), graph, _inputs(graph, 0), raw=bytes(raw))
    assert got == status, STATUS_MESSAGES.get(got)


@needs_gcc
def test_model_update_rewrites_only_the_model_region() -> None:
    """har_cnn_pc's image runs har_cnn_pt (same op set, per-tensor instead of per-channel
    weights) after only the model region is rewritten; that region is a fraction of the
    image."""
    new, old = load_model(ROOT / "models" / "har_cnn_pt.tflite"), load_model(ROOT / "models" / "har_cnn_pc.tflite")
    assert new.op_types() == old.op_types()
    fw = _model_firmware(ROOT / "models" / "har_cnn_pc.tflite", "opt")
    inputs = _inputs(new, 3)
    status, outputs, m = _run(fw, new, inputs, raw=new.raw)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(new, inputs, outputs, "har_cnn_pt on har_cnn_pc's image")
    flash = model_update_flash(m.elf)
    assert flash["model_region_bytes"] == 16 + ((len(old.raw) + 15) & ~15)
    assert flash["model_region_bytes"] < flash["image_bytes"]
    # the code is the same image: in flash, only the region's bytes differ from the ELF
    region = m.elf.symbol(MODEL_SYMBOL)
    for seg in m.elf.segments:
        if BOARD.region_at(seg.paddr).kind != "flash":
            continue
        now = bytearray(m.read(seg.paddr, len(seg.data)))
        was = bytearray(seg.data)
        lo, hi = max(region.addr - seg.paddr, 0), max(region.addr + region.size - seg.paddr, 0)
        now[lo:hi] = was[lo:hi] = b""
        assert now == was


@needs_gcc
def test_model_larger_than_the_region_is_refused() -> None:
    fw = _model_firmware(ROOT / "models" / "kws_fc.tflite", "opt")
    with pytest.raises(Exception, match="does not fit"):
        write_model(_machine(fw), bytes(200_000))


# --- the image: no soft double, framework flash ------------------------------------------------
SOFT_DOUBLE = ("__aeabi_d", "__adddf3", "__subdf3", "__muldf3", "__divdf3", "__extendsfdf2",
               "__truncdfsf2", "__floatsidf", "__fixdfsi", "__aeabi_f2d", "frexp", "ldexp")


@needs_gcc
@pytest.mark.parametrize("model", MODELS, ids=_name)
def test_no_soft_double_helpers_in_the_image(model: Path) -> None:
    elf, _ = build_firmware(_model_firmware(model, "opt"))
    found = sorted(n for n in elf.symbols if n.startswith(SOFT_DOUBLE))
    assert not found, f"soft-double helpers linked: {found}"


@needs_gcc
def test_framework_flash_is_at_most_7_kb() -> None:
    """Interpreter, flatbuffer reader, planner, quantization math and op registry (kernels and
    op glue excluded), -O2, Cortex-M4F: issue 4's target, half of TFLM's 12.8-14.0 KB."""
    for model in MODELS:
        _, cmap = build_firmware(_model_firmware(model, "opt"))
        assert cmap.flash["runtime"] <= 7 * 1024, (model.name, cmap.flash)


def test_every_frontend_op_has_glue() -> None:
    from mcusim.frontend.validate import supported_ops
    from mcusim.stacks.tinyml import glue_of, runtime_ops

    assert runtime_ops() == sorted(supported_ops())
    for op in runtime_ops():
        assert (RUNTIME_DIR / "ops" / glue_of(op).glue).is_file()


# --- slow: more inputs, every op model built on its own --------------------------------------
# 16x8 mode: the files whose every op has a tinyml 16x8 form (OpSpec.int16_paths)
INT16_MODELS = [ROOT / "tests" / "data" / f"{stem}.tflite" for stem in (
    "op16x8_conv2d", "op16x8_conv2d_s2_relu", "op16x8_depthwise_conv2d", "op16x8_fully_connected",
    "op16x8_max_pool_2d", "op16x8_softmax", "net16x8_mixed", "op16x8_average_pool_2d", "op16x8_mean",
    "op16x8_quantize_dequantize", "op16x8_fully_connected_pt")]


@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
@pytest.mark.parametrize("model", INT16_MODELS, ids=_name)
def test_16x8_model_matches_reference_and_tflm(model: Path, kernels: str) -> None:
    """int16 activations, int8 weights, int64 bias through the runtime's s16 kernels."""
    graph = load_model(model)
    fw = _updatable(kernels)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(fw, graph, inputs, raw=graph.raw)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"{model.name} ({kernels})")


@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
@pytest.mark.parametrize("make", ["quantize_int16_chain", "average_pool_int16", "mean_int16"])
def test_16x8_corner_models_match_reference_and_tflm(make: str, kernels: str) -> None:
    """QUANTIZE int16 -> int16 -> int8 -> int16 through the glue's three int16 kinds; a 16x8
    AVERAGE_POOL_2D with SAME padding and a 16x8 MEAN, 6 channels each (the opt kernels' word
    loops and their tails)."""
    import test_reference_vs_tflm

    graph = parse_model(getattr(test_reference_vs_tflm, make)())
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(_updatable(kernels), graph, inputs, raw=graph.raw)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"{make} ({kernels})")


@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
def test_16x8_conv_chain_matches_reference_and_tflm(kernels: str) -> None:
    """16x8 CONV_2D / DEPTHWISE_CONV_2D around the optimized kernels' boundaries (the glue sizes
    mcu_conv_s16's scratch: im2col columns in the opt flavour, none in the ref one)."""
    from tflite_builder import int16_conv_chain_model

    data = int16_conv_chain_model()
    graph = parse_model(data)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(_updatable(kernels), graph, inputs, raw=data)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"int16_conv_chain ({kernels})")


def test_16x8_op_without_a_tinyml_kernel_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # every op the reference runs in 16x8 mode has a tinyml form: pretend MEAN has none
    monkeypatch.setitem(operators.registry(), "MEAN", replace(operators.registry()["MEAN"], int16_paths=()))
    graph = load_model(ROOT / "tests" / "data" / "op16x8_mean.tflite")
    with pytest.raises(McusimError, match=r"op 0 \(MEAN\) has 16-bit activations.*tinyml stack has no 16x8"):
        build_tinyml(graph, BOARD)


@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
@pytest.mark.parametrize("name", ["op16x8_add", "op16x8_mul", "op16x8_logistic", "op16x8_tanh", "chain"])
def test_16x8_add_mul_logistic_tanh_match_reference_and_tflm(name: str, kernels: str) -> None:
    """The converter's 16x8 ADD (general scales), MUL, LOGISTIC and TANH files, and a chain of
    the four (ADD with power-of-two scales: TFLM's general rescaling all the same; the glue's
    int16 sigmoid prepare on power-of-two and general input scales; broadcasts along the
    channels), on the updatable image."""
    from tflite_builder import int16_elementwise_model

    data = (int16_elementwise_model(pot_add=True) if name == "chain"
            else (ROOT / "tests" / "data" / f"{name}.tflite").read_bytes())
    graph = parse_model(data)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(_updatable(kernels), graph, inputs, raw=data)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"{name} ({kernels})")


@needs_gcc
def test_an_int8_tanh_image_links_no_sigmoid_table() -> None:
    """The glue's 16x8 branch (and its reference to TFLite's table, from a TFLM tree) is only
    in images that link the table: an int8 TANH model builds without it and stays bit-exact."""
    model = ROOT / "tests" / "data" / "op_tanh.tflite"
    fw = _model_firmware(model, "opt")
    assert fw.defines == {} and not any(p.name == "mcu_sigmoid_table.c" for p in fw.sources)
    graph = load_model(model)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(fw, graph, inputs)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, "op_tanh (opt)")


@pytest.mark.slow
@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
@pytest.mark.parametrize("model", MODELS + OP_MODELS, ids=_name)
def test_own_image_matches_reference_and_tflm_on_more_inputs(model: Path, kernels: str) -> None:
    graph = _graph(model)
    if graph is None:
        pytest.skip(f"mcusim's frontend refuses {model.name}")
    fw = _model_firmware(model, kernels)
    for seed in (1, 2, 3):
        inputs = _inputs(graph, seed)
        status, outputs, _ = _run(fw, graph, inputs)
        assert status == 0, STATUS_MESSAGES.get(status)
        _assert_bit_exact(graph, inputs, outputs, f"{model.name} ({kernels}, seed {seed})")


@pytest.mark.slow
@needs_gcc
@pytest.mark.parametrize("kernels", FLAVOURS)
@pytest.mark.parametrize("case", sorted(_corner_cases()))
def test_corner_cases_on_target(case: str, kernels: str) -> None:
    raw = _corner_cases()[case]()
    graph = parse_model(raw)
    inputs = _inputs(graph, 0)
    status, outputs, _ = _run(_updatable(kernels), graph, inputs, raw=raw)
    assert status == 0, STATUS_MESSAGES.get(status)
    _assert_bit_exact(graph, inputs, outputs, f"{case} ({kernels})")


@needs_gcc
def test_exported_tinyml_project_builds_with_make_to_the_measured_image(tmp_path):
    """`mcusim export --path tinyml`: runtime + model + kernels + Makefile; `make` builds the
    image mcusim measures (same flash as the run, same bytes) and it runs bit-exact."""
    import shutil
    import subprocess

    from mcusim.cli import main
    from mcusim.simulator.elf import Elf
    from mcusim.stacks.runner import run_model

    if shutil.which("make") is None:
        pytest.skip("make not installed")
    model = ROOT / "models" / "kws_fc.tflite"
    out = tmp_path / "export"
    assert main(["export", str(model), "--path", "tinyml", "--out", str(out)]) == 0
    proc = subprocess.run(["make", "-j2"], cwd=out, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    made = Elf(out / "build" / "firmware.elf")
    measured = run_model(model, "tinyml", get_board("stm32f411ce"), "opt").report
    assert made.flash_bytes == measured["flash_bytes"]
