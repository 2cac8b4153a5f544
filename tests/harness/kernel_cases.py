"""Test vectors for the kernel harnesses, generated (never written by hand) and checked against
``mcusim.reference`` (the numpy int8 specification).

Each ``<op>_case(spec, rng)`` takes a plain dict of shapes/options (from a hypothesis strategy
or a benchmark) and a numpy Generator for tensor values and quantization, and returns a
:class:`Case`: the harness :class:`~kernel_runner.Blob` plus the expected output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from kernel_runner import Blob

from mcusim.frontend import quant as q
from mcusim.frontend import reference as ref
from mcusim.operators import _common as common
from mcusim.operators import activation, arithmetic, conv, fully_connected, layout, pooling, quantize, reduce
from mcusim.stacks import winograd

I8 = np.int8


@dataclass
class Case:
    kernel: str
    blob: Blob
    expected: np.ndarray
    out_offset: int
    scratch_reserved: int = 0
    macs: int = 0
    dtype: Any = np.int8


def _i8(rng: np.random.Generator, shape: tuple[int, ...], lo: int = -128, hi: int = 127) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=shape, dtype=np.int64).astype(I8)


def _mult(rng: np.random.Generator, lo: float, hi: float) -> tuple[int, int]:
    """QuantizeMultiplier of a log-uniform real multiplier in [2^lo, 2^hi]."""
    return q.quantize_multiplier(2.0 ** rng.uniform(lo, hi))


def _act(rng: np.random.Generator, zp: int, kind: str | None = None) -> tuple[int, int]:
    kind = kind or rng.choice(["none", "none", "relu", "relu6"])
    if kind == "none":
        return -128, 127
    lo = max(-128, zp)
    if kind == "relu":
        return lo, 127
    return lo, int(min(127, lo + rng.integers(1, 120)))


def _zp(rng: np.random.Generator) -> int:
    return int(rng.integers(-128, 128))


def _requant(rng: np.random.Generator, channels: int, per_channel: bool, lo: float = -12,
             hi: float = -4) -> tuple[np.ndarray, np.ndarray]:
    pairs = [_mult(rng, lo, hi) for _ in range(channels if per_channel else 1)]
    return (np.array([m for m, _ in pairs], np.int64), np.array([s for _, s in pairs], np.int64))


def _spatial(spec: dict[str, Any]) -> tuple[int, int, int, int]:
    """(out_h, out_w, pad_h, pad_w) of a windowed op, TFLite SAME/VALID rules."""
    pad = spec.get("padding", "VALID")
    dh, dw = spec.get("dh", 1), spec.get("dw", 1)
    oh = common.compute_out_size(pad, spec["h"], spec["kh"], spec["sh"], dh)
    ow = common.compute_out_size(pad, spec["w"], spec["kw"], spec["sw"], dw)
    return (oh, ow, common.compute_padding(spec["h"], spec["kh"], spec["sh"], dh, oh),
            common.compute_padding(spec["w"], spec["kw"], spec["sw"], dw, ow))


def _quant_blob(b: Blob, mult: np.ndarray, shift: np.ndarray) -> None:
    b.buf(mult.astype("<i4"))
    b.buf(shift.astype("<i4"))
    b.val(int(len(mult) > 1))


# --- FULLY_CONNECTED / CONV / DEPTHWISE -----------------------------------------------------
def fully_connected_case(spec: dict[str, Any], rng: np.random.Generator, wino: bool = False) -> Case:
    batches, depth, units = spec["n"], spec["depth"], spec["units"]
    x = _i8(rng, (batches, depth))
    w = _i8(rng, (units, depth), -127, 127)
    bias = rng.integers(-5000, 5000, units).astype(np.int32) if spec.get("bias", True) else None
    zin, zout = _zp(rng), _zp(rng)
    wzp = int(rng.integers(-10, 11)) if spec.get("filter_zp") else 0
    mult, shift = _requant(rng, units, spec.get("per_channel", False), -13, -6)
    act = _act(rng, zout, spec.get("act"))
    p = fully_connected.FullyConnectedParams(-zin, -wzp, common.Requant(mult, shift, zout, *act))
    expected = fully_connected.fully_connected(x, w, bias, p)
    b = Blob()
    reserved = 2 * depth + 64 + (8 * units if wino else 0)  # + the row records of the Winograd kernel
    b.scratch(reserved)
    b.val(-zin, -wzp, zout, *act)
    _quant_blob(b, mult, shift)
    b.dims((batches, 1, 1, depth))
    b.dims((units, 1, 1, depth))
    b.dims((batches, 1, 1, units))
    b.buf(x)
    b.buf(w)
    b.buf(bias)
    if wino:  # the region the harness prepares the pair sums into (before the output)
        b.out(4 * units)
    off = b.out(expected.size)
    return Case("fully_connected_wino" if wino else "fully_connected", b, expected, off, reserved,
                batches * depth * units)


def fully_connected_wino_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    """FULLY_CONNECTED through mcu_fully_connected_wino_s8 (Winograd's inner-product identity;
    the pair sums prepared on the target): the same layer as fully_connected_case draws."""
    return fully_connected_case(spec, rng, wino=True)


def conv_case(spec: dict[str, Any], rng: np.random.Generator, wino: bool = False) -> Case:
    n, h, w_, c, oc = spec["n"], spec["h"], spec["w"], spec["c"], spec["oc"]
    kh, kw, groups = spec["kh"], spec["kw"], spec.get("groups", 1)
    oh, ow, pad_h, pad_w = _spatial(spec)
    x = _i8(rng, (n, h, w_, c))
    wts = _i8(rng, (oc, kh, kw, c // groups), -127, 127)
    bias = rng.integers(-20000, 20000, oc).astype(np.int32) if spec.get("bias", True) else None
    zin, zout = _zp(rng), _zp(rng)
    # log2 of the real multipliers; the default keeps every shift a right shift (the fused
    # output stages), a "requant" range reaching above 0 exercises the general ones
    mult, shift = _requant(rng, oc, spec.get("per_channel", True), *spec.get("requant", (-14, -6)))
    act = _act(rng, zout, spec.get("act"))
    p = conv.ConvParams(spec["sh"], spec["sw"], spec.get("dh", 1), spec.get("dw", 1), pad_h, pad_w,
                       oh, ow, -zin, 1, common.Requant(mult, shift, zout, *act))
    expected = conv.conv_2d(x, wts, bias, p)
    b = Blob()
    k = kh * kw * (c // groups)
    cp = (c + 3) & ~3
    # >= the optimized flavour's need: 2 int16 columns + int8 staging (direct); V, the sums of
    # one channel pair, the column transforms and the staged window of a block (Winograd)
    reserved = 168 * cp + 892 + 32 * oc if wino else 5 * k + 80
    b.scratch(reserved)
    b.val(-zin, zout, spec["sh"], spec["sw"], pad_h, pad_w, spec.get("dh", 1), spec.get("dw", 1), *act)
    _quant_blob(b, mult, shift)
    b.dims((n, h, w_, c))
    b.dims((oc, kh, kw, c // groups))
    b.dims((n, oh, ow, oc))
    b.buf(x)
    b.buf(wts)
    b.buf(bias)
    if wino:  # the region the harness transforms the filter into (before the output, whose
        b.out(winograd.filter_bytes(wts.shape))  # end the checks watch for overruns)
    off = b.out(expected.size)
    return Case("conv_wino" if wino else "conv", b, expected, off, reserved, n * oh * ow * oc * k)


def conv_wino_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    """CONV_2D 3x3 / stride 1 through mcu_conv_wino_s8 (filter transformed on the target)."""
    return conv_case({**spec, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "dh": 1, "dw": 1,
                      "groups": 1}, rng, wino=True)


def depthwise_conv_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    n, h, w_, c, m = spec["n"], spec["h"], spec["w"], spec["c"], spec.get("mult", 1)
    kh, kw = spec["kh"], spec["kw"]
    oh, ow, pad_h, pad_w = _spatial(spec)
    x = _i8(rng, (n, h, w_, c))
    wts = _i8(rng, (1, kh, kw, c * m), -127, 127)
    bias = rng.integers(-20000, 20000, c * m).astype(np.int32) if spec.get("bias", True) else None
    zin, zout = _zp(rng), _zp(rng)
    mult, shift = _requant(rng, c * m, spec.get("per_channel", True), -12, -5)
    act = _act(rng, zout, spec.get("act"))
    p = conv.ConvParams(spec["sh"], spec["sw"], spec.get("dh", 1), spec.get("dw", 1), pad_h, pad_w,
                       oh, ow, -zin, m, common.Requant(mult, shift, zout, *act))
    expected = conv.depthwise_conv_2d(x, wts, bias, p)
    b = Blob()
    reserved = 4 * kh * kw * c * m + 64
    b.scratch(reserved)
    b.val(-zin, zout, m, spec["sh"], spec["sw"], pad_h, pad_w, spec.get("dh", 1), spec.get("dw", 1), *act)
    _quant_blob(b, mult, shift)
    b.dims((n, h, w_, c))
    b.dims((1, kh, kw, c * m))
    b.dims((n, oh, ow, c * m))
    b.buf(x)
    b.buf(wts)
    b.buf(bias)
    off = b.out(expected.size)
    return Case("depthwise_conv", b, expected, off, reserved, n * oh * ow * c * m * kh * kw)


# --- pooling / mean -------------------------------------------------------------------------
def _pool_case(kernel: str, spec: dict[str, Any], rng: np.random.Generator) -> Case:
    n, h, w_, c = spec["n"], spec["h"], spec["w"], spec["c"]
    oh, ow, pad_h, pad_w = _spatial(spec)
    x = _i8(rng, (n, h, w_, c))
    act = _act(rng, _zp(rng), spec.get("act"))
    p = pooling.PoolParams(spec["kh"], spec["kw"], spec["sh"], spec["sw"], pad_h, pad_w, oh, ow, *act)
    expected = pooling.max_pool_2d(x, p) if kernel == "max_pool" else pooling.average_pool_2d(x, p)
    b = Blob()
    reserved = 4 * c + 64
    b.scratch(reserved)
    b.val(spec["sh"], spec["sw"], pad_h, pad_w, spec["kh"], spec["kw"], *act)
    b.dims((n, h, w_, c))
    b.dims((n, oh, ow, c))
    b.buf(x)
    off = b.out(expected.size)
    return Case(kernel, b, expected, off, reserved)


def max_pool_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    return _pool_case("max_pool", spec, rng)


def avg_pool_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    return _pool_case("avg_pool", spec, rng)


def mean_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    n, h, w_, c = spec["n"], spec["h"], spec["w"], spec["c"]
    x = _i8(rng, (n, h, w_, c))
    if spec.get("wide"):  # sums near the int16 lanes' limits: mostly -128, or mostly 127
        x = np.where(rng.random(x.shape) < 0.9, -128 if rng.random() < 0.5 else 127, x).astype(np.int8)
    zin = _zp(rng)
    if spec.get("same"):
        zout, (m, s) = zin, q.quantize_multiplier(1.0)
    else:
        zout, (m, s) = _zp(rng), _mult(rng, -3, 3)
    p = reduce.MeanParams((1, 2), zin, zout, m, s)
    expected = reduce.mean(x, p).reshape(n, 1, 1, c)
    b = Blob()
    reserved = 4 * c + 64
    b.scratch(reserved)
    b.val(zin, zout, m, s)
    b.dims((n, h, w_, c))
    b.dims((n, 1, 1, c))
    b.buf(x)
    off = b.out(expected.size)
    return Case("mean", b, expected, off, reserved)


# --- ADD / MUL ------------------------------------------------------------------------------
def _broadcast_shapes(spec: dict[str, Any], rng: np.random.Generator) -> tuple[tuple[int, ...], ...]:
    out = (spec["n"], spec["h"], spec["w"], spec["c"])
    if not spec.get("broadcast"):
        return out, out, out
    a = tuple(d if rng.random() < 0.6 else 1 for d in out)
    bb = tuple(d if rng.random() < 0.6 else 1 for d in out)
    full = tuple(max(x, y) for x, y in zip(a, bb))
    return a, bb, full


def add_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    sa_shape, sb_shape, out_shape = _broadcast_shapes(spec, rng)
    x1, x2 = _i8(rng, sa_shape), _i8(rng, sb_shape)
    s1, s2, so = (2.0 ** rng.uniform(-8, -2) for _ in range(3))
    z1, z2, zo = _zp(rng), _zp(rng), _zp(rng)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = q.quantize_multiplier(s1 / twice_max)
    m2, sh2 = q.quantize_multiplier(s2 / twice_max)
    mo, sho = q.quantize_multiplier(twice_max / ((1 << 20) * so))
    act = _act(rng, zo, spec.get("act"))
    p = arithmetic.AddParams(-z1, -z2, 20, m1, sh1, m2, sh2, mo, sho, zo, *act)
    expected = arithmetic.add(x1, x2, p)
    b = Blob()
    b.scratch(0)
    b.val(-z1, -z2, 20, m1, sh1, m2, sh2, mo, sho, zo, *act)
    b.dims(sa_shape)
    b.dims(sb_shape)
    b.dims(out_shape)
    b.buf(x1)
    b.buf(x2)
    off = b.out(expected.size)
    return Case("add", b, expected, off)


def mul_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    sa_shape, sb_shape, out_shape = _broadcast_shapes(spec, rng)
    x1, x2 = _i8(rng, sa_shape), _i8(rng, sb_shape)
    z1, z2, zo = _zp(rng), _zp(rng), _zp(rng)
    m, s = _mult(rng, -16, -6)
    act = _act(rng, zo, spec.get("act"))
    p = arithmetic.MulParams(-z1, -z2, m, s, zo, *act)
    expected = arithmetic.mul(x1, x2, p)
    b = Blob()
    b.scratch(0)
    b.val(-z1, -z2, m, s, zo, *act)
    b.dims(sa_shape)
    b.dims(sb_shape)
    b.dims(out_shape)
    b.buf(x1)
    b.buf(x2)
    off = b.out(expected.size)
    return Case("mul", b, expected, off)


def _rescale_case(kernel: str, spec: dict[str, Any], rng: np.random.Generator) -> Case:
    """SUB (left shift 20, an activation) or SQUARED_DIFFERENCE (left shift 7, output multiplier
    above or below 1): ADD's parameter record."""
    sa_shape, sb_shape, out_shape = _broadcast_shapes(spec, rng)
    x1, x2 = _i8(rng, sa_shape), _i8(rng, sb_shape)
    s1, s2, so = (2.0 ** rng.uniform(-8, -2) for _ in range(3))
    z1, z2, zo = _zp(rng), _zp(rng), _zp(rng)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = q.quantize_multiplier(s1 / twice_max)
    m2, sh2 = q.quantize_multiplier(s2 / twice_max)
    if kernel == "sub":
        shift = 20
        mo, sho = q.quantize_multiplier(twice_max / ((1 << shift) * so))
        act = _act(rng, zo, spec.get("act"))
    else:
        shift = 7
        mo, sho = q.quantize_multiplier(twice_max * twice_max / ((1 << 14) * so * 2.0 ** rng.uniform(-4, 4)))
        act = (-128, 127)
    p = arithmetic.AddParams(-z1, -z2, shift, m1, sh1, m2, sh2, mo, sho, zo, *act)
    expected = arithmetic.sub(x1, x2, p) if kernel == "sub" else arithmetic.squared_difference(x1, x2, p)
    b = Blob()
    b.scratch(0)
    b.val(-z1, -z2, shift, m1, sh1, m2, sh2, mo, sho, zo, *act)
    b.dims(sa_shape)
    b.dims(sb_shape)
    b.dims(out_shape)
    b.buf(x1)
    b.buf(x2)
    off = b.out(expected.size)
    return Case(kernel, b, expected, off)


