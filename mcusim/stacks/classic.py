"""The classic path: a model as plain generated C, in the style of hand-written CMSIS-NN code.

:func:`build_classic` turns a :class:`~mcusim.tflite.Graph` into four C files in a build
directory (plus ``weights.h``):

* ``weights.c`` -- every constant the kernels read, ``const`` so it stays in flash: int8
  weights, int32 biases, PReLU alphas, and the requantization multipliers and shifts (one
  pair per output channel where the model is per-channel), all computed on the host by
  :mod:`mcusim.reference`'s ``prepare_*`` functions, the same numbers the numpy reference uses;
* ``model.c`` / ``model.h`` -- ``model_invoke()``: the kernel calls of ``kernels/include/
  mcu_nn.h`` in graph order, one block per layer under a comment naming the op, its shapes and
  quantization, with the deployment protocol's probes around each (kernels/include/mcusim.h);
* ``main.c`` -- ``main()``: pointers ``model_input<k>`` / ``model_output<k>`` to the I/O
  tensors in the arena, the INPUTS_READY probe (the host writes the inputs there, as a TFLM
  application writes ``input(0)->data``: no I/O buffers besides the arena), then
  ``model_invoke()`` between the INVOKE probes.

No interpreter, no flatbuffer, no allocation. Shape-only operators are resolved at generation
time: RESHAPE, EXPAND_DIMS and SQUEEZE make their output a view of the input's bytes; SHAPE,
and STRIDED_SLICE / PACK over values known on the host, are evaluated here and vanish;
a STRIDED_SLICE that selects one contiguous run of its input is a view too. Such folded ops
emit no code and no probes. A strided slice that is not a view and a float -> int8 QUANTIZE
(no mcu_nn kernel does either) become a short generated loop.

Activation memory -- the graph inputs and outputs included -- is one static arena
(``model_arena``) whose offsets come from
:mod:`mcusim.planner` (tensor lifetimes over the op sequence); each op's kernel scratch is one
more buffer live only during that op. Scratch sizes are computed **in C**, by the very
``mcu_*_get_buffer_size`` functions of the kernel flavour and core being built: a small sizing
program calls them for every op and runs in the simulator before the plan is made, so the plan
never mirrors a kernel's formula by hand (and a kernel that asks for more still fails cleanly
with MCU_ERR_BUFFER, which ``model_invoke`` returns as a status).

``kernels="cmsis-nn"`` makes the layers call Arm CMSIS-NN instead (mcusim/stacks/cmsisnn.py: the
library built from a TFLM tree, the calls TFLM's CMSIS-NN kernels make); an op CMSIS-NN has no
kernel for keeps its mcu_nn (opt) call and is listed in ``notes["fallbacks"]``.

Two generator options trade flash for speed. ``lut_activations``: pointwise activations (and
x * sigmoid(x)) become 256-entry tables built on the host. ``winograd``: every CONV_2D that
:func:`mcusim.winograd.supported` accepts (3x3, stride 1, dilation 1, ungrouped, constant
filter) with an output map of at least 4x4 (:func:`mcusim.winograd.worthwhile`: below that the
direct kernel is measured faster) calls ``mcu_conv_wino_s8`` with its filter transformed on the host and stored as int16
(32 bytes per (output, input) channel pair instead of 9); the other convolutions stay on
``mcu_conv_s8``. Every FULLY_CONNECTED with constant int8 weights and weights offset 0 and at
least 8 output rows and 512 MACs (:func:`mcusim.winograd.fc_worthwhile`) calls
``mcu_fully_connected_wino_s8`` (Winograd's 1968 inner-product identity) with its per-row pair
sums computed here (:func:`mcusim.winograd.pair_sums`, 4 bytes per output row).

:func:`export_classic` writes the same sources, the kernel library, startup code, linker
script and a Makefile with mcusim's compiler flags, so ``make`` builds the same image.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import operators
from ..build.toolchain import (
    COMMON_FLAGS,
    KERNELS,
    LINK_FLAGS,
    LINKER_SCRIPT,
    MCUSIM_INCLUDE,
    STARTUP,
    build_elf,
    cache_dir,
    core_flags,
    memory_ld,
)
from ..errors import McusimError, ModelError
from ..fileio import write_if_changed
from ..frontend import reference as ref
from ..frontend.graph import Graph, Op, Tensor
from ..simulator.board import Board
from . import winograd as wg
from .deploy import CMSIS_NN, FLAVOURS, Firmware, kernel_sources, mcu_flavour
from .planner import Buffer, Plan, align_up, plan_memory
from .tflmtree import TflmTree, cmsis_nn_include_dirs, find_tree

ALIGNMENT = 4
"""Byte alignment of every arena buffer (the kernels need 4 for scratch and word loads)."""
TAG_INPUTS_READY = 0x5EED0010
"""kernels/include/mcusim.h MCUSIM_TAG_INPUTS_READY: the host writes the inputs now."""

VIEW_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")
FOLDABLE_OPS = VIEW_OPS + ("SHAPE", "STRIDED_SLICE", "PACK")


def _is_view(op_type: str) -> bool:
    spec = operators.get(op_type)
    return spec.view if spec is not None else op_type in VIEW_OPS


def _foldable(op_type: str) -> bool:
    spec = operators.get(op_type)
    return (spec.foldable or spec.view) if spec is not None else op_type in FOLDABLE_OPS

_C_TYPES = {"INT8": "int8_t", "INT32": "int32_t", "FLOAT32": "float", "INT64": "int64_t",
            "INT16": "int16_t", "UINT8": "uint8_t"}
_STATUS_NAMES = {1: "MCU_ERR_ARG (invalid argument)", 2: "MCU_ERR_BUFFER (scratch buffer too small)",
                 3: "MCU_ERR_UNSUPPORTED"}
CMSIS_NN_STATUS_NAMES = {1: "ARM_CMSIS_NN_ARG_ERROR", 2: "ARM_CMSIS_NN_NO_IMPL_ERROR", 3: "ARM_CMSIS_NN_FAILURE"}
"""-arm_cmsis_nn_status -> its name (CMSIS-NN Include/arm_nn_types.h)."""


# --- small helpers ----------------------------------------------------------------------------
def _ctype(t: Tensor) -> str:
    try:
        return _C_TYPES[t.dtype]
    except KeyError:
        raise ModelError(f"classic path: tensor {t.name!r} has type {t.dtype}, which it cannot hold") from None


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def _clean(text: str, limit: int = 60) -> str:
    text = text.replace("*/", "* /").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _dims4(shape: tuple[int, ...], where: str) -> tuple[int, int, int, int]:
    """A shape as NHWC with leading 1s added (or dropped, when there are more than 4 axes)."""
    dims = list(shape)
    while len(dims) > 4 and dims[0] == 1:
        dims.pop(0)
    if len(dims) > 4:
        raise ModelError(f"{where}: shape {list(shape)} has more than 4 axes; the mcu_nn kernels take NHWC")
    dims = [1] * (4 - len(dims)) + dims
    return dims[0], dims[1], dims[2], dims[3]


def _dims_c(d: tuple[int, int, int, int]) -> str:
    return "{%d, %d, %d, %d}" % d


def _float_c(x: float) -> str:
    """A float32 value as an exact C literal (hex float) with its decimal value alongside."""
    f = float(np.float32(x))
    return f"{f.hex()}f /* {f:.9g} */"


def _quant(t: Tensor) -> str:
    if not t.is_quantized:
        return t.dtype.lower()
    if t.is_per_channel:
        return f"{t.dtype.lower()}, per-channel: {t.scale.size} scales"
    return f"{t.dtype.lower()}, scale {float(t.scale[0]):.6g}, zp {int(t.zero_point[0])}"


def _activation(op: Op) -> str:
    return str(op.options.get("fused_activation_function", "NONE"))


def _array_c(values: np.ndarray, per_line: int) -> list[str]:
    flat = [str(int(v)) for v in np.asarray(values).reshape(-1)]
    if not flat:
        return ["    0"]
    return ["    " + ", ".join(flat[i:i + per_line]) + "," for i in range(0, len(flat), per_line)]


# --- the generator's model of where every tensor lives ----------------------------------------
@dataclass
class _Loc:
    """Where a tensor's bytes are: ``kind`` is ``input`` / ``output`` (key = graph position),
    ``arena`` (key = root tensor index), or ``const`` (key = tensor index of a host-known
    value); ``offset`` is in elements from the root's start."""

    kind: str
    key: int
    offset: int = 0


@dataclass
class _Step:
    """One emitted operation: a kernel call or a generated loop, in graph order."""

    op: Op | None
    """None for the final copies into output buffers."""
    reads: list[int]
    write: int
    comment: list[str]
    """Op-specific lines of the layer comment (tensor lines are added when rendering)."""
    decls: list[str]
    """``static const`` parameter and dims declarations inside the op's block."""
    render: Callable[[Callable[[int], str], str], list[str]]
    """(pointer of tensor, context expression) -> C statements setting ``st``."""
    kernel: str = ""
    """The mcu_nn function called ('' for generated code)."""
    scratch_call: str | None = None
    """C expression of the op's scratch size (a ``*_get_buffer_size`` call over ``decls``)."""
    scratch: int = 0
    library: str = "mcu_nn"
    """Whose function ``kernel`` is: ``mcu_nn`` (mcusim's) or ``cmsis-nn``."""
    sizing_decls: list[str] | None = None
    """The declarations ``scratch_call`` needs (default: the ``mcu_dims`` ones of ``decls``)."""


@dataclass
class ClassicModel:
    """The generated program before it is written out: sources, plan and facts for the report."""

    files: dict[str, str]
    plan: Plan
    buffers: list[Buffer]
    input_symbols: list[str]
    output_symbols: list[str]
    status_messages: dict[int, str]
    notes: dict[str, Any]
    arena_bytes: int
    libraries: dict[str, list[tuple[Path, Path]]]
    """Flash component -> (object, source) built with their own flags (CMSIS-NN)."""
    include_dirs: list[Path]
    """Include directories the generated code needs besides its own and mcu_nn's."""
    op_info: dict[int, dict[str, Any]]
    """Graph op index -> ``kernel`` (the function the generated code calls) and, where CMSIS-NN
    could not run the op, ``fallback`` (why)."""


