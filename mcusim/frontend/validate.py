"""Validation of a read model: every operator known to the registry, its tensors of types and
quantization the stacks can run, indices in range. One :class:`~mcusim.errors.ModelError`
naming the first problem."""

from __future__ import annotations

import numpy as np

from .. import operators
from ..errors import ModelError
from .graph import Graph, Op, Tensor


def supported_ops() -> tuple[str, ...]:
    """The operators any model may contain: the registry's (and the legacy list's)."""
    from .tflite import SUPPORTED_OPS

    return tuple(sorted(set(operators.names()) | set(SUPPORTED_OPS)))

# Per op: which input positions are int8 data, int8 constant weights, int32 constant bias,
# int32 constant parameters; and whether each may be absent (-1).
_INT8_IO_OPS = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "HARD_SWISH", "LOGISTIC",
    "MAX_POOL_2D", "MUL", "RELU", "RELU6", "SOFTMAX", "TANH",
}
_SHAPE_OPS = {"RESHAPE", "EXPAND_DIMS", "SQUEEZE", "STRIDED_SLICE", "PACK", "SHAPE"}


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
    if t.dtype not in dtypes:
        raise ModelError(f"{where} is {t.dtype}; mcusim needs {' or '.join(dtypes)} (int8 models only)")
    if constant and not t.is_constant:
        raise ModelError(f"{where} must be a constant in the model")
    if quantized and t.dtype == "INT8":
        _check_quantization(t, where)


def check_quantize_types(x: Tensor, out: Tensor, op: Op) -> None:
    """QUANTIZE's types: float32 -> int8 and int8 -> int8, and as the converter's uint8
    interface writes them (TFLM Requantize), uint8 -> int8 and int8 -> uint8."""
    require(x, op, "input", ("FLOAT32", "INT8", "UINT8"), quantized=True)
    if x.dtype == "UINT8":
        _check_uint8(x, op, "input")
    if out.dtype == "UINT8" and x.dtype == "INT8":
        _check_uint8(out, op, "output")
    else:
        check_activation_tensor(out, op, "output")


def _check_uint8(t: Tensor, op: Op, role: str) -> None:
    """A uint8 tensor at the model's edge: one scale, a zero point in [0, 255]."""
    where = f"op {op.index} ({op.type}) {role} {t.name!r}"
    if t.scale.size != 1 or t.zero_point.size != 1:
        raise ModelError(f"{where} is UINT8 without one scale and zero point")
    if not 0 <= int(t.zero_point[0]) <= 255 or not float(t.scale[0]) > 0:
        raise ModelError(f"{where} is UINT8 with zero point {int(t.zero_point[0])}, scale {float(t.scale[0])}; "
                         "needs a zero point in [0, 255] and a positive scale")


def _check_quantization(t: Tensor, where: str) -> None:
    if not t.is_quantized:
        raise ModelError(f"{where} is INT8 without quantization parameters")
    if not np.all(np.isfinite(t.scale)) or np.any(t.scale <= 0):
        raise ModelError(f"{where} has a non-positive or non-finite scale")
    if np.any(t.zero_point < -128) or np.any(t.zero_point > 127):
        raise ModelError(f"{where} has a zero point outside the int8 range")
    if t.is_per_channel:
        if not 0 <= t.quantized_dimension < len(t.shape) or t.shape[t.quantized_dimension] != t.scale.size:
            raise ModelError(f"{where} has {t.scale.size} per-channel scales that do not match its shape {list(t.shape)}")


def check_activation_tensor(t: Tensor, op: Op, role: str) -> None:
    require(t, op, role, ("INT8",), quantized=True)
    if t.is_per_channel:
        raise ModelError(f"op {op.index} ({op.type}) {role} {t.name!r} is per-channel quantized; activations must be per-tensor")


def check_pointwise(graph: Graph, op: Op) -> None:
    """An elementwise op of one int8 input: input and output int8, per-tensor, same shape."""
    x, out = must(graph, op, 0), graph.tensors[op.outputs[0]]
    check_activation_tensor(x, op, "input")
    check_activation_tensor(out, op, "output")
    if x.shape != out.shape:
        raise ModelError(f"op {op.index} ({op.type}) input and output shapes differ")


