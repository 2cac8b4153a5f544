"""A TensorFlow Lite Micro source tree: an external dependency, like an SDK the user points at.

mcusim never carries TFLM or CMSIS-NN sources; it builds them from a tree in upstream's
layout (a ``tflite-micro`` clone whose ``tensorflow/lite/micro/tools/make/downloads/`` holds
the third-party code TFLM's Makefile downloads: CMSIS-NN, CMSIS core, flatbuffers, gemmlowp,
ruy). The tree is found, in this order, from

1. ``--tflm-dir DIR`` on the command line (or the ``tflm_dir`` argument of the API),
2. the environment variable ``MCUSIM_TFLM_DIR``,
3. ``tflm_dir`` in ``mcusim.toml`` beside the model, else in ``[tool.mcusim]`` of the nearest
   ``pyproject.toml`` above the current directory (a relative path is relative to that file).

docs/stacks.md says how to get a tree.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import McusimError

ENV = "MCUSIM_TFLM_DIR"
DOWNLOADS = Path("tensorflow/lite/micro/tools/make/downloads")
HINT = (
    "point mcusim at a TensorFlow Lite Micro tree with --tflm-dir DIR, MCUSIM_TFLM_DIR or tflm_dir in "
    "[tool.mcusim] (get one: git clone https://github.com/tensorflow/tflite-micro && "
    "make -C tflite-micro -f tensorflow/lite/micro/tools/make/Makefile third_party_downloads; see docs/stacks.md)"
)

# Files whose presence makes a directory a usable tree (relative to its root).
_REQUIRED = (
    Path("tensorflow/lite/micro/micro_interpreter.h"),
    Path("tensorflow/lite/micro/micro_mutable_op_resolver.h"),
    Path("tensorflow/lite/micro/kernels/conv.cc"),
    DOWNLOADS / "flatbuffers/include/flatbuffers/flatbuffers.h",
    DOWNLOADS / "gemmlowp/fixedpoint/fixedpoint.h",
)
_REQUIRED_CMSIS_NN = (
    DOWNLOADS / "cmsis_nn/Include/arm_nnfunctions.h",
    Path("tensorflow/lite/micro/kernels/cmsis_nn/conv.cc"),
)


class TflmTreeError(McusimError):
    """No TFLM tree was given, or the one given is not usable."""


class TflmTreeMissing(TflmTreeError):
    """No TFLM tree was given at all (as opposed to a given one that is broken)."""


@dataclass(frozen=True)
class TflmTree:
    root: Path
    origin: str
    """How the tree was found: ``--tflm-dir``, ``MCUSIM_TFLM_DIR``, or the config file."""

    @property
    def downloads(self) -> Path:
        return self.root / DOWNLOADS

    @property
    def cmsis_nn(self) -> Path:
        """CMSIS-NN as TFLM pins it (``downloads/cmsis_nn``)."""
        return self.downloads / "cmsis_nn"

    @property
    def has_cmsis_nn(self) -> bool:
        return all((self.root / p).is_file() for p in _REQUIRED_CMSIS_NN)

    def require_cmsis_nn(self) -> None:
        missing = [str(p) for p in _REQUIRED_CMSIS_NN if not (self.root / p).is_file()]
        if missing:
            raise TflmTreeError(f"TFLM tree {self.root} has no CMSIS-NN (missing {missing[0]}); run TFLM's "
                                "third_party_downloads with OPTIMIZED_KERNEL_DIR=cmsis_nn (docs/stacks.md)")

    def key(self) -> str:
        """Content hash of the tree's sources and headers (part of every build-cache key)."""
        return tree_key(self.root)

    def version(self) -> str:
        """The tree's git commit when it is a clone, else ``unknown`` (its content key still
        identifies it)."""
        return _git_commit(self.root)


