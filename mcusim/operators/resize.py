"""Image resizing: RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR (int8 NHWC, new height and width from
a constant size input; options align_corners and half_pixel_centers).

Both copy or blend raw int8 values (TFLM ignores the quantization; the converter gives input
and output the same). Nearest neighbour picks its source rows and columns in float32 as TFLM's
reference does; bilinear is TFLM's ResizeBilinearInteger: coordinates in 10 fractional bits,
a 20-bit weighted sum, rounded half away from zero (the default, double-rounding build).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, require
from . import OpSpec, Options, Tinyml, Values
from ._common import inp, out, value
from .transform import dims_step


@dataclass(frozen=True)
class ResizeParams:
    out_h: int
    out_w: int
    align_corners: bool
    half_pixel_centers: bool


def prepare_resize(graph: Graph, op: Op) -> ResizeParams:
    size = inp(graph, op, 1)
    if size.data is None or size.size != 2:
        raise ModelError(f"op {op.index} ({op.type}) needs a constant size of 2 values")
    h, w = (int(v) for v in np.asarray(size.data).reshape(-1))
    return ResizeParams(h, w, bool(op.options.get("align_corners", False)),
                        bool(op.options.get("half_pixel_centers", False)))


def _check(graph: Graph, op: Op) -> None:
    x, size, y = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    check_activation_tensor(x, op, "input")
    check_activation_tensor(y, op, "output")
    require(size, op, "size", ("INT32",), constant=True)
    if len(x.shape) != 4 or len(size.shape) != 1:
        raise ModelError(f"op {op.index} ({op.type}) needs a 4-D input and a 1-D size (TFLM's prepare)")
    p = prepare_resize(graph, op)
    if p.out_h < 1 or p.out_w < 1:
        raise ModelError(f"op {op.index} ({op.type}) resizes to {p.out_h}x{p.out_w}")
    if op.type == "RESIZE_BILINEAR" and p.align_corners and p.half_pixel_centers:
        raise ModelError(f"op {op.index} (RESIZE_BILINEAR) sets both align_corners and half_pixel_centers, "
                         "which TFLM refuses")
    want = (x.shape[0], p.out_h, p.out_w, x.shape[3])
    if y.shape != want:
        raise ModelError(f"op {op.index} ({op.type}) output shape {list(y.shape)} is not {list(want)}")


# --- RESIZE_NEAREST_NEIGHBOR -------------------------------------------------------------------
def nearest_sources(out_size: int, in_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    """Source index of every output row (or column), TFLM's GetNearestNeighbor: the scale and
    the product in float32, then floor (or, with align_corners, round half away from zero)."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    pos = (np.arange(out_size, dtype=np.float32) + offset) * scale  # float32 throughout
    exact = pos.astype(np.float64)  # non-negative: floor(x + 0.5) in double is round-half-away
    src = np.floor(exact + 0.5) if align_corners else np.floor(exact)
    src = np.minimum(src.astype(np.int64), in_size - 1)
    return np.maximum(src, 0) if half_pixel_centers else src


def resize_nearest(x: np.ndarray, p: ResizeParams) -> np.ndarray:
    rows = nearest_sources(p.out_h, x.shape[1], p.align_corners, p.half_pixel_centers)
    cols = nearest_sources(p.out_w, x.shape[2], p.align_corners, p.half_pixel_centers)
    return x[:, rows][:, :, cols]


def _nearest_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return resize_nearest(value(values, graph, op, 0), prepare_resize(graph, op))


# --- RESIZE_BILINEAR ---------------------------------------------------------------------------
def _cdiv(a: np.ndarray, b: int) -> np.ndarray:
    """C's integer division (truncates toward zero), b > 0."""
    a = np.asarray(a, np.int64)
    q = np.abs(a) // b
    return np.where(a < 0, -q, q)


