"""Build small int8 ``.tflite`` models in tests, without TensorFlow.

Uses the schema's generated Python object API shipped with ``tflite-micro`` and the
``flatbuffers`` package (both test-only dependencies). ``ModelBuilder`` keeps the model as
plain lists so a test can also corrupt it on purpose (wrong type, unknown op, ...).
"""

from __future__ import annotations

from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

_TYPES = {"FLOAT32": 0, "INT32": 2, "INT8": 9, "INT16": 7, "UINT8": 3, "INT64": 4}
_NP = {"FLOAT32": np.float32, "INT32": np.int32, "INT8": np.int8, "INT16": np.int16,
       "UINT8": np.uint8, "INT64": np.int64}


def _snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


_OPTIONS = {
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions", "MAX_POOL_2D": "Pool2DOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions", "SOFTMAX": "SoftmaxOptions",
    "CONCATENATION": "ConcatenationOptions", "ADD": "AddOptions", "MUL": "MulOptions",
    "RESHAPE": "ReshapeOptions", "PAD": "PadOptions", "MEAN": "ReducerOptions",
    "SQUEEZE": "SqueezeOptions", "STRIDED_SLICE": "StridedSliceOptions",
    "EXPAND_DIMS": "ExpandDimsOptions", "PACK": "PackOptions", "LEAKY_RELU": "LeakyReluOptions",
    "SHAPE": "ShapeOptions", "QUANTIZE": "QuantizeOptions", "DEQUANTIZE": "DequantizeOptions",
    "HARD_SWISH": "HardSwishOptions", "BATCH_MATMUL": "BatchMatMulOptions",
    "TRANSPOSE": "TransposeOptions", "SPLIT": "SplitOptions", "SPLIT_V": "SplitVOptions",
    "SLICE": "SliceOptions", "GATHER": "GatherOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions", "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "SUB": "SubOptions",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions",
}
_ENUMS = {"padding": {"SAME": 0, "VALID": 1},
          "fused_activation_function": {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}}


