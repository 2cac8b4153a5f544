"""Sweeps: spec parsing, the cell product, engines (local pool, Dask), the results database
(resume after an interruption), queries, the cheapest part, Pareto fronts and the SVG plot.

Most tests use a fake cell function (deterministic figures from the model's hash, path,
flavour and board), so they need neither the toolchain nor the path builders; the end-to-end
test at the bottom runs the real runner on models/kws_fc.tflite.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import sqlite3
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mcusim.cli import main
from mcusim.errors import DoesNotFit, McusimError, ModelError
from mcusim.simulator.board import board_names, get_board
from mcusim.sweep import (
    Cell,
    InlineEngine,
    ProcessEngine,
    ResultsDB,
    SweepAborted,
    cheapest,
    dominates,
    load_spec,
    make_engine,
    mark_pareto,
    pareto_flags,
    pareto_svg,
    query,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[2]
HAVE_DASK = importlib.util.find_spec("distributed") is not None
VOLATILE = {"seconds", "worker", "finished_at"}


def fake_cell(cell: Cell) -> dict:
    """Figures that depend on everything a real cell depends on; ``broken*`` models fail like
    an unsupported operator; images larger than the part raise DoesNotFit like deploy.py."""
    board = get_board(cell.board)
    if "broken" in cell.model:
        raise ModelError("unsupported operator CUSTOM_FOO on the classic path")
    h = int(cell.model_hash[:8], 16)
    flash = 20_000 + h % 40_000 + (9_000 if cell.path == "tinyml" else 0) + (1_500 if cell.kernels == "opt" else 0)
    ram = 3_000 + h % 9_000 + (2_500 if cell.path == "tinyml" else 0)
    if flash > board.flash_size or ram > board.ram_size:
        raise DoesNotFit(f"{cell.path} image does not fit {board.name}: flash {flash:,} of {board.flash_size:,} B")
    per_core = {"cortex-m0plus": 3.0, "cortex-m4": 1.0, "cortex-m7": 0.6, "cortex-m33": 0.9}.get(board.core, 1.0)
    cycles = int((200_000 + h % 500_000) * per_core * (1.0 if cell.kernels == "opt" else 2.2)
                 * (1.15 if cell.path == "tinyml" else 1.0))
    return {"schema": "mcusim.run/1", "path": cell.path, "board": board.qualified_name, "core": board.core,
            "kernels": cell.kernels, "clock_hz": board.op.clock_hz, "flash_bytes": flash, "ram_peak_bytes": ram,
            "cycles": cycles, "instructions": cycles * 3 // 4, "latency_ms": board.latency_ms(cycles),
            "energy_uj": board.energy_uj(cycles), "kernel_cycles": cycles * 9 // 10,
            "dispatch_share": 0.1 if cell.path == "tinyml" else 0.02, "dsp_mac_share": 0.2,
            "startup_cycles": 0, "startup_ms": 0.0, "model": cell.model, "outputs": [[h % 256 - 128]]}


def kill_on_fifth(cell: Cell) -> dict:
    """Kills its worker process on model m4's first cell (a crash in native code, an OOM kill)."""
    if Path(cell.model).name == "m4.tflite" and cell.board.startswith("stm32f411ce") and cell.path == "tinyml":
        os._exit(7)
    return fake_cell(cell)


def write_models(root: Path, names=("m0", "m1", "m2")) -> None:
    (root / "models").mkdir(exist_ok=True)
    for i, n in enumerate(names):
        (root / "models" / f"{n}.tflite").write_bytes(bytes([i + 1]) * (100 + 37 * i))


def write_spec(root: Path, body: str) -> Path:
    spec = root / "sweep.toml"
    spec.write_text(body)
    return spec


SPEC = '''models = ["models/*.tflite"]
boards = ["stm32f411ce", "stm32f301k8", "stm32l476rg@*"]
paths = ["tinyml", "classic"]
kernels = ["opt", "ref"]
[budgets]
max_latency_ms = 10
'''


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    write_models(tmp_path)
    write_spec(tmp_path, SPEC)
    return tmp_path


def comparable(db: ResultsDB) -> list[dict]:
    rows = db.rows(with_report=True)
    return sorted(({k: v for k, v in r.items() if k not in VOLATILE} for r in rows),
                  key=lambda r: (r["model"], r["board"], r["op_point"], r["path"], r["kernels"]))


