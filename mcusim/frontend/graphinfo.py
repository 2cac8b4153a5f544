"""Facts about a model graph that reports print next to measurements: MACs, shapes and tensor
bytes per op, and the documented default input."""

from __future__ import annotations

import numpy as np

from .. import operators
from .graph import Graph, Op


def op_macs(graph: Graph, op: Op) -> int:
    """Multiply-accumulates of one operator (0 for ops without a weight product)."""
    spec = operators.get(op.type)
    return spec.macs(graph, op) if spec is not None and spec.macs else 0


def op_shape(graph: Graph, op: Op) -> str:
    """``in_shape -> out_shape`` of the op's first activation input and first output."""
    t = graph.tensors
    ins = [t[i] for i in op.inputs if i >= 0 and not t[i].is_constant]
    src = "x".join(map(str, ins[0].shape)) if ins else "-"
    dst = "x".join(map(str, t[op.outputs[0]].shape)) if op.outputs else "-"
    return f"{src} -> {dst}"


def op_memory(graph: Graph, op: Op) -> dict[str, int]:
    """The op's tensors in the model, in bytes: ``weights_bytes``, its constant inputs (weights,
    bias, tables); ``activation_bytes``, its activation inputs and outputs, what must be live in
    RAM while it runs (a stack may store weights transformed: the flash breakdown measures that)."""
    t = graph.tensors
    ins = [t[i] for i in op.inputs if i >= 0]
    return {"weights_bytes": sum(x.nbytes for x in ins if x.is_constant),
            "activation_bytes": sum(x.nbytes for x in ins if not x.is_constant)
            + sum(t[i].nbytes for i in op.outputs if i >= 0)}


def default_inputs(graph: Graph) -> list[np.ndarray]:
    """The documented deterministic input used when the user gives none: for input tensor k,
    element i is the int8 ``p = ((i * 37 + 11 * (k + 1)) mod 256) - 128`` — a fixed pattern that
    covers the whole int8 range (docs/json-schema.md). A uint8 input holds ``p + 128`` (the same
    pattern as the int8 tensor its QUANTIZE makes when the zero points differ by 128, as the
    converter's uint8 interface has them); a float32 input holds ``p`` dequantized with the
    scale and zero point of the QUANTIZE that reads it, ``(p - zero_point) * scale`` in float32
    (so it too spans the int8 range), or ``p / 128`` when no QUANTIZE reads it."""
    out = []
    for k, tensor in enumerate(graph.input_tensors()):
        i = np.arange(tensor.size, dtype=np.int64)
        pattern = ((i * 37 + 11 * (k + 1)) % 256 - 128).reshape(tensor.shape)
        if tensor.dtype == "FLOAT32":
            values = _dequantized(graph, tensor.index, pattern)
        elif tensor.dtype == "UINT8":
            values = (pattern + 128).astype(np.uint8)
        else:
            values = pattern.astype(np.int8)
        out.append(values)
    return out


def _dequantized(graph: Graph, index: int, pattern: np.ndarray) -> np.ndarray:
    """``pattern`` as float32 values that the QUANTIZE reading tensor ``index`` turns back into it."""
    for op in graph.ops:
        if op.type == "QUANTIZE" and op.inputs and op.inputs[0] == index:
            q = graph.tensors[op.outputs[0]]
            if q.is_quantized and len(q.scale) == 1:
                return ((pattern - q.zero_point_value()) * np.float32(q.scale_value())).astype(np.float32)
    return pattern.astype(np.float32) / np.float32(128.0)
