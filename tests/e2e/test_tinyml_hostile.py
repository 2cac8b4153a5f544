"""Hostile models on target (issue 8 item 2): corrupted flatbuffers run through the tinyml
firmware in the simulator, with Unicorn memory hooks watching every access.

For kws_fc and anomaly_cnn1d, one image each (their own op set, exact arena) is built once;
every case writes mutated bytes into its model region (``mcusim.tinyml.write_model``) and
runs with

* a read hook over flash from its origin to well past the model region (the region is given
  16 KiB of slack after the model): every read there must fall inside the model's bytes, or
  be main()'s read of the region header's ``size``/``capacity`` words;
* a write hook over the whole RAM: every write must fall into the tensor arena, the stack
  (``_end`` .. initial MSP), the output buffers, or a static that the run with the VALID model
  also writes (recorded first, per symbol); before ``main`` (start-up code copying .data and
  zeroing .bss) writes must lie in .data/.bss/stack;
* a modest instruction budget (hangs become BudgetExceeded, which fails the test).

A run must end with one of the runtime's documented non-zero statuses, or with status 0 and
outputs equal to ``mcusim.reference.run_graph`` on the mutated model as mcusim's front end
parses it. Never a FirmwareFault, never BudgetExceeded.

The default run tries 30 hypothesis cases per model and mutation family plus a list of fixed
structural corruptions; ``pytest -m slow`` runs 300 per model and family.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simhelpers import needs_gcc
from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE
from unicorn.arm_const import UC_ARM_REG_PC

from mcusim.errors import ModelError
from mcusim.frontend.graph import Graph
from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import load_model, parse_model
from mcusim.simulator.board import get_board
from mcusim.simulator.isa import Decoder
from mcusim.simulator.machine import Machine
from mcusim.stacks.deploy import Firmware, build_firmware
from mcusim.stacks.tinyml import (
    ARENA_SYMBOL,
    MODEL_HEADER_BYTES,
    MODEL_SYMBOL,
    STATUS_MESSAGES,
    build_tinyml,
    write_model,
)

ROOT = Path(__file__).resolve().parents[2]
BOARD = get_board("stm32g071rb")
"""Cortex-M0+: no unaligned loads, and no IT blocks. Unicorn 2.1 mis-executes Thumb-2 IT
blocks once a memory hook fires in them (unicorn-engine/unicorn#2309: valid kws_fc faults in
the planner on the M4 with an empty write hook), so the watched runs use the M0+ image."""
MODELS = ("kws_fc", "anomaly_cnn1d")
SLACK = 16 * 1024
"""Model-region bytes past the model: reads beyond the model's end land in the watched range."""
MAX_INSTRUCTIONS = 50_000_000
HEADER_READABLE = 8
"""main() reads the region header's size and capacity words; the reserved words never."""

STATUSES: dict[int, int] = {}
"""main()'s status -> runs that ended with it."""
CASES: dict[str, int] = {}
"""Cases run per test (printed by the session-end summary below, for docs/reliability.md)."""


def _count(kind: str) -> None:
    CASES[kind] = CASES.get(kind, 0) + 1


@dataclass
class Image:
    name: str
    graph: Graph
    fw: Firmware
    decoder: Decoder
    model_lo: int  # first byte of the model file in flash
    region_hi: int  # end of the model region (header + capacity)
    allowed_statics: list[tuple[int, int, str]] = field(default_factory=list)
    """(lo, hi, symbol) of the RAM objects main() writes with the valid model."""


@dataclass
class Outcome:
    status: int
    outputs: list[np.ndarray]
    bad_reads: list[tuple[int, int, int]]  # (pc, address, size)
    bad_writes: list[tuple[int, int, int, str]]  # (pc, address, size, where)
    written: set[str]


def _ram_objects(m: Machine) -> list[tuple[int, int, str]]:
    b = m.board
    objs = [(s.addr, s.addr + s.size, s.name) for s in m.elf.symbols.values()
            if s.kind == "object" and s.size and any(r.contains(s.addr) for r in b.ram_regions)]
    return sorted(objs)


