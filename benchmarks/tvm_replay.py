"""Replay microTVM's CMSIS-NN call sequence with the calibration ELF's own CMSIS-NN code.

    python benchmarks/tvm_replay.py [--calibration DIR]

The published KWS latency (MLPerf Tiny v1.0, OctoML, NUCLEO-L4R5ZI) was measured on microTVM
AOT code, not on TFLM. TVM's generated C for that build is public:
closed/OctoML/code/microtvm_cmsis_nn/NUCLEO_L4R5ZI/kws/model/codegen/host/src/default_lib2.c
in mlcommons/tiny_results_v1.0. It calls CMSIS-NN for every operator, but its first layer is
not TFLM's: the 10x4 CONV_2D on the one-channel input is called as
``arm_depthwise_conv_wrapper_s8`` with a channel multiplier of 64 (filter dims {1,10,4,64}),
where TFLM calls ``arm_convolve_wrapper_s8`` (im2col + the DSP matrix kernel). CMSIS-NN runs a
channel multiplier > 1 on its plain C path (``arm_depthwise_conv_s8``, no DSP).

This script measures that difference instead of assuming it: it links a small harness
(generated C, below) against the calibration ELF's flash image (its compiled CMSIS-NN at
51263182, called through their addresses), so the replay runs the very kernel code of the
calibration build, in TVM's order with TVM's arguments: the depthwise form of layer 1, the
same wrappers for the others, weights/bias/multipliers as constants in flash (TVM's
``.rodata.tvm``), activations in SRAM. Its output is checked bit for bit against the TFLM
reference output before its cycles are used. TVM's own runtime (workspace allocation, the
AOT main) is not replayed: a few dozen instructions per operator.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcusim.frontend.quant import (
    activation_range,
    calculate_input_radius,
    preprocess_softmax_scaling,
    quantize_multiplier,
)
from mcusim.frontend.tflite import load_model
from mcusim.simulator.board import Board
from mcusim.simulator.elf import Elf
from mcusim.simulator.machine import Machine

PROBE = 0x5FFFF000
START, LAYER = 0x1A7E0000, 0x1A7E1000
TFLM_L1_START, TFLM_L1_END = 0x7F1A0000, 0x7F1A0001
HARNESS_TEXT = 0x08080000  # above the calibration image (KWS: 0x08000000-0x0801a1b0)
HARNESS_RAM = 0x20040000   # SRAM3 (the calibration image's own RAM is not used)
BUFFER_BYTES = 16384       # each of the two activation buffers (KWS needs 8,000)
FUNCS = ("arm_convolve_wrapper_s8", "arm_depthwise_conv_wrapper_s8", "arm_avgpool_s8",
         "arm_fully_connected_s8", "arm_softmax_s8")

PRELUDE = """\
#include <stdint.h>
/* Argument structs as CMSIS-NN 51263182 lays them out (the field order TVM's generated
   initializers use, default_lib2.c). */
typedef struct { void *buf; int32_t size; } ctx_t;
typedef struct { int32_t w, h; } tile_t;
typedef struct { int32_t min, max; } act_t;
typedef struct { int32_t n, h, w, c; } dims_t;
typedef struct { int32_t in_off, out_off; tile_t stride, pad, dil; act_t act; } conv_t;
typedef struct { int32_t in_off, out_off, ch_mult; tile_t stride, pad, dil; act_t act; } dw_t;
typedef struct { tile_t stride, pad; act_t act; } pool_t;
typedef struct { int32_t in_off, filt_off, out_off; act_t act; } fc_t;
typedef struct { const int32_t *mult, *shift; } pcq_t;
typedef struct { int32_t mult, shift; } ptq_t;
typedef int32_t (*conv_fn)(const ctx_t *, const conv_t *, const pcq_t *, const dims_t *, const int8_t *,
                           const dims_t *, const int8_t *, const dims_t *, const int32_t *, const dims_t *, int8_t *);
typedef int32_t (*dw_fn)(const ctx_t *, const dw_t *, const pcq_t *, const dims_t *, const int8_t *,
                         const dims_t *, const int8_t *, const dims_t *, const int32_t *, const dims_t *, int8_t *);
