"""2-D pooling over NHWC windows: MAX_POOL_2D and AVERAGE_POOL_2D."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, check_same_type, must
from ..stacks.classic.cgen import Step, dims4, dims_c
from ..stacks.cmsisnn import COMPONENT, tile
from . import OpSpec, Options, Tinyml, Values
from ._common import activation_range as _activation_range
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import out as _out
from ._common import spatial as _spatial
from ._common import value as _value
from ._common import windows as _windows


def _check_pool(graph: Graph, op: Op) -> None:
    x, o = must(graph, op, 0), graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(o.shape) != 4 or x.shape[3] != o.shape[3] or x.shape[0] != o.shape[0]:
        raise ModelError(f"op {op.index} ({op.type}) needs 4-D input and output with matching batch and channels")
    for pos in range(len(op.inputs)):
        check_activation_tensor(must(graph, op, pos), op, f"input {pos}", int16=True)
    check_activation_tensor(o, op, "output", int16=True)
    check_same_type(graph, op)


@dataclass(frozen=True)
class PoolParams:
    """Window geometry and activation clamp of MAX_POOL_2D / AVERAGE_POOL_2D."""

    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int
    act_min: int
    act_max: int


def prepare_pool(graph: Graph, op: Op) -> PoolParams:
    """Host-side parameters of a 2-D pooling op."""
    x, out = _inp(graph, op, 0), _out(graph, op)
    o = op.options
    if len(x.shape) != 4:
        raise ModelError(f"op {op.index} ({op.type}) needs a 4-D input")
    fh, fw = o["filter_height"], o["filter_width"]
    if fh <= 0 or fw <= 0:
        raise ModelError(f"op {op.index} ({op.type}) has an empty pooling window")
    pad_h, pad_w, out_h, out_w = _spatial(op, x.shape, fh, fw, out)
    return PoolParams(fh, fw, o["stride_h"], o["stride_w"], pad_h, pad_w, out_h, out_w,
                      *_activation_range(op, out))


def _pool_windows(x: np.ndarray, p: PoolParams, fill: int) -> np.ndarray:
    return _windows(x, p.filter_h, p.filter_w, p.stride_h, p.stride_w, 1, 1,
                    p.pad_h, p.pad_w, p.out_h, p.out_w, fill)


def max_pool_2d(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """Max over the in-image part of each window, then the activation clamp; int8 (or int16)
    NHWC."""
    windows = _pool_windows(_i64(x), p, q.INT16_MIN - 1)
    return np.clip(windows.max(axis=(3, 4)), p.act_min, p.act_max).astype(x.dtype)


def average_pool_2d(x: np.ndarray, p: PoolParams) -> np.ndarray:
    """Mean over the in-image pixels of each window (padding not counted), rounded half away
    from zero by integer division, then clamped; int8 (or int16) NHWC. No zero-point
    handling: input and output share quantization."""
    windows = _pool_windows(_i64(x), p, 0)
    ones = _pool_windows(np.ones((1,) + x.shape[1:3] + (1,), np.int64), p, 0)
    acc = windows.sum(axis=(3, 4))
    count = ones.sum(axis=(3, 4))
    half = count // 2
    avg = np.where(acc > 0, q.c_div(acc + half, count), q.c_div(acc - half, count))
    return np.clip(avg, p.act_min, p.act_max).astype(x.dtype)


def _pool_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_pool(graph, op)
    kernel = max_pool_2d if op.type == "MAX_POOL_2D" else average_pool_2d
    return kernel(_value(v, graph, op, 0), p)


def _pool_classic(gen: Any, op: Op) -> Step:
    p = prepare_pool(gen.g, op)
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"
    int16 = gen.t[x].dtype == "INT16"  # 16x8 mode
    if op.type == "MAX_POOL_2D":
        kernel = "mcu_max_pool_s16" if int16 else "mcu_max_pool_s8"
    else:
        kernel = "mcu_avg_pool_s16" if int16 else "mcu_avg_pool_s8"
    decls = [f"static const mcu_pool_params params = {{.stride = {{{p.stride_h}, {p.stride_w}}}, "
             f".padding = {{{p.pad_h}, {p.pad_w}}}, .filter = {{{p.filter_h}, {p.filter_w}}}, "
             f".activation = {{{p.act_min}, {p.act_max}}}}};",
             f"static const mcu_dims in_dims = {dims_c(dims4(gen.t[x].shape, where))}, "
             f"out_dims = {dims_c(dims4(out.shape, where))};"]
    extra = [f"window {p.filter_h}x{p.filter_w}, stride {p.stride_h}x{p.stride_w}, padding "
             f"{op.options.get('padding')} (top {p.pad_h}, left {p.pad_w}), clamp [{p.act_min}, {p.act_max}]"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = {kernel}({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

    scratch = "mcu_avg_pool_s8_get_buffer_size(&in_dims)" if kernel == "mcu_avg_pool_s8" else None
    return Step(op, [x], out.index, extra, decls, render, kernel, scratch)


def _pool_cmsis_nn(gen: Any, op: Op) -> Any:
    p = prepare_pool(gen.g, op)
    x = gen.data(op, 0, "input")
    xt, out = gen.t[x], gen.t[op.outputs[0]]
    avg = op.type == "AVERAGE_POOL_2D"
    if xt.dtype == "INT16":  # 16x8 mode: the same parameters
        kernel = "arm_avgpool_s16" if avg else "arm_max_pool_s16"
    else:
        kernel = "arm_avgpool_s8" if avg else "arm_max_pool_s8"
    params = (f"static const cmsis_nn_pool_params params = {{.stride = {tile(p.stride_h, p.stride_w)}, "
              f".padding = {tile(p.pad_h, p.pad_w)}, .activation = {{.min = {p.act_min}, .max = {p.act_max}}}}};")
    dims = (f"static const cmsis_nn_dims in_dims = {dims_c(tuple(xt.shape))}, filter_dims = "
            f"{dims_c((1, p.filter_h, p.filter_w, 1))}, out_dims = {dims_c(tuple(out.shape))};")
    extra = [f"window {p.filter_h}x{p.filter_w}, stride {p.stride_h}x{p.stride_w}, padding "
             f"{op.options.get('padding')} (top {p.pad_h}, left {p.pad_w}), clamp [{p.act_min}, {p.act_max}]",
             f"CMSIS-NN {kernel}"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = (mcu_status){kernel}({ctx}, &params, &in_dims, {ptr(x)}, &filter_dims, &out_dims, "
                f"{ptr(out.index)});"]

    sizing = f"{kernel}_get_buffer_size({out.shape[2]}, {out.shape[3]})" if avg else None
    return Step(op, [x], out.index, extra, [params, dims], render, kernel, sizing, library=COMPONENT,
                 sizing_decls=[])


_POOL_OPTIONS = Options(5, "Pool2DOptions", (
    ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
    ("filter_width", 3, "i32", 0), ("filter_height", 4, "i32", 0),
    ("fused_activation_function", 5, "activation", "NONE")))
MAX_POOL_2D = OpSpec("MAX_POOL_2D", _pool_reference, options=_POOL_OPTIONS, check=_check_pool,
                     classic=_pool_classic, cmsis_nn=_pool_cmsis_nn,
                     tinyml=Tinyml("mcu_op_max_pool_2d", "pooling.c"),
                     kernels=("mcu_max_pool_s8", "mcu_max_pool_s16"), int16_paths=("classic", "tinyml", "cmsis-nn"))
AVERAGE_POOL_2D = OpSpec("AVERAGE_POOL_2D", _pool_reference, options=_POOL_OPTIONS, check=_check_pool,
                         classic=_pool_classic, cmsis_nn=_pool_cmsis_nn,
                         tinyml=Tinyml("mcu_op_average_pool_2d", "pooling.c"),
                         kernels=("mcu_avg_pool_s8", "mcu_avg_pool_s16"), int16_paths=("classic", "tinyml", "cmsis-nn"))

SPECS = (MAX_POOL_2D, AVERAGE_POOL_2D)