# --- spec ------------------------------------------------------------------------------------


def test_spec_expands_globs_boards_and_defaults(spec_dir: Path):
    spec = load_spec(spec_dir / "sweep.toml")
    assert [p.name for p in spec.models] == ["m0.tflite", "m1.tflite", "m2.tflite"]
    assert spec.boards == ["stm32f411ce@100mhz", "stm32f301k8@72mhz", "stm32l476rg@80mhz", "stm32l476rg@8mhz"]
    assert spec.budgets == {"max_latency_ms": 10.0}
    write_spec(spec_dir, 'models = "models/m1.tflite"\nboards = ["*"]\n')
    spec = load_spec(spec_dir / "sweep.toml")
    assert spec.paths == ["tinyml", "classic"] and spec.kernels == ["opt"]
    assert len(spec.boards) == len(board_names()) and spec.model_key(spec.models[0]) == "models/m1.tflite"


def test_cell_product_is_every_combination_once(spec_dir: Path):
    cells = load_spec(spec_dir / "sweep.toml").cells()
    assert len(cells) == 3 * 4 * 2 * 2
    assert len({c.key for c in cells}) == len(cells)
    first = cells[0]
    assert first.model == "models/m0.tflite" and first.board == "stm32f411ce@100mhz"
    assert first.key == ("models/m0.tflite", first.model_hash, "stm32f411ce", "100mhz", "tinyml", "opt")
    assert first.data == (spec_dir / "models" / "m0.tflite").read_bytes()


@pytest.mark.parametrize("body, message", [
    ('models = ["models/*.tflite"]\nboards = ["stm32f411ce"]\nkernel = ["opt"]\n', "unknown keys ['kernel']"),
    ('boards = ["stm32f411ce"]\n', "missing key 'models'"),
    ('models = ["nothing/*.tflite"]\nboards = ["stm32f411ce"]\n', "matches no file"),
    ('models = ["models/absent.tflite"]\nboards = ["stm32f411ce"]\n', "no such model file"),
    ('models = ["models/*.tflite"]\nboards = ["stm32f999"]\n', "unknown board 'stm32f999'"),
    ('models = ["models/*.tflite"]\nboards = ["stm32l476rg@2mhz"]\n', "no operating point '2mhz'"),
    ('models = ["models/*.tflite"]\nboards = ["stm32f411ce"]\npaths = ["tflm"]\n', "unknown paths ['tflm']"),
    ('models = ["models/*.tflite"]\nboards = ["stm32f411ce"]\nkernels = ["fast"]\n', "unknown kernels ['fast']"),
    ('models = ["models/*.tflite"]\nboards = []\n', "boards must be a non-empty list"),
    ('models = ["models/*.tflite"]\nboards = ["stm32f411ce"]\n[budgets]\nmax_rom = 1\n', "unknown budget keys"),
    ('models = ["models/*.tflite"]\nboards = ["stm32f411ce"]\n[budgets]\nmax_flash = "lots"\n', "not a size"),
    ('models = ["models/*.tflite"\n', "not valid TOML"),
])
def test_spec_errors_are_one_line_naming_the_file(spec_dir: Path, body: str, message: str):
    spec = write_spec(spec_dir, body)
    with pytest.raises(McusimError) as err:
        load_spec(spec)
    assert message in str(err.value) and str(spec) in str(err.value) and "\n" not in str(err.value)


