"""Reader of the ``.tflite`` flatbuffer into mcusim's Graph IR.

The file is read by a small, self-contained flatbuffer walker (no ``flatbuffers`` or
``tensorflow`` package at run time). Every offset, vector and string is bounds-checked against
the file, so a malformed or truncated file raises :class:`~mcusim.errors.ModelError` with one
line naming the problem, never ``IndexError`` or ``struct.error``.

Only subgraph 0 is read and run (TFLite's main graph); further subgraphs, used only by
control-flow ops that mcusim does not support, are counted but ignored.

The IR is plain data, for the two code generators and the numpy reference:

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

Field offsets follow TensorFlow Lite's ``schema.fbs`` (vtable slot ``n`` is at byte ``4+2n``).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from mcusim.errors import ModelError

FILE_IDENTIFIER = b"TFL3"

# BuiltinOperator enum of schema.fbs, in code order (index == code).
BUILTIN_OPERATORS: tuple[str, ...] = (
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
    "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND",
    "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX",
    "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX",
    "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT",
    "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
    "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
    "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND",
    "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE",
    "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU",
    "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2",
    "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG",
    "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY",
    "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE",
    "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE",
    "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE",
    "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
    "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR",
    "RIGHT_SHIFT", "STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM", "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE", "STABLEHLO_BROADCAST_IN_DIM", "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE", "STABLEHLO_ABS",
    "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL", "STABLEHLO_FLOOR",
    "STABLEHLO_LOG", "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR",
    "STABLEHLO_POWER", "STABLEHLO_REMAINDER", "STABLEHLO_RSQRT", "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT", "STABLEHLO_TANH", "STABLEHLO_SCATTER", "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT", "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR", "REDUCE_WINDOW", "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT", "STABLEHLO_CBRT", "STABLEHLO_CASE",
)

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

# Far beyond any microcontroller's memory; a larger tensor means a corrupt or wrong model.
MAX_TENSOR_ELEMENTS = 1 << 26

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")
PADDINGS = ("SAME", "VALID")

# The operators mcusim runs (reference, tinyml and classic paths alike).
SUPPORTED_OPS: tuple[str, ...] = (
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE",
    "EXPAND_DIMS", "FULLY_CONNECTED", "HARD_SWISH", "LEAKY_RELU", "LOGISTIC", "MAX_POOL_2D",
    "MEAN", "MUL", "PACK", "PAD", "PRELU", "QUANTIZE", "RELU", "RELU6", "RESHAPE", "SHAPE",
    "SOFTMAX", "SQUEEZE", "STRIDED_SLICE", "TANH",
)

# --- builtin options tables -----------------------------------------------------------------
# Each field: (snake_case name, vtable slot, kind, default). Kinds decode the stored scalar.
_Field = tuple[str, int, str, Any]
_OPTIONS_TABLES: dict[int, tuple[str, tuple[_Field, ...]]] = {
    1: ("Conv2DOptions", (
        ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
        ("fused_activation_function", 3, "activation", "NONE"),
        ("dilation_w_factor", 4, "i32", 1), ("dilation_h_factor", 5, "i32", 1),
        ("quantized_bias_type", 6, "tensor_type", "FLOAT32"))),
    2: ("DepthwiseConv2DOptions", (
        ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
        ("depth_multiplier", 3, "i32", 0),
        ("fused_activation_function", 4, "activation", "NONE"),
        ("dilation_w_factor", 5, "i32", 1), ("dilation_h_factor", 6, "i32", 1))),
    5: ("Pool2DOptions", (
        ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
        ("filter_width", 3, "i32", 0), ("filter_height", 4, "i32", 0),
        ("fused_activation_function", 5, "activation", "NONE"))),
    8: ("FullyConnectedOptions", (
        ("fused_activation_function", 0, "activation", "NONE"),
        ("weights_format", 1, "weights_format", "DEFAULT"),
        ("keep_num_dims", 2, "bool", False), ("asymmetric_quantize_inputs", 3, "bool", False),
        ("quantized_bias_type", 4, "tensor_type", "FLOAT32"))),
    9: ("SoftmaxOptions", (("beta", 0, "f32", 0.0),)),
    10: ("ConcatenationOptions", (
        ("axis", 0, "i32", 0), ("fused_activation_function", 1, "activation", "NONE"))),
    11: ("AddOptions", (
        ("fused_activation_function", 0, "activation", "NONE"),
        ("pot_scale_int16", 1, "bool", True))),
    17: ("ReshapeOptions", (("new_shape", 0, "i32_vector", ()),)),
    21: ("MulOptions", (("fused_activation_function", 0, "activation", "NONE"),)),
    22: ("PadOptions", ()),
    27: ("ReducerOptions", (("keep_dims", 0, "bool", False),)),
    30: ("SqueezeOptions", (("squeeze_dims", 0, "i32_vector", ()),)),
    32: ("StridedSliceOptions", (
        ("begin_mask", 0, "i32", 0), ("end_mask", 1, "i32", 0), ("ellipsis_mask", 2, "i32", 0),
        ("new_axis_mask", 3, "i32", 0), ("shrink_axis_mask", 4, "i32", 0),
        ("offset", 5, "bool", False))),
    38: ("DequantizeOptions", ()),
    52: ("ExpandDimsOptions", ()),
    55: ("ShapeOptions", (("out_type", 0, "tensor_type", "FLOAT32"),)),
    59: ("PackOptions", (("values_count", 0, "i32", 0), ("axis", 1, "i32", 0))),
    75: ("LeakyReluOptions", (("alpha", 0, "f32", 0.0),)),
    89: ("QuantizeOptions", ()),
    91: ("HardSwishOptions", ()),
}

# Which options table each supported op carries (absent: the op has no options table).
_OP_OPTIONS: dict[str, int] = {
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "AVERAGE_POOL_2D": 5, "MAX_POOL_2D": 5,
    "FULLY_CONNECTED": 8, "SOFTMAX": 9, "CONCATENATION": 10, "ADD": 11, "RESHAPE": 17,
    "MUL": 21, "PAD": 22, "MEAN": 27, "SQUEEZE": 30, "STRIDED_SLICE": 32, "DEQUANTIZE": 38,
    "EXPAND_DIMS": 52, "SHAPE": 55, "PACK": 59, "LEAKY_RELU": 75, "QUANTIZE": 89,
    "HARD_SWISH": 91,
}


# --- IR -------------------------------------------------------------------------------------
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


# --- flatbuffer walking ---------------------------------------------------------------------
class _Reader:
    """Bounds-checked little-endian reads over the file bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def _need(self, pos: int, length: int, what: str) -> None:
        if pos < 0 or length < 0 or pos + length > self.size:
            raise ModelError(
                f"malformed .tflite: {what} at byte {pos} (+{length}) lies outside the "
                f"{self.size}-byte file")

    def scalar(self, fmt: str, pos: int, what: str) -> Any:
        length = struct.calcsize(fmt)
        self._need(pos, length, what)
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def indirect(self, pos: int, what: str) -> int:
        """Follow the uoffset stored at ``pos``."""
        return pos + int(self.scalar("I", pos, what))


