"""The audio front-end on the simulated MCUs: the bundled KWS MFCC spec (16 kHz, 480-sample
frames, 320 hop, 512-point FFT, 40 mel bands, 10 coefficients) and the micro_speech-shaped
log-mel spec, in f32, q15 and q31, on a Cortex-M0+ (no FPU, no DSP extension: f32 is soft-float),
an M4F, an M7 and an M33; cycles per frame, real-time factor, energy, flash (tables, code), RAM
(buffers, stack) and the error against the host's cmsisdsp on the default test tone. Then the
MLPerf Tiny KWS model with its MFCC front-end, end to end. Rewrites the marked sections of
docs/frontend.md.

    python benchmarks/frontend.py              # write docs/frontend.md's tables
    python benchmarks/frontend.py --no-write   # print the Markdown only

Everything goes through the Python API (mcusim.audio_frontend, mcusim.run(..., frontend=...):
the same code as `mcusim frontend SPEC --board B` and `mcusim run MODEL --frontend SPEC`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mcusim
from mcusim.dsp.spec import load_spec

BOARDS = ("stm32g071rb", "stm32f411ce", "stm32h743zi", "stm32u585ai")
SPECS = ("models/frontends/kws_mfcc_16k.toml", "models/frontends/micro_speech_logmel_16k.toml")
KWS_MODEL = Path("/work/shared/models/kws_ref_model.tflite")
BEGIN, END = "<!-- frontend table begin -->", "<!-- frontend table end -->"
BEGIN2, END2 = "<!-- frontend e2e begin -->", "<!-- frontend e2e end -->"


def _spec_file(path: str, dtype: str, tmp: Path) -> Path:
    spec = load_spec(ROOT / path)
    text = (ROOT / path).read_text()
    out = tmp / f"{spec.name}_{dtype}.toml"
    out.write_text(text.replace('dtype = "q15"', f'dtype = "{dtype}"'))
    assert dataclasses.replace(spec, dtype=dtype) == dataclasses.replace(load_spec(out), name=spec.name)
    return out


def _err(rep: dict) -> str:
    e = rep["error"]
    if e["equal"]:
        return "bit-exact"
    unit = f"{e['max_ulp_error']} ULP" if "max_ulp_error" in e else f"{e['max_lsb_error']} LSB"
    return f"{e['max_abs_error']:.2g} ({unit})"


def table() -> str:
    rows = [("| spec | dtype | board (core, FPU) | cycles / frame | real-time factor | latency / frame | energy / frame "
             "| flash: tables + FFT tables | flash: CMSIS-DSP code + glue | RAM: buffers + stack | vs cmsisdsp |"),
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for path in SPECS:
            for dtype in ("f32", "q15", "q31"):
                f = _spec_file(path, dtype, Path(tmp))
                for board in BOARDS:
                    r = mcusim.audio_frontend(f, board=board).report
                    fb, rb = r["flash_breakdown"], r["ram_breakdown"]
                    print(path, dtype, board, r["cycles_per_frame"], file=sys.stderr)
                    rows.append(
                        f"| {Path(path).stem} | {dtype} | {board} ({r['core']}, {r['fpu']}) | {r['cycles_per_frame']:,} "
                        f"| {r['real_time_factor']:.2%} | {r['latency_ms_per_frame']:.3f} ms "
                        f"| {r['energy_uj_per_frame']:.2f} µJ | {fb.get('tables', 0):,} + {fb.get('fft-tables', 0):,} "
                        f"| {fb.get('cmsis-dsp', 0):,} + {fb.get('frontend', 0):,} | {rb['buffers']:,} + {rb['stack']:,} "
                        f"| {_err(r)} |")
    return "\n".join(rows)


def e2e() -> str:
    rows = ["| board | path | | cycles | latency ms | energy µJ | flash B | RAM B |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for board in ("stm32f411ce", "stm32h743zi"):
        r = mcusim.run(KWS_MODEL, "tflm", board=board, frontend=ROOT / SPECS[0]).report
        e = r["end_to_end"]
        print("e2e", board, e["total"]["cycles"], file=sys.stderr)
        for name, row in (("front-end (49 frames)", e["frontend_per_inference"]), ("model", e["model"]),
                          ("**total**", e["total"])):
            rows.append(f"| {board} | tflm/{r['kernels']} | {name} | {row['cycles']:,} | {row['latency_ms']:.2f} "
                        f"| {row['energy_uj']:.1f} | {row['flash_bytes']:,} | {row['ram_bytes']:,} |")
    return "\n".join(rows)


def _replace(doc: str, begin: str, end: str, body: str) -> str:
    a, b = doc.index(begin) + len(begin), doc.index(end)
    return doc[:a] + "\n" + body + "\n" + doc[b:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print the Markdown instead of rewriting docs/frontend.md")
    args = ap.parse_args()
    t, e = table(), e2e()
    if args.no_write:
        print(t + "\n\n" + e)
        return
    doc_path = ROOT / "docs" / "frontend.md"
    doc = _replace(_replace(doc_path.read_text(), BEGIN, END, t), BEGIN2, END2, e)
    doc_path.write_text(doc)


if __name__ == "__main__":
    main()
