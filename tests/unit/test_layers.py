"""The package layout is the data flow: rendering never loads the emulator."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_present_never_imports_the_emulator():
    mods = _loaded_after("import mcusim.present.report, mcusim.present.html, mcusim.present.annotate")
    assert not {m for m in mods if m.split(".")[0] in ("unicorn", "capstone") or m == "mcusim.simulator.machine"}


def test_the_result_types_load_without_the_emulator():
    mods = _loaded_after("from mcusim.simulator.result import RunResult, WindowStats")
    assert "unicorn" not in mods and "capstone" not in mods


def test_the_machine_does_load_unicorn():  # the check above can fail
    assert "unicorn" in _loaded_after("import mcusim.simulator.machine")
