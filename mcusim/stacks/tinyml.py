"""The tinyml path: the model's ``.tflite`` file in flash, read at start-up by mcusim's
micro-interpreter (``kernels/runtime/``, in the style of TensorFlow Lite Micro).

:func:`build_tinyml` writes three small C files for a model and returns a
:class:`~mcusim.deploy.Firmware`:

* ``model_data.c`` — the ``.tflite`` bytes, unchanged, in one aligned flash region
  (``mcu_model``: size, capacity, then the file), separate from all code so that a device can
  take a new model of the same op set by rewriting only that region;
* ``ops.c`` — the op registry: exactly the registrations of the ops the model uses, so the
  linker keeps only their glue and kernels (TFLM's MicroMutableOpResolver);
* ``main.c`` — the application: start-up probes around ``mcu_rt_init`` (parse, resolve,
  prepare, plan), pointers to the input and output tensors in the arena (``mcu_input_<i>``,
  ``mcu_output_<i>``; the host writes the inputs there at the INPUTS_READY probe, as a TFLM
  application writes ``input(0)->data``: no I/O buffers besides the arena), invoke probes
  around ``mcu_rt_invoke``, and the arena bytes the plan used stored in ``mcu_arena_used``
  for the host. (The model-updatable image of :func:`build_updatable` keeps static I/O
  buffers the host fills before reset, copied in and out.)

The arena is sized the way people tune a TFLM arena by hand, but exactly: a first image with
a generous arena runs start-up only and reports the bytes it used; the final image has an
arena of exactly that size.

Flash components (for the report's breakdown): ``runtime`` (interpreter, parser, planner,
quantization math, op registry), ``op_glue`` (kernels/runtime/ops/), ``model`` (the
flatbuffer region), ``app`` (main.c); deploy adds ``kernels``, ``startup`` and ``libc``.
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .. import operators
from ..build.toolchain import KERNELS, cache_dir
from ..errors import DoesNotFit, FirmwareFault, McusimError
from ..fileio import write_atomic
from ..frontend.graph import Graph
from ..operators import Tinyml
from ..simulator.board import Board
from ..simulator.elf import Elf
from ..simulator.machine import DEFAULT_MAX_INSTRUCTIONS, Machine, RunResult
from .deploy import Firmware, build_firmware, give_inputs, take_outputs
from .tflmtables import export_note, needs_sigmoid_table, sigmoid_table_source
from .tflmtree import TflmTree

RUNTIME_DIR = KERNELS / "runtime"
FRAMEWORK_SOURCES = tuple(
    RUNTIME_DIR / name
    for name in ("interpreter.c", "model.c", "flatbuffer.c", "registry.c", "arena.c", "planner.c",
                 "quantize.c", "op_util.c")
)

# main()'s return codes: mcu_rt_status of kernels/runtime/mcu_runtime.h.
STATUS_MESSAGES: dict[int, str] = {
    1: "corrupt model: an offset or size in the .tflite flatbuffer lies outside the file or is "
       "misaligned, or its shapes contradict each other",
    2: "not a .tflite model: the file identifier is not TFL3",
    3: "unsupported .tflite schema version (the runtime reads version 3)",
    4: "the model uses an operator this firmware's op registry does not have",
    5: "the tensor arena is too small for this model",
    6: "a tensor has a type or quantization the runtime cannot run (int8 models only)",
    7: "an operator's options or shapes are outside what the kernels implement",
    8: "a kernel rejected its arguments during inference",
    9: "the model's inputs or outputs do not fit the firmware's buffers",
}
STATUS_ARENA_TOO_SMALL = 5

MODEL_SYMBOL = "mcu_model"
MODEL_HEADER_BYTES = 16
ARENA_SYMBOL = "mcu_tensor_arena"
TAG_INPUTS_READY = 0x5EED0010
"""kernels/include/mcusim.h MCUSIM_TAG_INPUTS_READY: the input slots point at the input tensors."""
STACK_RESERVE = 4096
"""RAM left for the stack and the static data when choosing the generous arena of the sizing image."""


def glue_of(op_type: str) -> Tinyml | None:
    """The op's tinyml registration (its registry spec's), None when the runtime lacks it."""
    spec = operators.get(op_type)
    return spec.tinyml if spec is not None else None


def runtime_ops() -> list[str]:
    """Every operator the tinyml runtime has glue for."""
    return sorted(n for n, s in operators.registry().items() if s.tinyml)


def _glue(types: list[str] | set[str]) -> list[Tinyml]:
    missing = sorted(t for t in types if glue_of(t) is None)
    if missing:
        raise McusimError(f"the tinyml runtime has no op {', '.join(missing)}; it has: {', '.join(runtime_ops())}")
    return [g for t in sorted(types) if (g := glue_of(t)) is not None]


def input_symbols(graph: Graph) -> list[str]:
    return [f"mcu_input_{i}" for i in range(len(graph.inputs))]


def output_symbols(graph: Graph) -> list[str]:
    return [f"mcu_output_{i}" for i in range(len(graph.outputs))]


def op_registrations(graph: Graph) -> list[str]:
    """Registration symbols of the model's op set, in a stable order; raises McusimError naming
    any op the runtime has no glue for, or one with 16-bit activations."""
    operators.refuse_int16(graph, "tinyml")
    return sorted({g.registration for g in _glue(set(graph.op_types()))})


def glue_sources(graph: Graph) -> list[Path]:
    return sorted({RUNTIME_DIR / "ops" / g.glue for g in _glue(set(graph.op_types()))})


# --- generated C ------------------------------------------------------------------------------
def model_data_c(raw: bytes, capacity: int, name: str = "model") -> str:
    """The model region: header, then the .tflite bytes unchanged, zero-padded to capacity."""
    if capacity < len(raw):
        raise McusimError(f"model region of {capacity} bytes cannot hold the {len(raw)}-byte model")
    lines = [
        f"/* Generated by mcusim.tinyml: {name}, {len(raw)} bytes, embedded unchanged. */",
        '#include "mcu_model_region.h"',
        "",
        "/* Its own output section: not code (nothing disassembles it), one flash range. */",
        '__attribute__((aligned(16), used, section(".mcu_model"))) '
        "const mcu_model_region mcu_model = {",
        f"    {len(raw)}u, {capacity}u, {{0, 0}}, {{",
    ]
    for i in range(0, len(raw), 16):
        lines.append("        " + ", ".join(f"0x{b:02x}" for b in raw[i:i + 16]) + ",")
    if capacity > len(raw):
        lines.append(f"        [{capacity - 1}] = 0,")
    lines += ["    }};", ""]
    return "\n".join(lines)


def ops_c(graph: Graph) -> str:
    return registry_c(op_registrations(graph), "the op registry, only the ops the model uses")


def registry_c(regs: list[str], what: str) -> str:
    """The runtime's op registry (``mcu_op_registry``) listing the registrations ``regs``."""
    lines = [
        f"/* Generated by mcusim.tinyml: {what}. */",
        '#include "mcu_rt_op.h"',
        "",
        *(f"extern const mcu_op_registration {r};" for r in regs),
        "",
        "const mcu_op_registration *const mcu_op_registry[] = {",
        *(f"    &{r}," for r in regs),
        "};",
        f"const uint32_t mcu_op_registry_count = {len(regs)};",
        "",
    ]
    return "\n".join(lines)


