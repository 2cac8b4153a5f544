"""A model that does not fit its part is an answer too: how much it needs against what the part has.

When an image is larger than the part (the linker overflows a region, or the tensor arena does
not fit the arena region), :func:`measure` builds and runs the same firmware against an enlarged
memory map: the same regions in the same order with the same placement, the ones that
overflowed grown (regions above a grown one move up so that none overlap, adjacent ones stay
adjacent). Only sizes and addresses change: the core, the operating point, the wait states and
the caches are the part's, so cycles, latency and energy are those the part would show if it
had the memory. :func:`part_fit` then compares what the run needed with what the part has:
flash from the ELF, peak RAM as measured (static + stack + heap), and, on parts with several RAM
regions, each region's share (its sections from the section headers, plus the measured stack and
heap in the stack's region). Every breach is named with bytes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, TypeVar

from ..errors import DoesNotFit
from ..simulator.board import Board

MAX_GROWTHS = 8
"""Enlarged links tried before giving up (each grows what the last failure named)."""
ADDRESS_LIMIT = 0x40000000
"""The end of the Cortex-M SRAM region of the architectural memory map (ARMv7-M ARM B3.1,
ARMv6-M ARM B3.1: peripherals from 0x40000000): no region is moved or grown past it."""
PAGE = 4096

T = TypeVar("T")


def _pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


def enlarged(board: Board, sizes: dict[str, int]) -> Board:
    """``board`` with the regions named in ``sizes`` (name -> at least this many bytes; ``flash``
    is the code flash, grown at its last bank) grown. Regions keep their order; one that would
    overlap a grown one moves up (an adjacent one stays adjacent, aliases move with it). Raises
    DoesNotFit when the enlarged map would pass :data:`ADDRESS_LIMIT`."""
    by_name = {r.name: r for r in board.regions}
    new_size = {r.name: r.size for r in board.regions}
    for name, size in sizes.items():
        if name == "flash":
            last = board.flash_regions[-1]
            name, size = last.name, size - (board.flash_size - last.size)
        new_size[name] = max(new_size[name], -(-size // PAGE) * PAGE)
    spans = sorted((addr, r.name, i) for r in board.regions for i, addr in enumerate((r.origin, *r.aliases)))
    where: dict[tuple[str, int], int] = {}
    old_end = new_end = 0
    for addr, name, i in spans:
        start = new_end if where and addr == old_end else max(addr, -(-new_end // PAGE) * PAGE)
        where[(name, i)] = start
        old_end, new_end = addr + by_name[name].size, start + new_size[name]
        if addr < ADDRESS_LIMIT < new_end:
            raise DoesNotFit(f"{board.name}: an enlarged memory map to measure the model would pass "
                             f"0x{ADDRESS_LIMIT:08x} (region {name} of {new_size[name]:,} bytes)")
    regions = tuple(replace(r, origin=where[(r.name, 0)], size=new_size[r.name],
                            aliases=tuple(where[(r.name, i + 1)] for i in range(len(r.aliases))))
                    for r in board.regions)
    return replace(board, regions=regions)


def _size(board: Board, name: str) -> int:
    return board.flash_size if name == "flash" else next(r.size for r in board.regions if r.name == name)


def growth(measured: Board, err: DoesNotFit) -> dict[str, int]:
    """Sizes to try after ``err`` on ``measured``: each region the failure names grown to a power
    of two holding what it lacked (RAM regions twice that, leaving the stack room), a region whose
    shortfall is unknown doubled; every region doubled when the failure names none."""
    over = err.over or {"flash": None, **{r.name: None for r in measured.ram_regions}}
    ram = {r.name for r in measured.ram_regions}
    out = {}
    for name, lacking in over.items():
        if name != "flash" and name not in ram:
            continue
        cur = _size(measured, name)
        if lacking is None:
            out[name] = 2 * cur
        else:
            out[name] = _pow2(cur + lacking) * (1 if name == "flash" else 2)
    return out


def measure(run: Callable[[Board], T], board: Board) -> tuple[T, Board]:
    """``run(board)``; when the image does not fit, ``run`` on :func:`enlarged` maps, grown from
    what each failure names, until it runs. Returns the result and the board it ran on (``board``
    itself when it fits). Raises the part's own DoesNotFit when no enlarged map holds the image."""
    try:
        return run(board), board
    except DoesNotFit as first:
        sizes: dict[str, int] = {}
        measured, err = board, first
        for _ in range(MAX_GROWTHS):
            for name, size in growth(measured, err).items():
                sizes[name] = max(sizes.get(name, 0), size)
            try:
                measured = enlarged(board, sizes)
            except DoesNotFit:
                raise first from None
            try:
                return run(measured), measured
            except DoesNotFit as e:
                err = e
        raise first from None


