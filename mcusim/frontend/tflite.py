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
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .. import operators
from ..errors import ModelError
from ..operators import Field as _Field
from ..operators import Options
from .graph import ACTIVATIONS, PADDINGS, TENSOR_TYPES, Graph, Op, Tensor
from .validate import validate_graph

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

# Far beyond any microcontroller's memory; a larger tensor means a corrupt or wrong model.
MAX_TENSOR_ELEMENTS = 1 << 26

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
    expected = _options_of(op_type)
    if expected is not None:
        if options_type not in (0, expected.union_type):
            raise ModelError(
                f"malformed .tflite: {what} ({op_type}) carries options of union type "
                f"{options_type}, expected {expected.table}")
        options_table = table.table(4, f"{what} builtin_options") if options_type else None
        options = _read_options(options_table, expected.fields, what)
    return Op(index=index, type=op_type, inputs=inputs, outputs=outputs, options=options,
              version=version)


def _options_of(op_type: str) -> Options | None:
    """The options table ``op_type`` carries: its registry spec's."""
    spec = operators.get(op_type)
    return spec.options if spec is not None else None


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


