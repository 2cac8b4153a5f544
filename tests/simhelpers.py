"""Helpers for tests that build and run firmware (import as `from simhelpers import ...`)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mcusim.build.toolchain import build_elf
from mcusim.simulator.board import Board

ROOT = Path(__file__).resolve().parent.parent

needs_gcc = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")


def zero_wait(board: Board) -> Board:
    """The board at its first operating point with flash wait states removed, so cycle counts
    in snippet tests are the core's own."""
    return replace(board, op=replace(board.op, flash_wait_states=0))



def build_asm(tmp_path: Path, body: str, board: Board, extra: str = "") -> Path:
    """Build an image whose main() calls `snippet` (body + `bx lr`) and returns its r0."""
    src = tmp_path / "snippet.S"
    src.write_text(
        "    .syntax unified\n    .thumb\n    .text\n"
        "    .global main\n    .type main, %function\n"
        "main:\n    push {r4, lr}\n    bl snippet\n    pop {r4, pc}\n"
        "    .size main, .-main\n"
        "    .balign 4\n    .type snippet, %function\n"
        f"snippet:\n{body}\n    bx lr\n    .size snippet, .-snippet\n{extra}\n"
    )
    return build_elf([src], board).elf


# Converter models of tests/data that mcusim does not run yet: each test over every model file
# expects them to fail (strict: a model that starts to pass must leave this list).
NOT_YET = {
}


def one_per_operator_set(paths: list[Path]) -> list[object]:
    """``paths`` (converter models of tests/data) as pytest parameters: the first model of each
    operator set (``ops`` in tests/data/op_models.json) in the default run, the variants of the
    same operators in the slow tier. For loops that build one image per model: the cheap
    per-model loops (tinyml's updatable image, the numpy reference) still cover every variant."""
    inventory = json.loads((Path(__file__).parent / "data" / "op_models.json").read_text())
    ops_of = {entry["file"]: tuple(entry["ops"]) for entry in inventory}
    seen: set[tuple[str, ...]] = set()
    params = []
    for p in model_params(paths):
        path = p if isinstance(p, Path) else p.values[0]
        key = ops_of.get(path.name, (path.name,))
        if key in seen:
            p = pytest.param(path, marks=[pytest.mark.slow, *(() if isinstance(p, Path) else p.marks)])
        seen.add(key)
        params.append(p)
    return params


def model_params(paths: list[Path]) -> list[object]:
    """``paths`` as pytest parameters, the NOT_YET models marked as expected (strict) failures
    and the benchmark-sized models of tests/data (``bench_*``: millions of MACs) in the slow tier."""
    params: list[object] = []
    for p in paths:
        marks = [pytest.mark.xfail(strict=True, reason=NOT_YET[p.name])] if p.name in NOT_YET else []
        marks += bench_marks(p)
        params.append(pytest.param(p, marks=marks) if marks else p)
    return params


def bench_marks(path: Path) -> list[pytest.MarkDecorator]:
    """The slow mark for the benchmark-sized models of tests/data (``bench_*``)."""
    return [pytest.mark.slow] if path.name.startswith("bench_") else []
