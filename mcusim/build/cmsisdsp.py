"""Arm CMSIS-DSP, compiled for the target core from the ``cmsisdsp`` source distribution.

CMSIS-DSP is never part of mcusim. Its C sources come from the source distribution of the
``cmsisdsp`` package on PyPI (the Python package that wraps the same library on the host, so
host results and target results are the same code), pinned by version and SHA-256, fetched
once through PyPI's simple index into the build cache and unpacked there. The CMSIS-Core
headers it includes (``cmsis_compiler.h``) come from the TensorFlow Lite Micro tree mcusim
already builds from (``downloads/cmsis/CMSIS/Core/Include``).

Sources are compiled one function per file (CMSIS-DSP's ``Source/<Group>/arm_*.c``; the
``<Group>.c`` files that include a whole group are never used) with ``-ffunction-sections
-fdata-sections``, so ``--gc-sections`` keeps only what the generated code reaches — of the
shared FFT tables in ``CommonTables.c`` as well.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import ToolchainError
from ..simulator.board import Board
from .toolchain import cache_dir, compile_objects

VERSION = "1.10.3"
SHA256 = "307d32298faa7c58db912851027fce35f886fec7eb1a27c4b309ce1a97f47519"
SIMPLE_INDEX = os.environ.get("MCUSIM_PYPI_SIMPLE", "https://pypi.org/simple")
"""PyPI's simple index (PEP 503); MCUSIM_PYPI_SIMPLE points at a mirror."""

COMPONENT = "cmsis-dsp"
"""Flash component (and kernel-time code) of the CMSIS-DSP objects."""

FLAGS = ("-std=c11", "-O2", "-ffunction-sections", "-fdata-sections", "-fno-unwind-tables",
         "-fno-asynchronous-unwind-tables", "-Wno-unused-variable")
DEFINES: dict[str, str | int] = {"ARM_MATH_LOOPUNROLL": 1, "DISABLEFLOAT16": 1}
"""CMSIS-DSP's default build options for Cortex-M (loop unrolling on, no float16)."""


def source_tree(version: str = VERSION, sha256: str = SHA256) -> Path:
    """The unpacked ``cmsisdsp-<version>`` source tree in the build cache (fetched, checked
    against ``sha256`` and unpacked on first use)."""
    root = cache_dir() / "cmsisdsp" / f"cmsisdsp-{version}"
    if (root / "Include" / "arm_math.h").is_file():
        return root
    archive = _fetch(version, sha256)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".cmsisdsp-{version}-", dir=root.parent))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        try:
            os.replace(tmp / f"cmsisdsp-{version}", root)
        except OSError:
            if not (root / "Include" / "arm_math.h").is_file():  # not another process's identical copy
                raise
    except (OSError, tarfile.TarError) as e:
        raise ToolchainError(f"cannot unpack the cmsisdsp {version} source distribution: {e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _fetch(version: str, sha256: str) -> Path:
    archive = cache_dir() / "cmsisdsp" / f"cmsisdsp-{version}.tar.gz"
    if archive.is_file() and hashlib.sha256(archive.read_bytes()).hexdigest() == sha256:
        return archive
    index = f"{SIMPLE_INDEX.rstrip('/')}/cmsisdsp/"
    try:
        page = urllib.request.urlopen(index, timeout=60).read().decode()
        links = re.findall(rf'href="([^"#]*cmsisdsp-{re.escape(version)}\.tar\.gz)[^"]*"', page)
        if not links:
            raise ToolchainError(f"{index} lists no cmsisdsp-{version}.tar.gz")
        data = urllib.request.urlopen(urllib.request.urljoin(index, links[0]), timeout=120).read()
    except (urllib.error.URLError, OSError) as e:
        raise ToolchainError(f"cannot download the cmsisdsp {version} source distribution from {index}: "
                             f"{getattr(e, 'reason', e)}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ToolchainError(f"cmsisdsp-{version}.tar.gz from {index} has SHA-256 {digest}, expected {sha256}")
    from ..fileio import write_atomic

    return write_atomic(archive, data, public=False)


def core_include(tflm_root: Path) -> Path:
    """CMSIS-Core's headers in a TensorFlow Lite Micro tree (``TflmTree.root``)."""
    return tflm_root / "tensorflow/lite/micro/tools/make/downloads/cmsis/CMSIS/Core/Include"


def include_dirs(core_include: Path, root: Path | None = None) -> list[Path]:
    """CMSIS-DSP's include directories plus the CMSIS-Core ones (``core_include``: see
    :func:`core_include`)."""
    root = root or source_tree()
    return [root / "Include", root / "PrivateInclude", core_include]


def sources(functions: list[str], root: Path | None = None) -> list[Path]:
    """The source file of each CMSIS-DSP function (``arm_mfcc_f32`` ->
    ``Source/TransformFunctions/arm_mfcc_f32.c``); the tables file for ``CommonTables``."""
    root = root or source_tree()
    found = {p.stem: p for p in (root / "Source").glob("*/*.c")}
    missing = [f for f in functions if f not in found]
    if missing:
        raise ToolchainError(f"cmsisdsp {VERSION} has no source for {', '.join(missing)}")
    return [found[f] for f in functions]


def objects(functions: list[str], board: Board, core_include: Path) -> list[tuple[Path, Path]]:
    """(object, source) of each named CMSIS-DSP source, compiled for ``board``'s core (cached by
    the pinned version's content)."""
    root = source_tree()
    return compile_objects(sources(functions, root), board, FLAGS, include_dirs(core_include, root), DEFINES,
                           f"cmsisdsp:{VERSION}:{SHA256}")
