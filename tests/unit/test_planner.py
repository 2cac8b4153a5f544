"""The static memory planner (mcusim/stacks/planner.py): no two simultaneously live buffers share a
byte, and the plan is never worse than the naive sum nor than TFLM's greedy-by-size. Unit
tests: no toolchain."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim.errors import McusimError
from mcusim.stacks.planner import (
    Buffer,
    align_up,
    find_conflicts,
    greedy_by_size,
    lifetimes_overlap,
    lower_bound,
    plan_memory,
)


@st.composite
def buffer_sets(draw: st.DrawFn) -> list[Buffer]:
    steps = draw(st.integers(1, 30))
    count = draw(st.integers(0, 25))
    out = []
    for i in range(count):
        first = draw(st.integers(0, steps - 1))
        last = draw(st.integers(first, steps - 1))
        size = draw(st.one_of(st.integers(0, 64), st.integers(1, 5000)))
        out.append(Buffer(f"b{i}", size, first, last))
    return out


@settings(max_examples=300, deadline=None)
@given(buffer_sets(), st.sampled_from([1, 4, 16]))
def test_live_buffers_never_overlap_and_plan_beats_naive(buffers: list[Buffer], alignment: int) -> None:
    plan = plan_memory(buffers, alignment)
    assert find_conflicts(buffers, plan) == []
    # Independent re-check of the same property, byte ranges against lifetimes.
    for i, a in enumerate(buffers):
        oa = plan.offsets[a.name]
        assert oa % alignment == 0
        assert oa + a.size <= plan.size
        for b in buffers[i + 1:]:
            ob = plan.offsets[b.name]
            if a.size and b.size and lifetimes_overlap(a, b):
                assert oa + a.size <= ob or ob + b.size <= oa, (a, b, oa, ob)
    assert lower_bound(buffers, alignment) <= plan.size <= plan.naive
    assert plan.naive == sum(align_up(b.size, alignment) for b in buffers)
    assert plan.size <= greedy_by_size(buffers, alignment)


def test_disjoint_lifetimes_share_one_slot() -> None:
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 100, 2, 3), Buffer("c", 60, 4, 4)]
    plan = plan_memory(bufs)
    assert plan.size == 100
    assert plan.naive == 260
    assert set(plan.offsets.values()) == {0}


def test_chain_of_layers_needs_two_live_buffers() -> None:
    # A layer chain: buffer i is written by op i and read by op i + 1.
    sizes = [400, 1200, 300, 800, 100]
    bufs = [Buffer(f"t{i}", s, i, i + 1) for i, s in enumerate(sizes)]
    plan = plan_memory(bufs)
    assert plan.size == lower_bound(bufs) == max(a + b for a, b in zip(sizes, sizes[1:]))


def test_another_order_beats_greedy_by_size() -> None:
    # Greedy by size puts the 64-byte buffer at 0 and the long-lived 48 above it, so the two
    # step-3 buffers stack on top (160 bytes); placing the long-lived buffer first reaches the
    # lower bound of 144.
    bufs = [Buffer("long", 48, 0, 3), Buffer("mid", 64, 2, 2), Buffer("a", 48, 3, 3),
            Buffer("b", 48, 3, 3)]
    plan = plan_memory(bufs)
    assert find_conflicts(bufs, plan) == []
    assert greedy_by_size(bufs) == 160
    assert plan.size == lower_bound(bufs) == 144


def test_exact_plan_where_every_greedy_order_fails() -> None:
    # Steps 3 (three 8-byte buffers) and 5 (24 bytes) need 24 bytes; every greedy order and
    # fit rule of the planner ends at 28 (the 12-byte step-4 buffer lands above the
    # long-lived 8s); the branch and bound places the long-lived ones at 8 and 16 and the
    # 12 and the step-3 8 at 0.
    bufs = [Buffer("b0", 8, 3, 3), Buffer("b1", 24, 5, 5), Buffer("b2", 8, 1, 4), Buffer("b3", 8, 0, 3),
            Buffer("b4", 12, 4, 4)]
    plan = plan_memory(bufs)
    assert greedy_by_size(bufs) == 28
    assert plan.size == lower_bound(bufs) == 24
    assert plan.strategy == "exact (branch and bound)"
    assert find_conflicts(bufs, plan) == []


def _brute_force_optimum(bufs: list[Buffer], alignment: int = 4) -> int:
    """The smallest extent over every assignment of aligned offsets (independent of the
    planner's first-fit reasoning)."""
    import itertools
    need = [align_up(b.size, alignment) for b in bufs]
    slots = range(0, sum(need) + 1, alignment)
    best = sum(need)
    for offs in itertools.product(slots, repeat=len(bufs)):
        top = max(o + n for o, n in zip(offs, need))
        if top >= best:
            continue
        if all(not lifetimes_overlap(a, b) or oa + na <= ob or ob + nb <= oa
               for (a, oa, na), (b, ob, nb) in itertools.combinations(zip(bufs, offs, need), 2)):
            best = top
    return best


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([4, 8, 12]), st.integers(0, 3), st.integers(0, 2)),
                min_size=1, max_size=4))
