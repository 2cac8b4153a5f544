"""Elementwise arithmetic of two int8 tensors with numpy-style broadcasting (ADD, MUL).

The shared pieces are public for every binary operator of this family: :func:`check_binary`
(types and the broadcast shape), :func:`binary_step` (the classic emitter of a broadcasting
``kernel(ctx, &params, &a_dims, a, &b_dims, b, &out_dims, out)`` call) and
:func:`cmsis_nn_binary_refusal` (why a CMSIS-NN ``arm_elementwise_*_s8`` cannot take the op).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, check_same_type, must
from ..stacks.classic.cgen import Step, activation, dims4, dims_c
from ..stacks.cmsisnn import COMPONENT
from . import OpSpec, Options, Tinyml, Values
from ._common import activation_range, i64, inp, out, qparams, to_i8, value


# --- shared by the binary ops ----------------------------------------------------------------
def check_broadcast(graph: Graph, op: Op) -> None:
    """Inputs 0 and 1 broadcast (numpy rules) to exactly the output's shape."""
    where = f"op {op.index} ({op.type})"
    a, b = must(graph, op, 0).shape, must(graph, op, 1).shape
    try:
        broadcast = np.broadcast_shapes(a, b)
    except ValueError:
        raise ModelError(f"{where} cannot broadcast {list(a)} with {list(b)}") from None
    if tuple(broadcast) != graph.tensors[op.outputs[0]].shape:
        raise ModelError(f"{where} output shape {list(graph.tensors[op.outputs[0]].shape)} is not the broadcast of "
                         f"{list(a)} and {list(b)}")


def check_binary(graph: Graph, op: Op) -> None:
    """A broadcasting op over int8 tensors: the broadcast shape, then every input and the
    output int8, per-tensor."""
    check_broadcast(graph, op)
    for pos in range(len(op.inputs)):
        check_activation_tensor(must(graph, op, pos), op, f"input {pos}")
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output")


def _check_mul(graph: Graph, op: Op) -> None:
    """:func:`check_binary`, int16 (16x8 mode, zero point 0) allowed as well."""
    check_broadcast(graph, op)
    for pos in range(len(op.inputs)):
        check_activation_tensor(must(graph, op, pos), op, f"input {pos}", int16=True)
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output", int16=True)
    check_same_type(graph, op, inputs=2)


