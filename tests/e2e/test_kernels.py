"""The int8 kernel library (kernels/) against mcusim.reference, bit for bit.

Three tiers:
  * host: the reference flavour compiled by the host C compiler and called through ctypes
    (fast, many examples; needs only gcc);
  * simulator: every kernel in both flavours built for the Cortex-M4 board (stm32f411ce), and
    the main kernels in both flavours for the Cortex-M0+ board (stm32g071rb), where the
    optimized files fall back to the reference algorithm (no DSP extension);
  * slow (``pytest -m slow``): the same properties with many more examples and larger shapes.

Each (kernel, flavour, board) harness is built once (tests/harness/<op>.c + the kernel's one
.c file) and run for every generated example. Shapes come from hypothesis; tensor values and
quantization from a numpy generator seeded by hypothesis.
"""

from __future__ import annotations

import copy
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcusim.stacks import winograd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

from kernel_cases import CASES, Case  # noqa: E402
from kernel_runner import (  # noqa: E402
    MCU_ERR_ARG,
    MCU_ERR_BUFFER,
    MCU_ERR_UNSUPPORTED,
    MCU_OK,
    Blob,
    HostRunner,
    SimRunner,
)

M4 = "stm32f411ce"
M0 = "stm32g071rb"
HAVE_ARM_GCC = shutil.which("arm-none-eabi-gcc") is not None
HAVE_HOST_GCC = shutil.which("gcc") is not None

needs_arm = pytest.mark.skipif(not HAVE_ARM_GCC, reason="arm-none-eabi-gcc not installed")
needs_host = pytest.mark.skipif(not HAVE_HOST_GCC, reason="host gcc not installed")

# --- shape strategies -----------------------------------------------------------------------
small = st.integers(1, 6)
seeds = st.integers(0, 2**32 - 1)


def _nhwc(max_hw: int = 6, max_c: int = 9) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"n": st.integers(1, 2), "h": st.integers(1, max_hw),
                                  "w": st.integers(1, max_hw), "c": st.integers(1, max_c)})


def _valid_window(spec: dict[str, Any]) -> dict[str, Any]:
    """VALID padding with a (dilated) window larger than the input has no output; use SAME."""
    eff_h = (spec["kh"] - 1) * spec.get("dh", 1) + 1
    eff_w = (spec["kw"] - 1) * spec.get("dw", 1) + 1
    if spec["padding"] == "VALID" and (eff_h > spec["h"] or eff_w > spec["w"]):
        spec["padding"] = "SAME"
    return spec


@st.composite
def conv_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    groups = draw(st.sampled_from([1, 1, 1, 2]))
    c = groups * draw(st.integers(1, 12 if big else 6))
    spec = {
        "n": draw(st.integers(1, 2)), "h": draw(st.integers(1, 12 if big else 6)),
        "w": draw(st.integers(1, 12 if big else 7)), "c": c,
        "oc": groups * draw(st.integers(1, 10 if big else 5)),
        "kh": draw(st.integers(1, 3)), "kw": draw(st.integers(1, 3)),
        "sh": draw(st.integers(1, 2)), "sw": draw(st.integers(1, 2)),
        "dh": draw(st.integers(1, 2)), "dw": draw(st.integers(1, 2)),
        "padding": draw(st.sampled_from(["SAME", "VALID"])), "groups": groups,
        "per_channel": draw(st.booleans()), "bias": draw(st.booleans()),
    }
    return _valid_window(spec)


@st.composite
def wino_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    """3x3 / stride 1 convolutions (the geometry mcu_conv_wino_s8 takes): odd and even output
    sizes, channel counts on and off multiples of 4, both paddings."""
    return _valid_window({
        "n": draw(st.integers(1, 2)), "h": draw(st.integers(1, 12 if big else 7)),
        "w": draw(st.integers(1, 14 if big else 11)), "c": draw(st.integers(1, 24 if big else 9)),
        "oc": draw(st.integers(1, 10 if big else 5)), "kh": 3, "kw": 3, "sh": 1, "sw": 1,
        "padding": draw(st.sampled_from(["SAME", "VALID"])),
        "per_channel": draw(st.booleans()), "bias": draw(st.booleans()),
    })


@st.composite
def dw_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    return _valid_window({
        "n": draw(st.integers(1, 2)), "h": draw(st.integers(1, 10 if big else 6)),
        "w": draw(st.integers(1, 10 if big else 6)), "c": draw(st.integers(1, 20 if big else 9)),
        "mult": draw(st.sampled_from([1, 1, 1, 2, 3, 4, 8])),
        "kh": draw(st.integers(1, 3)), "kw": draw(st.integers(1, 3)),
        "sh": draw(st.integers(1, 2)), "sw": draw(st.integers(1, 2)),
        "dh": draw(st.integers(1, 2)), "dw": draw(st.integers(1, 2)),
        "padding": draw(st.sampled_from(["SAME", "VALID"])),
        "per_channel": draw(st.booleans()), "bias": draw(st.booleans()),
    })


@st.composite
def fc_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    return {"n": draw(st.integers(1, 3)), "depth": draw(st.integers(1, 300 if big else 70)),
            "units": draw(st.integers(1, 40 if big else 13)), "per_channel": draw(st.booleans()),
            "filter_zp": draw(st.booleans()), "bias": draw(st.booleans())}


@st.composite
def pool_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    spec = draw(_nhwc(12 if big else 6, 12))
    spec.update(kh=draw(st.integers(1, 4)), kw=draw(st.integers(1, 4)), sh=draw(st.integers(1, 3)),
                sw=draw(st.integers(1, 3)), padding=draw(st.sampled_from(["SAME", "VALID"])))
    # A VALID window larger than the input has no output pixel; TFLite rejects that model.
    if spec["padding"] == "VALID":
        spec["kh"], spec["kw"] = min(spec["kh"], spec["h"]), min(spec["kw"], spec["w"])
    return spec


@st.composite
def binary_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    spec = draw(_nhwc(8 if big else 5, 16))
    spec["broadcast"] = draw(st.booleans())
    return spec


@st.composite
def concat_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    spec = draw(_nhwc(4, 6))
    spec.update(axis=draw(st.integers(0, 3)), inputs=draw(st.integers(1, 4)),
                requant=draw(st.booleans()))
    return spec