typedef int32_t (*pool_fn)(const ctx_t *, const pool_t *, const dims_t *, const int8_t *, const dims_t *,
                           const dims_t *, int8_t *);
typedef int32_t (*fc_fn)(const ctx_t *, const fc_t *, const ptq_t *, const dims_t *, const int8_t *,
                         const dims_t *, const int8_t *, const dims_t *, const int32_t *, const dims_t *, int8_t *);
typedef void (*softmax_fn)(const int8_t *, int32_t, int32_t, int32_t, int32_t, int32_t, int8_t *);
#define PROBE(v) (*(volatile uint32_t *)0x%08XUL = (v))
#define BUFFER_BYTES %d
#define RO __attribute__((aligned(16))) static const
static int8_t buf_a[BUFFER_BYTES] __attribute__((aligned(8)));
static int8_t buf_b[BUFFER_BYTES] __attribute__((aligned(8)));
static int8_t scratch[4096] __attribute__((aligned(8)));
int8_t replay_output[256];
int8_t tflm_layer1[BUFFER_BYTES];
int8_t tvm_layer1[BUFFER_BYTES];
static const ctx_t ctx = {scratch, sizeof scratch};
"""


@dataclass
class Call:
    """One CMSIS-NN call of the replay: its C statements and constant arrays."""

    what: str
    arrays: list[str]
    code: str


def _arr(name: str, ctype: str, values: np.ndarray) -> str:
    vals = ", ".join(str(int(v)) for v in np.asarray(values).ravel())
    return f"RO {ctype} {name}[{np.asarray(values).size}] = {{{vals}}};"


def _same_pad(in_size: int, k: int, stride: int, out_size: int) -> int:
    return max((out_size - 1) * stride + k - in_size, 0) // 2


def generate(model: Path, addresses: dict[str, int]) -> tuple[str, list[Call], int, int]:
    """The harness C for ``model`` as microTVM's CMSIS-NN codegen called it; the calls in
    order, the output length and the size of the first layer's output (0: no TFLM form)."""
    g = load_model(model)
    t = g.tensors
    calls: list[Call] = []
    src, dst = "input", "buf_a"
    out_len = 0
    tflm = again = ""
    layer1_bytes = 0
    for op in g.ops:
        if op.type == "RESHAPE":
            continue  # no code: TVM aliases the buffer
        i = len(calls)
        x, y = t[op.inputs[0]], t[op.outputs[0]]
        if y.nbytes > BUFFER_BYTES:
            raise SystemExit(f"{model.name}: op {op.index} writes {y.nbytes} bytes; the replay's buffers hold "
                             f"{BUFFER_BYTES}")
        in_zp, out_zp = x.zero_point_value(), y.zero_point_value()
        act = activation_range(op.options.get("fused_activation_function", "NONE"), y.scale_value(), out_zp)
        arrays: list[str] = []
        if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w, b = t[op.inputs[1]], t[op.inputs[2]]
            _, ih, iw, ic = x.shape
            _, oh, ow, oc = y.shape
            kh, kw = (w.shape[1], w.shape[2])
            sh, sw = op.options["stride_h"], op.options["stride_w"]
            ph = _same_pad(ih, kh, sh, oh) if op.options["padding"] == "SAME" else 0
            pw = _same_pad(iw, kw, sw, ow) if op.options["padding"] == "SAME" else 0
            mult, shift = zip(*(quantize_multiplier(float(x.scale[0]) * float(s) / float(y.scale[0]))
                                for s in w.scale))
            arrays += [_arr(f"m{i}", "int32_t", np.array(mult)), _arr(f"s{i}", "int32_t", np.array(shift)),
                       _arr(f"b{i}", "int32_t", b.data)]
            common = (f"{{{sw},{sh}}}, {{{pw},{ph}}}, {{{op.options['dilation_w_factor']},"
                      f"{op.options['dilation_h_factor']}}}, {{{act[0]},{act[1]}}}")
            dims = (f"static const dims_t di{i} = {{1,{ih},{iw},{ic}}}, db{i} = {{1,1,1,{oc}}}, "
                    f"do{i} = {{1,{oh},{ow},{oc}}};")
            arrays += [dims, f"static const pcq_t q{i} = {{m{i}, s{i}}};"]
            if op.type == "CONV_2D" and ic == 1:
                # TVM's CMSIS-NN codegen: a convolution of a one-channel input is a depthwise
                # convolution with channel multiplier = output channels (default_lib2.c main_0).
                wt = w.data.reshape(oc, kh * kw).T  # OHWI [oc][kh][kw][1] -> [1][kh][kw][oc]
                arrays += [_arr(f"w{i}", "int8_t", wt), _arr(f"wc{i}", "int8_t", w.data),
                           f"static const dims_t df{i} = {{1,{kh},{kw},{oc}}}, dfc{i} = {{{oc},{kh},{kw},1}};",
                           f"static const dw_t p{i} = {{{-in_zp}, {out_zp}, {oc}, {common}}};",
                           f"static const conv_t pc{i} = {{{-in_zp}, {out_zp}, {common}}};"]
                what = f"CONV_2D {kh}x{kw} as depthwise, channel multiplier {oc} (TVM)"
                code = (f"((dw_fn)0x{addresses['arm_depthwise_conv_wrapper_s8'] | 1:08X}UL)(&ctx, &p{i}, &q{i}, "
                        f"&di{i}, {src}, &df{i}, w{i}, &db{i}, b{i}, &do{i}, {dst});")
                # TFLM's form of the same layer (im2col + matrix kernel), timed apart, output
                # checked equal to the depthwise form's.
                tflm = (f"PROBE(0x{TFLM_L1_START:08X}UL);\n"
                        f"((conv_fn)0x{addresses['arm_convolve_wrapper_s8'] | 1:08X}UL)(&ctx, &pc{i}, &q{i}, "
                        f"&di{i}, {src}, &dfc{i}, wc{i}, &db{i}, b{i}, &do{i}, tflm_layer1);\n"
                        f"PROBE(0x{TFLM_L1_END:08X}UL);")
                again = code.replace(dst, "tvm_layer1")
                layer1_bytes = oh * ow * oc
            elif op.type == "CONV_2D":
                arrays += [_arr(f"w{i}", "int8_t", w.data),
                           f"static const dims_t df{i} = {{{oc},{kh},{kw},{ic}}};",
                           f"static const conv_t p{i} = {{{-in_zp}, {out_zp}, {common}}};"]
                what = f"CONV_2D {kh}x{kw}"
                code = (f"((conv_fn)0x{addresses['arm_convolve_wrapper_s8'] | 1:08X}UL)(&ctx, &p{i}, &q{i}, "
                        f"&di{i}, {src}, &df{i}, w{i}, &db{i}, b{i}, &do{i}, {dst});")
            else:
                arrays += [_arr(f"w{i}", "int8_t", w.data),
                           f"static const dims_t df{i} = {{1,{kh},{kw},{oc}}};",
                           (f"static const dw_t p{i} = {{{-in_zp}, {out_zp}, {op.options['depth_multiplier']}, "
                           f"{common}}};")]
                what = f"DEPTHWISE_CONV_2D {kh}x{kw}"
                code = (f"((dw_fn)0x{addresses['arm_depthwise_conv_wrapper_s8'] | 1:08X}UL)(&ctx, &p{i}, &q{i}, "
                        f"&di{i}, {src}, &df{i}, w{i}, &db{i}, b{i}, &do{i}, {dst});")
        elif op.type == "AVERAGE_POOL_2D":
            _, ih, iw, ic = x.shape
            _, oh, ow, oc = y.shape
            what = f"AVERAGE_POOL_2D {op.options['filter_height']}x{op.options['filter_width']}"
            code = (f"static const dims_t di{i} = {{1,{ih},{iw},{ic}}}, "
                    f"df{i} = {{1,{op.options['filter_height']},{op.options['filter_width']},1}}, "
                    f"do{i} = {{1,{oh},{ow},{oc}}};\n"
                    f"static const pool_t p{i} = {{{{{op.options['stride_w']},{op.options['stride_h']}}}, {{0,0}}, "
                    f"{{{act[0]},{act[1]}}}}};\n"
                    f"((pool_fn)0x{addresses['arm_avgpool_s8'] | 1:08X}UL)(&ctx, &p{i}, &di{i}, {src}, &df{i}, "
                    f"&do{i}, {dst});")
        elif op.type == "FULLY_CONNECTED":
            w, b = t[op.inputs[1]], t[op.inputs[2]]
            oc, depth = w.shape
            m, s = quantize_multiplier(float(x.scale[0]) * float(w.scale[0]) / float(y.scale[0]))
            arrays += [_arr(f"w{i}", "int8_t", w.data), _arr(f"b{i}", "int32_t", b.data)]
            what = f"FULLY_CONNECTED {depth}->{oc}"
            code = (f"static const dims_t di{i} = {{1,1,1,{depth}}}, df{i} = {{{depth},1,1,{oc}}}, "
                    f"db{i} = {{1,1,1,{oc}}}, do{i} = {{1,1,1,{oc}}};\n"
                    f"static const fc_t p{i} = {{{-in_zp}, {-w.zero_point_value()}, {out_zp}, "
                    f"{{{act[0]},{act[1]}}}}}; static const ptq_t q{i} = {{{m}, {s}}};\n"
                    f"((fc_fn)0x{addresses['arm_fully_connected_s8'] | 1:08X}UL)(&ctx, &p{i}, &q{i}, &di{i}, "
                    f"{src}, &df{i}, w{i}, &db{i}, b{i}, &do{i}, {dst});")
        elif op.type == "SOFTMAX":
            n = x.shape[-1]
            m, shift = preprocess_softmax_scaling(op.options["beta"], float(x.scale[0]), 5)
            diff_min = -calculate_input_radius(5, shift)
            what = f"SOFTMAX {n}"
            dst = "replay_output"
            out_len = n
            code = (f"((softmax_fn)0x{addresses['arm_softmax_s8'] | 1:08X}UL)({src}, 1, {n}, {m}, {shift}, "
                    f"{diff_min}, {dst});")
        else:
            raise SystemExit(f"{model.name}: {op.type} is not in TVM's CMSIS-NN replay")
        calls.append(Call(what, arrays, code))
        src, dst = dst, ("buf_b" if dst == "buf_a" else "buf_a")
    n_in = int(np.prod(t[g.inputs[0]].shape))
    body = [PRELUDE.replace("%08X", f"{PROBE:08X}").replace("%d", str(BUFFER_BYTES))]
    body.append(f"static int8_t input[{n_in}] __attribute__((aligned(8)));")
    for c in calls:
        body.extend(c.arrays)
    body.append("void replay(void) {")
    body.append(f"  for (int i = 0; i < {n_in}; i++) input[i] = (int8_t)((i * 37) % 256 - 128);")
    body.append(f"  PROBE(0x{START:08X}UL);")
    for k, c in enumerate(calls):
        body.append("  " + c.code)
        body.append(f"  PROBE(0x{LAYER + k:08X}UL);")
    body += ["  " + tflm, "  " + again]
    body.append("}")
    body.append("""
extern uint32_t __stack_top;
__attribute__((noreturn)) void harness_reset(void) {
  replay();
  __asm volatile("bkpt #0");
  for (;;) {}
}
__attribute__((section(".vectors"), used)) const void *const vectors[2] = {&__stack_top, harness_reset};
""")
    return "\n".join(body), calls, out_len, layer1_bytes