def test_small_plans_are_optimal(rows: list[tuple[int, int, int]]) -> None:
    bufs = [Buffer(f"b{i}", size, first, first + length) for i, (size, first, length) in enumerate(rows)]
    assert plan_memory(bufs).size == _brute_force_optimum(bufs)


def test_zero_size_and_empty() -> None:
    assert plan_memory([]).size == 0
    plan = plan_memory([Buffer("z", 0, 0, 5), Buffer("a", 3, 0, 5)], alignment=4)
    assert plan.size == 4 and plan.naive == 4


@pytest.mark.parametrize("bad", [
    [Buffer("a", 1, 2, 1)],
    [Buffer("a", -1, 0, 0)],
    [Buffer("a", 1, 0, 0), Buffer("a", 2, 1, 1)],
])
def test_bad_buffers_are_rejected(bad: list[Buffer]) -> None:
    with pytest.raises(McusimError):
        plan_memory(bad)


def test_alignment_must_be_a_power_of_two() -> None:
    with pytest.raises(McusimError):
        plan_memory([Buffer("a", 1, 0, 0)], alignment=3)


# --- in-place execution ----------------------------------------------------------------------
def test_in_place_chain_beats_the_out_of_place_bound() -> None:
    """The resnet shape: x (residual) live across conv y -> conv z -> ADD a; z may overlap its
    dying input y at a lag, a may take z's bytes. Three maps live out of place; two + lag in
    place, and the plan says which rows it used."""
    from mcusim.stacks.planner import InPlace

    k = 16384
    bufs = [Buffer("x", k, 0, 3), Buffer("y", k, 1, 2), Buffer("z", k, 2, 3), Buffer("a", k, 3, 5),
            Buffer("s", 576, 2, 2)]
    rows = [InPlace("z", "y", 528), InPlace("a", "z", 0)]
    assert plan_memory(bufs).size == 3 * k + 576
    plan = plan_memory(bufs, 4, rows)
    assert plan.size == 2 * k + 528 + 576
    assert plan.in_place == tuple(rows)
    assert plan.offsets["y"] - plan.offsets["z"] >= 528
    assert find_conflicts(bufs, plan) == []
    # the same overlap with a shorter lag is a conflict
    from dataclasses import replace

    bad = replace(plan, offsets={**plan.offsets, "z": plan.offsets["y"] - 524})
    assert ("y", "z") in find_conflicts(bufs, bad) or ("z", "y") in find_conflicts(bufs, bad)


def test_in_place_rows_must_name_a_dying_input() -> None:
    from mcusim.stacks.planner import InPlace

    bufs = [Buffer("x", 64, 0, 3), Buffer("y", 64, 1, 2)]
    with pytest.raises(McusimError):
        plan_memory(bufs, 4, [InPlace("y", "x", 0)])  # x is still read after step 1


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 2), st.integers(0, 2), st.integers(0, 2))
def test_conv_in_place_lag_is_safe(h: int, w: int, c: int, oc: int, kh: int, kw: int, s: int,
                                   ph: int, pw: int) -> None:
    """A row-major convolution (the order of mcu_conv_s8, opt and ref) run in one flat memory
    with its output conv_in_place_lag bytes below its input computes what it computes out of
    place: no output byte lands on an input byte still to be read."""
    import numpy as np

    from mcusim.stacks.classic.generator import conv_in_place_lag

    ph, pw = min(ph, kh - 1), min(pw, kw - 1)
    oh, ow = (h + 2 * ph - kh) // s + 1, (w + 2 * pw - kw) // s + 1
    if oh < 1 or ow < 1:
        return
    rng = np.random.default_rng(h * 1000 + w * 100 + c * 10 + oc)
    x = rng.integers(-128, 128, (h, w, c))
    wt = rng.integers(-3, 4, (oc, kh, kw, c))
    lag = conv_in_place_lag((h, w, c), (oh, ow, oc), (s, s), (ph, pw))

    def run(mem: np.ndarray, src: int, dst: int) -> np.ndarray:
        for oy in range(oh):
            for ox in range(ow):
                for o in range(oc):  # the reference kernel: per channel, reading the window each time
                    acc = 0
                    for ky in range(kh):
                        for kx in range(kw):
                            y, xx = oy * s - ph + ky, ox * s - pw + kx
                            if 0 <= y < h and 0 <= xx < w:
                                base = src + (y * w + xx) * c
                                acc += int(np.dot(mem[base:base + c], wt[o, ky, kx]))
                    mem[dst + (oy * ow + ox) * oc + o] = acc
        return mem[dst:dst + oh * ow * oc].copy()

    apart = np.zeros(h * w * c + oh * ow * oc, dtype=np.int64)
    apart[:h * w * c] = x.reshape(-1)
    expect = run(apart, 0, h * w * c)
    shared = np.zeros(lag + max(h * w * c, oh * ow * oc), dtype=np.int64)
    shared[lag:lag + h * w * c] = x.reshape(-1)
    assert (run(shared, lag, 0) == expect).all()
