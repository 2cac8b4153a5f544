"""The HTML report: self-contained, numeric axes, fixed colours, limit lines, battery life; and it
renders in headless Chromium with its bars and lines in their colours (read back from the
screenshot's pixels)."""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import zlib

import numpy as np
import pytest

from mcusim.present.html import (
    FLASH_COLOURS,
    HEADROOM_COLOUR,
    MIX_COLOURS,
    PART_COLOUR,
    RAM_COLOURS,
    STACK_COLOURS,
    Axis,
    bytes_axis,
    colours,
    render_html,
)
from mcusim.simulator.board import get_board

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def fake_run(path: str, kernels: str, scale: int, battery: bool = False) -> dict:
    rep = {
        "path": path, "kernels": kernels, "board": "stm32f411ce@100mhz", "clock_hz": 100_000_000,
        "flash_bytes": 9000 * scale, "ram_peak_bytes": 3000 * scale, "cycles": 50000 * scale,
        "latency_ms": 0.5 * scale, "energy_uj": 19.0 * scale, "dispatch_share": 0.1 * scale,
        "startup_cycles": 1000 * scale, "startup_ms": 0.01 * scale, "dsp_mac_share": 0.2,
        "branch_refill_cycles": 2000, "wait_state_cycles": 4000,
        "ops": [{"index": 0, "type": "FULLY_CONNECTED", "shape": "1x250 -> 1x64", "macs": 16000, "weights_bytes": 16256,
                 "activation_bytes": 314, "cycles": 20000 * scale, "share": 0.4},
                {"index": 1, "type": "SOFTMAX", "shape": "1x16 -> 1x16", "macs": 0, "weights_bytes": 0,
                 "activation_bytes": 32, "cycles": 3000 * scale, "share": 0.06}],
        "instruction_mix": {"dsp_mac": {"cycles": 8000}, "load": {"cycles": 12000 * scale}, "alu": {"cycles": 24000}},
        "flash_breakdown": {"kernels": 3000, "runtime": 4000 * scale, "model": 2000},
        "ram_breakdown": {"static": 100, "arena": 2000 * scale, "stack": 400, "heap": 0},
        "stack": {"label": f"{path}/{kernels}", "description": f"{path} runtime + {kernels} kernels",
                  "real": path == "tflm" or kernels == "cmsis-nn"},
    }
    if battery:
        rep["battery"] = {"inferences_per_day": 86400.0, "battery_mah": 220.0, "sleep_current_ua": 10.0,
                          "active_s_per_day": 43.2 * scale, "average_current_ua": 15.0 * scale,
                          "battery_days": 611.1 / scale, "cold_start": True, "cold_start_share": 0.25}
    return rep


def four(battery: bool = False) -> list[dict]:
    return [fake_run("tflm", "cmsis-nn", 3, battery), fake_run("classic", "cmsis-nn", 2, battery),
            fake_run("tinyml", "opt", 2, battery), fake_run("classic", "opt", 1, battery)]


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, re.S)


def legend_colours(page: str) -> list[list[str]]:
    return [re.findall(r'class="sw" style="background:([^"]+)"', div)
            for div in re.findall(r'<div class="legend">(.*?)</div>', page, re.S)]


def test_page_is_self_contained_with_every_stack_side_by_side():
    page = render_html(four(), "m.tflite: four stacks")
    assert "<script" not in page and "<link" not in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "FULLY_CONNECTED" in page and "SOFTMAX" in page
    summary = page[page.index("<h2>Summary</h2>"):]
    header = html.unescape(summary[:summary.index("</tr>")])
    assert [h for h in re.findall(r"<th>([^<]+)<br>", header)] == ["tflm/cmsis-nn", "classic/cmsis-nn", "tinyml/opt",
                                                                    "classic/opt"]
    assert "real TFLM + real CMSIS-NN" in header and "real CMSIS-NN, mcusim's generated C" in header
    assert header.count("mcusim's own") == 2
    assert "27,000 B" in summary and "(0.67x)" in summary  # flash of the first, ratio of the second
    assert "5.1%" in summary and "6.9%" in summary  # 27,000 B of 512 KiB flash, 9,000 B of 128 KiB RAM, as %
    assert "16,256" in page and "314" in page  # tensor bytes per op


