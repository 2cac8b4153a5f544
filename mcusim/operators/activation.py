"""Activation functions: one int8 input, one int8 output of the same shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..frontend import quant as q
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_pointwise
from . import OpSpec, Options, Tinyml, Values
from ._common import I8_MAX, I8_MIN, i64, inp, out, to_i8, value


# --- LEAKY_RELU ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeakyReluParams:
    """TFLM int8 LEAKY_RELU: separate multipliers for x >= 0 (identity) and x < 0 (alpha)."""

    input_zero_point: int
    output_zero_point: int
    output_multiplier_identity: int
    output_shift_identity: int
    output_multiplier_alpha: int
    output_shift_alpha: int


def prepare_leaky_relu(graph: Graph, op: Op) -> LeakyReluParams:
    """Ratios computed in float32 (in_scale * alpha / out_scale), as TFLM does."""
    x, y = inp(graph, op, 0), out(graph, op)
    sx, so = np.float32(x.scale[0]), np.float32(y.scale[0])
    alpha = np.float32(op.options.get("alpha", 0.0))
    ma, sa = q.quantize_multiplier(float(sx * alpha / so))
    mi, si = q.quantize_multiplier(float(sx / so))
    return LeakyReluParams(int(x.zero_point[0]), int(y.zero_point[0]), mi, si, ma, sa)


def leaky_relu(x: np.ndarray, p: LeakyReluParams) -> np.ndarray:
    """int8 leaky ReLU."""
    v = i64(x) - p.input_zero_point
    pos = q.multiply_by_quantized_multiplier(v, p.output_multiplier_identity, p.output_shift_identity)
    neg = q.multiply_by_quantized_multiplier(v, p.output_multiplier_alpha, p.output_shift_alpha)
    return to_i8(np.clip(np.where(v >= 0, pos, neg) + p.output_zero_point, I8_MIN, I8_MAX))


def _leaky_relu_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    return leaky_relu(value(values, graph, op, 0), prepare_leaky_relu(graph, op))


def _leaky_relu_classic(gen: Any, op: Op) -> Any:
    p = prepare_leaky_relu(gen.g, op)
    return gen.unary(op, "mcu_leaky_relu_s8", "mcu_leaky_relu_params",
                     [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                      f".identity_multiplier = {p.output_multiplier_identity}",
                      f".identity_shift = {p.output_shift_identity}",
                      f".alpha_multiplier = {p.output_multiplier_alpha}",
                      f".alpha_shift = {p.output_shift_alpha}"],
                     [f"alpha {float(op.options.get('alpha', 0.0)):g}"])


LEAKY_RELU = OpSpec(
    "LEAKY_RELU", _leaky_relu_reference,
    options=Options(75, "LeakyReluOptions", (("alpha", 0, "f32", 0.0),)),
    check=check_pointwise,
    classic=_leaky_relu_classic,
    tinyml=Tinyml("mcu_op_leaky_relu", "leaky_relu.c"),
    kernels=("mcu_leaky_relu_s8",),
)

SPECS = (LEAKY_RELU,)