def bilinear_scale(in_size: int, out_size: int, align_corners: bool) -> int:
    """The step between output pixels in input pixels, with 10 fractional bits, rounded."""
    if align_corners and out_size > 1:
        return ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    return ((1 << 10) * in_size + out_size // 2) // out_size


def bilinear_sources(out_size: int, in_size: int, scale: int,
                     half_pixel_centers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output row (or column): the position with 10 fractional bits, the lower and the
    upper source index (TFLM's ComputeInterpolationValuesInteger)."""
    v = np.arange(out_size, dtype=np.int64) * scale
    if half_pixel_centers:
        v = v + scale // 2 - (1 << 9)
    lower = np.maximum(_cdiv(v, 1 << 10), 0)
    upper = np.minimum(_cdiv(v + (1 << 10) - 1, 1 << 10), in_size - 1)
    return v, lower, upper


def resize_bilinear(x: np.ndarray, p: ResizeParams) -> np.ndarray:
    _, in_h, in_w, _ = x.shape
    ys, y0, y1 = bilinear_sources(p.out_h, in_h, bilinear_scale(in_h, p.out_h, p.align_corners),
                                  p.half_pixel_centers)
    xs, x0, x1 = bilinear_sources(p.out_w, in_w, bilinear_scale(in_w, p.out_w, p.align_corners),
                                  p.half_pixel_centers)
    if y0.max() >= in_h or x0.max() >= in_w:  # TFLM would read outside the input
        raise ModelError(f"RESIZE_BILINEAR {in_h}x{in_w} -> {p.out_h}x{p.out_w}: the rounded scale "
                         "reaches past the input's last pixel")
    v = np.asarray(x).astype(np.int64)
    fy = (ys - (y0 << 10))[None, :, None, None]
    fx = (xs - (x0 << 10))[None, None, :, None]
    top_left = v[:, y0][:, :, x0]
    bottom_left = v[:, y1][:, :, x0]
    top_right = v[:, y0][:, :, x1]
    bottom_right = v[:, y1][:, :, x1]
    one = 1 << 10
    acc = (top_left * (one - fy) * (one - fx) + bottom_left * fy * (one - fx)
           + top_right * (one - fy) * fx + bottom_right * fy * fx)
    rounded = _cdiv(acc + np.where(acc > 0, 1 << 19, -(1 << 19)), 1 << 20)
    return rounded.astype(np.int8)


def _bilinear_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return resize_bilinear(value(values, graph, op, 0), prepare_resize(graph, op))


# --- classic emitters --------------------------------------------------------------------------
def _resize_classic(gen: Any, op: Op, kernel: str) -> Any:
    p = prepare_resize(gen.g, op)
    return dims_step(gen, op, kernel, "mcu_resize_params",
                       [f".align_corners = {int(p.align_corners)}",
                        f".half_pixel_centers = {int(p.half_pixel_centers)}"],
                       [f"to {p.out_h}x{p.out_w}, align_corners {p.align_corners}, "
                        f"half_pixel_centers {p.half_pixel_centers}"])


def _nearest_classic(gen: Any, op: Op) -> Any:
    return _resize_classic(gen, op, "mcu_resize_nearest_s8")


def _bilinear_classic(gen: Any, op: Op) -> Any:
    return _resize_classic(gen, op, "mcu_resize_bilinear_s8")


_OPTIONS_FIELDS = (("align_corners", 0, "bool", False), ("half_pixel_centers", 1, "bool", False))

RESIZE_NEAREST_NEIGHBOR = OpSpec(
    "RESIZE_NEAREST_NEIGHBOR", _nearest_reference,
    options=Options(74, "ResizeNearestNeighborOptions", _OPTIONS_FIELDS),
    min_inputs=2, check=_check, classic=_nearest_classic,
    tinyml=Tinyml("mcu_op_resize_nearest_neighbor", "resize.c"),
    kernels=("mcu_resize_nearest_s8",),
)

RESIZE_BILINEAR = OpSpec(
    "RESIZE_BILINEAR", _bilinear_reference,
    # slots 0 and 1 are the deprecated new_height / new_width
    options=Options(15, "ResizeBilinearOptions", (("align_corners", 2, "bool", False),
                                                  ("half_pixel_centers", 3, "bool", False))),
    min_inputs=2, check=_check, classic=_bilinear_classic,
    tinyml=Tinyml("mcu_op_resize_bilinear", "resize.c"),
    kernels=("mcu_resize_bilinear_s8",),
)

SPECS = (RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR)
