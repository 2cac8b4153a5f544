"""`mcusim sim` on firmware built the way vendor examples are (tests/firmware/, built with
arm-none-eabi-gcc here): no `_end`, a writable vector table in flash, malloc, newlib's rdimon
(semihosting printf/exit) and nosys exit, windows, and every bad case as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from simhelpers import needs_gcc, zero_wait
from vendorfw import FIRMWARE, berkeley_size, build_vendor, size_of

from mcusim.cli import main
from mcusim.errors import FirmwareFault
from mcusim.simulator.board import get_board
from mcusim.simulator.elf import Elf
from mcusim.simulator.machine import Machine, parse_window

pytestmark = needs_gcc
BOARD = get_board("stm32f411ce")
FLASH = (BOARD.flash_origin, BOARD.flash_origin + BOARD.flash_size)


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    d = tmp_path_factory.mktemp("vendorfw")
    return lambda source, **kw: build_vendor(d, source, **kw)


def sim_json(tmp_path, elf, *extra):
    out = tmp_path / "r.json"
    code = main(["sim", str(elf), "--json", str(out), *extra])
    return code, json.loads(out.read_text())


def test_memory_from_section_headers_equals_arm_none_eabi_size(fw, tmp_path):
    elf = fw("hello_rdimon.c", specs="rdimon")
    text, data, bss = berkeley_size(elf)
    sizes = size_of(elf)
    _, rep = sim_json(tmp_path, elf)
    assert rep["flash_bytes"] == text + data  # the writable vector table is flash, counted once
    assert "vectors" not in str(rep["ram_sections"]) and ".isr_vector" in rep["flash_sections"]
    assert rep["ram_static_bytes"] == sizes[".data"] + sizes[".bss"]
    # arm-none-eabi-size counts the heap/stack reservation as bss; the run measures their use.
    reserved = sizes["._user_heap_stack"]
    assert reserved >= 0x600 and bss == sizes[".bss"] + reserved
    assert rep["ram_reserved"] == {"._user_heap_stack": reserved}
    assert "_end" not in Elf(elf).symbols


def test_rdimon_printf_malloc_exit_code(fw, tmp_path):
    elf = fw("hello_rdimon.c", specs="rdimon")
    code, rep = sim_json(tmp_path, elf)
    assert code == 0
    assert rep["stdout"] == "hello from rdimon 42\nsum 3000\n"
    assert rep["stderr"] == "to stderr\n"
    assert rep["exit_code"] == 3
    rb = rep["ram_breakdown"]
    assert rb["heap"] >= 3000 and rep["heap_top"] > rb["static"]
    assert rep["ram_peak_bytes"] == rb["static"] + rb["heap"] + rb["stack"]
    end = Elf(elf).symbols["end"].addr  # newlib's heap starts at `end`
    assert rep["heap_top"] == end + rb["heap"]


def test_output_streams_to_the_terminal_and_exit_code_passes_through(fw, tmp_path):
    elf = fw("hello_rdimon.c", specs="rdimon")
    proc = subprocess.run([sys.executable, "-m", "mcusim", "sim", str(elf), "--exit-code"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.startswith("hello from rdimon 42\nsum 3000\n")  # before the report
    assert "to stderr" in proc.stderr


def test_json_to_stdout_is_the_report_alone(fw):
    elf = fw("hello_rdimon.c", specs="rdimon")
    proc = subprocess.run([sys.executable, "-m", "mcusim", "sim", str(elf), "--json", "-"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert rep["exit_code"] == 3 and not Path("-").exists()
    assert "hello from rdimon" in proc.stderr and "instruction mix" in proc.stderr


def test_nosys_exit_and_malloc(fw, tmp_path):
    code, rep = sim_json(tmp_path, fw("nosys_exit.c"))
    assert code == 0
    assert (rep["exit_code"], rep["stop"]) == (7, "_exit")
    assert rep["ram_breakdown"]["heap"] >= 4000
    assert rep["stdout"] == ""


def test_real_overflow_into_the_heap_is_still_caught(fw):
    ok = Machine(Elf(fw("overflow.c", defines={"DEPTH": 10}), flash=FLASH), BOARD).run(max_instructions=10_000_000)
    assert ok.exit_code == 1 and ok.heap_bytes >= 100 * 1024
    with pytest.raises(FirmwareFault, match="stack overflow: the stack grew down into the heap"):
        Machine(Elf(fw("overflow.c", defines={"DEPTH": 200}), flash=FLASH), BOARD).run(max_instructions=10_000_000)


def test_semihosting_calls(fw, tmp_path, capfd):
    code, rep = sim_json(tmp_path, fw("semihost_calls.c"))
    assert code == 0
    assert rep["exit_code"] == 42, rep  # otherwise the number of the failed check
    assert rep["stop"] == "semihosting SYS_EXIT_EXTENDED"
    assert rep["stdout"] == "[write0]\nto stdout\n" and rep["stderr"] == "to stderr\n"


@pytest.mark.parametrize("op,arg,what", [
    (0x04, 0x30000000, "SYS_WRITE0: string at 0x30000000 runs outside memory"),
    (0x05, 0x2001FFF8, "SYS_WRITE: buffer at 0x2001fff8+16: outside memory"),  # across the end of RAM
    (0x05, 0x7FFFFFF0, "SYS_WRITE: buffer at 0x7ffffff0+16: outside memory"),
    (0x16, 0x08000000, "SYS_HEAPINFO: result block at"),
    (0x18, 0x20026, None),
])
def test_semihosting_with_garbage_arguments_is_one_line(fw, tmp_path, capsys, op, arg, what):
    elf = fw("semihost_calls.c", defines={"GARBAGE": hex(arg), "GARBAGE_OP": hex(op)})
    code = main(["sim", str(elf)])
    err = capsys.readouterr().err
    if what is None:
        assert code == 0, err
        return
    assert code == 1 and err.count("\n") == 1 and what in err, err


def test_unknown_semihosting_call_is_one_line(fw, capsys):
    assert main(["sim", str(fw("semihost_calls.c", defines={"UNKNOWN": "0x99"}))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "semihosting call 0x99 is not supported" in err


def run_window(elf_path, spec):
    board = zero_wait(BOARD)
    elf = Elf(elf_path, flash=FLASH)
    m = Machine(elf, board, window=parse_window(spec, elf))
    res = m.run(max_instructions=10_000_000)
    return res, m.window_stats


def test_window_entry_to_return_of_one_function(fw):
    res, w = run_window(fw("window.c"), "work")
    assert len(w.occurrences) == 3 and sum(w.occurrences) == w.cycles
    # From the entry of work to its return: work and leaf, nothing of main.
    assert set(w.functions) == {"work", "leaf"}
    assert w.functions["work"].cycles == res.functions["work"].cycles
    assert w.functions["leaf"].cycles == res.functions["leaf"].cycles
    assert (w.functions["work"].calls, w.functions["leaf"].calls) == (3, 60)
    assert res.functions["work"].calls == 3 and res.functions["main"].calls == 1


def test_window_between_two_functions_and_between_probe_tags(fw):
    res, w = run_window(fw("window.c"), "work:done")
    assert len(w.occurrences) == 1 and "main" in w.functions and w.functions["work"].calls == 3
    res2, p = run_window(fw("window.c"), "0x11:0x22")
    assert p.functions["work"].calls == 1 and p.functions["leaf"].calls == 20
    assert p.cycles == res2.probes[1][0] - res2.probes[0][0]


def test_window_errors_are_one_line(fw, capsys):
    elf = str(fw("window.c"))
    assert main(["sim", elf, "--window", "nosuch"]) == 2
    assert main(["sim", elf, "--window", "work:0x11"]) == 2
    assert main(["sim", elf, "--window", "0x55:0x66"]) == 2  # never stored
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(e.startswith("error: --window") for e in err)


def test_mix_refill_and_wait_states_add_up(fw, tmp_path):
    _, rep = sim_json(tmp_path, fw("window.c"))
    mix = sum(c["cycles"] for c in rep["instruction_mix"].values())
    assert rep["branch_refill_cycles"] == rep["taken_branches"] * 2  # P = 2 on the M4
    assert rep["wait_state_cycles"] > 0  # 3 wait states at 100 MHz
    assert mix + rep["branch_refill_cycles"] + rep["wait_state_cycles"] == rep["cycles"]
    # `pop {pc}` is a load_multiple of 1 + N cycles; its refill is no longer booked there.
    assert sum(f["cycles"] for f in rep["functions"]) == rep["cycles"]


def test_cli_window_reports_the_window(fw, tmp_path):
    _, rep = sim_json(tmp_path, fw("window.c"), "--window", "work:work")
    assert rep["window"]["occurrences"] == 3 and rep["window"]["run_cycles"] > rep["cycles"]
    # The flash wait states of fetching each return target are booked where they land (main).
    assert {f["name"] for f in rep["functions"] if f["instructions"]} == {"work", "leaf"}
    assert all(st["count"] for st in rep["instruction_mix"].values())


# -- bad cases: one line, non-zero exit --------------------------------------------------

def _patched(tmp_path, elf: Path, word: int, value: int) -> Path:
    """A copy of ``elf`` with vector-table word ``word`` replaced (found by file offset)."""
    e = Elf(elf)
    vt = next(s for s in e.sections if s.name == ".isr_vector")
    data = bytearray(elf.read_bytes())
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as f:
        off = ELFFile(f).get_section_by_name(".isr_vector")["sh_offset"]
    assert vt.addr == BOARD.flash_origin
    data[off + 4 * word: off + 4 * word + 4] = value.to_bytes(4, "little")
    out = tmp_path / f"patched-{word}-{value:x}.elf"
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("word,value,what", [
    (0, 0x30000000, "initial stack pointer 0x30000000 (word 0 of the vector table at 0x08000000) is outside RAM"),
    (0, 0x00000000, "initial stack pointer 0x00000000"),
    (1, 0x08000100, "has bit 0 clear"),
    (1, 0x40000001, "points outside flash and RAM"),
])
def test_bad_vector_table_is_one_line(fw, tmp_path, capsys, word, value, what):
    assert main(["sim", str(_patched(tmp_path, fw("nosys_exit.c"), word, value))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and what in err, err


def test_vector_table_elsewhere_says_where(fw, tmp_path, capsys):
    script = tmp_path / "at_zero.ld"
    script.write_text((FIRMWARE / "vendor.ld").read_text().replace("ORIGIN = 0x08000000", "ORIGIN = 0x00000000"))
    elf = fw("nosys_exit.c", script=script)
    assert main(["sim", str(elf)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "vector table is not at stm32f411ce's flash origin 0x08000000" in err
    assert "puts .isr_vector at 0x00000000" in err


def test_unreadable_non_elf_and_foreign_files_are_one_line(tmp_path, capsys):
    text = tmp_path / "notes.elf"
    text.write_text("hello\n")
    trunc = tmp_path / "trunc.elf"
    trunc.write_bytes(b"\x7fELF\x01\x01\x01" + b"\0" * 9)
    cases = [str(tmp_path), str(text), str(trunc), sys.executable]  # a directory, text, a stub, an x86 ELF
    for c in cases:
        assert main(["sim", c]) == 2, c
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len(cases) and all(e.startswith("error: ") for e in err)
    assert "is a directory" in err[0] and "not an ARM ELF" in err[3]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read and write anything")
def test_unreadable_file_and_unwritable_output_are_one_line(fw, tmp_path, capsys):
    locked = tmp_path / "locked.elf"
    locked.write_bytes(fw("nosys_exit.c").read_bytes())
    locked.chmod(0)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert main(["sim", str(locked)]) == 2
    assert main(["sim", str(fw("nosys_exit.c")), "--json", str(ro / "r.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "permission denied" in err[1].lower()


def test_output_paths_are_checked_before_the_run(fw, tmp_path, capsys):
    elf = str(fw("nosys_exit.c"))
    assert main(["sim", elf, "--json", str(tmp_path)]) == 2
    assert main(["sim", elf, "--json", str(tmp_path / "no" / "such" / "r.json")]) == 2
    err = capsys.readouterr()
    lines = err.err.strip().splitlines()
    assert len(lines) == 2 and "is a directory" in lines[0] and "does not exist" in lines[1]
    assert "cycles" not in err.out  # refused before simulating


def test_window_takes_cpp_names(tmp_path):
    src = tmp_path / "cpp.cc"
    src.write_text("namespace app { struct Interp { int Invoke(int n); };\n"
                   "__attribute__((noinline)) int Interp::Invoke(int n) { int s = 0; for (int i = 0; i < n; i++) s += i; return s; } }\n"
                   "volatile int sink;\nint main() { app::Interp it; sink = it.Invoke(50); sink = it.Invoke(5); return 0; }\n")
    elf = tmp_path / "cpp.elf"
    subprocess.run(["arm-none-eabi-g++", "-mcpu=cortex-m4", "-mthumb", "-O2", "-fno-exceptions", "-fno-rtti",
                    "-x", "c", str(FIRMWARE / "startup_vendor.c"), "-x", "c++", str(src), "-T", str(FIRMWARE / "vendor.ld"),
                    "--specs=nano.specs", "--specs=nosys.specs", "-o", str(elf)], check=True)
    e = Elf(elf, flash=FLASH)
    assert parse_window("app::Interp::Invoke", e) == parse_window("app::Interp::Invoke(int)", e)
    spec = parse_window("app::Interp::Invoke(int):main", e)
    assert spec.begin == "_ZN3app6Interp6InvokeEi" and spec.end == "main"
    m = Machine(e, BOARD, window=parse_window("app::Interp::Invoke", e))
    m.run(max_instructions=1_000_000)
    assert len(m.window_stats.occurrences) == 2
