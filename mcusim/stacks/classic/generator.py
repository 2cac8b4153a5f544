"""The classic generator's walk over the graph: where every tensor lives (arena, host constant,
a view of another), which ops fold away at generation time, the lookup-table option, and the
emitter each op calls (its spec's ``classic``, or ``cmsis_nn`` with --kernels cmsis-nn); the
Winograd routing and the weights.c arrays the emitters ask for are its public methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ... import operators
from ...errors import ModelError
from ...frontend import reference as ref
from ...frontend.graph import Graph, Op
from .. import winograd as wg
from ..planner import Buffer, InPlace
from .cgen import (
    Loc,
    Step,
    array_c,
    clean,
    dims_c,
    quant_text,
    shape_text,
)

if TYPE_CHECKING:
    from ...operators.conv import ConvParams
    from ...operators.fully_connected import FullyConnectedParams

def is_view(op_type: str) -> bool:
    """The op's output is its input reinterpreted (reshape-like): a view, no code."""
    spec = operators.get(op_type)
    return spec is not None and spec.view


def foldable(op_type: str) -> bool:
    """The op may be computed on the host (or made a view) instead of emitted."""
    spec = operators.get(op_type)
    return spec is not None and (spec.foldable or spec.view or spec.selects is not None)


def cmsis_nn_refusal(gen: Generator, op: Op) -> str | None:
    """Why ``op`` has no CMSIS-NN call before its own emitter is asked (None: ask it)."""
    spec = operators.get(op.type)
    # the first input that is not a constant int32 parameter (TRANSPOSE_CONV's output shape)
    first = [i for i in op.inputs if i >= 0 and not (gen.t[i].dtype == "INT32" and gen.t[i].is_constant)][:1]
    if spec is None or spec.cmsis_nn is None:
        dtype = gen.t[(first or op.outputs)[0]].dtype
        return f"CMSIS-NN has no {'16x8' if dtype == 'INT16' else dtype.lower()} {op.type} kernel"
    int16 = "cmsis-nn" in spec.int16_paths  # its emitter calls CMSIS-NN's s16 kernels in 16x8 mode
    for i in [*first, *op.outputs]:
        if gen.t[i].dtype != "INT8" and not (int16 and gen.t[i].dtype == "INT16"):
            return f"tensor {gen.t[i].name!r} is {gen.t[i].dtype}; the CMSIS-NN kernels used here take int8"
    return None


