"""Small TRANSPOSE_CONV and BATCH_MATMUL models built here (tests/tflite_builder.py) for the
corners the converter-made files in tests/data do not reach: strides of 3 and 1, a 1x1 kernel
whose stride leaves outputs no tap reaches (bias only), input channels a multiple of 4 (the
optimized kernels' word paths) and not, per-tensor filters, no bias, a fused activation;
batch broadcasting on both batch axes, rank-2 operands, a constant lhs, depth a multiple of 4.
Each is checked against the tflite-micro interpreter before it is used."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tflite_builder import ModelBuilder


def _tconv(in_shape: tuple[int, int, int, int], filt: tuple[int, int, int, int], out_hw: tuple[int, int],
           stride: tuple[int, int], padding: str, *, per_channel: bool = True, bias: bool = True,
           activation: str = "NONE", seed: int = 0, in_zp: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    o = filt[0]
    out_shape = (in_shape[0], *out_hw, o)
    shape = b.tensor((4,), "INT32", data=np.array(out_shape, np.int32))
    scales = list(rng.uniform(0.005, 0.02, o)) if per_channel else 0.01
    w = b.tensor(filt, data=rng.integers(-127, 128, filt).astype(np.int8), scale=scales, zero_point=0)
    x = b.tensor(in_shape, scale=0.05, zero_point=in_zp)
    ins = [shape, w, x]
    if bias:
        ins.append(b.tensor((o,), "INT32", data=rng.integers(-3000, 3000, o).astype(np.int32)))
    y = b.tensor(out_shape, scale=0.3, zero_point=-7)
    b.op("TRANSPOSE_CONV", ins, [y], padding=padding, stride_h=stride[0], stride_w=stride[1],
         fused_activation_function=activation)
    return b.io([x], [y]).build()


def _bmm(lhs: tuple[int, ...], rhs: tuple[int, ...], out: tuple[int, ...], *, adj_x: bool = False,
         adj_y: bool = False, const_lhs: bool = False, const_rhs: bool = False, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    data = lambda s: rng.integers(-128, 128, s).astype(np.int8)
    a = b.tensor(lhs, scale=0.04, zero_point=-9, data=data(lhs) if const_lhs else None)
    c = b.tensor(rhs, scale=0.03, zero_point=17, data=data(rhs) if const_rhs else None)
    y = b.tensor(out, scale=0.25, zero_point=3)
    b.op("BATCH_MATMUL", [a, c], [y], adj_x=adj_x, adj_y=adj_y)
    return b.io([i for i, k in ((a, const_lhs), (c, const_rhs)) if not k], [y]).build()


CORNERS: dict[str, Callable[[], bytes]] = {
    "tconv_s3x2_valid_pt_nobias_relu": lambda: _tconv((1, 3, 4, 5), (6, 3, 2, 5), (9, 8), (3, 2), "VALID",
                                                      per_channel=False, bias=False, activation="RELU"),
    "tconv_c8_same_s1": lambda: _tconv((1, 5, 5, 8), (3, 3, 3, 8), (5, 5), (1, 1), "SAME", seed=1),
    "tconv_k1_s2_same_batch2": lambda: _tconv((2, 3, 3, 4), (3, 1, 1, 4), (6, 6), (2, 2), "SAME", seed=2),
    "tconv_k4_s2_same_c16": lambda: _tconv((1, 4, 3, 16), (5, 4, 4, 16), (8, 6), (2, 2), "SAME", seed=3,
                                           in_zp=-20),
    "bmm_broadcast_both_axes": lambda: _bmm((3, 1, 4, 8), (1, 2, 8, 5), (3, 2, 4, 5)),
    "bmm_rank2_adj_xy": lambda: _bmm((7, 3), (5, 7), (3, 5), adj_x=True, adj_y=True, seed=1),
    "bmm_const_lhs": lambda: _bmm((2, 4, 6), (2, 6, 3), (2, 4, 3), const_lhs=True, seed=2),
    "bmm_const_rhs_broadcast": lambda: _bmm((3, 5, 12), (1, 12, 7), (3, 5, 7), const_rhs=True, seed=3),
    "bmm_rank3_by_rank4": lambda: _bmm((2, 3, 9), (4, 1, 9, 2), (4, 2, 3, 2), seed=4),
}
