"""BATCH_MATMUL: int8 matrix products over broadcast batch dimensions (attention's Q K^T, A V).

out[..., m, n] = requant(sum_k (lhs[..., m, k] - lhs_zp) * (rhs[..., k, n] - rhs_zp)), with
adj_x / adj_y meaning the operand is stored transposed (lhs [..., K, M], rhs [..., N, K]).
Both operands may be activations, or either a constant; per-tensor quantization only, no
bias, no fused activation (the int8 range). TFLM's kernel transposes the right-hand side
into [N, K] rows (once, when constant) and runs FullyConnected-style dot products; the
multiplier is QuantizeMultiplier(double(float(lhs_scale * rhs_scale)) / out_scale). Batch
dimensions broadcast like NumPy's (each equals the other's or is 1), ranks 2 to 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..frontend import quant as q
from ..frontend.graph import Graph, Op, Tensor
from ..frontend.validate import check_activation_tensor
from ..stacks.classic.cgen import Step, array_c
from ..stacks.cmsisnn import COMPONENT
from . import OpSpec, Options, Tinyml, Values
from ._common import I8_MAX, I8_MIN, i64, inp, out, to_i8, value


@dataclass(frozen=True)
class BatchMatMulParams:
    lhs_offset: int
    """-lhs zero point (TFLM's input_offset)."""
    rhs_offset: int
    """-rhs zero point (TFLM's filter/weights offset)."""
    output_zero_point: int
    multiplier: int
    shift: int
    adj_x: bool
    adj_y: bool


def prepare_batch_matmul(graph: Graph, op: Op) -> BatchMatMulParams:
    a, b, y = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    real = float(np.float32(a.scale[0]) * np.float32(b.scale[0])) / float(y.scale[0])
    mult, shift = q.quantize_multiplier(real)
    return BatchMatMulParams(-int(a.zero_point[0]), -int(b.zero_point[0]), int(y.zero_point[0]), mult, shift,
                             bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False)))


def shapes(graph: Graph, op: Op) -> tuple[tuple[int, ...], tuple[int, ...], int, int, int]:
    """(lhs batch dims, rhs batch dims, M, K, N), batch dims padded to the output's rank - 2."""
    a, b = inp(graph, op, 0).shape, inp(graph, op, 1).shape
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    rank = max(len(a), len(b))
    ea, eb = (1,) * (rank - len(a)) + tuple(a), (1,) * (rank - len(b)) + tuple(b)
    m, k = (ea[-1], ea[-2]) if adj_x else (ea[-2], ea[-1])
    k2, n = (eb[-1], eb[-2]) if adj_y else (eb[-2], eb[-1])
    if k != k2:
        raise ModelError(f"op {op.index} (BATCH_MATMUL): lhs {list(a)} and rhs {list(b)} accumulate over "
                         f"{k} and {k2} values (adj_x {adj_x}, adj_y {adj_y})")
    return ea[:-2], eb[:-2], int(m), int(k), int(n)


def batch_matmul(lhs: np.ndarray, rhs: np.ndarray, p: BatchMatMulParams) -> np.ndarray:
    """int8 batched product with NumPy broadcasting of the batch dimensions."""
    rank = max(lhs.ndim, rhs.ndim)
    a = i64(lhs).reshape((1,) * (rank - lhs.ndim) + lhs.shape) + p.lhs_offset
    b = i64(rhs).reshape((1,) * (rank - rhs.ndim) + rhs.shape) + p.rhs_offset
    if p.adj_x:
        a = np.swapaxes(a, -1, -2)
    if p.adj_y:
        b = np.swapaxes(b, -1, -2)
    acc = np.matmul(a, b)  # int64: exact
    y = q.multiply_by_quantized_multiplier(acc, p.multiplier, p.shift) + p.output_zero_point
    return to_i8(np.clip(y, I8_MIN, I8_MAX))


def _reference(graph: Graph, op: Op, values: Values) -> np.ndarray:
    y = batch_matmul(value(values, graph, op, 0), value(values, graph, op, 1), prepare_batch_matmul(graph, op))
    return y.reshape(out(graph, op).shape)