# Pointwise int8 -> int8 ops: output[i] depends only on input[i] and constant quantization
# parameters, so a 256-entry table of the reference op IS the op, bit for bit.
LUT_OPS = frozenset({"LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "RELU", "RELU6", "QUANTIZE", "PRELU"})


class _Generator:
    def __init__(self, graph: Graph, model_name: str, lut_activations: bool = False,
                 winograd: bool = False, cmsis_nn: bool = False) -> None:
        self.cmsis_nn = cmsis_nn
        self.fallbacks: list[dict[str, Any]] = []  # ops CMSIS-NN cannot run: mcusim's kernel instead
        self.lut_activations = lut_activations
        self.winograd = winograd
        self.wino_names: dict[int, str] = {}  # filter tensor index -> its int16 transform in weights.c
        self.pair_names: dict[int, str] = {}  # FC weights tensor index -> its pair sums in weights.c
        self.fused: set[int] = set()
        self.g = graph
        self.model_name = model_name
        self.t = graph.tensors
        self.locs: dict[int, _Loc] = {}
        self.values: dict[int, np.ndarray] = {t.index: t.data for t in graph.tensors if t.data is not None}
        self.steps: list[_Step] = []
        self.folded: list[tuple[Op, str]] = []
        self.const_names: dict[int, str] = {}
        self.extra_weights: list[tuple[str, list[str]]] = []  # (declaration for weights.h, lines)
        for i in graph.inputs:  # the inputs are tensors in the arena: the application writes them there
            self.locs[i] = _Loc("arena", i)
        for i in self.values:
            self.locs[i] = _Loc("const", i)

    # -- names ----------------------------------------------------------------------------
    def const(self, index: int, name: str) -> str:
        """Register a host-known tensor for weights.c (first name wins); returns its symbol."""
        if index not in self.const_names:
            self.const_names[index] = name
        return self.const_names[index]

    def data(self, op: Op, pos: int, role: str) -> int:
        """Tensor index of input ``pos``; a constant one is named ``op<i>_<role>`` in weights.c."""
        index = op.inputs[pos]
        if index not in self.locs:
            raise ModelError(f"op {op.index} ({op.type}) reads tensor {self.t[index].name!r} before it is produced")
        if self.locs[index].kind == "const":
            self.const(index, f"op{op.index}_{role}")
        return index

    def optional(self, op: Op, pos: int, role: str) -> int | None:
        if pos < len(op.inputs) and op.inputs[pos] >= 0:
            return self.data(op, pos, role)
        return None

    def ptr(self, index: int) -> str:
        """The C expression of a tensor's first element (valid once outputs are bound)."""
        loc = self.locs[index]
        if loc.kind == "arena":
            base = f"T{loc.key}"
        else:
            base = self.const_names.get(loc.key, "(host constant)")
        return f"({base} + {loc.offset})" if loc.offset else base

    def describe(self, index: int, role: str, name: str | None = None) -> str:
        t = self.t[index]
        return f"{role:<8}{_shape(t.shape):<12} {_quant(t):<32} {name or self.ptr(index):<12} {_clean(t.name, 40)}"

    def comment(self, step: _Step) -> list[str]:
        """The comment over a layer: op, tensors (shape, quantization, C name), then details."""
        assert step.op is not None
        roles = ["input", "weights" if step.op.type == "FULLY_CONNECTED" else "filter", "bias"]
        if step.op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            roles = ["input"] + [f"input{n}" for n in range(2, len(step.reads) + 1)]
        if step.op.type == "PRELU":
            roles = ["input", "alpha"]
        lines = [f"op {step.op.index}: {step.op.type}"]
        wino = step.kernel == "mcu_conv_wino_s8" or (step.op.type == "DEPTHWISE_CONV_2D"
                                                     and step.kernel == "mcu_conv_s8")
        lines += [self.describe(i, roles[n] if n < len(roles) else "input",
                                self.wino_names[i] if wino and n == 1 else None)
                  for n, i in enumerate(step.reads)]
        lines.append(self.describe(step.write, "output"))
        return lines + step.comment

    # -- walking the graph ----------------------------------------------------------------
    def run(self) -> None:
        swish = self._swish_pairs() if self.lut_activations else {}
        for op in self.g.ops:
            if _foldable(op.type) and self._fold(op):
                continue
            if op.index in self.fused:
                self.folded.append((op, f"fused into the swish lookup table of op {swish[op.index]}"))
                continue
            if op.index in swish.values():
                step = self._lut_step(op, self._swish_table(op), "swish x * sigmoid(x) (LOGISTIC + MUL fused)")
                self.locs[op.outputs[0]] = _Loc("arena", op.outputs[0])
                self.steps.append(step)
                continue
            if self.lut_activations and self._lut_able(op):
                step = self._lut_step(op, self._op_table(op), f"{op.type} as a table")
                self._fallback(op, "--lut-activations: a table built on the host (mcu_lut_s8)")
                self.locs[op.outputs[0]] = _Loc("arena", op.outputs[0])
                self.steps.append(step)
                continue
            step, why = self._cmsis_nn_step(op) if self.cmsis_nn else (None, "")
            if step is None:
                spec = operators.get(op.type)
                emit = (partial(spec.classic, self) if spec.classic else None) if spec else \
                    getattr(self, f"_op_{op.type.lower()}", None)
                if emit is None:
                    raise ModelError(f"classic path: op {op.index} ({op.type}) has no kernel in mcu_nn "
                                     "(kernels/include/mcu_nn.h) and no generated form")
                step = emit(op)
                if why and step.kernel.startswith("mcu_"):
                    self._fallback(op, why)
            out = op.outputs[0]
            self.locs[out] = _Loc("arena", out)
            self.steps.append(step)
        for k, index in enumerate(self.g.outputs):
            loc = self.locs.get(index)
            if loc is None:
                raise ModelError(f"graph output {self.t[index].name!r} is never produced")
            if loc.kind == "const":
                self.const(loc.key, f"output{k}_value")

    def _cmsis_nn_step(self, op: Op) -> tuple[_Step | None, str]:
        """``op`` as a CMSIS-NN call, or (None, why CMSIS-NN cannot run it)."""
        from . import cmsisnn

        spec = operators.get(op.type)
        if spec is not None:
            if spec.cmsis_nn is None:
                return None, f"CMSIS-NN has no int8 {op.type} kernel"
            result = spec.cmsis_nn(self, op)
        else:
            result = cmsisnn.emit(self, op)
        return (result, "") if isinstance(result, _Step) else (None, str(result))

    def _fallback(self, op: Op, reason: str) -> None:
        if self.cmsis_nn:
            self.fallbacks.append({"index": op.index, "type": op.type, "used": "mcusim opt", "reason": reason})

    def _known(self, index: int) -> bool:
        return index in self.values

    def _fold(self, op: Op) -> bool:
        """Resolve a shape-only op at generation time; False when it needs code."""
        out = self.t[op.outputs[0]]
        x = op.inputs[0]
        dtype = out.numpy_dtype
        if op.type == "SHAPE":
            self.values[out.index] = np.array(self.t[x].shape, dtype=dtype)
            self.locs[out.index] = _Loc("const", out.index)
            self.folded.append((op, f"shape of tensor {x} = {list(self.t[x].shape)}"))
            return True
        inputs_known = all(i < 0 or self._known(i) for i in op.inputs)
        if inputs_known:
            self.values[out.index] = self._evaluate(op).astype(dtype).reshape(out.shape)
            self.locs[out.index] = _Loc("const", out.index)
            self.folded.append((op, "evaluated on the host: " + _clean(str(self.values[out.index].reshape(-1).tolist()), 40)))
            return True
        if _is_view(op.type):
            self.locs[out.index] = self._loc(x)
            self.folded.append((op, f"view of tensor {x} ({_shape(self.t[x].shape)} -> {_shape(out.shape)})"))
            return True
        if op.type == "PACK" and len(op.inputs) == 1:
            self.locs[out.index] = self._loc(x)
            self.folded.append((op, f"view of tensor {x} (pack of one)"))
            return True
        if op.type == "STRIDED_SLICE":
            offset = self._slice_view(op)
            if offset is not None:
                base = self._loc(x)
                self.locs[out.index] = _Loc(base.kind, base.key, base.offset + offset)
                self.folded.append((op, f"view of tensor {x} at element {offset}"))
                return True
        return False

    def _loc(self, index: int) -> _Loc:
        loc = self.locs[index]
        return _Loc(loc.kind, loc.key, loc.offset)

    def _evaluate(self, op: Op) -> np.ndarray:
        v = self.values
        spec = operators.get(op.type)
        if spec is not None:
            return np.asarray(spec.reference(self.g, op, v))
        if _is_view(op.type):
            return v[op.inputs[0]]
        if op.type == "PACK":
            arrays = [v[i] for i in op.inputs]
            axis = int(op.options.get("axis", 0))
            return np.stack(arrays, axis=axis + arrays[0].ndim + 1 if axis < 0 else axis)
        assert op.type == "STRIDED_SLICE"
        return ref.strided_slice(v[op.inputs[0]], v[op.inputs[1]], v[op.inputs[2]], self._strides(op), op.options)

    def _strides(self, op: Op) -> np.ndarray:
        if len(op.inputs) > 3 and op.inputs[3] >= 0:
            if not self._known(op.inputs[3]):
                raise ModelError(f"op {op.index} (STRIDED_SLICE) has run-time strides; the classic path needs them constant")
            return self.values[op.inputs[3]]
        return np.ones(len(self.t[op.inputs[0]].shape), np.int64)

    def _slice_indices(self, op: Op) -> np.ndarray:
        """Flat input index of every output element of a STRIDED_SLICE (begin/end/strides
        must be known on the host)."""
        x = self.t[op.inputs[0]]
        for pos in (1, 2):
            if not self._known(op.inputs[pos]):
                raise ModelError(f"op {op.index} (STRIDED_SLICE) has a run-time begin/end; the classic path needs them constant")
        grid = np.arange(x.size, dtype=np.int64).reshape(x.shape)
        return ref.strided_slice(grid, self.values[op.inputs[1]], self.values[op.inputs[2]],
                                 self._strides(op), op.options).reshape(-1)

    def _slice_view(self, op: Op) -> int | None:
        idx = self._slice_indices(op)
        if idx.size and np.array_equal(idx, idx[0] + np.arange(idx.size)):
            return int(idx[0])
        return None

    # -- operators ------------------------------------------------------------------------
    def _requant_arrays(self, op: Op, mult: np.ndarray, shift: np.ndarray, per_channel: bool) -> str:
        """Emit op<i>_multiplier / op<i>_shift / op<i>_quant to weights.c; returns the quant name."""
        n = len(mult) if per_channel else 1
        base = f"op{op.index}"
        what = f"{n} output channels" if per_channel else "per tensor"
        lines = [f"/* op {op.index} {op.type}: requantization, {what} (multiplier Q31, shift: + left) */",
                 f"const int32_t {base}_multiplier[{n}] = {{", *_array_c(mult[:n], 8), "};",
                 f"const int32_t {base}_shift[{n}] = {{", *_array_c(shift[:n], 16), "};",
                 f"const mcu_quant_params {base}_quant = {{{base}_multiplier, {base}_shift, {int(per_channel)}}};"]
        self.extra_weights.append((f"extern const mcu_quant_params {base}_quant;", lines))
        return f"{base}_quant"

    def _requant_comment(self, mult: np.ndarray, shift: np.ndarray, per_channel: bool) -> str:
        if per_channel:
            return f"requantization per channel: {len(mult)} multipliers and shifts in weights.c"
        return f"requantization per tensor: multiplier {int(mult[0])}, shift {int(shift[0])}"

    def _winograd_able(self, op: Op, p: ref.ConvParams) -> bool:
        """Whether the ``winograd`` option turns this op into an mcu_conv_wino_s8 call: a
        CONV_2D whose geometry the kernel takes, whose filter is known on the host, and whose
        output map is large enough for the kernel to be the faster one (winograd.worthwhile)."""
        if not self.winograd or op.type != "CONV_2D" or not self._known(op.inputs[1]):
            return False
        x, w = self.t[op.inputs[0]], self.t[op.inputs[1]]
        if x.dtype != "INT8" or w.dtype != "INT8" or len(x.shape) != 4 or len(w.shape) != 4 \
                or w.shape[3] < 1 or x.shape[3] % w.shape[3]:
            return False
        return wg.supported(tuple(w.shape), (p.stride_h, p.stride_w), (p.dilation_h, p.dilation_w),
                            x.shape[3] // w.shape[3]) and wg.worthwhile(p.out_h, p.out_w)

    def _winograd_filter(self, op: Op) -> str:
        """Emit the int16 Winograd transform of op's filter to weights.c (once per filter
        tensor); returns its symbol. The int8 filter itself is not emitted for this op."""
        index = op.inputs[1]
        if index not in self.wino_names:
            wt = self.t[index]
            name = f"op{op.index}_filter_wino"
            values = wg.transform_filter(np.asarray(self.values[index]).astype(np.int8))
            assert values.nbytes == wg.filter_bytes(tuple(wt.shape))
            decl = f"const int16_t {name}[{values.size}] __attribute__((aligned(4)))"
            self.extra_weights.append((f"extern {decl};", [
                f"/* tensor {index} {_clean(wt.name)}: {_shape(wt.shape)} {_quant(wt)}, as Winograd "
                f"F(2x2,3x3) G'gG'^T (G' = 2G): int16 [O'/2][16][C'/2][2][2], {values.nbytes} bytes "
                f"(int8 filter: {wt.size}) */",
                f"{decl} = {{", *_array_c(values, 16), "};"]))
            self.wino_names[index] = name
        return self.wino_names[index]

    def _dw_as_conv_able(self, op: Op, p: ref.ConvParams) -> bool:
        """A DEPTHWISE_CONV_2D of one input channel into M > 1 outputs with a host-known filter
        is a CONV_2D of 1 input channel: emitted as mcu_conv_s8 on the filter transposed on the
        host (the optimized depthwise kernel would transpose it into scratch on every call)."""
        x, w = self.t[op.inputs[0]], self.t[op.inputs[1]]
        return op.type == "DEPTHWISE_CONV_2D" and p.depth_multiplier > 1 and len(x.shape) == 4 \
            and x.shape[3] == 1 and len(w.shape) == 4 and self._known(op.inputs[1])

    def _transposed_filter(self, op: Op) -> str:
        """Emit op's depthwise filter [1][KH][KW][M] as a convolution filter [M][KH][KW][1] to
        weights.c (once per filter tensor); returns its symbol."""
        index = op.inputs[1]
        if index not in self.wino_names:
            wt = self.t[index]
            name = f"op{op.index}_filter_conv"
            values = np.ascontiguousarray(np.asarray(self.values[index]).astype(np.int8)[0].transpose(2, 0, 1))
            decl = f"const int8_t {name}[{values.size}] __attribute__((aligned(4)))"
            self.extra_weights.append((f"extern {decl};", [
                f"/* tensor {index} {_clean(wt.name)}: {_shape(wt.shape)} {_quant(wt)}, transposed to a "
                f"convolution filter [M][KH][KW][1] */",
                f"{decl} = {{", *_array_c(values.reshape(-1), 16), "};"]))
            self.wino_names[index] = name
        return self.wino_names[index]

    def _conv_like(self, op: Op) -> _Step:
        p = ref.prepare_conv(self.g, op)
        as_conv = self._dw_as_conv_able(op, p)
        depthwise = op.type == "DEPTHWISE_CONV_2D" and not as_conv
        wino = self._winograd_able(op, p)
        x = self.data(op, 0, "input")
        if wino or as_conv:
            w = op.inputs[1]
            filter_sym = self._winograd_filter(op) if wino else self._transposed_filter(op)
        else:
            w = self.data(op, 1, "filter")
            filter_sym = ""
        b = self.optional(op, 2, "bias")
        wt, out = self.t[w], self.t[op.outputs[0]]
        where = f"op {op.index} ({op.type})"
        in_d, out_d = _dims4(self.t[x].shape, where), _dims4(out.shape, where)
        f_d = (int(wt.shape[0]), int(wt.shape[1]), int(wt.shape[2]), int(wt.shape[3]))
        if as_conv:
            f_d = (f_d[3], f_d[1], f_d[2], 1)
        per_channel = wt.is_per_channel
        quant = self._requant_arrays(op, p.requant.multiplier, p.requant.shift, per_channel)
        rq = p.requant
        fields = [f".input_offset = {p.input_offset}", f".output_offset = {rq.output_zero_point}"]
        if depthwise:
            fields.append(f".ch_mult = {p.depth_multiplier}")
        fields += [f".stride = {{{p.stride_h}, {p.stride_w}}}", f".padding = {{{p.pad_h}, {p.pad_w}}}",
                   f".dilation = {{{p.dilation_h}, {p.dilation_w}}}",
                   f".activation = {{{rq.act_min}, {rq.act_max}}}"]
        ptype = "mcu_dw_conv_params" if depthwise else "mcu_conv_params"
        kernel = "mcu_depthwise_conv_s8" if depthwise else "mcu_conv_wino_s8" if wino else "mcu_conv_s8"
        decls = [f"static const {ptype} params = {{{', '.join(fields)}}};",
                 f"static const mcu_dims in_dims = {_dims_c(in_d)}, filter_dims = {_dims_c(f_d)}, "
                 f"out_dims = {_dims_c(out_d)};"]
        extra = [f"stride {p.stride_h}x{p.stride_w}, padding {op.options.get('padding')} (top {p.pad_h}, "
                 f"left {p.pad_w}), dilation {p.dilation_h}x{p.dilation_w}"
                 + (f", depth multiplier {p.depth_multiplier}" if depthwise or as_conv else ""),
                 f"fused activation {_activation(op)} -> clamp [{rq.act_min}, {rq.act_max}]",
                 self._requant_comment(rq.multiplier, rq.shift, per_channel)]
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

        return _Step(op, reads, out.index, extra, decls, render, kernel,
                     f"{kernel}_get_buffer_size(&in_dims, &filter_dims)")

    _op_conv_2d = _conv_like
    _op_depthwise_conv_2d = _conv_like

    def _winograd_fc_able(self, op: Op, p: ref.FullyConnectedParams) -> bool:
        """Whether the ``winograd`` option turns this FULLY_CONNECTED into an
        mcu_fully_connected_wino_s8 call: constant int8 weights, weights offset 0, and a layer
        large enough for the kernel to be the faster one (winograd.fc_worthwhile)."""
        if not self.winograd or not self._known(op.inputs[1]) or p.weights_offset != 0:
            return False
        w = self.t[op.inputs[1]]
        return w.dtype == "INT8" and len(w.shape) == 2 and 1 <= w.shape[1] <= 65535 \
            and wg.fc_worthwhile(w.shape[1], w.shape[0])

    def _pair_sums(self, op: Op) -> str:
        """Emit the pair sums of op's weights (Winograd's inner-product identity) to weights.c,
        once per weights tensor; returns its symbol."""
        index = op.inputs[1]
        if index not in self.pair_names:
            wt = self.t[index]
            name = f"op{op.index}_pair_sums"
            values = wg.pair_sums(np.asarray(self.values[index]).astype(np.int8).reshape(wt.shape))
            decl = f"const int32_t {name}[{values.size}]"
            self.extra_weights.append((f"extern {decl};", [
                f"/* tensor {index} {_clean(wt.name)}: pair sums of Winograd's inner-product "
                f"identity, sum_j (w[o][4j] w[o][4j+1] + w[o][4j+2] w[o][4j+3]) per output row "
                f"({values.nbytes} bytes) */",
                f"{decl} = {{", *_array_c(values, 8), "};"]))
            self.pair_names[index] = name
        return self.pair_names[index]

    def _op_fully_connected(self, op: Op) -> _Step:
        p = ref.prepare_fully_connected(self.g, op)
        inner_product = self._winograd_fc_able(op, p)
        x = self.data(op, 0, "input")
        w = self.data(op, 1, "weights")
        b = self.optional(op, 2, "bias")
        pairs = self._pair_sums(op) if inner_product else ""
        wt, out = self.t[w], self.t[op.outputs[0]]
        units, depth = int(wt.shape[0]), int(wt.shape[1])
        batches = self.t[x].size // depth
        per_channel = wt.is_per_channel
        rq = p.requant
        quant = self._requant_arrays(op, rq.multiplier, rq.shift, per_channel)
        decls = [f"static const mcu_fc_params params = {{.input_offset = {p.input_offset}, "
                 f".filter_offset = {p.weights_offset}, .output_offset = {rq.output_zero_point}, "
                 f".activation = {{{rq.act_min}, {rq.act_max}}}}};",
                 f"static const mcu_dims in_dims = {{{batches}, 1, 1, {depth}}}, filter_dims = "
                 f"{{{units}, 1, 1, {depth}}}, out_dims = {{{batches}, 1, 1, {units}}};"]
        extra = [f"{batches} x [{depth}] . [{units} x {depth}]^T, fused activation {_activation(op)} "
                 f"-> clamp [{rq.act_min}, {rq.act_max}]",
                 self._requant_comment(rq.multiplier, rq.shift, per_channel)]
        if inner_product:
            extra.append(f"runs by Winograd's inner-product identity (mcu_fully_connected_wino_s8, "
                         f"bit-exact with mcu_fully_connected_s8): one multiply per two MACs; the "
                         f"weight term precomputed on the host, {pairs} ({4 * units} bytes)")
        reads = [x, w] + ([b] if b is not None else [])
        kernel = "mcu_fully_connected_wino_s8" if inner_product else "mcu_fully_connected_s8"

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            bias = ptr(b) if b is not None else "NULL"
            more = f"{pairs}, " if inner_product else ""
            return [f"st = {kernel}({ctx}, &params, &{quant}, &in_dims, {ptr(x)}, "
                    f"&filter_dims, {ptr(w)}, {more}{bias}, &out_dims, {ptr(out.index)});"]

        return _Step(op, reads, out.index, extra, decls, render, kernel,
                     f"{kernel}_get_buffer_size(&filter_dims)")

    def _pool(self, op: Op) -> _Step:
        p = ref.prepare_pool(self.g, op)
        x = self.data(op, 0, "input")
        out = self.t[op.outputs[0]]
        where = f"op {op.index} ({op.type})"
        kernel = "mcu_max_pool_s8" if op.type == "MAX_POOL_2D" else "mcu_avg_pool_s8"
        decls = [f"static const mcu_pool_params params = {{.stride = {{{p.stride_h}, {p.stride_w}}}, "
                 f".padding = {{{p.pad_h}, {p.pad_w}}}, .filter = {{{p.filter_h}, {p.filter_w}}}, "
                 f".activation = {{{p.act_min}, {p.act_max}}}}};",
                 f"static const mcu_dims in_dims = {_dims_c(_dims4(self.t[x].shape, where))}, "
                 f"out_dims = {_dims_c(_dims4(out.shape, where))};"]
        extra = [f"window {p.filter_h}x{p.filter_w}, stride {p.stride_h}x{p.stride_w}, padding "
                 f"{op.options.get('padding')} (top {p.pad_h}, left {p.pad_w}), clamp [{p.act_min}, {p.act_max}]"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = {kernel}({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

        scratch = "mcu_avg_pool_s8_get_buffer_size(&in_dims)" if kernel == "mcu_avg_pool_s8" else None
        return _Step(op, [x], out.index, extra, decls, render, kernel, scratch)

    _op_max_pool_2d = _pool
    _op_average_pool_2d = _pool

    def _op_mean(self, op: Op) -> _Step:
        p = ref.prepare_mean(self.g, op)
        x = self.data(op, 0, "input")
        xt, out = self.t[x], self.t[op.outputs[0]]
        axes = sorted(p.axes)
        if axes != list(range(axes[0], axes[-1] + 1)):
            raise ModelError(f"classic path: op {op.index} (MEAN) over axes {axes}: mcu_mean_s8 reduces "
                             "one contiguous block of axes")
        shape = xt.shape
        outer = math.prod(shape[:axes[0]])
        count = math.prod(shape[axes[0]:axes[-1] + 1])
        inner = math.prod(shape[axes[-1] + 1:])
        decls = [f"static const mcu_mean_params params = {{.input_zero_point = {p.input_zero_point}, "
                 f".output_zero_point = {p.output_zero_point}, .multiplier = {p.multiplier}, .shift = {p.shift}}};",
                 f"static const mcu_dims in_dims = {{{outer}, {count}, 1, {inner}}}, "
                 f"out_dims = {{{outer}, 1, 1, {inner}}};"]
        extra = [f"mean over axes {list(p.axes)} ({count} values each), multiplier {p.multiplier}, "
                 f"shift {p.shift} (1/{count} folded in by the kernel)"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = mcu_mean_s8({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

        return _Step(op, [x], out.index, extra, decls, render, "mcu_mean_s8",
                     "mcu_mean_s8_get_buffer_size(&in_dims)")

    def _binary(self, op: Op) -> _Step:
        a, b = self.data(op, 0, "a"), self.data(op, 1, "b")
        out = self.t[op.outputs[0]]
        where = f"op {op.index} ({op.type})"
        if op.type == "ADD":
            p = ref.prepare_add(self.g, op)
            fields = [f".input1_offset = {p.input1_offset}", f".input2_offset = {p.input2_offset}",
                      f".left_shift = {p.left_shift}",
                      f".input1_multiplier = {p.input1_multiplier}", f".input1_shift = {p.input1_shift}",
                      f".input2_multiplier = {p.input2_multiplier}", f".input2_shift = {p.input2_shift}",
                      f".output_multiplier = {p.output_multiplier}", f".output_shift = {p.output_shift}",
                      f".output_offset = {p.output_offset}", f".activation = {{{p.act_min}, {p.act_max}}}"]
            ptype, kernel = "mcu_add_params", "mcu_add_s8"
            act = (p.act_min, p.act_max)
        else:
            q = ref.prepare_mul(self.g, op)
            fields = [f".input1_offset = {q.input1_offset}", f".input2_offset = {q.input2_offset}",
                      f".output_multiplier = {q.output_multiplier}", f".output_shift = {q.output_shift}",
                      f".output_offset = {q.output_offset}", f".activation = {{{q.act_min}, {q.act_max}}}"]
            ptype, kernel = "mcu_mul_params", "mcu_mul_s8"
            act = (q.act_min, q.act_max)
        decls = [f"static const {ptype} params = {{{', '.join(fields)}}};",
                 f"static const mcu_dims a_dims = {_dims_c(_dims4(self.t[a].shape, where))}, "
                 f"b_dims = {_dims_c(_dims4(self.t[b].shape, where))}, "
                 f"out_dims = {_dims_c(_dims4(out.shape, where))};"]
        extra = [f"elementwise with broadcasting, fused activation {_activation(op)} -> clamp [{act[0]}, {act[1]}]"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = {kernel}({ctx}, &params, &a_dims, {ptr(a)}, &b_dims, {ptr(b)}, &out_dims, {ptr(out.index)});"]

        return _Step(op, [a, b], out.index, extra, decls, render, kernel)

    _op_add = _binary
    _op_mul = _binary

    def _join(self, op: Op, axis: int, in_shapes: list[tuple[int, ...]], note: str) -> _Step:
        """CONCATENATION (and PACK, as a concatenation along the new axis) by mcu_concatenation_s8."""
        out = self.t[op.outputs[0]]
        where = f"op {op.index} ({op.type})"
        rank = len(out.shape)
        axis = axis + rank if axis < 0 else axis
        out_d = _dims4(out.shape, where)
        if rank > 4:
            raise ModelError(f"{where}: {rank}-D output; mcu_concatenation_s8 takes NHWC")
        axis4 = axis + 4 - rank
        ins = [self.data(op, i, f"input{i}") for i in range(len(op.inputs))]
        dims = ", ".join(_dims_c(_dims4(s, where)) for s in in_shapes)
        zp = int(out.zero_point[0]) if out.is_quantized else 0
        decls = [f"static const mcu_concat_params params = {{.axis = {axis4}, .num_inputs = {len(ins)}, "
                 f".output_zero_point = {zp}, .requant = NULL}};",
                 f"static const mcu_dims in_dims[{len(ins)}] = {{{dims}}}, out_dims = {_dims_c(out_d)};"]
        extra = [f"{note} along axis {axis} (NHWC axis {axis4}); bytes are copied (TFLM's int8 "
                 "concatenation does not requantize)"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"const int8_t *const inputs[{len(ins)}] = {{{', '.join(ptr(i) for i in ins)}}};",
                    f"st = mcu_concatenation_s8({ctx}, &params, in_dims, inputs, &out_dims, {ptr(out.index)});"]

        return _Step(op, ins, out.index, extra, decls, render, "mcu_concatenation_s8")

    def _op_concatenation(self, op: Op) -> _Step:
        if _activation(op) != "NONE":
            raise ModelError(f"classic path: op {op.index} (CONCATENATION) with a fused activation is not supported")
        return self._join(op, int(op.options.get("axis", 0)), [self.t[i].shape for i in op.inputs], "concatenation")

    def _op_pack(self, op: Op) -> _Step:
        out = self.t[op.outputs[0]]
        axis = int(op.options.get("axis", 0))
        axis = axis + len(out.shape) if axis < 0 else axis
        shape = tuple(1 if d == axis else s for d, s in enumerate(out.shape))
        return self._join(op, axis, [shape] * len(op.inputs), f"pack of {len(op.inputs)} tensors")

    def _op_pad(self, op: Op) -> _Step:
        x = self.data(op, 0, "input")
        out = self.t[op.outputs[0]]
        where = f"op {op.index} (PAD)"
        if not self._known(op.inputs[1]):
            raise ModelError(f"{where} has run-time paddings; the classic path needs them constant")
        widths = np.asarray(self.values[op.inputs[1]]).reshape(-1, 2).astype(int).tolist()
        rank = len(widths)
        if rank > 4:
            raise ModelError(f"{where}: {rank}-D input; mcu_pad_s8 takes NHWC")
        before = [0] * (4 - rank) + [w[0] for w in widths]
        after = [0] * (4 - rank) + [w[1] for w in widths]
        value = int(out.zero_point[0])
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            value = int(np.asarray(self.values[op.inputs[2]]).reshape(-1)[0])
        decls = [f"static const mcu_pad_params params = {{.before = {_dims_c(tuple(before))}, "  # type: ignore[arg-type]
                 f".after = {_dims_c(tuple(after))}, .pad_value = {value}}};",  # type: ignore[arg-type]
                 f"static const mcu_dims in_dims = {_dims_c(_dims4(self.t[x].shape, where))}, "
                 f"out_dims = {_dims_c(_dims4(out.shape, where))};"]
        extra = [f"paddings (before, after) per axis {widths}, border value {value}"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = mcu_pad_s8({ctx}, &params, &in_dims, {ptr(x)}, &out_dims, {ptr(out.index)});"]

        return _Step(op, [x], out.index, extra, decls, render, "mcu_pad_s8")

    def unary(self, op: Op, kernel: str, ptype: str | None, fields: list[str], extra: list[str],
               dims: tuple[int, int, int, int] | None = None) -> _Step:
        """A pointwise kernel ``kernel(ctx, &params, &dims, in, out)``."""
        x = self.data(op, 0, "input")
        out = self.t[op.outputs[0]]
        d = dims or (1, 1, 1, out.size)
        decls = ([f"static const {ptype} params = {{{', '.join(fields)}}};"] if ptype else []) + \
            [f"static const mcu_dims dims = {_dims_c(d)};"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = {kernel}({ctx}, &params, &dims, {ptr(x)}, {ptr(out.index)});"]

        return _Step(op, [x], out.index, extra, decls, render, kernel)

    # -- lookup-table activations (mcusim's extension for the classic path) -------------------
    def _lut_able(self, op: Op) -> bool:
        if op.type not in LUT_OPS:
            return False
        x, out = self.t[op.inputs[0]], self.t[op.outputs[0]]
        if x.dtype != "INT8" or out.dtype != "INT8" or x.is_constant:
            return False
        return op.type != "PRELU" or self.t[op.inputs[1]].size == 1  # one alpha for all channels

    def _op_table(self, op: Op) -> np.ndarray:
        """The op evaluated by the reference on all 256 int8 inputs."""
        x = np.arange(-128, 128, dtype=np.int8)
        values = {i: self.t[i].data for i in op.inputs if i >= 0 and self.t[i].data is not None}
        values[op.inputs[0]] = x
        return np.asarray(ref.evaluate_op(self.g, op, values)).reshape(256).astype(np.int8)

    def _swish_pairs(self) -> dict[int, int]:
        """LOGISTIC op index -> MUL op index for every x * sigmoid(x) whose sigmoid feeds only it."""
        consumers: dict[int, list[Op]] = {}
        for op in self.g.ops:
            for i in op.inputs:
                consumers.setdefault(i, []).append(op)
        pairs = {}
        for op in self.g.ops:
            if op.type != "LOGISTIC" or not self._lut_able(op):
                continue
            s_out = op.outputs[0]
            users = consumers.get(s_out, [])
            if len(users) != 1 or s_out in self.g.outputs:
                continue
            mul = users[0]
            if mul.type == "MUL" and sorted(mul.inputs[:2]) == sorted([op.inputs[0], s_out]) \
                    and self.t[mul.outputs[0]].dtype == "INT8":
                pairs[op.index] = mul.index
                self.fused.add(op.index)
        return pairs

    def _swish_table(self, mul: Op) -> np.ndarray:
        sig = next(o for o in self.g.ops if o.index in self.fused and o.outputs[0] in mul.inputs)
        x = np.arange(-128, 128, dtype=np.int8)
        s = np.asarray(ref.evaluate_op(self.g, sig, {sig.inputs[0]: x})).astype(np.int8)
        values = {sig.inputs[0]: x, sig.outputs[0]: s}
        return np.asarray(ref.evaluate_op(self.g, mul, values)).reshape(256).astype(np.int8)

    def _lut_step(self, op: Op, table: np.ndarray, what: str) -> _Step:
        x = op.inputs[0]
        if op.type == "MUL":  # the swish pair: read the LOGISTIC's input
            sig = next(o for o in self.g.ops if o.index in self.fused and o.outputs[0] in op.inputs)
            x = sig.inputs[0]
        out = self.t[op.outputs[0]]
        name = f"lut_op{op.index}"
        self.extra_weights.append((f"extern const int8_t {name}[256];",
                                   [f"const int8_t {name}[256] = {{"] + _array_c(table, 16) + ["};"]))
        decls = [f"static const mcu_dims dims = {_dims_c((1, 1, 1, out.size))};"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = mcu_lut_s8({ctx}, {name}, &dims, {ptr(x)}, {ptr(out.index)});"]

        comment = [f"{what}: 256-entry int8 table built on the host from the reference op "
                   "(bit-exact by construction), in weights.c"]
        return _Step(op, [x], out.index, comment, decls, render, "mcu_lut_s8")

    def _op_softmax(self, op: Op) -> _Step:
        p = ref.prepare_softmax(self.g, op)
        out = self.t[op.outputs[0]]
        depth = out.shape[-1] if out.shape else 1
        return self.unary(op, "mcu_softmax_s8", "mcu_softmax_params",
                           [f".input_multiplier = {p.input_multiplier}", f".input_left_shift = {p.input_left_shift}",
                            f".diff_min = {p.diff_min}"],
                           [f"softmax over the last axis ({depth} values per row), beta "
                            f"{float(op.options.get('beta', 1.0)):g}"],
                           (out.size // depth, 1, 1, depth))

    def _sigmoid_like(self, op: Op) -> _Step:
        p = ref.prepare_sigmoid(self.g, op)
        kernel = "mcu_logistic_s8" if op.type == "LOGISTIC" else "mcu_tanh_s8"
        return self.unary(op, kernel, "mcu_sigmoid_params",
                           [f".input_zero_point = {p.input_zero_point}", f".input_range_radius = {p.input_range_radius}",
                            f".input_multiplier = {p.input_multiplier}", f".input_left_shift = {p.input_left_shift}"],
                           ["input rescaled to Q4.27, gemmlowp fixed-point " + op.type.lower()])

    _op_logistic = _sigmoid_like
    _op_tanh = _sigmoid_like

    def _op_hard_swish(self, op: Op) -> _Step:
        p = ref.prepare_hard_swish(self.g, op)
        return self.unary(op, "mcu_hard_swish_s8", "mcu_hard_swish_params",
                           [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                            f".reluish_multiplier = {p.reluish_multiplier_fixedpoint_int16}",
                            f".reluish_exponent = {p.reluish_multiplier_exponent}",
                            f".output_multiplier = {p.output_multiplier_fixedpoint_int16}",
                            f".output_exponent = {p.output_multiplier_exponent}"],
                           ["x * relu6(x + 3) / 6 in TFLM's 16-bit fixed point"])

    def _op_relu(self, op: Op) -> _Step:
        p = ref.prepare_relu(self.g, op)
        return self.unary(op, "mcu_quantize_s8", "mcu_requantize_params",
                           [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                            f".multiplier = {p.output_multiplier}", f".shift = {p.output_shift}",
                            f".activation = {{{p.act_min}, {p.act_max}}}"],
                           [f"rescale to the output scale, then clamp [{p.act_min}, {p.act_max}] (TFLM ReluQuantized)"])

    def _op_relu6(self, op: Op) -> _Step:
        zero, six = ref.prepare_relu6(self.g, op)
        x = self.data(op, 0, "input")
        out = self.t[op.outputs[0]]
        decls = [f"static const mcu_range range = {{{zero}, {six}}};",
                 f"static const mcu_dims dims = {{1, 1, 1, {out.size}}};"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = mcu_clamp_s8({ctx}, &range, &dims, {ptr(x)}, {ptr(out.index)});"]

        return _Step(op, [x], out.index,
                     [f"clamp to [{zero}, {six}] (0 and 6.0 on the input scale)"],
                     decls, render, "mcu_clamp_s8")

    def _op_prelu(self, op: Op) -> _Step:
        p = ref.prepare_prelu(self.g, op)
        x, alpha = self.data(op, 0, "input"), self.data(op, 1, "alpha")
        out = self.t[op.outputs[0]]
        where = f"op {op.index} (PRELU)"
        decls = [f"static const mcu_prelu_params params = {{.input_offset = {p.input_offset}, "
                 f".alpha_offset = {p.alpha_offset}, .output_offset = {p.output_offset}, "
                 f".positive_multiplier = {p.output_multiplier_1}, .positive_shift = {p.output_shift_1}, "
                 f".negative_multiplier = {p.output_multiplier_2}, .negative_shift = {p.output_shift_2}}};",
                 f"static const mcu_dims in_dims = {_dims_c(_dims4(self.t[x].shape, where))}, "
                 f"alpha_dims = {_dims_c(_dims4(self.t[alpha].shape, where))}, "
                 f"out_dims = {_dims_c(_dims4(out.shape, where))};"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = mcu_prelu_s8({ctx}, &params, &in_dims, {ptr(x)}, &alpha_dims, {ptr(alpha)}, "
                    f"&out_dims, {ptr(out.index)});"]

        return _Step(op, [x, alpha], out.index,
                     ["x >= 0: x rescaled; x < 0: x * alpha rescaled"],
                     decls, render, "mcu_prelu_s8")

    def _op_quantize(self, op: Op) -> _Step:
        x = self.data(op, 0, "input")
        xt, out = self.t[x], self.t[op.outputs[0]]
        if xt.dtype == "FLOAT32":
            return self._quantize_float(op, x)
        p = ref.prepare_requantize(self.g, op)
        kernel = {("UINT8", "INT8"): "mcu_quantize_u8_s8",
                  ("INT8", "UINT8"): "mcu_quantize_s8_u8"}.get((xt.dtype, out.dtype), "mcu_quantize_s8")
        lo, hi = (0, 255) if out.dtype == "UINT8" else (-128, 127)
        return self.unary(op, kernel, "mcu_requantize_params",
                           [f".input_zero_point = {p.input_zero_point}", f".output_zero_point = {p.output_zero_point}",
                            f".multiplier = {p.multiplier}", f".shift = {p.shift}", f".activation = {{{lo}, {hi}}}"],
                           [f"{xt.dtype.lower()} -> {out.dtype.lower()} requantization, multiplier {p.multiplier}, "
                            f"shift {p.shift}"])

    def _quantize_float(self, op: Op, x: int) -> _Step:
        out = self.t[op.outputs[0]]
        scale, zp = float(out.scale[0]), int(out.zero_point[0])

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"classic_quantize_f32({ptr(x)}, {ptr(out.index)}, {out.size}, {_float_c(scale)}, {zp});",
                    "st = MCU_OK;"]

        extra = ["float32 -> int8: round(x / scale) half away from zero, + zero point, saturate "
                 "(no mcu_nn kernel: generated helper classic_quantize_f32)"]
        return _Step(op, [x], out.index, extra, [], render)

    def _op_dequantize(self, op: Op) -> _Step:
        x = self.data(op, 0, "input")
        xt = self.t[x]
        return self.unary(op, "mcu_dequantize_s8", "mcu_dequantize_params",
                           [f".zero_point = {int(xt.zero_point[0])}", f".scale = {_float_c(float(xt.scale[0]))}"],
                           ["int8 -> float32: scale * (x - zero point)"])

    def _op_strided_slice(self, op: Op) -> _Step:
        """A strided slice that is not one contiguous run: a generated gather loop."""
        x = self.data(op, 0, "input")
        out = self.t[op.outputs[0]]
        idx = self._slice_indices(op).reshape(out.shape if out.shape else (1,))
        base = int(idx.reshape(-1)[0])
        loops: list[tuple[int, int]] = []  # (count, stride in input elements)
        for axis, n in enumerate(idx.shape):
            if n == 1:
                continue
            step = np.zeros(idx.ndim, int)
            step[axis] = 1
            loops.append((n, int(idx[tuple(step)]) - base))
        # A strided slice is always a regular grid: index = base + sum(i_d * stride_d).
        axes = [a for a, n in enumerate(idx.shape) if n > 1]
        grids = np.indices(idx.shape)
        affine = base + sum((grids[a] * s for a, (_, s) in zip(axes, loops)), np.zeros(idx.shape, np.int64))
        if not np.array_equal(affine, idx):
            raise ModelError(f"op {op.index} (STRIDED_SLICE): the selection is not a regular grid")
        ctype = _ctype(out)
        extra = [f"not a contiguous view: generated gather loop, {len(loops)} nested loop(s), "
                 f"start {base}, strides {[s for _, s in loops]} (input elements)"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            lines = [f"const {ctype} *src = {ptr(x)} + {base};", f"{ctype} *dst = {ptr(out.index)};"]
            index = " + ".join(f"i{d} * {s}" for d, (_, s) in enumerate(loops)) or "0"
            indent = ""
            for d, (n, _) in enumerate(loops):
                lines.append(f"{indent}for (int32_t i{d} = 0; i{d} < {n}; ++i{d})")
                indent += "    "
            lines.append(f"{indent}*dst++ = src[{index}];")
            lines.append("st = MCU_OK;")
            return lines

        return _Step(op, [x], out.index, extra, [], render)

    # -- memory ---------------------------------------------------------------------------
    def lifetimes(self) -> list[Buffer]:
        """Arena buffers, in graph op indices: each root tensor ``t<index>`` from the op that
        writes it (graph inputs: from the start) to the last op that reads it or any view of
        it (graph outputs: to the end), plus ``scratch_op<index>`` live during its op only."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        end = max(len(self.g.ops) - 1, 0)
        for i in self.g.inputs:
            first[i] = last[i] = 0
        for step in self.steps:
            assert step.op is not None
            when = step.op.index
            for r in step.reads:
                loc = self.locs[r]
                if loc.kind == "arena":
                    last[loc.key] = max(last.get(loc.key, when), when)
            if step.write >= 0 and self.locs[step.write].kind == "arena":
                key = self.locs[step.write].key
                first.setdefault(key, when)
                last[key] = max(last.get(key, when), when)
        for index in self.g.outputs:
            loc = self.locs[index]
            if loc.kind == "arena":
                last[loc.key] = end
        bufs = [Buffer(f"t{k}", self.t[k].nbytes, first[k], last[k]) for k in sorted(first)]
        bufs += [Buffer(f"scratch_op{s.op.index}", s.scratch, s.op.index, s.op.index)
                 for s in self.steps if s.op is not None and s.scratch > 0]
        return bufs


# --- rendering ------------------------------------------------------------------------------
def _status(op_index: int, st: int) -> int:
    return ((op_index + 1) << 4) | (-st & 0xF)


def _kernels_text(kernels: str) -> str:
    if kernels == CMSIS_NN:
        return "Arm CMSIS-NN (mcu_nn opt for the ops it lacks)"
    return f"mcu_nn {kernels} flavour"


def _header(title: str, model_name: str, kernels: str) -> list[str]:
    return [f"/* {title}", f" * Generated by mcusim (classic path) from {model_name}, kernels: "
            f"{_kernels_text(kernels)}.", " * Do not edit: regenerate with mcusim instead.", " */"]


def _weights_files(gen: _Generator, kernels: str) -> tuple[str, str]:
    c = _header("weights.c - the model's constants, all const so they stay in flash.", gen.model_name, kernels)
    c += ["#include \"weights.h\"", ""]
    h = _header("weights.h - declarations of weights.c.", gen.model_name, kernels)
    h += ["#ifndef MODEL_WEIGHTS_H", "#define MODEL_WEIGHTS_H", "", "#include <stdint.h>", "#include \"mcu_nn.h\"", ""]
    for index, name in gen.const_names.items():
        t = gen.t[index]
        values = np.asarray(gen.values[index])
        ctype = _ctype(t)
        n = max(values.size, 1)
        c.append(f"/* tensor {index} {_clean(t.name)}: {_shape(t.shape)} {_quant(t)} */")
        if ctype == "float":
            body = ["    " + ", ".join(_float_c(float(v)).split(" ")[0] for v in values.reshape(-1)) + ","]
        else:
            body = _array_c(values, 16 if ctype == "int8_t" else 8)
        c += [f"const {ctype} {name}[{n}] = {{", *body, "};", ""]
        h.append(f"extern const {ctype} {name}[{n}];")
    for decl, lines in gen.extra_weights:
        c += lines + [""]
        h.append(decl)
    h += ["", "#endif /* MODEL_WEIGHTS_H */", ""]
    return "\n".join(c), "\n".join(h)


def _model_files(gen: _Generator, plan: Plan, buffers: list[Buffer], naive: int, kernels: str,
                 status_messages: dict[int, str]) -> tuple[str, str]:
    g = gen.g
    signature = "int model_invoke(void)"
    h = _header("model.h - the model as one function.", gen.model_name, kernels)
    h += ["#ifndef MODEL_H", "#define MODEL_H", "", "#include <stdint.h>", ""]
    for k, i in enumerate(g.inputs):
        t = g.tensors[i]
        h += [f"/* input {k}: {_shape(t.shape)} {_quant(t)}, written where model_input{k}_tensor points */",
              f"#define MODEL_INPUT{k}_SIZE {t.size}", f"extern {_ctype(t)} *const model_input{k}_tensor;"]
    for k, i in enumerate(g.outputs):
        t = g.tensors[i]
        h += [f"/* output {k}: {_shape(t.shape)} {_quant(t)}, read where model_output{k}_tensor points */",
              f"#define MODEL_OUTPUT{k}_SIZE {t.size}", f"extern const {_ctype(t)} *const model_output{k}_tensor;"]
    h += ["", "/* Bytes of the static activation arena (tensors and kernel scratch). */",
          f"#define MODEL_ARENA_BYTES {plan.size}", "",
          "/* One inference. Returns 0, or ((op + 1) << 4) | -status when the kernel of graph op `op`",
          " * returned a non-OK mcu_status (1 MCU_ERR_ARG, 2 MCU_ERR_BUFFER, 3 MCU_ERR_UNSUPPORTED). */",
          f"{signature};", "", "#endif /* MODEL_H */", ""]

    kernel_steps = [s for s in gen.steps if s.op is not None]
    steps_by_op = {s.op.index: s for s in kernel_steps if s.op is not None}
    c = ["/*", f" * model.c - {gen.model_name} as straight-line C: generated by mcusim's classic path,",
         f" * kernels: {_kernels_text(kernels)}. {len(g.ops)} graph operators: "
         f"{len(kernel_steps)} run, {len(gen.folded)} folded away at generation time.", " *",
         " * Activation memory: one static arena, offsets planned offline from tensor lifetimes",
         f" * (the op that writes a tensor to the last op that reads it; mcusim/stacks/planner.py, {plan.strategy}).",
         f" *   planned {plan.size} bytes; naive {naive} bytes (every tensor its own buffer, plus the",
         " *   largest kernel scratch);",
         f" *   lower bound {plan.lower_bound} bytes (the busiest step).", " *",
         " *   offset .. end       live ops  buffer"]
    for b in sorted(buffers, key=lambda b: (plan.offsets[b.name], b.first)):
        off = plan.offsets[b.name]
        what = b.name
        if not b.name.startswith("scratch"):
            t = g.tensors[int(b.name[1:])]
            what = f"tensor {t.index} {_shape(t.shape)} {_clean(t.name, 40)}"
        else:
            index = int(b.name[len("scratch_op"):])
            what = f"scratch of op {index} ({steps_by_op[index].kernel})"
        c.append(f" *   {off:>6} .. {off + b.size:<6}  {b.first:>3}..{b.last:<3}    {what}")
    c += [" */", "#include <stddef.h>", "#include <string.h>", "",
          *(["#include \"arm_nnfunctions.h\""] if gen.cmsis_nn else []), "#include \"mcu_nn.h\"",
          "#include \"mcusim.h\"", "#include \"model.h\"", "#include \"weights.h\"", ""]
    if plan.size:
        c += ["MCUSIM_ARENA int8_t model_arena[MODEL_ARENA_BYTES];", ""]
    roots = sorted({loc.key for loc in gen.locs.values() if loc.kind == "arena"})
    if roots:
        c.append("/* Activation tensors in the arena. */")
    for r in roots:
        t = g.tensors[r]
        c.append(f"#define T{r} (({_ctype(t)} *)(model_arena + {plan.offsets[f't{r}']})) "
                 f"/* {_shape(t.shape)} {_clean(t.name, 40)} */")
    c += ["", "/* The inputs and outputs are tensors in the arena (or constants): no copies. */"]
    c += [f"{_ctype(g.tensors[i])} *const model_input{k}_tensor = {gen.ptr(i)};" for k, i in enumerate(g.inputs)]
    c += [f"const {_ctype(g.tensors[i])} *const model_output{k}_tensor = {gen.ptr(i)};"
          for k, i in enumerate(g.outputs)]
    scratch_at = {int(b.name[len("scratch_op"):]): plan.offsets[b.name] for b in buffers if b.name.startswith("scratch")}
    c += ["", "#define MODEL_STATUS(op, st) ((((op) + 1) << 4) | (-(st) & 0xF))", ""]
    if any("classic_quantize_f32" in "".join(s.render(lambda i: "", "")) for s in gen.steps):
        c += _QUANTIZE_F32
    folded = {op.index: why for op, why in gen.folded}

    ptr = gen.ptr

    c += [f"{signature}", "{", "    mcu_status st;", ""]
    for op in g.ops:
        if op.index in folded:
            c.append(f"    /* op {op.index}: {op.type} -- folded: {folded[op.index]} */")
            c.append("")
            continue
        step = steps_by_op[op.index]
        comment = gen.comment(step)
        c.append("    /* " + comment[0])
        c += [f"     *   {line}" for line in comment[1:]]
        c.append("     */")
        c.append(f"    mcusim_probe(MCUSIM_TAG_OP_BEGIN({op.index}));")
        c.append("    {")
        c += [f"        {d}" for d in step.decls]
        ctx = "NULL"
        buf = f"model_arena + {scratch_at[op.index]}" if step.scratch > 0 else "NULL"
        if step.library == "cmsis-nn":
            body = step.render(ptr, "&ctx")
            if any("&ctx" in line for line in body):  # CMSIS-NN reads ctx->buf even when it needs none
                c.append(f"        static const cmsis_nn_context ctx = {{{buf}, {step.scratch}}};")
        else:
            if step.scratch > 0:
                c.append(f"        static const mcu_context ctx = {{{buf}, {step.scratch}}};")
                ctx = "&ctx"
            body = step.render(ptr, ctx)
        c += [f"        {line}" for line in body]
        c.append("    }")
        c.append(f"    mcusim_probe(MCUSIM_TAG_OP_END({op.index}));")
        c.append("    if (st != MCU_OK)")
        c.append(f"        return MODEL_STATUS({op.index}, st);")
        c.append("")
        if step.kernel:
            names = CMSIS_NN_STATUS_NAMES if step.library == "cmsis-nn" else _STATUS_NAMES
            for code in (1, 2, 3):
                status_messages[_status(op.index, -code)] = (
                    f"op {op.index} ({op.type}): {step.kernel} returned {names[code]}")
    c += ["    return 0;", "}", ""]
    return "\n".join(c), "\n".join(h)


_QUANTIZE_F32 = [
    "/* float32 -> int8 as TFLM's AffineQuantize: round(x / scale) half away from zero (in float),",
    " * plus the zero point, saturated. No mcu_nn kernel takes float input, so it is generated here.",
    " * The quotient is clamped first so the float -> int conversion is always defined. */",
    "static void classic_quantize_f32(const float *in, int8_t *out, int32_t n, float scale, int32_t zero_point)",
    "{",
    "    for (int32_t i = 0; i < n; ++i) {",
    "        float q = in[i] / scale;",
    "        q = q > 1000.0f ? 1000.0f : (q < -1000.0f ? -1000.0f : q);",
    "        const float a = q < 0.0f ? -q : q;",
    "        int32_t r = (int32_t)a;",
    "        if (a - (float)r >= 0.5f)",
    "            r += 1;",
    "        r = (q < 0.0f ? -r : r) + zero_point;",
    "        out[i] = (int8_t)(r < -128 ? -128 : (r > 127 ? 127 : r));",
    "    }",
    "}",
    "",
]


def _main_file(gen: _Generator, kernels: str) -> tuple[str, list[str], list[str]]:
    g = gen.g
    ins = [f"model_input{k}" for k in range(len(g.inputs))]
    outs = [f"model_output{k}" for k in range(len(g.outputs))]
    c = _header("main.c - one inference.", gen.model_name, kernels)
    c += ["#include \"mcusim.h\"", "#include \"model.h\"", "",
          "/* Where the host (or a sensor driver) writes the inputs and reads the outputs: the tensors",
          " * in the arena (model.h), no copies. */",
          *(f"{_ctype(g.tensors[i])} *{n};" for n, i in zip(ins, g.inputs)),
          *(f"const {_ctype(g.tensors[i])} *{n};" for n, i in zip(outs, g.outputs)),
          "", "int main(void)", "{",
          *(f"    {n} = {n}_tensor;" for n in ins + outs),
          "    mcusim_probe(MCUSIM_TAG_INPUTS_READY);",
          "    mcusim_probe(MCUSIM_TAG_INVOKE_BEGIN);",
          "    const int status = model_invoke();", "    mcusim_probe(MCUSIM_TAG_INVOKE_END);",
          "    return status;", "}", ""]
    return "\n".join(c), ins, outs


# --- scratch sizes, computed by the kernels themselves --------------------------------------
def _scratch_sizes(gen: _Generator, board: Board, kernels: str, workdir: Path,
                   libraries: dict[str, list[tuple[Path, Path]]], include_dirs: list[Path]) -> list[int]:
    """Run every step's ``*_get_buffer_size`` call in the simulator, with the kernel flavour
    (and CMSIS-NN objects, ``libraries``) and core flags of the real build; returns one size
    per step (0 for steps without one)."""
    calls = [(pos, s) for pos, s in enumerate(gen.steps) if s.scratch_call]
    sizes = [0] * len(gen.steps)
    if not calls:
        return sizes
    lines = ["/* Scratch sizing: each op's *_get_buffer_size, run once by mcusim before planning. */",
             *(["#include \"arm_nnfunctions.h\""] if gen.cmsis_nn else []),
             "#include \"mcu_nn.h\"", "", f"volatile int32_t classic_scratch_sizes[{len(calls)}];", "",
             "int main(void)", "{"]
    for n, (_, s) in enumerate(calls):
        decls = s.sizing_decls if s.sizing_decls is not None else [d for d in s.decls if "mcu_dims" in d]
        lines += ["    {", *[f"        {d}" for d in decls],
                  f"        classic_scratch_sizes[{n}] = {s.scratch_call};", "    }"]
    lines += ["    return 0;", "}", ""]
    src = workdir / "scratch_sizes.c"
    write_if_changed(src, "\n".join(lines))
    # The build is cached by content (sources, the whole kernels/ tree, flags), so it is cheap;
    # the run is memoized per image, so an edited kernel is always asked again.
    build = build_elf([src, *kernel_sources(kernels)], board, include_dirs=include_dirs,
                      objects=[pair for pairs in libraries.values() for pair in pairs])
    key = hashlib.sha256(build.elf.read_bytes()).hexdigest()[:24]
    memo = cache_dir() / "scratch" / f"{key}.json"
    values: list[int] | None = None
    if memo.is_file():
        try:
            values = [int(v) for v in json.loads(memo.read_text())]
        except (OSError, ValueError, TypeError):
            values = None
    if values is None or len(values) != len(calls):
        from ..simulator.machine import Machine

        m = Machine(build.elf, board)
        res = m.run(max_instructions=10_000_000)
        if res.exit_code != 0:
            raise McusimError(f"classic path: scratch sizing program returned {res.exit_code}")
        raw = m.read_symbol("classic_scratch_sizes", 4 * len(calls))
        values = [int(v) for v in np.frombuffer(raw, dtype="<i4")]
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_if_changed(memo, json.dumps(values))
    for (pos, s), v in zip(calls, values):
        if v < 0:
            op = s.op
            raise McusimError(f"classic path: {str(s.scratch_call).split('(')[0]} returned {v} for op "
                              f"{op.index if op else '-'}")
        sizes[pos] = v
    return sizes


# --- public API -----------------------------------------------------------------------------
def generate_classic(graph: Graph, board: Board, kernels: str = "opt", workdir: Path | str = ".",
                     model_name: str | None = None, lut_activations: bool = False,
                     winograd: bool = False, tflm_tree: TflmTree | None = None) -> ClassicModel:
    """Generate the classic program's sources for ``graph`` into ``workdir`` and return them
    with the memory plan. Raises ModelError naming the op the classic path cannot express.
    ``kernels``: ``ref`` / ``opt`` (mcusim's mcu_nn) or ``cmsis-nn`` (Arm CMSIS-NN from
    ``tflm_tree``, mcusim's opt kernels for the ops it lacks, listed in ``notes["fallbacks"]``).
    ``lut_activations``: pointwise activations as host-built tables; ``winograd``: 3x3 /
    stride-1 convolutions by mcu_conv_wino_s8 with host-transformed int16 filters, fully
    connected layers by mcu_fully_connected_wino_s8 with host-computed pair sums."""
    if kernels not in (*FLAVOURS, CMSIS_NN):
        raise McusimError(f"unknown kernels {kernels!r}; use ref, opt or cmsis-nn")
    libraries: dict[str, list[tuple[Path, Path]]] = {}
    include_dirs: list[Path] = []
    if kernels == CMSIS_NN:
        if winograd:
            raise McusimError("--winograd runs mcusim's own Winograd kernels; it does not combine with --kernels cmsis-nn")
        from . import cmsisnn

        tree = tflm_tree or find_tree()
        tree.require_cmsis_nn()
        libraries = {cmsisnn.COMPONENT: cmsisnn.objects(tree, board)}
        include_dirs = cmsis_nn_include_dirs(tree)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    gen = _Generator(graph, model_name or "the model", lut_activations, winograd, kernels == CMSIS_NN)
    gen.run()
    for pos, size in enumerate(_scratch_sizes(gen, board, kernels, workdir, libraries, include_dirs)):
        gen.steps[pos].scratch = size
    buffers = gen.lifetimes()
    plan = plan_memory(buffers, ALIGNMENT)
    tensors = [b for b in buffers if not b.name.startswith("scratch")]
    scratch = max((b.size for b in buffers if b.name.startswith("scratch")), default=0)
    # One shared scratch region on top of the tensor plan is the textbook alternative; keep
    # whichever is smaller (per-op scratch slots usually fit into gaps between tensors).
    tensor_plan = plan_memory(tensors, ALIGNMENT)
    shared = tensor_plan.size + align_up(scratch, ALIGNMENT)
    if shared < plan.size:
        offsets = dict(tensor_plan.offsets)
        for b in buffers:
            if b.name.startswith("scratch"):
                offsets[b.name] = tensor_plan.size
        plan = Plan(offsets, shared, plan.naive, plan.lower_bound,
                    tensor_plan.strategy + " + shared scratch", ALIGNMENT)
    naive = sum(align_up(b.size, ALIGNMENT) for b in tensors) + align_up(scratch, ALIGNMENT)
    status: dict[int, str] = {}
    weights_c, weights_h = _weights_files(gen, kernels)
    model_c, model_h = _model_files(gen, plan, buffers, naive, kernels, status)
    main_c, ins, outs = _main_file(gen, kernels)
    files = {"model.h": model_h, "model.c": model_c, "weights.h": weights_h, "weights.c": weights_c,
             "main.c": main_c}
    for name, text in files.items():
        write_if_changed(workdir / name, text)
    notes = {
        "arena_bytes": plan.size,
        "arena_naive_bytes": naive,
        "arena_lower_bound_bytes": plan.lower_bound,
        "arena_plan": plan.strategy,
        "scratch_bytes": scratch,
        "scratch_sizing": "mcu_*_get_buffer_size run in C (simulator) at build time",
        "folded_ops": [{"index": op.index, "type": op.type, "how": why} for op, why in gen.folded],
        "lut_activations": lut_activations,
        "winograd": winograd,
        "winograd_ops": [s.op.index for s in gen.steps if s.op is not None
                         and s.kernel in ("mcu_conv_wino_s8", "mcu_fully_connected_wino_s8")],
    }
    if gen.cmsis_nn:
        notes["fallbacks"] = gen.fallbacks
    op_info = {s.op.index: {"kernel": s.kernel or "generated code"} for s in gen.steps if s.op is not None}
    for f in gen.fallbacks:
        op_info[f["index"]]["fallback"] = f["reason"]
    return ClassicModel(files, plan, buffers, ins, outs, status, notes, plan.size, libraries, include_dirs, op_info)


def build_classic(graph: Graph, board: Board, kernels: str = "opt", workdir: Path | str = ".",
                  model_name: str | None = None, lut_activations: bool = False,
                  winograd: bool = False, tflm_tree: TflmTree | None = None) -> Firmware:
    """The classic path's firmware for ``graph`` on ``board``: generated sources in
    ``workdir`` (model.c -> flash component ``code``, weights.c -> ``weights``, main.c ->
    ``runtime``), ready for :func:`mcusim.deploy.run_firmware`."""
    workdir = Path(workdir)
    cm = generate_classic(graph, board, kernels, workdir, model_name, lut_activations, winograd, tflm_tree)
    return Firmware(
        path="classic", kernels=kernels, board=board,
        sources={workdir / "model.c": "code", workdir / "weights.c": "weights", workdir / "main.c": "runtime"},
        include_dirs=[workdir, *cm.include_dirs], defines={}, input_symbols=cm.input_symbols,
        output_symbols=cm.output_symbols, arena_symbol="model_arena" if cm.arena_bytes else None,
        status_messages=cm.status_messages, notes=cm.notes, libraries=cm.libraries, op_info=cm.op_info,
        io_ready_probe=TAG_INPUTS_READY)


_MAKEFILE = """\
# Makefile - builds {model} for {board} ({core}) from the {path} path's sources,
# without mcusim. Exported by `mcusim export --path {path}`; flags are mcusim's own
# (mcusim/build/toolchain.py), so the image equals the one mcusim measured.
#
#   make          -> build/firmware.elf (+ build/firmware.map, build/firmware.bin)
#   make size     -> arm-none-eabi-size of the image
#   make clean
#
# Kernels: {kernels} (mcu_nn flavour {flavour}: kernels/src/{flavour}/). The probes of mcusim.h are stores to an
# unused address; add -DMCUSIM_NO_PROBE to CFLAGS to compile them out for real hardware.

CC      := arm-none-eabi-gcc
OBJCOPY := arm-none-eabi-objcopy
SIZE    := arm-none-eabi-size

{lib_dirs}CPU_FLAGS := {cpu_flags}
CFLAGS    := $(CPU_FLAGS) {common_flags} {opt}{defines} -Isrc -Ikernels/include{lib_includes}
LDFLAGS   := $(CPU_FLAGS) -L. -Tcortex_m.ld {link_flags}

# Link order as mcusim links: generated code, kernel library, startup{lib_order}.
SRCS := {srcs}
OBJS := $(patsubst %.c,build/%.o,$(SRCS))
LIB_OBJS :=
{cmsis_nn}
all: build/firmware.elf

build/%.o: %.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CFLAGS) -c $< -o $@

build/firmware.elf: $(OBJS) $(LIB_OBJS) cortex_m.ld memory.ld
\t$(CC) $(OBJS) $(LIB_OBJS) $(LDFLAGS) -Wl,-Map=build/firmware.map -o $@
\t$(OBJCOPY) -O binary $@ build/firmware.bin

size: build/firmware.elf
\t$(SIZE) -A $<

clean:
\trm -rf build

.PHONY: all size clean
"""


_CMSIS_NN_MAKE = """
# Arm CMSIS-NN (CMSIS_NN_DIR above), compiled in place with the flags TFLM compiles it with;
# --gc-sections keeps only the functions the generated code reaches.
CMSIS_NN_CFLAGS := $(CPU_FLAGS) {cmsis_flags} -I$(CMSIS_NN_DIR)/Include -I$(CMSIS_NN_DIR)
CMSIS_NN_SRCS := {cmsis_srcs}
LIB_OBJS += $(patsubst %.c,build/cmsis_nn/%.o,$(CMSIS_NN_SRCS))

build/cmsis_nn/%.o: $(CMSIS_NN_DIR)/%.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CMSIS_NN_CFLAGS) -c $< -o $@
"""


def export_classic(graph: Graph, board: Board, kernels: str, out_dir: Path | str,
                   model_name: str | None = None, tflm_tree: TflmTree | None = None) -> Firmware:
    """Write a self-contained project to ``out_dir``: ``src/`` (generated model, weights and
    main), ``kernels/`` (the mcu_nn library: headers, common, both flavour trees since opt files
    include their ref twin), ``startup/startup.c``, ``cortex_m.ld``, ``memory.ld`` for the
    board, and a ``Makefile`` with mcusim's compiler flags. ``make`` there builds the same
    image mcusim measures. With ``kernels`` ``cmsis-nn`` the Makefile also compiles CMSIS-NN
    from ``tflm_tree`` in place (``CMSIS_NN_DIR``), with the flags mcusim built it with.
    Returns the Firmware for the same sources (in ``out_dir/src``)."""
    out = Path(out_dir)
    src = out / "src"
    fw = build_classic(graph, board, kernels, src, model_name, tflm_tree=tflm_tree)
    (src / "scratch_sizes.c").unlink(missing_ok=True)
    if (out / "kernels").exists():
        shutil.rmtree(out / "kernels")
    shutil.copytree(MCUSIM_INCLUDE, out / "kernels" / "include")
    for part in ("common", "ref", "opt"):
        shutil.copytree(KERNELS / "src" / part, out / "kernels" / "src" / part)
    (out / "startup").mkdir(parents=True, exist_ok=True)
    shutil.copy2(STARTUP, out / "startup" / "startup.c")
    shutil.copy2(LINKER_SCRIPT, out / "cortex_m.ld")
    (out / "memory.ld").write_text(memory_ld(board))
    srcs = [f"src/{Path(p).name}" for p in fw.sources]
    srcs += [str(Path("kernels") / p.relative_to(KERNELS)) for p in kernel_sources(kernels)]
    srcs.append("startup/startup.c")
    defines = "".join(f" -D{k}={v}" for k, v in sorted(fw.defines.items()))
    cmsis_nn = lib_includes = lib_order = lib_dirs = ""
    if CMSIS_NN in fw.libraries:
        from . import cmsisnn

        tree = tflm_tree or find_tree()
        lib_srcs = [str(Path(s).relative_to(tree.cmsis_nn)) for _, s in fw.libraries[CMSIS_NN]]
        lib_dirs = ("# Arm CMSIS-NN from a TensorFlow Lite Micro tree (not copied here); `make CMSIS_NN_DIR=...`\n"
                    f"# builds against another checkout.\nCMSIS_NN_DIR ?= {tree.cmsis_nn}\n\n")
        cmsis_nn = _CMSIS_NN_MAKE.format(
            cmsis_srcs=" \\\n        ".join(lib_srcs),
            cmsis_flags=" ".join([*cmsisnn.FLAGS, *(f"-D{k}={v}" for k, v in sorted(
                cmsisnn.cmsis_nn_defines(board.core).items()))]))
        lib_includes = " -I$(CMSIS_NN_DIR)/Include -I$(CMSIS_NN_DIR)"
        lib_order = ", CMSIS-NN"
    (out / "Makefile").write_text(_MAKEFILE.format(
        model=model_name or "the model", board=board.name, core=board.core, path="classic",
        kernels=kernels, flavour=mcu_flavour(kernels), cpu_flags=" ".join(core_flags(board)), common_flags=" ".join(COMMON_FLAGS),
        opt=fw.opt, defines=defines, link_flags=" ".join(LINK_FLAGS), srcs=" \\\n        ".join(srcs),
        cmsis_nn=cmsis_nn, lib_includes=lib_includes, lib_order=lib_order, lib_dirs=lib_dirs))
    fw.sources = {src / Path(p).name: comp for p, comp in fw.sources.items()}
    fw.include_dirs = [src, *fw.include_dirs[1:]]
    return fw

