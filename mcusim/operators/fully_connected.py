"""FULLY_CONNECTED: the int8 matrix-vector product of a flattened input and constant weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_bias, check_weighted, must
from ..stacks.classic.cgen import Step, activation, requant_comment
from ..stacks.cmsisnn import COMPONENT, quant_arrays, s16_worst_sum
from . import OpSpec, Options, Tinyml, Values
from ._common import Requant, optional_value
from ._common import activation_range as _activation_range
from ._common import exact_dot as _exact_dot
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import multipliers as _multipliers
from ._common import out as _out
from ._common import value as _value


def _check_fully_connected(graph: Graph, op: Op) -> None:
    """Weights [units, depth] fit the input and output (shapes first, then types)."""
    x, w, o = must(graph, op, 0), must(graph, op, 1), graph.tensors[op.outputs[0]]
    if len(w.shape) != 2 or w.shape[1] == 0 or x.size % w.shape[1] != 0 \
            or o.size != (x.size // w.shape[1]) * w.shape[0]:
        raise ModelError(f"op {op.index} ({op.type}) weights {list(w.shape)} do not fit input {list(x.shape)} "
                         f"and output {list(o.shape)}")
    check_bias(graph, op, w.shape[0])
    check_weighted(graph, op)


def _fully_connected_macs(graph: Graph, op: Op) -> int:
    return int(graph.tensors[op.outputs[0]].size) * int(graph.tensors[op.inputs[1]].shape[-1])


@dataclass(frozen=True)
class FullyConnectedParams:
    """Offsets and output stage of FULLY_CONNECTED."""

    input_offset: int
    weights_offset: int
    requant: Requant


def prepare_fully_connected(graph: Graph, op: Op) -> FullyConnectedParams:
    """Per-tensor multiplier: double(float32(in_scale * w_scale)) / double(out_scale), as TFLM
    (float32 product); per-channel weights use the double product per channel."""
    x, w, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise ModelError(f"op {op.index} (FULLY_CONNECTED) uses shuffled weights, which mcusim does not support")
    in_s = float(x.scale[0])
    if w.is_per_channel:
        real = [in_s * float(s) / float(out.scale[0]) for s in w.scale]
    else:
        real = [float(np.float32(x.scale[0]) * np.float32(w.scale[0])) / float(out.scale[0])]
    mult, shift = _multipliers(real)
    requant = Requant(mult, shift, int(out.zero_point[0]), *_activation_range(op, out),
                      int16=x.dtype == "INT16")
    return FullyConnectedParams(-int(x.zero_point[0]), -int(w.zero_point[0]), requant)


def fully_connected(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                    p: FullyConnectedParams) -> np.ndarray:
    """int8 matrix-vector product; x flattened to (batches, depth), weights [units, depth].

    Returns int8 (batches, units); the caller reshapes to the output tensor's shape.
    """
    depth = weights.shape[1]
    xs = _i64(x).reshape(-1, depth) + p.input_offset
    acc = _exact_dot(xs, _i64(weights) + p.weights_offset, axes=([1], [1]))
    if bias is not None:
        acc = acc + _i64(bias)
    return p.requant.apply(acc)


def _fully_connected_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_fully_connected(graph, op)
    return fully_connected(_value(v, graph, op, 0), _value(v, graph, op, 1),
                           optional_value(v, graph, op, 2), p)


def _i32(v: int) -> int:
    """v wrapped to int32, as the 32-bit multiply of the compiled check computes it."""
    return (v + 2**31) % 2**32 - 2**31


def fc_kernel_args_problem(act: tuple[int, int], in_dims: tuple[int, int, int, int],
                           filter_dims: tuple[int, int, int, int],
                           out_dims: tuple[int, int, int, int], null: tuple[str, ...] = ()) -> str | None:
    """Why mcu_check_fc (kernels/src/common/mcu_nn_checks.h) would reject a FULLY_CONNECTED
    kernel call, or None: its mirror, condition for condition. The classic path builds its
    kernels without that check (MCU_NN_FC_CHECKED_ON_HOST) and calls this instead before it
    emits a call. ``act``: the activation clamp the check sees (-128..127 for the int16 kernel,
    which checks its own int16 clamp); dims (n, h, w, c); ``null``: the pointer arguments
    passed as NULL (params, quant, multiplier, shift, input, filter, output or a dims struct).
    tests/e2e/test_kernels.py runs both on the same argument sets."""
    if null:
        return f"{null[0]} is NULL"
    for name, d in (("input", in_dims), ("filter", filter_dims), ("output", out_dims)):
        if min(d) <= 0:
            return f"{name} dims {list(d)} are not all positive"
    depth = _i32(in_dims[1] * in_dims[2] * in_dims[3])
    if depth > 65535:
        return f"depth {depth} exceeds 65535 (the kernels' int32 accumulation bound)"
    if _i32(filter_dims[3] * filter_dims[1] * filter_dims[2]) != depth:
        return f"filter dims {list(filter_dims)} do not hold depth {depth}"
    if out_dims[3] != filter_dims[0] or _i32(out_dims[0] * out_dims[1] * out_dims[2]) != in_dims[0]:
        return f"output dims {list(out_dims)} do not fit input {list(in_dims)} and filter {list(filter_dims)}"
    if not (-128 <= act[0] <= act[1] <= 127):
        return f"activation clamp [{act[0]}, {act[1]}] is not an int8 range"
    return None


def _fully_connected_classic(gen: Any, op: Op) -> Step:
    p = prepare_fully_connected(gen.g, op)
    int16 = p.requant.int16  # 16x8 mode: mcu_fully_connected_s16 (int64 bias)
    inner_product = not int16 and gen.winograd_fc_able(op, p)
    x = gen.data(op, 0, "input")
    w = gen.data(op, 1, "weights")
    b = gen.optional(op, 2, "bias")
    pairs = gen.pair_sums(op) if inner_product else ""
    wt, out = gen.t[w], gen.t[op.outputs[0]]
    units, depth = int(wt.shape[0]), int(wt.shape[1])
    batches = gen.t[x].size // depth
    per_channel = wt.is_per_channel
    rq = p.requant
    quant = gen.requant_arrays(op, rq.multiplier, rq.shift, per_channel)
    in_d, f_d, out_d = (batches, 1, 1, depth), (units, 1, 1, depth), (batches, 1, 1, units)
    decls = [f"static const mcu_fc_params params = {{.input_offset = {p.input_offset}, "
             f".filter_offset = {p.weights_offset}, .output_offset = {rq.output_zero_point}, "
             f".activation = {{{rq.act_min}, {rq.act_max}}}}};",
             f"static const mcu_dims in_dims = {{{', '.join(map(str, in_d))}}}, filter_dims = "
             f"{{{', '.join(map(str, f_d))}}}, out_dims = {{{', '.join(map(str, out_d))}}};"]
    extra = [f"{batches} x [{depth}] . [{units} x {depth}]^T, fused activation {activation(op)} "
             f"-> clamp [{rq.act_min}, {rq.act_max}]",
             requant_comment(rq.multiplier, rq.shift, per_channel)]
    if inner_product:
        extra.append(f"runs by Winograd's inner-product identity (mcu_fully_connected_wino_s8, "
                     f"bit-exact with mcu_fully_connected_s8): one multiply per two MACs; the "
                     f"weight term precomputed on the host, {pairs} ({4 * units} bytes)")
    reads = [x, w] + ([b] if b is not None else [])
    kernel = ("mcu_fully_connected_s16" if int16 else
              "mcu_fully_connected_wino_s8" if inner_product else "mcu_fully_connected_s8")
    problem = fc_kernel_args_problem((-128, 127) if int16 else (rq.act_min, rq.act_max), in_d, f_d, out_d)
    if problem:  # the kernels are built without their argument check (MCU_NN_FC_CHECKED_ON_HOST)
        raise ModelError(f"op {op.index} (FULLY_CONNECTED) cannot run on {kernel}: {problem}")

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        more = f"{pairs}, " if inner_product else ""
        return [f"st = {kernel}({ctx}, &params, &{quant}, &in_dims, {ptr(x)}, "
                f"&filter_dims, {ptr(w)}, {more}{bias}, &out_dims, {ptr(out.index)});"]

    return Step(op, reads, out.index, extra, decls, render, kernel,
                 None if int16 else f"{kernel}_get_buffer_size(&filter_dims)")


def _fully_connected_cmsis_nn_s16(gen: Any, op: Op) -> Any:
    """16x8 FULLY_CONNECTED (int16 input, int8 weights, int64 bias). Per-tensor weights:
    arm_fully_connected_s16, as TFLM's cmsis_nn/fully_connected.cc calls it. Per-channel weights
    (the converter's default), which that kernel cannot take (TFLM's CMSIS-NN FC refuses them):
    arm_convolve_wrapper_s16 on a 1x1 convolution of [batches, 1, 1, depth], its per-channel
    multipliers (the same int64 requantization)."""
    wt = gen.t[op.inputs[1]]
    if len(op.inputs) > 2 and op.inputs[2] >= 0 and gen.t[op.inputs[2]].dtype != "INT64":
        return f"bias is {gen.t[op.inputs[2]].dtype}; mcusim calls the s16 kernels with an int64 bias"
    per_channel = wt.is_per_channel
    if per_channel:
        assert wt.data is not None
        if (worst := s16_worst_sum(wt.data)) >= 2 ** 31:
            return (f"per-channel weights (a 1x1 arm_convolve_wrapper_s16) whose int32 sum could reach {worst} "
                    "(32768 * sum |w|, over 2^31), where TFLM's reference sums in int64")
    p = prepare_fully_connected(gen.g, op)
    x, wi, b = gen.data(op, 0, "input"), gen.data(op, 1, "weights"), gen.optional(op, 2, "bias")
    out = gen.t[op.outputs[0]]
    units, depth = int(wt.shape[0]), int(wt.shape[1])
    batches = gen.t[x].size // depth
    rq = p.requant
    act = f".activation = {{.min = {rq.act_min}, .max = {rq.act_max}}}"
    extra = [f"{batches} x [{depth}] . [{units} x {depth}]^T, fused activation {activation(op)} "
             f"-> clamp [{rq.act_min}, {rq.act_max}] (int16)"]
    reads = [x, wi] + ([b] if b is not None else [])
    if per_channel:
        mult, shift = quant_arrays(gen, op, rq.multiplier, rq.shift, units)
        kernel = "arm_convolve_wrapper_s16"
        params = (f"static const cmsis_nn_conv_params params = {{.input_offset = 0, .output_offset = 0, "
                  f".stride = {{.w = 1, .h = 1}}, .padding = {{.w = 0, .h = 0}}, .dilation = {{.w = 1, .h = 1}}, "
                  f"{act}}};")
        quant = (f"static const cmsis_nn_per_channel_quant_params quant = {{(int32_t *){mult}, "
                 f"(int32_t *){shift}}};")
        dims = (f"static const cmsis_nn_dims in_dims = {{{batches}, 1, 1, {depth}}}, filter_dims = "
                f"{{{units}, 1, 1, {depth}}}, bias_dims = {{1, 1, 1, {units}}}, "
                f"out_dims = {{{batches}, 1, 1, {units}}};")
        extra += [f"requantization per channel: {mult}, {shift} in weights.c (int64 accumulator)",
                  "CMSIS-NN arm_convolve_wrapper_s16 as a 1x1 convolution: arm_fully_connected_s16 takes "
                  "one multiplier, these weights have one per output channel"]
        sizing = "arm_convolve_wrapper_s16_get_buffer_size(&params, &in_dims, &filter_dims, &out_dims)"
        sizing_decls = [params, dims]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            bias = ptr(b) if b is not None else "NULL"
            return [f"const cmsis_nn_bias_data bias = {{{bias}, false}}; /* int64 */",
                    f"st = (mcu_status){kernel}({ctx}, &params, &quant, &in_dims, {ptr(x)}, &filter_dims, "
                    f"{ptr(wi)}, &bias_dims, &bias, &out_dims, {ptr(out.index)});"]
    else:
        kernel = "arm_fully_connected_s16"
        params = (f"static const cmsis_nn_fc_params params = {{.input_offset = 0, .filter_offset = 0, "
                  f".output_offset = 0, {act}}};")
        quant = (f"static const cmsis_nn_per_tensor_quant_params quant = {{{int(rq.multiplier[0])}, "
                 f"{int(rq.shift[0])}}};")
        # filter_dims as TFLM's cmsis_nn/fully_connected.cc sets them: n = accumulation depth, c = units.
        dims = (f"static const cmsis_nn_dims in_dims = {{{batches}, 1, 1, {depth}}}, filter_dims = "
                f"{{{depth}, 1, 1, {units}}}, bias_dims = {{1, 1, 1, {units}}}, "
                f"out_dims = {{{batches}, 1, 1, {units}}};")
        extra += [f"requantization per tensor: multiplier {int(rq.multiplier[0])}, shift {int(rq.shift[0])} "
                  "(int64 accumulator)", "CMSIS-NN arm_fully_connected_s16"]
        sizing = "arm_fully_connected_s16_get_buffer_size(&filter_dims)"
        sizing_decls = [dims]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            bias = ptr(b) if b is not None else "NULL"
            return [f"st = (mcu_status){kernel}({ctx}, &params, &quant, &in_dims, {ptr(x)}, &filter_dims, "
                    f"{ptr(wi)}, &bias_dims, {bias}, &out_dims, {ptr(out.index)});"]

    return Step(op, reads, out.index, extra, [params, quant, dims], render, kernel, sizing,
                 library=COMPONENT, sizing_decls=sizing_decls)


def _fully_connected_cmsis_nn(gen: Any, op: Op) -> Any:
    wt = gen.t[op.inputs[1]]
    if wt.dtype != "INT8" or len(wt.shape) != 2:
        return f"weights are {wt.dtype} {list(wt.shape)}; arm_fully_connected_wrapper_s8 takes 2-D int8"
    if gen.t[op.inputs[0]].dtype == "INT16":  # arm_fully_connected_s16, or arm_convolve_wrapper_s16 as 1x1
        return _fully_connected_cmsis_nn_s16(gen, op)
    if len(op.inputs) > 2 and op.inputs[2] >= 0 and gen.t[op.inputs[2]].dtype != "INT32":
        return f"bias is {gen.t[op.inputs[2]].dtype}; the s8 kernels take int32"
    p = prepare_fully_connected(gen.g, op)
    x, wi, b = gen.data(op, 0, "input"), gen.data(op, 1, "weights"), gen.optional(op, 2, "bias")
    out = gen.t[op.outputs[0]]
    units, depth = int(wt.shape[0]), int(wt.shape[1])
    batches = gen.t[x].size // depth
    rq = p.requant
    per_channel = wt.is_per_channel
    mult, shift = quant_arrays(gen, op, rq.multiplier, rq.shift, units) if per_channel else ("", "")
    params = (f"static const cmsis_nn_fc_params params = {{.input_offset = {p.input_offset}, "
              f".filter_offset = {p.weights_offset}, .output_offset = {rq.output_zero_point}, "
              f".activation = {{.min = {rq.act_min}, .max = {rq.act_max}}}}};")
    # filter_dims as TFLM's cmsis_nn/fully_connected.cc sets them: n = accumulation depth, c = units.
    dims = (f"static const cmsis_nn_dims in_dims = {{{batches}, 1, 1, {depth}}}, filter_dims = "
            f"{{{depth}, 1, 1, {units}}}, bias_dims = {{1, 1, 1, {units}}}, out_dims = {{{batches}, 1, 1, {units}}};")
    # What arm_fully_connected_wrapper_s8 would pick, chosen here: the quantization is known on
    # the host, so only one of the two kernels is linked.
    kernel = "arm_fully_connected_per_channel_s8" if per_channel else "arm_fully_connected_s8"
    qtype = "cmsis_nn_per_channel_quant_params" if per_channel else "cmsis_nn_per_tensor_quant_params"
    quant = (f"static const {qtype} quant = {{(int32_t *){mult}, (int32_t *){shift}}};" if per_channel else
             f"static const {qtype} quant = {{{int(rq.multiplier[0])}, {int(rq.shift[0])}}};")
    extra = [f"{batches} x [{depth}] . [{units} x {depth}]^T, fused activation {activation(op)} "
             f"-> clamp [{rq.act_min}, {rq.act_max}]",
             (f"requantization per channel: {mult}, {shift} in weights.c" if per_channel else
              f"requantization per tensor: multiplier {int(rq.multiplier[0])}, shift {int(rq.shift[0])}"),
             f"CMSIS-NN {kernel}; where its buffer size is not 0 (Helium cores) the kernel sums are "
             "computed into it first, as TFLM's cmsis_nn/fully_connected.cc does"]
    reads = [x, wi] + ([b] if b is not None else [])

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        return [f"if (({ctx})->size > 0)",
                f"    arm_vector_sum_s8((int32_t *)({ctx})->buf, {depth}, {units}, {ptr(wi)}, "
                f"{p.input_offset}, {p.weights_offset}, {bias});",
                f"st = (mcu_status){kernel}({ctx}, &params, &quant, &in_dims, {ptr(x)}, &filter_dims, "
                f"{ptr(wi)}, &bias_dims, {bias}, &out_dims, {ptr(out.index)});"]

    return Step(op, reads, out.index, extra, [params, quant, dims], render, kernel,
                 "arm_fully_connected_s8_get_buffer_size(&filter_dims)", library=COMPONENT,
                 sizing_decls=[dims])


FULLY_CONNECTED = OpSpec(
    "FULLY_CONNECTED", _fully_connected_reference,
    options=Options(8, "FullyConnectedOptions", (
        ("fused_activation_function", 0, "activation", "NONE"),
        ("weights_format", 1, "weights_format", "DEFAULT"),
        ("keep_num_dims", 2, "bool", False), ("asymmetric_quantize_inputs", 3, "bool", False),
        ("quantized_bias_type", 4, "tensor_type", "FLOAT32"))),
    min_inputs=2, check=_check_fully_connected, macs=_fully_connected_macs, classic=_fully_connected_classic,
    cmsis_nn=_fully_connected_cmsis_nn, tinyml=Tinyml("mcu_op_fully_connected", "fully_connected.c"),
    kernels=("mcu_fully_connected_s8", "mcu_fully_connected_wino_s8", "mcu_fully_connected_s16"),
    int16_paths=("classic", "tinyml", "cmsis-nn"),
)

SPECS = (FULLY_CONNECTED,)
