"""TRANSPOSE_CONV: the int8 transposed convolution (a convolution's gradient; decoders, upsampling).

Inputs as the converter writes them: 0 the output shape (int32 [4], constant), 1 the filter
(int8 [O, KH, KW, C], per-channel or per-tensor, zero point 0), 2 the input (int8 NHWC),
3 the bias (int32 [O], optional). TFLM's reference kernel scatters every input pixel times
every filter tap into an int32 buffer of the output's size, then adds the bias and
requantizes per output channel; the padding comes from the *output* size (TFLM's
ComputePaddingHeightWidth with the output as the image). The reference here gathers instead
(for each output pixel, the taps that reach it): the same integer sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend.graph import Graph, Op
from ..frontend.validate import check_activation_tensor, require, tensor
from ..stacks.classic.cgen import Step, activation, requant_comment
from ..stacks.cmsisnn import COMPONENT, quant_arrays
from . import OpSpec, Options, Tinyml, Values
from ._common import (
    Requant,
    activation_range,
    compute_out_size,
    compute_padding,
    i64,
    inp,
    multipliers,
    out,
    value,
)

INPUT, FILTER, OUTPUT_SHAPE, BIAS = 2, 1, 0, 3


@dataclass(frozen=True)
class TransposeConvParams:
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    pad_h_offset: int
    """The odd pixel of the total padding (TFLM's padding_values.height_offset)."""
    pad_w_offset: int
    input_offset: int
    requant: Requant


def _padding(padding: str, size: int, k: int, stride: int) -> tuple[int, int]:
    """(padding, offset) along one axis as TFLM computes them: the output is the image."""
    conv_out = compute_out_size(padding, size, k, stride, 1)
    total = max(0, (conv_out - 1) * stride + k - size)
    return compute_padding(size, k, stride, 1, conv_out), total % 2


def prepare_transpose_conv(graph: Graph, op: Op) -> TransposeConvParams:
    """Padding from the output size, per-channel multipliers in double (TFLM's
    PopulateConvolutionQuantizationParams)."""
    x, w, y = inp(graph, op, INPUT), inp(graph, op, FILTER), out(graph, op)
    o = op.options
    sh, sw = int(o["stride_h"]), int(o["stride_w"])
    if sh <= 0 or sw <= 0:
        raise ModelError(f"op {op.index} (TRANSPOSE_CONV) has a non-positive stride")
    pad_h, off_h = _padding(o["padding"], y.shape[1], w.shape[1], sh)
    pad_w, off_w = _padding(o["padding"], y.shape[2], w.shape[2], sw)
    channels = w.shape[0]
    scales = [float(s) for s in w.scale] if w.is_per_channel else [float(w.scale[0])] * channels
    mult, shift = multipliers([float(x.scale[0]) * s / float(y.scale[0]) for s in scales])
    rq = Requant(mult, shift, int(y.zero_point[0]), *activation_range(op, y))
    return TransposeConvParams(sh, sw, pad_h, pad_w, off_h, off_w, -int(x.zero_point[0]), rq)


def _taps(in_size: int, k: int, stride: int, pad: int, out_size: int) -> np.ndarray:
    """0/1 matrix [out, in * k]: output position o receives input i through tap t when
    i * stride - pad + t == o."""
    m = np.zeros((out_size, in_size, k), np.int64)
    for i in range(in_size):
        for t in range(k):
            o = i * stride - pad + t
            if 0 <= o < out_size:
                m[o, i, t] = 1
    return m


def transpose_conv(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None,
                   out_hw: tuple[int, int], p: TransposeConvParams) -> np.ndarray:
    """int8 NHWC transposed convolution; weights [O, KH, KW, C], bias int32 [O] or None."""
    _, ih, iw, _ = x.shape
    _, kh, kw, _ = weights.shape
    th = _taps(ih, kh, p.stride_h, p.pad_h, out_hw[0])
    tw = _taps(iw, kw, p.stride_w, p.pad_w, out_hw[1])
    xs = i64(x) + p.input_offset
    # acc[n, oy, ox, oc] = sum th[oy, iy, ky] tw[ox, ix, kx] x[n, iy, ix, c] w[oc, ky, kx, c]
    acc = np.einsum("ayk,bxl,nyxc,oklc->nabo", th, tw, xs, i64(weights), optimize=True)
    if bias is not None:
        acc = acc + i64(bias)
    return p.requant.apply(acc)


def _reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    y = out(graph, op)
    bias = value(values, graph, op, BIAS) if len(op.inputs) > BIAS and op.inputs[BIAS] >= 0 else None
    return transpose_conv(value(values, graph, op, INPUT), value(values, graph, op, FILTER), bias,
                          (y.shape[1], y.shape[2]), prepare_transpose_conv(graph, op))


def _check(graph: Graph, op: Op) -> None:
    where = f"op {op.index} (TRANSPOSE_CONV)"
    x, w, shape, y = inp(graph, op, INPUT), inp(graph, op, FILTER), inp(graph, op, OUTPUT_SHAPE), out(graph, op)
    check_activation_tensor(x, op, "input")
    require(w, op, "filter", ("INT8",), constant=True, quantized=True)
    check_activation_tensor(y, op, "output")
    require(shape, op, "output shape", ("INT32",))
    bias = tensor(graph, op, BIAS, optional=True)
    if bias is not None:
        require(bias, op, "bias", ("INT32",), constant=True)
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        raise ModelError(f"{where} needs 4-D input, filter and output")
    if w.shape[3] != x.shape[3] or w.shape[0] != y.shape[3] or x.shape[0] != y.shape[0]:
        raise ModelError(f"{where}: filter {list(w.shape)} does not fit input {list(x.shape)} and "
                         f"output {list(y.shape)} (filter [O, KH, KW, C])")
    if np.any(w.zero_point != 0):
        raise ModelError(f"{where} filter has a non-zero zero point; TFLite's int8 weights are symmetric")
    if w.is_per_channel and w.quantized_dimension != 0:
        raise ModelError(f"{where} filter is quantized along axis {w.quantized_dimension}, not 0")
    if bias is not None and bias.size != w.shape[0]:
        raise ModelError(f"{where} bias has {bias.size} values for {w.shape[0]} output channels")
    if shape.data is not None and [int(v) for v in np.asarray(shape.data).reshape(-1)] != list(y.shape):
        raise ModelError(f"{where} output shape input {np.asarray(shape.data).tolist()} differs from the "
                         f"output tensor's {list(y.shape)}")
    if op.options.get("fused_activation_function", "NONE") not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise ModelError(f"{where} has fused activation {op.options['fused_activation_function']}")
    prepare_transpose_conv(graph, op)


def _macs(graph: Graph, op: Op) -> int:
    """Products whose target lies inside the output (TFLM's scatter skips the others)."""
    x, w, y = inp(graph, op, INPUT), inp(graph, op, FILTER), out(graph, op)
    p = prepare_transpose_conv(graph, op)
    hits_h = int(_taps(x.shape[1], w.shape[1], p.stride_h, p.pad_h, y.shape[1]).sum())
    hits_w = int(_taps(x.shape[2], w.shape[2], p.stride_w, p.pad_w, y.shape[2]).sum())
    return int(x.shape[0]) * hits_h * hits_w * int(w.shape[0]) * int(w.shape[3])


# --- classic path ------------------------------------------------------------------------------
def _dims(shape: tuple[int, ...]) -> str:
    return "{" + ", ".join(str(int(d)) for d in shape) + "}"


def _classic(gen: Any, op: Op) -> Any:
    p = prepare_transpose_conv(gen.g, op)
    x, w, b = gen.data(op, INPUT, "input"), gen.data(op, FILTER, "filter"), gen.optional(op, BIAS, "bias")
    wt, y = gen.t[w], gen.t[op.outputs[0]]
    rq = p.requant
    quant = gen.requant_arrays(op, rq.multiplier, rq.shift, wt.is_per_channel)
    decls = [f"static const mcu_transpose_conv_params params = {{.input_offset = {p.input_offset}, "
             f".output_offset = {rq.output_zero_point}, .stride = {{{p.stride_h}, {p.stride_w}}}, "
             f".padding = {{{p.pad_h}, {p.pad_w}}}, .activation = {{{rq.act_min}, {rq.act_max}}}}};",
             f"static const mcu_dims in_dims = {_dims(gen.t[x].shape)}, filter_dims = {_dims(wt.shape)}, "
             f"out_dims = {_dims(y.shape)};"]
    extra = [f"stride {p.stride_h}x{p.stride_w}, padding {op.options.get('padding')} (top {p.pad_h}, "
             f"left {p.pad_w}, from the output size)",
             f"fused activation {activation(op)} -> clamp [{rq.act_min}, {rq.act_max}]",
             requant_comment(rq.multiplier, rq.shift, wt.is_per_channel)]
    kernel = "mcu_transpose_conv_s8"

    def render(ptr: Any, ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        return [f"st = {kernel}({ctx}, &params, &{quant}, &in_dims, {ptr(x)}, &filter_dims, {ptr(w)}, "
                f"{bias}, &out_dims, {ptr(y.index)});"]

    reads = [x, w] + ([b] if b is not None else [])
    return Step(op, reads, y.index, extra, decls, render, kernel,
                 f"{kernel}_get_buffer_size(&params, &in_dims, &filter_dims, &out_dims)",
                 sizing_decls=decls)


def _cmsis_nn(gen: Any, op: Op) -> Any:
    """arm_transpose_conv_wrapper_s8 with TFLM's cmsis_nn/transpose_conv.cc parameters. Its two
    scratch buffers (the int32 column buffer, and the reversed filter of its stride <= 2 path)
    share the step's one context: the second starts after the first, rounded up to 4 bytes."""
    p = prepare_transpose_conv(gen.g, op)
    x, w, b = gen.data(op, INPUT, "input"), gen.data(op, FILTER, "filter"), gen.optional(op, BIAS, "bias")
    wt, y = gen.t[w], gen.t[op.outputs[0]]
    c = gen.t[x].shape[3]
    oc = int(wt.shape[0])
    rq = p.requant
    mult, shift = quant_arrays(gen, op, rq.multiplier, rq.shift, oc)
    params = (f"static const cmsis_nn_transpose_conv_params params = {{.input_offset = {p.input_offset}, "
              f".output_offset = {rq.output_zero_point}, .stride = {{.w = {p.stride_w}, .h = {p.stride_h}}}, "
              f".padding = {{.w = {p.pad_w}, .h = {p.pad_h}}}, .padding_offsets = {{.w = "
              f"{p.pad_w + p.pad_w_offset}, .h = {p.pad_h + p.pad_h_offset}}}, .dilation = {{.w = 1, .h = 1}}, "
              f".activation = {{.min = {rq.act_min}, .max = {rq.act_max}}}}};")
    dims = (f"static const cmsis_nn_dims in_dims = {_dims(gen.t[x].shape)}, filter_dims = "
            f"{_dims((oc, wt.shape[1], wt.shape[2], c))}, bias_dims = {{1, 1, 1, {oc}}}, "
            f"out_dims = {_dims(y.shape)};")
    quant = f"static const cmsis_nn_per_channel_quant_params quant = {{(int32_t *){mult}, (int32_t *){shift}}};"
    kernel = "arm_transpose_conv_wrapper_s8"
    first = "arm_transpose_conv_s8_get_buffer_size(&params, &in_dims, &filter_dims, &out_dims)"
    second = "arm_transpose_conv_s8_get_reverse_conv_buffer_size(&params, &in_dims, &filter_dims)"
    extra = [f"stride {p.stride_h}x{p.stride_w}, padding {op.options.get('padding')} (top {p.pad_h}, "
             f"left {p.pad_w}, offsets {p.pad_h_offset}, {p.pad_w_offset})",
             f"fused activation {activation(op)} -> clamp [{rq.act_min}, {rq.act_max}]",
             f"requantization per output channel: {mult}, {shift} in weights.c",
             f"CMSIS-NN {kernel} (a stride-1 convolution of the upscaled input with the reversed "
             f"filter when the stride is at most 2 and the input has more than 16 channels, else "
             f"arm_transpose_conv_s8); its two buffers share the scratch"]
    reads = [x, w] + ([b] if b is not None else [])

    def render(ptr: Any, ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        return ["{",
                f"    const int32_t first = ({first} + 3) & ~3;",
                f"    const cmsis_nn_context buf = {{({ctx})->buf, first}};",
                f"    const cmsis_nn_context rev = {{(int8_t *)({ctx})->buf + first, {second}}};",
                f"    st = (mcu_status){kernel}(&buf, &rev, &params, &quant, &in_dims, {ptr(x)}, "
                f"&filter_dims, {ptr(w)}, &bias_dims, {bias}, &out_dims, {ptr(y.index)});",
                "}"]

    return Step(op, reads, y.index, extra, [params, quant, dims], render, kernel,
                 f"(({first} + 3) & ~3) + {second}", library=COMPONENT, sizing_decls=[params, dims])


TRANSPOSE_CONV = OpSpec(
    "TRANSPOSE_CONV", _reference,
    options=Options(49, "TransposeConvOptions", (
        ("padding", 0, "padding", "SAME"), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
        ("fused_activation_function", 3, "activation", "NONE"),
        ("quantized_bias_type", 4, "tensor_type", "FLOAT32"))),
    min_inputs=3,
    check=_check,
    macs=_macs,
    classic=_classic,
    cmsis_nn=_cmsis_nn,
    tinyml=Tinyml("mcu_op_transpose_conv", "transpose_conv.c"),
    kernels=("mcu_transpose_conv_s8",),
)

SPECS = (TRANSPOSE_CONV,)