def _run(img: Image, raw: bytes, inputs: list[bytes], record: bool = False) -> Outcome:
    elf, _ = build_firmware(img.fw)
    m = Machine(elf, img.fw.board)
    m._decoder = img.decoder  # disassembly cache shared by the runs of one image
    write_model(m, raw)
    # The image's inputs and outputs are tensors in the arena (tinyml.give_inputs): its symbols
    # point at them once start-up has bound them, and the INPUTS_READY probe says when.
    in_sizes = [t.nbytes for t in img.graph.input_tensors()]
    out_sizes = [t.nbytes for t in img.graph.output_tensors()]
    assert img.fw.io_ready_probe is not None

    def pointer(mm: Machine, sym: str) -> int:
        return int.from_bytes(mm.read_symbol(sym, 4), "little")

    def give(value: int, mm: Machine) -> None:
        if value == img.fw.io_ready_probe:
            for sym, x, n in zip(img.fw.input_symbols, inputs, in_sizes):
                mm.uc.mem_write(pointer(mm, sym), x[:n])

    m.on_probe = give

    b = m.board
    syms = m.elf.symbols
    arena = syms[ARENA_SYMBOL]
    arena_lo, arena_hi = arena.addr, arena.addr + arena.size
    stack_lo = syms["_end"].addr
    stack_hi = int.from_bytes(m.read(b.flash_origin, 4), "little")  # initial MSP
    statics = [s for s in m.elf.ram_sections() if s.name in (".data", ".bss")]
    outputs = [(syms[s].addr, syms[s].addr + syms[s].size) for s in img.fw.output_symbols]  # the pointers
    objects = _ram_objects(m)
    allowed = objects if record else img.allowed_statics
    region = syms[MODEL_SYMBOL].addr
    header = (region, region + HEADER_READABLE)
    model = (img.model_lo, img.model_lo + len(raw))
    in_main = [False]
    out = Outcome(0, [], [], [], set())

    def inside(lo: int, hi: int, addr: int, size: int) -> bool:
        return lo <= addr and addr + size <= hi

    def on_read(uc, access, addr, size, value, _):  # noqa: ANN001
        if not (inside(*model, addr, size) or inside(*header, addr, size)):
            out.bad_reads.append((uc.reg_read(UC_ARM_REG_PC), addr, size))

    def on_write(uc, access, addr, size, value, _):  # noqa: ANN001
        if inside(arena_lo, arena_hi, addr, size) or inside(stack_lo, stack_hi, addr, size):
            return
        if not in_main[0]:
            if not any(inside(s.addr, s.addr + s.size, addr, size) for s in statics):
                out.bad_writes.append((uc.reg_read(UC_ARM_REG_PC), addr, size, "before main"))
            return
        if any(inside(lo, hi, addr, size) for lo, hi in outputs):
            return
        for lo, hi, name in allowed:
            if inside(lo, hi, addr, size):
                out.written.add(name)
                return
        where = next((n for lo, hi, n in objects if lo <= addr < hi), "no symbol")
        out.bad_writes.append((uc.reg_read(UC_ARM_REG_PC), addr, size, where))

    def on_main(uc, addr, size, _):  # noqa: ANN001
        in_main[0] = True

    m.uc.hook_add(UC_HOOK_MEM_READ, on_read, begin=b.flash_origin, end=img.region_hi - 1)
    for r in b.ram_regions:
        m.uc.hook_add(UC_HOOK_MEM_WRITE, on_write, begin=r.origin, end=r.end - 1)
    main = syms["main"].addr
    m.uc.hook_add(UC_HOOK_CODE, on_main, begin=main, end=main)
    res = m.run(max_instructions=MAX_INSTRUCTIONS)  # FirmwareFault / BudgetExceeded fail the test
    out.status = res.exit_code
    if out.status == 0:
        out.outputs = [m.read(pointer(m, sym), n) for sym, n in zip(img.fw.output_symbols, out_sizes)]
    return out


def _inputs(graph: Graph) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(-128, 128, t.shape).astype(np.int8) for t in graph.input_tensors()]


@functools.cache
def _image(name: str) -> Image:
    graph = load_model(ROOT / "models" / f"{name}.tflite")
    fw = build_tinyml(graph, BOARD, kernels="opt", model_capacity=((len(graph.raw) + 15) & ~15) + SLACK)
    elf, _ = build_firmware(fw)
    sym = elf.symbol(MODEL_SYMBOL)
    img = Image(name, graph, fw, Decoder(), sym.addr + MODEL_HEADER_BYTES, sym.addr + sym.size)
    inputs = [x.tobytes() for x in _inputs(graph)]
    valid = _run(img, graph.raw, inputs, record=True)
    assert valid.status == 0 and not valid.bad_reads and not valid.bad_writes, valid
    objects = {n: (lo, hi) for lo, hi, n in _ram_objects(Machine(elf, BOARD))}
    img.allowed_statics = sorted((*objects[n], n) for n in valid.written)
    return img


