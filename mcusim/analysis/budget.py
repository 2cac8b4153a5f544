"""CI budget gates (``mcusim check``) and the deployment questions built on a run report:
does it fit (the 70 % headroom rule), how long does a battery last.

Budgets come from, in increasing precedence: ``[tool.mcusim]`` in the nearest
``pyproject.toml`` above the current directory, ``mcusim.toml`` beside the model, and the
command line. Keys: ``max_flash``, ``max_ram`` (bytes, or strings like ``"64K"``),
``max_latency_ms``, ``max_energy_uj``; optional ``path``, ``board``, ``kernels`` defaults.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ..errors import McusimError
from ..simulator.board import Board

HEADROOM = 0.70
"""The rule of thumb: a design fits with headroom under 70 % of the part's flash and RAM."""

BUDGET_KEYS = {
    "max_flash": ("flash_bytes", "flash", "B"),
    "max_ram": ("ram_peak_bytes", "peak RAM", "B"),
    "max_latency_ms": ("latency_ms", "latency", "ms"),
    "max_energy_uj": ("energy_uj", "energy per inference", "µJ"),
}
DEFAULT_KEYS = ("path", "board", "kernels", "tflm_dir")


def parse_size(value: Any, what: str) -> float:
    """``65536``, ``"64K"``, ``"1M"``, ``"1.5k"`` -> bytes; numbers pass through."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise McusimError(f"{what}: negative budget {value}")
        return float(value)
    if isinstance(value, str):
        t = value.strip().upper().replace("_", "").removesuffix("B").removesuffix("I")
        mult = {"K": 1024, "M": 1024 * 1024}.get(t[-1:], 1)
        if t[-1:] in ("K", "M"):
            t = t[:-1]
        try:
            v = float(t) * mult
        except ValueError:
            raise McusimError(f"{what}: not a size: {value!r} (use e.g. 65536, 64K, 1M)") from None
        if v < 0:
            raise McusimError(f"{what}: negative budget {value!r}")
        return v
    raise McusimError(f"{what}: not a number: {value!r}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise McusimError(f"{path}: cannot read budgets: {e}") from None


def load_budget_files(model: Path, cwd: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """Budgets and defaults from pyproject.toml [tool.mcusim] and mcusim.toml (beside the
    model), later ones overriding; also the files they came from."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    here = (cwd or Path.cwd()).resolve()
    for d in (here, *here.parents):
        py = d / "pyproject.toml"
        if py.is_file():
            table = _read_toml(py).get("tool", {}).get("mcusim")
            if isinstance(table, dict):
                merged.update(table)
                sources.append(str(py))
            break
    beside = Path(model).resolve().parent / "mcusim.toml"
    if beside.is_file():
        data = _read_toml(beside)
        merged.update(data.get("tool", {}).get("mcusim", data))
        sources.append(str(beside))
    unknown = set(merged) - set(BUDGET_KEYS) - set(DEFAULT_KEYS)
    if unknown:
        raise McusimError(f"unknown budget keys {sorted(unknown)} in {', '.join(sources)}; known: "
                          f"{', '.join([*BUDGET_KEYS, *DEFAULT_KEYS])}")
    return merged, sources


def normalise_budgets(raw: dict[str, Any]) -> dict[str, float]:
    return {key: parse_size(raw[key], key) for key in BUDGET_KEYS if raw.get(key) is not None}


@dataclass
class Breach:
    budget: str
    what: str
    measured: float
    limit: float
    unit: str

    @property
    def overshoot(self) -> float:
        return self.measured - self.limit

    @property
    def of_part(self) -> bool:
        """A shortfall of the part itself (its flash, RAM or a RAM region), not of a budget."""
        return self.budget.startswith("part_")

    def line(self) -> str:
        pct = self.overshoot / self.limit * 100 if self.limit else float("inf")
        if self.of_part:
            return (f"{self.what}: {_num(self.measured)} {self.unit} needed, the part has {_num(self.limit)} {self.unit}: "
                    f"{_num(self.overshoot)} {self.unit} ({pct:.1f}%) over")
        return (f"{self.what} {_num(self.measured)} {self.unit} exceeds the budget {_num(self.limit)} {self.unit} "
                f"by {_num(self.overshoot)} {self.unit} ({pct:.1f}%)")


