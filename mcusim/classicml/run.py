"""Build a classic ML model's firmware, run it on the samples, read the predictions back and
compare them with the host reference; the run report of networks, per prediction.

The firmware's invoke window covers all N predictions, one OP probe window each
(codegen.APP); ``cycles``, ``instructions``, latency and energy are the window's totals
divided by N (the mean cost of one prediction), with each sample's own cycles in
``prediction_cycles``. A prediction that differs from the reference is reported exactly
(sample, features, MCU and reference class) in ``prediction_mismatches``; never hidden. A
regressor's prediction is a float: it agrees when it equals the reference rounded to float32,
and ``max_abs_error`` gives the largest difference from the reference over the samples."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from ..build.toolchain import cache_dir
from ..frontend.graph import Graph, Tensor
from ..simulator.board import Board
from ..simulator.machine import DEFAULT_MAX_INSTRUCTIONS
from ..stacks.deploy import (
    TAG_OP_BEGIN,
    TAG_OP_END,
    DeployResult,
    Firmware,
    run_firmware,
)
from .codegen import check_library, default_library, generate
from .model import ClassicModel

PATH = "classic-ml"
DESCRIPTIONS = {"emlearn": "emlearn's generated C (inline trees, float features)",
                "cmsis-dsp": "Arm CMSIS-DSP {v} compiled for the core",
                "mcusim": "mcusim's own generated C (trees: exact float32 thresholds, soft vote or mean; linear: "
                          "w.x + b; SVC: one-vs-one over shared kernel values)"}


def _tensor(i: int, name: str, shape: tuple[int, ...], dtype: str) -> Tensor:
    return Tensor(i, name, shape, dtype, np.zeros(0, np.float32), np.zeros(0, np.int64), 0, None, 0)


def _io_graph(model: ClassicModel, n: int) -> Graph:
    """A graph with no operators that only names the firmware's input and output buffers."""
    out = "FLOAT32" if model.regression else "INT32"
    return Graph([_tensor(0, "samples", (n, model.n_features), "FLOAT32"), _tensor(1, "predictions", (n,), out)],
                 [], (0,), (1,), model.key, 3, model.name)


def firmware(model: ClassicModel, library: str, board: Board, n: int) -> Firmware:
    from ..build import cmsisdsp
    from ..stacks.runner import _generator_key

    key = hashlib.sha256(model.key + _generator_key() + f"{library}/{board.qualified_name}/{n}".encode()).hexdigest()[:20]
    workdir = cache_dir() / "generated" / f"{PATH}-{key}"
    workdir.mkdir(parents=True, exist_ok=True)
    sources, funcs = generate(model, library, n, workdir)
    include_dirs: list[Path] = []
    libraries = {}
    if library == "emlearn":
        import emlearn

        include_dirs.append(Path(emlearn.includedir))
    if funcs:
        from ..stacks.tflmtree import find_tree

        core = cmsisdsp.core_include(find_tree(None).root)
        include_dirs += cmsisdsp.include_dirs(core)
        libraries[cmsisdsp.COMPONENT] = cmsisdsp.objects(funcs, board, core)
    return Firmware(path=PATH, kernels=library, board=board, sources=sources, include_dirs=include_dirs,
                    input_symbols=["mcusim_samples"], output_symbols=["mcusim_predictions"], libraries=libraries,
                    mcusim_kernels=False, kernel_components=("model",),
                    archives={_libm(board): {}} if funcs or model.kind == "svm" else {})


def _libm(board: Board) -> Path:
    """newlib's libm of the board's multilib (CMSIS-DSP and mcusim's RBF SVC call expf, logf)."""
    import subprocess

    from ..build.toolchain import GCC, core_flags

    out = subprocess.run([GCC, *core_flags(board), "-print-file-name=libm.a"], capture_output=True, text=True,
                         check=False).stdout.strip()
    return Path(out)


def run_classic(model: ClassicModel, x: np.ndarray, board: Board, library: str | None = None,
                max_instructions: int = DEFAULT_MAX_INSTRUCTIONS, name: str = "") -> DeployResult:
    from ..analysis.oversize import part_fit
    from ..build import cmsisdsp

    library = library or default_library(model)
    check_library(model, library)
    n = len(x)
    dep = run_firmware(firmware(model, library, board, n), _io_graph(model, n), [x], max_instructions=max_instructions)
    rep, res = dep.report, dep.result
    want = model.predict(x)
    if model.regression:
        got = dep.outputs[0].astype(np.float32)
        want = np.asarray(want, np.float64)
        error = np.abs(got.astype(np.float64) - want)
        differ = np.flatnonzero(got != want.astype(np.float32))
    else:
        got = model.classes[dep.outputs[0].astype(np.int64)]
        differ = np.flatnonzero(got != want)
    mismatches = [{"sample": int(i), "features": x[i].tolist(), "mcu": _py(got[i]), "reference": _py(want[i])}
                  for i in differ]
    per = []
    for i in range(n):
        a = next(k for k, p in enumerate(res.probes) if p[1] == (TAG_OP_BEGIN | i))
        b = next(k for k, p in enumerate(res.probes) if p[1] == (TAG_OP_END | i))
        per.append(res.probes[b][0] - res.probes[a][0])
    total = rep["cycles"]
    cyc = total / n
    rep.update({
        "model": name or model.name,
        "estimator": model.name,
        "model_kind": model.kind,
        "source": model.source,
        "n_features": model.n_features,
        "classes": [_py(c) for c in model.classes],
        "predictions": n,
        "cycles_total": total,
        "cycles": round(cyc),
        "instructions": round(rep["instructions"] / n),
        "latency_ms": board.latency_ms(cyc),
        "energy_uj": board.energy_uj(cyc),
        "prediction_cycles": per,
        "outputs": [[_py(c) for c in got]],
        "reference": model.reference,
        "reference_match": not mismatches,
        "prediction_mismatches": mismatches,
        **({"max_abs_error": float(error.max())} if model.regression else {}),
        "stack": {"label": f"{PATH}/{library}",
                  "description": DESCRIPTIONS[library].format(v=cmsisdsp.VERSION),
                  "real": library != "mcusim"},
    })
    rep["fit"] = part_fit(rep, [(s.addr, s.size) for s in dep.elf.ram_sections()], board, board)
    return DeployResult([got], rep, res, dep.elf)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


__all__ = ["PATH", "run_classic"]
