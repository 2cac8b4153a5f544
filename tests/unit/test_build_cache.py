"""The object cache under concurrency: processes building the same library at once (pytest-xdist
workers, sweep workers, ``fit --jobs``) compile each object once (mcusim/build/toolchain.py)."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mcusim.build import toolchain


def _fake_compiler(tmp_path: Path) -> tuple[Path, Path]:
    counter = tmp_path / "compiles.log"
    cc = tmp_path / "fake-gcc"
    cc.write_text(f"""#!/bin/sh
sleep 0.3
echo compiled >> {counter}
out=""
while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
: > "$out"
""")
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    return cc, counter


def test_concurrent_builds_compile_each_object_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCUSIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(toolchain, "compiler_version", lambda: "fake 1.0")
    cc, counter = _fake_compiler(tmp_path)
    src = tmp_path / "k.c"
    src.write_text("int k;\n")
    # each call opens its own lock file description, as separate processes do
    with ThreadPoolExecutor(4) as pool:
        objs = list(pool.map(lambda _: toolchain._compile(src, ["-O2"], "h", "cortex-m4", str(cc)), range(4)))
    assert len(set(objs)) == 1 and objs[0].is_file()
    assert counter.read_text().count("compiled") == 1
    # a different object is not held up by the first one's lock stripe forever
    other = tmp_path / "other.c"
    other.write_text("int other;\n")
    assert toolchain._compile(other, ["-O2"], "h", "cortex-m4", str(cc)).is_file()
    assert counter.read_text().count("compiled") == 2