_MAIN = f"""int main(void)
{{
    mcu_interpreter *rt = &interpreter;
    const uint32_t size = mcu_model.size <= mcu_model.capacity ? mcu_model.size : 0;
    mcusim_probe(MCUSIM_TAG_STARTUP_BEGIN);
    mcu_rt_status st = mcu_rt_init(rt, mcu_model.data, size, {ARENA_SYMBOL}, MCU_ARENA_SIZE);
    mcusim_probe(MCUSIM_TAG_STARTUP_END);
    mcu_arena_used = rt->used;
    mcu_arena_head = rt->head;
    mcu_arena_tail = rt->tail;
    if (st == MCU_RT_OK)
        st = run(rt);
    mcu_error_op = rt->error_op;
    mcu_error_detail = rt->error_detail;
    return (int)st;
}}
"""
"""main() of both applications (static I/O buffers or I/O in the arena): start-up between its
probes, the arena figures for the host, then ``run``."""


def main_c(inputs: list[tuple[str, int]], outputs: list[tuple[str, int]], arena_size: int,
           stop_after_init: bool = False, io_in_arena: bool = False) -> str:
    """The application: ``inputs``/``outputs`` are (symbol, bytes) of its I/O buffers; a model
    with more inputs or outputs, or larger ones, stops with MCU_RT_IO_MISMATCH.

    ``io_in_arena``: no I/O buffers of its own (as a TFLM application writes
    ``interpreter.input(0)->data``): the symbols are pointers to the input and output tensors
    in the arena, set after start-up, and the INPUTS_READY probe tells the host (or a driver)
    to write the inputs there. The tensors must have exactly the given sizes."""
    if io_in_arena:
        return _main_c_in_arena(inputs, outputs, arena_size, stop_after_init)

    def table(kind: str, bufs: list[tuple[str, int]]) -> str:
        return (f"static uint8_t *const {kind}_buffers[] = {{{', '.join(s for s, _ in bufs)}}};\n"
                f"static const uint32_t {kind}_sizes[] = {{{', '.join(f'sizeof {s}' for s, _ in bufs)}}};")

    return f"""/* Generated by mcusim.tinyml: the application around the interpreter. */
#include <string.h>

#include "mcu_model_region.h"
#include "mcu_runtime.h"
#include "mcusim.h"

#define MCU_ARENA_SIZE {arena_size}u
#define MCU_STOP_AFTER_INIT {int(stop_after_init)} /* the arena-sizing image runs start-up only */

MCUSIM_ARENA uint8_t {ARENA_SYMBOL}[MCU_ARENA_SIZE];
{chr(10).join(f"MCUSIM_NOINIT uint8_t {s}[{n}];" for s, n in inputs)}
{chr(10).join(f"__attribute__((aligned(4))) uint8_t {s}[{n}];" for s, n in outputs)}
{table("input", inputs)}
{table("output", outputs)}

/* Read by the host after the run. */
uint32_t mcu_arena_used, mcu_arena_head, mcu_arena_tail;
int32_t mcu_error_op, mcu_error_detail;

static mcu_interpreter interpreter;

/* Copy every graph input in (to_arena) or every output out; the model's count and sizes
 * must fit the buffers. */
static mcu_rt_status copy_io(mcu_interpreter *rt, int to_arena)
{{
    const uint32_t count = to_arena ? {len(inputs)}u : {len(outputs)}u;
    for (int32_t i = 0;; ++i) {{
        uint32_t bytes;
        uint8_t *tensor = to_arena ? mcu_rt_input(rt, i, &bytes) : mcu_rt_output(rt, i, &bytes);
        if (!tensor)
            return MCU_RT_OK;
        if ((uint32_t)i >= count || bytes > (to_arena ? input_sizes : output_sizes)[i])
            return MCU_RT_IO_MISMATCH;
        if (to_arena)
            memcpy(tensor, input_buffers[i], bytes);
        else
            memcpy(output_buffers[i], tensor, bytes);
    }}
}}

static mcu_rt_status run(mcu_interpreter *rt)
{{
    mcu_rt_status st;
    if (MCU_STOP_AFTER_INIT)
        return MCU_RT_OK;
    if ((st = copy_io(rt, 1)) != MCU_RT_OK)
        return st;
    mcusim_probe(MCUSIM_TAG_INVOKE_BEGIN);
    st = mcu_rt_invoke(rt);
    mcusim_probe(MCUSIM_TAG_INVOKE_END);
    return st != MCU_RT_OK ? st : copy_io(rt, 0);
}}

{_MAIN}"""


