"""The front-end spec (TOML): what one audio feature frame is and how it is computed.

    kind = "mfcc"            # or "logmel"
    sample_rate = 16000      # Hz
    frame_length = 480       # samples per frame (30 ms), zero-padded to fft_size
    hop_length = 320         # samples between frames (20 ms)
    fft_size = 512           # a power of two, 32..4096
    mel_bands = 40
    coefficients = 10        # mfcc only: DCT outputs kept
    dtype = "q15"            # f32 | q15 | q31
    window = "hann"          # hann | hamming
    fmin = 20.0              # Hz, lowest mel edge (default 0)
    fmax = 4000.0            # Hz, highest mel edge (default sample_rate / 2)
    frames_per_inference = 49  # optional: else from the model's input shape (run --frontend)

Every problem is reported, one line each (``SPEC: key: problem``), as one
:class:`FrontendSpecError` (exit code 2).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import McusimError

KINDS = ("mfcc", "logmel")
DTYPES = ("f32", "q15", "q31")
WINDOWS = ("hann", "hamming")
FFT_SIZES = tuple(2 ** k for k in range(5, 13))
"""The sizes CMSIS-DSP's arm_mfcc_init_<N>_<dt> and arm_rfft_fast_init_<N>_f32 exist for."""

KEYS = ("kind", "sample_rate", "frame_length", "hop_length", "fft_size", "mel_bands", "coefficients", "dtype",
        "window", "fmin", "fmax", "frames_per_inference", "new_frames_per_inference", "name")


class FrontendSpecError(McusimError):
    """A front-end spec that cannot be used: one line per problem."""


@dataclass(frozen=True)
class FrontendSpec:
    kind: str
    sample_rate: int
    frame_length: int
    hop_length: int
    fft_size: int
    mel_bands: int
    coefficients: int
    """DCT outputs (mfcc); 0 for logmel."""
    dtype: str
    window: str
    fmin: float
    fmax: float
    frames_per_inference: int | None = None
    new_frames_per_inference: int | None = None
    """Streaming: the frames computed per inference (the others kept from earlier inferences, the
    model's input shifted); None: every frame is computed anew."""
    name: str = ""

    @property
    def features(self) -> int:
        """Values per frame: the coefficients (mfcc) or the mel bands (logmel)."""
        return self.coefficients if self.kind == "mfcc" else self.mel_bands

    @property
    def hop_seconds(self) -> float:
        return self.hop_length / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}


def frames_text(per_inference: dict[str, Any]) -> str:
    """``49 frames``, or streaming ``1 new frame of 49``."""
    frames, computed = per_inference["frames"], per_inference.get("computed_frames", per_inference["frames"])
    if computed == frames:
        return f"{frames} frames"
    return f"{computed} new frame{'s' if computed != 1 else ''} of {frames}"


def _int(d: dict[str, Any], key: str, errors: list[str], lo: int, hi: int | None = None) -> int:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        errors.append(f"{key}: must be an integer, got {v!r}")
        return 0
    if v < lo or (hi is not None and v > hi):
        errors.append(f"{key}: {v} is out of range ({lo}..{hi if hi is not None else ''})")
        return 0
    return v


def _choice(d: dict[str, Any], key: str, choices: tuple[str, ...], errors: list[str]) -> str:
    v = d.get(key)
    if v not in choices:
        errors.append(f"{key}: must be one of {', '.join(choices)}, got {v!r}")
        return ""
    return str(v)


def parse_spec(data: dict[str, Any], origin: str = "front-end spec") -> FrontendSpec:
    """A :class:`FrontendSpec` from a TOML table; every problem at once (FrontendSpecError)."""
    errors: list[str] = []
    for k in sorted(set(data) - set(KEYS)):
        errors.append(f"{k}: unknown key (keys: {', '.join(KEYS)})")
    for k in ("kind", "sample_rate", "frame_length", "hop_length", "fft_size", "mel_bands", "dtype", "window"):
        if k not in data:
            errors.append(f"{k}: missing")
    kind = _choice(data, "kind", KINDS, errors) if "kind" in data else ""
    dtype = _choice(data, "dtype", DTYPES, errors) if "dtype" in data else ""
    window = _choice(data, "window", WINDOWS, errors) if "window" in data else ""
    rate = _int(data, "sample_rate", errors, 1000, 192000) if "sample_rate" in data else 0
    fft = 0
    if "fft_size" in data:
        fft = _int(data, "fft_size", errors, FFT_SIZES[0], FFT_SIZES[-1])
        if fft and fft not in FFT_SIZES:
            errors.append(f"fft_size: {fft} is not a power of two in {FFT_SIZES[0]}..{FFT_SIZES[-1]}")
            fft = 0
    frame = _int(data, "frame_length", errors, 2) if "frame_length" in data else 0
    if frame and fft and frame > fft:
        errors.append(f"frame_length: {frame} is longer than fft_size {fft}")
    hop = _int(data, "hop_length", errors, 1) if "hop_length" in data else 0
    mels = _int(data, "mel_bands", errors, 1, fft // 2 if fft else None) if "mel_bands" in data else 0
    coeffs = 0
    if kind == "mfcc":
        if "coefficients" not in data:
            errors.append("coefficients: missing (kind = \"mfcc\")")
        else:
            coeffs = _int(data, "coefficients", errors, 1, mels or None)
    elif kind == "logmel" and "coefficients" in data:
        errors.append("coefficients: only for kind = \"mfcc\" (a log-mel frame is its mel_bands)")
    fmin, fmax = 0.0, rate / 2
    for key in ("fmin", "fmax"):
        if key in data:
            v = data[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                errors.append(f"{key}: must be a number of Hz, got {v!r}")
            elif key == "fmin":
                fmin = float(v)
            else:
                fmax = float(v)
    if fmin < 0:
        errors.append(f"fmin: {fmin:g} Hz is negative")
    if rate and fmax > rate / 2:
        errors.append(f"fmax: {fmax:g} Hz is above the Nyquist frequency {rate / 2:g} Hz")
    if rate and fmin >= fmax:
        errors.append(f"fmin: {fmin:g} Hz is not below fmax {fmax:g} Hz")
    fpi = None
    if "frames_per_inference" in data:
        fpi = _int(data, "frames_per_inference", errors, 1) or None
    new = None
    if "new_frames_per_inference" in data:
        new = _int(data, "new_frames_per_inference", errors, 1) or None
        if new and fpi and new > fpi:
            errors.append(f"new_frames_per_inference: {new} is more than frames_per_inference {fpi}")
    name = data.get("name", "")
    if not isinstance(name, str):
        errors.append(f"name: must be a string, got {name!r}")
        name = ""
    spec = FrontendSpec(kind, rate, frame, hop, fft, mels, coeffs, dtype, window, fmin, fmax, fpi, new, name)
    if not errors:
        from .tables import empty_bands

        empty = empty_bands(spec)
        if empty:
            errors.append(f"mel_bands: band(s) {', '.join(map(str, empty))} of {mels} cover no FFT bin between "
                          f"{fmin:g} and {fmax:g} Hz; use fewer mel_bands, a larger fft_size or a wider fmin..fmax")
    if errors:
        raise FrontendSpecError("\n".join(f"{origin}: {e}" for e in errors))
    return spec


def load_spec(path: str | Path) -> FrontendSpec:
    """Read and validate a front-end spec file."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise FrontendSpecError(f"{p}: cannot read the front-end spec: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise FrontendSpecError(f"{p}: not valid TOML: {e}") from None
    spec = parse_spec(data, str(p))
    return spec if spec.name else FrontendSpec(**{**asdict(spec), "name": p.stem})
