"""Running a model's firmware (either path) and measuring it.

A path builder (``tinyml.build_tinyml``, ``classic.build_classic``) returns a
:class:`Firmware`: its sources with the flash component of each, the symbols the host writes
inputs into and reads outputs from, and what its status codes mean. :func:`run_firmware`
adds the kernel library and startup, builds, runs with probe snapshots, and turns the
probes of the deployment protocol (kernels/include/mcusim.h) into the report:

    STARTUP_BEGIN .. STARTUP_END      one-off start-up (tinyml: parse, plan, prepare)
    INVOKE_BEGIN  .. INVOKE_END       one inference: `cycles`, latency, energy, mix
    OP_BEGIN(i)   .. OP_END(i)        per-operator cycles
The dispatch share is the part of the invoke window spent outside the kernel library
(interpreter loop, op glue, calls): the machine counts the time from entering a kernel-library
function until returning out of it (its callees, e.g. libgcc helpers, included) in native
code, from the same shadow call stack that gives backtraces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..build.flashmap import ComponentMap, parse_map
from ..build.toolchain import KERNELS, STARTUP, build_elf
from ..errors import DoesNotFit, FirmwareFault, McusimError
from ..frontend.graph import Graph
from ..frontend.graphinfo import op_macs, op_memory, op_shape
from ..present.report import mix_dict
from ..simulator.board import Board
from ..simulator.elf import Elf
from ..simulator.machine import (
    DEFAULT_MAX_INSTRUCTIONS,
    Machine,
    RunResult,
    WindowStats,
)

TAG_STARTUP_BEGIN, TAG_STARTUP_END = 0x5EED0000, 0x5EED0001
TAG_INVOKE_BEGIN, TAG_INVOKE_END = 0x5EED0002, 0x5EED0003
TAG_OP_BEGIN, TAG_OP_END = 0x0B000000, 0x0E000000
KERNEL_COMPONENT = "kernels"
FLAVOURS = ("ref", "opt")
CMSIS_NN = "cmsis-nn"
"""The classic path's third kernel choice: Arm CMSIS-NN from a TFLM tree (mcusim/stacks/cmsisnn.py),
with mcusim's ``opt`` kernels for the ops CMSIS-NN lacks."""


