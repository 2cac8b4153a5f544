"""The classic ML loaders and code-generation helpers (no simulator)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("skops")

from sklearn.datasets import load_iris
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC

from mcusim.classicml.codegen import _f, _threshold
from mcusim.classicml.model import (
    default_samples,
    from_estimator,
    load,
    load_onnx,
    load_samples,
)
from mcusim.errors import McusimError, ModelError

X, Y = load_iris(return_X_y=True)
X = X.astype(np.float32)


def test_threshold_rounds_down_exactly():
    rng = np.random.default_rng(1)
    for t in rng.normal(size=200) * 10.0 ** rng.integers(-8, 4, 200):
        f = np.float32(_threshold(t))
        assert float(f) <= t and float(np.nextafter(f, np.float32(np.inf))) > t
        x = np.array([np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))], np.float32)
        assert np.array_equal(x.astype(np.float64) <= t, x <= f)


def test_float_literal_reads_back():
    for v in (1.0, 5.0, -0.1, 3.4e38, 1e-40, 2.45):
        assert np.float32(float(_f(v)[:-1])) == np.float32(v)


def test_skops_roundtrip(tmp_path):
    import skops.io as sio

    est = GaussianNB().fit(X, Y)
    sio.dump(est, tmp_path / "nb.skops")
    m = load(tmp_path / "nb.skops")
    assert m.kind == "gaussian_nb" and m.source == "skops" and np.array_equal(m.predict(X), est.predict(X))


def test_onnx_svm_params_match_sklearn(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    est = SVC(kernel="poly", degree=2, gamma=0.3, coef0=1.0).fit(X, (Y == 1).astype(int))
    (tmp_path / "s.onnx").write_bytes(skl2onnx.to_onnx(est, X[:1]).SerializeToString())
    m = load_onnx(tmp_path / "s.onnx")
    ref = from_estimator(est, "estimator")
    assert m.params["kernel"] == "poly" and m.params["degree"] == 2
    assert np.allclose(m.params["dual_coef"], ref.params["dual_coef"], rtol=1e-6)
    assert np.isclose(m.params["intercept"], ref.params["intercept"], rtol=1e-6)
    assert np.array_equal(m.predict(X), est.predict(X))


def test_bad_files(tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"not protobuf at all \xff\xff")
    with pytest.raises(ModelError):
        load(tmp_path / "x.onnx")
    with pytest.raises(ModelError, match="no such file"):
        load(tmp_path / "missing.skops")
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(g), str(tmp_path / "relu.onnx"))
    with pytest.raises(ModelError, match="this one has Relu"):
        load(tmp_path / "relu.onnx")


def test_samples(tmp_path):
    m = from_estimator(GaussianNB().fit(X, Y), "estimator")
    d = default_samples(m)
    assert d.shape == (16, 4) and d.dtype == np.float32 and np.array_equal(d, default_samples(m))
    np.save(tmp_path / "s.npy", X[:3].astype(np.float64))
    assert load_samples(tmp_path / "s.npy", m).dtype == np.float32
    np.save(tmp_path / "bad.npy", np.zeros((2, 3)))
    with pytest.raises(McusimError, match="4 features"):
        load_samples(tmp_path / "bad.npy", m)
