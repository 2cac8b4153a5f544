"""16x8 mode (int16 activations, int8 weights): what the reference runs and what is refused.

Bit-exactness of the reference on the converter-made op16x8_*/net16x8_* files is checked by
test_reference_vs_tflm.py (it iterates tests/data); here: the refusals name the op and stack.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mcusim import operators
from mcusim.errors import ModelError
from mcusim.frontend.tflite import parse_model

DATA = Path(__file__).resolve().parents[1] / "data"


def lacking_16x8(monkeypatch: pytest.MonkeyPatch, op: str) -> None:
    """Pretend that no stack runs ``op``'s 16x8 form (every op the reference runs in 16x8 mode
    has one on tinyml and classic today): the refusal is tested on a real model."""
    monkeypatch.setitem(operators.registry(), op, replace(operators.registry()[op], int16_paths=()))


def test_stacks_refuse_only_the_16x8_ops_they_lack(monkeypatch: pytest.MonkeyPatch) -> None:
    net = parse_model((DATA / "net16x8_mixed.tflite").read_bytes())  # parsing validates
    for name in ("op16x8_mean", "op16x8_average_pool_2d", "op16x8_quantize_dequantize"):
        model = parse_model((DATA / f"{name}.tflite").read_bytes())
        for stack in ("tinyml", "classic"):
            operators.refuse_int16(model, stack)
    mean = parse_model((DATA / "op16x8_mean.tflite").read_bytes())
    lacking_16x8(monkeypatch, "MEAN")
    for stack in ("tinyml", "classic"):
        operators.refuse_int16(net, stack)  # CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, RESHAPE, FC, SOFTMAX
        with pytest.raises(ModelError, match=rf"op 0 \(MEAN\) has 16-bit activations.*the {stack} stack"):
            operators.refuse_int16(mean, stack)


def test_int8_model_is_not_refused() -> None:
    operators.refuse_int16(parse_model((DATA / "op_add.tflite").read_bytes()), "tinyml")


def test_16x8_add_mul_logistic_tanh_run_on_tinyml_and_classic() -> None:
    for name in ("add", "mul", "logistic", "tanh"):
        model = parse_model((DATA / f"op16x8_{name}.tflite").read_bytes())  # parsing validates
        for stack in ("tinyml", "classic"):
            operators.refuse_int16(model, stack)


def test_an_op_without_a_16x8_form_names_itself() -> None:
    from tflite_builder import ModelBuilder

    b = ModelBuilder()
    x, y = (b.tensor((1, 8), "INT16", scale=0.001) for _ in range(2))
    out = b.tensor((1, 8), "INT16", scale=0.002)
    b.op("SUB", [x, y], [out])
    with pytest.raises(ModelError, match=r"\(SUB\).*INT16 \(16x8 mode\); mcusim does not run SUB with 16-bit"):
        parse_model(b.io([x, y], [out]).build())  # parsing validates


def test_int16_sigmoid_tanh_refuse_an_output_scale_tflm_refuses() -> None:
    """TFLM's int16 LOGISTIC/TANH prepare requires an output scale of 2^-15 (CheckedLog2)."""
    import numpy as np
    from tflite_builder import ModelBuilder

    from mcusim.frontend.reference import run_graph

    for op in ("LOGISTIC", "TANH"):
        b = ModelBuilder()
        x = b.tensor((1, 8), "INT16", scale=2.0 ** -12)
        out = b.tensor((1, 8), "INT16", scale=2.0 ** -14)
        b.op(op, [x], [out])
        graph = parse_model(b.io([x], [out]).build())
        with pytest.raises(ModelError, match=rf"op 0 \({op}\) int16 output must have scale 2\^-15"):
            run_graph(graph, [np.zeros((1, 8), np.int16)])


def test_int16_sigmoid_power_of_two_case_follows_tflm_checked_log2() -> None:
    """An input scale of 2^-12 (TANH: or 2^-11), also within CheckedLog2's 1e-3 tolerance, is
    TFLM's power-of-two case (multiplier 3 << (12 + log2), no shift); other scales take the
    general multiplier."""
    from mcusim.operators.activation import checked_log2

    assert checked_log2(2.0 ** -12) == (True, -12) and checked_log2(2.0 ** -12 * 1.0006) == (True, -12)
    assert checked_log2(2.0 ** -11 * 0.9994) == (True, -11) and checked_log2(2.0 ** -12 * 1.001)[0] is False
    assert checked_log2(0.000476) == (False, -11)


def test_softmax_s16_kernel_tables_are_the_reference_ones() -> None:
    """mcu_softmax_s16.c holds SoftmaxInt16's two tables as constants; they must be what the
    reference builds (TFLM's LUTPopulate<int16_t> in float32)."""
    import re

    import numpy as np

    from mcusim.operators.activation import softmax16_tables

    src = (DATA.parents[1] / "kernels" / "src" / "ref" / "activation" / "mcu_softmax_s16.c").read_text()
    for name, want in zip(("exp_lut", "one_over_one_plus_x_lut"), softmax16_tables()):
        body = re.search(rf"{name}\[513\] = \{{(.*?)\}};", src, re.S)
        assert body is not None, name
        got = np.array([int(v) for v in body.group(1).replace("\n", " ").split(",") if v.strip()])
        assert np.array_equal(got, want), name


def test_the_s16_overflow_bound_uses_the_weights() -> None:
    from mcusim.stacks.cmsisnn import s16_worst_sum

    assert s16_worst_sum(np.full((2, 3, 3, 64), 113, np.int8)) == 32768 * 576 * 113 < 2 ** 31
    assert s16_worst_sum(np.full((2, 3, 3, 64), -114, np.int8)) >= 2 ** 31
    w = np.zeros((2, 3, 3, 64), np.int8)
    w[1] = 114  # the worst channel counts
    assert s16_worst_sum(w) == 32768 * 576 * 114
