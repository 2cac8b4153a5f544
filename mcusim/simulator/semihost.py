"""Arm semihosting for firmware run by ``mcusim sim``.

The firmware asks the host for a service with ``bkpt 0xAB`` in Thumb state: the operation
number in r0, its argument (usually the address of a parameter block of 32-bit words) in r1,
the result back in r0. Operation numbers, parameter blocks and results follow Arm's
*Semihosting for AArch32 and AArch64*, version 3.0 (Arm IHI 0062), chapter 5 ("Semihosting
operations") and section 4.2.1 (the ``SHFB`` feature magic). The calls served are those newlib's
rdimon and the usual ports use; any other number ends the run with one line.

What the host side is here:

- the console ``:tt`` is the only file: opened for reading it is standard input, which is
  always at its end (a simulation reads no keyboard); opened for writing it is standard
  output, for appending standard error (feature ``SH_EXT_STDOUT_STDERR``). Other names fail
  with ENOENT: the firmware never reaches the host's files.
- ``:semihosting-features`` reads as ``SHFB`` and one byte of feature bits (EXIT_EXTENDED and
  STDOUT_STDERR), which is how newlib decides to report exit codes with SYS_EXIT_EXTENDED.
- time is simulated time: SYS_CLOCK gives centiseconds and SYS_ELAPSED/SYS_TICKFREQ cycles
  at the board's clock since reset; SYS_TIME gives seconds since reset (the simulation starts
  at the epoch, so runs stay deterministic).
- a semihosting call costs the cycles of its ``bkpt`` instruction and nothing more: on silicon
  a debugger services it while the core is halted, so its duration is the host's, not the
  firmware's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import FirmwareFault

SYS_OPEN, SYS_CLOSE, SYS_WRITEC, SYS_WRITE0, SYS_WRITE, SYS_READ = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
SYS_ISTTY, SYS_SEEK, SYS_FLEN = 0x09, 0x0A, 0x0C
SYS_CLOCK, SYS_TIME, SYS_ERRNO, SYS_HEAPINFO = 0x10, 0x11, 0x13, 0x16
SYS_EXIT, SYS_EXIT_EXTENDED, SYS_ELAPSED, SYS_TICKFREQ = 0x18, 0x20, 0x30, 0x31
NAMES = {
    SYS_OPEN: "SYS_OPEN", SYS_CLOSE: "SYS_CLOSE", SYS_WRITEC: "SYS_WRITEC", SYS_WRITE0: "SYS_WRITE0",
    SYS_WRITE: "SYS_WRITE", SYS_READ: "SYS_READ", SYS_ISTTY: "SYS_ISTTY", SYS_SEEK: "SYS_SEEK",
    SYS_FLEN: "SYS_FLEN", SYS_CLOCK: "SYS_CLOCK", SYS_TIME: "SYS_TIME", SYS_ERRNO: "SYS_ERRNO",
    SYS_HEAPINFO: "SYS_HEAPINFO", SYS_EXIT: "SYS_EXIT", SYS_EXIT_EXTENDED: "SYS_EXIT_EXTENDED",
    SYS_ELAPSED: "SYS_ELAPSED", SYS_TICKFREQ: "SYS_TICKFREQ",
}
ADP_STOPPED_APPLICATION_EXIT = 0x20026
"""The exit reason of a normal end (IHI 0062, Table 5-2)."""
SEMIHOSTING_BKPT = 0xAB
FEATURES = b"SHFB" + bytes([0b11])  # SH_EXT_EXIT_EXTENDED | SH_EXT_STDOUT_STDERR (IHI 0062 §4.2.1)
ENOENT, EBADF, EINVAL, ESPIPE = 2, 9, 22, 29
STDIN, STDOUT, STDERR, FEATURES_HANDLE = 1, 2, 3, 4
MAX_TRANSFER = 1 << 24
"""Longest single transfer accepted (16 MiB): more than any simulated part's memory."""
MAX_COLLECTED = 1 << 24
"""Output kept for the JSON report per stream; more is streamed but not kept (``truncated``)."""


class SemihostingError(FirmwareFault):
    """A semihosting call the host cannot serve: unknown operation or arguments outside memory."""


@dataclass
class Exit:
    """The firmware asked to stop (SYS_EXIT or SYS_EXIT_EXTENDED)."""

    code: int
    reason: int