@dataclass
class CheckResult:
    model: str
    path: str
    board: str
    budgets: dict[str, float]
    measured: dict[str, float]
    breaches: list[Breach] = field(default_factory=list)
    part_verdict: str = ""
    """The 70 % headroom rule on the part alone: ``fits with headroom``, ``tight``, ``does not fit``."""
    flash_use: float = 0.0
    ram_use: float = 0.0
    budget_sources: list[str] = field(default_factory=list)
    placement: dict[str, str] = field(default_factory=dict)
    """Where the firmware put stack, arena, data and weights (the run report's ``placement``)."""
    part_breaches: list[Breach] = field(default_factory=list)
    """What the part lacks (flash, RAM, a RAM region): the run report's ``fit.breaches``."""
    kernels: str = ""
    fit: dict[str, Any] = field(default_factory=dict)
    """The run report's ``fit`` object (needed against available, per region, ``measured_on``)."""
    cycles: int = 0
    ops: list[dict[str, Any]] = field(default_factory=list)
    """Per op: ``index``, ``type``, ``cycles`` (so that this check's JSON can be a baseline)."""
    baseline_file: str = ""
    growth: list[Any] = field(default_factory=list)
    """mcusim.baseline.Growth of each metric against ``--baseline`` (empty without one)."""
    op_growth: list[dict[str, Any]] = field(default_factory=list)
    """Ops whose cycles grew against the baseline, largest growth first."""
    frontend: dict[str, Any] = field(default_factory=dict)
    """With an audio front-end (``check --frontend``): ``spec``, ``frames`` per inference, the
    ``model``'s own figures and the front-end's ``per_inference``; ``measured`` and the verdict
    are then the sums (run report's ``end_to_end.total``)."""

    @property
    def scope(self) -> str:
        """What the figures are of: the model, or the model and its front-end."""
        if not self.frontend:
            return "model"
        from ..dsp.spec import frames_text

        spec = self.frontend["spec"]
        return f"model + {spec['kind']} {spec['dtype']} front-end ({frames_text(self.frontend['per_inference'])} per inference)"

    @property
    def regressions(self) -> list[Any]:
        """The metrics that grew past their allowance."""
        return [g for g in self.growth if g.failed]

    @property
    def fits_part(self) -> bool:
        return not self.part_breaches

    @property
    def ok(self) -> bool:
        return not self.breaches and self.fits_part and not self.regressions

    @property
    def verdict(self) -> str:
        """One answer that cannot contradict the breaches: ``does not fit`` (the part), else
        ``over budget``, else ``regressed`` (against the baseline), else the headroom rule
        (``fits with headroom`` or ``tight``)."""
        if not self.fits_part:
            return "does not fit"
        if self.breaches:
            return "over budget"
        return "regressed" if self.regressions else self.part_verdict

    def headline(self) -> str:
        """``PASS``/``FAIL`` with every reason, and the part's use: the first line of each format."""
        reasons = []
        if not self.fits_part:
            reasons.append(f"does not fit {self.board} ({', '.join(b.what for b in self.part_breaches)})")
        if self.breaches:
            reasons.append(f"{len(self.breaches)} budget{'s' if len(self.breaches) > 1 else ''} exceeded "
                           f"({', '.join(b.what for b in self.breaches)})")
        if self.regressions:
            n = len(self.regressions)
            reasons.append(f"{n} metric{'s' if n > 1 else ''} grew past the allowance against the baseline "
                           f"({', '.join(g.what for g in self.regressions)})")
        head = f"FAIL: {'; '.join(reasons)}" if reasons else (
            "PASS: within budget" + (" and baseline allowances" if self.growth else ""))
        return (f"{head}; verdict: {self.verdict} (flash {self.flash_use:.0%}, RAM {self.ram_use:.0%} of the part; "
                f"headroom rule: under {HEADROOM:.0%})")


