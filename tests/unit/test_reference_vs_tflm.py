"""The numpy reference (mcusim.reference) equals the tflite-micro Python interpreter bit for bit.

Two sources of models: every ``.tflite`` in ``models/`` and ``tests/data/`` (made by the
TensorFlow converter), and small single-op models built here (tests/tflite_builder.py) to
reach quantization corners the converter rarely produces. Each model runs on random int8
inputs from several seeds plus a sweep of all 256 int8 values; on a mismatch the message
names the first op whose output differs from TFLM's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from tflite_builder import ModelBuilder, int16_elementwise_model, lstm_model, single_op_model, tflm_refusal

from mcusim.frontend.graph import Graph
from mcusim.frontend.reference import run_graph, trace_graph
from mcusim.frontend.tflite import parse_model
from simhelpers import model_params

from mcusim.errors import ModelError

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILES = sorted(ROOT.glob("models/*.tflite")) + sorted(ROOT.glob("tests/data/*.tflite"))
SEEDS = (0, 1, 2, 3)
ARENA = 16 << 20


def _interpreter(data: bytes) -> Any:
    return runtime.Interpreter.from_bytes(
        data, arena_size=ARENA, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)


def _inputs(graph: Graph, seed: int | None) -> list[np.ndarray]:
    """Random inputs for a seed; ``None`` sweeps every int8 value (int16: a ramp over the range;
    floats: a ramp with ties)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for t in graph.input_tensors():
        size = t.size
        if t.dtype in ("INT8", "UINT8"):
            info = np.iinfo(t.numpy_dtype)
            values = (np.resize(np.arange(info.min, info.max + 1), size) if seed is None
                      else rng.integers(info.min, info.max + 1, size))
            arrays.append(values.astype(t.numpy_dtype).reshape(t.shape))
        elif t.dtype == "INT16":  # 16x8 mode; the sweep spans the int16 range in even steps
            values = (np.linspace(-32768, 32767, size).round() if seed is None
                      else rng.integers(-32768, 32768, size))
            arrays.append(values.astype(np.int16).reshape(t.shape))
        else:
            scale = float(t.scale[0]) if t.is_quantized else 0.05
            values = (np.linspace(-4.0, 4.0, size) if seed is None
                      else rng.normal(0.0, 2.0, size))
            arrays.append(values.astype(np.float32).reshape(t.shape))
            del scale
    return arrays


def _run_tflm(data: bytes, inputs: list[np.ndarray]) -> tuple[Any, list[np.ndarray]]:
    interp = _interpreter(data)
    for i, x in enumerate(inputs):
        interp.set_input(x, i)
    interp.invoke()
    count = len(parse_model(data).outputs)
    return interp, [np.asarray(interp.get_output(i)) for i in range(count)]


def _first_divergence(graph: Graph, interp: Any, inputs: list[np.ndarray]) -> str:
    ours = trace_graph(graph, inputs)
    for op in graph.ops:
        for index in op.outputs:
            theirs = np.asarray(interp.GetTensor(index, 0)["tensor_data"]).reshape(-1)
            mine = ours[index].reshape(-1)
            if mine.shape != theirs.shape or not np.array_equal(mine, theirs):
                diff = np.flatnonzero(mine != theirs) if mine.shape == theirs.shape else []
                where = f" first at flat index {diff[0]}: ours {mine[diff[0]]}, TFLM {theirs[diff[0]]}" if len(diff) else ""
                return f"op {op.index} ({op.type}) output {index} differs in {len(diff)} values{where}"
    return "no intermediate tensor differs"


def _check_bit_exact(data: bytes, seeds: tuple[int | None, ...]) -> None:
    graph = parse_model(data)
    for seed in seeds:
        inputs = _inputs(graph, seed)
        try:
            interp, expected = _run_tflm(data, inputs)
        except RuntimeError as err:
            pytest.skip(f"tflite-micro itself cannot run this model: {err}")
        got = run_graph(graph, inputs)
        for k, (mine, theirs) in enumerate(zip(got, expected)):
            same = mine.shape == theirs.shape and mine.dtype == theirs.dtype and np.array_equal(
                mine.view(np.uint8) if mine.dtype.kind == "f" else mine,
                theirs.view(np.uint8) if theirs.dtype.kind == "f" else theirs)
            if not same:
                pytest.fail(f"output {k} differs from TFLM (seed {seed}): "
                            + _first_divergence(graph, interp, inputs))


