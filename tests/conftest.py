"""Shared fixtures. Tests are split by what they need (see docs/architecture.md):
unit tests need nothing, `needs_gcc` tests need arm-none-eabi-gcc (always present in CI)."""

from __future__ import annotations

import pytest

from mcusim.board import Board, get_board
from simhelpers import zero_wait


@pytest.fixture
def m4() -> Board:
    return zero_wait(get_board("stm32f411ce"))
