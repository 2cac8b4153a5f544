"""The tflm path: the model built with real TensorFlow Lite Micro from a source tree
(:mod:`mcusim.tflmtree`), with TFLM's CMSIS-NN kernels (``cmsis-nn``) or its reference
kernels (``ref``), around mcusim's harness (kernels/tflm/harness.cc).

What gets compiled, each source once per (tree content, core, flavour, flags) into the object
cache, with TFLM's own Makefile flags (:mod:`mcusim.tflmtree`: TARGET=cortex_m_generic,
release, -O2):

* TFLM's framework (:data:`CORE_SOURCES`: interpreter, allocator, planners, flatbuffer
  conversions, kernel utilities);
* the kernel files of the model's ops: the file that defines each op's ``Register_*()``
  (``kernels/cmsis_nn/`` first in the cmsis-nn flavour), its ``*_common.cc``, and the kernel
  helpers every kernel uses (:data:`KERNEL_HELPERS`);
* CMSIS-NN's C files (cmsis-nn flavour; :func:`mcusim.tflmtree.cmsis_nn_build`);

all in one static library, so the linker takes only what the model references. The harness
and two generated files per model (model_tflm.cc: the model array, a ``MicroMutableOpResolver``
of exactly the model's builtin ops, the I/O slots; arena_tflm.cc: the arena) are compiled with
the same flags. There are no I/O buffers: the harness stores the input and output tensors'
addresses in extern "C" slots; the host writes the inputs there at the INPUTS_READY probe and
reads the outputs from the arena at the end, as a device's sensor driver would use the tensors.

The arena is sized exactly: a first image with a generous arena runs start-up only and stores
``arena_used_bytes()``; the final image declares that many bytes (rounded up to TFLM's 16-byte
arena alignment).

Flash components: ``tflm-framework``, ``tflm-kernels`` (TFLM's kernel files and
tensorflow/lite/kernels: the glue, and in the ref flavour the arithmetic compiled into it),
``cmsis-nn``, ``model`` (model_tflm.cc: the model array, the resolver, the I/O slots),
``harness`` (harness.cc and the arena file), plus ``startup``,
``libc`` (libc/libm), ``libgcc``, ``libstdc++`` (libstdc++/libsupc++).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..build.toolchain import (
    KERNELS,
    MCUSIM_INCLUDE,
    CompileJob,
    _hash,
    cache_dir,
    compile_jobs,
    core_flags,
    kernel_tree_key,
    make_archive,
)
from ..errors import DoesNotFit, FirmwareFault, McusimError, ModelError
from ..frontend.graph import Graph
from ..simulator.board import Board
from ..simulator.elf import Elf
from ..simulator.machine import Machine
from . import default_kernels
from .deploy import Firmware, build_firmware
from .tflmtree import (
    CMSIS_NN_DEFINES,
    CODEGEN_FLAGS,
    CXX_FLAGS,
    TFLM_DEFINES,
    TflmTree,
    cmsis_nn_build,
    device_defines,
    device_include_dirs,
)
from .tinyml import _write, generous_arena

FLAVOURS = ("cmsis-nn", "ref")
HARNESS_DIR = KERNELS / "tflm"
HARNESS = HARNESS_DIR / "harness.cc"
MICRO = Path("tensorflow/lite/micro")

# TFLM's library sources a firmware needs (TFLM's Makefile's MICROLITE_CC_BASE_SRCS for
# cortex_m_generic, minus test helpers, the fake/mock contexts and the recording allocator).
CORE_SOURCES = tuple(Path(p) for p in (
    "tensorflow/lite/micro/cortex_m_generic/debug_log.cc",
    "tensorflow/lite/micro/cortex_m_generic/micro_time.cc",
    "tensorflow/lite/micro/flatbuffer_utils.cc",
    "tensorflow/lite/micro/hexdump.cc",
    "tensorflow/lite/micro/memory_helpers.cc",
    "tensorflow/lite/micro/micro_allocation_info.cc",
    "tensorflow/lite/micro/micro_allocator.cc",
    "tensorflow/lite/micro/micro_context.cc",
    "tensorflow/lite/micro/micro_interpreter.cc",
    "tensorflow/lite/micro/micro_interpreter_context.cc",
    "tensorflow/lite/micro/micro_interpreter_graph.cc",
    "tensorflow/lite/micro/micro_log.cc",
    "tensorflow/lite/micro/micro_op_resolver.cc",
    "tensorflow/lite/micro/micro_profiler.cc",
    "tensorflow/lite/micro/micro_resource_variable.cc",
    "tensorflow/lite/micro/micro_utils.cc",
    "tensorflow/lite/micro/system_setup.cc",
    "tensorflow/lite/micro/arena_allocator/non_persistent_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/arena_allocator/persistent_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/arena_allocator/single_arena_buffer_allocator.cc",
    "tensorflow/lite/micro/memory_planner/greedy_memory_planner.cc",
    "tensorflow/lite/micro/memory_planner/linear_memory_planner.cc",
    "tensorflow/lite/micro/memory_planner/non_persistent_buffer_planner_shim.cc",
    "tensorflow/lite/micro/tflite_bridge/flatbuffer_conversions_bridge.cc",
    "tensorflow/lite/micro/tflite_bridge/micro_error_reporter.cc",
    "tensorflow/lite/kernels/kernel_util.cc",
    "tensorflow/lite/kernels/internal/runtime_shape.cc",
    "tensorflow/lite/kernels/internal/portable_tensor_utils.cc",
    "tensorflow/lite/kernels/internal/tensor_ctypes.cc",
    "tensorflow/lite/kernels/internal/reference/portable_tensor_utils.cc",
    "tensorflow/lite/kernels/internal/common.cc",
    "tensorflow/lite/kernels/internal/quantization_util.cc",
    "tensorflow/lite/kernels/internal/tensor_utils.cc",
    "tensorflow/lite/core/api/flatbuffer_conversions.cc",
    "tensorflow/lite/core/api/tensor_utils.cc",
    "tensorflow/lite/core/c/common.cc",
    "tensorflow/compiler/mlir/lite/schema/schema_utils.cc",
    "tensorflow/compiler/mlir/lite/core/api/error_reporter.cc",
))
KERNEL_HELPERS = ("kernel_util.cc", "micro_tensor_utils.cc", "decompress.cc", "decompress_common.cc")
"""Files of tensorflow/lite/micro/kernels/ every kernel may call into."""

# main()'s return codes (kernels/tflm/harness.cc).
STATUS_MESSAGES: dict[int, str] = {
    1: "the model's schema version is not the one this TFLM tree reads",
    2: "TFLM's MicroMutableOpResolver refused an op (resolver full or op added twice)",
    3: "TFLM's AllocateTensors failed: the arena is too small, or an op's Prepare rejected the model "
       "(a release build of TFLM strips its error strings, so TFLM does not say which)",
    4: "the model's inputs or outputs do not match the generated I/O slots",
    5: "TFLM's Invoke failed",
}
STATUS_ALLOCATE = 3
ARENA_ALIGNMENT = 16
"""TFLM's MicroArenaBufferAlignment() (micro_arena_constants.h)."""
STACK_RESERVE = 8192
"""RAM left for the stack when choosing the generous arena of the sizing image."""