@pytest.mark.parametrize("path", model_params(MODEL_FILES), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_model_file_matches_tflm(path: Path) -> None:
    data = path.read_bytes()
    refusal = tflm_refusal(data)
    if refusal is not None:
        pytest.skip(f"tflite-micro itself cannot run {path.name}: {refusal}")
    _check_bit_exact(data, SEEDS + (None,))


# --- single-op models for corners ------------------------------------------------------------
Case = Callable[[], bytes]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[name] = fn
        return fn
    return register


for in_q, out_q in (((0.02, -5), (0.02, -5)), ((0.05, 10), (0.02, -20)), ((0.01, 0), (0.1, 3))):
    case(f"relu_{in_q}_{out_q}")(lambda i=in_q, o=out_q: single_op_model(
        "RELU", [(1, 4, 8, 8)], (1, 4, 8, 8), in_q=[i], out_q=o))
    case(f"relu6_{in_q}")(lambda i=in_q: single_op_model(
        "RELU6", [(1, 4, 8, 8)], (1, 4, 8, 8), in_q=[i], out_q=i))

for scale, zp in ((0.001, 3), (0.0235, -7), (0.08, 0), (0.3, 100), (2.0, -128)):
    case(f"logistic_{scale}_{zp}")(lambda s=scale, z=zp: single_op_model(
        "LOGISTIC", [(1, 256)], (1, 256), in_q=[(s, z)], out_q=(1 / 256, -128)))
    case(f"tanh_{scale}_{zp}")(lambda s=scale, z=zp: single_op_model(
        "TANH", [(1, 256)], (1, 256), in_q=[(s, z)], out_q=(1 / 128, 0)))

for in_q, out_q in (((0.05, 0), (0.05, 0)), ((0.1, -20), (0.07, -100)), ((0.02, 30), (0.5, -128)),
                    ((0.3, 0), (0.01, 0))):
    case(f"hard_swish_{in_q}_{out_q}")(lambda i=in_q, o=out_q: single_op_model(
        "HARD_SWISH", [(1, 256)], (1, 256), in_q=[i], out_q=o))

for alpha in (0.01, 0.2, 0.5, 1.7, -0.3):
    case(f"leaky_relu_{alpha}")(lambda a=alpha: single_op_model(
        "LEAKY_RELU", [(1, 256)], (1, 256), in_q=[(0.04, 7)], out_q=(0.03, -9), alpha=a))

for in_scale, beta, depth in ((0.1, 1.0, 10), (0.02, 1.0, 37), (0.5, 0.7, 5), (1.5, 1.0, 12),
                              (0.004, 2.0, 64)):
    case(f"softmax_{in_scale}_{beta}_{depth}")(lambda s=in_scale, b=beta, d=depth: single_op_model(
        "SOFTMAX", [(3, d)], (3, d), in_q=[(s, 4)], out_q=(1 / 256, -128), beta=b))


# SUB's multipliers are float32 divisions in TFLM (ADD's are double): scales whose ratios round
# differently in the two, a relu clamp, and broadcasting both ways.
for k, (qa, qb, qo, sa, sb, act) in enumerate((
        ((0.0371, 3), (0.0113, -20), (0.043, 7), (1, 4, 4, 8), (1, 4, 4, 8), "NONE"),
        ((0.00913, -128), (0.0713, 11), (0.0291, -3), (1, 4, 4, 8), (1, 1, 1, 8), "RELU"),
        ((0.3, 0), (0.1003, 5), (0.41, 40), (1, 4, 1), (1, 4, 16), "RELU6"),
        ((0.0123, 2), (0.0123, 2), (0.0077, 0), (2, 3, 1, 5), (1, 1, 4, 1), "NONE"))):
    out_shape = tuple(np.broadcast_shapes(sa, sb))
    case(f"sub_{k}")(lambda qa=qa, qb=qb, qo=qo, sa=sa, sb=sb, act=act, o=out_shape: single_op_model(
        "SUB", [sa, sb], o, in_q=[qa, qb], out_q=qo, fused_activation_function=act))
    case(f"squared_difference_{k}")(lambda qa=qa, qb=qb, qo=qo, sa=sa, sb=sb, o=out_shape: single_op_model(
        "SQUARED_DIFFERENCE", [sa, sb], o, in_q=[qa, qb], out_q=(qo[0] * 3, -128)))
    for op in ("MAXIMUM", "MINIMUM"):
        case(f"{op.lower()}_{k}")(lambda op=op, qa=qa, sa=sa, sb=sb, o=out_shape: single_op_model(
            op, [sa, sb], o, in_q=[qa, qa], out_q=qa))

# RSQRT: the input's zero point is -128 so every int8 value is >= it (a value below fails TFLM's
# invoke); scales with output shifts of either sign.
for k, (qi, qo) in enumerate((((0.0101, -128), (0.0104, -128)), ((0.5, -128), (0.01, -100)),
                              ((0.0003, -128), (0.25, -128)), ((2e-6, -128), (3.0, -128)))):
    case(f"rsqrt_{k}")(lambda qi=qi, qo=qo: single_op_model("RSQRT", [(1, 256)], (1, 256), in_q=[qi], out_q=qo))


@case("neg_float_between_dequantize_and_quantize")
def _() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 4, 1), "INT8", scale=0.0061, zero_point=-3)
    f = b.tensor((1, 4, 1), "FLOAT32")
    n = b.tensor((1, 4, 1), "FLOAT32")
    y = b.tensor((1, 4, 1), "INT8", scale=0.0061, zero_point=2)
    b.op("DEQUANTIZE", [x], [f])
    b.op("NEG", [f], [n])
    b.op("QUANTIZE", [n], [y])
    return b.io([x], [y]).build()


