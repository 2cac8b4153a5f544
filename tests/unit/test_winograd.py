"""mcusim.winograd: F(2x2, 3x3) in integers is the direct convolution exactly (numpy, no target)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim.operators._common import compute_out_size, compute_padding
from mcusim.frontend import reference as ref
from mcusim.stacks import winograd


def _direct(x: np.ndarray, w: np.ndarray, off: int, pad_h: int, pad_w: int, oh: int, ow: int) -> np.ndarray:
    n, h, wd, c = x.shape
    big = np.zeros((n, h + 2 * pad_h + 4, wd + 2 * pad_w + 4, c), np.int64)
    big[:, pad_h:pad_h + h, pad_w:pad_w + wd] = x.astype(np.int64) + off
    out = np.zeros((n, oh, ow, w.shape[0]), np.int64)
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("nyxc,oc->nyxo", big[:, ky:ky + oh, kx:kx + ow], w[:, ky, kx].astype(np.int64))
    return out


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 9),
       o=st.integers(1, 5), same=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_f2x2_3x3_equals_the_direct_sum(n: int, h: int, w: int, c: int, o: int, same: bool,
                                        seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (n, h, w, c)).astype(np.int8)
    wts = rng.integers(-128, 128, (o, 3, 3, c)).astype(np.int8)  # -128 too: the bound holds
    off = int(rng.integers(-127, 129))
    pad = "SAME" if same or h < 3 or w < 3 else "VALID"
    oh, ow = compute_out_size(pad, h, 3, 1, 1), compute_out_size(pad, w, 3, 1, 1)
    ph, pw = compute_padding(h, 3, 1, 1, oh), compute_padding(w, 3, 1, 1, ow)
    got = winograd.conv_accumulators(x, wts, off, ph, pw, oh, ow)
    np.testing.assert_array_equal(got, _direct(x, wts, off, ph, pw, oh, ow))


def test_transformed_filter_fits_int16_and_layout_is_the_kernels() -> None:
    """|G' g G'^T| <= 9 x 128 for any int8 filter; the layout puts input channels (4g+p, 4g+p+2)
    in word q = 2g + p, output channels in pairs, padding zero."""
    extreme = np.full((1, 3, 3, 1), -128, np.int8)
    assert np.abs(winograd.transformed_filter(extreme)).max() == 9 * 128
    rng = np.random.default_rng(0)
    wts = rng.integers(-127, 128, (3, 3, 3, 6)).astype(np.int8)
    u = winograd.transform_filter(wts).reshape(2, 16, 4, 2, 2)  # [O'/2][e][C'/2][j][lane]
    full = winograd.transformed_filter(wts).reshape(3, 6, 16)
    for o in range(4):
        for c in range(8):
            q, lane = 2 * (c // 4) + (c % 2), (c // 2) % 2
            want = full[o, c] if o < 3 and c < 6 else np.zeros(16)
            np.testing.assert_array_equal(u[o // 2, :, q, o % 2, lane], want)
    assert winograd.filter_bytes(wts.shape) == u.nbytes


def test_supported_geometry() -> None:
    assert winograd.supported((8, 3, 3, 16), (1, 1), (1, 1))
    assert not winograd.supported((8, 3, 3, 16), (2, 2), (1, 1))
    assert not winograd.supported((8, 3, 3, 16), (1, 1), (2, 2))
    assert not winograd.supported((8, 1, 3, 16), (1, 1), (1, 1))
    assert not winograd.supported((8, 3, 3, 16), (1, 1), (1, 1), groups=2)
    assert not winograd.supported((8, 3, 3, 2000), (1, 1), (1, 1))


# --- FULLY_CONNECTED: Winograd's inner-product identity (1968) ------------------------------
@settings(max_examples=60, deadline=None, derandomize=True)
@given(b=st.integers(1, 3), k=st.integers(1, 40), o=st.integers(1, 9), woff=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_fully_connected_inner_product_identity_equals_the_direct_sum(b: int, k: int, o: int, woff: bool,
                                                      seed: int) -> None:
    """(x0 + w1)(x1 + w0) - x0 x1 - w0 w1 over pairs, K % 4 directly, the weights offset
    folded: the FULLY_CONNECTED accumulator exactly, for every depth (odd, below 4)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (b, k)).astype(np.int8)
    w = rng.integers(-128, 128, (o, k)).astype(np.int8)
    off = int(rng.integers(-127, 129))
    wo = int(rng.integers(-127, 129)) if woff else 0
    direct = (x.astype(np.int64) + off) @ (w.astype(np.int64) + wo).T
    np.testing.assert_array_equal(winograd.inner_product_accumulators(x, w, off, wo), direct)


def test_fully_connected_pair_sums_are_the_weight_term_of_whole_groups() -> None:
    w = np.array([[1, 2, 3, 4, 5, 6, 7], [-128, -128, 127, -128, 9, 9, 9]], np.int8)
    # groups of 4 only: (1*2 + 3*4), (-128*-128 + 127*-128); the tail (5, 6, 7) is direct
    np.testing.assert_array_equal(winograd.pair_sums(w), [14, 16384 - 16256])
    assert winograd.pair_sums(w).dtype == np.int32
    extreme = np.full((1, 65532), -128, np.int8)  # the largest |value|: 2^15 K / 4 < 2^31
    assert int(winograd.pair_sums(extreme)[0]) == 2 ** 15 * 65532 // 4
    # the kernel's 32-bit sums wrap (here the products' sum is above 2^32) and still give the
    # exact accumulator when it fits int32
    k = 65532
    x16 = np.full(k, 255, np.int64)  # x + input offset at its largest
    wk = np.full(k, 127, np.int64)
    products = int(((x16[0::2] + wk[1::2]) * (x16[1::2] + wk[0::2])).sum())
    assert products > 2 ** 32
    acc = (products - int((x16[0::2] * x16[1::2]).sum())
           - int(winograd.pair_sums(wk.astype(np.int8)[None])[0]))
    wrapped = (products % 2 ** 32 - int((x16[0::2] * x16[1::2]).sum()) % 2 ** 32
               - int(winograd.pair_sums(wk.astype(np.int8)[None])[0])) % 2 ** 32
    assert acc == int(x16 @ wk) < 2 ** 31 and wrapped == acc


def test_crossover_rules() -> None:
    """The measured crossovers (benchmarks/winograd_crossover.py): convolutions from 4x4 outputs
    up, inner-product FC from 8 rows and more than 1,024 MACs up, not at depths 4-16."""
    assert winograd.worthwhile(4, 4) and winograd.worthwhile(32, 32)
    assert not winograd.worthwhile(3, 8) and not winograd.worthwhile(8, 2)
    assert winograd.fc_worthwhile(64, 32) and winograd.fc_worthwhile(250, 64)
    assert not winograd.fc_worthwhile(256, 4) and not winograd.fc_worthwhile(64, 8)
    assert not winograd.fc_worthwhile(16, 128) and winograd.fc_worthwhile(20, 128)