# --- how TFLM's own Makefile compiles for Cortex-M -----------------------------------------------
# TARGET=cortex_m_generic, BUILD_TYPE=release, -O2 (the flags of tools/make/Makefile and
# targets/cortex_m_generic_makefile.inc; /work/shared/third_party/README.md lists them for the M4).
# The -mcpu/-mfpu/-mfloat-abi flags are mcusim's per-core flags (toolchain.CORE_FLAGS).
CODEGEN_FLAGS = (
    "-mlittle-endian", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-ffunction-sections",
    "-fdata-sections", "-fmessage-length=0", "-funsigned-char", "-fomit-frame-pointer", "-O2",
)
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
TFLM_DEFINES = (
    "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON", "-DKERNELS_OPTIMIZED_FOR_SPEED", "-DNDEBUG",
    "-DTF_LITE_STRIP_ERROR_STRINGS", "-DTF_LITE_MCU_DEBUG_LOG",
)
CMSIS_NN_DEFINES = ("-DCMSIS_NN", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0")

# core -> (CPU_<x> of TFLM's cortex_m_generic target, the Cortex_DFP device: -D<device>, <device>.h)
CORE_DEVICE: dict[str, tuple[str, str]] = {
    "cortex-m0plus": ("M0plus", "ARMCM0plus"),
    "cortex-m3": ("M3", "ARMCM3"),
    "cortex-m4": ("M4", "ARMCM4"),
    "cortex-m7": ("M7", "ARMCM7"),
    "cortex-m33": ("M33", "ARMCM33"),
}


def device_defines(core: str) -> tuple[str, ...]:
    """TFLM's per-core defines: ``-DCPU_M4=1 -DARMCM4`` and the CMSIS device header ``ARMCM4.h``."""
    try:
        cpu, device = CORE_DEVICE[core]
    except KeyError:
        raise McusimError(f"no TFLM device for core {core!r}; known: {', '.join(CORE_DEVICE)}") from None
    return (f"-DCPU_{cpu}=1", f"-D{device}", f'-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="{device}.h"')


def device_include_dirs(tree: "TflmTree", core: str) -> tuple[Path, ...]:
    device = CORE_DEVICE[core][1]
    return (tree.downloads / "cmsis/Cortex_DFP/Device" / device / "Include",
            tree.downloads / "cmsis/CMSIS/Core/Include")


@dataclass(frozen=True)
class CmsisNnBuild:
    """How to compile CMSIS-NN from a tree for one core, as TFLM's Makefile does."""

    sources: tuple[Path, ...]
    """Every non-float ``.c`` of ``downloads/cmsis_nn/Source`` (TFLM leaves out ``*_f16.c``,
    ``*_f32.c`` and ``arm_nntables_flt.c``: they ``#error`` under ARM_NN_ENABLE_F16/F32=0)."""
    include_dirs: tuple[Path, ...]
    flags: tuple[str, ...]
    """Language, code generation and defines (no ``-mcpu``/``-mfpu``: add the core's own)."""


def cmsis_nn_build(tree: "TflmTree", core: str) -> CmsisNnBuild:
    """CMSIS-NN's sources, include directories and flags for ``core``: the one place both the
    tflm path and the classic path's ``--kernels cmsis-nn`` take them from."""
    tree.require_cmsis_nn()
    src = tree.cmsis_nn / "Source"
    sources = tuple(sorted(p for p in src.rglob("*.c")
                           if not p.name.endswith(("_f16.c", "_f32.c")) and p.name != "arm_nntables_flt.c"))
    incs = (tree.cmsis_nn / "Include", tree.cmsis_nn, tree.downloads / "cmsis", *device_include_dirs(tree, core))
    return CmsisNnBuild(sources, incs, (*C_FLAGS, *CODEGEN_FLAGS, *TFLM_DEFINES, *device_defines(core),
                                        *CMSIS_NN_DEFINES))


def _check(root: Path, origin: str) -> TflmTree:
    if not root.is_dir():
        raise TflmTreeError(f"TFLM tree {root} (from {origin}) is not a directory; {HINT}")
    missing = [str(p) for p in _REQUIRED if not (root / p).is_file()]
    if missing:
        raise TflmTreeError(f"{root} (from {origin}) is not a TensorFlow Lite Micro tree with its downloads: "
                            f"missing {missing[0]}; {HINT}")
    return TflmTree(root.resolve(), origin)


def _config_dir(model: Path | None, cwd: Path | None) -> tuple[Path, str] | None:
    """``tflm_dir`` from mcusim.toml beside the model, else the nearest pyproject.toml."""
    if model is not None:
        beside = Path(model).resolve().parent / "mcusim.toml"
        value = _toml_value(beside, nested=False)
        if value is not None:
            return (beside.parent / value), str(beside)
    here = (cwd or Path.cwd()).resolve()
    for d in (here, *here.parents):
        py = d / "pyproject.toml"
        if py.is_file():
            value = _toml_value(py, nested=True)
            if value is not None:
                return (d / value), f"{py} [tool.mcusim] tflm_dir"
            break
    return None


def _toml_value(path: Path, nested: bool) -> str | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise McusimError(f"{path}: cannot read: {e}") from None
    table = data.get("tool", {}).get("mcusim", {} if nested else data)
    value = table.get("tflm_dir") if isinstance(table, dict) else None
    if value is not None and not isinstance(value, str):
        raise McusimError(f"{path}: tflm_dir must be a path string")
    return os.path.expanduser(value) if value else None


def find_tree(tflm_dir: str | Path | None = None, model: Path | None = None, cwd: Path | None = None) -> TflmTree:
    """The TFLM tree to build from; raises TflmTreeError (one line, with how to get one)."""
    if tflm_dir:
        return _check(Path(os.path.expanduser(str(tflm_dir))), "--tflm-dir")
    env = os.environ.get(ENV)
    if env:
        return _check(Path(os.path.expanduser(env)), ENV)
    found = _config_dir(model, cwd)
    if found is not None:
        return _check(found[0], found[1])
    raise TflmTreeMissing(f"no TensorFlow Lite Micro tree given; {HINT}")


@cache
def tree_key(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.suffix in (".h", ".hpp", ".cc", ".c", ".cpp", ".inc") and p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(b"\0")
            h.update(p.read_bytes())
    return h.hexdigest()[:24]


@cache
def _git_commit(root: Path) -> str:
    if not (root / ".git").exists():
        return "unknown"
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


# --- CMSIS-NN as TFLM builds it ----------------------------------------------------------------
def cmsis_nn_sources(tree: TflmTree) -> list[Path]:
    """The CMSIS-NN C files TFLM compiles (tflm-build/sources-cmsis_nn-lib.txt): every file
    under ``Source/`` except the float ones (``*_f16.c``, ``*_f32.c``, ``arm_nntables_flt.c``),
    which stop with ``#error`` under ``ARM_NN_ENABLE_F16=0 ARM_NN_ENABLE_F32=0``. Sorted by path."""
    tree.require_cmsis_nn()
    return sorted(p for p in (tree.cmsis_nn / "Source").rglob("*.c")
                  if not p.name.endswith(("_f16.c", "_f32.c")) and p.name != "arm_nntables_flt.c")


def cmsis_nn_include_dirs(tree: TflmTree) -> list[Path]:
    """Include directories of CMSIS-NN's sources and of code calling it: ``cmsis_nn/Include``
    (``arm_nnfunctions.h``) and ``cmsis_nn`` itself (TFLM's kernels include
    ``"Include/arm_nnfunctions.h"``)."""
    return [tree.cmsis_nn / "Include", tree.cmsis_nn]


# TFLM's cortex_m_generic target: the CPU_* and ARMCM* device defines per core
# (tensorflow/lite/micro/tools/make/targets/cortex_m_generic_makefile.inc).
_CORE_DEFINES: dict[str, dict[str, str | int]] = {
    "cortex-m0plus": {"CPU_M0PLUS": 1, "ARMCM0plus": 1},
    "cortex-m3": {"CPU_M3": 1, "ARMCM3": 1},
    "cortex-m4": {"CPU_M4": 1, "ARMCM4": 1},
    "cortex-m7": {"CPU_M7": 1, "ARMCM7": 1},
    "cortex-m33": {"CPU_M33": 1, "ARMCM33": 1},
}


def cmsis_nn_defines(core: str) -> dict[str, str | int]:
    """Preprocessor defines TFLM compiles CMSIS-NN with for ``core`` (third_party README, "How a
    minimal build looks"): the float APIs off, ``CMSIS_NN``, ``NDEBUG`` and the core's device
    defines. CMSIS-NN itself picks its DSP / Helium code from the compiler's ``__ARM_FEATURE_DSP``
    and ``__ARM_FEATURE_MVE``, i.e. from ``-mcpu``."""
    return {"ARM_NN_ENABLE_F16": 0, "ARM_NN_ENABLE_F32": 0, "CMSIS_NN": 1, "NDEBUG": 1,
            **_CORE_DEFINES.get(core, {})}
