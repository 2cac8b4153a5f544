"""tests/data's converter-made models and their generated descriptions agree.

tests/data/make_op_models.py writes most .tflite files there, README.md (one table row per
file) and op_models.json (one record per file: ops, input/output shapes and types, bytes,
TFLite Micro result).  Its files have a row and a record each, no row or record names a missing
file, and each record still describes its file (size, op list read with the tflite-micro schema,
input and output types and shapes): a file regenerated without regenerating the descriptions
fails here.  Any other .tflite in tests/data must be named by the script that makes it (another
tests/data/*.py), so no file is there without a known maker.  Reading needs only the schema,
not mcusim's reader (which refuses ops it lacks).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

fb = pytest.importorskip("tflite_micro.tensorflow.lite.micro.python.schema_py_generated")

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDS = json.loads((DATA / "op_models.json").read_text())
OP_NAMES = {code: name for name, code in vars(fb.BuiltinOperator).items() if not name.startswith("_")}
TYPE_NAMES = {code: name.lower() for name, code in vars(fb.TensorType).items() if not name.startswith("_")}


def test_every_file_has_one_readme_row_and_one_record_or_another_maker() -> None:
    records = sorted(r["file"] for r in RECORDS if r["file"])
    rows = re.findall(r"^\| `([^`]+\.tflite)` \|", (DATA / "README.md").read_text(), re.MULTILINE)
    assert sorted(rows) == records
    assert all((DATA / f).is_file() for f in records)
    makers = " ".join(p.read_text() for p in DATA.glob("*.py") if p.name != "make_op_models.py")
    others = [p for p in DATA.glob("*.tflite") if p.name not in records]
    assert [p.name for p in others if p.name not in makers and p.stem not in makers] == []


@pytest.mark.parametrize("record", [r for r in RECORDS if r["file"]], ids=lambda r: r["file"])
def test_record_describes_its_file(record: dict) -> None:
    data = (DATA / record["file"]).read_bytes()
    assert len(data) == record["bytes"]
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    graph = model.subgraphs[0]
    codes = [model.operatorCodes[op.opcodeIndex] for op in graph.operators]
    # Codes above 127 live only in builtinCode; older files fill only the deprecated byte.
    assert [OP_NAMES[max(c.builtinCode, c.deprecatedBuiltinCode)] for c in codes] == record["ops"]
    for indices, described in ((graph.inputs, record["inputs"]), (graph.outputs, record["outputs"])):
        tensors = [graph.tensors[i] for i in indices]
        assert [TYPE_NAMES[t.type] for t in tensors] == [d["dtype"] for d in described]
        assert [list(t.shape) for t in tensors] == [d["shape"] for d in described]
