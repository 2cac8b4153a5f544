"""The audio front-end on the simulator (mcusim.dsp): one CMSIS-DSP frame per kind, dtype and
core, its features against the host's cmsisdsp, its report; run --frontend end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from simhelpers import ROOT, needs_gcc

pytest.importorskip("cmsisdsp")

import mcusim
from mcusim.cli import main
from mcusim.dsp.run import F32_TOLERANCE, Q15_DSP_TOLERANCE
from mcusim.stacks.tflmtree import TflmTreeError, find_tree

pytestmark = needs_gcc

KWS_SPEC = "models/frontends/kws_mfcc_16k.toml"
KWS_MODEL = "/work/shared/models/kws_ref_model.tflite"


@pytest.fixture(scope="module", autouse=True)
def cmsis_core():
    try:
        find_tree(None)
    except TflmTreeError as e:
        pytest.skip(str(e))


def _spec(tmp_path, kind, dtype):
    text = (f'kind = "{kind}"\nsample_rate = 16000\nframe_length = 480\nhop_length = 320\nfft_size = 512\n'
            f'mel_bands = 40\ndtype = "{dtype}"\nwindow = "hamming"\nfmin = 20.0\nfmax = 8000.0\n'
            + ("coefficients = 13\n" if kind == "mfcc" else ""))
    p = tmp_path / f"{kind}_{dtype}.toml"
    p.write_text(text)
    return p


def test_q15_mfcc_frame_on_the_m4_matches_cmsisdsp_and_reports_its_cost(tmp_path):
    r = mcusim.audio_frontend(KWS_SPEC, board="stm32f411ce")
    rep = r.to_dict()
    assert rep["schema"] == "mcusim.frontend/1" and rep["core"] == "cortex-m4"
    assert len(rep["features"]) == 10 and rep["output_format"] == "Q8.7 int16"
    # The M4 takes CMSIS-DSP's q15 DSP-extension paths, the host package the scalar ones: a few LSB.
    err = rep["error"]
    assert rep["reference_match"] and err["max_abs_error"] <= Q15_DSP_TOLERANCE
    assert err["max_lsb_error"] == round(err["max_abs_error"] * 128)
    got, want = np.array(rep["features"]), np.array(rep["reference"])
    assert np.abs(got - want).max() == err["max_lsb_error"]
    assert rep["real_time_factor"] == pytest.approx(rep["cycles_per_frame"] / (0.020 * rep["clock_hz"]))
    assert rep["cycles_per_frame"] > 10_000
    names = [f["name"] for f in rep["functions"]]
    assert "arm_mfcc_q15" in names and "arm_radix4_butterfly_q15" in names
    fb = rep["flash_breakdown"]
    assert fb["tables"] >= 2 * (512 + 40 * 10) and fb["fft-tables"] > 0 and fb["cmsis-dsp"] > 0
    assert rep["tables_bytes"] == fb["tables"] + fb["fft-tables"]
    assert rep["ram_breakdown"]["buffers"] >= 2 * 512 + 4 * 512  # frame (q15) + scratch (q31)
    assert rep["ram_breakdown"]["stack"] > 0
    assert rep["energy_uj_per_frame"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("board", ["stm32g071rb", "stm32f411ce", "stm32h743zi", "stm32u585ai"])
@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
@pytest.mark.parametrize("dtype", ["f32", "q15", "q31"])
def test_every_kind_and_dtype_within_tolerance(tmp_path, board, kind, dtype):
    rep = mcusim.audio_frontend(_spec(tmp_path, kind, dtype), board=board).report
    err = rep["error"]
    if dtype == "q31" or (dtype == "q15" and board == "stm32g071rb"):  # the host's own integer code: exact
        assert err["equal"], err
    elif dtype == "q15":
        assert err["max_abs_error"] <= Q15_DSP_TOLERANCE, err
    else:
        assert err["max_abs_error"] <= F32_TOLERANCE, err
    assert rep["reference_match"]


@pytest.mark.slow
def test_cli_frontend_json_with_a_wav(tmp_path, capsys):
    import wave

    t = np.arange(16000) / 16000
    pcm = np.round(8000 * np.sin(2 * np.pi * 700 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.int16)
    wav = tmp_path / "x.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(pcm.tobytes())
    out, html = tmp_path / "fe.json", tmp_path / "fe.html"
    assert main(["frontend", KWS_SPEC, "--board", "stm32g071rb", "--input", str(wav), "--json", str(out),
                 "--html", str(html)]) == 0
    assert "real-time factor" in html.read_text()
    rep = json.loads(out.read_text())
    assert rep["input"] == str(wav) and rep["error"]["equal"]  # M0+: the scalar q15 paths, as on the host
    assert "real-time factor" in capsys.readouterr().out


@pytest.mark.slow
def test_run_with_the_kws_frontend_reports_end_to_end(tmp_path, capsys):
    import os

    if not os.path.exists(KWS_MODEL):
        pytest.skip(f"{KWS_MODEL} is not here")
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    assert main(["run", KWS_MODEL, "--path", "classic", "--kernels", "cmsis-nn", "--frontend", KWS_SPEC,
                 "--json", str(out), "--html", str(html)]) == 0
    assert "End to end per inference" in html.read_text()
    rep = json.loads(out.read_text())
    e = rep["end_to_end"]
    assert e["frontend_per_inference"]["frames"] == 49
    assert e["frontend_per_inference"]["cycles"] == 49 * rep["frontend"]["cycles_per_frame"]
    assert e["total"]["cycles"] == rep["cycles"] + e["frontend_per_inference"]["cycles"]
    assert e["total"]["energy_uj"] == pytest.approx(rep["energy_uj"] + 49 * rep["frontend"]["energy_uj_per_frame"])
    assert "end to end per inference" in capsys.readouterr().out


def test_check_gates_the_model_and_its_frontend_together(tmp_path, capsys):
    """check --frontend: a latency budget the model alone meets but the model with its 49 MFCC
    frames does not fails, and the JSON says what the figures are of; combinations it cannot
    answer are one line and exit 2."""
    from tflite_builder import ModelBuilder

    rng = np.random.default_rng(5)
    b = ModelBuilder()
    x = b.tensor((1, 490), scale=0.1, zero_point=0)  # 49 frames of 10 MFCCs
    w = b.tensor((4, 490), scale=0.01, zero_point=0, data=rng.integers(-127, 128, (4, 490)))
    y = b.tensor((1, 4), scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y])
    model = tmp_path / "fc490.tflite"
    model.write_bytes(b.io([x], [y]).build())
    out = tmp_path / "c.json"
    common = [str(model), "--path", "classic", "--max-latency-ms", "1", "--max-flash", "1M"]
    assert main(["check", *common]) == 0  # the model alone: a few microseconds
    capsys.readouterr()
    assert main(["check", *common, "--frontend", KWS_SPEC, "--format", "json", "--output", str(out)]) == 1
    c = json.loads(out.read_text())
    fe = c["frontend"]
    assert c["scope"].startswith("model + mfcc q15 front-end (49 frames") and fe["frames"] == 49
    assert c["measured"]["latency_ms"] == pytest.approx(fe["model"]["latency_ms"] + fe["per_inference"]["latency_ms"])
    assert c["measured"]["flash_bytes"] == fe["model"]["flash_bytes"] + fe["per_inference"]["flash_bytes"]
    assert [b["budget"] for b in c["breaches"]] == ["max_latency_ms"]
    assert main(["check", *common, "--frontend", KWS_SPEC]) == 1
    assert "figures of the model + mfcc q15 front-end" in capsys.readouterr().out
    assert main(["check", *common, "--frontend", KWS_SPEC, "--baseline", str(out)]) == 2
    assert "cannot be combined with --frontend" in capsys.readouterr().err


def test_streaming_computes_only_the_new_frames(tmp_path):
    """new_frames_per_inference: the front-end's cost per inference is that many frames' (the
    rest kept from earlier inferences); more than the model's frames is one line."""
    spec = tmp_path / "stream.toml"
    base = (ROOT / KWS_SPEC).read_text()
    spec.write_text(base + "new_frames_per_inference = 2\n")
    full = mcusim.run(ROOT / "models" / "kws_fc.tflite", "classic", frontend=ROOT / KWS_SPEC).report["end_to_end"]
    stream = mcusim.run(ROOT / "models" / "kws_fc.tflite", "classic", frontend=spec).report["end_to_end"]
    f, s = full["frontend_per_inference"], stream["frontend_per_inference"]
    assert (f["frames"], f["computed_frames"], s["frames"], s["computed_frames"]) == (25, 25, 25, 2)
    assert s["cycles"] * 25 == f["cycles"] * 2 and s["flash_bytes"] == f["flash_bytes"]
    assert stream["total"]["cycles"] == stream["model"]["cycles"] + s["cycles"]
    assert any(n.startswith("streaming: 2 new frames per inference") for n in stream["notes"])
    spec.write_text(base + "new_frames_per_inference = 26\n")
    with pytest.raises(mcusim.McusimError, match="26 is more than the 25 frames"):
        mcusim.run(ROOT / "models" / "kws_fc.tflite", "classic", frontend=spec)
    spec.write_text(base + "frames_per_inference = 25\nnew_frames_per_inference = 26\n")
    with pytest.raises(mcusim.McusimError, match="more than frames_per_inference 25"):
        mcusim.run(ROOT / "models" / "kws_fc.tflite", "classic", frontend=spec)