@st.composite
def unary_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    spec = draw(_nhwc(8 if big else 5, 16))
    spec.update(beta=draw(st.sampled_from([1.0, 0.5, 2.0])), relu=draw(st.booleans()),
                swish=draw(st.booleans()), alpha_per_channel=draw(st.booleans()),
                pad_batch_channel=draw(st.booleans()))
    return spec


@st.composite
def tconv_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    return {"n": draw(st.integers(1, 2)), "h": draw(st.integers(1, 6 if big else 4)),
            "w": draw(st.integers(1, 6 if big else 4)), "c": draw(st.integers(1, 20 if big else 9)),
            "oc": draw(st.integers(1, 9 if big else 5)), "kh": draw(st.integers(1, 4)),
            "kw": draw(st.integers(1, 4)), "sh": draw(st.integers(1, 3)), "sw": draw(st.integers(1, 3)),
            "padding": draw(st.sampled_from(["SAME", "VALID"])),
            "per_channel": draw(st.booleans()), "bias": draw(st.booleans())}


@st.composite
def bmm_specs(draw: Any, big: bool = False) -> dict[str, Any]:
    def batch() -> tuple[int, int]:
        return draw(st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 3)]))

    lb, rb = batch(), batch()
    rb = tuple(r if r in (1, lb_) or lb_ == 1 else lb_ for lb_, r in zip(lb, rb))  # broadcastable
    return {"m": draw(st.integers(1, 9 if big else 5)), "k": draw(st.integers(1, 70 if big else 13)),
            "n": draw(st.integers(1, 11 if big else 6)), "lhs_batch": lb, "rhs_batch": rb,
            "adj_x": draw(st.booleans()), "adj_y": draw(st.booleans())}


SPECS = {
    "fully_connected": fc_specs, "fully_connected_wino": fc_specs, "conv": conv_specs, "conv_wino": wino_specs,
    "depthwise_conv": dw_specs,
    "max_pool": pool_specs, "avg_pool": pool_specs, "mean": lambda big=False: _nhwc(20 if big else 8, 20),
    "add": binary_specs, "mul": binary_specs, "concatenation": concat_specs,
    "sub": binary_specs, "squared_difference": binary_specs, "maximum": binary_specs, "minimum": binary_specs,
    "rsqrt": unary_specs, "neg": unary_specs,
    "pad": unary_specs, "softmax": unary_specs, "logistic": unary_specs, "tanh": unary_specs,
    "hard_swish": unary_specs, "leaky_relu": unary_specs, "prelu": unary_specs,
    "clamp": unary_specs, "quantize": unary_specs, "dequantize": unary_specs, "lut": unary_specs,
    "quantize_u8_s8": unary_specs, "quantize_s8_u8": unary_specs,
    "transpose_conv": tconv_specs, "batch_matmul": bmm_specs,
}
ALL_KERNELS = list(CASES)
MAIN_KERNELS = ["fully_connected", "fully_connected_wino", "conv", "conv_wino", "depthwise_conv", "max_pool",
                "avg_pool", "add", "mul", "softmax", "mean"]


@cache
def sim_runner(kernel: str, flavour: str, board: str) -> SimRunner:
    return SimRunner(kernel, flavour, board)


@cache
def host_runner(kernel: str) -> HostRunner:
    return HostRunner(kernel)


def check(runner: Any, case: Case) -> None:
    res = runner.run(case.blob)
    assert res.status == MCU_OK, f"{case.kernel} returned {res.status}"
    got = res.array(case.out_offset, case.expected.shape, case.dtype)
    if case.dtype == np.float32:
        np.testing.assert_array_equal(got.view(np.int32), case.expected.view(np.int32))
    else:
        bad = np.argwhere(got != case.expected)
        assert bad.size == 0, (f"{case.kernel}: {len(bad)} of {got.size} values differ, first at "
                               f"{tuple(bad[0])}: got {got[tuple(bad[0])]}, "
                               f"want {case.expected[tuple(bad[0])]}")
    # The output region was canary-filled: nothing may be written past it.
    end = case.out_offset + case.expected.size * np.dtype(case.dtype).itemsize
    assert res.arena[end:end + 4] in (b"", bytes(case.blob.arena[end:end + 4]))
    if case.scratch_reserved:
        assert res.scratch_bytes <= case.scratch_reserved


def _property(kernel: str, runner_for: Any, examples: int, big: bool = False) -> Any:
    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(spec=SPECS[kernel](big=big), seed=seeds)
    def prop(spec: dict[str, Any], seed: int) -> None:
        check(runner_for(), CASES[kernel](spec, np.random.default_rng(seed)))

    return prop


# --- host tier: reference flavour through ctypes ---------------------------------------------
@needs_host
@pytest.mark.parametrize("kernel", ALL_KERNELS)
def test_reference_flavour_on_host_matches_numpy_reference(kernel: str) -> None:
    _property(kernel, lambda: host_runner(kernel), 40)()


# --- simulator tier --------------------------------------------------------------------------
@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
@pytest.mark.parametrize("kernel", ALL_KERNELS)
def test_kernel_on_cortex_m4_matches_numpy_reference(kernel: str, flavour: str) -> None:
    examples = 8 if kernel in MAIN_KERNELS else 4
    _property(kernel, lambda: sim_runner(kernel, flavour, M4), examples)()


@needs_arm
# opt in the slow tier: without the DSP extension the opt files compile to the reference code
# (test_opt_flavour_falls_back_to_reference_code_without_dsp)
@pytest.mark.parametrize("flavour", ["ref", pytest.param("opt", marks=pytest.mark.slow)])
@pytest.mark.parametrize("kernel", MAIN_KERNELS)
def test_kernel_on_cortex_m0plus_matches_numpy_reference(kernel: str, flavour: str) -> None:
    _property(kernel, lambda: sim_runner(kernel, flavour, M0), 5)()


@needs_arm
def test_opt_flavour_falls_back_to_reference_code_without_dsp() -> None:
    """On the M0+ the optimized file compiles to the reference algorithm: same cycles."""
    case = CASES["conv"]({"n": 1, "h": 5, "w": 5, "c": 4, "oc": 4, "kh": 3, "kw": 3, "sh": 1,
                          "sw": 1, "padding": "SAME"}, np.random.default_rng(1))
    ref = sim_runner("conv", "ref", M0).run(case.blob)
    opt = sim_runner("conv", "opt", M0).run(case.blob)
    assert ref.arena == opt.arena and ref.run.cycles == opt.run.cycles
    assert not any(m.startswith("smlad") for m in opt.run.mnemonics)