@dataclass
class Firmware:
    path: str
    """``tinyml`` or ``classic``."""
    kernels: str
    """Kernel flavour: ``ref``, ``opt`` or (classic) ``cmsis-nn``."""
    board: Board
    sources: dict[Path, str]
    """C source -> flash component (``runtime``, ``model``, ``code``, ``weights``...)."""
    include_dirs: list[Path] = field(default_factory=list)
    defines: dict[str, str | int] = field(default_factory=dict)
    input_symbols: list[str] = field(default_factory=list)
    output_symbols: list[str] = field(default_factory=list)
    io_ready_probe: int | None = None
    """None: the I/O symbols are the buffers. Else they are pointers the firmware fills: the host
    writes each input where its pointer points when the firmware stores this probe value, and
    reads each output where its pointer points at the end."""
    arena_symbol: str | None = None
    status_messages: dict[int, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    opt: str = "-O2"
    libraries: dict[str, list[tuple[Path, Path]]] = field(default_factory=dict)
    """Flash component -> (object, source) pairs built with their own flags (CMSIS-NN); their
    code counts as kernel time like mcusim's kernel library."""
    op_info: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Graph op index -> extra fields of its ``ops`` entry (classic: ``kernel``, ``fallback``)."""
    objects: dict[Path, tuple[Path, str]] = field(default_factory=dict)
    """Objects built elsewhere (e.g. C++ with another stack's flags): object -> (source, component)."""
    archives: dict[Path, dict[str, tuple[Path, str]]] = field(default_factory=dict)
    """Static libraries linked after everything else: library -> {member: (source, component)}."""
    cxx: bool = False
    """Link with arm-none-eabi-g++ (C++ objects: libstdc++/libsupc++)."""
    mcusim_kernels: bool = True
    """Link mcusim's kernel library of the ``kernels`` flavour (kernels/src/<flavour>)."""
    kernel_components: tuple[str, ...] = (KERNEL_COMPONENT,)
    """Components whose code is kernel time (inclusive: callees included) for the dispatch share."""
    glue_components: tuple[str, ...] | None = None
    """Components whose own cycles are kernel glue in ``dispatch_breakdown`` and
    ``between_ops_cycles`` (None: neither is reported)."""
    split_libraries: bool = False
    """Name libgcc and libstdc++ apart from libc in the flash breakdown."""


@dataclass
class DeployResult:
    outputs: list[np.ndarray]
    report: dict[str, Any]
    result: RunResult
    elf: Elf


def mcu_flavour(kernels: str) -> str:
    """The mcu_nn flavour linked for a kernel choice: ``cmsis-nn`` falls back to ``opt``."""
    return "opt" if kernels == CMSIS_NN else kernels


def kernel_sources(flavour: str) -> list[Path]:
    """The kernel library's C files of one flavour, chosen per file: ``ref`` is
    kernels/src/ref/**; ``opt`` is every file of kernels/src/opt/** plus every reference file
    that has no optimized file of the same name (kernels/README.md)."""
    flavour = mcu_flavour(flavour)
    if flavour not in FLAVOURS:
        raise McusimError(f"unknown kernel flavour {flavour!r}; use ref or opt")
    ref = sorted((KERNELS / "src" / "ref").rglob("*.c"))
    if flavour == "ref":
        return ref
    opt = sorted((KERNELS / "src" / "opt").rglob("*.c"))
    # in the order of their paths inside the flavour (as one directory would list them)
    return sorted([*opt, *(p for p in ref if p.stem in reference_only_kernels())],
                  key=lambda p: p.relative_to(KERNELS / "src").parts[1:])


@lru_cache(maxsize=1)
def reference_only_kernels() -> frozenset[str]:
    """The kernels (``mcu_<op>_s8``) without an optimized file: the opt flavour links their
    reference code."""
    opt = {p.stem for p in (KERNELS / "src" / "opt").rglob("*.c")}
    return frozenset(p.stem for p in (KERNELS / "src" / "ref").rglob("*.c") if p.stem not in opt)


REF_HANDOVERS = {
    "mcu_conv_s8_ref": "a grouped convolution (filter channels differ from input channels): "
                       "the optimized kernel has no grouped form",
    "mcu_conv_s16_ref": "a grouped convolution (filter channels differ from input channels): "
                        "the optimized kernel has no grouped form",
    "mcu_depthwise_conv_s16_ref": "a filter of more than 511 taps: the optimized kernel's int32 window "
                                  "sums could overflow",
    "mcu_avg_pool_s8_ref": "a filter of more than 256 taps: the optimized kernel's 16-bit lane sums "
                           "could overflow",
    "mcu_leaky_relu_s8_ref": "multipliers outside the optimized kernel's form (a shift left of more "
                             "than 6 or right of more than 15, or a negative multiplier)",
    "mcu_prelu_s8_ref": "multipliers outside the optimized kernel's form (positive shift outside "
                        "[-5, 6], negative shift outside [-22, -2], a negative multiplier, or an "
                        "output offset beyond +-255)",
    "mcu_softmax_s8_ref": "rows of more than 16 values: the optimized kernel keeps at most 16 exps "
                          "per row",
}
"""Reference functions an optimized kernel hands some calls to (kernels/src/opt: the
``<kernel>_ref`` copies of the reference code), and which calls; tests/unit/test_ref_code.py
checks every such call in kernels/src/opt is listed."""


def reference_code(ran: dict[str, Any], elf: Elf, cmap: ComponentMap, dsp: bool) -> dict[str, Any] | None:
    """Which of the kernel-library functions that ran in an op window (``ran``: name ->
    FunctionStats) are reference code although the ``opt`` flavour is linked, measured from the
    code that ran, not predicted: a ``<kernel>_ref`` function an optimized kernel handed the call
    to (:data:`REF_HANDOVERS`), a kernel without an optimized file (its object is compiled from
    kernels/src/ref), or every kernel on a core without the DSP extension (the optimized files
    compile to their reference code). None when the op ran only optimized code."""
    ref_dir = (KERNELS / "src" / "ref").resolve()
    kernel_cycles, ref_fns, handover = 0, [], []
    for name, f in ran.items():
        sym = elf.symbols.get(name)
        if sym is None or cmap.component_at(sym.addr) != KERNEL_COMPONENT:
            continue
        kernel_cycles += f.cycles
        src = cmap.source_at(sym.addr)
        if name.endswith("_ref"):
            handover.append(name)
        elif not dsp or (src is not None and src.resolve().is_relative_to(ref_dir)):
            ref_fns.append(name)
    if not handover and not ref_fns:
        return None
    fns = sorted([*handover, *ref_fns], key=lambda n: -ran[n].cycles)
    if handover:
        first = handover[0]
        cause, reason = "handover", f"{first[:-len('_ref')]} passed the call to its reference code: " + \
            REF_HANDOVERS.get(first, "a case its optimized code does not take")
    elif not dsp:
        cause, reason = "no-dsp", "the core has no DSP extension: the optimized kernels compile to their reference code"
    else:
        entry = min(ref_fns, key=lambda n: (n not in reference_only_kernels(), n))
        cause, reason = "no-opt-kernel", f"no optimized kernel for {entry}: its reference code runs in both flavours"
    cycles = sum(ran[n].cycles for n in fns)
    return {"functions": fns, "cycles": cycles, "share": cycles / kernel_cycles if kernel_cycles else 0.0,
            "cause": cause, "reason": reason}


def _components(fw: Firmware) -> dict[Path, str]:
    """The C sources mcusim compiles for ``fw`` -> their flash component."""
    comps = {Path(p).resolve(): c for p, c in fw.sources.items()}
    if fw.mcusim_kernels:
        for src in kernel_sources(fw.kernels):
            comps[src.resolve()] = KERNEL_COMPONENT
    comps[STARTUP] = "startup"
    return comps


def kernel_components(fw: Firmware) -> tuple[str, ...]:
    """Components whose code is kernel time (the rest of the invoke window is dispatch)."""
    return (*fw.kernel_components, *fw.libraries)


def build_firmware(fw: Firmware) -> tuple[Elf, ComponentMap]:
    comps = _components(fw)
    build = build_elf(list(comps), fw.board, include_dirs=fw.include_dirs, defines=fw.defines,
                      opt=fw.opt, startup=False,
                      objects={**{o: src for pairs in fw.libraries.values() for o, src in pairs},
                               **{o: src for o, (src, _) in fw.objects.items()}},
                      archives={lib: {m: src for m, (src, _) in members.items()} for lib, members in fw.archives.items()},
                      cxx=fw.cxx)
    for component, pairs in fw.libraries.items():
        for _, src in pairs:
            comps[Path(src)] = component
    for src, comp in fw.objects.values():
        comps[src] = comp
    for members in fw.archives.values():
        comps.update({src: comp for src, comp in members.values()})
    elf = _elf(build.elf)
    return elf, ComponentMap(elf, parse_map(build.map_file), build.objects, comps, fw.split_libraries)


@lru_cache(maxsize=16)
def _elf(path: Path) -> Elf:
    """The parsed image: images in the build cache never change (content-addressed, renamed
    into place), and parsing the symbols of a large one costs more than linking it again."""
    return Elf(path)


def _probe_index(result: RunResult, tag: int, start: int = 0) -> int | None:
    for i in range(start, len(result.probes)):
        if result.probes[i][1] == tag:
            return i
    return None


def _window(result: RunResult, begin: int, end: int) -> tuple[int, int, WindowStats] | None:
    a = _probe_index(result, begin)
    if a is None:
        return None
    b = _probe_index(result, end, a + 1)
    if b is None:
        raise McusimError(f"firmware probe 0x{begin:08x} has no matching end 0x{end:08x}")
    return a, b, result.window(a, b)


def give_inputs(m: Machine, fw: Firmware, graph: Graph, inputs: list[np.ndarray]) -> None:
    """Have ``inputs`` written where ``fw`` takes them: into its input buffers now, or (inputs
    in the arena) where its input pointers point when it stores the INPUTS_READY probe."""
    data = [np.asarray(x, dtype=t.numpy_dtype).tobytes() for x, t in zip(inputs, graph.input_tensors())]
    if fw.io_ready_probe is None:
        for sym, d in zip(fw.input_symbols, data):
            m.write_symbol(sym, d)
        return

    def write(value: int, mm: Machine) -> None:
        if value == fw.io_ready_probe:
            for sym, d in zip(fw.input_symbols, data):
                mm.uc.mem_write(int.from_bytes(mm.read_symbol(sym, 4), "little"), d)

    m.on_probe = write


def take_outputs(m: Machine, fw: Firmware, graph: Graph) -> list[np.ndarray]:
    """The outputs of a finished run of ``fw``: its output buffers, or where its output
    pointers point (outputs in the arena)."""
    def raw(sym: str, n: int) -> bytes:
        if fw.io_ready_probe is None:
            return m.read_symbol(sym, n)
        return m.read(int.from_bytes(m.read_symbol(sym, 4), "little"), n)

    return [np.frombuffer(raw(sym, t.nbytes), dtype=t.numpy_dtype).reshape(t.shape).copy()
            for sym, t in zip(fw.output_symbols, graph.output_tensors())]


def run_firmware(fw: Firmware, graph: Graph, inputs: list[np.ndarray],
                 max_instructions: int = DEFAULT_MAX_INSTRUCTIONS, track_saturation: bool = False) -> DeployResult:
    """Build ``fw``, run it once on ``inputs``, and return outputs plus the JSON report."""
    elf, cmap = build_firmware(fw)
    board = fw.board
    if elf.flash_bytes > board.flash_size or elf.static_ram_bytes > board.ram_size:
        raise DoesNotFit(
            f"{fw.path} image does not fit {board.name}: flash {elf.flash_bytes:,} of {board.flash_size:,} B, "
            f"static RAM {elf.static_ram_bytes:,} of {board.ram_size:,} B",
            {**({"flash": elf.flash_bytes - board.flash_size} if elf.flash_bytes > board.flash_size else {}),
             **({r.name: None for r in board.ram_regions} if elf.static_ram_bytes > board.ram_size else {})},
        )
    m = Machine(elf, board, snapshot_probes=True, track_saturation=track_saturation,
                kernel_ranges=[r for c in kernel_components(fw) for r in cmap.code_ranges(c)])
    give_inputs(m, fw, graph, inputs)
    res = m.run(max_instructions=max_instructions)
    if res.exit_code != 0:
        msg = fw.status_messages.get(res.exit_code, f"firmware returned status {res.exit_code}")
        raise FirmwareFault(f"{fw.path} firmware stopped: {msg}")
    outputs = take_outputs(m, fw, graph)
    return DeployResult(outputs, _report(fw, graph, elf, cmap, res, outputs), res, elf)


def _report(fw: Firmware, graph: Graph, elf: Elf, cmap: ComponentMap, res: RunResult,
            outputs: list[np.ndarray]) -> dict[str, Any]:
    board = fw.board
    inv = _window(res, TAG_INVOKE_BEGIN, TAG_INVOKE_END)
    if inv is None:
        raise McusimError(f"{fw.path} firmware recorded no INVOKE probes")
    inv_a, inv_b, w = inv
    kernel = w.kernel_cycles
    ops = []
    opt_linked = fw.mcusim_kernels and mcu_flavour(fw.kernels) == "opt"
    handovers: list[dict[str, Any]] = []
    for op in graph.ops:
        a = _probe_index(res, TAG_OP_BEGIN | op.index, inv_a)
        b = _probe_index(res, TAG_OP_END | op.index, inv_a)
        if a is None or b is None or b > inv_b:
            continue  # folded away (classic path: shape-only ops)
        cyc = res.probes[b][0] - res.probes[a][0]
        macs = op_macs(graph, op)
        extra = dict(fw.op_info.get(op.index, {}))
        ran = res.window(a, b).functions if fw.libraries or opt_linked else {}
        if fw.libraries:
            # Which library functions the op ran (e.g. the kernel a CMSIS-NN wrapper picked), measured.
            extra["kernel_functions"] = [n for n, f in sorted(ran.items(), key=lambda kv: -kv[1].cycles)
                                         if _component_of(n, elf, cmap) in kernel_components(fw)]
        if opt_linked:
            ref = reference_code(ran, elf, cmap, board.dsp)
            if ref is not None:
                extra["ref_code"] = ref
                if ref["cause"] == "handover":
                    handovers.append({"index": op.index, "type": op.type, "used": f"mcusim's reference code "
                                      f"({', '.join(ref['functions'])})", "reason": ref["reason"]})
        ops.append({
            "index": op.index, "type": op.type, "shape": op_shape(graph, op), "macs": macs, **op_memory(graph, op),
            "cycles": cyc, "macs_per_cycle": macs / cyc if cyc else 0.0, "share": cyc / w.cycles if w.cycles else 0.0,
            **extra,
        })
    startup = _window(res, TAG_STARTUP_BEGIN, TAG_STARTUP_END)
    startup_cycles = startup[2].cycles if startup else 0
    arena = 0
    if fw.arena_symbol:
        arena = elf.symbol(fw.arena_symbol).size
    static = elf.static_ram_bytes
    dsp = w.instruction_mix.get("dsp_mac")
    functions = [{"name": n, "cycles": f.cycles, "component": _component_of(n, elf, cmap)}
                 for n, f in sorted(w.functions.items(), key=lambda kv: -kv[1].cycles)]
    extra: dict[str, Any] = {}
    if fw.glue_components is not None:
        glue = sum(f["cycles"] for f in functions if f["component"] in fw.glue_components)
        extra["dispatch_breakdown"] = {"framework": w.cycles - kernel - glue, "kernel_glue": glue, "kernels": kernel}
        extra["between_ops_cycles"] = w.cycles - sum(o["cycles"] for o in ops)
    return {
        "schema": "mcusim.run/1",
        "path": fw.path,
        "board": board.qualified_name,
        "core": board.core,
        "kernels": fw.kernels,
        "clock_hz": board.op.clock_hz,
        "flash_bytes": elf.flash_bytes,
        "flash_breakdown": dict(sorted(cmap.flash.items(), key=lambda kv: -kv[1])),
        "ram_peak_bytes": static + res.heap_bytes + res.stack_bytes,
        "ram_breakdown": {"static": static - arena, "arena": arena, "stack": res.stack_bytes, "heap": res.heap_bytes},
        "cycles": w.cycles,
        "instructions": w.instructions,
        "taken_branches": w.taken_branches,
        "branch_refill_cycles": w.refill_cycles,
        "wait_state_cycles": w.stall_cycles,
        "latency_ms": board.latency_ms(w.cycles),
        "energy_uj": board.energy_uj(w.cycles),
        "kernel_cycles": kernel,
        "dispatch_share": (w.cycles - kernel) / w.cycles if w.cycles else 0.0,
        "startup_cycles": startup_cycles,
        "startup_ms": board.latency_ms(startup_cycles),
        "startup_energy_uj": board.energy_uj(startup_cycles),
        "instruction_mix": mix_dict(w),
        "dsp_mac_share": (dsp.count / w.instructions) if dsp and w.instructions else 0.0,
        "functions": functions,
        "ops": ops,
        "outputs": [o.reshape(-1).tolist() for o in outputs],
        "input_tensors": [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape)} for t in graph.input_tensors()],
        "output_tensors": [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape)} for t in graph.output_tensors()],
        "placement": placement_of(elf, board),
        **extra,
        **fw.notes,
        **({"fallbacks": [*fw.notes.get("fallbacks", []), *handovers]} if handovers else {}),
    }


def placement_of(elf: Elf, board: Board) -> dict[str, str]:
    """Where the image put the stack (its initial MSP), the tensor arena (.arena), static data
    (.data/.bss/.noinit) and the weights (.weights): region names of ``board``, read from the
    linked ELF (``flash`` for the code flash)."""
    def region(addr: int) -> str:
        r = board.region_at(addr)
        return "?" if r is None else "flash" if r.kind == "flash" else r.name

    secs = {s.name: s for s in elf.sections}
    vt = board.flash_origin
    seg = next(g for g in elf.segments if g.paddr <= vt < g.paddr + len(g.data))
    msp = int.from_bytes(seg.data[vt - seg.paddr: vt - seg.paddr + 4], "little")
    out = {"stack": region(msp - 4)}
    for what, names in (("arena", (".arena",)), ("data", (".data", ".bss", ".noinit")), ("weights", (".weights",))):
        sec = next((secs[n] for n in names if n in secs and secs[n].size), None)
        if sec is not None:
            out[what] = region(sec.addr)
    return out


def _component_of(name: str, elf: Elf, cmap: ComponentMap) -> str:
    sym = elf.symbols.get(name)
    return cmap.component_at(sym.addr) if sym is not None else "other"
