"""A broken environment gets a clear answer: concurrent builds, an unwritable cache,
Ctrl-C during a run, and determinism across processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from simhelpers import needs_gcc

pytestmark = needs_gcc
EXAMPLE = "kernels/examples/dsp_dot.c"


def mcusim(*args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "mcusim.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_two_processes_building_the_same_image_share_a_consistent_cache(tmp_path):
    env = {**os.environ, "MCUSIM_CACHE": str(tmp_path / "cache")}
    outs = [tmp_path / f"r{i}.json" for i in range(2)]
    procs = [mcusim("sim", EXAMPLE, "--json", str(o), env=env) for o in outs]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    a, b = (json.loads(o.read_text()) for o in outs)
    assert a["cycles"] == b["cycles"] and a["flash_bytes"] == b["flash_bytes"]
    assert not [p for p in (tmp_path / "cache").rglob(".*") if p.is_file()]  # no temporaries left
    images = list((tmp_path / "cache" / "builds").glob("*/image.elf"))
    assert len(images) == 1


def test_read_only_cache_is_one_line(tmp_path):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    if os.access(cache, os.W_OK):
        pytest.skip("running as a user who can write anywhere (root)")
    p = mcusim("sim", EXAMPLE, env={**os.environ, "MCUSIM_CACHE": str(cache)})
    _, err = p.communicate(timeout=120)
    assert p.returncode == 2 and "cannot write to build cache" in err and "Traceback" not in err


def test_cache_path_that_is_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    p = mcusim("sim", EXAMPLE, env={**os.environ, "MCUSIM_CACHE": str(blocker / "cache")})
    _, err = p.communicate(timeout=120)
    assert p.returncode == 2 and err.startswith("error: ") and "Traceback" not in err


def test_ctrl_c_leaves_no_half_written_report(tmp_path):
    src = tmp_path / "spin.c"
    src.write_text("int main(void) { for (volatile unsigned i = 0; i < 400000000u; i++) {} return 0; }\n")
    out = tmp_path / "r.json"
    p = mcusim("sim", str(src), "--json", str(out))
    time.sleep(4)  # building, then simulating
    p.send_signal(signal.SIGINT)
    t = time.monotonic()
    _, err = p.communicate(timeout=120)
    assert time.monotonic() - t < 5  # the emulation stops at once, not after the whole run
    assert p.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".r.json*"))


def test_same_image_same_numbers_across_processes(tmp_path):
    outs = []
    for i in range(2):
        o = tmp_path / f"d{i}.json"
        p = mcusim("sim", EXAMPLE, "--board", "stm32l476rg@8mhz", "--json", str(o))
        p.communicate(timeout=300)
        outs.append(json.loads(o.read_text()))
    for key in ("cycles", "instructions", "ram_peak_bytes", "flash_bytes", "exit_code", "functions", "instruction_mix"):
        assert outs[0][key] == outs[1][key], key
