"""Design-space sweeps: every combination of models x boards x paths x kernel flavours, built
and simulated on a local process pool or a Dask cluster, each finished cell written at once to
an SQLite results database that ``mcusim query`` reads back (tables, CSV, cheapest part,
Pareto fronts, SVG scatter plots).

A sweep spec is TOML, model paths relative to the spec::

    models  = ["../models/*.tflite", "extra/my_model.tflite"]   # files or globs
    boards  = ["stm32f411ce", "stm32l476rg@8mhz", "stm32g071rb"] # NAME, NAME@OP, NAME@*, "*"
    paths   = ["tinyml", "classic"]                             # default: both
    kernels = ["opt", "ref"]                                    # default: ["opt"]; also "cmsis-nn" (classic)
    [budgets]                                                   # optional, keys of budget.py
    max_flash = "64K"
    max_ram = "16K"

A cell's result is ``ok`` (with the full ``mcusim.run/1`` report), ``does_not_fit`` (the image
is larger than the part: a result, not a failure) or ``error`` (any other McusimError, with
its one-line message). Cells are keyed by model file + content hash, board, operating point,
path and kernels, so ``--resume`` skips what a database already holds and a changed model is
measured again.
"""

from __future__ import annotations

import csv
import fnmatch
import glob
import hashlib
import io
import json
import math
import multiprocessing
import os
import signal
import socket
import sqlite3
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

from ..analysis.budget import (
    BUDGET_KEYS,
    Breach,
    normalise_budgets,
    parse_size,
    verdict,
)
from ..errors import DoesNotFit, McusimError
from ..simulator.board import Board, board_names, get_board

PATHS = ("tinyml", "classic")
FLAVOURS = ("ref", "opt")
CMSIS_NN = "cmsis-nn"  # classic path only: a tinyml x cmsis-nn cell ends as an error naming why
SPEC_KEYS = ("models", "boards", "paths", "kernels", "budgets")
OK, DOES_NOT_FIT, ERROR = "ok", "does_not_fit", "error"
HEADROOM_OK = "fits with headroom"
DB_SCHEMA = "mcusim.sweepdb/1"

METRICS: dict[str, str] = {
    # report field -> SQL type; the headline figures kept as columns beside the full report
    "flash_bytes": "INTEGER", "ram_peak_bytes": "INTEGER", "cycles": "INTEGER",
    "instructions": "INTEGER", "latency_ms": "REAL", "energy_uj": "REAL",
    "dispatch_share": "REAL", "dsp_mac_share": "REAL", "kernel_cycles": "INTEGER",
    "startup_cycles": "INTEGER", "startup_ms": "REAL",
}
KEY_COLUMNS = ("model", "model_hash", "board", "op_point", "path", "kernels")
COLUMNS: dict[str, str] = {
    "model": "TEXT", "model_hash": "TEXT", "model_name": "TEXT", "board": "TEXT", "op_point": "TEXT",
    "path": "TEXT", "kernels": "TEXT", "status": "TEXT", "message": "TEXT",
    "core": "TEXT", "clock_hz": "INTEGER", "board_flash": "INTEGER", "board_ram": "INTEGER",
    **METRICS,
    "flash_use": "REAL", "ram_use": "REAL", "verdict": "TEXT", "within_budget": "INTEGER",
    "breaches": "TEXT", "seconds": "REAL", "worker": "TEXT", "finished_at": "TEXT",
}
BYTE_COLUMNS = {"flash_bytes", "ram_peak_bytes", "board_flash", "board_ram"}
PARETO_METRICS = ("flash_bytes", "ram_peak_bytes", "latency_ms", "energy_uj")


class SweepAborted(McusimError):
    """The sweep stopped before every cell ran (a worker died, the cluster went away);
    every finished cell is in the database and ``--resume`` runs the rest."""

    exit_code = 1


# ---------------------------------------------------------------------------------------------
# the spec and its cells


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
            for b in self.boards:
                for p in self.paths:
                    for k in self.kernels:
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
    return Spec(file, models, boards, paths, kernels, budgets)


def default_db(spec: Spec) -> Path:
    return spec.root / "mcusim-sweep.db"


# ---------------------------------------------------------------------------------------------
# running one cell (in a worker)

CellFn = Callable[[Cell], dict[str, Any]]
"""Builds and simulates one cell and returns its ``mcusim.run/1`` report; raises DoesNotFit
when the image does not fit, any McusimError for other problems."""


def run_cell(cell: Cell) -> dict[str, Any]:
    """The real cell function: :func:`mcusim.runner.run_model` on the cell's model bytes."""
    from ..frontend.tflite import parse_model
    from ..stacks.runner import run_model

    graph = parse_model(cell.data) if cell.data else None
    return run_model(cell.model, cell.path, get_board(cell.board), cell.kernels, graph=graph).report