@dataclass(frozen=True)
class OpSupport:
    op: str
    method: str
    """The MicroMutableOpResolver method that adds it (``AddConv2D``)."""
    register: str
    """Its default registration function (``Register_CONV_2D``)."""


_ADD = re.compile(r"TfLiteStatus (Add\w+)\(([^{]*?)\)\s*\{\s*return AddBuiltin\(\s*BuiltinOperator_(\w+),\s*([^,]+),",
                  re.S)


@cache
def resolver_methods(root: Path) -> dict[str, OpSupport]:
    """Builtin op -> how MicroMutableOpResolver adds it, read from the tree's header."""
    text = (root / MICRO / "micro_mutable_op_resolver.h").read_text(errors="replace")
    out: dict[str, OpSupport] = {}
    for method, params, op, reg in _ADD.findall(text):
        m = re.search(r"(Register_\w+)\s*\(", params + " " + reg)
        if m:
            out[op] = OpSupport(op, method, m.group(1))
    return out


@cache
def _registers(root: Path, subdir: str) -> dict[str, Path]:
    """``Register_*`` function -> the kernel file that defines it, in kernels/<subdir>."""
    out: dict[str, Path] = {}
    d = root / MICRO / "kernels" / subdir
    for f in sorted(d.glob("*.cc")):
        if f.name.endswith("_test.cc"):
            continue
        for name in re.findall(r"TFLMRegistration\s+(Register_\w+)\s*\(\s*\)\s*\{", f.read_text(errors="replace")):
            out.setdefault(name, f.relative_to(root))
    return out