LINKER = """\
SECTIONS {{
  .vectors 0x08000000 : {{ KEEP(*(.vectors)) }}
  .calib 0x08000008 : {{ KEEP(calib.o(.calib)) }}
  .text 0x{text:08X} : {{ *(.text*) *(.rodata*) }}
  .bss 0x{ram:08X} (NOLOAD) : {{ *(.bss*) *(COMMON) }}
  __stack_top = 0x{ram:08X} + 0x30000;
  /DISCARD/ : {{ *(.ARM.exidx*) *(.comment) }}
}}
"""


def build(calib_elf: Path, model: Path, out: Path) -> tuple[Path, list[Call], int, int]:
    """The replay ELF: the calibration image (minus its first two vector words) at 0x08000000,
    the harness above it."""
    ef = Elf(calib_elf)
    addresses = {f: ef.symbol(f).addr & ~1 for f in FUNCS}
    source, calls, out_len, layer1 = generate(model, addresses)
    (out / "replay.c").write_text(source)
    image = out / "calib.bin"
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "-j", ".isr_vector", "-j", ".text",
                    str(calib_elf), str(image)], check=True)
    data = image.read_bytes()
    if len(data) + 0x08000000 > HARNESS_TEXT:
        raise SystemExit(f"{calib_elf.name}: its flash image overlaps the harness at 0x{HARNESS_TEXT:08x}")
    (out / "calib_tail.bin").write_bytes(data[8:])
    subprocess.run(["arm-none-eabi-objcopy", "-I", "binary", "-O", "elf32-littlearm", "-B", "arm",
                    "--rename-section", ".data=.calib,alloc,load,readonly,contents",
                    "calib_tail.bin", "calib.o"], check=True, cwd=out)
    (out / "replay.ld").write_text(LINKER.format(text=HARNESS_TEXT, ram=HARNESS_RAM))
    elf = out / "replay.elf"
    subprocess.run(["arm-none-eabi-gcc", "-O2", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                    "-mfpu=fpv4-sp-d16", "-ffunction-sections", "-nostdlib", "-nostartfiles",
                    "-T", "replay.ld", "replay.c", "calib.o", "-o", str(elf)], check=True, cwd=out)
    return elf, calls, out_len, layer1


