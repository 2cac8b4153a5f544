"""2-D convolutions over NHWC int8 tensors: CONV_2D (grouped too) and DEPTHWISE_CONV_2D."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_bias, check_weighted, must
from ..stacks import winograd as wg
from ..stacks.classic.cgen import Step, activation, dims4, dims_c, requant_comment
from ..stacks.cmsisnn import COMPONENT, quant_arrays, s16_worst_sum, tile
from . import OpSpec, Options, Tinyml, Values
from ._common import Requant, optional_value
from ._common import activation_range as _activation_range
from ._common import exact_dot as _exact_dot
from ._common import i64 as _i64
from ._common import inp as _inp
from ._common import multipliers as _multipliers
from ._common import out as _out
from ._common import spatial as _spatial
from ._common import value as _value
from ._common import windows as _windows


def _check_conv(graph: Graph, op: Op) -> None:
    """Filter, bias and output fit the input (shapes first, then types)."""
    where = f"op {op.index} ({op.type})"
    x, w, o = must(graph, op, 0), must(graph, op, 1), graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(w.shape) != 4 or len(o.shape) != 4:
        raise ModelError(f"{where} needs 4-D input, filter and output")
    if op.type == "CONV_2D":
        ok = w.shape[3] > 0 and x.shape[3] % w.shape[3] == 0 and w.shape[0] == o.shape[3] \
            and o.shape[3] % (x.shape[3] // w.shape[3] or 1) == 0
    else:
        multiplier = op.options.get("depth_multiplier") or 1
        ok = w.shape[0] == 1 and w.shape[3] == o.shape[3] == x.shape[3] * multiplier
    if not ok:
        raise ModelError(f"{where} filter {list(w.shape)} does not fit input {list(x.shape)} "
                         f"and output {list(o.shape)}")
    check_bias(graph, op, o.shape[3])
    check_weighted(graph, op)


def _conv_macs(graph: Graph, op: Op) -> int:
    w = graph.tensors[op.inputs[1]]  # [out_c][kh][kw][in_c]
    return int(graph.tensors[op.outputs[0]].size) * int(w.shape[1] * w.shape[2] * w.shape[3])


def _depthwise_macs(graph: Graph, op: Op) -> int:
    w = graph.tensors[op.inputs[1]]  # [1][kh][kw][c*m]
    return int(graph.tensors[op.outputs[0]].size) * int(w.shape[1] * w.shape[2])


@dataclass(frozen=True)
class ConvParams:
    """Convolution geometry and quantization (also used for depthwise)."""

    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int
    input_offset: int      # -input zero point
    depth_multiplier: int  # depthwise only (1 for CONV_2D)
    requant: Requant


def _conv_requant(graph: Graph, op: Op) -> Requant:
    """Per-channel multipliers: double(in_scale) * double(filter_scale[c]) / double(out_scale)."""
    x, w, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    channels = out.shape[-1]
    scales = [float(s) for s in w.scale] if w.is_per_channel else [float(w.scale[0])] * channels
    real = [float(x.scale[0]) * s / float(out.scale[0]) for s in scales]
    mult, shift = _multipliers(real)
    return Requant(mult, shift, int(out.zero_point[0]), *_activation_range(op, out), int16=x.dtype == "INT16")


def prepare_conv(graph: Graph, op: Op) -> ConvParams:
    """Host-side parameters of CONV_2D or DEPTHWISE_CONV_2D."""
    x, w, out = _inp(graph, op, 0), _inp(graph, op, 1), _out(graph, op)
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise ModelError(f"op {op.index} ({op.type}) needs 4-D input and filter")
    pad_h, pad_w, out_h, out_w = _spatial(op, x.shape, w.shape[1], w.shape[2], out)
    o = op.options
    dm = int(o.get("depth_multiplier", 1) or 1) if op.type == "DEPTHWISE_CONV_2D" else 1
    return ConvParams(o["stride_h"], o["stride_w"], o.get("dilation_h_factor", 1),
                      o.get("dilation_w_factor", 1), pad_h, pad_w, out_h, out_w,
                      -int(x.zero_point[0]), dm, _conv_requant(graph, op))


def conv_2d(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: ConvParams) -> np.ndarray:
    """int8 NHWC convolution; weights [OC, KH, KW, IC/groups], bias int32 [OC] or None.

    Padding pixels contribute nothing (not the zero point): TFLM skips them.
    """
    oc, kh, kw, ic_per_group = weights.shape
    groups = x.shape[3] // ic_per_group
    patches = _windows(_i64(x) + p.input_offset, kh, kw, p.stride_h, p.stride_w,
                       p.dilation_h, p.dilation_w, p.pad_h, p.pad_w, p.out_h, p.out_w, 0)
    n = x.shape[0]
    patches = patches.reshape(n, p.out_h, p.out_w, kh, kw, groups, ic_per_group)
    w = _i64(weights).reshape(groups, oc // groups, kh, kw, ic_per_group)
    acc = np.concatenate([_exact_dot(patches[..., g, :], w[g], axes=([3, 4, 5], [1, 2, 3]))
                          for g in range(groups)], axis=-1)
    if bias is not None:
        acc = acc + _i64(bias)
    return p.requant.apply(acc)


def depthwise_conv_2d(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                      p: ConvParams) -> np.ndarray:
    """int8 NHWC depthwise convolution; weights [1, KH, KW, IC*M], output channel ic*M+m."""
    _, kh, kw, _ = weights.shape
    patches = _windows(_i64(x) + p.input_offset, kh, kw, p.stride_h, p.stride_w,
                       p.dilation_h, p.dilation_w, p.pad_h, p.pad_w, p.out_h, p.out_w, 0)
    patches = np.repeat(patches, p.depth_multiplier, axis=-1)
    acc = np.einsum("nyxhwc,hwc->nyxc", patches, _i64(weights[0]))
    if bias is not None:
        acc = acc + _i64(bias)
    return p.requant.apply(acc)


def _conv_reference(graph: Graph, op: Op, v: Values) -> np.ndarray:
    p = prepare_conv(graph, op)
    kernel = conv_2d if op.type == "CONV_2D" else depthwise_conv_2d
    return kernel(_value(v, graph, op, 0), _value(v, graph, op, 1), optional_value(v, graph, op, 2), p)


def _conv_classic(gen: Any, op: Op) -> Step:
    p = prepare_conv(gen.g, op)
    int16 = p.requant.int16  # 16x8 mode: mcu_conv_s16 / mcu_depthwise_conv_s16 (int64 bias)
    as_conv = not int16 and gen.dw_as_conv_able(op, p)
    depthwise = op.type == "DEPTHWISE_CONV_2D" and not as_conv
    wino = not int16 and gen.winograd_able(op, p)
    x = gen.data(op, 0, "input")
    if wino or as_conv:
        w = op.inputs[1]
        filter_sym = gen.winograd_filter(op) if wino else gen.transposed_filter(op)
    else:
        w = gen.data(op, 1, "filter")
        filter_sym = ""
    b = gen.optional(op, 2, "bias")
    wt, out = gen.t[w], gen.t[op.outputs[0]]
    where = f"op {op.index} ({op.type})"
    in_d, out_d = dims4(gen.t[x].shape, where), dims4(out.shape, where)
    f_d = (int(wt.shape[0]), int(wt.shape[1]), int(wt.shape[2]), int(wt.shape[3]))
    if as_conv:
        f_d = (f_d[3], f_d[1], f_d[2], 1)
    per_channel = wt.is_per_channel
    quant = gen.requant_arrays(op, p.requant.multiplier, p.requant.shift, per_channel)
    rq = p.requant
    fields = [f".input_offset = {p.input_offset}", f".output_offset = {rq.output_zero_point}"]
    if depthwise:
        fields.append(f".ch_mult = {p.depth_multiplier}")
    fields += [f".stride = {{{p.stride_h}, {p.stride_w}}}", f".padding = {{{p.pad_h}, {p.pad_w}}}",
               f".dilation = {{{p.dilation_h}, {p.dilation_w}}}",
               f".activation = {{{rq.act_min}, {rq.act_max}}}"]
    ptype = "mcu_dw_conv_params" if depthwise else "mcu_conv_params"
    kernel = "mcu_depthwise_conv_s8" if depthwise else "mcu_conv_wino_s8" if wino else "mcu_conv_s8"
    if int16:
        kernel = kernel.replace("_s8", "_s16")
    decls = [f"static const {ptype} params = {{{', '.join(fields)}}};",
             f"static const mcu_dims in_dims = {dims_c(in_d)}, filter_dims = {dims_c(f_d)}, "
             f"out_dims = {dims_c(out_d)};"]
    extra = [f"stride {p.stride_h}x{p.stride_w}, padding {op.options.get('padding')} (top {p.pad_h}, "
             f"left {p.pad_w}), dilation {p.dilation_h}x{p.dilation_w}"
             + (f", depth multiplier {p.depth_multiplier}" if depthwise or as_conv else ""),
             f"fused activation {activation(op)} -> clamp [{rq.act_min}, {rq.act_max}]",
             requant_comment(rq.multiplier, rq.shift, per_channel)]
    if as_conv:
        extra.append(f"one input channel into {p.depth_multiplier} outputs: runs as a convolution "
                     f"(mcu_conv_s8) on the filter transposed on the host, {filter_sym}")
    if wino:
        extra.append(f"runs by Winograd F(2x2,3x3) (mcu_conv_wino_s8, bit-exact with mcu_conv_s8): "
                     f"16 multiplies per input channel and 2x2 output tile instead of 36; filter "
                     f"transformed on the host, int16 {filter_sym} ({wg.filter_bytes(f_d)} "
                     f"bytes, int8 form {wt.size})")
    reads = [x, w] + ([b] if b is not None else [])

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        return [f"st = {kernel}({ctx}, &params, &{quant}, &in_dims, {ptr(x)}, &filter_dims, "
                f"{filter_sym or ptr(w)}, {bias}, &out_dims, {ptr(out.index)});"]

    return Step(op, reads, out.index, extra, decls, render, kernel,
                 None if int16 and depthwise else f"{kernel}_get_buffer_size(&in_dims, &filter_dims)")


def _conv_cmsis_nn_s16_refusal(gen: Any, op: Op) -> str | None:
    """Why a 16x8 CONV_2D / DEPTHWISE_CONV_2D cannot go to arm_convolve_wrapper_s16 /
    arm_depthwise_conv_wrapper_s16 (None: it can)."""
    depthwise = op.type == "DEPTHWISE_CONV_2D"
    wt = gen.t[op.inputs[1]]
    if len(op.inputs) > 2 and op.inputs[2] >= 0 and gen.t[op.inputs[2]].dtype != "INT64":
        return f"bias is {gen.t[op.inputs[2]].dtype}; mcusim calls the s16 kernels with an int64 bias"
    n, c = gen.t[op.inputs[0]].shape[0], gen.t[op.inputs[0]].shape[3]
    if depthwise and n != 1:
        return f"batch {n}: arm_depthwise_conv_wrapper_s16 takes one image"
    if not depthwise:
        if wt.shape[3] != c:
            return f"grouped convolution ({c // wt.shape[3]} groups): arm_convolve_wrapper_s16 takes one group"
        assert wt.data is not None
        if (worst := s16_worst_sum(wt.data)) >= 2 ** 31:
            return (f"an output channel's int32 sum in arm_convolve_wrapper_s16 could reach {worst} (32768 * sum "
                    "|w|, over 2^31), where TFLM's reference sums in int64")
    return None


def _conv_cmsis_nn(gen: Any, op: Op) -> Any:
    """CONV_2D / DEPTHWISE_CONV_2D on CMSIS-NN's wrappers, as TFLM's cmsis_nn/conv.cc and
    depthwise_conv.cc call them: int8 activations (int32 bias) on the s8 wrappers, 16x8 on the s16
    ones (int64 bias; arm_convolve_wrapper_s16 takes it in a cmsis_nn_bias_data; offsets unused,
    the zero points being 0)."""
    depthwise = op.type == "DEPTHWISE_CONV_2D"
    wt = gen.t[op.inputs[1]]
    if wt.dtype != "INT8":
        return f"filter is {wt.dtype}; arm_convolve_wrapper_s8 takes int8"
    s16 = gen.t[op.inputs[0]].dtype == "INT16"
    if s16:
        if (why := _conv_cmsis_nn_s16_refusal(gen, op)) is not None:
            return why
    elif len(op.inputs) > 2 and op.inputs[2] >= 0 and gen.t[op.inputs[2]].dtype != "INT32":
        return f"bias is {gen.t[op.inputs[2]].dtype}; the s8 kernels take int32"
    p = prepare_conv(gen.g, op)
    xt, out = gen.t[op.inputs[0]], gen.t[op.outputs[0]]
    n, h, w, c = xt.shape
    oc = out.shape[3]
    if depthwise and n != 1:
        return f"batch {n}: arm_depthwise_conv_wrapper_s8 takes one image"
    x, wi, b = gen.data(op, 0, "input"), gen.data(op, 1, "filter"), gen.optional(op, 2, "bias")
    rq = p.requant
    mult, shift = quant_arrays(gen, op, rq.multiplier, rq.shift, oc)
    in_off, out_off = (0, 0) if s16 else (p.input_offset, rq.output_zero_point)
    fields = [f".input_offset = {in_off}", f".output_offset = {out_off}"]
    if depthwise:
        fields.append(f".ch_mult = {p.depth_multiplier}")
    fields += [f".stride = {tile(p.stride_h, p.stride_w)}", f".padding = {tile(p.pad_h, p.pad_w)}",
               f".dilation = {tile(p.dilation_h, p.dilation_w)}",
               f".activation = {{.min = {rq.act_min}, .max = {rq.act_max}}}"]
    ptype = "cmsis_nn_dw_conv_params" if depthwise else "cmsis_nn_conv_params"
    f_dims = (1, wt.shape[1], wt.shape[2], oc) if depthwise else tuple(int(d) for d in wt.shape)
    params = f"static const {ptype} params = {{{', '.join(fields)}}};"
    dims = (f"static const cmsis_nn_dims in_dims = {dims_c((n, h, w, c))}, filter_dims = {dims_c(f_dims)}, "
            f"bias_dims = {dims_c((1, 1, 1, oc))}, out_dims = {dims_c(tuple(out.shape))};")
    quant = f"static const cmsis_nn_per_channel_quant_params quant = {{(int32_t *){mult}, (int32_t *){shift}}};"
    # literal kernel names: `mcusim ops` reads them from this source
    if s16:
        kernel = "arm_depthwise_conv_wrapper_s16" if depthwise else "arm_convolve_wrapper_s16"
    else:
        kernel = "arm_depthwise_conv_wrapper_s8" if depthwise else "arm_convolve_wrapper_s8"
    extra = [f"stride {p.stride_h}x{p.stride_w}, padding {op.options.get('padding')} (top {p.pad_h}, "
             f"left {p.pad_w}), dilation {p.dilation_h}x{p.dilation_w}"
             + (f", depth multiplier {p.depth_multiplier}" if depthwise else ""),
             f"fused activation {activation(op)} -> clamp [{rq.act_min}, {rq.act_max}]" + (" (int16)" if s16 else ""),
             f"requantization per output channel: {mult}, {shift} in weights.c" + (" (int64 accumulator)" if s16 else ""),
             f"CMSIS-NN {kernel} (16x8: int16 activations, int8 filter, int64 bias)" if s16 else
             f"CMSIS-NN {kernel} (it picks the specialised kernel for this geometry)"]
    reads = [x, wi] + ([b] if b is not None else [])
    bias_struct = s16 and not depthwise  # arm_convolve_wrapper_s16 takes a cmsis_nn_bias_data

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        pre = [f"const cmsis_nn_bias_data bias = {{{bias}, false}}; /* int64 */"] if bias_struct else []
        return pre + [f"st = (mcu_status){kernel}({ctx}, &params, &quant, &in_dims, {ptr(x)}, &filter_dims, "
                      f"{ptr(wi)}, &bias_dims, {'&bias' if bias_struct else bias}, &out_dims, {ptr(out.index)});"]

    return Step(op, reads, out.index, extra, [params, quant, dims], render, kernel,
                 f"{kernel}_get_buffer_size(&params, &in_dims, &filter_dims, &out_dims)",
                 library=COMPONENT, sizing_decls=[params, dims])


CONV_2D = OpSpec(
    "CONV_2D", _conv_reference,
    options=Options(1, "Conv2DOptions", (
        ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
        ("fused_activation_function", 3, "activation", "NONE"),
        ("dilation_w_factor", 4, "i32", 1), ("dilation_h_factor", 5, "i32", 1),
        ("quantized_bias_type", 6, "tensor_type", "FLOAT32"))),
    min_inputs=2, check=_check_conv, macs=_conv_macs, classic=_conv_classic, cmsis_nn=_conv_cmsis_nn,
    tinyml=Tinyml("mcu_op_conv_2d", "conv.c"), kernels=("mcu_conv_s8", "mcu_conv_wino_s8", "mcu_conv_s16"),
    int16_paths=("classic", "tinyml", "cmsis-nn"),
)
DEPTHWISE_CONV_2D = OpSpec(
    "DEPTHWISE_CONV_2D", _conv_reference,
    options=Options(2, "DepthwiseConv2DOptions", (
        ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
        ("depth_multiplier", 3, "i32", 0),
        ("fused_activation_function", 4, "activation", "NONE"),
        ("dilation_w_factor", 5, "i32", 1), ("dilation_h_factor", 6, "i32", 1))),
    min_inputs=2, check=_check_conv, macs=_depthwise_macs, classic=_conv_classic, cmsis_nn=_conv_cmsis_nn,
    tinyml=Tinyml("mcu_op_depthwise_conv_2d", "depthwise_conv.c"), kernels=("mcu_depthwise_conv_s8", "mcu_depthwise_conv_s16"),
    int16_paths=("classic", "tinyml", "cmsis-nn"),
)

SPECS = (CONV_2D, DEPTHWISE_CONV_2D)
