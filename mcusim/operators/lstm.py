"""Recurrent operators: UNIDIRECTIONAL_SEQUENCE_LSTM, integer, as the TensorFlow converter emits it.

A Keras ``LSTM`` under full-integer quantization becomes one fused op with int8 input, output
and hidden state (a variable tensor), an int16 cell state (a variable tensor, its scale a power
of two), int8 per-tensor weights (four input-to-gate and four recurrent-to-gate matrices) and
int32 gate biases; no peepholes, projection or layer normalization. TFLite Micro's integer path
(kernels/lstm_eval.*), which this reference follows bit for bit, computes per time step

  gate_k = act_k(sat16(rq(W_xk . (x - zp_x) + b_k) + rq(W_hk . (h - zp_h))))   Q3.12 -> Q0.15

for k = input, forget, cell, output (``rq`` rescales the int32 dot product to the gate's fixed
scale 2^-12 and clamps to int16; ``act`` is the int16 sigmoid, the cell gate's is the op's
``fused_activation_function``, TANH), then

  c = sat16(rq(f * c) + rq(i * g))   (clipped to ``cell_clip`` when set)
  h = rq(tanh(c) * o) + zp_h         (int8)

and writes h to the output at that step. The state starts at zero (the hidden state's zero
point, cell 0), as TFLM's ``AllocateTensors`` resets variable tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op, Tensor
from ..frontend.validate import check_activation_tensor, require
from . import OpSpec, Options, Tinyml, Values
from ._common import i64, inp, optional_input, out, value
from .activation import logistic16, tanh16

# Input positions (TFLite's lstm_shared.h order).
INPUT = 0
INPUT_WEIGHTS = (1, 2, 3, 4)  # input-to-{input, forget, cell, output} gate weights
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLES = (9, 10, 11)
BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN_STATE = 18
CELL_STATE = 19
LAYER_NORM = (20, 21, 22, 23)
INPUTS = 24
GATES = ("input", "forget", "cell", "output")

GATE_INPUT_SCALE = 2.0 ** -12
"""Scale of every gate's pre-activation (Q3.12), fixed by TFLM."""
GATE_OUTPUT_SCALE = 2.0 ** -15
"""Scale of every gate's activation (Q0.15)."""
I16_MIN, I16_MAX = -32768, 32767


# --- int16 sigmoid and tanh ------------------------------------------------------------------
# TFLM's int16 LOGISTIC and TANH kernels (activation.py: logistic16, tanh16, over TFLite's sigmoid
# table read from the user's TFLM tree) at the gates' fixed scalings.
def sigmoid_s16(x: np.ndarray) -> np.ndarray:
    """int16 logistic of a Q3.12 input, Q0.15 output (TFLM's int16 LOGISTIC, multiplier 3 / 2^0)."""
    return logistic16(x, 3, 0)


def tanh_multiplier(input_scale_power: int) -> tuple[int, int]:
    """(multiplier, right shift) turning a Q(15+p) int16 input into the table's Q3.12-times-3
    scaling: x * 3 << (12 + p) for p >= -12, (x * 3 + round) >> -(12 + p) below."""
    left = 15 + input_scale_power - 3
    return (3, -left) if left < 0 else (3 << left, 0)


def tanh_s16(x: np.ndarray, input_scale_power: int) -> np.ndarray:
    """int16 tanh of an input of scale 2^p, Q0.15 output (TFLM's int16 TANH)."""
    return tanh16(x, *tanh_multiplier(input_scale_power))


