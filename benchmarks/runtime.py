"""The tinyml runtime against the TensorFlow Lite Micro figures quoted in issue 4, and the
whole-model figure of issue 3 (the Conv1D architecture of models/anomaly_cnn1d.tflite).

    python benchmarks/runtime.py          # prints the Markdown tables of docs/benchmarks.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run(model: str, path: str, kernels: str) -> dict:
    """The report of `mcusim run MODEL --path PATH --kernels KERNELS --json`, through the API."""
    from mcusim import api

    return api.run(model, path, kernels=kernels).to_dict()


def soft_double(report: dict) -> list[str]:
    """__aeabi_d* helpers linked into the image (none expected on a single-precision FPU)."""
    from mcusim.frontend.tflite import load_model
    from mcusim.simulator.board import get_board
    from mcusim.stacks.deploy import build_firmware
    from mcusim.stacks.runner import build_path

    g = load_model(ROOT / report["model"])
    fw = build_path(g, report["path"], get_board(report["board"]), report["kernels"])
    elf, _ = build_firmware(fw)
    return sorted(n for n in elf.symbols if n.startswith("__aeabi_d"))


def main() -> None:
    import os

    os.chdir(ROOT)  # model paths relative to the checkout, as the tables print them
    print("| model | kernels | framework flash (runtime) | op glue | model bytes | arena used | soft-double symbols | start-up cycles |")
    print("|---|---|---|---|---|---|---|---|")
    for model in ("models/kws_fc.tflite", "models/anomaly_cnn1d.tflite", "models/kws_dscnn.tflite"):
        for k in ("ref", "opt"):
            r = run(model, "tinyml", k)
            fb = r["flash_breakdown"]
            sd = soft_double(r)
            print(f"| {Path(model).stem} | {k} | {fb.get('runtime', 0):,} | {fb.get('op_glue', 0):,} | {fb.get('model', 0):,} | "
                  f"{r['arena_used_bytes']:,} | {', '.join(sd) or 'none'} | {r['startup_cycles']:,} |")
    print()
    print("| anomaly_cnn1d (Conv1D 128x3 -> 16 k3 -> pool -> 16 k3 -> pool -> 32 -> 2) | kernels | instructions in invoke | cycles in invoke | dispatch share |")
    print("|---|---|---|---|---|")
    for path in ("tinyml", "classic"):
        for k in ("ref", "opt"):
            r = run("models/anomaly_cnn1d.tflite", path, k)
            print(f"| mcusim {path} | {k} | {r['instructions']:,} | {r['cycles']:,} | {r['dispatch_share']:.2%} |")


if __name__ == "__main__":
    main()