def test_every_plot_has_a_numeric_axis_with_tick_values():
    page = render_html(four(), "axes")
    plots = svgs(page)
    assert len(plots) == 7  # latency, use of the part, flash, RAM, cycles per op, bytes per op, mix
    for svg in plots:
        ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', svg)
        assert len(ticks) >= 3 and ticks[0] == "0" and any(re.match(r"[0-9.,]+\s?(KiB|k|%|B)?$", t) for t in ticks[1:])
    use = plots[1]
    assert ">20%<" in use and ">100%<" in use  # fractions shown as %
    assert "70% headroom rule" in use and "100% of the part" in use


def test_axis_ticks_are_round_numbers():
    kib = bytes_axis(66672)
    assert [kib.label(t) for t in kib.ticks(66672)] == ["0", "20 KiB", "40 KiB", "60 KiB", "80 KiB"]
    assert Axis("ms").ticks(0.6708) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    assert Axis("days").ticks(566) == pytest.approx([0, 200, 400, 600])


def test_values_are_written_on_the_stacked_bars():
    page = render_html(four(), "values")
    flash = next(s for s in svgs(page) if "Flash by component" in s)
    # runtime of the first stack: 12,000 B = 11.7 KiB, written inside its segment
    assert ">11.7<" in flash and "27,000 B · 5.1% of the part" in flash


def test_colours_follow_the_name_not_the_position():
    a = render_html(four(), "a")
    b = render_html(list(reversed(four())), "b")

    def fill_of(page: str, title_part: str) -> str:
        return re.search(r'fill="(#[0-9a-f]{6})"><title>[^<]*' + re.escape(title_part), page).group(1)

    for part, colour in (("tinyml/opt: latency", STACK_COLOURS["tinyml/opt"]), ("runtime", FLASH_COLOURS["runtime"]),
                         ("arena", RAM_COLOURS["arena"]), ("load ", MIX_COLOURS["load"])):
        assert fill_of(a, part) == fill_of(b, part) == colour
    for page in (a, b):
        for legend in legend_colours(page):
            assert legend and len(set(legend)) == len(legend)


def test_fixed_maps_and_unknown_names_never_repeat_a_colour():
    for fixed in (STACK_COLOURS, FLASH_COLOURS, RAM_COLOURS, MIX_COLOURS):
        assert len(set(fixed.values())) == len(fixed)
    names = [*FLASH_COLOURS, *(f"new-component-{i}" for i in range(30))]
    picked = colours(names, FLASH_COLOURS)
    assert len(set(picked.values())) == len(names)
    assert colours(["zzz", "kernels"], FLASH_COLOURS) == colours(["kernels", "zzz"], FLASH_COLOURS)  # not by position


def test_part_headroom_and_budget_lines_are_drawn():
    small = get_board("stm32f301k8")  # 64 KiB flash, 16 KiB RAM: the part's lines fit the component plots
    page = render_html(four(), "lines", board=small, budgets={"max_flash": 32768, "max_ram": 8192, "max_latency_ms": 1.2})
    flash = next(s for s in svgs(page) if "Flash by component" in s)
    assert "70% of the part" in flash and "part: 64 KiB" in flash and "budget 32 KiB" in flash
    assert f'stroke="{PART_COLOUR}"' in flash and f'stroke="{HEADROOM_COLOUR}"' in flash
    use = next(s for s in svgs(page) if "Use of the part" in s)
    assert "budget 32 KiB" in use and "budget 8 KiB" in use
    assert "budget 1.2 ms" in next(s for s in svgs(page) if "Latency per inference" in s)
    big = render_html(four(), "far")  # 512 KiB flash: said in words instead of squashing the bars
    assert "is off this scale" in big


