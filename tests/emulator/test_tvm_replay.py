"""benchmarks/tvm_replay.py: microTVM's CMSIS-NN calls for KWS, replayed on the calibration ELF's
own CMSIS-NN code (docs/fidelity.md)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest
from simhelpers import ROOT

from mcusim.simulator.board import get_board

sys.path.insert(0, str(ROOT / "benchmarks"))
spec = importlib.util.spec_from_file_location("tvm_replay", ROOT / "benchmarks" / "tvm_replay.py")
tvm_replay = importlib.util.module_from_spec(spec)
sys.modules["tvm_replay"] = tvm_replay  # dataclasses look their module up
spec.loader.exec_module(tvm_replay)

SHARED = ROOT.parent / "shared" if (ROOT.parent / "shared").is_dir() else ROOT.parent.parent / "shared"
MODEL = SHARED / "models" / "kws_ref_model.tflite"
ELF = SHARED / "calibration" / "mlperf-tiny-l4r5" / "kws_ref_model_cmsis22.elf"
pytestmark = pytest.mark.skipif(not (MODEL.is_file() and ELF.is_file()),
                                reason="KWS model or calibration ELF not found (../shared)")


def test_generated_calls_carry_tvms_published_arguments():
    """The arguments the replay derives from the .tflite are the ones TVM generated
    (closed/OctoML/code/microtvm_cmsis_nn/NUCLEO_L4R5ZI/kws/model/codegen/host/src/default_lib{1,2}.c
    in mlcommons/tiny_results_v1.0): layer 1 as a depthwise convolution with channel multiplier
    64, the FC and softmax parameters, and the per-channel multipliers of the second pointwise
    convolution (TVM's constant_25)."""
    source, calls, out_len, layer1 = tvm_replay.generate(MODEL, {f: 0x08000000 for f in tvm_replay.FUNCS})
    assert calls[0].what.startswith("CONV_2D 10x4 as depthwise, channel multiplier 64")
    assert "static const dw_t p0 = {-83, -128, 64, {2,2}, {1,4}, {1,1}, {-128,127}};" in source
    assert "static const dims_t df0 = {1,10,4,64}" in source
    fc = next(i for i, c in enumerate(calls) if c.what.startswith("FULLY_CONNECTED"))
    assert f"static const fc_t p{fc} = {{128, 0, 14, {{-128,127}}}};" in calls[fc].code
    # TVM's FC multiplier is 1278221461: 40 units of 2^-31 (3e-8 relative) from TFLM's
    # double-precision QuantizeMultiplier, which the replay uses (its output is TFLM's, bit for bit).
    m, shift = re.search(rf"ptq_t q{fc} = {{(-?\d+), (-?\d+)}}", calls[fc].code).groups()
    assert abs(int(m) - 1278221461) <= 64 and int(shift) == -7
    assert "1, 12, 1242899200, 24, -124," in calls[-1].code
    m4 = re.search(r"RO int32_t m4\[64\] = \{([^}]*)\}", source).group(1).split(", ")
    assert [int(v) for v in m4[:3]] == [0x509DB936, 0x58C82B08, 0x5238DD0C]
    assert (out_len, layer1) == (12, 25 * 5 * 64)


@pytest.mark.slow
def test_replay_is_bit_exact_and_its_first_layer_costs_more_than_tflms():
    board = get_board("stm32l4r5zi")
    expected = json.loads((SHARED / "models" / "expected_outputs.json").read_text())
    r = tvm_replay.run(ELF, MODEL, board, expected["models"]["kws_ref_model"]["output_int8"])  # raises if wrong
    assert r.layers[0][0].startswith("CONV_2D 10x4 as depthwise")
    assert sum(c for _, c in r.layers) == r.total
    # The plain-C depthwise path (no DSP) against im2col + the DSP matrix kernel.
    assert r.layers[0][1] > 1.3 * r.tflm_layer1
