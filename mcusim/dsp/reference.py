"""The front-end's input frame and its host reference: the ``cmsisdsp`` Python package (the same
CMSIS-DSP C code, built for the host) running the same functions on the same frame with the same
tables.

  mfcc    arm_mfcc_init_<dt> + arm_mfcc_<dt> (CMSIS-DSP's own pipeline: input scaled to full
          range by its absolute maximum, window, real FFT, magnitude, sparse mel filters by dot
          products, log, DCT by matrix x vector). Output: f32 natural-log units; q15 in Q8.7;
          q31 in Q8.23 (CMSIS-DSP's formats)
  logmel  mcusim's chain of CMSIS-DSP calls (run.py's firmware makes the same calls):
          f32  arm_mult_f32 (window), arm_rfft_fast_f32, arm_cmplx_mag_f32 (the Nyquist bin,
               packed by the real FFT into element 1, taken as its absolute value),
               arm_dot_prod_f32 per band, arm_offset_f32 (+1e-6), arm_vlog_f32: ln of each band
          q15  arm_mult_q15, arm_rfft_q15, arm_cmplx_mag_q15, arm_dot_prod_q15 (Q34.30) shifted
               left by 1 to Q31 with saturation, arm_offset_q31 (+1 LSB: no log of 0),
               arm_vlog_q31: Q5.26
          q31  arm_mult_q31, arm_rfft_q31, arm_cmplx_mag_q31, arm_dot_prod_q31 (Q16.48) shifted
               right by 17 to Q31 with saturation, arm_offset_q31, arm_vlog_q31: Q5.26
          No input scaling: a log-mel frame keeps the signal's level.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import McusimError
from .spec import FrontendSpec
from .tables import Tables

OUTPUT_FORMAT = {("mfcc", "f32"): "float32", ("mfcc", "q15"): "Q8.7 int16", ("mfcc", "q31"): "Q8.23 int32",
                 ("logmel", "f32"): "float32", ("logmel", "q15"): "Q5.26 int32", ("logmel", "q31"): "Q5.26 int32"}
"""The features' storage format per (kind, dtype)."""

OUTPUT_DTYPES = {"float32": np.float32, "Q8.7 int16": np.int16, "Q8.23 int32": np.int32, "Q5.26 int32": np.int32}
OUTPUT_SCALE = {"float32": 1.0, "Q8.7 int16": 2.0 ** -7, "Q8.23 int32": 2.0 ** -23, "Q5.26 int32": 2.0 ** -26}


def output_dtype(spec: FrontendSpec) -> Any:
    return OUTPUT_DTYPES[OUTPUT_FORMAT[(spec.kind, spec.dtype)]]


def test_tone(spec: FrontendSpec) -> np.ndarray:
    """int16[frame_length]: the default input, 440 Hz and 1.3 kHz tones plus a 3.1 kHz one (each
    below Nyquist at 8 kHz and up; clipped to it otherwise) and seeded white noise, peak ~0.6 of
    full scale, so that every mel band carries energy."""
    t = np.arange(spec.frame_length) / spec.sample_rate
    nyq = spec.sample_rate / 2
    x = sum(a * np.sin(2 * np.pi * min(f, 0.9 * nyq) * t) for a, f in ((0.25, 440.0), (0.15, 1300.0), (0.1, 3100.0)))
    x = x + 0.05 * np.random.default_rng(0).standard_normal(spec.frame_length)
    return np.round(x * 32767).astype(np.int16)


def load_frame(spec: FrontendSpec, path: str | Path | None) -> tuple[np.ndarray, str]:
    """int16[frame_length] PCM: the first frame of a mono 16-bit .wav at the spec's sample rate, or
    of a 1-D .npy (int16 PCM, or float in [-1, 1]); the test tone without a path. Also a
    description of where it came from."""
    if path is None:
        return test_tone(spec), "test tone (440 + 1300 + 3100 Hz + seeded noise)"
    p = Path(path)
    if p.suffix.lower() == ".wav":
        try:
            with wave.open(str(p), "rb") as w:
                if w.getnchannels() != 1 or w.getsampwidth() != 2:
                    raise McusimError(f"{p}: needs mono 16-bit PCM, got {w.getnchannels()} channel(s) of "
                                      f"{8 * w.getsampwidth()} bits")
                if w.getframerate() != spec.sample_rate:
                    raise McusimError(f"{p}: sampled at {w.getframerate()} Hz, the spec says {spec.sample_rate} Hz")
                x = np.frombuffer(w.readframes(spec.frame_length), "<i2")
        except (OSError, wave.Error, EOFError) as e:
            raise McusimError(f"{p}: not a readable .wav file: {e}") from None
    elif p.suffix.lower() == ".npy":
        try:
            a = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise McusimError(f"{p}: not a readable .npy file: {e}") from None
        if a.ndim != 1:
            raise McusimError(f"{p}: needs a 1-D array of samples, got shape {a.shape}")
        if a.dtype == np.int16:
            x = a
        elif a.dtype.kind == "f":
            if a.size and np.abs(a).max() > 1.0:
                raise McusimError(f"{p}: float samples must lie in [-1, 1] (max |x| = {np.abs(a).max():g})")
            x = np.clip(np.round(a * 32768.0), -32768, 32767).astype(np.int16)
        else:
            raise McusimError(f"{p}: samples must be int16 PCM or float, got {a.dtype}")
    else:
        raise McusimError(f"{p}: --input takes a .wav or .npy file")
    if len(x) < spec.frame_length:
        raise McusimError(f"{p}: {len(x)} samples, a frame needs frame_length = {spec.frame_length}")
    return np.asarray(x[:spec.frame_length], np.int16), str(p)


