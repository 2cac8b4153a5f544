"""Regenerate the int8 TFLite models in ``models/`` (and ``models/README.md``).

TensorFlow is needed ONLY to regenerate these files; mcusim itself and its tests use the
committed ``.tflite`` files and never import TensorFlow.  Keep TensorFlow out of the system
python; use a separate virtualenv outside the repository:

    python3 -m venv /opt/tfenv
    /opt/tfenv/bin/pip install tensorflow-cpu==2.21.0
    /opt/tfenv/bin/python models/make_models.py          # from the repository root

(takes about a minute on 2 cores).  Every model is trained BRIEFLY (a few epochs) on
synthetic data that resembles its task, so that the weights are trained weights and not
initialiser noise, and is then converted by the TensorFlow Lite converter with full-integer
quantization (int8 weights and activations, int8 input and output tensors, representative
dataset drawn from the training data).  Seeds are fixed and TensorFlow runs single-threaded
with deterministic ops, so a re-run with the same TensorFlow version writes the same bytes.

After conversion every file is read back (op list, tensors, quantization) and run through
TensorFlow Lite Micro's Python interpreter (``tflite_micro``, installed in the *system* python
that mcusim uses; set ``TFLM_PYTHON`` to point at another interpreter) and through TensorFlow
Lite's reference kernels; both results go into ``models/README.md``.

Files written:
    kws_fc.tflite            keyword spotting, fully connected, 250 features -> 16 classes
    anomaly_cnn1d.tflite     accelerometer anomaly detection, 1D CNN, 128x3 -> 2 classes
    ae_anomaly.tflite        dense autoencoder (MLPerf Tiny AD style, scaled), ReLU
    ae_anomaly_leaky.tflite  the same with LeakyReLU hidden activations
    ae_anomaly_prelu.tflite  the same with PReLU hidden activations (kept as PRELU)
    har_cnn_pt.tflite        human activity recognition 1D CNN, per-tensor quantized
    har_cnn_pc.tflite        the SAME float model, per-channel quantized (converter default)
    har_cnn_heldout.npz      held-out synthetic HAR set: x (float16, exact), y, float_probs
    kws_dscnn.tflite         DS-CNN keyword spotter (MLPerf Tiny KWS style), 49x10x1 -> 12
    img_cnn.tflite           tiny image classifier, 3x3 stride-1 convs, 24x24x1 -> 4 shapes
    README.md                table of the above, generated from the files themselves

The helpers in the first half of this file (reading a .tflite back, counting MACs, running
TFLM) are reused by ``tests/data/make_op_models.py``.
"""

from __future__ import annotations

import os

# Determinism and quiet logs; must be set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("PYTHONHASHSEED", "0")

import json
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils as fbu

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

_TFLITE_TYPES = {v: k for k, v in vars(fbu.schema_fb.TensorType).items() if not k.startswith("_")}
_NP_TYPES = {"INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "INT32": np.int32,
             "FLOAT32": np.float32, "INT64": np.int64, "BOOL": np.bool_}


def setup_tf(seed: int = 0) -> None:
    """Single-threaded, deterministic TensorFlow with all seeds set.  Clearing the Keras session
    resets the layer-name counters, so a file's tensor names (and bytes) do not depend on what
    was built before it in the same process."""
    tf.keras.backend.clear_session()
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:  # already initialised: thread counts are fixed for the process
        pass
    tf.config.experimental.enable_op_determinism()
    tf.keras.utils.set_random_seed(seed)


def versions() -> dict:
    return {"tensorflow": tf.__version__, "keras": tf.keras.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------

def convert_int8(model=None, rep_inputs=None, *, concrete_fn=None, per_channel: bool = True,
                 per_channel_dense: bool | None = None, float_io: bool = False,
                 extra=None) -> bytes:
    """Full-integer quantization with the TFLite converter.

    ``rep_inputs`` is a list (one entry per model input) of float arrays whose first axis
    runs over calibration samples; each sample is fed with batch size 1.
    ``per_channel=False`` sets ``_experimental_disable_per_channel`` (per-tensor weights for
    every op); ``per_channel_dense=False`` sets only
    ``_experimental_disable_per_channel_quantization_for_dense_layers``.
    ``float_io=True`` keeps float32 model input/output (the converter then emits QUANTIZE and
    DEQUANTIZE at the edges).
    """
    if concrete_fn is not None:
        conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete_fn], model)
    else:
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    n = len(rep_inputs[0])

    def rep():
        for i in range(n):
            yield [np.asarray(r[i:i + 1], dtype=np.float32) for r in rep_inputs]

    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    if not per_channel:
        conv._experimental_disable_per_channel = True
    if per_channel_dense is False:
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    if extra:
        extra(conv)
    return conv.convert()


# --------------------------------------------------------------------------------------------
# Reading a converted file back
# --------------------------------------------------------------------------------------------

