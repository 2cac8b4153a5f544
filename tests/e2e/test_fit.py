"""`mcusim fit`: the runtime floor and the static lower bound (sound: never above a measured
image), parts ruled out without building, every operating point simulated, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc

from mcusim.analysis.partfit import (
    FLOOR_MODEL,
    fit,
    largest_activation,
    resolve_boards,
    runtime_floor,
    weights_bytes,
)
from mcusim.cli import main
from mcusim.frontend.tflite import load_model, parse_model
from mcusim.simulator.board import get_board
from mcusim.stacks.runner import run_model

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from tflite_builder import ModelBuilder, runtime_floor_model  # noqa: E402


def test_the_bundled_floor_model_is_the_builders():
    assert FLOOR_MODEL.read_bytes() == runtime_floor_model()


def big_fc(n: int) -> bytes:
    """One n x n FULLY_CONNECTED: n*n bytes of weights."""
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor((1, n), scale=0.05, zero_point=0)
    w = b.tensor((n, n), data=rng.integers(-127, 128, (n, n)), scale=0.01, zero_point=0)
    bias = b.tensor((n,), "INT32", data=np.zeros(n, np.int32), scale=0.0005, zero_point=0)
    y = b.tensor((1, n), scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, bias], [y])
    return b.io([x], [y]).build()


def test_weights_and_activations_of_the_bound():
    g = parse_model(big_fc(64))
    assert weights_bytes(g, "classic") == 64 * 64 + 64 * 4
    assert weights_bytes(g, "tinyml") == len(g.raw)
    assert largest_activation(g) == 64


def test_resolve_boards():
    names = [b.qualified_name for b in resolve_boards("stm32l4r5zi,stm32l476rg@8mhz")]
    assert names == ["stm32l4r5zi@120mhz", "stm32l4r5zi@80mhz", "stm32l4r5zi@26mhz", "stm32l476rg@8mhz"]


@needs_gcc
@pytest.mark.parametrize("path", ["tinyml", "classic"])
def test_the_lower_bound_is_below_what_the_images_need(path):
    board = get_board("stm32f411ce")
    floor = runtime_floor(path, "opt", board)
    assert floor["flash_bytes"] > 0 and "measured_with" in floor
    assert runtime_floor(path, "opt", board) == floor  # cached
    for model in ("kws_fc.tflite", "kws_dscnn.tflite", "img_cnn.tflite"):
        g = load_model(ROOT / "models" / model)
        rep = run_model(ROOT / "models" / model, path, board, "opt", graph=g).report
        assert floor["flash_bytes"] + weights_bytes(g, path) <= rep["flash_bytes"], model
        assert floor["ram_bytes"] + largest_activation(g) <= rep["ram_peak_bytes"], model


@needs_gcc
def test_fit_rules_out_parts_without_building_and_exits_1(tmp_path, capsys):
    model = tmp_path / "big.tflite"
    model.write_bytes(big_fc(768))  # 590 KB of weights: more than a 512 KB part's flash
    out = tmp_path / "fit.json"
    assert main(["fit", str(model), "--boards", "stm32f301k8,stm32f411ce", "--jobs", "1", "--json", str(out)]) == 1
    rep = json.loads(out.read_text())
    assert rep["schema"] == "mcusim.fit/2" and len(rep["rows"]) == 4
    assert all(r["basis"] == "static bound" and r["verdict"] == "does not fit" for r in rep["rows"])
    assert all(r["flash_lower_bound"] > r["flash_size"] for r in rep["rows"])
    assert rep["smallest"] == {"tinyml/opt": None, "classic/opt": None}
    assert "smallest part with headroom for tinyml/opt: none" in capsys.readouterr().out


@needs_gcc
def test_fit_rows_per_operating_point_with_latency(tmp_path):
    rep = fit(ROOT / "models" / "kws_dscnn.tflite", "classic", resolve_boards("stm32f301k8,stm32l476rg"))
    rows = {r["qualified_name"]: r for r in rep["rows"]}
    assert set(rows) == {"stm32f301k8@72mhz", "stm32l476rg@80mhz", "stm32l476rg@8mhz"}
    small = rows["stm32f301k8@72mhz"]  # 64 KB / 16 KB: RAM lacks room, found by the link
    assert small["basis"] == "link" and small["verdict"] == "does not fit" and "overflowed" in small["reason"]
    assert small["ram_static_bytes"] > 16384 and small["latency_ms"] is None
    fast, slow = rows["stm32l476rg@80mhz"], rows["stm32l476rg@8mhz"]
    assert fast["basis"] == slow["basis"] == "simulated" and fast["verdict"] == "fits with headroom"
    assert fast["flash_bytes"] == slow["flash_bytes"]  # one image, two operating points
    assert fast["cycles"] != slow["cycles"]  # other wait states
    assert fast["latency_ms"] == pytest.approx(fast["cycles"] / 80e6 * 1e3)
    assert rep["smallest"]["classic/opt"]["board"] == "stm32l476rg"
