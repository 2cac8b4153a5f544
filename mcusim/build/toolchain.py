"""Driving arm-none-eabi-gcc: per-core flags, startup code, a board's memory map, a build cache.

``build_elf`` compiles and links C sources for a board into an ELF whose vector table sits at
the start of flash. Builds are cached by a content hash of everything that decides the output
(sources, headers in the include directories, flags, memory map, compiler version), so asking
for the same image twice compiles once. Cache entries are written to a temporary directory and
renamed into place, so concurrent mcusim processes never see a half-written image.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no cross-process lock, concurrent builds may compile twice
    fcntl = None  # type: ignore[assignment]

from ..errors import DoesNotFit, ToolchainError
from ..fileio import replacing
from ..simulator.board import PLACEABLE, Board

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels"
STARTUP = KERNELS / "startup" / "startup.c"
LINKER_SCRIPT = KERNELS / "startup" / "cortex_m.ld"
MCUSIM_INCLUDE = KERNELS / "include"

GCC = "arm-none-eabi-gcc"
GXX = "arm-none-eabi-g++"
AR = "arm-none-eabi-ar"
OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
"""GNU ld's line for each memory region an image overflows."""
INSTALL_HINT = (
    "arm-none-eabi-gcc not found; install it with "
    "`apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi` (see README)"
)