@dataclass
class TensorInfo:
    index: int
    name: str
    shape: tuple
    dtype: str
    const: bool
    scales: list = field(default_factory=list)
    zero_points: list = field(default_factory=list)
    qdim: int = 0
    nbytes: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    def qdesc(self) -> str:
        if not self.scales:
            return "none"
        if self.per_channel:
            return f"per-channel ({len(self.scales)} scales, axis {self.qdim})"
        return f"scale={self.scales[0]:.6g} zp={self.zero_points[0]}"


@dataclass
class OpInfo:
    index: int
    name: str
    inputs: list
    outputs: list
    options: dict
    macs: int = 0


@dataclass
class ModelInfo:
    ops: list
    tensors: list
    inputs: list
    outputs: list
    size: int
    const_bytes: int
    const_elems: int

    @property
    def op_names(self) -> list:
        return [o.name for o in self.ops]

    @property
    def op_set(self) -> list:
        seen = []
        for n in self.op_names:
            if n not in seen:
                seen.append(n)
        return seen

    @property
    def macs(self) -> int:
        return sum(o.macs for o in self.ops)

    def op_summary(self) -> str:
        counts = {}
        for n in self.op_names:
            counts[n] = counts.get(n, 0) + 1
        return ", ".join(f"{n}" + (f" x{c}" if c > 1 else "") for n, c in counts.items())

    def tshape(self, i) -> str:
        t = self.tensors[i]
        return "x".join(str(d) for d in t.shape) + f" {t.dtype.lower()}"


def _options_dict(op) -> dict:
    opts = op.builtinOptions
    if opts is None:
        return {}
    out = {}
    for k, v in vars(opts).items():
        if isinstance(v, (int, float, bool)):
            out[k] = v
        elif isinstance(v, np.ndarray):
            out[k] = v.tolist()
    return out


def describe_tflite(data: bytes) -> ModelInfo:
    """Parse a .tflite flatbuffer (schema objects from TensorFlow) into a ModelInfo."""
    m = fbu.read_model_from_bytearray(bytearray(data))
    assert len(m.subgraphs) == 1, "expected one subgraph"
    sg = m.subgraphs[0]
    tensors = []
    const_bytes = const_elems = 0
    for i, t in enumerate(sg.tensors):
        buf = m.buffers[t.buffer] if t.buffer is not None else None
        nbytes = len(buf.data) if (buf is not None and buf.data is not None) else 0
        q = t.quantization
        scales = [] if q is None or q.scale is None else [float(s) for s in q.scale]
        zps = [] if q is None or q.zeroPoint is None else [int(z) for z in q.zeroPoint]
        qdim = 0 if q is None else int(q.quantizedDimension)
        shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
        ti = TensorInfo(i, t.name.decode() if isinstance(t.name, bytes) else str(t.name), shape,
                        _TFLITE_TYPES[t.type], nbytes > 0, scales, zps, qdim, nbytes)
        tensors.append(ti)
        if nbytes:
            const_bytes += nbytes
            const_elems += int(np.prod(shape)) if shape else 1
    ops = []
    for k, op in enumerate(sg.operators):
        name = fbu.opcode_to_name(m, op.opcodeIndex)
        ins = [int(x) for x in op.inputs]
        outs = [int(x) for x in op.outputs]
        info = OpInfo(k, name, ins, outs, _options_dict(op))
        info.macs = _macs(info, tensors)
        ops.append(info)
    return ModelInfo(ops, tensors, [int(x) for x in sg.inputs], [int(x) for x in sg.outputs],
                     len(data), const_bytes, const_elems)


def _macs(op: OpInfo, tensors) -> int:
    """Multiply-accumulates of the weight-carrying ops (other ops count 0)."""
    out = int(np.prod(tensors[op.outputs[0]].shape))
    if op.name == "FULLY_CONNECTED":
        w = tensors[op.inputs[1]].shape           # [units, in]
        return out * w[1]
    if op.name == "CONV_2D":
        w = tensors[op.inputs[1]].shape           # [out_ch, kh, kw, in_ch]
        return out * w[1] * w[2] * w[3]
    if op.name == "DEPTHWISE_CONV_2D":
        w = tensors[op.inputs[1]].shape           # [1, kh, kw, out_ch]
        return out * w[1] * w[2]
    return 0


def quant_notes(info: ModelInfo) -> list:
    """Per weight-carrying op: how its weights and bias were quantized."""
    notes = []
    for op in info.ops:
        if op.name in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"):
            w = info.tensors[op.inputs[1]]
            has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
            b = info.tensors[op.inputs[2]] if has_bias else None
            notes.append(f"{op.index}:{op.name} weights {w.dtype.lower()} "
                         f"{'per-channel' if w.per_channel else 'per-tensor'}"
                         + (f", bias {b.dtype.lower()}" if b else ", no bias"))
    return notes


# --------------------------------------------------------------------------------------------
# Running the files: TFLite reference kernels (here) and TFLite Micro (system python)
# --------------------------------------------------------------------------------------------

