"""The data side of the flash interface: loads from flash pay the wait states unless the
board's data cache holds the flash word (docs/boards.md, docs/cost-model.md).

Snippets run on the stm32l4r5zi profile (5 wait states at 120 MHz, 64-bit flash reads, ART data
cache of 8 lines of 32 bytes, LRU), each twice: with and without the data side, so the
difference of the two cycle counts is exactly the data stall the model charged. IT blocks with
loads inside check both that Unicorn executes them correctly (no memory hook is installed) and
that a skipped load is not charged. The stall asserted is the snippet's own (start-up code reads
.data's load image from flash too).
"""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from simhelpers import build_asm, needs_gcc

from mcusim.errors import BoardError
from mcusim.simulator.board import BOARDS_DIR, FlashInterface, _from_dict, get_board
from mcusim.simulator.machine import Machine

WS = 5  # stm32l4r5zi@120mhz

TABLE = "    .section .rodata\n    .balign 32\ntable:\n" + "".join(f"    .word {i + 1}\n" for i in range(128))


def l4r5(dcache: bool = True):
    board = get_board("stm32l4r5zi")
    if not dcache:
        board = dataclasses.replace(board, flash_interface=dataclasses.replace(board.flash_interface, dcache_lines=0))
    return board


def run(tmp_path, board, body, extra=TABLE):
    elf = build_asm(tmp_path, body, board, extra)
    on = Machine(elf, board).run(max_instructions=1_000_000)
    off_machine = Machine(elf, board, data_stalls=False)
    off = off_machine.run(max_instructions=1_000_000)
    assert on.exit_code == off.exit_code
    assert on.cycles - off.cycles == on.data_stall_cycles
    assert on.machine.unresolved_load_executions == 0
    return on, on.functions["snippet"].cycles - off.functions["snippet"].cycles


def stream(words: int, passes: int) -> str:
    return (f"    push {{r4, lr}}\n    movs r0, #0\n    movs r4, #{passes}\n"
            f"2:\n    ldr r1, =table\n    movs r2, #{words}\n"
            "1:\n    ldr r3, [r1], #4\n    add r0, r3\n    subs r2, #1\n    bne 1b\n"
            "    subs r4, #1\n    bne 2b\n    pop {r4, lr}\n")


# --- board configuration ------------------------------------------------------------------

def test_l4r5_flash_interface_is_parsed():
    fi = get_board("stm32l4r5zi").flash_interface
    assert (fi.read_bytes, fi.dcache_lines, fi.dcache_ways, fi.dcache_line_bytes) == (8, 8, 8, 32)
    assert "RM0440" in fi.source and fi.prefetch is False
    b = get_board("stm32l4r5zi")
    assert (b.icache_lines, b.icache_line_bytes, b.icache_ways) == (32, 32, 32)


def test_every_board_names_its_flash_interface():
    for path in sorted(BOARDS_DIR.glob("*.toml")):
        b = get_board(path.stem)
        assert b.flash_interface != FlashInterface(), f"{b.name} has no [flash_interface]"
        assert b.flash_interface.source


