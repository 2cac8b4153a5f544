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
    element i is ``((i * 37 + 11 * (k + 1)) mod 256) - 128`` as int8 — a fixed pattern that
    covers the whole int8 range (docs/json-schema.md)."""
    out = []
    for k, tensor in enumerate(graph.input_tensors()):
        i = np.arange(tensor.size, dtype=np.int64)
        values = ((i * 37 + 11 * (k + 1)) % 256 - 128).astype(np.int8).reshape(tensor.shape)
        if tensor.dtype.upper() == "FLOAT32":
            values = values.astype(np.float32) / 128.0
        out.append(values)
    return out
