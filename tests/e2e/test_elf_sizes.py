"""Flash and static RAM must equal what arm-none-eabi-size says about the same image."""

from __future__ import annotations

import re
import subprocess

import pytest
from simhelpers import needs_gcc

from mcusim.build.toolchain import KERNELS, build_elf
from mcusim.simulator.board import get_board
from mcusim.simulator.elf import Elf

pytestmark = needs_gcc


def size_tool(elf_path) -> tuple[dict[str, int], tuple[int, int, int]]:
    sysv = subprocess.run(["arm-none-eabi-size", "-A", str(elf_path)], capture_output=True, text=True, check=True).stdout
    sections = {}
    for line in sysv.splitlines():
        m = re.match(r"^(\.\S+)\s+(\d+)\s+(\d+)", line)
        if m:
            sections[m.group(1)] = int(m.group(2))
    berkeley = subprocess.run(["arm-none-eabi-size", str(elf_path)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(x) for x in berkeley.splitlines()[1].split()[:3])
    return sections, (text, data, bss)


@pytest.mark.parametrize("board", ["stm32f411ce", "stm32g071rb", "stm32h743zi"])
def test_flash_and_ram_equal_arm_none_eabi_size(board):
    b = get_board(board)
    elf = Elf(build_elf([KERNELS / "examples" / "dsp_dot.c"], b).elf)
    sections, (text, data, bss) = size_tool(elf.path)
    for s in elf.flash_sections() + elf.ram_sections():
        assert sections[s.name] == s.size, s.name
    assert elf.flash_bytes == text + data
    assert elf.static_ram_bytes == data + bss


def test_build_is_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("MCUSIM_CACHE", str(tmp_path))
    src = tmp_path / "a.c"
    src.write_text("int main(void) { return 1; }\n")
    b = get_board("stm32f411ce")
    first = build_elf([src], b)
    again = build_elf([src], b)
    assert not first.cached and again.cached and again.elf == first.elf
    src.write_text("int main(void) { return 2; }\n")
    assert build_elf([src], b).elf != first.elf


def test_compile_error_is_one_line(tmp_path, monkeypatch):
    from mcusim.errors import ToolchainError

    monkeypatch.setenv("MCUSIM_CACHE", str(tmp_path))
    src = tmp_path / "bad.c"
    src.write_text("int main(void) { return undefined_thing; }\n")
    with pytest.raises(ToolchainError, match=r"build failed for cortex-m4: .*bad.c:1:.*undefined_thing"):
        build_elf([src], get_board("stm32f411ce"))
    leftovers = [p for p in tmp_path.rglob(".*") if p.is_file()]
    assert leftovers == []  # no half-written objects or images


def test_missing_toolchain_says_how_to_install(monkeypatch):
    from mcusim.build import toolchain
    from mcusim.errors import ToolchainError

    toolchain.compiler_version.cache_clear()
    monkeypatch.setattr(toolchain, "GCC", "arm-none-eabi-gcc-that-does-not-exist")
    try:
        with pytest.raises(ToolchainError, match="apt-get install gcc-arm-none-eabi"):
            toolchain.compiler_version()
    finally:
        toolchain.compiler_version.cache_clear()


def test_object_cache_sees_headers_included_by_relative_path(tmp_path, monkeypatch):
    """A kernel includes ../../common/*.h by relative path: editing such a header must rebuild."""
    from mcusim.build import toolchain
    monkeypatch.setenv("MCUSIM_CACHE", str(tmp_path / "cache"))
    tree = tmp_path / "kernels"
    (tree / "src" / "common").mkdir(parents=True)
    (tree / "src" / "ref").mkdir()
    header = tree / "src" / "common" / "value.h"
    header.write_text("#define VALUE 1\n")
    src = tree / "src" / "ref" / "k.c"
    src.write_text('#include "../common/value.h"\nint main(void) { return VALUE; }\n')
    monkeypatch.setattr(toolchain, "KERNELS", tree)
    b = get_board("stm32f411ce")
    first = build_elf([src], b)
    header.write_text("#define VALUE 2\n")
    second = build_elf([src], b)
    assert second.elf != first.elf and not second.cached