@needs_arm
@pytest.mark.parametrize("kernel", ["fully_connected", "conv"])
def test_opt_flavour_uses_smlad_on_cortex_m4(kernel: str) -> None:
    spec = ({"n": 1, "depth": 64, "units": 8} if kernel == "fully_connected" else
            {"n": 1, "h": 4, "w": 4, "c": 8, "oc": 4, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
             "padding": "SAME"})
    case = CASES[kernel](spec, np.random.default_rng(2))
    res = sim_runner(kernel, "opt", M4).run(case.blob)
    assert res.status == MCU_OK
    smlad = sum(s.count for m, s in res.run.mnemonics.items() if m.startswith("smlad"))
    assert smlad * 2 >= case.macs * 0.9  # nearly every MAC goes through SMLAD


# Depth multipliers > 1 as the real models use them (micro_speech: 1 channel x 8, a 10x8
# filter, stride 2; person_detect: 1 channel x 8, 3x3, stride 2), smaller maps, and several
# input channels (odd counts) with multipliers 2, 4, 8 and one not a multiple of 4.
DW_MULT_SPECS = [
    {"n": 1, "h": 15, "w": 12, "c": 1, "mult": 8, "kh": 10, "kw": 8, "sh": 2, "sw": 2, "padding": "SAME"},
    {"n": 1, "h": 11, "w": 10, "c": 1, "mult": 8, "kh": 3, "kw": 3, "sh": 2, "sw": 2, "padding": "SAME"},
    {"n": 2, "h": 6, "w": 7, "c": 1, "mult": 2, "kh": 2, "kw": 3, "sh": 1, "sw": 1, "dh": 2, "dw": 2,
     "padding": "SAME"},
    {"n": 1, "h": 6, "w": 5, "c": 3, "mult": 2, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "padding": "SAME"},
    {"n": 1, "h": 5, "w": 6, "c": 5, "mult": 4, "kh": 3, "kw": 2, "sh": 2, "sw": 1, "padding": "VALID"},
    {"n": 2, "h": 4, "w": 5, "c": 7, "mult": 8, "kh": 3, "kw": 3, "sh": 1, "sw": 2, "dh": 2, "dw": 1,
     "padding": "SAME"},
    {"n": 1, "h": 5, "w": 5, "c": 3, "mult": 6, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "padding": "SAME"},
]


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
@pytest.mark.parametrize("spec", DW_MULT_SPECS, ids=lambda s: f"c{s['c']}x{s['mult']}k{s['kh']}x{s['kw']}")
def test_depthwise_channel_multiplier(spec: dict[str, Any], flavour: str) -> None:
    for per_channel, bias, seed in ((True, True, 1), (False, False, 2)):
        case = CASES["depthwise_conv"](dict(spec, per_channel=per_channel, bias=bias),
                                       np.random.default_rng(seed))
        check(sim_runner("depthwise_conv", flavour, M4), case)


# Multiplier 1 wider than one 32-channel block (the opt kernel keeps one block's records in
# scratch when the map has at least 4 pixels per 4 channels): several blocks, a partial last
# block, C % 4 channels; the 3x3 kernel inside and at the borders; a small map keeping every
# record; and the general tap loop (2x3).
DW_BLOCK_SPECS = [
    {"n": 1, "h": 6, "w": 7, "c": 36, "mult": 1, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "padding": "SAME"},
    {"n": 2, "h": 9, "w": 9, "c": 70, "mult": 1, "kh": 3, "kw": 3, "sh": 2, "sw": 2, "padding": "VALID"},
    {"n": 1, "h": 3, "w": 3, "c": 64, "mult": 1, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "padding": "SAME"},
    {"n": 1, "h": 4, "w": 5, "c": 40, "mult": 1, "kh": 2, "kw": 3, "sh": 1, "sw": 1, "padding": "SAME"},
]


@needs_arm
@pytest.mark.parametrize("spec", DW_BLOCK_SPECS, ids=lambda s: f"c{s['c']}k{s['kh']}x{s['kw']}")
def test_opt_depthwise_channel_blocks(spec: dict[str, Any]) -> None:
    runner = sim_runner("depthwise_conv", "opt", M4)
    for per_channel, bias, seed in ((True, True, 1), (False, False, 2)):
        case = CASES["depthwise_conv"](dict(spec, per_channel=per_channel, bias=bias),
                                       np.random.default_rng(seed))
        check(runner, case)
        # one block's records (35 words per 4 channels for 3x3): the scratch of 32 channels
        groups = spec["c"] // 4
        if spec["kh"] == spec["kw"] == 3:
            block = 8 if spec["h"] * spec["w"] >= 4 * groups else groups
            assert runner.run(case.blob).scratch_bytes == block * 35 * 4


@needs_arm
def test_opt_depthwise_multiplier_is_not_the_reference_code() -> None:
    """The optimized flavour runs multiplier > 1 layers with SMLAD (one input channel, through
    mcu_conv_s8) or SMLABB/SMLATB (several), in a fraction of the reference kernel's cycles."""
    for spec, mnemonic in ((DW_MULT_SPECS[0], "smlad"), (DW_MULT_SPECS[5], "smlatb")):
        case = CASES["depthwise_conv"](dict(spec, per_channel=True, bias=True), np.random.default_rng(3))
        ref_run = sim_runner("depthwise_conv", "ref", M4).run(case.blob)
        opt_run = sim_runner("depthwise_conv", "opt", M4).run(case.blob)
        for res in (ref_run, opt_run):
            assert np.array_equal(res.array(case.out_offset, case.expected.shape), case.expected)
        assert any(m.startswith(mnemonic) for m in opt_run.run.mnemonics)
        assert opt_run.run.cycles * 2 < ref_run.run.cycles


