"""Data movement: TRANSPOSE, SPLIT, SPLIT_V, SLICE, GATHER.

Every output element is one element of the data input: no arithmetic, and TFLM copies the raw
int8 values (the converter gives the outputs the input's quantization; TFLM does not check it,
so neither does mcusim). The shape parameters (permutation, axis, sizes, begin/size) must be
constants of the model, as TFLM's prepare requires; GATHER's indices may be computed at run
time. The references work on any dtype, so the classic path can run them on an index grid to
find the selections that are one contiguous run of the input (:attr:`OpSpec.selects`).

The mcu_nn kernels take rank <= 4 (NHWC with leading 1s; more axes only when the extra
leading ones are 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend.graph import Graph, Op, Tensor
from ..frontend.validate import check_activation_tensor, require
from ..stacks.classic.cgen import Step, dims4, dims_c
from ..stacks.cmsisnn import COMPONENT
from . import OpSpec, Options, Tinyml, Values
from ._common import inp, out, value


def _where(op: Op) -> str:
    return f"op {op.index} ({op.type})"


def _const_ints(graph: Graph, op: Op, pos: int, role: str, dtypes: tuple[str, ...] = ("INT32",)) -> np.ndarray:
    """A constant integer parameter input (checked)."""
    t = inp(graph, op, pos)
    require(t, op, role, dtypes, constant=True)
    assert t.data is not None
    return np.asarray(t.data).astype(np.int64).reshape(-1)


def _axis(op: Op, axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ModelError(f"{_where(op)}: axis {axis} is outside a rank-{rank} input")
    return a


def _rank4(t: Tensor, op: Op, role: str) -> None:
    """The kernels take NHWC: rank <= 4, or more with the extra leading axes 1."""
    if len(t.shape) > 4 and any(d != 1 for d in t.shape[:len(t.shape) - 4]):
        raise ModelError(f"{_where(op)} {role} has shape {list(t.shape)}: more than 4 axes that are not 1")


def _check_io(graph: Graph, op: Op, data: int = 0) -> Tensor:
    x = inp(graph, op, data)
    check_activation_tensor(x, op, "input")
    for k in range(len(op.outputs)):
        check_activation_tensor(out(graph, op, k), op, f"output {k}" if len(op.outputs) > 1 else "output")
    _rank4(x, op, "input")
    return x


def _shape_must_be(op: Op, got: tuple[int, ...], want: tuple[int, ...], what: str = "output") -> None:
    if tuple(got) != tuple(want):
        raise ModelError(f"{_where(op)} {what} shape {list(got)} is not the computed {list(want)}")


# --- TRANSPOSE -------------------------------------------------------------------------------
def transpose_perm(graph: Graph, op: Op) -> tuple[int, ...]:
    return tuple(int(p) for p in _const_ints(graph, op, 1, "permutation"))


def _transpose_check(graph: Graph, op: Op) -> None:
    x = _check_io(graph, op)
    perm = transpose_perm(graph, op)
    if sorted(perm) != list(range(len(x.shape))):
        raise ModelError(f"{_where(op)} permutation {list(perm)} is not a permutation of {len(x.shape)} axes")
    _shape_must_be(op, out(graph, op).shape, tuple(x.shape[p] for p in perm))


def _transpose_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return np.transpose(value(values, graph, op, 0), transpose_perm(graph, op))


# --- SPLIT, SPLIT_V --------------------------------------------------------------------------
def split_layout(graph: Graph, op: Op) -> tuple[int, int, list[int]]:
    """(data input position, axis, the outputs' sizes along the axis)."""
    if op.type == "SPLIT":
        data, axis = 1, _const_ints(graph, op, 0, "axis")
    else:
        data, axis = 0, _const_ints(graph, op, 2, "axis")
    x = inp(graph, op, data)
    if axis.size != 1:
        raise ModelError(f"{_where(op)} axis has {axis.size} values, needs one")
    a = _axis(op, int(axis[0]), len(x.shape))
    return data, a, [int(out(graph, op, k).shape[a]) if len(out(graph, op, k).shape) > a else -1
                     for k in range(len(op.outputs))]


def _split_check(graph: Graph, op: Op) -> None:
    data, axis, _ = split_layout(graph, op)
    x = _check_io(graph, op, data)
    if op.type == "SPLIT":
        n = int(op.options.get("num_splits", 0))
        if n != len(op.outputs) or n < 1 or x.shape[axis] % n:
            raise ModelError(f"{_where(op)} splits {x.shape[axis]} along axis {axis} into "
                             f"{op.options.get('num_splits')} parts with {len(op.outputs)} outputs")
        sizes_wanted = [x.shape[axis] // n] * n
    else:
        given = _const_ints(graph, op, 1, "size_splits", ("INT32", "INT64"))
        if given.size != len(op.outputs) or np.sum(given == -1) > 1:
            raise ModelError(f"{_where(op)} size_splits {given.tolist()} does not fit {len(op.outputs)} outputs")
        rest = x.shape[axis] - int(given[given >= 0].sum())
        sizes_wanted = [rest if s == -1 else int(s) for s in given]
        if rest < 0 or any(s < 0 for s in sizes_wanted) or sum(sizes_wanted) != x.shape[axis]:
            raise ModelError(f"{_where(op)} size_splits {given.tolist()} does not sum to {x.shape[axis]}")
    for k, s in enumerate(sizes_wanted):
        want = x.shape[:axis] + (s,) + x.shape[axis + 1:]
        _shape_must_be(op, out(graph, op, k).shape, want, f"output {k}")


def _split_reference(graph: Graph, op: Op, values: Values) -> list[np.ndarray]:
    data, axis, sizes = split_layout(graph, op)
    x = value(values, graph, op, data)
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


# --- SLICE -----------------------------------------------------------------------------------
def slice_begin_size(graph: Graph, op: Op) -> tuple[list[int], list[int]]:
    """Begin and size per axis (size -1 resolved to the rest of the axis)."""
    x = inp(graph, op, 0)
    begin = _const_ints(graph, op, 1, "begin", ("INT32", "INT64"))
    size = _const_ints(graph, op, 2, "size", ("INT32", "INT64"))
    if begin.size != len(x.shape) or size.size != len(x.shape):
        raise ModelError(f"{_where(op)} begin {begin.tolist()} and size {size.tolist()} do not fit a "
                         f"rank-{len(x.shape)} input")
    b = [int(v) for v in begin]
    s = [d - bb if int(v) == -1 else int(v) for v, bb, d in zip(size, b, x.shape)]
    if any(bb < 0 or ss < 0 or bb + ss > d for bb, ss, d in zip(b, s, x.shape)):
        raise ModelError(f"{_where(op)} begin {b} and size {size.tolist()} reach outside the input "
                         f"{list(x.shape)}")
    return b, s


def _slice_check(graph: Graph, op: Op) -> None:
    _check_io(graph, op)
    _, size = slice_begin_size(graph, op)
    _shape_must_be(op, out(graph, op).shape, tuple(size))


def _slice_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    begin, size = slice_begin_size(graph, op)
    x = value(values, graph, op, 0)
    return x[tuple(slice(b, b + s) for b, s in zip(begin, size))]


# --- GATHER ----------------------------------------------------------------------------------
def gather_layout(graph: Graph, op: Op) -> tuple[int, int, int, int, int, int]:
    """TFLM's loop bounds: (axis, batch_dims, batches, outer, inner, indices per batch)."""
    x, idx = inp(graph, op, 0), inp(graph, op, 1)
    axis = _axis(op, int(op.options.get("axis", 0)), len(x.shape))
    batch_dims = int(op.options.get("batch_dims", 0))
    if batch_dims < 0:
        batch_dims += len(idx.shape)
    if not 0 <= batch_dims <= axis or batch_dims > len(idx.shape) \
            or x.shape[:batch_dims] != idx.shape[:batch_dims]:
        raise ModelError(f"{_where(op)} batch_dims {op.options.get('batch_dims')} does not fit input "
                         f"{list(x.shape)}, indices {list(idx.shape)} and axis {axis}")
    return axis, batch_dims, int(np.prod(x.shape[:batch_dims])), int(np.prod(x.shape[batch_dims:axis])), \
        int(np.prod(x.shape[axis + 1:])), int(np.prod(idx.shape[batch_dims:]))


def gather(x: np.ndarray, indices: np.ndarray, axis: int, batch_dims: int) -> np.ndarray:
    """TFLM's Gather: for each batch, outer position and index, the inner block at that index."""
    shape = x.shape
    batches = int(np.prod(shape[:batch_dims]))
    outer = int(np.prod(shape[batch_dims:axis]))
    inner = int(np.prod(shape[axis + 1:]))
    idx = np.asarray(indices).astype(np.int64).reshape(batches, -1)
    if idx.size and (idx.min() < 0 or idx.max() >= shape[axis]):
        raise ModelError(f"GATHER index outside [0, {shape[axis]}): {idx.min()}..{idx.max()}")
    blocks = np.asarray(x).reshape(batches, outer, shape[axis], inner)
    picked = np.stack([blocks[b][:, idx[b], :] for b in range(batches)]) if batches else blocks
    out_shape = shape[:axis] + tuple(np.asarray(indices).shape[batch_dims:]) + shape[axis + 1:]
    return picked.reshape(out_shape)


def _gather_check(graph: Graph, op: Op) -> None:
    x = _check_io(graph, op)
    idx = inp(graph, op, 1)
    require(idx, op, "indices", ("INT32",))  # TFLM's gather takes int32 positions only
    axis, batch_dims, *_ = gather_layout(graph, op)
    want = x.shape[:axis] + idx.shape[batch_dims:] + x.shape[axis + 1:]
    _shape_must_be(op, out(graph, op).shape, want)
    if idx.data is not None and idx.size and (idx.data.min() < 0 or idx.data.max() >= x.shape[axis]):
        raise ModelError(f"{_where(op)} indices {np.asarray(idx.data).reshape(-1).tolist()} reach outside "
                         f"[0, {x.shape[axis]})")


def _gather_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    axis, batch_dims, *_ = gather_layout(graph, op)
    return gather(value(values, graph, op, 0), value(values, graph, op, 1), axis, batch_dims)


# --- classic emitters --------------------------------------------------------------------------
def dims_step(gen: Any, op: Op, kernel: str, ptype: str, fields: list[str], extra: list[str]) -> Step:
    """A kernel ``kernel(ctx, &params, &in_dims, in, &out_dims, out)`` over input 0 and output 0
    as NHWC (TRANSPOSE, SLICE, the resizes)."""
    x = gen.data(op, 0, "input")
    out = gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"
    decls = [f"static const {ptype} params = {{{', '.join(fields)}}};",
             f"static const mcu_dims in_dims = {dims_c(dims4(gen.t[x].shape, where))}, "
             f"out_dims = {dims_c(dims4(out.shape, where))};"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = {kernel}({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

    return Step(op, [x], out.index, extra, decls, render, kernel)


def _axis4(rank: int, axis: int) -> int:
    """An axis of a rank-``rank`` tensor as an NHWC axis (leading 1s added or dropped)."""
    return axis + 4 - rank


def _transpose_classic(gen: Any, op: Op) -> Any:
    rank = len(gen.t[op.inputs[0]].shape)
    perm = transpose_perm(gen.g, op)
    # Added leading axes stay in place; dropped ones (1s beyond 4 axes) must stay in place.
    perm4 = list(range(4 - rank)) + [_axis4(rank, p) for p in perm[max(rank - 4, 0):]]
    if sorted(perm4) != [0, 1, 2, 3]:
        raise ModelError(f"classic path: {_where(op)} permutation {list(perm)} moves one of the "
                         "leading axes beyond 4; mcu_transpose_s8 takes NHWC")
    return dims_step(gen, op, "mcu_transpose_s8", "mcu_transpose_params",
                       [".perm = {%d, %d, %d, %d}" % tuple(perm4)],
                       [f"permutation {list(perm)} (NHWC {perm4})"])


def _transpose_cmsis_nn(gen: Any, op: Op) -> Any:
    """arm_transpose_s8 with what TFLM's cmsis_nn/transpose.cc passes: the dims in the tensor's
    own order (here padded with 1s on the right), the permutation of its rank."""
    x = gen.data(op, 0, "input")
    xt, out = gen.t[x], gen.t[op.outputs[0]]
    rank = len(xt.shape)
    if rank > 4:
        return f"{rank}-D input; arm_transpose_s8 takes up to 4 dimensions"
    perm = transpose_perm(gen.g, op)
    pad = (1,) * (4 - rank)
    decls = [f"static const uint32_t perm[{rank}] = {{{', '.join(map(str, perm))}}};",
             f"static const cmsis_nn_transpose_params params = {{{rank}, perm}};",
             "static const cmsis_nn_dims in_dims = {%d, %d, %d, %d}, " % (tuple(xt.shape) + pad)
             + "out_dims = {%d, %d, %d, %d};" % (tuple(out.shape) + pad)]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = (mcu_status)arm_transpose_s8({ptr(x)}, {ptr(out.index)}, &in_dims, &out_dims, &params);"]

    return Step(op, [x], out.index, [f"permutation {list(perm)}", "CMSIS-NN arm_transpose_s8"], decls, render,
                 "arm_transpose_s8", library=COMPONENT)


def _split_classic(gen: Any, op: Op) -> Any:
    data, axis, sizes = split_layout(gen.g, op)
    axis4 = _axis4(len(gen.t[op.inputs[data]].shape), axis)
    if axis4 < 0:
        raise ModelError(f"classic path: {_where(op)} splits a leading axis beyond 4")
    x = gen.data(op, data, "input")
    outs = list(op.outputs)
    where = f"op {op.index} ({op.type})"
    dims = ", ".join(dims_c(dims4(gen.t[o].shape, where)) for o in outs)
    decls = [f"static const mcu_split_params params = {{.axis = {axis4}, .num_outputs = {len(outs)}}};",
             f"static const mcu_dims in_dims = {dims_c(dims4(gen.t[x].shape, where))}, "
             f"out_dims[{len(outs)}] = {{{dims}}};"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"int8_t *const outputs[{len(outs)}] = {{{', '.join(ptr(o) for o in outs)}}};",
                f"st = mcu_split_s8({ctx}, &params, &in_dims, {ptr(x)}, out_dims, outputs);"]

    return Step(op, [x], outs[0], [f"along axis {axis} (NHWC axis {axis4}) into {sizes}; bytes are copied"],
                decls, render, "mcu_split_s8", also_writes=outs[1:])


def _slice_classic(gen: Any, op: Op) -> Any:
    begin, size = slice_begin_size(gen.g, op)
    b4 = ([0] * 4 + begin)[-4:]
    if any(begin[:-4]):
        raise ModelError(f"classic path: {_where(op)} begins past 0 on a leading axis beyond 4")
    return dims_step(gen, op, "mcu_slice_s8", "mcu_slice_params", [".begin = {%d, %d, %d, %d}" % tuple(b4)],
                       [f"begin {begin}, size {size}: a copy of the box"])


def _gather_classic(gen: Any, op: Op) -> Any:
    axis, batch_dims, batches, outer, inner, coords = gather_layout(gen.g, op)
    x = gen.t[op.inputs[0]]
    fields = [f".batches = {batches}", f".outer = {outer}", f".axis_size = {x.shape[axis]}",
              f".inner = {inner}", f".num_indices = {coords}"]
    data, idx = gen.data(op, 0, "input"), gen.data(op, 1, "indices")
    out = gen.t[op.outputs[0]]
    decls = [f"static const mcu_gather_params params = {{{', '.join(fields)}}};"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = mcu_gather_s8({ctx}, &params, {ptr(data)}, {ptr(idx)}, {ptr(out.index)});"]

    return Step(op, [data, idx], out.index, [f"axis {axis}, batch_dims {batch_dims}: {batches} x {outer} x "
                                             f"{coords} blocks of {inner} bytes"], decls, render, "mcu_gather_s8")


_SELECTION = ("the classic path makes a selection that is one contiguous run of the input a view "
              "and evaluates the op on the host when its input is known")

TRANSPOSE = OpSpec(
    "TRANSPOSE", _transpose_reference,
    options=Options(26, "TransposeOptions"),
    min_inputs=2, check=_transpose_check, classic=_transpose_classic, cmsis_nn=_transpose_cmsis_nn, selects=0,
    tinyml=Tinyml("mcu_op_transpose", "transpose.c"),
    kernels=("mcu_transpose_s8",),
)

SPLIT = OpSpec(
    "SPLIT", _split_reference,
    options=Options(35, "SplitOptions", (("num_splits", 0, "i32", 0),)),
    min_inputs=2, outputs=None, check=_split_check, classic=_split_classic, selects=1,
    tinyml=Tinyml("mcu_op_split", "split.c"),
    kernels=("mcu_split_s8",),
)

SPLIT_V = OpSpec(
    "SPLIT_V", _split_reference,
    options=Options(79, "SplitVOptions", (("num_splits", 0, "i32", 0),)),
    min_inputs=3, outputs=None, check=_split_check, classic=_split_classic, selects=0,
    tinyml=Tinyml("mcu_op_split_v", "split.c"),
    kernels=("mcu_split_s8",),
)

SLICE = OpSpec(
    "SLICE", _slice_reference,
    options=Options(48, "SliceOptions"),
    min_inputs=3, check=_slice_check, classic=_slice_classic, selects=0,
    tinyml=Tinyml("mcu_op_slice", "slice.c"),
    kernels=("mcu_slice_s8",),
)

GATHER = OpSpec(
    "GATHER", _gather_reference,
    options=Options(23, "GatherOptions", (("axis", 0, "i32", 0), ("batch_dims", 1, "i32", 0))),
    min_inputs=2, check=_gather_check, classic=_gather_classic, selects=0,
    tinyml=Tinyml("mcu_op_gather", "gather.c"),
    kernels=("mcu_gather_s8",),
)

SPECS = (TRANSPOSE, SPLIT, SPLIT_V, SLICE, GATHER)
