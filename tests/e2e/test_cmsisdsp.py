"""CMSIS-DSP from the pinned cmsisdsp source distribution, compiled for the target core."""

from __future__ import annotations

import subprocess

import pytest

from mcusim.build import cmsisdsp
from mcusim.errors import ToolchainError
from mcusim.simulator.board import get_board
from mcusim.stacks.tflmtree import TflmTreeError, find_tree
from simhelpers import needs_gcc

pytestmark = needs_gcc


@pytest.fixture(scope="module")
def core_include():
    try:
        return cmsisdsp.core_include(find_tree(None).root)
    except TflmTreeError as e:
        pytest.skip(str(e))


def test_the_pinned_sources_unpack_with_their_headers():
    root = cmsisdsp.source_tree()
    assert root.name == f"cmsisdsp-{cmsisdsp.VERSION}"
    assert (root / "Include" / "arm_math.h").is_file()
    assert [p.name for p in cmsisdsp.sources(["arm_mfcc_f32", "CommonTables"])] == ["arm_mfcc_f32.c", "CommonTables.c"]


def test_an_unknown_function_is_one_clear_error():
    with pytest.raises(ToolchainError, match="no source for arm_no_such_f32"):
        cmsisdsp.sources(["arm_no_such_f32"])


def test_mfcc_compiles_for_the_m4_with_its_fpu(core_include):
    (obj, src), = cmsisdsp.objects(["arm_mfcc_f32"], get_board("stm32f411ce"), core_include)
    syms = subprocess.run(["arm-none-eabi-nm", str(obj)], capture_output=True, text=True, check=True).stdout
    assert " T arm_mfcc_f32" in syms
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(obj)], capture_output=True, text=True).stdout
    assert "VFPv4" in attrs or "FPv4" in attrs
