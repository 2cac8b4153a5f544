"""Validation of a read model: every operator known to the registry, its tensors of types and
quantization the stacks can run, indices in range. One :class:`~mcusim.errors.ModelError`
naming the first problem."""

from __future__ import annotations

import numpy as np

from .. import operators
from ..errors import ModelError
from .graph import Graph, Op, Tensor


def supported_ops() -> tuple[str, ...]:
    """The operators any model may contain: the registry's."""
    return operators.names()


def validate_graph(graph: Graph) -> None:
    """Check that mcusim can run ``graph``: known, supported ops, int8 tensors where needed,
    indices in range. Raises :class:`ModelError` naming the first problem; returns None."""
    n = len(graph.tensors)
    for role, indices in (("input", graph.inputs), ("output", graph.outputs)):
        if not indices:
            raise ModelError(f"malformed .tflite: subgraph 0 has no {role} tensors")
        for i in indices:
            if not 0 <= i < n:
                raise ModelError(f"malformed .tflite: graph {role} refers to tensor {i} of {n}")
    for op in graph.ops:
        _check_op_known(op)
        for pos, i in enumerate(op.inputs):
            if not -1 <= i < n:
                raise ModelError(f"malformed .tflite: op {op.index} ({op.type}) input {pos} refers to tensor {i} of {n}")
        for pos, i in enumerate(op.outputs):
            if not 0 <= i < n:
                raise ModelError(f"malformed .tflite: op {op.index} ({op.type}) output {pos} refers to tensor {i} of {n}")
        _check_op_types(graph, op)
    _check_graph_io(graph)


def _check_op_known(op: Op) -> None:
    if op.type.startswith("UNKNOWN:"):
        raise ModelError(
            f"model uses operator code {op.type.split(':')[1]} (op {op.index}), which is not a "
            "TFLite builtin operator this version of mcusim knows")
    if op.type.startswith("CUSTOM:"):
        raise ModelError(
            f"model uses custom op {op.type.split(':', 1)[1]!r} (op {op.index}), which mcusim "
            f"does not support; supported: {', '.join(supported_ops())}")
    if op.type not in supported_ops():
        raise ModelError(
            f"model uses op {op.type} (op {op.index}), which mcusim does not support; "
            f"supported: {', '.join(supported_ops())}")


def tensor(graph: Graph, op: Op, pos: int, *, optional: bool = False) -> Tensor | None:
    if pos >= len(op.inputs):
        if optional:
            return None
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.inputs)} inputs, needs at least {pos + 1}")
    i = op.inputs[pos]
    if i == -1:
        if optional:
            return None
        raise ModelError(f"op {op.index} ({op.type}) input {pos} is missing")
    return graph.tensors[i]


def require(t: Tensor, op: Op, role: str, dtypes: tuple[str, ...], *, constant: bool = False,
             quantized: bool = False) -> None:
    where = f"op {op.index} ({op.type}) {role} {t.name!r}"
    if t.dtype == "INT16" and "INT16" not in dtypes:
        raise ModelError(f"{where} is INT16 (16x8 mode); mcusim does not run {op.type} with 16-bit "
                         "activations yet")
    if t.dtype not in dtypes:
        raise ModelError(f"{where} is {t.dtype}; mcusim needs {' or '.join(dtypes)} (int8 or 16x8 models only)")
    if constant and not t.is_constant:
        raise ModelError(f"{where} must be a constant in the model")
    if quantized and t.dtype in ("INT8", "INT16"):
        _check_quantization(t, where)


def _check_quantization(t: Tensor, where: str) -> None:
    if not t.is_quantized:
        raise ModelError(f"{where} is INT8 without quantization parameters")
    if not np.all(np.isfinite(t.scale)) or np.any(t.scale <= 0):
        raise ModelError(f"{where} has a non-positive or non-finite scale")
    if t.dtype == "INT8" and (np.any(t.zero_point < -128) or np.any(t.zero_point > 127)):
        raise ModelError(f"{where} has a zero point outside the int8 range")
    if t.is_per_channel:
        if not 0 <= t.quantized_dimension < len(t.shape) or t.shape[t.quantized_dimension] != t.scale.size:
            raise ModelError(f"{where} has {t.scale.size} per-channel scales that do not match its shape {list(t.shape)}")


def check_activation_tensor(t: Tensor, op: Op, role: str, *, int16: bool = False) -> None:
    """An int8 activation (``int16``: or int16 with zero point 0, the converter's 16x8 mode)."""
    if int16 and t.dtype == "INT16":
        where = f"op {op.index} ({op.type}) {role} {t.name!r}"
        _check_quantization(t, where)
        if np.any(t.zero_point != 0):
            raise ModelError(f"{where} is INT16 with a zero point other than 0; 16x8 mode needs 0")
    else:
        require(t, op, role, ("INT8", "INT16") if int16 else ("INT8",), quantized=True)
    if t.is_per_channel:
        raise ModelError(f"op {op.index} ({op.type}) {role} {t.name!r} is per-channel quantized; activations must be per-tensor")


