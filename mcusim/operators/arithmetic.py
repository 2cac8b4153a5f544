"""Elementwise arithmetic of two int8 tensors with numpy-style broadcasting (ADD, MUL, SUB,
SQUARED_DIFFERENCE, MAXIMUM, MINIMUM) and the unary RSQRT and float NEG: with MEAN, what a
converted LayerNormalization is made of (MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, MUL, SUB; Keras's
own layer negates its mean in float, between a DEQUANTIZE and a QUANTIZE).

The shared pieces are public for every binary operator of this family: :func:`check_binary`
(types and the broadcast shape), :func:`binary_step` (the classic emitter of a broadcasting
``kernel(ctx, [&params,] &a_dims, a, &b_dims, b, &out_dims, out)`` call) and
:func:`cmsis_nn_binary_refusal` (why a CMSIS-NN ``arm_elementwise_*_s8``/``_s16`` cannot take the op).
ADD, SUB and SQUARED_DIFFERENCE share TFLM's ``ArithmeticParams`` rescaling (:class:`AddParams`,
both inputs moved to twice the larger input scale with a left-shift headroom; the C record
``mcu_add_params``); they differ in how TFLM computes the multipliers (see each ``prepare_*``)
and in what is done with the two rescaled values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, check_pointwise, check_same_type, must, require
from ..stacks.classic.cgen import Step, activation, dims4, dims_c
from ..stacks.cmsisnn import COMPONENT
from . import OpSpec, Options, Tinyml, Values
from ._common import (
    I8_MAX,
    I8_MIN,
    activation_range,
    i64,
    inp,
    out,
    qparams,
    to_i8,
    value,
)


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


def check_binary16(graph: Graph, op: Op) -> None:
    """:func:`check_binary`, int16 (16x8 mode, zero point 0) allowed as well: every input and
    the output of one type."""
    check_broadcast(graph, op)
    for pos in range(len(op.inputs)):
        check_activation_tensor(must(graph, op, pos), op, f"input {pos}", int16=True)
    check_activation_tensor(graph.tensors[op.outputs[0]], op, "output", int16=True)
    check_same_type(graph, op, inputs=2)


def binary_step(gen: Any, op: Op, kernel: str, ptype: str | None, fields: list[str], act: tuple[int, int],
                extra: list[str] | None = None) -> Step:
    """The classic call of a broadcasting binary kernel:
    ``kernel(ctx, &params, &a_dims, a, &b_dims, b, &out_dims, out)`` (no ``&params`` when
    ``ptype`` is None); ``extra``: the layer comment (default: the broadcast and the clamp)."""
    a, b = gen.data(op, 0, "a"), gen.data(op, 1, "b")
    o = gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"
    decls = ([f"static const {ptype} params = {{{', '.join(fields)}}};"] if ptype else []) + \
        [f"static const mcu_dims a_dims = {dims_c(dims4(gen.t[a].shape, where))}, "
         f"b_dims = {dims_c(dims4(gen.t[b].shape, where))}, "
         f"out_dims = {dims_c(dims4(o.shape, where))};"]
    extra = extra or [f"elementwise with broadcasting, fused activation {activation(op)} -> clamp "
                      f"[{act[0]}, {act[1]}]"]
    params = "&params, " if ptype else ""

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = {kernel}({ctx}, {params}&a_dims, {ptr(a)}, &b_dims, {ptr(b)}, &out_dims, {ptr(o.index)});"]

    return Step(op, [a, b], o.index, extra, decls, render, kernel)


def cmsis_nn_binary_refusal(gen: Any, op: Op) -> str | None:
    """Why CMSIS-NN's arm_elementwise_<op>_s8 (16x8 mode: _s16) cannot take ``op`` (None: it can)."""
    a_t, b_t, o = gen.t[op.inputs[0]], gen.t[op.inputs[1]], gen.t[op.outputs[0]]
    suffix = "s16" if o.dtype == "INT16" else "s8"
    if not a_t.dtype == b_t.dtype == o.dtype:
        return f"inputs {a_t.dtype} and {b_t.dtype}, output {o.dtype}"
    if not (a_t.size == b_t.size == o.size):
        return (f"broadcast {list(a_t.shape)} x {list(b_t.shape)}: arm_elementwise_{op.type.lower()}_{suffix} "
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
    """TFLM ``ArithmeticParams`` of ADD (left shift 20), SUB (20) and SQUARED_DIFFERENCE (7):
    ``a_i = MBQM((x_i + offset_i) << left_shift, m_i, s_i)``, both inputs on twice the larger
    input scale; the C record ``mcu_add_params``."""

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

    def fields(self) -> list[str]:
        """The ``mcu_add_params`` initializer fields."""
        return [f".input1_offset = {self.input1_offset}", f".input2_offset = {self.input2_offset}",
                f".left_shift = {self.left_shift}",
                f".input1_multiplier = {self.input1_multiplier}", f".input1_shift = {self.input1_shift}",
                f".input2_multiplier = {self.input2_multiplier}", f".input2_shift = {self.input2_shift}",
                f".output_multiplier = {self.output_multiplier}", f".output_shift = {self.output_shift}",
                f".output_offset = {self.output_offset}", f".activation = {{{self.act_min}, {self.act_max}}}"]

    def rescaled(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both inputs on the common scale (numpy broadcasting)."""
        x1 = q.wrap_int32((i64(a) + self.input1_offset) << self.left_shift)
        x2 = q.wrap_int32((i64(b) + self.input2_offset) << self.left_shift)
        return (q.multiply_by_quantized_multiplier_smaller_than_one_exp(x1, self.input1_multiplier, self.input1_shift),
                q.multiply_by_quantized_multiplier_smaller_than_one_exp(x2, self.input2_multiplier, self.input2_shift))


def prepare_add(graph: Graph, op: Op) -> AddParams:
    """Host-side parameters of ADD: left shift 20 for int8, 15 for int16 (16x8 mode). TFLM
    runs int16 ADD through this general rescaling whatever the option ``pot_scale_int16`` says
    (add.cc passes ``pot_scale = false``): power-of-two scales take it too."""
    a, b, o = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    (sa, za), (sb, zb), (so, zo) = qparams(a), qparams(b), qparams(o)
    left_shift = 15 if o.dtype == "INT16" else 20
    twice_max = 2.0 * max(sa, sb)
    m1, s1 = q.quantize_multiplier(sa / twice_max)
    m2, s2 = q.quantize_multiplier(sb / twice_max)
    mo, so_ = q.quantize_multiplier(twice_max / ((1 << left_shift) * so))
    return AddParams(-za, -zb, left_shift, m1, s1, m2, s2, mo, so_, zo, *activation_range(op, o))


def add(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """ADD with numpy broadcasting; int8 in, int8 out, or int16 (16x8 mode: the same
    arithmetic, left shift 15) in and out."""
    s1, s2 = p.rescaled(a, b)
    raw = q.multiply_by_quantized_multiplier_smaller_than_one_exp(
        q.wrap_int32(s1 + s2), p.output_multiplier, p.output_shift) + p.output_offset
    return np.clip(raw, p.act_min, p.act_max).astype(np.asarray(a).dtype)


def _add_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return add(value(values, graph, op, 0), value(values, graph, op, 1), prepare_add(graph, op))


def _add_classic(gen: Any, op: Op) -> Step:
    p = prepare_add(gen.g, op)
    kernel = "mcu_add_s16" if _int16(gen, op) else "mcu_add_s8"
    return binary_step(gen, op, kernel, "mcu_add_params", p.fields(), (p.act_min, p.act_max))


def _int16(gen: Any, op: Op) -> bool:
    """The op runs in 16x8 mode (int16 activations)."""
    return bool(gen.t[op.outputs[0]].dtype == "INT16")


def _add_cmsis_nn(gen: Any, op: Op) -> Any:
    why = cmsis_nn_binary_refusal(gen, op)
    if why:
        return why
    p = prepare_add(gen.g, op)
    args = (f"{p.input1_offset}, {p.input1_multiplier}, {p.input1_shift}, {p.input2_offset}, "
            f"{p.input2_multiplier}, {p.input2_shift}, {p.left_shift}")
    tail = (f"{p.output_offset}, {p.output_multiplier}, {p.output_shift}, {p.act_min}, {p.act_max}, "
            f"{gen.t[op.outputs[0]].size}")
    kernel = "arm_elementwise_add_s16" if _int16(gen, op) else "arm_elementwise_add_s8"  # the same arguments
    return cmsis_nn_binary_step(gen, op, kernel, args, tail, (p.act_min, p.act_max))


ADD = OpSpec(
    "ADD", _add_reference,
    options=Options(11, "AddOptions", (("fused_activation_function", 0, "activation", "NONE"),
                                       ("pot_scale_int16", 1, "bool", True))),
    min_inputs=2,
    check=check_binary16,
    classic=_add_classic,
    cmsis_nn=_add_cmsis_nn,
    tinyml=Tinyml("mcu_op_add", "add.c"),
    kernels=("mcu_add_s8", "mcu_add_s16"),
    int16_paths=("classic", "tinyml", "cmsis-nn"),
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
    kernel = "mcu_mul_s16" if _int16(gen, op) else "mcu_mul_s8"
    return binary_step(gen, op, kernel, "mcu_mul_params", fields, (p.act_min, p.act_max))


def _mul_cmsis_nn(gen: Any, op: Op) -> Any:
    why = cmsis_nn_binary_refusal(gen, op)
    if why:
        return why
    p = prepare_mul(gen.g, op)
    args = f"{p.input1_offset}, {p.input2_offset}"
    tail = (f"{p.output_offset}, {p.output_multiplier}, {p.output_shift}, {p.act_min}, {p.act_max}, "
            f"{gen.t[op.outputs[0]].size}")
    kernel = "arm_elementwise_mul_s16" if _int16(gen, op) else "arm_elementwise_mul_s8"  # the same arguments
    return cmsis_nn_binary_step(gen, op, kernel, args, tail, (p.act_min, p.act_max))


MUL = OpSpec(
    "MUL", _mul_reference,
    options=Options(21, "MulOptions", (("fused_activation_function", 0, "activation", "NONE"),)),
    min_inputs=2,
    check=check_binary16,
    classic=_mul_classic,
    cmsis_nn=_mul_cmsis_nn,
    tinyml=Tinyml("mcu_op_mul", "mul.c"),
    kernels=("mcu_mul_s8", "mcu_mul_s16"),
    int16_paths=("classic", "tinyml", "cmsis-nn"),
)


def _shapes(gen: Any, op: Op) -> str:
    a, b = gen.t[op.inputs[0]].shape, gen.t[op.inputs[1]].shape
    return "elementwise" if a == b else f"broadcast {list(a)} x {list(b)}"


# --- SUB -------------------------------------------------------------------------------------
def prepare_sub(graph: Graph, op: Op) -> AddParams:
    """TFLM int8 SUB: ADD's parameters (left shift 20), but the real multipliers are computed
    in float32 (``input_scale / twice_max`` and ``twice_max / (2^20 * output_scale)`` are float
    divisions in sub_common.cc, double ones in add_common.cc), then widened to double."""
    a, b, o = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    sa, sb, so = np.float32(a.scale[0]), np.float32(b.scale[0]), np.float32(o.scale[0])
    left_shift = 20
    twice_max = np.float32(2) * max(sa, sb)
    m1, s1 = q.quantize_multiplier(float(sa / twice_max))
    m2, s2 = q.quantize_multiplier(float(sb / twice_max))
    mo, s_o = q.quantize_multiplier(float(twice_max / (np.float32(1 << left_shift) * so)))
    return AddParams(-int(a.zero_point[0]), -int(b.zero_point[0]), left_shift, m1, s1, m2, s2, mo, s_o,
                         int(o.zero_point[0]), *activation_range(op, o))


def sub(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """int8 SUB with numpy broadcasting (reference_ops::Sub / BroadcastQuantSubSlow)."""
    s1, s2 = p.rescaled(a, b)
    raw = q.multiply_by_quantized_multiplier_smaller_than_one_exp(
        q.wrap_int32(s1 - s2), p.output_multiplier, p.output_shift) + p.output_offset
    return to_i8(np.clip(raw, p.act_min, p.act_max))


def _sub_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return sub(value(values, graph, op, 0), value(values, graph, op, 1), prepare_sub(graph, op))


def _sub_classic(gen: Any, op: Op) -> Any:
    p = prepare_sub(gen.g, op)
    act = op.options.get("fused_activation_function", "NONE")
    return binary_step(gen, op, "mcu_sub_s8", "mcu_add_params", p.fields(), (p.act_min, p.act_max),
                       [f"{_shapes(gen, op)} a - b on a common scale (left shift {p.left_shift}, float32 "
                        f"multipliers as TFLM's SUB), fused activation {act} -> clamp [{p.act_min}, {p.act_max}]"])


SUB = OpSpec(
    "SUB", _sub_reference,
    options=Options(28, "SubOptions", (("fused_activation_function", 0, "activation", "NONE"),
                                       ("pot_scale_int16", 1, "bool", True))),
    min_inputs=2,
    check=check_binary,
    classic=_sub_classic,
    tinyml=Tinyml("mcu_op_sub", "sub.c"),
    kernels=("mcu_sub_s8",),
)


# --- SQUARED_DIFFERENCE ----------------------------------------------------------------------
def prepare_squared_difference(graph: Graph, op: Op) -> AddParams:
    """TFLM int8 SQUARED_DIFFERENCE (squared_difference.cc): left shift 7, the multipliers in
    double; the output multiplier twice_max^2 / (2^14 * output_scale) may exceed 1
    (QuantizeMultiplier, not the smaller-than-one form); no fused activation: [-128, 127]."""
    a, b, o = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    sa, sb = float(np.float32(a.scale[0])), float(np.float32(b.scale[0]))
    left_shift = 7
    twice_max = 2.0 * max(sa, sb)
    m1, s1 = q.quantize_multiplier(sa / twice_max)
    m2, s2 = q.quantize_multiplier(sb / twice_max)
    denominator = float(np.float32(1 << (2 * left_shift)) * np.float32(o.scale[0]))  # int * float in C++
    mo, s_o = q.quantize_multiplier(twice_max * twice_max / denominator)
    return AddParams(-int(a.zero_point[0]), -int(b.zero_point[0]), left_shift, m1, s1, m2, s2, mo, s_o,
                         int(o.zero_point[0]), I8_MIN, I8_MAX)


def squared_difference(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """int8 (a - b)^2 with numpy broadcasting; the squared difference of the rescaled values
    (|d| < 2^15) is an int32, requantized by TFLM's MultiplyByQuantizedMultiplier."""
    s1, s2 = p.rescaled(a, b)
    d = s1 - s2
    raw = q.multiply_by_quantized_multiplier(q.wrap_int32(d * d), p.output_multiplier, p.output_shift) \
        + p.output_offset
    return to_i8(np.clip(raw, p.act_min, p.act_max))


def _squared_difference_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return squared_difference(value(values, graph, op, 0), value(values, graph, op, 1),
                              prepare_squared_difference(graph, op))


def _squared_difference_classic(gen: Any, op: Op) -> Any:
    p = prepare_squared_difference(gen.g, op)
    return binary_step(gen, op, "mcu_squared_difference_s8", "mcu_add_params", p.fields(), (p.act_min, p.act_max),
                       [f"{_shapes(gen, op)} (a - b)^2 on a common scale (left shift {p.left_shift}), "
                        f"output multiplier {p.output_multiplier} shift {p.output_shift}"])


SQUARED_DIFFERENCE = OpSpec(
    "SQUARED_DIFFERENCE", _squared_difference_reference,
    options=Options(76, "SquaredDifferenceOptions"),
    min_inputs=2,
    check=check_binary,
    classic=_squared_difference_classic,
    tinyml=Tinyml("mcu_op_squared_difference", "squared_difference.c"),
    kernels=("mcu_squared_difference_s8",),
)


# --- MAXIMUM, MINIMUM ------------------------------------------------------------------------
# TFLM int8 MAXIMUM/MINIMUM compare the raw int8 values with broadcasting; the tensors'
# quantization is not read (the converter gives inputs and output one scale).
def _maximum_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return to_i8(np.maximum(value(values, graph, op, 0), value(values, graph, op, 1)))


def _minimum_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return to_i8(np.minimum(value(values, graph, op, 0), value(values, graph, op, 1)))


def _extremum_note(gen: Any, op: Op) -> list[str]:
    return [f"{_shapes(gen, op)} {op.type.lower()} of the raw int8 values (TFLM reads no quantization)"]


def _maximum_classic(gen: Any, op: Op) -> Any:
    return binary_step(gen, op, "mcu_maximum_s8", None, [], (-128, 127), _extremum_note(gen, op))


def _minimum_classic(gen: Any, op: Op) -> Any:
    return binary_step(gen, op, "mcu_minimum_s8", None, [], (-128, 127), _extremum_note(gen, op))


def _maximum_cmsis_nn(gen: Any, op: Op) -> Any:
    return _extremum_cmsis_nn(gen, op, "arm_maximum_s8")


def _minimum_cmsis_nn(gen: Any, op: Op) -> Any:
    return _extremum_cmsis_nn(gen, op, "arm_minimum_s8")


def _extremum_cmsis_nn(gen: Any, op: Op, kernel: str) -> Any:
    """arm_maximum_s8 / arm_minimum_s8 as TFLM's cmsis_nn/maximum_minimum.cc calls them: NHWC
    dims of each input padded to rank 4 (the function broadcasts), no scratch."""
    a, b = gen.data(op, 0, "a"), gen.data(op, 1, "b")
    o = gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"

    def dims(shape: tuple[int, ...]) -> str:
        n, h, w, c = dims4(shape, where)
        return f"{{.n = {n}, .h = {h}, .w = {w}, .c = {c}}}"

    decls = [f"static const cmsis_nn_dims a_dims = {dims(gen.t[a].shape)}, b_dims = {dims(gen.t[b].shape)}, "
             f"out_dims = {dims(o.shape)};"]
    extra = [f"{_shapes(gen, op)} {op.type.lower()} of the raw int8 values", f"CMSIS-NN {kernel}"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return ["{ const cmsis_nn_context none = {0, 0};",
                f"  st = (mcu_status){kernel}(&none, {ptr(a)}, &a_dims, {ptr(b)}, &b_dims, {ptr(o.index)}, "
                "&out_dims); }"]

    return Step(op, [a, b], o.index, extra, decls, render, kernel, library=COMPONENT)


MAXIMUM = OpSpec("MAXIMUM", _maximum_reference, options=Options(39, "MaximumMinimumOptions"), min_inputs=2,
                 check=check_binary, classic=_maximum_classic, cmsis_nn=_maximum_cmsis_nn,
                 tinyml=Tinyml("mcu_op_maximum", "maximum_minimum.c"), kernels=("mcu_maximum_s8",))
MINIMUM = OpSpec("MINIMUM", _minimum_reference, options=Options(39, "MaximumMinimumOptions"), min_inputs=2,
                 check=check_binary, classic=_minimum_classic, cmsis_nn=_minimum_cmsis_nn,
                 tinyml=Tinyml("mcu_op_minimum", "maximum_minimum.c"), kernels=("mcu_minimum_s8",))


# --- RSQRT -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RsqrtParams:
    """TFLM int8 RSQRT (elementwise.cc): the input's zero point, the output's, and
    QuantizeMultiplier(1 / (sqrt(input_scale) * output_scale)), sqrt and product in float32."""

    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


RSQRT_SHIFT = 20
"""TFLM's kShift: 1/sqrt(v) is taken as an integer times 2^20 between the two multiplies."""


def prepare_rsqrt(graph: Graph, op: Op) -> RsqrtParams:
    x, y = inp(graph, op, 0), out(graph, op)
    sx, so = np.float32(x.scale[0]), np.float32(y.scale[0])
    m, s = q.quantize_multiplier(1.0 / float(np.sqrt(sx) * so))
    return RsqrtParams(int(x.zero_point[0]), int(y.zero_point[0]), m, s)


def inv_sqrt_multiplier_exp(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLM ``GetInvSqrtQuantizedMultiplierExp(v, kReverseShift)`` for int32 v >= 0: 1/sqrt(v)
    as (Q31 multiplier, left shift), by gemmlowp fixed point (five Newton-Raphson steps from 1
    on v normalized to [2^27, 2^29) in Q3.28). v <= 1 gives (INT32_MAX, 0)."""
    v = i64(v)
    small = v <= 1
    x_in = np.where(small, 2, v)
    shift = np.full(x_in.shape, 11, np.int64)
    while np.any(x_in >= 1 << 29):
        big = x_in >= 1 << 29
        x_in = np.where(big, x_in // 4, x_in)
        shift += big
    pairs = (q.count_leading_zeros_u32(x_in) - 1) // 2 - 1
    shift = shift - pairs
    x_in = x_in << (2 * pairs)
    f3_in = x_in >> 1
    half_in = q.saturating_rounding_multiply_by_pot(f3_in, -1)
    half_three = (1 << 28) + (1 << 27)
    x = np.full(x_in.shape, 1 << 28, np.int64)  # F3 one
    mul = q.saturating_rounding_doubling_high_mul
    for _ in range(5):
        x3 = q.rescale(mul(mul(x, x), x), 9, 3)
        x = q.rescale(q.wrap_int32(mul(half_three, x) - mul(half_in, x3)), 6, 3)
    x = mul(x, 1518500250)  # sqrt(2) / 2 in Q0.31
    x = np.where(shift < 0, q.wrap_int32(x << np.maximum(-shift, 0)), x)
    shift = np.maximum(shift, 0)
    return np.where(small, 2**31 - 1, x), np.where(small, 0, -shift)


def rsqrt(x: np.ndarray, p: RsqrtParams) -> np.ndarray:
    """int8 1/sqrt(x): TFLM computes per value v = x - zero point (v < 0 fails the invoke,
    v == 0 gives 127) data = MBQM(1, inv_sqrt(v), shift + 20), then MBQM(data, multiplier,
    shift - 20) + output zero point. Only 256 inputs exist: evaluated once per distinct value."""
    v = i64(x) - p.input_zero_point
    if np.any(v < 0):
        raise ModelError(f"RSQRT of a value below the input's zero point {p.input_zero_point} "
                         "(a negative number): TFLM fails the invoke (\"Rsqrt is only defined for "
                         "positive values\")")
    table_v = np.arange(256, dtype=np.int64)
    m, s = inv_sqrt_multiplier_exp(table_v)
    data = q.multiply_by_quantized_multiplier(np.ones_like(table_v), m, s + RSQRT_SHIFT)
    y = q.multiply_by_quantized_multiplier(data, p.multiplier, p.shift - RSQRT_SHIFT) + p.output_zero_point
    table = np.where(table_v == 0, I8_MAX, np.clip(y, I8_MIN, I8_MAX))
    return to_i8(table[v])


def _rsqrt_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return rsqrt(value(values, graph, op, 0), prepare_rsqrt(graph, op))


def _rsqrt_classic(gen: Any, op: Op) -> Any:
    p = prepare_rsqrt(gen.g, op)
    return gen.unary(op, "mcu_rsqrt_s8", "mcu_rsqrt_params",
                     [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                      f".multiplier = {p.multiplier}", f".shift = {p.shift}"],
                     [f"1/sqrt(x - {p.input_zero_point}) by TFLM's fixed-point Newton iteration, multiplier "
                      f"{p.multiplier} shift {p.shift}; a value below the zero point fails (MCU_ERR_ARG)"])


RSQRT = OpSpec(
    "RSQRT", _rsqrt_reference,
    check=check_pointwise,
    classic=_rsqrt_classic,
    tinyml=Tinyml("mcu_op_rsqrt", "rsqrt.c"),
    kernels=("mcu_rsqrt_s8",),
)


# --- NEG (float32) ---------------------------------------------------------------------------
def _check_neg(graph: Graph, op: Op) -> None:
    """TFLM's NEG runs float32 only (Keras's LayerNormalization negates its mean so, between a
    DEQUANTIZE and a QUANTIZE)."""
    x, y = must(graph, op, 0), out(graph, op)
    require(x, op, "input", ("FLOAT32",))
    require(y, op, "output", ("FLOAT32",))
    if x.shape != y.shape:
        raise ModelError(f"op {op.index} ({op.type}) input and output shapes differ")


def _neg_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return np.negative(np.asarray(value(values, graph, op, 0), np.float32))


def _neg_classic(gen: Any, op: Op) -> Any:
    x = gen.data(op, 0, "input")
    o = gen.t[op.outputs[0]]
    decls = [f"static const mcu_dims dims = {dims_c((1, 1, 1, o.size))};"]

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        return [f"st = mcu_neg_f32({ctx}, &dims, (const float *){ptr(x)}, (float *){ptr(o.index)});"]

    return Step(op, [x], o.index, ["float32 -x (the sign bit flipped)"], decls, render, "mcu_neg_f32")


NEG = OpSpec(
    "NEG", _neg_reference,
    options=Options(42, "NegOptions"),
    check=_check_neg,
    classic=_neg_classic,
    tinyml=Tinyml("mcu_op_neg", "neg.c"),
    kernels=("mcu_neg_f32",),
)

SPECS = (ADD, MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, RSQRT, NEG)
