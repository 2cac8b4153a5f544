"""The sweep spec (TOML) and its cells: models x boards x paths x kernels; a classic ML model
(.skops, .onnx) x boards x its libraries (path ``classic-ml``, the library in ``kernels``)."""

from __future__ import annotations

import glob
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.budget import (
    BUDGET_KEYS,
    normalise_budgets,
)
from ..errors import McusimError
from ..simulator.board import board_names, get_board
from ..classicml.codegen import LIBRARIES, libraries
from ..classicml.model import is_classic_file, load
from .constants import CLASSIC_ML, CMSIS_NN, FLAVOURS, PATHS, SPEC_KEYS



@dataclass(frozen=True)
class Cell:
    """One combination of the sweep. ``data`` is the model's bytes, shipped with the cell so a
    remote worker needs no shared file system."""

    model: str
    """The model file as the spec names it (relative to the spec's directory)."""
    model_hash: str
    board: str
    """``NAME@OP``."""
    path: str
    kernels: str
    data: bytes = field(default=b"", repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        name, _, op = self.board.partition("@")
        return (self.model, self.model_hash, name, op, self.path, self.kernels)

    def label(self) -> str:
        return f"{Path(self.model).name} {self.path}/{self.kernels} {self.board}"


@dataclass
class Spec:
    file: Path
    models: list[Path]
    boards: list[str]
    """Qualified ``NAME@OP`` names."""
    paths: list[str]
    kernels: list[str]
    budgets: dict[str, float] = field(default_factory=dict)
    libraries: list[str] | None = None
    """A classic ML model's code generators (None: every library that runs it)."""

    @property
    def root(self) -> Path:
        return self.file.parent

    def model_key(self, model: Path) -> str:
        return Path(os.path.relpath(model, self.root)).as_posix()

    def cells(self) -> list[Cell]:
        """Every combination, model-major (model, board, path, kernels), each model read once."""
        out = []
        for m in self.models:
            try:
                data = m.read_bytes()
            except OSError as e:
                raise McusimError(f"{self.file}: cannot read model {m}: {e.strerror or e}") from None
            digest = hashlib.sha256(data).hexdigest()
            stacks = [(p, k) for p in self.paths for k in self.kernels]
            if is_classic_file(m):  # a library that does not run the model: an error cell naming why
                stacks = [(CLASSIC_ML, lib) for lib in self.libraries or libraries(load(m))]
            for b in self.boards:
                for p, k in stacks:
                    out.append(Cell(self.model_key(m), digest, b, p, k, data))
        return out


def _string_list(raw: dict[str, Any], key: str, where: Path, default: list[str] | None = None) -> list[str]:
    value = raw.get(key, default)
    if value is None:
        raise McusimError(f"{where}: missing key {key!r} (a list of strings)")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise McusimError(f"{where}: {key} must be a non-empty list of strings, got {value!r}")
    return list(dict.fromkeys(value))


def _expand_boards(names: list[str], where: Path) -> list[str]:
    out: list[str] = []
    for n in names:
        if n in ("*", "all"):
            out += [get_board(b).qualified_name for b in board_names()]
            continue
        base, _, op = n.partition("@")
        try:
            if op == "*":
                b = get_board(base)
                out += [f"{b.name}@{o.name}" for o in b.operating_points]
            else:
                out.append(get_board(n).qualified_name)
        except McusimError as e:
            raise McusimError(f"{where}: {e}") from None
    return list(dict.fromkeys(out))


def _expand_models(patterns: list[str], root: Path, where: Path) -> list[Path]:
    out: list[Path] = []
    for pat in patterns:
        full = pat if os.path.isabs(pat) else str(root / pat)
        if glob.has_magic(pat):
            hits = sorted(Path(h).resolve() for h in glob.glob(full, recursive=True) if Path(h).is_file())
            if not hits:
                raise McusimError(f"{where}: models pattern {pat!r} matches no file (relative to {root})")
            out += hits
        else:
            p = Path(full).resolve()
            if not p.is_file():
                raise McusimError(f"{where}: no such model file {pat!r} (relative to {root})")
            out.append(p)
    return list(dict.fromkeys(out))


def load_spec(path: str | Path) -> Spec:
    """Read and validate a sweep spec; every problem is one McusimError line naming the file."""
    file = Path(path).resolve()
    try:
        with file.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise McusimError(f"{path}: no such sweep spec") from None
    except OSError as e:
        raise McusimError(f"{path}: cannot read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise McusimError(f"{path}: not valid TOML: {e}") from None
    where = Path(path)
    unknown = sorted(set(raw) - set(SPEC_KEYS))
    if unknown:
        raise McusimError(f"{where}: unknown keys {unknown}; a sweep spec has {', '.join(SPEC_KEYS)}")
    models = _expand_models(_string_list(raw, "models", where), file.parent, where)
    boards = _expand_boards(_string_list(raw, "boards", where), where)
    paths = _string_list(raw, "paths", where, list(PATHS))
    kernels = _string_list(raw, "kernels", where, ["opt"])
    for key, values, known in (("paths", paths, PATHS), ("kernels", kernels, (*FLAVOURS, CMSIS_NN))):
        bad = [v for v in values if v not in known]
        if bad:
            raise McusimError(f"{where}: unknown {key} {bad}; use {' and/or '.join(known)}")
    libs = _string_list(raw, "libraries", where) if "libraries" in raw else None
    known_libs = sorted({lib for v in LIBRARIES.values() for lib in v})
    bad = [v for v in libs or [] if v not in known_libs]
    if bad:
        raise McusimError(f"{where}: unknown libraries {bad}; use {' and/or '.join(known_libs)}")
    budgets_raw = raw.get("budgets", {})
    if not isinstance(budgets_raw, dict):
        raise McusimError(f"{where}: budgets must be a table ([budgets] with {', '.join(BUDGET_KEYS)})")
    bad = sorted(set(budgets_raw) - set(BUDGET_KEYS))
    if bad:
        raise McusimError(f"{where}: unknown budget keys {bad}; known: {', '.join(BUDGET_KEYS)}")
    try:
        budgets = normalise_budgets(budgets_raw)
    except McusimError as e:
        raise McusimError(f"{where}: {e}") from None
    return Spec(file, models, boards, paths, kernels, budgets, libs)


def default_db(spec: Spec) -> Path:
    return spec.root / "mcusim-sweep.db"