def _extremum_case(kernel: str, spec: dict[str, Any], rng: np.random.Generator) -> Case:
    sa_shape, sb_shape, out_shape = _broadcast_shapes(spec, rng)
    x1, x2 = _i8(rng, sa_shape), _i8(rng, sb_shape)
    expected = (np.maximum if kernel == "maximum" else np.minimum)(x1, x2).astype(I8)
    b = Blob()
    b.scratch(0)
    b.dims(sa_shape)
    b.dims(sb_shape)
    b.dims(out_shape)
    b.buf(x1)
    b.buf(x2)
    off = b.out(expected.size)
    return Case(kernel, b, expected, off)


def rsqrt_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    """Every value at or above the input zero point (below it the kernel refuses, as TFLM)."""
    zi, zo = int(rng.integers(-128, 0)), _zp(rng)
    x = _i8(rng, _shape(spec), lo=zi)
    m, s = _mult(rng, -2, 12)
    p = arithmetic.RsqrtParams(zi, zo, m, s)
    b = Blob()
    b.scratch(0)
    b.val(zi, zo, m, s)
    return _unary("rsqrt", b, x, arithmetic.rsqrt(x, p))


def neg_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = rng.normal(0.0, 3.0, _shape(spec)).astype(np.float32)
    flat = x.reshape(-1)
    flat[:2] = [0.0, -0.0][:flat.size]
    b = Blob()
    b.scratch(0)
    return _unary("neg", b, x, np.negative(x), np.float32)


