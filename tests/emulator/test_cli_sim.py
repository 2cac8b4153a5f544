"""`mcusim sim`, `mcusim boards`, `mcusim bench` from the command line: output, JSON, errors."""

from __future__ import annotations

import json
import subprocess
import sys

from simhelpers import needs_gcc

from mcusim.build.toolchain import KERNELS, build_elf
from mcusim.cli import main
from mcusim.simulator.board import get_board


def example_elf():
    return build_elf([KERNELS / "examples" / "dsp_dot.c"], get_board("stm32f411ce")).elf


@needs_gcc
def test_sim_prints_report_and_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["sim", str(example_elf()), "--board", "stm32f411ce", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "cycles" in text and "instruction mix" in text and "dot" in text
    rep = json.loads(out.read_text())
    for key in ("board", "core", "cycles", "instructions", "latency_ms", "energy_uj", "flash_bytes",
                "ram_peak_bytes", "ram_breakdown", "functions", "instruction_mix", "dsp_mac_share"):
        assert key in rep
    assert rep["exit_code"] == 8192  # (a . b) * 64 & 0x7fff, see kernels/examples/dsp_dot.c
    assert rep["instruction_mix"]["dsp_mac"]["count"] == 64 * 64 * 2
    b = get_board("stm32f411ce")
    assert rep["latency_ms"] == rep["cycles"] / b.op.clock_hz * 1e3
    assert abs(rep["energy_uj"] - rep["cycles"] / b.op.clock_hz * b.op.run_current_ua * b.op.supply_v) < 1e-9
    assert sum(f["cycles"] for f in rep["functions"]) == rep["cycles"]


def test_unknown_board_is_one_line_exit_2(capsys):
    assert main(["sim", "whatever.elf", "--board", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown board 'nope'") and err.count("\n") == 1


def test_missing_file_and_non_elf_are_one_line(tmp_path, capsys):
    assert main(["sim", str(tmp_path / "missing.elf")]) == 2
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"not an elf at all")
    assert main(["sim", str(junk)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)


@needs_gcc
def test_fault_exit_1_without_traceback(tmp_path):
    src = tmp_path / "null.c"
    src.write_text("int main(void) { return *(volatile int *)0x00000004 + *(volatile int *)0x1000; }\n")
    elf = build_elf([src], get_board("stm32f411ce")).elf
    proc = subprocess.run([sys.executable, "-m", "mcusim.cli", "sim", str(elf)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "read of unmapped address" in proc.stderr and "in main" in proc.stderr


def test_boards_lists_every_profile(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    for name in ("stm32f411ce", "stm32l476rg", "nrf52840", "stm32h743zi"):
        assert name in out


@needs_gcc
def test_export_cli_writes_a_project_that_builds_with_make(tmp_path, capsys):
    out = tmp_path / "proj"
    assert main(["export", "models/kws_fc.tflite", "--path", "classic", "--out", str(out)]) == 0
    proc = subprocess.run(["make", "-C", str(out), "-s"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    elfs = list((out / "build").glob("*.elf"))
    assert len(elfs) == 1
    assert main(["sim", str(elfs[0])]) == 0  # it runs to bkpt in the simulator
    assert main(["export", "models/kws_fc.tflite", "--path", "classic", "--out", str(out)]) == 2  # not empty


@needs_gcc
def test_bench_prints_the_accounting_ratio(capsys):
    assert main(["bench", "--repeat", "2000", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "accounting ratio:" in out and "raw Unicorn" in out and "minimal native block hook" in out