@case("quantize_float_to_int8")
def _() -> bytes:
    return single_op_model("QUANTIZE", [(1, 300)], (1, 300), in_q=[(1.0, 0)],
                           in_dtypes=["FLOAT32"], out_q=(0.0313, -12))


@case("quantize_int8_to_int8")
def _() -> bytes:
    return single_op_model("QUANTIZE", [(1, 256)], (1, 256), in_q=[(0.0213, 5)], out_q=(0.047, -30))


# 16x8 mode's requantizations (TFLM Requantize into and out of int16): int16 zero point 0
for name, (ti, qi), (to, qo) in (("int16_to_int16", ("INT16", (0.00041, 0)), ("INT16", (0.00113, 0))),
                                 ("int16_to_int16_up", ("INT16", (0.0021, 0)), ("INT16", (0.00037, 0))),
                                 ("int16_to_int8", ("INT16", (0.00052, 0)), ("INT8", (0.061, 9))),
                                 ("int8_to_int16", ("INT8", (0.047, -7)), ("INT16", (0.00029, 0)))):
    case(f"quantize_{name}")(lambda ti=ti, qi=qi, to=to, qo=qo: _quantize16(ti, qi, to, qo))


def _quantize16(ti: str, qi: tuple[float, int], to: str, qo: tuple[float, int]) -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 300), ti, scale=qi[0], zero_point=qi[1])
    y = b.tensor((1, 300), to, scale=qo[0], zero_point=qo[1])
    b.op("QUANTIZE", [x], [y])
    return b.io([x], [y]).build()


@case("average_pool_2d_int16_same_relu")
def average_pool_int16() -> bytes:
    """16x8 AVERAGE_POOL_2D: SAME padding (edge windows count fewer taps), 6 channels (four in
    the opt kernel's word loop, two after it), a relu clamp."""
    b = ModelBuilder()
    x = b.tensor((1, 5, 7, 6), "INT16", scale=1 / 1024)
    y = b.tensor((1, 3, 4, 6), "INT16", scale=1 / 1024)
    b.op("AVERAGE_POOL_2D", [x], [y], padding="SAME", stride_w=2, stride_h=2, filter_width=3, filter_height=3,
         fused_activation_function="RELU")
    return b.io([x], [y]).build()


