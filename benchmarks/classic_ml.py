"""Classic ML on the simulated MCUs: scikit-learn estimators trained on iris (150 x 4,
deterministic), each through each code generator on two boards; flash, peak RAM, cycles per
prediction, energy, and how many of the 150 predictions equal scikit-learn's. Rewrites the
marked section of docs/classic-ml.md.

    python benchmarks/classic_ml.py              # write docs/classic-ml.md's table
    python benchmarks/classic_ml.py --no-write   # print the Markdown only
    python benchmarks/classic_ml.py --save DIR   # also write the models as .skops/.onnx, iris.npy and iris.npz

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
BEGIN, END = "<!-- classic-ml table begin -->", "<!-- classic-ml table end -->"


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
    ]


def table() -> str:
    x, ests = estimators()
    rows = [("| estimator | library | board | flash B (model / library) | RAM B (stack) | cycles/prediction "
             "(min..max) | µs | energy µJ | = sklearn |"), "|---|---|---|---|---|---|---|---|---|"]
    for name, est, libs in ests:
        for lib in libs:
            for board in BOARDS:
                r = mcusim.run(est, board=board, library=lib, inputs=x).report
                fb, pc = r["flash_breakdown"], r["prediction_cycles"]
                libb = fb.get("cmsis-dsp", 0)
                rows.append(f"| {name} | {lib} | {board} | {r['flash_bytes']:,} ({fb['model']:,} / {libb:,}) | "
                            f"{r['ram_peak_bytes']:,} ({r['ram_breakdown']['stack']:,}) | {r['cycles']:,} "
                            f"({min(pc):,}..{max(pc):,}) | {r['latency_ms'] * 1000:.1f} | {r['energy_uj']:.3f} | "
                            f"{r['predictions'] - len(r['prediction_mismatches'])}/{r['predictions']} |")
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
    sio.dump(ests[1][1], directory / "forest.skops")
    (directory / "svm.onnx").write_bytes(to_onnx(ests[5][1], x[:1]).SerializeToString())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--save", type=Path, metavar="DIR")
    a = ap.parse_args()
    if a.save:
        save(a.save)
    md = table()
    if a.no_write:
        print(md)
        return
    doc = ROOT / "docs" / "classic-ml.md"
    text = doc.read_text()
    head, rest = text.split(BEGIN)
    doc.write_text(f"{head}{BEGIN}\n{md}{END}{rest.split(END)[1]}")


if __name__ == "__main__":
    main()
