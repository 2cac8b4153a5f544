"""Queries over the results database: filters, Pareto fronts, the cheapest part, CSV/JSON."""

from __future__ import annotations

import csv
import fnmatch
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..analysis.budget import (
    BUDGET_KEYS,
    parse_size,
)
from ..errors import McusimError
from .constants import (
    BYTE_COLUMNS,
    COLUMNS,
    HEADROOM_OK,
    METRICS,
    OK,
    PARETO_METRICS,
    PATHS,
)
from .store import ResultsDB



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