@needs_arm
@pytest.mark.parametrize("units", [1, 2, 3, 4, 5])
def test_fully_connected_few_rows(units: int) -> None:
    """Layers of at most four rows read the int8 input directly and need no scratch; five rows
    widen it (2 bytes per input, depth rounded up to 4) unless the layer is small (at most
    1,024 MACs per batch row: the lean path)."""
    runner = sim_runner("fully_connected", "opt", M4)
    for depth, filter_zp, seed in ((256, False, 1), (61, True, 2), (3, False, 3)):
        case = CASES["fully_connected"]({"n": 2, "depth": depth, "units": units, "per_channel": True,
                                         "filter_zp": filter_zp, "bias": True}, np.random.default_rng(seed))
        check(runner, case)
        assert runner.run(case.blob).scratch_bytes == (0 if units <= 4 or depth * units <= 1024
                                                       else 2 * ((depth + 3) & ~3))


@needs_arm
@pytest.mark.parametrize("depth,units", [(32, 16), (64, 8), (30, 7), (32, 6), (20, 51)])
def test_fully_connected_lean_layers(depth: int, units: int) -> None:
    """Small layers (the lean path: 4-row passes in assembly when the depth is a multiple of 4,
    else in C, and a pass of the 1-3 rows left) need no scratch; per channel and per tensor,
    with and without a filter offset, two batch rows."""
    runner = sim_runner("fully_connected", "opt", M4)
    for per_channel, filter_zp, seed in ((True, False, 1), (False, True, 2)):
        case = CASES["fully_connected"]({"n": 2, "depth": depth, "units": units, "per_channel": per_channel,
                                         "filter_zp": filter_zp, "bias": seed == 1}, np.random.default_rng(seed))
        check(runner, case)
        assert runner.run(case.blob).scratch_bytes == 0


@needs_arm
@pytest.mark.parametrize("depth", [4, 8, 12, 16])
def test_fully_connected_short_depth(depth: int) -> None:
    """Depths 4, 8, 12, 16 (the models/ autoencoders' 8 -> 64 layer) keep the widened input in
    registers (mcu_fc_short; up to 16 rows the lean path) and need no scratch; per tensor and per channel, with and without
    an activation clamp (SSAT #8 or not), bias, filter offset, two batches. Depth 20 with 64
    rows (the 4-row passes; fewer rows would take the lean path) still widens into scratch."""
    runner = sim_runner("fully_connected", "opt", M4)
    seed = 0
    for units in (64, 5, 3):
        for per_channel in (False, True):
            for act in ("none", "relu"):
                for filter_zp, bias in ((False, True), (True, False)):
                    seed += 1
                    case = CASES["fully_connected"]({"n": 2, "depth": depth, "units": units,
                                                     "per_channel": per_channel, "act": act,
                                                     "filter_zp": filter_zp, "bias": bias},
                                                    np.random.default_rng(seed))
                    check(runner, case)
                    assert runner.run(case.blob).scratch_bytes == 0
    case = CASES["fully_connected"]({"n": 1, "depth": 20, "units": 64}, np.random.default_rng(9))
    check(runner, case)
    assert runner.run(case.blob).scratch_bytes == 40


@needs_arm
def test_conv_stack_follows_output_channels() -> None:
    """mcu_conv_s8 keeps the requantization constants of up to 32 output channels on the stack
    (12 bytes each), sized to the layer: 8 channels (micro_speech's and person_detect's first
    layer) take 24 x 12 bytes less stack than 32."""
    runner = sim_runner("conv", "opt", M4)
    stack = {}
    for oc in (8, 32):
        case = CASES["conv"]({"n": 1, "h": 5, "w": 5, "c": 4, "oc": oc, "kh": 3, "kw": 3, "sh": 1,
                              "sw": 1, "padding": "SAME", "per_channel": True},
                             np.random.default_rng(oc))
        check(runner, case)
        stack[oc] = runner.run(case.blob).run.stack_bytes
    assert stack[8] + 24 * 12 <= stack[32]
    # one output channel, per tensor: the table still holds the pair the blocks read
    check(runner, CASES["conv"]({"n": 1, "h": 5, "w": 5, "c": 4, "oc": 1, "kh": 3, "kw": 3, "sh": 1,
                                 "sw": 1, "padding": "SAME", "per_channel": False},
                                np.random.default_rng(1)))


@needs_arm
def test_depthwise_multiplier_stack_is_mostly_the_convolution() -> None:
    """A multiplier > 1 layer on one input channel runs mcu_conv_s8; the multiplier-1 body has
    its own frame, so the call chain adds less than 400 bytes of stack to the convolution's
    (it added 768 when that body shared the entry point's frame)."""
    g = {"n": 1, "h": 11, "w": 10, "kh": 3, "kw": 3, "sh": 2, "sw": 2, "padding": "SAME",
         "per_channel": True}
    dw = CASES["depthwise_conv"](dict(g, c=1, mult=8), np.random.default_rng(0))
    cv = CASES["conv"](dict(g, c=1, oc=8), np.random.default_rng(0))
    dw_runner, cv_runner = sim_runner("depthwise_conv", "opt", M4), sim_runner("conv", "opt", M4)
    check(dw_runner, dw)
    check(cv_runner, cv)
    assert dw_runner.run(dw.blob).run.stack_bytes < cv_runner.run(cv.blob).run.stack_bytes + 400


