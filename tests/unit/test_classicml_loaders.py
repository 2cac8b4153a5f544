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


@pytest.mark.parametrize("labels", [(Y == 1).astype(int), Y], ids=["binary", "3 classes"])
def test_onnx_svm_params_match_sklearn(tmp_path, labels):
    skl2onnx = pytest.importorskip("skl2onnx")
    est = SVC(kernel="poly", degree=2, gamma=0.3, coef0=1.0).fit(X, labels)
    (tmp_path / "s.onnx").write_bytes(skl2onnx.to_onnx(est, X[:1]).SerializeToString())
    m = load_onnx(tmp_path / "s.onnx")
    ref = from_estimator(est, "estimator")
    assert m.params["kernel"] == "poly" and m.params["degree"] == 2
    assert len(m.params["pairs"]) == len(ref.params["pairs"]) == len(est.classes_) * (len(est.classes_) - 1) // 2
    for a, b in zip(m.params["pairs"], ref.params["pairs"]):
        assert (a["i"], a["j"]) == (b["i"], b["j"]) and np.array_equal(a["sv"], b["sv"])
        assert np.allclose(a["coef"], b["coef"], rtol=1e-6) and np.isclose(a["intercept"], b["intercept"], rtol=1e-6)
    assert np.array_equal(m.predict(X), est.predict(X))


def test_ovo_vote_is_libsvms():
    """The host's one-vs-one vote over the loader's pairs gives SVC.predict on every sample, and
    each pair's decision is scikit-learn's ovo decision_function."""
    from mcusim.classicml.model import _svm_kernel

    est = SVC(kernel="rbf", gamma=0.5, decision_function_shape="ovo").fit(X, Y)
    m = from_estimator(est, "estimator")
    m.estimator = None  # the numpy reference, not scikit-learn's predict
    assert np.array_equal(m.predict(X), est.predict(X))
    k = _svm_kernel(m.params, X.astype(np.float64))
    dec = np.stack([k[:, q["sv"]] @ q["coef"] + q["intercept"] for q in m.params["pairs"]], axis=1)
    assert np.allclose(dec, est.decision_function(X), atol=1e-9)


def test_regressor_loaders(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    import skops.io as sio
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    xr, yr = X[:, :3], X[:, 3]
    for est in (RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(xr, yr),
                LinearRegression().fit(xr, yr)):
        sio.dump(est, tmp_path / "m.skops")
        assert load(tmp_path / "m.skops").regression
        (tmp_path / "m.onnx").write_bytes(skl2onnx.to_onnx(est, xr[:1]).SerializeToString())
        m = load_onnx(tmp_path / "m.onnx")
        assert m.regression and np.abs(m.predict(xr) - est.predict(xr)).max() < 1e-5
    with pytest.raises(ModelError, match="several outputs"):
        from_estimator(LinearRegression().fit(xr, np.c_[yr, yr]), "estimator")


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