def kernel_files(tree: TflmTree, graph: Graph, flavour: str) -> tuple[list[OpSupport], list[Path]]:
    """The resolver methods of the model's ops and the kernel files to compile (relative to
    the tree). Raises McusimError naming an op the tree's resolver or kernels cannot supply."""
    methods = resolver_methods(tree.root)
    ref = _registers(tree.root, "")
    opt = _registers(tree.root, "cmsis_nn") if flavour == "cmsis-nn" else {}
    ops: list[OpSupport] = []
    files: set[Path] = set()
    for op in graph.op_types():
        sup = methods.get(op)
        if sup is None:
            raise McusimError(f"tflm/{flavour}: TFLM's MicroMutableOpResolver in {tree.root} has no builtin op {op}")
        src = opt.get(sup.register) or ref.get(sup.register)
        if src is None:
            raise McusimError(f"tflm/{flavour}: no kernel file in {tree.root / MICRO / 'kernels'} defines "
                              f"{sup.register}() for op {op}")
        ops.append(sup)
        files.add(src)
    files.update(MICRO / "kernels" / h for h in KERNEL_HELPERS if (tree.root / MICRO / "kernels" / h).is_file())
    return ops, sorted(_with_dependencies(tree.root, files, set(ref.values()) | set(opt.values())))


_KERNEL_INCLUDE = re.compile(r'#include\s+"tensorflow/lite/micro/kernels/(\w+)\.h"')


def _with_dependencies(root: Path, files: set[Path], op_files: set[Path]) -> set[Path]:
    """``files`` plus what they use from other kernel files: for every kernel header X.h they
    include (directly or through other kernel headers), X_common.cc and X.cc when they register
    no op (helpers such as micro_tensor_utils.cc). E.g. depthwise_conv_common.cc includes
    depthwise_conv.h, which includes conv.h: conv_common.cc; lstm_eval.h: lstm_eval.cc and
    lstm_eval_common.cc."""
    kernels = MICRO / "kernels"
    todo: list[Path] = sorted(files)
    seen: set[Path] = set(files)
    out = set(files)
    while todo:
        path = root / todo.pop()
        text = path.read_text(errors="replace") if path.is_file() else ""
        for name in _KERNEL_INCLUDE.findall(text):
            header = kernels / f"{name}.h"
            if header not in seen:
                seen.add(header)
                todo.append(header)
            for cand in (kernels / f"{name}_common.cc", kernels / f"{name}.cc"):
                if (root / cand).is_file() and cand not in out and cand not in op_files:
                    out.add(cand)
                    seen.add(cand)
                    todo.append(cand)
    return out


# --- flags and compilation ----------------------------------------------------------------------
def include_dirs(tree: TflmTree, core: str, flavour: str) -> list[Path]:
    """TFLM's include path (relative to the tree, as its Makefile passes them)."""
    d = tree.downloads.relative_to(tree.root)
    incs = [Path("."), d, d / "gemmlowp", d / "flatbuffers/include", d / "ruy",
            *(p.relative_to(tree.root) for p in device_include_dirs(tree, core))]
    if flavour == "cmsis-nn":
        incs += [d / "cmsis", d / "cmsis_nn", d / "cmsis_nn/Include"]
    return incs


def cxx_flags(tree: TflmTree, board: Board, flavour: str) -> tuple[str, ...]:
    core = board.core
    defines = (*TFLM_DEFINES, *device_defines(core), *(CMSIS_NN_DEFINES if flavour == "cmsis-nn" else ()))
    return (*CXX_FLAGS, *core_flags(board), *CODEGEN_FLAGS, *defines,
            *(f"-I{i}" for i in include_dirs(tree, core, flavour)))


