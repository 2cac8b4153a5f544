"""Running a sweep: every cell of a spec through an engine into the database, --resume."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .constants import DOES_NOT_FIT, ERROR, OK, SweepAborted
from .engines import CellFn, Engine, run_cell
from .spec import Cell, Spec
from .store import ResultsDB



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


