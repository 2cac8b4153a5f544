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


def quant_arrays(gen: Any, op: Op, mult: np.ndarray, shift: np.ndarray, n: int) -> tuple[str, str]:
    """``op<i>_multiplier`` / ``op<i>_shift`` (n int32 each) in weights.c; returns their names."""
    base = f"op{op.index}"
    m, s = np.resize(np.asarray(mult), n), np.resize(np.asarray(shift), n)
    lines = [f"/* op {op.index} {op.type}: requantization for CMSIS-NN, {n} value(s) (multiplier Q31, "
             "shift: + left) */",
             f"const int32_t {base}_multiplier[{n}] = {{", *array_c(m, 8), "};",
             f"const int32_t {base}_shift[{n}] = {{", *array_c(s, 16), "};"]
    gen.extra_weights.append((f"extern const int32_t {base}_multiplier[{n}], {base}_shift[{n}];", lines))
    return f"{base}_multiplier", f"{base}_shift"


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
}
