"""The numpy int8 reference of every op mcusim runs: the living specification.

Each op has two halves, mirroring TFLM's prepare/eval split:

* ``prepare_<op>(graph, op) -> <Op>Params`` computes on the host, from the tensors'
  quantization, everything the integer kernel needs (multipliers and shifts, offsets,
  activation range, padding). The classic code generator emits exactly these numbers.
* ``<op>(arrays..., params) -> np.ndarray`` is the integer kernel over numpy arrays. Inputs
  are int8 (or int32/float32 where the op says so); results come back in the output
  tensor's dtype.

:func:`run_graph` evaluates a whole :class:`~mcusim.tflite.Graph` op by op and
:func:`trace_graph` returns every tensor it computed, for per-op debugging. Both must agree
bit for bit with the ``tflite-micro`` interpreter (its reference kernels, default
double-rounding build); where TFLM does something surprising, the docstring says so.

The LUT helpers at the end (:func:`swish_lut`, :func:`leaky_relu_lut`, :func:`apply_lut`)
are mcusim's own extension for the classic path's custom activations, not TFLM ops.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .. import operators
from ..errors import McusimError, ModelError
from ..operators import Values
from ..operators._common import (
    I8_MAX,
    I8_MIN,
    optional_value,
)
from ..operators._common import i64 as _i64
from ..operators._common import inp as _inp
from ..operators._common import out as _out
from ..operators._common import to_i8 as _to_i8
from ..operators._common import value as _value
from . import quant as q
from .graph import Graph, Op

# --- FULLY_CONNECTED ------------------------------------------------------------------------


# --- pooling --------------------------------------------------------------------------------


# --- MEAN -----------------------------------------------------------------------------------


# --- CONCATENATION / PAD / shape ops --------------------------------------------------------
def concatenation(inputs: list[np.ndarray], axis: int, *, scales: list[float] | None = None,
                  zero_points: list[int] | None = None, output_scale: float = 1.0,
                  output_zero_point: int = 0) -> np.ndarray:
    """Concatenate along ``axis``.

    TFLM's int8 CONCATENATION copies the raw values and ignores differing input scales (the
    converter gives all inputs the output's quantization), so that is the default here. Pass
    ``scales``/``zero_points`` to requantize inputs whose quantization differs from the
    output's, TFLite-style (``round(q_in * s_in/s_out)``); that is mcusim's option, not TFLM's.
    """
    if scales is None or zero_points is None:
        return np.concatenate(inputs, axis=axis)
    parts = []
    for arr, s, z in zip(inputs, scales, zero_points):
        if np.float32(s) == np.float32(output_scale) and z == output_zero_point:
            parts.append(arr)
            continue
        scaled = q.tflite_round((_i64(arr) - z).astype(np.float32) * np.float32(s / output_scale))
        parts.append(_to_i8(np.clip(scaled.astype(np.int64) + output_zero_point, I8_MIN, I8_MAX)))
    return np.concatenate(parts, axis=axis)


def pad(x: np.ndarray, paddings: np.ndarray, pad_value: int) -> np.ndarray:
    """Constant padding; ``paddings`` is [rank, 2] (before, after). TFLM pads int8 PAD with
    the output zero point."""
    widths = [(int(b), int(a)) for b, a in np.asarray(paddings).reshape(-1, 2)]
    return np.pad(x, widths, mode="constant", constant_values=pad_value)


def strided_slice(x: np.ndarray, begin: np.ndarray, end: np.ndarray, strides: np.ndarray,
                  options: dict[str, Any]) -> np.ndarray:
    """TF strided slice with begin/end/shrink masks and the ``offset`` option (TFLM has no
    ellipsis or new-axis support, nor has mcusim)."""
    if options.get("ellipsis_mask", 0) or options.get("new_axis_mask", 0):
        raise ModelError("STRIDED_SLICE with ellipsis_mask or new_axis_mask is not supported")
    begin_mask, end_mask = options.get("begin_mask", 0), options.get("end_mask", 0)
    shrink = options.get("shrink_axis_mask", 0)
    out = x
    keep_shape = []
    for axis, dim in enumerate(x.shape):
        b = int(begin[axis]) if axis < len(begin) else 0
        e = int(end[axis]) if axis < len(end) else dim
        s = int(strides[axis]) if axis < len(strides) else 1
        if s == 0:
            raise ModelError("STRIDED_SLICE with stride 0")
        if options.get("offset", False):
            e = b + e
        start = _slice_start(b, s, dim, bool(begin_mask >> axis & 1))
        if shrink >> axis & 1:
            stop = start + 1
        else:
            stop = _slice_stop(e, s, dim, bool(end_mask >> axis & 1))
            keep_shape.append(axis)
        out = np.take(out, np.arange(start, stop, s if not shrink >> axis & 1 else 1), axis=axis)
    return out.reshape([out.shape[a] for a in keep_shape])


def _slice_start(b: int, stride: int, dim: int, masked: bool) -> int:
    if dim == 0:
        return 0
    if masked:
        return 0 if stride > 0 else dim - 1
    b = b + dim if b < 0 else b
    return min(max(b, 0), dim) if stride > 0 else min(max(b, -1), dim - 1)


def _slice_stop(e: int, stride: int, dim: int, masked: bool) -> int:
    if masked:
        return dim if stride > 0 else -1
    e = e + dim if e < 0 else e
    return min(max(e, 0), dim) if stride > 0 else min(max(e, -1), dim - 1)


# --- activations ----------------------------------------------------------------------------


# --- QUANTIZE / DEQUANTIZE ------------------------------------------------------------------


# --- mcusim's LUT extension (classic path custom activations; not TFLM ops) ----------------
def _lut(fn: Callable[[float], float], input_scale: float, input_zero_point: int,
         output_scale: float, output_zero_point: int) -> np.ndarray:
    table = np.empty(256, np.int8)
    for i, qin in enumerate(range(I8_MIN, I8_MAX + 1)):
        real = fn(input_scale * (qin - input_zero_point))
        qout = q.round_half_away(real / output_scale) + output_zero_point
        table[i] = min(max(qout, I8_MIN), I8_MAX)
    return table


def swish_lut(input_scale: float, input_zero_point: int, output_scale: float,
              output_zero_point: int) -> np.ndarray:
    """256-entry int8 table of swish(x) = x * sigmoid(x), indexed by ``q_in + 128``.

    Computed in double from the dequantized input; the output is rounded half away from
    zero and clamped. mcusim's own extension for the classic path, not a TFLM op.
    """
    return _lut(lambda v: v / (1.0 + math.exp(-v)), input_scale, input_zero_point,
                output_scale, output_zero_point)


def leaky_relu_lut(alpha: float, input_scale: float, input_zero_point: int,
                   output_scale: float, output_zero_point: int) -> np.ndarray:
    """256-entry int8 table of a parametric leaky ReLU (``x if x >= 0 else alpha * x``),
    indexed by ``q_in + 128``; mcusim's own extension, not a TFLM op."""
    return _lut(lambda v: v if v >= 0 else alpha * v, input_scale, input_zero_point,
                output_scale, output_zero_point)


