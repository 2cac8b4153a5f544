"""One model on one path: load, validate, build, run, check the outputs against the numpy
reference, report. What the CLI's ``run``, ``compare``, ``check`` and ``fit`` share."""

from __future__ import annotations

import hashlib
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

from ..build.toolchain import cache_dir
from ..errors import McusimError, ModelError
from ..frontend.graph import Graph
from ..frontend.graphinfo import default_inputs
from ..frontend.tflite import load_model
from ..simulator.board import Board
from ..simulator.machine import DEFAULT_MAX_INSTRUCTIONS
from . import check_kernels, default_kernels, describe, is_real, label
from .deploy import CMSIS_NN, DeployResult, Firmware, run_firmware
from .tflmtables import tree_for
from .tflmtree import find_tree

PATHS = ("tinyml", "classic", "tflm")


def load_inputs(graph: Graph, input_file: str | Path | None) -> list[np.ndarray]:
    """The arrays of ``input_file``, one per input tensor in the model's order, checked against
    the model's inputs (or, for None, the documented default pattern). An ``.npy`` holds the one
    input of a one-input model. An ``.npz`` holds one array per input: keyed ``arr_0`` ..
    ``arr_N-1`` in the model's input order (what ``np.savez(a, b)`` writes), or keyed by the
    input tensors' names (``np.savez(**{name: a, ...})``)."""
    if input_file is None:
        return default_inputs(graph)
    what = str(input_file)
    try:
        with open(input_file, "rb") as f:
            magic = f.read(6)
        if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):
            raise McusimError(f"{what}: not an .npy or .npz file (np.save / np.savez write them)")
        data = np.load(input_file, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return check_inputs(graph, [data], [what], source=what)
        with data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise McusimError(f"{what}: cannot read as .npy or .npz: {e}") from None
    names = [t.name for t in graph.input_tensors()]
    if set(arrays) <= set(names):
        missing = [n for n in names if n not in arrays]
        if missing:
            raise McusimError(f"{what}: no array for input tensor {missing[0]!r} (the model's inputs: "
                              f"{_describe(graph)})")
        keys = names
    elif set(arrays) == {f"arr_{k}" for k in range(len(arrays))}:
        keys = [f"arr_{k}" for k in range(len(arrays))]
    else:
        unknown = sorted(set(arrays) - set(names))
        raise McusimError(f"{what}: array {unknown[0]!r}: the keys must be arr_0, arr_1, ... (the model's input order) "
                          f"or the input tensors' names (the model's inputs: {_describe(graph)})")
    return check_inputs(graph, [arrays[k] for k in keys], [f"{what}[{k}]" for k in keys], source=what)


def _describe(graph: Graph) -> str:
    """The model's inputs as a user names them: ``'name' 1x6 INT8, ...``."""
    return ", ".join(f"{t.name!r} {'x'.join(map(str, t.shape))} {t.dtype}" for t in graph.input_tensors())


def check_inputs(graph: Graph, arrays: list[np.ndarray], names: list[str] | None = None,
                 source: str = "inputs") -> list[np.ndarray]:
    """``arrays`` (one per input tensor, in order) checked against the model's input tensors:
    the same dtype and number of elements; returned in the tensors' shapes. ``names``: what
    each array is called in a message; ``source``: where they came from."""
    tensors = graph.input_tensors()
    if len(arrays) != len(tensors):
        raise ModelError(f"{source}: {len(arrays)} input array(s) given; the model has {len(tensors)} "
                         f"input(s): {_describe(graph)}")
    out = []
    for k, (x, t) in enumerate(zip(arrays, tensors)):
        what = names[k] if names else f"input {k} ({t.name})"
        x = np.asarray(x)
        if x.dtype != np.dtype(t.numpy_dtype):
            raise McusimError(f"{what}: dtype {x.dtype}, the model's input {k} {t.name!r} is {t.dtype}")
        if x.size != t.size:
            raise McusimError(f"{what}: shape {x.shape}, the model's input {k} {t.name!r} is {t.shape}")
        out.append(x.reshape(t.shape))
    return out


@cache
def _generator_key() -> bytes:
    """Hash of mcusim's own Python sources: generated sources depend on the generator's version,
    so two versions of mcusim sharing a cache never write into each other's directories."""
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.parent.rglob("*.py")):
        h.update(f.read_bytes())
    return h.digest()


