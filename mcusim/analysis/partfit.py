"""``mcusim fit``: which parts (every board at every operating point) a model fits, how fast and
at what energy, and the smallest part that fits with headroom.

1. A static lower bound rules parts out without building anything: an image needs at least
   the stack's minimal runtime plus the model's weights in flash, and the runtime's minimal
   static RAM plus the model's largest activation tensor in RAM. The minimal runtime is
   measured, never typed: mcusim builds and runs a one-op model (``data/runtime_floor.tflite``:
   one FULLY_CONNECTED of one value) for each stack and set of core flags, and keeps its flash
   less everything that belongs to that model (its model/weights, kernels, op glue, generated
   code, alignment padding) and its static RAM less its I/O buffers; the result is cached in
   the build cache (``floors/``), keyed by everything that decides the image.
2. The remaining candidates are built once per stack and set of core flags (generated sources,
   arena sizing and scratch sizing are the same on every board of a core) and linked per board;
   a part whose link overflows is measured on an enlarged memory map (:mod:`mcusim.oversize`,
   link only); every other part is simulated at each of its operating points (wait states
   differ), outputs checked against the int8 reference.

Each row: flash and peak RAM against the part, latency, energy, the 70 % headroom verdict.

A classic ML model (mcusim.classicml; :func:`fit_classic`) has no static bound: its image is
small and its libraries' code is the model. Each library's firmware is built and linked per
board (a part it does not link on is measured on an enlarged map) and simulated at each
operating point on the given samples (``fit --input``) or the model's documented default
samples; figures are per prediction.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from rich.console import Console
from rich.table import Table

from ..build.toolchain import cache_dir, compiler_version, core_flags, kernel_tree_key
from ..errors import DoesNotFit, McusimError
from ..frontend.graph import Graph
from ..frontend.graphinfo import default_inputs
from ..frontend.tflite import load_model
from ..simulator.board import Board, all_boards, get_board
from ..stacks import KERNELS, check_kernels, default_kernels, label
from ..stacks.deploy import DeployResult, Firmware, build_firmware, run_firmware
from .budget import verdict
from .oversize import measure

FLOOR_MODEL = Path(__file__).parent.parent / "data" / "runtime_floor.tflite"
MODEL_COMPONENTS = ("model", "weights", "kernels", "op_glue", "code", "cmsis-nn", "tflm-kernels", "padding")
"""Flash components that belong to the model (its data, its kernels and glue, generated code):
what the floor model's image has that another model need not."""
WEIGHT_OPS = {"CONV_2D": (1, 2), "DEPTHWISE_CONV_2D": (1, 2), "FULLY_CONNECTED": (1, 2)}
"""Ops whose constant inputs (filter, bias) the classic path stores as they are."""
DEFAULT_PATHS = "tinyml/opt,classic/opt"

Progress = Callable[[str], None]


def parse_paths(text: str | None) -> list[tuple[str, str | None]]:
    """``tinyml,classic/cmsis-nn,tflm`` -> [(path, kernels or None: the path's default per board)]."""
    out: list[tuple[str, str | None]] = []
    for item in (x.strip() for x in (text or DEFAULT_PATHS).split(",")):
        if not item:
            continue
        path, _, kernels = item.partition("/")
        if path not in KERNELS:
            raise McusimError(f"--paths: unknown path {path!r}; use {', '.join(KERNELS)} (optionally PATH/KERNELS)")
        if kernels:
            check_kernels(path, kernels)
        if (path, kernels or None) not in out:
            out.append((path, kernels or None))
    if not out:
        raise McusimError("--paths names no path")
    return out


def operating_points(boards: list[Board] | None = None) -> list[Board]:
    """Every board at every one of its operating points, smallest part first."""
    boards = boards if boards is not None else all_boards()
    out = []
    for b in sorted(boards, key=lambda b: (b.flash_size, b.ram_size, b.name)):
        for op in b.operating_points:
            out.append(replace(b, op=op))
    return out


