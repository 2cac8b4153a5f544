"""Classic ML on the simulated MCUs: scikit-learn classifiers trained on iris (150 x 4) and
regressors on diabetes (442 x 10), deterministically, each through each code generator on two
boards; flash, peak RAM, cycles per prediction, energy, and how many predictions equal
scikit-learn's (regressors: as float32, with the largest absolute error). Rewrites the marked
sections of docs/classic-ml.md.

    python benchmarks/classic_ml.py              # write docs/classic-ml.md's table
    python benchmarks/classic_ml.py --no-write   # print the Markdown only
    python benchmarks/classic_ml.py --save DIR   # also write forest.skops, svm.onnx, svm3.onnx, rf_reg.skops,
                                                 # iris.npy, iris.npz and diabetes.npy

Everything goes through the Python API (mcusim.run with a fitted estimator; the same code as
`mcusim run MODEL.skops --input iris.npy --library L`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mcusim

BOARDS = ("stm32g071rb", "stm32f411ce")
TABLES = ("classic-ml", "classic-ml regressors")
"""The marked sections: <!-- NAME table begin --> ... <!-- NAME table end -->."""


def estimators():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    x = x.astype(np.float32)
    b = (y == 2).astype(int)
    return x, [
        ("DecisionTree (depth 5)", DecisionTreeClassifier(max_depth=5, random_state=0).fit(x, y), ("emlearn", "mcusim")),
        ("RandomForest (10 trees, depth 5)", RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(x, y),
         ("emlearn", "mcusim")),
        ("GaussianNB", GaussianNB().fit(x, y), ("cmsis-dsp",)),
        ("LogisticRegression", LogisticRegression(max_iter=1000).fit(x, y), ("mcusim",)),
        ("SVC linear (binary)", SVC(kernel="linear").fit(x, b), ("cmsis-dsp",)),
        ("SVC RBF (binary)", SVC(kernel="rbf", gamma=0.5).fit(x, b), ("cmsis-dsp",)),
        ("SVC poly deg 3 (binary)", SVC(kernel="poly", degree=3, gamma=0.2, coef0=1.0).fit(x, b), ("cmsis-dsp",)),
        ("SVC RBF (3 classes, one-vs-one)", SVC(kernel="rbf", gamma=0.5).fit(x, y), ("cmsis-dsp", "mcusim")),
        ("SVC linear (3 classes, one-vs-one)", SVC(kernel="linear").fit(x, y), ("cmsis-dsp", "mcusim")),
    ]


def regressors():
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.tree import DecisionTreeRegressor

    x, y = load_diabetes(return_X_y=True)
    x = x.astype(np.float32)
    return x, [
        ("DecisionTreeRegressor (depth 6)", DecisionTreeRegressor(max_depth=6, random_state=0).fit(x, y),
         ("emlearn", "mcusim")),
        ("RandomForestRegressor (10 trees, depth 6)",
         RandomForestRegressor(n_estimators=10, max_depth=6, random_state=0).fit(x, y), ("emlearn", "mcusim")),
        ("LinearRegression", LinearRegression().fit(x, y), ("mcusim",)),
        ("Ridge", Ridge(alpha=0.1).fit(x, y), ("mcusim",)),
    ]


def table(x, ests, regression: bool = False) -> str:
    rows = [("| estimator | library | board | flash B (model / library) | RAM B (stack) | cycles/prediction "
             "(min..max) | µs | energy µJ | = sklearn |" + (" max abs error |" if regression else "")),
            "|---|---|---|---|---|---|---|---|---|" + ("---|" if regression else "")]
    for name, est, libs in ests:
        for lib in libs:
            for board in BOARDS:
                r = mcusim.run(est, board=board, library=lib, inputs=x).report
                fb, pc = r["flash_breakdown"], r["prediction_cycles"]
                libb = fb.get("cmsis-dsp", 0)
                rows.append(f"| {name} | {lib} | {board} | {r['flash_bytes']:,} ({fb['model']:,} / {libb:,}) | "
                            f"{r['ram_peak_bytes']:,} ({r['ram_breakdown']['stack']:,}) | {r['cycles']:,} "
                            f"({min(pc):,}..{max(pc):,}) | {r['latency_ms'] * 1000:.1f} | {r['energy_uj']:.3f} | "
                            f"{r['predictions'] - len(r['prediction_mismatches'])}/{r['predictions']} |"
                            + (f" {r['max_abs_error']:.3g} |" if regression else ""))
                print(rows[-1], file=sys.stderr)
    return "\n".join(rows) + "\n"


def save(directory: Path) -> None:
    import skops.io as sio
    from skl2onnx import to_onnx

    x, ests = estimators()
    directory.mkdir(parents=True, exist_ok=True)
    np.save(directory / "iris.npy", x)
    from sklearn.datasets import load_iris

    np.savez(directory / "iris.npz", x=x, y=load_iris().target)
    named = {name: est for name, est, _ in ests}
    sio.dump(named["RandomForest (10 trees, depth 5)"], directory / "forest.skops")
    (directory / "svm.onnx").write_bytes(to_onnx(named["SVC RBF (binary)"], x[:1]).SerializeToString())
    (directory / "svm3.onnx").write_bytes(to_onnx(named["SVC RBF (3 classes, one-vs-one)"], x[:1]).SerializeToString())
    xr, regs = regressors()
    np.save(directory / "diabetes.npy", xr)
    sio.dump(dict((n, e) for n, e, _ in regs)["RandomForestRegressor (10 trees, depth 6)"], directory / "rf_reg.skops")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--save", type=Path, metavar="DIR")
    a = ap.parse_args()
    if a.save:
        save(a.save)
    mds = [table(*estimators()), table(*regressors(), regression=True)]
    if a.no_write:
        print("\n".join(mds))
        return
    doc = ROOT / "docs" / "classic-ml.md"
    text = doc.read_text()
    for name, md in zip(TABLES, mds):
        begin, end = f"<!-- {name} table begin -->", f"<!-- {name} table end -->"
        head, rest = text.split(begin)
        text = f"{head}{begin}\n{md}{end}{rest.split(end)[1]}"
    doc.write_text(text)


if __name__ == "__main__":
    main()
