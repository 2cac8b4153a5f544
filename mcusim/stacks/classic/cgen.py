"""What the classic path's emitters write C with: the :class:`Step` an operator becomes, where a
tensor lives (:class:`Loc`), and the C text helpers (dims, arrays, float literals, the
quantization and activation of a layer comment). The operator modules (mcusim/operators/)
import this; it never imports the generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ...errors import ModelError
from ...frontend.graph import Op, Tensor

C_TYPES = {"INT8": "int8_t", "INT32": "int32_t", "FLOAT32": "float", "INT64": "int64_t",
           "INT16": "int16_t", "UINT8": "uint8_t"}


# --- small helpers ----------------------------------------------------------------------------
def ctype(t: Tensor) -> str:
    try:
        return C_TYPES[t.dtype]
    except KeyError:
        raise ModelError(f"classic path: tensor {t.name!r} has type {t.dtype}, which it cannot hold") from None


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def clean(text: str, limit: int = 60) -> str:
    text = text.replace("*/", "* /").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def dims4(shape: tuple[int, ...], where: str) -> tuple[int, int, int, int]:
    """A shape as NHWC with leading 1s added (or dropped, when there are more than 4 axes)."""
    dims = list(shape)
    while len(dims) > 4 and dims[0] == 1:
        dims.pop(0)
    if len(dims) > 4:
        raise ModelError(f"{where}: shape {list(shape)} has more than 4 axes; the mcu_nn kernels take NHWC")
    dims = [1] * (4 - len(dims)) + dims
    return dims[0], dims[1], dims[2], dims[3]


def dims_c(d: tuple[int, int, int, int]) -> str:
    return "{%d, %d, %d, %d}" % d


def float_c(x: float) -> str:
    """A float32 value as an exact C literal (hex float) with its decimal value alongside."""
    f = float(np.float32(x))
    return f"{f.hex()}f /* {f:.9g} */"


def quant_text(t: Tensor) -> str:
    if not t.is_quantized:
        return t.dtype.lower()
    if t.is_per_channel:
        return f"{t.dtype.lower()}, per-channel: {t.scale.size} scales"
    return f"{t.dtype.lower()}, scale {float(t.scale[0]):.6g}, zp {int(t.zero_point[0])}"


def activation(op: Op) -> str:
    return str(op.options.get("fused_activation_function", "NONE"))


def array_c(values: np.ndarray, per_line: int) -> list[str]:
    flat = [str(int(v)) for v in np.asarray(values).reshape(-1)]
    if not flat:
        return ["    0"]
    return ["    " + ", ".join(flat[i:i + per_line]) + "," for i in range(0, len(flat), per_line)]



def requant_comment(mult: np.ndarray, shift: np.ndarray, per_channel: bool) -> str:
    """The layer comment's line on its output requantization."""
    if per_channel:
        return f"requantization per channel: {len(mult)} multipliers and shifts in weights.c"
    return f"requantization per tensor: multiplier {int(mult[0])}, shift {int(shift[0])}"


# --- the generator's model of where every tensor lives ----------------------------------------
@dataclass
class Loc:
    """Where a tensor's bytes are: ``kind`` is ``input`` / ``output`` (key = graph position),
    ``arena`` (key = root tensor index), ``const`` (key = tensor index of a host-known
    value) or ``state`` (a variable tensor: a static buffer of its own that keeps its value, set
    to its reset value at start-up); ``offset`` is in elements from the root's start."""

    kind: str
    key: int
    offset: int = 0


@dataclass
class Step:
    """One emitted operation: a kernel call or a generated loop, in graph order."""

    op: Op | None
    """None for the final copies into output buffers."""
    reads: list[int]
    write: int
    comment: list[str]
    """Op-specific lines of the layer comment (tensor lines are added when rendering)."""
    decls: list[str]
    """``static const`` parameter and dims declarations inside the op's block."""
    render: Callable[[Callable[[int], str], str], list[str]]
    """(pointer of tensor, context expression) -> C statements setting ``st``."""
    kernel: str = ""
    """The mcu_nn function called ('' for generated code)."""
    scratch_call: str | None = None
    """C expression of the op's scratch size (a ``*_get_buffer_size`` call over ``decls``)."""
    scratch: int = 0
    library: str = "mcu_nn"
    """Whose function ``kernel`` is: ``mcu_nn`` (mcusim's) or ``cmsis-nn``."""
    sizing_decls: list[str] | None = None
    """The declarations ``scratch_call`` needs (default: the ``mcu_dims`` ones of ``decls``)."""
    also_writes: list[int] = field(default_factory=list)
    """The op's outputs after the first (SPLIT)."""

    @property
    def writes(self) -> list[int]:
        return [self.write, *self.also_writes]