class ModelBuilder:
    """Accumulates tensors and ops; :meth:`build` returns the ``.tflite`` bytes."""

    def __init__(self) -> None:
        self.model = fb.ModelT()
        self.model.version = 3
        self.model.description = "mcusim test model"
        self.model.buffers = [fb.BufferT()]
        self.model.operatorCodes = []
        self.sub = fb.SubGraphT()
        self.sub.tensors, self.sub.operators = [], []
        self.sub.inputs, self.sub.outputs = [], []
        self.model.subgraphs = [self.sub]

    def tensor(self, shape: tuple[int, ...] | list[int], dtype: str = "INT8", *,
               scale: float | list[float] | None = None, zero_point: int | list[int] = 0,
               quantized_dimension: int = 0, data: Any = None, name: str | None = None,
               variable: bool = False) -> int:
        """Add a tensor (constant when ``data`` is given; ``variable``: state kept across
        invokes, as an LSTM's); returns its index."""
        t = fb.TensorT()
        t.isVariable = variable
        t.shape = list(shape)
        t.type = _TYPES[dtype]
        t.name = name or f"t{len(self.sub.tensors)}"
        t.buffer = 0
        if data is not None:
            buf = fb.BufferT()
            buf.data = list(np.asarray(data, _NP[dtype]).reshape(-1).view(np.uint8))
            self.model.buffers.append(buf)
            t.buffer = len(self.model.buffers) - 1
        if scale is not None:
            qp = fb.QuantizationParametersT()
            qp.scale = list(np.atleast_1d(np.asarray(scale, np.float32)))
            zps = np.atleast_1d(np.asarray(zero_point, np.int64))
            qp.zeroPoint = list(zps if zps.size == len(qp.scale) else np.repeat(zps, len(qp.scale)))
            qp.quantizedDimension = quantized_dimension
            t.quantization = qp
        self.sub.tensors.append(t)
        return len(self.sub.tensors) - 1

    def op(self, op_type: str, inputs: list[int], outputs: list[int], **options: Any) -> None:
        """Add an operator of builtin ``op_type`` with schema options given in snake_case."""
        code = getattr(fb.BuiltinOperator, op_type)
        codes = [c.builtinCode for c in self.model.operatorCodes]
        if code not in codes:
            oc = fb.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = 1
            self.model.operatorCodes.append(oc)
            codes.append(code)
        o = fb.OperatorT()
        o.opcodeIndex = codes.index(code)
        o.inputs, o.outputs = list(inputs), list(outputs)
        table_name = _OPTIONS.get(op_type)
        if table_name is not None:
            table = getattr(fb, table_name + "T")()
            for key, value in options.items():
                value = _ENUMS.get(key, {}).get(value, value) if isinstance(value, str) else value
                setattr(table, _snake_to_camel(key), value)
            o.builtinOptionsType = getattr(fb.BuiltinOptions, table_name)
            o.builtinOptions = table
        self.sub.operators.append(o)

    def io(self, inputs: list[int], outputs: list[int]) -> ModelBuilder:
        """Set the graph inputs and outputs; returns self."""
        self.sub.inputs, self.sub.outputs = list(inputs), list(outputs)
        return self

    def build(self) -> bytes:
        """Serialize with the ``TFL3`` file identifier."""
        builder = flatbuffers.Builder(1024)
        builder.Finish(self.model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def single_op_model(op_type: str, in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...],
                    *, in_q: list[tuple[float, int]] | None = None,
                    out_q: tuple[float, int] = (0.05, 0), consts: dict[int, tuple[str, Any]] | None = None,
                    in_dtypes: list[str] | None = None, out_dtype: str = "INT8",
                    **options: Any) -> bytes:
    """A one-op model: activation inputs (graph inputs) plus constant inputs at the positions
    given in ``consts`` as ``{position: (dtype, data)}``; returns the bytes."""
    b = ModelBuilder()
    consts = consts or {}
    in_q = in_q or [(0.05, 0)] * len(in_shapes)
    in_dtypes = in_dtypes or ["INT8"] * len(in_shapes)
    inputs, graph_inputs = [], []
    activation = iter(zip(in_shapes, in_q, in_dtypes))
    for pos in range(len(in_shapes) + len(consts)):
        if pos in consts:
            dtype, data = consts[pos]
            inputs.append(b.tensor(np.shape(data), dtype, data=data))
        else:
            shape, (s, z), dtype = next(activation)
            quantized = dtype == "INT8"
            idx = b.tensor(shape, dtype, scale=s if quantized else None, zero_point=z)
            inputs.append(idx)
            graph_inputs.append(idx)
    out_scale = out_q[0] if out_dtype == "INT8" else None
    out = b.tensor(out_shape, out_dtype, scale=out_scale, zero_point=out_q[1])
    b.op(op_type, inputs, [out], **options)
    return b.io(graph_inputs, [out]).build()


