"""Classic ML models on the simulator: each estimator kind through each code generator,
predictions equal to scikit-learn's; the skops and ONNX loaders; bad options exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
pytest.importorskip("skops")
pytest.importorskip("emlearn")

from sklearn.datasets import load_iris
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import mcusim
from mcusim.cli import main
from mcusim.errors import McusimError

X, Y = load_iris(return_X_y=True)
X = X.astype(np.float32)
SAMPLES = X[::5]
BINARY = (Y == 2).astype(int)

CASES = [
    (lambda: DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, Y), "emlearn", "stm32g071rb"),
    (lambda: RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, Y), "emlearn", "stm32g071rb"),
    (lambda: ExtraTreesClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, Y), "mcusim", "stm32f411ce"),
    (lambda: RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, Y), "mcusim", "stm32g071rb"),
    (lambda: GaussianNB().fit(X, Y), "cmsis-dsp", "stm32f411ce"),
    (lambda: SVC(kernel="rbf", gamma=0.5).fit(X, BINARY), "cmsis-dsp", "stm32f411ce"),
    (lambda: SVC(kernel="linear").fit(X, BINARY), "cmsis-dsp", "stm32f411ce"),
    (lambda: SVC(kernel="poly", degree=2, gamma=0.2, coef0=1.0).fit(X, BINARY), "cmsis-dsp", "stm32f411ce"),
    (lambda: LogisticRegression(max_iter=500).fit(X, Y), "mcusim", "stm32f411ce"),
    (lambda: LinearSVC().fit(X, BINARY), "mcusim", "stm32g071rb"),
    (lambda: RidgeClassifier().fit(X, Y), "mcusim", "stm32f411ce"),
    (lambda: SVC(kernel="rbf", gamma=0.5).fit(X, Y), "cmsis-dsp", "stm32f411ce"),  # 3 classes: one-vs-one
    (lambda: SVC(kernel="poly", degree=3, gamma=0.2, coef0=1.0).fit(X, Y), "mcusim", "stm32g071rb"),
]


@pytest.mark.parametrize("make,library,board", CASES, ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_predictions_equal_sklearn(make, library, board):
    est = make()
    r = mcusim.run(est, board=board, library=library, inputs=SAMPLES)
    rep = r.report
    assert rep["prediction_mismatches"] == [] and rep["reference_match"]
    assert np.array_equal(np.asarray(rep["outputs"][0]), est.predict(SAMPLES))
    assert rep["predictions"] == len(SAMPLES) and rep["cycles"] > 0 and rep["energy_uj"] > 0
    assert rep["flash_breakdown"]["model"] > 0 and rep["ram_breakdown"]["stack"] > 0
    if library == "cmsis-dsp":
        assert rep["flash_breakdown"]["cmsis-dsp"] > 0


def test_skops_file_through_cli(tmp_path, capsys):
    import skops.io as sio

    est = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, Y)
    sio.dump(est, tmp_path / "forest.skops")
    np.savetxt(tmp_path / "x.csv", SAMPLES, delimiter=",")
    code = main(["run", str(tmp_path / "forest.skops"), "--board", "stm32g071rb", "--input", str(tmp_path / "x.csv"),
                 "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["outputs"][0] == est.predict(SAMPLES).tolist() and rep["source"] == "skops"
    assert "30 of 30 equal to scikit-learn predict()" in capsys.readouterr().out


def test_onnx_svm_equals_sklearn(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    est = SVC(kernel="rbf", gamma=0.5).fit(X, BINARY)
    (tmp_path / "svm.onnx").write_bytes(skl2onnx.to_onnx(est, X[:1]).SerializeToString())
    r = mcusim.run(tmp_path / "svm.onnx", board="stm32f411ce", inputs=X)
    assert np.array_equal(r.output, est.predict(X))


def test_onnx_linear_classifier(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    from mcusim.classicml.model import load_onnx

    est = LogisticRegression(max_iter=500).fit(X, Y)
    (tmp_path / "lr.onnx").write_bytes(skl2onnx.to_onnx(est, X[:1]).SerializeToString())
    m = load_onnx(tmp_path / "lr.onnx")
    assert m.kind == "linear" and np.array_equal(m.predict(X), est.predict(X))


def test_skops_refuses_untrusted_type(tmp_path, capsys):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    sio.dump(FunctionTransformer(os.system), tmp_path / "p.skops")  # a function skops does not trust
    assert main(["run", str(tmp_path / "p.skops")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "refusing to load untrusted type(s) posix.system" in err


def test_unsupported_estimator_and_wrong_options(tmp_path, capsys):
    from sklearn.neighbors import KNeighborsClassifier

    with pytest.raises(McusimError, match="not supported"):
        mcusim.run(KNeighborsClassifier().fit(X, Y))
    with pytest.raises(McusimError, match="SVC kernel 'sigmoid' is not supported"):
        mcusim.run(SVC(kernel="sigmoid").fit(X, Y))
    with pytest.raises(McusimError, match="--library cmsis-dsp does not run"):
        mcusim.run(DecisionTreeClassifier().fit(X, Y), library="cmsis-dsp")
    with pytest.raises(McusimError, match="features"):
        mcusim.run(GaussianNB().fit(X, Y), inputs=np.zeros((3, 5), np.float32))
    import skops.io as sio

    sio.dump(GaussianNB().fit(X, Y), tmp_path / "nb.skops")
    assert main(["run", str(tmp_path / "nb.skops"), "--kernels", "opt"]) == 2
    assert "--kernels, --lut-activations and --winograd are network options" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "nb.skops"), "--library", "emlearn"]) == 2
    assert "--library emlearn does not run GaussianNB" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["run", str(tmp_path / "nb.skops"), "--library", "nope"])
    assert e.value.code == 2


def test_float_disagreement_reported_exactly():
    """emlearn prints tree thresholds with %f (6 decimals) and compares with <: on features of
    order 1e-5 some samples flip. The run reports each one; mcusim's own trees (thresholds
    rounded down to float32, <=) agree on every sample."""
    x = (X * 1e-5).astype(np.float32)
    est = DecisionTreeClassifier(max_depth=4, random_state=0).fit(x, Y)
    rep = mcusim.run(est, board="stm32g071rb", library="emlearn", inputs=x).report
    want = est.predict(x)
    flipped = np.flatnonzero(np.asarray(rep["outputs"][0]) != want)
    assert len(flipped) > 0 and not rep["reference_match"]
    assert [m["sample"] for m in rep["prediction_mismatches"]] == flipped.tolist()
    m = rep["prediction_mismatches"][0]
    assert m["reference"] == want[m["sample"]] and m["features"] == x[m["sample"]].tolist()
    own = mcusim.run(est, board="stm32g071rb", library="mcusim", inputs=x).report
    assert own["reference_match"] and own["outputs"][0] == want.tolist()


def test_onnx_forest_equals_sklearn(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    est = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, Y)
    (tmp_path / "forest.onnx").write_bytes(skl2onnx.to_onnx(est, X[:1]).SerializeToString())
    r = mcusim.run(tmp_path / "forest.onnx", board="stm32g071rb", inputs=X)
    assert r.report["stack"]["label"] == "classic-ml/mcusim" and r.report["reference_match"]
    assert np.array_equal(r.output, est.predict(X))
    with pytest.raises(McusimError, match="--library emlearn does not run TreeEnsembleClassifier"):
        mcusim.run(tmp_path / "forest.onnx", library="emlearn")


def test_check_budgets(tmp_path, capsys):
    import skops.io as sio

    sio.dump(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y), tmp_path / "tree.skops")
    r = mcusim.check(tmp_path / "tree.skops", board="stm32g071rb", max_flash="64K", max_latency_ms=1.0, inputs=SAMPLES)
    assert r.ok
    assert main(["check", str(tmp_path / "tree.skops"), "--board", "stm32g071rb", "--max-flash", "100"]) == 1
    assert "over budget: flash" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "tree.skops"), "--path", "tinyml", "--max-flash", "64K"]) == 2


@pytest.mark.slow  # builds the keyword spotter's classic firmware (cold cache: ~20 s)
def test_compare_forest_against_network(tmp_path):
    """A classic model's libraries side by side, and an int8 network on the same board."""
    import skops.io as sio

    est = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, Y)
    sio.dump(est, tmp_path / "forest.skops")
    np.save(tmp_path / "x.npy", SAMPLES)
    net = Path(__file__).resolve().parents[2] / "models" / "kws_fc.tflite"
    c = mcusim.compare(tmp_path / "forest.skops", board="stm32f411ce", inputs=tmp_path / "x.npy",
                       against=[f"{net}:classic/opt"])
    rep = c.report
    assert rep["columns"] == ["forest.skops classic-ml/emlearn", "forest.skops classic-ml/mcusim",
                              "kws_fc.tflite classic/opt"]
    assert all(r["reference_match"] for r in rep["runs"])
    assert rep["runs"][0]["outputs"][0] == est.predict(SAMPLES).tolist()
    assert rep["ratios"]["kws_fc.tflite classic/opt"]["cycles"] == rep["runs"][2]["cycles"] / rep["runs"][0]["cycles"]