# --- CONCATENATION / PAD --------------------------------------------------------------------
def concatenation_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    axis, k = spec["axis"], spec["inputs"]
    base = [spec["n"], spec["h"], spec["w"], spec["c"]]
    shapes = []
    for _ in range(k):
        s = list(base)
        s[axis] = int(rng.integers(1, 5))
        shapes.append(tuple(s))
    xs = [_i8(rng, s) for s in shapes]
    zo = _zp(rng)
    requant = bool(spec.get("requant"))
    rqs: list[tuple[int, int, int]] = []
    parts = []
    for x in xs:
        if requant and rng.random() < 0.7:
            zi = _zp(rng)
            m, s = _mult(rng, -2, 1)
            rqs.append((zi, m, s))
            parts.append(quantize.requantize(x, quantize.RequantizeParams(zi, zo, m, s)))
        else:
            rqs.append((0, 0, 0))
            parts.append(x)
    expected = np.concatenate(parts, axis=axis)
    if not requant:
        assert np.array_equal(expected, layout.concatenation(xs, axis))
    b = Blob()
    b.scratch(0)
    b.val(axis, k, zo, int(requant))
    for x, (zi, m, s) in zip(xs, rqs):
        b.val(zi, m, s)
        b.dims(x.shape)
        b.buf(x)
    b.dims(expected.shape)
    off = b.out(expected.size)
    return Case("concatenation", b, expected, off)