def apply_lut(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every int8 value through a 256-entry table; returns int8 of x's shape."""
    table = np.asarray(lut, np.int8)
    return np.asarray(table[_i64(x) + 128], np.int8)


# --- graph evaluation -----------------------------------------------------------------------


def _eval_concat(graph: Graph, op: Op, v: Values) -> np.ndarray:
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise ModelError(f"op {op.index} (CONCATENATION) with a fused activation is not supported")
    arrays = [_value(v, graph, op, i) for i in range(len(op.inputs))]
    axis = op.options.get("axis", 0)
    return concatenation(arrays, axis + arrays[0].ndim if axis < 0 else axis)


def _eval_pad(graph: Graph, op: Op, v: Values) -> np.ndarray:
    constant = optional_value(v, graph, op, 2)
    value = int(constant.reshape(-1)[0]) if constant is not None else _out(graph, op).zero_point_value()
    return pad(_value(v, graph, op, 0), _value(v, graph, op, 1), value)


def _eval_strided_slice(graph: Graph, op: Op, v: Values) -> np.ndarray:
    ones = np.ones(len(_inp(graph, op, 0).shape), np.int64)
    strides = optional_value(v, graph, op, 3)
    return strided_slice(_value(v, graph, op, 0), _value(v, graph, op, 1), _value(v, graph, op, 2),
                         ones if strides is None else strides, op.options)


def _eval_pack(graph: Graph, op: Op, v: Values) -> np.ndarray:
    arrays = [_value(v, graph, op, i) for i in range(len(op.inputs))]
    axis = op.options.get("axis", 0)
    return np.stack(arrays, axis=axis + arrays[0].ndim + 1 if axis < 0 else axis)


def _reshape_to_output(graph: Graph, op: Op, v: Values) -> np.ndarray:
    return _value(v, graph, op, 0).reshape(_out(graph, op).shape)


_Handler = Callable[[Graph, Op, Values], np.ndarray]
_HANDLERS: dict[str, _Handler] = {
    "CONCATENATION": _eval_concat,
    "PAD": _eval_pad,
    "RESHAPE": _reshape_to_output,
    "EXPAND_DIMS": _reshape_to_output,
    "SQUEEZE": _reshape_to_output,
    "SHAPE": lambda g, o, v: np.array(_inp(g, o, 0).shape, np.int32),
    "STRIDED_SLICE": _eval_strided_slice,
    "PACK": _eval_pack,
}


def evaluate_op(graph: Graph, op: Op, values: Values) -> np.ndarray | list[np.ndarray]:
    """One operator on ``values`` (tensor index -> value, its inputs present): its output, or
    the list of its outputs for an op with several."""
    spec = operators.get(op.type)
    handler = spec.reference if spec is not None else _HANDLERS.get(op.type)
    if handler is None:
        raise ModelError(f"model uses op {op.type} (op {op.index}), which the reference does not implement")
    return handler(graph, op, values)


def _check_inputs(graph: Graph, inputs: list[np.ndarray]) -> Values:
    if len(inputs) != len(graph.inputs):
        raise McusimError(f"the model takes {len(graph.inputs)} inputs, {len(inputs)} given")
    values: Values = {}
    for given, index in zip(inputs, graph.inputs):
        t = graph.tensors[index]
        arr = np.asarray(given)
        if tuple(arr.shape) != t.shape:
            raise McusimError(f"input {t.name!r} has shape {list(arr.shape)}, the model expects {list(t.shape)}")
        if t.dtype == "INT8":
            if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < I8_MIN or arr.max() > I8_MAX)):
                raise McusimError(f"input {t.name!r} must hold int8 values")
        values[index] = arr.astype(t.numpy_dtype)
    return values