def to_input(spec: FrontendSpec, pcm: np.ndarray) -> np.ndarray:
    """The frame as the firmware takes it: fft_size values of the spec's dtype (f32: x / 32768;
    q15: as is; q31: x << 16), zero after frame_length."""
    x = np.zeros(spec.fft_size, np.int64)
    x[:spec.frame_length] = pcm
    if spec.dtype == "f32":
        return (x / 32768.0).astype(np.float32)
    return x.astype(np.int16) if spec.dtype == "q15" else (x << 16).astype(np.int32)


def _dsp() -> Any:
    try:
        import cmsisdsp
    except ImportError:
        raise McusimError("the front-end's host reference needs the cmsisdsp package: "
                          "pip install 'mcusim[classic-ml]' (or cmsisdsp==1.10.3)") from None
    return cmsisdsp


def reference(spec: FrontendSpec, tab: Tables, x: np.ndarray) -> np.ndarray:
    """The features of frame ``x`` (see :func:`to_input`) computed on the host by ``cmsisdsp``."""
    dsp = _dsp()
    dt, n = spec.dtype, spec.fft_size
    x = x.copy()
    if spec.kind == "mfcc":
        inst = getattr(dsp, f"arm_mfcc_instance_{dt}")()
        status = getattr(dsp, f"arm_mfcc_init_{dt}")(inst, n, spec.mel_bands, spec.coefficients, tab.dct,
                                                     tab.mel.pos, tab.mel.lengths, tab.mel_coefs, tab.window)
        if status != 0:
            raise McusimError(f"cmsisdsp arm_mfcc_init_{dt} failed with status {status}")
        tmp = np.zeros(2 * n, np.float32 if dt == "f32" else np.int32)
        out = getattr(dsp, f"arm_mfcc_{dt}")(inst, x, tmp)
        if dt != "f32":
            status, out = out
            if status != 0:
                raise McusimError(f"cmsisdsp arm_mfcc_{dt} returned status {status}")
        return np.asarray(out, output_dtype(spec))
    if dt == "f32":
        rf = dsp.arm_rfft_fast_instance_f32()
        dsp.arm_rfft_fast_init_f32(rf, n)
        spec_ = np.asarray(dsp.arm_rfft_fast_f32(rf, dsp.arm_mult_f32(x, tab.window), 0), np.float32)
        nyq = abs(spec_[1])
        spec_[1] = 0.0
        mag = np.append(np.asarray(dsp.arm_cmplx_mag_f32(spec_), np.float32), np.float32(nyq))
    else:
        rf = getattr(dsp, f"arm_rfft_instance_{dt}")()
        getattr(dsp, f"arm_rfft_init_{dt}")(rf, n, 0, 1)
        w = getattr(dsp, f"arm_mult_{dt}")(x, tab.window)
        full = getattr(dsp, f"arm_rfft_{dt}")(rf, w)
        mag = getattr(dsp, f"arm_cmplx_mag_{dt}")(np.asarray(full)[: n + 2])
    mel = []
    start = 0
    for pos, ln in zip(tab.mel.pos, tab.mel.lengths):
        seg, co = mag[pos:pos + ln], tab.mel_coefs[start:start + ln]
        start += ln
        mel.append(getattr(dsp, f"arm_dot_prod_{dt}")(seg, co))
    if dt == "f32":
        m = dsp.arm_offset_f32(np.asarray(mel, np.float32), np.float32(1e-6))
        return np.asarray(dsp.arm_vlog_f32(m), np.float32)
    acc = np.asarray(mel, np.int64)
    q31 = (acc << 1) if dt == "q15" else (acc >> 17)
    q31 = np.clip(q31, -2 ** 31, 2 ** 31 - 1).astype(np.int32)
    return np.asarray(dsp.arm_vlog_q31(dsp.arm_offset_q31(q31, 1)), np.int32)


def compare(spec: FrontendSpec, got: np.ndarray, want: np.ndarray) -> dict[str, Any]:
    """Exact differences between the MCU's features and the host's: max |difference| in the
    output's own units (LSBs for fixed point) and in real units, max ULP distance (f32)."""
    fmt = OUTPUT_FORMAT[(spec.kind, spec.dtype)]
    g, w = np.asarray(got), np.asarray(want)
    out: dict[str, Any] = {"format": fmt, "equal": bool(np.array_equal(g, w))}
    if fmt == "float32":
        diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
        out.update(max_abs_error=float(diff.max(initial=0.0)),
                   max_ulp_error=int(np.abs(_ordered(g) - _ordered(w)).max(initial=0)))
    else:
        diff_lsb = np.abs(g.astype(np.int64) - w.astype(np.int64))
        out.update(max_abs_error=float(diff_lsb.max(initial=0) * OUTPUT_SCALE[fmt]),
                   max_lsb_error=int(diff_lsb.max(initial=0)))
    return out


def _ordered(x: np.ndarray) -> np.ndarray:
    """float32 -> int64 in the floats' order, one step per representable value (ULP distance)."""
    i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(2 ** 31) - i, i)
