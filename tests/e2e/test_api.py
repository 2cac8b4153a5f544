"""The Python API (mcusim.api, re-exported by `import mcusim`): typed results whose to_dict()
equals the CLI's JSON for the same command, numpy inputs and outputs, bytes models, errors as
exceptions; and docs/api.md's example, executed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from simhelpers import needs_gcc

import mcusim
from mcusim.build.toolchain import KERNELS
from mcusim.cli import build_parser, main
from mcusim.errors import BudgetExceeded, McusimError

ROOT = Path(__file__).resolve().parents[2]
KWS = "models/kws_fc.tflite"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(ROOT)  # model paths as the README gives them, relative to the checkout


def cli_json(argv: list[str], tmp_path: Path, option: str = "--json") -> dict:
    """The JSON a CLI command writes, without the writer's provenance stamp."""
    out = tmp_path / "cli.json"
    code = main([*argv, option, str(out)])
    assert code in (0, 1), code
    rep = json.loads(out.read_text())
    stamp = rep.pop("mcusim")
    assert stamp["version"] == mcusim.__version__ and stamp["argv"][:2] == ["mcusim", argv[0]]
    return rep


def test_import_mcusim_is_cheap():
    code = ("import sys, mcusim; heavy = [m for m in ('mcusim.api', 'numpy', 'unicorn', 'rich') if m in sys.modules];"
            "assert not heavy, heavy; assert callable(mcusim.run) and 'mcusim.api' in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_public_names():
    for name in ("run", "compare", "check", "fit", "sim", "boards", "ops"):
        assert callable(getattr(mcusim, name))
    assert issubclass(mcusim.DoesNotFit, mcusim.McusimError)
    with pytest.raises(AttributeError):
        mcusim.no_such_thing  # noqa: B018


def test_no_module_shadows_an_api_name():
    """Importing mcusim/X.py sets the attribute mcusim.X to the module: a module named after an
    API function (fit.py) would replace mcusim.fit as soon as anything imported it."""
    from mcusim import _API

    pkg = ROOT / "mcusim"
    clash = [n for n in _API if (pkg / f"{n}.py").exists() or any((pkg / n).glob("*.py"))]  # boards/: TOML data
    assert not clash, f"modules named like API functions: {clash}"


def test_boards_are_board_objects():
    names = [b.name for b in mcusim.boards()]
    assert "stm32f411ce" in names and names == sorted(names)


@needs_gcc
def test_run_to_dict_equals_cli_json(tmp_path):
    r = mcusim.run(KWS, path="tinyml", board="stm32f411ce")
    assert r.to_dict() == cli_json(["run", KWS, "--path", "tinyml", "--board", "stm32f411ce"], tmp_path)
    d = r.to_dict()
    assert (r.cycles, r.flash, r.ram) == (d["cycles"], d["flash_bytes"], d["ram_peak_bytes"])
    assert r.latency_ms == d["latency_ms"] and r.energy_uj == d["energy_uj"] and r.label == "tinyml/opt"
    assert isinstance(r.output, np.ndarray) and r.output.dtype == np.int8
    assert r.output.reshape(-1).tolist() == d["outputs"][0]


@needs_gcc
def test_run_takes_bytes_and_numpy_inputs(tmp_path):
    from mcusim.frontend.graphinfo import default_inputs
    from mcusim.frontend.tflite import load_model
    from mcusim.simulator.board import get_board

    data = (ROOT / KWS).read_bytes()
    x = default_inputs(load_model(ROOT / KWS))[0]
    by_path = mcusim.run(KWS, path="classic")
    by_bytes = mcusim.run(data, path="classic", inputs=x, board=get_board("stm32f411ce"))  # a Board object
    assert by_bytes.report["model"] == "<bytes>"
    assert by_bytes.cycles == by_path.cycles and np.array_equal(by_bytes.output, by_path.output)
    name = load_model(ROOT / KWS).input_tensors()[0].name
    other = np.roll(x, 1)
    r = mcusim.run(data, path="classic", inputs={name: other})
    # The firmware's output for another input is checked against the int8 reference inside run().
    assert not np.array_equal(r.output, by_path.output)
    np.save(tmp_path / "x.npy", other)
    assert mcusim.run(KWS, path="classic", inputs=[np.load(tmp_path / "x.npy")]).output.tolist() == r.output.tolist()


def test_bad_inputs_raise_mcusim_errors():
    with pytest.raises(McusimError, match="dtype float32"):
        mcusim.run(KWS, path="tinyml", inputs=np.zeros(250, np.float32))
    with pytest.raises(McusimError, match="no input tensor named 'nope'"):
        mcusim.run(KWS, path="tinyml", inputs={"nope": np.zeros(250, np.int8)})
    with pytest.raises(McusimError, match="2 input array"):
        mcusim.run(KWS, path="tinyml", inputs=[np.zeros(250, np.int8)] * 2)
    with pytest.raises(McusimError, match="not a .tflite|TFL3|cannot|model"):
        mcusim.run(b"not a model", path="tinyml")
    with pytest.raises(McusimError, match="unknown board"):
        mcusim.run(KWS, board="nope")
    with pytest.raises(McusimError, match="--cold"):
        mcusim.run(KWS, cold=True)


@needs_gcc
def test_max_instructions_is_an_option_of_run(tmp_path, capsys):
    with pytest.raises(BudgetExceeded, match="instruction budget of 1,000 exceeded"):
        mcusim.run(KWS, path="tinyml", max_instructions=1000)
    assert main(["run", KWS, "--path", "tinyml", "--max-instructions", "1K"]) == 1
    err = capsys.readouterr().err
    assert "instruction budget of 1,024 exceeded" in err and "--max-instructions" in err


@needs_gcc
def test_compare_to_dict_equals_cli_json(tmp_path):
    c = mcusim.compare(KWS, paths=["tinyml", "classic/ref"])
    assert c.columns == ["tinyml/opt", "classic/ref"] and c.baseline == "tinyml/opt"
    assert c["classic/ref"].cycles == c.report["runs"][1]["cycles"]
    assert c.ratios["classic/ref"]["cycles"] == c["classic/ref"].cycles / c["tinyml/opt"].cycles
    assert c.to_dict() == cli_json(["compare", KWS, "--paths", "tinyml,classic/ref"], tmp_path)


@needs_gcc
def test_check_to_dict_equals_cli_json(tmp_path):
    r = mcusim.check(KWS, "tinyml", max_flash="64K", max_ram=1024)
    assert not r.ok and [b.budget for b in r.breaches] == ["max_ram"]
    assert r.run is not None and r.report["measured"]["ram_peak_bytes"] == r.run.ram
    argv = ["check", KWS, "--path", "tinyml", "--max-flash", "64K", "--max-ram", "1024", "--format", "json"]
    assert r.to_dict() == cli_json(argv, tmp_path, option="--output")
    assert mcusim.check(KWS, "tinyml", max_flash="64K").ok


@needs_gcc
def test_sim_to_dict_equals_cli_json(tmp_path):
    src = KERNELS / "examples" / "dsp_dot.c"
    r = mcusim.sim(src, board="stm32f411ce")
    assert r.exit_code == 8192 and r.cycles > 0  # kernels/examples/dsp_dot.c
    assert r.to_dict() == cli_json(["sim", str(src), "--board", "stm32f411ce"], tmp_path)
    from mcusim.build.toolchain import build_elf
    from mcusim.simulator.board import get_board

    elf = build_elf([src], get_board("stm32f411ce")).elf
    from_bytes = mcusim.sim(Path(elf).read_bytes())
    assert from_bytes.cycles == r.cycles and from_bytes.report["firmware"] == "<bytes>"


@needs_gcc
def test_fit_to_dict_equals_cli_json(tmp_path):
    f = mcusim.fit(KWS, boards=["stm32f411ce"])
    assert sorted((r["board"], r["path"]) for r in f.rows) == [("stm32f411ce", "classic"), ("stm32f411ce", "tinyml")]
    assert all(r["verdict"] == "fits with headroom" for r in f.rows) and f.smallest
    d = f.to_dict()
    cli = cli_json(["fit", KWS, "--boards", "stm32f411ce", "--jobs", "1"], tmp_path)
    assert d.pop("seconds") >= 0 and cli.pop("seconds") >= 0  # wall time: the one field that differs
    assert d == cli


def _code_blocks(md: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", md, re.S)


@needs_gcc
def test_docs_api_example_runs():
    """Every ```python block of docs/api.md, in order, in one namespace (as a notebook runs them)."""
    blocks = _code_blocks((ROOT / "docs" / "api.md").read_text())
    assert len(blocks) >= 3
    ns: dict = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), ns)  # noqa: S102 - the documentation's own example


def test_default_instruction_budget_is_the_machines():
    from mcusim import api
    from mcusim.simulator import machine

    assert api.DEFAULT_MAX_INSTRUCTIONS == machine.DEFAULT_MAX_INSTRUCTIONS
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("run", "compare", "check", "sim", "annotate"):
        opt = next(a for a in sub.choices[name]._actions if a.dest == "max_instructions")
        assert opt.default == machine.DEFAULT_MAX_INSTRUCTIONS, name