def _check(graph: Graph, op: Op) -> None:
    where = f"op {op.index} (BATCH_MATMUL)"
    a, b, y = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    for t, role in ((a, "lhs"), (b, "rhs"), (y, "output")):
        check_activation_tensor(t, op, role)
    if len(op.inputs) != 2:
        raise ModelError(f"{where} has {len(op.inputs)} inputs; it takes 2")
    if not (2 <= len(a.shape) <= 5 and 2 <= len(b.shape) <= 5):
        raise ModelError(f"{where}: operands of rank {len(a.shape)} and {len(b.shape)}; TFLM takes ranks 2 to 5")
    if op.options.get("asymmetric_quantize_inputs", False):
        raise ModelError(f"{where} asks for asymmetric_quantize_inputs (a hybrid float kernel); int8 only")
    ba, bb, m, _, n = shapes(graph, op)
    batch = []
    for da, db in zip(ba, bb):
        if da != db and 1 not in (da, db):
            raise ModelError(f"{where}: batch dimensions {list(ba)} and {list(bb)} do not broadcast")
        batch.append(max(da, db))
    if tuple(y.shape) != (*batch, m, n):
        raise ModelError(f"{where} output shape {list(y.shape)} is not the product's {[*batch, m, n]}")


def _macs(graph: Graph, op: Op) -> int:
    _, _, m, k, n = shapes(graph, op)
    return int(out(graph, op).size) // max(1, m * n) * m * n * k


# --- the kernels' view: at most two batch dimensions -------------------------------------------
def kernel_dims(graph: Graph, op: Op) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """{n, h, w, c} of lhs, rhs (as stored) and output for mcu_batch_matmul_s8 (and CMSIS-NN):
    n, h the two innermost batch dimensions. A third one is folded into n when both operands
    broadcast the same way over it; otherwise ModelError."""
    a, b, y = inp(graph, op, 0), inp(graph, op, 1), out(graph, op)
    rank = len(y.shape)
    ea = (1,) * (rank - len(a.shape)) + tuple(int(d) for d in a.shape)
    eb = (1,) * (rank - len(b.shape)) + tuple(int(d) for d in b.shape)
    ey = tuple(int(d) for d in y.shape)
    while len(ey) > 4:
        if not all(t[:2] in ((1, 1), ey[:2]) for t in (ea, eb)):
            raise ModelError(f"op {op.index} (BATCH_MATMUL): batch dimensions {list(ea[:-2])} and "
                             f"{list(eb[:-2])} broadcast over three axes; the kernels take two")
        ea, eb, ey = ((t[0] * t[1], *t[2:]) for t in (ea, eb, ey))
    pad = (1,) * (4 - len(ey))
    return pad + ea, pad + eb, pad + ey


def _dims_c(d: tuple[int, ...]) -> str:
    return "{" + ", ".join(map(str, d)) + "}"