def trace_graph(graph: Graph, inputs: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Evaluate ``graph`` op by op; returns every tensor's value by tensor index (constants,
    inputs and each op's outputs), for per-op comparison against another implementation."""
    values: Values = {t.index: t.data for t in graph.tensors if t.data is not None}
    values.update(_check_inputs(graph, inputs))
    for op in graph.ops:
        result = evaluate_op(graph, op, values)
        results = result if isinstance(result, list) else [result]
        if len(results) != len(op.outputs):
            raise ModelError(f"op {op.index} ({op.type}) produced {len(results)} outputs, the model has {len(op.outputs)}")
        for index, r in zip(op.outputs, results):
            out = graph.tensors[index]
            if r.size != out.size:
                raise ModelError(f"op {op.index} ({op.type}) produced {r.size} values for output "
                                 f"{out.name!r} of shape {list(out.shape)}")
            values[index] = np.asarray(r).reshape(out.shape).astype(out.numpy_dtype)
    return values


def run_graph(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Evaluate ``graph`` on ``inputs`` (one array per graph input, in order); returns the
    graph outputs in order, each in its tensor's dtype and shape."""
    values = trace_graph(graph, inputs)
    missing = [graph.tensors[i].name for i in graph.outputs if i not in values]
    if missing:
        raise ModelError(f"graph outputs {missing} are never produced")
    return [values[i] for i in graph.outputs]
