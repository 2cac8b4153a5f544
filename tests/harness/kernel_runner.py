"""Drive the kernel test harnesses (tests/harness/<op>.c) on the host or in the simulator.

A :class:`Blob` is what one harness call reads: ``params`` (int32s, in the order the C file
reads them with ``H()``/``P()``) and ``arena`` (tensors, at 4-byte aligned byte offsets).
:class:`HostRunner` builds the reference flavour with the host compiler into a shared library
(ctypes); :class:`SimRunner` builds one ELF per (kernel, flavour, board) with
``mcusim.toolchain.build_elf`` and runs it in :class:`mcusim.machine.Machine`. Both return the
kernel's status and the arena after the call.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels"
HARNESS = Path(__file__).resolve().parent
PARAMS = 96
ARENA_BYTES = 24576

# kernel name -> its file inside kernels/src/ref/ (and kernels/src/opt/ when it has an optimized one)
KERNEL_FILES = {
    "fully_connected": "fully_connected/mcu_fully_connected_s8.c",
    "fully_connected_wino": "fully_connected/mcu_fully_connected_wino_s8.c",
    "conv": "conv/mcu_conv_s8.c",
    "conv_wino": "conv/mcu_conv_wino_s8.c",
    "depthwise_conv": "conv/mcu_depthwise_conv_s8.c",
    "max_pool": "pooling/mcu_max_pool_s8.c",
    "avg_pool": "pooling/mcu_avg_pool_s8.c",
    "mean": "reduce/mcu_mean_s8.c",
    "add": "elementwise/mcu_add_s8.c",
    "mul": "elementwise/mcu_mul_s8.c",
    "sub": "elementwise/mcu_sub_s8.c",
    "squared_difference": "elementwise/mcu_squared_difference_s8.c",
    "maximum": "elementwise/mcu_maximum_s8.c",
    "minimum": "elementwise/mcu_minimum_s8.c",
    "rsqrt": "elementwise/mcu_rsqrt_s8.c",
    "neg": "elementwise/mcu_neg_f32.c",
    "concatenation": "layout/mcu_concatenation_s8.c",
    "pad": "layout/mcu_pad_s8.c",
    "softmax": "activation/mcu_softmax_s8.c",
    "logistic": "activation/mcu_logistic_s8.c",
    "tanh": "activation/mcu_tanh_s8.c",
    "hard_swish": "activation/mcu_hard_swish_s8.c",
    "leaky_relu": "activation/mcu_leaky_relu_s8.c",
    "prelu": "activation/mcu_prelu_s8.c",
    "clamp": "activation/mcu_clamp_s8.c",
    "quantize": "quantize/mcu_quantize_s8.c",
    "quantize_u8_s8": "quantize/mcu_quantize_u8_s8.c",
    "quantize_s8_u8": "quantize/mcu_quantize_s8_u8.c",
    "dequantize": "quantize/mcu_dequantize_s8.c",
    "lut": "quantize/mcu_lut_s8.c",
    "transpose_conv": "conv/mcu_transpose_conv_s8.c",
    "batch_matmul": "matmul/mcu_batch_matmul_s8.c",
}

# kernel name -> the other kernel files its optimized flavour calls (linked into its harness)
KERNEL_CALLS = {"depthwise_conv": ["conv/mcu_conv_s8.c"]}

MCU_OK, MCU_ERR_ARG, MCU_ERR_BUFFER, MCU_ERR_UNSUPPORTED = 0, -1, -2, -3


def flavour_file(flavour: str, name: str) -> Path:
    """The file a build of ``flavour`` compiles for kernel file ``name`` (family/file.c): the
    one mcusim's own builds choose (deploy.kernel_sources: opt falls back to ref per file)."""
    from mcusim.stacks.deploy import kernel_sources

    return next(p for p in kernel_sources(flavour) if p.name == Path(name).name)


def table_sources(sources: list[Path]) -> list[Path]:
    """The generated mcu_sigmoid_table.c (TFLite's table, read from the TFLM tree:
    mcusim/stacks/tflmtables.py) when a kernel among ``sources`` uses it, else nothing."""
    from mcusim.build.toolchain import cache_dir
    from mcusim.stacks.tflmtables import sigmoid_table_source

    if any("mcu_nn_s16_act.h" in Path(p).read_text() for p in sources):
        return [sigmoid_table_source(cache_dir() / "generated" / "harness")]
    return []