def _transposed_const(gen: Any, op: Op, index: int, stored: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """A constant rhs stored [.., K, N], transposed on the host into [.., N, K] rows in
    weights.c (what TFLM does once at its first invoke); returns (symbol, dims)."""
    t: Tensor = gen.t[index]
    data = np.asarray(gen.values[index]).astype(np.int8).reshape(stored)
    rows = np.ascontiguousarray(np.swapaxes(data, -1, -2))
    name = f"op{op.index}_rhs_rows"
    decl = f"const int8_t {name}[{rows.size}]"
    gen.extra_weights.append((f"extern {decl};", [
        f"/* tensor {index} {t.name[:40]}: the constant rhs transposed on the host into {rows.shape[-2]} rows "
        f"of {rows.shape[-1]} (adj_y form) */", f"{decl} = {{", *array_c(rows.reshape(-1), 16), "};"]))
    return name, (*stored[:2], stored[3], stored[2])


def _classic(gen: Any, op: Op) -> Any:
    p = prepare_batch_matmul(gen.g, op)
    ld, rd, od = kernel_dims(gen.g, op)
    lhs = gen.data(op, 0, "lhs")
    adj_y = p.adj_y
    rhs_sym = ""
    if not adj_y and gen.known(op.inputs[1]):
        rhs = op.inputs[1]
        rhs_sym, rd = _transposed_const(gen, op, rhs, rd)
        adj_y = True
    else:
        rhs = gen.data(op, 1, "rhs")
    y = gen.t[op.outputs[0]]
    quant = gen.requant_arrays(op, np.array([p.multiplier]), np.array([p.shift]), False)
    decls = [f"static const mcu_batch_matmul_params params = {{.lhs_offset = {p.lhs_offset}, "
             f".rhs_offset = {p.rhs_offset}, .output_offset = {p.output_zero_point}, .adj_x = {int(p.adj_x)}, "
             f".adj_y = {int(adj_y)}, .activation = {{-128, 127}}}};",
             f"static const mcu_dims lhs_dims = {_dims_c(ld)}, rhs_dims = {_dims_c(rd)}, out_dims = {_dims_c(od)};"]
    _, _, m, k, n = shapes(gen.g, op)
    extra = [f"{od[0] * od[1]} x ([{m} x {k}] . [{k} x {n}]), adj_x {p.adj_x}, adj_y {p.adj_y}"
             + (" (constant rhs transposed on the host)" if rhs_sym else ""),
             f"requantization per tensor: multiplier {p.multiplier}, shift {p.shift}"]
    kernel = "mcu_batch_matmul_s8"

    def render(ptr: Any, ctx: str) -> list[str]:
        return [f"st = {kernel}({ctx}, &params, &{quant}, &lhs_dims, {ptr(lhs)}, &rhs_dims, "
                f"{rhs_sym or ptr(rhs)}, &out_dims, {ptr(y.index)});"]

    return Step(op, [lhs, rhs], y.index, extra, decls, render, kernel,
                 f"{kernel}_get_buffer_size(&params, &lhs_dims, &rhs_dims)", sizing_decls=decls)


def _cmsis_nn(gen: Any, op: Op) -> Any:
    """arm_batch_matmul_s8 with TFLM's cmsis_nn/batch_matmul.cc parameters. CMSIS-NN takes the
    rhs as [N, K] rows and the lhs as [M, K]: TFLM transposes them into persistent buffers
    first; here a constant rhs is transposed on the host, and a run-time transpose (adj_x, or
    an activation rhs without adj_y) falls back to mcusim's kernel."""
    p = prepare_batch_matmul(gen.g, op)
    if p.adj_x:
        return "adj_x: the lhs needs a run-time transpose, which arm_batch_matmul_s8 does not do"
    if not p.adj_y and not gen.known(op.inputs[1]):
        return "rhs is an activation without adj_y: it needs a run-time transpose, which arm_batch_matmul_s8 does not do"
    ld, rd, od = kernel_dims(gen.g, op)
    lhs = gen.data(op, 0, "lhs")
    rhs_sym = ""
    if not p.adj_y:
        rhs = op.inputs[1]
        rhs_sym, rd = _transposed_const(gen, op, rhs, rd)
    else:
        rhs = gen.data(op, 1, "rhs")
    y = gen.t[op.outputs[0]]
    params = (f"static const cmsis_nn_bmm_params params = {{.adj_x = false, .adj_y = true, .fc_params = "
              f"{{.input_offset = {p.lhs_offset}, .filter_offset = {p.rhs_offset}, .output_offset = "
              f"{p.output_zero_point}, .activation = {{.min = -128, .max = 127}}}}}};")
    quant = f"static const cmsis_nn_per_tensor_quant_params quant = {{{p.multiplier}, {p.shift}}};"
    dims = (f"static const cmsis_nn_dims lhs_dims = {_dims_c(ld)}, rhs_dims = {_dims_c(rd)}, "
            f"out_dims = {_dims_c(od)};")
    kernel = "arm_batch_matmul_s8"
    _, _, m, k, n = shapes(gen.g, op)
    extra = [f"{od[0] * od[1]} x ([{m} x {k}] . [{k} x {n}]), adj_y {p.adj_y}"
             + (" (constant rhs transposed on the host)" if rhs_sym else ""),
             f"requantization per tensor: multiplier {p.multiplier}, shift {p.shift}",
             f"CMSIS-NN {kernel}"]

    def render(ptr: Any, ctx: str) -> list[str]:
        return [f"st = (mcu_status){kernel}({ctx}, &params, &quant, &lhs_dims, {ptr(lhs)}, &rhs_dims, "
                f"{rhs_sym or ptr(rhs)}, &out_dims, {ptr(y.index)});"]

    return Step(op, [lhs, rhs], y.index, extra, [params, quant, dims], render, kernel, None,
                 library=COMPONENT)


BATCH_MATMUL = OpSpec(
    "BATCH_MATMUL", _reference,
    options=Options(101, "BatchMatMulOptions", (
        ("adj_x", 0, "bool", False), ("adj_y", 1, "bool", False),
        ("asymmetric_quantize_inputs", 2, "bool", False))),
    min_inputs=2,
    check=_check,
    macs=_macs,
    classic=_classic,
    cmsis_nn=_cmsis_nn,
    tinyml=Tinyml("mcu_op_batch_matmul", "batch_matmul.c"),
    kernels=("mcu_batch_matmul_s8",),
)

SPECS = (BATCH_MATMUL,)