def make_inputs(info: ModelInfo, seed: int) -> list:
    """Deterministic random input arrays in each input tensor's dtype."""
    rng = np.random.default_rng(seed)
    arrs = []
    for i in info.inputs:
        t = info.tensors[i]
        if t.dtype == "INT8":
            arrs.append(rng.integers(-128, 128, size=t.shape, dtype=np.int64).astype(np.int8))
        elif t.dtype == "FLOAT32":
            arrs.append(rng.normal(size=t.shape).astype(np.float32))
        else:
            raise ValueError(f"no input generator for {t.dtype}")
    return arrs


def tflite_ref_outputs(data: bytes, inputs: list) -> list:
    """Run with TensorFlow Lite's *reference* kernels (BUILTIN_REF)."""
    it = tf.lite.Interpreter(model_content=data,
                             experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


_TFLM_CHECK = r'''
import sys, numpy as np, traceback
from tflite_micro.python.tflite_micro import runtime
path, inp, out = sys.argv[1], sys.argv[2], sys.argv[3]
z = np.load(inp)
res = {}
try:
    it = runtime.Interpreter.from_bytes(open(path, "rb").read())
    for i in range(int(z["n_in"])):
        it.set_input(z["in%d" % i], i)
    it.invoke()
    for k in range(int(z["n_out"])):
        res["out%d" % k] = np.asarray(it.get_output(k))
    res["ok"] = np.array(1)
except Exception as e:
    res["ok"] = np.array(0)
    res["err"] = np.array(str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__)
np.savez(out, **res)
'''


def _env_without_venv() -> dict:
    """Environment for the system python: TF variables dropped, this virtualenv off PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != Path(venv_bin).resolve())
    return env


def tflm_python() -> str:
    """The interpreter that has ``tflite_micro``: $TFLM_PYTHON, else python3 outside this venv."""
    return os.environ.get("TFLM_PYTHON") or shutil.which("python3", path=_env_without_venv()["PATH"]) \
        or "python3"


def tflm_run(path: Path, inputs: list, n_out: int) -> tuple:
    """Run a .tflite in TensorFlow Lite Micro (system python).  Returns (ok, outputs|error)."""
    with tempfile.TemporaryDirectory() as td:
        inp = Path(td) / "in.npz"
        out = Path(td) / "out.npz"
        np.savez(inp, n_in=len(inputs), n_out=n_out, **{f"in{i}": x for i, x in enumerate(inputs)})
        r = subprocess.run([tflm_python(), "-c", _TFLM_CHECK, str(path), str(inp), str(out)],
                           capture_output=True, text=True, env=_env_without_venv(), timeout=300)
        if not out.exists():
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            return False, f"interpreter crashed (exit {r.returncode}): {last}"
        z = np.load(out)
        if int(z["ok"]) != 1:
            return False, str(z["err"])
        return True, [z[f"out{k}"] for k in range(n_out)]


CHECK_INPUTS = 8


def check_file(path: Path, info: ModelInfo, seed: int = 1234, n_inputs: int = CHECK_INPUTS) -> dict:
    """Run ``path`` in TFLM and in TFLite's reference kernels on ``n_inputs`` fixed random
    inputs; compare the outputs element by element."""
    data = path.read_bytes()
    n_el = n_diff = 0
    max_diff = 0.0
    for k in range(n_inputs):
        inputs = make_inputs(info, seed + k)
        ref = tflite_ref_outputs(data, inputs)
        ok, got = tflm_run(path, inputs, len(info.outputs))
        if not ok:
            return {"tflm": "FAILS", "error": got, "match": "-"}
        for a, b in zip(ref, got):
            a = np.asarray(a).reshape(-1).astype(np.float64)
            b = np.asarray(b).reshape(-1).astype(np.float64)
            if a.shape != b.shape:
                return {"tflm": "runs", "match": f"output shape {b.shape} vs {a.shape}"}
            d = np.abs(a - b)
            n_el += d.size
            n_diff += int(np.count_nonzero(d))
            max_diff = max(max_diff, float(d.max()) if d.size else 0.0)
    if n_diff == 0:
        return {"tflm": "runs", "match": f"bit-exact ({n_inputs} inputs)"}
    return {"tflm": "runs",
            "match": f"{n_diff}/{n_el} output values differ from TFLite, max abs diff {max_diff:g} ({n_inputs} inputs)"}


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------

def _smooth(rng, n, length, knots, width):
    """n smooth random curves of ``length`` points (cubic-ish interpolation of random knots)."""
    k = rng.normal(size=(n, knots, width))
    xs = np.linspace(0, knots - 1, length)
    out = np.empty((n, length, width))
    for j in range(width):
        for i in range(n):
            out[i, :, j] = np.interp(xs, np.arange(knots), k[i, :, j])
    return out


def kws_features(template_seed, rng, n_per_class, n_classes, frames, coeffs, silence_unknown=False,
                 noise=0.8):
    """MFCC-like [frames x coeffs] patterns: one smooth time-frequency template per word,
    with random time shift, gain, speaking-rate jitter and noise.  Coefficient 0 carries the
    energy envelope (large), higher coefficients decay like real MFCCs.  With
    ``silence_unknown``, class 0 is noise only and class 1 is a fresh random word each time
    (as in the Speech Commands "_silence_" and "_unknown_" classes).  The word templates come
    from ``template_seed``, so training and held-out sets share the vocabulary."""
    templates = _smooth(np.random.default_rng(template_seed), n_classes, frames, max(4, frames // 5), coeffs)
    env = np.exp(-0.5 * ((np.arange(frames) - frames / 2) / (frames / 4)) ** 2)
    coeff_scale = 1.0 / (1.0 + 0.35 * np.arange(coeffs))
    xs, ys = [], []
    for c in range(n_classes):
        for _ in range(n_per_class):
            if silence_unknown and c == 0:
                x = 0.0 * templates[0]
            elif silence_unknown and c == 1:
                x = _smooth(rng, 1, frames, max(4, frames // 5), coeffs)[0] * env[:, None]
            else:
                x = templates[c] * env[:, None]
            rate = rng.uniform(0.85, 1.15)                 # speaking rate: stretch in time
            tt = np.clip((np.arange(frames) - frames / 2) * rate + frames / 2, 0, frames - 1)
            x = np.stack([np.interp(tt, np.arange(frames), x[:, j]) for j in range(coeffs)], 1)
            x = np.roll(x, rng.integers(-frames // 10, frames // 10 + 1), axis=0)
            x = x * rng.uniform(0.7, 1.3)
            x = x * coeff_scale[None, :] * 3.0
            x[:, 0] += 2.0 * env * rng.uniform(0.5, 1.5)  # energy (c0)
            x = x + rng.normal(scale=noise, size=x.shape)
            xs.append(x)
            ys.append(c)
    xs = np.asarray(xs, np.float32)
    ys = np.asarray(ys, np.int64)
    p = rng.permutation(len(ys))
    return xs[p], ys[p]


def vibration_windows(rng, n, length=128, fs=100.0):
    """3-axis accelerometer windows of a running machine.  Normal: rotation at 8-12 Hz with
    a 2nd harmonic, gravity on z, sensor noise.  Anomalous (label 1): one of bearing-fault
    impulses, imbalance (3x amplitude on one axis) or a loose-part high harmonic."""
    t = np.arange(length) / fs
    xs, ys = [], []
    for i in range(n):
        f0 = rng.uniform(8, 12)
        ph = rng.uniform(0, 2 * np.pi, size=3)
        amp = rng.uniform(0.2, 0.4, size=3)
        x = np.stack([amp[a] * np.sin(2 * np.pi * f0 * t + ph[a])
                      + 0.3 * amp[a] * np.sin(4 * np.pi * f0 * t + 2 * ph[a]) for a in range(3)], 1)
        x[:, 2] += 1.0
        y = int(i % 2)
        if y:
            kind = rng.integers(3)
            if kind == 0:                                   # bearing impulses
                period = rng.integers(8, 20)
                start = rng.integers(period)
                ax = rng.integers(3)
                x[start::period, ax] += rng.uniform(0.8, 1.5)
            elif kind == 1:                                 # imbalance
                ax = rng.integers(3)
                x[:, ax] += 2.0 * amp[ax] * np.sin(2 * np.pi * f0 * t + ph[ax])
            else:                                           # loose part: high harmonic
                x += 0.25 * np.sin(2 * np.pi * rng.uniform(30, 45) * t)[:, None] * rng.uniform(0.5, 1, 3)
        x += rng.normal(scale=0.05, size=x.shape)
        xs.append(x)
        ys.append(y)
    xs = np.asarray(xs, np.float32)
    ys = np.asarray(ys, np.int64)
    p = rng.permutation(n)
    return xs[p], ys[p]


def machine_spectra(rng, n, dim=128):
    """Log-mel-like spectra of a normal machine (what the MLPerf Tiny AD autoencoder models):
    a smooth falling baseline plus 3 harmonic peaks whose positions/levels drift a little."""
    f = np.arange(dim)
    base = -2.0 * f / dim
    xs = []
    for _ in range(n):
        x = base + rng.normal(scale=0.05) + rng.normal(scale=0.1) * np.sin(2 * np.pi * f / dim)
        f0 = 18 + rng.normal(scale=1.0)
        for h in (1, 2, 3):
            x = x + (1.6 / h) * rng.uniform(0.8, 1.2) * np.exp(-0.5 * ((f - h * f0) / 1.8) ** 2)
        x = x + rng.normal(scale=0.08, size=dim)
        xs.append(x)
    return np.asarray(xs, np.float32)


IMG_CLASSES = ["horizontal", "vertical", "diagonal", "ring"]


def shape_images(rng, n, size=24):
    """Grayscale ``size`` x ``size`` images of one pen stroke or shape each, the four classes of
    ``IMG_CLASSES``: a horizontal or a vertical bar, a diagonal bar (either direction) or a
    ring, drawn anti-aliased from a distance field with random position, length/radius,
    thickness, tilt (+-12 degrees for the bars), ink level and a background gradient, plus
    pixel noise.  Values about 0..1, ink bright on a dark background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    xs, ys = [], []
    for i in range(n):
        c = i % 4
        cy, cx = rng.uniform(0.3 * size, 0.7 * size, size=2)
        half_w = rng.uniform(0.6, 1.4)                       # stroke half-thickness, pixels
        if c == 3:                                           # ring
            r = rng.uniform(0.15 * size, 0.32 * size)
            d = np.abs(np.hypot(yy - cy, xx - cx) - r)
        else:                                                # bar: distance to a segment
            ang = {0: 0.0, 1: 90.0, 2: rng.choice([45.0, 135.0])}[c] + rng.uniform(-12, 12)
            ux, uy = np.cos(np.radians(ang)), -np.sin(np.radians(ang))
            half_len = rng.uniform(0.22 * size, 0.42 * size)
            t = np.clip((xx - cx) * ux + (yy - cy) * uy, -half_len, half_len)
            d = np.hypot(xx - (cx + t * ux), yy - (cy + t * uy))
        ink = np.clip(half_w + 0.5 - d, 0.0, 1.0) * rng.uniform(0.6, 1.0)
        g = rng.normal(scale=0.1, size=2)                    # uneven lighting
        bg = rng.uniform(0.0, 0.2) + g[0] * (yy / size - 0.5) + g[1] * (xx / size - 0.5)
        x = bg + ink + rng.normal(scale=0.08, size=(size, size))
        xs.append(x[..., None])
        ys.append(c)
    xs = np.asarray(xs, np.float32)
    ys = np.asarray(ys, np.int64)
    p = rng.permutation(n)
    return xs[p], ys[p]


HAR_NOISE = (0.25, 0.15, 0.2)   # posture jitter, accel noise (g), gyro noise (rad/s)
HAR_CLASSES = ["walking", "upstairs", "downstairs", "sitting", "standing", "laying"]


def imu_windows(rng, n, length=128, fs=50.0):
    """6-axis IMU windows (accel in g, gyro in rad/s) at 50 Hz for the six UCI-HAR classes.
    Dynamic classes: gait at 1.6-2.2 Hz with class-specific amplitude, harmonics and vertical
    trend; static classes: gravity direction by posture, small tremor."""
    t = np.arange(length) / fs
    xs, ys = [], []
    for i in range(n):
        c = i % 6
        x = np.zeros((length, 6))
        if c < 3:
            f = {0: rng.uniform(1.6, 2.2), 1: rng.uniform(1.4, 1.9), 2: rng.uniform(1.7, 2.3)}[c]
            a = {0: 0.35, 1: 0.3, 2: 0.45}[c] * rng.uniform(0.6, 1.4)
            ph = rng.uniform(0, 2 * np.pi)
            step = np.sin(2 * np.pi * f * t + ph)
            harm = {0: 0.2, 1: 0.1, 2: 0.4}[c] * rng.uniform(0.5, 1.5)
            x[:, 0] = 1.0 + a * step + a * harm * np.sin(4 * np.pi * f * t + 2 * ph)     # vertical
            x[:, 1] = 0.4 * a * np.sin(np.pi * f * t + ph)                                   # sway
            x[:, 2] = {0: 0.0, 1: 0.15, 2: -0.15}[c] + 0.5 * a * np.cos(2 * np.pi * f * t + ph)
            g = {0: 0.6, 1: 0.8, 2: 0.5}[c] * rng.uniform(0.8, 1.2)
            x[:, 3] = g * np.sin(np.pi * f * t + ph + 0.5)
            x[:, 4] = 0.5 * g * np.sin(2 * np.pi * f * t + ph)
            x[:, 5] = 0.3 * g * np.cos(np.pi * f * t + ph) + {0: 0, 1: 0.1, 2: -0.1}[c]
        else:
            grav = {3: np.array([0.55, 0.1, 0.83]), 4: np.array([0.98, 0.05, 0.15]),
                    5: np.array([0.05, 0.2, -0.98])}[c]
            grav = grav + rng.normal(scale=HAR_NOISE[0], size=3)
            grav = grav / np.linalg.norm(grav)
            x[:, 0:3] = grav[None, :]
            x[:, 3:6] = rng.normal(scale=0.03, size=3)[None, :]
        x[:, 0:3] += rng.normal(scale=HAR_NOISE[1], size=(length, 3))
        x[:, 3:6] += rng.normal(scale=HAR_NOISE[2], size=(length, 3))
        xs.append(x)
        ys.append(c)
    xs = np.asarray(xs, np.float32)
    ys = np.asarray(ys, np.int64)
    p = rng.permutation(n)
    return xs[p], ys[p]


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

L = tf.keras.layers


def _fit(model, x, y, epochs, loss, metrics=("accuracy",), batch=32):
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss=loss, metrics=list(metrics))
    h = model.fit(x, y, epochs=epochs, batch_size=batch, verbose=0, shuffle=True)
    return {k: float(v[-1]) for k, v in h.history.items()}


