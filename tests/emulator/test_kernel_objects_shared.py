"""The object cache: the kernel library compiles once per core, flags and defines, not once per
model (a model's generated headers are not its inputs), and a change that could alter an object
still rebuilds it."""

from __future__ import annotations

from pathlib import Path

from simhelpers import needs_gcc

from mcusim.build.toolchain import KERNELS, build_elf
from mcusim.simulator.board import get_board

pytestmark = needs_gcc

KERNEL = KERNELS / "src" / "ref" / "elementwise" / "mcu_add_s8.c"


def _model(d: Path, weight: int) -> Path:
    """A stand-in for generated code: a source and a header of its own in its include directory."""
    d.mkdir()
    (d / "model.h").write_text(f"#define WEIGHT {weight}\n")
    (d / "main.c").write_text('#include "model.h"\n#include "mcu_nn.h"\n'
                              "int main(void) { return WEIGHT - WEIGHT; }\n")
    return d / "main.c"


def _objects(build) -> dict[str, str]:
    return {src.name: Path(obj).name for obj, src in build.objects.items()}


def test_kernel_objects_are_shared_across_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MCUSIM_CACHE", str(tmp_path / "cache"))
    board = get_board("stm32f411ce")
    a, b = _model(tmp_path / "a", 1), _model(tmp_path / "b", 2)
    first = _objects(build_elf([a, KERNEL], board, include_dirs=[a.parent]))
    second = _objects(build_elf([b, KERNEL], board, include_dirs=[b.parent]))
    assert first["mcu_add_s8.c"] == second["mcu_add_s8.c"]
    assert first["startup.c"] == second["startup.c"]
    assert first["main.c"] != second["main.c"]  # each model's own code sees its own headers
    # other defines or another core: another kernel object
    other = _objects(build_elf([a, KERNEL], board, include_dirs=[a.parent], defines={"MCU_X": 1}))
    assert other["mcu_add_s8.c"] != first["mcu_add_s8.c"]
    m0 = _objects(build_elf([a, KERNEL], get_board("stm32g071rb"), include_dirs=[a.parent]))
    assert m0["mcu_add_s8.c"] != first["mcu_add_s8.c"]
    # a model header edited: its source is compiled again, the kernel is not
    (a.parent / "model.h").write_text("#define WEIGHT 3\n")
    edited = _objects(build_elf([a, KERNEL], board, include_dirs=[a.parent]))
    assert edited["main.c"] != first["main.c"] and edited["mcu_add_s8.c"] == first["mcu_add_s8.c"]
    # any file under kernels/ edited (kernel_tree_key): the kernel object is compiled again
    import mcusim.build.toolchain as toolchain

    monkeypatch.setattr(toolchain, "kernel_tree_key", lambda: "edited")
    assert _objects(build_elf([a, KERNEL], board, include_dirs=[a.parent]))["mcu_add_s8.c"] != first["mcu_add_s8.c"]