@dataclass
class Console:
    """What the firmware wrote, per stream, in order."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    truncated: bool = False


class Semihost:
    """The host side of semihosting for one run.

    ``read(addr, n)`` and ``write(addr, data)`` access guest memory and raise
    :class:`SemihostingError` outside it; ``cycles()`` is the simulated cycle count now;
    ``on_output(stream, data)`` (stream 1 stdout, 2 stderr) sees output as it is written.
    """

    def __init__(self, read: Callable[[int, int], bytes], write: Callable[[int, bytes], None],
                 cycles: Callable[[], int], clock_hz: int, heapinfo: tuple[int, int, int, int],
                 on_output: Callable[[int, bytes], None] | None = None) -> None:
        self._read, self._write, self._cycles = read, write, cycles
        self._clock_hz = clock_hz
        self._heapinfo = heapinfo
        self._on_output = on_output
        self.console = Console()
        self._errno = 0
        self._handles: dict[int, int] = {}  # handle -> kind (STDIN, STDOUT, STDERR, FEATURES_HANDLE)
        self._position: dict[int, int] = {}
        self.calls = 0

    # -- guest memory ----------------------------------------------------------------------
    def _words(self, addr: int, n: int, op: int) -> list[int]:
        data = self._mem(addr, 4 * n, op, "parameter block")
        return [int.from_bytes(data[4 * i: 4 * i + 4], "little") for i in range(n)]

    def _mem(self, addr: int, n: int, op: int, what: str) -> bytes:
        if n > MAX_TRANSFER:
            raise SemihostingError(f"semihosting {NAMES[op]}: {what} of {n:,} bytes at 0x{addr:08x} is longer "
                                   f"than any memory of the part")
        try:
            return self._read(addr, n)
        except SemihostingError as e:
            raise SemihostingError(f"semihosting {NAMES[op]}: {what} at 0x{addr:08x}+{n}: {e}") from None

    def _put(self, addr: int, data: bytes, op: int, what: str) -> None:
        try:
            self._write(addr, data)
        except SemihostingError as e:
            raise SemihostingError(f"semihosting {NAMES[op]}: {what} at 0x{addr:08x}+{len(data)}: {e}") from None

    def _string(self, addr: int, op: int, limit: int | None = None) -> bytes:
        """A NUL-terminated string (read in chunks, so a missing NUL ends at the memory's end)."""
        out = bytearray()
        while True:
            if len(out) > MAX_TRANSFER:
                raise SemihostingError(f"semihosting {NAMES[op]}: string at 0x{addr:08x} has no terminating NUL")
            if limit is not None and len(out) >= limit:
                return bytes(out[:limit])
            try:
                chunk = self._read(addr + len(out), 1)
            except SemihostingError:
                raise SemihostingError(f"semihosting {NAMES[op]}: string at 0x{addr:08x} runs outside memory "
                                       f"without a terminating NUL") from None
            if chunk == b"\0":
                return bytes(out)
            out += chunk

    def _emit(self, stream: int, data: bytes) -> None:
        if not data:
            return
        kept = self.console.stdout if stream == 1 else self.console.stderr
        room = MAX_COLLECTED - len(kept)
        if room < len(data):
            self.console.truncated = True
        kept += data[:max(room, 0)]
        if self._on_output is not None:
            self._on_output(stream, data)

    # -- the calls ---------------------------------------------------------------------------
    def call(self, op: int, arg: int) -> int | Exit:
        """Serve one call; the value for r0, or :class:`Exit`."""
        self.calls += 1
        handler = _HANDLERS.get(op)
        if handler is None:
            raise SemihostingError(f"semihosting call 0x{op:x} is not supported by mcusim "
                                   f"(served: {', '.join(sorted(NAMES.values()))})")
        return handler(self, arg)

    def _fail(self, errno: int) -> int:
        self._errno = errno
        return 0xFFFFFFFF

    def _open(self, arg: int) -> int:
        name_addr, mode, length = self._words(arg, 3, SYS_OPEN)
        name = self._mem(name_addr, length, SYS_OPEN, "file name")
        if name == b":tt":
            kind = STDIN if mode < 4 else STDOUT if mode < 8 else STDERR
        elif name == b":semihosting-features" and mode < 4:
            kind = FEATURES_HANDLE
        else:
            return self._fail(ENOENT)
        handle = 1 + max(self._handles, default=0)
        self._handles[handle] = kind
        self._position[handle] = 0
        return handle

    def _kind(self, handle: int) -> int | None:
        return self._handles.get(handle)

    def _close(self, arg: int) -> int:
        (handle,) = self._words(arg, 1, SYS_CLOSE)
        if self._handles.pop(handle, None) is None:
            return self._fail(EBADF)
        return 0

    def _writec(self, arg: int) -> int:
        self._emit(1, self._mem(arg, 1, SYS_WRITEC, "character"))
        return 0

    def _write0(self, arg: int) -> int:
        self._emit(1, self._string(arg, SYS_WRITE0))
        return 0

    def _write(self, arg: int) -> int:
        handle, buf, length = self._words(arg, 3, SYS_WRITE)
        kind = self._kind(handle)
        if kind not in (STDOUT, STDERR):
            self._errno = EBADF
            return length  # nothing written
        self._emit(1 if kind == STDOUT else 2, self._mem(buf, length, SYS_WRITE, "buffer"))
        return 0

    def _read_call(self, arg: int) -> int:
        handle, buf, length = self._words(arg, 3, SYS_READ)
        kind = self._kind(handle)
        if kind == FEATURES_HANDLE:
            pos = self._position[handle]
            data = FEATURES[pos: pos + min(length, MAX_TRANSFER)]
            self._put(buf, data, SYS_READ, "buffer")
            self._position[handle] = pos + len(data)
            return length - len(data)
        if kind != STDIN:
            self._errno = EBADF
            return 0xFFFFFFFF
        return length  # standard input is at its end: no byte read

    def _istty(self, arg: int) -> int:
        (handle,) = self._words(arg, 1, SYS_ISTTY)
        kind = self._kind(handle)
        if kind is None:
            return self._fail(EBADF)
        return 1 if kind != FEATURES_HANDLE else 0

    def _seek(self, arg: int) -> int:
        handle, pos = self._words(arg, 2, SYS_SEEK)
        kind = self._kind(handle)
        if kind is None:
            return self._fail(EBADF)
        if kind != FEATURES_HANDLE:
            return self._fail(ESPIPE)
        if pos > len(FEATURES):
            return self._fail(EINVAL)
        self._position[handle] = pos
        return 0

    def _flen(self, arg: int) -> int:
        (handle,) = self._words(arg, 1, SYS_FLEN)
        kind = self._kind(handle)
        if kind is None:
            return self._fail(EBADF)
        return len(FEATURES) if kind == FEATURES_HANDLE else 0

    def _clock(self, arg: int) -> int:
        return (self._cycles() * 100 // self._clock_hz) & 0xFFFFFFFF

    def _time(self, arg: int) -> int:
        return (self._cycles() // self._clock_hz) & 0xFFFFFFFF

    def _errno_call(self, arg: int) -> int:
        return self._errno

    def _heapinfo_call(self, arg: int) -> int:
        (block,) = self._words(arg, 1, SYS_HEAPINFO)
        self._put(block, b"".join(v.to_bytes(4, "little") for v in self._heapinfo), SYS_HEAPINFO, "result block")
        return 0

    def _exit(self, arg: int) -> Exit:
        # AArch32 SYS_EXIT passes the reason itself: only ApplicationExit is a success, and it
        # carries no status (IHI 0062 §5.8). QEMU reports the same codes.
        return Exit(0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1, arg)

    def _exit_extended(self, arg: int) -> Exit:
        reason, subcode = self._words(arg, 2, SYS_EXIT_EXTENDED)
        code = subcode - (1 << 32) if subcode & 0x80000000 else subcode
        return Exit(code if reason == ADP_STOPPED_APPLICATION_EXIT else 1, reason)

    def _elapsed(self, arg: int) -> int:
        self._put(arg, self._cycles().to_bytes(8, "little"), SYS_ELAPSED, "result")
        return 0

    def _tickfreq(self, arg: int) -> int:
        return self._clock_hz


_HANDLERS: dict[int, Callable[[Semihost, int], int | Exit]] = {
    SYS_OPEN: Semihost._open, SYS_CLOSE: Semihost._close, SYS_WRITEC: Semihost._writec,
    SYS_WRITE0: Semihost._write0, SYS_WRITE: Semihost._write, SYS_READ: Semihost._read_call,
    SYS_ISTTY: Semihost._istty, SYS_SEEK: Semihost._seek, SYS_FLEN: Semihost._flen,
    SYS_CLOCK: Semihost._clock, SYS_TIME: Semihost._time, SYS_ERRNO: Semihost._errno_call,
    SYS_HEAPINFO: Semihost._heapinfo_call, SYS_EXIT: Semihost._exit,
    SYS_EXIT_EXTENDED: Semihost._exit_extended, SYS_ELAPSED: Semihost._elapsed,
    SYS_TICKFREQ: Semihost._tickfreq,
}
