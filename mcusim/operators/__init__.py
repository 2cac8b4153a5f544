"""The operator registry: one :class:`OpSpec` per TFLite builtin operator mcusim runs.

An operator lives in one place: the module of its family (``conv.py``, ``elementwise.py``,
...) holds, per operator, the options table it reads from the flatbuffer, its type and shape
checks, its MAC count, its numpy reference (the living spec, bit-exact with TFLite Micro), its
classic-path emitter (and the CMSIS-NN one, where CMSIS-NN has it) and its tinyml
registration. Every consumer reads the spec: the reader (options), the validator (checks), the
reference (``run_graph``), the report (MACs), the two code generators and ``mcusim ops``.

Adding an operator is one Python module entry here, one C glue file in kernels/runtime/ops/
and its kernels in kernels/src/. Modules are found by name (like the core tables): every
module of this package except ``support`` and names starting with ``_`` must define
``SPECS: tuple[OpSpec, ...]``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import numpy as np

    from ..frontend.graph import Graph, Op

Values = dict[int, "np.ndarray"]
"""Tensor index -> value, as the reference evaluates a graph."""

Field = tuple[str, int, str, Any]
"""One options field: (snake_case name, vtable slot, kind, default). Kinds: ``i32``, ``bool``,
``f32``, ``activation``, ``padding``, ``tensor_type``, ``weights_format``, ``i32_vector``."""

NOT_MODULES = frozenset({"support"})


@dataclass(frozen=True)
class Options:
    """The builtin options table an operator carries (schema.fbs ``BuiltinOptions`` union)."""

    union_type: int
    """The union's type index (e.g. 1 for Conv2DOptions)."""
    table: str
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Tinyml:
    """The operator's registration in mcusim's micro-interpreter (kernels/runtime)."""

    registration: str
    """C symbol of its ``mcu_op_registration``."""
    glue: str
    """Its glue file under kernels/runtime/ops/ (init/prepare/eval over mcu_nn kernels)."""
    alias: bool = False
    """The output is a view of input 0 (the runtime's planner gives it no buffer of its own)."""


Reference = Callable[["Graph", "Op", Values], Union["np.ndarray", list["np.ndarray"]]]
"""(graph, op, values) -> the op's output (a list of arrays for an op with several outputs)."""


@dataclass(frozen=True)
class OpSpec:
    """Everything mcusim knows about one operator."""

    name: str
    """The TFLite builtin operator name (schema.fbs ``BuiltinOperator``), e.g. ``CONV_2D``."""
    reference: Reference
    options: Options | None = None
    min_inputs: int = 1
    outputs: int | None = 1
    """Number of outputs; None: one or more (SPLIT)."""
    check: Callable[["Graph", "Op"], None] | None = None
    """Types, quantization and shapes beyond the common checks; raises ModelError."""
    macs: Callable[["Graph", "Op"], int] | None = None
    """Multiply-accumulates (None: the op has no weight product)."""
    classic: Callable[[Any, "Op"], Any] | None = None
    """Classic path: (generator, op) -> the generated step (None: the path refuses the op)."""
    cmsis_nn: Callable[[Any, "Op"], Any] | None = None
    """Classic path with --kernels cmsis-nn: (generator, op) -> (step or None, why not)."""
    tinyml: Tinyml | None = None
    view: bool = False
    """The output is input 0 reinterpreted (reshape-like): the classic path makes it a view."""
    foldable: bool = False
    """The classic path computes the output on the host when every input is known there."""
    selects: int | None = None
    """Position of the input every output element is one element of (data movement: TRANSPOSE,
    SLICE, GATHER, SPLIT), the other inputs being its parameters. The classic path evaluates the
    op on the host when all inputs are known, and makes each output a view of that input when
    the parameters are known and every output is one contiguous run of it."""
    sigmoid_table: bool | Callable[["Graph", "Op"], bool] = False
    """Its kernels use TFLite's int16 sigmoid table (``mcu_sigmoid_table``, read from the TFLM
    tree: mcusim/stacks/tflmtables.py); a predicate when only some of its ops do."""
    kernels: tuple[str, ...] = ()
    """The mcu_nn kernels (kernels/include/mcu_nn.h) implementing it, for ``mcusim ops``."""
    int16_paths: tuple[str, ...] = ()
    """The stacks (``classic``, ``tinyml``) that run the op's 16x8 form (int16 activations), and
    ``cmsis-nn`` when its CMSIS-NN emitter calls an s16 kernel for it."""
    family: str = field(default="", compare=False)
    """The module that defines it (set by the registry)."""


@cache
def registry() -> dict[str, OpSpec]:
    """Every operator spec by name, from every family module of this package."""
    specs: dict[str, OpSpec] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in NOT_MODULES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for spec in getattr(module, "SPECS"):
            if spec.name in specs:
                raise RuntimeError(f"operator {spec.name} is defined in {specs[spec.name].family} and {info.name}")
            specs[spec.name] = replace(spec, family=info.name)
    return specs


def get(name: str) -> OpSpec | None:
    """The spec of operator ``name``, or None when mcusim does not run it."""
    return registry().get(name)


def names() -> tuple[str, ...]:
    """The operators mcusim runs, sorted."""
    return tuple(sorted(registry()))


def refuse_int16(graph: "Graph", stack: str) -> None:
    """Raise ModelError naming the first op that runs in the converter's 16x8 mode (an int16
    activation in or out) where ``stack`` has no 16x8 form of it (``OpSpec.int16_paths``;
    reshape-like views move no data and pass). The numpy reference and the tflm stack run
    every 16x8 op the validator accepts."""
    from ..errors import ModelError

    for op in graph.ops:
        spec = get(op.type)
        if spec is not None and (spec.view or stack in spec.int16_paths):
            continue
        # activations only: a recurrent op's int16 state (a variable tensor) is not 16x8 mode
        touched = [t for t in (graph.tensors[i] for i in (*op.inputs, *op.outputs) if i >= 0)
                   if not t.is_variable and not t.is_constant]
        if any(t.dtype == "INT16" for t in touched):
            raise ModelError(f"op {op.index} ({op.type}) has 16-bit activations (16x8 mode); the "
                             f"{stack} stack has no 16x8 kernel for {op.type} (the tflm stack runs it)")