@case("mean_int16_axes_1_2_keep_dims")
def mean_int16() -> bytes:
    """16x8 MEAN over H and W of 5x3x6 (four channels in the opt kernel's word loop, two after
    it), output scale differing from the input's."""
    b = ModelBuilder()
    x = b.tensor((2, 5, 3, 6), "INT16", scale=1 / 2048)
    axes = b.tensor((2,), "INT32", data=np.array([1, 2], np.int32))
    y = b.tensor((2, 1, 1, 6), "INT16", scale=1 / 4096)
    b.op("MEAN", [x, axes], [y], keep_dims=True)
    return b.io([x], [y]).build()


@case("quantize_int16_chain")
def quantize_int16_chain() -> bytes:
    """int16 -> int16 -> int8 -> int16: the three 16x8 requantizations in one model (the e2e
    tests build it once per stack)."""
    b = ModelBuilder()
    t = [b.tensor((1, 300), ty, scale=s, zero_point=z) for ty, s, z in (
        ("INT16", 0.00041, 0), ("INT16", 0.00113, 0), ("INT8", 0.061, 9), ("INT16", 0.00029, 0))]
    for a, c in zip(t, t[1:]):
        b.op("QUANTIZE", [a], [c])
    return b.io([t[0]], [t[-1]]).build()


@case("dequantize")
def _() -> bytes:
    return single_op_model("DEQUANTIZE", [(1, 256)], (1, 256), in_q=[(0.0371, -3)],
                           out_dtype="FLOAT32")


for same in (True, False):
    for axes, keep in (((1, 2), True), ((1, 2), False), ((1,), True), ((-1,), False), ((2,), False)):
        def _mean(axes: tuple[int, ...] = axes, keep: bool = keep, same: bool = same) -> bytes:
            shape = (1, 5, 7, 6)
            out = tuple(1 if i in [a % 4 for a in axes] else d for i, d in enumerate(shape))
            if not keep:
                out = tuple(d for i, d in enumerate(shape) if i not in [a % 4 for a in axes])
            out_q = (0.05, 3) if same else (0.021, -17)
            return single_op_model("MEAN", [shape], out, in_q=[(0.05, 3)], out_q=out_q,
                                   consts={1: ("INT32", np.array(axes, np.int32))}, keep_dims=keep)
        case(f"mean_{'same' if same else 'rescale'}_{axes}_{keep}")(_mean)

for act in ("NONE", "RELU", "RELU6"):
    case(f"add_{act}")(lambda a=act: single_op_model(
        "ADD", [(1, 4, 4, 16), (1, 4, 4, 16)], (1, 4, 4, 16), in_q=[(0.03, -4), (0.11, 9)],
        out_q=(0.09, -12), fused_activation_function=a))
    case(f"mul_{act}")(lambda a=act: single_op_model(
        "MUL", [(1, 4, 4, 16), (1, 1, 1, 16)], (1, 4, 4, 16), in_q=[(0.03, -4), (0.11, 9)],
        out_q=(0.02, 6), fused_activation_function=a))
case("add_broadcast_row")(lambda: single_op_model(
    "ADD", [(2, 3, 16), (16,)], (2, 3, 16), in_q=[(0.5, 0), (0.002, -100)], out_q=(0.4, 1)))


def _prelu(alpha_shape: tuple[int, ...], alpha_zero_point: int) -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 2, 2, 64), scale=0.04, zero_point=-20)
    values = np.resize(np.arange(-32, 32, dtype=np.int8), alpha_shape)
    alpha = b.tensor(alpha_shape, scale=0.01, zero_point=alpha_zero_point, data=values)
    out = b.tensor((1, 2, 2, 64), scale=0.05, zero_point=7)
    b.op("PRELU", [x, alpha], [out])
    return b.io([x], [out]).build()