class _Table:
    """A flatbuffer table: vtable lookup of fields by slot."""

    def __init__(self, reader: _Reader, pos: int, what: str) -> None:
        self.r = reader
        self.pos = pos
        self.what = what
        vtable = pos - int(reader.scalar("i", pos, f"{what} vtable offset"))
        self.vtable_len = int(reader.scalar("H", vtable, f"{what} vtable"))
        if self.vtable_len < 4 or self.vtable_len % 2:
            raise ModelError(f"malformed .tflite: {what} has a bad vtable (size {self.vtable_len})")
        reader._need(vtable, self.vtable_len, f"{what} vtable")
        self.vtable = vtable
        self.table_len = int(reader.scalar("H", vtable + 2, f"{what} vtable"))

    def field_pos(self, slot: int) -> int | None:
        voffset = 4 + 2 * slot
        if voffset >= self.vtable_len:
            return None
        offset = int(self.r.scalar("H", self.vtable + voffset, f"{self.what} vtable"))
        return None if offset == 0 else self.pos + offset

    def scalar(self, slot: int, fmt: str, default: Any) -> Any:
        pos = self.field_pos(slot)
        if pos is None:
            return default
        return self.r.scalar(fmt, pos, f"{self.what} field {slot}")

    def table(self, slot: int, what: str) -> _Table | None:
        pos = self.field_pos(slot)
        if pos is None:
            return None
        return _Table(self.r, self.r.indirect(pos, what), what)

    def _vector(self, slot: int, elem_size: int, what: str) -> tuple[int, int] | None:
        """(first element position, length) of a vector field, checked to lie in the file."""
        pos = self.field_pos(slot)
        if pos is None:
            return None
        vec = self.r.indirect(pos, what)
        length = int(self.r.scalar("I", vec, f"{what} length"))
        self.r._need(vec + 4, length * elem_size, what)
        return vec + 4, length

    def scalar_vector(self, slot: int, fmt: str, what: str) -> np.ndarray | None:
        elem_size = struct.calcsize(fmt)
        found = self._vector(slot, elem_size, what)
        if found is None:
            return None
        start, length = found
        return np.frombuffer(self.r.data, dtype="<" + fmt, count=length, offset=start).copy()

    def bytes_vector(self, slot: int, what: str) -> bytes | None:
        found = self._vector(slot, 1, what)
        if found is None:
            return None
        start, length = found
        return self.r.data[start:start + length]

    def string(self, slot: int, what: str) -> str | None:
        raw = self.bytes_vector(slot, what)
        return None if raw is None else raw.decode("utf-8", errors="replace")

    def tables(self, slot: int, what: str) -> Iterator[_Table]:
        found = self._vector(slot, 4, what)
        if found is None:
            return
        start, length = found
        for i in range(length):
            elem = start + 4 * i
            yield _Table(self.r, self.r.indirect(elem, f"{what}[{i}]"), f"{what}[{i}]")