def component_of_source(rel: Path) -> str:
    """Flash component of a TFLM tree file (path relative to the tree)."""
    s = rel.as_posix()
    if "/cmsis_nn/Source/" in s:
        return "cmsis-nn"
    if s.startswith(("tensorflow/lite/micro/kernels/", "tensorflow/lite/kernels/")):
        return "tflm-kernels"
    return "tflm-framework"


def tflm_library(tree: TflmTree, board: Board, flavour: str, kernel_srcs: list[Path]) -> tuple[Path, dict[str, tuple[Path, str]]]:
    """Compile TFLM's framework, ``kernel_srcs`` and (cmsis-nn) CMSIS-NN for ``core`` and archive
    them; returns the library and {member: (source, component)}."""
    key = tree.key()
    core = board.core
    flags = cxx_flags(tree, board, flavour)
    jobs = [CompileJob(src, flags, key, cxx=True, cwd=tree.root) for src in (*CORE_SOURCES, *kernel_srcs)]
    if flavour == "cmsis-nn":
        nn = cmsis_nn_build(tree, core)
        c_flags = (*core_flags(board), *nn.flags,
                   *(f"-I{i}" for i in include_dirs(tree, core, flavour)))
        jobs += [CompileJob(src.relative_to(tree.root), c_flags, key, cwd=tree.root) for src in nn.sources]
    objs = compile_jobs(jobs, core)
    lib = make_archive(objs, f"tflm-{flavour}")
    return lib, {o.name: (tree.root / j.src, component_of_source(j.src)) for o, j in zip(objs, jobs)}


# --- generated per-model file -------------------------------------------------------------------
TAG_INPUTS_READY = 0x5EED0010
"""kernels/tflm/mcu_tflm.h MCU_TFLM_TAG_INPUTS_READY: the input slots hold the tensors' addresses."""


def input_symbols(graph: Graph) -> list[str]:
    return [f"mcu_tflm_input_{i}" for i in range(len(graph.inputs))]


def output_symbols(graph: Graph) -> list[str]:
    return [f"mcu_tflm_output_{i}" for i in range(len(graph.outputs))]


ARENA_SYMBOL = "mcu_tflm_arena"


def arena_cc(arena_size: int, stop_after_init: bool) -> str:
    """The application's C++ file: the statically sized arena."""
    return f"""// Generated by mcusim.tflm: the tensor arena (kTensorArenaSize = {arena_size}).
#include <cstdint>

extern "C" {{
// The tensor arena in the board's arena region (MCUSIM_ARENA of mcusim.h: the .arena section).
__attribute__((section(".arena"), aligned(16))) uint8_t {ARENA_SYMBOL}[{arena_size}];
extern const uint32_t mcu_tflm_arena_size = {arena_size};
extern const uint32_t mcu_tflm_stop_after_init = {int(stop_after_init)};
}}
"""


def model_cc(graph: Graph, ops: list[OpSupport], name: str = "model") -> str:
    """The per-model C++ file: model bytes, resolver of exactly the model's ops (each invoke
    wrapped for the per-op probes), the I/O slots."""
    ins = [(s, t.nbytes) for s, t in zip(input_symbols(graph), graph.input_tensors())]
    outs = [(s, t.nbytes) for s, t in zip(output_symbols(graph), graph.output_tensors())]
    n = len(ops)
    raw = graph.raw
    data = "\n".join("    " + ", ".join(f"0x{b:02x}" for b in raw[i:i + 16]) + "," for i in range(0, len(raw), 16))
    adds = "\n".join(f"    if (r->{op.method}() != kTfLiteOk) return nullptr;" for op in ops)
    patches = "\n".join(
        f"    wrap<{k}>(r, tflite::BuiltinOperator_{op.op});" for k, op in enumerate(ops))
    return f"""// Generated by mcusim.tflm for {name}: {len(raw)} bytes of .tflite, ops {', '.join(o.op for o in ops)}.
#include <new>

#include "mcu_tflm.h"
#include "mcusim.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

extern "C" {{
{chr(10).join(f"uint8_t *{s};" for s, _ in (*ins, *outs))}
}}

namespace mcu_tflm {{

alignas(16) const unsigned char model[{len(raw)}] = {{
{data}
}};
const Slot inputs[] = {{{', '.join(f'{{&{s}, {nb}}}' for s, nb in ins)}}};
const uint32_t input_count = {len(ins)};
const Slot outputs[] = {{{', '.join(f'{{&{s}, {nb}}}' for s, nb in outs)}}};
const uint32_t output_count = {len(outs)};

namespace {{

using Resolver = tflite::MicroMutableOpResolver<{n}>;
using Invoke = TfLiteStatus (*)(TfLiteContext *, TfLiteNode *);
alignas(Resolver) unsigned char resolver_storage[sizeof(Resolver)];
Invoke original[{n}];

template <int K>
TfLiteStatus timed(TfLiteContext *context, TfLiteNode *node)
{{
    return timed_invoke(original[K], context, node);
}}

/* The resolver keeps its registrations in itself: route op K's invoke through timed<K>. */
template <int K>
void wrap(Resolver *r, tflite::BuiltinOperator op)
{{
    auto *reg = const_cast<TFLMRegistration *>(r->FindOp(op));
    original[K] = reg->invoke;
    reg->invoke = timed<K>;
}}

}}  // namespace

const tflite::MicroOpResolver *op_resolver()
{{
    auto *r = new (resolver_storage) Resolver();
{adds}
{patches}
    return r;
}}

}}  // namespace mcu_tflm
"""


