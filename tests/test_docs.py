"""Documents that describe the code must stay true."""

from __future__ import annotations

from pathlib import Path

from mcusim.costmodel import markdown_tables

ROOT = Path(__file__).resolve().parent.parent


def test_cost_model_doc_matches_the_tables():
    doc = (ROOT / "docs" / "cost-model.md").read_text()
    assert markdown_tables() in doc, "regenerate the tables in docs/cost-model.md"


def test_architecture_doc_names_every_module():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    modules = sorted(p.name for p in (ROOT / "mcusim").glob("*.py") if p.name != "__init__.py")
    missing = [m for m in modules if m not in doc]
    assert not missing, f"docs/architecture.md does not mention {missing}"