def build_kws_fc(rng):
    setup_tf(101)
    x, y = kws_features(11, rng, 200, 16, 25, 10)
    x = x.reshape(len(x), 250)
    xt, yt = kws_features(11, np.random.default_rng(1101), 30, 16, 25, 10)
    xt = xt.reshape(len(xt), 250)
    m = tf.keras.Sequential([L.Input((250,), name="mfcc"), L.Dense(64, activation="relu"),
                             L.Dense(32, activation="relu"), L.Dense(16, activation="softmax")],
                            name="kws_fc")
    hist = _fit(m, x, y, 6, "sparse_categorical_crossentropy")
    acc = float(np.mean(np.argmax(m.predict(xt, verbose=0), 1) == yt))
    return m, x, {"train": hist, "heldout_acc": acc,
                  "data": "16 synthetic 'words': 25 frames x 10 MFCC-like coefficients, flattened"}


def build_anomaly_cnn1d(rng):
    setup_tf(102)
    x, y = vibration_windows(rng, 3000)
    xt, yt = vibration_windows(np.random.default_rng(1102), 600)
    m = tf.keras.Sequential([
        L.Input((128, 3), name="accel"),
        L.Conv1D(16, 3, activation="relu"), L.MaxPool1D(2),
        L.Conv1D(16, 3, activation="relu"), L.MaxPool1D(2),
        L.Flatten(), L.Dense(32, activation="relu"), L.Dense(2, activation="softmax")],
        name="anomaly_cnn1d")
    hist = _fit(m, x, y, 6, "sparse_categorical_crossentropy")
    acc = float(np.mean(np.argmax(m.predict(xt, verbose=0), 1) == yt))
    return m, x, {"train": hist, "heldout_acc": acc,
                  "data": "3-axis vibration at 100 Hz, normal vs bearing impulses/imbalance/loose part"}