case("prelu_alpha_channel")(lambda: _prelu((64,), 3))
case("prelu_alpha_hwc")(lambda: _prelu((1, 2, 64), 0))


@case("pad_nonzero_zero_point")
def _() -> bytes:
    return single_op_model("PAD", [(1, 5, 5, 3)], (1, 8, 6, 3), in_q=[(0.1, -7)], out_q=(0.1, -7),
                           consts={1: ("INT32", np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32))})


for kind in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
    for padding, stride, size, act in (("SAME", 2, 3, "NONE"), ("VALID", 1, 2, "RELU"),
                                       ("SAME", 3, 2, "RELU6"), ("VALID", 2, 4, "NONE")):
        def _pool(kind: str = kind, padding: str = padding, stride: int = stride,
                  size: int = size, act: str = act) -> bytes:
            h, w = 9, 7
            from mcusim.operators._common import compute_out_size
            oh = compute_out_size(padding, h, size, stride, 1)
            ow = compute_out_size(padding, w, size, stride, 1)
            return single_op_model(kind, [(1, h, w, 4)], (1, oh, ow, 4), in_q=[(0.05, -3)],
                                   out_q=(0.05, -3), padding=padding, stride_w=stride,
                                   stride_h=stride, filter_width=size, filter_height=size,
                                   fused_activation_function=act)
        case(f"{kind.lower()}_{padding}_s{stride}_k{size}_{act}")(_pool)


