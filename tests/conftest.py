"""Shared fixtures. Tests live in one folder per layer, each folder one marker (docs/architecture.md):

  tests/unit/      marker ``unit``: Python and numpy only (no cross compiler, no emulator)
  tests/emulator/  marker ``emulator``: Unicorn on hand-written Thumb snippets and given ELFs
  tests/e2e/       marker ``e2e``: toolchain + emulator + the TFLM reference, whole models

``pytest -m unit`` runs the fast layer alone. ``needs_gcc`` skips a test when arm-none-eabi-gcc
is missing (it is always present in CI)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from simhelpers import zero_wait

from mcusim.simulator.board import Board, get_board

LAYERS = ("unit", "emulator", "e2e")
# e2e tests run the single-op corner cases of unit/test_reference_vs_tflm.py (CASES) on target:
# importable whichever folder pytest collects first.
sys.path.insert(0, str(Path(__file__).parent / "unit"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        layer = item.path.parent.name
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.path}: tests live in tests/unit, tests/emulator or tests/e2e")
        item.add_marker(layer)


@pytest.fixture
def m4() -> Board:
    return zero_wait(get_board("stm32f411ce"))
