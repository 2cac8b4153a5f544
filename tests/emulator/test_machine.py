"""Emulator tests: tiny Thumb snippets with asserted registers and exact cycle counts.

Each snippet runs as a function called from main; its cycles are what the run attributes to
the function `snippet`: its instructions plus the `bx lr` that returns (1 + P = 3 on the M4).
Costs are those of docs/cost-model.md (Arm DDI 0439D Table 3-1/3-2, §3.3.2).
"""

from __future__ import annotations

import pytest
from simhelpers import build_asm, needs_gcc, zero_wait

from mcusim.errors import BudgetExceeded, FirmwareFault
from mcusim.simulator.board import get_board
from mcusim.simulator.costmodel import get_core
from mcusim.simulator.machine import Machine

pytestmark = needs_gcc
RET = 3  # bx lr: 1 + P (P = 2)


def run_snippet(tmp_path, board, body, extra=""):
    m = Machine(build_asm(tmp_path, body, board, extra), board)
    res = m.run(max_instructions=1_000_000)
    return res, res.functions["snippet"].cycles


def test_eight_smlads_cost_eight_cycles_and_compute(tmp_path, m4):
    body = "    movs r0, #0\n    movw r1, #0x0003\n    movt r1, #0x0002\n" + "    smlad r0, r1, r1, r0\n" * 8
    res, cycles = run_snippet(tmp_path, m4, body)
    assert res.exit_code == 8 * (3 * 3 + 2 * 2)
    assert cycles == 3 + 8 + RET
    assert res.instruction_mix["dsp_mac"].count == 8


def test_two_independent_loads_pipeline(tmp_path, m4):
    body = "    mov r2, sp\n    nop\n    ldr r0, [r2]\n    ldr r1, [r2, #4]\n"
    _, cycles = run_snippet(tmp_path, m4, body)
    assert cycles == 1 + 1 + 2 + 1 + RET  # LDR;LDR = 3 cycles (§3.3.2)


def test_address_from_previous_alu_result_stalls(tmp_path, m4):
    body = "    mov r2, sp\n    ldr r0, [r2]\n"
    _, cycles = run_snippet(tmp_path, m4, body)
    assert cycles == 1 + (2 + 1) + RET


def test_dependent_load_does_not_pipeline(tmp_path, m4):
    body = "    sub sp, #8\n    mov r2, sp\n    str r2, [sp]\n    ldr r1, [r2]\n    ldr r0, [r1]\n    add sp, #8\n"
    res, cycles = run_snippet(tmp_path, m4, body)
    # sub 1, mov 1, str imm 1, ldr 2 (after a store: no pipelining), ldr 2 (its address is
    # the previous load's result), add 1
    assert cycles == 1 + 1 + 1 + 2 + 2 + 1 + RET


@pytest.mark.parametrize("value,taken", [(0, True), (1, False)])
def test_taken_and_untaken_branch(tmp_path, m4, value, taken):
    body = f"    movs r0, #{value}\n    cmp r0, #0\n    beq 1f\n    nop\n1:\n"
    _, cycles = run_snippet(tmp_path, m4, body)
    expected = 1 + 1 + (1 + 2 if taken else 1 + 1)  # taken: B<cc> 1+P; untaken: 1, then nop
    assert cycles == expected + RET


@pytest.mark.parametrize("n,d", [(100, 3), (7, 9), (-2**31 + 1, 1), (1000, 0)])
def test_sdiv_latency_follows_operands(tmp_path, m4, n, d):
    body = (f"    movw r1, #{n & 0xffff}\n    movt r1, #{(n >> 16) & 0xffff}\n"
            f"    movw r2, #{d & 0xffff}\n    movt r2, #{(d >> 16) & 0xffff}\n    sdiv r0, r1, r2\n")
    res, cycles = run_snippet(tmp_path, m4, body)
    expected_q = 0 if d == 0 else int(n / d)
    assert res.exit_code == expected_q
    div = get_core("cortex-m4").div_cycles(abs(n), abs(d))
    assert 2 <= div <= 12
    assert cycles == 4 + div + RET


def test_call_and_return(tmp_path, m4):
    body = "    push {lr}\n    bl leaf\n    pop {pc}\n"
    extra = "    .type leaf, %function\nleaf:\n    movs r0, #42\n    bx lr\n    .size leaf, .-leaf\n"
    res, cycles = run_snippet(tmp_path, m4, body, extra)
    assert res.exit_code == 42
    assert res.functions["leaf"].cycles == 1 + RET
    # push 1+1, bl 1+P, pop {pc} 1+1+P; the trailing bx lr is never reached
    assert cycles == 2 + 3 + 4