@cache
def sources_hash() -> str:
    """Content hash of every kernel and harness source: part of each build's cache key, since
    the kernels include files (ref .c, internal headers) the build cache cannot see."""
    h = hashlib.sha256()
    for p in sorted([*KERNELS.rglob("*.[ch]"), *HARNESS.glob("*.[ch]")]):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Blob:
    """Parameters and tensors of one harness call."""

    params: list[int] = field(default_factory=list)
    arena: bytearray = field(default_factory=bytearray)

    def val(self, *values: int) -> None:
        for v in values:
            self.params.append(int(v))

    def dims(self, shape: tuple[int, ...]) -> None:
        """An NHWC shape; lower ranks are padded with leading 1s."""
        s = (1,) * (4 - len(shape)) + tuple(int(d) for d in shape)
        self.val(*s)

    def place(self, data: np.ndarray | bytes) -> int:
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        while len(self.arena) % 4:
            self.arena.append(0)
        off = len(self.arena)
        self.arena += raw
        return off

    def buf(self, data: np.ndarray | None) -> None:
        """A tensor in the arena (pointer parameter); None is a NULL pointer."""
        self.val(-1 if data is None else self.place(data))

    def out(self, nbytes: int) -> int:
        """An output region, pre-filled with a canary; returns its offset."""
        off = self.place(b"\xa5" * nbytes)
        self.val(off)
        return off

    def scratch(self, nbytes: int) -> int:
        off = self.place(b"\x5a" * nbytes) if nbytes > 0 else -1
        self.val(off, nbytes)
        return off


@dataclass
class Result:
    status: int
    arena: bytes
    scratch_bytes: int
    run: Any = None  # mcusim.machine.RunResult in the simulator

    def array(self, offset: int, shape: tuple[int, ...], dtype: Any = np.int8) -> np.ndarray:
        n = int(np.prod(shape)) * np.dtype(dtype).itemsize
        return np.frombuffer(self.arena[offset:offset + n], dtype=dtype).reshape(shape)


def _i32(raw: bytes) -> int:
    return int.from_bytes(raw[:4], "little", signed=True)


class HostRunner:
    """The reference flavour of one kernel compiled for the host, called through ctypes."""

    def __init__(self, kernel: str) -> None:
        self.kernel = kernel
        self.lib = _host_library(kernel, sources_hash())

    def run(self, blob: Blob) -> Result:
        if len(blob.params) > PARAMS or len(blob.arena) > ARENA_BYTES:
            raise ValueError("harness call too large")
        params = (ctypes.c_int32 * PARAMS).in_dll(self.lib, "harness_params")
        arena = (ctypes.c_uint8 * ARENA_BYTES).in_dll(self.lib, "harness_arena")
        ctypes.memmove(params, (ctypes.c_int32 * len(blob.params))(*blob.params), 4 * len(blob.params))
        ctypes.memmove(arena, bytes(blob.arena), len(blob.arena))
        status = self.lib.harness_main()
        scratch = ctypes.c_int32.in_dll(self.lib, "harness_scratch_bytes").value
        return Result(status, bytes(arena)[:len(blob.arena)], scratch)


@cache
def _host_library(kernel: str, _hash: str) -> ctypes.CDLL:
    kernel_file = KERNELS / "src" / "ref" / KERNEL_FILES[kernel]
    tables = table_sources([kernel_file])  # content-addressed: their directory names key the library
    out = Path(tempfile.gettempdir()) / f"mcusim-harness-{kernel}-{_hash}{''.join(f'-{t.parent.name}' for t in tables)}.so"
    if not out.exists():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = ["gcc", "-shared", "-fPIC", "-O1", "-std=c11", "-Wall", "-Wextra", "-Werror",
               "-DHARNESS_HOST", f"-I{KERNELS / 'include'}", f"-I{HARNESS}",
               str(HARNESS / "harness_main.c"), str(HARNESS / f"{kernel}.c"), str(kernel_file),
               *map(str, tables), "-o", str(tmp)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        tmp.rename(out)
    lib = ctypes.CDLL(str(out))
    lib.harness_main.restype = ctypes.c_int32
    return lib


class SimRunner:
    """One kernel of one flavour built for one board, run in the simulator."""

    def __init__(self, kernel: str, flavour: str, board: str, arena_bytes: int = ARENA_BYTES,
                 opt: str = "-O2") -> None:
        from mcusim.build.toolchain import build_elf
        from mcusim.simulator.board import get_board

        self.kernel, self.flavour = kernel, flavour
        self.board = get_board(board)
        self.arena_bytes = arena_bytes
        sources = [HARNESS / "harness_main.c", HARNESS / f"{kernel}.c",
                   *(flavour_file(flavour, f) for f in [KERNEL_FILES[kernel], *KERNEL_CALLS.get(kernel, [])])]
        sources += table_sources(sources)
        built = build_elf(sources, self.board, include_dirs=(KERNELS / "include", HARNESS),
                          defines={"HARNESS_ARENA_BYTES": arena_bytes,
                                   "MCU_SOURCES_HASH": "0x" + sources_hash()[:8]},
                          opt=opt)
        self.elf = built.elf if hasattr(built, "elf") else built

    def run(self, blob: Blob) -> Result:
        from mcusim.simulator.machine import Machine

        if len(blob.params) > PARAMS or len(blob.arena) > self.arena_bytes:
            raise ValueError("harness call too large")
        m = Machine(self.elf, self.board)
        m.write_symbol("harness_params", np.array(blob.params, "<i4").tobytes())
        m.write_symbol("harness_arena", bytes(blob.arena))
        res = m.run()
        status = _i32(m.read_symbol("harness_status", 4))
        scratch = _i32(m.read_symbol("harness_scratch_bytes", 4))
        return Result(status, m.read_symbol("harness_arena", len(blob.arena)), scratch, res)