def _main_c_in_arena(inputs: list[tuple[str, int]], outputs: list[tuple[str, int]], arena_size: int,
                     stop_after_init: bool) -> str:
    sizes = lambda bufs: ", ".join(f"{n}u" for _, n in bufs)  # noqa: E731
    return f"""/* Generated by mcusim.tinyml: the application around the interpreter. The inputs and
 * outputs are the tensors in the arena: no copies. */
#include "mcu_model_region.h"
#include "mcu_runtime.h"
#include "mcusim.h"

#define MCU_ARENA_SIZE {arena_size}u
#define MCU_STOP_AFTER_INIT {int(stop_after_init)} /* the arena-sizing image runs start-up only */

MCUSIM_ARENA uint8_t {ARENA_SYMBOL}[MCU_ARENA_SIZE];
/* Where input i goes and output i is (in the arena), set after start-up. */
{chr(10).join(f"uint8_t *{s};" for s, _ in inputs)}
{chr(10).join(f"uint8_t *{s};" for s, _ in outputs)}
static uint8_t **const input_slots[] = {{{', '.join('&' + s for s, _ in inputs)}}};
static uint8_t **const output_slots[] = {{{', '.join('&' + s for s, _ in outputs)}}};
static const uint32_t input_sizes[] = {{{sizes(inputs)}}};
static const uint32_t output_sizes[] = {{{sizes(outputs)}}};

/* Read by the host after the run. */
uint32_t mcu_arena_used, mcu_arena_head, mcu_arena_tail;
int32_t mcu_error_op, mcu_error_detail;

static mcu_interpreter interpreter;

/* Point every slot at its tensor; the model's I/O count and sizes must be the application's. */
static mcu_rt_status bind_io(mcu_interpreter *rt, int inputs)
{{
    const uint32_t count = inputs ? {len(inputs)}u : {len(outputs)}u;
    for (uint32_t i = 0; i <= count; ++i) {{
        uint32_t bytes;
        uint8_t *tensor = inputs ? mcu_rt_input(rt, (int32_t)i, &bytes) : mcu_rt_output(rt, (int32_t)i, &bytes);
        if (i == count)
            return tensor ? MCU_RT_IO_MISMATCH : MCU_RT_OK;
        if (!tensor || bytes != (inputs ? input_sizes : output_sizes)[i])
            return MCU_RT_IO_MISMATCH;
        *(inputs ? input_slots : output_slots)[i] = tensor;
    }}
    return MCU_RT_OK;
}}

static mcu_rt_status run(mcu_interpreter *rt)
{{
    mcu_rt_status st;
    if (MCU_STOP_AFTER_INIT)
        return MCU_RT_OK;
    if ((st = bind_io(rt, 1)) != MCU_RT_OK || (st = bind_io(rt, 0)) != MCU_RT_OK)
        return st;
    mcusim_probe(MCUSIM_TAG_INPUTS_READY);
    mcusim_probe(MCUSIM_TAG_INVOKE_BEGIN);
    st = mcu_rt_invoke(rt);
    mcusim_probe(MCUSIM_TAG_INVOKE_END);
    return st;
}}

{_MAIN}"""


