"""mcusim's Graph IR: what a model is once read, for the front end, the operators and the stacks.

Plain data:

* :class:`Tensor` — index, name, shape, dtype name ("INT8", "INT32", "FLOAT32", ...),
  per-tensor or per-channel ``scale`` / ``zero_point`` arrays, ``quantized_dimension``,
  constant ``data`` (a numpy array of the tensor's shape) or ``None``, ``buffer`` index.
* :class:`Op` — index, ``type`` (the schema's builtin operator name, e.g. "CONV_2D"),
  ``inputs`` / ``outputs`` tensor indices (-1 marks an absent optional input), ``options``
  (the builtin options table as a dict keyed by the schema's field names in snake_case,
  enums as their schema names, e.g. ``{"padding": "SAME", "fused_activation_function":
  "RELU", ...}``), and the operator-code ``version``.
* :class:`Graph` — tensors, ops, graph input/output tensor indices, the raw bytes, schema
  version, description, number of subgraphs in the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# TensorType enum of schema.fbs: name and numpy dtype (None: mcusim cannot hold its data).
TENSOR_TYPES: tuple[tuple[str, Any], ...] = (
    ("FLOAT32", np.float32), ("FLOAT16", np.float16), ("INT32", np.int32),
    ("UINT8", np.uint8), ("INT64", np.int64), ("STRING", None), ("BOOL", np.bool_),
    ("INT16", np.int16), ("COMPLEX64", np.complex64), ("INT8", np.int8),
    ("FLOAT64", np.float64), ("COMPLEX128", np.complex128), ("UINT64", np.uint64),
    ("RESOURCE", None), ("VARIANT", None), ("UINT32", np.uint32), ("UINT16", np.uint16),
    ("INT4", None), ("BFLOAT16", None), ("INT2", None), ("UINT4", None),
    ("FLOAT8_E4M3FN", None), ("FLOAT8_E5M2", None),
)

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")
PADDINGS = ("SAME", "VALID")


@dataclass(frozen=True, eq=False)
class Tensor:
    """One tensor of subgraph 0.

    ``scale`` (float32) and ``zero_point`` (int64) are empty for an unquantized tensor, length
    1 for per-tensor and length ``shape[quantized_dimension]`` for per-channel quantization.
    ``data`` is the constant contents (numpy array of ``shape``) or ``None`` for activations.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray
    zero_point: np.ndarray
    quantized_dimension: int
    data: np.ndarray | None
    buffer: int
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        """True when the tensor's contents are stored in the model."""
        return self.data is not None

    @property
    def is_quantized(self) -> bool:
        """True when the tensor carries at least one scale."""
        return self.scale.size > 0

    @property
    def is_per_channel(self) -> bool:
        """True when the tensor has more than one scale."""
        return self.scale.size > 1

    @property
    def numpy_dtype(self) -> Any:
        """The numpy dtype matching :attr:`dtype` (None for types without one)."""
        return dict(TENSOR_TYPES).get(self.dtype)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes the tensor occupies (elements times element size)."""
        dtype = self.numpy_dtype
        return self.size * (np.dtype(dtype).itemsize if dtype is not None else 0)

    def scale_value(self) -> float:
        """The per-tensor scale as a Python float (the float32 value, widened)."""
        return float(self.scale[0])

    def zero_point_value(self) -> int:
        """The per-tensor zero point as a Python int."""
        return int(self.zero_point[0])


@dataclass(frozen=True, eq=False)
class Op:
    """One operator of subgraph 0, in execution order."""

    index: int
    type: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any]
    version: int = 1


@dataclass(frozen=True, eq=False)
class Graph:
    """Subgraph 0 of a ``.tflite`` model plus the file-level facts mcusim reports."""

    tensors: list[Tensor]
    ops: list[Op]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    raw: bytes = field(repr=False)
    version: int
    description: str
    subgraph_count: int = 1

    def op_types(self) -> list[str]:
        """Distinct op types used, sorted (what an op registry must register)."""
        return sorted({op.type for op in self.ops})

    def input_tensors(self) -> list[Tensor]:
        """The graph's input tensors, in order."""
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[Tensor]:
        """The graph's output tensors, in order."""
        return [self.tensors[i] for i in self.outputs]
