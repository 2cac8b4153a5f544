"""The student view: per-instruction counts of a kernel's inner loop."""

from __future__ import annotations

from simhelpers import needs_gcc

from mcusim.cli import main

pytestmark = needs_gcc


def test_annotate_shows_the_smlad_inner_loop_with_counts(capsys):
    assert main(["annotate", "kernels/examples/dsp_dot.c", "--function", "dot"]) == 0
    out = capsys.readouterr().out
    smlad = [ln for ln in out.splitlines() if "smlad" in ln]
    assert len(smlad) == 2
    for ln in smlad:
        assert "4,096" in ln and "dsp_mac" in ln  # 64 dot products x 64 iterations
    assert "ldr r3, [r1, #4]!" in out  # operands are shown verbatim (not eaten as markup)
    assert "no instruction set the Q flag" in out


def test_annotate_unknown_function_is_one_line(capsys):
    assert main(["annotate", "kernels/examples/dsp_dot.c", "--function", "nope"]) == 2
    assert "did not run" in capsys.readouterr().err
