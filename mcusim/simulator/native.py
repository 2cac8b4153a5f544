"""The native block hook (mcusim/simulator/native/blockhook.c): built once with the host C compiler,
cached by content hash, loaded with ctypes. Its state struct is mirrored here."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np

from ..errors import ToolchainError
from ..fileio import replacing

SOURCE = Path(__file__).parent / "native" / "blockhook.c"
CALLSTACK_MAX = 256
CFLAGS = ("-O3", "-shared", "-fPIC")
NREGS = 15

MISS_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint32)
STOP_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)

u32p = ctypes.POINTER(ctypes.c_uint32)
u64p = ctypes.POINTER(ctypes.c_uint64)
i32p = ctypes.POINTER(ctypes.c_int32)


# numpy mirror of `mcusim_block` (64 bytes).
BLOCK_DTYPE = np.dtype(
    [
        ("cost", "<u4"), ("ninsn", "<u4"), ("end", "<u4"), ("flags", "<u4"),
        ("next_key", "<u8"), ("next_idx", "<i4"), ("loads_first", "<u4"),
        ("exec", "<u8"), ("taken", "<u8"), ("stall", "<u8"), ("dstall", "<u8"),
    ]
)
assert BLOCK_DTYPE.itemsize == 64

# numpy mirror of `mcusim_load` (20 bytes): one entry of a block's load plan.
LOAD_DTYPE = np.dtype(
    [
        ("disp", "<i4"), ("offset", "<u2"), ("bytes", "<u2"), ("bsrc", "u1"), ("breg", "u1"),
        ("isrc", "u1"), ("ireg", "u1"), ("shift", "u1"), ("cond", "u1"), ("cond_exit", "u1"), ("pad", "u1"),
        ("bk", "<i2"), ("ik", "<i2"),
    ]
)
assert LOAD_DTYPE.itemsize == 20


IHINT_SLOTS = 1024  # IHINT_MASK + 1 in blockhook.c


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
        ("iepoch", u32p),
        ("ievictions", ctypes.c_uint32),
        ("fetch_shift", ctypes.c_uint32),
        ("iways", ctypes.c_uint32),
        ("prefetch", ctypes.c_uint32),
        ("ivalid", u32p),
        ("istamp", u32p),
        ("ihint", u32p),
        ("iclock", ctypes.c_uint32),
        ("data_mode", ctypes.c_uint32),
        ("data_wait_states", ctypes.c_uint32),
        ("unit_shift", ctypes.c_uint32),
        ("dline_shift", ctypes.c_uint32),
        ("dset_mask", ctypes.c_uint32),
        ("dways", ctypes.c_uint32),
        ("dtags", u32p),
        ("dvalid", u32p),
        ("dstamp", u32p),
        ("dclock", ctypes.c_uint32),
        ("xpsr_id", ctypes.c_uint32),
        ("loads", ctypes.c_void_p),
        ("regs", ctypes.c_void_p),
        ("reg_read", ctypes.c_void_p),
        ("reg_read_batch", ctypes.c_void_p),
        ("mem_read", ctypes.c_void_p),
        ("regs_by_api", ctypes.c_uint32),
        ("entry_xpsr", ctypes.c_uint32),
        ("entry_regs", ctypes.c_uint32 * 16),
        ("api_regs", ctypes.c_uint32 * 16),
        ("api_ids", ctypes.c_int32 * NREGS),
        ("pad0", ctypes.c_uint32),
        ("api_ptrs", ctypes.c_void_p * NREGS),
        ("data_flash_units", ctypes.c_uint64),
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
    key = hashlib.sha256(src + " ".join(CFLAGS).encode()).hexdigest()[:16]
    from ..build.toolchain import cache_dir

    out = cache_dir() / "native" / f"blockhook-{key}.so"
    if not out.is_file():
        cc = os.environ.get("CC", "cc")
        if shutil.which(cc) is None:
            raise ToolchainError(f"a host C compiler ({cc}) is needed to build mcusim's native hook")
        with replacing(out) as tmp:
            proc = subprocess.run([cc, *CFLAGS, "-o", str(tmp), str(SOURCE)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise ToolchainError(f"building the native hook failed: {proc.stderr.strip()[:200]}")
    lib = ctypes.CDLL(str(out))
    lib.mcusim_insert.argtypes = [ctypes.POINTER(State), ctypes.c_uint64, ctypes.c_int32]
    lib.mcusim_insert.restype = None
    lib.mcusim_finish.argtypes = [ctypes.POINTER(State), ctypes.c_uint32]
    lib.mcusim_finish.restype = ctypes.c_uint64
    return lib


_SCAN_STRUCT = 0x4000    # bytes of Unicorn's uc_struct searched for pointers
_SCAN_OBJECT = 0x40000   # bytes after each pointer searched for the register file
_layout: tuple[int, int] | None = None  # (pointer field offset in uc_struct, offset from it)


def register_file(uc: object) -> int | None:
    """Address of Unicorn's live ARM register array (r0-r15 as uint32), or None.

    The block hook reads the registers of every block with a load plan; through the API
    (uc_reg_read_batch) that costs more than the rest of the hook together. Unicorn keeps
    the guest registers in its CPU state, in sync whenever a hook runs, but does not export
    their address. It is found by writing marker values to r0-r12 and searching the
    objects uc_struct points to, then confirmed with a second set of markers; the registers
    are restored afterwards. Unicorn is pinned (2.1.4), and a layout that does not confirm
    gives None, in which case the hook falls back to uc_reg_read_batch (slower, same result).
    """
    import struct

    from unicorn import arm_const as A

    regs = [getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)]
    saved = [uc.reg_read(r) for r in regs]  # type: ignore[attr-defined]
    handle = ctypes.cast(uc._uch, ctypes.c_void_p).value  # type: ignore[attr-defined]
    readable = _readable_ranges()

    def ok(addr: int, n: int) -> bool:
        return any(lo <= addr and addr + n <= hi for lo, hi in readable)

    def mark(seed: int) -> bytes:
        vals = [(seed + 0x1111 * i) & 0xFFFFFFFF for i in range(13)]
        for r, v in zip(regs, vals):
            uc.reg_write(r, v)  # type: ignore[attr-defined]
        return struct.pack("<13I", *vals)

    def confirmed(addr: int) -> bool:
        second = mark(0x3C0FFEE0)
        return ok(addr, 52) and ctypes.string_at(addr, 52) == second

    global _layout
    found: int | None = None
    try:
        if not handle or not ok(handle, _SCAN_STRUCT):
            return None
        if _layout is not None:
            field, delta = _layout
            ptr = struct.unpack_from("<Q", ctypes.string_at(handle + field, 8))[0]
            pattern = mark(0x5EED0000)
            if ok(ptr + delta, 52) and ctypes.string_at(ptr + delta, 52) == pattern and confirmed(ptr + delta):
                found = ptr + delta
        if found is None:
            pattern = mark(0x5EED0000)
            blob = ctypes.string_at(handle, _SCAN_STRUCT)
            for field in range(0, _SCAN_STRUCT, 8):
                ptr = struct.unpack_from("<Q", blob, field)[0]
                if not ptr or not ok(ptr, _SCAN_OBJECT):
                    continue
                k = ctypes.string_at(ptr, _SCAN_OBJECT).find(pattern)
                if k >= 0 and k % 4 == 0 and confirmed(ptr + k):
                    found = ptr + k
                    _layout = (field, k)
                    break
                pattern = mark(0x5EED0000)
    finally:
        for r, v in zip(regs, saved):
            uc.reg_write(r, v)  # type: ignore[attr-defined]
    return found


def _readable_ranges() -> list[tuple[int, int]]:
    out = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                span, perms = line.split()[:2]
                if perms.startswith("r"):
                    lo, hi = (int(x, 16) for x in span.split("-"))
                    out.append((lo, hi))
    except OSError:
        return []
    return out