@needs_arm
@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected_short_depth_accumulator_beyond_rq2_bound(per_channel: bool) -> None:
    """A row whose accumulator leaves [-2^29, 2^29] (a bias of +-6e8) sends it and the rows
    after it to the general output stage (mcu_rq); the result stays bit-exact."""
    from mcusim.operators import fully_connected
    from mcusim.operators._common import Requant
    case = CASES["fully_connected"]({"n": 1, "depth": 8, "units": 16, "per_channel": per_channel,
                                     "act": "none"}, np.random.default_rng(11))
    blob = copy.deepcopy(case.blob)
    p = blob.params  # scratch (2), offsets and clamp (5), multiplier, shift, per channel, dims
    x = np.frombuffer(bytes(blob.arena[p[22]:p[22] + 8]), np.int8).reshape(1, 8)
    w = np.frombuffer(bytes(blob.arena[p[23]:p[23] + 128]), np.int8).reshape(16, 8)
    bias = np.frombuffer(bytes(blob.arena[p[24]:p[24] + 64]), "<i4").copy()
    bias[5], bias[9] = 600_000_000, -600_000_000
    blob.arena[p[24]:p[24] + 64] = bias.tobytes()
    n = 16 if per_channel else 1
    mult = np.frombuffer(bytes(blob.arena[p[7]:p[7] + 4 * n]), "<i4").astype(np.int64)
    shift = np.frombuffer(bytes(blob.arena[p[8]:p[8] + 4 * n]), "<i4").astype(np.int64)
    rq = Requant(mult, shift, p[4], p[5], p[6])
    want = fully_connected.fully_connected(x, w, bias, fully_connected.FullyConnectedParams(p[2], p[3], rq))
    res = sim_runner("fully_connected", "opt", M4).run(blob)
    assert res.status == MCU_OK
    np.testing.assert_array_equal(res.array(case.out_offset, want.shape), want)
    np.testing.assert_array_equal(want[0, 5], 127)


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
@pytest.mark.parametrize("kernel", ["add", "mul"])
def test_binary_ops_with_and_without_broadcast(kernel: str, flavour: str) -> None:
    """ADD as the real models quantize it (one input at twice the other's scale: input shift 0,
    the optimized kernel's SMMLAR form) and MUL, with and without broadcasting, odd sizes."""
    runner = sim_runner(kernel, flavour, M4)
    for n, (h, w, c, broadcast) in enumerate([(3, 5, 7, False), (4, 4, 16, False), (2, 3, 5, True),
                                              (5, 1, 9, True), (1, 1, 13, True)]):
        for seed in range(4):
            case = CASES[kernel]({"n": 1, "h": h, "w": w, "c": c, "broadcast": broadcast},
                                np.random.default_rng(100 * n + seed))
            check(runner, case)


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
@pytest.mark.parametrize("kernel", ["leaky_relu", "prelu", "mean", "softmax", "avg_pool"])
def test_pointwise_and_mean_outside_the_fast_forms(kernel: str, flavour: str) -> None:
    """The optimized LEAKY_RELU / PRELU (SMLAW form, mcu_nn_act_dsp.h) and MEAN (int16 lane sums,
    SMMLAR output stage) switch to the reference arithmetic for multipliers outside their forms
    (shifts from -20 to 8, multiplier 0), for sizes not a multiple of 4 and, MEAN, for more than
    256 reduced positions (int32 sums of 256-position runs) and 4, 8 and 16-channel blocks;
    SOFTMAX keeps the exps of rows of up to 16 values and recomputes longer rows: bit-exact
    everywhere. AVERAGE_POOL_2D: filters of 256 taps (the last the 16-bit lane sums take) and of
    more (the optimized kernel hands the call to the reference one)."""
    runner = sim_runner(kernel, flavour, M4)
    if kernel == "avg_pool":
        for n, (h, w, kh, kw, padding) in enumerate([(16, 17, 16, 16, "VALID"), (17, 18, 17, 16, "VALID"),
                                                   (9, 20, 17, 17, "SAME")]):
            spec = {"n": 1, "h": h, "w": w, "c": 6, "kh": kh, "kw": kw, "sh": 1, "sw": 2, "padding": padding}
            check(runner, CASES[kernel](spec, np.random.default_rng(n)))
        return
    shapes = {"mean": [(1, 30, 10, 5), (1, 58, 1, 32), (2, 6, 6, 16), (1, 17, 20, 12), (1, 20, 15, 17)],
              "softmax": [(1, 1, 1, 4), (1, 1, 1, 16), (1, 1, 1, 17), (2, 1, 3, 40)]}.get(
                  kernel, [(1, 1, 1, 64), (1, 1, 1, 8), (2, 3, 1, 7), (1, 2, 3, 13)])
    for n, (b, h, w, c) in enumerate(shapes):
        for seed in range(4):
            spec = {"n": b, "h": h, "w": w, "c": c, "wide": True, "alpha_per_channel": seed % 2 == 0}
            check(runner, CASES[kernel](spec, np.random.default_rng(10 * n + seed)))


# --- error contract --------------------------------------------------------------------------
def _conv_blob(scratch: int, stride: int = 1, out_c: int = 4) -> Blob:
    case = CASES["conv"]({"n": 1, "h": 4, "w": 4, "c": 8, "oc": 4, "kh": 3, "kw": 3, "sh": 1,
                          "sw": 1, "padding": "SAME"}, np.random.default_rng(3))
    p = list(case.blob.params)
    p[1] = scratch  # reserved scratch bytes (the harness passes min(reserved, need))
    p[4] = stride
    p[19] = out_c  # filter dims n
    return Blob(p, bytearray(case.blob.arena))


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
def test_conv_rejects_bad_arguments_before_writing(flavour: str) -> None:
    runner = sim_runner("conv", flavour, M4)
    res = runner.run(_conv_blob(4096, stride=0))
    assert res.status == MCU_ERR_ARG
    res = runner.run(_conv_blob(4096, out_c=3))  # filter count != output channels
    assert res.status == MCU_ERR_ARG


@needs_arm
def test_opt_conv_reports_its_scratch_need_and_refuses_less() -> None:
    runner = sim_runner("conv", "opt", M4)
    ok = runner.run(_conv_blob(4096))
    assert ok.status == MCU_OK and ok.scratch_bytes == 2 * 72 * 2  # two int16 columns of K=72
    short = runner.run(_conv_blob(ok.scratch_bytes - 4))
    assert short.status < 0  # the harness refuses, as a kernel given too little would
    assert MCU_ERR_BUFFER == -2


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
@pytest.mark.parametrize("c,w", [(4, 9), (30, 9), (32, 10), (33, 6), (36, 5), (64, 4)])
def test_winograd_conv_channel_counts(c: int, w: int, flavour: str) -> None:
    """The optimized Winograd kernel has two matrix-product variants (straight-line code entered
    at a computed offset for up to 32 input channels, a loop above) and a staging path for
    channel counts that are not a multiple of 4: each boundary, with whole and partial tile
    blocks, bit-exact."""
    for seed, padding in ((1, "SAME"), (2, "VALID")):
        spec = {"n": 1, "h": 5, "w": w, "c": c, "oc": 3, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                "padding": padding, "per_channel": True}
        check(sim_runner("conv_wino", flavour, M4), CASES["conv_wino"](spec, np.random.default_rng(seed)))