def _conv(kind: str, groups: int = 1, dilation: int = 1, padding: str = "SAME",
          stride: int = 2, per_channel: bool = True, depth_multiplier: int = 2) -> bytes:
    from mcusim.operators._common import compute_out_size
    rng = np.random.default_rng(7)
    h, w, cin = 9, 8, 4
    k = 3
    if kind == "CONV_2D":
        cout = 6
        wshape = (cout, k, k, cin // groups)
    else:
        cout = cin * depth_multiplier
        wshape = (1, k, k, cout)
    oh = compute_out_size(padding, h, k, stride, dilation)
    ow = compute_out_size(padding, w, k, stride, dilation)
    b = ModelBuilder()
    x = b.tensor((1, h, w, cin), scale=0.05, zero_point=-6)
    wscale = list(rng.uniform(0.002, 0.02, cout)) if per_channel else 0.01
    qdim = 0 if kind == "CONV_2D" else 3
    weights = b.tensor(wshape, scale=wscale, zero_point=0, quantized_dimension=qdim,
                       data=rng.integers(-127, 128, wshape))
    bias = b.tensor((cout,), "INT32", data=rng.integers(-2000, 2000, cout))
    out = b.tensor((1, oh, ow, cout), scale=0.08, zero_point=4)
    opts: dict[str, Any] = dict(padding=padding, stride_w=stride, stride_h=stride,
                                dilation_w_factor=dilation, dilation_h_factor=dilation,
                                fused_activation_function="RELU6")
    if kind == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = depth_multiplier
    b.op(kind, [x, weights, bias], [out], **opts)
    return b.io([x], [out]).build()


case("conv_grouped")(lambda: _conv("CONV_2D", groups=2, stride=1))
case("conv_dilated_valid_per_tensor")(lambda: _conv("CONV_2D", dilation=2, padding="VALID", stride=1, per_channel=False))
case("depthwise_m2_stride2")(lambda: _conv("DEPTHWISE_CONV_2D"))
case("depthwise_m3_dilated")(lambda: _conv("DEPTHWISE_CONV_2D", dilation=2, stride=1, depth_multiplier=3))


@case("fully_connected_keep_dims_no_bias")
def _() -> bytes:
    rng = np.random.default_rng(3)
    b = ModelBuilder()
    x = b.tensor((2, 3, 20), scale=0.07, zero_point=11)
    weights = b.tensor((9, 20), scale=0.004, data=rng.integers(-127, 128, (9, 20)))
    out = b.tensor((2, 3, 9), scale=0.1, zero_point=-2)
    b.op("FULLY_CONNECTED", [x, weights, -1], [out], keep_num_dims=True,
         fused_activation_function="RELU")
    return b.io([x], [out]).build()


@case("concatenation_axis_neg")
def _() -> bytes:
    b = ModelBuilder()
    a = b.tensor((1, 3, 4, 2), scale=0.05, zero_point=1)
    c = b.tensor((1, 3, 4, 5), scale=0.05, zero_point=1)
    out = b.tensor((1, 3, 4, 7), scale=0.05, zero_point=1)
    b.op("CONCATENATION", [a, c], [out], axis=-1)
    return b.io([a, c], [out]).build()


def _slice_model(shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                 out_shape: tuple[int, ...], **masks: int) -> bytes:
    i32 = lambda v: ("INT32", np.array(v, np.int32))  # noqa: E731
    return single_op_model("STRIDED_SLICE", [shape], out_shape, in_q=[(0.1, 0)], out_q=(0.1, 0),
                           consts={1: i32(begin), 2: i32(end), 3: i32(strides)}, **masks)


case("strided_slice_basic")(lambda: _slice_model((4, 6, 5), [1, 0, 1], [3, 6, 5], [1, 2, 2], (2, 3, 2)))
case("strided_slice_masks_negative")(lambda: _slice_model(
    (4, 6, 5), [-1, 0, -2], [0, 4, 0], [-1, 1, -1], (4, 4, 4), begin_mask=0b001, end_mask=0b101))
case("strided_slice_shrink")(lambda: _slice_model(
    (4, 6, 5), [2, 1, 0], [3, 5, 5], [1, 1, 1], (4, 5), shrink_axis_mask=0b001))


# --- data movement and resizing (operators/transform.py, resize.py) ---------------------------
def _i32(v: Any) -> tuple[str, np.ndarray]:
    return ("INT32", np.array(v, np.int32))


case("transpose_2d")(lambda: single_op_model("TRANSPOSE", [(6, 5)], (5, 6), in_q=[(0.1, 3)], out_q=(0.1, 3),
                                             consts={1: _i32([1, 0])}))
case("transpose_4d_nchw")(lambda: single_op_model("TRANSPOSE", [(2, 3, 4, 5)], (2, 5, 3, 4), in_q=[(0.1, 3)],
                                                  out_q=(0.1, 3), consts={1: _i32([0, 3, 1, 2])}))
case("slice_size_minus_one")(lambda: single_op_model("SLICE", [(2, 5, 6, 3)], (1, 3, 4, 3), in_q=[(0.1, 0)],
                                                     out_q=(0.1, 0), consts={1: _i32([1, 2, 1, 0]),
                                                                             2: _i32([1, -1, 4, -1])}))
case("gather_batch_dims")(lambda: single_op_model("GATHER", [(2, 5, 3)], (2, 4, 3), in_q=[(0.1, 0)], out_q=(0.1, 0),
                                                  consts={1: _i32([[4, 0, 0, 2], [1, 3, 2, 4]])},
                                                  axis=1, batch_dims=1))
case("gather_last_axis")(lambda: single_op_model("GATHER", [(3, 7)], (3, 2, 2), in_q=[(0.1, 0)], out_q=(0.1, 0),
                                                 consts={1: _i32([[6, 0], [3, 3]])}, axis=-1))
for _align, _half in ((False, False), (True, False), (False, True)):
    for _h, _w in ((3, 2), (9, 13)):  # down and up
        case(f"resize_nearest_{_h}x{_w}_{int(_align)}{int(_half)}")(
            lambda a=_align, hp=_half, h=_h, w=_w: single_op_model(
                "RESIZE_NEAREST_NEIGHBOR", [(1, 7, 5, 3)], (1, h, w, 3), in_q=[(0.1, -3)], out_q=(0.1, -3),
                consts={1: _i32([h, w])}, align_corners=a, half_pixel_centers=hp))
        case(f"resize_bilinear_{_h}x{_w}_{int(_align)}{int(_half)}")(
            lambda a=_align, hp=_half, h=_h, w=_w: single_op_model(
                "RESIZE_BILINEAR", [(2, 7, 5, 3)], (2, h, w, 3), in_q=[(0.1, -3)], out_q=(0.1, -3),
                consts={1: _i32([h, w])}, align_corners=a, half_pixel_centers=hp))


def _split_join(op_type: str) -> bytes:
    """SPLIT / SPLIT_V inside a graph: the parts are added back in another order (several
    outputs of one op, live together, read by later ops)."""
    b = ModelBuilder()
    x = b.tensor((1, 6, 4, 3), scale=0.1, zero_point=1)
    parts = [b.tensor((1, 2, 4, 3), scale=0.1, zero_point=1) for _ in range(3)]
    if op_type == "SPLIT":
        axis = b.tensor((), "INT32", data=np.array(1, np.int32))
        b.op("SPLIT", [axis, x], parts, num_splits=3)
    else:
        sizes = b.tensor((3,), "INT32", data=np.array([2, -1, 2], np.int32))
        axis = b.tensor((), "INT32", data=np.array(-3, np.int32))
        b.op("SPLIT_V", [x, sizes, axis], parts, num_splits=3)
    s = b.tensor((1, 2, 4, 3), scale=0.2, zero_point=0)
    y = b.tensor((1, 2, 4, 6), scale=0.1, zero_point=1)
    b.op("ADD", [parts[2], parts[0]], [s])
    b.op("CONCATENATION", [parts[1], parts[0]], [y], axis=3)
    return b.io([x], [s, y]).build()


case("split_into_add")(lambda: _split_join("SPLIT"))
case("split_v_into_add")(lambda: _split_join("SPLIT_V"))


@case("split_channels")
def _() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 3, 2, 5), scale=0.1, zero_point=1)
    parts = [b.tensor((1, 3, 2, n), scale=0.1, zero_point=1) for n in (1, 4)]
    sizes = b.tensor((2,), "INT32", data=np.array([1, 4], np.int32))
    axis = b.tensor((), "INT32", data=np.array(3, np.int32))
    b.op("SPLIT_V", [x, sizes, axis], parts, num_splits=2)
    return b.io([x], parts).build()


