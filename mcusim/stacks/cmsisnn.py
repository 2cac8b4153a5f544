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
from typing import Any

import numpy as np

from ..build.toolchain import compile_objects
from ..frontend.graph import Op
from ..simulator.board import Board
from .classic.cgen import array_c
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


# --- shared by the operators' CMSIS-NN emitters (mcusim/operators/, ``cmsis_nn=``) ------------
# Each emitter returns the op as a Step calling CMSIS-NN, or a string: why CMSIS-NN cannot run
# it, which the generator reports as a fallback to mcusim's own kernel. The parameters are the
# ones TFLM's kernels/cmsis_nn/*.cc pass (offsets = -zero point for inputs, +zero point for the
# output; per-channel multipliers and shifts for every output channel of a convolution).

def tile(h: int, w: int) -> str:
    """A cmsis_nn_tile initializer (height, width)."""
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


def s16_worst_sum(weights: np.ndarray) -> int:
    """The largest |sum| arm_convolve_wrapper_s16 (arm_convolve_s16) can reach in its int32 accumulator before adding the
    int64 bias (32768 * sum |w| over an output channel's weights, what the worst int16 input
    reaches); at 2^31 or more it could wrap where TFLM's reference sums in int64."""
    return int((32768 * np.abs(weights.astype(np.int64)).reshape(weights.shape[0], -1).sum(axis=1)).max())
