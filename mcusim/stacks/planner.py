"""Offline static memory planning: byte offsets for buffers whose lifetimes are known.

A deployment knows, before the program ever runs, which operator first writes each buffer and
which operator last reads it. Two buffers whose lifetimes do not intersect may share bytes, so
the whole set fits in one region far smaller than the sum of the buffers. This module chooses
the offsets; it knows nothing about models (the classic code generator and the tinyml arena
both describe their tensors and kernel scratch as :class:`Buffer` rows).

Lifetimes are inclusive step ranges ``[first, last]`` (steps are usually operator indices): a
buffer written by op 3 and last read by op 7 is live during steps 3..7, and so conflicts with
a buffer written at step 7, since op 7 reads one while it writes the other.

The planner is greedy with several orderings and two placement rules, keeping the smallest
result:

* orderings: by size (TFLM's ``GreedyMemoryPlanner`` order), by size x lifetime, by lifetime
  length, by first use;
* placement: *first fit* (lowest aligned offset that does not collide with any already placed
  buffer whose lifetime intersects) and *best fit* (the smallest gap between such buffers that
  holds the new one, else on top of them).

"greedy by size, first fit" is one of the candidates, so the plan is never larger than
TFLM's; it is never larger than the naive sum either (each buffer alone in its own slot is
what first fit degenerates to when everything conflicts). ``lower_bound`` -- the most bytes
live at any one step -- shows how far from optimal a plan could be. When no greedy plan reaches
it and the graph has at most ``EXACT_MAX_BUFFERS`` buffers, a branch and bound over placement
orders (first fit) finds the optimum (strategy ``exact (branch and bound)``).

In-place execution: an :class:`InPlace` row says that the op writing buffer ``out`` may write
it over ``into``, the input it is the last reader of, provided ``out`` starts at least ``lag``
bytes below ``into`` (the kernel reads every byte of ``into`` it still needs before it writes
over it; lag 0 = the same bytes, as an elementwise op in order). The planner then places such
chains as one block (each member at its offset inside it, live for the chain's whole lifetime),
plans once with and once without the blocks, and keeps the smaller plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ..errors import McusimError


@dataclass(frozen=True)
class Buffer:
    """One buffer to place: ``size`` bytes live from step ``first`` to step ``last`` inclusive."""

    name: str
    size: int
    first: int
    last: int


@dataclass(frozen=True)
class InPlace:
    """``out`` may share bytes with ``into`` when it starts at least ``lag`` bytes below it
    (``into`` is last read at the step that first writes ``out``)."""

    out: str
    into: str
    lag: int


@dataclass(frozen=True)
class Plan:
    """Where each buffer lives inside one region of ``size`` bytes."""

    offsets: dict[str, int]
    """Buffer name -> byte offset from the start of the region (a multiple of ``alignment``)."""
    size: int
    """Bytes of the region: the planned total."""
    naive: int
    """Bytes if every buffer had its own slot (each size rounded up to ``alignment``)."""
    lower_bound: int
    """The most (aligned) bytes simultaneously live at any step: no plan can be smaller."""
    strategy: str
    """The ordering and placement rule that produced this plan, e.g. ``size/best-fit``."""
    alignment: int
    in_place: tuple[InPlace, ...] = ()
    """The in-place rows the plan uses (buffers that overlap by design)."""


def align_up(n: int, alignment: int) -> int:
    """``n`` rounded up to a multiple of ``alignment``."""
    return (n + alignment - 1) // alignment * alignment


def lifetimes_overlap(a: Buffer, b: Buffer) -> bool:
    """True when the two buffers are live at a common step."""
    return a.first <= b.last and b.first <= a.last


def _check(buffers: Sequence[Buffer], alignment: int) -> None:
    if alignment <= 0 or alignment & (alignment - 1):
        raise McusimError(f"memory plan alignment must be a power of two, not {alignment}")
    names: set[str] = set()
    for b in buffers:
        if b.name in names:
            raise McusimError(f"memory plan: buffer {b.name!r} listed twice")
        names.add(b.name)
        if b.size < 0 or b.first > b.last:
            raise McusimError(f"memory plan: buffer {b.name!r} has size {b.size} and lifetime "
                              f"[{b.first}, {b.last}]")


_Order = Callable[[Buffer], tuple[int, ...]]
_ORDERS: tuple[tuple[str, _Order], ...] = (
    ("size", lambda b: (-b.size, b.first, -(b.last - b.first))),
    ("area", lambda b: (-b.size * (b.last - b.first + 1), -b.size, b.first)),
    ("lifetime", lambda b: (-(b.last - b.first), -b.size, b.first)),
    ("first-use", lambda b: (b.first, -b.size, b.last)),
)


def _place(order: list[Buffer], alignment: int, best_fit: bool) -> dict[str, int]:
    placed: list[tuple[Buffer, int, int]] = []  # (buffer, offset, aligned size)
    offsets: dict[str, int] = {}
    for buf in order:
        need = align_up(buf.size, alignment)
        if need == 0:
            offsets[buf.name] = 0
            continue
        busy = sorted((off, off + size) for other, off, size in placed if lifetimes_overlap(buf, other))
        chosen: int | None = None
        best_gap: int | None = None
        cursor = 0
        for start, end in busy:
            gap = start - cursor
            if gap >= need:
                if not best_fit:
                    chosen = cursor
                    break
                if best_gap is None or gap < best_gap:
                    chosen, best_gap = cursor, gap
            cursor = max(cursor, end)
        if chosen is None:
            chosen = cursor
        offsets[buf.name] = chosen
        placed.append((buf, chosen, need))
    return offsets


def _extent(buffers: Sequence[Buffer], offsets: dict[str, int], alignment: int) -> int:
    return max((offsets[b.name] + align_up(b.size, alignment) for b in buffers if b.size), default=0)


def lower_bound(buffers: Sequence[Buffer], alignment: int = 4) -> int:
    """The most aligned bytes live at one step (the size of the busiest step)."""
    steps = sorted({b.first for b in buffers} | {b.last for b in buffers})
    return max((sum(align_up(b.size, alignment) for b in buffers if b.first <= s <= b.last)
                for s in steps), default=0)


def plan_memory(buffers: Iterable[Buffer], alignment: int = 4, in_place: Iterable[InPlace] = ()) -> Plan:
    """Offsets for ``buffers`` such that no two buffers live at the same step share a byte
    (except the pairs of ``in_place`` the plan uses, at their lag).

    Tries every ordering with first fit and best fit and returns the smallest plan (ties go to
    the earlier candidate, so the result is deterministic); with ``in_place`` rows, also the
    plan of their chains as blocks, keeping the smaller. Raises McusimError on duplicate names,
    negative sizes, inverted lifetimes, an alignment that is not a power of two or an in-place
    row whose ``into`` is not last read where ``out`` is first written.
    """
    bufs = list(buffers)
    _check(bufs, alignment)
    plain = _plan_plain(bufs, alignment)
    rows = _check_in_place(bufs, list(in_place))
    if not rows:
        return plain
    blocks, members, used = _chains(bufs, rows, alignment)
    merged = _plan_plain(blocks, alignment)
    if merged.size >= plain.size:
        return plain
    offsets = {name: merged.offsets[block] + rel for name, (block, rel) in members.items()}
    plan = Plan(offsets, merged.size, plain.naive, merged.lower_bound,
                merged.strategy + " + in place", alignment, tuple(used))
    conflicts = find_conflicts(bufs, plan)
    if conflicts:
        raise AssertionError(f"memory planner produced overlapping buffers: {conflicts[:3]}")
    return plan


def _check_in_place(bufs: Sequence[Buffer], rows: list[InPlace]) -> list[InPlace]:
    by_name = {b.name: b for b in bufs}
    for r in rows:
        out, into = by_name.get(r.out), by_name.get(r.into)
        if out is None or into is None or r.lag < 0 or into.last != out.first or r.out == r.into:
            raise McusimError(f"memory plan: in-place row {r} does not name a buffer last read "
                              "where the other is first written")
    return rows


def _chains(bufs: Sequence[Buffer], rows: list[InPlace], alignment: int
            ) -> tuple[list[Buffer], dict[str, tuple[str, int]], list[InPlace]]:
    """Blocks for the in-place chains: each block one buffer of the chain's extent and lifetime;
    ``members`` maps every buffer to (its block, its offset inside it)."""
    by_name = {b.name: b for b in bufs}
    group: dict[str, str] = {b.name: b.name for b in bufs}  # buffer -> its chain's first buffer
    rel: dict[str, int] = {b.name: 0 for b in bufs}
    chain: dict[str, list[str]] = {b.name: [b.name] for b in bufs}
    taken: set[str] = set()  # buffers already written over by an output
    used: list[InPlace] = []
    for r in sorted(rows, key=lambda r: (by_name[r.out].first, r.out, r.into)):
        g_out, g_in = group[r.out], group[r.into]
        if g_out == g_in or r.into in taken or len(chain[g_out]) > 1:
            continue  # one output per dying input, and an output joins one chain
        at = rel[r.into] - align_up(r.lag, alignment)
        out = by_name[r.out]
        if any(n != r.into and lifetimes_overlap(out, by_name[n]) and by_name[n].size
               and at < rel[n] + by_name[n].size and rel[n] < at + out.size for n in chain[g_in]):
            continue  # it would write over another live member of the chain
        taken.add(r.into)
        used.append(r)
        rel[r.out] = at
        if at < 0:  # the output starts below the block: shift the chain up
            for name in chain[g_in]:
                rel[name] -= at
            rel[r.out] = 0
        group[r.out] = g_in
        chain[g_in].append(r.out)
        del chain[g_out]
    blocks: list[Buffer] = []
    members: dict[str, tuple[str, int]] = {}
    for head, names in chain.items():
        parts = [by_name[n] for n in names]
        size = max((rel[b.name] + b.size for b in parts if b.size), default=0)
        blocks.append(Buffer(head, size, min(b.first for b in parts), max(b.last for b in parts)))
        members.update({n: (head, rel[n]) for n in names})
    return blocks, members, used


def _plan_plain(bufs: list[Buffer], alignment: int) -> Plan:
    naive = sum(align_up(b.size, alignment) for b in bufs)
    best: tuple[int, str, dict[str, int]] | None = None
    for order_name, key in _ORDERS:
        order = sorted(bufs, key=lambda b: (*key(b), b.name))
        for best_fit in (False, True):
            offsets = _place(order, alignment, best_fit)
            size = _extent(bufs, offsets, alignment)
            if best is None or size < best[0]:
                best = (size, f"{order_name}/{'best' if best_fit else 'first'}-fit", offsets)
    assert best is not None or not bufs
    live = [b for b in bufs if b.size]
    bound = lower_bound(bufs, alignment)
    if best is not None and best[0] > bound and len(live) <= EXACT_MAX_BUFFERS:
        exact = _exact(live, alignment, best[0], bound)
        if exact is not None:
            best = (_extent(bufs, {**best[2], **exact}, alignment), "exact (branch and bound)", {**best[2], **exact})
    size, strategy, offsets = best if best is not None else (0, "empty", {})
    plan = Plan(offsets, size, naive, lower_bound(bufs, alignment), strategy, alignment)
    conflicts = find_conflicts(bufs, plan)
    if conflicts:  # a planner bug, never a user error
        raise AssertionError(f"memory planner produced overlapping buffers: {conflicts[:3]}")
    return plan


EXACT_MAX_BUFFERS = 8
"""Graphs with at most this many non-empty buffers get an exact plan when no greedy one
reaches the lower bound (at most 8! first-fit placements, pruned)."""


def _exact(bufs: list[Buffer], alignment: int, incumbent: int, bound: int) -> dict[str, int] | None:
    """The smallest plan, by branch and bound over placement orders with first fit, or None
    when none beats ``incumbent``. Exact: sorting an optimal plan's buffers by offset and
    placing them in that order by first fit puts each at or below its optimal offset (the
    buffers below it only moved down), so some order's first-fit plan is optimal."""
    need = [align_up(b.size, alignment) for b in bufs]
    n = len(bufs)
    best: list = [incumbent, None]
    offsets = [0] * n
    used = [False] * n

    def first_fit(k: int) -> int:
        b = bufs[k]
        busy = sorted((offsets[j], offsets[j] + need[j]) for j in range(n)
                      if used[j] and lifetimes_overlap(b, bufs[j]))
        cursor = 0
        for start, end in busy:
            if start - cursor >= need[k]:
                break
            cursor = max(cursor, end)
        return cursor

    def search(depth: int, high: int) -> None:
        if best[0] == bound:
            return
        if depth == n:
            best[0], best[1] = high, list(offsets)
            return
        for k in range(n):
            if used[k]:
                continue
            at = first_fit(k)
            top = max(high, at + need[k])
            if top >= best[0]:
                continue
            used[k], offsets[k] = True, at
            search(depth + 1, top)
            used[k] = False

    search(0, 0)
    return None if best[1] is None else {b.name: off for b, off in zip(bufs, best[1])}


