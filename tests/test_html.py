"""The HTML report is self-contained and renders (with its plots) in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mcusim.html import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def fake_run(path: str, scale: int) -> dict:
    return {
        "path": path, "kernels": "opt", "board": "stm32f411ce@100mhz", "flash_bytes": 9000 * scale,
        "ram_peak_bytes": 3000 * scale, "cycles": 50000 * scale, "latency_ms": 0.5 * scale, "energy_uj": 19.0 * scale,
        "dispatch_share": 0.1 * scale, "startup_cycles": 1000 * scale, "dsp_mac_share": 0.2,
        "ops": [{"index": 0, "type": "FULLY_CONNECTED", "shape": "1x250 -> 1x64", "macs": 16000, "cycles": 20000 * scale},
                {"index": 1, "type": "SOFTMAX", "shape": "1x16 -> 1x16", "macs": 0, "cycles": 3000 * scale}],
        "instruction_mix": {"dsp_mac": {"cycles": 8000}, "load": {"cycles": 12000 * scale}},
        "flash_breakdown": {"kernels": 3000, "runtime": 4000 * scale, "model": 2000},
        "ram_breakdown": {"static": 100, "arena": 2000 * scale, "stack": 400, "heap": 0},
    }


def test_page_is_self_contained():
    page = render_html([fake_run("tinyml", 2), fake_run("classic", 1)], "m.tflite: tinyml vs classic")
    assert page.count("<svg") == 5
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "FULLY_CONNECTED" in page and "tinyml (opt)" in page and "classic (opt)" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/setup.sh installs it)")
def test_page_renders_with_its_plots_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html([fake_run("tinyml", 2), fake_run("classic", 1)], "render check"))
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<svg") == 5 and dom.count("<rect") > 10
    png = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                    "--window-size=1100,1600", page.as_uri()], capture_output=True, timeout=120)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page compresses to a few KB
