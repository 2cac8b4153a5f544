"""The semihosting host side on its own (no emulator): Arm IHI 0062 operations against a
fake guest memory."""

from __future__ import annotations

import struct

import pytest

from mcusim.simulator.semihost import (
    ADP_STOPPED_APPLICATION_EXIT,
    FEATURES,
    Exit,
    Semihost,
    SemihostingError,
)


class Memory:
    def __init__(self) -> None:
        self.ram = bytearray(0x1000)

    def read(self, addr: int, n: int) -> bytes:
        if addr < 0x1000 or addr + n > 0x2000:
            raise SemihostingError("outside memory")
        return bytes(self.ram[addr - 0x1000: addr - 0x1000 + n])

    def write(self, addr: int, data: bytes) -> None:
        if addr < 0x1000 or addr + len(data) > 0x2000:
            raise SemihostingError("outside memory")
        self.ram[addr - 0x1000: addr - 0x1000 + len(data)] = data

    def words(self, addr: int, *values: int) -> int:
        self.write(addr, struct.pack(f"<{len(values)}I", *values))
        return addr


@pytest.fixture
def host():
    mem = Memory()
    seen = []
    sh = Semihost(mem.read, mem.write, lambda: 250_000, 100_000_000, (0x1100, 0x1F00, 0x1F00, 0x1100),
                  lambda stream, data: seen.append((stream, data)))
    return sh, mem, seen


def test_exit_codes_follow_qemu(host):
    sh, mem, _ = host
    assert sh.call(0x18, ADP_STOPPED_APPLICATION_EXIT) == Exit(0, ADP_STOPPED_APPLICATION_EXIT)
    assert sh.call(0x18, 0x20023).code == 1  # RunTimeErrorUnknown
    assert sh.call(0x20, mem.words(0x1800, ADP_STOPPED_APPLICATION_EXIT, 7)).code == 7
    assert sh.call(0x20, mem.words(0x1800, ADP_STOPPED_APPLICATION_EXIT, 0xFFFFFFFF)).code == -1
    assert sh.call(0x20, mem.words(0x1800, 0x20023, 7)).code == 1


def test_feature_file_tells_newlib_about_exit_extended(host):
    sh, mem, _ = host
    mem.write(0x1200, b":semihosting-features")
    h = sh.call(0x01, mem.words(0x1800, 0x1200, 0, 21))
    assert sh.call(0x0C, mem.words(0x1810, h)) == len(FEATURES)
    assert sh.call(0x06, mem.words(0x1820, h, 0x1300, 5)) == 0
    assert mem.read(0x1300, 5) == FEATURES and FEATURES[4] & 1  # SH_EXT_EXIT_EXTENDED


def test_output_is_streamed_and_kept(host):
    sh, mem, seen = host
    mem.write(0x1200, b"hi\0")
    sh.call(0x04, 0x1200)
    mem.write(0x1204, b":tt")
    err = sh.call(0x01, mem.words(0x1800, 0x1204, 8, 3))
    mem.write(0x1300, b"oops")
    assert sh.call(0x05, mem.words(0x1810, err, 0x1300, 4)) == 0
    assert seen == [(1, b"hi"), (2, b"oops")]
    assert (bytes(sh.console.stdout), bytes(sh.console.stderr)) == (b"hi", b"oops")


def test_time_is_simulated(host):
    sh, mem, _ = host
    assert sh.call(0x10, 0) == 250_000 * 100 // 100_000_000  # centiseconds
    assert sh.call(0x31, 0) == 100_000_000
    assert sh.call(0x30, 0x1400) == 0 and mem.read(0x1400, 8) == (250_000).to_bytes(8, "little")


@pytest.mark.parametrize("op,arg", [(0x04, 0x1FFE), (0x05, 0x3000), (0x16, 0x1800), (0x30, 0x1FFC)])
def test_garbage_arguments_raise_one_error(host, op, arg):
    sh, mem, _ = host
    mem.words(0x1800, 0x5000)  # HEAPINFO: a pointer to a block outside memory
    mem.write(0x1FFE, b"ab")  # WRITE0 without a NUL before the end of memory
    with pytest.raises(SemihostingError, match="semihosting SYS_"):
        sh.call(op, arg)


def test_unknown_operation(host):
    with pytest.raises(SemihostingError, match="semihosting call 0x99 is not supported"):
        host[0].call(0x99, 0)