# --- parameters --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LstmParams:
    """What the integer LSTM needs besides its tensors' data (TFLM's OpDataLSTM)."""

    batches: int
    steps: int
    input_size: int
    state_size: int
    time_major: bool
    input_zero_point: int
    hidden_zero_point: int
    input_multiplier: tuple[tuple[int, int], ...]
    """Per gate (input, forget, cell, output): input-to-gate product -> Q3.12."""
    recurrent_multiplier: tuple[tuple[int, int], ...]
    """Per gate: recurrent product -> Q3.12."""
    forget_multiplier: tuple[int, int]
    """f * c (Q0.15 x cell scale) -> cell scale."""
    input_gate_multiplier: tuple[int, int]
    """i * g (Q0.15 x Q0.15) -> cell scale."""
    hidden_multiplier: tuple[int, int]
    """tanh(c) * o (Q0.15 x Q0.15) -> hidden state scale."""
    cell_scale_power: int
    cell_clip: int
    """Quantized |cell| bound; 0: no clipping."""


def _fc_multiplier(x: Tensor, w: Tensor) -> tuple[int, int]:
    # TFLM's GetQuantizedConvolutionMultipler: the float product of the two scales, in double.
    product = float(np.float32(x.scale[0]) * np.float32(w.scale[0]))
    return q.quantize_multiplier(product / GATE_INPUT_SCALE)


def _mul_multiplier(scale1: float, scale2: float, out_scale: float) -> tuple[int, int]:
    # TFLM's CreateInterGateMulParams: the product in double.
    return q.quantize_multiplier(float(np.float32(scale1)) * float(np.float32(scale2))
                                 / float(np.float32(out_scale)))


def cell_scale_power(cell: Tensor) -> int | None:
    """log2 of the cell state's scale, or None when it is not a power of two."""
    mantissa, exponent = math.frexp(float(cell.scale[0]))
    return exponent - 1 if mantissa == 0.5 else None


def prepare_lstm(graph: Graph, op: Op) -> LstmParams:
    x = inp(graph, op, INPUT)
    hidden, cell = inp(graph, op, HIDDEN_STATE), inp(graph, op, CELL_STATE)
    time_major = bool(op.options.get("time_major", False))
    batches, steps = (x.shape[1], x.shape[0]) if time_major else (x.shape[0], x.shape[1])
    power = cell_scale_power(cell)
    assert power is not None  # checked
    cell_scale = float(cell.scale[0])
    clip = float(op.options.get("cell_clip", 0.0))
    quantized_clip = int(min(max(float(np.float32(clip)) / cell_scale, I16_MIN), I16_MAX)) if clip > 0 else 0
    return LstmParams(
        batches=batches, steps=steps, input_size=x.shape[2], state_size=hidden.shape[-1],
        time_major=time_major, input_zero_point=int(x.zero_point[0]),
        hidden_zero_point=int(hidden.zero_point[0]),
        input_multiplier=tuple(_fc_multiplier(x, inp(graph, op, p)) for p in INPUT_WEIGHTS),
        recurrent_multiplier=tuple(_fc_multiplier(hidden, inp(graph, op, p)) for p in RECURRENT_WEIGHTS),
        forget_multiplier=_mul_multiplier(GATE_OUTPUT_SCALE, cell_scale, cell_scale),
        input_gate_multiplier=_mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell_scale),
        hidden_multiplier=_mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, float(hidden.scale[0])),
        cell_scale_power=power, cell_clip=quantized_clip)


# --- reference -----------------------------------------------------------------------------------
def _rq16(acc: np.ndarray, mult: tuple[int, int]) -> np.ndarray:
    return np.clip(q.multiply_by_quantized_multiplier(q.wrap_int32(acc), mult[0], mult[1]), I16_MIN, I16_MAX)


