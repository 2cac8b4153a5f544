"""The optimized kernels' hand-overs to their reference code are all named in the report."""

from __future__ import annotations

import re

from mcusim.build.toolchain import KERNELS
from mcusim.stacks.deploy import REF_HANDOVERS


def test_every_handover_to_reference_code_has_its_reason() -> None:
    """An optimized kernel that calls a ``<kernel>_ref`` copy of its reference code makes the
    report say why (deploy.REF_HANDOVERS); a new hand-over without a reason fails here."""
    calls = set()
    for src in (KERNELS / "src" / "opt").rglob("*.c"):
        calls |= set(re.findall(r"\b(mcu_\w+_ref)\s*\(", src.read_text()))
    assert calls, "the grouped-convolution hand-over of mcu_conv_s8 is gone: update REF_HANDOVERS"
    assert calls <= set(REF_HANDOVERS), calls - set(REF_HANDOVERS)
    assert set(REF_HANDOVERS) <= calls, set(REF_HANDOVERS) - calls  # no reason left for a gone hand-over
