"""Model interfaces on every stack: float32 and uint8 inputs and outputs (QUANTIZE/DEQUANTIZE at
the ends, as the converter writes them), several inputs and several outputs. Each model runs on
the simulator through the Python API with a dict of inputs and must match the tflite-micro
Python interpreter bit for bit, output by output, in the model's order; `--input X.npz` is
checked through the CLI, right and wrong."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tflite_builder import ModelBuilder

import mcusim
from mcusim.cli import main
from mcusim.frontend.graphinfo import default_inputs
from mcusim.frontend.tflite import load_model, parse_model

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CONVERTER_MODELS = ("io_float", "io_uint8", "io_two_inputs", "io_two_outputs")
STACKS = ("tinyml/opt", "classic/ref", "classic/opt", "classic/cmsis-nn", "tflm/cmsis-nn")
SLOW_STACKS = ("tinyml/ref", "tflm/ref")


def order_model() -> bytes:
    """Two inputs of one shape and two outputs of one shape, each order visible in the result:
    graph inputs (b, a) listed against their tensor order, outputs (QUANTIZE(b), ADD(a, b)) against
    their ops' order; a and b have different scales, so swapping them changes every output."""
    m = ModelBuilder()
    a = m.tensor((1, 8), scale=0.05, zero_point=3, name="a")
    b = m.tensor((1, 8), scale=0.11, zero_point=-7, name="b")
    s = m.tensor((1, 8), scale=0.2, zero_point=1, name="sum")
    r = m.tensor((1, 8), scale=0.07, zero_point=5, name="b_requantized")
    m.op("ADD", [a, b], [s])
    m.op("QUANTIZE", [b], [r])
    return m.io([b, a], [r, s]).build()


def uint8_rescale_model() -> bytes:
    """uint8 in -> int8 -> uint8 out with scales that differ at each QUANTIZE (the converter's
    uint8 interface keeps the scale, so its multipliers are the identity; these are not)."""
    m = ModelBuilder()
    x = m.tensor((1, 4, 4, 3), "UINT8", scale=0.031, zero_point=140, name="x")
    h = m.tensor((1, 4, 4, 3), scale=0.047, zero_point=-3, name="h")
    y = m.tensor((1, 4, 4, 3), "UINT8", scale=0.0213, zero_point=100, name="y")
    m.op("QUANTIZE", [x], [h])
    m.op("QUANTIZE", [h], [y])
    return m.io([x], [y]).build()


BUILT = {"io_order": order_model, "io_uint8_rescale": uint8_rescale_model}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    out = {name: DATA / f"{name}.tflite" for name in CONVERTER_MODELS}
    d = tmp_path_factory.mktemp("io")
    for name, make in BUILT.items():
        out[name] = d / f"{name}.tflite"
        out[name].write_bytes(make())
    return out


def random_inputs(path: Path, seed: int = 7) -> dict[str, np.ndarray]:
    """Inputs over each tensor's whole range, by input tensor name. A float input gets values
    spanning the int8 range of the QUANTIZE that reads it and beyond (saturation), values on a
    half step (rounding ties) and small ones."""
    rng = np.random.default_rng(seed)
    graph = load_model(path)
    out = {}
    for t in graph.input_tensors():
        if t.dtype == "FLOAT32":
            q = next(graph.tensors[op.outputs[0]] for op in graph.ops if op.inputs[0] == t.index)
            scale = np.float32(q.scale_value())
            steps = rng.uniform(-200, 200, t.size).astype(np.float32)
            steps[::5] = np.round(steps[::5]) + np.float32(0.5)  # ties
            x = steps * scale
            x[1::7] = rng.normal(0, 1, x[1::7].size)
            out[t.name] = x.astype(np.float32).reshape(t.shape)
        else:
            info = np.iinfo(t.numpy_dtype)
            out[t.name] = rng.integers(info.min, info.max + 1, t.shape, dtype=t.numpy_dtype)
    return out


