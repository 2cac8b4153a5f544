"""The classic program built: scratch sizes asked of the kernels themselves (a sizing program
run in the simulator), the memory plan, the files written, the firmware, and the export with
its Makefile."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...build.toolchain import (
    COMMON_FLAGS,
    KERNELS,
    LINK_FLAGS,
    LINKER_SCRIPT,
    MCUSIM_INCLUDE,
    STARTUP,
    build_elf,
    cache_dir,
    core_flags,
    memory_ld,
)
from ...errors import McusimError
from ...fileio import write_if_changed
from ...frontend.graph import Graph
from ...simulator.board import Board
from ..deploy import CMSIS_NN, FLAVOURS, Firmware, kernel_sources, mcu_flavour
from ..planner import Buffer, Plan, align_up, plan_memory
from ..tflmtables import C_FILE as TABLE_FILE
from ..tflmtables import export_note, needs_sigmoid_table, sigmoid_table_text
from ..tflmtree import TflmTree, cmsis_nn_include_dirs, find_tree
from .files import main_file, model_files, weights_files
from .generator import Generator

ALIGNMENT = 4
"""Byte alignment of every arena buffer (the kernels need 4 for scratch and word loads)."""
TAG_INPUTS_READY = 0x5EED0010
"""kernels/include/mcusim.h MCUSIM_TAG_INPUTS_READY: the host writes the inputs now."""
FC_CHECKED_ON_HOST = "MCU_NN_FC_CHECKED_ON_HOST"
"""Defined for the classic path's build: mcu_check_fc (kernels/src/common/mcu_nn_checks.h) is
left out of the FULLY_CONNECTED kernels, because the generator refuses every call it would
reject (mcusim.operators.fully_connected.fc_kernel_args_problem, its mirror)."""


@dataclass
class ClassicModel:
    """The generated program before it is written out: sources, plan and facts for the report."""

    files: dict[str, str]
    plan: Plan
    buffers: list[Buffer]
    input_symbols: list[str]
    output_symbols: list[str]
    status_messages: dict[int, str]
    notes: dict[str, Any]
    arena_bytes: int
    libraries: dict[str, list[tuple[Path, Path]]]
    """Flash component -> (object, source) built with their own flags (CMSIS-NN)."""
    include_dirs: list[Path]
    """Include directories the generated code needs besides its own and mcu_nn's."""
    op_info: dict[int, dict[str, Any]]
    """Graph op index -> ``kernel`` (the function the generated code calls) and, where CMSIS-NN
    could not run the op, ``fallback`` (why)."""


# --- scratch sizes, computed by the kernels themselves --------------------------------------
def _scratch_sizes(gen: Generator, board: Board, kernels: str, workdir: Path,
                   libraries: dict[str, list[tuple[Path, Path]]], include_dirs: list[Path]) -> list[int]:
    """Run every step's ``*_get_buffer_size`` call in the simulator, with the kernel flavour
    (and CMSIS-NN objects, ``libraries``) and core flags of the real build; returns one size
    per step (0 for steps without one)."""
    calls = [(pos, s) for pos, s in enumerate(gen.steps) if s.scratch_call]
    sizes = [0] * len(gen.steps)
    if not calls:
        return sizes
    lines = ["/* Scratch sizing: each op's *_get_buffer_size, run once by mcusim before planning. */",
             *(["#include \"arm_nnfunctions.h\""] if gen.cmsis_nn else []),
             "#include \"mcu_nn.h\"", "", f"volatile int32_t classic_scratch_sizes[{len(calls)}];", "",
             "int main(void)", "{"]
    for n, (_, s) in enumerate(calls):
        decls = s.sizing_decls if s.sizing_decls is not None else [d for d in s.decls if "mcu_dims" in d]
        lines += ["    {", *[f"        {d}" for d in decls],
                  f"        classic_scratch_sizes[{n}] = {s.scratch_call};", "    }"]
    lines += ["    return 0;", "}", ""]
    src = workdir / "scratch_sizes.c"
    write_if_changed(src, "\n".join(lines))
    # The build is cached by content (sources, the whole kernels/ tree, flags), so it is cheap;
    # the run is memoized per image, so an edited kernel is always asked again.
    build = build_elf([src, *kernel_sources(kernels)], board, include_dirs=include_dirs,
                      defines={FC_CHECKED_ON_HOST: 1},  # as the firmware is built
                      objects=[pair for pairs in libraries.values() for pair in pairs])
    key = hashlib.sha256(build.elf.read_bytes()).hexdigest()[:24]
    memo = cache_dir() / "scratch" / f"{key}.json"
    values: list[int] | None = None
    if memo.is_file():
        try:
            values = [int(v) for v in json.loads(memo.read_text())]
        except (OSError, ValueError, TypeError):
            values = None
    if values is None or len(values) != len(calls):
        from ...simulator.machine import Machine

        m = Machine(build.elf, board)
        res = m.run(max_instructions=10_000_000)
        if res.exit_code != 0:
            raise McusimError(f"classic path: scratch sizing program returned {res.exit_code}")
        raw = m.read_symbol("classic_scratch_sizes", 4 * len(calls))
        values = [int(v) for v in np.frombuffer(raw, dtype="<i4")]
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_if_changed(memo, json.dumps(values))
    for (pos, s), v in zip(calls, values):
        if v < 0:
            op = s.op
            raise McusimError(f"classic path: {str(s.scratch_call).split('(')[0]} returned {v} for op "
                              f"{op.index if op else '-'}")
        sizes[pos] = v
    return sizes


