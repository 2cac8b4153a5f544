"""The native block hook (mcusim/native/blockhook.c): built once with the host C compiler,
cached by content hash, loaded with ctypes. Its state struct is mirrored here."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from .errors import ToolchainError

SOURCE = Path(__file__).parent / "native" / "blockhook.c"
CALLSTACK_MAX = 256

MISS_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint32)
STOP_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)

u32p = ctypes.POINTER(ctypes.c_uint32)
u64p = ctypes.POINTER(ctypes.c_uint64)
i32p = ctypes.POINTER(ctypes.c_int32)


# numpy mirror of `mcusim_block` (64 bytes).
BLOCK_DTYPE = np.dtype(
    [
        ("cost", "<u4"), ("ninsn", "<u4"), ("end", "<u4"), ("flags", "<u4"),
        ("next_key", "<u8"), ("next_idx", "<i4"), ("pad", "<u4"),
        ("exec", "<u8"), ("taken", "<u8"), ("stall", "<u8"), ("pad2", "<u8"),
    ]
)
assert BLOCK_DTYPE.itemsize == 64


class State(ctypes.Structure):
    _fields_ = [
        ("uc", ctypes.c_void_p),
        ("emu_stop", ctypes.c_void_p),
        ("on_miss", MISS_FN),
        ("max_instructions", ctypes.c_uint64),
        ("branch_penalty", ctypes.c_uint32),
        ("flash_lo", ctypes.c_uint32),
        ("flash_hi", ctypes.c_uint32),
        ("flash_wait_states", ctypes.c_uint32),
        ("flash_mode", ctypes.c_uint32),
        ("icache_mask", ctypes.c_uint32),
        ("icache_line_shift", ctypes.c_uint32),
        ("icache_tags", u32p),
        ("blk", ctypes.c_void_p),
        ("ht_keys", u64p),
        ("ht_vals", i32p),
        ("ht_mask", ctypes.c_uint32),
        ("ht_used", ctypes.c_uint32),
        ("cycles", ctypes.c_uint64),
        ("instructions", ctypes.c_uint64),
        ("cur", ctypes.c_int32),
        ("stop_reason", ctypes.c_uint32),
        ("cs_depth", ctypes.c_uint32),
        ("cs_ret", ctypes.c_uint32 * CALLSTACK_MAX),
        ("in_kernel", ctypes.c_uint32),
        ("pad", ctypes.c_uint32),
        ("kernel_start", ctypes.c_uint64),
        ("kernel_cycles", ctypes.c_uint64),
    ]


@cache
def library() -> ctypes.CDLL:
    """Build (once per source version) and load the native hook library."""
    src = SOURCE.read_bytes()
    key = hashlib.sha256(src).hexdigest()[:16]
    from .toolchain import cache_dir

    out = cache_dir() / "native" / f"blockhook-{key}.so"
    if not out.is_file():
        cc = os.environ.get("CC", "cc")
        if shutil.which(cc) is None:
            raise ToolchainError(f"a host C compiler ({cc}) is needed to build mcusim's native hook")
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
        os.close(fd)
        proc = subprocess.run(
            [cc, "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            os.unlink(tmp)
            raise ToolchainError(f"building the native hook failed: {proc.stderr.strip()[:200]}")
        os.replace(tmp, out)
    lib = ctypes.CDLL(str(out))
    lib.mcusim_insert.argtypes = [ctypes.POINTER(State), ctypes.c_uint64, ctypes.c_int32]
    lib.mcusim_insert.restype = None
    return lib