def test_run_html(tmp_path):
    import skops.io as sio

    sio.dump(GaussianNB().fit(X, Y), tmp_path / "nb.skops")
    assert main(["run", str(tmp_path / "nb.skops"), "--html", str(tmp_path / "r.html")]) == 0
    assert "classic-ml/cmsis-dsp" in (tmp_path / "r.html").read_text()


XR, YR = X[:, :3], X[:, 3]  # regression: petal width from the other three features


def test_regressors_against_sklearn():
    """A single tree is float-exact (its leaf values as float32, scikit-learn's comparisons); a
    forest's float32 mean and a linear model's float32 dot product are within float32 rounding,
    each difference listed and the largest reported."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    tree = DecisionTreeRegressor(max_depth=5, random_state=0).fit(XR, YR)
    rep = mcusim.run(tree, board="stm32f411ce", library="mcusim", inputs=XR).report
    assert rep["reference_match"] and rep["prediction_mismatches"] == []
    assert rep["outputs"][0] == tree.predict(XR).astype(np.float32).tolist()
    assert rep["output_tensors"][0]["dtype"] == "FLOAT32"
    rep = mcusim.run(tree, board="stm32f411ce", library="emlearn", inputs=XR[::5]).report  # leaf values printed %f
    assert 0 < rep["max_abs_error"] < 1e-6 and rep["output_tensors"][0]["dtype"] == "FLOAT32"
    for est in (RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0).fit(XR, YR), Ridge().fit(XR, YR)):
        xs = np.ascontiguousarray(XR[::5])  # scikit-learn's float32 BLAS result depends on the layout
        rep = mcusim.run(est, board="stm32g071rb", library="mcusim", inputs=xs).report
        got, want = np.asarray(rep["outputs"][0], np.float32), est.predict(xs)
        assert rep["max_abs_error"] == np.abs(got.astype(np.float64) - want).max() < 1e-5
        assert [m["sample"] for m in rep["prediction_mismatches"]] == np.flatnonzero(got != want.astype(np.float32)).tolist()
        assert rep["reference_match"] == (rep["prediction_mismatches"] == [])


def test_onnx_multiclass_svm_and_forest_regressor(tmp_path):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.ensemble import RandomForestRegressor

    svc = SVC(kernel="rbf", gamma=0.5).fit(X, Y)
    (tmp_path / "svm.onnx").write_bytes(skl2onnx.to_onnx(svc, X[:1]).SerializeToString())
    r = mcusim.run(tmp_path / "svm.onnx", board="stm32f411ce", library="mcusim", inputs=SAMPLES)
    assert r.report["reference_match"] and np.array_equal(r.output, svc.predict(SAMPLES))
    forest = RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(XR, YR)
    (tmp_path / "rf.onnx").write_bytes(skl2onnx.to_onnx(forest, XR[:1]).SerializeToString())
    r = mcusim.run(tmp_path / "rf.onnx", board="stm32f411ce", inputs=XR[::5])
    assert r.report["estimator"] == "TreeEnsembleRegressor" and r.report["max_abs_error"] < 1e-5


def test_check_baseline(tmp_path, capsys):
    """check --baseline gates a classic model as it gates a network: the same run passes, a
    cycles allowance below the growth fails, another library's baseline is another deployment."""
    import skops.io as sio

    sio.dump(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y), tmp_path / "tree.skops")
    np.save(tmp_path / "x.npy", SAMPLES)
    model, common = str(tmp_path / "tree.skops"), ["--board", "stm32f411ce", "--input", str(tmp_path / "x.npy")]
    assert main(["run", model, *common, "--library", "mcusim", "--json", str(tmp_path / "base.json")]) == 0
    r = mcusim.check(model, board="stm32f411ce", inputs=tmp_path / "x.npy", library="mcusim",
                     baseline=tmp_path / "base.json")
    assert r.ok and [g.metric for g in r.result.growth][:3] == ["flash", "ram", "cycles"]
    base = json.loads((tmp_path / "base.json").read_text())
    base["cycles"] -= 5
    (tmp_path / "faster.json").write_text(json.dumps(base))
    capsys.readouterr()
    assert main(["check", model, *common, "--library", "mcusim", "--baseline", str(tmp_path / "faster.json")]) == 1
    assert "regression: cycles" in capsys.readouterr().out
    assert main(["check", model, *common, "--baseline", str(tmp_path / "base.json")]) == 2  # default: emlearn
    assert "stack classic-ml/emlearn (baseline: classic-ml/mcusim)" in capsys.readouterr().err