@needs_arm
@pytest.mark.parametrize("kernel", ["conv", "conv_wino"])
def test_conv_general_requantization(kernel: str) -> None:
    """Left shifts and huge multipliers (outside the fused SMMLAR stage's range) go through the
    general output stage of the optimized kernels: still bit-exact, whole and partial blocks."""
    left_shifts = 0
    for seed, (h, w) in enumerate(((6, 9), (5, 16))):
        spec = {"n": 1, "h": h, "w": w, "c": 8, "oc": 5, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                "padding": "SAME", "per_channel": True, "requant": (-16, 4), "act": "relu"}
        case = CASES[kernel](spec, np.random.default_rng(seed))
        shift_off = case.blob.params[13]  # the shift array (after scratch and 10 values, mult)
        left_shifts += int((np.frombuffer(bytes(case.blob.arena[shift_off:shift_off + 20]), "<i4") >= 0).any())
        check(sim_runner(kernel, "opt", M4), case)
    assert left_shifts  # at least one call cannot use the fused stage


@needs_arm
@pytest.mark.parametrize("opt", ["-O0", "-O1", "-Os"])
def test_winograd_conv_other_optimization_levels(opt: str) -> None:
    """-O0 compiles the intrinsics versions (MCU_NN_ASM 0); -O1 and -Os align functions to 2
    bytes only, which the computed entry into the straight-line matrix product (ADR) must
    survive. Both matrix-product variants (16 and 18 input-channel pairs)."""
    runner = SimRunner("conv_wino", "opt", M4, opt=opt)
    for seed, c in enumerate((32, 36)):
        spec = {"n": 1, "h": 4, "w": 9, "c": c, "oc": 3, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                "padding": "SAME", "per_channel": True}
        check(runner, CASES["conv_wino"](spec, np.random.default_rng(seed)))


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
def test_winograd_conv_refuses_misaligned_buffers(flavour: str) -> None:
    """The contract asks for a 4-byte aligned scratch and transformed filter: otherwise
    MCU_ERR_BUFFER (before anything is written: the output keeps its canary) / MCU_ERR_ARG."""
    spec = {"n": 1, "h": 4, "w": 6, "c": 8, "oc": 2, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
            "padding": "SAME"}
    case = CASES["conv_wino"](spec, np.random.default_rng(0))
    runner = sim_runner("conv_wino", flavour, M4)
    scratch = copy.deepcopy(case.blob)
    scratch.params[0] += 2  # scratch offset; the kernel must refuse before using any of it
    res = runner.run(scratch)
    assert res.status == MCU_ERR_BUFFER
    assert (res.array(case.out_offset, case.expected.shape).view(np.uint8) == 0xA5).all()
    transformed = copy.deepcopy(case.blob)
    transformed.params[-2] += 2  # the harness transforms into (and the kernel reads) this
    assert runner.run(transformed).status == MCU_ERR_ARG


@needs_arm
def test_winograd_filter_transform_on_target_matches_host() -> None:
    """mcu_conv_wino_s8_transform (target) writes exactly mcusim.winograd.transform_filter's
    array (what the classic path stores in flash), and refuses what it does not support."""
    spec = {"n": 1, "h": 4, "w": 4, "c": 7, "oc": 5, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
            "padding": "SAME"}
    case = CASES["conv_wino"](spec, np.random.default_rng(3))
    runner = sim_runner("conv_wino", "opt", M4)
    res = runner.run(case.blob)
    assert res.status == MCU_OK
    *_, w_off, _, u_off, _ = case.blob.params  # ... filter, bias, transformed, output
    wts = np.frombuffer(bytes(case.blob.arena[w_off:w_off + 5 * 9 * 7]), np.int8).reshape(5, 3, 3, 7)
    host = winograd.transform_filter(wts)
    assert host.nbytes == winograd.filter_bytes(wts.shape) == 16 * 6 * 8 * 2
    np.testing.assert_array_equal(np.frombuffer(res.arena[u_off:u_off + host.nbytes], "<i2"), host)
    # filter dims are params 19..22 (n, h, w, c), the stride params 4..5
    for index, value in ((20, 2), (4, 2)):
        blob = copy.deepcopy(case.blob)
        blob.params[index] = value
        assert runner.run(blob).status == MCU_ERR_UNSUPPORTED


# FULLY_CONNECTED by Winograd's inner-product identity: the shapes every code path of the
# optimized kernel needs (blocks of 8 rows and 1..7 rows left over, depth % 4 tails, depth < 4,
# batches, per-channel, filter offset, no bias), each bit-exact in both flavours.
FC_WINO_EDGES = [
    {"n": 1, "depth": 1, "units": 9},
    {"n": 2, "depth": 2, "units": 3, "filter_zp": True},
    {"n": 3, "depth": 3, "units": 16, "per_channel": True},
    {"n": 1, "depth": 4, "units": 8, "bias": False},
    {"n": 2, "depth": 5, "units": 17, "filter_zp": True, "per_channel": True},
    {"n": 1, "depth": 64, "units": 15},
    {"n": 2, "depth": 66, "units": 24, "bias": False},
    {"n": 1, "depth": 67, "units": 13, "per_channel": True, "filter_zp": True},
    {"n": 1, "depth": 68, "units": 12},
    {"n": 1, "depth": 250, "units": 14, "per_channel": True},
    {"n": 1, "depth": 252, "units": 11, "filter_zp": True},
]


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
def test_fully_connected_wino_edge_shapes(flavour: str) -> None:
    runner = sim_runner("fully_connected_wino", flavour, M4)
    for seed, spec in enumerate(FC_WINO_EDGES):
        check(runner, CASES["fully_connected_wino"](spec, np.random.default_rng(seed)))


@needs_arm
@pytest.mark.parametrize("opt", ["-O0", "-O1"])
def test_fully_connected_wino_other_optimization_levels(opt: str) -> None:
    """-O0 compiles the intrinsics versions instead of the assembly (MCU_NN_ASM 0); -O1 aligns
    functions to 2 bytes only, which the computed entry into the unrolled loop must survive."""
    runner = SimRunner("fully_connected_wino", "opt", M4, opt=opt)
    for seed, spec in enumerate(FC_WINO_EDGES):
        check(runner, CASES["fully_connected_wino"](spec, np.random.default_rng(seed)))