def build_ae(rng, act: str):
    setup_tf(103)
    x = machine_spectra(rng, 4000)
    xt = machine_spectra(np.random.default_rng(1103), 400)

    def a():
        if act == "relu":
            return L.ReLU()
        if act == "leaky":
            return L.LeakyReLU(negative_slope=0.2)
        if act == "prelu":
            return L.PReLU(alpha_initializer=tf.keras.initializers.Constant(0.2))
        raise ValueError(act)

    layers = [L.Input((128,), name="spectrum")]
    for units in (64, 64, 8, 64, 64):
        layers += [L.Dense(units), a()]
    layers += [L.Dense(128)]
    m = tf.keras.Sequential(layers, name=f"ae_anomaly_{act}")
    hist = _fit(m, x, x, 10, "mse", metrics=())
    mse = float(np.mean((m.predict(xt, verbose=0) - xt) ** 2))
    return m, x, {"train": hist, "heldout_mse": mse,
                  "data": "128-bin log-mel-like spectra of a normal machine (harmonics + noise)"}


def build_har(rng):
    setup_tf(104)
    x, y = imu_windows(rng, 3000)
    xh, yh = imu_windows(np.random.default_rng(1104), 100)
    # Held-out inputs are rounded to float16 so they can be stored as float16 *exactly*.
    xh = xh.astype(np.float16).astype(np.float32)
    m = tf.keras.Sequential([
        L.Input((128, 6), name="imu"),
        L.Conv1D(16, 5, activation="relu"), L.MaxPool1D(2),
        L.Conv1D(32, 5, activation="relu"), L.GlobalAveragePooling1D(),
        L.Dense(6, activation="softmax")], name="har_cnn")
    hist = _fit(m, x, y, 8, "sparse_categorical_crossentropy")
    probs = m.predict(xh, verbose=0).astype(np.float32)
    acc = float(np.mean(np.argmax(probs, 1) == yh))
    return m, x, (xh, yh, probs), {"train": hist, "heldout_acc": acc,
                                   "data": "6-axis IMU (accel g, gyro rad/s) at 50 Hz, UCI-HAR classes"}