def test_fit_classic(tmp_path, capsys):
    """fit runs each library on each part; a part the image does not link on (a board file with
    256 B of flash) is measured on an enlarged map and does not fit."""
    import skops.io as sio

    sio.dump(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y), tmp_path / "tree.skops")
    board = (Path(mcusim.__file__).parent / "simulator" / "boards" / "stm32f411ce.toml").read_text()
    (tmp_path / "tiny.toml").write_text(board.replace('name = "stm32f411ce"', 'name = "tiny"')
                                        .replace("size = 524288", "size = 256", 1))
    rep = mcusim.fit(tmp_path / "tree.skops", paths="mcusim", boards=f"stm32f411ce,{tmp_path / 'tiny.toml'}").report
    fits, tiny = rep["rows"]
    assert (fits["stack"], fits["basis"], fits["verdict"]) == ("classic-ml/mcusim", "simulated", "fits with headroom")
    assert fits["reference_match"] and fits["cycles"] > 0 and fits["flash_bytes"] > 256
    assert (tiny["basis"], tiny["verdict"]) == ("link", "does not fit") and tiny["flash_bytes"] == fits["flash_bytes"]
    assert rep["smallest"]["classic-ml/mcusim"]["board"] == "stm32f411ce"
    assert main(["fit", str(tmp_path / "tree.skops"), "--boards", "stm32f411ce", "--paths", "cmsis-dsp"]) == 2
    assert "--library cmsis-dsp does not run DecisionTreeClassifier" in capsys.readouterr().err
    # your samples (--input): the mean over them, as run's on the same samples
    np.save(tmp_path / "x.npy", X[:5].astype(np.float32))
    mine = mcusim.fit(tmp_path / "tree.skops", paths="mcusim", boards="stm32f411ce", inputs=tmp_path / "x.npy").report
    ran = mcusim.run(tmp_path / "tree.skops", board="stm32f411ce", library="mcusim", inputs=tmp_path / "x.npy").report
    (row,) = mine["rows"]
    assert (mine["samples"], mine["samples_from"], rep["samples_from"]) == (5, str(tmp_path / "x.npy"), "default")
    assert row["cycles"] == ran["cycles"] and row["reference_match"]
    samples = ["--boards", "stm32f411ce", "--input", str(tmp_path / "x.npy")]
    assert main(["fit", str(tmp_path / "tree.skops"), *samples]) == 0
    assert "the mean over 5 samples" in capsys.readouterr().out
    assert main(["fit", str(Path(mcusim.__file__).parents[1] / "models" / "kws_fc.tflite"), *samples]) == 2
    assert "--input is for a classic ML model's samples" in capsys.readouterr().err


