"""What every operator family shares: value access, int8 casts, requantization, windows.

The numpy references of the family modules are built from these; they mirror the helpers of
TFLM's kernel_util and the reference kernels' common arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op, Tensor
from ..frontend.tflite import MAX_TENSOR_ELEMENTS
from . import Values

I8_MIN, I8_MAX = -128, 127


def i64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.int64)


def to_i8(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.int8)


# --- shared parameter records ---------------------------------------------------------------
@dataclass(frozen=True)
class Requant:
    """Output stage: ``clamp(MBQM(acc, multiplier, shift) + output_zero_point)``.

    ``multiplier`` and ``shift`` are int64 arrays: length 1 (per-tensor) or one per output
    channel.
    """

    multiplier: np.ndarray
    shift: np.ndarray
    output_zero_point: int
    act_min: int
    act_max: int
    int16: bool = False
    """16x8 mode: int64 accumulators, TFLM's int64 MultiplyByQuantizedMultiplier, int16 out."""

    def apply(self, acc: np.ndarray) -> np.ndarray:
        """Requantize accumulators (channel last); returns int8 (int16 in 16x8 mode)."""
        if self.int16:
            scaled = q.multiply_by_quantized_multiplier_int64(acc, self.multiplier, self.shift)
            return np.clip(scaled + self.output_zero_point, self.act_min, self.act_max).astype(np.int16)
        return to_i8(q.requantize(acc, self.multiplier, self.shift, self.output_zero_point,
                                   self.act_min, self.act_max))


def qparams(t: Tensor) -> tuple[float, int]:
    return float(t.scale[0]), int(t.zero_point[0])


def inp(graph: Graph, op: Op, pos: int) -> Tensor:
    return graph.tensors[op.inputs[pos]]


def out(graph: Graph, op: Op, pos: int = 0) -> Tensor:
    return graph.tensors[op.outputs[pos]]


def optional_input(graph: Graph, op: Op, pos: int) -> Tensor | None:
    if pos < len(op.inputs) and op.inputs[pos] >= 0:
        return graph.tensors[op.inputs[pos]]
    return None


def dtype_range(t: Tensor) -> tuple[int, int]:
    """The integer range of an int8 or int16 tensor."""
    return (q.INT16_MIN, q.INT16_MAX) if t.dtype == "INT16" else (I8_MIN, I8_MAX)


def is_int16(t: Tensor) -> bool:
    return t.dtype == "INT16"


def activation_range(op: Op, out: Tensor) -> tuple[int, int]:
    activation = op.options.get("fused_activation_function", "NONE")
    try:
        return q.activation_range(activation, *qparams(out), *dtype_range(out))
    except ValueError as err:
        raise ModelError(f"op {op.index} ({op.type}): {err}") from None


def multipliers(real: list[float]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [q.quantize_multiplier(r) for r in real]
    return (np.array([m for m, _ in pairs], np.int64), np.array([s for _, s in pairs], np.int64))


# --- padding --------------------------------------------------------------------------------
def compute_out_size(padding: str, image: int, filter_size: int, stride: int, dilation: int) -> int:
    """Output extent along one spatial axis for SAME / VALID padding (TFLM's formula)."""
    effective = (filter_size - 1) * dilation + 1
    if stride <= 0:
        return 0
    if padding == "SAME":
        return (image + stride - 1) // stride
    return (image + stride - effective) // stride


def compute_padding(image: int, filter_size: int, stride: int, dilation: int, out: int) -> int:
    """Padding before the first row/column (the extra odd pixel, if any, goes after)."""
    effective = (filter_size - 1) * dilation + 1
    total = max(0, (out - 1) * stride + effective - image)
    return total // 2


def spatial(op: Op, in_shape: tuple[int, ...], kh: int, kw: int, out: Tensor) -> tuple[int, int, int, int]:
    """(pad_h, pad_w, out_h, out_w), checking the output tensor's shape agrees."""
    o = op.options
    sh, sw = o["stride_h"], o["stride_w"]
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    if min(sh, sw, dh, dw) <= 0:
        raise ModelError(f"op {op.index} ({op.type}) has a non-positive stride or dilation")
    out_h = compute_out_size(o["padding"], in_shape[1], kh, sh, dh)
    out_w = compute_out_size(o["padding"], in_shape[2], kw, sw, dw)
    if len(out.shape) != 4 or (out.shape[1], out.shape[2]) != (out_h, out_w):
        raise ModelError(f"op {op.index} ({op.type}) output shape {list(out.shape)} does not match "
                         f"the computed {out_h}x{out_w}")
    return (compute_padding(in_shape[1], kh, sh, dh, out_h),
            compute_padding(in_shape[2], kw, sw, dw, out_w), out_h, out_w)


def windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int,
             pad_h: int, pad_w: int, out_h: int, out_w: int, fill: int) -> np.ndarray:
    """Patches of an NHWC array: shape (N, out_h, out_w, kh, kw, C); outside pixels = fill."""
    n, h, w, c = x.shape
    need_h = (out_h - 1) * sh + (kh - 1) * dh + 1
    need_w = (out_w - 1) * sw + (kw - 1) * dw + 1
    padded_size = n * max(need_h, pad_h + h) * max(need_w, pad_w + w) * c
    if max(padded_size, n * out_h * out_w * kh * kw * c) > MAX_TENSOR_ELEMENTS:
        raise ModelError(f"a {kh}x{kw} window with strides {sh}x{sw} and dilation {dh}x{dw} over "
                         f"{list(x.shape)} is too large to evaluate")
    padded = np.full((n, max(need_h, pad_h + h), max(need_w, pad_w + w), c), fill, x.dtype)
    padded[:, pad_h:pad_h + h, pad_w:pad_w + w, :] = x
    rows = []
    for ky in range(kh):
        cols = []
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            cols.append(padded[:, y0:y0 + (out_h - 1) * sh + 1:sh, x0:x0 + (out_w - 1) * sw + 1:sw, :])
        rows.append(np.stack(cols, axis=3))
    return np.stack(rows, axis=3)


def exact_dot(a: np.ndarray, b: np.ndarray, axes: Any) -> np.ndarray:
    """Integer tensordot through float64 BLAS; exact while every partial sum is below 2^53."""
    return np.rint(np.tensordot(a.astype(np.float64), b.astype(np.float64), axes=axes)).astype(np.int64)


def value(values: Values, graph: Graph, op: Op, pos: int) -> np.ndarray:
    index = op.inputs[pos]
    if index not in values:
        raise ModelError(f"op {op.index} ({op.type}) reads tensor {graph.tensors[index].name!r} "
                         "before any op produced it")
    return values[index]


def optional_value(values: Values, graph: Graph, op: Op, pos: int) -> np.ndarray | None:
    """The value of input ``pos``; None when the op has no such input."""
    t = optional_input(graph, op, pos)
    return None if t is None else value(values, graph, op, pos)
