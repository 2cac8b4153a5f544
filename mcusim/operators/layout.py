"""Operators that move bytes without arithmetic: views (RESHAPE, EXPAND_DIMS, SQUEEZE), SHAPE,
selections (STRIDED_SLICE), joins (CONCATENATION, PACK) and PAD."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op, Tensor
from ..frontend.validate import check_activation_tensor, must, require, tensor
from ..stacks.classic.cgen import Step, activation, ctype, dims4, dims_c
from ..stacks.cmsisnn import COMPONENT
from . import OpSpec, Options, Tinyml, Values
from ._common import I8_MAX, I8_MIN, optional_value
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import out as _out
from ._common import to_i8 as _to_i8
from ._common import value as _value


# --- checks ----------------------------------------------------------------------------------
def _check_shape_op(graph: Graph, op: Op) -> None:
    """A shape op (views, STRIDED_SLICE, PACK, SHAPE): int8 or int32 data in (views: int16 too),
    the same type out; a view keeps the element count."""
    data, o = must(graph, op, 0), graph.tensors[op.outputs[0]]
    if op.type == "SHAPE":
        require(o, op, "output", ("INT32",))
        return
    if op.type in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE") and data.size != o.size:
        raise ModelError(
            f"op {op.index} ({op.type}) turns {data.size} elements of {data.name!r} into "
            f"{o.name!r} of shape {list(o.shape)}: the model has a dynamic shape; convert "
            "it with a fixed input shape (batch 1)")
    if op.type == "PACK":
        for pos in range(len(op.inputs)):
            require(must(graph, op, pos), op, f"input {pos}", ("INT8", "INT32"), quantized=True)
    else:
        # a view moves no data: int16 (16x8 mode) passes through RESHAPE/EXPAND_DIMS/SQUEEZE
        view = op.type in ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
        require(data, op, "input", ("INT8", "INT16", "INT32") if view else ("INT8", "INT32"), quantized=True)
        for pos in range(1, len(op.inputs)):
            param = tensor(graph, op, pos, optional=True)
            if param is not None:
                require(param, op, f"input {pos}", ("INT32",))
    require(o, op, "output", (data.dtype,), quantized=True)


def _check_join(graph: Graph, op: Op) -> None:
    """CONCATENATION / PACK: inputs of one rank whose shapes join along the axis into the output's."""
    o: Tensor = graph.tensors[op.outputs[0]]
    shapes = [must(graph, op, i).shape for i in range(len(op.inputs))]
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
    if not same or expected != o.shape:
        raise ModelError(f"op {op.index} ({op.type}) joins {[list(s) for s in shapes]} into "
                         f"{list(o.shape)}, which do not fit")


def _check_pack(graph: Graph, op: Op) -> None:
    _check_join(graph, op)
    _check_shape_op(graph, op)


def _check_concatenation(graph: Graph, op: Op) -> None:
    _check_join(graph, op)
    for pos in range(len(op.inputs)):
        check_activation_tensor(must(graph, op, pos), op, f"input {pos}")
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output")


def _check_pad(graph: Graph, op: Op) -> None:
    check_activation_tensor(must(graph, op, 0), op, "input")
    require(must(graph, op, 1), op, "parameter", ("INT32",), constant=True)
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output")


# --- references ------------------------------------------------------------------------------
def concatenation(inputs: list[np.ndarray], axis: int, *, scales: list[float] | None = None,
                  zero_points: list[int] | None = None, output_scale: float = 1.0,
                  output_zero_point: int = 0) -> np.ndarray:
    """Concatenate along ``axis``.

    TFLM's int8 CONCATENATION copies the raw values and ignores differing input scales (the
    converter gives all inputs the output's quantization), so that is the default here. Pass
    ``scales``/``zero_points`` to requantize inputs whose quantization differs from the
    output's, TFLite-style (``round(q_in * s_in/s_out)``); that is mcusim's option, not TFLM's.
    """
    if scales is None or zero_points is None:
        return np.concatenate(inputs, axis=axis)
    parts = []
    for arr, s, z in zip(inputs, scales, zero_points):
        if np.float32(s) == np.float32(output_scale) and z == output_zero_point:
            parts.append(arr)
            continue
        scaled = q.tflite_round((_i64(arr) - z).astype(np.float32) * np.float32(s / output_scale))
        parts.append(_to_i8(np.clip(scaled.astype(np.int64) + output_zero_point, I8_MIN, I8_MAX)))
    return np.concatenate(parts, axis=axis)


