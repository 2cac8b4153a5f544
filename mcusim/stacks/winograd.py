"""Winograd F(2x2, 3x3) for int8 CONV_2D: the host half of kernels' ``mcu_conv_wino_s8``.

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016): a 2x2 block of
a 3x3 / stride-1 convolution is ``A^T [(G g G^T) * (B^T d B)] A`` summed over input channels,
16 multiplies per input channel instead of 36. ``G`` has halves in it; with ``G' = 2 G`` every
matrix is an integer matrix and the result is exactly 4x the direct accumulator, so the kernel
divides by 4 with a shift and requantizes exactly like ``mcu_conv_s8`` (bit-exact, no
rounding anywhere).

:func:`transform_filter` builds the kernel's filter layout (the classic path's code generator
stores it as a ``const int16_t`` array, so the target never runs the transform);
:func:`conv_accumulators` is the same algorithm in numpy, for tests that compare it with the
direct form of ``mcusim.reference``.

:func:`pair_sums` is the host half of ``mcu_fully_connected_wino_s8`` (FULLY_CONNECTED by
Winograd's 1968 inner-product identity): the per-row weight term the classic path stores.
"""

from __future__ import annotations

import numpy as np

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.int64)
G2 = np.array([[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]], np.int64)  # 2 x Lavin's G
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.int64)
MAX_CHANNELS = 1024  # 4 x the accumulator must fit in int32 (the kernel's sums wrap)


# Output maps smaller than this in either dimension run faster on the direct kernel: the
# Winograd kernel computes 2x2 tiles four at a time along a row, so most of a small map's
# blocks is padding (measured: `python benchmarks/winograd_crossover.py`, docs/benchmarks.md).
MIN_OUTPUT = 4


def worthwhile(out_h: int, out_w: int) -> bool:
    """Whether the classic path's ``--winograd`` should use ``mcu_conv_wino_s8`` on a supported
    layer with this output size (the measured crossover, not a capability limit)."""
    return out_h >= MIN_OUTPUT and out_w >= MIN_OUTPUT


def fc_worthwhile(depth: int, units: int) -> bool:
    """Whether the classic path's ``--winograd`` should use ``mcu_fully_connected_wino_s8`` on a
    FULLY_CONNECTED of this size: with fewer than 8 output rows the kernel has no 8-row block
    to run; up to 1,024 MACs the direct kernel's lean path wins (512 MACs: 1.17-1.22x, 1,024:
    1.03-1.06x) and at depths 4, 8, 12, 16 its short-depth path does (8 -> 64: 1.79x)
    (measured: `python benchmarks/winograd_crossover.py`, docs/benchmarks.md)."""
    return units >= 8 and depth * units > 1024 and not (depth <= 16 and depth % 4 == 0)


def supported(filter_shape: tuple[int, ...], stride: tuple[int, int],
              dilation: tuple[int, int], groups: int = 1) -> bool:
    """Whether ``mcu_conv_wino_s8`` takes a CONV_2D of this geometry."""
    _, kh, kw, c = filter_shape
    return (kh, kw) == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1 \
        and 1 <= c <= MAX_CHANNELS


def transformed_filter(weights: np.ndarray) -> np.ndarray:
    """``G' g G'^T`` of every (output, input) channel pair: int64 [O, C, 4, 4] (|v| <= 1152)."""
    g = weights.astype(np.int64).transpose(0, 3, 1, 2)  # [O, C, 3, 3]
    return np.einsum("ij,ocjk,lk->ocil", G2, g, G2)


