"""Arm CMSIS-NN, built from a TensorFlow Lite Micro tree for the classic path's ``--kernels cmsis-nn``.

CMSIS-NN is never part of mcusim: its sources are compiled in place from the tree that
:func:`mcusim.tflmtree.find_tree` finds (``downloads/cmsis_nn``), with the flags TFLM compiles it
with (the third-party README's "How a minimal build looks": ``-std=c17``, ``-O2``, the float APIs
off, ``-ffunction-sections -fdata-sections`` ...) and the core's own ``-mcpu`` flags, so the DSP
(SMLAD) or plain-C paths are chosen exactly as in a TFLM build for that core. The objects are
cached by content: the key holds the tree's content hash, the flags and the compiler version.

All 113 non-float sources are compiled (once per core and tree: 6.8 s wall on this two-core
machine with two compiler processes, then cached) and linked as objects; ``--gc-sections`` keeps only the functions the
generated code reaches, so the image holds what a hand-written deployment would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..build.toolchain import compile_objects
from ..frontend import reference as ref
from ..frontend.graph import Op
from ..simulator.board import Board
from .classic.cgen import Step, activation, array_c, dims4, dims_c
from .tflmtree import (
    TflmTree,
    cmsis_nn_defines,
    cmsis_nn_include_dirs,
    cmsis_nn_sources,
)

COMPONENT = "cmsis-nn"
"""Flash component (and kernel-time code) of the CMSIS-NN objects."""

OPT = "-O2"
FLAGS = ("-std=c17", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-ffunction-sections",
         "-fdata-sections", "-fmessage-length=0", "-funsigned-char", "-fomit-frame-pointer", OPT)
"""TFLM's C flags for CMSIS-NN (besides -mcpu/-mfpu/-mfloat-abi, which come from the core)."""


def objects(tree: TflmTree, board: Board) -> list[tuple[Path, Path]]:
    """(object, source) of every CMSIS-NN source of ``tree``, compiled for ``board``'s core."""
    return compile_objects(cmsis_nn_sources(tree), board, FLAGS, cmsis_nn_include_dirs(tree),
                           cmsis_nn_defines(board.core), f"tflm-tree:{tree.key()}")


# --- the classic generator's CMSIS-NN calls ----------------------------------------------------
# Each emitter returns the op as a Step calling CMSIS-NN, or a string: why CMSIS-NN cannot run
# it, which the generator reports as a fallback to mcusim's own kernel. The parameters are the
# ones TFLM's kernels/cmsis_nn/*.cc pass (offsets = -zero point for inputs, +zero point for the
# output; per-channel multipliers and shifts for every output channel of a convolution).

def emit(gen: Any, op: Op) -> Any:
    """``op`` as a CMSIS-NN call (a classic ``Step``) or the reason it falls back."""
    emitter = _EMITTERS.get(op.type)
    if emitter is None:
        return f"CMSIS-NN has no int8 {op.type} kernel"
    for i in [*op.inputs[:1], *op.outputs]:
        if gen.t[i].dtype != "INT8":
            return f"tensor {gen.t[i].name!r} is {gen.t[i].dtype}; the CMSIS-NN kernels used here take int8"
    return emitter(gen, op)


def tile(h: int, w: int) -> str:
    return f"{{.w = {w}, .h = {h}}}"


def _quant_arrays(gen: Any, op: Op, mult: np.ndarray, shift: np.ndarray, n: int) -> tuple[str, str]:
    """``op<i>_multiplier`` / ``op<i>_shift`` (n int32 each) in weights.c; returns their names."""
    base = f"op{op.index}"
    m, s = np.resize(np.asarray(mult), n), np.resize(np.asarray(shift), n)
    lines = [f"/* op {op.index} {op.type}: requantization for CMSIS-NN, {n} value(s) (multiplier Q31, "
             "shift: + left) */",
             f"const int32_t {base}_multiplier[{n}] = {{", *array_c(m, 8), "};",
             f"const int32_t {base}_shift[{n}] = {{", *array_c(s, 16), "};"]
    gen.extra_weights.append((f"extern const int32_t {base}_multiplier[{n}], {base}_shift[{n}];", lines))
    return f"{base}_multiplier", f"{base}_shift"