def binary_step(gen: Any, op: Op, kernel: str, ptype: str, fields: list[str], act: tuple[int, int]) -> Step:
    """The classic call of a broadcasting binary kernel:
    ``kernel(ctx, &params, &a_dims, a, &b_dims, b, &out_dims, out)``."""
    a, b = gen.data(op, 0, "a"), gen.data(op, 1, "b")
    o = gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"
    decls = [f"static const {ptype} params = {{{', '.join(fields)}}};",
             f"static const mcu_dims a_dims = {dims_c(dims4(gen.t[a].shape, where))}, "
             f"b_dims = {dims_c(dims4(gen.t[b].shape, where))}, "
             f"out_dims = {dims_c(dims4(o.shape, where))};"]
    extra = [f"elementwise with broadcasting, fused activation {activation(op)} -> clamp [{act[0]}, {act[1]}]"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = {kernel}({ctx}, &params, &a_dims, {ptr(a)}, &b_dims, {ptr(b)}, &out_dims, {ptr(o.index)});"]

    return Step(op, [a, b], o.index, extra, decls, render, kernel)


def cmsis_nn_binary_refusal(gen: Any, op: Op) -> str | None:
    """Why CMSIS-NN's arm_elementwise_<op>_s8 cannot take ``op`` (None: it can)."""
    a_t, b_t, o = gen.t[op.inputs[0]], gen.t[op.inputs[1]], gen.t[op.outputs[0]]
    if b_t.dtype != "INT8":
        return f"input 2 is {b_t.dtype}"
    if not (a_t.size == b_t.size == o.size):
        return (f"broadcast {list(a_t.shape)} x {list(b_t.shape)}: arm_elementwise_{op.type.lower()}_s8 "
                "takes equal shapes (TFLM runs its reference broadcast here too)")
    return None


def cmsis_nn_binary_step(gen: Any, op: Op, kernel: str, args: str, tail: str, act: tuple[int, int]) -> Step:
    """``st = kernel(a, b, args, out, tail)``: CMSIS-NN's elementwise call."""
    a, b = gen.data(op, 0, "a"), gen.data(op, 1, "b")
    o = gen.t[op.outputs[0]]
    extra = [f"elementwise over {o.size} values, fused activation {activation(op)} -> clamp "
             f"[{act[0]}, {act[1]}]", f"CMSIS-NN {kernel}"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = (mcu_status){kernel}({ptr(a)}, {ptr(b)}, {args}, {ptr(o.index)}, {tail});"]

    return Step(op, [a, b], o.index, extra, [], render, kernel, library=COMPONENT)


# --- ADD -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddParams:
    """TFLM int8 ADD: both inputs scaled to 2^20 times twice the larger input scale."""

    input1_offset: int
    input2_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int
    act_max: int


def prepare_add(graph: Graph, op: Op) -> AddParams:
    """Host-side parameters of int8 ADD (left shift 20)."""
    a, b, o = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    (sa, za), (sb, zb), (so, zo) = qparams(a), qparams(b), qparams(o)
    left_shift = 20
    twice_max = 2.0 * max(sa, sb)
    m1, s1 = q.quantize_multiplier(sa / twice_max)
    m2, s2 = q.quantize_multiplier(sb / twice_max)
    mo, so_ = q.quantize_multiplier(twice_max / ((1 << left_shift) * so))
    return AddParams(-za, -zb, left_shift, m1, s1, m2, s2, mo, so_, zo, *activation_range(op, o))


def add(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """int8 ADD with numpy broadcasting; returns int8."""
    x1 = q.wrap_int32((i64(a) + p.input1_offset) << p.left_shift)
    x2 = q.wrap_int32((i64(b) + p.input2_offset) << p.left_shift)
    s1 = q.multiply_by_quantized_multiplier_smaller_than_one_exp(x1, p.input1_multiplier, p.input1_shift)
    s2 = q.multiply_by_quantized_multiplier_smaller_than_one_exp(x2, p.input2_multiplier, p.input2_shift)
    raw = q.multiply_by_quantized_multiplier_smaller_than_one_exp(
        q.wrap_int32(s1 + s2), p.output_multiplier, p.output_shift) + p.output_offset
    return to_i8(np.clip(raw, p.act_min, p.act_max))


def _add_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return add(value(values, graph, op, 0), value(values, graph, op, 1), prepare_add(graph, op))


def _add_classic(gen: Any, op: Op) -> Step:
    p = prepare_add(gen.g, op)
    fields = [f".input1_offset = {p.input1_offset}", f".input2_offset = {p.input2_offset}",
              f".left_shift = {p.left_shift}",
              f".input1_multiplier = {p.input1_multiplier}", f".input1_shift = {p.input1_shift}",
              f".input2_multiplier = {p.input2_multiplier}", f".input2_shift = {p.input2_shift}",
              f".output_multiplier = {p.output_multiplier}", f".output_shift = {p.output_shift}",
              f".output_offset = {p.output_offset}", f".activation = {{{p.act_min}, {p.act_max}}}"]
    return binary_step(gen, op, "mcu_add_s8", "mcu_add_params", fields, (p.act_min, p.act_max))


def _add_cmsis_nn(gen: Any, op: Op) -> Any:
    why = cmsis_nn_binary_refusal(gen, op)
    if why:
        return why
    p = prepare_add(gen.g, op)
    args = (f"{p.input1_offset}, {p.input1_multiplier}, {p.input1_shift}, {p.input2_offset}, "
            f"{p.input2_multiplier}, {p.input2_shift}, {p.left_shift}")
    tail = (f"{p.output_offset}, {p.output_multiplier}, {p.output_shift}, {p.act_min}, {p.act_max}, "
            f"{gen.t[op.outputs[0]].size}")
    return cmsis_nn_binary_step(gen, op, "arm_elementwise_add_s8", args, tail, (p.act_min, p.act_max))


ADD = OpSpec(
    "ADD", _add_reference,
    options=Options(11, "AddOptions", (("fused_activation_function", 0, "activation", "NONE"),
                                       ("pot_scale_int16", 1, "bool", True))),
    min_inputs=2,
    check=check_binary,
    classic=_add_classic,
    cmsis_nn=_add_cmsis_nn,
    tinyml=Tinyml("mcu_op_add", "add.c"),
    kernels=("mcu_add_s8",),
)


# --- MUL -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MulParams:
    """TFLM int8 MUL: one multiplier for in1_scale * in2_scale / out_scale."""

    input1_offset: int
    input2_offset: int
    output_multiplier: int
    output_shift: int
    output_offset: int
    act_min: int
    act_max: int


def prepare_mul(graph: Graph, op: Op) -> MulParams:
    """Host-side parameters of int8 MUL."""
    a, b, o = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    (sa, za), (sb, zb), (so, zo) = qparams(a), qparams(b), qparams(o)
    m, s = q.quantize_multiplier(sa * sb / so)
    return MulParams(-za, -zb, m, s, zo, *activation_range(op, o))


def mul(a: np.ndarray, b: np.ndarray, p: MulParams) -> np.ndarray:
    """int8 MUL with numpy broadcasting; returns int8. int16 inputs (16x8 mode) take the same
    arithmetic (the product of two int16 values fits int32) and give int16."""
    prod = (i64(a) + p.input1_offset) * (i64(b) + p.input2_offset)
    raw = q.multiply_by_quantized_multiplier(prod, p.output_multiplier, p.output_shift) + p.output_offset
    return np.clip(raw, p.act_min, p.act_max).astype(np.asarray(a).dtype)


def _mul_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return mul(value(values, graph, op, 0), value(values, graph, op, 1), prepare_mul(graph, op))


def _mul_classic(gen: Any, op: Op) -> Step:
    p = prepare_mul(gen.g, op)
    fields = [f".input1_offset = {p.input1_offset}", f".input2_offset = {p.input2_offset}",
              f".output_multiplier = {p.output_multiplier}", f".output_shift = {p.output_shift}",
              f".output_offset = {p.output_offset}", f".activation = {{{p.act_min}, {p.act_max}}}"]
    return binary_step(gen, op, "mcu_mul_s8", "mcu_mul_params", fields, (p.act_min, p.act_max))


def _mul_cmsis_nn(gen: Any, op: Op) -> Any:
    why = cmsis_nn_binary_refusal(gen, op)
    if why:
        return why
    p = prepare_mul(gen.g, op)
    args = f"{p.input1_offset}, {p.input2_offset}"
    tail = (f"{p.output_offset}, {p.output_multiplier}, {p.output_shift}, {p.act_min}, {p.act_max}, "
            f"{gen.t[op.outputs[0]].size}")
    return cmsis_nn_binary_step(gen, op, "arm_elementwise_mul_s8", args, tail, (p.act_min, p.act_max))


MUL = OpSpec(
    "MUL", _mul_reference,
    options=Options(21, "MulOptions", (("fused_activation_function", 0, "activation", "NONE"),)),
    min_inputs=2,
    check=_check_mul,
    classic=_mul_classic,
    cmsis_nn=_mul_cmsis_nn,
    tinyml=Tinyml("mcu_op_mul", "mul.c"),
    kernels=("mcu_mul_s8",),
)

SPECS = (ADD, MUL)