def test_compare_adds_the_frontend_to_every_column(tmp_path):
    """compare --frontend: the front-end runs once and its cost is added to each column; the sums'
    ratios are against the first column; markdown says so; a classic ML model is refused."""
    rep = mcusim.compare(ROOT / "models" / "kws_fc.tflite", paths="classic/opt,tinyml/opt",
                         frontend=ROOT / KWS_SPEC).report
    first, second = rep["runs"]
    assert first["frontend"] == second["frontend"]
    for r in rep["runs"]:
        e = r["end_to_end"]
        assert e["model"]["cycles"] == r["cycles"]
        assert e["total"]["cycles"] == r["cycles"] + e["frontend_per_inference"]["cycles"]
    t0, t1 = first["end_to_end"]["total"], second["end_to_end"]["total"]
    assert rep["end_to_end_ratios"]["tinyml/opt"]["cycles"] == t1["cycles"] / t0["cycles"]
    assert rep["end_to_end_ratios"]["tinyml/opt"]["ram_peak_bytes"] == t1["ram_bytes"] / t0["ram_bytes"]
    from mcusim.present.report import compare_markdown

    assert "End to end per inference: model + kws_mfcc_16k front-end (mfcc q15, 25 frames" in compare_markdown(rep)
    with pytest.raises(mcusim.McusimError, match="does not combine with a classic ML model or --against"):
        mcusim.compare(ROOT / "models" / "kws_fc.tflite", against=[str(ROOT / "models" / "ae_anomaly.tflite")],
                       frontend=ROOT / KWS_SPEC)