def _conv(gen: Any, op: Op) -> Any:
    depthwise = op.type == "DEPTHWISE_CONV_2D"
    wt = gen.t[op.inputs[1]]
    if wt.dtype != "INT8":
        return f"filter is {wt.dtype}; arm_convolve_wrapper_s8 takes int8"
    if len(op.inputs) > 2 and op.inputs[2] >= 0 and gen.t[op.inputs[2]].dtype != "INT32":
        return f"bias is {gen.t[op.inputs[2]].dtype}; the s8 kernels take int32"
    p = ref.prepare_conv(gen.g, op)
    xt, out = gen.t[op.inputs[0]], gen.t[op.outputs[0]]
    n, h, w, c = xt.shape
    oc = out.shape[3]
    if depthwise and n != 1:
        return f"batch {n}: arm_depthwise_conv_wrapper_s8 takes one image"
    x, wi, b = gen.data(op, 0, "input"), gen.data(op, 1, "filter"), gen.optional(op, 2, "bias")
    rq = p.requant
    mult, shift = _quant_arrays(gen, op, rq.multiplier, rq.shift, oc)
    fields = [f".input_offset = {p.input_offset}", f".output_offset = {rq.output_zero_point}"]
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
    kernel = "arm_depthwise_conv_wrapper_s8" if depthwise else "arm_convolve_wrapper_s8"
    extra = [f"stride {p.stride_h}x{p.stride_w}, padding {op.options.get('padding')} (top {p.pad_h}, "
             f"left {p.pad_w}), dilation {p.dilation_h}x{p.dilation_w}"
             + (f", depth multiplier {p.depth_multiplier}" if depthwise else ""),
             f"fused activation {activation(op)} -> clamp [{rq.act_min}, {rq.act_max}]",
             f"requantization per output channel: {mult}, {shift} in weights.c",
             f"CMSIS-NN {kernel} (it picks the specialised kernel for this geometry)"]
    reads = [x, wi] + ([b] if b is not None else [])

    def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
        bias = ptr(b) if b is not None else "NULL"
        return [f"st = (mcu_status){kernel}({ctx}, &params, &quant, &in_dims, {ptr(x)}, &filter_dims, "
                f"{ptr(wi)}, &bias_dims, {bias}, &out_dims, {ptr(out.index)});"]

    return Step(op, reads, out.index, extra, [params, quant, dims], render, kernel,
                 f"{kernel}_get_buffer_size(&params, &in_dims, &filter_dims, &out_dims)",
                 library=COMPONENT, sizing_decls=[params, dims])


def _fully_connected(gen: Any, op: Op) -> Any:
    wt = gen.t[op.inputs[1]]
    if wt.dtype != "INT8" or len(wt.shape) != 2:
        return f"weights are {wt.dtype} {list(wt.shape)}; arm_fully_connected_wrapper_s8 takes 2-D int8"
    if len(op.inputs) > 2 and op.inputs[2] >= 0 and gen.t[op.inputs[2]].dtype != "INT32":
        return f"bias is {gen.t[op.inputs[2]].dtype}; the s8 kernels take int32"
    p = ref.prepare_fully_connected(gen.g, op)
    x, wi, b = gen.data(op, 0, "input"), gen.data(op, 1, "weights"), gen.optional(op, 2, "bias")
    out = gen.t[op.outputs[0]]
    units, depth = int(wt.shape[0]), int(wt.shape[1])
    batches = gen.t[x].size // depth
    rq = p.requant
    per_channel = wt.is_per_channel
    mult, shift = _quant_arrays(gen, op, rq.multiplier, rq.shift, units) if per_channel else ("", "")
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


def _pad(gen: Any, op: Op) -> Any:
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


def _concatenation(gen: Any, op: Op) -> Any:
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


_EMITTERS: dict[str, Callable[[Any, Op], Any]] = {
    "PAD": _pad, "CONCATENATION": _concatenation,
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "FULLY_CONNECTED": _fully_connected,
}