_MIN_INPUTS = {
    "ADD": 2, "MUL": 2, "PRELU": 2, "PAD": 2, "MEAN": 2, "CONV_2D": 2, "DEPTHWISE_CONV_2D": 2,
    "FULLY_CONNECTED": 2, "STRIDED_SLICE": 3, "EXPAND_DIMS": 2, "CONCATENATION": 1, "PACK": 1,
}


def _check_op_types(graph: Graph, op: Op) -> None:
    spec = operators.get(op.type)
    if spec is not None:
        _check_spec(graph, op, spec)
        return
    if len(op.outputs) != 1:
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.outputs)} outputs, expected 1")
    if len(op.inputs) < _MIN_INPUTS.get(op.type, 1):
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.inputs)} inputs, needs at "
                         f"least {_MIN_INPUTS.get(op.type, 1)}")
    out = graph.tensors[op.outputs[0]]
    kind = op.type
    _check_shapes(graph, op, out)
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        check_activation_tensor(must(graph, op, 0), op, "input")
        require(must(graph, op, 1), op, "weights", ("INT8",), constant=True, quantized=True)
        bias = tensor(graph, op, 2, optional=True)
        if bias is not None:
            require(bias, op, "bias", ("INT32",), constant=True)
        check_activation_tensor(out, op, "output")
    elif kind == "QUANTIZE":
        check_quantize_types(must(graph, op, 0), out, op)
    elif kind == "DEQUANTIZE":
        check_activation_tensor(must(graph, op, 0), op, "input")
        require(out, op, "output", ("FLOAT32",))
    elif kind == "PRELU":
        check_activation_tensor(must(graph, op, 0), op, "input")
        require(must(graph, op, 1), op, "alpha", ("INT8",), quantized=True)
        check_activation_tensor(out, op, "output")
    elif kind in ("PAD", "MEAN"):
        check_activation_tensor(must(graph, op, 0), op, "input")
        require(must(graph, op, 1), op, "parameter", ("INT32",), constant=True)
        check_activation_tensor(out, op, "output")
    elif kind in _INT8_IO_OPS:
        for pos in range(len(op.inputs)):
            check_activation_tensor(must(graph, op, pos), op, f"input {pos}")
        check_activation_tensor(out, op, "output")
    elif kind in _SHAPE_OPS:
        _check_shape_op(graph, op, out)


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


def _check_shape_op(graph: Graph, op: Op, out: Tensor) -> None:
    data = must(graph, op, 0)
    if op.type == "SHAPE":
        require(out, op, "output", ("INT32",))
        return
    if op.type in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE") and data.size != out.size:
        raise ModelError(
            f"op {op.index} ({op.type}) turns {data.size} elements of {data.name!r} into "
            f"{out.name!r} of shape {list(out.shape)}: the model has a dynamic shape; convert "
            "it with a fixed input shape (batch 1)")
    if op.type == "PACK":
        for pos in range(len(op.inputs)):
            require(must(graph, op, pos), op, f"input {pos}", ("INT8", "INT32"), quantized=True)
    else:
        require(data, op, "input", ("INT8", "INT32"), quantized=True)
        for pos in range(1, len(op.inputs)):
            param = tensor(graph, op, pos, optional=True)
            if param is not None:
                require(param, op, f"input {pos}", ("INT32",))
    require(out, op, "output", (data.dtype,), quantized=True)


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
        elif t.dtype != "INT8":
            raise ModelError(f"graph input {t.name!r} is {t.dtype}; mcusim needs INT8 (or FLOAT32 or UINT8 into "
                             "QUANTIZE)")
    for i in graph.outputs:
        t = graph.tensors[i]
        want = {"FLOAT32": "DEQUANTIZE", "UINT8": "QUANTIZE"}.get(t.dtype)
        if want is not None:
            producer = producers.get(i)
            if producer is None or producer.type != want:
                raise ModelError(f"graph output {t.name!r} is {t.dtype} but not produced by {want}; "
                                 "mcusim needs int8 models")
        elif t.dtype != "INT8":
            raise ModelError(f"graph output {t.name!r} is {t.dtype}; mcusim needs INT8 (or FLOAT32 from DEQUANTIZE, "
                             "UINT8 from QUANTIZE)")