def harness_objects(tree: TflmTree, board: Board, flavour: str, model_src: Path,
                    arena_src: Path) -> dict[Path, tuple[Path, str]]:
    flags = (*cxx_flags(tree, board, flavour), f"-I{MCUSIM_INCLUDE}", f"-I{HARNESS_DIR}")
    key = _hash(tree.key(), kernel_tree_key())
    srcs = {HARNESS: "harness", model_src: "model", arena_src: "harness"}
    objs = compile_jobs([CompileJob(src, flags, key, cxx=True, cwd=tree.root) for src in srcs], board.core)
    return {o: (src, comp) for o, (src, comp) in zip(objs, srcs.items())}


def check_flavour(flavour: str) -> None:
    if flavour == "opt":
        raise McusimError("--kernels opt is mcusim's own kernel library; the tflm path runs TFLM's kernels: "
                          "use --kernels cmsis-nn or ref")
    if flavour not in FLAVOURS:
        raise McusimError(f"unknown TFLM kernel flavour {flavour!r}; use cmsis-nn or ref")


def _firmware(tree: TflmTree, graph: Graph, board: Board, flavour: str, workdir: Path, ops: list[OpSupport],
              library: tuple[Path, dict[str, tuple[Path, str]]], arena_size: int, stop_after_init: bool) -> Firmware:
    model_src = _write(workdir, "model_tflm.cc", model_cc(graph, ops))
    arena_src = _write(workdir, "arena_tflm.cc", arena_cc(arena_size, stop_after_init))
    return Firmware(
        path="tflm",
        kernels=flavour,
        board=board,
        sources={},
        input_symbols=input_symbols(graph),
        output_symbols=output_symbols(graph),
        arena_symbol=ARENA_SYMBOL,
        status_messages=dict(STATUS_MESSAGES),
        io_ready_probe=TAG_INPUTS_READY,
        objects=harness_objects(tree, board, flavour, model_src, arena_src),
        archives={library[0]: library[1]},
        cxx=True,
        mcusim_kernels=False,
        kernel_components=("cmsis-nn",) if flavour == "cmsis-nn" else ("tflm-kernels",),
        glue_components=("tflm-kernels",) if flavour == "cmsis-nn" else (),
        split_libraries=True,
    )


def _startup_run(elf: Elf, board: Board, arena_size: int, fault_fails: bool = False) -> tuple[int, int]:
    """Run the start-up-only image ``elf`` with its arena limited to ``arena_size`` bytes (the
    size word in flash rewritten); returns main()'s status and arena_used_bytes().
    ``fault_fails``: a fault counts as a failed start-up (status -1): some of TFLM's Prepares
    crash on a short arena instead of failing (the LSTM's LstmTensors destructor frees a
    temporary output tensor that was never allocated; the int16 SOFTMAX's two 1,026-byte lookup
    tables land on its live temporary tensors, because SingleArenaBufferAllocator's
    AllocatePersistentBuffer checks the tail against head_, not temp_: filling the tables
    overwrites the input's TfLiteTensor and GetTensorShape then reads a wild pointer)."""
    m = Machine(elf, board)
    m.write_symbol("mcu_tflm_arena_size", arena_size.to_bytes(4, "little"))
    try:
        res = m.run()
    except FirmwareFault:
        if not fault_fails:
            raise
        return -1, 0
    return res.exit_code, int.from_bytes(m.read_symbol("mcu_tflm_arena_used", 4), "little")