def test_it_block_failed_condition_still_costs(tmp_path, m4):
    body = "    movs r0, #1\n    cmp r0, #1\n    ite ne\n    movne r0, #5\n    moveq r0, #7\n"
    res, cycles = run_snippet(tmp_path, m4, body)
    assert res.exit_code == 7
    assert cycles == 1 + 1 + 0 + 1 + 1 + RET  # IT folds onto the 16-bit cmp


def test_dwt_cyccnt_reads_simulated_cycles(tmp_path, m4):
    body = (
        "    ldr r3, =0xE0001000\n    movs r1, #1\n    str r1, [r3]\n"
        "    ldr r1, [r3, #4]\n" + "    nop\n" * 10 + "    ldr r2, [r3, #4]\n    subs r0, r2, r1\n"
    )
    res, _ = run_snippet(tmp_path, m4, body, extra="    .ltorg")
    assert res.exit_code == 2 + 10  # the first counter read itself (LDR 2) plus ten NOPs


def test_flash_wait_states_charged_on_taken_branch_miss(tmp_path):
    board = get_board("stm32g071rb")  # no flash accelerator in the profile
    assert board.icache_lines == 0 and board.op.flash_wait_states > 0
    body = "    movs r0, #0\n    b 1f\n    nop\n1:\n"
    ws = board.op.flash_wait_states
    _, with_ws = run_snippet(tmp_path, board, body)
    _, without = run_snippet(tmp_path, zero_wait(board), body)
    assert with_ws - without == 2 * ws  # the call into the snippet and the `b` each refetch


def test_branch_to_next_instruction_is_still_taken(tmp_path, m4):
    _, cycles = run_snippet(tmp_path, m4, "    movs r0, #0\n    b 1f\n1:\n")
    assert cycles == 1 + 3 + RET


def test_stack_high_water_of_known_frame(tmp_path, m4):
    def stack(frame):
        body = f"    sub sp, #{frame}\n    str r0, [sp]\n    add sp, #{frame}\n    movs r0, #0\n"
        return run_snippet(tmp_path, m4, body)[0].stack_bytes

    small, big = stack(64), stack(256)
    assert big - small == 192
    assert big >= 256 + 8  # the frame plus main's push {r4, lr}


def test_unmapped_read_is_a_clear_fault(tmp_path, m4):
    with pytest.raises(FirmwareFault, match=r"read of unmapped address 0x00000000.*in snippet; backtrace: snippet <- main <- Reset_Handler"):
        run_snippet(tmp_path, m4, "    movs r0, #0\n    ldr r0, [r0]\n")


def test_undefined_instruction_is_a_clear_fault(tmp_path, m4):
    with pytest.raises(FirmwareFault, match=r"undefined instruction at PC 0x[0-9a-f]+ in snippet"):
        run_snippet(tmp_path, m4, "    udf #3\n")


def test_runaway_stops_at_instruction_budget(tmp_path, m4):
    with pytest.raises(BudgetExceeded, match="instruction budget of 1,000,000 exceeded .* in snippet"):
        run_snippet(tmp_path, m4, "1:\n    nop\n    b 1b\n")


@pytest.mark.parametrize("sleep", ["wfi", "wfi.w"])  # Unicorn rejects WFE as undefined
def test_sleep_with_nothing_to_wake_the_core_ends_the_run(tmp_path, m4, sleep):
    m = Machine(build_asm(tmp_path, f"    movs r0, #9\n1:\n    {sleep}\n    b 1b\n", m4), m4)
    res = m.run(max_instructions=1_000_000)
    assert (res.exit_code, res.stop) == (9, "wfi/wfe (nothing can wake the core)")


@pytest.mark.parametrize("branch", ["b .", "b.w ."])
def test_branch_to_self_ends_the_run_with_r0(tmp_path, m4, branch):
    # Nothing in the simulator raises an interrupt, so `b .` can never be left: the end.
    m = Machine(build_asm(tmp_path, f"    movs r0, #5\n    nop\n    {branch}\n", m4), m4)
    res = m.run(max_instructions=1_000_000)
    assert (res.exit_code, res.stop) == (5, "branch-to-self")
    assert res.functions["snippet"].cycles == 2  # movs, nop; the branch itself never completes


def test_probe_stores_are_recorded_with_cycle_stamps(tmp_path, m4):
    body = "    ldr r3, =0x5FFFF000\n    movs r1, #7\n    str r1, [r3]\n    nop\n    nop\n    str r1, [r3]\n"
    res, _ = run_snippet(tmp_path, m4, body, extra="    .ltorg")
    (c0, v0), (c1, v1) = res.probes
    assert (v0, v1) == (7, 7)
    assert c1 - c0 == 1 + 1 + 1  # the first store (STR imm = 1) and two NOPs


