"""The stacks a model can be built into, what is real in each, and the columns of ``compare``.

A stack is a path (the runtime around the kernels) and a kernel flavour:

| path      | runtime                                   | kernels                                   |
|-----------|-------------------------------------------|-------------------------------------------|
| `tflm`    | real TensorFlow Lite Micro (a TFLM tree)  | `cmsis-nn` (real, TFLM's port), `ref` (TFLM's) |
| `classic` | generated C: static weights, static plan  | `cmsis-nn` (real), `opt`, `ref` (mcusim's) |
| `tinyml`  | mcusim's own micro-interpreter            | `opt`, `ref` (mcusim's)                   |

The question teams face is ``tflm/cmsis-nn`` against ``classic/cmsis-nn``: what they would ship.
mcusim's own ``tinyml/opt`` and ``classic/opt`` are a further column showing what leaner
engineering buys; they never stand in for the real stacks (docs/stacks.md).
"""

from __future__ import annotations

from ..errors import McusimError
from ..simulator.board import Board

KERNELS = {"tflm": ("cmsis-nn", "ref"), "classic": ("cmsis-nn", "opt", "ref"), "tinyml": ("opt", "ref")}
PATHS = tuple(KERNELS)
ALL_KERNELS = ("cmsis-nn", "opt", "ref")

_RUNTIME = {
    "tflm": "real TensorFlow Lite Micro interpreter",
    "classic": "generated C (static weights and buffer plan)",
    "tinyml": "mcusim's own micro-interpreter",
}
_KERNELS = {
    ("tflm", "cmsis-nn"): "real CMSIS-NN through TFLM's cmsis_nn kernels",
    ("tflm", "ref"): "TFLM's reference kernels",
    ("classic", "cmsis-nn"): "real CMSIS-NN",
    ("classic", "opt"): "mcusim's own optimized kernels",
    ("classic", "ref"): "mcusim's own reference kernels",
    ("tinyml", "opt"): "mcusim's own optimized kernels",
    ("tinyml", "ref"): "mcusim's own reference kernels",
}


def label(path: str, kernels: str) -> str:
    return f"{path}/{kernels}"


def describe(path: str, kernels: str, dsp: bool = True) -> str:
    """What runs on the target, in words: which parts are the real libraries, which mcusim's.
    ``dsp``: the core has the DSP extension. Without it mcusim's optimized kernel files compile
    to their reference code (kernels/README.md), and the description says so."""
    text = f"{_RUNTIME[path]} + {_KERNELS[(path, kernels)]}"
    if kernels == "opt" and not dsp:
        text += " (compiled as the reference kernels: the core has no DSP extension)"
    return text


def is_real(path: str, kernels: str) -> bool:
    """True for what users ship (TFLM, CMSIS-NN), False for mcusim's own stacks."""
    return path == "tflm" or kernels == "cmsis-nn"


def needs_tflm_tree(path: str, kernels: str) -> bool:
    return path == "tflm" or kernels == "cmsis-nn"


def default_kernels(path: str, board: Board) -> str:
    """The flavour a path uses when none is given: tflm uses CMSIS-NN on cores with the DSP
    extension and TFLM's reference kernels elsewhere; mcusim's own paths use ``opt``."""
    if path == "tflm":
        return "cmsis-nn" if board.dsp else "ref"
    return "opt"


def check_kernels(path: str, kernels: str) -> None:
    if path not in KERNELS:
        raise McusimError(f"unknown path {path!r}; use {', '.join(PATHS)}")
    if kernels not in KERNELS[path]:
        others = [f"the {p} path" for p, ks in KERNELS.items() if kernels in ks]
        where = f" ({kernels} is for {' and '.join(others)})" if others else ""
        raise McusimError(f"the {path} path has no {kernels!r} kernels; it takes {' or '.join(KERNELS[path])}{where}")


def default_columns(board: Board) -> list[tuple[str, str]]:
    """``compare`` without --paths: the two real stacks, then mcusim's own two."""
    return [("tflm", default_kernels("tflm", board)), ("classic", "cmsis-nn"), ("tinyml", "opt"), ("classic", "opt")]


def compare_columns(paths: str | None, kernels: str | None, board: Board) -> list[tuple[str, str]]:
    """The (path, kernels) columns of ``compare``, first one the baseline of the ratios.

    ``paths``: comma-separated ``PATH`` or ``PATH/KERNELS`` items (default: the real stacks, then
    mcusim's own). ``kernels``: the flavour of every item that names none and whose path has
    it; other items keep their path's default.
    """
    if paths:
        items = [p.strip() for p in paths.split(",") if p.strip()]
        if not items:
            raise McusimError("--paths names no path")
        cols = []
        for item in items:
            path, _, flavour = item.partition("/")
            if path not in KERNELS:
                raise McusimError(f"--paths: unknown path {path!r}; use {', '.join(PATHS)} (optionally PATH/KERNELS)")
            if not flavour:
                flavour = kernels if kernels in KERNELS[path] else default_kernels(path, board)
            check_kernels(path, flavour)
            cols.append((path, flavour))
    elif kernels:
        cols = [(p, kernels if kernels in KERNELS[p] else default_kernels(p, board)) for p in ("tflm", "classic", "tinyml")]
        if kernels == "cmsis-nn":
            cols.append(("classic", "opt"))
    else:
        cols = default_columns(board)
    seen: list[tuple[str, str]] = []
    for c in cols:
        if c not in seen:
            seen.append(c)
    return seen