def _check_shapes(graph: Graph, op: Op, out: Tensor) -> None:
    """Shape agreement the integer kernels rely on (weights, bias, channels, windows)."""
    where = f"op {op.index} ({op.type})"
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        x, w = must(graph, op, 0), must(graph, op, 1)
        if len(x.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
            raise ModelError(f"{where} needs 4-D input, filter and output")
        if op.type == "CONV_2D":
            ok = w.shape[3] > 0 and x.shape[3] % w.shape[3] == 0 and w.shape[0] == out.shape[3] \
                and out.shape[3] % (x.shape[3] // w.shape[3] or 1) == 0
        else:
            multiplier = op.options.get("depth_multiplier") or 1
            ok = w.shape[0] == 1 and w.shape[3] == out.shape[3] == x.shape[3] * multiplier
        if not ok:
            raise ModelError(f"{where} filter {list(w.shape)} does not fit input {list(x.shape)} "
                             f"and output {list(out.shape)}")
        _check_bias(graph, op, out.shape[3])
    elif op.type == "FULLY_CONNECTED":
        x, w = must(graph, op, 0), must(graph, op, 1)
        if len(w.shape) != 2 or w.shape[1] == 0 or x.size % w.shape[1] != 0 \
                or out.size != (x.size // w.shape[1]) * w.shape[0]:
            raise ModelError(f"{where} weights {list(w.shape)} do not fit input {list(x.shape)} "
                             f"and output {list(out.shape)}")
        _check_bias(graph, op, w.shape[0])
    elif op.type in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        x = must(graph, op, 0)
        if len(x.shape) != 4 or len(out.shape) != 4 or x.shape[3] != out.shape[3] \
                or x.shape[0] != out.shape[0]:
            raise ModelError(f"{where} needs 4-D input and output with matching batch and channels")
    elif op.type in ("RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH",
                     "QUANTIZE", "DEQUANTIZE", "SOFTMAX"):
        if must(graph, op, 0).shape != out.shape:
            raise ModelError(f"{where} input and output shapes differ")
    elif op.type in ("ADD", "MUL", "PRELU"):
        a, b = must(graph, op, 0).shape, must(graph, op, 1).shape
        try:
            broadcast = np.broadcast_shapes(a, b)
        except ValueError:
            raise ModelError(f"{where} cannot broadcast {list(a)} with {list(b)}") from None
        if tuple(broadcast) != out.shape:
            raise ModelError(f"{where} output shape {list(out.shape)} is not the broadcast of "
                             f"{list(a)} and {list(b)}")
    elif op.type in ("CONCATENATION", "PACK"):
        _check_join(graph, op, out)


def _check_join(graph: Graph, op: Op, out: Tensor) -> None:
    shapes = [must(graph, op, i).shape for i in range(len(op.inputs))]
    rank = len(shapes[0])
    axis = int(op.options.get("axis", 0))
    out_rank = rank + 1 if op.type == "PACK" else rank
    axis = axis + out_rank if axis < 0 else axis
    if not 0 <= axis < out_rank or any(len(s) != rank for s in shapes):
        raise ModelError(f"op {op.index} ({op.type}) axis {op.options.get('axis')} does not fit "
                         f"inputs of rank {rank}")
    if op.type == "PACK":
        expected = shapes[0][:axis] + (len(shapes),) + shapes[0][axis:]
        same = all(s == shapes[0] for s in shapes)
    else:
        expected = shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]
        same = all(s[:axis] + s[axis + 1:] == shapes[0][:axis] + shapes[0][axis + 1:] for s in shapes)
    if not same or expected != out.shape:
        raise ModelError(f"op {op.index} ({op.type}) joins {[list(s) for s in shapes]} into "
                         f"{list(out.shape)}, which do not fit")


def _check_bias(graph: Graph, op: Op, channels: int) -> None:
    bias = tensor(graph, op, 2, optional=True)
    if bias is not None and bias.size != channels:
        raise ModelError(f"op {op.index} ({op.type}) bias has {bias.size} values for {channels} output channels")