# Compiler flags per core key (the ``core`` field of a board profile).
CORE_FLAGS: dict[str, tuple[str, ...]] = {
    "cortex-m0plus": ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m3": ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m4": ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
    "cortex-m33": ("-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
}

COMMON_FLAGS = (
    "-std=c11",
    "-ffunction-sections",
    "-fdata-sections",
    "-fno-common",
    "-Wall",
    "-Wextra",
    "-Werror=implicit-function-declaration",
    "-g",
)
LINK_FLAGS = (
    "-nostartfiles",
    "--specs=nano.specs",
    "--specs=nosys.specs",
    "-Wl,--gc-sections",
)


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    map_file: Path
    cached: bool
    objects: dict[str, Path]
    """Object file path as the linker map names it -> the C/assembly source it came from."""


def cache_dir() -> Path:
    """Where builds are kept: ``$MCUSIM_CACHE``, else ``~/.cache/mcusim``."""
    env = os.environ.get("MCUSIM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "mcusim"


@cache
def compiler_version() -> str:
    if shutil.which(GCC) is None:
        raise ToolchainError(INSTALL_HINT)
    out = subprocess.run([GCC, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def core_flags(board: Board) -> tuple[str, ...]:
    """arm-none-eabi-gcc target flags for the board's core, FPU and DSP extension."""
    try:
        flags = CORE_FLAGS[board.core]
    except KeyError:
        raise ToolchainError(f"no compiler flags for core {board.core!r}; known: {', '.join(CORE_FLAGS)}") from None
    cpu = flags[0]
    if board.core == "cortex-m33":
        cpu += ("" if board.dsp else "+nodsp") + ("" if board.fpu else "+nofp")
    if not board.fpu:
        return (cpu, "-mthumb", "-mfloat-abi=soft")
    fpu = {"cortex-m7": {"sp": "-mfpu=fpv5-sp-d16", "dp": "-mfpu=fpv5-d16"}}.get(board.core, {}).get(board.fpu_kind)
    return (cpu, *flags[1:-1], fpu or flags[-1])


def placements(board: Board) -> list[dict[str, str]]:
    """Every assignment of stack, arena, data and weights to regions that the board's placement
    allows, in order of preference (a placement entry may list several regions: the first one
    the image fits wins)."""
    keys = list(PLACEABLE)
    choices = [board.placement[k] for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*choices)]


def memory_ld(board: Board, placement: dict[str, str] | None = None) -> str:
    """The MEMORY block of ``board`` for ``cortex_m.ld``: every region of the chip, and the
    aliases STACK_RAM, DATA_RAM, ARENA_RAM and WEIGHTS_MEM naming where ``placement`` (default:
    the board's first choice of each) puts the stack, static data, the tensor arena and the
    weights."""
    placement = placement or placements(board)[0]
    fl = board.region("flash")
    lines = ["MEMORY\n{", f"    FLASH (rx) : ORIGIN = 0x{fl.origin:08X}, LENGTH = {fl.size}"]
    lines += [f"    {r.name.upper()} (rwx) : ORIGIN = 0x{r.origin:08X}, LENGTH = {r.size}" for r in board.ram_regions]
    lines.append("}")
    for what, alias in (("stack", "STACK_RAM"), ("data", "DATA_RAM"), ("arena", "ARENA_RAM"),
                        ("weights", "WEIGHTS_MEM")):
        lines.append(f'REGION_ALIAS("{alias}", {placement[what].upper()});')
    return "\n".join(lines) + "\n"


def kernel_tree_key() -> str:
    """Hash of every C and header file under kernels/: the optimised kernels include the
    reference ones and internal headers by relative path, which no -I directory shows, so any
    change under kernels/ invalidates the cached objects (hashing ~100 small files is cheap)."""
    files = sorted(p for ext in ("*.c", "*.h") for p in KERNELS.rglob(ext))
    return _hash(*(f"{p.relative_to(KERNELS)}:{_hash(p.read_bytes())}" for p in files))


def _is_library(src: Path) -> bool:
    """A kernel-library source or the start-up code (see build_elf)."""
    return src == STARTUP or src.is_relative_to(KERNELS / "src")


def _header_files(include_dirs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for d in include_dirs:
        files.extend(sorted(p for p in d.rglob("*.h") if p.is_file()))
    return files


def _hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class CompileJob:
    """One source with its complete flags; ``headers_key`` stands for every header it may include."""

    src: Path
    flags: tuple[str, ...]
    headers_key: str
    cxx: bool = False
    """C++ (arm-none-eabi-g++) rather than C."""
    cwd: Path | None = None
    """Run the compiler here (``src`` and ``-I`` may then be relative, as in TFLM's own build)."""


def _compile(src: Path, cmd_flags: list[str] | tuple[str, ...], headers_key: str, core: str,
             compiler: str = GCC, cwd: Path | None = None) -> Path:
    """Compile one source to an object in the object cache (keyed by its content, the flags
    and every header it could include); return the object's path."""
    text = (cwd / src if cwd else src).read_bytes()
    key = _hash(compiler_version(), *((compiler,) if compiler != GCC else ()), " ".join(cmd_flags), headers_key,
                src.name, text)
    obj = cache_dir() / "objects" / f"{src.stem}-{key}.o"
    if obj.is_file():
        return obj
    with _compile_lock(key):
        if obj.is_file():  # another process (test worker, sweep worker) compiled it meanwhile
            return obj
        with replacing(obj) as tmp:
            proc = subprocess.run([compiler, *cmd_flags, "-c", str(src), "-o", str(tmp)], capture_output=True,
                                  text=True, check=False, cwd=cwd)
            if proc.returncode != 0:
                lines = proc.stderr.strip().splitlines()
                errors = [ln for ln in lines if "error:" in ln]
                first = (errors or lines or ["unknown error"])[0]
                raise ToolchainError(f"build failed for {core}: {first.strip()}")
    return obj


@contextmanager
def _compile_lock(key: str) -> Iterator[None]:
    """Hold one of 256 lock files of the object cache (chosen by the object's key) while
    compiling, so processes building the same library at once (pytest-xdist workers, sweep
    workers, ``fit --jobs``) compile each object once: the second finds it done."""
    if fcntl is None:
        yield
        return
    locks = cache_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    fd = os.open(locks / f"{key[:2]}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def compile_jobs(jobs: list[CompileJob], core: str, workers: int = 2) -> list[Path]:
    """Compile ``jobs`` (each cached by content) with ``workers`` parallel compilers."""
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            return list(pool.map(lambda j: _compile(j.src, j.flags, j.headers_key, core, GXX if j.cxx else GCC, j.cwd),
                                 jobs))
    except OSError as e:
        raise ToolchainError(f"cannot write to build cache {cache_dir()}: {e.strerror}") from None


def make_archive(objects: list[Path], name: str) -> Path:
    """A static library of ``objects`` in the cache (keyed by their content-derived names), so
    the linker takes only the members something references."""
    key = _hash(*(o.name for o in objects))
    lib = cache_dir() / "archives" / f"lib{name}-{key}.a"
    if lib.is_file():
        return lib
    with replacing(lib) as tmp:
        tmp.unlink()  # ar appends to an existing file: start from none
        proc = subprocess.run([AR, "rcs", str(tmp), *map(str, objects)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ToolchainError(f"{AR} failed: {proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else '?'}")
    return lib


def compile_objects(sources: list[Path], board: Board, flags: tuple[str, ...], include_dirs: list[Path],
                    defines: dict[str, str | int], content_key: str) -> list[tuple[Path, Path]]:
    """Compile ``sources`` for ``board``'s core with ``flags`` (besides the core's own) into the
    object cache; returns (object, source) pairs for :func:`build_elf`'s ``objects``.
    ``content_key`` identifies every header the sources can include (e.g. a source tree's
    content hash), so the cache never returns an object built from other headers."""
    defs = [f"-D{k}={v}" for k, v in sorted(defines.items())]
    cmd_flags = [*core_flags(board), *flags, *defs, *(f"-I{i}" for i in include_dirs)]
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=min(len(sources), os.cpu_count() or 1) or 1) as pool:
            objs = list(pool.map(lambda src: _compile(src, cmd_flags, content_key, board.core), sources))
    except OSError as e:
        raise ToolchainError(f"cannot write to build cache {cache_dir()}: {e.strerror}") from None
    return list(zip(objs, sources))


def build_elf(
    sources: list[Path] | tuple[Path, ...],
    board: Board,
    include_dirs: list[Path] | tuple[Path, ...] = (),
    defines: dict[str, str | int] | None = None,
    opt: str = "-O2",
    extra_flags: tuple[str, ...] = (),
    startup: bool = True,
    objects: dict[Path, Path] | list[tuple[Path, Path]] | None = None,
    archives: dict[Path, dict[str, Path]] | None = None,
    cxx: bool = False,
) -> BuildResult:
    """Compile and link ``sources`` for ``board``; return the (possibly cached) ELF and map file.

    Each source is compiled to its own object (cached by content, so a kernel library shared
    by many models compiles once), then linked with kernels/startup/cortex_m.ld and the
    board's memory map. ``startup`` adds kernels/startup/startup.c (vector table, reset, FPU
    enable, ``bkpt`` stop). ``objects`` (object -> its source) are linked as they are;
    ``archives`` (library -> {member name: source}) after them, so only referenced members
    land in the image; ``cxx`` links with arm-none-eabi-g++ (libstdc++/libsupc++).
    Pairs (object, source) are accepted for ``objects`` too (:func:`compile_objects`).
    Raises ToolchainError with the compiler's first error line.
    """
    flags = core_flags(board)
    srcs = [Path(s).resolve() for s in sources]
    if startup:
        srcs.insert(0, STARTUP)
    incs = [MCUSIM_INCLUDE] + [Path(i).resolve() for i in include_dirs]
    defs = [f"-D{k}={v}" for k, v in sorted((defines or {}).items())]
    cmd_flags = [*flags, *COMMON_FLAGS, opt, *extra_flags, *defs, *(f"-I{i}" for i in incs)]
    tree_key = kernel_tree_key()
    headers_key = _hash(*(f"{h}:{_hash(h.read_bytes())}" for h in _header_files(incs)), tree_key)
    # The kernel library (kernels/src) and the start-up code include only kernels/include and
    # each other: compiled without the build's other include directories (a model's generated
    # headers), their objects are shared by every image with the same core, flags and defines
    # instead of being compiled again for each model.
    lib_flags = (*flags, *COMMON_FLAGS, opt, *extra_flags, *defs, f"-I{MCUSIM_INCLUDE}")
    lib_key = _hash(*(f"{h}:{_hash(h.read_bytes())}" for h in _header_files([MCUSIM_INCLUDE])), tree_key)
    objs = compile_jobs([CompileJob(src, lib_flags, lib_key) if _is_library(src)
                         else CompileJob(src, tuple(cmd_flags), headers_key) for src in srcs], board.core,
                        workers=os.cpu_count() or 1)
    origins = {str(o): src for o, src in zip(objs, srcs)}
    pairs = objects.items() if isinstance(objects, dict) else (objects or ())
    for o, src in pairs:
        objs.append(Path(o))
        origins[str(o)] = Path(src)
    libs = list(archives or {})
    for lib, members in (archives or {}).items():
        origins.update({f"{lib}({m})": Path(src) for m, src in members.items()})
    driver = GXX if cxx else GCC

    first_error: DoesNotFit | None = None
    for placement in placements(board):
        try:
            elf, map_file, cached = _link(board, flags, objs, libs, driver, memory_ld(board, placement))
        except DoesNotFit as e:
            first_error = first_error or e
            continue
        return BuildResult(elf, map_file, cached=cached, objects=origins)
    assert first_error is not None
    raise first_error


def _link(board: Board, flags: tuple[str, ...], objs: list[Path], libs: list[Path], driver: str,
          mem: str) -> tuple[Path, Path, bool]:
    """Link ``objs`` then ``libs`` with ``mem`` as memory.ld into the image cache; (elf, map, was cached)."""
    key = _hash(compiler_version(), *((driver,) if driver != GCC else ()), " ".join(flags), " ".join(LINK_FLAGS), mem,
                LINKER_SCRIPT.read_bytes(), *(o.name for o in objs), *(lib.name for lib in libs))
    out_dir = cache_dir() / "builds" / key
    elf, map_file = out_dir / "image.elf", out_dir / "image.map"
    if elf.is_file():
        return elf, map_file, True

    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=out_dir.parent))
    except OSError as e:
        raise ToolchainError(f"cannot write to build cache {cache_dir()}: {e.strerror}") from None
    try:
        (tmp / "memory.ld").write_text(mem)
        cmd = [
            driver, *flags, *map(str, objs), *map(str, libs), f"-L{tmp}", f"-T{LINKER_SCRIPT}", *LINK_FLAGS,
            f"-Wl,-Map={tmp / 'image.map'}", "-o", str(tmp / "image.elf"),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            errors = [ln for ln in lines if "error" in ln or "undefined reference" in ln or "overflow" in ln]
            first = (errors or lines or ["unknown error"])[0]
            overflow = [ln for ln in lines if "overflowed by" in ln]
            if overflow:
                over = {m.group(1).lower(): int(m.group(2))
                        for m in (OVERFLOW.search(ln) for ln in overflow) if m}
                raise DoesNotFit(f"the image does not fit {board.name}: "
                                 + "; ".join(ln.split(': ', 1)[-1].strip() for ln in overflow), over)
            raise ToolchainError(f"link failed for {board.name}: {first.strip()}")
        (tmp / "build.log").write_text(" ".join(cmd) + "\n" + proc.stderr)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            # Another process finished the same build first: theirs is identical.
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ToolchainError(f"cannot write to build cache {cache_dir()}: {e.strerror}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return elf, map_file, False