def pad_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    shape = (spec["n"], spec["h"], spec["w"], spec["c"])
    x = _i8(rng, shape)
    widths = rng.integers(0, 3, size=(4, 2))
    if not spec.get("pad_batch_channel", False):
        widths[0] = widths[3] = 0
    value = _zp(rng)
    expected = layout.pad(x, widths, value)
    b = Blob()
    b.scratch(0)
    b.dims(tuple(widths[:, 0]))
    b.dims(tuple(widths[:, 1]))
    b.val(value)
    b.dims(shape)
    b.dims(expected.shape)
    b.buf(x)
    off = b.out(expected.size)
    return Case("pad", b, expected, off)


# --- activations ----------------------------------------------------------------------------
def _unary(kernel: str, b: Blob, x: np.ndarray, expected: np.ndarray, dtype: Any = np.int8) -> Case:
    b.dims(x.shape)
    b.buf(x)
    off = b.out(expected.size * np.dtype(dtype).itemsize)
    return Case(kernel, b, expected, off, dtype=dtype)


def _shape(spec: dict[str, Any]) -> tuple[int, int, int, int]:
    return (spec["n"], spec["h"], spec["w"], spec["c"])


def softmax_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    beta = float(spec.get("beta", 1.0))
    m, s = q.preprocess_softmax_scaling(beta, 2.0 ** rng.uniform(-7, 0), 5)
    p = activation.SoftmaxParams(m, s, -q.calculate_input_radius(5, s))
    b = Blob()
    b.scratch(0)
    b.val(p.input_multiplier, p.input_left_shift, p.diff_min)
    return _unary("softmax", b, x, activation.softmax(x, p))


