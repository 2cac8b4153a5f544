"""The generated hostile firmware corpus (tests/hostile_firmware.py) through `mcusim sim`:
every case ends in a report (exit 0) or one `error:` line (exit 1 fault/budget, 2 refused
image) within its instruction budget; never a traceback, an internal error or a hang.
A sample (two cases per category) runs by default; 260 more in the slow tier."""

from __future__ import annotations

import time

import pytest
from hostile_firmware import CATEGORIES, build, case
from simhelpers import needs_gcc

from mcusim.cli import main

pytestmark = needs_gcc
SAMPLE = range(0, 2 * len(CATEGORIES))
SLOW = range(2 * len(CATEGORIES), 2 * len(CATEGORIES) + 260)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def run_case(seed: int, out_dir, capfd) -> None:
    c = case(seed)
    elf = build(c, out_dir)
    t = time.monotonic()
    code = main(["sim", str(elf), "--board", c.board, "--max-instructions", "200000"])
    seconds = time.monotonic() - t
    err = capfd.readouterr().err
    assert code in (0, 1, 2), (c.name, code, err)
    assert "Traceback" not in err and "internal error" not in err, (c.name, err)
    if code:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (c.name, err)
    assert seconds < 30, (c.name, seconds)  # a 200,000-instruction budget takes well under a second


@pytest.mark.parametrize("seed", SAMPLE)
def test_hostile_sample(seed, out_dir, capfd):
    run_case(seed, out_dir, capfd)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SLOW)
def test_hostile_corpus(seed, out_dir, capfd):
    run_case(seed, out_dir, capfd)


def test_generator_is_deterministic_and_covers_every_category():
    assert case(7).source == case(7).source
    assert {case(s).category for s in SAMPLE} == set(CATEGORIES)