def test_cli_spec_error_is_one_line_exit_2(spec_dir: Path, capsys):
    write_spec(spec_dir, 'models = ["models/*.tflite"]\nboards = ["nope"]\n')
    assert main(["sweep", str(spec_dir / "sweep.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "unknown board 'nope'" in err and len(err.splitlines()) == 1
    assert main(["sweep", str(spec_dir / "absent.toml")]) == 2
    assert "no such sweep spec" in capsys.readouterr().err


def test_engine_options():
    assert isinstance(make_engine(), ProcessEngine)
    assert make_engine(workers=3).workers == 3
    for kwargs, message in (({"cluster": "remote:2"}, "use local:N"), ({"workers": 0}, "at least 1"),
                            ({"cluster": "local:2", "scheduler": "tcp://x:1"}, "not both")):
        with pytest.raises(McusimError, match=message):
            make_engine(**kwargs)


def test_cluster_without_dask_is_one_clear_line(spec_dir: Path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["sweep", str(spec_dir / "sweep.toml"), "--cluster", "local:2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Dask, which is not installed" in err and "pip install dask distributed" in err


# --- running and the database -----------------------------------------------------------------


def test_inline_sweep_records_ok_does_not_fit_and_error(spec_dir: Path):
    (spec_dir / "models" / "broken.tflite").write_bytes(b"\x00" * 64)
    spec = load_spec(spec_dir / "sweep.toml")
    with ResultsDB(spec_dir / "r.db") as db:
        s = run_sweep(spec, db, InlineEngine(), fake_cell)
        assert s.ran == s.total == 4 * 4 * 2 * 2 and s.skipped == 0
        rows = db.rows(with_report=True)
    by_status = {st: [r for r in rows if r["status"] == st] for st in ("ok", "does_not_fit", "error")}
    assert sum(map(len, by_status.values())) == len(rows) == s.total
    assert s.counts == {k: len(v) for k, v in by_status.items()}
    assert by_status["does_not_fit"] and all(r["board"] == "stm32f301k8" for r in by_status["does_not_fit"])
    assert all(r["model_name"] == "broken.tflite" and "CUSTOM_FOO" in r["message"] for r in by_status["error"])
    ok = by_status["ok"][0]
    assert ok["report"]["schema"] == "mcusim.run/1" and ok["report"]["flash_bytes"] == ok["flash_bytes"]
    assert ok["verdict"] in ("fits with headroom", "tight") and ok["within_budget"] in (0, 1)
    slow = [r for r in by_status["ok"] if r["latency_ms"] > 10]
    assert slow and all(r["within_budget"] == 0 and "latency" in r["breaches"] for r in slow)
    conn = sqlite3.connect(spec_dir / "r.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_process_pool_equals_inline(spec_dir: Path):
    spec = load_spec(spec_dir / "sweep.toml")
    with ResultsDB(spec_dir / "a.db") as a, ResultsDB(spec_dir / "b.db") as b:
        run_sweep(spec, a, InlineEngine(), fake_cell)
        run_sweep(spec, b, ProcessEngine(2), fake_cell)
        assert comparable(a) == comparable(b)
        assert len({r["worker"] for r in b.rows()}) == 2


def test_interrupted_sweep_keeps_finished_cells_and_resume_completes(spec_dir: Path):
    spec = load_spec(spec_dir / "sweep.toml")
    seen = []

    def interrupt_after_five(cell, row, done, total):
        seen.append(cell.key)
        if done == 5:
            raise KeyboardInterrupt

    with ResultsDB(spec_dir / "r.db") as db:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(spec, db, ProcessEngine(2), fake_cell, on_result=interrupt_after_five)
        assert set(db.statuses()) == set(seen) and len(seen) == 5
        s = run_sweep(spec, db, ProcessEngine(2), fake_cell, resume=True)
        assert s.skipped == 5 and s.ran == s.total - 5
        with ResultsDB(spec_dir / "ref.db") as ref:
            run_sweep(spec, ref, InlineEngine(), fake_cell)
            assert comparable(db) == comparable(ref)


def test_killed_worker_loses_nothing_finished(spec_dir: Path):
    write_models(spec_dir, ("m0", "m1", "m2", "m3", "m4", "m5"))
    spec = load_spec(spec_dir / "sweep.toml")
    per_model = 4 * 2 * 2
    with ResultsDB(spec_dir / "r.db") as db:
        # One worker runs the cells in order: m0..m3 finish, then m4's first cell kills it.
        with pytest.raises(SweepAborted, match=r"worker process died.*64 of 96 cells finished.*--resume"):
            run_sweep(spec, db, ProcessEngine(1), kill_on_fifth)
        assert len(db.statuses()) == 4 * per_model
        s = run_sweep(spec, db, ProcessEngine(2), fake_cell, resume=True)
        assert s.skipped == 4 * per_model and s.ran == 2 * per_model
        assert len(db.statuses()) == 6 * per_model


def test_resume_retries_errors_only_when_asked(spec_dir: Path):
    (spec_dir / "models" / "broken.tflite").write_bytes(b"\x07" * 10)
    spec = load_spec(spec_dir / "sweep.toml")
    with ResultsDB(spec_dir / "r.db") as db:
        run_sweep(spec, db, InlineEngine(), fake_cell)
        assert run_sweep(spec, db, InlineEngine(), fake_cell, resume=True).ran == 0
        s = run_sweep(spec, db, InlineEngine(), fake_cell, resume=True, retry_errors=True)
        assert s.ran == 16 and s.counts["error"] == 16
        s = run_sweep(spec, db, InlineEngine(), fake_cell)  # no --resume: measure everything again
        assert s.ran == s.total and s.replaced == s.total


def test_changed_model_is_a_new_cell(spec_dir: Path):
    spec = load_spec(spec_dir / "sweep.toml")
    with ResultsDB(spec_dir / "r.db") as db:
        run_sweep(spec, db, InlineEngine(), fake_cell)
        (spec_dir / "models" / "m1.tflite").write_bytes(b"\x09" * 999)
        s = run_sweep(load_spec(spec_dir / "sweep.toml"), db, InlineEngine(), fake_cell, resume=True)
        assert s.ran == 16 and s.skipped == 32
        rows = query(db)
    labels = {r["label"] for r in rows}
    assert {lab for lab in labels if lab.startswith("m1.tflite#")} and "m0.tflite" in labels


def test_not_a_sweep_database(tmp_path: Path, capsys):
    (tmp_path / "x.db").write_text("hello")
    assert main(["query", str(tmp_path / "x.db")]) == 2
    assert "x.db" in capsys.readouterr().err
    assert main(["query", str(tmp_path / "none.db")]) == 2
    assert "no such sweep database" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.skipif(not HAVE_DASK, reason="dask[distributed] not installed (pip install 'mcusim[sweep]')")
def test_local_dask_cluster_equals_local_pool(spec_dir: Path):
    import cloudpickle

    # Dask's worker processes cannot import this test module: ship the fake runner by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        spec = load_spec(spec_dir / "sweep.toml")
        with ResultsDB(spec_dir / "pool.db") as a, ResultsDB(spec_dir / "dask.db") as b:
            run_sweep(spec, a, ProcessEngine(2), fake_cell)
            s = run_sweep(spec, b, make_engine(cluster="local:2"), fake_cell)
            assert s.ran == s.total == 48 and "Dask" in s.engine
            assert comparable(a) == comparable(b)
            assert len({r["worker"] for r in b.rows()}) == 2
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


# --- queries ----------------------------------------------------------------------------------


@pytest.fixture
def filled_db(spec_dir: Path) -> Path:
    spec = load_spec(spec_dir / "sweep.toml")
    with ResultsDB(spec_dir / "r.db") as db:
        run_sweep(spec, db, InlineEngine(), fake_cell)
    return spec_dir / "r.db"


def test_query_sorts_by_any_metric_and_filters(filled_db: Path):
    with ResultsDB(filled_db, create=False) as db:
        rows = query(db, sort="latency_ms")
        lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
        assert lat == sorted(lat) and rows[-1]["latency_ms"] is None  # does-not-fit cells last
        rows = query(db, sort="energy_uj", descending=True, where=["path=classic"])
        en = [r["energy_uj"] for r in rows if r["status"] == "ok"]
        assert en == sorted(en, reverse=True) and {r["path"] for r in rows} == {"classic"}
        small = query(db, max_budget={"max_flash": 32 * 1024, "max_ram": 8 * 1024})
        assert small and all(r["flash_bytes"] <= 32768 and r["ram_peak_bytes"] <= 8192 for r in small)
        assert query(db, where=["flash_bytes<=32K", "ram_peak_bytes<=8K"]) == small
        assert {r["model_name"] for r in query(db, where=["model=m1.tflite"])} == {"m1.tflite"}
        assert {r["model_name"] for r in query(db, where=["model~models/m[12]*"])} == {"m1.tflite", "m2.tflite"}
        assert all(r["verdict"] == "fits with headroom" for r in query(db, fits=True))
        assert all(r["pareto"] for r in query(db, pareto_only=True))
        assert query(db, where=["pareto=true"]) == query(db, pareto_only=True)
        for bad, message in ((["size>3"], "unknown field 'size'"), (["latency_ms<fast"], "is a number"),
                             (["latency_ms"], "FIELD OP VALUE")):
            with pytest.raises(McusimError, match=message):
                query(db, where=bad)
        with pytest.raises(McusimError, match="not a field"):
            query(db, sort="speed")


def test_query_cli_table_csv_json_plot(filled_db: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    code = main(["query", str(filled_db), "--sort", "latency_ms", "--max-flash", "48K", "--max-ram", "16K",
                 "--csv", str(out / "r.csv"), "--json", str(out / "r.json"), "--plot", str(out / "p.svg")])
    assert code == 0
    table = capsys.readouterr().out
    assert "m0.tflite" in table and "pareto" in table and "★" in table
    data = list(csv.DictReader(io.StringIO((out / "r.csv").read_text())))
    assert data and all(int(r["flash_bytes"]) <= 48 * 1024 for r in data)
    lat = [float(r["latency_ms"]) for r in data]
    assert lat == sorted(lat) and {"model", "board", "op_point", "pareto", "verdict"} <= set(data[0])
    j = json.loads((out / "r.json").read_text())
    assert j["schema"] == "mcusim.sweep/1" and len(j["rows"]) == len(data)
    assert any(r["pareto"] is True for r in j["rows"]) and any(r["pareto"] is False for r in j["rows"])
    svg = ET.parse(out / "p.svg").getroot()
    assert svg.tag.endswith("svg")
    assert main(["query", str(filled_db), "--plot", str(out / "q.svg"), "--plot-axes", "flash_bytes,latency_ms"]) == 0
    assert "flash (bytes)" in (out / "q.svg").read_text()
    assert main(["query", str(filled_db), "--sort", "nope"]) == 2


def test_cheapest_board_per_model_and_path(filled_db: Path, capsys):
    with ResultsDB(filled_db, create=False) as db:
        rows = query(db)
        answers = cheapest(rows)
    assert len(answers) == 3 * 2
    for a in answers:
        mine = [r for r in rows if r["model_name"] == a["model"] and r["path"] == a["path"]]
        fitting = [r for r in mine if r["verdict"] == "fits with headroom"]
        if not fitting:
            assert a["board"] is None
            continue
        smallest = min((r["board_flash"], r["board_ram"]) for r in fitting)
        assert (a["board_flash"], a["board_ram"]) == smallest
        assert a["flash_use"] < 0.7 and a["ram_use"] < 0.7
    assert main(["query", str(filled_db), "--cheapest"]) == 0
    assert "cheapest part each model fits on" in capsys.readouterr().out


def test_cheapest_hand_made(tmp_path: Path):
    def row(board, path, flash, ram, verdict, status="ok", lat=1.0):
        b = get_board(board)
        return {"model": "m.tflite", "model_hash": "h", "model_name": "m.tflite", "board": b.name,
                "op_point": b.op.name, "path": path, "kernels": "opt", "status": status, "core": b.core,
                "board_flash": b.flash_size, "board_ram": b.ram_size, "flash_bytes": flash, "ram_peak_bytes": ram,
                "flash_use": flash / b.flash_size, "ram_use": ram / b.ram_size, "latency_ms": lat,
                "energy_uj": 1.0, "verdict": verdict}
    rows = [row("stm32f301k8", "classic", 40_000, 9_000, "fits with headroom"),
            row("stm32g071rb", "classic", 40_000, 9_000, "fits with headroom"),
            row("stm32f301k8", "tinyml", 50_000, 12_000, "tight"),
            row("stm32g071rb", "tinyml", 50_000, 12_000, "fits with headroom"),
            row("stm32h743zi", "tinyml", 50_000, 12_000, "fits with headroom")]
    got = {a["path"]: a["board"] for a in cheapest(rows)}
    assert got == {"classic": "stm32f301k8", "tinyml": "stm32g071rb"}
    got = {a["path"]: a["board"] for a in cheapest(rows[2:3], universe=rows)}
    assert got == {"classic": None, "tinyml": None}


# --- Pareto -----------------------------------------------------------------------------------


def test_pareto_on_hand_made_points():
    assert dominates((1, 1), (1, 2)) and not dominates((1, 2), (1, 2)) and not dominates((0, 3), (1, 2))
    pts = [(1, 9), (2, 5), (3, 6), (4, 1), (2, 5), (5, 5), (9, 0.5)]
    #       front   front  behind (2,5)  front  equal: both front  behind   front
    assert pareto_flags(pts) == [True, True, False, True, True, False, True]
    assert pareto_flags([]) == [] and pareto_flags([(3, 3)]) == [True]
    four = [(10, 5, 1.0, 2.0), (10, 5, 1.0, 2.5), (8, 6, 3.0, 2.0), (12, 7, 1.5, 3.0)]
    assert pareto_flags(four) == [True, False, True, False]


def test_mark_pareto_is_per_model_and_skips_failed_cells():
    def r(model, flash, ram, lat, en, status="ok"):
        return {"model": model, "model_hash": model, "status": status, "flash_bytes": flash,
                "ram_peak_bytes": ram, "latency_ms": lat, "energy_uj": en}
    rows = [r("a", 10, 10, 1, 1), r("a", 20, 20, 2, 2), r("b", 20, 20, 2, 2), r("b", 5, 5, 5, 5),
            r("a", None, None, None, None, "does_not_fit")]
    mark_pareto(rows)
    assert [x["pareto"] for x in rows] == [True, False, True, True, None]
    mark_pareto(rows, ("latency_ms",))
    assert [x["pareto"] for x in rows] == [True, False, True, False, None]


def test_svg_shape_says_what_ran_the_kernels():
    """circle = mcusim opt, square = mcusim ref, diamond = real CMSIS-NN, triangle = a classic-ML
    library: the legend names only what is plotted, and never calls CMSIS-NN "ref"."""
    def r(path, kernels, lat):
        return {"model_name": "m", "path": path, "kernels": kernels, "board": "b", "op_point": "o",
                "status": "ok", "latency_ms": lat, "energy_uj": lat, "flash_bytes": 1, "ram_peak_bytes": 1}
    rows = [r("classic", "opt", 1.0), r("classic", "cmsis-nn", 2.0), r("tinyml", "ref", 3.0), r("classic-ml", "emlearn", 4.0)]
    root = ET.fromstring(pareto_svg(rows))
    ns = "{http://www.w3.org/2000/svg}"
    shapes = {el.find(f"{ns}title").text.split()[1]: el.tag[len(ns):] for el in root.iter()
              if el.find(f"{ns}title") is not None}
    assert shapes == {"classic/opt": "circle", "classic/cmsis-nn": "polygon", "tinyml/ref": "rect",
                      "classic-ml/emlearn": "polygon"}
    legend = [t.text for t in root.iter(f"{ns}text")]
    assert {"mcusim opt kernels", "CMSIS-NN (real)", "mcusim ref kernels", "classic-ML library"} <= set(legend)
    assert "ref kernels" not in legend
    only_opt = [t.text for t in ET.fromstring(pareto_svg(rows[:1])).iter(f"{ns}text")]
    assert "mcusim opt kernels" in only_opt and "CMSIS-NN (real)" not in only_opt


def test_svg_marks_pareto_points_and_escapes(filled_db: Path):
    with ResultsDB(filled_db, create=False) as db:
        rows = query(db)
    svg = pareto_svg(rows, title="<sweep & co>")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    titles = [t.text for t in root.iter(f"{ns}title")]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(titles) == len(ok)
    assert sum("(Pareto-optimal)" in t for t in titles) == sum(bool(r["pareto"]) for r in ok)
    assert "&lt;sweep &amp; co&gt;" in svg
    with pytest.raises(McusimError, match="not a metric"):
        pareto_svg(rows, x="speed")
    with pytest.raises(McusimError, match="nothing to plot"):
        pareto_svg([])


# --- end to end with the real paths -----------------------------------------------------------

needs_paths = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or importlib.util.find_spec("mcusim.stacks.classic") is None
    or importlib.util.find_spec("mcusim.stacks.tinyml") is None,
    reason="needs arm-none-eabi-gcc and both path builders")


@needs_paths
def test_real_sweep_kws_fc_two_boards_two_paths(tmp_path: Path, capsys):
    spec = write_spec(tmp_path, f'models = ["{(ROOT / "models" / "kws_fc.tflite").as_posix()}"]\n'
                                'boards = ["stm32f411ce", "stm32g071rb"]\npaths = ["tinyml", "classic"]\n'
                                'kernels = ["opt"]\n')
    assert main(["sweep", str(spec), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "4 cells in" in out
    with ResultsDB(tmp_path / "mcusim-sweep.db", create=False) as db:
        rows = db.rows(with_report=True)
        assert len(rows) == 4 and all(r["status"] == "ok" for r in rows), [r["message"] for r in rows]
        for r in rows:
            assert r["report"]["reference_match"] is True and r["report"]["flash_bytes"] == r["flash_bytes"]
            assert r["report"]["board"] == f"{r['board']}@{r['op_point']}"
        answers = cheapest(query(db))
    assert {a["path"] for a in answers} == {"tinyml", "classic"}
    assert main(["sweep", str(spec), "--resume"]) == 0
    assert "4 already in the database" in capsys.readouterr().out
    assert main(["query", str(tmp_path / "mcusim-sweep.db"), "--cheapest"]) == 0
    if HAVE_DASK:  # the builds are cached now: the same four cells on a 2-worker local Dask cluster
        assert main(["sweep", str(spec), "--db", str(tmp_path / "dask.db"), "--cluster", "local:2"]) == 0
        with ResultsDB(tmp_path / "mcusim-sweep.db", create=False) as a, ResultsDB(tmp_path / "dask.db") as b:
            assert comparable(a) == comparable(b)


needs_classic = pytest.mark.skipif(
    shutil.which("arm-none-eabi-gcc") is None or importlib.util.find_spec("mcusim.stacks.classic") is None,
    reason="needs arm-none-eabi-gcc and the classic path")


@needs_classic
def test_ctrl_c_keeps_finished_cells_and_resume_completes(tmp_path: Path):
    import signal
    import subprocess
    import time

    spec = write_spec(tmp_path, f'models = ["{(ROOT / "models" / "kws_fc.tflite").as_posix()}"]\n'
                                'boards = ["stm32f411ce", "stm32g071rb", "stm32f301k8", "stm32l476rg@*"]\n'
                                'paths = ["classic"]\nkernels = ["opt"]\n')
    db = tmp_path / "mcusim-sweep.db"
    cmd = [sys.executable, "-m", "mcusim.cli", "sweep", str(spec), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    done = 0
    while done < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                done = sqlite3.connect(db).execute("SELECT count(*) FROM cells").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    assert done >= 1, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the sweep finished before the interrupt arrived")
    assert proc.returncode == 130 and err.strip() == "interrupted", (out, err)
    with ResultsDB(db, create=False) as rdb:
        kept = rdb.statuses()
    assert 1 <= len(kept) < 5 and set(kept.values()) == {"ok"}
    res = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and f"{len(kept)} already in the database" in res.stdout, res.stderr
    with ResultsDB(db, create=False) as rdb:
        assert len(rdb.statuses()) == 5


@pytest.mark.slow
@needs_paths
@pytest.mark.skipif(not HAVE_DASK, reason="dask[distributed] not installed")
def test_bundled_models_sweep_pool_equals_dask(tmp_path: Path):
    """The issue's "done when": the bundled models x 3 boards x both paths x both flavours, on
    the local pool and on a 2-worker local Dask cluster, give the same database."""
    spec = write_spec(tmp_path, f'models = ["{(ROOT / "models").as_posix()}/*.tflite"]\n'
                                'boards = ["stm32f411ce", "stm32g071rb", "stm32f301k8"]\n'
                                'paths = ["tinyml", "classic"]\nkernels = ["opt", "ref"]\n')
    assert main(["sweep", str(spec), "--db", str(tmp_path / "pool.db"), "--workers", "2"]) == 0
    assert main(["sweep", str(spec), "--db", str(tmp_path / "dask.db"), "--cluster", "local:2"]) == 0
    with ResultsDB(tmp_path / "pool.db", create=False) as a, ResultsDB(tmp_path / "dask.db", create=False) as b:
        assert comparable(a) == comparable(b)
        rows = query(a)
        assert all(r["status"] != "error" for r in rows), [r["message"] for r in rows if r["status"] == "error"]
        answers = cheapest(rows)
    assert len(answers) == 2 * len(list((ROOT / "models").glob("*.tflite")))