def pad(x: np.ndarray, paddings: np.ndarray, pad_value: int) -> np.ndarray:
    """Constant padding; ``paddings`` is [rank, 2] (before, after). TFLM pads int8 PAD with
    the output zero point."""
    widths = [(int(b), int(a)) for b, a in np.asarray(paddings).reshape(-1, 2)]
    return np.pad(x, widths, mode="constant", constant_values=pad_value)


def strided_slice(x: np.ndarray, begin: np.ndarray, end: np.ndarray, strides: np.ndarray,
                  options: dict[str, Any]) -> np.ndarray:
    """TF strided slice with begin/end/shrink masks and the ``offset`` option (TFLM has no
    ellipsis or new-axis support, nor has mcusim)."""
    if options.get("ellipsis_mask", 0) or options.get("new_axis_mask", 0):
        raise ModelError("STRIDED_SLICE with ellipsis_mask or new_axis_mask is not supported")
    begin_mask, end_mask = options.get("begin_mask", 0), options.get("end_mask", 0)
    shrink = options.get("shrink_axis_mask", 0)
    out = x
    keep_shape = []
    for axis, dim in enumerate(x.shape):
        b = int(begin[axis]) if axis < len(begin) else 0
        e = int(end[axis]) if axis < len(end) else dim
        s = int(strides[axis]) if axis < len(strides) else 1
        if s == 0:
            raise ModelError("STRIDED_SLICE with stride 0")
        if options.get("offset", False):
            e = b + e
        start = _slice_start(b, s, dim, bool(begin_mask >> axis & 1))
        if shrink >> axis & 1:
            stop = start + 1
        else:
            stop = _slice_stop(e, s, dim, bool(end_mask >> axis & 1))
            keep_shape.append(axis)
        out = np.take(out, np.arange(start, stop, s if not shrink >> axis & 1 else 1), axis=axis)
    return out.reshape([out.shape[a] for a in keep_shape])


def _slice_start(b: int, stride: int, dim: int, masked: bool) -> int:
    if dim == 0:
        return 0
    if masked:
        return 0 if stride > 0 else dim - 1
    b = b + dim if b < 0 else b
    return min(max(b, 0), dim) if stride > 0 else min(max(b, -1), dim - 1)


def _slice_stop(e: int, stride: int, dim: int, masked: bool) -> int:
    if masked:
        return dim if stride > 0 else -1
    e = e + dim if e < 0 else e
    return min(max(e, 0), dim) if stride > 0 else min(max(e, -1), dim - 1)


def _concatenation_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise ModelError(f"op {op.index} (CONCATENATION) with a fused activation is not supported")
    arrays = [_value(v, graph, op, i) for i in range(len(op.inputs))]
    axis = op.options.get("axis", 0)
    return concatenation(arrays, axis + arrays[0].ndim if axis < 0 else axis)


def _pad_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    constant = optional_value(v, graph, op, 2)
    value = int(constant.reshape(-1)[0]) if constant is not None else _out(graph, op).zero_point_value()
    return pad(_value(v, graph, op, 0), _value(v, graph, op, 1), value)


def _strided_slice_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    ones = np.ones(len(_inp(graph, op, 0).shape), np.int64)
    strides = optional_value(v, graph, op, 3)
    return strided_slice(_value(v, graph, op, 0), _value(v, graph, op, 1), _value(v, graph, op, 2),
                         ones if strides is None else strides, op.options)


def _pack_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    arrays = [_value(v, graph, op, i) for i in range(len(op.inputs))]
    axis = op.options.get("axis", 0)
    return np.stack(arrays, axis=axis + arrays[0].ndim + 1 if axis < 0 else axis)