@dataclass
class Replay:
    layers: list[tuple[str, int]]
    total: int
    tflm_layer1: int


def run(calib_elf: Path, model: Path, board: Board, expected: list[int], data_stalls: bool = True) -> Replay:
    """Build and run the replay on ``board``; its output must equal ``expected``."""
    with tempfile.TemporaryDirectory(prefix="mcusim-tvm-replay-") as tmp:
        elf, calls, out_len, layer1 = build(calib_elf, model, Path(tmp))
        m = Machine(elf, board, data_stalls=data_stalls)
        res = m.run()
        got = [b - 256 if b > 127 else b for b in m.read_symbol("replay_output", out_len)]
        if got != expected:
            raise SystemExit(f"TVM replay of {model.name}: output {got} differs from the reference {expected}")
        if m.read_symbol("tflm_layer1", layer1) != m.read_symbol("tvm_layer1", layer1):
            raise SystemExit(f"TVM replay of {model.name}: the two forms of layer 1 differ")
        stamps = {v: c for c, v in res.probes}
        seq = [stamps[START]] + [stamps[LAYER + k] for k in range(len(calls))]
        layers = [(c.what, seq[k + 1] - seq[k]) for k, c in enumerate(calls)]
        return Replay(layers, seq[-1] - seq[0], stamps[TFLM_L1_END] - stamps[TFLM_L1_START])


def main() -> None:
    import json

    from fidelity import CALIBRATION, EXPECTED

    from mcusim.simulator.board import get_board

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calibration", type=Path, default=CALIBRATION)
    args = ap.parse_args()
    board = get_board("stm32l4r5zi")
    expected = json.loads(EXPECTED.read_text())["models"]["kws_ref_model"]["output_int8"]
    model = EXPECTED.parent / "kws_ref_model.tflite"
    r = run(args.calibration / "kws_ref_model_cmsis22.elf", model, board, expected)
    for what, c in r.layers:
        print(f"{what:50} {c:>12,}")
    print(f"{'total':50} {r.total:>12,}  ({r.total / board.op.clock_hz * 1e3:.2f} ms)")
    print(f"{'TFLM form of layer 1 (arm_convolve_wrapper_s8)':50} {r.tflm_layer1:>12,}")


if __name__ == "__main__":
    main()
