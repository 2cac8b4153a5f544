"""The regression gate of ``mcusim check --baseline REPORT.json --max-growth flash=1%,ram=0,cycles=2%``.

The baseline is a report mcusim wrote for the same model on the same board and stack, typically
on the main branch: ``mcusim run --json`` (``mcusim.run/1``), ``mcusim check --format json``
(``mcusim.check/2``) or ``mcusim compare --json`` (``mcusim.compare/2``: the run of the same
stack). Each gated metric may grow by its allowance (``N%`` of the baseline, or ``N`` in the
metric's unit: bytes, cycles, ms, µJ; sizes take K/M); growth past it fails the check. Every
op whose cycles grew is named, with its growth, to say where the cycles went.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import McusimError
from .budget import parse_size

METRICS = {
    "flash": ("flash_bytes", "flash", "B"),
    "ram": ("ram_peak_bytes", "peak RAM", "B"),
    "cycles": ("cycles", "cycles", "cycles"),
    "latency": ("latency_ms", "latency", "ms"),
    "energy": ("energy_uj", "energy per inference", "µJ"),
}
DEFAULT_GROWTH = "flash=0,ram=0,cycles=0"
"""Without ``--max-growth``: flash, peak RAM and cycles must not grow at all."""


@dataclass(frozen=True)
class Allowance:
    metric: str
    value: float
    relative: bool
    """``value`` is a percentage of the baseline (else an amount in the metric's unit)."""

    def limit(self, base: float) -> float:
        return base * (1 + self.value / 100) if self.relative else base + self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.relative else f"{self.value:g} {METRICS[self.metric][2]}"


@dataclass(frozen=True)
class Growth:
    metric: str
    baseline: float
    measured: float
    allowance: Allowance | None
    """None: reported, not gated."""

    @property
    def what(self) -> str:
        return METRICS[self.metric][1]

    @property
    def unit(self) -> str:
        return METRICS[self.metric][2]

    @property
    def growth(self) -> float:
        return self.measured - self.baseline

    @property
    def growth_pct(self) -> float | None:
        return self.growth / self.baseline * 100 if self.baseline else None

    @property
    def failed(self) -> bool:
        return self.allowance is not None and self.measured > self.allowance.limit(self.baseline)

    def line(self) -> str:
        pct = "" if self.growth_pct is None else f" ({self.growth_pct:+.2f}%)"
        allowed = "not gated" if self.allowance is None else f"allowed growth {self.allowance}"
        return (f"{self.what} {_num(self.baseline)} -> {_num(self.measured)} {self.unit}: "
                f"{'+' if self.growth >= 0 else ''}{_num(self.growth)} {self.unit}{pct}; {allowed}")


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3f}"


def parse_growth(text: str | None) -> dict[str, Allowance]:
    """``flash=1%,ram=0,cycles=2%`` -> allowances; McusimError (exit 2) naming a bad item."""
    out: dict[str, Allowance] = {}
    for item in (x.strip() for x in (text or DEFAULT_GROWTH).split(",")):
        if not item:
            continue
        metric, eq, value = (t.strip() for t in item.partition("="))
        if not eq or metric not in METRICS or not value:
            raise McusimError(f"--max-growth {item!r}: write METRIC=N% or METRIC=N, METRIC one of "
                              f"{', '.join(METRICS)}")
        relative = value.endswith("%")
        try:
            amount = float(value[:-1]) if relative else (
                parse_size(value, f"--max-growth {metric}") if METRICS[metric][2] == "B" else float(value))
        except ValueError:
            amount = -1.0
        if amount < 0:
            raise McusimError(f"--max-growth {item!r}: not a non-negative number")
        out[metric] = Allowance(metric, amount, relative)
    return out


def load_baseline(file: str | Path, path: str, kernels: str, board: str, model: str | Path) -> dict[str, Any]:
    """The run of ``file`` to compare with: same model (file name), board, path and kernels.
    McusimError (exit 2), one line, for an unreadable or foreign file or a mismatch."""
    p = Path(file)
    try:
        data = json.loads(p.read_text())
    except OSError as e:
        raise McusimError(f"--baseline {p}: cannot read: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise McusimError(f"--baseline {p}: not JSON ({e})") from None
    schema = data.get("schema", "") if isinstance(data, dict) else ""
    if schema.startswith("mcusim.compare/"):
        runs = [r for r in data.get("runs", []) if (r.get("path"), r.get("kernels")) == (path, kernels)]
        if not runs:
            have = ", ".join(f"{r.get('path')}/{r.get('kernels')}" for r in data.get("runs", []))
            raise McusimError(f"--baseline {p}: no {path}/{kernels} run in this comparison (has {have})")
        run = runs[0]
    elif schema.startswith("mcusim.run/"):
        run = data
    elif schema.startswith("mcusim.check/"):
        if "cycles" not in data or "ops" not in data:
            raise McusimError(f"--baseline {p}: a {schema} report without cycles and ops; write the baseline with "
                              "this mcusim (check --format json, or run --json)")
        run = {**data, **data["measured"]}
    else:
        raise McusimError(f"--baseline {p}: not an mcusim run, check or compare report (schema {schema or 'missing'!r})")
    missing = [f for f in ("board", "path", "kernels", "model", *(m[0] for m in METRICS.values())) if f not in run]
    if missing:
        raise McusimError(f"--baseline {p}: {schema} report lacks {', '.join(missing)}")
    mismatch = [f"{what} {got} (baseline: {want})" for what, got, want in (
        ("model", Path(model).name, Path(str(run["model"])).name), ("board", board, run["board"]),
        ("stack", f"{path}/{kernels}", f"{run['path']}/{run['kernels']}")) if got != want]
    if mismatch:
        raise McusimError(f"--baseline {p} is for another deployment: {'; '.join(mismatch)}")
    return run


def compare(base: dict[str, Any], report: dict[str, Any],
            allowances: dict[str, Allowance]) -> tuple[list[Growth], list[dict[str, Any]]]:
    """Each metric against the baseline (gated ones first), and each op whose cycles grew:
    ``{index, type, baseline, measured, growth, growth_pct}``, largest growth first."""
    growth = [Growth(m, float(base[f]), float(report[f]), allowances.get(m)) for m, (f, _, _) in METRICS.items()]
    growth.sort(key=lambda g: g.allowance is None)
    before = {(o["index"], o["type"]): o["cycles"] for o in base.get("ops", [])}
    ops = []
    for o in report.get("ops", []):
        b = before.get((o["index"], o["type"]))
        if b is not None and o["cycles"] > b:
            ops.append({"index": o["index"], "type": o["type"], "baseline": b, "measured": o["cycles"],
                        "growth": o["cycles"] - b, "growth_pct": (o["cycles"] - b) / b * 100 if b else None})
    ops.sort(key=lambda o: -o["growth"])
    return growth, ops


def op_line(o: dict[str, Any]) -> str:
    pct = "" if o["growth_pct"] is None else f" ({o['growth_pct']:+.2f}%)"
    return f"op {o['index']} {o['type']}: {o['baseline']:,} -> {o['measured']:,} cycles, +{o['growth']:,}{pct}"