@case("reshape_squeeze_expand_pack")
def _() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 6, 1, 4), scale=0.1, zero_point=2)
    sq = b.tensor((6, 4), scale=0.1, zero_point=2)
    ex = b.tensor((6, 1, 4), scale=0.1, zero_point=2)
    axis = b.tensor((1,), "INT32", data=np.array([1], np.int32))
    shape = b.tensor((2,), "INT32", data=np.array([4, 6], np.int32))
    rs = b.tensor((4, 6), scale=0.1, zero_point=2)
    dims = b.tensor((2,), "INT32")
    rs2 = b.tensor((4, 6), scale=0.1, zero_point=2)
    pk = b.tensor((4, 2, 6), scale=0.1, zero_point=2)
    b.op("SQUEEZE", [x], [sq], squeeze_dims=[0, 2])
    b.op("EXPAND_DIMS", [sq, axis], [ex])
    b.op("RESHAPE", [ex, shape], [rs], new_shape=[4, 6])
    b.op("SHAPE", [rs], [dims], out_type=2)
    b.op("RESHAPE", [sq, dims], [rs2])
    b.op("PACK", [rs, rs2], [pk], values_count=2, axis=1)
    return b.io([x], [pk]).build()


@case("float_io_chain")
def _() -> bytes:
    b = ModelBuilder()
    x = b.tensor((1, 64), "FLOAT32")
    q = b.tensor((1, 64), scale=0.03, zero_point=-1)
    y = b.tensor((1, 64), scale=1 / 256, zero_point=-128)
    f = b.tensor((1, 64), "FLOAT32")
    b.op("QUANTIZE", [x], [q])
    b.op("LOGISTIC", [q], [y])
    b.op("DEQUANTIZE", [y], [f])
    return b.io([x], [f]).build()