def build_kws_dscnn(rng):
    setup_tf(105)
    x, y = kws_features(15, rng, 250, 12, 49, 10, silence_unknown=True)
    xt, yt = kws_features(15, np.random.default_rng(1105), 40, 12, 49, 10, silence_unknown=True)
    x = x[..., None]
    xt = xt[..., None]
    f = 64
    inp = L.Input((49, 10, 1), name="mfcc")
    h = L.Conv2D(f, (10, 4), strides=(2, 2), padding="same")(inp)
    h = L.ReLU()(L.BatchNormalization(momentum=0.9)(h))
    for _ in range(4):
        h = L.DepthwiseConv2D((3, 3), padding="same")(h)
        h = L.ReLU()(L.BatchNormalization(momentum=0.9)(h))
        h = L.Conv2D(f, (1, 1))(h)
        h = L.ReLU()(L.BatchNormalization(momentum=0.9)(h))
    h = L.AveragePooling2D(pool_size=(25, 5))(h)
    h = L.Flatten()(h)
    out = L.Dense(12, activation="softmax")(h)
    m = tf.keras.Model(inp, out, name="kws_dscnn")
    hist = _fit(m, x, y, 4, "sparse_categorical_crossentropy")
    acc = float(np.mean(np.argmax(m.predict(xt, verbose=0), 1) == yt))
    return m, x, {"train": hist, "heldout_acc": acc,
                  "data": "12 classes (silence, unknown, 10 synthetic words), 49 frames x 10 MFCC-like"}