def _fc_wino_unfused(shift_left: bool) -> tuple[Blob, np.ndarray, int]:
    """A FULLY_CONNECTED case whose per-tensor requantization does not shift right (real
    multiplier 1.5 or 0.75): the optimized kernel's general output path (mcu_rq) instead of
    SMMLAR. Small values (offsets 0, |x|, |w| <= 3) so that the outputs are not all clamped."""
    from mcusim.frontend import quant
    from mcusim.operators import fully_connected
    from mcusim.operators._common import Requant
    rng = np.random.default_rng(4)
    batches, depth, units = 2, 41, 16
    case = CASES["fully_connected_wino"]({"n": batches, "depth": depth, "units": units}, rng)
    blob = copy.deepcopy(case.blob)
    p = blob.params  # scratch (2), offsets and clamp (5), multiplier, shift, per channel, dims
    p[2] = p[3] = 0
    mult, shift = quant.quantize_multiplier(1.5 if shift_left else 0.75)
    assert (shift >= 1) if shift_left else (shift == 0)
    x = rng.integers(-3, 4, (batches, depth)).astype(np.int8)
    w = rng.integers(-3, 4, (units, depth)).astype(np.int8)
    bias = rng.integers(-50, 51, units).astype("<i4")
    for off, data in ((p[7], np.array([mult], "<i4")), (p[8], np.array([shift], "<i4")),
                      (p[22], x), (p[23], w), (p[24], bias)):
        blob.arena[off:off + data.nbytes] = data.tobytes()
    rq = Requant(np.array([mult]), np.array([shift]), p[4], p[5], p[6])
    want = fully_connected.fully_connected(x, w, bias, fully_connected.FullyConnectedParams(0, 0, rq))
    return blob, want, case.out_offset


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
def test_fully_connected_wino_unfused_requantization(flavour: str) -> None:
    for shift_left in (True, False):
        blob, want, out = _fc_wino_unfused(shift_left)
        assert len(np.unique(want)) > 5  # the outputs are not all clamped
        res = sim_runner("fully_connected_wino", flavour, M4).run(blob)
        assert res.status == MCU_OK
        np.testing.assert_array_equal(res.array(out, want.shape), want)


@needs_arm
@pytest.mark.parametrize("flavour", ["ref", "opt"])
def test_fully_connected_wino_pair_sums_on_target_match_host(flavour: str) -> None:
    """mcu_fully_connected_wino_s8_prepare (target) writes exactly mcusim.winograd.pair_sums
    (what the classic path stores in flash), and refuses a NULL filter."""
    spec = {"n": 1, "depth": 27, "units": 11}
    case = CASES["fully_connected_wino"](spec, np.random.default_rng(5))
    runner = sim_runner("fully_connected_wino", flavour, M4)
    res = runner.run(case.blob)
    assert res.status == MCU_OK
    *_, w_off, _, ps_off, _ = case.blob.params  # ... filter, bias, pair sums, output
    wts = np.frombuffer(bytes(case.blob.arena[w_off:w_off + 11 * 27]), np.int8).reshape(11, 27)
    np.testing.assert_array_equal(np.frombuffer(res.arena[ps_off:ps_off + 44], "<i4"),
                                  winograd.pair_sums(wts))
    blob = copy.deepcopy(case.blob)
    blob.params[-4] = -1  # filter NULL
    assert runner.run(blob).status == MCU_ERR_ARG


@needs_arm
def test_fully_connected_wino_uses_the_identity_on_cortex_m4() -> None:
    """One SMLAD per 4 MACs (the direct form needs two; the target's prepare adds one per 4
    weights, the input term one per 4 inputs), and faster than mcu_fully_connected_s8 on the
    same layer."""
    spec = {"n": 1, "depth": 128, "units": 32}
    wino = CASES["fully_connected_wino"](spec, np.random.default_rng(6))
    direct = CASES["fully_connected"](spec, np.random.default_rng(6))
    res = sim_runner("fully_connected_wino", "opt", M4).run(wino.blob)
    base = sim_runner("fully_connected", "opt", M4).run(direct.blob)
    assert res.status == MCU_OK and base.status == MCU_OK
    assert res.array(wino.out_offset, wino.expected.shape).tolist() == wino.expected.tolist()
    smlad = sum(s.count for m, s in res.run.mnemonics.items() if m.startswith("smlad"))
    assert smlad == wino.macs // 4 + wino.macs // 4 + 128 // 4
    kernel = sum(s.cycles for f, s in res.run.functions.items() if f.startswith("mcu_") and
                 not f.endswith("_prepare"))
    # measured: 6,661 against 8,453 cycles (0.79; 0.75 before the direct kernel's 4-row passes)
    assert kernel < 0.85 * sum(s.cycles for f, s in base.run.functions.items() if f.startswith("mcu_"))


# --- slow: many more and larger examples -----------------------------------------------------
@needs_arm
@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["ref", "opt"])
@pytest.mark.parametrize("kernel", ALL_KERNELS)
def test_kernel_on_cortex_m4_exhaustive(kernel: str, flavour: str) -> None:
    _property(kernel, lambda: sim_runner(kernel, flavour, M4), 150, big=True)()


@needs_host
@pytest.mark.slow
@pytest.mark.parametrize("kernel", ALL_KERNELS)
def test_reference_flavour_on_host_exhaustive(kernel: str) -> None:
    _property(kernel, lambda: host_runner(kernel), 1000, big=True)()


