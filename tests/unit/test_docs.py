"""Documents that describe the code must stay true."""

from __future__ import annotations

from pathlib import Path

from mcusim.simulator.costmodel import markdown_tables

ROOT = Path(__file__).resolve().parents[2]


def test_cost_model_doc_matches_the_tables():
    doc = (ROOT / "docs" / "cost-model.md").read_text()
    assert markdown_tables() in doc, "regenerate the tables in docs/cost-model.md"


def test_architecture_doc_names_every_module():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    pkg = ROOT / "mcusim"
    modules = sorted(p.name for p in pkg.rglob("*.py") if p.name != "__init__.py" and p.parent.name != "cores")
    modules += sorted(f"{p.parent.name}/" for p in pkg.glob("*/__init__.py"))
    missing = [m for m in modules if m not in doc]
    assert not missing, f"docs/architecture.md does not mention {missing}"