def tflite_micro(path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(path.read_bytes())
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [it.get_output(i) for i in range(len(load_model(path).outputs))]


def check_outputs(got: list[np.ndarray], path: Path, inputs: list[np.ndarray]) -> None:
    want = tflite_micro(path, inputs)
    assert len(got) == len(want) == len(load_model(path).outputs)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, k
        np.testing.assert_array_equal(g, w.reshape(g.shape), err_msg=f"output {k}")


def _cases():
    for name in (*CONVERTER_MODELS, *BUILT):
        for stack in (*STACKS, *SLOW_STACKS):
            # A TFLM run takes ~25 s (its arena search runs start-up several times): by default
            # the float and uint8 models (io_order's two inputs and outputs on TFLM: slow).
            slow = stack in SLOW_STACKS or (stack.startswith("tflm") and name not in ("io_float", "io_uint8"))
            yield pytest.param(name, stack, id=f"{name}-{stack}", marks=[pytest.mark.slow] if slow else [])


@needs_gcc
@pytest.mark.parametrize("name,stack", _cases())
def test_interface_bit_exact_with_tflite_micro(models, name, stack):
    path_, kernels = stack.split("/")
    model = models[name]
    graph = load_model(model)
    by_name = random_inputs(model)
    r = mcusim.run(model, path_, kernels=kernels, inputs=by_name)
    ordered = [by_name[t.name] for t in graph.input_tensors()]
    check_outputs(r.outputs, model, ordered)
    d = r.to_dict()
    assert [t["name"] for t in d["output_tensors"]] == [t.name for t in graph.output_tensors()]
    assert [t["dtype"] for t in d["output_tensors"]] == [t.dtype for t in graph.output_tensors()]
    assert d["outputs"] == [o.reshape(-1).tolist() for o in r.outputs]
    # the default input too (its float/uint8 forms are documented in docs/json-schema.md)
    if stack == "tinyml/opt":
        check_outputs(mcusim.run(model, path_, kernels=kernels).outputs, model, default_inputs(graph))


@needs_gcc
def test_swapped_inputs_change_every_output(models):
    """The order test above can fail: io_order's outputs differ when its inputs are swapped."""
    model = models["io_order"]
    x = random_inputs(model)
    a, b = x["a"], x["b"]
    straight = tflite_micro(model, [b, a])
    swapped = tflite_micro(model, [a, b])
    assert all(not np.array_equal(s, w) for s, w in zip(straight, swapped))
    assert not np.array_equal(straight[0], straight[1])


@needs_gcc
def test_cli_npz_by_position_and_by_name(models, tmp_path, capsys):
    model = models["io_two_inputs"]
    graph = load_model(model)
    x = random_inputs(model, seed=3)
    ordered = [x[t.name] for t in graph.input_tensors()]
    want = [w.reshape(-1).tolist() for w in tflite_micro(model, ordered)]
    np.savez(tmp_path / "pos.npz", *ordered)
    np.savez(tmp_path / "named.npz", **{t.name: x[t.name] for t in reversed(graph.input_tensors())})
    for f in ("pos.npz", "named.npz"):
        assert main(["run", str(model), "--path", "tinyml", "--input", str(tmp_path / f),
                     "--json", str(tmp_path / f"{f}.json")]) == 0
        assert json.loads((tmp_path / f"{f}.json").read_text())["outputs"] == want, f
    out = capsys.readouterr().out
    assert f"output 0 {graph.output_tensors()[0].name!r}" in out and "1x3 INT8: [" in out


def test_cli_npz_refusals(models, tmp_path, capsys):
    """A wrong .npz is one line naming the file and the model's inputs, exit 2, before any build."""
    model = str(models["io_two_inputs"])
    i0, i1 = load_model(model).input_tensors()
    a, b = np.zeros(i0.shape, np.int8), np.zeros(i1.shape, np.int8)
    cases = {
        "count.npz": ((a,), {}, ("1 input array(s) given; the model has 2 input(s): "
                                f"{i0.name!r} 1x6 INT8, {i1.name!r} 1x8x8x2 INT8")),
        "swapped.npz": ((b, a), {}, "swapped.npz[arr_0]: shape (1, 8, 8, 2), the model's input 0"),
        "dtype.npz": ((a.astype(np.float32), b), {}, "dtype.npz[arr_0]: dtype float32, the model's input 0"),
        "key.npz": ((), {"image": b, "features": a}, "array 'features': the keys must be arr_0, arr_1"),
        "missing.npz": ((), {i0.name: a}, f"no array for input tensor {i1.name!r}"),
    }
    for f, (pos, named, message) in cases.items():
        np.savez(tmp_path / f, *pos, **named)
    np.save(tmp_path / "one.npy", a)
    (tmp_path / "junk.npz").write_text("not numpy")
    cases["one.npy"] = (None, None, "one.npy: 1 input array(s) given; the model has 2")
    cases["junk.npz"] = (None, None, "junk.npz: not an .npy or .npz file")
    for f, (_, _, message) in cases.items():
        assert main(["run", model, "--path", "tinyml", "--input", str(tmp_path / f)]) == 2, f
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (f, err)


def test_api_inputs_by_dict_list_and_file_are_checked(models, tmp_path):
    model = models["io_two_inputs"]
    i0, i1 = load_model(model).input_tensors()
    with pytest.raises(mcusim.McusimError, match=f"no array for input tensor {i1.name!r}"):
        mcusim.run(model, inputs={i0.name: np.zeros(i0.shape, np.int8)})
    with pytest.raises(mcusim.McusimError, match="dtype uint8"):
        mcusim.run(model, inputs=[np.zeros(i0.shape, np.uint8), np.zeros(i1.shape, np.int8)])
    np.savez(tmp_path / "x.npz", np.zeros(i0.shape, np.int8))
    with pytest.raises(mcusim.McusimError, match="x.npz: 1 input array"):
        mcusim.run(model, inputs=tmp_path / "x.npz")


def test_default_inputs_of_float_and_uint8_interfaces():
    """uint8: the int8 pattern + 128; float32: the pattern dequantized by the QUANTIZE reading
    the input, so each quantizes back to the int8 pattern of an int8 model."""
    f32, u8 = load_model(DATA / "io_float.tflite"), load_model(DATA / "io_uint8.tflite")
    (xf,), (xu,) = default_inputs(f32), default_inputs(u8)
    assert xf.dtype == np.float32 and xu.dtype == np.uint8
    i = np.arange(xf.size)
    pattern = ((i * 37 + 11) % 256 - 128).reshape(xf.shape)
    np.testing.assert_array_equal(xu.astype(np.int64) - 128, pattern)
    q = f32.tensors[f32.ops[0].outputs[0]]
    back = np.clip(np.round(xf / np.float32(q.scale_value())) + q.zero_point_value(), -128, 127)
    np.testing.assert_array_equal(back, pattern)


def test_order_model_reads_back():
    g = parse_model(order_model())
    assert [t.name for t in g.input_tensors()] == ["b", "a"]
    assert [t.name for t in g.output_tensors()] == ["b_requantized", "sum"]