@needs_arm
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("depth", [64, 8])
def test_fully_connected_passes_check_each_row_for_the_fused_stage(per_channel: bool, depth: int) -> None:
    """The large path's passes (4-row and 2-row; depth 8: mcu_fc_short's row loop) take the
    SMMLAR stage per row: rows whose accumulator leaves [-2^29, 2^29] (a bias of +-1.5e9, beyond
    what SMMLAR's doubled operand holds) and, per channel, rows with a left shift or a right
    shift beyond 23 go through mcu_rq; every output stays bit-exact."""
    from mcusim.operators import fully_connected
    from mcusim.operators._common import Requant
    units = 42  # depth 64: 2,688 MACs, 10 passes of 4 rows, then 2
    case = CASES["fully_connected"]({"n": 2, "depth": depth, "units": units, "per_channel": per_channel,
                                     "act": "none"}, np.random.default_rng(12))
    blob = copy.deepcopy(case.blob)
    p = blob.params  # scratch (2), offsets and clamp (5), multiplier, shift, per channel, dims
    x = np.frombuffer(bytes(blob.arena[p[22]:p[22] + 2 * depth]), np.int8).reshape(2, depth)
    w = np.frombuffer(bytes(blob.arena[p[23]:p[23] + units * depth]), np.int8).reshape(units, depth)
    bias = np.frombuffer(bytes(blob.arena[p[24]:p[24] + 4 * units]), "<i4").copy()
    bias[[4, 13, 41]] = 1_500_000_000, -1_500_000_000, 1_500_000_000
    blob.arena[p[24]:p[24] + 4 * units] = bias.tobytes()
    n = units if per_channel else 1
    mult = np.frombuffer(bytes(blob.arena[p[7]:p[7] + 4 * n]), "<i4").astype(np.int64)
    shift = np.frombuffer(bytes(blob.arena[p[8]:p[8] + 4 * n]), "<i4").astype(np.int64).copy()
    if per_channel:
        shift[[7, 20, 37]] = 1, -26, 0
        blob.arena[p[8]:p[8] + 4 * n] = shift.astype("<i4").tobytes()
    rq = Requant(mult, shift, p[4], p[5], p[6])
    want = fully_connected.fully_connected(x, w, bias, fully_connected.FullyConnectedParams(p[2], p[3], rq))
    res = sim_runner("fully_connected", "opt", M4).run(blob)
    assert res.status == MCU_OK and res.scratch_bytes == (2 * depth if depth > 16 else 0)
    np.testing.assert_array_equal(res.array(case.out_offset, want.shape), want)
    assert (want[:, [4, 41]] == 127).all() and (want[:, 13] == -128).all()


def _fc_argument_sets() -> list[tuple[str, Blob, tuple[Any, ...]]]:
    """A valid FULLY_CONNECTED call (2 batches, depth 32, 6 units) and one change at a time:
    each dims value zero or negative, reshaped and mismatched dims, the depth bound, clamps,
    NULL pointers; with the (act, dims, null) the Python mirror takes. Accepted sets never
    reach beyond the call's buffers."""
    base = CASES["fully_connected"]({"n": 2, "depth": 32, "units": 6}, np.random.default_rng(3)).blob
    # params: scratch (2), offsets (3), act (5, 6), multiplier (7), shift (8), per channel (9),
    # input dims (10-13), filter dims (14-17), output dims (18-21), x, w, bias, y (22-25)
    changes: list[tuple[str, dict[int, int]]] = [("valid", {}), ("no bias", {24: -1})]
    for first, what in ((10, "input"), (14, "filter"), (18, "output")):
        for i in range(4):
            changes += [(f"{what} dim {i} = 0", {first + i: 0}), (f"{what} dim {i} = -1", {first + i: -1})]
    changes += [
        ("input 2x4x8x1", {11: 4, 12: 8, 13: 1}), ("filter 6x2x4x4", {15: 2, 16: 4, 17: 4}),
        ("input depth 31", {13: 31}), ("filter depth 33", {17: 33}),
        # (4 units: the opt kernel's lean path, whose scratch need is 0 at any depth)
        ("depth 65536", {13: 65536, 17: 65536, 14: 4, 21: 4}),
        ("depth 4 x 16384", {12: 4, 13: 16384, 17: 65536, 14: 4, 21: 4}),
        ("output 1x2x1x6", {18: 1, 19: 2}), ("output 1x1x1x6", {18: 1}), ("output c 5", {21: 5}),
        ("filter n 5, output c 5", {14: 5, 21: 5}), ("filter n 7", {14: 7}),
        ("act min -129", {5: -129}), ("act max 128", {6: 128}), ("act 10..5", {5: 10, 6: 5}),
        ("act 5..5", {5: 5, 6: 5}),
        ("input NULL", {22: -1}), ("filter NULL", {23: -1}), ("output NULL", {25: -1}),
        ("multiplier NULL", {7: -1}), ("shift NULL", {8: -1}),
    ]
    sets = []
    for name, change in changes:
        blob = copy.deepcopy(base)
        for i, v in change.items():
            blob.params[i] = v
        p = blob.params
        null = tuple(n for n, i in (("multiplier", 7), ("shift", 8), ("input", 22), ("filter", 23),
                                    ("output", 25)) if p[i] < 0)
        sets.append((name, blob, ((p[5], p[6]), tuple(p[10:14]), tuple(p[14:18]), tuple(p[18:22]), null)))
    return sets


def _check_fc_mirror(runner: Any) -> None:
    from mcusim.operators.fully_connected import fc_kernel_args_problem

    verdicts = []
    for name, blob, args in _fc_argument_sets():
        problem = fc_kernel_args_problem(*args)
        status = runner.run(blob).status
        assert status == (MCU_OK if problem is None else MCU_ERR_ARG), f"{name}: C {status}, mirror {problem!r}"
        verdicts.append(problem is None)
    assert 4 < sum(verdicts) < len(verdicts) - 30  # both verdicts, many of each


@needs_host
def test_fully_connected_check_mirror_matches_the_c_check() -> None:
    """The classic path builds its FULLY_CONNECTED kernels without mcu_check_fc
    (MCU_NN_FC_CHECKED_ON_HOST) and refuses on the host what the check would reject:
    fc_kernel_args_problem accepts and rejects exactly what the compiled check does."""
    _check_fc_mirror(host_runner("fully_connected"))


@needs_arm
def test_fully_connected_opt_check_matches_the_mirror() -> None:
    """The same argument sets through the opt kernel on the Cortex-M4 (its entry checks, then
    dispatches to the lean or the large path)."""
    _check_fc_mirror(sim_runner("fully_connected", "opt", M4))


@needs_arm
def test_fully_connected_wino_per_channel_shifts_that_differ_stay_fused() -> None:
    """Per-channel shifts that are each in the SMMLAR form's range but differ (an OR of
    shift + 23 over them exceeds 22) still take the fused output stage: the kernel's OR test is
    confirmed channel by channel before it gives up on it."""
    spec = {"n": 1, "depth": 64, "units": 64, "per_channel": True}
    case = CASES["fully_connected_wino"](spec, np.random.default_rng(0))
    res = sim_runner("fully_connected_wino", "opt", M4).run(case.blob)
    assert res.status == MCU_OK
    assert res.array(case.out_offset, case.expected.shape).tolist() == case.expected.tolist()
    assert "mcu_fcw_out_channel" in res.run.functions  # the general path has no such call