def build_img_cnn(rng):
    setup_tf(106)
    x, y = shape_images(rng, 4000)
    xt, yt = shape_images(np.random.default_rng(1106), 400)
    m = tf.keras.Sequential([
        L.Input((24, 24, 1), name="image"),
        L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPool2D(2),
        L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPool2D(2),
        L.Conv2D(16, 3, padding="same", activation="relu"), L.GlobalAveragePooling2D(),
        L.Dense(4, activation="softmax")], name="img_cnn")
    hist = _fit(m, x, y, 6, "sparse_categorical_crossentropy")
    acc = float(np.mean(np.argmax(m.predict(xt, verbose=0), 1) == yt))
    return m, x, {"train": hist, "heldout_acc": acc,
                  "data": "24x24 grayscale images of one stroke or shape: horizontal, vertical or "
                          "diagonal bar, or ring; random position, size, thickness, tilt, ink, "
                          "lighting gradient and noise"}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def _rep(x, n=200):
    return [x[:n]]


def main() -> int:
    out_dir = HERE
    records = []   # (file, keras model, how, meta)

    def write(name, data, keras_model, how, meta):
        p = out_dir / name
        p.write_bytes(data)
        records.append((name, keras_model, how, meta))
        print(f"wrote {p.relative_to(REPO)} ({len(data)} bytes)", flush=True)

    m, x, meta = build_kws_fc(np.random.default_rng(1))
    write("kws_fc.tflite", convert_int8(m, _rep(x)), m, "Trained 6 epochs; int8 (converter defaults)", meta)

    m, x, meta = build_anomaly_cnn1d(np.random.default_rng(2))
    write("anomaly_cnn1d.tflite", convert_int8(m, _rep(x)), m,
          "Trained 6 epochs; int8 (converter defaults)", meta)

    for act, fname in (("relu", "ae_anomaly.tflite"), ("leaky", "ae_anomaly_leaky.tflite"),
                       ("prelu", "ae_anomaly_prelu.tflite")):
        m, x, meta = build_ae(np.random.default_rng(3), act)
        data = convert_int8(m, _rep(x))
        info = describe_tflite(data)
        if act == "prelu" and "PRELU" not in info.op_set:
            print("converter did not keep PReLU as PRELU; skipping ae_anomaly_prelu.tflite")
            continue
        write(fname, data, m, "Trained 10 epochs (MSE on normal spectra); int8 (converter defaults)", meta)

    m, x, (xh, yh, probs), meta = build_har(np.random.default_rng(4))
    write("har_cnn_pt.tflite", convert_int8(m, _rep(x), per_channel=False), m,
          "Trained 8 epochs; int8 with `_experimental_disable_per_channel = True` (per-tensor)", meta)
    write("har_cnn_pc.tflite", convert_int8(m, _rep(x)), m,
          "Same float model as har_cnn_pt; int8 (converter defaults: per-channel)", meta)
    np.savez_compressed(out_dir / "har_cnn_heldout.npz", x=xh.astype(np.float16), y=yh.astype(np.int8),
                        float_probs=probs, classes=np.array(HAR_CLASSES))
    print("wrote models/har_cnn_heldout.npz", flush=True)

    m, x, meta = build_kws_dscnn(np.random.default_rng(5))
    write("kws_dscnn.tflite", convert_int8(m, _rep(x)), m,
          "Trained 4 epochs; BatchNorm folded by the converter; int8 (converter defaults)", meta)

    m, x, meta = build_img_cnn(np.random.default_rng(6))
    write("img_cnn.tflite", convert_int8(m, _rep(x)), m, "Trained 6 epochs; int8 (converter defaults)", meta)

    # ---- read everything back, run it, write the README ----
    rows, details, failures = [], [], []
    for name, km, how, meta in records:
        p = out_dir / name
        info = describe_tflite(p.read_bytes())
        chk = check_file(p, info)
        if chk["tflm"] != "runs":
            failures.append(f"{name}: {chk.get('error')}")
        inp = "; ".join(info.tshape(i) for i in info.inputs)
        outp = "; ".join(info.tshape(i) for i in info.outputs)
        rows.append(f"| `{name}` | {inp} | {outp} | {info.op_summary()} | {km.count_params():,} | "
                    f"{info.macs:,} | {info.size:,} | {chk['tflm']}, {chk['match']} |")
        acc = meta.get("heldout_acc")
        quality = (f"float held-out accuracy {acc:.3f}" if acc is not None
                   else f"float held-out reconstruction MSE {meta['heldout_mse']:.4f}")
        ti = info.tensors[info.inputs[0]]
        to = info.tensors[info.outputs[0]]
        details.append(
            f"### `{name}`\n\n"
            f"- Data: {meta['data']}. {how}; {quality}.\n"
            f"- Input quantization: {ti.qdesc()}; output quantization: {to.qdesc()}.\n"
            f"- Operators in order: {', '.join(info.op_names)}.\n"
            f"- Weights: {'; '.join(quant_notes(info))}.\n"
            f"- Constant data in file: {info.const_elems:,} elements, {info.const_bytes:,} bytes.\n")
        print(f"{name}: {info.op_summary()} | MACs {info.macs:,} | TFLM {chk['tflm']} {chk['match']}"
              + (f" ({chk['error']})" if 'error' in chk else ""), flush=True)

    v = versions()
    heldout = np.load(out_dir / "har_cnn_heldout.npz")
    readme = f"""# Models

Real int8 `.tflite` files written by the TensorFlow Lite converter (full-integer
quantization: int8 weights and activations, int32 biases, int8 input and output tensors).
**Generated by [`make_models.py`](make_models.py) — do not edit this file by hand**; it is
rewritten, table included, every time the script runs, from the converted files themselves.

Made with TensorFlow {v['tensorflow']} (Keras {v['keras']}, numpy {v['numpy']}, Python {v['python']}).
TensorFlow is needed only to regenerate the files:

```
python3 -m venv /opt/tfenv && /opt/tfenv/bin/pip install tensorflow-cpu=={v['tensorflow']}
/opt/tfenv/bin/python models/make_models.py
```

Each model is trained briefly (a few epochs, seconds) on synthetic data that resembles its
task, so its weights are trained weights rather than initialiser noise; none is meant to be
accurate on real data.  Seeds are fixed and TensorFlow runs single-threaded and deterministic.

| model | input | output | ops (as in the converted file) | params (Keras) | MACs | file bytes | TFLite Micro |
|---|---|---|---|---:|---:|---:|---|
""" + "\n".join(rows) + f"""

- *params (Keras)*: parameters of the float Keras model, BatchNorm included (the converter folds
  BatchNorm into the preceding convolution).
- *MACs*: multiply-accumulates of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, computed from
  the tensor shapes in the converted file, one inference.
- *TFLite Micro*: the file was run in TensorFlow Lite Micro's Python interpreter (system python
  package `tflite_micro`) and its outputs compared with TensorFlow
  Lite's reference kernels (`OpResolverType.BUILTIN_REF`) on {CHECK_INPUTS} fixed random inputs.
  mcusim's target is TFLite Micro.  Where they differ it is FULLY_CONNECTED: TFLite requantizes
  with single rounding, TFLite Micro with double rounding (see `tests/data/README.md`).

## What the converter made of the Keras layers

- Keras 3 `Flatten` (dynamic batch) becomes SHAPE + STRIDED_SLICE + PACK + RESHAPE: the batch
  size is read from the input's shape at run time (`anomaly_cnn1d`, `kws_dscnn`).
- `Conv1D` becomes EXPAND_DIMS + CONV_2D (1xK kernel) + RESHAPE, `MaxPool1D` EXPAND_DIMS +
  MAX_POOL_2D + RESHAPE, `GlobalAveragePooling1D` MEAN.
- `Conv2D` / `MaxPool2D` on a 4-D input map straight to CONV_2D / MAX_POOL_2D, and
  `GlobalAveragePooling2D` becomes one MEAN over axes 1 and 2 (`img_cnn`).
- Activations `relu` after Dense/Conv are fused into FULLY_CONNECTED / CONV_2D /
  DEPTHWISE_CONV_2D; BatchNorm is folded into the convolution before it; `LeakyReLU` stays
  LEAKY_RELU and `PReLU` stays PRELU (with an int8 alpha tensor).
- Dense layers get per-channel int8 weights by default (one scale per output unit), like
  convolutions; `har_cnn_pt` uses `_experimental_disable_per_channel = True`, which makes every
  layer per-tensor.
- All input/output shapes keep a dynamic batch in `shape_signature` (-1) and 1 in `shape`.

## `har_cnn_heldout.npz`

Held-out synthetic HAR set for measuring how well each int8 HAR model agrees with its float
model: `x` {heldout['x'].shape} float16 (values were rounded to float16 *before* the float model
saw them, so `x.astype(np.float32)` is exactly its input), `y` {heldout['y'].shape} int8 labels
(index into `classes`: {', '.join(HAR_CLASSES)}), `float_probs` {heldout['float_probs'].shape}
float32 softmax outputs of the float Keras model.  To feed an int8 model, quantize `x` with the
model's input scale and zero point: `q = clip(round(x / scale) + zp, -128, 127)`.

## Details

""" + "\n".join(details)
    (out_dir / "README.md").write_text(readme)
    print("wrote models/README.md")
    if failures:
        print("TFLM failures:\n  " + "\n  ".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