for args, kw in (((1, 6, 5, 7), {}), ((2, 4, 3, 6), {"time_major": True}),
                 ((3, 5, 4, 5), {"cell_power": -11, "cell_clip": 3.0}),
                 ((1, 8, 9, 4), {"cell_power": -15, "w_scale": 0.05, "x_q": (0.1, -20)}),
                 ((2, 3, 2, 9), {"cell_clip": 0.4, "h_q": (0.02, 40)})):
    case(f"lstm_{'x'.join(map(str, args))}_{'_'.join(f'{k}={v}' for k, v in kw.items())}")(
        lambda a=args, k=kw: lstm_model(*a, **k))


# 16x8 mode. ADD: TFLM takes its general rescaling (left shift 15) whatever pot_scale_int16 says,
# power-of-two scales included. LOGISTIC/TANH: an input scale of 2^-12 (TANH: or 2^-11) is
# TFLM's power-of-two case, within CheckedLog2's 1e-3 tolerance too; any other scale, tiny ones
# included (the shift loop's end), the general multiplier.
def _int16_model(op: str, shapes: list[tuple[int, ...]], scales: list[float], out_scale: float,
                 **options: Any) -> bytes:
    b = ModelBuilder()
    ins = [b.tensor(shape, "INT16", scale=s) for shape, s in zip(shapes, scales)]
    out = b.tensor(tuple(np.broadcast_shapes(*shapes)), "INT16", scale=out_scale)
    b.op(op, ins, [out], **options)
    return b.io(ins, [out]).build()


for k, (scales, out_scale, pot, act, sb) in enumerate((
        ((2.0 ** -12, 2.0 ** -10), 2.0 ** -9, True, "NONE", (1, 4, 4, 8)),
        ((2.0 ** -8, 2.0 ** -8), 2.0 ** -8, True, "RELU", (1, 1, 1, 8)),
        ((0.000371, 0.00113), 0.00131, False, "NONE", (1, 4, 1, 1)),
        ((0.0123, 0.0123), 0.0077, False, "RELU6", (1, 4, 4, 8)))):
    case(f"add16_{k}")(lambda s=scales, o=out_scale, pot=pot, act=act, sb=sb: _int16_model(
        "ADD", [(1, 4, 4, 8), sb], list(s), o, pot_scale_int16=pot, fused_activation_function=act))
    case(f"mul16_{k}")(lambda s=scales, o=out_scale, act=act, sb=sb: _int16_model(
        "MUL", [(1, 4, 4, 8), sb], list(s), o * 64, fused_activation_function=act))
for op in ("ADD", "MUL"):  # both inputs broadcast
    case(f"{op.lower()}16_both_broadcast")(lambda op=op: _int16_model(
        op, [(1, 1, 4, 7), (3, 4, 1, 1)], [0.00031, 0.0007], 0.0005 if op == "ADD" else 0.0021))
for scale in (2.0 ** -12, 2.0 ** -12 * 1.0004, 2.0 ** -11, 2.0 ** -10, 0.000476, 3e-9, 1.9):
    case(f"logistic16_{scale:.6g}")(lambda s=scale: _int16_model("LOGISTIC", [(1, 512)], [s], 2.0 ** -15))
    case(f"tanh16_{scale:.6g}")(lambda s=scale: _int16_model("TANH", [(1, 512)], [s], 2.0 ** -15))
case("int16_elementwise_pot")(lambda: int16_elementwise_model(pot_add=True))
case("int16_elementwise_general")(lambda: int16_elementwise_model(pot_add=False))


@pytest.mark.parametrize("name", sorted(CASES))
def test_single_op_matches_tflm(name: str) -> None:
    _check_bit_exact(CASES[name](), SEEDS + (None,))


def test_every_supported_op_is_covered() -> None:
    """The single-op cases (plus converter models, when present) exercise every op."""
    from mcusim.frontend.validate import supported_ops

    covered = {op.type for data in (fn() for fn in CASES.values()) for op in parse_model(data).ops}
    for path in MODEL_FILES:  # converter models run by test_model_file_matches_tflm
        try:
            covered |= {op.type for op in parse_model(path.read_bytes()).ops}
        except ModelError:  # a model mcusim refuses covers nothing (test_model_file_matches_tflm fails on it)
            pass
    assert set(supported_ops()) - covered == set()
