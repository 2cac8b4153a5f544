"""The library face of mcusim: what the command line, the benchmarks and notebooks call.

    import mcusim
    r = mcusim.run("models/kws_fc.tflite", path="tinyml", board="stm32f411ce")
    r.cycles, r.flash, r.ram, r.latency_ms, r.output   # measured figures, the output as numpy
    r.to_dict()                                        # the report of `mcusim run --json`

Every function takes the model as a path or as the ``.tflite`` bytes; inputs as numpy arrays
(one array, a list in the model's input order, or a dict by input tensor name), or an ``.npy`` /
``.npz`` file as ``--input`` takes it (default: the documented pattern of docs/json-schema.md); the board by name (``NAME``, ``NAME@OP``, a board
file) or as a :class:`~mcusim.board.Board`; and the command line's options as keywords. Each
returns a typed result whose ``to_dict()`` is the JSON the command writes, without the
``mcusim`` stamp (version, command line) that the report writer adds to a file. Bad input raises a
:class:`~mcusim.errors.McusimError` subclass; nothing here exits or prints.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, Union

import numpy as np

from .errors import McusimError

if TYPE_CHECKING:
    from .analysis.budget import Breach, CheckResult
    from .frontend.graph import Graph
    from .simulator.board import Board

ModelLike = Union[str, Path, bytes]
BoardLike = Union[str, "Board"]
InputsLike = Union[np.ndarray, Sequence[np.ndarray], Mapping[str, np.ndarray], str, Path, None]

DEFAULT_BOARD = "stm32f411ce"
DEFAULT_MAX_INSTRUCTIONS = 2_000_000_000
"""The instruction budget of a run (mcusim.machine.DEFAULT_MAX_INSTRUCTIONS); ``max_instructions`` raises it."""
BYTES_MODEL = "<bytes>"
"""The ``model`` of a report whose model was given as bytes."""


# --- results ------------------------------------------------------------------------------------
@dataclass
class Report:
    """A JSON report and what was measured to make it."""

    report: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The report as the command's ``--json`` file holds it (JSON types: lists, string keys),
        without the writer's ``mcusim`` stamp."""
        return json.loads(json.dumps(self.report))


@dataclass
class _Measured(Report):
    """The figures every run of firmware has (run and sim reports)."""

    @property
    def cycles(self) -> int:
        return int(self.report["cycles"])

    @property
    def flash(self) -> int:
        """Flash bytes of the image (``flash_bytes``; by component in ``flash_breakdown``)."""
        return int(self.report["flash_bytes"])

    @property
    def ram(self) -> int:
        """Peak RAM bytes: static + arena + measured stack + heap (``ram_peak_bytes``)."""
        return int(self.report["ram_peak_bytes"])

    @property
    def latency_ms(self) -> float:
        return float(self.report["latency_ms"])


@dataclass
class RunReport(_Measured):
    """One model on one stack (``mcusim run``)."""

    outputs: list[np.ndarray] = field(default_factory=list)
    """The output tensors, as the firmware left them (checked bit for bit against the reference)."""
    board: "Board | None" = None
    """The board it ran on (with ``place`` applied)."""

    @property
    def output(self) -> np.ndarray:
        """The first output tensor."""
        return self.outputs[0]

    @property
    def energy_uj(self) -> float:
        return float(self.report["energy_uj"])

    @property
    def label(self) -> str:
        """``path/kernels``, e.g. ``tflm/cmsis-nn``."""
        return f"{self.report['path']}/{self.report['kernels']}"

    @property
    def ops(self) -> list[dict[str, Any]]:
        """Per operator: index, type, shape, MACs, cycles, share (and the kernel or fallback)."""
        return list(self.report["ops"])


@dataclass
class FrontendReport(Report):
    """One audio front-end frame (MFCC or log-mel on CMSIS-DSP) on one board (``mcusim frontend``)."""

    features: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The frame's features as the firmware left them (checked against the host's cmsisdsp)."""

    @property
    def cycles(self) -> int:
        return int(self.report["cycles_per_frame"])

    @property
    def real_time_factor(self) -> float:
        return float(self.report["real_time_factor"])


@dataclass
class CompareReport(Report):
    """Several stacks of one model on one board (``mcusim compare``); ``runs`` by column."""

    runs: dict[str, RunReport] = field(default_factory=dict)
    board: "Board | None" = None

    @property
    def columns(self) -> list[str]:
        return list(self.report["columns"])

    @property
    def baseline(self) -> str:
        return str(self.report["baseline"])

    @property
    def ratios(self) -> dict[str, dict[str, float | None]]:
        """Per column, each headline figure divided by the baseline's."""
        return self.report["ratios"]

    @property
    def skipped(self) -> list[dict[str, str]]:
        """Columns not run (no TFLM tree), with the reason."""
        return list(self.report["skipped"])

    def __getitem__(self, column: str) -> RunReport:
        return self.runs[column]


