"""Reductions over axes: MEAN."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, check_same_type, must, require
from ..stacks.classic.cgen import Step
from . import OpSpec, Options, Tinyml
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import out as _out
from ._common import qparams as _qparams
from ._common import value as _value


def _check_mean(graph: Graph, op: Op) -> None:
    check_activation_tensor(must(graph, op, 0), op, "input", int16=True)
    require(must(graph, op, 1), op, "parameter", ("INT32",), constant=True)
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output", int16=True)
    check_same_type(graph, op)


@dataclass(frozen=True)
class MeanParams:
    """int8 MEAN: reduced axes and the multiplier/shift of in_scale / out_scale."""

    axes: tuple[int, ...]
    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


def prepare_mean(graph: Graph, op: Op) -> MeanParams:
    """Host-side parameters of MEAN; the axis tensor must be constant."""
    x, axis, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    assert axis.data is not None
    axes: list[int] = []
    for a in axis.data.reshape(-1).tolist():
        a = a + len(x.shape) if a < 0 else a
        if not 0 <= a < len(x.shape):
            raise ModelError(f"op {op.index} (MEAN) reduces axis {a} of a {len(x.shape)}-D tensor")
        if a not in axes:
            axes.append(a)
    (si, zi), (so, zo) = _qparams(x), _qparams(out)
    m, s = q.quantize_multiplier(si / so)
    return MeanParams(tuple(axes), zi, zo, m, s)


def mean(x: np.ndarray, p: MeanParams) -> np.ndarray:
    """int8 mean over ``p.axes`` (keep_dims handled by the caller's reshape).

    TFLM folds 1/count into the multiplier: ``(multiplier << s) / count`` with
    s = min(floor(log2(count)), 32, 31 + shift), shift reduced by s, then requantizes the
    zero-point-corrected int32 sum. It does so even when input and output share
    quantization: older TFLM had a plain truncating ``sum / count`` path for that case, the
    tflite-micro build mcusim is checked against does not (verified by
    tests/test_reference_vs_tflm.py, ``mean_same_*``).
    """
    total = _i64(x).sum(axis=p.axes)
    count = int(np.prod([x.shape[a] for a in p.axes], dtype=np.int64))
    if count == 0:
        return np.zeros_like(total).astype(x.dtype)
    shift = min(count.bit_length() - 1, 32, 31 + p.shift)
    multiplier = (p.multiplier << shift) // count
    shifted = q.wrap_int32(total - p.input_zero_point * count)
    out = q.multiply_by_quantized_multiplier(shifted, multiplier, p.shift - shift) + p.output_zero_point
    info = np.iinfo(x.dtype)  # int8, or int16 in 16x8 mode (the same arithmetic)
    return np.clip(out, info.min, info.max).astype(x.dtype)


def _mean_classic(gen: Any, op: Op) -> Step:
    p = prepare_mean(gen.g, op)
    x = gen.data(op, 0, "input")
    xt, out = gen.t[x], gen.t[op.outputs[0]]
    axes = sorted(p.axes)
    if axes != list(range(axes[0], axes[-1] + 1)):
        raise ModelError(f"classic path: op {op.index} (MEAN) over axes {axes}: mcu_mean_s8 reduces "
                         "one contiguous block of axes")
    shape = xt.shape
    outer = math.prod(shape[:axes[0]])
    count = math.prod(shape[axes[0]:axes[-1] + 1])
    inner = math.prod(shape[axes[-1] + 1:])
    decls = [f"static const mcu_mean_params params = {{.input_zero_point = {p.input_zero_point}, "
             f".output_zero_point = {p.output_zero_point}, .multiplier = {p.multiplier}, .shift = {p.shift}}};",
             f"static const mcu_dims in_dims = {{{outer}, {count}, 1, {inner}}}, "
             f"out_dims = {{{outer}, 1, 1, {inner}}};"]
    extra = [f"mean over axes {list(p.axes)} ({count} values each), multiplier {p.multiplier}, "
             f"shift {p.shift} (1/{count} folded in by the kernel)"]
    int16 = xt.dtype == "INT16"  # 16x8 mode
    if int16 and count > 1 << 16:
        raise ModelError(f"classic path: op {op.index} (MEAN) averages {count} int16 values; mcu_mean_s16 "
                         "takes at most 65536")
    kernel = "mcu_mean_s16" if int16 else "mcu_mean_s8"

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = {kernel}({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

    return Step(op, [x], out.index, extra, decls, render, kernel,
                None if int16 else "mcu_mean_s8_get_buffer_size(&in_dims)")


MEAN = OpSpec("MEAN", lambda g, o, v: mean(_value(v, g, o, 0), prepare_mean(g, o)),
              options=Options(27, "ReducerOptions", (("keep_dims", 0, "bool", False),)), min_inputs=2,
              check=_check_mean, classic=_mean_classic, tinyml=Tinyml("mcu_op_mean", "mean.c"),
              kernels=("mcu_mean_s8", "mcu_mean_s16"), int16_paths=("classic", "tinyml"))

SPECS = (MEAN,)