def execute(cell_fn: CellFn, cell: Cell) -> dict[str, Any]:
    """Run ``cell_fn`` on ``cell`` and turn its outcome into data: never raises for a domain
    error, so only infrastructure failures (a dead worker) reach the engine."""
    t0 = time.perf_counter()
    report: dict[str, Any] | None = None
    message = None
    try:
        report = cell_fn(cell)
        status = OK
    except DoesNotFit as e:
        status, message = DOES_NOT_FIT, str(e)
    except McusimError as e:
        status, message = ERROR, str(e)
    except Exception as e:  # noqa: BLE001 - a bug in mcusim is a recorded result of this cell
        status, message = ERROR, f"internal error: {type(e).__name__}: {e}"
    return {"status": status, "message": message, "report": report,
            "seconds": time.perf_counter() - t0, "worker": f"{socket.gethostname()}:{os.getpid()}"}


# ---------------------------------------------------------------------------------------------
# engines: where cells run. Each yields (cell, outcome) as cells finish, in any order.


class Engine(Protocol):
    name: str

    def run(self, cell_fn: CellFn, cells: Sequence[Cell]) -> Iterator[tuple[Cell, dict[str, Any]]]: ...


class InlineEngine:
    """In this process, one cell after the other (tests, debugging)."""

    name = "inline"

    def run(self, cell_fn: CellFn, cells: Sequence[Cell]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        for c in cells:
            yield c, execute(cell_fn, c)


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _worker_init() -> None:
    # Ctrl-C goes to the parent, which records what finished and stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Processes started inside inherit SIGINT ignored (an ignored signal survives exec), so a
    Ctrl-C at the terminal reaches only the parent: no worker prints a traceback, and the
    parent stops them. A Ctrl-C inside this window (starting the workers) is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class ProcessEngine:
    """A local pool of worker processes (``spawn``: workers share no state with the parent)."""

    name = "local pool"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self.name = f"local pool ({self.workers} workers)"

    def run(self, cell_fn: CellFn, cells: Sequence[Cell]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        if not cells:
            return
        ex = ProcessPoolExecutor(max_workers=min(self.workers, len(cells)),
                                 mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
        finished = False
        try:
            with _children_ignore_sigint():  # the first submit starts the workers
                futures = {ex.submit(execute, cell_fn, c): c for c in cells}
            for fut in as_completed(futures):
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    raise SweepAborted("a worker process died (killed, or crashed in native code)") from None
                yield futures[fut], outcome
            finished = True
        finally:
            if finished:
                ex.shutdown(wait=True)
            else:
                # Interrupted: drop the queue and stop the running cells now, not when they end.
                procs = list(getattr(ex, "_processes", {}).values())
                ex.shutdown(wait=False, cancel_futures=True)
                for p in procs:
                    if p.is_alive():
                        p.terminate()
                for p in procs:
                    p.join(5)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise McusimError("--cluster/--scheduler need Dask, which is not installed: pip install dask distributed "
                          "(the 'sweep' extra of mcusim)") from None
    return distributed


class DaskEngine:
    """A Dask distributed cluster: an existing one (``tcp://HOST:PORT``) or a LocalCluster of
    ``local_workers`` single-threaded worker processes started for this sweep."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None) -> None:
        if (scheduler is None) == (local_workers is None):
            raise McusimError("a Dask engine needs either a scheduler address or a local worker count")
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.name = f"Dask scheduler {scheduler}" if scheduler else f"local Dask cluster ({local_workers} workers)"
        _import_distributed()

    def run(self, cell_fn: CellFn, cells: Sequence[Cell]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        import logging

        distributed = _import_distributed()
        if not cells:
            return
        cluster = None
        try:
            if self.local_workers is not None:
                with _children_ignore_sigint():
                    cluster = distributed.LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                                       processes=True, dashboard_address=None,
                                                       silence_logs=logging.ERROR)
                client = distributed.Client(cluster)
            else:
                client = distributed.Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            if cluster is not None:
                cluster.close()
            raise McusimError(f"cannot reach the Dask scheduler {self.scheduler or ''}: {e}".replace("  ", " ")) from None
        futures: list[Any] = []
        try:
            futures = [client.submit(execute, cell_fn, c, pure=False) for c in cells]
            by_key = {f.key: c for f, c in zip(futures, cells)}
            for fut in distributed.as_completed(futures):
                try:
                    outcome = fut.result()
                except Exception as e:  # noqa: BLE001 - KilledWorker, lost scheduler: infrastructure
                    raise SweepAborted(f"the Dask cluster lost a cell: {type(e).__name__}: {e}") from None
                yield by_key[fut.key], outcome
        finally:
            if futures:
                client.cancel(futures)
            client.close()
            if cluster is not None:
                cluster.close()


def make_engine(workers: int | None = None, scheduler: str | None = None, cluster: str | None = None) -> Engine:
    """``--scheduler tcp://HOST:PORT``, ``--cluster local:N`` or a local pool of ``workers``."""
    if scheduler and cluster:
        raise McusimError("use either --scheduler or --cluster, not both")
    if cluster is not None:
        kind, _, n = cluster.partition(":")
        if kind != "local" or (n and not n.isdigit()) or n == "0":
            raise McusimError(f"--cluster {cluster!r}: use local:N (N worker processes) or local")
        return DaskEngine(local_workers=int(n) if n else default_workers())
    if scheduler is not None:
        return DaskEngine(scheduler=scheduler)
    if workers is not None and workers < 1:
        raise McusimError("--workers must be at least 1")
    return ProcessEngine(workers)


# ---------------------------------------------------------------------------------------------
# the results database


class ResultsDB:
    """SQLite, WAL mode: one row per cell, one transaction per finished cell, so readers
    (``mcusim query`` during a sweep) and an interruption never see half a result."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise McusimError(f"{path}: no such sweep database")
        try:
            self.conn = sqlite3.connect(self.path, timeout=60)
            self.conn.execute("PRAGMA journal_mode=WAL")
            if create:
                self._create()
            self._check()
        except sqlite3.Error as e:
            raise McusimError(f"{path}: cannot open the sweep database: {e}") from None

    def _create(self) -> None:
        cols = ",\n  ".join(f"{name} {typ}" for name, typ in COLUMNS.items())
        with self.conn:
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (DB_SCHEMA,))
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS cells (\n  {cols},\n  report TEXT,\n"
                              f"  PRIMARY KEY ({', '.join(KEY_COLUMNS)}))")

    def _check(self) -> None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or row[0] != DB_SCHEMA:
            raise McusimError(f"{self.path}: not an mcusim sweep database ({DB_SCHEMA})")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultsDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def statuses(self) -> dict[tuple[str, ...], str]:
        """Key of every stored cell -> its status."""
        cur = self.conn.execute(f"SELECT {', '.join(KEY_COLUMNS)}, status FROM cells")
        return {tuple(r[:-1]): r[-1] for r in cur}

    def write(self, cell: Cell, outcome: dict[str, Any], budgets: dict[str, float] | None = None) -> dict[str, Any]:
        """Record one finished cell (replacing an earlier result of the same key)."""
        row = cell_row(cell, outcome, budgets or {})
        names = [*COLUMNS, "report"]
        values = [row.get(n) for n in COLUMNS] + [json.dumps(outcome.get("report")) if outcome.get("report") else None]
        with self.conn:
            self.conn.execute(f"INSERT OR REPLACE INTO cells ({', '.join(names)}) "
                              f"VALUES ({', '.join('?' * len(names))})", values)
        return row

    def rows(self, with_report: bool = False) -> list[dict[str, Any]]:
        names = [*COLUMNS, *(["report"] if with_report else [])]
        cur = self.conn.execute(f"SELECT {', '.join(names)} FROM cells")
        out = []
        for r in cur:
            d = dict(zip(names, r))
            if with_report and d["report"]:
                d["report"] = json.loads(d["report"])
            out.append(d)
        return out


def cell_row(cell: Cell, outcome: dict[str, Any], budgets: dict[str, float]) -> dict[str, Any]:
    """The database row of a finished cell: keys, status, the part, headline metrics, the
    headroom verdict and the spec's budget breaches."""
    board: Board = get_board(cell.board)
    model, model_hash, name, op, path, kernels = cell.key
    row: dict[str, Any] = {
        "model": model, "model_hash": model_hash, "model_name": Path(model).name, "board": name, "op_point": op,
        "path": path, "kernels": kernels, "status": outcome["status"], "message": outcome.get("message"),
        "core": board.core, "clock_hz": board.op.clock_hz, "board_flash": board.flash_size,
        "board_ram": board.ram_size, "seconds": outcome.get("seconds"), "worker": outcome.get("worker"),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    report = outcome.get("report")
    if outcome["status"] == OK and report:
        for m in METRICS:
            row[m] = report.get(m)
        v, fu, ru = verdict(int(report["flash_bytes"]), int(report["ram_peak_bytes"]), board)
        row.update(verdict=v, flash_use=fu, ram_use=ru)
        breaches = []
        for key, limit in budgets.items():
            fname, what, unit = BUDGET_KEYS[key]
            if report.get(fname) is not None and float(report[fname]) > limit:
                breaches.append(Breach(key, what, float(report[fname]), limit, unit).line())
        if budgets:
            row["within_budget"] = int(not breaches)
            row["breaches"] = "; ".join(breaches) or None
    elif outcome["status"] == DOES_NOT_FIT:
        row["verdict"] = "does not fit"
        if budgets:
            row["within_budget"] = 0
    return row


# ---------------------------------------------------------------------------------------------
# the sweep


@dataclass
class SweepSummary:
    total: int = 0
    skipped: int = 0
    ran: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {OK: 0, DOES_NOT_FIT: 0, ERROR: 0})
    seconds: float = 0.0
    engine: str = ""
    replaced: int = 0

    @property
    def cells_per_minute(self) -> float:
        return self.ran / self.seconds * 60 if self.seconds else 0.0


def run_sweep(spec: Spec, db: ResultsDB, engine: Engine, cell_fn: CellFn = run_cell, resume: bool = False,
              retry_errors: bool = False,
              on_result: Callable[[Cell, dict[str, Any], int, int], None] | None = None,
              cells: Iterable[Cell] | None = None) -> SweepSummary:
    """Run every cell of ``spec`` (less those ``db`` holds, with ``resume``) on ``engine`` and
    write each to ``db`` as it finishes. ``on_result(cell, row, done, to_run)`` is called after
    each write. An exception (Ctrl-C, a dead worker) leaves every finished cell written."""
    all_cells = list(cells) if cells is not None else spec.cells()
    stored = db.statuses()
    todo = []
    summary = SweepSummary(total=len(all_cells), engine=engine.name)
    for c in all_cells:
        status = stored.get(c.key)
        if status is not None and resume and not (retry_errors and status == ERROR):
            summary.skipped += 1
        else:
            summary.replaced += status is not None
            todo.append(c)
    t0 = time.perf_counter()
    try:
        for cell, outcome in engine.run(cell_fn, todo):
            row = db.write(cell, outcome, spec.budgets)
            summary.ran += 1
            summary.counts[row["status"]] += 1
            if on_result is not None:
                on_result(cell, row, summary.ran, len(todo))
    except SweepAborted as e:
        raise SweepAborted(f"{e}; {summary.ran} of {len(todo)} cells finished and are in {db.path}: "
                           f"run again with --resume for the other {len(todo) - summary.ran}") from None
    finally:
        summary.seconds = time.perf_counter() - t0
    return summary


# ---------------------------------------------------------------------------------------------
# queries


def parse_where(expr: str) -> Callable[[dict[str, Any]], bool]:
    """``FIELD OP VALUE`` with OP one of = != < <= > >= ~ (glob), FIELD a database column;
    ``model`` matches the spec's path or the file name; sizes take suffixes (``64K``)."""
    import re

    m = re.fullmatch(r"\s*([a-z_]+)\s*(>=|<=|!=|==|=|<|>|~)\s*(.*?)\s*", expr)
    if not m:
        raise McusimError(f"--where {expr!r}: use FIELD OP VALUE, OP one of = != < <= > >= ~ (glob)")
    name, op, text = m.groups()
    if name not in COLUMNS and name != "pareto":
        raise McusimError(f"--where {expr!r}: unknown field {name!r}; fields: {', '.join([*COLUMNS, 'pareto'])}")
    numeric = COLUMNS.get(name) in ("INTEGER", "REAL") or name == "pareto"
    value: Any = text
    if numeric and op != "~":
        if name in BYTE_COLUMNS:
            value = parse_size(text, f"--where {name}")
        elif text.lower() in ("true", "false", "yes", "no"):
            value = float(text.lower() in ("true", "yes"))
        else:
            try:
                value = float(text)
            except ValueError:
                raise McusimError(f"--where {expr!r}: {name} is a number, not {text!r}") from None

    def test(row: dict[str, Any]) -> bool:
        got = row.get(name)
        candidates = [got, row.get("model_name")] if name == "model" else [got]
        for v in candidates:
            if v is None:
                continue
            if op == "~":
                if fnmatch.fnmatchcase(str(v), text):
                    return True
                continue
            v = float(v) if numeric else str(v)
            if ((op in ("=", "==") and v == value) or (op == "!=" and v != value) or (op == "<" and v < value)
                    or (op == "<=" and v <= value) or (op == ">" and v > value) or (op == ">=" and v >= value)):
                return True
        return False

    return test


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is no worse than ``b`` in every metric (smaller is better) and better in one."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def pareto_flags(points: Sequence[Sequence[float]]) -> list[bool]:
    """For each point, whether no other point dominates it (equal points are all optimal)."""
    return [not any(dominates(q, p) for j, q in enumerate(points) if j != i) for i, p in enumerate(points)]


def mark_pareto(rows: list[dict[str, Any]], metrics: Sequence[str] = PARETO_METRICS) -> None:
    """Set ``row['pareto']`` per model (file + hash) over the ``ok`` rows given: True for the
    cells no other cell of the same model beats on every metric; None for cells without
    figures."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        r["pareto"] = None
        if r["status"] == OK and all(r.get(m) is not None for m in metrics):
            groups.setdefault((r["model"], r["model_hash"]), []).append(r)
    for group in groups.values():
        for r, flag in zip(group, pareto_flags([[float(r[m]) for m in metrics] for r in group])):
            r["pareto"] = flag


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        v = r.get(name)
        return (v is None, v if v is not None else 0)
    return key


DEFAULT_ORDER = ("model", "path", "kernels", "board_flash", "board_ram", "board", "op_point")


def _at_most(name: str, limit: float) -> Callable[[dict[str, Any]], bool]:
    return lambda r: r.get(name) is not None and float(r[name]) <= limit


def query(db: ResultsDB, where: Sequence[str] = (), sort: str | None = None, descending: bool = False,
          max_budget: dict[str, float] | None = None, fits: bool = False, pareto_only: bool = False,
          pareto_metrics: Sequence[str] = PARETO_METRICS, with_report: bool = False) -> list[dict[str, Any]]:
    """The cells matching every filter, Pareto-marked within the selection, sorted."""
    # Filters on the Pareto flag apply after the marking; all others before it.
    plain = [parse_where(w) for w in where if not w.strip().startswith("pareto")]
    pareto_tests = [parse_where(w) for w in where if w.strip().startswith("pareto")]
    for key, limit in (max_budget or {}).items():
        fname = BUDGET_KEYS[key][0]
        plain.append(_at_most(fname, limit))
    if fits:
        plain.append(lambda r: r.get("verdict") == HEADROOM_OK)
    rows = [r for r in db.rows(with_report) if all(t(r) for t in plain)]
    bad = [m for m in pareto_metrics if m not in METRICS]
    if bad:
        raise McusimError(f"unknown Pareto metric {bad}; metrics: {', '.join(METRICS)}")
    mark_pareto(rows, pareto_metrics)
    rows = [r for r in rows if all(t(r) for t in pareto_tests)]
    if pareto_only:
        rows = [r for r in rows if r["pareto"]]
    label_models(rows)
    for name in reversed(DEFAULT_ORDER):
        rows.sort(key=_sort_key(name))
    if sort is not None:
        if sort not in COLUMNS and sort != "pareto":
            raise McusimError(f"--sort {sort!r}: not a field; fields: {', '.join([*COLUMNS, 'pareto'])}")
        rows.sort(key=_sort_key(sort))
        if descending:
            nulls = [r for r in rows if r.get(sort) is None]
            rows = [r for r in rows if r.get(sort) is not None][::-1] + nulls
    return rows


def label_models(rows: list[dict[str, Any]]) -> None:
    """``row['label']``: the model's file name, with a short hash where one name has several
    contents (a model changed between sweeps) or several paths."""
    variants: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        variants.setdefault(r["model_name"], set()).add((r["model"], r["model_hash"]))
    for r in rows:
        many = len(variants[r["model_name"]]) > 1
        r["label"] = f"{r['model_name']}#{r['model_hash'][:8]}" if many else r["model_name"]


def cheapest(rows: Sequence[dict[str, Any]], universe: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per model and path, the cheapest part (smallest flash, then RAM) on which some cell of
    ``rows`` fits with the 70 % headroom and within the spec's budgets (a cell the sweep
    recorded as over a ``[budgets]`` limit never qualifies): ``board`` None when none does. Among the cells on
    that part, the smallest image (then RAM, then latency) is reported. ``universe`` (default
    ``rows``) lists the model/path pairs to answer for, so a pair whose cells were all filtered
    out (say by a latency budget) is answered "none" rather than left out."""
    pool = universe if universe is not None else rows
    labels: dict[tuple[str, str, str], str] = {}
    for r in pool:
        labels.setdefault((r["model"], r["model_hash"], r["path"]), r.get("label", r["model_name"]))
    answers = []
    order = sorted(labels, key=lambda k: (labels[k], PATHS.index(k[2]) if k[2] in PATHS else 9))
    for key in order:
        model, mhash, path = key
        fitting = [r for r in rows if (r["model"], r["model_hash"], r["path"]) == key
                   and r["status"] == OK and r.get("verdict") == HEADROOM_OK and r.get("within_budget") != 0]
        best = min(fitting, key=lambda r: (r["board_flash"], r["board_ram"], r["flash_bytes"],
                                           r["ram_peak_bytes"], r["latency_ms"], r["board"], r["kernels"]),
                   default=None)
        tried = {(r["board"], r["op_point"]) for r in pool if (r["model"], r["model_hash"], r["path"]) == key}
        ans: dict[str, Any] = {"model": labels[key], "model_file": model, "model_hash": mhash, "path": path,
                               "board": None, "boards_tried": len(tried)}
        if best is not None:
            ans.update({k: best[k] for k in ("board", "op_point", "core", "board_flash", "board_ram", "kernels",
                                             "flash_bytes", "ram_peak_bytes", "flash_use", "ram_use",
                                             "latency_ms", "energy_uj")})
        answers.append(ans)
    return answers


CSV_FIELDS = [*COLUMNS, "pareto"]


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r[k]) for k in CSV_FIELDS})
    return buf.getvalue()