def test_same_image_same_cycles(tmp_path, m4):
    elf = build_asm(tmp_path, "    movs r0, #3\n", m4)
    a = Machine(elf, m4).run()
    b = Machine(elf, m4).run()
    assert (a.cycles, a.instructions, a.stack_bytes) == (b.cycles, b.instructions, b.stack_bytes)


def test_probe_window_breaks_down_the_code_between_two_probes(tmp_path, m4):
    body = (
        "    push {r4, lr}\n    ldr r4, =0x5FFFF000\n    movs r1, #1\n    str r1, [r4]\n"
        "    bl leaf\n    bl leaf\n    movs r1, #2\n    str r1, [r4]\n    pop {r4, pc}\n"
    )
    extra = "    .ltorg\n    .type leaf, %function\nleaf:\n    movs r0, #42\n    bx lr\n    .size leaf, .-leaf\n"
    elf = build_asm(tmp_path, body, m4, extra)
    res = Machine(elf, m4, snapshot_probes=True).run()
    w = res.window(0, 1)
    (c0, _), (c1, _) = res.probes
    assert w.cycles == c1 - c0
    assert w.functions["leaf"].cycles == 2 * (1 + RET)
    assert w.functions["leaf"].instructions == 4
    # the first store (1), two calls (bl 1+P each), movs (1) up to the second store
    assert w.functions["snippet"].cycles == 1 + 2 * 3 + 1


def test_divide_by_zero_traps_when_ccr_says_so(tmp_path, m4):
    body = ("    ldr r3, =0xE000ED14\n    movs r1, #16\n    str r1, [r3]\n"
            "    movs r1, #5\n    movs r2, #0\n    sdiv r0, r1, r2\n")
    with pytest.raises(FirmwareFault, match=r"divide by zero .*DIV_0_TRP.* in snippet; backtrace: snippet <- main"):
        run_snippet(tmp_path, m4, body, extra="    .ltorg")


def test_stack_overflow_detected_by_painted_guard(tmp_path):
    from mcusim.build.toolchain import build_elf

    board = zero_wait(get_board("stm32f301k8"))  # 16 KB RAM
    src = tmp_path / "deep.c"
    src.write_text(
        "static volatile int sink;\n"
        "__attribute__((noinline)) static int deep(int n) { volatile char frame[64]; frame[0] = (char)n;"
        " return n ? deep(n - 1) + frame[0] : 0; }\n"
        "int main(void) { sink = deep(400); return 0; }\n"
    )
    with pytest.raises(FirmwareFault, match="stack overflow: the stack grew down into static data"):
        Machine(build_elf([src], board).elf, board).run()


def test_saturation_events_are_counted_per_instruction(tmp_path, m4):
    body = ("    movs r1, #200\n    ssat r0, #8, r1\n    movs r1, #100\n    ssat r2, #8, r1\n"
            "    ldr r1, =0x7fffffff\n    qadd r0, r1, r1\n")
    elf = build_asm(tmp_path, body, m4, extra="    .ltorg")
    m = Machine(elf, m4, track_saturation=True)
    res = m.run()
    assert res.exit_code == 0x7FFFFFFF
    hits = {res.insns[a].mnemonic: n for a, n in m.saturations.items()}
    assert hits == {"ssat": 1, "qadd": 1}  # the second SSAT (100 fits in int8) does not saturate


def test_kernel_time_includes_the_kernels_callees(tmp_path, m4):
    body = (
        "    push {r4, lr}\n    ldr r4, =0x5FFFF000\n    movs r1, #1\n    str r1, [r4]\n"
        "    bl kernel\n    movs r1, #2\n    str r1, [r4]\n    pop {r4, pc}\n"
    )
    extra = ("    .ltorg\n    .type kernel, %function\nkernel:\n    push {lr}\n    bl helper\n    pop {pc}\n"
             "    .size kernel, .-kernel\n    .type helper, %function\nhelper:\n    movs r0, #5\n    bx lr\n"
             "    .size helper, .-helper\n")
    elf_path = build_asm(tmp_path, body, m4, extra)
    from mcusim.simulator.elf import Elf

    elf = Elf(elf_path)
    k = elf.symbols["kernel"]
    res = Machine(elf, m4, snapshot_probes=True, kernel_ranges=[(k.addr, k.addr + k.size)]).run()
    w = res.window(0, 1)
    inside = w.functions["kernel"].cycles + w.functions["helper"].cycles
    # kernel time starts after the caller's `bl` (its refill belongs to the caller) and ends
    # with the kernel's return (pop {pc} and its refill included)
    assert w.kernel_cycles == inside
    assert w.cycles - w.kernel_cycles == w.functions["snippet"].cycles