def _write(workdir: Path, name: str, text: str) -> Path:
    """Write a generated file under a directory named by its content, so a Firmware's sources
    never change under it when another build (other arena size, other capacity) writes."""
    path = workdir / hashlib.sha256(text.encode()).hexdigest()[:16] / name
    if not path.is_file():
        write_atomic(path, text)
    return path


# --- the firmware -----------------------------------------------------------------------------
def default_workdir(graph: Graph, kernels: str, board: Board) -> Path:
    key = hashlib.sha256(graph.raw + f"tinyml/{kernels}/{board.qualified_name}".encode()).hexdigest()[:20]
    return cache_dir() / "generated" / f"tinyml-{key}"


def _io(graph: Graph) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    return ([(sym, max(t.nbytes, 1)) for sym, t in zip(input_symbols(graph), graph.input_tensors())],
            [(sym, max(t.nbytes, 1)) for sym, t in zip(output_symbols(graph), graph.output_tensors())])


def _firmware(board: Board, kernels: str, workdir: Path, registry: str, glue: list[Path],
              model_c: str, io: tuple[list[tuple[str, int]], list[tuple[str, int]]],
              arena_size: int, stop_after_init: bool = False, io_in_arena: bool = False,
              tables: tuple[Path, ...] = ()) -> Firmware:
    sources: dict[Path, str] = {src: "runtime" for src in FRAMEWORK_SOURCES}
    sources.update({t: "kernels" for t in tables})  # generated from the TFLM tree (tflmtables)
    sources[_write(workdir, "ops.c", registry)] = "runtime"
    sources.update({src: "op_glue" for src in glue})
    sources[_write(workdir, "model_data.c", model_c)] = "model"
    sources[_write(workdir, "main.c", main_c(*io, arena_size, stop_after_init, io_in_arena))] = "app"
    return Firmware(
        path="tinyml",
        kernels=kernels,
        board=board,
        sources=sources,
        include_dirs=[KERNELS / "include", RUNTIME_DIR],
        input_symbols=[sym for sym, _ in io[0]],
        output_symbols=[sym for sym, _ in io[1]],
        arena_symbol=ARENA_SYMBOL,
        status_messages=dict(STATUS_MESSAGES),
        io_ready_probe=TAG_INPUTS_READY if io_in_arena else None,
        # the glue's 16x8 LOGISTIC/TANH only where the image links TFLite's table (sigmoid.c)
        defines={"MCU_RT_SIGMOID_TABLE": 1} if tables else {},
    )