@pytest.mark.parametrize("key,value,message", [
    ("read_bytes", 6, "read_bytes must be a power of two"),
    ("dcache_lines", 3, "dcache_lines must be a power of two"),
    ("dcache_line_bytes", 4, "dcache_line_bytes must hold 1 to 32 flash reads"),
    ("dcache_ways", 16, "dcache_ways (16) exceeds dcache_lines (8)"),
])
def test_bad_flash_interface_is_one_clear_error(key, value, message):
    d = tomllib.loads((BOARDS_DIR / "stm32l4r5zi.toml").read_text())
    d["flash_interface"][key] = value
    with pytest.raises(BoardError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _from_dict(d, None, "stm32l4r5zi.toml")


def test_missing_section_means_every_flash_load_pays():
    d = tomllib.loads((BOARDS_DIR / "stm32l4r5zi.toml").read_text())
    del d["flash_interface"]
    fi = _from_dict(d, None, "stm32l4r5zi.toml").flash_interface
    assert fi.dcache_lines == 0 and "every data load from flash pays" in fi.source


# --- streaming from flash -----------------------------------------------------------------

@needs_gcc
def test_stream_without_data_cache_pays_every_load(tmp_path):
    res, stall = run(tmp_path, l4r5(dcache=False), stream(16, 1))
    assert res.exit_code == sum(range(1, 17))
    assert stall == WS * (1 + 16)  # the literal, then each word: one flash read each


@needs_gcc
def test_stream_through_data_cache_pays_each_flash_word_once(tmp_path):
    res, stall = run(tmp_path, l4r5(), stream(16, 1))
    assert res.exit_code == sum(range(1, 17))
    assert stall == WS * (1 + 8)  # 16 words = 8 reads of 64 bits


@needs_gcc
def test_second_pass_over_a_small_table_hits(tmp_path):
    res, stall = run(tmp_path, l4r5(), stream(16, 2))  # 64 bytes: 2 of the 8 lines
    assert res.exit_code == 2 * sum(range(1, 17))
    assert stall == WS * (1 + 8)


@needs_gcc
def test_table_larger_than_the_data_cache_misses_again(tmp_path):
    res, stall = run(tmp_path, l4r5(), stream(128, 2))  # 512 bytes: 16 lines through 8, LRU
    assert res.exit_code == 2 * sum(range(1, 129))
    assert stall == WS * 2 * (1 + 64)  # the literal's line is evicted too


@needs_gcc
def test_loads_from_ram_never_stall(tmp_path):
    body = ("    sub sp, #64\n    mov r1, sp\n    movs r0, #0\n    movs r2, #16\n"
            "1:\n    ldr r3, [r1], #4\n    add r0, r3\n    subs r2, #1\n    bne 1b\n    add sp, #64\n")
    res, stall = run(tmp_path, l4r5(), body)
    assert stall == 0


@needs_gcc
def test_pointer_loaded_in_the_block_is_followed(tmp_path):
    body = ("    ldr r1, =ptr\n    b 1f\n"
            "1:\n    ldr r2, [r1]\n    ldr r3, [r2, #36]\n    movs r2, #0\n    mov r0, r3\n    b 2f\n2:\n")
    extra = TABLE + "    .balign 32\nptr:\n    .word table\n"
    res, stall = run(tmp_path, l4r5(), body, extra)
    assert res.exit_code == 10
    assert stall == WS * 3  # literal, the pointer, table[9]


# --- IT blocks ------------------------------------------------------------------------------

IT_BODY = """    sub sp, #8
    movs r5, #7
    str r5, [sp]
    ldr r1, =table
    movs r0, #0
    movs r2, #1
    cmp r2, #1
    b 2f
2:  ite eq
    ldreq r3, [r1]
    ldrne r3, [sp]
    adds r0, r0, r3
    cmp r2, #2
    ite eq
    ldreq r3, [r1, #32]
    ldrne r3, [sp]
    add r0, r3
    b 3f
3:  cmp r2, #1
    itt eq
    ldreq r3, [r1, #64]
    addeq r0, r3
    b 4f
4:  add sp, #8
"""


@needs_gcc
@pytest.mark.parametrize("dcache", [True, False])
def test_it_blocks_with_flash_and_ram_loads(tmp_path, dcache):
    res, stall = run(tmp_path, l4r5(dcache), IT_BODY)
    # table[0] (flash, taken) + 7 (RAM, else branch) + table[16] (flash, taken); table[8] skipped
    assert res.exit_code == 1 + 7 + 17
    assert stall == WS * 3  # the literal, table[0], table[16]: never the skipped one


@needs_gcc
def test_it_heavy_loop_many_iterations(tmp_path):
    # A loop whose body is mostly IT blocks around flash and RAM loads: exact result and
    # stalls over many executions (the case that breaks with memory hooks installed).
    body = """    push {r4, r5, lr}
    sub sp, #8
    movs r5, #3
    str r5, [sp]
    movs r0, #0
    movs r4, #0
1:  ldr r1, =table
    ands r2, r4, #1
    ite eq
    ldreq r3, [r1, r4, lsl #2]
    ldrne r3, [sp]
    add r0, r3
    b 5f
5:  adds r4, #1
    cmp r4, #64
    bne 1b
    add sp, #8
    pop {r4, r5, lr}
"""
    res, stall = run(tmp_path, l4r5(), body)
    # even i: table[i] = i + 1; odd i: 3
    assert res.exit_code == sum(i + 1 for i in range(0, 64, 2)) + 3 * 32
    # The literal hits after its first read; the even words of 256 bytes: 32 flash words, each
    # read once (the table spans 8 lines: it fits, but each word is first touched once).
    assert stall == WS * (1 + 32)


@needs_gcc
def test_condition_unknown_at_both_ends_is_counted_unresolved(tmp_path):
    body = ("    ldr r1, =table\n    movs r2, #1\n    cmp r2, #1\n    ite eq\n    ldreq r0, [r1]\n"
            "    ldrne r0, [sp]\n    cmp r0, #5\n    b 1f\n1:\n")
    elf = build_asm(tmp_path, body, l4r5(), TABLE)
    m = Machine(elf, l4r5())
    res = m.run(max_instructions=1_000_000)
    assert res.exit_code == 1
    assert m.unresolved_load_executions == 1


# --- instruction side: sequential fetch through the prefetch buffer -------------------------

def icache(ways: int = 32, prefetch: bool = False):
    """The stm32l4r5zi profile with the I-cache associativity and prefetch given."""
    b = get_board("stm32l4r5zi")
    return dataclasses.replace(b, icache_ways=ways,
                               flash_interface=dataclasses.replace(b.flash_interface, prefetch=prefetch))


STREAM_BODY = ("    movs r2, #2\n    b stream_start\n    .balign 32\nstream_start:\n" + "    nop\n" * 64
               + "    subs r2, #1\n    bne stream_start\n")


def block_cycles(tmp_path, board, body, symbol, extra=""):
    """(executions, cycles) of the block at `symbol`."""
    elf = build_asm(tmp_path, body, board, extra)
    m = Machine(elf, board)
    res = m.run(max_instructions=1_000_000)
    start = m.elf.symbol(symbol).addr
    return start, res.insn_counts[start]


@needs_gcc
@pytest.mark.parametrize("prefetch", [True, False])
def test_straight_line_code_missing_the_icache_waits_for_flash_reads(tmp_path, prefetch):
    # 64 NOPs + SUBS + BNE from a 32-byte-aligned address: 132 bytes, 5 I-cache lines, 17 flash
    # reads of 8 bytes. Entered by a taken branch: the first read costs the wait states (5).
    # With prefetch the other 16 stream in at 6 cycles each (96) while the block runs for 66
    # cycles: +30; without, each is read on demand: 16 x 5. The second iteration finds every
    # read in the I-cache: no stall.
    start, (executions, cycles) = block_cycles(tmp_path, icache(prefetch=prefetch), STREAM_BODY, "stream_start")
    assert start % 32 == 0
    assert executions == 2
    assert cycles - executions == WS + ((16 * (WS + 1) - 66) if prefetch else 16 * WS)


# Two calls into one 32-byte I-cache line: `half_a` fills the line's first flash read only; the
# line's third read, where `half_b` starts, is still absent when it is called.
HALVES_BODY = "    push {lr}\n    bl half_a\n    bl half_b\n    bl half_b\n    pop {lr}\n"
HALVES = ("    .text\n    .balign 32\n    .thumb_func\nhalf_a:\n    nop\n    bx lr\n"
          "    .balign 16\n    .thumb_func\nhalf_b:\n    nop\n    bx lr\n")


@needs_gcc
def test_a_miss_fills_only_the_flash_read_it_made(tmp_path):
    # half_b's two executions cost what they cost at 0 wait states plus one miss of its entry
    # read (a whole-line fill on half_a's miss would make it a hit: 0).
    board = icache()
    start, (executions, cycles) = block_cycles(tmp_path, board, HALVES_BODY, "half_b", HALVES)
    assert start % 32 == 16 and executions == 2
    _, (_, cold) = block_cycles(tmp_path, dataclasses.replace(board, op=dataclasses.replace(board.op, flash_wait_states=0)),
                                HALVES_BODY, "half_b", HALVES)
    assert cycles - cold == WS


# `far_a` and `far_b` are 1 KB apart: the same line index of a 32 x 32-byte direct-mapped cache.
FAR_BODY = ("    push {r4, lr}\n    movs r4, #4\n1:\n    bl far_a\n    bl far_b\n"
            "    subs r4, #1\n    bne 1b\n    pop {r4, lr}\n")
FAR = ("    .text\n    .balign 1024\n    .thumb_func\nfar_a:\n    nop\n    bx lr\n"
       "    .balign 1024\n    .thumb_func\nfar_b:\n    nop\n    bx lr\n")


@needs_gcc
@pytest.mark.parametrize("ways,misses", [(32, 1), (1, 4)])
def test_lru_icache_keeps_lines_a_direct_mapped_one_evicts(tmp_path, ways, misses):
    # 32 lines, LRU over all of them (the ART I-cache): far_a misses on its first call only.
    # Direct-mapped, far_a and far_b evict each other: every call misses.
    board = icache(ways=ways)
    start, (executions, cycles) = block_cycles(tmp_path, board, FAR_BODY, "far_a", FAR)
    _, (_, cold) = block_cycles(tmp_path, dataclasses.replace(board, op=dataclasses.replace(board.op, flash_wait_states=0)),
                                FAR_BODY, "far_a", FAR)
    assert executions == 4
    assert cycles - cold == misses * WS


def test_bad_icache_ways_is_one_clear_error():
    d = tomllib.loads((BOARDS_DIR / "stm32l4r5zi.toml").read_text())
    d["memory"]["icache_ways"] = 64
    with pytest.raises(BoardError, match="icache_ways: must be a power of two no larger than icache_lines"):
        _from_dict(d, None, "t.toml")
    d["memory"]["icache_ways"] = 32
    d["flash_interface"]["prefetch"] = "yes"
    with pytest.raises(BoardError, match="prefetch must be true or false"):
        _from_dict(d, None, "t.toml")


@needs_gcc
def test_sim_json_reports_flash_stalls(tmp_path):
    import json

    from mcusim.cli import main

    elf = build_asm(tmp_path, stream(16, 1), l4r5(), TABLE)
    out = tmp_path / "sim.json"
    assert main(["sim", str(elf), "--board", "stm32l4r5zi", "--json", str(out)]) == 0
    stalls = json.loads(out.read_text())["flash_stalls"]
    assert stalls["data"] >= WS * (1 + 8) and stalls["fetch"] > 0
    assert stalls["unresolved_load_executions"] == 0


@needs_gcc
def test_register_file_fallback_gives_the_same_cycles(tmp_path, monkeypatch):
    from mcusim.simulator import native
    elf = build_asm(tmp_path, IT_BODY, l4r5(), TABLE)
    direct = Machine(elf, l4r5())
    fast = direct.run(max_instructions=1_000_000)
    assert direct.register_file_found  # Unicorn 2.1.4 on Linux: found and checked
    monkeypatch.setattr(native, "register_file", lambda uc: None)
    api = Machine(elf, l4r5())
    slow = api.run(max_instructions=1_000_000)
    assert not api.register_file_found
    assert (slow.cycles, slow.data_stall_cycles, slow.exit_code) == (fast.cycles, fast.data_stall_cycles, fast.exit_code)
