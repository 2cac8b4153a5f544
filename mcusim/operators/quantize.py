"""Quantization changes: QUANTIZE (float32 -> int8, int8 -> int8 with another scale, and the
converter's uint8 interface: uint8 -> int8 at a model's input, int8 -> uint8 at its output) and
DEQUANTIZE (int8 -> float32); in 16x8 mode float32 <-> int16 and the int16 requantizations
(int16 -> int16, int16 <-> int8)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op, Tensor
from ..frontend.validate import check_activation_tensor, must, require
from ..stacks.classic.cgen import Step, float_c
from . import OpSpec, Options, Tinyml, Values
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import out as _out
from ._common import qparams as _qparams
from ._common import value as _value


def _check_same_shape(graph: Graph, op: Op) -> None:
    if must(graph, op, 0).shape != graph.tensors[op.outputs[0]].shape:
        raise ModelError(f"op {op.index} ({op.type}) input and output shapes differ")


def _check_quantize(graph: Graph, op: Op) -> None:
    """float32 -> int8 and int8 -> int8, and as the converter's uint8 interface writes them
    (TFLM Requantize), uint8 -> int8 and int8 -> uint8."""
    _check_same_shape(graph, op)
    x, out = must(graph, op, 0), graph.tensors[op.outputs[0]]
    if x.dtype == "INT16":
        check_activation_tensor(x, op, "input", int16=True)
    else:
        require(x, op, "input", ("FLOAT32", "INT8", "UINT8"), quantized=True)
    if x.dtype == "UINT8":
        _check_uint8(x, op, "input")
    if out.dtype == "UINT8" and x.dtype == "INT8":
        _check_uint8(out, op, "output")
    else:
        check_activation_tensor(out, op, "output", int16=True)


def _check_uint8(t: Tensor, op: Op, role: str) -> None:
    """A uint8 tensor at the model's edge: one scale, a zero point in [0, 255]."""
    where = f"op {op.index} ({op.type}) {role} {t.name!r}"
    if t.scale.size != 1 or t.zero_point.size != 1:
        raise ModelError(f"{where} is UINT8 without one scale and zero point")
    if not 0 <= int(t.zero_point[0]) <= 255 or not float(t.scale[0]) > 0:
        raise ModelError(f"{where} is UINT8 with zero point {int(t.zero_point[0])}, scale {float(t.scale[0])}; "
                         "needs a zero point in [0, 255] and a positive scale")


def _check_dequantize(graph: Graph, op: Op) -> None:
    _check_same_shape(graph, op)
    check_activation_tensor(must(graph, op, 0), op, "input", int16=True)
    require(graph.tensors[op.outputs[0]], op, "output", ("FLOAT32",))


def quantize_float(x: np.ndarray, scale: float, zero_point: int, dtype: Any = np.int8) -> np.ndarray:
    """float32 -> int8 (or int16): round_half_away(x / float32(scale)) + zero point, clamped
    to the output type."""
    scaled = np.asarray(x, np.float32) / np.float32(scale)
    info = np.iinfo(dtype)
    return np.clip(q.tflite_round(scaled).astype(np.int64) + zero_point, info.min, info.max).astype(dtype)


@dataclass(frozen=True)
class RequantizeParams:
    """int8 -> int8 QUANTIZE: multiplier of in_scale / out_scale."""

    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


def prepare_requantize(graph: Graph, op: Op) -> RequantizeParams:
    """Host-side parameters of an int8 -> int8, uint8 -> int8 or int8 -> uint8 QUANTIZE."""
    (si, zi), (so, zo) = _qparams(_inp(graph, op, 0)), _qparams(_out(graph, op))
    m, s = q.quantize_multiplier(si / so)
    return RequantizeParams(zi, zo, m, s)


def requantize(x: np.ndarray, p: RequantizeParams, dtype: type = np.int8) -> np.ndarray:
    """int8 -> int8 rescale (TFLM Requantize), or between int8 and uint8 (``x`` uint8, or
    ``dtype`` np.uint8), or with int16 (16x8 mode): the same formula, saturated to the output
    type."""
    v = q.multiply_by_quantized_multiplier(_i64(x) - p.input_zero_point, p.multiplier, p.shift)
    info = np.iinfo(dtype)
    return np.clip(v + p.output_zero_point, info.min, info.max).astype(dtype)


def dequantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 -> float32: float32(scale) * (x - zero point), in float32."""
    return (np.float32(scale) * (_i64(x) - zero_point).astype(np.float32)).astype(np.float32)


def _quantize_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    x, out = _inp(graph, op, 0), _out(graph, op)
    if x.dtype == "FLOAT32":
        return quantize_float(_value(v, graph, op, 0), *_qparams(out), out.numpy_dtype)
    return requantize(_value(v, graph, op, 0), prepare_requantize(graph, op), out.numpy_dtype)


def _quantize_classic(gen: Any, op: Op) -> Step:
    x = gen.data(op, 0, "input")
    xt = gen.t[x]
    out = gen.t[op.outputs[0]]
    if xt.dtype == "FLOAT32" and out.dtype == "INT16":  # the 16x8 model's float input
        return gen.unary(op, "mcu_quantize_f32_s16", "mcu_dequantize_params",
                         [f".zero_point = {int(out.zero_point[0])}", f".scale = {float_c(float(out.scale[0]))}"],
                         ["float32 -> int16: round(x / scale) half away from zero, + zero point, saturate"])
    if xt.dtype == "FLOAT32":
        return _quantize_float(gen, op, x)
    p = prepare_requantize(gen.g, op)
    kernel = {("UINT8", "INT8"): "mcu_quantize_u8_s8", ("INT8", "UINT8"): "mcu_quantize_s8_u8",
              ("INT16", "INT16"): "mcu_quantize_s16", ("INT16", "INT8"): "mcu_quantize_s16_s8",
              ("INT8", "INT16"): "mcu_quantize_s8_s16"}.get((xt.dtype, out.dtype), "mcu_quantize_s8")
    lo, hi = {"UINT8": (0, 255), "INT16": (-32768, 32767)}.get(out.dtype, (-128, 127))
    return gen.unary(op, kernel, "mcu_requantize_params",
                       [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                        f".multiplier = {p.multiplier}", f".shift = {p.shift}", f".activation = {{{lo}, {hi}}}"],
                       [f"{xt.dtype.lower()} -> {out.dtype.lower()} requantization, multiplier {p.multiplier}, shift "
                        + str(p.shift)])


def _quantize_float(gen: Any, op: Op, x: int) -> Step:
    out = gen.t[op.outputs[0]]
    scale, zp = float(out.scale[0]), int(out.zero_point[0])

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"classic_quantize_f32({ptr(x)}, {ptr(out.index)}, {out.size}, {float_c(scale)}, {zp});",
                "st = MCU_OK;"]

    extra = ["float32 -> int8: round(x / scale) half away from zero, + zero point, saturate "
             "(no mcu_nn kernel: generated helper classic_quantize_f32)"]
    return Step(op, [x], out.index, extra, [], render)


def _dequantize_classic(gen: Any, op: Op) -> Step:
    x = gen.data(op, 0, "input")
    xt = gen.t[x]
    kernel = "mcu_dequantize_s16" if xt.dtype == "INT16" else "mcu_dequantize_s8"  # int16: 16x8's float output
    return gen.unary(op, kernel, "mcu_dequantize_params",
                       [f".zero_point = {int(xt.zero_point[0])}", f".scale = {float_c(float(xt.scale[0]))}"],
                       [f"{xt.dtype.lower()} -> float32: scale * (x - zero point)"])


QUANTIZE = OpSpec("QUANTIZE", _quantize_reference, options=Options(89, "QuantizeOptions"), check=_check_quantize,
                  classic=_quantize_classic, tinyml=Tinyml("mcu_op_quantize", "quantize.c"),
                  kernels=("mcu_quantize_s8", "mcu_quantize_u8_s8", "mcu_quantize_s8_u8", "mcu_quantize_s16",
                           "mcu_quantize_s16_s8", "mcu_quantize_s8_s16", "mcu_quantize_f32_s16"),
                  int16_paths=("classic", "tinyml"))
DEQUANTIZE = OpSpec("DEQUANTIZE", lambda g, o, v: dequantize(_value(v, g, o, 0), *_qparams(_inp(g, o, 0))),
                    options=Options(38, "DequantizeOptions"), check=_check_dequantize, classic=_dequantize_classic,
                    tinyml=Tinyml("mcu_op_dequantize", "dequantize.c"),
                    kernels=("mcu_dequantize_s8", "mcu_dequantize_s16"),
                    int16_paths=("classic", "tinyml"))

SPECS = (QUANTIZE, DEQUANTIZE)
