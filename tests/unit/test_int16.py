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


@pytest.mark.parametrize("name, op", [("op16x8_add", "ADD"), ("op16x8_logistic", "LOGISTIC"),
                                      ("op16x8_tanh", "TANH")])
def test_ops_without_a_16x8_form_name_themselves(name: str, op: str) -> None:
    with pytest.raises(ModelError, match=rf"\({op}\).*INT16 \(16x8 mode\); mcusim does not run {op} with 16-bit"):
        parse_model((DATA / f"{name}.tflite").read_bytes())  # parsing validates


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