def _sigmoid_params(rng: np.random.Generator) -> activation.SigmoidParams:
    scale = 2.0 ** rng.uniform(-8, -1)
    m, s = q.quantize_multiplier_frexp_only(scale * float(1 << 27))
    return activation.SigmoidParams(_zp(rng), q.calculate_input_radius(4, s, 31), m, s)


def logistic_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    p = _sigmoid_params(rng)
    b = Blob()
    b.scratch(0)
    b.val(p.input_zero_point, p.input_range_radius, p.input_multiplier, p.input_left_shift)
    return _unary("logistic", b, x, activation.logistic(x, p))


def tanh_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    p = _sigmoid_params(rng)
    b = Blob()
    b.scratch(0)
    b.val(p.input_zero_point, p.input_range_radius, p.input_multiplier, p.input_left_shift)
    return _unary("tanh", b, x, activation.tanh(x, p))


def hard_swish_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    s_in = np.float32(2.0 ** rng.uniform(-7, 0))
    s_out = np.float32(s_in * 2.0 ** rng.uniform(-1.5, 0.5))
    hires = np.float32(1.0 / 128.0) * s_in
    om, oe = q.quantize_multiplier(float(hires / s_out))
    rm, re_ = q.quantize_multiplier(float(hires / (np.float32(3.0) / np.float32(32768.0))))
    p = activation.HardSwishParams(_zp(rng), _zp(rng), q.downscale_int32_to_int16_multiplier(om), oe,
                            q.downscale_int32_to_int16_multiplier(rm), re_)
    b = Blob()
    b.scratch(0)
    b.val(p.input_zero_point, p.output_zero_point, p.reluish_multiplier_fixedpoint_int16,
          p.reluish_multiplier_exponent, p.output_multiplier_fixedpoint_int16,
          p.output_multiplier_exponent)
    return _unary("hard_swish", b, x, activation.hard_swish(x, p))