def startup_report(fw: Firmware) -> dict[str, int]:
    """Build ``fw`` and run it (inputs left as zeros); returns what main() stored: ``status``,
    ``arena_used_bytes`` (head/tail split), ``error_op``, ``error_detail``, and
    ``startup_cycles``."""
    elf, _ = build_firmware(fw)
    m = Machine(elf, fw.board)
    res = m.run()

    def word(name: str) -> int:
        return int.from_bytes(m.read_symbol(name, 4), "little", signed=True)

    startup = [c for c, v in res.probes if v in (0x5EED0000, 0x5EED0001)]
    return {
        "status": res.exit_code,
        "arena_used_bytes": word("mcu_arena_used"),
        "arena_planned_bytes": word("mcu_arena_head"),
        "arena_persistent_bytes": word("mcu_arena_tail"),
        "error_op": word("mcu_error_op"),
        "error_detail": word("mcu_error_detail"),
        "startup_cycles": startup[1] - startup[0] if len(startup) == 2 else 0,
    }


def generous_arena(graph: Graph, board: Board) -> int:
    """The largest arena the board's arena region can hold: when the stack or static data share
    that region, it leaves them STACK_RESERVE bytes (the inputs and outputs are in the arena)."""
    best = 0
    for where in board.placement["arena"]:
        room = board.region(where).size
        if where in (board.placement["stack"][0], board.placement["data"][0]):
            room -= STACK_RESERVE
        best = max(best, room)
    return max(1024, best & ~15)