def test_battery_life_only_with_a_duty_cycle():
    assert "Battery life" not in render_html(four(), "no duty")
    page = render_html(four(battery=True), "duty")
    section = page[page.index("<h2>Battery life</h2>"):page.index("<h2>Flash and RAM")]
    assert "86,400 inferences a day on a 220 mAh battery" in section and "powered down between inferences" in section
    assert "203.7 days (0.56 years)" in section and "45 µA" in section and "25.0%" in section
    assert len(svgs(section)) == 1


def read_png(data: bytes) -> np.ndarray:
    """RGB pixels of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", data[pos + 8:pos + 8 + n])
        elif kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + n])
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and not interlace
    bpp = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, 1 + w * bpp)
    out = np.zeros((h, w * bpp), np.uint8)
    prev = np.zeros(w * bpp, np.int64)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if f == 0:
            cur = line
        elif f == 1:  # Sub: a running sum per channel
            cur = (np.cumsum(line.reshape(w, bpp), axis=0) % 256).reshape(-1)
        elif f == 2:  # Up
            cur = (line + prev) % 256
        else:  # Average, Paeth: byte by byte
            cur_l, up = line.tolist(), prev.tolist()
            for i in range(len(cur_l)):
                a = cur_l[i - bpp] if i >= bpp else 0
                if f == 3:
                    cur_l[i] = (cur_l[i] + (a + up[i]) // 2) & 255
                else:
                    b, c = up[i], (up[i - bpp] if i >= bpp else 0)
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    cur_l[i] = (cur_l[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = np.array(cur_l, np.int64)
        out[y] = cur
        prev = cur
    return out.reshape(h, w, bpp)[:, :, :3]


def pixels_of(img: np.ndarray, colour: str) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.all(img == rgb, axis=2).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/setup.sh installs it)")
def test_page_renders_with_its_plots_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(four(battery=True), "render check", budgets={"max_flash": 49152}))
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert len(svgs(dom)) == 8 and dom.count("<rect") > 40 and 'class="tick"' in dom
    assert all(len(set(c)) == len(c) for c in legend_colours(dom))
    png = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                    "--window-size=1280,1000", page.as_uri()], capture_output=True, timeout=120)
    img = read_png(png.read_bytes())
    assert img.shape[:2] == (1000, 1280)
    # The top of the page: the latency bars in each stack's colour, the part and headroom lines.
    for stack in ("tflm/cmsis-nn", "classic/cmsis-nn", "tinyml/opt", "classic/opt"):
        assert pixels_of(img, STACK_COLOURS[stack]) > 2000, stack
    assert pixels_of(img, HEADROOM_COLOUR) > 100 and pixels_of(img, PART_COLOUR) > 200


def test_every_output_is_listed_with_its_tensor():
    """Outputs section: one row per output tensor (name, shape, type, the first values), as the
    terminal's run table has them; a report without output_tensors (older) names the index."""
    from mcusim.present.report import output_rows

    rep = fake_run("tinyml", "opt", 1)
    rep["outputs"] = [[-118], [0.25, -0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]
    rep["output_tensors"] = [{"name": "score", "dtype": "INT8", "shape": [1, 1]},
                             {"name": "probs", "dtype": "FLOAT32", "shape": [1, 10]}]
    assert output_rows(rep) == [("output 0 'score'", "1x1 INT8: [-118]"),
                                ("output 1 'probs'", "1x10 FLOAT32: [0.25, -0.5, 1, 2, 3, 4, 5, 6, ... (10 values)]")]
    page = render_html([rep], "t", get_board("stm32f411ce"))
    assert "<h2>Outputs</h2>" in page and html.escape("output 1 'probs'") in page
    assert html.escape("1x10 FLOAT32: [0.25, -0.5") in page
    del rep["output_tensors"]
    assert output_rows(rep)[0] == ("output 0", "[-118]")
