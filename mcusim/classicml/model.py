"""Classic ML models into one description: from a skops file, an ONNX-ML file (skl2onnx
output) or a fitted scikit-learn estimator. A pickle is never loaded: skops files are read with
``skops.io.load`` trusting only the types mcusim supports, ONNX files with the ``onnx`` package.

A :class:`ClassicModel` holds what code generation needs (``kind`` and ``params``) and the
host reference: scikit-learn's ``predict`` when the estimator is at hand (skops, API), else a
float64 numpy evaluation of the model's parameters (ONNX)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import McusimError, ModelError

TREES = ("DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier")
LINEAR = ("LogisticRegression", "LinearSVC", "RidgeClassifier")
TREE_REGRESSORS = ("DecisionTreeRegressor", "RandomForestRegressor", "ExtraTreesRegressor")
LINEAR_REGRESSORS = ("LinearRegression", "Ridge")
KINDS = {**{n: "forest" for n in TREES}, **{n: "linear" for n in LINEAR}, "GaussianNB": "gaussian_nb", "SVC": "svm",
         **{n: "forest_regressor" for n in TREE_REGRESSORS}, **{n: "linear_regressor" for n in LINEAR_REGRESSORS}}
"""Supported scikit-learn estimator class -> model kind."""
REGRESSION_KINDS = ("forest_regressor", "linear_regressor")
SVM_KERNELS = ("linear", "rbf", "poly")
SKOPS_EXTRA_TYPES = ("sklearn.tree._tree.Tree",)
"""Types beyond skops' defaults that a supported estimator's file holds (the trees' arrays)."""
SUFFIXES = (".skops", ".onnx")
ONNX_OPERATORS = ("SVMClassifier", "LinearClassifier", "TreeEnsembleClassifier", "TreeEnsembleRegressor",
                  "LinearRegressor")


@dataclass
class ClassicModel:
    name: str
    """The estimator's class name (``RandomForestClassifier``) or the ONNX-ML operator."""
    kind: str
    """``forest``, ``svm``, ``gaussian_nb``, ``linear``, ``forest_regressor`` or ``linear_regressor``."""
    n_features: int
    classes: np.ndarray
    """The class labels (empty for a regressor)."""
    params: dict[str, Any]
    source: str
    """``skops``, ``onnx`` or ``estimator``."""
    key: bytes
    """Content hash (the build cache key)."""
    estimator: Any = field(default=None, repr=False)

    @property
    def regression(self) -> bool:
        """A regressor: one float per sample (else a class index)."""
        return self.kind in REGRESSION_KINDS

    @property
    def reference(self) -> str:
        return "scikit-learn predict()" if self.estimator is not None else "numpy float64 evaluation of the ONNX parameters"

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The host reference's predictions for ``x`` (samples x features, float32)."""
        if self.estimator is not None:
            return np.asarray(self.estimator.predict(x))
        p, x = self.params, x.astype(np.float64)
        if self.kind == "svm":
            return self.classes[np.argmax(ovo_votes(p, _svm_kernel(p, x), len(self.classes)), axis=1)]
        if self.kind == "linear_regressor":
            return x @ p["coef"][0] + p["intercept"][0]
        if self.kind == "forest_regressor":
            return sum(t.value[t.leaves(x), 0] for t in p["trees"]) / p["divisor"]
        if self.kind == "linear":
            score = x @ p["coef"].T + p["intercept"]
            if score.shape[1] == 1:
                return self.classes[(score[:, 0] > 0).astype(int)]
            return self.classes[np.argmax(score, axis=1)]
        if self.kind == "forest":
            votes = sum(t.value[t.leaves(x)] for t in p["trees"])
            return self.classes[np.argmax(votes, axis=1)]
        raise McusimError(f"no host reference for {self.name}")


def ovo_votes(p: dict[str, Any], k: np.ndarray, n_classes: int) -> np.ndarray:
    """libsvm's one-vs-one vote, as scikit-learn's SVC.predict does it: pair (i, j) votes i when
    its decision (its support vectors' coefficients . kernel values + intercept) is > 0, else j;
    the class with most votes wins, the lowest index on a tie (argmax's first maximum)."""
    votes = np.zeros((len(k), n_classes), np.int64)
    for pair in p["pairs"]:
        dec = k[:, pair["sv"]] @ pair["coef"] + pair["intercept"]
        votes[np.arange(len(k)), np.where(dec > 0, pair["i"], pair["j"])] += 1
    return votes


def svm_pairs(n_support: Any, dual_coef: np.ndarray, intercept: np.ndarray) -> list[dict[str, Any]]:
    """libsvm's one-vs-one pairs (i < j, in libsvm's order) from its model: support vectors grouped
    by class (``n_support`` per class), ``dual_coef`` (classes - 1) x SVs, one intercept per pair
    (added to the decision; scikit-learn's ``_intercept_``, ONNX's ``rho``)."""
    start = np.r_[0, np.cumsum(n_support)].astype(np.int64)
    k = len(n_support)
    pairs = []
    for i in range(k):
        for j in range(i + 1, k):
            si, sj = np.arange(start[i], start[i + 1]), np.arange(start[j], start[j + 1])
            coef = np.r_[dual_coef[j - 1, si], dual_coef[i, sj]].astype(np.float64)
            pairs.append({"i": i, "j": j, "sv": np.r_[si, sj], "coef": coef,
                          "intercept": float(intercept[len(pairs)])})
    return pairs


def _svm_kernel(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    sv = p["support_vectors"].astype(np.float64)
    if p["kernel"] == "rbf":
        return np.exp(-p["gamma"] * ((x[:, None, :] - sv[None]) ** 2).sum(-1))
    dot = x @ sv.T
    if p["kernel"] == "poly":
        return (p["gamma"] * dot + p["coef0"]) ** p["degree"]
    return dot


def is_classic_file(model: Any) -> bool:
    return isinstance(model, (str, Path)) and Path(model).suffix.lower() in SUFFIXES


def is_estimator(model: Any) -> bool:
    return hasattr(model, "fit") and hasattr(model, "predict")


def load(model: Any) -> ClassicModel:
    """A skops or ONNX file (by suffix) or a fitted estimator."""
    if is_estimator(model):
        return from_estimator(model, "estimator")
    path = Path(model)
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    if path.suffix.lower() == ".skops":
        return load_skops(path)
    if path.suffix.lower() == ".onnx":
        return load_onnx(path)
    raise ModelError(f"{path}: not a classic ML model (use .skops or .onnx)")


def load_skops(path: Path) -> ClassicModel:
    """A skops file, loaded trusting only the types a supported estimator needs."""
    try:
        import skops.io as sio
    except ImportError:
        raise McusimError("reading .skops needs the classic-ml extra: pip install 'mcusim[classic-ml]'") from None
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as e:  # noqa: BLE001 - skops raises many kinds for a damaged file
        raise ModelError(f"{path}: not a readable skops file: {e}") from None
    refused = [t for t in untrusted if t not in SKOPS_EXTRA_TYPES]
    if refused:
        raise ModelError(f"{path}: refusing to load untrusted type(s) {', '.join(refused)}; mcusim loads only "
                         f"{', '.join(KINDS)}")
    try:
        est = sio.load(path, trusted=list(untrusted))
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"{path}: cannot load: {e}") from None
    return from_estimator(est, "skops", path.read_bytes())


def from_estimator(est: Any, source: str, raw: bytes | None = None) -> ClassicModel:
    name = type(est).__name__
    if name not in KINDS or not type(est).__module__.startswith("sklearn."):
        raise ModelError(f"{type(est).__module__}.{name} is not supported; mcusim runs {', '.join(KINDS)}")
    kind = KINDS[name]
    if not hasattr(est, "n_features_in_"):
        raise ModelError(f"{name} is not fitted")
    classes = np.asarray(getattr(est, "classes_", []))
    p: dict[str, Any] = {}
    if kind in REGRESSION_KINDS and (est.n_outputs_ if kind == "forest_regressor" else len(np.atleast_2d(est.coef_))) != 1:
        raise ModelError(f"{name} with several outputs is not supported; mcusim runs single-output regressors")
    if kind == "svm":
        if est.kernel not in SVM_KERNELS:
            raise ModelError(f"SVC kernel {est.kernel!r} is not supported; use one of {', '.join(SVM_KERNELS)}")
        if getattr(est, "break_ties", False) and len(classes) > 2:
            raise ModelError("SVC(break_ties=True) is not supported: mcusim votes one-vs-one as libsvm does")
        # libsvm's own form (scikit-learn negates the public dual_coef_/intercept_ of a binary SVC)
        p = {"kernel": est.kernel, "gamma": float(est._gamma), "coef0": float(est.coef0), "degree": int(est.degree),
             "support_vectors": np.asarray(est.support_vectors_, np.float32),
             "n_support": np.asarray(est.n_support_, np.int64),
             "pairs": svm_pairs(est.n_support_, np.asarray(est._dual_coef_), np.asarray(est._intercept_))}
    elif kind == "forest_regressor":
        trees = [_sklearn_tree(t.tree_, regression=True) for t in ([est] if hasattr(est, "tree_") else est.estimators_)]
        p = {"trees": trees, "divisor": len(trees)}  # scikit-learn: the mean of the trees' values
    elif kind in ("linear", "linear_regressor"):
        p = {"coef": np.atleast_2d(est.coef_).astype(np.float64), "intercept": np.atleast_1d(est.intercept_).astype(np.float64)}
    elif kind == "gaussian_nb":
        p = {"theta": est.theta_, "var": est.var_, "priors": est.class_prior_}
    else:
        p = {"trees": [_sklearn_tree(t.tree_) for t in ([est] if hasattr(est, "tree_") else est.estimators_)]}
    if raw is None:
        import pickle  # hashing our own in-memory object; nothing is ever unpickled

        raw = pickle.dumps(est)
    return ClassicModel(name, kind, int(est.n_features_in_), classes, p, source, hashlib.sha256(raw).digest(), est)


@dataclass
class Tree:
    """One binary tree: node n splits on ``x[feature[n]] <= threshold[n]`` (left: ``left[n]``,
    right: ``right[n]``) or is a leaf (``left[n] == -1``) adding ``value[n]`` (one weight per
    class) to the vote."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf each sample of ``x`` reaches (float64 comparisons of the thresholds as stored)."""
        node = np.zeros(len(x), np.int64)
        while True:
            inner = self.left[node] != -1
            if not inner.any():
                return node
            n = node[inner]
            go_left = x[inner, self.feature[n]].astype(np.float64) <= self.threshold[n]
            node[inner] = np.where(go_left, self.left[n], self.right[n])


def _sklearn_tree(t: Any, regression: bool = False) -> Tree:
    v = t.value[:, 0, :]
    return Tree(t.feature.copy(), t.threshold.astype(np.float64), t.children_left.copy(), t.children_right.copy(),
                v if regression else v / v.sum(axis=1, keepdims=True))  # the leaf's value or predict_proba


def load_onnx(path: Path) -> ClassicModel:
    """An ONNX-ML file: one SVMClassifier (binary) or LinearClassifier, as skl2onnx writes them."""
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise McusimError("reading .onnx needs the classic-ml extra: pip install 'mcusim[classic-ml]'") from None
    try:
        m = onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 - protobuf decode errors
        raise ModelError(f"{path}: not an ONNX file: {e}") from None
    # ZipMap, Normalizer, Cast and ArrayFeatureExtractor only post-process the scores (skl2onnx's
    # multi-class SVC output); the predicted label is the model operator's own
    ml = [n for n in m.graph.node if n.domain == "ai.onnx.ml"
          and n.op_type not in ("ZipMap", "Normalizer", "Cast", "ArrayFeatureExtractor")]
    if len(ml) != 1 or ml[0].op_type not in ONNX_OPERATORS:
        ops = ", ".join(n.op_type for n in m.graph.node) or "none"
        raise ModelError(f"{path}: mcusim reads ONNX-ML {', '.join(ONNX_OPERATORS)} models; this one has {ops}")
    node = ml[0]
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    if node.op_type == "TreeEnsembleClassifier":
        return _onnx_trees(path, a)
    if node.op_type == "TreeEnsembleRegressor":
        return _onnx_tree_regressor(path, a)
    if node.op_type == "LinearRegressor":
        if a.get("targets", 1) != 1 or a.get("post_transform", b"NONE") != b"NONE":
            raise ModelError(f"{path}: LinearRegressor with several targets or a post_transform is not supported")
        coef = np.asarray(a["coefficients"], np.float64)[None, :]
        p = {"coef": coef, "intercept": np.asarray(a.get("intercepts", [0.0]), np.float64)}
        return ClassicModel("LinearRegressor", "linear_regressor", coef.shape[1], np.zeros(0), p, "onnx",
                            hashlib.sha256(path.read_bytes()).digest())
    if "classlabels_ints" not in a:
        raise ModelError(f"{path}: {node.op_type} with string class labels is not supported")
    classes = np.asarray(a["classlabels_ints"], np.int64)
    key = hashlib.sha256(path.read_bytes()).digest()
    if node.op_type == "SVMClassifier":
        kernel = {b"RBF": "rbf", b"LINEAR": "linear", b"POLY": "poly"}.get(a.get("kernel_type", b"LINEAR"))
        if kernel is None:
            raise ModelError(f"{path}: SVM kernel {a['kernel_type'].decode()} is not supported")
        if "vectors_per_class" not in a or a.get("post_transform", b"NONE") != b"NONE":
            raise ModelError(f"{path}: SVMClassifier without support vectors or with a post_transform is not supported")
        per_class = np.asarray(a["vectors_per_class"], np.int64)
        coef = np.asarray(a["coefficients"], np.float64).reshape(len(classes) - 1, -1)
        sv = np.asarray(a["support_vectors"], np.float32).reshape(coef.shape[1], -1)
        gamma, coef0, degree = a.get("kernel_params", [0.0, 0.0, 3.0])
        # skl2onnx writes libsvm's own model: coefficients = dual_coef, rho = the pairs' intercepts (added)
        p = {"kernel": kernel, "gamma": float(gamma), "coef0": float(coef0), "degree": int(degree),
             "support_vectors": sv, "n_support": per_class,
             "pairs": svm_pairs(per_class, coef, np.asarray(a["rho"], np.float64))}
        return ClassicModel("SVMClassifier", "svm", sv.shape[1], classes, p, "onnx", key)
    coef = np.asarray(a["coefficients"], np.float64).reshape(-1, len(a["coefficients"]) // max(1, len(a["intercepts"])))
    p = {"coef": coef, "intercept": np.asarray(a["intercepts"], np.float64)}
    if coef.shape[0] == 2 and len(classes) == 2 and np.allclose(coef[0], -coef[1]):
        p = {"coef": coef[1:], "intercept": p["intercept"][1:]}  # skl2onnx's binary form: (-w, w)
    return ClassicModel("LinearClassifier", "linear", coef.shape[1], classes, p, "onnx", key)


def _onnx_tree_regressor(path: Path, a: dict[str, Any]) -> ClassicModel:
    """TreeEnsembleRegressor with one target (skl2onnx: each leaf's value over the number of
    trees, summed): the trees' weights summed, or averaged with aggregate_function AVERAGE."""
    agg = a.get("aggregate_function", b"SUM")
    if a.get("n_targets", 1) != 1 or a.get("post_transform", b"NONE") != b"NONE" or agg not in (b"SUM", b"AVERAGE"):
        raise ModelError(f"{path}: TreeEnsembleRegressor with several targets, a post_transform or aggregate "
                         f"{agg.decode()} is not supported")
    if any(a.get("base_values", [])):
        raise ModelError(f"{path}: TreeEnsembleRegressor with base_values is not supported")
    trees = _onnx_tree_list(path, a, "target", 1)
    return ClassicModel("TreeEnsembleRegressor", "forest_regressor", int(max(int(t.feature.max()) for t in trees) + 1),
                        np.zeros(0), {"trees": trees, "divisor": len(trees) if agg == b"AVERAGE" else 1}, "onnx",
                        hashlib.sha256(path.read_bytes()).digest())


def _onnx_trees(path: Path, a: dict[str, Any]) -> ClassicModel:
    """TreeEnsembleClassifier (ai.onnx.ml v1-v3 attributes, as skl2onnx writes them): the
    float32 thresholds as stored, leaves' class weights summed (skl2onnx: each tree's
    probabilities over the number of trees), the class with the largest sum."""
    if "classlabels_int64s" not in a:
        raise ModelError(f"{path}: TreeEnsembleClassifier without integer class labels is not supported")
    if a.get("post_transform", b"NONE") != b"NONE":
        raise ModelError(f"{path}: TreeEnsembleClassifier post_transform {a['post_transform'].decode()} is not supported")
    classes = np.asarray(a["classlabels_int64s"], np.int64)
    trees = _onnx_tree_list(path, a, "class", len(classes))
    n_features = int(max(int(tr.feature.max()) for tr in trees) + 1)
    return ClassicModel("TreeEnsembleClassifier", "forest", n_features, classes, {"trees": trees}, "onnx",
                        hashlib.sha256(path.read_bytes()).digest())


def _onnx_tree_list(path: Path, a: dict[str, Any], leaf: str, width: int) -> list[Tree]:
    """The trees of a TreeEnsemble{Classifier,Regressor}: ``leaf`` ``class`` or ``target`` names
    the leaf weight attributes, ``width`` the values per leaf."""
    modes = [m.decode() for m in a["nodes_modes"]]
    bad = sorted(set(modes) - {"BRANCH_LEQ", "LEAF"})
    if bad:
        raise ModelError(f"{path}: tree node mode(s) {', '.join(bad)} are not supported (only BRANCH_LEQ)")
    tid, nid = np.asarray(a["nodes_treeids"]), np.asarray(a["nodes_nodeids"])
    trees = []
    for t in sorted(set(tid.tolist())):
        rows = np.flatnonzero(tid == t)
        n = int(nid[rows].max()) + 1
        feature, left, right = np.zeros(n, np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64)
        threshold, value = np.zeros(n), np.zeros((n, width))
        for r in rows:
            k = nid[r]
            if modes[r] == "BRANCH_LEQ":
                feature[k], threshold[k] = a["nodes_featureids"][r], a["nodes_values"][r]
                left[k], right[k] = a["nodes_truenodeids"][r], a["nodes_falsenodeids"][r]
        for tr, nd, c, w in zip(a[f"{leaf}_treeids"], a[f"{leaf}_nodeids"], a[f"{leaf}_ids"], a[f"{leaf}_weights"]):
            if tr == t:
                value[nd, c] += w
        trees.append(Tree(feature, threshold, left, right, value))
    return trees


def load_samples(path: str | Path | None, model: ClassicModel) -> np.ndarray:
    """``--input``: an .npy or .csv of samples x features (float32), or the default set."""
    if path is None:
        return default_samples(model)
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            x = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        else:
            x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise McusimError(f"{path}: cannot read samples: {e}") from None
    return check_samples(x, model, str(path))


def check_samples(x: Any, model: ClassicModel, what: str = "samples") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != model.n_features or x.shape[0] == 0:
        raise McusimError(f"{what}: shape {x.shape}; the model takes samples x {model.n_features} features")
    if not np.issubdtype(x.dtype, np.number):
        raise McusimError(f"{what}: dtype {x.dtype} is not numeric")
    return np.ascontiguousarray(x, dtype=np.float32)


DEFAULT_SAMPLES = 16


def default_samples(model: ClassicModel) -> np.ndarray:
    """The documented default set: 16 samples drawn uniformly (numpy default_rng(0)) in each
    feature's range of the model's own parameters, widened by 10% on each side: tree thresholds,
    support vectors, class means +- 2 standard deviations; [-1, 1] for a linear model (classifier
    or regressor)."""
    p = model.params
    if model.kind in ("forest", "forest_regressor"):
        lo, hi = np.full(model.n_features, np.inf), np.full(model.n_features, -np.inf)
        for t in p["trees"]:
            f, th = np.where(t.left != -1, t.feature, -1), t.threshold
            for k in range(model.n_features):
                if np.any(f == k):
                    lo[k], hi[k] = min(lo[k], th[f == k].min()), max(hi[k], th[f == k].max())
        lo, hi = np.where(np.isfinite(lo), lo, -1.0), np.where(np.isfinite(hi), hi, 1.0)
    elif model.kind == "svm":
        lo, hi = p["support_vectors"].min(0), p["support_vectors"].max(0)
    elif model.kind == "gaussian_nb":
        sd = np.sqrt(p["var"])
        lo, hi = (p["theta"] - 2 * sd).min(0), (p["theta"] + 2 * sd).max(0)
    else:
        lo, hi = np.full(model.n_features, -1.0), np.full(model.n_features, 1.0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    rng = np.random.default_rng(0)
    return rng.uniform(lo - pad, hi + pad, size=(DEFAULT_SAMPLES, model.n_features)).astype(np.float32)