def build_tinyml(graph: Graph, board: Board, kernels: str = "opt", workdir: Path | None = None,
                 arena_size: int | None = None, model_capacity: int | None = None,
                 tflm_tree: TflmTree | None = None) -> Firmware:
    """The tinyml firmware of ``graph`` for ``board`` with the ``kernels`` flavour.

    ``arena_size`` None sizes the arena exactly (a start-up-only image with a generous arena
    reports the bytes its plan used). ``model_capacity`` reserves room in the model region for
    larger models of the same op set (default: the model itself, rounded up to 16 bytes).
    Raises McusimError for an op the runtime lacks, DoesNotFit when the model's arena does
    not fit the board's RAM. An op whose kernels use TFLite's int16 sigmoid table (LSTM) adds
    the table generated from ``tflm_tree`` (default: MCUSIM_TFLM_DIR or the config;
    mcusim.stacks.tflmtables).
    """
    op_registrations(graph)
    workdir = Path(workdir) if workdir is not None else default_workdir(graph, kernels, board)
    tables = (sigmoid_table_source(workdir, tflm_tree),) if needs_sigmoid_table(graph) else ()
    capacity = model_capacity if model_capacity is not None else (len(graph.raw) + 15) & ~15
    parts = (ops_c(graph), glue_sources(graph), model_data_c(graph.raw, capacity), _io(graph))
    notes: dict[str, Any] = {}
    if arena_size is None:
        probe = _firmware(board, kernels, workdir, *parts, generous_arena(graph, board),
                          stop_after_init=True, io_in_arena=True, tables=tables)
        report = startup_report(probe)
        if report["status"] == STATUS_ARENA_TOO_SMALL:
            raise DoesNotFit(
                f"the model needs at least {report['error_detail']:,} bytes of tensor arena; "
                f"{board.name}'s arena region{'s' if len(board.placement['arena']) > 1 else ''} "
                f"({', '.join(board.placement['arena'])}) hold at most {generous_arena(graph, board):,}",
                {board.placement["arena"][-1]: report["error_detail"] - generous_arena(graph, board)})
        if report["status"] != 0:
            msg = STATUS_MESSAGES.get(report["status"], f"status {report['status']}")
            where = f" (op {report['error_op']})" if report["error_op"] >= 0 else ""
            raise McusimError(f"tinyml start-up failed{where}: {msg}")
        arena_size = report["arena_used_bytes"]
        notes = {k: report[k] for k in ("arena_used_bytes", "arena_planned_bytes", "arena_persistent_bytes")}
    fw = _firmware(board, kernels, workdir, *parts, arena_size, io_in_arena=True, tables=tables)
    fw.notes = {"model_bytes": len(graph.raw), "model_region_bytes": MODEL_HEADER_BYTES + capacity,
                "op_registry": graph.op_types(), **(notes or {"arena_used_bytes": arena_size})}
    return fw


# --- model update without re-flashing code ----------------------------------------------------
def build_updatable(board: Board, kernels: str = "opt", *, op_types: list[str] | None = None,
                    model_capacity: int = 64 * 1024, arena_size: int = 32 * 1024,
                    io_bytes: int = 4096, max_inputs: int = 4, max_outputs: int = 2,
                    workdir: Path | None = None, tflm_tree: TflmTree | None = None) -> Firmware:
    """A tinyml image built for no model in particular: ``op_types`` registered (default:
    every op the runtime has), an empty model region of ``model_capacity`` bytes, and I/O
    buffers of ``io_bytes`` each. Any model of that op set that fits runs on it once its
    bytes are written to the region (:func:`write_model`): the field-update case."""
    types = sorted(op_types if op_types is not None else runtime_ops())
    glues = _glue(types)
    regs = sorted({g.registration for g in glues})
    key = hashlib.sha256(f"{regs}/{model_capacity}/{arena_size}/{io_bytes}/{max_inputs}/{max_outputs}/"
                         f"{kernels}/{board.qualified_name}".encode()).hexdigest()[:20]
    workdir = Path(workdir) if workdir is not None else cache_dir() / "generated" / f"tinyml-updatable-{key}"
    registry = registry_c(regs, "the op registry of an updatable image")
    glue = sorted({RUNTIME_DIR / "ops" / g.glue for g in glues})
    io = ([(f"mcu_input_{i}", io_bytes) for i in range(max_inputs)],
          [(f"mcu_output_{i}", io_bytes) for i in range(max_outputs)])
    tables = (sigmoid_table_source(workdir, tflm_tree),) if needs_sigmoid_table(op_types=types) else ()
    fw = _firmware(board, kernels, workdir, registry, glue, model_data_c(b"", model_capacity, "no model"),
                   io, arena_size, tables=tables)
    fw.notes = {"model_region_bytes": MODEL_HEADER_BYTES + model_capacity, "op_registry": types,
                "arena_used_bytes": arena_size}
    return fw