def check_weighted(graph: Graph, op: Op) -> None:
    """An op with weights: int8 input and output per-tensor, constant int8 quantized weights
    (input 1), an optional constant int32 bias (input 2). 16x8 mode: int16 input and output
    (zero point 0) and an int64 bias."""
    x = must(graph, op, 0)
    check_activation_tensor(x, op, "input", int16=True)
    require(must(graph, op, 1), op, "weights", ("INT8",), constant=True, quantized=True)
    bias = tensor(graph, op, 2, optional=True)
    if bias is not None:
        require(bias, op, "bias", ("INT64",) if x.dtype == "INT16" else ("INT32",), constant=True)
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output", int16=True)
    check_same_type(graph, op)


def check_same_type(graph: Graph, op: Op, *, inputs: int = 1) -> None:
    """The first ``inputs`` inputs and the output have one type (int8 or int16, not mixed)."""
    types = {graph.tensors[i].dtype for i in (*op.inputs[:inputs], op.outputs[0]) if i >= 0}
    if len(types) > 1:
        raise ModelError(f"op {op.index} ({op.type}) mixes {' and '.join(sorted(types))} "
                         "inputs and output; mcusim runs int8 or 16x8 (int16) ops, not both at once")


def check_pointwise(graph: Graph, op: Op, *, int16: bool = False) -> None:
    """An elementwise op of one int8 input: input and output int8, per-tensor, same shape
    (``int16``: both int16 allowed too)."""
    x, out = must(graph, op, 0), graph.tensors[op.outputs[0]]
    check_activation_tensor(x, op, "input", int16=int16)
    check_activation_tensor(out, op, "output", int16=int16)
    check_same_type(graph, op)
    if x.shape != out.shape:
        raise ModelError(f"op {op.index} ({op.type}) input and output shapes differ")


def _check_op_types(graph: Graph, op: Op) -> None:
    spec = operators.get(op.type)
    assert spec is not None  # _check_op_known refused the others
    _check_spec(graph, op, spec)


def _check_spec(graph: Graph, op: Op, spec: operators.OpSpec) -> None:
    """The common checks every spec gets (output and input counts), then its own."""
    if spec.outputs is not None and len(op.outputs) != spec.outputs:
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.outputs)} outputs, expected {spec.outputs}")
    if not op.outputs:
        raise ModelError(f"op {op.index} ({op.type}) has no outputs")
    if len(op.inputs) < spec.min_inputs:
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.inputs)} inputs, needs at least {spec.min_inputs}")
    for pos in range(spec.min_inputs):
        must(graph, op, pos)
    if spec.check is not None:
        spec.check(graph, op)


def must(graph: Graph, op: Op, pos: int) -> Tensor:
    t = tensor(graph, op, pos)
    assert t is not None
    return t


def _check_graph_io(graph: Graph) -> None:
    consumers: dict[int, list[Op]] = {}
    producers: dict[int, Op] = {}
    for op in graph.ops:
        for i in op.inputs:
            consumers.setdefault(i, []).append(op)
        for i in op.outputs:
            producers[i] = op
    for i in graph.inputs:
        t = graph.tensors[i]
        if t.dtype in ("FLOAT32", "UINT8"):
            if not all(op.type == "QUANTIZE" for op in consumers.get(i, [])):
                raise ModelError(f"graph input {t.name!r} is {t.dtype} but not consumed only by QUANTIZE; "
                                 "mcusim needs int8 models")
        elif t.dtype not in ("INT8", "INT16"):
            raise ModelError(f"graph input {t.name!r} is {t.dtype}; mcusim needs INT8 or INT16 (or FLOAT32 or UINT8 into "
                             "QUANTIZE)")
    for i in graph.outputs:
        t = graph.tensors[i]
        want = {"FLOAT32": "DEQUANTIZE", "UINT8": "QUANTIZE"}.get(t.dtype)
        if want is not None:
            producer = producers.get(i)
            if producer is None or producer.type != want:
                raise ModelError(f"graph output {t.name!r} is {t.dtype} but not produced by {want}; "
                                 "mcusim needs int8 models")
        elif t.dtype not in ("INT8", "INT16"):
            raise ModelError(f"graph output {t.name!r} is {t.dtype}; mcusim needs INT8 or INT16 (or FLOAT32 from DEQUANTIZE, "
                             "UINT8 from QUANTIZE)")


def check_bias(graph: Graph, op: Op, channels: int) -> None:
    """The optional bias (input 2) has one value per output channel."""
    bias = tensor(graph, op, 2, optional=True)
    if bias is not None and bias.size != channels:
        raise ModelError(f"op {op.index} ({op.type}) bias has {bias.size} values for {channels} output channels")