def size_arena(elf: Elf, board: Board, generous: int, flavour: str) -> tuple[int, int]:
    """(arena_used_bytes() with a generous arena, the smallest arena (a multiple of 16) with
    which AllocateTensors succeeds). TFLM's figure leaves out the planner's temporary
    workspace, so the declared arena must usually be larger than it."""
    status, used = _startup_run(elf, board, generous)
    if status == STATUS_ALLOCATE:
        raise DoesNotFit(f"TFLM needs more than {generous:,} bytes of tensor arena (or an op's Prepare rejected "
                         f"the model); {board.name} has {board.ram_size:,} bytes of RAM",
                         {board.placement["arena"][-1]: None})
    if status != 0:
        raise McusimError(f"tflm/{flavour} start-up failed: {STATUS_MESSAGES.get(status, f'status {status}')}")
    align = ARENA_ALIGNMENT
    lo = (used + align - 1) // align - 1       # in units of 16 bytes: lo fails (or is below used), hi works
    hi = generous // align
    step = 1
    while lo + step < hi:                     # grow from the used bytes, then bisect
        status, _ = _startup_run(elf, board, (lo + step) * align, fault_fails=True)
        if status == 0:
            hi = lo + step
            break
        lo += step
        step *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        status, _ = _startup_run(elf, board, mid * align, fault_fails=True)
        lo, hi = (lo, mid) if status == 0 else (mid, hi)
    return used, hi * align


_FC_PER_CHANNEL_INT8_ONLY = re.compile(r"is_per_channel\s*&&\s*input->type\s*==\s*kTfLiteInt8")
"""The TF_LITE_ENSURE of TFLM's kernels/cmsis_nn/fully_connected.cc Prepare that takes per-channel
weights only with an int8 input."""


def known_prepare_refusals(tree: TflmTree) -> dict[str, str]:
    """Op type -> the case TFLM's CMSIS-NN kernel in ``tree`` refuses in Prepare (read from its
    source; `mcusim ops` lists it, :func:`refuse_known_prepare_failures` refuses such a model)."""
    path = tree.root / MICRO / "kernels" / "cmsis_nn" / "fully_connected.cc"
    if path.is_file() and _FC_PER_CHANNEL_INT8_ONLY.search(path.read_text(errors="replace")):
        return {"FULLY_CONNECTED": "refused: int16 input with per-channel weights (Prepare of "
                                   "cmsis_nn/fully_connected.cc takes per-channel weights only with int8 input; "
                                   "--kernels ref runs it)"}
    return {}


def refuse_known_prepare_failures(tree: TflmTree, graph: Graph, flavour: str) -> None:
    """Raise ModelError for an op whose Prepare in ``tree`` is known to reject it: a release TFLM
    build strips its messages, so the start-up would only fail as "arena too small". Read from
    the tree's source, so a tree whose kernel takes the op passes. Today one case: a 16x8
    FULLY_CONNECTED with per-channel weights (the converter's default) on TFLM's CMSIS-NN kernel."""
    if flavour != "cmsis-nn" or "FULLY_CONNECTED" not in known_prepare_refusals(tree):
        return
    src = MICRO / "kernels" / "cmsis_nn" / "fully_connected.cc"
    for op in graph.ops:
        if op.type == "FULLY_CONNECTED" and graph.tensors[op.inputs[0]].dtype == "INT16" \
                and graph.tensors[op.inputs[1]].is_per_channel:
            raise ModelError(f"tflm/cmsis-nn: op {op.index} (FULLY_CONNECTED) has int16 input and per-channel "
                             f"weights, which TFLM's CMSIS-NN kernel ({src}) refuses in Prepare (per-channel "
                             "weights only with int8 input); TFLM's reference kernels run it (--kernels ref)")