def check(name: str, raw: bytes, kind: str) -> int:
    """Run ``raw`` on ``name``'s image and assert the contract; returns the status."""
    img = _image(name)
    _count(kind)
    try:
        graph: Graph | None = parse_model(bytes(raw))
    except ModelError:
        graph = None
    except Exception as e:  # noqa: BLE001 - the front end must only raise ModelError
        pytest.fail(f"parse_model raised {type(e).__name__}: {e}")
    use = graph if graph is not None and graph.input_tensors() else img.graph
    try:
        inputs = _inputs(use)
    except Exception:  # noqa: BLE001 - shapes the mutated model declares may be absurd
        inputs = _inputs(img.graph)
    out = _run(img, bytes(raw), [x.tobytes() for x in inputs])
    STATUSES[out.status] = STATUSES.get(out.status, 0) + 1
    assert not out.bad_reads, (f"{kind}: reads outside the model's bytes "
                               f"[0x{img.model_lo:08x}, +{len(raw)}): "
                               + ", ".join(f"pc 0x{p:08x} addr 0x{a:08x}/{s}" for p, a, s in out.bad_reads[:5]))
    assert not out.bad_writes, (f"{kind}: writes outside arena/stack/statics: "
                                + ", ".join(f"pc 0x{p:08x} addr 0x{a:08x}/{s} ({w})" for p, a, s, w in out.bad_writes[:5]))
    if out.status != 0:
        assert out.status in STATUS_MESSAGES, f"{kind}: undocumented status {out.status}"
        return out.status
    if graph is None:
        # The front end rejects a field the runtime never reads (tensor names, a second
        # subgraph, the weights' zero-point vector): the firmware must then compute what the
        # unmutated model computes.
        _count("  of which ran, front end rejects, outputs of the unmutated model")
        graph = img.graph
    try:
        expected = run_graph(graph, inputs)
    except ModelError:
        # Parses, but the reference refuses to run it (an op reading a tensor no earlier op
        # produced, e.g. its own output): the runtime, like TFLM, does not check data flow;
        # such a run stays inside arena and model (checked above), its outputs are garbage.
        _count("  of which ran, the reference refuses the graph (memory checks only)")
        return 0
    for k, (want, got) in enumerate(zip(expected, out.outputs)):
        want = np.asarray(want)
        assert bytes(got[:want.nbytes]) == want.tobytes(), f"{kind}: output {k} differs from mcusim.frontend.reference"
    return 0


# --- mutations ----------------------------------------------------------------------------------
def _u32(raw: bytes | bytearray, pos: int) -> int:
    return struct.unpack_from("<I", raw, pos)[0]


def offset_fields(raw: bytes) -> list[int]:
    """Positions of uint32 offset fields (table -> sub-table/vector) and of vtables, found by
    walking the flatbuffer generically: every table field that holds a forward offset to an
    aligned position inside the file is taken for an offset."""
    positions: list[int] = []
    vtables: set[int] = set()
    seen: set[int] = set()
    todo = [_u32(raw, 0)]
    while todo and len(seen) < 4000:
        t = todo.pop()
        if t in seen or t + 4 > len(raw):
            continue
        seen.add(t)
        vt = t - struct.unpack_from("<i", raw, t)[0]
        if not 0 <= vt <= len(raw) - 4:
            continue
        vtables.add(vt)
        vsize, tsize = struct.unpack_from("<HH", raw, vt)
        for slot in range(4, min(vsize, len(raw) - vt - 1), 2):
            off = struct.unpack_from("<H", raw, vt + slot)[0]
            pos = t + off
            if off and pos % 4 == 0 and pos + 4 <= len(raw):
                target = pos + _u32(raw, pos)
                if pos < target < len(raw) and target % 4 == 0:
                    positions.append(pos)
                    todo.append(target)
                    n = _u32(raw, target)  # a vector of tables?
                    if 0 < n < 4096 and target + 4 + 4 * n <= len(raw):
                        for i in range(n):
                            e = target + 4 + 4 * i
                            et = e + _u32(raw, e)
                            if e < et < len(raw) and et % 4 == 0:
                                todo.append(et)
    return sorted(set(positions) | {v for v in vtables} | {v + 2 for v in vtables})


@functools.cache
def _raw(name: str) -> bytes:
    return (ROOT / "models" / f"{name}.tflite").read_bytes()


@functools.cache
def _fields(name: str) -> tuple[int, ...]:
    return tuple(offset_fields(_raw(name)))