def _reshape_to_output(graph: Graph, op: Op, v: Values) -> np.ndarray:
    return _value(v, graph, op, 0).reshape(_out(graph, op).shape)


# --- the classic emitters -----------------------------------------------------------------------
def join_step(gen: Any, op: Op, axis: int, in_shapes: list[tuple[int, ...]], note: str) -> Step:
    """CONCATENATION (and PACK, as a concatenation along the new axis) by mcu_concatenation_s8."""
    out = gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"
    rank = len(out.shape)
    axis = axis + rank if axis < 0 else axis
    out_d = dims4(out.shape, where)
    if rank > 4:
        raise ModelError(f"{where}: {rank}-D output; mcu_concatenation_s8 takes NHWC")
    axis4 = axis + 4 - rank
    ins = [gen.data(op, i, f"input{i}") for i in range(len(op.inputs))]
    dims = ", ".join(dims_c(dims4(s, where)) for s in in_shapes)
    zp = int(out.zero_point[0]) if out.is_quantized else 0
    decls = [f"static const mcu_concat_params params = {{.axis = {axis4}, .num_inputs = {len(ins)}, "
             f".output_zero_point = {zp}, .requant = NULL}};",
             f"static const mcu_dims in_dims[{len(ins)}] = {{{dims}}}, out_dims = {dims_c(out_d)};"]
    extra = [f"{note} along axis {axis} (NHWC axis {axis4}); bytes are copied (TFLM's int8 "
             "concatenation does not requantize)"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"const int8_t *const inputs[{len(ins)}] = {{{', '.join(ptr(i) for i in ins)}}};",
                f"st = mcu_concatenation_s8({ctx}, &params, in_dims, inputs, &out_dims, {ptr(out.index)});"]

    return Step(op, ins, out.index, extra, decls, render, "mcu_concatenation_s8")


def _concatenation_classic(gen: Any, op: Op) -> Step:
    if activation(op) != "NONE":
        raise ModelError(f"classic path: op {op.index} (CONCATENATION) with a fused activation is not supported")
    return join_step(gen, op, int(op.options.get("axis", 0)), [gen.t[i].shape for i in op.inputs], "concatenation")


def _pack_classic(gen: Any, op: Op) -> Step:
    out = gen.t[op.outputs[0]]
    axis = int(op.options.get("axis", 0))
    axis = axis + len(out.shape) if axis < 0 else axis
    shape = tuple(1 if d == axis else s for d, s in enumerate(out.shape))
    return join_step(gen, op, axis, [shape] * len(op.inputs), f"pack of {len(op.inputs)} tensors")