def build_tflm(graph: Graph, board: Board, tree: TflmTree, kernels: str | None = None,
               workdir: Path | None = None) -> Firmware:
    """The tflm firmware of ``graph`` for ``board`` built from ``tree``, with the arena sized
    exactly (see the module docstring). ``kernels`` None: :func:`default_kernels`."""
    flavour = kernels or default_kernels("tflm", board)
    check_flavour(flavour)
    if flavour == "cmsis-nn":
        tree.require_cmsis_nn()
    refuse_known_prepare_failures(tree, graph, flavour)
    ops, kernel_srcs = kernel_files(tree, graph, flavour)
    library = tflm_library(tree, board, flavour, kernel_srcs)
    if workdir is None:
        key = hashlib.sha256(graph.raw + f"tflm/{flavour}/{board.qualified_name}".encode()).hexdigest()[:20]
        workdir = cache_dir() / "generated" / f"tflm-{key}"
    # The sizing image's arena: as large as the board's arena region holds (less room for TFLM's
    # own statics and the stack where they share it), shrunk until it links.
    generous = generous_arena(graph, board) - STACK_RESERVE
    while True:
        generous = max(1024, generous & ~(ARENA_ALIGNMENT - 1))
        try:
            sizing, _ = build_firmware(_firmware(tree, graph, board, flavour, workdir, ops, library, generous, True))
            break
        except DoesNotFit:
            if generous <= 1024:
                raise
            generous = generous * 3 // 4
    used, arena = size_arena(sizing, board, generous, flavour)
    fw = _firmware(tree, graph, board, flavour, workdir, ops, library, arena, False)
    notes: dict[str, Any] = {
        "tflm_arena_used_bytes": used,
        "tflm_arena_size": arena,
        "tflm_tree": str(tree.root),
        "tflm_version": tree.version(),
        "tflm_tree_key": tree.key(),
        "op_registry": [o.method for o in ops],
    }
    fw.notes = notes
    return fw



# --- export -------------------------------------------------------------------------------------
_MAKEFILE = """# Generated by mcusim: {model} on the tflm path ({flavour} kernels) for {board} ({core}).
# Builds TensorFlow Lite Micro from TFLM_DIR in place (nothing of it is copied here), with TFLM's own
# Makefile flags, plus mcusim's harness, startup code and linker script: the image mcusim measured.
#   make                      build build/firmware.elf
#   make TFLM_DIR=/path/to/tflite-micro   another tree (its downloads/ populated)
#   make size                 arm-none-eabi-size -A

TFLM_DIR ?= {tree}
CXX     := arm-none-eabi-g++
CC      := arm-none-eabi-gcc
AR      := arm-none-eabi-ar
SIZE    := arm-none-eabi-size

CPU_FLAGS  := {cpu_flags}
# TFLM's flags (sources are compiled from inside TFLM_DIR, as TFLM's Makefile does).
TFLM_CXXFLAGS := {cxx_flags}
CMSIS_NN_CFLAGS := {c_flags}
HARNESS_FLAGS := -I$(CURDIR)/include -I$(CURDIR)/src
# mcusim's startup code, with mcusim's C flags.
STARTUP_CFLAGS := $(CPU_FLAGS) {startup_flags} -I$(CURDIR)/include
LDFLAGS := $(CPU_FLAGS) -L. -Tcortex_m.ld {link_flags}

# TFLM framework + the model's kernel files (paths relative to TFLM_DIR), then CMSIS-NN.
TFLM_SRCS := {tflm_srcs}
CMSIS_NN_SRCS := {nn_srcs}
LIB_OBJS := $(patsubst %.cc,build/tflm/%.o,$(TFLM_SRCS)) $(patsubst %.c,build/tflm/%.o,$(CMSIS_NN_SRCS))
APP_OBJS := build/startup.o build/harness.o build/model_tflm.o build/arena_tflm.o

all: build/firmware.elf

build/tflm/%.o: $(TFLM_DIR)/%.cc
\t@mkdir -p $(dir $@)
\tcd $(TFLM_DIR) && $(CXX) $(TFLM_CXXFLAGS) -c $*.cc -o $(CURDIR)/$@

build/tflm/%.o: $(TFLM_DIR)/%.c
\t@mkdir -p $(dir $@)
\tcd $(TFLM_DIR) && $(CC) $(CMSIS_NN_CFLAGS) -c $*.c -o $(CURDIR)/$@

build/%.o: src/%.cc
\t@mkdir -p $(dir $@)
\tcd $(TFLM_DIR) && $(CXX) $(TFLM_CXXFLAGS) $(HARNESS_FLAGS) -c $(CURDIR)/$< -o $(CURDIR)/$@

build/startup.o: startup/startup.c
\t@mkdir -p $(dir $@)
\t$(CC) $(STARTUP_CFLAGS) -c $< -o $@

build/libtflm.a: $(LIB_OBJS)
\trm -f $@
\t$(AR) rcs $@ $(LIB_OBJS)

# Link order as mcusim links: startup, harness, model, arena, then the library.
build/firmware.elf: $(APP_OBJS) build/libtflm.a cortex_m.ld memory.ld
\t$(CXX) $(APP_OBJS) build/libtflm.a $(LDFLAGS) -Wl,-Map=build/firmware.map -o $@

size: build/firmware.elf
\t$(SIZE) -A $<

clean:
\trm -rf build

.PHONY: all size clean
"""


