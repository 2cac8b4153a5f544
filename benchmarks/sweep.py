"""Sweep throughput: cells per minute, local process pool vs a local Dask cluster, cold and warm
build cache.

    python benchmarks/sweep.py [--boards stm32f411ce,stm32g071rb,stm32h743zi] [--workers 2] [--markdown]

Sweeps the bundled models (models/*.tflite) x the boards x both paths x both kernel flavours
four times, each through the real command line (``mcusim sweep``) in a fresh process:

    pool, cold cache   mcusim sweep SPEC --db pool-cold.db --workers N   (empty MCUSIM_CACHE)
    pool, warm cache   mcusim sweep SPEC --db pool-warm.db --workers N   (same cache, new database)
    Dask, cold cache   mcusim sweep SPEC --db dask-cold.db --cluster local:N   (another empty cache)
    Dask, warm cache   mcusim sweep SPEC --db dask-warm.db --cluster local:N

Wall time includes process start-up, spawning the workers (or the Dask cluster) and writing
the database. "Cold" means an empty build cache: every object, image and the native cycle hook
is compiled; "warm" finds them all in the cache, so a cell costs its simulation only. Then it
checks that every database holds the same results (the volatile columns aside).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = {"seconds", "worker", "finished_at"}


def results(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    cur = conn.execute("SELECT * FROM cells")
    names = [d[0] for d in cur.description]
    rows = []
    for r in cur:
        d = {k: v for k, v in zip(names, r) if k not in VOLATILE}
        if d.get("report"):
            d["report"] = json.loads(d["report"])
        rows.append(json.dumps(d, sort_keys=True))
    conn.close()
    return sorted(rows)


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    out = dict(conn.execute("SELECT status, count(*) FROM cells GROUP BY status").fetchall())
    conn.close()
    return out


def run(label: str, work: Path, cache: Path, engine_args: list[str], spec: Path) -> dict[str, object]:
    db = work / f"{label}.db"
    cmd = [sys.executable, "-m", "mcusim.cli", "sweep", str(spec), "--db", str(db), *engine_args]
    env = {**os.environ, "MCUSIM_CACHE": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{label}: mcusim sweep failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout[-2000:]}")
    c = counts(db)
    n = sum(c.values())
    return {"label": label, "db": db, "cells": n, "wall_s": wall, "cells_per_min": n / wall * 60, "counts": c,
            "command": "MCUSIM_CACHE=<empty dir> " if "cold" in label else "MCUSIM_CACHE=<same dir> "}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="stm32f411ce,stm32g071rb,stm32h743zi")
    ap.add_argument("--models", default=str(ROOT / "models" / "*.tflite"))
    ap.add_argument("--workers", type=int, default=2, help="pool workers and Dask workers alike")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mcusim-sweep-bench-"))
    spec = work / "sweep.toml"
    boards = [b.strip() for b in args.boards.split(",")]
    spec.write_text(f"models = [{json.dumps(args.models)}]\nboards = {json.dumps(boards)}\n"
                    'paths = ["tinyml", "classic"]\nkernels = ["opt", "ref"]\n')
    engines = [("pool", ["--workers", str(args.workers)])]
    if not args.no_dask:
        engines.append(("dask", ["--cluster", f"local:{args.workers}"]))
    load_before = os.getloadavg()[0]
    rows = []
    for name, engine_args in engines:
        cache = work / f"cache-{name}"
        for temp in ("cold", "warm"):
            r = run(f"{name}-{temp}", work, cache, engine_args, spec)
            r["engine"] = (f"local pool, {args.workers} workers" if name == "pool"
                           else f"local Dask cluster, {args.workers} workers")
            r["cache"] = temp
            r["args"] = " ".join(engine_args)
            rows.append(r)
            print(f"{r['label']}: {r['cells']} cells in {r['wall_s']:.1f} s = {r['cells_per_min']:.1f} cells/min "
                  f"{r['counts']}", file=sys.stderr)
    reference = results(rows[0]["db"])  # type: ignore[arg-type]
    equal = all(results(r["db"]) == reference for r in rows[1:])  # type: ignore[arg-type]

    if args.markdown:
        models = os.path.relpath(args.models, ROOT) if args.models.startswith(str(ROOT)) else args.models
        print(f"Spec: {models} x {', '.join(boards)} x tinyml, classic x opt, ref "
              f"({rows[0]['cells']} cells); {os.cpu_count()} cores, load average before the run "
              f"{load_before:.1f}.\n")
        print("| engine | build cache | cells | wall time | cells/min | ok / does not fit / error |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            c = r["counts"]
            print(f"| {r['engine']} (`{r['args']}`) | {r['cache']} | {r['cells']} | {r['wall_s']:.1f} s | "
                  f"**{r['cells_per_min']:.1f}** | {c.get('ok', 0)} / {c.get('does_not_fit', 0)} / {c.get('error', 0)} |")
        print(f"\nAll {len(rows)} databases hold identical results: {'yes' if equal else 'NO'}.")
    else:
        for r in rows:
            print(f"{r['engine']:<34} {r['cache']:<5} {r['cells']:>4} cells {r['wall_s']:7.1f} s "
                  f"{r['cells_per_min']:7.1f} cells/min  {r['counts']}")
        print(f"identical results: {equal}")
    print(f"(work directory: {work})", file=sys.stderr)
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