def verdict(flash_bytes: int, ram_bytes: int, board: Board) -> tuple[str, float, float]:
    """The headroom rule: ``fits with headroom`` when both flash and RAM use are under 70 % of
    the part, ``tight`` up to 100 %, ``does not fit`` above."""
    f = flash_bytes / board.flash_size
    r = ram_bytes / board.ram_size
    worst = max(f, r)
    if worst > 1.0:
        return "does not fit", f, r
    if worst >= HEADROOM:
        return "tight", f, r
    return "fits with headroom", f, r


def part_breaches(report: dict[str, Any]) -> list[Breach]:
    """The part's shortfalls of a run report (its ``fit`` object: mcusim.oversize.part_fit)."""
    return [Breach(f"part_{b['what'].lower().replace(' ', '_')}", b["what"], b["needed_bytes"],
                   b["available_bytes"], "B") for b in report.get("fit", {}).get("breaches", [])]


def end_to_end_view(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` (a run with ``--frontend``) with its budgeted figures replaced by the model's
    plus the front-end's (``end_to_end.total``): what ``check --frontend`` gates."""
    total = report["end_to_end"]["total"]
    return {**report, "flash_bytes": total["flash_bytes"], "ram_peak_bytes": total["ram_bytes"],
            "latency_ms": total["latency_ms"], "energy_uj": total["energy_uj"], "cycles": total["cycles"]}


def check(report: dict[str, Any], budgets: dict[str, float], board: Board, sources: list[str] | None = None) -> CheckResult:
    """Budgets against ``report``; with ``end_to_end`` (run --frontend) against the model and
    its front-end together."""
    frontend: dict[str, Any] = {}
    if "end_to_end" in report:
        e2e = report["end_to_end"]
        frontend = {"spec": report["frontend"]["spec"], "frames": e2e["frontend_per_inference"]["frames"], "model": e2e["model"],
                    "per_inference": e2e["frontend_per_inference"]}
        report = end_to_end_view(report)
    measured = {BUDGET_KEYS[k][0]: float(report[BUDGET_KEYS[k][0]]) for k in BUDGET_KEYS}
    breaches = []
    for key, limit in budgets.items():
        field_name, what, unit = BUDGET_KEYS[key]
        value = float(report[field_name])
        if value > limit:
            breaches.append(Breach(key, what, value, limit, unit))
    part = part_breaches(report)
    v, f, r = verdict(int(report["flash_bytes"]), int(report["ram_peak_bytes"]), board)
    if part:
        v = "does not fit"  # a RAM region can lack room while the total is under the part's
    return CheckResult(str(report.get("model", "")), report["path"], report["board"], budgets, measured,
                       breaches, v, f, r, sources or [], dict(report.get("placement", {})), part,
                       str(report.get("kernels", "")), dict(report.get("fit", {})), int(report.get("cycles", 0)),
                       [{"index": o["index"], "type": o["type"], "cycles": o["cycles"]} for o in report.get("ops", [])],
                       frontend=frontend)


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3f}"


def _breach_json(b: Breach) -> dict[str, Any]:
    return {"budget": b.budget, "measured": b.measured, "limit": b.limit, "overshoot": b.overshoot, "unit": b.unit,
            "message": b.line()}


def check_json(c: CheckResult) -> dict[str, Any]:
    return {
        "schema": "mcusim.check/2", "model": c.model, "path": c.path, "kernels": c.kernels, "board": c.board,
        "ok": c.ok, "headline": c.headline(), "verdict": c.verdict, "fits_part": c.fits_part,
        "part_verdict": c.part_verdict, "flash_use": c.flash_use, "ram_use": c.ram_use,
        "budgets": c.budgets, "measured": c.measured, "budget_sources": c.budget_sources, "placement": c.placement,
        "breaches": [_breach_json(b) for b in c.part_breaches + c.breaches + growth_breaches(c)], "part": c.fit,
        "cycles": c.cycles, "ops": c.ops, "scope": c.scope, **({"frontend": c.frontend} if c.frontend else {}),
        **({"baseline": {
            "file": c.baseline_file,
            "metrics": [{"metric": g.metric, "baseline": g.baseline, "measured": g.measured, "growth": g.growth,
                         "growth_pct": g.growth_pct, "allowed": None if g.allowance is None else str(g.allowance),
                         "limit": None if g.allowance is None else g.allowance.limit(g.baseline),
                         "failed": g.failed, "message": g.line()} for g in c.growth],
            "ops_grown": c.op_growth}} if c.growth else {}),
    }


def growth_breaches(c: CheckResult) -> list[Breach]:
    """The metrics that grew past their allowance, as breaches (``max_growth_<metric>``)."""
    return [Breach(f"max_growth_{g.metric}", g.what, g.measured, g.allowance.limit(g.baseline), g.unit)
            for g in c.regressions]


def check_markdown(c: CheckResult) -> str:
    icon = "✅" if c.ok else "❌"
    lines = [f"### mcusim check: `{Path(c.model).name}` — {c.path} on {c.board}", "",
             f"{icon} {c.headline()}", "", *([f"Figures of the {c.scope}.", ""] if c.frontend else []),
             "| metric | measured | limit | status |", "|---|---|---|---|"]
    for b in c.part_breaches:
        lines.append(f"| {b.what} of the part | {_num(b.measured)} B | {_num(b.limit)} B | does not fit |")
    for key, (field_name, what, unit) in BUDGET_KEYS.items():
        limit = c.budgets.get(key)
        value = c.measured[field_name]
        status_cell = "—" if limit is None else ("over" if value > limit else "ok")
        lines.append(f"| {what} | {_num(value)} {unit} | {'—' if limit is None else _num(limit) + ' ' + unit} | {status_cell} |")
    if c.part_breaches or c.breaches:
        lines += [""] + [f"- {b.line()}" for b in c.part_breaches + c.breaches]
    if c.growth:
        from .baseline import op_line

        lines += ["", f"#### Against the baseline `{c.baseline_file}`", "",
                  "| metric | baseline | measured | growth | allowed | status |", "|---|---|---|---|---|---|"]
        for g in c.growth:
            pct = "" if g.growth_pct is None else f" ({g.growth_pct:+.2f}%)"
            status_cell = "—" if g.allowance is None else ("over" if g.failed else "ok")
            lines.append(f"| {g.what} | {_num(g.baseline)} {g.unit} | {_num(g.measured)} {g.unit} | "
                         f"{_num(g.growth)} {g.unit}{pct} | {'—' if g.allowance is None else g.allowance} | {status_cell} |")
        if c.op_growth:
            lines += ["", "Ops whose cycles grew:", ""] + [f"- {op_line(o)}" for o in c.op_growth]
    return "\n".join(lines).rstrip() + "\n"


def check_text(c: CheckResult) -> list[str]:
    """The terminal form: the headline, then one line per shortfall, breach and baseline metric."""
    lines = [f"{Path(c.model).name}: {c.path}/{c.kernels} on {c.board}: {c.headline()}"]
    if c.frontend:
        fe, m = c.frontend["per_inference"], c.frontend["model"]
        lines.append(f"  figures of the {c.scope}: front-end {_num(fe['latency_ms'])} ms, {_num(fe['flash_bytes'])} B "
                     f"flash, {_num(fe['ram_bytes'])} B RAM; model {_num(m['latency_ms'])} ms, "
                     f"{_num(m['flash_bytes'])} B flash, {_num(m['ram_bytes'])} B RAM")
    lines += [f"  does not fit: {b.line()}" for b in c.part_breaches]
    lines += [f"  over budget: {b.line()}" for b in c.breaches]
    if c.growth:
        from .baseline import op_line

        for g in c.growth:
            mark = "regression: " if g.failed else "ok: " if g.allowance is not None else ""
            lines.append(f"  against {c.baseline_file}: {mark}{g.line()}")
        lines += [f"    grew: {op_line(o)}" for o in c.op_growth]
    return lines


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def check_junit(c: CheckResult) -> str:
    cls = f"mcusim.{escape(c.board)}"
    cases = []
    for b in c.part_breaches:
        cases.append(f'    <testcase classname="{cls}" name="{escape(c.path)}.{escape(b.budget)}">'
                     f'<failure message="{_attr(b.line())}"/></testcase>')
    if c.fits_part:
        cases.append(f'    <testcase classname="{cls}" name="{escape(c.path)}.fits_part"/>')
    for key, (field_name, what, unit) in BUDGET_KEYS.items():
        limit = c.budgets.get(key)
        name = escape(f"{c.path}.{key}")
        value = c.measured[field_name]
        if limit is None:
            cases.append(f'    <testcase classname="{cls}" name="{name}"><skipped message="no budget"/></testcase>')
        elif value > limit:
            msg = _attr(next(b.line() for b in c.breaches if b.budget == key))
            cases.append(f'    <testcase classname="{cls}" name="{name}"><failure message="{msg}"/></testcase>')
        else:
            cases.append(f'    <testcase classname="{cls}" name="{name}"/>')
    for g in c.growth:
        if g.allowance is None:
            continue
        name = escape(f"{c.path}.max_growth_{g.metric}")
        if g.failed:
            from .baseline import op_line

            ops = "\n".join(op_line(o) for o in c.op_growth) if g.metric in ("cycles", "latency", "energy") else ""
            cases.append(f'    <testcase classname="{cls}" name="{name}"><failure message="{_attr(g.line())}">'
                         f'{escape(ops)}</failure></testcase>')
        else:
            cases.append(f'    <testcase classname="{cls}" name="{name}"/>')
    failures = len(c.breaches) + len(c.part_breaches) + len(c.regressions)
    skipped = sum(1 for k in BUDGET_KEYS if k not in c.budgets)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite name="mcusim check {escape(Path(c.model).name)}" tests="{len(cases)}" '
            f'failures="{failures}" skipped="{skipped}">\n'
            f'  <properties><property name="headline" value="{_attr(c.headline())}"/></properties>\n'
            + "\n".join(cases) + "\n</testsuite>\n")


def battery(report: dict[str, Any], board: Board, per_day: float, battery_mah: float,
            sleep_current_ua: float | None = None, cold_start: bool = False) -> dict[str, float]:
    """Average current and battery life for ``per_day`` inferences.

    Each inference keeps the core running for its latency at the operating point's run
    current; with ``cold_start`` (the part is powered down between inferences, as a
    battery-powered sensor is) each wake also pays the tinyml start-up (parse, plan, prepare).
    The rest of the day the part sleeps at the board's sleep current (or ``sleep_current_ua``).
    ``cold_start_share``: the part of the day's charge the start-ups take (0 without ``cold_start``).
    """
    if per_day <= 0 or battery_mah <= 0:
        raise McusimError("--duty and --battery must be positive")
    sleep_ua = board.sleep_current_ua if sleep_current_ua is None else sleep_current_ua
    if sleep_ua is None:
        raise McusimError(f"{board.name} has no [sleep] section: give the sleep current with --sleep-current UA")
    startup_s = report.get("startup_ms", 0.0) / 1e3 if cold_start else 0.0
    active_s = report["latency_ms"] / 1e3 + startup_s
    day_s = 86400.0
    busy = per_day * active_s
    if busy > day_s:
        raise McusimError(f"{per_day:g} inferences of {active_s * 1e3:.3f} ms do not fit in a day")
    charge_uas = busy * board.op.run_current_ua + (day_s - busy) * sleep_ua
    avg_ua = charge_uas / day_s
    days = battery_mah * 1000.0 / avg_ua / 24.0
    return {"inferences_per_day": per_day, "battery_mah": battery_mah, "sleep_current_ua": sleep_ua,
            "active_s_per_day": busy, "average_current_ua": avg_ua, "battery_days": days,
            "cold_start": cold_start,
            "cold_start_share": per_day * startup_s * board.op.run_current_ua / charge_uas}