def transform_filter(weights: np.ndarray) -> np.ndarray:
    """The int16 array ``mcu_conv_wino_s8`` reads, from an int8 filter [O, 3, 3, C].

    Layout [O'/2][16][C'/2][2][2]: output-channel pair, transform position, input-channel pair
    word q = 2g + p holding channels (4g + p, 4g + p + 2), output channel of the pair, lane; O'
    is O rounded up to even, C' is C rounded up to a multiple of 4, padding channels are 0.
    """
    o, kh, kw, c = weights.shape
    if (kh, kw) != (3, 3):
        raise ValueError(f"Winograd F(2x2, 3x3) needs a 3x3 filter, not {kh}x{kw}")
    op, cp = (o + 1) & ~1, (c + 3) & ~3
    u = np.zeros((op, cp, 16), np.int64)
    u[:o, :c] = transformed_filter(weights).reshape(o, c, 16)
    # channel c = 4g + p + 2 lane  ->  [g, lane, p] ; output o = 2 pair + j
    u = u.reshape(op // 2, 2, cp // 4, 2, 2, 16)          # [pair, j, g, lane, p, e]
    u = u.transpose(0, 5, 2, 4, 1, 3)                     # [pair, e, g, p, j, lane]
    return u.reshape(-1).astype(np.int16)


def filter_bytes(filter_shape: tuple[int, ...]) -> int:
    """Size of :func:`transform_filter`'s output (``mcu_conv_wino_s8_filter_size``)."""
    o, _, _, c = filter_shape
    return 16 * ((o + 1) & ~1) * ((c + 3) & ~3) * 2


def conv_accumulators(x: np.ndarray, weights: np.ndarray, input_offset: int, pad_h: int,
                      pad_w: int, out_h: int, out_w: int) -> np.ndarray:
    """The int32 accumulators (without bias) of a 3x3 / stride-1 convolution, by F(2x2, 3x3).

    x int8 [N, H, W, C]; returns int64 [N, out_h, out_w, O], equal to the direct sum.
    """
    n, h, w, c = x.shape
    th, tw = (out_h + 1) // 2, (out_w + 1) // 2
    d = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), np.int64)  # offset input, 0 outside
    ys, xs = slice(pad_h, pad_h + h), slice(pad_w, pad_w + w)
    big = np.zeros((n, max(2 * th + 2, pad_h + h), max(2 * tw + 2, pad_w + w), c), np.int64)
    big[:, ys, xs] = x.astype(np.int64) + input_offset
    d[:] = big[:, :2 * th + 2, :2 * tw + 2]
    tiles = np.stack([np.stack([d[:, 2 * i:2 * i + 4, 2 * j:2 * j + 4] for j in range(tw)], 1)
                      for i in range(th)], 1)              # [N, th, tw, 4, 4, C]
    v = np.einsum("ir,nabrkc,jk->nabijc", B_T, tiles, B_T)  # B^T d B
    m = np.einsum("nabijc,ocij->nabijo", v, transformed_filter(weights))
    y = np.einsum("pi,nabijo,qj->nabpqo", A_T, m, A_T)     # [N, th, tw, 2, 2, O]
    assert not np.any(y % 4), "F(2x2, 3x3) with G' = 2G gives 4x the accumulator"
    y = (y // 4).transpose(0, 1, 3, 2, 4, 5).reshape(n, 2 * th, 2 * tw, -1)
    return y[:, :out_h, :out_w]


def pair_sums(weights: np.ndarray) -> np.ndarray:
    """The weight term of Winograd's inner-product identity (S. Winograd, "A new algorithm for
    inner product", IEEE Trans. Computers, 1968), what ``mcu_fully_connected_wino_s8_prepare``
    writes: for an int8 filter [O, K], int32 [O] with
    ``sum_j (w[o, 4j] w[o, 4j+1] + w[o, 4j+2] w[o, 4j+3])`` over the whole groups of 4 (the last
    ``K % 4`` weights are multiplied directly by the kernel). |value| <= 2^15 K / 4."""
    w = np.asarray(weights).astype(np.int64)
    if w.ndim != 2:
        w = w.reshape(w.shape[0], -1)
    k4 = w.shape[1] & ~3
    return (w[:, 0:k4:2] * w[:, 1:k4:2]).sum(axis=1).astype(np.int32)


def inner_product_accumulators(x: np.ndarray, weights: np.ndarray, input_offset: int,
                               weights_offset: int = 0) -> np.ndarray:
    """The int32 accumulators (without bias) of a FULLY_CONNECTED computed as the kernel does,
    by the identity ``x0 w0 + x1 w1 = (x0 + w1)(x1 + w0) - x0 x1 - w0 w1`` over pairs
    (x = input + input_offset), the last ``K % 4`` inputs directly and a weights offset folded
    as ``weights_offset * sum(x)``. x int8 [B, K]; returns int64 [B, O], equal to the direct sum.
    """
    w = np.asarray(weights).astype(np.int64)
    xs = np.asarray(x).astype(np.int64).reshape(-1, w.shape[1]) + input_offset
    k4 = w.shape[1] & ~3
    x0, x1, w0, w1 = xs[:, 0:k4:2], xs[:, 1:k4:2], w[:, 0:k4:2], w[:, 1:k4:2]
    products = np.einsum("bjo->bo", (x0[:, :, None] + w1.T[None]) * (x1[:, :, None] + w0.T[None]))
    input_term = (x0 * x1).sum(axis=1)
    acc = products - input_term[:, None] - pair_sums(w)[None].astype(np.int64)
    acc += xs[:, k4:] @ w[:, k4:].T
    return acc + weights_offset * xs.sum(axis=1)[:, None]