def write_model(machine: Machine, raw: bytes) -> None:
    """Replace the model in a loaded image's model region (flash) by ``raw``, as a field
    update would: the header's size and the bytes; code and everything else are untouched."""
    sym = machine.elf.symbol(MODEL_SYMBOL)
    capacity = sym.size - MODEL_HEADER_BYTES
    if len(raw) > capacity:
        raise McusimError(f"the {len(raw):,}-byte model does not fit the image's {capacity:,}-byte model region")
    machine.write_symbol(MODEL_SYMBOL, struct.pack("<IIII", len(raw), capacity, 0, 0) + bytes(raw))


def model_update_flash(elf: Elf) -> dict[str, int]:
    """Flash bytes to rewrite for a new model: the model region alone, vs the whole image."""
    return {"model_region_bytes": elf.symbol(MODEL_SYMBOL).size, "image_bytes": elf.flash_bytes}


def run_with_model(fw: Firmware, raw: bytes, graph: Graph, inputs: list[np.ndarray],
                   max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> tuple[list[np.ndarray], RunResult, Machine]:
    """Run ``fw`` with its model region replaced by ``raw`` (whose Graph is ``graph``) on
    ``inputs``; returns the outputs, the run and the machine. A non-zero status of main()
    raises FirmwareFault with its message."""
    elf, _ = build_firmware(fw)
    m = Machine(elf, fw.board, snapshot_probes=True)
    write_model(m, raw)
    give_inputs(m, fw, graph, inputs)
    res = m.run(max_instructions=max_instructions)
    if res.exit_code != 0:
        msg = fw.status_messages.get(res.exit_code, f"status {res.exit_code}")
        raise FirmwareFault(f"tinyml firmware stopped: {msg}")
    return take_outputs(m, fw, graph), res, m


# --- the planner, in Python -------------------------------------------------------------------
PLAN_ENTRY_BYTES = 16
"""Bytes per planner list entry (kernels/runtime/planner.c: one per tensor and per op)."""


def plan_head_bytes(graph: Graph, scratch: dict[int, int] | None = None) -> int:
    """Bytes of the arena's head (non-persistent part) that kernels/runtime/planner.c computes
    for ``graph``, given each op's scratch bytes: the same lifetimes, aliases and the smallest
    of its four greedy strategies, so a test can check the firmware's plan."""
    scratch = scratch or {}
    tensors, ops = graph.tensors, graph.ops
    nt = len(tensors)
    constant = {t.index for t in tensors if t.is_constant or t.is_variable}  # variables: persistent
    root = list(range(nt))
    for op in ops:
        if (g := glue_of(op.type)) is not None and g.alias and op.inputs and op.inputs[0] >= 0:
            if op.inputs[0] in constant:
                constant.add(op.outputs[0])
            else:
                root[op.outputs[0]] = root[op.inputs[0]]
    first: dict[int, int] = {}
    last: dict[int, int] = {}

    def use(t: int, at: int) -> None:
        if t >= 0 and t not in constant:
            r = root[t]
            first[r] = min(first.get(r, at), at)
            last[r] = max(last.get(r, at), at)

    for t in graph.inputs:
        use(t, 0)
    for i, op in enumerate(ops):
        for t in (*op.inputs, *op.outputs):
            use(t, i)
    for t in graph.outputs:
        use(t, max(len(ops) - 1, 0))
    buffers = []  # (size, index, first, last)
    for t in range(nt):
        if root[t] == t and t in last:
            buffers.append(((tensors[t].nbytes + 3) & ~3, t, first[t], last[t]))
    for i in range(len(ops)):
        buffers.append(((scratch.get(i, 0) + 3) & ~3, nt + i, i, i))
    live = [b for b in buffers if b[0] > 0]
    return min(_greedy_head(live, by_area, best_fit) for by_area in (False, True) for best_fit in (False, True))


def _greedy_head(buffers: list[tuple[int, int, int, int]], by_area: bool, best_fit: bool) -> int:
    """planner.c's place(): (size, index, first, last) rows in order of key (size, or size x
    lifetime), then size, then index; first or best fit; returns the highest end."""
    def key(b: tuple[int, int, int, int]) -> tuple[int, int, int]:
        size, index, lo, hi = b
        return (-(size * (hi - lo + 1) if by_area else size), -size, index)

    placed: list[tuple[int, int, int, int]] = []  # (offset, size, first, last), by offset
    high = 0
    for size, _, lo, hi in sorted(buffers, key=key):
        at, best, best_gap = 0, None, 0
        for offset, psize, plo, phi in placed:
            if phi < lo or plo > hi:
                continue
            gap = offset - at
            if gap >= size:
                if not best_fit:
                    best = at
                    break
                if best is None or gap < best_gap:
                    best, best_gap = at, gap
            at = max(at, offset + psize)
        if best is not None:
            at = best
        keys = [p[0] for p in placed]
        placed.insert(bisect.bisect_right(keys, at), (at, size, lo, hi))
        high = max(high, at + size)
    return high


def export_tinyml(graph: Graph, board: Board, kernels: str, out_dir: Path | str, model_name: str | None = None,
                  workdir: Path | None = None, tflm_tree: TflmTree | None = None) -> Firmware:
    """Write a self-contained project of the tinyml path to ``out_dir``: ``src/`` (the
    generated op registry, model region and main), ``kernels/`` (the runtime, the mcu_nn
    library and its headers), ``startup/startup.c``, ``cortex_m.ld``, ``memory.ld`` and a
    ``Makefile`` with mcusim's flags, so ``make`` builds the image mcusim measures (the arena
    already sized exactly; ``src/mcu_sigmoid_table.c`` generated from ``tflm_tree`` when the model
    needs TFLite's int16 sigmoid table). Returns the Firmware for the exported sources."""
    import shutil

    from ..build.toolchain import (
        COMMON_FLAGS,
        LINK_FLAGS,
        LINKER_SCRIPT,
        MCUSIM_INCLUDE,
        STARTUP,
        core_flags,
        memory_ld,
    )
    from .classic.build import _MAKEFILE
    from .deploy import kernel_sources, mcu_flavour

    out = Path(out_dir)
    fw = build_tinyml(graph, board, kernels, workdir, tflm_tree=tflm_tree)
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)
    for part in ("include", "runtime", "src"):
        shutil.copytree(KERNELS / part, out / "kernels" / part, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (out / "startup").mkdir(parents=True, exist_ok=True)
    shutil.copy2(STARTUP, out / "startup" / "startup.c")
    shutil.copy2(LINKER_SCRIPT, out / "cortex_m.ld")
    (out / "memory.ld").write_text(memory_ld(board))

    def where(p: Path) -> str:
        p = Path(p).resolve()
        if p.is_relative_to(KERNELS):
            return str(Path("kernels") / p.relative_to(KERNELS))
        shutil.copy2(p, src / p.name)
        return f"src/{p.name}"

    srcs = [where(p) for p in fw.sources]
    srcs += [str(Path("kernels") / p.relative_to(KERNELS)) for p in kernel_sources(kernels)]
    srcs.append("startup/startup.c")
    incs = [where(i) if Path(i).resolve().is_relative_to(KERNELS) else "src" for i in fw.include_dirs
            if Path(i).resolve() != MCUSIM_INCLUDE]
    defines = "".join(f" -D{k}={v}" for k, v in sorted(fw.defines.items()))
    (out / "Makefile").write_text(_MAKEFILE.format(
        model=model_name or "the model", board=board.name, core=board.core, path="tinyml", kernels=kernels,
        flavour=mcu_flavour(kernels), cpu_flags=" ".join(core_flags(board)), common_flags=" ".join(COMMON_FLAGS),
        opt=fw.opt, defines=defines, link_flags=" ".join(LINK_FLAGS), srcs=" \\\n        ".join(srcs),
        cmsis_nn="", lib_includes="".join(f" -I{i}" for i in dict.fromkeys(incs) if i != "kernels/include"),
        lib_order="", lib_dirs=export_note(srcs)))
    fw.sources = {(out / s_): comp for s_, comp in zip(srcs, fw.sources.values())}
    return fw