def _dot(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(batches, n) x (rows, n)^T in exact integers."""
    return i64(v) @ i64(w).T


def lstm(p: LstmParams, x: np.ndarray, input_weights: list[np.ndarray], recurrent_weights: list[np.ndarray],
         biases: list[np.ndarray]) -> np.ndarray:
    """The int8 LSTM over a whole sequence from the reset state; returns the output (x's layout)."""
    seq = np.swapaxes(x, 0, 1) if p.time_major else x  # (batches, steps, input)
    h = np.full((p.batches, p.state_size), p.hidden_zero_point, np.int64)
    c = np.zeros((p.batches, p.state_size), np.int64)
    y = np.zeros((p.batches, p.steps, p.state_size), np.int8)
    for t in range(p.steps):
        xt = i64(seq[:, t, :]) - p.input_zero_point
        ht = h - p.hidden_zero_point
        gates = []
        for k in range(4):
            pre = np.clip(_rq16(_dot(xt, input_weights[k]) + i64(biases[k]), p.input_multiplier[k])
                          + _rq16(_dot(ht, recurrent_weights[k]), p.recurrent_multiplier[k]), I16_MIN, I16_MAX)
            gates.append(i64(tanh_s16(pre, -12) if GATES[k] == "cell" else sigmoid_s16(pre)))
        i, f, g, o = gates
        c = np.clip(_rq16(f * c, p.forget_multiplier) + _rq16(i * g, p.input_gate_multiplier), I16_MIN, I16_MAX)
        if p.cell_clip:
            c = np.clip(c, -p.cell_clip, p.cell_clip)
        hm, hs = p.hidden_multiplier
        h = np.clip(q.multiply_by_quantized_multiplier(i64(tanh_s16(c, p.cell_scale_power)) * o, hm, hs)
                    + p.hidden_zero_point, -128, 127)
        y[:, t, :] = h
    return np.swapaxes(y, 0, 1) if p.time_major else y


def _lstm_reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    p = prepare_lstm(graph, op)
    weights = [value(values, graph, op, k) for k in INPUT_WEIGHTS]
    recurrent = [value(values, graph, op, k) for k in RECURRENT_WEIGHTS]
    biases = [value(values, graph, op, k) for k in BIASES]
    return lstm(p, value(values, graph, op, INPUT), weights, recurrent, biases)


# --- checks and MACs ------------------------------------------------------------------------------
def _refuse(op: Op, what: str) -> ModelError:
    return ModelError(f"op {op.index} ({op.type}): {what}")


def _check_lstm(graph: Graph, op: Op) -> None:
    if len(op.inputs) != INPUTS:
        raise _refuse(op, f"has {len(op.inputs)} inputs, expected {INPUTS}")
    absent = {"peephole (cell-to-gate) weights": PEEPHOLES, "a projection layer": PROJECTION,
              "layer normalization": LAYER_NORM}
    for what, positions in absent.items():
        if any(optional_input(graph, op, k) is not None for k in positions):
            raise _refuse(op, f"uses {what}, which mcusim does not implement (nor does TFLite Micro)")
    if optional_input(graph, op, INPUT_WEIGHTS[0]) is None or optional_input(graph, op, RECURRENT_WEIGHTS[0]) is None:
        raise _refuse(op, "has no input gate (CIFG), which mcusim does not implement (nor does TFLite Micro)")
    if op.options.get("diagonal_recurrent_tensors"):
        raise _refuse(op, "has diagonal recurrent weights, which mcusim does not implement")
    if op.options.get("fused_activation_function", "TANH") != "TANH":
        raise _refuse(op, f"cell activation {op.options['fused_activation_function']}: mcusim implements TANH")
    for pos in (INPUT, HIDDEN_STATE, CELL_STATE, *INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES):
        if optional_input(graph, op, pos) is None:
            raise _refuse(op, f"input {pos} is missing")
    x, y = inp(graph, op, INPUT), out(graph, op)
    if x.dtype != "INT8":
        raise _refuse(op, f"input {x.name!r} is {x.dtype}: mcusim implements the int8 LSTM "
                          "(int16 activations are not implemented)")
    check_activation_tensor(x, op, "input")
    check_activation_tensor(y, op, "output")
    if len(x.shape) != 3 or len(y.shape) != 3 or y.shape[:2] != x.shape[:2]:
        raise _refuse(op, f"input {list(x.shape)} and output {list(y.shape)} must be 3-D with the same "
                          "batch and time dimensions")
    state = y.shape[2]
    hidden, cell = inp(graph, op, HIDDEN_STATE), inp(graph, op, CELL_STATE)
    for t, role, dtype in ((hidden, "hidden state", "INT8"), (cell, "cell state", "INT16")):
        if not t.is_variable or t.is_constant:
            raise _refuse(op, f"{role} {t.name!r} must be a variable tensor")
        require(t, op, role, (dtype,), quantized=True)
        if not t.is_quantized or t.is_per_channel:
            raise _refuse(op, f"{role} {t.name!r} must be quantized per tensor")
    check_activation_tensor(hidden, op, "hidden state")
    batches = x.shape[1] if op.options.get("time_major") else x.shape[0]
    for t, role in ((hidden, "hidden state"), (cell, "cell state")):
        if t.size != batches * state or t.shape[-1] != state:
            raise _refuse(op, f"{role} {t.name!r} of shape {list(t.shape)} does not hold {batches} x {state} values")
    if cell.zero_point.size and int(cell.zero_point[0]) != 0:
        raise _refuse(op, f"cell state {cell.name!r} has zero point {int(cell.zero_point[0])}, expected 0")
    if cell_scale_power(cell) is None:
        raise _refuse(op, f"cell state scale {float(cell.scale[0]):g} is not a power of two")
    for k, positions, cols in (("input", INPUT_WEIGHTS, x.shape[2]), ("recurrent", RECURRENT_WEIGHTS, state)):
        for gate, pos in zip(GATES, positions):
            w = inp(graph, op, pos)
            require(w, op, f"{k}-to-{gate} weights", ("INT8",), constant=True, quantized=True)
            if w.is_per_channel or np.any(w.zero_point != 0):
                raise _refuse(op, f"{k}-to-{gate} weights {w.name!r} must be per-tensor with zero point 0")
            if w.shape != (state, cols):
                raise _refuse(op, f"{k}-to-{gate} weights {w.name!r} have shape {list(w.shape)}, expected {[state, cols]}")
    for gate, pos in zip(GATES, BIASES):
        b = inp(graph, op, pos)
        require(b, op, f"{gate} gate bias", ("INT32",), constant=True)
        if b.shape != (state,):
            raise _refuse(op, f"{gate} gate bias {b.name!r} has shape {list(b.shape)}, expected {[state]}")


def _lstm_macs(graph: Graph, op: Op) -> int:
    x, y = inp(graph, op, INPUT), out(graph, op)
    steps = x.shape[0] * x.shape[1]
    state = y.shape[2]
    return steps * 4 * state * (x.shape[2] + state)


# --- classic path -----------------------------------------------------------------------------------
def lstm_params_c(p: LstmParams) -> list[str]:
    """The fields of ``mcu_lstm_params`` (kernels/include/mcu_nn.h) for ``p``."""
    def pairs(name: str, values: tuple[tuple[int, int], ...]) -> list[str]:
        return [f".{name}_multiplier = {{{', '.join(str(m) for m, _ in values)}}}",
                f".{name}_shift = {{{', '.join(str(s) for _, s in values)}}}"]
    return [f".batches = {p.batches}", f".steps = {p.steps}", f".input_size = {p.input_size}",
            f".state_size = {p.state_size}", f".time_major = {int(p.time_major)}",
            f".input_offset = {-p.input_zero_point}", f".hidden_zero_point = {p.hidden_zero_point}",
            *pairs("input", p.input_multiplier), *pairs("recurrent", p.recurrent_multiplier),
            f".forget_multiplier = {p.forget_multiplier[0]}", f".forget_shift = {p.forget_multiplier[1]}",
            f".update_multiplier = {p.input_gate_multiplier[0]}", f".update_shift = {p.input_gate_multiplier[1]}",
            f".hidden_multiplier = {p.hidden_multiplier[0]}", f".hidden_shift = {p.hidden_multiplier[1]}",
            f".cell_scale_power = {p.cell_scale_power}", f".cell_clip = {p.cell_clip}"]


def _lstm_classic(gen: Any, op: Op) -> Any:
    p = prepare_lstm(gen.g, op)
    x = gen.data(op, INPUT, "input")
    weights = {pos: gen.data(op, pos, f"{kind}_{gate}") for kind, positions in
               (("weights", INPUT_WEIGHTS), ("recurrent", RECURRENT_WEIGHTS), ("bias", BIASES))
               for gate, pos in zip(GATES, positions)}
    hidden, cell = gen.data(op, HIDDEN_STATE, "hidden"), gen.data(op, CELL_STATE, "cell")

    def pointers(positions: tuple[int, ...]) -> str:
        return ", ".join(gen.ptr(weights[k]) for k in positions)

    decls = [f"static const mcu_lstm_params params = {{{', '.join(lstm_params_c(p))}}};",
             f"static const mcu_lstm_weights weights = {{.input = {{{pointers(INPUT_WEIGHTS)}}}, "
             f".recurrent = {{{pointers(RECURRENT_WEIGHTS)}}}, .bias = {{{pointers(BIASES)}}}}};"]
    extra = [f"{p.batches} x {p.steps} steps{' (time-major)' if p.time_major else ''}: "
             f"{p.input_size} inputs -> {p.state_size} units; gates Q3.12 -> Q0.15, cell 2^{p.cell_scale_power}"
             + (f", clipped to +-{p.cell_clip}" if p.cell_clip else ""),
             f"state: {gen.ptr(hidden)} (hidden, int8), {gen.ptr(cell)} (cell, int16), static",
             "gate matmuls: mcu_lstm_gates_s8 (SMLAD in the opt flavour)"]
    reads = [x, *weights.values(), hidden, cell]
    return gen.call(op, reads, "mcu_lstm_s8", decls, ["ctx", "&params", "&weights", x, hidden, cell, op.outputs[0]],
                    extra, "mcu_lstm_s8_get_buffer_size(&params)", decls[:1])


def _cmsis_gate(p: LstmParams, ptrs: dict[int, str], sums: str, k: int, act: str) -> str:
    """Gate k's ``cmsis_nn_lstm_gate`` initializer (CMSIS-NN orders them forget, input, cell, output)."""
    (mx, sx), (mh, sh) = p.input_multiplier[k], p.recurrent_multiplier[k]
    return (f"{{{mx}, {sx}, {ptrs[INPUT_WEIGHTS[k]]}, {sums}[{2 * k}], {mh}, {sh}, "
            f"{ptrs[RECURRENT_WEIGHTS[k]]}, {sums}[{2 * k + 1}], {ptrs[BIASES[k]]}, {act}}}")


def _lstm_cmsis_nn(gen: Any, op: Op) -> Any:
    """CMSIS-NN's LSTM kernel with the parameters TFLM's cmsis_nn/unidirectional_sequence_lstm.cc
    gives it; the "effective biases" (bias plus the weight row sums times the input offset, and
    the recurrent row sums times -zp_h) that TFLM computes with CMSIS-NN's vector sum in Prepare
    are computed here, into weights.c. The state is
    mcusim's static state buffers (CMSIS-NN's hidden_state/cell_state), so it carries across
    inferences as on the other flavours."""
    from ..stacks.classic.cgen import array_c

    p = prepare_lstm(gen.g, op)
    if not p.cell_clip:
        return ("no cell clip: arm_lstm_unidirectional_s8 always clamps the cell state to "
                "+-cell_clip (TFLM would pass 0)")
    x = gen.data(op, INPUT, "input")
    ptrs = {pos: gen.ptr(gen.data(op, pos, f"{kind}_{gate}")) for kind, positions in
            (("weights", INPUT_WEIGHTS), ("recurrent", RECURRENT_WEIGHTS), ("bias", BIASES))
            for gate, pos in zip(GATES, positions)}
    hidden, cell = gen.data(op, HIDDEN_STATE, "hidden"), gen.data(op, CELL_STATE, "cell")
    name, n = f"op{op.index}_lstm_effective_bias", p.state_size
    sums = []
    for k in range(4):
        wx, wh = (i64(inp(gen.g, op, pos).data) for pos in (INPUT_WEIGHTS[k], RECURRENT_WEIGHTS[k]))
        sums.append(i64(inp(gen.g, op, BIASES[k]).data) + wx.sum(axis=1) * -p.input_zero_point)
        sums.append(wh.sum(axis=1) * -p.hidden_zero_point)
    gen.extra_weights.append((f"extern const int32_t {name}[8][{n}];",
                              [f"/* op {op.index} {op.type}: per gate (input, forget, cell, output) the input "
                               "and recurrent effective biases for CMSIS-NN */",
                               f"const int32_t {name}[8][{n}] = {{", *array_c(np.stack(sums), 8), "};"]))

    fields = [str(int(p.time_major)), str(p.batches), str(p.steps), str(p.input_size), str(n),
              str(-p.input_zero_point), *map(str, p.forget_multiplier), *map(str, p.input_gate_multiplier),
              str(p.cell_clip), str(p.cell_scale_power), *map(str, p.hidden_multiplier), str(p.hidden_zero_point),
              *(_cmsis_gate(p, ptrs, name, k, act) for k, act in
                ((1, "ARM_SIGMOID"), (0, "ARM_SIGMOID"), (2, "ARM_TANH"), (3, "ARM_SIGMOID")))]
    decls = [f"static const cmsis_nn_lstm_params params = {{{', '.join(fields)}}};"]
    scratch = 2 * 2 * p.batches * n  # temp1, temp2: int16 per batch and unit
    out = op.outputs[0]

    def render(ptr: Any, ctx: str) -> list[str]:
        return [f"cmsis_nn_lstm_context buffers = {{({ctx})->buf, (int16_t *)({ctx})->buf + {p.batches * n}, "
                f"{ptr(cell)}, {ptr(hidden)}}};",
                f"st = (mcu_status)arm_lstm_unidirectional_s8({ptr(x)}, {ptr(out)}, &params, &buffers);"]

    from ..stacks.classic.cgen import Step
    from ..stacks.cmsisnn import COMPONENT

    extra = [f"{p.batches} x {p.steps} steps: {p.input_size} inputs -> {n} units, CMSIS-NN "
             "arm_lstm_unidirectional_s8; effective biases in weights.c; state: static buffers"]
    return Step(op, [x, hidden, cell], out, extra, decls, render, "arm_lstm_unidirectional_s8",
                 str(scratch), library=COMPONENT, sizing_decls=[])


UNIDIRECTIONAL_SEQUENCE_LSTM = OpSpec(
    "UNIDIRECTIONAL_SEQUENCE_LSTM", _lstm_reference,
    options=Options(71, "UnidirectionalSequenceLSTMOptions", (
        ("fused_activation_function", 0, "activation", "NONE"),
        ("cell_clip", 1, "f32", 0.0),
        ("proj_clip", 2, "f32", 0.0),
        ("time_major", 3, "bool", False),
        ("asymmetric_quantize_inputs", 4, "bool", False),
        ("diagonal_recurrent_tensors", 5, "bool", False))),
    check=_check_lstm,
    macs=_lstm_macs,
    classic=_lstm_classic,
    cmsis_nn=_lstm_cmsis_nn,
    tinyml=Tinyml("mcu_op_unidirectional_sequence_lstm", "lstm.c"),
    sigmoid_table=True,
    kernels=("mcu_lstm_s8", "mcu_lstm_gates_s8"),
)

SPECS = (UNIDIRECTIONAL_SEQUENCE_LSTM,)
