"""The SQLite results database: one row per finished cell, written at once."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..analysis.budget import (
    BUDGET_KEYS,
    Breach,
    verdict,
)
from ..errors import McusimError
from ..simulator.board import Board, get_board
from .constants import COLUMNS, DB_SCHEMA, DOES_NOT_FIT, KEY_COLUMNS, METRICS, OK
from .spec import Cell



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