# --- model reading --------------------------------------------------------------------------
def load_model(path: str | Path) -> Graph:
    """Read and validate a ``.tflite`` file; returns its subgraph 0 as a :class:`Graph`."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model {path}: {err.strerror or err}") from None
    return parse_model(data)


def parse_model(data: bytes) -> Graph:
    """Parse and validate ``.tflite`` bytes; returns subgraph 0 as a :class:`Graph`.

    Raises :class:`ModelError` (and nothing else) for a malformed, non-int8 or unsupported
    model.
    """
    try:
        graph = _read_graph(bytes(data))
        validate_graph(graph)
        return graph
    except ModelError:
        raise
    except (IndexError, KeyError, ValueError, TypeError, OverflowError, struct.error,
            MemoryError, RecursionError) as err:
        raise ModelError(f"malformed .tflite: {type(err).__name__}: {err}") from None


def _read_graph(data: bytes) -> Graph:
    if len(data) < 8:
        raise ModelError(f"not a .tflite model: file is only {len(data)} bytes")
    if data[4:8] != FILE_IDENTIFIER:
        raise ModelError(
            f"not a .tflite model: file identifier is {data[4:8]!r}, expected {FILE_IDENTIFIER!r}")
    reader = _Reader(data)
    model = _Table(reader, reader.indirect(0, "root table offset"), "Model")
    version = int(model.scalar(0, "I", 0))
    description = model.string(3, "Model.description") or ""
    op_codes = [(_opcode_name(t, i), _opcode_version(t))
                for i, t in enumerate(model.tables(1, "Model.operator_codes"))]
    buffers = list(model.tables(4, "Model.buffers"))
    subgraphs = list(model.tables(2, "Model.subgraphs"))
    if not subgraphs:
        raise ModelError("malformed .tflite: the model has no subgraph")
    sub = subgraphs[0]
    tensors = [_read_tensor(t, i, buffers, reader)
               for i, t in enumerate(sub.tables(0, "SubGraph.tensors"))]
    inputs = _index_tuple(sub.scalar_vector(1, "i", "SubGraph.inputs"))
    outputs = _index_tuple(sub.scalar_vector(2, "i", "SubGraph.outputs"))
    ops = [_read_op(t, i, op_codes) for i, t in enumerate(sub.tables(3, "SubGraph.operators"))]
    return Graph(tensors=tensors, ops=ops, inputs=inputs, outputs=outputs, raw=data,
                 version=version, description=description, subgraph_count=len(subgraphs))


def _index_tuple(values: np.ndarray | None) -> tuple[int, ...]:
    return () if values is None else tuple(int(v) for v in values)


def _opcode_name(table: _Table, index: int) -> str:
    """Name of an OperatorCode: builtin name, or ``CUSTOM:<name>``."""
    deprecated = int(table.scalar(0, "b", 0))
    builtin = int(table.scalar(3, "i", 0))
    # Codes above 127 live only in builtin_code; older files only fill the deprecated byte.
    code = max(builtin, deprecated)
    if code < 0 or code >= len(BUILTIN_OPERATORS):
        return f"UNKNOWN:{code}"
    name = BUILTIN_OPERATORS[code]
    if name == "CUSTOM":
        return "CUSTOM:" + (table.string(1, f"OperatorCode[{index}].custom_code") or "?")
    return name


def _opcode_version(table: _Table) -> int:
    return int(table.scalar(2, "i", 1))


def _read_tensor(table: _Table, index: int, buffers: list[_Table], reader: _Reader) -> Tensor:
    what = f"tensor {index}"
    shape_arr = table.scalar_vector(0, "i", f"{what} shape")
    shape = _index_tuple(shape_arr)
    type_code = int(table.scalar(1, "b", 0))
    if not 0 <= type_code < len(TENSOR_TYPES):
        raise ModelError(f"malformed .tflite: {what} has unknown tensor type {type_code}")
    dtype_name, np_dtype = TENSOR_TYPES[type_code]
    buffer_index = int(table.scalar(2, "I", 0))
    name = table.string(3, f"{what} name") or f"tensor_{index}"
    scale, zero_point, qdim = _read_quantization(table.table(4, f"{what} quantization"), what)
    is_variable = bool(table.scalar(5, "B", 0))
    if table.field_pos(6) is not None:
        raise ModelError(f"model uses sparse tensor {name!r} ({what}), which mcusim does not support")
    if any(d < 0 for d in shape):
        raise ModelError(f"{what} ({name!r}) has a dynamic shape {list(shape)}; mcusim needs static shapes")
    if math.prod(shape) > MAX_TENSOR_ELEMENTS:
        raise ModelError(f"{what} ({name!r}) of shape {list(shape)} has more than "
                         f"{MAX_TENSOR_ELEMENTS} elements")
    if buffer_index >= len(buffers):
        raise ModelError(
            f"malformed .tflite: {what} refers to buffer {buffer_index}, but the model has "
            f"{len(buffers)} buffers")
    raw = _buffer_bytes(buffers[buffer_index], buffer_index, reader) if buffer_index else b""
    data = _constant_data(raw, shape, dtype_name, np_dtype, what, name)
    return Tensor(index=index, name=name, shape=shape, dtype=dtype_name, scale=scale,
                  zero_point=zero_point, quantized_dimension=qdim, data=data,
                  buffer=buffer_index, is_variable=is_variable)


def _read_quantization(table: _Table | None, what: str) -> tuple[np.ndarray, np.ndarray, int]:
    empty_f, empty_i = np.zeros(0, np.float32), np.zeros(0, np.int64)
    if table is None:
        return empty_f, empty_i, 0
    scale = table.scalar_vector(2, "f", f"{what} scale")
    zero_point = table.scalar_vector(3, "q", f"{what} zero_point")
    qdim = int(table.scalar(6, "i", 0))
    scale = empty_f if scale is None else scale.astype(np.float32)
    zero_point = empty_i if zero_point is None else zero_point.astype(np.int64)
    if scale.size and zero_point.size not in (scale.size,):
        if zero_point.size == 0:
            zero_point = np.zeros(scale.size, np.int64)
        else:
            raise ModelError(
                f"malformed .tflite: {what} has {scale.size} scales but {zero_point.size} zero points")
    return scale, zero_point, qdim


def _buffer_bytes(table: _Table, index: int, reader: _Reader) -> bytes:
    inline = table.bytes_vector(0, f"buffer {index} data")
    if inline:
        return inline
    offset = int(table.scalar(1, "Q", 0))
    size = int(table.scalar(2, "Q", 0))
    if offset > 1:  # data stored after the flatbuffer (models over 2 GB)
        reader._need(offset, size, f"buffer {index} external data")
        return reader.data[offset:offset + size]
    return b""


def _constant_data(raw: bytes, shape: tuple[int, ...], dtype_name: str, np_dtype: Any,
                   what: str, name: str) -> np.ndarray | None:
    if not raw:
        return None
    if np_dtype is None:
        raise ModelError(f"{what} ({name!r}) holds {dtype_name} data, which mcusim does not support")
    itemsize = np.dtype(np_dtype).itemsize
    count = math.prod(shape)
    if len(raw) != count * itemsize:
        raise ModelError(
            f"malformed .tflite: {what} ({name!r}) of shape {list(shape)} and type {dtype_name} "
            f"needs {count * itemsize} bytes, its buffer holds {len(raw)}")
    array = np.frombuffer(raw, dtype=np.dtype(np_dtype).newbyteorder("<"), count=count)
    return array.astype(np_dtype).reshape(shape)


def _read_op(table: _Table, index: int, op_codes: list[tuple[str, int]]) -> Op:
    what = f"op {index}"
    opcode_index = int(table.scalar(0, "I", 0))
    if opcode_index >= len(op_codes):
        raise ModelError(
            f"malformed .tflite: {what} uses operator code {opcode_index}, but the model has "
            f"{len(op_codes)} operator codes")
    op_type, version = op_codes[opcode_index]
    inputs = _index_tuple(table.scalar_vector(1, "i", f"{what} inputs"))
    outputs = _index_tuple(table.scalar_vector(2, "i", f"{what} outputs"))
    options_type = int(table.scalar(3, "B", 0))
    options: dict[str, Any] = {}
    expected = _OP_OPTIONS.get(op_type)
    if expected is not None:
        if options_type not in (0, expected):
            raise ModelError(
                f"malformed .tflite: {what} ({op_type}) carries options of union type "
                f"{options_type}, expected {_OPTIONS_TABLES[expected][0]}")
        options_table = table.table(4, f"{what} builtin_options") if options_type else None
        options = _read_options(options_table, _OPTIONS_TABLES[expected][1], what)
    return Op(index=index, type=op_type, inputs=inputs, outputs=outputs, options=options,
              version=version)


_DECODERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "i32": ("i", int),
    "bool": ("B", bool),
    "f32": ("f", float),
    "activation": ("b", lambda v: _enum_name(ACTIVATIONS, v, "fused activation")),
    "padding": ("b", lambda v: _enum_name(PADDINGS, v, "padding")),
    "tensor_type": ("b", lambda v: _enum_name(tuple(n for n, _ in TENSOR_TYPES), v, "tensor type")),
    "weights_format": ("b", lambda v: _enum_name(("DEFAULT", "SHUFFLED4x16INT8"), v, "weights format")),
}


def _enum_name(names: tuple[str, ...], value: int, what: str) -> str:
    if not 0 <= value < len(names):
        raise ModelError(f"malformed .tflite: unknown {what} value {value}")
    return names[value]


def _read_options(table: _Table | None, fields: tuple[_Field, ...], what: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name, slot, kind, default in fields:
        if kind == "i32_vector":
            values = table.scalar_vector(slot, "i", f"{what} {name}") if table else None
            options[name] = default if values is None else tuple(int(v) for v in values)
            continue
        fmt, decode = _DECODERS[kind]
        if table is None or table.field_pos(slot) is None:
            options[name] = default
        else:
            options[name] = decode(table.scalar(slot, fmt, None))
    return options


# --- validation -----------------------------------------------------------------------------
# Per op: which input positions are int8 data, int8 constant weights, int32 constant bias,
# int32 constant parameters; and whether each may be absent (-1).
_INT8_IO_OPS = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "HARD_SWISH", "LEAKY_RELU", "LOGISTIC",
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
            f"does not support; supported: {', '.join(SUPPORTED_OPS)}")
    if op.type not in SUPPORTED_OPS:
        raise ModelError(
            f"model uses op {op.type} (op {op.index}), which mcusim does not support; "
            f"supported: {', '.join(SUPPORTED_OPS)}")


def _tensor(graph: Graph, op: Op, pos: int, *, optional: bool = False) -> Tensor | None:
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


def _require(t: Tensor, op: Op, role: str, dtypes: tuple[str, ...], *, constant: bool = False,
             quantized: bool = False) -> None:
    where = f"op {op.index} ({op.type}) {role} {t.name!r}"
    if t.dtype not in dtypes:
        raise ModelError(f"{where} is {t.dtype}; mcusim needs {' or '.join(dtypes)} (int8 models only)")
    if constant and not t.is_constant:
        raise ModelError(f"{where} must be a constant in the model")
    if quantized and t.dtype == "INT8":
        _check_quantization(t, where)


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


def _check_activation_tensor(t: Tensor, op: Op, role: str) -> None:
    _require(t, op, role, ("INT8",), quantized=True)
    if t.is_per_channel:
        raise ModelError(f"op {op.index} ({op.type}) {role} {t.name!r} is per-channel quantized; activations must be per-tensor")


_MIN_INPUTS = {
    "ADD": 2, "MUL": 2, "PRELU": 2, "PAD": 2, "MEAN": 2, "CONV_2D": 2, "DEPTHWISE_CONV_2D": 2,
    "FULLY_CONNECTED": 2, "STRIDED_SLICE": 3, "EXPAND_DIMS": 2, "CONCATENATION": 1, "PACK": 1,
}


def _check_op_types(graph: Graph, op: Op) -> None:
    if len(op.outputs) != 1:
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.outputs)} outputs, expected 1")
    if len(op.inputs) < _MIN_INPUTS.get(op.type, 1):
        raise ModelError(f"op {op.index} ({op.type}) has {len(op.inputs)} inputs, needs at "
                         f"least {_MIN_INPUTS.get(op.type, 1)}")
    out = graph.tensors[op.outputs[0]]
    kind = op.type
    _check_shapes(graph, op, out)
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        _check_activation_tensor(_must(graph, op, 0), op, "input")
        _require(_must(graph, op, 1), op, "weights", ("INT8",), constant=True, quantized=True)
        bias = _tensor(graph, op, 2, optional=True)
        if bias is not None:
            _require(bias, op, "bias", ("INT32",), constant=True)
        _check_activation_tensor(out, op, "output")
    elif kind == "QUANTIZE":
        _require(_must(graph, op, 0), op, "input", ("FLOAT32", "INT8"))
        _check_activation_tensor(out, op, "output")
    elif kind == "DEQUANTIZE":
        _check_activation_tensor(_must(graph, op, 0), op, "input")
        _require(out, op, "output", ("FLOAT32",))
    elif kind == "PRELU":
        _check_activation_tensor(_must(graph, op, 0), op, "input")
        _require(_must(graph, op, 1), op, "alpha", ("INT8",), quantized=True)
        _check_activation_tensor(out, op, "output")
    elif kind in ("PAD", "MEAN"):
        _check_activation_tensor(_must(graph, op, 0), op, "input")
        _require(_must(graph, op, 1), op, "parameter", ("INT32",), constant=True)
        _check_activation_tensor(out, op, "output")
    elif kind in _INT8_IO_OPS:
        for pos in range(len(op.inputs)):
            _check_activation_tensor(_must(graph, op, pos), op, f"input {pos}")
        _check_activation_tensor(out, op, "output")
    elif kind in _SHAPE_OPS:
        _check_shape_op(graph, op, out)


def _must(graph: Graph, op: Op, pos: int) -> Tensor:
    t = _tensor(graph, op, pos)
    assert t is not None
    return t


def _check_shape_op(graph: Graph, op: Op, out: Tensor) -> None:
    data = _must(graph, op, 0)
    if op.type == "SHAPE":
        _require(out, op, "output", ("INT32",))
        return
    if op.type in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE") and data.size != out.size:
        raise ModelError(
            f"op {op.index} ({op.type}) turns {data.size} elements of {data.name!r} into "
            f"{out.name!r} of shape {list(out.shape)}: the model has a dynamic shape; convert "
            "it with a fixed input shape (batch 1)")
    if op.type == "PACK":
        for pos in range(len(op.inputs)):
            _require(_must(graph, op, pos), op, f"input {pos}", ("INT8", "INT32"), quantized=True)
    else:
        _require(data, op, "input", ("INT8", "INT32"), quantized=True)
        for pos in range(1, len(op.inputs)):
            param = _tensor(graph, op, pos, optional=True)
            if param is not None:
                _require(param, op, f"input {pos}", ("INT32",))
    _require(out, op, "output", (data.dtype,), quantized=True)


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
        if t.dtype == "FLOAT32":
            if not all(op.type == "QUANTIZE" for op in consumers.get(i, [])):
                raise ModelError(f"graph input {t.name!r} is FLOAT32 but not consumed only by QUANTIZE; mcusim needs int8 models")
        elif t.dtype != "INT8":
            raise ModelError(f"graph input {t.name!r} is {t.dtype}; mcusim needs INT8 (or FLOAT32 into QUANTIZE)")
    for i in graph.outputs:
        t = graph.tensors[i]
        if t.dtype == "FLOAT32":
            producer = producers.get(i)
            if producer is None or producer.type != "DEQUANTIZE":
                raise ModelError(f"graph output {t.name!r} is FLOAT32 but not produced by DEQUANTIZE; mcusim needs int8 models")
        elif t.dtype != "INT8":
            raise ModelError(f"graph output {t.name!r} is {t.dtype}; mcusim needs INT8 (or FLOAT32 from DEQUANTIZE)")


def _check_shapes(graph: Graph, op: Op, out: Tensor) -> None:
    """Shape agreement the integer kernels rely on (weights, bias, channels, windows)."""
    where = f"op {op.index} ({op.type})"
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        x, w = _must(graph, op, 0), _must(graph, op, 1)
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
        x, w = _must(graph, op, 0), _must(graph, op, 1)
        if len(w.shape) != 2 or w.shape[1] == 0 or x.size % w.shape[1] != 0 \
                or out.size != (x.size // w.shape[1]) * w.shape[0]:
            raise ModelError(f"{where} weights {list(w.shape)} do not fit input {list(x.shape)} "
                             f"and output {list(out.shape)}")
        _check_bias(graph, op, w.shape[0])
    elif op.type in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        x = _must(graph, op, 0)
        if len(x.shape) != 4 or len(out.shape) != 4 or x.shape[3] != out.shape[3] \
                or x.shape[0] != out.shape[0]:
            raise ModelError(f"{where} needs 4-D input and output with matching batch and channels")
    elif op.type in ("RELU", "RELU6", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU",
                     "QUANTIZE", "DEQUANTIZE", "SOFTMAX"):
        if _must(graph, op, 0).shape != out.shape:
            raise ModelError(f"{where} input and output shapes differ")
    elif op.type in ("ADD", "MUL", "PRELU"):
        a, b = _must(graph, op, 0).shape, _must(graph, op, 1).shape
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
    shapes = [_must(graph, op, i).shape for i in range(len(op.inputs))]
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
    bias = _tensor(graph, op, 2, optional=True)
    if bias is not None and bias.size != channels:
        raise ModelError(f"op {op.index} ({op.type}) bias has {bias.size} values for {channels} output channels")