def lstm_model(batches: int, steps: int, n_in: int, n_state: int, *, time_major: bool = False,
               cell_power: int = -14, cell_clip: float = 0.0, x_q: tuple[float, int] = (0.03, 9),
               h_q: tuple[float, int] = (0.008, -7), w_scale: float = 0.01, seed: int = 0) -> bytes:
    """One UNIDIRECTIONAL_SEQUENCE_LSTM as the converter lays it out (24 inputs, peepholes,
    projection and layer norm absent, int8 hidden and int16 cell state as variable tensors)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    shape = (steps, batches, n_in) if time_major else (batches, steps, n_in)
    x = b.tensor(shape, scale=x_q[0], zero_point=x_q[1])
    inputs = [x]
    for k in range(8):
        cols = n_in if k < 4 else n_state
        inputs.append(b.tensor((n_state, cols), scale=w_scale * (1 + 0.1 * k),
                               data=rng.integers(-127, 128, (n_state, cols))))
    inputs += [-1, -1, -1]
    for k in range(4):
        inputs.append(b.tensor((n_state,), "INT32", scale=x_q[0] * w_scale,
                               data=rng.integers(-3000, 3000, n_state) + (6000 if k == 1 else 0)))
    inputs += [-1, -1]
    inputs.append(b.tensor((batches, n_state), scale=h_q[0], zero_point=h_q[1], variable=True))
    inputs.append(b.tensor((batches, n_state), "INT16", scale=2.0 ** cell_power, variable=True))
    inputs += [-1, -1, -1, -1]
    out = b.tensor(shape[:2] + (n_state,), scale=h_q[0], zero_point=h_q[1])
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [out], fused_activation_function="TANH",
         cell_clip=cell_clip, time_major=time_major)
    return b.io([x], [out]).build()


def int16_elementwise_model(*, pot_add: bool = True) -> bytes:
    """16x8 mode: ADD (power-of-two scales with pot_scale_int16 set, or general ones), MUL,
    LOGISTIC and TANH chained, int16 activations throughout, y broadcast along the channels:
    out = logistic(a * x) + tanh(a) * y, a = x + y."""
    b = ModelBuilder()
    s = (2.0 ** -12, 2.0 ** -10, 2.0 ** -9) if pot_add else (0.000119, 0.000298, 0.000333)
    x = b.tensor((1, 4, 4, 8), "INT16", scale=s[0])
    y = b.tensor((1, 4, 4, 1), "INT16", scale=s[1])
    a = b.tensor((1, 4, 4, 8), "INT16", scale=s[2])
    m = b.tensor((1, 4, 4, 8), "INT16", scale=0.00071)
    sig = b.tensor((1, 4, 4, 8), "INT16", scale=2.0 ** -15)
    th = b.tensor((1, 4, 4, 8), "INT16", scale=2.0 ** -15)
    ty = b.tensor((1, 4, 4, 8), "INT16", scale=0.0000419)
    out = b.tensor((1, 4, 4, 8), "INT16", scale=0.0000613)
    b.op("ADD", [x, y], [a], pot_scale_int16=pot_add)
    b.op("MUL", [a, x], [m])
    b.op("LOGISTIC", [m], [sig])
    b.op("TANH", [a], [th])
    b.op("MUL", [th, y], [ty])
    b.op("ADD", [sig, ty], [out], pot_scale_int16=False)
    return b.io([x, y], [out]).build()


def int16_conv_chain_model(seed: int = 0, batch: int = 1) -> bytes:
    """16x8 mode: CONV_2D and DEPTHWISE_CONV_2D around the optimized kernels' boundaries, chained
    (per-channel filters, int64 bias): odd channel counts (depthwise 4-channel groups + a tail,
    K % 4 != 0), 1x1, stride 2 with SAME padding, dilation 2, depth multiplier 2, an odd pixel
    count, more than 32 output channels (the requantization chunks) and K = 576 > 511 (int32
    blocks merged in int64); two MAX_POOL_2Ds with SAME padding on 6 and 3 channels (the
    kernel's 4-, 2- and 1-channel paths); ``batch`` images."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    # (kind, kernel, out channels, stride, dilation, depth multiplier, activation)
    layers = [("dw", 3, 5, 1, 2, 1, "NONE"), ("conv", 3, 7, 1, 1, 1, "NONE"),
              ("conv", 1, 6, 1, 1, 1, "NONE"), ("pool", 3, 6, 1, 1, 1, "RELU"),
              ("conv", 3, 8, 2, 1, 1, "RELU"),
              ("conv", 3, 8, 1, 2, 1, "NONE"), ("dw", 3, 16, 2, 1, 2, "NONE"),
              ("conv", 1, 64, 1, 1, 1, "NONE"), ("conv", 3, 3, 1, 1, 1, "NONE"),
              ("pool", 2, 3, 2, 1, 1, "NONE")]
    shape, scale = (batch, 7, 7, 5), 2.0 ** -10
    x = cur = b.tensor(shape, "INT16", scale=scale)
    for kind, k, oc, stride, dil, mult, act in layers:
        c = shape[3]
        oh, ow = -(-shape[1] // stride), -(-shape[2] // stride)
        if kind == "pool":
            out = b.tensor((batch, oh, ow, c), "INT16", scale=scale)
            b.op("MAX_POOL_2D", [cur], [out], padding="SAME", stride_w=stride, stride_h=stride,
                 filter_width=k, filter_height=k, fused_activation_function=act)
            cur, shape = out, (batch, oh, ow, c)
            continue
        w_scale = rng.uniform(0.002, 0.01, oc)
        w_shape = (1, k, k, oc) if kind == "dw" else (oc, k, k, c)
        w = b.tensor(w_shape, "INT8", scale=list(w_scale), quantized_dimension=3 if kind == "dw" else 0,
                     data=rng.integers(-127, 128, w_shape))
        bias = b.tensor((oc,), "INT64", scale=list(scale * w_scale), quantized_dimension=0,
                        data=rng.integers(-200000, 200000, oc))
        taps = k * k * (1 if kind == "dw" else c)
        out_scale = scale * float(w_scale.mean()) * 60 * taps ** 0.5
        out = b.tensor((batch, oh, ow, oc), "INT16", scale=out_scale)
        if kind == "dw":
            b.op("DEPTHWISE_CONV_2D", [cur, w, bias], [out], padding="SAME", stride_w=stride,
                 stride_h=stride, depth_multiplier=mult, dilation_w_factor=dil, dilation_h_factor=dil,
                 fused_activation_function=act)
        else:
            b.op("CONV_2D", [cur, w, bias], [out], padding="SAME", stride_w=stride, stride_h=stride,
                 dilation_w_factor=dil, dilation_h_factor=dil, fused_activation_function=act)
        cur, shape, scale = out, (batch, oh, ow, oc), out_scale
    return b.io([x], [cur]).build()


def int16_conv_overflow_model() -> bytes:
    """16x8 CONV_2D whose window sums pass int32: a 1x1 convolution with zero weights and a large
    negative bias saturates a 3x3x64 map to -32768, then a 3x3 convolution (K = 576) with
    filters of all -128 (sum +576 * 2^22 > 2^31 in the interior) and all 127 (< -2^31): an
    int32 accumulator would wrap; TFLM's reference sums in int64."""
    b = ModelBuilder()
    x = b.tensor((1, 3, 3, 4), "INT16", scale=2.0 ** -10)
    w1 = b.tensor((64, 1, 1, 4), "INT8", scale=[0.01] * 64, data=np.zeros((64, 1, 1, 4)))
    b1 = b.tensor((64,), "INT64", scale=[2.0 ** -10 * 0.01] * 64, data=np.full(64, -(10 ** 9)))
    sat = b.tensor((1, 3, 3, 64), "INT16", scale=2.0 ** -12)
    b.op("CONV_2D", [x, w1, b1], [sat], padding="SAME", stride_w=1, stride_h=1)
    w2 = np.empty((2, 3, 3, 64))
    w2[0], w2[1] = -128, 127
    f = b.tensor((2, 3, 3, 64), "INT8", scale=[0.01, 0.01], data=w2)
    b2 = b.tensor((2,), "INT64", scale=[2.0 ** -12 * 0.01] * 2, data=np.zeros(2))
    big = 576 * 128 * 32768 * 2.0 ** -12 * 0.01  # the largest window sum, as a real value
    out = b.tensor((1, 3, 3, 2), "INT16", scale=big / 20000)
    b.op("CONV_2D", [sat, f, b2], [out], padding="SAME", stride_w=1, stride_h=1)
    return b.io([x], [out]).build()


def tflm_refusal(data: bytes) -> str | None:
    """Why the tflite-micro interpreter cannot load this model (None when it can)."""
    from tflite_micro.python.tflite_micro import runtime

    try:
        runtime.Interpreter.from_bytes(data, arena_size=16 << 20)
    except (RuntimeError, ValueError) as err:
        return str(err)
    return None


def runtime_floor_model() -> bytes:
    """mcusim/data/runtime_floor.tflite: one FULLY_CONNECTED of one input to one output, the
    smallest model every stack runs; `mcusim fit` builds it to measure each stack's minimal
    runtime (tests/test_fit.py checks the bundled file is this)."""
    b = ModelBuilder()
    b.model.description = "mcusim runtime floor"
    x = b.tensor((1, 1), scale=0.05, zero_point=0)
    w = b.tensor((1, 1), data=[[1]], scale=0.01, zero_point=0)
    bias = b.tensor((1,), "INT32", data=[0], scale=0.0005, zero_point=0)
    y = b.tensor((1, 1), scale=0.05, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, bias], [y])
    return b.io([x], [y]).build()