def weights_bytes(graph: Graph, path: str) -> int:
    """Model bytes every image of ``path`` holds in flash: the whole flatbuffer (tinyml and tflm
    embed it), or the filters and biases the classic path stores as they are."""
    if path in ("tinyml", "tflm"):
        return len(graph.raw)
    seen: set[int] = set()
    total = 0
    for op in graph.ops:
        for pos in WEIGHT_OPS.get(op.type, ()):
            if pos < len(op.inputs) and op.inputs[pos] >= 0 and op.inputs[pos] not in seen:
                t = graph.tensors[op.inputs[pos]]
                if t.is_constant:
                    seen.add(t.index)
                    total += t.nbytes
    return total


def largest_activation(graph: Graph) -> int:
    """Bytes of the largest tensor that is not constant: it must be in RAM at some point."""
    return max((t.nbytes for t in graph.tensors if not t.is_constant), default=0)


def _floor_key(path: str, kernels: str, board: Board, tflm_dir: str | Path | None) -> str:
    from ..stacks.runner import _generator_key

    parts = [_generator_key().hex(), path, kernels, board.core, *core_flags(board), compiler_version(),
             kernel_tree_key(), FLOOR_MODEL.read_bytes().hex()]
    if path == "tflm" or kernels == "cmsis-nn":
        from ..stacks.tflmtree import find_tree

        parts.append(find_tree(tflm_dir, None).key())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def runtime_floor(path: str, kernels: str, board: Board, tflm_dir: str | Path | None = None) -> dict[str, Any]:
    """The stack's minimal runtime on ``board``'s core: ``flash_bytes`` and ``ram_bytes`` (static),
    measured from a real build and run of the floor model (see the module docstring), cached."""
    key = _floor_key(path, kernels, board, tflm_dir)
    cached = cache_dir() / "floors" / f"{key}.json"
    if cached.is_file():
        try:
            return json.loads(cached.read_text())
        except (OSError, ValueError):
            pass  # rebuilt below
    from ..stacks.runner import run_model

    rep = run_model(FLOOR_MODEL, path, board, kernels, tflm_dir=tflm_dir, oversize=True).report
    graph = load_model(FLOOR_MODEL)
    io = sum(-(-t.nbytes // 16) * 16 for t in (*graph.input_tensors(), *graph.output_tensors()))
    floor = {
        "flash_bytes": rep["flash_bytes"] - sum(v for k, v in rep["flash_breakdown"].items() if k in MODEL_COMPONENTS),
        "ram_bytes": max(0, rep["ram_breakdown"]["static"] - io),
        "measured_with": f"{FLOOR_MODEL.name} on {board.qualified_name} ({board.core})",
        "flash_breakdown": {k: v for k, v in rep["flash_breakdown"].items() if k not in MODEL_COMPONENTS},
    }
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
        tmp.write_text(json.dumps(floor))
        tmp.replace(cached)
    except OSError:
        pass  # a read-only cache: measured again next time
    return floor


def _row(board: Board, path: str, kernels: str, **fields: Any) -> dict[str, Any]:
    return {"board": board.name, "op_point": board.op.name, "qualified_name": board.qualified_name,
            "core": board.core, "clock_hz": board.op.clock_hz, "path": path, "kernels": kernels,
            "stack": label(path, kernels), "flash_size": board.flash_size, "ram_size": board.ram_size,
            "flash_bytes": None, "ram_peak_bytes": None, "flash_use": None, "ram_use": None,
            "cycles": None, "latency_ms": None, "energy_uj": None, **fields}


def _core_key(board: Board) -> tuple[str, ...]:
    return (board.core, *core_flags(board))


def fit(model: str | Path, paths: str | None = None, points: list[Board] | None = None,
        tflm_dir: str | Path | None = None, progress: Progress | None = None, jobs: int = 1) -> dict[str, Any]:
    """The ``mcusim.fit/2`` report of ``model`` on ``points`` (boards at one operating point each;
    default: every board at every operating point): one row per stack, board and operating point
    (``basis``: ``static bound``, ``link`` or ``simulated``), the smallest part that fits with
    headroom per stack, the runtime floors used, and the seconds it took. ``jobs`` > 1 simulates
    on that many worker processes."""
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    graph = load_model(model)
    inputs = default_inputs(graph)
    points = points if points is not None else operating_points()
    order = {(b.name, b.op.name): i for i, b in enumerate(points)}
    stacks = parse_paths(paths)
    rows: list[dict[str, Any]] = []
    floors: dict[str, dict[str, Any]] = {}
    tasks: list[tuple[Firmware, Board, dict[str, int]]] = []
    for path, flavour in stacks:
        # Kernels may differ per board (tflm's default); group boards by (kernels, core flags).
        groups: dict[tuple[str, tuple[str, ...]], list[Board]] = {}
        for b in points:
            groups.setdefault((flavour or default_kernels(path, b), _core_key(b)), []).append(b)
        for (kernels, core), members in groups.items():
            say(f"{label(path, kernels)} on {core[0]}: minimal runtime")
            floor = runtime_floor(path, kernels, members[0], tflm_dir)
            floors[f"{label(path, kernels)} {' '.join(core)}"] = floor
            bounds = {"flash_lower_bound": floor["flash_bytes"] + weights_bytes(graph, path),
                      "ram_lower_bound": floor["ram_bytes"] + largest_activation(graph)}
            candidates = []
            for b in members:
                if bounds["flash_lower_bound"] > b.flash_size or bounds["ram_lower_bound"] > b.ram_size:
                    rows.append(_row(b, path, kernels, basis="static bound", verdict="does not fit", **bounds,
                                     flash_use=bounds["flash_lower_bound"] / b.flash_size,
                                     ram_use=bounds["ram_lower_bound"] / b.ram_size))
                else:
                    candidates.append(b)
            if not candidates:
                continue
            say(f"{label(path, kernels)} on {core[0]}: building {Path(model).name}")
            try:
                fw, _ = measure(lambda b: _build(graph, path, b, kernels, tflm_dir, model), candidates[0])
            except McusimError as e:  # e.g. an op this stack lacks: the stack's rows say so
                rows += [_row(b, path, kernels, basis="error", verdict="error", reason=str(e), **bounds)
                         for b in candidates]
                continue
            links: dict[str, dict[str, Any] | None] = {}  # one link per board, whatever the operating point
            for b in candidates:
                if b.name not in links:
                    links[b.name] = _link(fw, b, bounds)
                linked = links[b.name]
                if linked is None:
                    tasks.append((fw, b, bounds))
                else:
                    rows.append({**linked, **_row(b, path, kernels), **{k: linked[k] for k in _LINKED}})
    if tasks:
        from ..frontend.reference import run_graph

        expected = [np.asarray(e) for e in run_graph(graph, inputs)]
        say(f"simulating {len(tasks)} deployments" + (f" on {jobs} workers" if jobs > 1 else ""))
        rows += _simulate_all([(fw, b, bounds, graph, inputs, expected) for fw, b, bounds in tasks], jobs)
    rank = {s: i for i, s in enumerate(dict.fromkeys(r["stack"] for r in rows))}
    rows.sort(key=lambda r: (rank[r["stack"]], order[(r["board"], r["op_point"])]))
    return {"schema": "mcusim.fit/2", "model": str(model), "rows": rows, "smallest": smallest(rows),
            "headroom": 0.70, "runtime_floors": floors, "seconds": time.perf_counter() - t0}


def fit_classic(model: str | Path, libraries: str | None = None, points: list[Board] | None = None,
                progress: Progress | None = None, samples: str | Path | None = None) -> dict[str, Any]:
    """The ``mcusim.fit/2`` report of a classic ML model (.skops, .onnx): one row per library
    (``libraries`` ``emlearn,mcusim``; default: every library that runs it), board and operating
    point, each simulated on ``samples`` (an .npy or .csv, as ``run --input``; default: the
    model's default samples); ``reference_match``: every prediction equal to the reference's."""
    from ..classicml.codegen import check_library
    from ..classicml.codegen import libraries as libraries_of
    from ..classicml.model import load, load_samples
    from ..classicml.run import PATH, firmware, run_classic

    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    cm = load(model)
    x = load_samples(samples, cm)
    libs = [lib.strip() for lib in (libraries or "").split(",") if lib.strip()] or list(libraries_of(cm))
    for lib in libs:
        check_library(cm, lib)
    rows: list[dict[str, Any]] = []
    for lib in libs:
        links: dict[str, dict[str, Any] | None] = {}  # one link per board, whatever the operating point
        for b in points if points is not None else operating_points():
            say(f"{PATH}/{lib} on {b.qualified_name}")
            if b.name not in links:
                links[b.name] = _link(firmware(cm, lib, b, len(x)), b, {})
            linked = links[b.name]
            if linked is not None:
                rows.append({**linked, **_row(b, PATH, lib), **{k: linked[k] for k in _LINKED if k in linked}})
                continue
            rep = run_classic(cm, x, b, lib).report
            v, fu, ru = verdict(rep["flash_bytes"], rep["ram_peak_bytes"], b)
            rows.append(_row(b, PATH, lib, basis="simulated", verdict=v, flash_bytes=rep["flash_bytes"],
                             ram_peak_bytes=rep["ram_peak_bytes"], flash_use=fu, ram_use=ru, cycles=rep["cycles"],
                             latency_ms=rep["latency_ms"], energy_uj=rep["energy_uj"],
                             reference_match=rep["reference_match"]))
    return {"schema": "mcusim.fit/2", "model": str(model), "rows": rows, "smallest": smallest(rows),
            "headroom": 0.70, "runtime_floors": {}, "samples": len(x),
            "samples_from": str(samples) if samples is not None else "default", "seconds": time.perf_counter() - t0}


def _build(graph: Graph, path: str, board: Board, kernels: str, tflm_dir: str | Path | None,
           model: str | Path) -> Firmware:
    from ..stacks.runner import build_path

    fw = build_path(graph, path, board, kernels, tflm_dir=tflm_dir, model=model)
    build_firmware(fw)  # the link tells whether it fits (DoesNotFit grows the map)
    return fw


def _link(fw: Firmware, board: Board, bounds: dict[str, int]) -> dict[str, Any] | None:
    """None when ``fw`` links for ``board``; else the row of a part that does not fit, with the
    flash and static RAM of the image linked on an enlarged memory map."""
    try:
        build_firmware(replace(fw, board=board))
        return None
    except DoesNotFit as e:
        (elf, _), _ = measure(lambda b: build_firmware(replace(fw, board=b)), board)
        return _row(board, fw.path, fw.kernels, basis="link", verdict="does not fit", **bounds,
                    flash_bytes=elf.flash_bytes, ram_static_bytes=elf.static_ram_bytes,
                    flash_use=elf.flash_bytes / board.flash_size, ram_use=elf.static_ram_bytes / board.ram_size,
                    reason=str(e))


_LINKED = ("basis", "verdict", "flash_lower_bound", "ram_lower_bound", "flash_bytes", "ram_static_bytes",
           "flash_use", "ram_use", "reason")
"""The fields of a link row that hold for every operating point of its board."""

Task = tuple[Firmware, Board, dict[str, int], Graph, list[np.ndarray], list[np.ndarray]]


def _simulate_all(tasks: list[Task], jobs: int) -> list[dict[str, Any]]:
    if jobs <= 1 or len(tasks) <= 1:
        return [simulate(t) for t in tasks]
    from ..sweep import ProcessEngine

    rows = []
    for task, outcome in ProcessEngine(jobs).run(simulate, tasks):  # type: ignore[arg-type]
        fw, board, bounds = task[:3]
        rows.append(outcome["report"] if outcome["report"] is not None else
                    _row(board, fw.path, fw.kernels, basis="error", verdict="error", reason=outcome["message"],
                         **bounds))
    return rows


def simulate(task: Task) -> dict[str, Any]:
    """The row of one board at its operating point, simulated; outputs checked against the
    reference (a difference is an mcusim bug, raised)."""
    fw, board, bounds, graph, inputs, expected = task
    path, kernels = fw.path, fw.kernels
    try:
        res: DeployResult = run_firmware(replace(fw, board=board), graph, inputs)
    except McusimError as e:
        return _row(board, path, kernels, basis="error", verdict="error", reason=str(e), **bounds)
    for i, (got, want) in enumerate(zip(res.outputs, expected)):
        if not np.array_equal(got, want.reshape(got.shape)):
            raise McusimError(f"{label(path, kernels)} output {i} on {board.qualified_name} differs from the int8 "
                              "reference: an mcusim bug")
    rep = res.report
    v, fu, ru = verdict(rep["flash_bytes"], rep["ram_peak_bytes"], board)
    return _row(board, path, kernels, basis="simulated", verdict=v, **bounds, flash_bytes=rep["flash_bytes"],
                ram_peak_bytes=rep["ram_peak_bytes"], flash_use=fu, ram_use=ru, cycles=rep["cycles"],
                latency_ms=rep["latency_ms"], energy_uj=rep["energy_uj"], placement=rep["placement"])


FITS = ("fits with headroom", "tight")


def smallest(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """Per stack, the smallest part (flash, then RAM) that fits with headroom, at its operating
    point of least energy per inference; None when no part does."""
    out: dict[str, dict[str, Any] | None] = {}
    for r in rows:
        out.setdefault(r["stack"], None)
    for stack in out:
        ok = [r for r in rows if r["stack"] == stack and r["verdict"] == "fits with headroom"]
        out[stack] = min(ok, key=lambda r: (r["flash_size"], r["ram_size"], r["energy_uj"], r["latency_ms"]),
                         default=None)
    return out


def anything_fits(report: dict[str, Any]) -> bool:
    return any(r["verdict"] in FITS for r in report["rows"])


def resolve_boards(spec: str | None) -> list[Board]:
    """``--boards a,b@op,...`` as the operating points to try (NAME: each of its operating
    points; NAME@OP: that one); None or empty: every board at every operating point."""
    if not spec:
        return operating_points()
    out: list[Board] = []
    for item in (x.strip() for x in spec.split(",") if x.strip()):
        b = get_board(item)
        out.extend([b] if "@" in item else operating_points([b]))
    return out


def render_fit(console: Console, rep: dict[str, Any]) -> None:
    """The ``fit`` report as a table, the link/error reasons, the smallest part per stack."""
    t = Table(title=f"{Path(rep['model']).name}: which parts fit (headroom rule: under 70% of flash and RAM); "
                    "≥: a lower bound (bound: ruled out without building; link: the image did not link, RAM is its static part)")
    for col in ("board@op", "core", "part flash/RAM", "stack", "flash", "peak RAM", "latency", "energy", "verdict"):
        t.add_column(col, no_wrap=True, justify="right" if col in ("flash", "peak RAM", "latency", "energy") else "left")

    def use(exact: int | None, bound: int | None, u: float | None) -> str:
        if exact is None and bound is None:
            return "-"
        return f"{'' if exact is not None else '≥ '}{exact if exact is not None else bound:,} ({u:.0%})"

    for r in rep["rows"]:
        ram = r["ram_peak_bytes"] if r["ram_peak_bytes"] is not None else None
        ram_bound = r.get("ram_static_bytes", r.get("ram_lower_bound"))
        verdict = r["verdict"] + {"static bound": " (bound)", "link": " (link)"}.get(r["basis"], "")
        t.add_row(r["qualified_name"], r["core"].removeprefix("cortex-"),
                  f"{r['flash_size'] // 1024}K/{r['ram_size'] // 1024}K", r["stack"],
                  use(r["flash_bytes"], r.get("flash_lower_bound"), r["flash_use"]),
                  use(ram, ram_bound, r["ram_use"]),
                  "-" if r["latency_ms"] is None else f"{r['latency_ms']:.3f} ms",
                  "-" if r["energy_uj"] is None else f"{r['energy_uj']:,.{3 if r['path'] == 'classic-ml' else 1}f} µJ",
                  verdict)
    console.print(t)
    reasons = dict.fromkeys((r["board"], r["stack"], r["reason"]) for r in rep["rows"] if r["basis"] in ("link", "error"))
    for board, stack, reason in reasons:
        console.print(f"{board} {stack}: {reason}", highlight=False)
    for stack, best in rep["smallest"].items():
        console.print(f"smallest part with headroom for {stack}: " + (
            "none" if best is None else
            f"{best['qualified_name']} ({best['flash_size'] // 1024} KB flash / {best['ram_size'] // 1024} KB RAM): "
            f"{best['latency_ms']:.3f} ms, {best['energy_uj']:,.{3 if best['path'] == 'classic-ml' else 1}f} µJ per "
            + ("prediction" if best["path"] == "classic-ml" else "inference")), highlight=False)
    basis = [r["basis"] for r in rep["rows"]]
    console.print(f"{len(basis)} rows: {basis.count('static bound')} ruled out by the static bound, "
                  f"{basis.count('link')} by the link, {basis.count('simulated')} simulated"
                  + (f" (per prediction: the mean over {rep['samples']} samples, {rep.get('samples_from', 'default')})"
                     if "samples" in rep else "") + f"; {rep['seconds']:.1f} s", highlight=False)