def _pad_classic(gen: Any, op: Op) -> Step:
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    where = f"op {op.index} (PAD)"
    if not gen.known(op.inputs[1]):
        raise ModelError(f"{where} has run-time paddings; the classic path needs them constant")
    widths = np.asarray(gen.values[op.inputs[1]]).reshape(-1, 2).astype(int).tolist()
    rank = len(widths)
    if rank > 4:
        raise ModelError(f"{where}: {rank}-D input; mcu_pad_s8 takes NHWC")
    before = [0] * (4 - rank) + [w[0] for w in widths]
    after = [0] * (4 - rank) + [w[1] for w in widths]
    value = int(out.zero_point[0])
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = int(np.asarray(gen.values[op.inputs[2]]).reshape(-1)[0])
    decls = [f"static const mcu_pad_params params = {{.before = {dims_c(tuple(before))}, "  # type: ignore[arg-type]
             f".after = {dims_c(tuple(after))}, .pad_value = {value}}};",  # type: ignore[arg-type]
             f"static const mcu_dims in_dims = {dims_c(dims4(gen.t[x].shape, where))}, "
             f"out_dims = {dims_c(dims4(out.shape, where))};"]
    extra = [f"paddings (before, after) per axis {widths}, border value {value}"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = mcu_pad_s8({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

    return Step(op, [x], out.index, extra, decls, render, "mcu_pad_s8")


def _strided_slice_classic(gen: Any, op: Op) -> Step:
    """A strided slice that is not one contiguous run: a generated gather loop."""
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    idx = gen.slice_indices(op).reshape(out.shape if out.shape else (1,))
    base = int(idx.reshape(-1)[0])
    loops: list[tuple[int, int]] = []  # (count, stride in input elements)
    for axis, n in enumerate(idx.shape):
        if n == 1:
            continue
        step = np.zeros(idx.ndim, int)
        step[axis] = 1
        loops.append((n, int(idx[tuple(step)]) - base))
    # A strided slice is always a regular grid: index = base + sum(i_d * stride_d).
    axes = [a for a, n in enumerate(idx.shape) if n > 1]
    grids = np.indices(idx.shape)
    affine = base + sum((grids[a] * s for a, (_, s) in zip(axes, loops)), np.zeros(idx.shape, np.int64))
    if not np.array_equal(affine, idx):
        raise ModelError(f"op {op.index} (STRIDED_SLICE): the selection is not a regular grid")
    c_type = ctype(out)
    extra = [f"not a contiguous view: generated gather loop, {len(loops)} nested loop(s), "
             f"start {base}, strides {[s for _, s in loops]} (input elements)"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        lines = [f"const {c_type} *src = {ptr(x)} + {base};", f"{c_type} *dst = {ptr(out.index)};"]
        index = " + ".join(f"i{d} * {s}" for d, (_, s) in enumerate(loops)) or "0"
        indent = ""
        for d, (n, _) in enumerate(loops):
            lines.append(f"{indent}for (int32_t i{d} = 0; i{d} < {n}; ++i{d})")
            indent += "    "
        lines.append(f"{indent}*dst++ = src[{index}];")
        lines.append("st = MCU_OK;")
        return lines

    return Step(op, [x], out.index, extra, [], render)


def _pad_cmsis_nn(gen: Any, op: Op) -> Any:
    xt, out = gen.t[op.inputs[0]], gen.t[op.outputs[0]]
    if not gen.known(op.inputs[1]):
        return "run-time paddings"
    widths = np.asarray(gen.values[op.inputs[1]]).reshape(-1, 2).astype(int).tolist()
    if len(widths) > 4:
        return f"{len(widths)}-D input; arm_pad_s8 takes up to 4 dimensions"
    x = gen.data(op, 0, "input")
    lead = 4 - len(widths)
    size = (1,) * lead + tuple(int(d) for d in xt.shape)
    before = (0,) * lead + tuple(w[0] for w in widths)
    after = (0,) * lead + tuple(w[1] for w in widths)
    value = int(out.zero_point[0])
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = int(np.asarray(gen.values[op.inputs[2]]).reshape(-1)[0])
    dims = (f"static const cmsis_nn_dims in_dims = {dims_c(size)}, pre_pad = {dims_c(before)}, "
            f"post_pad = {dims_c(after)};")
    extra = [f"paddings (before, after) per axis {widths}, border value {value}", "CMSIS-NN arm_pad_s8"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = (mcu_status)arm_pad_s8({ptr(x)}, {ptr(out.index)}, {value}, &in_dims, &pre_pad, &post_pad);"]

    return Step(op, [x], out.index, extra, [dims], render, "arm_pad_s8", library=COMPONENT)


def _concatenation_cmsis_nn(gen: Any, op: Op) -> Any:
    out = gen.t[op.outputs[0]]
    if activation(op) != "NONE":
        return "a fused activation (arm_concatenation_s8_* copy bytes)"
    rank = len(out.shape)
    if rank > 4:
        return f"{rank}-D output; arm_concatenation_s8_* take up to 4 dimensions"
    if any(gen.t[i].dtype != "INT8" for i in op.inputs):
        return "an input is not int8"
    axis = int(op.options.get("axis", 0))
    axis4 = (axis + rank if axis < 0 else axis) + 4 - rank
    where = f"op {op.index} (CONCATENATION)"
    out_d = dims4(out.shape, where)
    if max(out_d) > 65535:
        return "a dimension above 65535 (the functions take uint16 sizes)"
    # CMSIS-NN's x is the innermost axis: NHWC (n, h, w, c) is (w, z, y, x).
    fn = "arm_concatenation_s8_" + "wzyx"[axis4]
    ins = [gen.data(op, i, f"input{i}") for i in range(len(op.inputs))]
    calls, offset = [], 0
    for i in ins:
        n, h, w, c = dims4(gen.t[i].shape, where)
        size = [] if axis4 == 0 else [str(out_d[axis4])]
        calls.append((i, f"{c}, {w}, {h}, {n}", ", ".join([*size, str(offset)])))
        offset += (n, h, w, c)[axis4]
    extra = [f"concatenation along axis {axis} (NHWC axis {axis4}) of {len(ins)} inputs: one {fn} per "
             "input (bytes are copied; TFLM's int8 concatenation does not requantize either)"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"{fn}({ptr(i)}, {dims}, {ptr(out.index)}, {tail});" for i, dims, tail in calls] + ["st = MCU_OK;"]

    return Step(op, ins, out.index, extra, [], render, fn, library=COMPONENT)


RESHAPE = OpSpec("RESHAPE", _reshape_to_output,
                 options=Options(17, "ReshapeOptions", (("new_shape", 0, "i32_vector", ()),)),
                 check=_check_shape_op, view=True, tinyml=Tinyml("mcu_op_reshape", "reshape.c", alias=True))
EXPAND_DIMS = OpSpec("EXPAND_DIMS", _reshape_to_output, options=Options(52, "ExpandDimsOptions"), min_inputs=2,
                     check=_check_shape_op, view=True,
                     tinyml=Tinyml("mcu_op_expand_dims", "reshape.c", alias=True))
SQUEEZE = OpSpec("SQUEEZE", _reshape_to_output,
                 options=Options(30, "SqueezeOptions", (("squeeze_dims", 0, "i32_vector", ()),)),
                 check=_check_shape_op, view=True, tinyml=Tinyml("mcu_op_squeeze", "reshape.c", alias=True))
SHAPE = OpSpec("SHAPE", lambda g, o, v: np.array(_inp(g, o, 0).shape, np.int32),
               options=Options(55, "ShapeOptions", (("out_type", 0, "tensor_type", "FLOAT32"),)),
               check=_check_shape_op, foldable=True, tinyml=Tinyml("mcu_op_shape", "shape.c"))
STRIDED_SLICE = OpSpec(
    "STRIDED_SLICE", _strided_slice_reference,
    options=Options(32, "StridedSliceOptions", (
        ("begin_mask", 0, "i32", 0), ("end_mask", 1, "i32", 0), ("ellipsis_mask", 2, "i32", 0),
        ("new_axis_mask", 3, "i32", 0), ("shrink_axis_mask", 4, "i32", 0),
        ("offset", 5, "bool", False))),
    min_inputs=3, check=_check_shape_op, classic=_strided_slice_classic, foldable=True,
    tinyml=Tinyml("mcu_op_strided_slice", "strided_slice.c"))
PACK = OpSpec("PACK", _pack_reference,
              options=Options(59, "PackOptions", (("values_count", 0, "i32", 0), ("axis", 1, "i32", 0))),
              check=_check_pack, classic=_pack_classic, foldable=True,
              tinyml=Tinyml("mcu_op_pack", "pack.c"), kernels=("mcu_concatenation_s8",))
CONCATENATION = OpSpec(
    "CONCATENATION", _concatenation_reference,
    options=Options(10, "ConcatenationOptions", (("axis", 0, "i32", 0),
                                                  ("fused_activation_function", 1, "activation", "NONE"))),
    check=_check_concatenation, classic=_concatenation_classic, cmsis_nn=_concatenation_cmsis_nn,
    tinyml=Tinyml("mcu_op_concatenation", "concatenation.c"), kernels=("mcu_concatenation_s8",))
PAD = OpSpec("PAD", _pad_reference, options=Options(22, "PadOptions"), min_inputs=2, check=_check_pad,
             classic=_pad_classic, cmsis_nn=_pad_cmsis_nn, tinyml=Tinyml("mcu_op_pad", "pad.c"),
             kernels=("mcu_pad_s8",))

SPECS = (RESHAPE, EXPAND_DIMS, SQUEEZE, SHAPE, STRIDED_SLICE, PACK, CONCATENATION, PAD)
