"""Rich tables of query results and cheapest-part answers, for the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .constants import DOES_NOT_FIT, ERROR



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