@dataclass
class CheckReport(Report):
    """A budget check (``mcusim check --format json``)."""

    result: "CheckResult | None" = None
    run: RunReport | None = None

    @property
    def ok(self) -> bool:
        return bool(self.report["ok"])

    @property
    def verdict(self) -> str:
        return str(self.report["verdict"])

    @property
    def breaches(self) -> "list[Breach]":
        return list(self.result.breaches) if self.result is not None else []


@dataclass
class FitReport(Report):
    """Which parts a model fits (``mcusim fit --json``)."""

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One per stack, board and operating point (docs/json-schema.md, ``mcusim.fit/2``)."""
        return list(self.report["rows"])

    @property
    def smallest(self) -> dict[str, Any]:
        """Per stack, the smallest part that fits with headroom (None when none does)."""
        return dict(self.report["smallest"])


@dataclass
class SimReport(_Measured):
    """A bare-metal ELF run (``mcusim sim --json``)."""

    @property
    def exit_code(self) -> int:
        return int(self.report["exit_code"])

    @property
    def stdout(self) -> str:
        return str(self.report["stdout"])


@dataclass
class OpsReport(Report):
    """The operators each stack runs and what each lacks (``mcusim ops --json``)."""

    def supported(self, op: str, stack: str) -> bool | None:
        """Whether ``stack`` (``classic/cmsis-nn``) runs ``op`` (``CONV_2D``); None for the tflm
        columns without a TFLM tree."""
        row = next((o for o in self.report["ops"] if o["op"] == op.upper()), None)
        if row is None:
            return False
        cell = row["stacks"][stack]
        return None if cell is None else bool(cell["supported"])


# --- arguments ----------------------------------------------------------------------------------
def _board(spec: BoardLike = DEFAULT_BOARD, place: str | None = None) -> "Board":
    """A board by name (``NAME``, ``NAME@OP``, ``path/to/board.toml[@OP]``) or as given, with
    ``place`` (``arena=dtcm,stack=sram1``) applied."""
    from .simulator.board import Board, get_board, parse_place

    if isinstance(spec, Board):
        b = spec
    elif isinstance(spec, (str, Path)):
        b = get_board(str(spec))
    else:
        raise McusimError(f"board: a name, NAME@OP, a board file or a Board, not {type(spec).__name__}")
    return parse_place(place, b) if place else b


def boards() -> list["Board"]:
    """Every built-in board profile at its default operating point (``mcusim boards``)."""
    from .simulator.board import all_boards

    return all_boards()


def ops(*, tflm_dir: str | Path | None = None) -> OpsReport:
    """The operators per stack and kernel flavour, read from the code (``mcusim ops``); the
    tflm columns from the TFLM tree (``tflm_dir``, else MCUSIM_TFLM_DIR or the config)."""
    from .operators.support import ops_table

    return OpsReport(ops_table(tflm_dir))


def _model(model: ModelLike) -> tuple["Graph", str]:
    """The parsed model and the name reports give it (its path, or ``<bytes>``)."""
    from .frontend.tflite import load_model, parse_model

    if isinstance(model, (bytes, bytearray, memoryview)):
        return parse_model(bytes(model)), BYTES_MODEL
    if isinstance(model, (str, Path)):
        return load_model(model), str(model)
    raise McusimError(f"model: a .tflite path or its bytes, not {type(model).__name__}")


def _inputs(graph: "Graph", inputs: InputsLike) -> list[np.ndarray] | None:
    """``inputs`` as one array per input tensor, in order (None: the default pattern)."""
    from .stacks.runner import check_inputs, load_inputs

    if inputs is None:
        return None
    if isinstance(inputs, (str, Path)):
        return load_inputs(graph, inputs)
    tensors = graph.input_tensors()
    if isinstance(inputs, np.ndarray):
        arrays = [inputs]
    elif isinstance(inputs, Mapping):
        names = [t.name for t in tensors]
        unknown = sorted(set(inputs) - set(names))
        if unknown:
            raise McusimError(f"inputs: no input tensor named {unknown[0]!r}; the model's inputs: {', '.join(names)}")
        missing = [n for n in names if n not in inputs]
        if missing:
            raise McusimError(f"inputs: no array for input tensor {missing[0]!r}")
        arrays = [inputs[n] for n in names]
    elif isinstance(inputs, (list, tuple)):
        arrays = list(inputs)
    else:
        raise McusimError(f"inputs: a numpy array, a list or a dict of them, or an .npy/.npz file, "
                          f"not {type(inputs).__name__}")
    return check_inputs(graph, [np.asarray(a) for a in arrays])


def _check_battery(duty: float | None, battery_mah: float | None, sleep_current: float | None, cold: bool) -> None:
    """Before any work: battery life needs both ``duty`` and ``battery``; ``cold`` and
    ``sleep_current`` mean nothing without them."""
    if duty is None and battery_mah is None:
        if cold or sleep_current is not None:
            raise McusimError(f"{'--cold' if cold else '--sleep-current'} applies to battery life: "
                              "give --duty INFERENCES_PER_DAY and --battery MAH too")
        return
    if duty is None or battery_mah is None:
        raise McusimError("battery life needs both --duty INFERENCES_PER_DAY and --battery MAH")
    if duty <= 0 or battery_mah <= 0:
        raise McusimError("--duty and --battery must be positive")


def _battery(report: dict[str, Any], b: "Board", duty: float | None, battery_mah: float | None,
             sleep_current: float | None, cold: bool) -> None:
    """Add ``battery`` (duty-cycled battery life) to ``report`` when asked for."""
    from .analysis.budget import battery

    if duty is not None and battery_mah is not None:
        report["battery"] = battery(report, b, duty, battery_mah, sleep_current, cold)


# --- commands -----------------------------------------------------------------------------------
def run(model: ModelLike, path: str = "tinyml", *, board: BoardLike = DEFAULT_BOARD, kernels: str | None = None,
        inputs: InputsLike = None, tflm_dir: str | Path | None = None, place: str | None = None,
        lut_activations: bool = False, winograd: bool = False, duty: float | None = None,
        battery: float | None = None, sleep_current: float | None = None, cold: bool = False,
        max_instructions: int = DEFAULT_MAX_INSTRUCTIONS, _graph: "Graph | None" = None,
        library: str | None = None, frontend: str | Path | None = None) -> RunReport:
    """Build ``model`` for one stack (``path`` tflm|tinyml|classic, ``kernels`` cmsis-nn|opt|ref,
    default: the path's), run it on ``board`` and measure it: ``mcusim run``. ``duty``
    (inferences per day) with ``battery`` (mAh) adds battery life (``sleep_current`` µA,
    ``cold``: start-up paid at each wake). An image larger than the part is measured on an
    enlarged memory map: the report's ``fit`` says what it needs against what the part has.

    A classic ML model (a ``.skops`` or ``.onnx`` file, or a fitted scikit-learn estimator:
    mcusim.classicml) runs through ``library`` (emlearn, cmsis-dsp, mcusim; default: the
    model's) on ``inputs`` (samples x features; default: the documented set); ``path`` is ignored.

    ``frontend`` (a front-end spec, mcusim.dsp) runs that MFCC / log-mel front-end on the board
    too and adds its cost per inference: the report's ``frontend`` and ``end_to_end``."""
    from .classicml.model import is_classic_file, is_estimator
    from .stacks import check_kernels, default_kernels
    from .stacks.runner import run_model

    _check_battery(duty, battery, sleep_current, cold)
    b = _board(board, place)
    fe_spec = None
    if frontend is not None:
        from .dsp.spec import load_spec

        fe_spec = load_spec(frontend)  # a bad spec fails before anything is built
    if is_classic_file(model) or is_estimator(model):
        if fe_spec is not None:
            raise McusimError("--frontend adds an audio front-end to a network (.tflite), not to a classic ML model")
        from .classicml.model import check_samples, load, load_samples
        from .classicml.run import run_classic

        if kernels or lut_activations or winograd:
            raise McusimError("--kernels, --lut-activations and --winograd are network options; a classic ML model "
                              "takes --library")
        cm = load(model)
        x = (load_samples(inputs, cm) if isinstance(inputs, (str, Path)) or inputs is None
             else check_samples(inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else inputs, cm))
        dep = run_classic(cm, x, b, library, max_instructions, name=str(model) if not is_estimator(model) else cm.name)
        _battery(dep.report, b, duty, battery, sleep_current, cold)
        return RunReport(dep.report, list(dep.outputs), b)
    if library is not None:
        raise McusimError("--library is for classic ML models (.skops, .onnx); a .tflite model takes --path/--kernels")
    graph, name = (_graph, str(model)) if _graph is not None else _model(model)
    kernels = kernels or default_kernels(path, b)
    check_kernels(path, kernels)
    dep = run_model(name, path, b, kernels, graph=graph, inputs=_inputs(graph, inputs),
                    lut_activations=lut_activations, winograd=winograd, tflm_dir=tflm_dir,
                    max_instructions=max_instructions, oversize=True)
    _battery(dep.report, b, duty, battery, sleep_current, cold)
    if fe_spec is not None:
        from .dsp.run import run_frontend

        _add_frontend(dep.report, fe_spec, run_frontend(fe_spec, b, max_instructions=max_instructions))
    return RunReport(dep.report, list(dep.outputs), b)


def _add_frontend(report: dict[str, Any], spec: Any, fe: dict[str, Any]) -> None:
    """A network's run ``report`` with the front-end's (``fe``, of ``spec``) cost per inference:
    ``frontend`` and ``end_to_end`` (mcusim.dsp.run.end_to_end)."""
    from .dsp.run import end_to_end, frames_per_inference

    report["frontend"] = fe
    report["end_to_end"] = end_to_end(report, fe, frames_per_inference(spec, report["input_tensors"][0]["shape"]),
                                      spec.new_frames_per_inference)


def audio_frontend(spec: str | Path, *, board: BoardLike = DEFAULT_BOARD, input: str | Path | None = None,
                   place: str | None = None, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS) -> FrontendReport:
    """One frame of the MFCC / log-mel front-end of ``spec`` (a TOML file: mcusim.dsp.spec) on
    ``board``, through CMSIS-DSP built for its core: cycles per frame, real-time factor, flash
    (tables, code), RAM (buffers, stack), energy, and the features against the host's
    ``cmsisdsp`` (``mcusim frontend``). ``input``: a .wav or .npy whose first frame is used
    (default: a generated test tone). (Not ``mcusim.frontend``: that name is the model reader's
    package.)"""
    from .dsp.run import run_frontend
    from .dsp.spec import load_spec

    s = load_spec(spec)
    rep = run_frontend(s, _board(board, place), input, max_instructions)
    return FrontendReport(rep, np.asarray(rep["features"]))


def compare(model: ModelLike, *, paths: str | Sequence[str] | None = None, kernels: str | None = None,
            board: BoardLike = DEFAULT_BOARD, inputs: InputsLike = None, tflm_dir: str | Path | None = None,
            place: str | None = None, lut_activations: bool = False, winograd: bool = False,
            duty: float | None = None, battery: float | None = None, sleep_current: float | None = None,
            cold: bool = False, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
            on_column: Callable[[str], None] | None = None, against: Sequence[str] | None = None,
            frontend: str | Path | None = None) -> CompareReport:
    """The stacks side by side (``mcusim compare``): ``paths`` ``"tflm,classic/cmsis-nn"`` or a
    list of ``PATH[/KERNELS]`` (default: tflm/cmsis-nn, classic/cmsis-nn, tinyml/opt,
    classic/opt), ratios against the first. Without a TFLM tree, the default columns that need
    one are listed in ``skipped``; named ones are an error. ``on_column(label)`` is called
    before each column runs (progress).

    A classic ML model (.skops, .onnx: mcusim.classicml): ``paths`` names its libraries (default:
    every library that runs it) and ``inputs`` its samples. ``against``: other models, each
    ``MODEL[:PATH[/KERNELS]]`` (a network's default: tinyml/opt), run on the same board as
    further columns named by file, e.g. a forest against an int8 MLP on the same task.
    ``frontend`` (a front-end spec, as ``run``'s): its cost per inference, measured once on the
    board, is added to every column's (``end_to_end``; ``end_to_end_ratios`` of the sums)."""
    from .classicml.model import is_classic_file
    from .present.report import compare_report
    from .stacks import compare_columns, label, needs_tflm_tree
    from .stacks.tflmtree import TflmTreeMissing, find_tree

    _check_battery(duty, battery, sleep_current, cold)
    b = _board(board, place)
    common = {"board": b, "duty": duty, "battery": battery, "sleep_current": sleep_current, "cold": cold,
              "max_instructions": max_instructions}
    fe_spec = None
    if frontend is not None:
        from .dsp.spec import load_spec

        fe_spec = load_spec(frontend)  # a bad spec fails before anything is built
        if is_classic_file(model) or against:
            raise McusimError("--frontend adds an audio front-end to one network's columns; it does not combine with "
                              "a classic ML model or --against")
    if is_classic_file(model) or against:
        cols: list[tuple[str, RunReport]] = []
        for spec in [str(model), *(against or [])]:
            m, _, stack = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
            name = Path(m).name
            if is_classic_file(m):
                from .classicml.codegen import libraries
                from .classicml.model import load

                libs = (stack or (paths if spec == str(model) and isinstance(paths, str) else "")).split(",")
                for lib in [x for x in libs if x] or list(libraries(load(m))):
                    if on_column is not None:
                        on_column(f"{name} {lib}")
                    cols.append((f"{name} classic-ml/{lib}", run(m, library=lib, inputs=inputs if spec == str(model)
                                                                 else None, **common)))
            else:
                p_, _, k_ = (stack or "tinyml/opt").partition("/")
                if on_column is not None:
                    on_column(f"{name} {p_}/{k_ or 'default'}")
                r = run(m, p_, kernels=k_ or None, tflm_dir=tflm_dir, **common)
                cols.append((f"{name} {label(p_, r.report['kernels'])}", r))
        return CompareReport(compare_report([r.report for _, r in cols], [], [lab for lab, _ in cols]),
                             dict(cols), b)
    graph, name = _model(model)
    arrays = _inputs(graph, inputs)
    if paths is not None and not isinstance(paths, str):
        paths = ",".join(paths)
    columns = compare_columns(paths, kernels, b)
    skipped = []
    if any(needs_tflm_tree(*c) for c in columns):
        try:
            find_tree(tflm_dir, None if name == BYTES_MODEL else Path(name))
        except TflmTreeMissing as e:
            if paths:
                raise  # asked for by name: an error, not an omission
            skipped = [{"column": label(*c), "reason": str(e)} for c in columns if needs_tflm_tree(*c)]
            columns = [c for c in columns if not needs_tflm_tree(*c)]
    runs: dict[str, RunReport] = {}
    for path, flavour in columns:
        if on_column is not None:
            on_column(label(path, flavour))
        runs[label(path, flavour)] = run(name, path, board=b, kernels=flavour, inputs=arrays, tflm_dir=tflm_dir,
                                         lut_activations=lut_activations and path == "classic",
                                         winograd=winograd and path == "classic", duty=duty, battery=battery,
                                         sleep_current=sleep_current, cold=cold, max_instructions=max_instructions,
                                         _graph=graph)
    if fe_spec is not None:
        from .dsp.run import run_frontend

        fe = run_frontend(fe_spec, b, max_instructions=max_instructions)  # the same for every column
        for r in runs.values():
            _add_frontend(r.report, fe_spec, fe)
    return CompareReport(compare_report([r.report for r in runs.values()], skipped), runs, b)


def check(model: ModelLike, path: str | None = None, *, board: BoardLike | None = None, kernels: str | None = None,
          max_flash: int | str | None = None, max_ram: int | str | None = None,
          max_latency_ms: float | str | None = None, max_energy_uj: float | str | None = None,
          baseline: str | Path | None = None, max_growth: str | None = None,
          inputs: InputsLike = None, tflm_dir: str | Path | None = None, place: str | None = None,
          max_instructions: int = DEFAULT_MAX_INSTRUCTIONS, library: str | None = None,
          frontend: str | Path | None = None) -> CheckReport:
    """The CI gate (``mcusim check``): measure ``model`` and compare with the budgets given here
    and in ``[tool.mcusim]`` of pyproject.toml / ``mcusim.toml`` beside the model (these win over
    the files), and with a ``baseline`` report (``max_growth`` ``flash=1%,ram=0,cycles=2%``).
    ``ok`` False when the part is too small, a budget is exceeded or a metric grew past its
    allowance; the exception only for bad input. A classic ML model (.skops, .onnx) runs through
    ``library`` (default: the model's), its baseline the report of the same library.
    ``frontend`` (a front-end spec, as ``run``'s): the budgets and the part's verdict apply to the
    model and its audio front-end together (``end_to_end.total``)."""
    from .analysis.budget import check as check_budgets
    from .analysis.budget import check_json, load_budget_files, normalise_budgets
    from .classicml.model import is_classic_file
    from .stacks import default_kernels

    if frontend is not None and baseline:
        raise McusimError("--baseline compares a model's own figures; it cannot be combined with --frontend "
                          "(gate the model and its front-end with budgets)")
    if is_classic_file(model):  # a classic ML model: budgets on the run per prediction (mcusim.classicml)
        if frontend is not None:
            raise McusimError("--frontend adds an audio front-end to a network (.tflite), not to a classic ML model")
        raw, sources = load_budget_files(Path(model))
        raw.update({k: v for k, v in {"max_flash": max_flash, "max_ram": max_ram, "max_latency_ms": max_latency_ms,
                                      "max_energy_uj": max_energy_uj}.items() if v is not None})
        budgets = normalise_budgets(raw)
        if max_growth and not baseline:
            raise McusimError("--max-growth needs --baseline REPORT.json (the report to compare with)")
        if not budgets and not baseline:
            raise McusimError("no budget given: use --max-flash/--max-ram/--max-latency-ms/--max-energy-uj "
                              "or [tool.mcusim] in pyproject.toml / mcusim.toml beside the model, or --baseline")
        if path is not None:
            raise McusimError("--path is for .tflite models; a classic ML model runs through its library")
        b = _board(board or raw.get("board") or DEFAULT_BOARD, place)
        if baseline:
            from .analysis.baseline import compare as against
            from .analysis.baseline import load_baseline, parse_growth
            from .classicml.codegen import check_library, default_library
            from .classicml.model import load
            from .classicml.run import PATH

            cm = load(model)
            library = library or default_library(cm)
            check_library(cm, library)
            allowances = parse_growth(max_growth)
            base = load_baseline(baseline, PATH, library, b.qualified_name, model)
        r = run(model, board=b, kernels=kernels, inputs=inputs, max_instructions=max_instructions, library=library)
        c = check_budgets(r.report, budgets, b, sources)
        if baseline:
            c.baseline_file = str(baseline)
            c.growth, c.op_growth = against(base, r.report, allowances)
        return CheckReport(check_json(c), c, r)
    if library is not None:
        raise McusimError("--library is for classic ML models (.skops, .onnx); a .tflite model takes --path/--kernels")
    graph, name = _model(model)
    raw, sources = load_budget_files(Path(name)) if name != BYTES_MODEL else ({}, [])
    given = {"max_flash": max_flash, "max_ram": max_ram, "max_latency_ms": max_latency_ms,
             "max_energy_uj": max_energy_uj}
    raw.update({k: v for k, v in given.items() if v is not None})
    budgets = normalise_budgets(raw)
    if max_growth and not baseline:
        raise McusimError("--max-growth needs --baseline REPORT.json (the report to compare with)")
    if not budgets and not baseline:
        raise McusimError("no budget given: use --max-flash/--max-ram/--max-latency-ms/--max-energy-uj "
                          "or [tool.mcusim] in pyproject.toml / mcusim.toml beside the model, or --baseline")
    path = path or raw.get("path")
    if path not in ("tflm", "tinyml", "classic"):
        raise McusimError("check needs --path tflm|tinyml|classic (or path = ... in the budget file)")
    b = _board(board or raw.get("board") or DEFAULT_BOARD, place)
    kernels = kernels or raw.get("kernels") or default_kernels(path, b)
    if baseline:
        from .analysis.baseline import compare as against
        from .analysis.baseline import load_baseline, parse_growth

        allowances = parse_growth(max_growth)
        base = load_baseline(baseline, path, kernels, b.qualified_name, name)
    r = run(name, path, board=b, kernels=kernels, inputs=inputs, tflm_dir=tflm_dir,
            max_instructions=max_instructions, _graph=graph, frontend=frontend)
    c = check_budgets(r.report, budgets, b, sources)
    if baseline:
        c.baseline_file = str(baseline)
        c.growth, c.op_growth = against(base, r.report, allowances)
    return CheckReport(check_json(c), c, r)


def fit(model: str | Path, *, paths: str | Sequence[str] | None = None, kernels: str | None = None,
        boards: str | Sequence[BoardLike] | None = None, tflm_dir: str | Path | None = None, jobs: int = 1,
        progress: Callable[[str], None] | None = None, inputs: str | Path | None = None) -> FitReport:
    """Every board at every operating point the model fits (``mcusim fit``, mcusim.partfit): ``paths``
    the stacks (default tinyml/opt, classic/opt; ``kernels`` their flavour), ``boards`` a list of
    boards (``NAME``: each operating point, ``NAME@OP``, Board objects) or the CLI's
    ``"a,b@op"`` (default: every built-in board). ``progress(message)`` is called as it goes.
    A classic ML model (.skops, .onnx): ``paths`` names its libraries (default: every library
    that runs it), simulated on ``inputs`` (an .npy or .csv of samples, as ``run``'s) or its default
    samples (mcusim.partfit.fit_classic)."""
    from .analysis.partfit import fit as fit_model
    from .analysis.partfit import fit_classic, resolve_boards
    from .classicml.model import is_classic_file

    if paths is not None and not isinstance(paths, str):
        paths = ",".join(paths)
    if paths is None and kernels:
        paths = f"tinyml/{kernels},classic/{kernels}"
    if boards is None or isinstance(boards, str):
        points = resolve_boards(boards)
    else:
        points = [p for spec in boards for p in
                  (resolve_boards(str(spec)) if isinstance(spec, (str, Path)) else [_board(spec)])]
    if is_classic_file(model):
        if kernels:
            raise McusimError("--kernels is a network option; a classic ML model takes --paths LIBRARY,...")
        return FitReport(fit_classic(model, paths, points, progress, samples=inputs))
    if inputs is not None:
        raise McusimError("--input is for a classic ML model's samples (fit simulates a network on its default input)")
    return FitReport(fit_model(model, paths, points, tflm_dir, progress, jobs=jobs))


def sim(firmware: str | Path | bytes, *, board: BoardLike = DEFAULT_BOARD, window: str | None = None,
        max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
        on_output: Callable[[int, bytes], None] | None = None) -> SimReport:
    """Run a bare-metal Cortex-M ELF (a path or its bytes; or a one-file ``.c``/``.S`` program,
    built first) as ``mcusim sim`` does. ``window`` ``BEGIN:END`` times one function, two
    functions or two probe tags. ``on_output(stream, data)`` receives semihosting output as the
    firmware writes it (1 stdout, 2 stderr); the report holds it as well."""
    b = _board(board)
    if isinstance(firmware, (bytes, bytearray, memoryview)):
        with tempfile.TemporaryDirectory(prefix="mcusim-sim-") as d:
            elf_path = Path(d) / "firmware.elf"
            elf_path.write_bytes(bytes(firmware))
            rep = _sim_file(elf_path, b, window, max_instructions, on_output)
        rep.report["firmware"] = BYTES_MODEL
        return rep
    path = Path(firmware)
    if path.is_dir():
        raise McusimError(f"{path}: is a directory, not a firmware file")
    if not path.is_file():
        raise McusimError(f"{path}: no such file")
    return _sim_file(path, b, window, max_instructions, on_output)


def _sim_file(path: Path, b: "Board", window: str | None, max_instructions: int,
              on_output: Callable[[int, bytes], None] | None) -> SimReport:
    from .present.report import sim_report
    from .simulator.elf import Elf
    from .simulator.machine import Machine, check_vector_table, parse_window

    flash = (b.flash_origin, b.flash_origin + b.flash_size)
    if path.suffix in (".c", ".S", ".s"):
        from .build.toolchain import build_elf

        elf = Elf(build_elf([path], b).elf, flash=flash)
    else:
        elf = Elf(path, flash=flash)
    check_vector_table(elf, b)
    spec = parse_window(window, elf) if window else None
    machine = Machine(elf, b, on_output=on_output, window=spec)
    result = machine.run(max_instructions=max_instructions)
    return SimReport(sim_report(path, b, elf, result, machine.window_stats, window))
