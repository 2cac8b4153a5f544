"""The .tflite reader: agrees with the schema's generated parser on every model file, decodes
options, rejects unsupported or non-int8 models with one clear line, and turns any malformed
input into ModelError (never IndexError, struct.error, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tflite_builder import ModelBuilder, single_op_model, tflm_refusal

from mcusim.errors import McusimError, ModelError
from mcusim.frontend.graph import Graph
from mcusim.frontend.reference import run_graph
from mcusim.frontend.validate import supported_ops
from mcusim.frontend.tflite import load_model, parse_model
from simhelpers import bench_marks, model_params

fb = pytest.importorskip("tflite_micro.tensorflow.lite.micro.python.schema_py_generated")

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILES = sorted(ROOT.glob("models/*.tflite")) + sorted(ROOT.glob("tests/data/*.tflite"))


def _enum_names(enum_class: Any) -> dict[int, str]:
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_") and isinstance(v, int)}


TENSOR_TYPE = _enum_names(fb.TensorType)
BUILTIN = _enum_names(fb.BuiltinOperator)


def _tiny_fc_model() -> ModelBuilder:
    b = ModelBuilder()
    x = b.tensor((1, 8), scale=0.05, zero_point=-3, name="input")
    w = b.tensor((4, 8), scale=[0.01, 0.02, 0.03, 0.04], quantized_dimension=0,
                 data=np.arange(32, dtype=np.int8).reshape(4, 8))
    bias = b.tensor((4,), "INT32", data=np.array([1, -2, 3, -4], np.int32))
    out = b.tensor((1, 4), scale=0.1, zero_point=5, name="output")
    b.op("FULLY_CONNECTED", [x, w, bias], [out], fused_activation_function="RELU")
    return b.io([x], [out])


TINY = _tiny_fc_model().build()


# --- agreement with the generated parser on real files ---------------------------------------
def _compare_with_schema(graph: Graph, data: bytes) -> None:
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    sub = model.subgraphs[0]
    assert graph.version == model.version
    assert graph.subgraph_count == len(model.subgraphs)
    assert list(graph.inputs) == list(sub.inputs) and list(graph.outputs) == list(sub.outputs)
    assert len(graph.tensors) == len(sub.tensors)
    for mine, theirs in zip(graph.tensors, sub.tensors):
        assert mine.shape == tuple(theirs.shape if theirs.shape is not None else ())
        assert mine.dtype == TENSOR_TYPE[theirs.type]
        assert mine.name == theirs.name.decode()
        assert mine.buffer == theirs.buffer
        qp = theirs.quantization
        scales = [] if qp is None or qp.scale is None else list(qp.scale)
        assert np.array_equal(mine.scale, np.asarray(scales, np.float32))
        if scales:
            assert np.array_equal(mine.zero_point, np.asarray(qp.zeroPoint, np.int64))
            assert mine.quantized_dimension == qp.quantizedDimension
        raw = model.buffers[theirs.buffer].data
        if raw is None or len(raw) == 0:
            assert mine.data is None
        else:
            assert mine.data is not None and mine.data.tobytes() == bytes(np.asarray(raw, np.uint8))
    for mine, theirs in zip(graph.ops, sub.operators):
        code = model.operatorCodes[theirs.opcodeIndex]
        assert mine.type == BUILTIN[max(code.builtinCode, code.deprecatedBuiltinCode)]
        assert list(mine.inputs) == list(theirs.inputs) and list(mine.outputs) == list(theirs.outputs)
        assert mine.version == code.version
        _compare_options(mine.options, theirs.builtinOptions)


def _compare_options(mine: dict[str, Any], theirs: Any) -> None:
    enums = {"padding": _enum_names(fb.Padding),
             "fused_activation_function": _enum_names(fb.ActivationFunctionType),
             "out_type": TENSOR_TYPE, "quantized_bias_type": TENSOR_TYPE,
             "weights_format": _enum_names(fb.FullyConnectedOptionsWeightsFormat)}
    for key, value in mine.items():
        camel = key.split("_")[0] + "".join(p.title() for p in key.split("_")[1:])
        if theirs is None:
            continue
        expected = getattr(theirs, camel)
        if key in enums:
            expected = enums[key][expected]
        elif isinstance(value, tuple):
            expected = tuple(expected) if expected is not None else ()
        elif isinstance(value, float):
            expected = float(np.float32(expected))
        assert value == expected, key


@pytest.mark.parametrize("path", model_params(MODEL_FILES), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_model_file_parses_like_the_schema(path: Path) -> None:
    data = path.read_bytes()
    try:
        graph = load_model(path)
    except ModelError as err:
        # Only acceptable for a model tflite-micro cannot run either.
        assert "\n" not in str(err)
        assert tflm_refusal(data) is not None, f"mcusim rejects a model TFLM runs: {err}"
        return
    _compare_with_schema(graph, data)
    assert set(graph.op_types()) <= set(supported_ops())


def test_tiny_model_fields() -> None:
    graph = parse_model(TINY)
    _compare_with_schema(graph, TINY)
    x, w, bias, out = graph.tensors
    assert x.name == "input" and x.dtype == "INT8" and x.data is None and not x.is_constant
    assert w.is_per_channel and w.scale.dtype == np.float32 and w.data is not None
    assert w.data.shape == (4, 8) and w.data.dtype == np.int8 and w.data[3, 7] == 31
    assert bias.data is not None and bias.data.tolist() == [1, -2, 3, -4]
    assert out.scale_value() == pytest.approx(0.1) and out.zero_point_value() == 5
    op = graph.ops[0]
    assert op.type == "FULLY_CONNECTED" and op.inputs == (0, 1, 2) and op.outputs == (3,)
    assert op.options["fused_activation_function"] == "RELU"
    assert op.options["keep_num_dims"] is False and op.options["weights_format"] == "DEFAULT"
    assert graph.input_tensors() == [x] and graph.output_tensors() == [out]
    assert graph.description == "mcusim test model" and graph.raw == TINY


def test_conv_options_decode() -> None:
    b = ModelBuilder()
    x = b.tensor((1, 9, 9, 2), scale=0.1)
    w = b.tensor((3, 3, 3, 2), scale=0.01, data=np.ones((3, 3, 3, 2), np.int8))
    out = b.tensor((1, 3, 2, 3), scale=0.1)
    b.op("CONV_2D", [x, w, -1], [out], padding="VALID", stride_w=3, stride_h=2,
         dilation_w_factor=2, dilation_h_factor=1, fused_activation_function="RELU6")
    graph = parse_model(b.io([x], [out]).build())
    assert graph.ops[0].inputs == (0, 1, -1)
    assert graph.ops[0].options == {
        "padding": "VALID", "stride_w": 3, "stride_h": 2, "fused_activation_function": "RELU6",
        "dilation_w_factor": 2, "dilation_h_factor": 1, "quantized_bias_type": "FLOAT32"}


def test_options_table_absent_gives_schema_defaults() -> None:
    b = _tiny_fc_model()
    b.sub.operators[0].builtinOptionsType = 0
    b.sub.operators[0].builtinOptions = None
    options = parse_model(b.build()).ops[0].options
    assert options["fused_activation_function"] == "NONE" and options["keep_num_dims"] is False


def test_deprecated_builtin_code_only() -> None:
    b = _tiny_fc_model()
    b.model.operatorCodes[0].builtinCode = 0       # older writers fill only the int8 field
    assert parse_model(b.build()).ops[0].type == "FULLY_CONNECTED"


# --- rejected models: one clear line ----------------------------------------------------------
def _expect_error(data: bytes, *fragments: str) -> str:
    with pytest.raises(ModelError) as info:
        parse_model(data)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_unsupported_builtin_op_is_named() -> None:
    data = single_op_model("FLOOR", [(1, 4)], (1, 4))
    message = _expect_error(data, "FLOOR", "op 0", "does not support", "supported:")
    assert "FULLY_CONNECTED" in message


def test_custom_op_is_named() -> None:
    b = _tiny_fc_model()
    b.model.operatorCodes[0].builtinCode = 32
    b.model.operatorCodes[0].deprecatedBuiltinCode = 32
    b.model.operatorCodes[0].customCode = "MyFancyOp"
    b.sub.operators[0].builtinOptionsType = 0
    b.sub.operators[0].builtinOptions = None
    _expect_error(b.build(), "custom op 'MyFancyOp'")


def test_unknown_op_code() -> None:
    b = _tiny_fc_model()
    b.model.operatorCodes[0].builtinCode = 9999
    _expect_error(b.build(), "operator code 9999")


@pytest.mark.parametrize("mutate, fragment", [
    (lambda b: setattr(b.sub.tensors[0], "type", 0), "is FLOAT32"),
    (lambda b: setattr(b.sub.tensors[3], "type", 7), "is INT16"),
    (lambda b: setattr(b.sub.tensors[0], "quantization", None), "without quantization"),
    (lambda b: setattr(b.sub.tensors[1], "buffer", 0), "must be a constant"),
    (lambda b: setattr(b.sub.tensors[1], "buffer", 99), "refers to buffer 99"),
    (lambda b: setattr(b.sub.operators[0], "inputs", [0, 1, 7]), "refers to tensor 7"),
    (lambda b: setattr(b.sub, "inputs", [12]), "graph input refers to tensor 12"),
    (lambda b: setattr(b.sub.tensors[1], "shape", [4, 9]), "needs 36 bytes"),
    (lambda b: setattr(b.sub.tensors[0], "shape", [-1, 8]), "dynamic shape"),
    (lambda b: setattr(b.sub.tensors[0].quantization, "scale", [0.0]), "scale"),
    (lambda b: setattr(b.sub.tensors[0].quantization, "zeroPoint", [300]), "zero point"),
    (lambda b: setattr(b.sub.operators[0], "builtinOptionsType", 1), "union type 1"),
    (lambda b: setattr(b.model, "subgraphs", []), "no subgraph"),
    (lambda b: setattr(b.sub.operators[0], "outputs", [3, 0]), "2 outputs"),
    (lambda b: setattr(b.sub.operators[0], "inputs", [0]), "needs at least 2"),
    (lambda b: setattr(b.sub.tensors[0], "shape", [1, 7]), "do not fit"),
    (lambda b: setattr(b.sub.tensors[3], "shape", [1, 5]), "do not fit"),
    (lambda b: (setattr(b.sub.tensors[2], "shape", [2]),
                setattr(b.model.buffers[b.sub.tensors[2].buffer], "data", [0] * 8)), "bias has 2"),
])
def test_invalid_models_are_rejected(mutate: Any, fragment: str) -> None:
    b = _tiny_fc_model()
    mutate(b)
    _expect_error(b.build(), fragment)


def test_broadcast_and_join_shapes_are_checked() -> None:
    _expect_error(single_op_model("ADD", [(1, 4, 3), (1, 4, 5)], (1, 4, 5)), "cannot broadcast")
    _expect_error(single_op_model("MUL", [(1, 4, 3), (3,)], (1, 4, 4)), "not the broadcast")
    _expect_error(single_op_model("CONCATENATION", [(1, 4, 3), (1, 5, 3)], (1, 9, 3), axis=2),
                  "do not fit")
    _expect_error(single_op_model("CONCATENATION", [(1, 4, 3), (1, 4, 3)], (1, 4, 6), axis=-7),
                  "axis -7")
    assert parse_model(single_op_model("CONCATENATION", [(1, 4, 3), (1, 4, 2)], (1, 4, 5), axis=-1))


def test_float_graph_input_allowed_only_into_quantize() -> None:
    data = single_op_model("QUANTIZE", [(1, 8)], (1, 8), in_dtypes=["FLOAT32"])
    assert parse_model(data).input_tensors()[0].dtype == "FLOAT32"
    float_relu = single_op_model("RELU", [(1, 8)], (1, 8), in_dtypes=["FLOAT32"])
    _expect_error(float_relu, "FLOAT32")


def test_missing_file() -> None:
    with pytest.raises(ModelError, match="cannot read model"):
        load_model("/nonexistent/model.tflite")


# --- malformed bytes --------------------------------------------------------------------------
@pytest.mark.parametrize("data, fragment", [
    (b"", "only 0 bytes"),
    (b"\x00" * 7, "only 7 bytes"),
    (b"\x10\x00\x00\x00TFL2" + b"\x00" * 40, "file identifier"),
    (b"\x10\x00\x00\x00TFL3" + b"\x00" * 4, "outside"),
    (b"\xff\xff\xff\x7fTFL3" + b"\x00" * 40, "outside"),
])
def test_malformed_headers(data: bytes, fragment: str) -> None:
    _expect_error(data, fragment)


def test_every_truncation_is_a_model_error() -> None:
    for length in range(len(TINY)):
        with pytest.raises(ModelError):
            parse_model(TINY[:length])


def _parse_or_model_error(data: bytes) -> None:
    try:
        graph = parse_model(data)
    except ModelError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(graph, Graph)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(TINY) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_random_byte_flips_raise_model_error_only(flips: list[tuple[int, int]]) -> None:
    data = bytearray(TINY)
    for pos, value in flips:
        data[pos] = value
    _parse_or_model_error(bytes(data))


@settings(max_examples=200)
@given(st.binary(min_size=0, max_size=400))
def test_random_bytes_with_identifier(tail: bytes) -> None:
    _parse_or_model_error(tail[:4] + b"TFL3" + tail[4:])


@pytest.mark.parametrize("path", [pytest.param(p, marks=bench_marks(p)) for p in MODEL_FILES],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_byte_flips_on_real_models(path: Path) -> None:
    """Corrupt models raise ModelError; whatever still validates, the reference can run (or
    refuses with a McusimError): validation is what the kernels rely on."""
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    for _ in range(40):
        corrupt = bytearray(data)
        for pos in rng.integers(0, len(data), 3):
            corrupt[pos] = int(rng.integers(0, 256))
        try:
            graph = parse_model(bytes(corrupt))
        except ModelError as err:
            assert "\n" not in str(err)
            continue
        inputs = [rng.integers(-128, 128, t.shape).astype(np.int8) if t.dtype == "INT8"
                  else rng.normal(0, 1, t.shape).astype(np.float32) for t in graph.input_tensors()]
        try:
            with np.errstate(all="ignore"):
                run_graph(graph, inputs)
        except McusimError:
            pass