def greedy_by_size(buffers: Iterable[Buffer], alignment: int = 4) -> int:
    """Bytes TFLM's greedy planner would need (largest first, first fit): the baseline."""
    bufs = list(buffers)
    _check(bufs, alignment)
    order = sorted(bufs, key=lambda b: (*_ORDERS[0][1](b), b.name))
    return _extent(bufs, _place(order, alignment, best_fit=False), alignment)


def find_conflicts(buffers: Sequence[Buffer], plan: Plan) -> list[tuple[str, str]]:
    """Pairs of buffers that are live at a common step and share bytes in ``plan`` (should be
    none, except an in-place pair of ``plan.in_place`` whose output starts at least its lag
    below its input), plus any buffer that is misaligned or reaches past ``plan.size`` (paired
    with itself)."""
    bad: list[tuple[str, str]] = []
    allowed = {frozenset((r.out, r.into)): r for r in plan.in_place}
    spans = []
    for b in buffers:
        off = plan.offsets[b.name]
        if b.size and (off % plan.alignment or off + b.size > plan.size or off < 0):
            bad.append((b.name, b.name))
        spans.append((b, off, off + b.size))
    for i, (a, a0, a1) in enumerate(spans):
        for b, b0, b1 in spans[i + 1:]:
            if a.size and b.size and lifetimes_overlap(a, b) and a0 < b1 and b0 < a1:
                r = allowed.get(frozenset((a.name, b.name)))
                if r is None or plan.offsets[r.into] - plan.offsets[r.out] < r.lag:
                    bad.append((a.name, b.name))
    return bad


def describe(buffers: Sequence[Buffer], plan: Plan) -> str:
    """An ASCII picture of the plan: one row per buffer, offset range and lifetime, for the
    comment at the top of generated code."""
    lines = [f"{plan.size} bytes planned ({plan.strategy}), naive sum {plan.naive}, "
             f"lower bound {plan.lower_bound}"]
    for b in sorted(buffers, key=lambda b: (plan.offsets[b.name], b.first)):
        off = plan.offsets[b.name]
        lines.append(f"[{off:>7} .. {off + b.size:>7})  steps {b.first:>3}..{b.last:<3}  {b.name}")
    return "\n".join(lines)
