"""The front-end's constant tables, computed on the host and compiled into flash.

  window   periodic Hann (0.5 - 0.5 cos 2 pi n / L) or Hamming (0.54 - 0.46 cos 2 pi n / L) over
           the frame's L = frame_length samples, zeros up to fft_size (the frame is zero-padded)
  mel      triangular filters on the HTK mel scale (mel = 2595 log10(1 + f / 700)), edges evenly
           spaced in mel from fmin to fmax (mel_bands + 2 of them); filter m rises from edge m to
           edge m + 1 and falls to edge m + 2, sampled at the FFT bins k * sample_rate / fft_size
           (k = 0..fft_size / 2), unnormalised (peak 1). Stored sparse, as CMSIS-DSP's MFCC
           takes it: per band the first non-zero bin and the number of bins, then every band's
           non-zero weights one after another.
  dct      orthonormal DCT-II: D[k, m] = s_k cos(pi k (m + 1/2) / M), s_0 = sqrt(1 / M),
           s_k = sqrt(2 / M) (mfcc only)

Fixed-point tables are the float values rounded to nearest in Q15 / Q31, saturated at the
largest positive value (a weight of exactly 1.0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .spec import FrontendSpec


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def window(spec: FrontendSpec) -> np.ndarray:
    """float64[fft_size]: the window over the frame, zeros after it."""
    n = np.arange(spec.frame_length)
    a = 0.5 if spec.window == "hann" else 0.54
    w = a - (1.0 - a) * np.cos(2.0 * np.pi * n / spec.frame_length)
    return np.concatenate([w, np.zeros(spec.fft_size - spec.frame_length)])


def mel_matrix(spec: FrontendSpec) -> np.ndarray:
    """float64[mel_bands, fft_size / 2 + 1]: the dense filter bank."""
    edges = mel_to_hz(np.linspace(hz_to_mel(spec.fmin), hz_to_mel(spec.fmax), spec.mel_bands + 2))
    freqs = np.arange(spec.fft_size // 2 + 1) * spec.sample_rate / spec.fft_size
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs[None, :] - lo) / (mid - lo)
    fall = (hi - freqs[None, :]) / (hi - mid)
    return np.maximum(0.0, np.minimum(rise, fall))


def empty_bands(spec: FrontendSpec) -> list[int]:
    """The mel bands no FFT bin falls in (their filter would be all zero)."""
    return [int(i) for i in np.flatnonzero(~(mel_matrix(spec) > 0).any(axis=1))]


@dataclass(frozen=True)
class MelSparse:
    pos: np.ndarray
    """uint32[mel_bands]: first FFT bin of each band."""
    lengths: np.ndarray
    """uint32[mel_bands]: bins per band."""
    coefs: np.ndarray
    """float64[sum(lengths)]: the weights, band after band."""


def mel_sparse(spec: FrontendSpec) -> MelSparse:
    dense = mel_matrix(spec)
    pos, lengths, coefs = [], [], []
    for row in dense:
        nz = np.flatnonzero(row > 0)
        a, b = int(nz[0]), int(nz[-1]) + 1  # triangles are convex: their support is one run
        pos.append(a)
        lengths.append(b - a)
        coefs.append(row[a:b])
    return MelSparse(np.array(pos, np.uint32), np.array(lengths, np.uint32), np.concatenate(coefs))


def dct_matrix(spec: FrontendSpec) -> np.ndarray:
    """float64[coefficients, mel_bands]."""
    m = spec.mel_bands
    k = np.arange(spec.coefficients)[:, None]
    d = np.sqrt(2.0 / m) * np.cos(np.pi * k * (np.arange(m)[None, :] + 0.5) / m)
    d[0] *= np.sqrt(0.5)
    return d


def quantize(values: np.ndarray, dtype: str) -> np.ndarray:
    """float -> the table's storage type: float32, or Q15 / Q31 rounded to nearest, saturated."""
    v = np.asarray(values, np.float64)
    if dtype == "f32":
        return v.astype(np.float32)
    bits = 15 if dtype == "q15" else 31
    q = np.clip(np.round(v * 2.0 ** bits), -(2 ** bits), 2 ** bits - 1)
    return q.astype(np.int16 if dtype == "q15" else np.int32)


@dataclass(frozen=True)
class Tables:
    window: np.ndarray
    mel: MelSparse
    mel_coefs: np.ndarray
    """The mel weights in the spec's dtype."""
    dct: np.ndarray | None
    """The DCT matrix (row-major) in the spec's dtype; None for logmel."""

    def nbytes(self) -> int:
        return (self.window.nbytes + self.mel.pos.nbytes + self.mel.lengths.nbytes + self.mel_coefs.nbytes
                + (self.dct.nbytes if self.dct is not None else 0))


def tables(spec: FrontendSpec) -> Tables:
    mel = mel_sparse(spec)
    return Tables(quantize(window(spec), spec.dtype), mel, quantize(mel.coefs, spec.dtype),
                  quantize(dct_matrix(spec).reshape(-1), spec.dtype) if spec.kind == "mfcc" else None)
