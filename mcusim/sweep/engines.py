"""Where cells run: one cell in a worker, and the engines (inline, a process pool, Dask) that
yield (cell, outcome) as cells finish."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol

from ..errors import DoesNotFit, McusimError
from ..simulator.board import get_board
from .constants import CLASSIC_ML, DOES_NOT_FIT, ERROR, OK, SweepAborted
from .spec import Cell


CellFn = Callable[[Cell], dict[str, Any]]
"""Builds and simulates one cell and returns its ``mcusim.run/1`` report; raises DoesNotFit
when the image does not fit, any McusimError for other problems."""


def run_cell(cell: Cell) -> dict[str, Any]:
    """The real cell function: :func:`mcusim.runner.run_model` on the cell's model bytes, or
    for a classic ML model :func:`mcusim.classicml.run.run_classic` on its default samples."""
    from ..frontend.tflite import parse_model
    from ..stacks.runner import run_model

    if cell.path == CLASSIC_ML:
        return _run_classic_cell(cell)
    graph = parse_model(cell.data) if cell.data else None
    return run_model(cell.model, cell.path, get_board(cell.board), cell.kernels, graph=graph).report


def _run_classic_cell(cell: Cell) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    from ..classicml.model import default_samples, load
    from ..classicml.run import run_classic

    with tempfile.TemporaryDirectory(prefix="mcusim-cell-") as d:  # the loaders read a file (by suffix)
        f = Path(d) / Path(cell.model).name
        f.write_bytes(cell.data)
        model = load(f)
    return run_classic(model, default_samples(model), get_board(cell.board), cell.kernels, name=cell.model).report


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