def _wide_mult(rng: np.random.Generator) -> tuple[int, int]:
    """A multiplier of 0 (alpha 0) or 2^[-20, 8]: shifts outside the optimized kernels' fast forms."""
    return (0, 0) if rng.random() < 0.15 else _mult(rng, -20, 8)


def leaky_relu_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    mi, si = _wide_mult(rng) if spec.get("wide") else _mult(rng, -2, 1)
    ma, sa = _wide_mult(rng) if spec.get("wide") else _mult(rng, -6, 0)
    p = activation.LeakyReluParams(_zp(rng), _zp(rng), mi, si, ma, sa)
    b = Blob()
    b.scratch(0)
    b.val(p.input_zero_point, p.output_zero_point, mi, si, ma, sa)
    return _unary("leaky_relu", b, x, activation.leaky_relu(x, p))


def prelu_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    shape = _shape(spec)
    x = _i8(rng, shape)
    alpha_shape = (1, 1, 1, shape[3]) if spec.get("alpha_per_channel", True) else shape
    alpha = _i8(rng, alpha_shape)
    m1, s1 = _wide_mult(rng) if spec.get("wide") else _mult(rng, -2, 1)
    m2, s2 = _wide_mult(rng) if spec.get("wide") else _mult(rng, -10, -4)
    # alpha's zero point: 0 half the time (the converter quantizes alpha symmetrically; the
    # optimized kernel has a path for it)
    alpha_offset = 0 if rng.random() < 0.5 else -_zp(rng)
    p = activation.PreluParams(-_zp(rng), alpha_offset, _zp(rng), m1, s1, m2, s2)
    expected = activation.prelu(x, alpha, p)
    b = Blob()
    b.scratch(0)
    b.val(p.input_offset, p.alpha_offset, p.output_offset, m1, s1, m2, s2)
    b.dims(shape)
    b.dims(alpha_shape)
    b.dims(shape)
    b.buf(x)
    b.buf(alpha)
    off = b.out(expected.size)
    return Case("prelu", b, expected, off)


def clamp_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    zero = _zp(rng)
    six = int(min(127, zero + rng.integers(0, 200)))
    b = Blob()
    b.scratch(0)
    b.val(zero, six)
    return _unary("clamp", b, x, activation.relu6(x, zero, six))