# --- public API -----------------------------------------------------------------------------
def generate_classic(graph: Graph, board: Board, kernels: str = "opt", workdir: Path | str = ".",
                     model_name: str | None = None, lut_activations: bool = False,
                     winograd: bool = False, tflm_tree: TflmTree | None = None) -> ClassicModel:
    """Generate the classic program's sources for ``graph`` into ``workdir`` and return them
    with the memory plan. Raises ModelError naming the op the classic path cannot express.
    ``kernels``: ``ref`` / ``opt`` (mcusim's mcu_nn) or ``cmsis-nn`` (Arm CMSIS-NN from
    ``tflm_tree``, mcusim's opt kernels for the ops it lacks, listed in ``notes["fallbacks"]``).
    ``lut_activations``: pointwise activations as host-built tables; ``winograd``: 3x3 /
    stride-1 convolutions by mcu_conv_wino_s8 with host-transformed int16 filters, fully
    connected layers by mcu_fully_connected_wino_s8 with host-computed pair sums."""
    if kernels not in (*FLAVOURS, CMSIS_NN):
        raise McusimError(f"unknown kernels {kernels!r}; use ref, opt or cmsis-nn")
    libraries: dict[str, list[tuple[Path, Path]]] = {}
    include_dirs: list[Path] = []
    if kernels == CMSIS_NN:
        if winograd:
            raise McusimError("--winograd runs mcusim's own Winograd kernels; it does not combine with --kernels cmsis-nn")
        from .. import cmsisnn

        tree = tflm_tree or find_tree()
        tree.require_cmsis_nn()
        libraries = {cmsisnn.COMPONENT: cmsisnn.objects(tree, board)}
        include_dirs = cmsis_nn_include_dirs(tree)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    gen = Generator(graph, model_name or "the model", lut_activations, winograd, kernels == CMSIS_NN)
    gen.run()
    for pos, size in enumerate(_scratch_sizes(gen, board, kernels, workdir, libraries, include_dirs)):
        gen.steps[pos].scratch = size
    buffers = gen.lifetimes()
    in_place = gen.in_place(buffers)
    plan = plan_memory(buffers, ALIGNMENT, in_place)
    tensors = [b for b in buffers if not b.name.startswith("scratch")]
    scratch = max((b.size for b in buffers if b.name.startswith("scratch")), default=0)
    # One shared scratch region on top of the tensor plan is the textbook alternative; keep
    # whichever is smaller (per-op scratch slots usually fit into gaps between tensors).
    tensor_plan = plan_memory(tensors, ALIGNMENT, in_place)
    shared = tensor_plan.size + align_up(scratch, ALIGNMENT)
    if shared < plan.size:
        offsets = dict(tensor_plan.offsets)
        for b in buffers:
            if b.name.startswith("scratch"):
                offsets[b.name] = tensor_plan.size
        plan = Plan(offsets, shared, plan.naive, plan.lower_bound,
                    tensor_plan.strategy + " + shared scratch", ALIGNMENT, tensor_plan.in_place)
    naive = sum(align_up(b.size, ALIGNMENT) for b in tensors) + align_up(scratch, ALIGNMENT)
    status: dict[int, str] = {}
    weights_c, weights_h = weights_files(gen, kernels)
    model_c, model_h = model_files(gen, plan, buffers, naive, kernels, status)
    main_c, ins, outs = main_file(gen, kernels)
    files = {"model.h": model_h, "model.c": model_c, "weights.h": weights_h, "weights.c": weights_c,
             "main.c": main_c}
    if needs_sigmoid_table(graph):  # TFLite's int16 sigmoid table, generated from the TFLM tree
        files[TABLE_FILE] = sigmoid_table_text(tflm_tree)
    for name, text in files.items():
        write_if_changed(workdir / name, text)
    notes = {
        "arena_bytes": plan.size,
        "arena_naive_bytes": naive,
        "arena_lower_bound_bytes": plan.lower_bound,
        "arena_plan": plan.strategy,
        "arena_in_place": [f"{r.out} over {r.into} (lag {r.lag} B)" for r in plan.in_place],
        "scratch_bytes": scratch,
        "scratch_sizing": "mcu_*_get_buffer_size run in C (simulator) at build time",
        "folded_ops": [{"index": op.index, "type": op.type, "how": why} for op, why in gen.folded],
        "lut_activations": lut_activations,
        "winograd": winograd,
        "winograd_ops": [s.op.index for s in gen.steps if s.op is not None
                         and s.kernel in ("mcu_conv_wino_s8", "mcu_fully_connected_wino_s8")],
    }
    if gen.cmsis_nn:
        notes["fallbacks"] = gen.fallbacks
    op_info = {s.op.index: {"kernel": s.kernel or "generated code"} for s in gen.steps if s.op is not None}
    for f in gen.fallbacks:
        op_info[f["index"]]["fallback"] = f["reason"]
    return ClassicModel(files, plan, buffers, ins, outs, status, notes, plan.size, libraries, include_dirs, op_info)