def workdir_for(graph: Graph, path: str, kernels: str, board: Board, variant: str = "") -> Path:
    """A per-(model, path, flavour, board, variant, mcusim version) directory for generated sources."""
    key = hashlib.sha256(graph.raw + _generator_key()
                         + f"{path}/{kernels}/{board.qualified_name}/{variant}".encode()).hexdigest()[:20]
    d = cache_dir() / "generated" / f"{path}-{key}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def build_path(graph: Graph, path: str, board: Board, kernels: str, lut_activations: bool = False,
               winograd: bool = False, tflm_dir: str | Path | None = None, model: str | Path | None = None) -> Firmware:
    """The firmware of one path. Classic-only options: ``lut_activations``, pointwise
    activations, and x * sigmoid(x) fused, become 256-entry tables built on the host;
    ``winograd``, 3x3 stride-1 convolutions run by Winograd F(2x2,3x3) (mcu_conv_wino_s8) with
    the filter transformed on the host, fully connected layers by Winograd's inner-product
    identity (mcu_fully_connected_wino_s8) with pair sums computed on the host. ``tflm_dir``: the
    TFLM tree of the tflm path and of ``kernels`` ``cmsis-nn`` (else MCUSIM_TFLM_DIR or the config
    beside ``model``; mcusim.tflmtree.find_tree)."""
    if path == "tflm":
        from .tflm import check_flavour

        check_flavour(kernels)  # opt: say what to use instead
    check_kernels(path, kernels)
    if path == "tflm":
        from .tflm import build_tflm

        if lut_activations or winograd:
            raise McusimError("--lut-activations and --winograd are classic-path options; tflm runs TFLM's kernels")
        tree = find_tree(tflm_dir, Path(model) if model else None)
        return build_tflm(graph, board, tree, kernels, workdir_for(graph, path, kernels, board))
    if lut_activations and path != "classic":
        raise McusimError("--lut-activations is a classic-path option (an interpreter runs the ops it registers)")
    if winograd and path != "classic":
        raise McusimError("--winograd is a classic-path option (the interpreter's CONV_2D reads the int8 "
                          "filter from the flatbuffer)")
    variant = "+".join(v for v, on in (("lut", lut_activations), ("wino", winograd)) if on)
    workdir = workdir_for(graph, path, kernels, board, variant)
    if path == "tinyml":
        from .tinyml import build_tinyml

        return build_tinyml(graph, board, kernels=kernels, workdir=workdir,
                            tflm_tree=tree_for(graph, tflm_dir, Path(model) if model else None))
    if path == "classic":
        from .classic import build_classic

        where = Path(model) if model else None
        tree = find_tree(tflm_dir, where) if kernels == CMSIS_NN else tree_for(graph, tflm_dir, where)
        return build_classic(graph, board, kernels=kernels, workdir=workdir, lut_activations=lut_activations,
                             winograd=winograd, tflm_tree=tree)
    raise McusimError(f"unknown path {path!r}; use tflm, tinyml or classic")


def run_model(model: str | Path, path: str, board: Board, kernels: str | None = None,
              input_file: str | None = None, graph: Graph | None = None,
              track_saturation: bool = False, lut_activations: bool = False,
              winograd: bool = False, tflm_dir: str | Path | None = None,
              inputs: list[np.ndarray] | None = None,
              max_instructions: int = DEFAULT_MAX_INSTRUCTIONS, oversize: bool = False) -> DeployResult:
    """Build and run ``model`` on ``path``; the outputs are checked against the numpy
    reference (a mismatch is a bug in mcusim, reported as an error, never as a result).
    ``kernels`` None: the path's default (:func:`default_kernels`). ``inputs``: arrays, one per
    input tensor (instead of ``input_file``). ``max_instructions``: the run's instruction budget.
    An image larger than the part raises DoesNotFit, or with ``oversize`` is measured on an
    enlarged memory map (mcusim.oversize); either way the report's ``fit`` says what it needs
    against what the part has."""
    from ..analysis.oversize import measure, part_fit
    from ..frontend.reference import run_graph

    kernels = kernels or default_kernels(path, board)
    graph = graph or load_model(model)
    inputs = check_inputs(graph, inputs) if inputs is not None else load_inputs(graph, input_file)

    def run_on(b: Board) -> DeployResult:
        fw = build_path(graph, path, b, kernels, lut_activations, winograd, tflm_dir, model)
        return run_firmware(fw, graph, inputs, max_instructions=max_instructions, track_saturation=track_saturation)

    result, measured = measure(run_on, board) if oversize else (run_on(board), board)
    expected = run_graph(graph, inputs)
    for i, (got, want) in enumerate(zip(result.outputs, expected)):
        if not np.array_equal(got, np.asarray(want).reshape(got.shape)):
            raise McusimError(
                f"{path}/{kernels} output {i} differs from the int8 reference "
                f"({int(np.sum(got != np.asarray(want).reshape(got.shape)))} of {got.size} values): an mcusim bug"
            )
    result.report["model"] = str(model)
    result.report["stack"] = {"label": label(path, kernels), "description": describe(path, kernels, board.dsp),
                              "real": is_real(path, kernels)}
    result.report["reference_match"] = True
    result.report["fit"] = part_fit(result.report, [(s.addr, s.size) for s in result.elf.ram_sections()],
                                    board, measured)
    return result