def region_use(report: dict[str, Any], ram_sections: list[tuple[int, int]], measured: Board) -> dict[str, int]:
    """RAM bytes per region name of ``measured``: the sections ((address, size) of each section
    occupying RAM) by address, plus the measured stack and heap in the stack's region."""
    use: dict[str, int] = {r.name: 0 for r in measured.ram_regions}
    for addr, size in ram_sections:
        r = measured.region_at(addr)
        if r is not None and r.is_ram:
            use[r.name] += size
    stack_region = report.get("placement", {}).get("stack")
    rb = report["ram_breakdown"]
    if stack_region in use:
        use[stack_region] += rb.get("stack", 0) + rb.get("heap", 0)
    return {k: v for k, v in use.items() if v}


def _breach(what: str, needed: int, available: int) -> dict[str, Any]:
    over = needed - available
    return {"what": what, "needed_bytes": needed, "available_bytes": available, "over_bytes": over,
            "use": needed / available,
            "message": f"{what}: {needed:,} B needed, the part has {available:,} B "
                       f"({needed / available:.0%}): {over:,} B over"}


def part_fit(report: dict[str, Any], ram_sections: list[tuple[int, int]], board: Board,
             measured: Board) -> dict[str, Any]:
    """The ``fit`` object of a run report: flash and peak RAM needed against the part's, each
    RAM region's need against its size (parts with several regions), every breach, and the
    enlarged map the run was measured on when the part was too small (``measured_on``)."""
    flash, ram = int(report["flash_bytes"]), int(report["ram_peak_bytes"])
    breaches = []
    if flash > board.flash_size:
        breaches.append(_breach("flash", flash, board.flash_size))
    if ram > board.ram_size:
        breaches.append(_breach("RAM", ram, board.ram_size))
    regions = {}
    if len(board.ram_regions) > 1:
        sizes = {r.name: r.size for r in board.ram_regions}
        for name, used in region_use(report, ram_sections, measured).items():
            regions[name] = {"needed_bytes": used, "available_bytes": sizes[name]}
            if used > sizes[name]:
                breaches.append(_breach(f"RAM region {name}", used, sizes[name]))
    out: dict[str, Any] = {
        "fits": not breaches,
        "flash": {"needed_bytes": flash, "available_bytes": board.flash_size, "use": flash / board.flash_size},
        "ram": {"needed_bytes": ram, "available_bytes": board.ram_size, "use": ram / board.ram_size},
        "regions": regions,
        "breaches": breaches,
    }
    if measured is not board:
        out["measured_on"] = {r.name: {"origin": r.origin, "size": r.size} for r in measured.regions
                              if r != next(o for o in board.regions if o.name == r.name)}
    return out


def summary(report: dict[str, Any]) -> list[str]:
    """Lines saying a run's image does not fit its part (empty when it fits)."""
    fit = report.get("fit")
    if not fit or fit["fits"]:
        return []
    how = ", measured on an enlarged memory map" if "measured_on" in fit else ""
    head = (f"DOES NOT FIT {report['board']} (flash {fit['flash']['use']:.0%}, RAM {fit['ram']['use']:.0%} "
            f"of the part{how})")
    return [head, *(f"  {b['message']}" for b in fit["breaches"])]
