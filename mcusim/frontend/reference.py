"""The numpy int8 reference run over a whole graph: the living specification.

Every operator's reference lives in its spec (mcusim/operators/, one module per family), in two
halves mirroring TFLM's prepare/eval split: ``prepare_<op>(graph, op) -> <Op>Params`` computes
on the host, from the tensors' quantization, everything the integer kernel needs (the classic
code generator emits exactly these numbers), and ``<op>(arrays..., params)`` is the integer
kernel over numpy arrays.

:func:`evaluate_op` runs one op by its spec, :func:`run_graph` a whole
:class:`~mcusim.frontend.graph.Graph` op by op and :func:`trace_graph` returns every tensor it
computed, for per-op debugging. They must agree bit for bit with the ``tflite-micro``
interpreter (its reference kernels, default double-rounding build).

The LUT helpers (:func:`swish_lut`, :func:`leaky_relu_lut`, :func:`apply_lut`) are mcusim's own
extension, the numpy model of the mcu_lut_s8 kernel that the classic path's lookup-table
activations call; not TFLM ops.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import operators
from ..errors import McusimError, ModelError
from ..operators import Values
from ..operators._common import I8_MAX, I8_MIN
from ..operators._common import i64 as _i64
from . import quant as q
from .graph import Graph, Op


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
def evaluate_op(graph: Graph, op: Op, values: Values) -> np.ndarray | list[np.ndarray]:
    """One operator on ``values`` (tensor index -> value, its inputs present): its output, or
    the list of its outputs for an op with several."""
    spec = operators.get(op.type)
    if spec is None:
        raise ModelError(f"model uses op {op.type} (op {op.index}), which the reference does not implement")
    return spec.reference(graph, op, values)


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
        if t.dtype == "INT16":
            if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < -32768 or arr.max() > 32767)):
                raise McusimError(f"input {t.name!r} must hold int16 values")
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