# Pointwise int8 -> int8 ops: output[i] depends only on input[i] and constant quantization
# parameters, so a 256-entry table of the reference op IS the op, bit for bit.
LUT_OPS = frozenset({"LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "RELU", "RELU6", "QUANTIZE", "PRELU"})


class Generator:
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
        self.locs: dict[int, Loc] = {}
        self.values: dict[int, np.ndarray] = {t.index: t.data for t in graph.tensors if t.data is not None}
        self.steps: list[Step] = []
        self.folded: list[tuple[Op, str]] = []
        self.const_names: dict[int, str] = {}
        self.extra_weights: list[tuple[str, list[str]]] = []  # (declaration for weights.h, lines)
        for i in graph.inputs:  # the inputs are tensors in the arena: the application writes them there
            self.locs[i] = Loc("arena", i)
        for i in self.values:
            self.locs[i] = Loc("const", i)
        for t in graph.tensors:  # an LSTM's state: static, reset at start-up as TFLM resets it
            if t.is_variable and t.data is None:
                self.locs[t.index] = Loc("state", t.index)

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
        elif loc.kind == "state":
            base = f"S{loc.key}"
        else:
            base = self.const_names.get(loc.key, "(host constant)")
        return f"({base} + {loc.offset})" if loc.offset else base

    def describe(self, index: int, role: str, name: str | None = None) -> str:
        t = self.t[index]
        return f"{role:<8}{shape_text(t.shape):<12} {quant_text(t):<32} {name or self.ptr(index):<12} {clean(t.name, 40)}"

    def comment(self, step: Step) -> list[str]:
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
        lines += [self.describe(w, "output" if len(step.writes) == 1 else f"output{n}")
                  for n, w in enumerate(step.writes)]
        return lines + step.comment

    # -- walking the graph ----------------------------------------------------------------
    def run(self) -> None:
        operators.refuse_int16(self.g, "classic")
        swish = self._swish_pairs() if self.lut_activations else {}
        for op in self.g.ops:
            if foldable(op.type) and self._fold(op):
                continue
            if op.index in self.fused:
                self.folded.append((op, f"fused into the swish lookup table of op {swish[op.index]}"))
                continue
            if op.index in swish.values():
                step = self._lut_step(op, self._swish_table(op), "swish x * sigmoid(x) (LOGISTIC + MUL fused)")
                self.locs[op.outputs[0]] = Loc("arena", op.outputs[0])
                self.steps.append(step)
                continue
            if self.lut_activations and self._lut_able(op):
                step = self._lut_step(op, self._op_table(op), f"{op.type} as a table")
                self._fallback(op, "--lut-activations: a table built on the host (mcu_lut_s8)")
                self.locs[op.outputs[0]] = Loc("arena", op.outputs[0])
                self.steps.append(step)
                continue
            step, why = self._cmsis_nn_step(op) if self.cmsis_nn else (None, "")
            if step is None:
                spec = operators.get(op.type)
                if spec is None or spec.classic is None:
                    raise ModelError(f"classic path: op {op.index} ({op.type}) has no kernel in mcu_nn "
                                     "(kernels/include/mcu_nn.h) and no generated form")
                step = spec.classic(self, op)
                if why and step.kernel.startswith("mcu_"):
                    self._fallback(op, why)
            for out in op.outputs:
                self.locs[out] = Loc("arena", out)
            self.steps.append(step)
        for k, index in enumerate(self.g.outputs):
            loc = self.locs.get(index)
            if loc is None:
                raise ModelError(f"graph output {self.t[index].name!r} is never produced")
            if loc.kind == "const":
                self.const(loc.key, f"output{k}_value")

    def _cmsis_nn_step(self, op: Op) -> tuple[Step | None, str]:
        """``op`` as a CMSIS-NN call, or (None, why CMSIS-NN cannot run it)."""
        why = cmsis_nn_refusal(self, op)
        if why is not None:
            return None, why
        result = operators.registry()[op.type].cmsis_nn(self, op)  # type: ignore[misc]
        return (result, "") if isinstance(result, Step) else (None, str(result))

    def _fallback(self, op: Op, reason: str) -> None:
        if self.cmsis_nn:
            self.fallbacks.append({"index": op.index, "type": op.type, "used": "mcusim opt", "reason": reason})

    def known(self, index: int) -> bool:
        return index in self.values

    def _fold(self, op: Op) -> bool:
        """Resolve a shape-only op at generation time; False when it needs code."""
        out = self.t[op.outputs[0]]
        x = op.inputs[0]
        dtype = out.numpy_dtype
        if op.type == "SHAPE":
            self.values[out.index] = np.array(self.t[x].shape, dtype=dtype)
            self.locs[out.index] = Loc("const", out.index)
            self.folded.append((op, f"shape of tensor {x} = {list(self.t[x].shape)}"))
            return True
        inputs_known = all(i < 0 or self.known(i) for i in op.inputs)
        if inputs_known:
            result = ref.evaluate_op(self.g, op, self.values)
            for index, r in zip(op.outputs, result if isinstance(result, list) else [result]):
                t = self.t[index]
                self.values[index] = np.asarray(r).astype(t.numpy_dtype).reshape(t.shape)
                self.locs[index] = Loc("const", index)
            self.folded.append((op, "evaluated on the host: " + clean(str(self.values[out.index].reshape(-1).tolist()), 40)))
            return True
        spec = operators.get(op.type)
        if spec is not None and spec.selects is not None:
            return self._selection_view(op, spec.selects)
        if is_view(op.type):
            self.locs[out.index] = self._loc(x)
            self.folded.append((op, f"view of tensor {x} ({shape_text(self.t[x].shape)} -> {shape_text(out.shape)})"))
            return True
        if op.type == "PACK" and len(op.inputs) == 1:
            self.locs[out.index] = self._loc(x)
            self.folded.append((op, f"view of tensor {x} (pack of one)"))
            return True
        if op.type == "STRIDED_SLICE":
            offset = self._slice_view(op)
            if offset is not None:
                base = self._loc(x)
                self.locs[out.index] = Loc(base.kind, base.key, base.offset + offset)
                self.folded.append((op, f"view of tensor {x} at element {offset}"))
                return True
        return False

    def _loc(self, index: int) -> Loc:
        loc = self.locs[index]
        return Loc(loc.kind, loc.key, loc.offset)

    def _selection_view(self, op: Op, data: int) -> bool:
        """Make every output of a data-movement op (OpSpec.selects) a view of its data input
        when its parameters are known and each output is one contiguous run of that input:
        the op runs on an index grid (its reference works on any dtype)."""
        x = op.inputs[data]
        if not all(i < 0 or i == x or self.known(i) for i in op.inputs):
            return False
        xt = self.t[x]
        values = dict(self.values)
        values[x] = np.arange(xt.size, dtype=np.int64).reshape(xt.shape)
        result = ref.evaluate_op(self.g, op, values)
        starts = []
        for r in result if isinstance(result, list) else [result]:
            idx = np.asarray(r).reshape(-1)
            if idx.size and not np.array_equal(idx, idx[0] + np.arange(idx.size)):
                return False
            starts.append(int(idx[0]) if idx.size else 0)
        base = self._loc(x)
        for index, start in zip(op.outputs, starts):
            self.locs[index] = Loc(base.kind, base.key, base.offset + start)
        where = f"element {starts[0]}" if len(starts) == 1 else f"elements {starts}"
        self.folded.append((op, f"view of tensor {x} at {where}"))
        return True

    def strides(self, op: Op) -> np.ndarray:
        if len(op.inputs) > 3 and op.inputs[3] >= 0:
            if not self.known(op.inputs[3]):
                raise ModelError(f"op {op.index} (STRIDED_SLICE) has run-time strides; the classic path needs them constant")
            return self.values[op.inputs[3]]
        return np.ones(len(self.t[op.inputs[0]].shape), np.int64)

    def slice_indices(self, op: Op) -> np.ndarray:
        """Flat input index of every output element of a STRIDED_SLICE (begin/end/strides
        must be known on the host)."""
        from ...operators.layout import strided_slice

        x = self.t[op.inputs[0]]
        for pos in (1, 2):
            if not self.known(op.inputs[pos]):
                raise ModelError(f"op {op.index} (STRIDED_SLICE) has a run-time begin/end; the classic path needs them constant")
        grid = np.arange(x.size, dtype=np.int64).reshape(x.shape)
        return strided_slice(grid, self.values[op.inputs[1]], self.values[op.inputs[2]],
                             self.strides(op), op.options).reshape(-1)

    def _slice_view(self, op: Op) -> int | None:
        idx = self.slice_indices(op)
        if idx.size and np.array_equal(idx, idx[0] + np.arange(idx.size)):
            return int(idx[0])
        return None

    # -- operators ------------------------------------------------------------------------
    def requant_arrays(self, op: Op, mult: np.ndarray, shift: np.ndarray, per_channel: bool) -> str:
        """Emit op<i>_multiplier / op<i>_shift / op<i>_quant to weights.c; returns the quant name."""
        n = len(mult) if per_channel else 1
        base = f"op{op.index}"
        what = f"{n} output channels" if per_channel else "per tensor"
        lines = [f"/* op {op.index} {op.type}: requantization, {what} (multiplier Q31, shift: + left) */",
                 f"const int32_t {base}_multiplier[{n}] = {{", *array_c(mult[:n], 8), "};",
                 f"const int32_t {base}_shift[{n}] = {{", *array_c(shift[:n], 16), "};",
                 f"const mcu_quant_params {base}_quant = {{{base}_multiplier, {base}_shift, {int(per_channel)}}};"]
        self.extra_weights.append((f"extern const mcu_quant_params {base}_quant;", lines))
        return f"{base}_quant"

    def winograd_able(self, op: Op, p: ConvParams) -> bool:
        """Whether the ``winograd`` option turns this op into an mcu_conv_wino_s8 call: a
        CONV_2D whose geometry the kernel takes, whose filter is known on the host, and whose
        output map is large enough for the kernel to be the faster one (winograd.worthwhile)."""
        if not self.winograd or op.type != "CONV_2D" or not self.known(op.inputs[1]):
            return False
        x, w = self.t[op.inputs[0]], self.t[op.inputs[1]]
        if x.dtype != "INT8" or w.dtype != "INT8" or len(x.shape) != 4 or len(w.shape) != 4 \
                or w.shape[3] < 1 or x.shape[3] % w.shape[3]:
            return False
        return wg.supported(tuple(w.shape), (p.stride_h, p.stride_w), (p.dilation_h, p.dilation_w),
                            x.shape[3] // w.shape[3]) and wg.worthwhile(p.out_h, p.out_w)

    def winograd_filter(self, op: Op) -> str:
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
                f"/* tensor {index} {clean(wt.name)}: {shape_text(wt.shape)} {quant_text(wt)}, as Winograd "
                f"F(2x2,3x3) G'gG'^T (G' = 2G): int16 [O'/2][16][C'/2][2][2], {values.nbytes} bytes "
                f"(int8 filter: {wt.size}) */",
                f"{decl} = {{", *array_c(values, 16), "};"]))
            self.wino_names[index] = name
        return self.wino_names[index]

    def dw_as_conv_able(self, op: Op, p: ConvParams) -> bool:
        """A DEPTHWISE_CONV_2D of one input channel into M > 1 outputs with a host-known filter
        is a CONV_2D of 1 input channel: emitted as mcu_conv_s8 on the filter transposed on the
        host (the optimized depthwise kernel would transpose it into scratch on every call)."""
        x, w = self.t[op.inputs[0]], self.t[op.inputs[1]]
        return op.type == "DEPTHWISE_CONV_2D" and p.depth_multiplier > 1 and len(x.shape) == 4 \
            and x.shape[3] == 1 and len(w.shape) == 4 and self.known(op.inputs[1])

    def transposed_filter(self, op: Op) -> str:
        """Emit op's depthwise filter [1][KH][KW][M] as a convolution filter [M][KH][KW][1] to
        weights.c (once per filter tensor); returns its symbol."""
        index = op.inputs[1]
        if index not in self.wino_names:
            wt = self.t[index]
            name = f"op{op.index}_filter_conv"
            values = np.ascontiguousarray(np.asarray(self.values[index]).astype(np.int8)[0].transpose(2, 0, 1))
            decl = f"const int8_t {name}[{values.size}] __attribute__((aligned(4)))"
            self.extra_weights.append((f"extern {decl};", [
                f"/* tensor {index} {clean(wt.name)}: {shape_text(wt.shape)} {quant_text(wt)}, transposed to a "
                f"convolution filter [M][KH][KW][1] */",
                f"{decl} = {{", *array_c(values.reshape(-1), 16), "};"]))
            self.wino_names[index] = name
        return self.wino_names[index]

    def winograd_fc_able(self, op: Op, p: FullyConnectedParams) -> bool:
        """Whether the ``winograd`` option turns this FULLY_CONNECTED into an
        mcu_fully_connected_wino_s8 call: constant int8 weights, weights offset 0, and a layer
        large enough for the kernel to be the faster one (winograd.fc_worthwhile)."""
        if not self.winograd or not self.known(op.inputs[1]) or p.weights_offset != 0:
            return False
        w = self.t[op.inputs[1]]
        return w.dtype == "INT8" and len(w.shape) == 2 and 1 <= w.shape[1] <= 65535 \
            and wg.fc_worthwhile(w.shape[1], w.shape[0])

    def pair_sums(self, op: Op) -> str:
        """Emit the pair sums of op's weights (Winograd's inner-product identity) to weights.c,
        once per weights tensor; returns its symbol."""
        index = op.inputs[1]
        if index not in self.pair_names:
            wt = self.t[index]
            name = f"op{op.index}_pair_sums"
            values = wg.pair_sums(np.asarray(self.values[index]).astype(np.int8).reshape(wt.shape))
            decl = f"const int32_t {name}[{values.size}]"
            self.extra_weights.append((f"extern {decl};", [
                f"/* tensor {index} {clean(wt.name)}: pair sums of Winograd's inner-product "
                f"identity, sum_j (w[o][4j] w[o][4j+1] + w[o][4j+2] w[o][4j+3]) per output row "
                f"({values.nbytes} bytes) */",
                f"{decl} = {{", *array_c(values, 8), "};"]))
            self.pair_names[index] = name
        return self.pair_names[index]


    def call(self, op: Op, reads: list[int], kernel: str, decls: list[str], args: list[str | int],
             extra: list[str], scratch_call: str | None = None, sizing_decls: list[str] | None = None) -> Step:
        """A kernel call ``kernel(args)`` writing output 0: an int argument is that tensor's
        pointer, ``"ctx"`` the scratch context; ``scratch_call`` sizes the scratch over
        ``sizing_decls`` (the declarations it reads)."""
        out = op.outputs[0]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            text = [ptr(a) if isinstance(a, int) else (ctx if a == "ctx" else a) for a in args]
            return [f"st = {kernel}({', '.join(text)});"]

        return Step(op, reads, out, extra, decls, render, kernel, scratch_call, sizing_decls=sizing_decls)

    def unary(self, op: Op, kernel: str, ptype: str | None, fields: list[str], extra: list[str],
               dims: tuple[int, int, int, int] | None = None) -> Step:
        """A pointwise kernel ``kernel(ctx, &params, &dims, in, out)``."""
        x = self.data(op, 0, "input")
        out = self.t[op.outputs[0]]
        d = dims or (1, 1, 1, out.size)
        decls = ([f"static const {ptype} params = {{{', '.join(fields)}}};"] if ptype else []) + \
            [f"static const mcu_dims dims = {dims_c(d)};"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = {kernel}({ctx}, &params, &dims, {ptr(x)}, {ptr(out.index)});"]

        return Step(op, [x], out.index, extra, decls, render, kernel)

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

    def _lut_step(self, op: Op, table: np.ndarray, what: str) -> Step:
        x = op.inputs[0]
        if op.type == "MUL":  # the swish pair: read the LOGISTIC's input
            sig = next(o for o in self.g.ops if o.index in self.fused and o.outputs[0] in op.inputs)
            x = sig.inputs[0]
        out = self.t[op.outputs[0]]
        name = f"lut_op{op.index}"
        self.extra_weights.append((f"extern const int8_t {name}[256];",
                                   [f"const int8_t {name}[256] = {{"] + array_c(table, 16) + ["};"]))
        decls = [f"static const mcu_dims dims = {dims_c((1, 1, 1, out.size))};"]

        def render(ptr: Callable[[int], str], ctx: str) -> list[str]:
            return [f"st = mcu_lut_s8({ctx}, {name}, &dims, {ptr(x)}, {ptr(out.index)});"]

        comment = [f"{what}: 256-entry int8 table built on the host from the reference op "
                   "(bit-exact by construction), in weights.c"]
        return Step(op, [x], out.index, comment, decls, render, "mcu_lut_s8")


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
            for w in step.writes:
                if w >= 0 and self.locs[w].kind == "arena":
                    key = self.locs[w].key
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

    def in_place(self, buffers: list[Buffer]) -> list[InPlace]:
        """Outputs mcusim's kernels may write over an input that dies at their op (the
        planner uses each where it lowers the plan): ``mcu_add_s8`` over an input of the
        output's shape (elementwise, in order: lag 0, mcu_nn.h's contract), ``mcu_conv_s8``
        (opt and ref: output pixels in row-major order, each written after every input pixel
        it reads) over its input at the lag :func:`conv_in_place_lag` computes. Not the
        CMSIS-NN calls or the Winograd kernel. A graph input may be written over once its last
        reader has read it (the application writes the inputs before every inference)."""
        last = {b.name: b.last for b in buffers}
        rows: list[InPlace] = []
        for step in self.steps:
            op = step.op
            if op is None or step.library != "mcu_nn" or step.kernel not in ("mcu_add_s8", "mcu_conv_s8"):
                continue
            out = self.t[step.write]
            if self.locs[step.write] != Loc("arena", step.write) or step.write in self.g.outputs:
                continue
            for pos, x in enumerate(step.reads[:2] if step.kernel == "mcu_add_s8" else step.reads[:1]):
                loc = self.locs[x]
                if (loc.kind != "arena" or loc.offset or x in step.reads[pos + 1:] + step.reads[:pos]
                        or last.get(f"t{loc.key}") != op.index
                        or self.t[loc.key].nbytes != self.t[x].nbytes):
                    continue
                if step.kernel == "mcu_add_s8":
                    if tuple(self.t[x].shape) != tuple(out.shape) or self.t[x].dtype != out.dtype:
                        continue
                    lag = 0
                else:
                    from ...operators.conv import prepare_conv

                    if len(out.shape) != 4 or out.shape[0] != 1:
                        continue
                    p = prepare_conv(self.g, op)
                    _, h, w, c = (int(d) for d in self.t[x].shape)
                    lag = conv_in_place_lag((h, w, c), (p.out_h, p.out_w, int(out.shape[3])),
                                            (p.stride_h, p.stride_w), (p.pad_h, p.pad_w))
                rows.append(InPlace(f"t{step.write}", f"t{loc.key}", lag))
                break
        return rows


def conv_in_place_lag(in_hwc: tuple[int, int, int], out_hwc: tuple[int, int, int],
                      stride: tuple[int, int], pad: tuple[int, int]) -> int:
    """Bytes the output of a row-major convolution (batch 1) must start below its input so
    that writing output pixel p never reaches an input byte that pixel p or a later one still
    reads: the largest (end of output pixel p) - (lowest input byte read by pixels >= p).
    A pixel's lowest byte is bounded below by its window's top-left corner clamped to the
    input (the first row/column it can read, whatever the dilation)."""
    h, w, c = in_hwc
    oh, ow, oc = out_hwc
    oy, ox = np.divmod(np.arange(oh * ow, dtype=np.int64), ow)
    y = np.clip(oy * stride[0] - pad[0], 0, h - 1)
    x = np.clip(ox * stride[1] - pad[1], 0, w - 1)
    first = (y * w + x) * c
    lowest = np.minimum.accumulate(first[::-1])[::-1]
    return max(int(np.max((np.arange(oh * ow) + 1) * oc - lowest)), 0)
