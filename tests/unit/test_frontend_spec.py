"""The audio front-end's spec validator, host tables, frame input and end-to-end sums (mcusim.dsp):
no toolchain, no simulator."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from mcusim.cli import main
from mcusim.dsp.reference import load_frame, to_input
from mcusim.dsp.run import end_to_end, frames_per_inference
from mcusim.dsp.spec import FrontendSpecError, load_spec, parse_spec
from mcusim.dsp.tables import dct_matrix, mel_matrix, mel_sparse, quantize, window
from mcusim.errors import McusimError

KWS = {"kind": "mfcc", "sample_rate": 16000, "frame_length": 480, "hop_length": 320, "fft_size": 512, "mel_bands": 40,
       "coefficients": 10, "dtype": "q15", "window": "hann", "fmin": 20.0, "fmax": 4000.0}


def test_the_bundled_kws_spec_matches_the_mlperf_model_input():
    spec = load_spec("models/frontends/kws_mfcc_16k.toml")
    assert spec == parse_spec(KWS, "x").__class__(**{**KWS, "frames_per_inference": None, "name": "kws_mfcc_16k"})
    assert frames_per_inference(spec, [1, 49, 10, 1]) == 49
    logmel = load_spec("models/frontends/micro_speech_logmel_16k.toml")
    assert frames_per_inference(logmel, [1, 1960]) == 49


def test_every_problem_is_one_line():
    bad = dict(KWS, fft_size=500, frame_length=0, dtype="f16", window="kaiser", fmax=9000.0, colour="red")
    with pytest.raises(FrontendSpecError) as e:
        parse_spec(bad, "s.toml")
    lines = str(e.value).splitlines()
    assert all(line.startswith("s.toml: ") for line in lines)
    keys = sorted(line.split(": ")[1] for line in lines)
    assert keys == ["colour", "dtype", "fft_size", "fmax", "frame_length", "window"]


@pytest.mark.parametrize("change, message", [
    ({"frame_length": 600}, "frame_length: 600 is longer than fft_size 512"),
    ({"coefficients": 41}, "coefficients: 41 is out of range"),
    ({"kind": "logmel"}, "coefficients: only for kind"),
    ({"fmin": 4000.0}, "fmin: 4000 Hz is not below fmax"),
    ({"mel_bands": 200, "coefficients": 10}, "cover no FFT bin"),
    ({"sample_rate": 16000.5}, "sample_rate: must be an integer"),
    ({"hop_length": True}, "hop_length: must be an integer"),
])
def test_a_bad_spec_says_what_is_wrong(change, message):
    with pytest.raises(FrontendSpecError, match=message):
        parse_spec({**KWS, **change})


def test_mfcc_needs_coefficients_and_missing_keys_are_named():
    d = dict(KWS)
    del d["coefficients"], d["sample_rate"]
    with pytest.raises(FrontendSpecError) as e:
        parse_spec(d)
    assert "sample_rate: missing" in str(e.value) and "coefficients: missing" in str(e.value)


def test_a_bad_spec_file_exits_2_with_one_line_per_error(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('kind = "mfcc"\nsample_rate = 16000\nframe_length = 480\nhop_length = 320\nfft_size = 300\n'
                 'mel_bands = 40\ncoefficients = 10\ndtype = "q7"\nwindow = "hann"\n')
    assert main(["frontend", str(f)]) == 2
    err = capsys.readouterr().err
    assert "fft_size: 300 is not a power of two" in err and "dtype: must be one of f32, q15, q31" in err
    assert "Traceback" not in err
    assert main(["run", "/nonexistent.tflite", "--path", "tflm", "--frontend", str(f)]) == 2
    assert "fft_size" in capsys.readouterr().err
    f.write_text("kind = [")
    assert main(["frontend", str(f)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_tables_are_what_the_doc_says():
    spec = parse_spec(KWS)
    w = window(spec)
    assert len(w) == 512 and not w[480:].any() and w[0] == 0.0 and w[240] == pytest.approx(1.0)
    dense = mel_matrix(spec)
    assert dense.shape == (40, 257) and dense.max() <= 1.0 and (dense.max(axis=1) > 0.5).all()
    sp = mel_sparse(spec)
    for m in range(40):  # the sparse form holds exactly the dense rows' non-zeros
        row = np.zeros(257)
        start = int(sp.lengths[:m].sum())
        row[sp.pos[m]:sp.pos[m] + sp.lengths[m]] = sp.coefs[start:start + sp.lengths[m]]
        np.testing.assert_array_equal(row, dense[m])
    d = dct_matrix(parse_spec({**KWS, "coefficients": 40}))
    np.testing.assert_allclose(d @ d.T, np.eye(40), atol=1e-12)  # orthonormal DCT-II
    assert quantize(np.array([1.0, -1.0, 0.5]), "q15").tolist() == [32767, -32768, 16384]
    assert quantize(np.array([1.0]), "q31").tolist() == [2 ** 31 - 1]


def test_the_frame_comes_from_wav_npy_or_the_tone(tmp_path):
    spec = parse_spec(KWS)
    tone, what = load_frame(spec, None)
    assert tone.dtype == np.int16 and len(tone) == 480 and "test tone" in what
    pcm = (np.arange(1000) % 200 - 100).astype(np.int16)
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(pcm.tobytes())
    np.testing.assert_array_equal(load_frame(spec, wav)[0], pcm[:480])
    np.save(tmp_path / "f.npy", pcm.astype(np.float32) / 32768)
    np.testing.assert_array_equal(load_frame(spec, tmp_path / "f.npy")[0], pcm[:480])
    np.save(tmp_path / "short.npy", pcm[:100])
    with pytest.raises(McusimError, match="100 samples, a frame needs frame_length = 480"):
        load_frame(spec, tmp_path / "short.npy")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(pcm.tobytes())
    with pytest.raises(McusimError, match="sampled at 8000 Hz"):
        load_frame(spec, wav)
    x = to_input(parse_spec({**KWS, "dtype": "q31"}), pcm[:480])
    assert x.dtype == np.int32 and len(x) == 512 and x[1] == int(pcm[1]) << 16 and not x[480:].any()


def test_frames_per_inference_and_end_to_end_sums():
    spec = parse_spec(KWS)
    with pytest.raises(McusimError, match="set frames_per_inference"):
        frames_per_inference(spec, [1, 49, 9])
    assert frames_per_inference(parse_spec({**KWS, "frames_per_inference": 3}), [1, 49, 10]) == 3
    model = {"cycles": 1000, "latency_ms": 1.0, "energy_uj": 2.0, "flash_bytes": 5000, "ram_peak_bytes": 900,
             "ram_breakdown": {"stack": 300}}
    fe = {"cycles_per_frame": 10, "latency_ms_per_frame": 0.1, "energy_uj_per_frame": 0.5, "flash_bytes": 700,
          "flash_breakdown": {"startup": 200, "tables": 500}, "ram_breakdown": {"buffers": 50, "stack": 400}}
    e = end_to_end(model, fe, 4)
    f = e["frontend_per_inference"]
    assert (f["cycles"], f["latency_ms"], f["energy_uj"], f["flash_bytes"]) == (40, 0.4, 2.0, 500)
    t = e["total"]
    assert (t["cycles"], t["latency_ms"], t["energy_uj"], t["flash_bytes"]) == (1040, 1.4, 4.0, 5500)
    assert t["ram_bytes"] == 900 - 300 + 400 + 50  # stacks not at once: the larger one