def test_sweep_classic(tmp_path):
    """A sweep spec over a classic model x boards x libraries: a cell per library (path
    classic-ml), measured through the real cell function; a library that does not run the model
    is an error cell naming why."""
    import skops.io as sio

    from mcusim.sweep import InlineEngine, ResultsDB, load_spec, run_sweep

    sio.dump(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y), tmp_path / "tree.skops")
    (tmp_path / "s.toml").write_text('models = ["tree.skops"]\nboards = ["stm32f411ce"]\n'
                                     'libraries = ["mcusim", "cmsis-dsp"]\n[budgets]\nmax_flash = "64K"\n')
    spec = load_spec(tmp_path / "s.toml")
    assert [(c.path, c.kernels) for c in spec.cells()] == [("classic-ml", "mcusim"), ("classic-ml", "cmsis-dsp")]
    with ResultsDB(tmp_path / "r.db") as db:
        s = run_sweep(spec, db, InlineEngine())
        rows = {r["kernels"]: r for r in db.rows(with_report=True)}
    assert s.counts == {"ok": 1, "does_not_fit": 0, "error": 1}
    ok = rows["mcusim"]
    assert ok["status"] == "ok" and ok["within_budget"] == 1 and ok["cycles"] == ok["report"]["cycles"] > 0
    assert ok["report"]["reference_match"] and ok["report"]["predictions"] == 16  # the default samples
    assert "--library cmsis-dsp does not run DecisionTreeClassifier" in rows["cmsis-dsp"]["message"]
    (tmp_path / "bad.toml").write_text('models = ["tree.skops"]\nboards = ["stm32f411ce"]\nlibraries = ["tflm"]\n')
    with pytest.raises(McusimError, match="unknown libraries"):
        load_spec(tmp_path / "bad.toml")