def query_json(db_path: Path, rows: Sequence[dict[str, Any]], answers: list[dict[str, Any]] | None,
               pareto_metrics: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": "mcusim.sweep/1", "db": str(db_path), "pareto_metrics": list(pareto_metrics),
                           "rows": [{k: r.get(k) for k in [*COLUMNS, "pareto", *(["report"] if "report" in r else [])]}
                                    for r in rows]}
    if answers is not None:
        out["cheapest"] = answers
    return out


# ---------------------------------------------------------------------------------------------
# the SVG scatter plot (hand-written: no plotting dependency)

PATH_COLOURS = {"tinyml": "#1f6fb4", "classic": "#d2452b"}
AXIS_TITLES = {"flash_bytes": "flash (bytes)", "ram_peak_bytes": "peak RAM (bytes)", "latency_ms": "latency (ms)",
               "energy_uj": "energy per inference (µJ)", "cycles": "cycles", "dispatch_share": "dispatch share"}


def _nice(x: float) -> float:
    e = math.floor(math.log10(x)) if x > 0 else 0
    f = x / 10**e
    return (1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10) * 10**e


class _Axis:
    def __init__(self, values: Sequence[float], lo_px: float, hi_px: float, unit: float = 1.0) -> None:
        """``unit``: ticks fall on nice multiples of it (1024 for bytes: 32K, 33K, ...)."""
        vmin, vmax = min(values), max(values)
        self.log = vmin > 0 and vmax / vmin > 20
        self.lo_px, self.hi_px = lo_px, hi_px
        self.lo: float
        self.hi: float
        if self.log:
            self.lo, self.hi = math.floor(math.log10(vmin)), math.ceil(math.log10(vmax))
            if self.hi == self.lo:
                self.hi += 1
        else:
            span = vmax - vmin or abs(vmax) or 1.0
            if span > 2 * unit:
                step = _nice(span / 4 / unit) * unit
            elif unit > 1:  # bytes within 2K: power-of-two steps read as 31.25K, 31.5K, ...
                step = 2.0 ** round(math.log2(span / 4))
            else:
                step = _nice(span / 4)
            self.lo = math.floor((vmin - 0.05 * span) / step) * step
            self.hi = math.ceil((vmax + 0.05 * span) / step) * step
            if vmin >= 0 > self.lo:
                self.lo = 0.0
            self.step = step

    def px(self, v: float) -> float:
        t = ((math.log10(v) if self.log else v) - self.lo) / (self.hi - self.lo)
        return self.lo_px + t * (self.hi_px - self.lo_px)

    def ticks(self) -> list[float]:
        if self.log:
            decades = range(int(self.lo), int(self.hi) + 1)
            mult = (1,) if len(decades) > 4 else (1, 2, 5)
            return [m * 10.0**d for d in decades for m in mult if self.lo <= math.log10(m * 10.0**d) <= self.hi]
        n = round((self.hi - self.lo) / self.step)
        ticks = [self.lo + i * self.step for i in range(n + 1)]
        return ticks[::2] if len(ticks) > 6 else ticks