def export_tflm(graph: Graph, board: Board, tree: TflmTree, kernels: str | None, out_dir: Path | str,
                name: str = "the model") -> Firmware:
    """Write a project to ``out_dir`` that builds the measured tflm image with ``make``: the
    generated model and arena files, mcusim's harness, startup code and linker script, and a
    Makefile whose ``TFLM_DIR`` (default: ``tree``) names the TFLM tree it compiles in place.
    Returns the Firmware mcusim measures for the same model (the arena sized by simulation)."""
    from ..build.toolchain import (
        COMMON_FLAGS,
        LINK_FLAGS,
        LINKER_SCRIPT,
        STARTUP,
        memory_ld,
    )

    fw = build_tflm(graph, board, tree, kernels)
    flavour = fw.kernels
    out = Path(out_dir)
    (out / "src").mkdir(parents=True, exist_ok=True)
    (out / "include").mkdir(parents=True, exist_ok=True)
    (out / "startup").mkdir(parents=True, exist_ok=True)
    for obj, (src, _) in fw.objects.items():
        (out / "src" / src.name).write_bytes(src.read_bytes())
    (out / "include" / "mcu_tflm.h").write_bytes((HARNESS_DIR / "mcu_tflm.h").read_bytes())
    (out / "include" / "mcusim.h").write_bytes((MCUSIM_INCLUDE / "mcusim.h").read_bytes())
    (out / "startup" / "startup.c").write_bytes(STARTUP.read_bytes())
    (out / "cortex_m.ld").write_bytes(LINKER_SCRIPT.read_bytes())
    (out / "memory.ld").write_text(memory_ld(board))
    _, kernel_srcs = kernel_files(tree, graph, flavour)
    tflm_srcs = [p.as_posix() for p in (*CORE_SOURCES, *kernel_srcs)]
    nn_srcs: list[str] = []
    c_flags = ""
    if flavour == "cmsis-nn":
        nn = cmsis_nn_build(tree, board.core)
        nn_srcs = [p.relative_to(tree.root).as_posix() for p in nn.sources]
        c_flags = " ".join(("$(CPU_FLAGS)", *nn.flags, *(f"-I{i}" for i in include_dirs(tree, board.core, flavour))))
    cxx = cxx_flags(tree, board, flavour)
    cpu = core_flags(board)
    cxx_rest = [f for f in cxx if f not in cpu]
    join = " \\\n        ".join
    (out / "Makefile").write_text(_MAKEFILE.format(
        model=name, flavour=flavour, board=board.name, core=board.core, tree=tree.root,
        cpu_flags=" ".join(cpu),
        cxx_flags=" ".join(("$(CPU_FLAGS)", *(_make_quote(f) for f in cxx_rest))),
        c_flags=" ".join(_make_quote(f) for f in c_flags.split(" ")) if c_flags else "",
        startup_flags=" ".join((*COMMON_FLAGS, "-O2")), link_flags=" ".join(LINK_FLAGS),
        tflm_srcs=join(tflm_srcs), nn_srcs=join(nn_srcs)))
    return fw


def _make_quote(flag: str) -> str:
    """A flag as a shell word inside a Makefile recipe (the device header define has quotes)."""
    return f"'{flag}'" if '"' in flag else flag