def build_classic(graph: Graph, board: Board, kernels: str = "opt", workdir: Path | str = ".",
                  model_name: str | None = None, lut_activations: bool = False,
                  winograd: bool = False, tflm_tree: TflmTree | None = None) -> Firmware:
    """The classic path's firmware for ``graph`` on ``board``: generated sources in
    ``workdir`` (model.c -> flash component ``code``, weights.c -> ``weights``, main.c ->
    ``runtime``), ready for :func:`mcusim.deploy.run_firmware`."""
    workdir = Path(workdir)
    cm = generate_classic(graph, board, kernels, workdir, model_name, lut_activations, winograd, tflm_tree)
    sources = {workdir / "model.c": "code", workdir / "weights.c": "weights", workdir / "main.c": "runtime"}
    if TABLE_FILE in cm.files:
        sources[workdir / TABLE_FILE] = "kernels"
    return Firmware(
        path="classic", kernels=kernels, board=board,
        sources=sources,
        include_dirs=[workdir, *cm.include_dirs], defines={FC_CHECKED_ON_HOST: 1}, input_symbols=cm.input_symbols,
        output_symbols=cm.output_symbols, arena_symbol="model_arena" if cm.arena_bytes else None,
        status_messages=cm.status_messages, notes=cm.notes, libraries=cm.libraries, op_info=cm.op_info,
        io_ready_probe=TAG_INPUTS_READY)


_MAKEFILE = """\
# Makefile - builds {model} for {board} ({core}) from the {path} path's sources,
# without mcusim. Exported by `mcusim export --path {path}`; flags are mcusim's own
# (mcusim/build/toolchain.py), so the image equals the one mcusim measured.
#
#   make          -> build/firmware.elf (+ build/firmware.map, build/firmware.bin)
#   make size     -> arm-none-eabi-size of the image
#   make clean
#
# Kernels: {kernels} (mcu_nn flavour {flavour}: kernels/src/{flavour}/). The probes of mcusim.h are stores to an
# unused address; add -DMCUSIM_NO_PROBE to CFLAGS to compile them out for real hardware.

CC      := arm-none-eabi-gcc
OBJCOPY := arm-none-eabi-objcopy
SIZE    := arm-none-eabi-size

{lib_dirs}CPU_FLAGS := {cpu_flags}
CFLAGS    := $(CPU_FLAGS) {common_flags} {opt}{defines} -Isrc -Ikernels/include{lib_includes}
LDFLAGS   := $(CPU_FLAGS) -L. -Tcortex_m.ld {link_flags}

# Link order as mcusim links: generated code, kernel library, startup{lib_order}.
SRCS := {srcs}
OBJS := $(patsubst %.c,build/%.o,$(SRCS))
LIB_OBJS :=
{cmsis_nn}
all: build/firmware.elf

build/%.o: %.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CFLAGS) -c $< -o $@

build/firmware.elf: $(OBJS) $(LIB_OBJS) cortex_m.ld memory.ld
\t$(CC) $(OBJS) $(LIB_OBJS) $(LDFLAGS) -Wl,-Map=build/firmware.map -o $@
\t$(OBJCOPY) -O binary $@ build/firmware.bin

size: build/firmware.elf
\t$(SIZE) -A $<

clean:
\trm -rf build

.PHONY: all size clean
"""


