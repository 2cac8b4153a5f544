"""mcusim.winograd: F(2x2, 3x3) in integers is the direct convolution exactly (numpy, no target)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim import reference as ref
from mcusim import winograd


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
    oh, ow = ref.compute_out_size(pad, h, 3, 1, 1), ref.compute_out_size(pad, w, 3, 1, 1)
    ph, pw = ref.compute_padding(h, 3, 1, 1, oh), ref.compute_padding(w, 3, 1, 1, ow)
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