def quantize_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    zi, zo = _zp(rng), _zp(rng)
    m, s = _mult(rng, -3, 3)
    b = Blob()
    b.scratch(0)
    if spec.get("relu"):  # TFLM RELU with requantization
        p = activation.ReluParams(zi, zo, m, s, max(-128, zo), 127)
        b.val(zi, zo, m, s, p.act_min, p.act_max)
        return _unary("quantize", b, x, activation.relu(x, p))
    b.val(zi, zo, m, s, -128, 127)
    return _unary("quantize", b, x, quantize.requantize(x, quantize.RequantizeParams(zi, zo, m, s)))


def quantize_uint8_case(spec: dict[str, Any], rng: np.random.Generator, to_uint8: bool) -> Case:
    """QUANTIZE uint8 -> int8 or int8 -> uint8 (the converter's uint8 model input and output)."""
    shape = _shape(spec)
    x = _i8(rng, shape).astype(np.uint8) if not to_uint8 else _i8(rng, shape)
    zu = int(rng.integers(0, 256))
    zi, zo = (_zp(rng), zu) if to_uint8 else (zu, _zp(rng))
    m, s = _mult(rng, -3, 3) if rng.random() < 0.5 else q.quantize_multiplier(1.0)  # 1.0: the converter's
    if (m, s) == q.quantize_multiplier(1.0) and rng.random() < 0.5:  # and zero points 128 apart: the fast path
        zi, zo = (zu - 128, zu) if to_uint8 else (zu, zu - 128)
    b = Blob()
    b.scratch(0)
    b.val(zi, zo, m, s, *((0, 255) if to_uint8 else (-128, 127)))
    dtype = np.uint8 if to_uint8 else np.int8
    expected = quantize.requantize(x, quantize.RequantizeParams(zi, zo, m, s), dtype)
    return _unary("quantize_s8_u8" if to_uint8 else "quantize_u8_s8", b, x, expected, dtype)


def dequantize_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    scale = np.float32(2.0 ** rng.uniform(-10, 2))
    zp = _zp(rng)
    b = Blob()
    b.scratch(0)
    b.val(zp, int(np.array([scale], "<f4").view("<i4")[0]))
    return _unary("dequantize", b, x, quantize.dequantize(x, float(scale), zp), np.float32)


def lut_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    x = _i8(rng, _shape(spec))
    s_in, s_out = 2.0 ** rng.uniform(-6, -2), 2.0 ** rng.uniform(-6, -2)
    if spec.get("swish", True):
        table = ref.swish_lut(s_in, _zp(rng), s_out, _zp(rng))
    else:
        table = ref.leaky_relu_lut(float(rng.uniform(0, 0.5)), s_in, _zp(rng), s_out, _zp(rng))
    b = Blob()
    b.scratch(0)
    b.buf(table)
    return _unary("lut", b, x, ref.apply_lut(x, table))