_CMSIS_NN_MAKE = """
# Arm CMSIS-NN (CMSIS_NN_DIR above), compiled in place with the flags TFLM compiles it with;
# --gc-sections keeps only the functions the generated code reaches.
CMSIS_NN_CFLAGS := $(CPU_FLAGS) {cmsis_flags} -I$(CMSIS_NN_DIR)/Include -I$(CMSIS_NN_DIR)
CMSIS_NN_SRCS := {cmsis_srcs}
LIB_OBJS += $(patsubst %.c,build/cmsis_nn/%.o,$(CMSIS_NN_SRCS))

build/cmsis_nn/%.o: $(CMSIS_NN_DIR)/%.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CMSIS_NN_CFLAGS) -c $< -o $@
"""


def export_classic(graph: Graph, board: Board, kernels: str, out_dir: Path | str,
                   model_name: str | None = None, tflm_tree: TflmTree | None = None) -> Firmware:
    """Write a self-contained project to ``out_dir``: ``src/`` (generated model, weights and
    main), ``kernels/`` (the mcu_nn library: headers, common, both flavour trees since opt files
    include their ref twin), ``startup/startup.c``, ``cortex_m.ld``, ``memory.ld`` for the
    board, and a ``Makefile`` with mcusim's compiler flags. ``make`` there builds the same
    image mcusim measures. With ``kernels`` ``cmsis-nn`` the Makefile also compiles CMSIS-NN
    from ``tflm_tree`` in place (``CMSIS_NN_DIR``), with the flags mcusim built it with.
    Returns the Firmware for the same sources (in ``out_dir/src``)."""
    out = Path(out_dir)
    src = out / "src"
    fw = build_classic(graph, board, kernels, src, model_name, tflm_tree=tflm_tree)
    (src / "scratch_sizes.c").unlink(missing_ok=True)
    if (out / "kernels").exists():
        shutil.rmtree(out / "kernels")
    shutil.copytree(MCUSIM_INCLUDE, out / "kernels" / "include")
    for part in ("common", "ref", "opt"):
        shutil.copytree(KERNELS / "src" / part, out / "kernels" / "src" / part)
    (out / "startup").mkdir(parents=True, exist_ok=True)
    shutil.copy2(STARTUP, out / "startup" / "startup.c")
    shutil.copy2(LINKER_SCRIPT, out / "cortex_m.ld")
    (out / "memory.ld").write_text(memory_ld(board))
    srcs = [f"src/{Path(p).name}" for p in fw.sources]
    srcs += [str(Path("kernels") / p.relative_to(KERNELS)) for p in kernel_sources(kernels)]
    srcs.append("startup/startup.c")
    defines = "".join(f" -D{k}={v}" for k, v in sorted(fw.defines.items()))
    cmsis_nn = lib_includes = lib_order = ""
    lib_dirs = export_note(srcs)
    if CMSIS_NN in fw.libraries:
        from .. import cmsisnn

        tree = tflm_tree or find_tree()
        lib_srcs = [str(Path(s).relative_to(tree.cmsis_nn)) for _, s in fw.libraries[CMSIS_NN]]
        lib_dirs += ("# Arm CMSIS-NN from a TensorFlow Lite Micro tree (not copied here); `make CMSIS_NN_DIR=...`\n"
                    f"# builds against another checkout.\nCMSIS_NN_DIR ?= {tree.cmsis_nn}\n\n")
        cmsis_nn = _CMSIS_NN_MAKE.format(
            cmsis_srcs=" \\\n        ".join(lib_srcs),
            cmsis_flags=" ".join([*cmsisnn.FLAGS, *(f"-D{k}={v}" for k, v in sorted(
                cmsisnn.cmsis_nn_defines(board.core).items()))]))
        lib_includes = " -I$(CMSIS_NN_DIR)/Include -I$(CMSIS_NN_DIR)"
        lib_order = ", CMSIS-NN"
    (out / "Makefile").write_text(_MAKEFILE.format(
        model=model_name or "the model", board=board.name, core=board.core, path="classic",
        kernels=kernels, flavour=mcu_flavour(kernels), cpu_flags=" ".join(core_flags(board)), common_flags=" ".join(COMMON_FLAGS),
        opt=fw.opt, defines=defines, link_flags=" ".join(LINK_FLAGS), srcs=" \\\n        ".join(srcs),
        cmsis_nn=cmsis_nn, lib_includes=lib_includes, lib_order=lib_order, lib_dirs=lib_dirs))
    fw.sources = {src / Path(p).name: comp for p, comp in fw.sources.items()}
    fw.include_dirs = [src, *fw.include_dirs[1:]]
    return fw