def _tick_label(v: float, metric: str) -> str:
    if v == 0:
        return "0"
    if metric in BYTE_COLUMNS and abs(v) >= 1024:
        return f"{v / 1024:.4g}K" if abs(v) < 1 << 20 else f"{v / (1 << 20):.4g}M"
    if abs(v) >= 100_000 or abs(v) < 0.001:
        return f"{v:.2g}"
    return f"{v:.4g}"


def pareto_svg(rows: Sequence[dict[str, Any]], x: str = "latency_ms", y: str = "energy_uj",
               title: str = "mcusim sweep") -> str:
    """One panel per model: each ``ok`` cell a point at (x, y), colour = path, circle = opt,
    square = ref kernels; filled = Pareto-optimal over the Pareto metrics (``row['pareto']``),
    hollow = dominated; the dashed staircase is the front in the two plotted metrics alone,
    its points labelled with their board.
    Log axes where the values span more than 20x."""
    for m in (x, y):
        if m not in METRICS:
            raise McusimError(f"--plot-axes: {m!r} is not a metric; metrics: {', '.join(METRICS)}")
    pts = [r for r in rows if r["status"] == OK and r.get(x) is not None and r.get(y) is not None]
    if not pts:
        raise McusimError("nothing to plot: no finished cell in the selection")
    models: dict[str, list[dict[str, Any]]] = {}
    for r in pts:
        models.setdefault(r.get("label", r["model_name"]), []).append(r)
    pw, ph, ml, mr, mt, mb = 380, 300, 70, 20, 34, 50
    cols = min(3, len(models))
    nrows = math.ceil(len(models) / cols)
    head = 58
    width, height = cols * pw, head + nrows * ph
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
           f'<text x="10" y="38">{escape(AXIS_TITLES.get(y, y))} vs {escape(AXIS_TITLES.get(x, x))}; '
           f'filled: Pareto-optimal (flash, RAM, latency, energy); dashed: front of the two plotted metrics</text>']
    lx = 10
    for path, colour in PATH_COLOURS.items():
        out.append(f'<circle cx="{lx + 5}" cy="50" r="4.5" fill="{colour}"/><text x="{lx + 13}" y="54">{path}</text>')
        lx += 75
    out.append(f'<circle cx="{lx + 5}" cy="50" r="4.5" fill="none" stroke="#333"/><text x="{lx + 13}" y="54">opt kernels</text>')
    lx += 95
    out.append(f'<rect x="{lx + 1}" y="46" width="8" height="8" fill="none" stroke="#333"/><text x="{lx + 13}" y="54">ref kernels</text>')
    for i, (label, group) in enumerate(sorted(models.items())):
        ox, oy = (i % cols) * pw, head + (i // cols) * ph
        ax = _Axis([float(r[x]) for r in group], ox + ml, ox + pw - mr, 1024.0 if x in BYTE_COLUMNS else 1.0)
        ay = _Axis([float(r[y]) for r in group], oy + ph - mb, oy + mt, 1024.0 if y in BYTE_COLUMNS else 1.0)
        out.append(f'<g><text x="{ox + ml}" y="{oy + 22}" font-size="13" font-weight="bold">{escape(label)}</text>')
        out.append(f'<rect x="{ox + ml}" y="{oy + mt}" width="{pw - ml - mr}" height="{ph - mt - mb}" '
                   f'fill="none" stroke="#999"/>')
        for t in ax.ticks():
            px = ax.px(t)
            out.append(f'<line x1="{px:.1f}" y1="{oy + mt}" x2="{px:.1f}" y2="{oy + ph - mb}" stroke="#eee"/>'
                       f'<text x="{px:.1f}" y="{oy + ph - mb + 14}" text-anchor="middle">{_tick_label(t, x)}</text>')
        for t in ay.ticks():
            py = ay.px(t)
            out.append(f'<line x1="{ox + ml}" y1="{py:.1f}" x2="{ox + pw - mr}" y2="{py:.1f}" stroke="#eee"/>'
                       f'<text x="{ox + ml - 5}" y="{py + 4:.1f}" text-anchor="end">{_tick_label(t, y)}</text>')
        out.append(f'<text x="{ox + (ml + pw - mr) / 2:.1f}" y="{oy + ph - 12}" text-anchor="middle">'
                   f'{escape(AXIS_TITLES.get(x, x))}{" (log)" if ax.log else ""}</text>')
        cy = oy + (mt + ph - mb) / 2
        out.append(f'<text x="{ox + 14}" y="{cy:.1f}" text-anchor="middle" transform="rotate(-90 {ox + 14} {cy:.1f})">'
                   f'{escape(AXIS_TITLES.get(y, y))}{" (log)" if ay.log else ""}</text>')
        xy = [(float(r[x]), float(r[y])) for r in group]
        front = sorted({p for p, ok in zip(xy, pareto_flags(xy)) if ok})
        if len(front) > 1:
            d = f"M{ax.px(front[0][0]):.1f},{ay.px(front[0][1]):.1f}"
            for (x0, y0), (x1, y1) in zip(front, front[1:]):
                d += f" H{ax.px(x1):.1f} V{ay.px(y1):.1f}"
            out.append(f'<path d="{d}" fill="none" stroke="#666" stroke-dasharray="4 3"/>')
        for r in sorted(group, key=lambda r: bool(r.get("pareto"))):
            px, py = ax.px(float(r[x])), ay.px(float(r[y]))
            colour = PATH_COLOURS.get(r["path"], "#555")
            fill = colour if r.get("pareto") else "white"
            tip = escape(f"{r['model_name']} {r['path']}/{r['kernels']} {r['board']}@{r['op_point']}: "
                         f"{AXIS_TITLES.get(x, x)} {r[x]:.4g}, {AXIS_TITLES.get(y, y)} {r[y]:.4g}, "
                         f"flash {r['flash_bytes']}, RAM {r['ram_peak_bytes']}"
                         f"{' (Pareto-optimal)' if r.get('pareto') else ''}")
            shape = (f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5"' if r["kernels"] == "opt" else
                     f'<rect x="{px - 4.5:.1f}" y="{py - 4.5:.1f}" width="9" height="9"')
            out.append(f'{shape} fill="{fill}" stroke="{colour}" stroke-width="1.6"><title>{tip}</title>'
                       f'{"</circle>" if r["kernels"] == "opt" else "</rect>"}')
            if (float(r[x]), float(r[y])) in front:
                right = px > ox + pw - mr - 80  # near the right edge: label to the left of the point
                anchor = ' text-anchor="end"' if right else ""
                out.append(f'<text x="{px - 7 if right else px + 7:.1f}" y="{py - 6:.1f}" font-size="9" fill="#333"'
                           f'{anchor}>{escape(r["board"])}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# rendering (rich), for the CLI


def _fmt_bytes(v: Any, use: Any) -> str:
    if v is None:
        return "-"
    return f"{int(v):,} ({use:.0%})" if use is not None else f"{int(v):,}"


def _fmt_num(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}g}" if abs(v) < 10**digits else f"{v:,.0f}"


def _short_verdict(r: dict[str, Any]) -> str:
    if r["status"] == DOES_NOT_FIT:
        return "[yellow]does not fit[/]"
    if r["status"] == ERROR:
        return f"[red]error:[/] {escape_markup(r.get('message') or '')}"
    return {"fits with headroom": "[green]headroom[/]", "tight": "[yellow]tight[/]"}.get(
        r.get("verdict") or "", f"[red]{r.get('verdict')}[/]")


def escape_markup(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def render_rows(console: Any, rows: Sequence[dict[str, Any]], title: str) -> None:
    """The query table: one row per cell; ``verdict`` is the 70 % headroom rule (or the
    failure), ``budget`` the spec's budgets (what is over), ★ the Pareto-optimal cells."""
    from rich.table import Table

    budgets = any(r.get("within_budget") is not None for r in rows)
    t = Table(title=title)
    for col, justify in (("model", "left"), ("board@op", "left"), ("path", "left"), ("kern", "left"),
                         ("flash (use)", "right"), ("peak RAM (use)", "right"), ("latency ms", "right"),
                         ("energy µJ", "right"), ("dispatch", "right"), ("verdict", "left"),
                         *([("budget", "left")] if budgets else []), ("pareto", "center")):
        t.add_column(col, justify=justify, no_wrap=col not in ("verdict", "budget", "model"))  # type: ignore[arg-type]
    for r in rows:
        over = ""
        if r.get("within_budget") == 1:
            over = "[green]ok[/]"
        elif r.get("breaches"):
            over = "[red]over:[/] " + ", ".join(b.split(" ")[0] if not b.startswith("peak RAM") else "RAM"
                                                for b in r["breaches"].split("; "))
        elif r.get("within_budget") == 0:
            over = "[red]over[/]"
        t.add_row(r.get("label", r["model_name"]), f"{r['board']}@{r['op_point']}", r["path"], r["kernels"],
                  _fmt_bytes(r.get("flash_bytes"), r.get("flash_use")),
                  _fmt_bytes(r.get("ram_peak_bytes"), r.get("ram_use")), _fmt_num(r.get("latency_ms")),
                  _fmt_num(r.get("energy_uj")),
                  "-" if r.get("dispatch_share") is None else f"{r['dispatch_share']:.1%}",
                  _short_verdict(r), *([over] if budgets else []), "★" if r.get("pareto") else "")
    console.print(t)


def render_cheapest(console: Any, answers: Sequence[dict[str, Any]]) -> None:
    from rich.table import Table

    t = Table(title="cheapest part each model fits on with headroom (under 70% of flash and RAM) and within the "
                    "spec's budgets, per path")
    for col in ("model", "path", "cheapest board", "part flash/RAM", "kernels", "flash (use)", "peak RAM (use)",
                "latency ms", "energy µJ"):
        t.add_column(col)
    for a in answers:
        if a["board"] is None:
            t.add_row(a["model"], a["path"], f"[red]none[/] of {a['boards_tried']} tried", *["-"] * 6)
            continue
        t.add_row(a["model"], a["path"], f"{a['board']}@{a['op_point']}",
                  f"{a['board_flash'] // 1024}K/{a['board_ram'] // 1024}K", a["kernels"],
                  _fmt_bytes(a["flash_bytes"], a["flash_use"]), _fmt_bytes(a["ram_peak_bytes"], a["ram_use"]),
                  _fmt_num(a["latency_ms"]), _fmt_num(a["energy_uj"]))
    console.print(t)