# --- TRANSPOSE_CONV / BATCH_MATMUL ------------------------------------------------------------
def transpose_conv_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    from mcusim.operators import transpose_conv as tc

    n, h, w_, c, oc = spec["n"], spec["h"], spec["w"], spec["c"], spec["oc"]
    kh, kw, sh, sw = spec["kh"], spec["kw"], spec["sh"], spec["sw"]
    if spec.get("padding", "VALID") == "SAME":
        oh, ow = h * sh, w_ * sw
    else:
        oh, ow = (h - 1) * sh + kh, (w_ - 1) * sw + kw
    pad_h = common.compute_padding(oh, kh, sh, 1, common.compute_out_size(spec.get("padding", "VALID"), oh, kh, sh, 1))
    pad_w = common.compute_padding(ow, kw, sw, 1, common.compute_out_size(spec.get("padding", "VALID"), ow, kw, sw, 1))
    x = _i8(rng, (n, h, w_, c))
    wts = _i8(rng, (oc, kh, kw, c), -127, 127)
    bias = rng.integers(-20000, 20000, oc).astype(np.int32) if spec.get("bias", True) else None
    zin, zout = _zp(rng), _zp(rng)
    mult, shift = _requant(rng, oc, spec.get("per_channel", True), -14, -6)
    act = _act(rng, zout, spec.get("act"))
    p = tc.TransposeConvParams(sh, sw, pad_h, pad_w, 0, 0, -zin, common.Requant(mult, shift, zout, *act))
    expected = tc.transpose_conv(x, wts, bias, (oh, ow), p)
    b = Blob()
    d4 = ((-(-kh // sh)) * (-(-kw // sw)) * c + 3) & ~3
    reserved = oc * d4 + 2 * d4 + 16
    b.scratch(reserved)
    b.val(-zin, zout, sh, sw, pad_h, pad_w, *act)
    _quant_blob(b, mult, shift)
    b.dims((n, h, w_, c))
    b.dims((oc, kh, kw, c))
    b.dims((n, oh, ow, oc))
    b.buf(x)
    b.buf(wts)
    b.buf(bias)
    off = b.out(expected.size)
    return Case("transpose_conv", b, expected, off, reserved, n * h * w_ * c * oc * kh * kw)


def batch_matmul_case(spec: dict[str, Any], rng: np.random.Generator) -> Case:
    from mcusim.operators import batch_matmul as bm

    m, k, n = spec["m"], spec["k"], spec["n"]
    lb, rb = spec["lhs_batch"], spec["rhs_batch"]  # (B0, B1) each, 1 = broadcast
    ob = tuple(max(a, c) for a, c in zip(lb, rb))
    adj_x, adj_y = spec["adj_x"], spec["adj_y"]
    lhs = _i8(rng, (*lb, *((k, m) if adj_x else (m, k))))
    rhs = _i8(rng, (*rb, *((n, k) if adj_y else (k, n))))
    zl, zr, zout = _zp(rng), _zp(rng), _zp(rng)
    mult, shift = _mult(rng, -14, -6)
    p = bm.BatchMatMulParams(-zl, -zr, zout, mult, shift, adj_x, adj_y)
    expected = bm.batch_matmul(lhs, rhs, p)
    b = Blob()
    k4 = (k + 3) & ~3
    reserved = n * k4 + 2 * k4 + 16
    b.scratch(reserved)
    b.val(-zl, -zr, zout, int(adj_x), int(adj_y), -128, 127)
    _quant_blob(b, np.array([mult]), np.array([shift]))
    b.dims(lhs.shape)
    b.dims(rhs.shape)
    b.dims((*ob, m, n))
    b.buf(lhs)
    b.buf(rhs)
    off = b.out(expected.size)
    return Case("batch_matmul", b, expected, off, reserved, int(np.prod(ob)) * m * n * k)


CASES = {
    "fully_connected": fully_connected_case,
    "fully_connected_wino": fully_connected_wino_case,
    "conv": conv_case,
    "conv_wino": conv_wino_case,
    "depthwise_conv": depthwise_conv_case,
    "max_pool": max_pool_case,
    "avg_pool": avg_pool_case,
    "mean": mean_case,
    "add": add_case,
    "mul": mul_case,
    "sub": lambda spec, rng: _rescale_case("sub", spec, rng),
    "squared_difference": lambda spec, rng: _rescale_case("squared_difference", spec, rng),
    "maximum": lambda spec, rng: _extremum_case("maximum", spec, rng),
    "minimum": lambda spec, rng: _extremum_case("minimum", spec, rng),
    "rsqrt": rsqrt_case,
    "neg": neg_case,
    "concatenation": concatenation_case,
    "pad": pad_case,
    "softmax": softmax_case,
    "logistic": logistic_case,
    "tanh": tanh_case,
    "hard_swish": hard_swish_case,
    "leaky_relu": leaky_relu_case,
    "prelu": prelu_case,
    "clamp": clamp_case,
    "quantize": quantize_case,
    "quantize_u8_s8": lambda spec, rng: quantize_uint8_case(spec, rng, False),
    "quantize_s8_u8": lambda spec, rng: quantize_uint8_case(spec, rng, True),
    "dequantize": dequantize_case,
    "lut": lut_case,
    "transpose_conv": transpose_conv_case,
    "batch_matmul": batch_matmul_case,
}