def structural_cases(raw: bytes, fields: tuple[int, ...]) -> dict[str, bytes]:
    """Fixed corruptions: root offset 0xFFFFFFF0 and friends, truncations, every kind of
    offset pointing past the end, huge vector lengths."""
    cases: dict[str, bytes] = {}
    n = len(raw)

    def put(pos: int, value: int, base: bytes = raw) -> bytes:
        b = bytearray(base)
        b[pos:pos + 4] = struct.pack("<I", value & 0xFFFFFFFF)
        return bytes(b)

    for v in (0xFFFFFFF0, 0xFFFFFFFC, 0x7FFFFFFF, 0, 4, n, n - 4, n + 16):
        cases[f"root=0x{v & 0xFFFFFFFF:x}"] = put(0, v)
    for cut in (0, 4, 8, 12, 16, 32, n // 2, n - 16, n - 1):
        cases[f"truncate@{cut}"] = raw[:cut]
    for i, pos in enumerate(fields[:: max(1, len(fields) // 40)]):
        if pos % 4:
            continue
        cases[f"offset@{pos}=past_end"] = put(pos, n - pos + 64)
        cases[f"offset@{pos}=0xfffffff0"] = put(pos, 0xFFFFFFF0)
        cases[f"offset@{pos}=0"] = put(pos, 0)
        target = pos + _u32(raw, pos)
        if target + 4 <= n:  # if it is a vector: huge length
            cases[f"veclen@{target}=0x7fffffff"] = put(target, 0x7FFFFFFF)
            cases[f"veclen@{target}=0x40000001"] = put(target, 0x40000001)
            cases[f"veclen@{target}=len+1"] = put(target, _u32(raw, target) + 1)
    for pos in fields[::max(1, len(fields) // 20)]:  # vtable sizes / table soffsets
        b = bytearray(raw)
        b[pos:pos + 2] = b"\xff\xff"
        cases[f"u16@{pos}=0xffff"] = bytes(b)
    return cases


@st.composite
def mutations(draw: st.DrawFn, name: str) -> bytes:
    """1-6 random byte flips, half of them inside vtables/offset fields, optionally a
    truncation, optionally one offset field replaced by a large or past-the-end value."""
    raw = bytearray(_raw(name))
    fields = _fields(name)
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            pos = draw(st.sampled_from(fields)) + draw(st.integers(0, 3))
        else:
            pos = draw(st.integers(0, len(raw) - 1))
        pos = min(pos, len(raw) - 1)
        raw[pos] = draw(st.integers(0, 255))
    if draw(st.integers(0, 3)) == 0:
        pos = draw(st.sampled_from([f for f in fields if f % 4 == 0]))
        raw[pos:pos + 4] = struct.pack("<I", draw(st.sampled_from(
            [len(raw) - pos, len(raw) - pos + 4, 0xFFFFFFF0, 0x80000000, 0x7FFFFFFF, 0x10000])))
    if draw(st.integers(0, 3)) == 0:
        raw = raw[:draw(st.integers(0, len(raw) - 1))]
    return bytes(raw)


# --- tests --------------------------------------------------------------------------------------
@needs_gcc
@pytest.mark.parametrize("name", MODELS)
def test_valid_model_touches_only_model_arena_stack_and_statics(name: str) -> None:
    img = _image(name)
    names = {n for _, _, n in img.allowed_statics}
    assert ARENA_SYMBOL not in names  # the arena is allowed anyway; statics are few
    assert len(names) < 20, names


@needs_gcc
@pytest.mark.parametrize("name", [m if m == MODELS[0] else pytest.param(m, marks=pytest.mark.slow) for m in MODELS])
def test_structural_corruptions(name: str) -> None:
    cases = structural_cases(_raw(name), _fields(name))
    statuses = {label: check(name, raw, f"{name}/structural") for label, raw in cases.items()}
    assert statuses["root=0xfffffff0"] != 0
    assert all(statuses[f"truncate@{c}"] != 0 for c in (0, 4, 8, 16)), statuses


def _fuzz(name: str, raw: bytes) -> None:
    check(name, raw, f"{name}/hypothesis")


@needs_gcc
@pytest.mark.parametrize("name", MODELS)
def test_random_mutations(name: str) -> None:
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(raw=mutations(name))
    def run(raw: bytes) -> None:
        _fuzz(name, raw)
    run()


@pytest.mark.slow
@needs_gcc
@pytest.mark.parametrize("name", MODELS)
def test_random_mutations_slow(name: str) -> None:
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(raw=mutations(name))
    def run(raw: bytes) -> None:
        _fuzz(name, raw)
    run()


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> None:
    yield
    if CASES:
        print("\nhostile on-target cases: " + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items()))
              + f"; total {sum(v for k, v in CASES.items() if not k.startswith(' '))}"
              + "; statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(STATUSES.items())))
